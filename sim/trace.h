/*
 * trace: Chrome trace-event JSON of a simulated run (open it in Perfetto or chrome://tracing) —
 * a process per simulated GPU, a thread per stream, a complete event per op, and a counter
 * track of each GPU's allocated memory. Output stage.
 */
#ifndef DSSIM_TRACE_H
#define DSSIM_TRACE_H

#include <stdio.h>

#include "engine.h"
#include "graph.h"
#include "serve.h"

/* Category names index by graph_op.category. Returns 0, or -1 when writing failed. */
int trace_write(FILE *out, const struct graph *g, const struct engine *e,
		const char *const *category_names, int ncategories);

/* A served request stream: a process per GPU of one replica (tp x pp; pipeline stages show the
 * same iterations), an event per iteration, and counters of KV blocks in use and sequences
 * running. r must have kept its iterations. */
int trace_write_serving(FILE *out, const struct scenario *s, const struct serve_result *r);

#endif
