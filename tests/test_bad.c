/*
 * test_bad: every file in tests/bad/ is a broken scenario whose expected diagnostics are written
 * in its own header comment, one per line: "# expect: FILE:LINE:COL: KEY: MESSAGE". Lines
 * "# set: KEY=VALUE" apply --set overrides. The loader must report exactly those diagnostics, in
 * order, and no others.
 */
#include "check.h"

#include <dirent.h>
#include <gsl/gsl_errno.h>

#include "diag.h"
#include "requests.h"
#include "scenario.h"
#include "xalloc.h"

struct expectation {
	char *lines[32];
	size_t count;
	struct scenario_override sets[8];
	size_t nsets;
	char *setbuf[8];
};

static void read_expectations(const char *path, struct expectation *e)
{
	FILE *f = fopen(path, "rb");
	char line[2048];
	memset(e, 0, sizeof *e);
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		size_t n = strlen(line);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (strncmp(line, "# expect: ", 10) == 0 && e->count < 32) {
			e->lines[e->count++] = xstrdup(line + 10);
		} else if (strncmp(line, "# set: ", 7) == 0 && e->nsets < 8) {
			char *kv = xstrdup(line + 7), *eq = strchr(kv, '=');
			assert_non_null(eq);
			*eq = '\0';
			e->setbuf[e->nsets] = kv;
			e->sets[e->nsets].key = kv;
			e->sets[e->nsets].value = eq + 1;
			e->nsets++;
		}
	}
	fclose(f);
}

static void release(struct expectation *e)
{
	size_t i;
	for (i = 0; i < e->count; i++)
		free(e->lines[i]);
	for (i = 0; i < e->nsets; i++)
		free(e->setbuf[i]);
}

static int check_one(const char *path)
{
	struct expectation e;
	struct scenario_options opt = {NULL, 0, NULL, false, NULL, NULL};
	struct diag d;
	struct scenario *s;
	size_t i;
	int bad = 0;
	char buf[2048];

	read_expectations(path, &e);
	if (e.count == 0) {
		print_error("%s: no '# expect:' line\n", path);
		release(&e);
		return 1;
	}
	opt.overrides = e.sets;
	opt.noverrides = e.nsets;
	diag_init(&d);
	s = scenario_load(path, &opt, &d);
	/* A request trace is read when the requests are drawn: its errors are bad input too. */
	if (s != NULL && s->workload.mode == MODE_INFER) {
		struct request_stream rs;
		if (requests_build(s, &rs, &d) == 0) {
			requests_release(&rs);
		} else {
			scenario_free(s);
			s = NULL;
		}
	}
	if (s != NULL) {
		print_error("%s: loaded without error\n", path);
		bad = 1;
	}
	for (i = 0; i < e.count || i < d.count; i++) {
		const char *want = i < e.count ? e.lines[i] : "(nothing)";
		const char *got = i < d.count ? diag_format(&d.items[i], buf, sizeof buf) : "(nothing)";
		if (strcmp(want, got) != 0) {
			print_error("%s: diagnostic %zu\n  expected: %s\n  got:      %s\n", path, i + 1,
				    want, got);
			bad = 1;
		}
	}
	scenario_free(s);
	diag_release(&d);
	release(&e);
	return bad;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void every_bad_input_gets_its_expected_diagnostics(void **state)
{
	struct dirent **list;
	int n, i, failures = 0, cases = 0;
	char path[1024];
	(void)state;
	check_chdir_srcdir();
	n = scandir("tests/bad", &list, NULL, by_name);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		size_t len = strlen(list[i]->d_name);
		if (len > 5 && strcmp(list[i]->d_name + len - 5, ".yaml") == 0) {
			snprintf(path, sizeof path, "tests/bad/%s", list[i]->d_name);
			failures += check_one(path);
			cases++;
		}
		free(list[i]);
	}
	free(list);
	print_message("%d bad inputs checked, %d mismatched\n", cases, failures);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_bad_input_gets_its_expected_diagnostics),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
