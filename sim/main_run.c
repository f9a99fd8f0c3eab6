/*
 * main_run: `dssim [options] SCENARIO.yaml`, the command that runs one scenario. Loads it, hands
 * it to run_scenario (run.h), prints the report and turns the outcome into the exit status of
 * main_exit_codes (main_sweep.h): 0 done, 1 internal or output error, 2 bad input or usage, 3
 * the answer is negative (it does not fit; no rate meets the targets), printed after the report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "calibrate.h"
#include "diag.h"
#include "main_sweep.h"
#include "outfile.h"
#include "preset.h"
#include "output.h"
#include "run.h"
#include "scenario.h"
#include "schema.h"
#include "trace.h"
#include "xalloc.h"
#include "yamltree.h"


static void usage(FILE *out)
{
	fprintf(out,
		"usage: dssim [options] SCENARIO.yaml   (- reads the scenario from standard input)\n"
		"       dssim COMMAND [options] ...   (dssim COMMAND --help for each)\n"
		"\n"
		"Simulate a large-language-model training or inference scenario on a GPU cluster and\n"
		"report where each GPU's memory goes, whether it fits, and how fast it runs.\n"
		"\n"
		"options:\n"
		"  -f, --format FORMAT   text (default) or json\n"
		"  -s, --set KEY=VALUE   override any scenario key, e.g. --set strategy.tp=8\n"
		"                        (repeatable; VALUE may be YAML: --set 'strategy.offload={optimizer: cpu}')\n"
		"  -d, --data-dir DIR    also look for presets in DIR\n"
		"  -t, --trace FILE      write a Chrome trace of the simulated step or serving run\n"
		"                        (open in Perfetto)\n"
		"      --yes             run a serving scenario of more than 10,000,000 requests\n"
		"      --find-max-rate   inference: the highest Poisson arrival rate that meets --slo\n"
		"      --slo TARGETS     latency targets, e.g. ttft_p99=2s,tpot_p99=100ms (metrics ttft,\n"
		"                        tpot, latency; quantiles mean, p50, p90, p99)\n"
		"  -c, --calibration FILE  apply a calibration file (dssim calibrate): its keys under\n"
		"                        the scenario's own (in place of the scenario's calibration:)\n"
		"      --uncertainty N   training: P10/P50/P90 of step time, throughput and MFU over\n"
		"                        N draws from the calibration's covariance (N simulations)\n"
		"      --seed S          the draws' seed (default 1)\n"
		"      --tokens N        price a budget of N tokens (2T, 500B, 1e12): days and\n"
		"                        USD at the simulated rate (training: tokens trained;\n"
		"                        serving: output tokens), beside USD/h and USD per\n"
		"                        million tokens\n"
		"      --help-keys       list every scenario key with type, unit, default and meaning\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Presets (models, GPUs, nodes, framework profiles) are found next to the scenario\n"
		"file, in the working directory, in $DSSIM_DATA and in %s.\n"
		"\n",
		preset_installed_data_dir());
	main_print_commands(out);
	fputc('\n', out);
	main_print_exit_codes(out);
}

struct args {
	enum format format;
	struct scenario_override *overrides;
	size_t noverrides;
	const char *data_dir;
	const char *file;
	const char *trace;
	bool find_max_rate;
	const char *slo;
	bool yes;
	const char *calibration;
	size_t uncertainty;        /* draws, 0 for none */
	unsigned long seed;
	double tokens;             /* --tokens, 0 for none */
};

int main_add_override(struct scenario_override **list, size_t *n, char *arg)
{
	char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg) {
		fprintf(stderr, "dssim: --set: expected KEY=VALUE, got '%s'\n", arg);
		return -1;
	}
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	*eq = '\0';
	(*list)[*n].key = arg;
	(*list)[*n].value = eq + 1;
	(*n)++;
	return 0;
}

/* After the keys: the profiles runtime.framework and serving.engine can name, with their
 * one-line descriptions, found where a scenario in the working directory would find them. */
static void print_profiles(FILE *out, enum preset_kind kind, const char *key, const char *title)
{
	struct arena *a = arena_new();
	struct preset_roots roots;
	const char **names;
	size_t n, i;
	preset_roots_init(&roots, a, "./-", NULL);
	n = preset_list(&roots, a, kind, &names);
	fprintf(out, "\n%s\n", title);
	for (i = 0; i < n; i++) {
		struct diag quiet;
		struct mark at = {"--help-keys", 0, 0};
		struct ynode *v = yamltree_new_scalar(a, at, names[i]), *p, *desc = NULL;
		diag_init(&quiet);
		p = preset_load(&roots, a, kind, key, v, &quiet);
		diag_release(&quiet);
		if (p != NULL)
			desc = yamltree_get(p, "description");
		fprintf(out, "  %-20s %s\n", names[i],
			desc != NULL && desc->kind == YNODE_SCALAR ? desc->value : "");
	}
	if (n == 0)
		fprintf(out, "  (none found: set DSSIM_DATA to the data directory)\n");
	free(names);
	arena_free(a);
}

/* EXIT_OK to go on, -1 when a help or version was printed, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"set", required_argument, NULL, 's'},
		{"data-dir", required_argument, NULL, 'd'},
		{"trace", required_argument, NULL, 't'},
		{"help-keys", no_argument, NULL, 'K'},
		{"find-max-rate", no_argument, NULL, 'R'},
		{"slo", required_argument, NULL, 'S'},
		{"yes", no_argument, NULL, 'Y'},
		{"calibration", required_argument, NULL, 'c'},
		{"uncertainty", required_argument, NULL, 'U'},
		{"seed", required_argument, NULL, 'E'},
		{"tokens", required_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(a, 0, sizeof *a);
	a->seed = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:s:d:t:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") == 0) {
				a->format = FORMAT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				a->format = FORMAT_JSON;
			} else {
				fprintf(stderr, "dssim: --format: expected text or json, got '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 's':
			if (main_add_override(&a->overrides, &a->noverrides, optarg) != 0)
				return EXIT_BAD_INPUT;
			break;
		case 'd':
			a->data_dir = optarg;
			break;
		case 't':
			a->trace = optarg;
			break;
		case 'R':
			a->find_max_rate = true;
			break;
		case 'S':
			a->slo = optarg;
			break;
		case 'Y':
			a->yes = true;
			break;
		case 'c':
			a->calibration = optarg;
			break;
		case 'U':
		case 'E': {
			char *end;
			unsigned long long v;
			errno = 0;
			v = strtoull(optarg, &end, 10);
			/* 10,000 draws of the largest shipped scenario take minutes: the bound keeps
			 * a typo from taking hours. */
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' || errno != 0 ||
			    (c == 'U' && (v < 2 || v > 100000)) || v > 0xffffffffULL) {
				fprintf(stderr, c == 'U' ? "dssim: --uncertainty: expected a number of "
							   "draws from 2 to 100000, got '%s'\n"
							 : "dssim: --seed: expected a number from 0 to "
							   "4294967295, got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			if (c == 'U')
				a->uncertainty = (size_t)v;
			else
				a->seed = (unsigned long)v;
			break;
		}
		case 'N':
			if (main_parse_tokens(NULL, "--tokens", optarg, &a->tokens) != EXIT_OK)
				return EXIT_BAD_INPUT;
			break;
		case 'K':
			schema_print_keys(stdout);
			print_profiles(stdout, PRESET_FRAMEWORK, "runtime.framework",
				       "Framework profiles (runtime.framework; training only, the "
				       "scenario's own keys win):");
			print_profiles(stdout, PRESET_ENGINE, "serving.engine",
				       "Engine profiles (serving.engine; serving only, the "
				       "scenario's own keys win):");
			return -1;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("dssim %s\n", PACKAGE_VERSION);
			return -1;
		default:
			return main_option_error(NULL, c, argv);
		}
	}
	if (optind != argc - 1) {
		return main_usage_error(NULL, "%s", optind >= argc ? "no scenario file given"
								    : "expected one scenario file");
	}
	if ((a->find_max_rate && a->slo == NULL) || (!a->find_max_rate && a->slo != NULL)) {
		fprintf(stderr, "dssim: --find-max-rate and --slo go together\n");
		return EXIT_BAD_INPUT;
	}
	if (a->uncertainty && (a->find_max_rate || a->trace)) {
		fprintf(stderr, "dssim: --uncertainty goes with neither --find-max-rate nor --trace\n");
		return EXIT_BAD_INPUT;
	}
	a->file = argv[optind];
	return EXIT_OK;
}

/* Write the trace through outfile (outfile.h): atomically, never over an input. */
static int write_trace(struct outfile *f, const struct scenario *s, const struct run_result *r,
		       struct diag *d)
{
	int status = r->mode == MODE_INFER
			     ? trace_write_serving(f->f, s, &r->serve)
			     : trace_write(f->f, r->plan.graph, r->engine, step_category_names,
					   STEP_CATEGORIES);
	if (status != 0) {
		struct mark at = {f->target, 0, 0};
		diag_add(d, at, "--trace", "cannot write the trace");
		outfile_discard(f);
		return -1;
	}
	return outfile_close(f, "--trace", d);
}

/* What stderr says beside the report when the run answered without simulating or negatively. */
static void say_outcome(const struct scenario *s, const struct run_result *r)
{
	char name[32];
	int i;
	if (r->outcome == RUN_NOT_SIMULATED && r->reason[0])
		fprintf(stderr, "dssim: %s: %s%s\n", s->file,
			r->mode == MODE_TRAIN ? "not simulated: " : "", r->reason);
	if (r->serve.searched && r->serve.found_rate <= 0) {
		const struct serve_slo *slo = &r->serve.slo;
		fprintf(stderr, "dssim: %s: no arrival rate meets", s->file);
		for (i = 0; i < slo->n; i++)
			fprintf(stderr, " %s<=%gs", serve_target_name(&slo->t[i], name, sizeof name),
				slo->t[i].limit);
		fprintf(stderr, " (even %.3g/s misses)\n", r->serve.capacity_rate / 100);
	}
}

/*
 * A serving run past 10,000,000 requests is refused without --yes, with its size, a rough time
 * and its memory: the serving benchmark plays 10,000 requests of 256 output tokens (2.56
 * million tokens) in about 0.25 s on a 2-core machine, so about 1e7 output tokens per second.
 * One too big for the machine's memory is not offered --yes: the run refuses it (run.h).
 */
static bool too_long(const struct scenario *s)
{
	const struct workload *w = &s->workload;
	double tokens, mean, need;
	if (w->mode != MODE_INFER || w->arrival.process == ARRIVAL_TRACE || w->requests <= 10000000 ||
	    !run_requests_fit(s, &need, NULL))
		return false;
	mean = w->output_tokens.dist == LENGTH_FIXED ? (double)w->output_tokens.value
						      : w->output_tokens.mean;
	if (!(mean > 0))
		mean = (double)w->output_tokens.value;
	tokens = (double)w->requests * mean;
	fprintf(stderr, "dssim: %s: %lld requests (about %.3g output tokens, roughly %.0f minutes "
			"and %.1f GB of memory to simulate): pass --yes to run them\n", s->file,
		(long long)w->requests, tokens, tokens / 1e7 / 60 + 1, need / 1e9);
	return true;
}

/* The scenario of a.file, or of standard input for "-": then named <stdin>, its presets and
 * relative paths found from the working directory. NULL with diagnostics. */
static struct scenario *load_scenario(const char *file, const struct scenario_options *opt,
				      struct diag *d)
{
	struct arena *a;
	struct ynode *top;
	struct scenario *s = NULL;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	if (strcmp(file, "-") != 0)
		return scenario_load(file, opt, d);
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 65536;
			text = xreallocarray(text, cap, 1);
		}
		n = fread(text + len, 1, cap - len, stdin);
		len += n;
	} while (n > 0 && len <= 64u << 20);
	if (ferror(stdin) || len > 64u << 20) {
		struct mark at = {"<stdin>", 0, 0};
		diag_add(d, at, NULL, ferror(stdin) ? "cannot read standard input"
						    : "more than 64 MiB on standard input");
		free(text);
		return NULL;
	}
	a = arena_new();
	top = yamltree_parse(a, "<stdin>", text, len, d);
	if (top != NULL)
		s = scenario_load_tree(top, "<stdin>", opt, d);
	arena_free(a);
	free(text);
	return s;
}

/* What the loaded scenario must pass before it runs: the rate search needs a scenario that
 * serves drawn arrivals, a huge serving run needs --yes. Far-off hardware values (most likely
 * a bare number in base units) are warned about; the run goes on. EXIT_OK or the status. */
static int check_loaded(const struct args *a, const struct scenario *s)
{
	struct diag w;
	diag_init(&w);
	if (scenario_implausible(s, &w) > 0)
		diag_print_prefixed(&w, "dssim: warning: ", stderr);
	diag_release(&w);
	if (a->find_max_rate && s->workload.mode == MODE_INFER &&
	    s->workload.arrival.process == ARRIVAL_TRACE) {
		/* The search draws arrivals at each rate it tries; a trace fixes them. */
		fprintf(stderr, "dssim: --find-max-rate: %s replays a trace (%s), whose arrival times "
				"are fixed; the search needs workload.arrival.process poisson or "
				"gamma\n", a->file, s->workload.arrival.trace);
		return EXIT_BAD_INPUT;
	}
	if (a->find_max_rate && s->workload.mode != MODE_INFER) {
		fprintf(stderr, "dssim: --find-max-rate: %s is not an inference scenario\n", a->file);
		return EXIT_BAD_INPUT;
	}
	if (!a->yes && too_long(s))
		return EXIT_BAD_INPUT;
	return EXIT_OK;
}

/* Open --trace before the run, so a refused path costs no simulation. EXIT_OK or the status
 * (printed). */
static int open_trace(const struct args *a, const struct scenario *s, struct outfile *trace,
		      struct diag *d)
{
	const char **inputs;
	size_t n = 0, i;
	int status;
	if (a->trace == NULL)
		return EXIT_OK;
	if (strcmp(a->trace, "-") == 0) {
		fprintf(stderr, "dssim: --trace -: the report already goes to standard output; name "
				"a file\n");
		return EXIT_BAD_INPUT;
	}
	/* Every file the run reads: the scenario, its presets and config files, its trace. */
	inputs = xcalloc(s->ninputs + 2, sizeof *inputs);
	inputs[n++] = a->file;
	inputs[n++] = s->workload.arrival.trace;
	for (i = 0; i < s->ninputs; i++)
		inputs[n++] = s->inputs[i];
	status = outfile_open(trace, a->trace, "--trace", inputs, n, d);
	free(inputs);
	if (status != 0)
		diag_print(d, stderr);
	return status == 0 ? EXIT_OK : status == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
}

static void uncertainty_json(FILE *out, const void *u)
{
	calibrate_uncertainty_json(out, u);
}

/* Run the scenario and print its report (with the draws' percentiles when u is not NULL), then
 * write the trace. The exit status. */
static int report_run(const struct args *a, const struct scenario *s,
		      const struct serve_slo *slo, struct outfile *trace,
		      const struct calibrate_uncertainty *u, struct diag *d)
{
	struct run_options ro;
	struct run_result r;
	int status;
	memset(&ro, 0, sizeof ro);
	ro.keep_engine = a->trace != NULL;
	ro.record_timeline = a->trace != NULL;
	ro.keep_iterations = a->trace != NULL;
	ro.find_max_rate = a->find_max_rate ? slo : NULL;
	ro.progress = a->find_max_rate ? stderr : NULL;
	ro.tokens = a->tokens;
	status = run_scenario(s, &ro, &r, d);
	if (status != 0) {
		diag_print(d, stderr);
		status = status == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
	} else {
		if (a->format == FORMAT_JSON && u != NULL)
			output_json_member(stdout, s, &r, "uncertainty", uncertainty_json, u);
		else if (a->format == FORMAT_JSON)
			output_json(stdout, s, &r);
		else
			output_text(stdout, s, &r);
		if (a->format != FORMAT_JSON && u != NULL)
			calibrate_uncertainty_print(stdout, u);
		say_outcome(s, &r);
		status = run_is_negative(&r) ? EXIT_NEGATIVE : EXIT_OK;
		if (a->trace != NULL && r.outcome == RUN_SIMULATED && !a->find_max_rate &&
		    write_trace(trace, s, &r, d) != 0) {
			diag_print(d, stderr);
			status = EXIT_INTERNAL;
		}
	}
	outfile_discard(trace);   /* a no-op once written */
	run_result_release(&r);
	return status;
}

int main_run(int argc, char **argv)
{
	struct args a;
	struct scenario_options opt;
	struct serve_slo slo;
	struct diag d;
	struct scenario *s;
	struct outfile trace = {0};
	struct calibrate_uncertainty u;
	struct mark cli = {NULL, 0, 0};
	int status = parse_args(argc, argv, &a);

	if (status != EXIT_OK) {
		free(a.overrides);
		if (status < 0)
			return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_INTERNAL;
		return status;
	}
	diag_init(&d);
	memset(&opt, 0, sizeof opt);
	opt.overrides = a.overrides;
	opt.noverrides = a.noverrides;
	opt.data_dir = a.data_dir;
	opt.calibration = a.calibration;
	/* A mark without a file prints as "dssim: --slo: ...". */
	if (a.find_max_rate && serve_parse_slo(a.slo, cli, "--slo", &slo, &d) != 0)
		status = EXIT_BAD_INPUT;
	else if ((s = load_scenario(a.file, &opt, &d)) == NULL)
		status = EXIT_BAD_INPUT;
	if (status != EXIT_OK) {
		diag_print(&d, stderr);
		diag_release(&d);
		free(a.overrides);
		return status;
	}
	status = check_loaded(&a, s);
	if (status == EXIT_OK)
		status = open_trace(&a, s, &trace, &d);
	if (status == EXIT_OK && a.uncertainty) {
		int st = calibrate_uncertainty(s, a.uncertainty, a.seed,
						 isatty(STDERR_FILENO) ? stderr : NULL, &u, &d);
		if (st != 0) {
			diag_print(&d, stderr);
			status = st == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
		}
	}
	if (status == EXIT_OK)
		status = report_run(&a, s, &slo, &trace, a.uncertainty ? &u : NULL, &d);
	scenario_free(s);
	diag_release(&d);
	free(a.overrides);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dssim: cannot write the report\n");
		return EXIT_INTERNAL;
	}
	return status;
}
