/*
 * memory: analytic memory per GPU and per host; domain stage, knows nothing of events or time.
 * Model states follow ZeRO (Rajbhandari et al. 2020, sec. 3.1 and 5): mixed-precision Adam keeps
 * 2 bytes of weights, 2 of gradients and K = 12 of fp32 states per parameter; ZeRO-1, -2, -3
 * shard K, then gradients, then weights. Activations: Korthikanti et al. 2022 through model.c.
 * The searches for what fits and the advice on a misfit are in memory_fit.c.
 */
#include "memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "layout.h"
#include "memory_int.h"
#include "units.h"
#include "xalloc.h"

static const char *const part_names[MEMORY_PARTS] = {
	"weights", "gradients", "optimizer", "activations", "kv_cache", "buffers", "overhead",
};

const char *memory_part_name(enum memory_part p)
{
	return part_names[p];
}

double memory_dtype_bytes(enum dtype dtype)
{
	switch (dtype) {
	case DTYPE_FP32:
	case DTYPE_TF32:
		return 4;
	case DTYPE_BF16:
	case DTYPE_FP16:
		return 2;
	case DTYPE_FP8:
	case DTYPE_INT8:
		return 1;
	default:
		return 0.5;
	}
}

/*
 * Bytes per stored weight of a quantized linear layer, scales included:
 * int4: a 4-bit weight plus an fp16 scale and a 4-bit zero point per group (AWQ, Lin et al. 2024;
 * group 128 gives 0.5195 bytes); int8: an fp16 scale per group; fp8: one fp32 scale per 128x128
 * block (DeepSeek-V3 report sec. 3.3.2).
 */
double memory_weight_bytes(enum dtype dtype, double group)
{
	switch (dtype) {
	case DTYPE_INT4:
		return 0.5 + (2.0 + 0.5) / group;
	case DTYPE_INT8:
		return 1.0 + 2.0 / group;
	case DTYPE_FP8:
		return 1.0 + 4.0 / (128.0 * 128.0);
	default:
		return memory_dtype_bytes(dtype);
	}
}

/* Per-GPU parameter sums for one stage, split by how they are stored and sharded. */
struct param_sum {
	const struct scenario *s;
	double tp, ep, etp;
	double dense, expert;           /* elements per GPU */
	double dense_matrix, expert_matrix; /* of which in quantizable linear layers */
	double dense_factored, expert_factored; /* Adafactor: rows + cols per matrix */
	double lora;                    /* adapter elements per GPU */
	double unit;                    /* elements of the tensors summed into this struct */
};

static void param_sum_init(struct param_sum *p, const struct scenario *s)
{
	memset(p, 0, sizeof *p);
	p->s = s;
	p->tp = (double)s->strategy.tp;
	p->ep = (double)s->strategy.ep;
	p->etp = (double)strategy_etp(&s->strategy);
}

/* The weights quantization and LoRA apply to: the projections of attention, MLP and experts
 * (routers, norms, embeddings and the head stay in 16-bit, as AWQ/GPTQ keep them). */
static bool is_quantized_linear(const struct model_tensor *t)
{
	return t->rows > 1 && (t->group == TENSOR_ATTN || t->group == TENSOR_MLP ||
			       t->group == TENSOR_EXPERT || t->group == TENSOR_SHARED);
}

bool memory_lora_target(const struct scenario *s, const struct model_tensor *t)
{
	if (!is_quantized_linear(t))
		return false;
	return t->group == TENSOR_ATTN || s->workload.lora.targets == LORA_ALL;
}

/* One tensor's part of a param_sum. A layer's parts are kept (struct stage_calc) and added
 * again for each layer of its kind: the same values in the same order as add_tensor's. */
struct tensor_part {
	double n, factored, lora;
	double one;                 /* one module's share: n over the tensor's copies */
	bool expert, matrix, adapted;
};

static void tensor_part(const struct param_sum *p, const struct model_tensor *t,
			struct tensor_part *a)
{
	double split = t->tp_split ? p->tp : 1.0;
	double count = (double)t->count;
	if (t->group == TENSOR_EXPERT) {
		count = memory_local_experts(p->s);
		if (t->tp_split)
			split = p->etp;
	}
	/* Serving keeps experts whole on the EP ranks of the TP group (vLLM FusedMoE), or of the
	 * EP group beyond it with data-parallel attention (ep > tp: forward.h). */
	if (t->group == TENSOR_EXPERT && p->s->workload.mode == MODE_INFER && p->ep > 1)
		split = fmax(1.0, p->tp / p->ep);
	a->n = (double)t->rows * (double)t->cols * count / split;
	a->one = (double)t->rows * (double)t->cols / split;
	/* Shazeer and Stern 2018, sec. 3: a factored second moment keeps rows + cols values per
	 * matrix; vectors keep one value per element. */
	a->factored = t->rows > 1 ? ((double)t->rows + (double)t->cols) * count / split : a->n;
	a->expert = t->group == TENSOR_EXPERT;
	a->matrix = is_quantized_linear(t);
	/* Hu et al. 2021 (LoRA), sec. 4.1: W + B*A with A r x cols and B rows x r. */
	a->adapted = p->s->workload.lora.rank > 0 && memory_lora_target(p->s, t);
	a->lora = a->adapted ? (double)p->s->workload.lora.rank * ((double)t->rows +
				(double)t->cols) * count / split : 0;
}

static void add_part(struct param_sum *p, const struct tensor_part *a)
{
	if (a->expert) {
		p->expert += a->n;
		p->expert_factored += a->factored;
		if (a->matrix)
			p->expert_matrix += a->n;
	} else {
		p->dense += a->n;
		p->dense_factored += a->factored;
		if (a->matrix)
			p->dense_matrix += a->n;
	}
	if (a->adapted)
		p->lora += a->lora;
	p->unit += a->n;
}
static void add_tensor(void *ctx, const struct model_tensor *t)
{
	struct tensor_part a;
	tensor_part(ctx, t, &a);
	add_part(ctx, &a);
}

enum { LAYER_PARTS = 64 };
struct layer_parts {              /* one layer's, in model_layer_tensors' order */
	struct tensor_part part[LAYER_PARTS];
	int n;
};
struct part_recorder {
	struct param_sum p;
	struct layer_parts *out;
};

static void record_tensor(void *ctx, const struct model_tensor *t)
{
	struct part_recorder *r = ctx;
	BUG_ON(r->out->n >= LAYER_PARTS);
	tensor_part(&r->p, t, &r->out->part[r->out->n++]);
}

struct outer_filter {
	struct param_sum *sum;
	bool first, last;
	bool tied_copy;                 /* last stage of a pipeline with tied embeddings */
	bool mtp_copy;                  /* last stage of a pipeline with MTP modules */
};

static void add_outer(void *ctx, const struct model_tensor *t)
{
	struct outer_filter *f = ctx;
	bool on_first = t->group == TENSOR_EMBED || t->group == TENSOR_POSITION;
	if ((on_first && f->first) || (!on_first && f->last))
		add_tensor(f->sum, t);
	/* Megatron keeps a second copy of a tied embedding on the last stage as its head. */
	if (t->group == TENSOR_EMBED && f->tied_copy) {
		struct model_tensor head = *t;
		head.group = TENSOR_HEAD;
		add_tensor(f->sum, &head);
	}
	/* The MTP modules embed the next tokens with the main model's embedding (DeepSeek-V3
	 * report sec. 2.2); a pipeline whose first stage holds it keeps a copy on the last, as
	 * Megatron-Core's GPTModel builds its embedding where mtp_process is set. */
	if (t->group == TENSOR_EMBED && f->mtp_copy)
		add_tensor(f->sum, t);
}

/* Everything a stage computes from, for one micro-batch size. */
struct stage_calc {
	const struct scenario *s;
	const struct layout *l;
	int64_t micro_batch;
	double layer_units[2];          /* per-GPU elements of one dense / MoE layer (unsharded) */
	double module_units[2];         /* of its largest module (one tensor, one expert's) */
	double embed_unit, head_unit;   /* per-GPU elements of the embedding and of the head */
	struct layer_parts layer[2];    /* one dense / MoE layer's tensor parts */
	struct param_sum sum;           /* the last stage's, shared by stages with its layers and */
	int64_t sum_layers, sum_moe;    /* ends (sum_layers < 0: none yet) */
	bool sum_first, sum_last;
};

double memory_busiest_expert(const struct scenario *s)
{
	if (s->workload.mode == MODE_INFER)
		return fmax(1.0, s->workload.moe_imbalance /
					 (1.0 + (double)s->serving.redundant_experts));
	return s->workload.moe_imbalance;
}

double memory_local_experts(const struct scenario *s)
{
	double e = (double)s->model.moe.experts;
	if (s->workload.mode == MODE_INFER)
		e += (double)s->serving.redundant_experts;
	return e / (double)s->strategy.ep;
}

double memory_kv_elem_bytes(const struct scenario *s)
{
	return s->workload.kv_bits > 0 ? (double)s->workload.kv_bits / 8.0
				       : memory_dtype_bytes(s->workload.kv_dtype);
}

double memory_fp8_act_bytes(const struct scenario *s)
{
	return s->workload.fp8_recipe == FP8_BLOCK ? 1.0 + 4.0 / 128.0 : 1.0;
}

unsigned memory_recomputed_acts(const struct scenario *s)
{
	return (s->strategy.recompute_modules.norm ? MODEL_ACT_NORM_OUT : 0u) |
	       (s->strategy.recompute_modules.mla_up ? MODEL_ACT_MLA_UP : 0u) |
	       (s->strategy.recompute_modules.moe_act ? MODEL_ACT_MOE_ACT | MODEL_ACT_COMBINE : 0u) |
	       (s->strategy.recompute_modules.mlp ? MODEL_ACT_MLP : 0u);
}

double memory_act_bytes(const struct scenario *s)
{
	return s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
}

static double train_weight_bytes(const struct scenario *s)
{
	/* Mixed precision keeps 16-bit weights; fp8 training (Transformer Engine, DeepSeek-V3)
	 * keeps them in bf16 and casts to fp8 per GEMM. */
	return s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
}

/* Bytes of a GEMM weight matrix's element in training: one with workload.fp8_params (the
 * FP8 copy is the only one; the fp32 master stays in the optimizer), else the other weights'. */
static double train_matrix_bytes(const struct scenario *s)
{
	return s->workload.fp8_params ? 1.0 : train_weight_bytes(s);
}

double memory_master_bytes(const struct scenario *s)
{
	static const double bytes[] = {[MASTER_FP32] = 4, [MASTER_REMAINDER] = 2, [MASTER_BF16] = 2,
				       [MASTER_NONE] = 0};
	return bytes[s->workload.master_weights];
}

/* Optimizer bytes per trainable element (master copy included) and per factored element. The
 * moments take workload.optimizer_state_dtype's bytes each: fp32 (ZeRO's K = 12 with the master
 * copy) or bf16 (DeepSeek-V3 report sec. 3.3.3: K = 8). */
static void optimizer_bytes(const struct scenario *s, double *per_elem, double *per_factored)
{
	double master = s->workload.dtype == DTYPE_FP32 ? 0.0 : memory_master_bytes(s);
	double moment = memory_dtype_bytes(s->workload.optimizer_state_dtype);
	*per_factored = 0.0;
	switch (s->workload.optimizer) {
	case OPTIMIZER_SGD:
		*per_elem = master;
		break;
	case OPTIMIZER_SGD_MOMENTUM:
		*per_elem = master + moment;     /* one momentum buffer */
		break;
	case OPTIMIZER_ADAM_8BIT:
		/* Dettmers et al. 2022: two 8-bit states, one fp32 absmax per 2048-element block. */
		*per_elem = master + 2.0 * (1.0 + 4.0 / 2048.0);
		break;
	case OPTIMIZER_ADAFACTOR:
		/* Shazeer and Stern 2018: no first moment by default (beta1 = 0). */
		*per_elem = master;
		*per_factored = 4.0;
		break;
	default:
		*per_elem = master + 2.0 * moment; /* momentum and variance */
		break;
	}
}

static void activations(const struct stage_calc *c, const struct stage *st,
			struct memory_role *r, double *p2p)
{
	const struct scenario *s = c->s;
	const struct model_config *m = &s->model;
	const struct strategy *g = &s->strategy;
	double tokens = (double)s->workload.seq_len / (double)g->cp * (double)c->micro_batch;
	double B = memory_act_bytes(s), tp = (double)g->tp;
	bool sp = g->sequence_parallel && g->tp > 1;
	double seq_div = sp ? tp : 1.0;
	struct act_options o = {s->workload.seq_len, B, s->workload.flash_attention,
				s->workload.dtype == DTYPE_FP8 ? memory_fp8_act_bytes(s) : B, 0, 0, 0};
	double per_mb = 0, work = 0, kept_of[2] = {0, 0};
	int64_t mtp = st->last ? m->mtp_layers : 0;
	enum layer_kind mtp_kind = model_layer_kind(m, m->layers);
	int k;

	if (s->workload.dtype == DTYPE_FP8 && s->workload.fp8_recipe == FP8_BLOCK) {
		/* DeepSeek-V3 report sec. 3.3.3, "Low-Precision Activation": the attention output
		 * (the input of the Linear after attention) cached in E5M6, 12 bits, and the MoE
		 * SwiGLU inputs in FP8, each with its 1x128 tile's scale. */
		o.attn_out_bytes = 12.0 / 8.0 + 4.0 / 128.0;
		o.moe_act_in_bytes = memory_fp8_act_bytes(s);
	}
	for (k = 0; k < 2; k++) {
		int64_t n = k == LAYER_DENSE ? st->layers - st->moe_layers : st->moe_layers;
		double full, kept;
		if (n == 0 && (mtp == 0 || k != (int)mtp_kind))
			continue;
		/* What is dropped but never rebuilt is no part of the layer recomputed. */
		o.recomputed = memory_recomputed_acts(s) & MODEL_ACT_COMBINE;
		full = model_layer_act_bytes(m, (enum layer_kind)k, &o, g->tp, sp, true) * tokens;
		o.recomputed = memory_recomputed_acts(s);
		switch (g->recompute) {
		case RECOMPUTE_FULL:
			/* Korthikanti et al. 2022, Table 2: only the layer input (2sbh) is kept; in
			 * backward one layer's activations are rebuilt at a time. */
			kept = (double)m->hidden * B * tokens / seq_div;
			if (full > work)
				work = full;
			break;
		case RECOMPUTE_SELECTIVE:
			/* Sec. 5: the attention core (QK^T, softmax, dropout, x V) is recomputed. */
			kept = model_layer_act_bytes(m, (enum layer_kind)k, &o, g->tp, sp, false) *
			       tokens;
			if (full - kept > work)
				work = full - kept;
			break;
		default:
			/* DeepSeek-V3 report sec. 3.2.3: the recomputed modules' outputs are rebuilt
			 * one layer at a time in backward. */
			kept = model_layer_act_bytes(m, (enum layer_kind)k, &o, g->tp, sp, true) *
			       tokens;
			if (full - kept > work)
				work = full - kept;
			break;
		}
		per_mb += kept * (double)n;
		kept_of[k] = kept;
	}
	r->act_layers = per_mb * st->inflight;
	r->act_saved_per_mb = per_mb;
	if (g->offload.activations == OFFLOAD_CPU && st->layers > 0) {
		/* Offloaded (DeepSpeed cpu_checkpointing, Megatron-Core cpu_offloading): each layer's
		 * saved tensors go to the host after its forward and come back before its backward,
		 * every micro-batch in flight waiting there. The GPU holds the layer being copied:
		 * one when the copies run in order on the compute stream, two when they run on their
		 * own stream (one copying while the next computes: Transformer Engine's
		 * double-buffered offload, transformer_engine/pytorch/cpu_offload.py). Counted
		 * beside the backward's working set and the head's activations, which the step
		 * never holds all at once: an upper bound by up to one layer's share. */
		double largest = kept_of[0] > kept_of[1] ? kept_of[0] : kept_of[1];
		double window = s->runtime.activation_offload_overlap ? 2.0 : 1.0;
		r->host += r->act_layers;
		r->act_layers = largest * fmin(window, (double)st->layers);
	}
	r->act_recompute = work;
	r->act_outer = 0;
	r->act_embed_per_mb = 0;
	r->act_head_per_mb = 0;
	if (st->first) {
		/* Megatron theoretical_memory_usage.py: int64 token ids (8sb) and the embedding
		 * dropout mask (sbh) per micro-batch in flight. */
		double emb = 8.0 * tokens + (m->dropout ? (double)m->hidden * tokens / seq_div : 0);
		r->act_outer += emb * st->inflight;
		r->act_embed_per_mb = emb;
	}
	if (st->last) {
		/* Final norm input and head input (2 x 2sbh) and fp32 logits over the TP-split
		 * vocabulary: Megatron's 4sbh(1 + v/h) for the output layer and loss. */
		double head = 2.0 * (double)m->hidden * B * tokens / seq_div +
			      4.0 * (double)m->vocab * tokens / tp;
		/* DeepSeek-V3 report sec. 2.2: each MTP module keeps its layer's activations, the
		 * inputs of its two norms and of its projection (2h each) and its own pass through
		 * the shared head, from its forward after the head's to its backward. */
		head += (double)mtp * (kept_of[mtp_kind] +
				       2.0 * (double)m->hidden * (B + o.gemm_input_bytes) * tokens /
					       seq_div + head);
		r->act_outer += head * (s->strategy.schedule == SCHEDULE_GPIPE ? st->inflight : 1.0);
		r->act_head_per_mb = head;
	}
	/* Pipeline send and receive buffers of one micro-batch's hidden states. */
	*p2p = g->pp > 1 ? 2.0 * (double)m->hidden * B * tokens / seq_div : 0.0;
}

/* A stage's parameter sums: per layer its kind's parts, then the outer tensors and MTP. */
static void stage_params(struct stage_calc *c, const struct stage *st, struct param_sum *p)
{
	const struct scenario *s = c->s;
	bool train = s->workload.mode == MODE_TRAIN;
	struct outer_filter of;
	int k, j;
	if (c->sum_layers == st->layers && c->sum_moe == st->moe_layers &&
	    c->sum_first == st->first && c->sum_last == st->last) {
		*p = c->sum;
		return;
	}
	param_sum_init(p, s);
	for (k = 0; k < 2; k++) {
		int64_t n = k == LAYER_DENSE ? st->layers - st->moe_layers : st->moe_layers, i;
		for (i = 0; i < n; i++)
			for (j = 0; j < c->layer[k].n; j++)
				add_part(p, &c->layer[k].part[j]);
	}
	of.sum = p;
	of.first = st->first;
	of.last = st->last;
	of.tied_copy = s->model.tie_embeddings && st->last && c->l->pp > 1;
	of.mtp_copy = s->model.mtp_layers > 0 && st->last && !st->first && train;
	model_outer_tensors(&s->model, add_outer, &of);
	if (st->last && train)
		model_mtp_tensors(&s->model, add_tensor, p);
	c->sum = *p;
	c->sum_layers = st->layers;
	c->sum_moe = st->moe_layers;
	c->sum_first = st->first;
	c->sum_last = st->last;
}

static void stage_memory(struct stage_calc *c, const struct stage *st, struct memory_role *r)
{
	const struct scenario *s = c->s;
	const struct layout *l = c->l;
	const struct strategy *g = &s->strategy;
	struct param_sum p;
	bool train = s->workload.mode == MODE_TRAIN;
	double zdense, zexpert;
	double p2p = 0, allocated;
	int k;

	memset(r, 0, sizeof *r);
	stage_params(c, st, &p);
	r->first_stage = r->last_stage = st->index;
	r->layers = st->layers;
	r->moe_layers = st->moe_layers;
	r->has_embedding = st->first;
	r->has_head = st->last;
	r->params = p.dense + p.expert;
	r->trainable = s->workload.lora.rank > 0 ? p.lora : r->params;
	r->inflight = st->inflight;

	zdense = (double)l->dense_dp;
	zexpert = (double)l->expert_dp;
	if (train) {
		double wb = train_weight_bytes(s), gb = memory_dtype_bytes(s->workload.grad_dtype);
		double per_elem, per_factored;
		double t_dense = p.dense, t_expert = p.expert, f_dense = p.dense_factored,
		       f_expert = p.expert_factored;
		double mb = train_matrix_bytes(s);
		double w_dense = (p.dense - p.dense_matrix) * wb + p.dense_matrix * mb;
		double w_expert = (p.expert - p.expert_matrix) * wb + p.expert_matrix * mb;
		double grads, opt, unit_w;
		optimizer_bytes(s, &per_elem, &per_factored);
		if (s->workload.lora.rank > 0) {
			/* QLoRA (Dettmers et al. 2023): a frozen, possibly quantized base; only the
			 * adapters train, in 16-bit with fp32 optimizer states. */
			double base = memory_dtype_bytes(s->workload.dtype) >= 2
					      ? wb : memory_weight_bytes(s->workload.dtype,
								 (double)s->workload.quant_group);
			w_dense = (p.dense - p.dense_matrix) * 2.0 + p.dense_matrix * base + p.lora * 2.0;
			w_expert = (p.expert - p.expert_matrix) * 2.0 + p.expert_matrix * base;
			t_dense = p.lora;
			t_expert = 0;
			f_dense = p.lora;
			f_expert = 0;
		}
		r->part[MEMORY_WEIGHTS] = g->zero >= 3 ? w_dense / zdense + w_expert / zexpert
						       : w_dense + w_expert;
		grads = g->zero >= 2 ? gb * (t_dense / zdense + t_expert / zexpert)
				     : gb * (t_dense + t_expert);
		r->updated = g->zero >= 1 ? t_dense / zdense + t_expert / zexpert
					  : t_dense + t_expert;
		r->expert_share = t_dense + t_expert > 0 ? t_expert / (t_dense + t_expert) : 0;
		opt = per_elem * r->updated +
		      per_factored * (g->zero >= 1 ? f_dense / zdense + f_expert / zexpert
						   : f_dense + f_expert);
		if (s->workload.ema != EMA_NONE) {
			/* An EMA of the weights each rank updates (its ZeRO shard), in fp32 like the
			 * master copy it follows (the report gives no precision); DeepSeek-V3 (sec.
			 * 3.2.3) keeps it in CPU memory. */
			double ema = 4.0 * r->updated;
			if (s->workload.ema == EMA_HOST)
				r->host += ema;
			else
				opt += ema;
		}
		if (g->offload.optimizer == OFFLOAD_CPU) {
			/* ZeRO-Offload (Ren et al. 2021, sec. 4.1): optimizer states, fp32 master
			 * weights and fp32 gradient partitions live in host memory. */
			r->host += opt + 4.0 * r->updated;
			opt = 0;
			if (g->zero >= 2)
				grads = 0;
		}
		if (g->offload.params == OFFLOAD_CPU) {
			/* ZeRO-Infinity (Rajbhandari et al. 2021): parameter shards on the host. */
			r->host += r->part[MEMORY_WEIGHTS];
			r->part[MEMORY_WEIGHTS] = 0;
		}
		r->part[MEMORY_GRADIENTS] = grads;
		r->part[MEMORY_OPTIMIZER] = opt;
		activations(c, st, r, &p2p);
		r->part[MEMORY_ACTIVATIONS] = r->act_layers + r->act_outer + r->act_recompute;
		/* Communication buffers: two gradient buckets in flight (PyTorch DDP, DeepSpeed),
		 * or for ZeRO-3 the gathered weights of the computing unit and the prefetched ones
		 * plus one unit's full gradients before its reduce-scatter: a layer, or with
		 * runtime.zero3_unit: module the largest module's own weights (DeepSpeed's
		 * PartitionedParameterCoordinator.fetch_sub_module gathers the parameters of the
		 * submodule about to run, not recursing into its children). */
		unit_w = 0;
		for (k = 0; k < 2; k++) {
			double u = s->runtime.zero3_unit == ZERO3_UNIT_MODULE ? c->module_units[k]
									       : c->layer_units[k];
			if ((k == LAYER_DENSE ? st->layers - st->moe_layers : st->moe_layers) > 0 &&
			    u > unit_w)
				unit_w = u;
		}
		/* ZeRO-3 gathers the embedding and the head like any other module. */
		if (st->first && c->embed_unit > unit_w)
			unit_w = c->embed_unit;
		if (st->last && c->head_unit > unit_w)
			unit_w = c->head_unit;
		if (g->zero >= 3)
			r->part[MEMORY_BUFFERS] = unit_w * (wb * (1.0 + (double)g->zero3_prefetch_layers) +
							    gb);
		else
			r->part[MEMORY_BUFFERS] = 2.0 * g->bucket;
		r->part[MEMORY_BUFFERS] += p2p;
	} else {
		double group = (double)s->workload.quant_group;
		double qb = memory_weight_bytes(s->workload.dtype, group);
		double other = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
		double matrix = p.dense_matrix + p.expert_matrix;
		r->part[MEMORY_WEIGHTS] = matrix * qb + (p.dense + p.expert - matrix) * other;
		r->part[MEMORY_ACTIVATIONS] = memory_workspace(s, (double)c->micro_batch,
						       (double)s->workload.seq_len);
		r->part[MEMORY_KV_CACHE] = memory_kv_bytes_per_token(s, st) * (double)c->micro_batch *
					   (double)s->workload.seq_len;
	}
	allocated = 0;
	for (k = 0; k < MEMORY_OVERHEAD; k++)
		allocated += r->part[k];
	r->part[MEMORY_OVERHEAD] = s->runtime.cuda_context + s->runtime.cublas_workspace +
				   (double)l->communicators * s->runtime.nccl_per_group +
				   s->runtime.allocator_reserve * allocated;
	r->total = allocated + r->part[MEMORY_OVERHEAD];
}

static void prepare(struct stage_calc *c, const struct scenario *s, const struct layout *l,
		    int64_t micro_batch)
{
	int k, j;
	c->s = s;
	c->l = l;
	c->micro_batch = micro_batch;
	c->sum_layers = -1;
	for (k = 0; k < 2; k++) {
		struct part_recorder rec;
		param_sum_init(&rec.p, s);
		rec.out = &c->layer[k];
		c->layer[k].n = 0;
		model_layer_tensors(&s->model, (enum layer_kind)k, record_tensor, &rec);
		c->module_units[k] = 0;
		for (j = 0; j < c->layer[k].n; j++) {
			add_part(&rec.p, &c->layer[k].part[j]);
			c->module_units[k] = fmax(c->module_units[k], c->layer[k].part[j].one);
		}
		/* A dense model's MoE slot gathers nothing. */
		if (k == LAYER_MOE && !model_is_moe(&s->model))
			c->layer_units[k] = c->module_units[k] = 0;
		else
			c->layer_units[k] = rec.p.unit;
	}
	{
		struct param_sum p;
		struct outer_filter of;
		param_sum_init(&p, s);
		of.sum = &p;
		of.first = true;
		of.last = false;
		of.tied_copy = false;
		of.mtp_copy = false;
		model_outer_tensors(&s->model, add_outer, &of);
		c->embed_unit = p.unit;
		param_sum_init(&p, s);
		of.first = false;
		of.last = true;
		of.tied_copy = s->model.tie_embeddings;
		model_outer_tensors(&s->model, add_outer, &of);
		c->head_unit = p.unit;
	}
}

static bool same_breakdown(const struct memory_role *a, const struct memory_role *b)
{
	return memcmp(a->part, b->part, sizeof a->part) == 0 && a->layers == b->layers &&
	       a->has_embedding == b->has_embedding && a->has_head == b->has_head &&
	       a->host == b->host;
}

void memory_stage_totals(const struct scenario *s, const struct layout *l, double *t1, double *t2)
{
	struct stage_calc c;
	int64_t i;
	prepare(&c, s, l, 1);
	for (i = 0; i < l->pp; i++) {
		struct stage st;
		struct memory_role r1, r2;
		layout_stage(s, l, i, &st);
		c.micro_batch = 1;
		stage_memory(&c, &st, &r1);
		c.micro_batch = 2;
		stage_memory(&c, &st, &r2);
		t1[i] = r1.total;
		t2[i] = r2.total;
	}
}

static void build_roles(const struct scenario *s, const struct layout *l, struct memory_report *r)
{
	struct stage_calc c;
	int64_t i;
	prepare(&c, s, l, s->workload.micro_batch);
	r->roles = xcalloc((size_t)l->pp, sizeof *r->roles);
	r->nroles = 0;
	for (i = 0; i < l->pp; i++) {
		struct stage st;
		struct memory_role role;
		layout_stage(s, l, i, &st);
		stage_memory(&c, &st, &role);
		if (r->nroles > 0 && same_breakdown(&r->roles[r->nroles - 1], &role)) {
			r->roles[r->nroles - 1].last_stage = i;
			continue;
		}
		r->roles[r->nroles++] = role;
	}
	r->worst = 0;
	for (i = 1; i < (int64_t)r->nroles; i++)
		if (r->roles[i].total > r->roles[r->worst].total)
			r->worst = (size_t)i;
}

/*
 * Serving fits as the engine starts (vLLM): the KV cache gets what gpu_memory_utilization of
 * memory leaves after the weights, the runtime and the activation peak of the profiling pass,
 * and the engine refuses to start unless it holds one sequence of seq_len (vLLM's check of
 * max_model_len against the KV cache). workload.micro_batch sizes only the printed table. Fills
 * r's KV fields, fits and headroom (the KV budget beyond one full sequence). 0, or -1 when the
 * search fails.
 */
static int infer_fit(const struct scenario *s, const struct layout *l,
		     const struct memory_role *w, struct memory_report *r)
{
	struct stage st;
	double fixed = w->total - w->part[MEMORY_KV_CACHE], one, block;
	/* vLLM sizes the KV cache after a profiling forward pass of max_num_batched_tokens
	 * tokens over max_num_seqs sequences (v1/worker/gpu_model_runner.py profile_run):
	 * its activation peak, not the report's static batch, is what the budget leaves
	 * out. The sequences get the tokens as evenly as whole tokens allow. With SGLang's
	 * KV-derived limit (max_num_seqs 0), which needs this budget, its floor of 2048. */
	double seqs = s->serving.max_num_seqs > 0 ? (double)s->serving.max_num_seqs
						  : MEMORY_SGLANG_MIN_REQUESTS;
	double tokens = (double)s->serving.max_batched_tokens;
	layout_stage(s, l, (int64_t)w->first_stage, &st);
	if (seqs > tokens)
		seqs = tokens;
	r->profile_workspace = memory_workspace(s, seqs, tokens / seqs);
	fixed += r->profile_workspace - w->part[MEMORY_ACTIVATIONS];
	r->kv_bytes_per_token = memory_kv_bytes_per_token(s, &st);
	r->kv_budget = r->capacity * s->serving.gpu_memory_utilization - fixed;
	if (memory_max_kv_tokens(fixed, r->kv_bytes_per_token,
				 r->capacity * s->serving.gpu_memory_utilization,
				 &r->max_kv_tokens) != 0)
		return -1;
	/* One sequence's blocks (serving.block_size tokens each). */
	block = s->serving.block_size > 0 ? (double)s->serving.block_size : 1;
	one = ceil((double)s->workload.seq_len / block) * block * r->kv_bytes_per_token;
	r->fits = r->kv_budget >= one;
	r->headroom = r->kv_budget - one;
	return 0;
}

/* The host memory a node needs: its busiest role's host part on each of its GPUs. */
static void host_need(const struct scenario *s, struct memory_report *r)
{
	double host = 0;
	size_t i;
	int64_t on_node = s->cluster.gpus < s->cluster.node.gpus_per_node
				  ? s->cluster.gpus : s->cluster.node.gpus_per_node;
	for (i = 0; i < r->nroles; i++)
		if (r->roles[i].host > host)
			host = r->roles[i].host;
	r->host_per_node = host * (double)on_node;
	r->host_capacity = s->cluster.node.host_memory;
	r->host_fits = r->host_capacity <= 0 || r->host_per_node <= r->host_capacity;
}

void memory_screen(const struct scenario *s, struct memory_screen *out)
{
	struct layout l;
	struct memory_report r;
	const struct memory_role *w;
	memset(&r, 0, sizeof r);
	memset(out, 0, sizeof *out);
	layout_build(s, &l);
	build_roles(s, &l, &r);
	w = &r.roles[r.worst];
	out->peak = w->total;
	memcpy(out->part, w->part, sizeof out->part);
	out->capacity = s->cluster.node.gpu.memory;
	out->fits = out->peak <= out->capacity;
	r.capacity = out->capacity;
	if (s->workload.mode == MODE_INFER && infer_fit(s, &l, w, &r) == 0)
		out->fits = r.fits;
	host_need(s, &r);
	free(r.roles);
	out->host_per_node = r.host_per_node;
	out->host_capacity = r.host_capacity;
	out->host_fits = r.host_fits;
}

void memory_stage(const struct scenario *s, int64_t stage, struct memory_role *out)
{
	struct layout l;
	struct stage_calc c;
	struct stage st;
	layout_build(s, &l);
	prepare(&c, s, &l, s->workload.micro_batch);
	layout_stage(s, &l, stage, &st);
	stage_memory(&c, &st, out);
}

int memory_build(const struct scenario *s, struct memory_report *r)
{
	struct layout l;
	const struct memory_role *w;

	memset(r, 0, sizeof *r);
	model_count_params(&s->model, &r->params);
	layout_build(s, &l);
	build_roles(s, &l, r);
	w = &r->roles[r->worst];
	r->capacity = s->cluster.node.gpu.memory;
	r->fits = w->total <= r->capacity;
	r->headroom = r->capacity - w->total;
	host_need(s, r);
	if (s->workload.mode == MODE_TRAIN) {
		if (memory_max_micro_batch(s, &l, r->capacity, &r->max_micro_batch,
					   &r->max_micro_batch_kept) != 0) {
			snprintf(r->advice, sizeof r->advice, "the micro-batch search did not converge");
			return -1;
		}
	} else if (infer_fit(s, &l, w, r) != 0) {
		snprintf(r->advice, sizeof r->advice, "the KV-capacity search did not converge");
		return -1;
	}
	if (!r->fits || !r->host_fits)
		memory_advise(s, r->capacity, r);
	return 0;
}

void memory_report_release(struct memory_report *r)
{
	free(r->roles);
	r->roles = NULL;
	r->nroles = 0;
}
