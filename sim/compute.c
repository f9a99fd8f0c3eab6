/*
 * compute: roofline kernel times. Domain stage.
 * Williams, Waterman and Patterson 2009 (the roofline model): a kernel takes the larger of its
 * compute time and its memory time. Efficiency curves come from the GPU preset; a GPU without
 * one uses the fallbacks below, each with its source.
 */
#include "compute.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_interp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "xalloc.h"

/* A GEMM efficiency curve: fraction of a peak over log10(FLOPs per call). */
struct curve {
	gsl_interp *interp;        /* NULL: a constant */
	gsl_interp_accel *accel;
	double logx[NUMLIST_MAX], y[NUMLIST_MAX];
	int n;
	double constant;
};

struct compute {
	struct gpu_spec gpu;
	struct curve gemm, fp8;    /* fp8.n == 0: FP8 GEMMs use the 16-bit curve */
	struct curve seq_fused, seq_flash2;  /* attention's rate by sequence length, of its plateau */
	double fp8_scale;          /* the framework's share of the FP8 curve */
	double memory_eff, attention_eff, flash2_eff;
	double kernel_latency;     /* s per kernel (serving) */
};

/* For a GPU preset without measured fractions, the lowest of the NVIDIA measurements the
 * presets cite: GEMM 0.80 (H100 SXM's maximum achievable matmul, ML Engineering book), memory
 * 0.83 (A100's STREAM Triad, Azure AI-benchmarking-guide), attention 0.65 (FlashAttention-2 on
 * A100, Dao 2023). A GPU's own figures always win. */
static const double fallback_gemm = 0.80;
static const double fallback_memory = 0.83;
static const double fallback_attention = 0.65;

/*
 * A kernel takes a fixed time beyond its roofline (launch inside a CUDA graph, ramp to full
 * bandwidth, the tail wave). pytorch-labs/gpt-fast README, Benchmarks (A100-80GB at 330 W, batch
 * 1, torch.compile with CUDA graphs, intra-node all-reduce): Llama-2-7B on 1, 2, 4 and 8 GPUs at
 * 104.9, 168.84, 254.02 and 328.43 tokens/s, Llama-2-70B on 2, 4 and 8 at 21.32, 38.01 and
 * 62.5. At one bandwidth fraction the weights per GPU cannot explain them (the 7B would take
 * 1.8 ms a token on 8 GPUs, not 3.04); with the A100's STREAM fraction and dssim's ten kernels a
 * Llama layer (forward.c), a fixed 4.6 us per kernel fits all seven within 4 % (least squares on
 * relative error; 4.56-4.77 us leaving out any one). A GPU preset without its own kernel_latency
 * takes that figure (assumption: the fixed part of a kernel depends little on the generation).
 */
static const double fallback_kernel_latency = 4.6e-6;

static int curve_init(struct curve *cv, const struct numlist *x, const struct numlist *y);

/*
 * Attention's rate by sequence length. Shah et al. 2024 (FlashAttention-3, arXiv:2407.08608)
 * measure each kernel on H100 SXM5 in BF16 at head dimension 128 and sequence 512, 1k, 2k, 4k,
 * 8k and 16k (batch x sequence = 16k tokens): cuDNN's causal forward at 315, 410, 484, 518, 529,
 * 539 TFLOP/s (Fig. 4), its backward at 305, 408, 465, 499, 518, 516 (Fig. 5);
 * FlashAttention-2's at 191, 260, 298, 319, 333, 335 and 214, 260, 291, 310, 318, 322. A step
 * runs a forward and a backward of 2.5 times its FLOPs (the paper's count), at
 * 3.5 / (1/fwd + 2.5/bwd): cuDNN 307.8, 408.6, 470.3, 504.3, 521.1, 522.4; FlashAttention-2 206.9, 260.0, 293.0, 312.5,
 * 322.1, 325.6. The fractions of each kernel's 16k rate, its plateau, are the curves; the GPU
 * presets' attention figures are the plateau rates. Fewer query tiles per head at short
 * sequences leave SMs idle and the causal diagonal's masked tiles weigh more.
 */
static const double attn_seq[] = {512, 1024, 2048, 4096, 8192, 16384};
static const double cudnn_fwd[] = {315, 410, 484, 518, 529, 539};
static const double cudnn_bwd[] = {305, 408, 465, 499, 518, 516};
static const double flash2_fwd[] = {191, 260, 298, 319, 333, 335};
static const double flash2_bwd[] = {214, 260, 291, 310, 318, 322};
enum { ATTN_SEQ_POINTS = (int)(sizeof attn_seq / sizeof attn_seq[0]) };

/* A step's attention: one forward and one backward of 2.5 times its FLOPs. */
static double step_rate(double fwd, double bwd)
{
	return 3.5 / (1.0 / fwd + 2.5 / bwd);
}

static int attention_seq_init(struct curve *cv, const double *fwd, const double *bwd)
{
	struct numlist xs = {0}, ys = {0};
	int i, last = ATTN_SEQ_POINTS - 1;
	for (i = 0; i < ATTN_SEQ_POINTS; i++) {
		xs.v[i] = attn_seq[i];
		ys.v[i] = step_rate(fwd[i], bwd[i]) / step_rate(fwd[last], bwd[last]);
	}
	xs.n = ys.n = ATTN_SEQ_POINTS;
	return curve_init(cv, &xs, &ys);
}

static int curve_init(struct curve *cv, const struct numlist *x, const struct numlist *y)
{
	int i;
	cv->constant = fallback_gemm;
	cv->n = x->n < y->n ? x->n : y->n;
	for (i = 0; i < cv->n; i++) {
		cv->logx[i] = log10(x->v[i]);
		cv->y[i] = y->v[i];
	}
	if (cv->n == 1)
		cv->constant = cv->y[0];
	if (cv->n >= 2) {
		cv->interp = gsl_interp_alloc(gsl_interp_linear, (size_t)cv->n);
		cv->accel = gsl_interp_accel_alloc();
		if (cv->interp == NULL || cv->accel == NULL ||
		    gsl_interp_init(cv->interp, cv->logx, cv->y, (size_t)cv->n) != GSL_SUCCESS)
			return -1;
	}
	return 0;
}

static void curve_free(struct curve *cv)
{
	if (cv->interp)
		gsl_interp_free(cv->interp);
	if (cv->accel)
		gsl_interp_accel_free(cv->accel);
}

static double curve_eval(const struct curve *cv, double flops)
{
	double lx;
	if (cv->interp == NULL)
		return cv->constant;
	lx = log10(flops > 1 ? flops : 1);
	if (lx <= cv->logx[0])
		return cv->y[0];
	if (lx >= cv->logx[cv->n - 1])
		return cv->y[cv->n - 1];
	return gsl_interp_eval(cv->interp, cv->logx, cv->y, lx, cv->accel);
}

struct compute *compute_new(const struct gpu_spec *gpu, struct mark at, struct diag *d)
{
	struct compute *c = xcalloc(1, sizeof *c);
	c->gpu = *gpu;
	c->fp8_scale = 1;
	c->memory_eff = gpu->efficiency.memory > 0 ? gpu->efficiency.memory : fallback_memory;
	c->attention_eff = gpu->efficiency.attention > 0 ? gpu->efficiency.attention
							 : fallback_attention;
	/* A GPU without its own FlashAttention-2 figure is one where FlashAttention-2 is the
	 * fused kernel (Ampere, the fallback's source) or where none is published. */
	c->flash2_eff = gpu->efficiency.attention_flash2 > 0 ? gpu->efficiency.attention_flash2
							     : c->attention_eff;
	c->kernel_latency = gpu->efficiency.kernel_latency > 0 ? gpu->efficiency.kernel_latency
							       : fallback_kernel_latency;
	if (curve_init(&c->gemm, &gpu->efficiency.gemm_flops, &gpu->efficiency.gemm_fraction) ||
	    curve_init(&c->fp8, &gpu->efficiency.fp8_gemm_flops,
		       &gpu->efficiency.fp8_gemm_fraction) ||
	    attention_seq_init(&c->seq_fused, cudnn_fwd, cudnn_bwd) ||
	    attention_seq_init(&c->seq_flash2, flash2_fwd, flash2_bwd)) {
		diag_add(d, at, NULL, "cannot build the GEMM efficiency curve of %s",
			 gpu->name ? gpu->name : "the GPU");
		compute_free(c);
		return NULL;
	}
	return c;
}

void compute_scale_fp8(struct compute *c, double scale)
{
	c->fp8_scale = scale;
}

void compute_free(struct compute *c)
{
	if (c == NULL)
		return;
	curve_free(&c->gemm);
	curve_free(&c->fp8);
	curve_free(&c->seq_fused);
	curve_free(&c->seq_flash2);
	free(c);
}

double compute_gemm_efficiency(const struct compute *c, double flops)
{
	return curve_eval(&c->gemm, flops);
}

/* An FP8 GEMM: the GPU's FP8 curve; without one, the 16-bit curve at half the FLOPs — the
 * same time at twice the rate, so small FP8 GEMMs gain less than large ones (assumption, for
 * GPUs whose FP8 GEMMs no source measured). */
static double gemm_efficiency_of(const struct compute *c, enum dtype dtype, double flops)
{
	if (dtype != DTYPE_FP8)
		return curve_eval(&c->gemm, flops);
	if (c->fp8.n > 0)
		return c->fp8_scale * curve_eval(&c->fp8, flops);
	return c->fp8_scale * curve_eval(&c->gemm, flops / 2);
}

double compute_gpu_peak(const struct gpu_spec *gpu, enum dtype dtype)
{
	/* Quantized weights are dequantized into 16-bit GEMMs (AWQ/GPTQ kernels). */
	if (dtype == DTYPE_INT8 || dtype == DTYPE_INT4)
		dtype = DTYPE_FP16;
	if (gpu->flops[dtype] > 0)
		return gpu->flops[dtype];
	/* A GPU without that type runs it as bf16 (fp8 on A100), or fp32 for tf32. */
	if (gpu->flops[DTYPE_BF16] > 0)
		return gpu->flops[DTYPE_BF16];
	if (gpu->flops[DTYPE_FP16] > 0)
		return gpu->flops[DTYPE_FP16];
	return gpu->flops[DTYPE_FP32] > 0 ? gpu->flops[DTYPE_FP32] : 1e12;
}

double compute_kernel_latency(const struct compute *c)
{
	return c->kernel_latency;
}

double compute_peak(const struct compute *c, enum dtype dtype)
{
	return compute_gpu_peak(&c->gpu, dtype);
}

static double element_bytes(enum dtype dtype)
{
	return dtype == DTYPE_FP32 || dtype == DTYPE_TF32 ? 4 : dtype == DTYPE_FP8 ? 1 : 2;
}

double compute_stream_time(const struct compute *c, double bytes)
{
	double bw = c->gpu.memory_bw > 0 ? c->gpu.memory_bw : 1e12;
	return bytes / (bw * c->memory_eff);
}

/*
 * NVIDIA, "Matrix Multiplication Background User's Guide", tile and wave quantization: the
 * m x n output is cut into tiles, one per SM at a time; a GEMM takes ceil(tiles / SMs) waves, so
 * a last partial wave leaves SMs idle, and partial tiles compute padding. The fraction of the
 * work that is useful is tiles' real area over waves x SMs x tile area.
 *
 * A grouped GEMM is one kernel over the problems of a layer's experts: groups - 1 of m rows and
 * one of m_last (the busiest expert; m_last = m and groups 1 for a plain GEMM). vLLM's
 * fused_moe Triton kernel launches one grid over the tokens of every expert, padded per expert
 * to its block of rows (vllm/model_executor/layers/fused_moe/fused_moe.py); CUTLASS's grouped
 * GEMM schedules the tiles of all its problems on the SMs together (cutlass
 * examples/24_gemm_grouped). Their tiles fill the waves together, the busiest expert's extra
 * rows being more tiles, not a kernel of their own; neither splits K.
 */
struct gemm_shape {
	double groups, m, m_last, n, k;
	bool split_k;
};

/* Rows over all groups. */
static double gemm_rows(const struct gemm_shape *g)
{
	return (g->groups - 1) * g->m + g->m_last;
}

static double waves_of(const struct gemm_shape *g, double tm, double tn, double sms)
{
	double tiles = ((g->groups - 1) * ceil(g->m / tm) + ceil(g->m_last / tm)) * ceil(g->n / tn);
	double rows = gemm_rows(g);
	/* Split-K: when the output makes less than a wave of tiles, the K dimension is split
	 * among the idle SMs, each part at least 256 deep, and the parts summed (CUTLASS "Efficient
	 * GEMM in CUDA", split-K; stream-K, Osama et al. 2023, does the same for partial waves). */
	double split = g->split_k && tiles < sms ? fmax(1.0, fmin(floor(sms / tiles),
								  floor(g->k / 256)))
						 : 1.0;
	return rows * g->n * split / (ceil(tiles * split / sms) * sms * tm * tn);
}

/* cuBLAS picks among its tiles the one that wastes least (the guide shows 256x128 and
 * 128x128): the preset's largest tile, its transpose, and the square half-size one. */
static double wave_efficiency(const struct compute *c, const struct gemm_shape *g)
{
	double tm = (double)c->gpu.efficiency.tile_m, tn = (double)c->gpu.efficiency.tile_n;
	double sms = (double)c->gpu.sms, best, e;
	double half = (tm < tn ? tm : tn);
	if (sms <= 0 || tm <= 0 || tn <= 0 || g->m_last < 1 || g->n < 1)
		return 1.0;
	/* Skinny GEMMs get skinny tiles: CUTLASS and cuBLAS carry tiles down to 16 rows or
	 * columns (cutlass/include/cutlass/gemm/device/default_gemm_configuration.h, warp shapes of
	 * 16), so a tile is never taller or wider than the problem padded to 16. */
	tm = fmin(tm, 16 * ceil(g->m_last / 16));
	tn = fmin(tn, 16 * ceil(g->n / 16));
	half = fmin(half, fmax(tm, tn));
	best = waves_of(g, tm, tn, sms);
	e = waves_of(g, tn, tm, sms);
	if (e > best)
		best = e;
	e = waves_of(g, half, half, sms);
	if (e > best)
		best = e;
	return best;
}

/* A GEMM's time: the larger of its FLOPs at the curve's rate for its total FLOPs and its wave
 * efficiency, and the bytes it streams (the k x n weights of every group at weight_bytes). */
static double gemm_time(const struct compute *c, enum dtype dtype, double weight_bytes,
			const struct gemm_shape *g)
{
	double rows = gemm_rows(g);
	double flops = 2 * rows * g->n * g->k;
	double t_flops = flops / (compute_peak(c, dtype) * gemm_efficiency_of(c, dtype, flops) *
				  wave_efficiency(c, g));
	double act = dtype == DTYPE_INT8 || dtype == DTYPE_INT4 ? 2 : element_bytes(dtype);
	double t_bytes = compute_stream_time(c, rows * (g->k + g->n) * act +
						g->groups * g->k * g->n * weight_bytes);
	return t_flops > t_bytes ? t_flops : t_bytes;
}

double compute_gemm_time_weights(const struct compute *c, enum dtype dtype, double weight_bytes,
				 double m, double n, double k)
{
	struct gemm_shape g = {1, m, m, n, k, true};
	return gemm_time(c, dtype, weight_bytes, &g);
}

double compute_grouped_gemm_time(const struct compute *c, enum dtype dtype, double weight_bytes,
				 double groups, double m, double m_last, double n, double k)
{
	struct gemm_shape g = {groups, m, m_last, n, k, false};
	if (groups <= 0 || gemm_rows(&g) <= 0)
		return 0;
	return gemm_time(c, dtype, weight_bytes, &g);
}

double compute_gemm_time(const struct compute *c, enum dtype dtype, double m, double n, double k)
{
	return compute_gemm_time_weights(c, dtype, element_bytes(dtype), m, n, k);
}

/* FP8 training and serving run attention in 16 bits: Transformer Engine's FP8 recipes leave
 * dot-product attention in BF16 unless fp8_dpa is set (transformer_engine/common/recipe), and
 * vLLM's FP8 weights do not change the attention kernel's precision.
 * FlashAttention-1 runs at half FlashAttention-2's rate: Dao 2023 (arXiv:2307.08691), abstract,
 * FlashAttention-2 yields "around 2x speedup compared to FlashAttention"; sec. 1, the first
 * reaches "only 25-40%" of the A100's peak (0.65 / 2 = 0.325). Its Triton port
 * (flash_attn/flash_attn_triton.py @eff9fe6b, the kernel of llm-foundry's attn_impl triton):
 * "Overall Triton forward + backward is slightly slower than CUDA forward + backward". */
double compute_attention_time(const struct compute *c, enum dtype dtype, double flops,
			      enum attention_kernel kernel)
{
	double eff = kernel == ATTENTION_FLASH2 ? c->flash2_eff
		     : kernel == ATTENTION_FLASH1 ? c->flash2_eff / 2 : c->attention_eff;
	if (dtype == DTYPE_FP8)
		dtype = DTYPE_BF16;
	return flops / (compute_peak(c, dtype) * eff);
}

/*
 * Shah et al. 2024 (FlashAttention-3, arXiv:2407.08608) measure each kernel on H100 SXM5 in BF16
 * at head dimensions 64 and 128; at sequence 4k, cuDNN's causal forward runs 363 and 518
 * TFLOP/s (Fig. 4), its backward 417 and 499 (Fig. 5); FlashAttention-2's 284 and 319, 279 and
 * 310. A step's attention is a forward and a backward of 2.5 times its FLOPs (the paper's
 * count), so it runs at 3.5 / (1/fwd + 2.5/bwd): cuDNN 400 against 504 TFLOP/s, 0.79 of its
 * head-dim-128 rate at 64; FlashAttention-2 280 against 312, 0.90. Between the two dimensions
 * the fraction goes linearly; below 64 it stays at 64's, above 128 at 1 (the backward figure
 * stops at 128). The same kernel keeps its fraction on other GPUs, an assumption (no published
 * pair for them). FlashAttention-1 and its Triton port: no published pair, no change.
 */
/* The kernel's fraction of its plateau rate at this sequence length, on the curves above
 * (linear in log sequence, 512's below 512, 1 above 16k). FlashAttention-1 and its Triton port:
 * no published curve, no change. */
double compute_attention_seq_scale(const struct compute *c, enum attention_kernel kernel,
				   double seq)
{
	if (kernel == ATTENTION_FLASH1)
		return 1.0;
	return curve_eval(kernel == ATTENTION_FLASH2 ? &c->seq_flash2 : &c->seq_fused, seq);
}

double compute_attention_head_dim_scale(enum attention_kernel kernel, double head_dim)
{
	double at64, t;
	if (kernel == ATTENTION_FLASH1 || head_dim >= 128)
		return 1.0;
	at64 = kernel == ATTENTION_FLASH2 ? step_rate(284, 279) / step_rate(319, 310)
					  : step_rate(363, 417) / step_rate(518, 499);
	t = head_dim <= 64 ? 0.0 : (head_dim - 64) / 64.0;
	return at64 + (1.0 - at64) * t;
}
