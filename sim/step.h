/*
 * step: one training step as an op graph for the engine. Plan stage: reads the scenario, the
 * model, layout, compute and collective costs, the memory model (for allocations) and a
 * pipeline schedule; knows nothing of event queues. Ranks that do identical work — tensor-,
 * context-, data- and expert-parallel peers — are simulated once: the graph has one device per
 * pipeline stage, and collectives among peers are transfers over that device's links.
 */
#ifndef DSSIM_STEP_H
#define DSSIM_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "scenario.h"

enum step_category {
	STEP_COMPUTE,
	STEP_TP,
	STEP_CP,
	STEP_PP,
	STEP_DP,
	STEP_EP,
	STEP_OPTIMIZER,
	STEP_OFFLOAD,
	STEP_CATEGORIES
};

/*
 * Where one pass of one layer spends its time, on one GPU for one micro-batch (step_cost.c):
 * the GPU's GEMMs (with the experts' and LoRA adapters'), attention, memory-bound kernels at
 * their bytes, and those kernels' fixed time (compute_kernel_latency each); the kernels the
 * host launches (collectives included) and its time to issue them. The pass takes the longer
 * of the GPU's sum and the host's time (total). The graph's compute op for the layer may add
 * to it (step_pass.c): the wait for TP collectives that tp_comm_overlap does not hide, FSDP2's
 * copy-out, unfused gradient accumulation, and runtime.comm_sms's slowdown under collectives.
 */
struct step_pass_parts {
	double gemm, attention, memory, fixed;   /* GPU seconds */
	double launches, host;                   /* kernels, and the host's seconds for them */
	double total;                            /* seconds: max(GPU's sum, host) */
};

/* One kind of layer (dense, MoE): how many the model has, its forward and backward passes,
 * and what strategy.recompute / recompute_modules repeat before the backward (seconds). */
struct step_layer_parts {
	int64_t layers;
	struct step_pass_parts fwd, bwd;
	double recompute;
};

struct step_plan {
	struct graph *graph;        /* owned; step_plan_release frees it */
	int64_t devices;            /* simulated GPUs: one per pipeline stage */
	double model_flops;         /* per step, whole job, Korthikanti et al. 2022 (no recompute) */
	double hardware_flops;      /* per step, whole job, recomputation included */
	double tokens;              /* per step */
	double analytic_peak;       /* the memory model's most loaded GPU */
	struct step_layer_parts layer[2];   /* indexed by enum layer_kind (model.h) */
	double layer_tokens;        /* tokens of one micro-batch on one GPU (after context
				       parallelism) that those passes run */
};

/* The most layer passes a step simulates: micro-batches per pipeline x layers x 2 (forward
 * and backward); the step's graph holds a few ops for each. */
#define STEP_MAX_LAYER_PASSES 2e6

/* Build the graph of one step of a training scenario. 0, or -1 with a message in d at the
 * scenario's file (not a training scenario, a shape the schedule cannot run, more than
 * STEP_MAX_LAYER_PASSES layer passes). */
int step_build(const struct scenario *s, struct step_plan *out, struct diag *d);
void step_plan_release(struct step_plan *p);

/* The category's name in reports ("compute", "tp_comm", ...), and the whole table. */
const char *step_category_name(int category);
extern const char *const step_category_names[STEP_CATEGORIES];

#endif
