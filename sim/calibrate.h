/*
 * calibrate: fits a few scenario keys (efficiencies, overheads) to published or measured runs
 * by nonlinear least squares on relative errors, writes the calibration file a scenario applies
 * (calibration.h), and draws from its covariance for error bars. Output stage: runs scenarios
 * through run_scenario (via validate's cases); knows nothing of the command line or SQLite.
 */
#ifndef DSSIM_CALIBRATE_H
#define DSSIM_CALIBRATE_H

#include <stdio.h>

#include "calibration.h"
#include "diag.h"
#include "scenario.h"
#include "validate.h"

/* The keys fitted when none is named: the efficiencies that scale a training step's time —
 * the GEMM curve (as a scale), memory-bound kernels, collectives inside and between nodes. */
extern const char *const calibrate_default_keys[];

struct calibrate_fit {
	size_t np, nc;                /* parameters, cases */
	const char **keys;            /* np, borrowed from the caller */
	double *start, *value;        /* np: before and after the fit */
	double *stderr_;              /* np: sqrt of the covariance's diagonal */
	double *cov;                  /* np x np, row-major: (J^T J)^-1 * chisq / (nc - np) */
	double *before, *after;       /* nc: relative error of each case (simulated/published - 1) */
	bool *at_bound;               /* np: the fit ended within its difference step of the
					 key's range: the cases ask for more than the key allows,
					 and its standard error means nothing */
	double chisq;                 /* sum of the squared relative errors after the fit */
	size_t iterations;
};

/*
 * Fit keys[0..nkeys) to the cases (GSL gsl_multifit_nlinear, trust region, finite-difference
 * Jacobian). Each key is a number key, started from its value in the first case's scenario
 * (which must not be 0), or a list of numbers (the GEMM efficiency curve), fitted as a scale
 * of each case's list started from 1. The keys reach the cases as a calibration does
 * (calibration_given): under the scenario file's own keys and the case's set. A key the cases
 * push past its range is held at the range's end (fit->at_bound). opt (may be NULL) gives the
 * data directory, and overrides applied to every case over its set (validate --set). 0 with
 * *fit filled; -1 with diagnostics (a bad key, a case that does not run, fewer cases than
 * nkeys + 1); -2 when GSL fails.
 * Release *fit either way.
 */
int calibrate_run(const struct validate_cases *cases, const char *const *keys, size_t nkeys,
		  const struct scenario_options *opt, struct calibrate_fit *fit, struct diag *d);
void calibrate_fit_release(struct calibrate_fit *fit);

/* Each parameter with its standard error, and every case's error before and after. */
void calibrate_print(FILE *out, const struct validate_cases *cases,
		     const struct calibrate_fit *fit);
/* The calibration file: keys and values, covariance, and the cases used with their source. */
void calibrate_write(FILE *out, const char *cases_path, const struct validate_cases *cases,
		     const struct calibrate_fit *fit);

/* Leave-one-source-out: each source's cases predicted by a fit to the other sources' cases. */
struct calibrate_cross {
	size_t nc;
	double *base;       /* nc: each case's error with the keys as the scenarios give them */
	double *cross;      /* nc: its error with the keys fitted to the other sources */
	size_t nsources, skipped;   /* sources; of them, left unpredicted (too few other cases) */
};

/*
 * Fit keys to all cases but one source's, predict that source's, for every source (a case's
 * `source`, "" being one source of its own). A source whose others number fewer than
 * nkeys + 1 cases is skipped: its cross error is NaN. Worker `worker` of `workers` (0 of 1 for
 * all) fits only its share of the sources, k, k + n, ... in order of first appearance, and
 * leaves the others' cross errors NaN; base and nsources cover every case and source either
 * way, skipped its own share. Each source fitted gets a line on progress (NULL: none). 0, -1 or
 * -2 as calibrate_run.
 */
int calibrate_cross_run(const struct validate_cases *cases, const char *const *keys,
			size_t nkeys, const struct scenario_options *opt, int worker, int workers,
			FILE *progress, struct calibrate_cross *x, struct diag *d);
void calibrate_cross_release(struct calibrate_cross *x);
/* The sources of the cases (distinct `source` texts, "" one of them). */
size_t calibrate_sources(const struct validate_cases *cases);
void calibrate_cross_print(FILE *out, const struct validate_cases *cases,
			   const struct calibrate_cross *x);

/* P10, P50 and P90 of one figure over the draws. */
struct calibrate_band {
	double p10, p50, p90;
};

struct calibrate_uncertainty {
	size_t draws;
	unsigned long seed;
	size_t clamped;               /* draws with a key held at its range's end */
	struct calibrate_band step_s, tokens_per_s, mfu;
};

/*
 * Draw n parameter sets from s->calibration's covariance (a multivariate Gaussian around its
 * values: GSL's gsl_ran_multivariate_gaussian with the Cholesky factor, mt19937 seeded with
 * seed) and simulate the scenario's training step with each. A key the calibration did not set
 * (the scenario file or --set gives it) keeps its value, and so does a key of variance 0 (one
 * the fit held at its range's end); a draw outside a key's range is held at the range's end
 * (counted in u->clamped); a list key's draw scales the list. 0 with *u filled; -1 with
 * diagnostics (no calibration, one without a covariance, an inference scenario, a covariance
 * that is not positive definite over its keys of variance > 0, a draw that does not run); -2
 * when GSL fails. progress (a terminal, or NULL) is shown the draws done on one line, cleared
 * at the end.
 */
int calibrate_uncertainty(const struct scenario *s, size_t n, unsigned long seed,
			  FILE *progress, struct calibrate_uncertainty *u, struct diag *d);
void calibrate_uncertainty_print(FILE *out, const struct calibrate_uncertainty *u);
void calibrate_uncertainty_json(FILE *out, const struct calibrate_uncertainty *u);

#endif
