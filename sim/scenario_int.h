/*
 * scenario_int.h: what scenario.c (loading) and scenario_check.c (the relations between keys)
 * share: the loader's state and the checks load() runs after the walk. Private to the module.
 */
#ifndef DSSIM_SCENARIO_INT_H
#define DSSIM_SCENARIO_INT_H

#include "preset.h"
#include "scenario.h"
#include "schema.h"

struct loader {
	struct scenario *s;
	struct diag *d;
	const struct scenario_options *opt;   /* may be NULL */
	struct preset_roots roots;
	size_t nrows;
	const struct schema_row *rows;
	const char *failed[8];     /* preset sections that did not load */
	size_t nfailed;
};


/* The tree helpers loading shares (scenario.c): a dotted key looked up from the top (its
 * parent mapping and last component come back), an override applied, a value set at a dotted
 * path (creating mappings), a file the scenario read remembered. */
struct ynode *scenario_lookup(struct ynode *top, const char *key, struct ynode **parent,
			      const char **last);
void scenario_apply_override(struct loader *l, struct ynode *top,
			     const struct scenario_override *o);
void scenario_set_path(struct loader *l, struct ynode *top, const char *key, struct mark at,
		       struct ynode *value);
void scenario_add_input(struct scenario *s, const char *path);

/* The profile layers (scenario_profile.c): the framework profile for training, the engine
 * profile for serving, each key applied where the tree does not give it; and whether a --set
 * key names a profile (applied here, not with the other overrides). */
void scenario_apply_profiles(struct loader *l, struct ynode *top,
			     const struct scenario_options *opt);
bool scenario_is_profile_key(const char *key);

/* Derive the model's defaults (head_dim, ...) and check them. */
void scenario_derive_model(struct loader *l);
/* The workload (training or the request stream) against the model. */
void scenario_check_workload(struct loader *l);
/* serving.speculative against the model; method draft loads its model (scenario_speculative.c)
 * from top, the scenario's tree with presets and overrides applied. */
void scenario_check_speculative(struct loader *l, const struct ynode *top);

#endif
