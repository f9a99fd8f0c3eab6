/*
 * test_schedule: the pass orders of the pipeline schedules, played on a small model of their own
 * with hand-set pass times — every forward, input- and weight-gradient pass present once, each
 * after what it needs, and the bubbles of ZB-H1 and DualPipe equal to the DeepSeek-V3 report's
 * Table 2 (arXiv:2412.19437; deepseek-ai/DualPipe README): 1F1B (p-1)(F+B), ZB1P
 * (p-1)(F+B-2W), DualPipe (p/2-1)(F&B+B-3W), B there a whole backward (input and weight
 * gradients) and F&B an overlapped forward-backward pair.
 */
#include "check.h"

#include "layout.h"
#include "schedule.h"

/* Pass times of the toy model: F forward, BI input gradients, W weight gradients (a whole
 * backward is BI + W), FB an overlapped pair of a forward and a whole backward. */
struct times {
	double f, bi, w, fb;
};

static struct layout shape(int64_t p, int64_t m, enum layout_placement placement)
{
	struct layout l;
	memset(&l, 0, sizeof l);
	l.pp = p;
	l.micro_batches = m;
	l.tp = l.dp = l.cp = l.ep = 1;
	l.gpus = p;
	l.placement = placement;
	l.vp = placement == LAYOUT_V ? 2 : 1;
	l.chunks = placement == LAYOUT_LOOP ? 1 : 2;
	return l;
}

struct played {
	double makespan;
	double busy[64];
	int64_t peak[64];    /* most chunk passes whose activations a rank holds at once: forwards
				run, their whole backward or weight-gradient pass not yet */
};

static double duration(const struct times *t, const struct pass *ps)
{
	switch (ps->kind) {
	case PASS_FORWARD:
		return t->f;
	case PASS_INPUT:
		return t->bi;
	case PASS_WEIGHT:
		return t->w;
	default:
		return t->bi + t->w;
	}
}

/*
 * Play every rank's order: a pass starts when its rank is free and its input has arrived
 * (forward: the previous model chunk's forward; backward: the next chunk's input gradients;
 * W: its own B), with free communication. Checks that each (micro-batch, model chunk) has one
 * forward and one backward (whole, or B and W), on the rank the layout places it, and that the
 * orders never deadlock.
 */
static void play(const struct schedule_type *st, const struct layout *l, const struct times *t,
		 struct played *out)
{
	int64_t p = l->pp, m = l->micro_batches, hops = l->pp * l->vp, r, local;
	size_t room = schedule_room(l), all = 0, done = 0;
	struct pass *order = calloc(room * (size_t)p, sizeof *order);
	size_t *n = calloc((size_t)p, sizeof *n), *next = calloc((size_t)p, sizeof *next);
	double *f_end = calloc((size_t)(m * hops), sizeof *f_end);
	double *b_end = calloc((size_t)(m * hops), sizeof *b_end);
	int *seen = calloc((size_t)(m * hops * 3), sizeof *seen);
	double *clock = calloc((size_t)p, sizeof *clock);
	int64_t i;
	assert_true(p <= 64);
	for (i = 0; i < m * hops; i++)
		f_end[i] = b_end[i] = -1;
	memset(out, 0, sizeof *out);
	assert_int_equal(st->order(l, order, n), 0);
	for (r = 0; r < p; r++) {
		int64_t held = 0;
		assert_true(n[r] > 0);
		all += n[r];
		for (i = 0; i < (int64_t)n[r]; i++) {
			const struct pass *ps = &order[(size_t)r * room + (size_t)i];
			int64_t k = layout_model_chunk(l, r, ps->chunk);
			held += ps->kind == PASS_FORWARD ? 1
				: ps->kind == PASS_BACKWARD || ps->kind == PASS_WEIGHT ? -1 : 0;
			if (held > out->peak[r])
				out->peak[r] = held;
			assert_int_equal(layout_chunk_rank(l, ps->micro_batch, k, &local), r);
			assert_int_equal(local, ps->chunk);
			if (ps->kind != PASS_INPUT)
				seen[(ps->micro_batch * hops + k) * 3 + (ps->kind == PASS_FORWARD ? 0 : 2)]++;
			if (ps->kind == PASS_BACKWARD || ps->kind == PASS_INPUT)
				seen[(ps->micro_batch * hops + k) * 3 + 1]++;
		}
	}
	for (i = 0; i < m * hops * 3; i++)
		assert_int_equal(seen[i], 1);
	while (done < all) {
		bool progress = false;
		for (r = 0; r < p; r++) {
			while (next[r] < n[r]) {
				const struct pass *ps = &order[(size_t)r * room + next[r]];
				int npass = ps->paired ? 2 : 1, j;
				double start = clock[r], len = 0;
				bool ready = true;
				for (j = 0; j < npass; j++) {
					const struct pass *q = ps + j;
					int64_t k = layout_model_chunk(l, r, q->chunk);
					int64_t key = q->micro_batch * hops + k;
					double at = 0;
					if (q->kind == PASS_FORWARD)
						at = k == 0 ? 0 : f_end[key - 1];
					else if (q->kind == PASS_WEIGHT)
						at = b_end[key];
					else
						at = k == hops - 1 ? f_end[key] : b_end[key + 1];
					/* A backward also needs its own forward. */
					if (q->kind != PASS_FORWARD && f_end[key] < 0)
						at = -1;
					if (at < 0)
						ready = false;
					else if (at > start)
						start = at;
					len += duration(t, q);
				}
				if (!ready)
					break;
				if (ps->paired) {
					assert_int_equal(ps[0].kind, PASS_FORWARD);
					assert_int_equal(ps[1].kind, PASS_BACKWARD);
					len = t->fb;
				}
				for (j = 0; j < npass; j++) {
					const struct pass *q = ps + j;
					int64_t key = q->micro_batch * hops + layout_model_chunk(l, r, q->chunk);
					if (q->kind == PASS_FORWARD)
						f_end[key] = start + len;
					else if (q->kind != PASS_WEIGHT)
						b_end[key] = start + len;
				}
				clock[r] = start + len;
				out->busy[r] += len;
				next[r] += (size_t)npass;
				done += (size_t)npass;
				progress = true;
			}
		}
		assert_true(progress);    /* a deadlock otherwise */
	}
	for (r = 0; r < p; r++)
		if (clock[r] > out->makespan)
			out->makespan = clock[r];
	free(order);
	free(n);
	free(next);
	free(f_end);
	free(b_end);
	free(seen);
	free(clock);
}

/* The largest idle time of a rank: Table 2's bubble. */
static double bubble(const struct played *pl, int64_t p)
{
	double worst = 0;
	int64_t r;
	for (r = 0; r < p; r++)
		if (pl->makespan - pl->busy[r] > worst)
			worst = pl->makespan - pl->busy[r];
	return worst;
}

static void one_f_one_b_bubble_is_p_minus_1_times_f_plus_b(void **state)
{
	struct layout l = shape(8, 24, LAYOUT_LOOP);
	struct times t = {1, 1, 1, 3};
	struct played pl;
	(void)state;
	play(&schedule_1f1b, &l, &t, &pl);
	/* Table 2: (p - 1)(F + B), B = BI + W = 2: 7 x 3. */
	check_rel(bubble(&pl, 8), 21.0, 1e-12);
}

static void zb_h1_bubble_is_table_2s_zb1p(void **state)
{
	struct times t = {1, 1, 1, 3};
	struct played pl;
	int64_t p, r;
	(void)state;
	for (p = 2; p <= 8; p *= 2) {
		struct layout l = shape(p, 3 * p, LAYOUT_LOOP);
		play(&schedule_zb_h1, &l, &t, &pl);
		/* (p - 1)(F + B - 2W) with B = BI + W = 2: (p - 1)(1 + 2 - 2) = p - 1. */
		print_message("zb-h1 p %lld m %lld: makespan %.1f, bubble %.1f\n", (long long)p,
			      (long long)(3 * p), pl.makespan, bubble(&pl, p));
		check_rel(bubble(&pl, p), (double)(p - 1), 1e-12);
		check_rel(pl.makespan, 3.0 * 3 * (double)p + (double)(p - 1), 1e-12);
		/* Rank i holds p - i micro-batches from the forward to B and i more waiting
		 * for W (schedule_zb.c): p on every rank, 1F1B's first-rank peak. */
		for (r = 0; r < p; r++)
			assert_int_equal(pl.peak[r], p);
	}
	{
		/* Uneven times, F 2, BI 2, W 1: (p - 1)(2 + 3 - 2) = 3 (p - 1). */
		struct times u = {2, 2, 1, 5};
		struct layout l = shape(4, 12, LAYOUT_LOOP);
		play(&schedule_zb_h1, &l, &u, &pl);
		print_message("zb-h1 F 2 BI 2 W 1: bubble %.1f\n", bubble(&pl, 4));
		check_rel(bubble(&pl, 4), 9.0, 1e-12);
	}
}

/*
 * ZB-V with F = BI = W = 0.5 a chunk (half a stage each): the last rank holds model chunks p - 1
 * and p and can start nothing before p - 1 chunk forwards have run on the ranks before it, so
 * no schedule makes its bubble smaller than 0.5 (p - 1); with m >= p micro-batches the ZB-V
 * authors' own scheduler (sail-sg/zero-bubble-pipeline-parallelism scheduler/zbv.py, run by a
 * reviewer for p = 2..16 and m = p, p + 1, 2p, 4p) reaches exactly that, and so must dssim's,
 * on every p (odd ones and multiples of 3 included). With fewer micro-batches than ranks it
 * still beats ZB-H1.
 */
static void zb_v_leaves_the_least_bubble(void **state)
{
	struct times half = {0.5, 0.5, 0.5, 1.5}, t = {1, 1, 1, 3};
	struct played v, h;
	int64_t p, i, r;
	(void)state;
	for (p = 2; p <= 16; p++) {
		const int64_t ms[] = {1, 3, p, p + 1, 2 * p, 4 * p};
		for (i = 0; i < 6; i++) {
			struct layout l = shape(p, ms[i], LAYOUT_V), h1 = shape(p, ms[i], LAYOUT_LOOP);
			play(&schedule_zb_v, &l, &half, &v);
			play(&schedule_zb_h1, &h1, &t, &h);
			print_message("p %lld m %lld: zb-v bubble %.2f, zb-h1 %.2f\n", (long long)p,
				      (long long)ms[i], bubble(&v, p), bubble(&h, p));
			if (ms[i] >= p)
				check_rel(bubble(&v, p), 0.5 * (double)(p - 1), 1e-12);
			else
				assert_true(bubble(&v, p) < bubble(&h, p));
			/* 1F1B's memory (sec. 6): no rank holds more than p micro-batches of
			 * two half-stage chunks, and the first reaches it once there are p. */
			for (r = 0; r < p; r++)
				assert_true(v.peak[r] <= 2 * p);
			if (ms[i] >= p)
				assert_int_equal(v.peak[0], 2 * p);
		}
	}
}

static void dualpipe_bubble_is_table_2s(void **state)
{
	/* F 1, BI 1, W 1 (a whole backward B = 2), an overlapped pair F&B 2.5 of the 3 they take
	 * apart. */
	struct times t = {1, 1, 1, 2.5};
	struct played pl;
	int64_t p;
	(void)state;
	for (p = 4; p <= 8; p += 4) {
		struct layout l = shape(p, 2 * p + 4, LAYOUT_BIDIRECTIONAL);
		play(&schedule_dualpipe, &l, &t, &pl);
		print_message("dualpipe p %lld: makespan %.2f, bubble %.2f\n", (long long)p,
			      pl.makespan, bubble(&pl, p));
		/* (p/2 - 1)(F&B + B - 3W) = (p/2 - 1)(2.5 + 2 - 3) = 1.5 (p/2 - 1). */
		check_rel(bubble(&pl, p), 1.5 * (double)(p / 2 - 1), 1e-12);
	}
	{
		/* F 1, BI 1, W 0.5, F&B 2: (p/2 - 1)(2 + 1.5 - 1.5) = 2 (p/2 - 1), 6 on 8 ranks. */
		struct times u = {1, 1, 0.5, 2};
		struct layout l = shape(8, 20, LAYOUT_BIDIRECTIONAL);
		play(&schedule_dualpipe, &l, &u, &pl);
		print_message("dualpipe W 0.5: bubble %.2f\n", bubble(&pl, 8));
		check_rel(bubble(&pl, 8), 6.0, 1e-12);
	}
}

static void dualpipe_rejects_odd_ranks_and_few_micro_batches(void **state)
{
	static struct pass out[3 * 20 * 2 * 5];
	size_t n[5];
	struct layout odd = shape(5, 20, LAYOUT_BIDIRECTIONAL);
	struct layout few = shape(4, 6, LAYOUT_BIDIRECTIONAL);
	(void)state;
	assert_int_equal(schedule_dualpipe.order(&odd, out, n), -1);
	assert_int_equal(schedule_dualpipe.order(&few, out, n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_f_one_b_bubble_is_p_minus_1_times_f_plus_b),
		cmocka_unit_test(zb_h1_bubble_is_table_2s_zb1p),
		cmocka_unit_test(zb_v_leaves_the_least_bubble),
		cmocka_unit_test(dualpipe_bubble_is_table_2s),
		cmocka_unit_test(dualpipe_rejects_odd_ranks_and_few_micro_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
