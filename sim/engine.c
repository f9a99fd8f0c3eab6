/*
 * engine: the event loop. Simulate stage.
 * Events: an op's compute finishing, a transfer's latency elapsing, a transfer's last byte
 * arriving. A transfer's completion event carries a version; when its rate changes the version
 * moves on and the old event is ignored when it pops. Links are shared max-min fairly, solved by
 * progressive filling again over the flows connected to one that starts or ends (see
 * fill_component): a flow held back by a narrow link elsewhere leaves the rest of a wide link to
 * the flows beside it, as in flow-level network simulators such as SimGrid.
 */
#include "engine_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bug.h"
#include "queue.h"
#include "xalloc.h"

/* With the timeline on, each device's timeline is sized before the run from the graph: at most
 * one change per op start and end on its own device, and one per memory entry on another. */
void engine_record_timeline(struct engine *e, bool on)
{
	const struct graph *g = e->g;
	size_t i, *count;
	uint32_t k;
	memtrack_set_timeline(e->mem, on);
	if (!on || e->begun)
		return;
	count = xcalloc(g->ndevices ? g->ndevices : 1, sizeof *count);
	for (i = 0; i < g->nops; i++) {
		const struct hot_op *h = &e->hot[i];
		if (!h->other_devices) {
			count[g->streams[h->stream].device] += (h->mem_start != 0) + (h->mem_end != 0);
			continue;
		}
		for (k = 0; k < g->ops[i].nmem; k++)
			count[g->mem[g->ops[i].first_mem + k].device]++;
	}
	for (i = 0; i < g->ndevices; i++)
		memtrack_reserve(e->mem, i, count[i]);
	free(count);
}

static void release_mem(struct engine *e, uint32_t op, bool at_end)
{
	const struct hot_op *h = &e->hot[op];
	const struct graph_op *o;
	uint32_t k;
	if (!h->other_devices) {
		double bytes = at_end ? h->mem_end : h->mem_start;
		if (bytes != 0)
			memtrack_change(e->mem, e->g->streams[h->stream].device, e->now, bytes);
		return;
	}
	o = &e->g->ops[op];
	for (k = 0; k < o->nmem; k++) {
		const struct graph_mem *m = &e->g->mem[o->first_mem + k];
		if (m->at_end == at_end)
			memtrack_change(e->mem, m->device, e->now, m->bytes);
	}
}

void engine_fill_hot(const struct graph *g, struct hot_op *h, size_t i)
{
	const struct graph_op *o = &g->ops[i];
	uint32_t k;
	memset(h, 0, sizeof *h);
	h->duration = o->duration;
	h->stream = o->stream;
	h->kind = (uint8_t)o->kind;
	for (k = 0; k < o->nmem; k++) {
		const struct graph_mem *m = &g->mem[o->first_mem + k];
		if (m->device != g->streams[o->stream].device)
			h->other_devices = true;
		else if (m->at_end)
			h->mem_end += m->bytes;
		else
			h->mem_start += m->bytes;
	}
}

struct engine *engine_new(const struct graph *g)
{
	struct engine *e = xcalloc(1, sizeof *e);
	size_t i, n = g->nops;
	uint32_t *fill;
	e->g = g;
	e->q = queue_new();
	e->mem = memtrack_new(g->ndevices, g->capacity);
	for (i = 0; i < g->ndevices; i++)
		if (g->initial[i] != 0)
			memtrack_change(e->mem, i, 0, g->initial[i]);
	e->dep_first = xcalloc(n + 1, sizeof *e->dep_first);
	e->dependents = xcalloc(g->ndeps ? g->ndeps : 1, sizeof *e->dependents);
	e->times = xmalloc((n ? n : 1) * sizeof *e->times);
	/* Written here rather than on first use in the loop: the pages fault in during setup. */
	for (i = 0; i < n; i++)
		e->times[i].start = e->times[i].end = -1.0;
	e->hot = xcalloc(n ? n : 1, sizeof *e->hot);
	for (i = 0; i < n; i++)
		engine_fill_hot(g, &e->hot[i], i);
	e->flow_of = xcalloc(n ? n : 1, sizeof *e->flow_of);
	{
		size_t transfers = 0;
		for (i = 0; i < n; i++)
			if (g->ops[i].kind == GRAPH_TRANSFER)
				e->flow_of[i] = (uint32_t)transfers++;
		e->flows = xcalloc(transfers ? transfers : 1, sizeof *e->flows);
		e->ntransfers = e->flowcap = transfers;
	}
	e->nops = e->opcap = n;
	e->links = xcalloc(g->nlinks ? g->nlinks : 1, sizeof *e->links);
	/* Dependents in CSR form: count, prefix-sum, fill (in op order: deterministic). */
	for (i = 0; i < n; i++) {
		uint32_t k;
		e->hot[i].waiting = g->ops[i].ndeps;
		for (k = 0; k < g->ops[i].ndeps; k++)
			e->dep_first[g->deps[g->ops[i].first_dep + k] + 1]++;
	}
	for (i = 0; i < n; i++)
		e->dep_first[i + 1] += e->dep_first[i];
	fill = xcalloc(n ? n : 1, sizeof *fill);
	for (i = 0; i < n; i++) {
		uint32_t k;
		for (k = 0; k < g->ops[i].ndeps; k++) {
			uint32_t d = g->deps[g->ops[i].first_dep + k];
			e->dependents[e->dep_first[d] + fill[d]++] = (uint32_t)i;
		}
	}
	free(fill);
	for (i = 0; i < n; i++) {
		uint32_t count = e->dep_first[i + 1] - e->dep_first[i];
		e->hot[i].dep_begin = e->dep_first[i];
		e->hot[i].dep_count = count < DEP_MANY ? (uint16_t)count : DEP_MANY;
	}
	/* Streams: their ops in issue order, as slices of one array. */
	e->streams = xcalloc(g->nstreams ? g->nstreams : 1, sizeof *e->streams);
	e->stream_ops = xcalloc(n ? n : 1, sizeof *e->stream_ops);
	for (i = 0; i < n; i++) {
		e->streams[g->ops[i].stream].len++;
		e->streams[g->ops[i].stream].transfers |= g->ops[i].kind == GRAPH_TRANSFER;
	}
	for (i = 1; i < g->nstreams; i++)
		e->streams[i].first = e->streams[i - 1].first + e->streams[i - 1].len;
	for (i = 0; i < n; i++) {
		struct stream_state *st = &e->streams[g->ops[i].stream];
		e->stream_ops[st->first + st->next++] = (uint32_t)i;
	}
	for (i = 0; i < g->nstreams; i++) {
		e->streams[i].next = 0;
		e->streams[i].running = NO_OP;
	}
	e->contending = xcalloc(g->ndevices ? g->ndevices : 1, sizeof *e->contending);
	e->dev_first = xcalloc(g->ndevices + 1, sizeof *e->dev_first);
	e->dev_streams = xcalloc(g->nstreams ? g->nstreams : 1, sizeof *e->dev_streams);
	for (i = 0; i < g->nstreams; i++)
		e->dev_first[g->streams[i].device + 1]++;
	for (i = 0; i < g->ndevices; i++)
		e->dev_first[i + 1] += e->dev_first[i];
	fill = xcalloc(g->ndevices ? g->ndevices : 1, sizeof *fill);
	for (i = 0; i < g->nstreams; i++) {
		uint32_t dv = g->streams[i].device;
		e->dev_streams[e->dev_first[dv] + fill[dv]++] = (uint32_t)i;
	}
	free(fill);
	return e;
}

void engine_free(struct engine *e)
{
	size_t i;
	if (e == NULL)
		return;
	for (i = 0; i < e->g->nlinks; i++)
		free(e->links[i].flows);
	if (e->appended != NULL)
		for (i = 0; i < e->g->nstreams; i++)
			free(e->appended[i].ops);
	free(e->appended);
	free(e->later_head);
	free(e->later_tail);
	free(e->later);
	free(e->done);
	free(e->stream_ops);
	free(e->streams);
	free(e->contending);
	free(e->dev_first);
	free(e->dev_streams);
	free(e->links);
	free(e->comp_links);
	free(e->comp_flows);
	free(e->flows);
	free(e->flow_of);
	free(e->hot);
	free(e->times);
	free(e->dependents);
	free(e->dep_first);
	memtrack_free(e->mem);
	queue_free(e->q);
	free(e);
}

/*
 * Max-min fair rates by progressive filling (Bertsekas & Gallager, Data Networks, 2nd ed., 1992,
 * §6.5.2; SimGrid's network model solves the same problem, Velho et al., ACM TOMACS 23(4), 2013):
 * every unfrozen flow's rate rises by the same amount until some link is full; the flows through
 * a full link are frozen at that level, and the rest keep rising until every flow is frozen. A
 * flow held back by a narrow link elsewhere so leaves the rest of a wide link to the others.
 *
 * Rates only depend on the flows connected to each other through shared links, so when a flow
 * starts or ends only the component reachable from its links is solved again (collect_component),
 * and only the flows whose rate moved get a new completion event. Iteration follows the links'
 * flow lists (in start order) and each flow's links (in path order): no pointer is compared and
 * every run is identical bit for bit.
 */

/* A link is full when what is left of it is at most this fraction of its bandwidth. Exact
 * arithmetic would leave 0; each round's subtraction leaves an ulp or so (1.1e-16 of bw), so
 * even a component filled in hundreds of rounds stays far below it. */
#define LINK_FULL 1e-12
/* A flow whose new rate is within this fraction of its old one keeps the old rate and its
 * completion event: the error is below the link-full tolerance and the queue is spared. */
#define RATE_SAME 1e-12

static void comp_add_link(struct engine *e, uint32_t l)
{
	struct link_state *ls = &e->links[l];
	if (ls->mark == e->epoch)
		return;
	ls->mark = e->epoch;
	if (e->ncomp_links == e->comp_link_cap) {
		e->comp_link_cap = e->comp_link_cap ? 2 * e->comp_link_cap : 16;
		e->comp_links = xreallocarray(e->comp_links, e->comp_link_cap,
					      sizeof *e->comp_links);
	}
	e->comp_links[e->ncomp_links++] = l;
}

/* The links and active flows reachable from op's links through shared links, breadth first:
 * comp_links and comp_flows (ops), each flow marked with the epoch. */
static void collect_component(struct engine *e, uint32_t op)
{
	const struct graph_op *o = &e->g->ops[op];
	size_t next;
	uint32_t k;
	e->epoch += 2;
	e->ncomp_links = e->ncomp_flows = 0;
	for (k = 0; k < o->nlinks; k++)
		comp_add_link(e, e->g->op_links[o->first_link + k]);
	for (next = 0; next < e->ncomp_links; next++) {
		const struct link_state *ls = &e->links[e->comp_links[next]];
		size_t j;
		for (j = 0; j < ls->count; j++) {
			uint32_t fop = ls->flows[j];
			struct flow *f = &e->flows[e->flow_of[fop]];
			const struct graph_op *fo;
			if (f->mark == e->epoch)
				continue;
			f->mark = e->epoch;
			if (e->ncomp_flows == e->comp_flow_cap) {
				e->comp_flow_cap = e->comp_flow_cap ? 2 * e->comp_flow_cap : 16;
				e->comp_flows = xreallocarray(e->comp_flows, e->comp_flow_cap,
							      sizeof *e->comp_flows);
			}
			e->comp_flows[e->ncomp_flows++] = fop;
			fo = &e->g->ops[fop];
			for (k = 0; k < fo->nlinks; k++)
				comp_add_link(e, e->g->op_links[fo->first_link + k]);
		}
	}
}

/* Progressive filling over the component: each flow's max-min fair rate into its fill. A round
 * raises the level to the lowest left/unfrozen over the links and freezes the flows of every link
 * that is then full: the lowest one always (the first in component order among equals), and with
 * it every link tied with it, so the rates do not depend on which tied link counts as lowest.
 * Each round freezes at least one flow: at most as many rounds as flows. */
static void fill_component(struct engine *e)
{
	const uint64_t frozen = e->epoch + 1;
	double level = 0;
	size_t i, unfrozen = e->ncomp_flows;
	for (i = 0; i < e->ncomp_links; i++) {
		struct link_state *ls = &e->links[e->comp_links[i]];
		ls->left = e->g->links[e->comp_links[i]].bw;
		ls->unfrozen = (uint32_t)ls->count;
	}
	while (unfrozen > 0) {
		double rise = INFINITY;
		size_t lowest = 0;
		for (i = 0; i < e->ncomp_links; i++) {
			const struct link_state *ls = &e->links[e->comp_links[i]];
			if (ls->unfrozen > 0 && ls->left / ls->unfrozen < rise) {
				rise = ls->left / ls->unfrozen;
				lowest = i;
			}
		}
		level += rise;
		for (i = 0; i < e->ncomp_links; i++) {
			struct link_state *ls = &e->links[e->comp_links[i]];
			if (ls->unfrozen > 0)
				ls->left -= rise * ls->unfrozen;
		}
		for (i = 0; i < e->ncomp_links; i++) {
			uint32_t l = e->comp_links[i];
			struct link_state *ls = &e->links[l];
			size_t j;
			if (ls->unfrozen == 0)
				continue;
			/* The rates on a link add up to its bandwidth at most, beyond rounding. */
			BUG_ON(ls->left < -e->g->links[l].bw * 1e-9);
			if (i != lowest && ls->left > e->g->links[l].bw * LINK_FULL)
				continue;
			for (j = 0; j < ls->count; j++) {
				const struct graph_op *fo = &e->g->ops[ls->flows[j]];
				struct flow *f = &e->flows[e->flow_of[ls->flows[j]]];
				uint32_t k;
				if (f->mark == frozen)
					continue;
				f->mark = frozen;
				f->fill = level;
				unfrozen--;
				for (k = 0; k < fo->nlinks; k++)
					e->links[e->g->op_links[fo->first_link + k]].unfrozen--;
			}
		}
	}
}

/* Give a flow a new rate from now on: bring its remaining bytes up to now at the old rate and
 * replace its completion event. */
static void reschedule(struct engine *e, uint32_t op, double rate)
{
	struct flow *f = &e->flows[e->flow_of[op]];
	f->remaining -= f->rate * (e->now - f->since);
	/* Its completion is not before now (it would have ended), so what it sent by now exceeds
	 * its bytes by rounding at most: an error far below a billionth of rate * now. */
	BUG_ON(f->remaining < -1e-9 * (f->rate * e->now + 1.0));
	if (f->remaining < 0)
		f->remaining = 0;
	f->since = e->now;
	f->rate = rate;
	f->version++;
	queue_push(e->q, e->now + f->remaining / rate, EV_FLOW_DONE, op, f->version);
}

/* The sharing around op changed (it started or ended): solve its component again and move the
 * completion of every flow whose rate changed, and schedule op's if it just started. */
static void reshare(struct engine *e, uint32_t op)
{
	size_t i;
	collect_component(e, op);
	if (e->ncomp_flows == 0)
		return;
	/* One link: filling gives every flow on it bw/n in one round; most components are this. */
	if (e->ncomp_links == 1) {
		uint32_t l = e->comp_links[0];
		double share = e->g->links[l].bw / (double)e->links[l].count;
		for (i = 0; i < e->ncomp_flows; i++)
			e->flows[e->flow_of[e->comp_flows[i]]].fill = share;
	} else {
		fill_component(e);
	}
	for (i = 0; i < e->ncomp_flows; i++) {
		uint32_t fop = e->comp_flows[i];
		const struct flow *f = &e->flows[e->flow_of[fop]];
		if (fop == op || fabs(f->fill - f->rate) > f->rate * RATE_SAME)
			reschedule(e, fop, f->fill);
	}
}

static void flow_begin(struct engine *e, uint32_t op)
{
	const struct graph_op *o = &e->g->ops[op];
	struct flow *f = &e->flows[e->flow_of[op]];
	uint32_t k;
	f->remaining = o->bytes;
	f->rate = 0;
	f->since = e->now;
	f->mark = 0;           /* below every epoch, whatever the flow's storage held */
	f->active = true;
	for (k = 0; k < o->nlinks; k++) {
		struct link_state *ls = &e->links[e->g->op_links[o->first_link + k]];
		if (ls->count == ls->cap) {
			ls->cap = ls->cap ? 2 * ls->cap : 8;
			ls->flows = xreallocarray(ls->flows, ls->cap, sizeof *ls->flows);
		}
		ls->flows[ls->count++] = op;
	}
	reshare(e, op);
}

static void flow_end(struct engine *e, uint32_t op)
{
	const struct graph_op *o = &e->g->ops[op];
	uint32_t k;
	size_t j;
	e->flows[e->flow_of[op]].active = false;
	for (k = 0; k < o->nlinks; k++) {
		struct link_state *ls = &e->links[e->g->op_links[o->first_link + k]];
		for (j = 0; j < ls->count; j++) {
			if (ls->flows[j] == op) {
				memmove(&ls->flows[j], &ls->flows[j + 1],
					(ls->count - j - 1) * sizeof *ls->flows);
				ls->count--;
				break;
			}
		}
	}
	reshare(e, op);
}

/* A compute op's completion at its current speed. */
static void push_work(struct engine *e, struct stream_state *ss)
{
	queue_push(e->q, e->now + ss->remaining / ss->rate, EV_WORK_DONE, ss->running,
		   ss->version);
}

/* A contending transfer of `device` starts (+1) or ends (-1): when that turns contention on or
 * off, the device's running compute ops change speed from now on. */
static void contend(struct engine *e, uint32_t device, int delta)
{
	uint32_t before = e->contending[device], k;
	double rate;
	e->contending[device] = (uint32_t)((int64_t)before + delta);
	if (e->g->slowdown[device] <= 0 || (before == 0) == (e->contending[device] == 0))
		return;
	rate = e->contending[device] > 0 ? 1 - e->g->slowdown[device] : 1;
	for (k = e->dev_first[device]; k < e->dev_first[device + 1]; k++) {
		struct stream_state *ss = &e->streams[e->dev_streams[k]];
		if (!ss->busy || ss->running == NO_OP)
			continue;
		ss->remaining -= ss->rate * (e->now - ss->since);
		if (ss->remaining < 0)
			ss->remaining = 0;
		ss->since = e->now;
		ss->rate = rate;
		ss->version++;
		push_work(e, ss);
	}
}

static void start_op(struct engine *e, uint32_t op)
{
	const struct hot_op *h = &e->hot[op];
	const struct stream_state *st = &e->streams[h->stream];
	const struct graph_op *o;
	BUG_ON(h->waiting != 0);  /* never before its dependencies are done */
	e->times[op].start = e->now;
	e->streams[h->stream].busy = true;
	/* What finishing this op will read, and the stream's next op, are far apart in memory
	 * and needed only after the events of every other stream in between: ask for them now
	 * (GCC and Clang builtin; a hint, no effect on results). */
	if (h->dep_count > 0)
		__builtin_prefetch(&e->dependents[h->dep_begin]);
	if (st->next < st->len) {
		uint32_t next = e->stream_ops[st->first + st->next];
		__builtin_prefetch(&e->hot[next]);
		if (st->transfers)
			__builtin_prefetch(&e->g->ops[next]);
	}
	release_mem(e, op, false);
	if (h->kind == GRAPH_COMPUTE) {
		struct stream_state *ss = &e->streams[h->stream];
		uint32_t dev = e->g->streams[h->stream].device;
		ss->running = op;
		ss->remaining = h->duration;
		ss->rate = e->contending[dev] > 0 ? 1 - e->g->slowdown[dev] : 1;
		ss->since = e->now;
		ss->version++;
		push_work(e, ss);
		return;
	}
	if (e->g->streams[h->stream].contends)
		contend(e, e->g->streams[h->stream].device, +1);
	o = &e->g->ops[op];
	if (o->latency > 0) {
		queue_push(e->q, e->now + o->latency, EV_LATENCY_DONE, op, 0);
	} else if (o->nlinks > 0 && o->bytes > 0) {
		flow_begin(e, op);
	} else {
		queue_push(e->q, e->now, EV_COMPUTE_DONE, op, 0);
	}
}

void engine_try_stream(struct engine *e, uint32_t s)
{
	struct stream_state *st = &e->streams[s];
	uint32_t op;
	if (st->busy)
		return;
	if (st->next < st->len) {
		op = e->stream_ops[st->first + st->next];
		if (e->hot[op].waiting > 0)
			return;
		st->next++;
	} else if (e->appended != NULL && e->appended[s].next < e->appended[s].len) {
		struct appended *a = &e->appended[s];
		op = a->ops[a->next];
		if (e->hot[op].waiting > 0)
			return;
		a->next++;
	} else {
		return;
	}
	start_op(e, op);
}

static void finish_op(struct engine *e, uint32_t op)
{
	const struct hot_op *h = &e->hot[op];
	uint32_t stream = h->stream, k, end;
	e->times[op].end = e->now;
	e->finished++;
	release_mem(e, op, true);
	e->streams[stream].busy = false;
	e->streams[stream].running = NO_OP;
	if (h->kind != GRAPH_COMPUTE && e->g->streams[stream].contends)
		contend(e, e->g->streams[stream].device, -1);
	end = h->dep_count < DEP_MANY ? h->dep_begin + h->dep_count : e->dep_first[op + 1];
	for (k = h->dep_begin; k < end; k++) {
		struct hot_op *d = &e->hot[e->dependents[k]];
		BUG_ON(d->waiting == 0);
		if (--d->waiting == 0)
			engine_try_stream(e, d->stream);
	}
	if (e->later_head != NULL)
		for (k = e->later_head[op]; k != NO_OP; k = e->later[k].next) {
			struct hot_op *d = &e->hot[e->later[k].op];
			if (--d->waiting == 0)
				engine_try_stream(e, d->stream);
		}
	if (e->report_done) {
		if (e->ndone == e->donecap) {
			e->donecap = e->donecap ? 2 * e->donecap : 64;
			e->done = xreallocarray(e->done, e->donecap, sizeof *e->done);
		}
		e->done[e->ndone++] = op;
	}
	engine_try_stream(e, stream);
}

static void begin(struct engine *e)
{
	size_t s;
	e->begun = true;
	for (s = 0; s < e->g->nstreams; s++)
		engine_try_stream(e, (uint32_t)s);
}

bool engine_step(struct engine *e)
{
	struct queue_event ev;
	if (e->events == 0 && e->finished == 0)
		begin(e);
	/* A completion superseded by a rate change is dropped without moving the clock. */
	do {
		if (!queue_pop(e->q, &ev))
			return false;
	} while ((ev.kind == EV_FLOW_DONE && (ev.b != e->flows[e->flow_of[ev.a]].version ||
					       !e->flows[e->flow_of[ev.a]].active)) ||
		 (ev.kind == EV_WORK_DONE && ev.b != e->streams[e->hot[ev.a].stream].version));
	e->events++;
	BUG_ON(ev.time < e->now);  /* the clock never moves backwards */
	e->now = ev.time;
	switch (ev.kind) {
	case EV_COMPUTE_DONE:
	case EV_WORK_DONE:
		finish_op(e, (uint32_t)ev.a);
		break;
	case EV_LATENCY_DONE: {
		const struct graph_op *o = &e->g->ops[ev.a];
		if (o->nlinks > 0 && o->bytes > 0)
			flow_begin(e, (uint32_t)ev.a);
		else
			finish_op(e, (uint32_t)ev.a);
		break;
	}
	case EV_FLOW_DONE:
		flow_end(e, (uint32_t)ev.a);
		finish_op(e, (uint32_t)ev.a);
		break;
	}
	return true;
}

int engine_run(struct engine *e)
{
	while (engine_step(e))
		;
	return e->finished == e->g->nops ? 0 : -1;
}
