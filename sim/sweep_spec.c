/*
 * sweep_spec: a sweep spec parsed and checked: the base scenario, the axes (any scenario key),
 * `strategy: auto` with its candidate lists, and the `where` filter. The filter is an
 * expression over the point's values, rewritten to SQL (&&, ||, ! to AND, OR, NOT) and
 * evaluated by the store (store_where) with the values bound as parameters. Output stage; the
 * runner (sweep.c) expands and evaluates what this file reads.
 */
#include "sweep_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "calibration.h"
#include "schema.h"
#include "xalloc.h"
#include "yamltree.h"

/* The names a where expression may use, and how each is read from a point. */
enum var_kind { VAR_INT, VAR_TEXT };
struct var {
	const char *name;
	enum var_kind kind;
	const char *doc;
};
static const struct var vars[] = {
	{"tp", VAR_INT, NULL}, {"pp", VAR_INT, NULL}, {"dp", VAR_INT, NULL},
	{"cp", VAR_INT, NULL}, {"ep", VAR_INT, NULL}, {"zero", VAR_INT, NULL},
	{"vp", VAR_INT, NULL}, {"micro_batch", VAR_INT, NULL}, {"global_batch", VAR_INT, NULL},
	{"seq_len", VAR_INT, NULL}, {"gpus", VAR_INT, NULL}, {"nodes", VAR_INT, NULL},
	{"gpus_per_node", VAR_INT, NULL}, {"layers", VAR_INT, NULL}, {"heads", VAR_INT, NULL},
	{"kv_heads", VAR_INT, NULL}, {"hidden", VAR_INT, NULL}, {"experts", VAR_INT, NULL},
	{"recompute", VAR_TEXT, NULL}, {"schedule", VAR_TEXT, NULL}, {"node", VAR_TEXT, NULL},
	{"model", VAR_TEXT, NULL}, {"mode", VAR_TEXT, NULL}, {"dtype", VAR_TEXT, NULL},
};
#define NVARS (sizeof vars / sizeof vars[0])

static int64_t var_int(const struct scenario *s, size_t i)
{
	const struct strategy *g = &s->strategy;
	const int64_t v[] = {g->tp, g->pp, g->dp, g->cp, g->ep, g->zero, g->vp,
			     s->workload.micro_batch, s->workload.global_batch, s->workload.seq_len,
			     s->cluster.gpus, s->cluster.nodes, s->cluster.node.gpus_per_node,
			     s->model.layers, s->model.heads, s->model.kv_heads, s->model.hidden,
			     s->model.moe.experts};
	return i < sizeof v / sizeof v[0] ? v[i] : 0;
}

static const char *var_text(const struct scenario *s, const char *name)
{
	if (strcmp(name, "recompute") == 0)
		return scenario_enum_name("strategy.recompute", s->strategy.recompute);
	if (strcmp(name, "schedule") == 0)
		return scenario_enum_name("strategy.schedule", s->strategy.schedule);
	if (strcmp(name, "node") == 0)
		return s->cluster.node.name;
	if (strcmp(name, "model") == 0)
		return s->model.name;
	if (strcmp(name, "mode") == 0)
		return s->workload.mode == MODE_TRAIN ? "train" : "infer";
	return scenario_dtype_name(s->workload.dtype);
}

/* ---- the where expression ---- */

static bool is_keyword(const char *w, size_t n)
{
	static const char *const kw[] = {"and", "or", "not", "in", "between", "is", "null",
					 "like", "true", "false", "abs", "min", "max", NULL};
	size_t i;
	for (i = 0; kw[i]; i++)
		if (strlen(kw[i]) == n && strncasecmp(w, kw[i], n) == 0)
			return true;
	return false;
}

/* Rewrite the spec's expression to SQL: names to parameters, && || ! to AND OR NOT, "text" to
 * 'text'. NULL with a message on an unknown name or an unterminated string. */
static char *where_to_sql(struct arena *a, const char *e, struct mark at, struct diag *d)
{
	size_t cap = strlen(e) * 2 + 16, n = 0;
	char *out = arena_alloc(a, cap * 2);
	const char *p = e;
#define PUT(str)                                         \
	do {                                             \
		size_t l_ = strlen(str);                 \
		memcpy(out + n, str, l_);                \
		n += l_;                                 \
	} while (0)
	while (*p) {
		if (n + 32 >= cap * 2) {
			diag_add(d, at, "where", "expression too long");
			return NULL;
		}
		if (isalpha((unsigned char)*p) || *p == '_') {
			const char *w = p;
			size_t len, i;
			bool known = false;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			len = (size_t)(p - w);
			for (i = 0; i < NVARS; i++)
				if (strlen(vars[i].name) == len && strncmp(w, vars[i].name, len) == 0)
					known = true;
			if (known) {
				out[n++] = ':';
			} else if (!is_keyword(w, len)) {
				char names[512] = "";
				for (i = 0; i < NVARS; i++)
					snprintf(names + strlen(names), sizeof names - strlen(names),
						 "%s%s", i ? ", " : "", vars[i].name);
				diag_add(d, at, "where", "unknown name '%.*s' (known: %s)",
					 (int)len, w, names);
				return NULL;
			}
			memcpy(out + n, w, len);
			n += len;
		} else if (p[0] == '&' && p[1] == '&') {
			PUT(" AND ");
			p += 2;
		} else if (p[0] == '|' && p[1] == '|') {
			PUT(" OR ");
			p += 2;
		} else if (p[0] == '!' && p[1] != '=') {
			PUT(" NOT ");
			p++;
		} else if (*p == '"' || *p == '\'') {
			char q = *p++;
			out[n++] = '\'';
			while (*p && *p != q) {
				if (*p == '\'')
					out[n++] = '\'';
				out[n++] = *p++;
				if (n + 8 >= cap * 2) {
					diag_add(d, at, "where", "expression too long");
					return NULL;
				}
			}
			if (*p != q) {
				diag_add(d, at, "where", "unterminated string");
				return NULL;
			}
			p++;
			out[n++] = '\'';
		} else if (*p == ';') {
			diag_add(d, at, "where", "';' is not part of an expression");
			return NULL;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
#undef PUT
}

static const char *const *var_names(void)
{
	static const char *names[NVARS];
	size_t i;
	for (i = 0; i < NVARS; i++)
		names[i] = vars[i].name;
	return names;
}

int sweep_where_open(const struct sweep_spec *sp, struct store_where **out, struct diag *d)
{
	*out = NULL;
	if (sp->where == NULL)
		return 0;
	*out = store_where_new(sp->where, var_names(), NVARS, sp->where_at, "where", d);
	return *out ? 0 : -1;
}

bool sweep_where_passes(struct store_where *w, const struct scenario *s)
{
	struct store_value v[NVARS];
	size_t i;
	if (w == NULL)
		return true;
	for (i = 0; i < NVARS; i++) {
		memset(&v[i], 0, sizeof v[i]);
		if (!store_where_uses(w, i))
			continue;
		if (vars[i].kind == VAR_INT)
			v[i] = store_int(var_int(s, i));
		else
			v[i] = store_text(var_text(s, vars[i].name));
	}
	return store_where_passes(w, v);
}

/* ---- the spec ---- */

/* Append a value. The array doubles when full, so an axis of n values takes O(n) of the arena
 * (growing it by one each time took O(n^2): 2.3 GB for a range of 20,000). */
static void add_value(struct arena *a, struct axis *ax, const char *v)
{
	if (ax->n == ax->cap) {
		size_t cap = ax->cap ? 2 * ax->cap : 16;
		const char **grown = arena_array(a, cap, sizeof *grown);
		if (ax->n)
			memcpy(grown, ax->values, ax->n * sizeof *grown);
		ax->values = grown;
		ax->cap = cap;
	}
	ax->values[ax->n++] = arena_strdup(a, v);
}

/* An integer of the spec, with a message at its mark otherwise. */
static bool spec_int(const struct ynode *n, const char *key, int64_t *out, struct diag *d)
{
	char *end;
	long long v;
	if (n == NULL || n->kind != YNODE_SCALAR) {
		diag_add(d, n ? n->at : (struct mark){NULL, 0, 0}, key, "expected an integer");
		return false;
	}
	v = strtoll(n->value, &end, 10);
	if (end == n->value || *end != '\0' || v < -(1LL << 40) || v > (1LL << 40)) {
		diag_add(d, n->at, key, "expected an integer, got '%s'", n->value);
		return false;
	}
	*out = v;
	return true;
}

/* Too many values in one axis is a mistake, not a sweep. */
enum { AXIS_MAX = 100000 };

static void parse_axis(struct sweep_spec *sp, const struct ymember *m, struct diag *d)
{
	struct axis *ax = &sp->axes[sp->naxes];
	const struct ynode *v = m->value;
	const struct schema_row *row = schema_find(m->key, NULL);
	size_t i;
	memset(ax, 0, sizeof *ax);
	ax->key = m->key;
	ax->at = m->key_at;
	if (row == NULL || (row->type == SCHEMA_SECTION && row->preset == PRESET_NONE) ||
	    strcmp(m->key, "name") == 0) {
		diag_add(d, m->key_at, m->key,
			 "not a scenario key an axis can vary (see dssim --help-keys)");
		return;
	}
	if (v->kind == YNODE_MAP && yamltree_get(v, "values") != NULL && v->count == 1)
		v = yamltree_get(v, "values");
	if (v->kind == YNODE_SEQ) {
		for (i = 0; i < v->count; i++) {
			if (v->items[i]->kind != YNODE_SCALAR) {
				diag_add(d, v->items[i]->at, m->key, "expected a scalar value, got %s",
					 yamltree_kind_name(v->items[i]));
				return;
			}
			add_value(sp->a, ax, v->items[i]->value);
		}
	} else if (v->kind == YNODE_MAP && (yamltree_get(v, "range") || yamltree_get(v, "log2"))) {
		const struct ynode *r = yamltree_get(v, "range");
		bool log2 = r == NULL;
		int64_t lo, hi, step = 1, x;
		if (log2)
			r = yamltree_get(v, "log2");
		for (i = 0; i < v->count; i++)
			if (strcmp(v->members[i].key, log2 ? "log2" : "range") != 0 &&
			    (log2 || strcmp(v->members[i].key, "step") != 0)) {
				diag_add(d, v->members[i].key_at, m->key,
					 "unknown key '%s' (expected %s)", v->members[i].key,
					 log2 ? "log2: [lo, hi]" : "range: [lo, hi] and step");
				return;
			}
		if (r->kind != YNODE_SEQ || r->count != 2) {
			diag_add(d, r->at, m->key, "expected [lo, hi]");
			return;
		}
		if (!spec_int(r->items[0], m->key, &lo, d) || !spec_int(r->items[1], m->key, &hi, d))
			return;
		if (!log2 && yamltree_get(v, "step") &&
		    !spec_int(yamltree_get(v, "step"), m->key, &step, d))
			return;
		if (step <= 0 || lo > hi || (log2 && lo <= 0)) {
			diag_add(d, r->at, m->key, "expected lo <= hi%s", log2 ? ", lo > 0" :
				 " and step > 0");
			return;
		}
		if (!log2 && (hi - lo) / step >= AXIS_MAX) {
			diag_add(d, r->at, m->key, "more than %d values", AXIS_MAX);
			return;
		}
		for (x = lo; x <= hi; x = log2 ? x * 2 : x + step) {
			char buf[32];
			snprintf(buf, sizeof buf, "%lld", (long long)x);
			add_value(sp->a, ax, buf);
		}
	} else if (v->kind == YNODE_SCALAR) {
		add_value(sp->a, ax, v->value);
	} else {
		diag_add(d, v->at, m->key,
			 "expected a list of values, {values: [...]}, {range: [lo, hi], step: s} or "
			 "{log2: [lo, hi]}");
		return;
	}
	if (ax->n == 0) {
		diag_add(d, v->at, m->key, "an axis needs at least one value");
		return;
	}
	sp->naxes++;
}

/* A candidate list of strategy: auto: values of the scenario key it bounds, within that key's
 * range (an integer) or among its names (an enum). */
static void parse_cands(const struct ymember *m, struct cands *c, const char *key,
			struct diag *d)
{
	const struct ynode *v = m->value;
	const struct schema_row *row = schema_find(key, NULL);
	size_t i;
	if (v->kind != YNODE_SEQ || v->count == 0 || v->count > CAND_MAX) {
		diag_add(d, v->at, m->key, "expected a list of 1 to %d candidates", CAND_MAX);
		return;
	}
	c->n = 0;
	for (i = 0; i < v->count; i++) {
		const struct ynode *x = v->items[i];
		if (row->type == SCHEMA_ENUM) {
			int k;
			bool found = false;
			for (k = 0; x->kind == YNODE_SCALAR && row->names[k]; k++)
				if (strcmp(row->names[k], x->value) == 0) {
					c->v[c->n++] = k;
					found = true;
					break;
				}
			if (!found) {
				diag_add(d, x->at, m->key, "expected a value of %s", key);
				return;
			}
		} else {
			int64_t n;
			if (!spec_int(x, m->key, &n, d))
				return;
			if ((double)n < row->min || (double)n > row->max || n > (1 << 20)) {
				diag_add(d, x->at, m->key, "expected %.0f to %.0f (the range of %s), "
					 "got %lld", row->min, row->max < (1 << 20) ? row->max : 1 << 20,
					 key, (long long)n);
				return;
			}
			c->v[c->n++] = n;
		}
	}
}

static void set_cands(struct cands *c, const int64_t *v, int n)
{
	int i;
	for (i = 0; i < n; i++)
		c->v[i] = v[i];
	c->n = n;
}

/*
 * The default candidates of strategy: auto. Powers of two for tp (within a node: Megatron-LM
 * keeps tensor parallelism on NVLink, Narayanan et al. SC'21 section 3.3), any pp up to 64, cp 1
 * (context parallelism is for sequences beyond what recompute handles; add it as a bound), ep
 * of powers of two for MoE models, every ZeRO stage, micro-batches 1-8, every recompute mode,
 * 1F1B, interleaved with two virtual stages, ZB-H1, ZB-V and DualPipe (where pp > 1 and the
 * shape allows), optimizer and parameter offload to host memory
 * or none (ZeRO-Offload, Ren et al. 2021; ZeRO-Infinity, Rajbhandari et al. 2021). Activation
 * offload only when asked (offload.activations: [none, cpu]): not every framework has it.
 */
static void default_cands(struct sweep_spec *sp)
{
	static const int64_t pow2[] = {1, 2, 4, 8, 16, 32, 64};
	static const int64_t one[] = {1};
	static const int64_t zero[] = {0, 1, 2, 3};
	static const int64_t mb[] = {1, 2, 4, 8};
	static const int64_t rc[] = {RECOMPUTE_NONE, RECOMPUTE_SELECTIVE, RECOMPUTE_FULL};
	static const int64_t sched[] = {SCHEDULE_1F1B, SCHEDULE_INTERLEAVED, SCHEDULE_ZB_H1,
					SCHEDULE_ZB_V, SCHEDULE_DUALPIPE};
	static const int64_t vp[] = {2};
	static const int64_t off[] = {OFFLOAD_NONE, OFFLOAD_CPU};
	int64_t i;
	set_cands(&sp->tp, pow2, 4);
	sp->pp.n = 0;
	for (i = 1; i <= 64 && sp->pp.n < CAND_MAX; i++)
		sp->pp.v[sp->pp.n++] = i;
	set_cands(&sp->cp, one, 1);
	set_cands(&sp->ep, pow2, 7);
	set_cands(&sp->zero, zero, 4);
	set_cands(&sp->micro_batch, mb, 4);
	set_cands(&sp->recompute, rc, 3);
	set_cands(&sp->schedule, sched, 5);
	set_cands(&sp->vp, vp, 1);
	set_cands(&sp->offload_optimizer, off, 2);
	set_cands(&sp->offload_params, off, 2);
	set_cands(&sp->offload_activations, off, 1);
}

static void parse_strategy(struct sweep_spec *sp, const struct ymember *m, struct diag *d)
{
	const struct ynode *v = m->value;
	size_t i;
	static const struct {
		const char *key;
		size_t off;
		const char *schema_key;
	} lists[] = {
		{"tp", offsetof(struct sweep_spec, tp), "strategy.tp"},
		{"pp", offsetof(struct sweep_spec, pp), "strategy.pp"},
		{"cp", offsetof(struct sweep_spec, cp), "strategy.cp"},
		{"ep", offsetof(struct sweep_spec, ep), "strategy.ep"},
		{"zero", offsetof(struct sweep_spec, zero), "strategy.zero"},
		{"micro_batch", offsetof(struct sweep_spec, micro_batch), "workload.micro_batch"},
		{"vp", offsetof(struct sweep_spec, vp), "strategy.vp"},
		{"recompute", offsetof(struct sweep_spec, recompute), "strategy.recompute"},
		{"schedule", offsetof(struct sweep_spec, schedule), "strategy.schedule"},
		{"offload.optimizer", offsetof(struct sweep_spec, offload_optimizer),
		 "strategy.offload.optimizer"},
		{"offload.params", offsetof(struct sweep_spec, offload_params),
		 "strategy.offload.params"},
		{"offload.activations", offsetof(struct sweep_spec, offload_activations),
		 "strategy.offload.activations"},
	};
	if (v->kind == YNODE_SCALAR && strcmp(v->value, "auto") == 0) {
		sp->auto_strategy = true;
		return;
	}
	if (v->kind != YNODE_MAP || yamltree_get(v, "auto") == NULL) {
		diag_add(d, v->at, "strategy",
			 "an axis over the whole strategy is 'auto' or {auto: true, tp: [...], ...}; "
			 "to vary one key, name it (strategy.tp)");
		return;
	}
	sp->auto_strategy = true;
	for (i = 0; i < v->count; i++) {
		const struct ymember *b = &v->members[i];
		size_t k;
		bool found = false;
		if (strcmp(b->key, "auto") == 0) {
			if (b->value->kind != YNODE_SCALAR || strcmp(b->value->value, "true") != 0)
				diag_add(d, b->value->at, "strategy.auto", "expected true");
			continue;
		}
		for (k = 0; k < sizeof lists / sizeof lists[0]; k++)
			if (strcmp(b->key, lists[k].key) == 0) {
				parse_cands(b, (struct cands *)((char *)sp + lists[k].off),
					    lists[k].schema_key, d);
				found = true;
			}
		if (!found)
			diag_add(d, b->key_at, b->key,
				 "unknown strategy bound (expected auto, tp, pp, cp, ep, zero, "
				 "micro_batch, vp, recompute, schedule, offload.optimizer, "
				 "offload.params, offload.activations)");
	}
}

static struct sweep_spec *parse(const char *name, struct ynode *top, char *text,
				const char *data_dir, struct diag *d)
{
	struct sweep_spec *sp = NULL;
	struct arena *a = NULL;
	size_t before = d->count, i;
	const struct ynode *base, *axes, *where;
	(void)a;
	if (top->kind != YNODE_MAP) {
		diag_add(d, top->at, NULL, "a sweep spec must be a mapping (base, axes, where)");
		return NULL;
	}
	sp = xcalloc(1, sizeof *sp);
	sp->a = arena_new();
	sp->text = text;
	sp->file = arena_strdup(sp->a, name);
	sp->data_dir = data_dir ? arena_strdup(sp->a, data_dir) : NULL;
	default_cands(sp);
	for (i = 0; i < top->count; i++) {
		const char *k = top->members[i].key;
		if (strcmp(k, "base") != 0 && strcmp(k, "axes") != 0 && strcmp(k, "where") != 0 &&
		    strcmp(k, "name") != 0)
			diag_add(d, top->members[i].key_at, k,
				 "unknown key (a sweep spec has base, axes, where, name)");
	}
	base = yamltree_get(top, "base");
	if (base == NULL) {
		diag_add(d, top->at, "base", "missing required key: the scenario to vary");
	} else if (base->kind == YNODE_SCALAR) {
		/* A file relative to the spec's directory. */
		const char *slash = strrchr(name, '/');
		const char *path = base->value[0] == '/' || slash == NULL
					   ? base->value
					   : arena_printf(sp->a, "%.*s/%s", (int)(slash - name), name,
							  base->value);
		sp->base_file = arena_strdup(sp->a, path);
		sp->base = yamltree_load(sp->a, path, d);
		if (sp->base == NULL)
			diag_add(d, base->at, "base", "the base scenario did not load");
	} else if (base->kind == YNODE_MAP) {
		sp->base = base;
		sp->base_file = sp->file;
	} else {
		diag_add(d, base->at, "base", "expected a scenario file or a scenario mapping");
	}
	axes = yamltree_get(top, "axes");
	if (axes != NULL && axes->kind != YNODE_MAP) {
		diag_add(d, axes->at, "axes", "expected a mapping of scenario keys to values");
	} else if (axes != NULL) {
		sp->axes = arena_array(sp->a, axes->count + 1, sizeof *sp->axes);
		for (i = 0; i < axes->count; i++) {
			if (strcmp(axes->members[i].key, "strategy") == 0)
				parse_strategy(sp, &axes->members[i], d);
			else
				parse_axis(sp, &axes->members[i], d);
		}
	}
	where = yamltree_get(top, "where");
	if (where != NULL && yamltree_is_null(where)) {
		/* SQL's null is false for every point: a sweep of nothing. */
		diag_add(d, where->at, "where", "empty: remove the key to keep every point");
	} else if (where != NULL && where->kind != YNODE_SCALAR) {
		diag_add(d, where->at, "where", "expected an expression, e.g. \"tp <= 8\"");
	} else if (where != NULL) {
		struct store_where *w;
		sp->where_at = where->at;
		/* Either step records why it refuses the expression. */
		sp->where = where_to_sql(sp->a, where->value, where->at, d);
		if (sp->where != NULL && sweep_where_open(sp, &w, d) != 0)
			sp->where = NULL;
		else if (sp->where != NULL)
			store_where_free(w);
	}
	if (d->count > before) {
		sp->text = NULL;
		sweep_spec_free(sp);
		return NULL;
	}
	return sp;
}

struct sweep_spec *sweep_spec_parse(const char *name, const char *text, size_t len,
				    const char *data_dir, struct diag *d)
{
	struct arena *a = arena_new();
	struct ynode *top = yamltree_parse(a, name, text, len, d);
	struct sweep_spec *sp = NULL;
	char *copy;
	if (top == NULL) {
		arena_free(a);
		return NULL;
	}
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	sp = parse(name, top, copy, data_dir, d);
	if (sp == NULL) {
		free(copy);
		arena_free(a);
		return NULL;
	}
	sp->tree = a; /* an inline base lives in the parse tree */
	return sp;
}

struct sweep_spec *sweep_spec_load(const char *path, const char *data_dir, struct diag *d)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	struct sweep_spec *sp;
	struct mark top = {path, 0, 0};
	if (f == NULL) {
		diag_add(d, top, NULL, "cannot read: %s", strerror(errno));
		return NULL;
	}
	buf = xmalloc(SPEC_MAX + 1);
	n = fread(buf, 1, SPEC_MAX + 1, f);
	if (ferror(f) || n > SPEC_MAX) {
		diag_add(d, top, NULL, ferror(f) ? "cannot read: %s" : "larger than %s",
			 ferror(f) ? strerror(errno) : "1 MiB");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	sp = sweep_spec_parse(path, buf, n, data_dir, d);
	free(buf);
	return sp;
}

void sweep_spec_free(struct sweep_spec *sp)
{
	if (sp == NULL)
		return;
	free(sp->text);
	arena_free(sp->tree);
	arena_free(sp->a);
	free(sp);
}

size_t sweep_spec_groups(const struct sweep_spec *sp)
{
	size_t total = 1, k;
	for (k = 0; k < sp->naxes; k++) {
		if (total > SIZE_MAX / (sp->axes[k].n + 1))
			return SIZE_MAX;
		total *= sp->axes[k].n;
	}
	return total;
}

const char *sweep_spec_text(const struct sweep_spec *sp)
{
	return sp->text;
}

size_t sweep_spec_bytes(const struct sweep_spec *sp)
{
	return arena_bytes(sp->a) + (sp->tree ? arena_bytes(sp->tree) : 0);
}

bool sweep_spec_searches_strategy(const struct sweep_spec *sp)
{
	return sp->auto_strategy;
}

/* The base with one override (or none), checked for far-off hardware values into all. */
static void check_values(const struct sweep_spec *sp, const struct scenario_override *o,
			 struct diag *all)
{
	struct scenario_options opt;
	struct scenario *s;
	struct diag quiet;
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = o != NULL;
	opt.data_dir = sp->data_dir;
	opt.defer_strategy = true;
	diag_init(&quiet);
	s = scenario_load_tree(sp->base, sp->base_file, &opt, &quiet);
	if (s != NULL)
		scenario_implausible(s, all);
	scenario_free(s);
	diag_release(&quiet);
}

size_t sweep_spec_warnings(const struct sweep_spec *sp, struct diag *w)
{
	struct diag all;
	size_t k, i, j, before = w->count;
	diag_init(&all);
	if (sp->base != NULL)
		check_values(sp, NULL, &all);
	for (k = 0; k < sp->naxes && sp->base != NULL; k++) {
		const struct axis *ax = &sp->axes[k];
		if (strncmp(ax->key, "cluster.", 8) != 0)
			continue;
		for (i = 0; i < ax->n; i++) {
			struct scenario_override o = {ax->key, ax->values[i]};
			check_values(sp, &o, &all);
		}
	}
	/* Once per key: the first value found far off stands for the rest, at its axis when an
	 * axis gave it. */
	for (i = 0; i < all.count; i++) {
		struct mark at = all.items[i].at;
		bool seen = false;
		for (j = before; j < w->count && !seen; j++)
			seen = strcmp(w->items[j].key, all.items[i].key) == 0;
		for (k = 0; k < sp->naxes; k++)
			if (strcmp(sp->axes[k].key, all.items[i].key) == 0)
				at = sp->axes[k].at;
		if (!seen)
			diag_add(w, at, all.items[i].key, "%s", all.items[i].message);
	}
	diag_release(&all);
	return w->count - before;
}

int sweep_spec_check_uncertainty(const struct sweep_spec *sp, struct diag *d)
{
	struct scenario_options opt;
	struct scenario_override *o = xcalloc(sp->naxes + 1, sizeof *o);
	struct mark at = {sp->file, 0, 0};
	struct scenario *s = NULL;
	struct diag quiet;
	size_t k;
	int status = 0;
	for (k = 0; k < sp->naxes; k++) {
		o[k].key = sp->axes[k].key;
		o[k].value = sp->axes[k].values[0];
	}
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = sp->naxes;
	opt.data_dir = sp->data_dir;
	opt.defer_strategy = true;
	diag_init(&quiet);
	if (sp->base != NULL)
		s = scenario_load_tree(sp->base, sp->base_file, &opt, &quiet);
	if (s != NULL && (s->calibration == NULL || s->calibration->cov == NULL)) {
		diag_add(d, at, "--uncertainty", s->calibration == NULL ? "needs a calibration "
			 "(calibration: FILE in the base scenario)" : "the calibration %s has no "
			 "covariance", s->calibration ? s->calibration->file : "");
		status = -1;
	}
	scenario_free(s);
	diag_release(&quiet);
	free(o);
	return status;
}
