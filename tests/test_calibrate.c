/*
 * test_calibrate: the fit of scenario keys to runs, the calibration file and the draws from its
 * covariance. The fit is checked on cases dssim itself generated at known efficiencies, so the
 * answer is known by construction; the draws against the same Gaussian drawn by hand.
 */
#include "check.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>

#include "calibrate.h"
#include "calibration.h"
#include "canonical.h"
#include "run.h"
#include "validate.h"

/* Megatron GPT 1.7B on four Selene nodes, data parallel across the nodes with the gradient
 * all-reduce after the backward pass: both memory-bound kernels and the network show in the
 * step. A small global batch keeps each simulation short. */
#define SCENARIO_17B \
	"      model: megatron-gpt-1.7b\n" \
	"      cluster: {node: selene, nodes: 4}\n" \
	"      workload: {seq_len: 2048, global_batch: 64, micro_batch: 1, dtype: fp16, " \
	"grad_dtype: fp32, flash_attention: false}\n" \
	"      strategy: {tp: 1, pp: 1, recompute: full, overlap_grad_reduce: false}\n"

static const char *const synth_keys[] = {
	"cluster.node.gpu.efficiency.memory",
	"cluster.node.links.network.efficiency",
};
static const double truth[] = {0.75, 0.85};

/* With the GEMM curve scaled too (its elements stay below 1). */
static const char *const gemm_keys[] = {
	"cluster.node.gpu.efficiency.gemm_fraction",
	"cluster.node.gpu.efficiency.memory",
	"cluster.node.links.network.efficiency",
};
static const double gemm_truth[] = {0.9, 0.75, 0.85};

static const char *const variants[][2] = {
	{"cluster.nodes", "2"}, {"cluster.nodes", "4"}, {"strategy.tp", "2"},
	{"workload.global_batch", "128"},
};

static char *out_path(const char *name, char *buf, size_t size)
{
	const char *b = getenv("TOP_BUILDDIR");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/tests/out", b && b[0] ? b : ".");
	mkdir(dir, 0777);
	snprintf(buf, size, "%s/%s", dir, name);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* One case per variant, `published` = what dssim simulates with the true values applied as a
 * calibration. The first case names its scenario by path, the others give it inline. */
static void write_cases_at(const char *path, const char *const *keys, const double *values,
			   size_t n)
{
	char scen[1200], buf[8192];
	struct validate_case c;
	struct calibration cal;
	struct mark marks[3] = {{"truth", 0, 0}, {"truth", 0, 0}, {"truth", 0, 0}};
	struct scenario_options opt;
	struct diag d;
	FILE *f;
	size_t i;
	out_path("cal_synth_scenario.yaml", scen, sizeof scen);
	write_file(scen, "model: megatron-gpt-1.7b\n"
			 "cluster: {node: selene, nodes: 4}\n"
			 "workload: {seq_len: 2048, global_batch: 64, micro_batch: 1, dtype: fp16, "
			 "grad_dtype: fp32, flash_attention: false}\n"
			 "strategy: {tp: 1, pp: 1, recompute: full, overlap_grad_reduce: false}\n");
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("cases:\n", f);
	diag_init(&d);
	for (i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		struct scenario_override set = {variants[i][0], variants[i][1]};
		double v;
		memset(&c, 0, sizeof c);
		c.name = "synthetic";
		c.metric = "step_s";
		c.published = 1;
		c.file = scen;
		c.set = &set;
		c.nset = 1;
		cal = (struct calibration){"truth", n, (const char **)keys, (double *)values, marks,
					   NULL};
		memset(&opt, 0, sizeof opt);
		opt.calibration_given = &cal;
		if (validate_case_run(&c, &opt, &v, &d) != 0)
			diag_print(&d, stderr);
		assert_int_equal(d.count, 0);
		snprintf(buf, sizeof buf, "  - name: synthetic %zu\n    source: dssim at %g, %g\n"
			 "    metric: step_s\n    published: %.17g\n    set: {%s: %s}\n", i,
			 values[0], values[1], v, variants[i][0], variants[i][1]);
		fputs(buf, f);
		if (i == 0)
			fputs("    scenario: cal_synth_scenario.yaml\n", f);
		else
			fputs("    scenario:\n" SCENARIO_17B, f);
	}
	assert_int_equal(fclose(f), 0);
	diag_release(&d);
}

static void write_synthetic_cases(const char *path)
{
	write_cases_at(path, synth_keys, truth, 2);
}

static void fit_recovers_the_efficiencies_the_cases_were_made_with(void **state)
{
	char path[1200];
	struct validate_cases cs;
	struct calibrate_fit fit;
	struct diag d;
	size_t i;
	(void)state;
	write_synthetic_cases(out_path("cal_synth.yaml", path, sizeof path));
	diag_init(&d);
	assert_int_equal(validate_cases_load(path, &cs, &d), 0);
	assert_int_equal(cs.count, 4);
	assert_string_equal(cs.items[1].source, "dssim at 0.75, 0.85");
	if (calibrate_run(&cs, synth_keys, 2, NULL, &fit, &d) != 0)
		diag_print(&d, stderr);
	assert_int_equal(d.count, 0);
	/* Started from the Selene presets (A100 memory 0.83, HDR InfiniBand 0.96). */
	check_rel(fit.start[0], 0.83, 1e-12);
	check_rel(fit.start[1], 0.96, 1e-12);
	check_rel(fit.value[0], truth[0], 1e-3);
	check_rel(fit.value[1], truth[1], 1e-3);
	for (i = 0; i < 2; i++) {
		print_message("%s = %.6f +- %.2g\n", synth_keys[i], fit.value[i], fit.stderr_[i]);
		assert_true(fit.stderr_[i] < 1e-3);
	}
	for (i = 0; i < cs.count; i++) {
		assert_true(fabs(fit.before[i]) > 1e-3);   /* the start was off ... */
		assert_true(fabs(fit.after[i]) < 1e-4);    /* ... the fit is not */
	}
	calibrate_fit_release(&fit);
	validate_cases_release(&cs);
	diag_release(&d);
}

/* A scale of the GEMM curve is fitted like a number key, from scale 1 (the preset's curve). */
static void fit_recovers_a_gemm_curve_scale(void **state)
{
	char path[1200];
	struct validate_cases cs;
	struct calibrate_fit fit;
	struct diag d;
	size_t i;
	(void)state;
	write_cases_at(out_path("cal_gemm_synth.yaml", path, sizeof path), gemm_keys, gemm_truth,
		       3);
	diag_init(&d);
	assert_int_equal(validate_cases_load(path, &cs, &d), 0);
	if (calibrate_run(&cs, gemm_keys, 3, NULL, &fit, &d) != 0)
		diag_print(&d, stderr);
	assert_int_equal(d.count, 0);
	check_rel(fit.start[0], 1, 0);
	for (i = 0; i < 3; i++) {
		print_message("%s = %.6f +- %.2g\n", gemm_keys[i], fit.value[i], fit.stderr_[i]);
		check_rel(fit.value[i], gemm_truth[i], 1e-3);
		assert_true(fit.stderr_[i] < 1e-3);
	}
	calibrate_fit_release(&fit);
	validate_cases_release(&cs);
	diag_release(&d);
}

/* The shipped defaults whose source is a fit (issue 13, sec. 5): `dssim calibrate` on the cases
 * they were fitted to reproduces them, within 0.002 of the value they ship with (their standard
 * errors are about 0.016). The GA100 presets' 16-bit
 * GEMM curve (tests/validation/a100.yaml: a scale of 1 is the shipped curve) and the
 * megatron-core profile's FP8 share, 0.9758 (tests/validation/h100-fp8.yaml). */
static void shipped_fits_reproduce_their_values(void **state)
{
	static const char *const cases[] = {"tests/validation/a100.yaml",
					    "tests/validation/h100-fp8.yaml"};
	static const char *const keys[] = {"cluster.node.gpu.efficiency.gemm_fraction",
					   "runtime.fp8_gemm_scale"};
	static const double shipped[] = {1, 0.9758};
	size_t i;
	(void)state;
	check_chdir_srcdir();
	for (i = 0; i < 2; i++) {
		struct validate_cases cs;
		struct calibrate_fit fit;
		struct diag d;
		diag_init(&d);
		assert_int_equal(validate_cases_load(cases[i], &cs, &d), 0);
		if (calibrate_run(&cs, &keys[i], 1, NULL, &fit, &d) != 0)
			diag_print(&d, stderr);
		assert_int_equal(d.count, 0);
		print_message("%s: %s = %.4f +- %.4f (shipped %.3f)\n", cases[i], keys[i],
			      fit.value[0], fit.stderr_[0], shipped[i]);
		check_rel(fit.start[0], shipped[i], 0);
		assert_true(fabs(fit.value[0] - shipped[i]) < 2e-3);
		calibrate_fit_release(&fit);
		validate_cases_release(&cs);
		diag_release(&d);
	}
}

/* Two keys need three cases: with two the fit would be exact and its covariance undefined. */
static void a_fit_with_as_many_cases_as_keys_is_refused(void **state)
{
	char path[1200];
	struct validate_cases cs;
	struct calibrate_fit fit;
	struct diag d;
	(void)state;
	write_synthetic_cases(out_path("cal_synth.yaml", path, sizeof path));
	diag_init(&d);
	assert_int_equal(validate_cases_load(path, &cs, &d), 0);
	cs.count = 2;
	assert_int_equal(calibrate_run(&cs, synth_keys, 2, NULL, &fit, &d), -1);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.items[0].message, "at least one more case than parameters"));
	calibrate_fit_release(&fit);
	cs.count = 4;
	validate_cases_release(&cs);
	diag_release(&d);
}

/* The run of a scenario file with options; its step time. */
static double step_of(const char *path, const struct scenario_options *opt)
{
	struct diag d;
	struct scenario *s;
	struct run_result r;
	struct run_options ro = {.step_only = true};
	double t;
	diag_init(&d);
	s = scenario_load(path, opt, &d);
	if (s == NULL)
		diag_print(&d, stderr);
	assert_non_null(s);
	assert_int_equal(run_scenario(s, &ro, &r, &d), 0);
	t = r.step.step_s;
	run_result_release(&r);
	scenario_free(s);
	diag_release(&d);
	return t;
}

static void calibration_file_applies_as_the_same_keys_set_by_hand(void **state)
{
	char cases[1200], cal[1200], scen[1200], local[1200], text[4096];
	struct validate_cases cs;
	struct calibrate_fit fit;
	struct scenario_options opt;
	struct scenario_override o[2];
	char v0[32], v1[32];
	struct diag d;
	FILE *f;
	double by_file, by_set;
	(void)state;
	write_synthetic_cases(out_path("cal_synth.yaml", cases, sizeof cases));
	diag_init(&d);
	assert_int_equal(validate_cases_load(cases, &cs, &d), 0);
	assert_int_equal(calibrate_run(&cs, synth_keys, 2, NULL, &fit, &d), 0);
	f = fopen(out_path("cal_synth.cal.yaml", cal, sizeof cal), "wb");
	assert_non_null(f);
	calibrate_write(f, cases, &cs, &fit);
	assert_int_equal(fclose(f), 0);
	out_path("cal_synth_scenario.yaml", scen, sizeof scen);

	memset(&opt, 0, sizeof opt);
	opt.calibration = cal;
	by_file = step_of(scen, &opt);
	snprintf(v0, sizeof v0, "%.17g", fit.value[0]);
	snprintf(v1, sizeof v1, "%.17g", fit.value[1]);
	o[0] = (struct scenario_override){synth_keys[0], v0};
	o[1] = (struct scenario_override){synth_keys[1], v1};
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = 2;
	by_set = step_of(scen, &opt);
	check_rel(by_file, by_set, 0);

	/* The scenario's own `calibration:` key does the same; a key the scenario file gives
	 * wins over the calibration, and --set over both. */
	snprintf(text, sizeof text, "calibration: cal_synth.cal.yaml\n"
				    "cluster: {node: selene, nodes: 4}\n"
				    "model: megatron-gpt-1.7b\n"
				    "workload: {seq_len: 2048, global_batch: 64, micro_batch: 1, "
				    "dtype: fp16, grad_dtype: fp32, flash_attention: false}\n"
				    "strategy: {tp: 1, pp: 1, recompute: full, "
				    "overlap_grad_reduce: false}\n");
	write_file(out_path("cal_synth_local.yaml", local, sizeof local), text);
	check_rel(step_of(local, NULL), by_set, 0);
	/* --set over the calibration. */
	memset(&opt, 0, sizeof opt);
	opt.calibration = cal;
	o[1].value = "0.9";
	opt.overrides = o + 1;
	opt.noverrides = 1;
	by_file = step_of(scen, &opt);
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = 2;
	check_rel(by_file, step_of(scen, &opt), 0);
	calibrate_fit_release(&fit);
	validate_cases_release(&cs);
	diag_release(&d);
}

/* The layers: preset < calibration file < scenario file < --set. */
static void scenario_file_keys_win_over_the_calibration(void **state)
{
	char cal[1200];
	struct scenario *s;
	(void)state;
	write_file(out_path("cal_layers.cal.yaml", cal, sizeof cal),
		   "keys:\n  cluster.node.gpu.efficiency.memory: 0.7\n"
		   "  serving.iteration_overhead: 0.002\n");
	s = check_scenario("cal_layers", "calibration: cal_layers.cal.yaml\n"
					 "model: megatron-gpt-1.7b\n"
					 "cluster: {node: selene}\n"
					 "workload: {seq_len: 2048, global_batch: 64}\n"
					 "serving: {iteration_overhead: 1 ms}\n");
	check_rel(s->cluster.node.gpu.efficiency.memory, 0.7, 0);
	check_rel(s->serving.iteration_overhead, 1e-3, 0);
	assert_non_null(s->calibration);
	assert_null(s->calibration->cov);
	scenario_free(s);
}

/* A list key's value scales the list: the A100's GEMM curve (topologies/gpus/a100-80gb-sxm.yaml,
 * 0.360 0.674 0.693 0.770 0.778) times 1.4, the two largest held at the fraction's end, 1. */
static void a_calibration_scales_the_gemm_curve(void **state)
{
	static const double want[] = {0.504, 0.9436, 0.9702, 1, 1};
	char cal[1200];
	struct scenario *s;
	int i;
	(void)state;
	write_file(out_path("cal_gemm.cal.yaml", cal, sizeof cal),
		   "keys:\n  cluster.node.gpu.efficiency.gemm_fraction: 1.4\n");
	s = check_scenario("cal_gemm", "calibration: cal_gemm.cal.yaml\n"
				       "model: megatron-gpt-1.7b\ncluster: {node: selene}\n"
				       "workload: {seq_len: 2048, global_batch: 64}\n");
	assert_int_equal(s->cluster.node.gpu.efficiency.gemm_fraction.n, 5);
	for (i = 0; i < 5; i++)
		check_rel(s->cluster.node.gpu.efficiency.gemm_fraction.v[i], want[i], 1e-14);
	scenario_free(s);
}

/* A sweep keys its points by the canonical form: a calibrated scenario's is the one of the same
 * values given by hand, not the one of the scenario without it. */
static void canonical_form_holds_the_calibrated_values(void **state)
{
	char cal[1200];
	struct scenario *with, *by_hand, *without;
	char *a, *b, *c;
	(void)state;
	write_file(out_path("cal_canon.cal.yaml", cal, sizeof cal),
		   "keys:\n  cluster.node.links.network.efficiency: 0.85\n");
	with = check_scenario("cal_canon", "calibration: cal_canon.cal.yaml\n"
					   "model: megatron-gpt-1.7b\ncluster: {node: selene}\n"
					   "workload: {seq_len: 2048, global_batch: 64}\n");
	by_hand = check_scenario("cal_canon_hand", "model: megatron-gpt-1.7b\n"
						   "cluster: {node: selene}\n"
						   "workload: {seq_len: 2048, global_batch: 64}\n");
	without = check_scenario("cal_canon_none", "model: megatron-gpt-1.7b\n"
						   "cluster: {node: selene}\n"
						   "workload: {seq_len: 2048, global_batch: 64}\n");
	by_hand->cluster.node.network.efficiency = 0.85;
	a = canonical_format(with);
	b = canonical_format(by_hand);
	c = canonical_format(without);
	assert_string_equal(a, b);
	assert_true(strcmp(a, c) != 0);
	free(a);
	free(b);
	free(c);
	scenario_free(with);
	scenario_free(by_hand);
	scenario_free(without);
}

static void a_bad_calibration_file_is_reported_where_it_stands(void **state)
{
	/* Positions counted by hand in the file below: line 2 "  strategy.tp: 2", the key at
	 * column 3; line 3 "  cluster.node.gpu.efficiency.memory: high", 2 + 34 + 2 characters
	 * before "high", column 39; line 6 "  - [3, -1]", the row's "[" at column 5, where both
	 * of the matrix's faults stand (row 2's variance -1; [1][2] = 2 against [2][1] = 3). */
	static const struct {
		int line, col;
		const char *key, *message;
	} expect[4] = {
		{2, 3, "strategy.tp", "a calibration sets number keys of the scenario, or scales a "
				      "list of numbers (dssim --help-keys)"},
		{3, 39, "cluster.node.gpu.efficiency.memory", "expected a number"},
		{6, 5, "covariance", "a variance (row 2) must not be negative"},
		{6, 5, "covariance", "not symmetric (rows 1 and 2)"},
	};
	char cal[1200], scen[1200];
	struct scenario_options opt;
	struct diag d;
	size_t i;
	(void)state;
	write_file(out_path("cal_bad.cal.yaml", cal, sizeof cal),
		   "keys:\n  strategy.tp: 2\n  cluster.node.gpu.efficiency.memory: high\n"
		   "covariance:\n  - [1, 2]\n  - [3, -1]\n");
	memset(&opt, 0, sizeof opt);
	opt.calibration = cal;
	diag_init(&d);
	assert_null(scenario_load(out_path("cal_synth_scenario.yaml", scen, sizeof scen), &opt,
				  &d));
	diag_print(&d, stderr);
	/* strategy.tp is not a number key; "high" is not a number; a negative variance; an
	 * asymmetric matrix. */
	assert_int_equal(d.count, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(d.items[i].at.line, expect[i].line);
		assert_int_equal(d.items[i].at.col, expect[i].col);
		assert_non_null(d.items[i].key);
		assert_string_equal(d.items[i].key, expect[i].key);
		assert_string_equal(d.items[i].message, expect[i].message);
	}
	diag_release(&d);
}

/*
 * One parameter, variance 0.02^2: the draws are 0.85 + 0.02 z with z GSL's unit Gaussians
 * from mt19937 seeded 7 (gsl_ran_multivariate_gaussian draws z element by element and returns
 * L z + mu). Eleven draws put P10, P50 and P90 on order statistics 2, 6 and 10 (GSL's quantile
 * is linear in (n - 1) f = 1, 5, 9), and the step time falls as the efficiency rises, so P10
 * of the step is the step at the 10th smallest efficiency, and so on.
 */
static void uncertainty_percentiles_are_the_steps_at_the_drawn_order_statistics(void **state)
{
	char cal[1200], scen[1200], v[32];
	struct scenario_options opt;
	struct scenario_override o = {"cluster.node.links.network.efficiency", v};
	struct calibrate_uncertainty u;
	struct scenario *s;
	struct diag d;
	double x[11], lo, mid, hi;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t i;
	(void)state;
	write_file(out_path("cal_one.cal.yaml", cal, sizeof cal),
		   "keys:\n  cluster.node.links.network.efficiency: 0.85\n"
		   "covariance:\n  - [0.0004]\n");
	gsl_rng_set(rng, 7);
	for (i = 0; i < 11; i++)
		x[i] = 0.85 + 0.02 * gsl_ran_ugaussian(rng);
	gsl_rng_free(rng);
	gsl_sort(x, 1, 11);
	out_path("cal_synth_scenario.yaml", scen, sizeof scen);
	memset(&opt, 0, sizeof opt);
	opt.overrides = &o;
	opt.noverrides = 1;
	snprintf(v, sizeof v, "%.17g", x[9]);
	lo = step_of(scen, &opt);
	snprintf(v, sizeof v, "%.17g", x[5]);
	mid = step_of(scen, &opt);
	snprintf(v, sizeof v, "%.17g", x[1]);
	hi = step_of(scen, &opt);
	assert_true(lo < mid && mid < hi);

	memset(&opt, 0, sizeof opt);
	opt.calibration = cal;
	diag_init(&d);
	s = scenario_load(scen, &opt, &d);
	assert_non_null(s);
	if (calibrate_uncertainty(s, 11, 7, NULL, &u, &d) != 0)
		diag_print(&d, stderr);
	assert_int_equal(d.count, 0);
	check_rel(u.step_s.p10, lo, 1e-12);
	check_rel(u.step_s.p50, mid, 1e-12);
	check_rel(u.step_s.p90, hi, 1e-12);
	assert_true(u.tokens_per_s.p10 < u.tokens_per_s.p50 && u.mfu.p50 < u.mfu.p90);
	check_rel(u.tokens_per_s.p50 * u.step_s.p50, 64.0 * 2048, 1e-9);
	assert_int_equal(u.clamped, 0);
	scenario_free(s);

	/* A key of variance 0 (held by its fit at a range's end) keeps its value and draws no
	 * numbers: the A100's own memory efficiency, 0.83, changes nothing. */
	write_file(cal, "keys:\n  cluster.node.links.network.efficiency: 0.85\n"
			"  cluster.node.gpu.efficiency.memory: 0.83\n"
			"covariance:\n  - [0.0004, 0]\n  - [0, 0]\n");
	s = scenario_load(scen, &opt, &d);
	assert_non_null(s);
	assert_int_equal(calibrate_uncertainty(s, 11, 7, NULL, &u, &d), 0);
	check_rel(u.step_s.p10, lo, 1e-12);
	check_rel(u.step_s.p90, hi, 1e-12);
	scenario_free(s);

	/* Without a covariance, refused. */
	write_file(cal, "keys:\n  cluster.node.links.network.efficiency: 0.85\n");
	s = scenario_load(scen, &opt, &d);
	assert_non_null(s);
	assert_int_equal(calibrate_uncertainty(s, 11, 7, NULL, &u, &d), -1);
	assert_int_equal(d.count, 1);
	scenario_free(s);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fit_recovers_the_efficiencies_the_cases_were_made_with),
		cmocka_unit_test(fit_recovers_a_gemm_curve_scale),
		cmocka_unit_test(shipped_fits_reproduce_their_values),
		cmocka_unit_test(a_fit_with_as_many_cases_as_keys_is_refused),
		cmocka_unit_test(calibration_file_applies_as_the_same_keys_set_by_hand),
		cmocka_unit_test(scenario_file_keys_win_over_the_calibration),
		cmocka_unit_test(canonical_form_holds_the_calibrated_values),
		cmocka_unit_test(a_calibration_scales_the_gemm_curve),
		cmocka_unit_test(a_bad_calibration_file_is_reported_where_it_stands),
		cmocka_unit_test(uncertainty_percentiles_are_the_steps_at_the_drawn_order_statistics),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
