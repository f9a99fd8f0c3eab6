/*
 * test_model: transformer arithmetic against independent figures — parameter counts derived in
 * ../shared/reference/models.md sec. 9.3 from each official config, Megatron-LM's eq. 2, the
 * per-layer activation formulas of Korthikanti et al. 2022 Table 2, and KV bytes per token
 * (DeepSeek-V2 report Table 1, vLLM paper sec. 3).
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "model.h"
#include "scenario.h"

static struct scenario *load_model(const char *model)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml,
		 "model: %s\ncluster: {node: dgx-h100}\nworkload: {mode: infer, seq_len: 16}\n", model);
	return check_scenario(model, yaml);
}

static double params_of(const char *model)
{
	struct scenario *s = load_model(model);
	struct model_params p;
	model_count_params(&s->model, &p);
	scenario_free(s);
	return p.total;
}

/* models.md sec. 9.3, "derived total" column: exact counts from the official configs. */
static void model_params_match_the_official_configs(void **state)
{
	static const struct {
		const char *name;
		double total;
	} rows[] = {
		{"llama-2-7b", 6738415616.0},
		{"llama-2-70b", 68976648192.0},
		{"llama-3-8b", 8030261248.0},
		{"llama-3-70b", 70553706496.0},
		{"llama-3.1-405b", 405853388800.0},
		{"deepseek-r1-distill-qwen-7b", 7615616512.0},
		{"deepseek-r1-distill-qwen-14b", 14770033664.0},
		{"deepseek-r1-distill-qwen-32b", 32763876352.0},
		{"deepseek-r1-distill-llama-8b", 8030261248.0},
		{"deepseek-r1-distill-llama-70b", 70553706496.0},
		{"deepseek-llm-7b", 6910365696.0},
		{"deepseek-llm-67b", 67425001472.0},
		{"mixtral-8x7b", 46702792704.0},
		{"deepseek-v3", 671026404352.0},
		{"deepseek-v2", 235741434880.0},
		{"deepseek-v2-lite", 15706484224.0},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		print_message("%-32s %.0f\n", rows[i].name, params_of(rows[i].name));
		check_rel(params_of(rows[i].name), rows[i].total, 1e-9);
	}
}

/* models.md sec. 9.3: active parameters per token of the MoE models. */
static void moe_active_params_match_the_derived_counts(void **state)
{
	static const struct {
		const char *name;
		double active;
	} rows[] = {
		{"mixtral-8x7b", 12879925248.0},
		{"deepseek-v3", 37552282624.0},
		{"deepseek-v2", 21375800320.0},
		{"deepseek-v2-lite", 2661150208.0},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct scenario *s = load_model(rows[i].name);
		struct model_params p;
		model_count_params(&s->model, &p);
		check_rel(p.active, rows[i].active, 1e-9);
		scenario_free(s);
	}
}

/* Narayanan et al. 2021, eq. 2: P = 12*l*h^2*(1 + 13/(12h) + (V + s)/(12*l*h)) with V = 51200 and
 * s = 2048. Eq. 2 leaves out the final LayerNorm's weight and bias (2h), which dssim counts. */
static void megatron_gpt_params_follow_equation_2(void **state)
{
	static const struct {
		const char *name;
		double l, h;
		double table;        /* Table 1 "params (B)" column */
	} rows[] = {
		{"megatron-gpt-1.7b", 24, 2304, 1.7},   {"megatron-gpt-3.6b", 30, 3072, 3.6},
		{"megatron-gpt-7.5b", 36, 4096, 7.5},   {"megatron-gpt-18b", 40, 6144, 18.4},
		{"megatron-gpt-39b", 48, 8192, 39.1},   {"megatron-gpt-76b", 60, 10240, 76.1},
		{"megatron-gpt-145b", 80, 12288, 145.6}, {"megatron-gpt-310b", 96, 16384, 310.1},
		{"megatron-gpt-530b", 105, 20480, 529.6}, {"megatron-gpt-1t", 128, 25600, 1008.0},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		double l = rows[i].l, h = rows[i].h, V = 51200, s = 2048;
		double eq2 = 12 * l * h * h * (1 + 13 / (12 * h) + (V + s) / (12 * l * h));
		double got = params_of(rows[i].name);
		check_rel(got, eq2 + 2 * h, 1e-12);
		/* The table prints 0.1 B; 1.7 B is printed for 1.65 B. */
		assert_true(fabs(got / 1e9 - rows[i].table) <= 0.051);
	}
}

/*
 * ALiBi has no position table: BLOOM 176B is BigScience's own sum (bigscience tr11-176B-ml
 * README, "Sizes of each layer"), 70 (12h^2 + 13h) + v h with h = 14336 and v = 250880, plus
 * the final LayerNorm's 2h (the embedding LayerNorm's 2h is not modelled), exactly. A learned
 * table of 2048 positions would add 2048 h = 29.4M.
 */
static void alibi_adds_no_position_parameters(void **state)
{
	double h = 14336, v = 250880;
	(void)state;
	check_rel(params_of("bloom-176b"), 70 * (12 * h * h + 13 * h) + v * h + 2 * h, 1e-12);
}

/* Every preset states its published count; dssim's per-tensor count must agree within 0.1 %. */
static void every_model_preset_matches_its_published_count(void **state)
{
	const char *names[] = {
		"deepseek-r1-distill-qwen-7b", "deepseek-r1-distill-qwen-14b",
		"deepseek-r1-distill-qwen-32b", "deepseek-r1-distill-llama-8b",
		"deepseek-r1-distill-llama-70b", "deepseek-llm-7b", "deepseek-llm-67b", "deepseek-v2",
		"deepseek-v2-lite", "deepseek-v3", "llama-2-7b", "llama-2-70b", "llama-3-8b",
		"llama-3-70b", "llama-3.1-405b", "mixtral-8x7b", "gpt3-175b", "gpt2", "opt-13b",
		"opt-66b", "opt-175b", "megatron-gpt-22b", "megatron-gpt-1t", "gpt3-5b", "gpt3-20b",
		"llama-2-13b", "llama-65b", "nemotron-8b", "nemotron-22b", "nemotron-340b",
		"deepspeed-gpt-2t", "mingpt-175b", "mingpt-1t", "bloom-176b",
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct scenario *s = load_model(names[i]);
		struct model_params p;
		model_count_params(&s->model, &p);
		assert_true(s->model.published_params > 0);
		print_message("%-32s dssim %.4g published %.4g\n", names[i], p.total,
			      s->model.published_params);
		check_rel(p.total, s->model.published_params, 1e-3);
		scenario_free(s);
	}
}

/*
 * Korthikanti et al. 2022, Table 2, for GPT-3 175B (s 2048, h 12288, a 96, t 8, b 1): every
 * per-layer row except full recomputation (a memory-model rule, tested in test_memory).
 */
static void activation_tensors_reproduce_korthikanti_table_2(void **state)
{
	struct scenario *sc = load_model("gpt3-175b");
	const struct model_config *m = &sc->model;
	double s = 2048, b = 1, h = 12288, a = 96, t = 8;
	double sbh = s * b * h, tokens = s * b;
	struct act_options o = {2048, 2.0, false, 2.0, 0, 0, 0};
	(void)state;
	assert_true(m->dropout);
	check_rel(model_layer_act_bytes(m, LAYER_DENSE, &o, 1, false, true) * tokens,
		  sbh * (34 + 5 * a * s / h), 1e-12);
	check_rel(model_layer_act_bytes(m, LAYER_DENSE, &o, 8, false, true) * tokens,
		  sbh * (10 + 24 / t + 5 * a * s / (h * t)), 1e-12);
	check_rel(model_layer_act_bytes(m, LAYER_DENSE, &o, 8, true, true) * tokens,
		  sbh * (34 / t + 5 * a * s / (h * t)), 1e-12);
	check_rel(model_layer_act_bytes(m, LAYER_DENSE, &o, 8, false, false) * tokens,
		  sbh * (10 + 24 / t), 1e-12);
	check_rel(model_layer_act_bytes(m, LAYER_DENSE, &o, 8, true, false) * tokens,
		  sbh * 34 / t, 1e-12);
	scenario_free(sc);
}

/* Flash attention keeps no s x s scores: only 4 bytes of logsumexp per head and token
 * (Dao et al. 2022) on top of the 34sbh of the other tensors. */
static void flash_attention_removes_the_score_term(void **state)
{
	struct scenario *sc = load_model("gpt3-175b");
	struct act_options o = {2048, 2.0, true, 2.0, 0, 0, 0};
	double h = 12288, a = 96;
	(void)state;
	check_rel(model_layer_act_bytes(&sc->model, LAYER_DENSE, &o, 1, false, true),
		  34 * h + 4 * a, 1e-12);
	scenario_free(sc);
}

/* FP8 training keeps the inputs of linear layers in one byte: for a GPT layer the QKV input,
 * the output-projection input, fc1's input (each h) and fc2's input (4h) halve: 7h bytes less
 * per token than the 34h + 4a of bf16 with flash attention. */
static void fp8_training_caches_linear_inputs_in_one_byte(void **state)
{
	struct scenario *sc = load_model("gpt3-175b");
	struct act_options bf = {2048, 2.0, true, 2.0, 0, 0, 0};
	struct act_options f8 = {2048, 2.0, true, 1.0, 0, 0, 0};
	double h = 12288;
	(void)state;
	check_rel(model_layer_act_bytes(&sc->model, LAYER_DENSE, &bf, 1, false, true) -
			  model_layer_act_bytes(&sc->model, LAYER_DENSE, &f8, 1, false, true),
		  7 * h, 1e-12);
	scenario_free(sc);
}

/* A SwiGLU layer with GQA (Llama-2-70B, no dropout), counted by hand per token with 2-byte
 * activations: norms in 2h+2h, QKV input 2h, Q 2*a*d, K and V 2*2*kv*d, o_proj input 2*a*d,
 * fc1 input 2h, gate+up output 2*2*ffn, down input 2*ffn; flash adds 4*a of statistics. */
static void swiglu_gqa_layer_saves_the_hand_counted_tensors(void **state)
{
	struct scenario *sc = load_model("llama-2-70b");
	struct act_options o = {4096, 2.0, true, 2.0, 0, 0, 0};
	double h = 8192, a = 64, kv = 8, d = 128, ffn = 28672;
	double expect = 2 * h + 2 * h + 2 * h + 2 * a * d + 2 * 2 * kv * d + 2 * a * d + 2 * h +
			2 * 2 * ffn + 2 * ffn + 4 * a;
	(void)state;
	check_rel(model_layer_act_bytes(&sc->model, LAYER_DENSE, &o, 1, false, true), expect, 1e-12);
	/* Megatron's "mlp" recompute module drops gate+up and down's input: 6*ffn. */
	o.recomputed = MODEL_ACT_MLP;
	check_rel(model_layer_act_bytes(&sc->model, LAYER_DENSE, &o, 1, false, true),
		  expect - 6 * ffn, 1e-12);
	scenario_free(sc);
}

/* DeepSeek-V3 report sec. 3.2.3: recomputing RMSNorm drops the norms' outputs, per token with
 * bf16 activations 2*(h + q_lora_rank + kv_lora_rank + h) = 2*(7168 + 1536 + 512 + 7168) =
 * 32,768 bytes; recomputing the MLA up-projections drops q and k (2*a*(128 + 64) each) and v
 * (2*a*128): 2*128*(192 + 192 + 128) = 131,072 bytes. */
static void recompute_modules_drop_norm_and_mla_up_outputs(void **state)
{
	struct scenario *sc = load_model("deepseek-v3");
	const struct model_config *m = &sc->model;
	struct act_options o = {4096, 2.0, true, 2.0, 0, 0, 0};
	double full = model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true);
	(void)state;
	o.recomputed = MODEL_ACT_NORM_OUT;
	check_rel(full - model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true), 32768, 1e-12);
	o.recomputed = MODEL_ACT_MLA_UP;
	check_rel(full - model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true), 131072, 1e-12);
	o.recomputed = MODEL_ACT_NORM_OUT | MODEL_ACT_MLA_UP;
	check_rel(full - model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true), 163840, 1e-12);
	scenario_free(sc);
}

/* DeepSeek-V3 report sec. 3.3.3, "Low-Precision Activation", an MoE layer per token with the
 * norms and MLA up-projections recomputed: the norm inputs 2*7168 twice, the q and kv latents
 * 2*1536 and 2*576, the softmax statistics 4*128, the attention output in E5M6 (1.5 bytes plus a
 * 4-byte scale per 128) 128*128*1.53125, the router's fp32 probabilities 4*256, the dispatched
 * tokens in FP8 8*7168*1.03125, the SwiGLU inputs in FP8 8*2*2048*1.03125 (routed) and
 * 2*2048*1.03125 (shared): 156,672 bytes. Keeping the SwiGLU outputs and the experts' outputs
 * adds 8*2048*1.03125 + 2048*1.03125 + 8*7168*2 = 133,696. */
static void deepseek_v3_caches_swiglu_inputs_and_recomputes_outputs(void **state)
{
	struct scenario *sc = load_model("deepseek-v3");
	const struct model_config *m = &sc->model;
	unsigned base = MODEL_ACT_NORM_OUT | MODEL_ACT_MLA_UP;
	struct act_options o = {4096, 2.0, true, 1.03125, base, 1.53125, 1.03125};
	double kept = model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true);
	(void)state;
	o.recomputed = base | MODEL_ACT_MOE_ACT | MODEL_ACT_COMBINE;
	check_rel(model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true), 156672, 1e-12);
	check_rel(kept - model_layer_act_bytes(m, LAYER_MOE, &o, 1, false, true), 133696, 1e-12);
	scenario_free(sc);
}

/* DeepSeek-V3's MTP module (report sec. 2.2; config num_nextn_predict_layers 1): one MoE layer,
 * counted by hand from config.json — attention q_a 1536*7168, q_b 128*192*1536, kv_a
 * 576*7168, kv_b 128*256*512, o 7168*16384, norms 1536 + 512 + 2*7168; router 256*7168;
 * experts 256*3*7168*2048; shared expert 3*7168*2048 — plus eh_proj 7168*14336 and three norms
 * of 7168: 11,610,067,968 in all, near the 11.5B the weights README gives its unique part. */
static void deepseek_v3_mtp_module_counts_one_layer_and_its_projection(void **state)
{
	struct scenario *sc = load_model("deepseek-v3");
	struct model_params p;
	double attn = 1536.0 * 7168 + 128.0 * 192 * 1536 + 576.0 * 7168 + 128.0 * 256 * 512 +
		      7168.0 * 16384 + 1536 + 512 + 2 * 7168.0;
	double moe = 256.0 * 7168 + 256.0 * 3 * 7168 * 2048 + 3.0 * 7168 * 2048;
	(void)state;
	assert_int_equal(sc->model.mtp_layers, 1);
	model_count_params(&sc->model, &p);
	check_rel(p.mtp, attn + moe + 7168.0 * 14336 + 3 * 7168.0, 1e-12);
	check_rel(p.mtp, 11610067968.0, 1e-12);
	scenario_free(sc);
}

/* Layers by kind, from the configs: DeepSeek-V3's 61 layers with first_k_dense_replace 3
 * (the MTP module apart), Mixtral's 32 all sparse, Llama-2-7B's 32 all dense. */
static void layers_are_counted_by_kind(void **state)
{
	static const struct {
		const char *model;
		int64_t dense, moe;
	} cases[] = {{"deepseek-v3", 3, 58}, {"mixtral-8x7b", 0, 32}, {"llama-2-7b", 32, 0}};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct scenario *sc = load_model(cases[i].model);
		assert_int_equal(model_layers_of_kind(&sc->model, LAYER_DENSE), cases[i].dense);
		assert_int_equal(model_layers_of_kind(&sc->model, LAYER_MOE), cases[i].moe);
		scenario_free(sc);
	}
}

/* KV bytes per token in bf16, ../shared/reference/inference.md sec. 8.3 (derived from the
 * configs with 2*L*kv_heads*head_dim*2, or L*(kv_lora_rank + rope_dim)*2 for MLA). */
static void kv_bytes_per_token_follow_the_architecture(void **state)
{
	static const struct {
		const char *name;
		double bytes;
	} rows[] = {
		{"deepseek-llm-7b", 491520},  {"deepseek-llm-67b", 389120}, {"llama-2-7b", 524288},
		{"llama-2-70b", 327680},      {"llama-3-8b", 131072},       {"llama-3-70b", 327680},
		{"llama-3.1-405b", 516096},   {"mixtral-8x7b", 131072},
		{"deepseek-r1-distill-qwen-7b", 57344}, {"deepseek-r1-distill-qwen-14b", 196608},
		{"deepseek-r1-distill-qwen-32b", 262144}, {"opt-13b", 819200},
		{"deepseek-v2", 69120},       {"deepseek-v2-lite", 31104},  {"deepseek-v3", 70272},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct scenario *s = load_model(rows[i].name);
		double got = model_kv_elems_per_token_layer(&s->model) * (double)s->model.layers * 2;
		check_rel(got, rows[i].bytes, 1e-12);
		scenario_free(s);
	}
}

/* DeepSeek-V2 report: MLA needs 82.2 % less KV cache than DeepSeek 67B's GQA in bf16 (derived:
 * 1 - 69120/389120), and with ~6-bit elements (the report's quantization) 93.3 % less. */
static void mla_shrinks_the_kv_cache_as_deepseek_v2_reports(void **state)
{
	struct scenario *v2 = load_model("deepseek-v2"), *d67 = load_model("deepseek-llm-67b");
	double mla = model_kv_elems_per_token_layer(&v2->model) * (double)v2->model.layers;
	double gqa = model_kv_elems_per_token_layer(&d67->model) * (double)d67->model.layers;
	(void)state;
	check_rel(1 - (mla * 2) / (gqa * 2), 0.822, 0.001);
	/* 6.2 bits: the report's "about 6 bits" average, scales included (93.3 % = 1 - b/16 * x). */
	check_rel(1 - (mla * 6.0 / 8) / (gqa * 2), 0.933, 0.002);
	scenario_free(v2);
	scenario_free(d67);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(model_params_match_the_official_configs),
		cmocka_unit_test(moe_active_params_match_the_derived_counts),
		cmocka_unit_test(megatron_gpt_params_follow_equation_2),
		cmocka_unit_test(alibi_adds_no_position_parameters),
		cmocka_unit_test(every_model_preset_matches_its_published_count),
		cmocka_unit_test(activation_tensors_reproduce_korthikanti_table_2),
		cmocka_unit_test(flash_attention_removes_the_score_term),
		cmocka_unit_test(fp8_training_caches_linear_inputs_in_one_byte),
		cmocka_unit_test(recompute_modules_drop_norm_and_mla_up_outputs),
		cmocka_unit_test(deepseek_v3_caches_swiglu_inputs_and_recomputes_outputs),
		cmocka_unit_test(deepseek_v3_mtp_module_counts_one_layer_and_its_projection),
		cmocka_unit_test(swiglu_gqa_layer_saves_the_hand_counted_tensors),
		cmocka_unit_test(layers_are_counted_by_kind),
		cmocka_unit_test(kv_bytes_per_token_follow_the_architecture),
		cmocka_unit_test(mla_shrinks_the_kv_cache_as_deepseek_v2_reports),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
