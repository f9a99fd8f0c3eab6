/*
 * canonical: the canonical form of a scenario — every schema key's value as one JSON object, in
 * schema order, the name left out — which a sweep hashes to key its points. Input stage: reads
 * struct scenario through the schema table; the hash itself is store's (store_hash).
 */
#include "canonical.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "schema.h"
#include "xalloc.h"

/* One row's value in JSON. */
static void canonical_value(FILE *f, const struct scenario *s, const struct schema_row *r)
{
	const void *field = (const char *)s + r->offset;
	switch (r->type) {
	case SCHEMA_INT:
		fprintf(f, "%lld", (long long)*(const int64_t *)field);
		break;
	case SCHEMA_NUM:
		json_num(f, *(const double *)field);
		break;
	case SCHEMA_BOOL:
		fputs(*(const bool *)field ? "true" : "false", f);
		break;
	case SCHEMA_ENUM:
		json_string(f, r->names[*(const int *)field]);
		break;
	case SCHEMA_STRING:
		json_string(f, *(char *const *)field);
		break;
	case SCHEMA_NUMLIST: {
		const struct numlist *n = field;
		int i;
		fputc('[', f);
		for (i = 0; i < n->n; i++) {
			if (i > 0)
				fputc(',', f);
			json_num(f, n->v[i]);
		}
		fputc(']', f);
		break;
	}
	case SCHEMA_SECTION:
		break;
	}
}

bool canonical_is_strategy_key(const char *key)
{
	return strncmp(key, "strategy.", 9) == 0 || strcmp(key, "workload.micro_batch") == 0 ||
	       strcmp(key, "workload.global_batch") == 0;
}

/* The schema rows of each canonical part, in schema order: found once, since a sweep formats
 * the strategy part for every point. */
static size_t part_rows[2][512], part_count[2];
static bool parts_ready;

static void find_part_rows(void)
{
	size_t n, i;
	const struct schema_row *rows = schema_rows(&n);
	for (i = 0; i < n; i++) {
		int k = canonical_is_strategy_key(rows[i].key);
		if (rows[i].type == SCHEMA_SECTION || strcmp(rows[i].key, "name") == 0)
			continue;
		if (part_count[k] == sizeof part_rows[k] / sizeof part_rows[k][0])
			abort(); /* the schema outgrew the table: a programming error */
		part_rows[k][part_count[k]++] = i;
	}
	parts_ready = true;
}

char *canonical_format_part(const struct scenario *s, bool strategy)
{
	size_t n, i, size = 0;
	const struct schema_row *rows = schema_rows(&n);
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	if (!parts_ready)
		find_part_rows();
	for (i = 0; i < part_count[strategy]; i++) {
		const struct schema_row *r = &rows[part_rows[strategy][i]];
		if (i > 0)
			fputc(',', f);
		json_string(f, r->key);
		fputc(':', f);
		canonical_value(f, s, r);
	}
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

char *canonical_join(const char *rest, const char *strategy)
{
	size_t a = strlen(rest), b = strlen(strategy);
	char *out = xmalloc(a + b + 4);
	out[0] = '{';
	memcpy(out + 1, rest, a);
	out[1 + a] = ',';
	memcpy(out + 2 + a, strategy, b);
	out[2 + a + b] = '}';
	out[3 + a + b] = '\0';
	return out;
}

char *canonical_format(const struct scenario *s)
{
	char *rest = canonical_format_part(s, false), *st = canonical_format_part(s, true);
	char *out = canonical_join(rest, st);
	free(rest);
	free(st);
	return out;
}
