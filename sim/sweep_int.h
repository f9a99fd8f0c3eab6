/*
 * sweep_int: what the sweep spec (sweep_spec.c: parsing, the where filter, the strategy
 * candidates) and the runner (sweep.c: expansion and evaluation) share. Private to sim/sweep*.c.
 */
#ifndef DSSIM_SWEEP_INT_H
#define DSSIM_SWEEP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"
#include "store.h"
#include "sweep.h"
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
	size_t n, cap;
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
	struct cands offload_optimizer, offload_params, offload_activations;
	char *where;                  /* as SQL, NULL without a filter */
	struct mark where_at;
};

/* The spec's where filter compiled for evaluation: *out NULL when the spec has none. 0, or -1
 * with the reason in d, at the filter's place and key "where". */
int sweep_where_open(const struct sweep_spec *sp, struct store_where **out, struct diag *d);
/* Whether a candidate passes the filter (always, without one). */
bool sweep_where_passes(struct store_where *w, const struct scenario *s);

/* sweep_skip.c. Count one configuration left out for reason (a phrase shared by every
 * configuration that breaks the same rule) in n. */
void sweep_skip_add(struct sweep_counts *n, const char *reason);
/* The same count times for a reason that is a string literal: found again by its address. */
void sweep_skip_add_rule(struct sweep_counts *n, const char *rule, size_t count);
/* The loader's refusal (scenario_check_strategy's first diagnostic) as such a phrase. */
void sweep_skip_reason(const struct diag_item *it, char *buf, size_t size);
/* The first rule of the search strategy g on group s breaks before the loader sees it, or
 * NULL; train: the group trains (offload and ZeRO's rules are training's). */
const char *sweep_skip_rule(const struct scenario *s, const struct strategy *g, bool train);
/* Its rules that read only tp, pp and cp (the first it checks), or NULL. */
const char *sweep_skip_gpus(const struct scenario *s, int64_t tp, int64_t pp, int64_t cp);
/* Order the reasons most configurations first, ties in the order first met. */
void sweep_skip_sort(struct sweep_counts *n);

#endif
