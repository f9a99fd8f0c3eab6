/*
 * run: the one path from a loaded scenario to one result — the analytic memory breakdown, then a
 * training step on the event engine or a serving run over the scenario's requests (or the search
 * for the highest request rate that meets latency targets). The command line, sweeps, validation,
 * benchmarks and tests all call it instead of wiring the stages themselves. Run stage: includes
 * the plan, simulate and result stages; knows nothing of SQLite or of the command line.
 */
#ifndef DSSIM_RUN_H
#define DSSIM_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "cost.h"
#include "diag.h"
#include "engine.h"
#include "memory.h"
#include "result.h"
#include "scenario.h"
#include "serve.h"
#include "step.h"

/* How a run ended, beside its numbers. A result that is not simulated says why in `reason`;
 * that is data about the scenario (it does not fit, its KV cache holds no sequence), not an
 * error of the run. */
enum run_outcome {
	RUN_SIMULATED,       /* the step or the serving run completed */
	RUN_NOT_SIMULATED,   /* memory only: asked for, or the step or serving run could not be
				built (a serving model that does not fit, a layout it cannot cost) */
};

struct run_options {
	bool keep_engine;         /* keep the step's plan and engine (for a trace or a timeline) */
	bool record_timeline;     /* record each device's memory timeline */
	bool keep_iterations;     /* serving: keep every iteration (for a trace) */
	bool analytic;            /* memory only: do not simulate */
	bool step_only;           /* training: the step without the analytic breakdown (a sweep
				     screened the point already; validation needs only the time);
				     memory stays zeroed and run_is_negative reads only the step */
	const struct serve_slo *find_max_rate;   /* serving: search the highest rate meeting it */
	FILE *progress;           /* where the rate search reports each try, or NULL */
	double tokens;            /* a token budget to price (days and USD), 0 for none */
};

struct run_result {
	enum mode mode;                   /* the scenario's workload.mode */
	enum run_outcome outcome;
	char reason[256];                 /* RUN_NOT_SIMULATED: why */
	struct memory_report memory;      /* analytic breakdown, always built */
	struct result step;               /* train, RUN_SIMULATED */
	struct serve_result serve;        /* infer, RUN_SIMULATED */
	struct cost cost;                 /* the cluster's price and what the run costs at its
					     rate; zeros when the node has no price */
	/* keep_engine: the simulated step, owned until run_result_release. */
	bool has_plan;
	struct step_plan plan;
	struct engine *engine;
};

/*
 * Run a loaded scenario. 0 with *out filled (whatever the outcome); -1 when the scenario's input
 * is bad in a way only a run finds (a request trace that does not load, a value in range that
 * makes a figure infinite or NaN, more requests than this machine's memory holds: the
 * diagnostic names the key); -2 when an internal
 * search fails (GSL). Either failure leaves its diagnostics in d, and *out safe to release.
 * Options may be NULL.
 */
int run_scenario(const struct scenario *s, const struct run_options *o, struct run_result *out,
		 struct diag *d);
void run_result_release(struct run_result *r);

/* Whether a serving scenario's requests fit this machine's memory at 512 bytes a request
 * (always true for training and for a replayed trace); *need and *have (may be NULL) get the
 * bytes. run_scenario refuses a run that does not fit (-1, the diagnostic at workload.requests). */
bool run_requests_fit(const struct scenario *s, double *need, double *have);

/* Whether the run answered the question negatively: a model that does not fit, or a rate
 * search that found no rate meeting its targets (the command exits 3 after its report). */
bool run_is_negative(const struct run_result *r);

#endif
