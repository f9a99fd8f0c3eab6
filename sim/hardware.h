/*
 * hardware: what a run computes on — the GPU (peaks per number format, memory, efficiency
 * curves), the node (GPUs, host memory and CPUs, price) and its links (GPU-to-GPU, PCIe, network).
 * Input stage, plain data: the loader fills it from the cluster.* keys and every later stage reads
 * it; it knows nothing of models, strategies, YAML or the schema.
 */
#ifndef DSSIM_HARDWARE_H
#define DSSIM_HARDWARE_H

#include <stdint.h>

#include "diag.h"

/* Which fused attention kernel a framework runs: the GPU generation's own (cuDNN's fused
 * attention, FlashAttention-3 on Hopper; efficiency.attention), FlashAttention-2, written for
 * Ampere (efficiency.attention_flash2), or FlashAttention-1 and its Triton port (half
 * FlashAttention-2's rate; compute.c). */
enum attention_kernel { ATTENTION_FUSED, ATTENTION_FLASH2, ATTENTION_FLASH1 };

/* Number formats: of the GPU's peaks, and of a workload's weights, activations and caches. */
enum dtype { DTYPE_FP32, DTYPE_TF32, DTYPE_BF16, DTYPE_FP16, DTYPE_FP8, DTYPE_INT8, DTYPE_INT4,
	     DTYPE_COUNT };
enum link_kind { LINK_NVLINK, LINK_XGMI, LINK_PCIE };

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
		struct numlist fp8_gemm_flops;    /* the same for FP8 GEMMs (empty: unknown) */
		struct numlist fp8_gemm_fraction; /* fraction of the FP8 peak */
		double memory;                /* fraction of memory_bw reached by streaming kernels */
		double attention;             /* fraction of peak reached by fused attention */
		double attention_flash2;      /* the same for FlashAttention-2 kernels (0: as fused) */
		double kernel_latency;        /* s of GPU time per kernel beyond its roofline */
		int64_t tile_m, tile_n;       /* GEMM output tile (wave quantization) */
	} efficiency;
	int64_t sms;                      /* streaming multiprocessors (compute units) */
};

struct link_spec {
	enum link_kind kind;       /* GPU links only */
	double bw;                 /* bytes/s, per direction */
	double latency;            /* s */
	double efficiency;         /* fraction of bw that collectives reach (NCCL bus bandwidth) */
	/* nccl-tests all_reduce_perf bus bandwidth over bw, by message size (the size column,
	 * bytes, ascending); empty: the fallback curve in collective.c. */
	struct numlist busbw_bytes, busbw_fraction;
	/* Nodes the network's curve was measured on (network only): a ring over more pays
	 * NCCL's latency for the extra steps (collective.c). */
	int64_t busbw_nodes;
};

/* How a node's price is sold (cluster.node.price_kind): on demand, an EC2 Capacity Block (a
 * reservation for a fixed span), spot (can be taken back) or reserved (a term commitment). */
enum price_kind { PRICE_ON_DEMAND, PRICE_CAPACITY_BLOCK, PRICE_SPOT, PRICE_RESERVED };

struct node_spec {
	char *name;
	char *provider;
	struct gpu_spec gpu;
	int64_t gpus_per_node;
	double host_memory, host_memory_bw;
	double host_memcpy_bw, host_fault_bw; /* one host thread: memcpy, first touch (B/s) */
	int64_t cpus;
	struct link_spec gpu_link, pcie, network;
	double price;              /* USD/h for the node, 0 = unknown */
	char *price_date, *price_source;
	enum price_kind price_kind;
};

/* The cluster: `nodes` nodes alike, of which `gpus` GPUs are used. */
struct hardware {
	struct node_spec node;
	int64_t nodes;
	int64_t gpus;              /* GPUs used: nodes * gpus_per_node unless set */
};

/*
 * The relations between hardware keys that a key's own range cannot express, each problem
 * recorded in d at mark_of(ctx, key) (the loader knows where each dotted key came from).
 * hardware_check_gpu: one efficiency fraction per GEMM size, sizes ascending.
 * hardware_check_cluster: the GPUs used fit the nodes (every GPU when there are several
 * nodes), derives gpus when 0; each link's bus bandwidth curve has one fraction per size,
 * sizes ascending. Both return 0, or -1 with the problems in d.
 */
int hardware_check_gpu(const struct gpu_spec *gpu, struct diag *d,
		       struct mark (*mark_of)(const void *ctx, const char *key), const void *ctx);
int hardware_check_cluster(struct hardware *hw, struct diag *d,
			   struct mark (*mark_of)(const void *ctx, const char *key),
			   const void *ctx);

#endif
