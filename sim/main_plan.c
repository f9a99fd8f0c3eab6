/*
 * main_plan: `dssim plan BASE.yaml`, a direct answer to a planning question. A goal (train N
 * tokens, or serve R requests/s within latency targets) and constraints (a deadline, GPUs,
 * node types, memory headroom, USD/h) become one sweep per node type over node counts and the
 * strategies `strategy: auto` enumerates (sweep.h), run in this process and kept in memory (or
 * also stored with --db); each point is judged against the goal and the constraints, and the
 * cheapest and the fastest that meet them are printed with the command that reproduces each,
 * run again on its own to check it. Exit 3 (main_exit_codes) when nothing meets them.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cost.h"
#include "diag.h"
#include "json.h"
#include "main_plan_int.h"
#include "main_sweep.h"
#include "memory.h"
#include "preset.h"
#include "run.h"
#include "scenario.h"
#include "store.h"
#include "sweep.h"
#include "units.h"
#include "walltime.h"
#include "xalloc.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: dssim plan BASE.yaml (--train-tokens N | --rate R --slo TARGETS)\n"
	        "                  [options]\n"
	        "\n"
	        "The cheapest and the fastest way to reach a goal on the node types given, under\n"
	        "constraints. BASE.yaml gives the model, the workload and all not searched;\n"
	        "plan searches node types, node counts (whole nodes, every GPU used) and the\n"
	        "strategies a sweep's `strategy: auto` enumerates (serving: pp 1, 2, 4 or 8, the\n"
	        "base's micro_batch), simulates each that fits, and prints the two plans with why\n"
	        "each other node type loses and the command that reproduces each plan.\n"
	        "\n"
	        "goal (one):\n"
	        "  --train-tokens N       train N tokens (2T, 500B, 1e12): days = N / (tokens/s),\n"
	        "                         USD = days x 24 x USD/h; BASE must be mode train\n"
	        "  --rate R --slo TARGETS serve R requests/s (Poisson, BASE's request lengths)\n"
	        "                         within targets such as ttft_p99=2s,tpot_p99=100ms\n"
	        "                         (ttft, tpot at p50 or p99; latency at p99); BASE must\n"
	        "                         be mode infer\n"
	        "constraints:\n"
	        "  --deadline DURATION    training: at most this long (90d, 2160h)\n"
	        "  --max-gpus N           at most N GPUs (default 512 training, 32 serving)\n"
	        "  --nodes TYPE,...       these node types (default: every node preset with a\n"
	        "                         price, and BASE's node)\n"
	        "  --min-headroom F       at least this fraction of GPU memory free (0.1 or 10%%;\n"
	        "                         default 10%% training: past 90%% PyTorch's caching\n"
	        "                         allocator may retry; 0 serving)\n"
	        "  --max-usd-per-hour X   the cluster costs at most X USD/h\n"
	        "options:\n"
	        "  -s, --set KEY=VALUE    override a key of BASE (repeatable)\n"
	        "  -d, --data-dir DIR     also look for presets in DIR\n"
	        "      --db FILE          also store every point in a sweep database\n"
	        "  -f, --format FORMAT    text (default) or json\n"
	        "  -h, --help             show this help\n"
	        "\n"
	        "Cheapest: the lowest USD (training: for the N tokens; serving: USD/h at the\n"
	        "rate);\n"
	        "fastest: the fewest days (training) or the lowest value of the first target\n"
	        "(serving). Node counts: powers of two for training, 1, 2, 3, ... for serving.\n"
	        "On a terminal, standard error shows the node type searched and its points.\n"
	        "\n");
	main_print_exit_codes(out);
}

static int parse_quantity(const char *opt, const char *text, enum unit_kind kind, double *out)
{
	struct diag d;
	struct mark cli = {NULL, 0, 0};
	int rc;
	diag_init(&d);
	rc = units_parse(text, kind, cli, opt, out, &d);
	if (rc != 0)
		fprintf(stderr, "dssim plan: %s: %s\n", opt, d.items[0].message);
	diag_release(&d);
	return rc;
}

/* The option's value; EXIT_OK, or the status with the message printed. */
static int take_option(struct plan_args *a, int c, const char *arg)
{
	char *end;
	switch (c) {
	case 'T':
		if (main_parse_tokens("plan", "--train-tokens", arg, &a->train_tokens) != EXIT_OK)
			return EXIT_BAD_INPUT;
		break;
	case 'R':
		if (parse_quantity("--rate", arg, UNIT_PER_S, &a->rate) != 0)
			return EXIT_BAD_INPUT;
		if (!(a->rate > 0))
			return main_usage_error("plan",
			                        "--rate: expected a rate above 0 such as "
			                        "10/s, got '%s'",
			                        arg);
		break;
	case 'S':
		a->slo_text = arg;
		break;
	case 'D':
		if (parse_quantity("--deadline", arg, UNIT_SECONDS, &a->deadline_s) != 0)
			return EXIT_BAD_INPUT;
		if (!(a->deadline_s > 0))
			return main_usage_error("plan",
			                        "--deadline: expected a duration above 0 "
			                        "such as 90d, got '%s'",
			                        arg);
		break;
	case 'G':
		errno = 0;
		a->max_gpus = strtol(arg, &end, 10);
		if (end == arg || *end != '\0' || errno != 0 || a->max_gpus < 1 ||
		    a->max_gpus > 1000000)
			return main_usage_error("plan",
			                        "--max-gpus: expected 1 to 1000000, got "
			                        "'%s'",
			                        arg);
		break;
	case 'N':
		a->nodes_text = arg;
		break;
	case 'H':
		if (parse_quantity("--min-headroom", arg, UNIT_FRACTION, &a->min_headroom) != 0)
			return EXIT_BAD_INPUT;
		if (!(a->min_headroom >= 0 && a->min_headroom < 1))
			return main_usage_error("plan",
			                        "--min-headroom: expected a fraction "
			                        "from 0 to below 1 (0.1 or 10%%), got '%s'",
			                        arg);
		a->min_headroom_set = true;
		break;
	case 'U':
		if (parse_quantity("--max-usd-per-hour", arg, UNIT_USD_PER_H, &a->max_usd_h) != 0)
			return EXIT_BAD_INPUT;
		if (!(a->max_usd_h > 0))
			return main_usage_error("plan",
			                        "--max-usd-per-hour: expected a price above "
			                        "0, got '%s'",
			                        arg);
		break;
	default:
		return main_usage_error("plan", "unknown option");
	}
	return EXIT_OK;
}

/* EXIT_OK to go on, -1 after --help, else the status (printed). */
static int parse_args(int argc, char **argv, struct plan_args *a)
{
	static const struct option longopts[] = {
	    {"train-tokens", required_argument, NULL, 'T'},
	    {"rate", required_argument, NULL, 'R'},
	    {"slo", required_argument, NULL, 'S'},
	    {"deadline", required_argument, NULL, 'D'},
	    {"max-gpus", required_argument, NULL, 'G'},
	    {"nodes", required_argument, NULL, 'N'},
	    {"min-headroom", required_argument, NULL, 'H'},
	    {"max-usd-per-hour", required_argument, NULL, 'U'},
	    {"set", required_argument, NULL, 's'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"db", required_argument, NULL, 'B'},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c, status;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:d:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (main_add_override(&a->overrides, &a->noverrides, optarg) != 0)
				return EXIT_BAD_INPUT;
			break;
		case 'd':
			a->data_dir = optarg;
			break;
		case 'B':
			a->db = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0) {
				a->fmt = FORMAT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				a->fmt = FORMAT_JSON;
			} else {
				return main_usage_error("plan",
				                        "--format: expected text or json, got "
				                        "'%s'",
				                        optarg);
			}
			break;
		case 'h':
			usage(stdout);
			return -1;
		case 'T':
		case 'R':
		case 'S':
		case 'D':
		case 'G':
		case 'N':
		case 'H':
		case 'U':
			status = take_option(a, c, optarg);
			if (status != EXIT_OK)
				return status;
			break;
		default:
			return main_option_error("plan", c, argv);
		}
	}
	if (optind != argc - 1)
		return main_usage_error("plan", "%s",
		                        optind >= argc ? "no base scenario given"
		                                       : "expected one base scenario");
	a->base = argv[optind];
	a->train = a->train_tokens > 0;
	if (a->train == (a->rate > 0))
		return main_usage_error("plan", "give one goal: --train-tokens N, or --rate R with "
		                                "--slo TARGETS");
	if ((a->rate > 0) != (a->slo_text != NULL))
		return main_usage_error("plan", "--rate and --slo go together");
	if (a->deadline_s > 0 && !a->train)
		return main_usage_error("plan",
		                        "--deadline is for a training goal (--train-tokens)");
	if (a->db != NULL && main_check_db("plan", a->db) != 0)
		return EXIT_BAD_INPUT;
	if (a->max_gpus == 0)
		a->max_gpus = a->train ? 512 : 32;
	/* Training within MEMORY_ALLOCATOR_SHARE of GPU memory (memory.h: no caching-allocator
	 * retries). A serving engine reserves its KV cache up front, so its headroom says
	 * nothing of the kind. */
	if (!a->min_headroom_set)
		a->min_headroom = a->train ? MEMORY_KEEP_FREE : 0;
	return EXIT_OK;
}

/* The store columns a plan checks a serving target with: p50 and p99 of TTFT and TPOT, and
 * p99 of the latency; -1 for a target the sweep does not store. */
static int target_column(const struct serve_target *t)
{
	if (t->metric == SERVE_TTFT && t->quantile == SERVE_P50)
		return 0;
	if (t->metric == SERVE_TTFT && t->quantile == SERVE_P99)
		return 1;
	if (t->metric == SERVE_TPOT && t->quantile == SERVE_P50)
		return 2;
	if (t->metric == SERVE_TPOT && t->quantile == SERVE_P99)
		return 3;
	if (t->metric == SERVE_LATENCY && t->quantile == SERVE_P99)
		return 4;
	return -1;
}

double plan_target_value(const struct plan_cand *c, const struct serve_target *t)
{
	const double v[] = {c->ttft_p50, c->ttft_p99, c->tpot_p50, c->tpot_p99, c->latency_p99};
	int k = target_column(t);
	return k >= 0 ? v[k] : NAN;
}

/* The node types: --nodes, or every node preset with a price and the base's own node. */
static int node_types(struct plan *pl, struct diag *d)
{
	struct arena *a = arena_new();
	struct preset_roots roots;
	const char **names = NULL;
	size_t n, i;
	if (pl->args->nodes_text != NULL) {
		char *list = xstrdup(pl->args->nodes_text), *save = NULL, *t;
		for (t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
			plan_add_type(pl, t, true, d);
		free(list);
		arena_free(a);
		return pl->ntypes > 0 && d->count == 0 ? 0 : -1;
	}
	preset_roots_init(&roots, a, pl->args->base, pl->args->data_dir);
	n = preset_list(&roots, a, PRESET_NODE, &names);
	plan_add_type(pl, NULL, true, d); /* the base's own node, priced or not */
	for (i = 0; i < n; i++)
		plan_add_type(pl, names[i], false, d);
	free(names);
	arena_free(a);
	return pl->ntypes > 0 ? 0 : -1;
}

/* SIGINT or SIGTERM: the search stops after the point it is simulating, the database (--db)
 * records the sweep as interrupted, and no answer is printed (exit 130). */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* What a terminal is shown while the search runs: the node type and its points so far. */
struct progress {
	struct plan *pl;
	bool tty;                    /* standard error is a terminal: nothing is shown otherwise */
	size_t total, done;          /* points of the node type being searched */
	double last;                 /* when the line was last redrawn */
};

static void progress_show(struct progress *pr, bool force)
{
	const struct plan *pl = pr->pl;
	if (!pr->tty || !walltime_due(&pr->last, WALLTIME_REDRAW, force))
		return;
	fprintf(stderr, "\rdssim plan: node type %zu of %zu (%s): %zu/%zu points   ",
		pl->type_at + 1, pl->ntypes, pl->types[pl->type_at].name, pr->done, pr->total);
	fflush(stderr);
}

static void total_points(void *ctx, size_t points, size_t skipped)
{
	struct progress *pr = ctx;
	(void)skipped;   /* plan never resumes a sweep: points is all there is */
	pr->total = points;
	pr->done = 0;
	progress_show(pr, true);
}

static int keep_point(void *ctx, const struct store_point *p)
{
	struct progress *pr = ctx;
	struct plan *pl = pr->pl;
	plan_keep(pl, p);
	pr->done++;
	progress_show(pr, false);
	if (pl->store != NULL && store_put(pl->store, p, &pl->store_diag) != 0)
		return -1;
	return 0;
}

/* A YAML flow sequence of one scalar, quoted as JSON (which YAML reads). */
static void json_item(FILE *f, const char *key, const char *value)
{
	fputs("  ", f);
	json_string(f, key);
	fputs(": [", f);
	json_string(f, value);
	fputs("]\n", f);
}

/* The sweep of one node type: its node counts as an axis, the base's --set keys as axes of
 * one value, the rate for serving, and strategy: auto. */
static char *type_spec(const struct plan *pl, const struct plan_type *t)
{
	const struct plan_args *a = pl->args;
	char *buf = NULL, num[64];
	size_t size = 0, i;
	int64_t n;
	FILE *f = open_memstream(&buf, &size);
	if (f == NULL)
		xalloc_fail(0);
	fputs("base: ", f);
	json_string(f, a->base);
	fputs("\naxes:\n", f);
	for (i = 0; i < a->noverrides; i++)
		fprintf(f, "  \"%s\": [%s]\n", a->overrides[i].key, a->overrides[i].value);
	json_item(f, "cluster.node", t->name);
	fputs("  cluster.gpus: [0]\n  cluster.nodes: [", f);
	for (n = 1, i = 0; n <= t->max_nodes; n = a->train ? 2 * n : n + 1, i++)
		fprintf(f, "%s%lld", i ? ", " : "", (long long)n);
	fputs("]\n", f);
	if (!a->train) {
		snprintf(num, sizeof num, "%.17g", a->rate);
		json_item(f, "workload.arrival.rate", num);
		/* vLLM serves with pp up to a node's worth; micro_batch only sizes the memory
		 * table in serving, so the base's one is kept. */
		fprintf(f, "  strategy: {auto: true, pp: [1, 2, 4, 8], micro_batch: [%lld]}\n",
		        (long long)pl->base_micro_batch);
	} else {
		fputs("  strategy: auto\n", f);
	}
	if (fclose(f) != 0)
		xalloc_fail(size);
	return buf;
}

/* Run the sweep of every node type. 0, or the exit status (printed). */
static int search(struct plan *pl)
{
	size_t k;
	struct diag d;
	struct progress pr = {pl, isatty(STDERR_FILENO) == 1, 0, 0, 0};
	int status = EXIT_OK;
	diag_init(&d);
	for (k = 0; k < pl->ntypes; k++) {
		struct plan_type *t = &pl->types[k];
		struct sweep_slice sl;
		struct sweep_callbacks cb = {total_points, keep_point, &pr};
		struct sweep_counts counts;
		struct sweep_spec *sp;
		char *text;
		if (t->max_nodes < 1)
			continue;
		text = type_spec(pl, t);
		sp = sweep_spec_parse("dssim plan", text, strlen(text), pl->args->data_dir, &d);
		free(text);
		if (sp == NULL) {
			status = EXIT_BAD_INPUT;
			break;
		}
		memset(&sl, 0, sizeof sl);
		sl.stop = &interrupted;
		pl->type_at = k;
		if (sweep_run(sp, &sl, &cb, &counts, &d) != 0) {
			sweep_spec_free(sp);
			status = interrupted ? EXIT_INTERRUPTED : EXIT_INTERNAL;
			break;
		}
		sweep_spec_free(sp);
	}
	/* A signal during the last point (or before the first) ends the search all the same. */
	if (status == EXIT_OK && interrupted)
		status = EXIT_INTERRUPTED;
	/* The progress line is cleared before the answer or a diagnostic. */
	if (pr.tty && pl->ntypes > 0)
		fputs("\r\033[K", stderr);
	if (status == EXIT_BAD_INPUT)
		diag_print_prefixed(&d, "dssim plan: ", stderr);
	else if (status == EXIT_INTERRUPTED)
		fprintf(stderr, "dssim plan: interrupted while searching %s: no answer\n",
			pl->types[pl->type_at].name);
	else if (status != EXIT_OK)
		diag_print_prefixed(pl->store_diag.count > 0 ? &pl->store_diag : &d, "dssim plan: ",
				    stderr);
	diag_release(&d);
	return status;
}

/* Load the base as the plan reads it (its mode, request stream, micro_batch). */
static int check_base(struct plan *pl)
{
	struct scenario_options opt;
	struct diag d;
	struct scenario *s;
	const struct plan_args *a = pl->args;
	int status = EXIT_OK;
	memset(&opt, 0, sizeof opt);
	opt.overrides = a->overrides;
	opt.noverrides = a->noverrides;
	opt.data_dir = a->data_dir;
	opt.defer_strategy = true;
	diag_init(&d);
	s = scenario_load(a->base, &opt, &d);
	if (s == NULL) {
		diag_print(&d, stderr);
		diag_release(&d);
		return EXIT_BAD_INPUT;
	}
	if (a->train && s->workload.mode != MODE_TRAIN) {
		fprintf(stderr,
		        "dssim plan: --train-tokens: %s is not a training scenario (workload."
		        "mode: train)\n",
		        a->base);
		status = EXIT_BAD_INPUT;
	} else if (!a->train && s->workload.mode != MODE_INFER) {
		fprintf(stderr,
		        "dssim plan: --rate: %s is not an inference scenario (workload.mode: "
		        "infer)\n",
		        a->base);
		status = EXIT_BAD_INPUT;
	} else if (!a->train && s->workload.arrival.process == ARRIVAL_TRACE) {
		fprintf(stderr,
		        "dssim plan: --rate: %s replays a trace, whose arrival times are "
		        "fixed; plan needs workload.arrival.process poisson or gamma\n",
		        a->base);
		status = EXIT_BAD_INPUT;
	} else if (!a->train && serve_has_pools(s)) {
		/* Its candidates vary the nodes and the strategy; the pools fix both. */
		fprintf(stderr,
		        "dssim plan: --rate: %s serves with disaggregated pools (serving.pools), "
		        "which fix the GPUs and parallelism plan searches; plan searches colocated "
		        "serving: --set serving.pools.prefill.gpus=0 --set "
		        "serving.pools.decode.gpus=0, or use --find-max-rate for the pools\n",
		        a->base);
		status = EXIT_BAD_INPUT;
	}
	pl->base_micro_batch = s->workload.micro_batch;
	snprintf(pl->model, sizeof pl->model, "%s", s->model.name);
	scenario_free(s);
	diag_release(&d);
	return status;
}

static int open_db(struct plan *pl)
{
	struct diag d;
	if (pl->args->db == NULL)
		return EXIT_OK;
	diag_init(&d);
	pl->store = store_open(pl->args->db, false, 10000, &d);
	if (pl->store == NULL ||
	    store_sweep_begin(pl->store, "dssim plan", pl->args->base, NULL, &d) != 0) {
		diag_print_prefixed(&d, "dssim plan: ", stderr);
		diag_release(&d);
		return EXIT_INTERNAL;
	}
	diag_release(&d);
	return EXIT_OK;
}

static int close_db(struct plan *pl, bool ok)
{
	struct diag d;
	int rc;
	if (pl->store == NULL)
		return EXIT_OK;
	diag_init(&d);
	rc = store_sweep_end(pl->store, ok ? "done" : interrupted ? "interrupted" : "failed", &d);
	rc |= store_close(pl->store, &d);
	pl->store = NULL;
	if (rc != 0)
		diag_print_prefixed(&d, "dssim plan: ", stderr);
	diag_release(&d);
	return rc != 0 ? EXIT_INTERNAL : EXIT_OK;
}

int main_plan(int argc, char **argv)
{
	struct plan_args a;
	struct plan pl;
	struct diag d;
	struct mark cli = {NULL, 0, 0};
	int status, k;
	double t0 = walltime_now();
	memset(&a, 0, sizeof a);
	status = parse_args(argc, argv, &a);
	if (status != EXIT_OK) {
		free(a.overrides);
		if (status < 0)
			return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_INTERNAL;
		return status;
	}
	plan_init(&pl, &a);
	diag_init(&d);
	if (!a.train && serve_parse_slo(a.slo_text, cli, "--slo", &pl.slo, &d) != 0)
		status = EXIT_BAD_INPUT;
	for (k = 0; status == EXIT_OK && k < pl.slo.n; k++)
		if (target_column(&pl.slo.t[k]) < 0) {
			char name[32];
			fprintf(stderr,
			        "dssim plan: --slo: %s is not among the targets plan checks "
			        "(ttft_p50, ttft_p99, tpot_p50, tpot_p99, latency_p99)\n",
			        serve_target_name(&pl.slo.t[k], name, sizeof name));
			status = EXIT_BAD_INPUT;
		}
	if (status != EXIT_OK)
		diag_print(&d, stderr);
	if (status == EXIT_OK)
		status = check_base(&pl);
	if (status == EXIT_OK && node_types(&pl, &d) != 0) {
		size_t i;
		for (i = 0; i < d.count; i++)
			fprintf(stderr, "dssim plan: %s: %s\n", d.items[i].key, d.items[i].message);
		if (d.count == 0)
			fprintf(stderr, "dssim plan: no node type to search\n");
		status = EXIT_BAD_INPUT;
	}
	if (status == EXIT_OK) {
		struct sigaction was[2];
		main_signals_catch(on_interrupt, was);
		status = open_db(&pl);
		if (status == EXIT_OK) {
			status = search(&pl);
			k = close_db(&pl, status == EXIT_OK);
			if (status == EXIT_OK)
				status = k;
		}
		main_signals_restore(was);
	}
	if (status == EXIT_OK) {
		pl.wall_s = walltime_now() - t0;
		plan_judge(&pl);
		status = plan_check(&pl);
		if (status == EXIT_OK) {
			if (a.fmt == FORMAT_JSON)
				plan_print_json(&pl, stdout);
			else
				plan_print_text(&pl, stdout);
			status = pl.cheapest < 0 ? EXIT_NEGATIVE : EXIT_OK;
		}
	}
	plan_release(&pl);
	diag_release(&d);
	free(a.overrides);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dssim plan: cannot write the answer\n");
		return EXIT_INTERNAL;
	}
	return status;
}
