/*
 * serve_pools: disaggregated prefill and decode (serving.pools) on the event engine. Simulate
 * stage, part of serve (serve_pools_int.h); knows nothing of the engine's queue or link sharing.
 *
 * Requests go to the prefill pool's replicas behind serving.router, which run prompts only,
 * in chunks of the pool's max_batched_tokens; the iteration that completes a prompt samples
 * the first token there, and the sequence is handed to a decode replica (the router's policy
 * over the decode pool). The decode replica pulls its KV cache when it has room for it: the
 * prefill replica's GPU memory holds it meanwhile (DistServe, Zhong et al. OSDI 2024,
 * arXiv:2401.09670, sec. 4, online scheduling: the decoding instance fetches a KV cache from
 * the prefill instance when it needs it, the prefill's GPU memory serving as the queue). The
 * pull is a transfer on the engine's links, from the prefill replica's port to the decode
 * replica's: the network between nodes, NVLink inside one, the same ports the replicas' TP and
 * EP collectives use, so KV caches and collectives share them (Mooncake, Qin et al. 2024,
 * arXiv:2407.00079, sec. 4: KV caches move over the GPUs' RDMA NICs; DeepSeek, "Inference
 * System Overview", 2025-03-01: prefill and decode on separate nodes; vLLM's disaggregated
 * prefilling docs: two instances joined by a KV connector). Then the sequence joins the decode
 * replica's continuous batch, one token per iteration.
 *
 * TTFT ends when the prefill replica samples the first token, as DistServe counts it (sec. 2:
 * TTFT is the latency of the prefill phase); the move and any wait for a decode slot fall into
 * the second token's time, hence into TPOT. (vLLM's example proxy returns the first token from
 * the decode instance, which would put the move into TTFT instead.) A decode replica schedules
 * as vLLM's V1 scheduler does (serve.c): blocks grow with each token, and when they run out the
 * newest sequence is preempted and recomputed there; with serving.reserve_output (TensorRT-LLM)
 * it pulls a cache only with blocks for the whole output and never preempts. The prefill pool
 * reserves a prompt's blocks when it starts it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overhead.h"
#include "serve_pools_int.h"
#include "xalloc.h"

/* serving.router over one pool's replicas; ties to the lowest index. */
static struct prep *route(struct pstate *e, int role)
{
	struct pool *pl = &e->pool[role];
	size_t k, best = 0;
	if (e->s->serving.router == ROUTER_LEAST_OUTSTANDING) {
		for (k = 1; k < pl->n; k++)
			if (e->rep[pl->first + k].outstanding < e->rep[pl->first + best].outstanding)
				best = k;
	} else {
		best = e->turn[role];
		e->turn[role] = (e->turn[role] + 1) % pl->n;
	}
	return &e->rep[pl->first + best];
}

static double ready_at(const struct pstate *e, size_t i)
{
	return e->rs->req[i].arrival + e->s->serving.request_overhead;
}

/* The iteration of p->b as ops on the replica's GPUs, as serve.c issues one: compute (kernels
 * and host overhead) on its compute stream, then its collectives over its ports. */
void serve_pools_issue(struct pstate *e, struct prep *p, double sequences, bool decode_only)
{
	static const char *const names[LINKS] = {"gpu link", "network", "pcie"};
	struct pool *pl = p->pool;
	double part[FORWARD_PARTS], compute, gpu;
	struct forward_comm comm;
	/* Data-parallel attention ranks schedule their shares at once. */
	double adp = (double)forward_attention_dp(&pl->s);
	struct overhead_batch ob = {sequences / adp, p->b.sequences / adp, decode_only, 0, 0};
	struct overhead_split ov;
	int k;
	gpu = forward_time_comm(pl->f, &p->b, part, &comm);
	overhead_iteration(&pl->s, &ob, gpu, p->end == e->now ? p->gpu_t : 0, &ov);
	p->gpu_t = gpu;
	pl->gpu_s += gpu + ov.total;
	pl->iterations++;
	for (k = 0; k < FORWARD_PARTS; k++)
		e->r->part[k] += part[k];
	e->r->overhead_s += ov.total;
	e->r->iterations++;
	e->r->mean_batch += sequences;
	p->start = e->now;
	p->seqs = (int32_t)sequences;
	compute = part[FORWARD_COMPUTE];
	for (k = 0; k < LINKS; k++)
		if (p->link[k] == NO_LINK && (comm.bytes[k] > 0 || comm.latency[k] > 0))
			compute += comm.latency[k] + comm.bytes[k] / forward_link_bandwidth(pl->f, k);
	p->op = graph_add_compute(e->g, p->stream, "iteration", 0, compute + ov.total);
	for (k = 0; k < LINKS; k++) {
		uint32_t prev = p->op;
		if (p->link[k] == NO_LINK || (comm.bytes[k] <= 0 && comm.latency[k] <= 0))
			continue;
		p->op = graph_add_transfer(e->g, p->stream + 1 + (uint32_t)k, names[k], 1,
					   comm.bytes[k], comm.latency[k], &p->link[k], 1);
		graph_add_dep(e->g, p->op, prev);
	}
}

/* A prefill iteration: the started prompts' next chunks in admission order, then new prompts
 * first come, first served, each with blocks for its whole prompt, within the pool's token
 * budget and sequence limit. */
static bool begin_prefill(struct pstate *e, struct prep *p)
{
	const struct serving *v = &p->pool->s.serving;
	int64_t budget = v->max_batched_tokens;
	size_t k, cap = e->rs->n + 1;
	for (k = 0; k < p->nrun && budget > 0; k++) {
		struct pseq *q = &e->seq[p->run[k]];
		q->sched = e->rs->req[p->run[k]].prompt - q->computed;
		if (q->sched > budget)
			q->sched = budget;
		budget -= q->sched;
	}
	while (p->qlen > 0 && budget > 0 && (int64_t)p->nrun < v->max_num_seqs) {
		size_t i = p->queue[p->qhead];
		struct pseq *q = &e->seq[i];
		int64_t prompt = e->rs->req[i].prompt;
		int64_t need = blocks_for(e, prompt) - q->cached / e->block_size;
		if (need > p->free_blocks || (!v->chunked_prefill && prompt - q->cached > budget))
			break;
		qpop(p, cap);
		p->free_blocks -= need;
		q->pblocks = need;
		q->computed = q->cached;
		q->sched = prompt - q->computed < budget ? prompt - q->computed : budget;
		q->state = PS_PREFILL;
		budget -= q->sched;
		p->run[p->nrun++] = i;
	}
	memset(&p->b, 0, sizeof p->b);
	for (k = 0; k < p->nrun; k++) {
		const struct pseq *q = &e->seq[p->run[k]];
		double n = (double)q->sched, c = (double)q->computed;
		if (q->sched == 0)
			continue;
		p->b.tokens += n;
		p->b.kv_tokens += model_context_tokens(&e->s->model, c + n);
		/* Causal attention of a chunk of n tokens after c cached ones. */
		p->b.prefill_pairs += model_chunk_pairs(&e->s->model, c, n);
		p->b.prefill_len += model_chunk_pairs(&e->s->model, c, n) * (c + n);
		if (q->computed + q->sched == e->rs->req[p->run[k]].prompt)
			p->b.sequences += 1;
	}
	if (p->b.tokens <= 0)
		return false;
	p->prefills = (int32_t)p->nrun;
	serve_pools_issue(e, p, (double)p->nrun, false);
	return true;
}

void serve_pools_finish(struct pstate *e, size_t i)
{
	e->seq[i].finish = e->now;
	e->seq[i].state = PS_DONE;
	e->r->finished++;
}

static void end_prefill(struct pstate *e, struct prep *p)
{
	size_t k, kept = 0;
	for (k = 0; k < p->nrun; k++) {
		size_t i = p->run[k];
		struct pseq *q = &e->seq[i];
		q->computed += q->sched;
		q->sched = 0;
		if (q->computed < e->rs->req[i].prompt) {
			p->run[kept++] = i;
			continue;
		}
		q->generated = 1;
		q->first_token = e->now;
		p->outstanding--;
		if (e->rs->req[i].output <= 1) {
			p->free_blocks += q->pblocks;
			q->pblocks = 0;
			serve_pools_finish(e, i);
			continue;
		}
		{
			struct prep *d = route(e, SERVE_DECODE);
			q->state = PS_HANDOFF;
			q->drep = (uint32_t)(d - e->rep);
			d->outstanding++;
			qpush(d, i, e->rs->n + 1);
		}
	}
	p->nrun = kept;
}

/* Keep the iteration p just ended, for --trace (its KV blocks in use as it ended). */
static void record(struct pstate *e, struct prep *p)
{
	struct serve_result *r = e->r;
	struct serve_iteration *it;
	if (!e->keep)
		return;
	if (r->niters == e->iters_cap) {
		e->iters_cap = e->iters_cap ? 2 * e->iters_cap : 4096;
		r->iters = xreallocarray(r->iters, e->iters_cap, sizeof *r->iters);
	}
	it = &r->iters[r->niters++];
	it->start = p->start;
	it->duration = e->now - p->start;
	it->tokens = (int32_t)fmin(p->b.tokens, 2e9);
	it->sequences = p->seqs;
	it->prefills = p->prefills;
	it->kv_blocks = p->pool->total_blocks - p->free_blocks;
	it->replica = (int32_t)(p - e->rep);
}

static void drive(struct pstate *e)
{
	uint32_t done[64];
	size_t n, k;
	e->now = engine_now(e->eng);
	while ((n = engine_take_done(e->eng, done, 64)) > 0) {
		for (k = 0; k < n; k++) {
			uint32_t st = e->g->ops[done[k]].stream;
			struct prep *p;
			if (e->owner[st] < 0) {
				e->waking = false;
				continue;
			}
			p = &e->rep[e->owner[st]];
			if (p->role == SERVE_DECODE && st == p->kv_stream) {
				serve_pools_arrived(e, p, done[k]);
				continue;
			}
			if (done[k] != p->op)
				continue;
			p->op = NO_OP;
			p->end = e->now;
			record(e, p);
			if (p->role == SERVE_PREFILL)
				end_prefill(e, p);
			else
				serve_pools_end_decode(e, p);
		}
	}
	while (e->next_route < e->rs->n && ready_at(e, e->next_route) <= e->now) {
		struct prep *p = route(e, SERVE_PREFILL);
		e->seq[e->next_route].state = PS_QUEUED;
		e->seq[e->next_route].prep = (uint32_t)(p - e->rep);
		p->outstanding++;
		qpush(p, e->next_route++, e->rs->n + 1);
	}
	for (k = e->pool[SERVE_DECODE].first; k < e->nrep; k++)
		serve_pools_pull(e, &e->rep[k]);
	for (k = 0; k < e->nrep; k++) {
		struct prep *p = &e->rep[k];
		if (p->op != NO_OP)
			continue;
		if (p->role == SERVE_PREFILL)
			begin_prefill(e, p);
		else
			serve_pools_begin_decode(e, p);
	}
	if (!e->waking && e->next_route < e->rs->n) {
		graph_add_compute(e->g, e->router, "arrival", 0,
				  serve_gap_to(e->now, ready_at(e, e->next_route)));
		e->waking = true;
	}
	engine_sync(e->eng);
}

bool serve_has_pools(const struct scenario *s)
{
	return s->serving.pools.prefill.gpus > 0 && s->serving.pools.decode.gpus > 0;
}

/* A pool's scenario (its tp and ep; one stage; its batch limits), forward costs and KV blocks
 * per replica: vLLM's num_gpu_blocks, the pool's own KV budget over bytes per block. */
static int pool_init(struct pstate *e, int role, struct diag *d)
{
	static const char *const names[SERVE_POOLS] = {"prefill", "decode"};
	const struct serving_pool *sp = role == SERVE_PREFILL ? &e->s->serving.pools.prefill
							      : &e->s->serving.pools.decode;
	struct pool *pl = &e->pool[role];
	struct memory_report m;
	struct mark at = {e->s->file, 0, 0};
	double block_bytes;
	int64_t adp;
	pl->s = *e->s;
	pl->s.strategy.tp = sp->tp;
	pl->s.strategy.ep = sp->ep;
	pl->s.strategy.pp = 1;
	pl->s.strategy.cp = 1;
	pl->s.strategy.dp = sp->gpus / sp->tp;
	if (role == SERVE_PREFILL && sp->max_batched_tokens > 0)
		pl->s.serving.max_batched_tokens = sp->max_batched_tokens;
	if (role == SERVE_DECODE && sp->max_num_seqs > 0)
		pl->s.serving.max_num_seqs = sp->max_num_seqs;
	pl->gpus_per_rep = forward_replica_gpus(&pl->s);
	pl->n = (size_t)(sp->gpus / pl->gpus_per_rep);
	pl->f = forward_new(&pl->s, d);
	if (pl->f == NULL)
		return -1;
	memset(&m, 0, sizeof m);
	if (memory_build(&pl->s, &m) != 0) {
		diag_add(d, at, NULL, "the %s pool's memory: %s", names[role], m.advice);
		memory_report_release(&m);
		return -1;
	}
	if (!m.fits) {
		diag_add(d, at, NULL, "the %s pool does not fit: %.2f GiB per GPU at tp %lld, ep "
			 "%lld, of %.2f GiB", names[role], m.roles[m.worst].total / 1073741824.0,
			 (long long)sp->tp, (long long)sp->ep, m.capacity / 1073741824.0);
		memory_report_release(&m);
		return -1;
	}
	pl->kv_per_token = m.kv_bytes_per_token;
	pl->s.serving.max_num_seqs = memory_max_seqs(&pl->s, &m);
	block_bytes = m.kv_bytes_per_token * (double)e->block_size;
	pl->total_blocks = block_bytes > 0 && m.kv_budget > 0
				   ? (int64_t)floor(m.kv_budget / block_bytes) : 0;
	memory_report_release(&m);
	/* With data-parallel attention each rank has its own cache and scheduler, limits and all
	 * (SGLang runs a scheduler per DP rank): the replica holds ep / tp of each. */
	adp = forward_attention_dp(&pl->s);
	pl->total_blocks *= adp;
	pl->s.serving.max_batched_tokens *= adp;
	pl->s.serving.max_num_seqs *= adp;
	if (pl->total_blocks < blocks_for(e, e->s->workload.seq_len)) {
		diag_add(d, at, NULL, "the %s pool's KV cache holds %lld blocks of %lld tokens per "
			 "replica (tp %lld), fewer than one sequence of seq_len %lld needs",
			 names[role], (long long)pl->total_blocks, (long long)e->block_size,
			 (long long)sp->tp, (long long)e->s->workload.seq_len);
		return -1;
	}
	return 0;
}

/* The replicas on the graph: prefill's GPUs first, then decode's, then the router's host. */
static void build(struct pstate *e)
{
	size_t cap = e->rs->n + 1, k, st;
	int64_t gpus = e->s->serving.pools.prefill.gpus + e->s->serving.pools.decode.gpus;
	uint32_t gpu = 0;
	int role, c;
	e->nrep = e->pool[0].n + e->pool[1].n;
	e->pool[1].first = e->pool[0].n;
	e->rep = xcalloc(e->nrep, sizeof *e->rep);
	e->g = graph_new((size_t)gpus + 1);
	for (k = 0; k < e->nrep; k++) {
		struct prep *p = &e->rep[k];
		role = k < e->pool[0].n ? SERVE_PREFILL : SERVE_DECODE;
		p->pool = &e->pool[role];
		p->role = role;
		p->queue = xcalloc(cap, sizeof *p->queue);
		p->run = xcalloc(cap, sizeof *p->run);
		p->free_blocks = p->pool->total_blocks;
		p->op = NO_OP;
		p->gpu = gpu;
		p->stream = graph_add_stream(e->g, gpu, "iterations");
		for (c = 0; c < LINKS; c++) {
			double bw = forward_link_bandwidth(p->pool->f, c);
			graph_add_stream(e->g, gpu, "collectives");
			p->link[c] = bw > 0 ? graph_add_port(e->g, gpu, "port", bw) : NO_LINK;
		}
		if (role == SERVE_DECODE) {
			p->mv = xcalloc(cap, sizeof *p->mv);
			p->pre = xcalloc(cap, sizeof *p->pre);
			p->kv_stream = graph_add_stream(e->g, gpu, "kv pulls");
		} else {
			/* The shared prefix's blocks stay in each prefill replica's cache. */
			p->free_blocks -= e->s->workload.prefix_cache.shared_tokens / e->block_size;
		}
		gpu += (uint32_t)p->pool->gpus_per_rep;
	}
	e->router = graph_add_stream(e->g, (uint32_t)gpus, "arrivals");
	e->owner = xcalloc(e->g->nstreams, sizeof *e->owner);
	for (st = 0; st < e->g->nstreams; st++)
		e->owner[st] = -1;
	for (k = 0; k < e->nrep; k++) {
		uint32_t last = e->rep[k].stream + LINKS + (e->rep[k].role == SERVE_DECODE);
		for (st = e->rep[k].stream; st <= last; st++)
			e->owner[st] = (int32_t)k;
	}
}

static void drive_any(void *e)
{
	drive(e);
}

static void summarize(struct pstate *e)
{
	struct serve_result *r = e->r;
	const struct request_stream *rs = e->rs;
	struct serve_done *done = xcalloc(rs->n + 1, sizeof *done);
	double lat_sum, gpu_busy = 0, gpus = 0;
	size_t i;
	int k;
	for (i = 0; i < rs->n; i++)
		done[i] = (struct serve_done){rs->req[i].arrival, e->seq[i].first_token,
					      e->seq[i].finish, rs->req[i].prompt,
					      rs->req[i].output};
	lat_sum = serve_summarize_done(done, rs->n, r);
	free(done);
	serve_stat_of(e->xfer, e->nxfer, &r->kv_transfer);
	r->kv_transfer_bytes = e->nxfer > 0 ? e->moved_bytes / (double)e->nxfer : 0;
	for (k = 0; k < SERVE_POOLS; k++) {
		const struct pool *pl = &e->pool[k];
		struct serve_pool_result *o = &r->pool[k];
		o->gpus = (int64_t)pl->n * pl->gpus_per_rep;
		o->tp = pl->s.strategy.tp;
		o->ep = pl->s.strategy.ep;
		o->replicas = (int64_t)pl->n;
		o->kv_blocks_total = pl->total_blocks;
		o->max_batched_tokens = pl->s.serving.max_batched_tokens;
		o->max_num_seqs = pl->s.serving.max_num_seqs;
		if (k == SERVE_DECODE)   /* a decode scheduler's, as the text's serving line says */
			r->max_num_seqs = o->max_num_seqs / forward_attention_dp(&pl->s);
		o->iterations = pl->iterations;
		o->busy = r->duration > 0 ? pl->gpu_s / (r->duration * (double)pl->n) : 0;
		gpu_busy += o->busy * (double)o->gpus;
		gpus += (double)o->gpus;
	}
	r->busy = gpus > 0 ? gpu_busy / gpus : 0;
	if (r->duration > 0) {
		/* Little's law over the run: the time-average in system is the summed latency over
		 * the duration (every request arrives and leaves within it). */
		r->mean_in_system = lat_sum / r->duration;
	}
	if (r->iterations > 0)
		r->mean_batch /= (double)r->iterations;
	r->kv_peak_fraction = r->kv_blocks_total > 0
				      ? (double)r->kv_blocks_peak / (double)r->kv_blocks_total
				      : 0;
}

int serve_pools_run(const struct scenario *s, const struct request_stream *rs,
		    const struct serve_options *o, struct serve_result *out, struct diag *d)
{
	struct mark at = {s->file, 0, 0};
	struct pstate e;
	size_t i, k;
	int status = 0;
	memset(out, 0, sizeof *out);
	memset(&e, 0, sizeof e);
	e.s = s;
	e.rs = rs;
	e.r = out;
	e.block_size = s->serving.block_size;
	e.keep = o && o->keep_iterations;
	if (pool_init(&e, SERVE_PREFILL, d) != 0 || pool_init(&e, SERVE_DECODE, d) != 0) {
		forward_free(e.pool[0].f);
		forward_free(e.pool[1].f);
		return -1;
	}
	build(&e);
	e.seq = xcalloc(rs->n + 1, sizeof *e.seq);
	e.xfer = xcalloc(rs->n + 1, sizeof *e.xfer);
	for (i = 0; i < rs->n; i++)
		e.seq[i].cached = serve_prefix_hit(s, e.block_size, &rs->req[i]);
	e.eng = engine_new(e.g);
	engine_record_timeline(e.eng, false);
	engine_report_done(e.eng, true);
	out->requests = rs->n;
	out->disaggregated = true;
	out->replicas = (int64_t)e.nrep;
	out->kv_blocks_total = e.pool[SERVE_DECODE].total_blocks;
	out->kv_tokens = (double)out->kv_blocks_total * (double)e.block_size;
	out->offered_rate = serve_offered_rate(s, rs);
	status = serve_drive_to_end(e.eng, drive_any, &e, &out->finished, rs->n,
				    "a replica of its pool", at, d);
	if (status == 0)
		summarize(&e);
	else
		serve_result_release(out);
	engine_free(e.eng);
	graph_free(e.g);
	for (k = 0; k < e.nrep; k++) {
		free(e.rep[k].queue);
		free(e.rep[k].run);
		free(e.rep[k].mv);
		free(e.rep[k].pre);
	}
	free(e.rep);
	free(e.owner);
	free(e.seq);
	free(e.xfer);
	forward_free(e.pool[0].f);
	forward_free(e.pool[1].f);
	return status;
}
