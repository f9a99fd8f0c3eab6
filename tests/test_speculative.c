/*
 * test_speculative: speculative decoding worked by hand — the tokens a step yields from vLLM's
 * cumulative per-position rates, their deterministic accumulation, the verification batch, an
 * EAGLE step's time as its draft passes plus the widened target pass from forward's costs, and
 * DeepSeek-V3's MTP yielding the report's second-token rate.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "compute.h"
#include "forward.h"
#include "run.h"
#include "serve.h"
#include "speculative.h"

/* Llama 3 8B on one H100 with an EAGLE head drafting 3 tokens. */
#define EAGLE_YAML "model: llama-3-8b\ncluster: {node: p5.48xlarge, gpus: 1}\n" \
	"workload: {mode: infer, seq_len: 4096, requests: %d,\n" \
	"  prompt_tokens: {value: 512}, output_tokens: {value: %d}}\n" \
	"serving: {speculative: {method: %s, tokens: 3, acceptance: [%s]}}\n"

static struct speculative *new_speculative(const struct scenario *s)
{
	struct speculative *sp = NULL;
	struct diag d;
	diag_init(&d);
	if (speculative_new(s, &sp, &d) != 0) {
		diag_print(&d, stderr);
		fail();
	}
	diag_release(&d);
	return sp;
}

static void serve_it(struct scenario *s, struct run_result *rr)
{
	struct diag d;
	diag_init(&d);
	if (run_scenario(s, NULL, rr, &d) != 0) {
		diag_print(&d, stderr);
		fail();
	}
	diag_release(&d);
	assert_int_equal(rr->outcome, RUN_SIMULATED);
	assert_int_equal(rr->serve.finished, rr->serve.requests);
}

/*
 * EAGLE's n-alpha for Vicuna 7B on MT-bench (0.79, 0.74, 0.72, each given the drafts before it
 * accepted) are vLLM's cumulative rates 0.79, 0.79 * 0.74 = 0.5846, 0.5846 * 0.72 = 0.420912;
 * a step drafting k yields 1 + p1 + ... + pk: 1, 1.79, 2.3746, 2.795512.
 */
static void a_step_yields_one_plus_the_cumulative_rates(void **state)
{
	struct scenario *s = check_scenariof("e", EAGLE_YAML, 1, 8, "eagle",
					     "0.79, 0.5846, 0.420912");
	struct speculative *sp = new_speculative(s);
	(void)state;
	assert_non_null(sp);
	assert_int_equal(speculative_tokens(sp), 3);
	check_rel(speculative_expected(sp, 0), 1, 1e-15);
	check_rel(speculative_expected(sp, 1), 1.79, 1e-15);
	check_rel(speculative_expected(sp, 2), 2.3746, 1e-15);
	check_rel(speculative_expected(sp, 3), 1 + 0.79 + 0.79 * 0.74 + 0.79 * 0.74 * 0.72, 1e-15);
	speculative_free(sp);
	scenario_free(s);
}

/* With E = 1.875 (one draft accepted 87.5 % of the time) the carried fraction gives 1, 2, 2, 2,
 * 2, 2, 2, 2: 15 tokens in 8 steps, 8 * 1.875 exactly; a request wanting one more token gets
 * one, and a step that drafted nothing yields its one token. */
static void accepted_tokens_carry_the_fraction_between_steps(void **state)
{
	struct scenario *s = check_scenariof("c", EAGLE_YAML, 1, 8, "eagle", "0.875, 0.5, 0.25");
	struct speculative *sp = new_speculative(s);
	static const int64_t want[8] = {1, 2, 2, 2, 2, 2, 2, 2};
	double carry = 0;
	int64_t sum = 0;
	int i;
	(void)state;
	for (i = 0; i < 8; i++) {
		int64_t a = speculative_accept(sp, 1, 100, &carry);
		assert_int_equal(a, want[i]);
		sum += a;
	}
	assert_int_equal(sum, 15);
	check_rel(carry + 1, 1, 1e-15);
	carry = 0.9;
	assert_int_equal(speculative_accept(sp, 1, 1, &carry), 1);
	assert_int_equal(speculative_accept(sp, 0, 100, &carry), 1);
	assert_int_equal(speculative_accept(NULL, 3, 100, &carry), 1);
	speculative_free(sp);
	scenario_free(s);
}

/* Two sequences decoding after 100 and 200 cached tokens, 3 drafts each: 8 query tokens, 308
 * cached, 8 rows of logits; their queries attend 101..104 and 201..204 keys, 410 + 810 pairs. */
static void verification_widens_the_decode_batch(void **state)
{
	struct forward_batch b = {2, 2, 0, 101 + 201, 101 + 201, 0};
	struct speculative_batch sb;
	(void)state;
	memset(&sb, 0, sizeof sb);
	speculative_add(&sb, 100, 3);
	speculative_add(&sb, 200, 3);
	speculative_add(&sb, 300, 0);
	speculative_widen(&sb, &b);
	check_rel(b.tokens, 8, 1e-15);
	check_rel(b.kv_tokens, 308, 1e-15);
	check_rel(b.sequences, 8, 1e-15);
	check_rel(b.decode_pairs, 410 + 810, 1e-15);
	check_rel(sb.drafting, 2, 1e-15);
	check_rel(sb.context, 302, 1e-15);
	assert_int_equal(sb.passes, 3);
}

/*
 * One request of 512 prompt tokens and 9 output tokens, every draft accepted (E = 4): the
 * prefill samples token 1, then two steps of 4 tokens each. Step 1 verifies after 512 cached
 * tokens: the target runs 4 queries over 516 cached (513 + 514 + 515 + 516 = 2058 pairs); the
 * EAGLE head (one decoder layer of Llama 3 8B, its LM head, and a 4096 x 8192 projection) runs
 * those 4 tokens, then one token over 514 and 515 keys. Step 2 the same after 516. Each step
 * also pays the vllm profile's 0.2 ms + 20 us of host time (topologies/engines/vllm.yaml); its
 * 4 graph launches hide under the GPU. TPOT = (step 1 + step 2) / 8, against a plain decode
 * of one token over 513 keys.
 */
static void an_eagle_step_costs_its_drafts_plus_a_wider_verify(void **state)
{
	struct scenario *s = check_scenariof("t", EAGLE_YAML, 1, 9, "eagle", "1, 1, 1");
	struct scenario one = *s;
	struct forward_cost *target, *head;
	struct compute *c;
	struct run_result rr;
	struct diag d;
	struct mark at = {NULL, 0, 0};
	double step[2], plain, tpot;
	int i, j;
	(void)state;
	diag_init(&d);
	target = forward_new(s, &d);
	one.model.layers = 1;
	head = forward_new(&one, &d);
	c = compute_new(&s->cluster.node.gpu, at, &d);
	assert_non_null(target);
	assert_non_null(head);
	assert_non_null(c);
	for (i = 0; i < 2; i++) {
		double ctx = 512 + 4 * i;
		struct forward_batch verify = {4, 4, 0, 4 * (ctx + 1) + 6, ctx + 4, 0};
		double draft = forward_time(head, &verify, NULL) +
			       compute_gemm_time(c, DTYPE_BF16, 4, 4096, 8192);
		for (j = 2; j <= 3; j++) {
			struct forward_batch one_token = {1, 1, 0, ctx + j, ctx + j, 0};
			draft += forward_time(head, &one_token, NULL) +
				 compute_gemm_time(c, DTYPE_BF16, 1, 4096, 8192);
		}
		step[i] = forward_time(target, &verify, NULL) + draft + 220e-6;
	}
	{
		struct forward_batch decode = {1, 1, 0, 513, 513, 0};
		plain = forward_time(target, &decode, NULL) + 220e-6;
	}
	serve_it(s, &rr);
	tpot = rr.serve.tpot.mean;
	check_rel(tpot, (step[0] + step[1]) / 8, 1e-9);
	check_rel(rr.serve.spec_tokens_per_step, 4, 1e-15);
	check_rel(rr.serve.spec_steps, 2, 1e-15);
	print_message("EAGLE TPOT %.4f ms (steps %.4f, %.4f ms), plain decode %.4f ms: %.2fx\n",
		      tpot * 1e3, step[0] * 1e3, step[1] * 1e3, plain * 1e3, plain / tpot);
	assert_true(tpot < plain);
	run_result_release(&rr);
	compute_free(c);
	forward_free(head);
	forward_free(target);
	diag_release(&d);
	scenario_free(s);
}

/*
 * DeepSeek-V3's MTP module drafting one token accepted at 87.5 % (the report's 85-90 %, sec.
 * 5.4.3): a request of 16 output tokens samples one at prefill and takes the other 15 in 8
 * steps, 1.875 a step; its drafter's weights and KV cache take blocks from the cache.
 *
 * The drafter on each of the 8 GPUs (TP 8, EP 8) is one MoE layer plus the projection of
 * [h; emb] (7,168 x 14,336), sharing the model's embedding and head. Its weights in fp8, one
 * 4-byte scale per 128 x 128 block (1 + 4 / 16,384 = 1 + 2^-12 B a weight):
 *   attention q_a 1,536 x 7,168                  11,010,048
 *             q_b 128 x 192 x 1,536 / 8           4,718,592
 *             kv_a 576 x 7,168                     4,128,768
 *             kv_b 128 x 256 x 512 / 8             2,097,152
 *             o 7,168 x 16,384 / 8                14,680,064
 *   router 256 x 7,168                             1,835,008
 *   routed experts 32 x 3 x 7,168 x 2,048      1,409,286,144
 *   shared expert 3 x 7,168 x 2,048 / 8            5,505,024
 *   projection 2 x 7,168 x 7,168                 102,760,448
 *   sum                                        1,556,021,248 weights,
 * x (1 + 2^-12) = 1,556,401,136 B, plus the layer's four norms in bf16 (attention 7,168,
 * q_a 1,536, kv_a 512, MLP 7,168; 16,384 x 2 = 32,768 B): W = 1,556,433,904 B. Its latent
 * cache adds a 62nd layer's (512 + 64) x 2 = 1,152 B to the model's 61 x 1,152 = 70,272 B a
 * token: 71,424 B. Blocks of 16 tokens, from the same KV budget in both runs: plain
 * floor(budget / (16 x 70,272)), MTP floor((budget - W) / (16 x 71,424)).
 */
#define MTP_YAML "model: deepseek-v3\ncluster: {node: p5e.48xlarge, gpus: 8}\n" \
	"strategy: {tp: 8, ep: 8}\n" \
	"workload: {mode: infer, seq_len: 4096, dtype: fp8, requests: 4,\n" \
	"  prompt_tokens: {value: 128}, output_tokens: {value: 16}}\n" \
	"serving: {speculative: {method: %s, tokens: 1, acceptance: [0.875]}}\n"

static void mtp_steps_yield_the_second_token_rate(void **state)
{
	struct scenario *s = check_scenariof("mtp", MTP_YAML, "mtp");
	struct scenario *plain = check_scenariof("nomtp", MTP_YAML, "none");
	struct speculative *sp = new_speculative(s);
	struct run_result rr, rp;
	double w = 1556021248.0 * (1 + 1.0 / 4096) + 32768, budget = 0, kv = 0;
	(void)state;
	serve_it(s, &rr);
	serve_it(plain, &rp);
	check_rel(rr.serve.spec_steps, 4 * 8, 1e-15);
	check_rel(rr.serve.spec_tokens_per_step, 1.875, 1e-15);
	assert_true(rr.serve.draft_s > 0);
	speculative_memory(sp, &budget, &kv);
	check_rel(-budget, 1556433904.0, 1e-15);
	check_rel(-budget, w, 1e-15);
	check_rel(kv, 1152, 1e-15);
	check_rel(rp.memory.kv_bytes_per_token, 70272, 1e-15);
	assert_true(rr.memory.kv_budget == rp.memory.kv_budget);
	assert_int_equal(rp.serve.kv_blocks_total,
			 (int64_t)floor(rp.memory.kv_budget / (16 * 70272.0)));
	assert_int_equal(rr.serve.kv_blocks_total,
			 (int64_t)floor((rr.memory.kv_budget - w) / (16 * 71424.0)));
	assert_true(rr.serve.kv_blocks_total < rp.serve.kv_blocks_total);
	print_message("MTP TPOT %.3f ms, plain %.3f ms: %.2fx\n", rr.serve.tpot.mean * 1e3,
		      rp.serve.tpot.mean * 1e3, rp.serve.tpot.mean / rr.serve.tpot.mean);
	speculative_free(sp);
	run_result_release(&rr);
	run_result_release(&rp);
	scenario_free(s);
	scenario_free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_step_yields_one_plus_the_cumulative_rates),
		cmocka_unit_test(accepted_tokens_carry_the_fraction_between_steps),
		cmocka_unit_test(verification_widens_the_decode_batch),
		cmocka_unit_test(an_eagle_step_costs_its_drafts_plus_a_wider_verify),
		cmocka_unit_test(mtp_steps_yield_the_second_token_rate),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
