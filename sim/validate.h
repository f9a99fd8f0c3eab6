/*
 * validate: runs the published cases of a validation file (tests/validation/published.yaml)
 * through the whole pipeline and compares each with its published figure. Output stage: loads
 * scenarios, builds and simulates steps, reads results. `dssim validate` and the validation test
 * share it, so users see the accuracy of the build they have.
 */
#ifndef DSSIM_VALIDATE_H
#define DSSIM_VALIDATE_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "scenario.h"

/*
 * One case of a validation file: `{name, source, metric, published, tolerance, bound, scenario, set}`.
 * `scenario` is a mapping or a path relative to the file; `set` holds typed overrides
 * (key: value, nested mappings flattened to dotted keys), applied like --set.
 */
struct validate_case {
	const char *name, *source;      /* source "" when not given */
	const char *metric;             /* one of validate_metric_names */
	double published, tolerance;    /* tolerance 0 when not given */
	bool has_tolerance;
	bool lower_bound;               /* `bound: lower`: published is a floor ("more than") */
	const struct ynode *scenario;   /* the mapping, or NULL: then `file` is the scenario */
	const char *file;               /* the scenario file, or the cases file of a mapping */
	struct scenario_override *set;
	size_t nset;
	struct mark at;
};

struct validate_cases {
	struct arena *arena;            /* owns the cases, their tree and strings */
	struct validate_case *items;
	size_t count;
};

/* step_s, tokens_per_s (the whole cluster), tokens_per_s_per_gpu, tflops_eq3, tflops_model
 * (training); ttft_s, tpot_s (means), output_tokens_per_s, ttft_p50_s, tpot_p50_s,
 * latency_p50_s (medians; latency is end to end) (serving). NULL-terminated. */
extern const char *const validate_metric_names[];

/* Read every case of a validation file; a malformed case is left out with its diagnostic.
 * 0, or -1 when anything was wrong (out holds the good cases; release it either way). */
int validate_cases_load(const char *path, struct validate_cases *out, struct diag *d);
void validate_cases_release(struct validate_cases *c);

/* Simulate one case: its scenario with its `set`, then opt's overrides on top (a fit's
 * parameters). 0 with the metric's value in *value, or -1 with diagnostics. */
int validate_case_run(const struct validate_case *c, const struct scenario_options *opt,
		      double *value, struct diag *d);

/* What a case's memory comes to beside its metric: a published run ran, so dssim saying it
 * does not fit in device memory is an error of its own. */
struct validate_memory {
	bool fits;              /* the memory model's verdict on the most loaded GPU */
	double need, capacity;  /* bytes per GPU: the most loaded GPU's total, the device's */
};

/* validate_case_run, with the case's memory in *mem. */
int validate_case_run_memory(const struct validate_case *c, const struct scenario_options *opt,
			     double *value, struct validate_memory *mem, struct diag *d);

/* Values of cases already simulated, by the case's metric and its scenario's canonical form
 * (every expanded key: two loads that agree there simulate alike, bit for bit). A fit's steps
 * change a few keys; cases those keys do not reach are not simulated again. */
struct validate_cache;
struct validate_cache *validate_cache_new(void);
void validate_cache_free(struct validate_cache *c);      /* NULL is a no-op */
size_t validate_cache_size(const struct validate_cache *c);   /* values held */
/* validate_case_run through cache (NULL: no cache). */
int validate_case_run_cached(const struct validate_case *c, const struct scenario_options *opt,
			     struct validate_cache *cache, double *value, struct diag *d);

/* A case's error for statistics and fits: simulated / published - 1, or for a floor only what
 * falls short of it (0 at or above). */
double validate_miss(bool lower_bound, double simulated, double published);

struct validate_row {
	char *name;
	char *metric;           /* one of validate_metric_names */
	double published, simulated, error, tolerance;
	bool lower_bound;       /* published is a floor: error above it is no error */
	bool ok;                /* |error| <= tolerance; a floor's error >= -tolerance */
	struct validate_memory memory;
};

struct validate_report {
	struct validate_row *rows;
	size_t count;
	size_t failed;          /* rows outside their tolerance */
};

/* Load and run every case. 0, or -1 with diagnostics (a malformed file or case). */
int validate_run(const char *path, const struct scenario_options *opt, struct validate_report *r,
		 struct diag *d);
void validate_report_release(struct validate_report *r);
void validate_print(FILE *out, const struct validate_report *r);

/* The set's accuracy in one place: mean |error|, signed mean and largest |error| over the
 * report's rows (fractions, 0 for an empty report), the count outside tolerance and the count
 * dssim says do not fit in device memory. */
struct validate_summary {
	double mean_abs, mean_signed, max_abs;
	size_t outside, misfits;
};
void validate_summarize(const struct validate_report *r, struct validate_summary *out);
void validate_json(FILE *out, const struct validate_report *r);

#endif
