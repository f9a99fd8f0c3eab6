/*
 * preset: finding and reading the preset files a scenario names — models in scenarios/models/,
 * nodes, GPUs, framework and engine profiles in topologies/, HuggingFace config.json — under a
 * list of roots, with each parsed file kept for the life of the process. Input stage: it hands
 * back YAML trees and knows nothing of the keys inside them (scenario.c walks those against the
 * schema).
 */
/* realpath() is XSI: glibc declares it for _XOPEN_SOURCE, not for _POSIX_C_SOURCE alone. */
#define _XOPEN_SOURCE 700

#include "preset.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hfconfig.h"

#ifndef DSSIM_PKGDATADIR
#define DSSIM_PKGDATADIR "/usr/local/share/dssim"
#endif

static const char *const model_dirs[] = {"scenarios/models", "models", NULL};
static const char *const node_dirs[] = {"topologies/nodes", "nodes", NULL};
static const char *const gpu_dirs[] = {"topologies/gpus", "gpus", NULL};
static const char *const framework_dirs[] = {"topologies/frameworks", "frameworks", NULL};
static const char *const engine_dirs[] = {"topologies/engines", "engines", NULL};

static const char *const *preset_dirs(enum preset_kind kind)
{
	switch (kind) {
	case PRESET_MODEL:
		return model_dirs;
	case PRESET_NODE:
		return node_dirs;
	case PRESET_FRAMEWORK:
		return framework_dirs;
	case PRESET_ENGINE:
		return engine_dirs;
	default:
		return gpu_dirs;
	}
}

static const char *preset_noun(enum preset_kind kind)
{
	return kind == PRESET_MODEL ? "model" : kind == PRESET_NODE ? "node"
	       : kind == PRESET_FRAMEWORK ? "framework" : kind == PRESET_ENGINE ? "engine" : "GPU";
}

const char *preset_installed_data_dir(void)
{
	return DSSIM_PKGDATADIR;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *preset_dir_of(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return arena_strdup(a, ".");
	if (slash == path)
		return arena_strdup(a, "/");
	return arena_strndup(a, path, (size_t)(slash - path));
}

static bool looks_like_path(const char *v)
{
	size_t n = strlen(v);
	return strchr(v, '/') != NULL || (n > 5 && strcmp(v + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(v + n - 4, ".yml") == 0) || (n > 5 && strcmp(v + n - 5, ".json") == 0);
}

/* A preset name may hold letters, digits, '.', '-' and '_' only: it becomes part of a path. */
static bool is_preset_name(const char *v)
{
	const char *p;
	if (*v == '\0' || *v == '.')
		return false;
	for (p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_'))
			return false;
	return true;
}

static char *find_preset(const struct preset_roots *roots, struct arena *a, enum preset_kind kind,
			 const char *name)
{
	const char *const *dirs = preset_dirs(kind);
	size_t r, k;
	char buf[4096];
	for (r = 0; r < roots->n; r++) {
		for (k = 0; dirs[k] != NULL; k++) {
			snprintf(buf, sizeof buf, "%s/%s/%s.yaml", roots->dir[r], dirs[k], name);
			if (is_file(buf))
				return arena_strdup(a, buf);
		}
	}
	return NULL;
}

/* Every preset name of a kind in every root, for "did you mean" and the list of choices. */
size_t preset_list(const struct preset_roots *roots, struct arena *a, enum preset_kind kind,
		   const char ***out)
{
	const char *const *dirs = preset_dirs(kind);
	const char **names = NULL;
	size_t n = 0, cap = 0, r, k, i;
	char buf[4096];
	for (r = 0; r < roots->n; r++) {
		for (k = 0; dirs[k] != NULL; k++) {
			DIR *dir;
			struct dirent *e;
			snprintf(buf, sizeof buf, "%s/%s", roots->dir[r], dirs[k]);
			dir = opendir(buf);
			if (dir == NULL)
				continue;
			while ((e = readdir(dir)) != NULL) {
				size_t len = strlen(e->d_name);
				bool dup = false;
				char *nm;
				if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
					continue;
				nm = arena_strndup(a, e->d_name, len - 5);
				for (i = 0; i < n; i++)
					dup = dup || strcmp(names[i], nm) == 0;
				if (dup)
					continue;
				if (n == cap) {
					cap = cap ? 2 * cap : 32;
					names = xreallocarray(names, cap, sizeof *names);
				}
				names[n++] = nm;
			}
			closedir(dir);
		}
	}
	/* readdir order is not stable; messages must be. */
	for (i = 1; i < n; i++) {
		const char *t = names[i];
		size_t j = i;
		while (j > 0 && strcmp(names[j - 1], t) > 0) {
			names[j] = names[j - 1];
			j--;
		}
		names[j] = t;
	}
	*out = names;
	return n;
}

static void unknown_preset(const struct preset_roots *roots, struct arena *a, enum preset_kind kind,
			   const char *key, const struct ynode *v, struct diag *d)
{
	const char **names;
	size_t n = preset_list(roots, a, kind, &names), i, used = 0;
	const char *close = diag_closest(v->value, names, n);
	char list[1024] = "";
	size_t near = 3;
	/* With a close name, list it and the others as close (within 3 edits, or as many as it,
	 * or one name inside the other); without one, list them all. */
	if (close != NULL && diag_edit_distance(close, v->value) > near)
		near = diag_edit_distance(close, v->value);
	for (i = 0; i < n && used < sizeof list - 64; i++) {
		if (close != NULL && names[i] != close &&
		    diag_edit_distance(names[i], v->value) > near &&
		    strstr(names[i], v->value) == NULL && strstr(v->value, names[i]) == NULL)
			continue;
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
					 names[i]);
	}
	if (close != NULL)
		diag_add(d, v->at, key, "unknown %s preset '%s' (did you mean '%s'? close names: %s)",
			 preset_noun(kind), v->value, close, list);
	else if (n > 0)
		diag_add(d, v->at, key, "unknown %s preset '%s' (known: %s)", preset_noun(kind),
			 v->value, list);
	else
		diag_add(d, v->at, key,
			 "unknown %s preset '%s' (no presets found: set DSSIM_DATA to the data directory)",
			 preset_noun(kind), v->value);
	free(names);
}

/*
 * Preset files parsed once per process: a sweep loads the same few presets for every group of
 * points. Loading rewrites the tree it is given (nested presets, overrides), so each use gets a
 * copy in the scenario's arena; the cached trees and their strings live until exit. Only files
 * that parse are kept, so a bad one is diagnosed every time.
 */
enum { PRESET_CACHE_MAX = 256 };
static struct arena *cache_arena;
static struct {
	char *path;
	struct ynode *root;
} preset_cache[PRESET_CACHE_MAX];
static size_t preset_cached;

static struct ynode *load_preset_file(struct arena *a, const char *path, struct diag *d)
{
	struct ynode *root;
	size_t i;
	for (i = 0; i < preset_cached; i++)
		if (strcmp(preset_cache[i].path, path) == 0)
			return preset_copy_tree(a, preset_cache[i].root);
	if (preset_cached == PRESET_CACHE_MAX)
		return yamltree_load(a, path, d);
	if (cache_arena == NULL)
		cache_arena = arena_new();
	root = yamltree_load(cache_arena, path, d);
	if (root == NULL)
		return NULL;
	preset_cache[preset_cached].path = arena_strdup(cache_arena, path);
	preset_cache[preset_cached].root = root;
	preset_cached++;
	return preset_copy_tree(a, root);
}

/* "org/name" from a HuggingFace cache directory, "models--org--name": huggingface_hub writes
 * "models--" + repo_id with '/' as "--" (file_download.repo_folder_name), and repo ids hold no
 * "--" of their own (validate_repo_id). NULL for any other directory name. */
static char *cache_repo_id(struct arena *a, const char *dir, size_t len)
{
	char *id, *p;
	if (len <= 8 || strncmp(dir, "models--", 8) != 0)
		return NULL;
	id = arena_strndup(a, dir + 8, len - 8);
	while ((p = strstr(id, "--")) != NULL) {
		*p = '/';
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
	}
	return id;
}

/*
 * The name of a model given as a HuggingFace config file, used when the config has no
 * _name_or_path (hfconfig_convert): NAME.json is NAME; a config.json inside the HuggingFace
 * cache (models--org--name/snapshots/REV/config.json) is org/name; another config.json is named
 * by its directory, resolved first so that ./config.json takes the working directory's name;
 * "model" when nothing names it (a config.json in /).
 */
static const char *hf_model_name(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/'), *file = slash ? slash + 1 : path;
	const char *repo = NULL, *last = NULL, *c;
	size_t len = strlen(file);
	char *dir, *real;
	if (strcmp(file, "config.json") != 0)
		return len > 5 && strcmp(file + len - 5, ".json") == 0
			       ? arena_strndup(a, file, len - 5) : file;
	/* The directory, not the file: a cache snapshot's config.json links into blobs/. */
	dir = slash == NULL ? arena_strdup(a, ".")
	      : slash == path ? arena_strdup(a, "/") : arena_strndup(a, path, (size_t)(slash - path));
	real = realpath(dir, NULL);
	if (real != NULL)
		dir = arena_strdup(a, real);
	free(real);
	/* The innermost models--org--name among the components, else the last component. */
	for (c = dir + strspn(dir, "/"); *c != '\0'; c += strspn(c, "/")) {
		size_t n = strcspn(c, "/");
		const char *id = cache_repo_id(a, c, n);
		if (id != NULL)
			repo = id;
		last = arena_strndup(a, c, n);
		c += n;
	}
	if (repo != NULL)
		return repo;
	return last == NULL || strcmp(last, ".") == 0 || strcmp(last, "..") == 0 ? "model" : last;
}

struct ynode *preset_load(const struct preset_roots *roots, struct arena *a, enum preset_kind kind,
			  const char *key, const struct ynode *v, struct diag *d)
{
	char *path = NULL;
	struct ynode *root;
	if (v->value[0] == '\0') {
		diag_add(d, v->at, key, "expected a %s preset name, a path or a mapping, got nothing",
			 preset_noun(kind));
		return NULL;
	}
	if (looks_like_path(v->value)) {
		if (v->value[0] == '/') {
			path = arena_strdup(a, v->value);
		} else {
			path = arena_printf(a, "%s/%s", preset_dir_of(a, v->at.file),
					    v->value);
			if (!is_file(path) && !is_dir(path) &&
			    (is_file(v->value) || is_dir(v->value)))
				path = arena_strdup(a, v->value);
		}
		/* A model directory is a HuggingFace snapshot (huggingface_hub's
		 * snapshot_download, save_pretrained): its config.json is the model. */
		if (kind == PRESET_MODEL && is_dir(path)) {
			char *config = arena_printf(a, "%s/config.json", path);
			if (is_file(config)) {
				path = config;
			} else {
				diag_add(d, v->at, key, "'%s' is a directory without a config.json, "
					 "not a model snapshot", v->value);
				return NULL;
			}
		}
		if (!is_file(path)) {
			struct stat st;
			if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				diag_add(d, v->at, key, "'%s' is a directory, not a %s file",
					 v->value, preset_noun(kind));
			else if (stat(path, &st) == 0)
				diag_add(d, v->at, key, "'%s' is not a regular file (a device, FIFO "
					 "or socket), not a %s file", v->value, preset_noun(kind));
			else
				diag_add(d, v->at, key, "cannot read %s file '%s': %s",
					 preset_noun(kind), v->value, strerror(ENOENT));
			return NULL;
		}
	} else if (!is_preset_name(v->value)) {
		diag_add(d, v->at, key, "'%s' is not a preset name (letters, digits, '.', '-', '_')",
			 v->value);
		return NULL;
	} else {
		path = find_preset(roots, a, kind, v->value);
		if (path == NULL) {
			unknown_preset(roots, a, kind, key, v, d);
			return NULL;
		}
	}
	root = load_preset_file(a, path, d);
	if (root == NULL)
		return NULL;
	if (kind == PRESET_MODEL && hfconfig_is_hf(root))
		return hfconfig_convert(a, root, hf_model_name(a, path), d);
	if (root->kind != YNODE_MAP) {
		diag_add(d, root->at, key, "a %s preset must be a mapping, got %s", preset_noun(kind),
			 yamltree_kind_name(root));
		return NULL;
	}
	return root;
}

void preset_roots_init(struct preset_roots *roots, struct arena *a, const char *file,
		       const char *data_dir)
{
	const char *env = getenv("DSSIM_DATA");
	char *dir = preset_dir_of(a, file);
	roots->n = 0;
	roots->dir[roots->n++] = dir;
	roots->dir[roots->n++] = arena_printf(a, "%s/..", dir);
	roots->dir[roots->n++] = ".";
	if (data_dir && data_dir[0])
		roots->dir[roots->n++] = data_dir;
	if (env && env[0])
		roots->dir[roots->n++] = arena_strdup(a, env);
	roots->dir[roots->n++] = DSSIM_PKGDATADIR;
}

struct ynode *preset_copy_tree(struct arena *a, const struct ynode *n)
{
	struct ynode *c = arena_alloc(a, sizeof *c);
	size_t i;
	*c = *n;
	if (n->kind == YNODE_MAP) {
		c->members = arena_array(a, n->count, sizeof *c->members);
		for (i = 0; i < n->count; i++) {
			c->members[i] = n->members[i];
			c->members[i].value = preset_copy_tree(a, n->members[i].value);
		}
	} else if (n->kind == YNODE_SEQ) {
		c->items = arena_array(a, n->count, sizeof *c->items);
		for (i = 0; i < n->count; i++)
			c->items[i] = preset_copy_tree(a, n->items[i]);
	}
	return c;
}
