/*
 * calibration: reading a calibration file back. Input stage. The file is the one
 * calibrate_write (calibrate.h) prints; a hand-written one is checked as strictly.
 */
#include "calibration.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "preset.h"
#include "schema.h"
#include "yamltree.h"

static bool number(const struct ynode *n, double *out)
{
	char *end;
	if (n == NULL || n->kind != YNODE_SCALAR || n->quoted)
		return false;
	*out = strtod(n->value, &end);
	return end != n->value && *end == '\0' && isfinite(*out);
}

static void read_covariance(struct arena *a, const struct ynode *cov, struct calibration *c,
			    struct diag *d)
{
	size_t i, j;
	if (cov->kind != YNODE_SEQ || cov->count != c->n) {
		diag_add(d, cov->at, "covariance", "expected %zu rows of %zu numbers", c->n, c->n);
		return;
	}
	c->cov = arena_array(a, c->n * c->n, sizeof *c->cov);
	for (i = 0; i < c->n; i++) {
		const struct ynode *row = cov->items[i];
		if (row->kind != YNODE_SEQ || row->count != c->n) {
			diag_add(d, row->at, "covariance", "expected a row of %zu numbers", c->n);
			c->cov = NULL;
			return;
		}
		for (j = 0; j < c->n; j++)
			if (!number(row->items[j], &c->cov[i * c->n + j])) {
				diag_add(d, row->items[j]->at, "covariance", "expected a number");
				c->cov = NULL;
				return;
			}
	}
	for (i = 0; i < c->n; i++) {
		if (!(c->cov[i * c->n + i] >= 0))
			diag_add(d, cov->items[i]->at, "covariance",
				 "a variance (row %zu) must not be negative", i + 1);
		/* The file prints %.17g: a matrix written as symmetric reads back symmetric. */
		for (j = 0; j < i; j++)
			if (c->cov[i * c->n + j] != c->cov[j * c->n + i])
				diag_add(d, cov->items[i]->at, "covariance",
					 "not symmetric (rows %zu and %zu)", j + 1, i + 1);
	}
}

struct calibration *calibration_load(struct arena *a, const char *path, struct diag *d)
{
	const struct ynode *root = yamltree_load(a, path, d), *keys, *cov;
	struct calibration *c;
	size_t i, before = d->count;
	if (root == NULL)
		return NULL;
	keys = root->kind == YNODE_MAP ? yamltree_get(root, "keys") : NULL;
	if (keys == NULL || keys->kind != YNODE_MAP || keys->count == 0 ||
	    keys->count > CALIBRATION_MAX) {
		diag_add(d, keys ? keys->at : root->at, "keys",
			 "a calibration file needs keys: a mapping of 1 to %d scenario keys to "
			 "values", CALIBRATION_MAX);
		return NULL;
	}
	c = arena_array(a, 1, sizeof *c);
	c->file = arena_strdup(a, path);
	c->n = keys->count;
	c->keys = arena_array(a, c->n, sizeof *c->keys);
	c->values = arena_array(a, c->n, sizeof *c->values);
	c->marks = arena_array(a, c->n, sizeof *c->marks);
	for (i = 0; i < c->n; i++) {
		const struct ymember *m = &keys->members[i];
		const struct schema_row *r = schema_find(m->key, NULL);
		c->keys[i] = m->key;
		c->marks[i] = m->value->at;
		if (r == NULL || (r->type != SCHEMA_NUM && r->type != SCHEMA_NUMLIST))
			diag_add(d, m->key_at, m->key, "a calibration sets number keys of the "
				 "scenario, or scales a list of numbers (dssim --help-keys)");
		else if (!number(m->value, &c->values[i]))
			diag_add(d, m->value->at, m->key, "expected a number");
		else if (r->type == SCHEMA_NUMLIST && !(c->values[i] > 0))
			diag_add(d, m->value->at, m->key, "a list's scale must be positive");
	}
	cov = yamltree_get(root, "covariance");
	if (cov != NULL && !yamltree_is_null(cov))
		read_covariance(a, cov, c, d);
	return d->count > before ? NULL : c;
}

struct calibration *calibration_copy(struct arena *a, const struct calibration *c)
{
	struct calibration *k = arena_array(a, 1, sizeof *k);
	size_t i;
	k->file = arena_strdup(a, c->file);
	k->n = c->n;
	k->keys = arena_array(a, c->n, sizeof *k->keys);
	k->values = arena_array(a, c->n, sizeof *k->values);
	k->marks = arena_array(a, c->n, sizeof *k->marks);
	for (i = 0; i < c->n; i++) {
		k->keys[i] = arena_strdup(a, c->keys[i]);
		k->values[i] = c->values[i];
		k->marks[i] = c->marks[i];
		if (k->marks[i].file)
			k->marks[i].file = arena_strdup(a, k->marks[i].file);
	}
	if (c->cov != NULL) {
		k->cov = arena_array(a, c->n * c->n, sizeof *k->cov);
		memcpy(k->cov, c->cov, c->n * c->n * sizeof *k->cov);
	}
	return k;
}

int calibration_take(struct arena *a, struct ynode *top, const char *scenario_file,
		     const char *cli, const struct calibration *given,
		     const struct calibration **out, const char **read, struct diag *d)
{
	const char *path = cli;
	size_t i;
	*out = given;
	*read = NULL;
	for (i = 0; i < top->count; i++)
		if (strcmp(top->members[i].key, "calibration") == 0)
			break;
	if (i < top->count) {
		const struct ynode *v = top->members[i].value;
		if (v->kind != YNODE_SCALAR || v->value[0] == '\0') {
			diag_add(d, v->at, "calibration", "expected the path of a calibration file");
			return -1;
		}
		if (path == NULL)
			path = v->value[0] == '/' ? v->value
						  : arena_printf(a, "%s/%s",
								 preset_dir_of(a, scenario_file),
								 v->value);
		memmove(&top->members[i], &top->members[i + 1],
			(top->count - i - 1) * sizeof top->members[0]);
		top->count--;
	}
	if (given == NULL && path != NULL) {
		*out = calibration_load(a, path, d);
		if (*out == NULL)
			return -1;
		*read = path;
	}
	return 0;
}

void calibration_scale_list(struct arena *a, struct ynode *list, double scale, double lo,
			    double hi, struct mark at)
{
	size_t i;
	list->at = at;
	for (i = 0; i < list->count; i++) {
		double v;
		if (!number(list->items[i], &v))
			continue;   /* the walk reports it */
		v *= scale;
		v = v < lo ? lo : v > hi ? hi : v;
		list->items[i] = yamltree_new_scalar(a, at, arena_printf(a, "%.17g", v));
	}
}
