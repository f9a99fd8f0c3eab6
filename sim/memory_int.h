/*
 * memory_int: what memory.c, memory_fit.c and memory_serve.c share, private to the memory module (the searches
 * and the advice live apart from the breakdown). Domain stage; nothing outside sim/memory*.c
 * includes it.
 */
#ifndef DSSIM_MEMORY_INT_H
#define DSSIM_MEMORY_INT_H

#include <stdint.h>

#include "layout.h"
#include "memory.h"

/* Bytes of one activation element: 4 in fp32 training or serving, else 2. */
double memory_act_bytes(const struct scenario *s);

/* Serving's transient workspace for a prefill of `batch` sequences of seq_len tokens
 * (memory_serve.c). */
double memory_workspace(const struct scenario *s, double batch, double seq_len);
/* The fewest requests SGLang's request pool holds (memory_max_seqs). */
#define MEMORY_SGLANG_MIN_REQUESTS 2048.0

/* KV-cache bytes per token on one GPU of stage st, all its layers (memory_serve.c). */
double memory_kv_bytes_per_token(const struct scenario *s, const struct stage *st);

/* Each stage's total at micro-batch 1 (t1) and 2 (t2), l->pp of each: memory is affine in the
 * micro-batch, so memory_fit extends them linearly into the function GSL searches. */
void memory_stage_totals(const struct scenario *s, const struct layout *l, double *t1, double *t2);

/* The largest micro-batch whose most loaded GPU fits in capacity, into *out, and the largest
 * within MEMORY_ALLOCATOR_SHARE of it, into *kept (0 when none does, capped at 2^24), from one
 * reckoning of the stages. Returns 0, or -1 when a GSL search fails. */
int memory_max_micro_batch(const struct scenario *s, const struct layout *l, double capacity,
			   int64_t *out, int64_t *kept);

/* KV-cache tokens that fit: the largest n with fixed + per_token * n <= budget (0 when none).
 * Returns 0, or -1 when the GSL search fails. */
int memory_max_kv_tokens(double fixed, double per_token, double budget, double *out);

/* On a misfit: the first single change that fits, cheaper ones first (ZeRO, recompute, offload,
 * quantization, TP, PP), written to r->advice with the new peak. */
void memory_advise(const struct scenario *s, double capacity, struct memory_report *r);

#endif
