/*
 * serve_admit: SGLang's admission by the KV tokens requests will still need
 * (serving.new_token_ratio). Simulate stage.
 *
 * SGLang's scheduler (sgl-project/sglang python/sglang/srt/managers/schedule_policy.py,
 * PrefillAdder; managers/scheduler.py) admits a waiting request only while the free KV cache,
 * less what it has promised, holds the request's uncomputed prompt and its whole output
 * (max_new_tokens, clipped at CLIP_MAX_NEW_TOKENS_ESTIMATION). The promise of a request already
 * running is only new_token_ratio of its remaining output: the ratio starts at
 * SGLANG_INIT_NEW_TOKEN_RATIO (0.7), falls by (init - min) / SGLANG_NEW_TOKEN_RATIO_DECAY_STEPS
 * after every decode batch that found its memory, down to min = init *
 * SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR, and returns to init when the scheduler is idle. When a
 * decode runs out of memory, retract_decode (managers/schedule_batch.py) re-estimates it from
 * the requests left running: (tokens decoded + SGLANG_RETRACT_DECODE_STEPS per request) / (their
 * max_new_tokens + 1), at most 1. The defaults are python/sglang/srt/environ.py's. A request's
 * max_new_tokens is its output length here (the benchmarks' ignore_eos requests set it so).
 */
#include "serve_state.h"

#include <math.h>

#define CLIP_MAX_NEW_TOKENS 4096.0     /* SGLANG_CLIP_MAX_NEW_TOKENS_ESTIMATION */
#define MIN_RATIO_FACTOR 0.14          /* SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR */
#define DECAY_STEPS 600.0              /* SGLANG_NEW_TOKEN_RATIO_DECAY_STEPS */
#define RETRACT_DECODE_STEPS 20.0      /* SGLANG_RETRACT_DECODE_STEPS */

/* Request i's output still to come, clipped as the estimate clips it. */
static double output_left(const struct serve_state *e, size_t i)
{
	double left = (double)(e->rs->req[i].output - e->seq[i].generated);
	return fmin(fmax(left, 0), CLIP_MAX_NEW_TOKENS);
}

double serve_admit_promised(const struct serve_state *e, const struct replica *p)
{
	double sum = 0;
	size_t k;
	for (k = 0; k < p->nrunning; k++)
		sum += output_left(e, p->running[k]);
	return sum * p->ratio;
}

/* add_one_req: NO_TOKEN when prompt + output reach the tokens left. An idle scheduler takes its
 * first request whatever it asks (its blocks are free: the caller checked), so a request as long
 * as the cache still runs; SGLang refuses one at arrival instead (tokenizer_manager.py
 * _validate_token_len), which dssim's requests, within seq_len, never need. */
bool serve_admit_fits(const struct serve_state *e, const struct replica *p, size_t i,
		      int64_t extend, double avail, double *promised)
{
	double want = (double)extend + output_left(e, i);
	if (want >= avail - *promised && (p->nrunning > 0 || *promised > 0))
		return false;
	*promised += want;
	return true;
}

void serve_admit_decoded(const struct serve_state *e, struct replica *p, bool retracted)
{
	double init = e->s->serving.new_token_ratio, low = init * MIN_RATIO_FACTOR;
	double decoded = 0, most = 0;
	size_t k;
	if (init <= 0)
		return;
	if (!retracted) {
		p->ratio = fmax(p->ratio - (init - low) / DECAY_STEPS, low);
		return;
	}
	for (k = 0; k < p->nrunning; k++) {
		size_t i = p->running[k];
		decoded += (double)e->seq[i].generated;
		most += (double)e->rs->req[i].output;
	}
	p->ratio = fmin(1.0, (decoded + RETRACT_DECODE_STEPS * (double)p->nrunning) / (most + 1));
}

void serve_admit_idle(const struct serve_state *e, struct replica *p)
{
	p->ratio = e->s->serving.new_token_ratio;
}
