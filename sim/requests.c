/*
 * requests: arrivals and lengths of inference requests. Domain stage.
 */
#include "requests.h"

#include <ctype.h>
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The most requests a stream holds: the schema's bound on workload.requests. */
#define REQUESTS_MAX 100000000

static int64_t clamp64(double x, int64_t lo, int64_t hi)
{
	if (!(x >= (double)lo))
		return lo;
	if (x >= (double)hi)
		return hi;
	return (int64_t)llround(x);
}

/* One length drawn from its distribution, within [min, max]. */
static int64_t draw_length(gsl_rng *r, const struct length_spec *l)
{
	double sigma2, x;
	switch (l->dist) {
	case LENGTH_UNIFORM:
		x = (double)l->min + floor(gsl_rng_uniform(r) * (double)(l->max - l->min + 1));
		break;
	case LENGTH_NORMAL:
		x = l->mean + gsl_ran_gaussian(r, l->sd);
		break;
	case LENGTH_LOGNORMAL:
		/* The lognormal with this mean and standard deviation: sigma^2 = ln(1 + sd^2/mean^2),
		 * mu = ln(mean) - sigma^2/2 (the moments of the lognormal distribution). */
		sigma2 = log1p(l->sd * l->sd / (l->mean * l->mean));
		x = gsl_ran_lognormal(r, log(l->mean) - sigma2 / 2, sqrt(sigma2));
		break;
	default:
		x = (double)l->value;
		break;
	}
	return clamp64(x, l->min, l->max);
}

/* The gap before the next arrival. */
static double draw_gap(gsl_rng *r, const struct workload *w)
{
	double rate = w->arrival.rate, k;
	if (rate <= 0)
		return 0;
	switch (w->arrival.process) {
	case ARRIVAL_GAMMA:
		/* Gamma gaps with mean 1/rate and coefficient of variation cv: shape 1/cv^2, scale
		 * 1/(rate*shape) (vLLM benchmark_serving.py --burstiness is this shape). */
		k = 1.0 / (w->arrival.cv * w->arrival.cv);
		return gsl_ran_gamma(r, k, 1.0 / (rate * k));
	case ARRIVAL_CONSTANT:
		return 1.0 / rate;
	default:
		return gsl_ran_exponential(r, 1.0 / rate);
	}
}

static void push(struct request_stream *out, size_t *cap, double arrival, int64_t prompt,
		 int64_t output, int64_t seq_len)
{
	struct request *q;
	if (out->n == *cap) {
		*cap = *cap ? 2 * *cap : 1024;
		out->req = xreallocarray(out->req, *cap, sizeof *out->req);
	}
	/* A sequence holds at most seq_len tokens (vLLM's max_model_len): the prompt leaves room
	 * for one generated token, and generation stops at the limit. */
	if (prompt > seq_len - 1)
		prompt = seq_len - 1 > 0 ? seq_len - 1 : 1;
	if (output > seq_len - prompt)
		output = seq_len - prompt;
	if (output < 1)
		output = 1;
	q = &out->req[out->n++];
	q->arrival = arrival;
	q->prompt = prompt;
	q->output = output;
	q->cached = 0;
	out->prompt_tokens += (double)prompt;
	out->output_tokens += (double)output;
}

static int draw(const struct scenario *s, struct request_stream *out)
{
	const struct workload *w = &s->workload;
	gsl_rng *arrivals = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng *lengths = gsl_rng_alloc(gsl_rng_mt19937);
	size_t cap = 0;
	/* A duration alone bounds the stream by time; requests, when given too, by count. */
	int64_t limit = w->duration > 0 && w->arrival.rate > 0 &&
				!scenario_given(s, "workload.requests") ? REQUESTS_MAX : w->requests;
	double t = 0;
	if (arrivals == NULL || lengths == NULL) {
		gsl_rng_free(arrivals);
		gsl_rng_free(lengths);
		return -1;
	}
	gsl_rng_set(arrivals, (unsigned long)w->seed);
	gsl_rng_set(lengths, (unsigned long)w->seed ^ 0x9e3779b9UL);
	for (;;) {
		int64_t prompt, output;
		if ((int64_t)out->n >= limit)
			break;
		if (out->n > 0)
			t += draw_gap(arrivals, w);
		if (w->duration > 0 && w->arrival.rate > 0 && t > w->duration)
			break;
		prompt = draw_length(lengths, &w->prompt_tokens);
		output = draw_length(lengths, &w->output_tokens);
		push(out, &cap, t, prompt, output, w->seq_len);
	}
	gsl_rng_free(arrivals);
	gsl_rng_free(lengths);
	return 0;
}

/* One numeric CSV field starting at *p; advances past it and a following comma. */
static int field(const char **p, double *v)
{
	char *end;
	while (**p == ' ' || **p == '\t')
		(*p)++;
	errno = 0;
	*v = strtod(*p, &end);
	if (end == *p || errno == ERANGE || !isfinite(*v))
		return -1;
	*p = end;
	while (**p == ' ' || **p == '\t' || **p == '\r')
		(*p)++;
	if (**p == ',')
		(*p)++;
	return 0;
}

/* A token count: decimal digits only (strtod took 0x10 and 100.5). */
static bool is_count(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == ',' || *p == '\n' || *p == '\0';
}

static int read_trace(const struct scenario *s, struct request_stream *out, struct diag *d)
{
	static const char *const names[] = {"arrival_s", "prompt_tokens", "output_tokens"};
	const char *path = s->workload.arrival.trace;
	const char *key = "workload.arrival.trace";
	FILE *f = fopen(path, "rb");
	char line[4096];
	size_t cap = 0;
	int lineno = 0;
	double last = 0;
	if (f == NULL) {
		diag_add(d, scenario_mark(s, key), key, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		const char *p = line;
		double v[3], cached;
		int i;
		struct mark at = {path, ++lineno, 1};
		if (strchr(line, '\n') == NULL && !feof(f)) {
			diag_add(d, at, key, "line longer than %zu bytes", sizeof line - 1);
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#')
			continue;
		/* A header line names the columns. */
		if (lineno == 1 && strncmp(p, names[0], strlen(names[0])) == 0)
			continue;
		for (i = 0; i < 3; i++) {
			const char *start = p;
			at.col = (int)(p - line) + 1;
			if (field(&p, &v[i]) != 0) {
				diag_add(d, at, key, "expected a number for %s", names[i]);
				break;
			}
			if (i > 0 && !is_count(start)) {
				diag_add(d, at, key, "expected a whole number of tokens for %s",
					 names[i]);
				break;
			}
		}
		if (i < 3)
			continue;
		/* An optional fourth column: the prompt tokens found in the prefix cache. */
		cached = 0;
		if (*p != '\0' && *p != '\n' && *p != '\r' && *p != '#') {
			const char *start = p;
			at.col = (int)(p - line) + 1;
			if (field(&p, &cached) != 0 || !is_count(start)) {
				diag_add(d, at, key, "expected a whole number of tokens for cached_tokens");
				continue;
			}
			if (cached > v[1]) {
				diag_add(d, at, key, "cached_tokens %.0f is more than the prompt's %.0f",
					 cached, v[1]);
				continue;
			}
		}
		at.col = 1;
		if (v[0] < last || v[0] < 0) {
			diag_add(d, at, key, "arrival %g s is before the previous one (%g s)", v[0],
				 last);
			continue;
		}
		if (v[1] < 1 || v[2] < 1 || v[1] > 1e12 || v[2] > 1e12) {
			diag_add(d, at, key, "token counts must be from 1 to 1e12, got %g and %g", v[1],
				 v[2]);
			continue;
		}
		/* vLLM refuses a prompt as long as max_model_len; a longer output is cut at it
		 * (push), as vLLM stops a sequence there. */
		if (v[1] >= (double)s->workload.seq_len) {
			diag_add(d, at, key, "a prompt of %.0f tokens does not fit workload.seq_len "
				 "%lld (one token at least must be generated)", v[1],
				 (long long)s->workload.seq_len);
			continue;
		}
		if (out->n >= REQUESTS_MAX) {
			diag_add(d, at, key, "more than %d requests", REQUESTS_MAX);
			break;
		}
		last = v[0];
		push(out, &cap, v[0], (int64_t)v[1], (int64_t)v[2], s->workload.seq_len);
		out->req[out->n - 1].cached = (int64_t)cached;
	}
	if (ferror(f))
		diag_add(d, scenario_mark(s, key), key, "cannot read '%s'", path);
	fclose(f);
	if (diag_has_errors(d))
		return -1;
	if (out->n == 0) {
		diag_add(d, scenario_mark(s, key), key, "'%s' holds no requests", path);
		return -1;
	}
	return 0;
}

int requests_build(const struct scenario *s, struct request_stream *out, struct diag *d)
{
	memset(out, 0, sizeof *out);
	if (s->workload.arrival.process == ARRIVAL_TRACE) {
		if (read_trace(s, out, d) != 0) {
			requests_release(out);
			return -1;
		}
		return 0;
	}
	if (draw(s, out) != 0) {
		diag_add(d, scenario_mark(s, "workload.seed"), "workload.seed",
			 "cannot allocate a random number generator");
		requests_release(out);
		return -1;
	}
	return 0;
}

void requests_release(struct request_stream *r)
{
	free(r->req);
	r->req = NULL;
	r->n = 0;
}
