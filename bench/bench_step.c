/*
 * bench_step: wall time to load a training scenario, build its step graph, simulate it and
 * summarise the result — what `dssim FILE` does for training. Targets (event-engine issue):
 * the Megatron 1T row under 1 s, scenarios/32b_zero3.yaml under 20 ms; issue 15: DeepSeek-V3
 * on 2048 GPUs with DualPipe (scenarios/deepseek_v3_pp16_ep64_h800.yaml) under 0.5 s.
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "xalloc.h"
#include "diag.h"
#include "run.h"
#include "scenario.h"

int main(int argc, char **argv)
{
	int f;
	gsl_set_error_handler_off();
	xalloc_init();
	for (f = 1; f < argc; f++) {
		enum { RUNS = 9 };
		double t[RUNS];
		size_t ops = 0, events = 0;
		int i;
		for (i = 0; i < RUNS; i++) {
			struct diag d;
			struct scenario *s;
			struct run_options o = {.keep_engine = true};
			struct run_result r;
			double t0 = walltime_now();
			diag_init(&d);
			s = scenario_load(argv[f], NULL, &d);
			if (s == NULL || run_scenario(s, &o, &r, &d) != 0 ||
			    r.outcome != RUN_SIMULATED) {
				diag_print(&d, stderr);
				return 1;
			}
			ops = r.plan.graph->nops;
			events = r.step.events;
			run_result_release(&r);
			scenario_free(s);
			diag_release(&d);
			t[i] = walltime_now() - t0;
		}
		qsort(t, RUNS, sizeof t[0], bench_cmp);
		printf("simulate %s: median %.3f ms (best %.3f) over %d runs; %zu ops, %zu events\n",
		       argv[f], t[RUNS / 2] * 1e3, t[0] * 1e3, RUNS, ops, events);
	}
	return 0;
}
