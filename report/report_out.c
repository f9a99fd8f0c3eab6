/*
 * report_out: the report's titles, notes and tables in each format (text, Markdown, CSV, HTML,
 * JSON). A JSON report is one document whose items follow its first one, printed by
 * report_write: every item here starts with a comma.
 */
#include <stdio.h>
#include <string.h>

#include "report_int.h"
#include "table.h"

/* text as a JSON string (RFC 8259, section 7): quote, backslash and control bytes escaped,
 * UTF-8 as is. Here rather than through json.h:
 * a report reads only the database and tables (tests/includes.sh). */
static void json_text(FILE *out, const char *text)
{
	const unsigned char *p;
	fputc('"', out);
	for (p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void report_title(FILE *out, enum format f, int level, const char *text)
{
	switch (f) {
	case FORMAT_MD:
		fprintf(out, "\n%s %s\n\n", level == 1 ? "##" : "###", text);
		break;
	case FORMAT_CSV:
		fprintf(out, "\n# %s\n", text);
		break;
	case FORMAT_JSON:
		/* Each item follows the document's first (report_write): a comma before it. */
		fputs(",\n {\"title\": ", out);
		json_text(out, text);
		fprintf(out, ", \"level\": %d}", level);
		break;
	case FORMAT_HTML:
		fprintf(out, "<h%d>", level + 1);
		table_html_text(out, text);
		fprintf(out, "</h%d>\n", level + 1);
		break;
	default:
		fprintf(out, "\n%s\n", text);
		for (size_t i = strlen(text); i > 0; i--)
			fputc(level == 1 ? '=' : '-', out);
		fputc('\n', out);
	}
}

void report_note(FILE *out, enum format f, const char *text)
{
	if (f == FORMAT_JSON) {
		fputs(",\n {\"note\": ", out);
		json_text(out, text);
		fputs("}", out);
	} else if (f == FORMAT_HTML) {
		fputs("<p>", out);
		table_html_text(out, text);
		fputs("</p>\n", out);
	} else {
		fprintf(out, f == FORMAT_CSV ? "# %s\n" : "%s\n", text);
	}
}

/* A table of the report: in JSON, an item {"table": [rows]} of the document. */
void report_table(const struct table *t, enum format f, FILE *out)
{
	if (f == FORMAT_JSON)
		fputs(",\n {\"table\": ", out);
	table_print(t, f, out);
	if (f == FORMAT_JSON)
		fputs(" }", out);
}
