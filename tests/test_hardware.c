/*
 * test_hardware: the checks between hardware keys — GPUs derived from the nodes, GPUs that do not
 * fit, several nodes partly used, and an efficiency or bus bandwidth curve with unequal or
 * unordered points —
 * each problem reported at the position the loader gives for its key.
 */
#include "check.h"

#include "hardware.h"

static struct mark at_line_7(const void *ctx, const char *key)
{
	struct mark m = {"cluster.yaml", 7, 3};
	(void)key;
	(void)ctx;
	return m;
}

/* p4de.24xlarge-like: 8 GPUs per node. */
static struct hardware cluster(int64_t nodes, int64_t gpus)
{
	struct hardware hw;
	memset(&hw, 0, sizeof hw);
	hw.node.gpus_per_node = 8;
	hw.nodes = nodes;
	hw.gpus = gpus;
	return hw;
}

static void only_message(const struct diag *d, const char *key, const char *message)
{
	assert_int_equal(d->count, 1);
	assert_string_equal(d->items[0].key, key);
	assert_string_equal(d->items[0].message, message);
	assert_int_equal(d->items[0].at.line, 7);
}

/* gpus 0 means every GPU: 2 nodes x 8 = 16. */
static void unset_gpus_are_every_gpu_of_the_nodes(void **state)
{
	struct hardware hw = cluster(2, 0);
	struct diag d;
	(void)state;
	diag_init(&d);
	assert_int_equal(hardware_check_cluster(&hw, &d, at_line_7, NULL), 0);
	assert_int_equal(hw.gpus, 16);
	assert_int_equal(d.count, 0);
	diag_release(&d);
}

/* One node may be partly used: 4 of its 8 GPUs. */
static void part_of_one_node_may_be_used(void **state)
{
	struct hardware hw = cluster(1, 4);
	struct diag d;
	(void)state;
	diag_init(&d);
	assert_int_equal(hardware_check_cluster(&hw, &d, at_line_7, NULL), 0);
	assert_int_equal(hw.gpus, 4);
	diag_release(&d);
}

static void more_gpus_than_the_nodes_hold_are_rejected(void **state)
{
	struct hardware hw = cluster(1, 12);
	struct diag d;
	(void)state;
	diag_init(&d);
	assert_int_equal(hardware_check_cluster(&hw, &d, at_line_7, NULL), -1);
	only_message(&d, "cluster.gpus", "12 GPUs do not fit in 1 node(s) of 8");
	diag_release(&d);
}

static void several_nodes_use_every_gpu(void **state)
{
	struct hardware hw = cluster(2, 12);
	struct diag d;
	(void)state;
	diag_init(&d);
	assert_int_equal(hardware_check_cluster(&hw, &d, at_line_7, NULL), -1);
	only_message(&d, "cluster.gpus", "with 2 nodes every GPU is used (16), got 12");
	diag_release(&d);
}

static void an_efficiency_curve_needs_a_fraction_per_size(void **state)
{
	struct gpu_spec g;
	struct diag d;
	(void)state;
	memset(&g, 0, sizeof g);
	g.efficiency.gemm_flops = (struct numlist){3, {1e9, 1e11, 1e13}};
	g.efficiency.gemm_fraction = (struct numlist){2, {0.3, 0.7}};
	diag_init(&d);
	assert_int_equal(hardware_check_gpu(&g, &d, at_line_7, NULL), -1);
	only_message(&d, "cluster.node.gpu.efficiency.gemm_fraction",
		     "expected one fraction per GEMM size (3), got 2");
	diag_release(&d);
}

static void efficiency_sizes_must_ascend(void **state)
{
	struct gpu_spec g;
	struct diag d;
	(void)state;
	memset(&g, 0, sizeof g);
	g.efficiency.gemm_flops = (struct numlist){3, {1e9, 1e11, 1e10}};
	g.efficiency.gemm_fraction = (struct numlist){3, {0.3, 0.7, 0.8}};
	diag_init(&d);
	assert_int_equal(hardware_check_gpu(&g, &d, at_line_7, NULL), -1);
	only_message(&d, "cluster.node.gpu.efficiency.gemm_flops",
		     "sizes must ascend: 1e+10 after 1e+11");
	/* The same curve in order passes. */
	g.efficiency.gemm_flops = (struct numlist){3, {1e9, 1e10, 1e11}};
	diag_release(&d);
	diag_init(&d);
	assert_int_equal(hardware_check_gpu(&g, &d, at_line_7, NULL), 0);
	diag_release(&d);
}

/* A link's busbw curve: one fraction per message size, sizes ascending. */
static void a_busbw_curve_needs_a_fraction_per_size(void **state)
{
	struct hardware hw = cluster(1, 0);
	struct diag d;
	(void)state;
	hw.node.gpu_link.busbw_bytes = (struct numlist){3, {1024, 1048576, 8589934592}};
	hw.node.gpu_link.busbw_fraction = (struct numlist){2, {1e-4, 0.77}};
	diag_init(&d);
	assert_int_equal(hardware_check_cluster(&hw, &d, at_line_7, NULL), -1);
	only_message(&d, "cluster.node.links.gpu.busbw_fraction",
		     "expected one fraction per message size (3), got 2");
	diag_release(&d);
	hw.node.gpu_link.busbw_fraction = (struct numlist){3, {1e-4, 0.1, 0.77}};
	hw.node.network.busbw_bytes = (struct numlist){2, {1048576, 1024}};
	hw.node.network.busbw_fraction = (struct numlist){2, {0.05, 1e-4}};
	diag_init(&d);
	assert_int_equal(hardware_check_cluster(&hw, &d, at_line_7, NULL), -1);
	only_message(&d, "cluster.node.links.network.busbw_bytes",
		     "sizes must ascend: 1024 after 1.04858e+06");
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unset_gpus_are_every_gpu_of_the_nodes),
		cmocka_unit_test(part_of_one_node_may_be_used),
		cmocka_unit_test(more_gpus_than_the_nodes_hold_are_rejected),
		cmocka_unit_test(several_nodes_use_every_gpu),
		cmocka_unit_test(an_efficiency_curve_needs_a_fraction_per_size),
		cmocka_unit_test(efficiency_sizes_must_ascend),
		cmocka_unit_test(a_busbw_curve_needs_a_fraction_per_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
