/*
 * schedule: pipeline schedules as per-stage orders of passes (forward or backward of one
 * micro-batch through one model chunk). Plan stage. Each schedule is a const table entry chosen by
 * name, so zero-bubble or DualPipe can be added beside them. Nothing here knows of time: the
 * bubble comes out of the engine running these orders.
 */
#ifndef DSSIM_SCHEDULE_H
#define DSSIM_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

enum pass_kind { PASS_FORWARD, PASS_BACKWARD };

struct pass {
	enum pass_kind kind;
	int64_t micro_batch;
	int64_t chunk;        /* virtual stage on this rank, 0..v-1; global chunk = chunk*p + stage */
};

struct schedule_type {
	const char *name;
	/* Write the 2*m*v passes of `stage` (of p) in execution order into out. Returns the count,
	 * or 0 when the schedule cannot run this shape (interleaving needs m % p == 0). */
	size_t (*order)(int64_t p, int64_t m, int64_t v, int64_t stage, struct pass *out);
};

extern const struct schedule_type schedule_gpipe;
extern const struct schedule_type schedule_1f1b;
extern const struct schedule_type schedule_interleaved;

/* The schedule for enum schedule_kind (scenario.h). */
const struct schedule_type *schedule_for(int kind);

#endif
