/*
 * schedule: pipeline schedules as per-stage orders of passes (forward or backward of one
 * micro-batch through one model chunk). Plan stage. Each schedule is a const table entry chosen by
 * name: GPipe, 1F1B, interleaved here, zero-bubble in schedule_zb.c, DualPipe in
 * schedule_dualpipe.c. Nothing here knows of time: the
 * bubble comes out of the engine running these orders.
 */
#ifndef DSSIM_SCHEDULE_H
#define DSSIM_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* PASS_BACKWARD is a whole backward, input and weight gradients in one pass. Zero-bubble
 * schedules split it (Qi et al. 2024, sec. 2): PASS_INPUT computes the input gradients the
 * previous stage waits for (B), PASS_WEIGHT the weight gradients (W), any time after its B. */
enum pass_kind { PASS_FORWARD, PASS_BACKWARD, PASS_INPUT, PASS_WEIGHT };

struct pass {
	enum pass_kind kind;
	int64_t micro_batch;
	int64_t chunk;        /* local chunk of the rank, 0..chunks-1 (layout_model_chunk) */
	bool paired;          /* runs overlapped with the next pass of the order, one's
				 communication under the other's computation (DualPipe) */
};

struct schedule_type {
	const char *name;
	/* Write every pipeline rank's passes in execution order, rank r's from out + r * room
	 * (room = schedule_room(l)), their count into n[r]. Returns 0, or -1 when the schedule
	 * cannot run this shape (interleaving needs m % p == 0). Each micro-batch visiting a local
	 * chunk has a forward and either a PASS_BACKWARD or a PASS_INPUT and a PASS_WEIGHT there. */
	int (*order)(const struct layout *l, struct pass *out, size_t *n);
};

/* Passes a rank's order may hold: 3 * micro_batches * chunks. */
size_t schedule_room(const struct layout *l);

extern const struct schedule_type schedule_gpipe;
extern const struct schedule_type schedule_1f1b;
extern const struct schedule_type schedule_interleaved;
extern const struct schedule_type schedule_zb_h1;
extern const struct schedule_type schedule_zb_v;
extern const struct schedule_type schedule_dualpipe;

/* The schedule for enum schedule_kind (scenario.h). */
const struct schedule_type *schedule_for(int kind);

/* For the schedule modules: append one pass to out[*n]; run a per-rank order generator (which
 * returns 0 when it cannot run the shape) for every rank. */
void schedule_put(struct pass *out, size_t *n, int kind, int64_t mb, int64_t chunk, bool paired);
int schedule_each_rank(const struct layout *l, struct pass *out, size_t *n,
		       size_t (*one)(const struct layout *l, int64_t rank, struct pass *out));

#endif
