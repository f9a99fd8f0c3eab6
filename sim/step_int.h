/*
 * step_int: what step.c (the graph) and step_cost.c (the cost of each pass) share. Plan stage;
 * not for other modules.
 */
#ifndef DSSIM_STEP_INT_H
#define DSSIM_STEP_INT_H

#include "collective.h"
#include "compute.h"
#include "layout.h"
#include "scenario.h"
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
};

/* One dense and one MoE layer (zero without MoE), the embedding and the head with its loss, for
 * one micro-batch on one GPU of layout l. */
void step_costs(const struct scenario *s, const struct compute *c, const struct layout *l,
		struct pass_cost layer[2], struct pass_cost *embed, struct pass_cost *head);
/* The host's time to issue one kernel, and a pass's time bounded below by its launches. */
double step_kernel_gap(const struct scenario *s);
double step_host_bound(double gpu, double kernels, double gap);
/* Model and hardware FLOPs of the step. */
void step_count_flops(const struct scenario *s, struct step_plan *out);

#endif
