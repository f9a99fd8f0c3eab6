/*
 * fuzz_sweep: libFuzzer target for sweep specs. The input is a spec; it is parsed as if it
 * lived in scenarios/sweeps/ (so `base: ../32b_zero3.yaml` resolves), and a spec that loads
 * and names a few groups is expanded and screened (analytic, nothing simulated, at most a
 * handful of points), so axis values reach the scenario loader and the where filter reaches
 * SQLite. Whatever the bytes: a spec or diagnostics, no crash, no sanitizer report, no leak.
 */
#include <gsl/gsl_errno.h>
#include <string.h>

#include "diag.h"
#include "fuzz.h"
#include "sweep.h"
#include "xalloc.h"

/* Enough to exercise expansion and screening; a spec may name millions of points. */
enum { MAX_GROUPS = 4, MAX_POINTS = 8 };

static int count_point(void *ctx, const struct store_point *p)
{
	size_t *n = ctx;
	(void)p;
	return ++*n >= MAX_POINTS; /* nonzero stops the sweep */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = size > 0 ? (const char *)data : "";
	struct arena *a = arena_new();
	const char *name = arena_printf(a, "%s/scenarios/sweeps/fuzz-input.yaml", fuzz_data_dir());
	struct sweep_spec *sp;
	struct diag d;
	gsl_set_error_handler_off();
	diag_init(&d);
	sp = sweep_spec_parse(name, text, size, fuzz_data_dir(), &d);
	if (sp != NULL && sweep_spec_groups(sp) <= MAX_GROUPS) {
		size_t n = 0;
		struct sweep_callbacks cb = {NULL, count_point, &n};
		struct sweep_slice sl;
		struct sweep_counts counts;
		memset(&sl, 0, sizeof sl);
		sl.shards = sl.workers = 1;
		sl.analytic = true;
		/* An expansion's failure joins the spec's diagnostics (formatted below). */
		(void)sweep_run(sp, &sl, &cb, &counts, &d);
	}
	sweep_spec_free(sp);
	fuzz_format_all(&d);
	diag_release(&d);
	arena_free(a);
	return 0;
}
