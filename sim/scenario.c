/*
 * scenario: scenario file + presets + overrides -> a validated struct scenario. Input stage.
 * Order: load the file; apply overrides that replace a whole preset; expand preset names into
 * their mappings; apply the other overrides; walk the tree against the schema table; derive
 * defaults and check the relations between keys. Every problem is collected, none stops the walk.
 */
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibration.h"
#include "preset.h"
#include "schema.h"
#include "units.h"
#include "yamltree.h"

struct loader {
	struct scenario *s;
	struct diag *d;
	struct preset_roots roots;
	size_t nrows;
	const struct schema_row *rows;
	const char *failed[8];     /* preset sections that did not load */
	size_t nfailed;
};

/* Walk a dotted key down from the top; the parent mapping and last component come back. */
static struct ynode *lookup(struct ynode *top, const char *key, struct ynode **parent,
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

static void apply_override(struct loader *l, struct ynode *top, const struct scenario_override *o);
static void set_path(struct loader *l, struct ynode *top, const char *key, struct mark at,
		     struct ynode *value);

/*
 * Expand preset names into mappings, outermost first (model, cluster.node, cluster.node.gpu), so
 * an override that names a nested preset (--set cluster.node.gpu=h100-sxm) lands inside the
 * already expanded node.
 */
/* Remember a file the scenario read, for outputs that must not overwrite it. */
static void add_input(struct scenario *s, const char *path)
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
				apply_override(l, top, &opt->overrides[k]);
		v = lookup(top, r->key, &parent, &last);
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
			add_input(l->s, m->at.file);
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

static void apply_override(struct loader *l, struct ynode *top, const struct scenario_override *o)
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
	set_path(l, top, o->key, at, value);
}

/* Put value at the dotted key, making the mappings on the way. */
static void set_path(struct loader *l, struct ynode *top, const char *key, struct mark at,
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
		add_input(l->s, read);
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
			v = lookup(top, c->keys[i], &parent, &last);
			if (v != NULL && v->kind == YNODE_SEQ)
				calibration_scale_list(l->s->arena, v, c->values[i], r->min, r->max,
						       at);
			continue;
		}
		set_path(l, top, c->keys[i], at,
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

static size_t row_index(const char *key)
{
	size_t idx = 0;
	schema_find(key, &idx);
	return idx;
}

#define ERR(key, ...) diag_add(l->d, scenario_mark(s, key), key, __VA_ARGS__)

static void derive_model(struct loader *l)
{
	struct scenario *s = l->s;
	struct model_config *m = &s->model;
	if (m->kv_heads == 0)
		m->kv_heads = m->heads;
	if (m->heads > 0 && m->kv_heads > m->heads)
		ERR("model.kv_heads", "must not exceed heads (%lld), got %lld", (long long)m->heads,
		    (long long)m->kv_heads);
	else if (m->kv_heads > 0 && m->heads % m->kv_heads != 0)
		ERR("model.kv_heads", "must divide heads (%lld), got %lld", (long long)m->heads,
		    (long long)m->kv_heads);
	if (m->head_dim == 0 && m->heads > 0) {
		if (m->hidden % m->heads != 0)
			ERR("model.heads", "hidden %lld is not a multiple of %lld heads: set head_dim",
			    (long long)m->hidden, (long long)m->heads);
		m->head_dim = m->hidden / m->heads;
	}
	if (m->ffn == 0)
		m->ffn = 4 * m->hidden;
	if (m->moe.experts > 0) {
		if (m->moe.top_k < 1 || m->moe.top_k > m->moe.experts)
			ERR("model.moe.top_k", "expected 1 to %lld experts per token, got %lld",
			    (long long)m->moe.experts, (long long)m->moe.top_k);
		if (m->moe.ffn == 0)
			ERR("model.moe.ffn", "an MoE model needs the expert intermediate size");
		if (m->moe.dense_layers > m->layers)
			ERR("model.moe.dense_layers", "exceeds the %lld layers", (long long)m->layers);
	}
	if (m->mla.kv_lora_rank > 0 &&
	    (m->mla.qk_rope_head_dim == 0 || m->mla.qk_nope_head_dim == 0 || m->mla.v_head_dim == 0))
		ERR("model.mla", "MLA needs qk_nope_head_dim, qk_rope_head_dim and v_head_dim");
	if (m->position == POSITION_LEARNED && m->max_position == 0)
		ERR("model.max_position", "learned position embeddings need max_position");
	if (m->name == NULL || m->name[0] == '\0')
		m->name = arena_strdup(s->arena, "model");
}

/* Where a problem with a key is reported, for the checks of other modules. */
static struct mark mark_of(const void *s, const char *key)
{
	return scenario_mark(s, key);
}

/* The strategy against the model and the cluster (after hardware_check_cluster): derives dp
 * when 0. */
static void check_parallel(struct loader *l)
{
	struct scenario *s = l->s;
	struct strategy *st = &s->strategy;
	struct model_config *m = &s->model;
	struct hardware *c = &s->cluster;
	int64_t mp, product;
	bool train = s->workload.mode == MODE_TRAIN;

	mp = st->tp * st->pp * st->cp;
	if (st->dp == 0) {
		if (c->gpus % mp != 0) {
			/* Point at the factor that was set (the file's line, or --set), tp first. */
			const char *blame = s->present[row_index("strategy.tp")] ? "strategy.tp"
					    : s->present[row_index("strategy.pp")] ? "strategy.pp"
					    : s->present[row_index("strategy.cp")] ? "strategy.cp"
										  : "strategy";
			diag_add(l->d, scenario_mark(s, blame), "strategy",
				 "tp*pp*cp = %lld does not divide the %lld GPUs", (long long)mp,
				 (long long)c->gpus);
		}
		st->dp = c->gpus / mp > 0 ? c->gpus / mp : 1;
	} else if (__builtin_mul_overflow(mp, st->dp, &product) || product != c->gpus) {
		char hint[128] = "";
		if (c->gpus % mp == 0)
			snprintf(hint, sizeof hint, " (dp %lld fits; 0 derives it)",
				 (long long)(c->gpus / mp));
		ERR("strategy.dp", "tp*pp*cp*dp = %lld*%lld*%lld*%lld = %.17g, but the cluster has %lld "
		    "GPUs%s", (long long)st->tp, (long long)st->pp, (long long)st->cp,
		    (long long)st->dp, (double)mp * (double)st->dp, (long long)c->gpus, hint);
	}
	if (m->heads % st->tp != 0)
		ERR("strategy.tp", "expected a divisor of the %lld attention heads, got %lld",
		    (long long)m->heads, (long long)st->tp);
	/* Training shards KV heads over TP (Megatron num_query_groups % tp == 0); vLLM inference
	 * replicates them when tp exceeds them (max(1, kv_heads // tp), vllm/config.py). */
	else if (m->mla.kv_lora_rank == 0 && m->kv_heads % st->tp != 0 &&
		 (train || st->tp % m->kv_heads != 0))
		ERR("strategy.tp", "expected a divisor of the %lld KV heads, got %lld",
		    (long long)m->kv_heads, (long long)st->tp);
	if (st->vp > 1 && st->schedule != SCHEDULE_INTERLEAVED)
		ERR("strategy.vp", "virtual stages (vp %lld) need schedule: interleaved",
		    (long long)st->vp);
	if ((st->account_embedding || st->account_loss) &&
	    (st->first_stage_layers > 0 || st->last_stage_layers > 0)) {
		/* Megatron-Core transformer_block.py, get_num_layers_to_build: "Does not support
		 * standalone embedding stage and standalone loss stage with uneven pp". */
		ERR(st->account_embedding ? "strategy.account_for_embedding_in_pipeline_split"
					  : "strategy.account_for_loss_in_pipeline_split",
		    "cannot be combined with strategy.first_stage_layers / last_stage_layers, as in "
		    "Megatron-Core");
	} else if (st->first_stage_layers > 0 || st->last_stage_layers > 0) {
		int64_t f = st->first_stage_layers, la = st->last_stage_layers;
		int64_t rest = m->layers - f - la;
		int64_t stages = st->pp - (f > 0) - (la > 0);
		if (st->pp < 2)
			ERR(f > 0 ? "strategy.first_stage_layers" : "strategy.last_stage_layers",
			    "uneven stages need pp of 2 or more");
		else if (rest < 0 || (stages == 0 && rest != 0) || (stages > 0 && rest % stages != 0) ||
			 (stages > 0 && rest / stages == 0))
			ERR(f > 0 ? "strategy.first_stage_layers" : "strategy.last_stage_layers",
			    "%lld layers minus first %lld and last %lld do not split evenly over the other "
			    "%lld stages", (long long)m->layers, (long long)f, (long long)la,
			    (long long)stages);
		/* Megatron-Core get_num_layers_to_build: "num_layers_per_pipeline_rank should be
		 * divisible by vp_size" for the middle ranks; the first and last may fall short
		 * (see layout_chunk). */
		else if (stages > 0 && (rest / stages) % st->vp != 0)
			ERR("strategy.vp", "the %lld layers of each middle pipeline stage do not split "
			    "evenly into vp = %lld chunks", (long long)(rest / stages),
			    (long long)st->vp);
	} else if (st->account_embedding || st->account_loss) {
		/* Megatron-Core get_num_layers_to_build: num_layers + embedding + loss must divide
		 * by pp; each rank's share by vp. */
		int64_t n = m->layers + st->account_embedding + st->account_loss;
		if (st->pp < 2)
			ERR(st->account_embedding ? "strategy.account_for_embedding_in_pipeline_split"
						  : "strategy.account_for_loss_in_pipeline_split",
			    "needs pp of 2 or more");
		else if (n % (st->pp * st->vp) != 0)
			ERR("strategy.pp", "%lld layers plus the embedding and loss counted as layers "
			    "(%lld) do not split evenly into pp*vp = %lld stages", (long long)m->layers,
			    (long long)n, (long long)(st->pp * st->vp));
	} else if (m->layers % (st->pp * st->vp) != 0) {
		int64_t f, la;
		char hint[160] = "";
		if (scenario_uneven_split(m->layers, st->pp, st->vp, &f, &la))
			snprintf(hint, sizeof hint, "; set strategy.first_stage_layers / "
				 "last_stage_layers (%lld / %lld fits)", (long long)f, (long long)la);
		ERR("strategy.pp", "%lld layers do not split evenly into pp*vp = %lld stages%s",
		    (long long)m->layers, (long long)(st->pp * st->vp), hint);
	}
	if (m->moe.experts > 0) {
		if (m->moe.experts % st->ep != 0)
			ERR("strategy.ep", "expected a divisor of the %lld experts, got %lld",
			    (long long)m->moe.experts, (long long)st->ep);
		else if (s->workload.mode == MODE_INFER && st->tp % st->ep != 0)
			/* vLLM --enable-expert-parallel: the experts spread over the GPUs of the
			 * tensor-parallel group (each replica serves on its own). */
			ERR("strategy.ep", "serving spreads experts over the tp = %lld GPUs of a "
			    "replica; %lld does not divide it", (long long)st->tp, (long long)st->ep);
		else if (s->workload.mode == MODE_TRAIN && (st->dp * st->cp) % st->ep != 0)
			ERR("strategy.ep", "expert parallelism is carved out of dp*cp = %lld; %lld does "
			    "not divide it", (long long)(st->dp * st->cp), (long long)st->ep);
	} else if (st->ep > 1) {
		ERR("strategy.ep", "the model has no experts, so ep must be 1, got %lld",
		    (long long)st->ep);
	}
	if (s->workload.seq_len % st->cp != 0)
		ERR("strategy.cp", "seq_len %lld is not a multiple of cp %lld",
		    (long long)s->workload.seq_len, (long long)st->cp);
}

/* What the strategy asks of the workload: the batch split, offload's ZeRO stage, schedules.
 * Derives global_batch when 0. */
static void check_strategy_workload(struct loader *l)
{
	struct scenario *s = l->s;
	struct workload *w = &s->workload;
	struct strategy *st = &s->strategy;
	if (w->mode == MODE_TRAIN) {
		int64_t per_step = w->micro_batch * st->dp;
		if (w->global_batch == 0)
			w->global_batch = per_step;
		else if (w->global_batch % per_step != 0)
			ERR("workload.global_batch",
			    "expected a multiple of micro_batch*dp = %lld*%lld = %lld, got %lld",
			    (long long)w->micro_batch, (long long)st->dp, (long long)per_step,
			    (long long)w->global_batch);
		if (st->offload.params == OFFLOAD_CPU && st->zero != 3)
			ERR("strategy.offload.params", "parameter offload needs zero: 3, got zero: %lld",
			    (long long)st->zero);
		if (st->offload.optimizer == OFFLOAD_CPU && st->zero == 0)
			ERR("strategy.offload.optimizer", "optimizer offload needs zero: 1, 2 or 3");
	} else if (st->pp * st->vp > 1 && st->schedule == SCHEDULE_INTERLEAVED) {
		ERR("strategy.schedule", "interleaved schedules are for training");
	}
}

bool scenario_uneven_split(int64_t layers, int64_t pp, int64_t vp, int64_t *first,
			   int64_t *last)
{
	int64_t per, rest;
	if (pp < 2 || vp < 1 || layers < 2)
		return false;
	/* The even share rounded up to a multiple of vp on every middle rank. */
	per = (layers + pp * vp - 1) / (pp * vp) * vp;
	rest = layers - (pp - 2) * per;
	if (rest < 2)
		return false;
	*first = rest - rest / 2;
	*last = rest / 2;
	return true;
}

int scenario_check_strategy(struct scenario *s, struct diag *d)
{
	struct loader l;
	size_t before = d->count;
	memset(&l, 0, sizeof l);
	l.s = s;
	l.d = d;
	check_parallel(&l);
	if (d->count == before)
		check_strategy_workload(&l);
	return d->count == before ? 0 : -1;
}

bool scenario_given(const struct scenario *s, const char *key)
{
	size_t i;
	return schema_find(key, &i) != NULL && s->present[i];
}

static void check_length(struct loader *l, const char *key, struct length_spec *len)
{
	struct scenario *s = l->s;
	int64_t seq = s->workload.seq_len;
	char k[64];
	if (len->max == 0 || len->max > seq)
		len->max = seq;
	snprintf(k, sizeof k, "%s.min", key);
	if (len->min > len->max)
		ERR(k, "exceeds the most tokens, %lld", (long long)len->max);
	snprintf(k, sizeof k, "%s.value", key);
	/* A defaulted length shrinks to fit a short seq_len; a given one must fit. */
	if (len->dist == LENGTH_FIXED && len->value > len->max && !scenario_given(s, k))
		len->value = len->max;
	if (len->dist == LENGTH_FIXED && len->value > len->max)
		ERR(k, "exceeds the most tokens, %lld (max, or workload.seq_len)",
		    (long long)len->max);
	snprintf(k, sizeof k, "%s.mean", key);
	if ((len->dist == LENGTH_NORMAL || len->dist == LENGTH_LOGNORMAL) && len->mean <= 0)
		ERR(k, "a %s length needs a mean > 0",
		    len->dist == LENGTH_NORMAL ? "normal" : "lognormal");
}

/* Whether the scenario gives key (its file, a preset or --set), not the table's default. */
static bool given(const struct loader *l, const char *key)
{
	size_t idx;
	return schema_find(key, &idx) != NULL && l->s->present[idx];
}

/* The request stream and serving engine of an inference scenario. */
static void check_requests(struct loader *l)
{
	static const char *const trace_gives[] = {"workload.requests", "workload.arrival.rate",
						  "workload.duration"};
	size_t k;
	struct scenario *s = l->s;
	struct workload *w = &s->workload;
	struct serving *v = &s->serving;
	if (w->arrival.trace == NULL)
		w->arrival.trace = arena_strdup(s->arena, "");
	check_length(l, "workload.prompt_tokens", &w->prompt_tokens);
	check_length(l, "workload.output_tokens", &w->output_tokens);
	if (w->arrival.process == ARRIVAL_GAMMA && w->arrival.rate <= 0)
		ERR("workload.arrival.rate", "a gamma process needs a rate > 0");
	if (w->arrival.process == ARRIVAL_TRACE && w->arrival.trace[0] == '\0')
		ERR("workload.arrival.trace", "process: trace needs a CSV file");
	if (w->arrival.process != ARRIVAL_TRACE && w->arrival.trace[0] != '\0')
		ERR("workload.arrival.trace", "a trace file needs process: trace");
	/* A trace's rows are the requests and their arrival times: these keys would be ignored. */
	for (k = 0; w->arrival.process == ARRIVAL_TRACE && k < 3; k++)
		if (given(l, trace_gives[k]))
			ERR(trace_gives[k], "the trace gives the requests and their arrival times: "
			    "remove this key (--set KEY=null), or use another workload.arrival.process");
	/* A relative trace path is relative to the scenario file. */
	if (w->arrival.trace[0] != '\0' && w->arrival.trace[0] != '/')
		w->arrival.trace = arena_printf(s->arena, "%s/%s", preset_dir_of(s->arena, s->file),
						w->arrival.trace);
	/* vLLM SchedulerConfig._verify_args: without chunked prefill one iteration must hold a
	 * whole prompt (max_num_batched_tokens >= max_model_len), and at least one token per
	 * sequence (>= max_num_seqs). */
	if (!v->chunked_prefill && v->max_batched_tokens < w->seq_len)
		ERR("serving.max_batched_tokens",
		    "without chunked prefill it must hold a whole sequence (seq_len %lld), got %lld",
		    (long long)w->seq_len, (long long)v->max_batched_tokens);
	/* Swapping moves KV blocks over the GPU-host link: without its bandwidth it cannot be
	 * costed, and falling back to recompute silently would report another policy. */
	if (v->preemption == PREEMPT_SWAP && !(s->cluster.node.pcie.bw > 0))
		ERR("serving.preemption", "swap needs the host link's bandwidth, and %s gives no "
		    "cluster.node.links.pcie.bw: set it, or use preemption: recompute",
		    s->cluster.node.name ? s->cluster.node.name : "the node");
	if (v->max_batched_tokens < v->max_num_seqs)
		ERR("serving.max_batched_tokens", "must be at least max_num_seqs (%lld), got %lld",
		    (long long)v->max_num_seqs, (long long)v->max_batched_tokens);
}

static void check_workload(struct loader *l)
{
	struct scenario *s = l->s;
	struct workload *w = &s->workload;
	if (w->mode == MODE_TRAIN) {
		if ((w->dtype == DTYPE_INT8 || w->dtype == DTYPE_INT4) && w->lora.rank == 0)
			ERR("workload.dtype", "%s weights cannot be trained: use bf16, fp16, fp32 or fp8, "
			    "or LoRA (workload.lora.rank) on a quantized base", scenario_dtype_name(w->dtype));
		if (w->dtype == DTYPE_TF32)
			ERR("workload.dtype", "tf32 is a compute mode of fp32 weights: use fp32");
		if (s->model.position == POSITION_LEARNED && w->seq_len > s->model.max_position)
			ERR("workload.seq_len", "exceeds the model's %lld learned positions",
			    (long long)s->model.max_position);
	} else {
		if (w->dtype == DTYPE_TF32)
			ERR("workload.dtype", "tf32 is a compute mode of fp32 weights: use fp32");
		check_requests(l);
	}
	if (w->kv_dtype == DTYPE_TF32 || w->kv_dtype == DTYPE_INT4)
		ERR("workload.kv_dtype", "expected one of fp32, bf16, fp16, fp8, int8, got %s",
		    scenario_dtype_name(w->kv_dtype));
	if (w->lora.rank > 0 && w->mode != MODE_TRAIN)
		ERR("workload.lora.rank", "LoRA adapters are for training (mode: train)");
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
		calibrated[i] = lookup(top, s->calibration->keys[i], &parent, &last) != NULL;
	}
	expand_presets(&l, top, opt);
	apply_calibration(&l, top, calibrated);
	for (i = 0; opt && i < opt->noverrides; i++)
		if (!is_preset_key(opt->overrides[i].key))
			apply_override(&l, top, &opt->overrides[i]);

	set_defaults(&l);
	walk(&l, top, "");
	required(&l);
	if (d->count == before) {
		derive_model(&l);
		hardware_check_gpu(&s->cluster.node.gpu, d, mark_of, s);
		if (d->count == before)
			hardware_check_cluster(&s->cluster, d, mark_of, s);
		if (d->count == before && !(opt && opt->defer_strategy))
			scenario_check_strategy(s, d);
		if (d->count == before)
			check_workload(&l);
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
