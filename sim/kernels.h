/*
 * kernels: the memory-bound kernels a training framework launches around the GEMMs and the
 * attention of one transformer layer (norms, residual adds, bias and activation, dropout, rotary
 * embedding, softmax where not fused, MoE token permutation, FP8 casts), of the embedding, the
 * loss and the optimizer: bytes they move and how many kernels are launched, as the framework's
 * fusion choices (runtime.fusion.*) make them. Domain stage: reads the scenario's model, workload
 * and runtime keys; knows nothing of graphs or time.
 */
#ifndef DSSIM_KERNELS_H
#define DSSIM_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "scenario.h"

/* One pass's memory-bound work on one GPU, and its kernel launches (GEMMs, attention and
 * collectives included, so the launch overhead can be charged per kernel). */
struct kernel_cost {
	double fwd_bytes, bwd_bytes;
	double fwd_kernels, bwd_kernels;
	double fwd_gemms, bwd_gemms;    /* of the kernels, GEMM and attention launches: they run
					   at rates measured on whole kernels */
	double core_bytes;      /* of fwd_bytes: softmax and dropout over the attention scores,
				   which selective recomputation repeats */
};

/* One layer of `kind` for `tokens` tokens per GPU (micro-batch x sequence / cp); tp and the
 * sequence-parallel flag set what each GPU holds. */
void kernels_layer(const struct scenario *s, enum layer_kind kind, double tokens, int64_t tp,
		   bool sequence_parallel, struct kernel_cost *out);
/* The MLP's activation (and gating), per element of its output: the bytes it moves reading
 * its input at in_bytes an element (gate and up when gated) and writing its output, and unfused
 * (runtime.fusion.bias_activation false) an intermediate written and read back between its two
 * kernels; *launches gets its kernel count. The forward and every recompute of it use this. */
double kernels_activation(const struct scenario *s, double in_bytes, double *launches);
/* The embedding lookup (first) and the output head's loss (last) for the same tokens. */
void kernels_outer(const struct scenario *s, double tokens, int64_t tp, bool first, bool last,
		   struct kernel_cost *out);
/* The optimizer step over `params` parameters of a shard in `tensors` tensors: bytes it moves
 * (in fwd_bytes) and kernels (fwd_kernels). */
void kernels_optimizer(const struct scenario *s, double params, double tensors,
		       struct kernel_cost *out);

#endif
