/*
 * main_sweep: the sweep database commands of the dssim command line (main_sweep.c, main_top.c,
 * main_compare.c, main_db.c, main_report.c). Each takes the arguments after its name (argv[0]
 * is the command) and returns the exit status.
 */
#ifndef DSSIM_MAIN_SWEEP_H
#define DSSIM_MAIN_SWEEP_H

#include <stddef.h>
#include <stdio.h>

#include "table.h"

enum { EXIT_OK = 0, EXIT_INTERNAL = 1, EXIT_BAD_INPUT = 2, EXIT_NEGATIVE = 3, EXIT_INTERRUPTED = 130 };

/* The command table's lines and the exit statuses every command shares (main.c). */
void main_print_commands(FILE *out);
void main_print_exit_codes(FILE *out);
/* Append --set's KEY=VALUE (split in place) to a list; -1 with a message when malformed. */
struct scenario_override;
int main_add_override(struct scenario_override **list, size_t *n, char *arg);

/* --db's path: a file, not ":memory:", "" or a file: URI (store_path_check). 0, or -1 with
 * the message printed as "dssim CMD: ...". */
int main_check_db(const char *cmd, const char *db);
/* A token count (cost_parse_tokens) for option opt of command cmd (NULL: dssim FILE) into
 * *out: EXIT_OK, or EXIT_BAD_INPUT with one line on stderr saying what was expected. */
int main_parse_tokens(const char *cmd, const char *opt, const char *arg, double *out);

/* A usage error as one line on stderr, "PROG: MESSAGE (see PROG --help)", where PROG is
 * "dssim" or "dssim CMD" (cmd NULL or a name); returns EXIT_BAD_INPUT. */
int main_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* getopt_long's '?' (unknown option) or ':' (missing argument) as one line,
 * "PROG: unknown option '--x' (PROG --help lists them)". Callers set opterr = 0 and start
 * their optstring with ':' so that getopt itself prints nothing. */
int main_option_error(const char *cmd, int c, char **argv);
/* All n bytes to fd, through short writes and EINTR (the forked workers' pipes): 0 or -1. */
int main_write_all(int fd, const void *buf, size_t n);

/* SIGINT and SIGTERM to handler (sigaction, SA_RESTART; the handler stays for a second signal),
 * the previous actions into was[0] and was[1]; a signal the process was started ignoring (a
 * background job of a script, `trap '' INT`) stays ignored. main_signals_restore puts them
 * back. */
struct sigaction;
void main_signals_catch(void (*handler)(int), struct sigaction *was);
void main_signals_restore(const struct sigaction *was);

int main_run(int argc, char **argv);
int main_validate(int argc, char **argv);
int main_calibrate(int argc, char **argv);

/* --format's argument: text, json or csv. 0, or -1 for anything else. */
int main_parse_format(const char *s, enum format *f);

int main_sweep(int argc, char **argv);
int main_top(int argc, char **argv);
int main_compare(int argc, char **argv);
int main_db(int argc, char **argv);
int main_report(int argc, char **argv);
int main_plan(int argc, char **argv);

#endif
