/*
 * test_serve_pools: disaggregated prefill and decode (serving.pools) — a KV cache's move from
 * the prefill pool to the decode pool timed by hand over the network and over NVLink, two
 * moves sharing the sender's port, MLA's replicated cache gathered on arrival, preemption in
 * a decode pool short of KV blocks, each pool's GPUs, replicas and iterations, TTFT ending at
 * the prefill, a trace of both pools, the rate search run over the pools, and data-parallel
 * attention with EP beyond tp: one MoE layer's dispatch and combine by hand, and its pools.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "check.h"
#include "collective.h"
#include "compute.h"
#include "forward.h"
#include "run.h"
#include "serve.h"

/* Llama 3 70B in bf16 on p5.48xlarge nodes, one request of a 1024-token prompt and 2 output
 * tokens (one sampled by the prefill pool, one by the decode pool), all at time 0. */
#define ONE_REQUEST \
	"model: llama-3-70b\n" \
	"cluster: {node: p5.48xlarge, nodes: %d}\n" \
	"workload: {mode: infer, seq_len: 4096, dtype: bf16, requests: 1,\n" \
	"  prompt_tokens: {value: 1024}, output_tokens: {value: 2}}\n" \
	"strategy: {tp: 8}\n" \
	"serving:\n" \
	"  pools:\n" \
	"    prefill: {gpus: %d, tp: %d}\n" \
	"    decode: {gpus: %d, tp: %d}\n"

static void run(const struct scenario *s, const struct run_options *o, struct run_result *r)
{
	struct diag d;
	diag_init(&d);
	if (run_scenario(s, o, r, &d) != 0) {
		diag_print(&d, stderr);
		fail();
	}
	diag_release(&d);
	if (r->outcome != RUN_SIMULATED)
		fail_msg("not served: %s", r->reason);
}

/*
 * Two nodes, a TP8 replica on each: the prompt's KV cache crosses the network. Llama 3 70B
 * caches 2 (K, V) x 80 layers x 8 KV heads x 128 x 2 B = 327,680 B per token, 40,960 B per GPU
 * at TP8 (one KV head each); 1024 tokens: 41,943,040 B from each prefill GPU to its decode
 * peer. p5.48xlarge (topologies/nodes/p5.48xlarge.yaml): 3200 Gbit/s of EFA per node = 400 GB/s,
 * 50 GB/s per GPU (its busbw curve tops 1, so the link runs at its rate), 2.7 us latency. Time:
 * 41,943,040 / 50e9 + 2.7e-6 = 838.861 us + 2.7 us = 841.561 us. Nothing else is on the links.
 */
static void kv_cache_crosses_the_network_in_bytes_over_bandwidth_plus_latency(void **state)
{
	struct scenario *s = check_scenariof("pools_net", ONE_REQUEST, 2, 8, 8, 8, 8);
	struct run_result r;
	const struct serve_result *v = &r.serve;
	(void)state;
	run(s, NULL, &r);
	assert_true(v->disaggregated);
	check_rel(v->kv_transfer_bytes, 41943040.0, 1e-12);
	check_rel(v->kv_transfer.mean, 41943040.0 / 50e9 + 2.7e-6, 1e-9);
	check_rel(v->kv_transfer.p99, 41943040.0 / 50e9 + 2.7e-6, 1e-9);
	/* TTFT ends with the prefill (DistServe's count); the move falls into the second token. */
	assert_true(v->tpot.mean > v->kv_transfer.mean);
	check_rel(v->latency.mean - v->ttft.mean, v->tpot.mean, 1e-9);
	/* One replica per pool, one iteration each: the prompt, then the one decode step. */
	assert_int_equal(v->pool[SERVE_PREFILL].gpus, 8);
	assert_int_equal(v->pool[SERVE_DECODE].gpus, 8);
	assert_int_equal(v->pool[SERVE_PREFILL].replicas, 1);
	assert_int_equal(v->pool[SERVE_DECODE].replicas, 1);
	assert_int_equal(v->pool[SERVE_PREFILL].iterations, 1);
	assert_int_equal(v->pool[SERVE_DECODE].iterations, 1);
	assert_true(v->pool[SERVE_PREFILL].busy > 0 && v->pool[SERVE_PREFILL].busy < 1);
	assert_true(v->pool[SERVE_DECODE].busy > 0 && v->pool[SERVE_DECODE].busy < 1);
	run_result_release(&r);
	scenario_free(s);
}

/*
 * One node split in two TP4 pools: the KV cache moves over NVLink. At TP4 a GPU holds two KV
 * heads: 81,920 B per token, 83,886,080 B for 1024 tokens. p5.48xlarge NVLink: 450 GB/s per
 * direction at the preset's all-reduce efficiency 0.82 = 369 GB/s, 0.6 us latency:
 * 83,886,080 / 369e9 + 0.6e-6 = 227.334 us + 0.6 us = 227.934 us.
 */
static void kv_cache_inside_a_node_moves_over_nvlink(void **state)
{
	struct scenario *s = check_scenariof("pools_nvl", ONE_REQUEST, 1, 4, 4, 4, 4);
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	check_rel(r.serve.kv_transfer_bytes, 83886080.0, 1e-12);
	check_rel(r.serve.kv_transfer.mean, 83886080.0 / (450e9 * 0.82) + 0.6e-6, 1e-9);
	run_result_release(&r);
	scenario_free(s);
}

/* Pools of different tp: a TP4 prefill GPU holds twice what a TP8 decode GPU keeps, and the
 * sender's 83,886,080 B bound the move: 83,886,080 / 50e9 + 2.7e-6 = 1.680422 ms. */
static void the_larger_share_per_gpu_sets_the_bytes(void **state)
{
	struct scenario *s = check_scenariof("pools_mix", ONE_REQUEST, 2, 8, 4, 8, 8);
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	assert_int_equal(r.serve.pool[SERVE_PREFILL].replicas, 2);
	assert_int_equal(r.serve.pool[SERVE_DECODE].replicas, 1);
	check_rel(r.serve.kv_transfer.mean, 83886080.0 / 50e9 + 2.7e-6, 1e-9);
	run_result_release(&r);
	scenario_free(s);
}

/*
 * Two prompts prefilled in one iteration on one TP8 replica, pulled at once by two decode
 * replicas on two other nodes: both moves leave by the same port of the prefill GPU, which
 * shares its 50 GB/s between them (the engine's max-min fair links), so each takes
 * 2 x 41,943,040 / 50e9 + 2.7e-6 = 1.680422 ms, twice the time of a move alone plus latency.
 */
static void moves_from_one_replica_share_its_port(void **state)
{
	struct scenario *s = check_scenario(
		"pools_share", "model: llama-3-70b\n"
			       "cluster: {node: p5.48xlarge, nodes: 3}\n"
			       "workload: {mode: infer, seq_len: 4096, dtype: bf16, requests: 2,\n"
			       "  prompt_tokens: {value: 1024}, output_tokens: {value: 2}}\n"
			       "strategy: {tp: 8}\n"
			       "serving: {pools: {prefill: {gpus: 8, tp: 8},\n"
			       "  decode: {gpus: 16, tp: 8}}}\n");
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	assert_int_equal(r.serve.pool[SERVE_PREFILL].iterations, 1);
	assert_int_equal(r.serve.pool[SERVE_DECODE].replicas, 2);
	check_rel(r.serve.kv_transfer.mean, 2 * 41943040.0 / 50e9 + 2.7e-6, 1e-9);
	check_rel(r.serve.kv_transfer.p99, 2 * 41943040.0 / 50e9 + 2.7e-6, 1e-9);
	run_result_release(&r);
	scenario_free(s);
}

/*
 * MLA's latent cache is whole on every GPU of a TP replica: it crosses the network once,
 * striped, and is all-gathered over the decode node's NVLink. DeepSeek-V3 caches
 * (kv_lora_rank 512 + qk_rope_head_dim 64) x 61 layers x 2 B (bf16) = 70,272 B per token;
 * 1024 tokens: 71,958,528 B. Each of 8 GPUs sends 8,994,816 B over its 50 GB/s of EFA
 * (p5e.48xlarge: 3200 Gbit/s per node, 2.7 us): 179.896 us + 2.7 us; then each decode GPU
 * receives the other 7/8, 62,963,712 B, over NVLink at 450 GB/s x 0.82 (0.6 us): 170.633 us +
 * 0.6 us. In all 353.830 us.
 */
static void a_replicated_latent_cache_crosses_once_then_gathers(void **state)
{
	struct scenario *s = check_scenario(
		"pools_mla", "model: deepseek-v3\n"
			     "cluster: {node: p5e.48xlarge, nodes: 2}\n"
			     "workload: {mode: infer, seq_len: 4096, dtype: fp8, kv_dtype: bf16,\n"
			     "  requests: 1, prompt_tokens: {value: 1024}, output_tokens: {value: 2}}\n"
			     "strategy: {tp: 8, ep: 8}\n"
			     "serving: {pools: {prefill: {gpus: 8, tp: 8, ep: 8},\n"
			     "  decode: {gpus: 8, tp: 8, ep: 8}}}\n");
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	check_rel(r.serve.kv_transfer_bytes, 8994816.0, 1e-12);
	check_rel(r.serve.kv_transfer.mean,
		  8994816.0 / 50e9 + 2.7e-6 + 62963712.0 / (450e9 * 0.82) + 0.6e-6, 1e-9);
	run_result_release(&r);
	scenario_free(s);
}

/* --find-max-rate searches over the pools as given: every run it makes is disaggregated. */
static void the_rate_search_runs_the_pools(void **state)
{
	struct scenario *s = check_scenario(
		"pools_slo", "model: llama-3-70b\n"
			     "cluster: {node: p5.48xlarge, nodes: 2}\n"
			     "workload: {mode: infer, seq_len: 4096, dtype: bf16, requests: 200,\n"
			     "  prompt_tokens: {value: 512}, output_tokens: {value: 64}}\n"
			     "strategy: {tp: 8}\n"
			     "serving: {pools: {prefill: {gpus: 8, tp: 4}, decode: {gpus: 8, tp: 8}}}\n");
	struct serve_slo slo;
	struct run_options o;
	struct run_result r;
	struct diag d;
	struct mark at = {NULL, 0, 0};
	(void)state;
	diag_init(&d);
	assert_int_equal(serve_parse_slo("ttft_p99=500ms", at, "--slo", &slo, &d), 0);
	diag_release(&d);
	memset(&o, 0, sizeof o);
	o.find_max_rate = &slo;
	run(s, &o, &r);
	assert_true(r.serve.searched);
	assert_true(r.serve.disaggregated);
	assert_true(r.serve.found_rate > 0);
	assert_true(r.serve.ttft.p99 <= 0.5);
	run_result_release(&r);
	scenario_free(s);
}

/*
 * A decode replica short of KV blocks: 64 prompts of 1024 tokens generating 512 each need
 * 64 x 96 = 6144 blocks of 16 tokens at the end, and at 25 % of the H100's memory a TP8
 * replica of Llama 3 70B has some 3500. Under vLLM's scheduler (the default profile) blocks
 * grow on demand and the newest sequence is preempted and recomputed on the decode replica;
 * with reserve_output (TensorRT-LLM) a cache is pulled only with its whole output's blocks, and
 * nothing is preempted. Every request is served either way.
 */
static void a_short_decode_cache_preempts_unless_it_reserves(void **state)
{
	static const char *const yaml =
		"model: llama-3-70b\n"
		"cluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {mode: infer, seq_len: 4096, dtype: bf16, requests: 64,\n"
		"  prompt_tokens: {value: 1024}, output_tokens: {value: 512}}\n"
		"strategy: {tp: 8}\n"
		"serving: {gpu_memory_utilization: 0.25, reserve_output: %s,\n"
		"  pools: {prefill: {gpus: 8, tp: 8}, decode: {gpus: 8, tp: 8}}}\n";
	struct scenario *s = check_scenariof("pools_short", yaml, "false");
	struct scenario *t = check_scenariof("pools_reserve", yaml, "true");
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	assert_true(r.serve.pool[SERVE_DECODE].kv_blocks_total < 64 * 96);
	assert_int_equal(r.serve.finished, 64);
	assert_true(r.serve.preemptions > 0);
	assert_int_equal(r.serve.kv_blocks_peak, r.serve.pool[SERVE_DECODE].kv_blocks_total);
	run_result_release(&r);
	run(t, NULL, &r);
	assert_int_equal(r.serve.finished, 64);
	assert_int_equal(r.serve.preemptions, 0);
	run_result_release(&r);
	scenario_free(s);
	scenario_free(t);
}

/* A decode pool of one sequence at a time pulls the next cache only when the last finished:
 * three requests at once still all finish, and each after the one before. */
static void a_full_decode_pool_leaves_caches_on_the_prefill_side(void **state)
{
	struct scenario *s = check_scenario(
		"pools_full", "model: llama-3-70b\n"
			      "cluster: {node: p5.48xlarge, nodes: 2}\n"
			      "workload: {mode: infer, seq_len: 4096, dtype: bf16, requests: 3,\n"
			      "  prompt_tokens: {value: 1024}, output_tokens: {value: 16}}\n"
			      "strategy: {tp: 8}\n"
			      "serving: {pools: {prefill: {gpus: 8, tp: 8},\n"
			      "  decode: {gpus: 8, tp: 8, max_num_seqs: 1}}}\n");
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	assert_int_equal(r.serve.finished, 3);
	/*
	 * Three sequences one after another: 3 x 15 decode iterations. All three prompts finish
	 * in one prefill; the k-th then waits while k - 1 caches move and decode before it, and
	 * each move and each sequence's 15 steps take the same time, so TPOT_k = k x TPOT_1:
	 * mean and median 2 x TPOT_1. The 99th percentile (GSL's, interpolating at rank
	 * 0.99 x (3 - 1) = 1.98) is 2 + 0.98 = 2.98 x TPOT_1, 2.98 / 2 = 1.49 times the median.
	 */
	assert_int_equal(r.serve.pool[SERVE_DECODE].iterations, 45);
	check_rel(r.serve.tpot.mean, r.serve.tpot.p50, 1e-9);
	check_rel(r.serve.tpot.p99, 1.49 * r.serve.tpot.p50, 1e-9);
	run_result_release(&r);
	scenario_free(s);
}

/* Kept for --trace, every iteration of both pools with its replica: the prefill pool's first
 * (the prompt, one prefill), then the decode replica's (one decode step, no prefill). */
static void a_trace_keeps_both_pools_iterations(void **state)
{
	struct scenario *s = check_scenariof("pools_trace", ONE_REQUEST, 2, 8, 8, 8, 8);
	struct run_options o;
	struct run_result r;
	(void)state;
	memset(&o, 0, sizeof o);
	o.keep_iterations = true;
	run(s, &o, &r);
	assert_int_equal(r.serve.niters, 2);
	assert_int_equal(r.serve.iters[0].replica, 0);
	assert_int_equal(r.serve.iters[0].prefills, 1);
	assert_int_equal(r.serve.iters[0].tokens, 1024);
	assert_int_equal(r.serve.iters[1].replica, 1);
	assert_int_equal(r.serve.iters[1].prefills, 0);
	assert_int_equal(r.serve.iters[1].tokens, 1);
	/* The decode step starts once the cache has arrived. */
	assert_true(r.serve.iters[1].start >= r.serve.iters[0].start + r.serve.iters[0].duration +
						    r.serve.kv_transfer.mean);
	run_result_release(&r);
	scenario_free(s);
}

/*
 * Data-parallel attention (DeepSeek-V3 on 2 H800 nodes, tp 1, ep 16: 16 attention ranks, 16 of
 * the 256 routed experts per GPU), 1024 decode tokens in the replica, 64 per rank. One MoE
 * layer by hand: each GPU dispatches its 64 tokens of 7168 elements in FP8 with a 4-byte scale
 * per 128 (1.03125 B per element): 64 x 7168 x 1.03125 = 473,088 B per copy; the combine in
 * BF16, 64 x 7168 x 2 = 917,504 B. Routing to topk_group 4 of n_group 8 over 2 nodes reaches
 * min(4 x max(1, 2/8), 8, 2) = 2 nodes: InfiniBand carries a copy x 2 x 1/2 = 1 copy. NVLink
 * carries one copy to each GPU the 8 experts lie on (DeepSeek-V3 sec. 3.2.2), drawn from the 4
 * groups' 128 experts on 8 GPUs of 16: a GPU is missed with C(112,8)/C(128,8) = 0.332580, so
 * 8 x 0.667420 = 5.33936 GPUs, but for the 1/8 that is the receiving GPU, 4.67194 copies.
 * NVLink's copies at 160 GB/s take longer than InfiniBand's one at 50 GB/s, so they set the
 * time and are the bytes moved: 4.67194 x (473,088 + 917,504) = 6,496,759 B per layer, x 58 MoE
 * layers = 376,811,999 B on NVLink, none on the network.
 */
static void dp_attention_dispatches_each_ranks_tokens_over_the_ep_group(void **state)
{
	struct scenario *s = check_scenario("dpa",
		"model: deepseek-v3\ncluster: {node: h800-node, nodes: 2}\n"
		"workload: {mode: infer, dtype: fp8, seq_len: 8192}\nstrategy: {tp: 1}\n");
	struct forward_batch b = {1024, 1024, 0, 1024 * 4096.0, 1024 * 4096.0, 0};
	struct forward_comm comm;
	double part[FORWARD_PARTS];
	struct forward_cost *f;
	struct diag d;
	(void)state;
	/* As a pool sets its layout (serve_pools.c pool_init). */
	s->strategy.ep = 16;
	s->strategy.dp = 16;
	assert_int_equal(forward_attention_dp(s), 16);
	assert_int_equal(forward_replica_gpus(s), 16);
	diag_init(&d);
	f = forward_new(s, &d);
	diag_release(&d);
	assert_non_null(f);
	forward_time_comm(f, &b, part, &comm);
	check_rel(comm.bytes[LINK_CLASS_GPU], 376811999.43, 1e-10);
	assert_true(comm.bytes[LINK_CLASS_NETWORK] == 0);
	assert_true(part[FORWARD_TP] == 0 && part[FORWARD_EP] > 0);
	forward_free(f);
	scenario_free(s);
}

/* Pools with data-parallel attention: a replica is the EP group of 16 GPUs holding 16 ranks'
 * KV blocks and batch limits (128 sequences each), and serves every request. */
static void dp_attention_pools_hold_every_ranks_cache(void **state)
{
	struct scenario *s = check_scenario("dpa_pools",
		"model: deepseek-v3\ncluster: {node: h800-node, nodes: 4}\n"
		"workload: {mode: infer, dtype: fp8, seq_len: 4096, requests: 64,\n"
		"  arrival: {process: poisson, rate: 50/s},\n"
		"  prompt_tokens: {value: 1024}, output_tokens: {value: 16}}\n"
		"strategy: {tp: 1}\n"
		"serving:\n  max_num_seqs: 128\n  pools:\n    prefill: {gpus: 16, tp: 1, ep: 16}\n"
		"    decode: {gpus: 16, tp: 1, ep: 16}\n");
	struct run_result r;
	int k;
	(void)state;
	run(s, NULL, &r);
	assert_int_equal(r.serve.finished, 64);
	for (k = 0; k < 2; k++) {
		assert_int_equal(r.serve.pool[k].replicas, 1);
		assert_int_equal(r.serve.pool[k].gpus, 16);
		assert_int_equal(r.serve.pool[k].kv_blocks_total % 16, 0);
	}
	assert_int_equal(r.serve.pool[1].max_num_seqs, 16 * 128);
	run_result_release(&r);
	scenario_free(s);
}

/* Colocated, the same layout: DeepSeek-V2 on 16 H800 at tp 1, ep 8 is dp 16 attention ranks in
 * 2 replicas of 8 GPUs; each replica's cache is its 8 ranks' own: 8 times one GPU's KV budget
 * over the bytes of a 16-token block (vLLM's num_gpu_blocks), and both serve. */
static void dp_attention_colocated_replica_is_the_ep_group(void **state)
{
	struct scenario *s = check_scenario("dpa_colocated",
		"model: deepseek-v2\ncluster: {node: h800-node, nodes: 2}\n"
		"workload: {mode: infer, dtype: fp8, seq_len: 4096, requests: 32,\n"
		"  arrival: {process: poisson, rate: 20/s},\n"
		"  prompt_tokens: {value: 512}, output_tokens: {value: 8}}\n"
		"strategy: {tp: 1, ep: 8}\n");
	struct run_result r;
	(void)state;
	run(s, NULL, &r);
	assert_int_equal(r.serve.finished, 32);
	assert_int_equal(r.serve.replicas, 2);
	assert_int_equal(r.serve.kv_blocks_total,
			 (int64_t)floor(8 * r.memory.kv_budget / (r.memory.kv_bytes_per_token * 16)));
	run_result_release(&r);
	scenario_free(s);
}

/* A model on 2 H800 nodes at tp 1, ep 16, as a pool sets its layout, with
 * serving.two_batch_overlap set or not. */
static struct forward_cost *dpa_forward(struct scenario **s, const char *model, bool tbo)
{
	struct forward_cost *f;
	struct diag d;
	*s = check_scenariof("dpa_tbo",
		"model: %s\ncluster: {node: h800-node, nodes: 2}\n"
		"workload: {mode: infer, seq_len: 8192}\nstrategy: {tp: 1}\n"
		"serving: {two_batch_overlap: %s}\n", model, tbo ? "true" : "false");
	(*s)->strategy.ep = 16;
	(*s)->strategy.dp = 16;
	diag_init(&d);
	f = forward_new(*s, &d);
	diag_release(&d);
	assert_non_null(f);
	return f;
}

/* Two micro-batches hide each MoE layer's all-to-all under the other's compute: DeepSeek-V3
 * (37 B active) prefilling 4096 tokens per rank computes far longer than it dispatches, so
 * nothing shows. Qwen3-30B-A3B (3 B active, hidden 2048) decoding 1024 short sequences per rank
 * dispatches longer than it computes and shows only what the all-to-all outlasts the compute by
 * (some, not all, of it), and its link transfers add up to that time. Each half runs every
 * layer's kernels on its own, reading the weights again: more compute than the whole batch's
 * in one pass, and less than twice it.
 *
 * The exposed time by hand. Qwen3-30B-A3B's 48 layers are all MoE and alike. A plain pass over
 * the half batch (8,192 sequences, 512 per rank) gives each layer's all-to-all (its EP time
 * over 48) and compute (its compute time less what lies outside the layers: reading 512
 * tokens' embeddings and writing their hidden states, 2 x 512 x 2,048 x 2 B streamed, and the
 * head's 512 x 151,936 x 2,048 GEMM in bf16). With the overlap each half's all-to-all runs
 * under the other's compute and shows only what it outlasts it by, twice per layer:
 * EP = 2 x (EP_half - (compute_half - outside)), 12.5 ms here. */
static void two_batch_overlap_hides_the_all_to_all_under_compute(void **state)
{
	struct scenario *s0, *s1;
	struct forward_cost *plain = dpa_forward(&s0, "deepseek-v3", false);
	struct forward_cost *tbo = dpa_forward(&s1, "deepseek-v3", true);
	struct forward_batch prefill = {65536, 16, 16 * 4096.0 * 4097.0 / 2, 0, 65536,
					16 * 4096.0 * 4097.0 / 2 * 4096};
	struct forward_batch decode = {16384, 16384, 0, 16384 * 16.0, 16384 * 16.0, 0};
	struct forward_batch half = {8192, 8192, 0, 8192 * 16.0, 8192 * 16.0, 0};
	double p0[FORWARD_PARTS], p1[FORWARD_PARTS], ph[FORWARD_PARTS], moved = 0, outside;
	struct forward_comm comm;
	struct compute *gpu;
	struct mark at = {NULL, 0, 0};
	struct diag d;
	int c;
	(void)state;
	forward_time(plain, &prefill, p0);
	forward_time_comm(tbo, &prefill, p1, &comm);
	assert_true(p0[FORWARD_EP] > 0);
	assert_true(p1[FORWARD_EP] == 0 && comm.bytes[LINK_CLASS_GPU] == 0);
	forward_free(plain);
	forward_free(tbo);
	scenario_free(s0);
	scenario_free(s1);
	plain = dpa_forward(&s0, "qwen3-30b-a3b", false);
	tbo = dpa_forward(&s1, "qwen3-30b-a3b", true);
	forward_time(plain, &decode, p0);
	forward_time_comm(tbo, &decode, p1, &comm);
	print_message("decode EP %.3f ms exposed of %.3f ms, compute %.3f ms\n", p1[FORWARD_EP] * 1e3,
		      p0[FORWARD_EP] * 1e3, p0[FORWARD_COMPUTE] * 1e3);
	assert_true(p1[FORWARD_EP] > 0 && p1[FORWARD_EP] < p0[FORWARD_EP]);
	print_message("decode compute %.3f ms, two halves %.3f ms\n", p0[FORWARD_COMPUTE] * 1e3,
		      p1[FORWARD_COMPUTE] * 1e3);
	assert_true(p1[FORWARD_COMPUTE] > p0[FORWARD_COMPUTE] &&
		    p1[FORWARD_COMPUTE] < 2 * p0[FORWARD_COMPUTE]);
	for (c = 0; c < FORWARD_LINKS; c++)
		if (comm.bytes[c] > 0 || comm.latency[c] > 0)
			moved += comm.latency[c] + comm.bytes[c] / forward_link_bandwidth(tbo, c);
	check_rel(moved, p1[FORWARD_EP], 1e-12);
	assert_int_equal(s0->model.layers, 48);
	assert_int_equal(s0->model.moe.dense_layers, 0);
	assert_int_equal(s0->model.vocab, 151936);
	assert_int_equal(s0->model.hidden, 2048);
	diag_init(&d);
	gpu = compute_new(&s0->cluster.node.gpu, at, &d);
	assert_non_null(gpu);
	outside = compute_stream_time(gpu, 2 * 512.0 * 2048 * 2) +
		  compute_gemm_time_weights(gpu, DTYPE_BF16, 2, 512, 151936, 2048);
	forward_time(plain, &half, ph);
	print_message("exposed EP %.4f ms; half batch EP %.4f ms, layers' compute %.4f ms\n",
		      p1[FORWARD_EP] * 1e3, ph[FORWARD_EP] * 1e3,
		      (ph[FORWARD_COMPUTE] - outside) * 1e3);
	check_rel(p1[FORWARD_EP], 2 * (ph[FORWARD_EP] - (ph[FORWARD_COMPUTE] - outside)), 1e-9);
	compute_free(gpu);
	diag_release(&d);
	forward_free(plain);
	forward_free(tbo);
	scenario_free(s0);
	scenario_free(s1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kv_cache_crosses_the_network_in_bytes_over_bandwidth_plus_latency),
		cmocka_unit_test(kv_cache_inside_a_node_moves_over_nvlink),
		cmocka_unit_test(the_larger_share_per_gpu_sets_the_bytes),
		cmocka_unit_test(moves_from_one_replica_share_its_port),
		cmocka_unit_test(a_replicated_latent_cache_crosses_once_then_gathers),
		cmocka_unit_test(the_rate_search_runs_the_pools),
		cmocka_unit_test(a_full_decode_pool_leaves_caches_on_the_prefill_side),
		cmocka_unit_test(a_short_decode_cache_preempts_unless_it_reserves),
		cmocka_unit_test(a_trace_keeps_both_pools_iterations),
		cmocka_unit_test(dp_attention_dispatches_each_ranks_tokens_over_the_ep_group),
		cmocka_unit_test(dp_attention_pools_hold_every_ranks_cache),
		cmocka_unit_test(dp_attention_colocated_replica_is_the_ep_group),
		cmocka_unit_test(two_batch_overlap_hides_the_all_to_all_under_compute),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
