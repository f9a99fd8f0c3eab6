/*
 * store: the sweep database (SQLite). Creates and documents the schema (sweeps, points, results,
 * errors and the views that make comparisons short), writes points in transactions of bounded
 * size, knows which configurations a database already holds (resume) and merges databases.
 * Output stage: it stores records, it does not compute them. WAL mode and a busy timeout let two
 * sweeps write one file; a killed writer loses only its open transaction.
 */
#ifndef DSSIM_STORE_H
#define DSSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memory.h"
#include "step.h"

/* The time breakdown columns: the step categories, then the pipeline bubble. */
enum { STORE_TIMES = STEP_CATEGORIES + 1 };
/* Samples of a simulated point's memory timeline kept in the database. */
enum { STORE_TIMELINE = 64 };

/* How a point ended. */
enum store_status {
	STORE_SIMULATED,   /* fits and ran on the event engine (or the serving loop) */
	STORE_SCREENED,    /* fits by the analytic memory model; not simulated (--analytic) */
	STORE_NO_FIT,      /* screened out by the analytic memory model: reason says why */
	STORE_ERROR,       /* did not load or could not be simulated: reason holds the error */
};

/* One point of a sweep and what became of it: a flat record that goes through a pipe or MPI
 * as bytes (store_pack), so every field but config is fixed-size. */
struct store_point {
	char hash[17];            /* of the version and the canonical configuration */
	int status;               /* enum store_status */
	/* Key columns, from the loaded scenario. */
	char mode[8], model[96], node[64], recompute[16], schedule[16], dtype[8];
	char price_date[16];
	int64_t nodes, gpus, tp, pp, dp, cp, ep, zero, micro_batch, global_batch, vp, seq_len;
	double arrival_rate;      /* infer: requests/s offered */
	/* Results. */
	bool fits;
	char reason[256];         /* why it does not fit, or the error */
	double step_s, tokens_per_s, tflops_per_gpu, mfu, hfu;
	double peak_per_gpu;      /* simulated when simulated, else analytic */
	double analytic_peak, capacity, host_per_node, host_capacity;
	double usd_per_hour, usd_per_million_tokens;
	double time[STORE_TIMES]; /* exposed seconds per category, then bubble */
	double mem[MEMORY_PARTS]; /* analytic bytes of the most loaded GPU */
	/* Inference. */
	double requests_per_s, output_tokens_per_s;
	double ttft_p50, ttft_p99, tpot_p50, tpot_p99, latency_p99;
	double wall_s;            /* the worker's time on this point */
	/* Memory of the most loaded GPU over the simulated step, at most STORE_TIMELINE changes
	 * (the largest allocation of each interval): a report's memory-over-time chart. */
	int ntimeline;
	double timeline_t[STORE_TIMELINE], timeline_bytes[STORE_TIMELINE];
	char *config;             /* canonical configuration JSON (or what failed to load); owned */
	uint32_t shared_len;      /* config is "{shared,own}": the length of the part a group of
				     points shares (stored once), or 0 */
};

struct store;

/* Open (creating, with the schema) a database for writing or, when readonly, for queries.
 * busy_ms is how long to wait for another writer's lock. NULL with the reason in err. */
struct store *store_open(const char *path, bool readonly, int busy_ms, char *err, size_t errsize);
/* Commit what is pending and close. 0, or -1 with the reason in err. */
int store_close(struct store *st, char *err, size_t errsize);
/* The connection, for queries (top, compare, reports). */
struct sqlite3 *store_db(struct store *st);

/* A new row in sweeps; its id goes on every point written after. */
int store_sweep_begin(struct store *st, const char *spec, const char *spec_file,
		      const char *shard, char *err, size_t errsize);
/* Mark the sweep done, interrupted or failed, with its finish time. */
int store_sweep_end(struct store *st, const char *status, char *err, size_t errsize);

/* Whether a point with this hash is stored. */
bool store_has(struct store *st, const char *hash);
/* The stored hashes, sorted (for workers that skip stored points before they compute them).
 * Caller frees the array with free(); *n gets the count. */
char (*store_hashes(struct store *st, size_t *n))[17];

/* Write a point (inside the open transaction; one is begun when none is). A point already
 * stored is left as it is. 0, or -1 with the reason in err (a full disk, a lock not released,
 * a read-only store); a failure rolls back the open transaction, so a point is never stored
 * without its result: the caller stops, and a rerun redoes the points lost. */
int store_put(struct store *st, const struct store_point *p, char *err, size_t errsize);
/* Commit the open transaction (the caller bounds its size). */
int store_commit(struct store *st, char *err, size_t errsize);

/* Fill the hash of a point from its config and the dssim version (FNV-1a, 64 bits). */
void store_hash(const char *config, char out[17]);
/* The same in steps, for a config built from parts: begin (the version), add each part's
 * bytes, hex. */
uint64_t store_hash_begin(void);
uint64_t store_hash_add(uint64_t h, const char *s, size_t n);
void store_hash_hex(uint64_t h, char out[17]);

/* Serialize a point to bytes for a pipe or MPI, and back. pack returns a malloc'd buffer and
 * its size; unpack returns 0, or -1 on a malformed buffer. */
void *store_pack(const struct store_point *p, size_t *size);
int store_unpack(const void *buf, size_t size, struct store_point *p);
void store_point_release(struct store_point *p);

/* Copy every point of the database at `from` that `st` lacks, with its sweep, result and error.
 * *added gets the number of points added. 0, or -1 with the reason in err. */
int store_merge(struct store *st, const char *from, size_t *added, char *err, size_t errsize);

/* The schema, with a comment on every column (dssim db schema). */
void store_print_schema(FILE *out);

#endif
