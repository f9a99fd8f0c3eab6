/*
 * main_query: `dssim top`, `dssim compare` and `dssim db` — questions put to a sweep database
 * through its documented views (store.c), printed as a text table, JSON or CSV. Command stage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "json.h"
#include "main_sweep.h"
#include "scenario.h"
#include "store.h"
#include "report.h"
#include "table.h"
#include "sweep.h"
#include "xalloc.h"


int main_parse_format(const char *s, enum format *f)
{
	if (strcmp(s, "text") == 0)
		*f = FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = FORMAT_JSON;
	else if (strcmp(s, "csv") == 0)
		*f = FORMAT_CSV;
	else
		return -1;
	return 0;
}

/* ---- top ---- */

/* Columns where less is better: top sorts them ascending. */
static bool lower_is_better(const char *col)
{
	static const char *const low[] = {"step_s", "usd_per_hour", "usd_per_million_tokens",
					  "peak_per_gpu", "analytic_peak", "ttft_p50", "ttft_p99",
					  "tpot_p50", "tpot_p99", "latency_p99", "wall_s", "gpus",
					  "nodes", NULL};
	size_t i;
	for (i = 0; low[i]; i++)
		if (strcmp(col, low[i]) == 0)
			return true;
	return strncmp(col, "t_", 2) == 0 || strncmp(col, "m_", 2) == 0;
}

/* Whether col is a column of v_points (the --by value goes into SQL as a name). */
static bool is_column(sqlite3 *db, const char *col, char *list, size_t size)
{
	sqlite3_stmt *q;
	bool found = false;
	list[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info('v_points')", -1, &q,
			       NULL) != SQLITE_OK)
		return false;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(q, 0);
		if (strcmp(n, col) == 0)
			found = true;
		if (strlen(list) + strlen(n) + 3 < size)
			snprintf(list + strlen(list), size - strlen(list), "%s%s",
				 list[0] ? ", " : "", n);
	}
	sqlite3_finalize(q);
	return found;
}

static void top_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim top --db RESULTS.db [--by COLUMN] [--where EXPR] [-n N]\n"
		"                 [--asc | --desc] [--format text|json|csv]\n"
		"\n"
		"The best points of a sweep database. --by names a column of the view v_points\n"
		"(default tokens_per_s; times, prices and memory sort ascending, the rest\n"
		"descending). --where is an SQL condition on the same columns (default: fits),\n"
		"e.g. --where \"fits and gpus <= 64 and node = 'p5.48xlarge'\". `dssim db schema`\n"
		"lists every column.\n"
		"\n"
		"exit status: 0 printed, 1 the database cannot be read, 2 bad usage or\n"
		"a bad --by or --where.\n");
}

static const char *const top_columns =
	"id, model, node, nodes, gpus, tp, pp, dp, cp, ep, zero, micro_batch AS mb, recompute, "
	"schedule, vp, seq_len, round(step_s, 4) AS step_s, round(tokens_per_s) AS tokens_per_s, "
	"round(mfu, 3) AS mfu, round(peak_per_gpu / 1073741824.0, 1) AS peak_gib, "
	"round(usd_per_hour, 2) AS usd_per_hour, "
	"round(usd_per_million_tokens, 3) AS usd_per_mtok";

int main_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},    {"by", required_argument, NULL, 'b'},
		{"where", required_argument, NULL, 'w'}, {"asc", no_argument, NULL, 'a'},
		{"desc", no_argument, NULL, 'z'},        {"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
	};
	const char *db = NULL, *by = "tokens_per_s", *where = "fits";
	enum format fmt = FORMAT_TEXT;
	long n = 10;
	int dir = 0, c, status = EXIT_OK;
	struct store *st;
	struct table t;
	sqlite3_stmt *q;
	char err[1024], cols[4096], *sql, *endp;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			db = optarg;
			break;
		case 'b':
			by = optarg;
			break;
		case 'w':
			where = optarg;
			break;
		case 'a':
			dir = 1;
			break;
		case 'z':
			dir = -1;
			break;
		case 'n':
			n = strtol(optarg, &endp, 10);
			if (endp == optarg || *endp != '\0' || n < 1) {
				fprintf(stderr, "dssim top: -n: expected a positive count, got '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'f':
			if (main_parse_format(optarg, &fmt) != 0) {
				fprintf(stderr, "dssim top: --format: expected text, json or csv, got "
						"'%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'h':
			top_usage(stdout);
			return EXIT_OK;
		default:
			top_usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	if (db == NULL || optind != argc) {
		fprintf(stderr, "dssim top: %s\n", db ? "unexpected argument" : "--db FILE is required");
		top_usage(stderr);
		return EXIT_BAD_INPUT;
	}
	st = store_open(db, true, 5000, err, sizeof err);
	if (st == NULL) {
		fprintf(stderr, "dssim top: %s: %s\n", db, err);
		return EXIT_INTERNAL;
	}
	if (!is_column(store_db(st), by, cols, sizeof cols)) {
		fprintf(stderr, "dssim top: --by: no column '%s' (columns: %s)\n", by, cols);
		store_close(st, err, sizeof err);
		return EXIT_BAD_INPUT;
	}
	if (dir == 0)
		dir = lower_is_better(by) ? 1 : -1;
	sql = sqlite3_mprintf("SELECT %s%s%s FROM v_points WHERE error IS NULL AND (%s) "
			      "ORDER BY \"%w\" IS NULL, \"%w\" %s, id LIMIT %ld",
			      top_columns, strstr(top_columns, by) ? "" : ", ",
			      strstr(top_columns, by) ? "" : by, where, by, by,
			      dir > 0 ? "ASC" : "DESC", n);
	if (sqlite3_prepare_v2(store_db(st), sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "dssim top: --where: %s\n", sqlite3_errmsg(store_db(st)));
		sqlite3_free(sql);
		store_close(st, err, sizeof err);
		return EXIT_BAD_INPUT;
	}
	sqlite3_free(sql);
	if (table_from_stmt(&t, q, store_db(st), err, sizeof err) != 0) {
		fprintf(stderr, "dssim top: %s: %s\n", db, err);
		status = EXIT_INTERNAL;
	} else {
		table_print(&t, fmt, stdout);
	}
	table_free(&t);
	sqlite3_finalize(q);
	store_close(st, err, sizeof err);
	return status;
}

/* ---- compare ---- */

static void compare_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim compare [--db RESULTS.db] [--format text|json|csv] A B...\n"
		"\n"
		"Side by side: each of A B... is a scenario file (simulated now) or the id of a\n"
		"point in the database. Text output adds the change of each number against the\n"
		"first column.\n"
		"\n"
		"exit status: 0 printed, 1 the database cannot be read, 2 bad input or usage.\n");
}

/* The fields compare shows, in order: the key columns and the results. */
static const char *const compare_fields[] = {
	"id", "model", "node", "nodes", "gpus", "tp", "pp", "dp", "cp", "ep", "zero",
	"micro_batch", "global_batch", "recompute", "schedule", "vp", "seq_len", "dtype", "fits",
	"reason", "step_s", "tokens_per_s", "tflops_per_gpu", "mfu", "peak_per_gpu",
	"usd_per_hour", "usd_per_million_tokens", "t_compute", "t_tp_comm", "t_cp_comm",
	"t_pp_comm", "t_dp_comm", "t_ep_comm", "t_optimizer", "t_offload", "t_bubble",
	"m_weights", "m_gradients", "m_optimizer", "m_activations", "m_kv_cache", "m_buffers",
	"m_overhead", "output_tokens_per_s", "ttft_p99", "tpot_p99", "latency_p99", "error", NULL,
};

/* One item's row of compare_fields from a store's v_points. */
static int fetch(sqlite3 *db, long long id, struct table *t, size_t col, char *err, size_t size)
{
	sqlite3_stmt *q;
	size_t i;
	int rc;
	if (sqlite3_prepare_v2(db, "SELECT * FROM v_points WHERE id = ?", -1, &q, NULL) !=
	    SQLITE_OK) {
		snprintf(err, size, "%s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		snprintf(err, size, "no point with id %lld", id);
		sqlite3_finalize(q);
		return -1;
	}
	for (i = 0; compare_fields[i]; i++) {
		int k, n = sqlite3_column_count(q);
		for (k = 0; k < n; k++) {
			if (strcmp(sqlite3_column_name(q, k), compare_fields[i]) != 0)
				continue;
			table_set_cell(t, i * t->cols + col, q, k);
			break;
		}
	}
	sqlite3_finalize(q);
	return 0;
}

static bool is_point_id(const char *s, long long *id)
{
	char *end;
	struct stat sb;
	*id = strtoll(s, &end, 10);
	return end != s && *end == '\0' && *id > 0 && stat(s, &sb) != 0;
}

/* Text output of compare: field, each item, and the change against the first. */
static void compare_text(const struct table *t, size_t items)
{
	size_t r, c;
	struct table o;
	table_init(&o, 1 + items + (items > 1 ? items - 1 : 0));
	o.head[0] = xstrdup("field");
	for (c = 0; c < items; c++)
		o.head[1 + c] = xstrdup(t->head[c]);
	for (c = 1; c < items; c++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s vs %s", t->head[c], t->head[0]);
		o.head[items + c] = xstrdup(buf);
	}
	for (r = 0; r < t->rows; r++) {
		const char *first = t->cell[r * t->cols];
		table_add_row(&o);
		o.cell[r * o.cols] = xstrdup(compare_fields[r]);
		for (c = 0; c < items; c++) {
			const char *v = t->cell[r * t->cols + c];
			o.cell[r * o.cols + 1 + c] = v ? xstrdup(v) : NULL;
			o.numeric[r * o.cols + 1 + c] = t->numeric[r * t->cols + c];
		}
		for (c = 1; c < items; c++) {
			const char *v = t->cell[r * t->cols + c];
			char buf[64];
			if (r == 0 || first == NULL || v == NULL || !t->numeric[r * t->cols] ||
			    !t->numeric[r * t->cols + c])
				continue;
			if (atof(first) != 0)
				snprintf(buf, sizeof buf, "%+.1f%%",
					 100.0 * (atof(v) - atof(first)) / atof(first));
			else if (atof(v) == 0)
				snprintf(buf, sizeof buf, "=");
			else
				continue;
			o.cell[r * o.cols + items + c] = xstrdup(buf);
			o.numeric[r * o.cols + items + c] = true;
		}
	}
	table_print(&o, FORMAT_TEXT, stdout);
	table_free(&o);
}

int main_compare(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},
		{"format", required_argument, NULL, 'f'},
		{"data-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *db = NULL, *data_dir = NULL;
	enum format fmt = FORMAT_TEXT;
	struct store *st = NULL, *mem;
	struct table t;
	char err[1024];
	size_t items, i, nfields;
	int c, status = EXIT_OK;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			db = optarg;
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 'f':
			if (main_parse_format(optarg, &fmt) != 0) {
				fprintf(stderr, "dssim compare: --format: expected text, json or csv, "
						"got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'h':
			compare_usage(stdout);
			return EXIT_OK;
		default:
			compare_usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	items = (size_t)(argc - optind);
	if (items < 1) {
		fprintf(stderr, "dssim compare: expected scenario files or point ids\n");
		compare_usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (db != NULL && (st = store_open(db, true, 5000, err, sizeof err)) == NULL) {
		fprintf(stderr, "dssim compare: %s: %s\n", db, err);
		return EXIT_INTERNAL;
	}
	/* Scenario files are evaluated into a private in-memory database, so both kinds of item
	 * are read through the same view. */
	mem = store_open(":memory:", false, 0, err, sizeof err);
	if (mem == NULL || store_sweep_begin(mem, "", "compare", NULL, err, sizeof err) != 0) {
		fprintf(stderr, "dssim compare: %s\n", err);
		store_close(st, err, sizeof err);
		store_close(mem, err, sizeof err);
		return EXIT_INTERNAL;
	}
	for (nfields = 0; compare_fields[nfields]; nfields++)
		;
	table_init(&t, items);
	for (i = 0; i < nfields; i++)
		table_add_row(&t);
	for (i = 0; i < items && status == EXIT_OK; i++) {
		const char *arg = argv[optind + (int)i];
		long long id;
		t.head[i] = xstrdup(arg);
		if (is_point_id(arg, &id)) {
			if (st == NULL) {
				fprintf(stderr, "dssim compare: %s: a point id needs --db\n", arg);
				status = EXIT_BAD_INPUT;
			} else if (fetch(store_db(st), id, &t, i, err, sizeof err) != 0) {
				fprintf(stderr, "dssim compare: %s: %s\n", db, err);
				status = EXIT_BAD_INPUT;
			}
		} else {
			struct scenario_options opt;
			struct diag d;
			struct scenario *s;
			memset(&opt, 0, sizeof opt);
			opt.data_dir = data_dir;
			diag_init(&d);
			s = scenario_load(arg, &opt, &d);
			if (s == NULL) {
				diag_print(&d, stderr);
				status = EXIT_BAD_INPUT;
			} else {
				struct store_point p;
				sweep_evaluate(s, false, &p);
				/* The same file twice is one point; fetch it by hash. */
				if (store_put(mem, &p, err, sizeof err) != 0 ||
				    store_commit(mem, err, sizeof err) != 0) {
					fprintf(stderr, "dssim compare: %s\n", err);
					status = EXIT_INTERNAL;
				} else {
					sqlite3_stmt *q;
					sqlite3_prepare_v2(store_db(mem),
							   "SELECT id FROM points WHERE hash = ?", -1,
							   &q, NULL);
					sqlite3_bind_text(q, 1, p.hash, -1, SQLITE_STATIC);
					if (sqlite3_step(q) == SQLITE_ROW)
						fetch(store_db(mem), sqlite3_column_int64(q, 0), &t, i,
						      err, sizeof err);
					sqlite3_finalize(q);
					/* A file has no database id. */
					free(t.cell[i]);
					t.cell[i] = NULL;
					t.numeric[i] = false;
				}
				store_point_release(&p);
				scenario_free(s);
			}
			diag_release(&d);
		}
	}
	if (status == EXIT_OK) {
		if (fmt == FORMAT_TEXT) {
			compare_text(&t, items);
		} else {
			/* JSON and CSV: one record per item. */
			struct table o;
			size_t r;
			table_init(&o, nfields + 1);
			o.head[0] = xstrdup("item");
			for (r = 0; r < nfields; r++)
				o.head[r + 1] = xstrdup(compare_fields[r]);
			for (i = 0; i < items; i++) {
				table_add_row(&o);
				o.cell[i * o.cols] = xstrdup(t.head[i]);
				for (r = 0; r < nfields; r++) {
					const char *v = t.cell[r * t.cols + i];
					o.cell[i * o.cols + r + 1] = v ? xstrdup(v) : NULL;
					o.numeric[i * o.cols + r + 1] = t.numeric[r * t.cols + i];
				}
			}
			table_print(&o, fmt, stdout);
			table_free(&o);
		}
	}
	table_free(&t);
	store_close(mem, err, sizeof err);
	store_close(st, err, sizeof err);
	return status;
}

/* ---- db ---- */

static void db_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim db schema\n"
		"       dssim db merge OUT.db IN.db...\n"
		"       dssim db check FILE.db\n"
		"\n"
		"schema  print the database schema, a comment on every column\n"
		"merge   copy the points of each IN that OUT lacks (same configuration and dssim\n"
		"        version), with their sweeps, results and errors; OUT is created if missing\n"
		"check   run SQLite's integrity check and count the points\n"
		"\n"
		"exit status: 0 done, 1 a database cannot be read or written (check: not ok),\n"
		"2 bad usage.\n");
}

static int db_check(const char *path)
{
	char err[1024];
	struct store *st = store_open(path, true, 5000, err, sizeof err);
	sqlite3_stmt *q;
	int status = EXIT_OK;
	if (st == NULL) {
		fprintf(stderr, "dssim db check: %s: %s\n", path, err);
		return EXIT_INTERNAL;
	}
	if (sqlite3_prepare_v2(store_db(st), "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(q, 0);
		printf("integrity: %s\n", r);
		if (strcmp(r, "ok") != 0)
			status = EXIT_INTERNAL;
	} else {
		printf("integrity: %s\n", sqlite3_errmsg(store_db(st)));
		status = EXIT_INTERNAL;
	}
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(store_db(st),
			       "SELECT (SELECT count(*) FROM sweeps), (SELECT count(*) FROM points), "
			       "(SELECT count(*) FROM results), (SELECT count(*) FROM errors), "
			       "(SELECT count(*) FROM points WHERE id NOT IN (SELECT point_id FROM "
			       "results) AND id NOT IN (SELECT point_id FROM errors))",
			       -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW) {
		printf("sweeps %lld, points %lld, results %lld, errors %lld, points without a "
		       "result %lld\n",
		       (long long)sqlite3_column_int64(q, 0), (long long)sqlite3_column_int64(q, 1),
		       (long long)sqlite3_column_int64(q, 2), (long long)sqlite3_column_int64(q, 3),
		       (long long)sqlite3_column_int64(q, 4));
		if (sqlite3_column_int64(q, 4) != 0)
			status = EXIT_INTERNAL;
	}
	sqlite3_finalize(q);
	store_close(st, err, sizeof err);
	return status;
}

int main_db(int argc, char **argv)
{
	char err[1024];
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		db_usage(stdout);
		return EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "schema") == 0) {
		store_print_schema(stdout);
		return EXIT_OK;
	}
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return db_check(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "merge") == 0) {
		struct store *out = store_open(argv[2], false, 10000, err, sizeof err);
		int i, status = EXIT_OK;
		if (out == NULL) {
			fprintf(stderr, "dssim db merge: %s: %s\n", argv[2], err);
			return EXIT_INTERNAL;
		}
		for (i = 3; i < argc; i++) {
			size_t added;
			if (store_merge(out, argv[i], &added, err, sizeof err) != 0) {
				fprintf(stderr, "dssim db merge: %s: %s\n", argv[i], err);
				status = EXIT_INTERNAL;
				break;
			}
			printf("%s: %zu points added\n", argv[i], added);
		}
		if (store_close(out, err, sizeof err) != 0 && status == EXIT_OK) {
			fprintf(stderr, "dssim db merge: %s: %s\n", argv[2], err);
			status = EXIT_INTERNAL;
		}
		return status;
	}
	db_usage(stderr);
	return EXIT_BAD_INPUT;
}

/* ---- report ---- */

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim report --db RESULTS.db [--tokens N] [--price NODE=USD/h]...\n"
		"                    [--slo TARGETS] [--target-rate R/s] [--point ID]\n"
		"                    [--format text|md|csv|html] [-o FILE]\n"
		"\n"
		"A capacity-planning report from a sweep database: per model and workload, the best\n"
		"configuration per instance type by cost and by time, days and USD to train\n"
		"--tokens (default 1T; 2T, 500B, 1e12), the Pareto front of cost against time, why\n"
		"instance types never fit; for serving, the highest request rate per instance type\n"
		"that meets --slo (default ttft_p99=2s,tpot_p99=100ms; metrics ttft_p50, ttft_p99,\n"
		"tpot_p50, tpot_p99, latency_p99), its cost and the GPUs --target-rate needs; and the\n"
		"memory per GPU of the chosen configurations. --price overrides a node's on-demand\n"
		"price (negotiated prices); the report lists the prices and dates it used. html is\n"
		"one self-contained page with charts (--point picks the memory-over-time chart).\n"
		"\n"
		"exit status: 0 written, 1 the database cannot be read or the output written,\n"
		"2 bad usage.\n");
}

/* Write to a temporary file renamed into place, so no half-written report is left. */
int main_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},     {"tokens", required_argument, NULL, 'T'},
		{"price", required_argument, NULL, 'P'},  {"slo", required_argument, NULL, 'S'},
		{"target-rate", required_argument, NULL, 'R'},
		{"point", required_argument, NULL, 'p'},  {"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct report_options o;
	const char *db = NULL, *path = NULL;
	char err[1024], tmp[4096], *end;
	FILE *out = stdout;
	int c, status;
	memset(&o, 0, sizeof o);
	o.tokens = 1e12;
	o.format = FORMAT_TEXT;
	report_parse_slo(&o, "ttft_p99=2s,tpot_p99=100ms", err, sizeof err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			db = optarg;
			break;
		case 'T':
			if (report_parse_tokens(optarg, &o.tokens) != 0) {
				fprintf(stderr, "dssim report: --tokens: expected a count such as 2T, "
						"500B or 1e12, got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'P':
			if (report_parse_price(&o, optarg, err, sizeof err) != 0) {
				fprintf(stderr, "dssim report: --price: %s\n", err);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'S':
			if (report_parse_slo(&o, optarg, err, sizeof err) != 0) {
				fprintf(stderr, "dssim report: --slo: %s\n", err);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'R':
			o.target_rate = strtod(optarg, &end);
			if (end == optarg || (*end != '\0' && strcmp(end, "/s") != 0) ||
			    !(o.target_rate > 0) || !isfinite(o.target_rate)) {
				fprintf(stderr, "dssim report: --target-rate: expected a rate such as "
						"50/s, got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'p':
			o.point = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || o.point < 1) {
				fprintf(stderr, "dssim report: --point: expected a point id, got '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'f':
			if (strcmp(optarg, "md") == 0)
				o.format = FORMAT_MD;
			else if (strcmp(optarg, "html") == 0)
				o.format = FORMAT_HTML;
			else if (main_parse_format(optarg, &o.format) != 0 || o.format == FORMAT_JSON) {
				fprintf(stderr, "dssim report: --format: expected text, md, csv or html, "
						"got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'o':
			path = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return EXIT_OK;
		default:
			report_usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	if (db == NULL || optind != argc) {
		fprintf(stderr, "dssim report: %s\n", db ? "unexpected argument" : "--db FILE is required");
		report_usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (path != NULL) {
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		out = fopen(tmp, "wb");
		if (out == NULL) {
			fprintf(stderr, "dssim report: -o %s: cannot write: %s\n", path, strerror(errno));
			return EXIT_INTERNAL;
		}
	}
	status = report_write(db, &o, out, err, sizeof err) == 0 ? EXIT_OK : EXIT_INTERNAL;
	if (status != EXIT_OK)
		fprintf(stderr, "dssim report: %s: %s\n", db, err);
	if (path != NULL) {
		if (fclose(out) != 0 || status != EXIT_OK || rename(tmp, path) != 0) {
			if (status == EXIT_OK)
				fprintf(stderr, "dssim report: -o %s: cannot write: %s\n", path,
					strerror(errno));
			remove(tmp);
			status = EXIT_INTERNAL;
		}
	}
	return status;
}
