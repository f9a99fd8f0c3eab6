/*
 * speculative: what speculative decoding adds to a serving iteration — the draft's passes
 * (a small draft model, an EAGLE head or DeepSeek's MTP module), the target's verification of
 * the drafted tokens, and the tokens a decode step accepts. Domain stage: costs by forward,
 * compute and memory; knows nothing of requests, queues or the engine.
 */
#ifndef DSSIM_SPECULATIVE_H
#define DSSIM_SPECULATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "forward.h"
#include "scenario.h"

struct speculative;

/* What one iteration drafts, summed over the sequences that verify drafts. */
struct speculative_batch {
	double drafting;               /* sequences that verify drafts */
	double drafted;                /* drafted tokens they verify */
	double context;                /* their contexts plus one: sum of (c + 1) */
	double pairs;                  /* the query-key pairs verification adds */
	int64_t passes;                /* the most tokens one sequence drafted */
};

/*
 * The drafter of scenario s (serving.speculative); *out is NULL when s does not speculate.
 * 0, or -1 with a message in d when the draft cannot be costed (forward_new's reasons).
 */
int speculative_new(const struct scenario *s, struct speculative **out, struct diag *d);
void speculative_free(struct speculative *sp);      /* NULL is a no-op */

/* K, tokens drafted per decode step. */
int64_t speculative_tokens(const struct speculative *sp);
/* The tokens a sequence drafts this iteration: K, or fewer when only `room` tokens of the
 * iteration's budget are left (vLLM V1 counts drafts in num_new_tokens); 0 when sp is NULL or
 * the sequence is not decoding. */
int64_t speculative_drafts(const struct speculative *sp, bool decoding, int64_t room);
/* Tokens a step that drafted k yields on average, the bonus token included:
 * 1 + p1 + ... + pk with vLLM's cumulative per-position rates. */
double speculative_expected(const struct speculative *sp, int64_t k);
/* The same sum over n rates p (the scenario's acceptance list, before any drafter exists). */
double speculative_yield(const double *p, int64_t n);
/* The tokens one step that drafted k yields, in [1, k + 1] and at most `left` (the tokens the
 * request still wants): the expected count accumulated in *carry (the sequence's fractional
 * token, 0 at its start), so its tokens over its steps follow the expectation without a random
 * draw. 1 when k is 0 (a plain decode). */
int64_t speculative_accept(const struct speculative *sp, int64_t k, int64_t left, double *carry);

/* Count one sequence that verifies k drafted tokens after a context of c cached tokens. */
void speculative_add(struct speculative_batch *sb, double c, int64_t k);
/* Widen b by the drafts sb counted: every drafted token is one more query, one more cached
 * token and one more row of logits for the target to verify. */
void speculative_widen(const struct speculative_batch *sb, struct forward_batch *b);

/* The draft's time, seconds, in an iteration whose widened batch is b (0 when it has no
 * tokens or sp is NULL): its first pass over b's tokens, then one pass per further drafted token over the
 * drafting sequences. *layers gets the layers it runs (for kernel launches), *passes its
 * passes (each one CUDA graph replay). */
double speculative_draft_time(const struct speculative *sp, const struct speculative_batch *sb,
			      const struct forward_batch *b, double *layers, double *passes);

/* The drafter's memory per GPU: its weights taken from *kv_budget (bytes), its KV cache per
 * token added to *kv_bytes_per_token. Nothing when sp is NULL. */
void speculative_memory(const struct speculative *sp, double *kv_budget,
			double *kv_bytes_per_token);

#endif
