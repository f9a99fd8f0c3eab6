/*
 * main: the dssim command line. Parses options, runs the pipeline (load -> memory -> output) and
 * turns diagnostics into exit codes: 0 the run completed (whether or not the model fits: the
 * report says), 1 an internal or output error, 2 bad input or usage.
 */
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "engine.h"
#include "main_sweep.h"
#include "memory.h"
#include "output.h"
#include "preset.h"
#include "scenario.h"
#include "result.h"
#include "requests.h"
#include "schema.h"
#include "serve.h"
#include "step.h"
#include "trace.h"
#include "validate.h"
#include "xalloc.h"


static void usage(FILE *out)
{
	fprintf(out,
		"usage: dssim [options] SCENARIO.yaml\n"
		"       dssim validate [--format json] [CASES.yaml]\n"
		"       dssim sweep SPEC.yaml --db RESULTS.db [-j N] [--shard K/N]\n"
		"       dssim top --db RESULTS.db [--by COLUMN] [--where EXPR] [-n N]\n"
		"       dssim compare [--db RESULTS.db] SCENARIO|ID...\n"
		"       dssim db schema | merge OUT.db IN.db... | check FILE.db\n"
		"       dssim report --db RESULTS.db [--tokens 2T] [--format text|md|csv|html]\n"
		"\n"
		"Simulate a large-language-model training or inference scenario on a GPU cluster and\n"
		"report where each GPU's memory goes and whether it fits.\n"
		"\n"
		"options:\n"
		"  -f, --format FORMAT   text (default) or json\n"
		"  -s, --set KEY=VALUE   override any scenario key, e.g. --set strategy.tp=8\n"
		"                        (repeatable; VALUE may be YAML: --set 'strategy.offload={optimizer: cpu}')\n"
		"  -d, --data-dir DIR    also look for presets in DIR\n"
		"  -t, --trace FILE      write a Chrome trace of the simulated step or serving run\n"
		"                        (open in Perfetto)\n"
		"      --find-max-rate   inference: the highest Poisson arrival rate that meets --slo\n"
		"      --slo TARGETS     latency targets, e.g. ttft_p99=2s,tpot_p99=100ms (metrics ttft,\n"
		"                        tpot, latency; quantiles mean, p50, p90, p99)\n"
		"      --help-keys       list every scenario key with type, unit, default and meaning\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"Presets (models, GPUs, nodes) are found next to the scenario file, in the working\n"
		"directory, in $DSSIM_DATA and in %s.\n"
		"\n"
		"dssim validate runs the published training runs dssim is checked against\n"
		"(tests/validation/published.yaml) and prints published vs simulated.\n"
		"dssim sweep, top, compare, db and report work with a sweep database; each has\n"
		"--help.\n"
		"\n"
		"exit status: 0 the run completed (the report says whether it fits), 1 internal or\n"
		"output error (validate: a case outside its tolerance), 2 bad input or usage.\n",
		preset_installed_data_dir());
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
};

static int parse_args(int argc, char **argv, struct args *a, bool validate)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"set", required_argument, NULL, 's'},
		{"data-dir", required_argument, NULL, 'd'},
		{"trace", required_argument, NULL, 't'},
		{"help-keys", no_argument, NULL, 'K'},
		{"find-max-rate", no_argument, NULL, 'R'},
		{"slo", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(a, 0, sizeof *a);
	while ((c = getopt_long(argc, argv, "f:s:d:t:hV", longopts, NULL)) != -1) {
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
		case 's': {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg) {
				fprintf(stderr, "dssim: --set: expected KEY=VALUE, got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			a->overrides = xreallocarray(a->overrides, a->noverrides + 1,
						     sizeof *a->overrides);
			*eq = '\0';
			a->overrides[a->noverrides].key = optarg;
			a->overrides[a->noverrides].value = eq + 1;
			a->noverrides++;
			break;
		}
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
		case 'K':
			schema_print_keys(stdout);
			return -1;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("dssim %s\n", PACKAGE_VERSION);
			return -1;
		default:
			usage(stderr);
			return EXIT_BAD_INPUT;
		}
	}
	if (validate && optind >= argc - 1) {
		a->file = optind == argc - 1 ? argv[optind] : NULL;
		return EXIT_OK;
	}
	if (optind != argc - 1) {
		fprintf(stderr, optind >= argc ? "dssim: no scenario file given\n"
					       : "dssim: expected one scenario file\n");
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	a->file = argv[optind];
	return EXIT_OK;
}

struct trace_source {
	const struct graph *g;
	const struct engine *e;
	const struct scenario *s;
	const struct serve_result *sv;
};

/* Write the trace to a temporary file renamed into place, so no half-written trace is left. */
static int write_trace(const char *path, const struct trace_source *src)
{
	char tmp[4096];
	FILE *f;
	int status;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "wb");
	if (f == NULL) {
		fprintf(stderr, "dssim: --trace %s: cannot write: %s\n", path, strerror(errno));
		return -1;
	}
	status = src->sv ? trace_write_serving(f, src->s, src->sv)
			 : trace_write(f, src->g, src->e, step_category_names, STEP_CATEGORIES);
	if (fclose(f) != 0 || status != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "dssim: --trace %s: cannot write: %s\n", path, strerror(errno));
		remove(tmp);
		return -1;
	}
	return 0;
}

/* Play one training step on the event engine. -1 (with a message) when it cannot be built, -2
 * when the trace cannot be written. */
static int simulate_step(const struct scenario *s, const char *file, const char *trace,
			 struct result *r)
{
	struct step_plan plan;
	struct trace_source src = {NULL, NULL, s, NULL};
	struct engine *e;
	char err[256];
	if (step_build(s, &plan, err, sizeof err) != 0) {
		fprintf(stderr, "dssim: %s: not simulated: %s\n", file, err);
		return -1;
	}
	e = engine_new(plan.graph);
	engine_record_timeline(e, trace != NULL);
	if (engine_run(e) != 0) {
		fprintf(stderr, "dssim: %s: the step did not complete\n", file);
		engine_free(e);
		step_plan_release(&plan);
		return -1;
	}
	result_build(s, &plan, e, r);
	src.g = plan.graph;
	src.e = e;
	if (trace != NULL && write_trace(trace, &src) != 0) {
		engine_free(e);
		step_plan_release(&plan);
		return -2;
	}
	engine_free(e);
	step_plan_release(&plan);
	return 0;
}

/* Serve the inference scenario's requests: 0, -1 not simulated (message printed), -2 the trace
 * could not be written, -3 bad input (printed). */
static int simulate_serving(const struct scenario *s, const struct memory_report *m,
			    const char *file, const char *trace, struct serve_result *r)
{
	struct serve_options o = {trace != NULL};
	struct request_stream rs;
	struct diag d;
	char err[256];
	int status = 0;
	if (!m->fits) {
		fprintf(stderr, "dssim: %s: requests not served: the model does not fit\n", file);
		return -1;
	}
	diag_init(&d);
	if (requests_build(s, &rs, &d) != 0) {
		diag_print(&d, stderr);
		diag_release(&d);
		return -3;
	}
	diag_release(&d);
	if (serve_run(s, m, &rs, &o, r, err, sizeof err) != 0) {
		fprintf(stderr, "dssim: %s: requests not served: %s\n", file, err);
		status = -1;
	} else if (trace != NULL) {
		struct trace_source src = {NULL, NULL, s, r};
		if (write_trace(trace, &src) != 0)
			status = -2;
	}
	requests_release(&rs);
	return status;
}

/* One serving run at a Poisson (or, when given, gamma) rate; -1 when it cannot run. */
static int serve_at(const struct scenario *s, const struct memory_report *m, double rate,
		    struct serve_result *r, char *err, size_t errsize)
{
	struct scenario c = *s;
	struct request_stream rs;
	struct diag d;
	int status;
	if (c.workload.arrival.process != ARRIVAL_GAMMA)
		c.workload.arrival.process = ARRIVAL_POISSON;
	c.workload.arrival.rate = rate;
	c.workload.duration = 0;
	diag_init(&d);
	status = requests_build(&c, &rs, &d);
	diag_release(&d);
	if (status != 0) {
		snprintf(err, errsize, "cannot draw the requests");
		return -1;
	}
	status = serve_run(&c, m, &rs, NULL, r, err, errsize);
	requests_release(&rs);
	return status;
}

/*
 * --find-max-rate: bisection over simulated runs. The engine's capacity (every request at time
 * 0) bounds the search; above it queues grow without end. Arrival streams at different rates
 * share their lengths and scale their gaps (requests.h), so meeting the targets is monotone in
 * the rate up to simulation noise. 0 and the rate in *best, or -1 with a message.
 */
static int find_max_rate(const struct scenario *s, const struct memory_report *m,
			 const struct serve_slo *slo, struct serve_result *best, double *rate,
			 double *capacity, int *runs)
{
	struct serve_result r;
	char err[256];
	double lo, hi;
	bool tty = isatty(STDERR_FILENO);
	int i;
	*runs = 0;
	if (serve_at(s, m, 0, &r, err, sizeof err) != 0) {
		fprintf(stderr, "dssim: %s: %s\n", s->file, err);
		return -1;
	}
	*capacity = r.requests_per_s;
	(*runs)++;
	hi = *capacity;
	lo = *capacity / 100;
	for (i = -1; i < 14; i++) {
		double x = i < 0 ? lo : (lo + hi) / 2;
		bool ok;
		if (serve_at(s, m, x, &r, err, sizeof err) != 0) {
			fprintf(stderr, "dssim: %s: %s\n", s->file, err);
			return -1;
		}
		(*runs)++;
		ok = serve_meets(&r, slo);
		fprintf(stderr, "%srate %.4g/s: %s", tty ? "\r" : "", x,
			ok ? "meets the targets\n" : "misses\n");
		if (i < 0 && !ok) {
			*rate = 0;
			*best = r;
			return 0;
		}
		if (ok) {
			lo = x;
			*best = r;
			*rate = x;
		} else {
			hi = x;
		}
	}
	return 0;
}

/* --find-max-rate for main: the search, its report on stderr, the result at the rate found. */
static int run_find_max_rate(const struct scenario *s, const struct memory_report *m,
			     const struct args *a, struct serve_result *v)
{
	struct serve_slo slo;
	char err[256], name[32];
	double rate = 0, capacity = 0;
	int runs, i;
	if (serve_parse_slo(a->slo, &slo, err, sizeof err) != 0) {
		fprintf(stderr, "dssim: --slo: %s\n", err);
		return -3;
	}
	if (s->workload.mode != MODE_INFER) {
		fprintf(stderr, "dssim: --find-max-rate: %s is not an inference scenario\n", a->file);
		return -3;
	}
	if (!m->fits) {
		fprintf(stderr, "dssim: %s: requests not served: the model does not fit\n", a->file);
		return -1;
	}
	if (find_max_rate(s, m, &slo, v, &rate, &capacity, &runs) != 0)
		return -1;
	v->searched = true;
	v->found_rate = rate;
	v->capacity_rate = capacity;
	v->search_runs = runs;
	v->slo = slo;
	if (rate <= 0) {
		fprintf(stderr, "dssim: %s: no arrival rate meets", a->file);
		for (i = 0; i < slo.n; i++)
			fprintf(stderr, " %s<=%gs", serve_target_name(&slo.t[i], name, sizeof name),
				slo.t[i].limit);
		fprintf(stderr, " (even %.3g/s misses)\n", capacity / 100);
	}
	return 0;
}

/* The validation file: the one given, else the first found in the data roots. */
static const char *validation_file(const struct args *a, char *buf, size_t size)
{
	const char *roots[3];
	const char *env = getenv("DSSIM_DATA");
	size_t i, n = 0;
	FILE *f;
	if (a->file != NULL)
		return a->file;
	if (a->data_dir)
		roots[n++] = a->data_dir;
	if (env && env[0])
		roots[n++] = env;
	roots[n++] = preset_installed_data_dir();
	for (i = 0; i < n; i++) {
		snprintf(buf, size, "%s/tests/validation/published.yaml", roots[i]);
		if ((f = fopen(buf, "rb")) != NULL) {
			fclose(f);
			return buf;
		}
	}
	snprintf(buf, size, "tests/validation/published.yaml");
	return buf;
}

static int run_validate(const struct args *a)
{
	struct scenario_options opt = {a->overrides, a->noverrides, a->data_dir, false};
	struct validate_report r;
	struct diag d;
	char buf[4096];
	const char *path = validation_file(a, buf, sizeof buf);
	gsl_set_error_handler_off();
	diag_init(&d);
	if (validate_run(path, &opt, &r, &d) != 0) {
		diag_print(&d, stderr);
		diag_release(&d);
		validate_report_release(&r);
		return EXIT_BAD_INPUT;
	}
	if (a->format == FORMAT_JSON)
		validate_json(stdout, &r);
	else
		validate_print(stdout, &r);
	diag_release(&d);
	{
		int status = r.failed > 0 ? EXIT_INTERNAL : EXIT_OK;
		validate_report_release(&r);
		return status;
	}
}

int main(int argc, char **argv)
{
	struct args a;
	struct scenario_options opt;
	struct diag d;
	struct scenario *s;
	struct memory_report m;
	bool validate = argc > 1 && strcmp(argv[1], "validate") == 0;
	int status;
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} commands[] = {
		{"sweep", main_sweep}, {"top", main_top}, {"compare", main_compare}, {"db", main_db},
		{"report", main_report},
	};
	size_t k;
	xalloc_init();
	for (k = 0; argc > 1 && k < sizeof commands / sizeof commands[0]; k++)
		if (strcmp(argv[1], commands[k].name) == 0) {
			gsl_set_error_handler_off();
			status = commands[k].run(argc - 1, argv + 1);
			if ((fflush(stdout) != 0 || ferror(stdout)) && status == EXIT_OK) {
				fprintf(stderr, "dssim: cannot write the output\n");
				return EXIT_INTERNAL;
			}
			return status;
		}
	if (validate) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	status = parse_args(argc, argv, &a, validate);

	if (status != EXIT_OK) {
		free(a.overrides);
		if (status < 0)
			return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_INTERNAL;
		return status;
	}
	if (validate) {
		status = run_validate(&a);
		free(a.overrides);
		return status;
	}
	if ((a.find_max_rate && a.slo == NULL) || (!a.find_max_rate && a.slo != NULL)) {
		fprintf(stderr, "dssim: --find-max-rate and --slo go together\n");
		free(a.overrides);
		return EXIT_BAD_INPUT;
	}
	gsl_set_error_handler_off();
	diag_init(&d);
	opt.overrides = a.overrides;
	opt.noverrides = a.noverrides;
	opt.data_dir = a.data_dir;
	opt.defer_strategy = false;
	s = scenario_load(a.file, &opt, &d);
	if (s == NULL) {
		diag_print(&d, stderr);
		diag_release(&d);
		free(a.overrides);
		return EXIT_BAD_INPUT;
	}
	status = EXIT_OK;
	if (memory_build(s, &m) != 0) {
		fprintf(stderr, "dssim: %s: %s\n", a.file, m.advice);
		status = EXIT_INTERNAL;
	} else {
		struct result r, *t = NULL;
		struct serve_result v, *sv = NULL;
		int sim;
		memset(&v, 0, sizeof v);
		if (s->workload.mode == MODE_TRAIN)
			sim = simulate_step(s, a.file, a.trace, &r);
		else if (a.find_max_rate)
			sim = run_find_max_rate(s, &m, &a, &v);
		else
			sim = simulate_serving(s, &m, a.file, a.trace, &v);
		if (sim == 0 && s->workload.mode == MODE_TRAIN)
			t = &r;
		else if (sim == 0)
			sv = &v;
		if (sim == -2)
			status = EXIT_INTERNAL;
		if (sim == -3)
			status = EXIT_BAD_INPUT;
		if (sim != -3) {
			if (a.format == FORMAT_JSON)
				output_json(stdout, s, &m, t, sv);
			else
				output_text(stdout, s, &m, t, sv);
		}
		serve_result_release(&v);
	}
	memory_report_release(&m);
	scenario_free(s);
	diag_release(&d);
	free(a.overrides);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "dssim: cannot write the report\n");
		return EXIT_INTERNAL;
	}
	return status;
}
