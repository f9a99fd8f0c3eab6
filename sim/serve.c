/*
 * serve: continuous batching over a paged KV cache, driven on the event engine. Simulate stage.
 *
 * The driver appends ops to a growing graph and steps the engine: a chain of waits on a router
 * stream whose durations are the gaps between arrival times (so arrivals are engine events, on
 * one clock with everything else), and per dp replica one op per iteration on its first GPU's
 * stream. Each time the engine reports ops done, the driver ends those iterations, routes the
 * requests that have arrived, and starts the next iteration of every idle replica with work.
 *
 * The scheduler follows vLLM's V1 scheduler (vllm/v1/core/sched/scheduler.py): each iteration
 * first gives running sequences their next tokens in admission order — a decode token, or the
 * next prompt chunk under chunked prefill — allocating KV blocks as they grow; when blocks run
 * out the newest running sequence is preempted (its blocks freed to be recomputed later, or
 * swapped to host memory) and put back at the head of the queue. Waiting sequences are then
 * admitted first come, first served, while the token budget, the sequence limit and the free
 * blocks allow, unless this iteration preempted. A sequence's computed tokens and its known
 * tokens (prompt plus generated) drive everything: an iteration computes the difference (or a
 * chunk of it), and when they meet a token is sampled (Kwon et al. 2023, sec. 4).
 */
#include "serve_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "engine.h"
#include "graph.h"
#include "overhead.h"
#include "speculative.h"
#include "xalloc.h"

int64_t serve_blocks_for(const struct serve_state *e, int64_t tokens)
{
	return (int64_t)ceil(model_held_tokens(&e->s->model, (double)tokens) /
			     (double)e->block_size);
}

/* Blocks a sequence must hold itself for `tokens` known tokens: its prefix-cache blocks are
 * the cache's, shared with every request that hits them. */
static int64_t own_blocks(const struct serve_state *e, const struct seq *q, int64_t tokens)
{
	return serve_blocks_for(e, tokens) - q->cached / e->block_size;
}

/* The tokens of a request's prompt that the prefix cache holds: the shared prefix, the hit
 * rate's share or a trace's cached_tokens, whichever is most, in whole blocks, and never the
 * prompt's last token (the engine computes it to sample the first output: vLLM's prefix
 * caching always recomputes it). The cache is warm: the engine has seen the prefix before. Static batching
 * does not use it. */
int64_t serve_prefix_hit(const struct scenario *s, int64_t block, const struct request *rq)
{
	const struct workload *w = &s->workload;
	int64_t prompt = rq->prompt;
	int64_t hit = (int64_t)floor(w->prefix_cache.hit_rate * (double)prompt);
	if (rq->cached > hit)     /* a trace's cached_tokens column */
		hit = rq->cached;
	if (s->serving.batching == BATCHING_STATIC)
		return 0;
	if (w->prefix_cache.shared_tokens > hit)
		hit = w->prefix_cache.shared_tokens;
	if (hit > prompt - 1)
		hit = prompt - 1;
	return hit > 0 ? hit / block * block : 0;
}

static void wpush_back(struct replica *p, size_t i)
{
	p->waiting[(p->whead + p->wlen++) % p->wcap] = i;
}

static void wpush_front(struct replica *p, size_t i)
{
	p->whead = (p->whead + p->wcap - 1) % p->wcap;
	p->waiting[p->whead] = i;
	p->wlen++;
}

size_t serve_wpop_front(struct replica *p)
{
	size_t i = p->waiting[p->whead];
	p->whead = (p->whead + 1) % p->wcap;
	p->wlen--;
	return i;
}

/* The router: the replica that gets the next request. Ties go to the lowest index. */
static struct replica *route_to(struct serve_state *e)
{
	size_t k, best = 0;
	if (e->s->serving.router == ROUTER_LEAST_OUTSTANDING) {
		for (k = 1; k < e->nrep; k++)
			if (e->rep[k].outstanding < e->rep[best].outstanding)
				best = k;
		return &e->rep[best];
	}
	best = e->turn;
	e->turn = (e->turn + 1) % e->nrep;
	return &e->rep[best];
}

/* When request i reaches the engine: its arrival plus the front end's time (API server,
 * tokenization, hand-off to the engine process), which TTFT counts from the arrival. */
static double ready_at(const struct serve_state *e, size_t i)
{
	return e->rs->req[i].arrival + e->s->serving.request_overhead;
}

/* Hand every request that has reached the engine by now to a replica, in arrival order. */
static void route_arrivals(struct serve_state *e)
{
	while (e->next_route < e->rs->n && ready_at(e, e->next_route) <= e->now) {
		struct replica *p = route_to(e);
		e->seq[e->next_route].state = SEQ_WAITING;
		p->outstanding++;
		wpush_back(p, e->next_route++);
	}
}

/* Preempt the newest running sequence: swap its blocks to host memory when swapping is chosen
 * and there is room, else free them to be recomputed (vLLM PreemptionMode). */
static void preempt_newest(struct serve_state *e, struct replica *p)
{
	size_t v = p->running[--p->nrunning];
	struct seq *q = &e->seq[v];
	p->free_blocks += q->blocks;
	e->r->preemptions++;
	if (e->s->serving.preemption == PREEMPT_SWAP && q->blocks <= p->host_free_blocks &&
	    e->pcie_bw > 0) {
		p->host_free_blocks -= q->blocks;
		p->swap_s += (double)q->blocks * e->block_bytes / e->pcie_bw;
		e->r->swaps++;
		q->state = SEQ_SWAPPED;
	} else {
		q->blocks = 0;
		q->computed = 0;
		q->state = SEQ_WAITING;
	}
	q->sched = q->drafted = 0;
	wpush_front(p, v);
	p->preempted = true;
}

/* Give running sequences their tokens, preempting the newest when blocks run out; with
 * prompts_only, only those still prefilling (a prompt's next chunk). */
static void schedule_running(struct serve_state *e, struct replica *p, int64_t *budget,
			     bool prompts_only)
{
	size_t pos;
	for (pos = 0; pos < p->nrunning && *budget > 0; pos++) {
		struct seq *q = &e->seq[p->running[pos]];
		int64_t n = q->len - q->computed, need;
		if (prompts_only && q->generated > 0)
			continue;
		if (n > *budget)
			n = *budget;
		/* A decoding sequence verifies its drafts too, within the budget (vLLM V1's
		 * scheduler.py counts them in num_new_tokens); they hold KV slots meanwhile. */
		q->drafted = speculative_drafts(e->sp, n == 1 && q->generated > 0, *budget - n);
		/* None when the engine reserved the whole output at admission. */
		need = own_blocks(e, q, q->computed + n + q->drafted) - q->blocks;
		if (need < 0)
			need = 0;
		while (need > p->free_blocks && p->nrunning > pos)
			preempt_newest(e, p);
		if (pos >= p->nrunning)
			break;
		p->free_blocks -= need;
		q->blocks += need;
		q->sched = n;
		*budget -= n + q->drafted;
	}
}

static void schedule_waiting(struct serve_state *e, struct replica *p, int64_t *budget)
{
	const struct serving *v = &e->s->serving;
	double avail = (double)p->free_blocks * (double)e->block_size;
	double promised = v->new_token_ratio > 0 && p->wlen > 0 ? serve_admit_promised(e, p) : 0;
	while (p->wlen > 0 && *budget > 0 && (int64_t)p->nrunning < v->max_num_seqs) {
		size_t i = p->waiting[p->whead];
		struct seq *q = &e->seq[i];
		int64_t n, need, back = q->state == SEQ_SWAPPED ? q->blocks : 0;
		if (back > p->free_blocks)
			break;
		/* A hit in the prefix cache: those tokens' keys and values are there already (again
		 * after a recompute preemption: the cache keeps them). */
		if (q->computed < q->cached)
			q->computed = q->cached;
		n = q->len - q->computed;
		if (n > *budget) {
			if (!v->chunked_prefill)
				break;
			n = *budget;
		}
		need = own_blocks(e, q, q->computed + n) - q->blocks + back;
		/* TensorRT-LLM's GUARANTEED_NO_EVICT: a request starts only with the blocks its
		 * prompt and whole output need, so no running sequence ever runs out of them. */
		if (v->reserve_output)
			need = own_blocks(e, q, e->rs->req[i].prompt + e->rs->req[i].output) -
			       q->blocks + back;
		if (need > p->free_blocks)
			break;
		if (v->new_token_ratio > 0 &&
		    !serve_admit_fits(e, p, i, q->len - q->computed, avail, &promised))
			break;
		if (back > 0) {
			p->host_free_blocks += back;
			p->swap_s += (double)back * e->block_bytes / e->pcie_bw;
		}
		p->free_blocks -= need;
		q->blocks += need - back;
		q->sched = n;
		q->state = SEQ_RUNNING;
		*budget -= n;
		serve_wpop_front(p);
		p->running[p->nrunning++] = i;
	}
}

/* The forward pass of the scheduled tokens. */
static void batch_of(const struct serve_state *e, struct replica *p)
{
	struct forward_batch *b = &p->b;
	size_t k;
	memset(b, 0, sizeof *b);
	memset(&p->sb, 0, sizeof p->sb);
	p->prefills = 0;
	for (k = 0; k < p->nrunning; k++) {
		const struct seq *q = &e->seq[p->running[k]];
		double n = (double)q->sched, c = (double)q->computed;
		if (q->sched == 0)
			continue;
		b->tokens += n;
		b->kv_tokens += model_context_tokens(&e->s->model, c + n);
		if (q->computed + q->sched == q->len)
			b->sequences += 1;
		if (q->sched == 1 && q->computed > 0) {
			b->decode_pairs += model_chunk_pairs(&e->s->model, c, 1);
			speculative_add(&p->sb, c, q->drafted);
		} else {
			/* Causal attention of a chunk of n tokens after c cached ones. */
			double pairs = model_chunk_pairs(&e->s->model, c, n);
			b->prefill_pairs += pairs;
			b->prefill_len += pairs * (c + n);
			p->prefills++;
		}
	}
	speculative_widen(&p->sb, b);
}

void serve_finish_sequence(struct serve_state *e, struct replica *p, size_t i)
{
	struct seq *q = &e->seq[i];
	q->finish = e->now;
	q->state = SEQ_DONE;
	p->free_blocks += q->blocks;
	q->blocks = 0;
	p->outstanding--;
	e->r->finished++;
}

/*
 * serving.async_output: vLLM V0's asynchronous output processor (PR #7049, v0.6.0) turns an
 * iteration's sampled tokens into request outputs in a callback while the next iteration's
 * forward runs, and AsyncLLMEngine.engine_step hands the outputs to the clients' streams after
 * that step_async returns: a token reaches the client when the next iteration ends. When no
 * iteration follows at once, the engine drains its queue then (delivered at its own end).
 */
static void hold(struct serve_state *e, struct replica *p, size_t i, unsigned what)
{
	if (!e->s->serving.async_output)
		return;
	if (e->seq[i].held == 0)
		p->held[p->nheld++] = i;
	e->seq[i].held |= what;
}

/* The held tokens reach the client now (deliver) or at the times they were made. */
static void release_held(struct serve_state *e, struct replica *p, bool deliver)
{
	size_t k;
	for (k = 0; k < p->nheld; k++) {
		struct seq *q = &e->seq[p->held[k]];
		if (deliver && (q->held & HELD_FIRST))
			q->first_token = e->now;
		if (deliver && (q->held & HELD_LAST))
			q->finish = e->now;
		q->held = 0;
	}
	p->nheld = 0;
}

static void finish_iteration(struct serve_state *e, struct replica *p)
{
	size_t k, kept = 0;
	release_held(e, p, true);
	for (k = 0; k < p->nrunning; k++) {
		size_t i = p->running[k];
		struct seq *q = &e->seq[i];
		q->computed += q->sched;
		if (q->sched > 0 && q->computed == q->len) {
			/* A speculative step keeps its accepted drafts and a token of the target's;
			 * the rejected drafts' blocks go back (not with the whole output reserved). */
			int64_t a = speculative_accept(e->sp, q->drafted,
						       e->rs->req[i].output - q->generated, &q->carry);
			e->r->spec_steps += q->drafted > 0;
			e->r->spec_tokens += q->drafted > 0 ? (double)a : 0;
			q->generated += a;
			q->computed += a - 1;
			q->len += a - 1;
			if (q->drafted > 0 && !e->s->serving.reserve_output &&
			    q->blocks > own_blocks(e, q, q->len)) {
				p->free_blocks += q->blocks - own_blocks(e, q, q->len);
				q->blocks = own_blocks(e, q, q->len);
			}
			BUG_ON(q->generated > e->rs->req[i].output);
			if (q->generated == 1) {
				q->first_token = e->now;
				hold(e, p, i, HELD_FIRST);
			}
			if (q->generated >= e->rs->req[i].output) {
				serve_finish_sequence(e, p, i);
				hold(e, p, i, HELD_LAST);
				continue;
			}
			q->len++;
		}
		q->sched = q->drafted = 0;
		p->running[kept++] = i;
	}
	p->nrunning = kept;
}

void serve_record(struct serve_state *e, struct replica *p)
{
	struct serve_result *r = e->r;
	struct serve_iteration *it;
	int64_t used = e->total_blocks - p->free_blocks;
	/* The blocks in use are between none and all, on the GPU and on the host. */
	BUG_ON(used < 0 || used > e->total_blocks || p->host_free_blocks < 0);
	/* An iteration of compute alone takes its duration to the bit; one with transfers takes
	 * what the links give it. */
	if (p->moved)
		p->dt = e->now - p->start;
	r->mean_in_system += p->in_system * p->dt;
	if (used > r->kv_blocks_peak)
		r->kv_blocks_peak = used;
	r->iterations++;
	r->mean_batch += (double)p->scheduled;
	if (!e->keep)
		return;
	if (r->niters == e->iters_cap) {
		e->iters_cap = e->iters_cap ? 2 * e->iters_cap : 4096;
		r->iters = xreallocarray(r->iters, e->iters_cap, sizeof *r->iters);
	}
	it = &r->iters[r->niters++];
	it->start = p->start;
	it->duration = p->dt;
	it->tokens = (int32_t)fmin(p->b.tokens, 2e9);
	it->sequences = (int32_t)p->scheduled;
	it->prefills = p->prefills;
	it->kv_blocks = used;
	it->replica = (int32_t)(p - e->rep);
}

/* The GPU time, host overhead and transfers of an iteration (serve_state.h). */
void serve_issue(struct serve_state *e, struct replica *p, double in_system, double extra)
{
	static const char *const names[FORWARD_LINKS] = {"gpu link", "network", "pcie"};
	double part[FORWARD_PARTS], compute, gpu, draft;
	struct forward_comm comm;
	struct overhead_batch ob;
	struct overhead_split ov;
	int k;
	gpu = forward_time_comm(e->f, &p->b, part, &comm);
	/* Host and launch costs around it, per attention rank (they schedule at once); overlap
	 * hides host work only under an iteration that ended just now. A drafter runs alongside. */
	memset(&ob, 0, sizeof ob);
	draft = speculative_draft_time(e->sp, &p->sb, &p->b, &ob.draft_layers, &ob.draft_passes);
	ob.sequences = (double)p->scheduled / (double)forward_attention_dp(e->s);
	ob.sampled = (p->b.sequences - p->sb.drafted) / (double)forward_attention_dp(e->s);
	ob.decode_only = p->prefills == 0;
	overhead_iteration(e->s, &ob, gpu + draft, p->end == e->now ? p->gpu : 0, &ov);
	gpu += draft;
	e->r->draft_s += draft;
	p->gpu = gpu;
	p->dt = gpu + extra + ov.total;
	for (k = 0; k < FORWARD_PARTS; k++)
		e->r->part[k] += part[k];
	e->r->swap_s += extra;
	e->r->overhead_s += ov.total;
	compute = part[FORWARD_COMPUTE];
	for (k = 0; k < FORWARD_LINKS; k++)
		if (p->link[k] == NO_LINK && (comm.bytes[k] > 0 || comm.latency[k] > 0))
			compute += comm.latency[k] + comm.bytes[k] / forward_link_bandwidth(e->f, k);
	p->in_system = in_system;
	p->start = e->now;
	p->moved = false;
	p->op = graph_add_compute(e->g, p->stream, "iteration", 0,
				  compute + draft + extra + ov.total);
	for (k = 0; k < FORWARD_LINKS; k++) {
		uint32_t prev = p->op;
		if (p->link[k] == NO_LINK || (comm.bytes[k] <= 0 && comm.latency[k] <= 0))
			continue;
		p->op = graph_add_transfer(e->g, p->stream + 1 + (uint32_t)k, names[k], 1,
					   comm.bytes[k], comm.latency[k], &p->link[k], 1);
		graph_add_dep(e->g, p->op, prev);
		p->moved = true;
	}
}

/* Whether an iteration that prefills runs no decodes (serving.mixed_prefill). */
static bool prefill_alone(const struct serving *v)
{
	return v->mixed_prefill == MIXED_NEVER ||
	       (v->mixed_prefill == MIXED_CHUNKED && !v->chunked_prefill);
}

/*
 * A prefill-only iteration, when the engine runs prompts alone: prompts still being chunked,
 * then waiting ones as the budget allows; p->scheduled is left at SIZE_MAX when there are none,
 * and the iteration decodes instead. vLLM V0 (vllm/core/scheduler.py, _schedule_default: "Don't
 * schedule decodes if prefills are scheduled"; prefills run one step under multi-step, as
 * _get_num_lookahead_slots(is_prefill=True) is 0) and SGLang (python/sglang/srt/managers/
 * tp_worker.py of the 0.3 series, forward_step: a new prefill batch runs, else the decode batch).
 */
static void schedule_prompts(struct serve_state *e, struct replica *p, int64_t *budget)
{
	int64_t before = *budget;
	size_t k, n = 0;
	schedule_running(e, p, budget, true);
	if (!p->preempted)
		schedule_waiting(e, p, budget);
	if (*budget == before)
		return;
	for (k = 0; k < p->nrunning; k++)
		n += e->seq[p->running[k]].sched > 0;
	p->scheduled = n;
	/* The scheduler runs again after this step. */
	p->steps_left = 0;
}

/* Continuous batching: schedule and issue one iteration; false when the replica has nothing
 * to do. */
static bool begin_continuous(struct serve_state *e, struct replica *p)
{
	int64_t budget = e->s->serving.max_batched_tokens;
	double in_system = (double)(p->nrunning + p->wlen);
	/* Held tokens wait for an iteration that begins as the last one ended. */
	if (p->end != e->now || (p->nrunning == 0 && p->wlen == 0))
		release_held(e, p, false);
	if (p->nrunning == 0 && p->wlen == 0) {
		serve_admit_idle(e, p);
		return false;
	}
	p->preempted = false;
	p->swap_s = 0;
	p->scheduled = SIZE_MAX;
	if (prefill_alone(&e->s->serving) && (p->steps_left <= 0 || p->nrunning == 0))
		schedule_prompts(e, p, &budget);
	if (p->scheduled == SIZE_MAX) {
		schedule_running(e, p, &budget, false);
		serve_admit_decoded(e, p, p->preempted);
		/* Multi-step scheduling (serving.scheduler_steps): waiting requests join only when
		 * the running batch's steps are done, or when nothing runs. */
		if (!p->preempted && (p->steps_left <= 0 || p->nrunning == 0)) {
			schedule_waiting(e, p, &budget);
			p->steps_left = e->s->serving.scheduler_steps;
		}
		p->scheduled = p->nrunning;
	}
	p->steps_left--;
	/* Within max_num_seqs sequences and max_batched_tokens tokens. */
	BUG_ON(budget < 0 || (int64_t)p->nrunning > e->s->serving.max_num_seqs);
	batch_of(e, p);
	serve_issue(e, p, in_system, p->swap_s);
	return true;
}

static void end_continuous(struct serve_state *e, struct replica *p)
{
	/* The peak is what the iteration held while it ran, before its finished sequences free
	 * their blocks: with one output token each, every request finished in the iteration that
	 * prefilled it and the peak read 0 %. */
	int64_t held = e->total_blocks - p->free_blocks;
	finish_iteration(e, p);
	if (held > e->r->kv_blocks_peak)
		e->r->kv_blocks_peak = held;
	serve_record(e, p);
}

/* The gap after now that lands exactly on t when the engine adds it to now, so an arrival's
 * event time is its arrival time to the bit (t - now alone can round either way). */
double serve_gap_to(double now, double t)
{
	double d = t - now;
	int k;
	for (k = 0; k < 64 && now + d < t; k++)
		d = nextafter(d, INFINITY);
	for (k = 0; k < 64 && now + d > t; k++)
		d = nextafter(d, 0);
	return d;
}

/* One pass of the driver at the engine's current time: end the iterations that completed,
 * hand arrived requests to replicas, start an iteration on every idle replica with work, and
 * wait on the router's stream for the next arrival. */
static void drive(struct serve_state *e)
{
	uint32_t done[64];
	size_t n, k;
	e->now = engine_now(e->eng);
	while ((n = engine_take_done(e->eng, done, 64)) > 0) {
		for (k = 0; k < n; k++) {
			uint32_t st = e->g->ops[done[k]].stream;
			struct replica *p;
			if (st == e->router) {
				e->waking = false;
				continue;
			}
			p = &e->rep[(st - e->rep[0].stream) / STREAMS_PER_REPLICA];
			if (done[k] != p->op)
				continue;
			p->op = NO_ITERATION;
			p->end = e->now;
			if (e->s->serving.batching == BATCHING_STATIC)
				serve_end_static(e, p);
			else
				end_continuous(e, p);
		}
	}
	route_arrivals(e);
	for (k = 0; k < e->nrep; k++) {
		struct replica *p = &e->rep[k];
		if (p->op != NO_ITERATION)
			continue;
		if (e->s->serving.batching == BATCHING_STATIC)
			serve_begin_static(e, p);
		else
			begin_continuous(e, p);
	}
	if (!e->waking && e->next_route < e->rs->n) {
		graph_add_compute(e->g, e->router, "arrival", 0,
				  serve_gap_to(e->now, ready_at(e, e->next_route)));
		e->waking = true;
	}
	engine_sync(e->eng);
}

static void drive_any(void *e)
{
	drive(e);
}

static void summarize(struct serve_state *e)
{
	struct serve_result *r = e->r;
	const struct request_stream *rs = e->rs;
	struct serve_done *done = xcalloc(rs->n + 1, sizeof *done);
	double compute = 0;
	size_t i, n = 0;
	int p;
	for (i = 0; i < rs->n; i++) {
		const struct seq *q = &e->seq[i];
		const struct request *rq = &rs->req[i];
		if (q->state != SEQ_DONE)
			continue;
		done[n++] = (struct serve_done){rq->arrival, q->first_token, q->finish, rq->prompt,
						rq->output};
	}
	serve_summarize_done(done, n, r);
	free(done);
	if (r->duration > 0) {
		r->mean_in_system /= r->duration;
		for (p = 0; p < FORWARD_PARTS; p++)
			compute += r->part[p];
		r->busy = (compute + r->draft_s + r->swap_s + r->overhead_s) /
			  (r->duration * (double)e->nrep);
	}
	if (r->iterations > 0)
		r->mean_batch /= (double)r->iterations;
	r->spec_tokens_per_step = r->spec_steps > 0 ? r->spec_tokens / r->spec_steps : 0;
	r->kv_peak_fraction = r->kv_blocks_total > 0
				      ? (double)r->kv_blocks_peak / (double)r->kv_blocks_total
				      : 0;
}

int serve_run(const struct scenario *s, const struct memory_report *m,
	      const struct request_stream *rs, const struct serve_options *o,
	      struct serve_result *out, struct diag *d)
{
	struct mark at = {s->file, 0, 0};
	struct serve_state e;
	struct forward_cost *f;
	int64_t total, gpus = forward_replica_gpus(s);
	double per_token, host_blocks, budget;
	size_t k;
	int c, status = 0;
	memset(out, 0, sizeof *out);
	if (serve_has_pools(s))
		return serve_pools_run(s, rs, o, out, d);
	f = forward_new(s, d);
	if (f == NULL)
		return -1;
	memset(&e, 0, sizeof e);
	e.s = s;
	if (speculative_new(s, &e.sp, d) != 0) {
		forward_free(f);
		return -1;
	}
	/* A drafter's weights come out of the KV budget and its cache shares every block
	 * (vLLM V0 spec_decode_worker.py split_num_cache_blocks_evenly). */
	per_token = m->kv_bytes_per_token;
	budget = m->kv_budget;
	speculative_memory(e.sp, &budget, &per_token);
	e.block_size = s->serving.block_size;
	e.block_bytes = per_token * (double)e.block_size;
	/* vLLM: num_gpu_blocks = the KV budget // bytes per block (cache_engine.py). */
	total = e.block_bytes > 0 && budget > 0 ? (int64_t)floor(budget / e.block_bytes) : 0;
	if (total < serve_blocks_for(&e, s->workload.seq_len)) {
		diag_add(d, at, NULL,
			 "the KV cache holds %lld blocks of %lld tokens, fewer than one sequence of "
			 "seq_len %lld needs (vLLM refuses to start)",
			 (long long)total, (long long)e.block_size, (long long)s->workload.seq_len);
		speculative_free(e.sp);
		forward_free(f);
		return -1;
	}
	e.rs = rs;
	e.f = f;
	e.r = out;
	e.keep = o && o->keep_iterations;
	e.total_blocks = total;
	e.pcie_bw = s->cluster.node.pcie.bw *
		    (s->cluster.node.pcie.efficiency > 0 ? s->cluster.node.pcie.efficiency : 1.0);
	host_blocks = e.block_bytes > 0 ? floor(s->serving.swap_space / e.block_bytes) : 0;
	e.seq = xcalloc(rs->n + 1, sizeof *e.seq);
	/* Every dp replica is a whole engine with its own KV cache (vLLM data parallelism). */
	e.nrep = s->strategy.dp > 0 ? (size_t)(s->strategy.dp / forward_attention_dp(s)) : 1;
	e.rep = xcalloc(e.nrep, sizeof *e.rep);
	/* The replicas' GPUs, then the host the router runs on. */
	e.g = graph_new(e.nrep * (size_t)gpus + 1);
	for (k = 0; k < e.nrep; k++) {
		struct replica *p = &e.rep[k];
		p->wcap = rs->n + 1;
		p->ratio = s->serving.new_token_ratio;
		p->waiting = xcalloc(p->wcap, sizeof *p->waiting);
		p->running = xcalloc(rs->n + 1, sizeof *p->running);
		p->held = xcalloc(rs->n + 1, sizeof *p->held);
		/* The shared prefix's blocks stay in each replica's cache (under continuous
		 * batching, where the cache is used). */
		p->free_blocks = total;
		if (s->serving.batching != BATCHING_STATIC)
			p->free_blocks -= s->workload.prefix_cache.shared_tokens / e.block_size;
		p->host_free_blocks = (int64_t)host_blocks;
		p->op = NO_ITERATION;
		p->stream = graph_add_stream(e.g, (uint32_t)(k * (size_t)gpus), "iterations");
		for (c = 0; c < FORWARD_LINKS; c++) {
			double bw = forward_link_bandwidth(f, c);
			graph_add_stream(e.g, (uint32_t)(k * (size_t)gpus), "collectives");
			p->link[c] = bw > 0 ? graph_add_port(e.g, (uint32_t)(k * (size_t)gpus),
							     "port", bw)
					    : NO_LINK;
		}
	}
	e.router = graph_add_stream(e.g, (uint32_t)(e.nrep * (size_t)gpus), "arrivals");
	e.eng = engine_new(e.g);
	engine_record_timeline(e.eng, false);
	engine_report_done(e.eng, true);
	out->requests = rs->n;
	out->replicas = (int64_t)e.nrep;
	out->kv_blocks_total = total;
	out->kv_tokens = (double)total * (double)e.block_size;
	out->offered_rate = serve_offered_rate(s, rs);
	for (size_t i = 0; i < rs->n; i++) {
		e.seq[i].len = rs->req[i].prompt;
		e.seq[i].cached = serve_prefix_hit(s, e.block_size, &rs->req[i]);
		e.seq[i].state = SEQ_FUTURE;
	}
	status = serve_drive_to_end(e.eng, drive_any, &e, &out->finished, rs->n, "a replica", at,
				    d);
	if (status == 0)
		summarize(&e);
	engine_free(e.eng);
	graph_free(e.g);
	for (k = 0; k < e.nrep; k++) {
		free(e.rep[k].waiting);
		free(e.rep[k].running);
		free(e.rep[k].held);
	}
	free(e.rep);
	free(e.seq);
	speculative_free(e.sp);
	forward_free(f);
	if (status != 0)
		serve_result_release(out);
	return status;
}

void serve_result_release(struct serve_result *r)
{
	free(r->iters);
	r->iters = NULL;
	r->niters = 0;
}
