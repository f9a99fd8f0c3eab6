/*
 * result: step metrics from a finished engine. Output stage.
 * MFU and HFU follow Korthikanti et al. 2022, sec. 6: model FLOPs (no recomputation) and hardware
 * FLOPs (with it) per second over the GPUs' dense peak for the precision the GEMMs run in.
 */
#include "result.h"

#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "xalloc.h"

/* Which category a moment belongs to when several are active: the GPU computing hides
 * communication; among communications the one on the critical path first. */
static const int priority[STEP_CATEGORIES] = {
	STEP_COMPUTE, STEP_OPTIMIZER, STEP_TP, STEP_EP, STEP_CP, STEP_PP, STEP_DP, STEP_OFFLOAD,
};

struct edge {
	double time;
	int category;
	int delta;        /* +1 start, -1 end */
	uint32_t op;
};

/* Edges by time, ends before starts at the same instant, then by op: a total order (an op's
 * start and end differ in delta), so any sort gives the same sequence. */
static bool before(const struct edge *x, const struct edge *y)
{
	if (x->time != y->time)
		return x->time < y->time;
	if (x->delta != y->delta)
		return x->delta < y->delta;
	return x->op < y->op;
}

/* A merge sort with the comparison inlined (qsort's calls through a pointer and its buffer
 * were a tenth of a simulated sweep point): runs of 16 by insertion, then merges into tmp and
 * back. */
static void sort_edges(struct edge *a, size_t n)
{
	struct edge *tmp, *src = a, *dst;
	size_t i, j, w;
	for (i = 0; i < n; i += 16) {
		size_t end = i + 16 < n ? i + 16 : n;
		for (j = i + 1; j < end; j++) {
			struct edge t = a[j];
			size_t k = j;
			for (; k > i && before(&t, &a[k - 1]); k--)
				a[k] = a[k - 1];
			a[k] = t;
		}
	}
	if (n <= 16)
		return;
	tmp = xcalloc(n, sizeof *tmp);
	dst = tmp;
	for (w = 16; w < n; w *= 2) {
		struct edge *t;
		for (i = 0; i < n; i += 2 * w) {
			size_t m = i + w < n ? i + w : n, end = i + 2 * w < n ? i + 2 * w : n;
			size_t l = i, r = m, o = i;
			while (l < m && r < end)
				dst[o++] = before(&src[r], &src[l]) ? src[r++] : src[l++];
			while (l < m)
				dst[o++] = src[l++];
			while (r < end)
				dst[o++] = src[r++];
		}
		t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
	free(tmp);
}

static bool touches(const struct graph *g, const struct graph_op *o, uint32_t device)
{
	uint32_t k;
	if (g->streams[o->stream].device == device)
		return true;
	for (k = 0; k < o->nlinks; k++)
		if (g->links[g->op_links[o->first_link + k]].device == device)
			return true;
	return false;
}

static void breakdown(const struct graph *g, const struct engine *e, uint32_t device,
		      struct result *r)
{
	struct edge *edges = xcalloc(2 * g->nops + 1, sizeof *edges);
	size_t n = 0, i;
	int active[STEP_CATEGORIES] = {0};
	double t = 0;
	for (i = 0; i < g->nops; i++) {
		const struct graph_op *o = &g->ops[i];
		double a = engine_op_start(e, i), b = engine_op_end(e, i);
		if (!engine_op_done(e, i) || b <= a || !touches(g, o, device))
			continue;
		edges[n++] = (struct edge){a, o->category, 1, (uint32_t)i};
		edges[n++] = (struct edge){b, o->category, -1, (uint32_t)i};
	}
	sort_edges(edges, n);
	for (i = 0; i < n; i++) {
		double dt = edges[i].time - t;
		int k, owner = -1;
		for (k = 0; k < STEP_CATEGORIES && owner < 0; k++)
			if (active[priority[k]] > 0)
				owner = priority[k];
		if (owner >= 0)
			r->exposed[owner] += dt;
		else
			r->bubble += dt;
		t = edges[i].time;
		active[edges[i].category] += edges[i].delta;
	}
	r->bubble += r->step_s - t;
	free(edges);
}

void result_build(const struct scenario *s, const struct step_plan *p, const struct engine *e,
		  struct result *r)
{
	const struct memtrack *m = engine_memory(e);
	double gpus = (double)s->cluster.gpus;
	/* MFU's denominator is the peak of the precision the GEMMs run in (Chowdhery et al. 2022,
	 * app. B), the one compute times them at: QLoRA's int4/int8 base runs in 16-bit. */
	double peak = compute_gpu_peak(&s->cluster.node.gpu, s->workload.dtype);
	int64_t d;
	memset(r, 0, sizeof *r);
	r->step_s = engine_now(e);
	r->events = engine_events(e);
	r->simulated_gpus = p->devices;
	r->analytic_peak = p->analytic_peak;
	memcpy(r->layer, p->layer, sizeof r->layer);
	r->layer_tokens = p->layer_tokens;
	breakdown(p->graph, e, 0, r);
	if (r->step_s > 0) {
		r->tokens_per_s = p->tokens / r->step_s;
		r->tflops_per_gpu = p->model_flops / r->step_s / gpus / 1e12;
		if (peak > 0) {
			r->mfu = p->model_flops / r->step_s / gpus / peak;
			r->hfu = p->hardware_flops / r->step_s / gpus / peak;
		}
	}
	for (d = 0; d < p->devices; d++) {
		double when;
		if (memtrack_peak(m, (size_t)d) > r->peak_per_gpu) {
			r->peak_per_gpu = memtrack_peak(m, (size_t)d);
			r->peak_stage = d;
		}
		if (memtrack_is_oom(m, (size_t)d, &when))
			r->oom = true;
	}
}
