/*
 * main_compare: `dssim compare`, points of a sweep database and scenario files (simulated now)
 * side by side, read through the same view of the store. Command stage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "main_sweep.h"
#include "scenario.h"
#include "store.h"
#include "sweep.h"
#include "table.h"
#include "units.h"
#include "xalloc.h"

static void compare_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim compare [--db RESULTS.db] [--format text|json|csv] A B...\n"
		"\n"
		"Side by side: each of A B... is a scenario file (simulated now) or the id of a\n"
		"point in the database. Text output marks with * the fields whose values differ\n"
		"between the items, shows bytes, seconds and TFLOP/s in readable units, and adds\n"
		"the change of each number against the first column; JSON and CSV keep raw\n"
		"numbers.\n"
		"\n");
	main_print_exit_codes(out);
}

/* The fields compare shows, in order: the key columns and the results. */
static const char *const compare_fields[] = {
	"id", "model", "node", "nodes", "gpus", "tp", "pp", "dp", "cp", "ep", "zero",
	"micro_batch", "global_batch", "recompute", "schedule", "vp", "seq_len", "dtype",
	"kv_dtype", "offload_optimizer", "offload_params", "offload_activations", "lora_rank",
	"lora_targets", "framework",
	"price_kind", "fits",
	"reason", "step_s", "tokens_per_s", "tflops_per_gpu", "mfu", "uncertainty_draws",
	"step_s_p10", "step_s_p50", "step_s_p90", "tokens_per_s_p10", "tokens_per_s_p50",
	"tokens_per_s_p90", "mfu_p10", "mfu_p50", "mfu_p90", "peak_per_gpu",
	"usd_per_hour", "usd_per_million_tokens", "t_compute", "t_tp_comm", "t_cp_comm",
	"t_pp_comm", "t_dp_comm", "t_ep_comm", "t_optimizer", "t_offload", "t_bubble",
	"m_weights", "m_gradients", "m_optimizer", "m_activations", "m_kv_cache", "m_buffers",
	"m_overhead", "output_tokens_per_s", "ttft_p99", "tpot_p99", "latency_p99", "error", NULL,
};

/* Whether field is one of the uncertainty bands (sweep --uncertainty; schema 5). */
static bool is_band(const char *field)
{
	static const char *const bands[] = {"uncertainty_draws", "step_s_p10", "step_s_p50",
					    "step_s_p90", "tokens_per_s_p10", "tokens_per_s_p50",
					    "tokens_per_s_p90", "mfu_p10", "mfu_p50", "mfu_p90"};
	size_t i;
	for (i = 0; i < sizeof bands / sizeof bands[0]; i++)
		if (strcmp(field, bands[i]) == 0)
			return true;
	return false;
}

/* Leave out the band rows no item has a value in (points of a sweep without --uncertainty, a
 * schema 4 database, scenario files): fields[] gets the names of the rows kept, in order. */
static void drop_empty_bands(struct table *t, size_t items, const char **fields)
{
	size_t r, c, n = 0;
	for (r = 0; r < t->rows; r++) {
		bool empty = true;
		for (c = 0; c < items; c++)
			empty &= t->cell[r * t->cols + c] == NULL;
		if (empty && is_band(compare_fields[r]))
			continue;
		for (c = 0; c < t->cols && n != r; c++) {
			t->cell[n * t->cols + c] = t->cell[r * t->cols + c];
			t->numeric[n * t->cols + c] = t->numeric[r * t->cols + c];
			t->cell[r * t->cols + c] = NULL;
		}
		fields[n++] = compare_fields[r];
	}
	t->rows = n;
}

/* The settings that decide a point besides its key columns, read from its canonical
 * configuration (v_points.config, flat "key":value pairs): field, then its key. */
static const char *const config_fields[][2] = {
	{"kv_dtype", "workload.kv_dtype"},
	{"offload_optimizer", "strategy.offload.optimizer"},
	{"offload_params", "strategy.offload.params"},
	{"offload_activations", "strategy.offload.activations"},
	{"lora_rank", "workload.lora.rank"},
	{"lora_targets", "workload.lora.targets"},
	{"framework", "runtime.framework"},
};

/* The value of key in a canonical configuration into buf (a string without its quotes; the
 * values of these keys hold no escapes): buf, or NULL when the key is absent. */
static const char *config_value(const char *config, const char *key, char *buf, size_t size)
{
	char pat[96];
	const char *at, *end;
	snprintf(pat, sizeof pat, "\"%s\":", key);
	at = config != NULL ? strstr(config, pat) : NULL;
	if (at == NULL)
		return NULL;
	at += strlen(pat);
	if (*at == '"') {
		at++;
		end = strchr(at, '"');
	} else {
		end = at + strcspn(at, ",}");
	}
	if (end == NULL)
		return NULL;
	snprintf(buf, size, "%.*s", (int)(end - at), at);
	return buf;
}

/* A field read from the configuration into cell i of t; false when field is not one. */
static bool config_cell(struct table *t, size_t i, const char *field, const char *config)
{
	size_t k;
	char buf[128];
	for (k = 0; k < sizeof config_fields / sizeof config_fields[0]; k++)
		if (strcmp(field, config_fields[k][0]) == 0) {
			const char *v = config_value(config, config_fields[k][1], buf, sizeof buf);
			t->cell[i] = v != NULL ? xstrdup(v) : NULL;
			t->numeric[i] = v != NULL && strcmp(field, "lora_rank") == 0;
			return true;
		}
	return false;
}

/* One item's row of compare_fields from a store's v_points (the file at path). */
static int fetch(struct store *st, const char *path, long long id, struct table *t, size_t col,
		 struct diag *d)
{
	struct mark at = {path, 0, 0};
	struct store_rows *r;
	size_t i;
	if (store_fetch_point(st, id, &r, d) != 0)
		return -1;
	if (r->rows == 0) {
		diag_add(d, at, NULL, "no point with id %lld", id);
		store_rows_free(r);
		return -1;
	}
	for (i = 0; compare_fields[i]; i++) {
		int k = store_rows_column(r, compare_fields[i]), c = store_rows_column(r, "config");
		if (k >= 0)
			table_set_cell(t, i * t->cols + col, store_cell(r, 0, (size_t)k));
		else if (c >= 0)
			config_cell(t, i * t->cols + col, compare_fields[i],
				    store_cell(r, 0, (size_t)c)->text);
	}
	store_rows_free(r);
	return 0;
}

static bool is_point_id(const char *s, long long *id)
{
	char *end;
	struct stat sb;
	*id = strtoll(s, &end, 10);
	return end != s && *end == '\0' && *id > 0 && stat(s, &sb) != 0;
}

/* The raw number v of field in readable units (bytes in GiB, seconds in s or ms, TFLOP/s
 * named), or a copy of v when the field has no unit. */
static char *humanize(const char *field, const char *v)
{
	char buf[64];
	enum unit_kind kind = UNIT_NONE;
	if (strcmp(field, "peak_per_gpu") == 0 || strncmp(field, "m_", 2) == 0)
		kind = UNIT_BYTES;
	else if (strncmp(field, "step_s", 6) == 0 || strncmp(field, "t_", 2) == 0 ||
		 strncmp(field, "ttft_", 5) == 0 || strncmp(field, "tpot_", 5) == 0 ||
		 strncmp(field, "latency_", 8) == 0)
		kind = UNIT_SECONDS;
	if (kind != UNIT_NONE)
		return xstrdup(units_format(atof(v), kind, buf, sizeof buf));
	if (strcmp(field, "tflops_per_gpu") == 0) {
		snprintf(buf, sizeof buf, "%.1f TFLOP/s", atof(v));
		return xstrdup(buf);
	}
	return xstrdup(v);
}

/* Whether the items' values of row r of t differ (a missing value differs from any). */
static bool row_differs(const struct table *t, size_t r, size_t items)
{
	size_t c;
	for (c = 1; c < items; c++) {
		const char *a = t->cell[r * t->cols], *b = t->cell[r * t->cols + c];
		if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
			return true;
	}
	return false;
}

/* Text output of compare: field, whether it differs (with two items or more), each item in
 * readable units, and the change against the first. */
static void compare_text(const struct table *t, size_t items, const char *const *fields)
{
	size_t r, c, at = items > 1 ? 2 : 1; /* the first item's column */
	struct table o;
	table_init(&o, at + items + (items > 1 ? items - 1 : 0));
	o.head[0] = xstrdup("field");
	if (items > 1)
		o.head[1] = xstrdup("*");
	for (c = 0; c < items; c++)
		o.head[at + c] = xstrdup(t->head[c]);
	for (c = 1; c < items; c++) {
		char buf[64];
		snprintf(buf, sizeof buf, "%s vs %s", t->head[c], t->head[0]);
		o.head[at + items - 1 + c] = xstrdup(buf);
	}
	for (r = 0; r < t->rows; r++) {
		const char *first = t->cell[r * t->cols];
		table_add_row(&o);
		o.cell[r * o.cols] = xstrdup(fields[r]);
		/* Ids always differ: they name the items. */
		if (items > 1 && r > 0 && row_differs(t, r, items))
			o.cell[r * o.cols + 1] = xstrdup("*");
		for (c = 0; c < items; c++) {
			const char *v = t->cell[r * t->cols + c];
			bool num = t->numeric[r * t->cols + c];
			o.cell[r * o.cols + at + c] =
				v == NULL ? NULL : num ? humanize(fields[r], v) : xstrdup(v);
			o.numeric[r * o.cols + at + c] = num;
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
			o.cell[r * o.cols + at + items - 1 + c] = xstrdup(buf);
			o.numeric[r * o.cols + at + items - 1 + c] = true;
		}
	}
	table_print(&o, FORMAT_TEXT, stdout);
	table_free(&o);
}

/* What the command line of `dssim compare` asks for: the items are argv[first..first+items). */
struct compare_options {
	const char *db, *data_dir;
	enum format fmt;
	int first;
	size_t items;
};

/* Parse argv into o. Returns the exit status when the command ends here (--help, a bad
 * option), or -1 to go on. */
static int parse_compare_options(int argc, char **argv, struct compare_options *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},
		{"format", required_argument, NULL, 'f'},
		{"data-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(o, 0, sizeof *o);
	o->fmt = FORMAT_TEXT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o->db = optarg;
			break;
		case 'd':
			o->data_dir = optarg;
			break;
		case 'f':
			if (main_parse_format(optarg, &o->fmt) != 0) {
				fprintf(stderr, "dssim compare: --format: expected text, json or csv, "
						"got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'h':
			compare_usage(stdout);
			return EXIT_OK;
		default:
			return main_option_error("compare", c, argv);
		}
	}
	o->first = optind;
	o->items = (size_t)(argc - optind);
	if (o->items < 1) {
		return main_usage_error("compare", "expected scenario files or point ids");
	}
	return -1;
}

/* Column col of t from a scenario file, simulated now and stored in the in-memory database
 * mem (its diagnostics go to e, printed without its name). Returns the exit status (EXIT_OK,
 * or with the message printed). */
static int compare_file(struct store *mem, const char *arg, const char *data_dir,
			struct table *t, size_t col, struct diag *e)
{
	struct scenario_options opt;
	struct diag d;
	struct scenario *s;
	int status = EXIT_OK;
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
		if (store_put(mem, &p, e) != 0 || store_commit(mem, e) != 0) {
			fprintf(stderr, "dssim compare: %s\n", e->items[0].message);
			status = EXIT_INTERNAL;
		} else {
			int64_t pid = store_point_id(mem, p.hash);
			struct diag ignored;
			diag_init(&ignored);
			if (pid != 0)
				fetch(mem, ":memory:", pid, t, col, &ignored);
			diag_release(&ignored);
			/* A file has no database id. */
			free(t->cell[col]);
			t->cell[col] = NULL;
			t->numeric[col] = false;
		}
		store_point_release(&p);
		scenario_free(s);
	}
	diag_release(&d);
	return status;
}

/* JSON and CSV output of compare: one record per item. */
static void compare_records(const struct table *t, const char *const *fields, size_t items,
			    enum format fmt)
{
	size_t nfields = t->rows;
	struct table o;
	size_t r, i;
	table_init(&o, nfields + 1);
	o.head[0] = xstrdup("item");
	for (r = 0; r < nfields; r++)
		o.head[r + 1] = xstrdup(fields[r]);
	for (i = 0; i < items; i++) {
		table_add_row(&o);
		o.cell[i * o.cols] = xstrdup(t->head[i]);
		for (r = 0; r < nfields; r++) {
			const char *v = t->cell[r * t->cols + i];
			o.cell[i * o.cols + r + 1] = v ? xstrdup(v) : NULL;
			o.numeric[i * o.cols + r + 1] = t->numeric[r * t->cols + i];
		}
	}
	table_print(&o, fmt, stdout);
	table_free(&o);
}

/* Open the database of --db (NULL without it) and the in-memory one scenario files are
 * evaluated into, so both kinds of item are read through the same view. 0, or -1 (-2: a
 * --db that is no file) with the message printed and nothing left open. */
static int open_stores(const char *db, struct store **st, struct store **mem, struct diag *e)
{
	*st = NULL;
	if (db != NULL && main_check_db("compare", db) != 0)
		return -2;
	if (db != NULL && (*st = store_open(db, true, 5000, e)) == NULL) {
		diag_print_prefixed(e, "dssim compare: ", stderr);
		return -1;
	}
	/* The in-memory database's diagnostics are printed without its name. */
	*mem = store_open_private(e);
	if (*mem == NULL || store_sweep_begin(*mem, "", "compare", NULL, e) != 0) {
		fprintf(stderr, "dssim compare: %s\n", e->items[0].message);
		store_close(*st, e);
		store_close(*mem, e);
		return -1;
	}
	return 0;
}

int main_compare(int argc, char **argv)
{
	struct compare_options o;
	struct store *st, *mem;
	struct table t;
	struct diag e;     /* the databases' diagnostics */
	const char *fields[sizeof compare_fields / sizeof compare_fields[0]];
	size_t i, nfields;
	int status = parse_compare_options(argc, argv, &o);
	if (status >= 0)
		return status;
	status = EXIT_OK;
	diag_init(&e);
	if ((status = open_stores(o.db, &st, &mem, &e)) != 0) {
		diag_release(&e);
		return status == -2 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
	}
	for (nfields = 0; compare_fields[nfields]; nfields++)
		;
	table_init(&t, o.items);
	for (i = 0; i < nfields; i++)
		table_add_row(&t);
	for (i = 0; i < o.items && status == EXIT_OK; i++) {
		const char *arg = argv[o.first + (int)i];
		long long id;
		t.head[i] = xstrdup(arg);
		if (!is_point_id(arg, &id)) {
			status = compare_file(mem, arg, o.data_dir, &t, i, &e);
		} else if (st == NULL) {
			fprintf(stderr, "dssim compare: %s: a point id needs --db\n", arg);
			status = EXIT_BAD_INPUT;
		} else if (fetch(st, o.db, id, &t, i, &e) != 0) {
			diag_print_prefixed(&e, "dssim compare: ", stderr);
			status = EXIT_BAD_INPUT;
		}
	}
	drop_empty_bands(&t, o.items, fields);
	if (status == EXIT_OK && o.fmt == FORMAT_TEXT)
		compare_text(&t, o.items, fields);
	else if (status == EXIT_OK)
		compare_records(&t, fields, o.items, o.fmt);
	table_free(&t);
	store_close(mem, &e);
	store_close(st, &e);
	diag_release(&e);
	return status;
}
