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
#include "serve.h"

/* t is the simulated step of a training scenario, sv the served request stream of an inference
 * one; either may be NULL (not simulated). */
void output_text(FILE *out, const struct scenario *s, const struct memory_report *m,
		 const struct result *t, const struct serve_result *sv);
void output_json(FILE *out, const struct scenario *s, const struct memory_report *m,
		 const struct result *t, const struct serve_result *sv);

#endif
