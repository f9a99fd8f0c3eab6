/*
 * test_memory: the memory model's rules, each against a hand calculation written in the test —
 * ZeRO sharding, offload to the host, LoRA adapters, quantized weights, pipeline roles, the
 * runtime overhead, the micro-batch search and the advice on a misfit.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "memory.h"
#include "scenario.h"

#define GIB (1024.0 * 1024.0 * 1024.0)


/* Llama-2-7B: 6,738,415,616 parameters (models.md sec. 9.3). */
#define LLAMA2_7B 6738415616.0

static void zero3_shards_weights_gradients_and_states_across_dp(void **state)
{
	struct scenario *s = check_scenariof("z3",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 16}\nstrategy: {zero: 3}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.roles[0].part[MEMORY_WEIGHTS], 2 * LLAMA2_7B / 16, 1e-12);
	check_rel(r.roles[0].part[MEMORY_GRADIENTS], 2 * LLAMA2_7B / 16, 1e-12);
	check_rel(r.roles[0].part[MEMORY_OPTIMIZER], 12 * LLAMA2_7B / 16, 1e-12);
	/* In flight: the gathered computing layer, one prefetched, and one layer's full gradients,
	 * 2*2 + 2 bytes per parameter of the largest module: a layer, 4*4096^2 + 3*4096*11008 +
	 * 2*4096 = 202,383,360 parameters (the 32000 x 4096 embedding has 131,072,000). */
	check_rel(r.roles[0].part[MEMORY_BUFFERS], 202383360.0 * (2 + 2 + 2), 1e-12);
	memory_report_release(&r);
	scenario_free(s);
}

/* Gradients default to the training precision (Micikevicius et al. 2018): fp32 training of
 * Llama-2-7B under ZeRO-3 on 16 GPUs keeps 4-byte weights and gradients, 4*P/16 each, and Adam's
 * m and v, 8*P/16 (no separate master copy); a given grad_dtype: bf16 still counts 2*P/16, and
 * fp8 training's gradients are bf16, 2*P/16. */
static void fp32_training_keeps_fp32_gradients_unless_told(void **state)
{
#define GRAD_SCENARIO(dtype)                                                               \
	"model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 2}\n"                      \
	"workload: {seq_len: 4096, global_batch: 16, dtype: " dtype "}\nstrategy: {zero: 3}\n"
	struct scenario *fp32 = check_scenariof("fp32", GRAD_SCENARIO("fp32"));
	struct scenario *given = check_scenariof("given", GRAD_SCENARIO("fp32, grad_dtype: bf16"));
	struct scenario *fp8 = check_scenariof("fp8", GRAD_SCENARIO("fp8"));
#undef GRAD_SCENARIO
	struct memory_report a, b, c;
	(void)state;
	assert_int_equal(memory_build(fp32, &a), 0);
	assert_int_equal(memory_build(given, &b), 0);
	assert_int_equal(memory_build(fp8, &c), 0);
	check_rel(a.roles[0].part[MEMORY_WEIGHTS], 4 * LLAMA2_7B / 16, 1e-12);
	check_rel(a.roles[0].part[MEMORY_GRADIENTS], 4 * LLAMA2_7B / 16, 1e-12);
	check_rel(a.roles[0].part[MEMORY_OPTIMIZER], 8 * LLAMA2_7B / 16, 1e-12);
	check_rel(b.roles[0].part[MEMORY_GRADIENTS], 2 * LLAMA2_7B / 16, 1e-12);
	check_rel(c.roles[0].part[MEMORY_GRADIENTS], 2 * LLAMA2_7B / 16, 1e-12);
	memory_report_release(&a);
	memory_report_release(&b);
	memory_report_release(&c);
	scenario_free(fp32);
	scenario_free(given);
	scenario_free(fp8);
}

/* DeepSeek-V3 report sec. 3.3.3: AdamW's moments in BF16 beside FP32 master weights and FP32
 * gradients: Llama-2-7B under ZeRO-3 on 16 GPUs keeps (4 + 2 + 2)*P/16 of optimizer state and
 * 4*P/16 of gradients. */
static void bf16_moments_keep_eight_bytes_of_state_per_parameter(void **state)
{
	struct scenario *s = check_scenariof("bf16m",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 16, grad_dtype: fp32, "
		"optimizer_state_dtype: bf16}\nstrategy: {zero: 3}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.roles[0].part[MEMORY_OPTIMIZER], 8 * LLAMA2_7B / 16, 1e-12);
	check_rel(r.roles[0].part[MEMORY_GRADIENTS], 4 * LLAMA2_7B / 16, 1e-12);
	memory_report_release(&r);
	scenario_free(s);
}

/* An fp32 EMA of each rank's ZeRO-1 shard, 4*P/16 per GPU: on the GPU it joins the optimizer
 * states (12*P/16 + 4*P/16); in host memory (DeepSeek-V3 sec. 3.2.3) it is 8 GPUs x 4*P/16 =
 * 2*P bytes per node. */
static void ema_lives_on_the_gpu_or_in_host_memory(void **state)
{
#define EMA_SCENARIO(where)                                                                 \
	"model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 2}\n"                       \
	"workload: {seq_len: 4096, global_batch: 16, ema: " where "}\nstrategy: {zero: 1}\n"
	struct scenario *dev = check_scenariof("dev", EMA_SCENARIO("device"));
	struct scenario *host = check_scenariof("host", EMA_SCENARIO("host"));
#undef EMA_SCENARIO
	struct memory_report a, b;
	(void)state;
	assert_int_equal(memory_build(dev, &a), 0);
	assert_int_equal(memory_build(host, &b), 0);
	check_rel(a.roles[0].part[MEMORY_OPTIMIZER], 16 * LLAMA2_7B / 16, 1e-12);
	check_rel(b.roles[0].part[MEMORY_OPTIMIZER], 12 * LLAMA2_7B / 16, 1e-12);
	check_rel(b.roles[0].host, 4 * LLAMA2_7B / 16, 1e-12);
	check_rel(b.host_per_node, 2 * LLAMA2_7B, 1e-12);
	memory_report_release(&a);
	memory_report_release(&b);
	scenario_free(dev);
	scenario_free(host);
}

/* The memory of Llama-2-7B in fp8 training on one 8-GPU H100 node under ZeRO-1, with `key` (a
 * workload key) at `off` and at `on`. */
static void fp8_pair(const char *key, const char *off, const char *on, struct memory_report *a,
		     struct memory_report *b)
{
#define FP8_SCENARIO                                                                       \
	"model: llama-2-7b\ncluster: {node: p5.48xlarge, nodes: 1}\n"                        \
	"workload: {seq_len: 4096, global_batch: 8, dtype: fp8, %s: %s}\nstrategy: {zero: 1}\n"
	struct scenario *s = check_scenariof("fp8_off", FP8_SCENARIO, key, off);
	struct scenario *t = check_scenariof("fp8_on", FP8_SCENARIO, key, on);
#undef FP8_SCENARIO
	assert_int_equal(memory_build(s, a), 0);
	assert_int_equal(memory_build(t, b), 0);
	scenario_free(s);
	scenario_free(t);
}

/* FP8 block scaling caches each linear input with an fp32 scale per 1x128 tile (DeepSeek-V3 sec.
 * 3.3.1), and the attention output, the projection's input, in E5M6 (sec. 3.3.3): of Llama-2-7B's
 * inputs per token and layer, QKV and fc1 (4096 each) and fc2 (11008), 19200 elements, cost 4/128
 * byte more, the projection's 4096 cost 0.5 + 4/128 more: 32 layers x 4096 tokens x (19200 x
 * 0.03125 + 4096 x 0.53125) = 363,855,872 bytes on one GPU. */
static void fp8_block_scaling_adds_a_scale_per_tile_to_cached_inputs(void **state)
{
	struct memory_report a, c;
	(void)state;
	fp8_pair("fp8_recipe", "delayed", "block", &a, &c);
	check_rel(c.roles[0].act_layers - a.roles[0].act_layers, 363855872.0, 1e-9);
	memory_report_release(&a);
	memory_report_release(&c);
}

/* ZeRO-Offload: fp32 master, m, v and the fp32 gradient shard (16 bytes per sharded parameter)
 * go to the host; per node that is 8 GPUs x shard x 16. */
static void optimizer_offload_moves_sixteen_bytes_per_parameter_to_the_host(void **state)
{
	struct scenario *s = check_scenariof("off",
		"model: llama-2-7b\ncluster: {node: p4de.24xlarge, nodes: 1}\n"
		"workload: {seq_len: 4096, global_batch: 8}\n"
		"strategy: {zero: 2, offload: {optimizer: cpu}}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	assert_true(r.roles[0].part[MEMORY_OPTIMIZER] == 0);
	assert_true(r.roles[0].part[MEMORY_GRADIENTS] == 0);
	check_rel(r.roles[0].part[MEMORY_WEIGHTS], 2 * LLAMA2_7B, 1e-12);
	check_rel(r.host_per_node, 8 * 16 * LLAMA2_7B / 8, 1e-12);
	assert_true(r.host_fits);
	memory_report_release(&r);
	scenario_free(s);
}

/*
 * LoRA r = 16 on every linear layer of Llama-2-7B: per layer q, k, v, o add 16*(4096+4096) each
 * and gate, up, down 16*(4096+11008) each: 4*131072 + 3*241664 = 1,249,280; x 32 layers =
 * 39,976,960 trainable parameters (the count HF PEFT prints for this setup). Adam keeps 4 + 8
 * bytes per trainable parameter, gradients 2.
 */
static void lora_trains_only_the_adapters(void **state)
{
	struct scenario *s = check_scenariof("lora",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {seq_len: 2048, lora: {rank: 16, targets: all}}\n");
	struct memory_report r;
	double adapters = 39976960;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.roles[0].part[MEMORY_OPTIMIZER], 12 * adapters, 1e-12);
	check_rel(r.roles[0].part[MEMORY_GRADIENTS], 2 * adapters, 1e-12);
	check_rel(r.roles[0].part[MEMORY_WEIGHTS], 2 * LLAMA2_7B + 2 * adapters, 1e-12);
	memory_report_release(&r);
	scenario_free(s);
}

/*
 * int4 weights (AWQ layout, group 128: 0.5 byte + an fp16 scale and a 4-bit zero per group =
 * 0.51953125 bytes) for the linear layers, 16-bit for embeddings, head and norms. Llama-2-7B:
 * linear 32 * (4*4096^2 + 3*4096*11008) = 6,476,005,376; the rest 262,410,240.
 */
static void int4_weights_pay_for_their_group_scales(void **state)
{
	struct scenario *s = check_scenariof("int4",
		"model: llama-2-7b\ncluster: {node: workstation-2x4090, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, dtype: int4}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.roles[0].part[MEMORY_WEIGHTS], 6476005376.0 * 0.51953125 + 262410240.0 * 2,
		  1e-12);
	memory_report_release(&r);
	scenario_free(s);
}

/* workload.fp8_params (Transformer Engine's fp8_model_init, NeMo's fp8_params): FP8 training of
 * Llama-2-7B (fp8_pair) keeps its Linear weights, 32 x (4 x 4096^2 + 3 x 4096 x
 * 11008) = 6,476,005,376 parameters, in one byte; the embedding, output layer and norms,
 * 262,410,240, stay in two. Without it every weight takes two. */
static void fp8_params_keep_the_linear_weights_in_one_byte(void **state)
{
	struct memory_report a, b;
	(void)state;
	fp8_pair("fp8_params", "false", "true", &a, &b);
	check_rel(a.roles[0].part[MEMORY_WEIGHTS], 2 * LLAMA2_7B, 1e-12);
	check_rel(b.roles[0].part[MEMORY_WEIGHTS], 6476005376.0 * 1 + 262410240.0 * 2, 1e-12);
	check_rel(b.roles[0].part[MEMORY_OPTIMIZER], a.roles[0].part[MEMORY_OPTIMIZER], 0);
	memory_report_release(&a);
	memory_report_release(&b);
}

/* workload.master_weights (Apex DistributedFusedAdam, NeMo's distributed_fused_adam): Llama-2-7B
 * in fp8 training under ZeRO-1 on 8 GPUs (fp8_pair) keeps (4 + 4 + 4) * P / 8 of optimizer
 * state with an fp32 master copy, (2 + 4 + 4) * P / 8 with bf16 remainders or a bf16 copy, and
 * (4 + 4) * P / 8 with none; the weights and gradients stay as they were. */
static void master_weights_take_four_two_or_no_bytes(void **state)
{
	static const char *const kinds[] = {"remainder", "bf16", "none"};
	static const double master[] = {2, 2, 0};
	struct memory_report a, b;
	int k;
	(void)state;
	for (k = 0; k < 3; k++) {
		fp8_pair("master_weights", "fp32", kinds[k], &a, &b);
		check_rel(a.roles[0].part[MEMORY_OPTIMIZER], 12 * LLAMA2_7B / 8, 1e-12);
		check_rel(b.roles[0].part[MEMORY_OPTIMIZER], (master[k] + 8) * LLAMA2_7B / 8, 1e-12);
		check_rel(b.roles[0].part[MEMORY_WEIGHTS], a.roles[0].part[MEMORY_WEIGHTS], 0);
		check_rel(b.roles[0].part[MEMORY_GRADIENTS], a.roles[0].part[MEMORY_GRADIENTS], 0);
		memory_report_release(&a);
		memory_report_release(&b);
	}
}

/* KV cache: 4 sequences of 4096 tokens of Llama-2-70B (327,680 B/token in bf16) over TP 4;
 * fp8 halves it. */
static void kv_cache_splits_over_tp_and_shrinks_with_fp8(void **state)
{
	struct scenario *bf = check_scenariof("kvbf",
		"model: llama-2-70b\ncluster: {node: p5.48xlarge, gpus: 4}\n"
		"workload: {mode: infer, seq_len: 4096, micro_batch: 4}\nstrategy: {tp: 4}\n");
	struct scenario *f8 = check_scenariof("kvf8",
		"model: llama-2-70b\ncluster: {node: p5.48xlarge, gpus: 4}\n"
		"workload: {mode: infer, seq_len: 4096, micro_batch: 4, kv_dtype: fp8}\n"
		"strategy: {tp: 4}\n");
	struct memory_report a, b;
	(void)state;
	assert_int_equal(memory_build(bf, &a), 0);
	assert_int_equal(memory_build(f8, &b), 0);
	check_rel(a.roles[0].part[MEMORY_KV_CACHE], 327680.0 * 4 * 4096 / 4, 1e-12);
	check_rel(b.roles[0].part[MEMORY_KV_CACHE], 327680.0 * 4 * 4096 / 8, 1e-12);
	check_rel(a.kv_bytes_per_token, 327680.0 / 4, 1e-12);
	memory_report_release(&a);
	memory_report_release(&b);
	scenario_free(bf);
	scenario_free(f8);
}

/* DeepSeek-V2 served with ~6-bit KV elements (report sec. 3.2.3): its MLA latent, 512 + 64
 * elements per token and layer over 60 layers, at 6/8 byte: 25,920 bytes per token on every GPU
 * of the TP group (the latent is not split), against 69,120 in bf16. */
static void kv_bits_size_the_cache_below_a_byte(void **state)
{
	struct scenario *s = check_scenariof("kv6",
		"model: deepseek-v2\ncluster: {node: h800-node, nodes: 1}\n"
		"workload: {mode: infer, seq_len: 4096, micro_batch: 1, dtype: fp8, kv_bits: 6}\n"
		"strategy: {tp: 8}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.kv_bytes_per_token, 576.0 * 60 * 6 / 8, 1e-12);
	check_rel(r.kv_bytes_per_token, 25920.0, 1e-12);
	memory_report_release(&r);
	scenario_free(s);
}

/*
 * DeepSeek-V3 served on one H800 node, TP 8 = EP 8, FP8 weights, with 32 redundant experts
 * (report sec. 3.4.1): each GPU holds (256 + 32)/8 = 36 experts of a MoE layer instead of 32,
 * 4 more of 3 x 7168 x 2048 weights in each of the 58 MoE layers, at 1 + 4/128^2 bytes. A hot
 * expert at 3 times the mean is split over up to 33 copies (EPLB's greedy replication): the
 * busiest instance carries the mean; one at 27 times the mean over 1 + 8 copies carries 3 times
 * it; training keeps the imbalance as given.
 */
static void redundant_experts_cost_weights_and_split_the_hot_expert(void **state)
{
#define V3_SERVE(imb, extra)                                                                 \
	"model: deepseek-v3\ncluster: {node: h800-node, nodes: 1}\n"                          \
	"workload: {mode: infer, seq_len: 4096, dtype: fp8, moe_imbalance: " imb "}\n"        \
	"strategy: {tp: 8, ep: 8}\nserving: {redundant_experts: " extra "}\n"
	struct scenario *plain = check_scenariof("plain", V3_SERVE("3", "0"));
	struct scenario *red = check_scenariof("red", V3_SERVE("3", "32"));
	struct scenario *hot = check_scenariof("hot", V3_SERVE("27", "8"));
#undef V3_SERVE
	struct memory_report a, b;
	(void)state;
	assert_int_equal(memory_build(plain, &a), 0);
	assert_int_equal(memory_build(red, &b), 0);
	check_rel(b.roles[0].part[MEMORY_WEIGHTS] - a.roles[0].part[MEMORY_WEIGHTS],
		  4.0 * 3 * 7168 * 2048 * 58 * (1 + 4.0 / (128 * 128)), 1e-9);
	check_rel(memory_local_experts(red), 36, 0);
	check_rel(memory_busiest_expert(red), 1, 0);
	check_rel(memory_busiest_expert(hot), 3, 1e-15);
	check_rel(memory_busiest_expert(plain), 3, 0);
	memory_report_release(&a);
	memory_report_release(&b);
	scenario_free(plain);
	scenario_free(red);
	scenario_free(hot);
}

/* vLLM's capacity rule: tokens = (capacity * utilization - everything but the KV cache) / bytes
 * per token, where the activations are those of the profiling pass: 8192 tokens over 256
 * sequences (set: the vllm profile takes 1024 on an H100) of 32 (flash attention: the larger of attention and MLP transients, then the
 * logits of the 256 last positions). Qwen2.5-14B, bf16: attention 8192 * (2*40*128 + 2*5120) * 2
 * = 335,544,320 B; MLP 8192 * 3 * 13824 * 2 = 679,477,248 B; logits 256 * 152064 * (2 + 4) =
 * 233,570,304 B. */
static void kv_token_capacity_is_the_budget_over_bytes_per_token(void **state)
{
	struct scenario *s = check_scenariof("kvcap",
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096}\nserving: {max_num_seqs: 256}\n");
	struct memory_report r;
	double non_kv;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	non_kv = r.roles[0].total - r.roles[0].part[MEMORY_KV_CACHE] -
		 r.roles[0].part[MEMORY_ACTIVATIONS] + 679477248.0 + 233570304.0;
	check_rel(r.profile_workspace, 679477248.0 + 233570304.0, 1e-12);
	check_rel(r.max_kv_tokens, floor((0.9 * r.capacity - non_kv) / 196608.0), 1e-9);
	memory_report_release(&r);
	scenario_free(s);
}

/* SGLang's running-request limit (serving.max_num_seqs 0; model_runner.py init_memory_pool,
 * scheduler.py): min(max(min(KV tokens / context * 512, 4096), 2048), KV tokens // 2), with the
 * context workload.seq_len = 4096, worked by hand:
 *   1,000,000 tokens: 125,000 requests by the pool rule, capped at 4096; half the pool 500,000.
 *   20,000 tokens: 2,500 (between the bounds); 10,000 by half: 2,500.
 *   3,000 tokens: 375, raised to the floor 2048; half the pool 1,500 binds.
 *   A cache without a size (no KV bytes per token): the cap, 4096.
 * A set limit is kept as it is. */
static int64_t seqs_for(const struct scenario *s, double tokens, double per_token)
{
	struct memory_report m;
	memset(&m, 0, sizeof m);
	m.max_kv_tokens = tokens;
	m.kv_bytes_per_token = per_token;
	return memory_max_seqs(s, &m);
}

static void sglang_sizes_its_running_batch_from_the_kv_pool(void **state)
{
	struct scenario *s = check_scenariof("maxseqs",
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096}\nserving: {max_num_seqs: 0}\n");
	(void)state;
	assert_int_equal(seqs_for(s, 1e6, 196608), 4096);
	assert_int_equal(seqs_for(s, 20000, 196608), 2500);
	assert_int_equal(seqs_for(s, 3000, 196608), 1500);
	assert_int_equal(seqs_for(s, 0, 0), 4096);
	s->serving.max_num_seqs = 300;
	assert_int_equal(seqs_for(s, 1e6, 196608), 300);
	scenario_free(s);
}

/* Llama-2-70B on PP 4 with 1F1B: the first stage has the embedding, the last the head, and
 * every stage holds a different number of micro-batches (4, 3, 2, 1), so each is its own role. */
static void pipeline_stages_group_into_roles(void **state)
{
	struct scenario *s = check_scenariof("pp",
		"model: llama-2-70b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\n"
		"strategy: {tp: 4, pp: 4, zero: 1, recompute: selective, sequence_parallel: true}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	assert_int_equal(r.nroles, 4);
	assert_true(r.roles[0].has_embedding && !r.roles[0].has_head);
	assert_int_equal(r.roles[1].first_stage, 1);
	assert_int_equal(r.roles[1].last_stage, 1);
	assert_true(r.roles[3].has_head);
	assert_int_equal(r.roles[0].layers, 20);
	check_rel(r.roles[0].inflight, 4, 1e-12);
	check_rel(r.roles[1].inflight, 3, 1e-12);
	check_rel(r.roles[2].inflight, 2, 1e-12);
	check_rel(r.roles[3].inflight, 1, 1e-12);
	/* The layers' activations scale with what is in flight: stage 1 holds 3/2 of stage 2. */
	check_rel(r.roles[1].act_layers, 1.5 * r.roles[2].act_layers, 1e-12);
	assert_int_equal(r.worst, 0);
	memory_report_release(&r);
	scenario_free(s);
}

#define PP4_70B "model: llama-2-70b\ncluster: {node: p5.48xlarge, nodes: 2}\n" \
		"workload: {seq_len: 4096, global_batch: 64}\n" \
		"strategy: {tp: 4, pp: 4, zero: 1, recompute: selective, " \
		"sequence_parallel: true, schedule: %s}\n"

/* DeepSeek-V3 report, Table 2: DualPipe keeps 2x the parameters and pp + 1 micro-batches of a
 * stage's activations per rank, 1F1B 1x and pp on its first stage. Llama-2-70B (80 layers) on
 * tp 4, pp 4, 64 micro-batches: rank 1 holds stages 1 and 2 (40 layers), rank 0 stages 0 and 3
 * with the embedding and the head; a stage's activations are 20 layers' worth per micro-batch,
 * so DualPipe's 5 of them are 5/4 of 1F1B's 4 on stage 0. Rank 0 peaks one layer into its first
 * overlapped pair, with 3 micro-batches in stage 0 and 1 in stage 3 (layout.c): 81 layers' worth
 * of 1F1B's 80. */
static void dualpipe_keeps_two_stages_and_p_plus_one_micro_batches(void **state)
{
	struct scenario *one = check_scenariof("1f1b", PP4_70B, "1f1b");
	struct scenario *dual = check_scenariof("dualpipe", PP4_70B, "dualpipe");
	struct memory_role a0, a1, d0, d1;
	(void)state;
	memory_stage(one, 0, &a0);
	memory_stage(one, 1, &a1);
	memory_stage(dual, 0, &d0);
	memory_stage(dual, 1, &d1);
	assert_int_equal(d1.layers, 40);
	assert_true(d0.has_embedding && d0.has_head);
	check_rel(d1.params, 2 * a1.params, 1e-12);
	check_rel(d1.part[MEMORY_WEIGHTS], 2 * a1.part[MEMORY_WEIGHTS], 1e-12);
	check_rel(d1.act_layers, 5.0 / 4.0 * a0.act_layers, 1e-12);
	check_rel(d0.act_layers, 81.0 / 80.0 * a0.act_layers, 1e-12);
	scenario_free(one);
	scenario_free(dual);
}

/* ZB-H1 and ZB-V keep p micro-batches on every rank (layout.c), 1F1B's first-stage peak: the
 * last rank as much as 1F1B's first. */
static void zero_bubble_keeps_one_f_one_b_first_stage_peak(void **state)
{
	struct scenario *one = check_scenariof("1f1b", PP4_70B, "1f1b");
	struct scenario *h1 = check_scenariof("zb-h1", PP4_70B, "zb-h1");
	struct scenario *v = check_scenariof("zb-v", PP4_70B, "zb-v");
	struct memory_role a0, a1, h3, v2;
	(void)state;
	memory_stage(one, 0, &a0);
	memory_stage(one, 1, &a1);
	memory_stage(h1, 3, &h3);
	memory_stage(v, 2, &v2);
	check_rel(h3.act_layers, a0.act_layers, 1e-12);
	check_rel(v2.act_layers, a0.act_layers, 1e-12);
	/* ZB-V's rank 2 holds chunks 2 and 5 of 8, 20 layers: a middle stage's parameters. */
	assert_int_equal(v2.layers, 20);
	check_rel(v2.params, a1.params, 1e-12);
	scenario_free(one);
	scenario_free(h1);
	scenario_free(v);
}

/* Llama 3.1 405B on tp 8, pp 16 x vp 8 with the first and last stage one layer short (7, 8 x 14,
 * 7), full recompute with sequence parallelism, ZeRO-1 over dp 64. By hand, per GPU: a layer's
 * matrices 2*16384^2 + 2*16384*1024 + 3*16384*53248 = 3,187,671,040 / 8 = 398,458,880 plus its
 * two RMSNorms (2 x 16384, not split by tp); the embedding and the head 128256*16384/8 =
 * 262,668,288 each, the final norm 16384. Each layer keeps its input, 2*s*b*h/t = 2*8192*16384/8
 * = 33,554,432 bytes per micro-batch, for 16 micro-batches on stages 0 and 15 and 141/8 on
 * stage 1 (test_layout). */
static void llama_405b_stages_follow_their_own_layer_counts(void **state)
{
	struct scenario *s = check_scenario("405b",
		"model: llama-3.1-405b\ncluster: {node: p5.48xlarge, nodes: 1024}\n"
		"workload: {seq_len: 8192, micro_batch: 1, global_batch: 2048}\n"
		"strategy: {tp: 8, pp: 16, vp: 8, schedule: interleaved, zero: 1,\n"
		"           sequence_parallel: true, recompute: full,\n"
		"           first_stage_layers: 7, last_stage_layers: 7}\n");
	const double layer = 398458880.0 + 2 * 16384, outer = 262668288.0, input = 33554432.0;
	const double params[3] = {7 * layer + outer, 8 * layer, 7 * layer + 16384 + outer};
	const double act[3] = {7 * 16 * input, 8 * (141.0 / 8) * input, 7 * 16 * input};
	const int64_t stages[3] = {0, 1, 15};
	struct memory_role r;
	int i;
	(void)state;
	for (i = 0; i < 3; i++) {
		memory_stage(s, stages[i], &r);
		assert_int_equal(r.layers, i == 1 ? 8 : 7);
		check_rel(r.params, params[i], 1e-12);
		check_rel(r.part[MEMORY_WEIGHTS], 2 * params[i], 1e-12);
		/* ZeRO-1: fp32 master, momentum and variance, 12 bytes, over dp 64. */
		check_rel(r.part[MEMORY_OPTIMIZER], 12 * params[i] / 64, 1e-12);
		check_rel(r.act_layers, act[i], 1e-12);
	}
	scenario_free(s);
}

/*
 * Experts split over their own tensor-parallel group (Megatron-Core --expert-tensor-parallel-size).
 * Mixtral 8x7B on 16 GPUs, tp 2, pp 1, ep 4: each GPU holds 8 / 4 = 2 experts per layer of
 * 3 x 4096 x 14336 weights, halved by etp 2 (the default, = tp), whole with etp 1. The dense part
 * (attention, router, norms, embedding, head) stays split by tp either way. Optimizer states
 * (ZeRO-1, 12 bytes) shard the experts over expert_dp = tp*dp/(etp*ep): 16/(2*4) = 2 with etp 2,
 * 16/(1*4) = 4 with etp 1, which leaves them the same per GPU.
 */
static void experts_split_over_their_own_tensor_parallel_group(void **state)
{
	struct scenario *tp2 = check_scenariof("etp2",
		"model: mixtral-8x7b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 32}\n"
		"strategy: {tp: 2, ep: 4, zero: 1, sequence_parallel: true}\n");
	struct scenario *tp1 = check_scenariof("etp1",
		"model: mixtral-8x7b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 32}\n"
		"strategy: {tp: 2, ep: 4, etp: 1, zero: 1, sequence_parallel: true}\n");
	const double expert = 32.0 * 2 * 3 * 4096 * 14336;    /* 32 layers, 2 experts each */
	struct memory_role a, b;
	(void)state;
	memory_stage(tp2, 0, &a);
	memory_stage(tp1, 0, &b);
	check_rel(b.params - a.params, expert - expert / 2, 1e-12);
	/* bf16 weights: 2 bytes for each expert parameter more. */
	check_rel(b.part[MEMORY_WEIGHTS] - a.part[MEMORY_WEIGHTS], 2 * (expert / 2), 1e-12);
	/* The experts' optimizer states per GPU do not change: 12 * expert / 4 with etp 1 and
	 * 12 * (expert / 2) / 2 with etp 2 are both 3 * expert (the dense part is the same). */
	check_rel(b.part[MEMORY_OPTIMIZER], a.part[MEMORY_OPTIMIZER], 1e-12);
	assert_true(a.part[MEMORY_OPTIMIZER] > 3 * expert);
	/* The elements each GPU's optimizer steps (the step reads them): the dense ones over
	 * dp = 16 / 2 = 8 ranks, the experts' over expert_dp, expert / 2 / 2 = expert / 4 either
	 * way; the experts' share of the GPU's parameters is what the experts' group reduces. */
	check_rel(a.updated, (a.params - expert / 2) / 8 + expert / 4, 1e-12);
	check_rel(b.updated, (b.params - expert) / 8 + expert / 4, 1e-12);
	check_rel(a.expert_share, expert / 2 / a.params, 1e-12);
	check_rel(b.expert_share, expert / b.params, 1e-12);
	scenario_free(tp2);
	scenario_free(tp1);
}

/* The 405B layout through the account_for options (126 + 2 layers over pp 16 x vp 8) without
 * recompute misfits (the middle stages keep 8 layers' full activations for up to 141/8
 * micro-batches); the advice must still see its own variants as valid splits and name full
 * recompute. */
static void advice_keeps_the_account_for_split(void **state)
{
	struct scenario *s = check_scenario("405b-adv",
		"model: llama-3.1-405b\ncluster: {node: p5.48xlarge, nodes: 64}\n"
		"workload: {seq_len: 8192, micro_batch: 1, global_batch: 512}\n"
		"strategy: {tp: 8, pp: 16, vp: 8, schedule: interleaved, zero: 1,\n"
		"           sequence_parallel: true, recompute: none,\n"
		"           account_for_embedding_in_pipeline_split: true,\n"
		"           account_for_loss_in_pipeline_split: true}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	assert_false(r.fits);
	print_message("advice: %s\n", r.advice);
	assert_non_null(strstr(r.advice, "strategy.recompute=full"));
	memory_report_release(&r);
	scenario_free(s);
}

/* Runtime overhead is explicit: context + cuBLAS workspace + one NCCL set per process group
 * (here tp and dp). */
static void overhead_is_context_workspace_and_nccl_per_group(void **state)
{
	struct scenario *s = check_scenariof("ovh",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge}\n"
		"workload: {seq_len: 4096, global_batch: 4}\nstrategy: {tp: 2}\n"
		"runtime: {cuda_context: 500 MiB, cublas_workspace: 32 MiB, nccl_per_group: 100 MB}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.roles[0].part[MEMORY_OVERHEAD], 500.0 * 1048576 + 32.0 * 1048576 + 2 * 100e6,
		  1e-12);
	memory_report_release(&r);
	scenario_free(s);
}

/* Llama-2-7B on 8 H100 with ZeRO-3 and selective recomputation, at a given micro-batch. */
static struct scenario *micro_batch_scenario(long long b)
{
	return check_scenariof("mb",
		    "model: llama-2-7b\ncluster: {node: p5.48xlarge}\n"
		    "workload: {seq_len: 4096, micro_batch: %lld, global_batch: %lld}\n"
		    "strategy: {zero: 3, recompute: selective}\n", b, 8 * b);
}

/* The most loaded GPU's total at micro-batch b less share times its memory. */
static double excess_of(long long b, double share)
{
	struct scenario *s = micro_batch_scenario(b);
	struct memory_report r;
	double t;
	assert_int_equal(memory_build(s, &r), 0);
	t = r.roles[r.worst].total - share * r.capacity;
	memory_report_release(&r);
	scenario_free(s);
	return t;
}

/* The micro-batch search: the reported maximum fits and one more does not; the one kept within
 * 90 % of the memory (memory.h, MEMORY_ALLOCATOR_SHARE) stays under 90 % and one more does not. */
static void largest_micro_batch_fits_and_one_more_does_not(void **state)
{
	struct scenario *s = micro_batch_scenario(1);
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	assert_true(r.max_micro_batch >= 1);
	print_message("largest micro-batch: %lld, within 90 %%: %lld\n",
		      (long long)r.max_micro_batch, (long long)r.max_micro_batch_kept);
	assert_true(excess_of(r.max_micro_batch, 1) <= 0);
	assert_true(excess_of(r.max_micro_batch + 1, 1) > 0);
	assert_true(r.max_micro_batch_kept >= 1 && r.max_micro_batch_kept <= r.max_micro_batch);
	assert_true(excess_of(r.max_micro_batch_kept, 0.9) <= 0);
	assert_true(excess_of(r.max_micro_batch_kept + 1, 0.9) > 0);
	memory_report_release(&r);
	scenario_free(s);
}

/* 32B full fine-tuning without ZeRO needs 16 bytes x 32.8 B = 524 GB per GPU: it does not fit,
 * and the advice names a change that, applied, does. */
static void a_misfit_gets_advice_that_fits(void **state)
{
	struct scenario *s = check_scenariof("adv",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p4de.24xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {zero: 0, recompute: full}\n");
	struct scenario *fixed;
	struct memory_report r, r2;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	assert_false(r.fits);
	print_message("advice: %s\n", r.advice);
	assert_non_null(strstr(r.advice, "strategy.zero=3"));
	fixed = check_scenariof("adv2",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p4de.24xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {zero: 3, recompute: full}\n");
	assert_int_equal(memory_build(fixed, &r2), 0);
	assert_true(r2.fits);
	memory_report_release(&r);
	memory_report_release(&r2);
	scenario_free(s);
	scenario_free(fixed);
}

/*
 * DeepSpeed's 2T run on Azure (160 layers, h = 32768, micro-batch 8 of 1024 tokens, ZeRO-3, full
 * recompute, CPU optimizer): each layer keeps its input, 2sbh = 2 x 1024 x 8 x 32768 =
 * 536,870,912 B, and with the 160 checkpoints on the GPU it does not fit in 80 GB, so the advice
 * is to offload them. Offloaded in order (the deepspeed profile), one stays on the GPU and all
 * 160 wait on the host, for each of the node's 8 GPUs: 8 x 160 x 536,870,912 B more per node.
 */
/* A DeepSpeed run of the Azure post: 1,024 A100-80GB, ZeRO-3 with the optimizer on the host,
 * micro-batch 8 of 1,024 tokens, full recompute; the model, what ZeRO-3 gathers at once and
 * where the checkpoints wait as given. */
static struct scenario *deepspeed_azure(const char *model, const char *unit, const char *acts)
{
	return check_scenariof(model,
		"runtime: {framework: deepspeed, zero3_unit: %s}\nmodel: %s\n"
		"cluster: {node: ndm-a100-v4, nodes: 128}\n"
		"workload: {seq_len: 1024, global_batch: 8192, micro_batch: 8, dtype: fp16,"
		" flash_attention: false}\n"
		"strategy: {zero: 3, recompute: full, offload: {optimizer: cpu, activations: %s}}\n",
		unit, model, acts);
}

/* The memory reports of two scenarios, each of which must build; free_pair releases all four. */
static void build_pair(struct scenario *x, struct scenario *y, struct memory_report *a,
		       struct memory_report *b)
{
	assert_int_equal(memory_build(x, a), 0);
	assert_int_equal(memory_build(y, b), 0);
}

static void free_pair(struct scenario *x, struct scenario *y, struct memory_report *a,
		      struct memory_report *b)
{
	memory_report_release(a);
	memory_report_release(b);
	scenario_free(x);
	scenario_free(y);
}

static void offloaded_checkpoints_leave_one_layer_on_the_gpu(void **state)
{
	struct scenario *kept = deepspeed_azure("deepspeed-gpt-2t", "module", "none");
	struct scenario *off = deepspeed_azure("deepspeed-gpt-2t", "module", "cpu");
	struct memory_report a, b;
	(void)state;
	build_pair(kept, off, &a, &b);
	check_rel(a.roles[0].act_layers, 160 * 536870912.0, 1e-12);
	assert_false(a.fits);
	assert_non_null(strstr(a.advice, "strategy.offload.activations=cpu"));
	check_rel(b.roles[0].act_layers, 536870912.0, 1e-12);
	check_rel(b.host_per_node - a.host_per_node, 8 * 160 * 536870912.0, 1e-12);
	assert_true(b.fits);
	free_pair(kept, off, &a, &b);
}

/*
 * What ZeRO-3 gathers at once (runtime.zero3_unit), on Megatron's 1T GPT (h = 25600) under
 * DeepSpeed (no prefetch, fp16 weights and gradients: 2 + 2 bytes per gathered parameter, the
 * gathered unit and its gradients before the reduce-scatter). A whole layer, 12h^2 + 13h =
 * 7,864,652,800 parameters: 31,458,611,200 B. Module by module, as DeepSpeed fetches
 * submodules, only the largest, the 4h x h MLP matrix, 2,621,440,000: 10,485,760,000 B.
 */
static void zero3_gathers_a_layer_or_its_largest_module(void **state)
{
	struct scenario *layer = deepspeed_azure("megatron-gpt-1t", "layer", "none");
	struct scenario *module = deepspeed_azure("megatron-gpt-1t", "module", "none");
	struct memory_report a, b;
	(void)state;
	build_pair(layer, module, &a, &b);
	check_rel(a.roles[0].part[MEMORY_BUFFERS], 4 * 7864652800.0, 1e-12);
	check_rel(b.roles[0].part[MEMORY_BUFFERS], 4 * 2621440000.0, 1e-12);
	free_pair(layer, module, &a, &b);
}

/* Host memory is checked against the node: ZeRO-3 with parameters and optimizer offloaded for
 * Llama-3.1-405B puts 18 bytes per parameter on the hosts of 2 nodes (405.9e9 * 18 / 2 = 3.65 TB
 * per node), more than a p5.48xlarge's 2 TiB. */
static void host_memory_is_checked_against_the_node(void **state)
{
	struct scenario *s = check_scenariof("host",
		"model: llama-3.1-405b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 16}\n"
		"strategy: {zero: 3, recompute: full, offload: {optimizer: cpu, params: cpu}}\n");
	struct memory_report r;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	check_rel(r.host_per_node, 405853388800.0 * 18 / 2, 1e-9);
	assert_false(r.host_fits);
	memory_report_release(&r);
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero3_shards_weights_gradients_and_states_across_dp),
		cmocka_unit_test(fp32_training_keeps_fp32_gradients_unless_told),
		cmocka_unit_test(bf16_moments_keep_eight_bytes_of_state_per_parameter),
		cmocka_unit_test(ema_lives_on_the_gpu_or_in_host_memory),
		cmocka_unit_test(fp8_block_scaling_adds_a_scale_per_tile_to_cached_inputs),
		cmocka_unit_test(optimizer_offload_moves_sixteen_bytes_per_parameter_to_the_host),
		cmocka_unit_test(lora_trains_only_the_adapters),
		cmocka_unit_test(int4_weights_pay_for_their_group_scales),
		cmocka_unit_test(fp8_params_keep_the_linear_weights_in_one_byte),
		cmocka_unit_test(master_weights_take_four_two_or_no_bytes),
		cmocka_unit_test(kv_cache_splits_over_tp_and_shrinks_with_fp8),
		cmocka_unit_test(kv_token_capacity_is_the_budget_over_bytes_per_token),
		cmocka_unit_test(kv_bits_size_the_cache_below_a_byte),
		cmocka_unit_test(redundant_experts_cost_weights_and_split_the_hot_expert),
		cmocka_unit_test(pipeline_stages_group_into_roles),
		cmocka_unit_test(llama_405b_stages_follow_their_own_layer_counts),
		cmocka_unit_test(advice_keeps_the_account_for_split),
		cmocka_unit_test(overhead_is_context_workspace_and_nccl_per_group),
		cmocka_unit_test(largest_micro_batch_fits_and_one_more_does_not),
		cmocka_unit_test(a_misfit_gets_advice_that_fits),
		cmocka_unit_test(offloaded_checkpoints_leave_one_layer_on_the_gpu),
		cmocka_unit_test(zero3_gathers_a_layer_or_its_largest_module),
		cmocka_unit_test(host_memory_is_checked_against_the_node),
		cmocka_unit_test(experts_split_over_their_own_tensor_parallel_group),
		cmocka_unit_test(dualpipe_keeps_two_stages_and_p_plus_one_micro_batches),
		cmocka_unit_test(zero_bubble_keeps_one_f_one_b_first_stage_peak),
		cmocka_unit_test(sglang_sizes_its_running_batch_from_the_kv_pool),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
