/*
 * store_schema: the one table of columns that drives the sweep database's CREATE statements,
 * its inserts and the documentation `dssim db schema` prints, so the three cannot disagree.
 * Part of store (see store_int.h); the schema version lives here.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#include "memory.h"
#include "step.h"
#include "xalloc.h"

_Static_assert((int)STORE_PARTS == (int)MEMORY_PARTS, "STORE_PARTS is MEMORY_PARTS");
_Static_assert((int)STORE_TIMES == (int)STEP_CATEGORIES + 1, "STORE_TIMES: categories, bubble");

int store_schema_version(void)
{
	return STORE_SCHEMA_VERSION;
}

/* The key columns of points, after id, sweep_id, hash and config. */
const struct column store_point_cols[] = {
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
	/* Schema 6; last, where ALTER TABLE ADD COLUMN puts it in a migrated file. */
	{"price_kind", COL_TEXT, P(price_kind),
	 "how the node's price is sold: on_demand, capacity_block, spot or reserved; NULL in a "
	 "point stored before schema 6"},
};

/* The columns of results after point_id; the time and memory columns follow (see below). */
const struct column store_result_cols[] = {
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

/* Schema 5: the bands of `dssim sweep --uncertainty` (calibrate_uncertainty). */
const struct column store_band_cols[STORE_BAND_COLS] = {
	{"uncertainty_draws", COL_INT, P(u_draws),
	 "train, sweep --uncertainty N: parameter sets drawn from the calibration's covariance; "
	 "NULL (and the columns below) without"},
	{"uncertainty_seed", COL_INT, P(u_seed),
	 "the sweep's --seed; a point draws with FNV-1a of its hash and this seed"},
	{"uncertainty_clamped", COL_INT, P(u_clamped), "draws with a key held at its range's end"},
	{"step_s_p10", COL_REAL, P(u_step_s[0]), "10th percentile of step_s over the draws"},
	{"step_s_p50", COL_REAL, P(u_step_s[1]), "median of step_s over the draws"},
	{"step_s_p90", COL_REAL, P(u_step_s[2]), "90th percentile of step_s over the draws"},
	{"tokens_per_s_p10", COL_REAL, P(u_tokens_per_s[0]), "10th percentile of tokens_per_s"},
	{"tokens_per_s_p50", COL_REAL, P(u_tokens_per_s[1]), "median of tokens_per_s"},
	{"tokens_per_s_p90", COL_REAL, P(u_tokens_per_s[2]), "90th percentile of tokens_per_s"},
	{"mfu_p10", COL_REAL, P(u_mfu[0]), "10th percentile of mfu"},
	{"mfu_p50", COL_REAL, P(u_mfu[1]), "median of mfu"},
	{"mfu_p90", COL_REAL, P(u_mfu[2]), "90th percentile of mfu"},
};

/* Schema 8: disaggregated serving (serving.pools, serve_pools.c). */
const struct column store_pool_cols[STORE_POOL_COLS] = {
	{"prefill_gpus", COL_INT, P(prefill_gpus),
	 "infer with serving.pools: GPUs of the prefill pool; NULL (and the columns below) "
	 "without pools or in a point stored before schema 8"},
	{"decode_gpus", COL_INT, P(decode_gpus), "GPUs of the decode pool"},
	{"prefill_busy", COL_REAL, P(prefill_busy),
	 "fraction of the run the prefill replicas compute, averaged"},
	{"decode_busy", COL_REAL, P(decode_busy),
	 "fraction of the run the decode replicas compute, averaged"},
	{"kv_transfer_mean", COL_REAL, P(kv_transfer_mean),
	 "mean seconds a request's KV cache takes from its prefill to its decode replica"},
	{"kv_transfer_p99", COL_REAL, P(kv_transfer_p99), "99th percentile of that, s"},
};

const size_t store_npoint_cols = COUNT(store_point_cols);
const size_t store_nresult_cols = COUNT(store_result_cols);

static const char *const time_docs = "exposed (not overlapped) seconds of the step in";
static const char *const bubble_name = "bubble";

static const char *sql_type(enum col_type t)
{
	return t == COL_TEXT ? "TEXT" : t == COL_REAL ? "REAL" : "INTEGER";
}

/* The name of the i-th time or memory column of results. */
void store_extra_name(size_t i, char *buf, size_t size)
{
	if (i < STEP_CATEGORIES)
		snprintf(buf, size, "t_%s", step_category_name((int)i));
	else if (i == STEP_CATEGORIES)
		snprintf(buf, size, "t_%s", bubble_name);
	else
		snprintf(buf, size, "m_%s", memory_part_name((enum memory_part)(i - STORE_TIMES)));
}

const char *store_time_name(size_t i)
{
	if (i < STEP_CATEGORIES)
		return step_category_name((int)i);
	return i == STEP_CATEGORIES ? bubble_name : NULL;
}

const char *store_part_name(size_t i)
{
	return i < STORE_PARTS ? memory_part_name((enum memory_part)i) : NULL;
}

/* The schema as SQL; with docs, a comment on each column (for people), without, for SQLite. */
/* Schema 7: what strategy: auto left out of a sweep, by reason (sweep.h, sweep_counts). */
static void write_skips(FILE *f, bool docs)
{
	fputs("CREATE TABLE IF NOT EXISTS skips (", f);
	if (docs)
		fputs("  -- configurations strategy: auto left out, counted by reason; none before "
		      "schema 7", f);
	fputc('\n', f);
	fputs("  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),", f);
	if (docs)
		fputs("  -- the sweep that left them out", f);
	fputc('\n', f);
	fputs("  reason TEXT NOT NULL,", f);
	if (docs)
		fputs("  -- the rule they break, e.g. pp*vp does not divide the layers", f);
	fputc('\n', f);
	fputs("  count INTEGER NOT NULL", f);
	if (docs)
		fputs("  -- configurations left out for it (of the whole spec, on every shard)", f);
	fputc('\n', f);
	fputs(");\n", f);
}

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
	DOC("running, done, interrupted (also: found running with its writer gone) or failed");
	fputs("  version TEXT NOT NULL,", f);
	DOC("dssim version");
	fputs("  host TEXT NOT NULL,", f);
	DOC("machine that ran it");
	fputs("  shard TEXT,", f);
	DOC("K/N when run with --shard");
	fputs("  pid INTEGER,", f);
	DOC("process id of the writer on host");
	fputs("  pid_start INTEGER", f);
	DOC("its start, clock ticks after boot (Linux /proc/PID/stat field 22), else NULL");
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
	for (i = 0; i < store_npoint_cols; i++) {
		fprintf(f, "  %s %s%s", store_point_cols[i].name, sql_type(store_point_cols[i].type),
			i + 1 < store_npoint_cols ? "," : "");
		DOC("%s", store_point_cols[i].doc);
	}
	fputs(");\n", f);

	fputs("CREATE TABLE IF NOT EXISTS results (", f);
	DOC("what became of a point that loaded");
	fputs("  point_id INTEGER PRIMARY KEY REFERENCES points(id),", f);
	DOC("row id");
	for (i = 0; i < store_nresult_cols; i++) {
		fprintf(f, "  %s %s,", store_result_cols[i].name, sql_type(store_result_cols[i].type));
		DOC("%s", store_result_cols[i].doc);
	}
	for (i = 0; i < STORE_EXTRA_COLS; i++) {
		store_extra_name(i, name, sizeof name);
		fprintf(f, "  %s REAL,", name);
		if (i < STEP_CATEGORIES)
			DOC("train: %s %s", time_docs, step_category_name((int)i));
		else if (i == STEP_CATEGORIES)
			DOC("train: seconds the first pipeline stage waits (pipeline bubble)");
		else
			DOC("bytes of %s on the most loaded GPU (analytic)",
			    memory_part_name((enum memory_part)(i - STORE_TIMES)));
	}
	for (i = 0; i < STORE_BAND_COLS; i++) {
		fprintf(f, "  %s %s,", store_band_cols[i].name, sql_type(store_band_cols[i].type));
		DOC("%s", store_band_cols[i].doc);
	}
	for (i = 0; i < STORE_POOL_COLS; i++) {
		fprintf(f, "  %s %s%s", store_pool_cols[i].name, sql_type(store_pool_cols[i].type),
			i + 1 < STORE_POOL_COLS ? "," : "");
		DOC("%s", store_pool_cols[i].doc);
	}
	fputs(");\n", f);

	write_skips(f, docs);

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

char *store_schema_sql(void)
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

/* Schema 4 to 5 adds the band columns of results, 5 to 6 price_kind to points, 6 to 7 the
 * skips table (CREATE TABLE IF NOT EXISTS, as a new file has it), 7 to 8 the pool columns of
 * results. ALTER TABLE
 * ADD COLUMN appends, so the columns land where CREATE puts them in a new file, and the
 * views, which name p.* and r.*, see them (SQLite expands a view when a statement uses it:
 * sqlite.org/lang_altertable.html, "ADD COLUMN"). */
char *store_schema_migration(int from)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	for (i = 0; from < 5 && i < STORE_BAND_COLS; i++)
		fprintf(f, "ALTER TABLE results ADD COLUMN %s %s;\n", store_band_cols[i].name,
			sql_type(store_band_cols[i].type));
	if (from < 6)
		fputs("ALTER TABLE points ADD COLUMN price_kind TEXT;\n", f);
	if (from < 7)
		write_skips(f, false);
	for (i = 0; from < 8 && i < STORE_POOL_COLS; i++)
		fprintf(f, "ALTER TABLE results ADD COLUMN %s %s;\n", store_pool_cols[i].name,
			sql_type(store_pool_cols[i].type));
	fprintf(f, "PRAGMA user_version = %d;\n", STORE_SCHEMA_VERSION);
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

/* The INSERT statements: points (id from SQLite), results, errors. */
char *store_insert_sql(int which)
{
	char *buf = NULL, name[64];
	size_t size = 0, i, n = 0;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	if (which == 0) {
		fputs("INSERT OR IGNORE INTO points (sweep_id, hash, config_id, strategy", f);
		for (i = 0; i < store_npoint_cols; i++)
			fprintf(f, ", %s", store_point_cols[i].name);
		n = 4 + store_npoint_cols;
	} else if (which == 1) {
		fputs("INSERT INTO results (point_id", f);
		for (i = 0; i < store_nresult_cols; i++)
			fprintf(f, ", %s", store_result_cols[i].name);
		for (i = 0; i < STORE_EXTRA_COLS; i++) {
			store_extra_name(i, name, sizeof name);
			fprintf(f, ", %s", name);
		}
		for (i = 0; i < STORE_BAND_COLS; i++)
			fprintf(f, ", %s", store_band_cols[i].name);
		for (i = 0; i < STORE_POOL_COLS; i++)
			fprintf(f, ", %s", store_pool_cols[i].name);
		n = 1 + store_nresult_cols + STORE_EXTRA_COLS + STORE_BAND_COLS + STORE_POOL_COLS;
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
