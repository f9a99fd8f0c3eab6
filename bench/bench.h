/*
 * bench.h: what the benchmark programs share — a monotonic clock and a comparison for sorting
 * run times to take medians.
 */
#ifndef DSSIM_BENCH_H
#define DSSIM_BENCH_H

#include <time.h>

static inline double bench_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#endif
