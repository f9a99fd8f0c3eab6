/*
 * yamltree: a YAML (or JSON) document as a tree whose every node knows its file, line and column.
 * Input stage, right after the foundations; the only module that calls libyaml. It knows nothing
 * about scenarios: keys are plain strings, scalars plain text.
 */
#ifndef DSSIM_YAMLTREE_H
#define DSSIM_YAMLTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "xalloc.h"

enum ynode_kind { YNODE_SCALAR, YNODE_MAP, YNODE_SEQ };

struct ymember;

struct ynode {
	enum ynode_kind kind;
	struct mark at;
	const char *value;          /* scalar text (YNODE_SCALAR) */
	bool quoted;                /* the scalar was quoted: "8" is text, 8 a number */
	size_t count;               /* members (map) or items (seq) */
	struct ymember *members;    /* YNODE_MAP, in document order */
	struct ynode **items;       /* YNODE_SEQ */
};

struct ymember {
	const char *key;
	struct mark key_at;
	struct ynode *value;
};

/* Limits that keep hostile input cheap; beyond them the document is rejected with a diagnostic. */
enum {
	YAMLTREE_MAX_DEPTH = 64,
	YAMLTREE_MAX_NODES = 1000000,
	YAMLTREE_MAX_BYTES = 64 * 1024 * 1024,
};

/*
 * Read and parse a file. Every node, string and the file name live in the arena. Returns the root,
 * or NULL with diagnostics (unreadable, a directory, empty, binary, malformed, duplicate keys,
 * aliases, more than one document, too deep or too large).
 */
struct ynode *yamltree_load(struct arena *a, const char *path, struct diag *d);
/* The same for the len bytes at text (no NUL terminator needed); name is used in diagnostics. */
struct ynode *yamltree_parse(struct arena *a, const char *name, const char *text, size_t len,
			     struct diag *d);

/* The member of a map with this key, or NULL (also when map is NULL or not a map). */
struct ymember *yamltree_member(const struct ynode *map, const char *key);
struct ynode *yamltree_get(const struct ynode *map, const char *key);

/* Build nodes in code (HuggingFace import, --set overrides). */
struct ynode *yamltree_new_scalar(struct arena *a, struct mark at, const char *text);
struct ynode *yamltree_new_map(struct arena *a, struct mark at);
/* Set key in map to value, replacing an existing member's value or appending a new member. */
void yamltree_map_set(struct arena *a, struct ynode *map, const char *key, struct mark key_at,
		      struct ynode *value);

/* Whether a node is YAML's null: a plain null, ~ or empty scalar (a quoted "null" is text). */
bool yamltree_is_null(const struct ynode *n);

/* The name of a node's kind for messages: "a mapping", "a list", "a scalar". */
const char *yamltree_kind_name(const struct ynode *n);

#endif
