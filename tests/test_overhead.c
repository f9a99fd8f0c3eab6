/*
 * test_overhead: a serving iteration's host and launch costs from the engine profile keys,
 * worked by hand: host time serial or hidden under the previous iteration's GPU time (the
 * overlap scheduler), launches hidden under the GPU work unless they outlast it, CUDA graphs
 * for decode-only batches up to their size limit, and serving.iteration_overhead on top.
 */
#include "check.h"

#include "overhead.h"
#include "scenario.h"

/* Llama-2-7B (32 layers) on tp 2 with an eager engine: 10 kernels per layer, 7 us each, 0.2 ms
 * per iteration, 20 us per scheduled and 10 us per sampling sequence. */
#define EAGER_YAML "model: llama-2-7b\ncluster: {node: p5.48xlarge, gpus: 2}\n" \
	"strategy: {tp: 2}\nworkload: {mode: infer, seq_len: 4096}\n" \
	"serving: {engine: {name: eager}, scheduler_overhead: 0.2 ms, scheduler_per_seq: 20 us,\n" \
	"  sampling_per_seq: 10 us, launches_per_layer: 10, launch_overhead: 7 us,\n" \
	"  cuda_graphs: %s, cuda_graph_max_batch: 64, overlap_scheduler: %s,\n" \
	"  iteration_overhead: %s}\n"

/*
 * 32 sequences decoding, 1 ms of GPU work: host 0.2 ms + 32 x 20 us + 32 x 10 us = 1.16 ms;
 * 32 layers x (10 + 2 TP all-reduces) x 7 us = 2.688 ms of launches, 1.688 ms past the GPU.
 */
static void eager_launches_outlast_a_short_gpu_iteration(void **state)
{
	struct scenario *s = check_scenariof("eager", EAGER_YAML, "false", "false", "0");
	struct overhead_batch b = {32, 32, true, 0, 0};
	struct overhead_split o;
	(void)state;
	overhead_iteration(s, &b, 1e-3, 5e-3, &o);
	check_rel(o.host, 1.16e-3, 1e-12);
	check_rel(o.exposed_host, 1.16e-3, 1e-12);
	check_rel(o.launch, 2.688e-3, 1e-12);
	check_rel(o.launch_excess, 1.688e-3, 1e-12);
	check_rel(o.total, 1.16e-3 + 1.688e-3, 1e-12);
	/* The same launches under 3 ms of GPU work cost nothing. */
	overhead_iteration(s, &b, 3e-3, 0, &o);
	check_rel(o.launch_excess + 1, 1, 1e-15);
	check_rel(o.total, 1.16e-3, 1e-12);
	scenario_free(s);
}

/* A decode-only batch of up to 64 sequences replays one CUDA graph: one launch of 7 us. A batch
 * of 65, or one with a prompt chunk, launches every kernel; serving.iteration_overhead (0.5 ms
 * here) is added on top. */
static void cuda_graphs_launch_once_up_to_their_batch_limit(void **state)
{
	struct scenario *s = check_scenariof("graphs", EAGER_YAML, "true", "false", "0.5 ms");
	struct overhead_batch b = {64, 64, true, 0, 0};
	struct overhead_split o;
	(void)state;
	overhead_iteration(s, &b, 1e-3, 0, &o);
	check_rel(o.launch, 7e-6, 1e-12);
	check_rel(o.total, 0.2e-3 + 64 * 30e-6 + 0.5e-3, 1e-12);
	b.sequences = b.sampled = 65;
	overhead_iteration(s, &b, 1e-3, 0, &o);
	check_rel(o.launch, 2.688e-3, 1e-12);
	b.sequences = b.sampled = 8;
	b.decode_only = false;
	overhead_iteration(s, &b, 1e-3, 0, &o);
	check_rel(o.launch, 2.688e-3, 1e-12);
	scenario_free(s);
}

/* The overlap scheduler hides host time under the previous iteration's GPU time: 1.16 ms of
 * host work after 5 ms of GPU work costs nothing, after 0.4 ms it costs 0.76 ms, after an idle
 * GPU all of it. */
static void the_overlap_scheduler_hides_host_time_under_the_last_gpu_work(void **state)
{
	struct scenario *s = check_scenariof("overlap", EAGER_YAML, "true", "true", "0");
	struct overhead_batch b = {32, 32, true, 0, 0};
	struct overhead_split o;
	(void)state;
	overhead_iteration(s, &b, 1e-3, 5e-3, &o);
	check_rel(o.host, 1.16e-3, 1e-12);
	check_rel(o.total + 1, 1, 1e-15);
	overhead_iteration(s, &b, 1e-3, 0.4e-3, &o);
	check_rel(o.exposed_host, 0.76e-3, 1e-12);
	overhead_iteration(s, &b, 1e-3, 0, &o);
	check_rel(o.exposed_host, 1.16e-3, 1e-12);
	scenario_free(s);
}

/* A speculative drafter's layers launch the same kernels: an EAGLE head's 3 passes of one layer
 * add 3 x (10 + 2) x 7 us to the 2.688 ms; replayed as graphs, 1 + 3 launches of 7 us. */
static void a_drafters_layers_and_passes_launch_too(void **state)
{
	struct scenario *s = check_scenariof("draft", EAGER_YAML, "true", "false", "0");
	struct overhead_batch b = {32, 32, false, 3, 3};
	struct overhead_split o;
	(void)state;
	overhead_iteration(s, &b, 1e-3, 0, &o);
	check_rel(o.launch, 2.688e-3 + 3 * 12 * 7e-6, 1e-12);
	b.decode_only = true;
	overhead_iteration(s, &b, 1e-3, 0, &o);
	check_rel(o.launch, 4 * 7e-6, 1e-12);
	scenario_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eager_launches_outlast_a_short_gpu_iteration),
		cmocka_unit_test(cuda_graphs_launch_once_up_to_their_batch_limit),
		cmocka_unit_test(the_overlap_scheduler_hides_host_time_under_the_last_gpu_work),
		cmocka_unit_test(a_drafters_layers_and_passes_launch_too),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
