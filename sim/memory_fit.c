/*
 * memory_fit: what fits, for the memory module: the largest micro-batch (train), the KV-cache
 * tokens in vLLM's budget (infer), both by Brent's method (GSL), and on a misfit the first single
 * change of strategy or dtype that fits. Domain stage, private to memory.c through memory_int.h.
 */
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layout.h"
#include "memory.h"
#include "memory_int.h"
#include "units.h"
#include "xalloc.h"

/* Brent's method (GSL) on [lo, hi], which must bracket a root; 0, or -1 when GSL fails. */
static int brent(gsl_function *f, double lo, double hi, double epsabs, double epsrel,
		 double *root)
{
	gsl_root_fsolver *solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
	int status, iter = 0;
	if (solver == NULL)
		return -1;
	status = gsl_root_fsolver_set(solver, f, lo, hi);
	while (status == GSL_SUCCESS) {
		status = gsl_root_fsolver_iterate(solver);
		if (status != GSL_SUCCESS)
			break;
		*root = gsl_root_fsolver_root(solver);
		status = gsl_root_test_interval(gsl_root_fsolver_x_lower(solver),
						gsl_root_fsolver_x_upper(solver), epsabs, epsrel);
		if (status == GSL_CONTINUE && ++iter < 200)
			status = GSL_SUCCESS;
		else if (status == GSL_CONTINUE)
			status = GSL_EMAXITER;
		else
			break;
	}
	gsl_root_fsolver_free(solver);
	return status == GSL_SUCCESS ? 0 : -1;
}

struct search {
	const double *t1, *t2;          /* each stage's total at micro-batch 1 and 2 */
	int64_t pp;
	double capacity;
};

/* The most loaded GPU's total for a continuous micro-batch b, less the capacity. */
static double excess(double b, void *params)
{
	struct search *x = params;
	double worst = 0;
	int64_t i;
	for (i = 0; i < x->pp; i++) {
		double t = x->t1[i] + (x->t2[i] - x->t1[i]) * (b - 1.0);
		if (t > worst)
			worst = t;
	}
	return worst - x->capacity;
}

/* Brent's method (GSL) on the continuous extension, then the integer below the root. */
static int max_micro_batch(struct search *x, int64_t *out)
{
	gsl_function f = {excess, x};
	double lo = 1.0, hi = 2.0, root = 1.0;
	if (excess(1.0, x) > 0) {
		*out = 0;
		return 0;
	}
	while (excess(hi, x) <= 0) {
		if (hi >= (double)(1 << 24)) {
			*out = 1 << 24;
			return 0;
		}
		lo = hi;
		hi *= 2;
	}
	if (brent(&f, lo, hi, 0, 1e-9, &root) != 0)
		return -1;
	*out = (int64_t)floor(root + 1e-9);
	if (*out > 1 && excess((double)*out, x) > 0)
		(*out)--;
	return 0;
}

int memory_max_micro_batch(const struct scenario *s, const struct layout *l, double capacity,
			   int64_t *out, int64_t *kept)
{
	double *t = xcalloc(2 * (size_t)l->pp, sizeof *t);
	struct search x = {t, t + l->pp, l->pp, capacity};
	int status;
	memory_stage_totals(s, l, t, t + l->pp);
	status = max_micro_batch(&x, out);
	x.capacity = MEMORY_ALLOCATOR_SHARE * capacity;
	if (status == 0)
		status = max_micro_batch(&x, kept);
	free(t);
	return status;
}

struct kv_search {
	double fixed, per_token, budget;
};

static double kv_excess(double tokens, void *params)
{
	struct kv_search *k = params;
	return k->fixed + k->per_token * tokens - k->budget;
}

/* vLLM's KV capacity (worker.py determine_num_available_blocks): the memory left at
 * gpu_memory_utilization after weights and the profiled peak activation, in tokens. */
int memory_max_kv_tokens(double fixed, double per_token, double budget, double *out)
{
	struct kv_search k = {fixed, per_token, budget};
	gsl_function f = {kv_excess, &k};
	double hi = 1.0, root = 0;
	if (per_token <= 0 || fixed >= budget) {
		*out = 0;
		return 0;
	}
	while (kv_excess(hi, &k) < 0)
		hi *= 2;
	if (brent(&f, 0, hi, 0.5, 0, &root) != 0)
		return -1;
	*out = floor(root);
	return 0;
}

/* Worst total and host need of a variant, for the advice search. */
static bool variant_fits(const struct scenario *v, double capacity, double *peak)
{
	struct memory_screen m;
	memory_screen(v, &m);
	*peak = m.peak;
	/* Serving fits by its KV cache (memory.c infer_fit), not by the static table. */
	if (v->workload.mode == MODE_INFER)
		return m.host_fits && m.fits;
	return m.host_fits && m.peak <= capacity;
}

static bool divides(int64_t a, int64_t b)
{
	return b > 0 && a % b == 0;
}

/* A strategy change is valid when the layout still divides the model and the GPUs. */
static bool valid_variant(struct scenario *v)
{
	struct strategy *g = &v->strategy;
	const struct model_config *m = &v->model;
	int64_t mp = g->tp * g->pp * g->cp;
	if (!divides(v->cluster.gpus, mp) || !divides(m->heads, g->tp) ||
	    g->tp > v->cluster.node.gpus_per_node)
		return false;
	if (!model_is_mla(m) && !divides(m->kv_heads, g->tp) && !divides(g->tp, m->kv_heads))
		return false;
	if (g->first_stage_layers == 0 && g->last_stage_layers == 0 &&
	    !divides(m->layers + g->account_embedding + g->account_loss, g->pp * g->vp))
		return false;
	g->dp = v->cluster.gpus / mp;
	if (model_is_moe(m) && (!divides(g->tp, strategy_etp(g)) ||
				!divides(g->dp * g->cp * (g->tp / strategy_etp(g)), g->ep)))
		return false;
	if (v->workload.mode == MODE_TRAIN) {
		int64_t per = g->dp * v->workload.micro_batch;
		/* Keep the global batch when it still divides; otherwise the nearest multiple. */
		if (!divides(v->workload.global_batch, per))
			v->workload.global_batch = per * ((v->workload.global_batch + per - 1) / per);
	}
	return true;
}

void memory_advise(const struct scenario *s, double capacity, struct memory_report *r)
{
	struct scenario v;
	double peak;
	char gib[64];
	const char *pick = NULL;
	int z;
	if (s->workload.mode == MODE_TRAIN) {
		for (z = (int)s->strategy.zero + 1; z <= 3 && pick == NULL; z++) {
			v = *s;
			v.strategy.zero = z;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = z == 1 ? "strategy.zero=1" : z == 2 ? "strategy.zero=2"
									   : "strategy.zero=3";
		}
		if (pick == NULL && s->strategy.recompute != RECOMPUTE_FULL) {
			v = *s;
			v.strategy.recompute = s->strategy.recompute == RECOMPUTE_NONE
						       ? RECOMPUTE_SELECTIVE : RECOMPUTE_FULL;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = v.strategy.recompute == RECOMPUTE_SELECTIVE
					       ? "strategy.recompute=selective"
					       : "strategy.recompute=full";
			v.strategy.recompute = RECOMPUTE_FULL;
			if (pick == NULL && valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = "strategy.recompute=full";
		}
		if (pick == NULL && s->strategy.offload.optimizer == OFFLOAD_NONE) {
			v = *s;
			v.strategy.offload.optimizer = OFFLOAD_CPU;
			if (v.strategy.zero == 0)
				v.strategy.zero = 1;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = "strategy.offload.optimizer=cpu";
		}
		if (pick == NULL && s->strategy.zero == 3 && s->strategy.offload.params == OFFLOAD_NONE) {
			v = *s;
			v.strategy.offload.optimizer = OFFLOAD_CPU;
			v.strategy.offload.params = OFFLOAD_CPU;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = "strategy.offload={optimizer: cpu, params: cpu}";
		}
		/* The layers' saved activations to the host, with a one-pass backward only
		 * (scenario_check.c). */
		if (pick == NULL && s->strategy.offload.activations == OFFLOAD_NONE &&
		    !strategy_splits_backward(&s->strategy)) {
			v = *s;
			v.strategy.offload.activations = OFFLOAD_CPU;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = "strategy.offload.activations=cpu";
		}
	} else {
		if (s->workload.dtype != DTYPE_INT8 && s->workload.dtype != DTYPE_INT4) {
			v = *s;
			v.workload.dtype = DTYPE_INT8;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = "workload.dtype=int8";
		}
		if (pick == NULL && s->workload.dtype != DTYPE_INT4) {
			v = *s;
			v.workload.dtype = DTYPE_INT4;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = "workload.dtype=int4";
		}
	}
	if (pick == NULL) {
		static const char *const tp_names[] = {"strategy.tp=2", "strategy.tp=4", "strategy.tp=8",
						       "strategy.tp=16"};
		int64_t t;
		int n = 0;
		for (t = s->strategy.tp * 2; t <= 16 && pick == NULL; t *= 2) {
			n = t == 2 ? 0 : t == 4 ? 1 : t == 8 ? 2 : 3;
			v = *s;
			v.strategy.tp = t;
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak))
				pick = tp_names[n];
		}
	}
	if (pick == NULL && s->workload.mode == MODE_TRAIN) {
		int64_t p;
		for (p = s->strategy.pp * 2; p <= 128 && pick == NULL; p *= 2) {
			v = *s;
			v.strategy.pp = p;
			v.strategy.first_stage_layers = v.strategy.last_stage_layers = 0;
			/* A pipeline that does not divide the layers takes the remainder on its
			 * first and last stages, as the sweep's search does. */
			if (!v.strategy.account_embedding && !v.strategy.account_loss &&
			    v.model.layers % (p * v.strategy.vp) != 0)
				scenario_uneven_split(v.model.layers, p, v.strategy.vp,
						      &v.strategy.first_stage_layers,
						      &v.strategy.last_stage_layers);
			if (valid_variant(&v) && variant_fits(&v, capacity, &peak)) {
				units_format(peak, UNIT_BYTES, gib, sizeof gib);
				if (v.strategy.first_stage_layers > 0)
					snprintf(r->advice, sizeof r->advice, "strategy.pp=%lld, "
						 "strategy.first_stage_layers=%lld, "
						 "strategy.last_stage_layers=%lld (peak %s)", (long long)p,
						 (long long)v.strategy.first_stage_layers,
						 (long long)v.strategy.last_stage_layers, gib);
				else
					snprintf(r->advice, sizeof r->advice,
						 "strategy.pp=%lld (peak %s)", (long long)p, gib);
				return;
			}
		}
	}
	if (pick == NULL) {
		snprintf(r->advice, sizeof r->advice,
			 "no single change of zero, recompute, offload, tp or pp fits; add GPUs");
		return;
	}
	snprintf(r->advice, sizeof r->advice, "%s (peak %s)", pick,
		 units_format(peak, UNIT_BYTES, gib, sizeof gib));
}
