/*
 * memory_serve: serving's share of the memory breakdown, the prefill workspace and the KV cache's
 * bytes per token (memory.c places them in a stage's breakdown). Domain stage.
 */
#include "memory_int.h"

#include <math.h>

#include "model.h"

/*
 * Inference workspace for a prefill of `batch` sequences of seq_len tokens. Per layer the
 * largest transient is the attention block or the MLP; the logits come after all layers. The
 * PyTorch caching allocator keeps the layers' freed blocks reserved, and blocks of other sizes do
 * not merge across segments (c10/cuda/CUDACachingAllocator.cpp), so the two phases add up.
 * Eager attention (HF LlamaAttention, transformers 4.33): bf16 masked scores + fp32 softmax + bf16
 * probabilities = 8 bytes per score element, plus the bf16 4-D causal mask.
 */
double memory_workspace(const struct scenario *s, double batch, double seq_len)
{
	const struct model_config *m = &s->model;
	double tp = (double)s->strategy.tp, B = memory_act_bytes(s);
	double seq = seq_len / (double)s->strategy.cp;
	double tokens = batch * seq;
	double d = model_is_mla(m) ? (double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim)
				   : (double)m->head_dim;
	double heads = (double)m->heads / tp;
	/* Alive in a layer besides the scores: the residual stream, its normed copy and the queries;
	 * a fused kernel also writes its output while they live, eager attention only after the
	 * softmax temporaries are freed. Keys and values are this layer's KV-cache entries, counted
	 * there; eager attention expands grouped KV heads to every query head (repeat_kv). */
	double attn = tokens * ((s->workload.flash_attention ? 2 : 1) * heads * d +
				2 * (double)m->hidden) * B;
	double g = m->mlp == MLP_SWIGLU ? 2.0 : 1.0;
	double ffn = (double)m->ffn;
	double mlp, logits_tokens, logits;
	if (!s->workload.flash_attention && !model_is_mla(m) && m->kv_heads < m->heads)
		attn += 2 * tokens * heads * d * B;
	if (!s->workload.flash_attention)
		attn += batch * heads * seq * seq_len * (B + 4.0 + B) + batch * seq * seq_len * B;
	if (model_is_moe(m)) {
		double routed = (double)m->moe.top_k * m->moe.capacity_factor * (double)m->moe.ffn;
		if (routed > ffn)
			ffn = routed;
	}
	mlp = tokens * (g + 1.0) * ffn / tp * B;
	logits_tokens = s->workload.logits == LOGITS_ALL ? tokens : batch;
	logits = logits_tokens * (double)m->vocab / tp * (B + 4.0);
	return fmax(attn, mlp) + logits;
}

double memory_kv_bytes_per_token(const struct scenario *s, const struct stage *st)
{
	const struct model_config *m = &s->model;
	double tp = (double)s->strategy.tp;
	double elems = model_kv_elems_per_token_layer(m);
	/* vLLM keeps max(1, kv_heads // tp) heads per GPU (cache_engine.py) and the whole MLA
	 * latent on every TP rank. */
	if (!model_is_mla(m))
		elems = 2.0 * fmax(1.0, (double)m->kv_heads / tp) * (double)m->head_dim;
	return elems * (double)st->layers * memory_kv_elem_bytes(s) /
	       (double)s->strategy.cp;
}

/*
 * serving.max_num_seqs 0 is SGLang's own limit, from its KV pool (sgl-project/sglang
 * python/sglang/srt/model_executor/model_runner.py init_memory_pool and
 * managers/scheduler.py, the v0.4 series on): each scheduler's request pool holds
 * min(max(kv_tokens / context_len * 512, 2048), 4096) requests, and it runs at most
 * min(max_total_num_tokens // 2, that pool). context_len is the length the engine starts with
 * (--context-length): workload.seq_len, as vLLM's max_model_len is elsewhere in dssim. A cache
 * of no bytes per token has no size: the cap.
 */
int64_t memory_max_seqs(const struct scenario *s, const struct memory_report *m)
{
	double pool, half;
	double kv_tokens = m->kv_bytes_per_token > 0 ? m->max_kv_tokens : INFINITY;
	if (s->serving.max_num_seqs > 0)
		return s->serving.max_num_seqs;
	pool = s->workload.seq_len > 0
		       ? floor(kv_tokens / (double)s->workload.seq_len * 512.0) : 4096.0;
	pool = fmin(fmax(pool, MEMORY_SGLANG_MIN_REQUESTS), 4096.0);
	half = floor(kv_tokens / 2.0);
	return (int64_t)fmax(1.0, fmin(pool, half));
}
