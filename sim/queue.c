/*
 * queue: binary min-heap of events keyed by (time, seq) in one growable array (the pool: events
 * are values, so pushing and popping allocate nothing once the array has grown). Simulate stage.
 */
#include "queue.h"

#include <stdlib.h>

#include "xalloc.h"

struct queue {
	struct queue_event *heap;
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

static bool before(const struct queue_event *x, const struct queue_event *y)
{
	return x->time < y->time || (x->time == y->time && x->seq < y->seq);
}

void queue_push(struct queue *q, double time, int kind, int64_t a, int64_t b)
{
	size_t i;
	struct queue_event e = {time, q->next_seq++, kind, a, b};
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
	struct queue_event last;
	size_t i = 0;
	if (q->count == 0)
		return false;
	*out = q->heap[0];
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
	*out = q->heap[0];
	return true;
}

size_t queue_size(const struct queue *q)
{
	return q->count;
}
