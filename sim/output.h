/*
 * output: the readable report and the JSON document of a run. Output stage: reads the scenario
 * and the stage products (memory report); computes nothing new. JSON doubles use %.17g so a
 * script reads back the exact value dssim computed.
 */
#ifndef DSSIM_OUTPUT_H
#define DSSIM_OUTPUT_H

#include <stdio.h>

#include "memory.h"
#include "result.h"
#include "scenario.h"

/* t is the simulated step of a training scenario, or NULL (inference, or no simulation). */
void output_text(FILE *out, const struct scenario *s, const struct memory_report *m,
		 const struct result *t);
void output_json(FILE *out, const struct scenario *s, const struct memory_report *m,
		 const struct result *t);

#endif
