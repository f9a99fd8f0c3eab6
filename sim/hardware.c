/*
 * hardware: the checks between hardware keys that the schema's per-key ranges cannot make.
 * Input stage; it records diagnostics at the positions the loader gives and knows nothing of
 * the scenario around the hardware.
 */
#include "hardware.h"

/* A curve given as two parallel lists: one y per x, x ascending. */
static void check_curve(const struct numlist *x, const struct numlist *y, const char *xkey,
			const char *ykey, const char *what, struct diag *d,
			struct mark (*mark_of)(const void *ctx, const char *key), const void *ctx)
{
	int i;
	if (x->n != y->n)
		diag_add(d, mark_of(ctx, ykey), ykey, "expected one fraction per %s (%d), got %d",
			 what, x->n, y->n);
	for (i = 1; i < x->n; i++)
		if (!(x->v[i] > x->v[i - 1])) {
			diag_add(d, mark_of(ctx, xkey), xkey, "sizes must ascend: %g after %g",
				 x->v[i], x->v[i - 1]);
			break;
		}
}

int hardware_check_gpu(const struct gpu_spec *gpu, struct diag *d,
		       struct mark (*mark_of)(const void *ctx, const char *key), const void *ctx)
{
	size_t before = d->count;
	check_curve(&gpu->efficiency.gemm_flops, &gpu->efficiency.gemm_fraction,
		    "cluster.node.gpu.efficiency.gemm_flops",
		    "cluster.node.gpu.efficiency.gemm_fraction", "GEMM size", d, mark_of, ctx);
	check_curve(&gpu->efficiency.fp8_gemm_flops, &gpu->efficiency.fp8_gemm_fraction,
		    "cluster.node.gpu.efficiency.fp8_gemm_flops",
		    "cluster.node.gpu.efficiency.fp8_gemm_fraction", "GEMM size", d, mark_of, ctx);
	return d->count == before ? 0 : -1;
}

int hardware_check_cluster(struct hardware *hw, struct diag *d,
			   struct mark (*mark_of)(const void *ctx, const char *key),
			   const void *ctx)
{
	const char *key = "cluster.gpus";
	int64_t total = hw->nodes * hw->node.gpus_per_node;
	size_t before = d->count;
	check_curve(&hw->node.gpu_link.busbw_bytes, &hw->node.gpu_link.busbw_fraction,
		    "cluster.node.links.gpu.busbw_bytes", "cluster.node.links.gpu.busbw_fraction",
		    "message size", d, mark_of, ctx);
	check_curve(&hw->node.network.busbw_bytes, &hw->node.network.busbw_fraction,
		    "cluster.node.links.network.busbw_bytes",
		    "cluster.node.links.network.busbw_fraction", "message size", d, mark_of, ctx);
	if (hw->gpus == 0) {
		hw->gpus = total;
	} else if (hw->gpus > total) {
		diag_add(d, mark_of(ctx, key), key, "%lld GPUs do not fit in %lld node(s) of %lld",
			 (long long)hw->gpus, (long long)hw->nodes,
			 (long long)hw->node.gpus_per_node);
	} else if (hw->nodes > 1 && hw->gpus != total) {
		diag_add(d, mark_of(ctx, key), key,
			 "with %lld nodes every GPU is used (%lld), got %lld", (long long)hw->nodes,
			 (long long)total, (long long)hw->gpus);
	}
	return d->count == before ? 0 : -1;
}
