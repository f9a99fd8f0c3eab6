/*
 * output: text and JSON printers for a run. Output stage. Bytes are printed in GiB for people
 * and as exact byte counts in JSON.
 */
#include "output.h"
#include "output_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collective.h"
#include "config.h"
#include "diag.h"
#include "forward.h"
#include "json.h"
#include "model.h"
#include "units.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

void output_json_key(FILE *out, int indent, const char *key)
{
	fprintf(out, "%*s", indent, "");
	json_string(out, key);
	fputs(": ", out);
}

/* "key": value, and the comma and newline that follow every field but a mapping's last. */
void output_json_num_field(FILE *out, int indent, const char *key, double v)
{
	output_json_key(out, indent, key);
	json_num(out, v);
	fputs(",\n", out);
}

void output_json_int_field(FILE *out, int indent, const char *key, long long v)
{
	output_json_key(out, indent, key);
	fprintf(out, "%lld,\n", v);
}

void output_json_str_field(FILE *out, int indent, const char *key, const char *v)
{
	output_json_key(out, indent, key);
	json_string(out, v);
	fputs(",\n", out);
}

void output_json_inline(FILE *out, int indent, const char *key, const char *const *names,
			const double *v, size_t n, const char *end)
{
	size_t i;
	output_json_key(out, indent, key);
	fputs("{", out);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		json_string(out, names[i]);
		fputs(": ", out);
		json_num(out, v[i]);
	}
	fputs("}", out);
	fputs(end, out);
}

static void json_parts(FILE *out, int indent, const struct memory_role *r)
{
	int k;
	fputs("{\n", out);
	for (k = 0; k < MEMORY_PARTS; k++) {
		output_json_key(out, indent + 2, memory_part_name((enum memory_part)k));
		json_num(out, r->part[k]);
		fputs(",\n", out);
	}
	output_json_key(out, indent + 2, "total");
	json_num(out, r->total);
	fprintf(out, "\n%*s}", indent, "");
}

static const char *role_label(const struct memory_role *r, int64_t pp, char *buf, size_t size)
{
	if (pp == 1)
		snprintf(buf, size, "all GPUs");
	else if (r->first_stage == r->last_stage)
		snprintf(buf, size, "stage %lld", (long long)r->first_stage);
	else
		snprintf(buf, size, "stages %lld-%lld", (long long)r->first_stage,
			 (long long)r->last_stage);
	return buf;
}

/* How MFU and HFU count attention: as the kernel computes it (step.c, count_flops). */
static const char *attention_convention(const struct scenario *s)
{
	return s->workload.flash_attention ? "causal" : "full";
}

static const char *const layer_kind_name[2] = {"dense", "moe"};

static void json_pass(FILE *out, const char *key, const struct step_pass_parts *p)
{
	static const char *const names[] = {"gemm_s", "attention_s", "memory_s", "kernel_fixed_s",
					    "launches", "host_s", "total_s"};
	const double v[] = {p->gemm, p->attention, p->memory, p->fixed, p->launches, p->host,
			    p->total};
	output_json_inline(out, 8, key, names, v, sizeof v / sizeof *v, ",\n");
}

/* How an MoE model's tokens reach their experts over the EP group, strategy.moe_dispatcher with
 * auto resolved (model_moe_route); NULL for a dense model, an EP group of one, and serving
 * without data-parallel attention (its experts' traffic takes no dispatcher, forward.c). */
static const char *dispatch_name(const struct scenario *s)
{
	struct moe_route r;
	if (!model_is_moe(&s->model) || s->strategy.ep <= 1 ||
	    (s->workload.mode == MODE_INFER && forward_attention_dp(s) <= 1))
		return NULL;
	model_moe_route(s, (double)s->model.moe.top_k, &r);
	return r.dedup ? "deepep" : "alltoall";
}

/* time.layers: each kind of layer the model has, one pass on one GPU (step.h). */
static void json_layers(FILE *out, const struct result *t)
{
	const char *sep = "";
	int k;
	output_json_key(out, 4, "layers");
	fputs("[", out);
	for (k = 0; k < 2; k++) {
		const struct step_layer_parts *l = &t->layer[k];
		if (l->layers == 0)
			continue;
		fprintf(out, "%s\n      {\n", sep);
		output_json_str_field(out, 8, "kind", layer_kind_name[k]);
		output_json_int_field(out, 8, "layers", (long long)l->layers);
		output_json_num_field(out, 8, "tokens", t->layer_tokens);
		json_pass(out, "forward", &l->fwd);
		json_pass(out, "backward", &l->bwd);
		output_json_key(out, 8, "recompute_s");
		json_num(out, l->recompute);
		fputs("\n      }", out);
		sep = ",";
	}
	fputs("\n    ],\n", out);
}

static void json_time(FILE *out, const struct scenario *s, const struct result *t)
{
	int k;
	fputs("  \"time\": {\n", out);
	output_json_num_field(out, 4, "step_s", t->step_s);
	output_json_key(out, 4, "breakdown");
	fputs("{", out);
	for (k = 0; k < STEP_CATEGORIES; k++) {
		fprintf(out, "%s", k ? ", " : "");
		json_string(out, step_category_name(k));
		fputs(": ", out);
		json_num(out, t->exposed[k]);
	}
	fputs(", \"bubble\": ", out);
	json_num(out, t->bubble);
	fputs("},\n", out);
	json_layers(out, t);
	output_json_key(out, 4, "simulated_gpus");
	fprintf(out, "%lld,\n", (long long)t->simulated_gpus);
	output_json_key(out, 4, "events");
	fprintf(out, "%zu\n  },\n", t->events);
	fputs("  \"throughput\": {\"tokens_per_s\": ", out);
	json_num(out, t->tokens_per_s);
	fputs(", \"tflops_per_gpu\": ", out);
	json_num(out, t->tflops_per_gpu);
	fputs(", \"mfu\": ", out);
	json_num(out, t->mfu);
	fputs(", \"hfu\": ", out);
	json_num(out, t->hfu);
	fputs(", \"flops_attention\": ", out);
	json_string(out, attention_convention(s));
	fputs("},\n", out);
}


/* Text from an input, with its control bytes escaped (diag_fputs_visible), cut to size. */
const char *output_vis(const char *text, char *buf, size_t size)
{
	char *v = diag_visible_dup(text ? text : "");
	snprintf(buf, size, "%s", v);
	free(v);
	return buf;
}

/* The step of a simulated training run, the served stream of a simulated serving run. */
/* Notes on how a run was modelled, one line each (without the leading "note"): the links whose
 * collectives take collective.c's fallback busbw curve because the node has none of its own,
 * and a training step that fills its GPUs past what PyTorch's caching allocator runs without
 * retries. Returns how many of at most max were written. */
enum { NOTES_MAX = 3, NOTE_LEN = 320 };

static int notes_of(const struct scenario *s, const struct memory_report *m,
		    const struct result *t, char note[][NOTE_LEN], int max)
{
	static const struct {
		enum link_class link;
		const char *name;
	} links[] = {{LINK_CLASS_GPU, "GPU-link"}, {LINK_CLASS_NETWORK, "network"}};
	const struct node_spec *n = &s->cluster.node;
	int i, count = 0;
	for (i = 0; i < 2 && count < max; i++) {
		bool used = links[i].link == LINK_CLASS_GPU ? s->cluster.gpus > 1
							     : s->cluster.nodes > 1;
		if (!used || !collective_uses_fallback(n, links[i].link))
			continue;
		snprintf(note[count++], NOTE_LEN,
			 "%s collectives of %s use the fallback busbw curve (%s): the node "
			 "gives none",
			 links[i].name, n->name ? n->name : "the node",
			 collective_fallback_source(links[i].link));
	}
	/* The simulated peak when the step ran (what dssim plan keeps its headroom by), else the
	 * analytic one; the share rounded down, so that past 90 % never prints as 90. */
	if (count < max && s->workload.mode == MODE_TRAIN && m->fits && m->capacity > 0) {
		double held = t != NULL && t->peak_per_gpu > 0 ? t->peak_per_gpu
							       : m->capacity - m->headroom;
		if (held > MEMORY_ALLOCATOR_SHARE * m->capacity)
			snprintf(note[count++], NOTE_LEN,
				 "the most loaded GPU holds %.1f %% of its memory, past the 85-90 %% "
				 "torchtune's developers advise: PyTorch's caching allocator may retry "
				 "allocations (a device sync and cudaMalloc each), which this step "
				 "time does not count",
				 floor(1000 * held / m->capacity) / 10);
	}
	return count;
}

/* "cost": what the run costs at its rate, each figure only when it is known (a node price,
 * a simulated rate, a --tokens budget): JSON has no infinity, and a missing key reads as
 * unknown. */
static void json_cost(FILE *out, const struct scenario *s, const struct cost *c)
{
	const struct node_spec *n = &s->cluster.node;
	const char *sep = "";
	struct {
		const char *key;
		double v;
		bool known;
	} f[] = {
		{"usd_per_hour", c->usd_per_hour, c->usd_per_hour > 0},
		{"usd_per_million_tokens", c->usd_per_million_tokens,
		 c->usd_per_million_tokens > 0},
		{"tokens", c->tokens, c->tokens > 0},
		{"days", c->days, c->tokens > 0 && isfinite(c->days)},
		{"usd", c->usd, c->tokens > 0 && c->usd_per_hour > 0 && isfinite(c->usd)},
	};
	size_t i;
	output_json_key(out, 2, "cost");
	fputs("{", out);
	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (!f[i].known)
			continue;
		fprintf(out, "%s", sep);
		json_string(out, f[i].key);
		fputs(": ", out);
		json_num(out, f[i].v);
		sep = ", ";
	}
	if (c->usd_per_hour > 0) {
		fprintf(out, "%s\"price_kind\": ", sep);
		json_string(out, scenario_enum_name("cluster.node.price_kind", n->price_kind));
		fputs(", \"price_date\": ", out);
		json_string(out, n->price_date);
	}
	fputs("}", out);
}

static const struct result *step_of(const struct run_result *r)
{
	return r->outcome == RUN_SIMULATED && r->mode == MODE_TRAIN ? &r->step : NULL;
}

static const struct serve_result *serving_of(const struct run_result *r)
{
	return r->outcome == RUN_SIMULATED && r->mode == MODE_INFER ? &r->serve : NULL;
}

void output_json(FILE *out, const struct scenario *s, const struct run_result *run)
{
	output_json_member(out, s, run, NULL, NULL, NULL);
}

void output_json_member(FILE *out, const struct scenario *s, const struct run_result *run,
			const char *name, void (*member)(FILE *, const void *), const void *arg)
{
	const struct memory_report *m = &run->memory;
	const struct result *t = step_of(run);
	const struct serve_result *sv = serving_of(run);
	const struct strategy *g = &s->strategy;
	const char *dispatch;
	const struct workload *w = &s->workload;
	size_t i;
	char label[64], note[NOTES_MAX][NOTE_LEN];
	int k, nnotes;

	fputs("{\n", out);
	output_json_str_field(out, 2, "dssim_version", PACKAGE_VERSION);
	output_json_key(out, 2, "scenario");
	fputs("{\n", out);
	output_json_str_field(out, 4, "name", s->name);
	output_json_str_field(out, 4, "file", s->file);
	output_json_str_field(out, 4, "mode", scenario_enum_name("workload.mode", w->mode));
	output_json_str_field(out, 4, "model", s->model.name);
	output_json_str_field(out, 4, "node", s->cluster.node.name);
	output_json_str_field(out, 4, "gpu", s->cluster.node.gpu.name);
	output_json_key(out, 4, "nodes");
	fprintf(out, "%lld,\n", (long long)s->cluster.nodes);
	output_json_key(out, 4, "gpus");
	fprintf(out, "%lld,\n", (long long)s->cluster.gpus);
	output_json_key(out, 4, "seq_len");
	fprintf(out, "%lld,\n", (long long)w->seq_len);
	output_json_key(out, 4, "micro_batch");
	fprintf(out, "%lld,\n", (long long)w->micro_batch);
	output_json_key(out, 4, "global_batch");
	fprintf(out, "%lld,\n", (long long)w->global_batch);
	output_json_str_field(out, 4, "dtype", scenario_dtype_name(w->dtype));
	output_json_key(out, 4, "strategy");
	fprintf(out, "{\"tp\": %lld, \"pp\": %lld, \"dp\": %lld, \"cp\": %lld, \"ep\": %lld, "
		     "\"vp\": %lld, \"zero\": %lld, \"sequence_parallel\": %s, \"recompute\": ",
		(long long)g->tp, (long long)g->pp, (long long)g->dp, (long long)g->cp,
		(long long)g->ep, (long long)g->vp, (long long)g->zero,
		g->sequence_parallel ? "true" : "false");
	json_string(out, scenario_enum_name("strategy.recompute", g->recompute));
	fputs(", \"schedule\": ", out);
	json_string(out, scenario_enum_name("strategy.schedule", g->schedule));
	fputs(", \"offload_optimizer\": ", out);
	json_string(out, scenario_enum_name("strategy.offload.optimizer", g->offload.optimizer));
	fputs(", \"offload_params\": ", out);
	json_string(out, scenario_enum_name("strategy.offload.params", g->offload.params));
	fputs(", \"offload_activations\": ", out);
	json_string(out, scenario_enum_name("strategy.offload.activations", g->offload.activations));
	if ((dispatch = dispatch_name(s)) != NULL) {
		fputs(", \"moe_dispatcher\": ", out);
		json_string(out, dispatch);
	}
	fputs("}\n  },\n", out);

	output_json_key(out, 2, "model");
	fputs("{\n", out);
	output_json_num_field(out, 4, "params", m->params.total);
	output_json_num_field(out, 4, "active_params", m->params.active);
	output_json_key(out, 4, "published_params");
	json_num(out, s->model.published_params);
	fputs("\n  },\n", out);

	if (t != NULL)
		json_time(out, s, t);
	if (sv != NULL)
		output_json_serving(out, s, sv);
	/* Why there is no time or serving object, for scripts (standard error says it too). */
	if (run->outcome == RUN_NOT_SIMULATED && run->reason[0])
		output_json_str_field(out, 2, "not_simulated", run->reason);
	output_json_key(out, 2, "memory");
	fputs("{\n", out);
	if (t != NULL) {
		output_json_key(out, 4, "peak_per_gpu");
		json_num(out, t->peak_per_gpu);
		fputs(",\n", out);
	}
	output_json_key(out, 4, "per_gpu");
	json_parts(out, 4, &m->roles[m->worst]);
	fputs(",\n", out);
	output_json_num_field(out, 4, "capacity", m->capacity);
	output_json_key(out, 4, "fits");
	fputs(m->fits && m->host_fits ? "true" : "false", out);
	fputs(",\n", out);
	output_json_num_field(out, 4, "headroom", m->headroom);
	output_json_num_field(out, 4, "host_per_node", m->host_per_node);
	output_json_num_field(out, 4, "host_capacity", m->host_capacity);
	output_json_key(out, 4, "host_fits");
	fputs(m->host_fits ? "true" : "false", out);
	fputs(",\n", out);
	if (w->mode == MODE_TRAIN) {
		output_json_key(out, 4, "max_micro_batch");
		fprintf(out, "%lld,\n", (long long)m->max_micro_batch);
		output_json_key(out, 4, "max_micro_batch_kept");
		fprintf(out, "%lld,\n", (long long)m->max_micro_batch_kept);
	} else {
		output_json_key(out, 4, "max_kv_tokens");
		json_num(out, m->max_kv_tokens);
		fputs(",\n", out);
		output_json_key(out, 4, "kv_bytes_per_token");
		json_num(out, m->kv_bytes_per_token);
		fputs(",\n", out);
	}
	output_json_key(out, 4, "advice");
	if (m->advice[0])
		json_string(out, m->advice);
	else
		fputs("null", out);
	fputs(",\n", out);
	output_json_key(out, 4, "roles");
	fputs("[\n", out);
	for (i = 0; i < m->nroles; i++) {
		const struct memory_role *r = &m->roles[i];
		fputs("      {", out);
		fputs("\"role\": ", out);
		json_string(out, role_label(r, g->pp, label, sizeof label));
		fprintf(out, ", \"first_stage\": %lld, \"last_stage\": %lld, \"layers\": %lld, "
			     "\"moe_layers\": %lld, \"embedding\": %s, \"head\": %s, \"params\": ",
			(long long)r->first_stage, (long long)r->last_stage, (long long)r->layers,
			(long long)r->moe_layers, r->has_embedding ? "true" : "false",
			r->has_head ? "true" : "false");
		json_num(out, r->params);
		fputs(", \"inflight_micro_batches\": ", out);
		json_num(out, r->inflight);
		fputs(", \"host_per_gpu\": ", out);
		json_num(out, r->host);
		fputs(",\n       \"activations_split\": {\"layers\": ", out);
		json_num(out, r->act_layers);
		fputs(", \"embedding_head\": ", out);
		json_num(out, r->act_outer);
		fputs(", \"recompute\": ", out);
		json_num(out, r->act_recompute);
		fputs("}", out);
		fputs(",\n       \"per_gpu\": ", out);
		json_parts(out, 7, r);
		fprintf(out, "}%s\n", i + 1 < m->nroles ? "," : "");
	}
	fputs("    ]\n  },\n", out);
	output_json_key(out, 2, "notes");
	fputs("[", out);
	nnotes = notes_of(s, m, t, note, NOTES_MAX);
	for (k = 0; k < nnotes; k++) {
		fputs(k ? ", " : "", out);
		json_string(out, note[k]);
	}
	fputs("],\n", out);
	json_cost(out, s, &run->cost);
	if (member != NULL) {
		fputs(",\n", out);
		output_json_key(out, 2, name);
		member(out, arg);
	}
	fputs("\n}\n", out);
}

static void gib(FILE *out, double bytes)
{
	fprintf(out, " %12.2f", bytes / UNITS_GIB);
}

/* A pass's row; true when the host's launches bound it (marked *). */
static bool text_pass(FILE *out, const char *name, const struct step_pass_parts *p)
{
	bool host = p->host > p->gemm + p->attention + p->memory + p->fixed;
	char c[6][32];
	const double v[6] = {p->gemm, p->attention, p->memory, p->fixed, p->host, p->total};
	int k;
	for (k = 0; k < 6; k++)
		units_format(v[k], UNIT_SECONDS, c[k], sizeof c[k]);
	fprintf(out, "    %-12s %9s %10s %13s %11s %9.0f %9s %9s%s\n", name, c[0], c[1], c[2], c[3],
		p->launches, c[4], c[5], host ? "*" : "");
	return host;
}

/* One pass of each kind of layer by what takes its time (step.h, step_layer_parts). */
static void text_layers(FILE *out, const struct result *t)
{
	static const char *const label[2] = {"dense", "MoE"};
	char a[64];
	bool host = false;
	int k;
	fprintf(out, "one layer's passes, a micro-batch of %.0f tokens on one GPU:\n",
		t->layer_tokens);
	for (k = 0; k < 2; k++) {
		const struct step_layer_parts *l = &t->layer[k];
		if (l->layers == 0)
			continue;
		snprintf(a, sizeof a, "%s (%lld)", label[k], (long long)l->layers);
		fprintf(out, "  %-14s %9s %10s %13s %11s %9s %9s %9s\n", a, "GEMMs", "attention",
			"memory-bound", "fixed", "launches", "host", "pass");
		host |= text_pass(out, "forward", &l->fwd);
		host |= text_pass(out, "backward", &l->bwd);
		if (l->recompute > 0)
			fprintf(out, "    %-12s %76s\n", "recompute",
				units_format(l->recompute, UNIT_SECONDS, a, sizeof a));
	}
	if (host)
		fputs("  * host-bound: the host issues the kernels more slowly than the GPU runs them\n",
		      out);
}

static void text_time(FILE *out, const struct scenario *s, const struct result *t, int64_t gpus)
{
	int k;
	char a[64];
	fprintf(out, "\nstep      %s simulated (%lld simulated GPU%s, one per pipeline stage, "
		     "stand%s for all %lld; %zu events)\n",
		units_format(t->step_s, UNIT_SECONDS, a, sizeof a), (long long)t->simulated_gpus,
		t->simulated_gpus == 1 ? "" : "s", t->simulated_gpus == 1 ? "s" : "",
		(long long)gpus, t->events);
	fprintf(out, "time on the first stage (exposed, not overlapped):\n");
	for (k = 0; k < STEP_CATEGORIES; k++)
		if (t->exposed[k] > 0)
			fprintf(out, "  %-20s %10s %5.1f%%\n", step_category_name(k),
				units_format(t->exposed[k], UNIT_SECONDS, a, sizeof a),
				100 * t->exposed[k] / t->step_s);
	fprintf(out, "  %-20s %10s %5.1f%%\n", "bubble",
		units_format(t->bubble, UNIT_SECONDS, a, sizeof a), 100 * t->bubble / t->step_s);
	text_layers(out, t);
	fprintf(out, "throughput %.0f tokens/s, %.1f TFLOP/s per GPU (model FLOPs), MFU %.1f%%, "
		     "HFU %.1f%% (attention counted %s)\n",
		t->tokens_per_s, t->tflops_per_gpu, 100 * t->mfu, 100 * t->hfu,
		attention_convention(s));
	fprintf(out, "simulated peak %s per GPU (stage %lld); analytic %s%s\n",
		units_format(t->peak_per_gpu, UNIT_BYTES, a, sizeof a), (long long)t->peak_stage,
		units_format(t->analytic_peak, UNIT_BYTES, a + 32, 32),
		t->oom ? "; the step runs out of memory" : "");
}

/* The cost lines: the cluster's price, per million tokens at the simulated rate, and the days
 * and USD of a --tokens budget. Nothing when the node has no price and no budget was asked. */
static void text_cost(FILE *out, const struct scenario *s, const struct cost *c)
{
	const struct node_spec *n = &s->cluster.node;
	char t1[256];
	bool train = s->workload.mode == MODE_TRAIN;
	if (c->usd_per_hour > 0) {
		const char *kind = scenario_enum_name("cluster.node.price_kind", n->price_kind);
		fprintf(out, "cost      %.2f USD/h (%lld x %.2f USD/h %s, %s)", c->usd_per_hour,
			(long long)s->cluster.nodes, n->price,
			strcmp(kind, "on_demand") == 0 ? "on demand"
			: strcmp(kind, "capacity_block") == 0 ? "as a capacity block" : kind,
			output_vis(n->price_date && n->price_date[0] ? n->price_date : "undated", t1,
			    sizeof t1));
		if (c->usd_per_million_tokens > 0)
			fprintf(out, "; %.3f USD per million %s tokens", c->usd_per_million_tokens,
				train ? "trained" : "output");
		fputc('\n', out);
	} else if (c->tokens > 0) {
		fprintf(out, "cost      %s has no price (set cluster.node.price)\n",
			output_vis(n->name ? n->name : "the node", t1, sizeof t1));
	}
	if (c->tokens > 0 && isfinite(c->days)) {
		fprintf(out, "%-10s%.4g %s tokens: %.4g days", "budget", c->tokens,
			train ? "trained" : "output", c->days);
		if (c->usd_per_hour > 0 && c->usd < 1e12)
			fprintf(out, ", %.0f USD", c->usd);
		else if (c->usd_per_hour > 0)
			fprintf(out, ", %.4g USD", c->usd);
		fputc('\n', out);
	} else if (c->tokens > 0) {
		fprintf(out, "%-10s%.4g tokens: never (nothing simulated)\n", "budget", c->tokens);
	}
}


void output_text(FILE *out, const struct scenario *s, const struct run_result *r)
{
	const struct memory_report *m = &r->memory;
	const struct result *t = step_of(r);
	const struct serve_result *sv = serving_of(r);
	const struct model_config *md = &s->model;
	const struct node_spec *n = &s->cluster.node;
	const struct workload *w = &s->workload;
	const struct strategy *g = &s->strategy;
	const char *dispatch;
	size_t i, first = 0, shown;
	int k;
	char a[64], b[64], label[64], t1[1024], t2[256], note[NOTES_MAX][NOTE_LEN];
	int nnotes;
	bool train = w->mode == MODE_TRAIN;

	fprintf(out, "%s  ", output_vis(s->name, t1, sizeof t1));
	fprintf(out, "(%s)\n\n", output_vis(s->file, t1, sizeof t1));
	fprintf(out, "model     %s: %.2f B parameters", output_vis(md->name, t1, sizeof t1),
		m->params.total / 1e9);
	if (m->params.active < m->params.total)
		fprintf(out, " (%.2f B active)", m->params.active / 1e9);
	fprintf(out, ", %lld layers, hidden %lld, %lld heads / %lld KV\n", (long long)md->layers,
		(long long)md->hidden, (long long)md->heads, (long long)md->kv_heads);
	fprintf(out, "cluster   %lld x %s: %lld GPUs %s, %s each", (long long)s->cluster.nodes,
		output_vis(n->name ? n->name : "node", t1, sizeof t1), (long long)s->cluster.gpus,
		output_vis(n->gpu.name ? n->gpu.name : "", t2, sizeof t2),
		units_format(n->gpu.memory, UNIT_BYTES, a, sizeof a));
	if (n->host_memory > 0)
		fprintf(out, "; host %s per node",
			units_format(n->host_memory, UNIT_BYTES, b, sizeof b));
	fputc('\n', out);
	if (train)
		fprintf(out, "workload  train, seq %lld, global batch %lld, micro-batch %lld, %s, %s\n",
			(long long)w->seq_len, (long long)w->global_batch, (long long)w->micro_batch,
			scenario_dtype_name(w->dtype),
			scenario_enum_name("workload.optimizer", w->optimizer));
	else if (w->kv_bits > 0)
		fprintf(out, "workload  infer, sized for %lld sequences of %lld tokens, weights %s, "
			     "KV %lld-bit\n",
			(long long)w->micro_batch, (long long)w->seq_len, scenario_dtype_name(w->dtype),
			(long long)w->kv_bits);
	else
		fprintf(out, "workload  infer, sized for %lld sequences of %lld tokens, weights %s, "
			     "KV %s\n",
			(long long)w->micro_batch, (long long)w->seq_len, scenario_dtype_name(w->dtype),
			scenario_dtype_name(w->kv_dtype));
	fprintf(out, "strategy  tp %lld, pp %lld, dp %lld, cp %lld, ep %lld", (long long)g->tp,
		(long long)g->pp, (long long)g->dp, (long long)g->cp, (long long)g->ep);
	if ((dispatch = dispatch_name(s)) != NULL)
		fprintf(out, " (dispatch %s)", dispatch);
	if (train) {
		fprintf(out, ", zero %lld, recompute %s", (long long)g->zero,
			scenario_enum_name("strategy.recompute", g->recompute));
		if (g->pp > 1)
			fprintf(out, ", %s", scenario_enum_name("strategy.schedule", g->schedule));
		if (g->offload.optimizer == OFFLOAD_CPU)
			fputs(", optimizer on CPU", out);
		if (g->offload.params == OFFLOAD_CPU)
			fputs(", params on CPU", out);
		if (g->offload.activations == OFFLOAD_CPU)
			fputs(", activations on CPU", out);
	}
	fputs("\n\n", out);

	/* Up to four roles side by side: the most loaded one always among them. */
	shown = m->nroles < 4 ? m->nroles : 4;
	if (m->worst >= shown)
		first = m->worst - shown + 1;
	fprintf(out, "%-22s", "memory per GPU (GiB)");
	for (i = first; i < first + shown; i++)
		fprintf(out, " %12s", role_label(&m->roles[i], g->pp, label, sizeof label));
	fputc('\n', out);
	for (k = 0; k < MEMORY_PARTS; k++) {
		if (!train && (k == MEMORY_GRADIENTS || k == MEMORY_OPTIMIZER))
			continue;
		if (train && k == MEMORY_KV_CACHE)
			continue;
		fprintf(out, "  %-20s", memory_part_name((enum memory_part)k));
		for (i = first; i < first + shown; i++)
			gib(out, m->roles[i].part[k]);
		fputc('\n', out);
		if (train && k == MEMORY_ACTIVATIONS) {
			fprintf(out, "    %-18s", "saved by layers");
			for (i = first; i < first + shown; i++)
				gib(out, m->roles[i].act_layers);
			fprintf(out, "\n    %-18s", "embedding, head");
			for (i = first; i < first + shown; i++)
				gib(out, m->roles[i].act_outer);
			fprintf(out, "\n    %-18s", "layer recomputed");
			for (i = first; i < first + shown; i++)
				gib(out, m->roles[i].act_recompute);
			fputc('\n', out);
		}
	}
	fprintf(out, "  %-20s", "total");
	for (i = first; i < first + shown; i++)
		gib(out, m->roles[i].total);
	fprintf(out, "\n  %-20s", "capacity");
	for (i = first; i < first + shown; i++)
		gib(out, m->capacity);
	fputs("\n\n", out);
	if (m->nroles > shown)
		fprintf(out, "(%zu distinct stages; --format json lists all)\n", m->nroles);

	if (w->mode == MODE_INFER && m->fits)
		fprintf(out, "fits      yes: the KV cache holds one sequence of %lld tokens and %s "
			"more\n", (long long)w->seq_len,
			units_format(m->headroom, UNIT_BYTES, a, sizeof a));
	else if (w->mode == MODE_INFER)
		fprintf(out, "fits      NO: the KV cache needs %s more to hold one sequence of %lld "
			"tokens (the engine would not start)\n",
			units_format(-m->headroom, UNIT_BYTES, a, sizeof a), (long long)w->seq_len);
	else if (m->fits)
		fprintf(out, "fits      yes, %s headroom on the most loaded GPU\n",
			units_format(m->headroom, UNIT_BYTES, a, sizeof a));
	else
		fprintf(out, "fits      NO: the most loaded GPU needs %s more than its %s\n",
			units_format(-m->headroom, UNIT_BYTES, a, sizeof a),
			units_format(m->capacity, UNIT_BYTES, b, sizeof b));
	if (m->host_per_node > 0) {
		if (m->host_capacity > 0)
			fprintf(out, "host      %s of %s per node%s\n",
				units_format(m->host_per_node, UNIT_BYTES, a, sizeof a),
				units_format(m->host_capacity, UNIT_BYTES, b, sizeof b),
				m->host_fits ? "" : ": does NOT fit");
		else
			fprintf(out, "host      %s per node (node host memory unknown)\n",
				units_format(m->host_per_node, UNIT_BYTES, a, sizeof a));
	}
	if (train) {
		char kept[32] = "none";
		if (m->max_micro_batch_kept > 0)
			snprintf(kept, sizeof kept, "%lld", (long long)m->max_micro_batch_kept);
		fprintf(out, "largest micro-batch that fits: %lld", (long long)m->max_micro_batch);
		if (m->max_micro_batch_kept < m->max_micro_batch)
			fprintf(out, " (%s within %.0f %% of memory)", kept,
				100 * MEMORY_ALLOCATOR_SHARE);
		fputc('\n', out);
	} else {
		fprintf(out, "KV cache: %s per token per GPU; %.0f tokens fit at %.0f%% of memory\n",
			units_format(m->kv_bytes_per_token, UNIT_BYTES, a, sizeof a), m->max_kv_tokens,
			s->serving.gpu_memory_utilization * 100);
	}
	if (m->advice[0])
		fprintf(out, "to fit: %s\n", output_vis(m->advice, t1, sizeof t1));
	if (t != NULL)
		text_time(out, s, t, s->cluster.gpus);
	if (sv != NULL)
		output_text_serving(out, s, sv);
	text_cost(out, s, &r->cost);
	nnotes = notes_of(s, m, t, note, NOTES_MAX);
	for (k = 0; k < nnotes; k++)
		fprintf(out, "note      %s\n", output_vis(note[k], t1, sizeof t1));
}
