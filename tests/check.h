/*
 * check.h: helpers shared by the cmocka tests. cmocka 1.1.5 has no double comparison
 * (assert_float_equal casts to float), so check_rel prints both values and the relative error.
 */
#ifndef DSSIM_CHECK_H
#define DSSIM_CHECK_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Fail unless |actual - expected| <= rel * |expected|. */
#define check_rel(actual, expected, rel) \
	check_rel_at((actual), (expected), (rel), #actual, __FILE__, __LINE__)

static inline void check_rel_at(double actual, double expected, double rel, const char *what,
				const char *file, int line)
{
	double err = expected != 0 ? fabs(actual - expected) / fabs(expected) : fabs(actual);
	if (!(err <= rel)) {
		print_error("%s:%d: %s = %.10g, expected %.10g (relative error %.3g%%, allowed %.3g%%)\n",
			    file, line, what, actual, expected, err * 100, rel * 100);
		_fail(file, line);
	}
}

/* The source tree (for data files); tests run from the build tree under make check. */
static inline const char *check_srcdir(void)
{
	const char *d = getenv("TOP_SRCDIR");
	return d && d[0] ? d : ".";
}

/* Change to the source tree so paths in diagnostics are short and stable. */
static inline void check_chdir_srcdir(void)
{
	if (chdir(check_srcdir()) != 0) {
		print_error("cannot chdir to %s\n", check_srcdir());
		_fail(__FILE__, __LINE__);
	}
}

#include <sys/stat.h>

#include "diag.h"
#include "scenario.h"

/* Write text to TOP_BUILDDIR/tests/out/NAME, its path into path; the test fails when it
 * cannot. */
static inline void check_write(const char *name, const char *text, char *path, size_t size)
{
	const char *b = getenv("TOP_BUILDDIR");
	char dir[1024];
	FILE *f;
	snprintf(dir, sizeof dir, "%s/tests/out", b && b[0] ? b : ".");
	mkdir(dir, 0777);
	if (snprintf(path, size, "%s/%s", dir, name) >= (int)size) {
		print_error("path too long for %s\n", name);
		_fail(__FILE__, __LINE__);
	}
	f = fopen(path, "wb");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		print_error("cannot write %s\n", path);
		_fail(__FILE__, __LINE__);
	}
}

/*
 * Write yaml to TOP_BUILDDIR/tests/out/NAME.PID.yaml and load it; the test fails, printing
 * every diagnostic, when it does not load. Presets come from $DSSIM_DATA (the source tree). The
 * process id keeps test programs that `make -j` runs at once from sharing a file.
 */
static inline struct scenario *check_scenario(const char *name, const char *yaml)
{
	char file[512], path[1200];
	struct diag d;
	struct scenario *s;
	snprintf(file, sizeof file, "%s.%ld.yaml", name, (long)getpid());
	check_write(file, yaml, path, sizeof path);
	diag_init(&d);
	s = scenario_load(path, NULL, &d);
	if (s == NULL) {
		diag_print(&d, stderr);
		diag_release(&d);
		print_error("%s did not load\n", name);
		_fail(__FILE__, __LINE__);
	}
	diag_release(&d);
	return s;
}

/* check_scenario with the YAML built by printf. */
static inline struct scenario *check_scenariof(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline struct scenario *check_scenariof(const char *name, const char *fmt, ...)
{
	char yaml[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(yaml, sizeof yaml, fmt, ap);
	va_end(ap);
	return check_scenario(name, yaml);
}

#endif
