/*
 * overhead: what a serving engine's iteration costs besides its GPU kernels — the host's
 * scheduling, input preparation, sampling and detokenization, and the kernel launches that
 * must keep up with the GPU — from the engine profile's keys (serving.*). Domain stage: reads
 * struct serving and a few counts of the iteration; knows nothing of requests or the engine.
 */
#ifndef DSSIM_OVERHEAD_H
#define DSSIM_OVERHEAD_H

#include <stdbool.h>

#include "scenario.h"

/* What an iteration launches and hands back to the host. */
struct overhead_batch {
	double sequences;       /* sequences scheduled (each has a row in the inputs) */
	double sampled;         /* sequences that sample a token */
	bool decode_only;       /* every sequence decodes (a CUDA graph can replay) */
	double draft_layers;    /* layers a speculative drafter runs besides the model's */
	double draft_passes;    /* its forward passes (each a graph replay of its own) */
};

/* The iteration's time beyond its GPU work, seconds. */
struct overhead_split {
	double host;            /* host work this iteration needs */
	double exposed_host;    /* the part the GPU waits for (the rest hid under the last one) */
	double launch;          /* host time to launch its kernels */
	double launch_excess;   /* how much the launches outlast the GPU work */
	double total;           /* exposed_host + launch_excess + serving.iteration_overhead */
};

/*
 * The cost of one iteration of scenario s's engine around gpu seconds of GPU work, when the
 * replica's previous iteration ended just now after prev_gpu seconds of GPU work (0 when the
 * replica was idle). Launches run ahead of the GPU (CUDA's launch queue), so they cost only
 * what they outlast it by; host work is serial unless serving.overlap_scheduler hides it under
 * prev_gpu.
 */
void overhead_iteration(const struct scenario *s, const struct overhead_batch *b, double gpu,
			double prev_gpu, struct overhead_split *out);

#endif
