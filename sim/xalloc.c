/*
 * xalloc: checked allocation (never NULL, overflow-checked sizes) and bump arenas.
 * Foundation stage; used by every module. Out of memory is not recoverable here: we report and
 * abort, because every caller would otherwise have to carry an error path it cannot act on.
 */
#include "xalloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

_Noreturn void xalloc_fail(size_t size)
{
	fprintf(stderr, "dssim: out of memory (%zu bytes)\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		xalloc_fail(size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p;
	if (size != 0 && count > SIZE_MAX / size)
		xalloc_fail(SIZE_MAX);
	p = calloc(count ? count : 1, size ? size : 1);
	if (p == NULL)
		xalloc_fail(count * size);
	return p;
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
	void *p;
	if (size != 0 && count > SIZE_MAX / size)
		xalloc_fail(SIZE_MAX);
	p = realloc(ptr, (count * size) != 0 ? count * size : 1);
	if (p == NULL)
		xalloc_fail(count * size);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = xmalloc(len + 1);
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Chunks are chained; a request larger than the default chunk gets a chunk of its own. */
struct chunk {
	struct chunk *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
};

enum { ARENA_CHUNK = 64 * 1024 };

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	struct chunk *c, *next;
	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

size_t arena_bytes(const struct arena *a)
{
	const struct chunk *c;
	size_t n = 0;
	for (c = a->head; c != NULL; c = c->next)
		n += sizeof *c + c->size;
	return n;
}

void *arena_alloc(struct arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct chunk *c = a->head;
	void *p;

	if (size > SIZE_MAX - align)
		xalloc_fail(size);
	size = (size + align - 1) / align * align;
	if (c == NULL || c->size - c->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		if (cap > SIZE_MAX - sizeof(struct chunk))
			xalloc_fail(cap);
		c = xmalloc(sizeof(struct chunk) + cap);
		c->used = 0;
		c->size = cap;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	memset(p, 0, size);
	return p;
}

void *arena_array(struct arena *a, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		xalloc_fail(SIZE_MAX);
	return arena_alloc(a, count * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = arena_alloc(a, len + 1);
	memcpy(d, s, len);
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *d;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	d = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return d;
}

void xalloc_init(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
	/* glibc serves blocks of 128 KiB and more from mappings of their own (mallopt(3)); the
	 * engine's per-op arrays are many such blocks, and on the machines measured here the event
	 * loop over them ran at 6-11 million events/s from separate mappings and 13.7-14.9 from
	 * the heap (bench_engine). A command-line run frees everything at exit anyway. */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	/* And glibc hands the freed top of the heap back to the kernel past 128 KiB (the trim
	 * threshold), so a command that simulates case after case (validate, calibrate) faulted
	 * every page of the next case's engine in again: 10 % of `dssim calibrate` on the shipped
	 * cases, 28 % of `validate --cross`. Keep up to 256 MiB of freed heap for reuse. */
	mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
#endif
}
