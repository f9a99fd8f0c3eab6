/*
 * yamltree: libyaml events -> a tree with file:line:col on every node. Input stage.
 * Only this file calls yaml_*; libyaml errors are translated here, once, into diagnostics.
 * libyaml marks are zero-based; ours are one-based.
 */
#include "yamltree.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

/* A node under construction: children collect in a heap array, then move into the arena. */
struct frame {
	struct ynode *node;
	struct ymember *members;
	struct ynode **items;
	size_t count, cap;
	const char *pending_key;   /* map: key read, value not yet */
	struct mark pending_at;
	/* map: open-addressing index of members by key (member index + 1, 0 empty), so that
	 * checking a key for duplicates costs O(1) and a mapping of n keys O(n), not O(n^2). */
	uint32_t *slots;
	size_t nslots;
};

struct builder {
	struct arena *a;
	const char *file;
	struct diag *d;
	struct frame stack[YAMLTREE_MAX_DEPTH + 1];
	int depth;
	size_t nodes;
	struct ynode *root;
	bool failed;
};

static struct mark mark_of(const struct builder *b, yaml_mark_t m)
{
	struct mark at = {b->file, (int)m.line + 1, (int)m.column + 1};
	return at;
}

/* The dotted path of a key in the mapping being built: the keys of the enclosing mappings. */
static const char *key_path(const struct builder *b, const char *key, char *buf, size_t size)
{
	size_t used = 0;
	int i;
	buf[0] = '\0';
	for (i = 0; i < b->depth - 1; i++) {
		const struct frame *f = &b->stack[i];
		if (f->node->kind == YNODE_MAP && f->pending_key != NULL && used < size)
			used += (size_t)snprintf(buf + used, size - used, "%s.", f->pending_key);
	}
	if (used < size)
		snprintf(buf + used, size - used, "%s", key);
	return buf;
}

/* FNV-1a, 32 bits (Fowler, Noll, Vo; the published offset basis and prime). */
static uint32_t key_hash(const char *k)
{
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return h;
}

/* The member of frame f whose key is k, or -1. Linear probing over a power-of-two table. */
static long find_key(const struct frame *f, const char *k)
{
	size_t mask = f->nslots - 1, i;
	if (f->nslots == 0)
		return -1;
	for (i = key_hash(k) & mask; f->slots[i] != 0; i = (i + 1) & mask)
		if (strcmp(f->members[f->slots[i] - 1].key, k) == 0)
			return (long)f->slots[i] - 1;
	return -1;
}

static void index_member(struct frame *f, size_t m)
{
	size_t mask, i;
	if (2 * (f->count + 1) > f->nslots) {
		/* Grow to keep the load at most 1/2, then reinsert the members before m. */
		size_t j;
		f->nslots = f->nslots ? 2 * f->nslots : 16;
		free(f->slots);
		f->slots = xcalloc(f->nslots, sizeof *f->slots);
		for (j = 0; j < m; j++) {
			if (find_key(f, f->members[j].key) >= 0)
				continue;   /* a duplicate: the first stays indexed */
			mask = f->nslots - 1;
			for (i = key_hash(f->members[j].key) & mask; f->slots[i] != 0;
			     i = (i + 1) & mask)
				;
			f->slots[i] = (uint32_t)j + 1;
		}
	}
	mask = f->nslots - 1;
	for (i = key_hash(f->members[m].key) & mask; f->slots[i] != 0; i = (i + 1) & mask)
		;
	f->slots[i] = (uint32_t)m + 1;
}

/* An explicit tag is refused unless it is one of the YAML core schema's (!!str, !!int, ...),
 * which say no more than the plain value does: !!binary, !!set or a local !tag were dropped
 * silently, and the value read as something its author did not write. */
static bool tag_ok(struct builder *b, const yaml_char_t *tag, yaml_mark_t m)
{
	static const char *const core[] = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
					   "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
					   "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
					   "tag:yaml.org,2002:seq"};
	size_t i;
	if (tag == NULL)
		return true;
	for (i = 0; i < sizeof core / sizeof core[0]; i++)
		if (strcmp((const char *)tag, core[i]) == 0)
			return true;
	diag_add(b->d, mark_of(b, m), NULL, "YAML tag '%s' is not supported: write the plain value",
		 (const char *)tag);
	b->failed = true;
	return false;
}

static void add_child(struct builder *b, struct ynode *n)
{
	struct frame *f;
	if (b->depth == 0) {
		b->root = n;
		return;
	}
	f = &b->stack[b->depth - 1];
	if (f->node->kind == YNODE_MAP && f->pending_key == NULL) {
		long i;
		if (n->kind != YNODE_SCALAR) {
			diag_add(b->d, n->at, NULL, "a mapping key must be a scalar, not a list or a mapping");
			b->failed = true;
			return;
		}
		if ((i = find_key(f, n->value)) >= 0) {
			char path[512];
			diag_add(b->d, n->at, key_path(b, n->value, path, sizeof path),
				 "duplicate key (first given at line %d)", f->members[i].key_at.line);
			b->failed = true;
		}
		f->pending_key = n->value;
		f->pending_at = n->at;
		return;
	}
	if (f->count == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 8;
		if (f->node->kind == YNODE_MAP)
			f->members = xreallocarray(f->members, f->cap, sizeof *f->members);
		else
			f->items = xreallocarray(f->items, f->cap, sizeof *f->items);
	}
	if (f->node->kind == YNODE_MAP) {
		f->members[f->count].key = f->pending_key;
		f->members[f->count].key_at = f->pending_at;
		f->members[f->count].value = n;
		f->pending_key = NULL;
		/* A duplicate stays out of the index: later ones are reported against the first. */
		if (find_key(f, f->members[f->count].key) < 0)
			index_member(f, f->count);
	} else {
		f->items[f->count] = n;
	}
	f->count++;
}

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, yaml_mark_t m)
{
	struct ynode *n;
	if (++b->nodes > YAMLTREE_MAX_NODES) {
		if (!b->failed)
			diag_add(b->d, mark_of(b, m), NULL, "document has more than %d nodes",
				 YAMLTREE_MAX_NODES);
		b->failed = true;
		return NULL;
	}
	n = arena_alloc(b->a, sizeof *n);
	n->kind = kind;
	n->at = mark_of(b, m);
	return n;
}

static void open_node(struct builder *b, enum ynode_kind kind, yaml_mark_t m)
{
	struct ynode *n;
	struct frame *f;
	if (b->depth >= YAMLTREE_MAX_DEPTH) {
		diag_add(b->d, mark_of(b, m), NULL, "nesting deeper than %d levels", YAMLTREE_MAX_DEPTH);
		b->failed = true;
		return;
	}
	n = new_node(b, kind, m);
	if (n == NULL)
		return;
	f = &b->stack[b->depth++];
	memset(f, 0, sizeof *f);
	f->node = n;
}

static void close_node(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	struct ynode *n = f->node;
	n->count = f->count;
	if (n->kind == YNODE_MAP) {
		n->members = arena_array(b->a, f->count, sizeof *n->members);
		if (f->count)
			memcpy(n->members, f->members, f->count * sizeof *n->members);
	} else {
		n->items = arena_array(b->a, f->count, sizeof *n->items);
		if (f->count)
			memcpy(n->items, f->items, f->count * sizeof *n->items);
	}
	free(f->members);
	free(f->items);
	free(f->slots);
	add_child(b, n);
}

static void release_stack(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[--b->depth];
		free(f->members);
		free(f->items);
		free(f->slots);
	}
}

static void parser_error(struct builder *b, const yaml_parser_t *p)
{
	struct mark at = {b->file, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1};
	const char *what = p->problem ? p->problem : "malformed document";
	if (p->error == YAML_READER_ERROR) {
		/* Reader errors carry a byte offset, not a line: the bytes are not text. */
		at.line = 0;
		at.col = 0;
		diag_add(b->d, at, NULL, "not a text file: %s at byte %zu", what, p->problem_offset);
		return;
	}
	size_t n = strlen(b->file);
	const char *lang = n > 5 && strcmp(b->file + n - 5, ".json") == 0 ? "JSON" : "YAML";
	if (p->context)
		diag_add(b->d, at, NULL, "malformed %s: %s %s", lang, what, p->context);
	else
		diag_add(b->d, at, NULL, "malformed %s: %s", lang, what);
}

/* The one-based line and column of a byte offset (columns count bytes). */
static struct mark mark_at_offset(const char *file, const char *text, size_t offset)
{
	struct mark at = {file, 1, 1};
	size_t i;
	for (i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			at.line++;
			at.col = 1;
		} else {
			at.col++;
		}
	}
	return at;
}

/* The offset of the first byte that does not start a valid UTF-8 sequence (RFC 3629), or len. */
static size_t utf8_invalid_at(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n, k;
		unsigned int cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n + 1;
	}
	return len;
}

/* Whether the len bytes at text are all blank. text need not end in a NUL (the fuzz targets
 * pass buffers of exactly len bytes), so strspn() would read past it. */
static bool only_blank(const char *text, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		if (strchr(" \t\r\n", text[i]) == NULL || text[i] == '\0')
			return false;
	return true;
}

struct ynode *yamltree_parse(struct arena *a, const char *name, const char *text, size_t len,
			     struct diag *d)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct builder b;
	int documents = 0;
	bool done = false;
	struct mark top = {NULL, 0, 0};

	memset(&b, 0, sizeof b);
	b.a = a;
	b.file = arena_strdup(a, name);
	b.d = d;
	top.file = b.file;
	if (memchr(text, '\0', len) != NULL) {
		struct mark at = mark_at_offset(b.file, text, (size_t)((const char *)memchr(text, '\0',
									  len) - text));
		diag_add(d, at, NULL, "not a text file: it holds a NUL byte");
		return NULL;
	}
	{
		size_t bad = utf8_invalid_at(text, len);
		if (bad < len) {
			diag_add(d, mark_at_offset(b.file, text, bad), NULL,
				 "not valid UTF-8 (byte 0x%02X)", (unsigned char)text[bad]);
			return NULL;
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		diag_add(d, top, NULL, "cannot start the YAML parser");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			parser_error(&b, &parser);
			b.failed = true;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++documents > 1) {
				diag_add(d, mark_of(&b, ev.start_mark), NULL,
					 "more than one YAML document in the file");
				b.failed = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			diag_add(d, mark_of(&b, ev.start_mark), NULL,
				 "YAML aliases (*name) are not supported: write the value out");
			b.failed = true;
			break;
		case YAML_SCALAR_EVENT: {
			struct ynode *n;
			tag_ok(&b, ev.data.scalar.tag, ev.start_mark);
			n = new_node(&b, YNODE_SCALAR, ev.start_mark);
			if (n == NULL)
				break;
			n->value = arena_strndup(a, (const char *)ev.data.scalar.value,
						 ev.data.scalar.length);
			if (strlen(n->value) != ev.data.scalar.length) {
				diag_add(d, n->at, NULL, "a value holds a NUL character");
				b.failed = true;
			}
			n->quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
			add_child(&b, n);
			break;
		}
		case YAML_SEQUENCE_START_EVENT:
			tag_ok(&b, ev.data.sequence_start.tag, ev.start_mark);
			open_node(&b, YNODE_SEQ, ev.start_mark);
			break;
		case YAML_MAPPING_START_EVENT:
			tag_ok(&b, ev.data.mapping_start.tag, ev.start_mark);
			open_node(&b, YNODE_MAP, ev.start_mark);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			close_node(&b);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	release_stack(&b);
	if (b.failed)
		return NULL;
	if (b.root == NULL) {
		diag_add(d, top, NULL, only_blank(text, len)
					   ? "the file is empty"
					   : "no YAML document: the file holds only comments");
		return NULL;
	}
	return b.root;
}

struct ynode *yamltree_load(struct arena *a, const char *path, struct diag *d)
{
	struct mark top = {arena_strdup(a, path), 0, 0};
	struct stat st;
	FILE *f;
	char *text;
	size_t len;
	struct ynode *root;

	if (stat(path, &st) != 0) {
		diag_add(d, top, NULL, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		diag_add(d, top, NULL, "is a directory, not a file");
		return NULL;
	}
	if (st.st_size > YAMLTREE_MAX_BYTES) {
		diag_add(d, top, NULL, "file is larger than %d MiB", YAMLTREE_MAX_BYTES >> 20);
		return NULL;
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		diag_add(d, top, NULL, "cannot read: %s", strerror(errno));
		return NULL;
	}
	text = xmalloc((size_t)YAMLTREE_MAX_BYTES + 1);
	len = fread(text, 1, (size_t)YAMLTREE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		diag_add(d, top, NULL, "cannot read: %s", strerror(errno));
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	if (len > YAMLTREE_MAX_BYTES) {
		diag_add(d, top, NULL, "file is larger than %d MiB", YAMLTREE_MAX_BYTES >> 20);
		free(text);
		return NULL;
	}
	if (len == 0) {
		diag_add(d, top, NULL, "the file is empty");
		free(text);
		return NULL;
	}
	root = yamltree_parse(a, path, text, len, d);
	free(text);
	return root;
}

struct ymember *yamltree_member(const struct ynode *map, const char *key)
{
	size_t i;
	if (map == NULL || map->kind != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->count; i++)
		if (strcmp(map->members[i].key, key) == 0)
			return &map->members[i];
	return NULL;
}

struct ynode *yamltree_get(const struct ynode *map, const char *key)
{
	struct ymember *m = yamltree_member(map, key);
	return m ? m->value : NULL;
}

struct ynode *yamltree_new_scalar(struct arena *a, struct mark at, const char *text)
{
	struct ynode *n = arena_alloc(a, sizeof *n);
	n->kind = YNODE_SCALAR;
	n->at = at;
	n->value = arena_strdup(a, text);
	return n;
}

struct ynode *yamltree_new_map(struct arena *a, struct mark at)
{
	struct ynode *n = arena_alloc(a, sizeof *n);
	n->kind = YNODE_MAP;
	n->at = at;
	return n;
}

void yamltree_map_set(struct arena *a, struct ynode *map, const char *key, struct mark key_at,
		      struct ynode *value)
{
	struct ymember *m = yamltree_member(map, key);
	struct ymember *grown;
	if (m != NULL) {
		m->value = value;
		m->key_at = key_at;
		return;
	}
	grown = arena_array(a, map->count + 1, sizeof *grown);
	if (map->count)
		memcpy(grown, map->members, map->count * sizeof *grown);
	grown[map->count].key = arena_strdup(a, key);
	grown[map->count].key_at = key_at;
	grown[map->count].value = value;
	map->members = grown;
	map->count++;
}

bool yamltree_is_null(const struct ynode *n)
{
	return n->kind == YNODE_SCALAR && !n->quoted &&
	       (strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0 || n->value[0] == '\0');
}

const char *yamltree_kind_name(const struct ynode *n)
{
	switch (n->kind) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	default:
		return "a scalar";
	}
}
