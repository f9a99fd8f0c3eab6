/*
 * bug: BUG_ON(cond) for the invariants of the program itself. Foundation stage: knows nothing
 * above it. Always on, whatever NDEBUG says; for programming errors only, never for anything
 * derived from input, which gets a diagnostic instead (STYLE.md rules 15 and 18).
 */
#ifndef DSSIM_BUG_H
#define DSSIM_BUG_H

#include <stdio.h>
#include <stdlib.h>

/* Print "file:line: bug: cond" to stderr and abort. Only BUG_ON calls it; cold and not inlined,
 * so the checks cost a compare and a branch at the call site. Static in the header, so there is
 * no .c to link; unused where a file has no BUG_ON. */
#if defined(__GNUC__)
__attribute__((cold, noinline, unused))
#endif
static _Noreturn void
bug_fail(const char *file, int line, const char *cond)
{
	fprintf(stderr, "%s:%d: bug: %s\n", file, line, cond);
	fflush(stderr);
	abort();
}

#if defined(__GNUC__)
#define BUG_UNLIKELY(cond) __builtin_expect(!!(cond), 0)
#else
#define BUG_UNLIKELY(cond) (cond)
#endif

/* Abort with the file, line and text of cond when cond holds: cond must be cheap and free of
 * side effects, and must never depend on input that a diagnostic should have refused. */
#define BUG_ON(cond)                                                    \
	do {                                                            \
		if (BUG_UNLIKELY(cond))                                 \
			bug_fail(__FILE__, __LINE__, #cond);            \
	} while (0)

#endif
