/*
 * table: text cells printed as an aligned table, Markdown, CSV, JSON records or HTML.
 */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "json.h"
#include "store.h"
#include "xalloc.h"

void table_init(struct table *t, size_t cols)
{
	memset(t, 0, sizeof *t);
	t->cols = cols;
	t->head = xcalloc(cols, sizeof *t->head);
}

void table_add_row(struct table *t)
{
	t->rows++;
	t->cell = xreallocarray(t->cell, t->rows * t->cols, sizeof *t->cell);
	t->numeric = xreallocarray(t->numeric, t->rows * t->cols, sizeof *t->numeric);
	memset(t->cell + (t->rows - 1) * t->cols, 0, t->cols * sizeof *t->cell);
	memset(t->numeric + (t->rows - 1) * t->cols, 0, t->cols * sizeof *t->numeric);
}

void table_free(struct table *t)
{
	size_t i;
	for (i = 0; i < t->cols; i++)
		free(t->head[i]);
	for (i = 0; i < t->rows * t->cols; i++)
		free(t->cell[i]);
	free(t->head);
	free(t->cell);
	free(t->numeric);
}

void table_set_cell(struct table *t, size_t at, const struct store_value *v)
{
	char buf[64];
	switch (v->type) {
	case STORE_NULL:
		return;
	case STORE_INT:
		snprintf(buf, sizeof buf, "%lld", (long long)v->i);
		break;
	case STORE_REAL:
		snprintf(buf, sizeof buf, "%.6g", v->d);
		break;
	default:
		t->cell[at] = xstrdup(v->text);
		return;
	}
	t->cell[at] = xstrdup(buf);
	t->numeric[at] = true;
}

void table_heads(struct table *t, const char *const *heads)
{
	size_t c;
	for (c = 0; c < t->cols; c++) {
		free(t->head[c]);
		t->head[c] = xstrdup(heads[c]);
	}
}

void table_text(struct table *t, size_t row, size_t col, const char *text)
{
	size_t at = row * t->cols + col;
	free(t->cell[at]);
	t->cell[at] = text ? xstrdup(text) : NULL;
	t->numeric[at] = false;
}

void table_num(struct table *t, size_t row, size_t col, int decimals, double v)
{
	char buf[64];
	size_t at = row * t->cols + col;
	snprintf(buf, sizeof buf, "%.*f", decimals, v);
	free(t->cell[at]);
	t->cell[at] = xstrdup(buf);
	t->numeric[at] = true;
}

void table_from_rows(struct table *t, const struct store_rows *r)
{
	size_t i, k;
	table_init(t, r->cols);
	for (i = 0; i < t->cols; i++)
		t->head[i] = xstrdup(r->names[i]);
	for (k = 0; k < r->rows; k++) {
		table_add_row(t);
		for (i = 0; i < t->cols; i++)
			table_set_cell(t, k * t->cols + i, store_cell(r, k, i));
	}
}

/* Text, Markdown, CSV and HTML show a cell's control bytes escaped (diag_visible_dup): text
 * from inputs or a database must not move a terminal's cursor or break a row. JSON escapes
 * them its own way. */
static void csv_field(FILE *out, const char *text)
{
	char *v, *s;
	if (text == NULL)
		return;
	v = diag_visible_dup(text);
	if (strpbrk(v, ",\"") == NULL) {
		fputs(v, out);
		free(v);
		return;
	}
	fputc('"', out);
	for (s = v; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
	free(v);
}

void table_html_text(FILE *out, const char *text)
{
	char *v = text ? diag_visible_dup(text) : NULL;
	const char *s;
	for (s = v; s && *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
	free(v);
}

/* A Markdown cell: control bytes escaped, then '|'. */
static void md_cell(FILE *out, const char *text)
{
	char *v = text ? diag_visible_dup(text) : NULL;
	const char *p;
	for (p = v; p && *p; p++) {
		if (*p == '|')
			fputc('\\', out);
		fputc(*p, out);
	}
	free(v);
}

/* Markdown: a pipe table; '|' in a cell is escaped. */
static void print_md(const struct table *t, FILE *out)
{
	size_t r, c;
	for (c = 0; c < t->cols; c++) {
		fputs("| ", out);
		md_cell(out, t->head[c]);
		fputc(' ', out);
	}
	fputs("|\n", out);
	for (c = 0; c < t->cols; c++) {
		bool num = false;
		for (r = 0; r < t->rows; r++)
			num = num || t->numeric[r * t->cols + c];
		fputs(num ? "|---:" : "|---", out);
	}
	fputs("|\n", out);
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->cols; c++) {
			fputs("| ", out);
			md_cell(out, t->cell[r * t->cols + c]);
			fputc(' ', out);
		}
		fputs("|\n", out);
	}
}

static void print_html(const struct table *t, FILE *out)
{
	size_t r, c;
	fputs("<table>\n<thead><tr>", out);
	for (c = 0; c < t->cols; c++) {
		fputs("<th>", out);
		table_html_text(out, t->head[c]);
		fputs("</th>", out);
	}
	fputs("</tr></thead>\n<tbody>\n", out);
	for (r = 0; r < t->rows; r++) {
		fputs("<tr>", out);
		for (c = 0; c < t->cols; c++) {
			fputs(t->numeric[r * t->cols + c] ? "<td class=\"n\">" : "<td>", out);
			table_html_text(out, t->cell[r * t->cols + c]);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
}

void table_print(const struct table *t, enum format f, FILE *out)
{
	size_t r, c;
	if (f == FORMAT_MD) {
		print_md(t, out);
	} else if (f == FORMAT_HTML) {
		print_html(t, out);
	} else if (f == FORMAT_CSV) {
		for (c = 0; c < t->cols; c++) {
			if (c)
				fputc(',', out);
			csv_field(out, t->head[c]);
		}
		fputc('\n', out);
		for (r = 0; r < t->rows; r++) {
			for (c = 0; c < t->cols; c++) {
				if (c)
					fputc(',', out);
				csv_field(out, t->cell[r * t->cols + c]);
			}
			fputc('\n', out);
		}
	} else if (f == FORMAT_JSON) {
		fputs("[", out);
		for (r = 0; r < t->rows; r++) {
			fputs(r ? ",\n {" : "\n {", out);
			for (c = 0; c < t->cols; c++) {
				const char *v = t->cell[r * t->cols + c];
				if (c)
					fputs(", ", out);
				json_string(out, t->head[c]);
				fputs(": ", out);
				if (v == NULL)
					fputs("null", out);
				else if (t->numeric[r * t->cols + c])
					fputs(v, out);
				else
					json_string(out, v);
			}
			fputs("}", out);
		}
		fputs(t->rows ? "\n]\n" : "]\n", out);
	} else {
		/* Widths and cells as printed: control bytes escaped. */
		size_t *w = xcalloc(t->cols, sizeof *w), n = t->rows * t->cols, i;
		char **vh = xcalloc(t->cols ? t->cols : 1, sizeof *vh);
		char **vc = xcalloc(n ? n : 1, sizeof *vc);
		for (c = 0; c < t->cols; c++)
			vh[c] = diag_visible_dup(t->head[c]);
		for (i = 0; i < n; i++)
			vc[i] = t->cell[i] ? diag_visible_dup(t->cell[i]) : NULL;
		for (c = 0; c < t->cols; c++) {
			w[c] = strlen(vh[c]);
			for (r = 0; r < t->rows; r++) {
				const char *v = vc[r * t->cols + c];
				size_t len = v ? strlen(v) : 1;
				if (len > w[c])
					w[c] = len;
			}
		}
		for (c = 0; c < t->cols; c++)
			fprintf(out, "%s%-*s", c ? "  " : "", (int)w[c], vh[c]);
		fputc('\n', out);
		for (r = 0; r < t->rows; r++) {
			for (c = 0; c < t->cols; c++) {
				const char *v = vc[r * t->cols + c];
				bool num = t->numeric[r * t->cols + c];
				fprintf(out, num ? "%s%*s" : "%s%-*s", c ? "  " : "", (int)w[c],
					v ? v : "-");
			}
			fputc('\n', out);
		}
		for (c = 0; c < t->cols; c++)
			free(vh[c]);
		for (i = 0; i < n; i++)
			free(vc[i]);
		free(vh);
		free(vc);
		free(w);
	}
}
