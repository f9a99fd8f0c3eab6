/*
 * main_validate: `dssim validate [CASES.yaml]`, the published runs dssim is checked against,
 * each simulated through run_scenario (validate.h) and printed published beside simulated.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "main_sweep.h"
#include "preset.h"
#include "scenario.h"
#include "validate.h"

static void usage(FILE *out)
{
	fputs("usage: dssim validate [--format text|json] [--set KEY=VALUE]... [--data-dir DIR]\n"
	      "                      [CASES.yaml]\n"
	      "\n"
	      "Run the published training runs dssim is checked against (by default\n"
	      "tests/validation/published.yaml from the data directories) and print each one's\n"
	      "published and simulated figure and the relative error. --set applies to every case.\n"
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

int main_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"set", required_argument, NULL, 's'},
		{"data-dir", required_argument, NULL, 'd'},
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
	int c, status;
	memset(&opt, 0, sizeof opt);
	while ((c = getopt_long(argc, argv, "f:s:d:h", longopts, NULL)) != -1) {
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
		case 'h':
			usage(stdout);
			free(ov);
			return EXIT_OK;
		default:
			usage(stderr);
			free(ov);
			return EXIT_BAD_INPUT;
		}
	}
	if (optind < argc - 1) {
		fprintf(stderr, "dssim validate: expected at most one cases file\n");
		free(ov);
		return EXIT_BAD_INPUT;
	}
	opt.overrides = ov;
	opt.noverrides = nov;
	path = validation_file(optind == argc - 1 ? argv[optind] : NULL, opt.data_dir, buf,
			       sizeof buf);
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
