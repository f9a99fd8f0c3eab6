/*
 * graph: the generic op DAG the engine runs — ops on streams of simulated devices, their
 * dependencies, the links a transfer crosses, and the allocations and frees each op makes.
 * Plan stage; knows nothing of transformers (the step builder does) nor of event queues (the
 * engine does). Ops on one stream run in the order they were added, as on a CUDA stream.
 */
#ifndef DSSIM_GRAPH_H
#define DSSIM_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xalloc.h"

enum graph_op_kind {
	GRAPH_COMPUTE,    /* busy its stream for a fixed duration */
	GRAPH_TRANSFER,   /* moves bytes over links, sharing their bandwidth, after a latency */
};

struct graph_op {
	const char *name;
	enum graph_op_kind kind;
	uint32_t stream;
	int category;          /* the builder's label (compute, tp_comm, ...), for accounting */
	double duration;       /* GRAPH_COMPUTE: seconds */
	double bytes;          /* GRAPH_TRANSFER */
	double latency;        /* GRAPH_TRANSFER: seconds before the bytes flow */
	uint32_t first_dep, ndeps;
	uint32_t first_link, nlinks;
	uint32_t first_mem, nmem;
};

/* An allocation (bytes > 0) or free (bytes < 0) on a device when an op starts or ends. */
struct graph_mem {
	uint32_t device;
	double bytes;
	bool at_end;
};

struct graph_stream {
	uint32_t device;
	const char *name;
	bool contends;         /* its transfers slow the device's computation (graph_set_slowdown) */
};

struct graph_link {
	const char *name;
	double bw;             /* bytes/s */
	uint32_t device;       /* the device whose port it is, or GRAPH_SHARED */
};

#define GRAPH_SHARED UINT32_MAX

struct graph {
	struct arena *arena;   /* names */
	struct graph_op *ops;
	size_t nops, opcap;
	uint32_t *deps;
	size_t ndeps, depcap;
	uint32_t *op_links;
	size_t nop_links, op_linkcap;
	struct graph_mem *mem;
	size_t nmem, memcap;
	struct graph_stream *streams;
	size_t nstreams, streamcap;
	struct graph_link *links;
	size_t nlinks, linkcap;
	size_t ndevices;
	double *capacity;      /* per device, bytes (0: unlimited) */
	double *initial;       /* per device, bytes allocated before the first op (weights, ...) */
	double *slowdown;      /* per device: fraction of compute speed lost while a contending
				  stream's transfer runs (0: none) */
};

struct graph *graph_new(size_t devices);
void graph_free(struct graph *g);                  /* NULL is a no-op */
void graph_set_device(struct graph *g, uint32_t device, double capacity, double initial);
uint32_t graph_add_stream(struct graph *g, uint32_t device, const char *name);
uint32_t graph_add_link(struct graph *g, const char *name, double bw);
/* A link that is one device's port (its NVLink, its share of the NIC, its PCIe lane). */
uint32_t graph_add_port(struct graph *g, uint32_t device, const char *name, double bw);
/* Add a compute op; returns its index. name must outlive the graph (a literal, or a string
 * from g->arena). */
uint32_t graph_add_compute(struct graph *g, uint32_t stream, const char *name, int category,
			   double duration);
/* Add a transfer op over links[0..nlinks). */
uint32_t graph_add_transfer(struct graph *g, uint32_t stream, const char *name, int category,
			    double bytes, double latency, const uint32_t *links, size_t nlinks);
/* Communication that overlaps computation takes some of the GPU from it: while any transfer of
 * a contending stream of the device is in flight, its compute ops run at (1 - fraction) of their
 * speed. */
void graph_set_slowdown(struct graph *g, uint32_t device, double fraction);
void graph_stream_contends(struct graph *g, uint32_t stream);
/* Dependencies and memory events belong to the op added last (asserted). */
void graph_add_dep(struct graph *g, uint32_t op, uint32_t dep);
void graph_add_mem(struct graph *g, uint32_t op, uint32_t device, double bytes, bool at_end);

#endif
