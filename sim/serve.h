/*
 * serve: a vLLM-style serving engine played over a request stream — continuous batching with
 * chunked prefill, a paged KV cache of fixed-size blocks, preemption of the newest sequence by
 * recomputation or by swapping to host memory, and static batching as a baseline. Simulate
 * stage: it drives the event engine — requests arrive as events, a router (serving.router) hands
 * them to the dp replicas, and each replica's iterations are ops on its GPUs' streams, costed by
 * forward. Knows nothing of the engine's queue or link sharing.
 */
#ifndef DSSIM_SERVE_H
#define DSSIM_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forward.h"
#include "memory.h"
#include "requests.h"
#include "scenario.h"

/* mean, p50, p90, p99 of a latency, seconds. */
struct serve_stat {
	double mean, p50, p90, p99;
};

/* Latency targets for --find-max-rate: "ttft_p99=2s,tpot_p99=100ms". */
enum serve_metric { SERVE_TTFT, SERVE_TPOT, SERVE_LATENCY };
enum serve_quantile { SERVE_MEAN, SERVE_P50, SERVE_P90, SERVE_P99 };
struct serve_target {
	enum serve_metric metric;
	enum serve_quantile quantile;
	double limit;             /* s */
};
enum { SERVE_TARGETS_MAX = 12 };
struct serve_slo {
	struct serve_target t[SERVE_TARGETS_MAX];
	int n;
};
/* One iteration, kept when a trace is asked for. */
struct serve_iteration {
	double start, duration;
	int32_t tokens, sequences, prefills;
	int64_t kv_blocks;        /* in use after the iteration, on its replica */
	int32_t replica;          /* the dp replica that ran it */
};

/* One pool of disaggregated serving (serving.pools): prefill, then decode. */
enum { SERVE_PREFILL, SERVE_DECODE, SERVE_POOLS };
struct serve_pool_result {
	int64_t gpus, tp, ep, replicas;
	int64_t kv_blocks_total;  /* per replica */
	int64_t max_batched_tokens, max_num_seqs;   /* a replica's limits per iteration */
	int64_t iterations;
	double busy;              /* fraction of the duration its replicas compute, averaged */
};

/* The rate a run holds once its load has settled (serve_summary.c): over the window from one
 * median latency after the first arrival to the last arrival; valid false when the arrivals end
 * before it opens (the run never settles, or every request arrives at once). */
struct serve_steady {
	bool valid;
	double from, to;          /* s */
	double input_tokens_per_s, output_tokens_per_s;
	double tpot_mean;         /* s, over the requests that arrive in the window */
};

struct serve_result {
	size_t requests, finished;
	double duration;          /* s from time 0 to the last finish */
	double requests_per_s, input_tokens_per_s, output_tokens_per_s;
	struct serve_stat ttft, tpot, latency;
	struct serve_steady steady;
	int64_t replicas;         /* dp: engines sharing the request stream */
	int64_t kv_blocks_total, kv_blocks_peak;   /* per replica (the peak: the fullest) */
	int64_t max_num_seqs;     /* a scheduler's limit: serving.max_num_seqs or SGLang's rule */
	double kv_peak_fraction;
	double kv_tokens;         /* blocks x block_size */
	int64_t preemptions, swaps;
	int64_t iterations;
	double mean_batch;        /* sequences per iteration */
	double mean_in_system;    /* time-average of requests arrived and not finished */
	double busy;              /* fraction of the duration the replicas compute, averaged */
	double part[FORWARD_PARTS];  /* seconds summed over iterations */
	double swap_s, overhead_s;
	double draft_s;           /* GPU seconds of speculative drafting, summed over iterations */
	double spec_steps, spec_tokens;   /* speculative decode steps and the tokens they kept */
	double spec_tokens_per_step;      /* mean tokens a step kept, the bonus token included */
	double offered_rate;      /* requests/s of the arrival process (0: all at once) */
	/* Disaggregated pools: each pool's figures, and the time of each request's KV cache
	 * transfer from its prefill replica to its decode replica (engine time on the links). */
	bool disaggregated;
	struct serve_pool_result pool[SERVE_POOLS];
	struct serve_stat kv_transfer;
	double kv_transfer_bytes;  /* mean per request, per GPU of the sending replica */
	struct serve_iteration *iters;   /* owned when kept */
	size_t niters;
	/* --find-max-rate: the run above is at found_rate (0: no rate meets the targets). */
	bool searched;
	double found_rate, capacity_rate;
	int search_runs;
	struct serve_slo slo;
};

struct serve_options {
	bool keep_iterations;     /* for --trace */
};

/*
 * Serve the scenario's requests. m is its memory report (the KV budget). 0, or -1 with a
 * message in d at the scenario's file (a layout forward cannot cost, a KV cache smaller than
 * one sequence, requests that cannot be scheduled).
 */
int serve_run(const struct scenario *s, const struct memory_report *m,
	      const struct request_stream *rs, const struct serve_options *o,
	      struct serve_result *out, struct diag *d);
void serve_result_release(struct serve_result *r);
/* Whether the scenario serves with disaggregated pools (serving.pools): then serve_run sizes
 * each pool from its own parallelism, and the scenario's strategy is not what serves. */
bool serve_has_pools(const struct scenario *s);

/* Parse latency targets "ttft_p99=2s,tpot_p99=100ms" into *out. 0, or -1 with a message in d
 * at the place and key given (where the text came from, e.g. no file and key "--slo"). */
int serve_parse_slo(const char *text, struct mark at, const char *key, struct serve_slo *out,
		    struct diag *d);
/* Whether a result meets every target (and served every request). */
bool serve_meets(const struct serve_result *r, const struct serve_slo *slo);
/* The target's name ("ttft_p99") and the result's value of it. */
const char *serve_target_name(const struct serve_target *t, char *buf, size_t size);
double serve_target_value(const struct serve_result *r, const struct serve_target *t);

#endif
