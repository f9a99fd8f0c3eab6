/*
 * test_collective: NCCL's per-rank traffic (nccl-tests doc/PERFORMANCE.md: all-reduce
 * 2(n-1)/n, all-gather and reduce-scatter (n-1)/n of the buffer) and the hierarchical split
 * across nodes, against hand calculations on a DGX-like node.
 */
#include "check.h"

#include "collective.h"

/* 8 GPUs, 300 GB/s per GPU per direction inside, 8 x 200 Gbit/s = 200 GB/s per node outside;
 * efficiencies 0.8 and 0.9; latencies 1 us and 5 us. */
static struct node_spec node(void)
{
	struct node_spec n;
	memset(&n, 0, sizeof n);
	n.gpus_per_node = 8;
	n.gpu_link.bw = 300e9;
	n.gpu_link.efficiency = 0.8;
	n.gpu_link.latency = 1e-6;
	n.network.bw = 200e9;
	n.network.efficiency = 0.9;
	n.network.latency = 5e-6;
	return n;
}

/* 1 GB all-reduced by 8 GPUs of one node: 2*7/8 GB per rank at 240 GB/s + 14 steps of 1 us. */
static void ring_allreduce_inside_a_node(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	(void)state;
	collective_plan(&n, COLLECTIVE_ALLREDUCE, 1e9, 8, 8, &p);
	assert_int_equal(p.nphases, 1);
	check_rel(p.phase[0].bytes, 2.0 * 7 / 8 * 1e9, 1e-15);
	check_rel(collective_time(&n, &p), 1.75e9 / 240e9 + 14e-6, 1e-12);
}

/* Across 4 nodes of 8: reduce-scatter inside (7/8 GB), all-reduce of 1/8 GB between 4 nodes on
 * each GPU's 25 GB/s x 0.9 of NIC (2*3/4 * 125 MB), all-gather inside (7/8 GB). */
static void allreduce_across_nodes_is_hierarchical(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	double expect;
	(void)state;
	collective_plan(&n, COLLECTIVE_ALLREDUCE, 1e9, 32, 8, &p);
	assert_int_equal(p.nphases, 3);
	assert_int_equal(p.phase[1].link, LINK_CLASS_NETWORK);
	check_rel(p.phase[1].bytes, 2.0 * 3 / 4 * 1e9 / 8, 1e-15);
	expect = (0.875e9 / 240e9 + 7e-6) + (0.1875e9 / 22.5e9 + 6 * 5e-6) +
		 (0.875e9 / 240e9 + 7e-6);
	check_rel(collective_time(&n, &p), expect, 1e-12);
}

/* All-to-all across 2 nodes of 8 (16 ranks): 7/16 of the buffer inside, 8/16 outside, at once. */
static void alltoall_sends_inside_and_outside_at_once(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	(void)state;
	collective_plan(&n, COLLECTIVE_ALLTOALL, 1.6e9, 16, 8, &p);
	assert_true(p.concurrent);
	check_rel(p.phase[0].bytes, 1.6e9 * 7 / 16, 1e-15);
	check_rel(p.phase[1].bytes, 1.6e9 * 8 / 16, 1e-15);
	check_rel(collective_time(&n, &p), 0.8e9 / 22.5e9 + 5e-6, 1e-12);
}

/* Small messages across many nodes take the tree: 1 MB all-reduced over 64 nodes of 8. The
 * ring would pay 2*63 steps of 5 us (630 us); the tree 2*ceil(log2 64) = 12 (60 us) for 2S
 * instead of 2*63/64 S of the 1/8 MB each GPU carries. */
static void small_messages_across_many_nodes_take_the_tree(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	(void)state;
	collective_plan(&n, COLLECTIVE_ALLREDUCE, 1e6, 512, 8, &p);
	assert_int_equal(p.nphases, 3);
	check_rel(p.phase[1].latency, 12 * 5e-6, 1e-12);
	check_rel(p.phase[1].bytes, 2 * 1e6 / 8, 1e-12);
}

static void a_single_rank_moves_nothing(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	(void)state;
	collective_plan(&n, COLLECTIVE_ALLREDUCE, 1e9, 1, 1, &p);
	assert_int_equal(p.nphases, 0);
	check_rel(collective_time(&n, &p), 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_allreduce_inside_a_node),
		cmocka_unit_test(allreduce_across_nodes_is_hierarchical),
		cmocka_unit_test(alltoall_sends_inside_and_outside_at_once),
		cmocka_unit_test(small_messages_across_many_nodes_take_the_tree),
		cmocka_unit_test(a_single_rank_moves_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
