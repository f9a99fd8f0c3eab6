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

/* Where the model chunks sit on the pipeline ranks. LOOP: chunk k on rank k % pp (1F1B,
 * Megatron's interleaving); V: chunks k and 2*pp-1-k on rank k (ZB-V); BIDIRECTIONAL: pp
 * chunks, rank r holding chunk r for the micro-batches that enter at rank 0 and chunk pp-1-r
 * for those that enter at rank pp-1 (DualPipe: two copies of the parameters). */
enum layout_placement { LAYOUT_LOOP, LAYOUT_V, LAYOUT_BIDIRECTIONAL };

struct layout {
	int64_t gpus, tp, pp, dp, cp, ep;
	int64_t etp;          /* tensor-parallel size of the experts (strategy_etp) */
	int64_t vp;           /* model chunks per pipeline: pp*vp (layout_chunk's index) */
	int64_t chunks;       /* model chunks held per pipeline rank */
	enum layout_placement placement;
	int64_t dense_dp;     /* ranks sharing one copy of non-expert parameters: dp*cp */
	int64_t expert_dp;    /* ranks sharing one copy of an expert: dp*cp*(tp/etp)/ep */
	int64_t micro_batches;/* per optimizer step per pipeline: global_batch/(dp*micro_batch) */
	int64_t communicators;/* process groups with more than one rank (tp, dp, pp, cp, ep) */
	bool paired;          /* interleaved 1F1B runs its steady forwards and backwards as pairs
				 (strategy.overlap_moe_a2a) */
};

struct stage {
	int64_t index;
	int64_t layers;       /* transformer layers on this pipeline rank (all its chunks) */
	int64_t moe_layers;   /* of which MoE */
	bool first, last;     /* holds the embedding / the final norm and head */
	double inflight;      /* micro-batches of this stage's activations held at the peak */
};

void layout_build(const struct scenario *s, struct layout *out);

/* The layers [begin, begin + count) of model chunk `chunk` (0 <= chunk < pp*vp), which lives on
 * the rank the placement says. */
void layout_chunk(const struct scenario *s, const struct layout *l, int64_t chunk,
		  int64_t *begin, int64_t *count);

/* Model chunk (0 <= k < pp*vp) that local chunk `local` (0 <= local < chunks) of pipeline rank
 * `rank` holds. */
int64_t layout_model_chunk(const struct layout *l, int64_t rank, int64_t local);

/* The pipeline rank that runs model chunk k for micro-batch mb, and its local chunk there. */
int64_t layout_chunk_rank(const struct layout *l, int64_t mb, int64_t k, int64_t *local);

/* Whether chunks may differ in layers (first/last_stage_layers or the account_for options). */
bool layout_is_uneven(const struct scenario *s);

/* Fill st for pipeline rank `index` (0 <= index < pp). */
void layout_stage(const struct scenario *s, const struct layout *l, int64_t index,
		  struct stage *st);

#endif
