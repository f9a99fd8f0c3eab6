/*
 * result: the numbers of one simulated training step — step time and where it goes (the exposed,
 * not overlapped, time of each category on the first stage, and the pipeline bubble),
 * throughput, MFU and HFU, and the simulated memory peak beside the analytic one. Output stage:
 * reads the plan, the engine's op times and its memory tracker.
 */
#ifndef DSSIM_RESULT_H
#define DSSIM_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "scenario.h"
#include "step.h"

struct result {
	double step_s;
	double exposed[STEP_CATEGORIES];  /* seconds, first stage */
	double bubble;                    /* seconds the first stage's GPU does nothing */
	double tokens_per_s;
	double tflops_per_gpu;            /* model FLOPs (no recompute) per second per GPU */
	double mfu, hfu;
	double peak_per_gpu;              /* simulated, the most loaded GPU */
	double analytic_peak;
	int64_t peak_stage;
	size_t events;
	int64_t simulated_gpus;
	bool oom;
	struct step_layer_parts layer[2]; /* one pass of each kind of layer (step.h) */
	double layer_tokens;
};

void result_build(const struct scenario *s, const struct step_plan *p, const struct engine *e,
		  struct result *r);

#endif
