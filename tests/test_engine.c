/*
 * test_engine: the engine against hand-computed timelines — stream order, dependencies, link
 * sharing under the flow model, latency, memory over time, deadlock detection, determinism.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(streams_serialize_and_run_in_parallel),
		cmocka_unit_test(a_stream_keeps_issue_order),
		cmocka_unit_test(a_transfer_takes_latency_plus_bytes_over_bandwidth),
		cmocka_unit_test(concurrent_transfers_share_a_link),
		cmocka_unit_test(a_flow_speeds_up_when_its_neighbour_ends),
		cmocka_unit_test(a_path_runs_at_its_narrowest_link),
		cmocka_unit_test(allocations_follow_the_ops),
		cmocka_unit_test(crossing_dependencies_between_streams_complete),
		cmocka_unit_test(runs_are_identical_and_steppable),
		cmocka_unit_test(a_driver_appends_ops_while_the_engine_runs),
		cmocka_unit_test(a_graph_grown_from_empty_runs_like_a_static_one),
		cmocka_unit_test(appended_ops_run_as_ops_given_up_front),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
