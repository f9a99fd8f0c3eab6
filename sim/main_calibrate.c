/*
 * main_calibrate: `dssim calibrate CASES.yaml [-o FILE] [--param KEY]...`, the fit of a few
 * scenario keys to published or measured runs (calibrate.h). The report goes to standard output,
 * or to standard error when the calibration file itself goes to standard output.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "diag.h"
#include "main_sweep.h"
#include "outfile.h"
#include "scenario.h"
#include "validate.h"
#include "xalloc.h"

static void usage(FILE *out)
{
	fputs("usage: dssim calibrate [-o FILE] [--param KEY]... [--data-dir DIR] CASES.yaml\n"
	      "\n"
	      "Fit scenario keys to the cases of CASES.yaml (the validation format: name, source,\n"
	      "metric, published, scenario, set) by nonlinear least squares on relative errors.\n"
	      "Print each key with its standard error and each case's error before and after, and\n"
	      "write the calibration file (keys, covariance, cases) to FILE or standard output.\n"
	      "A scenario applies it with `calibration: FILE` or dssim --calibration FILE.\n"
	      "\n"
	      "options:\n"
	      "  -o, --output FILE     write the calibration here (default: standard output)\n"
	      "  -p, --param KEY       a number key to fit, or a list of numbers to fit as a scale\n"
	      "                        (repeatable); default:\n",
	      out);
	for (size_t i = 0; calibrate_default_keys[i]; i++)
		fprintf(out, "                        %s\n", calibrate_default_keys[i]);
	fputs("  -d, --data-dir DIR    also look for presets in DIR\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "It needs at least one more case than keys. Each step of the fit simulates every\n"
	      "case twice per key and once more: its time is about (2 x keys + 1) x iterations x\n"
	      "the cases' run time (the 18 published runs, four keys: about 70 s on 2 cores).\n"
	      "\n",
	      out);
	main_print_exit_codes(out);
}

/* Every file the fit reads, so -o never overwrites one: the cases, their scenario files. */
static const char **inputs_of(const char *path, const struct validate_cases *cs, size_t *n)
{
	const char **in = xcalloc(cs->count + 1, sizeof *in);
	size_t i;
	*n = 0;
	in[(*n)++] = path;
	for (i = 0; i < cs->count; i++)
		if (cs->items[i].scenario == NULL)
			in[(*n)++] = cs->items[i].file;
	return in;
}

static int fit_and_write(const char *path, const char *output, const char *const *keys,
			 size_t nkeys, const struct scenario_options *opt, struct diag *d)
{
	struct validate_cases cs;
	struct calibrate_fit fit;
	struct outfile of = {0};
	const char **in;
	size_t nin;
	int status;
	if (validate_cases_load(path, &cs, d) != 0) {
		validate_cases_release(&cs);
		return EXIT_BAD_INPUT;
	}
	in = inputs_of(path, &cs, &nin);
	status = outfile_open(&of, output ? output : "-", "-o", in, nin, d);
	free(in);
	if (status != 0) {
		validate_cases_release(&cs);
		return status == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
	}
	status = calibrate_run(&cs, keys, nkeys, opt, &fit, d);
	if (status != 0) {
		outfile_discard(&of);
		calibrate_fit_release(&fit);
		validate_cases_release(&cs);
		return status == -1 ? EXIT_BAD_INPUT : EXIT_INTERNAL;
	}
	calibrate_print(of.is_stdout ? stderr : stdout, &cs, &fit);
	calibrate_write(of.f, path, &cs, &fit);
	status = outfile_close(&of, "-o", d) == 0 ? EXIT_OK : EXIT_INTERNAL;
	calibrate_fit_release(&fit);
	validate_cases_release(&cs);
	return status;
}

int main_calibrate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"param", required_argument, NULL, 'p'},
		{"data-dir", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct scenario_options opt;
	const char **keys = NULL;
	const char *output = NULL;
	size_t nkeys = 0;
	struct diag d;
	int c, status;
	memset(&opt, 0, sizeof opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:p:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'p':
			if (nkeys == CALIBRATION_MAX) {
				fprintf(stderr, "dssim calibrate: at most %d parameters\n",
					CALIBRATION_MAX);
				free(keys);
				return EXIT_BAD_INPUT;
			}
			keys = xreallocarray(keys, nkeys + 1, sizeof *keys);
			keys[nkeys++] = optarg;
			break;
		case 'd':
			opt.data_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			free(keys);
			return EXIT_OK;
		default:
			free(keys);
			return main_option_error("calibrate", c, argv);
		}
	}
	if (optind != argc - 1) {
		free(keys);
		return main_usage_error("calibrate", "expected one cases file");
	}
	if (nkeys == 0) {
		while (calibrate_default_keys[nkeys])
			nkeys++;
		keys = xcalloc(nkeys, sizeof *keys);
		memcpy(keys, calibrate_default_keys, nkeys * sizeof *keys);
	}
	diag_init(&d);
	status = fit_and_write(argv[optind], output, keys, nkeys, &opt, &d);
	if (d.count)
		diag_print(&d, stderr);
	diag_release(&d);
	free(keys);
	return status;
}
