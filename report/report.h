/*
 * report: capacity-planning report from a sweep database. Reads only the database, through
 * its documented schema (dssim db schema): never the simulator's structs. Training: for each
 * model and workload, the best configuration per instance type by cost and by time, days and
 * USD for a token budget, the Pareto front of cost against time, and why instance types never
 * fit; inference: the highest request rate per instance type that meets the latency targets,
 * its cost and the GPUs a target rate needs; memory: the per-GPU breakdown of the chosen
 * configurations. As text, Markdown, CSV or one self-contained HTML page with SVG charts.
 */
#ifndef DSSIM_REPORT_H
#define DSSIM_REPORT_H

#include <stdio.h>

#include "diag.h"
#include "table.h"

enum { REPORT_PRICES_MAX = 32, REPORT_SLO_MAX = 5 };

struct report_options {
	double tokens;              /* training token budget */
	double target_rate;         /* inference: requests/s to plan GPUs for; 0 = none */
	struct {
		char node[64];
		double usd_per_hour;
	} prices[REPORT_PRICES_MAX]; /* --price NODE=USD/h: negotiated prices */
	int nprices;
	struct {
		char column[16];        /* ttft_p50, ttft_p99, tpot_p50, tpot_p99, latency_p99 */
		double limit;           /* s */
	} slo[REPORT_SLO_MAX];
	int nslo;
	long long point;            /* the point whose memory over time is charted; 0 = the cheapest */
	enum format format;         /* text, md, csv, html or json */
};

/* Parse --price NODE=USD/h and --slo ttft_p99=2s,tpot_p99=100ms into o (a token count is
 * cost_parse_tokens's, cost.h). 0, or -1 with a message in d (no file; the option is the key). */
int report_parse_price(struct report_options *o, const char *text, struct diag *d);
int report_parse_slo(struct report_options *o, const char *text, struct diag *d);

/* Write the report of the database at path. 0; -1 with a message in d at the file when an
 * option names what the database does not hold (a --price node, a --point id; bad input,
 * nothing written); -2 with a message when the database cannot be read or holds no points. */
int report_write(const char *path, const struct report_options *o, FILE *out, struct diag *d);

#endif
