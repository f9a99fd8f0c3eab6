/*
 * engine: runs a graph as a discrete-event simulation. Ops start when their dependencies are done
 * and their stream has finished the ops issued before them; transfers share links max-min fairly
 * with the transfers on them at the same time (a flow-level model: rates are the progressive
 * filling of Bertsekas & Gallager, Data Networks §6.5.2, solved again for the flows connected to
 * one that starts or ends); allocations and frees go to the memory tracker. Simulate stage:
 * includes only graph, queue and memtrack; knows nothing of transformers.
 */
#ifndef DSSIM_ENGINE_H
#define DSSIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"
#include "memtrack.h"

struct engine;

/* The graph must outlive the engine. */
struct engine *engine_new(const struct graph *g);
void engine_free(struct engine *e);                /* NULL is a no-op */
/* Record each device's memory timeline (on by default); call before the first step. */
void engine_record_timeline(struct engine *e, bool on);
/* Process one event; false when nothing is left to do. */
bool engine_step(struct engine *e);
/* Run to the end. 0, or -1 if ops were left unstarted. graph.c only lets an op depend on earlier
 * ops and streams run in issue order, so the lowest unfinished op can always start and -1 means a
 * bug in the engine itself. */
int engine_run(struct engine *e);
/*
 * Driving: a driver may append ops to the graph while the engine runs (graph_add_* with
 * dependencies on any earlier op, finished or not), then call engine_sync before the next step;
 * the new ops start as soon as their stream and dependencies allow, at the current time at the
 * earliest. Streams, links and devices must all exist before engine_new. engine_step and
 * engine_run behave as before for a graph that never grows.
 */
void engine_sync(struct engine *e);
/* Keep a list of completed ops for engine_take_done (off by default; call before the first
 * step). */
void engine_report_done(struct engine *e, bool on);
/* Move up to max completed ops, in completion order, into ops; how many. */
size_t engine_take_done(struct engine *e, uint32_t *ops, size_t max);
double engine_now(const struct engine *e);
size_t engine_events(const struct engine *e);
/* When each op started and ended (seconds); valid for ops that ran. */
double engine_op_start(const struct engine *e, size_t op);
double engine_op_end(const struct engine *e, size_t op);
bool engine_op_done(const struct engine *e, size_t op);
const struct memtrack *engine_memory(const struct engine *e);

#endif
