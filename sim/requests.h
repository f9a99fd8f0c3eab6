/*
 * requests: the stream of inference requests a serving scenario plays — arrival times from a
 * Poisson, gamma or constant process or a trace CSV, prompt and output lengths from their
 * distributions. Domain stage: reads the workload; random numbers come from GSL (mt19937) with
 * the scenario's seed, so one seed gives one stream, bit for bit.
 */
#ifndef DSSIM_REQUESTS_H
#define DSSIM_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "scenario.h"

struct request {
	double arrival;       /* s */
	int64_t prompt;       /* tokens */
	int64_t output;       /* tokens to generate, >= 1 */
	int64_t cached;       /* prompt tokens a trace says the prefix cache holds (0: none) */
};

struct request_stream {
	struct request *req;  /* owned, in arrival order */
	size_t n;
	double prompt_tokens, output_tokens; /* sums */
};

/*
 * Draw the stream. Arrivals and lengths use separate generators, so streams at two rates share
 * their lengths and their arrival times differ only by scale (common random numbers: a search
 * over rates sees a monotone workload). Returns 0, or -1 with the problem in d (a trace that
 * cannot be read).
 */
int requests_build(const struct scenario *s, struct request_stream *out, struct diag *d);
void requests_release(struct request_stream *r);

#endif
