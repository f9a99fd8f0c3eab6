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

/* Per schema row: its key as JSON with the colon, and the last value formatted with its text.
 * A sweep's points differ in a few keys, so most rows reuse their text; a value is compared
 * by content (a string's characters, a list's numbers), never by address. */
struct row_text {
	char *key;
	size_t key_len;
	bool ready;
	union {
		int64_t i;
		double x;
		bool b;
		int e;
		struct numlist list;
	} value;
	char *str;                      /* a string value's copy (NULL for none) */
	char *text;
	size_t len;
};
static struct row_text *row_texts;

static char *format_with(void (*fn)(FILE *, const struct scenario *, const struct schema_row *),
			 const struct scenario *s, const struct schema_row *r, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (f == NULL)
		xalloc_fail(0);
	fn(f, s, r);
	if (fclose(f) != 0)
		xalloc_fail(*len);
	return buf;
}

static void key_colon(FILE *f, const struct scenario *s, const struct schema_row *r)
{
	(void)s;
	json_string(f, r->key);
	fputc(':', f);
}

static void find_part_rows(void)
{
	size_t n, i;
	const struct schema_row *rows = schema_rows(&n);
	row_texts = xcalloc(n, sizeof *row_texts);
	for (i = 0; i < n; i++) {
		int k = canonical_is_strategy_key(rows[i].key);
		if (rows[i].type == SCHEMA_SECTION || strcmp(rows[i].key, "name") == 0)
			continue;
		if (part_count[k] == sizeof part_rows[k] / sizeof part_rows[k][0])
			abort(); /* the schema outgrew the table: a programming error */
		part_rows[k][part_count[k]++] = i;
		row_texts[i].key = format_with(key_colon, NULL, &rows[i], &row_texts[i].key_len);
	}
	parts_ready = true;
}

/* Whether row r of s holds the value t was formatted from; if not, t keeps s's value. */
static bool same_value(struct row_text *t, const struct scenario *s, const struct schema_row *r)
{
	const void *field = (const char *)s + r->offset;
	bool same = t->ready;
	int i;
	switch (r->type) {
	case SCHEMA_INT:
		same = same && t->value.i == *(const int64_t *)field;
		t->value.i = *(const int64_t *)field;
		break;
	case SCHEMA_NUM:
		/* bit for bit: 0 and -0 print apart */
		same = same && memcmp(&t->value.x, field, sizeof t->value.x) == 0;
		memcpy(&t->value.x, field, sizeof t->value.x);
		break;
	case SCHEMA_BOOL:
		same = same && t->value.b == *(const bool *)field;
		t->value.b = *(const bool *)field;
		break;
	case SCHEMA_ENUM:
		same = same && t->value.e == *(const int *)field;
		t->value.e = *(const int *)field;
		break;
	case SCHEMA_STRING: {
		const char *v = *(char *const *)field;
		same = same && (v == NULL ? t->str == NULL : t->str != NULL && strcmp(v, t->str) == 0);
		if (!same) {
			free(t->str);
			t->str = v ? xstrdup(v) : NULL;
		}
		break;
	}
	case SCHEMA_NUMLIST: {
		const struct numlist *l = field;
		same = same && t->value.list.n == l->n;
		for (i = 0; same && i < l->n; i++)
			same = memcmp(&t->value.list.v[i], &l->v[i], sizeof l->v[i]) == 0;
		t->value.list.n = l->n;
		for (i = 0; i < l->n; i++)
			t->value.list.v[i] = l->v[i];
		break;
	}
	case SCHEMA_SECTION:
		break;
	}
	return same;
}

char *canonical_format_part(const struct scenario *s, bool strategy)
{
	size_t n, i, size = 0, at = 0;
	const struct schema_row *rows = schema_rows(&n);
	char *buf;
	if (!parts_ready)
		find_part_rows();
	for (i = 0; i < part_count[strategy]; i++) {
		size_t row = part_rows[strategy][i];
		struct row_text *t = &row_texts[row];
		if (!same_value(t, s, &rows[row])) {
			free(t->text);
			t->text = format_with(canonical_value, s, &rows[row], &t->len);
			t->ready = true;
		}
		size += (i > 0) + t->key_len + t->len;
	}
	buf = xmalloc(size + 1);
	for (i = 0; i < part_count[strategy]; i++) {
		const struct row_text *t = &row_texts[part_rows[strategy][i]];
		if (i > 0)
			buf[at++] = ',';
		memcpy(buf + at, t->key, t->key_len);
		at += t->key_len;
		memcpy(buf + at, t->text, t->len);
		at += t->len;
	}
	buf[at] = '\0';
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
