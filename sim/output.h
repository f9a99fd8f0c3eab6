/*
 * output: the readable report and the JSON document of a run. Output stage: reads the scenario
 * and the run's result (run.h); computes nothing new. JSON doubles use %.17g so a
 * script reads back the exact value dssim computed.
 */
#ifndef DSSIM_OUTPUT_H
#define DSSIM_OUTPUT_H

#include <stdio.h>

#include "run.h"
#include "scenario.h"

/* The report of one run: its memory breakdown, and the simulated step or serving run when
 * there is one. */
void output_text(FILE *out, const struct scenario *s, const struct run_result *r);
void output_json(FILE *out, const struct scenario *s, const struct run_result *r);
/* The same document with one more top-level member, `"name": ` then what member(out, arg)
 * prints (--uncertainty's percentiles). */
void output_json_member(FILE *out, const struct scenario *s, const struct run_result *r,
			const char *name, void (*member)(FILE *, const void *), const void *arg);

#endif
