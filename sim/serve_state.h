/*
 * serve_state: what serve.c (continuous batching and the driver) and serve_static.c (static
 * batching) share: a run's sequences, its replicas' queues and KV blocks, and the iteration each
 * has in flight. Private to sim/serve.c, sim/serve_static.c and the serve tests.
 */
#ifndef DSSIM_SERVE_STATE_H
#define DSSIM_SERVE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forward.h"
#include "serve_int.h"
#include "speculative.h"

struct engine;
struct graph;

enum seq_state { SEQ_FUTURE, SEQ_WAITING, SEQ_RUNNING, SEQ_SWAPPED, SEQ_DONE };

struct seq {
	int64_t len;          /* known tokens: prompt plus generated */
	int64_t computed;     /* tokens whose keys and values are cached */
	int64_t cached;       /* prompt tokens the prefix cache holds (whole blocks, shared) */
	int64_t generated;
	int64_t blocks;       /* KV blocks held on the GPU (or on the host when swapped) */
	int64_t sched;        /* tokens scheduled this iteration */
	int64_t drafted;      /* speculative tokens it verifies this iteration */
	double carry;         /* the fraction of a token its accepted drafts are ahead by */
	double first_token, finish;
	int state;
	unsigned held;        /* async output: HELD_FIRST, HELD_LAST, the times not yet final */
};

enum { HELD_FIRST = 1, HELD_LAST = 2 };

enum { NO_ITERATION = UINT32_MAX, NO_LINK = UINT32_MAX };
/* Streams of a replica: compute, then one per class of link. */
enum { STREAMS_PER_REPLICA = 1 + FORWARD_LINKS };

/* One dp replica: its scheduler's queues and KV blocks, and the iteration it has in flight. */
struct replica {
	size_t *waiting;      /* a ring: indices of queued sequences, head first */
	size_t wcap, whead, wlen;
	size_t *running;      /* admission order */
	size_t nrunning;
	size_t outstanding;   /* routed to it and not finished */
	int64_t free_blocks, host_free_blocks;
	bool preempted;       /* this iteration */
	double swap_s;        /* this iteration */
	uint32_t stream;      /* its first GPU's compute stream; its link streams follow */
	uint32_t link[FORWARD_LINKS];   /* that GPU's port on each class of link, or NO_LINK */
	uint32_t op;          /* the iteration's last op in flight, or NO_ITERATION */
	/* What the iteration in flight computes, recorded when it ends. */
	double start, dt, in_system;
	bool moved;           /* some of it moves bytes on links: its time is the engine's */
	double gpu, end;      /* the last iteration's GPU time and when it ended */
	struct forward_batch b;
	struct speculative_batch sb;
	int32_t prefills;
	size_t scheduled;
	/* Static batching: the batch's iteration k of longest. */
	int64_t k, longest;
	int64_t steps_left;   /* multi-step: iterations before the scheduler admits again */
	double ratio;         /* serving.new_token_ratio as it stands now (serve_admit.c) */
	/* serving.async_output: the sequences whose first or last token the last iteration made;
	 * they reach the client when the next iteration, begun at once, ends. */
	size_t *held;
	size_t nheld;
};

struct serve_state {
	const struct scenario *s;
	const struct request_stream *rs;
	const struct forward_cost *f;
	struct speculative *sp;   /* NULL: no speculative decoding */
	struct seq *seq;
	struct replica *rep;
	size_t nrep;
	size_t next_route;    /* the first request not yet handed to a replica */
	size_t turn;          /* round robin: the replica that gets the next request */
	int64_t total_blocks, block_size;   /* per replica */
	double block_bytes;   /* per GPU */
	double pcie_bw;
	double now;
	struct graph *g;
	struct engine *eng;
	uint32_t router;      /* the router's stream: a chain of waits, one per arrival time */
	bool waking;          /* a wait is in flight */
	struct serve_result *r;
	size_t iters_cap;
	bool keep;
};

/* KV blocks a sequence of `tokens` known tokens fills. */
int64_t serve_blocks_for(const struct serve_state *e, int64_t tokens);
/* Take the head of p's waiting queue (which must not be empty). */
size_t serve_wpop_front(struct replica *p);
/* Sequence i finished now: its blocks go back to p. */
void serve_finish_sequence(struct serve_state *e, struct replica *p, size_t i);
/* Account p's iteration that ended now (and keep it, when asked). */
void serve_record(struct serve_state *e, struct replica *p);
/*
 * Put the iteration of p->b on the replica's GPUs: its compute (kernels, swaps, host overhead)
 * as one op on the compute stream, then its collectives as one transfer per class of link, in
 * class order, over its first GPU's port (its TP peers do the same on theirs: one stands for
 * all). With nothing else on the links the chain takes forward's time. in_system: requests at
 * the replica when it starts; extra: seconds of swapping it adds.
 */
void serve_issue(struct serve_state *e, struct replica *p, double in_system, double extra);

/* SGLang's admission (serving.new_token_ratio > 0; serve_admit.c). The KV tokens an admission
 * round starts with promised to p's running requests; whether request i, with `extend` prompt
 * tokens still to compute, fits the `avail` free tokens beside the `*promised` ones (if so it
 * adds its own; an idle p takes its first request); and the ratio's update after a decode
 * iteration (retracted: whether it preempted) and when p falls idle. */
double serve_admit_promised(const struct serve_state *e, const struct replica *p);
bool serve_admit_fits(const struct serve_state *e, const struct replica *p, size_t i,
		      int64_t extend, double avail, double *promised);
void serve_admit_decoded(const struct serve_state *e, struct replica *p, bool retracted);
void serve_admit_idle(const struct serve_state *e, struct replica *p);

/* Static batching (serve_static.c): admit a batch when p has none and issue its next
 * iteration; false when p has nothing to do. */
bool serve_begin_static(struct serve_state *e, struct replica *p);
/* End p's static-batch iteration that completed now. */
void serve_end_static(struct serve_state *e, struct replica *p);

#endif
