/*
 * main_plan_int: what the files of `dssim plan` share. main_plan.c parses the question and runs
 * the sweeps; main_plan_answer.c keeps their points, judges each against the goal and the
 * constraints, checks the answer by running it on its own and prints it. Command-line layer:
 * private to sim/main_plan*.c.
 */
#ifndef DSSIM_MAIN_PLAN_INT_H
#define DSSIM_MAIN_PLAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "scenario.h"
#include "serve.h"
#include "store.h"
#include "table.h"

/* The question as the command line gave it. */
struct plan_args {
	const char *base, *db, *data_dir, *slo_text, *nodes_text;
	struct scenario_override *overrides;
	size_t noverrides;
	bool train;          /* --train-tokens, else --rate with --slo */
	double train_tokens; /* tokens */
	double rate;         /* requests/s */
	double deadline_s;   /* 0: none */
	double min_headroom; /* fraction of GPU memory */
	bool min_headroom_set; /* given on the command line (else the mode's default) */
	double max_usd_h;    /* 0: none */
	long max_gpus;
	enum format fmt;
};

/* A node type searched: its price and node size, and how many nodes the constraints allow. */
struct plan_type {
	char name[64];
	char price_kind[16];
	double price; /* USD/h per node, 0 unknown */
	int64_t gpus_per_node;
	int64_t max_nodes; /* 0: none allowed; why_none says why */
	char why_none[160];
};

/* One configuration the sweeps evaluated, and the verdict on it. */
struct plan_cand {
	size_t type;
	enum store_status status;
	bool fits;
	char reason[256];
	char recompute[16], schedule[16];
	int64_t nodes, gpus, tp, pp, dp, cp, ep, zero, vp, micro_batch;
	double step_s, tokens_per_s, peak, capacity, usd_h, usd_mtok;
	double ttft_p50, ttft_p99, tpot_p50, tpot_p99, latency_p99, requests_per_s;
	char *own; /* its own keys, "key":value pairs (canonical), or NULL */
	/* The verdict. */
	bool meets;
	char why[200];    /* why not, when it does not meet */
	double days, usd; /* training: for the token budget */
	double metric;    /* serving: the first target's value */
	double score;     /* how near it comes: lower is nearer (for a runner-up) */
};

/* The run on its own of a chosen configuration: the command and what it gave. */
struct plan_checked {
	char *command; /* dssim BASE --set ... */
	bool ran, meets;
	double value; /* serving: the first target; training: tokens/s */
};

struct plan {
	const struct plan_args *args;
	struct serve_slo slo;
	char model[96];
	int64_t base_micro_batch;
	struct plan_type *types;
	size_t ntypes, type_at; /* type_at: the type whose sweep runs */
	struct plan_cand *cands;
	size_t ncands, cap;
	struct store *store; /* --db, or NULL */
	struct diag store_diag;
	double wall_s;
	long cheapest, fastest;         /* indices into cands, -1 for none */
	struct plan_checked checked[2]; /* cheapest, fastest */
};

void plan_init(struct plan *pl, const struct plan_args *a);
void plan_release(struct plan *pl);
/* Add a node type (NULL: the base's own node) when it loads; an unpriced one only when
 * explicit (--nodes, or the base's). An explicit type that does not load is an error in d. */
void plan_add_type(struct plan *pl, const char *name, bool explicit, struct diag *d);
/* Keep a point of the sweep of types[type_at]. */
void plan_keep(struct plan *pl, const struct store_point *p);
/* Judge every point, then pick the cheapest and the fastest that meet the question. */
void plan_judge(struct plan *pl);
/* Run the cheapest and the fastest on their own (the printed commands). EXIT_OK, or the
 * status when a chosen configuration does not load or run (printed). */
int plan_check(struct plan *pl);
void plan_print_text(const struct plan *pl, FILE *out);
void plan_print_json(const struct plan *pl, FILE *out);
/* The stored value of a serving target of a point (ttft, tpot at p50, p99; latency at p99). */
double plan_target_value(const struct plan_cand *c, const struct serve_target *t);

#endif
