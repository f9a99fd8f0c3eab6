/*
 * scenario: scenario file + presets + overrides -> a validated struct scenario. Input stage.
 * Order: load the file; apply overrides that replace a whole preset; expand preset names into
 * their mappings; lay the framework or engine profile and the calibration under the file's keys;
 * apply the other overrides; walk the tree against the schema table; derive
 * defaults and check the relations between keys. Every problem is collected, none stops the walk.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibration.h"
#include "scenario_int.h"
#include "preset.h"
#include "schema.h"
#include "units.h"
#include "yamltree.h"

/* Walk a dotted key down from the top; the parent mapping and last component come back. */
struct ynode *scenario_lookup(struct ynode *top, const char *key, struct ynode **parent,
			    const char **last)
{
	char part[256];
	const char *p = key;
	struct ynode *cur = top;
	*parent = NULL;
	while (cur != NULL) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		*parent = cur;
		*last = p;
		if (cur->kind != YNODE_MAP)
			return NULL;
		cur = yamltree_get(cur, part);
		if (dot == NULL)
			return cur;
		p = dot + 1;
	}
	return NULL;
}


/*
 * Expand preset names into mappings, outermost first (model, cluster.node, cluster.node.gpu), so
 * an override that names a nested preset (--set cluster.node.gpu=h100-sxm) lands inside the
 * already expanded node.
 */
/* Remember a file the scenario read, for outputs that must not overwrite it. */
void scenario_add_input(struct scenario *s, const char *path)
{
	const char **grown = arena_array(s->arena, s->ninputs + 1, sizeof *grown);
	if (s->ninputs)
		memcpy(grown, s->inputs, s->ninputs * sizeof *grown);
	grown[s->ninputs++] = arena_strdup(s->arena, path);
	s->inputs = grown;
}

/* Whether any key of map is a key of the schema under prefix (a preset file of that kind), or
 * at the top when prefix is NULL. */
static bool has_known_key(const struct loader *l, const struct ynode *map, const char *prefix)
{
	size_t i;
	for (i = 0; i < map->count; i++) {
		const char *k = map->members[i].key;
		char *key = prefix ? arena_printf(l->s->arena, "%s.%s", prefix, k)
				   : arena_strdup(l->s->arena, k);
		if (schema_find(key, NULL) != NULL)
			return true;
	}
	return false;
}

static void expand_presets(struct loader *l, struct ynode *top, const struct scenario_options *opt)
{
	size_t i, k;
	for (i = 0; i < l->nrows; i++) {
		const struct schema_row *r = &l->rows[i];
		struct ynode *parent, *v, *m;
		const char *last;
		if (r->type != SCHEMA_SECTION || r->preset == PRESET_NONE)
			continue;
		for (k = 0; opt && k < opt->noverrides; k++)
			if (strcmp(opt->overrides[k].key, r->key) == 0)
				scenario_apply_override(l, top, &opt->overrides[k]);
		v = scenario_lookup(top, r->key, &parent, &last);
		if (v == NULL || v->kind != YNODE_SCALAR)
			continue;
		m = preset_load(&l->roots, l->s->arena, r->preset, r->key, v, l->d);
		if (m != NULL && !has_known_key(l, m, r->key)) {
			/* Not a preset of this kind at all (--set model=/etc/shadow): one message that
			 * names the file, never its keys, which are its content. */
			diag_add(l->d, m->at, r->key, "%s is not a %s preset: none of its %zu keys is a "
				 "%s key", m->at.file ? m->at.file : v->value, r->key, m->count, r->key);
			m = NULL;
		}
		if (m != NULL && m->at.file != NULL)
			scenario_add_input(l->s, m->at.file);
		if (m == NULL) {
			/* Drop the section so the walk does not report it a second time, and keep
			 * quiet about the keys the missing preset would have given. */
			if (l->nfailed < sizeof l->failed / sizeof l->failed[0])
				l->failed[l->nfailed++] = r->key;
			yamltree_map_set(l->s->arena, parent, last, v->at,
					 yamltree_new_map(l->s->arena, v->at));
			continue;
		}
		yamltree_map_set(l->s->arena, parent, last, yamltree_member(parent, last)->key_at, m);
	}
}

void scenario_apply_override(struct loader *l, struct ynode *top, const struct scenario_override *o)
{
	struct arena *a = l->s->arena;
	struct mark at = {"--set", 0, 0};
	struct ynode *value;
	struct diag quiet;
	char *label = arena_printf(a, "--set %s", o->key);

	at.file = label;
	diag_init(&quiet);
	value = yamltree_parse(a, label, o->value, strlen(o->value), &quiet);
	diag_release(&quiet);
	if (value == NULL)
		value = yamltree_new_scalar(a, at, o->value);
	value->at = at;
	scenario_set_path(l, top, o->key, at, value);
}

/* Put value at the dotted key, making the mappings on the way. */
void scenario_set_path(struct loader *l, struct ynode *top, const char *key, struct mark at,
		     struct ynode *value)
{
	struct arena *a = l->s->arena;
	struct ynode *cur = top;
	const char *p = key;
	for (;;) {
		const char *dot = strchr(p, '.');
		char *part = dot ? arena_strndup(a, p, (size_t)(dot - p)) : arena_strdup(a, p);
		struct ynode *next;
		if (part[0] == '\0') {
			diag_add(l->d, at, key, "empty component in key");
			return;
		}
		if (dot == NULL) {
			yamltree_map_set(a, cur, part, at, value);
			return;
		}
		next = yamltree_get(cur, part);
		if (next == NULL) {
			next = yamltree_new_map(a, at);
			yamltree_map_set(a, cur, part, at, next);
		} else if (next->kind != YNODE_MAP) {
			diag_add(l->d, at, key, "cannot set inside '%s': it is %s, not a mapping", part,
				 yamltree_kind_name(next));
			return;
		}
		cur = next;
		p = dot + 1;
	}
}

/* The calibration layer (calibration_take): the calibration is the scenario's own copy. */
static int take_calibration(struct loader *l, struct ynode *top, const struct scenario_options *opt)
{
	const char *read = NULL;
	const struct calibration *c;
	if (calibration_take(l->s->arena, top, l->s->file, opt ? opt->calibration : NULL,
			     opt ? opt->calibration_given : NULL, &c, &read, l->d) != 0)
		return -1;
	if (read != NULL)
		scenario_add_input(l->s, read);
	if (c != NULL)
		l->s->calibration = calibration_copy(l->s->arena, c);
	return 0;
}

/* Set each calibration key the scenario file does not give (given[i] false). */
static void apply_calibration(struct loader *l, struct ynode *top, const bool *given)
{
	const struct calibration *c = l->s->calibration;
	size_t i;
	for (i = 0; c != NULL && i < c->n; i++) {
		struct mark at = c->marks[i];
		const struct schema_row *r = schema_find(c->keys[i], NULL);
		struct ynode *parent, *v;
		const char *last;
		if (given[i])
			continue;
		if (r->type == SCHEMA_NUMLIST) {
			v = scenario_lookup(top, c->keys[i], &parent, &last);
			if (v != NULL && v->kind == YNODE_SEQ)
				calibration_scale_list(l->s->arena, v, c->values[i], r->min, r->max,
						       at);
			continue;
		}
		scenario_set_path(l, top, c->keys[i], at,
			 yamltree_new_scalar(l->s->arena, at,
					     arena_printf(l->s->arena, "%.17g", c->values[i])));
	}
}

static bool is_preset_key(const char *key)
{
	const struct schema_row *r = schema_find(key, NULL);
	return r != NULL && r->type == SCHEMA_SECTION && r->preset != PRESET_NONE;
}

/* ---- the walk: tree -> struct ---- */

static void store_value(struct loader *l, size_t idx, const struct ynode *v)
{
	const struct schema_row *r = &l->rows[idx];
	l->s->marks[idx] = v->at;
	if (yamltree_is_null(v))
		return;
	l->s->present[idx] = true;
	schema_parse_value(r, v, (char *)l->s + r->offset, l->s->arena, l->d);
}

static void unknown_key(struct loader *l, const char *prefix, const struct ymember *m)
{
	const char *cands[256];
	size_t n = 0, i, plen = strlen(prefix);
	const char *close;
	for (i = 0; i < l->nrows && n < 256; i++) {
		const char *k = l->rows[i].key;
		if (plen > 0 && (strncmp(k, prefix, plen) != 0 || k[plen] != '.'))
			continue;
		k += plen ? plen + 1 : 0;
		if (strchr(k, '.') == NULL)
			cands[n++] = k;
	}
	close = diag_closest(m->key, cands, n);
	if (close)
		diag_add(l->d, m->key_at, plen ? prefix : NULL,
			 "unknown key '%s' (did you mean '%s'?)", m->key, close);
	else
		diag_add(l->d, m->key_at, plen ? prefix : NULL, "unknown key '%s'", m->key);
}

static void walk(struct loader *l, const struct ynode *map, const char *prefix)
{
	size_t i;
	for (i = 0; i < map->count; i++) {
		const struct ymember *m = &map->members[i];
		char *key = prefix[0] ? arena_printf(l->s->arena, "%s.%s", prefix, m->key)
				      : arena_strdup(l->s->arena, m->key);
		size_t idx;
		const struct schema_row *r = schema_find(key, &idx);
		if (r == NULL) {
			unknown_key(l, prefix, m);
			continue;
		}
		if (r->type == SCHEMA_SECTION) {
			l->s->marks[idx] = m->value->at;
			if (m->value->kind == YNODE_MAP) {
				l->s->present[idx] = true;
				walk(l, m->value, key);
			} else if (!yamltree_is_null(m->value)) {
				diag_add(l->d, m->value->at, key, "expected a mapping%s, got %s",
					 r->preset != PRESET_NONE ? " or a preset name" : "",
					 yamltree_kind_name(m->value));
				/* Its keys are not missing: the section itself is wrong. */
				l->s->marks[idx] = m->value->at;
				if (l->nfailed < sizeof l->failed / sizeof l->failed[0])
					l->failed[l->nfailed++] = r->key;
			}
			continue;
		}
		store_value(l, idx, m->value);
	}
}

static void set_defaults(struct loader *l)
{
	size_t i;
	struct diag quiet;
	diag_init(&quiet);
	for (i = 0; i < l->nrows; i++) {
		const struct schema_row *r = &l->rows[i];
		struct mark at = {"(default)", 0, 0};
		struct ynode *v;
		struct diag *saved = l->d;
		/* Lists default to empty: the zeroed struct already is. */
		if (r->type == SCHEMA_SECTION || r->type == SCHEMA_NUMLIST || r->def == NULL)
			continue;
		v = yamltree_new_scalar(l->s->arena, at, r->def);
		l->d = &quiet;
		store_value(l, i, v);
		l->d = saved;
		l->s->present[i] = false;
	}
	/* The table's defaults are ours: one that fails its own row is a programming error. */
	if (quiet.count > 0) {
		diag_print(&quiet, stderr);
		abort();
	}
	diag_release(&quiet);
}

/* The mark of the nearest given ancestor section, or the file top. */
struct mark scenario_mark(const struct scenario *s, const char *key)
{
	size_t idx;
	char buf[256];
	struct mark top = {s->file, 1, 1};
	snprintf(buf, sizeof buf, "%s", key);
	for (;;) {
		char *dot;
		if (schema_find(buf, &idx) != NULL && (s->present[idx] || s->marks[idx].line > 0))
			return s->marks[idx];
		dot = strrchr(buf, '.');
		if (dot == NULL)
			return top;
		*dot = '\0';
	}
}

static void required(struct loader *l)
{
	size_t i;
	for (i = 0; i < l->nrows; i++) {
		const struct schema_row *r = &l->rows[i];
		size_t f;
		bool under_failed = false;
		if (r->type == SCHEMA_SECTION || r->def != NULL || l->s->present[i] ||
		    l->s->marks[i].line > 0)
			continue;
		for (f = 0; f < l->nfailed; f++) {
			size_t n = strlen(l->failed[f]);
			under_failed = under_failed ||
				       (strncmp(r->key, l->failed[f], n) == 0 && r->key[n] == '.');
		}
		if (under_failed)
			continue;
		{
			/* A required key inside an absent section: the section is what is missing
			 * (reported once: diag_add drops identical repeats). */
			char missing[256], parent[256];
			char *dot;
			size_t idx;
			snprintf(missing, sizeof missing, "%s", r->key);
			for (;;) {
				snprintf(parent, sizeof parent, "%s", missing);
				dot = strrchr(parent, '.');
				if (dot == NULL)
					break;
				*dot = '\0';
				if (schema_find(parent, &idx) == NULL || l->s->present[idx] ||
				    l->s->marks[idx].line > 0)
					break;
				snprintf(missing, sizeof missing, "%s", parent);
			}
			diag_add(l->d, scenario_mark(l->s, missing), missing, "missing required key");
		}
	}
}

static struct scenario *load(const char *path, const struct ynode *given,
			     const struct scenario_options *opt, struct diag *d);

struct scenario *scenario_load(const char *path, const struct scenario_options *opt,
			       struct diag *d)
{
	return load(path, NULL, opt, d);
}

struct scenario *scenario_load_tree(const struct ynode *top, const char *file,
				    const struct scenario_options *opt, struct diag *d)
{
	return load(file, top, opt, d);
}

/* Where a problem with a key is reported, for the checks of other modules. */
static struct mark mark_of(const void *s, const char *key)
{
	return scenario_mark(s, key);
}

static struct scenario *load(const char *path, const struct ynode *given,
			     const struct scenario_options *opt, struct diag *d)
{
	struct loader l;
	struct scenario *s;
	struct ynode *top;
	size_t before = d->count, i;
	bool calibrated[CALIBRATION_MAX] = {false};

	memset(&l, 0, sizeof l);
	s = xcalloc(1, sizeof *s);
	s->arena = arena_new();
	s->file = arena_strdup(s->arena, path);
	l.s = s;
	l.d = d;
	l.opt = opt;
	l.rows = schema_rows(&l.nrows);
	s->marks = arena_array(s->arena, l.nrows, sizeof *s->marks);
	s->present = arena_array(s->arena, l.nrows, sizeof *s->present);
	preset_roots_init(&l.roots, s->arena, path, opt ? opt->data_dir : NULL);

	/* Presets and overrides rewrite the tree: work on a copy the scenario owns. */
	top = given ? preset_copy_tree(s->arena, given) : yamltree_load(s->arena, path, d);
	if (top == NULL) {
		scenario_free(s);
		return NULL;
	}
	if (top->kind != YNODE_MAP) {
		diag_add(d, top->at, NULL, "a scenario must be a mapping of keys, got %s",
			 yamltree_kind_name(top));
		scenario_free(s);
		return NULL;
	}
	if (top->count > 0 && !has_known_key(&l, top, NULL)) {
		/* Not a scenario (dssim /etc/os-release): name the file, echo none of it. */
		diag_add(d, top->at, NULL, "%s is not a scenario: none of its %zu keys is a scenario "
			 "key (dssim --help-keys lists them)", path, top->count);
		scenario_free(s);
		return NULL;
	}
	if (take_calibration(&l, top, opt) != 0) {
		scenario_free(s);
		return NULL;
	}
	for (i = 0; s->calibration != NULL && i < s->calibration->n; i++) {
		struct ynode *parent;
		const char *last;
		calibrated[i] =
			scenario_lookup(top, s->calibration->keys[i], &parent, &last) != NULL;
	}
	expand_presets(&l, top, opt);
	scenario_apply_profiles(&l, top, opt);
	apply_calibration(&l, top, calibrated);
	for (i = 0; opt && i < opt->noverrides; i++)
		if (!is_preset_key(opt->overrides[i].key) &&
		    !scenario_is_profile_key(opt->overrides[i].key))
			scenario_apply_override(&l, top, &opt->overrides[i]);

	set_defaults(&l);
	walk(&l, top, "");
	required(&l);
	if (d->count == before) {
		scenario_derive_model(&l);
		hardware_check_gpu(&s->cluster.node.gpu, d, mark_of, s);
		if (d->count == before)
			hardware_check_cluster(&s->cluster, d, mark_of, s);
		if (d->count == before && !(opt && opt->defer_strategy))
			scenario_check_strategy(s, d);
		if (d->count == before)
			scenario_check_workload(&l);
		if (d->count == before)
			scenario_check_speculative(&l, top);
	}
	if (s->name == NULL || s->name[0] == '\0')
		s->name = arena_strdup(s->arena, path);
	if (d->count > before) {
		scenario_free(s);
		return NULL;
	}
	return s;
}

void scenario_free(struct scenario *s)
{
	if (s == NULL)
		return;
	arena_free(s->arena);
	free(s);
}

const char *scenario_enum_name(const char *key, int value)
{
	const struct schema_row *r = schema_find(key, NULL);
	int i;
	if (r == NULL || r->type != SCHEMA_ENUM)
		return "?";
	for (i = 0; r->names[i] != NULL; i++)
		if (i == value)
			return r->names[i];
	return "?";
}

const char *scenario_dtype_name(enum dtype dtype)
{
	return scenario_enum_name("workload.dtype", dtype);
}

size_t scenario_implausible(const struct scenario *s, struct diag *w)
{
	size_t nrows, i, n = 0;
	const struct schema_row *rows = schema_rows(&nrows);
	for (i = 0; i < nrows; i++) {
		const struct schema_row *r = &rows[i];
		double lo, hi, v;
		char b[64], c[64];
		if (r->type != SCHEMA_NUM || strncmp(r->key, "cluster.", 8) != 0 ||
		    !units_preset_range(r->unit, &lo, &hi))
			continue;
		v = *(const double *)((const char *)s + r->offset);
		if (!(v > 0) || (v >= lo / 1e6 && v <= hi * 1e6))
			continue;
		diag_add(w, scenario_mark(s, r->key), r->key,
			 "%g %s is more than a million times outside the shipped presets' %s to %s; "
			 "a bare number is read in %s (write a unit, e.g. '%s')", v,
			 units_base_symbol(r->unit), units_format(lo, r->unit, b, sizeof b),
			 units_format(hi, r->unit, c, sizeof c), units_base_symbol(r->unit),
			 units_kind_example(r->unit));
		n++;
	}
	return n;
}
