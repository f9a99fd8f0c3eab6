/*
 * diag: diagnostics about input, each with file, line, column and key, collected rather than
 * thrown so one run reports every problem (SQLite's Parse.nErr). Foundation stage.
 * Format (what editors understand): "file:line:col: key: message". Lines and columns are one-based;
 * 0 means unknown and is left out.
 */
#ifndef DSSIM_DIAG_H
#define DSSIM_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A place in an input file. file points into storage that outlives the diagnostics. */
struct mark {
	const char *file;
	int line;
	int col;
};

struct diag_item {
	struct mark at;    /* at.file is owned by the item: it outlives whatever was loaded */
	char *key;     /* dotted key, or NULL */
	char *message;
};

struct diag {
	struct diag_item *items;
	size_t count;
	size_t cap;
	/* Open-addressing index of items by (place, key, message) for the repeat check: item
	 * index + 1, 0 empty; keeps n diagnostics O(n), not O(n^2). */
	size_t *slots;
	size_t nslots;
};

void diag_init(struct diag *d);
void diag_release(struct diag *d);
/* Record one problem. Identical repeats (same place, key and text) are kept once. */
void diag_add(struct diag *d, struct mark at, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool diag_has_errors(const struct diag *d);
/* Print every diagnostic, one per line, in the order recorded. */
void diag_print(const struct diag *d, FILE *out);
/* The same with prefix before each line ("dssim top: "), for commands that name themselves. */
void diag_print_prefixed(const struct diag *d, const char *prefix, FILE *out);
/* Text from inputs or a database as a terminal, a Markdown table or a CSV line can show it:
 * control bytes (ANSI escapes, newlines) become \\n, \\r, \\t or \\xNN. The _dup form is
 * malloc'd. */
void diag_fputs_visible(const char *s, FILE *out);
char *diag_visible_dup(const char *s);
/* Format one item into buf (truncating); returns buf. */
char *diag_format(const struct diag_item *it, char *buf, size_t size);



/* Levenshtein distance between two short strings (for "did you mean"). */
size_t diag_edit_distance(const char *a, const char *b);
/* The candidate closest to word when it is close enough to be a likely typo, else NULL. */
const char *diag_closest(const char *word, const char *const *candidates, size_t n);
#endif
