/*
 * sweep: spec → points → records.
 *
 * A point is a group (the base scenario with one combination of the axes' values, loaded once)
 * and a strategy. With `strategy: auto` the strategies are every valid combination of the
 * candidate lists (tp, pp, cp, ep, zero, micro_batch, recompute, schedule, vp, offload);
 * validity is the loader's own check (scenario_check_strategy), so a sweep never runs what
 * `dssim FILE` would refuse, and what is left out is counted by reason (sweep_counts.skips). The spec and its `where` filter are read by sweep_spec.c.
 */
#include "sweep_int.h"

#include <gsl/gsl_errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calibrate.h"
#include "canonical.h"
#include "cost.h"
#include "json.h"
#include "memtrack.h"
#include "memory.h"
#include "run.h"
#include "walltime.h"
#include "xalloc.h"

/* ---- evaluation ---- */

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void fill_keys(const struct scenario *s, struct store_point *p)
{
	const struct strategy *g = &s->strategy;
	copy_text(p->mode, sizeof p->mode, s->workload.mode == MODE_TRAIN ? "train" : "infer");
	copy_text(p->model, sizeof p->model, s->model.name);
	copy_text(p->node, sizeof p->node, s->cluster.node.name);
	copy_text(p->recompute, sizeof p->recompute,
		  scenario_enum_name("strategy.recompute", g->recompute));
	copy_text(p->schedule, sizeof p->schedule,
		  scenario_enum_name("strategy.schedule", g->schedule));
	copy_text(p->dtype, sizeof p->dtype, scenario_dtype_name(s->workload.dtype));
	copy_text(p->price_date, sizeof p->price_date, s->cluster.node.price_date);
	/* A kind without a price says nothing: NULL beside a NULL price. */
	if (s->cluster.node.price > 0)
		copy_text(p->price_kind, sizeof p->price_kind,
			  scenario_enum_name("cluster.node.price_kind",
					     s->cluster.node.price_kind));
	if (s->workload.mode == MODE_INFER)
		p->arrival_rate = s->workload.arrival.rate;
	p->nodes = s->cluster.nodes;
	p->gpus = s->cluster.gpus;
	p->tp = g->tp;
	p->pp = g->pp;
	p->dp = g->dp;
	p->cp = g->cp;
	p->ep = g->ep;
	p->zero = g->zero;
	p->vp = g->vp;
	p->micro_batch = s->workload.micro_batch;
	p->global_batch = s->workload.global_batch;
	p->seq_len = s->workload.seq_len;
}

static double gib(double bytes)
{
	return bytes / (1024.0 * 1024.0 * 1024.0);
}

/* Price of the nodes used: instances are rented whole. */
static void fill_cost(const struct scenario *s, struct store_point *p)
{
	struct cost c;
	cost_build(s->cluster.node.price * (double)s->cluster.nodes, p->tokens_per_s, 0, &c);
	p->usd_per_hour = c.usd_per_hour;
	p->usd_per_million_tokens = c.usd_per_million_tokens;
}

/* The most loaded GPU's memory over the step in STORE_TIMELINE intervals: each interval keeps
 * its largest allocation, so the chart shows the peak wherever it falls. */
static void keep_timeline(const struct engine *e, size_t device, double step_s,
			  struct store_point *p)
{
	size_t n, i;
	const struct memtrack_sample *m = memtrack_samples(engine_memory(e), device, &n);
	int k = -1;
	p->ntimeline = 0;
	if (m == NULL || n == 0 || !(step_s > 0))
		return;
	for (i = 0; i < n; i++) {
		int b = (int)(m[i].time / step_s * STORE_TIMELINE);
		if (b >= STORE_TIMELINE)
			b = STORE_TIMELINE - 1;
		if (b < 0)
			b = 0;
		if (b != k) {
			k = b;
			p->timeline_t[p->ntimeline] = m[i].time;
			p->timeline_bytes[p->ntimeline] = m[i].bytes;
			p->ntimeline++;
		} else if (m[i].bytes > p->timeline_bytes[p->ntimeline - 1]) {
			p->timeline_bytes[p->ntimeline - 1] = m[i].bytes;
		}
	}
}

/* A point's result columns from the one run path's result (run.h). */
static void take_train(const struct run_result *r, struct store_point *p)
{
	int k;
	p->status = STORE_SIMULATED;
	p->step_s = r->step.step_s;
	p->tokens_per_s = r->step.tokens_per_s;
	p->tflops_per_gpu = r->step.tflops_per_gpu;
	p->mfu = r->step.mfu;
	p->hfu = r->step.hfu;
	p->peak_per_gpu = r->step.peak_per_gpu;
	for (k = 0; k < STEP_CATEGORIES; k++)
		p->time[k] = r->step.exposed[k];
	keep_timeline(r->engine, (size_t)r->step.peak_stage, r->step.step_s, p);
	p->time[STEP_CATEGORIES] = r->step.bubble;
	if (r->step.oom) {
		p->fits = false;
		snprintf(p->reason, sizeof p->reason,
			 "out of memory in the simulation: peak %.1f GiB of %.1f GiB",
			 gib(r->step.peak_per_gpu), gib(p->capacity));
	}
}

static void take_serving(const struct run_result *r, struct store_point *p)
{
	const struct serve_result *v = &r->serve;
	p->status = STORE_SIMULATED;
	p->requests_per_s = v->requests_per_s;
	p->output_tokens_per_s = v->output_tokens_per_s;
	p->tokens_per_s = v->output_tokens_per_s;
	p->ttft_p50 = v->ttft.p50;
	p->ttft_p99 = v->ttft.p99;
	p->tpot_p50 = v->tpot.p50;
	p->tpot_p99 = v->tpot.p99;
	p->latency_p99 = v->latency.p99;
	if (v->disaggregated) {
		p->prefill_gpus = v->pool[SERVE_PREFILL].gpus;
		p->decode_gpus = v->pool[SERVE_DECODE].gpus;
		p->prefill_busy = v->pool[SERVE_PREFILL].busy;
		p->decode_busy = v->pool[SERVE_DECODE].busy;
		p->kv_transfer_mean = v->kv_transfer.mean;
		p->kv_transfer_p99 = v->kv_transfer.p99;
	}
	p->peak_per_gpu = p->analytic_peak;
}

/*
 * The bands of a simulated training point that fits (calibrate_uncertainty). The draws' seed
 * is FNV-1a 64 (IETF draft-eastlake-fnv, section 2, as store_hash) of the point's hash and
 * the sweep's seed in decimal, folded to the 32 bits mt19937 takes (gsl_rng_set uses
 * seed & 0xffffffff): a point draws the same numbers whichever worker, shard or order runs
 * it, and two points do not draw the same. A point whose draws fail keeps no bands.
 */
static void draw_bands(const struct scenario *s, size_t draws, unsigned long seed,
		       struct store_point *p)
{
	struct calibrate_uncertainty u;
	struct diag d;
	char text[32];
	uint64_t h = store_hash_add(0xcbf29ce484222325ULL, p->hash, strlen(p->hash));
	int n = snprintf(text, sizeof text, ":%lu", seed);
	h = store_hash_add(h, text, (size_t)n);
	diag_init(&d);
	if (calibrate_uncertainty(s, draws, (unsigned long)((h ^ (h >> 32)) & 0xffffffffULL), NULL,
				  &u, &d) == 0) {
		p->u_draws = (int64_t)draws;
		p->u_seed = (int64_t)seed;
		p->u_clamped = (int64_t)u.clamped;
		p->u_step_s[0] = u.step_s.p10;
		p->u_step_s[1] = u.step_s.p50;
		p->u_step_s[2] = u.step_s.p90;
		p->u_tokens_per_s[0] = u.tokens_per_s.p10;
		p->u_tokens_per_s[1] = u.tokens_per_s.p50;
		p->u_tokens_per_s[2] = u.tokens_per_s.p90;
		p->u_mfu[0] = u.mfu.p10;
		p->u_mfu[1] = u.mfu.p50;
		p->u_mfu[2] = u.mfu.p90;
	}
	diag_release(&d);
}

/* Simulate a screened point through run_scenario. Training skips the analytic breakdown the
 * screen already stands for; a run that fails or is not simulated is an error point. */
static void simulate(const struct scenario *s, size_t draws, unsigned long seed,
		     struct store_point *p)
{
	struct run_options o = {0};
	struct run_result r;
	struct diag d;
	bool train = s->workload.mode == MODE_TRAIN;
	o.step_only = train;
	o.keep_engine = train;
	o.record_timeline = train;
	diag_init(&d);
	if (run_scenario(s, &o, &r, &d) != 0) {
		if (d.count > 0)
			diag_format(&d.items[0], p->reason, sizeof p->reason);
		p->status = STORE_ERROR;
	} else if (r.outcome != RUN_SIMULATED) {
		copy_text(p->reason, sizeof p->reason, r.reason);
		p->status = STORE_ERROR;
	} else if (train) {
		take_train(&r, p);
		if (draws > 0 && p->fits)
			draw_bands(s, draws, seed, p);
	} else {
		take_serving(&r, p);
	}
	run_result_release(&r);
	diag_release(&d);
}

/* Evaluate with the canonical config (owned by p after) and hash already made. */
static void evaluate(const struct scenario *s, const struct sweep_slice *sl, char *config,
		     size_t shared_len, const char *hash, struct store_point *p)
{
	bool analytic = sl->analytic;
	struct memory_screen m;
	memset(p, 0, sizeof *p);
	fill_keys(s, p);
	p->config = config;
	p->shared_len = (uint32_t)shared_len;
	memcpy(p->hash, hash, sizeof p->hash);
	memory_screen(s, &m);
	p->analytic_peak = p->peak_per_gpu = m.peak;
	p->capacity = m.capacity;
	p->host_per_node = m.host_per_node;
	p->host_capacity = m.host_capacity;
	memcpy(p->mem, m.part, sizeof p->mem);
	p->fits = m.fits && m.host_fits;
	p->status = STORE_NO_FIT;
	if (!m.fits && s->workload.mode == MODE_INFER && m.peak <= m.capacity) {
		/* The weights fit but the KV budget holds no full sequence: the engine would not
		 * start (memory.c infer_fit, vLLM's max_model_len check). A misfit, not an error. */
		snprintf(p->reason, sizeof p->reason,
			 "KV cache cannot hold one sequence: %lld tokens",
			 (long long)s->workload.seq_len);
	} else if (!m.fits) {
		snprintf(p->reason, sizeof p->reason, "device memory: needs %.1f GiB per GPU, has %.1f",
			 gib(m.peak), gib(m.capacity));
	} else if (!m.host_fits) {
		snprintf(p->reason, sizeof p->reason,
			 "host memory: needs %.0f GiB per node, has %.0f", gib(m.host_per_node),
			 gib(m.host_capacity));
	} else if (analytic) {
		p->status = STORE_SCREENED;
	} else {
		simulate(s, sl->uncertainty, sl->seed, p);
	}
	fill_cost(s, p);
	if (p->status == STORE_ERROR)
		p->fits = false;
}

void sweep_evaluate(const struct scenario *s, bool analytic, struct store_point *out)
{
	char *rest = canonical_format_part(s, false), *own = canonical_format_part(s, true);
	char *config = canonical_join(rest, own), hash[17];
	size_t shared = strlen(rest);
	struct sweep_slice sl = {.analytic = analytic};
	store_hash(config, hash);
	free(rest);
	free(own);
	evaluate(s, &sl, config, shared, hash, out);
}

/* ---- expansion ---- */

struct group {
	struct scenario *s;        /* NULL when it did not load */
	/* error set: the group is one error point (it did not load, or no strategy is valid;
	 * then s stays, to name the model and the node of the point) */
	char *rest;                /* its canonical form but the strategy keys */
	uint64_t hash;             /* FNV state after the version, "{", rest and "," */
	char *error;               /* then: why, and the overrides as config */
	char *config;
};

struct point {
	uint32_t group;
	struct strategy st;
	int64_t micro_batch, global_batch;
};

struct expansion {
	struct group *groups;
	size_t ngroups;
	struct point *points;
	size_t npoints, cap;
	struct sweep_counts *counts;  /* where configurations left out are counted */
};

static void add_point(struct expansion *x, uint32_t g, const struct scenario *s)
{
	if (x->npoints == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 1024;
		x->points = xreallocarray(x->points, x->cap, sizeof *x->points);
	}
	x->points[x->npoints].group = g;
	x->points[x->npoints].st = s->strategy;
	x->points[x->npoints].micro_batch = s->workload.micro_batch;
	x->points[x->npoints].global_batch = s->workload.global_batch;
	x->npoints++;
}

/* A candidate strategy on a copy of the group's scenario, checked as loading checks it: true
 * when it is a point, else the reason is counted. */
static bool try_candidate(struct scenario *c, const struct scenario *base,
			  struct store_where *w, struct sweep_counts *n)
{
	struct diag d;
	bool ok;
	c->workload.global_batch = base->workload.global_batch;
	c->strategy.dp = 0;
	diag_init(&d);
	ok = scenario_check_strategy(c, &d) == 0;
	if (!ok) {
		char why[SWEEP_SKIP_TEXT];
		sweep_skip_reason(&d.items[0], why, sizeof why);
		sweep_skip_add(n, why);
	}
	diag_release(&d);
	if (!ok)
		return false;
	/* Megatron-LM runs the interleaved schedule only when the micro-batches per step are a
	 * multiple of pp (core/pipeline_parallel/schedules.py, "number of microbatches must be
	 * divisible by pipeline-model-parallel-size when using interleaved schedule"); step_build
	 * refuses the rest, so they are not strategies to try. */
	if (c->workload.mode == MODE_TRAIN && c->strategy.schedule == SCHEDULE_INTERLEAVED &&
	    (c->workload.global_batch / (c->strategy.dp * c->workload.micro_batch)) %
			    c->strategy.pp != 0) {
		sweep_skip_add_rule(n, "interleaved: micro-batches per step not a multiple of pp", 1);
		return false;
	}
	if (!sweep_where_passes(w, c)) {
		sweep_skip_add_rule(n, "left out by the where filter", 1);
		return false;
	}
	return true;
}

/* When pp*vp does not divide the layers, the remainder goes to the first and last stages as
 * published runs place it (scenario_uneven_split), rather than the pipeline size being lost;
 * a base that counts the embedding or loss as layers keeps its own split. */
static void uneven(struct scenario *c)
{
	struct strategy *g = &c->strategy;
	if (!g->account_embedding && !g->account_loss && g->pp > 1 &&
	    c->model.layers % (g->pp * g->vp) != 0)
		scenario_uneven_split(c->model.layers, g->pp, g->vp, &g->first_stage_layers,
				      &g->last_stage_layers);
}

/*
 * Every valid strategy of a group. Serving varies only what changes a serving run (tp, pp,
 * cp, ep): ZeRO, micro-batches, recomputation, schedules and optimizer offload are training's,
 * so a serving point keeps the base's and 1F1B (workload.micro_batch sizes only the printed
 * memory table, memory.c infer_fit). A dense model tries ep 1 only. Sequence parallelism goes
 * with tensor parallelism (Korthikanti et al. 2022, section 4.2.2).
 */
static void enumerate(const struct sweep_spec *sp, struct expansion *x, uint32_t g,
		      struct store_where *w)
{
	const struct scenario *s = x->groups[g].s;
	struct scenario c = *s;
	int a, b, e, z, m, r, h, v, k, o, q, y;
	bool moe = model_is_moe(&s->model), train = s->workload.mode == MODE_TRAIN;
	bool dirty = false;             /* c.strategy changed beyond the fields set below */
	size_t inner = 0, per_ep = 1;   /* configurations under one (tp, pp, cp) */
	if (train) {
		for (h = 0, per_ep = 0; h < sp->schedule.n; h++)
			per_ep += sp->schedule.v[h] == SCHEDULE_INTERLEAVED ? (size_t)sp->vp.n
									: (size_t)(sp->vp.n > 0);
		per_ep *= (size_t)sp->zero.n * (size_t)sp->micro_batch.n * (size_t)sp->recompute.n *
			  (size_t)sp->offload_optimizer.n * (size_t)sp->offload_params.n *
			  (size_t)sp->offload_activations.n;
	}
	for (e = 0; e < sp->ep.n; e++)
		inner += moe || sp->ep.v[e] == 1 ? per_ep : 0;
	for (a = 0; a < sp->tp.n; a++)
	for (b = 0; b < sp->pp.n; b++)
	for (k = 0; k < sp->cp.n; k++) {
		/* A (tp, pp, cp) the GPUs refuse: every configuration under it breaks the same
		 * rule first (sweep_skip_rule), counted at once. */
		const char *gpus = sweep_skip_gpus(s, sp->tp.v[a], sp->pp.v[b], sp->cp.v[k]);
		if (gpus != NULL) {
			sweep_skip_add_rule(x->counts, gpus, inner);
			continue;
		}
	for (e = 0; e < sp->ep.n; e++) {
		if (!moe && sp->ep.v[e] != 1)
			continue;
		for (z = 0; z < (train ? sp->zero.n : 1); z++)
		for (m = 0; m < (train ? sp->micro_batch.n : 1); m++)
		for (r = 0; r < (train ? sp->recompute.n : 1); r++)
		for (h = 0; h < (train ? sp->schedule.n : 1); h++)
		for (v = 0; v < (train ? sp->vp.n : 1); v++)
		for (o = 0; o < (train ? sp->offload_optimizer.n : 1); o++)
		for (q = 0; q < (train ? sp->offload_params.n : 1); q++)
		for (y = 0; y < (train ? sp->offload_activations.n : 1); y++) {
			bool il = train && sp->schedule.v[h] == SCHEDULE_INTERLEAVED;
			const char *why;
			/* vp means something only to the interleaved schedule. */
			if (!il && v > 0)
				continue;
			/* Every field the rules read is set below: the base's strategy is copied
			 * back only after a candidate went through the loader's check. */
			if (dirty)
				c.strategy = s->strategy;
			dirty = false;
			c.strategy.tp = sp->tp.v[a];
			c.strategy.pp = sp->pp.v[b];
			c.strategy.cp = sp->cp.v[k];
			c.strategy.ep = sp->ep.v[e];
			if (train) {
				c.strategy.zero = sp->zero.v[z];
				c.strategy.recompute = (int)sp->recompute.v[r];
				c.strategy.schedule = (int)sp->schedule.v[h];
				c.strategy.offload.optimizer = (int)sp->offload_optimizer.v[o];
				c.strategy.offload.params = (int)sp->offload_params.v[q];
				c.strategy.offload.activations = (int)sp->offload_activations.v[y];
				c.workload.micro_batch = sp->micro_batch.v[m];
			} else {
				c.strategy.schedule = SCHEDULE_1F1B;
				c.workload.micro_batch = s->workload.micro_batch;
			}
			c.strategy.vp = il ? sp->vp.v[v] : 1;
			c.strategy.sequence_parallel = c.strategy.tp > 1;
			c.strategy.first_stage_layers = 0;
			c.strategy.last_stage_layers = 0;
			why = sweep_skip_rule(s, &c.strategy, train);
			if (why != NULL) {
				sweep_skip_add_rule(x->counts, why, 1);
				continue;
			}
			dirty = true;
			uneven(&c);
			if (try_candidate(&c, s, w, x->counts))
				add_point(x, g, &c);
		}
	}
	}
}

/* JSON of a group's overrides, for a group that did not load. */
static char *overrides_json(const struct scenario_override *o, size_t n, const char *base)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	fputs("{\"base\":", f);
	json_string(f, base);
	fputs(",\"set\":{", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_string(f, o[i].key);
		fputc(':', f);
		json_string(f, o[i].value);
	}
	fputs("}}", f);
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

static void load_group(const struct sweep_spec *sp, struct expansion *x, size_t g,
		       const struct scenario_override *o, size_t n, struct store_where *w)
{
	struct scenario_options opt;
	struct diag d;
	struct scenario *s;
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = n;
	opt.data_dir = sp->data_dir;
	opt.defer_strategy = sp->auto_strategy;
	diag_init(&d);
	s = scenario_load_tree(sp->base, sp->base_file, &opt, &d);
	x->groups[g].s = s;
	if (s == NULL) {
		char msg[512] = "did not load";
		if (d.count > 0)
			diag_format(&d.items[0], msg, sizeof msg);
		x->groups[g].error = xstrdup(msg);
		x->groups[g].config = overrides_json(o, n, sp->base_file);
	} else if (sp->auto_strategy) {
		size_t before = x->npoints;
		x->groups[g].rest = canonical_format_part(s, false);
		x->groups[g].hash = store_hash_add(
			store_hash_add(store_hash_add(store_hash_begin(), "{", 1), x->groups[g].rest,
				       strlen(x->groups[g].rest)),
			",", 1);
		enumerate(sp, x, (uint32_t)g, w);
		if (x->npoints == before) {
			/* No strategy divides this model over these GPUs (or the filter left
			 * none): one error point says so, so a report can tell why the instance
			 * type never fits rather than leave it out. */
			char msg[512];
			snprintf(msg, sizeof msg, "no strategy passes the divisibility rules%s: %lld "
				 "heads, %lld KV heads, %lld layers, %lld GPUs (%lld per node), global "
				 "batch %lld", sp->where ? " and the where filter" : "",
				 (long long)s->model.heads, (long long)s->model.kv_heads,
				 (long long)s->model.layers, (long long)s->cluster.gpus,
				 (long long)s->cluster.node.gpus_per_node,
				 (long long)s->workload.global_batch);
			x->groups[g].error = xstrdup(msg);
			x->groups[g].config = overrides_json(o, n, sp->base_file);
			free(x->groups[g].rest);
			x->groups[g].rest = NULL;
		}
	} else if (sweep_where_passes(w, s)) {
		add_point(x, (uint32_t)g, s);
	}
	diag_release(&d);
}

static void expansion_free(struct expansion *x)
{
	size_t i;
	for (i = 0; i < x->ngroups; i++) {
		scenario_free(x->groups[i].s);
		free(x->groups[i].rest);
		free(x->groups[i].error);
		free(x->groups[i].config);
	}
	free(x->groups);
	free(x->points);
}

/* Every group (the cartesian product of the axes, the last axis fastest) and its points. */
static int expand(const struct sweep_spec *sp, struct expansion *x, struct sweep_counts *n,
		  struct diag *d)
{
	struct mark at = {sp->file, 0, 0};
	struct scenario_override *o = xcalloc(sp->naxes + 1, sizeof *o);
	size_t *idx = xcalloc(sp->naxes + 1, sizeof *idx);
	size_t total = 1, g, k;
	struct store_where *w;
	memset(x, 0, sizeof *x);
	x->counts = n;
	for (k = 0; k < sp->naxes; k++) {
		if (total * sp->axes[k].n > ((size_t)1 << 24)) {
			diag_add(d, at, NULL, "the axes multiply to more than %d groups", 1 << 24);
			free(o);
			free(idx);
			return -1;
		}
		total *= sp->axes[k].n;
	}
	if (sweep_where_open(sp, &w, d) != 0) {
		free(o);
		free(idx);
		return -1;
	}
	x->groups = xcalloc(total, sizeof *x->groups);
	x->ngroups = total;
	for (g = 0; g < total; g++) {
		size_t rest = g;
		for (k = sp->naxes; k-- > 0;) {
			idx[k] = rest % sp->axes[k].n;
			rest /= sp->axes[k].n;
			o[k].key = sp->axes[k].key;
			o[k].value = sp->axes[k].values[idx[k]];
		}
		load_group(sp, x, g, o, sp->naxes, w);
	}
	store_where_free(w);
	free(o);
	free(idx);
	return 0;
}

/* The 16 digits only: the byte after them marks a point only screened (store_hashes). */
static int cmp_hash(const void *a, const void *b)
{
	return strncmp((const char *)a, (const char *)b, 16);
}

/* Stored already, and settled for this sweep: a point only screened is done for a screening
 * sweep, and still to be simulated by a full one; a point simulated without the bands an
 * uncertainty sweep asks for (none, or other draws or seed) is redone by that sweep. A sweep
 * without uncertainty takes a point stored with bands as it is: its own figures are the same
 * run's. */
static bool skipped(const struct sweep_slice *sl, const char *hash)
{
	const char *e;
	if (sl->nskip == 0)
		return false;
	e = bsearch(hash, sl->skip, sl->nskip, sizeof sl->skip[0], cmp_hash);
	return e != NULL && (sl->analytic || e[16] != STORE_HASH_SCREENED) &&
	       (sl->uncertainty == 0 || e[16] != STORE_HASH_UNBANDED);
}

/* The global index i belongs to this slice: its shard, then its worker within the shard. */
static bool in_slice(const struct sweep_slice *sl, size_t i)
{
	size_t shards = sl->shards > 0 ? (size_t)sl->shards : 1;
	size_t workers = sl->workers > 0 ? (size_t)sl->workers : 1;
	if (i % shards != (size_t)sl->shard)
		return false;
	return (i / shards) % workers == (size_t)sl->worker;
}

/* The group's scenario with point i's strategy. */
static struct scenario point_scenario(const struct expansion *x, size_t i)
{
	struct scenario c = *x->groups[x->points[i].group].s;
	c.strategy = x->points[i].st;
	c.workload.micro_batch = x->points[i].micro_batch;
	c.workload.global_batch = x->points[i].global_batch;
	return c;
}

/* Point i's canonical config (caller frees) and hash, the group's part formatted once. */
static char *point_config(const struct expansion *x, size_t i, const struct scenario *c,
			  char hash[17])
{
	const struct group *g = &x->groups[x->points[i].group];
	char *config;
	if (g->rest == NULL) {
		config = canonical_format(c);
		store_hash(config, hash);
	} else {
		char *st = canonical_format_part(c, true);
		config = canonical_join(g->rest, st);
		store_hash_hex(store_hash_add(store_hash_add(g->hash, st, strlen(st)), "}", 1), hash);
		free(st);
	}
	return config;
}

/* Each point builds and frees a step graph and an engine of some MB. glibc gives the freed top
 * of the heap back to the kernel (trim threshold 128 KiB, or twice the last freed mmap), and the
 * next point faults every page in again: a sixth of a simulating sweep's time. Keep up to
 * 256 MiB of freed heap, and serve blocks up to 32 MiB (glibc's largest threshold) from it. */
static void keep_heap(void)
{
#if defined(__GLIBC__)
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
#endif
}

int sweep_run(const struct sweep_spec *sp, const struct sweep_slice *sl,
	      const struct sweep_callbacks *cb, struct sweep_counts *counts, struct diag *d)
{
	struct mark at = {sp->file, 0, 0};
	struct expansion x;
	size_t i, g, index = 0, mine = 0, skip = 0;
	unsigned char *todo;
	int status = 0;
	memset(counts, 0, sizeof *counts);
	gsl_set_error_handler_off();
	keep_heap();
	if (expand(sp, &x, counts, d) != 0)
		return -1;
	counts->groups = x.ngroups;
	sweep_skip_sort(counts);
	/* Points in order: a group that did not load is one (error) point where its strategies
	 * would be. Mark the slice's points that are not stored yet (a resumed sweep hashes
	 * each point's canonical form, which costs far less than evaluating it). */
	todo = xcalloc(x.ngroups + x.npoints + 1, 1);
	for (g = 0, i = 0; g < x.ngroups; g++) {
		char hash[17];
		if (x.groups[g].error != NULL) {
			counts->group_errors++;
			if (!in_slice(sl, index++))
				continue;
			store_hash(x.groups[g].config, hash);
			todo[index - 1] = !skipped(sl, hash);
			skip += !todo[index - 1];
			continue;
		}
		for (; i < x.npoints && x.points[i].group == g; i++) {
			if (!in_slice(sl, index++))
				continue;
			todo[index - 1] = 1;
			if (sl->nskip > 0) {
				struct scenario c = point_scenario(&x, i);
				free(point_config(&x, i, &c, hash));
				todo[index - 1] = !skipped(sl, hash);
			}
			skip += !todo[index - 1];
		}
	}
	for (i = 0; i < index; i++)
		mine += todo[i];
	counts->points = mine;
	counts->skipped = skip;
	if (cb->total)
		cb->total(cb->ctx, mine, skip);
	index = 0;
	/* count_only: the counts are the answer (sweep --yes's check). */
	for (g = 0, i = 0; g < x.ngroups && status == 0 && !sl->count_only; g++) {
		struct store_point p;
		if (x.groups[g].error != NULL) {
			if (!todo[index++])
				continue;
			memset(&p, 0, sizeof p);
			if (x.groups[g].s != NULL)
				fill_keys(x.groups[g].s, &p);
			p.status = STORE_ERROR;
			p.config = x.groups[g].config;
			store_hash(p.config, p.hash);
			copy_text(p.reason, sizeof p.reason, x.groups[g].error);
			if (cb->point(cb->ctx, &p) != 0)
				status = -1;
			counts->done++;
			continue;
		}
		for (; i < x.npoints && x.points[i].group == g && status == 0; i++) {
			struct scenario c;
			double t0;
			if (!todo[index++])
				continue;
			if (sl->stop && *sl->stop) {
				status = -1;
				diag_add(d, at, NULL, "interrupted");
				break;
			}
			c = point_scenario(&x, i);
			t0 = walltime_now();
			{
				char hash[17], *config = point_config(&x, i, &c, hash);
				const char *rest = x.groups[x.points[i].group].rest;
				evaluate(&c, sl, config, rest ? strlen(rest) : 0, hash, &p);
			}
			p.wall_s = walltime_now() - t0;
			if (cb->point(cb->ctx, &p) != 0)
				status = -1;
			store_point_release(&p);
			counts->done++;
		}
	}
	free(todo);
	expansion_free(&x);
	return status;
}
