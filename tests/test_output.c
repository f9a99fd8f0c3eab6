/*
 * test_output: the JSON document parses (JSON is YAML, so libyaml reads it back), carries every
 * field the foundation issue names, and its numbers equal the memory report's bit for bit; the
 * text report shows the same totals in GiB; a link on the fallback busbw curve is noted in both,
 * and a step that fills its GPUs past 90 %; each kind of layer's pass is in both, and so is the
 * MoE dispatcher.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "memory.h"
#include "output.h"
#include "run.h"
#include "scenario.h"
#include "yamltree.h"

static char *render(const struct scenario *s, const struct memory_report *r, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	/* A memory-only run: the report carries the breakdown and no simulated step. */
	struct run_result rr;
	memset(&rr, 0, sizeof rr);
	rr.mode = (enum mode)s->workload.mode;
	rr.outcome = RUN_NOT_SIMULATED;
	rr.memory = *r;
	assert_non_null(f);
	if (json)
		output_json(f, s, &rr);
	else
		output_text(f, s, &rr);
	fclose(f);
	return text;
}

static const struct ynode *path(const struct ynode *n, const char *dotted)
{
	char buf[256];
	char *part, *save = NULL;
	snprintf(buf, sizeof buf, "%s", dotted);
	for (part = strtok_r(buf, ".", &save); part && n; part = strtok_r(NULL, ".", &save))
		n = yamltree_get(n, part);
	if (n == NULL)
		print_error("JSON lacks %s\n", dotted);
	return n;
}

static double num(const struct ynode *root, const char *dotted)
{
	const struct ynode *n = path(root, dotted);
	assert_non_null(n);
	assert_int_equal(n->kind, YNODE_SCALAR);
	return strtod(n->value, NULL);
}

static struct ynode *parse(struct arena *a, const char *text)
{
	struct diag d;
	struct ynode *root;
	diag_init(&d);
	root = yamltree_parse(a, "json", text, strlen(text), &d);
	diag_print(&d, stderr);
	assert_non_null(root);
	diag_release(&d);
	return root;
}

static void training_json_has_every_field_with_exact_values(void **state)
{
	struct scenario *s = check_scenario("json_train",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p4de.24xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\n"
		"strategy: {zero: 3, recompute: full, offload: {optimizer: cpu}}\n");
	struct memory_report r;
	struct arena *a = arena_new();
	const char *fields[] = {"weights", "gradients", "optimizer", "activations", "kv_cache",
				"buffers", "overhead", "total"};
	struct ynode *root;
	char *text, key[128];
	size_t i;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	text = render(s, &r, true);
	root = parse(a, text);
	assert_true(num(root, "model.params") == r.params.total);
	assert_true(num(root, "model.active_params") == r.params.active);
	for (i = 0; i < 8; i++) {
		double want = i < 7 ? r.roles[r.worst].part[i] : r.roles[r.worst].total;
		snprintf(key, sizeof key, "memory.per_gpu.%s", fields[i]);
		/* %.17g round-trips a double exactly */
		assert_true(num(root, key) == want);
	}
	assert_true(num(root, "memory.capacity") == r.capacity);
	assert_string_equal(path(root, "memory.fits")->value, "true");
	assert_true(num(root, "memory.host_per_node") == r.host_per_node);
	assert_true(num(root, "memory.max_micro_batch") == (double)r.max_micro_batch);
	assert_true(num(root, "memory.max_micro_batch_kept") == (double)r.max_micro_batch_kept);
	assert_int_equal(path(root, "memory.roles")->kind, YNODE_SEQ);
	assert_int_equal(path(root, "memory.roles")->count, r.nroles);
	assert_null(yamltree_get(path(root, "memory"), "max_kv_tokens"));
	free(text);
	arena_free(a);
	memory_report_release(&r);
	scenario_free(s);
}

static void inference_json_reports_kv_capacity(void **state)
{
	struct scenario *s = check_scenario("json_infer",
		"model: deepseek-r1-distill-qwen-14b\ncluster: {node: p5.48xlarge, gpus: 1}\n"
		"workload: {mode: infer, seq_len: 4096, micro_batch: 8}\n");
	struct memory_report r;
	struct arena *a = arena_new();
	struct ynode *root;
	char *text;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	text = render(s, &r, true);
	root = parse(a, text);
	assert_true(num(root, "memory.max_kv_tokens") == r.max_kv_tokens);
	assert_true(num(root, "memory.per_gpu.kv_cache") == r.roles[0].part[MEMORY_KV_CACHE]);
	/* 8 x 4096 tokens x 196,608 B (Qwen2.5-14B: 2 * 48 layers * 8 KV heads * 128 * 2 B) */
	check_rel(num(root, "memory.per_gpu.kv_cache"), 8.0 * 4096 * 196608, 1e-12);
	assert_null(yamltree_get(path(root, "memory"), "max_micro_batch"));
	free(text);
	arena_free(a);
	memory_report_release(&r);
	scenario_free(s);
}

static void text_report_shows_the_totals_in_gib(void **state)
{
	struct scenario *s = check_scenario("text",
		"model: llama-2-70b\ncluster: {node: p5.48xlarge, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\n"
		"strategy: {tp: 4, pp: 4, zero: 1, recompute: full}\n");
	struct memory_report r;
	char *text, want[64];
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	text = render(s, &r, false);
	snprintf(want, sizeof want, "%.2f", r.roles[r.worst].total / (1024.0 * 1024 * 1024));
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "stage 0"));
	assert_non_null(strstr(text, "stage 3"));
	assert_non_null(strstr(text, "fits      yes"));
	assert_non_null(strstr(text, "largest micro-batch that fits"));
	free(text);
	memory_report_release(&r);
	scenario_free(s);
}

/* A node without a busbw curve of its own says so: h800-node has none for its NVLink (its
 * network takes the NDR curve of nccl-tests #309), jean-zay-a100 none for its Omni-Path
 * network, in the text and in the JSON notes; p5.48xlarge's NVLink has one (one node: no
 * note). */
static void a_fallback_busbw_curve_is_noted(void **state)
{
	struct scenario *s = check_scenario("notes",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: h800-node, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8, zero: 3}\n");
	struct scenario *jz = check_scenario("notes_network",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: jean-zay-a100, nodes: 2}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8, zero: 3}\n");
	struct scenario *p5 = check_scenario("no_notes",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p5.48xlarge}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8, zero: 3}\n");
	struct memory_report r, rj, r5;
	struct arena *a = arena_new();
	const struct ynode *notes;
	char *text;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	text = render(s, &r, false);
	assert_non_null(strstr(text, "note      GPU-link collectives of h800-node use the fallb"));
	assert_null(strstr(text, "note      network collectives of h800-node"));
	free(text);
	text = render(s, &r, true);
	notes = path(parse(a, text), "notes");
	assert_int_equal(notes->kind, YNODE_SEQ);
	assert_int_equal(notes->count, 1);
	assert_non_null(strstr(notes->items[0]->value, "Azure ND A100 v4"));
	free(text);
	assert_int_equal(memory_build(jz, &rj), 0);
	text = render(jz, &rj, false);
	assert_non_null(strstr(text, "note      network collectives of jean-zay-a100 use the fallb"));
	assert_null(strstr(text, "GPU-link collectives"));
	free(text);
	text = render(jz, &rj, true);
	notes = path(parse(a, text), "notes");
	assert_int_equal(notes->count, 1);
	assert_non_null(strstr(notes->items[0]->value, "GPUDirect-TCPXO"));
	free(text);
	assert_int_equal(memory_build(p5, &r5), 0);
	text = render(p5, &r5, true);
	notes = path(parse(a, text), "notes");
	assert_int_equal(notes->count, 1);
	assert_null(strstr(notes->items[0]->value, "fallback"));
	free(text);
	text = render(p5, &r5, false);
	assert_null(strstr(text, "fallback busbw"));
	free(text);
	arena_free(a);
	memory_report_release(&r);
	memory_report_release(&rj);
	memory_report_release(&r5);
	scenario_free(s);
	scenario_free(jz);
	scenario_free(p5);
}

/*
 * A training step whose most loaded GPU holds more than 90 % of its memory (memory.h:
 * MEMORY_ALLOCATOR_SHARE = 1 - 0.10), past the 85-90 % torchtune's developers advise for no
 * allocator retries, is noted with its share rounded down. The report's headroom is set by
 * hand: 1.51 % free holds 98.49 %, printed 98.4 (rounding would print 98.5); 9.95 % free holds
 * 90.05 %, just past the line, printed 90.0; 10.05 % free holds 89.95 %, no note. Nor is a step
 * noted that does not fit at all (the misfit says more), nor a serving run.
 */
static void a_step_near_its_memory_is_noted(void **state)
{
	struct scenario *s = check_scenario("near",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p5.48xlarge}\n"
		"workload: {seq_len: 4096, global_batch: 64}\nstrategy: {tp: 8, zero: 3}\n");
	struct memory_report r;
	double headroom;
	char *text;
	(void)state;
	assert_int_equal(memory_build(s, &r), 0);
	assert_true(r.fits && r.capacity > 0);
	headroom = r.headroom;
	r.headroom = 0.0151 * r.capacity;
	text = render(s, &r, false);
	assert_non_null(strstr(text, "note      the most loaded GPU holds 98.4 % of its memory, "
				     "past the 85-90 % torchtune's developers advise: PyTorch's "
				     "caching allocator may retry"));
	free(text);
	r.headroom = 0.0995 * r.capacity;
	text = render(s, &r, false);
	assert_non_null(strstr(text, "note      the most loaded GPU holds 90.0 % of its memory"));
	free(text);
	r.headroom = 0.1005 * r.capacity;
	text = render(s, &r, false);
	assert_null(strstr(text, "caching allocator"));
	free(text);
	r.fits = false;
	r.headroom = -0.01 * r.capacity;
	text = render(s, &r, false);
	assert_null(strstr(text, "caching allocator"));
	free(text);
	r.fits = true;
	r.headroom = headroom;
	memory_report_release(&r);
	scenario_free(s);
	/* Serving reserves its KV cache up front (gpu_memory_utilization): no note however full. */
	s = check_scenario("near_infer",
		"model: deepseek-r1-distill-qwen-32b\ncluster: {node: p5.48xlarge}\n"
		"workload: {mode: infer, seq_len: 4096}\nstrategy: {tp: 8}\n");
	assert_int_equal(memory_build(s, &r), 0);
	r.headroom = 0.02 * r.capacity;
	text = render(s, &r, false);
	assert_null(strstr(text, "caching allocator"));
	free(text);
	memory_report_release(&r);
	scenario_free(s);
}

/* A simulated step's JSON carries each kind of layer's pass (time.layers) with the numbers of
 * the result bit for bit, and the text report the same rows. DeepSeek-V2-Lite has a dense first
 * layer and 26 MoE layers (its config.json: first_k_dense_replace 1, num_hidden_layers 27). */
static void layer_passes_are_reported(void **state)
{
	struct scenario *s = check_scenario("layers",
		"model: deepseek-v2-lite\ncluster: {node: p5.48xlarge}\n"
		"workload: {seq_len: 2048, global_batch: 8}\nstrategy: {ep: 8}\n");
	struct run_result rr;
	struct diag d;
	struct arena *a = arena_new();
	const struct ynode *layers, *moe;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	(void)state;
	diag_init(&d);
	assert_int_equal(run_scenario(s, NULL, &rr, &d), 0);
	assert_int_equal(rr.outcome, RUN_SIMULATED);
	assert_int_equal(rr.step.layer[LAYER_DENSE].layers, 1);
	assert_int_equal(rr.step.layer[LAYER_MOE].layers, 26);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	output_json(f, s, &rr);
	fclose(f);
	layers = path(parse(a, text), "time.layers");
	assert_non_null(layers);
	assert_int_equal(layers->kind, YNODE_SEQ);
	assert_int_equal(layers->count, 2);
	moe = layers->items[1];
	assert_string_equal(path(moe, "kind")->value, "moe");
	check_rel(num(moe, "layers"), 26, 0);
	check_rel(num(moe, "tokens"), 2048, 0);
	check_rel(num(moe, "forward.gemm_s"), rr.step.layer[LAYER_MOE].fwd.gemm, 0);
	check_rel(num(moe, "forward.launches"), rr.step.layer[LAYER_MOE].fwd.launches, 0);
	check_rel(num(moe, "backward.total_s"), rr.step.layer[LAYER_MOE].bwd.total, 0);
	check_rel(num(moe, "recompute_s"), rr.step.layer[LAYER_MOE].recompute, 0);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	output_text(f, s, &rr);
	fclose(f);
	assert_non_null(strstr(text, "one layer's passes, a micro-batch of 2048 tokens on one GPU:\n"
				     "  dense (1)          GEMMs  attention  memory-bound"));
	assert_non_null(strstr(text, "\n  MoE (26)           GEMMs"));
	free(text);
	run_result_release(&rr);
	diag_release(&d);
	arena_free(a);
	scenario_free(s);
}

/* The dispatcher the run assumes, auto resolved, in the strategy line and in
 * scenario.strategy.moe_dispatcher. DeepSeek-V2-Lite's routing is not group-limited (its
 * config.json: topk_method greedy, n_group 1; the preset sets no groups), so auto sends every
 * expert copy; DeepSeek-V3's is
 * (topk_group 4 of 8), so auto is DeepEP's. A dense model, and serving whose experts run under
 * tensor parallelism (tp 8, ep 8: no data-parallel attention), name none. */
static void dispatch_expect(const char *yaml, const char *want)
{
	struct scenario *s = check_scenario("dispatch", yaml);
	struct memory_report r;
	struct arena *a = arena_new();
	const struct ynode *strategy;
	char *text, line[64];
	assert_int_equal(memory_build(s, &r), 0);
	text = render(s, &r, true);
	strategy = path(parse(a, text), "scenario.strategy");
	assert_non_null(strategy);
	if (want)
		assert_string_equal(yamltree_get(strategy, "moe_dispatcher")->value, want);
	else
		assert_null(yamltree_get(strategy, "moe_dispatcher"));
	free(text);
	text = render(s, &r, false);
	snprintf(line, sizeof line, " (dispatch %s)", want ? want : "");
	if (want)
		assert_non_null(strstr(text, line));
	else
		assert_null(strstr(text, "(dispatch"));
	free(text);
	arena_free(a);
	memory_report_release(&r);
	scenario_free(s);
}

static void the_moe_dispatcher_is_reported(void **state)
{
	(void)state;
	dispatch_expect("model: deepseek-v2-lite\ncluster: {node: p5.48xlarge}\n"
			"workload: {seq_len: 2048, global_batch: 8}\nstrategy: {ep: 8}\n",
			"alltoall");
	dispatch_expect("model: deepseek-v2-lite\ncluster: {node: p5.48xlarge}\n"
			"workload: {seq_len: 2048, global_batch: 8}\n"
			"strategy: {ep: 8, moe_dispatcher: deepep}\n",
			"deepep");
	dispatch_expect("model: deepseek-v3\ncluster: {node: h800-node, nodes: 8}\n"
			"workload: {seq_len: 4096, global_batch: 64, dtype: fp8}\n"
			"strategy: {ep: 64}\n",
			"deepep");
	dispatch_expect("model: llama-2-7b\ncluster: {node: p5.48xlarge}\n"
			"workload: {seq_len: 4096, global_batch: 8}\n", NULL);
	dispatch_expect("model: deepseek-v3\ncluster: {node: h800-node}\n"
			"workload: {mode: infer, dtype: fp8, seq_len: 4096}\n"
			"strategy: {tp: 8, ep: 8}\n",
			NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(training_json_has_every_field_with_exact_values),
		cmocka_unit_test(inference_json_reports_kv_capacity),
		cmocka_unit_test(text_report_shows_the_totals_in_gib),
		cmocka_unit_test(a_fallback_busbw_curve_is_noted),
		cmocka_unit_test(a_step_near_its_memory_is_noted),
		cmocka_unit_test(layer_passes_are_reported),
		cmocka_unit_test(the_moe_dispatcher_is_reported),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
