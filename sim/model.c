/*
 * model: per-tensor transformer arithmetic. Domain stage; reads struct model_config only.
 * Parameter shapes follow the HuggingFace modeling files of each family (LlamaAttention/LlamaMLP,
 * Qwen2 QKV biases, MixtralSparseMoeBlock, DeepseekV2/V3 MLA and MoE, GPT-2/OPT with biases and
 * learned positions); Megatron's eq. 2 (Narayanan et al. 2021) is the special case of a GPT layer:
 * 12h^2 + 13h parameters.
 */
#include "model.h"

#include "collective.h"

#include <math.h>
#include <string.h>

static bool arch_is(const struct model_config *m, const char *const *names)
{
	for (; *names != NULL; names++)
		if (m->arch != NULL && strcmp(m->arch, *names) == 0)
			return true;
	return false;
}

/* Qwen3 and Gemma 3 normalise queries and keys per head with an RMSNorm of head_dim weights
 * (Qwen3Attention.q_norm/k_norm, Gemma3Attention.q_norm/k_norm). */
static bool has_qk_norm(const struct model_config *m)
{
	static const char *const names[] = {"qwen3", "qwen3_moe", "gemma3", "gemma3_text", NULL};
	return arch_is(m, names);
}

/* Gemma 2 and 3 also norm each block's output (post_attention_layernorm,
 * post_feedforward_layernorm in Gemma2DecoderLayer/Gemma3DecoderLayer): four norms a layer. */
static bool has_sandwich_norm(const struct model_config *m)
{
	static const char *const names[] = {"gemma2", "gemma3", "gemma3_text", NULL};
	return arch_is(m, names);
}

static void emit(model_tensor_fn fn, void *ctx, const char *name, int64_t rows, int64_t cols,
		 int64_t count, int group, bool tp_split)
{
	struct model_tensor t = {name, rows, cols, count, group, tp_split, false, false};
	if (rows > 0 && cols > 0 && count > 0)
		fn(ctx, &t);
}

/* A row-parallel tensor: the attention output and the MLP's down projection, split along their
 * input (Megatron's RowParallelLinear). */
static void emit_row(model_tensor_fn fn, void *ctx, const char *name, int64_t rows, int64_t cols,
		     int64_t count, int group)
{
	struct model_tensor t = {name, rows, cols, count, group, true, true, false};
	if (rows > 0 && cols > 0 && count > 0)
		fn(ctx, &t);
}

/* A tensor multiplied together with the next one (same input), as frameworks fuse them. */
static void emit_fused(model_tensor_fn fn, void *ctx, const char *name, int64_t rows,
		       int64_t cols, int64_t count, int group, bool tp_split)
{
	struct model_tensor t = {name, rows, cols, count, group, tp_split, false, true};
	if (rows > 0 && cols > 0 && count > 0)
		fn(ctx, &t);
}

bool model_is_mla(const struct model_config *m)
{
	return m->mla.kv_lora_rank > 0;
}

int64_t model_windowed_layers(const struct model_config *m)
{
	if (m->sliding_window <= 0 && m->attention_chunk <= 0)
		return 0;
	return m->global_every > 0 ? m->layers - m->layers / m->global_every : m->layers;
}

/*
 * Chunked attention (Llama 4: modeling_llama4.py's chunked causal mask; vLLM's
 * ChunkedLocalAttention): the query at position j (from 1) sees the ((j - 1) mod C) + 1 keys of
 * its own chunk of C tokens up to itself. The pairs of positions 1 .. x: floor(x/C) whole chunks
 * of C(C+1)/2 and r(r+1)/2 for the r = x mod C left over.
 */
static double chunk_pairs_upto(double x, double chunk)
{
	double q = floor(x / chunk), r = x - q * chunk;
	return q * chunk * (chunk + 1) / 2 + r * (r + 1) / 2;
}

double model_attention_share(const struct model_config *m, double s)
{
	double w = (double)m->sliding_window, full = s * (s + 1) / 2, local;
	int64_t n = model_windowed_layers(m);
	if (m->attention_chunk > 0) {
		if (n == 0 || s <= (double)m->attention_chunk || full <= 0)
			return 1.0;
		local = chunk_pairs_upto(s, (double)m->attention_chunk);
	} else {
		if (n == 0 || s <= w || full <= 0)
			return 1.0;
		local = w * (w + 1) / 2 + (s - w) * w;
	}
	return ((double)(m->layers - n) * full + (double)n * local) / ((double)m->layers * full);
}

double model_attention_share_packed(const struct model_config *m, double s, double doc)
{
	if (doc <= 0 || doc >= s)
		return model_attention_share(m, s);
	return model_attention_share(m, doc) * (doc + 1) / (s + 1);
}

/* Sum of min(k, w) for k = a .. a + n - 1 (a >= 1). */
static double capped_sum(double a, double n, double w)
{
	double last = a + n - 1;
	if (last <= w)
		return n * (a + last) / 2;
	if (a >= w)
		return n * w;
	return w * (w + 1) / 2 - (a - 1) * a / 2 + (last - w) * w;
}

double model_chunk_pairs(const struct model_config *m, double c, double n)
{
	double full = n * c + n * (n + 1) / 2, local;
	int64_t k = model_windowed_layers(m);
	if (k == 0 || n <= 0)
		return full;
	if (m->attention_chunk > 0)
		local = chunk_pairs_upto(c + n, (double)m->attention_chunk) -
			chunk_pairs_upto(c, (double)m->attention_chunk);
	else
		local = capped_sum(c + 1, n, (double)m->sliding_window);
	return ((double)(m->layers - k) * full + (double)k * local) / (double)m->layers;
}

double model_context_tokens(const struct model_config *m, double ctx)
{
	int64_t k = model_windowed_layers(m);
	double local;
	if (k == 0)
		return ctx;
	/* A chunked layer keeps the tokens of the current chunk only (vLLM's chunked local
	 * attention frees the blocks before the chunk's start). */
	if (m->attention_chunk > 0)
		local = ctx - floor(ctx / (double)m->attention_chunk) * (double)m->attention_chunk;
	else
		local = fmin(ctx, (double)m->sliding_window);
	return ((double)(m->layers - k) * ctx + (double)k * local) / (double)m->layers;
}

double model_held_tokens(const struct model_config *m, double ctx)
{
	int64_t k = model_windowed_layers(m);
	if (k == 0 || m->attention_chunk <= 0)
		return model_context_tokens(m, ctx);
	return ((double)(m->layers - k) * ctx + (double)k * fmin(ctx, (double)m->attention_chunk)) /
	       (double)m->layers;
}

bool model_is_moe(const struct model_config *m)
{
	return m->moe.experts > 0;
}

void model_moe_route(const struct scenario *s, double copies, struct moe_route *r)
{
	const struct model_config *m = &s->model;
	r->copies = copies;
	r->top_k = m->moe.top_k;
	r->experts = m->moe.experts;
	r->n_group = m->moe.n_group;
	r->topk_group = m->moe.topk_group;
	/* auto: DeepSeek's dispatch (V3 report sec. 3.2.2) for its group-limited routing. */
	r->dedup = s->strategy.moe_dispatcher == MOE_DISPATCH_DEEPEP ||
		   (s->strategy.moe_dispatcher == MOE_DISPATCH_AUTO &&
		    collective_route_group_limited(r));
}

enum layer_kind model_layer_kind(const struct model_config *m, int64_t i)
{
	return model_is_moe(m) && i >= m->moe.dense_layers ? LAYER_MOE : LAYER_DENSE;
}

int64_t model_layers_of_kind(const struct model_config *m, enum layer_kind kind)
{
	int64_t i, n = 0;
	for (i = 0; i < m->layers; i++)
		n += model_layer_kind(m, i) == kind;
	return n;
}

static void norm_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx,
			 const char *name, int64_t width)
{
	emit(fn, ctx, name, 1, width, 1, TENSOR_NORM, false);
	if (m->norm == NORM_LAYERNORM)
		emit(fn, ctx, name, 1, width, 1, TENSOR_NORM, false);
}

static void attention_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx)
{
	int64_t h = m->hidden, a = m->heads;
	if (model_is_mla(m)) {
		/* DeepSeek-V2 report sec. 2.1.2: low-rank query and joint key/value compression;
		 * the down projections are replicated across TP ranks, the up projections split. */
		int64_t qk = m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim;
		if (m->mla.q_lora_rank > 0) {
			emit(fn, ctx, "q_a_proj", m->mla.q_lora_rank, h, 1, TENSOR_ATTN, false);
			norm_tensors(m, fn, ctx, "q_a_norm", m->mla.q_lora_rank);
			emit(fn, ctx, "q_b_proj", a * qk, m->mla.q_lora_rank, 1, TENSOR_ATTN, true);
		} else {
			emit(fn, ctx, "q_proj", a * qk, h, 1, TENSOR_ATTN, true);
		}
		emit(fn, ctx, "kv_a_proj", m->mla.kv_lora_rank + m->mla.qk_rope_head_dim, h, 1,
		     TENSOR_ATTN, false);
		norm_tensors(m, fn, ctx, "kv_a_norm", m->mla.kv_lora_rank);
		emit(fn, ctx, "kv_b_proj", a * (m->mla.qk_nope_head_dim + m->mla.v_head_dim),
		     m->mla.kv_lora_rank, 1, TENSOR_ATTN, true);
		emit_row(fn, ctx, "o_proj", h, a * m->mla.v_head_dim, 1, TENSOR_ATTN);
		return;
	}
	{
		int64_t q = a * m->head_dim, kv = m->kv_heads * m->head_dim;
		emit_fused(fn, ctx, "q_proj", q, h, 1, TENSOR_ATTN, true);
		emit_fused(fn, ctx, "k_proj", kv, h, 1, TENSOR_ATTN, true);
		emit(fn, ctx, "v_proj", kv, h, 1, TENSOR_ATTN, true);
		if (m->bias || m->qkv_bias) {
			emit(fn, ctx, "q_bias", 1, q, 1, TENSOR_ATTN, true);
			emit(fn, ctx, "k_bias", 1, kv, 1, TENSOR_ATTN, true);
			emit(fn, ctx, "v_bias", 1, kv, 1, TENSOR_ATTN, true);
		}
		emit_row(fn, ctx, "o_proj", h, q, 1, TENSOR_ATTN);
		if (has_qk_norm(m)) {
			norm_tensors(m, fn, ctx, "q_norm", m->head_dim);
			norm_tensors(m, fn, ctx, "k_norm", m->head_dim);
		}
		if (m->bias)
			emit(fn, ctx, "o_bias", 1, h, 1, TENSOR_ATTN, false);
	}
}

/* A feed-forward block of width ffn; SwiGLU (Shazeer 2020) has gate, up and down matrices. */
static void mlp_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx, int64_t ffn,
			int64_t count, int group)
{
	int64_t h = m->hidden;
	if (m->mlp == MLP_SWIGLU) {
		emit_fused(fn, ctx, "gate_proj", ffn, h, count, group, true);
		emit(fn, ctx, "up_proj", ffn, h, count, group, true);
		emit_row(fn, ctx, "down_proj", h, ffn, count, group);
		if (m->bias) {
			emit(fn, ctx, "gate_bias", 1, ffn, count, group, true);
			emit(fn, ctx, "up_bias", 1, ffn, count, group, true);
		}
	} else {
		emit(fn, ctx, "fc1", ffn, h, count, group, true);
		emit_row(fn, ctx, "fc2", h, ffn, count, group);
		if (m->bias)
			emit(fn, ctx, "fc1_bias", 1, ffn, count, group, true);
	}
	if (m->bias)
		emit(fn, ctx, "down_bias", 1, h, count, group, false);
}

void model_layer_tensors(const struct model_config *m, enum layer_kind kind, model_tensor_fn fn,
			 void *ctx)
{
	norm_tensors(m, fn, ctx, "attn_norm", m->hidden);
	attention_tensors(m, fn, ctx);
	norm_tensors(m, fn, ctx, "mlp_norm", m->hidden);
	if (has_sandwich_norm(m)) {
		norm_tensors(m, fn, ctx, "attn_out_norm", m->hidden);
		norm_tensors(m, fn, ctx, "mlp_out_norm", m->hidden);
	}
	if (kind == LAYER_DENSE) {
		mlp_tensors(m, fn, ctx, m->ffn, 1, TENSOR_MLP);
		return;
	}
	emit(fn, ctx, "router", m->moe.experts, m->hidden, 1, TENSOR_ROUTER, false);
	mlp_tensors(m, fn, ctx, m->moe.ffn, m->moe.experts, TENSOR_EXPERT);
	/* DeepSeekMoE (Dai et al. 2024): the shared experts form one MLP of n_shared * moe_ffn. */
	if (m->moe.shared_experts > 0)
		mlp_tensors(m, fn, ctx, m->moe.shared_experts * m->moe.ffn, 1, TENSOR_SHARED);
}

void model_outer_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx)
{
	emit(fn, ctx, "embed_tokens", m->vocab, m->hidden, 1, TENSOR_EMBED, true);
	if (m->position == POSITION_LEARNED)
		emit(fn, ctx, "embed_positions", m->max_position, m->hidden, 1, TENSOR_POSITION,
		     false);
	norm_tensors(m, fn, ctx, "final_norm", m->hidden);
	if (!m->tie_embeddings)
		emit(fn, ctx, "lm_head", m->vocab, m->hidden, 1, TENSOR_HEAD, true);
}

void model_mtp_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx)
{
	int64_t i;
	for (i = 0; i < m->mtp_layers; i++) {
		/* DeepSeek-V3 report eq. 21: h' = M [RMSNorm(h); RMSNorm(Emb(t))], M in R^{d x 2d};
		 * HF checkpoint names enorm, hnorm, eh_proj, shared_head.norm. */
		norm_tensors(m, fn, ctx, "mtp_enorm", m->hidden);
		norm_tensors(m, fn, ctx, "mtp_hnorm", m->hidden);
		emit(fn, ctx, "mtp_eh_proj", m->hidden, 2 * m->hidden, 1, TENSOR_MLP, true);
		model_layer_tensors(m, model_layer_kind(m, m->layers), fn, ctx);
		norm_tensors(m, fn, ctx, "mtp_head_norm", m->hidden);
	}
}

bool model_tensor_is_mla_up(const struct model_tensor *t)
{
	return strcmp(t->name, "q_b_proj") == 0 || strcmp(t->name, "kv_b_proj") == 0;
}

struct counter {
	double total;
	double experts;       /* routed expert parameters */
};

static void count_tensor(void *ctx, const struct model_tensor *t)
{
	struct counter *c = ctx;
	double n = (double)t->rows * (double)t->cols * (double)t->count;
	c->total += n;
	if (t->group == TENSOR_EXPERT)
		c->experts += n;
}

void model_count_params(const struct model_config *m, struct model_params *out)
{
	struct counter outer = {0, 0}, layer[2] = {{0, 0}, {0, 0}}, mtp = {0, 0};
	int64_t moe_layers = model_layers_of_kind(m, LAYER_MOE);
	model_outer_tensors(m, count_tensor, &outer);
	model_layer_tensors(m, LAYER_DENSE, count_tensor, &layer[LAYER_DENSE]);
	if (model_is_moe(m))
		model_layer_tensors(m, LAYER_MOE, count_tensor, &layer[LAYER_MOE]);
	model_mtp_tensors(m, count_tensor, &mtp);
	out->mtp = mtp.total;
	out->embedding = outer.total;
	out->per_layer[LAYER_DENSE] = layer[LAYER_DENSE].total;
	out->per_layer[LAYER_MOE] = layer[LAYER_MOE].total;
	out->total = outer.total + (double)(m->layers - moe_layers) * layer[LAYER_DENSE].total +
		     (double)moe_layers * layer[LAYER_MOE].total;
	out->active = out->total;
	if (moe_layers > 0)
		out->active -= (double)moe_layers * layer[LAYER_MOE].experts *
			       (double)(m->moe.experts - m->moe.top_k) / (double)m->moe.experts;
}

static void act(model_act_fn fn, void *ctx, const char *name, double elems, double bytes,
		int shard)
{
	struct model_act x = {name, elems, bytes, shard, false, 0};
	if (elems > 0)
		fn(ctx, &x);
}

/* A saved tensor that recomputing a module can drop (MODEL_ACT_*). */
static void act_of(model_act_fn fn, void *ctx, const char *name, double elems, double bytes,
		   int shard, unsigned module)
{
	struct model_act x = {name, elems, bytes, shard, false, module};
	if (elems > 0)
		fn(ctx, &x);
}

/* A linear layer's saved input: FP8 training caches it in FP8 for the weight-gradient GEMM
 * (Transformer Engine; DeepSeek-V3 report sec. 3.3.3, "low-precision storage"). */
static void gemm_in_of(model_act_fn fn, void *ctx, const struct act_options *o,
		       const char *name, double elems, int shard, unsigned module)
{
	struct model_act x = {name, elems, o->gemm_input_bytes > 0 ? o->gemm_input_bytes
								   : o->act_bytes, shard, true, module};
	if (elems > 0)
		fn(ctx, &x);
}

static void gemm_in(model_act_fn fn, void *ctx, const struct act_options *o, const char *name,
		    double elems, int shard)
{
	gemm_in_of(fn, ctx, o, name, elems, shard, 0);
}

/*
 * Korthikanti et al. 2022, sec. 4.1: a GPT layer saves 34*s*b*h + 5*a*s^2*b bytes in 16-bit with
 * 1-byte dropout masks: attention 11sbh + 5as^2b, MLP 19sbh, two norms 4sbh. Listed here tensor by
 * tensor so GQA, MLA, SwiGLU and MoE come out of the same rules.
 */
static void attention_acts(const struct model_config *m, const struct act_options *o,
			   model_act_fn fn, void *ctx)
{
	double h = (double)m->hidden, a = (double)m->heads, B = o->act_bytes;
	double v_width;
	act(fn, ctx, "attn_norm_in", h, B, ACT_SEQUENCE);
	if (model_is_mla(m)) {
		double qk = (double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim);
		gemm_in_of(fn, ctx, o, "mla_down_in", h, ACT_SEQUENCE, MODEL_ACT_NORM_OUT);
		if (m->mla.q_lora_rank > 0) {
			act(fn, ctx, "q_latent", (double)m->mla.q_lora_rank, B, ACT_SEQUENCE);
			gemm_in_of(fn, ctx, o, "q_latent_normed", (double)m->mla.q_lora_rank,
				   ACT_SEQUENCE, MODEL_ACT_NORM_OUT);
		}
		act(fn, ctx, "kv_latent", (double)(m->mla.kv_lora_rank + m->mla.qk_rope_head_dim), B,
		    ACT_SEQUENCE);
		gemm_in_of(fn, ctx, o, "kv_latent_normed", (double)m->mla.kv_lora_rank,
			   ACT_SEQUENCE, MODEL_ACT_NORM_OUT);
		act_of(fn, ctx, "q", a * qk, B, ACT_TENSOR, MODEL_ACT_MLA_UP);
		act_of(fn, ctx, "k", a * qk, B, ACT_TENSOR, MODEL_ACT_MLA_UP);
		act_of(fn, ctx, "v", a * (double)m->mla.v_head_dim, B, ACT_TENSOR, MODEL_ACT_MLA_UP);
		v_width = a * (double)m->mla.v_head_dim;
	} else {
		double d = (double)m->head_dim, kv = (double)m->kv_heads;
		gemm_in_of(fn, ctx, o, "qkv_in", h, ACT_SEQUENCE, MODEL_ACT_NORM_OUT);
		act(fn, ctx, "q", a * d, B, ACT_TENSOR);
		act(fn, ctx, "k", kv * d, B, ACT_TENSOR);
		act(fn, ctx, "v", kv * d, B, ACT_TENSOR);
		v_width = a * d;
	}
	if (o->flash) {
		/* Dao et al. 2022 (FlashAttention), Alg. 2: only the fp32 logsumexp per row is saved;
		 * dropout masks are regenerated from the RNG state. */
		act(fn, ctx, "softmax_lse", a, 4, ACT_TENSOR);
	} else {
		double kvl = (double)o->kv_len;
		act(fn, ctx, "softmax_out", a * kvl, B, ACT_SCORE);
		if (m->dropout) {
			act(fn, ctx, "attn_dropout_mask", a * kvl, 1, ACT_SCORE);
			act(fn, ctx, "attn_dropout_out", a * kvl, B, ACT_SCORE);
		}
	}
	/* The attention output, which flash attention's backward also reads: DeepSeek-V3 keeps it
	 * in E5M6 (report sec. 3.3.3, "Low-Precision Activation" (1)): o->attn_out_bytes. */
	if (o->attn_out_bytes > 0) {
		struct model_act x = {"o_proj_in", v_width, o->attn_out_bytes, ACT_TENSOR, true, 0};
		fn(ctx, &x);
	} else {
		gemm_in(fn, ctx, o, "o_proj_in", v_width, ACT_TENSOR);
	}
	if (m->dropout)
		act(fn, ctx, "attn_out_dropout_mask", h, 1, ACT_SEQUENCE);
}

static void mlp_acts(const struct model_config *m, const struct act_options *o, model_act_fn fn,
		     void *ctx, double ffn, double tokens, const char *fc1, const char *fc2,
		     unsigned module)
{
	/* fc1's output is the activation function's input; SwiGLU's is gate and up together. fc2's
	 * input is the activation's output (Megatron recomputes SiLU in backward). */
	double g = m->mlp == MLP_SWIGLU ? 2.0 : 1.0;
	act_of(fn, ctx, fc1, tokens * g * ffn, o->act_bytes, ACT_TENSOR, module);
	gemm_in_of(fn, ctx, o, fc2, tokens * ffn, ACT_TENSOR, module);
}

/*
 * An MoE expert's MLP (routed or shared). DeepSeek-V3 report sec. 3.3.3, "Low-Precision
 * Activation" (2): "we cache the inputs of the SwiGLU operator and recompute its output in the
 * backward pass", the inputs in FP8 with the 1x128 tiles (o->moe_act_in_bytes; Megatron-Core's
 * activation_func_fp8_input_store does the same). The output, fc2's input, is then
 * MODEL_ACT_MOE_ACT (Megatron-Core's recompute module "moe_act", transformer_config.py).
 */
static void expert_acts(const struct model_config *m, const struct act_options *o,
			model_act_fn fn, void *ctx, double ffn, double tokens, const char *fc1,
			const char *fc2)
{
	double g = m->mlp == MLP_SWIGLU ? 2.0 : 1.0;
	double in = o->moe_act_in_bytes > 0 ? o->moe_act_in_bytes : o->act_bytes;
	act(fn, ctx, fc1, tokens * g * ffn, in, ACT_TENSOR);
	gemm_in_of(fn, ctx, o, fc2, tokens * ffn, ACT_TENSOR, MODEL_ACT_MOE_ACT);
}

void model_layer_acts(const struct model_config *m, enum layer_kind kind,
		      const struct act_options *o, model_act_fn fn, void *ctx)
{
	double h = (double)m->hidden, B = o->act_bytes;
	attention_acts(m, o, fn, ctx);
	act(fn, ctx, "mlp_norm_in", h, B, ACT_SEQUENCE);
	if (kind == LAYER_DENSE) {
		gemm_in_of(fn, ctx, o, "fc1_in", h, ACT_SEQUENCE, MODEL_ACT_NORM_OUT);
		mlp_acts(m, o, fn, ctx, (double)m->ffn, 1.0, "fc1_out", "fc2_in", MODEL_ACT_MLP);
	} else {
		/* Tokens routed per token: top_k copies, padded to the capacity factor (GShard). */
		double routed = (double)m->moe.top_k * m->moe.capacity_factor;
		gemm_in_of(fn, ctx, o, "moe_in", h, ACT_SEQUENCE, MODEL_ACT_NORM_OUT);
		act(fn, ctx, "router_probs", (double)m->moe.experts, 4, ACT_SEQUENCE);
		gemm_in(fn, ctx, o, "expert_in", routed * h, ACT_SEQUENCE);
		expert_acts(m, o, fn, ctx, (double)m->moe.ffn, routed, "expert_fc1_out",
			    "expert_fc2_in");
		/* The combine y = sum_i g_i e_i keeps the experts' outputs e_i for the gate's
		 * gradient dot(e_i, dy). With the activation's output z_i rebuilt in backward,
		 * dot(e_i, dy) = dot(z_i, W2^T dy) comes from fc2's input gradient instead, as
		 * Megatron-Core does by weighting z_i inside the recomputed activation
		 * (experts.py, TEGroupedMLP: weighted_bias_swiglu_impl), so nothing is kept. */
		act_of(fn, ctx, "expert_out", routed * h, B, ACT_SEQUENCE, MODEL_ACT_COMBINE);
		if (m->moe.shared_experts > 0)
			expert_acts(m, o, fn, ctx, (double)(m->moe.shared_experts * m->moe.ffn), 1.0,
				    "shared_fc1_out", "shared_fc2_in");
	}
	if (m->dropout)
		act(fn, ctx, "mlp_dropout_mask", h, 1, ACT_SEQUENCE);
}

struct act_sum {
	double bytes;
	double tp;
	bool sp, keep_scores;
	unsigned recomputed;
};

static void sum_act(void *ctx, const struct model_act *a)
{
	struct act_sum *s = ctx;
	double b = a->elems * a->bytes;
	if (a->module & s->recomputed)
		return;
	switch (a->shard) {
	case ACT_SEQUENCE:
		s->bytes += s->sp ? b / s->tp : b;
		break;
	case ACT_TENSOR:
		s->bytes += b / s->tp;
		break;
	case ACT_SCORE:
		if (s->keep_scores)
			s->bytes += b / s->tp;
		break;
	}
}

double model_layer_act_bytes(const struct model_config *m, enum layer_kind kind,
			     const struct act_options *o, int64_t tp, bool sequence_parallel,
			     bool keep_scores)
{
	struct act_sum s = {0, (double)tp, sequence_parallel, keep_scores, o->recomputed};
	model_layer_acts(m, kind, o, sum_act, &s);
	return s.bytes;
}

double model_kv_elems_per_token_layer(const struct model_config *m)
{
	if (model_is_mla(m))
		return (double)(m->mla.kv_lora_rank + m->mla.qk_rope_head_dim);
	return 2.0 * (double)m->kv_heads * (double)m->head_dim;
}
