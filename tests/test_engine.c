/*
 * test_engine: the engine against hand-computed timelines — stream order, dependencies, link
 * sharing under the flow model (max-min fair rates, joins and leaves, changes travelling along
 * chains of links), latency, memory over time, deadlock detection, determinism.
 */
#include "check.h"

#include "engine.h"
#include "graph.h"
#include "memtrack.h"

static double run(struct graph *g, struct engine **out)
{
	struct engine *e = engine_new(g);
	assert_int_equal(engine_run(e), 0);
	*out = e;
	return engine_now(e);
}

/* Two ops on one stream take the sum; on two streams of one device, the longer. */
static void streams_serialize_and_run_in_parallel(void **state)
{
	struct graph *g = graph_new(1);
	uint32_t s0 = graph_add_stream(g, 0, "compute"), s1 = graph_add_stream(g, 0, "comm");
	struct engine *e;
	(void)state;
	graph_add_compute(g, s0, "a", 0, 1.5);
	graph_add_compute(g, s0, "b", 0, 2.5);
	graph_add_compute(g, s1, "c", 1, 3.0);
	check_rel(run(g, &e), 4.0, 1e-15);
	check_rel(engine_op_start(e, 1), 1.5, 1e-15);
	check_rel(engine_op_end(e, 2), 3.0, 1e-15);
	engine_free(e);
	graph_free(g);
}

/* A stream runs its ops in issue order, as CUDA does: b (ready at once) waits behind a, which
 * waits for x on another stream. */
static void a_stream_keeps_issue_order(void **state)
{
	struct graph *g = graph_new(2);
	uint32_t s0 = graph_add_stream(g, 0, "compute"), s1 = graph_add_stream(g, 1, "compute");
	uint32_t x, a, b;
	struct engine *e;
	(void)state;
	x = graph_add_compute(g, s1, "x", 0, 4.0);
	a = graph_add_compute(g, s0, "a", 0, 1.0);
	graph_add_dep(g, a, x);
	b = graph_add_compute(g, s0, "b", 0, 1.0);
	check_rel(run(g, &e), 6.0, 1e-15);
	check_rel(engine_op_start(e, a), 4.0, 1e-15);
	check_rel(engine_op_start(e, b), 5.0, 1e-15);
	engine_free(e);
	graph_free(g);
}

/* A transfer alone: latency + bytes / bandwidth. 1 GB over 100 GB/s after 5 us = 10.005 ms. */
static void a_transfer_takes_latency_plus_bytes_over_bandwidth(void **state)
{
	struct graph *g = graph_new(1);
	uint32_t s = graph_add_stream(g, 0, "comm");
	uint32_t l = graph_add_link(g, "nvlink", 100e9);
	struct engine *e;
	(void)state;
	graph_add_transfer(g, s, "send", 1, 1e9, 5e-6, &l, 1);
	check_rel(run(g, &e), 5e-6 + 1e9 / 100e9, 1e-12);
	engine_free(e);
	graph_free(g);
}

/* Two equal transfers on one link at once each get half the bandwidth: both end at 2S/bw. */
static void concurrent_transfers_share_a_link(void **state)
{
	struct graph *g = graph_new(2);
	uint32_t s0 = graph_add_stream(g, 0, "comm"), s1 = graph_add_stream(g, 1, "comm");
	uint32_t l = graph_add_link(g, "nic", 50e9);
	struct engine *e;
	(void)state;
	graph_add_transfer(g, s0, "a", 1, 1e9, 0, &l, 1);
	graph_add_transfer(g, s1, "b", 1, 1e9, 0, &l, 1);
	check_rel(run(g, &e), 2 * 1e9 / 50e9, 1e-12);
	check_rel(engine_op_end(e, 0), engine_op_end(e, 1), 1e-15);
	engine_free(e);
	graph_free(g);
}

/*
 * Staggered flows: A (2 GB) starts at 0 alone at 100 GB/s; B (0.5 GB) starts at 10 ms, after a
 * compute op. From then each gets 50 GB/s: A has 1 GB left, B finishes its 0.5 GB at 20 ms; A
 * then has 0.5 GB left and runs alone again, ending at 25 ms.
 */
static void a_flow_speeds_up_when_its_neighbour_ends(void **state)
{
	struct graph *g = graph_new(2);
	uint32_t s0 = graph_add_stream(g, 0, "comm"), s1 = graph_add_stream(g, 1, "compute");
	uint32_t s2 = graph_add_stream(g, 1, "comm");
	uint32_t l = graph_add_link(g, "link", 100e9);
	uint32_t a, c, b;
	struct engine *e;
	(void)state;
	a = graph_add_transfer(g, s0, "a", 1, 2e9, 0, &l, 1);
	c = graph_add_compute(g, s1, "c", 0, 0.010);
	b = graph_add_transfer(g, s2, "b", 1, 0.5e9, 0, &l, 1);
	graph_add_dep(g, b, c);
	check_rel(run(g, &e), 0.025, 1e-12);
	check_rel(engine_op_end(e, b), 0.020, 1e-12);
	check_rel(engine_op_end(e, a), 0.025, 1e-12);
	engine_free(e);
	graph_free(g);
}

/* A transfer crossing two links goes at the slower one's rate. */
static void a_path_runs_at_its_narrowest_link(void **state)
{
	struct graph *g = graph_new(1);
	uint32_t s = graph_add_stream(g, 0, "comm");
	uint32_t links[2];
	struct engine *e;
	(void)state;
	links[0] = graph_add_link(g, "pcie", 25e9);
	links[1] = graph_add_link(g, "nic", 50e9);
	graph_add_transfer(g, s, "x", 1, 1e9, 0, links, 2);
	check_rel(run(g, &e), 1e9 / 25e9, 1e-12);
	engine_free(e);
	graph_free(g);
}

/*
 * Issue 11 §3: a flow on a wide link shared with a flow held back by a narrow link elsewhere. A
 * sends 1 GB over a 100 GB/s link W; B, a pipeline send, sends 0.2 GB over W and then a 10 GB/s
 * link N. Max-min fair: N holds B at 10 GB/s, so A gets the other 90 GB/s of W and ends at
 * 1/90 s = 11.1 ms (the old equal split gave A 100/2 = 50 GB/s: 20.0 ms). B ends at
 * 0.2 / 10 = 20 ms, at 10 GB/s throughout.
 */
static void a_flow_gets_what_a_bottlenecked_neighbour_leaves(void **state)
{
	struct graph *g = graph_new(2);
	uint32_t s0 = graph_add_stream(g, 0, "comm"), s1 = graph_add_stream(g, 1, "comm");
	uint32_t w = graph_add_link(g, "wide", 100e9), n = graph_add_link(g, "narrow", 10e9);
	uint32_t path[2] = {w, n}, a, b;
	struct engine *e;
	(void)state;
	a = graph_add_transfer(g, s0, "a", 1, 1e9, 0, &w, 1);
	b = graph_add_transfer(g, s1, "b", 1, 0.2e9, 0, path, 2);
	check_rel(run(g, &e), 0.020, 1e-12);
	check_rel(engine_op_end(e, a), 1.0 / 90, 1e-12);
	check_rel(engine_op_end(e, b), 0.020, 1e-12);
	engine_free(e);
	graph_free(g);
}

/*
 * Two links, three flows: f1 on L1 (60 GB/s), f2 on L1 and L2, f3 on L2 (30 GB/s).
 * Progressive filling: L2 fills first at 30/2 = 15 GB/s for f2 and f3; L1 has 60 - 15 = 45 left
 * for f1. f1 (0.9 GB) ends at 0.9/45 = 20 ms; by then f2 (0.45 GB) has 0.15 GB left and f3
 * (0.6 GB) 0.3 GB. L2 still splits 15/15 (f2 keeps its rate), so f2 ends at 20 + 0.15/15 = 30
 * ms; f3 has 0.15 GB left, alone at 30 GB/s: 5 ms more, 35 ms. (Equal split: f1 at 30 GB/s,
 * ending at 30 ms.)
 */
static void two_links_share_max_min_fairly(void **state)
{
	struct graph *g = graph_new(3);
	uint32_t s[3], l1 = graph_add_link(g, "l1", 60e9), l2 = graph_add_link(g, "l2", 30e9);
	uint32_t both[2] = {l1, l2}, f1, f2, f3, d;
	struct engine *e;
	(void)state;
	for (d = 0; d < 3; d++)
		s[d] = graph_add_stream(g, d, "comm");
	f1 = graph_add_transfer(g, s[0], "f1", 1, 0.9e9, 0, &l1, 1);
	f2 = graph_add_transfer(g, s[1], "f2", 1, 0.45e9, 0, both, 2);
	f3 = graph_add_transfer(g, s[2], "f3", 1, 0.6e9, 0, &l2, 1);
	check_rel(run(g, &e), 0.035, 1e-12);
	check_rel(engine_op_end(e, f1), 0.020, 1e-12);
	check_rel(engine_op_end(e, f2), 0.030, 1e-12);
	check_rel(engine_op_end(e, f3), 0.035, 1e-12);
	engine_free(e);
	graph_free(g);
}

/*
 * Three links A (100 GB/s), B (60), C (20); x on A, y on A and B, z on B and C, w on C. All
 * four rise together; the fair shares are A 100/2, B 60/2, C 20/2, so C fills first, at level 10
 * (z = w = 10). A then has 100 - 2*10 = 80 left for x and y, B 60 - 2*10 = 40 for y alone: both
 * fill 40 further on, at level 50 (a tie: A and B full at once). So x = y = 50, z = w = 10 GB/s;
 * every link is full. Sizes 0.5, 0.5, 0.1, 0.1 GB: all four end at 10 ms. (Equal split:
 * y at min(50, 30) = 30 GB/s, 16.7 ms.)
 */
static void three_links_fill_level_by_level(void **state)
{
	struct graph *g = graph_new(4);
	uint32_t a = graph_add_link(g, "a", 100e9), b = graph_add_link(g, "b", 60e9);
	uint32_t c = graph_add_link(g, "c", 20e9);
	uint32_t ab[2] = {a, b}, bc[2] = {b, c}, s[4], ops[4], d;
	struct engine *e;
	(void)state;
	for (d = 0; d < 4; d++)
		s[d] = graph_add_stream(g, d, "comm");
	ops[0] = graph_add_transfer(g, s[0], "x", 1, 0.5e9, 0, &a, 1);
	ops[1] = graph_add_transfer(g, s[1], "y", 1, 0.5e9, 0, ab, 2);
	ops[2] = graph_add_transfer(g, s[2], "z", 1, 0.1e9, 0, bc, 2);
	ops[3] = graph_add_transfer(g, s[3], "w", 1, 0.1e9, 0, &c, 1);
	check_rel(run(g, &e), 0.010, 1e-12);
	for (d = 0; d < 4; d++)
		check_rel(engine_op_end(e, ops[d]), 0.010, 1e-12);
	engine_free(e);
	graph_free(g);
}

/*
 * Flows join and leave mid-transfer on the issue's two links, W (100 GB/s) and N (10 GB/s).
 * A (2.8 GB, on W) starts at 0; B (0.3 GB, on W and N) after a 10 ms compute op; C (0.45 GB,
 * on W) after a 20 ms one. Piece by piece:
 *   0-10 ms   A alone: 100 GB/s, sends 1.0 GB (1.8 left).
 *   10-20 ms  N holds B at 10, A gets 90: A sends 0.9 (0.9 left), B 0.1 (0.2 left).
 *   20-30 ms  W: B 10, A and C (100 - 10)/2 = 45 each: C sends its 0.45 and ends at 30 ms;
 *             A 0.45 (0.45 left), B 0.1 (0.1 left).
 *   30-35 ms  A 90 again: its 0.45 GB take 5 ms, ending at 35 ms; B 0.05 (0.05 left).
 *   35-40 ms  B alone, still 10 GB/s (N): ends at 40 ms.
 */
static void flows_join_and_leave_mid_transfer(void **state)
{
	struct graph *g = graph_new(3);
	uint32_t w = graph_add_link(g, "wide", 100e9), n = graph_add_link(g, "narrow", 10e9);
	uint32_t path[2] = {w, n}, s[3], c[2], a, b, cc, d;
	struct engine *e;
	(void)state;
	for (d = 0; d < 3; d++)
		s[d] = graph_add_stream(g, d, "comm");
	c[0] = graph_add_compute(g, graph_add_stream(g, 1, "compute"), "c10", 0, 0.010);
	c[1] = graph_add_compute(g, graph_add_stream(g, 2, "compute"), "c20", 0, 0.020);
	a = graph_add_transfer(g, s[0], "a", 1, 2.8e9, 0, &w, 1);
	b = graph_add_transfer(g, s[1], "b", 1, 0.3e9, 0, path, 2);
	graph_add_dep(g, b, c[0]);
	cc = graph_add_transfer(g, s[2], "c", 1, 0.45e9, 0, &w, 1);
	graph_add_dep(g, cc, c[1]);
	check_rel(run(g, &e), 0.040, 1e-12);
	check_rel(engine_op_start(e, b), 0.010, 1e-15);
	check_rel(engine_op_start(e, cc), 0.020, 1e-15);
	check_rel(engine_op_end(e, cc), 0.030, 1e-12);
	check_rel(engine_op_end(e, a), 0.035, 1e-12);
	check_rel(engine_op_end(e, b), 0.040, 1e-12);
	engine_free(e);
	graph_free(g);
}

/*
 * A rate change travels two hops: links L1 (200 GB/s), L2 (100), L3 (40); a on L1, b on L1 and
 * L2, c on L2 and L3, d on L3. a shares no link with d, yet d ending changes a's rate.
 *   With d: L3 fills first at 20 (c = d = 20); then L2 has 100 - 20 = 80 for b and L1
 *   200 - 2*20 = 160 for a and b: L2 fills at level 20 + 60 = 80 (b = 80), and a takes the
 *   rest of L1, 200 - 80 = 120.
 *   Without d: L3 fills at 40 (c = 40); L2 then has 60 for b, L1 120 for a and b: L2 fills at
 *   level 60 (b = 60), a gets 200 - 60 = 140.
 * d (0.2 GB) ends at 0.2/20 = 10 ms; a (2.6 GB), b (1.1 GB) and c (0.8 GB) have 1.4, 0.3 and
 * 0.6 GB left. b ends 0.3/60 = 5 ms later, at 15 ms, with a at 0.7 GB and c at 0.4 GB left. Then
 * a is alone on L1 at 200 GB/s: 3.5 ms more, 18.5 ms; c stays at 40 (L3): 10 ms more, 25 ms.
 */
static void a_rate_change_propagates_two_hops(void **state)
{
	struct graph *g = graph_new(4);
	uint32_t l1 = graph_add_link(g, "l1", 200e9), l2 = graph_add_link(g, "l2", 100e9);
	uint32_t l3 = graph_add_link(g, "l3", 40e9);
	uint32_t p12[2] = {l1, l2}, p23[2] = {l2, l3}, s[4], a, b, c, dd, d;
	struct engine *e;
	(void)state;
	for (d = 0; d < 4; d++)
		s[d] = graph_add_stream(g, d, "comm");
	a = graph_add_transfer(g, s[0], "a", 1, 2.6e9, 0, &l1, 1);
	b = graph_add_transfer(g, s[1], "b", 1, 1.1e9, 0, p12, 2);
	c = graph_add_transfer(g, s[2], "c", 1, 0.8e9, 0, p23, 2);
	dd = graph_add_transfer(g, s[3], "d", 1, 0.2e9, 0, &l3, 1);
	check_rel(run(g, &e), 0.025, 1e-12);
	check_rel(engine_op_end(e, dd), 0.010, 1e-12);
	check_rel(engine_op_end(e, b), 0.015, 1e-12);
	check_rel(engine_op_end(e, a), 0.0185, 1e-12);
	check_rel(engine_op_end(e, c), 0.025, 1e-12);
	engine_free(e);
	graph_free(g);
}

/* Memory: 10 GB resident; the forward allocates 4 GB at its start, the backward frees it at its
 * end: the peak is 14 GB from t = 0 to t = 3. */
static void allocations_follow_the_ops(void **state)
{
	struct graph *g = graph_new(1);
	uint32_t s = graph_add_stream(g, 0, "compute"), f, b;
	const struct memtrack *m;
	const struct memtrack_sample *tl;
	size_t n;
	double when;
	struct engine *e;
	(void)state;
	graph_set_device(g, 0, 12e9, 10e9);
	f = graph_add_compute(g, s, "fwd", 0, 1.0);
	graph_add_mem(g, f, 0, 4e9, false);
	b = graph_add_compute(g, s, "bwd", 0, 2.0);
	graph_add_mem(g, b, 0, -4e9, true);
	run(g, &e);
	m = engine_memory(e);
	check_rel(memtrack_peak(m, 0), 14e9, 1e-15);
	check_rel(memtrack_current(m, 0), 10e9, 1e-15);
	assert_true(memtrack_is_oom(m, 0, &when));
	check_rel(when, 0.0, 0);
	tl = memtrack_samples(m, 0, &n);
	assert_int_equal(n, 2);
	check_rel(tl[0].bytes, 14e9, 1e-15);
	check_rel(tl[1].time, 3.0, 1e-15);
	check_rel(tl[1].bytes, 10e9, 1e-15);
	engine_free(e);
	graph_free(g);
}

/* Dependencies point to earlier ops and streams run in issue order, so the lowest unfinished op
 * can always start: a graph of crossing dependencies between two streams completes. */
static void crossing_dependencies_between_streams_complete(void **state)
{
	struct graph *g = graph_new(2);
	uint32_t s0 = graph_add_stream(g, 0, "a"), s1 = graph_add_stream(g, 1, "b");
	uint32_t a0, b0, a1, b1;
	struct engine *e;
	(void)state;
	a0 = graph_add_compute(g, s0, "a0", 0, 1);
	b0 = graph_add_compute(g, s1, "b0", 0, 2);
	a1 = graph_add_compute(g, s0, "a1", 0, 1);
	graph_add_dep(g, a1, b0);
	b1 = graph_add_compute(g, s1, "b1", 0, 1);
	graph_add_dep(g, b1, a1);
	(void)a0;
	/* a0 [0,1]; b0 [0,2]; a1 waits for b0: [2,3]; b1 waits for a1: [3,4] */
	check_rel(run(g, &e), 4.0, 1e-15);
	check_rel(engine_op_start(e, b1), 3.0, 1e-15);
	engine_free(e);
	graph_free(g);
}

/* The same graph gives the same times bit for bit, and engine_step advances one event. */
static void runs_are_identical_and_steppable(void **state)
{
	double t1, t2;
	int k;
	(void)state;
	for (k = 0; k < 2; k++) {
		struct graph *g = graph_new(4);
		uint32_t link = graph_add_link(g, "switch", 300e9), i;
		uint32_t prev[4] = {0, 0, 0, 0};
		struct engine *e;
		size_t steps = 0;
		uint32_t d;
		uint32_t st[4];
		for (d = 0; d < 4; d++)
			st[d] = graph_add_stream(g, d, "s");
		for (i = 0; i < 50; i++) {
			for (d = 0; d < 4; d++) {
				uint32_t op = (i + d) % 2
					? graph_add_compute(g, st[d], "c", 0, 1e-3 * (1 + d))
					: graph_add_transfer(g, st[d], "t", 1, 1e8 * (1 + i % 3), 2e-6,
							     &link, 1);
				if (i > 0)
					graph_add_dep(g, op, prev[(d + 1) % 4]);
				prev[d] = op;
			}
		}
		e = engine_new(g);
		while (engine_step(e))
			steps++;
		assert_int_equal(steps, engine_events(e));
		if (k == 0)
			t1 = engine_now(e);
		else
			t2 = engine_now(e);
		engine_free(e);
		graph_free(g);
	}
	assert_true(t1 == t2);
	assert_true(t1 > 0);
}

/* A driver appends ops while the engine runs: b follows a finished op and starts at once; c,
 * on another stream, waits for the transfer t still under way. Times by hand: a ends at 1; b
 * runs 1..3; t (100 MB over 50 GB/s after 1 ms) runs 1..1.003; c runs 1.003..1.503. */
static void a_driver_appends_ops_while_the_engine_runs(void **state)
{
	struct graph *g = graph_new(2);
	uint32_t s0 = graph_add_stream(g, 0, "compute"), s1 = graph_add_stream(g, 1, "compute");
	uint32_t s2 = graph_add_stream(g, 0, "comm");
	uint32_t l = graph_add_link(g, "nvlink", 50e9), a, b, t, c, done[4];
	struct engine *e;
	size_t n;
	(void)state;
	a = graph_add_compute(g, s0, "a", 0, 1.0);
	e = engine_new(g);
	engine_report_done(e, true);
	assert_true(engine_step(e));
	n = engine_take_done(e, done, 4);
	assert_int_equal(n, 1);
	assert_int_equal(done[0], a);
	check_rel(engine_now(e), 1.0, 1e-15);
	b = graph_add_compute(g, s0, "b", 0, 2.0);
	graph_add_dep(g, b, a);
	t = graph_add_transfer(g, s2, "t", 1, 100e6, 1e-3, &l, 1);
	c = graph_add_compute(g, s1, "c", 0, 0.5);
	graph_add_dep(g, c, t);
	engine_sync(e);
	check_rel(engine_op_start(e, b), 1.0, 1e-15);
	assert_int_equal(engine_run(e), 0);
	check_rel(engine_op_end(e, t), 1.003, 1e-12);
	check_rel(engine_op_start(e, c), 1.003, 1e-12);
	check_rel(engine_op_end(e, c), 1.503, 1e-12);
	check_rel(engine_now(e), 3.0, 1e-15);
	n = engine_take_done(e, done, 4);
	assert_int_equal(n, 3);
	assert_int_equal(done[0], t);
	assert_int_equal(done[1], c);
	assert_int_equal(done[2], b);
	assert_int_equal(engine_take_done(e, done, 4), 0);
	engine_free(e);
	graph_free(g);
}

/* Ops appended to an engine that has not stepped yet, and to an empty graph, run like ops
 * given up front; a chain grown one op at a time ends at the sum of its durations. */
static void a_graph_grown_from_empty_runs_like_a_static_one(void **state)
{
	struct graph *g = graph_new(1);
	uint32_t s0 = graph_add_stream(g, 0, "compute"), prev, op, done[2];
	struct engine *e;
	int k;
	(void)state;
	e = engine_new(g);
	engine_report_done(e, true);
	assert_false(engine_step(e));
	prev = graph_add_compute(g, s0, "x0", 0, 0.25);
	engine_sync(e);
	for (k = 1; k < 1000; k++) {
		assert_true(engine_step(e));
		assert_int_equal(engine_take_done(e, done, 2), 1);
		assert_int_equal(done[0], prev);
		op = graph_add_compute(g, s0, "x", 0, 0.25);
		graph_add_dep(g, op, prev);
		engine_sync(e);
		prev = op;
	}
	assert_int_equal(engine_run(e), 0);
	check_rel(engine_now(e), 250.0, 1e-15);
	assert_int_equal(engine_events(e), 1000);
	engine_free(e);
	graph_free(g);
}

/* The same ops given up front, or appended to an empty graph and synced before the first step,
 * run to the same times bit for bit: the appended path keeps stream order, dependencies and
 * link sharing (four streams crossing one switch, 200 ops). */
static void appended_ops_run_as_ops_given_up_front(void **state)
{
	double end[2][200];
	int k;
	(void)state;
	for (k = 0; k < 2; k++) {
		struct graph *g = graph_new(4);
		uint32_t link = graph_add_link(g, "switch", 300e9), i, d, st[4];
		uint32_t prev[4] = {0, 0, 0, 0};
		struct engine *e = NULL;
		for (d = 0; d < 4; d++)
			st[d] = graph_add_stream(g, d, "s");
		if (k == 1)
			e = engine_new(g);
		for (i = 0; i < 50; i++) {
			for (d = 0; d < 4; d++) {
				uint32_t op = (i + d) % 2
					? graph_add_compute(g, st[d], "c", 0, 1e-3 * (1 + d))
					: graph_add_transfer(g, st[d], "t", 1, 1e8 * (1 + i % 3), 2e-6,
							     &link, 1);
				if (i > 0)
					graph_add_dep(g, op, prev[(d + 1) % 4]);
				prev[d] = op;
			}
		}
		if (k == 0)
			e = engine_new(g);
		else
			engine_sync(e);
		assert_int_equal(engine_run(e), 0);
		for (i = 0; i < 200; i++)
			end[k][i] = engine_op_end(e, i);
		engine_free(e);
		graph_free(g);
	}
	assert_memory_equal(end[0], end[1], sizeof end[0]);
}

/*
 * Contention: a 1 s compute op beside a contending 0.5 s transfer, slowdown 0.2. For the
 * transfer's 0.5 s the compute runs at 0.8 (0.4 s of work done), then the other 0.6 s at full
 * speed: it ends at 1.1 s. The same transfer on a stream that does not contend costs nothing.
 */
static void overlapped_communication_slows_compute(void **state)
{
	int contends;
	(void)state;
	for (contends = 0; contends < 2; contends++) {
		struct graph *g = graph_new(1);
		uint32_t c = graph_add_stream(g, 0, "compute"), d = graph_add_stream(g, 0, "dp");
		uint32_t l = graph_add_link(g, "nic", 1e9);
		uint32_t op = graph_add_compute(g, c, "layer", 0, 1.0);
		struct engine *e;
		graph_add_transfer(g, d, "reduce", 1, 0.5e9, 0, &l, 1);
		graph_set_slowdown(g, 0, 0.2);
		if (contends)
			graph_stream_contends(g, d);
		check_rel(run(g, &e), contends ? 1.1 : 1.0, 1e-12);
		check_rel(engine_op_end(e, op), contends ? 1.1 : 1.0, 1e-12);
		engine_free(e);
		graph_free(g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(streams_serialize_and_run_in_parallel),
		cmocka_unit_test(a_stream_keeps_issue_order),
		cmocka_unit_test(a_transfer_takes_latency_plus_bytes_over_bandwidth),
		cmocka_unit_test(concurrent_transfers_share_a_link),
		cmocka_unit_test(a_flow_speeds_up_when_its_neighbour_ends),
		cmocka_unit_test(a_path_runs_at_its_narrowest_link),
		cmocka_unit_test(a_flow_gets_what_a_bottlenecked_neighbour_leaves),
		cmocka_unit_test(two_links_share_max_min_fairly),
		cmocka_unit_test(three_links_fill_level_by_level),
		cmocka_unit_test(flows_join_and_leave_mid_transfer),
		cmocka_unit_test(a_rate_change_propagates_two_hops),
		cmocka_unit_test(allocations_follow_the_ops),
		cmocka_unit_test(crossing_dependencies_between_streams_complete),
		cmocka_unit_test(runs_are_identical_and_steppable),
		cmocka_unit_test(a_driver_appends_ops_while_the_engine_runs),
		cmocka_unit_test(a_graph_grown_from_empty_runs_like_a_static_one),
		cmocka_unit_test(appended_ops_run_as_ops_given_up_front),
		cmocka_unit_test(overlapped_communication_slows_compute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
