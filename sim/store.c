/*
 * store: the sweep database. One table of columns drives the CREATE statements, the inserts
 * and the documentation `dssim db schema` prints, so the three cannot disagree.
 *
 * Durability: WAL journal with synchronous=NORMAL. A process killed at any moment loses only
 * its open transaction (SQLite "Atomic Commit", sqlite.org/atomiccommit.html; WAL,
 * sqlite.org/wal.html); the caller bounds a transaction's size.
 */
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "xalloc.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

/* Bump when a table changes; a database of another version is refused. */
enum { STORE_SCHEMA_VERSION = 3 };

enum col_type { COL_TEXT, COL_INT, COL_REAL, COL_BOOL };

struct column {
	const char *name;
	enum col_type type;
	size_t offset;            /* into struct store_point; (size_t)-1: set by the writer */
	const char *doc;
};

#define P(field) offsetof(struct store_point, field)
#define NONE ((size_t)-1)

/* The key columns of points, after id, sweep_id, hash and config. */
static const struct column point_cols[] = {
	{"mode", COL_TEXT, P(mode), "train or infer"},
	{"model", COL_TEXT, P(model), "model name (the preset's, or the HuggingFace config's)"},
	{"node", COL_TEXT, P(node), "node or instance type"},
	{"nodes", COL_INT, P(nodes), "nodes used"},
	{"gpus", COL_INT, P(gpus), "GPUs used"},
	{"tp", COL_INT, P(tp), "tensor parallel size"},
	{"pp", COL_INT, P(pp), "pipeline parallel size"},
	{"dp", COL_INT, P(dp), "data parallel size"},
	{"cp", COL_INT, P(cp), "context parallel size"},
	{"ep", COL_INT, P(ep), "expert parallel size"},
	{"zero", COL_INT, P(zero), "ZeRO stage 0-3"},
	{"micro_batch", COL_INT, P(micro_batch), "sequences per micro-batch"},
	{"global_batch", COL_INT, P(global_batch), "sequences per optimizer step"},
	{"recompute", COL_TEXT, P(recompute), "none, selective or full"},
	{"schedule", COL_TEXT, P(schedule), "gpipe, 1f1b or interleaved"},
	{"vp", COL_INT, P(vp), "virtual pipeline stages per GPU"},
	{"seq_len", COL_INT, P(seq_len), "tokens per sequence"},
	{"dtype", COL_TEXT, P(dtype), "weight and compute type"},
	{"arrival_rate", COL_REAL, P(arrival_rate), "infer: requests per second offered"},
	{"price_date", COL_TEXT, P(price_date), "when the node's price was read (preset)"},
};

/* The columns of results after point_id; the time and memory columns follow (see below). */
static const struct column result_cols[] = {
	{"fits", COL_BOOL, P(fits), "1 when device and host memory hold the point"},
	{"simulated", COL_BOOL, NONE, "1 when the event engine (or serving loop) ran it"},
	{"reason", COL_TEXT, P(reason), "why it does not fit; NULL when it fits"},
	{"step_s", COL_REAL, P(step_s), "train: seconds per optimizer step"},
	{"tokens_per_s", COL_REAL, P(tokens_per_s),
	 "train: tokens per second, whole job; infer: output tokens per second"},
	{"tflops_per_gpu", COL_REAL, P(tflops_per_gpu),
	 "train: model TFLOP/s per GPU (no recomputation counted)"},
	{"mfu", COL_REAL, P(mfu), "train: model FLOPs utilization, 0-1"},
	{"hfu", COL_REAL, P(hfu), "train: hardware FLOPs utilization (recomputation counted)"},
	{"peak_per_gpu", COL_REAL, P(peak_per_gpu),
	 "bytes on the most loaded GPU: simulated when simulated, else analytic"},
	{"analytic_peak", COL_REAL, P(analytic_peak), "bytes, the analytic memory model"},
	{"capacity", COL_REAL, P(capacity), "bytes of device memory per GPU"},
	{"host_per_node", COL_REAL, P(host_per_node), "bytes of host memory per node (offload)"},
	{"host_capacity", COL_REAL, P(host_capacity), "bytes of host memory a node has"},
	{"usd_per_hour", COL_REAL, P(usd_per_hour), "on-demand price of the nodes; NULL if unknown"},
	{"usd_per_million_tokens", COL_REAL, P(usd_per_million_tokens),
	 "USD per million tokens (train: processed; infer: output); NULL if unknown"},
	{"requests_per_s", COL_REAL, P(requests_per_s), "infer: requests finished per second"},
	{"output_tokens_per_s", COL_REAL, P(output_tokens_per_s), "infer: output tokens per second"},
	{"ttft_p50", COL_REAL, P(ttft_p50), "infer: median time to first token, s"},
	{"ttft_p99", COL_REAL, P(ttft_p99), "infer: 99th percentile time to first token, s"},
	{"tpot_p50", COL_REAL, P(tpot_p50), "infer: median time per output token, s"},
	{"tpot_p99", COL_REAL, P(tpot_p99), "infer: 99th percentile time per output token, s"},
	{"latency_p99", COL_REAL, P(latency_p99), "infer: 99th percentile request latency, s"},
	{"wall_s", COL_REAL, P(wall_s), "seconds dssim spent on the point"},
	{"memory_timeline", COL_TEXT, NONE,
	 "train: JSON [[s, bytes], ...], the most loaded GPU's memory over the step"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const time_docs = "exposed (not overlapped) seconds of the step in";
static const char *const bubble_name = "bubble";

struct store {
	sqlite3 *db;
	sqlite3_stmt *put_point, *put_result, *put_error, *has, *put_config, *get_config;
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
};

static void forget_configs(struct store *st)
{
	size_t i;
	for (i = 0; i < sizeof st->recent / sizeof st->recent[0]; i++) {
		free(st->recent[i].json);
		st->recent[i].json = NULL;
	}
}

static void set_err(char *err, size_t size, const char *what, sqlite3 *db)
{
	snprintf(err, size, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

static const char *sql_type(enum col_type t)
{
	return t == COL_TEXT ? "TEXT" : t == COL_REAL ? "REAL" : "INTEGER";
}

/* The name of the i-th time or memory column of results. */
static void extra_name(size_t i, char *buf, size_t size)
{
	if (i < STEP_CATEGORIES)
		snprintf(buf, size, "t_%s", step_category_name((int)i));
	else if (i == STEP_CATEGORIES)
		snprintf(buf, size, "t_%s", bubble_name);
	else
		snprintf(buf, size, "m_%s", memory_part_name((enum memory_part)(i - STORE_TIMES)));
}

enum { EXTRA_COLS = STORE_TIMES + MEMORY_PARTS };

/* The schema as SQL; with docs, a comment on each column (for people), without, for SQLite. */
static void write_schema(FILE *f, bool docs)
{
	size_t i;
	char name[64];
#define DOC(...)                                   \
	do {                                       \
		if (docs) {                        \
			fputs("  -- ", f);         \
			fprintf(f, __VA_ARGS__);   \
		}                                  \
		fputc('\n', f);                    \
	} while (0)
	if (docs)
		fprintf(f, "-- dssim sweep database, schema version %d (PRAGMA user_version).\n"
			   "-- Sizes in bytes, times in seconds, prices in USD.\n",
			STORE_SCHEMA_VERSION);
	fputs("CREATE TABLE IF NOT EXISTS sweeps (", f);
	DOC("one row per `dssim sweep` run");
	fputs("  id INTEGER PRIMARY KEY,", f);
	DOC("row id");
	fputs("  spec TEXT NOT NULL,", f);
	DOC("the sweep spec, as given");
	fputs("  spec_file TEXT,", f);
	DOC("where the spec was read");
	fputs("  started TEXT NOT NULL,", f);
	DOC("UTC, ISO 8601");
	fputs("  finished TEXT,", f);
	DOC("UTC, ISO 8601; NULL while it runs or after a crash");
	fputs("  status TEXT NOT NULL,", f);
	DOC("running, done, interrupted or failed");
	fputs("  version TEXT NOT NULL,", f);
	DOC("dssim version");
	fputs("  host TEXT NOT NULL,", f);
	DOC("machine that ran it");
	fputs("  shard TEXT", f);
	DOC("K/N when run with --shard");
	fputs(");\n", f);

	fputs("CREATE TABLE IF NOT EXISTS configs (", f);
	DOC("what the points of a group share: every key but the strategy ones");
	fputs("  id INTEGER PRIMARY KEY,", f);
	DOC("row id");
	fputs("  json TEXT NOT NULL UNIQUE", f);
	DOC("\"key\":value pairs, the outer braces left off");
	fputs(");\n", f);

	fputs("CREATE TABLE IF NOT EXISTS points (", f);
	DOC("one row per configuration");
	fputs("  id INTEGER PRIMARY KEY,", f);
	DOC("row id");
	fputs("  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),", f);
	DOC("the sweep that stored it");
	fputs("  hash TEXT NOT NULL UNIQUE,", f);
	DOC("FNV-1a 64 of the dssim version and config: the resume key");
	fputs("  config_id INTEGER NOT NULL REFERENCES configs(id),", f);
	DOC("the keys it shares with its group");
	fputs("  strategy TEXT NOT NULL,", f);
	DOC("its own keys (strategy.*, micro_batch, global_batch) as \"key\":value pairs");
	for (i = 0; i < COUNT(point_cols); i++) {
		fprintf(f, "  %s %s%s", point_cols[i].name, sql_type(point_cols[i].type),
			i + 1 < COUNT(point_cols) ? "," : "");
		DOC("%s", point_cols[i].doc);
	}
	fputs(");\n", f);

	fputs("CREATE TABLE IF NOT EXISTS results (", f);
	DOC("what became of a point that loaded");
	fputs("  point_id INTEGER PRIMARY KEY REFERENCES points(id),", f);
	DOC("row id");
	for (i = 0; i < COUNT(result_cols); i++) {
		fprintf(f, "  %s %s,", result_cols[i].name, sql_type(result_cols[i].type));
		DOC("%s", result_cols[i].doc);
	}
	for (i = 0; i < EXTRA_COLS; i++) {
		extra_name(i, name, sizeof name);
		fprintf(f, "  %s REAL%s", name, i + 1 < EXTRA_COLS ? "," : "");
		if (i < STEP_CATEGORIES)
			DOC("train: %s %s", time_docs, step_category_name((int)i));
		else if (i == STEP_CATEGORIES)
			DOC("train: seconds the first pipeline stage waits (pipeline bubble)");
		else
			DOC("bytes of %s on the most loaded GPU (analytic)",
			    memory_part_name((enum memory_part)(i - STORE_TIMES)));
	}
	fputs(");\n", f);

	fputs("CREATE TABLE IF NOT EXISTS errors (", f);
	DOC("points that did not load or could not be simulated");
	fputs("  point_id INTEGER PRIMARY KEY REFERENCES points(id),", f);
	DOC("row id");
	fputs("  message TEXT NOT NULL", f);
	DOC("the error, as dssim prints it");
	fputs(");\n", f);

	if (docs)
		fputs("-- Every point with its result and error: the view to query.\n", f);
	if (docs)
		fputs("-- config: the canonical configuration, JSON, every scenario key (what the hash is of).\n",
		      f);
	fputs("CREATE VIEW IF NOT EXISTS v_points AS SELECT p.*, '{' || c.json || CASE\n"
	      "  WHEN p.strategy = '' THEN '' ELSE ',' || p.strategy END || '}' AS config,\n"
	      "  r.*, e.message AS error\n"
	      "  FROM points p JOIN configs c ON c.id = p.config_id\n"
	      "  LEFT JOIN results r ON r.point_id = p.id\n"
	      "  LEFT JOIN errors e ON e.point_id = p.id;\n", f);
	if (docs)
		fputs("-- Points that fit and ran.\n", f);
	fputs("CREATE VIEW IF NOT EXISTS v_fitting AS SELECT * FROM v_points\n"
	      "  WHERE fits = 1 AND simulated = 1 AND error IS NULL;\n", f);
	if (docs)
		fputs("-- For each model, mode, seq_len, node type and node count: the fastest point.\n", f);
	fputs("CREATE VIEW IF NOT EXISTS v_best AS SELECT * FROM (SELECT *, ROW_NUMBER() OVER (\n"
	      "  PARTITION BY model, mode, seq_len, node, nodes ORDER BY tokens_per_s DESC, id)\n"
	      "  AS rank FROM v_fitting) WHERE rank = 1;\n", f);
	if (docs)
		fputs("-- For each model, mode, seq_len and node type: the cheapest point per token.\n",
		      f);
	fputs("CREATE VIEW IF NOT EXISTS v_cheapest AS SELECT * FROM (SELECT *, ROW_NUMBER() OVER (\n"
	      "  PARTITION BY model, mode, seq_len, node\n"
	      "  ORDER BY usd_per_million_tokens IS NULL, usd_per_million_tokens, id) AS rank\n"
	      "  FROM v_fitting) WHERE rank = 1;\n", f);
	if (docs)
		fputs("-- Why points of a model on a node type do not fit (device memory, host memory,\n"
		      "-- out of memory in the simulation), how often, and the smallest shortfall.\n", f);
	fputs("CREATE VIEW IF NOT EXISTS v_misfits AS SELECT model, node,\n"
	      "  substr(reason, 1, instr(reason, ':') - 1) AS cause, COUNT(*) AS points,\n"
	      "  MIN(peak_per_gpu) AS least_peak, MIN(host_per_node) AS least_host\n"
	      "  FROM v_points WHERE fits = 0 AND error IS NULL GROUP BY model, node, cause;\n", f);
#undef DOC
}

void store_print_schema(FILE *out)
{
	write_schema(out, true);
}

static char *schema_sql(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	write_schema(f, false);
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

/* The INSERT statements: points (id from SQLite), results, errors. */
static char *insert_sql(int which)
{
	char *buf = NULL, name[64];
	size_t size = 0, i, n = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	if (which == 0) {
		fputs("INSERT OR IGNORE INTO points (sweep_id, hash, config_id, strategy", f);
		for (i = 0; i < COUNT(point_cols); i++)
			fprintf(f, ", %s", point_cols[i].name);
		n = 4 + COUNT(point_cols);
	} else if (which == 1) {
		fputs("INSERT INTO results (point_id", f);
		for (i = 0; i < COUNT(result_cols); i++)
			fprintf(f, ", %s", result_cols[i].name);
		for (i = 0; i < EXTRA_COLS; i++) {
			extra_name(i, name, sizeof name);
			fprintf(f, ", %s", name);
		}
		n = 1 + COUNT(result_cols) + EXTRA_COLS;
	} else {
		fputs("INSERT INTO errors (point_id, message", f);
		n = 2;
	}
	fputs(") VALUES (", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s?", i ? ", " : "");
	fputs(")", f);
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

static int exec(struct store *st, const char *sql, char *err, size_t errsize)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errsize, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **out, char *err, size_t size)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
		set_err(err, size, "cannot prepare a statement", st->db);
		return -1;
	}
	return 0;
}

/* Create the schema in a new database, or check an existing one's version. */
static int init_schema(struct store *st, char *err, size_t errsize)
{
	sqlite3_stmt *q;
	int version = -1, tables = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		set_err(err, errsize, "not a database", st->db);
		sqlite3_finalize(q);
		return -1;
	}
	version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_schema", -1, &q, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		set_err(err, errsize, "not a database", st->db);
		sqlite3_finalize(q);
		return -1;
	}
	tables = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (tables > 0 && version != STORE_SCHEMA_VERSION) {
		snprintf(err, errsize, "not a dssim database of schema version %d (user_version %d)",
			 STORE_SCHEMA_VERSION, version);
		return -1;
	}
	if (tables == 0 && !st->readonly) {
		char *sql = schema_sql(), ver[64];
		int rc;
		snprintf(ver, sizeof ver, "PRAGMA user_version = %d;", STORE_SCHEMA_VERSION);
		rc = exec(st, "BEGIN IMMEDIATE", err, errsize) || exec(st, sql, err, errsize) ||
		     exec(st, ver, err, errsize) || exec(st, "COMMIT", err, errsize);
		free(sql);
		if (rc != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	} else if (tables == 0) {
		snprintf(err, errsize, "the database is empty");
		return -1;
	}
	return 0;
}

struct store *store_open(const char *path, bool readonly, int busy_ms, char *err, size_t errsize)
{
	struct store *st = xcalloc(1, sizeof *st);
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	char what[4096];
	st->readonly = readonly;
	snprintf(what, sizeof what, "%s", path);
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		set_err(err, errsize, "cannot open", st->db);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, busy_ms);
	/* WAL lets readers go on while a sweep writes, and keeps a killed writer's database
	 * intact; NORMAL syncs at checkpoints, which is durable against a process crash. */
	if (!readonly && (exec(st, "PRAGMA journal_mode = WAL", err, errsize) != 0 ||
			  exec(st, "PRAGMA synchronous = NORMAL", err, errsize) != 0))
		goto fail;
	if (exec(st, "PRAGMA foreign_keys = ON", err, errsize) != 0 ||
	    init_schema(st, err, errsize) != 0)
		goto fail;
	if (!readonly) {
		char *p = insert_sql(0), *r = insert_sql(1), *e = insert_sql(2);
		int rc = prepare(st, p, &st->put_point, err, errsize) ||
			 prepare(st, r, &st->put_result, err, errsize) ||
			 prepare(st, e, &st->put_error, err, errsize) ||
			 prepare(st, "INSERT OR IGNORE INTO configs (json) VALUES (?)",
				 &st->put_config, err, errsize) ||
			 prepare(st, "SELECT id FROM configs WHERE json = ?", &st->get_config, err,
				 errsize);
		free(p);
		free(r);
		free(e);
		if (rc)
			goto fail;
	}
	if (prepare(st, "SELECT 1 FROM points WHERE hash = ?", &st->has, err, errsize) != 0)
		goto fail;
	return st;
fail:
	sqlite3_finalize(st->put_point);
	sqlite3_finalize(st->put_result);
	sqlite3_finalize(st->put_error);
	sqlite3_finalize(st->put_config);
	sqlite3_finalize(st->get_config);
	sqlite3_finalize(st->has);
	forget_configs(st);
	sqlite3_close(st->db);
	free(st);
	return NULL;
}

int store_close(struct store *st, char *err, size_t errsize)
{
	int status = 0;
	if (st == NULL)
		return 0;
	if (st->in_tx)
		status = store_commit(st, err, errsize);
	sqlite3_finalize(st->put_point);
	sqlite3_finalize(st->put_result);
	sqlite3_finalize(st->put_error);
	sqlite3_finalize(st->put_config);
	sqlite3_finalize(st->get_config);
	sqlite3_finalize(st->has);
	forget_configs(st);
	if (sqlite3_close(st->db) != SQLITE_OK && status == 0) {
		set_err(err, errsize, "cannot close", st->db);
		status = -1;
	}
	free(st);
	return status;
}

struct sqlite3 *store_db(struct store *st)
{
	return st->db;
}

static void utc_now(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int store_sweep_begin(struct store *st, const char *spec, const char *spec_file,
		      const char *shard, char *err, size_t errsize)
{
	sqlite3_stmt *q;
	char now[32], host[256] = "";
	int rc;
	utc_now(now, sizeof now);
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	if (prepare(st, "INSERT INTO sweeps (spec, spec_file, started, status, version, host, "
			"shard) VALUES (?, ?, ?, 'running', ?, ?, ?)", &q, err, errsize) != 0)
		return -1;
	sqlite3_bind_text(q, 1, spec, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, spec_file, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, PACKAGE_VERSION, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, host, -1, SQLITE_STATIC);
	if (shard)
		sqlite3_bind_text(q, 6, shard, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		set_err(err, errsize, "cannot record the sweep", st->db);
		return -1;
	}
	st->sweep_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_sweep_end(struct store *st, const char *status, char *err, size_t errsize)
{
	sqlite3_stmt *q;
	char now[32];
	int rc;
	if (st->in_tx && store_commit(st, err, errsize) != 0)
		return -1;
	utc_now(now, sizeof now);
	if (prepare(st, "UPDATE sweeps SET finished = ?, status = ? WHERE id = ?", &q, err,
		    errsize) != 0)
		return -1;
	sqlite3_bind_text(q, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, st->sweep_id);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		set_err(err, errsize, "cannot record the end of the sweep", st->db);
		return -1;
	}
	return 0;
}

bool store_has(struct store *st, const char *hash)
{
	bool found;
	sqlite3_bind_text(st->has, 1, hash, -1, SQLITE_STATIC);
	found = sqlite3_step(st->has) == SQLITE_ROW;
	sqlite3_reset(st->has);
	return found;
}

char (*store_hashes(struct store *st, size_t *n))[17]
{
	sqlite3_stmt *q;
	char(*out)[17] = NULL;
	size_t cap = 0;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT hash FROM points ORDER BY hash", -1, &q, NULL) !=
	    SQLITE_OK)
		return NULL;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(q, 0);
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			out = xreallocarray(out, cap, sizeof *out);
		}
		snprintf(out[*n], sizeof out[*n], "%s", h ? h : "");
		(*n)++;
	}
	sqlite3_finalize(q);
	return out;
}

static void bind_col(sqlite3_stmt *q, int idx, const struct column *c, const struct store_point *p)
{
	const char *field = (const char *)p + c->offset;
	switch (c->type) {
	case COL_TEXT:
		if (field[0] == '\0')
			sqlite3_bind_null(q, idx);
		else
			sqlite3_bind_text(q, idx, field, -1, SQLITE_STATIC);
		break;
	case COL_INT:
		sqlite3_bind_int64(q, idx, *(const int64_t *)field);
		break;
	case COL_BOOL:
		sqlite3_bind_int(q, idx, *(const bool *)field);
		break;
	case COL_REAL: {
		double v = *(const double *)field;
		/* Prices and rates that are unknown are 0 in the record and NULL in the table. */
		if (v == 0 && (c->offset == P(usd_per_hour) || c->offset == P(usd_per_million_tokens)))
			sqlite3_bind_null(q, idx);
		else
			sqlite3_bind_double(q, idx, v);
		break;
	}
	}
}

/* The timeline as JSON text (4 significant digits: a chart's resolution), or NULL when there
 * is none. */
static void bind_timeline(sqlite3_stmt *q, int idx, const struct store_point *p)
{
	char buf[STORE_TIMELINE * 32 + 4];
	size_t n = 0;
	int i, count = p->ntimeline < 0 ? 0 : p->ntimeline > STORE_TIMELINE ? STORE_TIMELINE
									      : p->ntimeline;
	if (count == 0) {
		sqlite3_bind_null(q, idx);
		return;
	}
	buf[n++] = '[';
	for (i = 0; i < count; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s[%.4g,%.4g]", i ? "," : "",
				      p->timeline_t[i], p->timeline_bytes[i]);
	buf[n++] = ']';
	sqlite3_bind_text(q, idx, buf, (int)n, SQLITE_TRANSIENT);
}

static int step_done(struct store *st, sqlite3_stmt *q, const char *what, char *err,
		     size_t errsize)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		set_err(err, errsize, what, st->db);
		return -1;
	}
	return 0;
}

/* A write failed: roll the open transaction back (SQLite may have done so already), so no
 * point is committed without its result and the store knows no transaction is open. */
static int put_failed(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = false;
	forget_configs(st);
	return -1;
}

static int put(struct store *st, const struct store_point *p, char *err, size_t errsize);

int store_put(struct store *st, const struct store_point *p, char *err, size_t errsize)
{
	if (st->readonly) {
		snprintf(err, errsize, "the database is open read-only");
		return -1;
	}
	return put(st, p, err, errsize) == 0 ? 0 : put_failed(st);
}

/* The two parts of a point's config "{shared,own}": split where the sweep joined them
 * (shared_len), or all shared. -1 when it is not an object. */
static int split_config(const struct store_point *p, const char **shared, size_t *shared_len,
			const char **own, size_t *own_len)
{
	const char *c = p->config ? p->config : "{}";
	size_t len = strlen(c);
	if (len < 2 || c[0] != '{' || c[len - 1] != '}')
		return -1;
	*shared = c + 1;
	if (p->shared_len > 0 && p->shared_len + 2 < len && c[1 + p->shared_len] == ',') {
		*shared_len = p->shared_len;
		*own = c + 2 + p->shared_len;
		*own_len = len - 3 - p->shared_len;
	} else {
		*shared_len = len - 2;
		*own = "";
		*own_len = 0;
	}
	return 0;
}

/* The id of a shared part, stored when new. */
static int config_id(struct store *st, const char *json, size_t len, int64_t *id, char *err,
		     size_t errsize)
{
	size_t i, n = sizeof st->recent / sizeof st->recent[0];
	int rc;
	for (i = 0; i < n; i++)
		if (st->recent[i].json && st->recent[i].len == len &&
		    memcmp(st->recent[i].json, json, len) == 0) {
			*id = st->recent[i].id;
			return 0;
		}
	sqlite3_bind_text(st->put_config, 1, json, (int)len, SQLITE_STATIC);
	if (step_done(st, st->put_config, "cannot write a configuration", err, errsize) != 0)
		return -1;
	sqlite3_bind_text(st->get_config, 1, json, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st->get_config);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st->get_config, 0) : 0;
	sqlite3_reset(st->get_config);
	sqlite3_clear_bindings(st->get_config);
	if (rc != SQLITE_ROW) {
		set_err(err, errsize, "cannot read a configuration", st->db);
		return -1;
	}
	i = st->next_recent++ % n;
	free(st->recent[i].json);
	st->recent[i].json = xstrndup(json, len);
	st->recent[i].len = len;
	st->recent[i].id = *id;
	return 0;
}

static int put(struct store *st, const struct store_point *p, char *err, size_t errsize)
{
	size_t i, shared_len, own_len;
	const char *shared, *own;
	int idx;
	int64_t id, cid;
	if (!st->in_tx) {
		if (exec(st, "BEGIN IMMEDIATE", err, errsize) != 0)
			return -1;
		st->in_tx = true;
	}
	if (split_config(p, &shared, &shared_len, &own, &own_len) != 0) {
		snprintf(err, errsize, "a point's config is not a JSON object");
		return -1;
	}
	if (config_id(st, shared, shared_len, &cid, err, errsize) != 0)
		return -1;
	sqlite3_bind_int64(st->put_point, 1, st->sweep_id);
	sqlite3_bind_text(st->put_point, 2, p->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->put_point, 3, cid);
	sqlite3_bind_text(st->put_point, 4, own, (int)own_len, SQLITE_STATIC);
	for (i = 0; i < COUNT(point_cols); i++)
		bind_col(st->put_point, (int)i + 5, &point_cols[i], p);
	if (step_done(st, st->put_point, "cannot write a point", err, errsize) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return 0; /* stored already (another sweep writing the same database) */
	id = sqlite3_last_insert_rowid(st->db);
	if (p->status == STORE_ERROR) {
		sqlite3_bind_int64(st->put_error, 1, id);
		sqlite3_bind_text(st->put_error, 2, p->reason, -1, SQLITE_STATIC);
		return step_done(st, st->put_error, "cannot write an error", err, errsize);
	}
	sqlite3_bind_int64(st->put_result, 1, id);
	idx = 2;
	for (i = 0; i < COUNT(result_cols); i++, idx++) {
		if (result_cols[i].offset == NONE && strcmp(result_cols[i].name, "simulated") == 0)
			sqlite3_bind_int(st->put_result, idx, p->status == STORE_SIMULATED);
		else if (result_cols[i].offset == NONE)
			bind_timeline(st->put_result, idx, p);
		else if (result_cols[i].offset == P(reason) && p->fits)
			sqlite3_bind_null(st->put_result, idx);
		else
			bind_col(st->put_result, idx, &result_cols[i], p);
	}
	for (i = 0; i < STORE_TIMES; i++, idx++) {
		if (p->status == STORE_SIMULATED && strcmp(p->mode, "train") == 0)
			sqlite3_bind_double(st->put_result, idx, p->time[i]);
		else
			sqlite3_bind_null(st->put_result, idx);
	}
	for (i = 0; i < MEMORY_PARTS; i++, idx++)
		sqlite3_bind_double(st->put_result, idx, p->mem[i]);
	return step_done(st, st->put_result, "cannot write a result", err, errsize);
}

int store_commit(struct store *st, char *err, size_t errsize)
{
	if (!st->in_tx)
		return 0;
	st->in_tx = false;
	if (exec(st, "COMMIT", err, errsize) != 0)
		return put_failed(st);
	return 0;
}

/* FNV-1a, 64 bits (Fowler, Noll, Vo; IETF draft-eastlake-fnv, section 2). */
uint64_t store_hash_add(uint64_t h, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

uint64_t store_hash_begin(void)
{
	uint64_t h = store_hash_add(0xcbf29ce484222325ULL, PACKAGE_VERSION, strlen(PACKAGE_VERSION));
	return store_hash_add(h, "\n", 1);
}

void store_hash_hex(uint64_t h, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void store_hash(const char *config, char out[17])
{
	store_hash_hex(store_hash_add(store_hash_begin(), config, strlen(config)), out);
}

void *store_pack(const struct store_point *p, size_t *size)
{
	size_t len = p->config ? strlen(p->config) : 0;
	char *buf = xmalloc(sizeof *p + len);
	struct store_point copy = *p;
	copy.config = NULL;
	memcpy(buf, &copy, sizeof copy);
	if (len)
		memcpy(buf + sizeof copy, p->config, len);
	*size = sizeof copy + len;
	return buf;
}

int store_unpack(const void *buf, size_t size, struct store_point *p)
{
	size_t len;
	if (size < sizeof *p)
		return -1;
	memcpy(p, buf, sizeof *p);
	len = size - sizeof *p;
	p->config = xmalloc(len + 1);
	memcpy(p->config, (const char *)buf + sizeof *p, len);
	p->config[len] = '\0';
	/* The fixed strings come from another process: make sure they end. */
	p->hash[sizeof p->hash - 1] = p->mode[sizeof p->mode - 1] = '\0';
	p->model[sizeof p->model - 1] = p->node[sizeof p->node - 1] = '\0';
	p->recompute[sizeof p->recompute - 1] = p->schedule[sizeof p->schedule - 1] = '\0';
	p->dtype[sizeof p->dtype - 1] = p->reason[sizeof p->reason - 1] = '\0';
	p->price_date[sizeof p->price_date - 1] = '\0';
	return 0;
}

void store_point_release(struct store_point *p)
{
	free(p->config);
	p->config = NULL;
}

int store_merge(struct store *st, const char *from, size_t *added, char *err, size_t errsize)
{
	sqlite3_stmt *q;
	char *cols = NULL, *rcols = NULL, *sql = NULL, name[64];
	size_t size = 0, i;
	FILE *f;
	int rc;
	*added = 0;
	if (st->in_tx && store_commit(st, err, errsize) != 0)
		return -1;
	/* Check the other file is a dssim database of this schema before attaching it. */
	{
		struct store *other = store_open(from, true, 5000, err, errsize);
		if (other == NULL)
			return -1;
		store_close(other, err, errsize);
	}
	if (sqlite3_prepare_v2(st->db, "ATTACH DATABASE ? AS src", -1, &q, NULL) != SQLITE_OK) {
		set_err(err, errsize, "cannot attach", st->db);
		return -1;
	}
	sqlite3_bind_text(q, 1, from, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		set_err(err, errsize, "cannot attach", st->db);
		return -1;
	}
	f = open_memstream(&cols, &size);
	if (f == NULL)
		xalloc_fail(0);
	for (i = 0; i < COUNT(point_cols); i++)
		fprintf(f, ", %s", point_cols[i].name);
	fclose(f);
	f = open_memstream(&rcols, &size);
	if (f == NULL)
		xalloc_fail(0);
	for (i = 0; i < COUNT(result_cols); i++)
		fprintf(f, ", %s", result_cols[i].name);
	for (i = 0; i < EXTRA_COLS; i++) {
		extra_name(i, name, sizeof name);
		fprintf(f, ", %s", name);
	}
	fclose(f);
	f = open_memstream(&sql, &size);
	if (f == NULL)
		xalloc_fail(0);
	/* The source's points whose hash is new here, and the sweeps that stored them, get ids
	 * past this database's largest; temporary maps let results and errors follow. */
	fprintf(f,
		"BEGIN IMMEDIATE;\n"
		"CREATE TEMP TABLE point_map AS SELECT p.id AS old, p.sweep_id AS sweep, "
		"  (SELECT coalesce(max(id), 0) FROM main.points) + row_number() OVER (ORDER BY p.id)"
		"  AS new FROM src.points p WHERE p.hash NOT IN (SELECT hash FROM main.points);\n"
		"CREATE TEMP TABLE sweep_map AS SELECT s.id AS old, "
		"  (SELECT coalesce(max(id), 0) FROM main.sweeps) + row_number() OVER (ORDER BY s.id)"
		"  AS new FROM src.sweeps s WHERE s.id IN (SELECT sweep FROM temp.point_map);\n"
		"INSERT INTO main.sweeps (id, spec, spec_file, started, finished, status, version, "
		"  host, shard) SELECT m.new, s.spec, s.spec_file, s.started, s.finished, s.status, "
		"  s.version, s.host, s.shard FROM src.sweeps s JOIN temp.sweep_map m ON m.old = s.id;\n"
		"INSERT OR IGNORE INTO main.configs (json) SELECT json FROM src.configs "
		"  WHERE id IN (SELECT p.config_id FROM src.points p JOIN temp.point_map m "
		"  ON m.old = p.id) ORDER BY id;\n"
		"INSERT INTO main.points (id, sweep_id, hash, config_id, strategy%s) SELECT m.new, "
		"  sm.new, p.hash, (SELECT mc.id FROM main.configs mc JOIN src.configs sc "
		"  ON sc.json = mc.json WHERE sc.id = p.config_id), p.strategy%s "
		"  FROM src.points p JOIN temp.point_map m ON m.old = p.id "
		"  JOIN temp.sweep_map sm ON sm.old = p.sweep_id;\n"
		"INSERT INTO main.results (point_id%s) SELECT m.new%s FROM src.results r "
		"  JOIN temp.point_map m ON m.old = r.point_id;\n"
		"INSERT INTO main.errors (point_id, message) SELECT m.new, e.message "
		"  FROM src.errors e JOIN temp.point_map m ON m.old = e.point_id;\n",
		cols, cols, rcols, rcols);
	fclose(f);
	free(cols);
	free(rcols);
	rc = exec(st, sql, err, errsize);
	free(sql);
	if (rc == 0) {
		sqlite3_stmt *c;
		if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM temp.point_map", -1, &c, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(c) == SQLITE_ROW)
			*added = (size_t)sqlite3_column_int64(c, 0);
		sqlite3_finalize(c);
		rc = exec(st, "COMMIT", err, errsize);
	}
	if (rc != 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_exec(st->db, "DROP TABLE IF EXISTS temp.sweep_map; DROP TABLE IF EXISTS "
			     "temp.point_map; DETACH DATABASE src",
		     NULL, NULL, NULL);
	return rc;
}
