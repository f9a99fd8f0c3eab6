/*
 * queue: the event queue of the simulator — a binary heap ordered by (time, insertion sequence),
 * so events at equal times come out in the order they were pushed and every run is identical bit
 * for bit. Simulate stage; knows nothing of what events mean (a kind and two integers).
 */
#ifndef DSSIM_QUEUE_H
#define DSSIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue_event {
	double time;
	uint64_t seq;       /* insertion order, the tie-breaker */
	int kind;           /* 0..255 */
	uint32_t a, b;      /* the caller's payload */
};

struct queue;

struct queue *queue_new(void);
void queue_free(struct queue *q);           /* NULL is a no-op */
void queue_push(struct queue *q, double time, int kind, uint32_t a, uint32_t b);
/* Remove the earliest event into *out; false when the queue is empty. */
bool queue_pop(struct queue *q, struct queue_event *out);
/* The earliest event without removing it; false when empty. */
bool queue_peek(const struct queue *q, struct queue_event *out);
size_t queue_size(const struct queue *q);

#endif
