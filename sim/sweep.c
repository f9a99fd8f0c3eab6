/*
 * sweep: spec → points → records.
 *
 * A point is a group (the base scenario with one combination of the axes' values, loaded once)
 * and a strategy. With `strategy: auto` the strategies are every valid combination of the
 * candidate lists (tp, pp, cp, ep, zero, micro_batch, recompute, schedule, vp); validity is
 * the loader's own check (scenario_check_strategy), so a sweep never runs what `dssim FILE`
 * would refuse. The `where` filter is SQL evaluated by SQLite with the point's values bound as
 * parameters: the C-style operators of the spec (&&, ||, !) are rewritten to SQL's.
 */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "canonical.h"
#include "engine.h"
#include "json.h"
#include "memtrack.h"
#include "memory.h"
#include "requests.h"
#include "result.h"
#include "schema.h"
#include "serve.h"
#include "step.h"
#include "xalloc.h"
#include "yamltree.h"

enum { CAND_MAX = 64 };
/* A spec is a page of YAML; a megabyte is a mistake. */
enum { SPEC_MAX = 1 << 20 };

struct cands {
	int64_t v[CAND_MAX];
	int n;
};

struct axis {
	const char *key;
	struct mark at;
	const char **values;
	size_t n;
};

struct sweep_spec {
	struct arena *a;
	struct arena *tree;           /* the parsed spec (an inline base points into it) */
	char *text;
	const char *file;
	const char *data_dir;
	const struct ynode *base;     /* the base scenario's tree */
	const char *base_file;        /* where relative presets resolve */
	struct axis *axes;
	size_t naxes;
	bool auto_strategy;
	struct cands tp, pp, cp, ep, zero, micro_batch, vp, recompute, schedule;
	char *where;                  /* as SQL, NULL without a filter */
	struct mark where_at;
};

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
static char *where_to_sql(struct arena *a, const char *e, char *err, size_t errsize)
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
			snprintf(err, errsize, "expression too long");
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
				snprintf(err, errsize, "unknown name '%.*s' (known: %s)", (int)len, w,
					 names);
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
					snprintf(err, errsize, "expression too long");
					return NULL;
				}
			}
			if (*p != q) {
				snprintf(err, errsize, "unterminated string");
				return NULL;
			}
			p++;
			out[n++] = '\'';
		} else if (*p == ';') {
			snprintf(err, errsize, "';' is not part of an expression");
			return NULL;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
#undef PUT
}

struct where {
	sqlite3 *db;
	sqlite3_stmt *q;
	int idx[NVARS];
};

static int where_open(struct where *w, const char *sql, char *err, size_t errsize)
{
	char *full;
	size_t i;
	memset(w, 0, sizeof *w);
	if (sql == NULL)
		return 0;
	if (sqlite3_open_v2(":memory:", &w->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "cannot open SQLite");
		sqlite3_close(w->db);
		w->db = NULL;
		return -1;
	}
	full = sqlite3_mprintf("SELECT (%s)", sql);
	if (full == NULL || sqlite3_prepare_v2(w->db, full, -1, &w->q, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "%s", full ? sqlite3_errmsg(w->db) : "out of memory");
		sqlite3_free(full);
		sqlite3_close(w->db);
		w->db = NULL;
		return -1;
	}
	sqlite3_free(full);
	for (i = 0; i < NVARS; i++) {
		char name[64];
		snprintf(name, sizeof name, ":%s", vars[i].name);
		w->idx[i] = sqlite3_bind_parameter_index(w->q, name);
	}
	return 0;
}

static void where_close(struct where *w)
{
	sqlite3_finalize(w->q);
	sqlite3_close(w->db);
	memset(w, 0, sizeof *w);
}

/* Whether the point passes: a true (nonzero) value. */
static bool where_passes(struct where *w, const struct scenario *s)
{
	size_t i;
	bool pass;
	if (w->q == NULL)
		return true;
	for (i = 0; i < NVARS; i++) {
		if (w->idx[i] == 0)
			continue;
		if (vars[i].kind == VAR_INT)
			sqlite3_bind_int64(w->q, w->idx[i], var_int(s, i));
		else
			sqlite3_bind_text(w->q, w->idx[i], var_text(s, vars[i].name), -1,
					  SQLITE_TRANSIENT);
	}
	pass = sqlite3_step(w->q) == SQLITE_ROW && sqlite3_column_type(w->q, 0) != SQLITE_NULL &&
	       sqlite3_column_double(w->q, 0) != 0;
	sqlite3_reset(w->q);
	return pass;
}

/* ---- the spec ---- */

static void add_value(struct arena *a, struct axis *ax, const char *v)
{
	const char **grown = arena_array(a, ax->n + 1, sizeof *grown);
	if (ax->n)
		memcpy(grown, ax->values, ax->n * sizeof *grown);
	grown[ax->n++] = arena_strdup(a, v);
	ax->values = grown;
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
 * 1F1B and interleaved with two virtual stages.
 */
static void default_cands(struct sweep_spec *sp)
{
	static const int64_t pow2[] = {1, 2, 4, 8, 16, 32, 64};
	static const int64_t one[] = {1};
	static const int64_t zero[] = {0, 1, 2, 3};
	static const int64_t mb[] = {1, 2, 4, 8};
	static const int64_t rc[] = {RECOMPUTE_NONE, RECOMPUTE_SELECTIVE, RECOMPUTE_FULL};
	static const int64_t sched[] = {SCHEDULE_1F1B, SCHEDULE_INTERLEAVED};
	static const int64_t vp[] = {2};
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
	set_cands(&sp->schedule, sched, 2);
	set_cands(&sp->vp, vp, 1);
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
				 "micro_batch, vp, recompute, schedule)");
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
	if (where != NULL && where->kind != YNODE_SCALAR) {
		diag_add(d, where->at, "where", "expected an expression, e.g. \"tp <= 8\"");
	} else if (where != NULL) {
		char err[768];
		struct where w;
		sp->where_at = where->at;
		sp->where = where_to_sql(sp->a, where->value, err, sizeof err);
		if (sp->where == NULL) {
			diag_add(d, where->at, "where", "%s", err);
		} else if (where_open(&w, sp->where, err, sizeof err) != 0) {
			diag_add(d, where->at, "where", "not an expression: %s", err);
			sp->where = NULL;
		} else {
			where_close(&w);
		}
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

/* ---- evaluation ---- */

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void fill_keys(const struct scenario *s, struct store_point *p)
{
	const struct strategy *g = &s->strategy;
	copy_text(p->mode, sizeof p->mode, s->workload.mode == MODE_TRAIN ? "train" : "infer");
	copy_text(p->model, sizeof p->model, s->model.name);
	copy_text(p->node, sizeof p->node, s->cluster.node.name);
	copy_text(p->recompute, sizeof p->recompute,
		  scenario_enum_name("strategy.recompute", g->recompute));
	copy_text(p->schedule, sizeof p->schedule,
		  scenario_enum_name("strategy.schedule", g->schedule));
	copy_text(p->dtype, sizeof p->dtype, scenario_dtype_name(s->workload.dtype));
	copy_text(p->price_date, sizeof p->price_date, s->cluster.node.price_date);
	if (s->workload.mode == MODE_INFER)
		p->arrival_rate = s->workload.arrival.rate;
	p->nodes = s->cluster.nodes;
	p->gpus = s->cluster.gpus;
	p->tp = g->tp;
	p->pp = g->pp;
	p->dp = g->dp;
	p->cp = g->cp;
	p->ep = g->ep;
	p->zero = g->zero;
	p->vp = g->vp;
	p->micro_batch = s->workload.micro_batch;
	p->global_batch = s->workload.global_batch;
	p->seq_len = s->workload.seq_len;
}

static double gib(double bytes)
{
	return bytes / (1024.0 * 1024.0 * 1024.0);
}

/* Price of the nodes used: instances are rented whole. */
static void fill_cost(const struct scenario *s, struct store_point *p)
{
	p->usd_per_hour = s->cluster.node.price * (double)s->cluster.nodes;
	if (p->usd_per_hour > 0 && p->tokens_per_s > 0)
		p->usd_per_million_tokens = p->usd_per_hour / 3600.0 / p->tokens_per_s * 1e6;
}

/* The most loaded GPU's memory over the step in STORE_TIMELINE intervals: each interval keeps
 * its largest allocation, so the chart shows the peak wherever it falls. */
static void keep_timeline(const struct engine *e, size_t device, double step_s,
			  struct store_point *p)
{
	size_t n, i;
	const struct memtrack_sample *m = memtrack_samples(engine_memory(e), device, &n);
	int k = -1;
	p->ntimeline = 0;
	if (m == NULL || n == 0 || !(step_s > 0))
		return;
	for (i = 0; i < n; i++) {
		int b = (int)(m[i].time / step_s * STORE_TIMELINE);
		if (b >= STORE_TIMELINE)
			b = STORE_TIMELINE - 1;
		if (b < 0)
			b = 0;
		if (b != k) {
			k = b;
			p->timeline_t[p->ntimeline] = m[i].time;
			p->timeline_bytes[p->ntimeline] = m[i].bytes;
			p->ntimeline++;
		} else if (m[i].bytes > p->timeline_bytes[p->ntimeline - 1]) {
			p->timeline_bytes[p->ntimeline - 1] = m[i].bytes;
		}
	}
}

static void simulate_train(const struct scenario *s, struct store_point *p)
{
	struct step_plan plan;
	struct engine *e;
	struct result r;
	int k;
	if (step_build(s, &plan, p->reason, sizeof p->reason) != 0) {
		p->status = STORE_ERROR;
		return;
	}
	e = engine_new(plan.graph);
	engine_record_timeline(e, true);
	if (engine_run(e) != 0) {
		copy_text(p->reason, sizeof p->reason, "the step did not complete");
		p->status = STORE_ERROR;
	} else {
		result_build(s, &plan, e, &r);
		p->status = STORE_SIMULATED;
		p->step_s = r.step_s;
		p->tokens_per_s = r.tokens_per_s;
		p->tflops_per_gpu = r.tflops_per_gpu;
		p->mfu = r.mfu;
		p->hfu = r.hfu;
		p->peak_per_gpu = r.peak_per_gpu;
		for (k = 0; k < STEP_CATEGORIES; k++)
			p->time[k] = r.exposed[k];
		keep_timeline(e, (size_t)r.peak_stage, r.step_s, p);
		p->time[STEP_CATEGORIES] = r.bubble;
		if (r.oom) {
			p->fits = false;
			snprintf(p->reason, sizeof p->reason,
				 "out of memory in the simulation: peak %.1f GiB of %.1f GiB",
				 gib(r.peak_per_gpu), gib(p->capacity));
		}
	}
	engine_free(e);
	step_plan_release(&plan);
}

static void simulate_serving(const struct scenario *s, struct store_point *p)
{
	struct memory_report m;
	struct request_stream rs;
	struct serve_result r;
	struct diag d;
	diag_init(&d);
	memset(&r, 0, sizeof r);
	if (memory_build(s, &m) != 0) {
		copy_text(p->reason, sizeof p->reason, m.advice);
		p->status = STORE_ERROR;
	} else if (requests_build(s, &rs, &d) != 0) {
		if (d.count > 0)
			diag_format(&d.items[0], p->reason, sizeof p->reason);
		p->status = STORE_ERROR;
	} else {
		if (serve_run(s, &m, &rs, NULL, &r, p->reason, sizeof p->reason) != 0) {
			p->status = STORE_ERROR;
		} else {
			p->status = STORE_SIMULATED;
			p->requests_per_s = r.requests_per_s;
			p->output_tokens_per_s = r.output_tokens_per_s;
			p->tokens_per_s = r.output_tokens_per_s;
			p->ttft_p50 = r.ttft.p50;
			p->ttft_p99 = r.ttft.p99;
			p->tpot_p50 = r.tpot.p50;
			p->tpot_p99 = r.tpot.p99;
			p->latency_p99 = r.latency.p99;
			p->peak_per_gpu = p->analytic_peak;
		}
		requests_release(&rs);
	}
	serve_result_release(&r);
	memory_report_release(&m);
	diag_release(&d);
}

/* Evaluate with the canonical config (owned by p after) and hash already made. */
static void evaluate(const struct scenario *s, bool analytic, char *config, size_t shared_len,
		     const char *hash, struct store_point *p)
{
	struct memory_screen m;
	memset(p, 0, sizeof *p);
	fill_keys(s, p);
	p->config = config;
	p->shared_len = (uint32_t)shared_len;
	memcpy(p->hash, hash, sizeof p->hash);
	memory_screen(s, &m);
	p->analytic_peak = p->peak_per_gpu = m.peak;
	p->capacity = m.capacity;
	p->host_per_node = m.host_per_node;
	p->host_capacity = m.host_capacity;
	memcpy(p->mem, m.part, sizeof p->mem);
	p->fits = m.fits && m.host_fits;
	p->status = STORE_NO_FIT;
	if (!m.fits) {
		snprintf(p->reason, sizeof p->reason, "device memory: needs %.1f GiB per GPU, has %.1f",
			 gib(m.peak), gib(m.capacity));
	} else if (!m.host_fits) {
		snprintf(p->reason, sizeof p->reason,
			 "host memory: needs %.0f GiB per node, has %.0f", gib(m.host_per_node),
			 gib(m.host_capacity));
	} else if (analytic) {
		p->status = STORE_SCREENED;
	} else if (s->workload.mode == MODE_TRAIN) {
		simulate_train(s, p);
	} else {
		simulate_serving(s, p);
	}
	fill_cost(s, p);
	if (p->status == STORE_ERROR)
		p->fits = false;
}

void sweep_evaluate(const struct scenario *s, bool analytic, struct store_point *out)
{
	char *rest = canonical_format_part(s, false), *own = canonical_format_part(s, true);
	char *config = canonical_join(rest, own), hash[17];
	size_t shared = strlen(rest);
	store_hash(config, hash);
	free(rest);
	free(own);
	evaluate(s, analytic, config, shared, hash, out);
}

/* ---- expansion ---- */

struct group {
	struct scenario *s;        /* NULL when it did not load */
	/* error set: the group is one error point (it did not load, or no strategy is valid;
	 * then s stays, to name the model and the node of the point) */
	char *rest;                /* its canonical form but the strategy keys */
	uint64_t hash;             /* FNV state after the version, "{", rest and "," */
	char *error;               /* then: why, and the overrides as config */
	char *config;
};

struct point {
	uint32_t group;
	struct strategy st;
	int64_t micro_batch, global_batch;
};

struct expansion {
	struct group *groups;
	size_t ngroups;
	struct point *points;
	size_t npoints, cap;
};

static void add_point(struct expansion *x, uint32_t g, const struct scenario *s)
{
	if (x->npoints == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 1024;
		x->points = xreallocarray(x->points, x->cap, sizeof *x->points);
	}
	x->points[x->npoints].group = g;
	x->points[x->npoints].st = s->strategy;
	x->points[x->npoints].micro_batch = s->workload.micro_batch;
	x->points[x->npoints].global_batch = s->workload.global_batch;
	x->npoints++;
}

/* A candidate strategy on a copy of the group's scenario: checked as loading checks it. */
static bool try_candidate(struct scenario *c, const struct scenario *base, struct where *w)
{
	struct diag d;
	bool ok;
	c->workload.global_batch = base->workload.global_batch;
	c->strategy.dp = 0;
	diag_init(&d);
	ok = scenario_check_strategy(c, &d) == 0;
	diag_release(&d);
	/* Megatron-LM runs the interleaved schedule only when the micro-batches per step are a
	 * multiple of pp (core/pipeline_parallel/schedules.py, "number of microbatches must be
	 * divisible by pipeline-model-parallel-size when using interleaved schedule"); step_build
	 * refuses the rest, so they are not strategies to try. */
	if (ok && c->workload.mode == MODE_TRAIN && c->strategy.schedule == SCHEDULE_INTERLEAVED &&
	    (c->workload.global_batch / (c->strategy.dp * c->workload.micro_batch)) %
			    c->strategy.pp != 0)
		ok = false;
	return ok && where_passes(w, c);
}

/*
 * Every valid strategy of a group. ZeRO-2 and -3 are left out with pipeline parallelism, as
 * DeepSpeed refuses them (runtime/pipe/engine.py: "ZeRO-2 and ZeRO-3 are incompatible with
 * pipeline parallelism"); sequence parallelism goes with tensor parallelism (Korthikanti et
 * al. 2022, section 4.2.2); interleaving needs pp > 1.
 */
static void enumerate(const struct sweep_spec *sp, struct expansion *x, uint32_t g,
		      struct where *w)
{
	const struct scenario *s = x->groups[g].s;
	struct scenario c = *s;
	int a, b, e, z, m, r, h, v, k;
	bool moe = model_is_moe(&s->model), train = s->workload.mode == MODE_TRAIN;
	for (a = 0; a < sp->tp.n; a++)
	for (b = 0; b < sp->pp.n; b++)
	for (k = 0; k < sp->cp.n; k++) {
		int64_t mp = sp->tp.v[a] * sp->pp.v[b] * sp->cp.v[k];
		if (mp > s->cluster.gpus || s->cluster.gpus % mp != 0 ||
		    sp->tp.v[a] > s->cluster.node.gpus_per_node)
			continue;
		for (e = 0; e < sp->ep.n; e++) {
			if (!moe && sp->ep.v[e] != 1)
				continue;
			for (z = 0; z < (train ? sp->zero.n : 1); z++) {
				if (train && sp->pp.v[b] > 1 && sp->zero.v[z] >= 2)
					continue;
				for (m = 0; m < sp->micro_batch.n; m++)
				for (r = 0; r < (train ? sp->recompute.n : 1); r++)
				for (h = 0; h < sp->schedule.n; h++)
				for (v = 0; v < sp->vp.n; v++) {
					bool il = sp->schedule.v[h] == SCHEDULE_INTERLEAVED;
					if (il && (sp->pp.v[b] == 1 || !train))
						continue;
					if (!il && v > 0)
						continue;
					c.strategy = s->strategy;
					c.strategy.tp = sp->tp.v[a];
					c.strategy.pp = sp->pp.v[b];
					c.strategy.cp = sp->cp.v[k];
					c.strategy.ep = sp->ep.v[e];
					if (train) {
						c.strategy.zero = sp->zero.v[z];
						c.strategy.recompute = (int)sp->recompute.v[r];
					}
					c.strategy.schedule = (int)sp->schedule.v[h];
					c.strategy.vp = il ? sp->vp.v[v] : 1;
					c.strategy.sequence_parallel = c.strategy.tp > 1;
					c.strategy.first_stage_layers = 0;
					c.strategy.last_stage_layers = 0;
					c.workload.micro_batch = sp->micro_batch.v[m];
					if (try_candidate(&c, s, w))
						add_point(x, g, &c);
				}
			}
		}
	}
}

/* JSON of a group's overrides, for a group that did not load. */
static char *overrides_json(const struct scenario_override *o, size_t n, const char *base)
{
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	fputs("{\"base\":", f);
	json_string(f, base);
	fputs(",\"set\":{", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		json_string(f, o[i].key);
		fputc(':', f);
		json_string(f, o[i].value);
	}
	fputs("}}", f);
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

static void load_group(const struct sweep_spec *sp, struct expansion *x, size_t g,
		       const struct scenario_override *o, size_t n, struct where *w)
{
	struct scenario_options opt;
	struct diag d;
	struct scenario *s;
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = n;
	opt.data_dir = sp->data_dir;
	opt.defer_strategy = sp->auto_strategy;
	diag_init(&d);
	s = scenario_load_tree(sp->base, sp->base_file, &opt, &d);
	x->groups[g].s = s;
	if (s == NULL) {
		char msg[512] = "did not load";
		if (d.count > 0)
			diag_format(&d.items[0], msg, sizeof msg);
		x->groups[g].error = xstrdup(msg);
		x->groups[g].config = overrides_json(o, n, sp->base_file);
	} else if (sp->auto_strategy) {
		size_t before = x->npoints;
		x->groups[g].rest = canonical_format_part(s, false);
		x->groups[g].hash = store_hash_add(
			store_hash_add(store_hash_add(store_hash_begin(), "{", 1), x->groups[g].rest,
				       strlen(x->groups[g].rest)),
			",", 1);
		enumerate(sp, x, (uint32_t)g, w);
		if (x->npoints == before) {
			/* No strategy divides this model over these GPUs (or the filter left
			 * none): one error point says so, so a report can tell why the instance
			 * type never fits rather than leave it out. */
			char msg[512];
			snprintf(msg, sizeof msg, "no strategy passes the divisibility rules%s: %lld "
				 "heads, %lld KV heads, %lld layers, %lld GPUs (%lld per node), global "
				 "batch %lld", sp->where ? " and the where filter" : "",
				 (long long)s->model.heads, (long long)s->model.kv_heads,
				 (long long)s->model.layers, (long long)s->cluster.gpus,
				 (long long)s->cluster.node.gpus_per_node,
				 (long long)s->workload.global_batch);
			x->groups[g].error = xstrdup(msg);
			x->groups[g].config = overrides_json(o, n, sp->base_file);
			free(x->groups[g].rest);
			x->groups[g].rest = NULL;
		}
	} else if (where_passes(w, s)) {
		add_point(x, (uint32_t)g, s);
	}
	diag_release(&d);
}

static void expansion_free(struct expansion *x)
{
	size_t i;
	for (i = 0; i < x->ngroups; i++) {
		scenario_free(x->groups[i].s);
		free(x->groups[i].rest);
		free(x->groups[i].error);
		free(x->groups[i].config);
	}
	free(x->groups);
	free(x->points);
}

/* Every group (the cartesian product of the axes, the last axis fastest) and its points. */
static int expand(const struct sweep_spec *sp, struct expansion *x, char *err, size_t errsize)
{
	struct scenario_override *o = xcalloc(sp->naxes + 1, sizeof *o);
	size_t *idx = xcalloc(sp->naxes + 1, sizeof *idx);
	size_t total = 1, g, k;
	struct where w;
	memset(x, 0, sizeof *x);
	for (k = 0; k < sp->naxes; k++) {
		if (total * sp->axes[k].n > ((size_t)1 << 24)) {
			snprintf(err, errsize, "the axes multiply to more than %d groups", 1 << 24);
			free(o);
			free(idx);
			return -1;
		}
		total *= sp->axes[k].n;
	}
	if (where_open(&w, sp->where, err, errsize) != 0) {
		free(o);
		free(idx);
		return -1;
	}
	x->groups = xcalloc(total, sizeof *x->groups);
	x->ngroups = total;
	for (g = 0; g < total; g++) {
		size_t rest = g;
		for (k = sp->naxes; k-- > 0;) {
			idx[k] = rest % sp->axes[k].n;
			rest /= sp->axes[k].n;
			o[k].key = sp->axes[k].key;
			o[k].value = sp->axes[k].values[idx[k]];
		}
		load_group(sp, x, g, o, sp->naxes, &w);
	}
	where_close(&w);
	free(o);
	free(idx);
	return 0;
}

static int cmp_hash(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static bool skipped(const struct sweep_slice *sl, const char *hash)
{
	return sl->nskip > 0 && bsearch(hash, sl->skip, sl->nskip, sizeof sl->skip[0], cmp_hash);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The global index i belongs to this slice: its shard, then its worker within the shard. */
static bool in_slice(const struct sweep_slice *sl, size_t i)
{
	size_t shards = sl->shards > 0 ? (size_t)sl->shards : 1;
	size_t workers = sl->workers > 0 ? (size_t)sl->workers : 1;
	if (i % shards != (size_t)sl->shard)
		return false;
	return (i / shards) % workers == (size_t)sl->worker;
}

/* The group's scenario with point i's strategy. */
static struct scenario point_scenario(const struct expansion *x, size_t i)
{
	struct scenario c = *x->groups[x->points[i].group].s;
	c.strategy = x->points[i].st;
	c.workload.micro_batch = x->points[i].micro_batch;
	c.workload.global_batch = x->points[i].global_batch;
	return c;
}

/* Point i's canonical config (caller frees) and hash, the group's part formatted once. */
static char *point_config(const struct expansion *x, size_t i, const struct scenario *c,
			  char hash[17])
{
	const struct group *g = &x->groups[x->points[i].group];
	char *config;
	if (g->rest == NULL) {
		config = canonical_format(c);
		store_hash(config, hash);
	} else {
		char *st = canonical_format_part(c, true);
		config = canonical_join(g->rest, st);
		store_hash_hex(store_hash_add(store_hash_add(g->hash, st, strlen(st)), "}", 1), hash);
		free(st);
	}
	return config;
}

int sweep_run(const struct sweep_spec *sp, const struct sweep_slice *sl,
	      const struct sweep_callbacks *cb, struct sweep_counts *counts, char *err,
	      size_t errsize)
{
	struct expansion x;
	size_t i, g, index = 0, mine = 0, skip = 0;
	unsigned char *todo;
	int status = 0;
	memset(counts, 0, sizeof *counts);
	gsl_set_error_handler_off();
	if (expand(sp, &x, err, errsize) != 0)
		return -1;
	counts->groups = x.ngroups;
	/* Points in order: a group that did not load is one (error) point where its strategies
	 * would be. Mark the slice's points that are not stored yet (a resumed sweep hashes
	 * each point's canonical form, which costs far less than evaluating it). */
	todo = xcalloc(x.ngroups + x.npoints + 1, 1);
	for (g = 0, i = 0; g < x.ngroups; g++) {
		char hash[17];
		if (x.groups[g].error != NULL) {
			counts->group_errors++;
			if (!in_slice(sl, index++))
				continue;
			store_hash(x.groups[g].config, hash);
			todo[index - 1] = !skipped(sl, hash);
			skip += !todo[index - 1];
			continue;
		}
		for (; i < x.npoints && x.points[i].group == g; i++) {
			if (!in_slice(sl, index++))
				continue;
			todo[index - 1] = 1;
			if (sl->nskip > 0) {
				struct scenario c = point_scenario(&x, i);
				free(point_config(&x, i, &c, hash));
				todo[index - 1] = !skipped(sl, hash);
			}
			skip += !todo[index - 1];
		}
	}
	for (i = 0; i < index; i++)
		mine += todo[i];
	counts->points = mine;
	counts->skipped = skip;
	if (cb->total)
		cb->total(cb->ctx, mine, skip);
	index = 0;
	for (g = 0, i = 0; g < x.ngroups && status == 0; g++) {
		struct store_point p;
		if (x.groups[g].error != NULL) {
			if (!todo[index++])
				continue;
			memset(&p, 0, sizeof p);
			if (x.groups[g].s != NULL)
				fill_keys(x.groups[g].s, &p);
			p.status = STORE_ERROR;
			p.config = x.groups[g].config;
			store_hash(p.config, p.hash);
			copy_text(p.reason, sizeof p.reason, x.groups[g].error);
			if (cb->point(cb->ctx, &p) != 0)
				status = -1;
			counts->done++;
			continue;
		}
		for (; i < x.npoints && x.points[i].group == g && status == 0; i++) {
			struct scenario c;
			double t0;
			if (!todo[index++])
				continue;
			if (sl->stop && *sl->stop) {
				status = -1;
				snprintf(err, errsize, "interrupted");
				break;
			}
			c = point_scenario(&x, i);
			t0 = now_s();
			{
				char hash[17], *config = point_config(&x, i, &c, hash);
				const char *rest = x.groups[x.points[i].group].rest;
				evaluate(&c, sl->analytic, config, rest ? strlen(rest) : 0, hash, &p);
			}
			p.wall_s = now_s() - t0;
			if (cb->point(cb->ctx, &p) != 0)
				status = -1;
			store_point_release(&p);
			counts->done++;
		}
	}
	free(todo);
	expansion_free(&x);
	return status;
}
