/*
 * schedule: GPipe (Huang et al. 2019), 1F1B (Narayanan et al. 2019, PipeDream-Flush) and
 * interleaved 1F1B (Narayanan et al. 2021, sec. 2.2.2; Megatron-LM pipeline_parallel/
 * schedules.py, forward_backward_pipelining_with_interleaving). Plan stage.
 */
#include "schedule.h"

#include <stdbool.h>

#include "scenario.h"

void schedule_put(struct pass *out, size_t *n, int kind, int64_t mb, int64_t chunk, bool paired)
{
	out[*n].kind = kind;
	out[*n].micro_batch = mb;
	out[*n].chunk = chunk;
	out[*n].paired = paired;
	(*n)++;
}

size_t schedule_room(const struct layout *l)
{
	return 3 * (size_t)l->micro_batches * (size_t)l->chunks;
}

int schedule_each_rank(const struct layout *l, struct pass *out, size_t *n,
		       size_t (*one)(const struct layout *l, int64_t rank, struct pass *out))
{
	size_t room = schedule_room(l);
	int64_t r;
	for (r = 0; r < l->pp; r++) {
		n[r] = one(l, r, out + (size_t)r * room);
		if (n[r] == 0)
			return -1;
	}
	return 0;
}

static void put(struct pass *out, size_t *n, int kind, int64_t mb, int64_t chunk)
{
	schedule_put(out, n, kind, mb, chunk, false);
}

/* All forwards, then all backwards. */
static size_t gpipe(const struct layout *l, int64_t stage, struct pass *out)
{
	int64_t p = l->pp, m = l->micro_batches, v = l->vp;
	size_t n = 0;
	int64_t j;
	(void)p;
	(void)stage;
	if (v != 1)
		return 0;
	for (j = 0; j < m; j++)
		put(out, &n, PASS_FORWARD, j, 0);
	for (j = 0; j < m; j++)
		put(out, &n, PASS_BACKWARD, j, 0);
	return n;
}

/* p - stage - 1 warm-up forwards, then one forward and one backward in turn, then the rest of
 * the backwards. */
static size_t one_f_one_b(const struct layout *l, int64_t stage, struct pass *out)
{
	int64_t p = l->pp, m = l->micro_batches, v = l->vp;
	size_t n = 0;
	int64_t warm = p - stage - 1, f = 0, b = 0;
	if (v != 1)
		return 0;
	if (warm > m)
		warm = m;
	while (f < warm)
		put(out, &n, PASS_FORWARD, f++, 0);
	while (f < m) {
		put(out, &n, PASS_FORWARD, f++, 0);
		put(out, &n, PASS_BACKWARD, b++, 0);
	}
	while (b < m)
		put(out, &n, PASS_BACKWARD, b++, 0);
	return n;
}

/* Megatron's mapping of the k-th virtual micro-batch to (micro-batch, chunk): groups of p
 * micro-batches go through chunk 0, then chunk 1, ...; backwards take the chunks in reverse. */
static void virtual_mb(int64_t k, int64_t p, int64_t v, bool forward, int64_t *mb, int64_t *chunk)
{
	int64_t in_group = k % (p * v);
	*chunk = in_group / p;
	if (!forward)
		*chunk = v - 1 - *chunk;
	*mb = (k / (p * v)) * p + k % p;
}

static size_t interleaved(const struct layout *l, int64_t stage, struct pass *out)
{
	int64_t p = l->pp, m = l->micro_batches, v = l->vp;
	size_t n = 0;
	int64_t total = m * v, warm, f = 0, b = 0, mb, chunk;
	if (m % p != 0)
		return 0;
	/* schedules.py: (p - rank - 1) * 2 + (v - 1) * p warm-up forwards, capped at all of them;
	 * one more when paired (get_num_warmup_microbatches with overlap_moe_expert_parallel_comm:
	 * "to ensure the forward and backward computations are independent in all 1f1b steps" —
	 * the last rank's forward would otherwise be paired with its own backward). */
	warm = (p - stage - 1) * 2 + (v - 1) * p + (l->paired ? 1 : 0);
	if (warm > total)
		warm = total;
	while (f < warm) {
		virtual_mb(f++, p, v, true, &mb, &chunk);
		put(out, &n, PASS_FORWARD, mb, chunk);
	}
	while (f < total) {
		/* Megatron-Core combined_1f1b.py: the forward and the backward of one steady step
		 * run as one overlapped pair (step_build_pair). */
		virtual_mb(f++, p, v, true, &mb, &chunk);
		schedule_put(out, &n, PASS_FORWARD, mb, chunk, l->paired);
		virtual_mb(b++, p, v, false, &mb, &chunk);
		put(out, &n, PASS_BACKWARD, mb, chunk);
	}
	while (b < total) {
		virtual_mb(b++, p, v, false, &mb, &chunk);
		put(out, &n, PASS_BACKWARD, mb, chunk);
	}
	return n;
}

static int gpipe_all(const struct layout *l, struct pass *out, size_t *n)
{
	return schedule_each_rank(l, out, n, gpipe);
}

static int one_f_one_b_all(const struct layout *l, struct pass *out, size_t *n)
{
	return schedule_each_rank(l, out, n, one_f_one_b);
}

static int interleaved_all(const struct layout *l, struct pass *out, size_t *n)
{
	return schedule_each_rank(l, out, n, interleaved);
}

const struct schedule_type schedule_gpipe = {"gpipe", gpipe_all};
const struct schedule_type schedule_1f1b = {"1f1b", one_f_one_b_all};
const struct schedule_type schedule_interleaved = {"interleaved", interleaved_all};

const struct schedule_type *schedule_for(int kind)
{
	switch (kind) {
	case SCHEDULE_GPIPE:
		return &schedule_gpipe;
	case SCHEDULE_INTERLEAVED:
		return &schedule_interleaved;
	case SCHEDULE_ZB_H1:
		return &schedule_zb_h1;
	case SCHEDULE_ZB_V:
		return &schedule_zb_v;
	case SCHEDULE_DUALPIPE:
		return &schedule_dualpipe;
	default:
		return &schedule_1f1b;
	}
}
