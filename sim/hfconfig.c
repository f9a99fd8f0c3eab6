/*
 * hfconfig: HuggingFace config.json -> dssim model mapping. Input stage.
 * Field names follow each architecture's configuration_*.py in huggingface/transformers
 * (LlamaConfig, Qwen2Config, MistralConfig, MixtralConfig, GPT2Config, OPTConfig, Qwen3Config,
 * Qwen3MoeConfig, Gemma2Config, Gemma3TextConfig, Llama4TextConfig, Phi3Config) and the
 * DeepSeek-V2/V3 repositories' configuration_deepseek.py. Every copied value keeps the mark of
 * its HF key, so an error in an imported value points into config.json. Gemma 3 and Llama 4
 * checkpoints are multimodal: their language model is the `text_config` mapping, imported here;
 * the vision tower is not part of dssim's model. Sliding windows come in as model.sliding_window
 * and model.global_every (import_window), Llama 4's chunked attention (attention_chunk_size) as
 * model.attention_chunk and global_every; Qwen2's optional use_sliding_window is imported as full
 * attention.
 */
#include "hfconfig.h"

#include <stdio.h>
#include <string.h>

struct arch {
	const char *model_type;
	const char *mlp;           /* when hidden_act says nothing more precise */
	const char *norm;
	const char *position;
	bool tied_default;         /* tie_word_embeddings default in the config class */
	bool bias;
	bool qkv_bias;
};

/* Defaults from each *Config class: Llama/Mistral/Qwen2/Mixtral/DeepSeek untie by default except
 * Qwen2 (tie_word_embeddings=False too); GPT-2 and OPT tie and use biases everywhere. */
static const struct arch arches[] = {
	{"llama", "swiglu", "rmsnorm", "rope", false, false, false},
	{"mistral", "swiglu", "rmsnorm", "rope", false, false, false},
	{"qwen2", "swiglu", "rmsnorm", "rope", false, false, true},
	{"mixtral", "swiglu", "rmsnorm", "rope", false, false, false},
	{"deepseek_v2", "swiglu", "rmsnorm", "rope", false, false, false},
	{"deepseek_v3", "swiglu", "rmsnorm", "rope", false, false, false},
	{"gpt2", "gelu", "layernorm", "learned", true, true, false},
	{"opt", "relu", "layernorm", "learned", true, true, false},
	/* Qwen3Config/Qwen3MoeConfig: untied by default, no QKV bias (attention_bias=False). */
	{"qwen3", "swiglu", "rmsnorm", "rope", false, false, false},
	{"qwen3_moe", "swiglu", "rmsnorm", "rope", false, false, false},
	/* Gemma2Config/Gemma3TextConfig: gated GELU (gelu_pytorch_tanh), tied embeddings. */
	{"gemma2", "swiglu", "rmsnorm", "rope", true, false, false},
	{"gemma3", "swiglu", "rmsnorm", "rope", true, false, false},
	{"gemma3_text", "swiglu", "rmsnorm", "rope", true, false, false},
	/* Llama4TextConfig: untied (Llama4ForConditionalGeneration keeps its own lm_head). */
	{"llama4", "swiglu", "rmsnorm", "rope", false, false, false},
	{"llama4_text", "swiglu", "rmsnorm", "rope", false, false, false},
	/* Phi3Config: fused qkv_proj and gate_up_proj hold the same weights as separate ones. */
	{"phi3", "swiglu", "rmsnorm", "rope", false, false, false},
};

#define SUPPORTED "llama, qwen2, qwen3, qwen3_moe, mistral, mixtral, deepseek_v2, deepseek_v3, " \
	"gemma2, gemma3, gemma3_text, llama4, llama4_text, phi3, gpt2, opt"

bool hfconfig_is_hf(const struct ynode *root)
{
	return root->kind == YNODE_MAP && yamltree_get(root, "model_type") != NULL;
}

struct conv {
	struct arena *a;
	const struct ynode *hf;
	struct ynode *out;
	struct diag *d;
};

/* A field that is absent or null counts as not given. */
static bool is_null(const struct ynode *v)
{
	return v == NULL || yamltree_is_null(v);
}

static struct ynode *section(struct conv *c, const char *name)
{
	struct ynode *s = yamltree_get(c->out, name);
	if (s == NULL) {
		s = yamltree_new_map(c->a, c->hf->at);
		yamltree_map_set(c->a, c->out, name, c->hf->at, s);
	}
	return s;
}

/* Copy HF field `from` (if present and not null) to `to` ("layers" or "moe.top_k"). */
static bool copy(struct conv *c, const char *from, const char *to)
{
	struct ymember *m = yamltree_member(c->hf, from);
	const char *dot = strchr(to, '.');
	struct ynode *target = c->out;
	if (m == NULL || is_null(m->value))
		return false;
	if (dot != NULL) {
		char part[64];
		snprintf(part, sizeof part, "%.*s", (int)(dot - to), to);
		target = section(c, part);
		to = dot + 1;
	}
	yamltree_map_set(c->a, target, to, m->key_at, m->value);
	return true;
}

static void put(struct conv *c, const char *key, const char *text)
{
	yamltree_map_set(c->a, c->out, key, c->hf->at, yamltree_new_scalar(c->a, c->hf->at, text));
}

static const char *text_of(const struct conv *c, const char *key)
{
	const struct ynode *v = yamltree_get(c->hf, key);
	return (v != NULL && v->kind == YNODE_SCALAR && !is_null(v)) ? v->value : NULL;
}

static void require(struct conv *c, const char *from, const char *to)
{
	if (!copy(c, from, to))
		diag_add(c->d, c->hf->at, from, "the HuggingFace config lacks '%s'", from);
}

static void convert_activation(struct conv *c, const struct arch *ar, const char *key)
{
	const char *act = text_of(c, key);
	if (act == NULL) {
		put(c, "mlp", ar->mlp);
	} else if (strcmp(ar->mlp, "swiglu") == 0 && (strcmp(act, "silu") == 0 ||
						       strcmp(act, "swish") == 0)) {
		put(c, "mlp", "swiglu");
	} else if (strncmp(act, "gelu", 4) == 0) {
		put(c, "mlp", strcmp(ar->mlp, "swiglu") == 0 ? "swiglu" : "gelu");
	} else if (strcmp(act, "relu") == 0) {
		put(c, "mlp", "relu");
	} else {
		put(c, "mlp", ar->mlp);
	}
}

static void convert_common(struct conv *c, const struct arch *ar)
{
	put(c, "norm", ar->norm);
	put(c, "position", ar->position);
	put(c, "bias", ar->bias ? "true" : "false");
	put(c, "qkv_bias", ar->qkv_bias ? "true" : "false");
	put(c, "tie_embeddings", ar->tied_default ? "true" : "false");
	copy(c, "tie_word_embeddings", "tie_embeddings");
	copy(c, "attention_bias", "qkv_bias");
}

static void convert_llama_like(struct conv *c, const struct arch *ar)
{
	convert_common(c, ar);
	require(c, "num_hidden_layers", "layers");
	require(c, "hidden_size", "hidden");
	require(c, "num_attention_heads", "heads");
	copy(c, "num_key_value_heads", "kv_heads");
	copy(c, "head_dim", "head_dim");
	require(c, "intermediate_size", "ffn");
	/* A class default put before (Gemma 3's text_config) stands in for an absent field. */
	if (yamltree_get(c->out, "vocab") == NULL)
		require(c, "vocab_size", "vocab");
	else
		copy(c, "vocab_size", "vocab");
	copy(c, "max_position_embeddings", "max_position");
	convert_activation(c, ar, "hidden_act");
}

static void convert_mixtral(struct conv *c, const struct arch *ar)
{
	convert_llama_like(c, ar);
	require(c, "num_local_experts", "moe.experts");
	require(c, "num_experts_per_tok", "moe.top_k");
	require(c, "intermediate_size", "moe.ffn");
}

static void convert_deepseek(struct conv *c, const struct arch *ar)
{
	convert_llama_like(c, ar);
	if (!copy(c, "q_lora_rank", "mla.q_lora_rank"))
		yamltree_map_set(c->a, section(c, "mla"), "q_lora_rank", c->hf->at,
				 yamltree_new_scalar(c->a, c->hf->at, "0"));
	require(c, "kv_lora_rank", "mla.kv_lora_rank");
	require(c, "qk_nope_head_dim", "mla.qk_nope_head_dim");
	require(c, "qk_rope_head_dim", "mla.qk_rope_head_dim");
	require(c, "v_head_dim", "mla.v_head_dim");
	if (copy(c, "n_routed_experts", "moe.experts")) {
		copy(c, "n_shared_experts", "moe.shared_experts");
		require(c, "num_experts_per_tok", "moe.top_k");
		require(c, "moe_intermediate_size", "moe.ffn");
		copy(c, "first_k_dense_replace", "moe.dense_layers");
		copy(c, "n_group", "moe.n_group");
		copy(c, "topk_group", "moe.topk_group");
	}
	copy(c, "num_nextn_predict_layers", "mtp_layers");
}

/* An integer field's value, or fallback when absent or not an integer. */
static long long int_of(const struct conv *c, const char *key, long long fallback)
{
	const char *t = text_of(c, key);
	long long n;
	char end;
	return t != NULL && sscanf(t, "%lld%c", &n, &end) == 1 ? n : fallback;
}

/*
 * Sliding-window attention: MistralConfig/MixtralConfig window every layer (sliding_window, null
 * for none); Gemma2 alternates, layer i windowed when i is even (modeling_gemma2.py is_sliding),
 * so every 2nd layer is global; Gemma 3 windows all but every sliding_window_pattern-th layer
 * (Gemma3TextConfig, default 6).
 */
static void import_window(struct conv *c, const char *type)
{
	char text[32];
	bool gemma3 = strncmp(type, "gemma3", 6) == 0;
	/* Llama4TextConfig: chunked attention of attention_chunk_size tokens on the RoPE layers,
	 * every no_rope_layer_interval-th layer (default 4) global without RoPE (no_rope_layers
	 * 0 there; modeling_llama4.py). */
	if (strncmp(type, "llama4", 6) == 0) {
		if (copy(c, "attention_chunk_size", "attention_chunk")) {
			snprintf(text, sizeof text, "%lld", int_of(c, "no_rope_layer_interval", 4));
			put(c, "global_every", text);
		}
		return;
	}
	if (strcmp(type, "mistral") != 0 && strcmp(type, "mixtral") != 0 &&
	    strcmp(type, "gemma2") != 0 && !gemma3)
		return;
	if (!copy(c, "sliding_window", "sliding_window"))
		return;
	if (strcmp(type, "gemma2") == 0) {
		put(c, "global_every", "2");
	} else if (gemma3) {
		snprintf(text, sizeof text, "%lld", int_of(c, "sliding_window_pattern", 6));
		put(c, "global_every", text);
	}
}

static void refuse(struct conv *c, const char *key, const char *why)
{
	const struct ymember *m = yamltree_member(c->hf, key);
	diag_add(c->d, m ? m->key_at : c->hf->at, key, "%s", why);
}

/*
 * Qwen3-MoE (modeling_qwen3_moe.py, Qwen3MoeDecoderLayer): layer i has the sparse block when it
 * is not in mlp_only_layers and (i + 1) % decoder_sparse_step == 0, else a dense MLP of
 * intermediate_size. dssim's layers are dense first, then MoE: mlp_only_layers = [0, k) with a
 * step of 1 is moe.dense_layers = k; other patterns are refused.
 */
static void convert_qwen3_moe(struct conv *c, const struct arch *ar)
{
	const struct ynode *only = yamltree_get(c->hf, "mlp_only_layers");
	convert_llama_like(c, ar);
	require(c, "num_experts", "moe.experts");
	require(c, "num_experts_per_tok", "moe.top_k");
	require(c, "moe_intermediate_size", "moe.ffn");
	if (int_of(c, "decoder_sparse_step", 1) != 1)
		refuse(c, "decoder_sparse_step", "decoder_sparse_step other than 1 (MoE layers "
		       "interleaved with dense ones) is not supported");
	if (only != NULL && !is_null(only)) {
		size_t i;
		bool prefix = only->kind == YNODE_SEQ;
		for (i = 0; prefix && i < only->count; i++) {
			long long n;
			char end;
			prefix = only->items[i]->kind == YNODE_SCALAR &&
				 sscanf(only->items[i]->value, "%lld%c", &n, &end) == 1 &&
				 n == (long long)i;
		}
		if (!prefix) {
			refuse(c, "mlp_only_layers", "mlp_only_layers other than the first layers "
			       "[0, 1, ..., k-1] is not supported");
		} else if (only->count > 0) {
			char buf[32];
			snprintf(buf, sizeof buf, "%zu", only->count);
			yamltree_map_set(c->a, section(c, "moe"), "dense_layers",
					 yamltree_member(c->hf, "mlp_only_layers")->key_at,
					 yamltree_new_scalar(c->a, only->at, buf));
		}
	}
}

/*
 * Gemma 2 and 3 (modeling_gemma2.py, modeling_gemma3.py): a Llama layer with head_dim set apart
 * from hidden/heads and gelu_pytorch_tanh gating (hidden_activation). Gemma3TextConfig's
 * defaults apply to what a checkpoint's text_config leaves out: vocab_size 262,208 and
 * max_position_embeddings 131,072.
 */
static void convert_gemma(struct conv *c, const struct arch *ar)
{
	bool v3 = strncmp(ar->model_type, "gemma3", 6) == 0;
	if (v3 && yamltree_get(c->hf, "vocab_size") == NULL)
		put(c, "vocab", "262208");
	if (v3 && yamltree_get(c->hf, "max_position_embeddings") == NULL)
		put(c, "max_position", "131072");
	convert_llama_like(c, ar);
	if (text_of(c, "hidden_activation") != NULL)
		convert_activation(c, ar, "hidden_activation");
}

/*
 * Llama 4 text (modeling_llama4.py, Llama4TextMoe): routed experts of intermediate_size, one
 * shared expert of the same width, and dense layers of intermediate_size_mlp. Layer i is MoE
 * when (i + 1) % interleave_moe_layer_step == 0 (Scout: step 1, every layer); dssim cannot
 * interleave dense and MoE layers, so another step is refused.
 */
static void convert_llama4(struct conv *c, const struct arch *ar)
{
	convert_llama_like(c, ar);
	require(c, "intermediate_size_mlp", "ffn");
	require(c, "num_local_experts", "moe.experts");
	require(c, "num_experts_per_tok", "moe.top_k");
	require(c, "intermediate_size", "moe.ffn");
	yamltree_map_set(c->a, section(c, "moe"), "shared_experts", c->hf->at,
			 yamltree_new_scalar(c->a, c->hf->at, "1"));
	if (int_of(c, "interleave_moe_layer_step", 1) != 1)
		refuse(c, "interleave_moe_layer_step", "interleave_moe_layer_step other than 1 "
		       "(MoE layers interleaved with dense ones, as in Llama 4 Maverick) is not "
		       "supported");
}

static void convert_gpt2(struct conv *c, const struct arch *ar)
{
	convert_common(c, ar);
	require(c, "n_layer", "layers");
	require(c, "n_embd", "hidden");
	require(c, "n_head", "heads");
	copy(c, "n_inner", "ffn");
	require(c, "vocab_size", "vocab");
	require(c, "n_positions", "max_position");
	convert_activation(c, ar, "activation_function");
	put(c, "dropout", "true");
}

static void convert_opt(struct conv *c, const struct arch *ar)
{
	const char *proj = text_of(c, "word_embed_proj_dim");
	const char *hidden = text_of(c, "hidden_size");
	convert_common(c, ar);
	require(c, "num_hidden_layers", "layers");
	require(c, "hidden_size", "hidden");
	require(c, "num_attention_heads", "heads");
	require(c, "ffn_dim", "ffn");
	require(c, "vocab_size", "vocab");
	copy(c, "enable_bias", "bias");
	convert_activation(c, ar, "activation_function");
	put(c, "dropout", "true");
	/* OPTLearnedPositionalEmbedding keeps max_position_embeddings + 2 rows (offset 2). */
	{
		const struct ymember *m = yamltree_member(c->hf, "max_position_embeddings");
		if (m != NULL && m->value->kind == YNODE_SCALAR) {
			long long n = 0;
			char buf[32];
			if (sscanf(m->value->value, "%lld", &n) == 1 && n > 0 && n < (1LL << 40)) {
				snprintf(buf, sizeof buf, "%lld", n + 2);
				yamltree_map_set(c->a, c->out, "max_position", m->key_at,
						 yamltree_new_scalar(c->a, m->value->at, buf));
			}
		}
	}
	if (proj != NULL && hidden != NULL && strcmp(proj, hidden) != 0)
		diag_add(c->d, yamltree_member(c->hf, "word_embed_proj_dim")->key_at,
			 "word_embed_proj_dim", "OPT models with a projected embedding (%s != hidden %s) "
			 "are not supported", proj, hidden);
}

struct ynode *hfconfig_convert(struct arena *a, const struct ynode *hf, const char *name,
			       struct diag *d)
{
	struct conv c = {a, hf, NULL, d};
	const struct ymember *mt = yamltree_member(hf, "model_type");
	const char *named;
	const char *type = mt && mt->value->kind == YNODE_SCALAR ? mt->value->value : "";
	const struct arch *ar = NULL;
	size_t i, before = d->count;

	for (i = 0; i < sizeof arches / sizeof arches[0]; i++)
		if (strcmp(arches[i].model_type, type) == 0)
			ar = &arches[i];
	if (ar == NULL) {
		diag_add(d, mt ? mt->value->at : hf->at, "model_type",
			 "unsupported HuggingFace model_type '%s' (supported: " SUPPORTED ")", type);
		return NULL;
	}
	c.out = yamltree_new_map(a, hf->at);
	/* transformers writes the repository id it loaded from as _name_or_path; "" for a config
	 * built in memory, which names nothing. */
	named = text_of(&c, "_name_or_path");
	if (named != NULL && named[0] != '\0')
		copy(&c, "_name_or_path", "name");
	else
		put(&c, "name", name);
	yamltree_map_set(a, c.out, "arch", mt->key_at, mt->value);
	/* Gemma 3 and Llama 4 checkpoints wrap their language model in text_config. */
	if (strcmp(type, "gemma3") == 0 || strcmp(type, "llama4") == 0) {
		const struct ynode *text = yamltree_get(hf, "text_config");
		if (text != NULL && text->kind == YNODE_MAP)
			c.hf = text;
	}
	if (strcmp(type, "mixtral") == 0)
		convert_mixtral(&c, ar);
	else if (strncmp(type, "deepseek", 8) == 0)
		convert_deepseek(&c, ar);
	else if (strcmp(type, "gpt2") == 0)
		convert_gpt2(&c, ar);
	else if (strcmp(type, "opt") == 0)
		convert_opt(&c, ar);
	else if (strcmp(type, "qwen3_moe") == 0)
		convert_qwen3_moe(&c, ar);
	else if (strncmp(type, "gemma", 5) == 0)
		convert_gemma(&c, ar);
	else if (strncmp(type, "llama4", 6) == 0)
		convert_llama4(&c, ar);
	else
		convert_llama_like(&c, ar);
	import_window(&c, type);
	return d->count > before ? NULL : c.out;
}
