/*
 * store_merge: copy the points of one sweep database into another (dssim db merge), with their
 * sweeps (what they left out too: skips), results and errors, in one transaction. Part of store (see store_int.h).
 */
#include "store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The first of e's diagnostics, placed at the file it is about: the file merged from when it
 * cannot be attached, else the output (the source was opened and checked just before, so what
 * fails after is a write: a read-only or full output, its lock). Releases e. */
static int merge_failed(struct diag *d, const char *file, struct diag *e)
{
	struct mark at = {file, 0, 0};
	if (e->count > 0)
		diag_add(d, at, NULL, "%s", e->items[0].message);
	diag_release(e);
	return -1;
}

int store_merge(struct store *st, const char *from, size_t *added, struct diag *d)
{
	struct diag e;
	sqlite3_stmt *q;
	char *cols = NULL, *pcols = NULL, *rcols = NULL, *sql = NULL, name[64];
	size_t size = 0, i;
	FILE *f;
	int rc;
	bool bands = false, kinds = false, skips = false, pools = false;
	*added = 0;
	if (st->in_tx && store_commit(st, d) != 0)
		return -1;
	if (st->readonly) {
		diag_add(d, store_mark(st), NULL, "the database is open read-only");
		return -1;
	}
	/* Check the other file is a dssim database of this schema (or schema 4, whose points
	 * come without bands) before attaching it. */
	{
		struct store *other = store_open(from, true, 5000, d);
		if (other == NULL)
			return -1;
		bands = other->version >= 5;
		kinds = other->version >= 6;
		skips = other->version >= 7;
		pools = other->version >= 8;
		store_close(other, d);
	}
	diag_init(&e);
	if (sqlite3_prepare_v2(st->db, "ATTACH DATABASE ? AS src", -1, &q, NULL) != SQLITE_OK) {
		store_fail(st, "cannot attach", &e);
		return merge_failed(d, from, &e);
	}
	sqlite3_bind_text(q, 1, from, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot attach", &e);
		return merge_failed(d, from, &e);
	}
	f = open_memstream(&cols, &size);
	if (f == NULL)
		xalloc_fail(0);
	for (i = 0; i < store_npoint_cols; i++)
		fprintf(f, ", %s", store_point_cols[i].name);
	fclose(f);
	/* What the source gives for them: NULL for price_kind before schema 6. */
	f = open_memstream(&pcols, &size);
	if (f == NULL)
		xalloc_fail(0);
	for (i = 0; i < store_npoint_cols; i++)
		fprintf(f, ", %s", !kinds && strcmp(store_point_cols[i].name, "price_kind") == 0
					   ? "NULL" : store_point_cols[i].name);
	fclose(f);
	f = open_memstream(&rcols, &size);
	if (f == NULL)
		xalloc_fail(0);
	for (i = 0; i < store_nresult_cols; i++)
		fprintf(f, ", %s", store_result_cols[i].name);
	for (i = 0; i < STORE_EXTRA_COLS; i++) {
		store_extra_name(i, name, sizeof name);
		fprintf(f, ", %s", name);
	}
	for (i = 0; bands && i < STORE_BAND_COLS; i++)
		fprintf(f, ", %s", store_band_cols[i].name);
	/* The pool columns of a schema 8 source (before it, NULL as the migration leaves them). */
	for (i = 0; pools && i < STORE_POOL_COLS; i++)
		fprintf(f, ", %s", store_pool_cols[i].name);
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
		"  host, shard, pid, pid_start) SELECT m.new, s.spec, s.spec_file, s.started, "
		"  s.finished, s.status, s.version, s.host, s.shard, s.pid, s.pid_start "
		"  FROM src.sweeps s JOIN temp.sweep_map m ON m.old = s.id;\n"
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
		"  FROM src.errors e JOIN temp.point_map m ON m.old = e.point_id;\n%s",
		cols, pcols, rcols, rcols,
		/* What a merged sweep left out comes with it (schema 7). */
		skips ? "INSERT INTO main.skips (sweep_id, reason, count) SELECT m.new, k.reason, "
			"k.count FROM src.skips k JOIN temp.sweep_map m ON m.old = k.sweep_id;\n"
		      : "");
	fclose(f);
	free(cols);
	free(pcols);
	free(rcols);
	rc = store_exec(st, sql, &e);
	free(sql);
	if (rc == 0) {
		sqlite3_stmt *c;
		if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM temp.point_map", -1, &c, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(c) == SQLITE_ROW)
			*added = (size_t)sqlite3_column_int64(c, 0);
		sqlite3_finalize(c);
		rc = store_exec(st, "COMMIT", &e);
	}
	if (rc != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		merge_failed(d, st->path, &e);
	}
	diag_release(&e);
	sqlite3_exec(st->db, "DROP TABLE IF EXISTS temp.sweep_map; DROP TABLE IF EXISTS "
			     "temp.point_map; DETACH DATABASE src",
		     NULL, NULL, NULL);
	return rc;
}
