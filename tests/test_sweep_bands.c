/*
 * test_sweep_bands: `dssim sweep --uncertainty`. Each simulated training point gets the P10,
 * P50 and P90 of its step time, throughput and MFU over draws from the calibration's
 * covariance; a tiny covariance gives the point's own figures; the draws are the same for a
 * point whatever the worker, shard or run (seeded from the sweep's seed and its hash); a
 * resumed uncertainty sweep redoes points stored without its bands; a base without a
 * calibration that has a covariance is refused.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "calibrate.h"
#include "diag.h"
#include "scenario.h"
#include "store.h"
#include "sweep.h"

enum { MAXP = 8 };

/* The points a run saw, by position. */
struct seen {
	size_t n;
	struct store_point p[MAXP];
};

static int on_point(void *ctx, const struct store_point *p)
{
	struct seen *s = ctx;
	assert_true(s->n < MAXP);
	s->p[s->n] = *p;
	s->p[s->n].config = NULL;
	s->n++;
	return 0;
}

static const char *out_dir(void)
{
	static char dir[1024];
	const char *b = getenv("TOP_BUILDDIR");
	snprintf(dir, sizeof dir, "%s/tests/out", b && b[0] ? b : ".");
	mkdir(dir, 0777);
	return dir;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A calibration of the network efficiency at 0.85 with this variance (none when var < 0);
 * its path in path. */
static void write_calibration(const char *name, double var, char *path, size_t size)
{
	char text[256];
	snprintf(path, size, "%s/%s", out_dir(), name);
	if (var < 0)
		snprintf(text, sizeof text, "keys:\n  cluster.node.links.network.efficiency: 0.85\n");
	else
		snprintf(text, sizeof text, "keys:\n  cluster.node.links.network.efficiency: 0.85\n"
			 "covariance:\n  - [%.17g]\n", var);
	write_file(path, text);
}

/* Megatron-LM's GPT 1.7B on 4 Selene nodes, data parallel across them without overlap, so the
 * network's efficiency moves the step (tests/cli.sh calibrates the same scenario). The
 * calibration line is left out when cal is NULL. */
static void write_base(const char *cal, char *path, size_t size)
{
	char text[1024], line[1300] = "";
	if (cal != NULL)
		snprintf(line, sizeof line, "calibration: %s\n", cal);
	snprintf(text, sizeof text,
		 "model: megatron-gpt-1.7b\n%s"
		 "cluster: {node: selene, nodes: 4}\n"
		 "workload: {seq_len: 2048, global_batch: 64, micro_batch: 1, dtype: fp16,\n"
		 "           grad_dtype: fp32, flash_attention: false}\n"
		 "strategy: {tp: 1, pp: 1, recompute: full, overlap_grad_reduce: false}\n", line);
	snprintf(path, size, "%s/bands_base%s.yaml", out_dir(), cal ? "" : "_nocal");
	write_file(path, text);
}

/* The spec: the base, tp 1, 2 and 4. */
static struct sweep_spec *spec_with(const char *cal, struct diag *d)
{
	char text[2048], name[1200], base[1200];
	write_base(cal, base, sizeof base);
	snprintf(text, sizeof text, "base: %s\naxes:\n  strategy.tp: [1, 2, 4]\n", base);
	snprintf(name, sizeof name, "%s/bands.sweep.yaml", out_dir());
	return sweep_spec_parse(name, text, strlen(text), getenv("DSSIM_DATA"), d);
}

static void slice_init(struct sweep_slice *sl, size_t draws, unsigned long seed)
{
	memset(sl, 0, sizeof *sl);
	sl->shards = 1;
	sl->workers = 1;
	sl->uncertainty = draws;
	sl->seed = seed;
}

static void run(const struct sweep_spec *sp, const struct sweep_slice *sl, struct seen *out)
{
	struct sweep_callbacks cb = {NULL, on_point, out};
	struct sweep_counts counts;
	struct diag d;
	diag_init(&d);
	if (sweep_run(sp, sl, &cb, &counts, &d) != 0)
		diag_print(&d, stderr);
	assert_int_equal(d.count, 0);
	diag_release(&d);
}

static const struct store_point *by_hash(const struct seen *s, const char *hash)
{
	size_t i;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->p[i].hash, hash) == 0)
			return &s->p[i];
	fail_msg("no point %s", hash);
	return NULL;
}

static bool same_bands(const struct store_point *a, const struct store_point *b)
{
	return a->u_draws == b->u_draws && a->u_seed == b->u_seed &&
	       memcmp(a->u_step_s, b->u_step_s, sizeof a->u_step_s) == 0 &&
	       memcmp(a->u_tokens_per_s, b->u_tokens_per_s, sizeof a->u_tokens_per_s) == 0 &&
	       memcmp(a->u_mfu, b->u_mfu, sizeof a->u_mfu) == 0;
}

/* With a standard deviation of 1e-7 on an efficiency of 0.85, the step moves by about
 * 1e-7 / 0.85 relative at most (the step is at most inversely proportional to it), so every
 * percentile is the point's own figure within 1e-6. */
static void sweep_bands_of_a_tiny_covariance_are_the_point(void **state)
{
	char cal[1200];
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	struct sweep_spec *sp;
	struct diag d;
	size_t i, k;
	(void)state;
	write_calibration("bands_tiny.cal.yaml", 1e-14, cal, sizeof cal);
	diag_init(&d);
	sp = spec_with(cal, &d);
	assert_non_null(sp);
	assert_int_equal(sweep_spec_check_uncertainty(sp, &d), 0);
	slice_init(&sl, 11, 1);
	run(sp, &sl, s);
	assert_int_equal(s->n, 3);
	for (i = 0; i < s->n; i++) {
		const struct store_point *p = &s->p[i];
		assert_int_equal(p->status, STORE_SIMULATED);
		assert_int_equal(p->u_draws, 11);
		assert_int_equal(p->u_seed, 1);
		for (k = 0; k < 3; k++) {
			check_rel(p->u_step_s[k], p->step_s, 1e-6);
			check_rel(p->u_tokens_per_s[k], p->tokens_per_s, 1e-6);
			check_rel(p->u_mfu[k], p->mfu, 1e-6);
		}
	}
	sweep_spec_free(sp);
	diag_release(&d);
	free(s);
}

/* A standard deviation of 0.02: bands that are ordered and wide, the same bit for bit in a
 * second run, on two workers and in two shards (other processes and orders), and the numbers
 * calibrate_uncertainty draws for the point's scenario with the seed FNV-1a 64 of its hash
 * and ":SEED", folded to 32 bits. */
static void sweep_bands_are_ordered_and_the_same_on_any_worker(void **state)
{
	char cal[1200], path[1200];
	struct sweep_slice sl;
	struct seen *one = calloc(1, sizeof *one), *again = calloc(1, sizeof *again);
	struct seen *split = calloc(1, sizeof *split), *other = calloc(1, sizeof *other);
	struct sweep_spec *sp;
	struct diag d;
	size_t i, k;
	(void)state;
	write_calibration("bands_wide.cal.yaml", 0.0004, cal, sizeof cal);
	diag_init(&d);
	sp = spec_with(cal, &d);
	assert_non_null(sp);
	slice_init(&sl, 21, 5);
	run(sp, &sl, one);
	run(sp, &sl, again);
	for (k = 0; k < 2; k++) {
		sl.worker = (int64_t)k;
		sl.workers = 2;
		run(sp, &sl, split);
	}
	slice_init(&sl, 21, 5);
	for (k = 0; k < 3; k++) {
		sl.shard = (int64_t)(2 - k);
		sl.shards = 3;
		run(sp, &sl, split);
	}
	slice_init(&sl, 21, 6);
	run(sp, &sl, other);
	assert_int_equal(one->n, 3);
	assert_int_equal(split->n, 6);
	for (i = 0; i < one->n; i++) {
		const struct store_point *p = &one->p[i];
		const double *b[3] = {p->u_step_s, p->u_tokens_per_s, p->u_mfu};
		for (k = 0; k < 3; k++)
			assert_true(b[k][0] <= b[k][1] && b[k][1] <= b[k][2]);
		assert_true(p->u_step_s[0] < p->u_step_s[2]);
		assert_true(same_bands(p, &again->p[i]));
		assert_false(same_bands(p, by_hash(other, p->hash)));
	}
	for (i = 0; i < split->n; i++)
		assert_true(same_bands(&split->p[i], by_hash(one, split->p[i].hash)));

	/* The first point (tp 1) drawn directly. */
	{
		struct calibrate_uncertainty u;
		struct scenario *sc;
		struct scenario_options opt;
		struct scenario_override o = {"strategy.tp", "1"};
		uint64_t x = 0xcbf29ce484222325ULL;
		const char *c;
		for (c = one->p[0].hash; *c; c++)
			x = (x ^ (unsigned char)*c) * 0x100000001b3ULL;
		for (c = ":5"; *c; c++)
			x = (x ^ (unsigned char)*c) * 0x100000001b3ULL;
		write_base(cal, path, sizeof path);
		memset(&opt, 0, sizeof opt);
		opt.overrides = &o;
		opt.noverrides = 1;
		sc = scenario_load(path, &opt, &d);
		if (sc == NULL)
			diag_print(&d, stderr);
		assert_non_null(sc);
		assert_int_equal(one->p[0].tp, 1);
		assert_int_equal(calibrate_uncertainty(sc, 21,
						       (unsigned long)((x ^ (x >> 32)) & 0xffffffffULL),
						       NULL, &u, &d), 0);
		assert_true(u.step_s.p10 == one->p[0].u_step_s[0]);
		assert_true(u.step_s.p50 == one->p[0].u_step_s[1]);
		assert_true(u.step_s.p90 == one->p[0].u_step_s[2]);
		assert_true(u.mfu.p50 == one->p[0].u_mfu[1]);
		assert_true(one->p[0].step_s > u.step_s.p10 && one->p[0].step_s < u.step_s.p90);
		scenario_free(sc);
	}
	sweep_spec_free(sp);
	diag_release(&d);
	free(one);
	free(again);
	free(split);
	free(other);
}

/* Without uncertainty a point has no bands (NULL in the table). */
static void sweep_without_uncertainty_draws_nothing(void **state)
{
	char cal[1200];
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	struct sweep_spec *sp;
	struct diag d;
	(void)state;
	write_calibration("bands_wide.cal.yaml", 0.0004, cal, sizeof cal);
	diag_init(&d);
	sp = spec_with(cal, &d);
	assert_non_null(sp);
	slice_init(&sl, 0, 1);
	run(sp, &sl, s);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->p[0].u_draws, 0);
	assert_true(s->p[0].u_step_s[1] == 0);
	sweep_spec_free(sp);
	diag_release(&d);
	free(s);
}

/* Resume: a point stored settled is skipped by both sweeps; one stored without the bands an
 * uncertainty sweep asks for (STORE_HASH_UNBANDED) is skipped only by a sweep without. */
static void resume_redoes_points_without_the_bands_asked_for(void **state)
{
	char cal[1200];
	struct sweep_slice sl;
	struct seen *all = calloc(1, sizeof *all), *s = calloc(1, sizeof *s);
	struct sweep_spec *sp;
	struct diag d;
	char skip[3][17];
	int cmp;
	(void)state;
	write_calibration("bands_wide.cal.yaml", 0.0004, cal, sizeof cal);
	diag_init(&d);
	sp = spec_with(cal, &d);
	assert_non_null(sp);
	slice_init(&sl, 0, 1);
	run(sp, &sl, all);
	assert_int_equal(all->n, 3);
	memcpy(skip[0], all->p[0].hash, 17);
	memcpy(skip[1], all->p[1].hash, 17);
	/* Sorted, as store_hashes gives them. */
	cmp = strcmp(skip[0], skip[1]);
	if (cmp > 0) {
		memcpy(skip[2], skip[0], 17);
		memcpy(skip[0], skip[1], 17);
		memcpy(skip[1], skip[2], 17);
	}
	skip[0][16] = STORE_HASH_UNBANDED;
	sl.skip = (const char(*)[17])skip;
	sl.nskip = 2;
	run(sp, &sl, s);
	assert_int_equal(s->n, 1);
	s->n = 0;
	sl.uncertainty = 5;
	run(sp, &sl, s);
	assert_int_equal(s->n, 2);
	assert_true(strncmp(s->p[0].hash, skip[0], 16) == 0 ||
		    strncmp(s->p[1].hash, skip[0], 16) == 0);
	assert_int_equal(s->p[0].u_draws, 5);
	sweep_spec_free(sp);
	diag_release(&d);
	free(all);
	free(s);
}

/* As dssim FILE --uncertainty: a base without a calibration, or with one without a
 * covariance, is refused before anything runs. */
static void uncertainty_needs_a_covariance(void **state)
{
	char cal[1200];
	struct sweep_spec *sp;
	struct diag d;
	(void)state;
	write_calibration("bands_nocov.cal.yaml", -1, cal, sizeof cal);
	diag_init(&d);
	sp = spec_with(cal, &d);
	assert_non_null(sp);
	assert_int_equal(sweep_spec_check_uncertainty(sp, &d), -1);
	assert_non_null(strstr(d.items[0].message, "has no covariance"));
	assert_string_equal(d.items[0].key, "--uncertainty");
	sweep_spec_free(sp);
	diag_release(&d);
	diag_init(&d);
	sp = spec_with(NULL, &d);
	assert_non_null(sp);
	assert_int_equal(sweep_spec_check_uncertainty(sp, &d), -1);
	assert_non_null(strstr(d.items[0].message, "needs a calibration"));
	sweep_spec_free(sp);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sweep_bands_of_a_tiny_covariance_are_the_point),
		cmocka_unit_test(sweep_bands_are_ordered_and_the_same_on_any_worker),
		cmocka_unit_test(sweep_without_uncertainty_draws_nothing),
		cmocka_unit_test(resume_redoes_points_without_the_bands_asked_for),
		cmocka_unit_test(uncertainty_needs_a_covariance),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
