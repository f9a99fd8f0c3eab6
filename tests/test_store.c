/*
 * test_store: the sweep database. The schema and its version, the resume hash, points written
 * and read back through the views, the bytes workers send, merging, and the failures a sweep
 * meets on real machines: a full disk, a lock another writer holds, a read-only file and a file
 * that is not a dssim database. Databases live in a mkdtemp directory removed at the end.
 */
#include "check.h"

#include <dirent.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>

#include "config.h"
#include "memory.h"
#include "step.h"
#include "store.h"
#include "store_int.h"

/* A fresh directory under /tmp holding path = dir/name. */
static void tmp_make(char dir[32], char *path, size_t size, const char *name)
{
	snprintf(dir, 32, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, size, "%s/%s", dir, name);
}

/* Remove the directory and every file in it (the databases, -wal and -shm). */
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

/* The first column of the first row of a query: its text into out ("NULL" for a NULL), and
 * its value as a number (exact for integers below 2^53, and for every REAL). */
__attribute__((format(printf, 4, 5))) static double sql(sqlite3 *db, char *out, size_t size,
						       const char *fmt, ...)
{
	char query[2048];
	sqlite3_stmt *q = NULL;
	const unsigned char *t;
	double v;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(query, sizeof query, fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(db, query, -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		print_error("%s: no row (%s)\n", query, sqlite3_errmsg(db));
		sqlite3_finalize(q);
		fail();
	}
	t = sqlite3_column_text(q, 0);
	if (out)
		snprintf(out, size, "%s", t ? (const char *)t : "NULL");
	v = sqlite3_column_double(q, 0);
	sqlite3_finalize(q);
	return v;
}

#define sql_num(db, ...) sql((db), NULL, 0, __VA_ARGS__)
/* Fail unless the query's first value is the integer want. */
#define check_sql(db, want, ...) assert_int_equal(sql_num((db), __VA_ARGS__), (want))

/* The message of the last diagnostic in d ("" when there is none). */
static const char *last_message(const struct diag *d)
{
	return d->count > 0 ? d->items[d->count - 1].message : "";
}

/* Fail, printing the text, unless it mentions what. */
static void check_mentions(const char *text, const char *what)
{
	if (strstr(text, what) == NULL) {
		print_error("\"%s\" does not mention \"%s\"\n", text, what);
		fail();
	}
}

/* A training point of Llama 3 70B on `nodes` p5.48xlarge nodes, its configuration written to
 * cfg: 8 GPUs a node, TP 8, PP 4, 512 x 8192 tokens a step, $98.32 an hour a node (on demand).
 * Simulated, screened out, or failed. */
static void point_make(struct store_point *p, char cfg[128], enum store_status status,
		       int64_t nodes)
{
	size_t i;
	snprintf(cfg, 128, "{\"model\":\"llama3-70b\",\"node\":\"p5.48xlarge\",\"nodes\":%lld}",
		 (long long)nodes);
	*p = (struct store_point){.status = status, .mode = "train", .model = "llama3-70b",
		.node = "p5.48xlarge", .recompute = "selective", .schedule = "1f1b",
		.dtype = "bf16", .nodes = nodes, .gpus = 8 * nodes, .tp = 8, .pp = 4,
		.dp = nodes / 4, .cp = 1, .ep = 1, .zero = 1, .micro_batch = 1, .global_batch = 512,
		.vp = 1, .seq_len = 8192, .capacity = 80e9, .host_capacity = 2048e9,
		.analytic_peak = 71.3e9, .config = cfg};
	store_hash(cfg, p->hash);
	for (i = 0; i < MEMORY_PARTS; i++)
		p->mem[i] = 1e9 * (double)(i + 1);
	if (status != STORE_SIMULATED) {
		snprintf(p->reason, sizeof p->reason, "%s", status == STORE_NO_FIT ?
			 "device memory: 93.1 GB of 80 GB" : "model: unknown preset llama3-700b");
		return;
	}
	p->fits = true;
	p->step_s = 41.7 * 4 / (double)nodes;
	p->tokens_per_s = 512.0 * 8192 / p->step_s;
	p->tflops_per_gpu = 6 * 70.6e9 * p->tokens_per_s / (double)p->gpus / 1e12;
	p->mfu = p->tflops_per_gpu / 989;
	p->hfu = p->mfu * 4 / 3;
	p->peak_per_gpu = 68.2e9;
	p->usd_per_hour = 98.32 * (double)nodes;
	p->usd_per_million_tokens = p->usd_per_hour / 3600 / p->tokens_per_s * 1e6;
	for (i = 0; i < STORE_TIMES; i++)
		p->time[i] = p->step_s / (double)(i + 2);
	p->wall_s = 0.25;
}

/* A new database at path with a sweep begun. */
static struct store *store_new(const char *path, int busy_ms)
{
	struct diag d;
	struct store *st;
	diag_init(&d);
	st = store_open(path, false, busy_ms, &d);
	if (st == NULL) {
		diag_print(&d, stderr);
		fail();
	}
	assert_int_equal(store_sweep_begin(st, "{\"nodes\":[4,8,16]}", "sweeps/70b.yaml", NULL,
					   &d), 0);
	diag_release(&d);
	return st;
}

static void store_creates_the_schema_in_wal_mode(void **state)
{
	char dir[32], path[64], mode[16];
	struct diag d;
	struct store *st;
	int k;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "new.db");
	for (k = 0; k < 2; k++) {   /* create, then open what exists */
		st = store_open(path, false, 1000, &d);
		assert_non_null(st);
		check_sql(store_db(st), 4, "SELECT count(*) FROM sqlite_schema WHERE "
			"type = 'table' AND name IN ('sweeps', 'points', 'results', 'errors')");
		check_sql(store_db(st), 5, "SELECT count(*) FROM sqlite_schema WHERE "
			"type = 'view' AND name IN ('v_points', 'v_fitting', 'v_best', "
			"'v_cheapest', 'v_misfits')");
		check_sql(store_db(st), 1, "SELECT count(*) FROM sqlite_schema WHERE "
			"type = 'table' AND name = 'skips'");
		check_sql(store_db(st), 8, "PRAGMA user_version");
		sql(store_db(st), mode, sizeof mode, "PRAGMA journal_mode");
		assert_string_equal(mode, "wal");
		assert_int_equal(store_close(st, &d), 0);
	}
	tmp_remove(dir);
	diag_release(&d);
}

/* FNV-1a 64 written out from the published parameters (Fowler, Noll, Vo). */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static void store_hash_is_fnv1a_of_version_and_config(void **state)
{
	char a[17], b[17], c[17], want[17];
	uint64_t h;
	(void)state;
	/* The published test vector checks the hand-written hash first. */
	assert_true(fnv1a(0xcbf29ce484222325ULL, "a") == 0xaf63dc4c8601ec8cULL);
	store_hash("{}", a);
	store_hash("{}", b);
	store_hash("{\"nodes\":4}", c);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 16);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	assert_int_equal(strspn(c, "0123456789abcdef"), 16);
	assert_string_not_equal(a, c);
	h = fnv1a(fnv1a(0xcbf29ce484222325ULL, PACKAGE_VERSION "\n"), "{}");
	snprintf(want, sizeof want, "%016llx", (unsigned long long)h);
	assert_string_equal(a, want);
}

static void store_puts_points_and_reads_them_through_the_views(void **state)
{
	static const enum store_status kinds[3] = {STORE_SIMULATED, STORE_NO_FIT, STORE_ERROR};
	char dir[32], path[64], cfg[3][128], text[512];
	struct diag d;
	struct store_point p[3];
	struct store *st;
	sqlite3 *db;
	int i;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "sweep.db");
	st = store_new(path, 1000);
	db = store_db(st);
	for (i = 0; i < 3; i++) {
		point_make(&p[i], cfg[i], kinds[i], 4 << i);
		assert_int_equal(store_put(st, &p[i], &d), 0);
	}
	assert_int_equal(store_commit(st, &d), 0);
	check_sql(db, 3, "SELECT count(*) FROM v_points");
	check_sql(db, 3, "SELECT count(*) FROM points WHERE sweep_id = "
		"(SELECT id FROM sweeps WHERE status = 'running')");

	/* The simulated point: every value as put. */
#define AT "FROM v_points WHERE hash = '%s'"
	sql(db, text, sizeof text, "SELECT config " AT, p[0].hash);
	assert_string_equal(text, cfg[0]);
	sql(db, text, sizeof text, "SELECT model || ' ' || node || ' ' || schedule " AT, p[0].hash);
	assert_string_equal(text, "llama3-70b p5.48xlarge 1f1b");
	check_sql(db, 32, "SELECT gpus " AT, p[0].hash);
	check_sql(db, 1, "SELECT fits AND simulated AND reason IS NULL AND error IS NULL "
		AT, p[0].hash);
	{
		/* Doubles go through SQLite's REAL bit for bit: relative tolerance 0. */
		const struct { const char *col; double want; } col[] = {
			{"step_s", p[0].step_s}, {"tokens_per_s", p[0].tokens_per_s},
			{"mfu", p[0].mfu}, {"hfu", p[0].hfu}, {"usd_per_hour", p[0].usd_per_hour},
			{"usd_per_million_tokens", p[0].usd_per_million_tokens},
			{"t_compute", p[0].time[STEP_COMPUTE]},
			{"t_bubble", p[0].time[STEP_CATEGORIES]},
			{"m_optimizer", p[0].mem[MEMORY_OPTIMIZER]}, {"wall_s", 0.25},
		};
		for (i = 0; i < (int)(sizeof col / sizeof col[0]); i++)
			check_rel(sql_num(db, "SELECT %s " AT, col[i].col, p[0].hash), col[i].want,
				  0);
	}

	/* Screened out: the reason, no price (0 in the record is NULL in the table), no times. */
	sql(db, text, sizeof text, "SELECT reason " AT " AND NOT fits AND NOT simulated",
	    p[1].hash);
	assert_string_equal(text, p[1].reason);
	check_sql(db, 1, "SELECT usd_per_hour IS NULL AND usd_per_million_tokens IS NULL "
		"AND t_bubble IS NULL " AT, p[1].hash);
	/* v_misfits counts by cause, the reason up to its colon. */
	sql(db, text, sizeof text, "SELECT cause FROM v_misfits WHERE points = 1");
	assert_string_equal(text, "device memory");

	/* Failed: the message, and no results row. */
	sql(db, text, sizeof text, "SELECT error " AT, p[2].hash);
	assert_string_equal(text, p[2].reason);
	check_sql(db, 0, "SELECT count(*) FROM results r JOIN points p ON "
		"p.id = r.point_id WHERE p.hash = '%s'", p[2].hash);
#undef AT
	check_sql(db, 1, "SELECT count(*) FROM v_fitting");
	sql(db, text, sizeof text, "SELECT hash FROM v_best");
	assert_string_equal(text, p[0].hash);
	sql(db, text, sizeof text, "SELECT hash FROM v_cheapest");
	assert_string_equal(text, p[0].hash);

	for (i = 0; i < 3; i++)
		assert_true(store_has(st, p[i].hash));
	assert_false(store_has(st, "0123456789abcdef"));
	/* Stored already: nothing is added, not even a second result. */
	for (i = 0; i < 3; i++)
		assert_int_equal(store_put(st, &p[i], &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	check_sql(db, 3, "SELECT count(*) FROM points");
	check_sql(db, 2, "SELECT count(*) FROM results");
	check_sql(db, 1, "SELECT count(*) FROM errors");

	assert_int_equal(store_sweep_end(st, "done", &d), 0);
	check_sql(db, 1, "SELECT count(*) FROM sweeps WHERE status = 'done' AND "
		"finished IS NOT NULL AND spec_file = 'sweeps/70b.yaml'");
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

static void store_hashes_are_sorted(void **state)
{
	char dir[32], path[64], cfg[128];
	struct diag d;
	char(*h)[17];
	struct store_point p;
	struct store *st;
	size_t n, i;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "sweep.db");
	st = store_new(path, 1000);
	h = store_hashes(st, 0, 0, &n);
	assert_int_equal(n, 0);
	free(h);
	for (i = 1; i <= 5; i++) {
		point_make(&p, cfg, STORE_SIMULATED, (int64_t)(4 * i));
		assert_int_equal(store_put(st, &p, &d), 0);
	}
	assert_int_equal(store_commit(st, &d), 0);
	h = store_hashes(st, 0, 0, &n);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		assert_int_equal(strspn(h[i], "0123456789abcdef"), 16);
		assert_true(store_has(st, h[i]));
		if (i > 0)
			assert_true(strcmp(h[i - 1], h[i]) < 0);
	}
	free(h);
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

/* A point only screened is marked in store_hashes (a full sweep simulates it) and replaced
 * by its simulation when stored again; a settled point is kept as first stored. */
static void store_replaces_a_screened_point_with_its_simulation(void **state)
{
	char dir[32], path[64], cfg[2][128];
	struct diag d;
	char(*h)[17];
	struct store_point p[2], again;
	struct store *st;
	size_t n, i;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "screened.db");
	st = store_new(path, 1000);
	point_make(&p[0], cfg[0], STORE_SIMULATED, 4);
	p[0].status = STORE_SCREENED;
	p[0].step_s = 0;
	point_make(&p[1], cfg[1], STORE_NO_FIT, 8);
	for (i = 0; i < 2; i++)
		assert_int_equal(store_put(st, &p[i], &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	h = store_hashes(st, 0, 0, &n);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++)
		assert_int_equal(h[i][16], strncmp(h[i], p[0].hash, 16) == 0 ? STORE_HASH_SCREENED
									       : '\0');
	free(h);
	check_sql(store_db(st), 1, "SELECT count(*) FROM v_points WHERE simulated = 0 AND fits");

	point_make(&again, cfg[0], STORE_SIMULATED, 4);   /* the same configuration, simulated */
	assert_int_equal(store_put(st, &again, &d), 0);
	point_make(&again, cfg[1], STORE_SIMULATED, 8);   /* settled: stays as it was */
	assert_int_equal(store_put(st, &again, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	check_sql(store_db(st), 2, "SELECT count(*) FROM points");
	check_sql(store_db(st), 2, "SELECT count(*) FROM results");
	check_sql(store_db(st), 1, "SELECT count(*) FROM v_points WHERE simulated = 1 AND "
		  "hash = '%s' AND step_s = %.17g", p[0].hash, 41.7);
	check_sql(store_db(st), 1, "SELECT count(*) FROM v_points WHERE fits = 0 AND "
		  "hash = '%s'", p[1].hash);
	h = store_hashes(st, 0, 0, &n);
	assert_int_equal(n, 2);
	assert_int_equal(h[0][16], '\0');
	assert_int_equal(h[1][16], '\0');
	free(h);
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

/* A sweep killed where it cannot mark itself stays `running`: a writable open marks it
 * `interrupted` when its writer is gone from this host (no such process, or the id reused by
 * a process started at another time); a live writer and another host's are left alone. A
 * read-only open names the same sweeps without marking them. */
static void store_marks_a_sweep_whose_writer_is_gone(void **state)
{
	char dir[32], path[64], host[256] = "", text[64];
	struct diag d;
	struct store_rows *r;
	struct store *st;
	int64_t start = store_process_start((long)getpid());
	pid_t child;
	int wstatus;
	(void)state;
	diag_init(&d);
	assert_true(start > 0);
	assert_int_equal(gethostname(host, sizeof host - 1), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &wstatus, 0), child);   /* reaped: its pid is free */
	tmp_make(dir, path, sizeof path, "killed.db");
	st = store_new(path, 1000);                              /* 1: this process, alive */
	check_sql(store_db(st), (int)getpid(), "SELECT pid FROM sweeps WHERE id = 1");
	check_sql(store_db(st), start, "SELECT pid_start FROM sweeps WHERE id = 1");
	sql(store_db(st), text, sizeof text, "INSERT INTO sweeps (spec, started, status, version, "
	    "host, pid, pid_start) VALUES ('{}', 'x', 'running', 'v', '%s', %d, %lld), "
	    "('{}', 'x', 'running', 'v', 'elsewhere', %d, NULL), "
	    "('{}', 'x', 'running', 'v', '%s', %d, NULL), "
	    "('{}', 'x', 'done', 'v', '%s', %d, NULL) RETURNING id",
	    host, (int)getpid(), (long long)start + 1,       /* 2: pid reused */
	    (int)child,                                          /* 3: another host */
	    host, (int)child,                                    /* 4: gone */
	    host, (int)child);                                   /* 5: gone, but done */
	assert_int_equal(store_close(st, &d), 0);

	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_int_equal(store_interrupted(st, &r, &d), 0);
	assert_int_equal(r->rows, 2);
	assert_int_equal(store_cell(r, 0, 0)->i, 2);
	assert_int_equal(store_cell(r, 1, 0)->i, 4);
	assert_int_equal(store_cell(r, 1, 3)->i, child);
	store_rows_free(r);
	check_sql(store_db(st), 4, "SELECT count(*) FROM sweeps WHERE status = 'running'");
	assert_int_equal(store_close(st, &d), 0);

	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	sql(store_db(st), text, sizeof text, "SELECT group_concat(status, ' ') FROM "
	    "(SELECT status FROM sweeps ORDER BY id)");
	assert_string_equal(text, "running interrupted running interrupted done");
	assert_int_equal(store_interrupted(st, &r, &d), 0);
	assert_int_equal(r->rows, 2);
	store_rows_free(r);
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

static void store_pack_round_trips_every_field(void **state)
{
	char cfg[128];
	struct store_point p, q;
	size_t size, i;
	void *buf;
	(void)state;
	point_make(&p, cfg, STORE_SIMULATED, 16);
	strcpy(p.reason, "fits with 11.8 GB to spare");
	p.requests_per_s = 3.5, p.output_tokens_per_s = 1792, p.ttft_p50 = 0.21, p.ttft_p99 = 0.93;
	p.tpot_p50 = 0.031, p.tpot_p99 = 0.047, p.latency_p99 = 12.6, p.host_per_node = 1.5e11;
	p.prefill_gpus = 8, p.decode_gpus = 8, p.prefill_busy = 0.39, p.decode_busy = 0.99;
	p.kv_transfer_mean = 8.6e-4, p.kv_transfer_p99 = 2.4e-3;
	buf = store_pack(&p, &size);
	assert_int_equal(size, sizeof p + strlen(cfg));
	assert_int_equal(store_unpack(buf, size, &q), 0);
#define SAME_S(f) assert_string_equal(q.f, p.f)
#define SAME(f) assert_true(q.f == p.f)
	SAME_S(config), SAME_S(hash), SAME_S(mode), SAME_S(model), SAME_S(node), SAME_S(recompute);
	SAME_S(schedule), SAME_S(dtype), SAME_S(reason), SAME(status), SAME(nodes), SAME(gpus);
	SAME(tp), SAME(pp), SAME(dp), SAME(cp), SAME(ep), SAME(zero), SAME(micro_batch), SAME(vp);
	SAME(global_batch), SAME(seq_len), SAME(fits), SAME(step_s), SAME(tokens_per_s), SAME(mfu);
	SAME(tflops_per_gpu), SAME(hfu), SAME(peak_per_gpu), SAME(analytic_peak), SAME(capacity);
	SAME(host_per_node), SAME(host_capacity), SAME(usd_per_hour), SAME(usd_per_million_tokens);
	SAME(requests_per_s), SAME(output_tokens_per_s), SAME(ttft_p50), SAME(ttft_p99);
	SAME(tpot_p50), SAME(tpot_p99), SAME(latency_p99), SAME(wall_s);
	SAME(prefill_gpus), SAME(decode_gpus), SAME(prefill_busy), SAME(decode_busy);
	SAME(kv_transfer_mean), SAME(kv_transfer_p99);
	for (i = 0; i < STORE_TIMES; i++)
		SAME(time[i]);
	for (i = 0; i < MEMORY_PARTS; i++)
		SAME(mem[i]);
#undef SAME
#undef SAME_S
	store_point_release(&q);
	assert_null(q.config);
	assert_int_equal(store_unpack(buf, sizeof p - 1, &q), -1);
	free(buf);
	/* No config, and fixed strings that do not end: unpack ends them. */
	p.config = NULL;
	memset(p.model, 'x', sizeof p.model);
	buf = store_pack(&p, &size);
	assert_int_equal(store_unpack(buf, size, &q), 0);
	assert_string_equal(q.config, "");
	assert_int_equal(strlen(q.model), sizeof q.model - 1);
	store_point_release(&q);
	free(buf);
}

/* A database at path of points on the given node counts: the first failed, the rest simulated
 * with tokens_per_s times scale. */
static void merge_source(const char *path, const int64_t nodes[3], double scale)
{
	char cfg[128];
	struct diag d;
	struct store_point p;
	struct store *st = store_new(path, 1000);
	int i;
	diag_init(&d);
	for (i = 0; i < 3; i++) {
		point_make(&p, cfg, i == 0 ? STORE_ERROR : STORE_SIMULATED, nodes[i]);
		p.tokens_per_s *= scale;
		assert_int_equal(store_put(st, &p, &d), 0);
	}
	assert_int_equal(store_sweep_end(st, "done", &d), 0);
	assert_int_equal(store_close(st, &d), 0);
	diag_release(&d);
}

/* Results in main with the tokens_per_s of the attached source's point of the same hash. */
static double results_matching(sqlite3 *db, const char *src)
{
	return sql_num(db, "SELECT count(*) FROM %s.points sp JOIN %s.results sr ON "
		       "sr.point_id = sp.id JOIN main.points p ON p.hash = sp.hash JOIN "
		       "main.results r ON r.point_id = p.id WHERE r.tokens_per_s = sr.tokens_per_s",
		       src, src);
}

static void store_merge_adds_each_point_once_with_its_result(void **state)
{
	/* 4 (failed), 8 and 16 nodes in a; 4 (failed), 16 (another throughput) and 32 in b. */
	static const int64_t na[3] = {4, 8, 16}, nb[3] = {4, 16, 32}, nd[3] = {64, 128, 256};
	char dir[32], a[64], b[64], c[64], e[64], attach[256];
	struct diag d;
	struct store *st;
	sqlite3 *db;
	size_t added;
	(void)state;
	diag_init(&d);
	tmp_make(dir, a, sizeof a, "a.db");
	snprintf(b, sizeof b, "%s/b.db", dir);
	snprintf(c, sizeof c, "%s/c.db", dir);
	merge_source(a, na, 1.0);
	merge_source(b, nb, 1.5);
	st = store_open(c, false, 1000, &d);
	assert_non_null(st);
	db = store_db(st);
	assert_int_equal(store_merge(st, a, &added, &d), 0);
	assert_int_equal(added, 3);
	assert_int_equal(store_merge(st, b, &added, &d), 0);
	assert_int_equal(added, 1);
	assert_int_equal(store_merge(st, a, &added, &d), 0);
	assert_int_equal(added, 0);
	check_sql(db, 4, "SELECT count(*) FROM points");
	check_sql(db, 3, "SELECT count(*) FROM results");
	check_sql(db, 1, "SELECT count(*) FROM errors");
	check_sql(db, 2, "SELECT count(*) FROM sweeps");
	check_sql(db, 0, "SELECT count(*) FROM points WHERE sweep_id NOT IN "
		"(SELECT id FROM sweeps)");
	snprintf(attach, sizeof attach, "ATTACH '%s' AS a; ATTACH '%s' AS b", a, b);
	assert_int_equal(sqlite3_exec(db, attach, NULL, NULL, NULL), SQLITE_OK);
	/* a's two results came whole; of b's, only 32 nodes is new (16 nodes kept a's). */
	assert_int_equal(results_matching(db, "a"), 2);
	assert_int_equal(results_matching(db, "b"), 1);
	check_sql(db, 1, "SELECT count(*) FROM a.errors ae JOIN a.points ap ON "
		"ap.id = ae.point_id JOIN main.points p ON p.hash = ap.hash JOIN "
		"main.errors e ON e.point_id = p.id AND e.message = ae.message");
	assert_int_equal(sqlite3_exec(db, "DETACH a; DETACH b", NULL, NULL, NULL), SQLITE_OK);
	/* An output that cannot be written is the output's failure: the message names it, not
	 * the file merged from. (query_only stands in for a read-only file: root writes those.) */
	assert_int_equal(sqlite3_exec(db, "PRAGMA query_only = 1", NULL, NULL, NULL), SQLITE_OK);
	snprintf(e, sizeof e, "%s/d.db", dir);
	merge_source(e, nd, 2.0);
	assert_int_equal(store_merge(st, e, &added, &d), -1);
	assert_string_equal(d.items[d.count - 1].at.file, c);
	check_mentions(last_message(&d), "readonly");
	assert_int_equal(sqlite3_exec(db, "PRAGMA query_only = 0", NULL, NULL, NULL), SQLITE_OK);
	snprintf(c, sizeof c, "%s/missing.db", dir);   /* refused, and not created */
	assert_int_equal(store_merge(st, c, &added, &d), -1);
	assert_int_equal(access(c, F_OK), -1);
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

/* max_page_count stands in for a disk that fills: 20 KB configurations overflow a few pages
 * each until a write fails; what was committed before stays, and the file stays sound. */
static void store_survives_a_full_disk(void **state)
{
	enum { BIG = 20 * 1024, TRIES = 200 };
	char dir[32], path[64], text[64], cfg[128], *big = malloc(BIG + 1), (*done)[17];
	struct diag d;
	struct store_point p;
	struct store *st;
	int i, n = 0, full = 0;
	(void)state;
	diag_init(&d);
	done = calloc(TRIES, sizeof *done);
	assert_true(big && done);
	tmp_make(dir, path, sizeof path, "full.db");
	st = store_new(path, 1000);
	sql_num(store_db(st), "PRAGMA max_page_count = %.0f",
		sql_num(store_db(st), "PRAGMA page_count") + 24);
	for (i = 0; i < TRIES && !full; i++) {
		memset(big, ' ', BIG);
		big[snprintf(big, 32, "{\"try\":%d,\"pad\":\"", i)] = ' ';
		memcpy(big + BIG - 2, "\"}", 3);
		point_make(&p, cfg, STORE_SIMULATED, 4);
		p.config = big;
		store_hash(big, p.hash);
		full = store_put(st, &p, &d) != 0 ||
		       store_commit(st, &d) != 0;
		if (!full)
			memcpy(done[n++], p.hash, 17);
	}
	assert_true(full && n > 0);
	check_mentions(last_message(&d), "full");
	store_close(st, &d);   /* its word on the lost transaction is not checked */
	st = store_open(path, false, 1000, &d);
	assert_non_null(st);
	sql(store_db(st), text, sizeof text, "PRAGMA integrity_check");
	assert_string_equal(text, "ok");
	for (i = 0; i < n; i++)
		assert_true(store_has(st, done[i]));
	/* No point without its result: a resumed sweep would skip it. */
	check_sql(store_db(st), 0, "SELECT count(*) FROM points p WHERE NOT EXISTS "
		"(SELECT 1 FROM results WHERE point_id = p.id)");
	assert_int_equal(store_close(st, &d), 0);
	free(done);
	free(big);
	tmp_remove(dir);
	diag_release(&d);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void store_put_gives_up_on_a_lock_after_busy_ms(void **state)
{
	char dir[32], path[64], cfg[128];
	struct diag d;
	struct store_point p;
	struct store *st;
	sqlite3 *other;
	double t0;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "locked.db");
	st = store_new(path, 100);
	assert_int_equal(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	point_make(&p, cfg, STORE_SIMULATED, 4);
	t0 = now_s();
	assert_int_equal(store_put(st, &p, &d), -1);
	assert_true(now_s() - t0 < 1.0);
	check_mentions(last_message(&d), "locked");
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_commit(st, &d), 0);
	check_sql(other, 1, "SELECT count(*) FROM results");
	assert_int_equal(sqlite3_close(other), SQLITE_OK);
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

static void store_opened_readonly_refuses_writes(void **state)
{
	char dir[32], path[64], cfg[128];
	struct diag d;
	struct store_point p;
	struct store *st;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "ro.db");
	st = store_new(path, 1000);
	point_make(&p, cfg, STORE_SIMULATED, 4);
	assert_int_equal(store_put(st, &p, &d), 0);
	assert_int_equal(store_close(st, &d), 0);

	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	assert_true(store_has(st, p.hash));
	check_sql(store_db(st), 1, "SELECT count(*) FROM v_fitting");
	assert_int_equal(store_sweep_begin(st, "{}", NULL, NULL, &d), -1);
	check_mentions(last_message(&d), "readonly");
	assert_int_not_equal(sqlite3_exec(store_db(st), "INSERT INTO errors VALUES (99, 'x')", NULL,
					  NULL, NULL), SQLITE_OK);
	check_mentions(sqlite3_errmsg(store_db(st)), "readonly");
	/* store_put on a read-only store refuses (it once crashed on unprepared inserts). */
	assert_int_equal(store_put(st, &p, &d), -1);
	check_mentions(last_message(&d), "read-only");
	assert_int_equal(store_close(st, &d), 0);

	snprintf(path, sizeof path, "%s/missing.db", dir);
	diag_release(&d);
	assert_null(store_open(path, true, 1000, &d));
	assert_true(d.count > 0);
	assert_int_equal(access(path, F_OK), -1);   /* and it was not created */
	tmp_remove(dir);
	diag_release(&d);
}

/* A result that cannot be written takes its point with it: the open transaction is rolled
 * back, so no point is ever stored without a result (a resumed sweep would skip it), and the
 * sweep can still be closed as failed. */
static void store_put_failure_leaves_no_orphan(void **state)
{
	char dir[32], path[64], cfg[128];
	struct diag d;
	struct store_point p;
	struct store *st;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "orphan.db");
	st = store_new(path, 1000);
	assert_int_equal(sqlite3_exec(store_db(st), "CREATE TEMP TRIGGER f BEFORE INSERT ON "
				      "main.results BEGIN SELECT RAISE(ABORT, 'database or disk "
				      "is full'); END", NULL, NULL, NULL), SQLITE_OK);
	point_make(&p, cfg, STORE_SIMULATED, 4);
	assert_int_equal(store_put(st, &p, &d), -1);
	check_mentions(last_message(&d), "full");
	assert_int_equal(store_sweep_end(st, "failed", &d), 0);
	assert_int_equal(store_close(st, &d), 0);
	st = store_open(path, true, 1000, &d);
	assert_non_null(st);
	check_sql(store_db(st), 0, "SELECT count(*) FROM points");
	check_sql(store_db(st), 1, "SELECT count(*) FROM sweeps WHERE status = 'failed'");
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

static void store_refuses_another_schema(void **state)
{
	char dir[32], path[64];
	struct diag d;
	sqlite3 *db;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "other.db");
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE points (x); PRAGMA user_version = 9",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_null(store_open(path, false, 1000, &d));
	assert_string_equal(last_message(&d),
			    "schema 9, this dssim reads 8: re-run the sweep into a new file");
	diag_release(&d);
	assert_null(store_open(path, true, 1000, &d));
	assert_string_equal(last_message(&d),
			    "schema 9, this dssim reads 8: re-run the sweep into a new file");
	assert_int_equal(store_schema_version(), 8);
	tmp_remove(dir);
	diag_release(&d);
}

/* store_query: typed cells as SQLite holds them, parameters bound in order, and every refusal
 * (a write, a wrong parameter count, bad SQL) an error rather than a crash. */
static void store_query_returns_typed_rows_and_refuses_writes(void **state)
{
	char dir[32], path[64], cfg[2][128];
	struct diag d;
	struct store_point p[2];
	struct store_value params[2];
	struct store_rows *r;
	struct store *st;
	int64_t id;
	int i;
	(void)state;
	diag_init(&d);
	tmp_make(dir, path, sizeof path, "query.db");
	st = store_new(path, 1000);
	for (i = 0; i < 2; i++) {
		point_make(&p[i], cfg[i], i ? STORE_NO_FIT : STORE_SIMULATED, 4 << i);
		assert_int_equal(store_put(st, &p[i], &d), 0);
	}
	assert_int_equal(store_commit(st, &d), 0);

	params[0] = store_text(p[0].hash);
	params[1] = store_int(32);
	if (store_query(st, "SELECT gpus, step_s, node, usd_per_hour IS NULL AS unpriced, NULL AS "
			"empty FROM v_points WHERE hash = ?1 AND gpus = ?2", params, 2, &r,
			&d) != 0) {
		print_error("store_query: %s\n", last_message(&d));
		fail();
	}
	assert_int_equal(r->rows, 1);
	assert_int_equal(r->cols, 5);
	assert_string_equal(r->names[1], "step_s");
	assert_int_equal(store_rows_column(r, "node"), 2);
	assert_int_equal(store_rows_column(r, "no_such"), -1);
	assert_int_equal(store_cell(r, 0, 0)->type, STORE_INT);
	assert_int_equal(store_cell(r, 0, 0)->i, 32);
	check_rel(store_cell(r, 0, 0)->d, 32, 0);
	assert_int_equal(store_cell(r, 0, 1)->type, STORE_REAL);
	check_rel(store_cell(r, 0, 1)->d, p[0].step_s, 0);
	assert_int_equal(store_cell(r, 0, 2)->type, STORE_TEXT);
	assert_string_equal(store_cell(r, 0, 2)->text, "p5.48xlarge");
	assert_int_equal(store_cell(r, 0, 3)->i, 0);
	assert_int_equal(store_cell(r, 0, 4)->type, STORE_NULL);
	assert_null(store_cell(r, 0, 4)->text);
	store_rows_free(r);

	/* By id, and by hash. */
	id = store_point_id(st, p[1].hash);
	assert_true(id > 0);
	assert_int_equal(store_point_id(st, "0123456789abcdef"), 0);
	assert_int_equal(store_fetch_point(st, id, &r, &d), 0);
	assert_int_equal(r->rows, 1);
	assert_string_equal(store_cell(r, 0, store_rows_column(r, "hash"))->text, p[1].hash);
	store_rows_free(r);
	assert_int_equal(store_fetch_point(st, id + 100, &r, &d), 0);
	assert_int_equal(r->rows, 0);
	store_rows_free(r);

	assert_int_equal(store_query(st, "DELETE FROM errors", NULL, 0, &r, &d), -1);
	assert_null(r);
	check_mentions(last_message(&d), "read-only");
	assert_int_equal(store_query(st, "SELECT ?1, ?2", params, 1, &r, &d), -1);
	check_mentions(last_message(&d), "parameters");
	assert_int_equal(store_query(st, "SELECT nosuch FROM points", NULL, 0, &r, &d), -1);
	check_mentions(last_message(&d), "no such column");
	assert_int_equal(store_query_check(st, "SELECT nosuch FROM points", &d), -1);
	check_mentions(last_message(&d), "no such column");
	assert_int_equal(store_query_check(st, "SELECT 1", &d), 0);
	assert_int_equal(store_query_check(st, "SELECT 1 ; \n", &d), 0);
	/* A --where of "1) ; ..." closes the first statement early: the rest is refused, not
	 * dropped. */
	assert_int_equal(store_query_check(st, "SELECT id FROM points WHERE (1) ; SELECT 2) "
					   "LIMIT 3", &d), -1);
	check_mentions(last_message(&d), "more than one statement");
	assert_int_equal(store_query(st, "SELECT 1; SELECT 2", NULL, 0, &r, &d), -1);
	assert_null(r);
	check_mentions(last_message(&d), "more than one statement");
	store_rows_free(NULL);
	assert_int_equal(store_close(st, &d), 0);
	tmp_remove(dir);
	diag_release(&d);
}

/* store_where: an expression over named values, true only when neither NULL nor 0; a name it
 * does not use needs no value. */
static void store_where_evaluates_named_values(void **state)
{
	static const char *const names[] = {"tp", "node", "pp"};
	struct store_value v[3];
	struct store_where *w;
	struct mark at = {"spec.yaml", 2, 8};
	struct diag d;
	char line[256];
	(void)state;
	diag_init(&d);
	w = store_where_new(":tp <= 8 AND :node = 'p5.48xlarge'", names, 3, at, "where", &d);
	assert_non_null(w);
	assert_true(store_where_uses(w, 0));
	assert_true(store_where_uses(w, 1));
	assert_false(store_where_uses(w, 2));
	assert_false(store_where_uses(w, 3));
	v[0] = store_int(8);
	v[1] = store_text("p5.48xlarge");
	v[2] = store_text(NULL);
	assert_true(store_where_passes(w, v));
	v[0] = store_int(16);
	assert_false(store_where_passes(w, v));
	v[0] = store_int(2);
	v[1] = store_text("p4de.24xlarge");
	assert_false(store_where_passes(w, v));
	v[1] = store_text(NULL);   /* NULL is not true */
	assert_false(store_where_passes(w, v));
	store_where_free(w);
	store_where_free(NULL);
	assert_null(store_where_new(":tp <=", names, 3, at, "where", &d));
	check_mentions(last_message(&d), "syntax error");
	/* The rest of "1); SELECT (2" would go unread: refused. */
	assert_null(store_where_new(":tp); SELECT (2", names, 3, at, "where", &d));
	check_mentions(last_message(&d), "more than one statement");
	/* At the place given: where the expression came from. */
	check_mentions(diag_format(&d.items[0], line, sizeof line),
		       "spec.yaml:2:8: where: not an expression: ");
	diag_release(&d);
}

/* The names of the time and memory columns, from the store: what report/ reads. */
static void store_names_time_and_memory_columns(void **state)
{
	(void)state;
	assert_string_equal(store_time_name(0), "compute");
	assert_string_equal(store_time_name(STORE_TIMES - 1), "bubble");
	assert_null(store_time_name(STORE_TIMES));
	assert_string_equal(store_part_name(0), "weights");
	assert_string_equal(store_part_name(STORE_PARTS - 1), "overhead");
	assert_null(store_part_name(STORE_PARTS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(store_creates_the_schema_in_wal_mode),
		cmocka_unit_test(store_hash_is_fnv1a_of_version_and_config),
		cmocka_unit_test(store_puts_points_and_reads_them_through_the_views),
		cmocka_unit_test(store_hashes_are_sorted),
		cmocka_unit_test(store_marks_a_sweep_whose_writer_is_gone),
		cmocka_unit_test(store_replaces_a_screened_point_with_its_simulation),
		cmocka_unit_test(store_pack_round_trips_every_field),
		cmocka_unit_test(store_merge_adds_each_point_once_with_its_result),
		cmocka_unit_test(store_survives_a_full_disk),
		cmocka_unit_test(store_put_gives_up_on_a_lock_after_busy_ms),
		cmocka_unit_test(store_opened_readonly_refuses_writes),
		cmocka_unit_test(store_put_failure_leaves_no_orphan),
		cmocka_unit_test(store_refuses_another_schema),
		cmocka_unit_test(store_query_returns_typed_rows_and_refuses_writes),
		cmocka_unit_test(store_where_evaluates_named_values),
		cmocka_unit_test(store_names_time_and_memory_columns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
