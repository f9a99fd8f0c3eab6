/*
 * schema: the one table of scenario keys — type, unit, range, default, one-line doc and where the
 * value lives in struct scenario (tmux's options-table.c). Input stage. The same rows drive
 * validation, defaults, `dssim --help-keys` and the error texts.
 */
#ifndef DSSIM_SCHEMA_H
#define DSSIM_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "preset.h"
#include "units.h"
#include "xalloc.h"
#include "yamltree.h"

enum schema_type {
	SCHEMA_SECTION,   /* a mapping of further keys */
	SCHEMA_INT,       /* int64_t */
	SCHEMA_NUM,       /* double, with a unit */
	SCHEMA_BOOL,      /* bool */
	SCHEMA_ENUM,      /* int, one of names[] */
	SCHEMA_STRING,    /* char * */
	SCHEMA_NUMLIST,   /* struct numlist: a list of numbers with a unit */
};

struct schema_row {
	const char *key;              /* dotted path from the top of the scenario */
	enum schema_type type;
	enum unit_kind unit;          /* SCHEMA_NUM */
	double min, max;              /* inclusive range (SCHEMA_INT, SCHEMA_NUM) */
	bool positive;                /* must be > 0 (a size, a bandwidth) */
	const char *def;              /* default as text; NULL = required */
	const char *doc;
	size_t offset;                /* into struct scenario */
	const char *const *names;     /* SCHEMA_ENUM: NULL-terminated */
	enum preset_kind preset;      /* SCHEMA_SECTION */
};

/* The table; rows are in document order, a section before its keys. */
const struct schema_row *schema_rows(size_t *count);
/* The row for a dotted key, or NULL; *index gets its position when index is not NULL. */
const struct schema_row *schema_find(const char *key, size_t *index);
/* Print every key with type, unit, default and doc (dssim --help-keys). */
void schema_print_keys(FILE *out);
/* The type's name for messages ("an integer", "a size in bytes such as '80 GiB'"). */
const char *schema_type_text(const struct schema_row *row, char *buf, size_t size);
/*
 * Check a YAML value (not null) against the row's type, range and unit and store it in field,
 * the row's place in the struct. Strings are copied into a. A value that does not fit is
 * recorded in d at its position, and field keeps what it held.
 */
void schema_parse_value(const struct schema_row *r, const struct ynode *v, void *field,
			struct arena *a, struct diag *d);

#endif
