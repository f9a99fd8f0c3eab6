/*
 * test_store_migrate: a sweep database of schema 4 (tests/fuzz/db/train.sqlite3, written by
 * the dssim before the uncertainty columns) is read as it is by a reader and migrated to
 * schema 8 by a writer: the band columns (schema 5) and points.price_kind (schema 6) are
 * added, NULL in its rows, the views show them, and an uncertainty sweep's points replace the
 * points stored without their bands. A schema 5 file gains price_kind alone; a schema 6 file
 * gains the skips table (schema 7); a schema 7 file the disaggregated pools' columns (8).
 */
#include "check.h"

#include <dirent.h>
#include <sqlite3.h>

#include "diag.h"
#include "store.h"
#include "store_int.h"

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	size_t n;
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void tmp_remove(const char *dir)
{
	char path[600];
	struct dirent *e;
	DIR *d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (e->d_name[0] != '.')
			assert_int_equal(unlink(path), 0);
	}
	closedir(d);
	assert_int_equal(rmdir(dir), 0);
}

/* The integer the one-cell query sql gives. */
static int64_t one(struct store *st, const char *sql)
{
	struct store_rows *r;
	struct diag d;
	int64_t v;
	diag_init(&d);
	if (store_query(st, sql, NULL, 0, &r, &d) != 0)
		diag_print(&d, stderr);
	assert_int_equal(d.count, 0);
	assert_int_equal(r->rows, 1);
	v = store_cell(r, 0, 0)->i;
	store_rows_free(r);
	diag_release(&d);
	return v;
}

/* How many of the stored hashes carry mark m for a sweep of draws and seed. */
static size_t marked(struct store *st, int64_t draws, int64_t seed, char m, char first[17])
{
	size_t n, i, k = 0;
	char(*h)[17] = store_hashes(st, draws, seed, &n);
	assert_int_equal(n, 4);
	for (i = 0; i < n; i++)
		if (h[i][16] == m) {
			if (k++ == 0 && first != NULL)
				memcpy(first, h[i], 16);
		}
	free(h);
	return k;
}

/* train.sqlite3 holds 4 points of 32b_zero3 (tests/fuzz/db/README): 3 simulated, 1 that does
 * not fit, every one with a row in results. */
static void schema_4_is_read_as_it_is_and_migrated_by_a_writer(void **state)
{
	char dir[32] = "/tmp/test_store_migrate.XXXXXX", path[600], from[1200], hash[17] = "";
	struct store *st;
	struct store_point p;
	struct diag d;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/old.db", dir);
	snprintf(from, sizeof from, "%s/tests/fuzz/db/train.sqlite3", check_srcdir());
	copy_file(from, path);
	diag_init(&d);

	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 4);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points"), 4);
	assert_int_equal(one(st, "SELECT count(*) FROM pragma_table_info('v_points') "
				 "WHERE name = 'step_s_p50'"), 0);
	assert_false(store_has_bands(st));
	assert_false(store_has_price_kind(st));
	/* Read-only, schema 4: nothing to redo, since nothing can be written. */
	assert_int_equal(marked(st, 20, 3, STORE_HASH_UNBANDED, NULL), 0);
	assert_int_equal(store_close(st, &d), 0);

	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 8);
	assert_true(store_has_price_kind(st));
	/* price_kind: the last column of points, as CREATE puts it; NULL in the old rows. */
	assert_int_equal(one(st, "SELECT name = 'price_kind' FROM pragma_table_info('points') "
				 "ORDER BY cid DESC LIMIT 1"), 1);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE price_kind IS NULL"), 4);
	/* Added after the columns schema 4 has, in the order CREATE gives a new file. */
	assert_int_equal(one(st, "SELECT group_concat(name, ' ') = 'uncertainty_draws "
				 "uncertainty_seed uncertainty_clamped step_s_p10 step_s_p50 "
				 "step_s_p90 tokens_per_s_p10 tokens_per_s_p50 tokens_per_s_p90 "
				 "mfu_p10 mfu_p50 mfu_p90 prefill_gpus decode_gpus prefill_busy "
				 "decode_busy kv_transfer_mean kv_transfer_p99' FROM (SELECT name FROM "
				 "pragma_table_info('results') WHERE cid >= (SELECT cid FROM "
				 "pragma_table_info('results') WHERE name = 'uncertainty_draws') "
				 "ORDER BY cid)"), 1);
	assert_int_equal(one(st, "SELECT count(*) FROM pragma_table_info('results') WHERE "
				 "name = 'm_overhead' AND cid = (SELECT cid FROM "
				 "pragma_table_info('results') WHERE name = 'uncertainty_draws') - 1"),
			 1);
	assert_int_equal(one(st, "SELECT count(*) FROM pragma_table_info('v_points') "
				 "WHERE name = 'step_s_p50'"), 1);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE step_s_p50 IS NULL AND "
				 "uncertainty_draws IS NULL"), 4);
	assert_int_equal(one(st, "SELECT count(*) FROM v_fitting"), 3);
	assert_false(store_has_bands(st));
	/* The 3 simulated points lack the bands of any uncertainty sweep; none lacks anything a
	 * sweep without uncertainty asks for. */
	assert_int_equal(marked(st, 20, 3, STORE_HASH_UNBANDED, hash), 3);
	assert_int_equal(marked(st, 0, 0, STORE_HASH_UNBANDED, NULL), 0);

	/* An uncertainty sweep's point replaces the stored one. */
	memset(&p, 0, sizeof p);
	memcpy(p.hash, hash, 16);
	p.status = STORE_SIMULATED;
	snprintf(p.mode, sizeof p.mode, "train");
	p.fits = true;
	p.step_s = 10;
	p.u_draws = 20;
	p.u_seed = 3;
	p.u_step_s[0] = 9;
	p.u_step_s[1] = 10;
	p.u_step_s[2] = 11;
	p.config = (char *)"{\"a\":1}";
	assert_int_equal(store_sweep_begin(st, "", "migrate", NULL, &d), 0);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points"), 4);
	assert_int_equal(one(st, "SELECT step_s_p90 FROM v_points WHERE uncertainty_draws = 20 AND "
				 "uncertainty_seed = 3 AND step_s_p10 = 9"), 11);
	assert_true(store_has_bands(st));
	assert_int_equal(marked(st, 20, 3, STORE_HASH_UNBANDED, NULL), 2);
	/* Another seed asks for other draws: every simulated point again. */
	assert_int_equal(marked(st, 20, 4, STORE_HASH_UNBANDED, NULL), 3);
	/* The same point without bands is stored already: it stays as it is. */
	p.u_draws = 0;
	p.step_s = 12;
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE step_s = 10 AND "
				 "step_s_p50 = 10"), 1);
	assert_int_equal(store_close(st, &d), 0);

	/* Migrated once: a reader finds schema 8. */
	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 8);
	assert_true(store_has_bands(st));
	assert_int_equal(store_close(st, &d), 0);
	assert_int_equal(d.count, 0);
	diag_release(&d);
	tmp_remove(dir);
}

/* Take a new file back to an older schema: the views go (DROP COLUMN refuses a column a view
 * may use), then `before` and the pool columns of schema 8, then the views come back from the
 * schema's own CREATE ... IF NOT EXISTS, then `after` runs and the version is set. */
static void make_older(const char *path, const char *before, const char *after, int version)
{
	static const char *const pool_cols[] = {"prefill_gpus", "decode_gpus", "prefill_busy",
						"decode_busy", "kv_transfer_mean", "kv_transfer_p99"};
	char *sql = store_schema_sql(), buf[128];
	sqlite3 *db;
	size_t i;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP VIEW v_cheapest; DROP VIEW v_best; "
				      "DROP VIEW v_fitting; DROP VIEW v_misfits; DROP VIEW v_points;",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, before, NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < 6; i++) {
		snprintf(buf, sizeof buf, "ALTER TABLE results DROP COLUMN %s", pool_cols[i]);
		assert_int_equal(sqlite3_exec(db, buf, NULL, NULL, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, after, NULL, NULL, NULL), SQLITE_OK);
	snprintf(buf, sizeof buf, "PRAGMA user_version = %d", version);
	assert_int_equal(sqlite3_exec(db, buf, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);
}

/* A schema 5 file, made here from a new one by dropping price_kind (SQLite 3.35's DROP
 * COLUMN) and setting the version: a reader reads it without the column, a writer adds it
 * (NULL in the old rows, the kind in new ones), a merge into schema 6 brings NULL kinds. */
static void schema_5_gains_price_kind(void **state)
{
	char dir[32] = "/tmp/test_store_migrate.XXXXXX", path[600], merged[600];
	struct store *st;
	struct store_point p;
	struct diag d;
	size_t added = 0;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/five.db", dir);
	snprintf(merged, sizeof merged, "%s/merged.db", dir);
	diag_init(&d);
	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	memset(&p, 0, sizeof p);
	memcpy(p.hash, "00000000000000a5", 16);
	p.status = STORE_SIMULATED;
	snprintf(p.mode, sizeof p.mode, "train");
	p.fits = true;
	p.step_s = 10;
	p.config = (char *)"{\"a\":5}";
	assert_int_equal(store_sweep_begin(st, "", "five", NULL, &d), 0);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_close(st, &d), 0);
	make_older(path, "ALTER TABLE points DROP COLUMN price_kind;", "", 5);

	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 5);
	assert_false(store_has_price_kind(st));
	assert_int_equal(store_close(st, &d), 0);

	/* Merged into a new file while still schema 5: its point comes over with a NULL kind. */
	st = store_open(merged, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(store_merge(st, path, &added, &d), 0);
	assert_int_equal(added, 1);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE price_kind IS NULL"), 1);
	assert_int_equal(store_close(st, &d), 0);

	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 8);
	assert_true(store_has_price_kind(st));
	memcpy(p.hash, "00000000000000b6", 16);
	snprintf(p.price_kind, sizeof p.price_kind, "capacity_block");
	assert_int_equal(store_sweep_begin(st, "", "six", NULL, &d), 0);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(one(st, "SELECT count(*) FROM points WHERE price_kind IS NULL"), 1);
	assert_int_equal(one(st, "SELECT count(*) FROM points WHERE price_kind = "
				 "'capacity_block'"), 1);
	assert_int_equal(store_close(st, &d), 0);
	assert_int_equal(d.count, 0);
	diag_release(&d);
	tmp_remove(dir);
}

/* A schema 6 file, made here from a new one by dropping the skips table and setting the
 * version: a reader reads its points without the table; a writer creates it, the rows a
 * sweep writes into it are read back as written, and a merge carries them with the sweep. */
static void schema_6_gains_the_skips_table(void **state)
{
	char dir[32] = "/tmp/test_store_migrate.XXXXXX", path[600], merged[600];
	size_t added = 0;
	const char *has_skips = "SELECT count(*) FROM sqlite_schema WHERE name = 'skips'";
	struct store *st;
	struct store_point p;
	struct diag d;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/six.db", dir);
	snprintf(merged, sizeof merged, "%s/merged.db", dir);
	diag_init(&d);
	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, has_skips), 1);
	memset(&p, 0, sizeof p);
	memcpy(p.hash, "00000000000000c6", 16);
	p.status = STORE_SIMULATED;
	snprintf(p.mode, sizeof p.mode, "train");
	p.fits = true;
	p.config = (char *)"{\"a\":6}";
	assert_int_equal(store_sweep_begin(st, "", "six", NULL, &d), 0);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_close(st, &d), 0);
	make_older(path, "", "DROP TABLE skips;", 6);

	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 6);
	assert_int_equal(one(st, has_skips), 0);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points"), 1);
	assert_int_equal(store_close(st, &d), 0);

	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 8);
	assert_int_equal(one(st, has_skips), 1);
	assert_int_equal(store_sweep_begin(st, "", "seven", NULL, &d), 0);
	memcpy(p.hash, "00000000000000c7", 16);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_write_skip(st, "pp*vp does not divide the layers", 312, &d), 0);
	assert_int_equal(store_write_skip(st, "tp*pp*cp does not divide the GPUs", 40, &d), 0);
	assert_int_equal(one(st, "SELECT sum(count) FROM skips"), 352);
	assert_int_equal(one(st, "SELECT count FROM skips WHERE reason = "
				 "'pp*vp does not divide the layers' AND sweep_id = "
				 "(SELECT max(id) FROM sweeps)"), 312);
	assert_int_equal(store_close(st, &d), 0);

	/* Merged, the sweep that stored the new point brings its skips; the schema 6 sweep
	 * before it had none. */
	st = store_open(merged, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(store_merge(st, path, &added, &d), 0);
	assert_int_equal(added, 2);
	assert_int_equal(one(st, "SELECT count(*) FROM sweeps"), 2);
	assert_int_equal(one(st, "SELECT sum(count) FROM skips"), 352);
	assert_int_equal(one(st, "SELECT count(DISTINCT sweep_id) FROM skips"), 1);
	assert_int_equal(store_close(st, &d), 0);
	assert_int_equal(d.count, 0);
	diag_release(&d);
	tmp_remove(dir);
}

/* Merging a schema 4 file into a schema 6 one: its points come over without bands. */
static void a_schema_4_file_merges_into_schema_6(void **state)
{
	char dir[32] = "/tmp/test_store_migrate.XXXXXX", old[600], path[600], from[1200];
	struct store *st;
	struct diag d;
	size_t added = 0;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(old, sizeof old, "%s/old.db", dir);
	snprintf(path, sizeof path, "%s/new.db", dir);
	snprintf(from, sizeof from, "%s/tests/fuzz/db/train.sqlite3", check_srcdir());
	copy_file(from, old);
	diag_init(&d);
	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(store_merge(st, old, &added, &d), 0);
	assert_int_equal(added, 4);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE uncertainty_draws IS NULL"),
			 4);
	assert_int_equal(store_close(st, &d), 0);
	/* The file merged from was only read. */
	st = store_open(old, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 4);
	assert_int_equal(store_close(st, &d), 0);
	diag_release(&d);
	tmp_remove(dir);
}

/* A point of disaggregated serving: 8 + 8 GPUs, busy 39 % and 99 %, KV moves of 0.86 ms mean
 * and 2.4 ms p99. */
static void pools_point(struct store_point *p, const char *hash)
{
	memset(p, 0, sizeof *p);
	memcpy(p->hash, hash, 16);
	p->status = STORE_SIMULATED;
	snprintf(p->mode, sizeof p->mode, "infer");
	p->fits = true;
	p->prefill_gpus = 8;
	p->decode_gpus = 8;
	p->prefill_busy = 0.39;
	p->decode_busy = 0.99;
	p->kv_transfer_mean = 8.6e-4;
	p->kv_transfer_p99 = 2.4e-3;
	p->config = (char *)"{\"a\":8}";
}

/* A schema 7 file, made here from a new one by dropping the pool columns of results (and the
 * views that name them) and setting the version: a reader reads it without them; a merge into
 * schema 8 brings its points with NULL pools; a writer adds the columns, NULL in the old rows,
 * and its pool figures are read back as written and carried by a merge. */
static void schema_7_gains_the_pool_columns(void **state)
{
	char dir[32] = "/tmp/test_store_migrate.XXXXXX", path[600], merged[600], again[600];
	const char *has_col = "SELECT count(*) FROM pragma_table_info('results') WHERE name = "
			      "'kv_transfer_p99'";
	struct store *st;
	struct store_point p;
	struct diag d;
	size_t added = 0;
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/seven.db", dir);
	snprintf(merged, sizeof merged, "%s/merged.db", dir);
	snprintf(again, sizeof again, "%s/again.db", dir);
	diag_init(&d);
	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	pools_point(&p, "00000000000000d7");
	p.prefill_gpus = 0;   /* stored by schema 7: no pools */
	assert_int_equal(store_sweep_begin(st, "", "seven", NULL, &d), 0);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_close(st, &d), 0);
	make_older(path, "", "", 7);

	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 7);
	assert_int_equal(one(st, has_col), 0);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points"), 1);
	assert_int_equal(store_close(st, &d), 0);

	/* Merged while still schema 7: its point comes over without pools. */
	st = store_open(merged, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(store_merge(st, path, &added, &d), 0);
	assert_int_equal(added, 1);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE prefill_gpus IS NULL"), 1);
	assert_int_equal(store_close(st, &d), 0);

	/* A writer migrates it and stores a disaggregated point beside the old one. */
	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(one(st, "PRAGMA user_version"), 8);
	assert_int_equal(one(st, has_col), 1);
	pools_point(&p, "00000000000000d8");
	assert_int_equal(store_sweep_begin(st, "", "eight", NULL, &d), 0);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(one(st, "SELECT count(*) FROM results WHERE prefill_gpus IS NULL"), 1);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE prefill_gpus = 8 AND "
				 "decode_gpus = 8 AND prefill_busy = 0.39 AND decode_busy = 0.99 "
				 "AND kv_transfer_mean = 8.6e-4 AND kv_transfer_p99 = 2.4e-3"), 1);
	assert_int_equal(store_close(st, &d), 0);

	/* Merged from schema 8, the pool columns come with the point. */
	st = store_open(again, false, 1000, &d);
	assert_non_null(st);
	assert_int_equal(store_merge(st, path, &added, &d), 0);
	assert_int_equal(added, 2);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE kv_transfer_p99 = 2.4e-3 "
				 "AND decode_busy = 0.99"), 1);
	assert_int_equal(one(st, "SELECT count(*) FROM v_points WHERE prefill_gpus IS NULL"), 1);
	assert_int_equal(store_close(st, &d), 0);
	assert_int_equal(d.count, 0);
	diag_release(&d);
	tmp_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schema_4_is_read_as_it_is_and_migrated_by_a_writer),
		cmocka_unit_test(schema_5_gains_price_kind),
		cmocka_unit_test(a_schema_4_file_merges_into_schema_6),
		cmocka_unit_test(schema_6_gains_the_skips_table),
		cmocka_unit_test(schema_7_gains_the_pool_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
