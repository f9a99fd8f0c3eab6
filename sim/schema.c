/*
 * schema: the table of scenario keys. Input stage. Add a key here and it is validated, defaulted,
 * documented in --help-keys and reported with its position in errors; nothing else changes.
 * Defaults that come from public sources cite them in the doc text or the comment beside the row.
 * The values themselves are checked and stored by schema_parse.c.
 */
#include "schema.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_types.h"

#define OFF(field) offsetof(struct scenario, field)
#define BIG 1e18

static const char *const mode_names[] = {"train", "infer", NULL};
/* Indices follow enum dtype. */
static const char *const dtype_names[] = {"fp32", "tf32", "bf16", "fp16", "fp8", "int8", "int4",
					  NULL};
static const char *const optimizer_names[] = {"adamw", "adam", "sgd", "sgd_momentum",
					      "adam_8bit", "adafactor", NULL};
static const char *const recompute_names[] = {"none", "selective", "full", NULL};
static const char *const schedule_names[] = {"gpipe", "1f1b", "interleaved", "zb-h1", "zb-v",
					     "dualpipe", NULL};
static const char *const dispatcher_names[] = {"auto", "alltoall", "deepep", NULL};
static const char *const offload_names[] = {"none", "cpu", NULL};
static const char *const zero3_unit_names[] = {"layer", "module", NULL};
static const char *const attention_kernel_names[] = {"fused", "flash2", "flash1", NULL};
static const char *const mlp_names[] = {"swiglu", "gelu", "relu", NULL};
static const char *const norm_names[] = {"rmsnorm", "layernorm", NULL};
static const char *const position_names[] = {"rope", "learned", "alibi", NULL};
static const char *const link_names[] = {"nvlink", "xgmi", "pcie", NULL};
static const char *const lora_target_names[] = {"attention", "all", NULL};
static const char *const logits_names[] = {"last", "all", NULL};
static const char *const arrival_names[] = {"poisson", "gamma", "constant", "trace", NULL};
static const char *const length_names[] = {"fixed", "uniform", "normal", "lognormal", NULL};
static const char *const preemption_names[] = {"recompute", "swap", NULL};
static const char *const batching_names[] = {"continuous", "static", NULL};
static const char *const price_kind_names[] = {"on_demand", "capacity_block", "spot",
						 "reserved", NULL};
static const char *const router_names[] = {"round_robin", "least_outstanding", NULL};
static const char *const allreduce_names[] = {"nccl", "vllm", "trtllm", NULL};
static const char *const mixed_prefill_names[] = {"always", "never", "chunked", NULL};
static const char *const speculative_names[] = {"none", "draft", "eagle", "mtp", NULL};
static const char *const ema_names[] = {"none", "device", "host", NULL};
static const char *const master_names[] = {"fp32", "remainder", "bf16", "none", NULL};
static const char *const fp8_recipe_names[] = {"delayed", "block", NULL};

#define SECTION(k, p, d) {k, SCHEMA_SECTION, UNIT_NONE, 0, 0, false, "", d, 0, NULL, p}
#define INT(k, lo, hi, def, d, f) {k, SCHEMA_INT, UNIT_NONE, lo, hi, false, def, d, OFF(f), NULL, 0}
#define NUM(k, u, lo, hi, pos, def, d, f) {k, SCHEMA_NUM, u, lo, hi, pos, def, d, OFF(f), NULL, 0}
#define BOOL(k, def, d, f) {k, SCHEMA_BOOL, UNIT_NONE, 0, 0, false, def, d, OFF(f), NULL, 0}
/* The loader stores an enum value through an int: the field must have an int's size. */
#define INT_SIZED(f) (0 * sizeof(char[sizeof(((struct scenario *)0)->f) == sizeof(int) ? 1 : -1]))
#define ENUM(k, n, def, d, f) \
	{k, SCHEMA_ENUM, UNIT_NONE, 0, 0, false, def, d, OFF(f) + INT_SIZED(f), n, 0}
#define LIST(k, u, lo, hi, def, d, f) \
	{k, SCHEMA_NUMLIST, u, lo, hi, false, def, d, OFF(f), NULL, 0}
#define STR(k, def, d, f) {k, SCHEMA_STRING, UNIT_NONE, 0, 0, false, def, d, OFF(f), NULL, 0}
/* The rows of one request-length distribution (struct length_spec). */
#define LENGTH_ROWS(k, d, dflt, f) \
	SECTION(k, PRESET_NONE, d), \
	ENUM(k ".dist", length_names, "fixed", \
	     "fixed (value), uniform (min..max), normal or lognormal (mean, sd)", f.dist), \
	INT(k ".value", 1, 1LL << 32, dflt, "tokens when fixed", f.value), \
	NUM(k ".mean", UNIT_NONE, 0, BIG, false, "0", "mean tokens", f.mean), \
	NUM(k ".sd", UNIT_NONE, 0, BIG, false, "0", "standard deviation", f.sd), \
	INT(k ".min", 1, 1LL << 32, "1", "fewest tokens", f.min), \
	INT(k ".max", 0, 1LL << 32, "0", "most tokens; 0 = seq_len", f.max)

/* The GPUs and parallelism of one serving pool (struct serving_pool). */
#define POOL_ROWS(k, d, f) \
	SECTION(k, PRESET_NONE, d), \
	INT(k ".gpus", 0, 1 << 24, "0", "GPUs of the pool", f.gpus), \
	INT(k ".tp", 1, 1 << 20, "1", "tensor parallel size of a replica", f.tp), \
	INT(k ".ep", 1, 1 << 20, "1", "expert parallel size (divides tp)", f.ep)

static const struct schema_row rows[] = {
	STR("name", "", "a name for the run, shown in reports", name),

	SECTION("model", PRESET_MODEL,
		"preset name, path to a model YAML or HuggingFace config.json, or a mapping"),
	STR("model.name", "", "model name", model.name),
	STR("model.arch", "", "family (HuggingFace model_type): llama, qwen2, deepseek_v3, ...",
	    model.arch),
	INT("model.layers", 1, 100000, NULL, "transformer layers", model.layers),
	INT("model.hidden", 1, 1048576, NULL, "hidden size", model.hidden),
	INT("model.heads", 1, 65536, NULL, "attention heads", model.heads),
	INT("model.kv_heads", 0, 65536, "0", "key/value heads (GQA/MQA); 0 means heads (MHA)",
	    model.kv_heads),
	INT("model.head_dim", 0, 65536, "0", "per-head dimension; 0 means hidden/heads",
	    model.head_dim),
	INT("model.ffn", 0, 4194304, "0", "MLP intermediate size; 0 means 4*hidden", model.ffn),
	INT("model.vocab", 1, 16777216, NULL, "vocabulary size", model.vocab),
	INT("model.max_position", 0, 1LL << 30, "0",
	    "maximum positions (rows of learned position embeddings)", model.max_position),
	ENUM("model.position", position_names, "rope",
	     "position encoding: rotary, a learned table, or ALiBi's biases on the scores (no "
	     "parameters, no kernel of its own)",
	     model.position),
	BOOL("model.tie_embeddings", "false", "input embedding and output head share weights",
	     model.tie_embeddings),
	ENUM("model.mlp", mlp_names, "swiglu", "MLP activation (swiglu has three matrices)",
	     model.mlp),
	ENUM("model.norm", norm_names, "rmsnorm", "normalization (layernorm has a bias)", model.norm),
	BOOL("model.bias", "false", "every linear layer has a bias (GPT-2, OPT, Megatron GPT)",
	     model.bias),
	BOOL("model.qkv_bias", "false", "only Q, K, V projections have a bias (Qwen2)",
	     model.qkv_bias),
	BOOL("model.dropout", "false", "the model trains with dropout (masks are saved)",
	     model.dropout),
	/* HF sliding_window (Mistral, Gemma 2/3, gpt-oss); Gemma 3's sliding_window_pattern and
	 * gpt-oss's alternating layer_types give global_every. */
	INT("model.sliding_window", 0, 1LL << 30, "0",
	    "tokens a windowed layer attends back to (sliding-window attention); 0 = none",
	    model.sliding_window),
	INT("model.global_every", 0, 100000, "0",
	    "with a window or chunks: every N-th layer attends to the whole context; 0 = none does",
	    model.global_every),
	/* HF attention_chunk_size (Llama4TextConfig); its no_rope_layers, every
	 * no_rope_layer_interval-th layer attending globally without RoPE, give global_every. */
	INT("model.attention_chunk", 0, 1LL << 30, "0",
	    "tokens per chunk of chunked attention: a query sees only its own chunk (Llama 4); "
	    "0 = none", model.attention_chunk),
	SECTION("model.mla", PRESET_NONE, "multi-head latent attention (DeepSeek-V2/V3)"),
	INT("model.mla.q_lora_rank", 0, 1048576, "0", "query compression rank (0: none)",
	    model.mla.q_lora_rank),
	INT("model.mla.kv_lora_rank", 0, 1048576, "0", "key/value compression rank; > 0 enables MLA",
	    model.mla.kv_lora_rank),
	INT("model.mla.qk_nope_head_dim", 0, 65536, "0", "query/key head dim without RoPE",
	    model.mla.qk_nope_head_dim),
	INT("model.mla.qk_rope_head_dim", 0, 65536, "0", "query/key head dim with RoPE",
	    model.mla.qk_rope_head_dim),
	INT("model.mla.v_head_dim", 0, 65536, "0", "value head dim", model.mla.v_head_dim),
	SECTION("model.moe", PRESET_NONE, "mixture of experts"),
	INT("model.moe.experts", 0, 1048576, "0", "routed experts; > 0 enables MoE",
	    model.moe.experts),
	INT("model.moe.shared_experts", 0, 1024, "0", "shared (always active) experts",
	    model.moe.shared_experts),
	INT("model.moe.top_k", 0, 1024, "0", "routed experts per token", model.moe.top_k),
	INT("model.moe.ffn", 0, 4194304, "0", "expert intermediate size", model.moe.ffn),
	INT("model.moe.dense_layers", 0, 100000, "0", "first layers with a dense MLP",
	    model.moe.dense_layers),
	/* DeepSeek-V2 report sec. 2.1.3 (device-limited routing, M = 3) and V3 report sec. 3.2.2
	 * (node-limited, M = 4): top_k experts are chosen within topk_group of n_group groups. */
	INT("model.moe.n_group", 0, 1048576, "0",
	    "expert groups (HF n_group); 0 = routing is not group-limited", model.moe.n_group),
	INT("model.moe.topk_group", 0, 1048576, "0",
	    "groups one token's experts may span (HF topk_group); 0 = n_group",
	    model.moe.topk_group),
	/* GShard (Lepikhin et al. 2020, sec. 2.2): capacity factor 1.0 = an even split of tokens. */
	NUM("model.moe.capacity_factor", UNIT_NONE, 1.0, 100.0, false, "1.0",
	    "tokens an expert holds, relative to an even split", model.moe.capacity_factor),
	/* DeepSeek-V3 report sec. 2.2: D sequential modules, each one transformer layer and a
	 * 2h x h projection, sharing the embedding and the output head; HF num_nextn_predict_layers. */
	INT("model.mtp_layers", 0, 64, "0",
	    "multi-token prediction modules trained beside the last stage", model.mtp_layers),
	NUM("model.published_params", UNIT_NONE, 0, BIG, false, "0",
	    "published total parameters (self-check)", model.published_params),
	NUM("model.published_active_params", UNIT_NONE, 0, BIG, false, "0",
	    "published active parameters per token (MoE self-check)",
	    model.published_active_params),

	SECTION("cluster", PRESET_NONE, "the hardware"),
	SECTION("cluster.node", PRESET_NODE, "node preset name, path, or mapping"),
	STR("cluster.node.name", "", "node name", cluster.node.name),
	STR("cluster.node.provider", "", "aws, azure, gcp or onprem", cluster.node.provider),
	SECTION("cluster.node.gpu", PRESET_GPU, "GPU preset name, path, or mapping"),
	STR("cluster.node.gpu.name", "", "GPU name", cluster.node.gpu.name),
	STR("cluster.node.gpu.vendor", "", "nvidia or amd", cluster.node.gpu.vendor),
	NUM("cluster.node.gpu.memory", UNIT_BYTES, 0, BIG, true, NULL, "device memory",
	    cluster.node.gpu.memory),
	NUM("cluster.node.gpu.memory_bw", UNIT_BYTES_PER_S, 0, BIG, false, "0",
	    "device memory bandwidth", cluster.node.gpu.memory_bw),
	SECTION("cluster.node.gpu.flops", PRESET_NONE, "dense peak compute per data type"),
	NUM("cluster.node.gpu.flops.fp32", UNIT_FLOPS, 0, BIG, false, "0", "FP32 peak",
	    cluster.node.gpu.flops[DTYPE_FP32]),
	NUM("cluster.node.gpu.flops.tf32", UNIT_FLOPS, 0, BIG, false, "0", "TF32 tensor peak",
	    cluster.node.gpu.flops[DTYPE_TF32]),
	NUM("cluster.node.gpu.flops.bf16", UNIT_FLOPS, 0, BIG, false, "0", "BF16 tensor peak",
	    cluster.node.gpu.flops[DTYPE_BF16]),
	NUM("cluster.node.gpu.flops.fp16", UNIT_FLOPS, 0, BIG, false, "0", "FP16 tensor peak",
	    cluster.node.gpu.flops[DTYPE_FP16]),
	NUM("cluster.node.gpu.flops.fp8", UNIT_FLOPS, 0, BIG, false, "0", "FP8 tensor peak",
	    cluster.node.gpu.flops[DTYPE_FP8]),
	NUM("cluster.node.gpu.flops.int8", UNIT_FLOPS, 0, BIG, false, "0", "INT8 tensor peak",
	    cluster.node.gpu.flops[DTYPE_INT8]),
	NUM("cluster.node.gpu.flops.int4", UNIT_FLOPS, 0, BIG, false, "0", "INT4 tensor peak",
	    cluster.node.gpu.flops[DTYPE_INT4]),
	NUM("cluster.node.gpu.tdp", UNIT_WATTS, 0, BIG, false, "0", "board power",
	    cluster.node.gpu.tdp),
	INT("cluster.node.gpu.sms", 0, 1 << 20, "0",
	    "streaming multiprocessors; 0 = unknown (no wave quantization)", cluster.node.gpu.sms),
	SECTION("cluster.node.gpu.efficiency", PRESET_NONE, "measured fractions of the peaks"),
	LIST("cluster.node.gpu.efficiency.gemm_flops", UNIT_NONE, 1, BIG, "[]",
	     "GEMM sizes in FLOPs per call, ascending (curve abscissae)",
	     cluster.node.gpu.efficiency.gemm_flops),
	LIST("cluster.node.gpu.efficiency.gemm_fraction", UNIT_FRACTION, 0.01, 1, "[]",
	     "fraction of the dense peak a GEMM of that size reaches",
	     cluster.node.gpu.efficiency.gemm_fraction),
	LIST("cluster.node.gpu.efficiency.fp8_gemm_flops", UNIT_NONE, 1, BIG, "[]",
	     "FP8 GEMM sizes in FLOPs per call, ascending; [] = the 16-bit curve at half the "
	     "FLOPs", cluster.node.gpu.efficiency.fp8_gemm_flops),
	LIST("cluster.node.gpu.efficiency.fp8_gemm_fraction", UNIT_FRACTION, 0.01, 1, "[]",
	     "fraction of the FP8 dense peak an FP8 GEMM of that size reaches",
	     cluster.node.gpu.efficiency.fp8_gemm_fraction),
	NUM("cluster.node.gpu.efficiency.memory", UNIT_FRACTION, 0, 1, false, "0",
	    "fraction of memory_bw streaming kernels reach; 0 = unknown",
	    cluster.node.gpu.efficiency.memory),
	/* NVIDIA "Matrix Multiplication Background User's Guide", tile quantization: cuBLAS's
	 * largest tile on A100 is 256 x 128 output elements. */
	INT("cluster.node.gpu.efficiency.tile_m", 1, 65536, "256",
	    "GEMM output tile rows (wave quantization)", cluster.node.gpu.efficiency.tile_m),
	INT("cluster.node.gpu.efficiency.tile_n", 1, 65536, "128",
	    "GEMM output tile columns (wave quantization)", cluster.node.gpu.efficiency.tile_n),
	NUM("cluster.node.gpu.efficiency.attention", UNIT_FRACTION, 0, 1, false, "0",
	    "fraction of the dense peak fused attention reaches; 0 = unknown",
	    cluster.node.gpu.efficiency.attention),
	NUM("cluster.node.gpu.efficiency.attention_flash2", UNIT_FRACTION, 0, 1, false, "0",
	    "the same for FlashAttention-2 (runtime.attention_kernel flash2); 0 = as attention",
	    cluster.node.gpu.efficiency.attention_flash2),
	NUM("cluster.node.gpu.efficiency.kernel_latency", UNIT_SECONDS, 0, 1e-3, false, "0",
	    "GPU time a memory-bound kernel (serving's every kernel) takes beyond its bytes and "
	    "FLOPs; 0 = unknown (4.6 us)",
	    cluster.node.gpu.efficiency.kernel_latency),
	INT("cluster.node.gpus_per_node", 1, 1024, NULL, "GPUs in one node",
	    cluster.node.gpus_per_node),
	NUM("cluster.node.host_memory", UNIT_BYTES, 0, BIG, false, "0",
	    "CPU memory per node (for offload); 0 = unknown", cluster.node.host_memory),
	NUM("cluster.node.host_memory_bw", UNIT_BYTES_PER_S, 0, BIG, false, "0",
	    "CPU memory bandwidth per node", cluster.node.host_memory_bw),
	/* One host thread's rates, as a pageable CUDA copy runs them (runtime.activation_offload_
	 * pageable): lemire/Code-used-on-Daniel-Lemire-s-blog 2020/01/14/README.md (Linux, 512 MiB,
	 * transparent huge pages "never": 4 KiB pages, as PyTorch's CPU allocator gets them where
	 * the system's mode is madvise or never; alloc.cpp prints GiB/s): memcpy 12.46-12.47 GiB/s;
	 * "new char[s] + touch", a write to each page of a new allocation, 3.79 GiB/s. With THP
	 * "always" the same touch ran at 19.6 GiB/s: a host measured otherwise sets its own. */
	NUM("cluster.node.host_memcpy_bw", UNIT_BYTES_PER_S, 1, BIG, false, "12.47 GiB/s",
	    "one host thread's memcpy rate: a copy to or from pageable memory is staged through the "
	    "driver's pinned buffer at this rate", cluster.node.host_memcpy_bw),
	NUM("cluster.node.host_fault_bw", UNIT_BYTES_PER_S, 1, BIG, false, "3.79 GiB/s",
	    "the rate at which one host thread maps in the 4 KiB pages of a new allocation on first "
	    "touch", cluster.node.host_fault_bw),
	INT("cluster.node.cpus", 0, 1 << 20, "0", "vCPUs per node", cluster.node.cpus),
	SECTION("cluster.node.links", PRESET_NONE, "interconnects"),
	SECTION("cluster.node.links.gpu", PRESET_NONE, "GPU-to-GPU link inside the node"),
	ENUM("cluster.node.links.gpu.kind", link_names, "nvlink", "nvlink, xgmi or pcie",
	     cluster.node.gpu_link.kind),
	NUM("cluster.node.links.gpu.bw", UNIT_BYTES_PER_S, 0, BIG, false, "0",
	    "per GPU, per direction", cluster.node.gpu_link.bw),
	NUM("cluster.node.links.gpu.latency", UNIT_SECONDS, 0, 1, false, "0", "per hop",
	    cluster.node.gpu_link.latency),
	NUM("cluster.node.links.gpu.efficiency", UNIT_FRACTION, 0, 1, false, "0",
	    "highest fraction of bw collectives reach (caps the busbw curve); 0 = the curve's "
	    "highest, 0.77 on the fallback curve",
	    cluster.node.gpu_link.efficiency),
	LIST("cluster.node.links.gpu.busbw_bytes", UNIT_BYTES, 1, BIG, "[]",
	     "nccl-tests all_reduce_perf message sizes, ascending (curve abscissae); [] = the "
	     "fallback curve, noted in the output",
	     cluster.node.gpu_link.busbw_bytes),
	LIST("cluster.node.links.gpu.busbw_fraction", UNIT_FRACTION, 1e-7, 2, "[]",
	     "all_reduce bus bandwidth (busbw) over bw at each size; NVLS and 2-node trees pass 1",
	     cluster.node.gpu_link.busbw_fraction),
	SECTION("cluster.node.links.pcie", PRESET_NONE, "GPU-to-host link"),
	NUM("cluster.node.links.pcie.bw", UNIT_BYTES_PER_S, 0, BIG, false, "0",
	    "per GPU, per direction", cluster.node.pcie.bw),
	NUM("cluster.node.links.pcie.latency", UNIT_SECONDS, 0, 1, false, "0", "per transfer",
	    cluster.node.pcie.latency),
	NUM("cluster.node.links.pcie.efficiency", UNIT_FRACTION, 0, 1, false, "0",
	    "fraction of bw collectives reach (NCCL bus bandwidth); 0 = unknown",
	    cluster.node.pcie.efficiency),
	SECTION("cluster.node.links.network", PRESET_NONE, "inter-node network"),
	NUM("cluster.node.links.network.bw", UNIT_BYTES_PER_S, 0, BIG, false, "0",
	    "per node, per direction", cluster.node.network.bw),
	NUM("cluster.node.links.network.latency", UNIT_SECONDS, 0, 1, false, "0", "per hop",
	    cluster.node.network.latency),
	NUM("cluster.node.links.network.efficiency", UNIT_FRACTION, 0, 1, false, "0",
	    "highest fraction of bw collectives reach (caps the busbw curve); 0 = the curve's "
	    "highest, 0.77 on the fallback curve",
	    cluster.node.network.efficiency),
	LIST("cluster.node.links.network.busbw_bytes", UNIT_BYTES, 1, BIG, "[]",
	     "nccl-tests all_reduce_perf message sizes, ascending (curve abscissae); [] = the "
	     "fallback curve, noted in the output",
	     cluster.node.network.busbw_bytes),
	LIST("cluster.node.links.network.busbw_fraction", UNIT_FRACTION, 1e-7, 2, "[]",
	     "all_reduce bus bandwidth (busbw) over bw at each size; NVLS and 2-node trees pass 1",
	     cluster.node.network.busbw_fraction),
	INT("cluster.node.links.network.busbw_nodes", 1, 1 << 20, "2",
	    "nodes the network's busbw curve was measured on (the fallback's 2); a collective over "
	    "more nodes adds NCCL's ring latency for the extra steps",
	    cluster.node.network.busbw_nodes),
	NUM("cluster.node.price", UNIT_USD_PER_H, 0, BIG, false, "0",
	    "price of one node (of the kind price_kind says); 0 = unknown", cluster.node.price),
	ENUM("cluster.node.price_kind", price_kind_names, "on_demand",
	     "how the price is sold: on_demand, capacity_block, spot or reserved",
	     cluster.node.price_kind),
	STR("cluster.node.price_date", "", "when the price was read", cluster.node.price_date),
	STR("cluster.node.price_source", "", "where the price comes from", cluster.node.price_source),
	INT("cluster.nodes", 1, 1000000, "1", "number of nodes", cluster.nodes),
	INT("cluster.gpus", 0, 1LL << 30, "0", "GPUs used; 0 means nodes * gpus_per_node",
	    cluster.gpus),

	SECTION("workload", PRESET_NONE, "what runs"),
	ENUM("workload.mode", mode_names, "train", "train or infer", workload.mode),
	INT("workload.seq_len", 1, 1LL << 32, NULL, "tokens per sequence", workload.seq_len),
	INT("workload.global_batch", 0, 1LL << 32, "0",
	    "sequences per optimizer step (train); 0 means micro_batch * dp", workload.global_batch),
	INT("workload.micro_batch", 1, 1LL << 24, "1",
	    "sequences per micro-batch (train); concurrent sequences (infer)", workload.micro_batch),
	ENUM("workload.dtype", dtype_names, "bf16",
	     "compute and weight type; int8/int4 weights for inference", workload.dtype),
	/* Transformer Engine's DelayedScaling (one scale per tensor) or Float8BlockScaling, the
	 * DeepSeek-V3 recipe (report sec. 3.3.1): 1x128 activation tiles, 128x128 weight blocks. */
	ENUM("workload.fp8_recipe", fp8_recipe_names, "delayed",
	     "FP8 scaling: one scale per tensor (delayed) or per 1x128 tile / 128x128 block (block, "
	     "with DeepSeek-V3's E5M6 attention output and FP8 MoE SwiGLU inputs)",
	     workload.fp8_recipe),
	/* Transformer Engine's fp8_model_init (NeMo and Megatron-Core --fp8-param-gather,
	 * NeMo's fp8_params): the Linear weights live only as FP8 tensors, without the 16-bit
	 * copy (transformer_engine/pytorch/fp8.py, fp8_model_init: "the weights are stored only
	 * in FP8"); norms, embeddings and the output layer keep 16 bits. */
	BOOL("workload.fp8_params", "false",
	     "fp8 training: keep the GEMM weights in FP8 only (1 byte each; Transformer Engine "
	     "fp8_model_init)", workload.fp8_params),
	ENUM("workload.kv_dtype", dtype_names, "bf16", "KV-cache element type (inference)",
	     workload.kv_dtype),
	/* DeepSeek-V2 report sec. 3.2.3: serving quantizes each KV-cache element to 6 bits on
	 * average. */
	INT("workload.kv_bits", 0, 32, "0",
	    "bits per KV-cache element, scales included (6 for DeepSeek-V2); 0 = kv_dtype's",
	    workload.kv_bits),
	/* Rajbhandari et al. 2020 (ZeRO), sec. 3.1: mixed-precision training keeps fp16 gradients;
	 * the default follows workload.dtype (scenario_check_workload). */
	ENUM("workload.grad_dtype", dtype_names, "bf16",
	     "gradient type; not given: fp32 for fp32 training, fp16 for fp16, else bf16 "
	     "(Megatron keeps fp32 main grads: 'fp32')", workload.grad_dtype),
	ENUM("workload.optimizer", optimizer_names, "adamw", "optimizer", workload.optimizer),
	/* DeepSeek-V3 report sec. 3.3.3: AdamW's first and second moments in BF16. */
	ENUM("workload.optimizer_state_dtype", dtype_names, "fp32",
	     "Adam moments / SGD momentum: fp32, or bf16 as DeepSeek-V3 keeps them",
	     workload.optimizer_state_dtype),
	/* Apex DistributedFusedAdam (NeMo's distributed_fused_adam), its StateBucket: the
	 * parameter shard in the optimizer's dtype (store_params), or as int16 remainders of fp32
	 * values whose high half is the bf16 weight (store_param_remainders), or none; NeMo's
	 * megatron_base_model.py setup_optimization picks among them by the optimizer's and the
	 * model's dtypes and fp8_params. */
	ENUM("workload.master_weights", master_names, "fp32",
	     "the optimizer's copy of the weights (16-bit and FP8 training): fp32 (4 bytes), "
	     "remainder (the low 16 bits beside the bf16 weight, 2), bf16 (2) or none",
	     workload.master_weights),
	/* DeepSeek-V3 report sec. 3.2.3: the EMA of the weights is kept in CPU memory and updated
	 * asynchronously after each step. */
	/* The slowest expert sets an MoE layer's time (DeepSeek-V3 report sec. 2.1.2 balances the
	 * load for this reason); 1.0 is a perfectly balanced router. */
	NUM("workload.moe_imbalance", UNIT_NONE, 1.0, 1e6, false, "1.0",
	    "the busiest expert's routed tokens over the mean (1 = balanced); at most experts/top_k",
	    workload.moe_imbalance),
	ENUM("workload.ema", ema_names, "none",
	     "an fp32 EMA of the weights: none, on the GPU (device), or in host memory (host)",
	     workload.ema),
	BOOL("workload.flash_attention", "true",
	     "fused attention: no s*s score matrices are stored", workload.flash_attention),
	/* Sequence packing for SFT (NeMo docs, features/optimizations/sequence_packing): documents
	 * concatenated into one sequence attend only within themselves (cu_seqlens). */
	INT("workload.document_len", 0, 1LL << 32, "0",
	    "training on packed sequences: mean tokens per document; 0 = one per sequence",
	    workload.document_len),
	/* vLLM's LogitsProcessor projects only the sampled (last) positions; HuggingFace
	 * LlamaForCausalLM.forward (transformers 4.33) projects every position and upcasts with
	 * logits.float(). */
	ENUM("workload.logits", logits_names, "last",
	     "prefill logits for the last position (vLLM) or all positions (HF transformers)",
	     workload.logits),
	/* Frantar et al. 2023 (GPTQ) and Lin et al. 2024 (AWQ) quantize in groups of 128 weights. */
	INT("workload.quant_group", 1, 1 << 30, "128", "weights per quantization scale",
	    workload.quant_group),
	/* vLLM automatic prefix caching / SGLang RadixAttention: prompt tokens whose KV blocks the
	 * engine already holds skip prefill (whole blocks only: vLLM hashes full blocks). */
	SECTION("workload.prefix_cache", PRESET_NONE,
		"prompt tokens served from the engine's prefix cache (infer)"),
	INT("workload.prefix_cache.shared_tokens", 0, 1 << 30, "0",
	    "a prefix every prompt shares (a system prompt), held once per replica",
	    workload.prefix_cache.shared_tokens),
	NUM("workload.prefix_cache.hit_rate", UNIT_FRACTION, 0, 1, false, "0",
	    "fraction of each prompt's tokens found in the cache", workload.prefix_cache.hit_rate),
	SECTION("workload.lora", PRESET_NONE, "LoRA fine-tuning (Hu et al. 2021)"),
	INT("workload.lora.rank", 0, 1 << 20, "0", "adapter rank; 0 = full fine-tuning",
	    workload.lora.rank),
	ENUM("workload.lora.targets", lora_target_names, "all",
	     "adapted matrices: attention (q,k,v,o) or all linear layers", workload.lora.targets),
	/* vLLM benchmarks/benchmark_serving.py: --num-prompts 1000, --request-rate inf (every
	 * request at once), --random-input-len 1024, --random-output-len 128. */
	INT("workload.requests", 1, 100000000, "1000",
	    "requests to serve (infer); with duration, the most that arrive", workload.requests),
	NUM("workload.duration", UNIT_SECONDS, 0, BIG, false, "0",
	    "time over which requests arrive; 0 = until all have arrived", workload.duration),
	INT("workload.seed", 0, (1LL << 32) - 1, "1", "seed of the random request stream",
	    workload.seed),
	SECTION("workload.arrival", PRESET_NONE, "when requests arrive (infer)"),
	ENUM("workload.arrival.process", arrival_names, "poisson",
	     "poisson, gamma (gaps with coefficient of variation cv), constant, or trace",
	     workload.arrival.process),
	NUM("workload.arrival.rate", UNIT_PER_S, 0, BIG, false, "0",
	    "mean requests per second; 0 = every request at time 0", workload.arrival.rate),
	NUM("workload.arrival.cv", UNIT_NONE, 0.01, 100, false, "1",
	    "gamma process: coefficient of variation of the gaps (1 = Poisson)",
	    workload.arrival.cv),
	STR("workload.arrival.trace", "",
	    "CSV of arrival_s,prompt_tokens,output_tokens per request (process: trace)",
	    workload.arrival.trace),
	LENGTH_ROWS("workload.prompt_tokens", "prompt length of each request (infer)", "1024",
		    workload.prompt_tokens),
	LENGTH_ROWS("workload.output_tokens", "tokens each request generates (infer)", "128",
		    workload.output_tokens),

#include "schema_serving_rows.h"

	SECTION("strategy", PRESET_NONE, "how the work is split"),
	INT("strategy.tp", 1, 1 << 20, "1", "tensor parallel size", strategy.tp),
	INT("strategy.pp", 1, 65536, "1", "pipeline parallel size", strategy.pp),
	INT("strategy.dp", 0, 1 << 30, "0", "data parallel size; 0 means gpus / (tp*pp*cp)",
	    strategy.dp),
	INT("strategy.cp", 1, 1 << 20, "1", "context parallel size", strategy.cp),
	INT("strategy.ep", 1, 1 << 20, "1", "expert parallel size (MoE)", strategy.ep),
	/* Megatron-Core --expert-tensor-parallel-size: None means the TP size
	 * (megatron/core/parallel_state.py, initialize_model_parallel). */
	INT("strategy.etp", 0, 1 << 20, "0",
	    "tensor parallel size of the experts (training); 0 = tp", strategy.etp),
	INT("strategy.zero", 0, 3, "0", "ZeRO stage 0..3", strategy.zero),
	BOOL("strategy.sequence_parallel", "false", "Megatron sequence parallelism (with tp)",
	     strategy.sequence_parallel),
	ENUM("strategy.recompute", recompute_names, "none", "activation recomputation",
	     strategy.recompute),
	/* DeepSeek-V3 report sec. 3.2.3: "we recompute all RMSNorm operations and MLA
	 * up-projections during back-propagation". */
	SECTION("strategy.recompute_modules", PRESET_NONE,
		"modules whose outputs are rebuilt in backward, besides strategy.recompute"),
	BOOL("strategy.recompute_modules.norm", "false",
	     "norm outputs (the norm inputs are kept)", strategy.recompute_modules.norm),
	BOOL("strategy.recompute_modules.mla_up", "false",
	     "MLA up-projection outputs: queries, keys, values (the latents are kept)",
	     strategy.recompute_modules.mla_up),
	/* DeepSeek-V3 report sec. 3.3.3: "we cache the inputs of the SwiGLU operator and recompute
	 * its output in the backward pass"; Megatron-Core's recompute module "moe_act". */
	BOOL("strategy.recompute_modules.moe_act", "false",
	     "MoE experts' SwiGLU outputs, routing weights applied (the SwiGLU inputs are kept)",
	     strategy.recompute_modules.moe_act),
	/* Megatron-Core transformer_config.py, recompute_modules: '"mlp": recompute the dense MLP
	 * submodule' (normal checkpointing: its input kept; MoE layers are left alone,
	 * transformer_layer.py). */
	BOOL("strategy.recompute_modules.mlp", "false",
	     "dense MLPs' hidden states, rebuilt from the MLP's input (Megatron's mlp)",
	     strategy.recompute_modules.mlp),
	ENUM("strategy.schedule", schedule_names, "1f1b",
	     "pipeline schedule (zb-h1, zb-v: zero-bubble, Qi et al. 2024; dualpipe: DeepSeek-V3)",
	     strategy.schedule),
	INT("strategy.vp", 1, 1024, "1", "virtual stages per rank (interleaved)", strategy.vp),
	/* Megatron-LM --decoder-first-pipeline-num-layers / --decoder-last-pipeline-num-layers. */
	INT("strategy.first_stage_layers", 0, 100000, "0",
	    "layers on the first pipeline stage, all its virtual chunks; 0 = an even split",
	    strategy.first_stage_layers),
	INT("strategy.last_stage_layers", 0, 100000, "0",
	    "layers on the last pipeline stage, all its virtual chunks; 0 = an even split",
	    strategy.last_stage_layers),
	/* Megatron-LM --account-for-embedding-in-pipeline-split / --account-for-loss-in-.... */
	BOOL("strategy.account_for_embedding_in_pipeline_split", "false",
	     "the embedding counts as one layer of the first stage's first chunk",
	     strategy.account_embedding),
	BOOL("strategy.account_for_loss_in_pipeline_split", "false",
	     "the loss (head) counts as one layer of the last stage's last chunk",
	     strategy.account_loss),
	SECTION("strategy.offload", PRESET_NONE, "ZeRO-Offload / ZeRO-Infinity to host memory"),
	ENUM("strategy.offload.optimizer", offload_names, "none",
	     "where optimizer states (and fp32 master weights) live", strategy.offload.optimizer),
	ENUM("strategy.offload.params", offload_names, "none",
	     "where ZeRO-3 parameter shards live", strategy.offload.params),
	/* DeepSpeed activation_checkpointing.cpu_checkpointing, Megatron-DeepSpeed
	 * --checkpoint-in-cpu, Megatron-Core --cpu-offloading-activations: each layer's saved
	 * activations are copied to the host after its forward and back before its backward. */
	ENUM("strategy.offload.activations", offload_names, "none",
	     "where the layers' saved activations (checkpoints under full recompute) wait for "
	     "their backward", strategy.offload.activations),
	/* PyTorch DistributedDataParallel bucket_cap_mb = 25 (torch/nn/parallel/distributed.py). */
	NUM("strategy.bucket", UNIT_BYTES, 0, BIG, false, "25 MB",
	    "gradient communication bucket (two are in flight)", strategy.bucket),
	/* PyTorch DDP and DeepSpeed reduce buckets as backward produces them; Megatron-LM (2021)
	 * all-reduced after forward_backward_func (megatron/training.py), as with false. */
	/* Megatron-Core 0.14 --overlap-moe-expert-parallel-comm (pipeline_parallel/combined_1f1b.py):
	 * each steady-state forward of interleaved 1F1B runs with the backward after it, one's
	 * all-to-all under the other's computation, after one more warm-up forward. */
	BOOL("strategy.overlap_moe_a2a", "false",
	     "run interleaved 1F1B's forwards and backwards as pairs hiding the MoE all-to-alls",
	     strategy.overlap_moe_a2a),
	/* Megatron-Core --moe-token-dispatcher-type (megatron/core/transformer/moe/
	 * token_dispatcher.py): alltoall (MoEAlltoAllTokenDispatcher) sends a token once per expert
	 * it is routed to; flex (MoEFlexTokenDispatcher over DeepEP or HybridEP) once per GPU and per
	 * node, as DeepEP lays the dispatch out (deepseek-ai/DeepEP deep_ep/buffer.py
	 * get_dispatch_layout: num_tokens_per_rank, num_tokens_per_rdma_rank, is_token_in_rank).
	 * auto keeps DeepSeek's own dispatch for the models whose routing is group-limited. */
	ENUM("strategy.moe_dispatcher", dispatcher_names, "auto",
	     "MoE token dispatch: alltoall (one copy per expert), deepep (DeepEP/HybridEP, "
	     "Megatron's flex: one copy per GPU and per node reached), auto (deepep for "
	     "group-limited routing, model.moe.topk_group < n_group; else alltoall); training "
	     "and data-parallel attention in serving",
	     strategy.moe_dispatcher),
	BOOL("strategy.overlap_grad_reduce", "true",
	     "reduce gradient buckets while the last backward runs", strategy.overlap_grad_reduce),
	/* Megatron-Core --overlap-param-gather (megatron/core/optimizer/distrib_optimizer.py at
	 * core_r0.8.0, step_with_ready_grads and _finish_param_sync_helper): after the optimizer
	 * step the updated weights are not gathered at once; the next forward's pre-hook waits
	 * for its bucket and dispatches the next one, a bucket ahead of the computation. */
	BOOL("strategy.overlap_param_gather", "false",
	     "ZeRO-1/2: all-gather the updated weights bucket by bucket under the next forward "
	     "instead of after the optimizer step", strategy.overlap_param_gather),
	/* Megatron-Core --tp-comm-overlap with sequence parallelism: Transformer Engine's
	 * userbuffers split each GEMM into tp chunks and move one chunk over NVLink while the next
	 * computes (transformer_engine/common/comm_gemm_overlap/comm_gemm_overlap.cpp,
	 * CommOverlapP2PBase::split_overlap_ag / split_overlap_rs). */
	BOOL("strategy.tp_comm_overlap", "false",
	     "with sequence parallelism, run each layer's TP all-gathers and reduce-scatters "
	     "beside the GEMM each is paired with; what a GEMM does not hide holds the layer back "
	     "(Transformer Engine userbuffers)",
	     strategy.tp_comm_overlap),
	/* Megatron-LM's asynchronous tensor-parallel all-reduce (NVIDIA/Megatron-LM 3f652469,
	 * 2021-09-02, on unless --no-async-tensor-model-parallel-allreduce): a column-parallel
	 * Linear's backward starts the all-reduce of its input gradient and computes its weight
	 * gradient while it runs (mpu/layers.py ColumnParallelLinearWithAsyncAllreduce); with
	 * sequence parallelism the reduce-scatter of that gradient (LinearWithGradAccumulation-
	 * AndAsyncCommunication, cfd2e216, 2022-04-28). */
	BOOL("strategy.tp_async_backward", "false",
	     "the backward's TP all-reduces of the input gradients (with sequence parallelism their "
	     "reduce-scatters) run beside the layer's weight-gradient GEMMs, as Megatron-LM does "
	     "since September 2021: a layer's backward takes its compute plus what of that traffic "
	     "outlasts them", strategy.tp_async_backward),
	INT("strategy.zero3_prefetch_layers", 0, 1024, "1",
	    "ZeRO-3 layers gathered ahead of the one computing", strategy.zero3_prefetch_layers),
	/* PyTorch FSDP backward_prefetch: BACKWARD_PRE issues the next unit's all-gather before
	 * the current unit's gradient computation, None from the unit's own pre-backward hook,
	 * after the reduce-scatter of the unit before it (torch/distributed/fsdp/api.py,
	 * BackwardPrefetch); FSDP2 prefetches in the reverse post-forward order (pytorch/pytorch
	 * PR #128884). */
	BOOL("strategy.zero3_backward_prefetch", "true",
	     "ZeRO-3: issue each backward gather zero3_prefetch_layers ahead, before the "
	     "reduce-scatter of the layer computing (FSDP BACKWARD_PRE); false: after it "
	     "(FSDP backward_prefetch None)", strategy.zero3_backward_prefetch),

	SECTION("runtime", PRESET_NONE, "memory the framework takes besides the model"),
	/* PyTorch issue #109888 (maintainer): about 400 MB with CUDA >= 11.7 and lazy module
	 * loading; PyTorch PR #86509 measured 274 MiB lazy vs 636 MiB eager. */
	NUM("runtime.cuda_context", UNIT_BYTES, 0, BIG, false, "400 MB",
	    "CUDA context and loaded kernels per GPU", runtime.cuda_context),
	/* NVIDIA/nccl issue #964: 544 MB per communicator of 2 GPUs, 688 MB of more, 4x A100. */
	NUM("runtime.nccl_per_group", UNIT_BYTES, 0, BIG, false, "688 MB",
	    "NCCL buffers per process group (tp, pp, dp, cp, ep) larger than one GPU",
	    runtime.nccl_per_group),
	/* cuBLAS guide, cublasSetWorkspace: 32 MiB recommended on Hopper, 4 MiB before (adopted by
	 * PyTorch PR #120925 in aten/src/ATen/cuda/CUDABlas.cpp); the larger serves every GPU. */
	NUM("runtime.cublas_workspace", UNIT_BYTES, 0, BIG, false, "32 MiB",
	    "GEMM library workspace per GPU", runtime.cublas_workspace),
	NUM("runtime.allocator_reserve", UNIT_FRACTION, 0, 1, false, "0",
	    "caching-allocator fragmentation, as a fraction of allocated bytes",
	    runtime.allocator_reserve),
	/* DeepSpeed PR #735 (CPU-Adam): an 11.6B-parameter model's optimizer step in 8.2 s on one
	 * DGX-class host, 1.4e9 parameters/s (the CPU is not stated; slower hosts: set your own). */
	NUM("runtime.cpu_adam_rate", UNIT_PER_S, 0, BIG, true, "1.4e9/s",
	    "parameters per second a node's CPUs update with offloaded Adam", runtime.cpu_adam_rate),
	/* The training framework's profile (topologies/frameworks/NAME.yaml), layered over the
	 * presets and under a calibration and the scenario (scenario.c); the canonical form keeps
	 * its name and the values it set. Megatron-Core is what NeMo and Megatron-Bridge run. */
	STR("runtime.framework", "megatron-core",
	    "training framework profile: a name in topologies/frameworks/, a path or a mapping of "
	    "runtime.* and strategy.* keys (the scenario's own keys win); not applied when "
	    "workload.mode is infer (serving engines have their own settings)", runtime.framework),
	/* Training kernel and framework costs (issue 13): a framework profile (runtime.framework)
	 * sets them; the defaults here count nothing, as before profiles existed. */
	NUM("runtime.kernel_overhead", UNIT_SECONDS, 0, 1, false, "0",
	    "host time to issue one kernel (framework dispatch and launch): a pass takes at least "
	    "its kernels times this", runtime.kernel_overhead),
	/* A framework's FP8 recipe around the GEMMs (Transformer Engine's delayed scaling: amax
	 * histories, scale updates, FP8 weight copies) keeps less of the GPU's FP8 rate than the
	 * isolated GEMMs of its curve; the profile that knows it sets it. Training only. */
	NUM("runtime.fp8_gemm_scale", UNIT_FRACTION, 0.05, 1, false, "1",
	    "share of the GPU's FP8 GEMM curve the framework's FP8 training recipe keeps",
	    runtime.fp8_gemm_scale),
	BOOL("runtime.cuda_graphs", "false",
	     "the step's kernels are replayed from CUDA graphs (launch overhead mostly gone)",
	     runtime.cuda_graphs),
	INT("runtime.comm_sms", 0, 1024, "0",
	    "SMs a running collective keeps from the computation it overlaps",
	    runtime.comm_sms),
	NUM("runtime.gather_overhead", UNIT_SECONDS, 0, 1, false, "0",
	    "fixed time per ZeRO-3/FSDP parameter gather (flatten, copy, launch)",
	    runtime.gather_overhead),
	BOOL("runtime.reshard_after_forward", "true",
	     "ZeRO-3/FSDP frees gathered weights after forward and gathers them again for "
	     "backward (FSDP FULL_SHARD); false keeps them (SHARD_GRAD_OP)",
	     runtime.reshard_after_forward),
	BOOL("runtime.zero3_copy_out", "false",
	     "FSDP2's per-parameter sharding: after each ZeRO-3 all-gather the compute stream "
	     "copies the unit out of the gathered buffer into its parameters, reading and "
	     "writing its bytes in one kernel (split_with_sizes_copy); false: FSDP1 and DeepSpeed "
	     "use the gathered buffer in place", runtime.zero3_copy_out),
	/* DeepSpeed's stage3_max_reuse_distance (deepspeed/runtime/zero/config.py, 1e9 by default;
	 * partitioned_param_coordinator.py __params_to_release): after a module runs, its weights
	 * stay only if they come back before this many parameters have been fetched. FSDP's
	 * backward pre-hook gathers a unit once for its recompute and its backward: 0. */
	NUM("runtime.zero3_reuse_distance", UNIT_NONE, 0, BIG, false, "0",
	    "ZeRO-3 with full recomputation: a weight is gathered again for its backward when more "
	    "than this many parameters run between its recompute and its backward (DeepSpeed's "
	    "stage3_max_reuse_distance); 0 keeps every weight from its recompute to its backward",
	    runtime.zero3_reuse_distance),
	ENUM("runtime.zero3_unit", zero3_unit_names, "layer",
	     "what ZeRO-3/FSDP gathers at once: a whole layer (FSDP wrapping each block) or each "
	     "module's own weights (DeepSpeed's per-submodule fetch, FSDP wrapping each Linear)",
	     runtime.zero3_unit),
	BOOL("runtime.activation_offload_overlap", "false",
	     "offloaded activations are copied on a stream of their own, two layers in flight "
	     "(Transformer Engine); false: in order on the compute stream, which waits for them",
	     runtime.activation_offload_overlap),
	BOOL("runtime.activation_offload_pageable", "false",
	     "offloaded activations go to pageable host memory allocated anew for each copy "
	     "(DeepSpeed's .to('cpu')): a copy out runs at the host's first-touch and memcpy rates "
	     "(cluster.node.host_fault_bw, host_memcpy_bw), a copy back at its memcpy rate, where "
	     "slower than PCIe; false: pinned buffers at the PCIe rate",
	     runtime.activation_offload_pageable),
	ENUM("runtime.attention_kernel", attention_kernel_names, "fused",
	     "fused attention kernel (workload.flash_attention): the GPU's own (cuDNN, "
	     "FlashAttention-3; efficiency.attention), FlashAttention-2 "
	     "(efficiency.attention_flash2) or FlashAttention-1 and its Triton port (half "
	     "FlashAttention-2's rate); in training the first two slow below head dimension "
	     "128 (0.79 and 0.90 at 64) and below sequence 16k (0.97 and 0.96 at 4k)",
	     runtime.attention_kernel),
	SECTION("runtime.fusion", PRESET_NONE, "which memory-bound kernels the framework fuses"),
	BOOL("runtime.fusion.norm", "true", "residual add fused into the norm (and the norm "
	     "into the next GEMM's input)", runtime.fusion.norm),
	BOOL("runtime.fusion.bias_activation", "true", "bias, activation and gating in one kernel",
	     runtime.fusion.bias_activation),
	BOOL("runtime.fusion.rope", "true", "rotary embedding in one kernel (or inside attention)",
	     runtime.fusion.rope),
	BOOL("runtime.fusion.softmax", "true", "scale, mask and softmax in one kernel (without "
	     "flash attention)", runtime.fusion.softmax),
	BOOL("runtime.fusion.cross_entropy", "true", "vocabulary-parallel cross-entropy fused",
	     runtime.fusion.cross_entropy),
	BOOL("runtime.fusion.linear_bias", "true", "a Linear's bias added in its GEMM's epilogue "
	     "(cuBLASLt) and its gradient one reduction, where bias_activation does not take it; "
	     "false: a kernel of its own each way", runtime.fusion.linear_bias),
	BOOL("runtime.fusion.expert_bias", "true", "the routed experts' output bias counted with "
	     "the other Linears' biases (bias_activation, linear_bias); false: per local expert, "
	     "the bias scaled by the routing probabilities and added in kernels of its own, then "
	     "concatenated (Megatron-Core's TEGroupedMLP)", runtime.fusion.expert_bias),
	BOOL("runtime.fusion.optimizer", "true", "multi-tensor Adam (one kernel over many "
	     "tensors)", runtime.fusion.optimizer),
	BOOL("runtime.fusion.grad_accumulation", "true", "the weight-gradient GEMMs accumulate "
	     "into the gradient buffer (Megatron's --gradient-accumulation-fusion, Transformer "
	     "Engine's fuse_wgrad_accumulation); false: each micro-batch's gradients are added to "
	     "it by kernels of their own, reading the new gradient and reading and writing the "
	     "buffer (the first micro-batch's skipped when the buffer has the gradients' own type: "
	     "autograd keeps it)", runtime.fusion.grad_accumulation),
};

const struct schema_row *schema_rows(size_t *count)
{
	*count = sizeof rows / sizeof rows[0];
	return rows;
}

#define NROWS (sizeof rows / sizeof rows[0])

/* Row indices sorted by key, for bsearch: a sweep looks keys up for every candidate. Built on
 * first use; the table is constant, so building it twice gives the same order. */
static size_t by_key[NROWS];
static bool by_key_ready;

static int cmp_row(const void *a, const void *b)
{
	return strcmp(rows[*(const size_t *)a].key, rows[*(const size_t *)b].key);
}

static int cmp_key(const void *key, const void *row)
{
	return strcmp(key, rows[*(const size_t *)row].key);
}

const struct schema_row *schema_find(const char *key, size_t *index)
{
	const size_t *hit;
	if (!by_key_ready) {
		size_t i;
		for (i = 0; i < NROWS; i++)
			by_key[i] = i;
		qsort(by_key, NROWS, sizeof by_key[0], cmp_row);
		by_key_ready = true;
	}
	hit = bsearch(key, by_key, NROWS, sizeof by_key[0], cmp_key);
	if (hit == NULL)
		return NULL;
	if (index)
		*index = *hit;
	return &rows[*hit];
}

const char *schema_type_text(const struct schema_row *row, char *buf, size_t size)
{
	size_t i, used;
	switch (row->type) {
	case SCHEMA_SECTION:
		snprintf(buf, size, "a mapping");
		break;
	case SCHEMA_INT:
		snprintf(buf, size, "an integer");
		break;
	case SCHEMA_NUM:
		if (row->unit == UNIT_NONE)
			snprintf(buf, size, "a number");
		else
			snprintf(buf, size, "a %s such as '%s'", units_kind_name(row->unit),
				 units_kind_example(row->unit));
		break;
	case SCHEMA_BOOL:
		snprintf(buf, size, "true or false");
		break;
	case SCHEMA_STRING:
		snprintf(buf, size, "a string");
		break;
	case SCHEMA_NUMLIST:
		if (row->unit == UNIT_NONE)
			snprintf(buf, size, "a list of up to %d numbers", NUMLIST_MAX);
		else
			snprintf(buf, size, "a list of up to %d, each a %s such as '%s'",
				 NUMLIST_MAX, units_kind_name(row->unit),
				 units_kind_example(row->unit));
		break;
	case SCHEMA_ENUM:
		used = (size_t)snprintf(buf, size, "one of");
		for (i = 0; row->names[i] != NULL && used < size; i++)
			used += (size_t)snprintf(buf + used, size - used, "%s %s",
						 i ? "," : "", row->names[i]);
		break;
	}
	return buf;
}

void schema_print_keys(FILE *out)
{
	size_t i;
	char type[256];
	fprintf(out, "Scenario keys (sizes take units: 80 GiB, 900 GB/s, 400 Gbit/s, 989 TFLOPS, 5 us,"
		     " 98.32 USD/h;\nbare numbers are bytes, bytes/s, FLOP/s, seconds):\n\n");
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct schema_row *r = &rows[i];
		if (r->type == SCHEMA_SECTION) {
			fprintf(out, "%s:  %s%s\n", r->key, r->doc,
				r->preset != PRESET_NONE ? " [preset]" : "");
			continue;
		}
		schema_type_text(r, type, sizeof type);
		fprintf(out, "  %-38s %s; default %s\n  %-38s %s\n", r->key, type,
			r->def == NULL ? "(required)" : (r->def[0] ? r->def : "(none)"), "", r->doc);
	}
}
