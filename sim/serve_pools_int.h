/*
 * serve_pools_int: what the files of disaggregated serving share (serve_pools.c drives the
 * pools and runs the prefill pool; serve_pools_decode.c moves KV caches and runs the decode
 * pool). Private to sim/serve_pools*.c.
 */
#ifndef DSSIM_SERVE_POOLS_INT_H
#define DSSIM_SERVE_POOLS_INT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "graph.h"
#include "serve_int.h"

enum pseq_state { PS_FUTURE, PS_QUEUED, PS_PREFILL, PS_HANDOFF, PS_MOVING, PS_DECODE,
		  PS_PREEMPTED, PS_DONE };
enum { NO_OP = UINT32_MAX, NO_LINK = UINT32_MAX, LINKS = FORWARD_LINKS };

/* A request on its way through the pools. */
struct pseq {
	int64_t computed;     /* prompt tokens whose KV is cached on the prefill replica */
	int64_t cached;       /* of them, the prefix cache's */
	int64_t dcomputed;    /* tokens whose KV is cached on the decode replica */
	int64_t generated;    /* output tokens sampled; known tokens are prompt + generated */
	int64_t pblocks, dblocks;   /* KV blocks held on the prefill / decode replica */
	int64_t sched;        /* tokens this iteration */
	uint32_t prep, drep;  /* its replicas */
	uint32_t move_first, move;   /* the KV move's first and last ops */
	double first_token, finish;
	int state;
};

/* One pool: its replicas are rep[first .. first + n) of the run. */
struct pool {
	struct scenario s;    /* the scenario with the pool's parallelism and batch limits */
	struct forward_cost *f;
	int64_t total_blocks, gpus_per_rep;
	double kv_per_token;  /* bytes per GPU */
	size_t first, n;      /* its replicas in the state's array */
	double gpu_s;         /* iteration time summed over its replicas */
	int64_t iterations;
};

/* One replica of a pool: its queue (prompts routed to it, or caches handed to it), its batch,
 * its KV blocks, its streams and ports on the graph, and the iteration in flight. */
struct prep {
	struct pool *pool;
	int role;
	size_t *queue;        /* a ring of sequence indices */
	size_t qhead, qlen;
	size_t *run;          /* admission order */
	size_t nrun, outstanding;
	size_t *mv;           /* a ring: the sequences whose KV caches are in flight to it */
	size_t mhead, moving;
	size_t *pre;          /* a ring: its preempted sequences, the latest first */
	size_t phead, plen;
	bool preempted;       /* this iteration */
	int64_t free_blocks;
	uint32_t gpu, stream, kv_stream, link[LINKS];
	uint32_t op;
	double start;         /* of the iteration in flight */
	double gpu_t, end;    /* the last iteration's GPU time and when it ended */
	int32_t seqs, prefills;   /* what it runs, for a trace */
	struct forward_batch b;
};

/* One disaggregated run. */
struct pstate {
	const struct scenario *s;
	const struct request_stream *rs;
	struct pseq *seq;
	struct pool pool[SERVE_POOLS];
	struct prep *rep;
	size_t nrep, next_route, turn[SERVE_POOLS];
	int64_t block_size;
	struct graph *g;
	struct engine *eng;
	int32_t *owner;       /* per stream: its replica, or -1 for the router */
	uint32_t router;
	bool waking;
	double now, moved_bytes;
	double *xfer;         /* per request: its KV transfer's time */
	size_t nxfer;
	struct serve_result *r;
	size_t iters_cap;
	bool keep;            /* every iteration, for --trace */
};

static inline int64_t blocks_for(const struct pstate *e, int64_t tokens)
{
	return (int64_t)ceil(model_held_tokens(&e->s->model, (double)tokens) /
			     (double)e->block_size);
}

static inline void qpush(struct prep *p, size_t i, size_t cap)
{
	p->queue[(p->qhead + p->qlen++) % cap] = i;
}

static inline size_t qpop(struct prep *p, size_t cap)
{
	size_t i = p->queue[p->qhead];
	p->qhead = (p->qhead + 1) % cap;
	p->qlen--;
	return i;
}

/* serve_pools.c: issue p->b as p's next iteration; end request i. */
void serve_pools_issue(struct pstate *e, struct prep *p, double sequences, bool decode_only);
void serve_pools_finish(struct pstate *e, size_t i);
/* serve_pools_decode.c: d pulls the caches handed to it while it has room; an op of d's pull
 * stream ended; d's next iteration (false when it has nothing to run) and its end. */
void serve_pools_pull(struct pstate *e, struct prep *d);
void serve_pools_arrived(struct pstate *e, struct prep *d, uint32_t op);
bool serve_pools_begin_decode(struct pstate *e, struct prep *d);
void serve_pools_end_decode(struct pstate *e, struct prep *d);

#endif
