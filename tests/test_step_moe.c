/*
 * test_step_moe: a layer's cost for one micro-batch (step_int.h's step_costs) against counts by
 * hand, MoE layers mostly: the all-to-all's bytes under balanced, skewed, node- and
 * device-limited routing, the recomputed expert activation and norms, and DeepSeek-V3's layers
 * against DeepSeek's own profile. The step played on the engine is test_step's.
 */
#include "check.h"
#include "check_step.h"

#include <gsl/gsl_errno.h>
#include <math.h>

#include "collective.h"
#include "compute.h"
#include "layout.h"
#include "scenario.h"
#include "step_int.h"

/* A layer's pass cost on stage 0 (step_int.h): kind LAYER_DENSE or LAYER_MOE. */
static void layer_cost_of(const struct scenario *s, enum layer_kind kind, struct pass_cost *out)
{
	struct pass_cost layer[2], embed, head;
	check_step_costs(s, layer, &embed, &head);
	*out = layer[kind];
}

/* The MoE layer's. */
static void moe_cost(const struct scenario *s, struct pass_cost *moe)
{
	layer_cost_of(s, LAYER_MOE, moe);
}

/* What strategy.recompute_modules.<module> adds to the recompute of a layer of `kind`, with
 * runtime.fusion.<fusion> on (added[0]) and off (added[1]). `base` gives the model, cluster and
 * workload, and opens the strategy mapping the module key goes into. */
static void recompute_added(const char *base, const char *module, const char *fusion,
			    enum layer_kind kind, double added[2])
{
	static const char *const flag[2] = {"false", "true"};
	int off, on;
	for (off = 0; off < 2; off++) {
		double t[2];
		for (on = 0; on < 2; on++) {
			struct scenario *s = check_scenariof("rc", "%s recompute_modules: {%s: %s}}\n"
							     "runtime: {fusion: {%s: %s}}\n",
							     base, module, flag[on], fusion,
							     flag[!off]);
			struct pass_cost c;
			layer_cost_of(s, kind, &c);
			t[on] = c.recompute;
			scenario_free(s);
		}
		added[off] = t[1] - t[0];
	}
}

/*
 * Mixtral-8x7B, EP 8 inside a p5 node, 4096 tokens: a dispatch and a combine each move the
 * tokens' 2 copies of h = 4096 in BF16, 7/8 of them to other GPUs: 2 x 4096 x 4096 x 2 x 2 x
 * 7/8 = 117,440,512 bytes. With the busiest expert at twice the mean (one expert per rank) its
 * rank receives twice that, and its expert GEMMs take longer.
 */
static void moe_imbalance_loads_the_busiest_rank(void **state)
{
#define MIXTRAL(imb)                                                                         \
	"model: mixtral-8x7b\ncluster: {node: p5.48xlarge, nodes: 1}\n"                      \
	"workload: {seq_len: 4096, global_batch: 8, moe_imbalance: " imb "}\n"              \
	"strategy: {ep: 8, zero: 1}\n"
	struct scenario *even = check_scenariof("even", MIXTRAL("1"));
	struct scenario *skew = check_scenariof("skew", MIXTRAL("2"));
#undef MIXTRAL
	struct pass_cost a, b;
	(void)state;
	moe_cost(even, &a);
	moe_cost(skew, &b);
	check_rel(a.ep.bytes[LINK_CLASS_GPU], 117440512.0, 1e-12);
	check_rel(b.ep.bytes[LINK_CLASS_GPU], 2 * 117440512.0, 1e-12);
	assert_true(b.fwd > a.fwd);
	scenario_free(even);
	scenario_free(skew);
}

/*
 * strategy.recompute_modules.moe_act repeats the experts' activation before the backward as its
 * forward ran it. Mixtral-8x7B, EP 8 on a p5 node (H100: 3.35 TB/s at the preset's 0.89), 4096
 * tokens, each routed to 2 experts of ffn 14336: 4096 x 2 x 14336 = 117,440,512 elements of the
 * SwiGLU's output. Fused it reads gate and up and writes the output, 3 x 2 bytes each:
 * 704,643,072 bytes, 0.2363 ms, and one kernel's fixed 4.6 us (compute.c's kernel latency, the
 * H100 preset giving none of its own). Unfused (runtime.fusion.bias_activation false) the
 * activation's output goes out and back between its two kernels, 5 x 2 bytes: 1,174,405,120
 * bytes, 0.3939 ms, and two kernels' 9.2 us.
 */
static void recomputed_moe_activation_costs_its_forward(void **state)
{
	double added[2];
	(void)state;
	recompute_added("model: mixtral-8x7b\ncluster: {node: p5.48xlarge, nodes: 1}\n"
			"workload: {seq_len: 4096, global_batch: 8}\nstrategy: {ep: 8, zero: 1,",
			"moe_act", "bias_activation", LAYER_MOE, added);
	check_rel(added[0], 704643072.0 / (3.35e12 * 0.89) + 4.6e-6, 1e-9);
	check_rel(added[1], 1174405120.0 / (3.35e12 * 0.89) + 2 * 4.6e-6, 1e-9);
}

/*
 * strategy.recompute_modules.norm repeats both norms of a layer as the forward ran them. Llama 2
 * 7B on a p5 node (H100: 3.35 TB/s at 0.89), 4096 tokens, h = 4096: fused, each reads its input
 * and writes its output, 2 x 2 x 4096 x 4096 x 2 = 134,217,728 bytes, one kernel each; eager,
 * the five kernels' 8 passes kernels.c counts, 2 x 8 x 4096 x 4096 x 2 = 536,870,912 bytes, ten
 * kernels. Each kernel also takes compute.c's fixed 4.6 us.
 */
static void recomputed_norms_cost_their_forward(void **state)
{
	double added[2];
	(void)state;
	recompute_added("model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 1}\n"
			"workload: {seq_len: 4096, global_batch: 8}\nstrategy: {zero: 1,", "norm", "norm",
			LAYER_DENSE, added);
	check_rel(added[0], 134217728.0 / (3.35e12 * 0.89) + 2 * 4.6e-6, 1e-9);
	check_rel(added[1], 536870912.0 / (3.35e12 * 0.89) + 10 * 4.6e-6, 1e-9);
}

/*
 * strategy.recompute_modules.mlp repeats a dense MLP's GEMMs and its activation. Unfused, the
 * activation writes and reads back an intermediate of ffn width more than fused: Llama 2 7B
 * (ffn 11008) on a p5 node, 4096 tokens, 2 x 11008 x 4096 x 2 = 180,355,072 bytes more at
 * 3.35 TB/s x 0.89, and a second kernel's fixed 4.6 us (the GEMMs are the same either way).
 */
static void recomputed_mlp_activation_costs_its_forward(void **state)
{
	double added[2];
	(void)state;
	recompute_added("model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 1}\n"
			"workload: {seq_len: 4096, global_batch: 8}\nstrategy: {zero: 1,", "mlp", "bias_activation",
			LAYER_DENSE, added);
	check_rel(added[1] - added[0], 180355072.0 / (3.35e12 * 0.89) + 4.6e-6, 1e-9);
}

/*
 * DeepSeek-V3 on 8 H800 nodes, EP 64: node-limited routing (topk_group 4 of n_group 8, one
 * group per node) sends each token over InfiniBand to 4 x 7/8 = 3.5 other nodes on average; the
 * FP8 block recipe dispatches in FP8 with its 1x128 scales (1 + 4/128 bytes) and combines in
 * BF16 (report sec. 3.3.3): 4096 x 7168 x (1.03125 + 2) x 3.5 = 311,492,608 bytes per pass.
 * Over NVLink it goes once to each GPU its 8 experts lie on, drawn from the 4 groups' 128
 * experts on 32 GPUs: a GPU (4 experts) is missed with C(124,8)/C(128,8) =
 * (120 x 119 x 118 x 117)/(128 x 127 x 126 x 125) = 0.770020, so 32 x 0.229980 = 7.35937
 * GPUs, 7/8 of them another than the receiving one.
 */
static void deepseek_dispatch_is_node_limited_and_fp8(void **state)
{
	struct scenario *s = check_scenariof("v3",
		"model: deepseek-v3\ncluster: {node: h800-node, nodes: 8}\n"
		"workload: {seq_len: 4096, global_batch: 64, dtype: fp8, fp8_recipe: block}\n"
		"strategy: {ep: 64}\n");
	struct pass_cost moe;
	(void)state;
	moe_cost(s, &moe);
	check_rel(moe.ep.bytes[LINK_CLASS_NETWORK], 311492608.0, 1e-12);
	check_rel(moe.ep.bytes[LINK_CLASS_GPU], 4096 * 7168 * 3.03125 * 7.3593700787 * 7 / 8, 1e-10);
	scenario_free(s);
}

/*
 * DeepSeek's own training profile (deepseek-ai/profile-data @4496024 train.json, PyTorch profiler on
 * H800; its README: a DualPipe pair of a forward and a backward chunk of 4 MoE layers each, EP64,
 * TP1, 4K tokens, balanced routing). Its compute stream is busy 118.2 ms (907 kernels: GEMMs
 * 64.2, attention 22.0, the rest 32.0) while DeepEP's kernels, which keep 20 of the 132 SMs
 * (report sec. 3.2.2; runtime.comm_sms in the scenario), run 113.4 of its 128.5 ms. dssim's pass
 * costs for the report's scenario, 4 MoE layers forward plus 4 backward with their recompute of
 * RMSNorm and the MLA up-projections, bracket it: on all 132 SMs they take less, within 10 %,
 * on 112 more, within 15 % (DeepEP held its SMs 113.4 of the 128.5 ms, so the profile ran
 * mostly on 112; at cuDNN's measured Hopper attention rate, GPU presets [FA3], the 4 layers'
 * attention alone is 3.5 x 4 x 6.87e11 FLOPs / 504 TFLOP/s x 132/112 = 22.5 ms on 112 SMs,
 * the profile's 22.0). The dispatches and combines at dssim's link rates take between what
 * DeepEP's own benchmark of this configuration gives (docs/legacy.md, normal kernels, EP64: 51
 * GB/s dispatch, 50 GB/s combine over InfiniBand, for the 106 MB and 206 MB each GPU sends a
 * layer, 6.19 ms, 49.5 ms for the 8 passes) and the profile's kernel time, which also waits for
 * the slowest peer (113.4 ms).
 */
static void deepseek_v3_layers_take_deepseeks_profiled_time(void **state)
{
	struct scenario *s;
	struct pass_cost moe;
	struct diag d;
	double compute, shared, comm = 0;
	int k;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	s = scenario_load("scenarios/deepseek_v3_pp16_ep64_h800.yaml", NULL, &d);
	diag_print(&d, stderr);
	diag_release(&d);
	assert_non_null(s);
	assert_int_equal(s->runtime.comm_sms, 20);
	moe_cost(s, &moe);
	compute = 4 * (moe.fwd + moe.recompute + moe.bwd);
	shared = compute * 132.0 / (132.0 - 20.0);
	/* The dispatch's phases run at once: the slower class of link sets its time. */
	for (k = 0; k < 3; k++) {
		double rate = collective_rank_bandwidth(&s->cluster.node, (enum link_class)k);
		if (moe.ep.bytes[k] > 0)
			comm = fmax(comm, moe.ep.latency[k] + moe.ep.bytes[k] / rate);
	}
	comm *= 8;
	print_message("4 layers forward and backward: compute %.1f ms on 132 SMs, %.1f on 112 "
		      "(profile 118.2); all-to-all %.1f ms (49.5 to 113.4)\n", 1e3 * compute,
		      1e3 * shared, 1e3 * comm);
	assert_true(compute < 118.2e-3 && compute > 0.9 * 118.2e-3);
	assert_true(shared > 118.2e-3 && shared < 1.15 * 118.2e-3);
	assert_true(comm > 49.5e-3 && comm < 113.4e-3);
	scenario_free(s);
}

/*
 * DeepSeek-V2 with EP 8 inside one H800 node: device-limited routing (topk_group 3 of n_group 8,
 * one group per GPU; V2 report sec. 2.1.3, M = 3) sends each token once to each of at most 3
 * GPUs instead of 6 copies: a dispatch and a combine of 4096 tokens of h = 5120 in BF16, 3 x 7/8
 * copies leaving the GPU: 2 x 4096 x 5120 x 2 x 3 x 7/8 = 220,200,960 bytes.
 */
static void deepseek_v2_dispatch_is_device_limited(void **state)
{
	struct scenario *s = check_scenariof("v2",
		"model: deepseek-v2\ncluster: {node: h800-node, nodes: 1}\n"
		"workload: {seq_len: 4096, global_batch: 8}\nstrategy: {ep: 8}\n");
	struct pass_cost moe;
	(void)state;
	moe_cost(s, &moe);
	check_rel(moe.ep.bytes[LINK_CLASS_GPU], 220200960.0, 1e-12);
	check_rel(moe.ep.bytes[LINK_CLASS_NETWORK], 0, 0);
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(moe_imbalance_loads_the_busiest_rank),
		cmocka_unit_test(recomputed_moe_activation_costs_its_forward),
		cmocka_unit_test(recomputed_norms_cost_their_forward),
		cmocka_unit_test(recomputed_mlp_activation_costs_its_forward),
		cmocka_unit_test(deepseek_dispatch_is_node_limited_and_fp8),
		cmocka_unit_test(deepseek_v2_dispatch_is_device_limited),
		cmocka_unit_test(deepseek_v3_layers_take_deepseeks_profiled_time),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
