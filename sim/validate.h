/*
 * validate: runs the published cases of a validation file (tests/validation/published.yaml)
 * through the whole pipeline and compares each with its published figure. Output stage: loads
 * scenarios, builds and simulates steps, reads results. `dssim validate` and the validation test
 * share it, so users see the accuracy of the build they have.
 */
#ifndef DSSIM_VALIDATE_H
#define DSSIM_VALIDATE_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"
#include "scenario.h"

struct validate_row {
	char *name;
	char *metric;           /* "tflops_eq3" or "step_s" */
	double published, simulated, error, tolerance;
	bool ok;                /* |error| <= tolerance */
};

struct validate_report {
	struct validate_row *rows;
	size_t count;
	size_t failed;          /* rows outside their tolerance */
};

/* Load and run every case. 0, or -1 with diagnostics (a malformed file or case). */
int validate_run(const char *path, const struct scenario_options *opt, struct validate_report *r,
		 struct diag *d);
void validate_report_release(struct validate_report *r);
void validate_print(FILE *out, const struct validate_report *r);
void validate_json(FILE *out, const struct validate_report *r);

#endif
