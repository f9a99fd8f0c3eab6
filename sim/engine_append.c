/*
 * engine_append: ops appended to the graph while the engine runs (a serving run issues each
 * iteration as it begins), completions handed back to the driver, and the engine's queries.
 * Simulate stage, part of the engine module.
 */
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "engine_int.h"
#include "xalloc.h"

void engine_report_done(struct engine *e, bool on)
{
	e->report_done = on;
}

size_t engine_take_done(struct engine *e, uint32_t *ops, size_t max)
{
	size_t n = e->ndone - e->done_head;
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(ops, &e->done[e->done_head], n * sizeof *ops);
	e->done_head += n;
	if (e->done_head == e->ndone)
		e->done_head = e->ndone = 0;
	return n;
}

/* Make room for n ops in every per-op array, doubling; the lists of appended dependents start
 * empty, also for the ops of the graph engine_new saw. */
static void reserve_ops(struct engine *e, size_t n)
{
	size_t i, had = e->later_head == NULL ? 0 : e->opcap;
	if (n > e->opcap) {
		e->opcap = n > 2 * e->opcap ? n : 2 * e->opcap;
		e->hot = xreallocarray(e->hot, e->opcap, sizeof *e->hot);
		e->times = xreallocarray(e->times, e->opcap, sizeof *e->times);
		e->flow_of = xreallocarray(e->flow_of, e->opcap, sizeof *e->flow_of);
	}
	if (had == e->opcap && e->later_head != NULL)
		return;
	e->later_head = xreallocarray(e->later_head, e->opcap ? e->opcap : 1,
				      sizeof *e->later_head);
	e->later_tail = xreallocarray(e->later_tail, e->opcap ? e->opcap : 1,
				      sizeof *e->later_tail);
	for (i = had; i < e->opcap; i++)
		e->later_head[i] = e->later_tail[i] = NO_OP;
}

/* Op i, appended to the graph, becomes a dependent of its unfinished dependencies. */
static void link_appended(struct engine *e, size_t i)
{
	const struct graph_op *o = &e->g->ops[i];
	uint32_t k;
	for (k = 0; k < o->ndeps; k++) {
		uint32_t d = e->g->deps[o->first_dep + k], node;
		if (e->times[d].end >= 0)
			continue;
		e->hot[i].waiting++;
		if (e->nlater == e->latercap) {
			e->latercap = e->latercap ? 2 * e->latercap : 64;
			e->later = xreallocarray(e->later, e->latercap, sizeof *e->later);
		}
		node = (uint32_t)e->nlater++;
		e->later[node].op = (uint32_t)i;
		e->later[node].next = NO_OP;
		if (e->later_tail[d] == NO_OP)
			e->later_head[d] = node;
		else
			e->later[e->later_tail[d]].next = node;
		e->later_tail[d] = node;
	}
}

void engine_sync(struct engine *e)
{
	const struct graph *g = e->g;
	size_t i, old = e->nops, n = g->nops;
	if (n == old)
		return;
	if (e->appended == NULL)
		e->appended = xcalloc(g->nstreams ? g->nstreams : 1, sizeof *e->appended);
	reserve_ops(e, n);
	for (i = old; i < n; i++) {
		const struct graph_op *o = &g->ops[i];
		struct appended *a = &e->appended[o->stream];
		BUG_ON(o->stream >= g->nstreams);
		engine_fill_hot(g, &e->hot[i], i);
		e->times[i].start = e->times[i].end = -1.0;
		e->later_head[i] = e->later_tail[i] = NO_OP;
		if (o->kind == GRAPH_TRANSFER) {
			if (e->ntransfers == e->flowcap) {
				e->flowcap = e->flowcap ? 2 * e->flowcap : 64;
				e->flows = xreallocarray(e->flows, e->flowcap, sizeof *e->flows);
			}
			memset(&e->flows[e->ntransfers], 0, sizeof *e->flows);
			e->flow_of[i] = (uint32_t)e->ntransfers++;
		}
		link_appended(e, i);
		if (a->len == a->cap) {
			a->cap = a->cap ? 2 * a->cap : 64;
			a->ops = xreallocarray(a->ops, a->cap, sizeof *a->ops);
		}
		a->ops[a->len++] = (uint32_t)i;
	}
	e->nops = n;
	if (!e->begun)
		return;
	for (i = old; i < n; i++)
		engine_try_stream(e, g->ops[i].stream);
}

double engine_now(const struct engine *e)
{
	return e->now;
}

size_t engine_events(const struct engine *e)
{
	return e->events;
}

double engine_op_start(const struct engine *e, size_t op)
{
	return e->times[op].start;
}

double engine_op_end(const struct engine *e, size_t op)
{
	return e->times[op].end;
}

bool engine_op_done(const struct engine *e, size_t op)
{
	return e->times[op].end >= 0;
}

const struct memtrack *engine_memory(const struct engine *e)
{
	return e->mem;
}
