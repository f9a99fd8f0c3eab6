/*
 * diag: collected input diagnostics with file:line:col and key. Foundation stage.
 * Only main.c turns them into an exit status; every other module just records and returns -1.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void diag_init(struct diag *d)
{
	d->items = NULL;
	d->count = 0;
	d->cap = 0;
	d->slots = NULL;
	d->nslots = 0;
}

void diag_release(struct diag *d)
{
	size_t i;
	for (i = 0; i < d->count; i++) {
		free((char *)d->items[i].at.file);
		free(d->items[i].key);
		free(d->items[i].message);
	}
	free(d->items);
	free(d->slots);
	diag_init(d);
}

static bool same_place(const struct diag_item *it, struct mark at, const char *key,
		       const char *msg)
{
	bool same_file = (it->at.file == NULL && at.file == NULL) ||
			 (it->at.file != NULL && at.file != NULL && strcmp(it->at.file, at.file) == 0);
	bool same_key = (it->key == NULL && key == NULL) ||
			(it->key != NULL && key != NULL && strcmp(it->key, key) == 0);
	return same_file && same_key && it->at.line == at.line && it->at.col == at.col &&
	       strcmp(it->message, msg) == 0;
}

/* FNV-1a, 64 bits (Fowler, Noll, Vo: the published offset basis and prime), over the text
 * and the place of a diagnostic. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;
	for (i = 0; i < n; i++)
		h = (h ^ c[i]) * 1099511628211u;
	return h;
}

static uint64_t item_hash(struct mark at, const char *key, const char *msg)
{
	uint64_t h = 14695981039346656037u;
	if (at.file)
		h = fnv(h, at.file, strlen(at.file) + 1);
	h = fnv(h, &at.line, sizeof at.line);
	h = fnv(h, &at.col, sizeof at.col);
	if (key)
		h = fnv(h, key, strlen(key) + 1);
	return fnv(h, msg, strlen(msg));
}

/* The slot where an item equal to (at, key, msg) is, or the empty slot where it would go. */
static size_t *slot_of(const struct diag *d, struct mark at, const char *key, const char *msg)
{
	size_t mask = d->nslots - 1, i;
	for (i = (size_t)item_hash(at, key, msg) & mask; d->slots[i] != 0; i = (i + 1) & mask)
		if (same_place(&d->items[d->slots[i] - 1], at, key, msg))
			break;
	return &d->slots[i];
}

static void grow_index(struct diag *d)
{
	size_t i;
	free(d->slots);
	d->nslots = d->nslots ? 2 * d->nslots : 32;
	d->slots = xcalloc(d->nslots, sizeof *d->slots);
	for (i = 0; i < d->count; i++)
		*slot_of(d, d->items[i].at, d->items[i].key, d->items[i].message) = i + 1;
}

void diag_add(struct diag *d, struct mark at, const char *key, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];
	size_t *slot;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (2 * (d->count + 1) > d->nslots)
		grow_index(d);
	slot = slot_of(d, at, key, buf);
	if (*slot != 0)
		return;
	*slot = d->count + 1;
	if (d->count == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->items = xreallocarray(d->items, d->cap, sizeof *d->items);
	}
	d->items[d->count].at = at;
	d->items[d->count].at.file = at.file ? xstrdup(at.file) : NULL;
	d->items[d->count].key = key ? xstrdup(key) : NULL;
	d->items[d->count].message = xstrdup(buf);
	d->count++;
}

bool diag_has_errors(const struct diag *d)
{
	return d->count > 0;
}

char *diag_format(const struct diag_item *it, char *buf, size_t size)
{
	char where[512] = "";
	const char *file = it->at.file ? it->at.file : "dssim";

	if (it->at.line > 0 && it->at.col > 0)
		snprintf(where, sizeof where, "%s:%d:%d: ", file, it->at.line, it->at.col);
	else if (it->at.line > 0)
		snprintf(where, sizeof where, "%s:%d: ", file, it->at.line);
	else
		snprintf(where, sizeof where, "%s: ", file);
	if (it->key != NULL && it->key[0] != '\0')
		snprintf(buf, size, "%s%s: %s", where, it->key, it->message);
	else
		snprintf(buf, size, "%s%s", where, it->message);
	return buf;
}

/* The escape of one control byte, or NULL for a byte printed as it is. */
static const char *escape_of(unsigned char c, char buf[5])
{
	if (c == '\n')
		return "\\n";
	if (c == '\r')
		return "\\r";
	if (c == '\t')
		return "\\t";
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, 5, "\\x%02x", c);
		return buf;
	}
	return NULL;
}

void diag_fputs_visible(const char *s, FILE *out)
{
	char buf[5];
	for (; s && *s; s++) {
		const char *e = escape_of((unsigned char)*s, buf);
		if (e)
			fputs(e, out);
		else
			fputc(*s, out);
	}
}

char *diag_visible_dup(const char *s)
{
	char buf[5], *out, *p;
	size_t n = 0;
	const char *q;
	for (q = s; *q; q++) {
		const char *e = escape_of((unsigned char)*q, buf);
		n += e ? strlen(e) : 1;
	}
	p = out = xmalloc(n + 1);
	for (q = s; *q; q++) {
		const char *e = escape_of((unsigned char)*q, buf);
		if (e) {
			memcpy(p, e, strlen(e));
			p += strlen(e);
		} else {
			*p++ = *q;
		}
	}
	*p = '\0';
	return out;
}

void diag_print(const struct diag *d, FILE *out)
{
	diag_print_prefixed(d, "", out);
}

void diag_print_prefixed(const struct diag *d, const char *prefix, FILE *out)
{
	char buf[2048];
	size_t i;
	for (i = 0; i < d->count; i++) {
		fputs(prefix, out);
		diag_fputs_visible(diag_format(&d->items[i], buf, sizeof buf), out);
		fputc('\n', out);
	}
}

size_t diag_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64 + 1];
	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *diag_closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, i;
	size_t limit = strlen(word) / 3 + 1;
	if (limit < 2)
		limit = 2;
	for (i = 0; i < n; i++) {
		size_t dist = diag_edit_distance(word, candidates[i]);
		if (dist < best_d) {
			best_d = dist;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}
