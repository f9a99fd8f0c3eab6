/*
 * test_queue: the event queue orders by time, breaks ties by insertion order, and keeps that
 * order through growth.
 */
#include "check.h"

#include "queue.h"

static void queue_pops_equal_times_in_insertion_order(void **state)
{
	struct queue *q = queue_new();
	struct queue_event e;
	uint32_t i;
	(void)state;
	for (i = 0; i < 1000; i++)
		queue_push(q, 5.0, 0, i, 0);
	for (i = 0; i < 1000; i++) {
		assert_true(queue_pop(q, &e));
		assert_int_equal(e.a, i);
		assert_int_equal(e.kind, 0);
	}
	assert_false(queue_pop(q, &e));
	queue_free(q);
}

/* 100,000 pseudo-random times (a fixed linear congruential sequence) come out sorted, and among
 * equal times in push order. */
static void queue_pops_in_time_order(void **state)
{
	struct queue *q = queue_new();
	struct queue_event e, prev = {-1, 0, 0, 0, 0};
	uint64_t x = 12345;
	size_t i, n = 100000;
	(void)state;
	for (i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		queue_push(q, (double)(x >> 54), (int)(i % 3), (uint32_t)i, 7);   /* 1024 times */
	}
	assert_int_equal(queue_size(q), n);
	for (i = 0; i < n; i++) {
		assert_true(queue_pop(q, &e));
		assert_true(e.time > prev.time || (e.time == prev.time && e.seq > prev.seq));
		if (e.time == prev.time)
			assert_true(e.a > prev.a);
		assert_int_equal(e.kind, (int)(e.a % 3));
		assert_int_equal(e.b, 7);
		prev = e;
	}
	queue_free(q);
}

static void queue_peek_does_not_remove(void **state)
{
	struct queue *q = queue_new();
	struct queue_event e;
	(void)state;
	assert_false(queue_peek(q, &e));
	queue_push(q, 2.0, 7, 1, 2);
	queue_push(q, 1.0, 8, 3, 4);
	assert_true(queue_peek(q, &e));
	assert_int_equal(e.kind, 8);
	assert_int_equal(queue_size(q), 2);
	queue_free(q);
	queue_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(queue_pops_equal_times_in_insertion_order),
		cmocka_unit_test(queue_pops_in_time_order),
		cmocka_unit_test(queue_peek_does_not_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
