/*
 * serve_int: what the files of the serve module share (serve.c plays colocated replicas,
 * serve_pools.c disaggregated prefill and decode pools). Private to sim/serve*.c and the serve
 * tests.
 */
#ifndef DSSIM_SERVE_INT_H
#define DSSIM_SERVE_INT_H

#include "serve.h"

/* Mean and quantiles of x[0..n) (sorted in place) into *out; all 0 when n is 0. */
void serve_stat_of(double *x, size_t n, struct serve_stat *out);

/* A finished request's times (s) and lengths. */
struct serve_done {
	double arrival, first_token, finish;
	int64_t prompt, output;
};
/* From the n finished requests d: r's TTFT, TPOT and latency statistics, its duration (the last
 * finish) and throughput over it, and its steady state (serve_summary.c). Returns the summed
 * latency. */
double serve_summarize_done(const struct serve_done *d, size_t n, struct serve_result *r);
struct engine;
/* Step eng until *finished reaches n, calling drive(ctx) first and after each step (it takes
 * the engine's finished ops and schedules what follows). 0, or -1 with a message in d at `at`
 * when the engine runs out of work first: a request needs more KV blocks than `where` has. */
int serve_drive_to_end(struct engine *eng, void (*drive)(void *), void *ctx,
		       const size_t *finished, size_t n, const char *where, struct mark at,
		       struct diag *d);
/* The arrival rate the run offers (requests/s), 0 when every request arrives at once: a trace,
 * a single request, or rate 0. */
double serve_offered_rate(const struct scenario *s, const struct request_stream *rs);
/* The prompt tokens of rq that the prefix cache holds, in whole blocks of `block` tokens. */
int64_t serve_prefix_hit(const struct scenario *s, int64_t block, const struct request *rq);
/* The gap after now that lands exactly on t when added to now. */
double serve_gap_to(double now, double t);

/* serve_run for disaggregated pools (serve_pools.c): m is unused, each pool sizes its own KV
 * cache from its own parallelism. 0, or -1 with a message in d. */
int serve_pools_run(const struct scenario *s, const struct request_stream *rs,
		    const struct serve_options *o, struct serve_result *out, struct diag *d);

#endif
