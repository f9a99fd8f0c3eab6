/*
 * schedule_dualpipe: DualPipe (DeepSeek-V3 technical report, arXiv:2412.19437, sec. 3.2.1,
 * fig. 5), the order of deepseek-ai/DualPipe's DualPipe.step (dualpipe/dualpipe.py) restated.
 * Plan stage, part of schedule. Half the micro-batches enter at rank 0 and half at rank p - 1;
 * rank r holds stage r of the first direction (local chunk 0) and stage p - 1 - r of the second
 * (local chunk 1, layout's LAYOUT_BIDIRECTIONAL). A forward of one direction and a backward of
 * the other run as an overlapped pair (pass.paired); some backwards defer their weight gradients
 * to fill bubbles (zero-bubble's B/W split).
 */
#include "schedule.h"

#include <stdlib.h>

#include "xalloc.h"

struct dual {
	const struct layout *l;
	int64_t rank, half;             /* half: micro-batches per direction */
	int64_t next_f[2], next_b[2];   /* per local chunk: next micro-batch of its direction */
	int64_t *wq, wq_head, wq_len;   /* deferred W, FIFO of (mb * 2 + chunk), room for m */
	struct pass *out;
	size_t n;
};

/* DualPipe numbers its two chunks by phase: phase 0 is the one nearer the rank's own end (the
 * first direction on the first half of the ranks, the second on the other half). */
static int64_t chunk_of(const struct dual *d, int64_t phase)
{
	return d->rank < d->l->pp / 2 ? phase : 1 - phase;
}

static int64_t mb_of(const struct dual *d, int64_t chunk, int64_t i)
{
	return chunk == 0 ? i : d->half + i;
}

static void forward(struct dual *d, int64_t phase, bool paired)
{
	int64_t c = chunk_of(d, phase);
	schedule_put(d->out, &d->n, PASS_FORWARD, mb_of(d, c, d->next_f[c]++), c, paired);
}

/* A backward; with zero bubble (enable_zb) it computes only the input gradients and queues the
 * weight gradients for a later weight(). */
static void backward(struct dual *d, int64_t phase, bool zb)
{
	int64_t c = chunk_of(d, phase), mb = mb_of(d, c, d->next_b[c]++);
	schedule_put(d->out, &d->n, zb ? PASS_INPUT : PASS_BACKWARD, mb, c, false);
	if (zb)
		d->wq[(d->wq_head + d->wq_len++) % d->l->micro_batches] = mb * 2 + c;
}

static void weight(struct dual *d)
{
	int64_t key = d->wq[d->wq_head];
	d->wq_head = (d->wq_head + 1) % d->l->micro_batches;
	d->wq_len--;
	schedule_put(d->out, &d->n, PASS_WEIGHT, key / 2, key % 2, false);
}

/* A forward of phase `fp` overlapped with a whole backward of phase `bp`. */
static void forward_backward(struct dual *d, int64_t fp, int64_t bp)
{
	forward(d, fp, true);
	backward(d, bp, false);
}

static size_t dualpipe(const struct layout *l, int64_t stage, struct pass *out)
{
	struct dual d = {0};
	int64_t p = l->pp, m = l->micro_batches, half_ranks = p / 2, hr, i, n;
	bool middle;
	/* DualPipe.step's assertions (also checked at load, scenario_check.c). */
	if (l->placement != LAYOUT_BIDIRECTIONAL || p % 2 != 0 || m % 2 != 0 || m < 2 * p)
		return 0;
	d.l = l;
	d.rank = stage;
	d.half = m / 2;
	d.out = out;
	d.wq = xcalloc((size_t)m, sizeof *d.wq);
	hr = stage < p - 1 - stage ? stage : p - 1 - stage;
	middle = hr == half_ranks - 1;
	/* 1: forwards of the own end's micro-batches that fill the pipeline toward the middle. */
	for (i = 0; i < (half_ranks - hr - 1) * 2; i++)
		forward(&d, 0, false);
	/* 2: forwards of both directions in turn. */
	for (i = 0; i < hr + 1; i++) {
		forward(&d, 0, false);
		forward(&d, 1, false);
	}
	/* 3: B, W, F of the far direction (zero bubble). */
	for (i = 0; i < half_ranks - hr - 1; i++) {
		backward(&d, 1, true);
		weight(&d);
		forward(&d, 1, false);
	}
	/* 4, the main part: overlapped pairs F0&B1, F1&B0. The middle ranks run their first F0 and
	 * B1 apart ("We don't overlap these two chunks to further reduce bubble size"). */
	n = d.half - p + hr + 1;
	for (i = 0; i < n; i++) {
		if (i == 0 && middle) {
			forward(&d, 0, false);
			backward(&d, 1, false);
		} else {
			forward_backward(&d, 0, 1);
		}
		forward_backward(&d, 1, 0);
	}
	/* 5: B1, then the pair F1&B0. */
	for (i = 0; i < half_ranks - hr - 1; i++) {
		backward(&d, 1, false);
		forward_backward(&d, 1, 0);
	}
	/* 6: backwards of both; from the middle one on they defer their weight gradients. */
	{
		int64_t steps = hr + 1;
		bool zb = false;
		for (i = 0; i < steps; i++) {
			if (i == steps / 2 && hr % 2 == 1)
				zb = true;
			backward(&d, 1, zb);
			if (i == steps / 2 && hr % 2 == 0)
				zb = true;
			backward(&d, 0, zb);
		}
	}
	/* 7: W then B0 (zero bubble); 8: the remaining W. */
	for (i = 0; i < half_ranks - hr - 1; i++) {
		weight(&d);
		backward(&d, 0, true);
	}
	while (d.wq_len > 0)
		weight(&d);
	free(d.wq);
	return d.n;
}

static int dualpipe_all(const struct layout *l, struct pass *out, size_t *n)
{
	return schedule_each_rank(l, out, n, dualpipe);
}

const struct schedule_type schedule_dualpipe = {"dualpipe", dualpipe_all};
