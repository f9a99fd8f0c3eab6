/*
 * forward: the time of one inference forward pass over a mixed batch — prompt chunks being
 * prefilled and sequences decoding one token — on one model replica (tp x pp GPUs). Domain
 * stage: roofline kernel times from compute, collectives from collective, tensors from model;
 * knows nothing of requests, queues or time beyond one pass.
 */
#ifndef DSSIM_FORWARD_H
#define DSSIM_FORWARD_H

#include <stddef.h>

#include "scenario.h"

/* What one iteration computes, summed over its sequences. */
struct forward_batch {
	double tokens;          /* new tokens: prompt chunk tokens plus one per decoding sequence */
	double sequences;       /* sequences that sample a token (rows of logits) */
	double prefill_pairs;   /* query-key pairs of prompt tokens (causal, prefix included) */
	double decode_pairs;    /* query-key pairs of decode tokens: their context lengths */
	double kv_tokens;       /* cached tokens attention reads (every sequence's context) */
};

/* Where the pass's time goes, seconds summed over pipeline stages. */
enum forward_part { FORWARD_COMPUTE, FORWARD_TP, FORWARD_PP, FORWARD_EP, FORWARD_PARTS };

struct forward_cost;

/* Prepare the costs of a scenario's model on its GPUs. NULL with a message in err when the
 * layout cannot serve (ep must divide tp) or the GPU's curve cannot be used. */
struct forward_cost *forward_new(const struct scenario *s, char *err, size_t errsize);
void forward_free(struct forward_cost *f);   /* NULL is a no-op */

/* The pass's time in seconds; part (may be NULL) gets its split. Pipeline stages run one after
 * another (one batch in flight). */
double forward_time(const struct forward_cost *f, const struct forward_batch *b,
		    double part[FORWARD_PARTS]);

/* Bytes of weights one GPU of the most loaded stage reads per pass when every expert is
 * touched, and KV-cache bytes per token per GPU of that stage (the decode roofline's terms). */
double forward_weight_bytes(const struct forward_cost *f);
double forward_kv_bytes_per_token(const struct forward_cost *f);

#endif
