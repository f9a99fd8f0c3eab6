/*
 * layout: rank groups and pipeline-stage contents. Domain stage.
 * Megatron-Core order of parallel dimensions (tp fastest, then cp, ep within dp, then pp);
 * expert parallelism is carved out of the tp*dp*cp ranks of a stage, the experts split etp ways
 * (etp * ep * expert_dp = tp * dp * cp; Megatron-Core parallel_state.py, expert rank generator).
 */
#include "layout.h"

#include <math.h>

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
	out->chunks = st->vp;
	out->placement = LAYOUT_LOOP;
	if (s->workload.mode == MODE_TRAIN && st->schedule == SCHEDULE_ZB_V) {
		out->vp = out->chunks = 2;
		out->placement = LAYOUT_V;
	} else if (s->workload.mode == MODE_TRAIN && st->schedule == SCHEDULE_DUALPIPE) {
		out->chunks = 2;
		out->placement = LAYOUT_BIDIRECTIONAL;
	}
	out->paired = s->workload.mode == MODE_TRAIN && st->schedule == SCHEDULE_INTERLEAVED &&
		      st->overlap_moe_a2a;
	out->dense_dp = st->dp * st->cp;
	out->etp = strategy_etp(st);
	out->expert_dp = out->dense_dp * (st->tp / out->etp) / st->ep;
	if (out->expert_dp < 1)
		out->expert_dp = 1;
	out->micro_batches = per_step > 0 && s->workload.global_batch > 0
				     ? s->workload.global_batch / per_step : 1;
	if (out->micro_batches < 1)
		out->micro_batches = 1;
	out->communicators = (st->tp > 1) + (st->pp > 1) + (out->dense_dp > 1) + (st->cp > 1) +
			     (st->ep > 1);
}

int64_t layout_model_chunk(const struct layout *l, int64_t rank, int64_t local)
{
	switch (l->placement) {
	case LAYOUT_V:
		return local == 0 ? rank : 2 * l->pp - 1 - rank;
	case LAYOUT_BIDIRECTIONAL:
		return local == 0 ? rank : l->pp - 1 - rank;
	default:
		return local * l->pp + rank;
	}
}

int64_t layout_chunk_rank(const struct layout *l, int64_t mb, int64_t k, int64_t *local)
{
	switch (l->placement) {
	case LAYOUT_V:
		*local = k >= l->pp;
		return k < l->pp ? k : 2 * l->pp - 1 - k;
	case LAYOUT_BIDIRECTIONAL:
		/* DualPipe.step scatters half the micro-batches to each end. */
		*local = mb >= l->micro_batches / 2;
		return *local == 0 ? k : l->pp - 1 - k;
	default:
		*local = k / l->pp;
		return k % l->pp;
	}
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
 * Paired (strategy.overlap_moe_a2a) one warm-up forward more (schedules.py, same function).
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
			return min_d((p - (double)i - 1) * 2 + (v - 1) * p + 1 + (l->paired ? 1 : 0),
				     m * v) / v;
		return min_d(p - (double)i, m);
	case SCHEDULE_ZB_H1:
	case SCHEDULE_ZB_V:
		/* A micro-batch counts as in flight until its weight-gradient pass (W) has used
		 * its saved inputs. ZB-H1 (Qi et al. 2024, sec. 3.1): rank i keeps 1F1B's p - i
		 * from the forward to B and i more waiting for W, p on every rank, 1F1B's
		 * first-stage peak. ZB-V (sec. 6): pp micro-batches on every rank (2*pp chunk
		 * passes of half a stage each). */
		return min_d(p, m);
	case SCHEDULE_DUALPIPE:
		/* DeepSeek-V3 report, Table 2: pp + 1 micro-batches of one stage's activations per
		 * rank; a rank holds two stages, each micro-batch passing through one of them. */
		return min_d(p + 1, m) / 2;
	default:
		return min_d(p - (double)i, m);
	}
}

/*
 * Layers of global chunk g (rank g % pp, virtual stage g / pp), after Megatron-Core
 * transformer_block.py, get_num_layers_to_build:
 * - even: layers / (pp*vp);
 * - account_for_embedding / _loss: num_layers + 1 per option, divided by pp*vp, less one on the
 *   first rank's first chunk (the embedding) / the last rank's last chunk (the loss);
 * - first / last_stage_layers: those totals on the first / last rank, the middle ranks share
 *   the rest evenly, and each rank's total is divided over its vp chunks. Megatron asks every
 *   rank's total to be a multiple of vp; dssim also takes a first (last) rank that falls short
 *   of it, its first (last) chunks holding one layer fewer — the layout the account_for options
 *   give (126 layers on pp 16, vp 8 with first and last 7: chunk 0 and chunk 127 are empty).
 */
static int64_t chunk_layers(const struct scenario *s, const struct layout *l, int64_t g)
{
	const struct strategy *st = &s->strategy;
	int64_t n = s->model.layers, f = st->first_stage_layers, la = st->last_stage_layers;
	int64_t j, rank = layout_chunk_rank(l, 0, g, &j), total, q, rem;
	if (f > 0 || la > 0) {
		int64_t stages = l->pp - (f > 0) - (la > 0);
		if (f > 0 && rank == 0)
			total = f;
		else if (la > 0 && rank == l->pp - 1)
			total = la;
		else
			total = stages > 0 ? (n - f - la) / stages : 0;
		q = total / l->vp;
		rem = total % l->vp;
		if (la > 0 && rank == l->pp - 1)
			return q + (j < rem);  /* short chunks last, where the loss is */
		return q + (j >= l->vp - rem);  /* short chunks first, where the embedding is */
	}
	if (st->account_embedding || st->account_loss) {
		int64_t all = l->pp * l->vp;
		q = (n + st->account_embedding + st->account_loss) / all;
		return q - (st->account_embedding && g == 0) - (st->account_loss && g == all - 1);
	}
	return n / (l->pp * l->vp);
}

bool layout_is_uneven(const struct scenario *s)
{
	const struct strategy *st = &s->strategy;
	return st->first_stage_layers > 0 || st->last_stage_layers > 0 || st->account_embedding ||
	       st->account_loss;
}

void layout_chunk(const struct scenario *s, const struct layout *l, int64_t chunk,
		  int64_t *begin, int64_t *count)
{
	int64_t g;
	if (!layout_is_uneven(s)) {
		*count = s->model.layers / (l->pp * l->vp);
		*begin = chunk * *count;
		return;
	}
	/* Layers run in global chunk order: chunk g follows chunk g - 1. */
	*begin = 0;
	for (g = 0; g < chunk; g++)
		*begin += chunk_layers(s, l, g);
	*count = chunk_layers(s, l, chunk);
}

void layout_stage(const struct scenario *s, const struct layout *l, int64_t index,
		  struct stage *st)
{
	const struct model_config *m = &s->model;
	int64_t c;
	st->index = index;
	st->first = st->last = false;
	st->layers = 0;
	st->moe_layers = 0;
	for (c = 0; c < l->chunks; c++) {
		int64_t begin, count, k, mc = layout_model_chunk(l, index, c);
		st->first |= mc == 0;
		st->last |= mc == l->pp * l->vp - 1;
		layout_chunk(s, l, mc, &begin, &count);
		st->layers += count;
		for (k = begin; k < begin + count; k++)
			st->moe_layers += model_layer_kind(m, k) == LAYER_MOE;
	}
	st->inflight = inflight(s, l, index);
	if (layout_is_uneven(s) && l->vp > 1 && s->workload.mode == MODE_TRAIN &&
	    s->strategy.schedule == SCHEDULE_INTERLEAVED && st->layers > 0) {
		/* Chunks differ: count the layers of each warm-up chunk-forward. Forward k of a
		 * rank runs model chunk (k / p) % v (Megatron-LM schedules.py, get_model_chunk_id);
		 * the count of forwards is the one inflight() takes, times v. */
		int64_t w = (int64_t)(st->inflight * (double)l->vp + 0.5), k;
		double held = 0;
		for (k = 0; k < w; k++)
			held += (double)chunk_layers(s, l, ((k / l->pp) % l->vp) * l->pp + index);
		st->inflight = held / (double)st->layers;
	}
	if (l->placement == LAYOUT_BIDIRECTIONAL && st->layers > 0) {
		/* DualPipe (schedule_dualpipe.c) on rank i, h = min(i, p-1-i), holding a (stage h)
		 * and d (stage p-1-h) layers: phases 1-3 leave p-h-1 micro-batches in the one and
		 * h+1 in the other, and the first main-part pair adds a forward of the first while
		 * its backward frees one of the second, a layer of each in turn: the peak is one
		 * layer into the pair, or its end. The middle ranks run that pair apart, forward
		 * first: (p-h) a + (h+1) d, Table 2's pp + 1 stage-loads when a = d. */
		int64_t p = l->pp, h = index < p - 1 - index ? index : p - 1 - index;
		double a = (double)chunk_layers(s, l, h), d = (double)chunk_layers(s, l, p - 1 - h);
		double before = (double)(p - h - 1) * a + (double)(h + 1) * d, held;
		if (h == p / 2 - 1)
			held = before + a;
		else
			held = fmax(before + fmin(a, 1.0), before + a - d);
		st->inflight = held / (double)st->layers;
	}
}
