/*
 * main_top: `dssim top`, the best points of a sweep database by a column of its documented
 * view v_points (store.c), printed as a text table, JSON or CSV. Command stage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "main_sweep.h"
#include "store.h"
#include "table.h"
#include "xalloc.h"

/* Columns where less is better: top sorts them ascending. */
static bool lower_is_better(const char *col)
{
	static const char *const low[] = {"step_s", "step_s_p10", "step_s_p50", "step_s_p90",
					  "usd_per_hour", "usd_per_million_tokens",
					  "peak_per_gpu", "analytic_peak", "ttft_p50", "ttft_p99",
					  "tpot_p50", "tpot_p99", "latency_p99", "wall_s", "gpus",
					  "nodes", NULL};
	size_t i;
	for (i = 0; low[i]; i++)
		if (strcmp(col, low[i]) == 0)
			return true;
	return strncmp(col, "t_", 2) == 0 || strncmp(col, "m_", 2) == 0;
}

/* Whether col is a column of v_points (the --by value goes into SQL as a name); list gets
 * the columns. */
static bool is_column(struct store *st, const char *col, char *list, size_t size)
{
	struct store_rows *r;
	struct diag d;
	bool found = false;
	size_t i;
	int rc;
	list[0] = '\0';
	diag_init(&d);
	rc = store_query(st, "SELECT name FROM pragma_table_info('v_points')", NULL, 0, &r, &d);
	diag_release(&d);
	if (rc != 0)
		return false;
	for (i = 0; i < r->rows; i++) {
		const char *n = store_cell(r, i, 0)->text;
		if (n == NULL)
			continue;
		if (strcmp(n, col) == 0)
			found = true;
		if (strlen(list) + strlen(n) + 3 < size)
			snprintf(list + strlen(list), size - strlen(list), "%s%s",
				 list[0] ? ", " : "", n);
	}
	store_rows_free(r);
	return found;
}

static void top_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim top --db RESULTS.db [--by COLUMN] [--where EXPR] [-n N]\n"
		"                 [--asc | --desc] [--mode train|infer] [--format text|json|csv]\n"
		"\n"
		"The best points of a sweep database. --by names a column of the view v_points\n"
		"(default tokens_per_s; times, prices and memory sort ascending, the rest\n"
		"descending). --where is an SQL condition on the same columns (default: fits),\n"
		"e.g. --where \"fits and gpus <= 64 and node = 'p5.48xlarge'\". `dssim db schema`\n"
		"lists every column. --mode picks the columns: train (step time, MFU) or infer\n"
		"(requests/s, output tokens/s, TTFT and TPOT percentiles, USD per million output\n"
		"tokens); the default is infer when every point is a serving point, else train.\n"
		"A database from sweep --uncertainty adds step time and MFU at P10 and P90.\n"
		"\n");
	main_print_exit_codes(out);
}

#define TOP_TRAIN_KEYS                                                                        \
	"id, model, node, nodes, gpus, tp, pp, dp, cp, ep, zero, micro_batch AS mb, recompute, " \
	"schedule, vp, seq_len, round(step_s, 4) AS step_s, round(tokens_per_s) AS tokens_per_s, " \
	"round(mfu, 3) AS mfu, "
#define TOP_TRAIN_COST                                                                        \
	"round(peak_per_gpu / 1073741824.0, 1) AS peak_gib, "                                  \
	"round(usd_per_hour, 2) AS usd_per_hour, price_kind AS price, "                        \
	"round(usd_per_million_tokens, 3) AS usd_per_mtok"

/* The settings that decide a row besides its strategy columns, read from its canonical
 * configuration (v_points.config): printed only when they differ among the rows shown
 * (deciding_only), so two rows that read alike do not hide that one offloads its optimizer
 * or stores its weights in int4 (issue 16). */
#define TOP_DECIDING                                                                          \
	", json_extract(config, '$.\"workload.kv_dtype\"') AS kv_dtype, "                      \
	"json_extract(config, '$.\"strategy.offload.optimizer\"') AS offload_optimizer, "       \
	"json_extract(config, '$.\"strategy.offload.params\"') AS offload_params, "             \
	"json_extract(config, '$.\"strategy.offload.activations\"') AS offload_activations, "   \
	"json_extract(config, '$.\"workload.lora.rank\"') AS lora_rank, "                       \
	"json_extract(config, '$.\"workload.lora.targets\"') AS lora_targets, "                 \
	"json_extract(config, '$.\"runtime.framework\"') AS framework"
static const char *const deciding[] = {"weight_dtype", "kv_dtype", "offload_optimizer",
				       "offload_params", "offload_activations", "lora_rank",
				       "lora_targets", "framework", NULL};

static const char *const top_columns =
	TOP_TRAIN_KEYS TOP_TRAIN_COST ", dtype AS weight_dtype" TOP_DECIDING;

/* A database with uncertainty bands (sweep --uncertainty): step time and MFU at P10 and
 * P90 beside the point's own. */
static const char *const top_band_columns =
	TOP_TRAIN_KEYS "round(step_s_p10, 4) AS step_p10, round(step_s_p90, 4) AS step_p90, "
	"round(mfu_p10, 3) AS mfu_p10, round(mfu_p90, 3) AS mfu_p90, " TOP_TRAIN_COST
	", dtype AS weight_dtype" TOP_DECIDING;

/* Serving points: throughput and latency instead of step time and MFU. */
static const char *const top_infer_columns =
	"id, model, node, nodes, gpus, tp, pp, dp, ep, dtype, seq_len, arrival_rate, "
	"round(requests_per_s, 3) AS requests_per_s, "
	"round(output_tokens_per_s) AS output_tokens_per_s, round(ttft_p50, 4) AS ttft_p50, "
	"round(ttft_p99, 4) AS ttft_p99, round(tpot_p50, 4) AS tpot_p50, "
	"round(tpot_p99, 4) AS tpot_p99, round(peak_per_gpu / 1073741824.0, 1) AS peak_gib, "
	"round(usd_per_hour, 2) AS usd_per_hour, price_kind AS price, "
	"round(usd_per_million_tokens, 3) AS usd_per_mtok_out" TOP_DECIDING;

/* What the command line of `dssim top` asks for. */
struct top_options {
	const char *db, *by, *where;
	enum format fmt;
	long n;
	int dir;                   /* 1 ascending, -1 descending, 0 by the column */
	int mode;                  /* 1 train, 2 infer, 0 by the points */
};

/* Parse argv into o. Returns the exit status when the command ends here (--help, a bad
 * option), or -1 to go on. */
static int parse_top_options(int argc, char **argv, struct top_options *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},    {"by", required_argument, NULL, 'b'},
		{"where", required_argument, NULL, 'w'}, {"asc", no_argument, NULL, 'a'},
		{"desc", no_argument, NULL, 'z'},        {"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},        {"mode", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *endp;
	memset(o, 0, sizeof *o);
	o->by = "tokens_per_s";
	o->where = "fits";
	o->fmt = FORMAT_TEXT;
	o->n = 10;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o->db = optarg;
			break;
		case 'b':
			o->by = optarg;
			break;
		case 'w':
			o->where = optarg;
			break;
		case 'a':
			o->dir = 1;
			break;
		case 'z':
			o->dir = -1;
			break;
		case 'n':
			o->n = strtol(optarg, &endp, 10);
			if (endp == optarg || *endp != '\0' || o->n < 1) {
				fprintf(stderr, "dssim top: -n: expected a positive count, got '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'f':
			if (main_parse_format(optarg, &o->fmt) != 0) {
				fprintf(stderr, "dssim top: --format: expected text, json or csv, got "
						"'%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'm':
			if (strcmp(optarg, "train") == 0 || strcmp(optarg, "infer") == 0) {
				o->mode = optarg[0] == 't' ? 1 : 2;
				break;
			}
			fprintf(stderr, "dssim top: --mode: expected train or infer, got '%s'\n",
				optarg);
			return EXIT_BAD_INPUT;
		case 'h':
			top_usage(stdout);
			return EXIT_OK;
		default:
			return main_option_error("top", c, argv);
		}
	}
	if (o->db == NULL || optind != argc) {
		if (o->db == NULL)
			return main_usage_error("top", "--db FILE is required");
		return main_usage_error("top", "unexpected argument '%s'", argv[optind]);
	}
	if (main_check_db("top", o->db) != 0)
		return EXIT_BAD_INPUT;
	return -1;
}

/* The query of the best o->n points by o->by (a checked column name, so it needs no quoting
 * beyond the double quotes), in direction dir; the caller frees it. */
static char *top_query(const struct top_options *o, int dir, bool infer, bool bands,
		       bool kinds)
{
	/* An explicit --mode keeps the points of that mode only. */
	const char *mode = o->mode == 1 ? "mode = 'train' AND " : o->mode == 2 ? "mode = 'infer' AND "
									       : "";
	const char *cols = infer ? top_infer_columns : bands ? top_band_columns : top_columns;
	bool listed = strstr(cols, o->by) != NULL;
	size_t size = strlen(cols) + strlen(o->where) + 3 * strlen(o->by) + 200;
	char *sql = xmalloc(size);
	snprintf(sql, size, "SELECT %s%s%s FROM v_points WHERE %serror IS NULL AND (%s) "
			    "ORDER BY \"%s\" IS NULL, \"%s\" %s, id LIMIT %ld",
		 cols, listed ? "" : ", ", listed ? "" : o->by, mode, o->where, o->by, o->by,
		 dir > 0 ? "ASC" : "DESC", o->n);
	if (!kinds) {
		/* A file before schema 6 has no price_kind: NULL, padded to its length. */
		char *at = strstr(sql, "price_kind AS price");
		if (at != NULL)
			memcpy(at, "NULL      ", 10);
	}
	return sql;
}

static bool is_deciding(const char *name)
{
	size_t i;
	for (i = 0; deciding[i]; i++)
		if (strcmp(name, deciding[i]) == 0)
			return true;
	return false;
}

static bool same_cell(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* t without the deciding columns whose cells are the same in every row (or no row). */
static void deciding_only(struct table *t)
{
	struct table out;
	size_t c, r, n = 0, k;
	bool *keep = xcalloc(t->cols + 1, sizeof *keep);
	const char **heads = xcalloc(t->cols + 1, sizeof *heads);
	for (c = 0; c < t->cols; c++) {
		keep[c] = !is_deciding(t->head[c]);
		for (r = 1; !keep[c] && r < t->rows; r++)
			keep[c] = !same_cell(t->cell[r * t->cols + c], t->cell[c]);
		if (keep[c])
			heads[n++] = t->head[c];
	}
	table_init(&out, n);
	table_heads(&out, heads);
	for (r = 0; r < t->rows; r++) {
		table_add_row(&out);
		for (c = 0, k = 0; c < t->cols; c++) {
			if (!keep[c])
				continue;
			table_text(&out, r, k, t->cell[r * t->cols + c]);
			out.numeric[r * n + k] = t->numeric[r * t->cols + c];
			k++;
		}
	}
	free(keep);
	free(heads);
	table_free(t);
	*t = out;
}

/* Run the checked query sql and print its rows. Returns the exit status. */
static int top_print(struct store *st, const char *sql, enum format fmt, struct diag *d)
{
	struct store_rows *rows;
	struct table t;
	if (store_query_check(st, sql, d) != 0) {
		/* The expression is the user's, not the file's: name the option. */
		fprintf(stderr, "dssim top: --where: %s\n", d->items[0].message);
		return EXIT_BAD_INPUT;
	}
	if (store_query(st, sql, NULL, 0, &rows, d) != 0) {
		diag_print_prefixed(d, "dssim top: ", stderr);
		return EXIT_INTERNAL;
	}
	table_from_rows(&t, rows);
	deciding_only(&t);
	table_print(&t, fmt, stdout);
	table_free(&t);
	store_rows_free(rows);
	return EXIT_OK;
}

/* Whether the database holds points and every one is a serving point (a count that cannot
 * be read is no: the training columns, and the query's own error follows). */
static bool only_serving(struct store *st)
{
	struct store_rows *r;
	struct diag d;
	bool only;
	int rc;
	diag_init(&d);
	rc = store_query(st, "SELECT COUNT(*), COUNT(CASE WHEN mode = 'infer' THEN 1 END) "
			     "FROM v_points", NULL, 0, &r, &d);
	diag_release(&d);
	if (rc != 0)
		return false;
	only = r->rows == 1 && store_cell(r, 0, 0)->i > 0 &&
	       store_cell(r, 0, 0)->i == store_cell(r, 0, 1)->i;
	store_rows_free(r);
	return only;
}

/* A sweep whose writer died leaves its points incomplete: say so beside the table. */
static void note_interrupted(struct store *st, struct diag *d)
{
	struct store_rows *r;
	size_t i;
	if (store_interrupted(st, &r, d) != 0)
		return;
	for (i = 0; i < r->rows; i++)
		fprintf(stderr, "dssim top: note: sweep %lld was interrupted (started %s); its "
				"points may be incomplete: rerun it to complete it\n",
			(long long)store_cell(r, i, 0)->i,
			store_cell(r, i, 1)->text ? store_cell(r, i, 1)->text : "?");
	store_rows_free(r);
}

int main_top(int argc, char **argv)
{
	struct top_options o;
	int dir, status = parse_top_options(argc, argv, &o);
	struct store *st;
	struct diag d;
	char cols[4096], *sql;
	if (status >= 0)
		return status;
	diag_init(&d);
	st = store_open(o.db, true, 5000, &d);
	if (st == NULL) {
		diag_print_prefixed(&d, "dssim top: ", stderr);
		diag_release(&d);
		return EXIT_INTERNAL;
	}
	note_interrupted(st, &d);
	if (!is_column(st, o.by, cols, sizeof cols)) {
		fprintf(stderr, "dssim top: --by: no column '%s' (columns: %s)\n", o.by, cols);
		store_close(st, &d);
		diag_release(&d);
		return EXIT_BAD_INPUT;
	}
	dir = o.dir != 0 ? o.dir : lower_is_better(o.by) ? 1 : -1;
	sql = top_query(&o, dir, o.mode == 2 || (o.mode == 0 && only_serving(st)),
			store_has_bands(st), store_has_price_kind(st));
	status = top_print(st, sql, o.fmt, &d);
	free(sql);
	store_close(st, &d);
	diag_release(&d);
	return status;
}
