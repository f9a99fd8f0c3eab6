/*
 * layout: how ranks map onto (dp, pp, tp, cp, ep) and what each pipeline stage holds — its
 * layers, whether it carries the embedding or the head, and how many micro-batches it keeps in
 * flight under the schedule. Domain stage: reads struct scenario and model.h; no memory, no time.
 */
#ifndef DSSIM_LAYOUT_H
#define DSSIM_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "scenario.h"

struct layout {
	int64_t gpus, tp, pp, dp, cp, ep, vp;
	int64_t etp;          /* tensor-parallel size of the experts (strategy_etp) */
	int64_t dense_dp;     /* ranks sharing one copy of non-expert parameters: dp*cp */
	int64_t expert_dp;    /* ranks sharing one copy of an expert: dp*cp*(tp/etp)/ep */
	int64_t micro_batches;/* per optimizer step per pipeline: global_batch/(dp*micro_batch) */
	int64_t communicators;/* process groups with more than one rank (tp, dp, pp, cp, ep) */
};

struct stage {
	int64_t index;
	int64_t layers;       /* transformer layers on this pipeline rank (all its chunks) */
	int64_t moe_layers;   /* of which MoE */
	bool first, last;     /* holds the embedding / the final norm and head */
	double inflight;      /* micro-batches of this stage's activations held at the peak */
};

void layout_build(const struct scenario *s, struct layout *out);

/* The layers [begin, begin + count) of global chunk `chunk` (0 <= chunk < pp*vp); chunk c lives
 * on pipeline rank c % pp. */
void layout_chunk(const struct scenario *s, const struct layout *l, int64_t chunk,
		  int64_t *begin, int64_t *count);

/* Whether chunks may differ in layers (first/last_stage_layers or the account_for options). */
bool layout_is_uneven(const struct scenario *s);

/* Fill st for pipeline rank `index` (0 <= index < pp). */
void layout_stage(const struct scenario *s, const struct layout *l, int64_t index,
		  struct stage *st);

#endif
