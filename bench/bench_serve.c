/*
 * bench_serve: wall time to serve an inference scenario's request stream with the overrides the
 * serving issue's target names — 10,000 requests of 256 output tokens each (2.56 million decoded
 * tokens), target under 2 s (under 5 s disaggregated, serving.pools) — plus loading, memory
 * and drawing the requests.
 */
#include <gsl/gsl_errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "xalloc.h"
#include "diag.h"
#include "run.h"
#include "scenario.h"

int main(int argc, char **argv)
{
	static const struct scenario_override o[] = {
		{"workload.requests", "10000"},
		{"workload.output_tokens", "{dist: fixed, value: 256}"},
	};
	struct scenario_options opt = {o, sizeof o / sizeof o[0], NULL, false, NULL, NULL};
	int f;
	xalloc_init();
	gsl_set_error_handler_off();
	for (f = 1; f < argc; f++) {
		enum { RUNS = 5 };
		double t[RUNS];
		long long iterations = 0;
		bool pools = false;
		int i;
		for (i = 0; i < RUNS; i++) {
			struct diag d;
			struct scenario *s;
			struct run_result r;
			double t0 = walltime_now();
			diag_init(&d);
			s = scenario_load(argv[f], &opt, &d);
			if (s == NULL || run_scenario(s, NULL, &r, &d) != 0) {
				diag_print(&d, stderr);
				return 1;
			}
			if (r.outcome != RUN_SIMULATED) {
				fprintf(stderr, "%s: %s\n", argv[f], r.reason);
				return 1;
			}
			t[i] = walltime_now() - t0;
			iterations = (long long)r.serve.iterations;
			pools = r.serve.disaggregated;
			run_result_release(&r);
			scenario_free(s);
			diag_release(&d);
		}
		qsort(t, RUNS, sizeof t[0], bench_cmp);
		printf("serve %-40s 10000 requests x 256 tokens, %lld iterations: median %.3f s "
		       "(target < %d s)\n",
		       argv[f], iterations, t[RUNS / 2], pools ? 5 : 2);
	}
	return 0;
}
