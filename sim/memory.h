/*
 * memory: the analytic per-GPU and per-host memory breakdown of a scenario, for every distinct
 * GPU role (pipeline stage), whether it fits, and the largest micro-batch (train) or number of
 * KV-cache tokens (inference) that fits. Domain stage: reads struct scenario, model and layout;
 * knows nothing of events or time. Later the simulated peak is checked against this.
 */
#ifndef DSSIM_MEMORY_H
#define DSSIM_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "scenario.h"

enum memory_part {
	MEMORY_WEIGHTS,
	MEMORY_GRADIENTS,
	MEMORY_OPTIMIZER,      /* fp32 master weights and optimizer states */
	MEMORY_ACTIVATIONS,    /* saved for backward (train) or transient workspace (infer) */
	MEMORY_KV_CACHE,
	MEMORY_BUFFERS,        /* communication buckets, gathered ZeRO-3 layers, p2p buffers */
	MEMORY_OVERHEAD,       /* CUDA context, NCCL, cuBLAS workspace, allocator reserve */
	MEMORY_PARTS
};

struct memory_role {
	int64_t first_stage, last_stage;  /* pipeline ranks that share this breakdown */
	int64_t layers, moe_layers;
	bool has_embedding, has_head;
	double params;                    /* parameters per GPU before ZeRO sharding */
	double trainable;                 /* of them, those that train: all, or LoRA's adapters */
	double updated;                   /* trainable elements this GPU's optimizer steps: its
					     ZeRO shard, experts' over the expert-data-parallel
					     ranks and the rest over the data-parallel ones */
	double expert_share;              /* of the trainable elements, the experts' share */
	double inflight;                  /* micro-batches of activations held */
	/* The activations part split by origin (train): the layers' saved tensors, the embedding
	 * and output layer, and the layer being recomputed in backward. */
	double act_layers, act_outer, act_recompute;
	double act_saved_per_mb;          /* the layers' saved tensors of one micro-batch, all the
					     stage's layers, wherever they wait (host or GPU) */
	double act_embed_per_mb, act_head_per_mb; /* the embedding's and the head's share, one
						     micro-batch each */
	double part[MEMORY_PARTS];        /* bytes per GPU */
	double total;
	double host;                      /* host bytes per GPU (offload) */
};

/*
 * The share of a GPU's memory a training step may fill without the caching allocator's retries
 * (and the share it keeps free): torchtune's developers advise 85-90 % "while ensuring no
 * retries as the optimal path to max throughput" (meta-pytorch/torchtune PR #1360, review of
 * torchtune/utils/memory.py, 2024-08-21). Past it PyTorch's caching allocator may find no
 * free block, release its cache (a device synchronisation) and call cudaMalloc again;
 * PyTorch's FSDP post names that the "largest bottleneck" of its 1T run, and pytorch/pytorch
 * issue #104509 measured 7.3 s a step with 46 such retries against 5.0 s without. How many a
 * step makes depends on the order of its allocations, which dssim does not simulate: the
 * output notes a step past it, the memory report gives the largest micro-batch within it
 * (max_micro_batch_kept), dssim report notes its chosen rows past it, and dssim plan keeps
 * training within it by default.
 */
#define MEMORY_KEEP_FREE 0.10
#define MEMORY_ALLOCATOR_SHARE (1 - MEMORY_KEEP_FREE)

struct memory_report {
	struct model_params params;
	struct memory_role *roles;        /* owned; memory_report_release frees */
	size_t nroles;
	size_t worst;                     /* index of the most loaded role */
	double capacity;                  /* device memory per GPU */
	bool fits;
	double headroom;                  /* capacity - worst total (negative on a misfit) */
	double host_per_node, host_capacity;
	bool host_fits;
	int64_t max_micro_batch;          /* train: largest micro-batch that fits, 0 if none */
	int64_t max_micro_batch_kept;     /* train: largest within MEMORY_ALLOCATOR_SHARE */
	double max_kv_tokens;             /* infer: KV tokens that fit (vLLM's budget) */
	double kv_bytes_per_token;        /* infer: per GPU, all layers of the stage */
	double kv_budget;                 /* infer: capacity*utilization - everything but KV */
	double profile_workspace;         /* infer: activation peak of vLLM's profiling pass */
	char advice[256];                 /* on a misfit: the first change that fits, trying
					     cheaper ones first (ZeRO, recompute, offload, TP, PP) */
};

/* The breakdown of one pipeline stage at the scenario's micro-batch (what memory_build groups
 * into roles); the event engine allocates from it. */
void memory_stage(const struct scenario *s, int64_t stage, struct memory_role *out);

/* What a sweep needs to screen a point before simulating it: the most loaded GPU's total and
 * parts, and the host memory per node, without the breakdown's searches and advice. */
struct memory_screen {
	double peak;                      /* bytes on the most loaded GPU */
	double part[MEMORY_PARTS];        /* its breakdown */
	double capacity;
	bool fits;
	double host_per_node, host_capacity;
	bool host_fits;
};
void memory_screen(const struct scenario *s, struct memory_screen *out);

/* Build the breakdown. Returns 0, or -1 when a GSL search fails (message in r->advice). */
int memory_build(const struct scenario *s, struct memory_report *r);
void memory_report_release(struct memory_report *r);

/* The name of a part as used in JSON and tables ("weights", "kv_cache", ...). */
const char *memory_part_name(enum memory_part p);

/* Bytes per weight of a linear layer stored in dtype, with the scales of `group` weights each
 * (int8/int4 group-wise, fp8 128x128 blocks). */
double memory_weight_bytes(enum dtype dtype, double group);

/* Bytes of one FP8 activation element with its share of the scales: 1 with one scale per tensor
 * (delayed scaling), 1 + 4/128 with an fp32 scale per 1x128 tile (DeepSeek-V3 report sec.
 * 3.3.1, workload.fp8_recipe: block). */
double memory_fp8_act_bytes(const struct scenario *s);

/* The MODEL_ACT_* bits of the saved tensors strategy.recompute_modules rebuilds in backward. */
unsigned memory_recomputed_acts(const struct scenario *s);

/* A serving scheduler's most running sequences: serving.max_num_seqs, or when that is 0 the
 * limit SGLang derives from its KV pool, the max_kv_tokens of m (memory_serve.c). */
int64_t memory_max_seqs(const struct scenario *s, const struct memory_report *m);

/* The busiest routed-expert instance's tokens over the mean: workload.moe_imbalance, or in
 * serving with serving.redundant_experts R its share once EPLB's greedy replication (each
 * redundant slot to the expert with the most load per copy) has split a hot expert among up
 * to 1 + R copies, never below the mean: max(1, imbalance / (1 + R)). */
double memory_busiest_expert(const struct scenario *s);

/* Routed experts held per EP rank: (experts + serving.redundant_experts) / ep in serving,
 * experts / ep in training. */
double memory_local_experts(const struct scenario *s);

/* Bytes of one KV-cache element: workload.kv_bits / 8 when given, else kv_dtype's. */
double memory_kv_elem_bytes(const struct scenario *s);

/* Bytes of one stored element of a dtype (int4 = 0.5), without quantization scales. */
/* Bytes of the optimizer's copy of one weight (workload.master_weights). */
double memory_master_bytes(const struct scenario *s);
double memory_dtype_bytes(enum dtype dtype);

/* Whether LoRA (workload.lora) puts an adapter on this tensor: attention projections, or every
 * projection with targets: all (routers, norms, embeddings and the head never). */
struct model_tensor;
bool memory_lora_target(const struct scenario *s, const struct model_tensor *t);

#endif
