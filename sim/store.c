/*
 * store: the sweep database: open (creating the schema, migrating schema 4, refusing another
 * schema version), record sweeps, write points in transactions, hash and pack points. The
 * column table is in store_schema.c, queries in store_read.c, merging in store_merge.c
 * (shared: store_int.h).
 *
 * Durability: WAL journal with synchronous=NORMAL. A process killed at any moment loses only
 * its open transaction (SQLite "Atomic Commit", sqlite.org/atomiccommit.html; WAL,
 * sqlite.org/wal.html); the caller bounds a transaction's size.
 */
#include "store_int.h"

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

static void forget_configs(struct store *st)
{
	size_t i;
	for (i = 0; i < sizeof st->recent / sizeof st->recent[0]; i++) {
		free(st->recent[i].json);
		st->recent[i].json = NULL;
	}
}

struct mark store_mark(const struct store *st)
{
	struct mark at = {st->path, 0, 0};
	return at;
}

void store_fail(struct store *st, const char *what, struct diag *d)
{
	diag_add(d, store_mark(st), NULL, "%s: %s", what,
		 st->db ? sqlite3_errmsg(st->db) : "out of memory");
}

int store_exec(struct store *st, const char *sql, struct diag *d)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		diag_add(d, store_mark(st), NULL, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int prepare(struct store *st, const char *sql, sqlite3_stmt **out, struct diag *d)
{
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
		store_fail(st, "cannot prepare a statement", d);
		return -1;
	}
	return 0;
}

/* Create the schema in a new database, or check an existing one's version. */
static int init_schema(struct store *st, struct diag *d)
{
	sqlite3_stmt *q;
	int version = -1, tables = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		store_fail(st, "not a database", d);
		sqlite3_finalize(q);
		return -1;
	}
	version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_schema", -1, &q, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		store_fail(st, "not a database", d);
		sqlite3_finalize(q);
		return -1;
	}
	tables = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (tables > 0 && (version > STORE_SCHEMA_VERSION || version < STORE_SCHEMA_OLDEST)) {
		diag_add(d, store_mark(st), NULL, "schema %d, this dssim reads %d: re-run the "
			 "sweep into a new file", version, STORE_SCHEMA_VERSION);
		return -1;
	}
	st->version = tables > 0 ? version : STORE_SCHEMA_VERSION;
	if (tables > 0 && version < STORE_SCHEMA_VERSION && !st->readonly) {
		/* The columns schemas 5 and 6 added, in one transaction: a writer that finds the
		 * file migrated by another between the two reads fails here and is rerun. */
		char *sql = store_schema_migration(version);
		int rc = store_exec(st, "BEGIN IMMEDIATE", d) || store_exec(st, sql, d) ||
			 store_exec(st, "COMMIT", d);
		free(sql);
		if (rc != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		st->version = STORE_SCHEMA_VERSION;
	}
	if (tables == 0 && !st->readonly) {
		char *sql = store_schema_sql(), ver[64];
		int rc;
		snprintf(ver, sizeof ver, "PRAGMA user_version = %d;", STORE_SCHEMA_VERSION);
		rc = store_exec(st, "BEGIN IMMEDIATE", d) ||
		     store_exec(st, sql, d) || store_exec(st, ver, d) ||
		     store_exec(st, "COMMIT", d);
		free(sql);
		if (rc != 0) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	} else if (tables == 0) {
		diag_add(d, store_mark(st), NULL, "the database is empty");
		return -1;
	}
	return 0;
}

/* A damaged file is refused before anything reads it: a page of random bytes otherwise reads
 * as no rows (an empty report, a resume that finds every point stored). quick_check(1) checks
 * every page's structure (not index contents; `dssim db check` runs the full integrity_check)
 * and stops at the first problem; `make bench` bounds its time (bench_store.c). */
static int check_pages(struct store *st, struct diag *d)
{
	sqlite3_stmt *q = NULL;
	const char *v = NULL;
	int rc;
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &q, NULL) != SQLITE_OK) {
		store_fail(st, "corrupt database (run dssim db check)", d);
		return -1;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		v = (const char *)sqlite3_column_text(q, 0);
	if (rc != SQLITE_ROW || v == NULL || strcmp(v, "ok") != 0) {
		if (rc == SQLITE_ROW) {
			/* "*** in database main ***\nPage 10: ...": the page is the news. */
			const char *nl = v ? strrchr(v, '\n') : NULL;
			diag_add(d, store_mark(st), NULL, "corrupt database (run dssim db check): "
				 "%s", nl ? nl + 1 : v ? v : "no answer");
		} else {
			store_fail(st, "corrupt database (run dssim db check)", d);
		}
		sqlite3_finalize(q);
		return -1;
	}
	sqlite3_finalize(q);
	return 0;
}

int store_path_check(const char *path, struct diag *d)
{
	struct mark at = {"--db", 0, 0};
	/* SQLite reads these as a private in-memory database or a URI, not as the file named:
	 * a sweep would report its points stored and keep none. */
	if (path == NULL || path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0) {
		diag_add(d, at, NULL, "'%s' is not a database file: give a file name (use ./%s for "
			 "a file named so)", path ? path : "", path && path[0] ? path : "x.db");
		return -1;
	}
	return 0;
}

static struct store *open_store(const char *path, bool readonly, int busy_ms, bool check,
			       struct diag *d);

struct store *store_open(const char *path, bool readonly, int busy_ms, struct diag *d)
{
	if (store_path_check(path, d) != 0)
		return NULL;
	return open_store(path, readonly, busy_ms, true, d);
}

struct store *store_open_private(struct diag *d)
{
	return open_store(":memory:", false, 0, false, d);
}

struct store *store_open_damaged(const char *path, struct diag *d)
{
	if (store_path_check(path, d) != 0)
		return NULL;
	return open_store(path, true, 5000, false, d);
}

static struct store *open_store(const char *path, bool readonly, int busy_ms, bool check,
			       struct diag *d)
{
	struct store *st = xcalloc(1, sizeof *st);
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	bool existed = access(path, F_OK) == 0;
	st->readonly = readonly;
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		store_fail(st, "cannot open", d);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* SQLite opens a file it may not write read-only without a word: say so now, not at the
	 * first write. */
	if (!readonly && sqlite3_db_readonly(st->db, "main") == 1) {
		diag_add(d, store_mark(st), NULL, "cannot write: the file is read-only");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, busy_ms);
	/* WAL lets readers go on while a sweep writes, and keeps a killed writer's database
	 * intact; NORMAL syncs at checkpoints, which is durable against a process crash. */
	if (!readonly && (store_exec(st, "PRAGMA journal_mode = WAL", d) != 0 ||
			  store_exec(st, "PRAGMA synchronous = NORMAL", d) != 0))
		goto fail;
	if (store_exec(st, "PRAGMA foreign_keys = ON", d) != 0 ||
	    init_schema(st, d) != 0 || (check && existed && check_pages(st, d) != 0))
		goto fail;
	if (!readonly && store_sweeps_settle(st, d) != 0)
		goto fail;
	if (!readonly) {
		char *p = store_insert_sql(0), *r = store_insert_sql(1), *e = store_insert_sql(2);
		int rc = prepare(st, p, &st->put_point, d) ||
			 prepare(st, r, &st->put_result, d) ||
			 prepare(st, e, &st->put_error, d) ||
			 prepare(st, "INSERT OR IGNORE INTO configs (json) VALUES (?)",
				 &st->put_config, d) ||
			 prepare(st, "SELECT id FROM configs WHERE json = ?", &st->get_config, d) ||
			 prepare(st, "SELECT p.id FROM points p JOIN results r ON r.point_id = p.id "
				 "WHERE p.hash = ?1 AND r.fits = 1 AND (r.simulated = 0 OR (?2 > 0 "
				 "AND r.simulated = 1 AND (r.uncertainty_draws IS NOT ?2 OR "
				 "r.uncertainty_seed IS NOT ?3)))",
				 &st->get_screened, d) ||
			 prepare(st, "DELETE FROM results WHERE point_id = ?", &st->drop_result, d) ||
			 prepare(st, "DELETE FROM points WHERE id = ?", &st->drop_point, d);
		free(p);
		free(r);
		free(e);
		if (rc)
			goto fail;
	}
	if (prepare(st, "SELECT id FROM points WHERE hash = ?", &st->has, d) != 0)
		goto fail;
	return st;
fail:
	sqlite3_finalize(st->put_point);
	sqlite3_finalize(st->put_result);
	sqlite3_finalize(st->put_error);
	sqlite3_finalize(st->put_config);
	sqlite3_finalize(st->get_config);
	sqlite3_finalize(st->get_screened);
	sqlite3_finalize(st->drop_result);
	sqlite3_finalize(st->drop_point);
	sqlite3_finalize(st->has);
	forget_configs(st);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
	return NULL;
}

int store_close(struct store *st, struct diag *d)
{
	int status = 0;
	if (st == NULL)
		return 0;
	if (st->in_tx)
		status = store_commit(st, d);
	sqlite3_finalize(st->put_point);
	sqlite3_finalize(st->put_result);
	sqlite3_finalize(st->put_error);
	sqlite3_finalize(st->put_config);
	sqlite3_finalize(st->get_config);
	sqlite3_finalize(st->get_screened);
	sqlite3_finalize(st->drop_result);
	sqlite3_finalize(st->drop_point);
	sqlite3_finalize(st->has);
	forget_configs(st);
	if (sqlite3_close(st->db) != SQLITE_OK && status == 0) {
		store_fail(st, "cannot close", d);
		status = -1;
	}
	free(st->path);
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
		      const char *shard, struct diag *d)
{
	sqlite3_stmt *q;
	char now[32], host[256] = "";
	int rc;
	utc_now(now, sizeof now);
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	if (prepare(st, "INSERT INTO sweeps (spec, spec_file, started, status, version, host, "
			"shard, pid, pid_start) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)", &q,
		    d) != 0)
		return -1;
	/* Who writes: a later open tells a writer that is gone from one still at work. */
	sqlite3_bind_int64(q, 7, (int64_t)getpid());
	if (store_process_start((long)getpid()) >= 0)
		sqlite3_bind_int64(q, 8, store_process_start((long)getpid()));
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
		store_fail(st, "cannot record the sweep", d);
		return -1;
	}
	st->sweep_id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

int store_sweep_end(struct store *st, const char *status, struct diag *d)
{
	sqlite3_stmt *q;
	char now[32];
	int rc;
	if (st->in_tx && store_commit(st, d) != 0)
		return -1;
	utc_now(now, sizeof now);
	if (prepare(st, "UPDATE sweeps SET finished = ?, status = ? WHERE id = ?", &q, d) != 0)
		return -1;
	sqlite3_bind_text(q, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, st->sweep_id);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot record the end of the sweep", d);
		return -1;
	}
	return 0;
}

int store_write_skip(struct store *st, const char *reason, int64_t count, struct diag *d)
{
	sqlite3_stmt *q;
	int rc;
	if (prepare(st, "INSERT INTO skips (sweep_id, reason, count) VALUES (?, ?, ?)", &q, d) != 0)
		return -1;
	sqlite3_bind_int64(q, 1, st->sweep_id);
	sqlite3_bind_text(q, 2, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, count);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot record what the sweep left out", d);
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

/* The mark of each stored point: 1 only screened, 2 simulated without the bands asked for
 * (?1 draws with seed ?2; ?1 = 0 asks for none), else 0. A schema 4 file read-only has no
 * bands. */
static const char *const marks_sql[2] = {
	"SELECT p.hash, CASE WHEN r.fits = 1 AND r.simulated = 0 THEN 1 ELSE 0 END "
	"FROM points p LEFT JOIN results r ON r.point_id = p.id WHERE ?1 = ?1 AND ?2 = ?2 "
	"ORDER BY p.hash",
	"SELECT p.hash, CASE WHEN r.fits = 1 AND r.simulated = 0 THEN 1 "
	"  WHEN ?1 > 0 AND r.fits = 1 AND r.simulated = 1 AND p.mode = 'train' AND "
	"  (r.uncertainty_draws IS NOT ?1 OR r.uncertainty_seed IS NOT ?2) THEN 2 ELSE 0 END "
	"FROM points p LEFT JOIN results r ON r.point_id = p.id ORDER BY p.hash",
};

char (*store_hashes(struct store *st, int64_t draws, int64_t seed, size_t *n))[17]
{
	sqlite3_stmt *q;
	char(*out)[17] = NULL;
	size_t cap = 0;
	*n = 0;
	if (sqlite3_prepare_v2(st->db, marks_sql[st->version >= 5], -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(q, 1, draws);
	sqlite3_bind_int64(q, 2, seed);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int mark = sqlite3_column_int(q, 1);
		const char *h = (const char *)sqlite3_column_text(q, 0);
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			out = xreallocarray(out, cap, sizeof *out);
		}
		memset(out[*n], 0, sizeof out[*n]);
		memcpy(out[*n], h ? h : "", h ? strnlen(h, 16) : 0);
		out[*n][16] = mark == 1 ? STORE_HASH_SCREENED : mark == 2 ? STORE_HASH_UNBANDED : 0;
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

static int step_done(struct store *st, sqlite3_stmt *q, const char *what, struct diag *d)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, what, d);
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

static int put(struct store *st, const struct store_point *p, struct diag *d);

int store_put(struct store *st, const struct store_point *p, struct diag *d)
{
	if (st->readonly) {
		diag_add(d, store_mark(st), NULL, "the database is open read-only");
		return -1;
	}
	return put(st, p, d) == 0 ? 0 : put_failed(st);
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
static int config_id(struct store *st, const char *json, size_t len, int64_t *id, struct diag *d)
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
	if (step_done(st, st->put_config, "cannot write a configuration", d) != 0)
		return -1;
	sqlite3_bind_text(st->get_config, 1, json, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(st->get_config);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st->get_config, 0) : 0;
	sqlite3_reset(st->get_config);
	sqlite3_clear_bindings(st->get_config);
	if (rc != SQLITE_ROW) {
		store_fail(st, "cannot read a configuration", d);
		return -1;
	}
	i = st->next_recent++ % n;
	free(st->recent[i].json);
	st->recent[i].json = xstrndup(json, len);
	st->recent[i].len = len;
	st->recent[i].id = *id;
	return 0;
}

/* A point stored only screened (fits by the analytic model, never simulated) gives way to
 * what a full sweep made of it, and one simulated without the bands of a point that has them
 * to that point: its result and its row go, so the new point is written whole (with the sweep
 * that simulated it). */
static int drop_screened(struct store *st, const struct store_point *p, struct diag *d)
{
	int64_t id = 0;
	int rc;
	sqlite3_bind_text(st->get_screened, 1, p->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->get_screened, 2, p->u_draws);
	sqlite3_bind_int64(st->get_screened, 3, p->u_seed);
	rc = sqlite3_step(st->get_screened);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st->get_screened, 0);
	sqlite3_reset(st->get_screened);
	sqlite3_clear_bindings(st->get_screened);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail(st, "cannot read a point", d);
		return -1;
	}
	if (id == 0)
		return 0;
	sqlite3_bind_int64(st->drop_result, 1, id);
	sqlite3_bind_int64(st->drop_point, 1, id);
	if (step_done(st, st->drop_result, "cannot replace a screened point", d) != 0)
		return -1;
	return step_done(st, st->drop_point, "cannot replace a screened point", d);
}

static int put(struct store *st, const struct store_point *p, struct diag *d)
{
	size_t i, shared_len, own_len;
	const char *shared, *own;
	int idx;
	int64_t id, cid;
	if (!st->in_tx) {
		if (store_exec(st, "BEGIN IMMEDIATE", d) != 0)
			return -1;
		st->in_tx = true;
	}
	if (split_config(p, &shared, &shared_len, &own, &own_len) != 0) {
		diag_add(d, store_mark(st), NULL, "a point's config is not a JSON object");
		return -1;
	}
	if (config_id(st, shared, shared_len, &cid, d) != 0)
		return -1;
	if (p->status != STORE_SCREENED && drop_screened(st, p, d) != 0)
		return -1;
	sqlite3_bind_int64(st->put_point, 1, st->sweep_id);
	sqlite3_bind_text(st->put_point, 2, p->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->put_point, 3, cid);
	sqlite3_bind_text(st->put_point, 4, own, (int)own_len, SQLITE_STATIC);
	for (i = 0; i < store_npoint_cols; i++)
		bind_col(st->put_point, (int)i + 5, &store_point_cols[i], p);
	if (step_done(st, st->put_point, "cannot write a point", d) != 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return 0; /* stored already (another sweep writing the same database) */
	id = sqlite3_last_insert_rowid(st->db);
	if (p->status == STORE_ERROR) {
		sqlite3_bind_int64(st->put_error, 1, id);
		sqlite3_bind_text(st->put_error, 2, p->reason, -1, SQLITE_STATIC);
		return step_done(st, st->put_error, "cannot write an error", d);
	}
	sqlite3_bind_int64(st->put_result, 1, id);
	idx = 2;
	for (i = 0; i < store_nresult_cols; i++, idx++) {
		if (store_result_cols[i].offset == NONE && strcmp(store_result_cols[i].name, "simulated") == 0)
			sqlite3_bind_int(st->put_result, idx, p->status == STORE_SIMULATED);
		else if (store_result_cols[i].offset == NONE)
			bind_timeline(st->put_result, idx, p);
		else if (store_result_cols[i].offset == P(reason) && p->fits)
			sqlite3_bind_null(st->put_result, idx);
		else
			bind_col(st->put_result, idx, &store_result_cols[i], p);
	}
	for (i = 0; i < STORE_TIMES; i++, idx++) {
		if (p->status == STORE_SIMULATED && strcmp(p->mode, "train") == 0)
			sqlite3_bind_double(st->put_result, idx, p->time[i]);
		else
			sqlite3_bind_null(st->put_result, idx);
	}
	for (i = 0; i < STORE_PARTS; i++, idx++)
		sqlite3_bind_double(st->put_result, idx, p->mem[i]);
	for (i = 0; i < STORE_BAND_COLS; i++, idx++) {
		if (p->u_draws > 0 && p->status == STORE_SIMULATED)
			bind_col(st->put_result, idx, &store_band_cols[i], p);
		else
			sqlite3_bind_null(st->put_result, idx);
	}
	for (i = 0; i < STORE_POOL_COLS; i++, idx++) {
		if (p->prefill_gpus > 0 && p->status == STORE_SIMULATED)
			bind_col(st->put_result, idx, &store_pool_cols[i], p);
		else
			sqlite3_bind_null(st->put_result, idx);
	}
	return step_done(st, st->put_result, "cannot write a result", d);
}

int store_commit(struct store *st, struct diag *d)
{
	if (!st->in_tx)
		return 0;
	st->in_tx = false;
	if (store_exec(st, "COMMIT", d) != 0)
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
	p->price_date[sizeof p->price_date - 1] = p->price_kind[sizeof p->price_kind - 1] = '\0';
	return 0;
}

void store_point_release(struct store_point *p)
{
	free(p->config);
	p->config = NULL;
}
