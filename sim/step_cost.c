/*
 * step_cost: what one pass of a training step costs on one GPU — the layer's GEMMs (with LoRA's
 * adapters), attention, the memory-bound kernels of `kernels` and their launches, and its TP, EP
 * and CP traffic — and the step's FLOP counts. Plan stage, part of step (step_int.h).
 * Kernel costs: forward GEMMs from the layer's tensors, backward twice the forward GEMMs
 * (gradients of inputs and of weights: Narayanan et al. 2021, sec. 5.1), FlashAttention-2's
 * backward 2.5x its forward (Dao 2023, sec. 3.1: five matrix products against two).
 */
#include "step_int.h"

#include <math.h>
#include <string.h>

#include "kernels.h"
#include "memory.h"
#include "model.h"

void step_add_plan(struct traffic *t, const struct collective_plan *p, double times)
{
	int i;
	for (i = 0; i < p->nphases; i++) {
		t->bytes[p->phase[i].link] += p->phase[i].bytes * times;
		t->latency[p->phase[i].link] += p->phase[i].latency * times;
	}
}

struct ctx {
	const struct scenario *s;
	const struct compute *c;
	const struct layout *l;
	double tokens;                  /* per GPU per micro-batch: b * s / cp */
	double gemm_fwd;
	double fused_rows;              /* rows of tensors waiting to join the next GEMM */
	double adapter_fwd;             /* LoRA: the adapters' GEMMs, forward */
	double frozen_elems;            /* LoRA: the frozen base matrices' elements per GPU */
};

/* The host's time to issue one kernel (framework dispatch and launch), none when the step
 * replays CUDA graphs (the GPU launches a graph's kernels itself: NVIDIA CUDA Programming Guide,
 * "CUDA Graphs"). */
double step_kernel_gap(const struct scenario *s)
{
	return s->runtime.cuda_graphs ? 0 : s->runtime.kernel_overhead;
}

/* CUDA kernels run asynchronously: the host queues them ahead of the GPU, which waits only when
 * they are shorter than the host's time to issue them (PyTorch docs, "CUDA semantics",
 * asynchronous execution; the performance tuning guide's CPU-bound case). A pass takes the
 * longer of its GPU time and its launches' host time. */
double step_host_bound(double gpu, double kernels, double gap)
{
	return fmax(gpu, kernels * gap);
}

/* Every matrix a layer multiplies by (routers included); vectors and embeddings are not GEMMs. */
static bool is_gemm(const struct model_tensor *t)
{
	return t->rows > 1 && t->group != TENSOR_EMBED && t->group != TENSOR_POSITION &&
	       t->group != TENSOR_NORM;
}

/* LoRA (Hu et al. 2021): x A, then (x A) B, beside the frozen W, A cols x r and B r x rows,
 * each on this GPU's TP share of W's rows or columns, in 16 bits; every target tensor has its
 * own adapter, fused with its neighbours or not. */
static void add_adapter(struct ctx *x, const struct model_tensor *t)
{
	double tp = (double)x->l->tp, r = (double)x->s->workload.lora.rank;
	double cols = (double)t->cols / (t->tp_split && t->row_parallel ? tp : 1.0);
	double rows = (double)t->rows / (t->tp_split && !t->row_parallel ? tp : 1.0);
	enum dtype ad = x->s->workload.dtype == DTYPE_FP32 ? DTYPE_FP32 : DTYPE_BF16;
	if (!memory_lora_target(x->s, t))
		return;
	x->adapter_fwd += (double)t->count * (compute_gemm_time(x->c, ad, x->tokens, r, cols) +
					       compute_gemm_time(x->c, ad, x->tokens, rows, r));
}

static void gemm_of(void *vctx, const struct model_tensor *t)
{
	struct ctx *x = vctx;
	const struct model_config *m = &x->s->model;
	double tp = (double)x->l->tp, rows = (double)t->rows, cols = (double)t->cols;
	if (!is_gemm(t))
		return;
	if (x->s->workload.lora.rank > 0)
		add_adapter(x, t);
	/* Tensors sharing an input run as one GEMM of their rows together. */
	if (t->fuse_next) {
		x->fused_rows += rows;
		return;
	}
	rows += x->fused_rows;
	x->fused_rows = 0;
	/* Column-parallel weights split their output rows over TP, row-parallel ones their
	 * input columns: the same FLOPs, different GEMM shapes. */
	if (t->tp_split && t->row_parallel)
		cols /= tp;
	else if (t->tp_split)
		rows /= tp;
	if (t->group == TENSOR_EXPERT) {
		/* Balanced routing: this rank's E/ep experts see the tokens of the whole EP group,
		 * top_k copies each, padded to the capacity factor. */
		double local = (double)t->count / (double)x->l->ep;
		double per_expert = x->tokens * (double)m->moe.top_k * m->moe.capacity_factor *
				    (double)x->l->ep / (double)t->count;
		x->gemm_fwd += local * compute_gemm_time(x->c, x->s->workload.dtype, per_expert, rows,
							 cols);
		return;
	}
	x->gemm_fwd += (double)t->count *
		       compute_gemm_time(x->c, x->s->workload.dtype, x->tokens, rows, cols);
	/* The frozen base's matrices (QLoRA dequantizes them before each use). */
	x->frozen_elems += (double)t->count * rows * cols;
}

static void layer_cost(struct ctx *x, enum layer_kind kind, struct pass_cost *pc)
{
	const struct scenario *s = x->s;
	const struct model_config *m = &s->model;
	const struct node_spec *node = &s->cluster.node;
	const struct layout *l = x->l;
	double tp = (double)l->tp, B = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	double b = (double)s->workload.micro_batch, seq = (double)s->workload.seq_len;
	double sq = seq / (double)l->cp, heads = (double)m->heads / tp;
	double d = model_is_mla(m) ? (double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim)
				   : (double)m->head_dim;
	bool sp = s->strategy.sequence_parallel && l->tp > 1, flash = s->workload.flash_attention;
	double attn_fwd, attn_bwd, core_elem = 0, gap = step_kernel_gap(s), collectives;
	struct kernel_cost kc;
	struct collective_plan plan;
	int64_t per_node_tp = l->tp < node->gpus_per_node ? l->tp : node->gpus_per_node;

	memset(pc, 0, sizeof *pc);
	x->gemm_fwd = 0;
	x->fused_rows = 0;
	x->adapter_fwd = 0;
	x->frozen_elems = 0;
	model_layer_tensors(m, kind, gemm_of, x);
	/* Attention scores and values: 2 * 2 * b * s_q * s_kv * a * d FLOPs forward (QK^T, AV). */
	if (flash) {
		/* A causal fused kernel skips the masked half. */
		double flops = 4 * b * sq * seq * heads * d * 0.5;
		attn_fwd = compute_attention_time(x->c, s->workload.dtype, flops);
		attn_bwd = 2.5 * attn_fwd;
	} else {
		attn_fwd = 2 * compute_gemm_time(x->c, s->workload.dtype, b * heads * sq, seq, d);
		attn_bwd = 2 * attn_fwd;
	}
	/* The memory-bound kernels around them, and every launch (kernels: the framework's
	 * fusion), TP and EP collectives included. */
	kernels_layer(s, kind, x->tokens, l->tp, sp, &kc);
	core_elem = compute_stream_time(x->c, kc.core_bytes);
	collectives = (l->tp > 1 ? (sp ? 4 : 2) : 0) + (kind == LAYER_MOE && l->ep > 1 ? 2 : 0);
	if (s->workload.lora.rank > 0) {
		/* LoRA trains only the adapters: the frozen base needs the gradient of its input
		 * (one GEMM per forward GEMM) but none of its weights; the adapters need both, and
		 * launch four small GEMMs forward and backward per target. QLoRA (Dettmers et al.
		 * 2023) dequantizes each frozen weight to 16 bits before every use, forward and
		 * backward: read at its stored size, written at 2 bytes (bitsandbytes dequantize). */
		bool quantized = s->workload.dtype == DTYPE_INT4 || s->workload.dtype == DTYPE_INT8;
		double wq = memory_weight_bytes(s->workload.dtype, (double)s->workload.quant_group);
		double deq = quantized ? x->frozen_elems * (wq + 2) : 0;
		double adapters = s->workload.lora.targets == LORA_ALL ? 7 : 4;
		pc->fwd = step_host_bound(x->gemm_fwd + x->adapter_fwd + attn_fwd +
					     compute_stream_time(x->c, kc.fwd_bytes + deq),
				     kc.fwd_kernels + collectives + 2 * adapters, gap);
		pc->bwd = step_host_bound(x->gemm_fwd + 2 * x->adapter_fwd + attn_bwd +
					     compute_stream_time(x->c, kc.bwd_bytes + deq),
				     kc.bwd_kernels - 4 + collectives + 4 * adapters, gap);
		pc->wgrad = x->adapter_fwd;     /* only the adapters' weights get gradients */
	} else {
		pc->fwd = step_host_bound(x->gemm_fwd + attn_fwd +
					     compute_stream_time(x->c, kc.fwd_bytes),
				     kc.fwd_kernels + collectives, gap);
		pc->bwd = step_host_bound(2 * x->gemm_fwd + attn_bwd +
					     compute_stream_time(x->c, kc.bwd_bytes),
				     kc.bwd_kernels + collectives, gap);
		/* Of the two backward GEMMs per forward GEMM, dW = X^T dY is the weight pass's;
		 * dX, attention's backward, the memory-bound kernels and the collectives are the
		 * input-gradient pass's (Qi et al. 2024, sec. 2). */
		pc->wgrad = x->gemm_fwd;
	}
	if (s->strategy.recompute == RECOMPUTE_FULL)
		pc->recompute = pc->fwd;
	else if (s->strategy.recompute == RECOMPUTE_SELECTIVE && !flash)
		pc->recompute = step_host_bound(attn_fwd + core_elem, 3, gap);
	/* Tensor parallelism: per layer two all-reduces of the activations (Shoeybi et al. 2019,
	 * fig. 4), or with sequence parallelism two all-gathers and two reduce-scatters of the same
	 * size (Korthikanti et al. 2022, sec. 4.2.2). */
	if (l->tp > 1) {
		double bytes = b * sq * (double)m->hidden * B;
		if (sp) {
			collective_plan(node, COLLECTIVE_ALLGATHER, bytes, l->tp, per_node_tp, &plan);
			step_add_plan(&pc->tp, &plan, 2);
			collective_plan(node, COLLECTIVE_REDUCESCATTER, bytes, l->tp, per_node_tp, &plan);
			step_add_plan(&pc->tp, &plan, 2);
		} else {
			collective_plan(node, COLLECTIVE_ALLREDUCE, bytes, l->tp, per_node_tp, &plan);
			step_add_plan(&pc->tp, &plan, 2);
		}
		if (s->strategy.recompute == RECOMPUTE_FULL)
			pc->tp_recompute = pc->tp;
	}
	/* Expert parallelism: dispatch and combine all-to-alls of the routed tokens. */
	if (kind == LAYER_MOE && l->ep > 1) {
		int64_t stride = l->tp * l->cp, pn = node->gpus_per_node / stride;
		double bytes = x->tokens * (double)m->moe.top_k * m->moe.capacity_factor *
			       (double)m->hidden * B;
		if (pn < 1)
			pn = 1;
		collective_plan(node, COLLECTIVE_ALLTOALL, bytes, l->ep, pn < l->ep ? pn : l->ep,
				&plan);
		step_add_plan(&pc->ep, &plan, 2);
	}
	/* Context parallelism: ring attention passes each rank's keys and values around the ring
	 * (Liu et al. 2023), cp - 1 hops of 2 * tokens * kv_heads * d. */
	if (l->cp > 1) {
		double kvh = model_is_mla(m) ? heads : fmax(1.0, (double)m->kv_heads / tp);
		double bytes = 2 * b * sq * kvh * d * B * (double)(l->cp - 1);
		int64_t pn = node->gpus_per_node / l->tp;
		collective_plan(node, COLLECTIVE_SENDRECV, bytes, 2, pn >= l->cp ? 2 : 1, &plan);
		step_add_plan(&pc->cp, &plan, 1);
	}
}

/* The embedding lookup (first stage) and the output head with its loss (last stage). */
static void outer_cost(struct ctx *x, bool first, bool last, struct pass_cost *pc)
{
	const struct model_config *m = &x->s->model;
	double tp = (double)x->l->tp, V = (double)m->vocab / tp, h = (double)m->hidden;
	double gap = step_kernel_gap(x->s);
	struct kernel_cost kc;
	memset(pc, 0, sizeof *pc);
	kernels_outer(x->s, x->tokens, x->l->tp, first, last, &kc);
	pc->fwd = compute_stream_time(x->c, kc.fwd_bytes);
	pc->bwd = compute_stream_time(x->c, kc.bwd_bytes);
	if (last) {
		double head = compute_gemm_time(x->c, x->s->workload.dtype, x->tokens, V, h);
		pc->fwd += head;
		pc->bwd += 2 * head;
		pc->wgrad = x->s->workload.lora.rank > 0 ? 0 : head;  /* LoRA: a frozen head */
	}
	pc->fwd = step_host_bound(pc->fwd, kc.fwd_kernels, gap);
	pc->bwd = step_host_bound(pc->bwd, kc.bwd_kernels, gap);
	if (pc->wgrad > pc->bwd)
		pc->wgrad = pc->bwd;
}

/* Model FLOPs per step (Korthikanti et al. 2022, sec. 6: 72*B*s*l*h^2*(1 + s/(6h) + V/(12hl))
 * for GPT), generalised: 3 x (2 x active non-embedding parameters + the head, plus attention)
 * per token; the hardware count adds a forward for full recompute. Attention is counted as the
 * kernel computes it (layer_costs): 4*s*h per token per layer (QK^T and AV) unfused, half of it
 * with a causal fused kernel (FlashAttention-2 skips the blocks above the diagonal: Dao 2023,
 * sec. 3.1.1), so MFU stays below 100 % at long sequences where the full count passed it. */
void step_count_flops(const struct scenario *s, struct step_plan *out)
{
	const struct model_config *m = &s->model;
	struct model_params p;
	double tokens = (double)s->workload.global_batch * (double)s->workload.seq_len;
	double head = (double)m->vocab * (double)m->hidden;
	double emb = 0, attn_width, fwd;
	model_count_params(m, &p);
	emb = p.embedding - (m->tie_embeddings ? 0 : head);
	attn_width = model_is_mla(m) ? (double)m->heads *
			(double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim + m->mla.v_head_dim) / 2
				     : (double)m->heads * (double)m->head_dim;
	fwd = 2 * (p.active - emb - (m->tie_embeddings ? 0 : head)) + 2 * head +
	      (s->workload.flash_attention ? 2 : 4) * (double)s->workload.seq_len * attn_width *
		      (double)m->layers;
	out->tokens = tokens;
	/* LoRA computes no weight gradients for the frozen base: forward and input gradients,
	 * 2 + 2 FLOPs per parameter and token, the count NeMo's LoRA rows report (NeMo
	 * performance_summary.md: 7B LoRA, 24824 tokens/s at 663 TFLOP/s). */
	out->model_flops = (s->workload.lora.rank > 0 ? 2 : 3) * fwd * tokens;
	out->hardware_flops = out->model_flops;
	if (s->strategy.recompute == RECOMPUTE_FULL)
		out->hardware_flops += fwd * tokens;
}

void step_costs(const struct scenario *s, const struct compute *c, const struct layout *l,
		struct pass_cost layer[2], struct pass_cost *embed, struct pass_cost *head)
{
	struct ctx x;
	memset(&x, 0, sizeof x);
	x.s = s;
	x.c = c;
	x.l = l;
	x.tokens = (double)s->workload.micro_batch * (double)s->workload.seq_len / (double)l->cp;
	memset(&layer[LAYER_MOE], 0, sizeof layer[LAYER_MOE]);
	layer_cost(&x, LAYER_DENSE, &layer[LAYER_DENSE]);
	outer_cost(&x, true, false, embed);
	outer_cost(&x, false, true, head);
	if (model_is_moe(&s->model))
		layer_cost(&x, LAYER_MOE, &layer[LAYER_MOE]);
}
