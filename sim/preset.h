/*
 * preset: finding and reading the preset files a scenario names — models, nodes, GPUs, and
 * HuggingFace config.json files — by name under a list of roots or by path, each file parsed once
 * per process. Input stage: it hands back YAML trees and knows nothing of the keys inside them.
 */
#ifndef DSSIM_PRESET_H
#define DSSIM_PRESET_H

#include <stddef.h>

#include "diag.h"
#include "xalloc.h"
#include "yamltree.h"

/* Sections that may be given as a preset name or file path instead of a mapping; a framework
 * profile (topologies/frameworks/) and a serving engine profile (topologies/engines/) are found
 * the same way but layered by scenario.c. */
enum preset_kind { PRESET_NONE, PRESET_MODEL, PRESET_NODE, PRESET_GPU, PRESET_FRAMEWORK,
		   PRESET_ENGINE };

/* The directories searched for presets by name, first match wins. */
enum { PRESET_ROOTS_MAX = 6 };
struct preset_roots {
	const char *dir[PRESET_ROOTS_MAX];
	size_t n;
};

/* The roots for a scenario file: its directory, the directory above, the working directory,
 * data_dir (may be NULL), $DSSIM_DATA, the installed data. Strings are allocated in a. */
void preset_roots_init(struct preset_roots *roots, struct arena *a, const char *file,
		       const char *data_dir);

/*
 * The mapping a preset value names: a name found under the roots (scenarios/models/NAME.yaml,
 * topologies/nodes/..., topologies/gpus/..., topologies/frameworks/..., topologies/engines/...),
 * or a path relative to the file that gives it; a HuggingFace config.json becomes a model
 * mapping. The tree is a copy in a, free to rewrite.
 * key names the value in messages. NULL, with the problem in d, when nothing usable is found.
 * Parsed files are cached until the process exits (a sweep loads the same few many times);
 * not thread-safe.
 */
struct ynode *preset_load(const struct preset_roots *roots, struct arena *a, enum preset_kind kind,
			  const char *key, const struct ynode *v, struct diag *d);

/* Every preset name of a kind under the roots, sorted, without repeats: *out is a new array
 * (the caller frees it) of names allocated in a. The count is returned. */
size_t preset_list(const struct preset_roots *roots, struct arena *a, enum preset_kind kind,
		   const char ***out);

/* A deep copy of a tree in a. */
struct ynode *preset_copy_tree(struct arena *a, const struct ynode *n);

/* The directory part of a file path ("." when it has none), allocated in a. */
char *preset_dir_of(struct arena *a, const char *path);

/* The directory searched last for presets: the installed data (pkgdatadir). */
const char *preset_installed_data_dir(void);

#endif
