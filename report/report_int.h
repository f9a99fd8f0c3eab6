/*
 * report_int: what report.c (the reading and the tables), report_out.c (titles, notes and
 * tables per format) and report_svg.c (the charts) share: the row a report reads from the view
 * v_fitting and the output and chart functions. Private to report/.
 */
#ifndef DSSIM_REPORT_INT_H
#define DSSIM_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "store.h"
#include "table.h"

/* The memory parts (m_NAME columns) and time categories (t_NAME), named by the store. */
enum { PARTS = STORE_PARTS, TIMES = STORE_TIMES };

static const double gib = 1024.0 * 1024.0 * 1024.0;

struct row {
	long long id, nodes, gpus, tp, pp, dp, cp, ep, zero, mb, vp;
	char node[64], recompute[16], schedule[16], price_date[16];
	char price_kind[16];        /* on_demand, capacity_block, spot, reserved; "" unknown */
	char settings[192];         /* the deciding settings that vary in the database, or "" */
	double step_s, tps, mfu, peak, capacity, usd_h, arrival, rps, out_tps, ttft, tpot;
	double mem[PARTS], time[TIMES];
	double step_p10, step_p90;  /* sweep --uncertainty's bands of step_s, when banded */
	bool banded;
	bool priced;
	bool infer;                 /* a serving point: its strategy is tp and ep */
	double gpu_util;            /* serving.gpu_memory_utilization of its config; 0 if none */
	double days, usd, usd_mtok;
};

/* In report_row.c. The columns report_read_row reads, as a SELECT list for rows of mode
 * (train, infer) and the model bound as ?1, into buf (6 KiB holds them); one row of a query
 * of them into r. */
void report_row_columns(struct store *st, const char *mode, char *buf, size_t size);
void report_read_row(const struct store_rows *q, size_t at, struct row *r);
/* A price kind for people ("capacity block"); a row's node with its kind when not on demand;
 * a row's strategy ("tp2 pp1 dp4 zero1 mb1 selective 1f1b"), with its deciding settings. */
void report_kind_text(const char *kind, char *buf, size_t size);
const char *report_node_label(const struct row *r, char *buf, size_t size);
void report_strategy_label(const struct row *r, char *buf, size_t size);

/* The options that name something in the database at path (open as st): a --price node it
 * holds, a --point id it holds. 0, or -1 with a diagnostic per option that does not (at path,
 * keyed by the option). In report_options.c. */
struct report_options;
struct diag;
int report_check_options(struct store *st, const char *path, const struct report_options *o,
			 struct diag *d);

/* A title (level 1 or 2), a note and a table of the report in format f. In report_out.c. */
void report_title(FILE *out, enum format f, int level, const char *text);
void report_note(FILE *out, enum format f, const char *text);
void report_table(const struct table *t, enum format f, FILE *out);

/* Horizontal stacked bars, one per row: memory parts (memory) or time categories. A serving
 * row's KV cache is drawn as what the engine reserves for it (gpu_util of capacity less the
 * other parts). In report_svg.c, like the charts below. */
void report_stacked_bars(FILE *out, struct row **rows, size_t n, bool memory,
			 const char *caption);
/* Cost against time of every priced row, coloured by instance type, with the Pareto front
 * (front[nf], by time) joined and labelled; question titles the chart. */
void report_scatter(FILE *out, const char *question, struct row *rows, size_t n,
		    struct row **front, size_t nf);
/* Memory over the step of point id: json is results.memory_timeline ([[s, bytes], ...]), cap
 * the capacity in bytes, node its label. */
void report_timeline_chart(FILE *out, long long id, const char *json, double cap,
			   const char *node);

#endif
