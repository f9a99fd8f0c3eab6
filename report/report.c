/*
 * report: capacity-planning tables and charts from a sweep database (see report.h). Every
 * number comes from a column of the documented views; the arithmetic here is the planning
 * arithmetic: days = tokens / (tokens/s) / 86,400; USD = days x 24 x USD/h; USD per million
 * tokens = USD/h / 3,600 / (tokens/s) x 10^6; GPUs for a target rate = ceil(target / rate) x
 * GPUs of one replica.
 */
#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cost.h"
#include "report_int.h"
#include "store.h"
#include "table.h"
#include "xalloc.h"

/* A token count as people write it: 2T, 500B, 1.5M. */
static void tokens_text(double v, char *buf, size_t size)
{
	static const struct {
		double scale;
		const char *suffix;
	} u[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
	size_t i;
	if (v >= 1e15) {
		/* Past a thousand T, as a plain power of ten: 1e+18, not 1e+06T. */
		snprintf(buf, size, "%.4g", v);
		return;
	}
	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		if (v >= u[i].scale) {
			snprintf(buf, size, "%.4g%s", v / u[i].scale, u[i].suffix);
			return;
		}
	snprintf(buf, size, "%.4g", v);
}

/* A day, USD or GPU figure of a table: as table_num below a billion, else in %.4g so an
 * absurd budget prints 1.157e+13 rather than fourteen digits; empty when not finite (a point
 * without a throughput has no days). */
static void amount(struct table *t, size_t row, size_t col, int decimals, double v)
{
	char buf[32];
	if (!isfinite(v))
		return;
	table_num(t, row, col, decimals, v);
	if (fabs(v) < 1e9)
		return;
	snprintf(buf, sizeof buf, "%.4g", v);
	free(t->cell[row * t->cols + col]);
	t->cell[row * t->cols + col] = xstrdup(buf);
}

/* A USD/h price for a note: two decimals, or %.4g when huge. */
static void usd_text(double v, char *buf, size_t size)
{
	snprintf(buf, size, fabs(v) < 1e9 ? "%.2f" : "%.4g", v);
}

/* The price of a row's nodes: --price for its node type, else the database's. */
static void price(const struct report_options *o, struct row *r)
{
	int i;
	for (i = 0; i < o->nprices; i++)
		if (strcmp(o->prices[i].node, r->node) == 0) {
			r->usd_h = o->prices[i].usd_per_hour * (double)r->nodes;
			r->priced = true;
			r->price_kind[0] = '\0';   /* negotiated: the kind is the user's */
			snprintf(r->price_date, sizeof r->price_date, "--price");
		}
}

/* The rows of a query, or none when it cannot be read: the report shows what it can. */
static struct store_rows *query(struct store *st, const char *sql, const struct store_value *p,
				size_t n)
{
	struct store_rows *r;
	struct diag d;
	int rc;
	diag_init(&d);
	rc = store_query(st, sql, p, n, &r, &d);
	diag_release(&d);
	return rc == 0 ? r : NULL;
}

/* A sequence length as a parameter: 0 is none (SQL NULL). */
static struct store_value seq_param(long long seq)
{
	return seq ? store_int(seq) : store_text(NULL);
}

/* The rows of a query as report rows. */
static struct row *query_rows(struct store *st, const char *sql, const struct store_value *p,
			      size_t np, size_t *n)
{
	struct store_rows *q = query(st, sql, p, np);
	struct row *rows = NULL;
	size_t i;
	*n = 0;
	if (q == NULL)
		return NULL;
	if (q->rows > 0)
		rows = xcalloc(q->rows, sizeof *rows);
	for (i = 0; i < q->rows; i++)
		report_read_row(q, i, &rows[i]);
	*n = q->rows;
	store_rows_free(q);
	return rows;
}

/* Distinct text values of the first column. */
static char **distinct(struct store *st, const char *sql, const struct store_value *p, size_t np,
		       size_t *n)
{
	struct store_rows *q = query(st, sql, p, np);
	char **out = NULL;
	size_t i;
	*n = 0;
	if (q == NULL)
		return NULL;
	for (i = 0; i < q->rows; i++) {
		const char *v = store_cell(q, i, 0)->text;
		out = xreallocarray(out, *n + 1, sizeof *out);
		out[(*n)++] = xstrdup(v ? v : "");
	}
	store_rows_free(q);
	return out;
}

static void free_list(char **l, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* ---- training ---- */

/* With bands (sweep --uncertainty), "step P10 s" and "step P90 s" follow "step s". */
static const char *const train_heads[] = {
	"node", "nodes", "GPUs", "strategy", "step s", "tokens/s", "MFU", "peak GiB/GPU",
	"USD/h", "USD/M tokens", "days", "USD", "point",
};
static const char *const train_band_heads[] = {
	"node", "nodes", "GPUs", "strategy", "step s", "step P10 s", "step P90 s", "tokens/s",
	"MFU", "peak GiB/GPU", "USD/h", "USD/M tokens", "days", "USD", "point",
};
enum { TRAIN_COLS = 13 };

static void train_row(struct table *t, const struct row *r, bool bands)
{
	size_t i = t->rows, b = bands ? 2 : 0;
	char label[128], node[112];
	table_add_row(t);
	report_strategy_label(r, label, sizeof label);
	table_text(t, i, 0, report_node_label(r, node, sizeof node));
	table_num(t, i, 1, 0, (double)r->nodes);
	table_num(t, i, 2, 0, (double)r->gpus);
	table_text(t, i, 3, label);
	table_num(t, i, 4, 3, r->step_s);
	if (bands && r->banded) {
		table_num(t, i, 5, 3, r->step_p10);
		table_num(t, i, 6, 3, r->step_p90);
	}
	table_num(t, i, 5 + b, 0, r->tps);
	table_num(t, i, 6 + b, 3, r->mfu);
	table_num(t, i, 7 + b, 1, r->peak / gib);
	if (r->priced) {
		amount(t, i, 8 + b, 2, r->usd_h);
		amount(t, i, 9 + b, 3, r->usd_mtok);
		amount(t, i, 11 + b, 0, r->usd);
	}
	amount(t, i, 10 + b, 2, r->days);
	table_num(t, i, 12 + b, 0, (double)r->id);
}

static int by_usd(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	if (x->priced != y->priced)
		return x->priced ? -1 : 1;
	if (x->priced && x->usd != y->usd)
		return x->usd < y->usd ? -1 : 1;
	return x->days < y->days ? -1 : x->days > y->days ? 1 : (x->id > y->id) - (x->id < y->id);
}

static int by_days(const void *a, const void *b)
{
	const struct row *x = *(const struct row *const *)a, *y = *(const struct row *const *)b;
	if (x->days != y->days)
		return x->days < y->days ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static void print_rows(FILE *out, enum format f, struct row **rows, size_t n)
{
	struct table t;
	size_t i;
	bool bands = false;
	for (i = 0; i < n; i++)
		bands |= rows[i]->banded;
	table_init(&t, TRAIN_COLS + (bands ? 2 : 0));
	table_heads(&t, bands ? train_band_heads : train_heads);
	for (i = 0; i < n; i++)
		train_row(&t, rows[i], bands);
	report_table(&t, f, out);
	table_free(&t);
}

/* ---- the sections ---- */

struct pick {
	struct row *rows;           /* owned */
	size_t n;
	struct row **best;          /* per node type, by cost */
	size_t nbest;
};

/* The misfit of a node type that never fits: its most common cause and the closest point. */
static void misfit_rows(struct store *st, const char *model, long long seq, char **nodes,
			size_t nn, struct pick *pk, struct table *t)
{
	size_t i, k;
	for (i = 0; i < nn; i++) {
		struct store_value p[3] = {store_text(model), store_text(nodes[i]), store_int(seq)};
		struct store_rows *q;
		bool fits = false;
		for (k = 0; k < pk->nbest; k++)
			fits = fits || strcmp(pk->best[k]->node, nodes[i]) == 0;
		if (fits)
			continue;
		q = query(st, "SELECT coalesce(substr(reason, 1, instr(reason, ':') - 1), 'error'), "
			      "count(*), min(peak_per_gpu), max(capacity), min(host_per_node), "
			      "max(host_capacity), min(error) FROM v_points WHERE mode = 'train' AND "
			      "model = ?1 AND node = ?2 AND seq_len = ?3 AND (fits = 0 OR error IS NOT "
			      "NULL) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", p, 3);
		if (q != NULL && q->rows > 0) {
			const char *cause = store_cell(q, 0, 0)->text ? store_cell(q, 0, 0)->text : "";
			const char *error = store_cell(q, 0, 6)->text;
			char why[256];
			size_t r = t->rows;
			if (strcmp(cause, "host memory") == 0)
				snprintf(why, sizeof why, "host memory: the least any point needs is %.0f "
							  "GiB per node, a node has %.0f",
					 store_cell(q, 0, 4)->d / gib, store_cell(q, 0, 5)->d / gib);
			else if (strcmp(cause, "error") == 0)
				snprintf(why, sizeof why, "no configuration: %s", error ? error : "?");
			else
				snprintf(why, sizeof why, "%s: the least any point needs is %.1f GiB per "
							  "GPU, a GPU has %.1f",
					 cause, store_cell(q, 0, 2)->d / gib,
					 store_cell(q, 0, 3)->d / gib);
			table_add_row(t);
			table_text(t, r, 0, nodes[i]);
			table_num(t, r, 1, 0, (double)store_cell(q, 0, 1)->i);
			table_text(t, r, 2, why);
		}
		store_rows_free(q);
	}
}

static void memory_table(FILE *out, enum format f, struct row **rows, size_t n)
{
	const char *heads[3 + PARTS + 2] = {"node", "nodes", "strategy"};
	struct table t;
	size_t i, k;
	for (k = 0; k < PARTS; k++)
		heads[3 + k] = store_part_name(k);
	heads[3 + PARTS] = "total GiB";
	heads[4 + PARTS] = "capacity GiB";
	table_init(&t, 5 + PARTS);
	table_heads(&t, heads);
	for (i = 0; i < n; i++) {
		char label[128];
		double total = 0;
		report_strategy_label(rows[i], label, sizeof label);
		table_add_row(&t);
		table_text(&t, i, 0, rows[i]->node);
		table_num(&t, i, 1, 0, (double)rows[i]->nodes);
		table_text(&t, i, 2, label);
		for (k = 0; k < PARTS; k++) {
			table_num(&t, i, 3 + k, 1, rows[i]->mem[k] / gib);
			total += rows[i]->mem[k];
		}
		table_num(&t, i, 3 + PARTS, 1, total / gib);
		table_num(&t, i, 4 + PARTS, 1, rows[i]->capacity / gib);
	}
	report_table(&t, f, out);
	table_free(&t);
}

/* The fitting training rows of a model and sequence length, priced, with days and USD for the
 * token budget, into pk->rows; the node types with any point of them into *nodes. */
static char **train_rows(struct store *st, const struct report_options *o, const char *model,
			 long long seq, struct pick *pk, size_t *nn)
{
	/* Parameters: ?1 model, ?3 sequence length. */
	struct store_value p[3] = {store_text(model), store_text(NULL), seq_param(seq)};
	char sql[8192], cols[6144], **nodes;
	size_t i;
	nodes = distinct(st, "SELECT DISTINCT node FROM points WHERE mode = 'train' AND "
			     "model = ?1 AND seq_len = ?3 ORDER BY node", p, 3, nn);
	report_row_columns(st, "train", cols, sizeof cols);
	snprintf(sql, sizeof sql, "SELECT %s FROM v_fitting WHERE mode = 'train' AND "
		 "model = ?1 AND seq_len = ?3 ORDER BY id", cols);
	pk->rows = query_rows(st, sql, p, 3, &pk->n);
	for (i = 0; i < pk->n; i++) {
		struct row *r = &pk->rows[i];
		struct cost c;
		price(o, r);
		cost_build(r->usd_h, r->tps, o->tokens, &c);
		r->days = c.days;
		r->usd = c.usd;
		r->usd_mtok = c.usd_per_million_tokens;
	}
	return nodes;
}

/* Per node type, the cheapest row into pk->best and the fastest into fast (nn + 1 slots
 * each), both sorted; returns how many node types have a row. */
static size_t best_per_node(struct pick *pk, char **nodes, size_t nn, struct row **fast)
{
	size_t i, k, nfast = 0;
	for (k = 0; k < nn; k++) {
		struct row *c = NULL, *f = NULL;
		for (i = 0; i < pk->n; i++) {
			struct row *r = &pk->rows[i];
			if (strcmp(r->node, nodes[k]) != 0)
				continue;
			if (c == NULL || by_usd(&r, &c) < 0)
				c = r;
			if (f == NULL || by_days(&r, &f) < 0)
				f = r;
		}
		if (c) {
			pk->best[pk->nbest++] = c;
			fast[nfast++] = f;
		}
	}
	qsort(pk->best, pk->nbest, sizeof *pk->best, by_usd);
	qsort(fast, nfast, sizeof *fast, by_days);
	return nfast;
}

/* Pareto front: sorted by time, each point cheaper than every faster one (front has
 * pk->n + 1 slots); returns its length. */
static size_t pareto_front(const struct pick *pk, struct row **front)
{
	struct row **all = xcalloc(pk->n + 1, sizeof *all);
	double best_usd = INFINITY;
	size_t i, na = 0, nfront = 0;
	for (i = 0; i < pk->n; i++)
		if (pk->rows[i].priced)
			all[na++] = &pk->rows[i];
	qsort(all, na, sizeof *all, by_days);
	for (i = 0; i < na; i++)
		if (all[i]->usd < best_usd) {
			best_usd = all[i]->usd;
			front[nfront++] = all[i];
		}
	free(all);
	return nfront;
}

/*
 * A note under a table whose rows fill more than 90 % of their GPUs' memory: past it PyTorch's
 * caching allocator may retry its allocations (torchtune's developers advise 85-90 %,
 * meta-pytorch/torchtune PR #1360; dssim's own sim/memory.h MEMORY_KEEP_FREE), which no step
 * time counts; dssim plan keeps 10 % free for training unless told otherwise.
 */
static void note_full(FILE *out, enum format f, struct row *const *rows, size_t n)
{
	char buf[320];
	size_t i, full = 0;
	for (i = 0; i < n; i++)
		full += rows[i]->capacity > 0 && rows[i]->peak > 0.9 * rows[i]->capacity;
	if (full == 0)
		return;
	snprintf(buf, sizeof buf, "%zu of these fill more than 90 %% of their GPUs' memory "
		 "(peak GiB/GPU): past it PyTorch's caching allocator may retry its allocations, "
		 "which their step times do not count; dssim plan keeps 10 %% free.", full);
	report_note(out, f, buf);
}

/* The tables (and charts) of the configurations that fit; *chart becomes the point charted
 * over time when none was chosen yet. */
static void print_fitting(FILE *out, const struct report_options *o, const struct pick *pk,
			  struct row **fast, size_t nfast, struct row **front, size_t nfront,
			  long long *chart)
{
	report_title(out, o->format, 2, "Best configuration per instance type, by cost");
	print_rows(out, o->format, pk->best, pk->nbest);
	if (!pk->best[pk->nbest - 1]->priced)
		report_note(out, o->format, "Instance types without a price (see Prices) are "
				     "ranked by time, after the priced ones.");
	note_full(out, o->format, pk->best, pk->nbest);
	report_title(out, o->format, 2, "Fastest configuration per instance type");
	print_rows(out, o->format, fast, nfast);
	note_full(out, o->format, fast, nfast);
	if (nfront > 0) {
		report_title(out, o->format, 2, "Pareto front of cost against time");
		print_rows(out, o->format, front, nfront);
		if (o->format == FORMAT_HTML) {
			char tok[32], question[128];
			tokens_text(o->tokens, tok, sizeof tok);
			snprintf(question, sizeof question,
				 "Cost to train %s tokens vs time, by instance type", tok);
			report_scatter(out, question, pk->rows, pk->n, front, nfront);
		}
	}
	report_title(out, o->format, 2, "Memory per GPU of the configurations by cost (GiB)");
	memory_table(out, o->format, pk->best, pk->nbest);
	if (o->format == FORMAT_HTML) {
		report_stacked_bars(out, pk->best, pk->nbest, true,
				    "Memory per GPU of the configurations by cost");
		report_stacked_bars(out, pk->best, pk->nbest, false,
				    "Where the step time goes (exposed seconds)");
	}
	if (*chart == 0 && pk->best[0]->priced)
		*chart = pk->best[0]->id;
	else if (*chart == 0)
		*chart = fast[0]->id;
}

/* The section of one model and sequence length. */
static void training_section(struct store *st, const struct report_options *o, FILE *out,
			     const char *model, long long seq, long long *chart)
{
	static const char *const heads[] = {"node", "points", "why it never fits"};
	struct pick pk = {NULL, 0, NULL, 0};
	struct row **fast, **front;
	size_t nn, nfast, nfront;
	char **nodes, heading[256], buf[256], tok[32];
	struct table t;
	nodes = train_rows(st, o, model, seq, &pk, &nn);
	pk.best = xcalloc(nn + 1, sizeof *pk.best);
	fast = xcalloc(nn + 1, sizeof *fast);
	nfast = best_per_node(&pk, nodes, nn, fast);
	front = xcalloc(pk.n + 1, sizeof *front);
	nfront = pareto_front(&pk, front);
	tokens_text(o->tokens, tok, sizeof tok);
	snprintf(heading, sizeof heading, "Training %.160s, sequences of %lld tokens: %s tokens",
		 model, seq, tok);
	report_title(out, o->format, 1, heading);
	if (pk.nbest == 0)
		report_note(out, o->format, "No configuration fits on any instance type.");
	else
		print_fitting(out, o, &pk, fast, nfast, front, nfront, chart);
	table_init(&t, 3);
	table_heads(&t, heads);
	misfit_rows(st, model, seq, nodes, nn, &pk, &t);
	if (t.rows > 0) {
		report_title(out, o->format, 2, "Instance types that never fit");
		report_table(&t, o->format, out);
	}
	table_free(&t);
	snprintf(buf, sizeof buf, "%zu fitting configurations on %zu instance types.", pk.n, nn);
	report_note(out, o->format, buf);
	free(front);
	free(fast);
	free(pk.best);
	free(pk.rows);
	free_list(nodes, nn);
}

static void training(struct store *st, const struct report_options *o, FILE *out,
		     long long *chart)
{
	size_t nm, m;
	char **models = distinct(st, "SELECT DISTINCT model || char(31) || seq_len FROM points "
				     "WHERE mode = 'train' ORDER BY model, seq_len", NULL, 0, &nm);
	for (m = 0; m < nm; m++) {
		char *sep = strchr(models[m], 31);
		long long seq = sep ? atoll(sep + 1) : 0;
		if (sep)
			*sep = '\0';
		training_section(st, o, out, models[m], seq, chart);
	}
	free_list(models, nm);
}

/* Why no serving point of a node type is in the table: it never fits (the loader's reason),
 * or it fits but no rate meets the targets. */
static void infer_misfit(struct store *st, const char *model, const char *node, char *why,
			 size_t size)
{
	struct store_value p[2] = {store_text(model), store_text(node)};
	struct store_rows *q = query(st, "SELECT count(*) FILTER (WHERE fits = 1), min(reason) "
					 "FROM v_points WHERE mode = 'infer' AND model = ?1 AND "
					 "node = ?2", p, 2);
	snprintf(why, size, "no rate meets the targets");
	if (q != NULL && q->rows > 0 && store_cell(q, 0, 0)->i == 0 &&
	    store_cell(q, 0, 1)->text != NULL)
		snprintf(why, size, "does not fit: %s", store_cell(q, 0, 1)->text);
	store_rows_free(q);
}

static void inference(struct store *st, const struct report_options *o, FILE *out)
{
	static const char *const heads[] = {"node", "GPUs", "tp", "ep", "rate /s", "output tok/s",
					    "TTFT p99 s", "TPOT p99 ms", "USD/h", "USD/M output",
					    "GPUs for target", "point"};
	size_t nm, m, i;
	char **models = distinct(st, "SELECT DISTINCT model FROM points WHERE mode = 'infer' "
				     "ORDER BY model", NULL, 0, &nm);
	char where[512] = "", cols[6144];
	report_row_columns(st, "infer", cols, sizeof cols);
	for (i = 0; i < (size_t)o->nslo; i++)
		snprintf(where + strlen(where), sizeof where - strlen(where), " AND %s <= %.17g",
			 o->slo[i].column, o->slo[i].limit);
	for (m = 0; m < nm; m++) {
		char heading[256], sql[8192];
		size_t nn, k;
		struct store_value p[2] = {store_text(models[m]), store_text(NULL)};
		char **nodes = distinct(st, "SELECT DISTINCT node FROM points WHERE mode = 'infer' AND "
					    "model = ?1 ORDER BY node", p, 1, &nn);
		struct table t;
		struct row **picked = xcalloc(nn + 1, sizeof *picked);
		struct row *keep = xcalloc(nn + 1, sizeof *keep);
		size_t np = 0;
		snprintf(heading, sizeof heading, "Serving %s", models[m]);
		report_title(out, o->format, 1, heading);
		table_init(&t, 12);
		table_heads(&t, heads);
		for (k = 0; k < nn; k++) {
			size_t n;
			struct row *r;
			snprintf(sql, sizeof sql, "SELECT %s FROM v_fitting WHERE mode = 'infer' AND "
				 "model = ?1 AND node = ?2%s ORDER BY arrival_rate DESC, "
				 "output_tokens_per_s DESC, id LIMIT 1", cols, where);
			p[1] = store_text(nodes[k]);
			r = query_rows(st, sql, p, 2, &n);
			if (n == 1) {
				size_t at = t.rows;
				price(o, r);
				r->infer = true;
				keep[np] = *r;
				picked[np] = &keep[np];
				np++;
				table_add_row(&t);
				char node[112];
				table_text(&t, at, 0, report_node_label(r, node, sizeof node));
				table_num(&t, at, 1, 0, (double)r->gpus);
				table_num(&t, at, 2, 0, (double)r->tp);
				table_num(&t, at, 3, 0, (double)r->ep);
				table_num(&t, at, 4, 2, r->arrival);
				table_num(&t, at, 5, 0, r->out_tps);
				table_num(&t, at, 6, 3, r->ttft);
				table_num(&t, at, 7, 1, r->tpot * 1e3);
				if (r->priced && r->out_tps > 0) {
					struct cost c;
					cost_build(r->usd_h, r->out_tps, 0, &c);
					amount(&t, at, 8, 2, r->usd_h);
					amount(&t, at, 9, 3, c.usd_per_million_tokens);
				}
				if (o->target_rate > 0 && r->arrival > 0)
					amount(&t, at, 10, 0,
					       ceil(o->target_rate / r->arrival) * (double)r->gpus);
				table_num(&t, at, 11, 0, (double)r->id);
			} else {
				size_t at = t.rows;
				char why[256];
				infer_misfit(st, models[m], nodes[k], why, sizeof why);
				table_add_row(&t);
				table_text(&t, at, 0, nodes[k]);
				table_text(&t, at, 4, why);
			}
			free(r);
		}
		report_note(out, o->format, "The highest offered request rate each instance type sustains within "
				     "the latency targets.");
		report_table(&t, o->format, out);
		table_free(&t);
		if (np > 0) {
			report_title(out, o->format, 2, "Memory per GPU (GiB)");
			memory_table(out, o->format, picked, np);
			if (o->format == FORMAT_HTML)
				report_stacked_bars(out, picked, np, true, "Memory per GPU while serving");
		}
		free(picked);
		free(keep);
		free_list(nodes, nn);
	}
	free_list(models, nm);
}

/* Prices used, with their dates: the report says which it relied on. */
static void prices_note(struct store *st, const struct report_options *o, FILE *out)
{
	struct store_rows *q;
	size_t r;
	int i;
	report_title(out, o->format, 2, "Prices");
	q = query(st, store_has_price_kind(st)
			      ? "SELECT node, max(usd_per_hour / nodes), max(price_date), "
				"max(price_kind) FROM v_points WHERE node IS NOT NULL "
				"GROUP BY node ORDER BY node"
			      : "SELECT node, max(usd_per_hour / nodes), max(price_date), NULL "
				"FROM v_points WHERE node IS NOT NULL GROUP BY node ORDER BY node",
		  NULL, 0);
	for (r = 0; q != NULL && r < q->rows; r++) {
		char buf[320], usd[32], kind[40] = "";
		const char *node = store_cell(q, r, 0)->text, *date = store_cell(q, r, 2)->text;
		if (store_cell(q, r, 3)->text != NULL) {
			report_kind_text(store_cell(q, r, 3)->text, kind + 2, sizeof kind - 2);
			memcpy(kind, ", ", 2);
		}
		bool over = false;
		for (i = 0; i < o->nprices; i++)
			if (strcmp(o->prices[i].node, node) == 0) {
				usd_text(o->prices[i].usd_per_hour, usd, sizeof usd);
				snprintf(buf, sizeof buf, "%s: %s USD/h per node (--price)", node, usd);
				over = true;
			}
		usd_text(store_cell(q, r, 1)->d, usd, sizeof usd);
		if (!over && store_cell(q, r, 1)->type != STORE_NULL)
			snprintf(buf, sizeof buf, "%s: %s USD/h per node%s, read %s (the preset's "
						  "price and source)",
				 node, usd, kind, date ? date : "?");
		else if (!over)
			snprintf(buf, sizeof buf, "%s: no price (give one with --price %s=USD/h)", node,
				 node);
		report_note(out, o->format, buf);
	}
	store_rows_free(q);
}

/* Whether the database holds points of a mode (train, infer). */
static bool has_mode(struct store *st, const char *mode)
{
	struct store_value p = store_text(mode);
	struct store_rows *q = query(st, "SELECT 1 FROM points WHERE mode = ? LIMIT 1", &p, 1);
	bool found = q != NULL && q->rows > 0;
	store_rows_free(q);
	return found;
}

/* Memory over the step of one point, from results.memory_timeline. */
static void timeline(struct store *st, FILE *out, long long id)
{
	struct store_value p = store_int(id);
	struct store_rows *q = query(st, "SELECT memory_timeline, capacity, node, nodes FROM "
					 "v_points WHERE id = ?", &p, 1);
	if (q != NULL && q->rows > 0 && store_cell(q, 0, 0)->type != STORE_NULL) {
		char node[64];
		snprintf(node, sizeof node, "%s x%lld", store_cell(q, 0, 2)->text,
			 (long long)store_cell(q, 0, 3)->i);
		report_timeline_chart(out, id, store_cell(q, 0, 0)->text, store_cell(q, 0, 1)->d,
				      node);
	}
	store_rows_free(q);
}

static const char *const css =
	"body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;"
	"padding:0 1em}table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:13px}"
	"th,td{border:1px solid #ccc;padding:3px 7px}th{background:#f2f2f2;text-align:left}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:.5em 0 1.5em}"
	"figcaption{font-size:12px;color:#555}svg{max-width:100%;height:auto;font-size:11px}"
	"h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:1.6em}";

int report_write(const char *path, const struct report_options *o, FILE *out, struct diag *d)
{
	struct mark at = {path, 0, 0};
	struct store *st = store_open(path, true, 5000, d);
	struct store_rows *q;
	long long chart = o->point, points = 0;
	char buf[512];
	if (st == NULL)
		return -2;
	{
		/* A count that cannot be read is no points: the report says only that. */
		struct diag qd;
		diag_init(&qd);
		if (store_query(st, "SELECT count(*) FROM points", NULL, 0, &q, &qd) == 0 &&
		    q->rows > 0)
			points = store_cell(q, 0, 0)->i;
		diag_release(&qd);
	}
	store_rows_free(q);
	if (points == 0) {
		diag_add(d, at, NULL, "the database holds no points");
		store_close(st, d);
		return -2;
	}
	if (report_check_options(st, path, o, d) != 0) {
		store_close(st, d);
		return -1;
	}
	if (o->format == FORMAT_HTML)
		fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			     "<title>dssim capacity report</title><style>%s</style></head><body>\n"
			     "<h1>dssim capacity report</h1>\n", css);
	else if (o->format == FORMAT_MD)
		fputs("# dssim capacity report\n", out);
	else if (o->format == FORMAT_TEXT)
		fputs("dssim capacity report\n", out);
	else if (o->format == FORMAT_JSON)
		/* The items in the text's order: titles, notes and tables (rows as objects). */
		fputs("{\"report\": \"dssim capacity report\", \"items\": [\n {\"title\": "
		      "\"dssim capacity report\", \"level\": 0}", out);
	{
		char tok[32], train[96] = "";
		tokens_text(o->tokens, tok, sizeof tok);
		if (has_mode(st, "train"))
			snprintf(train, sizeof train, " Days and USD are for %s training tokens.", tok);
		snprintf(buf, sizeof buf, "%s: %lld points.%s%s", path, points, train,
			 o->nprices ? " --price overrides apply." : "");
	}
	report_note(out, o->format, buf);
	training(st, o, out, &chart);
	inference(st, o, out);
	if (o->format == FORMAT_HTML && chart > 0) {
		report_title(out, o->format, 1, "Memory over time");
		timeline(st, out, chart);
	}
	prices_note(st, o, out);
	if (o->format == FORMAT_HTML)
		fputs("</body></html>\n", out);
	else if (o->format == FORMAT_JSON)
		fputs("\n]}\n", out);
	store_close(st, d);
	return 0;
}
