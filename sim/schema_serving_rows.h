/*
 * schema_serving_rows.h: the serving.* rows of the scenario schema (sim/schema.c), kept apart
 * to keep schema.c small. Included once, inside schema.c's row table, after its row macros;
 * not a header of its own.
 */
	SECTION("serving", PRESET_NONE, "a vLLM-style serving engine (infer)"),
	/* vLLM defaults (vllm/engine/arg_utils.py): gpu_memory_utilization 0.9, swap_space 4 GiB,
	 * max_num_seqs 256 (V0; V1 raises it to 1024 on >= 70 GiB GPUs other than A100);
	 * max_num_batched_tokens 8192 for V1's API server on >= 70 GiB GPUs (2048 on smaller ones
	 * and A100); block_size 16 on CUDA (vllm/platforms/cuda.py). One GPU-independent set is
	 * kept here: set them to match the vLLM version served. */
	INT("serving.max_num_seqs", 0, 1 << 24, "256",
	    "most sequences in one iteration; 0 = SGLang's limit from the KV pool",
	    serving.max_num_seqs),
	INT("serving.max_batched_tokens", 1, 1LL << 32, "8192", "most tokens in one iteration",
	    serving.max_batched_tokens),
	/* vLLM V0 --num-scheduler-steps (multi-step scheduling, v0.6): the scheduler runs once per
	 * that many decode steps, so a request that arrives between waits for the batch's steps. */
	INT("serving.scheduler_steps", 1, 1024, "1",
	    "decode steps per scheduling: new requests join only every that many iterations",
	    serving.scheduler_steps),
	INT("serving.block_size", 1, 1 << 20, "16", "tokens per KV-cache block",
	    serving.block_size),
	NUM("serving.gpu_memory_utilization", UNIT_FRACTION, 0.01, 1, false, "0.9",
	    "fraction of device memory the engine may use (weights, workspace, KV cache)",
	    serving.gpu_memory_utilization),
	BOOL("serving.chunked_prefill", "true",
	     "split long prompts over iterations and mix them with decodes",
	     serving.chunked_prefill),
	/* vLLM V0's _schedule_default runs no decodes in a step that prefills; its chunked-prefill
	 * scheduler and V1 mix them; SGLang mixes only with --enable-mixed-chunk (engine profiles). */
	ENUM("serving.mixed_prefill", mixed_prefill_names, "always",
	     "decodes run in an iteration that prefills: always, never (prompts run alone), or "
	     "only under chunked prefill", serving.mixed_prefill),
	/* DeepSeek-V3 report sec. 3.4.1: the prefill deployment adds 32 redundant experts, copies of
	 * high-load experts, to balance the EP ranks. */
	INT("serving.redundant_experts", 0, 1048576, "0",
	    "extra copies of the busiest routed experts over the EP ranks (MoE)",
	    serving.redundant_experts),
	ENUM("serving.preemption", preemption_names, "recompute",
	     "when KV blocks run out: drop the newest sequence's cache (recompute) or swap it to host",
	     serving.preemption),
	ENUM("serving.batching", batching_names, "continuous",
	     "continuous (admit every iteration) or static (a batch runs to its end)",
	     serving.batching),
	NUM("serving.swap_space", UNIT_BYTES, 0, BIG, false, "4 GiB",
	    "host memory per GPU for swapped-out KV blocks", serving.swap_space),
	NUM("serving.iteration_overhead", UNIT_SECONDS, 0, 1e3, false, "0",
	    "host time per iteration not overlapped with the GPU, added to the engine profile's",
	    serving.iteration_overhead),
	/* Ties go to the lowest replica index, so runs stay deterministic. */
	ENUM("serving.router", router_names, "round_robin",
	     "which dp replica gets each request: in turn, or the one with the fewest unfinished",
	     serving.router),
	/* The serving engine's profile (topologies/engines/NAME.yaml), layered over the presets
	 * like runtime.framework for training (issue 14). The keys after it default to an engine
	 * that costs nothing besides its GPU work; the profiles set them, each from its source. */
	STR("serving.engine", "vllm",
	    "serving engine profile: a name in topologies/engines/, a path or a mapping of "
	    "serving.* keys (the scenario's own keys win); applied when workload.mode is infer",
	    serving.engine),
	BOOL("serving.swap_preemption", "true",
	     "the engine can swap a preempted sequence's KV blocks to host memory "
	     "(serving.preemption: swap)", serving.swap_preemption),
	BOOL("serving.reserve_output", "false",
	     "admit a request only with KV blocks for its whole output, so none is preempted",
	     serving.reserve_output),
	/* SGLang's PrefillAdder (python/sglang/srt/managers/schedule_policy.py; sim/serve_admit.c):
	 * SGLANG_INIT_NEW_TOKEN_RATIO 0.7 in its profile. */
	NUM("serving.new_token_ratio", UNIT_FRACTION, 0, 1, false, "0",
	    "admit a request only while the free KV cache holds its prompt and output beyond this "
	    "share of every running request's remaining output, the share decaying as decodes "
	    "succeed (SGLang); 0: admit while its prompt's blocks are free (vLLM)",
	    serving.new_token_ratio),
	NUM("serving.request_overhead", UNIT_SECONDS, 0, 1e3, false, "0",
	    "time from a request's arrival to the engine's queue (API server, tokenization, "
	    "inter-process hand-off); TTFT and latency include it", serving.request_overhead),
	NUM("serving.scheduler_overhead", UNIT_SECONDS, 0, 1, false, "0",
	    "host time per iteration: scheduling, preparing inputs, processing outputs",
	    serving.scheduler_overhead),
	NUM("serving.scheduler_per_seq", UNIT_SECONDS, 0, 1, false, "0",
	    "host time per sequence scheduled in an iteration", serving.scheduler_per_seq),
	NUM("serving.sampling_per_seq", UNIT_SECONDS, 0, 1, false, "0",
	    "host time per sequence that samples a token (sampling, detokenizing, streaming)",
	    serving.sampling_per_seq),
	INT("serving.decode_heads_per_cta", 0, 1024, "0",
	    "query heads one decode-attention thread block computes from one read of their KV "
	    "head; a GQA group of more heads reads it again per block (0: the whole group)",
	    serving.decode_heads_per_cta),
	INT("serving.launches_per_layer", 0, 10000, "0",
	    "kernels a layer launches outside CUDA graphs (two more per layer with tp > 1)",
	    serving.launches_per_layer),
	NUM("serving.launch_overhead", UNIT_SECONDS, 0, 1, false, "0",
	    "host time per kernel launch; launches run ahead of the GPU, so an iteration takes "
	    "the longer of its GPU time and its launches", serving.launch_overhead),
	BOOL("serving.cuda_graphs", "false",
	     "decode-only iterations replay a captured CUDA graph: one launch per pipeline stage",
	     serving.cuda_graphs),
	INT("serving.cuda_graph_max_batch", 0, 1 << 24, "0",
	    "most sequences of a captured graph; larger decode batches launch eagerly (0: any)",
	    serving.cuda_graph_max_batch),
	BOOL("serving.overlap_scheduler", "false",
	     "the host prepares an iteration while the GPU runs the previous one (its host time "
	     "hides under that GPU time)", serving.overlap_scheduler),
	/* vLLM PR #7049 (v0.6.0), asynchronous output processor. */
	BOOL("serving.async_output", "false",
	     "an iteration's tokens are processed while the next iteration runs and reach the "
	     "client when it ends (TTFT and latency one iteration later)", serving.async_output),
	/* DeepSeek, "Inference System Overview" (2025-03-01), dual-batch overlap; SGLang
	 * --enable-two-batch-overlap. */
	BOOL("serving.two_batch_overlap", "false",
	     "with data-parallel attention (ep > tp), two micro-batches alternate so each MoE "
	     "layer's dispatch and combine hide under the other's compute", serving.two_batch_overlap),
	ENUM("serving.allreduce", allreduce_names, "nccl",
	     "TP all-reduce inside an NVLink node: NCCL, or a custom one-shot/two-shot kernel "
	     "(vLLM's or TensorRT-LLM's) timed from its published latencies", serving.allreduce),
	NUM("serving.custom_allreduce_max", UNIT_BYTES, 0, BIG, false, "0",
	    "largest all-reduce the custom kernel takes; larger ones go to NCCL",
	    serving.custom_allreduce_max),
	/* vLLM --speculative-config {method, num_speculative_tokens, model}; the rates are what
	 * vLLM logs as "Per-position acceptance rate" (sim/speculative.c). */
	SECTION("serving.speculative", PRESET_NONE, "speculative decoding (continuous batching)"),
	ENUM("serving.speculative.method", speculative_names, "none",
	     "draft (a small model), eagle (a one-layer head) or mtp (the model's MTP module)",
	     serving.speculative.method),
	INT("serving.speculative.tokens", 0, NUMLIST_MAX, "0", "K: tokens drafted per decode step",
	    serving.speculative.tokens),
	LIST("serving.speculative.acceptance", UNIT_FRACTION, 0, 1, "[]",
	     "K rates: the fraction of steps that accept draft i (vLLM's, cumulative)",
	     serving.speculative.acceptance),
	STR("serving.speculative.draft_model", "", "method draft: the draft's model preset",
	    serving.speculative.draft_model),
	/* Disaggregated prefill and decode (DistServe, Zhong et al. OSDI 2024; Mooncake; vLLM's
	 * disaggregated prefilling): a pool's replicas are tp GPUs each (ep divides tp). */
	SECTION("serving.pools", PRESET_NONE, "disaggregated prefill and decode pools (infer)"),
	POOL_ROWS("serving.pools.prefill", "the pool that runs prompts; gpus 0 = no pools",
		  serving.pools.prefill),
	INT("serving.pools.prefill.max_batched_tokens", 0, 1LL << 32, "0",
	    "most prompt tokens in one prefill iteration; 0 = serving.max_batched_tokens",
	    serving.pools.prefill.max_batched_tokens),
	POOL_ROWS("serving.pools.decode", "the pool that generates, fed KV caches over the links",
		  serving.pools.decode),
	INT("serving.pools.decode.max_num_seqs", 0, 1 << 24, "0",
	    "most sequences in one decode iteration; 0 = serving.max_num_seqs",
	    serving.pools.decode.max_num_seqs),
