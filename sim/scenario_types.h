/*
 * scenario_types: the plain structs of one run's configuration — model, cluster (hardware.h),
 * workload, serving engine, strategy, runtime — and their enums. Input stage, data only: the
 * schema table points into these structs and the loader (scenario.c) fills them; neither header
 * includes the other, so both include this one.
 */
#ifndef DSSIM_SCENARIO_TYPES_H
#define DSSIM_SCENARIO_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "hardware.h"

enum mode { MODE_TRAIN, MODE_INFER };
enum optimizer_kind { OPTIMIZER_ADAMW, OPTIMIZER_ADAM, OPTIMIZER_SGD, OPTIMIZER_SGD_MOMENTUM,
		      OPTIMIZER_ADAM_8BIT, OPTIMIZER_ADAFACTOR };
enum recompute_kind { RECOMPUTE_NONE, RECOMPUTE_SELECTIVE, RECOMPUTE_FULL };
/* How MoE tokens reach their experts: strategy.moe_dispatcher. */
enum moe_dispatcher { MOE_DISPATCH_AUTO, MOE_DISPATCH_ALLTOALL, MOE_DISPATCH_DEEPEP };
enum schedule_kind { SCHEDULE_GPIPE, SCHEDULE_1F1B, SCHEDULE_INTERLEAVED, SCHEDULE_ZB_H1,
		     SCHEDULE_ZB_V, SCHEDULE_DUALPIPE };
enum offload_kind { OFFLOAD_NONE, OFFLOAD_CPU };
enum zero3_unit_kind { ZERO3_UNIT_LAYER, ZERO3_UNIT_MODULE };
enum mlp_kind { MLP_SWIGLU, MLP_GELU, MLP_RELU };
enum norm_kind { NORM_RMSNORM, NORM_LAYERNORM };
enum position_kind { POSITION_ROPE, POSITION_LEARNED, POSITION_ALIBI };
enum lora_targets { LORA_ATTENTION, LORA_ALL };
enum logits_kind { LOGITS_LAST, LOGITS_ALL };
enum arrival_kind { ARRIVAL_POISSON, ARRIVAL_GAMMA, ARRIVAL_CONSTANT, ARRIVAL_TRACE };
enum length_dist { LENGTH_FIXED, LENGTH_UNIFORM, LENGTH_NORMAL, LENGTH_LOGNORMAL };
enum preemption_kind { PREEMPT_RECOMPUTE, PREEMPT_SWAP };
enum batching_kind { BATCHING_CONTINUOUS, BATCHING_STATIC };
enum router_kind { ROUTER_ROUND_ROBIN, ROUTER_LEAST_OUTSTANDING };
enum allreduce_kind { ALLREDUCE_NCCL, ALLREDUCE_VLLM, ALLREDUCE_TRTLLM };
enum mixed_prefill { MIXED_ALWAYS, MIXED_NEVER, MIXED_CHUNKED };
enum speculative_method { SPECULATIVE_NONE, SPECULATIVE_DRAFT, SPECULATIVE_EAGLE, SPECULATIVE_MTP };
enum ema_kind { EMA_NONE, EMA_DEVICE, EMA_HOST };
/* The optimizer's copy of the weights: fp32, the low 16 bits of an fp32 value whose high half
 * is the bf16 weight itself, a bf16 copy, or none (the 16-bit weights are updated in place). */
enum master_weights { MASTER_FP32, MASTER_REMAINDER, MASTER_BF16, MASTER_NONE };
enum fp8_recipe { FP8_DELAYED, FP8_BLOCK };

struct model_config {
	char *name;
	char *arch;
	int64_t layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_position;
	enum position_kind position;
	enum mlp_kind mlp;
	enum norm_kind norm;
	bool tie_embeddings, bias, qkv_bias, dropout;
	int64_t sliding_window;   /* tokens a windowed layer's queries attend back to; 0: none */
	int64_t global_every;     /* with a window, layers i with (i+1) % global_every == 0 attend
				     to the whole context; 0: every layer is windowed */
	int64_t attention_chunk;  /* tokens of the chunks a chunked layer's queries attend within
				     (Llama 4); 0: none. global_every names the global layers too */
	struct {
		int64_t q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim;
	} mla;
	struct {
		int64_t experts, shared_experts, top_k, ffn, dense_layers;
		int64_t n_group, topk_group; /* expert groups; groups a token may reach (0: all) */
		double capacity_factor;
	} moe;
	int64_t mtp_layers;        /* multi-token prediction modules (DeepSeek-V3 sec. 2.2) */
	double published_params, published_active_params;
};

struct workload {
	enum mode mode;
	int64_t seq_len, global_batch, micro_batch;
	enum dtype dtype;          /* compute/weight type */
	enum fp8_recipe fp8_recipe; /* how FP8 GEMM inputs are scaled */
	bool fp8_params;           /* GEMM weights stored in FP8 only (training) */
	enum dtype kv_dtype;
	int64_t kv_bits;           /* bits per KV-cache element with its scales; 0: kv_dtype's */
	enum dtype grad_dtype;
	enum optimizer_kind optimizer;
	enum dtype optimizer_state_dtype; /* Adam's moments (and SGD's momentum) */
	enum master_weights master_weights; /* the optimizer's copy of the weights */
	enum ema_kind ema;         /* an fp32 moving average of the weights, and where it lives */
	double moe_imbalance;      /* the busiest expert's routed tokens over the mean */
	bool flash_attention;
	int64_t document_len;      /* packed training sequences: mean document length; 0: one */
	enum logits_kind logits;  /* positions a prefill projects to logits */
	int64_t quant_group;       /* weights per quantization scale (int8/int4/fp8 weights) */
	struct {
		int64_t rank;
		enum lora_targets targets;
	} lora;
	struct {
		int64_t shared_tokens;     /* a prefix every prompt shares */
		double hit_rate;           /* fraction of prompt tokens that hit the cache */
	} prefix_cache;
	/* Inference serving: the request stream. */
	int64_t requests;          /* requests to serve (a bound when duration is set) */
	double duration;           /* s of arrivals; 0 = until `requests` have arrived */
	int64_t seed;              /* of the random stream (GSL mt19937) */
	struct {
		enum arrival_kind process;
		double rate;       /* requests/s; 0 = all at time 0 */
		double cv;         /* gamma: coefficient of variation of the gaps */
		char *trace;       /* CSV: arrival_s,prompt_tokens,output_tokens */
	} arrival;
	struct length_spec {
		enum length_dist dist;
		int64_t value, min, max;  /* max 0 = seq_len */
		double mean, sd;
	} prompt_tokens, output_tokens;
};

/* One pool of disaggregated serving (serving.pools.prefill / .decode): gpus 0 = no pools. */
struct serving_pool {
	int64_t gpus, tp, ep;
	int64_t max_batched_tokens, max_num_seqs;   /* 0: serving's own */
};

/* A vLLM-style serving engine (inference). */
struct serving {
	int64_t max_num_seqs;      /* sequences in one iteration */
	int64_t scheduler_steps;   /* iterations per scheduling (vLLM multi-step) */
	int64_t max_batched_tokens;/* tokens in one iteration */
	int64_t block_size;        /* tokens per KV-cache block */
	double gpu_memory_utilization; /* fraction of device memory the engine may use */
	bool chunked_prefill;
	enum mixed_prefill mixed_prefill; /* decodes in an iteration that prefills */
	enum preemption_kind preemption;
	enum batching_kind batching;
	double swap_space;         /* bytes of host memory per GPU for swapped KV blocks */
	int64_t redundant_experts; /* extra copies of hot experts spread over the EP ranks */
	double iteration_overhead; /* s of host work per iteration, on top of the profile's */
	enum router_kind router;   /* which dp replica gets a request */
	/* The engine profile (serving.engine, topologies/engines/) and the keys it sets. */
	char *engine;              /* the profile's name */
	bool swap_preemption;      /* the engine can swap a preempted sequence to host memory */
	bool reserve_output;       /* KV blocks for the whole output are reserved at admission */
	double request_overhead;   /* s from a request's arrival to the engine's queue */
	double new_token_ratio;    /* SGLang's admission: the initial reserve share; 0 = off */
	double scheduler_overhead; /* s of host time per iteration (schedule, prepare inputs) */
	double scheduler_per_seq;  /* s of host time per scheduled sequence */
	double sampling_per_seq;   /* s of host time per sampled sequence (sample, detokenize) */
	int64_t decode_heads_per_cta; /* query heads sharing one KV read in decode attention */
	int64_t launches_per_layer;/* kernels launched per layer outside CUDA graphs */
	double launch_overhead;    /* s of host time per kernel launch */
	bool cuda_graphs;          /* decode-only batches replay a captured CUDA graph */
	int64_t cuda_graph_max_batch; /* most sequences a captured graph holds; 0 = any */
	bool overlap_scheduler;    /* host work hides under the previous iteration's GPU time */
	bool async_output;         /* an iteration's tokens reach the client as the next one ends */
	bool two_batch_overlap;    /* DP attention: MoE all-to-alls hide under compute */
	enum allreduce_kind allreduce; /* TP all-reduce inside an NVLink node: NCCL or a custom
					* kernel */
	double custom_allreduce_max; /* bytes: larger all-reduces go to NCCL */
	/* Speculative decoding (vLLM --speculative-config). */
	struct {
		enum speculative_method method;
		int64_t tokens;            /* K: tokens drafted per decode step */
		struct numlist acceptance; /* vLLM's per-position acceptance rates, cumulative */
		char *draft_model;         /* method draft: a model preset */
		struct model_config *draft;   /* that model, loaded (in the scenario's arena) */
	} speculative;
	struct {
		struct serving_pool prefill, decode;
	} pools;                   /* disaggregated prefill and decode (serve_pools) */
};

struct strategy {
	int64_t tp, pp, dp, cp, ep, zero, vp;
	int64_t etp;          /* expert tensor parallel size; 0 in a file means tp */
	int64_t first_stage_layers, last_stage_layers; /* 0: an even split */
	bool account_embedding, account_loss; /* embedding / loss count as one layer of a stage */
	bool sequence_parallel;
	enum recompute_kind recompute;
	struct {
		bool norm, mla_up; /* outputs rebuilt in backward (DeepSeek-V3 sec. 3.2.3) */
		bool moe_act;      /* MoE SwiGLU outputs rebuilt (DeepSeek-V3 sec. 3.3.3) */
		bool mlp;          /* dense MLPs rebuilt from their inputs (Megatron "mlp") */
	} recompute_modules;
	enum schedule_kind schedule;
	struct {
		enum offload_kind optimizer, params;
		enum offload_kind activations;  /* the layers' saved activations */
	} offload;
	double bucket;             /* bytes of a gradient communication bucket */
	bool overlap_grad_reduce;  /* reduce gradient buckets during the last backward */
	bool overlap_param_gather; /* ZeRO-1/2: all-gather the weights under the next forward */
	bool tp_comm_overlap;      /* TP collectives beside the GEMMs (TE userbuffers) */
	bool tp_async_backward;    /* the backward's TP all-reduce (SP: reduce-scatter) of the
				      input gradients beside the weight-gradient GEMMs */
	bool overlap_moe_a2a;      /* pair interleaved 1F1B's forwards and backwards (Megatron) */
	enum moe_dispatcher moe_dispatcher;
	int64_t zero3_prefetch_layers;
	bool zero3_backward_prefetch; /* backward gathers issued a layer ahead too */
};

struct runtime {
	double cuda_context;       /* bytes */
	double nccl_per_group;     /* bytes per communicator a GPU belongs to */
	double cublas_workspace;   /* bytes */
	double allocator_reserve;  /* fraction of allocated bytes held by the caching allocator */
	double cpu_adam_rate;      /* parameters per second a node's CPUs update (offloaded Adam) */
	char *framework;           /* the framework profile's name */
	double kernel_overhead;    /* s per kernel launched */
	double fp8_gemm_scale;     /* share of the GPU's FP8 GEMM rate the FP8 recipe keeps */
	bool cuda_graphs;
	int64_t comm_sms;          /* SMs an overlapped collective takes from compute */
	double gather_overhead;    /* s per ZeRO-3/FSDP gather */
	bool reshard_after_forward;
	enum zero3_unit_kind zero3_unit; /* what ZeRO-3/FSDP gathers at once */
	double zero3_reuse_distance;     /* parameters; 0: kept from recompute to backward */
	bool zero3_copy_out;       /* FSDP2: each gathered unit is copied out into its parameters */
	bool activation_offload_overlap; /* offloaded activations copied on their own stream */
	bool activation_offload_pageable; /* ... into new pageable host memory each time */
	enum attention_kernel attention_kernel; /* fused attention's kernel family */
	struct {
		bool norm, bias_activation, rope, softmax, cross_entropy, optimizer;
		bool linear_bias;  /* a Linear's bias in its GEMM's epilogue */
		bool expert_bias;  /* routed experts' output bias as linear_bias says (false:
				      a kernel per expert, Megatron-Core's loop) */
		bool grad_accumulation; /* dW GEMMs accumulate into the gradient buffer (false:
					   an add kernel per micro-batch) */
	} fusion;
};

struct calibration;

struct scenario {
	struct arena *arena;       /* owns every string and array below */
	char *name;
	const char *file;          /* the scenario file as given */
	const char **inputs;       /* the preset and config files it read, ninputs of them */
	size_t ninputs;
	struct model_config model;
	struct hardware cluster;    /* the cluster.* keys */
	struct workload workload;
	struct strategy strategy;
	struct serving serving;
	struct runtime runtime;
	struct mark *marks;        /* where each schema row's value came from (by row index) */
	bool *present;             /* whether each row was given (not defaulted) */
	const struct calibration *calibration;   /* the one applied (calibration.h), or NULL */
};

#endif
