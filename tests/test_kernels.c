/*
 * test_kernels: the memory-bound kernels of a training layer, counted by hand for a Llama-2-7B
 * layer (hidden 4096, 32 heads of 128 = 32 KV heads, SwiGLU of 11008, RoPE, no bias or
 * dropout) over 4096 tokens in bf16 with flash attention, tp 1.
 */
#include "check.h"

#include "compute.h"
#include "kernels.h"
#include "step.h"

static struct scenario *layer(const char *fusion)
{
	return check_scenariof("kernels",
		"model: {layers: 1, hidden: 4096, heads: 32, kv_heads: 32, ffn: 11008,\n"
		"        vocab: 32000, mlp: swiglu, position: rope, norm: rmsnorm}\n"
		"cluster: {gpus: 1, node: {gpus_per_node: 1, gpu: {memory: 80 GiB,\n"
		"          memory_bw: 2 TB/s, flops: {bf16: 312 TFLOPS}}}}\n"
		"workload: {seq_len: 4096, micro_batch: 1, global_batch: 1, dtype: bf16,\n"
		"           flash_attention: true}\n"
		"runtime: {fusion: %s}\n", fusion);
}

/*
 * Fused (Megatron-Core with Transformer Engine): two norms with their residual adds, 4 kernels
 * of 10 h elements a token (read x and the residual, write the sum; read it, write the norm);
 * one RoPE kernel over q and k, 2 x (4096 + 4096); one SwiGLU kernel, 3 x 11008; and the GEMMs
 * (QKV, projection, fc1, fc2) and the attention kernel: 11 launches. At 2 bytes over 4096
 * tokens: (40960 + 16384 + 33024) x 4096 x 2 = 740,294,656 bytes. The backward moves twice
 * that in twice the launches.
 */
static void a_fused_layer_by_hand(void **state)
{
	struct scenario *s = layer("{norm: true, bias_activation: true, rope: true}");
	struct kernel_cost k;
	(void)state;
	kernels_layer(s, LAYER_DENSE, 4096, 1, false, &k);
	check_rel(k.fwd_bytes, 740294656.0, 1e-12);
	check_rel(k.fwd_kernels, 11, 0);
	check_rel(k.bwd_bytes, 2 * 740294656.0, 1e-12);
	check_rel(k.bwd_kernels, 22, 0);
	scenario_free(s);
}

/*
 * Eager PyTorch: each norm is five kernels of 8 h elements with a separate add of 3 h (12
 * launches, 22 h); rotate_half RoPE five kernels per tensor making 8 passes of q and k (10
 * launches, 65536 elements); SiLU then the product, 5 x 11008 in 2 launches; 5 GEMM and
 * attention launches. (90112 + 65536 + 55040) x 4096 x 2 = 1,725,956,096 bytes in 29 launches.
 */
static void an_eager_layer_by_hand(void **state)
{
	struct scenario *s = layer("{norm: false, bias_activation: false, rope: false}");
	struct kernel_cost k;
	(void)state;
	kernels_layer(s, LAYER_DENSE, 4096, 1, false, &k);
	check_rel(k.fwd_bytes, 1725956096.0, 1e-12);
	check_rel(k.fwd_kernels, 29, 0);
	scenario_free(s);
}

/* A GPT layer with biases (hidden 4096, 32 heads, GELU MLP of 16384) in eager PyTorch. */
static struct scenario *biased_layer(const char *linear_bias)
{
	return check_scenariof("kernels_bias",
		"model: {layers: 1, hidden: 4096, heads: 32, kv_heads: 32, ffn: 16384, vocab: 32000,\n"
		"        mlp: gelu, position: learned, max_position: 4096, norm: layernorm,\n"
		"        bias: true}\n"
		"cluster: {gpus: 1, node: {gpus_per_node: 1, gpu: {memory: 80 GiB,\n"
		"          memory_bw: 2 TB/s, flops: {bf16: 312 TFLOPS}}}}\n"
		"workload: {seq_len: 4096, micro_batch: 1, global_batch: 1, dtype: bf16,\n"
		"           flash_attention: true}\n"
		"runtime: {fusion: {norm: false, bias_activation: false, rope: false,\n"
		"          linear_bias: %s}}\n", linear_bias);
}

/*
 * The Linears' biases. As kernels of their own they read and write the QKV output (h + 2 kv =
 * 12288), the two h-wide outputs of the projection and fc2 (4096 each) and fc1's (16384) a
 * token: 2 x 36864 x 4096 tokens x 2 bytes = 603,979,776 bytes in 4 launches forward, twice
 * that in 8 backward. In cuBLASLt's epilogue (eager PyTorch from 1.12) they cost nothing
 * forward and, backward, 4 reductions reading each gradient once: 301,989,888 bytes. The two
 * differ by 603,979,776 bytes and 4 launches forward, 2 x 603,979,776 - 301,989,888 =
 * 905,969,664 bytes and 8 - 4 launches backward.
 */
/* Layer x costs this many more bytes and launches than layer y, forward ({bytes, launches})
 * and backward; both scenarios are freed. */
static void check_extra(struct scenario *x, struct scenario *y, enum layer_kind kind,
			double tokens, const double fwd[2], const double bwd[2])
{
	struct kernel_cost a, b;
	kernels_layer(x, kind, tokens, 1, false, &a);
	kernels_layer(y, kind, tokens, 1, false, &b);
	check_rel(a.fwd_bytes - b.fwd_bytes, fwd[0], 1e-12);
	check_rel(a.fwd_kernels - b.fwd_kernels, fwd[1], 0);
	check_rel(a.bwd_bytes - b.bwd_bytes, bwd[0], 1e-12);
	check_rel(a.bwd_kernels - b.bwd_kernels, bwd[1], 0);
	scenario_free(x);
	scenario_free(y);
}

static void a_bias_in_the_gemm_epilogue_costs_only_its_gradient(void **state)
{
	const double fwd[2] = {603979776.0, 4}, bwd[2] = {905969664.0, 4};
	(void)state;
	check_extra(biased_layer("false"), biased_layer("true"), LAYER_DENSE, 4096, fwd, bwd);
}

/* An MoE layer whose experts have biases (8 experts of 1024, top 2, hidden 1024, one GPU: all
 * 8 local), the linear biases in the GEMM epilogue, the experts' fc2 bias as they are or in
 * Megatron-Core's per-expert loop. */
static struct scenario *biased_experts(const char *expert_bias)
{
	return check_scenariof("kernels_experts",
		"model: {layers: 1, hidden: 1024, heads: 8, kv_heads: 8, ffn: 1024, vocab: 32000,\n"
		"        mlp: swiglu, position: rope, norm: rmsnorm, bias: true,\n"
		"        moe: {experts: 8, top_k: 2, ffn: 1024, shared_experts: 0, dense_layers: 0}}\n"
		"cluster: {gpus: 1, node: {gpus_per_node: 1, gpu: {memory: 80 GiB,\n"
		"          memory_bw: 2 TB/s, flops: {bf16: 312 TFLOPS}}}}\n"
		"workload: {seq_len: 4096, micro_batch: 1, global_batch: 1, dtype: bf16,\n"
		"           flash_attention: true}\n"
		"runtime: {fusion: {bias_activation: false, linear_bias: true,\n"
		"          expert_bias: %s}}\n", expert_bias);
}

/*
 * The loop (megatron/core/transformer/moe/experts.py _apply_bias): the fc2 outputs of the routed
 * copies, top 2 x 4096 tokens x h 1024 = 8,388,608 elements of 2 bytes. Per expert t + b * p
 * writes the product (2 bytes an element) and reads two and writes one for the sum (6), then
 * one cat reads and writes them all (4): 12 x 8,388,608 = 100,663,296 bytes in 2 x 8 + 1 = 17
 * launches. Backward grad * p and its sum over the rows, grad * b and its sum over h: 6 bytes
 * an element, 100,663,296 bytes in 4 x 8 = 32 launches, less the epilogue's reduction of the
 * same gradient, which the loop replaces: 8,388,608 x 2 = 16,777,216 bytes. So the loop costs
 * 100,663,296 bytes and 17 launches more forward, 83,886,080 bytes and 32 launches backward.
 */
static void an_expert_bias_loop_adds_kernels_per_expert(void **state)
{
	const double fwd[2] = {100663296.0, 17}, bwd[2] = {83886080.0, 32};
	(void)state;
	check_extra(biased_experts("false"), biased_experts("true"), LAYER_MOE, 4096, fwd, bwd);
}

/*
 * Block scaling (DeepSeek-V3 sec. 3.3.1) writes an fp32 scale per 128 elements beside each FP8
 * copy and its transpose: 2 x 4/128 bytes more per cast element. Forward casts, fused norms:
 * QKV and fc1 inputs (h each), the projection's input (a = 4096) and fc2's (f = 11008):
 * 23296 x 4096 x 0.0625 = 5,963,776 bytes more. Backward: the gradient outputs of the four
 * GEMMs, (a + 2kv) + h + 2f + h = 42496 elements, 10,878,976 bytes, plus twice the forward's.
 */
static void block_scaling_writes_a_scale_per_128_elements(void **state)
{
#define FP8_LAYER(recipe)                                                                     \
	"model: {layers: 1, hidden: 4096, heads: 32, kv_heads: 32, ffn: 11008,\n"          \
	"        vocab: 32000, mlp: swiglu, position: rope, norm: rmsnorm}\n"                \
	"cluster: {gpus: 1, node: {gpus_per_node: 1, gpu: {memory: 80 GiB,\n"              \
	"          memory_bw: 2 TB/s, flops: {bf16: 989 TFLOPS, fp8: 1979 TFLOPS}}}}\n"       \
	"workload: {seq_len: 4096, micro_batch: 1, global_batch: 1, dtype: fp8,\n"         \
	"           fp8_recipe: " recipe "}\n"
	struct scenario *d = check_scenariof("delayed", FP8_LAYER("delayed"));
	struct scenario *b = check_scenariof("block", FP8_LAYER("block"));
#undef FP8_LAYER
	struct kernel_cost kd, kb;
	(void)state;
	kernels_layer(d, LAYER_DENSE, 4096, 1, false, &kd);
	kernels_layer(b, LAYER_DENSE, 4096, 1, false, &kb);
	check_rel(kb.fwd_bytes - kd.fwd_bytes, 5963776.0, 1e-9);
	check_rel(kb.bwd_bytes - kd.bwd_bytes, 2 * 5963776.0 + 10878976.0, 1e-9);
	check_rel(kb.fwd_kernels, kd.fwd_kernels, 0);
	scenario_free(d);
	scenario_free(b);
}

/* Adam over 1e9 parameters: 32 bytes each (fp32 master, two moments and the gradient read,
 * master and moments written, the 16-bit copy written); multi-tensor apply launches one kernel
 * per 320 x 65536 elements (48) plus one per 110 tensors (10 for 1000). Per-tensor Adam: ten
 * launches a tensor, 2.5 times the traffic. */
static void the_optimizer_by_hand(void **state)
{
	static const enum master_weights masters[] = {MASTER_REMAINDER, MASTER_BF16, MASTER_NONE};
	static const double bytes[] = {36e9, 32e9, 30e9};
	struct scenario *s = layer("{optimizer: true}");
	struct kernel_cost k;
	int i;
	(void)state;
	kernels_optimizer(s, 1e9, 1000, &k);
	check_rel(k.fwd_bytes, 32e9, 1e-12);
	check_rel(k.fwd_kernels, 48 + 10, 0);
	s->runtime.fusion.optimizer = false;
	kernels_optimizer(s, 1e9, 1000, &k);
	check_rel(k.fwd_bytes, 80e9, 1e-12);
	check_rel(k.fwd_kernels, 10000, 0);
	/* BF16 moments: each read and written in 2 bytes, 8 bytes less (24); an EMA on the GPU
	 * reads the fp32 weights and the average and writes the average, 12 more (36). */
	s->runtime.fusion.optimizer = true;
	s->workload.optimizer_state_dtype = DTYPE_BF16;
	kernels_optimizer(s, 1e9, 1000, &k);
	check_rel(k.fwd_bytes, 24e9, 1e-12);
	s->workload.ema = EMA_DEVICE;
	kernels_optimizer(s, 1e9, 1000, &k);
	check_rel(k.fwd_bytes, 36e9, 1e-12);
	/* The master copy (36 with an fp32 one): remainders read and write their 2 bytes beside
	 * the bf16 weight, the same 4 (36); a bf16 copy 2 less each way (32); none reads the
	 * bf16 weight for its 4 (30). */
	for (i = 0; i < 3; i++) {
		s->workload.master_weights = masters[i];
		kernels_optimizer(s, 1e9, 1000, &k);
		check_rel(k.fwd_bytes, bytes[i], 1e-12);
	}
	scenario_free(s);
}

/*
 * Qwen3-30B-A3B's MoE layer (hidden 2048, top-8 of 128 experts) over 8192 tokens in bf16: with
 * EP 8 each GPU holds 16 experts and Megatron-Core sorts the received tokens by local expert and
 * back (token_dispatcher.py, "Permutation 2" / "Unpermutation 2"): two more kernels, each reading
 * and writing the 8 copies of every token, 2 x 2 x 8 x 2048 x 8192 x 2 = 1,073,741,824 bytes more
 * forward than with EP 128, one expert per GPU, where no sort is needed.
 */
static struct scenario *moe_layer(int ep)
{
	return check_scenariof("moe",
		"model: qwen3-30b-a3b\ncluster: {node: dgx-h100, nodes: 16}\n"
		"workload: {seq_len: 4096, micro_batch: 2, global_batch: 256, dtype: bf16}\n"
		"strategy: {ep: %d}\n", ep);
}

static void many_local_experts_sort_their_tokens_twice(void **state)
{
	/* the backward moves twice the forward's bytes in twice its launches */
	const double fwd[2] = {1073741824.0, 2}, bwd[2] = {2 * 1073741824.0, 4};
	(void)state;
	check_extra(moe_layer(8), moe_layer(128), LAYER_MOE, 8192, fwd, bwd);
}

/*
 * One pass of that fused layer as the report shows it (step_plan.layer, JSON time.layers), with
 * 10 us of host time per launch: its 11 launches, of which the 4 GEMMs and the attention kernel
 * run at their own rates and the other 6 pay the GPU's fixed time per kernel; the 740,294,656
 * bytes above at the GPU's streaming rate; 110 us for the host, short of the GPU's work, so the
 * pass is the GPU's sum. The backward: two GEMMs per forward GEMM (dX and dW), FlashAttention-2's
 * 2.5 times the forward's attention work (Dao 2023, sec. 3.1), twice the bytes and launches.
 * At 1 ms a launch the host bounds the passes: 11 ms and 22 ms.
 */
#define FUSED "{norm: true, bias_activation: true, rope: true}"

static void a_layer_pass_splits_into_its_parts(void **state)
{
	struct scenario *s;
	struct step_plan p;
	struct compute *c;
	struct diag d;
	const struct step_layer_parts *l;
	(void)state;
	diag_init(&d);
	s = layer(FUSED ", kernel_overhead: 10 us");
	c = compute_new(&s->cluster.node.gpu, (struct mark){"gpu", 0, 0}, &d);
	assert_non_null(c);
	assert_int_equal(step_build(s, &p, &d), 0);
	l = &p.layer[LAYER_DENSE];
	assert_int_equal(l->layers, 1);
	assert_int_equal(p.layer[LAYER_MOE].layers, 0);
	check_rel(p.layer_tokens, 4096, 0);
	check_rel(l->fwd.launches, 11, 0);
	check_rel(l->fwd.memory, compute_stream_time(c, 740294656.0), 1e-12);
	check_rel(l->fwd.fixed, 6 * compute_kernel_latency(c), 1e-12);
	check_rel(l->fwd.host, 110e-6, 1e-12);
	check_rel(l->fwd.total, l->fwd.gemm + l->fwd.attention + l->fwd.memory + l->fwd.fixed,
		  1e-15);
	assert_true(l->fwd.total > l->fwd.host);
	/* The GEMMs: QKV 3 h^2, the projection h^2 and SwiGLU's three h x 11008 = 3 x 2.6875 h^2,
	 * 2 FLOPs per weight over 4096 tokens, 2 x 4096 x 4096^2 x 12.0625 = 3.3157e12 FLOPs, at
	 * the 0.80 of the 312 TFLOPS peak a GPU without its own curve takes (compute.c
	 * fallback_gemm): 6.6420568 ms. */
	check_rel(l->fwd.gemm, 2 * 4096 * 4096.0 * 4096 * 12.0625 / (312e12 * 0.80), 1e-9);
	check_rel(l->fwd.gemm, 6.6420568e-3, 1e-7);
	/* The attention kernel: QK^T and AV, 4 x 4096^2 x 32 heads x 128, half of it under the
	 * causal mask, 137,438,953,472 FLOPs, at the fallback attention fraction 0.65 of the peak
	 * (compute.c fallback_attention; Dao 2023), slowed to the fused (cuDNN) kernel's 4k rate
	 * over its 16k plateau (the default profile, megatron-core.yaml: attention_kernel fused;
	 * compute.c seq_fused): Shah et al. 2024 Fig. 4-5, forward 518 and 539 TFLOP/s, backward
	 * 499 and 516, a step at 3.5 / (1/fwd + 2.5/bwd) = 504.285 and 522.369, 0.965381.
	 * 0.67770687 ms / 0.965381 = 0.70200967 ms. */
	check_rel(l->fwd.attention,
		  4 * 4096 * 4096.0 * 32 * 128 * 0.5 / (312e12 * 0.65) /
			  ((3.5 / (1 / 518.0 + 2.5 / 499)) / (3.5 / (1 / 539.0 + 2.5 / 516))),
		  1e-9);
	check_rel(l->fwd.attention, 0.70200967e-3, 1e-7);
	check_rel(l->bwd.gemm, 2 * l->fwd.gemm, 1e-15);
	check_rel(l->bwd.attention, 2.5 * l->fwd.attention, 1e-15);
	check_rel(l->bwd.memory, compute_stream_time(c, 2 * 740294656.0), 1e-12);
	check_rel(l->bwd.launches, 22, 0);
	step_plan_release(&p);
	scenario_free(s);
	s = layer(FUSED ", kernel_overhead: 1 ms");
	assert_int_equal(step_build(s, &p, &d), 0);
	check_rel(p.layer[LAYER_DENSE].fwd.total, 11e-3, 1e-12);
	check_rel(p.layer[LAYER_DENSE].bwd.total, 22e-3, 1e-12);
	step_plan_release(&p);
	scenario_free(s);
	compute_free(c);
	diag_release(&d);
}

/* A layer of one head over 128 tokens: its attention is 4 x 128 x 128 x 128 / 2 = 4.2 MFLOP
 * forward, nanoseconds at any measured rate, yet a kernel takes at least the GPU's fixed time
 * (here 5 us): 5 us forward and 10 us for the backward's two launches. */
static void a_short_attention_kernel_takes_the_fixed_time(void **state)
{
	struct scenario *s = check_scenariof("short",
		"model: {layers: 1, hidden: 128, heads: 1, ffn: 512, vocab: 8}\n"
		"cluster: {gpus: 1, node: {gpus_per_node: 1, gpu: {memory: 80 GiB,\n"
		"          memory_bw: 2 TB/s, flops: {bf16: 312 TFLOPS},\n"
		"          efficiency: {kernel_latency: 5 us}}}}\n"
		"workload: {seq_len: 128, micro_batch: 1, global_batch: 1, dtype: bf16,\n"
		"           flash_attention: true}\n");
	struct step_plan p;
	struct diag d;
	(void)state;
	diag_init(&d);
	assert_int_equal(step_build(s, &p, &d), 0);
	check_rel(p.layer[LAYER_DENSE].fwd.attention, 5e-6, 1e-12);
	check_rel(p.layer[LAYER_DENSE].bwd.attention, 10e-6, 1e-12);
	step_plan_release(&p);
	scenario_free(s);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_fused_layer_by_hand),
		cmocka_unit_test(an_eager_layer_by_hand),
		cmocka_unit_test(a_bias_in_the_gemm_epilogue_costs_only_its_gradient),
		cmocka_unit_test(an_expert_bias_loop_adds_kernels_per_expert),
		cmocka_unit_test(block_scaling_writes_a_scale_per_128_elements),
		cmocka_unit_test(the_optimizer_by_hand),
		cmocka_unit_test(many_local_experts_sort_their_tokens_twice),
		cmocka_unit_test(a_layer_pass_splits_into_its_parts),
		cmocka_unit_test(a_short_attention_kernel_takes_the_fixed_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
