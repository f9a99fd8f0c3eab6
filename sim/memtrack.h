/*
 * memtrack: allocations over simulated time, per device — the current and peak bytes, a
 * timeline of every change, and the first moment a device runs out of memory. Simulate stage;
 * knows devices by index and bytes, nothing of what the bytes hold.
 */
#ifndef DSSIM_MEMTRACK_H
#define DSSIM_MEMTRACK_H

#include <stdbool.h>
#include <stddef.h>

struct memtrack_sample {
	double time;
	double bytes;        /* allocated on the device after the change */
};

struct memtrack;

/* capacity[i] is device i's memory (0: unlimited). The array is copied. */
struct memtrack *memtrack_new(size_t devices, const double *capacity);
void memtrack_free(struct memtrack *m);     /* NULL is a no-op */
/* Keep every change in a timeline (the default) or only current, peak and OOM: the timeline
 * costs memory proportional to the number of changes. */
void memtrack_set_timeline(struct memtrack *m, bool on);
/* Room for n more timeline samples on a device, its pages written now (a run that knows its
 * changes ahead pays neither the doublings' copies nor the page faults while it runs). */
void memtrack_reserve(struct memtrack *m, size_t device, size_t n);
/* Add (bytes > 0) or release (bytes < 0) memory on a device at a time. */
void memtrack_change(struct memtrack *m, size_t device, double time, double bytes);
double memtrack_current(const struct memtrack *m, size_t device);
double memtrack_peak(const struct memtrack *m, size_t device);
double memtrack_peak_time(const struct memtrack *m, size_t device);
/* Whether the device ever exceeded its capacity, and when first. */
bool memtrack_is_oom(const struct memtrack *m, size_t device, double *when);
/* The timeline of a device: every change in order. */
const struct memtrack_sample *memtrack_samples(const struct memtrack *m, size_t device,
					      size_t *count);

#endif
