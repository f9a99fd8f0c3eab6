/*
 * step_int: what step.c (the graph) and step_cost.c (the cost of each pass) share. Plan stage;
 * not for other modules.
 */
#ifndef DSSIM_STEP_INT_H
#define DSSIM_STEP_INT_H

#include "collective.h"
#include "compute.h"
#include "layout.h"
#include "memory.h"
#include "scenario.h"
#include "schedule.h"
#include "step.h"

/* Bytes and latency a collective puts on each class of link, summed over its phases. */
struct traffic {
	double bytes[3], latency[3];
};

void step_add_plan(struct traffic *t, const struct collective_plan *p, double times);

/* The cost of one pass through some layers (or the embedding and head). */
struct pass_cost {
	double fwd, bwd, recompute;     /* compute seconds */
	double wgrad;                   /* of bwd, the weight gradients' GEMMs (W, Qi et al. 2024):
					   one GEMM of forward size per forward GEMM */
	struct traffic tp, ep, cp;      /* per forward; the backward moves the same */
	struct traffic tp_recompute;    /* a full recompute repeats the forward's TP traffic */
	struct traffic tp_async;        /* of tp, what strategy.tp_async_backward moves beside the
					   backward's weight-gradient GEMMs */
	double modules;                 /* weight matrices, each its own ZeRO-3 gather with
					   runtime.zero3_unit: module */
	double tensors;                 /* parameter tensors (vectors too): each its own gradient
					   accumulation kernel without runtime.fusion.grad_accumulation */
	double regather;                /* ZeRO-3 with full recompute: the share of the layer's
					   weights gathered again between its recompute and its
					   backward (runtime.zero3_reuse_distance), and of its
					   modules */
	double regather_modules;
	struct step_pass_parts part[2]; /* layers: fwd [0] and bwd [1] by what takes the time */
	double tp_stall[2];             /* strategy.tp_comm_overlap: the compute stream's wait for
					   the collectives its GEMMs do not hide, forward [0] and
					   backward [1], a full recompute's included */
};

/* One dense and one MoE layer (zero without MoE), the embedding and the head with its loss, for
 * one micro-batch on one GPU of layout l. */
void step_costs(const struct scenario *s, const struct compute *c, const struct layout *l,
		struct pass_cost layer[2], struct pass_cost *embed, struct pass_cost *head);
/* The host's time to issue one kernel, and a pass's time bounded below by its launches. */
double step_kernel_gap(const struct scenario *s);
double step_host_bound(double gpu, double kernels, double gap);
/* The GPU's fixed time for `kernels` memory-bound kernels beyond their bytes. */
double step_kernel_fixed(const struct compute *c, double kernels);
/* Model and hardware FLOPs of the step. */
void step_count_flops(const struct scenario *s, struct step_plan *out);

/* The graph under construction (step.c sets it up and drives the schedule's orders;
 * step_pass.c adds each pass's ops). */
struct builder {
	const struct scenario *s;
	struct layout l;
	struct graph *g;
	const struct schedule_type *sched;
	int64_t m, p, v;                             /* v: local chunks per device */
	int64_t hops;                                /* model chunks a micro-batch visits */
	uint32_t *compute, *pp, *dp, *host, *pair;   /* streams per device */
	bool tp_chunked;                             /* tpc carries every TP collective
							(strategy.tp_comm_overlap), not only the
							backward's asynchronous ones */
	uint32_t *tpc;                               /* per device: TP collectives beside the
							GEMMs (strategy.tp_comm_overlap), or NONE */
	uint32_t *side;                              /* per device: the last such collective,
							which the next op of the device's
							computation or sends waits for, or NONE */
	uint32_t *act_copy;                          /* per device: offloaded activations'
							copies (runtime.activation_offload_overlap) */
	uint32_t *act_release;                       /* per device, 2: the ops after which the
							last two layers' activations left */
	uint32_t *link[3];                           /* per device: gpu, network, pcie */
	uint32_t *fwd_send, *bwd_send;               /* per (mb, model chunk): transfer op */
	int64_t *weights_left;                       /* per (device, chunk): weight passes to go */
	uint32_t *last_op;                           /* per device: last op on its compute stream */
	struct pass_cost layer[2];                   /* one dense / MoE layer, one micro-batch */
	struct pass_cost embed, head;                /* embedding lookup; output head and loss */
	uint32_t *recent;                            /* per device: last layer computes (ZeRO-3) */
	struct memory_role *role;                    /* per device */
	double *chunk_act;                           /* per (device, chunk): bytes per micro-batch */
	double copy_out_fixed, copy_out_per_byte;    /* runtime.zero3_copy_out: seconds per gather
							and per gathered byte (0: none) */
	double accum_kernel, accum_per_param;        /* without runtime.fusion.grad_accumulation:
							seconds per accumulation kernel and per
							trainable element, each weight pass (0:
							fused) */
	bool accum_skip_first;                       /* the chunk's first weight pass adds none */
	unsigned char *accum_started;                /* per (device, chunk): a weight pass ran */
};


#define NONE UINT32_MAX
enum { RECENT = 9 };     /* layer computes remembered per device for ZeRO-3 prefetch */

/* The ops of one pass of device dev; dp_after is the device's last gradient reduction, which
 * the next one follows. */
void step_build_pass(struct builder *b, int64_t dev, const struct pass *ps, uint32_t *dp_after);
/* A forward f and a whole backward bw run as DualPipe's overlapped pair. */
void step_build_pair(struct builder *b, int64_t dev, const struct pass *f,
		     const struct pass *bw, uint32_t *dp_after);
/* The optimizer step after the device's last pass and its reductions (dp_done). */
void step_optimizer(struct builder *b, int64_t dev, uint32_t dp_done, const struct compute *c);

#endif
