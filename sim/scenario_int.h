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
	struct preset_roots roots;
	size_t nrows;
	const struct schema_row *rows;
	const char *failed[8];     /* preset sections that did not load */
	size_t nfailed;
};


/* Derive the model's defaults (head_dim, ...) and check them. */
void scenario_derive_model(struct loader *l);
/* The workload (training or the request stream) against the model. */
void scenario_check_workload(struct loader *l);

#endif
