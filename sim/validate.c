/*
 * validate: published cases through the pipeline. Output stage.
 * Narayanan et al. 2021, eq. 3: F = 96*B*s*l*h^2*(1 + s/(6h) + V/(16*l*h)) FLOPs per iteration
 * for a GPT model with activation recomputation; their Table 1 reports F / (time * GPUs).
 */
#include "validate.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "preset.h"
#include "run.h"
#include "units.h"
#include "xalloc.h"
#include "yamltree.h"

const char *const validate_metric_names[] = {
	"tflops_eq3", "tflops_model", "step_s", "tokens_per_s", "tokens_per_s_per_gpu", "ttft_s",
	"tpot_s", "output_tokens_per_s", "ttft_p50_s", "tpot_p50_s", "latency_p50_s",
	"output_tokens_per_s_per_node", "input_tokens_per_s_per_node", NULL,
};

static double eq3_tflops(const struct scenario *s, double step_s)
{
	double B = (double)s->workload.global_batch, sq = (double)s->workload.seq_len;
	double l = (double)s->model.layers, h = (double)s->model.hidden;
	double V = (double)s->model.vocab;
	double F = 96 * B * sq * l * h * h * (1 + sq / (6 * h) + V / (16 * l * h));
	return F / step_s / (double)s->cluster.gpus / 1e12;
}

static bool number(const struct ynode *n, double *out)
{
	char *end;
	if (n == NULL || n->kind != YNODE_SCALAR)
		return false;
	*out = strtod(n->value, &end);
	return end != n->value && *end == '\0' && isfinite(*out);
}

static bool is_serving_metric(const char *m)
{
	return strcmp(m, "ttft_s") == 0 || strcmp(m, "tpot_s") == 0 ||
	       strcmp(m, "output_tokens_per_s") == 0 || strcmp(m, "ttft_p50_s") == 0 ||
	       strcmp(m, "tpot_p50_s") == 0 || strcmp(m, "latency_p50_s") == 0 ||
	       strcmp(m, "output_tokens_per_s_per_node") == 0 ||
	       strcmp(m, "input_tokens_per_s_per_node") == 0;
}

/* The steady rate per node of the GPUs that run the phase (the pool's with serving.pools,
 * else every GPU's), as DeepSeek's inference overview gives its 73.7k input tokens/s per
 * prefill node and 14.8k output tokens/s per decode node: NaN when the run never settles. */
static double per_node(const struct scenario *s, const struct run_result *r, int phase)
{
	const struct serve_result *v = &r->serve;
	double gpus = (double)s->cluster.gpus, rate;
	if (!v->steady.valid)
		return NAN;
	rate = phase == SERVE_DECODE ? v->steady.output_tokens_per_s
				     : v->steady.input_tokens_per_s;
	if (v->disaggregated)
		gpus = (double)v->pool[phase].gpus;
	return rate / (gpus / (double)s->cluster.node.gpus_per_node);
}

/* Flatten `set` into overrides: nested mappings become dotted keys, anything else is a value. */
static void flatten(struct arena *a, const struct ynode *n, const char *prefix,
		    struct validate_case *c)
{
	size_t i;
	if (n->kind == YNODE_MAP) {
		for (i = 0; i < n->count; i++)
			flatten(a, n->members[i].value,
				prefix ? arena_printf(a, "%s.%s", prefix, n->members[i].key)
				       : n->members[i].key, c);
		return;
	}
	if (prefix == NULL || n->kind != YNODE_SCALAR)
		return;
	c->set = xreallocarray(c->set, c->nset + 1, sizeof *c->set);
	c->set[c->nset].key = prefix;
	c->set[c->nset].value = n->value;
	c->nset++;
}

static int read_case(struct arena *a, const struct ynode *n, const char *path,
		     struct validate_case *c, struct diag *d)
{
	const struct ynode *name = yamltree_get(n, "name"), *metric = yamltree_get(n, "metric");
	const struct ynode *source = yamltree_get(n, "source"), *set = yamltree_get(n, "set");
	const struct ynode *scen = yamltree_get(n, "scenario");
	size_t k;
	memset(c, 0, sizeof *c);
	c->at = n->at;
	if (n->kind != YNODE_MAP || name == NULL || metric == NULL || scen == NULL ||
	    name->kind != YNODE_SCALAR || metric->kind != YNODE_SCALAR ||
	    !number(yamltree_get(n, "published"), &c->published)) {
		diag_add(d, n->at, "cases", "a case needs name, metric, published, tolerance and "
					    "scenario");
		return -1;
	}
	c->has_tolerance = number(yamltree_get(n, "tolerance"), &c->tolerance);
	if (yamltree_get(n, "tolerance") != NULL && !c->has_tolerance) {
		diag_add(d, yamltree_get(n, "tolerance")->at, "tolerance", "expected a number");
		return -1;
	}
	if (yamltree_get(n, "bound") != NULL) {
		const struct ynode *b = yamltree_get(n, "bound");
		if (b->kind != YNODE_SCALAR || strcmp(b->value, "lower") != 0) {
			diag_add(d, b->at, "bound", "expected lower (the published figure is a "
				 "floor: \"more than\", \"exceeding\")");
			return -1;
		}
		c->lower_bound = true;
	}
	for (k = 0; validate_metric_names[k] && strcmp(validate_metric_names[k], metric->value); k++)
		;
	if (validate_metric_names[k] == NULL) {
		diag_add(d, metric->at, "metric", "expected tflops_eq3, tflops_model, step_s, "
			 "tokens_per_s, tokens_per_s_per_gpu, ttft_s, tpot_s, output_tokens_per_s, "
			 "ttft_p50_s, tpot_p50_s, latency_p50_s, output_tokens_per_s_per_node or "
			 "input_tokens_per_s_per_node, got '%s'", metric->value);
		return -1;
	}
	if (!(c->published > 0)) {
		diag_add(d, yamltree_get(n, "published")->at, "published", "expected a positive "
			 "number");
		return -1;
	}
	if (source != NULL && source->kind != YNODE_SCALAR) {
		diag_add(d, source->at, "source", "expected text");
		return -1;
	}
	if (set != NULL && set->kind != YNODE_MAP && !yamltree_is_null(set)) {
		diag_add(d, set->at, "set", "expected a mapping of keys to values");
		return -1;
	}
	if (scen->kind == YNODE_SCALAR && scen->value[0] != '\0') {
		c->file = scen->value[0] == '/' ? scen->value
						: arena_printf(a, "%s/%s", preset_dir_of(a, path),
							       scen->value);
	} else if (scen->kind == YNODE_MAP) {
		c->scenario = scen;
		c->file = path;
	} else {
		diag_add(d, scen->at, "scenario", "expected a mapping or the path of a scenario");
		return -1;
	}
	c->name = name->value;
	c->metric = validate_metric_names[k];
	c->source = source ? source->value : "";
	if (set != NULL && set->kind == YNODE_MAP)
		flatten(a, set, NULL, c);
	return 0;
}

int validate_cases_load(const char *path, struct validate_cases *out, struct diag *d)
{
	const struct ynode *root, *cases;
	size_t i, before = d->count;
	memset(out, 0, sizeof *out);
	out->arena = arena_new();
	root = yamltree_load(out->arena, path, d);
	if (root == NULL)
		return -1;
	cases = yamltree_get(root, "cases");
	if (cases == NULL || cases->kind != YNODE_SEQ) {
		struct mark at = {path, 1, 1};
		diag_add(d, cases ? cases->at : at, "cases", "expected a list of cases");
		return -1;
	}
	out->items = xcalloc(cases->count ? cases->count : 1, sizeof *out->items);
	for (i = 0; i < cases->count; i++) {
		struct validate_case *c = &out->items[out->count];
		if (read_case(out->arena, cases->items[i], path, c, d) != 0) {
			free(c->set);
			memset(c, 0, sizeof *c);
			continue;
		}
		out->count++;
	}
	return d->count > before ? -1 : 0;
}

void validate_cases_release(struct validate_cases *c)
{
	size_t i;
	for (i = 0; i < c->count; i++)
		free(c->items[i].set);
	free(c->items);
	arena_free(c->arena);
	memset(c, 0, sizeof *c);
}

static double metric_of(const char *metric, const struct scenario *s, const struct run_result *r)
{
	if (strcmp(metric, "step_s") == 0)
		return r->step.step_s;
	if (strcmp(metric, "tokens_per_s") == 0)
		return r->step.tokens_per_s;
	/* NeMo and Megatron-Bridge publish "Tokens / sec / GPU": the cluster's tokens per second
	 * over every GPU of the run (NVIDIA/NeMo docs/source/performance/performance_summary.md). */
	if (strcmp(metric, "tokens_per_s_per_gpu") == 0)
		return r->step.tokens_per_s / (double)s->cluster.gpus;
	if (strcmp(metric, "tflops_eq3") == 0)
		return eq3_tflops(s, r->step.step_s);
	/* dssim's own model FLOPs per second per GPU (step_count_flops: 6 FLOPs per active
	 * parameter and token, attention as the kernel computes it, no recompute), the numerator
	 * of its MFU: for sources that publish model TFLOP/s or MFU without their formula. */
	if (strcmp(metric, "tflops_model") == 0)
		return r->step.tflops_per_gpu;
	if (strcmp(metric, "ttft_s") == 0)
		return r->serve.ttft.mean;
	if (strcmp(metric, "tpot_s") == 0)
		return r->serve.tpot.mean;
	/* Medians, as vLLM's and SGLang's serving benchmarks print them ("Median TTFT (ms)"). */
	if (strcmp(metric, "ttft_p50_s") == 0)
		return r->serve.ttft.p50;
	if (strcmp(metric, "tpot_p50_s") == 0)
		return r->serve.tpot.p50;
	if (strcmp(metric, "latency_p50_s") == 0)
		return r->serve.latency.p50;
	if (strcmp(metric, "output_tokens_per_s_per_node") == 0)
		return per_node(s, r, SERVE_DECODE);
	if (strcmp(metric, "input_tokens_per_s_per_node") == 0)
		return per_node(s, r, SERVE_PREFILL);
	return r->serve.output_tokens_per_s;
}

struct validate_cache {
	char **keys;               /* open addressing: NULL slots are free */
	double *values;
	size_t n, cap;
};

struct validate_cache *validate_cache_new(void)
{
	struct validate_cache *c = xcalloc(1, sizeof *c);
	c->cap = 64;
	c->keys = xcalloc(c->cap, sizeof *c->keys);
	c->values = xcalloc(c->cap, sizeof *c->values);
	return c;
}

void validate_cache_free(struct validate_cache *c)
{
	size_t i;
	if (c == NULL)
		return;
	for (i = 0; i < c->cap; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->values);
	free(c);
}

size_t validate_cache_size(const struct validate_cache *c)
{
	return c->n;
}

/* FNV-1a over the key's bytes. */
static size_t cache_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 1099511628211ULL;
	return (size_t)h;
}

static size_t cache_slot(const struct validate_cache *c, const char *k)
{
	size_t i = cache_hash(k) & (c->cap - 1);
	while (c->keys[i] != NULL && strcmp(c->keys[i], k) != 0)
		i = (i + 1) & (c->cap - 1);
	return i;
}

static void cache_put(struct validate_cache *c, char *k, double v)
{
	size_t i;
	if (2 * (c->n + 1) > c->cap) {
		struct validate_cache big = {NULL, NULL, 0, 2 * c->cap};
		big.keys = xcalloc(big.cap, sizeof *big.keys);
		big.values = xcalloc(big.cap, sizeof *big.values);
		for (i = 0; i < c->cap; i++)
			if (c->keys[i] != NULL) {
				size_t j = cache_slot(&big, c->keys[i]);
				big.keys[j] = c->keys[i];
				big.values[j] = c->values[i];
			}
		free(c->keys);
		free(c->values);
		c->keys = big.keys;
		c->values = big.values;
		c->cap = big.cap;
	}
	i = cache_slot(c, k);
	if (c->keys[i] != NULL) {
		free(k);
		return;
	}
	c->keys[i] = k;
	c->values[i] = v;
	c->n++;
}

/* The case's key: its metric and the canonical form of the scenario it loads. */
static char *cache_key(const struct validate_case *c, const struct scenario *s)
{
	char *canon = canonical_format(s), *k;
	size_t n = strlen(c->metric) + strlen(canon) + 2;
	k = xmalloc(n);
	snprintf(k, n, "%s\n%s", c->metric, canon);
	free(canon);
	return k;
}

static int case_run(const struct validate_case *c, const struct scenario_options *opt,
		    struct validate_cache *cache, double *value, struct validate_memory *mem,
		    struct diag *d);

int validate_case_run(const struct validate_case *c, const struct scenario_options *opt,
		      double *value, struct diag *d)
{
	return case_run(c, opt, NULL, value, NULL, d);
}

int validate_case_run_memory(const struct validate_case *c, const struct scenario_options *opt,
			     double *value, struct validate_memory *mem, struct diag *d)
{
	return case_run(c, opt, NULL, value, mem, d);
}

int validate_case_run_cached(const struct validate_case *c, const struct scenario_options *opt,
			     struct validate_cache *cache, double *value, struct diag *d)
{
	return case_run(c, opt, cache, value, NULL, d);
}

/* The cache keeps values only: mem is filled when the case is simulated, so a caller asking
 * for it runs without a cache. */
static int case_run(const struct validate_case *c, const struct scenario_options *opt,
		    struct validate_cache *cache, double *value, struct validate_memory *mem,
		    struct diag *d)
{
	char *key = NULL;
	struct scenario_options o = opt ? *opt : (struct scenario_options){0};
	struct scenario_override *all;
	struct scenario *s;
	struct run_result r;
	/* Only the time unless the memory is asked for (the analytic breakdown judges the fit). */
	struct run_options ro = {.step_only = mem == NULL};
	struct mark at = c->scenario ? c->scenario->at : c->at;
	size_t n = c->nset + (opt ? opt->noverrides : 0);
	bool serving = is_serving_metric(c->metric);
	int status = -1;
	all = xcalloc(n ? n : 1, sizeof *all);
	if (c->nset)
		memcpy(all, c->set, c->nset * sizeof *all);
	if (opt && opt->noverrides)
		memcpy(all + c->nset, opt->overrides, opt->noverrides * sizeof *all);
	o.overrides = all;
	o.noverrides = n;
	s = c->scenario ? scenario_load_tree(c->scenario, c->file, &o, d)
			: scenario_load(c->file, &o, d);
	free(all);
	if (s == NULL)
		return -1;
	if (s->workload.mode != (serving ? MODE_INFER : MODE_TRAIN)) {
		diag_add(d, at, "scenario", serving ? "a serving metric needs an inference scenario"
						    : "a validation case is a training scenario");
		scenario_free(s);
		return -1;
	}
	if (cache != NULL) {
		size_t i;
		key = cache_key(c, s);
		i = cache_slot(cache, key);
		if (cache->keys[i] != NULL) {
			*value = cache->values[i];
			free(key);
			scenario_free(s);
			return 0;
		}
	}
	if (run_scenario(s, &ro, &r, d) != 0 || r.outcome != RUN_SIMULATED) {
		if (r.outcome != RUN_SIMULATED && r.reason[0])
			diag_add(d, at, "scenario", "%s", r.reason);
	} else {
		*value = metric_of(c->metric, s, &r);
		/* A serving run that was simulated fit (disaggregated pools by their own
		 * parallelism, whatever the whole scenario's breakdown says). */
		if (mem != NULL)
			*mem = (struct validate_memory){r.memory.fits || serving,
							r.memory.capacity - r.memory.headroom,
							r.memory.capacity};
		status = isfinite(*value) && *value > 0 ? 0 : -1;
		if (status != 0 && strstr(c->metric, "_per_node") != NULL && !r.serve.steady.valid)
			diag_add(d, at, "scenario", "%s is a steady rate, and the run never settles: "
				 "its arrivals end before one median latency has passed (more "
				 "requests or a lower rate)", c->metric);
		else if (status != 0)
			diag_add(d, at, "scenario", "the simulated %s is not a positive number",
				 c->metric);
	}
	run_result_release(&r);
	scenario_free(s);
	if (status == 0 && key != NULL)
		cache_put(cache, key, *value);
	else
		free(key);
	return status;
}

int validate_run(const char *path, const struct scenario_options *opt, struct validate_report *r,
		 struct diag *d)
{
	struct validate_cases cs;
	size_t i, before = d->count;
	memset(r, 0, sizeof *r);
	validate_cases_load(path, &cs, d);
	r->rows = xcalloc(cs.count ? cs.count : 1, sizeof *r->rows);
	for (i = 0; i < cs.count; i++) {
		const struct validate_case *c = &cs.items[i];
		struct validate_row *w = &r->rows[r->count];
		if (!c->has_tolerance) {
			diag_add(d, c->at, "cases", "a case needs name, metric, published, tolerance "
						    "and scenario");
			continue;
		}
		if (validate_case_run_memory(c, opt, &w->simulated, &w->memory, d) != 0)
			continue;   /* a case that did not run keeps no row */
		w->name = xstrdup(c->name);
		w->metric = xstrdup(c->metric);
		w->published = c->published;
		w->tolerance = c->tolerance;
		w->error = w->simulated / w->published - 1;
		w->lower_bound = c->lower_bound;
		w->ok = fabs(validate_miss(w->lower_bound, w->simulated, w->published)) <=
			w->tolerance;
		r->failed += !w->ok;
		r->count++;
	}
	validate_cases_release(&cs);
	return d->count > before ? -1 : 0;
}

void validate_report_release(struct validate_report *r)
{
	size_t i;
	for (i = 0; i < r->count; i++) {
		free(r->rows[i].name);
		free(r->rows[i].metric);
	}
	free(r->rows);
	memset(r, 0, sizeof *r);
}

static const char *unit_of(const char *metric)
{
	if (strcmp(metric, "tflops_eq3") == 0 || strcmp(metric, "tflops_model") == 0)
		return "TFLOP/s";
	if (strcmp(metric, "tokens_per_s") == 0 || strcmp(metric, "output_tokens_per_s") == 0)
		return "tok/s";
	if (strcmp(metric, "tokens_per_s_per_gpu") == 0)
		return "tok/s/GPU";
	if (strstr(metric, "_per_node") != NULL)
		return "tok/s/node";
	return "s";
}

void validate_print(FILE *out, const struct validate_report *r)
{
	size_t i;
	fprintf(out, "%-70s %19s %17s %8s %4s\n", "published run", "published", "dssim", "error",
		"");
	for (i = 0; i < r->count; i++) {
		const struct validate_row *w = &r->rows[i];
		char pub[32], sim[32];
		/* Five digits, and every digit of a whole number up to a million (no 1e+05). */
		snprintf(pub, sizeof pub, w->published >= 1e4 ? "%s%.0f %s" : "%s%.5g %s",
			 w->lower_bound ? "> " : "", w->published, unit_of(w->metric));
		snprintf(sim, sizeof sim, w->simulated >= 1e4 ? "%.0f %s" : "%.5g %s", w->simulated,
			 unit_of(w->metric));
		fprintf(out, "%-70s %19s %17s %+7.1f%% %4s", w->name, pub, sim, 100 * w->error,
			w->ok ? "ok" : "OUT");
		if (!w->memory.fits)
			fprintf(out, "  does not fit: %.2f of %.2f GiB", w->memory.need / UNITS_GIB,
				w->memory.capacity / UNITS_GIB);
		fputc('\n', out);
	}
	fprintf(out, "\n%zu of %zu within tolerance\n", r->count - r->failed, r->count);
	if (r->count > 0) {
		struct validate_summary m;
		validate_summarize(r, &m);
		fprintf(out, "mean |error| %.1f%%, signed mean %+.1f%%, largest |error| %.1f%%\n",
			100 * m.mean_abs, 100 * m.mean_signed, 100 * m.max_abs);
		/* The published runs ran: one that dssim's memory model refuses is its error too. */
		if (m.misfits > 0)
			fprintf(out, "%zu of %zu do not fit in device memory as dssim counts it, "
				"though the published runs ran\n", m.misfits, r->count);
	}
}

double validate_miss(bool lower_bound, double simulated, double published)
{
	double e = simulated / published - 1;
	return lower_bound && e > 0 ? 0 : e;
}

void validate_summarize(const struct validate_report *r, struct validate_summary *out)
{
	size_t i;
	memset(out, 0, sizeof *out);
	for (i = 0; i < r->count; i++) {
		double e = validate_miss(r->rows[i].lower_bound, r->rows[i].simulated,
					 r->rows[i].published);
		out->mean_abs += fabs(e);
		out->mean_signed += e;
		if (fabs(e) > out->max_abs)
			out->max_abs = fabs(e);
		out->misfits += !r->rows[i].memory.fits;
	}
	if (r->count > 0) {
		out->mean_abs /= (double)r->count;
		out->mean_signed /= (double)r->count;
	}
	out->outside = r->failed;
}

void validate_json(FILE *out, const struct validate_report *r)
{
	size_t i;
	fputs("{\"cases\": [\n", out);
	for (i = 0; i < r->count; i++) {
		const struct validate_row *w = &r->rows[i];
		fprintf(out, "  {\"name\": \"%s\", \"metric\": \"%s\", \"published\": %.17g, "
			     "\"dssim\": %.17g, \"error\": %.17g, \"tolerance\": %.17g, \"bound\": %s, "
			     "\"ok\": %s, \"fits\": %s, \"memory_bytes\": %.17g, "
			     "\"capacity_bytes\": %.17g}%s\n",
			w->name, w->metric, w->published, w->simulated, w->error, w->tolerance,
			w->lower_bound ? "\"lower\"" : "null",
			w->ok ? "true" : "false", w->memory.fits ? "true" : "false", w->memory.need,
			w->memory.capacity, i + 1 < r->count ? "," : "");
	}
	fprintf(out, "], \"within_tolerance\": %zu, \"total\": %zu}\n", r->count - r->failed,
		r->count);
}
