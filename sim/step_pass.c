/*
 * step_pass: the ops of one pass of a training step. Plan stage, part of step (step_int.h).
 * Per pass (forward, whole backward, input or weight gradients of one micro-batch through one
 * chunk of layers): each layer's kernels as one compute op, then its blocking TP, EP and CP
 * collectives as transfers on the same stream (Megatron issues them on the compute stream), then
 * the pipeline send to the rank of the next model chunk. Gradient reduction (DDP all-reduce,
 * ZeRO reduce-scatter, ZeRO-3 gathers) runs on a DP stream; the optimizer on the compute stream
 * (or the host, with offload) after it. What each pass costs is step_cost.c's.
 */
#include <math.h>
#include <string.h>

#include "bug.h"
#include "collective.h"
#include "compute.h"
#include "kernels.h"
#include "layout.h"
#include "memory.h"
#include "model.h"
#include "schedule.h"
#include "step_int.h"

/* The device's TP collective running beside its computation, if one is pending: the next op
 * that uses the layer's output (the next layer, a collective or send after it, the head, the
 * optimizer) waits for it as well as for the computation before it on its stream. */
static void join_side(struct builder *b, int64_t dev, uint32_t op)
{
	if (b->side[dev] != NONE && op != NONE && op != b->side[dev])
		graph_add_dep(b->g, op, b->side[dev]);
	b->side[dev] = NONE;
}

/* Transfers for a traffic on a device's stream, one per class of link, in sequence. Returns the
 * last op added (or `after` when there is no traffic). */
static uint32_t emit_traffic2(struct builder *b, int64_t dev, uint32_t stream, int category,
			      const struct traffic *t, double times, uint32_t after, uint32_t also)
{
	int k;
	for (k = 0; k < 3; k++) {
		uint32_t op;
		if (t->bytes[k] * times <= 0 && t->latency[k] * times <= 0)
			continue;
		op = graph_add_transfer(b->g, stream, step_category_names[category], category,
					t->bytes[k] * times, t->latency[k] * times,
					&b->link[k][dev], 1);
		if (stream == b->compute[dev])
			join_side(b, dev, op);
		if (after != NONE)
			graph_add_dep(b->g, op, after);
		if (also != NONE && also != after)
			graph_add_dep(b->g, op, also);
		after = op;
		also = NONE;
	}
	return after;
}

static uint32_t emit_traffic(struct builder *b, int64_t dev, uint32_t stream, int category,
			     const struct traffic *t, double times, uint32_t after)
{
	return emit_traffic2(b, dev, stream, category, t, times, after, NONE);
}

/* strategy.tp_comm_overlap: Transformer Engine splits each GEMM into tp chunks and sends one
 * chunk's result (reduce-scatter) or receives the next chunk's input (all-gather) while the
 * next chunk computes (comm_gemm_overlap.cpp, CommOverlapP2PBase::split_overlap_rs and
 * split_overlap_ag): the first chunk computes before any transfer, then each transfer runs
 * under the next chunk's GEMM. A layer computing for `seconds` with TP traffic T takes
 * max(seconds, seconds/tp + T): the traffic runs beside the computation, starting with it
 * (after `pred`, the computation before it, and `wait`, its input) and a tp-th of it later,
 * and what follows waits for both. The chunked GEMMs' own efficiency is not counted apart. */
static void tp_beside(struct builder *b, int64_t dev, const struct traffic *t, uint32_t pred,
		      uint32_t wait, double seconds)
{
	struct traffic late = *t;
	uint32_t op;
	int k;
	for (k = 0; k < 3; k++)
		if (late.bytes[k] > 0 || late.latency[k] > 0) {
			late.latency[k] += seconds / (double)b->l.tp;
			break;
		}
	op = emit_traffic2(b, dev, b->tpc[dev], STEP_TP, &late, 1, pred, wait);
	b->side[dev] = op != pred ? op : NONE;
}

/* strategy.tp_async_backward: a whole backward's layer runs as its input-gradient work, `dgrad`,
 * then its weight-gradient GEMMs, `op`; the input gradients' all-reduces (reduce-scatters with
 * sequence parallelism) start after the first and run beside the second, and the rest of the
 * layer's TP traffic blocks after it on the compute stream. The next computation waits for
 * both. */
static uint32_t tp_async(struct builder *b, int64_t dev, const struct pass_cost *lc,
			 uint32_t dgrad, uint32_t op)
{
	struct traffic rest = lc->tp;
	uint32_t side;
	int k;
	for (k = 0; k < 3; k++) {
		rest.bytes[k] -= lc->tp_async.bytes[k];
		rest.latency[k] -= lc->tp_async.latency[k];
	}
	op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &rest, 1, op);
	side = emit_traffic(b, dev, b->tpc[dev], STEP_TP, &lc->tp_async, 1, dgrad);
	b->side[dev] = side != dgrad ? side : NONE;
	return op;
}

/* A point-to-point transfer between pipeline ranks on `stream`. */
static uint32_t p2p(struct builder *b, uint32_t stream, int64_t from, int64_t to, double bytes,
		    const char *name, int category, uint32_t after)
{
	const struct scenario *s = b->s;
	/* Megatron order tp, cp, dp, pp: neighbouring stages are tp*cp*dp ranks apart. */
	bool same_node = b->l.tp * b->l.cp * b->l.dp < s->cluster.node.gpus_per_node &&
			 from / (s->cluster.node.gpus_per_node / (b->l.tp * b->l.cp * b->l.dp)) ==
				 to / (s->cluster.node.gpus_per_node / (b->l.tp * b->l.cp * b->l.dp));
	int k = same_node ? LINK_CLASS_GPU : LINK_CLASS_NETWORK;
	double lat = k == LINK_CLASS_GPU ? s->cluster.node.gpu_link.latency
					 : s->cluster.node.network.latency;
	uint32_t links[2], op;
	BUG_ON(from < 0 || from >= b->p || to < 0 || to >= b->p || !(bytes >= 0));
	links[0] = b->link[k][from];
	links[1] = b->link[k][to];
	op = graph_add_transfer(b->g, stream, name, category, bytes, lat, links,
				from == to ? 1 : 2);
	if (after != NONE)
		graph_add_dep(b->g, op, after);
	return op;
}

static uint32_t send(struct builder *b, int64_t from, int64_t to, uint32_t after, bool grad)
{
	const struct scenario *s = b->s;
	bool sp = s->strategy.sequence_parallel && b->l.tp > 1;
	double bytes = (double)s->workload.micro_batch * (double)s->workload.seq_len /
		       (double)b->l.cp * (double)s->model.hidden *
		       (s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0) / (sp ? (double)b->l.tp : 1.0);
	uint32_t op;
	if (from == to && b->p > 1)  /* the V's turn: the next chunk is on the same rank */
		return after;
	op = p2p(b, b->pp[from], from, to, bytes, grad ? "pp_grad" : "pp_act", STEP_PP, after);
	join_side(b, from, op);
	return op;
}

/* Data-parallel traffic of `bytes` of device dev's parameters (or their gradients) with
 * collective `kind`. The experts' share goes over the expert-data-parallel ranks, the rest over
 * the data-parallel ones (Megatron-Core 0d8e0714 distributed_data_parallel.py: expert
 * parameters have buffers of their own, expert_parallel_buffers, over the expert-data-parallel
 * group). Ranks per node: the data-parallel group steps over tp ranks; the expert one over
 * etp x ep (Megatron-Core parallel_state.py, the expert rank generator's tp-ep-dp order). */
static void group_traffic(const struct node_spec *node, enum collective_kind kind, double bytes,
			  int64_t ranks, int64_t stride, struct traffic *t)
{
	int64_t pn = node->gpus_per_node / stride;
	struct collective_plan plan;
	if (bytes <= 0 || ranks < 1)
		return;
	if (pn < 1)
		pn = 1;
	collective_plan(node, kind, bytes, ranks, pn < ranks ? pn : ranks, &plan);
	step_add_plan(t, &plan, 1);
}

static void dp_traffic(const struct builder *b, int64_t dev, enum collective_kind kind,
		       double bytes, struct traffic *t)
{
	const struct node_spec *node = &b->s->cluster.node;
	double expert = bytes * b->role[dev].expert_share;
	memset(t, 0, sizeof *t);
	group_traffic(node, kind, bytes - expert, b->l.dense_dp, b->l.tp, t);
	group_traffic(node, kind, expert, b->l.expert_dp, b->l.etp * b->l.ep, t);
}

/* The framework's fixed cost per gather (flattening, copies, the launch), paid before its first
 * bytes move: added to the latency of the first link the gather uses. */
static void add_gather_overhead(struct traffic *t, double seconds)
{
	int k;
	for (k = 0; k < 3; k++)
		if (t->bytes[k] > 0 || t->latency[k] > 0) {
			t->latency[k] += seconds;
			return;
		}
}

/* The copy-out after a gather of `bytes` (runtime.zero3_copy_out), none without a gather. */
static double copy_out(const struct builder *b, uint32_t gather, double bytes)
{
	return gather == NONE || b->copy_out_per_byte <= 0
		       ? 0
		       : b->copy_out_fixed + b->copy_out_per_byte * bytes;
}

/* ZeRO-3: gather one layer's weights on the DP stream, prefetched: it may start once the layer
 * zero3_prefetch_layers + 1 computes back is done (DeepSpeed's prefetch of the next layers).
 * Gathered module by module (runtime.zero3_unit: module), the layer's bytes go in as many
 * collectives, each paying its own latency and the framework's fixed cost. */
static uint32_t gather_layer(struct builder *b, int64_t dev, double bytes, double modules)
{
	const struct scenario *s = b->s;
	int64_t ahead = s->strategy.zero3_prefetch_layers;
	double calls = s->runtime.zero3_unit == ZERO3_UNIT_MODULE && modules > 1 ? modules : 1;
	struct traffic t;
	uint32_t after;
	int k;
	if (ahead > RECENT - 1)
		ahead = RECENT - 1;
	after = b->recent[dev * RECENT + ahead];
	if (s->strategy.offload.params == OFFLOAD_CPU) {
		/* ZeRO-Infinity / FSDP CPU offload: the GPU's shard of the layer lives in host
		 * memory and is copied in over PCIe before the all-gather can start (Rajbhandari
		 * et al. 2021, sec. 5; FSDP CPUOffload(offload_params=True)). */
		const struct node_spec *node = &s->cluster.node;
		uint32_t op = graph_add_transfer(b->g, b->dp[dev], "params_from_host", STEP_OFFLOAD,
						 bytes * (1.0 - b->role[dev].expert_share) /
							 (double)b->l.dense_dp +
						 bytes * b->role[dev].expert_share /
							 (double)b->l.expert_dp,
						 node->pcie.latency,
						 &b->link[LINK_CLASS_PCIE][dev], 1);
		if (after != NONE)
			graph_add_dep(b->g, op, after);
		after = op;
	}
	dp_traffic(b, dev, COLLECTIVE_ALLGATHER, bytes / calls, &t);
	add_gather_overhead(&t, s->runtime.gather_overhead);
	for (k = 0; k < 3; k++) {
		t.bytes[k] *= calls;
		t.latency[k] *= calls;
	}
	return emit_traffic(b, dev, b->dp[dev], STEP_DP, &t, 1, after);
}

/* strategy.overlap_param_gather with ZeRO-1/2 (Megatron's distributed optimizer): the weights
 * the optimizer step updated are all-gathered under the next forward, a bucket ahead of it
 * (distrib_optimizer.py at core_r0.8.0: the first bucket is dispatched before the forward, and
 * each forward pre-hook that waits for its bucket dispatches the next). The step being
 * periodic, its own first forward waits for them: each layer's first forward for its layer,
 * dispatched once the layer before it starts. */
static bool param_gather(const struct scenario *s)
{
	return s->strategy.overlap_param_gather &&
	       (s->strategy.zero == 1 || s->strategy.zero == 2);
}

static uint32_t gather_updated(struct builder *b, int64_t dev, double bytes)
{
	struct traffic t;
	if (bytes <= 0)
		return NONE;
	dp_traffic(b, dev, COLLECTIVE_ALLGATHER, bytes, &t);
	return emit_traffic(b, dev, b->dp[dev], STEP_DP, &t, 1, b->recent[dev * RECENT + 1]);
}

/* ZeRO-3 gathers a layer's weights again for its backward unless they stayed from the forward
 * (FSDP SHARD_GRAD_OP: runtime.reshard_after_forward false). */
static bool regathers(const struct scenario *s)
{
	return s->strategy.zero >= 3 && s->runtime.reshard_after_forward;
}

/* A layer's backward gather: its weights, and those DeepSpeed released between a full
 * recompute and the backward once more (step_cost.c regather), as many collectives again as
 * modules. */
static uint32_t backward_gather(struct builder *b, int64_t dev, double bytes,
				const struct pass_cost *lc)
{
	return gather_layer(b, dev, bytes * (1 + lc->regather), lc->modules + lc->regather_modules);
}

static void remember_compute(struct builder *b, int64_t dev, uint32_t op)
{
	uint32_t *r = &b->recent[dev * RECENT];
	memmove(r + 1, r, (RECENT - 1) * sizeof *r);
	r[0] = op;
}

/* A layer's kernels and then its blocking collectives on the compute stream; the first op of a
 * pass waits for its input from the neighbouring stage and, with ZeRO-3, for its weights. */
static uint32_t layer_ops(struct builder *b, int64_t dev, const char *name, double seconds,
			  uint32_t wait, uint32_t gather)
{
	uint32_t op = graph_add_compute(b->g, b->compute[dev], name, STEP_COMPUTE, seconds);
	join_side(b, dev, op);
	if (wait != NONE)
		graph_add_dep(b->g, op, wait);
	if (gather != NONE && gather != wait)
		graph_add_dep(b->g, op, gather);
	remember_compute(b, dev, op);
	return op;
}

/*
 * strategy.offload.activations: a layer's saved activations cross PCIe to the host after its
 * forward and back before its backward. In order on the compute stream, the computation waits
 * for each copy (DeepSpeed checkpointing.py with cpu_checkpointing: .cpu() after the forward,
 * .to(device) before the recompute); on a stream of their own (runtime.activation_offload_
 * overlap) a forward copy runs under the next layer and a layer's copy back under the
 * backward before it (Transformer Engine's double buffering).
 */
static uint32_t copy_activations(struct builder *b, int64_t dev, bool out, double bytes,
				 uint32_t after)
{
	const struct node_spec *node = &b->s->cluster.node;
	double host = 0, dma = bytes / collective_rank_bandwidth(node, LINK_CLASS_PCIE);
	uint32_t op;
	/* runtime.activation_offload_pageable: DeepSpeed's cpu_checkpointing copies with
	 * .to('cpu'), a new pageable tensor for each checkpoint, and back with .to(device)
	 * (deepspeed/runtime/utils.py copy_to_device, move_to_device, v0.6.2). The driver stages a
	 * pageable copy through a pinned buffer that one host thread copies to or from (CUDA
	 * Runtime API, "API synchronization behavior"); going out, that thread also maps in each
	 * page of the new tensor ("the pages need to be populated during the cudaMemcpy time which
	 * increases the data copy time", activation_checkpointing/checkpointing.py). The DMA runs
	 * under the host's part, so the copy takes the longer of the two: the rest of the host's
	 * time comes before the bytes cross PCIe. */
	if (b->s->runtime.activation_offload_pageable) {
		host = bytes / node->host_memcpy_bw;
		if (out)
			host += bytes / node->host_fault_bw;
		host = host > dma ? host - dma : 0;
	}
	op = graph_add_transfer(b->g, b->act_copy[dev],
				out ? "activations_to_host" : "activations_from_host", STEP_OFFLOAD, bytes,
				node->pcie.latency + host, &b->link[LINK_CLASS_PCIE][dev], 1);
	if (after != NONE)
		graph_add_dep(b->g, op, after);
	return op;
}

/* A copy in order blocks the host until it is done (a pageable copy: CUDA Runtime API,
 * "API synchronization behavior"), so what the host issues next — the next ZeRO-3 gather among
 * it — starts after it: the copy stands for the layer's compute it follows in the gathers'
 * reckoning (gather_layer). */
static void host_waits(struct builder *b, int64_t dev, uint32_t copy)
{
	if (b->act_copy[dev] == b->compute[dev] && b->recent[dev * RECENT] != NONE)
		b->recent[dev * RECENT] = copy;
}

/* Beside the computation, a layer's activations come onto the GPU (its forward, or its copy
 * back) only once those of the layer two before have left (their copy out, or their backward):
 * two layers' at most, Transformer Engine's double buffer (memory.c counts two). In order on the
 * compute stream, the stream keeps one. */
static void act_arrives(struct builder *b, int64_t dev, uint32_t op)
{
	uint32_t before = b->act_release[dev * 2 + 1];
	if (b->act_copy[dev] != b->compute[dev] && before != NONE)
		graph_add_dep(b->g, op, before);
}

static void act_leaves(struct builder *b, int64_t dev, uint32_t op)
{
	b->act_release[dev * 2 + 1] = b->act_release[dev * 2];
	b->act_release[dev * 2] = op;
}

/* One pass under construction: emitted layer by layer, so that DualPipe's pair of a forward and
 * a backward can interleave their layers on the compute stream. */
struct pass_state {
	const struct pass *ps;
	int64_t dev, gc, begin, count, i;   /* i: layers emitted */
	size_t key;
	double params, per_layer_params, per_layer_trainable, per_layer_act, work, acc;
	bool reduce, started;
	bool accumulate;                    /* its weight gradients are added to the buffer by
					       kernels of their own (builder's accum_*) */
	uint32_t op, wait, comm;            /* comm: the stream of the layers' collectives */
	uint32_t prefetched;                /* ZeRO-3: the next backward layer's gather, or NONE */
	uint32_t dgrad;                     /* strategy.tp_async_backward: the layer's input-
					       gradient op, before its weight-gradient op */
	uint32_t *dp_after;
};

static bool is_input(const struct pass *ps)
{
	return ps->kind == PASS_BACKWARD || ps->kind == PASS_INPUT;
}

static bool is_weight(const struct pass *ps)
{
	return ps->kind == PASS_BACKWARD || ps->kind == PASS_WEIGHT;
}

/* A backward layer's compute: the whole backward, its input gradients (with the recompute that
 * precedes them) or its weight gradients. */
static double backward_seconds(const struct pass *ps, const struct pass_cost *c)
{
	if (ps->kind == PASS_WEIGHT)
		return c->wgrad;
	return ps->kind == PASS_INPUT ? c->recompute + c->bwd - c->wgrad : c->recompute + c->bwd;
}

/* A weight pass's gradient accumulation kernels for one layer (runtime.fusion.grad_accumulation
 * false, set up in step.c): its trainable elements at the builder's rate, one kernel per
 * parameter tensor. */
static double accumulation(const struct builder *b, const struct pass_state *st,
			   const struct pass_cost *lc)
{
	return st->accumulate ? b->accum_per_param * st->per_layer_trainable +
					b->accum_kernel * lc->tensors
			      : 0;
}

static void pass_open(struct builder *b, int64_t dev, const struct pass *ps, uint32_t *dp_after,
		      uint32_t comm, struct pass_state *st)
{
	const struct scenario *s = b->s;
	struct graph *g = b->g;
	int64_t last_g = b->hops - 1;
	double act = b->chunk_act[dev * b->v + ps->chunk];
	memset(st, 0, sizeof *st);
	st->ps = ps;
	st->dev = dev;
	st->gc = layout_model_chunk(&b->l, dev, ps->chunk);
	st->key = (size_t)(ps->micro_batch * b->hops + st->gc);
	st->op = NONE;
	st->prefetched = NONE;
	st->comm = comm;
	st->dp_after = dp_after;
	BUG_ON(dev < 0 || dev >= b->p || st->gc < 0 || st->gc > last_g);
	BUG_ON(ps->micro_batch < 0 || ps->micro_batch >= b->m);
	layout_chunk(s, &b->l, st->gc, &st->begin, &st->count);
	/* A chunk's share of the stage's parameters: 1/v, or its share of the layers when chunks
	 * differ (layout_chunk). */
	st->params = (layout_is_uneven(s) || b->l.placement == LAYOUT_BIDIRECTIONAL) &&
			     b->v > 1 && b->role[dev].layers > 0
		? b->role[dev].params * (double)st->count / (double)b->role[dev].layers
		: b->role[dev].params / (double)b->v;
	st->per_layer_params = st->count > 0 ? st->params / (double)st->count : st->params;
	/* What trains (LoRA: the adapters) is what reduces its gradients. */
	st->per_layer_trainable = b->role[dev].params > 0 ? st->per_layer_params *
					b->role[dev].trainable / b->role[dev].params : 0;
	st->per_layer_act = st->count > 0 ? act / (double)st->count : act;
	BUG_ON(st->count < 0 || !(st->params >= 0 && act >= 0));  /* from the memory module */
	if (ps->kind == PASS_FORWARD) {
		st->wait = st->gc > 0 ? b->fwd_send[st->key - 1] : NONE;
		if (st->gc == 0) {
			st->op = layer_ops(b, dev, "embedding_forward", b->embed.fwd, st->wait,
					   NONE);
			graph_add_mem(g, st->op, (uint32_t)dev, b->role[dev].act_embed_per_mb,
				      false);
			st->wait = NONE;
		}
		return;
	}
	st->work = b->role[dev].act_recompute;
	BUG_ON(!(st->work >= 0));
	/* Gradients are reduced after the chunk's last weight gradients, or after every
	 * micro-batch's with ZeRO-3. */
	st->reduce = is_weight(ps) &&
		     (s->strategy.zero >= 3 || b->weights_left[dev * b->v + ps->chunk] == 1);
	if (is_weight(ps)) {
		unsigned char *started = &b->accum_started[dev * b->v + ps->chunk];
		b->weights_left[dev * b->v + ps->chunk]--;
		st->accumulate = b->accum_per_param > 0 && (*started || !b->accum_skip_first);
		*started = 1;
	}
	st->wait = st->gc < last_g && is_input(ps) ? b->bwd_send[st->key + 1] : NONE;
	/* The head's backward first (the loss starts the backward), then the layers last to
	 * first; the recompute working set lives for the whole pass, allocated by its first op. */
	if (st->gc == last_g && is_input(ps)) {
		double sec = ps->kind == PASS_INPUT ? b->head.bwd - b->head.wgrad : b->head.bwd;
		st->op = layer_ops(b, dev, "head_backward", sec, st->wait, NONE);
		graph_add_mem(g, st->op, (uint32_t)dev, st->work, false);
		graph_add_mem(g, st->op, (uint32_t)dev, -b->role[dev].act_head_per_mb, true);
		st->op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &b->head.tp, 1, st->op);
		st->op = emit_traffic(b, dev, b->compute[dev], STEP_EP, &b->head.ep, 1, st->op);
		st->started = true;
	} else if (st->gc == last_g) {
		st->op = layer_ops(b, dev, "head_weight", b->head.wgrad, NONE, NONE);
	}
}

static void free_work(struct builder *b, const struct pass_state *st)
{
	graph_add_mem(b->g, st->op, (uint32_t)st->dev, -st->work, true);
	if (st->gc == 0)
		graph_add_mem(b->g, st->op, (uint32_t)st->dev, -b->role[st->dev].act_embed_per_mb,
			      true);
}

/* The next layer of the pass; false when none is left. */
static bool pass_layer(struct builder *b, struct pass_state *st)
{
	const struct scenario *s = b->s;
	const struct pass *ps = st->ps;
	struct graph *g = b->g;
	int64_t dev = st->dev, zero = s->strategy.zero;
	double wbytes = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	/* The same gradient bytes the memory table counts (an fp8 grad_dtype is 1 byte, not 2). */
	double gb = memory_dtype_bytes(s->workload.grad_dtype);
	int64_t i = ps->kind == PASS_FORWARD ? st->i : st->count - 1 - st->i;
	const struct pass_cost *lc;
	/* TP collectives beside the GEMMs (strategy.tp_comm_overlap), unless DualPipe's pairs
	 * already run every collective off the compute stream. */
	bool beside = b->tp_chunked && b->tpc[dev] != NONE && st->comm == b->compute[dev];
	/* Megatron's asynchronous backward collectives: a whole backward on the compute stream. */
	bool async = !b->tp_chunked && b->tpc[dev] != NONE && st->comm == b->compute[dev] &&
		     ps->kind == PASS_BACKWARD;
	/* Collectives off the compute stream: the layer after them waits for them explicitly. */
	uint32_t chain = st->comm != b->compute[dev] ? st->op : NONE;
	uint32_t pred = b->recent[dev * RECENT], before = NONE;
	double seconds, wgrad, acc;
	bool offload = s->strategy.offload.activations == OFFLOAD_CPU;
	if (st->i >= st->count)
		return false;
	lc = &b->layer[model_layer_kind(&s->model, st->begin + i)];
	st->i++;
	if (ps->kind == PASS_FORWARD) {
		uint32_t gather = zero >= 3 ? gather_layer(b, dev, st->per_layer_params * wbytes,
							   lc->modules)
				  : param_gather(s) && ps->micro_batch == 0
					? gather_updated(b, dev, st->per_layer_trainable * wbytes)
					: NONE;
		uint32_t fwd;
		before = st->wait != NONE ? st->wait : chain;
		st->op = layer_ops(b, dev, "layer_forward",
				   lc->fwd + (beside ? lc->tp_stall[0] : 0) +
					   copy_out(b, gather, st->per_layer_params * wbytes),
				   before, gather);
		fwd = st->op;
		graph_add_mem(g, st->op, (uint32_t)dev, st->per_layer_act, false);
		if (offload)
			act_arrives(b, dev, st->op);
		st->wait = NONE;
		if (beside)
			tp_beside(b, dev, &lc->tp, pred, before, lc->fwd);
		else
			st->op = emit_traffic(b, dev, st->comm, STEP_TP, &lc->tp, 1, st->op);
		st->op = emit_traffic(b, dev, st->comm, STEP_EP, &lc->ep, 1, st->op);
		st->op = emit_traffic(b, dev, st->comm, STEP_CP, &lc->cp, 1, st->op);
		if (offload) {
			uint32_t out = copy_activations(b, dev, true, st->per_layer_act, fwd);
			graph_add_mem(g, out, (uint32_t)dev, -st->per_layer_act, true);
			act_leaves(b, dev, out);
			host_waits(b, dev, out);
			if (b->act_copy[dev] == b->compute[dev])
				st->op = out;
		}
		return true;
	}
	if (is_input(ps)) {
		/* Without resharding after forward (FSDP SHARD_GRAD_OP) the weights gathered for
		 * the forward stay for the backward. */
		uint32_t gather, back = NONE;
		if (offload) {
			back = copy_activations(b, dev, false, st->per_layer_act, NONE);
			act_arrives(b, dev, back);
			graph_add_mem(g, back, (uint32_t)dev, st->per_layer_act, false);
			host_waits(b, dev, back);
		}
		gather = st->prefetched;
		if (regathers(s) && gather == NONE)
			gather = backward_gather(b, dev, st->per_layer_params * wbytes, lc);
		st->prefetched = NONE;
		before = st->started ? chain : st->wait;
		/* With the asynchronous backward collectives the weight gradients (and their
		 * accumulation) are an op of their own, which the collectives run beside
		 * (tp_async). */
		acc = accumulation(b, st, lc);
		seconds = backward_seconds(ps, lc) + acc + (beside ? lc->tp_stall[1] : 0);
		wgrad = async ? lc->wgrad + acc : 0;
		st->op = layer_ops(b, dev, ps->kind == PASS_INPUT ? "layer_input_grad"
								   : "layer_backward",
				   seconds - wgrad +
					   copy_out(b, gather, st->per_layer_params * wbytes),
				   before, gather);
		if (back != NONE)
			graph_add_dep(g, st->op, back);
		if (!st->started)
			graph_add_mem(g, st->op, (uint32_t)dev, st->work, false);
		st->started = true;
		st->dgrad = st->op;
		if (async)
			st->op = layer_ops(b, dev, "layer_weight_grad", wgrad, NONE, NONE);
	} else {
		st->op = layer_ops(b, dev, "layer_weight_grad",
				   backward_seconds(ps, lc) + accumulation(b, st, lc), NONE, NONE);
	}
	/* A weight-gradient pass frees what its dW needed: the layer's saved activations stay
	 * until then (Qi et al. 2024, sec. 3.1). */
	if (is_weight(ps)) {
		graph_add_mem(g, st->op, (uint32_t)dev, -st->per_layer_act, true);
		if (offload)
			act_leaves(b, dev, st->op);
	}
	if (is_input(ps)) {
		/* The pass's compute ends with its last layer: its working set and the embedding's
		 * inputs go then, or after the collectives that follow on the compute stream. */
		bool aside = st->comm != b->compute[dev] || beside || async;
		if (i == 0 && aside)
			free_work(b, st);
		if (beside) {
			struct traffic both = lc->tp;
			int k;
			for (k = 0; k < 3; k++) {
				both.bytes[k] += lc->tp_recompute.bytes[k];
				both.latency[k] += lc->tp_recompute.latency[k];
			}
			tp_beside(b, dev, &both, pred, before, backward_seconds(ps, lc));
		} else if (async) {
			st->op = emit_traffic(b, dev, st->comm, STEP_TP, &lc->tp_recompute, 1,
					      st->op);
			st->op = tp_async(b, dev, lc, st->dgrad, st->op);
		} else {
			st->op = emit_traffic(b, dev, st->comm, STEP_TP, &lc->tp_recompute, 1,
					      st->op);
			st->op = emit_traffic(b, dev, st->comm, STEP_TP, &lc->tp, 1, st->op);
		}
		st->op = emit_traffic(b, dev, st->comm, STEP_EP, &lc->ep, 1, st->op);
		st->op = emit_traffic(b, dev, st->comm, STEP_CP, &lc->cp, 2, st->op);
		if (i == 0 && !aside)
			free_work(b, st);
	}
	/* Backward prefetch (strategy.zero3_backward_prefetch): the next layer's gather is issued
	 * as this layer's gradients start, so on the data-parallel stream it goes ahead of this
	 * layer's reduce-scatter. One communicator runs its collectives in the order they are
	 * issued, so a gather issued after that reduce-scatter waits for it. */
	if (is_input(ps) && regathers(s) && s->strategy.zero3_backward_prefetch &&
	    s->strategy.zero3_prefetch_layers > 0 && st->i < st->count) {
		const struct pass_cost *nc =
			&b->layer[model_layer_kind(&s->model, st->begin + st->count - 1 - st->i)];
		st->prefetched = backward_gather(b, dev, st->per_layer_params * wbytes, nc);
	}
	/* Gradients leave in buckets as the layers produce them (PyTorch DDP, DeepSpeed), or all
	 * at once after the chunk's last backward. */
	if (st->reduce) {
		st->acc += st->per_layer_trainable * gb;
		if (i == 0 || (s->strategy.overlap_grad_reduce && st->acc >= s->strategy.bucket)) {
			enum collective_kind kind = zero >= 1 ? COLLECTIVE_REDUCESCATTER
							      : COLLECTIVE_ALLREDUCE;
			struct traffic t;
			uint32_t r;
			dp_traffic(b, dev, kind, st->acc, &t);
			r = emit_traffic2(b, dev, b->dp[dev], STEP_DP, &t, 1, st->op,
					  *st->dp_after);
			if (r != st->op)
				*st->dp_after = r;
			st->acc = 0;
		}
	}
	return true;
}

/* The pass's end: the head (forward), chunks of no layers, the send to the next rank. */
static void pass_close(struct builder *b, struct pass_state *st)
{
	const struct pass *ps = st->ps;
	struct graph *g = b->g;
	int64_t dev = st->dev, last_g = b->hops - 1, next_local;
	uint32_t wait = st->wait;
	if (ps->kind == PASS_FORWARD) {
		if (st->gc == last_g) {
			st->op = layer_ops(b, dev, "head_forward", b->head.fwd,
					   st->count == 0 ? wait : NONE, NONE);
			graph_add_mem(g, st->op, (uint32_t)dev, b->role[dev].act_head_per_mb,
				      false);
			/* The MTP modules' layers (step_cost.c), none without them. */
			st->op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &b->head.tp, 1, st->op);
			st->op = emit_traffic(b, dev, b->compute[dev], STEP_EP, &b->head.ep, 1, st->op);
			wait = NONE;
		}
		if (st->op == NONE)  /* a chunk of no layers (layout_chunk) passes its input on */
			st->op = layer_ops(b, dev, "empty_chunk_forward", 0, wait, NONE);
		if (st->gc < last_g) {
			int64_t to = layout_chunk_rank(&b->l, ps->micro_batch, st->gc + 1,
						       &next_local);
			b->fwd_send[st->key] = send(b, dev, to, st->op, false);
		}
	} else if (is_input(ps)) {
		if (st->count == 0 && !st->started) {
			/* A chunk of no layers: only the embedding (the account_for option), whose
			 * backward outer_cost leaves at no time, or nothing at all. */
			st->op = layer_ops(b, dev, st->gc == 0 ? "embedding_backward"
								: "empty_chunk_backward",
					   b->embed.bwd, wait, NONE);
			graph_add_mem(g, st->op, (uint32_t)dev, st->work, false);
			if (st->gc == 0)
				graph_add_mem(g, st->op, (uint32_t)dev,
					      -b->role[dev].act_embed_per_mb, true);
		}
		if (st->count == 0)  /* a chunk of only the head (or none): the working set goes */
			graph_add_mem(g, st->op, (uint32_t)dev, -st->work, true);
		if (st->gc > 0) {
			int64_t to = layout_chunk_rank(&b->l, ps->micro_batch, st->gc - 1,
						       &next_local);
			b->bwd_send[st->key] = send(b, dev, to, st->op, true);
		}
	} else if (st->op == NONE) {
		st->op = layer_ops(b, dev, "empty_chunk_weight", 0, NONE, NONE);
	}
	b->last_op[dev] = st->op;
}

void step_build_pass(struct builder *b, int64_t dev, const struct pass *ps, uint32_t *dp_after)
{
	struct pass_state st;
	pass_open(b, dev, ps, dp_after, b->compute[dev], &st);
	while (pass_layer(b, &st))
		;
	pass_close(b, &st);
}

/*
 * DualPipe's overlapped pair (DeepSeek-V3 report, sec. 3.2.1, fig. 4): a forward of one
 * micro-batch and a backward of another, their layers in turn on the compute stream and their
 * collectives on a separate stream, so each one's all-to-all runs under the other's computation
 * — which loses the SMs the communication keeps (runtime.comm_sms, the stream contends).
 */
void step_build_pair(struct builder *b, int64_t dev, const struct pass *f,
		     const struct pass *bw, uint32_t *dp_after)
{
	struct pass_state a, c;
	bool more_a = true, more_c = true;
	pass_open(b, dev, f, dp_after, b->pair[dev], &a);
	pass_open(b, dev, bw, dp_after, b->pair[dev], &c);
	/* Each pass closes (its head, its send) as soon as its own layers are out. */
	while (more_a || more_c) {
		if (more_a && !(more_a = pass_layer(b, &a)))
			pass_close(b, &a);
		if (more_c && !(more_c = pass_layer(b, &c)))
			pass_close(b, &c);
	}
}

/* The optimizer step after the device's gradients are reduced: fp32 master, moments and 16-bit
 * weights read and written once (Adam), on the GPU, or on the host after PCIe copies. It steps
 * the shard the memory model gives the GPU: with ZeRO, experts' elements split over the
 * expert-data-parallel ranks (Megatron-Core 0d8e0714 distributed_data_parallel.py: the expert
 * parameters get buffers of their own, expert_parallel_buffers, over the expert-data-parallel
 * group), not over all data-parallel ones. */
void step_optimizer(struct builder *b, int64_t dev, uint32_t dp_done, const struct compute *c)
{
	const struct scenario *s = b->s;
	struct graph *g = b->g;
	double shard = b->role[dev].updated;
	double wbytes = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	uint32_t op;
	if (b->l.placement == LAYOUT_BIDIRECTIONAL && b->p > 1) {
		/* DualPipe's two copies of each stage (ranks i and p-1-i) add up their gradients
		 * before the step (deepseek-ai/DualPipe, examples/example_dualpipe.py): each rank
		 * swaps its reduced shard with its mirror. */
		double bytes = shard * memory_dtype_bytes(s->workload.grad_dtype);
		op = p2p(b, b->dp[dev], dev, b->p - 1 - dev, bytes, "mirror_grads", STEP_DP,
			 dp_done != NONE ? dp_done : b->last_op[dev]);
		if (dp_done != NONE)
			graph_add_dep(g, op, b->last_op[dev]);
		dp_done = op;
	}
	if (s->strategy.offload.optimizer == OFFLOAD_CPU) {
		const struct node_spec *node = &s->cluster.node;
		/* The node's CPUs update every GPU's shard: each GPU gets its share of the rate. */
		double rate = s->runtime.cpu_adam_rate / (double)node->gpus_per_node;
		uint32_t down = graph_add_transfer(g, b->host[dev], "grads_to_host", STEP_OFFLOAD,
						   shard * 4.0, node->pcie.latency,
						   &b->link[LINK_CLASS_PCIE][dev], 1);
		if (dp_done != NONE)
			graph_add_dep(g, down, dp_done);
		graph_add_dep(g, down, b->last_op[dev]);
		op = graph_add_compute(g, b->host[dev], "cpu_adam", STEP_OPTIMIZER, shard / rate);
		op = graph_add_transfer(g, b->host[dev], "params_to_gpu", STEP_OFFLOAD,
					shard * wbytes, node->pcie.latency,
					&b->link[LINK_CLASS_PCIE][dev], 1);
		graph_add_dep(g, op, down);
	} else {
		/* Tensors of the stage: about ten per layer (norms, projections, biases). */
		struct kernel_cost kc;
		kernels_optimizer(s, shard, 10.0 * (double)b->role[dev].layers + 3, &kc);
		op = graph_add_compute(g, b->compute[dev], "optimizer", STEP_OPTIMIZER,
				       step_host_bound(compute_stream_time(c, kc.fwd_bytes) +
							       step_kernel_fixed(c, kc.fwd_kernels),
						       kc.fwd_kernels, step_kernel_gap(s)));
		join_side(b, dev, op);
		if (dp_done != NONE)
			graph_add_dep(g, op, dp_done);
	}
	if ((s->strategy.zero == 1 || s->strategy.zero == 2) && !param_gather(s)) {
		struct traffic t;
		dp_traffic(b, dev, COLLECTIVE_ALLGATHER, b->role[dev].trainable * wbytes, &t);
		emit_traffic(b, dev, b->dp[dev], STEP_DP, &t, 1, op);
	}
}

