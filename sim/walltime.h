/*
 * walltime: seconds on the monotonic clock, for progress lines and wall times (never for a
 * simulated figure: those depend on the scenario alone). Foundation stage.
 */
#ifndef DSSIM_WALLTIME_H
#define DSSIM_WALLTIME_H

#include <stdbool.h>
#include <time.h>

/* A progress line on a terminal is redrawn at most this often (seconds). */
#define WALLTIME_REDRAW 0.2

static inline double walltime_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Whether a progress line is due: forced, or every seconds since *last; when it is, *last
 * becomes now. */
static inline bool walltime_due(double *last, double every, bool force)
{
	double t = walltime_now();
	if (!force && t - *last < every)
		return false;
	*last = t;
	return true;
}

#endif
