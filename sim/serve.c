/*
 * serve: continuous batching over a paged KV cache. Plan stage.
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
#include "serve.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "xalloc.h"

enum seq_state { SEQ_FUTURE, SEQ_WAITING, SEQ_RUNNING, SEQ_SWAPPED, SEQ_DONE };

struct seq {
	int64_t len;          /* known tokens: prompt plus generated */
	int64_t computed;     /* tokens whose keys and values are cached */
	int64_t generated;
	int64_t blocks;       /* KV blocks held on the GPU (or on the host when swapped) */
	int64_t sched;        /* tokens scheduled this iteration */
	double first_token, finish;
	int state;
};

struct engine_state {
	const struct scenario *s;
	const struct request_stream *rs;
	const struct forward_cost *f;
	struct seq *seq;
	size_t *waiting;      /* a ring: indices of queued sequences, head first */
	size_t wcap, whead, wlen;
	size_t *running;      /* admission order */
	size_t nrunning;
	size_t next_arrival;
	int64_t free_blocks, host_free_blocks, block_size;
	double block_bytes;   /* per GPU */
	double pcie_bw;
	double now;
	bool preempted;       /* this iteration */
	double swap_s;        /* this iteration */
	struct serve_result *r;
	size_t iters_cap;
	bool keep;
};

static int64_t blocks_for(const struct engine_state *e, int64_t tokens)
{
	return (tokens + e->block_size - 1) / e->block_size;
}

static void wpush_back(struct engine_state *e, size_t i)
{
	e->waiting[(e->whead + e->wlen++) % e->wcap] = i;
}

static void wpush_front(struct engine_state *e, size_t i)
{
	e->whead = (e->whead + e->wcap - 1) % e->wcap;
	e->waiting[e->whead] = i;
	e->wlen++;
}

static size_t wpop_front(struct engine_state *e)
{
	size_t i = e->waiting[e->whead];
	e->whead = (e->whead + 1) % e->wcap;
	e->wlen--;
	return i;
}

static void admit_arrivals(struct engine_state *e)
{
	while (e->next_arrival < e->rs->n && e->rs->req[e->next_arrival].arrival <= e->now) {
		e->seq[e->next_arrival].state = SEQ_WAITING;
		wpush_back(e, e->next_arrival++);
	}
}

/* Preempt the newest running sequence: swap its blocks to host memory when swapping is chosen
 * and there is room, else free them to be recomputed (vLLM PreemptionMode). */
static void preempt_newest(struct engine_state *e)
{
	size_t v = e->running[--e->nrunning];
	struct seq *q = &e->seq[v];
	e->free_blocks += q->blocks;
	e->r->preemptions++;
	if (e->s->serving.preemption == PREEMPT_SWAP && q->blocks <= e->host_free_blocks &&
	    e->pcie_bw > 0) {
		e->host_free_blocks -= q->blocks;
		e->swap_s += (double)q->blocks * e->block_bytes / e->pcie_bw;
		e->r->swaps++;
		q->state = SEQ_SWAPPED;
	} else {
		q->blocks = 0;
		q->computed = 0;
		q->state = SEQ_WAITING;
	}
	q->sched = 0;
	wpush_front(e, v);
	e->preempted = true;
}

/* Give running sequences their tokens; true when the sequence at `pos` was itself preempted. */
static void schedule_running(struct engine_state *e, int64_t *budget)
{
	size_t pos;
	for (pos = 0; pos < e->nrunning && *budget > 0; pos++) {
		struct seq *q = &e->seq[e->running[pos]];
		int64_t n = q->len - q->computed, need;
		if (n > *budget)
			n = *budget;
		need = blocks_for(e, q->computed + n) - q->blocks;
		while (need > e->free_blocks && e->nrunning > pos)
			preempt_newest(e);
		if (pos >= e->nrunning)
			break;
		e->free_blocks -= need;
		q->blocks += need;
		q->sched = n;
		*budget -= n;
	}
}

static void schedule_waiting(struct engine_state *e, int64_t *budget)
{
	const struct serving *v = &e->s->serving;
	while (e->wlen > 0 && *budget > 0 && (int64_t)e->nrunning < v->max_num_seqs) {
		size_t i = e->waiting[e->whead];
		struct seq *q = &e->seq[i];
		int64_t n, need, back = q->state == SEQ_SWAPPED ? q->blocks : 0;
		if (back > e->free_blocks)
			break;
		n = q->len - q->computed;
		if (n > *budget) {
			if (!v->chunked_prefill)
				break;
			n = *budget;
		}
		need = blocks_for(e, q->computed + n) - q->blocks + back;
		if (need > e->free_blocks)
			break;
		if (back > 0) {
			e->host_free_blocks += back;
			e->swap_s += (double)back * e->block_bytes / e->pcie_bw;
		}
		e->free_blocks -= need;
		q->blocks += need - back;
		q->sched = n;
		q->state = SEQ_RUNNING;
		*budget -= n;
		wpop_front(e);
		e->running[e->nrunning++] = i;
	}
}

/* The forward pass of the scheduled tokens. */
static void batch_of(const struct engine_state *e, struct forward_batch *b, int32_t *prefills)
{
	size_t k;
	memset(b, 0, sizeof *b);
	*prefills = 0;
	for (k = 0; k < e->nrunning; k++) {
		const struct seq *q = &e->seq[e->running[k]];
		double n = (double)q->sched, p = (double)q->computed;
		if (q->sched == 0)
			continue;
		b->tokens += n;
		b->kv_tokens += p + n;
		if (q->computed + q->sched == q->len)
			b->sequences += 1;
		if (q->sched == 1 && q->computed > 0) {
			b->decode_pairs += p + 1;
		} else {
			/* Causal attention of a chunk of n tokens after p cached ones. */
			b->prefill_pairs += n * p + n * (n + 1) / 2;
			(*prefills)++;
		}
	}
}

static void finish_iteration(struct engine_state *e)
{
	size_t k, kept = 0;
	for (k = 0; k < e->nrunning; k++) {
		size_t i = e->running[k];
		struct seq *q = &e->seq[i];
		q->computed += q->sched;
		if (q->sched > 0 && q->computed == q->len) {
			q->generated++;
			if (q->generated == 1)
				q->first_token = e->now;
			if (q->generated >= e->rs->req[i].output) {
				q->finish = e->now;
				q->state = SEQ_DONE;
				e->free_blocks += q->blocks;
				q->blocks = 0;
				e->r->finished++;
				continue;
			}
			q->len++;
		}
		q->sched = 0;
		e->running[kept++] = i;
	}
	e->nrunning = kept;
}

static void record(struct engine_state *e, double start, double dt, const struct forward_batch *b,
		   int32_t prefills, int64_t total_blocks, size_t scheduled)
{
	struct serve_result *r = e->r;
	struct serve_iteration *it;
	int64_t used = total_blocks - e->free_blocks;
	if (used > r->kv_blocks_peak)
		r->kv_blocks_peak = used;
	r->iterations++;
	r->mean_batch += (double)scheduled;
	if (!e->keep)
		return;
	if (r->niters == e->iters_cap) {
		e->iters_cap = e->iters_cap ? 2 * e->iters_cap : 4096;
		r->iters = xreallocarray(r->iters, e->iters_cap, sizeof *r->iters);
	}
	it = &r->iters[r->niters++];
	it->start = start;
	it->duration = dt;
	it->tokens = (int32_t)fmin(b->tokens, 2e9);
	it->sequences = (int32_t)scheduled;
	it->prefills = prefills;
	it->kv_blocks = used;
}

/* Continuous batching: one iteration, or a jump to the next arrival when idle. */
static void step_continuous(struct engine_state *e, int64_t total_blocks)
{
	int64_t budget = e->s->serving.max_batched_tokens;
	struct forward_batch b;
	double part[FORWARD_PARTS], dt, start = e->now, in_system;
	int32_t prefills;
	size_t scheduled;
	int p;
	e->preempted = false;
	e->swap_s = 0;
	in_system = (double)(e->nrunning + e->wlen);
	schedule_running(e, &budget);
	if (!e->preempted)
		schedule_waiting(e, &budget);
	batch_of(e, &b, &prefills);
	scheduled = e->nrunning;
	dt = forward_time(e->f, &b, part) + e->swap_s + e->s->serving.iteration_overhead;
	for (p = 0; p < FORWARD_PARTS; p++)
		e->r->part[p] += part[p];
	e->r->swap_s += e->swap_s;
	e->r->overhead_s += e->s->serving.iteration_overhead;
	e->now += dt;
	e->r->mean_in_system += in_system * dt;
	finish_iteration(e);
	record(e, start, dt, &b, prefills, total_blocks, scheduled);
}

/* Static batching: a batch is admitted only when the last one has finished, with KV blocks
 * reserved for every sequence's whole length; finished sequences stay in the batch as padding
 * and every response returns when the batch ends (FasterTransformer-style serving, the baseline
 * of Yu et al. 2022, Orca, sec. 2). */
static void step_static(struct engine_state *e, int64_t total_blocks)
{
	const struct serving *v = &e->s->serving;
	struct forward_batch b;
	double part[FORWARD_PARTS], dt, start = e->now, in_system;
	int64_t tokens = 0, longest = 0, k;
	size_t j;
	int32_t prefills = 0;
	int p;
	while (e->wlen > 0 && (int64_t)e->nrunning < v->max_num_seqs) {
		size_t i = e->waiting[e->whead];
		const struct request *q = &e->rs->req[i];
		int64_t need = blocks_for(e, q->prompt + q->output);
		if (need > e->free_blocks || (e->nrunning > 0 && tokens + q->prompt >
								     v->max_batched_tokens))
			break;
		e->free_blocks -= need;
		e->seq[i].blocks = need;
		e->seq[i].state = SEQ_RUNNING;
		tokens += q->prompt;
		if (q->output > longest)
			longest = q->output;
		wpop_front(e);
		e->running[e->nrunning++] = i;
	}
	if (e->nrunning == 0)
		return;
	/* The batch's prefill, then longest - 1 decode passes over the whole padded batch. */
	for (k = 0; k < longest; k++) {
		in_system = (double)(e->nrunning + e->wlen);
		memset(&b, 0, sizeof b);
		for (j = 0; j < e->nrunning; j++) {
			const struct request *q = &e->rs->req[e->running[j]];
			double ctx = (double)(q->prompt + k);
			if (k == 0) {
				b.tokens += (double)q->prompt;
				b.prefill_pairs += (double)q->prompt * ((double)q->prompt + 1) / 2;
				b.kv_tokens += (double)q->prompt;
				prefills++;
			} else {
				b.tokens += 1;
				b.decode_pairs += ctx + 1;
				b.kv_tokens += ctx + 1;
			}
			b.sequences += 1;
		}
		dt = forward_time(e->f, &b, part) + v->iteration_overhead;
		for (p = 0; p < FORWARD_PARTS; p++)
			e->r->part[p] += part[p];
		e->r->overhead_s += v->iteration_overhead;
		e->now += dt;
		e->r->mean_in_system += in_system * dt;
		if (k == 0)
			for (j = 0; j < e->nrunning; j++)
				e->seq[e->running[j]].first_token = e->now;
		record(e, start, dt, &b, prefills, total_blocks, e->nrunning);
		start = e->now;
		prefills = 0;
		admit_arrivals(e);
	}
	for (j = 0; j < e->nrunning; j++) {
		struct seq *q = &e->seq[e->running[j]];
		q->finish = e->now;
		q->generated = e->rs->req[e->running[j]].output;
		q->state = SEQ_DONE;
		e->free_blocks += q->blocks;
		q->blocks = 0;
		e->r->finished++;
	}
	e->nrunning = 0;
}

static void stat_of(double *x, size_t n, struct serve_stat *out)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return;
	gsl_sort(x, 1, n);
	out->mean = gsl_stats_mean(x, 1, n);
	out->p50 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.50);
	out->p90 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.90);
	out->p99 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.99);
}

static void summarize(struct engine_state *e)
{
	struct serve_result *r = e->r;
	const struct request_stream *rs = e->rs;
	double *ttft = xcalloc(rs->n + 1, sizeof *ttft);
	double *tpot = xcalloc(rs->n + 1, sizeof *tpot);
	double *lat = xcalloc(rs->n + 1, sizeof *lat);
	double compute = 0, in_tokens = 0, out_tokens = 0;
	size_t i, nt = 0, np = 0;
	int p;
	for (i = 0; i < rs->n; i++) {
		const struct seq *q = &e->seq[i];
		const struct request *rq = &rs->req[i];
		if (q->state != SEQ_DONE)
			continue;
		ttft[nt] = q->first_token - rq->arrival;
		lat[nt++] = q->finish - rq->arrival;
		/* TPOT as vLLM's benchmark defines it: (latency - TTFT) / (output - 1). */
		if (rq->output > 1)
			tpot[np++] = (q->finish - q->first_token) / (double)(rq->output - 1);
		if (q->finish > r->duration)
			r->duration = q->finish;
		in_tokens += (double)rq->prompt;
		out_tokens += (double)rq->output;
	}
	stat_of(ttft, nt, &r->ttft);
	stat_of(tpot, np, &r->tpot);
	stat_of(lat, nt, &r->latency);
	free(ttft);
	free(tpot);
	free(lat);
	if (r->duration > 0) {
		r->requests_per_s = (double)r->finished / r->duration;
		r->input_tokens_per_s = in_tokens / r->duration;
		r->output_tokens_per_s = out_tokens / r->duration;
		r->mean_in_system /= r->duration;
		for (p = 0; p < FORWARD_PARTS; p++)
			compute += r->part[p];
		r->busy = (compute + r->swap_s + r->overhead_s) / r->duration;
	}
	if (r->iterations > 0)
		r->mean_batch /= (double)r->iterations;
	r->kv_peak_fraction = r->kv_blocks_total > 0
				      ? (double)r->kv_blocks_peak / (double)r->kv_blocks_total
				      : 0;
}

int serve_run(const struct scenario *s, const struct memory_report *m,
	      const struct request_stream *rs, const struct serve_options *o,
	      struct serve_result *out, char *err, size_t errsize)
{
	struct engine_state e;
	struct forward_cost *f;
	int64_t total;
	double per_token;
	memset(out, 0, sizeof *out);
	f = forward_new(s, err, errsize);
	if (f == NULL)
		return -1;
	per_token = m->kv_bytes_per_token;
	memset(&e, 0, sizeof e);
	e.block_size = s->serving.block_size;
	e.block_bytes = per_token * (double)e.block_size;
	/* vLLM: num_gpu_blocks = the KV budget // bytes per block (cache_engine.py). */
	total = e.block_bytes > 0 && m->kv_budget > 0 ? (int64_t)floor(m->kv_budget / e.block_bytes)
						       : 0;
	if (total < blocks_for(&e, s->workload.seq_len)) {
		snprintf(err, errsize,
			 "the KV cache holds %lld blocks of %lld tokens, fewer than one sequence of "
			 "seq_len %lld needs (vLLM refuses to start)",
			 (long long)total, (long long)e.block_size, (long long)s->workload.seq_len);
		forward_free(f);
		return -1;
	}
	e.s = s;
	e.rs = rs;
	e.f = f;
	e.r = out;
	e.keep = o && o->keep_iterations;
	e.free_blocks = total;
	e.host_free_blocks = e.block_bytes > 0 ? (int64_t)floor(s->serving.swap_space /
								e.block_bytes)
					       : 0;
	e.pcie_bw = s->cluster.node.pcie.bw *
		    (s->cluster.node.pcie.efficiency > 0 ? s->cluster.node.pcie.efficiency : 1.0);
	e.seq = xcalloc(rs->n + 1, sizeof *e.seq);
	e.wcap = rs->n + 1;
	e.waiting = xcalloc(e.wcap, sizeof *e.waiting);
	e.running = xcalloc(rs->n + 1, sizeof *e.running);
	out->requests = rs->n;
	out->kv_blocks_total = total;
	out->kv_tokens = (double)total * (double)e.block_size;
	out->offered_rate = s->workload.arrival.process == ARRIVAL_TRACE || rs->n < 2
				    ? 0
				    : s->workload.arrival.rate;
	for (size_t i = 0; i < rs->n; i++) {
		e.seq[i].len = rs->req[i].prompt;
		e.seq[i].state = SEQ_FUTURE;
	}
	while (out->finished < rs->n) {
		admit_arrivals(&e);
		if (e.nrunning == 0 && e.wlen == 0) {
			e.now = rs->req[e.next_arrival].arrival;
			continue;
		}
		if (s->serving.batching == BATCHING_STATIC)
			step_static(&e, total);
		else
			step_continuous(&e, total);
	}
	summarize(&e);
	free(e.seq);
	free(e.waiting);
	free(e.running);
	forward_free(f);
	return 0;
}

void serve_result_release(struct serve_result *r)
{
	free(r->iters);
	r->iters = NULL;
	r->niters = 0;
}

static const char *const metric_names[] = {"ttft", "tpot", "latency"};
static const char *const quantile_names[] = {"mean", "p50", "p90", "p99"};

int serve_parse_slo(const char *text, struct serve_slo *out, char *err, size_t errsize)
{
	char buf[512], *save = NULL, *item;
	memset(out, 0, sizeof *out);
	if (strlen(text) >= sizeof buf) {
		snprintf(err, errsize, "too long");
		return -1;
	}
	strcpy(buf, text);
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *us;
		struct serve_target *t;
		char uerr[160];
		int mi, qi;
		if (eq == NULL || (us = strchr(item, '_')) == NULL || us > eq) {
			snprintf(err, errsize, "expected METRIC_QUANTILE=TIME such as ttft_p99=2s, got "
					       "'%s'", item);
			return -1;
		}
		*eq = '\0';
		*us = '\0';
		for (mi = 0; mi < 3 && strcmp(item, metric_names[mi]) != 0; mi++)
			;
		for (qi = 0; qi < 4 && strcmp(us + 1, quantile_names[qi]) != 0; qi++)
			;
		if (mi == 3 || qi == 4) {
			snprintf(err, errsize, "unknown target '%s_%s': metrics are ttft, tpot, latency; "
					       "quantiles mean, p50, p90, p99", item, us + 1);
			return -1;
		}
		if (out->n == SERVE_TARGETS_MAX) {
			snprintf(err, errsize, "more than %d targets", SERVE_TARGETS_MAX);
			return -1;
		}
		t = &out->t[out->n++];
		t->metric = mi;
		t->quantile = qi;
		if (units_parse(eq + 1, UNIT_SECONDS, &t->limit, uerr, sizeof uerr) != 0 ||
		    !(t->limit > 0)) {
			snprintf(err, errsize, "%s_%s: expected a time such as 2s or 100ms, got '%s'",
				 item, us + 1, eq + 1);
			return -1;
		}
	}
	if (out->n == 0) {
		snprintf(err, errsize, "no targets given");
		return -1;
	}
	return 0;
}

const char *serve_target_name(const struct serve_target *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s_%s", metric_names[t->metric], quantile_names[t->quantile]);
	return buf;
}

double serve_target_value(const struct serve_result *r, const struct serve_target *t)
{
	const struct serve_stat *st = t->metric == SERVE_TTFT ? &r->ttft
				      : t->metric == SERVE_TPOT ? &r->tpot
								  : &r->latency;
	switch (t->quantile) {
	case SERVE_MEAN:
		return st->mean;
	case SERVE_P50:
		return st->p50;
	case SERVE_P90:
		return st->p90;
	default:
		return st->p99;
	}
}

bool serve_meets(const struct serve_result *r, const struct serve_slo *slo)
{
	int i;
	if (r->finished < r->requests)
		return false;
	for (i = 0; i < slo->n; i++)
		if (!(serve_target_value(r, &slo->t[i]) <= slo->t[i].limit))
			return false;
	return true;
}
