/*
 * graph: growable arrays of ops, dependencies, link lists and memory events; an op's lists are
 * contiguous ranges, so they are added right after the op. Plan stage.
 */
#include "graph.h"

#include <stdlib.h>

#include "bug.h"

#define GROW(arr, n, cap, init)                                                        \
	do {                                                                           \
		if ((n) == (cap)) {                                                    \
			(cap) = (cap) ? 2 * (cap) : (init);                            \
			(arr) = xreallocarray((arr), (cap), sizeof *(arr));            \
		}                                                                      \
	} while (0)

struct graph *graph_new(size_t devices)
{
	struct graph *g = xcalloc(1, sizeof *g);
	g->arena = arena_new();
	g->ndevices = devices;
	g->capacity = xcalloc(devices, sizeof *g->capacity);
	g->initial = xcalloc(devices, sizeof *g->initial);
	g->slowdown = xcalloc(devices, sizeof *g->slowdown);
	return g;
}

void graph_free(struct graph *g)
{
	if (g == NULL)
		return;
	arena_free(g->arena);
	free(g->ops);
	free(g->deps);
	free(g->op_links);
	free(g->mem);
	free(g->streams);
	free(g->links);
	free(g->capacity);
	free(g->initial);
	free(g->slowdown);
	free(g);
}

void graph_set_device(struct graph *g, uint32_t device, double capacity, double initial)
{
	BUG_ON(device >= g->ndevices);
	g->capacity[device] = capacity;
	g->initial[device] = initial;
}

uint32_t graph_add_stream(struct graph *g, uint32_t device, const char *name)
{
	BUG_ON(device >= g->ndevices);
	GROW(g->streams, g->nstreams, g->streamcap, 8);
	g->streams[g->nstreams].device = device;
	g->streams[g->nstreams].name = arena_strdup(g->arena, name);
	g->streams[g->nstreams].contends = false;
	return (uint32_t)g->nstreams++;
}

void graph_set_slowdown(struct graph *g, uint32_t device, double fraction)
{
	BUG_ON(device >= g->ndevices || !(fraction >= 0 && fraction < 1));
	g->slowdown[device] = fraction;
}

void graph_stream_contends(struct graph *g, uint32_t stream)
{
	BUG_ON(stream >= g->nstreams);
	g->streams[stream].contends = true;
}

uint32_t graph_add_link(struct graph *g, const char *name, double bw)
{
	BUG_ON(!(bw > 0));
	GROW(g->links, g->nlinks, g->linkcap, 8);
	g->links[g->nlinks].name = arena_strdup(g->arena, name);
	g->links[g->nlinks].bw = bw;
	g->links[g->nlinks].device = GRAPH_SHARED;
	return (uint32_t)g->nlinks++;
}

uint32_t graph_add_port(struct graph *g, uint32_t device, const char *name, double bw)
{
	uint32_t l = graph_add_link(g, name, bw);
	BUG_ON(device >= g->ndevices);
	g->links[l].device = device;
	return l;
}

static uint32_t add_op(struct graph *g, uint32_t stream, const char *name,
		       enum graph_op_kind kind, int category)
{
	struct graph_op *op;
	BUG_ON(stream >= g->nstreams);
	GROW(g->ops, g->nops, g->opcap, 1024);
	op = &g->ops[g->nops];
	op->name = name;   /* the builder's string, usually a literal: copied names cost time */
	op->kind = kind;
	op->stream = stream;
	op->category = category;
	op->duration = op->bytes = op->latency = 0;
	op->first_dep = (uint32_t)g->ndeps;
	op->ndeps = 0;
	op->first_link = (uint32_t)g->nop_links;
	op->nlinks = 0;
	op->first_mem = (uint32_t)g->nmem;
	op->nmem = 0;
	return (uint32_t)g->nops++;
}

uint32_t graph_add_compute(struct graph *g, uint32_t stream, const char *name, int category,
			   double duration)
{
	uint32_t i = add_op(g, stream, name, GRAPH_COMPUTE, category);
	BUG_ON(!(duration >= 0));
	g->ops[i].duration = duration;
	return i;
}

uint32_t graph_add_transfer(struct graph *g, uint32_t stream, const char *name, int category,
			    double bytes, double latency, const uint32_t *links, size_t nlinks)
{
	uint32_t i = add_op(g, stream, name, GRAPH_TRANSFER, category);
	size_t k;
	BUG_ON(!(bytes >= 0 && latency >= 0));
	g->ops[i].bytes = bytes;
	g->ops[i].latency = latency;
	for (k = 0; k < nlinks; k++) {
		BUG_ON(links[k] >= g->nlinks);
		GROW(g->op_links, g->nop_links, g->op_linkcap, 1024);
		g->op_links[g->nop_links++] = links[k];
	}
	g->ops[i].nlinks = (uint32_t)nlinks;
	return i;
}

void graph_add_dep(struct graph *g, uint32_t op, uint32_t dep)
{
	BUG_ON(op + 1 != g->nops || dep >= op);
	GROW(g->deps, g->ndeps, g->depcap, 1024);
	g->deps[g->ndeps++] = dep;
	g->ops[op].ndeps++;
}

void graph_add_mem(struct graph *g, uint32_t op, uint32_t device, double bytes, bool at_end)
{
	BUG_ON(op + 1 != g->nops || device >= g->ndevices);
	GROW(g->mem, g->nmem, g->memcap, 1024);
	g->mem[g->nmem].device = device;
	g->mem[g->nmem].bytes = bytes;
	g->mem[g->nmem].at_end = at_end;
	g->nmem++;
	g->ops[op].nmem++;
}
