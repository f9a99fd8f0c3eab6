/*
 * test_yamltree: YAML and JSON text -> a tree with one-based file:line:col on every key and value.
 * Columns are counted by hand in the comments; every rejection (duplicate key, alias, two
 * documents, too deep, too many nodes, NUL, bad UTF-8, empty, malformed, unreadable) is provoked
 * on purpose and must give NULL with exactly one diagnostic.
 */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_errno.h>
#include <sys/stat.h>

#include "diag.h"
#include "xalloc.h"
#include "yamltree.h"

/* An arena and a diagnostic list per test, so a failed test leaks nothing into the next. */
struct fixture {
	struct arena *a;
	struct diag d;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	f->a = arena_new();
	diag_init(&f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	diag_release(&f->d);
	arena_free(f->a);
	free(f);
	return 0;
}

static struct ynode *parse(struct fixture *f, const char *name, const char *text)
{
	return yamltree_parse(f->a, name, text, strlen(text), &f->d);
}

/* Parse text that must load; print the diagnostics when it does not. */
static struct ynode *parse_ok(struct fixture *f, const char *name, const char *text)
{
	struct ynode *root = parse(f, name, text);
	if (root == NULL) {
		diag_print(&f->d, stderr);
		fail_msg("%s did not parse", name);
	}
	assert_int_equal(f->d.count, 0);
	return root;
}

/* The document was rejected with exactly one diagnostic, which reads `expected`. */
static void assert_one_diag(struct fixture *f, const struct ynode *root, const char *expected)
{
	char buf[1024];
	assert_null(root);
	if (f->d.count != 1)
		diag_print(&f->d, stderr);
	assert_int_equal(f->d.count, 1);
	assert_string_equal(diag_format(&f->d.items[0], buf, sizeof buf), expected);
}

static void assert_at(struct mark at, const char *file, int line, int col)
{
	assert_string_equal(at.file, file);
	assert_int_equal(at.line, line);
	assert_int_equal(at.col, col);
}

/* A path under TOP_BUILDDIR/tests/out/yamltree (created): tests write only to the build tree. */
static const char *out_path(char *buf, size_t size, const char *name)
{
	const char *b = getenv("TOP_BUILDDIR");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/tests", b && b[0] ? b : ".");
	mkdir(dir, 0777);
	snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/out");
	mkdir(dir, 0777);
	snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/yamltree");
	mkdir(dir, 0777);
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

static void write_file(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static const char scenario_text[] =
	"model:\n"                         /* line 1 */
	"  name: llama-3-8b\n"             /* line 2 */
	"  layers: 32\n"                   /* line 3 */
	"cluster:\n"                       /* line 4 */
	"  node: dgx-h100\n"               /* line 5 */
	"  nodes: [1, 2]\n"                /* line 6 */
	"workload:\n"                      /* line 7 */
	"  - {mode: infer, seq_len: 4096}\n"; /* line 8 */

static void yamltree_marks_keys_and_values_one_based(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse_ok(f, "scenarios/8b.yaml", scenario_text);
	struct ymember *m;
	struct ynode *model, *nodes, *w;
	assert_int_equal(root->kind, YNODE_MAP);
	assert_at(root->at, "scenarios/8b.yaml", 1, 1);
	/* "model:" starts the file: libyaml's 0:0 is our 1:1. */
	m = yamltree_member(root, "model");
	assert_non_null(m);
	assert_at(m->key_at, "scenarios/8b.yaml", 1, 1);
	model = m->value;
	/* A block mapping starts at its first key: "  name" -> line 2, column 3. */
	assert_at(model->at, "scenarios/8b.yaml", 2, 3);
	/* "  layers: 32": the key at column 3, "32" after "  layers: " (10 characters) at 11. */
	m = yamltree_member(model, "layers");
	assert_at(m->key_at, "scenarios/8b.yaml", 3, 3);
	assert_at(m->value->at, "scenarios/8b.yaml", 3, 11);
	assert_string_equal(m->value->value, "32");
	/* "  nodes: [1, 2]": '[' at 10, '1' at 11, '2' at 14. */
	nodes = yamltree_get(yamltree_get(root, "cluster"), "nodes");
	assert_at(nodes->at, "scenarios/8b.yaml", 6, 10);
	assert_at(nodes->items[0]->at, "scenarios/8b.yaml", 6, 11);
	assert_at(nodes->items[1]->at, "scenarios/8b.yaml", 6, 14);
	/* "  - {mode: infer, seq_len: 4096}": '-' at 3, '{' at 5, "mode: infer, " fills 6-18, so
	 * "seq_len" is at 19 and "4096" after "seq_len: " at 28. */
	w = yamltree_get(root, "workload");
	assert_at(w->at, "scenarios/8b.yaml", 8, 3);
	assert_at(w->items[0]->at, "scenarios/8b.yaml", 8, 5);
	m = yamltree_member(w->items[0], "seq_len");
	assert_at(m->key_at, "scenarios/8b.yaml", 8, 19);
	assert_at(m->value->at, "scenarios/8b.yaml", 8, 28);
}

static void yamltree_marks_json_keys_and_values(void **state)
{
	struct fixture *f = *state;
	/* The first lines of gpt2's config.json: JSON is YAML. */
	struct ynode *root = parse_ok(f, "config.json",
				      "{\n"
				      "  \"activation_function\": \"gelu_new\",\n"
				      "  \"n_embd\": 768,\n"
				      "  \"summary_activation\": null\n"
				      "}\n");
	struct ymember *m = yamltree_member(root, "n_embd");
	assert_at(root->at, "config.json", 1, 1);
	/* '  "n_embd": 768': the quoted key at column 3, 768 after 12 characters at 13. */
	assert_at(m->key_at, "config.json", 3, 3);
	assert_at(m->value->at, "config.json", 3, 13);
	assert_false(m->value->quoted);
	assert_true(yamltree_get(root, "activation_function")->quoted);
	assert_string_equal(yamltree_get(root, "activation_function")->value, "gelu_new");
	assert_false(yamltree_get(root, "summary_activation")->quoted);
	assert_string_equal(yamltree_get(root, "summary_activation")->value, "null");
}

static void yamltree_flags_quoted_scalars(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse_ok(f, "q.yaml",
				      "dtype: bf16\n"
				      "tp: \"8\"\n"
				      "pp: '4'\n"
				      "dp: 2\n"
				      "name: |\n"
				      "  llama\n"
				      "note:\n");
	/* "8" is text, 8 a number: only plain scalars are unquoted. */
	assert_false(yamltree_get(root, "dtype")->quoted);
	assert_true(yamltree_get(root, "tp")->quoted);
	assert_string_equal(yamltree_get(root, "tp")->value, "8");
	assert_true(yamltree_get(root, "pp")->quoted);
	assert_string_equal(yamltree_get(root, "pp")->value, "4");
	assert_false(yamltree_get(root, "dp")->quoted);
	/* A literal block keeps its newline and is not plain. */
	assert_true(yamltree_get(root, "name")->quoted);
	assert_string_equal(yamltree_get(root, "name")->value, "llama\n");
	/* A key without a value holds an empty plain scalar. */
	assert_int_equal(yamltree_get(root, "note")->kind, YNODE_SCALAR);
	assert_false(yamltree_get(root, "note")->quoted);
	assert_string_equal(yamltree_get(root, "note")->value, "");
}

static void yamltree_keeps_lists_and_maps_in_document_order(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse_ok(f, "order.yaml",
				      "sweep:\n"
				      "  - {tp: 1, pp: 8}\n"
				      "  - {tp: 2, pp: 4}\n"
				      "  - {tp: 8, pp: 1}\n"
				      "zeta: 1\n"
				      "alpha: 2\n"
				      "empty_list: []\n"
				      "empty_map: {}\n");
	struct ynode *sweep = yamltree_get(root, "sweep");
	static const char *const tp[] = {"1", "2", "8"}, *const pp[] = {"8", "4", "1"};
	size_t i;
	assert_int_equal(root->count, 5);
	/* Keys stay in document order, not sorted. */
	assert_string_equal(root->members[0].key, "sweep");
	assert_string_equal(root->members[1].key, "zeta");
	assert_string_equal(root->members[2].key, "alpha");
	assert_int_equal(sweep->kind, YNODE_SEQ);
	assert_int_equal(sweep->count, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(sweep->items[i]->kind, YNODE_MAP);
		assert_int_equal(sweep->items[i]->count, 2);
		assert_string_equal(yamltree_get(sweep->items[i], "tp")->value, tp[i]);
		assert_string_equal(yamltree_get(sweep->items[i], "pp")->value, pp[i]);
		assert_int_equal(sweep->items[i]->at.line, (int)i + 2);
	}
	assert_int_equal(yamltree_get(root, "empty_list")->kind, YNODE_SEQ);
	assert_int_equal(yamltree_get(root, "empty_list")->count, 0);
	assert_int_equal(yamltree_get(root, "empty_map")->kind, YNODE_MAP);
	assert_int_equal(yamltree_get(root, "empty_map")->count, 0);
	assert_string_equal(yamltree_kind_name(sweep), "a list");
	assert_string_equal(yamltree_kind_name(root), "a mapping");
	assert_string_equal(yamltree_kind_name(yamltree_get(root, "zeta")), "a scalar");
}

static void yamltree_get_finds_members_and_nothing_else(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse_ok(f, "get.yaml", "model: gpt2\nnodes: [1, 2]\n");
	struct ynode *nodes = yamltree_get(root, "nodes");
	assert_string_equal(yamltree_get(root, "model")->value, "gpt2");
	assert_ptr_equal(yamltree_member(root, "model")->value, yamltree_get(root, "model"));
	assert_string_equal(yamltree_member(root, "nodes")->key, "nodes");
	/* Missing keys, prefixes of keys, and lookups in non-maps give NULL. */
	assert_null(yamltree_get(root, "cluster"));
	assert_null(yamltree_get(root, "mode"));
	assert_null(yamltree_get(root, ""));
	assert_null(yamltree_member(NULL, "model"));
	assert_null(yamltree_get(NULL, "model"));
	assert_null(yamltree_get(nodes, "0"));
	assert_null(yamltree_member(yamltree_get(root, "model"), "model"));
}

static void yamltree_map_set_replaces_in_place_and_appends_new_keys(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse_ok(f, "set.yaml", "model:\n  layers: 32\n  hidden: 4096\n");
	struct ynode *model = yamltree_get(root, "model");
	struct mark cli = {"--set", 0, 0}, at9 = {"override.yaml", 9, 5};
	char text[] = "40";
	/* Replacing keeps the member's place and count; the key's mark moves to the new source. */
	yamltree_map_set(f->a, model, "layers", at9, yamltree_new_scalar(f->a, cli, text));
	text[0] = '8';   /* the scalar holds its own copy */
	assert_int_equal(model->count, 2);
	assert_string_equal(model->members[0].key, "layers");
	assert_string_equal(model->members[0].value->value, "40");
	assert_false(model->members[0].value->quoted);
	assert_at(model->members[0].key_at, "override.yaml", 9, 5);
	assert_string_equal(model->members[0].value->at.file, "--set");
	assert_string_equal(model->members[1].key, "hidden");
	/* A new key goes at the end; the earlier members are untouched. */
	yamltree_map_set(f->a, model, "heads", cli, yamltree_new_scalar(f->a, cli, "32"));
	assert_int_equal(model->count, 3);
	assert_string_equal(model->members[2].key, "heads");
	assert_string_equal(yamltree_get(model, "heads")->value, "32");
	assert_string_equal(yamltree_get(model, "layers")->value, "40");
	assert_string_equal(yamltree_get(model, "hidden")->value, "4096");
	assert_at(yamltree_member(model, "hidden")->key_at, "set.yaml", 3, 3);
}

static void yamltree_map_set_builds_a_map_from_nothing(void **state)
{
	struct fixture *f = *state;
	struct mark at = {"config.json", 1, 1};
	struct ynode *map = yamltree_new_map(f->a, at), *moe = yamltree_new_map(f->a, at);
	char key[16], val[16];
	int i;
	assert_int_equal(map->kind, YNODE_MAP);
	assert_int_equal(map->count, 0);
	assert_null(yamltree_get(map, "layers"));
	/* 61 layers' worth of keys: the member array grows past any first guess. */
	for (i = 0; i < 61; i++) {
		snprintf(key, sizeof key, "layer%d", i);
		snprintf(val, sizeof val, "%d", 7168 + i);
		yamltree_map_set(f->a, map, key, at, yamltree_new_scalar(f->a, at, val));
	}
	yamltree_map_set(f->a, map, "moe", at, moe);
	yamltree_map_set(f->a, moe, "top_k", at, yamltree_new_scalar(f->a, at, "8"));
	assert_int_equal(map->count, 62);
	for (i = 0; i < 61; i++) {
		snprintf(key, sizeof key, "layer%d", i);
		snprintf(val, sizeof val, "%d", 7168 + i);
		assert_string_equal(map->members[i].key, key);
		assert_string_equal(map->members[i].value->value, val);
	}
	assert_string_equal(yamltree_get(yamltree_get(map, "moe"), "top_k")->value, "8");
}

static void yamltree_rejects_a_duplicate_key_naming_the_first(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse(f, "dup.yaml",
				   "model: llama-3-8b\n"
				   "cluster:\n"
				   "  node: dgx-h100\n"
				   "  nodes: 2\n"
				   "  node: p5.48xlarge\n");
	/* The second "node" (line 5, column 3) is reported, pointing back at line 3. */
	assert_one_diag(f, root, "dup.yaml:5:3: cluster.node: duplicate key (first given at line 3)");
}

static void yamltree_rejects_a_duplicate_key_in_json(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse(f, "config.json",
				   "{\n"
				   "  \"n_layer\": 12,\n"
				   "  \"n_embd\": 768,\n"
				   "  \"n_layer\": 24\n"
				   "}\n");
	assert_one_diag(f, root,
			"config.json:4:3: n_layer: duplicate key (first given at line 2)");
}

static void yamltree_rejects_aliases(void **state)
{
	struct fixture *f = *state;
	/* The anchor is harmless; the alias "*b" at line 2, column 9 is refused. */
	struct ynode *root = parse(f, "alias.yaml", "base: &b 4096\nhidden: *b\n");
	assert_one_diag(f, root,
			"alias.yaml:2:9: YAML aliases (*name) are not supported: "
			"write the value out");
}

static void yamltree_rejects_a_second_document(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse(f, "two.yaml", "model: gpt2\n---\nmodel: opt-13b\n");
	assert_one_diag(f, root, "two.yaml:2:1: more than one YAML document in the file");
	/* An explicit first document does not count twice. */
	diag_release(&f->d);
	diag_init(&f->d);
	parse_ok(f, "one.yaml", "---\nmodel: gpt2\n...\n");
}

/* Text of depth nested flow lists: "[[[...]]]". */
static char *nested_lists(int depth)
{
	char *t = xmalloc((size_t)depth * 2 + 1);
	memset(t, '[', (size_t)depth);
	memset(t + depth, ']', (size_t)depth);
	t[2 * depth] = '\0';
	return t;
}

static void yamltree_accepts_nesting_to_the_limit_and_no_deeper(void **state)
{
	struct fixture *f = *state;
	char *ok = nested_lists(YAMLTREE_MAX_DEPTH), *deep = nested_lists(YAMLTREE_MAX_DEPTH + 1);
	struct ynode *root = parse(f, "ok.yaml", ok), *n;
	int depth = 0;
	assert_non_null(root);
	for (n = root; n->count > 0; n = n->items[0])
		depth++;
	assert_int_equal(depth + 1, YAMLTREE_MAX_DEPTH);
	/* The 65th '[' is at column 65. */
	root = parse(f, "deep.yaml", deep);
	assert_one_diag(f, root, "deep.yaml:1:65: nesting deeper than 64 levels");
	free(ok);
	free(deep);
}

static void yamltree_rejects_more_than_a_million_nodes(void **state)
{
	struct fixture *f = *state;
	/* "[0,0,...,0]" with 1,000,001 zeros: with the list itself 1,000,002 nodes. */
	size_t zeros = YAMLTREE_MAX_NODES + 1, len = 1 + 2 * zeros, i;
	char *t = xmalloc(len + 1);
	struct ynode *root;
	t[0] = '[';
	for (i = 0; i < zeros; i++) {
		t[1 + 2 * i] = '0';
		t[2 + 2 * i] = ',';
	}
	t[len - 1] = ']';
	t[len] = '\0';
	root = parse(f, "big.yaml", t);
	/* Node 1,000,001 is zero number 1,000,000 (index 999,999), at column 2 + 2 * 999,999. */
	assert_one_diag(f, root, "big.yaml:1:2000000: document has more than 1000000 nodes");
	free(t);
}

static void yamltree_rejects_nul_bytes(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "model: gpt2\0\ncluster: {node: dgx-h100}\n";
	struct ynode *root = yamltree_parse(f->a, "nul.yaml", text, sizeof text - 1, &f->d);
	assert_one_diag(f, root, "nul.yaml:1:12: not a text file: it holds a NUL byte");
}

static void yamltree_rejects_invalid_utf8(void **state)
{
	struct fixture *f = *state;
	/* "name: llama" is 11 bytes, so the stray 0xff is byte 11 (zero-based). */
	struct ynode *root = parse(f, "latin1.yaml", "name: llama\xff\n");
	assert_one_diag(f, root,
			"latin1.yaml:1:12: not valid UTF-8 (byte 0xFF)");
	/* A cut two-byte sequence: 0xc3 at byte 10 needs a continuation byte; '\n' at 11 is not. */
	diag_release(&f->d);
	diag_init(&f->d);
	root = parse(f, "cut.yaml", "model: caf\xc3\n");
	assert_one_diag(f, root,
			"cut.yaml:1:11: not valid UTF-8 (byte 0xC3)");
	/* Valid UTF-8 is fine: "café" with é as 0xc3 0xa9. */
	diag_release(&f->d);
	diag_init(&f->d);
	root = parse_ok(f, "ok.yaml", "name: caf\xc3\xa9\n");
	assert_string_equal(yamltree_get(root, "name")->value, "caf\xc3\xa9");
}

static void yamltree_rejects_empty_text(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = yamltree_parse(f->a, "empty.yaml", "", 0, &f->d);
	assert_one_diag(f, root, "empty.yaml: the file is empty");
	/* Only a comment: still no document. */
	diag_release(&f->d);
	diag_init(&f->d);
	root = parse(f, "comment.yaml", "# a scenario, one day\n\n");
	assert_one_diag(f, root, "comment.yaml: no YAML document: the file holds only comments");
}

static void yamltree_rejects_malformed_yaml_where_it_breaks(void **state)
{
	struct fixture *f = *state;
	/* The list opened at column 34 is closed by '}' at column 39. */
	struct ynode *root = parse(f, "bracket.yaml", "cluster: {node: dgx-h100, nodes: [1, 2}\n");
	assert_one_diag(f, root,
			"bracket.yaml:1:39: malformed YAML: did not find expected ',' or ']' "
			"while parsing a flow sequence");
	/* Never closed: the parser notices at the start of line 2. */
	diag_release(&f->d);
	diag_init(&f->d);
	root = parse(f, "open.yaml", "nodes: [1, 2\n");
	assert_one_diag(f, root,
			"open.yaml:2:1: malformed YAML: did not find expected ',' or ']' "
			"while parsing a flow sequence");
	/* A tab may not indent. */
	diag_release(&f->d);
	diag_init(&f->d);
	root = parse(f, "tab.yaml", "model:\n\tlayers: 32\n");
	assert_null(root);
	assert_int_equal(f->d.count, 1);
	assert_int_equal(f->d.items[0].at.line, 2);
	assert_non_null(strstr(f->d.items[0].message, "malformed YAML: "));
}

static void yamltree_rejects_a_list_as_a_mapping_key(void **state)
{
	struct fixture *f = *state;
	struct ynode *root = parse(f, "key.yaml", "? [tp, pp]\n: 8\n");
	assert_null(root);
	assert_int_equal(f->d.count, 1);
	assert_int_equal(f->d.items[0].at.line, 1);
	assert_string_equal(f->d.items[0].message, "a mapping key must be a scalar, not a list or a mapping");
}

static void yamltree_load_reads_a_file_and_marks_it(void **state)
{
	struct fixture *f = *state;
	char path[1200];
	struct ynode *root;
	out_path(path, sizeof path, "8b.yaml");
	write_file(path, scenario_text, sizeof scenario_text - 1);
	root = yamltree_load(f->a, path, &f->d);
	assert_non_null(root);
	assert_int_equal(f->d.count, 0);
	assert_at(yamltree_member(yamltree_get(root, "model"), "layers")->value->at, path, 3, 11);
}

static void yamltree_load_reports_a_missing_file(void **state)
{
	struct fixture *f = *state;
	char path[1200], expected[1400];
	struct ynode *root;
	out_path(path, sizeof path, "no-such-scenario.yaml");
	unlink(path);
	root = yamltree_load(f->a, path, &f->d);
	snprintf(expected, sizeof expected, "%s: cannot read: %s", path, strerror(ENOENT));
	assert_one_diag(f, root, expected);
}

static void yamltree_load_refuses_a_directory(void **state)
{
	struct fixture *f = *state;
	char path[1200], expected[1400];
	struct ynode *root;
	out_path(path, sizeof path, "a-directory.yaml");
	mkdir(path, 0777);
	root = yamltree_load(f->a, path, &f->d);
	snprintf(expected, sizeof expected, "%s: is a directory, not a file", path);
	assert_one_diag(f, root, expected);
}

static void yamltree_load_refuses_an_empty_file(void **state)
{
	struct fixture *f = *state;
	char path[1200], expected[1400];
	struct ynode *root;
	out_path(path, sizeof path, "empty.yaml");
	write_file(path, "", 0);
	root = yamltree_load(f->a, path, &f->d);
	snprintf(expected, sizeof expected, "%s: the file is empty", path);
	assert_one_diag(f, root, expected);
}

static void yamltree_load_refuses_a_file_over_64_mib(void **state)
{
	struct fixture *f = *state;
	char path[1200], expected[1400];
	struct ynode *root;
	int fd;
	out_path(path, sizeof path, "huge.yaml");
	/* A sparse file one byte past the limit: nothing is read, the size alone decides. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)YAMLTREE_MAX_BYTES + 1), 0);
	close(fd);
	root = yamltree_load(f->a, path, &f->d);
	snprintf(expected, sizeof expected, "%s: file is larger than 64 MiB", path);
	assert_one_diag(f, root, expected);
	unlink(path);
}

static void yamltree_load_reports_an_unreadable_file(void **state)
{
	struct fixture *f = *state;
	char path[1200], expected[1400];
	struct ynode *root;
	if (geteuid() == 0)
		skip();   /* root reads any file */
	out_path(path, sizeof path, "unreadable.yaml");
	write_file(path, "model: gpt2\n", 12);
	assert_int_equal(chmod(path, 0), 0);
	root = yamltree_load(f->a, path, &f->d);
	snprintf(expected, sizeof expected, "%s: cannot read: %s", path, strerror(EACCES));
	assert_one_diag(f, root, expected);
	unlink(path);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(yamltree_marks_keys_and_values_one_based),
		T(yamltree_marks_json_keys_and_values),
		T(yamltree_flags_quoted_scalars),
		T(yamltree_keeps_lists_and_maps_in_document_order),
		T(yamltree_get_finds_members_and_nothing_else),
		T(yamltree_map_set_replaces_in_place_and_appends_new_keys),
		T(yamltree_map_set_builds_a_map_from_nothing),
		T(yamltree_rejects_a_duplicate_key_naming_the_first),
		T(yamltree_rejects_a_duplicate_key_in_json),
		T(yamltree_rejects_aliases),
		T(yamltree_rejects_a_second_document),
		T(yamltree_accepts_nesting_to_the_limit_and_no_deeper),
		T(yamltree_rejects_more_than_a_million_nodes),
		T(yamltree_rejects_nul_bytes),
		T(yamltree_rejects_invalid_utf8),
		T(yamltree_rejects_empty_text),
		T(yamltree_rejects_malformed_yaml_where_it_breaks),
		T(yamltree_rejects_a_list_as_a_mapping_key),
		T(yamltree_load_reads_a_file_and_marks_it),
		T(yamltree_load_reports_a_missing_file),
		T(yamltree_load_refuses_a_directory),
		T(yamltree_load_refuses_an_empty_file),
		T(yamltree_load_refuses_a_file_over_64_mib),
		T(yamltree_load_reports_an_unreadable_file),
	};
#undef T
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
