/*
 * xalloc: checked allocation and arenas. Foundation stage: knows nothing above it.
 * The x* functions never return NULL (they abort on exhaustion, as tmux does), and every
 * count * size product is overflow-checked. An arena frees everything of one lifetime at once.
 */
#ifndef DSSIM_XALLOC_H
#define DSSIM_XALLOC_H

#include <stddef.h>

/* Tune the allocator for the simulator's large arrays (glibc: keep them in the heap). Call
 * once at the start of main(). */
void xalloc_init(void);

/* Report exhaustion of size bytes and abort (for memory that is not allocated here: open_memstream). */
_Noreturn void xalloc_fail(size_t size);
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* An arena hands out memory that lives until arena_free(); no per-object free. */
struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);                 /* NULL is a no-op */
void *arena_alloc(struct arena *a, size_t size);  /* zeroed, aligned for any type */
void *arena_array(struct arena *a, size_t count, size_t size);
/* Bytes the arena holds from the heap (its chunks), for tests that bound memory. */
size_t arena_bytes(const struct arena *a);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
