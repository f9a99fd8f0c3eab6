/*
 * scenario: the validated configuration of one run — model, cluster, workload, strategy, runtime —
 * loaded from a scenario file with its presets (topologies/, scenarios/models/, HuggingFace
 * config.json) and --set overrides. Input stage: it knows YAML trees and the schema, nothing of
 * memory, time or events. Its structs are plain data every later stage reads.
 */
#ifndef DSSIM_SCENARIO_H
#define DSSIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "xalloc.h"

enum mode { MODE_TRAIN, MODE_INFER };
enum dtype { DTYPE_FP32, DTYPE_TF32, DTYPE_BF16, DTYPE_FP16, DTYPE_FP8, DTYPE_INT8, DTYPE_INT4,
	     DTYPE_COUNT };
enum optimizer_kind { OPTIMIZER_ADAMW, OPTIMIZER_ADAM, OPTIMIZER_SGD, OPTIMIZER_SGD_MOMENTUM,
		      OPTIMIZER_ADAM_8BIT, OPTIMIZER_ADAFACTOR };
enum recompute_kind { RECOMPUTE_NONE, RECOMPUTE_SELECTIVE, RECOMPUTE_FULL };
enum schedule_kind { SCHEDULE_GPIPE, SCHEDULE_1F1B, SCHEDULE_INTERLEAVED };
enum offload_kind { OFFLOAD_NONE, OFFLOAD_CPU };
enum mlp_kind { MLP_SWIGLU, MLP_GELU, MLP_RELU };
enum norm_kind { NORM_RMSNORM, NORM_LAYERNORM };
enum position_kind { POSITION_ROPE, POSITION_LEARNED };
enum link_kind { LINK_NVLINK, LINK_XGMI, LINK_PCIE };
enum lora_targets { LORA_ATTENTION, LORA_ALL };
enum logits_kind { LOGITS_LAST, LOGITS_ALL };
enum arrival_kind { ARRIVAL_POISSON, ARRIVAL_GAMMA, ARRIVAL_CONSTANT, ARRIVAL_TRACE };
enum length_dist { LENGTH_FIXED, LENGTH_UNIFORM, LENGTH_NORMAL, LENGTH_LOGNORMAL };
enum preemption_kind { PREEMPT_RECOMPUTE, PREEMPT_SWAP };
enum batching_kind { BATCHING_CONTINUOUS, BATCHING_STATIC };
enum router_kind { ROUTER_ROUND_ROBIN, ROUTER_LEAST_OUTSTANDING };

struct model_config {
	char *name;
	char *arch;
	int64_t layers, hidden, heads, kv_heads, head_dim, ffn, vocab, max_position;
	int position;              /* enum position_kind */
	int mlp;                   /* enum mlp_kind */
	int norm;                  /* enum norm_kind */
	bool tie_embeddings, bias, qkv_bias, dropout;
	struct {
		int64_t q_lora_rank, kv_lora_rank, qk_nope_head_dim, qk_rope_head_dim, v_head_dim;
	} mla;
	struct {
		int64_t experts, shared_experts, top_k, ffn, dense_layers;
		double capacity_factor;
	} moe;
	double published_params, published_active_params;
};

/* A short list of numbers from the input (efficiency curves). */
enum { NUMLIST_MAX = 16 };
struct numlist {
	int n;
	double v[NUMLIST_MAX];
};

struct gpu_spec {
	char *name;
	char *vendor;
	double memory;             /* bytes */
	double memory_bw;          /* bytes/s */
	double flops[DTYPE_COUNT]; /* dense peak FLOP/s per dtype; 0 = not supported */
	double tdp;                /* W */
	struct {
		struct numlist gemm_flops;    /* GEMM sizes (FLOPs per call), ascending */
		struct numlist gemm_fraction; /* fraction of dense peak reached at each size */
		double memory;                /* fraction of memory_bw reached by streaming kernels */
		double attention;             /* fraction of peak reached by fused attention */
		int64_t tile_m, tile_n;       /* GEMM output tile (wave quantization) */
	} efficiency;
	int64_t sms;                      /* streaming multiprocessors (compute units) */
};

struct link_spec {
	int kind;                  /* enum link_kind (GPU links only) */
	double bw;                 /* bytes/s, per direction */
	double latency;            /* s */
	double efficiency;         /* fraction of bw that collectives reach (NCCL bus bandwidth) */
};

struct node_spec {
	char *name;
	char *provider;
	struct gpu_spec gpu;
	int64_t gpus_per_node;
	double host_memory, host_memory_bw;
	int64_t cpus;
	struct link_spec gpu_link, pcie, network;
	double price;              /* USD/h for the node, 0 = unknown */
	char *price_date, *price_source;
};

struct cluster {
	struct node_spec node;
	int64_t nodes;
	int64_t gpus;              /* GPUs used: nodes * gpus_per_node unless set */
};

struct workload {
	int mode;                  /* enum mode */
	int64_t seq_len, global_batch, micro_batch;
	int dtype;                 /* enum dtype: compute/weight type */
	int kv_dtype;              /* enum dtype */
	int grad_dtype;            /* enum dtype */
	int optimizer;             /* enum optimizer_kind */
	bool flash_attention;
	int logits;                /* enum logits_kind: positions a prefill projects to logits */
	int64_t quant_group;       /* weights per quantization scale (int8/int4/fp8 weights) */
	struct {
		int64_t rank;
		int targets;       /* enum lora_targets */
	} lora;
	/* Inference serving: the request stream. */
	int64_t requests;          /* requests to serve (a bound when duration is set) */
	double duration;           /* s of arrivals; 0 = until `requests` have arrived */
	int64_t seed;              /* of the random stream (GSL mt19937) */
	struct {
		int process;       /* enum arrival_kind */
		double rate;       /* requests/s; 0 = all at time 0 */
		double cv;         /* gamma: coefficient of variation of the gaps */
		char *trace;       /* CSV: arrival_s,prompt_tokens,output_tokens */
	} arrival;
	struct length_spec {
		int dist;          /* enum length_dist */
		int64_t value, min, max;  /* max 0 = seq_len */
		double mean, sd;
	} prompt_tokens, output_tokens;
};

/* A vLLM-style serving engine (inference). */
struct serving {
	int64_t max_num_seqs;      /* sequences in one iteration */
	int64_t max_batched_tokens;/* tokens in one iteration */
	int64_t block_size;        /* tokens per KV-cache block */
	double gpu_memory_utilization; /* fraction of device memory the engine may use */
	bool chunked_prefill;
	int preemption;            /* enum preemption_kind */
	int batching;              /* enum batching_kind */
	double swap_space;         /* bytes of host memory per GPU for swapped KV blocks */
	double iteration_overhead; /* s of host work (scheduling, sampling) per iteration */
	int router;                /* enum router_kind: which dp replica gets a request */
};

struct strategy {
	int64_t tp, pp, dp, cp, ep, zero, vp;
	int64_t first_stage_layers, last_stage_layers; /* 0: an even split */
	bool sequence_parallel;
	int recompute;             /* enum recompute_kind */
	int schedule;              /* enum schedule_kind */
	struct {
		int optimizer, params; /* enum offload_kind */
	} offload;
	double bucket;             /* bytes of a gradient communication bucket */
	bool overlap_grad_reduce;  /* reduce gradient buckets during the last backward */
	int64_t zero3_prefetch_layers;
};

struct runtime {
	double cuda_context;       /* bytes */
	double nccl_per_group;     /* bytes per communicator a GPU belongs to */
	double cublas_workspace;   /* bytes */
	double allocator_reserve;  /* fraction of allocated bytes held by the caching allocator */
	double cpu_adam_rate;      /* parameters per second a node's CPUs update (offloaded Adam) */
};

struct scenario {
	struct arena *arena;       /* owns every string and array below */
	char *name;
	const char *file;          /* the scenario file as given */
	struct model_config model;
	struct cluster cluster;
	struct workload workload;
	struct strategy strategy;
	struct serving serving;
	struct runtime runtime;
	struct mark *marks;        /* where each schema row's value came from (by row index) */
	bool *present;             /* whether each row was given (not defaulted) */
};

struct scenario_override {
	const char *key;           /* dotted key */
	const char *value;         /* scalar text */
};

struct scenario_options {
	const struct scenario_override *overrides;
	size_t noverrides;
	const char *data_dir;      /* extra preset root ($DSSIM_DATA), or NULL */
	bool defer_strategy;       /* leave the strategy unchecked (dp stays as given): a sweep
				      sets each candidate and calls scenario_check_strategy */
};

/*
 * Load a scenario file with its presets and overrides, validate it, derive defaults (dp, head_dim,
 * gpus). Returns a new scenario, or NULL with every problem found recorded in d.
 */
struct scenario *scenario_load(const char *path, const struct scenario_options *opt,
			       struct diag *d);
/* The same for a scenario mapping inside another document (a validation case, a sweep); file
 * names where it came from. The tree must outlive the call only. */
struct ynode;
struct scenario *scenario_load_tree(const struct ynode *top, const char *file,
				    const struct scenario_options *opt, struct diag *d);
void scenario_free(struct scenario *s);

/* Check the strategy (and what it asks of the workload's batch) against the model and cluster,
 * as loading does: derives dp and global_batch when 0. 0, or -1 with the problems in d. */
int scenario_check_strategy(struct scenario *s, struct diag *d);

/* The canonical configuration: every key's value as one JSON object (the name left out). Two scenarios that simulate alike give the same text. Caller frees. */
char *scenario_canonical(const struct scenario *s);
/* The canonical form is two parts, joined: the keys a sweep varies per point (strategy.*,
 * workload.micro_batch and global_batch) after all the others, so a sweep formats the rest
 * once per group. Each part is "key":value pairs without braces; join gives the whole. */
bool scenario_is_strategy_key(const char *key);
char *scenario_canonical_part(const struct scenario *s, bool strategy);
char *scenario_canonical_join(const char *rest, const char *strategy);

/* The mark recorded for a dotted key (the file top when the key was defaulted). */
struct mark scenario_mark(const struct scenario *s, const char *key);

/* Whether the input gave the dotted key (rather than its default). */
bool scenario_given(const struct scenario *s, const char *key);

/* Names of enum values for printing ("bf16", "1f1b", …). */
const char *scenario_dtype_name(int dtype);
const char *scenario_enum_name(const char *key, int value);

/* The directory searched last for presets: the installed data (pkgdatadir). */
const char *scenario_installed_data_dir(void);

#endif
