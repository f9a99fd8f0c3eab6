/*
 * queue: binary min-heap of events keyed by (time, seq) in one growable array (the pool: events
 * are values, so pushing and popping allocate nothing once the array has grown). Simulate stage.
 */
#include "queue.h"

#include <stdlib.h>

#include "xalloc.h"

/* A heap entry packed into 24 bytes (the event loop is bound by moving these): the kind sits in
 * the low 8 bits of the sequence word, which keeps the ordering by (time, seq). */
struct entry {
	double time;
	uint64_t seq_kind;
	uint32_t a, b;
};

struct queue {
	struct entry *heap;
	size_t count, cap;
	uint64_t next_seq;
};

struct queue *queue_new(void)
{
	return xcalloc(1, sizeof(struct queue));
}

void queue_free(struct queue *q)
{
	if (q == NULL)
		return;
	free(q->heap);
	free(q);
}

static bool before(const struct entry *x, const struct entry *y)
{
	return x->time < y->time || (x->time == y->time && x->seq_kind < y->seq_kind);
}

static void unpack(const struct entry *e, struct queue_event *out)
{
	out->time = e->time;
	out->seq = e->seq_kind >> 8;
	out->kind = (int)(e->seq_kind & 0xff);
	out->a = e->a;
	out->b = e->b;
}

void queue_push(struct queue *q, double time, int kind, uint32_t a, uint32_t b)
{
	size_t i;
	struct entry e = {time, (q->next_seq++ << 8) | ((uint64_t)kind & 0xff), a, b};
	if (q->count == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 256;
		q->heap = xreallocarray(q->heap, q->cap, sizeof *q->heap);
	}
	i = q->count++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&e, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = e;
}

bool queue_pop(struct queue *q, struct queue_event *out)
{
	struct entry last;
	size_t i = 0;
	if (q->count == 0)
		return false;
	unpack(&q->heap[0], out);
	last = q->heap[--q->count];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= q->count)
			break;
		if (child + 1 < q->count && before(&q->heap[child + 1], &q->heap[child]))
			child++;
		if (!before(&q->heap[child], &last))
			break;
		q->heap[i] = q->heap[child];
		i = child;
	}
	if (q->count > 0)
		q->heap[i] = last;
	return true;
}

bool queue_peek(const struct queue *q, struct queue_event *out)
{
	if (q->count == 0)
		return false;
	unpack(&q->heap[0], out);
	return true;
}

size_t queue_size(const struct queue *q)
{
	return q->count;
}
