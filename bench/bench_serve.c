/*
 * bench_serve: wall time to serve an inference scenario's request stream with the overrides the
 * serving issue's target names — 10,000 requests of 256 output tokens each (2.56 million decoded
 * tokens), target under 2 s — plus loading, memory and drawing the requests.
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "xalloc.h"
#include "diag.h"
#include "memory.h"
#include "requests.h"
#include "scenario.h"
#include "serve.h"

int main(int argc, char **argv)
{
	static const struct scenario_override o[] = {
		{"workload.requests", "10000"},
		{"workload.output_tokens", "{dist: fixed, value: 256}"},
	};
	struct scenario_options opt = {o, sizeof o / sizeof o[0], NULL, false};
	int f;
	xalloc_init();
	gsl_set_error_handler_off();
	for (f = 1; f < argc; f++) {
		enum { RUNS = 5 };
		double t[RUNS];
		struct serve_result r;
		int i;
		for (i = 0; i < RUNS; i++) {
			struct diag d;
			struct scenario *s;
			struct memory_report m;
			struct request_stream rs;
			char err[256];
			double t0 = bench_now();
			diag_init(&d);
			s = scenario_load(argv[f], &opt, &d);
			if (s == NULL || memory_build(s, &m) != 0 || requests_build(s, &rs, &d) != 0) {
				diag_print(&d, stderr);
				return 1;
			}
			if (serve_run(s, &m, &rs, NULL, &r, err, sizeof err) != 0) {
				fprintf(stderr, "%s: %s\n", argv[f], err);
				return 1;
			}
			t[i] = bench_now() - t0;
			serve_result_release(&r);
			requests_release(&rs);
			memory_report_release(&m);
			scenario_free(s);
			diag_release(&d);
		}
		qsort(t, RUNS, sizeof t[0], bench_cmp);
		printf("serve %-40s 10000 requests x 256 tokens, %lld iterations: median %.3f s "
		       "(target < 2 s)\n",
		       argv[f], (long long)r.iterations, t[RUNS / 2]);
	}
	return 0;
}
