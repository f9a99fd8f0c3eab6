/*
 * test_collective: NCCL's per-rank traffic (nccl-tests doc/PERFORMANCE.md: all-reduce
 * 2(n-1)/n, all-gather and reduce-scatter (n-1)/n of the buffer), the hierarchical split across
 * nodes, and the time by message size from a published all_reduce_perf bus bandwidth curve:
 * t = 2(n-1)/n * S / busbw, worked by hand below.
 */
#include "check.h"

#include "collective.h"
#include "scenario.h"

/* Azure/AI-benchmarking-guide Azure_Results/ND_A100_v4_results.md
 * @8fd0c6e1bd0f853ef8f0500a3640a7d80a2a92ef, "NCCL Bandwidth": 8x A100 all_reduce busbw in GB/s
 * at 1 KiB, 4 KiB, ..., 8 GiB (the shipped A100 presets carry the same table). */
static const double sizes[] = {1024, 4096, 16384, 65536, 262144, 1048576, 2097152, 4194304,
			       8388608, 16777216, 33554432, 67108864, 134217728, 268435456,
			       1073741824, 8589934592};
static const double busbw[] = {0.04, 0.17, 0.67, 2.70, 10.11, 36.22, 53.54, 71.43, 89.99,
			       109.22, 132.77, 166.63, 174.18, 213.87, 228.10, 231.58};

/* 8 GPUs, 300 GB/s per GPU per direction inside, 8 x 200 Gbit/s = 200 GB/s per node outside;
 * efficiencies 0.8 and 0.9 with a one-point curve each (the same fraction at every size);
 * latencies 1 us and 5 us. */
static struct node_spec node(void)
{
	struct node_spec n;
	memset(&n, 0, sizeof n);
	n.gpus_per_node = 8;
	n.gpu_link.bw = 300e9;
	n.gpu_link.efficiency = 0.8;
	n.gpu_link.latency = 1e-6;
	n.gpu_link.busbw_bytes = (struct numlist){1, {1}};
	n.gpu_link.busbw_fraction = (struct numlist){1, {0.8}};
	n.network.bw = 200e9;
	n.network.efficiency = 0.9;
	n.network.latency = 5e-6;
	n.network.busbw_bytes = (struct numlist){1, {1}};
	n.network.busbw_fraction = (struct numlist){1, {0.9}};
	return n;
}

/* The A100 node with the published curve on its GPU link and no efficiency of its own. */
static struct node_spec a100(void)
{
	struct node_spec n = node();
	int i;
	n.gpu_link.efficiency = 0;
	n.gpu_link.busbw_bytes.n = n.gpu_link.busbw_fraction.n = 16;
	for (i = 0; i < 16; i++) {
		n.gpu_link.busbw_bytes.v[i] = sizes[i];
		n.gpu_link.busbw_fraction.v[i] = busbw[i] / 300;
	}
	return n;
}

static double allreduce_time(const struct node_spec *n, double bytes, int64_t ranks)
{
	struct collective_plan p;
	collective_plan(n, COLLECTIVE_ALLREDUCE, bytes, ranks, ranks, &p);
	return collective_time(n, &p);
}

/* 1 GB all-reduced by 8 GPUs of one node at a flat 0.8: 2*7/8 GB per rank at 240 GB/s; the
 * curve holds the latency, so nothing is added. */
static void ring_allreduce_inside_a_node(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	(void)state;
	collective_plan(&n, COLLECTIVE_ALLREDUCE, 1e9, 8, 8, &p);
	assert_int_equal(p.nphases, 1);
	check_rel(p.phase[0].bytes, 2.0 * 7 / 8 * 1e9, 1e-15);
	check_rel(p.phase[0].latency, 0, 0);
	check_rel(collective_time(&n, &p), 1.75e9 / 240e9, 1e-12);
}

/* The published points, 8 GPUs: 1 KiB at 0.04 GB/s takes 1.75 * 1024 / 0.04e9 = 44.8 us;
 * 16 MiB at 109.22 GB/s takes 1.75 * 16777216 / 109.22e9 = 268.8 us; 8 GiB at 231.58 GB/s
 * takes 1.75 * 8589934592 / 231.58e9 = 64.91 ms. */
static void allreduce_takes_the_published_time_at_each_size(void **state)
{
	struct node_spec n = a100();
	(void)state;
	check_rel(allreduce_time(&n, 1024, 8), 44.8e-6, 1e-12);
	check_rel(allreduce_time(&n, 16777216, 8), 1.75 * 16777216 / 109.22e9, 1e-12);
	check_rel(allreduce_time(&n, 16777216, 8), 268.8e-6, 1e-3);
	check_rel(allreduce_time(&n, 8589934592, 8), 64.91e-3, 1e-3);
}

/* Below the smallest measured size the time stays at the smallest's: an 8-byte all-reduce on
 * 8 GPUs takes the 44.8 us of 1 KiB, the launch and step latency of NCCL on that node. */
static void tiny_allreduce_takes_the_launch_latency(void **state)
{
	struct node_spec n = a100();
	(void)state;
	check_rel(allreduce_time(&n, 8, 8), 44.8e-6, 1e-12);
}

/* Between measured sizes, a power law: at sqrt(1 MiB * 2 MiB) the busbw is the geometric mean
 * sqrt(36.22 * 53.54) = 44.04 GB/s. */
static void busbw_interpolates_on_log_size(void **state)
{
	struct node_spec n = a100();
	double s = sqrt(1048576.0 * 2097152.0);
	(void)state;
	check_rel(collective_busbw_fraction(&n, LINK_CLASS_GPU, s), sqrt(36.22 * 53.54) / 300,
		  1e-12);
	check_rel(allreduce_time(&n, s, 8), 1.75 * s / (sqrt(36.22 * 53.54) * 1e9), 1e-12);
}

/* efficiency caps the curve: at 0.7 of 300 GB/s, 8 GiB takes 1.75 * 8 GiB / 210e9. The engine
 * gives the link the capped rate and the phase the rest of its time as latency. */
static void efficiency_caps_the_curve(void **state)
{
	struct node_spec n = a100();
	struct collective_plan p;
	(void)state;
	n.gpu_link.efficiency = 0.7;
	check_rel(allreduce_time(&n, 8589934592, 8), 1.75 * 8589934592 / 210e9, 1e-12);
	check_rel(collective_rank_bandwidth(&n, LINK_CLASS_GPU), 210e9, 1e-12);
	collective_plan(&n, COLLECTIVE_ALLREDUCE, 1024, 8, 8, &p);
	check_rel(p.phase[0].latency, 44.8e-6 - 1.75 * 1024 / 210e9, 1e-12);
}

/* Two GPUs of the node read the 8-GPU curve at the size with their chunk: 16 MiB on 2 ranks
 * moves 8 MiB per step, as 64 MiB does on 8, so busbw 166.63 GB/s and 1 * 16 MiB / 166.63e9;
 * and they keep the fixed latency the step reading drops: of the 44.8 us the curve measures at
 * 1 KiB on 8, NCCL's model (base + steps x hwLat) sheds only 2 x (8 - 2) steps of the link's
 * 1 us, so 6/7 x 44.8 - 12 = 26.4 us are added. */
static void smaller_group_reads_the_curve_at_its_chunk(void **state)
{
	struct node_spec n = a100();
	(void)state;
	check_rel(allreduce_time(&n, 16777216, 2), 16777216 / 166.63e9 + (6.0 / 7 * 44.8 - 12) * 1e-6,
		  1e-12);
}

/* A tiny all-reduce on 4 of the 8 GPUs: 256 B read at 512 B, below the curve's 1 KiB, takes 3/7
 * of its 44.8 us by the step reading, 19.2 us; NCCL's model keeps the base: 44.8 us less the
 * 2 x (8 - 4) steps of 1 us a ring of 4 does not make, 36.8 us. On all 8 the time below the
 * smallest size is flat: 44.8 us. */
static void a_smaller_group_keeps_the_fixed_latency(void **state)
{
	struct node_spec n = a100();
	(void)state;
	check_rel(allreduce_time(&n, 256, 4), 44.8e-6 - 8e-6, 1e-12);
	check_rel(allreduce_time(&n, 256, 8), 44.8e-6, 1e-12);
}

/* A node without curves takes the fallback, and says so; the host link has none. The GPU
 * fallback is the same Azure A100 measurement: 44.8 us at 1 KiB on 300 GB/s. */
static void the_fallback_curve_is_flagged(void **state)
{
	struct node_spec n = a100(), bare;
	(void)state;
	memset(&bare, 0, sizeof bare);
	bare.gpus_per_node = 8;
	bare.gpu_link.bw = 300e9;
	bare.network.bw = 200e9;
	assert_false(collective_uses_fallback(&n, LINK_CLASS_GPU));
	assert_true(collective_uses_fallback(&bare, LINK_CLASS_GPU));
	assert_true(collective_uses_fallback(&bare, LINK_CLASS_NETWORK));
	assert_false(collective_uses_fallback(&bare, LINK_CLASS_PCIE));
	assert_non_null(strstr(collective_fallback_source(LINK_CLASS_GPU), "A100"));
	check_rel(allreduce_time(&bare, 1024, 8), 44.8e-6, 1e-12);
}

/* The fallback keeps its measured times on another link: 2 GPUs on a 32 GB/s PCIe link read the
 * A100 curve at 8 B * 8/2 = 32 B, below its smallest size, so the step reading gives (2-1)/(8-1)
 * of its 44.8 us, 6.4 us, and the fixed part stays (the link gives no per-step latency, so all
 * of it): 44.8 us. 1 GiB is held to 0.77 * 32 GB/s: 1 * 1 GiB / 24.64e9 = 43.58 ms, plus the
 * same 38.4 us. */
static void the_fallback_keeps_its_latency_on_a_slower_link(void **state)
{
	struct node_spec n;
	(void)state;
	memset(&n, 0, sizeof n);
	n.gpus_per_node = 2;
	n.gpu_link.kind = LINK_PCIE;
	n.gpu_link.bw = 32e9;
	check_rel(allreduce_time(&n, 8, 2), 44.8e-6, 1e-12);
	check_rel(allreduce_time(&n, 1073741824, 2), 1073741824 / 24.64e9 + 6.0 / 7 * 44.8e-6,
		  1e-12);
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
	/* Its 4 nodes are 2 more than the network curve's: NCCL's Simple ring pays 2 x 2 x (7 x
	 * 3.4 + 14) us more (see ring_latency_grows_with_the_nodes). */
	expect = 0.875e9 / 240e9 + 0.1875e9 / 22.5e9 + 151.2e-6 + 0.875e9 / 240e9;
	check_rel(collective_time(&n, &p), expect, 1e-12);
}

/*
 * NCCL's latency model (src/graph/tuning.cc): a ring of k GPUs on each of N nodes takes N(k-1)
 * steps inside the nodes and N-1 over the network (twice as many for an all-reduce), at hwLat
 * per step: NVLink ring LL 0.6, LL128 1.9, Simple 3.4 us, raised to the network's overhead of
 * 1 us (x3 for Simple) when the ring leaves the node; NET ring 2.7, 4.0, 14 us (the tree's 5.0,
 * 8.5, 14 with one GPU per node). A network curve measured on 2 nodes already holds 2 nodes'
 * steps; each protocol pays its extra steps and moves the bytes at its share of the rate (LL
 * 1/2, LL128 0.92, Simple 1), and NCCL takes the fastest. node(): 22.5 GB/s per GPU outside.
 */
static double network_latency(const struct node_spec *n, enum collective_kind kind, double bytes,
			      int64_t ranks, int64_t per_node)
{
	struct collective_plan p;
	int i;
	collective_plan(n, kind, bytes, ranks, per_node, &p);
	for (i = 0; i < p.nphases; i++)
		if (p.phase[i].link == LINK_CLASS_NETWORK)
			return p.phase[i].latency;
	fail();
	return 0;
}

static void ring_latency_grows_with_the_nodes(void **state)
{
	struct node_spec n = node();
	double small = 127.0 / 128 * 8192 / 8;
	(void)state;
	/* All-gather of 8 KiB over 128 nodes of 8: LL, 126 x (7 x 1 + 2.7) us, and its 1,016
	 * bytes per GPU at half the rate, 1016 / 22.5e9 s more than at the full rate. */
	check_rel(network_latency(&n, COLLECTIVE_ALLGATHER, 8192, 1024, 8),
		  126 * 9.7e-6 + small / 22.5e9, 1e-12);
	/* 10 GB: Simple, 126 x (7 x 3.4 + 14) us = 4.7628 ms; LL128 would pay 126 x (7 x 1.9 +
	 * 4) us = 2.18 ms but 8 % more of the 55.1 ms its 1.24 GB per GPU take, 4.8 ms. */
	check_rel(network_latency(&n, COLLECTIVE_REDUCESCATTER, 1e10, 1024, 8), 4.7628e-3, 1e-12);
	/* One GPU per node: every step crosses the network at the tree's hwLat, 126 x 5 us. */
	check_rel(network_latency(&n, COLLECTIVE_ALLGATHER, 8192, 128, 1),
		  126 * 5e-6 + 127.0 / 128 * 8192 / 22.5e9, 1e-12);
	/* An all-reduce takes the tree: 2 (log2 128 - log2 2) x 5 us of LL, and its 2 x 127/128 x
	 * 1 KiB per GPU at 0.92 / 3.8 of the rate; the ring's LL would pay 2 x 126 x 9.7 us. */
	check_rel(network_latency(&n, COLLECTIVE_ALLREDUCE, 8192, 1024, 8),
		  60e-6 + 2 * small / 22.5e9 * (3.8 / 0.92 - 1), 1e-12);
	/* A curve measured on 128 nodes holds their latency already. */
	n.network.busbw_nodes = 128;
	assert_true(network_latency(&n, COLLECTIVE_ALLGATHER, 8192, 1024, 8) == 0);
}

/* All-to-all across 2 nodes of 8 (16 ranks): 7/16 of the buffer inside, 8/16 outside, at once,
 * each with its per-step latency (all_reduce_perf does not measure all-to-all). */
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

/*
 * DeepSeek-V3's dispatch (report sec. 3.2.2) of 4096 tokens of h = 7168 in BF16, one copy
 * 58,720,256 bytes, top 8 experts on at most 4 of the 8 nodes of EP 64: over InfiniBand each
 * token goes once to each reached node but the sender's, 4 x 7/8 = 3.5 copies, 205,520,896
 * bytes (NCCL's all-to-all sends each of the 8 copies, 7 of 8 to other nodes: twice that);
 * over NVLink 8 x 7/8 copies, 411,041,792 bytes. The network phase is the longer: at 22.5 GB/s
 * per GPU, 9.134 ms and 7 steps of 5 us.
 */
static void node_limited_dispatch_crosses_infiniband_once_per_node(void **state)
{
	struct node_spec n = node();
	struct collective_plan p, flat;
	(void)state;
	collective_plan_node_limited(&n, 58720256.0, 8, 4, 64, 8, &p);
	assert_true(p.concurrent);
	assert_int_equal(p.nphases, 2);
	assert_int_equal(p.phase[0].link, LINK_CLASS_GPU);
	check_rel(p.phase[0].bytes, 411041792.0, 1e-15);
	assert_int_equal(p.phase[1].link, LINK_CLASS_NETWORK);
	check_rel(p.phase[1].bytes, 205520896.0, 1e-15);
	check_rel(collective_time(&n, &p), 205520896.0 / 22.5e9 + 7 * 5e-6, 1e-12);
	collective_plan(&n, COLLECTIVE_ALLTOALL, 8 * 58720256.0, 64, 8, &flat);
	check_rel(flat.phase[1].bytes, 2 * 205520896.0, 1e-15);
}

/*
 * Qwen3-30B-A3B's routing (128 experts, top 8, no groups) over EP 16 on 2 nodes of 8, one copy
 * of the rank's tokens 1e8 bytes. A token misses a node when all 8 of its experts are among the
 * other node's 64: C(64,8)/C(128,8) = 4,426,165,368 / 1,429,702,652,400 = 0.0030959, so it
 * reaches 2 (1 - 0.0030959) = 1.9938 nodes; it misses a GPU (8 experts) with
 * C(120,8)/C(128,8) = 840,261,910,995 / 1,429,702,652,400 = 0.58772 and reaches
 * 16 (1 - 0.58772) = 6.5965 GPUs. DeepEP's dispatch (strategy.moe_dispatcher deepep) sends it
 * over InfiniBand to the reached nodes but its own, 1.9938 / 2 = 0.9969 copies, and over NVLink
 * to the reached GPUs, 6.5965 x 7/8 = 5.7719 copies; Megatron's all-to-all sends each of the 8
 * copies, half of them, 4, to the other node.
 */
static void deepep_sends_a_token_once_per_node_and_gpu(void **state)
{
	struct node_spec n = node();
	struct moe_route r = {.copies = 8, .top_k = 8, .experts = 128, .dedup = true};
	struct collective_plan p;
	(void)state;
	check_rel(collective_routed_units(128, 8, 2), 1.9938082714, 1e-9);
	check_rel(collective_routed_units(128, 8, 16), 6.5965128110, 1e-9);
	/* One expert per unit and as many chosen as there are units: every unit is reached. */
	check_rel(collective_routed_units(8, 8, 8), 8, 1e-15);
	/* More units than experts (replicas over 144 GPUs): still no more than the 8 chosen. */
	check_rel(collective_routed_units(128, 8, 144), 8, 1e-15);
	collective_plan_routed(&n, 1e8, &r, 16, 8, &p);
	assert_int_equal(p.nphases, 2);
	assert_int_equal(p.phase[0].link, LINK_CLASS_GPU);
	check_rel(p.phase[0].bytes, 1e8 * 6.5965128110 * 7 / 8, 1e-9);
	assert_int_equal(p.phase[1].link, LINK_CLASS_NETWORK);
	check_rel(p.phase[1].bytes, 1e8 * 1.9938082714 / 2, 1e-9);
	/* EP 8 inside one node: C(112,8)/C(128,8) = 0.33258 of tokens miss a GPU of 16 experts,
	 * so 8 (1 - 0.33258) = 5.3394 GPUs get one copy, 7/8 of them another GPU. */
	collective_plan_routed(&n, 1e8, &r, 8, 8, &p);
	assert_int_equal(p.nphases, 1);
	check_rel(p.phase[0].bytes, 1e8 * 5.3393568954 * 7 / 8, 1e-9);
	r.dedup = false;
	collective_plan_routed(&n, 1e8, &r, 16, 8, &p);
	check_rel(p.phase[1].bytes, 1e8 * 4, 1e-15);
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

/* The shipped nd-h100-v5 preset carries the Azure ND H100 v5 table (Azure/AI-benchmarking-guide
 * Azure_Results/ND_H100_v5_results.md @8fd0c6e1): 8 GPUs at 1 KiB, 0.07 GB/s, take
 * 1.75 * 1024 / 0.07e9 = 25.6 us, and so does an 8-byte all-reduce (NCCL's launch and step
 * latency on that node); 16 MiB at 234.45 GB/s takes 1.75 * 16777216 / 234.45e9 = 125.2 us;
 * 8 GiB reaches 478.87 GB/s with NVLS, above the 0.82 * 450 = 369 GB/s ring cap the preset
 * sets, so 1.75 * 8 GiB / 369e9 = 40.74 ms. The preset rounds fractions to 4 digits: 1e-3. */
static void the_h100_preset_takes_the_published_times(void **state)
{
	struct scenario *s = check_scenario("collective_h100",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: nd-h100-v5}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8}\n");
	const struct node_spec *n = &s->cluster.node;
	(void)state;
	assert_false(collective_uses_fallback(n, LINK_CLASS_GPU));
	assert_false(collective_uses_fallback(n, LINK_CLASS_NETWORK));
	check_rel(allreduce_time(n, 1024, 8), 25.6e-6, 1e-3);
	check_rel(allreduce_time(n, 8, 8), 25.6e-6, 1e-3);
	check_rel(allreduce_time(n, 16777216, 8), 125.2e-6, 1e-3);
	check_rel(allreduce_time(n, 8589934592, 8), 40.74e-3, 1e-3);
	scenario_free(s);
}

/* The NDR network curve the H100 presets carry (nccl-tests issue #309: all_reduce_perf with
 * NCCL_ALGO=Ring on 2 nodes of 8x H100, 8 x 400 Gb/s): a ring of one GPU on each of 2 nodes moves
 * 2(n-1)/n = 1 times the buffer through a rank, over its NIC's 50 GB/s times the measured
 * fraction: 256 MiB at 370.18 of 400 GB/s takes 268435456 / (50e9 * 0.9254) = 5.8015 ms;
 * 8 GiB, measured at 392.30, is held to the preset's 0.94 efficiency (the NCCL maintainer's
 * 46-48 GB/s per NIC, nccl-tests #290): 8589934592 / (50e9 * 0.94) = 182.77 ms. */
static void ndr_nodes_take_the_measured_ring_times(void **state)
{
	struct scenario *s = check_scenario("collective_ndr",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: dgx-h100, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8}\n");
	const struct node_spec *n = &s->cluster.node;
	struct collective_plan p;
	(void)state;
	assert_false(collective_uses_fallback(n, LINK_CLASS_NETWORK));
	collective_plan(n, COLLECTIVE_ALLREDUCE, 268435456.0, 2, 1, &p);
	assert_int_equal(p.nphases, 1);
	assert_int_equal(p.phase[0].link, LINK_CLASS_NETWORK);
	check_rel(collective_time(n, &p), 268435456.0 / (50e9 * 0.9254), 1e-3);
	collective_plan(n, COLLECTIVE_ALLREDUCE, 8589934592.0, 2, 1, &p);
	check_rel(collective_time(n, &p), 8589934592.0 / (50e9 * 0.94), 1e-3);
	scenario_free(s);
}

/* Across 2 nodes of p5.48xlarge (the preset carries aws-samples/awsome-distributed-training's
 * 2x p5 all_reduce_perf run, micro-benchmarks/nccl-tests/README.md @0162aacd): 8 bytes take the
 * reduce-scatter and all-gather inside (half of the 25.6 us NVLink all-reduce each, 12.8 us)
 * and the network all-reduce of 1 byte per GPU at 400/8 GB/s x busbw fraction 1.875 * 8 /
 * (72.43 us * 400 GB/s): 72.43 / 1.875 = 38.63 us; 64.23 us in all, below the measured 72.43 us
 * as the hierarchical split moves 1/1.875 of the ring's bytes on 2 nodes. */
static void a_tiny_allreduce_across_two_p5_nodes(void **state)
{
	struct scenario *s = check_scenario("collective_p5",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8}\n");
	const struct node_spec *n = &s->cluster.node;
	struct collective_plan p;
	(void)state;
	assert_false(collective_uses_fallback(n, LINK_CLASS_NETWORK));
	collective_plan(n, COLLECTIVE_ALLREDUCE, 8, 16, 8, &p);
	assert_int_equal(p.nphases, 3);
	check_rel(p.phase[1].latency +
			  p.phase[1].bytes / collective_rank_bandwidth(n, LINK_CLASS_NETWORK),
		  38.63e-6, 1e-3);
	check_rel(collective_time(n, &p), 64.23e-6, 1e-3);
	scenario_free(s);
}

/*
 * The custom all-reduce kernels of serving engines take their measured latency (sgl-project/
 * sglang PR #2904, H100 SXM, float32 elements): vLLM's kernel on 4 GPUs at 4096 elements =
 * 16 KiB took 8.5 us; on 6 GPUs at 32768 elements = 128 KiB halfway between 4 GPUs' 9.2 us and
 * 8 GPUs' 11.8 us, 10.5 us; TensorRT-LLM's on 2 GPUs at 1M elements = 4 MiB 19.9 us, twice that
 * at 8 MiB. The 300 GB/s link of node() moves 1.5 * 16 KiB in 0.1 us: the measurement rules.
 * Not on PCIe, not on an odd group.
 */
static void custom_allreduce_takes_the_measured_latency(void **state)
{
	struct node_spec n = node();
	struct collective_plan p;
	(void)state;
	n.gpu_link.kind = LINK_NVLINK;
	assert_true(collective_custom_allreduce(&n, COLLECTIVE_CUSTOM_VLLM, 16384, 4, &p));
	assert_int_equal(p.nphases, 1);
	check_rel(p.phase[0].bytes, 1.5 * 16384, 1e-12);
	check_rel(collective_time(&n, &p), 8.5e-6, 1e-9);
	assert_true(collective_custom_allreduce(&n, COLLECTIVE_CUSTOM_VLLM, 131072, 6, &p));
	check_rel(collective_time(&n, &p), 10.5e-6, 1e-9);
	assert_true(collective_custom_allreduce(&n, COLLECTIVE_CUSTOM_TRTLLM, 4194304, 2, &p));
	check_rel(collective_time(&n, &p), 19.9e-6, 1e-9);
	assert_true(collective_custom_allreduce(&n, COLLECTIVE_CUSTOM_TRTLLM, 8388608, 2, &p));
	check_rel(collective_time(&n, &p), 39.8e-6, 1e-9);
	/* Below NCCL's time for the same message on the A100 curve (tens of us). */
	n = a100();
	assert_true(8.5e-6 < allreduce_time(&n, 16384, 4));
	n.gpu_link.kind = LINK_NVLINK;
	assert_false(collective_custom_allreduce(&n, COLLECTIVE_CUSTOM_VLLM, 16384, 3, &p));
	n.gpu_link.kind = LINK_PCIE;
	assert_false(collective_custom_allreduce(&n, COLLECTIVE_CUSTOM_VLLM, 16384, 4, &p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_allreduce_inside_a_node),
		cmocka_unit_test(allreduce_takes_the_published_time_at_each_size),
		cmocka_unit_test(tiny_allreduce_takes_the_launch_latency),
		cmocka_unit_test(busbw_interpolates_on_log_size),
		cmocka_unit_test(efficiency_caps_the_curve),
		cmocka_unit_test(smaller_group_reads_the_curve_at_its_chunk),
		cmocka_unit_test(a_smaller_group_keeps_the_fixed_latency),
		cmocka_unit_test(the_fallback_curve_is_flagged),
		cmocka_unit_test(the_fallback_keeps_its_latency_on_a_slower_link),
		cmocka_unit_test(allreduce_across_nodes_is_hierarchical),
		cmocka_unit_test(ring_latency_grows_with_the_nodes),
		cmocka_unit_test(alltoall_sends_inside_and_outside_at_once),
		cmocka_unit_test(node_limited_dispatch_crosses_infiniband_once_per_node),
		cmocka_unit_test(deepep_sends_a_token_once_per_node_and_gpu),
		cmocka_unit_test(a_single_rank_moves_nothing),
		cmocka_unit_test(the_h100_preset_takes_the_published_times),
		cmocka_unit_test(ndr_nodes_take_the_measured_ring_times),
		cmocka_unit_test(a_tiny_allreduce_across_two_p5_nodes),
		cmocka_unit_test(custom_allreduce_takes_the_measured_latency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
