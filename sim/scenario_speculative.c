/*
 * scenario_speculative: serving.speculative checked against the model, and a draft model loaded
 * as a scenario of its own. Part of the scenario module (scenario_int.h), input stage: it knows
 * trees and keys, nothing of what drafting costs (sim/speculative.c).
 */
#include "scenario_int.h"

#include <string.h>

#include "preset.h"

#define ERR(key, ...) diag_add(l->d, scenario_mark(s, key), key, __VA_ARGS__)

/*
 * The draft model as the target's scenario would run it: the same tree (its cluster, workload,
 * engine and strategy, --set included) with the draft's preset as the model, no expert
 * parallelism (a draft is dense) and no speculation of its own. Loading it checks it like any
 * model; its model section is copied into s's arena.
 */
static void load_draft(struct loader *l, const struct ynode *top)
{
	struct scenario *s = l->s;
	struct arena *a = s->arena;
	const char *key = "serving.speculative.draft_model";
	struct ynode *copy = preset_copy_tree(a, top), *parent, *v, *m;
	const char *last;
	struct scenario_options o;
	struct scenario *sub;
	struct mark at = scenario_mark(s, key);
	size_t i;
	v = scenario_lookup(copy, key, &parent, &last);
	if (v == NULL || v->kind != YNODE_SCALAR)
		return;
	m = preset_load(&l->roots, a, PRESET_MODEL, key, v, l->d);
	if (m == NULL)
		return;
	yamltree_map_set(a, copy, "model", at, m);
	scenario_set_path(l, copy, "serving.speculative", at, yamltree_new_map(a, at));
	scenario_set_path(l, copy, "strategy.ep", at, yamltree_new_scalar(a, at, "1"));
	/* The same preset roots, and a sweep's strategy left to each of its points. */
	memset(&o, 0, sizeof o);
	if (l->opt != NULL) {
		o.data_dir = l->opt->data_dir;
		o.defer_strategy = l->opt->defer_strategy;
	}
	sub = scenario_load_tree(copy, s->file, &o, l->d);
	if (sub == NULL)
		return;
	s->serving.speculative.draft = arena_alloc(a, sizeof *s->serving.speculative.draft);
	*s->serving.speculative.draft = sub->model;
	s->serving.speculative.draft->name = arena_strdup(a, sub->model.name ? sub->model.name : "");
	s->serving.speculative.draft->arch = arena_strdup(a, sub->model.arch ? sub->model.arch : "");
	for (i = 0; i < sub->ninputs; i++)
		scenario_add_input(s, sub->inputs[i]);
	if (sub->model.vocab != s->model.vocab)
		/* vLLM's rejection sampler compares the two models' distributions token by token. */
		ERR(key, "the draft model's vocabulary (%lld tokens) differs from the target's (%lld): "
			 "both must score the same tokens", (long long)sub->model.vocab,
		    (long long)s->model.vocab);
	scenario_free(sub);
}

void scenario_check_speculative(struct loader *l, const struct ynode *top)
{
	struct scenario *s = l->s;
	const struct numlist *p = &s->serving.speculative.acceptance;
	int64_t k = s->serving.speculative.tokens;
	int i;
	if (s->serving.speculative.method == SPECULATIVE_NONE || s->workload.mode != MODE_INFER)
		return;
	if (s->serving.batching == BATCHING_STATIC)
		ERR("serving.speculative.method", "static batching runs every sequence of a batch in "
		    "step, one token each: speculative decoding needs continuous batching");
	if (k < 1)
		ERR("serving.speculative.tokens", "speculative decoding drafts at least 1 token, got %lld",
		    (long long)k);
	else if (p->n != k)
		ERR("serving.speculative.acceptance",
		    "expected %lld rates, one per drafted token (serving.speculative.tokens), got %d",
		    (long long)k, p->n);
	/* A draft token counts as accepted only when every one before it was (Leviathan et al.
	 * 2023, algorithm 1), so vLLM's per-position rates cannot rise along the draft. */
	for (i = 1; i < p->n; i++)
		if (p->v[i] > p->v[i - 1]) {
			ERR("serving.speculative.acceptance",
			    "rate %d (%g) is above rate %d (%g): the rates are cumulative (the fraction "
			    "of steps accepting draft i and all before it), so they cannot rise",
			    i + 1, p->v[i], i, p->v[i - 1]);
			break;
		}
	if (s->serving.speculative.method == SPECULATIVE_MTP && s->model.mtp_layers < 1)
		ERR("serving.speculative.method",
		    "mtp drafts with the model's multi-token prediction modules, and %s has none "
		    "(model.mtp_layers 0)", s->model.name ? s->model.name : "the model");
	if (s->serving.speculative.method != SPECULATIVE_DRAFT)
		return;
	if (s->serving.speculative.draft_model == NULL ||
	    s->serving.speculative.draft_model[0] == '\0') {
		ERR("serving.speculative.method", "method draft needs a draft model "
		    "(serving.speculative.draft_model: a model preset)");
		return;
	}
	load_draft(l, top);
}
