/*
 * store_int: what the files of the store module share (store.c opens, writes and hashes;
 * store_schema.c holds the column table; store_read.c answers queries; store_merge.c merges).
 * Private to sim/store*.c, and to the store's own tests, which reach the connection to provoke
 * failures. Nothing else includes it: outside store, SQLite is not known.
 */
#ifndef DSSIM_STORE_INT_H
#define DSSIM_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "store.h"

/* Bump on every change to a table or view; a database of another version is refused with
 * "schema N, this dssim reads M: re-run the sweep into a new file", unless a migration
 * (store_schema_migration) takes it to this one. 5 added the uncertainty columns of results
 * (store_band_cols) to 4, 6 the price_kind column of points to 5, 7 the skips table, 8 the pool columns of
 * results (store_pool_cols): a
 * writer adds them to a schema 4 to 7 file, NULL in its rows; a reader reads one as it is
 * (the columns or the table absent). */
enum { STORE_SCHEMA_VERSION = 8, STORE_SCHEMA_OLDEST = 4 };

struct sqlite3;
struct sqlite3_stmt;

enum col_type { COL_TEXT, COL_INT, COL_REAL, COL_BOOL };

struct column {
	const char *name;
	enum col_type type;
	size_t offset;            /* into struct store_point; (size_t)-1: set by the writer */
	const char *doc;
};

#define P(field) offsetof(struct store_point, field)
#define NONE ((size_t)-1)
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The key columns of points, after id, sweep_id, hash and config; the columns of results
 * after point_id (the time and memory columns follow, named by store_extra_name). */
extern const struct column store_point_cols[], store_result_cols[];
extern const size_t store_npoint_cols, store_nresult_cols;

enum { STORE_EXTRA_COLS = STORE_TIMES + STORE_PARTS };

/* The uncertainty columns of results, after the time and memory columns (schema 5): draws,
 * seed, clamped, then P10, P50 and P90 of step_s, tokens_per_s and mfu. All NULL for a point
 * without bands. */
enum { STORE_BAND_COLS = 12 };
extern const struct column store_band_cols[STORE_BAND_COLS];
/* The disaggregated serving columns of results, after the band columns (schema 8): each pool's
 * GPUs and busy fraction, the KV transfer's mean and p99. All NULL without serving.pools. */
enum { STORE_POOL_COLS = 6 };
extern const struct column store_pool_cols[STORE_POOL_COLS];
/* The SQL that takes a database of schema `from` (STORE_SCHEMA_OLDEST or later) to this one
 * (ALTER TABLE ... ADD COLUMN, the version), malloc'd. */
char *store_schema_migration(int from);

struct store {
	struct sqlite3 *db;
	struct sqlite3_stmt *put_point, *put_result, *put_error, *has, *put_config, *get_config;
	struct sqlite3_stmt *get_screened, *drop_result, *drop_point;
	/* The configs written last, so the points of a group find theirs without a query. The
	 * ids are only good in the transaction that may have made them: cleared on a rollback. */
	struct {
		char *json;
		size_t len;
		int64_t id;
	} recent[16];
	size_t next_recent;
	int64_t sweep_id;
	bool in_tx;
	bool readonly;
	int version;              /* the file's schema: STORE_SCHEMA_VERSION, or 4 or 5 read-only */
	char *path;               /* the file, for the place of diagnostics */
};

/* The name of the i-th time or memory column of results (t_compute ... m_overhead). */
void store_extra_name(size_t i, char *buf, size_t size);
/* The CREATE statements; the INSERT of points (0), results (1) or errors (2). malloc'd. */
char *store_schema_sql(void);
char *store_insert_sql(int which);

/* The place of a diagnostic about the database: its file, no line. */
struct mark store_mark(const struct store *st);
/* Record "what: SQLite's message" (of the store's connection) in d. */
void store_fail(struct store *st, const char *what, struct diag *d);
/* Run SQL text (several statements). 0, or -1 with SQLite's message in d. */
int store_exec(struct store *st, const char *sql, struct diag *d);

/* Mark `interrupted` the running sweeps whose writer is gone from this host (store_sweeps.c).
 * 0, or -1 with the reason in d. */
int store_sweeps_settle(struct store *st, struct diag *d);

/* The connection: for the store's tests only (fault injection, independent checks). */
struct sqlite3 *store_db(struct store *st);

#endif
