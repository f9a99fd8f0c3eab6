/*
 * test_cost: a run's price per hour, per million tokens and for a token budget (sim/cost.h), and
 * a single run's cost from the one run path. Expected values are worked by hand in the comments
 * from the definitions: a million tokens take 1e6 / (tokens/s) seconds of the cluster, a day is
 * 86,400 s, and a day of the cluster costs 24 x USD/h.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "cost.h"
#include "run.h"
#include "scenario.h"

static void cost_of_four_p5_nodes_at_100k_tokens_per_s_matches_the_hand_sum(void **state)
{
	struct cost c;
	(void)state;
	/* 4 x p5.48xlarge at 55.04 USD/h = 220.16 USD/h. A million tokens at 100,000 tokens/s
	 * take 10 s: 220.16 / 3,600 x 10 = 0.611556 USD. One trillion tokens take 1e7 s =
	 * 115.740741 days; 115.740741 x 24 x 220.16 = 611,555.56 USD. */
	cost_build(4 * 55.04, 1e5, 1e12, &c);
	check_rel(c.usd_per_hour, 220.16, 1e-15);
	check_rel(c.usd_per_million_tokens, 0.6115556, 1e-6);
	check_rel(c.days, 115.740741, 1e-8);
	check_rel(c.usd, 611555.56, 1e-8);
	check_rel(c.tokens, 1e12, 0);
}

static void cost_without_a_price_keeps_the_days_and_no_usd(void **state)
{
	struct cost c;
	(void)state;
	/* 2e9 tokens at 1,000 tokens/s: 2e6 s = 23.148148 days; no price, no USD. */
	cost_build(0, 1000, 2e9, &c);
	check_rel(c.usd_per_hour, 0, 0);
	check_rel(c.usd_per_million_tokens, 0, 0);
	check_rel(c.days, 23.148148, 1e-7);
	check_rel(c.usd, 0, 0);
}

static void cost_of_a_budget_at_no_rate_is_never_done(void **state)
{
	struct cost c;
	(void)state;
	cost_build(98.32, 0, 1e12, &c);
	assert_true(isinf(c.days) && isinf(c.usd));
	check_rel(c.usd_per_million_tokens, 0, 0);
	/* Without a budget, days and USD stay 0. */
	cost_build(98.32, 5000, 0, &c);
	check_rel(c.days, 0, 0);
	check_rel(c.usd, 0, 0);
}

static void cost_parse_tokens_reads_suffixes_and_refuses_the_rest(void **state)
{
	double v = -1;
	(void)state;
	assert_int_equal(cost_parse_tokens("2T", &v), 0);
	check_rel(v, 2e12, 0);
	assert_int_equal(cost_parse_tokens("500B", &v), 0);
	check_rel(v, 5e11, 0);
	assert_int_equal(cost_parse_tokens("10k", &v), 0);
	check_rel(v, 1e4, 0);
	assert_int_equal(cost_parse_tokens("1e12", &v), 0);
	check_rel(v, 1e12, 0);
	assert_int_equal(cost_parse_tokens("0", &v), -1);
	assert_int_equal(cost_parse_tokens("0.5", &v), -1);
	assert_int_equal(cost_parse_tokens("2X", &v), -1);
	assert_int_equal(cost_parse_tokens("1e19", &v), -1);
	assert_int_equal(cost_parse_tokens("", &v), -1);
}

/* The shipped 32B ZeRO-3 run on 2 x p4de.24xlarge: the run prices the whole cluster at the
 * preset's 27.44705 USD/h per node (54.8941 USD/h) and divides by the simulated rate. */
static void run_prices_the_whole_cluster_at_the_simulated_rate(void **state)
{
	char path[4096];
	struct scenario_options opt;
	struct run_options ro;
	struct run_result r;
	struct scenario *s;
	struct diag d;
	(void)state;
	snprintf(path, sizeof path, "%s/scenarios/32b_zero3.yaml", check_srcdir());
	memset(&opt, 0, sizeof opt);
	memset(&ro, 0, sizeof ro);
	diag_init(&d);
	s = scenario_load(path, &opt, &d);
	assert_non_null(s);
	ro.tokens = 1e12;
	assert_int_equal(run_scenario(s, &ro, &r, &d), 0);
	assert_int_equal(r.outcome, RUN_SIMULATED);
	check_rel(r.cost.usd_per_hour, 2 * 27.44705, 1e-15);
	/* USD per million tokens x tokens/s = USD/h / 3,600 x 1e6, whatever the rate. */
	check_rel(r.cost.usd_per_million_tokens * r.step.tokens_per_s, 54.8941 / 3600 * 1e6, 1e-12);
	/* days x tokens/s x 86,400 = the budget. */
	check_rel(r.cost.days * r.step.tokens_per_s * 86400, 1e12, 1e-12);
	check_rel(r.cost.usd, r.cost.days * 24 * 54.8941, 1e-12);
	run_result_release(&r);
	scenario_free(s);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(cost_of_four_p5_nodes_at_100k_tokens_per_s_matches_the_hand_sum),
	    cmocka_unit_test(cost_without_a_price_keeps_the_days_and_no_usd),
	    cmocka_unit_test(cost_of_a_budget_at_no_rate_is_never_done),
	    cmocka_unit_test(cost_parse_tokens_reads_suffixes_and_refuses_the_rest),
	    cmocka_unit_test(run_prices_the_whole_cluster_at_the_simulated_rate),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
