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

int trace_write_serving(FILE *out, const struct scenario *s, const struct serve_result *r)
{
	int64_t gpus = s->strategy.tp * s->strategy.pp, g;
	bool first = true;
	size_t i;
	char buf[96];
	/* Every GPU of the replica runs each iteration; past 64 only the first are drawn. */
	if (gpus > 64)
		gpus = 64;
	fputs("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", out);
	for (g = 0; g < gpus; g++) {
		snprintf(buf, sizeof buf, "GPU %lld (tp rank %lld, pipeline stage %lld)", (long long)g,
			 (long long)(g % s->strategy.tp), (long long)(g / s->strategy.tp));
		name_event(out, "process_name", (unsigned)g, 0, buf, &first);
		name_event(out, "thread_name", (unsigned)g, 1, "iterations", &first);
	}
	for (i = 0; i < r->niters; i++) {
		const struct serve_iteration *it = &r->iters[i];
		for (g = 0; g < gpus; g++)
			fprintf(out, ",\n{\"ph\": \"X\", \"name\": \"%s\", \"cat\": \"iteration\", "
				     "\"pid\": %lld, \"tid\": 1, \"ts\": %.3f, \"dur\": %.3f, "
				     "\"args\": {\"tokens\": %d, \"sequences\": %d, \"prefills\": %d}}",
				it->prefills > 0 ? "prefill+decode" : "decode", (long long)g,
				it->start * 1e6, it->duration * 1e6, (int)it->tokens,
				(int)it->sequences, (int)it->prefills);
		fprintf(out, ",\n{\"ph\": \"C\", \"name\": \"KV blocks\", \"pid\": 0, "
			     "\"ts\": %.3f, \"args\": {\"in use\": %lld, \"total\": %lld}}",
			(it->start + it->duration) * 1e6, (long long)it->kv_blocks,
			(long long)r->kv_blocks_total);
		fprintf(out, ",\n{\"ph\": \"C\", \"name\": \"sequences\", \"pid\": 0, "
			     "\"ts\": %.3f, \"args\": {\"running\": %d}}",
			it->start * 1e6, (int)it->sequences);
	}
	fputs("\n]}\n", out);
	return ferror(out) ? -1 : 0;
}
