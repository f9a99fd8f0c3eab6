/*
 * main_report: `dssim report`, the command line of the capacity-planning report (report/):
 * options, and the output written through outfile (atomically, never over the database it
 * reads). Command stage.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "main_sweep.h"
#include "outfile.h"
#include "report.h"

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim report --db RESULTS.db [--tokens N] [--price NODE=USD/h]...\n"
		"                    [--slo TARGETS] [--target-rate R/s] [--point ID]\n"
		"                    [--format text|md|csv|html|json] [-o FILE]\n"
		"\n"
		"A capacity-planning report from a sweep database: per model and workload, the best\n"
		"configuration per instance type by cost and by time, days and USD to train\n"
		"--tokens (default 1T; 2T, 500B, 1e12; from 1 to 1e18), the Pareto front of cost\n"
		"against time, why instance types never fit; for serving, the highest request rate\n"
		"per instance type that meets --slo (default ttft_p99=2s,tpot_p99=100ms; metrics\n"
		"ttft_p50, ttft_p99, tpot_p50, tpot_p99, latency_p99), its cost and the GPUs\n"
		"--target-rate needs; and the memory per GPU of the chosen configurations. --price\n"
		"overrides the on-demand price of a node type the database holds (negotiated\n"
		"prices); the report lists the prices and dates it used. html is one self-contained\n"
		"page with charts (--point picks the memory-over-time chart); json is one document\n"
		"of the text's titles, notes and tables in order. -o FILE replaces FILE\n"
		"only once the report is complete (- is standard output; the database is refused).\n"
		"\n");
	main_print_exit_codes(out);
}

/* What the command line of `dssim report` asks for: the report's options, the database and
 * the output file (NULL: stdout). */
struct report_args {
	struct report_options o;
	const char *db, *path;
};

/* One option of `dssim report` into a (d takes the parsers' messages). Returns the exit status
 * when the command ends here (--help, a bad value), or -1 to go on. */
static int report_option(int c, const char *arg, struct report_args *a, struct diag *d)
{
	struct report_options *o = &a->o;
	char *end;
	switch (c) {
	case 'D':
		a->db = arg;
		break;
	case 'T':
		if (main_parse_tokens("report", "--tokens", arg, &o->tokens) != EXIT_OK)
			return EXIT_BAD_INPUT;
		break;
	case 'P':
		if (report_parse_price(o, arg, d) != 0) {
			fprintf(stderr, "dssim report: --price: %s\n", d->items[0].message);
			return EXIT_BAD_INPUT;
		}
		break;
	case 'S':
		if (report_parse_slo(o, arg, d) != 0) {
			fprintf(stderr, "dssim report: --slo: %s\n", d->items[0].message);
			return EXIT_BAD_INPUT;
		}
		break;
	case 'R':
		o->target_rate = strtod(arg, &end);
		if (end == arg || (*end != '\0' && strcmp(end, "/s") != 0) ||
		    !(o->target_rate > 0) || !isfinite(o->target_rate)) {
			fprintf(stderr, "dssim report: --target-rate: expected a rate such as "
					"50/s, got '%s'\n", arg);
			return EXIT_BAD_INPUT;
		}
		break;
	case 'p':
		o->point = strtoll(arg, &end, 10);
		if (end == arg || *end != '\0' || o->point < 1) {
			fprintf(stderr, "dssim report: --point: expected a point id, got '%s'\n",
				arg);
			return EXIT_BAD_INPUT;
		}
		break;
	case 'f':
		if (strcmp(arg, "md") == 0)
			o->format = FORMAT_MD;
		else if (strcmp(arg, "html") == 0)
			o->format = FORMAT_HTML;
		else if (main_parse_format(arg, &o->format) != 0) {
			fprintf(stderr, "dssim report: --format: expected text, md, csv, html or json, "
					"got '%s'\n", arg);
			return EXIT_BAD_INPUT;
		}
		break;
	case 'o':
		a->path = arg;
		break;
	case 'h':
		report_usage(stdout);
		return EXIT_OK;
	default:
		BUG_ON(true);
	}
	if (main_check_db("report", a->db) != 0)
		return EXIT_BAD_INPUT;
	return -1;
}

/* Parse argv into a. Returns the exit status when the command ends here (--help, a bad
 * option), or -1 to go on. */
static int parse_report_args(int argc, char **argv, struct report_args *a)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},     {"tokens", required_argument, NULL, 'T'},
		{"price", required_argument, NULL, 'P'},  {"slo", required_argument, NULL, 'S'},
		{"target-rate", required_argument, NULL, 'R'},
		{"point", required_argument, NULL, 'p'},  {"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct diag d;
	int c, status = -1;
	memset(a, 0, sizeof *a);
	a->o.tokens = 1e12;
	a->o.format = FORMAT_TEXT;
	diag_init(&d);
	report_parse_slo(&a->o, "ttft_p99=2s,tpot_p99=100ms", &d);
	optind = 1;
	opterr = 0;
	while (status < 0 && (c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1)
		status = c == '?' || c == ':' ? main_option_error("report", c, argv)
					      : report_option(c, optarg, a, &d);
	diag_release(&d);
	if (status >= 0)
		return status;
	if (a->db == NULL || optind != argc) {
		if (a->db == NULL)
			return main_usage_error("report", "--db FILE is required");
		return main_usage_error("report", "unexpected argument '%s'", argv[optind]);
	}
	return -1;
}

/* Write the report to a->path through outfile (outfile.h: atomic, never over the database;
 * "-" is standard output). 0, or -1 (bad input) or -2 with a diagnostic in d. */
static int write_file(const struct report_args *a, struct diag *d)
{
	const char *inputs[] = {a->db};
	struct outfile out;
	int status = outfile_open(&out, a->path, "-o", inputs, 1, d);
	if (status != 0)
		return status;
	status = report_write(a->db, &a->o, out.f, d);
	if (status != 0)
		outfile_discard(&out);
	else if (outfile_close(&out, "-o", d) != 0)
		status = -2;
	return status;
}

/* Write the report to -o, or to standard output (whose errors main.c reports). Returns the
 * exit status. */
static int write_report(const struct report_args *a)
{
	struct diag d;
	int status;
	diag_init(&d);
	if (a->path != NULL)
		status = write_file(a, &d);
	else
		status = report_write(a->db, &a->o, stdout, &d);
	if (status != 0)
		diag_print_prefixed(&d, "dssim report: ", stderr);
	diag_release(&d);
	return status == 0 ? EXIT_OK : status == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
}

int main_report(int argc, char **argv)
{
	struct report_args a;
	int status = parse_report_args(argc, argv, &a);
	if (status >= 0)
		return status;
	return write_report(&a);
}
