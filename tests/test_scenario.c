/*
 * test_scenario: loading a scenario — presets by name and by path, defaults and derived values,
 * --set overrides (also inside presets), the preset search order, framework profiles and their
 * place among the layers, and that problems are all
 * collected with their positions (the catalogue of single bad inputs is tests/bad/).
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "canonical.h"
#include "diag.h"
#include "scenario.h"
#include "schema.h"

static void the_32b_scenario_loads_its_presets(void **state)
{
	struct scenario *s;
	struct diag d;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	s = scenario_load("scenarios/32b_zero3.yaml", NULL, &d);
	diag_print(&d, stderr);
	assert_non_null(s);
	assert_string_equal(s->model.name, "deepseek-r1-distill-qwen-32b");
	assert_int_equal(s->model.layers, 64);
	assert_int_equal(s->model.hidden, 5120);
	assert_int_equal(s->model.kv_heads, 8);
	assert_true(s->model.qkv_bias);
	assert_string_equal(s->cluster.node.name, "p4de.24xlarge");
	assert_string_equal(s->cluster.node.gpu.name, "a100-80gb-sxm");
	assert_int_equal(s->cluster.node.gpus_per_node, 8);
	/* 80 GiB as nvidia-smi reports 81920 MiB for A100-SXM4-80GB. */
	check_rel(s->cluster.node.gpu.memory, 80.0 * 1024 * 1024 * 1024, 1e-12);
	assert_int_equal(s->cluster.gpus, 16);
	assert_int_equal(s->strategy.dp, 16);
	assert_int_equal(s->strategy.zero, 3);
	assert_int_equal(s->strategy.recompute, RECOMPUTE_FULL);
	assert_int_equal(s->strategy.offload.optimizer, OFFLOAD_CPU);
	assert_int_equal(s->workload.global_batch, 64);
	scenario_free(s);
	diag_release(&d);
}

static void defaults_fill_what_a_scenario_leaves_out(void **state)
{
	struct scenario *s = check_scenario("defaults",
		"model: llama-2-7b\n"
		"cluster: {node: p5.48xlarge}\n"
		"workload: {seq_len: 4096}\n");
	(void)state;
	assert_int_equal(s->workload.mode, MODE_TRAIN);
	assert_int_equal(s->workload.micro_batch, 1);
	assert_int_equal(s->workload.dtype, DTYPE_BF16);
	assert_int_equal(s->strategy.tp, 1);
	/* dp derives from the GPUs: 8 / (1*1*1) */
	assert_int_equal(s->strategy.dp, 8);
	/* global_batch defaults to micro_batch * dp */
	assert_int_equal(s->workload.global_batch, 8);
	/* head_dim = hidden / heads = 4096 / 32 */
	assert_int_equal(s->model.head_dim, 128);
	assert_int_equal(s->model.kv_heads, 32);
	check_rel(s->strategy.bucket, 25e6, 1e-12);
	check_rel(s->serving.gpu_memory_utilization, 0.9, 1e-12);
	assert_false(s->present[0] && s->name == NULL);
	scenario_free(s);
}

static void inline_mappings_replace_presets(void **state)
{
	struct scenario *s = check_scenario("inline",
		"model:\n"
		"  layers: 24\n  hidden: 2048\n  heads: 16\n  vocab: 32000\n"
		"cluster:\n"
		"  node:\n"
		"    gpus_per_node: 4\n"
		"    gpu: {memory: 48 GB, memory_bw: 864 GB/s, flops: {bf16: 362 TFLOPS}}\n"
		"workload: {mode: infer, seq_len: 2048}\n");
	(void)state;
	assert_int_equal(s->model.ffn, 4 * 2048);
	check_rel(s->cluster.node.gpu.memory, 48e9, 1e-12);
	check_rel(s->cluster.node.gpu.memory_bw, 864e9, 1e-12);
	check_rel(s->cluster.node.gpu.flops[DTYPE_BF16], 362e12, 1e-12);
	assert_int_equal(s->cluster.gpus, 4);
	scenario_free(s);
}

static struct scenario *load_with(const char *path, const struct scenario_override *o, size_t n,
				  struct diag *d)
{
	struct scenario_options opt = {o, n, NULL, false, NULL, NULL};
	return scenario_load(path, &opt, d);
}

static void overrides_reach_inside_presets(void **state)
{
	struct scenario_override o[] = {
		{"strategy.tp", "8"},
		{"strategy.dp", "0"},
		{"cluster.node.gpu.memory", "96 GiB"},
		{"model.layers", "32"},
		{"strategy.offload", "{optimizer: none, params: none}"},
		{"strategy.zero", "1"},
	};
	struct diag d;
	struct scenario *s;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	s = load_with("scenarios/32b_zero3.yaml", o, 6, &d);
	diag_print(&d, stderr);
	assert_non_null(s);
	assert_int_equal(s->strategy.tp, 8);
	assert_int_equal(s->strategy.dp, 2);
	check_rel(s->cluster.node.gpu.memory, 96.0 * 1024 * 1024 * 1024, 1e-12);
	assert_int_equal(s->model.layers, 32);
	assert_int_equal(s->strategy.offload.optimizer, OFFLOAD_NONE);
	scenario_free(s);
	diag_release(&d);
}

static void an_override_can_swap_a_whole_preset(void **state)
{
	struct scenario_override o[] = {{"cluster.node", "p5.48xlarge"}, {"strategy.tp", "2"},
					{"strategy.dp", "8"}};
	struct diag d;
	struct scenario *s;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	s = load_with("scenarios/32b_zero3.yaml", o, 3, &d);
	diag_print(&d, stderr);
	assert_non_null(s);
	assert_string_equal(s->cluster.node.gpu.name, "h100-sxm");
	assert_int_equal(s->cluster.gpus, 16);
	scenario_free(s);
	diag_release(&d);
}

/* The file pins dp: 16; changing tp alone is inconsistent and the message says how to fix it. */
static void a_pinned_dp_that_no_longer_fits_says_which_would(void **state)
{
	struct scenario_override o[] = {{"strategy.tp", "8"}};
	struct diag d;
	char buf[512];
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	assert_null(load_with("scenarios/32b_zero3.yaml", o, 1, &d));
	assert_int_equal(d.count, 1);
	assert_string_equal(diag_format(&d.items[0], buf, sizeof buf),
			    "scenarios/32b_zero3.yaml:18:7: strategy.dp: tp*pp*cp*dp = 8*1*1*16 = 128, "
			    "but the cluster has 16 GPUs (dp 2 fits; 0 derives it)");
	diag_release(&d);
}

static void bad_overrides_name_the_command_line(void **state)
{
	struct scenario_override o[] = {{"strategy.tp", "many"}, {"strategy.zero", "7"}};
	struct diag d;
	char buf[512];
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	assert_null(load_with("scenarios/32b_zero3.yaml", o, 2, &d));
	assert_int_equal(d.count, 2);
	assert_string_equal(diag_format(&d.items[0], buf, sizeof buf),
			    "--set strategy.tp: strategy.tp: expected an integer, got 'many'");
	assert_string_equal(diag_format(&d.items[1], buf, sizeof buf),
			    "--set strategy.zero: strategy.zero: expected an integer from 0 to 3, got 7");
	diag_release(&d);
}

static void every_type_error_in_a_file_is_reported(void **state)
{
	struct diag d;
	struct scenario_options opt = {NULL, 0, NULL, false, NULL, NULL};
	const char *b = getenv("TOP_BUILDDIR");
	char path[1024];
	FILE *f;
	(void)state;
	snprintf(path, sizeof path, "%s/tests/out/three_errors.yaml", b ? b : ".");
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("model: llama-2-7b\n"
	      "cluster: {node: p5.48xlarge, nodes: zero}\n"
	      "workload: {seq_len: -5, dtype: bf61}\n"
	      "stratgy: {tp: 2}\n", f);
	fclose(f);
	diag_init(&d);
	assert_null(scenario_load(path, &opt, &d));
	diag_print(&d, stderr);
	assert_int_equal(d.count, 4);
	assert_int_equal(d.items[0].at.line, 2);
	assert_string_equal(d.items[0].key, "cluster.nodes");
	assert_string_equal(d.items[1].key, "workload.seq_len");
	assert_string_equal(d.items[2].key, "workload.dtype");
	assert_non_null(strstr(d.items[2].message, "did you mean 'bf16'"));
	assert_int_equal(d.items[3].at.line, 4);
	assert_int_equal(d.items[3].at.col, 1);
	assert_non_null(strstr(d.items[3].message, "did you mean 'strategy'"));
	diag_release(&d);
}

/* DSSIM_DATA is one of the roots: a scenario outside the tree finds presets through it. */
static void presets_are_found_through_dssim_data(void **state)
{
	struct scenario *s = check_scenario("datadir",
		"model: deepseek-v3\ncluster: {node: h800-node, nodes: 1}\n"
		"workload: {mode: infer, seq_len: 4096, dtype: fp8}\nstrategy: {tp: 8}\n");
	(void)state;
	assert_int_equal(s->model.moe.experts, 256);
	assert_int_equal(s->model.mla.kv_lora_rank, 512);
	scenario_free(s);
}

static void help_keys_lists_every_schema_row(void **state)
{
	size_t n, i;
	const struct schema_row *rows = schema_rows(&n);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	(void)state;
	schema_print_keys(f);
	fclose(f);
	for (i = 0; i < n; i++)
		assert_non_null(strstr(text, rows[i].key));
	assert_non_null(strstr(text, "strategy.tp"));
	free(text);
}

/* The canonical form leaves the name out and puts the keys a sweep varies per point last. */
static void the_canonical_form_ignores_the_name_and_ends_with_the_strategy(void **state)
{
	const char *yaml = "model: llama-2-7b\n"
			   "cluster: {node: p5.48xlarge}\n"
			   "workload: {seq_len: 4096}\n"
			   "strategy: {tp: 2}\n";
	struct scenario *a = check_scenariof("canonical_a", "name: first\n%s", yaml);
	struct scenario *b = check_scenariof("canonical_b", "name: second\n%s", yaml);
	char *ta = canonical_format(a), *tb = canonical_format(b), *joined;
	char *rest = canonical_format_part(a, false), *own = canonical_format_part(a, true);
	(void)state;
	assert_string_equal(ta, tb);
	assert_null(strstr(ta, "\"name\""));
	assert_non_null(strstr(own, "\"strategy.tp\":2"));
	assert_non_null(strstr(own, "\"workload.micro_batch\":1"));
	assert_null(strstr(rest, "\"strategy."));
	assert_non_null(strstr(rest, "\"workload.seq_len\":4096"));
	joined = canonical_join(rest, own);
	assert_string_equal(joined, ta);
	assert_true(canonical_is_strategy_key("workload.global_batch"));
	assert_false(canonical_is_strategy_key("workload.seq_len"));
	free(joined);
	free(rest);
	free(own);
	free(ta);
	free(tb);
	scenario_free(a);
	scenario_free(b);
}

/* Write text to TOP_BUILDDIR/tests/out/NAME; the path comes back in path. */
static void write_out(const char *name, const char *text, char *path, size_t size)
{
	const char *b = getenv("TOP_BUILDDIR");
	FILE *f;
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/tests/out", b && b[0] ? b : ".");
	mkdir(dir, 0777);
	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * One rule: default < presets < framework profile < calibration < scenario file < --set. The
 * profile sets six keys; the calibration overrides one of them, the scenario another, --set a
 * third (over the calibration too); the rest keep the profile's values.
 */
static void a_framework_profile_sits_under_calibration_scenario_and_set(void **state)
{
	char prof[1300], cal[1300], scen[1300];
	struct scenario_override set[] = {{"runtime.gather_overhead", "70 us"}};
	struct scenario_options opt = {0};
	struct diag d;
	struct scenario *s;
	char *canon;
	(void)state;
	write_out("layers_profile.yaml",
		  "name: layers\n"
		  "runtime:\n"
		  "  kernel_overhead: 4 us\n"
		  "  comm_sms: 20\n"
		  "  gather_overhead: 30 us\n"
		  "  fusion: {rope: false}\n"
		  "strategy.bucket: 100 MB\n"
		  "strategy: {zero3_prefetch_layers: 3}\n", prof, sizeof prof);
	write_out("layers_cal.yaml",
		  "keys:\n  runtime.kernel_overhead: 6e-6\n  runtime.gather_overhead: 5e-5\n",
		  cal, sizeof cal);
	write_out("layers.yaml",
		  "model: llama-2-7b\n"
		  "cluster: {node: p5.48xlarge}\n"
		  "workload: {seq_len: 4096}\n"
		  "strategy: {zero: 3}\n"
		  "calibration: layers_cal.yaml\n"
		  "runtime: {framework: layers_profile.yaml, comm_sms: 24}\n", scen, sizeof scen);
	opt.overrides = set;
	opt.noverrides = 1;
	diag_init(&d);
	s = scenario_load(scen, &opt, &d);
	diag_print(&d, stderr);
	assert_non_null(s);
	assert_string_equal(s->runtime.framework, "layers");
	/* The profile over the default (rope fusion defaults to true). */
	assert_false(s->runtime.fusion.rope);
	check_rel(s->strategy.bucket, 100e6, 1e-12);
	assert_int_equal(s->strategy.zero3_prefetch_layers, 3);
	/* The calibration over the profile: 6 us, not 4 us. */
	check_rel(s->runtime.kernel_overhead, 6e-6, 1e-12);
	/* The scenario file over the profile: 24 SMs, not 20. */
	assert_int_equal(s->runtime.comm_sms, 24);
	/* --set over the calibration and the profile: 70 us, not 50 or 30. */
	check_rel(s->runtime.gather_overhead, 70e-6, 1e-12);
	/* Keys nobody sets keep the schema's defaults. */
	assert_true(s->runtime.fusion.norm);
	assert_false(s->runtime.cuda_graphs);
	canon = canonical_format(s);
	assert_non_null(strstr(canon, "\"runtime.framework\":\"layers\""));
	assert_non_null(strstr(canon, "\"runtime.fusion.rope\":false"));
	assert_non_null(strstr(canon, "\"runtime.comm_sms\":24"));
	free(canon);
	scenario_free(s);
	diag_release(&d);
}

/* A training scenario that names no profile runs Megatron-Core's; serving takes none. */
static void training_defaults_to_megatron_core_and_serving_to_no_profile(void **state)
{
	struct scenario *t = check_scenario("framework_default",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge}\nworkload: {seq_len: 4096}\n");
	struct scenario *i = check_scenario("framework_infer",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge}\n"
		"workload: {mode: infer, seq_len: 4096}\nruntime: {framework: pytorch-fsdp}\n");
	(void)state;
	/* topologies/frameworks/megatron-core.yaml: 7 us, 16 SMs, every fusion on. */
	assert_string_equal(t->runtime.framework, "megatron-core");
	check_rel(t->runtime.kernel_overhead, 7e-6, 1e-12);
	assert_int_equal(t->runtime.comm_sms, 16);
	assert_true(t->runtime.fusion.cross_entropy);
	assert_true(t->strategy.overlap_grad_reduce);
	/* Transformer Engine's cuDNN attention on Hopper; the H100 preset's FlashAttention-2
	 * figure, 335 of 989.4 TFLOPS (Dao 2023, sec. 4.1), waits for a profile that runs it. */
	assert_int_equal(t->runtime.attention_kernel, ATTENTION_FUSED);
	check_rel(t->cluster.node.gpu.efficiency.attention_flash2, 0.339, 1e-12);
	/* Serving keeps the name as given and the schema's defaults. */
	assert_string_equal(i->runtime.framework, "pytorch-fsdp");
	check_rel(i->runtime.kernel_overhead, 0, 1e-12);
	assert_int_equal(i->runtime.comm_sms, 0);
	assert_true(i->runtime.fusion.norm);
	scenario_free(t);
	scenario_free(i);
}

/* --set runtime.framework swaps the profile; the canonical forms differ in its keys. */
static void an_override_swaps_the_profile_and_the_canonical_form_shows_it(void **state)
{
	const char *yaml = "model: llama-2-7b\ncluster: {node: p5.48xlarge}\n"
			   "workload: {seq_len: 4096}\nstrategy: {zero: 3}\n";
	struct scenario_override set[] = {{"runtime.framework", "deepspeed"}};
	struct scenario_options opt = {0};
	struct scenario *a = check_scenario("framework_swap", yaml), *b;
	char path[1300], *ta, *tb;
	struct diag d;
	(void)state;
	write_out("framework_swap.yaml", yaml, path, sizeof path);
	opt.overrides = set;
	opt.noverrides = 1;
	diag_init(&d);
	b = scenario_load(path, &opt, &d);
	diag_print(&d, stderr);
	assert_non_null(b);
	/* topologies/frameworks/deepspeed.yaml: reduce_bucket_size 5e8 16-bit elements. */
	assert_string_equal(b->runtime.framework, "deepspeed");
	check_rel(b->strategy.bucket, 1e9, 1e-12);
	assert_false(b->runtime.fusion.norm);
	/* deepspeed.yaml: Megatron-DeepSpeed's flash_attn package, FlashAttention-2. */
	assert_int_equal(a->runtime.attention_kernel, ATTENTION_FUSED);
	assert_int_equal(b->runtime.attention_kernel, ATTENTION_FLASH2);
	ta = canonical_format(a);
	tb = canonical_format(b);
	assert_string_not_equal(ta, tb);
	assert_non_null(strstr(tb, "\"runtime.framework\":\"deepspeed\""));
	assert_non_null(strstr(tb, "\"runtime.fusion.norm\":false"));
	assert_non_null(strstr(tb, "\"runtime.attention_kernel\":\"flash2\""));
	assert_non_null(strstr(ta, "\"runtime.fusion.norm\":true"));
	free(ta);
	free(tb);
	scenario_free(a);
	scenario_free(b);
	diag_release(&d);
}

/*
 * Serving takes an engine profile by the same rule: vllm when none is named
 * (topologies/engines/vllm.yaml: 0.2 ms and 20 us of host time, vLLM's custom all-reduce up to
 * 8 MiB, no swap), the scenario's own key over the profile's, --set serving.engine to swap it;
 * the canonical form holds the expanded keys. Training takes none.
 */
static void an_engine_profile_layers_like_a_framework_profile(void **state)
{
	const char *yaml = "model: llama-2-7b\ncluster: {node: p5.48xlarge}\n"
			   "workload: {mode: infer, seq_len: 4096}\n"
			   "serving: {scheduler_per_seq: 50 us}\n";
	struct scenario_override set[] = {{"serving.engine", "sglang"}};
	struct scenario_options opt = {0};
	struct scenario *v = check_scenario("engine_default", yaml), *g;
	struct scenario *t = check_scenario("engine_train", "model: llama-2-7b\ncluster: "
					    "{node: p5.48xlarge}\nworkload: {seq_len: 4096}\n");
	char path[1300], *canon;
	struct diag d;
	(void)state;
	assert_string_equal(v->serving.engine, "vllm");
	check_rel(v->serving.scheduler_overhead, 0.2e-3, 1e-12);
	check_rel(v->serving.scheduler_per_seq, 50e-6, 1e-12);
	assert_int_equal(v->serving.allreduce, ALLREDUCE_VLLM);
	check_rel(v->serving.custom_allreduce_max, 8.0 * 1024 * 1024, 1e-12);
	assert_false(v->serving.swap_preemption);
	assert_true(v->serving.cuda_graphs);
	write_out("engine_swap.yaml", yaml, path, sizeof path);
	opt.overrides = set;
	opt.noverrides = 1;
	diag_init(&d);
	g = scenario_load(path, &opt, &d);
	diag_print(&d, stderr);
	assert_non_null(g);
	/* topologies/engines/sglang.yaml: 2.7 ms hidden by the overlap scheduler. */
	assert_string_equal(g->serving.engine, "sglang");
	assert_true(g->serving.overlap_scheduler);
	check_rel(g->serving.scheduler_overhead, 2.7e-3, 1e-12);
	check_rel(g->serving.scheduler_per_seq, 50e-6, 1e-12);
	canon = canonical_format(g);
	assert_non_null(strstr(canon, "\"serving.engine\":\"sglang\""));
	assert_non_null(strstr(canon, "\"serving.overlap_scheduler\":true"));
	free(canon);
	/* Training keeps the schema's serving defaults. */
	check_rel(t->serving.scheduler_overhead, 0, 1e-12);
	assert_int_equal(t->serving.allreduce, ALLREDUCE_NCCL);
	scenario_free(v);
	scenario_free(g);
	scenario_free(t);
	diag_release(&d);
}

/*
 * vLLM sizes its batch limits by the GPU (vllm/engine/arg_utils.py, as the vllm profile's by_gpu
 * rule): 1024 sequences and 8192 tokens at 70 GiB and more unless the GPU is an A100, else 256
 * and 2048; a key the scenario gives wins over the rule.
 */
static void the_vllm_profile_sizes_its_batch_by_the_gpu(void **state)
{
	static const char *const fmt = "model: llama-2-7b\ncluster: {node: %s, gpus: 1}\n"
				       "workload: {mode: infer, seq_len: 4096}\n%s";
	struct scenario *h = check_scenariof("vllm_h100", fmt, "p5.48xlarge", "");
	struct scenario *a = check_scenariof("vllm_a100", fmt, "p4de.24xlarge", "");
	struct scenario *r = check_scenariof("vllm_4090", fmt, "workstation-2x4090", "");
	struct scenario *o = check_scenariof("vllm_own", fmt, "p5.48xlarge",
					     "serving: {max_num_seqs: 64}\n");
	(void)state;
	assert_int_equal(h->serving.max_num_seqs, 1024);
	assert_int_equal(h->serving.max_batched_tokens, 8192);
	assert_int_equal(a->serving.max_num_seqs, 256);
	assert_int_equal(a->serving.max_batched_tokens, 2048);
	assert_int_equal(r->serving.max_num_seqs, 256);
	assert_int_equal(r->serving.max_batched_tokens, 2048);
	assert_int_equal(o->serving.max_num_seqs, 64);
	assert_int_equal(o->serving.max_batched_tokens, 8192);
	scenario_free(h);
	scenario_free(a);
	scenario_free(r);
	scenario_free(o);
}

/* An inline profile is a mapping of the same keys; a key outside runtime.* and strategy.* is
 * refused at its own line. */
static void an_inline_profile_keeps_to_runtime_and_strategy(void **state)
{
	struct scenario *s = check_scenario("framework_inline",
		"model: llama-2-7b\ncluster: {node: p5.48xlarge}\nworkload: {seq_len: 4096}\n"
		"runtime:\n  framework: {name: mine, runtime.cuda_graphs: true}\n");
	char path[1300];
	struct diag d;
	(void)state;
	assert_string_equal(s->runtime.framework, "mine");
	assert_true(s->runtime.cuda_graphs);
	scenario_free(s);
	write_out("framework_inline_bad.yaml",
		  "model: llama-2-7b\ncluster: {node: p5.48xlarge}\nworkload: {seq_len: 4096}\n"
		  "runtime:\n  framework:\n    name: mine\n    workload.seq_len: 8\n", path,
		  sizeof path);
	diag_init(&d);
	assert_null(scenario_load(path, NULL, &d));
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].at.line, 7);
	assert_int_equal(d.items[0].at.col, 5);
	assert_string_equal(d.items[0].key, "workload.seq_len");
	assert_non_null(strstr(d.items[0].message, "runtime.* and strategy.* keys only"));
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_32b_scenario_loads_its_presets),
		cmocka_unit_test(defaults_fill_what_a_scenario_leaves_out),
		cmocka_unit_test(inline_mappings_replace_presets),
		cmocka_unit_test(overrides_reach_inside_presets),
		cmocka_unit_test(an_override_can_swap_a_whole_preset),
		cmocka_unit_test(a_pinned_dp_that_no_longer_fits_says_which_would),
		cmocka_unit_test(bad_overrides_name_the_command_line),
		cmocka_unit_test(every_type_error_in_a_file_is_reported),
		cmocka_unit_test(presets_are_found_through_dssim_data),
		cmocka_unit_test(help_keys_lists_every_schema_row),
		cmocka_unit_test(the_canonical_form_ignores_the_name_and_ends_with_the_strategy),
		cmocka_unit_test(a_framework_profile_sits_under_calibration_scenario_and_set),
		cmocka_unit_test(an_engine_profile_layers_like_a_framework_profile),
		cmocka_unit_test(the_vllm_profile_sizes_its_batch_by_the_gpu),
		cmocka_unit_test(training_defaults_to_megatron_core_and_serving_to_no_profile),
		cmocka_unit_test(an_override_swaps_the_profile_and_the_canonical_form_shows_it),
		cmocka_unit_test(an_inline_profile_keeps_to_runtime_and_strategy),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
