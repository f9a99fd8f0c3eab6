/*
 * cost: what renting a cluster for a run costs — USD per hour, USD per million tokens, and the
 * days and USD to process a token budget. Foundation stage: plain arithmetic on a price and a
 * rate, shared by a single run's report, sweeps, `dssim plan` and report/, so one formula
 * serves them all. Knows nothing of scenarios or results.
 */
#ifndef DSSIM_COST_H
#define DSSIM_COST_H

/* A price of 0 means unknown; so does a rate of 0. Every field is 0 when it cannot be known,
 * except days and usd, which are INFINITY when tokens > 0 and the rate is 0. */
struct cost {
	double usd_per_hour;           /* the cluster: price of one node x nodes */
	double usd_per_million_tokens; /* training: tokens processed; serving: output tokens */
	double tokens;                 /* the budget asked for, 0 for none */
	double days;                   /* to process tokens at the rate */
	double usd;                    /* days x 24 x usd_per_hour */
};

/* The largest token budget: a million times a frontier run's budget, still printed sanely. */
#define COST_TOKENS_MAX 1e18

/* A token count such as 2T, 500B, 300M, 10k or 1e12, from 1 to COST_TOKENS_MAX, into *out.
 * 0, or -1 (the caller says what it expected). */
int cost_parse_tokens(const char *text, double *out);

/* The cost of running at tokens_per_s on a cluster priced usd_per_hour, and of processing
 * tokens (0: no budget, days and usd stay 0). */
void cost_build(double usd_per_hour, double tokens_per_s, double tokens, struct cost *out);

#endif
