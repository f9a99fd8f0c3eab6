/*
 * forward: one inference pass by roofline. Domain stage.
 *
 * Per layer: every linear layer is a GEMM of the batch's new tokens by its (TP-split, possibly
 * quantized) weights; attention reads each sequence's cached keys and values and does 4 FLOPs
 * per query-key pair per head dimension (QK^T and PV, FlashAttention's count, Dao 2023 sec. 3);
 * fused elementwise kernels stream the hidden states; TP all-reduces the attention and MLP
 * outputs (Megatron-LM, Shoeybi et al. 2019 sec. 3); MoE layers run the experts that receive
 * tokens, and under data-parallel attention dispatch and combine the tokens over the EP group
 * with all-to-all (experts over the TP group need only the all-reduce). Every kernel also pays
 * the GPU's fixed kernel latency (compute.c), which decode at small batches feels most.
 */
#include "forward.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collective.h"
#include "compute.h"
#include "layout.h"
#include "memory.h"
#include "model.h"
#include "xalloc.h"

_Static_assert(FORWARD_LINKS == LINK_CLASS_PCIE + 1, "a forward_comm entry per link class");

/* One GEMM of a layer: a weight of k x n per GPU, `count` of them. */
struct gemm {
	double k, n, count;
	bool expert;
};

enum { GEMMS_MAX = 24 };

struct layer_costs {
	struct gemm gemm[GEMMS_MAX];
	int ngemm;
	double weight_bytes;        /* per GPU, every expert */
};

struct stage_counts {
	double dense, moe;
	bool first, last;
};

struct forward_cost {
	const struct scenario *s;
	struct compute *c;
	struct layer_costs layer[2];  /* enum layer_kind */
	struct stage_counts *stage;
	int64_t pp, tp, ep;
	double adp;                 /* attention data-parallel ranks per replica (ep / tp, or 1) */
	double wbytes;              /* bytes per linear weight (quantized) */
	double act;                 /* bytes per activation element */
	double kv_layer;            /* KV bytes per token per layer per GPU */
	double decode_kv_reads;     /* times decode attention reads each cached KV head */
	double heads, head_dim;     /* per GPU */
	double head_bytes, embed_bytes;
	double most_weight_bytes;
};

struct collect {
	struct forward_cost *f;
	struct layer_costs *lc;
	double fused_rows;          /* rows of tensors waiting to join the next GEMM */
};

static void add_gemm(void *vctx, const struct model_tensor *t)
{
	struct collect *x = vctx;
	struct forward_cost *f = x->f;
	struct layer_costs *lc = x->lc;
	double split = 1;
	struct gemm *g;
	if (t->rows <= 1 || t->group == TENSOR_NORM || t->group == TENSOR_EMBED ||
	    t->group == TENSOR_POSITION) {
		lc->weight_bytes += (double)(t->rows * t->cols * t->count) * f->act /
				    (t->tp_split ? (double)f->tp : 1.0);
		return;
	}
	/* Experts are whole on each EP rank and split over what remains of the TP group (vLLM's
	 * FusedMoE: ep = tp with expert parallelism, else every expert TP-split). */
	if (t->group == TENSOR_EXPERT)
		split = f->ep >= f->tp ? 1.0 : (double)(f->tp / f->ep);
	else if (t->tp_split)
		split = (double)f->tp;
	if (lc->ngemm == GEMMS_MAX)
		return;
	/* Tensors sharing an input run as one GEMM (vLLM's QKVParallelLinear and
	 * MergedColumnParallelLinear); row-parallel ones split their input, not their output. */
	if (t->fuse_next) {
		x->fused_rows += (double)t->rows;
		return;
	}
	g = &lc->gemm[lc->ngemm++];
	g->k = (double)t->cols / (t->row_parallel ? split : 1.0);
	g->n = ((double)t->rows + x->fused_rows) / (t->row_parallel ? 1.0 : split);
	x->fused_rows = 0;
	g->count = t->group == TENSOR_EXPERT ? memory_local_experts(f->s) : (double)t->count;
	g->expert = t->group == TENSOR_EXPERT;
	lc->weight_bytes += g->k * g->n * g->count * f->wbytes;
}

struct forward_cost *forward_new(const struct scenario *s, struct diag *d)
{
	struct mark at = {s->file, 0, 0};
	const struct model_config *m = &s->model;
	struct forward_cost *f;
	struct layout l;
	int64_t i;
	int k;
	if (s->strategy.ep > 1 && s->strategy.tp % s->strategy.ep != 0 &&
	    s->strategy.ep % s->strategy.tp != 0) {
		diag_add(d, at, NULL, "serving needs ep to divide tp (experts split within the "
				       "tensor-parallel group) or tp to divide ep (data-parallel "
				       "attention), got tp %lld, ep %lld",
			 (long long)s->strategy.tp, (long long)s->strategy.ep);
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->c = compute_new(&s->cluster.node.gpu, at, d);
	if (f->c == NULL) {
		free(f);
		return NULL;
	}
	f->s = s;
	f->tp = s->strategy.tp;
	f->ep = s->strategy.ep;
	f->pp = s->strategy.pp;
	f->adp = (double)forward_attention_dp(s);
	f->act = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	f->wbytes = memory_weight_bytes(s->workload.dtype, (double)s->workload.quant_group);
	for (k = 0; k < 2; k++) {
		struct collect x = {f, &f->layer[k], 0};
		model_layer_tensors(m, (enum layer_kind)k, add_gemm, &x);
	}
	/* vLLM keeps max(1, kv_heads // tp) KV heads per GPU and the whole MLA latent on every
	 * TP rank (the memory model's rule). */
	if (model_is_mla(m)) {
		f->kv_layer = model_kv_elems_per_token_layer(m);
		f->head_dim = 0;
	} else {
		f->kv_layer = 2.0 * fmax(1.0, (double)m->kv_heads / (double)f->tp) *
			      (double)m->head_dim;
		f->head_dim = (double)m->head_dim;
	}
	f->kv_layer *= memory_kv_elem_bytes(s);
	f->heads = (double)m->heads / (double)f->tp;
	/* A decode kernel whose thread block computes decode_heads_per_cta query heads reads a
	 * KV head once per block of its GQA group (LMDeploy v0.1.0 turbomind
	 * decoder_multihead_attention.cu: grid num_heads / HeadPerCta, HeadPerCta 4 for a
	 * group of 8, so Llama-2-70B's KV is read twice); 0 is a kernel sharing the whole group. */
	f->decode_kv_reads = 1.0;
	if (!model_is_mla(m) && s->serving.decode_heads_per_cta > 0) {
		double group = f->heads / fmax(1.0, (double)m->kv_heads / (double)f->tp);
		f->decode_kv_reads = fmax(1.0, ceil(group / (double)s->serving.decode_heads_per_cta));
	}
	f->head_bytes = (double)m->vocab * (double)m->hidden / (double)f->tp * f->wbytes;
	layout_build(s, &l);
	f->stage = xcalloc((size_t)f->pp, sizeof *f->stage);
	for (i = 0; i < f->pp; i++) {
		struct stage st;
		double w;
		layout_stage(s, &l, i, &st);
		f->stage[i].dense = (double)(st.layers - st.moe_layers);
		f->stage[i].moe = (double)st.moe_layers;
		f->stage[i].first = st.first;
		f->stage[i].last = st.last;
		w = f->stage[i].dense * f->layer[LAYER_DENSE].weight_bytes +
		    f->stage[i].moe * f->layer[LAYER_MOE].weight_bytes +
		    (st.last ? f->head_bytes : 0);
		if (w > f->most_weight_bytes)
			f->most_weight_bytes = w;
	}
	return f;
}

void forward_free(struct forward_cost *f)
{
	if (f == NULL)
		return;
	compute_free(f->c);
	free(f->stage);
	free(f);
}

/* Adds what count collectives send per GPU, and their latency, by class of link to comm (when
 * not NULL); returns their time with nothing else on the links. Phases that run at the same
 * time (an all-to-all inside and across nodes) count only their longest: the others hide under
 * it, so the link transfers take the returned time when nothing shares the links. */
static double collective(const struct forward_cost *f, enum collective_kind kind, double bytes,
			 int64_t ranks, double count, struct forward_comm *comm)
{
	const struct node_spec *node = &f->s->cluster.node;
	struct collective_plan plan;
	double t;
	int i;
	const struct serving *v = &f->s->serving;
	if (ranks <= 1 || bytes <= 0)
		return 0;
	/* The engine's custom all-reduce takes the messages up to its size limit (vLLM
	 * custom_all_reduce.py should_custom_ar), NCCL the rest. */
	if (kind != COLLECTIVE_ALLREDUCE || v->allreduce == ALLREDUCE_NCCL ||
	    bytes > v->custom_allreduce_max ||
	    !collective_custom_allreduce(node, v->allreduce == ALLREDUCE_VLLM
						   ? COLLECTIVE_CUSTOM_VLLM
						   : COLLECTIVE_CUSTOM_TRTLLM,
					 bytes, ranks, &plan))
		collective_plan(node, kind, bytes, ranks,
				ranks < node->gpus_per_node ? ranks : node->gpus_per_node, &plan);
	t = collective_time(node, &plan);
	for (i = 0; comm != NULL && i < plan.nphases; i++) {
		const struct collective_phase *ph = &plan.phase[i];
		if (plan.concurrent && ph->latency + ph->bytes / collective_rank_bandwidth(
								     node, ph->link) < t)
			continue;
		comm->bytes[ph->link] += count * ph->bytes;
		comm->latency[ph->link] += count * ph->latency;
		if (plan.concurrent)
			break;
	}
	return count * t;
}

/* Attention of one layer on one GPU: the larger of its FLOPs and the bytes it streams. */
static double attention(const struct forward_cost *f, const struct forward_batch *b)
{
	const struct model_config *m = &f->s->model;
	int dtype = f->s->workload.dtype;
	double prefill_flops, decode_flops, bytes;
	if (model_is_mla(m)) {
		/* DeepSeek-V2 sec. 2.1.3: prompts run MLA as ordinary attention over decompressed
		 * heads (qk_nope + qk_rope keys, v_head_dim values); decode absorbs the
		 * up-projections and attends over the latent (kv_lora_rank + rope keys,
		 * kv_lora_rank values), as vLLM's MLA backends do. */
		double dqk = (double)(m->mla.qk_nope_head_dim + m->mla.qk_rope_head_dim);
		double dc = (double)m->mla.kv_lora_rank, dr = (double)m->mla.qk_rope_head_dim;
		prefill_flops = 2 * f->heads * (dqk + (double)m->mla.v_head_dim) * b->prefill_pairs;
		decode_flops = 2 * f->heads * (dc + dr + dc) * b->decode_pairs;
	} else {
		prefill_flops = 4 * f->heads * f->head_dim * b->prefill_pairs;
		decode_flops = 4 * f->heads * f->head_dim * b->decode_pairs;
	}
	/* Keys and values of every context are read once (decode: decode_kv_reads times);
	 * queries read and outputs written. */
	bytes = (b->kv_tokens + (f->decode_kv_reads - 1) * b->decode_pairs) * f->kv_layer +
		2 * b->tokens * f->heads *
		(f->head_dim > 0 ? f->head_dim : (double)m->mla.kv_lora_rank) * f->act;
	/* Prompts run at the kernel's rate for their length (compute.c: the GPU presets give the
	 * rate at 16k), over the pairs' mean context; decode's single queries at the preset's. */
	if (b->prefill_pairs > 0 && b->prefill_len > 0)
		prefill_flops /= compute_attention_seq_scale(f->c, f->s->runtime.attention_kernel,
							     b->prefill_len / b->prefill_pairs);
	return fmax(compute_attention_time(f->c, dtype, prefill_flops + decode_flops,
					   f->s->runtime.attention_kernel),
		    compute_stream_time(f->c, bytes));
}

/* Expected routed experts of `local` on one rank that get at least one of `tokens` tokens,
 * each token choosing top_k distinct experts of E uniformly: local * (1 - (1 - k/E)^tokens). */
static double active_experts(const struct model_config *m, double local, double tokens)
{
	double e = (double)m->moe.experts, k = (double)m->moe.top_k;
	return local * -expm1(tokens * log1p(-k / e));
}

/* Kernels a layer launches, each paying the GPU's fixed kernel latency: its GEMMs (a grouped
 * kernel for each expert GEMM, vLLM's fused_moe), the attention kernel, and the five fused
 * elementwise kernels of vLLM's LlamaDecoderLayer (vllm/model_executor/models/llama.py: two
 * fused_add_rms_norm, rotary_emb, reshape_and_cache, SiluAndMul) — ten for a Llama layer, the
 * count the vllm engine profile launches. */
static double layer_kernels(const struct layer_costs *lc)
{
	double n = 1 + 5;
	int i;
	for (i = 0; i < lc->ngemm; i++)
		n += lc->gemm[i].expert ? 1 : lc->gemm[i].count;
	return n;
}
static const struct forward_batch *rank_batch(const struct forward_cost *f,
					      const struct forward_batch *b,
					      struct forward_batch *out);
static double dp_exposed(const struct forward_cost *f, const struct forward_batch *b,
			 double compute, struct forward_comm *comm);

static void layer_time(const struct forward_cost *f, enum layer_kind kind,
			 const struct forward_batch *b, double part[FORWARD_PARTS],
			 struct forward_comm *comm)
{
	const struct scenario *s = f->s;
	const struct model_config *m = &s->model;
	const struct layer_costs *lc = &f->layer[kind];
	int dtype = s->workload.dtype;
	double t = 0, ffn = (double)m->ffn, h = (double)m->hidden, tp_bytes;
	int i;
	for (i = 0; i < lc->ngemm; i++) {
		const struct gemm *g = &lc->gemm[i];
		if (g->expert) {
			/* Each GPU's experts receive tokens*top_k/ep assignments, spread over the
			 * experts that any token chose. */
			double tokens = b->tokens * f->adp;
			double active = active_experts(m, g->count, tokens);
			double per = active > 0 ? tokens * (double)m->moe.top_k /
							  (double)f->ep / active
						: 0;
			/* The busiest rank holds the busiest expert instance (memory.h); its
			 * experts run as one grouped kernel (compute.c). */
			t += compute_grouped_gemm_time(f->c, dtype, f->wbytes, active, per,
						       per * memory_busiest_expert(s), g->n, g->k);
			continue;
		}
		t += g->count * compute_gemm_time_weights(f->c, dtype, f->wbytes, b->tokens, g->n,
							  g->k);
	}
	t += attention(f, b);
	/* vLLM's fused kernels: residual add + RMSNorm reads and writes the hidden state and the
	 * residual (4h elements, twice a layer; layernorm.py fused_add_rms_norm), SiLU-and-mul
	 * reads the gate and up halves and writes one (3 ffn/tp; activation.py SiluAndMul). */
	if (kind == LAYER_MOE)
		ffn = (double)(m->moe.top_k + m->moe.shared_experts) * (double)m->moe.ffn;
	t += compute_stream_time(f->c, b->tokens * (8 * h + 3 * ffn / (double)f->tp) * f->act);
	t += layer_kernels(lc) * compute_kernel_latency(f->c);
	part[FORWARD_COMPUTE] += t;
	tp_bytes = b->tokens * h * f->act;
	part[FORWARD_TP] += collective(f, COLLECTIVE_ALLREDUCE, tp_bytes, f->tp, 2, comm);
	/* Experts over the TP group (ep <= tp) send nothing of their own: every TP rank holds the
	 * whole batch after the attention's all-reduce, runs its experts on the tokens routed to
	 * them and the MoE output's all-reduce, the second of the two above, sums the ranks'
	 * parts. vLLM's dispatch and combine kernels need data-parallel attention
	 * (vllm/model_executor/layers/fused_moe/config.py, FusedMoEParallelConfig
	 * use_all2all_kernels: dp_size > 1 and use_ep); SGLang's default moe_a2a_backend is
	 * "none" (python/sglang/srt/server_args.py). Only data-parallel attention sends tokens to
	 * their experts' GPUs. */
	if (kind == LAYER_MOE && f->adp > 1)
		part[FORWARD_EP] += dp_exposed(f, b, t, comm);
}

double forward_time(const struct forward_cost *f, const struct forward_batch *b,
		    double part[FORWARD_PARTS])
{
	return forward_time_comm(f, b, part, NULL);
}

double forward_time_comm(const struct forward_cost *f, const struct forward_batch *b,
			 double part[FORWARD_PARTS], struct forward_comm *comm)
{
	const struct scenario *s = f->s;
	const struct model_config *m = &s->model;
	double layer[2][FORWARD_PARTS] = {{0}}, own[FORWARD_PARTS] = {0}, total = 0;
	double *out = part ? part : own;
	struct forward_comm lcomm[2] = {{{0}, {0}}, {{0}, {0}}};
	struct forward_batch rank, half;
	const struct forward_batch *lb;
	double reps = 1;
	int64_t i;
	int k, p;
	for (p = 0; p < FORWARD_PARTS; p++)
		out[p] = 0;
	if (comm != NULL)
		memset(comm, 0, sizeof *comm);
	if (b->tokens <= 0)
		return 0;
	if (f->adp > 1)
		b = rank_batch(f, b, &rank);
	/* serving.two_batch_overlap runs the layers on two half batches, one after the other:
	 * each half reads the weights and launches the kernels again (dp_exposed). */
	lb = b;
	if (s->serving.two_batch_overlap && b->tokens >= 2) {
		half = (struct forward_batch){b->tokens / 2, b->sequences / 2, b->prefill_pairs / 2,
					      b->decode_pairs / 2, b->kv_tokens / 2,
					      b->prefill_len / 2};
		lb = &half;
		reps = 2;
	}
	for (k = 0; k < 2; k++) {
		layer_time(f, (enum layer_kind)k, lb, layer[k], comm ? &lcomm[k] : NULL);
		for (p = 0; p < FORWARD_PARTS; p++)
			layer[k][p] *= reps;
		for (p = 0; p < FORWARD_LINKS; p++) {
			lcomm[k].bytes[p] *= reps;
			lcomm[k].latency[p] *= reps;
		}
	}
	for (i = 0; i < f->pp; i++) {
		const struct stage_counts *st = &f->stage[i];
		for (p = 0; p < FORWARD_PARTS; p++)
			out[p] += st->dense * layer[LAYER_DENSE][p] + st->moe * layer[LAYER_MOE][p];
		for (k = 0; comm != NULL && k < FORWARD_LINKS; k++) {
			comm->bytes[k] += st->dense * lcomm[LAYER_DENSE].bytes[k] +
					  st->moe * lcomm[LAYER_MOE].bytes[k];
			comm->latency[k] += st->dense * lcomm[LAYER_DENSE].latency[k] +
					    st->moe * lcomm[LAYER_MOE].latency[k];
		}
		if (st->first)
			out[FORWARD_COMPUTE] += compute_stream_time(f->c, 2 * b->tokens *
									   (double)m->hidden * f->act);
		if (st->last) {
			/* The output head projects the last position of each sampling sequence;
			 * its TP shards of the logits are gathered for sampling. */
			out[FORWARD_COMPUTE] += compute_gemm_time_weights(
				f->c, s->workload.dtype, f->wbytes, b->sequences,
				(double)m->vocab / (double)f->tp, (double)m->hidden);
			out[FORWARD_TP] += collective(f, COLLECTIVE_ALLGATHER,
						      b->sequences * (double)m->vocab * f->act, f->tp,
						      1, comm);
		}
		if (i + 1 < f->pp)
			out[FORWARD_PP] += collective(f, COLLECTIVE_SENDRECV,
						      b->tokens * (double)m->hidden * f->act, 2, 1,
						      comm);
	}
	for (p = 0; p < FORWARD_PARTS; p++)
		total += out[p];
	return total;
}

double forward_link_bandwidth(const struct forward_cost *f, int link)
{
	return collective_rank_bandwidth(&f->s->cluster.node, link);
}

double forward_weight_bytes(const struct forward_cost *f)
{
	return f->most_weight_bytes;
}

double forward_kv_bytes_per_token(const struct forward_cost *f)
{
	double layers = 0;
	int64_t i;
	for (i = 0; i < f->pp; i++)
		if (f->stage[i].dense + f->stage[i].moe > layers)
			layers = f->stage[i].dense + f->stage[i].moe;
	return f->kv_layer * layers;
}

/*
 * Data-parallel attention with expert parallelism (ep > tp): SGLang's --enable-dp-attention
 * (docs.sglang.io, advanced_features/dp_dpa_smg_guide, "Data Parallelism Attention": MLA's one
 * latent KV head would be copied on every TP rank, so each data-parallel rank runs attention
 * on its own sequences and the MoE layers take the ranks' tokens to the experts spread over all
 * of them) and DeepSeek's serving system ("Inference System Overview", 2025-03-01: prefill
 * "routed expert EP32, MLA/shared expert DP32", decode "EP144, DP144"). A replica is the EP
 * group of ep GPUs, ep / tp attention ranks of tp GPUs each, stepping together because every
 * MoE layer waits for all of them; the scheduler shares its sequences among the ranks evenly.
 */
int64_t forward_attention_dp(const struct scenario *s)
{
	return s->strategy.ep > s->strategy.tp ? s->strategy.ep / s->strategy.tp : 1;
}

int64_t forward_replica_gpus(const struct scenario *s)
{
	return s->strategy.tp * forward_attention_dp(s) * s->strategy.pp;
}

/* One attention rank's share of the replica's batch. */
static const struct forward_batch *rank_batch(const struct forward_cost *f,
					      const struct forward_batch *b,
					      struct forward_batch *out)
{
	out->tokens = b->tokens / f->adp;
	out->sequences = b->sequences / f->adp;
	out->prefill_pairs = b->prefill_pairs / f->adp;
	out->prefill_len = b->prefill_len / f->adp;
	out->decode_pairs = b->decode_pairs / f->adp;
	out->kv_tokens = b->kv_tokens / f->adp;
	return out;
}

/* Adds what count runs of plan send per GPU to comm (when not NULL), as collective() does;
 * returns their time with nothing else on the links. */
static double plan_comm(const struct forward_cost *f, const struct collective_plan *plan,
			double count, struct forward_comm *comm)
{
	const struct node_spec *node = &f->s->cluster.node;
	double t = collective_time(node, plan);
	int i;
	for (i = 0; comm != NULL && i < plan->nphases; i++) {
		const struct collective_phase *ph = &plan->phase[i];
		if (plan->concurrent && ph->latency + ph->bytes / collective_rank_bandwidth(
								      node, ph->link) < t)
			continue;
		comm->bytes[ph->link] += count * ph->bytes;
		comm->latency[ph->link] += count * ph->latency;
		if (plan->concurrent)
			break;
	}
	return count * t;
}

/*
 * The dispatch and combine of one MoE layer under data-parallel attention, b being one attention
 * rank's batch: each GPU sends its share of the rank's tokens (1/tp of them) to the GPUs of
 * their top_k experts over the EP group, as training routes them (collective_plan_routed,
 * strategy.moe_dispatcher), and gets the expert outputs back. With FP8 weights the dispatch
 * carries FP8 activations with a scale per 1x128 tile and the combine BF16 (DeepSeek-V3 report
 * sec. 3.3.1 and 3.5.1; DeepEP's dispatch and combine). The busiest rank, holding the busiest
 * expert instance, receives 1 + (busiest - 1)/local times the mean and sets the time.
 */
static double dp_dispatch(const struct forward_cost *f, const struct forward_batch *b,
			  struct forward_comm *comm)
{
	const struct scenario *s = f->s;
	const struct model_config *m = &s->model;
	const struct node_spec *node = &s->cluster.node;
	double copy = b->tokens / (double)f->tp * (double)m->hidden *
		      (1.0 + (memory_busiest_expert(s) - 1.0) / memory_local_experts(s));
	double dispatch = s->workload.dtype == DTYPE_FP8 ? 1.0 + 4.0 / 128.0 : f->act;
	struct collective_plan plan;
	struct moe_route r;
	double t;
	model_moe_route(s, (double)m->moe.top_k, &r);
	collective_plan_routed(node, copy * dispatch, &r, f->ep, node->gpus_per_node, &plan);
	t = plan_comm(f, &plan, 1, comm);
	collective_plan_routed(node, copy * f->act, &r, f->ep, node->gpus_per_node, &plan);
	return t + plan_comm(f, &plan, 1, comm);
}

/*
 * The part of dp_dispatch's time the layer waits for, beside `compute` seconds of the layer's
 * kernels. With serving.two_batch_overlap the batch runs as two micro-batches that alternate,
 * one's dispatch and combine under the other's attention and experts (DeepSeek, "Inference
 * System Overview": dual-batch overlap in prefill, a 5-stage pipeline of the attention in
 * decode; SGLang --enable-two-batch-overlap), so only what they outlast the compute by shows:
 * max(0, all-to-all - compute), per half (forward_time_comm runs the layers on half batches
 * twice: their smaller GEMMs read the weights twice and every kernel launches twice). The
 * pass's first micro-batch, which has nothing to hide under, is left out. The links carry that
 * share of the bytes.
 */
static double dp_exposed(const struct forward_cost *f, const struct forward_batch *b,
			 double compute, struct forward_comm *comm)
{
	struct forward_comm ep;
	double t, keep;
	int k;
	memset(&ep, 0, sizeof ep);
	t = dp_dispatch(f, b, &ep);
	keep = !f->s->serving.two_batch_overlap ? 1.0 : t > compute ? (t - compute) / t : 0.0;
	for (k = 0; comm != NULL && k < FORWARD_LINKS; k++) {
		comm->bytes[k] += keep * ep.bytes[k];
		comm->latency[k] += keep * ep.latency[k];
	}
	return keep * t;
}
