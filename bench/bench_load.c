/*
 * bench_load: wall time to load a scenario (file, presets, validation) and build its analytic
 * memory report, the work `dssim FILE` does before printing. Run by `make bench`; the foundation
 * target is under 5 ms for scenarios/32b_zero3.yaml. Prints the median and the best of many runs.
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "xalloc.h"
#include "diag.h"
#include "memory.h"
#include "scenario.h"

int main(int argc, char **argv)
{
	enum { RUNS = 200 };
	double t[RUNS];
	int i;
	xalloc_init();
	if (argc != 2) {
		fprintf(stderr, "usage: bench_load SCENARIO.yaml\n");
		return 2;
	}
	gsl_set_error_handler_off();
	for (i = 0; i < RUNS; i++) {
		struct diag d;
		struct scenario *s;
		struct memory_report r;
		double t0 = walltime_now();
		diag_init(&d);
		s = scenario_load(argv[1], NULL, &d);
		if (s == NULL) {
			diag_print(&d, stderr);
			return 2;
		}
		if (memory_build(s, &r) != 0)
			return 1;
		memory_report_release(&r);
		scenario_free(s);
		diag_release(&d);
		t[i] = walltime_now() - t0;
	}
	qsort(t, RUNS, sizeof t[0], bench_cmp);
	printf("load + analyse %s: median %.3f ms, best %.3f ms, worst %.3f ms over %d runs "
	       "(target < 5 ms)\n", argv[1], t[RUNS / 2] * 1e3, t[0] * 1e3, t[RUNS - 1] * 1e3, RUNS);
	return 0;
}
