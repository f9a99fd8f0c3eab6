/*
 * test_validate: the validation runner — every case of the shipped file loads and simulates, a
 * malformed case file is reported with its position, and the published runs fall within their
 * tolerance (the accuracy table in the README comes from the same file).
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "validate.h"
#include "yamltree.h"

static void every_shipped_case_runs(void **state)
{
	struct validate_report r;
	struct diag d;
	size_t i;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_run("tests/validation/published.yaml", NULL, &r, &d), 0);
	diag_print(&d, stderr);
	assert_int_equal(r.count, 18);
	for (i = 0; i < r.count; i++) {
		print_message("%-70s %+.1f%%\n", r.rows[i].name, 100 * r.rows[i].error);
		assert_true(r.rows[i].simulated > 0 && isfinite(r.rows[i].simulated));
		assert_true(r.rows[i].tolerance == 0.15);
	}
	validate_report_release(&r);
	diag_release(&d);
}

/*
 * Accuracy: every published run within its stated tolerance (15 %, the event-engine issue's), with
 * one set of defaults per GPU. Runs known to fall outside are listed here with the reason, and
 * must still fall outside: when the model improves, this list has to shrink with it.
 */
static const char *const known_outside[] = {
	/* none today; add "name" entries with the reason when a run falls outside */
	NULL,
};

static bool is_known_outside(const char *name)
{
	size_t i;
	for (i = 0; known_outside[i] != NULL; i++)
		if (strcmp(known_outside[i], name) == 0)
			return true;
	return false;
}

static void published_runs_are_within_their_tolerance(void **state)
{
	struct validate_report r;
	struct diag d;
	size_t i, bad = 0;
	(void)state;
	check_chdir_srcdir();
	diag_init(&d);
	assert_int_equal(validate_run("tests/validation/published.yaml", NULL, &r, &d), 0);
	for (i = 0; i < r.count; i++) {
		const struct validate_row *w = &r.rows[i];
		bool known = is_known_outside(w->name);
		if (w->ok == known) {
			print_error("%s: %+.1f%% against a tolerance of %.0f%%%s\n", w->name,
				    100 * w->error, 100 * w->tolerance,
				    known ? " (listed as outside: update known_outside)" : "");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	validate_report_release(&r);
	diag_release(&d);
}

static void a_case_without_a_metric_is_reported_where_it_stands(void **state)
{
	const char *b = getenv("TOP_BUILDDIR");
	char path[1024], buf[512];
	FILE *f;
	struct validate_report r;
	struct diag d;
	(void)state;
	snprintf(path, sizeof path, "%s/tests/out/cases.yaml", b ? b : ".");
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("cases:\n  - name: no metric\n    published: 1\n    tolerance: 0.1\n"
	      "    scenario: {model: gpt2}\n", f);
	fclose(f);
	diag_init(&d);
	assert_int_equal(validate_run(path, NULL, &r, &d), -1);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(diag_format(&d.items[0], buf, sizeof buf), "cases.yaml:2:5: cases: "));
	validate_report_release(&r);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_shipped_case_runs),
		cmocka_unit_test(published_runs_are_within_their_tolerance),
		cmocka_unit_test(a_case_without_a_metric_is_reported_where_it_stands),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
