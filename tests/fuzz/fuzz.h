/*
 * fuzz.h: what the libFuzzer targets (fuzz_*.c) and their plain replay driver (replay.c) share.
 * A target is one LLVMFuzzerTestOneInput; under --enable-fuzzing libFuzzer supplies main(), and
 * otherwise replay.c does, so `make check` runs the seed corpus through the same code with gcc.
 */
#ifndef DSSIM_FUZZ_H
#define DSSIM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "diag.h"
#include "memory.h"
#include "scenario.h"

/* Feed one input to the library. Returns 0; a bug shows as a crash, a sanitizer report or a
 * leak, never as a status (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The source tree that holds the presets (topologies/, scenarios/models/) and the seed corpus:
 * $DSSIM_DATA as `make check` and `make fuzz` export it, else the tree this was built from, so
 * a crash input reproduces by hand with no environment. */
static inline const char *fuzz_data_dir(void)
{
	const char *env = getenv("DSSIM_DATA");
	return env && env[0] ? env : FUZZ_DATA_DIR;
}

/* Format every diagnostic, as dssim prints them: keys and values from the input end up there. */
static inline void fuzz_format_all(const struct diag *d)
{
	char buf[1024];
	size_t i;
	for (i = 0; i < d->count; i++)
		diag_format(&d->items[i], buf, sizeof buf);
}

/* Load a scenario tree as dssim does and, when it loads, build its memory breakdown; whatever
 * the input, the result is a scenario or diagnostics in d. */
static inline void fuzz_load(const struct ynode *top, const char *file,
			     const struct scenario_options *opt, struct diag *d)
{
	struct scenario *s = scenario_load_tree(top, file, opt, d);
	if (s != NULL) {
		struct memory_report m;
		/* -1 is a GSL search failure reported in m.advice: a result, not a bug. */
		(void)memory_build(s, &m);
		memory_report_release(&m);
		scenario_free(s);
	}
}

#endif
