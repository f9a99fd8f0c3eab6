/*
 * fuzz_scenario: libFuzzer target for the scenario loader. The input is a scenario file; its
 * presets are expanded from the source tree, its "# set: KEY=VALUE" lines (as tests/bad/ writes
 * them) applied as --set overrides, and a scenario that loads gets its memory breakdown built.
 * Whatever the bytes, the result must be a scenario or diagnostics: no crash, no sanitizer
 * report, no leak.
 */
#include <gsl/gsl_errno.h>
#include <string.h>

#include "diag.h"
#include "fuzz.h"
#include "memory.h"
#include "scenario.h"
#include "xalloc.h"
#include "yamltree.h"

/* As many overrides as tests/bad/ allows in one file. */
enum { MAX_SETS = 8 };

/* The "# set: KEY=VALUE" lines of the input, copied into the arena. */
static size_t find_sets(struct arena *a, const char *text, size_t len,
			struct scenario_override *sets)
{
	const char *p = text, *end = text + len;
	size_t n = 0;
	while (p < end && n < MAX_SETS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *eq;
		if (eol > p && eol[-1] == '\r')
			eol--;
		eq = eol - p > 7 && memcmp(p, "# set: ", 7) == 0 ?
			     memchr(p + 7, '=', (size_t)(eol - p - 7)) : NULL;
		if (eq != NULL) {
			sets[n].key = arena_strndup(a, p + 7, (size_t)(eq - p - 7));
			sets[n].value = arena_strndup(a, eq + 1, (size_t)(eol - eq - 1));
			n++;
		}
		p = nl ? nl + 1 : end;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer may pass NULL for the empty input; the library wants a pointer. */
	const char *text = size > 0 ? (const char *)data : "";
	struct scenario_override sets[MAX_SETS];
	struct scenario_options opt;
	struct arena *a = arena_new();
	struct diag d;
	struct ynode *top;
	const char *file;

	/* As main() does: a GSL failure in the memory search is a status, not an abort. */
	gsl_set_error_handler_off();
	diag_init(&d);
	/* Named as if in tests/bad/ (the file need not exist), so relative preset paths of the
	 * seeds there (data/hf_bert/config.json) resolve as they do in test_bad. Parsing from
	 * memory rather than a temporary file keeps the target free of I/O the loader does not
	 * need. */
	file = arena_printf(a, "%s/tests/bad/fuzz-input.yaml", fuzz_data_dir());
	memset(&opt, 0, sizeof opt);
	opt.overrides = sets;
	opt.noverrides = find_sets(a, text, size, sets);
	opt.data_dir = fuzz_data_dir();
	top = yamltree_parse(a, file, text, size, &d);
	if (top != NULL)
		fuzz_load(top, file, &opt, &d);
	fuzz_format_all(&d);
	diag_release(&d);
	arena_free(a);
	return 0;
}
