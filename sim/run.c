/*
 * run: one scenario in, one result out (run.h). The only place that wires memory -> step ->
 * engine -> result and memory -> requests -> serve; every caller goes through run_scenario.
 */
#include "run.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

#include "forward.h"
#include "requests.h"

static void not_simulated(struct run_result *r, const char *why)
{
	r->outcome = RUN_NOT_SIMULATED;
	snprintf(r->reason, sizeof r->reason, "%s", why);
}

/* Why a stage refused, for the result's reason: its first diagnostic as diag_format prints
 * it, or only its message when it names neither a line nor a key (a stage's refusal, placed at
 * the scenario's file, which the result names already). */
static const char *first_reason(const struct diag *d, char *buf, size_t size)
{
	const struct diag_item *it = d->count > 0 ? &d->items[0] : NULL;
	if (it == NULL)
		snprintf(buf, size, "unknown");
	else if (it->at.line == 0 && it->key == NULL)
		snprintf(buf, size, "%s", it->message);
	else
		diag_format(it, buf, size);
	return buf;
}

/* Play one training step on the event engine. */
static void run_step(const struct scenario *s, const struct run_options *o, struct run_result *r)
{
	struct step_plan plan;
	struct engine *e;
	struct diag d;
	char why[256];
	diag_init(&d);
	if (step_build(s, &plan, &d) != 0) {
		not_simulated(r, first_reason(&d, why, sizeof why));
		diag_release(&d);
		return;
	}
	diag_release(&d);
	e = engine_new(plan.graph);
	engine_record_timeline(e, o->record_timeline);
	if (engine_run(e) != 0) {
		/* engine.h: ops left unstarted mean a bug in the engine, not bad input. */
		not_simulated(r, "the step did not complete");
		engine_free(e);
		step_plan_release(&plan);
		return;
	}
	result_build(s, &plan, e, &r->step);
	r->outcome = RUN_SIMULATED;
	if (o->keep_engine) {
		r->has_plan = true;
		r->plan = plan;
		r->engine = e;
		return;
	}
	engine_free(e);
	step_plan_release(&plan);
}

/* serve_run, with data-parallel attention (forward.h: ep > tp) as ep/tp ranks per replica, each
 * with its own KV cache, swap space and batch limits (SGLang runs a scheduler per DP rank):
 * the replica holds ep/tp of each. Disaggregated pools do this per pool (serve_pools.c). */
static int serve_replicas(const struct scenario *s, const struct memory_report *m,
			  const struct request_stream *rs, const struct serve_options *o,
			  struct serve_result *out, struct diag *d)
{
	int64_t adp = forward_attention_dp(s);
	struct scenario c = *s;
	struct memory_report cm;
	int status;
	if (serve_has_pools(s))
		return serve_run(s, m, rs, o, out, d);
	c.serving.max_num_seqs = memory_max_seqs(s, m);
	if (adp == 1) {
		status = serve_run(&c, m, rs, o, out, d);
	} else {
		cm = *m;
		c.serving.max_num_seqs *= adp;
		c.serving.max_batched_tokens *= adp;
		c.serving.swap_space *= (double)adp;
		cm.kv_budget *= (double)adp;
		status = serve_run(&c, &cm, rs, o, out, d);
	}
	out->max_num_seqs = c.serving.max_num_seqs / adp;
	return status;
}

/* Serve the scenario's own requests. -1 when they cannot be drawn (bad input, in d). */
static int run_serving(const struct scenario *s, const struct run_options *o,
		       struct run_result *r, struct diag *d)
{
	struct serve_options so = {o->keep_iterations};
	struct request_stream rs;
	struct diag sd;
	char why[200];
	if (requests_build(s, &rs, d) != 0)
		return -1;
	diag_init(&sd);
	if (serve_replicas(s, &r->memory, &rs, &so, &r->serve, &sd) != 0) {
		r->outcome = RUN_NOT_SIMULATED;
		snprintf(r->reason, sizeof r->reason, "requests not served: %s",
			 first_reason(&sd, why, sizeof why));
	} else {
		r->outcome = RUN_SIMULATED;
	}
	diag_release(&sd);
	requests_release(&rs);
	return 0;
}

/* One serving run at a Poisson (or, when the scenario says so, gamma) rate; 0 is every
 * request at time 0. -1 with the reason in d. */
static int serve_at(const struct scenario *s, const struct memory_report *m, double rate,
		    struct serve_result *r, struct diag *d)
{
	struct scenario c = *s;
	struct request_stream rs;
	int status;
	if (c.workload.arrival.process != ARRIVAL_GAMMA)
		c.workload.arrival.process = ARRIVAL_POISSON;
	c.workload.arrival.rate = rate;
	c.workload.duration = 0;
	if (requests_build(&c, &rs, d) != 0)
		return -1;
	serve_result_release(r);
	memset(r, 0, sizeof *r);
	status = serve_replicas(&c, m, &rs, NULL, r, d);
	requests_release(&rs);
	return status;
}

/* A search run failed: the run is not simulated, for the first reason in d. */
static void search_failed(struct run_result *r, struct serve_result *t, struct diag *d)
{
	char why[256];
	not_simulated(r, first_reason(d, why, sizeof why));
	serve_result_release(t);
	diag_release(d);
}

/*
 * Whether a run at `rate` requests/s keeps up with its arrivals: once the load has settled
 * (the steady window, serve.h) it makes at least 90 % of the output tokens that arrive. Above
 * the engine's capacity the queue grows and the steady output falls short of the offered one
 * while the latency targets of a short run may still pass. A run without a steady window gives
 * no evidence either way.
 */
static bool keeps_up(const struct serve_result *t, double rate)
{
	double mean_output;
	if (!t->steady.valid || t->finished == 0)
		return true;
	mean_output = t->output_tokens_per_s * t->duration / (double)t->finished;
	return t->steady.output_tokens_per_s >= 0.9 * rate * mean_output;
}

/*
 * The highest arrival rate that meets the targets, by bisection over simulated runs. The
 * engine's throughput with every request at time 0 opens the bracket; that run's average
 * counts its drain (a long-output load with few waves of requests drains for a large part of
 * it), so while the rate at the bracket's top still meets the targets and keeps up, the top
 * grows by half (at most 8 times). Above the capacity queues grow without end: a run that
 * does not keep up misses. Arrival streams at different rates share their lengths and scale
 * their gaps (requests.h), so meeting the targets is monotone in the rate up to simulation
 * noise. The result kept is the run at the rate found, or at the lowest rate tried when none
 * meets them.
 */
/* One run of the search at `rate`: whether it meets the targets and keeps up; a run that
 * meets them (or the first, `keep`) becomes the result. -1 when the run fails. */
static int try_rate(const struct scenario *s, const struct run_options *o, struct run_result *r,
		    const struct serve_slo *slo, double rate, bool keep, bool *ok,
		    struct diag *d)
{
	struct serve_result t;
	memset(&t, 0, sizeof t);
	if (serve_at(s, &r->memory, rate, &t, d) != 0) {
		search_failed(r, &t, d);
		return -1;
	}
	*ok = serve_meets(&t, slo) && keeps_up(&t, rate);
	if (o->progress != NULL)
		fprintf(o->progress, "rate %.4g/s: %s", rate, *ok ? "meets the targets\n"
								  : "misses\n");
	if (*ok || keep) {
		serve_result_release(&r->serve);
		r->serve = t;
	} else {
		serve_result_release(&t);
	}
	return 0;
}

static void find_max_rate(const struct scenario *s, const struct run_options *o,
			  struct run_result *r)
{
	struct serve_result t;
	struct serve_slo slo = *o->find_max_rate;
	struct diag d;
	double lo, hi, capacity, rate = 0;
	int runs = 0, i;
	bool ok;
	memset(&t, 0, sizeof t);
	diag_init(&d);
	if (serve_at(s, &r->memory, 0, &t, &d) != 0) {
		search_failed(r, &t, &d);
		return;
	}
	capacity = t.requests_per_s;
	serve_result_release(&t);
	runs++;
	hi = capacity;
	lo = capacity / 100;
	if (try_rate(s, o, r, &slo, lo, true, &ok, &d) != 0)
		return;
	runs++;
	if (ok) {
		rate = lo;
		/* Grow the bracket's top while it meets the targets and keeps up. */
		for (i = 0; i < 8; i++, runs++) {
			if (try_rate(s, o, r, &slo, hi, false, &ok, &d) != 0)
				return;
			if (!ok)
				break;
			lo = rate = hi;
			hi *= 1.5;
		}
		for (i = 0; i < 14; i++, runs++) {
			double x = (lo + hi) / 2;
			if (try_rate(s, o, r, &slo, x, false, &ok, &d) != 0)
				return;
			if (ok)
				lo = rate = x;
			else
				hi = x;
		}
	}
	diag_release(&d);
	r->outcome = RUN_SIMULATED;
	r->serve.searched = true;
	r->serve.found_rate = rate;
	r->serve.capacity_rate = capacity;
	r->serve.search_runs = runs;
	r->serve.slo = slo;
}

/* The first figure of a result that is not finite, or NULL: every printed number must be. */
static const char *not_finite(const struct run_result *r)
{
	const struct result *t = &r->step;
	const struct serve_result *v = &r->serve;
	size_t i;
	for (i = 0; i < r->memory.nroles; i++)
		if (!isfinite(r->memory.roles[i].total))
			return "the memory per GPU";
	if (!isfinite(r->memory.headroom) || !isfinite(r->memory.max_kv_tokens))
		return "the memory per GPU";
	if (r->outcome != RUN_SIMULATED)
		return NULL;
	if (r->mode == MODE_TRAIN && (!isfinite(t->step_s) || !isfinite(t->tokens_per_s) ||
				      !isfinite(t->mfu) || !isfinite(t->hfu) ||
				      !isfinite(t->peak_per_gpu)))
		return "the step time";
	if (r->mode == MODE_INFER &&
	    (!isfinite(v->duration) || !isfinite(v->output_tokens_per_s) ||
	     !isfinite(v->ttft.mean) || !isfinite(v->tpot.mean) || !isfinite(v->latency.mean)))
		return "the serving figures";
	return NULL;
}

/* A run whose figures are not finite is bad input: name the keys that make it so, those far
 * outside the shipped presets (scenario_implausible), or else the scenario. */
static int refuse_not_finite(const struct scenario *s, const char *what, struct diag *d)
{
	struct diag w;
	size_t i;
	diag_init(&w);
	if (scenario_implausible(s, &w) == 0) {
		struct mark at = {s->file, 0, 0};
		diag_add(d, at, NULL, "%s is not a finite number: a value of the scenario is out of "
			 "any real range", what);
	}
	for (i = 0; i < w.count; i++)
		diag_add(d, w.items[i].at, w.items[i].key, "%s is not a finite number with this "
			 "value: %s", what, w.items[i].message);
	diag_release(&w);
	return -1;
}

static int simulate(const struct scenario *s, const struct run_options *o, struct run_result *out,
		    struct diag *d);

/* The cost of the run: the whole cluster's nodes are rented (instances are billed whole); the
 * rate is the tokens trained per second, or the output tokens served per second. */
static void price_run(const struct scenario *s, const struct run_options *o, struct run_result *out)
{
	double rate = 0;
	if (out->outcome == RUN_SIMULATED)
		rate = out->mode == MODE_TRAIN ? out->step.tokens_per_s
					       : out->serve.output_tokens_per_s;
	cost_build(s->cluster.node.price * (double)s->cluster.nodes, rate, o->tokens, &out->cost);
}

int run_scenario(const struct scenario *s, const struct run_options *o, struct run_result *out,
		 struct diag *d)
{
	static const struct run_options defaults;
	const char *bad;
	int status;
	if (o == NULL)
		o = &defaults;
	status = simulate(s, o, out, d);
	if (status == 0 && (bad = not_finite(out)) != NULL)
		return refuse_not_finite(s, bad, d);
	if (status == 0)
		price_run(s, o, out);
	return status;
}

/*
 * A serving run holds every request while it plays: a million requests of the shipped serving
 * scenarios took 235 MB (Llama 3 8B with a draft), 302 MB (Llama 3 70B) and 508 MB
 * (DeepSeek-V3's disaggregated pools) at their peak, so 512 bytes a request bounds it.
 */
enum { BYTES_PER_REQUEST = 512 };

bool run_requests_fit(const struct scenario *s, double *need, double *have)
{
	const struct workload *w = &s->workload;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	double n = (double)w->requests * BYTES_PER_REQUEST, h = (double)pages * (double)page;
	if (need != NULL)
		*need = n;
	if (have != NULL)
		*have = h;
	return w->mode != MODE_INFER || w->arrival.process == ARRIVAL_TRACE || pages <= 0 ||
	       page <= 0 || n <= h;
}

static int simulate(const struct scenario *s, const struct run_options *o, struct run_result *out,
		    struct diag *d)
{
	double need, have;
	memset(out, 0, sizeof *out);
	out->mode = (enum mode)s->workload.mode;
	out->outcome = RUN_NOT_SIMULATED;
	if (o->step_only && s->workload.mode == MODE_TRAIN) {
		out->memory.fits = true;   /* not judged here: the caller screened it */
		run_step(s, o, out);
		return 0;
	}
	if (memory_build(s, &out->memory) != 0) {
		struct mark at = {s->file, 0, 0};
		diag_add(d, at, NULL, "%s", out->memory.advice);
		return -2;
	}
	if (o->analytic)
		return 0;
	/* Refused rather than killed by the kernel part-way, in a sweep or a plan as on its own. */
	if (!run_requests_fit(s, &need, &have)) {
		diag_add(d, scenario_mark(s, "workload.requests"), "workload.requests",
			 "%lld requests need about %.1f GB of memory to simulate, more than this "
			 "machine's %.1f GB: serve fewer", (long long)s->workload.requests, need / 1e9,
			 have / 1e9);
		return -1;
	}
	if (s->workload.mode == MODE_TRAIN) {
		/* A training step is simulated whether or not it fits: the simulated peak is the
		 * cross-check of the analytic one. */
		run_step(s, o, out);
		return 0;
	}
	/* Disaggregated pools fit by their own parallelism (serve_pools checks each). */
	if (!out->memory.fits && !serve_has_pools(s)) {
		not_simulated(out, "requests not served: the model does not fit");
		return 0;
	}
	if (o->find_max_rate != NULL) {
		find_max_rate(s, o, out);
		return 0;
	}
	return run_serving(s, o, out, d);
}

void run_result_release(struct run_result *r)
{
	if (r->has_plan) {
		engine_free(r->engine);
		step_plan_release(&r->plan);
		r->has_plan = false;
		r->engine = NULL;
	}
	serve_result_release(&r->serve);
	memory_report_release(&r->memory);
}

bool run_is_negative(const struct run_result *r)
{
	if (!r->memory.fits)
		return true;
	if (r->mode == MODE_TRAIN && r->outcome == RUN_SIMULATED && r->step.oom)
		return true;
	return r->serve.searched && r->serve.found_rate <= 0;
}
