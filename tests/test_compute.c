/*
 * test_compute: roofline kernel times against hand calculations, and the GSL-interpolated GEMM
 * efficiency curve between and beyond its points.
 */
#include "check.h"

#include <gsl/gsl_errno.h>
#include <math.h>

#include "compute.h"

/* A100 80GB: 312 TFLOPS bf16 dense, 2039 GB/s (NVIDIA A100 datasheet), with a made-up curve of
 * two points: 50 % at 1e9 FLOPs, 80 % at 1e12 FLOPs. */
static struct gpu_spec a100(void)
{
	struct gpu_spec g;
	memset(&g, 0, sizeof g);
	g.name = (char *)"a100";
	g.flops[DTYPE_BF16] = 312e12;
	g.flops[DTYPE_FP16] = 312e12;
	g.flops[DTYPE_FP32] = 19.5e12;
	g.memory_bw = 2039e9;
	g.efficiency.gemm_flops.n = 2;
	g.efficiency.gemm_flops.v[0] = 1e9;
	g.efficiency.gemm_flops.v[1] = 1e12;
	g.efficiency.gemm_fraction.n = 2;
	g.efficiency.gemm_fraction.v[0] = 0.5;
	g.efficiency.gemm_fraction.v[1] = 0.8;
	g.efficiency.memory = 0.9;
	g.efficiency.attention = 0.7;
	return g;
}

/* The GPU's compute model; the test fails, printing why, when it cannot be built. */
static struct compute *new_compute(const struct gpu_spec *g)
{
	struct mark at = {"test_compute", 0, 0};
	struct diag d;
	struct compute *c;
	diag_init(&d);
	c = compute_new(g, at, &d);
	if (c == NULL) {
		diag_print(&d, stderr);
		fail();
	}
	diag_release(&d);
	return c;
}

static void gemm_efficiency_interpolates_in_log_size(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c = new_compute(&g);
	(void)state;
	assert_non_null(c);
	/* log10 1e9 = 9, log10 1e12 = 12: at 1e10 one third of the way from 0.5 to 0.8 = 0.6 */
	check_rel(compute_gemm_efficiency(c, 1e10), 0.6, 1e-12);
	check_rel(compute_gemm_efficiency(c, 1e6), 0.5, 0);
	check_rel(compute_gemm_efficiency(c, 1e15), 0.8, 0);
	compute_free(c);
}

/* A big GEMM is compute-bound: 8192 x 8192 x 8192 bf16 = 1.0995e12 FLOPs at 0.8 x 312 TFLOPS
 * = 4.405 ms; its 3 x 128 MiB of operands take 0.22 ms. */
static void a_large_gemm_is_compute_bound(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c = new_compute(&g);
	double flops = 2.0 * 8192 * 8192 * 8192;
	(void)state;
	check_rel(compute_gemm_time(c, DTYPE_BF16, 8192, 8192, 8192), flops / (312e12 * 0.8), 1e-12);
	compute_free(c);
}

/* A decode GEMV is memory-bound: 1 x 8192 by 8192 x 8192 in bf16 reads 128 MiB of weights:
 * (8192 + 8192*8192 + 8192) * 2 bytes / (2039 GB/s * 0.9). */
static void a_gemv_is_memory_bound(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c = new_compute(&g);
	double bytes = (8192.0 + 8192.0 * 8192 + 8192) * 2;
	(void)state;
	check_rel(compute_gemm_time(c, DTYPE_BF16, 1, 8192, 8192), bytes / (2039e9 * 0.9), 1e-12);
	check_rel(compute_stream_time(c, 1e9), 1e9 / (2039e9 * 0.9), 1e-12);
	compute_free(c);
}

/* A serving kernel's fixed GPU time: the preset's, or 4.6 us (compute.c's fit of gpt-fast's
 * seven batch-1 decode figures) for a GPU without one. */
static void a_kernel_costs_the_gpus_fixed_latency(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c = new_compute(&g);
	(void)state;
	check_rel(compute_kernel_latency(c), 4.6e-6, 1e-12);
	compute_free(c);
	g.efficiency.kernel_latency = 3e-6;
	c = new_compute(&g);
	check_rel(compute_kernel_latency(c), 3e-6, 0);
	compute_free(c);
}

static void attention_runs_at_its_own_efficiency(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c = new_compute(&g);
	(void)state;
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FUSED), 1e12 / (312e12 * 0.7), 1e-12);
	/* no FlashAttention-2 figure of its own: FlashAttention-2 is the fused kernel's rate,
	 * FlashAttention-1 half of it */
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FLASH2),
		  1e12 / (312e12 * 0.7), 1e-12);
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FLASH1),
		  1e12 / (312e12 * 0.35), 1e-12);
	/* int4 weights run 16-bit GEMMs; fp8 on a GPU without fp8 falls back to bf16 */
	check_rel(compute_peak(c, DTYPE_INT4), 312e12, 0);
	check_rel(compute_peak(c, DTYPE_FP8), 312e12, 0);
	compute_free(c);
}

/* An H100-like GPU: FlashAttention-2 reaches "up to 335 TFLOPs/s" forward and backward on H100
 * (Dao 2023, sec. 4.1), 0.339 of 989.4 TFLOPS; cuDNN's fused kernel keeps its own fraction. A
 * 1e12-FLOP attention takes 1e12 / (989.4e12 * 0.339) = 2.98146 ms with FlashAttention-2 and
 * 1e12 / (989.4e12 * 0.65) = 1.55494 ms fused; FP8 training runs it in BF16 either way. */
static void flash_attention_2_runs_at_its_own_rate(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c;
	(void)state;
	g.flops[DTYPE_BF16] = 989.4e12;
	g.flops[DTYPE_FP8] = 1978.9e12;
	g.efficiency.attention = 0.65;
	g.efficiency.attention_flash2 = 0.339;
	c = new_compute(&g);
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FLASH2), 2.98146e-3, 1e-5);
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FUSED), 1.55494e-3, 1e-5);
	check_rel(compute_attention_time(c, DTYPE_FP8, 1e12, ATTENTION_FLASH2), 2.98146e-3, 1e-5);
	/* FlashAttention-1 (and its Triton port) at half FlashAttention-2's rate (Dao 2023,
	 * abstract: "around 2x speedup compared to FlashAttention"): 2 x 2.98146 ms. */
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FLASH1), 5.96291e-3, 1e-5);
	compute_free(c);
}

/* Head dimension (Shah et al. 2024, FlashAttention-3, H100 SXM5 BF16, sequence 4k). cuDNN: causal
 * forward 363 TFLOP/s at head dim 64, 518 at 128 (Fig. 4); backward 417 and 499 (Fig. 5). A
 * step (forward plus a backward of 2.5 times its FLOPs) runs at 3.5 / (1/363 + 2.5/417) =
 * 400.00 against 3.5 / (1/518 + 2.5/499) = 504.29 TFLOP/s: 0.79319 at 64. FlashAttention-2:
 * 284 / 319 forward, 279 / 310 backward: 280.41 against 312.52, 0.89725. Head dim 96 is half
 * way; 32 keeps 64's figure; 192 (MLA) and FlashAttention-1 are not scaled. */
static void attention_slows_at_small_head_dims(void **state)
{
	(void)state;
	check_rel(compute_attention_head_dim_scale(ATTENTION_FUSED, 64), 400.00 / 504.29, 1e-4);
	check_rel(compute_attention_head_dim_scale(ATTENTION_FLASH2, 64), 280.41 / 312.52, 1e-4);
	check_rel(compute_attention_head_dim_scale(ATTENTION_FUSED, 96),
		  (1 + 400.00 / 504.29) / 2, 1e-4);
	check_rel(compute_attention_head_dim_scale(ATTENTION_FUSED, 32), 400.00 / 504.29, 1e-4);
	check_rel(compute_attention_head_dim_scale(ATTENTION_FUSED, 128), 1, 0);
	check_rel(compute_attention_head_dim_scale(ATTENTION_FUSED, 192), 1, 0);
	check_rel(compute_attention_head_dim_scale(ATTENTION_FLASH1, 64), 1, 0);
}

/* The shipped H100 preset's fused (cuDNN) attention at the FlashAttention-3 paper's measurement
 * (Shah et al. 2024, H100 SXM5 BF16, head dim 128): at sequence 16k, the plateau the preset
 * gives, 539 TFLOP/s forward with the causal mask (Fig. 4) and 516 backward (Fig. 5); a step's
 * attention is a forward and a backward of 2.5 times its FLOPs, so 1e12 FLOPs take
 * 1e12 (1/539 + 2.5/516) / 3.5 / 1e12 s = 1.91436 ms; the preset rounds the fraction,
 * 522.37 / 989.4 = 0.52797, to 0.528 (0.01 %). At sequence 4k the same figures are 518 and 499: 1.98290 ms, the time the preset's
 * rate divided by the sequence scale gives. */
static void h100_fused_attention_runs_at_cudnns_measured_rate(void **state)
{
	struct scenario *s = check_scenariof("h100",
		"model: llama-2-7b\ncluster: {node: dgx-h100, nodes: 1}\n"
		"workload: {seq_len: 4096, global_batch: 8}\n");
	struct compute *c = new_compute(&s->cluster.node.gpu);
	double plateau = 1e12 * (1 / 539e12 + 2.5 / 516e12) / 3.5;
	double at4k = 1e12 * (1 / 518e12 + 2.5 / 499e12) / 3.5;
	(void)state;
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FUSED), plateau, 1e-3);
	check_rel(compute_attention_time(c, DTYPE_BF16, 1e12, ATTENTION_FUSED) /
			  compute_attention_seq_scale(c, ATTENTION_FUSED, 4096),
		  at4k, 1e-3);
	compute_free(c);
	scenario_free(s);
}

/* The same paper's figures by sequence length (512 ... 16k), each kernel's step rate over its
 * 16k rate. cuDNN at 2k: forward 484, backward 465, 3.5 / (1/484 + 2.5/465) = 470.27 against
 * 522.37 at 16k. FlashAttention-2 at 4k: 319 and 310, 312.52 against 325.61 (335 and 322).
 * Half way between 4k and 8k in log sequence (5793) cuDNN is half way between 504.28 and
 * 521.10. Below 512 the figure stays at 512's (315 and 305: 307.79), above 16k at 1;
 * FlashAttention-1 has no published curve and keeps its rate. */
static void attention_slows_at_short_sequences(void **state)
{
	struct scenario *s = check_scenariof("h100",
		"model: llama-2-7b\ncluster: {node: dgx-h100, nodes: 1}\n"
		"workload: {seq_len: 4096, global_batch: 8}\n");
	struct compute *c = new_compute(&s->cluster.node.gpu);
	(void)state;
	check_rel(compute_attention_seq_scale(c, ATTENTION_FUSED, 2048), 470.27 / 522.37, 1e-4);
	check_rel(compute_attention_seq_scale(c, ATTENTION_FLASH2, 4096), 312.52 / 325.61, 1e-4);
	check_rel(compute_attention_seq_scale(c, ATTENTION_FUSED, sqrt(4096.0 * 8192.0)),
		  (504.28 + 521.10) / 2 / 522.37, 1e-4);
	check_rel(compute_attention_seq_scale(c, ATTENTION_FUSED, 256), 307.79 / 522.37, 1e-4);
	check_rel(compute_attention_seq_scale(c, ATTENTION_FUSED, 32768), 1, 0);
	check_rel(compute_attention_seq_scale(c, ATTENTION_FLASH1, 2048), 1, 0);
	compute_free(c);
	scenario_free(s);
}

/* The A100 of a100() with its 108 SMs, 256 x 128 tiles and a constant 0.859 GEMM ceiling. */
static struct compute *tiled_a100(void)
{
	struct gpu_spec g = a100();
	g.sms = 108;
	g.efficiency.tile_m = 256;
	g.efficiency.tile_n = 128;
	g.efficiency.gemm_flops.n = 1;
	g.efficiency.gemm_fraction.n = 1;
	g.efficiency.gemm_fraction.v[0] = 0.859;
	return new_compute(&g);
}

/*
 * NVIDIA's tile and wave quantization on 108 SMs: a 2048 x 3072 output makes 192 tiles of
 * 256 x 128 (or 128 x 256), two waves of 108 — or 384 tiles of 128 x 128, four waves; either way
 * 2048*3072 / (216 * 32768) = 0.8889 of the work is useful. With a constant 0.859 ceiling the
 * GEMM takes 2*2048*3072*4096 / (312e12 * 0.859 * 0.8889).
 */
static void a_partial_last_wave_costs_time(void **state)
{
	struct compute *c = tiled_a100();
	double useful = 2048.0 * 3072 / (216.0 * 32768);
	(void)state;
	check_rel(compute_gemm_time(c, DTYPE_BF16, 2048, 3072, 4096),
		  2.0 * 2048 * 3072 * 4096 / (312e12 * 0.859 * useful), 1e-12);
	/* 2048 x 4096: 128 x 128 tiles make 512 = 4.74 waves -> 5; useful 512/540 */
	check_rel(compute_gemm_time(c, DTYPE_BF16, 2048, 4096, 4096),
		  2.0 * 2048 * 4096 * 4096 / (312e12 * 0.859 * (512.0 / 540.0)), 1e-12);
	compute_free(c);
}

/*
 * FP8 GEMMs on an H100-like GPU (989 TFLOPS bf16, 1979 fp8): with an FP8 curve (70 % at every
 * size) an 8192^3 GEMM takes 1.0995e12 / (1979e12 * 0.7); without one, the 16-bit curve at half
 * the FLOPs: 5.4976e11 lies between the curve's 1e9 and 1e12 at log10 fraction 0.9134, so
 * 0.5 + 0.3 * 0.9134 = 0.77402 of the FP8 peak. Attention stays at the 16-bit peak either way.
 */
static void fp8_gemms_follow_their_own_curve(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c;
	double flops = 2.0 * 8192 * 8192 * 8192, frac, bf16;
	(void)state;
	g.flops[DTYPE_BF16] = g.flops[DTYPE_FP16] = 989e12;
	g.flops[DTYPE_FP8] = 1979e12;
	g.memory_bw = 3.35e12;
	c = new_compute(&g);
	frac = 0.5 + 0.3 * (log10(flops / 2) - 9) / 3;
	check_rel(compute_gemm_time(c, DTYPE_FP8, 8192, 8192, 8192), flops / (1979e12 * frac),
		  1e-9);
	check_rel(compute_attention_time(c, DTYPE_FP8, 1e12, ATTENTION_FUSED), 1e12 / (989e12 * 0.7), 1e-12);
	compute_free(c);
	g.efficiency.fp8_gemm_flops.n = 1;
	g.efficiency.fp8_gemm_flops.v[0] = 1e12;
	g.efficiency.fp8_gemm_fraction.n = 1;
	g.efficiency.fp8_gemm_fraction.v[0] = 0.7;
	c = new_compute(&g);
	check_rel(compute_gemm_time(c, DTYPE_FP8, 8192, 8192, 8192), flops / (1979e12 * 0.7),
		  1e-12);
	/* A training recipe that keeps 0.942 of the curve (runtime.fp8_gemm_scale): 70 % x 0.942
	 * of the FP8 peak; 16-bit GEMMs keep their own curve. */
	bf16 = compute_gemm_time(c, DTYPE_BF16, 8192, 8192, 8192);
	compute_scale_fp8(c, 0.942);
	check_rel(compute_gemm_time(c, DTYPE_FP8, 8192, 8192, 8192),
		  flops / (1979e12 * 0.7 * 0.942), 1e-12);
	check_rel(compute_gemm_time(c, DTYPE_BF16, 8192, 8192, 8192), bf16, 0);
	compute_free(c);
}

/* A skinny GEMM gets a skinny tile: 64 x 4096 on 108 SMs with 256 x 128 tiles runs 64 x 128
 * tiles, 32 of them, not 16 tiles of which three quarters pad. A small output splits K among
 * the idle SMs: 512 x 1024 by 16384 makes 16 tiles of 256 x 128, split 6 ways (108 / 16) into
 * 96 units, one wave: 96/108 of the GPU busy. Compute-bound at 0.859 x 312 TFLOPS x 0.889:
 * 1.72e10 FLOPs take 72 us against 28 us for its 51 MB. */
static void a_skinny_gemm_gets_a_skinny_tile(void **state)
{
	struct compute *c = tiled_a100();
	double useful = 96.0 / 108.0;
	(void)state;
	check_rel(compute_gemm_time(c, DTYPE_BF16, 512, 1024, 16384),
		  2.0 * 512 * 1024 * 16384 / (312e12 * 0.859 * useful), 1e-12);
	/* 64 x 4096 by 8192: 32 tiles of 64 x 128, split 3 ways: 96/108 busy too, now
	 * memory-bound: (64*8192 + 64*4096 + 8192*4096) * 2 bytes at 2039 GB/s x 0.9. */
	check_rel(compute_gemm_time(c, DTYPE_BF16, 64, 4096, 8192),
		  (64.0 * 8192 + 64.0 * 4096 + 8192.0 * 4096) * 2 / (2039e9 * 0.9), 1e-12);
	compute_free(c);
}

/*
 * A grouped kernel (vLLM's fused_moe) runs the tiles of all its experts' GEMMs in one grid.
 * 20 experts of 200 rows by 3072 columns, K 5120, on 108 SMs with 256 x 128 tiles: rows 200
 * pad to a 208-row tile, 24 tiles an expert, 480 in all, 5 waves of 108 = 540 tile slots;
 * 20*200*3072 / (540 * 208 * 128) = 0.8547 of them useful (128 x 208 tiles: 600 tiles, 6 waves,
 * 0.7123; 128 x 128: 960, 9 waves, 0.7716). At 0.859 of 312 TFLOPS its 1.258e11 FLOPs take
 * 549 us, above the 379 us its 695 MB need at 0.9 x 2039 GB/s.
 */
static void a_grouped_gemm_fills_waves_with_every_experts_tiles(void **state)
{
	struct compute *c = tiled_a100();
	double rows = 20.0 * 200, useful = rows * 3072 / (540.0 * 208 * 128);
	(void)state;
	check_rel(compute_grouped_gemm_time(c, DTYPE_BF16, 2, 20, 200, 200, 3072, 5120),
		  2.0 * rows * 3072 * 5120 / (312e12 * 0.859 * useful), 1e-12);
	assert_true(compute_grouped_gemm_time(c, DTYPE_BF16, 2, 0, 200, 200, 3072, 5120) == 0);
	compute_free(c);
}

/*
 * The kernel's rate is the curve's at its total FLOPs: eight 1024^3 GEMMs (2.147e9 FLOPs each,
 * 1.718e10 together) run at 0.5 + 0.3 * (log10(1.718e10) - 9) / 3 = 0.6235 of the peak, where
 * each alone reaches 0.5 + 0.3 * 0.3319 / 3 = 0.5332: grouped, they take 88 us, not 103.
 */
static void a_grouped_gemm_runs_at_the_rate_of_its_total_flops(void **state)
{
	struct gpu_spec g = a100();
	struct compute *c = new_compute(&g);
	double each = 2.0 * 1024 * 1024 * 1024;
	(void)state;
	check_rel(compute_grouped_gemm_time(c, DTYPE_BF16, 2, 8, 1024, 1024, 1024, 1024),
		  8 * each / (312e12 * (0.5 + 0.1 * (log10(8 * each) - 9))), 1e-12);
	check_rel(8 * compute_gemm_time(c, DTYPE_BF16, 1024, 1024, 1024),
		  8 * each / (312e12 * (0.5 + 0.1 * (log10(each) - 9))), 1e-12);
	compute_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gemm_efficiency_interpolates_in_log_size),
		cmocka_unit_test(a_large_gemm_is_compute_bound),
		cmocka_unit_test(a_gemv_is_memory_bound),
		cmocka_unit_test(a_kernel_costs_the_gpus_fixed_latency),
		cmocka_unit_test(attention_runs_at_its_own_efficiency),
		cmocka_unit_test(flash_attention_2_runs_at_its_own_rate),
		cmocka_unit_test(h100_fused_attention_runs_at_cudnns_measured_rate),
		cmocka_unit_test(attention_slows_at_short_sequences),
		cmocka_unit_test(a_partial_last_wave_costs_time),
		cmocka_unit_test(fp8_gemms_follow_their_own_curve),
		cmocka_unit_test(a_skinny_gemm_gets_a_skinny_tile),
		cmocka_unit_test(a_grouped_gemm_fills_waves_with_every_experts_tiles),
		cmocka_unit_test(a_grouped_gemm_runs_at_the_rate_of_its_total_flops),
		cmocka_unit_test(attention_slows_at_small_head_dims),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
