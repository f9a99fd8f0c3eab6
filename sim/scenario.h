/*
 * scenario: the validated configuration of one run — model, cluster, workload, strategy, runtime —
 * loaded from a scenario file with its presets (topologies/, scenarios/models/, HuggingFace
 * config.json) and --set overrides. Input stage: it knows YAML trees and the schema, nothing of
 * memory, time or events. Its structs (scenario_types.h, hardware.h) are plain data every later
 * stage reads.
 */
#ifndef DSSIM_SCENARIO_H
#define DSSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "scenario_types.h"
#include "xalloc.h"

struct scenario_override {
	const char *key;           /* dotted key */
	const char *value;         /* scalar text */
};

struct scenario_options {
	const struct scenario_override *overrides;
	size_t noverrides;
	const char *data_dir;      /* extra preset root ($DSSIM_DATA), or NULL */
	bool defer_strategy;       /* leave the strategy unchecked (dp stays as given): a sweep
				      sets each candidate and calls scenario_check_strategy */
	const char *calibration;   /* a calibration file (--calibration) in place of the
				      scenario's own `calibration:` key, or NULL */
	const struct calibration *calibration_given;   /* already loaded: used instead of
				      either file (a fit trying parameters), or NULL */
};

/*
 * Layers, each over the one before: schema default < GPU, node and model presets < framework
 * profile (runtime.framework, training only) < calibration file < scenario file < --set. A
 * profile's or a calibration's key applies unless the scenario file itself gives it; the loaded
 * calibration stays in s->calibration, the profile's name in s->runtime.framework.
 *
 * Load a scenario file with its presets and overrides, validate it, derive defaults (dp, head_dim,
 * gpus). Returns a new scenario, or NULL with every problem found recorded in d.
 */
struct scenario *scenario_load(const char *path, const struct scenario_options *opt,
			       struct diag *d);
/* The same for a scenario mapping inside another document (a validation case, a sweep); file
 * names where it came from. The tree must outlive the call only. */
struct ynode;
struct scenario *scenario_load_tree(const struct ynode *top, const char *file,
				    const struct scenario_options *opt, struct diag *d);
void scenario_free(struct scenario *s);

/* Check the strategy (and what it asks of the workload's batch) against the model and cluster,
 * as loading does: derives dp and global_batch when 0. 0, or -1 with the problems in d. */
int scenario_check_strategy(struct scenario *s, struct diag *d);

/*
 * An uneven split of `layers` over pp pipeline ranks of vp chunks each, when pp*vp does not
 * divide them, the way published runs place the remainder: every middle rank holds the even
 * share rounded up (a multiple of vp, as Megatron-Core requires of it), the first and last ranks
 * share the rest, the first taking the odd layer (126 layers on pp 16, vp 8: 8 per middle rank,
 * first and last 7 — Llama 3.1 405B as Meta and NeMo run it). true with *first and *last set
 * (both >= 1); false when no such split exists (pp < 2, or too few layers).
 */
bool scenario_uneven_split(int64_t layers, int64_t pp, int64_t vp, int64_t *first,
			   int64_t *last);

/* The experts' tensor-parallel size: strategy.etp, or tp when it is 0 (Megatron-Core's default). */
int64_t strategy_etp(const struct strategy *st);

/* Whether the schedule splits the backward into input- and weight-gradient passes (ZB-H1, ZB-V,
 * DualPipe: Qi et al. 2024, sec. 2; DeepSeek-V3 report sec. 3.2.1). */
bool strategy_splits_backward(const struct strategy *st);

/*
 * Hardware values (cluster.*) more than a million times outside the range the shipped presets
 * span in their unit (units_preset_range): most often a bare number read in base units ("989"
 * for a FLOP/s key is 989 FLOP/s). One item per key in w, naming the unit the value was read
 * in; the count is returned. These are warnings: the scenario is valid.
 */
size_t scenario_implausible(const struct scenario *s, struct diag *w);

/* The mark recorded for a dotted key (the file top when the key was defaulted). */
struct mark scenario_mark(const struct scenario *s, const char *key);

/* Whether the input gave the dotted key (rather than its default). */
bool scenario_given(const struct scenario *s, const char *key);

/* Names of enum values for printing ("bf16", "1f1b", …). */
const char *scenario_dtype_name(enum dtype dtype);
const char *scenario_enum_name(const char *key, int value);

#endif
