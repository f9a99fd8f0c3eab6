/*
 * speculative: speculative decoding's costs and yield. Domain stage.
 *
 * A decoding sequence verifies K drafted tokens in one target forward of K + 1 query tokens
 * (its last token and the drafts), and keeps the drafts up to the first one the target
 * rejects plus one token of the target's own (Leviathan et al. 2023, "Fast Inference from
 * Transformers via Speculative Decoding", ICML, algorithm 1; Chen et al. 2023, "Accelerating
 * Large Language Model Decoding with Speculative Sampling"). The acceptance rates are vLLM's
 * (vllm/v1/spec_decode/metrics.py, logged as "Per-position acceptance rate"):
 * p_i = num_accepted_tokens_per_pos[i] / num_drafts, the fraction of steps that accept draft i,
 * which needs every draft before it accepted too — cumulative, so non-increasing. A step then
 * yields E = 1 + p_1 + ... + p_K tokens ("Mean acceptance length", 1 + accepted / drafts).
 * Papers that give conditional rates a_i (EAGLE's n-alpha: accepted given the drafts before
 * were) convert as p_i = a_1 * ... * a_i.
 *
 * The drafter, as vLLM V1 runs it (vllm/v1/spec_decode/eagle.py, EagleProposer.propose): a
 * first pass over every token the target just ran, then one pass per further draft over the
 * drafting sequences. Its cost per pass by method:
 *  - draft: a whole small model (a model preset) at the target's tensor parallelism;
 *  - eagle: one decoder layer of the target's shape on the target's hidden states, behind a
 *    2h -> h projection of [embedding, hidden state], with the target's embedding and LM head
 *    (Li et al. 2024, EAGLE, arXiv:2401.15077 sec. 4; vLLM llama_eagle.py self.fc);
 *  - mtp: DeepSeek-V3's multi-token prediction module (arXiv:2412.19437 sec. 2.2): a projection
 *    M of 2h -> h, one transformer block of the model's MoE kind, and the shared embedding and
 *    output head (vLLM deepseek_mtp.py eh_proj). The report (sec. 5.4.3) measures 85-90 %
 *    acceptance of the second token and 1.8x tokens per second.
 */
#include "speculative.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "memory.h"
#include "xalloc.h"

struct speculative {
	enum speculative_method method;
	int64_t k;
	double p[NUMLIST_MAX];
	struct scenario ds;        /* the drafter as a scenario: s with the draft's model */
	struct forward_cost *f;    /* its passes */
	struct compute *c;         /* eagle and mtp: the projection's GEMM */
	double layers;             /* layers one pass runs */
	double hidden, wbytes, act;
};

int speculative_new(const struct scenario *s, struct speculative **out, struct diag *d)
{
	const struct serving *v = &s->serving;
	struct mark at = {s->file, 0, 0};
	struct speculative *sp;
	int i;
	*out = NULL;
	if (v->speculative.method == SPECULATIVE_NONE || s->workload.mode != MODE_INFER ||
	    v->batching == BATCHING_STATIC)
		return 0;
	sp = xcalloc(1, sizeof *sp);
	sp->method = v->speculative.method;
	sp->k = v->speculative.tokens;
	for (i = 0; i < v->speculative.acceptance.n && i < NUMLIST_MAX; i++)
		sp->p[i] = v->speculative.acceptance.v[i];
	/* One pipeline stage: the drafter is small, and one layer cannot be split. */
	sp->ds = *s;
	sp->ds.strategy.pp = 1;
	sp->ds.strategy.vp = 1;
	sp->ds.strategy.first_stage_layers = 0;
	sp->ds.strategy.last_stage_layers = 0;
	sp->hidden = (double)s->model.hidden;
	sp->wbytes = memory_weight_bytes(s->workload.dtype, (double)s->workload.quant_group);
	sp->act = s->workload.dtype == DTYPE_FP32 ? 4.0 : 2.0;
	if (sp->method == SPECULATIVE_DRAFT) {
		if (v->speculative.draft == NULL) {
			diag_add(d, at, "serving.speculative.draft_model", "no draft model loaded");
			free(sp);
			return -1;
		}
		sp->ds.model = *v->speculative.draft;
		sp->ds.strategy.ep = 1;
		sp->layers = (double)sp->ds.model.layers;
	} else {
		sp->ds.model.layers = 1;
		/* EAGLE's head is a dense decoder layer; DeepSeek's MTP block is an MoE layer. */
		if (s->model.moe.experts > 0)
			sp->ds.model.moe.dense_layers = sp->method == SPECULATIVE_EAGLE ? 1 : 0;
		sp->layers = 1;
		sp->c = compute_new(&s->cluster.node.gpu, at, d);
		if (sp->c == NULL) {
			free(sp);
			return -1;
		}
	}
	sp->f = forward_new(&sp->ds, d);
	if (sp->f == NULL) {
		speculative_free(sp);
		return -1;
	}
	*out = sp;
	return 0;
}

void speculative_free(struct speculative *sp)
{
	if (sp == NULL)
		return;
	forward_free(sp->f);
	compute_free(sp->c);
	free(sp);
}

int64_t speculative_tokens(const struct speculative *sp)
{
	return sp->k;
}

double speculative_yield(const double *p, int64_t n)
{
	double e = 1;
	int64_t i;
	for (i = 0; i < n; i++)
		e += p[i];
	return e;
}

double speculative_expected(const struct speculative *sp, int64_t k)
{
	return speculative_yield(sp->p, k < sp->k ? k : sp->k);
}

int64_t speculative_drafts(const struct speculative *sp, bool decoding, int64_t room)
{
	if (sp == NULL || !decoding || room <= 0)
		return 0;
	return sp->k < room ? sp->k : room;
}

int64_t speculative_accept(const struct speculative *sp, int64_t k, int64_t left, double *carry)
{
	double total, a;
	if (sp == NULL || k <= 0)
		return 1;
	total = *carry + speculative_expected(sp, k);
	a = floor(total);
	*carry = total - a;
	return (int64_t)a < left ? (int64_t)a : left;
}

void speculative_add(struct speculative_batch *sb, double c, int64_t k)
{
	double n = (double)k;
	if (k <= 0)
		return;
	sb->drafting += 1;
	sb->drafted += n;
	sb->context += c + 1;
	/* Queries at positions c .. c + k attend c + 1 .. c + k + 1 keys; the plain decode's
	 * c + 1 is counted already. */
	sb->pairs += n * (c + 1) + n * (n + 1) / 2;
	if (k > sb->passes)
		sb->passes = k;
}

void speculative_widen(const struct speculative_batch *sb, struct forward_batch *b)
{
	b->tokens += sb->drafted;
	b->kv_tokens += sb->drafted;
	b->sequences += sb->drafted;
	b->decode_pairs += sb->pairs;
}

/* One pass of the drafter: its forward (layers, head, collectives) and, for eagle and mtp,
 * the projection of 2h to h, replicated on every TP rank (an unsplit nn.Linear in vLLM). */
static double pass(const struct speculative *sp, const struct forward_batch *b)
{
	double t = forward_time(sp->f, b, NULL);
	if (sp->c != NULL)
		t += compute_gemm_time_weights(sp->c, sp->ds.workload.dtype, sp->wbytes, b->tokens,
					       sp->hidden, 2 * sp->hidden);
	return t;
}

double speculative_draft_time(const struct speculative *sp, const struct speculative_batch *sb,
			      const struct forward_batch *b, double *layers, double *passes)
{
	double t, n = 1;
	int64_t j;
	*layers = 0;
	*passes = 0;
	if (sp == NULL || b->tokens <= 0)
		return 0;
	t = pass(sp, b);
	/* Draft j attends its context and the j - 1 drafts before it. */
	for (j = 2; j <= sb->passes; j++, n++) {
		struct forward_batch d;
		memset(&d, 0, sizeof d);
		d.tokens = sb->drafting;
		d.sequences = sb->drafting;
		d.decode_pairs = sb->context + sb->drafting * (double)(j - 1);
		d.kv_tokens = d.decode_pairs;
		t += pass(sp, &d);
	}
	*layers = n * sp->layers;
	*passes = n;
	return t;
}

void speculative_memory(const struct speculative *sp, double *kv_budget,
			double *kv_bytes_per_token)
{
	const struct model_config *m;
	double tp, head, w;
	if (sp == NULL)
		return;
	m = &sp->ds.model;
	tp = (double)sp->ds.strategy.tp;
	head = (double)m->vocab * (double)m->hidden / tp * sp->wbytes;
	w = forward_weight_bytes(sp->f);
	if (sp->method == SPECULATIVE_DRAFT) {
		/* Its own embedding (vLLM's VocabParallelEmbedding, split over TP) unless tied to
		 * the head forward counts. */
		if (!m->tie_embeddings)
			w += (double)m->vocab * (double)m->hidden / tp * sp->act;
	} else {
		/* eagle and mtp share the target's embedding and head, and add the projection. */
		w += 2 * sp->hidden * sp->hidden * sp->wbytes - head;
	}
	*kv_budget -= w;
	*kv_bytes_per_token += forward_kv_bytes_per_token(sp->f);
}
