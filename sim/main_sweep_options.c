/*
 * main_sweep_options: the command line of `dssim sweep` (its options and --help), apart from
 * the process plumbing in main_sweep.c. Command stage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "main_sweep.h"
#include "main_sweep_int.h"

static void sweep_usage(FILE *out)
{
	fprintf(out,
		"usage: dssim sweep [options] SPEC.yaml --db RESULTS.db\n"
		"\n"
		"Run every point of a sweep spec and store the results in an SQLite database.\n"
		"Points that cannot fit are screened out by the analytic memory model and stored\n"
		"with fits = 0 and the reason; the others are simulated. Running the same sweep\n"
		"again skips the points already stored (keyed by configuration and dssim version);\n"
		"a sweep with --uncertainty redoes the points stored without its draws and seed.\n"
		"\n"
		"options:\n"
		"      --db FILE         the database (created when missing)\n"
		"  -j, --jobs N          worker processes (default: the number of cores)\n"
		"      --shard K/N       run only the K-th of N disjoint slices (1 <= K <= N)\n"
		"      --analytic        screen only: store fitting points without simulating them\n"
		"      --uncertainty N   training: P10/P50/P90 of step time, throughput and\n"
		"                        MFU of each point that fits, over N draws from the\n"
		"                        covariance of the base scenario's calibration\n"
		"      --seed S          the draws' seed (default 1); a point's draws are\n"
		"                        seeded from S and its hash: workers and shards agree\n"
		"  -d, --data-dir DIR    also look for presets in DIR\n"
		"  -q, --quiet           no progress on stderr\n"
		"      --yes             run a sweep of more than 1,000,000 points\n"
		"  -f, --format FORMAT   summary as text (default) or json\n"
		"  -h, --help            show this help\n"
		"\n"
		"Under mpirun (a --with-mpi build), rank 0 writes the database and the other\n"
		"ranks simulate.\n"
		"\n"
		"Points that fail are stored with their error (exit 0); an interrupted sweep keeps\n"
		"what was finished: run it again to resume.\n"
		"\n");
	main_print_exit_codes(out);
}

static int parse_shard(const char *s, int64_t *k, int64_t *n)
{
	char *end;
	long long a = strtoll(s, &end, 10), b;
	if (end == s || *end != '/')
		return -1;
	s = end + 1;
	b = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || a < 1 || b < 1 || a > b || b > 1000000)
		return -1;
	*k = a - 1;
	*n = b;
	return 0;
}


int main_sweep_parse(int argc, char **argv, struct sweep_options *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'D'},   {"jobs", required_argument, NULL, 'j'},
		{"shard", required_argument, NULL, 'S'}, {"analytic", no_argument, NULL, 'A'},
		{"data-dir", required_argument, NULL, 'd'}, {"quiet", no_argument, NULL, 'q'},
		{"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
		{"yes", no_argument, NULL, 'Y'}, {"uncertainty", required_argument, NULL, 'U'},
		{"seed", required_argument, NULL, 'E'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *endp;

	memset(o, 0, sizeof *o);
	o->slice.shards = 1;
	o->slice.workers = 1;
	o->fmt = FORMAT_TEXT;
	o->jobs = sysconf(_SC_NPROCESSORS_ONLN);
	o->slice.seed = 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:d:qf:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o->db = optarg;
			break;
		case 'j':
			o->jobs = strtol(optarg, &endp, 10);
			if (endp == optarg || *endp != '\0' || o->jobs < 1 || o->jobs > 1024) {
				fprintf(stderr, "dssim sweep: -j: expected 1 to 1024, got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'S':
			if (parse_shard(optarg, &o->slice.shard, &o->slice.shards) != 0) {
				fprintf(stderr, "dssim sweep: --shard: expected K/N with 1 <= K <= N, "
						"got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			o->shard_text = optarg;
			break;
		case 'A':
			o->slice.analytic = true;
			break;
		case 'U':
		case 'E': {
			unsigned long long v;
			errno = 0;
			v = strtoull(optarg, &endp, 10);
			/* As dssim FILE --uncertainty takes them (main_run.c). */
			if (optarg[0] < '0' || optarg[0] > '9' || *endp != '\0' || errno != 0 ||
			    (c == 'U' && (v < 2 || v > 100000)) || v > 0xffffffffULL) {
				fprintf(stderr, c == 'U' ? "dssim sweep: --uncertainty: expected "
						"a number of draws from 2 to 100000, got '%s'\n"
						: "dssim sweep: --seed: expected a number from 0 to "
						"4294967295, got '%s'\n", optarg);
				return EXIT_BAD_INPUT;
			}
			if (c == 'U')
				o->slice.uncertainty = (size_t)v;
			else
				o->slice.seed = (unsigned long)v;
			break;
		}
		case 'd':
			o->data_dir = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'Y':
			o->yes = true;
			break;
		case 'f':
			if (main_parse_format(optarg, &o->fmt) != 0 || o->fmt == FORMAT_CSV) {
				fprintf(stderr, "dssim sweep: --format: expected text or json, got '%s'\n",
					optarg);
				return EXIT_BAD_INPUT;
			}
			break;
		case 'h':
			sweep_usage(stdout);
			return EXIT_OK;
		default:
			return main_option_error("sweep", c, argv);
		}
	}
	if (optind != argc - 1 || o->db == NULL) {
		return main_usage_error("sweep", "%s", o->db == NULL ? "--db FILE is required"
								     : "expected one sweep spec");
	}
	if (o->slice.uncertainty > 0 && o->slice.analytic)
		return main_usage_error("sweep", "--uncertainty does not go with --analytic: it "
					"draws from simulated points");
	if (main_check_db("sweep", o->db) != 0)
		return EXIT_BAD_INPUT;
	o->spec = argv[optind];
	if (o->jobs < 1)
		o->jobs = 1;
	return -1;
}

