/*
 * bench_sweep: the sweep targets (sweeps issue) on one core —
 *   analytic screening >= 60,000 points/s: expansion and memory screen of the example sweep,
 *     nothing stored;
 *   >= 500 simulated points/s for 16-GPU training points: 32B on 2 p4de.24xlarge, every
 *     strategy of strategy: auto, nothing stored;
 *   SQLite writes < 10 % of a sweep's time: the simulated points written to a fresh database
 *     in the transactions dssim sweep uses, against the time to compute them.
 * Usage: bench_sweep EXAMPLE_SPEC SIXTEEN_GPU_SPEC
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "xalloc.h"
#include "diag.h"
#include "store.h"
#include "sweep.h"

struct keep {
	size_t n, cap, simulated;
	struct store_point *p;
	bool store;
};

static int on_point(void *ctx, const struct store_point *p)
{
	struct keep *k = ctx;
	k->simulated += p->status == STORE_SIMULATED;
	if (!k->store) {
		k->n++;
		return 0;
	}
	if (k->n == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 1024;
		k->p = realloc(k->p, k->cap * sizeof *k->p);
		if (k->p == NULL)
			abort();
	}
	k->p[k->n] = *p;
	k->p[k->n].config = strdup(p->config ? p->config : "{}");
	k->n++;
	return 0;
}

static double run(const char *path, bool analytic, struct keep *k)
{
	struct diag d;
	struct sweep_spec *sp;
	struct sweep_slice sl;
	struct sweep_callbacks cb = {NULL, on_point, k};
	struct sweep_counts c;
	double t0;
	diag_init(&d);
	sp = sweep_spec_load(path, getenv("DSSIM_DATA"), &d);
	if (sp == NULL) {
		diag_print(&d, stderr);
		exit(1);
	}
	memset(&sl, 0, sizeof sl);
	sl.shards = sl.workers = 1;
	sl.analytic = analytic;
	t0 = walltime_now();
	if (sweep_run(sp, &sl, &cb, &c, &d) != 0) {
		diag_print(&d, stderr);
		exit(1);
	}
	t0 = walltime_now() - t0;
	sweep_spec_free(sp);
	diag_release(&d);
	return t0;
}

int main(int argc, char **argv)
{
	struct keep a = {0, 0, 0, NULL, false}, s = {0, 0, 0, NULL, true};
	char path[] = "/tmp/bench_sweep_XXXXXX";
	struct diag d;
	double ta, ts, tw, to, tc;
	struct store *st;
	size_t i;
	int fd;
	xalloc_init();
	if (argc != 3) {
		fprintf(stderr, "usage: bench_sweep EXAMPLE_SPEC SIXTEEN_GPU_SPEC\n");
		return 2;
	}
	gsl_set_error_handler_off();
	ta = run(argv[1], true, &a);
	printf("sweep screening %s: %zu points in %.3f s = %.0f points/s (target >= 60000)\n",
	       argv[1], a.n, ta, (double)a.n / ta);
	ts = run(argv[2], false, &s);
	printf("sweep simulation %s: %zu points (%zu simulated) in %.3f s = %.0f simulated "
	       "points/s (target >= 500)\n",
	       argv[2], s.n, s.simulated, ts, (double)s.simulated / ts);
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	unlink(path);
	to = walltime_now();
	diag_init(&d);
	st = store_open(path, false, 1000, &d);
	if (st == NULL || store_sweep_begin(st, "", "bench", NULL, &d) != 0) {
		diag_print(&d, stderr);
		return 1;
	}
	to = walltime_now() - to;
	tw = walltime_now();
	for (i = 0; i < s.n; i++) {
		if (store_put(st, &s.p[i], &d) != 0 ||
		    ((i + 1) % 256 == 0 && store_commit(st, &d) != 0)) {
			diag_print(&d, stderr);
			return 1;
		}
	}
	if (store_commit(st, &d) != 0)
		return 1;
	tw = walltime_now() - tw;
	tc = walltime_now();
	if (store_close(st, &d) != 0)
		return 1;
	diag_release(&d);
	tc = walltime_now() - tc;
	/* Opening (schema) and closing (WAL checkpoint, fsync) happen once per sweep, whatever
	 * its size: shown apart from the per-point writes. */
	printf("sweep SQLite writes: %zu points in %.3f s = %.1f %% of computing them "
	       "(target < 10 %%); open %.3f s and close %.3f s once per sweep\n", s.n, tw,
	       100 * tw / (ts + tw), to, tc);
	for (i = 0; i < s.n; i++)
		free(s.p[i].config);
	free(s.p);
	for (i = 0; i < 3; i++) {
		char f[sizeof path + 8];
		snprintf(f, sizeof f, "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		unlink(f);
	}
	return 0;
}
