/*
 * calibrate: the fit of scenario keys to published runs, and draws from its covariance. Output
 * stage. The fit minimises sum_i (simulated_i / published_i - 1)^2 with GSL's trust-region
 * nonlinear least squares (gsl_multifit_nlinear, Levenberg-Marquardt steps, Jacobian by central
 * differences: fd_step below); its covariance is (J^T J)^-1 scaled by the residual variance
 * chisq / (n - p) (GSL manual, "Nonlinear Least-Squares Fitting", Covariance matrix of best fit
 * parameters).
 */
#include "calibrate.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_vector.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "json.h"
#include "run.h"
#include "schema.h"
#include "walltime.h"
#include "xalloc.h"

/* The GEMM curves (16-bit and FP8: the A100 and H100 rows each pin one down) and the memory
 * bandwidth. Link efficiencies are caps on the measured bus bandwidth curves now
 * (collective.c), which a fit can hardly move. */
const char *const calibrate_default_keys[] = {
	"cluster.node.gpu.efficiency.gemm_fraction",
	"cluster.node.gpu.efficiency.fp8_gemm_fraction",
	"cluster.node.gpu.efficiency.memory",
	NULL,
};

struct fit_ctx {
	const struct validate_cases *cases;
	const char *const *keys;
	const struct schema_row **rows;
	size_t np;
	const struct scenario_options *opt;
	struct diag *d;
	bool failed;               /* a case did not run: its diagnostics are in d */
	struct validate_cache *cache;   /* cases simulated already (validate.h) */
	struct calibration cal;    /* the parameters as a calibration every case applies */
};

/* The value a key is simulated at: v held inside the key's range (a list's scale, a size or a
 * bandwidth just above 0). Beyond a range's end the cost is flat, so a key the cases push past
 * it stays there and the others fit on; calibrate_run reports it at its end. */
static double held(const struct schema_row *r, double v)
{
	bool positive = r->positive || r->type == SCHEMA_NUMLIST;
	double lo = r->type == SCHEMA_NUMLIST ? 0 : r->min;
	double hi = r->type == SCHEMA_NUMLIST ? HUGE_VAL : r->max;
	if (positive && lo <= 0)
		lo = DBL_MIN;
	return v < lo ? lo : v > hi ? hi : v;
}

/* The parameters of a fit as the calibration the cases apply (calibration_given), so a fit
 * sees the keys exactly as a scenario applying its file will: under the scenario file's keys
 * and the case's set. */
static void cal_init(struct fit_ctx *c, struct calibration *cal, double *values)
{
	size_t i;
	memset(cal, 0, sizeof *cal);
	cal->file = c->cases->items[0].file;
	cal->n = c->np;
	cal->keys = xcalloc(c->np, sizeof *cal->keys);
	cal->marks = xcalloc(c->np, sizeof *cal->marks);
	cal->values = values;
	for (i = 0; i < c->np; i++) {
		cal->keys[i] = c->keys[i];
		cal->marks[i] = c->cases->items[0].at;
	}
}

static void cal_release(struct calibration *cal)
{
	free(cal->keys);
	free(cal->marks);
}

/* Each case's error at the parameters x: the least-squares residuals. */
static int residuals(const gsl_vector *x, void *params, gsl_vector *f)
{
	struct fit_ctx *c = params;
	struct scenario_options opt = c->opt ? *c->opt : (struct scenario_options){0};
	size_t i;
	for (i = 0; i < c->np; i++)
		c->cal.values[i] = held(c->rows[i], gsl_vector_get(x, i));
	opt.calibration_given = &c->cal;
	for (i = 0; i < c->cases->count; i++) {
		const struct validate_case *k = &c->cases->items[i];
		double v;
		if (validate_case_run_cached(k, &opt, c->cache, &v, c->d) != 0) {
			c->failed = true;
			return GSL_EDOM;
		}
		gsl_vector_set(f, i, validate_miss(k->lower_bound, v, k->published));
	}
	return GSL_SUCCESS;
}

/* The start of each key: its value in the first case's scenario. */
static int start_values(struct fit_ctx *c, double *start)
{
	const struct validate_case *k = &c->cases->items[0];
	struct scenario_options opt = c->opt ? *c->opt : (struct scenario_options){0};
	size_t n = k->nset + opt.noverrides;
	struct scenario_override *all = xcalloc(n ? n : 1, sizeof *all);
	struct scenario *s;
	size_t i;
	int status = 0;
	if (k->nset)
		memcpy(all, k->set, k->nset * sizeof *all);
	if (opt.noverrides)
		memcpy(all + k->nset, opt.overrides, opt.noverrides * sizeof *all);
	opt.overrides = all;
	opt.noverrides = n;
	s = k->scenario ? scenario_load_tree(k->scenario, k->file, &opt, c->d)
			: scenario_load(k->file, &opt, c->d);
	free(all);
	if (s == NULL)
		return -1;
	for (i = 0; i < c->np; i++) {
		/* A list starts at scale 1: the presets' own curve. */
		start[i] = c->rows[i]->type == SCHEMA_NUMLIST
				   ? 1
				   : *(const double *)((const char *)s + c->rows[i]->offset);
		if (!(start[i] > 0)) {
			diag_add(c->d, k->at, c->keys[i], "is 0 (unknown) in case '%s': give it a "
				 "starting value in the case's set", k->name);
			status = -1;
		}
	}
	scenario_free(s);
	return status;
}

static void fit_alloc(struct calibrate_fit *fit, size_t np, size_t nc)
{
	memset(fit, 0, sizeof *fit);
	fit->np = np;
	fit->nc = nc;
	fit->keys = xcalloc(np, sizeof *fit->keys);
	fit->start = xcalloc(np, sizeof *fit->start);
	fit->value = xcalloc(np, sizeof *fit->value);
	fit->stderr_ = xcalloc(np, sizeof *fit->stderr_);
	fit->at_bound = xcalloc(np, sizeof *fit->at_bound);
	fit->cov = xcalloc(np * np, sizeof *fit->cov);
	fit->before = xcalloc(nc, sizeof *fit->before);
	fit->after = xcalloc(nc, sizeof *fit->after);
}

void calibrate_fit_release(struct calibrate_fit *fit)
{
	free(fit->keys);
	free(fit->start);
	free(fit->value);
	free(fit->stderr_);
	free(fit->at_bound);
	free(fit->cov);
	free(fit->before);
	free(fit->after);
	memset(fit, 0, sizeof *fit);
}

/* The driver's stopping rule: steps and gradients this small in relative terms. The step
 * test (xtol) is a tenth of the Jacobian's difference step below (fd_step): a finer move of a
 * parameter is within the engine's own steps, where two events swap order, and chasing it
 * costs iterations of every case's simulation for no figure that changes (the GSL manual
 * suggests 1e-8 for a smooth model). */
static const double xtol = 1e-4, gtol = 1e-8, ftol = 0;
static const size_t max_iterations = 100;

/* The Jacobian's relative step, central differences. GSL's default (sqrt(DBL_EPSILON), forward)
 * assumes a smooth model; the engine's figures have small steps where two events swap order
 * (a 1e-8 relative change of efficiency.memory moves the 530B Megatron case by 3e-4), so a
 * derivative must straddle them: a 0.1% step measures the slope across many. */
static const double fd_step = 1e-3;

static int fit_solve(struct fit_ctx *c, struct calibrate_fit *fit, struct diag *d)
{
	const struct mark at = {c->cases->items[0].file, 0, 0};
	gsl_multifit_nlinear_parameters p = gsl_multifit_nlinear_default_parameters();
	gsl_multifit_nlinear_fdf fdf;
	gsl_multifit_nlinear_workspace *w;
	gsl_vector_view x0 = gsl_vector_view_array(fit->start, fit->np);
	gsl_vector *f0 = gsl_vector_alloc(fit->nc);
	gsl_matrix *cov = gsl_matrix_alloc(fit->np, fit->np);
	size_t i, j;
	int info, status;
	p.fdtype = GSL_MULTIFIT_NLINEAR_CTRDIFF;
	p.h_df = fd_step;
	memset(&fdf, 0, sizeof fdf);
	fdf.f = residuals;
	fdf.n = fit->nc;
	fdf.p = fit->np;
	fdf.params = c;
	status = residuals(&x0.vector, c, f0);
	for (i = 0; status == GSL_SUCCESS && i < fit->nc; i++)
		fit->before[i] = gsl_vector_get(f0, i);
	gsl_vector_free(f0);
	w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &p, fit->nc, fit->np);
	if (status == GSL_SUCCESS)
		status = gsl_multifit_nlinear_init(&x0.vector, &fdf, w);
	if (status == GSL_SUCCESS)
		status = gsl_multifit_nlinear_driver(max_iterations, xtol, gtol, ftol, NULL, NULL,
						     &info, w);
	if (status == GSL_SUCCESS)
		status = gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, cov);
	if (status != GSL_SUCCESS) {
		gsl_multifit_nlinear_free(w);
		gsl_matrix_free(cov);
		if (c->failed)
			return -1;
		diag_add(d, at, NULL, "the fit failed: %s", gsl_strerror(status));
		return -2;
	}
	fit->iterations = gsl_multifit_nlinear_niter(w);
	gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w),
		       &fit->chisq);
	for (i = 0; i < fit->nc; i++)
		fit->after[i] = gsl_vector_get(gsl_multifit_nlinear_residual(w), i);
	for (i = 0; i < fit->np; i++) {
		double x = gsl_vector_get(gsl_multifit_nlinear_position(w), i);
		fit->value[i] = held(c->rows[i], x);
		for (j = 0; j < fit->np; j++)
			fit->cov[i * fit->np + j] = gsl_matrix_get(cov, i, j) * fit->chisq /
						    (double)(fit->nc - fit->np);
		fit->stderr_[i] = sqrt(fit->cov[i * fit->np + i]);
		fit->at_bound[i] = held(c->rows[i], x * (1 + fd_step)) != x * (1 + fd_step) ||
				   held(c->rows[i], x * (1 - fd_step)) != x * (1 - fd_step);
	}
	gsl_multifit_nlinear_free(w);
	gsl_matrix_free(cov);
	return 0;
}

static int fit_run(const struct validate_cases *cases, const char *const *keys, size_t nkeys,
		   const struct scenario_options *opt, struct validate_cache *cache,
		   struct calibrate_fit *fit, struct diag *d)
{
	struct fit_ctx c;
	const struct mark cli = {NULL, 0, 0};
	const struct mark at = cases->count ? cases->items[0].at : cli;
	size_t i, j, before = d->count;
	int status;
	BUG_ON(nkeys == 0);
	fit_alloc(fit, nkeys, cases->count);
	if (cases->count < nkeys + 1) {
		/* With as many cases as keys the fit is exact and its covariance undefined. */
		diag_add(d, at, NULL, "%zu case%s for %zu parameter%s: the fit needs at least one "
			 "more case than parameters", cases->count, cases->count == 1 ? "" : "s",
			 nkeys, nkeys == 1 ? "" : "s");
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.cases = cases;
	c.keys = keys;
	c.np = nkeys;
	c.d = d;
	c.rows = xcalloc(nkeys, sizeof *c.rows);
	cal_init(&c, &c.cal, xcalloc(nkeys, sizeof *c.cal.values));
	c.opt = opt;
	c.cache = cache;
	for (i = 0; i < nkeys; i++) {
		fit->keys[i] = keys[i];
		c.rows[i] = schema_find(keys[i], NULL);
		if (c.rows[i] == NULL || (c.rows[i]->type != SCHEMA_NUM &&
					  c.rows[i]->type != SCHEMA_NUMLIST))
			diag_add(d, cli, keys[i], "a parameter is a number key of the scenario, or a "
				 "list of numbers it scales (dssim --help-keys)");
		for (j = 0; j < i; j++)
			if (strcmp(keys[i], keys[j]) == 0)
				diag_add(d, cli, keys[i], "named twice");
	}
	status = d->count > before ? -1 : start_values(&c, fit->start);
	if (status == 0)
		status = fit_solve(&c, fit, d);
	free(c.rows);
	free(c.cal.values);
	cal_release(&c.cal);
	return status;
}

int calibrate_run(const struct validate_cases *cases, const char *const *keys, size_t nkeys,
		  const struct scenario_options *opt, struct calibrate_fit *fit, struct diag *d)
{
	struct validate_cache *cache = validate_cache_new();
	int status = fit_run(cases, keys, nkeys, opt, cache, fit, d);
	validate_cache_free(cache);
	return status;
}

static double rms(const double *e, size_t n)
{
	double sum = 0;
	size_t i;
	for (i = 0; i < n; i++)
		sum += e[i] * e[i];
	return sqrt(sum / (double)n);
}

void calibrate_print(FILE *out, const struct validate_cases *cases,
		     const struct calibrate_fit *fit)
{
	size_t i;
	fprintf(out, "%-46s %12s %12s %12s\n", "parameter", "start", "fitted", "std. error");
	for (i = 0; i < fit->np; i++)
		fprintf(out, "%-46s %12.6g %12.6g %12.3g%s\n", fit->keys[i], fit->start[i],
			fit->value[i], fit->stderr_[i], fit->at_bound[i] ? "  at its range's end" : "");
	fprintf(out, "\n%-60s %-12s %12s %8s %8s\n", "case", "metric", "published", "before",
		"after");
	for (i = 0; i < fit->nc; i++) {
		const struct validate_case *c = &cases->items[i];
		fprintf(out, "%-60s %-12s %12.6g %+7.1f%% %+7.1f%%\n", c->name, c->metric,
			c->published, 100 * fit->before[i], 100 * fit->after[i]);
	}
	for (i = 0; i < fit->np; i++)
		if (fit->at_bound[i]) {
			fputs("\nA key at its range's end: the cases ask for more than it allows; its "
			      "standard error means\nnothing. Fit another key, or look for what the "
			      "model misses.\n", out);
			break;
		}
	fprintf(out, "\nrms error %.2f%% before, %.2f%% after (%zu cases, %zu parameters, %zu "
		     "iterations)\n", 100 * rms(fit->before, fit->nc), 100 * rms(fit->after, fit->nc),
		fit->nc, fit->np, fit->iterations);
}

void calibrate_write(FILE *out, const char *cases_path, const struct validate_cases *cases,
		     const struct calibrate_fit *fit)
{
	size_t i, j;
	fputs("# dssim calibration: scenario keys fitted by `dssim calibrate` (nonlinear least "
	      "squares\n# on relative errors). Apply with `calibration: FILE` in a scenario or "
	      "--calibration FILE;\n# the covariance gives --uncertainty its draws.\n", out);
	fputs("cases_file: ", out);
	json_string(out, cases_path);
	fputs("\nkeys:\n", out);
	for (i = 0; i < fit->np; i++) {
		fprintf(out, "  %s: ", fit->keys[i]);
		json_num(out, fit->value[i]);
		if (fit->at_bound[i])
			fputs("    # at its range's end", out);
		else if (schema_find(fit->keys[i], NULL)->type == SCHEMA_NUMLIST)
			fputs("    # scales the list", out);
		fputc('\n', out);
	}
	fputs("# (J^T J)^-1 * chisq / (cases - parameters), rows and columns in the order of keys\n"
	      "covariance:\n", out);
	for (i = 0; i < fit->np; i++) {
		fputs("  - [", out);
		for (j = 0; j < fit->np; j++) {
			json_num(out, fit->cov[i * fit->np + j]);
			fputs(j + 1 < fit->np ? ", " : "]\n", out);
		}
	}
	fprintf(out, "chisq: ");
	json_num(out, fit->chisq);
	fputs("\ncases:\n", out);
	for (i = 0; i < fit->nc; i++) {
		const struct validate_case *c = &cases->items[i];
		fputs("  - name: ", out);
		json_string(out, c->name);
		fputs("\n    source: ", out);
		json_string(out, c->source);
		fprintf(out, "\n    metric: %s\n    published: ", c->metric);
		json_num(out, c->published);
		if (c->lower_bound)
			fputs("\n    bound: lower", out);
		fputs("\n    error_before: ", out);
		json_num(out, fit->before[i]);
		fputs("\n    error_after: ", out);
		json_num(out, fit->after[i]);
		fputc('\n', out);
	}
}

/* P10, P50, P90 by GSL's quantile of sorted data (linear between order statistics). */
static struct calibrate_band band(double *v, size_t n)
{
	struct calibrate_band b;
	gsl_sort(v, 1, n);
	b.p10 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.10);
	b.p50 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.50);
	b.p90 = gsl_stats_quantile_from_sorted_data(v, 1, n, 0.90);
	return b;
}

/* Whether the calibration set key (rather than the scenario file or --set). */
static bool calibration_applied(const struct scenario *s, const char *key)
{
	struct mark m = scenario_mark(s, key);
	return m.file != NULL && strcmp(m.file, s->calibration->file) == 0;
}

/* A drawn list scale: the loaded list (the calibration's scale applied) times ratio, each
 * element held inside the key's range. Whether one was held. */
static bool rescale(const struct schema_row *row, struct scenario *draw, double ratio)
{
	struct numlist *l = (struct numlist *)((char *)draw + row->offset);
	bool held = false;
	int i;
	for (i = 0; i < l->n; i++) {
		double v = l->v[i] * ratio;
		held |= v < row->min || v > row->max;
		l->v[i] = v < row->min ? row->min : v > row->max ? row->max : v;
	}
	return held;
}

/* The draws: keys idx[0..m) from N(mu, L L^T), the others (variance 0: a key the fit held at
 * its range's end) at their values. */
static int draw_all(const struct scenario *s, gsl_rng *rng, const gsl_matrix *L,
		    const size_t *idx, size_t m, size_t n, FILE *progress,
		    struct calibrate_uncertainty *u, double *v[3], struct diag *d)
{
	const struct calibration *cal = s->calibration;
	const struct mark at = {s->file, 0, 0};
	gsl_vector *mu = gsl_vector_alloc(m ? m : 1), *x = gsl_vector_alloc(m ? m : 1);
	double val[CALIBRATION_MAX];
	struct scenario draw;
	struct run_options ro = {.step_only = true};
	size_t i, k;
	int status = 0;
	double shown = 0;
	for (k = 0; k < m; k++)
		gsl_vector_set(mu, k, cal->values[idx[k]]);
	for (i = 0; i < n && status == 0; i++) {
		struct run_result r;
		bool clamped = false;
		if (progress != NULL && walltime_due(&shown, WALLTIME_REDRAW, i == 0)) {
			fprintf(progress, "\rdssim: --uncertainty: draw %zu of %zu ", i + 1, n);
			fflush(progress);
		}
		memcpy(val, cal->values, cal->n * sizeof *val);
		if (m > 0 && gsl_ran_multivariate_gaussian(rng, mu, L, x) != GSL_SUCCESS) {
			diag_add(d, at, "--uncertainty", "cannot draw from the covariance");
			status = -2;
			break;
		}
		for (k = 0; k < m; k++)
			val[idx[k]] = gsl_vector_get(x, k);
		draw = *s;
		for (k = 0; k < cal->n; k++) {
			const struct schema_row *row = schema_find(cal->keys[k], NULL);
			double v_k = val[k];
			if (!calibration_applied(s, cal->keys[k]))
				continue;
			if (row->type == SCHEMA_NUMLIST) {
				clamped |= rescale(row, &draw, v_k / cal->values[k]);
				continue;
			}
			/* Held inside the key's range: an efficiency drawn above 1 is 1. */
			clamped |= held(row, v_k) != v_k;
			*(double *)((char *)&draw + row->offset) = held(row, v_k);
		}
		u->clamped += clamped;
		if (run_scenario(&draw, &ro, &r, d) != 0 || r.outcome != RUN_SIMULATED) {
			if (r.outcome != RUN_SIMULATED && r.reason[0])
				diag_add(d, at, "--uncertainty", "draw %zu: %s", i + 1, r.reason);
			status = -1;
		} else {
			v[0][i] = r.step.step_s;
			v[1][i] = r.step.tokens_per_s;
			v[2][i] = r.step.mfu;
		}
		run_result_release(&r);
	}
	if (progress != NULL)
		fputs("\r\033[K", progress);
	gsl_vector_free(x);
	gsl_vector_free(mu);
	return status;
}

int calibrate_uncertainty(const struct scenario *s, size_t n, unsigned long seed,
			  FILE *progress, struct calibrate_uncertainty *u, struct diag *d)
{
	const struct calibration *cal = s->calibration;
	const struct mark at = {s->file, 0, 0};
	gsl_matrix *L;
	gsl_rng *rng;
	double *v[3];
	size_t idx[CALIBRATION_MAX], m = 0, i, j;
	int status;
	memset(u, 0, sizeof *u);
	u->draws = n;
	u->seed = seed;
	if (cal == NULL || cal->cov == NULL) {
		diag_add(d, at, "--uncertainty", cal == NULL ? "needs a calibration (calibration: "
				"FILE or --calibration FILE)" : "the calibration %s has no covariance",
			 cal ? cal->file : "");
		return -1;
	}
	if (s->workload.mode != MODE_TRAIN) {
		diag_add(d, at, "--uncertainty", "is for training scenarios");
		return -1;
	}
	for (i = 0; i < cal->n; i++)
		if (cal->cov[i * cal->n + i] > 0)
			idx[m++] = i;
	L = gsl_matrix_alloc(m ? m : 1, m ? m : 1);
	gsl_matrix_set_identity(L);
	for (i = 0; i < m; i++)
		for (j = 0; j < m; j++)
			gsl_matrix_set(L, i, j, cal->cov[idx[i] * cal->n + idx[j]]);
	/* gsl_ran_multivariate_gaussian takes the lower Cholesky factor of the covariance. */
	if (gsl_linalg_cholesky_decomp1(L) != GSL_SUCCESS) {
		diag_add(d, cal->marks[0], "covariance", "not positive definite: it cannot be drawn "
			 "from");
		gsl_matrix_free(L);
		return -1;
	}
	rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, seed);
	for (i = 0; i < 3; i++)
		v[i] = xcalloc(n, sizeof *v[i]);
	status = draw_all(s, rng, L, idx, m, n, progress, u, v, d);
	if (status == 0) {
		u->step_s = band(v[0], n);
		u->tokens_per_s = band(v[1], n);
		u->mfu = band(v[2], n);
	}
	for (i = 0; i < 3; i++)
		free(v[i]);
	gsl_rng_free(rng);
	gsl_matrix_free(L);
	return status;
}

void calibrate_uncertainty_print(FILE *out, const struct calibrate_uncertainty *u)
{
	fprintf(out, "\nuncertainty (%zu draws from the calibration's covariance, seed %lu%s)\n",
		u->draws, u->seed, u->clamped ? ", some held at a key's range" : "");
	fprintf(out, "  %-14s %12s %12s %12s\n", "", "P10", "P50", "P90");
	fprintf(out, "  %-14s %12.4g %12.4g %12.4g\n", "step (s)", u->step_s.p10, u->step_s.p50,
		u->step_s.p90);
	fprintf(out, "  %-14s %12.4g %12.4g %12.4g\n", "tokens/s", u->tokens_per_s.p10,
		u->tokens_per_s.p50, u->tokens_per_s.p90);
	fprintf(out, "  %-14s %11.1f%% %11.1f%% %11.1f%%\n", "MFU", 100 * u->mfu.p10,
		100 * u->mfu.p50, 100 * u->mfu.p90);
}

static void band_json(FILE *out, const char *name, const struct calibrate_band *b)
{
	fprintf(out, "\"%s\": {\"p10\": ", name);
	json_num(out, b->p10);
	fputs(", \"p50\": ", out);
	json_num(out, b->p50);
	fputs(", \"p90\": ", out);
	json_num(out, b->p90);
	fputc('}', out);
}

void calibrate_uncertainty_json(FILE *out, const struct calibrate_uncertainty *u)
{
	fprintf(out, "{\"draws\": %zu, \"seed\": %lu, \"clamped\": %zu, ", u->draws, u->seed,
		u->clamped);
	band_json(out, "step_s", &u->step_s);
	fputs(", ", out);
	band_json(out, "tokens_per_s", &u->tokens_per_s);
	fputs(", ", out);
	band_json(out, "mfu", &u->mfu);
	fputc('}', out);
}

/* Whether case i is the first of its source. */
static bool first_of_source(const struct validate_cases *cs, size_t i)
{
	size_t j;
	for (j = 0; j < i; j++)
		if (strcmp(cs->items[j].source, cs->items[i].source) == 0)
			return false;
	return true;
}

size_t calibrate_sources(const struct validate_cases *cases)
{
	size_t i, n = 0;
	for (i = 0; i < cases->count; i++)
		n += first_of_source(cases, i);
	return n;
}

/* Predict the cases of source src with keys fitted to the others. 1 when skipped. */
static int cross_one(const struct validate_cases *cases, const char *src, const char *const *keys,
		     size_t nkeys, const struct scenario_options *opt, struct validate_cache *cache,
		     struct calibrate_cross *x, struct diag *d)
{
	struct validate_cases others = {NULL, NULL, 0};
	struct calibrate_fit fit;
	struct scenario_options o = opt ? *opt : (struct scenario_options){0};
	struct fit_ctx c;
	size_t i;
	int status = 0;
	others.items = xcalloc(cases->count, sizeof *others.items);
	for (i = 0; i < cases->count; i++)
		if (strcmp(cases->items[i].source, src) != 0)
			others.items[others.count++] = cases->items[i];
	if (others.count < nkeys + 1) {
		free(others.items);
		return 1;
	}
	status = fit_run(&others, keys, nkeys, opt, cache, &fit, d);
	free(others.items);
	if (status != 0) {
		calibrate_fit_release(&fit);
		return status;
	}
	memset(&c, 0, sizeof c);
	c.cases = cases;
	c.keys = keys;
	c.np = nkeys;
	cal_init(&c, &c.cal, fit.value);
	o.calibration_given = &c.cal;
	for (i = 0; i < cases->count && status == 0; i++) {
		double v;
		if (strcmp(cases->items[i].source, src) != 0)
			continue;
		if (validate_case_run_cached(&cases->items[i], &o, cache, &v, d) != 0)
			status = -1;
		else
			x->cross[i] = validate_miss(cases->items[i].lower_bound, v,
						   cases->items[i].published);
	}
	cal_release(&c.cal);
	calibrate_fit_release(&fit);
	return status;
}

int calibrate_cross_run(const struct validate_cases *cases, const char *const *keys,
			size_t nkeys, const struct scenario_options *opt, int worker, int workers,
			FILE *progress, struct calibrate_cross *x, struct diag *d)
{
	struct scenario_options o = opt ? *opt : (struct scenario_options){0};
	struct validate_cache *cache = validate_cache_new();
	size_t i;
	int status = 0;
	double t0;
	memset(x, 0, sizeof *x);
	x->nc = cases->count;
	x->base = xcalloc(x->nc ? x->nc : 1, sizeof *x->base);
	x->cross = xcalloc(x->nc ? x->nc : 1, sizeof *x->cross);
	for (i = 0; i < x->nc; i++)
		x->cross[i] = NAN;
	for (i = 0; i < x->nc && status == 0; i++) {
		double v;
		if (validate_case_run_cached(&cases->items[i], &o, cache, &v, d) != 0)
			status = -1;
		else
			x->base[i] = validate_miss(cases->items[i].lower_bound, v,
						  cases->items[i].published);
	}
	for (i = 0; i < x->nc && status == 0; i++) {
		int st;
		if (!first_of_source(cases, i))
			continue;
		/* Worker k of n fits the sources k, k + n, ... in order of first appearance. */
		if ((int)(x->nsources++ % (size_t)workers) != worker)
			continue;
		t0 = walltime_now();
		st = cross_one(cases, cases->items[i].source, keys, nkeys, opt, cache, x, d);
		if (st == 1)
			x->skipped++;
		else
			status = st;
		if (progress != NULL && st >= 0) {
			fprintf(progress, "dssim validate --cross: %s: %s (%.0f s)\n",
				cases->items[i].source[0] ? cases->items[i].source : "-",
				st == 1 ? "too few other cases, not predicted"
					: "predicted from a fit to the other sources",
				walltime_now() - t0);
			fflush(progress);
		}
	}
	validate_cache_free(cache);
	return status;
}

void calibrate_cross_release(struct calibrate_cross *x)
{
	free(x->base);
	free(x->cross);
	memset(x, 0, sizeof *x);
}

void calibrate_cross_print(FILE *out, const struct validate_cases *cases,
			   const struct calibrate_cross *x)
{
	double sb = 0, sc = 0;
	size_t i, n = 0;
	fprintf(out, "%-60s %-32s %9s %9s\n", "case", "source", "defaults", "cross");
	for (i = 0; i < x->nc; i++) {
		const struct validate_case *c = &cases->items[i];
		fprintf(out, "%-60s %-32s %+8.1f%%", c->name, c->source[0] ? c->source : "-",
			100 * x->base[i]);
		if (isnan(x->cross[i])) {
			fputs("         -\n", out);
			continue;
		}
		fprintf(out, " %+8.1f%%\n", 100 * x->cross[i]);
		sb += x->base[i] * x->base[i];
		sc += x->cross[i] * x->cross[i];
		n++;
	}
	fprintf(out, "\n%zu sources, %zu predicted from a fit to the others", x->nsources,
		x->nsources - x->skipped);
	if (n > 0)
		fprintf(out, ": rms error %.2f%% with the defaults, %.2f%% predicted", 100 *
			sqrt(sb / (double)n), 100 * sqrt(sc / (double)n));
	fputc('\n', out);
}
