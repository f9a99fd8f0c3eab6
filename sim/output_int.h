/*
 * output_int: what output.c and output_serve.c share. Output stage; not for other modules.
 */
#ifndef DSSIM_OUTPUT_INT_H
#define DSSIM_OUTPUT_INT_H

#include <stdio.h>

#include "output.h"
#include "serve.h"

/* "key": at the given indent. */
void output_json_key(FILE *out, int indent, const char *key);
/* "key": value, and the comma and newline that follow every field but a mapping's last. */
void output_json_num_field(FILE *out, int indent, const char *key, double v);
void output_json_int_field(FILE *out, int indent, const char *key, long long v);
void output_json_str_field(FILE *out, int indent, const char *key, const char *v);
/* "key": {"name0": v0, "name1": v1, ...} on one line at the given indent, then `end`. */
void output_json_inline(FILE *out, int indent, const char *key, const char *const *names,
			const double *v, size_t n, const char *end);
/* Text from an input, with its control bytes escaped (diag_fputs_visible), cut to size. */
const char *output_vis(const char *text, char *buf, size_t size);

/* A serving run's members of the JSON report, and its part of the text report. */
void output_json_serving(FILE *out, const struct scenario *s, const struct serve_result *v);
void output_text_serving(FILE *out, const struct scenario *s, const struct serve_result *v);

#endif
