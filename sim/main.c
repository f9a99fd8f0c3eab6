/*
 * main: the dssim command line's entry. One table names every command and its one-line purpose;
 * `dssim FILE` (no command) runs a scenario. Each command lives in its own main_*.c, takes the
 * arguments after its name and returns an exit status of main_exit_codes.
 */
#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cost.h"
#include "diag.h"
#include "main_sweep.h"
#include "outfile.h"
#include "store.h"
#include "xalloc.h"

static const struct command {
	const char *name;
	int (*run)(int, char **);
	const char *usage;
	const char *summary;
} commands[] = {
	{"validate", main_validate, "validate [CASES.yaml]",
	 "simulate the published runs dssim is checked against"},
	{"calibrate", main_calibrate, "calibrate CASES.yaml [-o FILE]",
	 "fit scenario keys to measured runs, with error bars"},
	{"sweep", main_sweep, "sweep SPEC.yaml --db RESULTS.db",
	 "simulate many scenarios into a SQLite database"},
	{"top", main_top, "top --db RESULTS.db", "the best points of a database"},
	{"compare", main_compare, "compare SCENARIO|ID...", "scenarios or stored points side by side"},
	{"db", main_db, "db schema|merge|check", "the database: schema, merge, integrity check"},
	{"report", main_report, "report --db RESULTS.db", "a capacity-planning report"},
	{"plan", main_plan, "plan BASE.yaml GOAL [CONSTRAINTS]",
	 "the cheapest and the fastest plan that meet a goal and constraints"},
};

/* Exit statuses, the same for every command (README, dssim.1). */
static const struct {
	int status;
	const char *meaning;
} exit_codes[] = {
	{EXIT_OK, "done"},
	{EXIT_INTERNAL, "internal, output or database error (corrupt or foreign database too)"},
	{EXIT_BAD_INPUT, "bad input or usage"},
	{EXIT_NEGATIVE, "a negative answer, after the report: it does not fit, no rate meets "
			"the SLO, no plan meets the goal"},
	{EXIT_INTERRUPTED, "interrupted (SIGINT or SIGTERM)"},
};

void main_print_commands(FILE *out)
{
	size_t k;
	fputs("commands:\n", out);
	for (k = 0; k < sizeof commands / sizeof commands[0]; k++)
		fprintf(out, "  %-34s %s\n", commands[k].usage, commands[k].summary);
}

int main_check_db(const char *cmd, const char *db)
{
	struct diag d;
	char prefix[64];
	int status;
	diag_init(&d);
	status = store_path_check(db, &d);
	if (status != 0) {
		snprintf(prefix, sizeof prefix, "dssim %s: ", cmd);
		diag_print_prefixed(&d, prefix, stderr);
	}
	diag_release(&d);
	return status;
}

/* PROG: MESSAGE (HINT), PROG being "dssim" or "dssim CMD". */
static int usage_line(const char *cmd, bool lists, const char *fmt, va_list ap)
{
	const char *sep = cmd != NULL ? " " : "";
	if (cmd == NULL)
		cmd = "";
	fprintf(stderr, "dssim%s%s: ", sep, cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, lists ? " (dssim%s%s --help lists them)\n" : " (see dssim%s%s --help)\n",
		sep, cmd);
	return EXIT_BAD_INPUT;
}

int main_parse_tokens(const char *cmd, const char *opt, const char *arg, double *out)
{
	if (cost_parse_tokens(arg, out) == 0)
		return EXIT_OK;
	/* 1e18 is COST_TOKENS_MAX. */
	fprintf(stderr, "dssim%s%s: %s: expected a count from 1 to 1e18 such as 2T, 500B or 1e12, "
			"got '%s'\n", cmd ? " " : "", cmd ? cmd : "", opt, arg);
	return EXIT_BAD_INPUT;
}

int main_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	usage_line(cmd, false, fmt, ap);
	va_end(ap);
	return EXIT_BAD_INPUT;
}

static int option_line(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int option_line(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	usage_line(cmd, true, fmt, ap);
	va_end(ap);
	return EXIT_BAD_INPUT;
}

int main_option_error(const char *cmd, int c, char **argv)
{
	/* glibc leaves the option's text in the argument it just passed (argv[optind - 1]) for a
	 * missing argument and a long option; an unknown short option is only in optopt, since
	 * it may sit inside a cluster such as -qz. "=VALUE" is no part of a name. */
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	int len = (int)strcspn(arg, "=");
	bool is_long = arg[0] == '-' && arg[1] == '-';
	if (c == ':')
		return option_line(cmd, "option '%.*s' needs an argument", len, arg);
	if (optopt == 0)
		return option_line(cmd, "unknown option '%.*s'", len, arg);
	if (is_long && arg[len] == '=')
		return option_line(cmd, "option '%.*s' takes no argument", len, arg);
	return option_line(cmd, "unknown option '-%c'", optopt);
}

int main_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

void main_print_exit_codes(FILE *out)
{
	size_t k;
	fputs("exit status:\n", out);
	for (k = 0; k < sizeof exit_codes / sizeof exit_codes[0]; k++)
		fprintf(out, "  %-4d %s\n", exit_codes[k].status, exit_codes[k].meaning);
}

static const int caught[2] = {SIGINT, SIGTERM};

void main_signals_catch(void (*handler)(int), struct sigaction *was)
{
	struct sigaction sa;
	int i;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 2; i++) {
		sigaction(caught[i], NULL, &was[i]);
		if (was[i].sa_handler != SIG_IGN)
			sigaction(caught[i], &sa, NULL);
	}
}

void main_signals_restore(const struct sigaction *was)
{
	int i;
	for (i = 0; i < 2; i++)
		sigaction(caught[i], &was[i], NULL);
}

/* SIGINT or SIGTERM in a command without its own handling (sweep and plan stop cleanly
 * themselves): no output is left half-written, and the status is 130 as the table says. */
static void on_signal(int sig)
{
	(void)sig;
	outfile_remove_temporaries();
	_exit(EXIT_INTERRUPTED);
}

int main(int argc, char **argv)
{
	size_t k;
	int status = -1;
	struct sigaction was[2];
	xalloc_init();
	main_signals_catch(on_signal, was);
	/* GSL's default handler aborts; every caller checks GSL's status instead (STYLE.md 16). */
	gsl_set_error_handler_off();
	for (k = 0; argc > 1 && k < sizeof commands / sizeof commands[0]; k++)
		if (strcmp(argv[1], commands[k].name) == 0) {
			status = commands[k].run(argc - 1, argv + 1);
			break;
		}
	if (status < 0)
		status = main_run(argc, argv);
	if ((fflush(stdout) != 0 || ferror(stdout)) && status == EXIT_OK) {
		fprintf(stderr, "dssim: cannot write the output\n");
		return EXIT_INTERNAL;
	}
	return status;
}
