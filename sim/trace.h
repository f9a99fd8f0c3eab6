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

/* Category names index by graph_op.category. Returns 0, or -1 when writing failed. */
int trace_write(FILE *out, const struct graph *g, const struct engine *e,
		const char *const *category_names, int ncategories);

#endif
