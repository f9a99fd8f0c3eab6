/*
 * serve_pools_decode: the decode pool of disaggregated serving — a KV cache's move from its
 * prefill replica to a decode replica as transfers on the engine's links, and the decode
 * replica's scheduler. Simulate stage, part of serve (serve_pools_int.h); see serve_pools.c for
 * the model and its sources.
 */
#include <string.h>

#include "bug.h"
#include "collective.h"
#include "memory.h"
#include "model.h"
#include "serve_pools_int.h"

/* One hop of a KV cache on d's pull stream over links (the sender's port, d's port), or at the
 * class's fallback rate off the engine's links when the node has no such link (as serve.c
 * costs a collective then). Returns the op. */
static uint32_t hop(struct pstate *e, const struct prep *d, int c, double bytes,
		    const uint32_t *links, size_t nlinks)
{
	static const char *const names[LINKS] = {"kv gpu link", "kv network", "kv pcie"};
	const struct node_spec *node = &e->s->cluster.node;
	size_t k;
	for (k = 0; k < nlinks; k++)
		if (links[k] == NO_LINK)
			return graph_add_compute(e->g, d->kv_stream, names[c], 1,
						 bytes / forward_link_bandwidth(d->pool->f, c));
	return graph_add_transfer(e->g, d->kv_stream, names[c], 1, bytes,
				  c == LINK_CLASS_GPU ? node->gpu_link.latency : node->network.latency,
				  links, nlinks);
}

/*
 * Move sequence i's prompt cache from its prefill replica to d. The cache is striped over the
 * tp GPUs of the attention rank that holds it (the replica's, or with data-parallel attention
 * one of its ranks'): each GPU sends its share of the distinct cache (the model's KV bytes per
 * token over tp) to its peer, so the pool with the smaller tp sets the bytes per GPU; over the
 * network between nodes, over NVLink inside one. A cache every GPU of a replica holds whole
 * (MLA's latent, or fewer KV heads than tp: memory.c's kv_bytes_per_token) crosses once and is
 * then all-gathered over d's NVLink: each GPU receives what it holds beyond its share. With
 * data-parallel attention on both sides the ranks move their caches at once, each over its own
 * GPUs' links: the pull stream takes them in order at the rate of the smaller side's ranks
 * together, a cache's bytes over that many ranks on the replica's port.
 */
static void move(struct pstate *e, struct prep *d, size_t i)
{
	const struct scenario *s = e->s;
	const struct prep *src = &e->rep[e->seq[i].prep];
	struct pseq *q = &e->seq[i];
	/* The tokens each layer holds (a windowed layer only its window), at the cache's bits. */
	double prompt = model_context_tokens(&s->model, (double)e->rs->req[i].prompt);
	double distinct = model_kv_elems_per_token_layer(&s->model) * (double)s->model.layers *
			  memory_kv_elem_bytes(s) * prompt;
	int64_t tp = src->pool->s.strategy.tp < d->pool->s.strategy.tp ? src->pool->s.strategy.tp
									: d->pool->s.strategy.tp;
	int64_t adp = forward_attention_dp(&src->pool->s) < forward_attention_dp(&d->pool->s)
			      ? forward_attention_dp(&src->pool->s) : forward_attention_dp(&d->pool->s);
	double bytes = distinct / (double)(tp * adp);
	double gather = d->pool->kv_per_token * prompt - distinct / (double)d->pool->s.strategy.tp;
	int c = src->gpu / s->cluster.node.gpus_per_node == d->gpu / s->cluster.node.gpus_per_node
			? LINK_CLASS_GPU : LINK_CLASS_NETWORK;
	uint32_t links[2] = {src->link[c], d->link[c]};
	e->moved_bytes += bytes;
	q->move_first = q->move = hop(e, d, c, bytes, links, 2);
	/* Ring all-gather: each rank receives (n - 1)/n of the whole (NCCL's model). */
	if (gather > 0)
		q->move = hop(e, d, LINK_CLASS_GPU, gather, &d->link[LINK_CLASS_GPU], 1);
}

/* The decode replica pulls the KV caches of the sequences handed to it, in order, while it has
 * blocks for a sequence's whole output and a place in its batch, one after another on its pull
 * stream (its ports receive them all). */
void serve_pools_pull(struct pstate *e, struct prep *d)
{
	const struct pool *dp = d->pool;
	size_t cap = e->rs->n + 1;
	/* Preempted sequences go first, as at the head of vLLM's waiting queue. */
	while (d->plen == 0 && d->qlen > 0 &&
	       (int64_t)(d->nrun + d->moving) < dp->s.serving.max_num_seqs) {
		size_t i = d->queue[d->qhead];
		struct pseq *q = &e->seq[i];
		const struct request *rq = &e->rs->req[i];
		/* The prompt's blocks, and with reserve_output (TensorRT-LLM) the whole output's. */
		int64_t need = blocks_for(e, rq->prompt + (dp->s.serving.reserve_output ? rq->output
											   : 0));
		if (need > d->free_blocks)
			break;
		qpop(d, cap);
		d->free_blocks -= need;
		q->dblocks = need;
		q->state = PS_MOVING;
		d->mv[(d->mhead + d->moving++) % cap] = i;
		move(e, d, i);
	}
	if (dp->total_blocks - d->free_blocks > e->r->kv_blocks_peak)
		e->r->kv_blocks_peak = dp->total_blocks - d->free_blocks;
}

/* An op of d's pull stream ended: when it is the last hop of the oldest cache in flight (the
 * stream runs them in order), the prefill replica frees the cache and the sequence joins the
 * batch. */
void serve_pools_arrived(struct pstate *e, struct prep *d, uint32_t op)
{
	size_t i = d->mv[d->mhead];
	struct pseq *q = &e->seq[i];
	struct prep *src = &e->rep[q->prep];
	BUG_ON(d->moving == 0 || q->state != PS_MOVING);
	if (op != q->move)
		return;
	d->mhead = (d->mhead + 1) % (e->rs->n + 1);
	src->free_blocks += q->pblocks;
	q->pblocks = 0;
	q->state = PS_DECODE;
	q->dcomputed = e->rs->req[i].prompt;
	d->moving--;
	d->run[d->nrun++] = i;
	e->xfer[e->nxfer++] = engine_op_end(e->eng, q->move) -
			      engine_op_start(e->eng, q->move_first);
}

/* Preempt d's newest running sequence by recomputation (vLLM V1, scheduler.py
 * _preempt_request): its blocks are freed and it waits at the head of the queue to be
 * prefilled again on the decode replica, prompt and output so far. */
static void preempt_newest(struct pstate *e, struct prep *d)
{
	size_t cap = e->rs->n + 1, i = d->run[--d->nrun];
	struct pseq *q = &e->seq[i];
	d->free_blocks += q->dblocks;
	q->dblocks = 0;
	q->dcomputed = 0;
	q->sched = 0;
	q->state = PS_PREEMPTED;
	d->phead = (d->phead + cap - 1) % cap;
	d->pre[d->phead] = i;
	d->plen++;
	d->preempted = true;
	e->r->preemptions++;
}

/*
 * A decode iteration, as serve.c's scheduler forms one (vLLM V1): running sequences their next
 * token in admission order, growing their KV blocks and preempting the newest when blocks run
 * out; then, unless this iteration preempted, the preempted ones back, each recomputing its
 * prompt and output so far (chunked within the token budget). With reserve_output a sequence
 * holds its whole output's blocks from its pull, and nothing is preempted.
 */
bool serve_pools_begin_decode(struct pstate *e, struct prep *d)
{
	const struct serving *v = &d->pool->s.serving;
	int64_t budget = v->max_batched_tokens;
	size_t k, cap = e->rs->n + 1;
	d->preempted = false;
	for (k = 0; k < d->nrun && budget > 0; k++) {
		struct pseq *q = &e->seq[d->run[k]];
		int64_t len = e->rs->req[d->run[k]].prompt + q->generated;
		int64_t n = len - q->dcomputed < budget ? len - q->dcomputed : budget;
		int64_t need = blocks_for(e, q->dcomputed + n) - q->dblocks;
		if (need < 0)
			need = 0;
		while (need > d->free_blocks && d->nrun > k)
			preempt_newest(e, d);
		if (k >= d->nrun)
			break;
		d->free_blocks -= need;
		q->dblocks += need;
		q->sched = n;
		budget -= n;
	}
	while (!d->preempted && d->plen > 0 && budget > 0 &&
	       (int64_t)(d->nrun + d->moving) < v->max_num_seqs) {
		size_t i = d->pre[d->phead];
		struct pseq *q = &e->seq[i];
		int64_t len = e->rs->req[i].prompt + q->generated;
		int64_t n = len < budget ? len : budget;
		if (blocks_for(e, n) > d->free_blocks)
			break;
		d->phead = (d->phead + 1) % cap;
		d->plen--;
		q->dblocks = blocks_for(e, n);
		d->free_blocks -= q->dblocks;
		q->sched = n;
		q->state = PS_DECODE;
		budget -= n;
		d->run[d->nrun++] = i;
	}
	if (d->pool->total_blocks - d->free_blocks > e->r->kv_blocks_peak)
		e->r->kv_blocks_peak = d->pool->total_blocks - d->free_blocks;
	memset(&d->b, 0, sizeof d->b);
	d->prefills = 0;
	for (k = 0; k < d->nrun; k++) {
		const struct pseq *q = &e->seq[d->run[k]];
		double n = (double)q->sched, c = (double)q->dcomputed;
		if (q->sched == 0)
			continue;
		d->b.tokens += n;
		d->b.kv_tokens += model_context_tokens(&e->s->model, c + n);
		if (q->sched == 1 && q->dcomputed > 0) {
			/* The last sampled token's keys and values, computed with it: context c + 1. */
			d->b.decode_pairs += model_chunk_pairs(&e->s->model, c, 1);
		} else {
			/* A recompute chunk of n tokens after c cached ones, causal. */
			d->b.prefill_pairs += model_chunk_pairs(&e->s->model, c, n);
			d->b.prefill_len += model_chunk_pairs(&e->s->model, c, n) * (c + n);
			d->prefills++;
		}
		if (q->dcomputed + q->sched == e->rs->req[d->run[k]].prompt + q->generated)
			d->b.sequences += 1;
	}
	if (d->b.tokens <= 0)
		return false;
	serve_pools_issue(e, d, (double)d->nrun, d->prefills == 0);
	return true;
}

/* Sequences whose known tokens are all cached sample their next token. */
void serve_pools_end_decode(struct pstate *e, struct prep *d)
{
	size_t k, kept = 0;
	for (k = 0; k < d->nrun; k++) {
		size_t i = d->run[k];
		struct pseq *q = &e->seq[i];
		int64_t len = e->rs->req[i].prompt + q->generated;
		q->dcomputed += q->sched;
		if (q->sched == 0 || q->dcomputed < len ||
		    ++q->generated < e->rs->req[i].output) {
			q->sched = 0;
			d->run[kept++] = i;
			continue;
		}
		q->sched = 0;
		d->free_blocks += q->dblocks;
		q->dblocks = 0;
		d->outstanding--;
		serve_pools_finish(e, i);
	}
	d->nrun = kept;
}
