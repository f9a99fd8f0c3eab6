/*
 * main_db: `dssim db`, the sweep database's schema, merging databases and checking one.
 * Command stage.
 */
#include <stdio.h>
#include <string.h>

#include "main_sweep.h"
#include "store.h"

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
	store_close(st, &d);
	diag_release(&d);
	return status;
}

int main_db(int argc, char **argv)
{
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
		struct diag d;
		struct store *out;
		int i, status = EXIT_OK;
		diag_init(&d);
		out = store_open(argv[2], false, 10000, &d);
		if (out == NULL) {
			diag_print_prefixed(&d, "dssim db merge: ", stderr);
			diag_release(&d);
			return EXIT_INTERNAL;
		}
		for (i = 3; i < argc; i++) {
			size_t added;
			if (store_merge(out, argv[i], &added, &d) != 0) {
				diag_print_prefixed(&d, "dssim db merge: ", stderr);
				status = EXIT_INTERNAL;
				break;
			}
			printf("%s: %zu points added\n", argv[i], added);
		}
		if (store_close(out, &d) != 0 && status == EXIT_OK) {
			diag_print_prefixed(&d, "dssim db merge: ", stderr);
			status = EXIT_INTERNAL;
		}
		diag_release(&d);
		return status;
	}
	db_usage(stderr);
	return EXIT_BAD_INPUT;
}

