/*
 * memtrack: per-device allocation timeline, peak and out-of-memory detection. Simulate stage.
 * Amounts are doubles; sums run in event order, which the queue makes deterministic.
 */
#include "memtrack.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct device {
	double capacity, current, peak, peak_time, oom_time;
	bool oom;
	struct memtrack_sample *samples;
	size_t count, cap;
};

struct memtrack {
	struct device *dev;
	size_t ndev;
	bool timeline;
};

struct memtrack *memtrack_new(size_t devices, const double *capacity)
{
	struct memtrack *m = xcalloc(1, sizeof *m);
	size_t i;
	m->dev = xcalloc(devices, sizeof *m->dev);
	m->ndev = devices;
	m->timeline = true;
	for (i = 0; i < devices; i++)
		m->dev[i].capacity = capacity ? capacity[i] : 0;
	return m;
}

void memtrack_free(struct memtrack *m)
{
	size_t i;
	if (m == NULL)
		return;
	for (i = 0; i < m->ndev; i++)
		free(m->dev[i].samples);
	free(m->dev);
	free(m);
}

void memtrack_set_timeline(struct memtrack *m, bool on)
{
	m->timeline = on;
}

void memtrack_reserve(struct memtrack *m, size_t device, size_t n)
{
	struct device *d = &m->dev[device];
	if (n == 0 || d->count + n <= d->cap)
		return;
	d->samples = xreallocarray(d->samples, d->count + n, sizeof *d->samples);
	memset(d->samples + d->count, 0, n * sizeof *d->samples);
	d->cap = d->count + n;
}

void memtrack_change(struct memtrack *m, size_t device, double time, double bytes)
{
	struct device *d = &m->dev[device];
	d->current += bytes;
	if (d->current > d->peak) {
		d->peak = d->current;
		d->peak_time = time;
	}
	if (d->capacity > 0 && d->current > d->capacity && !d->oom) {
		d->oom = true;
		d->oom_time = time;
	}
	if (!m->timeline)
		return;
	/* Changes at the same time fold into one sample: the timeline shows settled values. */
	if (d->count > 0 && d->samples[d->count - 1].time == time) {
		d->samples[d->count - 1].bytes = d->current;
		return;
	}
	if (d->count == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->samples = xreallocarray(d->samples, d->cap, sizeof *d->samples);
	}
	d->samples[d->count].time = time;
	d->samples[d->count].bytes = d->current;
	d->count++;
}

double memtrack_current(const struct memtrack *m, size_t device)
{
	return m->dev[device].current;
}

double memtrack_peak(const struct memtrack *m, size_t device)
{
	return m->dev[device].peak;
}

double memtrack_peak_time(const struct memtrack *m, size_t device)
{
	return m->dev[device].peak_time;
}

bool memtrack_is_oom(const struct memtrack *m, size_t device, double *when)
{
	if (when && m->dev[device].oom)
		*when = m->dev[device].oom_time;
	return m->dev[device].oom;
}

const struct memtrack_sample *memtrack_samples(const struct memtrack *m, size_t device,
					      size_t *count)
{
	*count = m->dev[device].count;
	return m->dev[device].samples;
}
