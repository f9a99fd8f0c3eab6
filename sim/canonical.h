/*
 * canonical: the canonical form of a scenario, the text a sweep point is keyed by (its hash is
 * store_hash's). Input stage: reads a loaded struct scenario through the schema table, nothing
 * later in the pipeline.
 */
#ifndef DSSIM_CANONICAL_H
#define DSSIM_CANONICAL_H

#include <stdbool.h>

#include "scenario.h"

/* Every key's value as one JSON object (the name left out): two scenarios that simulate alike
 * give the same text. Caller frees. */
char *canonical_format(const struct scenario *s);

/* The canonical form is two parts, joined: the keys a sweep varies per point (strategy.*,
 * workload.micro_batch and global_batch) after all the others, so a sweep formats the rest
 * once per group. Each part is "key":value pairs without braces; join gives the whole (caller
 * frees each). */
bool canonical_is_strategy_key(const char *key);
char *canonical_format_part(const struct scenario *s, bool strategy);
char *canonical_join(const char *rest, const char *strategy);

#endif
