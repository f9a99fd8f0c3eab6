/*
 * schema_parse: a YAML value checked against its schema row (type, unit, range) and stored in
 * place. Input stage, part of schema (the key table is in schema.c); knows nothing of what the
 * keys mean.
 */
#include "schema.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hardware.h"

static void store_int(const struct schema_row *r, const struct ynode *v,
		      void *field, struct diag *d)
{
	char *end;
	long long x;
	char type[256];
	errno = 0;
	if (v->quoted) {
		diag_add(d, v->at, r->key, "expected an integer, got the string \"%s\"", v->value);
		return;
	}
	x = strtoll(v->value, &end, 10);
	if (end == v->value || *end != '\0') {
		/* 1e9 or 4096.0 from JSON: accept an integral value written as a float. */
		double f = strtod(v->value, &end);
		if (end != v->value && *end == '\0' && isfinite(f) && (f < r->min || f > r->max)) {
			diag_add(d, v->at, r->key, "expected an integer from %.0f to %.0f, got %s",
				 r->min, r->max, v->value);
			return;
		} else if (end != v->value && *end == '\0' && isfinite(f) && f == floor(f)) {
			/* Finite and within the row's range (above), so it converts exactly. */
			x = (long long)f;
		} else {
			diag_add(d, v->at, r->key, "expected %s, got '%s'",
				 schema_type_text(r, type, sizeof type), v->value);
			return;
		}
	}
	if (errno == ERANGE || (double)x < r->min || (double)x > r->max) {
		diag_add(d, v->at, r->key, "expected an integer from %.0f to %.0f, got %s", r->min,
			 r->max, v->value);
		return;
	}
	*(int64_t *)field = x;
}

static void store_num(const struct schema_row *r, const struct ynode *v,
		      void *field, struct diag *d)
{
	double x;
	if (units_parse(v->value, r->unit, v->at, r->key, &x, d) != 0)
		return;
	if (r->positive && !(x > 0)) {
		diag_add(d, v->at, r->key, "must be greater than 0, got %s", v->value);
		return;
	}
	if (x < r->min || x > r->max) {
		char lo[64], hi[64];
		diag_add(d, v->at, r->key, "expected a value from %s to %s, got %s",
			 units_format(r->min, r->unit, lo, sizeof lo),
			 units_format(r->max, r->unit, hi, sizeof hi), v->value);
		return;
	}
	*(double *)field = x;
}

static void store_enum(const struct schema_row *r, const struct ynode *v,
		       void *field, struct diag *d)
{
	size_t i, n = 0;
	const char *close;
	char type[256];
	for (i = 0; r->names[i] != NULL; i++) {
		if (strcmp(r->names[i], v->value) == 0) {
			*(int *)field = (int)i;
			return;
		}
		n++;
	}
	close = diag_closest(v->value, r->names, n);
	if (close != NULL)
		diag_add(d, v->at, r->key, "expected %s, got '%s' (did you mean '%s'?)",
			 schema_type_text(r, type, sizeof type), v->value, close);
	else
		diag_add(d, v->at, r->key, "expected %s, got '%s'",
			 schema_type_text(r, type, sizeof type), v->value);
}

static void store_bool(const struct schema_row *r, const struct ynode *v,
		       void *field, struct diag *d)
{
	if (!v->quoted && (strcmp(v->value, "true") == 0 || strcmp(v->value, "yes") == 0))
		*(bool *)field = true;
	else if (!v->quoted && (strcmp(v->value, "false") == 0 || strcmp(v->value, "no") == 0))
		*(bool *)field = false;
	else if (v->quoted)
		diag_add(d, v->at, r->key, "expected true or false, got the string \"%s\"",
			 v->value);
	else
		diag_add(d, v->at, r->key, "expected true or false, got '%s'", v->value);
}

static void store_list(const struct schema_row *r, const struct ynode *v,
		       struct numlist *out, struct diag *d)
{
	size_t i;
	if (v->kind != YNODE_SEQ) {
		diag_add(d, v->at, r->key, "expected a list of numbers such as [1e9, 1e10], got %s",
			 yamltree_kind_name(v));
		return;
	}
	if (v->count > NUMLIST_MAX) {
		diag_add(d, v->at, r->key, "expected at most %d numbers, got %zu", NUMLIST_MAX,
			 v->count);
		return;
	}
	out->n = 0;
	for (i = 0; i < v->count; i++) {
		const struct ynode *it = v->items[i];
		double x;
		if (it->kind != YNODE_SCALAR) {
			diag_add(d, it->at, r->key, "expected a number, got a nested value");
			return;
		}
		if (units_parse(it->value, r->unit, it->at, r->key, &x, d) != 0)
			return;
		if (x < r->min || x > r->max) {
			diag_add(d, it->at, r->key, "expected values from %g to %g, got %s", r->min,
				 r->max, it->value);
			return;
		}
		out->v[out->n++] = x;
	}
}

void schema_parse_value(const struct schema_row *r, const struct ynode *v, void *field,
			struct arena *a, struct diag *d)
{
	char type[256];
	if (r->type == SCHEMA_NUMLIST) {
		store_list(r, v, field, d);
		return;
	}
	if (v->kind != YNODE_SCALAR) {
		diag_add(d, v->at, r->key, "expected %s, got %s",
			 schema_type_text(r, type, sizeof type), yamltree_kind_name(v));
		return;
	}
	switch (r->type) {
	case SCHEMA_INT:
		store_int(r, v, field, d);
		break;
	case SCHEMA_NUM:
		store_num(r, v, field, d);
		break;
	case SCHEMA_BOOL:
		store_bool(r, v, field, d);
		break;
	case SCHEMA_ENUM:
		store_enum(r, v, field, d);
		break;
	case SCHEMA_STRING:
		*(char **)field = arena_strdup(a, v->value);
		break;
	case SCHEMA_SECTION:
	case SCHEMA_NUMLIST:
		break;
	}
}
