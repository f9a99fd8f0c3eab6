/*
 * cost: a run's price per hour, per million tokens and for a token budget (cost.h). Foundation
 * stage; the one place these formulas live.
 */
#include "cost.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cost_build(double usd_per_hour, double tokens_per_s, double tokens, struct cost *out)
{
	memset(out, 0, sizeof *out);
	out->usd_per_hour = usd_per_hour > 0 ? usd_per_hour : 0;
	out->tokens = tokens > 0 ? tokens : 0;
	/* Instances are billed by the hour of the whole cluster: a million tokens take
	 * 1e6 / (tokens/s) seconds, each costing (USD/h) / 3,600. */
	if (out->usd_per_hour > 0 && tokens_per_s > 0)
		out->usd_per_million_tokens = out->usd_per_hour / 3600.0 / tokens_per_s * 1e6;
	if (out->tokens > 0) {
		/* days = tokens / (tokens/s) / 86,400 s per day; USD = days x 24 h x USD/h. */
		out->days = tokens_per_s > 0 ? out->tokens / tokens_per_s / 86400.0 : INFINITY;
		out->usd = out->usd_per_hour > 0 ? out->days * 24.0 * out->usd_per_hour : 0;
	}
}

int cost_parse_tokens(const char *text, double *out)
{
	char *end;
	double v = strtod(text, &end), scale = 1;
	if (end == text || !(v > 0))
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		scale = 1e3;
		end++;
		break;
	case 'M':
		scale = 1e6;
		end++;
		break;
	case 'B':
	case 'G':
		scale = 1e9;
		end++;
		break;
	case 'T':
		scale = 1e12;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || !(v * scale >= 1) || !(v * scale <= COST_TOKENS_MAX))
		return -1;
	*out = v * scale;
	return 0;
}
