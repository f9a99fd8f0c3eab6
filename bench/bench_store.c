/*
 * bench_store: the cost of opening a results database (database issue): every command that
 * opens an existing database runs PRAGMA quick_check first, so a damaged file is refused rather
 * than read as empty. Target: opening a 10 MB database, check included, under 50 ms (median of
 * 9 opens, warm page cache); the open without the check is printed beside it.
 * Usage: bench_store
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "diag.h"
#include "store.h"
#include "xalloc.h"

enum { RUNS = 9, TARGET_BYTES = 10 << 20 };

static void die(struct diag *d)
{
	diag_print(d, stderr);
	exit(1);
}

/* Simulated training points, as a sweep writes them (a full memory timeline each), until the
 * file holds at least TARGET_BYTES. */
static void fill(const char *path)
{
	struct diag d;
	struct store *st;
	struct store_point p;
	struct stat sb;
	char cfg[128];
	long n = 0;
	int i;
	diag_init(&d);
	do {
		st = store_open(path, false, 1000, &d);
		if (st == NULL || store_sweep_begin(st, "", "bench", NULL, &d) != 0)
			die(&d);
		for (i = 0; i < 2000; i++, n++) {
			snprintf(cfg, sizeof cfg, "{\"model\":\"llama3-70b\",\"point\":%ld}", n);
			memset(&p, 0, sizeof p);
			p.status = STORE_SIMULATED;
			snprintf(p.mode, sizeof p.mode, "train");
			snprintf(p.model, sizeof p.model, "llama3-70b");
			snprintf(p.node, sizeof p.node, "p5.48xlarge");
			p.nodes = 1 + n % 64;
			p.gpus = 8 * p.nodes;
			p.tp = p.pp = p.dp = p.cp = p.ep = 1;
			p.fits = true;
			p.step_s = 1.0 + (double)n * 1e-3;
			p.peak_per_gpu = p.analytic_peak = 60e9 + (double)n;
			p.ntimeline = STORE_TIMELINE;
			for (int k = 0; k < STORE_TIMELINE; k++) {
				p.timeline_t[k] = p.step_s * k / STORE_TIMELINE;
				p.timeline_bytes[k] = 1e9 * (double)(k % 7) + (double)n;
			}
			p.config = cfg;
			store_hash(cfg, p.hash);
			if (store_put(st, &p, &d) != 0)
				die(&d);
		}
		if (store_close(st, &d) != 0)
			die(&d);
		if (stat(path, &sb) != 0)
			exit(1);
	} while (sb.st_size < TARGET_BYTES);
	diag_release(&d);
}

static double median_open(const char *path, bool check)
{
	double t[RUNS];
	struct diag d;
	int i;
	diag_init(&d);
	for (i = 0; i < RUNS; i++) {
		double t0 = walltime_now();
		struct store *st = check ? store_open(path, true, 1000, &d)
					 : store_open_damaged(path, &d);
		if (st == NULL)
			die(&d);
		t[i] = walltime_now() - t0;
		store_close(st, &d);
	}
	diag_release(&d);
	qsort(t, RUNS, sizeof t[0], bench_cmp);
	return t[RUNS / 2];
}

int main(void)
{
	char dir[] = "/tmp/bench_store_XXXXXX", path[64], f[80];
	struct stat sb;
	double checked, plain;
	int i;
	xalloc_init();
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof path, "%s/10mb.db", dir);
	fill(path);
	if (stat(path, &sb) != 0)
		return 1;
	median_open(path, true); /* warm the page cache */
	checked = median_open(path, true);
	plain = median_open(path, false);
	printf("store open with quick_check: %.1f MB database opened in %.1f ms (target < 50 ms); "
	       "%.1f ms without the check\n", (double)sb.st_size / 1e6, checked * 1e3, plain * 1e3);
	for (i = 0; i < 3; i++) {
		snprintf(f, sizeof f, "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		unlink(f);
	}
	rmdir(dir);
	return 0;
}
