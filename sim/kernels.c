/*
 * kernels: memory-bound kernels and launches of a training pass. Domain stage.
 *
 * Each elementwise kernel reads its inputs and writes its outputs once (bytes below, per token,
 * with E bytes per activation element). Which kernels exist, and how many launches they take,
 * follows the framework's fusion (runtime.fusion.*):
 * - norm: Transformer Engine's LayerNormLinear / Megatron's fused layer norm read the input and
 *   write the output in one kernel (transformer_engine/pytorch/module/layernorm_linear.py; apex
 *   FusedLayerNorm in Megatron-LM megatron/model/fused_layer_norm.py); eager PyTorch RMSNorm
 *   upcasts, squares and means, scales by rsqrt, casts back and multiplies by the weight
 *   (HuggingFace LlamaRMSNorm.forward): five kernels, about 8 passes of h.
 * - residual: bias-dropout-add in one TorchScript/fused kernel (Megatron-LM
 *   megatron/model/transformer.py bias_dropout_add_fused_train; Megatron-Core
 *   megatron/core/fusions/fused_bias_dropout.py); unfused, a kernel per bias, dropout and add.
 * - bias_activation: fused bias-GeLU (megatron/model/fused_bias_gelu.py) or SwiGLU
 *   (megatron/core/fusions/fused_bias_swiglu.py) read the GEMM output once; unfused, SiLU and
 *   the product are two kernels.
 * - rope: one fused kernel over q and k (Megatron-Core apply_rotary_pos_emb with
 *   apply_rope_fusion); the eager rotate_half form (HuggingFace apply_rotary_pos_emb) is five
 *   kernels per tensor: negate, concatenate, two products, a sum.
 * - softmax (without flash attention): scale, mask and softmax in one kernel
 *   (megatron/model/fused_softmax.py); unfused, three kernels over the scores.
 * - cross_entropy: Megatron-Core's fused vocab-parallel cross-entropy
 *   (megatron/core/fusions/fused_cross_entropy.py) reads the logits twice and writes their
 *   gradient once; unfused (megatron/core/tensor_parallel/cross_entropy.py) it upcasts to fp32
 *   and makes about five passes over them.
 * - optimizer: multi-tensor Adam (apex FusedAdam / torch foreach) reads and writes each state
 *   once in a few launches per thousands of tensors; per-tensor Adam launches about ten kernels
 *   a tensor, each a pass over it (torch/optim/adam.py _single_tensor_adam).
 * FP8 block scaling (DeepSeek-V3 sec. 3.3.2) also promotes the tensor cores' partial sums to
 * FP32 on the CUDA cores every 128 K-elements; the report overlaps it with the other
 * warpgroup's MMA ("maintaining high utilization of Tensor Cores"), so it costs no GEMM time here.
 * FP8 (Transformer Engine, delayed scaling): every FP8 GEMM input is cast to FP8 and, for the
 * weight-gradient GEMM, transposed (cast_transpose: read E bytes, write 1 + 1); with a fused
 * norm the cast of the norm's output happens inside it; each gradient output is cast-transposed
 * the same way in the backward (transformer_engine/common/transpose/cast_transpose.cu).
 * Backward: an elementwise kernel's gradient reads the incoming gradient and the saved inputs and
 * writes the input gradient: twice the forward's bytes, as many kernels again for the weight
 * and input sides (Korthikanti et al. 2022 sec. 4 count the same tensors both ways).
 */
#include "kernels.h"

#include <math.h>
#include <string.h>

#include "memory.h"

/* Bytes per activation element: FP8 training keeps activations in 16 bits (Transformer
 * Engine casts only GEMM inputs). */
static double act_bytes(const struct scenario *s)
{
	return s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
}

double kernels_activation(const struct scenario *s, double in_bytes, double *launches)
{
	double E = act_bytes(s);
	bool fused = s->runtime.fusion.bias_activation;
	*launches = fused ? 1 : 2;
	return (s->model.mlp == MLP_SWIGLU ? 2 : 1) * in_bytes + E + (fused ? 0 : 2 * E);
}

static void add(struct kernel_cost *k, double kernels, double bytes)
{
	k->fwd_kernels += kernels;
	k->fwd_bytes += bytes;
}

void kernels_layer(const struct scenario *s, enum layer_kind kind, double tokens, int64_t tp,
		   bool sequence_parallel, struct kernel_cost *out)
{
	const struct model_config *m = &s->model;
	const struct runtime *r = &s->runtime;
	double E = act_bytes(s), T = tokens, t = (double)tp;
	double Tn = sequence_parallel ? T / t : T;   /* tokens in the norm/residual region */
	double h = (double)m->hidden, d = (double)m->head_dim;
	double a = (double)m->heads * d / t;                       /* query width per GPU */
	double kv = fmax(1.0, (double)m->kv_heads / t) * d;        /* key (= value) width */
	double f, gemm_in, gemm_out, gemms, bias_bwd_bytes = 0, bias_bwd_kernels = 0;
	/* Routed experts' output-bias elements that Megatron-Core's per-expert loop adds
	 * (runtime.fusion.expert_bias false): every routed copy of a token, h wide. */
	double looped = kind == LAYER_MOE && m->bias && !r->fusion.expert_bias
				? (double)m->moe.top_k * T * h : 0;
	double loop_experts = looped > 0 ? memory_local_experts(s) : 0;
	bool gated = m->mlp == MLP_SWIGLU, fp8 = s->workload.dtype == DTYPE_FP8;
	/* An FP8 copy and its transpose, each element with its scale's share: with block scaling
	 * (DeepSeek-V3 sec. 3.3.1-3.3.2) the row-wise 1x128 tiles of the forward and the column-wise
	 * 128x1 tiles of the weight-gradient GEMM each carry an fp32 scale per 128 elements, found
	 * online in the same pass (no amax history). */
	double fp8_out = 2 * memory_fp8_act_bytes(s);
	struct kernel_cost k;
	memset(&k, 0, sizeof k);
	if (model_is_mla(m)) {
		a = (double)m->heads * (double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim) / t;
		kv = (double)m->heads * (double)m->mla.qk_rope_head_dim / t;
	}
	if (kind == LAYER_MOE)
		f = (double)(m->moe.top_k + m->moe.shared_experts) * (double)m->moe.ffn / t;
	else
		f = (double)m->ffn / t;

	/* Two norms, each with the residual add before it. */
	if (r->fusion.norm)
		add(&k, 2 * 2, 2 * (2 + 3) * h * Tn * E);
	else
		add(&k, 2 * (5 + 1), 2 * (8 + 3) * h * Tn * E);
	/* Bias and dropout on the two residual branches (fused into the add, or their own). */
	if (m->dropout) {
		if (r->fusion.bias_activation)
			k.fwd_bytes += 2 * 0.5 * h * Tn * E;          /* the dropout mask, 1 byte */
		else
			add(&k, 2, 2 * 2.5 * h * Tn * E);
	}
	/* The Linears' own biases, where no fused bias-activation or bias-dropout-add takes them:
	 * a kernel each, reading and writing the output; or, in the GEMM's cuBLASLt epilogue
	 * (eager PyTorch from 1.12: torch.nn.functional.linear flattens a contiguous 3-D input
	 * to addmm, which runs a 1-D bias in the epilogue, aten/src/ATen/native/cuda/Blas.cpp,
	 * pytorch/pytorch PR #74490; the first attempt, PR #72148 of February 2022, was disabled
	 * by PR #73525 weeks later), nothing forward and, backward, one reduction of each
	 * output's gradient (half the bytes: the gradient read once). */
	if (m->bias && !r->fusion.bias_activation) {
		/* The output projection's and fc2's outputs, h wide: a dense fc2's on the norm
		 * region's tokens, an MoE layer's on every routed and shared copy of a token (less
		 * those the experts' loop below adds). */
		double fc2_rows = kind == LAYER_MOE
					  ? (double)(m->moe.top_k + m->moe.shared_experts) * T : Tn;
		double out_bytes = (2 * h * Tn + 2 * h * fc2_rows + 2 * (a + 2 * kv) * T + 2 * f * T
				    - 2 * looped) * E;
		if (r->fusion.linear_bias) {
			bias_bwd_kernels = 4;
			bias_bwd_bytes = out_bytes / 2;
		} else {
			add(&k, 4, out_bytes);
		}
	}
	/* Rotary embedding on queries and keys. ALiBi (Press et al. 2022) has no kernel of its
	 * own: Megatron-DeepSpeed hands the bias tensor to the scores GEMM as its output buffer
	 * (bigscience-workshop/Megatron-DeepSpeed 06dc2d7f megatron/model/transformer.py,
	 * torch.baddbmm over the alibi slice) and FlashAttention-2 adds the slopes inside its
	 * kernel (flash_attn_func alibi_slopes), so it costs what the scores already cost. */
	if (m->position == POSITION_ROPE) {
		if (r->fusion.rope)
			add(&k, 1, 2 * (a + kv) * T * E);
		else
			add(&k, 10, 8 * (a + kv) * T * E);
	}
	/* Activation (and gating) on the MLP's hidden states. */
	{
		double launches, per = kernels_activation(s, E, &launches);
		add(&k, launches, per * f * T);
	}
	/* Without a fused attention kernel: scale, mask and softmax over the scores. */
	if (!s->workload.flash_attention) {
		double scores = (double)m->heads / t * T * (double)s->workload.seq_len;
		double before = k.fwd_bytes;
		if (r->fusion.softmax)
			add(&k, 1, 2 * scores * E);
		else
			add(&k, 3, 6 * scores * E);
		if (m->dropout)
			add(&k, 1, 2.5 * scores * E);
		k.core_bytes = k.fwd_bytes - before;
	}
	/* MoE: the router's softmax and top-k, then tokens permuted to their experts and back
	 * (Megatron-Core megatron/core/transformer/moe/moe_utils.py permute / unpermute). */
	if (kind == LAYER_MOE)
		add(&k, 4, (2 * (double)m->moe.experts + 2 * 2 * (double)m->moe.top_k * h) * T * E);
	/* With more than one expert per GPU the all-to-all delivers the tokens grouped by the rank
	 * that sent them, and they are sorted again by local expert before the experts and back
	 * after them (Megatron-Core moe/token_dispatcher.py, MoEAlltoAllTokenDispatcher: "Permutation
	 * 2: Sort tokens by local expert" and "Unpermutation 2", sort_chunks_by_idxs): two more
	 * copies of the top_k copies of every token this GPU routes, on balance as many as it
	 * receives. Megatron's flex dispatcher (DeepEP, HybridEP: strategy.moe_dispatcher deepep)
	 * permutes inside the dispatch kernel and sorts once after it (MoEFlexTokenDispatcher:
	 * dispatch_preprocess permutes nothing), one pair fewer; it is charged all the same. Left
	 * out, DeepSeek-V2's row moved from +7.4 to +10.7 % and the Qwen3-30B DeepEP/HybridEP runs
	 * of tests/validation/megatron-bridge-later.yaml 7 to 11 points further fast, while
	 * Bridge's DeepSeek-V3 went from -9.7 to -3.3 %: what DeepEP's dispatch costs beyond its
	 * bytes is not modelled, and the pair stands in for it until it is. */
	if (kind == LAYER_MOE && s->strategy.ep > 1 && memory_local_experts(s) > 1)
		add(&k, 2, 2 * 2 * (double)m->moe.top_k * h * T * E);
	/* GEMM launches: QKV (one fused weight), output projection, fc1, fc2, plus the attention
	 * kernel, or its two batched GEMMs. */
	gemms = 4 + (s->workload.flash_attention ? 1 : 2);
	k.fwd_kernels += gemms;
	if (fp8) {
		/* Inputs of the four GEMMs: the QKV and fc1 inputs come out of the norm (cast
		 * inside a fused norm: only the FP8 copy and its transpose are written, each with
		 * its scales: fp8_out bytes). */
		gemm_in = (a + f) * T * (E + fp8_out) + 2 * h * Tn * (r->fusion.norm ? fp8_out
										      : E + fp8_out);
		add(&k, r->fusion.norm ? 2 : 4, gemm_in);
	}
	out->fwd_bytes = k.fwd_bytes;
	out->fwd_kernels = k.fwd_kernels;
	out->core_bytes = k.core_bytes;
	out->bwd_bytes = 2 * k.fwd_bytes + bias_bwd_bytes;
	out->bwd_kernels = 2 * k.fwd_kernels + bias_bwd_kernels;
	out->fwd_gemms = gemms;
	out->bwd_gemms = 2 * gemms;
	/* Megatron-Core's TEGroupedMLP adds the experts' fc2 bias itself (megatron/core/transformer/
	 * moe/experts.py _apply_bias at 0d8e0714, the Megatron-Bridge v0.2.0 submodule): for each
	 * local expert its rows t become t + b * p, the bias times each row's routing probability
	 * (in the activations' type: the router's probabilities are cast back to its logits'), a
	 * product written and a sum that reads two and writes one, then one torch.cat of the
	 * pieces: 6 E bytes per element, two kernels per expert and one. Backward, per expert, the
	 * bias's and the probabilities' gradients: grad * p and its sum over the rows, grad * b and
	 * its sum over h (the add and the cat pass the gradient through as views): 6 E bytes, four
	 * kernels. */
	if (looped > 0) {
		out->fwd_bytes += 6 * looped * E;
		out->fwd_kernels += 2 * loop_experts + 1;
		out->bwd_bytes += 6 * looped * E;
		out->bwd_kernels += 4 * loop_experts;
	}
	if (fp8) {
		/* Gradient outputs of the four GEMMs, cast and transposed. */
		gemm_out = ((a + 2 * kv) + h + (gated ? 2 : 1) * f + h) * T * (E + fp8_out);
		out->bwd_bytes += gemm_out;
		out->bwd_kernels += 4;
	}
}

void kernels_outer(const struct scenario *s, double tokens, int64_t tp, bool first, bool last,
		   struct kernel_cost *out)
{
	const struct model_config *m = &s->model;
	double E = act_bytes(s), h = (double)m->hidden, V = (double)m->vocab / (double)tp;
	memset(out, 0, sizeof *out);
	if (first) {
		/* Embedding lookup: read the rows, write the hidden states; its backward scatters
		 * the gradient rows back. */
		out->fwd_kernels += 1;
		out->fwd_bytes += 2 * tokens * h * E;
		out->bwd_kernels += 1;
		out->bwd_bytes += 2 * tokens * h * E;
	}
	if (last) {
		/* The head GEMM, then the loss over the logits; the final norm before it. */
		out->fwd_kernels += 1 + 1;
		out->fwd_gemms += 1;
		out->fwd_bytes += 2 * tokens * h * E;
		out->bwd_kernels += 2 + 1;
		out->bwd_gemms += 2;
		out->bwd_bytes += 4 * tokens * h * E;
		if (s->runtime.fusion.cross_entropy) {
			out->fwd_kernels += 1;
			out->fwd_bytes += 2 * tokens * V * E;
			out->bwd_kernels += 1;
			out->bwd_bytes += 2 * tokens * V * E;
		} else {
			/* Upcast to fp32, max, subtract-exp, sum, divide: E + 4 + 4 * 2 * 3; the
			 * backward writes the softmax minus one-hot and casts it back. */
			out->fwd_kernels += 5;
			out->fwd_bytes += tokens * V * (E + 4 + 24);
			out->bwd_kernels += 2;
			out->bwd_bytes += tokens * V * (4 + 4 + 4 + E);
		}
	}
}

void kernels_optimizer(const struct scenario *s, double params, double tensors,
		       struct kernel_cost *out)
{
	/* Adam with fp32 master weights: read master, both moments and the gradient (4 bytes
	 * each), write master and moments, write the 16-bit weights: 30 bytes, rounded to 32. */
	double per = 32;
	memset(out, 0, sizeof *out);
	/* BF16 moments (workload.optimizer_state_dtype) read and write 2 bytes less each. */
	per -= 4 * (4 - memory_dtype_bytes(s->workload.optimizer_state_dtype));
	/* The master copy (workload.master_weights): a bf16 copy reads and writes 2 bytes less
	 * each; remainders are read and written beside the bf16 weights, the fp32 value's 4
	 * bytes; without one the 16-bit weights, written anyway, are read instead. */
	if (s->workload.master_weights == MASTER_BF16)
		per -= 4;
	else if (s->workload.master_weights == MASTER_NONE)
		per -= 6;
	if (s->workload.dtype == DTYPE_FP8)
		per += 3;   /* the FP8 weight copies cast from the new weights */
	/* An EMA on the GPU, e = b*e + (1 - b)*w on the fp32 weights: read w and e, write e. */
	if (s->workload.ema == EMA_DEVICE)
		per += 12;
	if (s->runtime.fusion.optimizer) {
		/* apex multi_tensor_apply: 110 tensors or 320 chunks of 65,536 per launch
		 * (csrc/multi_tensor_apply.cuh depth_to_max_tensors / max_blocks). */
		out->fwd_kernels = ceil(params / (320.0 * 65536.0)) + ceil(tensors / 110.0);
		out->fwd_bytes = params * per;
	} else {
		out->fwd_kernels = 10 * tensors;
		out->fwd_bytes = params * per * 2.5;
	}
}
