/*
 * main_validate: `dssim validate [CASES.yaml]`, the published runs dssim is checked against,
 * each simulated through run_scenario (validate.h) and printed published beside simulated.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	      "                      [--cross [--param KEY]...] [CASES.yaml]\n"
	      "\n"
	      "Run the published training runs dssim is checked against (by default\n"
	      "tests/validation/published.yaml from the data directories) and print each one's\n"
	      "published and simulated figure and the relative error. --set applies to every case.\n"
	      "\n"
	      "--cross predicts each source's cases from a fit (dssim calibrate) to the other\n"
	      "sources' cases and prints that leave-one-source-out error beside the error with the\n"
	      "defaults; --param names the keys fitted (the default: dssim calibrate --help). It\n"
	      "runs one fit per source: about 4 to 6 minutes for the shipped 50 rows on 2 cores.\n"
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

/* --cross: the leave-one-source-out error (calibrate_cross_run). The exit status. */
static int run_cross(const char *path, const struct scenario_options *opt, const char **keys,
		     size_t nkeys)
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
		status = calibrate_cross_run(&cs, k, nkeys, opt, &x, &d);
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
	bool cross = false;
	int c, status;
	memset(&opt, 0, sizeof opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:s:d:h", longopts, NULL)) != -1) {
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
	if (optind < argc - 1 || (nkeys && !cross) || (cross && format != FORMAT_TEXT)) {
		free(keys);
		free(ov);
		return main_usage_error("validate", "%s", optind < argc - 1
			? "expected at most one cases file" : nkeys ? "--param goes with --cross"
			: "--cross prints text only");
	}
	opt.overrides = ov;
	opt.noverrides = nov;
	path = validation_file(optind == argc - 1 ? argv[optind] : NULL, opt.data_dir, buf,
			       sizeof buf);
	if (cross) {
		status = run_cross(path, &opt, keys, nkeys);
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
