/*
 * table: a table of text cells (NULL is an empty or SQL NULL cell) printed as an aligned text
 * table, Markdown, CSV, JSON records or HTML. Used by the query commands and the reports;
 * knows SQLite only to fill a table from a statement.
 */
#ifndef DSSIM_TABLE_H
#define DSSIM_TABLE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
/* Cell `at` from column k of the statement's current row. */
void table_set_cell(struct table *t, size_t at, sqlite3_stmt *q, int k);
/* Every row of a statement. 0, or -1 with SQLite's message in err. */
int table_from_stmt(struct table *t, sqlite3_stmt *q, sqlite3 *db, char *err, size_t errsize);
void table_print(const struct table *t, enum format f, FILE *out);

/* Text with HTML's special characters escaped. */
void table_html_text(FILE *out, const char *s);

#endif
