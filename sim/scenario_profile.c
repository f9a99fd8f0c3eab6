/*
 * scenario_profile: the profile layers of loading — a framework profile (runtime.framework,
 * topologies/frameworks/) for training, an engine profile (serving.engine, topologies/engines/)
 * for serving — laid under the scenario file's keys by one rule. Input stage, part of scenario.
 */
#include <stdlib.h>
#include <string.h>

#include "preset.h"
#include "scenario_int.h"
#include "schema.h"
#include "units.h"
#include "yamltree.h"

/* One kind of profile: the key that names it, where it is found, the sections it may set and
 * the runs it applies to. */
struct profile_kind {
	const char *key;           /* runtime.framework */
	enum preset_kind preset;
	const char *noun;          /* "a framework profile" */
	const char *what;          /* "framework profile" */
	const char *dir;           /* where the default is looked for */
	const char *scope[2];      /* sections it sets */
	const char *scope_text;
	bool training;             /* applies to training runs, else to serving runs */
};

static const struct profile_kind framework_kind = {
	"runtime.framework", PRESET_FRAMEWORK, "a framework profile", "framework profile",
	"topologies/frameworks/",
	{"runtime", "strategy"}, "runtime.* and strategy.* keys", true,
};
static const struct profile_kind engine_kind = {
	"serving.engine", PRESET_ENGINE, "an engine profile", "engine profile",
	"topologies/engines/",
	{"serving", "serving"}, "serving.* keys", false,
};

/* One key a profile sets, flattened to its dotted name. */
struct profile_key {
	const char *key;
	const struct ynode *v;
};

static bool in_profile_scope(const struct profile_kind *k, const char *key)
{
	int i;
	for (i = 0; i < 2; i++) {
		size_t n = strlen(k->scope[i]);
		if (strncmp(key, k->scope[i], n) == 0 && (key[n] == '\0' || key[n] == '.'))
			return true;
	}
	return false;
}

static void unknown_profile_key(struct loader *l, const struct profile_kind *k,
				const struct ymember *m, const char *key)
{
	const char *cands[512];
	size_t n = 0, i;
	const char *close;
	for (i = 0; i < l->nrows && n < sizeof cands / sizeof cands[0]; i++)
		if (l->rows[i].type != SCHEMA_SECTION && in_profile_scope(k, l->rows[i].key) &&
		    strcmp(l->rows[i].key, k->key) != 0)
			cands[n++] = l->rows[i].key;
	close = diag_closest(key, cands, n);
	if (close != NULL)
		diag_add(l->d, m->key_at, key, "unknown key in %s (did you mean '%s'?)", k->noun,
			 close);
	else
		diag_add(l->d, m->key_at, key, "unknown key in %s", k->noun);
}

/*
 * The keys of a profile mapping, nested (runtime: {fusion: {rope: true}}) or dotted
 * (runtime.fusion.rope: true), each checked against its schema row; name and description at
 * the top are the profile's own. Problems go to d at the profile's positions.
 */
static void profile_keys(struct loader *l, const struct profile_kind *k, const struct ynode *map,
			 const char *prefix, void *scratch, struct profile_key **keys, size_t *n)
{
	size_t i;
	for (i = 0; i < map->count; i++) {
		const struct ymember *m = &map->members[i];
		char *key = prefix ? arena_printf(l->s->arena, "%s.%s", prefix, m->key)
				   : arena_strdup(l->s->arena, m->key);
		const struct schema_row *r;
		if (prefix == NULL && strcmp(key, "by_gpu") == 0)
			continue;   /* gpu_rule's */
		if (prefix == NULL &&
		    (strcmp(key, "name") == 0 || strcmp(key, "description") == 0)) {
			if (m->value->kind != YNODE_SCALAR)
				diag_add(l->d, m->value->at, key, "expected a string, got %s",
					 yamltree_kind_name(m->value));
			continue;
		}
		if (!in_profile_scope(k, key)) {
			diag_add(l->d, m->key_at, key, "%s sets %s only", k->noun, k->scope_text);
			continue;
		}
		if (strcmp(key, k->key) == 0) {
			diag_add(l->d, m->key_at, key, "%s cannot name another one", k->noun);
			continue;
		}
		r = schema_find(key, NULL);
		if (r == NULL) {
			unknown_profile_key(l, k, m, key);
		} else if (r->type == SCHEMA_SECTION) {
			if (m->value->kind == YNODE_MAP)
				profile_keys(l, k, m->value, key, scratch, keys, n);
			else
				diag_add(l->d, m->value->at, key, "expected a mapping, got %s",
					 yamltree_kind_name(m->value));
		} else if (!yamltree_is_null(m->value)) {
			/* Checked here, where the profile is named, even when the scenario's own
			 * value will win; scratch is a struct scenario nobody reads. */
			size_t before = l->d->count;
			schema_parse_value(r, m->value, (char *)scratch + r->offset, l->s->arena,
					   l->d);
			if (l->d->count > before)
				continue;
			*keys = xreallocarray(*keys, *n + 1, sizeof **keys);
			(*keys)[*n].key = key;
			(*keys)[*n].v = m->value;
			(*n)++;
		}
	}
}

/* Whether text contains part, ignoring ASCII case. */
static bool contains_nocase(const char *text, const char *part)
{
	size_t n = strlen(part), i, j;
	for (i = 0; text[i] != '\0'; i++) {
		for (j = 0; j < n && text[i + j] != '\0'; j++)
			if ((text[i + j] | 0x20) != (part[j] | 0x20))
				break;
		if (j == n)
			return true;
	}
	return n == 0;
}

/*
 * A profile's defaults that depend on the GPU (vLLM sizes its batch limits by device memory):
 * by_gpu is a list of {memory_at_least: SIZE, name_excludes: TEXT (optional), KEYS...}, and the
 * first rule the scenario's GPU (its preset as expanded, before --set) meets gives its keys,
 * over the profile's own. Returns a mapping of those keys, or NULL.
 */
static struct ynode *gpu_rule(struct loader *l, struct ynode *top, const struct ynode *profile)
{
	struct ynode *rules = yamltree_get(profile, "by_gpu"), *parent, *mem, *gname;
	const char *last;
	double memory = 0;
	size_t i, j;
	if (rules == NULL)
		return NULL;
	if (rules->kind != YNODE_SEQ) {
		diag_add(l->d, rules->at, "by_gpu", "expected a list of rules, got %s",
			 yamltree_kind_name(rules));
		return NULL;
	}
	mem = scenario_lookup(top, "cluster.node.gpu.memory", &parent, &last);
	gname = scenario_lookup(top, "cluster.node.gpu.name", &parent, &last);
	if (mem != NULL && mem->kind == YNODE_SCALAR) {
		/* A bad value is the walk's to report. */
		struct diag quiet;
		diag_init(&quiet);
		if (units_parse(mem->value, UNIT_BYTES, mem->at, "cluster.node.gpu.memory", &memory,
				&quiet) != 0)
			memory = 0;
		diag_release(&quiet);
	}
	for (i = 0; i < rules->count; i++) {
		const struct ynode *r = rules->items[i], *least, *excl;
		struct ynode *keys;
		double need;
		if (r->kind != YNODE_MAP) {
			diag_add(l->d, r->at, "by_gpu", "expected a rule mapping, got %s",
				 yamltree_kind_name(r));
			continue;
		}
		least = yamltree_get(r, "memory_at_least");
		excl = yamltree_get(r, "name_excludes");
		if (least == NULL || least->kind != YNODE_SCALAR) {
			diag_add(l->d, r->at, "by_gpu", "a rule needs memory_at_least: a size");
			continue;
		}
		if (units_parse(least->value, UNIT_BYTES, least->at, "by_gpu.memory_at_least",
				&need, l->d) != 0 || memory < need)
			continue;
		if (excl != NULL && excl->kind == YNODE_SCALAR && gname != NULL &&
		    gname->kind == YNODE_SCALAR && contains_nocase(gname->value, excl->value))
			continue;
		keys = yamltree_new_map(l->s->arena, r->at);
		for (j = 0; j < r->count; j++)
			if (strcmp(r->members[j].key, "memory_at_least") != 0 &&
			    strcmp(r->members[j].key, "name_excludes") != 0)
				yamltree_map_set(l->s->arena, keys, r->members[j].key,
						 r->members[j].key_at, r->members[j].value);
		return keys;
	}
	return NULL;
}

/* The value of the last --set of key, or NULL. */
static const char *override_of(const struct scenario_options *opt, const char *key)
{
	const char *v = NULL;
	size_t i;
	for (i = 0; opt && i < opt->noverrides; i++)
		if (strcmp(opt->overrides[i].key, key) == 0)
			v = opt->overrides[i].value;
	return v;
}

/* Whether the run trains: workload.mode from --set, else from the file, else the default. */
static bool trains(struct ynode *top, const struct scenario_options *opt)
{
	const char *mode = override_of(opt, "workload.mode");
	struct ynode *parent, *v;
	const char *last;
	if (mode == NULL) {
		v = scenario_lookup(top, "workload.mode", &parent, &last);
		mode = v != NULL && v->kind == YNODE_SCALAR ? v->value : "train";
	}
	return strcmp(mode, "infer") != 0;
}

/*
 * A profile layer: runtime.framework or serving.engine (--set, else the file, else the schema
 * default) names a profile, or is one; each key it sets applies unless the scenario file gives
 * that key. Runs after the presets and before the calibration and the other overrides, which
 * therefore win. The key itself is left as the profile's name, which the walk stores and the
 * canonical form shows. A framework profile applies to training, an engine profile to serving
 * (workload.mode: infer).
 */
static void apply_profile(struct loader *l, const struct profile_kind *k, struct ynode *top,
			  const struct scenario_options *opt)
{
	struct arena *a = l->s->arena;
	const struct schema_row *r = schema_find(k->key, NULL);
	struct ynode *parent = NULL, *v, *profile = NULL, *nm;
	const char *last = NULL, *name;
	struct profile_key *keys = NULL;
	size_t n = 0, i;
	bool given, applies = trains(top, opt) == k->training;
	for (i = 0; opt && i < opt->noverrides; i++)
		if (strcmp(opt->overrides[i].key, k->key) == 0)
			scenario_apply_override(l, top, &opt->overrides[i]);
	v = scenario_lookup(top, k->key, &parent, &last);
	given = v != NULL;
	if (!given) {
		struct mark at = {l->s->file, 1, 1};
		v = yamltree_new_scalar(a, at, r->def);
	}
	if (v->kind == YNODE_MAP) {
		profile = v;
	} else if (!applies) {
		return;
	} else if (v->kind == YNODE_SCALAR) {
		struct diag quiet;
		diag_init(&quiet);
		profile = preset_load(&l->roots, a, k->preset, k->key, v, given ? l->d : &quiet);
		diag_release(&quiet);
		if (profile == NULL && !given)
			/* Nobody named it: say where it was looked for, not that a name is
			 * wrong. */
			diag_add(l->d, v->at, k->key, "the default %s '%s' is not in %s under "
				 "the preset roots (set DSSIM_DATA to the data directory, or give "
				 "%s as a mapping)", k->what, v->value, k->dir, k->key);
		if (profile != NULL && profile->at.file != NULL)
			scenario_add_input(l->s, profile->at.file);
	} else {
		diag_add(l->d, v->at, k->key, "expected %s name, a path or a mapping, got %s",
			 k->noun, yamltree_kind_name(v));
	}
	nm = profile != NULL ? yamltree_get(profile, "name") : NULL;
	name = nm != NULL && nm->kind == YNODE_SCALAR && nm->value[0] ? nm->value
	       : v->kind == YNODE_SCALAR ? v->value : "inline";
	if (profile != NULL && applies) {
		/* The GPU's rule first: of two values for a key the first is applied. */
		void *scratch = arena_alloc(a, sizeof(struct scenario));
		struct ynode *rule = gpu_rule(l, top, profile);
		if (rule != NULL)
			profile_keys(l, k, rule, NULL, scratch, &keys, &n);
		profile_keys(l, k, profile, NULL, scratch, &keys, &n);
	}
	for (i = 0; i < n; i++) {
		struct ynode *p2;
		const char *l2;
		struct diag quiet, *saved = l->d;
		if (scenario_lookup(top, keys[i].key, &p2, &l2) != NULL)
			continue;
		/* A scenario section that is not a mapping (strategy: [..]) is the walk's to
		 * report, once. */
		diag_init(&quiet);
		l->d = &quiet;
		scenario_set_path(l, top, keys[i].key, keys[i].v->at,
				  preset_copy_tree(a, keys[i].v));
		l->d = saved;
		diag_release(&quiet);
	}
	free(keys);
	if (given)
		yamltree_map_set(a, parent, last, yamltree_member(parent, last)->key_at,
				 yamltree_new_scalar(a, v->at, name));
}

void scenario_apply_profiles(struct loader *l, struct ynode *top,
			     const struct scenario_options *opt)
{
	apply_profile(l, &framework_kind, top, opt);
	apply_profile(l, &engine_kind, top, opt);
}

bool scenario_is_profile_key(const char *key)
{
	return strcmp(key, framework_kind.key) == 0 || strcmp(key, engine_kind.key) == 0;
}
