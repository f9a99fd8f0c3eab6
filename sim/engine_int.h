/*
 * engine_int: the event loop's state, shared by the files of the engine module (engine.c runs
 * the loop, engine_append.c grows the graph under a running engine and answers queries).
 * Private to sim/engine*.c. Simulate stage.
 */
#ifndef DSSIM_ENGINE_INT_H
#define DSSIM_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "graph.h"
#include "memtrack.h"
#include "queue.h"

enum { EV_COMPUTE_DONE, EV_LATENCY_DONE, EV_FLOW_DONE, EV_WORK_DONE };

struct flow {
	double remaining;      /* bytes */
	double rate;           /* bytes/s */
	double since;          /* when remaining was last brought up to date */
	double fill;           /* its rate from the last progressive filling of its component */
	uint64_t mark;         /* epoch: in the component being solved; epoch + 1: frozen */
	uint32_t version;
	bool active;
};

struct link_state {
	uint32_t *flows;       /* ops whose flow crosses the link, in start order */
	size_t count, cap;
	uint64_t mark;         /* epoch: in the component being solved */
	double left;           /* progressive filling: bandwidth not yet given out, bytes/s */
	uint32_t unfrozen;     /* progressive filling: flows on it still rising */
};

/* What the event loop reads of an op, packed: the graph's records are larger and their memory
 * events live in another array, so reading them per event costs cache misses. */
struct hot_op {
	double duration;
	double mem_start, mem_end;   /* on the op's own device, summed */
	uint32_t stream;             /* the device is the stream's */
	uint32_t waiting;            /* unfinished dependencies: read with stream when one ends */
	uint32_t dep_begin;          /* its dependents: dependents[dep_begin ..] */
	uint16_t dep_count;          /* how many; DEP_MANY: read dep_first instead */
	uint8_t kind;
	bool other_devices;          /* some memory event is on another device: walk the list */
};
enum { DEP_MANY = UINT16_MAX };

/* When an op ran: written together, so one cache line per op. */
struct op_time {
	double start, end;           /* -1 until the op starts / ends */
};

/* A stream's ops are a slice of one array, in issue order. */
struct stream_state {
	uint32_t first, len, next;
	bool busy;
	/* Its running compute op, whose speed contention may change: work left (seconds at full
	 * speed) as of `since`, the speed since then, and a version that retires old completions. */
	uint32_t running;
	double remaining, rate, since;
	uint32_t version;
	bool transfers;       /* it issues transfers, which read their graph record to start */
};

struct engine {
	const struct graph *g;
	struct hot_op *hot;
	struct queue *q;
	struct memtrack *mem;
	double now;
	size_t events;
	uint32_t *dependents;  /* CSR: ops that depend on op i */
	uint32_t *dep_first;
	uint32_t *stream_ops;  /* every stream's ops, stream after stream */
	struct stream_state *streams;
	struct op_time *times;
	struct flow *flows;    /* one per transfer op */
	uint32_t *flow_of;     /* op -> index into flows (transfers only) */
	struct link_state *links;
	/* The component of flows being solved again (see fill_component); scratch. */
	uint32_t *comp_links, *comp_flows;
	size_t ncomp_links, ncomp_flows, comp_link_cap, comp_flow_cap;
	uint64_t epoch;        /* goes up by 2 per component: marks never need clearing */
	size_t finished;
	/* Driving (engine_sync): ops appended after engine_new. Their dependents and their place
	 * on a stream live beside the static CSR and slices, which stay as built. */
	bool begun;
	size_t nops, opcap;    /* ops the per-op arrays describe, and their room */
	size_t ntransfers, flowcap;
	uint32_t *later_head, *later_tail;  /* per op: its appended dependents, a list in op order */
	struct later {
		uint32_t op, next;
	} *later;
	size_t nlater, latercap;
	struct appended {
		uint32_t *ops;
		size_t len, cap, next;
	} *appended;           /* per stream: appended ops in issue order */
	/* Contention (graph_set_slowdown): per device, contending transfers in flight, and its
	 * streams (CSR: dev_streams[dev_first[d] .. dev_first[d + 1])). */
	uint32_t *contending, *dev_first, *dev_streams;
	bool report_done;
	uint32_t *done;        /* completed ops not yet taken, done[done_head .. ndone) */
	size_t ndone, done_head, donecap;
};

enum { NO_OP = UINT32_MAX };

/* The packed record of op i (its dependents are filled in by the caller). */
void engine_fill_hot(const struct graph *g, struct hot_op *h, size_t i);
/* Start the next op of a stream if the stream is idle and the op's dependencies are done. */
void engine_try_stream(struct engine *e, uint32_t s);

#endif
