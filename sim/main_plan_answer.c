/*
 * main_plan_answer: the answer of `dssim plan` (main_plan_int.h). Keeps the sweeps' points,
 * judges each against the goal and the constraints (cost from cost.h, the same formulas as a
 * run, a sweep and a report), picks the cheapest and the fastest, runs each again on its own
 * from the command it prints, and prints the answer with one line per other node type saying
 * why it loses. Command-line layer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "json.h"
#include "main_plan_int.h"
#include "main_sweep.h"
#include "run.h"
#include "units.h"
#include "xalloc.h"

void plan_init(struct plan *pl, const struct plan_args *a)
{
	memset(pl, 0, sizeof *pl);
	pl->args = a;
	pl->cheapest = pl->fastest = -1;
	diag_init(&pl->store_diag);
}

void plan_release(struct plan *pl)
{
	size_t i;
	for (i = 0; i < pl->ncands; i++)
		free(pl->cands[i].own);
	free(pl->cands);
	free(pl->types);
	free(pl->checked[0].command);
	free(pl->checked[1].command);
	diag_release(&pl->store_diag);
	if (pl->store != NULL) {
		struct diag d;
		diag_init(&d);
		store_close(pl->store, &d);
		diag_release(&d);
	}
}

/* Load the base with extra overrides after the user's (the node, its counts, a candidate's
 * keys). NULL with diagnostics. */
static struct scenario *load_with(const struct plan *pl, const struct scenario_override *extra,
                                  size_t nextra, bool defer, struct diag *d)
{
	const struct plan_args *a = pl->args;
	struct scenario_options opt;
	struct scenario_override *o = xcalloc(a->noverrides + nextra + 1, sizeof *o);
	struct scenario *s;
	if (a->noverrides > 0)
		memcpy(o, a->overrides, a->noverrides * sizeof *o);
	if (nextra > 0)
		memcpy(o + a->noverrides, extra, nextra * sizeof *o);
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = a->noverrides + nextra;
	opt.data_dir = a->data_dir;
	opt.defer_strategy = defer;
	s = scenario_load(a->base, &opt, d);
	free(o);
	return s;
}

void plan_add_type(struct plan *pl, const char *name, bool explicit, struct diag *d)
{
	const struct plan_args *a = pl->args;
	struct scenario_override o[2] = {{"cluster.node", name}, {"cluster.gpus", "0"}};
	struct plan_type t;
	struct scenario *s;
	struct diag quiet;
	size_t i;
	diag_init(&quiet);
	s = load_with(pl, name != NULL ? o : o + 1, name != NULL ? 2 : 1, true, &quiet);
	if (s == NULL) {
		if (explicit) {
			/* The loader's own words ("unknown node preset 'x' (known: ...)"), without
			 * the --set it came through. */
			struct mark cli = {NULL, 0, 0};
			diag_add(d, cli, "--nodes", "%s",
			         quiet.count > 0 ? quiet.items[0].message : "does not load");
		}
		diag_release(&quiet);
		return;
	}
	diag_release(&quiet);
	memset(&t, 0, sizeof t);
	snprintf(t.name, sizeof t.name, "%s", s->cluster.node.name ? s->cluster.node.name : "");
	t.price = s->cluster.node.price;
	snprintf(t.price_kind, sizeof t.price_kind, "%s",
	         scenario_enum_name("cluster.node.price_kind", s->cluster.node.price_kind));
	t.gpus_per_node = s->cluster.node.gpus_per_node;
	scenario_free(s);
	for (i = 0; i < pl->ntypes; i++)
		if (strcmp(pl->types[i].name, t.name) == 0)
			return;
	if (!explicit && !(t.price > 0))
		return;
	t.max_nodes = a->max_gpus / t.gpus_per_node;
	if (t.max_nodes < 1)
		snprintf(t.why_none, sizeof t.why_none,
		         "one node has %lld GPUs, more than "
		         "--max-gpus %ld",
		         (long long)t.gpus_per_node, a->max_gpus);
	if (a->max_usd_h > 0 && !(t.price > 0)) {
		t.max_nodes = 0;
		snprintf(t.why_none, sizeof t.why_none,
		         "no price, and --max-usd-per-hour needs one");
	} else if (a->max_usd_h > 0 && t.max_nodes > 0 &&
	           (double)t.max_nodes * t.price > a->max_usd_h) {
		t.max_nodes = (int64_t)floor(a->max_usd_h / t.price);
		if (t.max_nodes < 1)
			snprintf(t.why_none, sizeof t.why_none,
			         "one node costs %.2f USD/h, more than "
			         "--max-usd-per-hour %.2f",
			         t.price, a->max_usd_h);
	}
	pl->types = xreallocarray(pl->types, pl->ntypes + 1, sizeof *pl->types);
	pl->types[pl->ntypes++] = t;
}

void plan_keep(struct plan *pl, const struct store_point *p)
{
	struct plan_cand *c;
	if (pl->ncands == pl->cap) {
		pl->cap = pl->cap ? 2 * pl->cap : 1024;
		pl->cands = xreallocarray(pl->cands, pl->cap, sizeof *pl->cands);
	}
	c = &pl->cands[pl->ncands++];
	memset(c, 0, sizeof *c);
	c->type = pl->type_at;
	c->status = p->status;
	c->fits = p->fits;
	snprintf(c->reason, sizeof c->reason, "%s", p->reason);
	snprintf(c->recompute, sizeof c->recompute, "%s", p->recompute);
	snprintf(c->schedule, sizeof c->schedule, "%s", p->schedule);
	c->nodes = p->nodes;
	c->gpus = p->gpus;
	c->tp = p->tp;
	c->pp = p->pp;
	c->dp = p->dp;
	c->cp = p->cp;
	c->ep = p->ep;
	c->zero = p->zero;
	c->vp = p->vp;
	c->micro_batch = p->micro_batch;
	c->step_s = p->step_s;
	c->tokens_per_s = p->tokens_per_s;
	c->peak = p->peak_per_gpu;
	c->capacity = p->capacity;
	c->usd_h = p->usd_per_hour;
	c->usd_mtok = p->usd_per_million_tokens;
	c->ttft_p50 = p->ttft_p50;
	c->ttft_p99 = p->ttft_p99;
	c->tpot_p50 = p->tpot_p50;
	c->tpot_p99 = p->tpot_p99;
	c->latency_p99 = p->latency_p99;
	c->requests_per_s = p->requests_per_s;
	/* The config is "{shared,own}" (canonical_join): keep the own keys, without the brace. */
	if (p->status != STORE_ERROR && p->config != NULL &&
	    strlen(p->config) > p->shared_len + 2) {
		const char *own = p->config + p->shared_len + 2;
		c->own = xstrdup(own);
		c->own[strlen(c->own) - 1] = '\0';
	}
}

/* ---- the verdict ---- */

static const char *seconds_text(double v, char *buf, size_t size)
{
	return units_format(v, UNIT_SECONDS, buf, size);
}

/* Training: days and USD for the budget; the deadline. */
static void judge_train(const struct plan *pl, struct plan_cand *c)
{
	const struct plan_args *a = pl->args;
	struct cost k;
	cost_build(c->usd_h, c->tokens_per_s, a->train_tokens, &k);
	c->days = k.days;
	c->usd = k.usd;
	c->usd_mtok = k.usd_per_million_tokens;
	if (a->deadline_s > 0 && c->days * 86400 > a->deadline_s) {
		snprintf(c->why, sizeof c->why, "takes %.4g days, past --deadline %.4g days",
		         c->days, a->deadline_s / 86400);
		c->score = c->days * 86400 / a->deadline_s;
	}
}

/* Serving: every target, the first one missed says why. */
static void judge_serve(const struct plan *pl, struct plan_cand *c)
{
	int k;
	char name[32], v[32], l[32];
	c->metric = plan_target_value(c, &pl->slo.t[0]);
	if (!(c->requests_per_s > 0)) {
		snprintf(c->why, sizeof c->why, "served no request");
		c->score = 1e6;
		return;
	}
	for (k = 0; k < pl->slo.n; k++) {
		const struct serve_target *t = &pl->slo.t[k];
		double x = plan_target_value(c, t);
		if (x > t->limit) {
			if (c->why[0] == '\0')
				snprintf(c->why, sizeof c->why, "%s %s > %s",
				         serve_target_name(t, name, sizeof name),
				         seconds_text(x, v, sizeof v),
				         seconds_text(t->limit, l, sizeof l));
			if (x / t->limit > c->score)
				c->score = x / t->limit;
		}
	}
}

static void judge(const struct plan *pl, struct plan_cand *c)
{
	const struct plan_args *a = pl->args;
	double headroom = c->capacity > 0 ? 1 - c->peak / c->capacity : 0;
	c->why[0] = '\0';
	c->score = 0;
	if (c->status == STORE_ERROR) {
		snprintf(c->why, sizeof c->why, "%.*s", (int)sizeof c->why - 1, c->reason);
		c->score = 1e12;
		return;
	}
	if (!c->fits || c->status != STORE_SIMULATED) {
		snprintf(c->why, sizeof c->why, "does not fit: %.*s", (int)sizeof c->why - 16,
		         c->reason);
		c->score = 1e9 + (c->capacity > 0 ? c->peak / c->capacity : 0);
		return;
	}
	if (a->train)
		judge_train(pl, c);
	else
		judge_serve(pl, c);
	if (c->why[0] == '\0' && headroom < a->min_headroom) {
		snprintf(c->why, sizeof c->why, "memory headroom %.1f%% < --min-headroom %.1f%%",
		         100 * headroom, 100 * a->min_headroom);
		c->score = 1 + a->min_headroom - headroom;
	}
	if (c->why[0] == '\0' && a->max_usd_h > 0 && !(c->usd_h <= a->max_usd_h)) {
		snprintf(c->why, sizeof c->why, "%.2f USD/h, over --max-usd-per-hour %.2f",
		         c->usd_h, a->max_usd_h);
		c->score = c->usd_h / a->max_usd_h;
	}
	c->meets = c->why[0] == '\0';
}

/* The cost a plan is ranked by: USD for the budget (training), USD/h at the rate (serving);
 * infinite when unpriced. */
static double cost_of(const struct plan *pl, const struct plan_cand *c)
{
	if (!(c->usd_h > 0))
		return INFINITY;
	return pl->args->train ? c->usd : c->usd_h;
}

/* How fast a plan is: days (training), the first target's value (serving); lower is better. */
static double speed_of(const struct plan *pl, const struct plan_cand *c)
{
	return pl->args->train ? c->days : c->metric;
}

/* Whether x is a better cheapest (by_cost) or fastest plan than y; ties go to the other
 * measure, then to the earlier point. */
static bool better(const struct plan *pl, const struct plan_cand *x, const struct plan_cand *y,
                   bool by_cost)
{
	double a1 = by_cost ? cost_of(pl, x) : speed_of(pl, x);
	double b1 = by_cost ? cost_of(pl, y) : speed_of(pl, y);
	double a2 = by_cost ? speed_of(pl, x) : cost_of(pl, x);
	double b2 = by_cost ? speed_of(pl, y) : cost_of(pl, y);
	if (a1 != b1)
		return a1 < b1;
	return a2 < b2;
}

void plan_judge(struct plan *pl)
{
	size_t i;
	for (i = 0; i < pl->ncands; i++) {
		struct plan_cand *c = &pl->cands[i];
		judge(pl, c);
		if (!c->meets)
			continue;
		if (isfinite(cost_of(pl, c)) &&
		    (pl->cheapest < 0 || better(pl, c, &pl->cands[pl->cheapest], true)))
			pl->cheapest = (long)i;
		if (pl->fastest < 0 || better(pl, c, &pl->cands[pl->fastest], false))
			pl->fastest = (long)i;
	}
}

/* ---- the check: the command, run on its own ---- */

/* The keys a plan's command sets from a candidate's own keys: the strategy (training: all of
 * it that decides the step; serving: the parallel sizes). */
static bool wanted(const struct plan *pl, const char *key, const char *value)
{
	static const char *const serving[] = {"strategy.tp", "strategy.pp", "strategy.dp",
	                                      "strategy.cp", "strategy.ep", NULL};
	static const char *const skip[] = {"workload.global_batch",
	                                   "strategy.bucket",
	                                   "strategy.overlap_grad_reduce",
	                                   "strategy.overlap_param_gather",
	                                   "strategy.tp_comm_overlap",
	                                   "strategy.zero3_prefetch_layers",
	                                   "strategy.zero3_backward_prefetch",
	                                   "strategy.account_for_embedding_in_pipeline_split",
	                                   "strategy.account_for_loss_in_pipeline_split",
	                                   NULL};
	size_t i;
	if (!pl->args->train) {
		for (i = 0; serving[i]; i++)
			if (strcmp(key, serving[i]) == 0)
				return true;
		return false;
	}
	for (i = 0; skip[i]; i++)
		if (strcmp(key, skip[i]) == 0)
			return false;
	if ((strcmp(key, "strategy.first_stage_layers") == 0 ||
	     strcmp(key, "strategy.last_stage_layers") == 0) &&
	    strcmp(value, "0") == 0)
		return false;
	return true;
}

/* The overrides of a candidate: node, nodes, GPUs, the rate, then its own keys. The strings
 * live in *arena (free each, then the array). */
static size_t cand_overrides(const struct plan *pl, const struct plan_cand *c,
                             struct scenario_override **out, char ***strs, size_t *nstrs)
{
	struct scenario_override *o = xcalloc(64, sizeof *o);
	char **s = xcalloc(160, sizeof *s), *p;
	size_t n = 0, k = 0;
	char num[64];
	o[n].key = "cluster.node";
	o[n++].value = s[k++] = xstrdup(pl->types[c->type].name);
	o[n].key = "cluster.nodes";
	snprintf(num, sizeof num, "%lld", (long long)c->nodes);
	o[n++].value = s[k++] = xstrdup(num);
	o[n].key = "cluster.gpus";
	o[n++].value = "0";
	if (!pl->args->train) {
		snprintf(num, sizeof num, "%.17g", pl->args->rate);
		o[n].key = "workload.arrival.rate";
		o[n++].value = s[k++] = xstrdup(num);
	}
	/* "key":value,"key":"text",... as canonical_format_part writes them (no escapes in
	 * these keys' values: numbers, booleans and enum names). */
	for (p = c->own; p != NULL && *p == '"' && n < 60 && k < 158;) {
		char *key_end = strchr(p + 1, '"'), *v, *end;
		if (key_end == NULL || key_end[1] != ':')
			break;
		v = key_end + 2;
		end = *v == '"' ? strchr(v + 1, '"') : v + strcspn(v, ",");
		if (end == NULL)
			break;
		s[k] = xmalloc((size_t)(key_end - p));
		memcpy(s[k], p + 1, (size_t)(key_end - p - 1));
		s[k][key_end - p - 1] = '\0';
		s[k + 1] = *v == '"' ? xmalloc((size_t)(end - v)) : xmalloc((size_t)(end - v) + 1);
		if (*v == '"') {
			memcpy(s[k + 1], v + 1, (size_t)(end - v - 1));
			s[k + 1][end - v - 1] = '\0';
			end++;
		} else {
			memcpy(s[k + 1], v, (size_t)(end - v));
			s[k + 1][end - v] = '\0';
		}
		if (wanted(pl, s[k], s[k + 1])) {
			o[n].key = s[k];
			o[n++].value = s[k + 1];
		}
		k += 2;
		p = *end == ',' ? end + 1 : end;
	}
	*out = o;
	*strs = s;
	*nstrs = k;
	return n;
}

/* A word for a shell: as it is when it holds only safe characters, else in single quotes. */
static void shell_word(FILE *f, const char *w)
{
	const char *q;
	if (w[0] != '\0' && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                              "0123456789_-.,/=+:%@") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (q = w; *q; q++) {
		if (*q == '\'')
			fputs("'\\''", f);
		else
			fputc(*q, f);
	}
	fputc('\'', f);
}

static char *command_of(const struct plan *pl, const struct scenario_override *o, size_t n)
{
	const struct plan_args *a = pl->args;
	char *buf = NULL, kv[512];
	size_t size = 0, i;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	fputs("dssim ", f);
	shell_word(f, a->base);
	for (i = 0; i < a->noverrides; i++) {
		snprintf(kv, sizeof kv, "%s=%s", a->overrides[i].key, a->overrides[i].value);
		fputs(" --set ", f);
		shell_word(f, kv);
	}
	for (i = 0; i < n; i++) {
		snprintf(kv, sizeof kv, "%s=%s", o[i].key, o[i].value);
		fputs(" --set ", f);
		shell_word(f, kv);
	}
	if (a->data_dir != NULL) {
		fputs(" --data-dir ", f);
		shell_word(f, a->data_dir);
	}
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

/* Run a chosen candidate from its command's overrides. EXIT_OK or the status (printed). */
static int check_one(struct plan *pl, const struct plan_cand *c, struct plan_checked *out)
{
	struct scenario_override *o;
	char **strs;
	size_t nstrs, n, i;
	struct diag d;
	struct scenario *s;
	int status = EXIT_OK;
	n = cand_overrides(pl, c, &o, &strs, &nstrs);
	out->command = command_of(pl, o, n);
	diag_init(&d);
	s = load_with(pl, o, n, false, &d);
	if (s == NULL) {
		fprintf(stderr, "dssim plan: the chosen configuration does not load on its own:\n");
		diag_print(&d, stderr);
		status = EXIT_INTERNAL;
	} else {
		struct run_result r;
		if (run_scenario(s, NULL, &r, &d) != 0) {
			diag_print(&d, stderr);
			status = EXIT_INTERNAL;
		} else if (r.outcome == RUN_SIMULATED) {
			out->ran = true;
			if (pl->args->train) {
				out->value = r.step.tokens_per_s;
				out->meets = !run_is_negative(&r);
			} else {
				out->value = serve_target_value(&r.serve, &pl->slo.t[0]);
				out->meets = serve_meets(&r.serve, &pl->slo);
			}
		}
		run_result_release(&r);
		scenario_free(s);
	}
	diag_release(&d);
	for (i = 0; i < nstrs; i++)
		free(strs[i]);
	free(strs);
	free(o);
	return status;
}

int plan_check(struct plan *pl)
{
	int status = EXIT_OK;
	if (pl->cheapest >= 0)
		status = check_one(pl, &pl->cands[pl->cheapest], &pl->checked[0]);
	if (status == EXIT_OK && pl->fastest >= 0)
		status = check_one(pl, &pl->cands[pl->fastest], &pl->checked[1]);
	return status;
}

/* ---- printing ---- */

/* The point that says why a node type loses: its nearest miss among the points cheaper than
 * the cheapest plan (why it is not cheaper), else its cheapest point that meets (else the
 * fastest, for an unpriced type), else its nearest miss. -1 when the type has no point. */
static long best_of_type(const struct plan *pl, size_t type)
{
	long best = -1;
	size_t i;
	double bar = pl->cheapest >= 0 ? cost_of(pl, &pl->cands[pl->cheapest]) : -INFINITY;
	for (i = 0; i < pl->ncands; i++) {
		const struct plan_cand *c = &pl->cands[i];
		if (c->type == type && !c->meets && cost_of(pl, c) < bar &&
		    (best < 0 || c->score < pl->cands[best].score))
			best = (long)i;
	}
	if (best >= 0)
		return best;
	for (i = 0; i < pl->ncands; i++) {
		const struct plan_cand *c = &pl->cands[i], *b;
		if (c->type != type)
			continue;
		if (best < 0) {
			best = (long)i;
			continue;
		}
		b = &pl->cands[best];
		if (c->meets != b->meets) {
			if (c->meets)
				best = (long)i;
		} else if (c->meets ? better(pl, c, b, isfinite(cost_of(pl, b)))
		                    : (c->score < b->score ||
		                       (c->score == b->score && cost_of(pl, c) < cost_of(pl, b)))) {
			best = (long)i;
		}
	}
	return best;
}

static void strategy_text(const struct plan *pl, const struct plan_cand *c, char *buf, size_t size)
{
	int n = snprintf(buf, size, "tp %lld, pp %lld, dp %lld", (long long)c->tp, (long long)c->pp,
	                 (long long)c->dp);
	if (c->ep > 1 && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", ep %lld", (long long)c->ep);
	if (c->cp > 1 && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, ", cp %lld", (long long)c->cp);
	if (pl->args->train && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n,
		         ", zero %lld, micro-batch %lld, recompute %s%s%s", (long long)c->zero,
		         (long long)c->micro_batch, c->recompute, c->pp > 1 ? ", " : "",
		         c->pp > 1 ? c->schedule : "");
}

static const char *kind_words(const char *kind)
{
	return strcmp(kind, "on_demand") == 0        ? "on demand"
	       : strcmp(kind, "capacity_block") == 0 ? "as a capacity block"
	                                             : kind;
}

/* The figures of a plan in one line: price, cost, speed. */
static void figures(const struct plan *pl, const struct plan_cand *c, char *buf, size_t size)
{
	const struct plan_type *t = &pl->types[c->type];
	char price[96], v[32], l[32], name[32];
	if (c->usd_h > 0)
		snprintf(price, sizeof price, "%.2f USD/h %s", c->usd_h, kind_words(t->price_kind));
	else
		snprintf(price, sizeof price, "no price");
	if (pl->args->train)
		snprintf(buf, size, "%s; %.4g days, %.0f USD for %.4g tokens at %.0f tokens/s",
		         price, c->days, c->usd, pl->args->train_tokens, c->tokens_per_s);
	else
		snprintf(buf, size, "%s, %.3f USD per million output tokens; %s %s (limit %s)",
		         price, c->usd_mtok, serve_target_name(&pl->slo.t[0], name, sizeof name),
		         seconds_text(c->metric, v, sizeof v),
		         seconds_text(pl->slo.t[0].limit, l, sizeof l));
}

static void print_plan(const struct plan *pl, FILE *out, const char *label, long i,
                       const struct plan_checked *k)
{
	const struct plan_cand *c;
	char s[256], f[512], v[32];
	if (i < 0) {
		fprintf(out, "%-9s none%s\n", label, pl->fastest >= 0 ? " with a price" : "");
		return;
	}
	c = &pl->cands[i];
	strategy_text(pl, c, s, sizeof s);
	figures(pl, c, f, sizeof f);
	fprintf(out, "%-9s %s x %lld (%lld GPUs): %s\n", label, pl->types[c->type].name,
	        (long long)c->nodes, (long long)c->gpus, s);
	fprintf(out, "%9s %s\n", "", f);
	if (k->ran && pl->args->train)
		fprintf(out, "%9s run on its own: %.0f tokens/s%s\n", "", k->value,
		        k->meets ? "" : ", and it does NOT fit");
	else if (k->ran)
		fprintf(out, "%9s run on its own: %s %s, %s the targets\n", "",
		        serve_target_name(&pl->slo.t[0], s, sizeof s),
		        seconds_text(k->value, v, sizeof v), k->meets ? "meets" : "does NOT meet");
	fprintf(out, "%9s %s\n", "", k->command);
}

/* Why the best point of a type loses to the answer, in one line. */
static void lose_text(const struct plan *pl, const struct plan_cand *c, char *buf, size_t size)
{
	const struct plan_cand *ch = pl->cheapest >= 0 ? &pl->cands[pl->cheapest] : NULL;
	const struct plan_cand *fa = pl->fastest >= 0 ? &pl->cands[pl->fastest] : NULL;
	char v[32];
	if (!c->meets) {
		snprintf(buf, size, "%s", c->why);
	} else if (pl->args->train) {
		snprintf(buf, size,
		         "meets, but costs %.0f USD more than the cheapest and takes "
		         "%.3g days more than the fastest",
		         isfinite(cost_of(pl, c)) && ch ? c->usd - ch->usd : INFINITY,
		         fa ? c->days - fa->days : 0);
	} else if (!isfinite(cost_of(pl, c))) {
		snprintf(buf, size, "meets, but has no price; %s above the fastest's",
		         seconds_text(fa ? c->metric - fa->metric : 0, v, sizeof v));
	} else {
		char name[32];
		snprintf(buf, size,
		         "meets, but costs %.2f USD/h more than the cheapest; %s %s "
		         "above the fastest's",
		         ch ? c->usd_h - ch->usd_h : 0,
		         serve_target_name(&pl->slo.t[0], name, sizeof name),
		         seconds_text(fa ? c->metric - fa->metric : 0, v, sizeof v));
	}
}

static void counts(const struct plan *pl, size_t *sim, size_t *nofit, size_t *err, size_t *meet)
{
	size_t i;
	*sim = *nofit = *err = *meet = 0;
	for (i = 0; i < pl->ncands; i++) {
		const struct plan_cand *c = &pl->cands[i];
		*sim += c->status == STORE_SIMULATED;
		*nofit += c->status == STORE_NO_FIT;
		*err += c->status == STORE_ERROR;
		*meet += c->meets;
	}
}

static void goal_text(const struct plan *pl, char *buf, size_t size)
{
	const struct plan_args *a = pl->args;
	char name[32], l[32];
	int k, n;
	if (a->train) {
		n = snprintf(buf, size, "train %s on %.4g tokens", pl->model, a->train_tokens);
	} else {
		n = snprintf(buf, size, "serve %s at %.4g requests/s within", pl->model, a->rate);
		for (k = 0; k < pl->slo.n && n > 0 && (size_t)n < size; k++)
			n += snprintf(buf + n, size - (size_t)n, "%s %s <= %s", k ? "," : "",
			              serve_target_name(&pl->slo.t[k], name, sizeof name),
			              seconds_text(pl->slo.t[k].limit, l, sizeof l));
	}
	/* The headroom asked for, the training default (10 %) among it: a plan's reader sees why
	 * a faster point at the edge of memory lost. */
	if (a->min_headroom > 0 && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ", %.4g %% of GPU memory kept free",
		         100 * a->min_headroom);
}

void plan_print_text(const struct plan *pl, FILE *out)
{
	size_t sim, nofit, err, meet, k;
	char g[256], why[320], s[256];
	goal_text(pl, g, sizeof g);
	counts(pl, &sim, &nofit, &err, &meet);
	fprintf(out, "plan      %s\n", g);
	fprintf(
	    out,
	    "searched  %zu node types, %zu configurations in %.1f s: %zu simulated, %zu "
	    "do not fit, %zu could not be built or served; %zu meet the goal and constraints\n\n",
	    pl->ntypes, pl->ncands, pl->wall_s, sim, nofit, err, meet);
	print_plan(pl, out, "cheapest", pl->cheapest, &pl->checked[0]);
	if (pl->fastest >= 0 && pl->fastest != pl->cheapest) {
		fputc('\n', out);
		print_plan(pl, out, "fastest", pl->fastest, &pl->checked[1]);
	} else if (pl->fastest >= 0) {
		fprintf(out, "fastest   the same\n");
	}
	fprintf(out, "\nwhy each node type loses (its nearest miss cheaper than the cheapest plan, "
	             "else its cheapest plan):\n");
	for (k = 0; k < pl->ntypes; k++) {
		const struct plan_type *t = &pl->types[k];
		long b = best_of_type(pl, k);
		if (b >= 0 && (b == pl->cheapest || b == pl->fastest))
			continue;
		if (b < 0) {
			fprintf(out, "  %-16s %s\n", t->name,
			        t->why_none[0] ? t->why_none : "no configuration");
			continue;
		}
		strategy_text(pl, &pl->cands[b], s, sizeof s);
		lose_text(pl, &pl->cands[b], why, sizeof why);
		fprintf(out, "  %-16s x %lld, %s: %s\n", t->name, (long long)pl->cands[b].nodes, s,
		        why);
	}
	if (pl->fastest < 0)
		fprintf(out, "\nnothing meets the goal and constraints\n");
}

static void json_plan(const struct plan *pl, FILE *out, long i, const struct plan_checked *k)
{
	const struct plan_cand *c;
	if (i < 0) {
		fputs("null", out);
		return;
	}
	c = &pl->cands[i];
	fputs("{\"node\": ", out);
	json_string(out, pl->types[c->type].name);
	fprintf(out,
	        ", \"nodes\": %lld, \"gpus\": %lld, \"tp\": %lld, \"pp\": %lld, \"dp\": %lld, "
	        "\"cp\": %lld, \"ep\": %lld",
	        (long long)c->nodes, (long long)c->gpus, (long long)c->tp, (long long)c->pp,
	        (long long)c->dp, (long long)c->cp, (long long)c->ep);
	if (pl->args->train) {
		fprintf(out, ", \"zero\": %lld, \"micro_batch\": %lld, \"recompute\": ",
		        (long long)c->zero, (long long)c->micro_batch);
		json_string(out, c->recompute);
		fputs(", \"schedule\": ", out);
		json_string(out, c->schedule);
		fputs(", \"step_s\": ", out);
		json_num(out, c->step_s);
		fputs(", \"tokens_per_s\": ", out);
		json_num(out, c->tokens_per_s);
		fputs(", \"days\": ", out);
		json_num(out, c->days);
		fputs(", \"usd\": ", out);
		json_num(out, c->usd_h > 0 ? c->usd : NAN);
	} else {
		int t;
		char name[32];
		for (t = 0; t < pl->slo.n; t++) {
			fprintf(out,
			        ", \"%s\": ", serve_target_name(&pl->slo.t[t], name, sizeof name));
			json_num(out, plan_target_value(c, &pl->slo.t[t]));
		}
	}
	fputs(", \"usd_per_hour\": ", out);
	json_num(out, c->usd_h > 0 ? c->usd_h : NAN);
	fputs(", \"price_kind\": ", out);
	json_string(out, pl->types[c->type].price_kind);
	fputs(", \"usd_per_million_tokens\": ", out);
	json_num(out, c->usd_mtok > 0 ? c->usd_mtok : NAN);
	fputs(", \"headroom\": ", out);
	json_num(out, c->capacity > 0 ? 1 - c->peak / c->capacity : NAN);
	fprintf(out, ", \"checked\": {\"ran\": %s, \"meets\": %s, \"value\": ",
	        k->ran ? "true" : "false", k->meets ? "true" : "false");
	json_num(out, k->value);
	fputs("}, \"command\": ", out);
	json_string(out, k->command);
	fputs("}", out);
}

void plan_print_json(const struct plan *pl, FILE *out)
{
	size_t sim, nofit, err, meet, k, n = 0;
	char g[256], why[320], strategy[256];
	goal_text(pl, g, sizeof g);
	counts(pl, &sim, &nofit, &err, &meet);
	fputs("{\n  \"goal\": ", out);
	json_string(out, g);
	fputs(",\n  \"min_headroom\": ", out);
	json_num(out, pl->args->min_headroom);
	fprintf(out,
	        ",\n  \"searched\": {\"node_types\": %zu, \"configurations\": %zu, "
	        "\"simulated\": %zu, \"do_not_fit\": %zu, \"errors\": %zu, \"meet\": %zu, "
	        "\"wall_s\": ",
	        pl->ntypes, pl->ncands, sim, nofit, err, meet);
	json_num(out, pl->wall_s);
	fputs("},\n  \"cheapest\": ", out);
	json_plan(pl, out, pl->cheapest, &pl->checked[0]);
	fputs(",\n  \"fastest\": ", out);
	json_plan(pl, out, pl->fastest, &pl->checked[1]);
	fputs(",\n  \"runners_up\": [", out);
	for (k = 0; k < pl->ntypes; k++) {
		long b = best_of_type(pl, k);
		if (b >= 0 && (b == pl->cheapest || b == pl->fastest))
			continue;
		if (b < 0)
			snprintf(why, sizeof why, "%s",
			         pl->types[k].why_none[0] ? pl->types[k].why_none
			                                  : "no configuration");
		else
			lose_text(pl, &pl->cands[b], why, sizeof why);
		fprintf(out, "%s\n    {\"node\": ", n++ ? "," : "");
		json_string(out, pl->types[k].name);
		fprintf(out, ", \"nodes\": %lld, \"strategy\": ",
		        b >= 0 ? (long long)pl->cands[b].nodes : 0LL);
		strategy[0] = '\0';
		if (b >= 0)
			strategy_text(pl, &pl->cands[b], strategy, sizeof strategy);
		json_string(out, strategy);
		fputs(", \"why\": ", out);
		json_string(out, why);
		fputs("}", out);
	}
	fputs("\n  ]\n}\n", out);
}
