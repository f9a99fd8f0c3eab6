/*
 * walltime: seconds on the monotonic clock, for progress lines and wall times (never for a
 * simulated figure: those depend on the scenario alone). Foundation stage.
 */
#ifndef DSSIM_WALLTIME_H
#define DSSIM_WALLTIME_H

#include <time.h>

static inline double walltime_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#endif
