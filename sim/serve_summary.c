/*
 * serve_summary: what a serving run's finished requests add up to — latency statistics, the
 * run's throughput, and its steady state — for both drivers (serve.c, serve_pools.c). Domain
 * stage, part of the serve module.
 *
 * A run's own throughput (tokens over the time to the last finish) counts its ramp-up, while
 * the batch fills, and its drain, after the last arrival; a benchmark reports that, and it is
 * kept as output_tokens_per_s. A capacity planner wants the rate the engine holds under the
 * load: the steady state. By Little's law (L = lambda W) the number of requests in the system
 * reaches lambda W about one request latency W after arrivals begin, so the steady window runs
 * from one median latency after the first arrival to the last arrival. Output tokens inside it
 * are counted as they are made: the first at the first-token time, the rest evenly over the
 * decode (TPOT constant within a request); prompt tokens when the prompt is done (its first
 * token). When the arrivals end within one median latency of the first, the run never settles
 * and has no steady window.
 */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <string.h>

#include "engine.h"
#include "serve_int.h"
#include "xalloc.h"

void serve_stat_of(double *x, size_t n, struct serve_stat *out)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return;
	gsl_sort(x, 1, n);
	out->mean = gsl_stats_mean(x, 1, n);
	out->p50 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.50);
	out->p90 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.90);
	out->p99 = gsl_stats_quantile_from_sorted_data(x, 1, n, 0.99);
}

/* The share of [a, b] inside [lo, hi]. */
static double overlap(double a, double b, double lo, double hi)
{
	double x = a > lo ? a : lo, y = b < hi ? b : hi;
	return y > x ? y - x : 0;
}

static void steady_state(const struct serve_done *d, size_t n, double latency_p50,
			 struct serve_steady *out)
{
	double first = d[0].arrival, last = d[0].arrival, tpot = 0, in = 0, toks = 0;
	size_t i, np = 0;
	memset(out, 0, sizeof *out);
	for (i = 1; i < n; i++) {
		if (d[i].arrival < first)
			first = d[i].arrival;
		if (d[i].arrival > last)
			last = d[i].arrival;
	}
	out->from = first + latency_p50;
	out->to = last;
	if (out->to <= out->from)
		return;
	for (i = 0; i < n; i++) {
		const struct serve_done *q = &d[i];
		bool made_first = q->first_token >= out->from && q->first_token <= out->to;
		toks += made_first ? 1 : 0;
		in += made_first ? (double)q->prompt : 0;
		if (q->output > 1 && q->finish > q->first_token)
			toks += (double)(q->output - 1) *
				overlap(q->first_token, q->finish, out->from, out->to) /
				(q->finish - q->first_token);
		if (q->arrival >= out->from && q->arrival <= out->to && q->output > 1) {
			tpot += (q->finish - q->first_token) / (double)(q->output - 1);
			np++;
		}
	}
	out->valid = true;
	out->output_tokens_per_s = toks / (out->to - out->from);
	out->input_tokens_per_s = in / (out->to - out->from);
	out->tpot_mean = np > 0 ? tpot / (double)np : 0;
}

double serve_summarize_done(const struct serve_done *d, size_t n, struct serve_result *r)
{
	double *ttft = xcalloc(n + 1, sizeof *ttft);
	double *tpot = xcalloc(n + 1, sizeof *tpot);
	double *lat = xcalloc(n + 1, sizeof *lat);
	double in_tokens = 0, out_tokens = 0, lat_sum = 0;
	size_t i, np = 0;
	for (i = 0; i < n; i++) {
		ttft[i] = d[i].first_token - d[i].arrival;
		lat[i] = d[i].finish - d[i].arrival;
		lat_sum += lat[i];
		/* TPOT as vLLM's benchmark defines it: (latency - TTFT) / (output - 1). */
		if (d[i].output > 1)
			tpot[np++] = (d[i].finish - d[i].first_token) / (double)(d[i].output - 1);
		if (d[i].finish > r->duration)
			r->duration = d[i].finish;
		in_tokens += (double)d[i].prompt;
		out_tokens += (double)d[i].output;
	}
	serve_stat_of(ttft, n, &r->ttft);
	serve_stat_of(tpot, np, &r->tpot);
	serve_stat_of(lat, n, &r->latency);
	free(ttft);
	free(tpot);
	free(lat);
	if (r->duration > 0) {
		r->requests_per_s = (double)n / r->duration;
		r->input_tokens_per_s = in_tokens / r->duration;
		r->output_tokens_per_s = out_tokens / r->duration;
	}
	if (n > 0)
		steady_state(d, n, r->latency.p50, &r->steady);
	return lat_sum;
}

int serve_drive_to_end(struct engine *eng, void (*drive)(void *), void *ctx,
		       const size_t *finished, size_t n, const char *where, struct mark at,
		       struct diag *d)
{
	drive(ctx);
	while (*finished < n) {
		if (!engine_step(eng)) {
			diag_add(d, at, NULL, "%zu requests could not be scheduled (a request needs "
				 "more KV blocks than %s has)", n - *finished, where);
			return -1;
		}
		drive(ctx);
	}
	return 0;
}

double serve_offered_rate(const struct scenario *s, const struct request_stream *rs)
{
	return s->workload.arrival.process == ARRIVAL_TRACE || rs->n < 2
		       ? 0
		       : s->workload.arrival.rate;
}
