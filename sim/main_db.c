/*
 * main_db: `dssim db`, the sweep database's schema, merging databases and checking one.
 * Command stage.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "main_sweep.h"
#include "store.h"
#include "xalloc.h"

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
		"check   run SQLite's integrity check, count the points and name the sweeps that\n"
		"        were interrupted (also those killed: still running, their process gone)\n"
		"\n");
	main_print_exit_codes(out);
	fputs("db check: 1 also when the database is not ok.\n", out);
}

static int db_check(const char *path)
{
	struct diag d;
	struct store *st;
	struct store_rows *r;
	int status = EXIT_OK;
	diag_init(&d);
	if (store_path_check(path, &d) != 0) {
		diag_print_prefixed(&d, "dssim db check: ", stderr);
		diag_release(&d);
		return EXIT_BAD_INPUT;
	}
	/* Without the check every other command makes: this one reports the damage in full. */
	st = store_open_damaged(path, &d);
	if (st == NULL) {
		diag_print_prefixed(&d, "dssim db check: ", stderr);
		diag_release(&d);
		return EXIT_INTERNAL;
	}
	if (store_query(st, "PRAGMA integrity_check", NULL, 0, &r, &d) == 0 &&
	    r->rows > 0) {
		const char *v = store_cell(r, 0, 0)->text;
		printf("integrity: %s\n", v ? v : "");
		if (v == NULL || strcmp(v, "ok") != 0)
			status = EXIT_INTERNAL;
	} else {
		printf("integrity: %s\n", d.items[0].message);
		status = EXIT_INTERNAL;
	}
	store_rows_free(r);
	if (store_query(st, "SELECT (SELECT count(*) FROM sweeps), (SELECT count(*) FROM points), "
			    "(SELECT count(*) FROM results), (SELECT count(*) FROM errors), "
			    "(SELECT count(*) FROM points WHERE id NOT IN (SELECT point_id FROM "
			    "results) AND id NOT IN (SELECT point_id FROM errors))",
			NULL, 0, &r, &d) == 0 &&
	    r->rows > 0) {
		printf("sweeps %lld, points %lld, results %lld, errors %lld, points without a "
		       "result %lld\n",
		       (long long)store_cell(r, 0, 0)->i, (long long)store_cell(r, 0, 1)->i,
		       (long long)store_cell(r, 0, 2)->i, (long long)store_cell(r, 0, 3)->i,
		       (long long)store_cell(r, 0, 4)->i);
		if (store_cell(r, 0, 4)->i != 0)
			status = EXIT_INTERNAL;
	}
	store_rows_free(r);
	/* A sweep that stopped early is no damage: its points are sound, a rerun completes it. */
	if (store_interrupted(st, &r, &d) == 0) {
		size_t i;
		for (i = 0; i < r->rows; i++) {
			const char *file = store_cell(r, i, 4)->text, *host = store_cell(r, i, 2)->text;
			printf("sweep %lld interrupted: started %s by process %lld on %s%s%s; rerun it "
			       "to complete it\n", (long long)store_cell(r, i, 0)->i,
			       store_cell(r, i, 1)->text ? store_cell(r, i, 1)->text : "?",
			       (long long)store_cell(r, i, 3)->i, host ? host : "?",
			       file ? ", spec " : "", file ? file : "");
		}
		store_rows_free(r);
	}
	store_close(st, &d);
	diag_release(&d);
	return status;
}

/* Whether a and b are one file (same device and inode, whatever the names). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Remove a database this merge created, with its WAL and shared-memory files. */
static void remove_created(const char *path)
{
	static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
	size_t i;
	for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		size_t n = strlen(path) + strlen(tails[i]) + 1;
		char *f = xmalloc(n);
		snprintf(f, n, "%s%s", path, tails[i]);
		remove(f);
		free(f);
	}
}

/* dssim db merge OUT IN...: a failure leaves OUT as it was (each merge is one transaction),
 * and removes it when this merge created it. */
static int db_merge(int n, char **files)
{
	struct diag d;
	struct store *out;
	int i, status = EXIT_OK;
	bool existed;
	diag_init(&d);
	for (i = 0; i < n; i++)
		if (store_path_check(files[i], &d) != 0) {
			diag_print_prefixed(&d, "dssim db merge: ", stderr);
			diag_release(&d);
			return EXIT_BAD_INPUT;
		}
	for (i = 1; i < n; i++)
		if (same_file(files[0], files[i])) {
			/* Attaching OUT to itself waits for its own lock, then says "locked". */
			fprintf(stderr, "dssim db merge: %s: cannot merge a database into itself\n",
				files[i]);
			return EXIT_BAD_INPUT;
		}
	existed = access(files[0], F_OK) == 0;
	out = store_open(files[0], false, 10000, &d);
	if (out == NULL) {
		diag_print_prefixed(&d, "dssim db merge: ", stderr);
		diag_release(&d);
		if (!existed)
			remove_created(files[0]);
		return EXIT_INTERNAL;
	}
	for (i = 1; i < n; i++) {
		size_t added;
		if (store_merge(out, files[i], &added, &d) != 0) {
			diag_print_prefixed(&d, "dssim db merge: ", stderr);
			status = EXIT_INTERNAL;
			break;
		}
		printf("%s: %zu points added\n", files[i], added);
	}
	if (store_close(out, &d) != 0 && status == EXIT_OK) {
		diag_print_prefixed(&d, "dssim db merge: ", stderr);
		status = EXIT_INTERNAL;
	}
	diag_release(&d);
	if (status != EXIT_OK && !existed) {
		remove_created(files[0]);
		fprintf(stderr, "dssim db merge: %s removed (this merge created it)\n", files[0]);
	}
	return status;
}

int main_db(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sub;
	int c;
	/* "+": options stop at the subcommand, whose files are its own. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (c != 'h')
			return main_option_error("db", c, argv);
		db_usage(stdout);
		return EXIT_OK;
	}
	if (optind >= argc)
		return main_usage_error("db", "expected schema, merge or check");
	sub = argv[optind];
	argc -= optind;
	argv += optind;
	if (strcmp(sub, "schema") == 0) {
		if (argc != 1)
			return main_usage_error("db", "schema takes no arguments");
		store_print_schema(stdout);
		return EXIT_OK;
	}
	if (strcmp(sub, "check") == 0) {
		if (argc != 2)
			return main_usage_error("db", "check takes one database file");
		return db_check(argv[1]);
	}
	if (strcmp(sub, "merge") == 0) {
		if (argc < 3)
			return main_usage_error("db", "merge takes OUT.db and at least one IN.db");
		return db_merge(argc - 1, argv + 1);
	}
	return main_usage_error("db", "unknown subcommand '%s'", sub);
}
