/*
 * step: the graph of one training step. Plan stage.
 * One simulated device per pipeline rank with its streams and links; the schedule's per-rank
 * orders of passes are emitted in an order where every op's inputs exist, each pass's ops by
 * step_pass.c, each pass's cost by step_cost.c.
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
	free(b->weights_left);
	free(b->pair);
	free(b->tpc);
	free(b->side);
	free(b->act_copy);
	free(b->act_release);
	free(b->accum_started);
}

/* What emit_all records per (micro-batch, model chunk): its forward, its input gradients (a
 * whole backward or B) and its weight gradients (a whole backward or W) emitted. */
enum { DONE_F = 1, DONE_B = 2, DONE_W = 4 };

static size_t pass_key(const struct builder *b, int64_t dev, const struct pass *ps)
{
	return (size_t)(ps->micro_batch * b->hops + layout_model_chunk(&b->l, dev, ps->chunk));
}

/* Whether a pass's input from another stage has been emitted already (a weight pass follows
 * its input-gradient pass on the same device's order). */
static bool ready(const struct builder *b, int64_t dev, const struct pass *ps,
		  const unsigned char *done)
{
	int64_t gc = layout_model_chunk(&b->l, dev, ps->chunk);
	size_t key = pass_key(b, dev, ps);
	if (ps->kind == PASS_FORWARD)
		return gc == 0 || (done[key - 1] & DONE_F);
	if (ps->kind == PASS_WEIGHT)
		return true;
	return gc == b->hops - 1 || (done[key + 1] & DONE_B);
}

static void mark_done(const struct builder *b, int64_t dev, const struct pass *ps,
		      unsigned char *done)
{
	size_t key = pass_key(b, dev, ps);
	/* A micro-batch's backward on a stage comes after its forward, W after B. */
	BUG_ON(ps->kind != PASS_FORWARD && !(done[key] & DONE_F));
	BUG_ON(ps->kind == PASS_WEIGHT && !(done[key] & DONE_B));
	done[key] |= ps->kind == PASS_FORWARD ? DONE_F
		     : ps->kind == PASS_INPUT ? DONE_B
		     : ps->kind == PASS_WEIGHT ? DONE_W : DONE_B | DONE_W;
}

/* Whether the orders hold, for every micro-batch and model chunk, one forward and one backward
 * (whole, or B and W), each on the rank the layout places it; counts the weight passes of
 * each (device, chunk). */
static bool orders_complete(struct builder *b, const struct pass *order, const size_t *n,
			    size_t room)
{
	size_t keys = (size_t)(b->m * b->hops), i;
	unsigned char *seen = xcalloc(keys * 3, 1);
	bool ok = true;
	int64_t dev, local;
	for (dev = 0; dev < b->p && ok; dev++)
		for (i = 0; i < n[dev] && ok; i++) {
			const struct pass *ps = &order[(size_t)dev * room + i];
			size_t key;
			if (ps->micro_batch < 0 || ps->micro_batch >= b->m || ps->chunk < 0 ||
			    ps->chunk >= b->v) {
				ok = false;
				break;
			}
			key = pass_key(b, dev, ps);
			ok = layout_chunk_rank(&b->l, ps->micro_batch,
					       (int64_t)(key % (size_t)b->hops), &local) == dev &&
			     local == ps->chunk;
			if (ps->kind != PASS_INPUT)
				seen[key * 3 + (ps->kind == PASS_FORWARD ? 0 : 2)]++;
			if (ps->kind != PASS_FORWARD && ps->kind != PASS_WEIGHT)
				seen[key * 3 + 1]++;
			if (ps->kind != PASS_FORWARD && ps->kind != PASS_INPUT)
				b->weights_left[dev * b->v + ps->chunk]++;
		}
	for (i = 0; i < keys * 3 && ok; i++)
		ok = seen[i] == 1;
	free(seen);
	return ok;
}

/*
 * Add every stage's passes in an order where each op's dependencies already exist (graph.c
 * requires it): repeatedly advance any stage whose next pass has its input from the
 * neighbouring stage emitted. A schedule that could deadlock would stop this loop early.
 */
static int emit_all(struct builder *b, const struct compute *c, struct diag *d)
{
	struct mark at = {b->s->file, 0, 0};
	size_t room = schedule_room(&b->l), keys = (size_t)(b->m * b->hops);
	size_t total = 0, all = 0;
	struct pass *order = xcalloc(room * (size_t)b->p, sizeof *order);
	size_t *next = xcalloc((size_t)b->p, sizeof *next), *n = xcalloc((size_t)b->p, sizeof *n);
	uint32_t *dp_done = xcalloc((size_t)b->p, sizeof *dp_done);
	unsigned char *done = xcalloc(keys, 1);
	bool progress = true;
	int64_t dev;
	int rc = 0;
	for (dev = 0; dev < b->p; dev++)
		dp_done[dev] = NONE;
	if (b->sched->order(&b->l, order, n) == 0)
		for (dev = 0; dev < b->p; dev++)
			all += n[dev];
	if (all == 0 || !orders_complete(b, order, n, room)) {
		diag_add(d, at, NULL, "the %s schedule cannot run %lld micro-batches on %lld "
			 "stages", b->sched->name, (long long)b->m, (long long)b->p);
		rc = -1;
	}
	while (rc == 0 && progress && total < all) {
		progress = false;
		for (dev = 0; dev < b->p; dev++) {
			while (next[dev] < n[dev]) {
				const struct pass *ps = &order[(size_t)dev * room + next[dev]];
				bool paired = ps->paired && next[dev] + 1 < n[dev];
				if (!ready(b, dev, ps, done) ||
				    (paired && !ready(b, dev, ps + 1, done)))
					break;
				if (paired)
					step_build_pair(b, dev, ps, ps + 1, &dp_done[dev]);
				else
					step_build_pass(b, dev, ps, &dp_done[dev]);
				mark_done(b, dev, ps, done);
				if (paired)
					mark_done(b, dev, ps + 1, done);
				next[dev] += paired ? 2 : 1;
				total += paired ? 2 : 1;
				progress = true;
				if (next[dev] == n[dev])
					step_optimizer(b, dev, dp_done[dev], c);
			}
		}
	}
	if (rc == 0 && total < all) {
		diag_add(d, at, NULL, "the %s schedule deadlocks on this shape", b->sched->name);
		rc = -1;
	}
	free(order);
	free(next);
	free(n);
	free(dp_done);
	free(done);
	return rc;
}

/* Each kind of layer's passes as the report shows them (step.h, step_layer_parts). */
static void report_layers(const struct scenario *s, const struct layout *l,
			  const struct pass_cost layer[2], struct step_plan *out)
{
	int k;
	for (k = 0; k < 2; k++) {
		out->layer[k].layers = model_layers_of_kind(&s->model, (enum layer_kind)k);
		out->layer[k].fwd = layer[k].part[0];
		out->layer[k].bwd = layer[k].part[1];
		out->layer[k].recompute = layer[k].recompute;
	}
	out->layer_tokens = (double)s->workload.micro_batch * (double)s->workload.seq_len /
			    (double)l->cp;
}

int step_build(const struct scenario *s, struct step_plan *out, struct diag *d)
{
	struct mark at = {s->file, 0, 0};
	struct builder b;
	struct compute *c;
	int64_t dev, ch, k;
	size_t keys;
	double layer_passes;

	memset(out, 0, sizeof *out);
	memset(&b, 0, sizeof b);
	if (s->workload.mode != MODE_TRAIN) {
		diag_add(d, at, NULL, "step_build simulates training scenarios");
		return -1;
	}
	c = compute_new(&s->cluster.node.gpu, at, d);
	if (c == NULL)
		return -1;
	compute_scale_fp8(c, s->runtime.fp8_gemm_scale);
	b.s = s;
	/* FSDP2 (runtime.zero3_copy_out): torch.distributed's foreach_all_gather_copy_out runs on
	 * the compute stream as the unit is waited for, one split_with_sizes_copy kernel reading
	 * and writing the gathered bytes (pytorch/pytorch PRs #117203, #119451), at the GPU's
	 * memory-bound rate and fixed time per kernel. */
	if (s->runtime.zero3_copy_out && s->strategy.zero >= 3) {
		b.copy_out_fixed = step_kernel_fixed(c, 1);
		b.copy_out_per_byte = compute_stream_time(c, 2.0);
	}
	/* runtime.fusion.grad_accumulation false: each parameter's gradient of a micro-batch is
	 * added to its gradient buffer by a kernel of its own, reading the new gradient and
	 * reading and writing the buffer, at the memory-bound rate. Megatron-LM of 2021 adds it
	 * to the fp32 main_grad every micro-batch (megatron/model/distributed.py @d6380fda,
	 * _make_param_hook: param.main_grad.add_(param.grad.data)); a buffer of the gradients'
	 * own type is autograd's .grad, which keeps the first micro-batch's gradient as it comes
	 * and adds the later ones (PyTorch torch/csrc/autograd/functions/accumulate_grad.h). The
	 * fused path writes dW into the buffer from the GEMM (Megatron 83b1e42f, Feb 2022:
	 * wgrad_gemm_accum_fp32; Transformer Engine's fuse_wgrad_accumulation). ZeRO-3 reduces
	 * and shards every micro-batch's gradients as they come: nothing accumulates unsharded. */
	if (!s->runtime.fusion.grad_accumulation && s->strategy.zero < 3) {
		double E = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
		double G = memory_dtype_bytes(s->workload.grad_dtype);
		b.accum_kernel = step_kernel_fixed(c, 1);
		b.accum_per_param = compute_stream_time(c, E + 2 * G);
		b.accum_skip_first = G <= E;
	}
	layout_build(s, &b.l);
	b.p = b.l.pp;
	b.v = b.l.chunks;
	b.hops = b.l.pp * b.l.vp;
	b.m = b.l.micro_batches;
	b.sched = schedule_for(s->strategy.schedule);
	if (s->strategy.schedule == SCHEDULE_INTERLEAVED && b.m % b.p != 0) {
		diag_add(d, at, NULL, "the interleaved schedule needs micro-batches (%lld) to be a "
			 "multiple of pp (%lld)", (long long)b.m, (long long)b.p);
		compute_free(c);
		return -1;
	}
	/* Each micro-batch adds a handful of ops per layer it passes through, forward and
	 * backward: the graph holds them all before the engine runs, about 0.3 to 2 KB of memory
	 * a layer pass (measured: GPT-2 on one GPU 0.33 KB; GPT-OSS with TP, CP and ZeRO-3's
	 * module gathers 1.9 KB). The cap keeps a step under about 4 GB; the largest published
	 * run of the validation set (Megatron-LM's 1T row, 512 micro-batches through 128 layers)
	 * makes 131,072. */
	layer_passes = 2.0 * (double)b.m * (double)s->model.layers;
	if (layer_passes > STEP_MAX_LAYER_PASSES) {
		diag_add(d, scenario_mark(s, "workload.global_batch"), "workload.global_batch",
			 "%.0f layer passes a step (%lld micro-batches per pipeline x %lld layers x 2) "
			 "exceed the %.0f this version simulates; fewer sequences give about the same "
			 "throughput", layer_passes, (long long)b.m, (long long)s->model.layers,
			 (double)STEP_MAX_LAYER_PASSES);
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
	b.weights_left = xcalloc((size_t)(b.p * b.v), sizeof *b.weights_left);
	b.accum_started = xcalloc((size_t)(b.p * b.v), sizeof *b.accum_started);
	b.pair = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.tpc = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.side = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.act_copy = xcalloc((size_t)b.p, sizeof(uint32_t));
	b.act_release = xcalloc((size_t)b.p * 2, sizeof(uint32_t));
	keys = (size_t)(b.m * b.hops);
	b.fwd_send = xcalloc(keys, sizeof(uint32_t));
	b.bwd_send = xcalloc(keys, sizeof(uint32_t));

	step_costs(s, c, &b.l, b.layer, &b.embed, &b.head);
	report_layers(s, &b.l, b.layer, out);
	b.tp_chunked = s->strategy.tp_comm_overlap && s->strategy.sequence_parallel && b.l.tp > 1;
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
		/* Offloaded activations copied beside the computation (Transformer Engine's
		 * CPU offload runs its copies on streams of their own): a copy engine's work,
		 * no SMs taken. In order (DeepSpeed, PyTorch) they stay on the compute stream. */
		b.act_copy[dev] = s->strategy.offload.activations == OFFLOAD_CPU &&
					  s->runtime.activation_offload_overlap
				  ? graph_add_stream(b.g, (uint32_t)dev, "act_offload")
				  : b.compute[dev];
		if (b.l.placement == LAYOUT_BIDIRECTIONAL || b.l.paired) {
			/* Overlapped pairs (DualPipe, Megatron's combined 1F1B) run their
			 * collectives beside the computation. */
			b.pair[dev] = graph_add_stream(b.g, (uint32_t)dev, "pair_comm");
			if (s->runtime.comm_sms > 0 && s->cluster.node.gpu.sms > 0)
				graph_stream_contends(b.g, b.pair[dev]);
		}
		/* Transformer Engine's userbuffers (strategy.tp_comm_overlap, with sequence
		 * parallelism: Megatron-Bridge comm_overlap.py turns it off without) move TP chunks
		 * beside the GEMMs, on SMs of their own (initialize_ub's num_sm: comm_sms). */
		b.tpc[dev] = NONE;
		b.side[dev] = NONE;
		/* The same stream carries Megatron's asynchronous backward collectives
		 * (strategy.tp_async_backward) when the userbuffers do not take them all. */
		if (b.tp_chunked || (s->strategy.tp_async_backward && b.l.tp > 1)) {
			b.tpc[dev] = graph_add_stream(b.g, (uint32_t)dev, "tp_comm");
			if (s->runtime.comm_sms > 0 && s->cluster.node.gpu.sms > 0)
				graph_stream_contends(b.g, b.tpc[dev]);
		}
		for (k = 0; k < 3; k++)
			b.link[k][dev] = graph_add_port(b.g, (uint32_t)dev,
							k == 0 ? "gpu_link" : k == 1 ? "nic" : "pcie",
							collective_rank_bandwidth(&s->cluster.node,
										  (int)k));
		for (k = 0; k < RECENT; k++)
			b.recent[dev * RECENT + k] = NONE;
		b.act_release[dev * 2] = b.act_release[dev * 2 + 1] = NONE;
		for (ch = 0; ch < b.v; ch++) {
			int64_t begin, count;
			layout_chunk(s, &b.l, layout_model_chunk(&b.l, dev, ch), &begin, &count);
			b.chunk_act[dev * b.v + ch] = r->inflight > 0 && r->layers > 0
				? r->act_saved_per_mb * (double)count / (double)r->layers
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
