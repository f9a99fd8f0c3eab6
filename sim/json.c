/*
 * json: string escaping and numbers for JSON output (RFC 8259 sections 6 and 7).
 */
#include "json.h"

#include <math.h>

void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', out);
	while (*p) {
		/* Runs that need no escape go out in one write: canonical forms are mostly that. */
		const unsigned char *run = p;
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			fwrite(run, 1, (size_t)(p - run), out);
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else
			fprintf(out, "\\u%04x", *p);
		p++;
	}
	fputc('"', out);
}

void json_num(FILE *out, double v)
{
	if (isfinite(v))
		fprintf(out, "%.17g", v);
	else
		fputs("null", out);
}
