/*
 * sweep: a sweep spec (a base scenario, axes over any scenario key, `strategy: auto`, a `where`
 * filter) expanded into points, and each point evaluated: screened by the analytic memory model,
 * then simulated when it fits, into a store_point. Output stage: it runs the pipeline many times;
 * it does not know about processes, pipes or the database file (main_sweep.c does).
 */
#ifndef DSSIM_SWEEP_H
#define DSSIM_SWEEP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "scenario.h"
#include "store.h"

struct sweep_spec;

/* Load and check a sweep spec: the base scenario (a file relative to the spec, or a mapping),
 * every axis key against the schema, the where expression. NULL with diagnostics. */
struct sweep_spec *sweep_spec_load(const char *path, const char *data_dir, struct diag *d);
/* The same for a spec in memory (the fuzz target); name is used in diagnostics and to find a
 * relative base. */
struct sweep_spec *sweep_spec_parse(const char *name, const char *text, size_t len,
				    const char *data_dir, struct diag *d);
void sweep_spec_free(struct sweep_spec *sp);
/* How many groups (combinations of the axes' values) the spec names; SIZE_MAX on overflow. */
size_t sweep_spec_groups(const struct sweep_spec *sp);
/* Hardware values far outside the shipped presets (scenario_implausible) in the base or in any
 * value of a cluster.* axis: one warning per key in w, however many points carry it. */
size_t sweep_spec_warnings(const struct sweep_spec *sp, struct diag *w);
/* Whether the spec searches strategies (strategy: auto), which multiplies its groups. */
bool sweep_spec_searches_strategy(const struct sweep_spec *sp);
/* Whether the spec's first group (the base with each axis's first value) has a calibration
 * with a covariance, which --uncertainty draws from: 0, or -1 with "--uncertainty: needs a
 * calibration ..." or "... has no covariance" in d, as dssim FILE --uncertainty says it. A
 * first group that does not load is not checked (it is an error point of the sweep). */
int sweep_spec_check_uncertainty(const struct sweep_spec *sp, struct diag *d);
/* Bytes the parsed spec holds (its arenas), for tests that bound memory. */
size_t sweep_spec_bytes(const struct sweep_spec *sp);
/* The spec's text as given (stored with the sweep). */
const char *sweep_spec_text(const struct sweep_spec *sp);

/* Which points a process takes: the K-th of N shards (--shard), and within it one worker's
 * share; points whose hash is in skip (sorted; as store_hashes gives them) are left out (resume),
 * except, when not analytic, those marked only screened: a full sweep simulates them. */
struct sweep_slice {
	int64_t shard, shards;     /* 0-based shard, count */
	int64_t worker, workers;
	const char (*skip)[17];
	size_t nskip;
	bool analytic;             /* screen only: fitting points are stored unsimulated */
	/* --uncertainty: draws per simulated training point that fits, 0 for none; the draws
	 * of a point are seeded from seed and its hash (the same on any worker or shard), and
	 * points stored without these bands are redone (STORE_HASH_UNBANDED). */
	size_t uncertainty;
	unsigned long seed;
	bool count_only;           /* expand and count (counts, the total callback), evaluate none */
	volatile sig_atomic_t *stop;  /* set (by a signal handler) to stop after the current point */
};

/* Configurations of strategy: auto left out, by reason: each combination of the candidate
 * lists that applies to the group (no zero, micro_batch, recompute, schedule, vp or offload for
 * serving; no ep above 1 for a dense model) and is not a point is counted once, under the
 * first rule it breaks. */
enum { SWEEP_SKIP_REASONS = 24, SWEEP_SKIP_TEXT = 96 };
struct sweep_skip {
	char reason[SWEEP_SKIP_TEXT];
	size_t count;
	const char *rule;          /* the literal sweep_skip_rule gave it, or NULL */
};

struct sweep_counts {
	size_t points;             /* in this slice, after where */
	size_t skipped;            /* stored already */
	size_t done;               /* evaluated and handed to the callback */
	size_t groups, group_errors;
	/* left out of the whole spec (every slice counts the same), in order of first sight;
	 * reasons beyond SWEEP_SKIP_REASONS add to the last, "other" */
	struct sweep_skip skips[SWEEP_SKIP_REASONS];
	size_t nskips;
};

/* Called once with the slice's point count before any point, then for each point evaluated;
 * the callback owns nothing (copy what it keeps). Return nonzero to stop. */
struct sweep_callbacks {
	void (*total)(void *ctx, size_t points, size_t skipped);
	int (*point)(void *ctx, const struct store_point *p);
	void *ctx;
};

/* Expand the spec and evaluate the slice's points. 0, or -1 when expansion fails (message in
 * d, at the spec's file) or the callback stopped it. */
int sweep_run(const struct sweep_spec *sp, const struct sweep_slice *slice,
	      const struct sweep_callbacks *cb, struct sweep_counts *counts, struct diag *d);

/* Evaluate one loaded scenario as a sweep evaluates a point (dssim compare). */
void sweep_evaluate(const struct scenario *s, bool analytic, struct store_point *out);

#endif
