/*
 * store: the sweep database (SQLite). Creates and documents the schema (sweeps, points, results,
 * errors and the views that make comparisons short), writes points in transactions of bounded
 * size, knows which configurations a database already holds (resume), merges databases and
 * answers read-only queries as typed rows. Output stage: it stores records, it does not compute
 * them. The only module that knows SQLite: every SQLite error is translated here. WAL mode and a
 * busy timeout let two sweeps write one file; a killed writer loses only its open transaction.
 */
#ifndef DSSIM_STORE_H
#define DSSIM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

/* The time breakdown columns: the step categories (step.h), then the pipeline bubble; the
 * memory parts (memory.h). store_schema.c asserts both against their modules. */
enum { STORE_TIMES = 9, STORE_PARTS = 7 };
/* The mark after a stored hash (store_hashes) of a point only screened, and of a simulated
 * training point that fits but lacks the bands an uncertainty sweep asks for. */
enum { STORE_HASH_SCREENED = 's', STORE_HASH_UNBANDED = 'u' };
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
	enum store_status status;
	/* Key columns, from the loaded scenario. */
	char mode[8], model[96], node[64], recompute[16], schedule[16], dtype[8];
	char price_date[16];
	char price_kind[16];      /* on_demand, capacity_block, spot or reserved */
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
	double mem[STORE_PARTS];  /* analytic bytes of the most loaded GPU */
	/* Inference. */
	double requests_per_s, output_tokens_per_s;
	double ttft_p50, ttft_p99, tpot_p50, tpot_p99, latency_p99;
	double wall_s;            /* the worker's time on this point */
	/* Train, `sweep --uncertainty`: P10, P50 and P90 of step_s, tokens_per_s and mfu over
	 * u_draws parameter sets drawn from the calibration's covariance with the sweep's seed
	 * u_seed (calibrate_uncertainty); u_draws 0 (NULL in the table) without. */
	int64_t u_draws, u_seed, u_clamped;
	double u_step_s[3], u_tokens_per_s[3], u_mfu[3];
	/* Infer with serving.pools (schema 8): each pool's GPUs and busy fraction, the KV cache
	 * transfer's mean and p99 seconds; prefill_gpus 0 (NULL in the table) without pools. */
	int64_t prefill_gpus, decode_gpus;
	double prefill_busy, decode_busy, kv_transfer_mean, kv_transfer_p99;
	/* Memory of the most loaded GPU over the simulated step, at most STORE_TIMELINE changes
	 * (the largest allocation of each interval): a report's memory-over-time chart. */
	int ntimeline;
	double timeline_t[STORE_TIMELINE], timeline_bytes[STORE_TIMELINE];
	char *config;             /* canonical configuration JSON (or what failed to load); owned */
	uint32_t shared_len;      /* config is "{shared,own}": the length of the part a group of
				     points shares (stored once), or 0 */
};

struct store;

/* The schema version this dssim reads and writes (PRAGMA user_version of the file). */
int store_schema_version(void);
/* The names of the time columns (t_NAME: compute ... bubble, i < STORE_TIMES) and memory
 * columns (m_NAME: weights ... overhead, i < STORE_PARTS) of results; NULL past the end. */
const char *store_time_name(size_t i);
const char *store_part_name(size_t i);

/* Open (creating, with the schema) a database for writing or, when readonly, for queries.
 * busy_ms is how long to wait for another writer's lock. NULL with the reason in d; a database
 * of another schema version gives "schema N, this dssim reads M: re-run the sweep into a new
 * file", except schemas 4 (before the uncertainty columns) and 5 (before price_kind): a writer
 * migrates it (adds the columns, NULL in its rows), a reader reads it as it is. Every
 * diagnostic of the store is placed at its file, without a line. */
struct store *store_open(const char *path, bool readonly, int busy_ms, struct diag *d);
/* An existing database is checked first (PRAGMA quick_check): a damaged one is refused with
 * "corrupt database (run dssim db check): ...". A path SQLite would not read as a file
 * (store_path_check) is refused. */
/* 0 when path names a file; -1 with "'PATH' is not a database file" in d for an empty path,
 * ":memory:" or a "file:" URI, where a sweep would store its points in memory and keep none.
 * A command calls it on --db before anything else to exit with status 2. */
int store_path_check(const char *path, struct diag *d);
/* A private in-memory database with the schema (compare's scratch space). */
struct store *store_open_private(struct diag *d);
/* Open read-only without the page check, for dssim db check to report the damage. */
struct store *store_open_damaged(const char *path, struct diag *d);
/* Commit what is pending and close. 0, or -1 with the reason in d. */
int store_close(struct store *st, struct diag *d);

/* A new row in sweeps; its id goes on every point written after. */
int store_sweep_begin(struct store *st, const char *spec, const char *spec_file,
		      const char *shard, struct diag *d);
/* Mark the sweep done, interrupted or failed, with its finish time. */
int store_sweep_end(struct store *st, const char *status, struct diag *d);
/* Record that the current sweep left out count configurations for reason (a row of skips,
 * schema 7). 0, or -1 with the reason in d. */
int store_write_skip(struct store *st, const char *reason, int64_t count, struct diag *d);
/* The start time of process pid (clock ticks after boot, /proc/PID/stat field 22), or -1
 * where it cannot be read (no such process, no /proc). */
int64_t store_process_start(long pid);

/* Whether a point with this hash is stored. */
bool store_has(struct store *st, const char *hash);
/* The stored hashes, sorted (for workers that skip stored points before they compute them).
 * Each entry is the 16 hex digits, then '\0' for a point that is settled,
 * STORE_HASH_SCREENED for a point only screened (--analytic), which a full sweep simulates
 * (store_put then replaces it), or, when draws > 0, STORE_HASH_UNBANDED for a simulated
 * training point that fits without bands of draws draws and seed seed, which an uncertainty
 * sweep redoes (store_put replaces it too). Caller frees the array with free(); *n gets the
 * count. */
char (*store_hashes(struct store *st, int64_t draws, int64_t seed, size_t *n))[17];
/* Whether the database has a point with uncertainty bands (none in a schema 4 file). */
bool store_has_bands(struct store *st);
/* Whether the file has the points.price_kind column (schema 6; a reader of a schema 4 or 5
 * file selects NULL in its place). */
bool store_has_price_kind(struct store *st);

/* Write a point (inside the open transaction; one is begun when none is). A point already
 * stored is left as it is, unless it was only screened and this one is not, or it fits
 * simulated without this one's bands (u_draws, u_seed) and this one has bands: then this one
 * replaces it (under a new id, with the current sweep). 0, or -1 with the reason in d (a full disk, a lock not released,
 * a read-only store); a failure rolls back the open transaction, so a point is never stored
 * without its result: the caller stops, and a rerun redoes the points lost. */
int store_put(struct store *st, const struct store_point *p, struct diag *d);
/* Commit the open transaction (the caller bounds its size). */
int store_commit(struct store *st, struct diag *d);

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
 * *added gets the number of points added. 0, or -1 with the reason in d. */
int store_merge(struct store *st, const char *from, size_t *added, struct diag *d);

/* The schema, with a comment on every column (dssim db schema). */
void store_print_schema(FILE *out);

/* ---- reading ---- */

enum store_type { STORE_NULL, STORE_INT, STORE_REAL, STORE_TEXT };

/* A value: a query's parameter, or a cell of its result. i and d hold the value converted
 * as SQLite converts (NULL and text that is no number read as 0); text is set for text only. */
struct store_value {
	enum store_type type;
	int64_t i;
	double d;
	const char *text;
};

/* The result of a query: plain data, owned by the caller (store_rows_free). */
struct store_rows {
	size_t cols, rows;
	char **names;               /* cols column names */
	struct store_value *cells;  /* rows x cols, row by row; text owned by the rows */
};

struct store_value store_int(int64_t v);
struct store_value store_text(const char *s);  /* NULL binds SQL NULL */

/* Run one read-only SELECT (or PRAGMA that reads) with parameters 1..nparams bound to params,
 * into *out. 0, or -1 with SQLite's message in d: bad SQL, a statement that would write, a
 * parameter count that does not match, or a failure while reading. */
int store_query(struct store *st, const char *sql, const struct store_value *params,
		size_t nparams, struct store_rows **out, struct diag *d);
/* Only compile the query: 0 when store_query could run it, else -1 with the reason in d
 * (tells a bad --where from a database that cannot be read). */
int store_query_check(struct store *st, const char *sql, struct diag *d);
void store_rows_free(struct store_rows *r);       /* NULL is a no-op */
const struct store_value *store_cell(const struct store_rows *r, size_t row, size_t col);
/* The column named name, or -1. */
int store_rows_column(const struct store_rows *r, const char *name);

/* The row of v_points with this id (every column; no rows when there is none). */
int store_fetch_point(struct store *st, int64_t id, struct store_rows **out, struct diag *d);
/* The id of the stored point with this hash; 0 when none. */
int64_t store_point_id(struct store *st, const char *hash);
/* The sweeps that were interrupted: marked so, or still `running` while their writer is gone
 * from this host (a writable store_open marks those; a read-only one cannot). Rows of id,
 * started, host, pid, spec_file, by id. 0, or -1 with the reason in d. */
int store_interrupted(struct store *st, struct store_rows **out, struct diag *d);

/* A boolean SQL expression over named parameters (:name), evaluated for many sets of values
 * in a private in-memory database (a sweep's `where`). names[nnames] are the names a value may
 * be given for, without the colon. NULL when it does not compile, with "not an expression:
 * SQLite's message" in d at the place and key given (where the expression came from). */
struct store_where;
struct store_where *store_where_new(const char *expr, const char *const *names, size_t nnames,
				    struct mark at, const char *key, struct diag *d);
void store_where_free(struct store_where *w);    /* NULL is a no-op */
/* Whether the expression uses names[k] (only those need a value). */
bool store_where_uses(const struct store_where *w, size_t k);
/* Whether it is true (not NULL, not 0) for values[k] of names[k] (those it uses). */
bool store_where_passes(struct store_where *w, const struct store_value *values);

#endif
