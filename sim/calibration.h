/*
 * calibration: a calibration file, the parameters `dssim calibrate` fitted — ordinary scenario
 * keys with values and their covariance — read back for a scenario that applies it (a top-level
 * `calibration: FILE` key or --calibration). Input stage: knows YAML trees and the schema's key
 * names, nothing of runs; the fit itself is calibrate (output stage).
 */
#ifndef DSSIM_CALIBRATION_H
#define DSSIM_CALIBRATION_H

#include <stddef.h>

#include "diag.h"
#include "xalloc.h"

/* At most this many parameters: the fit needs more cases than parameters, and a handful is
 * what published runs can pin down. */
enum { CALIBRATION_MAX = 16 };

struct calibration {
	const char *file;          /* where it was read */
	size_t n;                  /* parameters */
	const char **keys;         /* dotted scenario keys: number keys of the schema, or lists
				      of numbers (the GEMM efficiency curve) */
	double *values;            /* a number key's value; a list's scale, which multiplies
				      every element the presets give it */
	struct mark *marks;        /* where each value was read */
	double *cov;               /* n x n, row-major; NULL when the file has no covariance */
};

/*
 * Read a calibration file: `keys:` a mapping of number keys to values, and optionally
 * `covariance:` a list of n rows of n numbers (symmetric, non-negative diagonal). Everything
 * lives in a. The calibration, or NULL with every problem in d.
 */
struct calibration *calibration_load(struct arena *a, const char *path, struct diag *d);

/*
 * The calibration a scenario applies: --calibration (cli, relative to the working directory),
 * or else the scenario's top-level `calibration: FILE` (relative to the scenario file), or one
 * already loaded (given, which wins over both). The key is not a schema row: it is taken out of
 * top, and the values it sets are what the canonical form sees. *out gets the calibration or
 * NULL, *read the file read or NULL. 0, or -1 with diagnostics.
 */
struct ynode;
int calibration_take(struct arena *a, struct ynode *top, const char *scenario_file,
		     const char *cli, const struct calibration *given,
		     const struct calibration **out, const char **read, struct diag *d);

/* Multiply every number of list (a YNODE_SEQ) by scale, each held inside [lo, hi], and mark
 * the list and its numbers as set at `at` (the calibration file). */
void calibration_scale_list(struct arena *a, struct ynode *list, double scale, double lo,
			    double hi, struct mark at);

/* A deep copy in a (a scenario keeps its own). */
struct calibration *calibration_copy(struct arena *a, const struct calibration *c);

#endif
