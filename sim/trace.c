/*
 * trace: the Trace Event Format (Google, "Trace Event Format" document): "X" complete events
 * with ts and dur in microseconds, "M" metadata naming processes and threads, "C" counters.
 * Output stage.
 */
#include "trace.h"

#include "memtrack.h"

static void name_event(FILE *out, const char *what, unsigned pid, unsigned tid, const char *name,
		       bool *first)
{
	fprintf(out, "%s\n{\"ph\": \"M\", \"name\": \"%s\", \"pid\": %u, \"tid\": %u, "
		     "\"args\": {\"name\": \"%s\"}}", *first ? "" : ",", what, pid, tid, name);
	*first = false;
}

int trace_write(FILE *out, const struct graph *g, const struct engine *e,
		const char *const *category_names, int ncategories)
{
	const struct memtrack *m = engine_memory(e);
	bool first = true;
	size_t i;
	char buf[64];
	fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", out);
	for (i = 0; i < g->ndevices; i++) {
		snprintf(buf, sizeof buf, "GPU %zu (pipeline stage %zu)", i, i);
		name_event(out, "process_name", (unsigned)i, 0, buf, &first);
	}
	for (i = 0; i < g->nstreams; i++)
		name_event(out, "thread_name", g->streams[i].device, (unsigned)i + 1,
			   g->streams[i].name, &first);
	for (i = 0; i < g->nops; i++) {
		const struct graph_op *o = &g->ops[i];
		int c = o->category;
		if (!engine_op_done(e, i))
			continue;
		fprintf(out, ",\n{\"ph\": \"X\", \"name\": \"%s\", \"cat\": \"%s\", \"pid\": %u, "
			     "\"tid\": %u, \"ts\": %.3f, \"dur\": %.3f}",
			o->name, c >= 0 && c < ncategories ? category_names[c] : "op",
			g->streams[o->stream].device, o->stream + 1, engine_op_start(e, i) * 1e6,
			(engine_op_end(e, i) - engine_op_start(e, i)) * 1e6);
	}
	for (i = 0; i < g->ndevices; i++) {
		size_t n, k;
		const struct memtrack_sample *s = memtrack_samples(m, i, &n);
		for (k = 0; k < n; k++)
			fprintf(out, ",\n{\"ph\": \"C\", \"name\": \"allocated GiB\", \"pid\": %zu, "
				     "\"ts\": %.3f, \"args\": {\"GiB\": %.6f}}",
				i, s[k].time * 1e6, s[k].bytes / (1024.0 * 1024 * 1024));
	}
	fputs("\n]}\n", out);
	return ferror(out) ? -1 : 0;
}

/* Replica k's first GPU, its GPUs and the KV blocks it has: dp replicas alike, or with
 * disaggregated pools the prefill pool's replicas then the decode pool's. */
static int64_t replica_gpus(const struct scenario *s, const struct serve_result *r, int64_t k,
			    int64_t *gpus, int64_t *blocks)
{
	const struct serve_pool_result *p = &r->pool[SERVE_PREFILL], *d = &r->pool[SERVE_DECODE];
	if (!r->disaggregated) {
		*gpus = s->strategy.tp * s->strategy.pp;
		*blocks = r->kv_blocks_total;
		return k * *gpus;
	}
	if (k < p->replicas) {
		*gpus = p->tp;
		*blocks = p->kv_blocks_total;
		return k * p->tp;
	}
	*gpus = d->tp;
	*blocks = d->kv_blocks_total;
	return p->gpus + (k - p->replicas) * d->tp;
}

int trace_write_serving(FILE *out, const struct scenario *s, const struct serve_result *r)
{
	int64_t gpus, blocks, replicas = r->replicas > 0 ? r->replicas : 1;
	int64_t g, k, drawn, base;
	bool first = true;
	size_t i;
	char buf[128];
	/* Each replica's GPUs are one process each, replica after replica; every GPU of a replica
	 * runs each of its iterations. Past 64 processes only the first are drawn. */
	fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", out);
	for (k = 0; k < replicas; k++) {
		base = replica_gpus(s, r, k, &gpus, &blocks);
		for (g = 0; g < gpus && base + g < 64; g++) {
			unsigned pid = (unsigned)(base + g);
			if (r->disaggregated)
				snprintf(buf, sizeof buf, "%s replica %lld GPU %lld (tp rank %lld)",
					 k < r->pool[SERVE_PREFILL].replicas ? "prefill" : "decode",
					 (long long)(k < r->pool[SERVE_PREFILL].replicas
							     ? k : k - r->pool[SERVE_PREFILL].replicas),
					 (long long)g, (long long)g);
			else
				snprintf(buf, sizeof buf, "replica %lld GPU %lld (tp rank %lld, "
					 "pipeline stage %lld)", (long long)k, (long long)g,
					 (long long)(g % s->strategy.tp), (long long)(g / s->strategy.tp));
			name_event(out, "process_name", pid, 0, buf, &first);
			name_event(out, "thread_name", pid, 1, "iterations", &first);
		}
	}
	for (i = 0; i < r->niters; i++) {
		const struct serve_iteration *it = &r->iters[i];
		base = replica_gpus(s, r, it->replica, &gpus, &blocks);
		if (base >= 64)
			continue;
		drawn = base + gpus < 64 ? gpus : 64 - base;
		for (g = 0; g < drawn; g++)
			fprintf(out, ",\n{\"ph\": \"X\", \"name\": \"%s\", \"cat\": \"iteration\", "
				     "\"pid\": %lld, \"tid\": 1, \"ts\": %.3f, \"dur\": %.3f, "
				     "\"args\": {\"tokens\": %d, \"sequences\": %d, \"prefills\": %d}}",
				it->prefills == 0 ? "decode"
				: r->disaggregated ? "prefill" : "prefill+decode", (long long)(base + g),
				it->start * 1e6, it->duration * 1e6, (int)it->tokens,
				(int)it->sequences, (int)it->prefills);
		/* Counters on the replica's first GPU: its own KV cache and batch. */
		fprintf(out, ",\n{\"ph\": \"C\", \"name\": \"KV blocks\", \"pid\": %lld, "
			     "\"ts\": %.3f, \"args\": {\"in use\": %lld, \"total\": %lld}}",
			(long long)base, (it->start + it->duration) * 1e6, (long long)it->kv_blocks,
			(long long)blocks);
		fprintf(out, ",\n{\"ph\": \"C\", \"name\": \"sequences\", \"pid\": %lld, "
			     "\"ts\": %.3f, \"args\": {\"running\": %d}}",
			(long long)base, it->start * 1e6, (int)it->sequences);
	}
	fputs("\n]}\n", out);
	return ferror(out) ? -1 : 0;
}
