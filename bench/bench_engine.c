/*
 * bench_engine: events per second of the engine alone on a synthetic pipeline-like graph —
 * devices with a compute and a communication stream, chains of compute ops, a transfer over the
 * node's NIC (shared by its 8 GPUs) after every fourth op, cross-device dependencies, an
 * allocation and a free per op. Run by `make bench` with and without the memory timeline; the
 * event-engine issue's target is at least 10 million events per second on one core. With
 * --spine (not under `make bench`) every transfer also crosses one spine link with a quarter of
 * the NICs' bandwidth, so flows overlap and link sharing is solved over components of many links
 * and flows; a tenth of the ops keeps the run short.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "xalloc.h"
#include "engine.h"
#include "graph.h"

int main(int argc, char **argv)
{
	enum { DEVICES = 64, OPS_PER_DEVICE = 40000 };
	struct graph *g = graph_new(DEVICES);
	uint32_t compute[DEVICES], comm[DEVICES], last[DEVICES], nic[DEVICES / 8][2];
	uint32_t d, i;
	struct engine *e;
	double t0, t1, t2;
	size_t events;
	bool timeline = true, spine = false;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--no-timeline") == 0) {
			timeline = false;
		} else if (strcmp(argv[a], "--spine") == 0) {
			spine = true;
		} else {
			fprintf(stderr, "usage: bench_engine [--no-timeline] [--spine]\n");
			return 2;
		}
	}
	xalloc_init();
	t0 = walltime_now();
	for (d = 0; d < DEVICES / 8; d++)
		nic[d][0] = graph_add_link(g, "nic", 400e9);
	/* A quarter of what the NICs could send at once: the spine is a bottleneck when many send. */
	nic[0][1] = graph_add_link(g, "spine", DEVICES / 8 * 400e9 / 4);
	for (d = 1; d < DEVICES / 8; d++)
		nic[d][1] = nic[0][1];
	for (d = 0; d < DEVICES; d++) {
		compute[d] = graph_add_stream(g, d, "compute");
		comm[d] = graph_add_stream(g, d, "comm");
	}
	for (i = 0; i < (spine ? OPS_PER_DEVICE / 10 : OPS_PER_DEVICE); i++) {
		for (d = 0; d < DEVICES; d++) {
			uint32_t op = graph_add_compute(g, compute[d], "layer", 0, 1e-4 * (1 + (i + d) % 3));
			if (i > 0 && d > 0)
				graph_add_dep(g, op, last[d - 1]);
			graph_add_mem(g, op, d, 1e6, false);
			graph_add_mem(g, op, d, -1e6, true);
			last[d] = op;
			if (i % 4 == 3) {
				uint32_t t = graph_add_transfer(g, comm[d], "send", 1, 1e7,
							       3e-6, nic[d / 8], spine ? 2 : 1);
				graph_add_dep(g, t, op);
			}
		}
	}
	/* Three runs on fresh engines over the same graph: the VM this runs on is noisy, so each
	 * run and the median are shown; the first one pays for faulting in fresh memory. */
	{
		enum { RUNS = 3 };
		double t[RUNS], setup = 0, built = walltime_now() - t0;
		int r;
		for (r = 0; r < RUNS; r++) {
			double ts = walltime_now();
			e = engine_new(g);
			engine_record_timeline(e, timeline);
			t1 = walltime_now();
			setup += t1 - ts;
			if (engine_run(e) != 0)
				return 1;
			t2 = walltime_now();
			t[r] = t2 - t1;
			events = engine_events(e);
			if (r + 1 < RUNS)
				engine_free(e);
		}
		printf("engine (%s%s): %zu ops, %zu events; runs of %.2f (first: fresh memory), %.2f, "
		       "%.2f million events/s",
		       timeline ? "memory timeline on" : "timeline off", spine ? ", spine" : "",
		       g->nops, events,
		       (double)events / t[0] / 1e6, (double)events / t[1] / 1e6,
		       (double)events / t[2] / 1e6);
		qsort(t, RUNS, sizeof t[0], bench_cmp);
		printf("; median %.2f (target >= 10); graph built in %.3f s, engine set up in %.3f s; "
		       "simulated %.4g s\n",
		       (double)events / t[RUNS / 2] / 1e6, built, setup / RUNS, engine_now(e));
	}
	engine_free(e);
	graph_free(g);
	return 0;
}
