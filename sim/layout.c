/*
 * layout: rank groups and pipeline-stage contents. Domain stage.
 * Megatron-Core order of parallel dimensions (tp fastest, then cp, ep within dp, then pp);
 * expert parallelism is carved out of data x context parallelism (ep * expert_dp = dp * cp).
 */
#include "layout.h"

void layout_build(const struct scenario *s, struct layout *out)
{
	const struct strategy *st = &s->strategy;
	int64_t per_step = st->dp * s->workload.micro_batch;
	out->gpus = s->cluster.gpus;
	out->tp = st->tp;
	out->pp = st->pp;
	out->dp = st->dp;
	out->cp = st->cp;
	out->ep = st->ep;
	out->vp = st->vp;
	out->dense_dp = st->dp * st->cp;
	out->expert_dp = out->dense_dp / st->ep > 0 ? out->dense_dp / st->ep : 1;
	out->micro_batches = per_step > 0 && s->workload.global_batch > 0
				     ? s->workload.global_batch / per_step : 1;
	if (out->micro_batches < 1)
		out->micro_batches = 1;
	out->communicators = (st->tp > 1) + (st->pp > 1) + (out->dense_dp > 1) + (st->cp > 1) +
			     (st->ep > 1);
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

/*
 * Micro-batches whose activations a stage holds at its peak.
 * GPipe: all m (Huang et al. 2019). 1F1B: stage i (0-based) of p runs p-i warm-up forwards before
 * its first backward (Narayanan et al. 2021, sec. 2.2.1), so it holds min(p-i, m).
 * Interleaved 1F1B with v chunks: (p-i-1)*2 + (v-1)*p warm-up chunk-forwards plus the one in
 * progress (Megatron-LM schedules.py, get_num_warmup_microbatches), each chunk 1/v of the stage;
 * for stage 0 this is p*(1 + (p-1)/(p*v)) micro-batches' worth, Korthikanti et al. 2022 sec. 4.2.
 */
static double inflight(const struct scenario *s, const struct layout *l, int64_t i)
{
	double p = (double)l->pp, v = (double)l->vp, m = (double)l->micro_batches;
	if (s->workload.mode != MODE_TRAIN)
		return 1.0;
	switch (s->strategy.schedule) {
	case SCHEDULE_GPIPE:
		return m;
	case SCHEDULE_INTERLEAVED:
		if (l->vp > 1)
			return min_d((p - (double)i - 1) * 2 + (v - 1) * p + 1, m * v) / v;
		return min_d(p - (double)i, m);
	default:
		return min_d(p - (double)i, m);
	}
}

void layout_chunk(const struct scenario *s, const struct layout *l, int64_t chunk,
		  int64_t *begin, int64_t *count)
{
	const struct model_config *m = &s->model;
	int64_t f = s->strategy.first_stage_layers, la = s->strategy.last_stage_layers;
	if (f > 0 || la > 0) {
		/* Uneven stages (no interleaving): chunk = stage. */
		int64_t stages = l->pp - (f > 0) - (la > 0);
		int64_t per = stages > 0 ? (m->layers - f - la) / stages : 0;
		if (f > 0 && chunk == 0) {
			*begin = 0;
			*count = f;
		} else if (la > 0 && chunk == l->pp - 1) {
			*begin = m->layers - la;
			*count = la;
		} else {
			*begin = f + (chunk - (f > 0)) * per;
			*count = per;
		}
		return;
	}
	*count = m->layers / (l->pp * l->vp);
	*begin = chunk * *count;
}

void layout_stage(const struct scenario *s, const struct layout *l, int64_t index,
		  struct stage *st)
{
	const struct model_config *m = &s->model;
	int64_t c;
	st->index = index;
	st->first = index == 0;
	st->last = index == l->pp - 1;
	st->layers = 0;
	st->moe_layers = 0;
	/* Chunk c of pp*vp lives on rank c % pp (Megatron interleaved assignment). */
	for (c = index; c < l->pp * l->vp; c += l->pp) {
		int64_t begin, count, k;
		layout_chunk(s, l, c, &begin, &count);
		st->layers += count;
		for (k = begin; k < begin + count; k++)
			st->moe_layers += model_layer_kind(m, k) == LAYER_MOE;
	}
	st->inflight = inflight(s, l, index);
}
