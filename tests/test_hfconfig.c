/*
 * test_hfconfig: importing HuggingFace config.json files (tests/data/hf/, see SOURCES.md) as the
 * `model:` of a scenario. Every imported field is compared with the value in the json, and the
 * parameter counts with sums written out by hand below from each architecture's modeling_*.py;
 * the import's errors (unsupported model_type, a missing field, OPT's projected embedding, a bad
 * imported value) are provoked on purpose and must point into the json.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "diag.h"
#include "hfconfig.h"
#include "model.h"
#include "scenario.h"
#include "xalloc.h"
#include "yamltree.h"

/* Load a scenario whose model is tests/data/hf/<fixture>.json, by absolute path. */
static struct scenario *load_hf(const char *fixture)
{
	char yaml[2048], name[64];
	snprintf(yaml, sizeof yaml,
		 "model: %s/tests/data/hf/%s.json\n"
		 "cluster: {node: dgx-h100}\n"
		 "workload: {mode: infer, seq_len: 16}\n",
		 check_srcdir(), fixture);
	snprintf(name, sizeof name, "hf_%s", fixture);
	return check_scenario(name, yaml);
}

static struct model_params params_of(const char *fixture)
{
	struct scenario *s = load_hf(fixture);
	struct model_params p;
	model_count_params(&s->model, &p);
	scenario_free(s);
	return p;
}

/* The json's fields, copied by hand; 0 where the json says nothing (a default applies). */
struct expect {
	const char *fixture, *name, *arch;
	int64_t layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_position;
	bool tie, bias, qkv_bias, dropout;
	int mlp, norm, position;
	int64_t q_lora, kv_lora, nope, rope, v_head;
	int64_t experts, shared, top_k, moe_ffn, dense_layers;
};

static const struct expect expects[] = {
	/* Llama-3.1-8B: silu -> SwiGLU, RMSNorm, RoPE, GQA 32/8, untied. */
	{"llama", "llama", "llama", 32, 4096, 32, 8, 128, 14336, 128256, 131072,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* Qwen2.5-32B: QKV biases come with the architecture, no key says so. */
	{"qwen2", "qwen2", "qwen2", 64, 5120, 40, 8, 128, 27648, 152064, 131072,
	 false, false, true, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"mistral", "mistral", "mistral", 32, 4096, 32, 8, 128, 14336, 32000, 32768,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* Mixtral-8x7B: num_local_experts 8, num_experts_per_tok 2, experts as wide as the MLP. */
	{"mixtral", "mixtral", "mixtral", 32, 4096, 32, 8, 128, 14336, 32000, 32768,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 8, 0, 2, 14336, 0},
	/* DeepSeek-V2-Lite: q_lora_rank null (no query compression), first_k_dense_replace 1. */
	{"deepseek_v2", "deepseek_v2", "deepseek_v2", 27, 2048, 16, 16, 0, 10944, 102400, 163840,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 512, 128, 64, 128, 64, 2, 6, 1408, 1},
	{"deepseek_v3", "deepseek_v3", "deepseek_v3", 61, 7168, 128, 128, 0, 18432, 129280, 163840,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 1536, 512, 128, 64, 128, 256, 1, 8, 2048, 3},
	/* GPT-2: no n_inner (so 4 * 768), MHA (kv_heads = heads), gelu_new, tied, biases,
	 * dropout. */
	{"gpt2", "gpt2", "gpt2", 12, 768, 12, 12, 64, 3072, 50257, 1024,
	 true, true, false, true, MLP_GELU, NORM_LAYERNORM, POSITION_LEARNED,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* OPT-13B: named by its _name_or_path; max_position_embeddings 2048 + the 2 offset rows of
	 * its learned positions. */
	{"opt", "facebook/opt-13b", "opt", 40, 5120, 40, 40, 128, 20480, 50272, 2050,
	 true, true, false, true, MLP_RELU, NORM_LAYERNORM, POSITION_LEARNED,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* Qwen3-8B: Llama-like with q/k norms (not a config key), untied. */
	{"qwen3", "qwen3", "qwen3", 36, 4096, 32, 8, 128, 12288, 151936, 40960,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* Qwen3-30B-A3B: num_experts 128, top 8 of moe_intermediate_size 768; mlp_only_layers [],
	 * decoder_sparse_step 1: every layer is MoE. */
	{"qwen3_moe", "qwen3_moe", "qwen3_moe", 48, 2048, 32, 4, 128, 6144, 151936, 40960,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 128, 0, 8, 768, 0},
	/* Gemma-2-9B: head_dim 256 apart from hidden/heads (16 * 256 != 3584), gated
	 * gelu_pytorch_tanh, tied by default. */
	{"gemma2", "gemma2", "gemma2", 42, 3584, 16, 8, 256, 14336, 256000, 8192,
	 true, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* Gemma-3-12B: text_config; vocab_size and max_position_embeddings are absent there, so
	 * Gemma3TextConfig's defaults 262,208 and 131,072 apply. */
	{"gemma3", "gemma3", "gemma3", 48, 3840, 16, 8, 256, 15360, 262208, 131072,
	 true, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	/* Llama-4-Scout-17B-16E: text_config; 16 experts of intermediate_size 8192, top 1, one
	 * shared expert as wide; intermediate_size_mlp 16384 is the dense MLP (no dense layer here:
	 * interleave_moe_layer_step 1). */
	{"llama4", "llama4", "llama4", 48, 5120, 40, 8, 128, 16384, 202048, 262144,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 16, 1, 1, 8192, 0},
	/* Phi-3-mini-4k-instruct: named by _name_or_path; MHA, head_dim 3072 / 32 = 96. */
	{"phi3", "Phi-3-mini-4k-instruct", "phi3", 32, 3072, 32, 32, 96, 8192, 32064, 4096,
	 false, false, false, false, MLP_SWIGLU, NORM_RMSNORM, POSITION_ROPE,
	 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};

static void check_import(const struct expect *e)
{
	struct scenario *s = load_hf(e->fixture);
	const struct model_config *m = &s->model;
	print_message("%s\n", e->fixture);
	/* Without _name_or_path, the file name without .json names the model. */
	assert_string_equal(m->name, e->name);
	assert_string_equal(m->arch, e->arch);
	assert_int_equal(m->layers, e->layers);
	assert_int_equal(m->hidden, e->hidden);
	assert_int_equal(m->heads, e->heads);
	assert_int_equal(m->kv_heads, e->kv_heads);
	if (e->head_dim != 0)
		assert_int_equal(m->head_dim, e->head_dim);
	assert_int_equal(m->ffn, e->ffn);
	assert_int_equal(m->vocab, e->vocab);
	assert_int_equal(m->max_position, e->max_position);
	assert_int_equal(m->tie_embeddings, e->tie);
	assert_int_equal(m->bias, e->bias);
	assert_int_equal(m->qkv_bias, e->qkv_bias);
	assert_int_equal(m->dropout, e->dropout);
	assert_int_equal(m->mlp, e->mlp);
	assert_int_equal(m->norm, e->norm);
	assert_int_equal(m->position, e->position);
	assert_int_equal(m->mla.q_lora_rank, e->q_lora);
	assert_int_equal(m->mla.kv_lora_rank, e->kv_lora);
	assert_int_equal(m->mla.qk_nope_head_dim, e->nope);
	assert_int_equal(m->mla.qk_rope_head_dim, e->rope);
	assert_int_equal(m->mla.v_head_dim, e->v_head);
	assert_int_equal(m->moe.experts, e->experts);
	assert_int_equal(m->moe.shared_experts, e->shared);
	assert_int_equal(m->moe.top_k, e->top_k);
	assert_int_equal(m->moe.ffn, e->moe_ffn);
	assert_int_equal(m->moe.dense_layers, e->dense_layers);
	assert_int_equal(model_is_mla(m), e->kv_lora > 0);
	assert_int_equal(model_is_moe(m), e->experts > 0);
	scenario_free(s);
}

/* DeepSeek-V3 config.json: num_nextn_predict_layers 1 (the MTP module, report sec. 2.2),
 * n_group 8 and topk_group 4 (node-limited routing, M = 4: report sec. 3.2.2); V2-Lite's
 * n_group 1, topk_group 1 (no limit across one group). */
static void hfconfig_reads_mtp_and_expert_group_limits(void **state)
{
	struct scenario *v3 = load_hf("deepseek_v3"), *v2 = load_hf("deepseek_v2");
	(void)state;
	assert_int_equal(v3->model.mtp_layers, 1);
	assert_int_equal(v3->model.moe.n_group, 8);
	assert_int_equal(v3->model.moe.topk_group, 4);
	assert_int_equal(v2->model.mtp_layers, 0);
	assert_int_equal(v2->model.moe.n_group, 1);
	assert_int_equal(v2->model.moe.topk_group, 1);
	scenario_free(v3);
	scenario_free(v2);
}

#define IMPORT_TEST(fx, i) \
	static void hfconfig_imports_##fx##_as_published(void **state) \
	{ \
		(void)state; \
		assert_string_equal(expects[i].fixture, #fx); \
		check_import(&expects[i]); \
	}

IMPORT_TEST(llama, 0)
IMPORT_TEST(qwen2, 1)
IMPORT_TEST(mistral, 2)
IMPORT_TEST(mixtral, 3)
IMPORT_TEST(deepseek_v2, 4)
IMPORT_TEST(deepseek_v3, 5)
IMPORT_TEST(gpt2, 6)
IMPORT_TEST(opt, 7)
IMPORT_TEST(qwen3, 8)
IMPORT_TEST(qwen3_moe, 9)
IMPORT_TEST(gemma2, 10)
IMPORT_TEST(gemma3, 11)
IMPORT_TEST(llama4, 12)
IMPORT_TEST(phi3, 13)

/*
 * GPT-2 (modeling_gpt2.py), V 50257, P 1024, h 768, L 12, MLP 4h, tied head:
 *   wte V*h = 38,597,376; wpe P*h = 786,432
 *   per block: ln_1 2h + c_attn (3h*h + 3h) + c_proj (h*h + h) + ln_2 2h
 *              + c_fc (4h*h + 4h) + c_proj (4h*h + h) = 12h^2 + 13h = 7,087,872
 *   ln_f 2h = 1,536
 *   38,597,376 + 786,432 + 12 * 7,087,872 + 1,536 = 124,439,808, HF's own count for "gpt2".
 */
static void hfconfig_gpt2_has_hugging_faces_parameter_count(void **state)
{
	double V = 50257, P = 1024, h = 768, L = 12;
	double by_hand = V * h + P * h + L * (12 * h * h + 13 * h) + 2 * h;
	(void)state;
	assert_true(by_hand == 124439808.0);
	/* Exact: every term is an integer far below 2^53. */
	check_rel(params_of("gpt2").total, 124439808.0, 0);
}

/*
 * OPT-13B (modeling_opt.py), V 50272, h 5120, L 40, ffn 20480 = 4h, tied head,
 * do_layer_norm_before with a final layer norm; OPTLearnedPositionalEmbedding has P = 2048 + 2:
 *   per decoder layer: q, k, v, out_proj 4(h*h + h) + self_attn_layer_norm 2h
 *                      + fc1 (h*ffn + ffn) + fc2 (ffn*h + h) + final_layer_norm 2h
 *                      = 4h^2 + 2h*ffn + 9h + ffn = 314,639,360
 *   embed_tokens V*h = 257,392,640; embed_positions P*h = 10,496,000; final_layer_norm 2h = 10,240
 *   40 * 314,639,360 + 257,392,640 + 10,496,000 + 10,240 = 12,853,473,280 (SOURCES.md).
 */
static void hfconfig_opt_13b_counts_the_two_offset_positions(void **state)
{
	double V = 50272, P = 2048 + 2, h = 5120, ffn = 20480, L = 40;
	double layer = 4 * (h * h + h) + 2 * h + (h * ffn + ffn) + (ffn * h + h) + 2 * h;
	double by_hand = L * layer + V * h + P * h + 2 * h;
	(void)state;
	assert_true(layer == 314639360.0);
	assert_true(by_hand == 12853473280.0);
	check_rel(params_of("opt").total, by_hand, 0);
}

/*
 * Llama-like (modeling_llama.py / modeling_mistral.py / modeling_qwen2.py), untied head:
 *   per layer: q h*h, k and v h*kv*d each, o h*h, (Qwen2: q, k, v biases h + 2*kv*d),
 *              gate/up/down 3*h*ffn, two RMSNorms 2h
 *   embed_tokens and lm_head 2*V*h, final norm h.
 */
static double llama_like(double V, double h, double L, double kv, double d, double ffn,
			 bool qkv_bias)
{
	double attn = 2 * h * h + 2 * h * kv * d + (qkv_bias ? h + 2 * kv * d : 0);
	return L * (attn + 3 * h * ffn + 2 * h) + 2 * V * h + h;
}

static void hfconfig_llama_mistral_and_qwen2_count_by_hand(void **state)
{
	(void)state;
	/* Llama-3.1-8B: 32 * 218,112,000 + 2 * 525,336,576 + 4,096 = 8,030,261,248. */
	assert_true(llama_like(128256, 4096, 32, 8, 128, 14336, false) == 8030261248.0);
	check_rel(params_of("llama").total, 8030261248.0, 0);
	/* Mistral-7B: 32 * 218,112,000 + 2 * 131,072,000 + 4,096 = 7,241,732,096. */
	assert_true(llama_like(32000, 4096, 32, 8, 128, 14336, false) == 7241732096.0);
	check_rel(params_of("mistral").total, 7241732096.0, 0);
	/* Qwen2.5-32B: 64 * 487,605,248 + 2 * 778,567,680 + 5,120 = 32,763,876,352. */
	assert_true(llama_like(152064, 5120, 64, 8, 128, 27648, true) == 32763876352.0);
	check_rel(params_of("qwen2").total, 32763876352.0, 0);
}

/*
 * Mixtral-8x7B (modeling_mixtral.py): as Llama, with the MLP replaced by a router h*E and E experts
 * of 3*h*ffn each; per token the router and top_k = 2 experts are active:
 *   layer 41,943,040 (attention) + 32,768 + 8 * 176,160,768 + 8,192 = 1,451,270,144
 *   total 32 * 1,451,270,144 + 2 * 131,072,000 + 4,096 = 46,702,792,704
 *   active 32 * (41,943,040 + 32,768 + 2 * 176,160,768 + 8,192) + 262,148,096 = 12,879,925,248
 */
static void hfconfig_mixtral_counts_experts_and_active_experts(void **state)
{
	double V = 32000, h = 4096, L = 32, kv = 8, d = 128, ffn = 14336, E = 8, k = 2;
	double attn = 2 * h * h + 2 * h * kv * d, expert = 3 * h * ffn;
	double total = L * (attn + h * E + E * expert + 2 * h) + 2 * V * h + h;
	double active = L * (attn + h * E + k * expert + 2 * h) + 2 * V * h + h;
	struct model_params p = params_of("mixtral");
	(void)state;
	assert_true(total == 46702792704.0);
	assert_true(active == 12879925248.0);
	check_rel(p.total, total, 0);
	check_rel(p.active, active, 0);
}

/*
 * DeepSeek-V2/V3 (modeling_deepseek.py), n heads, MLA ranks q_r (0: plain q_proj) and kv_r:
 *   attention: q_proj h*n*(nope + rope), or q_a_proj h*q_r + q_a_layernorm q_r + q_b_proj
 *              q_r*n*(nope + rope); kv_a_proj_with_mqa h*(kv_r + rope) + kv_a_layernorm kv_r
 *              + kv_b_proj kv_r*n*(nope + v) + o_proj n*v*h
 *   dense layers (the first first_k_dense_replace): 3*h*ffn; MoE layers: gate h*E + (E + shared)
 *   experts of 3*h*moe_ffn; two RMSNorms 2h per layer; embed and head 2*V*h; final norm h.
 * V3's gate also holds e_score_correction_bias (E per MoE layer, 14,848 in all); like the counts
 * in SOURCES.md, the sums below leave it out. The MTP module (num_nextn_predict_layers) is not a
 * main-model layer.
 */
static void deepseek_by_hand(double V, double h, double L, double n, double q_r, double kv_r,
			     double nope, double rope, double v, double ffn, double dense, double E,
			     double shared, double k, double moe_ffn, double *total, double *active)
{
	double q = q_r > 0 ? h * q_r + q_r + q_r * n * (nope + rope) : h * n * (nope + rope);
	double attn = q + h * (kv_r + rope) + kv_r + kv_r * n * (nope + v) + n * v * h;
	double expert = 3 * h * moe_ffn;
	double dense_layer = attn + 3 * h * ffn + 2 * h;
	double moe_layer = attn + h * E + (E + shared) * expert + 2 * h;
	double moe_active = attn + h * E + (k + shared) * expert + 2 * h;
	*total = dense * dense_layer + (L - dense) * moe_layer + 2 * V * h + h;
	*active = dense * dense_layer + (L - dense) * moe_active + 2 * V * h + h;
}

static void hfconfig_deepseek_counts_latent_attention_and_experts(void **state)
{
	double total, active;
	struct model_params p;
	(void)state;
	/* V2-Lite: attention 13,763,072; 81,007,104 + 26 * 584,847,872 + 419,432,448. */
	deepseek_by_hand(102400, 2048, 27, 16, 0, 512, 128, 64, 128, 10944, 1, 64, 2, 6, 1408,
			 &total, &active);
	assert_true(total == 15706484224.0);
	assert_true(active == 2661150208.0);
	p = params_of("deepseek_v2");
	check_rel(p.total, total, 0);
	check_rel(p.active, active, 0);
	/* V3: attention 187,107,328; 3 * 583,483,392 + 58 * 11,507,286,016 + 1,853,365,248. */
	deepseek_by_hand(129280, 7168, 61, 128, 1536, 512, 128, 64, 128, 18432, 3, 256, 1, 8, 2048,
			 &total, &active);
	assert_true(total == 671026404352.0);
	assert_true(active == 37552282624.0);
	p = params_of("deepseek_v3");
	check_rel(p.total, total, 0);
	check_rel(p.active, active, 0);
}

/*
 * The newer families, by hand from their modeling_*.py, for a GQA layer of a heads of width d
 * (a*d need not be h), kv key/value heads, SwiGLU-style gated MLP of width ffn:
 *   attention: q_proj h*a*d, k_proj and v_proj h*kv*d each, o_proj a*d*h;
 *              Qwen3 and Gemma 3 add q_norm and k_norm of d weights each;
 *   norms: two RMSNorms of h a layer; Gemma 2 and 3 four (post_attention_layernorm and
 *          post_feedforward_layernorm besides the input and pre-feedforward ones);
 *   outside the layers: embed_tokens V*h, lm_head V*h unless tied, final norm h.
 */
static double gqa_attention(double h, double a, double kv, double d, bool qk_norm)
{
	return 2 * h * a * d + 2 * h * kv * d + (qk_norm ? 2 * d : 0);
}

static double gated_dense(double V, double h, double L, double a, double kv, double d, double ffn,
			  bool tied, bool qk_norm, bool four_norms)
{
	double layer = gqa_attention(h, a, kv, d, qk_norm) + 3 * h * ffn + (four_norms ? 4 : 2) * h;
	return L * layer + (tied ? 1 : 2) * V * h + h;
}

/*
 * Qwen3-8B (model card, huggingface.co/Qwen/Qwen3-8B: "Number of Parameters: 8.2B", "Number of
 * Paramaters (Non-Embedding): 6.95B"):
 *   layer 41,943,296 (attention with q/k norms) + 150,994,944 + 8,192 = 192,946,432
 *   36 * 192,946,432 = 6,946,071,552 non-embedding, + 2 * 622,329,856 + 4,096 = 8,190,735,360.
 */
static void hfconfig_qwen3_has_its_model_cards_count(void **state)
{
	double by_hand = gated_dense(151936, 4096, 36, 32, 8, 128, 12288, false, true, false);
	(void)state;
	assert_true(by_hand == 8190735360.0);
	check_rel(params_of("qwen3").total, by_hand, 0);
	check_rel(by_hand, 8.2e9, 0.005);
	check_rel(36 * 192946432.0, 6.95e9, 0.005);
}

/*
 * Qwen3-30B-A3B (model card, huggingface.co/Qwen/Qwen3-30B-A3B: "Number of Parameters: 30.5B in
 * total and 3.3B activated"); every layer is MoE (modeling_qwen3_moe.py, Qwen3MoeSparseMoeBlock):
 *   attention 2*2048*4096 + 2*2048*512 + 256 = 18,874,624; gate 128 * 2048 = 262,144;
 *   expert 3 * 2048 * 768 = 4,718,592; norms 4,096
 *   total  48 * (18,874,624 + 262,144 + 128 * 4,718,592 + 4,096) + 2 * 311,164,928 + 2,048
 *          = 30,532,122,624
 *   active 48 * (18,874,624 + 262,144 + 8 * 4,718,592 + 4,096) + 622,331,904 = 3,353,032,704
 * The total is within 0.5 % of 30.5B. The card's "3.3B" has two digits: our 3.353B, which counts
 * the embedding and the untied head as active, is 1.6 % above it; the check is against the
 * card's two digits (3.353 truncates to 3.3), so within 2 %.
 */
static void hfconfig_qwen3_moe_counts_128_experts_and_8_active(void **state)
{
	double V = 151936, h = 2048, L = 48, E = 128, k = 8, expert = 3 * h * 768;
	double attn = gqa_attention(h, 32, 4, 128, true);
	double total = L * (attn + h * E + E * expert + 2 * h) + 2 * V * h + h;
	double active = L * (attn + h * E + k * expert + 2 * h) + 2 * V * h + h;
	struct model_params p = params_of("qwen3_moe");
	(void)state;
	assert_true(attn == 18874624.0);
	assert_true(total == 30532122624.0);
	assert_true(active == 3353032704.0);
	check_rel(p.total, total, 0);
	check_rel(p.active, active, 0);
	check_rel(total, 30.5e9, 0.005);
	check_rel(active, 3.3e9, 0.02);
}

/*
 * Sliding windows: Mistral-7B-v0.1 windows every layer at 4096 tokens; Gemma 2 windows the even
 * layers (4096), Gemma 3 all but every 6th (1024; sliding_window_pattern's default). The share
 * of causal query-key pairs at s = 8192 by hand, full s(s+1)/2 = 33,558,528 and windowed
 * W(W+1)/2 + (s - W)W:
 *   Mistral, W 4096, every layer: (8,390,656 + 16,777,216) / 33,558,528 = 0.749969...
 *   Gemma 2, W 4096, 21 of 42:     (1 + 0.749969...) / 2
 *   Gemma 3, W 1024, 40 of 48:     (8 + 40 * (524,800 + 7,340,032) / 33,558,528) / 48
 * and under the window (s = 1024 for Mistral) attention is whole.
 * Sequence packing (workload.document_len) keeps attention inside each document.
 */
static void hfconfig_imports_sliding_windows(void **state)
{
	struct scenario *mistral = load_hf("mistral"), *g2 = load_hf("gemma2"),
			*g3 = load_hf("gemma3");
	const double full = 8192.0 * 8193 / 2, w4 = (8390656.0 + 16777216.0) / full;
	(void)state;
	assert_int_equal(mistral->model.sliding_window, 4096);
	assert_int_equal(mistral->model.global_every, 0);
	assert_int_equal(g2->model.sliding_window, 4096);
	assert_int_equal(g2->model.global_every, 2);
	assert_int_equal(g3->model.sliding_window, 1024);
	assert_int_equal(g3->model.global_every, 6);
	assert_int_equal(model_windowed_layers(&g3->model), 40);
	check_rel(model_attention_share(&mistral->model, 8192), w4, 1e-12);
	check_rel(model_attention_share(&mistral->model, 1024), 1.0, 0);
	check_rel(model_attention_share(&g2->model, 8192), (1 + w4) / 2, 1e-12);
	check_rel(model_attention_share(&g3->model, 8192),
		  (8 + 40 * (524800.0 + 7340032.0) / full) / 48, 1e-12);
	/* Packed documents of 256 tokens in a sequence of 8192 (32 of them), Mistral's 4096 window
	 * beyond reach: 32 * 256 * 257 / 2 = 1,052,672 pairs of 33,558,528. */
	check_rel(model_attention_share_packed(&mistral->model, 8192, 256), 1052672.0 / full, 1e-12);
	check_rel(model_attention_share_packed(&mistral->model, 8192, 0), w4, 1e-12);
	/* Serving: 200 new tokens after 4,000 cached on Mistral's 4096 window. Queries 4,001 to
	 * 4,096 see all before them, (4001 + 4096) * 96 / 2 = 388,656 pairs; the other 104 see
	 * 4,096 each, 425,984: 814,640 against 820,100 without the window. A context of 10,000
	 * keeps 4,096 tokens on Mistral's layers, (21 * 10,000 + 21 * 4,096) / 42 = 7,048 on
	 * Gemma 2's on average. */
	check_rel(model_chunk_pairs(&mistral->model, 4000, 200), 814640.0, 1e-12);
	check_rel(model_chunk_pairs(&mistral->model, 100, 200), 200.0 * 100 + 200.0 * 201 / 2, 1e-12);
	check_rel(model_context_tokens(&mistral->model, 10000), 4096, 1e-12);
	check_rel(model_context_tokens(&g2->model, 10000), 7048, 1e-12);
	scenario_free(mistral);
	scenario_free(g2);
	scenario_free(g3);
}

/*
 * Llama 4's chunked attention: Scout's text config has attention_chunk_size 8192 and
 * no_rope_layers 0 on every 4th layer (global, without RoPE): 36 of 48 layers chunked. By hand:
 *   training, s = 20,000: full s(s+1)/2 = 200,010,000; a chunked layer 2 chunks of
 *     8192 * 8193 / 2 = 33,558,528 and the 3,616 left, 3616 * 3617 / 2 = 6,539,536: 73,656,592;
 *     the share (12 * full + 36 * 73,656,592) / (48 * full); at s = 8192 attention is whole.
 *   serving, 400 new tokens after 8,000: queries 8,001 to 8,192 see all before them,
 *     (8001 + 8192) * 192 / 2 = 1,554,528 pairs; 8,193 to 8,400 open a new chunk, 208 * 209 / 2
 *     = 21,736: 1,576,264 chunked against 400 * 8000 + 400 * 401 / 2 = 3,280,200 full.
 *   a context of 10,000 reads the current chunk's 1,808 tokens on a chunked layer,
 *     (12 * 10,000 + 36 * 1,808) / 48 = 3,856 on average, and holds blocks for up to a chunk,
 *     (12 * 10,000 + 36 * 8,192) / 48 = 8,644.
 */
static void hfconfig_imports_llama4_chunked_attention(void **state)
{
	struct scenario *l4 = load_hf("llama4");
	const double full = 20000.0 * 20001 / 2;
	(void)state;
	assert_int_equal(l4->model.attention_chunk, 8192);
	assert_int_equal(l4->model.global_every, 4);
	assert_int_equal(l4->model.sliding_window, 0);
	assert_int_equal(model_windowed_layers(&l4->model), 36);
	check_rel(model_attention_share(&l4->model, 20000), (12 * full + 36 * 73656592.0) / (48 * full),
		  1e-12);
	check_rel(model_attention_share(&l4->model, 8192), 1.0, 0);
	check_rel(model_chunk_pairs(&l4->model, 8000, 400),
		  (12 * 3280200.0 + 36 * 1576264.0) / 48, 1e-12);
	check_rel(model_context_tokens(&l4->model, 10000), 3856, 1e-12);
	check_rel(model_held_tokens(&l4->model, 10000), 8644, 1e-12);
	scenario_free(l4);
}

/*
 * Gemma-2-9B (model card google/gemma-2-9b and the Gemma 2 report, arXiv:2408.00118, Table 2:
 * 917,504,000 embedding and 8,324,201,984 non-embedding parameters, 9.24B in all):
 *   layer 44,040,192 + 154,140,672 + 4 * 3,584 = 198,195,200; 42 layers 8,324,198,400
 *   + final norm 3,584 = 8,324,201,984; + tied embedding 256,000 * 3,584 = 9,241,705,984.
 */
static void hfconfig_gemma2_has_its_reports_count(void **state)
{
	double by_hand = gated_dense(256000, 3584, 42, 16, 8, 256, 14336, true, false, true);
	(void)state;
	assert_true(by_hand == 9241705984.0);
	assert_true(by_hand - 256000.0 * 3584 == 8324201984.0);
	check_rel(params_of("gemma2").total, by_hand, 0);
	check_rel(by_hand, 9.24e9, 0.005);
}

/*
 * Gemma-3-12B: the Hub lists 12.2B parameters for google/gemma-3-12b-it, text and vision. The
 * text model alone, by hand:
 *   layer 47,186,432 (with q/k norms) + 176,947,200 + 4 * 3,840 = 224,148,992;
 *   48 * 224,148,992 + 3,840 = 10,759,155,456 non-embedding; + 262,208 * 3,840 (tied)
 *   = 11,766,034,176.
 * The vision part, from vision_config (SigLIP, modeling_siglip.py, no head) and
 * Gemma3MultiModalProjector:
 *   27 layers of 4 * (1152^2 + 1152) + (1152 * 4304 + 4304) + (4304 * 1152 + 1152) + 4 * 1152
 *   = 15,239,504; patch embedding 3 * 14 * 14 * 1152 + 1152; positions (896 / 14)^2 * 1152;
 *   post_layernorm 2 * 1152: 416,866,032; projector 1152 * 3840 + soft-embedding norm 1152.
 *   Text + vision = 12,187,325,040, the Hub's 12.2B. The text part is compared with 12.2B less
 *   that vision part, and with the Gemma 3 report (arXiv:2503.19786, Table 1: 417M vision,
 *   1,012M embedding, 10,759M non-embedding), whose non-embedding figure it matches.
 */
static void hfconfig_gemma3_imports_its_text_model(void **state)
{
	double text = gated_dense(262208, 3840, 48, 16, 8, 256, 15360, true, true, true);
	double hv = 1152, iv = 4304;
	double vlayer = 4 * (hv * hv + hv) + (hv * iv + iv) + (iv * hv + hv) + 4 * hv;
	double vision = 27 * vlayer + 3 * 14 * 14 * hv + hv + 64 * 64 * hv + 2 * hv;
	double projector = hv * 3840 + hv;
	(void)state;
	assert_true(text == 11766034176.0);
	assert_true(vision == 416866032.0);
	assert_true(text + vision + projector == 12187325040.0);
	check_rel(params_of("gemma3").total, text, 0);
	check_rel(text, 12.2e9 - vision - projector, 0.005);
	check_rel(text - 262208.0 * 3840, 10759e6, 0.005);
}

/*
 * Llama-4-Scout-17B-16E (model card meta-llama/Llama-4-Scout-17B-16E: 17B active, 109B total,
 * text and vision). The text model (modeling_llama4.py, Llama4TextMoe: router h*E, E experts and
 * one shared expert of 3*h*8192 each, every layer MoE):
 *   attention 2*5120*5120 + 2*5120*1024 = 62,914,560; router 81,920; expert 125,829,120
 *   total  48 * (62,914,560 + 81,920 + 17 * 125,829,120 + 10,240) + 2 * 1,034,485,760 + 5,120
 *          = 107,769,861,120
 *   active 48 * (62,914,560 + 81,920 + 2 * 125,829,120 + 10,240) + 2,068,976,640
 *          = 17,172,894,720
 * The vision part, from vision_config (modeling_llama4.py, Llama4VisionModel): 34 layers of
 *   4 * (1408^2 + 1408) + (1408 * 5632 + 5632) + (5632 * 1408 + 1408) + 4 * 1408 = 23,807,872;
 *   patch embedding 588 * 1408; class embedding 1408; positions 577 * 1408; two layer norms
 *   4 * 1408; the pixel-shuffle adapter 5632 * 4096 + 4096 * 4096; the projector 4096 * 5120:
 *   871,932,416. Text + vision = 108,641,793,536, the card's 109B. The text part is compared
 *   with 109B less the vision part (-0.33 %). Active: the card's "17B" has two digits; ours,
 *   17.17B, is 1.0 % above it, so within 2 %.
 */
static void hfconfig_llama4_imports_its_text_model(void **state)
{
	double V = 202048, h = 5120, L = 48, E = 16, expert = 3 * h * 8192;
	double attn = gqa_attention(h, 40, 8, 128, false);
	double total = L * (attn + h * E + (E + 1) * expert + 2 * h) + 2 * V * h + h;
	double active = L * (attn + h * E + 2 * expert + 2 * h) + 2 * V * h + h;
	double hv = 1408, iv = 5632;
	double vlayer = 4 * (hv * hv + hv) + (hv * iv + iv) + (iv * hv + hv) + 4 * hv;
	double vision = 34 * vlayer + 588 * hv + hv + 577 * hv + 4 * hv + 5632.0 * 4096 +
			4096.0 * 4096 + 4096.0 * 5120;
	struct model_params p = params_of("llama4");
	(void)state;
	assert_true(total == 107769861120.0);
	assert_true(active == 17172894720.0);
	assert_true(vision == 871932416.0);
	check_rel(p.total, total, 0);
	check_rel(p.active, active, 0);
	check_rel(total, 109e9 - vision, 0.005);
	check_rel(active, 17e9, 0.02);
}

/*
 * Phi-3-mini-4k-instruct (model card microsoft/Phi-3-mini-4k-instruct: "3.8B parameters"; the
 * Hub lists 3.82B). modeling_phi3.py fuses q, k, v into qkv_proj (h x 3h here, MHA) and gate and
 * up into gate_up_proj (h x 2*ffn): the same weights as separate matrices.
 *   layer 4 * 3072^2 + 3 * 3072 * 8192 + 2 * 3072 = 113,252,352
 *   32 * 113,252,352 + 2 * 32,064 * 3,072 + 3,072 = 3,821,079,552
 * 0.55 % above the card's two-digit 3.8B, 0.03 % from the Hub's 3.82B.
 */
static void hfconfig_phi3_counts_fused_projections_as_separate(void **state)
{
	double by_hand = gated_dense(32064, 3072, 32, 32, 32, 96, 8192, false, false, false);
	(void)state;
	assert_true(by_hand == 3821079552.0);
	check_rel(params_of("phi3").total, by_hand, 0);
	check_rel(by_hand, 3.82e9, 0.005);
	check_rel(by_hand, 3.8e9, 0.006);
}

/* ---- errors: json fixtures written to the build tree at test time ---- */

/* TOP_BUILDDIR/tests/out/hf, or a subdirectory of it, created: tests write only there. */
static const char *out_dir(char *buf, size_t size, const char *sub)
{
	const char *b = getenv("TOP_BUILDDIR");
	snprintf(buf, size, "%s/tests", b && b[0] ? b : ".");
	mkdir(buf, 0777);
	snprintf(buf + strlen(buf), size - strlen(buf), "/out");
	mkdir(buf, 0777);
	snprintf(buf + strlen(buf), size - strlen(buf), "/hf");
	mkdir(buf, 0777);
	if (sub != NULL) {
		snprintf(buf + strlen(buf), size - strlen(buf), "/%s", sub);
		mkdir(buf, 0777);
	}
	return buf;
}

/* Write text to TOP_BUILDDIR/tests/out/hf/<name> and return its path in buf. */
static const char *write_out(char *buf, size_t size, const char *name, const char *text)
{
	char dir[1024];
	FILE *f;
	snprintf(buf, size, "%s/%s", out_dir(dir, sizeof dir, NULL), name);
	f = fopen(buf, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/*
 * Write <name>.json and a scenario <name>.yaml naming it by absolute path, load the scenario,
 * which must fail, and return the diagnostic with the given key (fails if there is none).
 */
static const struct diag_item *import_failure(struct diag *d, const char *name, const char *json,
					      char *json_path, size_t size, const char *key)
{
	char file[256], yaml[2048], yaml_path[1200];
	struct scenario *s;
	size_t i;
	snprintf(file, sizeof file, "%s.json", name);
	write_out(json_path, size, file, json);
	snprintf(yaml, sizeof yaml,
		 "model: %s\ncluster: {node: dgx-h100}\nworkload: {mode: infer, seq_len: 16}\n",
		 json_path);
	snprintf(file, sizeof file, "%s.yaml", name);
	write_out(yaml_path, sizeof yaml_path, file, yaml);
	s = scenario_load(yaml_path, NULL, d);
	diag_print(d, stderr);
	assert_null(s);
	for (i = 0; i < d->count; i++)
		if (d->items[i].key != NULL && strcmp(d->items[i].key, key) == 0)
			return &d->items[i];
	fail_msg("no diagnostic for %s", key);
	return NULL;
}

/* bert-base-uncased's config.json, an encoder dssim does not model. */
static const char bert_json[] =
	"{\n"
	"  \"architectures\": [\n"
	"    \"BertForMaskedLM\"\n"
	"  ],\n"
	"  \"attention_probs_dropout_prob\": 0.1,\n"
	"  \"hidden_act\": \"gelu\",\n"
	"  \"hidden_size\": 768,\n"
	"  \"intermediate_size\": 3072,\n"
	"  \"max_position_embeddings\": 512,\n"
	"  \"model_type\": \"bert\",\n"             /* line 10, the value at column 17 */
	"  \"num_attention_heads\": 12,\n"
	"  \"num_hidden_layers\": 12,\n"
	"  \"vocab_size\": 30522\n"
	"}\n";

static void hfconfig_rejects_an_unsupported_model_type_listing_the_supported(void **state)
{
	struct diag d;
	char path[1200], expected[2048], buf[2048];
	const struct diag_item *it;
	(void)state;
	diag_init(&d);
	it = import_failure(&d, "bert", bert_json, path, sizeof path, "model_type");
	/* '  "model_type": "bert"': the value after 16 characters, at column 17. */
	snprintf(expected, sizeof expected,
		 "%s:10:17: model_type: unsupported HuggingFace model_type 'bert' (supported: "
		 "llama, qwen2, qwen3, qwen3_moe, mistral, mixtral, deepseek_v2, deepseek_v3, "
		 "gemma2, gemma3, gemma3_text, llama4, llama4_text, phi3, gpt2, opt)", path);
	assert_string_equal(diag_format(it, buf, sizeof buf), expected);
	diag_release(&d);
}

/* llama.json (Llama-3.1-8B) without num_hidden_layers. */
static const char no_layers_json[] =
	"{\n"
	"  \"architectures\": [\"LlamaForCausalLM\"],\n"
	"  \"hidden_act\": \"silu\",\n"
	"  \"hidden_size\": 4096,\n"
	"  \"intermediate_size\": 14336,\n"
	"  \"max_position_embeddings\": 131072,\n"
	"  \"model_type\": \"llama\",\n"
	"  \"num_attention_heads\": 32,\n"
	"  \"num_key_value_heads\": 8,\n"
	"  \"tie_word_embeddings\": false,\n"
	"  \"vocab_size\": 128256\n"
	"}\n";

static void hfconfig_reports_a_missing_field_at_the_top_of_the_json(void **state)
{
	struct diag d;
	char path[1200], expected[2048], buf[2048];
	const struct diag_item *it;
	(void)state;
	diag_init(&d);
	it = import_failure(&d, "no_layers", no_layers_json, path, sizeof path,
			    "num_hidden_layers");
	/* Nothing to point at but the json's opening brace. */
	snprintf(expected, sizeof expected,
		 "%s:1:1: num_hidden_layers: the HuggingFace config lacks 'num_hidden_layers'",
		 path);
	assert_string_equal(diag_format(it, buf, sizeof buf), expected);
	diag_release(&d);
}

/*
 * The missing field is the whole story: the model section that failed to import must not be
 * reported again as missing layers, hidden, heads and vocab at the scenario's "model:" line.
 */
static void hfconfig_reports_a_failed_import_once(void **state)
{
	struct diag d;
	char path[1200];
	(void)state;
	diag_init(&d);
	import_failure(&d, "no_layers_once", no_layers_json, path, sizeof path,
		       "num_hidden_layers");
	assert_int_equal(d.count, 1);
	diag_release(&d);
}

/* A checkpoint downloaded from the Hub is a directory holding config.json: it names the model. */
static void hfconfig_names_a_checkpoint_by_its_directory(void **state)
{
	char src[1200], dir[1200], json[1300], yaml[1600], text[8192];
	struct scenario *s;
	FILE *f;
	size_t n;
	(void)state;
	snprintf(src, sizeof src, "%s/tests/data/hf/mistral.json", check_srcdir());
	f = fopen(src, "rb");
	assert_non_null(f);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	snprintf(json, sizeof json, "%s/config.json", out_dir(dir, sizeof dir, "Mistral-7B-v0.1"));
	f = fopen(json, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	snprintf(yaml, sizeof yaml,
		 "model: %s\ncluster: {node: dgx-h100}\nworkload: {mode: infer, seq_len: 16}\n",
		 json);
	s = check_scenario("hf_mistral_dir", yaml);
	assert_string_equal(s->model.name, "Mistral-7B-v0.1");
	assert_int_equal(s->model.layers, 32);
	scenario_free(s);
}

/* tests/data/hf/mistral.json as text, with `head` spliced in after its opening brace. */
static void mistral_with(char *text, size_t size, const char *head)
{
	char src[1200], json[8192];
	size_t n;
	FILE *f;
	snprintf(src, sizeof src, "%s/tests/data/hf/mistral.json", check_srcdir());
	f = fopen(src, "rb");
	assert_non_null(f);
	n = fread(json, 1, sizeof json - 1, f);
	fclose(f);
	json[n] = '\0';
	assert_true(json[0] == '{');
	snprintf(text, size, "{%s%s", head, json + 1);
}

/* Write text to dir/config.json and load a scenario naming it by path. */
static struct scenario *load_config_in(const char *dir, const char *text)
{
	char json[1300], yaml[1600];
	FILE *f;
	snprintf(json, sizeof json, "%s/config.json", dir);
	f = fopen(json, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	snprintf(yaml, sizeof yaml,
		 "model: %s\ncluster: {node: dgx-h100}\nworkload: {mode: infer, seq_len: 16}\n",
		 json);
	return check_scenario("hf_named", yaml);
}

/* _name_or_path, the repository id transformers saved the config from, names the model before
 * its directory does; "" (a config built in memory) names nothing. */
static void hfconfig_names_a_model_by_name_or_path(void **state)
{
	char dir[1200], text[8192];
	struct scenario *s;
	(void)state;
	out_dir(dir, sizeof dir, "checkpoint-500");
	mistral_with(text, sizeof text, "\"_name_or_path\": \"mistralai/Mistral-7B-v0.1\",");
	s = load_config_in(dir, text);
	assert_string_equal(s->model.name, "mistralai/Mistral-7B-v0.1");
	scenario_free(s);
	/* Another directory: presets are cached by path for the life of the process. */
	out_dir(dir, sizeof dir, "checkpoint-600");
	mistral_with(text, sizeof text, "\"_name_or_path\": \"\",");
	s = load_config_in(dir, text);
	assert_string_equal(s->model.name, "checkpoint-600");
	scenario_free(s);
}

/* The HuggingFace cache keeps a snapshot as models--org--name/snapshots/REV/config.json, a link
 * to ../../blobs/HASH: the model is org/name, not REV nor blobs. */
static void hfconfig_names_a_cached_snapshot_by_its_repository(void **state)
{
	char repo[1200], dir[1300], blob[1400], link[1400], yaml[1600], text[8192];
	struct scenario *s;
	FILE *f;
	(void)state;
	out_dir(repo, sizeof repo, "models--mistralai--Mistral-7B-v0.1");
	snprintf(dir, sizeof dir, "%s/blobs", repo);
	mkdir(dir, 0777);
	snprintf(blob, sizeof blob, "%s/0123abcd", dir);
	mistral_with(text, sizeof text, "");
	f = fopen(blob, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	snprintf(dir, sizeof dir, "%s/snapshots", repo);
	mkdir(dir, 0777);
	snprintf(dir, sizeof dir, "%s/snapshots/26bca36b", repo);
	mkdir(dir, 0777);
	snprintf(link, sizeof link, "%s/config.json", dir);
	unlink(link);
	assert_int_equal(symlink("../../blobs/0123abcd", link), 0);
	snprintf(yaml, sizeof yaml,
		 "model: %s\ncluster: {node: dgx-h100}\nworkload: {mode: infer, seq_len: 16}\n",
		 link);
	s = check_scenario("hf_cached", yaml);
	assert_string_equal(s->model.name, "mistralai/Mistral-7B-v0.1");
	assert_int_equal(s->model.layers, 32);
	scenario_free(s);
}

/* Copy tests/data/hf/<fixture>.json to dir/config.json. */
static void put_config(const char *fixture, const char *dir)
{
	char src[1200], dst[1400], text[8192];
	FILE *f;
	size_t n;
	snprintf(src, sizeof src, "%s/tests/data/hf/%s.json", check_srcdir(), fixture);
	f = fopen(src, "rb");
	assert_non_null(f);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	snprintf(dst, sizeof dst, "%s/config.json", dir);
	f = fopen(dst, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A snapshot directory as users have it (save_pretrained, snapshot_download(local_dir=...)):
 * `model:` names the directory, its config.json is read and the directory names the model. */
static void hfconfig_reads_a_snapshot_directory(void **state)
{
	char dir[1200];
	struct scenario *s;
	(void)state;
	put_config("qwen3", out_dir(dir, sizeof dir, "Qwen3-8B"));
	s = check_scenariof("hf_snapshot_dir", "model: %s\ncluster: {node: dgx-h100}\n"
			    "workload: {mode: infer, seq_len: 16}\n", dir);
	assert_string_equal(s->model.name, "Qwen3-8B");
	assert_string_equal(s->model.arch, "qwen3");
	assert_int_equal(s->model.layers, 36);
	scenario_free(s);
	/* Relative to the scenario (tests/out/hf_snapshot_rel.yaml), with a trailing slash. */
	s = check_scenario("hf_snapshot_rel", "model: hf/Qwen3-8B/\ncluster: {node: dgx-h100}\n"
			   "workload: {mode: infer, seq_len: 16}\n");
	assert_string_equal(s->model.name, "Qwen3-8B");
	scenario_free(s);
	/* _name_or_path, when the config has one, names the model before the directory does. */
	put_config("phi3", out_dir(dir, sizeof dir, "phi-local"));
	s = check_scenariof("hf_snapshot_named", "model: %s\ncluster: {node: dgx-h100}\n"
			    "workload: {mode: infer, seq_len: 16}\n", dir);
	assert_string_equal(s->model.name, "Phi-3-mini-4k-instruct");
	scenario_free(s);
}

/* A snapshot directory inside the HuggingFace cache: models--org--name/snapshots/REV. */
static void hfconfig_names_a_cached_snapshot_directory_by_its_repository(void **state)
{
	char repo[1200], dir[1300];
	struct scenario *s;
	(void)state;
	out_dir(repo, sizeof repo, "models--Qwen--Qwen3-30B-A3B");
	snprintf(dir, sizeof dir, "%s/snapshots", repo);
	mkdir(dir, 0777);
	snprintf(dir, sizeof dir, "%s/snapshots/ad44e777", repo);
	mkdir(dir, 0777);
	put_config("qwen3_moe", dir);
	s = check_scenariof("hf_cached_dir", "model: %s\ncluster: {node: dgx-h100}\n"
			    "workload: {mode: infer, seq_len: 16}\n", dir);
	assert_string_equal(s->model.name, "Qwen/Qwen3-30B-A3B");
	assert_int_equal(s->model.moe.experts, 128);
	scenario_free(s);
}

/* A directory without config.json is not a snapshot: the error says what is missing. */
static void hfconfig_refuses_a_directory_without_config(void **state)
{
	char dir[1200], yaml[1600], path[1400];
	struct scenario *s;
	struct diag d;
	(void)state;
	out_dir(dir, sizeof dir, "empty-snapshot");
	snprintf(yaml, sizeof yaml, "model: %s\ncluster: {node: dgx-h100}\n"
		 "workload: {mode: infer, seq_len: 16}\n", dir);
	write_out(path, sizeof path, "empty_snapshot.yaml", yaml);
	diag_init(&d);
	s = scenario_load(path, NULL, &d);
	assert_null(s);
	assert_true(d.count >= 1);
	assert_non_null(strstr(d.items[0].message, "is a directory without a config.json"));
	diag_release(&d);
}

/* A config.json in the working directory, named ./config.json, takes the directory's name (it
 * was "."). */
static void hfconfig_names_a_config_in_the_working_directory(void **state)
{
	char cwd[4096], dir[1200], text[8192], data[4200];
	struct scenario_options o = {0};
	struct scenario *s;
	struct diag d;
	FILE *f;
	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	/* The presets, found from the other directory. */
	snprintf(data, sizeof data, "%s", check_srcdir());
	if (data[0] != '/')
		snprintf(data, sizeof data, "%s/%s", cwd, check_srcdir());
	o.data_dir = data;
	out_dir(dir, sizeof dir, "Mistral-Here");
	mistral_with(text, sizeof text, "");
	assert_int_equal(chdir(dir), 0);
	f = fopen("config.json", "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	f = fopen("here.yaml", "wb");
	assert_non_null(f);
	fputs("model: ./config.json\ncluster: {node: dgx-h100}\n"
	      "workload: {mode: infer, seq_len: 16}\n", f);
	assert_int_equal(fclose(f), 0);
	diag_init(&d);
	s = scenario_load("here.yaml", &o, &d);
	assert_int_equal(chdir(cwd), 0);
	diag_print(&d, stderr);
	assert_non_null(s);
	assert_string_equal(s->model.name, "Mistral-Here");
	scenario_free(s);
	diag_release(&d);
}

/* A null required field is as missing as an absent one. */
static void hfconfig_treats_a_null_field_as_missing(void **state)
{
	struct diag d;
	char path[1200], expected[2048], buf[2048];
	const struct diag_item *it;
	(void)state;
	diag_init(&d);
	it = import_failure(&d, "null_vocab",
			    "{\"model_type\": \"gpt2\", \"n_layer\": 12, \"n_embd\": 768, "
			    "\"n_head\": 12, \"n_positions\": 1024, \"vocab_size\": null}\n",
			    path, sizeof path, "vocab_size");
	snprintf(expected, sizeof expected,
		 "%s:1:1: vocab_size: the HuggingFace config lacks 'vocab_size'", path);
	assert_string_equal(diag_format(it, buf, sizeof buf), expected);
	diag_release(&d);
}

/* facebook/opt-350m projects 512-wide embeddings to hidden 1024 (project_in/project_out). */
static const char opt_350m_json[] =
	"{\n"
	"  \"activation_function\": \"relu\",\n"
	"  \"do_layer_norm_before\": false,\n"
	"  \"ffn_dim\": 4096,\n"
	"  \"hidden_size\": 1024,\n"
	"  \"max_position_embeddings\": 2048,\n"
	"  \"model_type\": \"opt\",\n"
	"  \"num_attention_heads\": 16,\n"
	"  \"num_hidden_layers\": 24,\n"
	"  \"vocab_size\": 50272,\n"
	"  \"word_embed_proj_dim\": 512\n"          /* line 11, the key at column 3 */
	"}\n";

static void hfconfig_rejects_opt_with_a_projected_embedding(void **state)
{
	struct diag d;
	char path[1200], expected[2048], buf[2048];
	const struct diag_item *it;
	(void)state;
	diag_init(&d);
	it = import_failure(&d, "opt_350m", opt_350m_json, path, sizeof path,
			    "word_embed_proj_dim");
	snprintf(expected, sizeof expected,
		 "%s:11:3: word_embed_proj_dim: OPT models with a projected embedding "
		 "(512 != hidden 1024) are not supported", path);
	assert_string_equal(diag_format(it, buf, sizeof buf), expected);
	diag_release(&d);
}

/* An imported value that fails validation is reported where it stands in config.json. */
static const char bad_kv_json[] =
	"{\n"
	"  \"hidden_size\": 4096,\n"
	"  \"intermediate_size\": 14336,\n"
	"  \"model_type\": \"mistral\",\n"
	"  \"num_attention_heads\": 32,\n"
	"  \"num_hidden_layers\": 32,\n"
	"  \"num_key_value_heads\": 12,\n"        /* line 7: 12 does not divide 32 */
	"  \"vocab_size\": 32000\n"
	"}\n";

static void hfconfig_points_a_bad_imported_value_into_the_json(void **state)
{
	struct diag d;
	char path[1200];
	const struct diag_item *it;
	(void)state;
	diag_init(&d);
	it = import_failure(&d, "bad_kv", bad_kv_json, path, sizeof path, "model.kv_heads");
	assert_string_equal(it->at.file, path);
	/* '  "num_key_value_heads": 12': the key fills columns 3-24, so 12 is at 26. */
	assert_int_equal(it->at.line, 7);
	assert_int_equal(it->at.col, 26);
	assert_string_equal(it->message, "must divide heads (32), got 12");
	diag_release(&d);
}

static void hfconfig_recognises_a_config_by_its_model_type(void **state)
{
	struct arena *a = arena_new();
	struct diag d;
	static const char *const hf = "{\"model_type\": \"llama\", \"hidden_size\": 4096}";
	static const char *const preset = "name: llama-3-8b\nlayers: 32\nhidden: 4096\n";
	static const char *const list = "[{\"model_type\": \"llama\"}]";
	(void)state;
	diag_init(&d);
	assert_true(hfconfig_is_hf(yamltree_parse(a, "config.json", hf, strlen(hf), &d)));
	assert_false(hfconfig_is_hf(yamltree_parse(a, "llama.yaml", preset, strlen(preset), &d)));
	assert_false(hfconfig_is_hf(yamltree_parse(a, "list.json", list, strlen(list), &d)));
	assert_int_equal(d.count, 0);
	diag_release(&d);
	arena_free(a);
}

/* Converted values keep the mark of their HF key; built ones the mark of the json's top. */
static void hfconfig_convert_keeps_the_json_marks(void **state)
{
	struct arena *a = arena_new();
	struct diag d;
	static const char json[] =
		"{\n"
		"  \"model_type\": \"gpt2\",\n"
		"  \"n_embd\": 768,\n"
		"  \"n_head\": 12,\n"
		"  \"n_layer\": 12,\n"
		"  \"n_positions\": 1024,\n"
		"  \"vocab_size\": 50257\n"
		"}\n";
	struct ynode *hf, *model;
	struct ymember *m;
	(void)state;
	diag_init(&d);
	hf = yamltree_parse(a, "gpt2/config.json", json, sizeof json - 1, &d);
	assert_non_null(hf);
	model = hfconfig_convert(a, hf, "gpt2", &d);
	assert_non_null(model);
	assert_int_equal(d.count, 0);
	assert_string_equal(yamltree_get(model, "name")->value, "gpt2");
	assert_string_equal(yamltree_get(model, "arch")->value, "gpt2");
	/* '  "n_embd": 768' is line 3: the key at column 3, the value at 13. */
	m = yamltree_member(model, "hidden");
	assert_string_equal(m->value->value, "768");
	assert_string_equal(m->key_at.file, "gpt2/config.json");
	assert_int_equal(m->key_at.line, 3);
	assert_int_equal(m->key_at.col, 3);
	assert_int_equal(m->value->at.line, 3);
	assert_int_equal(m->value->at.col, 13);
	assert_string_equal(yamltree_get(model, "mlp")->value, "gelu");
	assert_string_equal(yamltree_get(model, "norm")->value, "layernorm");
	assert_string_equal(yamltree_get(model, "position")->value, "learned");
	assert_string_equal(yamltree_get(model, "tie_embeddings")->value, "true");
	assert_int_equal(yamltree_get(model, "mlp")->at.line, 1);
	/* No n_inner: ffn is left to the 4*hidden default. */
	assert_null(yamltree_get(model, "ffn"));
	diag_release(&d);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hfconfig_imports_llama_as_published),
		cmocka_unit_test(hfconfig_imports_qwen2_as_published),
		cmocka_unit_test(hfconfig_imports_mistral_as_published),
		cmocka_unit_test(hfconfig_imports_mixtral_as_published),
		cmocka_unit_test(hfconfig_imports_deepseek_v2_as_published),
		cmocka_unit_test(hfconfig_imports_deepseek_v3_as_published),
		cmocka_unit_test(hfconfig_reads_mtp_and_expert_group_limits),
		cmocka_unit_test(hfconfig_imports_gpt2_as_published),
		cmocka_unit_test(hfconfig_imports_opt_as_published),
		cmocka_unit_test(hfconfig_gpt2_has_hugging_faces_parameter_count),
		cmocka_unit_test(hfconfig_opt_13b_counts_the_two_offset_positions),
		cmocka_unit_test(hfconfig_llama_mistral_and_qwen2_count_by_hand),
		cmocka_unit_test(hfconfig_mixtral_counts_experts_and_active_experts),
		cmocka_unit_test(hfconfig_deepseek_counts_latent_attention_and_experts),
		cmocka_unit_test(hfconfig_imports_qwen3_as_published),
		cmocka_unit_test(hfconfig_imports_qwen3_moe_as_published),
		cmocka_unit_test(hfconfig_imports_gemma2_as_published),
		cmocka_unit_test(hfconfig_imports_gemma3_as_published),
		cmocka_unit_test(hfconfig_imports_llama4_as_published),
		cmocka_unit_test(hfconfig_imports_phi3_as_published),
		cmocka_unit_test(hfconfig_qwen3_has_its_model_cards_count),
		cmocka_unit_test(hfconfig_qwen3_moe_counts_128_experts_and_8_active),
		cmocka_unit_test(hfconfig_gemma2_has_its_reports_count),
		cmocka_unit_test(hfconfig_imports_sliding_windows),
		cmocka_unit_test(hfconfig_imports_llama4_chunked_attention),
		cmocka_unit_test(hfconfig_gemma3_imports_its_text_model),
		cmocka_unit_test(hfconfig_llama4_imports_its_text_model),
		cmocka_unit_test(hfconfig_phi3_counts_fused_projections_as_separate),
		cmocka_unit_test(hfconfig_rejects_an_unsupported_model_type_listing_the_supported),
		cmocka_unit_test(hfconfig_reports_a_missing_field_at_the_top_of_the_json),
		cmocka_unit_test(hfconfig_reports_a_failed_import_once),
		cmocka_unit_test(hfconfig_names_a_checkpoint_by_its_directory),
		cmocka_unit_test(hfconfig_names_a_model_by_name_or_path),
		cmocka_unit_test(hfconfig_names_a_cached_snapshot_by_its_repository),
		cmocka_unit_test(hfconfig_names_a_config_in_the_working_directory),
		cmocka_unit_test(hfconfig_reads_a_snapshot_directory),
		cmocka_unit_test(hfconfig_names_a_cached_snapshot_directory_by_its_repository),
		cmocka_unit_test(hfconfig_refuses_a_directory_without_config),
		cmocka_unit_test(hfconfig_treats_a_null_field_as_missing),
		cmocka_unit_test(hfconfig_rejects_opt_with_a_projected_embedding),
		cmocka_unit_test(hfconfig_points_a_bad_imported_value_into_the_json),
		cmocka_unit_test(hfconfig_recognises_a_config_by_its_model_type),
		cmocka_unit_test(hfconfig_convert_keeps_the_json_marks),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
