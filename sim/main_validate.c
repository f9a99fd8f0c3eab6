/*
 * main_validate: `dssim validate [CASES.yaml]`, the published runs dssim is checked against,
 * each simulated through run_scenario (validate.h) and printed published beside simulated.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "calibrate.h"
#include "diag.h"
#include "main_sweep.h"
#include "preset.h"
#include "scenario.h"
#include "validate.h"
#include "xalloc.h"

static void usage(FILE *out)
{
	fputs("usage: dssim validate [--format text|json] [--set KEY=VALUE]... [--data-dir DIR]\n"
	      "                      [--cross [--param KEY]... [--jobs N]] [CASES.yaml]\n"
	      "\n"
	      "Run the published training runs dssim is checked against (by default\n"
	      "tests/validation/published.yaml from the data directories) and print each one's\n"
	      "published and simulated figure and the relative error. --set applies to every case.\n"
	      "\n"
	      "--cross predicts each source's cases from a fit (dssim calibrate) to the other\n"
	      "sources' cases and prints that leave-one-source-out error beside the error with the\n"
	      "defaults; --param names the keys fitted (the default: dssim calibrate --help). It\n"
	      "runs one fit per source, the sources shared among --jobs processes (default: the\n"
	      "number of cores; the figures do not depend on it). Each fit's end is a line on\n"
	      "standard error.\n"
	      "\n",
	      out);
	main_print_exit_codes(out);
	fputs("validate: 1 also when a case falls outside its tolerance.\n", out);
}

/* The validation file: the one given, else the first found in the data roots. */
static const char *validation_file(const char *given, const char *data_dir, char *buf,
				   size_t size)
{
	const char *roots[3];
	const char *env = getenv("DSSIM_DATA");
	size_t i, n = 0;
	FILE *f;
	if (given != NULL)
		return given;
	if (data_dir)
		roots[n++] = data_dir;
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

static bool read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* What a forked --cross worker sends back: its status, the sources it skipped, then one cross
 * error per case (NaN for the cases of other workers' sources). */
struct cross_report {
	int status;
	size_t skipped;
};

/* Worker k's share of the sources, in a child; it prints its own diagnostics. */
static void cross_child(const struct validate_cases *cs, const char *const *keys, size_t nkeys,
			const struct scenario_options *opt, int k, int jobs, int fd)
{
	struct calibrate_cross x;
	struct cross_report rep;
	struct diag d;
	memset(&rep, 0, sizeof rep);   /* its padding goes down the pipe too */
	diag_init(&d);
	rep.status = calibrate_cross_run(cs, keys, nkeys, opt, k, jobs, stderr, &x, &d);
	rep.skipped = x.skipped;
	diag_print(&d, stderr);
	if (main_write_all(fd, &rep, sizeof rep) != 0 ||
	    (rep.status == 0 && main_write_all(fd, x.cross, cs->count * sizeof *x.cross) != 0))
		_exit(EXIT_INTERNAL);
	_exit(EXIT_OK);
}

/*
 * The sources over jobs processes: this one fits share 0 while forked children fit the others
 * and send their figures back over pipes (each fit depends only on its cases and keys, so the
 * result is the same for any job count). 0, -1 or -2 as calibrate_cross_run.
 */
static int cross_forked(const struct validate_cases *cs, const char *const *keys, size_t nkeys,
			const struct scenario_options *opt, int jobs, struct calibrate_cross *x,
			struct diag *d)
{
	pid_t *pid = xcalloc((size_t)jobs, sizeof *pid);
	int *fd = xcalloc((size_t)jobs, sizeof *fd);
	int k, started = jobs, status = 0, err = 0;
	memset(x, 0, sizeof *x);
	fflush(NULL);
	for (k = 1; k < jobs; k++) {
		int p[2];
		if (pipe(p) != 0) {
			err = errno;
			started = k;
			break;
		}
		if ((pid[k] = fork()) < 0) {
			err = errno;
			close(p[0]);
			close(p[1]);
			started = k;
			break;
		}
		if (pid[k] == 0) {
			close(p[0]);
			cross_child(cs, keys, nkeys, opt, k, jobs, p[1]);
		}
		close(p[1]);
		fd[k] = p[0];
	}
	if (started < jobs) {
		/* The workers started cannot cover every source: stop them. */
		fprintf(stderr, "dssim validate: --jobs %d: cannot start worker %d: %s\n", jobs,
			started, strerror(err));
		for (k = 1; k < started; k++)
			kill(pid[k], SIGKILL);
		status = -2;
	} else {
		status = calibrate_cross_run(cs, keys, nkeys, opt, 0, jobs, stderr, x, d);
	}
	for (k = 1; k < started; k++) {
		struct cross_report rep;
		double *cross = xcalloc(cs->count ? cs->count : 1, sizeof *cross);
		int w = 0;
		size_t i;
		if (!read_all(fd[k], &rep, sizeof rep) ||
		    (rep.status == 0 && !read_all(fd[k], cross, cs->count * sizeof *cross)))
			rep.status = -2;
		close(fd[k]);
		while (waitpid(pid[k], &w, 0) < 0 && errno == EINTR)
			;
		if (rep.status == 0 && (!WIFEXITED(w) || WEXITSTATUS(w) != 0))
			rep.status = -2;
		if (rep.status == -2 && started == jobs)
			fprintf(stderr, "dssim validate: --cross worker %d of %d failed\n", k, jobs);
		if (status == 0 && rep.status != 0)
			status = rep.status;
		if (status == 0) {
			x->skipped += rep.skipped;
			for (i = 0; i < cs->count; i++)
				if (!isnan(cross[i]))
					x->cross[i] = cross[i];
		}
		free(cross);
	}
	free(pid);
	free(fd);
	return status;
}

/* --cross: the leave-one-source-out error (calibrate_cross_run). The exit status. */
static int run_cross(const char *path, const struct scenario_options *opt, const char **keys,
		     size_t nkeys, long jobs)
{
	struct validate_cases cs;
	struct calibrate_cross x;
	struct diag d;
	int status;
	if (nkeys == 0)
		while (calibrate_default_keys[nkeys])
			nkeys++;
	diag_init(&d);
	if (validate_cases_load(path, &cs, &d) != 0) {
		status = EXIT_BAD_INPUT;
	} else {
		const char *const *k = keys ? (const char *const *)keys : calibrate_default_keys;
		size_t sources = calibrate_sources(&cs);
		if (jobs > (long)sources)
			jobs = sources > 0 ? (long)sources : 1;
		status = jobs > 1 ? cross_forked(&cs, k, nkeys, opt, (int)jobs, &x, &d)
				  : calibrate_cross_run(&cs, k, nkeys, opt, 0, 1, stderr, &x, &d);
		if (status == 0)
			calibrate_cross_print(stdout, &cs, &x);
		calibrate_cross_release(&x);
		status = status == 0 ? EXIT_OK : status == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
	}
	diag_print(&d, stderr);
	validate_cases_release(&cs);
	diag_release(&d);
	return status;
}

int main_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"set", required_argument, NULL, 's'},
		{"data-dir", required_argument, NULL, 'd'},
		{"cross", no_argument, NULL, 'x'},
		{"param", required_argument, NULL, 'p'},
		{"jobs", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct scenario_options opt;
	struct scenario_override *ov = NULL;
	size_t nov = 0;
	struct validate_report r;
	struct diag d;
	enum format format = FORMAT_TEXT;
	char buf[4096];
	const char *path;
	const char **keys = NULL;
	size_t nkeys = 0;
	bool cross = false, jobs_given = false;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	int c, status;
	memset(&opt, 0, sizeof opt);
	opterr = 0;
	if (jobs < 1)
		jobs = 1;
	while ((c = getopt_long(argc, argv, ":f:s:d:j:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (main_parse_format(optarg, &format) != 0 || format == FORMAT_CSV) {
				fprintf(stderr, "dssim: --format: expected text or json, got '%s'\n",
					optarg);
				free(ov);
				return EXIT_BAD_INPUT;
			}
			break;
		case 's':
			if (main_add_override(&ov, &nov, optarg) != 0) {
				free(ov);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'd':
			opt.data_dir = optarg;
			break;
		case 'x':
			cross = true;
			break;
		case 'j': {
			char *end;
			errno = 0;
			jobs = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || jobs < 1 || jobs > 1024) {
				fprintf(stderr, "dssim validate: --jobs: expected a whole number from 1 "
						"to 1024, got '%s'\n", optarg);
				free(keys);
				free(ov);
				return EXIT_BAD_INPUT;
			}
			jobs_given = true;
			break;
		}
		case 'p':
			if (nkeys == CALIBRATION_MAX) {
				fprintf(stderr, "dssim validate: at most %d parameters\n",
					CALIBRATION_MAX);
				free(ov);
				free(keys);
				return EXIT_BAD_INPUT;
			}
			keys = xreallocarray(keys, nkeys + 1, sizeof *keys);
			keys[nkeys++] = optarg;
			break;
		case 'h':
			usage(stdout);
			free(keys);
			free(ov);
			return EXIT_OK;
		default:
			free(keys);
			free(ov);
			return main_option_error("validate", c, argv);
		}
	}
	if (optind < argc - 1 || ((nkeys || jobs_given) && !cross) ||
	    (cross && format != FORMAT_TEXT)) {
		free(keys);
		free(ov);
		return main_usage_error("validate", "%s", optind < argc - 1
			? "expected at most one cases file" : nkeys ? "--param goes with --cross"
			: jobs_given ? "--jobs goes with --cross" : "--cross prints text only");
	}
	opt.overrides = ov;
	opt.noverrides = nov;
	path = validation_file(optind == argc - 1 ? argv[optind] : NULL, opt.data_dir, buf,
			       sizeof buf);
	if (cross) {
		status = run_cross(path, &opt, keys, nkeys, jobs);
		free(keys);
		free(ov);
		return status;
	}
	diag_init(&d);
	if (validate_run(path, &opt, &r, &d) != 0) {
		diag_print(&d, stderr);
		status = EXIT_BAD_INPUT;
	} else {
		if (format == FORMAT_JSON)
			validate_json(stdout, &r);
		else
			validate_print(stdout, &r);
		status = r.failed > 0 ? EXIT_INTERNAL : EXIT_OK;
	}
	validate_report_release(&r);
	diag_release(&d);
	free(ov);
	return status;
}
