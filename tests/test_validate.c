/*
 * test_validate: the validation runner — every case of the shipped file loads and simulates, a
 * malformed case file is reported with its position, and the published runs fall within their
 * tolerance (the accuracy table in the README comes from the same file) and within 2 percentage
 * points of their pinned errors (tests/validation/pinned.tsv). The published serving runs
 * (tests/validation/serving.yaml) are held the same way, with their own known-outside list and
 * pins (tests/validation/pinned-serving.tsv), and llm-foundry's MPT benchmarks
 * (tests/validation/llm-foundry.yaml), runs no constant was fitted to, by their mean and their
 * pins (pinned-llm-foundry.tsv). `test_validate --write-pins CASES FILE` (run by `make golden`
 * for each set) rewrites a set's pins from the build at hand.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "memory.h"
#include "run.h"
#include "scenario.h"
#include "validate.h"
#include "yamltree.h"

#define TRAINING_CASES "tests/validation/published.yaml"
#define SERVING_CASES "tests/validation/serving.yaml"
#define DEEPSEEK_CASES "tests/validation/deepseek.yaml"
#define LLM_FOUNDRY_CASES "tests/validation/llm-foundry.yaml"
#define LLAMA3_CASES "tests/validation/llama3-405b.yaml"
#define TORCHTITAN_CASES "tests/validation/torchtitan.yaml"
#define BIGSCIENCE_CASES "tests/validation/bigscience.yaml"
#define MEGATRON_CORE_CASES "tests/validation/megatron-core.yaml"
#define BRIDGE_LATER_CASES "tests/validation/megatron-bridge-later.yaml"

/* Every case of a shipped file loads, simulates to a positive figure and states 15 %. */
static void check_every_case_runs(const char *cases, size_t count)
{
	struct validate_report r;
	struct diag d;
	size_t i;
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_run(cases, NULL, &r, &d), 0);
	diag_print(&d, stderr);
	assert_int_equal(r.count, count);
	for (i = 0; i < r.count; i++) {
		print_message("%-70s %+.1f%%\n", r.rows[i].name, 100 * r.rows[i].error);
		assert_true(r.rows[i].simulated > 0 && isfinite(r.rows[i].simulated));
		assert_true(r.rows[i].tolerance == 0.15);
	}
	validate_report_release(&r);
	diag_release(&d);
}

static void every_shipped_case_runs(void **state)
{
	(void)state;
	check_every_case_runs(TRAINING_CASES, 54);
}

/* 216 llm-foundry rows: every row of its benchmark README's five tables. */
static void every_llm_foundry_case_runs(void **state)
{
	(void)state;
	check_every_case_runs(LLM_FOUNDRY_CASES, 216);
}

static bool is_listed(const char *const *list, const char *name)
{
	size_t i;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/*
 * llm-foundry rows past the third goal's 25 %, with what dssim lacks there. Like the lists
 * below: not asserted either way (their pins catch any move), and one that comes within 25 % is
 * reported so the list shrinks with the model.
 */
static const char *const known_outside_llm_foundry[] = {
	/* +40.3 %: dssim's memory model puts the run at 69 % of 40 GB and its collectives hide
	 * under compute, yet the published run (276 tokens/s/GPU) is 27 % below the 128-GPU
	 * micro-batch 4 row (376), a loss dssim has no sourced mechanism for. It moved from
	 * +24 % to +40 % with the GA100 16-bit GEMM refit (commit 02ab6e9). */
	"llm-foundry A100-40GB, MPT-70b, seq 2048, 64 GPUs, mb 2",
	/* +30.0 %: at 96.6 % of memory in dssim, past where PyTorch's caching allocator empties
	 * its cache and retries (not modelled, as for FSDP 1T below); its H100 twin is +16.6 %. */
	"llm-foundry A100-80GB, MPT-30b, seq 8192, 8 GPUs, mb 1",
	NULL,
};

/*
 * llm-foundry's MPT benchmarks, 216 runs no dssim constant was fitted to, held to the goals
 * issue 13 sets for runs dssim never saw: their mean |error| within 10 %, their signed mean
 * within +-5 % and every row's |error| within 25 %, but for the rows listed above.
 */
static void llm_foundry_runs_meet_the_unseen_runs_mean(void **state)
{
	struct validate_report r;
	struct validate_summary m;
	struct diag d;
	size_t i, bad = 0;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_run(LLM_FOUNDRY_CASES, NULL, &r, &d), 0);
	validate_summarize(&r, &m);
	print_message("%zu runs, %zu outside 15%%; mean |error| %.1f%%, signed mean %+.1f%%, "
		      "largest |error| %.1f%%\n", r.count, m.outside, 100 * m.mean_abs,
		      100 * m.mean_signed, 100 * m.max_abs);
	assert_true(m.mean_abs <= 0.10);
	assert_true(fabs(m.mean_signed) <= 0.05);
	assert_int_equal(m.misfits, 0);   /* each run fits, as it ran */
	for (i = 0; i < r.count; i++) {
		const struct validate_row *w = &r.rows[i];
		bool inside = fabs(w->error) <= 0.25;
		if (is_listed(known_outside_llm_foundry, w->name)) {
			if (inside)
				print_message("%s: %+.1f%%, now within 25 %%: drop it from "
					      "known_outside_llm_foundry\n", w->name,
					      100 * w->error);
		} else if (!inside) {
			print_error("%s: %+.1f%%, past the 25 %% goal\n", w->name, 100 * w->error);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	validate_report_release(&r);
	diag_release(&d);
}

/* 41 serving rows: 20 LMDeploy, 20 SGLang and vLLM, 1 DeepSpeed-FastGen. */
static void every_serving_case_runs(void **state)
{
	(void)state;
	check_every_case_runs(SERVING_CASES, 41);
}

/*
 * Accuracy: every published run within its stated tolerance (15 %, the event-engine issue's), with
 * one set of defaults per GPU. Runs known to fall outside are listed here with the reason; they
 * are not asserted either way (the pins below catch any move of theirs), and one that comes within
 * its tolerance is reported so the list shrinks with the model. The set's summary is printed.
 */
static const char *const known_outside[] = {
	/* FSDP 1T on 40 GB GPUs with parameter offload: 74 % fast. Run as the post's benchmark
	 * harness allows (module-sized FSDP units, checkpoints in pinned host memory), it fits in
	 * 32.9 GiB; dssim's step is 461 s where the measured rate means 797. The post names the cause
	 * itself: "the largest bottleneck in the 1T model training is not from communication but
	 * from the slow CUDA cache allocator when peak GPU memory is reaching the limit". FSDP of
	 * that time had no rate limiter on the all-gathers the CPU issues ahead (limit_all_gathers
	 * came later; its docstring in torch/distributed/fsdp: it "can help lower the number of
	 * CUDA malloc retries"); the allocator's retries are not modelled and their cost is not
	 * published. */
	"PyTorch FSDP, minGPT 1T, 128 A100-40GB, batch 4, seq 2048",
	/* MoE on H100: GPT-OSS-120B 25 % fast at the recipe's micro-batch 1, with its unfused
	 * YaRN rotary embedding and clamped activation (published.yaml), the experts' fc2 bias
	 * added per expert (the megatron-core profile's fusion.expert_bias) and the experts'
	 * gradients and gathers between the two nodes of their expert-data-parallel group, and
	 * its head dimension of 64 at cuDNN's measured rate for it (compute.c). Its learnable
	 * attention sinks rule FlashAttention out (Transformer Engine 2.9 dot_product_attention/utils.py);
	 * cuDNN runs them fused from 9.13.1 (common/fused_attn/fused_attn.cpp), the version NeMo
	 * 25.11 ships (Megatron-Bridge v0.2.0 docs/releases/software-versions.md: cuDNN
	 * 9.13.1.26), so the fused kernel stands. */
	"Megatron-Bridge 25.11, GPT-OSS-120B, 64 H100",
	NULL,
};

/*
 * Serving runs outside their tolerance with the serving model as it stands (no engine profile, no
 * fixed cost per iteration; issue 14 sections 1 and 2), grouped by what they miss. Like the
 * training list: not asserted either way, the pins catch any move, and one that comes within its
 * tolerance is reported.
 */
static const char *const known_outside_serving[] = {
	/* With the engine profiles (serving.engine) as shipped, a fixed GPU time per kernel,
	 * prefill-only steps for SGLang and vLLM V0 (serving.mixed_prefill) and vLLM V0's
	 * asynchronous output (serving.async_output), the turbomind profile's decode attention
	 * (a GQA group of eight reading its KV twice) and NCCL's fixed latency kept by groups
	 * smaller than the node (collective.c), issue 14 still open: the static TurboMind batch
	 * of 64 on one A100 high (the clients' staggered prompts, which stall the decoding batch,
	 * are not modelled), and its batch of 32 at the edge, +15.0 % (+14.9 % once prompt
	 * attention ran at its measured rate for the prompt's length, compute.c; the A100 16-bit
	 * GEMM scale's refits of stop 32, 0.947 of the measured rates from 0.945, took it just
	 * past); SGLang's median
	 * TTFT on the 70B 23-24 % short (on the 8B within 15 % since that fit until the A100
	 * scale's refit of stop 33, 0.950 of the measured rates: at 8 req/s -14.8 % then -15.2 %,
	 * a queue's median moving twice the GEMM rate's 0.27 %; vLLM's on the 70B at 4 req/s came
	 * within 15 % with the same rate, -14.9 %);
	 * vLLM 0.6.0's offline throughput 21-23 % low (its host time per sequence, not overlapped
	 * here: hidden under the forward, as PR #7921 runs the output processor, the offline rows
	 * come to +12 and +8 % but the same rows' online TTFT and TPOT 15-23 % short); TurboMind W4A16 on an RTX 4090 16 % slow (the A100's kernel latency, the 4090
	 * having no measurement of its own). */
	"LMDeploy 0.1.0 TurboMind, Llama-2-7B, 1 A100, batch 32, 2048 in 128 out",
	"LMDeploy 0.1.0 TurboMind, Llama-2-7B, 1 A100, batch 64, 128 in 128 out",
	"SGLang 0.3.0, Llama-3.1-70B, 4 H100, ShareGPT, 4 req/s, median TTFT",
	"SGLang 0.3.0, Llama-3.1-70B, 4 H100, ShareGPT, 8 req/s, median TTFT",
	"SGLang 0.3.0, Llama-3.1-8B, 1 A100, ShareGPT, 8 req/s, median TTFT",
	"vLLM 0.6.0, Llama-3.1-8B, 1 A100, ShareGPT, offline",
	"vLLM 0.6.0, Llama-3.1-70B, 4 H100, ShareGPT, offline",
	"LMDeploy TurboMind W4A16, Llama-2-7B, 1 RTX 4090, batch 1, 1 in 512 out",
	NULL,
};


/* Every case within its tolerance unless listed, and in memory: every published run ran, so
 * each fits as dssim counts it (the report marks one that does not, validate_print); the set's
 * summary is printed. */
static void check_within_tolerance(const char *cases, const char *const *listed)
{
	struct validate_report r;
	struct validate_summary m;
	struct diag d;
	size_t i, bad = 0;
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_run(cases, NULL, &r, &d), 0);
	for (i = 0; i < r.count; i++) {
		const struct validate_row *w = &r.rows[i];
		bool known = is_listed(listed, w->name);
		if (known && w->ok)
			print_message("%s: %+.1f%%, now within %.0f%%: drop it from known_outside\n",
				      w->name, 100 * w->error, 100 * w->tolerance);
		if (!known && !w->ok) {
			print_error("%s: %+.1f%% against a tolerance of %.0f%%\n", w->name,
				    100 * w->error, 100 * w->tolerance);
			bad++;
		}
		assert_true(w->memory.capacity > 0);
		if (!w->memory.fits) {
			print_error("%s: does not fit, %.2f of %.2f GiB\n", w->name,
				    w->memory.need / 1073741824.0, w->memory.capacity / 1073741824.0);
			bad++;
		}
	}
	validate_summarize(&r, &m);
	print_message("%zu runs, %zu outside tolerance; mean |error| %.1f%%, signed mean %+.1f%%, "
		      "largest |error| %.1f%%\n", r.count, m.outside, 100 * m.mean_abs,
		      100 * m.mean_signed, 100 * m.max_abs);
	assert_int_equal(bad, 0);
	validate_report_release(&r);
	diag_release(&d);
}

static void published_runs_are_within_their_tolerance(void **state)
{
	(void)state;
	check_within_tolerance(TRAINING_CASES, known_outside);
}

static void serving_runs_are_within_their_tolerance(void **state)
{
	(void)state;
	check_within_tolerance(SERVING_CASES, known_outside_serving);
}

/*
 * Runs no dssim constant was fitted to, each within 15 % and each in device memory as it ran:
 * Llama 3 405B on 8,192 and 16,384 H100 (the Llama 3 paper's Table 4; the 8,192-GPU row fits
 * only with FSDP's sharded gradients, zero 2, holding 32 micro-batches of the depth-first
 * interleaved schedule's warm-up without recomputation, as the paper says it ran), and
 * torchtitan's FSDP2 runs on 64 A100 (its first docs/performance.md), and BLOOM 176B on 384 A100
 * of Jean Zay (BigScience's training log, Megatron-DeepSpeed over Omni-Path).
 */
static void unseen_runs_are_within_15_percent_and_fit(void **state)
{
	(void)state;
	check_within_tolerance(LLAMA3_CASES, (const char *const[]){NULL});
	check_within_tolerance(TORCHTITAN_CASES, (const char *const[]){NULL});
	check_within_tolerance(BIGSCIENCE_CASES, (const char *const[]){NULL});
}

/*
 * Megatron-Core r0.8.0's weak scaling on 48 to 6,144 H100 (its README's model table), none
 * fitted to, as tests/validation/megatron-core.yaml states the runs. The goal for runs
 * dssim was not tuned to is a signed mean within 5 %; the rows outside 15 % are listed with
 * what dssim gets wrong there.
 */
static const char *const known_outside_megatron_core[] = {
	/* +19 %: the smallest GEMMs (h 2048, TP 1) run near the H100 curve's plateau, which
	 * reaches it from 1.4e11 FLOPs on; the table's MFU rises with the model's size. */
	"Megatron-Core r0.8.0, GPT 1.7B, 48 H100, TP1 PP1 DP48",
	/* -16 %: TP 8 without a pipeline, 4 micro-batches a replica: the gradients'
	 * reduce-scatter over one NIC a GPU (4e9 parameters, 8 GB in BF16; the tag's FP32
	 * reduction, 16 GB, would give -26 %) outlasts the last micro-batch's backward it hides
	 * under, and 18 % of the step is left exposed. */
	"Megatron-Core r0.8.0, GPT 32B, 384 H100, TP8 PP1 DP48",
	NULL,
};

static void megatron_core_scaling_runs_hold_their_sign(void **state)
{
	struct validate_report r;
	struct validate_summary m;
	struct diag d;
	(void)state;
	check_within_tolerance(MEGATRON_CORE_CASES, known_outside_megatron_core);
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_run(MEGATRON_CORE_CASES, NULL, &r, &d), 0);
	validate_summarize(&r, &m);
	assert_int_equal(r.count, 9);
	assert_true(fabs(m.mean_signed) <= 0.05);
	validate_report_release(&r);
	diag_release(&d);
}

/*
 * Later Megatron-Bridge containers on DGX-H100 (26.02.01, 26.04.01), none fitted to, as
 * tests/validation/megatron-bridge-later.yaml states the runs. The Qwen3-30B-A3B run over two
 * nodes with EP 16 sends its tokens with HybridEP, once per node they reach
 * (strategy.moe_dispatcher deepep): +6.7 %, where counting every expert copy over InfiniBand
 * gives -25.6 %. Listed outside, each with what dssim gets wrong there:
 */
static const char *const known_outside_bridge_later[] = {
	/* +22 %: the 25.11 row's gap (+18 %, published.yaml) at 2.5 times its micro-batches, so
	 * in each micro-batch's work, not in the pipeline's fill and drain (issue 15). */
	"Megatron-Bridge 26.04.01, GPT-OSS-120B, 64 H100, GBS 1280",
	/* +28 %: dssim's paired forwards and backwards (strategy.overlap_moe_a2a) hide the in-node
	 * all-to-alls, 11 % of the step without them (22.7 s with the overlap, 25.0 s without,
	 * +15.8 %, against the published 28.9 s); the run shows no such gain: at micro-batch 1
	 * it is 14 % slower than the 25.09 run of the same model at micro-batch 2 without the
	 * overlap (published.yaml, +4.3 %). */
	"Megatron-Bridge 26.02.01, Qwen3-30B-A3B, 16 H100, PP 2 EP 8",
	NULL,
};

static void later_bridge_runs_are_within_15_percent(void **state)
{
	(void)state;
	check_within_tolerance(BRIDGE_LATER_CASES, known_outside_bridge_later);
}

/*
 * DeepSeek's own costs (issue 15, section 4): V3 training within its 10 % bar and in 80 GB as
 * DeepSeek's run was, V3's prefill pool within 15 %, V2's decode and prefill alone no more than
 * 10 % short of their floors ("exceeding 50K", "exceeds 100K"; -1 % and above since the experts
 * run as one grouped kernel), V2 training (zero-bubble PP 16, EP 8, its FlashAttention-2
 * kernel) within 10 %, V3's decode pool within 15 % (+10 % once cuDNN's attention ran at its
 * measured Hopper rate), and the 67B dense model within its 15 % (+12.6 % with the strategy
 * dssim's own search picks, TP 4 PP 2). None is listed outside.
 */
static const char *const known_outside_deepseek[] = {NULL};

static void deepseek_runs_are_within_their_bars(void **state)
{
	struct memory_screen m;
	struct diag d;
	struct scenario *s;
	(void)state;
	check_within_tolerance(DEEPSEEK_CASES, known_outside_deepseek);
	diag_init(&d);
	s = scenario_load("scenarios/deepseek_v3_pp16_ep64_h800.yaml", NULL, &d);
	assert_non_null(s);
	memory_screen(s, &m);
	print_message("DeepSeek-V3: %.2f GiB of %.0f GiB\n", m.peak / 1073741824.0,
		      m.capacity / 1073741824.0);
	assert_true(m.fits);
	scenario_free(s);
	diag_release(&d);
}

/* The simulated output tokens/s of a shipped scenario with every prompt in the prefix cache. */
static double decode_alone(const char *path)
{
	struct scenario_override ov = {"workload.prefix_cache.hit_rate", "1"};
	struct scenario_options o = {.overrides = &ov, .noverrides = 1};
	struct run_options ro = {.step_only = true};
	struct run_result r;
	struct scenario *s;
	struct diag d;
	double v;
	diag_init(&d);
	s = scenario_load(path, &o, &d);
	assert_non_null(s);
	assert_int_equal(run_scenario(s, &ro, &r, &d), 0);
	v = r.serve.output_tokens_per_s;
	run_result_release(&r);
	scenario_free(s);
	diag_release(&d);
	return v;
}

/*
 * DeepSeek-V2 report sec. 3.2.3: V2 (FP8 weights, ~6-bit KV) generates "5.76 times the maximum
 * generation throughput of DeepSeek 67B" (BF16, TP8) on one 8 x H800 node; issue 15's bar is the
 * ratio within 15 %. Read as decode alone (the report gives prompt throughput apart), both
 * scenarios queue the same requests with every prompt cached.
 */
static void deepseek_v2_generates_5_76_times_the_67b(void **state)
{
	double v2, d67, ratio;
	(void)state;
	check_chdir_srcdir();
	v2 = decode_alone("scenarios/deepseek_v2_serving_h800.yaml");
	d67 = decode_alone("scenarios/deepseek_67b_serving_h800.yaml");
	ratio = v2 / d67;
	print_message("V2 %.0f, 67B %.0f generated tokens/s: %.2fx (%+.1f%% against 5.76x)\n", v2,
		      d67, ratio, 100 * (ratio / 5.76 - 1));
	assert_true(fabs(ratio / 5.76 - 1) <= 0.15);
}

/*
 * Pins: each run's signed error as last accepted, in percent, one "name<TAB>error" line per case.
 * The published tolerance (15 %) leaves room for a row to slide from 9.7 % to 14.9 % unseen; a pin
 * makes any move beyond PIN_POINTS show here, and `make golden` turns an intended move into a
 * diff of the pin file for review.
 */
#define PIN_FILE "tests/validation/pinned.tsv"
#define SERVING_PIN_FILE "tests/validation/pinned-serving.tsv"
#define LLM_FOUNDRY_PIN_FILE "tests/validation/pinned-llm-foundry.tsv"
#define PIN_POINTS 2.0

struct pin {
	char name[200];
	double error_pct;
	bool used;
};

/* Read up to max pins; comment lines start with '#'. Returns the count, or -1 (with a message). */
static int pins_load(const char *path, struct pin *pins, int max)
{
	char line[512];
	int n = 0, lineno = 0;
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		print_error("%s: cannot read\n", path);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *tab = strchr(line, '\t'), *end;
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (tab == NULL || n == max || (size_t)(tab - line) >= sizeof pins[n].name) {
			print_error("%s:%d: expected 'name<TAB>error %%'\n", path, lineno);
			fclose(f);
			return -1;
		}
		memcpy(pins[n].name, line, (size_t)(tab - line));
		pins[n].name[tab - line] = '\0';
		pins[n].error_pct = strtod(tab + 1, &end);
		pins[n].used = false;
		if (end == tab + 1 || (*end != '\n' && *end != '\0')) {
			print_error("%s:%d: expected a number after the tab\n", path, lineno);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void check_pins(const char *cases, const char *pin_file)
{
	struct validate_report r;
	struct diag d;
	struct pin pins[256];
	size_t i, bad = 0;
	int n, j;
	check_chdir_srcdir();
	n = pins_load(pin_file, pins, 256);
	assert_true(n > 0);
	diag_init(&d);
	assert_int_equal(validate_run(cases, NULL, &r, &d), 0);
	for (i = 0; i < r.count; i++) {
		const struct validate_row *w = &r.rows[i];
		double got = 100 * w->error;
		for (j = 0; j < n && strcmp(pins[j].name, w->name) != 0; j++)
			;
		if (j == n) {
			print_error("%s: %+.2f%%, no pin in %s (make golden)\n", w->name, got,
				    pin_file);
			bad++;
			continue;
		}
		pins[j].used = true;
		print_message("%-70s %+6.2f%% pinned %+6.2f%%\n", w->name, got, pins[j].error_pct);
		if (!(fabs(got - pins[j].error_pct) <= PIN_POINTS)) {
			print_error("%s: %+.2f%% moved %+.2f points from its pin %+.2f%% (allowed %.0f; "
				    "make golden refreshes %s)\n", w->name, got, got - pins[j].error_pct,
				    pins[j].error_pct, PIN_POINTS, pin_file);
			bad++;
		}
	}
	for (j = 0; j < n; j++) {
		if (!pins[j].used) {
			print_error("%s: pinned but no such case\n", pins[j].name);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	validate_report_release(&r);
	diag_release(&d);
}

static void published_runs_stay_within_2_points_of_their_pins(void **state)
{
	(void)state;
	check_pins(TRAINING_CASES, PIN_FILE);
}

static void serving_runs_stay_within_2_points_of_their_pins(void **state)
{
	(void)state;
	check_pins(SERVING_CASES, SERVING_PIN_FILE);
}

static void llm_foundry_runs_stay_within_2_points_of_their_pins(void **state)
{
	(void)state;
	check_pins(LLM_FOUNDRY_CASES, LLM_FOUNDRY_PIN_FILE);
}

/* --write-pins CASES FILE: the pins of this build for one set, for `make golden`. CASES is
 * relative to the source tree. */
static int pins_write(const char *cases, const char *path)
{
	struct validate_report r;
	struct diag d;
	size_t i;
	FILE *f;
	check_chdir_srcdir();
	diag_init(&d);
	if (validate_run(cases, NULL, &r, &d) != 0) {
		diag_print(&d, stderr);
		diag_release(&d);
		return 1;
	}
	f = fopen(path, "w");
	if (f == NULL) {
		fprintf(stderr, "%s: cannot write\n", path);
		validate_report_release(&r);
		diag_release(&d);
		return 1;
	}
	fputs("# Signed error of each published run (dssim / published - 1, in percent) as last\n"
	      "# accepted: tests/test_validate.c fails when a run moves more than 2 points from it.\n"
	      "# Written by `make golden` (tests/test_validate --write-pins); review its diff.\n", f);
	for (i = 0; i < r.count; i++)
		fprintf(f, "%s\t%+.2f\n", r.rows[i].name, 100 * r.rows[i].error);
	validate_report_release(&r);
	diag_release(&d);
	return fclose(f) == 0 ? 0 : 1;
}

static void a_case_without_a_metric_is_reported_where_it_stands(void **state)
{
	char path[1200], buf[512];
	struct validate_report r;
	struct diag d;
	(void)state;
	check_write("cases.yaml", "cases:\n  - name: no metric\n    published: 1\n    tolerance: 0.1\n"
				  "    scenario: {model: gpt2}\n", path, sizeof path);
	diag_init(&d);
	assert_int_equal(validate_run(path, NULL, &r, &d), -1);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(diag_format(&d.items[0], buf, sizeof buf), "cases.yaml:2:5: cases: "));
	validate_report_release(&r);
	diag_release(&d);
}

/* The Megatron-LM 1.7B model on one Selene node, 16 sequences of 2048 a step: a run that takes
 * a few milliseconds, written as the scenario file `name` (workload keys in `extra`). */
static void write_small_run(const char *name, const char *extra, char *path, size_t n)
{
	char text[512];
	snprintf(text, sizeof text,
		 "model: megatron-gpt-1.7b\ncluster: {node: selene, nodes: 1}\n"
		 "workload: {seq_len: 2048, global_batch: 16, micro_batch: 1%s}\n", extra);
	check_write(name, text, path, n);
}

/*
 * tokens_per_s_per_gpu is NeMo's "Tokens / sec / GPU": global batch * sequence / step time / GPUs.
 * One scenario read three ways: 16 sequences of 2048 tokens on 8 GPUs make 32768 tokens a step,
 * so the cluster figure is 32768 / step_s and the per-GPU one 4096 / step_s.
 */
static void tokens_per_gpu_is_the_cluster_rate_over_its_gpus(void **state)
{
	char path[1200];
	struct validate_report r;
	struct diag d;
	double step_s;
	(void)state;
	write_small_run("s", "", path, sizeof path);
	check_write("per_gpu.yaml",
		    "cases:\n"
		    "  - {name: step, metric: step_s, published: 1, tolerance: 1, scenario: s}\n"
		    "  - {name: cluster, metric: tokens_per_s, published: 1, tolerance: 1, scenario: s}\n"
		    "  - {name: gpu, metric: tokens_per_s_per_gpu, published: 1, tolerance: 1, "
		    "scenario: s}\n",
		    path, sizeof path);
	diag_init(&d);
	assert_int_equal(validate_run(path, NULL, &r, &d), 0);
	assert_int_equal(r.count, 3);
	step_s = r.rows[0].simulated;
	check_rel(r.rows[1].simulated, 32768 / step_s, 1e-12);
	check_rel(r.rows[2].simulated, 4096 / step_s, 1e-12);
	validate_report_release(&r);
	diag_release(&d);
}

/*
 * A published floor ("exceeding 50K tokens per second", bound: lower): a figure above it meets
 * it whatever the margin, and counts as no error in the statistics; one below it misses by its
 * relative error like any case. A bound other than lower is refused where it stands.
 */
static void a_lower_bound_is_met_by_any_figure_above_it(void **state)
{
	char path[1200], buf[512];
	struct validate_report r;
	struct validate_summary m;
	struct diag d;
	double tps;
	(void)state;
	write_small_run("floor", "", path, sizeof path);
	check_write("floor.yaml",
		    "cases:\n"
		    "  - {name: plain, metric: tokens_per_s, published: 1, tolerance: 1, "
		    "scenario: floor}\n"
		    "  - {name: above, metric: tokens_per_s, published: 1, tolerance: 0.1, "
		    "bound: lower, scenario: floor}\n"
		    "  - {name: below, metric: tokens_per_s, published: 1e9, tolerance: 0.1, "
		    "bound: lower, scenario: floor}\n",
		    path, sizeof path);
	diag_init(&d);
	assert_int_equal(validate_run(path, NULL, &r, &d), 0);
	assert_int_equal(r.count, 3);
	tps = r.rows[0].simulated;
	assert_true(tps > 1000 && tps < 1e9);
	assert_false(r.rows[0].ok);              /* a point figure a thousandfold off */
	assert_true(r.rows[1].ok && r.rows[1].lower_bound);
	check_rel(r.rows[1].error, tps - 1, 1e-12);  /* printed as is */
	assert_false(r.rows[2].ok);
	check_rel(validate_miss(true, tps, 1e9), tps / 1e9 - 1, 1e-12);
	assert_true(validate_miss(true, tps, 1) == 0);
	validate_summarize(&r, &m);
	check_rel(m.mean_signed, ((tps - 1) + 0 + (tps / 1e9 - 1)) / 3, 1e-12);
	assert_int_equal(m.outside, 2);
	validate_report_release(&r);
	diag_release(&d);
	check_write("upper.yaml",
		    "cases:\n"
		    "  - {name: x, metric: tokens_per_s, published: 1, tolerance: 0.1,\n"
		    "     bound: upper, scenario: floor}\n",
		    path, sizeof path);
	diag_init(&d);
	assert_int_equal(validate_run(path, NULL, &r, &d), -1);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(diag_format(&d.items[0], buf, sizeof buf), "upper.yaml:3:13: bound: "));
	validate_report_release(&r);
	diag_release(&d);
}

/*
 * tflops_model, dssim's model FLOPs per second per GPU, against Korthikanti et al. 2022 sec. 6:
 * a step of a GPT (4h MLP, tied head) does 72 B s l h^2 (1 + s/(6h) + V/(12 h l)) model FLOPs
 * with attention counted in full (flash_attention off here). dssim also counts the 13h biases
 * and norms of each layer (Narayanan et al. 2021 eq. 2): 3 x 2 x 13 l h more per token, 0.04 %
 * for this model. For the 1.7B model (l 24, h 2304, V 51200) at s 2048 and B 16 on 8 GPUs:
 * 72 x 16 x 2048 x 24 x 2304^2 x (1 + 2048/13824 + 51200/663552) = 3.6830e14 per step.
 */
static void tflops_model_is_the_model_flops_per_gpu(void **state)
{
	char path[1200];
	struct validate_report r;
	struct diag d;
	double B = 16, s = 2048, l = 24, h = 2304, V = 51200, flops, step_s;
	(void)state;
	write_small_run("flops", ", flash_attention: false", path, sizeof path);
	check_write("flops.yaml",
		    "cases:\n"
		    "  - {name: step, metric: step_s, published: 1, tolerance: 1, scenario: flops}\n"
		    "  - {name: model, metric: tflops_model, published: 1, tolerance: 1, "
		    "scenario: flops}\n",
		    path, sizeof path);
	flops = 72 * B * s * l * h * h * (1 + s / (6 * h) + V / (12 * h * l));
	assert_true(fabs(flops / 3.6830e14 - 1) < 1e-4);
	diag_init(&d);
	assert_int_equal(validate_run(path, NULL, &r, &d), 0);
	assert_int_equal(r.count, 2);
	step_s = r.rows[0].simulated;
	/* The 13h term is 3.8e-4 of the total, so a tolerance above that could not tell it
	 * apart: dssim's count agrees to rounding. */
	check_rel(r.rows[1].simulated * 1e12 * step_s * 8, flops + 3 * 2 * 13 * l * h * B * s,
		  1e-12);
	validate_report_release(&r);
	diag_release(&d);
}

/* Serving per node: the steady rates over the nodes of the pool that runs each phase (here a
 * prefill pool of one 8-GPU node and a decode pool of two), and a clear refusal when the run
 * has no steady state (every request at once). */
static void per_node_rates_are_the_steady_rates_over_the_pool_nodes(void **state)
{
	static const char per_node_case[] =
		"  - {name: in, metric: input_tokens_per_s_per_node, published: 1, tolerance: 1, "
		"scenario: per_node}\n";
	char path[1200];
	struct validate_report r;
	struct run_result run;
	struct run_options ro = {.step_only = true};
	struct scenario_override ov = {"workload.arrival.rate", "0"};
	struct scenario_options at_once = {.overrides = &ov, .noverrides = 1};
	struct scenario *s;
	struct diag d;
	char cases[512];
	(void)state;
	check_write("per_node",
		    "model: llama-3-8b\ncluster: {node: p5.48xlarge, nodes: 3}\n"
		    "workload: {mode: infer, seq_len: 4096, requests: 3000, arrival: {rate: 30/s},\n"
		    "  prompt_tokens: {dist: fixed, value: 1000}, output_tokens: {dist: fixed, value: 200}}\n"
		    "strategy: {tp: 8}\n"
		    "serving: {pools: {prefill: {gpus: 8, tp: 4}, decode: {gpus: 16, tp: 8}}}\n",
		    path, sizeof path);
	diag_init(&d);
	s = scenario_load(path, NULL, &d);
	assert_non_null(s);
	assert_int_equal(run_scenario(s, &ro, &run, &d), 0);
	assert_true(run.serve.steady.valid);
	snprintf(cases, sizeof cases, "cases:\n%s"
		 "  - {name: out, metric: output_tokens_per_s_per_node, published: 1, tolerance: 1, "
		 "scenario: per_node}\n", per_node_case);
	check_write("per_node.yaml", cases, path, sizeof path);
	assert_int_equal(validate_run(path, NULL, &r, &d), 0);
	assert_int_equal(r.count, 2);
	check_rel(r.rows[0].simulated, run.serve.steady.input_tokens_per_s / 1, 1e-12);
	check_rel(r.rows[1].simulated, run.serve.steady.output_tokens_per_s / 2, 1e-12);
	validate_report_release(&r);
	run_result_release(&run);
	scenario_free(s);
	/* Every request at once: no window in which the load has settled. */
	snprintf(cases, sizeof cases, "cases:\n%s", per_node_case);
	check_write("per_node.yaml", cases, path, sizeof path);
	assert_int_equal(validate_run(path, &at_once, &r, &d), -1);
	assert_int_equal(r.count, 0);
	assert_non_null(strstr(d.items[d.count - 1].message, "never settles"));
	validate_report_release(&r);
	diag_release(&d);
}

/* The fit's cache: a case loaded again with the same expanded keys gives the same value
 * without a second simulation; a key that changes the scenario is a new entry. */
static void the_cache_keys_cases_by_their_expanded_scenario(void **state)
{
	struct validate_cases cs;
	struct validate_cache *cache = validate_cache_new();
	struct scenario_override ov = {"cluster.node.gpu.efficiency.memory", "0.5"};
	struct scenario_options o = {0};
	struct diag d;
	double a, b, c;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_cases_load(TRAINING_CASES, &cs, &d), 0);
	assert_int_equal(validate_case_run_cached(&cs.items[0], NULL, cache, &a, &d), 0);
	assert_int_equal(validate_case_run_cached(&cs.items[0], NULL, cache, &b, &d), 0);
	assert_true(a == b);
	assert_int_equal(validate_cache_size(cache), 1);
	o.overrides = &ov;
	o.noverrides = 1;
	assert_int_equal(validate_case_run_cached(&cs.items[0], &o, cache, &c, &d), 0);
	assert_int_equal(validate_cache_size(cache), 2);
	assert_true(c != a);
	validate_cache_free(cache);
	validate_cases_release(&cs);
	diag_release(&d);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_cache_keys_cases_by_their_expanded_scenario),
		cmocka_unit_test(every_shipped_case_runs),
		cmocka_unit_test(published_runs_are_within_their_tolerance),
		cmocka_unit_test(published_runs_stay_within_2_points_of_their_pins),
		cmocka_unit_test(every_serving_case_runs),
		cmocka_unit_test(serving_runs_are_within_their_tolerance),
		cmocka_unit_test(serving_runs_stay_within_2_points_of_their_pins),
		cmocka_unit_test(every_llm_foundry_case_runs),
		cmocka_unit_test(llm_foundry_runs_meet_the_unseen_runs_mean),
		cmocka_unit_test(llm_foundry_runs_stay_within_2_points_of_their_pins),
		cmocka_unit_test(unseen_runs_are_within_15_percent_and_fit),
		cmocka_unit_test(megatron_core_scaling_runs_hold_their_sign),
		cmocka_unit_test(later_bridge_runs_are_within_15_percent),
		cmocka_unit_test(deepseek_runs_are_within_their_bars),
		cmocka_unit_test(deepseek_v2_generates_5_76_times_the_67b),
		cmocka_unit_test(a_case_without_a_metric_is_reported_where_it_stands),
		cmocka_unit_test(tokens_per_gpu_is_the_cluster_rate_over_its_gpus),
		cmocka_unit_test(a_lower_bound_is_met_by_any_figure_above_it),
		cmocka_unit_test(tflops_model_is_the_model_flops_per_gpu),
		cmocka_unit_test(per_node_rates_are_the_steady_rates_over_the_pool_nodes),
	};
	gsl_set_error_handler_off();
	if (argc == 4 && strcmp(argv[1], "--write-pins") == 0)
		return pins_write(argv[2], argv[3]);
	if (argc != 1) {
		fprintf(stderr, "usage: test_validate [--write-pins CASES FILE]\n");
		return 2;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
