/*
 * test_layout: rank groups, stage contents and micro-batches in flight per schedule, against the
 * schedule definitions (Narayanan et al. 2021 sec. 2.2; Korthikanti et al. 2022 sec. 4.2).
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "layout.h"
#include "scenario.h"

static struct scenario *gpt(const char *name, int nodes, int tp, int pp, int vp,
			    const char *schedule, int global)
{
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
		 "model: gpt3-175b\ncluster: {node: selene, nodes: %d}\n"
		 "workload: {seq_len: 2048, global_batch: %d}\n"
		 "strategy: {tp: %d, pp: %d, vp: %d, schedule: %s}\n",
		 nodes, global, tp, pp, vp, schedule);
	return check_scenario(name, yaml);
}

/* 1F1B: stage i of p runs p - i forwards before its first backward. */
static void one_f_one_b_stage_i_holds_p_minus_i(void **state)
{
	struct scenario *s = gpt("l1", 4, 8, 4, 1, "1f1b", 64);
	struct layout l;
	int64_t i;
	(void)state;
	layout_build(s, &l);
	assert_int_equal(l.micro_batches, 64);
	for (i = 0; i < 4; i++) {
		struct stage st;
		layout_stage(s, &l, i, &st);
		check_rel(st.inflight, (double)(4 - i), 1e-12);
		assert_int_equal(st.layers, 24);
		assert_true(st.first == (i == 0));
		assert_true(st.last == (i == 3));
	}
	scenario_free(s);
}

/* With fewer micro-batches than stages only m can be in flight (Megatron: x m/p on stage 0). */
static void few_micro_batches_cap_what_is_in_flight(void **state)
{
	struct scenario *s = gpt("l2", 8, 8, 8, 1, "1f1b", 2);
	struct layout l;
	struct stage st;
	(void)state;
	layout_build(s, &l);
	assert_int_equal(l.micro_batches, 2);
	layout_stage(s, &l, 0, &st);
	check_rel(st.inflight, 2, 1e-12);
	layout_stage(s, &l, 7, &st);
	check_rel(st.inflight, 1, 1e-12);
	scenario_free(s);
}

static void gpipe_holds_every_micro_batch(void **state)
{
	struct scenario *s = gpt("l3", 4, 8, 4, 1, "gpipe", 16);
	struct layout l;
	struct stage st;
	(void)state;
	layout_build(s, &l);
	layout_stage(s, &l, 3, &st);
	check_rel(st.inflight, 16, 1e-12);
	scenario_free(s);
}

/* Interleaved, p 8, v 3: stage 0 holds p*(1 + (p-1)/(p*v)) = 8 * (1 + 7/24) micro-batches' worth
 * (Korthikanti et al. 2022, sec. 4.2), and its 96/8 = 12 layers come from chunks 0, 8 and 16. */
static void interleaving_adds_the_korthikanti_factor(void **state)
{
	struct scenario *s = gpt("l4", 8, 8, 8, 3, "interleaved", 64);
	struct layout l;
	struct stage st;
	(void)state;
	layout_build(s, &l);
	layout_stage(s, &l, 0, &st);
	check_rel(st.inflight, 8.0 * (1.0 + 7.0 / 24.0), 1e-12);
	assert_int_equal(st.layers, 12);
	layout_stage(s, &l, 7, &st);
	/* last stage: (p - 7 - 1)*2 + (v - 1)*p + 1 = 17 chunks of a third of the stage */
	check_rel(st.inflight, 17.0 / 3.0, 1e-12);
	scenario_free(s);
}

/* DeepSeek-V3: 61 layers on 16 stages, the first holding 4 (its 3 dense layers and 1 MoE), the
 * last 1, and 4 MoE layers on each of the 14 others; EP 64 is carved out of dp 128. */
static void uneven_stages_place_dense_and_moe_layers(void **state)
{
	struct scenario *s = check_scenario("v3",
		"model: deepseek-v3\ncluster: {node: h800-node, nodes: 256}\n"
		"workload: {seq_len: 4096, global_batch: 15360, dtype: fp8}\n"
		"strategy: {pp: 16, ep: 64, zero: 1, first_stage_layers: 4, last_stage_layers: 1}\n");
	struct layout l;
	struct stage st;
	int64_t i, total = 0;
	(void)state;
	layout_build(s, &l);
	assert_int_equal(l.dp, 128);
	assert_int_equal(l.expert_dp, 2);
	assert_int_equal(l.dense_dp, 128);
	assert_int_equal(l.communicators, 3);
	for (i = 0; i < 16; i++) {
		layout_stage(s, &l, i, &st);
		total += st.layers;
		if (i == 0) {
			assert_int_equal(st.layers, 4);
			assert_int_equal(st.moe_layers, 1);
		} else if (i == 15) {
			assert_int_equal(st.layers, 1);
			assert_int_equal(st.moe_layers, 1);
		} else {
			assert_int_equal(st.layers, 4);
			assert_int_equal(st.moe_layers, 4);
		}
	}
	assert_int_equal(total, 61);
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_f_one_b_stage_i_holds_p_minus_i),
		cmocka_unit_test(few_micro_batches_cap_what_is_in_flight),
		cmocka_unit_test(gpipe_holds_every_micro_batch),
		cmocka_unit_test(interleaving_adds_the_korthikanti_factor),
		cmocka_unit_test(uneven_stages_place_dense_and_moe_layers),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
