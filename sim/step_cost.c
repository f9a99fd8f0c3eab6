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

enum { MAX_MODULES = 64 };

struct ctx {
	const struct scenario *s;
	const struct compute *c;
	const struct layout *l;
	double tokens;                  /* per GPU per micro-batch: b * s / cp */
	double gemm_fwd;
	double fused_rows;              /* rows of tensors waiting to join the next GEMM */
	double adapter_fwd;             /* LoRA: the adapters' GEMMs, forward */
	double mla_up_fwd;              /* the MLA up-projections' GEMMs, forward */
	double mlp_fwd;                 /* the dense MLP's GEMMs, forward */
	double frozen_elems;            /* LoRA: the frozen base matrices' elements per GPU */
	double modules;                 /* weight matrices on this GPU (an expert's each) */
	double tensors;                 /* parameter tensors on this GPU, vectors included */
	double col[2], row[2];          /* forward GEMMs of the attention [0] and dense MLP [1]
					   blocks' column- and row-parallel weights (TP split) */
	double module[MAX_MODULES];     /* elements of each weight module on this rank, in
					   forward order (a fused group is one module) */
	int nmodules;
	double pending;                 /* elements of a fused group not yet closed */
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

/*
 * The GPU's own fixed time per memory-bound kernel beyond its bytes at the STREAM rate
 * (compute.c's kernel latency: the launch, the ramp to full bandwidth, the tail wave), as
 * serving charges every kernel it runs (forward.c). GEMMs and attention run at rates measured
 * on whole kernels, which already hold theirs.
 */
double step_kernel_fixed(const struct compute *c, double kernels)
{
	return kernels > 0 ? kernels * compute_kernel_latency(c) : 0;
}

/* FP8 training keeps the output head and the MoE gate in BF16 (DeepSeek-V3 report sec. 3.3:
 * "the embedding module, the output head, MoE gating modules, normalization operators, and
 * attention operators"; Megatron-Core's output_layer and router are not Transformer Engine
 * FP8 modules): the type their GEMMs run in. */
static enum dtype gemm_dtype(const struct scenario *s, bool bf16_in_fp8)
{
	return bf16_in_fp8 && s->workload.dtype == DTYPE_FP8 ? DTYPE_BF16 : s->workload.dtype;
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

/*
 * Tokens one rank routes per micro-batch. With sequence parallelism each of the tp ranks holds
 * 1/tp of the tokens and the experts' etp group gathers its members' shares (Megatron-Core
 * moe/token_dispatcher.py, MoEAlltoAllTokenDispatcher: all-gather over the expert TP group
 * before the all-to-all); with etp = tp that is the whole micro-batch, as before.
 */
static double moe_tokens(const struct ctx *x)
{
	return x->tokens * (double)x->l->etp / (double)x->l->tp;
}

static void gemm_of(void *vctx, const struct model_tensor *t)
{
	struct ctx *x = vctx;
	const struct model_config *m = &x->s->model;
	double tp = (double)x->l->tp, rows = (double)t->rows, cols = (double)t->cols, gemm;
	x->tensors += t->group == TENSOR_EXPERT ? memory_local_experts(x->s) : (double)t->count;
	if (!is_gemm(t))
		return;
	x->modules += t->group == TENSOR_EXPERT ? memory_local_experts(x->s) : (double)t->count;
	/* Experts split over their own tensor-parallel group (strategy.etp). */
	if (t->group == TENSOR_EXPERT)
		tp = (double)x->l->etp;
	if (x->s->workload.lora.rank > 0)
		add_adapter(x, t);
	/* One module's elements on this rank: a fused group's together. */
	x->pending += rows * cols * (double)t->count / (t->tp_split ? tp : 1.0);
	if (!t->fuse_next && x->nmodules < MAX_MODULES) {
		x->module[x->nmodules++] = x->pending;
		x->pending = 0;
	}
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
		double per_expert = moe_tokens(x) * (double)m->moe.top_k * m->moe.capacity_factor *
				    (double)x->l->ep / (double)t->count;
		/* The busiest rank, which the others wait for at the combine, runs the busiest
		 * expert at workload.moe_imbalance times the mean beside local - 1 at the mean.
		 * Each expert is a GEMM of its own: Transformer Engine's GroupedLinear (Megatron-
		 * Core's TEGroupedMLP) issues one cuBLASLt GEMM per expert over its compute streams
		 * (transformer_engine/common/gemm/cublaslt_gemm.cu multi_stream_cublas_gemm,
		 * num_streams 4), not one grouped kernel as serving's fused_moe (forward.c). */
		double busiest = per_expert * memory_busiest_expert(x->s);
		x->gemm_fwd += (local - 1) * compute_gemm_time(x->c, x->s->workload.dtype, per_expert,
							       rows, cols) +
			       compute_gemm_time(x->c, x->s->workload.dtype, busiest, rows, cols);
		return;
	}
	gemm = (double)t->count *
	       compute_gemm_time(x->c, gemm_dtype(x->s, t->group == TENSOR_ROUTER), x->tokens, rows,
				 cols);
	x->gemm_fwd += gemm;
	if (t->tp_split && (t->group == TENSOR_ATTN || t->group == TENSOR_MLP)) {
		int block = t->group == TENSOR_MLP;
		if (t->row_parallel)
			x->row[block] += gemm;
		else
			x->col[block] += gemm;
	}
	if (t->group == TENSOR_MLP)
		x->mlp_fwd += (double)t->count *
			      compute_gemm_time(x->c, x->s->workload.dtype, x->tokens, rows, cols);
	if (model_tensor_is_mla_up(t))
		x->mla_up_fwd += (double)t->count *
				 compute_gemm_time(x->c, x->s->workload.dtype, x->tokens, rows, cols);
	/* The frozen base's matrices (QLoRA dequantizes them before each use). */
	x->frozen_elems += (double)t->count * rows * cols;
}

/*
 * The forward work strategy.recompute_modules repeats before a layer's backward (DeepSeek-V3
 * report sec. 3.2.3): every norm again, each reading its kept input and writing its output (an
 * FP8 copy and its transpose for the GEMM that follows, as the fused FP8 norm does: kernels.c),
 * one launch each fused or five unfused (kernels.c); and the MLA up-projections' GEMMs.
 * Call after model_layer_tensors has filled x->mla_up_fwd.
 */
static double module_recompute(const struct ctx *x, enum layer_kind kind, bool sp)
{
	const struct scenario *s = x->s;
	const struct model_config *m = &s->model;
	double E = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	double out = s->workload.dtype == DTYPE_FP8 ? 2.0 : E;
	double Tn = sp ? x->tokens / (double)x->l->tp : x->tokens;
	double widths = 2.0 * (double)m->hidden, norms = 2, gpu = 0, kernels = 0, gemms = 0;
	double launches;
	if (s->strategy.recompute_modules.norm) {
		if (model_is_mla(m)) {
			widths += (double)(m->mla.q_lora_rank + m->mla.kv_lora_rank);
			norms += (m->mla.q_lora_rank > 0) + 1;
		}
		/* Fused, one pass in and one out; eager, the five kernels' 8 passes kernels.c
		 * counts for the forward. */
		gpu += compute_stream_time(x->c, widths * Tn *
							 (s->runtime.fusion.norm ? E + out : 8 * E));
		kernels += norms * (s->runtime.fusion.norm ? 1 : 5);
	}
	if (s->strategy.recompute_modules.mla_up && model_is_mla(m)) {
		gpu += x->mla_up_fwd;
		gemms += 2;
	}
	if (s->strategy.recompute_modules.mlp && kind == LAYER_DENSE) {
		/* The dense MLP's forward again, its GEMMs and its activation as kernels.c counts
		 * it; with TP its collectives are not repeated here. */
		double f = (double)m->ffn / (double)x->l->tp;
		gpu += x->mlp_fwd + compute_stream_time(x->c, kernels_activation(s, E, &launches) *
								    f * x->tokens);
		gemms += 2;
		kernels += launches;
	}
	if (s->strategy.recompute_modules.moe_act && kind == LAYER_MOE) {
		/* The activation of the routed and shared experts again (DeepSeek-V3 report sec.
		 * 3.3.3), as kernels.c counts its forward, reading its kept input (FP8 under the
		 * block recipe: memory.c). */
		double f = (double)(m->moe.top_k + m->moe.shared_experts) * (double)m->moe.ffn /
			   (double)x->l->etp;
		double in = s->workload.dtype == DTYPE_FP8 && s->workload.fp8_recipe == FP8_BLOCK
				    ? memory_fp8_act_bytes(s) : E;
		gpu += compute_stream_time(x->c, moe_tokens(x) * f * kernels_activation(s, in,
											 &launches));
		kernels += (m->moe.shared_experts > 0 ? 2 : 1) * launches;
	}
	/* The GEMMs run at their measured rates; the memory-bound kernels pay their fixed time. */
	gpu += step_kernel_fixed(x->c, kernels);
	kernels += gemms;
	return kernels > 0 ? step_host_bound(gpu, kernels, step_kernel_gap(s)) : 0;
}

/* The busiest EP rank's routed tokens over the mean: it holds the busiest expert
 * (workload.moe_imbalance times the mean) beside local - 1 experts at the mean. */
static double busiest_rank(const struct ctx *x)
{
	return 1.0 + (memory_busiest_expert(x->s) - 1.0) / memory_local_experts(x->s);
}

/* One all-to-all of the routed tokens at `bytes` per element (a dispatch or a combine), added to
 * pc->ep, routed as collective_plan_routed says (strategy.moe_dispatcher). The busiest rank
 * receives busiest_rank() times the mean and sets the time. */
static void ep_traffic(struct ctx *x, double bytes, struct pass_cost *pc)
{
	const struct model_config *m = &x->s->model;
	const struct node_spec *node = &x->s->cluster.node;
	const struct layout *l = x->l;
	double copy = moe_tokens(x) * (double)m->hidden * bytes * busiest_rank(x);
	struct collective_plan plan;
	struct moe_route r;
	model_moe_route(x->s, (double)m->moe.top_k * m->moe.capacity_factor, &r);
	collective_plan_routed(node, copy, &r, l->ep, node->gpus_per_node / l->etp, &plan);
	step_add_plan(&pc->ep, &plan, 1);
}

/*
 * runtime.zero3_reuse_distance R (DeepSpeed's stage3_max_reuse_distance): the share of a layer's
 * weights gathered again for its backward after a full recompute (none without one). After
 * module i's recompute DeepSpeed walks the modules to come, counting their parameters, and
 * keeps i only if it meets i again before the count passes R (partitioned_param_coordinator.py
 * __params_to_release at v0.6.2): the recompute runs modules i+1 .. k and the backward
 * k .. i+1 before i, so i stays when 2 (n_{i+1} + ... + n_k) <= R. Norm weights are below the
 * persistence threshold (stage3_param_persistence_threshold, 1e5 elements) and never gathered.
 */
static void regather(const struct ctx *x, struct pass_cost *pc)
{
	double R = x->s->runtime.zero3_reuse_distance, after = 0, gone = 0;
	int i;
	pc->regather = pc->regather_modules = 0;
	if (R <= 0 || x->s->strategy.recompute != RECOMPUTE_FULL)
		return;
	for (i = x->nmodules - 1; i >= 0; i--) {
		if (2 * after > R) {
			gone += x->module[i];
			pc->regather_modules++;
		}
		after += x->module[i];
	}
	pc->regather = after > 0 ? gone / after : 0;
}

/*
 * strategy.tp_comm_overlap: what the compute stream waits for Transformer Engine's userbuffers,
 * GEMM by GEMM. Each collective overlaps only the GEMM it is paired with
 * (transformer_engine/pytorch/module/base.py at v2.9, initialize_ub: ring_exchange for
 * qkv_fprop, fc1_fprop, proj_dgrad and fc2_dgrad, split in tp chunks; pipeline for proj_fprop
 * and fc2_fprop, in num_splits 4; bulk for qkv_dgrad, qkv_wgrad, fc1_dgrad and fc1_wgrad;
 * proj_wgrad and fc2_wgrad overlap their dgrad's exchange, "external"), not the whole layer's
 * computation, so a small GEMM cannot hide a collective longer than itself behind a large one.
 * Per block (attention; the dense MLP), with the forward GEMM times gc of its column-parallel
 * and gr of its row-parallel weights, ca an all-gather and cr a reduce-scatter of the block's
 * activations (comm_gemm_overlap.cpp: a ring step moves one chunk while the next computes; a
 * pipelined reduce-scatter sends a chunk as the next one computes, the last one after all):
 *   forward:  max(0, ca - gc (tp-1)/tp)  +  cr/4 + max(0, 3 (cr - gr)/4)
 *   backward: max(0, ca - gr (2 - 1/tp)) (dy gathered under the dgrad and wgrad GEMMs)
 *             + max(0, ca - gc) + max(0, cr - gc) (the input gathered again for the weight
 *             gradient under the dgrad GEMM, Korthikanti et al. 2022 sec. 4.2.2; the input
 *             gradient reduce-scattered under the wgrad GEMM)
 * The dgrad and wgrad GEMMs take their forward's time. MoE layers' experts are not userbuffer
 * GEMMs: their collectives stay beside the layer as a whole.
 */
static void tp_overlap_stall(const struct ctx *x, double ca, double cr, struct pass_cost *pc)
{
	const double splits = 4;
	double tp = (double)x->l->tp;
	int k;
	for (k = 0; k < 2; k++) {
		double gc = x->col[k], gr = x->row[k];
		if (gc <= 0 && gr <= 0)
			continue;
		pc->tp_stall[0] += fmax(0, ca - gc * (tp - 1) / tp) + cr / splits +
				   fmax(0, (splits - 1) * (cr - gr) / splits);
		pc->tp_stall[1] += fmax(0, ca - gr * (2 - 1 / tp)) + fmax(0, ca - gc) +
				   fmax(0, cr - gc);
	}
	/* A full recompute repeats the forward's collectives before the backward. */
	if (x->s->strategy.recompute == RECOMPUTE_FULL)
		pc->tp_stall[1] += pc->tp_stall[0];
}

/* A layer pass's time from its parts (step_host_bound), the parts kept for the report. */
static double pass_parts(double gemm, double attention, double memory, double fixed,
			 double launches, double gap, struct step_pass_parts *out)
{
	out->gemm = gemm;
	out->attention = attention;
	out->memory = memory;
	out->fixed = fixed;
	out->launches = launches;
	out->host = launches * gap;
	out->total = step_host_bound(gemm + attention + memory + fixed, launches, gap);
	return out->total;
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
	double fixed_fwd, fixed_bwd;
	struct kernel_cost kc;
	struct collective_plan plan;
	int64_t per_node_tp = l->tp < node->gpus_per_node ? l->tp : node->gpus_per_node;

	memset(pc, 0, sizeof *pc);
	x->gemm_fwd = 0;
	x->fused_rows = 0;
	x->adapter_fwd = 0;
	x->mla_up_fwd = 0;
	x->mlp_fwd = 0;
	x->frozen_elems = 0;
	x->modules = 0;
	x->tensors = 0;
	x->col[0] = x->col[1] = x->row[0] = x->row[1] = 0;
	x->nmodules = 0;
	x->pending = 0;
	model_layer_tensors(m, kind, gemm_of, x);
	regather(x, pc);
	pc->modules = x->modules;
	pc->tensors = x->tensors;
	/* Attention scores and values: 2 * 2 * b * s_q * s_kv * a * d FLOPs forward (QK^T, AV). */
	if (flash) {
		/* A causal fused kernel skips the masked half, and the blocks outside a sliding
		 * window (FlashAttention-2's window_size; Dao 2023). */
		double flops = 4 * b * sq * seq * heads * d * 0.5 *
			       model_attention_share_packed(m, seq, (double)s->workload.document_len);
		/* The kernel's rate by head dimension and by the sequence it runs over: a rank's
		 * share of it under context parallelism, one document when packed ones are
		 * masked apart (compute.c). */
		double kseq = s->workload.document_len > 0 && (double)s->workload.document_len < sq
				      ? (double)s->workload.document_len
				      : sq;
		attn_fwd = compute_attention_time(x->c, s->workload.dtype, flops,
						  s->runtime.attention_kernel) /
			   (compute_attention_head_dim_scale(s->runtime.attention_kernel, d) *
			    compute_attention_seq_scale(x->c, s->runtime.attention_kernel, kseq));
		attn_bwd = 2.5 * attn_fwd;
		/* The rates above are measured on sequences of 512 and more; a shorter kernel
		 * still takes the GPU's fixed time per kernel (compute_kernel_latency): one launch
		 * forward and two backward, as kernels.c counts them. */
		attn_fwd = fmax(attn_fwd, compute_kernel_latency(x->c));
		attn_bwd = fmax(attn_bwd, 2 * compute_kernel_latency(x->c));
	} else {
		attn_fwd = 2 * compute_gemm_time(x->c, s->workload.dtype, b * heads * sq, seq, d);
		attn_bwd = 2 * attn_fwd;
	}
	/* The memory-bound kernels around them, and every launch (kernels: the framework's
	 * fusion), TP and EP collectives included. */
	kernels_layer(s, kind, x->tokens, l->tp, sp, &kc);
	core_elem = compute_stream_time(x->c, kc.core_bytes);
	fixed_fwd = step_kernel_fixed(x->c, kc.fwd_kernels - kc.fwd_gemms);
	fixed_bwd = step_kernel_fixed(x->c, kc.bwd_kernels - kc.bwd_gemms);
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
		pc->fwd = pass_parts(x->gemm_fwd + x->adapter_fwd, attn_fwd,
				     compute_stream_time(x->c, kc.fwd_bytes + deq), fixed_fwd,
				     kc.fwd_kernels + collectives + 2 * adapters, gap, &pc->part[0]);
		pc->bwd = pass_parts(x->gemm_fwd + 2 * x->adapter_fwd, attn_bwd,
				     compute_stream_time(x->c, kc.bwd_bytes + deq), fixed_bwd,
				     kc.bwd_kernels - 4 + collectives + 4 * adapters, gap, &pc->part[1]);
		pc->wgrad = x->adapter_fwd;     /* only the adapters' weights get gradients */
	} else {
		pc->fwd = pass_parts(x->gemm_fwd, attn_fwd, compute_stream_time(x->c, kc.fwd_bytes),
				     fixed_fwd, kc.fwd_kernels + collectives, gap, &pc->part[0]);
		pc->bwd = pass_parts(2 * x->gemm_fwd, attn_bwd, compute_stream_time(x->c, kc.bwd_bytes),
				     fixed_bwd, kc.bwd_kernels + collectives, gap, &pc->part[1]);
		/* Of the two backward GEMMs per forward GEMM, dW = X^T dY is the weight pass's;
		 * dX, attention's backward, the memory-bound kernels and the collectives are the
		 * input-gradient pass's (Qi et al. 2024, sec. 2). */
		pc->wgrad = x->gemm_fwd;
	}
	if (s->strategy.recompute == RECOMPUTE_FULL)
		pc->recompute = pc->fwd;
	else if (s->strategy.recompute == RECOMPUTE_SELECTIVE && !flash)
		pc->recompute = step_host_bound(attn_fwd + core_elem, 3, gap);
	pc->recompute += module_recompute(x, kind, sp);
	/* Tensor parallelism: per layer two all-reduces of the activations (Shoeybi et al. 2019,
	 * fig. 4), or with sequence parallelism two all-gathers and two reduce-scatters of the same
	 * size (Korthikanti et al. 2022, sec. 4.2.2). */
	if (l->tp > 1) {
		double bytes = b * sq * (double)m->hidden * B;
		if (sp) {
			double ca;
			collective_plan(node, COLLECTIVE_ALLGATHER, bytes, l->tp, per_node_tp, &plan);
			step_add_plan(&pc->tp, &plan, 2);
			ca = collective_time(node, &plan);
			collective_plan(node, COLLECTIVE_REDUCESCATTER, bytes, l->tp, per_node_tp, &plan);
			step_add_plan(&pc->tp, &plan, 2);
			if (s->strategy.tp_comm_overlap)
				tp_overlap_stall(x, ca, collective_time(node, &plan), pc);
		} else {
			collective_plan(node, COLLECTIVE_ALLREDUCE, bytes, l->tp, per_node_tp, &plan);
			step_add_plan(&pc->tp, &plan, 2);
		}
		/* Of them, what the backward moves for the two column-parallel Linears' input
		 * gradients: `plan` is their reduce-scatter, or without sequence parallelism their
		 * all-reduce. */
		if (s->strategy.tp_async_backward)
			step_add_plan(&pc->tp_async, &plan, 2);
		if (s->strategy.recompute == RECOMPUTE_FULL)
			pc->tp_recompute = pc->tp;
	}
	/* Expert parallelism: dispatch and combine all-to-alls of the routed tokens. Megatron-Core
	 * numbers the expert groups etp fastest, then ep (parallel_state.py, expert rank
	 * generator), so an EP group's ranks are etp apart. */
	if (kind == LAYER_MOE && l->ep > 1) {
		ep_traffic(x, x->s->workload.fp8_recipe == FP8_BLOCK && x->s->workload.dtype ==
				      DTYPE_FP8 ? memory_fp8_act_bytes(s) : B, pc);
		ep_traffic(x, B, pc);
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

/*
 * The multi-token prediction modules after the head (DeepSeek-V3 report sec. 2.2, eq. 21-23):
 * each embeds the next tokens, norms and concatenates them with the previous depth's hidden
 * states, projects 2h to h, runs one transformer layer and the shared head with its loss. Its
 * TP and EP traffic joins the head pass's. pc holds the head pass on entry.
 */
static void mtp_cost(struct ctx *x, struct pass_cost *pc)
{
	const struct model_config *m = &x->s->model;
	double d = (double)m->mtp_layers, h = (double)m->hidden, tp = (double)x->l->tp;
	double proj = compute_gemm_time(x->c, x->s->workload.dtype, x->tokens, h / tp, 2 * h);
	struct pass_cost lc;
	struct kernel_cost emb;
	int i;
	kernels_outer(x->s, x->tokens, x->l->tp, true, false, &emb);
	layer_cost(x, model_layer_kind(m, m->layers), &lc);
	pc->fwd += d * (lc.fwd + proj + compute_stream_time(x->c, emb.fwd_bytes) +
			step_kernel_fixed(x->c, emb.fwd_kernels) + pc->fwd);
	pc->bwd += d * (lc.bwd + lc.recompute + 2 * proj +
			compute_stream_time(x->c, emb.bwd_bytes) +
			step_kernel_fixed(x->c, emb.bwd_kernels) + pc->bwd);
	for (i = 0; i < 3; i++) {
		pc->tp.bytes[i] += d * lc.tp.bytes[i];
		pc->tp.latency[i] += d * lc.tp.latency[i];
		pc->ep.bytes[i] += d * lc.ep.bytes[i];
		pc->ep.latency[i] += d * lc.ep.latency[i];
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
	pc->fwd = compute_stream_time(x->c, kc.fwd_bytes) +
		  step_kernel_fixed(x->c, kc.fwd_kernels - kc.fwd_gemms);
	pc->bwd = compute_stream_time(x->c, kc.bwd_bytes) +
		  step_kernel_fixed(x->c, kc.bwd_kernels - kc.bwd_gemms);
	if (last) {
		double head = compute_gemm_time(x->c, gemm_dtype(x->s, true), x->tokens, V, h);
		pc->fwd += head;
		pc->bwd += 2 * head;
		pc->wgrad = x->s->workload.lora.rank > 0 ? 0 : head;  /* LoRA: a frozen head */
	}
	pc->fwd = step_host_bound(pc->fwd, kc.fwd_kernels, gap);
	pc->bwd = step_host_bound(pc->bwd, kc.bwd_kernels, gap);
	if (pc->wgrad > pc->bwd)
		pc->wgrad = pc->bwd;
	if (last && m->mtp_layers > 0)
		mtp_cost(x, pc);
}

static void sum_mla_up(void *ctx, const struct model_tensor *t)
{
	if (model_tensor_is_mla_up(t))
		*(double *)ctx += (double)t->rows * (double)t->cols * (double)t->count;
}

static double mla_up_params(const struct model_config *m)
{
	double n = 0;
	model_layer_tensors(m, LAYER_DENSE, sum_mla_up, &n);
	return n;
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
	double attn_factor = s->workload.flash_attention
				     ? 2 * model_attention_share_packed(m, (double)s->workload.seq_len,
									(double)s->workload.document_len)
				     : 4;
	model_count_params(m, &p);
	emb = p.embedding - (m->tie_embeddings ? 0 : head);
	attn_width = model_is_mla(m) ? (double)m->heads *
			(double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim + m->mla.v_head_dim) / 2
				     : (double)m->heads * (double)m->head_dim;
	fwd = 2 * (p.active - emb - (m->tie_embeddings ? 0 : head)) + 2 * head +
	      attn_factor * (double)s->workload.seq_len * attn_width * (double)m->layers;
	/* DeepSeek-V3 report sec. 2.2: each MTP module adds a layer of the last kind (its active
	 * parameters), its 2h x h projection and the head again, with the same attention term. */
	if (m->mtp_layers > 0) {
		double layer = p.per_layer[model_layer_kind(m, m->layers)];
		if (model_layer_kind(m, m->layers) == LAYER_MOE)
			layer -= (p.total - p.active) / (double)(m->layers - m->moe.dense_layers);
		fwd += (double)m->mtp_layers *
		       (2 * (layer + 2 * (double)m->hidden * (double)m->hidden) + 2 * head +
			attn_factor * (double)s->workload.seq_len * attn_width);
	}
	out->tokens = tokens;
	/* LoRA computes no weight gradients for the frozen base: forward and input gradients,
	 * 2 + 2 FLOPs per parameter and token, the count NeMo's LoRA rows report (NeMo
	 * performance_summary.md: 7B LoRA, 24824 tokens/s at 663 TFLOP/s). */
	out->model_flops = (s->workload.lora.rank > 0 ? 2 : 3) * fwd * tokens;
	out->hardware_flops = out->model_flops;
	if (s->strategy.recompute == RECOMPUTE_FULL)
		out->hardware_flops += fwd * tokens;
	else if (s->strategy.recompute_modules.mla_up && model_is_mla(m))
		/* The up-projections' forward again: 2 FLOPs per weight and token, every layer. */
		out->hardware_flops += 2 * mla_up_params(m) * (double)(m->layers + m->mtp_layers) *
				       tokens;
	if (s->strategy.recompute != RECOMPUTE_FULL && s->strategy.recompute_modules.mlp) {
		/* The dense MLPs' forward again: 2 FLOPs per weight and token. */
		double dense = (double)model_layers_of_kind(m, LAYER_DENSE);
		double w = (m->mlp == MLP_SWIGLU ? 3.0 : 2.0) * (double)m->hidden * (double)m->ffn;
		out->hardware_flops += 2 * w * dense * tokens;
	}
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
