/*
 * compute: kernel durations on one GPU by roofline — the larger of FLOPs over (peak x efficiency)
 * and bytes over (memory bandwidth x efficiency). GEMM efficiency depends on the GEMM's size and
 * is interpolated (GSL) from the points in the GPU preset. Domain stage: reads struct gpu_spec;
 * knows nothing of layers, graphs or time beyond one kernel.
 */
#ifndef DSSIM_COMPUTE_H
#define DSSIM_COMPUTE_H

#include "hardware.h"

struct compute;

/* Returns NULL with a message in d, at the place given (the scenario the GPU came from), when
 * the GPU's curve cannot be used. */
struct compute *compute_new(const struct gpu_spec *gpu, struct mark at, struct diag *d);
void compute_free(struct compute *c);          /* NULL is a no-op */
/* FP8 GEMMs run at this share of the GPU's FP8 curve (a framework's FP8 recipe: training's
 * runtime.fp8_gemm_scale); 1 unless set. */
void compute_scale_fp8(struct compute *c, double scale);

/* The fraction of the dense peak a GEMM of this many FLOPs reaches (clamped to the curve). */
double compute_gemm_efficiency(const struct compute *c, double flops);
/* An m x k by k x n GEMM in dtype: 2mnk FLOPs; reads A and B and writes C. */
double compute_gemm_time(const struct compute *c, enum dtype dtype, double m, double n, double k);
/* The same with the k x n operand (the weights) stored in weight_bytes per element: quantized
 * weights are read at their size and dequantized into 16-bit math (AWQ/GPTQ kernels). */
double compute_gemm_time_weights(const struct compute *c, enum dtype dtype, double weight_bytes,
				 double m, double n, double k);
/* One grouped kernel over `groups` GEMMs of k x n weights (a layer's experts on one GPU):
 * groups - 1 of m rows and one of m_last (the busiest expert). */
double compute_grouped_gemm_time(const struct compute *c, enum dtype dtype, double weight_bytes,
				 double groups, double m, double m_last, double n, double k);
/* Fused attention doing `flops` FLOPs with the kernel family given. */
double compute_attention_time(const struct compute *c, enum dtype dtype, double flops,
			      enum attention_kernel kernel);
/* A training step's fused attention (one forward, one backward) at head dimension head_dim:
 * its rate as a fraction of the rate at head dimension 128, the one the GPU presets give. */
double compute_attention_head_dim_scale(enum attention_kernel kernel, double head_dim);
/* The kernel's training rate at sequence length seq over its rate at 16k, the plateau the GPU
 * presets give (FlashAttention-3 paper, Figs. 4 and 5; compute.c); 1 for FlashAttention-1. */
double compute_attention_seq_scale(const struct compute *c, enum attention_kernel kernel,
				   double seq);
/* The fixed GPU time of one serving kernel beyond its roofline (the preset's kernel_latency or
 * compute.c's fallback, fitted to gpt-fast's batch-1 decode). */
double compute_kernel_latency(const struct compute *c);
/* A memory-bound kernel moving `bytes` to and from device memory. */
double compute_stream_time(const struct compute *c, double bytes);
/* The dense peak used for dtype (int4/int8 weights run as the activation type). */
double compute_peak(const struct compute *c, enum dtype dtype);
/* The same for a GPU spec: the peak of the precision the GEMMs of dtype weights run in, which
 * is MFU's denominator too, whatever the weights' storage. */
double compute_gpu_peak(const struct gpu_spec *gpu, enum dtype dtype);

#endif
