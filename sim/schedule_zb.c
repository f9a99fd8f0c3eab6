/*
 * schedule_zb: the zero-bubble schedules ZB-H1 and ZB-V (Qi et al. 2024, "Zero Bubble Pipeline
 * Parallelism", ICLR 2024, arXiv:2401.10241). Plan stage, part of schedule. The backward is split
 * into B (input gradients, on the critical path) and W (weight gradients, deferrable); W passes
 * fill the time a rank would wait. Knows nothing of real costs: ZB-H1 is the paper's handcrafted
 * order, ZB-V's comes from playing the pipeline with unit times F = B = W (sec. 3.1 and 6 assume
 * them too).
 */
#include "schedule.h"

#include <stdlib.h>

#include "xalloc.h"

/*
 * A list scheduler over all ranks, after the rules of the paper's heuristic (sec. 3.2) and of
 * sail-sg/zero-bubble-pipeline-parallelism (scheduler/zbv.py), whose steady state runs, round
 * after round, one input-gradient pass B and then one forward F on every rank, filling the time a
 * rank waits for an input with deferred weight-gradient passes W. A rank free at time t runs
 *   1. after a B, the forward whose input has arrived, while the micro-batches in flight
 *      (forward run, weight gradients not yet: W still needs the saved inputs) stay under its
 *      limit; at the limit, the oldest deferred W first, which frees one;
 *   2. else the B whose gradient has arrived;
 *   3. else (after an F, with no gradient in) a forward as in 1;
 *   4. else the oldest deferred W, which fills the bubble;
 * and otherwise waits for the next input. Of two ready passes of a kind it takes the older
 * micro-batch (the one the pipeline's end waits for), then the later model chunk. The limit is
 * 1F1B's memory: p micro-batches of two half-size chunks (2p chunk passes) on every rank (sec.
 * 6). Forwards and input gradients of a chunk take the micro-batches in order; the chunks sit in
 * a V (layout_chunk_rank), so chunk p - 1 hands over to chunk p on the same rank. With unit
 * times and m >= p micro-batches every rank then idles (p - 1) chunk passes, the least it can:
 * the last rank waits that long for its first input (tests/test_schedule.c checks p = 2..16).
 * Taking B first whenever one was ready, or the later chunk before the older micro-batch, left
 * up to twice that.
 */
struct zb {
	const struct layout *l;
	int64_t p, m, chunks, hops;
	double *f_end, *b_end;          /* per (micro-batch, model chunk): end time or -1 */
	double *free_at;                /* per rank */
	int64_t *next_f, *next_b;       /* per (rank, local chunk): next micro-batch */
	int64_t *inflight, *limit;      /* per rank, chunk passes */
	int64_t *wq, *wq_head, *wq_len; /* per rank: FIFO of deferred W (key mb*chunks + chunk) */
	size_t *count;                  /* per rank: passes placed (the caller's n) */
	int *last;                      /* per rank: the kind of its last F or B */
	struct pass *out;               /* per rank: room for 3 * m * chunks (the caller's) */
	size_t room;
};

/* Micro-batches visit every local chunk under the LOOP and V placements. */
static double ready_f(const struct zb *z, int64_t r, int64_t c)
{
	int64_t mb = z->next_f[r * z->chunks + c], k = layout_model_chunk(z->l, r, c);
	if (mb >= z->m)
		return -1;
	return k == 0 ? 0 : z->f_end[mb * z->hops + k - 1];
}

static double ready_b(const struct zb *z, int64_t r, int64_t c)
{
	int64_t mb = z->next_b[r * z->chunks + c], k = layout_model_chunk(z->l, r, c);
	if (mb >= z->m || z->f_end[mb * z->hops + k] < 0)
		return -1;
	return k == z->hops - 1 ? z->f_end[mb * z->hops + k] : z->b_end[mb * z->hops + k + 1];
}

static void place(struct zb *z, int64_t r, int kind, int64_t mb, int64_t c)
{
	int64_t k = layout_model_chunk(z->l, r, c);
	double end = z->free_at[r] + 1.0;
	schedule_put(z->out + (size_t)r * z->room, &z->count[r], kind, mb, c, false);
	z->free_at[r] = end;
	if (kind != PASS_WEIGHT)
		z->last[r] = kind;
	if (kind == PASS_FORWARD) {
		z->f_end[mb * z->hops + k] = end;
		z->next_f[r * z->chunks + c]++;
		z->inflight[r]++;
	} else if (kind == PASS_INPUT) {
		int64_t *q = z->wq + r * z->m * z->chunks;
		z->b_end[mb * z->hops + k] = end;
		z->next_b[r * z->chunks + c]++;
		q[(z->wq_head[r] + z->wq_len[r]++) % (z->m * z->chunks)] = mb * z->chunks + c;
	} else {
		z->inflight[r]--;
	}
}

/* Whether local chunk a of rank r goes before local chunk b, next[] being their next
 * micro-batches: the older micro-batch first, then the later model chunk. */
static bool before(const struct zb *z, const int64_t *next, int64_t r, int64_t a, int64_t b)
{
	int64_t ma = next[r * z->chunks + a], mb = next[r * z->chunks + b];
	if (ma != mb)
		return ma < mb;
	return layout_model_chunk(z->l, r, a) > layout_model_chunk(z->l, r, b);
}

/* The local chunk whose next pass of a kind (ready_b or ready_f) can start at t, or -1; *wake
 * is lowered to the earliest later arrival. */
static int64_t ready(const struct zb *z, int64_t r, bool backward, double *wake)
{
	double t = z->free_at[r];
	int64_t c, best = -1;
	for (c = 0; c < z->chunks; c++) {
		double at = backward ? ready_b(z, r, c) : ready_f(z, r, c);
		if (at >= 0 && at <= t &&
		    (best < 0 || before(z, backward ? z->next_b : z->next_f, r, c, best)))
			best = c;
		else if (at > t && at < *wake)
			*wake = at;
	}
	return best;
}

static void put_w(struct zb *z, int64_t r)
{
	int64_t key = z->wq[r * z->m * z->chunks + z->wq_head[r]];
	z->wq_head[r] = (z->wq_head[r] + 1) % (z->m * z->chunks);
	z->wq_len[r]--;
	place(z, r, PASS_WEIGHT, key / z->chunks, key % z->chunks);
}

/* Run one pass on rank r if one can start at its free time (the rules above); true if it did.
 * Otherwise *wake is lowered to the earliest time a known input arrives. */
static bool try_rank(struct zb *z, int64_t r, double *wake)
{
	int64_t b = ready(z, r, true, wake), f = ready(z, r, false, wake);
	bool room = z->inflight[r] < z->limit[r];
	if (z->last[r] == PASS_INPUT && f >= 0) {
		if (room) {
			place(z, r, PASS_FORWARD, z->next_f[r * z->chunks + f], f);
			return true;
		}
		if (z->wq_len[r] > 0) {
			put_w(z, r);
			return true;
		}
	}
	if (b >= 0) {
		place(z, r, PASS_INPUT, z->next_b[r * z->chunks + b], b);
		return true;
	}
	if (f >= 0 && room) {
		place(z, r, PASS_FORWARD, z->next_f[r * z->chunks + f], f);
		return true;
	}
	if (z->wq_len[r] > 0) {
		put_w(z, r);
		return true;
	}
	return false;
}

/* Play the whole pipeline; out gets every rank's order. Returns false on a deadlock (a limit too
 * small for the shape). */
static bool play(struct zb *z)
{
	size_t total = 3 * (size_t)(z->m * z->chunks), done = 0;
	while (done < total * (size_t)z->p) {
		int64_t r;
		double t = 1e300, wake = 1e300;
		bool progress = false;
		/* The ranks free earliest move first: what they wait for can only come from
		 * passes that end later. */
		for (r = 0; r < z->p; r++)
			if (z->count[r] < total && z->free_at[r] < t)
				t = z->free_at[r];
		for (r = 0; r < z->p; r++)
			if (z->count[r] < total && z->free_at[r] == t && try_rank(z, r, &wake)) {
				done++;
				progress = true;
			}
		if (progress)
			continue;
		for (r = 0; r < z->p; r++)
			if (z->count[r] < total && z->free_at[r] > t && z->free_at[r] < wake)
				wake = z->free_at[r];
		if (wake >= 1e300)
			return false;
		for (r = 0; r < z->p; r++)
			if (z->count[r] < total && z->free_at[r] == t)
				z->free_at[r] = wake;
	}
	return true;
}

/* Every rank's order from one play of the pipeline. */
static int zb_v(const struct layout *l, struct pass *out, size_t *n)
{
	struct zb z = {0};
	int64_t r, keys, k;
	int rc = -1;
	z.l = l;
	z.p = l->pp;
	z.m = l->micro_batches;
	z.chunks = l->chunks;
	z.hops = l->pp * l->vp;
	if (z.chunks != 2 || z.hops != 2 * z.p || l->placement != LAYOUT_V)
		return -1;
	keys = z.m * z.hops;
	z.room = schedule_room(l);
	z.f_end = xcalloc((size_t)keys, sizeof *z.f_end);
	z.b_end = xcalloc((size_t)keys, sizeof *z.b_end);
	for (k = 0; k < keys; k++)
		z.f_end[k] = z.b_end[k] = -1;
	z.free_at = xcalloc((size_t)z.p, sizeof *z.free_at);
	z.next_f = xcalloc((size_t)(z.p * z.chunks), sizeof *z.next_f);
	z.next_b = xcalloc((size_t)(z.p * z.chunks), sizeof *z.next_b);
	z.inflight = xcalloc((size_t)z.p, sizeof *z.inflight);
	z.limit = xcalloc((size_t)z.p, sizeof *z.limit);
	z.wq = xcalloc((size_t)(z.p * z.m * z.chunks), sizeof *z.wq);
	z.wq_head = xcalloc((size_t)z.p, sizeof *z.wq_head);
	z.wq_len = xcalloc((size_t)z.p, sizeof *z.wq_len);
	z.count = n;
	z.out = out;
	z.last = xcalloc((size_t)z.p, sizeof *z.last);
	for (r = 0; r < z.p; r++) {
		z.limit[r] = 2 * z.p;
		n[r] = 0;
	}
	if (play(&z))
		rc = 0;
	free(z.f_end);
	free(z.b_end);
	free(z.free_at);
	free(z.next_f);
	free(z.next_b);
	free(z.inflight);
	free(z.limit);
	free(z.wq);
	free(z.wq_head);
	free(z.wq_len);
	free(z.last);
	return rc;
}

/*
 * ZB-H1 (Qi et al. 2024, sec. 3.1, fig. 3 top): 1F1B's forwards and input-gradient passes, with
 * rank i running the weight gradients of micro-batch k after the input gradients of micro-batch
 * k + i. With F = B = W every rank then idles only before its first B, (p - 1) passes, and the
 * W passes it kept back fill the end, where it would wait for the last gradients; the bubble is
 * (p - 1)(F + B - W), the report's (p - 1)(F + B - 2W) with B a whole backward. A rank holds
 * p - i micro-batches from the forward to B plus i more waiting for W: p each, the first rank's
 * 1F1B peak.
 */
static size_t zb_h1(const struct layout *l, int64_t stage, struct pass *out)
{
	int64_t p = l->pp, m = l->micro_batches, warm = p - stage, f = 0, k, w = 0;
	size_t n = 0;
	if (l->chunks != 1 || l->placement != LAYOUT_LOOP)
		return 0;
	if (warm > m)
		warm = m;
	while (f < warm)
		schedule_put(out, &n, PASS_FORWARD, f++, 0, false);
	for (k = 0; k < m; k++) {
		schedule_put(out, &n, PASS_INPUT, k, 0, false);
		if (k >= stage)
			schedule_put(out, &n, PASS_WEIGHT, w++, 0, false);
		if (f < m)
			schedule_put(out, &n, PASS_FORWARD, f++, 0, false);
	}
	while (w < m)
		schedule_put(out, &n, PASS_WEIGHT, w++, 0, false);
	return n;
}

static int zb_h1_all(const struct layout *l, struct pass *out, size_t *n)
{
	return schedule_each_rank(l, out, n, zb_h1);
}

const struct schedule_type schedule_zb_h1 = {"zb-h1", zb_h1_all};
const struct schedule_type schedule_zb_v = {"zb-v", zb_v};
