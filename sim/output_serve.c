/*
 * output_serve: the serving part of a run's text and JSON reports (latencies, KV cache, the
 * speculative drafter, disaggregated pools). Output stage; output.c calls it for a serving run.
 */
#include "output_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "speculative.h"
#include "units.h"

static void json_stat(FILE *out, const char *key, const struct serve_stat *st, bool last)
{
	static const char *const names[] = {"mean", "p50", "p90", "p99"};
	const double v[] = {st->mean, st->p50, st->p90, st->p99};
	output_json_inline(out, 4, key, names, v, 4, last ? "\n" : ",\n");
}

static const char *const forward_part_names[FORWARD_PARTS] = {"compute", "tp_comm", "pp_comm",
								"ep_comm"};

/* GPU seconds of a serving run: forward parts, swaps, host overheads and drafting. */
static double serve_gpu_s(const struct serve_result *v)
{
	double gpu = v->swap_s + v->overhead_s + v->draft_s;
	int k;
	for (k = 0; k < FORWARD_PARTS; k++)
		gpu += v->part[k];
	return gpu;
}

/* Tokens a speculative step yields by the scenario's rates: 1 + p1 + ... + pK. */
static double expected_tokens(const struct scenario *s)
{
	return speculative_yield(s->serving.speculative.acceptance.v,
				 s->serving.speculative.acceptance.n);
}

static void json_speculative(FILE *out, const struct scenario *s, const struct serve_result *v)
{
	double gpu = serve_gpu_s(v);
	output_json_key(out, 4, "speculative");
	fputs("{\"method\": ", out);
	json_string(out, scenario_enum_name("serving.speculative.method",
					    s->serving.speculative.method));
	fprintf(out, ", \"tokens\": %lld, \"expected_tokens_per_step\": ",
		(long long)s->serving.speculative.tokens);
	json_num(out, expected_tokens(s));
	fputs(", \"tokens_per_step\": ", out);
	json_num(out, v->spec_tokens_per_step);
	fputs(", \"steps\": ", out);
	json_num(out, v->spec_steps);
	fputs(", \"draft_fraction\": ", out);
	json_num(out, gpu > 0 ? v->draft_s / gpu : 0);
	fputs("}\n", out);
}

static const char *const pool_names[SERVE_POOLS] = {"prefill", "decode"};

/* Disaggregated serving: each pool, and the KV caches' moves between them. */
static void json_pools(FILE *out, const struct serve_result *v)
{
	int k;
	output_json_key(out, 4, "pools");
	fputs("{\n", out);
	for (k = 0; k < SERVE_POOLS; k++) {
		const struct serve_pool_result *p = &v->pool[k];
		output_json_key(out, 6, pool_names[k]);
		fprintf(out, "{\"gpus\": %lld, \"tp\": %lld, \"ep\": %lld, \"replicas\": %lld, "
			     "\"kv_blocks_total\": %lld, \"max_num_seqs\": %lld, "
			     "\"max_batched_tokens\": %lld, \"iterations\": %lld, \"busy_fraction\": ",
			(long long)p->gpus, (long long)p->tp, (long long)p->ep,
			(long long)p->replicas, (long long)p->kv_blocks_total,
			(long long)p->max_num_seqs, (long long)p->max_batched_tokens,
			(long long)p->iterations);
		json_num(out, p->busy);
		fputs("},\n", out);
	}
	output_json_key(out, 6, "kv_transfer_s");
	fputs("{\"mean\": ", out);
	json_num(out, v->kv_transfer.mean);
	fputs(", \"p50\": ", out);
	json_num(out, v->kv_transfer.p50);
	fputs(", \"p90\": ", out);
	json_num(out, v->kv_transfer.p90);
	fputs(", \"p99\": ", out);
	json_num(out, v->kv_transfer.p99);
	fputs("},\n", out);
	output_json_key(out, 6, "kv_transfer_bytes");
	json_num(out, v->kv_transfer_bytes);
	fputs("\n    },\n", out);
}

/* The steady state (serve.h), null when the run never settles. */
static void json_steady(FILE *out, const struct serve_steady *st)
{
	fputs("    \"steady\": ", out);
	if (!st->valid) {
		fputs("null,\n", out);
		return;
	}
	fputs("{\n", out);
	output_json_num_field(out, 6, "from_s", st->from);
	output_json_num_field(out, 6, "to_s", st->to);
	output_json_num_field(out, 6, "input_tokens_per_s", st->input_tokens_per_s);
	output_json_num_field(out, 6, "output_tokens_per_s", st->output_tokens_per_s);
	fputs("      \"tpot_mean_s\": ", out);
	json_num(out, st->tpot_mean);
	fputs("\n    },\n", out);
}

void output_json_serving(FILE *out, const struct scenario *s, const struct serve_result *v)
{
	int k;
	fputs("  \"serving\": {\n", out);
	output_json_str_field(out, 4, "engine", s->serving.engine ? s->serving.engine : "");
	output_json_str_field(out, 4, "batching", scenario_enum_name("serving.batching",
							     s->serving.batching));
	output_json_int_field(out, 4, "requests", (long long)v->requests);
	output_json_int_field(out, 4, "finished", (long long)v->finished);
	output_json_int_field(out, 4, "seed", (long long)s->workload.seed);
	output_json_num_field(out, 4, "offered_rate", v->offered_rate);
	output_json_num_field(out, 4, "duration_s", v->duration);
	output_json_num_field(out, 4, "requests_per_s", v->requests_per_s);
	output_json_num_field(out, 4, "input_tokens_per_s", v->input_tokens_per_s);
	output_json_num_field(out, 4, "output_tokens_per_s", v->output_tokens_per_s);
	json_steady(out, &v->steady);
	json_stat(out, "ttft_s", &v->ttft, false);
	json_stat(out, "tpot_s", &v->tpot, false);
	json_stat(out, "latency_s", &v->latency, false);
	output_json_int_field(out, 4, "kv_blocks_total", (long long)v->kv_blocks_total);
	output_json_int_field(out, 4, "kv_blocks_peak", (long long)v->kv_blocks_peak);
	if (!v->disaggregated)
		output_json_int_field(out, 4, "max_num_seqs", (long long)v->max_num_seqs);
	output_json_num_field(out, 4, "kv_peak_fraction", v->kv_peak_fraction);
	output_json_int_field(out, 4, "block_size", (long long)s->serving.block_size);
	output_json_int_field(out, 4, "preemptions", (long long)v->preemptions);
	output_json_int_field(out, 4, "swaps", (long long)v->swaps);
	output_json_int_field(out, 4, "iterations", (long long)v->iterations);
	output_json_num_field(out, 4, "mean_batch", v->mean_batch);
	output_json_num_field(out, 4, "mean_in_system", v->mean_in_system);
	output_json_num_field(out, 4, "busy_fraction", v->busy);
	if (v->disaggregated)
		json_pools(out, v);
	if (v->searched) {
		int i;
		char name[32];
		output_json_key(out, 4, "find_max_rate");
		fputs("{\"rate\": ", out);
		json_num(out, v->found_rate);
		fputs(", \"capacity_rate\": ", out);
		json_num(out, v->capacity_rate);
		fprintf(out, ", \"runs\": %d, \"targets\": {", v->search_runs);
		for (i = 0; i < v->slo.n; i++) {
			fprintf(out, "%s\"%s\": ", i ? ", " : "",
				serve_target_name(&v->slo.t[i], name, sizeof name));
			json_num(out, v->slo.t[i].limit);
		}
		fputs("}},\n", out);
	}
	output_json_key(out, 4, "gpu_time_s");
	fputs("{", out);
	for (k = 0; k < FORWARD_PARTS; k++) {
		fprintf(out, "%s\"%s\": ", k ? ", " : "", forward_part_names[k]);
		json_num(out, v->part[k]);
	}
	fputs(", \"swap\": ", out);
	json_num(out, v->swap_s);
	fputs(", \"host_overhead\": ", out);
	json_num(out, v->overhead_s);
	if (s->serving.speculative.method != SPECULATIVE_NONE) {
		fputs(", \"draft\": ", out);
		json_num(out, v->draft_s);
		fputs("},\n", out);
		json_speculative(out, s, v);
	} else {
		fputs("}\n", out);
	}
	fputs("  },\n", out);
}

static void text_stat(FILE *out, const char *name, const struct serve_stat *st)
{
	fprintf(out, "  %-14s %9.1f %9.1f %9.1f %9.1f\n", name, st->mean * 1e3, st->p50 * 1e3,
		st->p90 * 1e3, st->p99 * 1e3);
}

/* Disaggregated serving: each pool's GPUs and how busy they were; the KV caches' moves. */
static void text_pools(FILE *out, const struct serve_result *v)
{
	int k;
	for (k = 0; k < SERVE_POOLS; k++) {
		const struct serve_pool_result *p = &v->pool[k];
		fprintf(out, "%-9s %lld GPUs (%lld x tp %lld, ep %lld), %lld KV blocks per replica, "
			     "max %lld sequences, %lld tokens per iteration; %lld iterations, busy "
			     "%.1f%%\n", pool_names[k],
			(long long)p->gpus, (long long)p->replicas, (long long)p->tp, (long long)p->ep,
			(long long)p->kv_blocks_total, (long long)p->max_num_seqs,
			(long long)p->max_batched_tokens, (long long)p->iterations, p->busy * 100);
	}
	fprintf(out, "KV moves  %.3f ms mean, %.3f ms p99 per request (%.1f MB per GPU on "
		     "average), prefill to decode over the links\n", v->kv_transfer.mean * 1e3,
		v->kv_transfer.p99 * 1e3, v->kv_transfer_bytes / 1e6);
}

void output_text_serving(FILE *out, const struct scenario *s, const struct serve_result *v)
{
	const struct workload *w = &s->workload;
	double gpu = 0;
	int k;
	char t1[1024];
	fputc('\n', out);
	if (w->arrival.process == ARRIVAL_TRACE)
		fprintf(out, "requests  %zu from %s\n", v->requests,
			output_vis(w->arrival.trace, t1, sizeof t1));
	else if (v->offered_rate > 0)
		fprintf(out, "requests  %zu, %s arrivals at %.3g/s (seed %lld)\n", v->requests,
			scenario_enum_name("workload.arrival.process", w->arrival.process),
			v->offered_rate, (long long)w->seed);
	else
		fprintf(out, "requests  %zu, all at time 0 (seed %lld)\n", v->requests,
			(long long)w->seed);
	fprintf(out, "serving   %s engine, %s batching, %lld KV blocks of %lld tokens (%.0f "
		     "tokens), max %lld sequences, %lld tokens per iteration%s\n",
		output_vis(s->serving.engine ? s->serving.engine : "", t1, sizeof t1),
		scenario_enum_name("serving.batching", s->serving.batching),
		(long long)v->kv_blocks_total, (long long)s->serving.block_size, v->kv_tokens,
		(long long)v->max_num_seqs, (long long)s->serving.max_batched_tokens,
		s->serving.chunked_prefill ? ", chunked prefill" : "");
	if (v->disaggregated)
		text_pools(out, v);
	if (v->searched) {
		int i;
		char name[32];
		fputs("\nhighest rate meeting", out);
		for (i = 0; i < v->slo.n; i++)
			fprintf(out, "%s %s <= %g ms", i ? "," : "",
				serve_target_name(&v->slo.t[i], name, sizeof name),
				v->slo.t[i].limit * 1e3);
		if (v->found_rate > 0)
			fprintf(out, ": %.3g requests/s\n(%d simulated runs; with every request queued "
				     "at once the run averages %.3g/s, its drain included)\n",
				v->found_rate, v->search_runs, v->capacity_rate);
		else
			fprintf(out, ": none, even %.3g requests/s misses (the figures below are at "
				     "that rate)\n", v->capacity_rate / 100);
	}
	fprintf(out, "\nthroughput  %.2f requests/s, %.0f output tokens/s, %.0f input tokens/s "
		     "over %.2f s\n",
		v->requests_per_s, v->output_tokens_per_s, v->input_tokens_per_s, v->duration);
	if (v->steady.valid)
		fprintf(out, "steady      %.0f output tokens/s, %.0f input tokens/s, TPOT mean %.1f ms "
			     "(from %.2f s,\n            a median latency after the first arrival, to "
			     "the last arrival at %.2f s)\n",
			v->steady.output_tokens_per_s,
			v->steady.input_tokens_per_s, v->steady.tpot_mean * 1e3, v->steady.from,
			v->steady.to);
	else if (v->offered_rate > 0)
		fprintf(out, "steady      none: the arrivals end within a median latency of the first "
			     "(more requests give the load time to settle)\n");
	fprintf(out, "\n%-16s %9s %9s %9s %9s\n", "latency (ms)", "mean", "p50", "p90", "p99");
	text_stat(out, "TTFT", &v->ttft);
	text_stat(out, "TPOT", &v->tpot);
	text_stat(out, "end-to-end", &v->latency);
	fprintf(out, "\nKV cache  peak %lld of %lld blocks (%.1f%%); %lld preemptions",
		(long long)v->kv_blocks_peak, (long long)v->kv_blocks_total,
		v->kv_peak_fraction * 100, (long long)v->preemptions);
	if (v->swaps > 0)
		fprintf(out, " (%lld swapped to host)", (long long)v->swaps);
	fprintf(out, "\nengine    %lld iterations, %.1f sequences each on average, GPUs busy "
		     "%.1f%% of the time\n",
		(long long)v->iterations, v->mean_batch, v->busy * 100);
	gpu = serve_gpu_s(v);
	if (gpu > 0) {
		fputs("GPU time ", out);
		for (k = 0; k < FORWARD_PARTS; k++)
			fprintf(out, " %s %.1f%%,", forward_part_names[k], 100 * v->part[k] / gpu);
		if (v->draft_s > 0)
			fprintf(out, " draft %.1f%%,", 100 * v->draft_s / gpu);
		fprintf(out, " swap %.1f%%, host overhead %.1f%%\n", 100 * v->swap_s / gpu,
			100 * v->overhead_s / gpu);
	}
	if (s->serving.speculative.method != SPECULATIVE_NONE)
		fprintf(out, "speculative %s, %lld drafted per step: %.2f tokens per step "
			     "(%.2f by the rates), drafting %.1f%% of GPU time\n",
			scenario_enum_name("serving.speculative.method",
					   s->serving.speculative.method),
			(long long)s->serving.speculative.tokens, v->spec_tokens_per_step,
			expected_tokens(s), gpu > 0 ? 100 * v->draft_s / gpu : 0);
	if (s->strategy.pp > 1)
		fputs("note      pipeline stages run one batch at a time (no virtual engines)\n",
		      out);
	if (s->strategy.dp > 1 && !v->disaggregated)
		fprintf(out, "note      %lld replicas share the requests (router %s); KV figures "
			     "are per replica\n", (long long)s->strategy.dp,
			scenario_enum_name("serving.router", s->serving.router));
}
