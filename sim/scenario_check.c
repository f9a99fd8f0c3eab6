/*
 * scenario_check: the relations between a scenario's keys, checked once the tree is walked —
 * the model's derived sizes, the strategy against the model and the cluster, the workload and
 * its requests. Part of the scenario module (scenario_int.h); every problem is a diagnostic at
 * the key that causes it.
 */
#include "scenario_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preset.h"
#include "schema.h"
#include "units.h"

static size_t row_index(const char *key)
{
	size_t idx = 0;
	schema_find(key, &idx);
	return idx;
}

#define ERR(key, ...) diag_add(l->d, scenario_mark(s, key), key, __VA_ARGS__)

void scenario_derive_model(struct loader *l)
{
	struct scenario *s = l->s;
	struct model_config *m = &s->model;
	if (m->kv_heads == 0)
		m->kv_heads = m->heads;
	if (m->heads > 0 && m->kv_heads > m->heads)
		ERR("model.kv_heads", "must not exceed heads (%lld), got %lld", (long long)m->heads,
		    (long long)m->kv_heads);
	else if (m->kv_heads > 0 && m->heads % m->kv_heads != 0)
		ERR("model.kv_heads", "must divide heads (%lld), got %lld", (long long)m->heads,
		    (long long)m->kv_heads);
	if (m->head_dim == 0 && m->heads > 0) {
		if (m->hidden % m->heads != 0)
			ERR("model.heads", "hidden %lld is not a multiple of %lld heads: set head_dim",
			    (long long)m->hidden, (long long)m->heads);
		m->head_dim = m->hidden / m->heads;
	}
	if (m->ffn == 0)
		m->ffn = 4 * m->hidden;
	if (m->moe.experts > 0) {
		if (m->moe.top_k < 1 || m->moe.top_k > m->moe.experts)
			ERR("model.moe.top_k", "expected 1 to %lld experts per token, got %lld",
			    (long long)m->moe.experts, (long long)m->moe.top_k);
		if (m->moe.ffn == 0)
			ERR("model.moe.ffn", "an MoE model needs the expert intermediate size");
		if (m->moe.n_group > 0 && m->moe.experts % m->moe.n_group != 0)
			ERR("model.moe.n_group", "expected a divisor of the %lld experts, got %lld",
			    (long long)m->moe.experts, (long long)m->moe.n_group);
		if (m->moe.topk_group == 0)
			m->moe.topk_group = m->moe.n_group;
		if (m->moe.topk_group > m->moe.n_group)
			ERR("model.moe.topk_group", "exceeds n_group %lld, got %lld",
			    (long long)m->moe.n_group, (long long)m->moe.topk_group);
		if (m->moe.dense_layers > m->layers)
			ERR("model.moe.dense_layers", "exceeds the %lld layers", (long long)m->layers);
	}
	if (m->mla.kv_lora_rank > 0 &&
	    (m->mla.qk_rope_head_dim == 0 || m->mla.qk_nope_head_dim == 0 || m->mla.v_head_dim == 0))
		ERR("model.mla", "MLA needs qk_nope_head_dim, qk_rope_head_dim and v_head_dim");
	if (m->position == POSITION_LEARNED && m->max_position == 0)
		ERR("model.max_position", "learned position embeddings need max_position");
	if (m->sliding_window > 0 && m->attention_chunk > 0)
		ERR("model.attention_chunk", "a layer attends either through a sliding window or "
		    "within chunks; set one of model.sliding_window and model.attention_chunk");
	if (m->global_every > 0 && m->sliding_window == 0 && m->attention_chunk == 0)
		ERR("model.global_every", "names the full-attention layers among windowed or chunked "
		    "ones; set model.sliding_window or model.attention_chunk too");
	else if (m->global_every > m->layers)
		ERR("model.global_every", "exceeds the %lld layers", (long long)m->layers);
	if (m->name == NULL || m->name[0] == '\0')
		m->name = arena_strdup(s->arena, "model");
}


/* The strategy against the model and the cluster (after hardware_check_cluster): derives dp
 * when 0. */
static void check_parallel(struct loader *l)
{
	struct scenario *s = l->s;
	struct strategy *st = &s->strategy;
	struct model_config *m = &s->model;
	struct hardware *c = &s->cluster;
	int64_t mp, product;
	bool train = s->workload.mode == MODE_TRAIN;

	mp = st->tp * st->pp * st->cp;
	if (st->dp == 0) {
		if (c->gpus % mp != 0) {
			/* Point at the factor that was set (the file's line, or --set), tp first. */
			const char *blame = s->present[row_index("strategy.tp")] ? "strategy.tp"
					    : s->present[row_index("strategy.pp")] ? "strategy.pp"
					    : s->present[row_index("strategy.cp")] ? "strategy.cp"
										  : "strategy";
			diag_add(l->d, scenario_mark(s, blame), "strategy",
				 "tp*pp*cp = %lld does not divide the %lld GPUs", (long long)mp,
				 (long long)c->gpus);
		}
		st->dp = c->gpus / mp > 0 ? c->gpus / mp : 1;
	} else if (__builtin_mul_overflow(mp, st->dp, &product) || product != c->gpus) {
		char hint[128] = "";
		if (c->gpus % mp == 0)
			snprintf(hint, sizeof hint, " (dp %lld fits; 0 derives it)",
				 (long long)(c->gpus / mp));
		ERR("strategy.dp", "tp*pp*cp*dp = %lld*%lld*%lld*%lld = %.17g, but the cluster has %lld "
		    "GPUs%s", (long long)st->tp, (long long)st->pp, (long long)st->cp,
		    (long long)st->dp, (double)mp * (double)st->dp, (long long)c->gpus, hint);
	}
	if (m->heads % st->tp != 0)
		ERR("strategy.tp", "expected a divisor of the %lld attention heads, got %lld",
		    (long long)m->heads, (long long)st->tp);
	/* Training shards KV heads over TP (Megatron num_query_groups % tp == 0); vLLM inference
	 * replicates them when tp exceeds them (max(1, kv_heads // tp), vllm/config.py). */
	else if (m->mla.kv_lora_rank == 0 && m->kv_heads % st->tp != 0 &&
		 (train || st->tp % m->kv_heads != 0))
		ERR("strategy.tp", "expected a divisor of the %lld KV heads, got %lld",
		    (long long)m->kv_heads, (long long)st->tp);
	if (st->vp > 1 && st->schedule != SCHEDULE_INTERLEAVED)
		ERR("strategy.vp", "virtual stages (vp %lld) need schedule: interleaved",
		    (long long)st->vp);
	if ((st->account_embedding || st->account_loss) &&
	    (st->first_stage_layers > 0 || st->last_stage_layers > 0)) {
		/* Megatron-Core transformer_block.py, get_num_layers_to_build: "Does not support
		 * standalone embedding stage and standalone loss stage with uneven pp". */
		ERR(st->account_embedding ? "strategy.account_for_embedding_in_pipeline_split"
					  : "strategy.account_for_loss_in_pipeline_split",
		    "cannot be combined with strategy.first_stage_layers / last_stage_layers, as in "
		    "Megatron-Core");
	} else if (st->first_stage_layers > 0 || st->last_stage_layers > 0) {
		int64_t f = st->first_stage_layers, la = st->last_stage_layers;
		int64_t rest = m->layers - f - la;
		int64_t stages = st->pp - (f > 0) - (la > 0);
		if (st->pp < 2)
			ERR(f > 0 ? "strategy.first_stage_layers" : "strategy.last_stage_layers",
			    "uneven stages need pp of 2 or more");
		else if (rest < 0 || (stages == 0 && rest != 0) || (stages > 0 && rest % stages != 0) ||
			 (stages > 0 && rest / stages == 0))
			ERR(f > 0 ? "strategy.first_stage_layers" : "strategy.last_stage_layers",
			    "%lld layers minus first %lld and last %lld do not split evenly over the other "
			    "%lld stages", (long long)m->layers, (long long)f, (long long)la,
			    (long long)stages);
		/* Megatron-Core get_num_layers_to_build: "num_layers_per_pipeline_rank should be
		 * divisible by vp_size" for the middle ranks; the first and last may fall short
		 * (see layout_chunk). */
		else if (stages > 0 && (rest / stages) % st->vp != 0)
			ERR("strategy.vp", "the %lld layers of each middle pipeline stage do not split "
			    "evenly into vp = %lld chunks", (long long)(rest / stages),
			    (long long)st->vp);
	} else if (st->account_embedding || st->account_loss) {
		/* Megatron-Core get_num_layers_to_build: num_layers + embedding + loss must divide
		 * by pp; each rank's share by vp. */
		int64_t n = m->layers + st->account_embedding + st->account_loss;
		if (st->pp < 2)
			ERR(st->account_embedding ? "strategy.account_for_embedding_in_pipeline_split"
						  : "strategy.account_for_loss_in_pipeline_split",
			    "needs pp of 2 or more");
		else if (n % (st->pp * st->vp) != 0)
			ERR("strategy.pp", "%lld layers plus the embedding and loss counted as layers "
			    "(%lld) do not split evenly into pp*vp = %lld stages", (long long)m->layers,
			    (long long)n, (long long)(st->pp * st->vp));
	} else if (m->layers % (st->pp * st->vp) != 0) {
		int64_t f, la;
		char hint[160] = "";
		if (scenario_uneven_split(m->layers, st->pp, st->vp, &f, &la))
			snprintf(hint, sizeof hint, "; set strategy.first_stage_layers / "
				 "last_stage_layers (%lld / %lld fits)", (long long)f, (long long)la);
		ERR("strategy.pp", "%lld layers do not split evenly into pp*vp = %lld stages%s",
		    (long long)m->layers, (long long)(st->pp * st->vp), hint);
	}
	if (m->moe.experts > 0) {
		if (m->moe.experts % st->ep != 0)
			ERR("strategy.ep", "expected a divisor of the %lld experts, got %lld",
			    (long long)m->moe.experts, (long long)st->ep);
		else if (s->workload.mode == MODE_INFER && st->tp % st->ep != 0 &&
			 st->ep % st->tp != 0)
			/* vLLM --enable-expert-parallel: the experts spread over the GPUs of the
			 * tensor-parallel group (each replica serves on its own), or with
			 * data-parallel attention over ep GPUs, ep / tp attention ranks (SGLang
			 * --enable-dp-attention; forward.h). */
			ERR("strategy.ep", "serving spreads experts over the tp = %lld GPUs of a "
			    "replica, or over a multiple of them with data-parallel attention; %lld is "
			    "neither", (long long)st->tp, (long long)st->ep);
		else if (s->workload.mode == MODE_INFER && st->ep > st->tp &&
			 s->serving.pools.prefill.gpus == 0 && st->dp % (st->ep / st->tp) != 0)
			ERR("strategy.ep", "with data-parallel attention a replica is ep = %lld GPUs "
			    "(%lld attention ranks of tp %lld); the dp = %lld ranks do not make whole "
			    "replicas", (long long)st->ep, (long long)(st->ep / st->tp),
			    (long long)st->tp, (long long)st->dp);
		else if (s->workload.mode == MODE_TRAIN && st->etp > 0 && st->tp % st->etp != 0)
			ERR("strategy.etp", "expected a divisor of tp = %lld, got %lld",
			    (long long)st->tp, (long long)st->etp);
		else if (s->workload.mode == MODE_TRAIN &&
			 (st->dp * st->cp * (st->tp / strategy_etp(st))) % st->ep != 0)
			/* Megatron-Core builds the expert groups over the tp*dp*cp ranks of a
			 * stage: etp * ep * expert_dp = tp * dp * cp (parallel_state.py). */
			ERR("strategy.ep", "expert parallelism is carved out of dp*cp*tp/etp = %lld; "
			    "%lld does not divide it", (long long)(st->dp * st->cp * (st->tp / strategy_etp(st))),
			    (long long)st->ep);
	} else if (st->ep > 1) {
		ERR("strategy.ep", "the model has no experts, so ep must be 1, got %lld",
		    (long long)st->ep);
	}
	if (s->workload.seq_len % st->cp != 0)
		ERR("strategy.cp", "seq_len %lld is not a multiple of cp %lld",
		    (long long)s->workload.seq_len, (long long)st->cp);
}

/* The shapes the zero-bubble and DualPipe schedules run. DualPipe (deepseek-ai/DualPipe,
 * dualpipe.py, DualPipe.step) asserts an even number of ranks and an even number of
 * micro-batches, at least twice the ranks: half enter at each end, and each half must fill its
 * direction's pipeline. ZB-V (Qi et al. 2024, sec. 6) cuts the model into 2*pp chunks of equal
 * size, two per rank in a V; dssim does not shift layers between its chunks. */
static void check_schedule_shape(struct loader *l, int64_t micro_batches)
{
	struct scenario *s = l->s;
	struct strategy *st = &s->strategy;
	if (st->schedule == SCHEDULE_DUALPIPE &&
	    (st->pp % 2 != 0 || micro_batches % 2 != 0 || micro_batches < 2 * st->pp))
		ERR("strategy.schedule", "dualpipe needs an even pp and an even number of "
		    "micro-batches of at least 2*pp, got pp %lld and %lld micro-batches",
		    (long long)st->pp, (long long)micro_batches);
	if (st->schedule == SCHEDULE_ZB_V &&
	    (st->first_stage_layers > 0 || st->last_stage_layers > 0 || st->account_embedding ||
	     st->account_loss || s->model.layers % (2 * st->pp) != 0))
		ERR("strategy.schedule", "zb-v needs the %lld layers split evenly into 2*pp = %lld "
		    "chunks", (long long)s->model.layers, (long long)(2 * st->pp));
}

/* What the strategy asks of the workload: the batch split, offload's ZeRO stage, schedules.
 * Derives global_batch when 0. */
static void check_strategy_workload(struct loader *l)
{
	struct scenario *s = l->s;
	struct workload *w = &s->workload;
	struct strategy *st = &s->strategy;
	if (w->mode == MODE_TRAIN) {
		int64_t per_step = w->micro_batch * st->dp;
		if (w->global_batch == 0)
			w->global_batch = per_step;
		else if (w->global_batch % per_step != 0)
			ERR("workload.global_batch",
			    "expected a multiple of micro_batch*dp = %lld*%lld = %lld, got %lld",
			    (long long)w->micro_batch, (long long)st->dp, (long long)per_step,
			    (long long)w->global_batch);
		check_schedule_shape(l, w->global_batch / per_step);
		if (st->offload.params == OFFLOAD_CPU && st->zero != 3)
			ERR("strategy.offload.params", "parameter offload needs zero: 3, got zero: %lld",
			    (long long)st->zero);
		if (st->offload.optimizer == OFFLOAD_CPU && st->zero == 0)
			ERR("strategy.offload.optimizer", "optimizer offload needs zero: 1, 2 or 3");
		/* The split backward keeps a layer's activations from its input gradients to its
		 * weight gradients (Qi et al. 2024): an offload would have to hold them on the GPU
		 * across passes, which the memory model does not count. */
		if (st->offload.activations == OFFLOAD_CPU && strategy_splits_backward(st))
			ERR("strategy.offload.activations",
			    "activation offload is modelled for schedules whose backward is one pass "
			    "(gpipe, 1f1b, interleaved), got %s",
			    scenario_enum_name("strategy.schedule", st->schedule));
		/* A copy to or from pageable memory returns to the host only once done (CUDA
		 * Runtime API, "API synchronization behavior"), and that host launches the
		 * computation: it cannot run beside it. */
		if (st->offload.activations == OFFLOAD_CPU &&
		    s->runtime.activation_offload_pageable && s->runtime.activation_offload_overlap)
			ERR("runtime.activation_offload_pageable",
			    "copies through pageable memory block the host that launches the "
			    "computation, so they cannot run beside it: set "
			    "runtime.activation_offload_overlap false, or this key false for pinned "
			    "buffers");
	} else if (st->offload.activations == OFFLOAD_CPU) {
		ERR("strategy.offload.activations", "activation offload is for training (serving "
		    "keeps no activations for a backward)");
	} else if (st->pp * st->vp > 1 && st->schedule == SCHEDULE_INTERLEAVED) {
		ERR("strategy.schedule", "interleaved schedules are for training");
	}
	if (w->mode != MODE_TRAIN && w->document_len > 0)
		ERR("workload.document_len", "packs training sequences; serving requests are "
		    "their own documents (workload.prompt_tokens)");
}

int64_t strategy_etp(const struct strategy *st)
{
	return st->etp > 0 ? st->etp : st->tp;
}

bool strategy_splits_backward(const struct strategy *st)
{
	return st->schedule == SCHEDULE_ZB_H1 || st->schedule == SCHEDULE_ZB_V ||
	       st->schedule == SCHEDULE_DUALPIPE;
}

bool scenario_uneven_split(int64_t layers, int64_t pp, int64_t vp, int64_t *first,
			   int64_t *last)
{
	int64_t per, rest;
	if (pp < 2 || vp < 1 || layers < 2)
		return false;
	/* The even share rounded up to a multiple of vp on every middle rank. */
	per = (layers + pp * vp - 1) / (pp * vp) * vp;
	rest = layers - (pp - 2) * per;
	if (rest < 2)
		return false;
	*first = rest - rest / 2;
	*last = rest / 2;
	return true;
}

int scenario_check_strategy(struct scenario *s, struct diag *d)
{
	struct loader l;
	size_t before = d->count;
	memset(&l, 0, sizeof l);
	l.s = s;
	l.d = d;
	check_parallel(&l);
	if (d->count == before)
		check_strategy_workload(&l);
	return d->count == before ? 0 : -1;
}

bool scenario_given(const struct scenario *s, const char *key)
{
	size_t i;
	return schema_find(key, &i) != NULL && s->present[i];
}

static void check_length(struct loader *l, const char *key, struct length_spec *len)
{
	struct scenario *s = l->s;
	int64_t seq = s->workload.seq_len;
	char k[64];
	if (len->max == 0 || len->max > seq)
		len->max = seq;
	snprintf(k, sizeof k, "%s.min", key);
	if (len->min > len->max)
		ERR(k, "exceeds the most tokens, %lld", (long long)len->max);
	snprintf(k, sizeof k, "%s.value", key);
	/* A defaulted length shrinks to fit a short seq_len; a given one must fit. */
	if (len->dist == LENGTH_FIXED && len->value > len->max && !scenario_given(s, k))
		len->value = len->max;
	if (len->dist == LENGTH_FIXED && len->value > len->max)
		ERR(k, "exceeds the most tokens, %lld (max, or workload.seq_len)",
		    (long long)len->max);
	snprintf(k, sizeof k, "%s.mean", key);
	if ((len->dist == LENGTH_NORMAL || len->dist == LENGTH_LOGNORMAL) && len->mean <= 0)
		ERR(k, "a %s length needs a mean > 0",
		    len->dist == LENGTH_NORMAL ? "normal" : "lognormal");
}

/* Whether the scenario gives key (its file, a preset or --set), not the table's default. */
static bool given(const struct loader *l, const char *key)
{
	size_t idx;
	return schema_find(key, &idx) != NULL && l->s->present[idx];
}

/* The request stream and serving engine of an inference scenario. */
/* Disaggregated serving (serving.pools): the two pools split the cluster's GPUs between them
 * (what the run costs is the cluster's), each into whole replicas of tp GPUs. */
static void check_pools(struct loader *l)
{
	static const char *const keys[2][4] = {
		{"serving.pools.prefill.gpus", "serving.pools.prefill.tp", "serving.pools.prefill.ep",
		 "prefill"},
		{"serving.pools.decode.gpus", "serving.pools.decode.tp", "serving.pools.decode.ep",
		 "decode"}};
	struct scenario *s = l->s;
	const struct serving_pool *pool[2] = {&s->serving.pools.prefill, &s->serving.pools.decode};
	int k;
	if (pool[0]->gpus == 0 && pool[1]->gpus == 0)
		return;
	for (k = 0; k < 2; k++) {
		const struct serving_pool *p = pool[k];
		if (p->gpus == 0)
			ERR(keys[k][0], "disaggregated serving needs GPUs in both pools, got none for "
			    "%s", keys[k][3]);
		else if (p->gpus % p->tp != 0)
			ERR(keys[k][1], "expected a divisor of the %s pool's %lld GPUs, got %lld",
			    keys[k][3], (long long)p->gpus, (long long)p->tp);
		else if (s->model.heads % p->tp != 0)
			ERR(keys[k][1], "expected a divisor of the %lld attention heads, got %lld",
			    (long long)s->model.heads, (long long)p->tp);
		if (p->ep > 1 && s->model.moe.experts == 0)
			ERR(keys[k][2], "the model has no experts, so ep must be 1, got %lld",
			    (long long)p->ep);
		else if (p->tp % p->ep != 0 && p->ep % p->tp != 0)
			ERR(keys[k][2], "expected a divisor of the pool's tp %lld (experts split within "
			    "the tensor-parallel group) or a multiple of it (data-parallel attention), "
			    "got %lld", (long long)p->tp, (long long)p->ep);
		else if (p->ep > p->tp && p->gpus % p->ep != 0)
			ERR(keys[k][2], "with data-parallel attention (ep > tp) a replica is ep GPUs: "
			    "expected a divisor of the %s pool's %lld GPUs, got %lld", keys[k][3],
			    (long long)p->gpus, (long long)p->ep);
		else if (p->ep > 1 && (s->model.moe.experts + s->serving.redundant_experts) %
					      p->ep != 0)
			ERR(keys[k][2], "expected a divisor of the %lld experts plus %lld redundant, "
			    "got %lld", (long long)s->model.moe.experts,
			    (long long)s->serving.redundant_experts, (long long)p->ep);
	}
	/* As for serving.max_batched_tokens: without chunked prefill an iteration holds whole
	 * prompts (vLLM SchedulerConfig._verify_args). */
	if (!s->serving.chunked_prefill && pool[0]->max_batched_tokens > 0 &&
	    pool[0]->max_batched_tokens < s->workload.seq_len)
		ERR("serving.pools.prefill.max_batched_tokens", "without chunked prefill it must hold "
		    "a whole sequence (seq_len %lld), got %lld", (long long)s->workload.seq_len,
		    (long long)pool[0]->max_batched_tokens);
	if (pool[0]->gpus > 0 && pool[1]->gpus > 0 &&
	    pool[0]->gpus + pool[1]->gpus != s->cluster.gpus)
		ERR("serving.pools.decode.gpus", "prefill.gpus + decode.gpus = %lld + %lld = %lld, "
		    "but the cluster has %lld GPUs (nodes x GPUs per node): the pools share them out",
		    (long long)pool[0]->gpus, (long long)pool[1]->gpus,
		    (long long)(pool[0]->gpus + pool[1]->gpus), (long long)s->cluster.gpus);
	if (s->serving.batching == BATCHING_STATIC)
		ERR("serving.batching", "disaggregated pools batch continuously: use continuous, or "
		    "remove serving.pools");
	if (s->serving.speculative.method != SPECULATIVE_NONE)
		ERR("serving.speculative.method", "speculative decoding is not modelled in a "
		    "disaggregated decode pool yet: remove it or serving.pools");
}

static void check_requests(struct loader *l)
{
	static const char *const trace_gives[] = {"workload.requests", "workload.arrival.rate",
						  "workload.duration"};
	size_t k;
	struct scenario *s = l->s;
	struct workload *w = &s->workload;
	struct serving *v = &s->serving;
	if (w->arrival.trace == NULL)
		w->arrival.trace = arena_strdup(s->arena, "");
	check_length(l, "workload.prompt_tokens", &w->prompt_tokens);
	check_length(l, "workload.output_tokens", &w->output_tokens);
	if (w->arrival.process == ARRIVAL_GAMMA && w->arrival.rate <= 0)
		ERR("workload.arrival.rate", "a gamma process needs a rate > 0");
	if (w->arrival.process == ARRIVAL_TRACE && w->arrival.trace[0] == '\0')
		ERR("workload.arrival.trace", "process: trace needs a CSV file");
	if (w->arrival.process != ARRIVAL_TRACE && w->arrival.trace[0] != '\0')
		ERR("workload.arrival.trace", "a trace file needs process: trace");
	/* A trace's rows are the requests and their arrival times: these keys would be ignored. */
	for (k = 0; w->arrival.process == ARRIVAL_TRACE && k < 3; k++)
		if (given(l, trace_gives[k]))
			ERR(trace_gives[k], "the trace gives the requests and their arrival times: "
			    "remove this key (--set KEY=null), or use another workload.arrival.process");
	/* A relative trace path is relative to the scenario file. */
	if (w->arrival.trace[0] != '\0' && w->arrival.trace[0] != '/')
		w->arrival.trace = arena_printf(s->arena, "%s/%s", preset_dir_of(s->arena, s->file),
						w->arrival.trace);
	/* vLLM SchedulerConfig._verify_args: without chunked prefill one iteration must hold a
	 * whole prompt (max_num_batched_tokens >= max_model_len), and at least one token per
	 * sequence (>= max_num_seqs). */
	if (!v->chunked_prefill && v->max_batched_tokens < w->seq_len)
		ERR("serving.max_batched_tokens",
		    "without chunked prefill it must hold a whole sequence (seq_len %lld), got %lld",
		    (long long)w->seq_len, (long long)v->max_batched_tokens);
	/* Swapping moves KV blocks over the GPU-host link: without its bandwidth it cannot be
	 * costed, and falling back to recompute silently would report another policy. */
	/* An engine that preempts only by recomputation (vLLM V1: scheduler.py _preempt_request
	 * frees the blocks; no swap space since v0.8) refuses swap rather than run another
	 * policy than asked. */
	if (v->preemption == PREEMPT_SWAP && !v->swap_preemption)
		ERR("serving.preemption", "the '%s' engine profile does not swap preempted "
		    "sequences (serving.swap_preemption is false): use preemption: recompute, or an "
		    "engine that swaps (serving.engine: vllm-v0)", v->engine ? v->engine : "inline");
	else if (v->preemption == PREEMPT_SWAP && !(s->cluster.node.pcie.bw > 0))
		ERR("serving.preemption", "swap needs the host link's bandwidth, and %s gives no "
		    "cluster.node.links.pcie.bw: set it, or use preemption: recompute",
		    s->cluster.node.name ? s->cluster.node.name : "the node");
	if (v->max_batched_tokens < v->max_num_seqs)
		ERR("serving.max_batched_tokens", "must be at least max_num_seqs (%lld), got %lld",
		    (long long)v->max_num_seqs, (long long)v->max_batched_tokens);
	check_pools(l);
}

void scenario_check_workload(struct loader *l)
{
	struct scenario *s = l->s;
	struct workload *w = &s->workload;
	/* Gradients come out of the backward GEMMs in the compute precision: fp32 training keeps
	 * fp32 gradients, mixed precision 16-bit ones (Micikevicius et al. 2018, sec. 3; ZeRO,
	 * Rajbhandari et al. 2020, sec. 3.1). fp8 GEMMs and quantized QLoRA bases produce bf16
	 * gradients (Transformer Engine; Dettmers et al. 2023). A given grad_dtype, lower or not,
	 * stands. */
	if (!given(l, "workload.grad_dtype"))
		w->grad_dtype = w->dtype == DTYPE_FP32 || w->dtype == DTYPE_FP16 ? w->dtype
										  : DTYPE_BF16;
	if (w->mode == MODE_TRAIN) {
		if ((w->dtype == DTYPE_INT8 || w->dtype == DTYPE_INT4) && w->lora.rank == 0)
			ERR("workload.dtype", "%s weights cannot be trained: use bf16, fp16, fp32 or fp8, "
			    "or LoRA (workload.lora.rank) on a quantized base", scenario_dtype_name(w->dtype));
		if (w->dtype == DTYPE_TF32)
			ERR("workload.dtype", "tf32 is a compute mode of fp32 weights: use fp32");
		if (w->fp8_params && w->dtype != DTYPE_FP8)
			ERR("workload.fp8_params", "keeps FP8 weights of fp8 training: needs "
			    "workload.dtype fp8, got %s", scenario_dtype_name(w->dtype));
		/* The remainders complete bf16 weights to fp32 (Apex DistributedFusedAdam
		 * store_param_remainders): bf16 training, or fp8 with its bf16 weights. */
		if (w->master_weights == MASTER_REMAINDER &&
		    (w->fp8_params || (w->dtype != DTYPE_BF16 && w->dtype != DTYPE_FP8)))
			ERR("workload.master_weights", "remainder completes bf16 weights: needs "
			    "workload.dtype bf16, or fp8 without workload.fp8_params");
		if (s->model.position == POSITION_LEARNED && w->seq_len > s->model.max_position)
			ERR("workload.seq_len", "exceeds the model's %lld learned positions",
			    (long long)s->model.max_position);
	} else {
		if (w->dtype == DTYPE_TF32)
			ERR("workload.dtype", "tf32 is a compute mode of fp32 weights: use fp32");
		check_requests(l);
	}
	if (w->kv_dtype == DTYPE_TF32 || w->kv_dtype == DTYPE_INT4)
		ERR("workload.kv_dtype", "expected one of fp32, bf16, fp16, fp8, int8, got %s",
		    scenario_dtype_name(w->kv_dtype));
	if (w->lora.rank > 0 && w->mode != MODE_TRAIN)
		ERR("workload.lora.rank", "LoRA adapters are for training (mode: train)");
	if (s->serving.redundant_experts > 0 &&
	    (s->model.moe.experts == 0 ||
	     (s->model.moe.experts + s->serving.redundant_experts) % s->strategy.ep != 0))
		ERR("serving.redundant_experts", "expected a number that makes experts + redundant "
		    "a multiple of ep = %lld (%lld experts), got %lld", (long long)s->strategy.ep,
		    (long long)s->model.moe.experts, (long long)s->serving.redundant_experts);
	/* The busiest expert can receive every token once: experts/top_k times the mean. */
	if (s->model.moe.experts > 0 && s->model.moe.top_k > 0 &&
	    w->moe_imbalance > (double)s->model.moe.experts / (double)s->model.moe.top_k)
		ERR("workload.moe_imbalance", "exceeds experts/top_k = %g (every token at one expert), "
		    "got %g", (double)s->model.moe.experts / (double)s->model.moe.top_k,
		    w->moe_imbalance);
	if (w->optimizer_state_dtype != DTYPE_FP32 && w->optimizer_state_dtype != DTYPE_BF16)
		ERR("workload.optimizer_state_dtype", "expected fp32 or bf16, got %s",
		    scenario_dtype_name(w->optimizer_state_dtype));
	/* Megatron-Core 0.14 pairs passes only in its interleaved schedule (schedules.py,
	 * forward_backward_pipelining_with_interleaving; without pipelining too, where dssim's
	 * schedules have nothing to pair). */
	if (s->strategy.overlap_moe_a2a && s->strategy.schedule != SCHEDULE_INTERLEAVED)
		ERR("strategy.overlap_moe_a2a", "needs strategy.schedule interleaved, got %s",
		    scenario_enum_name("strategy.schedule", (int)s->strategy.schedule));
	if (s->strategy.recompute_modules.mla_up && s->model.mla.kv_lora_rank == 0)
		ERR("strategy.recompute_modules.mla_up", "the model has no multi-head latent "
		    "attention (model.mla.kv_lora_rank is 0)");
	/* Hu et al. 2021, sec. 4.1: the update B*A of a d x k matrix has rank r << min(d, k); a
	 * rank above the hidden size adds parameters and no expressiveness, and is a typo. */
	if (w->lora.rank > s->model.hidden && s->model.hidden > 0)
		ERR("workload.lora.rank", "exceeds the model's hidden size %lld, got %lld",
		    (long long)s->model.hidden, (long long)w->lora.rank);
}

