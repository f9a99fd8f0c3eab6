/*
 * table: a table of text cells (NULL is an empty or SQL NULL cell) printed as an aligned text
 * table, Markdown, CSV, JSON records or HTML. Output stage: used by the query commands and the
 * reports; fills a table from a store query's rows, knows nothing of SQLite.
 */
#ifndef DSSIM_TABLE_H
#define DSSIM_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct store_rows;
struct store_value;

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_CSV, FORMAT_MD, FORMAT_HTML };

struct table {
	size_t cols, rows;
	char **head;
	char **cell;              /* rows x cols */
	bool *numeric;            /* per cell: a number (right-aligned, unquoted in JSON) */
};

void table_init(struct table *t, size_t cols);
/* Set the column headings, cols of them. */
void table_heads(struct table *t, const char *const *heads);
void table_add_row(struct table *t);
void table_free(struct table *t);
/* Cell (row, col): text (copied; NULL leaves it empty), or a number with that many decimals. */
void table_text(struct table *t, size_t row, size_t col, const char *text);
void table_num(struct table *t, size_t row, size_t col, int decimals, double v);
/* Cell `at` from a query's value: NULL stays empty, numbers are numeric (REAL with 6
 * significant digits). */
void table_set_cell(struct table *t, size_t at, const struct store_value *v);
/* A table of a query's rows (t uninitialized), headed by its column names. */
void table_from_rows(struct table *t, const struct store_rows *r);
void table_print(const struct table *t, enum format f, FILE *out);

/* Text with HTML's special characters escaped. */
void table_html_text(FILE *out, const char *s);

#endif
