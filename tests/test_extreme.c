/*
 * test_extreme: valid but extreme inputs — 1 GPU, 100,000 GPUs, a 1M-token sequence, a 1M-token
 * vocabulary, 1,024 experts — give finite numbers or a clear "does not fit" (with advice), never
 * NaN, infinity or an overflow (robustness issue, item 4). Each case is a shipped scenario with
 * --set overrides, run through the analytic model and, when it fits, the event engine.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "diag.h"
#include "memory.h"
#include "run.h"
#include "scenario.h"
#include "step.h"

static const char *data_dir(void)
{
	const char *d = getenv("DSSIM_DATA");
	return d && d[0] ? d : ".";
}

static void finite(double v, const char *what)
{
	if (!isfinite(v))
		fail_msg("%s is %g", what, v);
}

/* Load FILE (under scenarios/) with the overrides; NULL-terminated KEY, VALUE pairs. */
static struct scenario *load(const char *file, const char *const *sets)
{
	struct scenario_override o[16];
	struct scenario_options opt;
	struct diag d;
	struct scenario *s;
	char path[4096];
	size_t n = 0;
	for (; sets[2 * n]; n++) {
		o[n].key = sets[2 * n];
		o[n].value = sets[2 * n + 1];
	}
	memset(&opt, 0, sizeof opt);
	opt.overrides = o;
	opt.noverrides = n;
	snprintf(path, sizeof path, "%s/scenarios/%s", data_dir(), file);
	diag_init(&d);
	s = scenario_load(path, &opt, &d);
	if (s == NULL)
		diag_print(&d, stderr);
	assert_non_null(s);
	diag_release(&d);
	return s;
}

/* The analytic breakdown is finite; a misfit carries advice. Training that fits is simulated
 * and its numbers are finite too (or the step is refused with a message). Returns fits. */
static bool check_case(const char *file, const char *const *sets)
{
	struct scenario *s = load(file, sets);
	struct memory_report m;
	size_t i;
	int k;
	bool fits;
	if (memory_build(s, &m) != 0) {
		/* A search that cannot converge says so. */
		assert_true(strlen(m.advice) > 0);
		memory_report_release(&m);
		scenario_free(s);
		return false;
	}
	finite(m.params.total, "params");
	finite(m.capacity, "capacity");
	finite(m.headroom, "headroom");
	finite(m.host_per_node, "host per node");
	for (i = 0; i < m.nroles; i++) {
		finite(m.roles[i].total, "role total");
		for (k = 0; k < MEMORY_PARTS; k++)
			finite(m.roles[i].part[k], memory_part_name((enum memory_part)k));
		assert_true(m.roles[i].total >= 0);
	}
	fits = m.fits && m.host_fits;
	if (!fits)
		assert_true(strlen(m.advice) > 0);
	if (s->workload.mode == MODE_INFER) {
		finite(m.max_kv_tokens, "max KV tokens");
		finite(m.kv_budget, "KV budget");
	} else if (fits) {
		/* The step through the run module, as dssim runs it (the breakdown is above). */
		struct run_options o = {.step_only = true};
		struct run_result r;
		struct diag d;
		diag_init(&d);
		assert_int_equal(run_scenario(s, &o, &r, &d), 0);
		if (r.outcome == RUN_SIMULATED) {
			finite(r.step.step_s, "step time");
			assert_true(r.step.step_s > 0);
			finite(r.step.tokens_per_s, "tokens/s");
			finite(r.step.mfu, "MFU");
			assert_true(r.step.mfu > 0 && r.step.mfu <= 1);
			finite(r.step.peak_per_gpu, "simulated peak");
			for (k = 0; k < STEP_CATEGORIES; k++)
				finite(r.step.exposed[k], step_category_name(k));
			finite(r.step.bubble, "bubble");
		} else {
			assert_true(strlen(r.reason) > 0);
		}
		run_result_release(&r);
		diag_release(&d);
	}
	memory_report_release(&m);
	scenario_free(s);
	return fits;
}

/* 32B with ZeRO-3 and offload on one A100: 16 bytes a parameter on one GPU and its host. */
static void test_one_gpu(void **state)
{
	static const char *const sets[] = {"cluster.nodes", "1", "cluster.gpus", "1",
					   "strategy.dp", "0", NULL};
	(void)state;
	check_case("32b_zero3.yaml", sets);
	/* A model that does fit one GPU: 14B int8 serving. */
	{
		static const char *const none[] = {NULL};
		assert_true(check_case("14b_int8_infer_1gpu.yaml", none));
	}
}

/* 12,500 p4de nodes = 100,000 GPUs, data parallel, one sequence each. */
static void test_hundred_thousand_gpus(void **state)
{
	static const char *const sets[] = {"cluster.nodes", "12500", "strategy.dp", "0",
					   "workload.global_batch", "100000", NULL};
	(void)state;
	assert_true(check_case("32b_zero3.yaml", sets));
}

/* A 1,048,576-token sequence: activations far beyond 80 GB, a clear misfit. */
static void test_million_token_sequence(void **state)
{
	static const char *const sets[] = {"workload.seq_len", "1048576", NULL};
	(void)state;
	assert_false(check_case("32b_zero3.yaml", sets));
}

/* A 1,048,576-token vocabulary: 2 x 5120 x 2^20 embedding and head parameters more. */
static void test_million_vocabulary(void **state)
{
	static const char *const sets[] = {"model.vocab", "1048576", NULL};
	(void)state;
	check_case("32b_zero3.yaml", sets);
}

/* 1,024 routed experts in DeepSeek-V3, trained with EP 64 and served with EP 8. */
static void test_thousand_experts(void **state)
{
	static const char *const sets[] = {"model.moe.experts", "1024", NULL};
	(void)state;
	check_case("deepseek_v3_pp16_ep64_h800.yaml", sets);
	check_case("deepseek_v3_fp8_8xh200.yaml", sets);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_gpu),
		cmocka_unit_test(test_hundred_thousand_gpus),
		cmocka_unit_test(test_million_token_sequence),
		cmocka_unit_test(test_million_vocabulary),
		cmocka_unit_test(test_thousand_experts),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
