/*
 * model: transformer arithmetic — the tensors of each layer, parameter counts, saved activations
 * per token, KV-cache elements per token. Domain stage: reads struct model_config only; knows
 * nothing of GPUs, parallel layouts (beyond "split over tensor parallel or not") or time.
 */
#ifndef DSSIM_MODEL_H
#define DSSIM_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"

enum tensor_group {
	TENSOR_ATTN,      /* attention projections and their biases */
	TENSOR_MLP,       /* dense MLP */
	TENSOR_EXPERT,    /* routed experts (the count multiplies) */
	TENSOR_SHARED,    /* shared experts */
	TENSOR_ROUTER,    /* MoE gate */
	TENSOR_NORM,      /* norm weights and biases */
	TENSOR_EMBED,     /* token embedding */
	TENSOR_POSITION,  /* learned position embedding */
	TENSOR_HEAD,      /* output projection (absent when tied) */
	TENSOR_GROUPS
};

/* One weight tensor (rows x cols; a vector has rows == 1), repeated count times. */
struct model_tensor {
	const char *name;
	int64_t rows, cols;
	int64_t count;
	enum tensor_group group;
	bool tp_split;        /* sharded over tensor-parallel ranks (Megatron column/row parallel) */
	bool row_parallel;    /* split along its input (cols), not its output: the attention output
				 and the MLP's down projection (Shoeybi et al. 2019, sec. 3) */
	bool fuse_next;       /* frameworks multiply the same input by it and the next tensor in
				 one GEMM (Megatron's linear_qkv; linear_fc1 of gate and up) */
};

/* Where a layer stands: the per-layer tensors differ between dense and MoE layers. */
enum layer_kind { LAYER_DENSE, LAYER_MOE };

typedef void (*model_tensor_fn)(void *ctx, const struct model_tensor *t);

/* Call fn for every weight tensor of one transformer layer of the given kind. */
void model_layer_tensors(const struct model_config *m, enum layer_kind kind, model_tensor_fn fn,
			 void *ctx);
/* Call fn for the tensors outside the layers: embeddings, final norm, output head. */
void model_outer_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx);

/* The kind of layer i (0-based). */
enum layer_kind model_layer_kind(const struct model_config *m, int64_t i);
/* How many of the model's layers (multi-token prediction modules apart) are of this kind. */
int64_t model_layers_of_kind(const struct model_config *m, enum layer_kind kind);

/* Call fn for the tensors of the model's multi-token prediction modules (DeepSeek-V3 report
 * sec. 2.2): per module one transformer layer of the last layer's kind, the projection M of the
 * concatenated [h; emb] (h x 2h) and the norms of its two inputs and of the shared head's input.
 * The embedding and the output head are the main model's (shared), so not emitted. */
void model_mtp_tensors(const struct model_config *m, model_tensor_fn fn, void *ctx);

/* Whether t is an MLA up-projection (q_b_proj, kv_b_proj: latents to per-head queries, keys and
 * values), the GEMMs DeepSeek-V3 recomputes in backward. */
bool model_tensor_is_mla_up(const struct model_tensor *t);

/* Parameter counts (elements). */
struct model_params {
	double mtp;           /* the multi-token prediction modules (not in total or active) */
	double total;         /* every parameter */
	double active;        /* used per token: shared + top_k routed experts (MoE) */
	double embedding;     /* token + position embeddings and the untied head */
	double per_layer[2];  /* one dense layer, one MoE layer (all experts) */
};
void model_count_params(const struct model_config *m, struct model_params *out);

/*
 * Saved activations (Korthikanti et al. 2022, sec. 4.1 and Table 2, derived tensor by tensor):
 * every tensor a layer keeps from forward for backward, per token, by how it shards.
 */
enum act_shard {
	ACT_SEQUENCE,   /* hidden-sized, replicated over TP; split by TP under sequence parallelism */
	ACT_TENSOR,     /* head- or ffn-sized: split by TP */
	ACT_SCORE,      /* attention scores (a*s per token): split by TP, dropped by flash attention
			   and by selective recomputation */
};

struct model_act {
	const char *name;
	double elems;         /* per token of the local sequence */
	double bytes;         /* per element */
	enum act_shard shard;
	bool gemm_input;      /* the input of a linear layer (cached in fp8 by fp8 training) */
	unsigned module;      /* MODEL_ACT_* bits: what recomputing can drop it */
};

/* Saved tensors a recompute module rebuilds in backward instead of keeping
 * (strategy.recompute_modules). */
enum {
	MODEL_ACT_NORM_OUT = 1,  /* an RMSNorm/LayerNorm output (its input is kept) */
	MODEL_ACT_MLA_UP = 2,    /* an MLA up-projection output: q, k, v from the latents */
	MODEL_ACT_MOE_ACT = 4,   /* an MoE expert's SwiGLU output (its input is kept) */
	MODEL_ACT_MLP = 16,      /* a dense MLP's hidden states (its input is kept) */
	MODEL_ACT_COMBINE = 8,   /* the experts' outputs kept for the combine's backward: not needed
				    once the SwiGLU outputs are rebuilt, and never rebuilt */
};

typedef void (*model_act_fn)(void *ctx, const struct model_act *a);

struct act_options {
	int64_t kv_len;       /* keys each query attends to (the full sequence) */
	double act_bytes;     /* bytes of a 16-bit activation: 2 (4 in fp32) */
	bool flash;           /* fused attention: keeps only softmax statistics */
	double gemm_input_bytes; /* bytes of a saved linear-layer input; 0 means act_bytes */
	unsigned recomputed;  /* MODEL_ACT_* bits left out of the sums (rebuilt in backward) */
	double attn_out_bytes; /* bytes of the saved attention output (o_proj input); 0 means
				  gemm_input_bytes */
	double moe_act_in_bytes; /* bytes of a saved MoE SwiGLU input; 0 means act_bytes */
};

/* Call fn for every activation a layer of this kind saves for backward. */
void model_layer_acts(const struct model_config *m, enum layer_kind kind,
		      const struct act_options *o, model_act_fn fn, void *ctx);

/* Saved activations of one layer in bytes per token, summed with the given TP split, without the
 * tensors o->recomputed drops. */
double model_layer_act_bytes(const struct model_config *m, enum layer_kind kind,
			     const struct act_options *o, int64_t tp, bool sequence_parallel,
			     bool keep_scores);

/* KV-cache elements per token per layer: 2*kv_heads*head_dim (MHA/GQA/MQA) or
 * kv_lora_rank + qk_rope_head_dim (MLA, DeepSeek-V2 report Table 1). */
double model_kv_elems_per_token_layer(const struct model_config *m);

/*
 * Query-key pairs of causal attention over a sequence of s tokens, averaged over the layers, as a
 * share of full causal attention (s(s+1)/2 pairs). A layer with a window of W tokens (Beltagy et
 * al. 2020, Longformer sec. 3.1; Mistral 7B, Jiang et al. 2023 sec. 2) lets query i see
 * min(i + 1, W) keys: W(W+1)/2 + (s - W)W pairs when s > W. A chunked layer of C-token chunks
 * (Llama 4) lets it see its own chunk up to itself: floor(s/C) C(C+1)/2 + r(r+1)/2, r = s mod C.
 * 1 without either.
 */
double model_attention_share(const struct model_config *m, double s);

/*
 * The same share when each sequence of s tokens packs documents of doc tokens that attend only
 * within themselves (0: one document): s/doc documents of doc(doc+1)/2 pairs each, so the share
 * is model_attention_share(doc) x (doc + 1)/(s + 1).
 */
double model_attention_share_packed(const struct model_config *m, double s, double doc);

/*
 * Serving's attention, averaged over the layers: the query-key pairs of n new tokens after c
 * cached ones (a windowed layer's query at position j sees min(j + 1, W) keys, a chunked
 * layer's the ((j - 1) mod C) + 1 of its own chunk), and the cached tokens a layer keeps and
 * reads for a context of ctx tokens (min(ctx, W) on a windowed layer: vLLM's hybrid KV cache
 * manager frees the blocks that slide out of the window; ctx mod C on a chunked one, whose
 * earlier chunks it frees). Without either n*c + n(n+1)/2 and ctx.
 */
double model_chunk_pairs(const struct model_config *m, double c, double n);
double model_context_tokens(const struct model_config *m, double ctx);
/*
 * The cached tokens a layer holds blocks for, growing with ctx: a windowed layer's window, and a
 * chunked layer (model.attention_chunk, Llama 4) up to one chunk, which model_context_tokens
 * counts exactly as the current chunk's ctx mod C; a block manager that grows a sequence's
 * blocks and frees them at its end holds the largest.
 */
double model_held_tokens(const struct model_config *m, double ctx);

/* Layers attending through the window or within chunks (all but every global_every-th). */
int64_t model_windowed_layers(const struct model_config *m);

/* Whether the model uses multi-head latent attention or mixture of experts. */
bool model_is_mla(const struct model_config *m);
bool model_is_moe(const struct model_config *m);

struct moe_route;
/* How the scenario's MoE layers send their tokens (strategy.moe_dispatcher over the model's
 * routing), `copies` copies of each token: collective_plan_routed's route. */
void model_moe_route(const struct scenario *s, double copies, struct moe_route *r);

#endif
