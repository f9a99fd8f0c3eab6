/*
 * overhead: a serving iteration's host and launch costs. Domain stage.
 *
 * Host work per iteration (schedule, prepare inputs, sample, detokenize, stream): a fixed part
 * and parts per scheduled and per sampling sequence, as the engine profiles measure them (each
 * figure cited in its topologies/engines/ profile). It runs between two forward passes — the GPU
 * waits for it (vLLM RFC #6854: "GPU is often idle, waiting for CPU operations") — unless the
 * engine prepares iteration n+1 while the GPU runs iteration n (NanoFlow, Zhu et al. 2024,
 * sec. 4; SGLang v0.4's overlap scheduler), which hides it up to the previous iteration's GPU
 * time: exposed = max(0, host - prev_gpu).
 *
 * Kernel launches: launches_per_layer kernels per layer plus the two TP all-reduces when
 * tp > 1 (Megatron-LM, Shoeybi et al. 2019, sec. 3: one after attention, one after the MLP),
 * each costing launch_overhead of host time. They are queued ahead of the GPU, so an iteration
 * takes the longer of its GPU work and its launches. A decode-only batch replayed as a CUDA
 * graph launches once per pipeline stage instead. A speculative drafter's layers launch the
 * same kernels (its passes one graph each).
 */
#include "overhead.h"

void overhead_iteration(const struct scenario *s, const struct overhead_batch *b, double gpu,
			double prev_gpu, struct overhead_split *out)
{
	const struct serving *v = &s->serving;
	double layers = (double)s->model.layers, launches;
	double most = (double)v->cuda_graph_max_batch;
	bool graph = v->cuda_graphs && b->decode_only && (most == 0 || b->sequences <= most);
	out->host = v->scheduler_overhead + v->scheduler_per_seq * b->sequences +
		    v->sampling_per_seq * b->sampled;
	out->exposed_host = out->host;
	if (v->overlap_scheduler)
		out->exposed_host = out->host > prev_gpu ? out->host - prev_gpu : 0;
	if (graph)
		launches = (double)s->strategy.pp + b->draft_passes;
	else
		launches = (layers + b->draft_layers) *
			   (double)(v->launches_per_layer + (s->strategy.tp > 1 ? 2 : 0));
	out->launch = launches * v->launch_overhead;
	out->launch_excess = out->launch > gpu ? out->launch - gpu : 0;
	out->total = out->exposed_host + out->launch_excess + v->iteration_overhead;
}
