/*
 * serve_static: static batching for serve.c's driver. Simulate stage. A replica runs one batch
 * at a time, admitted whole, with no continuous batching, prefix cache or speculation.
 */
#include "serve_state.h"

#include <string.h>

#include "bug.h"

/* Static batching: a batch is admitted only when the last one has finished, with KV blocks
 * reserved for every sequence's whole length; finished sequences stay in the batch as padding
 * and every response returns when the batch ends (FasterTransformer-style serving, the baseline
 * of Yu et al. 2022, Orca, sec. 2). The batch's prefill, then longest - 1 decode passes over the
 * whole padded batch, one iteration each. */
bool serve_begin_static(struct serve_state *e, struct replica *p)
{
	const struct serving *v = &e->s->serving;
	struct forward_batch *b = &p->b;
	size_t j;
	if (p->nrunning == 0) {
		int64_t tokens = 0;
		p->longest = 0;
		while (p->wlen > 0 && (int64_t)p->nrunning < v->max_num_seqs) {
			size_t i = p->waiting[p->whead];
			const struct request *q = &e->rs->req[i];
			int64_t need = serve_blocks_for(e, q->prompt + q->output);
			if (need > p->free_blocks ||
			    (p->nrunning > 0 && tokens + q->prompt > v->max_batched_tokens))
				break;
			p->free_blocks -= need;
			e->seq[i].blocks = need;
			e->seq[i].state = SEQ_RUNNING;
			tokens += q->prompt;
			if (q->output > p->longest)
				p->longest = q->output;
			serve_wpop_front(p);
			p->running[p->nrunning++] = i;
		}
		if (p->nrunning == 0)
			return false;
		BUG_ON((int64_t)p->nrunning > v->max_num_seqs);
		p->k = 0;
	}
	memset(b, 0, sizeof *b);
	p->prefills = 0;
	for (j = 0; j < p->nrunning; j++) {
		const struct request *q = &e->rs->req[p->running[j]];
		double ctx = (double)(q->prompt + p->k);
		if (p->k == 0) {
			b->tokens += (double)q->prompt;
			b->prefill_pairs += model_chunk_pairs(&e->s->model, 0, (double)q->prompt);
			b->prefill_len += model_chunk_pairs(&e->s->model, 0, (double)q->prompt) *
					  (double)q->prompt;
			b->kv_tokens += model_context_tokens(&e->s->model, (double)q->prompt);
			p->prefills++;
		} else {
			b->tokens += 1;
			b->decode_pairs += model_chunk_pairs(&e->s->model, ctx, 1);
			b->kv_tokens += model_context_tokens(&e->s->model, ctx + 1);
		}
		b->sequences += 1;
	}
	p->scheduled = p->nrunning;
	serve_issue(e, p, (double)(p->nrunning + p->wlen), 0);
	return true;
}

void serve_end_static(struct serve_state *e, struct replica *p)
{
	size_t j;
	if (p->k == 0)
		for (j = 0; j < p->nrunning; j++)
			e->seq[p->running[j]].first_token = e->now;
	serve_record(e, p);
	if (++p->k < p->longest)
		return;
	for (j = 0; j < p->nrunning; j++) {
		size_t i = p->running[j];
		e->seq[i].generated = e->rs->req[i].output;
		serve_finish_sequence(e, p, i);
	}
	p->nrunning = 0;
}
