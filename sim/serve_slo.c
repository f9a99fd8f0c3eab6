/*
 * serve_slo: latency targets for the serving rate search — "ttft_p99=2s,tpot_p99=100ms"
 * parsed, named, read off a result and judged. Simulate stage, part of serve; knows nothing of
 * the scheduler.
 */
#include <stdio.h>
#include <string.h>

#include "serve.h"
#include "units.h"

static const char *const metric_names[] = {"ttft", "tpot", "latency"};
static const char *const quantile_names[] = {"mean", "p50", "p90", "p99"};

int serve_parse_slo(const char *text, struct mark at, const char *key, struct serve_slo *out,
		    struct diag *d)
{
	char buf[512], *save = NULL, *item;
	memset(out, 0, sizeof *out);
	if (strlen(text) >= sizeof buf) {
		diag_add(d, at, key, "too long");
		return -1;
	}
	strcpy(buf, text);
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *us;
		struct serve_target *t;
		struct diag ud;
		int bad;
		int mi, qi;
		if (eq == NULL || (us = strchr(item, '_')) == NULL || us > eq) {
			diag_add(d, at, key, "expected METRIC_QUANTILE=TIME such as ttft_p99=2s, "
				 "got '%s'", item);
			return -1;
		}
		*eq = '\0';
		*us = '\0';
		for (mi = 0; mi < 3 && strcmp(item, metric_names[mi]) != 0; mi++)
			;
		for (qi = 0; qi < 4 && strcmp(us + 1, quantile_names[qi]) != 0; qi++)
			;
		if (mi == 3 || qi == 4) {
			diag_add(d, at, key, "unknown target '%s_%s': metrics are ttft, tpot, "
				 "latency; quantiles mean, p50, p90, p99", item, us + 1);
			return -1;
		}
		if (out->n == SERVE_TARGETS_MAX) {
			diag_add(d, at, key, "more than %d targets", SERVE_TARGETS_MAX);
			return -1;
		}
		t = &out->t[out->n++];
		t->metric = mi;
		t->quantile = qi;
		/* The message below says more than units_parse's would. */
		diag_init(&ud);
		bad = units_parse(eq + 1, UNIT_SECONDS, at, key, &t->limit, &ud) != 0 ||
		      !(t->limit > 0);
		diag_release(&ud);
		if (bad) {
			diag_add(d, at, key, "%s_%s: expected a time such as 2s or 100ms, got '%s'",
				 item, us + 1, eq + 1);
			return -1;
		}
	}
	if (out->n == 0) {
		diag_add(d, at, key, "no targets given");
		return -1;
	}
	return 0;
}

const char *serve_target_name(const struct serve_target *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s_%s", metric_names[t->metric], quantile_names[t->quantile]);
	return buf;
}

double serve_target_value(const struct serve_result *r, const struct serve_target *t)
{
	const struct serve_stat *st = t->metric == SERVE_TTFT ? &r->ttft
				      : t->metric == SERVE_TPOT ? &r->tpot
								  : &r->latency;
	switch (t->quantile) {
	case SERVE_MEAN:
		return st->mean;
	case SERVE_P50:
		return st->p50;
	case SERVE_P90:
		return st->p90;
	default:
		return st->p99;
	}
}

bool serve_meets(const struct serve_result *r, const struct serve_slo *slo)
{
	int i;
	if (r->finished < r->requests)
		return false;
	for (i = 0; i < slo->n; i++)
		if (!(serve_target_value(r, &slo->t[i]) <= slo->t[i].limit))
			return false;
	return true;
}
