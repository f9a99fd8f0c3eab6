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

/* Llama 3.1 405B as Meta and NeMo run it: 126 layers on pp 16 x vp 8, the first and last stage
 * one layer short. By hand: 126 - 7 - 7 = 112 layers over the 14 middle stages is 8 each, one per
 * chunk; the first stage's 7 leave its first chunk (global chunk 0) empty, the last stage's 7 its
 * last (global chunk 127). Chunk g = j*16 + r (rank r, virtual stage j) starts after the layers
 * of chunks 0..g-1: chunk 1 at 0, chunk 16 (rank 0, j 1) at 15, chunk 126 at 125. */
static struct scenario *llama_405b(const char *split)
{
	return check_scenariof("405b",
		"model: llama-3.1-405b\ncluster: {node: p5.48xlarge, nodes: 1024}\n"
		"workload: {seq_len: 8192, micro_batch: 1, global_batch: 2048}\n"
		"strategy: {tp: 8, pp: 16, vp: 8, schedule: interleaved, zero: 1,\n"
		"           sequence_parallel: true, recompute: full, %s}\n", split);
}

static void llama_405b_first_and_last_stage_drop_a_layer(void **state)
{
	struct scenario *s = llama_405b("first_stage_layers: 7, last_stage_layers: 7");
	struct scenario *a = llama_405b("account_for_embedding_in_pipeline_split: true,\n"
					"           account_for_loss_in_pipeline_split: true");
	struct layout l;
	struct stage st;
	int64_t i, j, g, begin, count, b2, c2, total = 0;
	(void)state;
	layout_build(s, &l);
	assert_int_equal(l.dp, 64);
	assert_int_equal(l.micro_batches, 32);
	for (i = 0; i < 16; i++) {
		layout_stage(s, &l, i, &st);
		assert_int_equal(st.layers, i == 0 || i == 15 ? 7 : 8);
		total += st.layers;
		for (j = 0; j < 8; j++) {
			layout_chunk(s, &l, j * 16 + i, &begin, &count);
			assert_int_equal(count, (i == 0 && j == 0) || (i == 15 && j == 7) ? 0 : 1);
		}
	}
	assert_int_equal(total, 126);
	layout_chunk(s, &l, 1, &begin, &count);
	assert_int_equal(begin, 0);
	layout_chunk(s, &l, 16, &begin, &count);
	assert_int_equal(begin, 15);
	layout_chunk(s, &l, 126, &begin, &count);
	assert_int_equal(begin, 125);
	/* Megatron's account_for_embedding / _loss: (126 + 2) / 128 = 1 layer per chunk, less the
	 * embedding on chunk 0 and the loss on chunk 127: the same layout. */
	for (g = 0; g < 128; g++) {
		layout_chunk(s, &l, g, &begin, &count);
		layout_chunk(a, &l, g, &b2, &c2);
		assert_int_equal(begin, b2);
		assert_int_equal(count, c2);
	}
	/* In flight (Megatron schedules.py): stage 0 runs (16-0-1)*2 + 7*16 + 1 = 143 warm-up
	 * chunk-forwards, forward k on chunk (k/16) % 8: 16 on the empty chunk 0, 16 on each of
	 * chunks 1..7 (112 layer-forwards), 15 on chunk 0 again: 112 / 7 = 16 micro-batches of its
	 * layers. Stage 15: 0*2 + 112 + 1 = 113, 16 on each of chunks 0..6 and one on the empty
	 * chunk 7: 112 / 7 = 16. Stage 1 (even chunks): (16-1-1)*2 + 112 + 1 = 141 chunks of 1/8. */
	layout_stage(s, &l, 0, &st);
	check_rel(st.inflight, 16.0, 1e-12);
	layout_stage(s, &l, 15, &st);
	check_rel(st.inflight, 16.0, 1e-12);
	layout_stage(s, &l, 1, &st);
	check_rel(st.inflight, 141.0 / 8.0, 1e-12);
	scenario_free(a);
	scenario_free(s);
}

/* 10 layers on pp 4 with the first stage 1 and the last 3: the middle two hold (10-1-3)/2 = 3
 * each, layers 0 | 1-3 | 4-6 | 7-9. */
static void ten_layers_on_four_stages_first_one_last_three(void **state)
{
	struct scenario *s = check_scenario("ten",
		"model: {layers: 10, hidden: 4096, heads: 32, vocab: 8}\n"
		"cluster: {gpus: 4, node: {gpus_per_node: 8, gpu: {memory: 80 GiB, "
		"memory_bw: 2 TB/s, flops: {bf16: 312 TFLOPS}}}}\n"
		"workload: {seq_len: 2048, micro_batch: 1, global_batch: 8}\n"
		"strategy: {pp: 4, first_stage_layers: 1, last_stage_layers: 3}\n");
	const int64_t layers[4] = {1, 3, 3, 3}, begins[4] = {0, 1, 4, 7};
	struct layout l;
	struct stage st;
	int64_t i, begin, count;
	(void)state;
	layout_build(s, &l);
	for (i = 0; i < 4; i++) {
		layout_stage(s, &l, i, &st);
		layout_chunk(s, &l, i, &begin, &count);
		assert_int_equal(st.layers, layers[i]);
		assert_int_equal(count, layers[i]);
		assert_int_equal(begin, begins[i]);
		/* 1F1B: stage i holds min(4 - i, 8) micro-batches. */
		check_rel(st.inflight, 4.0 - (double)i, 1e-12);
	}
	scenario_free(s);
}

/* The split a search proposes: middle ranks take the even share rounded up to a multiple of vp,
 * first and last share the rest, the first the odd layer. By hand: 126 on 16 x 8: 8 per middle
 * rank, 126 - 14*8 = 14 = 7 + 7; 64 on 3: 22, 64 - 22 = 42 = 21 + 21; 61 on 8 x 2: ceil(61/16)
 * = 4 per chunk, 8 per rank, 61 - 48 = 13 = 7 + 6; 63 on 2: 32 + 31; 10 on 8: 2 per middle
 * rank leaves 10 - 12 < 0, no split. */
static void uneven_split_puts_the_remainder_on_first_and_last(void **state)
{
	int64_t f = 0, la = 0;
	(void)state;
	assert_true(scenario_uneven_split(126, 16, 8, &f, &la));
	assert_int_equal(f, 7);
	assert_int_equal(la, 7);
	assert_true(scenario_uneven_split(64, 3, 1, &f, &la));
	assert_int_equal(f, 21);
	assert_int_equal(la, 21);
	assert_true(scenario_uneven_split(61, 8, 2, &f, &la));
	assert_int_equal(f, 7);
	assert_int_equal(la, 6);
	assert_true(scenario_uneven_split(63, 2, 1, &f, &la));
	assert_int_equal(f, 32);
	assert_int_equal(la, 31);
	assert_false(scenario_uneven_split(10, 8, 1, &f, &la));
	assert_false(scenario_uneven_split(10, 1, 1, &f, &la));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_f_one_b_stage_i_holds_p_minus_i),
		cmocka_unit_test(few_micro_batches_cap_what_is_in_flight),
		cmocka_unit_test(gpipe_holds_every_micro_batch),
		cmocka_unit_test(interleaving_adds_the_korthikanti_factor),
		cmocka_unit_test(uneven_stages_place_dense_and_moe_layers),
		cmocka_unit_test(llama_405b_first_and_last_stage_drop_a_layer),
		cmocka_unit_test(ten_layers_on_four_stages_first_one_last_three),
		cmocka_unit_test(uneven_split_puts_the_remainder_on_first_and_last),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
