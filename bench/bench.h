/*
 * bench.h: what the benchmark programs share — the monotonic clock (walltime_now, sim/walltime.h)
 * and a comparison for sorting run times to take medians.
 */
#ifndef DSSIM_BENCH_H
#define DSSIM_BENCH_H

#include "walltime.h"

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

#endif
