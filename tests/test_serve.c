/*
 * test_serve: the inference serving engine — KV arithmetic against the DeepSeek-V2 report and the
 * vLLM paper, the decode roofline by hand, Little's law, determinism, preemption, batching, the
 * request stream, the latency targets and the engine profiles' costs and admission.
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
#include "forward.h"
#include "memory.h"
#include "model.h"
#include "requests.h"
#include "run.h"
#include "serve.h"
#include "serve_int.h"
#include "serve_state.h"

/* Build memory and serve the scenario's requests through the run module, as dssim does, with
 * options o (may be NULL); the test fails when the run does not simulate. *m and *r are the
 * caller's to release. */
static void serve_with(struct scenario *s, const struct run_options *o, struct memory_report *m,
		       struct serve_result *r)
{
	struct run_result rr;
	struct diag d;
	diag_init(&d);
	if (run_scenario(s, o, &rr, &d) != 0) {
		diag_print(&d, stderr);
		fail();
	}
	diag_release(&d);
	if (rr.outcome != RUN_SIMULATED)
		fail_msg("not served: %s", rr.reason);
	*m = rr.memory;
	*r = rr.serve;
	assert_true(r->requests > 0);
	assert_int_equal(r->finished, r->requests);
}

static void serve(struct scenario *s, struct memory_report *m, struct serve_result *r)
{
	serve_with(s, NULL, m, r);
}

/* The scenario's forward costs; the test fails, printing why, when it cannot serve. */
static struct forward_cost *new_forward(const struct scenario *s)
{
	struct diag d;
	struct forward_cost *f;
	diag_init(&d);
	f = forward_new(s, &d);
	if (f == NULL) {
		diag_print(&d, stderr);
		fail();
	}
	diag_release(&d);
	return f;
}

/*
 * DeepSeek-V2 report, sec. 2.1 and Table 1: MLA caches (d_c + d_h^R) = 512 + 64 elements per
 * token per layer; 60 layers in bf16 = 69,120 B. DeepSeek LLM 67B (GQA, 8 KV heads of 128, 95
 * layers) caches 2 * 8 * 128 * 95 * 2 = 389,120 B. 1 - 69,120/389,120 = 82.2 %; with about 6
 * bits per element (the report's quantized KV cache) 34,560 * 0.75 = 25,920 B: 93.3 %, the
 * report's "reduces the KV cache by 93.3 %".
 */
static void mla_cache_is_smaller_by_what_deepseek_v2_reports(void **state)
{
	struct scenario *v2 = check_scenario("v2kv", "model: deepseek-v2\ncluster: {node: "
						     "p5e.48xlarge, gpus: 8}\nstrategy: {tp: 8}\n"
						     "workload: {mode: infer, seq_len: 4096}\n");
	struct scenario *g67 = check_scenario("67kv", "model: deepseek-llm-67b\ncluster: {node: "
						      "p5e.48xlarge, gpus: 1}\n"
						      "workload: {mode: infer, seq_len: 4096}\n");
	struct scenario *m7 = check_scenario("7kv", "model: deepseek-llm-7b\ncluster: {node: "
						    "p5e.48xlarge, gpus: 1}\n"
						    "workload: {mode: infer, seq_len: 4096}\n");
	double v2_elems = model_kv_elems_per_token_layer(&v2->model) * 60;
	struct memory_report a, b, c;
	(void)state;
	assert_int_equal(memory_build(v2, &a), 0);
	assert_int_equal(memory_build(g67, &b), 0);
	assert_int_equal(memory_build(m7, &c), 0);
	/* The whole latent sits on every TP rank. */
	check_rel(a.kv_bytes_per_token, 69120.0, 1e-12);
	check_rel(b.kv_bytes_per_token, 389120.0, 1e-12);
	/* MHA: 2 * 32 heads * 128 * 30 layers * 2 B. */
	check_rel(c.kv_bytes_per_token, 491520.0, 1e-12);
	check_rel(1 - a.kv_bytes_per_token / b.kv_bytes_per_token, 0.822, 0.001);
	check_rel(1 - v2_elems * 6.0 / 8.0 / b.kv_bytes_per_token, 0.933, 0.001);
	memory_report_release(&a);
	memory_report_release(&b);
	memory_report_release(&c);
	scenario_free(v2);
	scenario_free(g67);
	scenario_free(m7);
}

/*
 * vLLM's block count (worker cache_engine.py get_cache_block_size): bytes per block = 2 * layers
 * * kv_heads * head_size * dtype * block_size = 2 * 40 * 5120 * 2 * 16 = 13,107,200 B for
 * OPT-13B; blocks = (0.9 * memory - weights - profile peak - overhead) // that. The vLLM paper
 * (Table 1) reports 15.7K KV slots for OPT-13B on one A100-40GB, with max_num_batched_tokens 2048
 * at the time.
 */
static void opt_13b_block_count_follows_vllm(void **state)
{
	struct scenario *s = check_scenario("opt13blocks",
		"model: opt-13b\ncluster: {node: p4d.24xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 2048, dtype: fp16, requests: 50,\n"
		"           output_tokens: {value: 16}, prompt_tokens: {value: 256}}\n"
		"runtime: {cuda_context: 0, nccl_per_group: 0, cublas_workspace: 0}\n"
		"serving: {max_batched_tokens: 2048}\n");
	struct memory_report m;
	struct serve_result r;
	double weights, expect;
	(void)state;
	serve(s, &m, &r);
	weights = m.roles[0].part[MEMORY_WEIGHTS];
	expect = floor((0.9 * m.capacity - weights - m.profile_workspace) / 13107200.0);
	assert_int_equal(r.kv_blocks_total, (int64_t)expect);
	print_message("OPT-13B: %lld blocks = %.0f tokens (paper 15.7K)\n",
		      (long long)r.kv_blocks_total, r.kv_tokens);
	check_rel(r.kv_tokens, 15700, 0.02);
	memory_report_release(&m);
	scenario_free(s);
}

/*
 * One request at a time on one H100: every decode step reads all linear weights (the head
 * included, the embedding table not: one row per token) and the KV cache so far, at the memory
 * bandwidth times the preset's STREAM efficiency (3.35 TB/s x 0.89), and runs 48 layers of ten
 * kernels, each 4.6 us of fixed GPU time (the H100 preset has no kernel_latency: compute.c's
 * fallback). Qwen2.5-14B in bf16:
 * weights = (params - vocab * hidden) * 2 B; KV 196,608 B per token. With a prompt of 512 and
 * 129 output tokens, decode step g (g = 1..128) reads 512 + g cached tokens: 576.5 on average.
 * An engine given as an empty mapping costs nothing besides its GPU work.
 */
#define DECODE_YAML(prompt) "model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, " \
	"gpus: 1}\nworkload: {mode: infer, seq_len: 4096, requests: 3,\n" \
	"  arrival: {process: constant, rate: 0.01/s},\n" \
	"  prompt_tokens: {value: " #prompt "}, output_tokens: {value: 129}}\n" \
	"serving: {engine: %s}\n"
#define DECODE1_YAML DECODE_YAML(512)

static void single_request_decode_is_weights_plus_kv_over_bandwidth(void **state)
{
	struct scenario *s = check_scenariof("decode1", DECODE1_YAML, "{name: bare}");
	struct scenario *l = check_scenariof("decode2560", DECODE_YAML(2560), "{name: bare}");
	struct memory_report m, ml;
	struct serve_result r, rl;
	double weights, kv, bw, expect;
	(void)state;
	serve(s, &m, &r);
	weights = (m.params.total - 152064.0 * 5120.0) * 2.0;
	kv = 196608.0 * (512 + 64.5);
	bw = 3.35e12 * 0.89;
	expect = (weights + kv) / bw + 48 * 10 * 4.6e-6;
	print_message("TPOT %.4f ms, hand %.4f ms\n", r.tpot.mean * 1e3, expect * 1e3);
	check_rel(r.tpot.mean, expect, 0.01);
	check_rel(s->cluster.node.gpu.memory_bw, 3.35e12, 1e-9);
	check_rel(s->cluster.node.gpu.efficiency.memory, 0.89, 1e-9);
	/* No queueing: every request is served alone. */
	check_rel(r.mean_batch, 1.0, 1e-12);
	/*
	 * The KV term is 0.3 % of TPOT, inside the 1 % above; isolate it. A token's KV cache is
	 * K and V (2) x 8 KV heads x 128 head dim x 48 layers x 2 B (bf16) = 196,608 B. A prompt
	 * of 2,560 instead of 512 reads 2,048 more cached tokens at every decode step and changes
	 * nothing else: TPOT grows by 196,608 x 2,048 / (3.35e12 x 0.89) = 135.051 us.
	 */
	serve(l, &ml, &rl);
	check_rel(rl.tpot.mean - r.tpot.mean, 196608.0 * 2048 / bw, 1e-9);
	memory_report_release(&ml);
	memory_report_release(&m);
	scenario_free(s);
	scenario_free(l);
}

/* Little's law (L = lambda W): on a long steady Poisson run the time-average number of requests
 * in the engine equals the arrival rate times the mean latency. */
static void littles_law_holds_on_a_steady_run(void **state)
{
	struct scenario *s = check_scenario("little",
		"model: deepseek-r1-distill-qwen-7b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, requests: 4000,\n"
		"           arrival: {process: poisson, rate: 8/s},\n"
		"           prompt_tokens: {dist: lognormal, mean: 512, sd: 256, max: 2048},\n"
		"           output_tokens: {dist: uniform, min: 64, max: 256}}\n");
	struct memory_report m;
	struct serve_result r;
	(void)state;
	serve(s, &m, &r);
	print_message("L %.3f, lambda W %.3f (%lld iterations)\n", r.mean_in_system,
		      8.0 * r.latency.mean, (long long)r.iterations);
	check_rel(r.mean_in_system, 8.0 * r.latency.mean, 0.05);
	/* A stable queue serves what arrives. */
	check_rel(r.requests_per_s, 8.0, 0.05);
	memory_report_release(&m);
	scenario_free(s);
}

#define SEED_YAML "model: deepseek-r1-distill-qwen-7b\ncluster: {node: p5.48xlarge, " \
	"gpus: 1}\nworkload: {mode: infer, seq_len: 4096, requests: 500, seed: %d,\n" \
	"  arrival: {process: gamma, rate: 6/s, cv: 2},\n" \
	"  prompt_tokens: {dist: normal, mean: 700, sd: 300}}\n"

static void same_seed_same_numbers(void **state)
{
	struct scenario *a = check_scenariof("seed1", SEED_YAML, 7);
	struct scenario *b = check_scenariof("seed2", SEED_YAML, 7);
	struct scenario *c = check_scenariof("seed3", SEED_YAML, 8);
	struct memory_report ma, mb, mc;
	struct serve_result ra, rb, rc;
	(void)state;
	serve(a, &ma, &ra);
	serve(b, &mb, &rb);
	serve(c, &mc, &rc);
	assert_memory_equal(&ra.ttft, &rb.ttft, sizeof ra.ttft);
	assert_memory_equal(&ra.latency, &rb.latency, sizeof ra.latency);
	assert_true(ra.duration == rb.duration && ra.iterations == rb.iterations);
	assert_true(ra.latency.mean != rc.latency.mean);
	memory_report_release(&ma);
	memory_report_release(&mb);
	memory_report_release(&mc);
	scenario_free(a);
	scenario_free(b);
	scenario_free(c);
}

/* A KV cache too small for the load preempts the newest sequences; every request still
 * finishes, by recomputation or by swapping over PCIe. */
#define PREEMPT_YAML "model: deepseek-r1-distill-qwen-14b\ncluster: {node: nd-h100-v5, " \
	"gpus: 1}\nworkload: {mode: infer, seq_len: 4096, requests: 300,\n" \
	"  output_tokens: {value: 512}}\n" \
	"serving: {gpu_memory_utilization: 0.45, preemption: %s}\n"

static void a_small_cache_preempts_and_still_serves_everyone(void **state)
{
	struct scenario *rec = check_scenariof("prerec", PREEMPT_YAML, "recompute");
	struct scenario *swp = check_scenariof("preswap", PREEMPT_YAML, "swap, engine: vllm-v0");
	struct memory_report m1, m2;
	struct serve_result r1, r2;
	(void)state;
	serve(rec, &m1, &r1);
	serve(swp, &m2, &r2);
	assert_true(r1.preemptions > 0);
	assert_int_equal(r1.swaps, 0);
	assert_true(r2.swaps > 0);
	assert_true(r2.swap_s > 0);
	assert_int_equal(r1.kv_blocks_peak, r1.kv_blocks_total);
	memory_report_release(&m1);
	memory_report_release(&m2);
	scenario_free(rec);
	scenario_free(swp);
}

/*
 * Continuous batching beats static batching on mixed lengths (Yu et al. 2022, Orca; Kwon et al.
 * 2023, Fig. 12: several times the throughput): static batches wait for their longest member.
 * The mechanism by hand: every request arrives at once with the default 1,024-token prompt, and
 * a static batch takes prompts up to max_batched_tokens 8,192, so 8,192 / 1,024 = 8 of them
 * (under max_num_seqs 64); the batch prefills once, making its first tokens, then decodes until
 * its longest output is done, all 8 sequences in every iteration. 800 requests make 100 batches
 * of 8 consecutive requests; the iterations are the sum of each group's largest output (92,148
 * for these lengths), and the mean batch is 8.
 */
#define BATCHING_YAML "model: deepseek-r1-distill-qwen-7b\ncluster: {node: p5.48xlarge, " \
	"gpus: 1}\nworkload: {mode: infer, seq_len: 4096, requests: 800,\n" \
	"  output_tokens: {dist: uniform, min: 16, max: 1024}}\n" \
	"serving: {batching: %s, max_num_seqs: 64}\n"

static void continuous_batching_outserves_static(void **state)
{
	struct scenario *c = check_scenariof("cont", BATCHING_YAML, "continuous");
	struct scenario *t = check_scenariof("static", BATCHING_YAML, "static");
	struct memory_report m1, m2;
	struct serve_result r1, r2;
	struct request_stream rs;
	struct diag d;
	int64_t iterations = 0, longest;
	size_t i, j;
	(void)state;
	serve(c, &m1, &r1);
	serve(t, &m2, &r2);
	print_message("continuous %.0f, static %.0f output tokens/s\n", r1.output_tokens_per_s,
		      r2.output_tokens_per_s);
	assert_true(r1.output_tokens_per_s > 1.5 * r2.output_tokens_per_s);
	diag_init(&d);
	assert_int_equal(requests_build(t, &rs, &d), 0);
	assert_int_equal(rs.n, 800);
	assert_int_equal(t->serving.max_batched_tokens, 8192);
	for (i = 0; i < rs.n; i += 8) {
		longest = 0;
		for (j = i; j < i + 8; j++) {
			assert_int_equal(rs.req[j].prompt, 1024);
			if (rs.req[j].output > longest)
				longest = rs.req[j].output;
		}
		iterations += longest;
	}
	print_message("static: %lld iterations, sum of batch maxima %lld\n",
		      (long long)r2.iterations, (long long)iterations);
	assert_int_equal(r2.iterations, iterations);
	check_rel(r2.mean_batch, 8.0, 1e-12);
	requests_release(&rs);
	diag_release(&d);
	memory_report_release(&m1);
	memory_report_release(&m2);
	scenario_free(c);
	scenario_free(t);
}

/* A trace gives arrivals and lengths; a bad row is reported with its line and column. */
static void trace_files_are_read_and_checked(void **state)
{
	struct scenario *s, *bad;
	struct request_stream rs;
	struct diag d;
	char buf[512];
	(void)state;
	s = check_scenariof("trace", "model: deepseek-r1-distill-qwen-7b\n"
				     "cluster: {node: p5.48xlarge, gpus: 1}\n"
				     "workload: {mode: infer, seq_len: 4096,\n"
				     "  arrival: {process: trace, trace: %s/tests/data/requests.csv}}\n",
			    check_srcdir());
	bad = check_scenariof("tracebad", "model: deepseek-r1-distill-qwen-7b\n"
					  "cluster: {node: p5.48xlarge, gpus: 1}\n"
					  "workload: {mode: infer, seq_len: 4096,\n"
					  "  arrival: {process: trace, trace: %s/tests/data/"
					  "requests_bad.csv}}\n",
			      check_srcdir());
	diag_init(&d);
	assert_int_equal(requests_build(s, &rs, &d), 0);
	assert_int_equal(rs.n, 3);
	check_rel(rs.req[1].arrival, 0.5, 1e-12);
	assert_int_equal(rs.req[1].prompt, 200);
	assert_int_equal(rs.req[2].output, 5);
	requests_release(&rs);
	assert_int_equal(requests_build(bad, &rs, &d), -1);
	assert_int_equal(d.count, 1);
	diag_format(&d.items[0], buf, sizeof buf);
	assert_non_null(strstr(buf, "requests_bad.csv:3:5: workload.arrival.trace: expected a "
				    "number for prompt_tokens"));
	diag_release(&d);
	scenario_free(s);
	scenario_free(bad);
}

/* Lognormal lengths have the mean and spread asked for (sample of 20,000: within 2 %). */
static void lognormal_lengths_have_the_requested_moments(void **state)
{
	struct scenario *s = check_scenario("lognorm",
		"model: deepseek-r1-distill-qwen-7b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 65536, requests: 20000,\n"
		"  prompt_tokens: {dist: lognormal, mean: 512, sd: 256}}\n");
	struct request_stream rs;
	struct diag d;
	double sum = 0, sq = 0, mean;
	size_t i;
	(void)state;
	diag_init(&d);
	assert_int_equal(requests_build(s, &rs, &d), 0);
	for (i = 0; i < rs.n; i++) {
		sum += (double)rs.req[i].prompt;
		sq += (double)rs.req[i].prompt * (double)rs.req[i].prompt;
	}
	mean = sum / (double)rs.n;
	check_rel(mean, 512, 0.02);
	check_rel(sqrt(sq / (double)rs.n - mean * mean), 256, 0.03);
	requests_release(&rs);
	diag_release(&d);
	scenario_free(s);
}

static void latency_targets_parse_and_judge(void **state)
{
	struct serve_slo slo;
	struct serve_result r;
	struct mark cli = {NULL, 0, 0};
	struct diag d;
	char line[256];
	(void)state;
	diag_init(&d);
	assert_int_equal(serve_parse_slo("ttft_p99=2s,tpot_p99=100ms", cli, "--slo", &slo, &d), 0);
	assert_int_equal(d.count, 0);
	assert_int_equal(slo.n, 2);
	check_rel(slo.t[1].limit, 0.1, 1e-12);
	memset(&r, 0, sizeof r);
	r.requests = r.finished = 10;
	r.ttft.p99 = 1.9;
	r.tpot.p99 = 0.09;
	assert_true(serve_meets(&r, &slo));
	r.tpot.p99 = 0.11;
	assert_false(serve_meets(&r, &slo));
	assert_int_equal(serve_parse_slo("ttft_p95=2s", cli, "--slo", &slo, &d), -1);
	assert_int_equal(d.count, 1);
	/* No file: the command's name stands in its place, the option is the key. */
	assert_non_null(strstr(diag_format(&d.items[0], line, sizeof line),
			       "dssim: --slo: unknown target 'ttft_p95'"));
	assert_int_equal(serve_parse_slo("tpot_p99=fast", cli, "--slo", &slo, &d), -1);
	assert_int_equal(d.count, 2);
	diag_release(&d);
}

/*
 * DeepSeek-V3 in fp8 on 8 H200 with EP 8: each decode step reads only the experts its tokens
 * chose. A GPU holds 256 / 8 = 32 routed experts; a token picks 8 of 256, so it misses a given
 * expert with probability 248/256 and n tokens leave 32 x (1 - (248/256)^n) of a GPU's experts
 * active: 1.96875 for n = 2, 3.81638 for n = 4. At the same 1,000 cached tokens, 4 decode
 * tokens read 1.847626 experts more than 2 in each of the 58 MoE layers (61 less 3 dense);
 * an expert is gate, up and down, 3 x 7,168 x 2,048 weights in fp8 with one 4-byte scale per
 * 128 x 128 block, 1 + 4 / 16,384 = 1 + 2^-12 B a weight. At 4.8 TB/s x 0.86 (the H200
 * preset's STREAM efficiency) the compute time grows by
 * 1.847626 x 44,040,192 x (1 + 2^-12) x 58 / 4.128e12 = 1.1436 ms. dssim gives 1.1506 ms:
 * the two extra tokens' activations in and out of every kernel add 0.62 %.
 */
static void decode_tokens_read_only_their_experts(void **state)
{
	struct scenario *s = check_scenario("v3ep",
		"model: deepseek-v3\ncluster: {node: p5e.48xlarge}\n"
		"workload: {mode: infer, dtype: fp8, seq_len: 4096}\nstrategy: {tp: 8, ep: 8}\n");
	struct forward_cost *f = new_forward(s);
	struct forward_batch one = {1, 1, 0, 1000, 1000, 0};
	struct forward_batch many = {256, 256, 0, 256000, 256000, 0};
	struct forward_batch two = {2, 2, 0, 1000, 1000, 0}, four = {4, 4, 0, 1000, 1000, 0};
	double p2[FORWARD_PARTS], p4[FORWARD_PARTS], t1, t256, experts;
	(void)state;
	assert_non_null(f);
	check_rel(s->cluster.node.gpu.memory_bw, 4.8e12, 1e-9);
	check_rel(s->cluster.node.gpu.efficiency.memory, 0.86, 1e-9);
	t1 = forward_time(f, &one, NULL);
	t256 = forward_time(f, &many, NULL);
	/* 256 tokens touch nearly every expert: the step reads many more weights. */
	assert_true(t256 > 3 * t1);
	assert_true(isfinite(t1) && t1 > 0);
	forward_time(f, &two, p2);
	forward_time(f, &four, p4);
	experts = 32 * (pow(248.0 / 256, 2) - pow(248.0 / 256, 4));
	check_rel(experts, 3.816376 - 1.96875, 1e-6);
	check_rel(p4[FORWARD_COMPUTE] - p2[FORWARD_COMPUTE],
		  experts * 3 * 7168 * 2048 * (1 + 1.0 / 4096) * 58 / (4.8e12 * 0.86), 0.01);
	forward_free(f);
	scenario_free(s);
}

/*
 * The steady state by hand. Three requests arrive at 0, 10 and 20 s, each prefilling 100 tokens
 * and making its first of 5 output tokens 1 s after arriving; they finish at 9, 15 and 25 s
 * (latencies 9, 5, 5: median 5 s). The window runs from 0 + 5 = 5 s to the last arrival, 20 s
 * (15 s). In it: the first request's last 4 s of its 8 s decode (4 tokens x 4/8 = 2), the whole
 * second request (its first token at 11 s and 4 more, 5 tokens; its 100 prompt tokens), nothing
 * of the third (first token at 21 s): 7 output and 100 input tokens over 15 s. TPOT, over the
 * requests arriving in the window (10 and 20 s): (15 - 11) / 4 = (25 - 21) / 4 = 1 s. The run:
 * 15 output tokens over 25 s. Arriving all at once, no window opens.
 */
static void the_steady_state_counts_tokens_inside_its_window(void **state)
{
	struct serve_done d[3] = {{0, 1, 9, 100, 5}, {10, 11, 15, 100, 5}, {20, 21, 25, 100, 5}};
	struct serve_result r;
	(void)state;
	memset(&r, 0, sizeof r);
	serve_summarize_done(d, 3, &r);
	assert_true(r.steady.valid);
	check_rel(r.latency.p50, 5, 1e-12);
	check_rel(r.steady.from, 5, 1e-12);
	check_rel(r.steady.to, 20, 1e-12);
	check_rel(r.steady.output_tokens_per_s, 7.0 / 15, 1e-12);
	check_rel(r.steady.input_tokens_per_s, 100.0 / 15, 1e-12);
	check_rel(r.steady.tpot_mean, 1, 1e-12);
	check_rel(r.output_tokens_per_s, 15.0 / 25, 1e-12);
	d[1].arrival = d[2].arrival = 0;
	memset(&r, 0, sizeof r);
	serve_summarize_done(d, 3, &r);
	assert_false(r.steady.valid);
}

/*
 * A long-output load in few waves: 600 requests of 64 prompt and 1,024 output tokens on one
 * H100 whose KV cache holds 452,592 tokens, 416 such requests at their full 1,088 tokens. With
 * every request queued at once the run serves one wave and then a small second one whose
 * decode is as long as the first's, so its average (the bracket's first top) understates what
 * the engine holds under a steady stream. The search grows past it, and the rate it finds
 * keeps up: its steady output is at least 90 % of the rate times the output length.
 */
static void the_rate_search_grows_past_the_all_at_once_average(void **state)
{
	struct scenario *s = check_scenario("waves",
		"model: llama-3-8b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 2048, requests: 600, prompt_tokens: {value: 64},\n"
		"           output_tokens: {value: 1024}}\n");
	struct serve_slo slo;
	struct run_options o = {0};
	struct run_result r;
	struct diag d;
	struct mark at = {NULL, 0, 0};
	(void)state;
	diag_init(&d);
	assert_int_equal(serve_parse_slo("tpot_p99=1s", at, "--slo", &slo, &d), 0);
	o.find_max_rate = &slo;
	assert_int_equal(run_scenario(s, &o, &r, &d), 0);
	print_message("found %.2f/s, all at once %.2f/s; steady %.0f of %.0f tokens/s\n",
		      r.serve.found_rate, r.serve.capacity_rate, r.serve.steady.output_tokens_per_s,
		      r.serve.found_rate * 1024);
	assert_true(r.serve.found_rate > 1.05 * r.serve.capacity_rate);
	assert_true(r.serve.steady.valid);
	assert_true(r.serve.steady.output_tokens_per_s >= 0.9 * r.serve.found_rate * 1024);
	run_result_release(&r);
	scenario_free(s);
	diag_release(&d);
}

/*
 * LMDeploy TurboMind v0.1.0's decode attention (decoder_multihead_attention.cu) runs
 * num_heads / 4 thread blocks per sequence when the GQA group is a multiple of 4, each block
 * reading its KV head once: Llama-2-70B (64 query heads, 8 KV heads) on TP 4 has 16 query and
 * 2 KV heads per GPU, a group of 8, so each KV head is read twice. 64 decode tokens with 1,000
 * cached tokens each: the second read is 64,000 tokens x 2 KV heads x 128 x 2 (K and V) x 2
 * bytes = 65,536,000 bytes per layer, x 80 layers = 5.24288 GB, at the A100-80GB's 2,039 GB/s
 * x 0.83 (its preset) = 3.0979 ms more per step. A group of 2 (heads_per_cta 8) reads it once.
 */
static void turbomind_decode_reads_a_group_of_eight_twice(void **state)
{
	static const char yaml[] =
		"model: llama-2-70b\ncluster: {node: dgx-a100, gpus: 4}\n"
		"workload: {mode: infer, dtype: fp16, seq_len: 4096}\nstrategy: {tp: 4}\n";
	struct scenario *once = check_scenario("tm0", yaml);
	struct scenario *twice = check_scenario("tm4", yaml);
	struct forward_cost *f0, *f4, *f8;
	struct forward_batch b = {64, 64, 0, 64000, 64000, 0};
	double t0, t4, t8;
	(void)state;
	twice->serving.decode_heads_per_cta = 4;
	f0 = new_forward(once);
	f4 = new_forward(twice);
	twice->serving.decode_heads_per_cta = 8;
	f8 = new_forward(twice);
	t0 = forward_time(f0, &b, NULL);
	t4 = forward_time(f4, &b, NULL);
	t8 = forward_time(f8, &b, NULL);
	print_message("step %.4f ms, read twice %.4f ms\n", t0 * 1e3, t4 * 1e3);
	check_rel(t4 - t0, 65536000.0 * 80 / (2039e9 * 0.83), 1e-6);
	check_rel(t8, t0, 1e-12);
	forward_free(f0);
	forward_free(f4);
	forward_free(f8);
	scenario_free(once);
	scenario_free(twice);
}

/*
 * DeepSeek-V3 in fp8 on 8 H800, EP 8, 256 decode tokens, the busiest expert at twice the mean.
 * With the experts over the TP group (tp 8) no token leaves its GPU for an expert: every rank
 * holds the batch and the MoE output's all-reduce sums the ranks' parts (vLLM's all-to-all
 * kernels need data-parallel attention), so the imbalance costs only the busiest expert's GEMMs.
 * With data-parallel attention (tp 1, 32 tokens an attention rank) and one copy per expert
 * (moe_dispatcher alltoall), the busiest rank (32 experts) receives 1 + 1/32 times the mean:
 * 32 tokens x 7168 x 8 copies x 7/8 leaving the GPU x (1 + 4/128 bytes dispatched in FP8 with a
 * scale per 128, then 2 combined in BF16) x 58 MoE layers = 282,290,176 bytes on NVLink, and
 * 1/32 of it more, 8,821,568.
 */
static void moe_imbalance_loads_the_busiest_serving_rank(void **state)
{
#define V3(imb, layout)                                                                      \
	"model: deepseek-v3\ncluster: {node: h800-node}\n"                                     \
	"workload: {mode: infer, dtype: fp8, seq_len: 4096, moe_imbalance: " imb "}\n"        \
	"strategy: " layout "\n"
	static const char *const tp8 = "{tp: 8, ep: 8}";
	static const char *const dpa = "{tp: 1, ep: 8, moe_dispatcher: alltoall}";
	struct forward_batch many = {256, 256, 0, 256000, 256000, 0};
	const char *layout[2] = {tp8, dpa};
	int k;
	(void)state;
	for (k = 0; k < 2; k++) {
		char even_yaml[512], skew_yaml[512];
		struct scenario *even, *skew;
		struct forward_cost *fe, *fs;
		struct forward_comm ce, cs;
		double pe[FORWARD_PARTS] = {0}, ps[FORWARD_PARTS] = {0};
		snprintf(even_yaml, sizeof even_yaml, V3("1", "%s"), layout[k]);
		snprintf(skew_yaml, sizeof skew_yaml, V3("2", "%s"), layout[k]);
		even = check_scenario("even", even_yaml);
		skew = check_scenario("skew", skew_yaml);
		fe = new_forward(even);
		fs = new_forward(skew);
		memset(&ce, 0, sizeof ce);
		memset(&cs, 0, sizeof cs);
		forward_time_comm(fe, &many, pe, &ce);
		forward_time_comm(fs, &many, ps, &cs);
		print_message("%s: EP %.4f / %.4f ms, NVLink %.0f / %.0f bytes\n", layout[k],
			      pe[FORWARD_EP] * 1e3, ps[FORWARD_EP] * 1e3, ce.bytes[LINK_CLASS_GPU],
			      cs.bytes[LINK_CLASS_GPU]);
		assert_true(ps[FORWARD_COMPUTE] > pe[FORWARD_COMPUTE]);
		if (k == 0) {
			assert_true(pe[FORWARD_EP] == 0 && ps[FORWARD_EP] == 0);
			check_rel(cs.bytes[LINK_CLASS_GPU], ce.bytes[LINK_CLASS_GPU], 1e-12);
		} else {
			check_rel(ce.bytes[LINK_CLASS_GPU], 282290176.0, 1e-9);
			check_rel(cs.bytes[LINK_CLASS_GPU] - ce.bytes[LINK_CLASS_GPU], 8821568.0,
				  1e-9);
			assert_true(ps[FORWARD_EP] > pe[FORWARD_EP]);
		}
		forward_free(fe);
		forward_free(fs);
		scenario_free(even);
		scenario_free(skew);
	}
#undef V3
}

/*
 * dp replicas split the stream. Constant arrivals at R = 8/s reach request i at i/8 s; round
 * robin hands the even ones to replica 0, at 2j/8 = j/4 s — exactly the constant stream at R/2
 * = 4/s — and the odd ones to replica 1, at j/4 + 1/8 s: the same stream an eighth of a second
 * later. A replica is idle before its first request and every request has the same lengths, so
 * replica 1 serves its stream as replica 0 does, shifted by 1/8 s, and latencies do not depend
 * on the shift. Hence dp 2 at R has the TTFT, TPOT and latency of dp 1 at R/2 (up to the rounding
 * of the shifted times), and each replica runs half of the iterations.
 */
#define DP_YAML "model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: %d}\n" \
	"workload: {mode: infer, seq_len: 4096, requests: %d,\n" \
	"  arrival: {process: constant, rate: %d/s},\n" \
	"  prompt_tokens: {value: 1024}, output_tokens: {value: 256}}\n"

static void dp_replicas_split_the_stream_round_robin(void **state)
{
	struct scenario *two = check_scenariof("dp2", DP_YAML, 2, 400, 8);
	struct scenario *one = check_scenariof("dp1", DP_YAML, 1, 200, 4);
	struct run_options o = {.keep_iterations = true};
	struct memory_report m1, m2;
	struct serve_result r1, r2;
	size_t i, per[2] = {0, 0};
	(void)state;
	assert_int_equal(two->strategy.dp, 2);
	serve(one, &m1, &r1);
	serve_with(two, &o, &m2, &r2);
	print_message("dp 2 at 8/s: TPOT %.4f ms; dp 1 at 4/s: %.4f ms\n", r2.tpot.mean * 1e3,
		      r1.tpot.mean * 1e3);
	assert_int_equal(r2.finished, 400);
	assert_int_equal(r2.replicas, 2);
	check_rel(r2.ttft.mean, r1.ttft.mean, 1e-9);
	check_rel(r2.ttft.p99, r1.ttft.p99, 1e-9);
	check_rel(r2.tpot.mean, r1.tpot.mean, 1e-9);
	check_rel(r2.latency.p50, r1.latency.p50, 1e-9);
	check_rel(r2.mean_batch, r1.mean_batch, 1e-12);
	assert_int_equal(r2.iterations, 2 * r1.iterations);
	for (i = 0; i < r2.niters; i++)
		per[r2.iters[i].replica]++;
	assert_int_equal(per[0], r1.iterations);
	assert_int_equal(per[1], r1.iterations);
	/* Twice the requests per second from twice the GPUs, each as busy as the one. */
	check_rel(r2.requests_per_s, 2 * r1.requests_per_s, 0.01);
	check_rel(r2.busy, r1.busy, 0.01);
	serve_result_release(&r2);
	memory_report_release(&m1);
	memory_report_release(&m2);
	scenario_free(one);
	scenario_free(two);
}

/*
 * The least-outstanding router sends a request to the replica with fewer unfinished requests.
 * Request 0 generates 3000 tokens from t = 0 (about 30 s at ~10 ms a token on one H100);
 * requests 1..20 generate 8 tokens each, one every second, and each finishes well within its
 * second. Round robin puts the even ones on replica 0, in batches beside request 0. Least
 * outstanding puts request 1 on replica 1 (0 unfinished there, 1 on replica 0) and every later
 * one there too, since replica 1 is empty again when each arrives: replica 0 runs request 0
 * alone, 3000 iterations (a prefill that samples the first token, then 2999 decodes).
 */
static void least_outstanding_sends_to_the_replica_with_fewer_requests(void **state)
{
	static const char *const routers[] = {"round_robin", "least_outstanding"};
	struct request req[21];
	struct request_stream rs = {req, 21, 0, 0};
	int k;
	(void)state;
	for (k = 0; k < 21; k++) {
		req[k].arrival = k;
		req[k].prompt = 512;
		req[k].output = k == 0 ? 3000 : 8;
		req[k].cached = 0;
	}
	for (k = 0; k < 2; k++) {
		struct scenario *s = check_scenariof("router", "model: deepseek-r1-distill-qwen-14b\n"
			"cluster: {node: p5.48xlarge, gpus: 2}\n"
			"workload: {mode: infer, seq_len: 4096}\nserving: {router: %s}\n", routers[k]);
		struct serve_options o = {true};
		struct memory_report m;
		struct serve_result r;
		struct diag d;
		size_t i, alone = 0, shared = 0;
		assert_int_equal(memory_build(s, &m), 0);
		diag_init(&d);
		if (serve_run(s, &m, &rs, &o, &r, &d) != 0) {
			diag_print(&d, stderr);
			fail();
		}
		diag_release(&d);
		assert_int_equal(r.finished, 21);
		for (i = 0; i < r.niters; i++) {
			if (r.iters[i].replica != 0)
				continue;
			if (r.iters[i].sequences == 1)
				alone++;
			else
				shared++;
		}
		print_message("%s: replica 0 runs %zu iterations alone, %zu shared\n", routers[k],
			      alone, shared);
		if (k == 0) {
			assert_true(shared > 0);
		} else {
			assert_int_equal(shared, 0);
			assert_int_equal(alone, 3000);
		}
		serve_result_release(&r);
		memory_report_release(&m);
		scenario_free(s);
	}
}

/*
 * An iteration with TP collectives is a compute op followed by transfers on the replica's GPU
 * links; with nothing else on those links it takes forward's time. One request of 1024 prompt
 * tokens and 2 output tokens on tp 4, alone: its TTFT is the prefill pass (1024 tokens, 1024 *
 * 1025 / 2 causal pairs), and its one TPOT the decode pass over 1025 cached tokens.
 */
static void an_iteration_on_links_takes_forward_time(void **state)
{
	struct scenario *s = check_scenario("tp4links", "model: deepseek-r1-distill-qwen-14b\n"
		"cluster: {node: p5.48xlarge, gpus: 4}\nstrategy: {tp: 4}\n"
		"workload: {mode: infer, seq_len: 4096, requests: 1,\n"
		"  prompt_tokens: {value: 1024}, output_tokens: {value: 2}}\n");
	struct forward_batch prefill = {1024, 1, 1024.0 * 1025.0 / 2, 0, 1024,
					1024.0 * 1025.0 / 2 * 1024};
	struct forward_batch decode = {1, 1, 0, 1025, 1025, 0};
	double part[FORWARD_PARTS], tp_prefill;
	struct memory_report m;
	struct serve_result r;
	struct forward_cost *f;
	(void)state;
	serve(s, &m, &r);
	f = new_forward(s);
	assert_non_null(f);
	/* Plus the vllm profile's host time per iteration of one sequence: 0.2 ms + 20 us
	 * (topologies/engines/vllm.yaml); its launches hide under the GPU work. */
	check_rel(r.ttft.mean, forward_time(f, &prefill, part) + 220e-6, 1e-9);
	tp_prefill = part[FORWARD_TP];
	check_rel(r.tpot.mean, forward_time(f, &decode, part) + 220e-6, 1e-9);
	print_message("prefill %.4f ms (TP %.4f ms), decode %.4f ms (TP %.4f ms)\n",
		      r.ttft.mean * 1e3, tp_prefill * 1e3, r.tpot.mean * 1e3,
		      part[FORWARD_TP] * 1e3);
	assert_true(tp_prefill > 0 && part[FORWARD_TP] > 0);
	check_rel(r.part[FORWARD_TP], tp_prefill + part[FORWARD_TP], 1e-12);
	forward_free(f);
	memory_report_release(&m);
	scenario_free(s);
}

/*
 * A prompt's attention runs at the kernel's rate for its length (compute.c: the FlashAttention-3
 * paper's figures; the H100 preset gives cuDNN's rate at 16k, 0.528 of 989.4 TFLOP/s). One
 * prompt of 1024 tokens on tp 4 of the Qwen 14B distill: per layer and GPU 10 of its 40 heads of
 * 128, 4 * 10 * 128 * (1024 * 1025 / 2) = 2,686,976,000 FLOPs, 5.14350 us at the plateau,
 * 246.888 us over 48 layers. At 1k cuDNN's step rate is 3.5 / (1/410 + 2.5/408) = 408.569
 * against 3.5 / (1/539 + 2.5/516) = 522.369 at 16k: the pass takes 246.888 * (522.369 / 408.569
 * - 1) = 68.766 us more than the same batch without its prompt length (prefill_len 0: the
 * preset's rate). The attention is compute-bound here (6.2 MB a layer at 2.98 TB/s, 2.1 us).
 */
static void prompt_attention_runs_at_its_lengths_rate(void **state)
{
	struct scenario *s = check_scenario("seqrate", "model: deepseek-r1-distill-qwen-14b\n"
		"cluster: {node: p5.48xlarge, gpus: 4}\nstrategy: {tp: 4}\n"
		"workload: {mode: infer, seq_len: 4096}\n");
	struct forward_batch plateau = {1024, 1, 1024.0 * 1025.0 / 2, 0, 1024, 0};
	struct forward_batch at1k = plateau;
	struct forward_cost *f = new_forward(s);
	double part[FORWARD_PARTS];
	(void)state;
	assert_non_null(f);
	at1k.prefill_len = plateau.prefill_pairs * 1024;
	check_rel(forward_time(f, &at1k, part) - forward_time(f, &plateau, part), 68.766e-6, 2e-4);
	forward_free(f);
	scenario_free(s);
}

/* The bytes and latencies forward gives per class of link add up, at each link's bandwidth, to
 * the TP, EP and PP time of the pass: DeepSeek-V3 on tp 8, ep 8 (all-reduces and the logits
 * all-gather) and on tp 8, pp 2 (plus the send between stages). */
static void forward_link_transfers_add_up_to_its_collective_time(void **state)
{
	static const char *const yaml[] = {
		"model: deepseek-v3\ncluster: {node: p5e.48xlarge, gpus: 8}\n"
		"strategy: {tp: 8, ep: 8}\nworkload: {mode: infer, seq_len: 8192, dtype: fp8}\n",
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, nodes: 2, gpus: 16}\n"
		"strategy: {tp: 8, pp: 2}\nworkload: {mode: infer, seq_len: 4096}\n",
	};
	struct forward_batch b = {2048 + 200, 201, 2048.0 * 2049.0 / 2, 200 * 1500.0,
				  2048 + 200 * 1500.0,
				  2048.0 * 2049.0 / 2 * 2048};
	int k, c;
	(void)state;
	for (k = 0; k < 2; k++) {
		struct scenario *s = check_scenario("links", yaml[k]);
		double part[FORWARD_PARTS], moved = 0;
		struct forward_comm comm;
		struct forward_cost *f = new_forward(s);
		assert_non_null(f);
		forward_time_comm(f, &b, part, &comm);
		for (c = 0; c < FORWARD_LINKS; c++)
			if (comm.bytes[c] > 0 || comm.latency[c] > 0)
				moved += comm.latency[c] + comm.bytes[c] / forward_link_bandwidth(f, c);
		print_message("links %.4f ms, TP+EP+PP %.4f ms\n", moved * 1e3,
			      (part[FORWARD_TP] + part[FORWARD_EP] + part[FORWARD_PP]) * 1e3);
		assert_true(moved > 0);
		check_rel(moved, part[FORWARD_TP] + part[FORWARD_EP] + part[FORWARD_PP], 1e-12);
		forward_free(f);
		scenario_free(s);
	}
}

/*
 * Serving fits when the engine starts: the KV cache must hold one sequence of seq_len
 * (vLLM refuses to start otherwise); micro_batch only sizes the printed table. 14B in int8 on
 * an RTX 4090 (24 GB) serves at micro_batch 8 whose static table does not fit; a 67B in bf16 on
 * one H200 (141 GB: 134 GB of weights, 126 GB at 0.9) leaves its KV cache no room for 4096
 * tokens of 389,120 B: it does not fit and run_is_negative says so (exit 3).
 */
static void serving_fits_by_its_kv_cache(void **state)
{
	struct run_options o = {0};
	struct run_result r;
	struct diag d;
	struct scenario *s;
	(void)state;
	diag_init(&d);
	s = check_scenario("fit4090", "model: deepseek-r1-distill-qwen-14b\n"
		"cluster: {node: workstation-2x4090, gpus: 1}\n"
		"workload: {mode: infer, dtype: int8, seq_len: 4096, micro_batch: 8, requests: 5,\n"
		"           arrival: {process: constant, rate: 1/s}, prompt_tokens: {value: 512},\n"
		"           output_tokens: {value: 16}}\n");
	assert_int_equal(run_scenario(s, &o, &r, &d), 0);
	assert_true(r.memory.roles[r.memory.worst].total > r.memory.capacity);
	assert_true(r.memory.fits);
	assert_int_equal(r.outcome, RUN_SIMULATED);
	assert_int_equal(r.serve.finished, 5);
	assert_false(run_is_negative(&r));
	run_result_release(&r);
	scenario_free(s);
	s = check_scenario("fith200", "model: deepseek-llm-67b\n"
		"cluster: {node: p5e.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, dtype: bf16, seq_len: 4096, requests: 5,\n"
		"           arrival: {process: constant, rate: 1/s}, prompt_tokens: {value: 512},\n"
		"           output_tokens: {value: 16}}\n");
	assert_int_equal(run_scenario(s, &o, &r, &d), 0);
	assert_false(r.memory.fits);
	assert_true(r.memory.kv_budget < 4096 * r.memory.kv_bytes_per_token);
	assert_true(run_is_negative(&r));
	run_result_release(&r);
	scenario_free(s);
	diag_release(&d);
}

/*
 * The vllm profile's fixed costs on the single-request run above: every iteration of one
 * sequence pays 0.2 ms of host time plus 20 us for its sequence (topologies/engines/vllm.yaml;
 * it samples nothing else). Its launches hide under the GPU work: a decode step replays one CUDA
 * graph (7 us against ~9 ms of weights), a prefill launches 48 layers x 10 kernels x 7 us =
 * 3.36 ms under ~20 ms of GEMMs. So TTFT and TPOT are the bare engine's plus 0.22 ms each.
 */
static void batch_1_decode_is_roofline_plus_the_vllm_fixed_costs(void **state)
{
	struct scenario *b = check_scenariof("bare1", DECODE1_YAML, "{name: bare}");
	struct scenario *v = check_scenariof("vllm1", DECODE1_YAML, "vllm");
	struct memory_report mb, mv;
	struct serve_result rb, rv;
	(void)state;
	serve(b, &mb, &rb);
	serve(v, &mv, &rv);
	print_message("TPOT %.4f -> %.4f ms, TTFT %.4f -> %.4f ms\n", rb.tpot.mean * 1e3,
		      rv.tpot.mean * 1e3, rb.ttft.mean * 1e3, rv.ttft.mean * 1e3);
	check_rel(rv.tpot.mean - rb.tpot.mean, 220e-6, 1e-6);
	check_rel(rv.ttft.mean - rb.ttft.mean, 220e-6, 1e-6);
	check_rel(rv.overhead_s, (double)rv.iterations * 220e-6, 1e-9);
	assert_int_equal(rv.iterations, rb.iterations);
	memory_report_release(&mb);
	memory_report_release(&mv);
	scenario_free(b);
	scenario_free(v);
}

/* TensorRT-LLM's GUARANTEED_NO_EVICT admission: on the cache that makes vLLM preempt above, a
 * request starts only with blocks for its prompt and its whole output, so nothing is preempted
 * and every request still finishes. */
static void tensorrt_llm_reserves_the_output_and_never_preempts(void **state)
{
	struct scenario *v = check_scenariof("vpre", PREEMPT_YAML, "recompute");
	struct scenario *t = check_scenariof("trtpre", PREEMPT_YAML, "recompute, "
					     "engine: tensorrt-llm");
	struct memory_report mv, mt;
	struct serve_result rv, rt;
	(void)state;
	serve(v, &mv, &rv);
	serve(t, &mt, &rt);
	print_message("preemptions: vllm %lld, tensorrt-llm %lld\n", (long long)rv.preemptions,
		      (long long)rt.preemptions);
	assert_true(rv.preemptions > 0);
	assert_int_equal(rt.preemptions, 0);
	assert_int_equal(rt.finished, rt.requests);
	assert_true(rt.kv_blocks_peak <= rt.kv_blocks_total);
	memory_report_release(&mv);
	memory_report_release(&mt);
	scenario_free(v);
	scenario_free(t);
}

/*
 * SGLang's admission (serving.new_token_ratio; sim/serve_admit.c), worked by hand on a state of
 * three requests: 1,000-token prompts, outputs of 100, 6,000 and 300 tokens. Requests 0 and 1
 * run, having generated 40 and 1,000 tokens: 60 and 5,000 left, the latter clipped to 4,096; they
 * are promised 0.7 * (60 + 4,096) = 2,909.2 tokens. Request 2 wants 1,000 + 300 = 1,300: it fits 4,300 free
 * tokens (1,300 < 4,300 - 2,909.2 = 1,390.8) but not 4,200 (1,290.8). A decode that finds its
 * memory lowers the ratio by (0.7 - 0.098) / 600; 600 of them reach the floor 0.098. A retraction
 * re-estimates it as (40 + 1,000 + 20 * 2) / (100 + 6,000 + 1) = 0.17702; idle restores 0.7.
 * An idle scheduler takes request 2 into 1,200 free tokens all the same (else a request as long
 * as the cache would wait forever), but not a second one beside it.
 */
static void sglang_admits_by_the_tokens_requests_will_still_need(void **state)
{
	struct scenario *s = check_scenario("sgladmit",
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: nd-h100-v5, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 8192}\nserving: {new_token_ratio: 0.7}\n");
	struct request req[3] = {{0, 1000, 100, 0}, {0, 1000, 6000, 0}, {0, 1000, 300, 0}};
	struct request_stream rs = {req, 3, 3000, 6400};
	struct seq seq[3];
	size_t running[2] = {0, 1};
	struct replica p;
	struct serve_state e;
	double promised;
	int k;
	(void)state;
	memset(seq, 0, sizeof seq);
	memset(&p, 0, sizeof p);
	memset(&e, 0, sizeof e);
	seq[0].generated = 40;
	seq[1].generated = 1000;
	e.s = s;
	e.rs = &rs;
	e.seq = seq;
	p.running = running;
	p.nrunning = 2;
	p.ratio = 0.7;
	check_rel(serve_admit_promised(&e, &p), 2909.2, 1e-12);
	promised = 2909.2;
	assert_false(serve_admit_fits(&e, &p, 2, 1000, 4200, &promised));
	check_rel(promised, 2909.2, 1e-12);
	assert_true(serve_admit_fits(&e, &p, 2, 1000, 4300, &promised));
	check_rel(promised, 4209.2, 1e-12);
	serve_admit_decoded(&e, &p, false);
	check_rel(p.ratio, 0.7 - 0.602 / 600, 1e-12);
	for (k = 1; k < 600; k++)
		serve_admit_decoded(&e, &p, false);
	check_rel(p.ratio, 0.098, 1e-9);
	serve_admit_decoded(&e, &p, false);
	check_rel(p.ratio, 0.098, 1e-12);
	serve_admit_decoded(&e, &p, true);
	check_rel(p.ratio, 1080.0 / 6101.0, 1e-12);
	serve_admit_idle(&e, &p);
	check_rel(p.ratio, 0.7, 1e-12);
	p.nrunning = 0;
	promised = serve_admit_promised(&e, &p);
	assert_true(serve_admit_fits(&e, &p, 2, 1000, 1200, &promised));
	check_rel(promised, 1300, 1e-12);
	assert_false(serve_admit_fits(&e, &p, 2, 1000, 1200, &promised));
	scenario_free(s);
}

/*
 * The same admission on an engine: 40 requests of 256 + 1,024 tokens at time 0, a KV cache of T
 * tokens. vLLM admits every prompt whose blocks are free; SGLang stops at the first request j
 * (from 0) with (j + 1) * 1,280 >= T, nothing running yet: ceil(T / 1,280) - 1 in the first
 * iteration.
 */
#define ADMIT_YAML "model: deepseek-r1-distill-qwen-14b\ncluster: {node: nd-h100-v5, " \
	"gpus: 1}\nworkload: {mode: infer, seq_len: 4096, requests: 40,\n" \
	"  prompt_tokens: {value: 256}, output_tokens: {value: 1024}}\n" \
	"serving: {gpu_memory_utilization: 0.45, max_num_seqs: 64, max_batched_tokens: 16384, " \
	"new_token_ratio: %s}\n"

static void sglang_first_batch_holds_what_its_outputs_will_need(void **state)
{
	struct scenario *v = check_scenariof("admitv", ADMIT_YAML, "0");
	struct scenario *g = check_scenariof("admitg", ADMIT_YAML, "0.7");
	struct run_options o = {.keep_iterations = true};
	struct memory_report mv, mg;
	struct serve_result rv, rg;
	double want;
	(void)state;
	serve_with(v, &o, &mv, &rv);
	serve_with(g, &o, &mg, &rg);
	want = ceil(rg.kv_tokens / 1280.0) - 1;
	print_message("KV %.0f tokens: vLLM admits %d, SGLang %d (by hand %.0f)\n", rg.kv_tokens,
		      rv.iters[0].sequences, rg.iters[0].sequences, want);
	assert_true(want < 40);
	assert_int_equal(rv.iters[0].sequences, 40);
	assert_int_equal(rg.iters[0].sequences, (int32_t)want);
	assert_int_equal(rg.finished, 40);
	serve_result_release(&rv);
	serve_result_release(&rg);
	memory_report_release(&mv);
	memory_report_release(&mg);
	scenario_free(v);
	scenario_free(g);
}

/* A request exactly as long as SGLang's KV cache: its prompt and output reach the free tokens,
 * so the ratio rule alone would never admit it; the idle scheduler takes it, and the run ends
 * (it hung before the rule let an idle scheduler through). The limit the report prints is
 * SGLang's rule for a context as long as the cache of T tokens: T / T * 512 = 512 requests,
 * raised to the floor 2048, under half the pool (T / 2, about 15,600). */
#define LONG_YAML "model: deepseek-r1-distill-qwen-14b\ncluster: {node: nd-h100-v5, gpus: 1}\n" \
	"workload: {mode: infer, seq_len: %d, requests: 2,\n" \
	"  prompt_tokens: {value: %d}, output_tokens: {value: 900}}\n" \
	"serving: {gpu_memory_utilization: 0.45, engine: sglang}\n"

static void sglang_serves_a_request_as_long_as_its_cache(void **state)
{
	struct scenario *probe = check_scenariof("longprobe", LONG_YAML, 4096, 1000);
	struct scenario *s;
	struct memory_report m;
	struct serve_result r;
	int tokens;
	(void)state;
	serve(probe, &m, &r);
	tokens = (int)r.kv_tokens;
	memory_report_release(&m);
	scenario_free(probe);
	s = check_scenariof("longsgl", LONG_YAML, tokens, tokens - 900);
	serve(s, &m, &r);
	check_rel(r.kv_tokens, (double)tokens, 1e-12);
	assert_int_equal(r.finished, 2);
	assert_true(tokens / 2 > 2048);
	assert_int_equal(r.max_num_seqs, 2048);
	memory_report_release(&m);
	scenario_free(s);
}

/*
 * SGLang's overlap scheduler on the single-request run: its 2.7 ms of host time per iteration
 * (topologies/engines/sglang.yaml) runs while the GPU computes the previous iteration. Every
 * decode follows an iteration of more GPU time (~9 ms of weights; the prefill ~20 ms), so TPOT is
 * the bare engine's; the prefill follows an idle GPU (requests 100 s apart), so TTFT pays all
 * 2.7 ms.
 */
static void sglang_overlap_hides_host_time_under_longer_gpu_work(void **state)
{
	struct scenario *b = check_scenariof("bare2", DECODE1_YAML, "{name: bare}");
	struct scenario *g = check_scenariof("sgl1", DECODE1_YAML, "sglang");
	struct memory_report mb, mg;
	struct serve_result rb, rg;
	(void)state;
	serve(b, &mb, &rb);
	serve(g, &mg, &rg);
	check_rel(rg.tpot.mean, rb.tpot.mean, 1e-9);
	check_rel(rg.ttft.mean - rb.ttft.mean, 2.7e-3, 1e-6);
	/* Three prefills paid it, none of the decodes. */
	check_rel(rg.overhead_s, 3 * 2.7e-3, 1e-9);
	memory_report_release(&mb);
	memory_report_release(&mg);
	scenario_free(b);
	scenario_free(g);
}

/* serving.request_overhead delays each request's entry to the engine (API server,
 * tokenization): the single-request run's TTFT grows by exactly that, its TPOT not at all. */
static void the_front_end_delay_adds_to_ttft_only(void **state)
{
	struct scenario *b = check_scenariof("bare3", DECODE1_YAML, "{name: bare}");
	struct scenario *f = check_scenariof("front", DECODE1_YAML,
					     "{name: bare}, request_overhead: 5 ms");
	struct memory_report mb, mf;
	struct serve_result rb, rf;
	(void)state;
	serve(b, &mb, &rb);
	serve(f, &mf, &rf);
	check_rel(rf.ttft.mean - rb.ttft.mean, 5e-3, 1e-6);
	check_rel(rf.tpot.mean, rb.tpot.mean, 1e-9);
	memory_report_release(&mb);
	memory_report_release(&mf);
	scenario_free(b);
	scenario_free(f);
}

/*
 * Multi-step scheduling (vLLM 0.6 --num-scheduler-steps): the scheduler admits only once per
 * that many iterations. Request B arrives 1 ms after A, during A's prefill. With one step it
 * joins the next iteration; with 10 it waits for A's 9 decode steps first, so its TTFT grows by
 * 9 of A's lone decode steps (the TPOT of one request alone: weights and KV over bandwidth);
 * the mean over the two requests by half that.
 */
static void multi_step_scheduling_delays_new_requests(void **state)
{
	static const char *const yaml =
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, requests: %d,\n"
		"  arrival: {process: constant, rate: 1000/s},\n"
		"  prompt_tokens: {value: 512}, output_tokens: {value: 64}}\n"
		"serving: {engine: {name: bare}, scheduler_steps: %d}\n";
	struct scenario *one = check_scenariof("ms1", yaml, 1, 1);
	struct scenario *s1 = check_scenariof("ms2", yaml, 2, 1);
	struct scenario *s10 = check_scenariof("ms10", yaml, 2, 10);
	struct memory_report m;
	struct serve_result alone, r1, r10;
	double step, grew;
	(void)state;
	serve(one, &m, &alone);
	memory_report_release(&m);
	serve(s1, &m, &r1);
	memory_report_release(&m);
	serve(s10, &m, &r10);
	memory_report_release(&m);
	step = alone.tpot.mean;
	grew = 2 * (r10.ttft.mean - r1.ttft.mean);
	print_message("decode step %.3f ms; B's TTFT grew %.3f ms = %.2f steps\n", step * 1e3,
		      grew * 1e3, grew / step);
	check_rel(grew, 9 * step, 0.05);
	serve_result_release(&alone);
	serve_result_release(&r1);
	serve_result_release(&r10);
	scenario_free(one);
	scenario_free(s1);
	scenario_free(s10);
}

/*
 * serving.async_output (vLLM V0's asynchronous output processor, PR #7049): a token reaches
 * the client when the iteration after the one that made it ends. Requests A and B (512 in, 64
 * out) arrive 1 ms apart; iteration 0 prefills A, iteration 1 prefills B and decodes A, and so
 * on to iteration 64, B's last. A's first token is handed out at the end of iteration 1, B's at
 * the end of 2; A's last token (iteration 63) at the end of 64, when B's last, with nothing
 * after it, goes out at once. The iterations themselves take the same time.
 */
static void async_output_hands_tokens_out_an_iteration_later(void **state)
{
	static const char *const yaml =
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, requests: 2,\n"
		"  arrival: {process: constant, rate: 1000/s},\n"
		"  prompt_tokens: {value: 512}, output_tokens: {value: 64}}\n"
		"serving: {engine: {name: bare}, async_output: %s}\n";
	struct run_options o = {.keep_iterations = true};
	struct scenario *sync = check_scenariof("sync", yaml, "false");
	struct scenario *lag = check_scenariof("lag", yaml, "true");
	struct memory_report m;
	struct serve_result a, b;
	const struct serve_iteration *it;
	size_t k;
	(void)state;
	serve_with(sync, &o, &m, &a);
	memory_report_release(&m);
	serve_with(lag, &o, &m, &b);
	memory_report_release(&m);
	assert_int_equal(a.niters, 65);
	assert_int_equal(b.niters, 65);
	for (k = 0; k < a.niters; k++)
		assert_true(a.iters[k].duration == b.iters[k].duration);
	it = a.iters;
	check_rel(b.ttft.mean - a.ttft.mean, (it[1].duration + it[2].duration) / 2, 1e-9);
	check_rel(b.latency.mean - a.latency.mean, it[64].duration / 2, 1e-9);
	serve_result_release(&a);
	serve_result_release(&b);
	scenario_free(sync);
	scenario_free(lag);
}

/*
 * serving.mixed_prefill: request A (512 in, 64 out) decodes when B arrives a millisecond later.
 * Mixed, one iteration prefills B and decodes A (two sequences, one prefill); alone, the two
 * prompts run in iterations of their own (vLLM V0's _schedule_default, SGLang's forward_step)
 * and every other iteration only decodes. "chunked" runs them alone without chunked prefill
 * and mixed with it, the same runs to the bit.
 */
static void prefill_alone_runs_prompts_without_decodes(void **state)
{
	static const char *const yaml =
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, requests: 2,\n"
		"  arrival: {process: constant, rate: 1000/s},\n"
		"  prompt_tokens: {value: 512}, output_tokens: {value: 64}}\n"
		"serving: {engine: {name: bare}, mixed_prefill: %s, chunked_prefill: %s}\n";
	const char *const how[4][2] = {{"always", "false"}, {"never", "true"},
				       {"chunked", "false"}, {"chunked", "true"}};
	struct run_options o = {.keep_iterations = true};
	struct serve_result r[4];
	struct memory_report m;
	size_t k, i, mixed[4] = {0}, prompts[4] = {0};
	(void)state;
	for (k = 0; k < 4; k++) {
		struct scenario *s = check_scenariof("mix", yaml, how[k][0], how[k][1]);
		serve_with(s, &o, &m, &r[k]);
		memory_report_release(&m);
		scenario_free(s);
		for (i = 0; i < r[k].niters; i++) {
			mixed[k] += r[k].iters[i].prefills > 0 &&
				    r[k].iters[i].sequences > r[k].iters[i].prefills;
			prompts[k] += r[k].iters[i].prefills > 0;
		}
	}
	assert_int_equal(mixed[0], 1);
	assert_int_equal(mixed[1], 0);
	assert_int_equal(prompts[1], 2);
	assert_true(r[2].ttft.mean == r[1].ttft.mean && r[2].tpot.mean == r[1].tpot.mean);
	assert_true(r[3].ttft.mean == r[0].ttft.mean && r[3].tpot.mean == r[0].tpot.mean);
	/* Alone, B's prompt does not carry A's decode, and A's decode waits for it. */
	assert_true(r[1].ttft.mean < r[0].ttft.mean);
	assert_true(r[1].tpot.mean > r[0].tpot.mean);
	for (k = 0; k < 4; k++)
		serve_result_release(&r[k]);
}

/*
 * Prefix caching: a 1,024-token prompt of which 512 tokens sit in the cache prefills only the
 * other 512 (attending to all 1,024), so its time to first token is below the uncached
 * prompt's and above a 512-token prompt's alone (the same GEMMs, less attention). A hit rate
 * of one half caches the same whole blocks as a shared prefix of 512: the same run, bit for
 * bit. A prompt no longer than the shared prefix still computes its last token: 512 tokens
 * with a 512-token prefix cache 496 (31 blocks of 16).
 *
 * Each request arrives alone, so its TTFT is one forward pass over its prompt (the bare engine
 * adds nothing). Its query-key pairs: every computed token attends to the cached prefix and,
 * causally, to the computed tokens up to itself. 512 after 512 cached: 512 x 512 + 512 x 513 /
 * 2 = 393,472 pairs over a 1,024-token context (37.3955 ms; 512 x 511 / 2 in the causal term
 * would be 0.004 % less). 16 after 496 cached: 16 x 496 + 16 x 17 / 2 = 8,072 pairs over 512
 * (11.7129 ms); this short a pass hides its attention, and the check pins the 16 tokens
 * computed (17 would be 0.05 % more).
 */
static void prefix_cache_hits_skip_prefill(void **state)
{
	static const char *const yaml =
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, requests: 3,\n"
		"  arrival: {process: constant, rate: 0.01/s},\n"
		"  prompt_tokens: {value: %d}, output_tokens: {value: 8},\n"
		"  prefix_cache: {shared_tokens: %d, hit_rate: %s}}\n"
		"serving: {engine: {name: bare}}\n";
	struct scenario *cold = check_scenariof("pc0", yaml, 1024, 0, "0");
	struct scenario *warm = check_scenariof("pc1", yaml, 1024, 512, "0");
	struct scenario *rate = check_scenariof("pc2", yaml, 1024, 0, "0.5");
	struct scenario *half = check_scenariof("pc3", yaml, 512, 0, "0");
	struct scenario *all = check_scenariof("pc4", yaml, 512, 512, "0");
	struct memory_report m;
	struct serve_result rc, rw, rr, rh, ra;
	struct forward_cost *f = new_forward(warm);
	/* tokens, sequences, prefill pairs, decode pairs, KV tokens, pairs x context */
	struct forward_batch wb = {512, 1, 393472, 0, 1024, 393472.0 * 1024};
	struct forward_batch ab = {16, 1, 8072, 0, 512, 8072.0 * 512};
	(void)state;
	serve(cold, &m, &rc);
	memory_report_release(&m);
	serve(warm, &m, &rw);
	memory_report_release(&m);
	serve(rate, &m, &rr);
	memory_report_release(&m);
	serve(half, &m, &rh);
	memory_report_release(&m);
	serve(all, &m, &ra);
	memory_report_release(&m);
	print_message("TTFT: 1024 cold %.3f ms, 512 cached %.3f ms, 512 alone %.3f ms\n",
		      rc.ttft.mean * 1e3, rw.ttft.mean * 1e3, rh.ttft.mean * 1e3);
	assert_true(rw.ttft.mean < rc.ttft.mean);
	assert_true(rw.ttft.mean > rh.ttft.mean);
	assert_true(rr.ttft.mean == rw.ttft.mean);
	assert_true(rr.tpot.mean == rw.tpot.mean);
	/* 16 computed tokens instead of 512: far below the 512-token prompt's prefill. */
	assert_true(ra.ttft.mean < 0.5 * rh.ttft.mean);
	check_rel(rw.ttft.mean, forward_time(f, &wb, NULL), 1e-9);
	check_rel(ra.ttft.mean, forward_time(f, &ab, NULL), 1e-9);
	forward_free(f);
	serve_result_release(&rc);
	serve_result_release(&rw);
	serve_result_release(&rr);
	serve_result_release(&rh);
	serve_result_release(&ra);
	scenario_free(cold);
	scenario_free(warm);
	scenario_free(rate);
	scenario_free(half);
	scenario_free(all);
}

/* A trace's optional cached_tokens column: read per request (0 where absent); more than the
 * prompt, or not a whole number, is refused at its line and column. */
static void trace_cached_tokens_are_read_and_checked(void **state)
{
	static const char *const yaml = "model: deepseek-r1-distill-qwen-7b\n"
		"cluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096,\n"
		"  arrival: {process: trace, trace: %s/tests/data/%s}}\n";
	struct scenario *s = check_scenariof("cached", yaml, check_srcdir(), "requests_cached.csv");
	struct scenario *bad = check_scenariof("cachedbad", yaml, check_srcdir(),
					       "requests_cached_bad.csv");
	struct request_stream rs;
	struct diag d;
	char buf[1024];
	(void)state;
	diag_init(&d);
	assert_int_equal(requests_build(s, &rs, &d), 0);
	assert_int_equal(rs.n, 3);
	assert_int_equal(rs.req[0].cached, 64);
	assert_int_equal(rs.req[1].cached, 0);
	assert_int_equal(rs.req[2].cached, 0);
	requests_release(&rs);
	assert_int_equal(requests_build(bad, &rs, &d), -1);
	assert_int_equal(d.count, 2);
	diag_format(&d.items[0], buf, sizeof buf);
	assert_non_null(strstr(buf, "requests_cached_bad.csv:2:12: workload.arrival.trace: "
				    "cached_tokens 101 is more than the prompt's 100"));
	diag_format(&d.items[1], buf, sizeof buf);
	assert_non_null(strstr(buf, "requests_cached_bad.csv:3:12: workload.arrival.trace: "
				    "expected a whole number of tokens for cached_tokens"));
	requests_release(&rs);
	diag_release(&d);
	scenario_free(s);
	scenario_free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mla_cache_is_smaller_by_what_deepseek_v2_reports),
		cmocka_unit_test(opt_13b_block_count_follows_vllm),
		cmocka_unit_test(single_request_decode_is_weights_plus_kv_over_bandwidth),
		cmocka_unit_test(littles_law_holds_on_a_steady_run),
		cmocka_unit_test(same_seed_same_numbers),
		cmocka_unit_test(a_small_cache_preempts_and_still_serves_everyone),
		cmocka_unit_test(continuous_batching_outserves_static),
		cmocka_unit_test(trace_files_are_read_and_checked),
		cmocka_unit_test(lognormal_lengths_have_the_requested_moments),
		cmocka_unit_test(latency_targets_parse_and_judge),
		cmocka_unit_test(decode_tokens_read_only_their_experts),
		cmocka_unit_test(turbomind_decode_reads_a_group_of_eight_twice),
		cmocka_unit_test(the_steady_state_counts_tokens_inside_its_window),
		cmocka_unit_test(the_rate_search_grows_past_the_all_at_once_average),
		cmocka_unit_test(dp_replicas_split_the_stream_round_robin),
		cmocka_unit_test(an_iteration_on_links_takes_forward_time),
		cmocka_unit_test(prompt_attention_runs_at_its_lengths_rate),
		cmocka_unit_test(moe_imbalance_loads_the_busiest_serving_rank),
		cmocka_unit_test(forward_link_transfers_add_up_to_its_collective_time),
		cmocka_unit_test(least_outstanding_sends_to_the_replica_with_fewer_requests),
		cmocka_unit_test(serving_fits_by_its_kv_cache),
		cmocka_unit_test(multi_step_scheduling_delays_new_requests),
		cmocka_unit_test(async_output_hands_tokens_out_an_iteration_later),
		cmocka_unit_test(prefill_alone_runs_prompts_without_decodes),
		cmocka_unit_test(prefix_cache_hits_skip_prefill),
		cmocka_unit_test(trace_cached_tokens_are_read_and_checked),
		cmocka_unit_test(batch_1_decode_is_roofline_plus_the_vllm_fixed_costs),
		cmocka_unit_test(tensorrt_llm_reserves_the_output_and_never_preempts),
		cmocka_unit_test(sglang_admits_by_the_tokens_requests_will_still_need),
		cmocka_unit_test(sglang_first_batch_holds_what_its_outputs_will_need),
		cmocka_unit_test(sglang_serves_a_request_as_long_as_its_cache),
		cmocka_unit_test(sglang_overlap_hides_host_time_under_longer_gpu_work),
		cmocka_unit_test(the_front_end_delay_adds_to_ttft_only),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
