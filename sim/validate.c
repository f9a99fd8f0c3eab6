/*
 * validate: published cases through the pipeline. Output stage.
 * Narayanan et al. 2021, eq. 3: F = 96*B*s*l*h^2*(1 + s/(6h) + V/(16*l*h)) FLOPs per iteration
 * for a GPT model with activation recomputation; their Table 1 reports F / (time * GPUs).
 */
#include "validate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "xalloc.h"
#include "yamltree.h"

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

static int run_case(const struct ynode *c, const char *path, const struct scenario_options *opt,
		    struct validate_row *row, struct diag *d)
{
	const struct ynode *name = yamltree_get(c, "name"), *metric = yamltree_get(c, "metric");
	const struct ynode *scen = yamltree_get(c, "scenario");
	struct scenario *s;
	struct run_result r;
	struct run_options o = {.step_only = true};
	if (c->kind != YNODE_MAP || name == NULL || metric == NULL || scen == NULL ||
	    name->kind != YNODE_SCALAR || metric->kind != YNODE_SCALAR ||
	    !number(yamltree_get(c, "published"), &row->published) ||
	    !number(yamltree_get(c, "tolerance"), &row->tolerance)) {
		diag_add(d, c->at, "cases", "a case needs name, metric, published, tolerance and "
					    "scenario");
		return -1;
	}
	if (strcmp(metric->value, "tflops_eq3") != 0 && strcmp(metric->value, "step_s") != 0) {
		diag_add(d, metric->at, "metric", "expected tflops_eq3 or step_s, got '%s'",
			 metric->value);
		return -1;
	}
	row->name = xstrdup(name->value);
	row->metric = xstrdup(metric->value);
	s = scenario_load_tree(scen, path, opt, d);
	if (s == NULL)
		return -1;
	if (s->workload.mode != MODE_TRAIN) {
		diag_add(d, scen->at, "scenario", "a validation case is a training scenario");
		scenario_free(s);
		return -1;
	}
	if (run_scenario(s, &o, &r, d) != 0 || r.outcome != RUN_SIMULATED) {
		if (r.outcome != RUN_SIMULATED && r.reason[0])
			diag_add(d, scen->at, "scenario", "%s", r.reason);
		run_result_release(&r);
		scenario_free(s);
		return -1;
	}
	row->simulated = strcmp(row->metric, "step_s") == 0 ? r.step.step_s
							     : eq3_tflops(s, r.step.step_s);
	run_result_release(&r);
	row->error = row->simulated / row->published - 1;
	row->ok = fabs(row->error) <= row->tolerance;
	scenario_free(s);
	return 0;
}

int validate_run(const char *path, const struct scenario_options *opt, struct validate_report *r,
		 struct diag *d)
{
	struct arena *a = arena_new();
	const struct ynode *root = yamltree_load(a, path, d), *cases;
	size_t i, before = d->count;
	memset(r, 0, sizeof *r);
	if (root == NULL) {
		arena_free(a);
		return -1;
	}
	cases = yamltree_get(root, "cases");
	if (cases == NULL || cases->kind != YNODE_SEQ) {
		struct mark at = {path, 1, 1};
		diag_add(d, cases ? cases->at : at, "cases", "expected a list of cases");
		arena_free(a);
		return -1;
	}
	r->rows = xcalloc(cases->count ? cases->count : 1, sizeof *r->rows);
	for (i = 0; i < cases->count; i++) {
		if (run_case(cases->items[i], path, opt, &r->rows[r->count], d) != 0) {
			/* A case that did not run keeps no row (nor its names). */
			free(r->rows[r->count].name);
			free(r->rows[r->count].metric);
			memset(&r->rows[r->count], 0, sizeof r->rows[r->count]);
			continue;
		}
		r->failed += !r->rows[r->count].ok;
		r->count++;
	}
	arena_free(a);
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
	return strcmp(metric, "step_s") == 0 ? "s" : "TFLOP/s";
}

void validate_print(FILE *out, const struct validate_report *r)
{
	size_t i;
	fprintf(out, "%-70s %12s %14s %8s %4s\n", "published run", "published", "dssim", "error",
		"");
	for (i = 0; i < r->count; i++) {
		const struct validate_row *w = &r->rows[i];
		char pub[32], sim[32];
		snprintf(pub, sizeof pub, "%.4g %s", w->published, unit_of(w->metric));
		snprintf(sim, sizeof sim, "%.4g %s", w->simulated, unit_of(w->metric));
		fprintf(out, "%-70s %12s %14s %+7.1f%% %4s\n", w->name, pub, sim, 100 * w->error,
			w->ok ? "ok" : "OUT");
	}
	fprintf(out, "\n%zu of %zu within tolerance\n", r->count - r->failed, r->count);
}

void validate_json(FILE *out, const struct validate_report *r)
{
	size_t i;
	fputs("{\"cases\": [\n", out);
	for (i = 0; i < r->count; i++) {
		const struct validate_row *w = &r->rows[i];
		fprintf(out, "  {\"name\": \"%s\", \"metric\": \"%s\", \"published\": %.17g, "
			     "\"dssim\": %.17g, \"error\": %.17g, \"tolerance\": %.17g, \"ok\": %s}%s\n",
			w->name, w->metric, w->published, w->simulated, w->error, w->tolerance,
			w->ok ? "true" : "false", i + 1 < r->count ? "," : "");
	}
	fprintf(out, "], \"within_tolerance\": %zu, \"total\": %zu}\n", r->count - r->failed,
		r->count);
}
