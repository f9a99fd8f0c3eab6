/*
 * step: the graph of one training step. Plan stage.
 * Per pass (forward or backward of one micro-batch through one chunk of layers): the chunk's
 * kernels as one compute op, then its blocking TP, EP and CP collectives as transfers on the
 * same stream (Megatron issues them on the compute stream), then the pipeline send to the next
 * stage. Gradient reduction (DDP all-reduce, ZeRO reduce-scatter, ZeRO-3 gathers) runs on a DP
 * stream; the optimizer on the compute stream (or the host, with offload) after it. What each
 * pass costs is step_cost.c's.
 */
#include "step.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "xalloc.h"

const char *const step_category_names[STEP_CATEGORIES] = {
	"compute", "tp_comm", "cp_comm", "pp_comm", "dp_comm", "ep_comm", "optimizer", "offload",
};

const char *step_category_name(int category)
{
	return category >= 0 && category < STEP_CATEGORIES ? step_category_names[category] : "?";
}

struct builder {
	const struct scenario *s;
	struct layout l;
	struct graph *g;
	const struct schedule_type *sched;
	int64_t m, p, v;
	uint32_t *compute, *pp, *dp, *host;          /* streams per device */
	uint32_t *link[3];                           /* per device: gpu, network, pcie */
	uint32_t *fwd_send, *bwd_send;               /* per (mb, global chunk): transfer op */
	uint32_t *last_op;                           /* per device: last op on its compute stream */
	struct pass_cost layer[2];                   /* one dense / MoE layer, one micro-batch */
	struct pass_cost embed, head;                /* embedding lookup; output head and loss */
	uint32_t *recent;                            /* per device: last layer computes (ZeRO-3) */
	struct memory_role *role;                    /* per device */
	double *chunk_act;                           /* per (device, chunk): bytes per micro-batch */
};

#define NONE UINT32_MAX
enum { RECENT = 9 };     /* layer computes remembered per device for ZeRO-3 prefetch */

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

static int64_t global_chunk(const struct builder *b, int64_t dev, int64_t chunk)
{
	return chunk * b->p + dev;
}

/* Which device holds global chunk g. */
static int64_t device_of(const struct builder *b, int64_t g)
{
	return g % b->p;
}

static uint32_t send(struct builder *b, int64_t from, int64_t to, uint32_t after, bool grad)
{
	const struct scenario *s = b->s;
	bool sp = s->strategy.sequence_parallel && b->l.tp > 1;
	double bytes = (double)s->workload.micro_batch * (double)s->workload.seq_len /
		       (double)b->l.cp * (double)s->model.hidden *
		       (s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0) / (sp ? (double)b->l.tp : 1.0);
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
	op = graph_add_transfer(b->g, b->pp[from], grad ? "pp_grad" : "pp_act", STEP_PP,
				bytes, lat, links, from == to ? 1 : 2);
	graph_add_dep(b->g, op, after);
	return op;
}

/* Data-parallel traffic of `params` parameters of `bytes_each` with collective `kind`. */
static void dp_traffic(const struct builder *b, enum collective_kind kind, double bytes,
		       struct traffic *t)
{
	const struct node_spec *node = &b->s->cluster.node;
	int64_t ranks = b->l.dense_dp;
	int64_t pn = node->gpus_per_node / b->l.tp;
	struct collective_plan plan;
	memset(t, 0, sizeof *t);
	if (pn < 1)
		pn = 1;
	collective_plan(node, kind, bytes, ranks, pn < ranks ? pn : ranks, &plan);
	step_add_plan(t, &plan, 1);
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

/* ZeRO-3: gather one layer's weights on the DP stream, prefetched: it may start once the layer
 * zero3_prefetch_layers + 1 computes back is done (DeepSpeed's prefetch of the next layers). */
static uint32_t gather_layer(struct builder *b, int64_t dev, double bytes)
{
	const struct scenario *s = b->s;
	int64_t ahead = s->strategy.zero3_prefetch_layers;
	struct traffic t;
	uint32_t after;
	if (ahead > RECENT - 1)
		ahead = RECENT - 1;
	after = b->recent[dev * RECENT + ahead];
	if (s->strategy.offload.params == OFFLOAD_CPU) {
		/* ZeRO-Infinity / FSDP CPU offload: the GPU's shard of the layer lives in host
		 * memory and is copied in over PCIe before the all-gather can start (Rajbhandari
		 * et al. 2021, sec. 5; FSDP CPUOffload(offload_params=True)). */
		const struct node_spec *node = &s->cluster.node;
		uint32_t op = graph_add_transfer(b->g, b->dp[dev], "params_from_host", STEP_OFFLOAD,
						 bytes / (double)b->l.dense_dp, node->pcie.latency,
						 &b->link[LINK_CLASS_PCIE][dev], 1);
		if (after != NONE)
			graph_add_dep(b->g, op, after);
		after = op;
	}
	dp_traffic(b, COLLECTIVE_ALLGATHER, bytes, &t);
	add_gather_overhead(&t, s->runtime.gather_overhead);
	return emit_traffic(b, dev, b->dp[dev], STEP_DP, &t, 1, after);
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
	if (wait != NONE)
		graph_add_dep(b->g, op, wait);
	if (gather != NONE && gather != wait)
		graph_add_dep(b->g, op, gather);
	remember_compute(b, dev, op);
	return op;
}

static void build_pass(struct builder *b, int64_t dev, const struct pass *ps, uint32_t *dp_after)
{
	const struct scenario *s = b->s;
	const struct model_config *m = &s->model;
	struct graph *g = b->g;
	int64_t last_g = b->p * b->v - 1, zero = s->strategy.zero;
	int64_t gc = global_chunk(b, dev, ps->chunk), begin, count, i;
	size_t key = (size_t)(ps->micro_batch * (b->p * b->v) + gc);
	double act = b->chunk_act[dev * b->v + ps->chunk];
	double wbytes = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	/* The same gradient bytes the memory table counts (an fp8 grad_dtype is 1 byte, not 2). */
	double gb = memory_dtype_bytes(s->workload.grad_dtype);
	double params, per_layer_params, per_layer_trainable, per_layer_act;
	uint32_t op = NONE, wait;

	BUG_ON(dev < 0 || dev >= b->p || gc < 0 || gc > last_g);
	BUG_ON(ps->micro_batch < 0 || ps->micro_batch >= b->m);
	layout_chunk(s, &b->l, gc, &begin, &count);
	/* A chunk's share of the stage's parameters: 1/v, or its share of the layers when chunks
	 * differ (layout_chunk). */
	params = layout_is_uneven(s) && b->v > 1 && b->role[dev].layers > 0
			 ? b->role[dev].params * (double)count / (double)b->role[dev].layers
			 : b->role[dev].params / (double)b->v;
	per_layer_params = count > 0 ? params / (double)count : params;
	/* What trains (LoRA: the adapters) is what reduces its gradients. */
	per_layer_trainable = b->role[dev].params > 0
				      ? per_layer_params * b->role[dev].trainable / b->role[dev].params
				      : 0;
	per_layer_act = count > 0 ? act / (double)count : act;
	BUG_ON(count < 0 || !(params >= 0 && act >= 0));  /* byte counts from the memory module */
	if (ps->kind == PASS_FORWARD) {
		wait = gc > 0 ? b->fwd_send[key - 1] : NONE;
		if (gc == 0) {
			op = layer_ops(b, dev, "embedding_forward", b->embed.fwd, wait, NONE);
			graph_add_mem(g, op, (uint32_t)dev, b->role[dev].act_embed_per_mb, false);
			wait = NONE;
		}
		for (i = 0; i < count; i++) {
			const struct pass_cost *lc = &b->layer[model_layer_kind(m, begin + i)];
			uint32_t gather = zero >= 3 ? gather_layer(b, dev, per_layer_params * wbytes)
						    : NONE;
			op = layer_ops(b, dev, "layer_forward", lc->fwd, wait, gather);
			graph_add_mem(g, op, (uint32_t)dev, per_layer_act, false);
			wait = NONE;
			op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &lc->tp, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_EP, &lc->ep, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_CP, &lc->cp, 1, op);
		}
		if (gc == last_g) {
			op = layer_ops(b, dev, "head_forward", b->head.fwd, wait, NONE);
			graph_add_mem(g, op, (uint32_t)dev, b->role[dev].act_head_per_mb, false);
			/* The MTP modules' layers (step_cost.c), none without them. */
			op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &b->head.tp, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_EP, &b->head.ep, 1, op);
		}
		if (op == NONE)     /* a chunk of no layers (layout_chunk) passes its input on */
			op = layer_ops(b, dev, "empty_chunk_forward", 0, wait, NONE);
		if (gc < last_g)
			b->fwd_send[key] = send(b, dev, device_of(b, gc + 1), op, false);
	} else {
		double work = b->role[dev].act_recompute, acc = 0;
		bool reduce = zero >= 3 || ps->micro_batch == b->m - 1;
		bool overlap = s->strategy.overlap_grad_reduce;
		enum collective_kind kind = zero >= 1 ? COLLECTIVE_REDUCESCATTER : COLLECTIVE_ALLREDUCE;
		bool started = false;
		BUG_ON(!(work >= 0));
		wait = gc < last_g ? b->bwd_send[key + 1] : NONE;
		/* The head's backward first (the loss starts the backward), then the layers last to
		 * first; the recompute working set lives for the whole pass, allocated by its first
		 * op. */
		if (gc == last_g) {
			op = layer_ops(b, dev, "head_backward", b->head.bwd, wait, NONE);
			graph_add_mem(g, op, (uint32_t)dev, work, false);
			graph_add_mem(g, op, (uint32_t)dev, -b->role[dev].act_head_per_mb, true);
			op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &b->head.tp, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_EP, &b->head.ep, 1, op);
			started = true;
		}
		for (i = count - 1; i >= 0; i--) {
			const struct pass_cost *lc = &b->layer[model_layer_kind(m, begin + i)];
			/* Without resharding after forward (FSDP SHARD_GRAD_OP) the weights
			 * gathered for the forward stay for the backward. */
			uint32_t gather = zero >= 3 && s->runtime.reshard_after_forward
						  ? gather_layer(b, dev, per_layer_params * wbytes)
						  : NONE;
			op = layer_ops(b, dev, "layer_backward", lc->recompute + lc->bwd,
				       started ? NONE : wait, gather);
			if (!started)
				graph_add_mem(g, op, (uint32_t)dev, work, false);
			started = true;
			graph_add_mem(g, op, (uint32_t)dev, -per_layer_act, true);
			op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &lc->tp_recompute, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_TP, &lc->tp, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_EP, &lc->ep, 1, op);
			op = emit_traffic(b, dev, b->compute[dev], STEP_CP, &lc->cp, 2, op);
			if (i == 0) {
				/* The pass ends here: its working set and the embedding's inputs go. */
				graph_add_mem(g, op, (uint32_t)dev, -work, true);
				if (gc == 0)
					graph_add_mem(g, op, (uint32_t)dev,
						      -b->role[dev].act_embed_per_mb, true);
			}
			/* Gradients leave in buckets as the layers produce them (PyTorch DDP,
			 * DeepSpeed), or all at once after the chunk's last backward. */
			if (reduce) {
				acc += per_layer_trainable * gb;
				if (i == 0 || (overlap && acc >= s->strategy.bucket)) {
					struct traffic t;
					uint32_t r;
					dp_traffic(b, kind, acc, &t);
					r = emit_traffic2(b, dev, b->dp[dev], STEP_DP, &t, 1, op, *dp_after);
					if (r != op)
						*dp_after = r;
					acc = 0;
				}
			}
		}
		if (count == 0 && !started) {
			/* A chunk of no layers: only the embedding (the account_for option), whose
			 * backward outer_cost leaves at no time, or nothing at all. */
			op = layer_ops(b, dev, gc == 0 ? "embedding_backward" : "empty_chunk_backward",
				       b->embed.bwd, wait, NONE);
			graph_add_mem(g, op, (uint32_t)dev, work, false);
			if (gc == 0)
				graph_add_mem(g, op, (uint32_t)dev, -b->role[dev].act_embed_per_mb,
					      true);
		}
		if (count == 0)     /* a chunk of only the head (or none): the working set goes */
			graph_add_mem(g, op, (uint32_t)dev, -work, true);
		if (gc > 0)
			b->bwd_send[key] = send(b, dev, device_of(b, gc - 1), op, true);
	}
	b->last_op[dev] = op;
}

/* The optimizer step after the device's gradients are reduced: fp32 master, moments and 16-bit
 * weights read and written once (Adam), on the GPU, or on the host after PCIe copies. */
static void optimizer(struct builder *b, int64_t dev, uint32_t dp_done, const struct compute *c)
{
	const struct scenario *s = b->s;
	struct graph *g = b->g;
	double shard = b->role[dev].trainable /
		       (s->strategy.zero >= 1 ? (double)b->l.dense_dp : 1.0);
	double wbytes = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	uint32_t op;
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
				       step_host_bound(compute_stream_time(c, kc.fwd_bytes),
						  kc.fwd_kernels, step_kernel_gap(s)));
		if (dp_done != NONE)
			graph_add_dep(g, op, dp_done);
	}
	if (s->strategy.zero == 1 || s->strategy.zero == 2) {
		struct traffic t;
		dp_traffic(b, COLLECTIVE_ALLGATHER, b->role[dev].trainable * wbytes, &t);
		emit_traffic(b, dev, b->dp[dev], STEP_DP, &t, 1, op);
	}
}


static void free_builder(struct builder *b)
{
	int k;
	free(b->compute);
	free(b->pp);
	free(b->dp);
	free(b->host);
	free(b->last_op);
	for (k = 0; k < 3; k++)
		free(b->link[k]);
	free(b->role);
	free(b->recent);
	free(b->chunk_act);
	free(b->fwd_send);
	free(b->bwd_send);
}

/* Whether a pass's input from another stage has been emitted already. */
static bool ready(const struct builder *b, int64_t dev, const struct pass *ps, const bool *emitted)
{
	int64_t gc = global_chunk(b, dev, ps->chunk), last_g = b->p * b->v - 1;
	size_t base = (size_t)(ps->micro_batch * (b->p * b->v));
	if (ps->kind == PASS_FORWARD)
		return gc == 0 || emitted[2 * (base + (size_t)gc - 1)];
	return gc == last_g || emitted[2 * (base + (size_t)gc + 1) + 1];
}

/*
 * Add every stage's passes in an order where each op's dependencies already exist (graph.c
 * requires it): repeatedly advance any stage whose next pass has its input from the
 * neighbouring stage emitted. A schedule that could deadlock would stop this loop early.
 */
static int emit_all(struct builder *b, const struct compute *c, struct diag *d)
{
	struct mark at = {b->s->file, 0, 0};
	size_t per = (size_t)(2 * b->m * b->v), keys = (size_t)(b->m * b->p * b->v), total = 0;
	struct pass *order = xcalloc(per * (size_t)b->p, sizeof *order);
	size_t *next = xcalloc((size_t)b->p, sizeof *next);
	uint32_t *dp_done = xcalloc((size_t)b->p, sizeof *dp_done);
	bool *emitted = xcalloc(2 * keys, sizeof *emitted);
	bool progress = true;
	int64_t dev;
	for (dev = 0; dev < b->p; dev++) {
		size_t n = b->sched->order(b->p, b->m, b->v, dev, order + (size_t)dev * per);
		dp_done[dev] = NONE;
		if (n != per) {
			diag_add(d, at, NULL, "the %s schedule cannot run %lld micro-batches on "
				 "%lld stages", b->sched->name, (long long)b->m, (long long)b->p);
			free(order);
			free(next);
			free(dp_done);
			free(emitted);
			return -1;
		}
	}
	while (progress && total < per * (size_t)b->p) {
		progress = false;
		for (dev = 0; dev < b->p; dev++) {
			while (next[dev] < per) {
				const struct pass *ps = &order[(size_t)dev * per + next[dev]];
				size_t key = (size_t)(ps->micro_batch * (b->p * b->v) +
						      global_chunk(b, dev, ps->chunk));
				if (!ready(b, dev, ps, emitted))
					break;
				/* A micro-batch's backward on a stage comes after its forward. */
				BUG_ON(ps->kind == PASS_BACKWARD && !emitted[2 * key]);
				build_pass(b, dev, ps, &dp_done[dev]);
				emitted[2 * key + (ps->kind == PASS_BACKWARD)] = true;
				next[dev]++;
				total++;
				progress = true;
				if (next[dev] == per)
					optimizer(b, dev, dp_done[dev], c);
			}
		}
	}
	free(order);
	free(next);
	free(dp_done);
	free(emitted);
	if (total < per * (size_t)b->p) {
		diag_add(d, at, NULL, "the %s schedule deadlocks on this shape", b->sched->name);
		return -1;
	}
	return 0;
}

int step_build(const struct scenario *s, struct step_plan *out, struct diag *d)
{
	struct mark at = {s->file, 0, 0};
	struct builder b;
	struct compute *c;
	int64_t dev, ch, k;
	size_t keys;

	memset(out, 0, sizeof *out);
	memset(&b, 0, sizeof b);
	if (s->workload.mode != MODE_TRAIN) {
		diag_add(d, at, NULL, "step_build simulates training scenarios");
		return -1;
	}
	c = compute_new(&s->cluster.node.gpu, at, d);
	if (c == NULL)
		return -1;
	b.s = s;
	layout_build(s, &b.l);
	b.p = b.l.pp;
	b.v = b.l.vp;
	b.m = b.l.micro_batches;
	b.sched = schedule_for(s->strategy.schedule);
	if (s->strategy.schedule == SCHEDULE_INTERLEAVED && b.m % b.p != 0) {
		diag_add(d, at, NULL, "the interleaved schedule needs micro-batches (%lld) to be a "
			 "multiple of pp (%lld)", (long long)b.m, (long long)b.p);
		compute_free(c);
		return -1;
	}
	/* Each pass adds a handful of ops; beyond this many passes the graph would not fit in
	 * memory nor run in reasonable time (the 1T row of Megatron-LM has 65,536). */
	if ((double)b.m * (double)b.v * (double)b.p * 2.0 > STEP_MAX_PASSES) {
		diag_add(d, at, NULL, "%.3g passes (%lld micro-batches x %lld chunks x %lld stages "
			 "x 2) exceed the %.0f this version simulates", (double)b.m * (double)b.v *
			 (double)b.p * 2.0, (long long)b.m, (long long)b.v, (long long)b.p,
			 (double)STEP_MAX_PASSES);
		compute_free(c);
		return -1;
	}
	b.g = graph_new((size_t)b.p);
	b.compute = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.pp = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.dp = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.host = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.last_op = xcalloc((size_t)b.p, sizeof(uint32_t));
	for (dev = 0; dev < b.p; dev++)
		b.last_op[dev] = NONE;
	for (k = 0; k < 3; k++)
		b.link[k] = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.role = xcalloc((size_t)b.p, sizeof *b.role);
	b.recent = xcalloc((size_t)(b.p * RECENT), sizeof *b.recent);
	b.chunk_act = xcalloc((size_t)(b.p * b.v), sizeof *b.chunk_act);
	keys = (size_t)(b.m * b.p * b.v);
	b.fwd_send = xcalloc(keys, sizeof(uint32_t));
	b.bwd_send = xcalloc(keys, sizeof(uint32_t));

	step_costs(s, c, &b.l, b.layer, &b.embed, &b.head);
	for (dev = 0; dev < b.p; dev++) {
		struct memory_role *r = &b.role[dev];
		memory_stage(s, dev, r);
		if (r->total > out->analytic_peak)
			out->analytic_peak = r->total;
		graph_set_device(b.g, (uint32_t)dev, s->cluster.node.gpu.memory,
				 r->total - r->part[MEMORY_ACTIVATIONS]);
		b.compute[dev] = graph_add_stream(b.g, (uint32_t)dev, "compute");
		b.pp[dev] = graph_add_stream(b.g, (uint32_t)dev, "pp_send");
		b.dp[dev] = graph_add_stream(b.g, (uint32_t)dev, "dp_comm");
		/* Gradient reduction and ZeRO gathers overlap the computation and keep
		 * runtime.comm_sms of its SMs while they run (NCCL runs a collective's channels as
		 * thread blocks on the SMs: NCCL docs, NCCL_MIN_NCHANNELS/NCCL_MAX_NCHANNELS). */
		if (s->runtime.comm_sms > 0 && s->cluster.node.gpu.sms > 0) {
			graph_stream_contends(b.g, b.dp[dev]);
			graph_set_slowdown(b.g, (uint32_t)dev,
					   fmin(0.9, (double)s->runtime.comm_sms /
							     (double)s->cluster.node.gpu.sms));
		}
		b.host[dev] = graph_add_stream(b.g, (uint32_t)dev, "host");
		for (k = 0; k < 3; k++)
			b.link[k][dev] = graph_add_port(b.g, (uint32_t)dev,
							k == 0 ? "gpu_link" : k == 1 ? "nic" : "pcie",
							collective_rank_bandwidth(&s->cluster.node,
										  (int)k));
		for (k = 0; k < RECENT; k++)
			b.recent[dev * RECENT + k] = NONE;
		for (ch = 0; ch < b.v; ch++) {
			int64_t begin, count;
			layout_chunk(s, &b.l, global_chunk(&b, dev, ch), &begin, &count);
			b.chunk_act[dev * b.v + ch] = r->inflight > 0 && r->layers > 0
				? r->act_layers / r->inflight * (double)count / (double)r->layers
				: 0;
		}
	}
	if (emit_all(&b, c, d) != 0) {
		free_builder(&b);
		compute_free(c);
		graph_free(b.g);
		return -1;
	}
	step_count_flops(s, out);
	out->graph = b.g;
	out->devices = b.p;
	free_builder(&b);
	compute_free(c);
	return 0;
}

void step_plan_release(struct step_plan *p)
{
	graph_free(p->graph);
	p->graph = NULL;
}
