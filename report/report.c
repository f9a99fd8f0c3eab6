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
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* The schema this report reads (store.c STORE_SCHEMA_VERSION). */
enum { SCHEMA_VERSION = 3 };
enum { PARTS = 7, TIMES = 9 };

static const char *const part_names[PARTS] = {"weights", "gradients", "optimizer",
					      "activations", "kv_cache", "buffers", "overhead"};
static const char *const time_names[TIMES] = {"compute", "tp_comm", "cp_comm", "pp_comm",
					      "dp_comm", "ep_comm", "optimizer", "offload",
					      "bubble"};
/* Chart colours, one per part or category (colour-blind-safe Okabe-Ito palette). */
static const char *const colours[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
				      "#56B4E9", "#D55E00", "#F0E442", "#999999", "#000000"};

static const double gib = 1024.0 * 1024.0 * 1024.0;

/* ---- options ---- */

int report_parse_tokens(const char *text, double *out)
{
	char *end;
	double v = strtod(text, &end), scale = 1;
	if (end == text || !(v > 0))
		return -1;
	switch (*end) {
	case 'K': case 'k': scale = 1e3; end++; break;
	case 'M': scale = 1e6; end++; break;
	case 'B': case 'G': scale = 1e9; end++; break;
	case 'T': scale = 1e12; end++; break;
	default: break;
	}
	if (*end != '\0' || !isfinite(v * scale))
		return -1;
	*out = v * scale;
	return 0;
}

int report_parse_price(struct report_options *o, const char *text, char *err, size_t errsize)
{
	const char *eq = strchr(text, '=');
	char *end;
	double v;
	if (eq == NULL || eq == text || (size_t)(eq - text) >= sizeof o->prices[0].node) {
		snprintf(err, errsize, "expected NODE=USD/h, got '%s'", text);
		return -1;
	}
	v = strtod(eq + 1, &end);
	if (end == eq + 1 || !(v >= 0) || !isfinite(v) ||
	    (*end != '\0' && strcmp(end, "USD/h") != 0 && strcmp(end, "/h") != 0)) {
		snprintf(err, errsize, "expected NODE=USD/h such as p5.48xlarge=40, got '%s'", text);
		return -1;
	}
	if (o->nprices == REPORT_PRICES_MAX) {
		snprintf(err, errsize, "more than %d prices", REPORT_PRICES_MAX);
		return -1;
	}
	snprintf(o->prices[o->nprices].node, sizeof o->prices[0].node, "%.*s", (int)(eq - text),
		 text);
	o->prices[o->nprices].usd_per_hour = v;
	o->nprices++;
	return 0;
}

int report_parse_slo(struct report_options *o, const char *text, char *err, size_t errsize)
{
	static const char *const cols[] = {"ttft_p50", "ttft_p99", "tpot_p50", "tpot_p99",
					   "latency_p99", NULL};
	char buf[256], *item, *save = NULL;
	snprintf(buf, sizeof buf, "%s", text);
	o->nslo = 0;
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *end;
		double v;
		int k;
		bool known = false;
		if (eq == NULL) {
			snprintf(err, errsize, "expected METRIC=TIME, got '%s'", item);
			return -1;
		}
		*eq = '\0';
		for (k = 0; cols[k]; k++)
			known = known || strcmp(cols[k], item) == 0;
		if (!known) {
			snprintf(err, errsize, "unknown metric '%s' (ttft_p50, ttft_p99, tpot_p50, "
					       "tpot_p99, latency_p99)", item);
			return -1;
		}
		v = strtod(eq + 1, &end);
		if (strcmp(end, "ms") == 0)
			v /= 1000;
		else if (strcmp(end, "s") != 0 && *end != '\0')
			end = NULL;
		if (end == NULL || end == eq + 1 || !(v > 0) || o->nslo == REPORT_SLO_MAX) {
			snprintf(err, errsize, "expected a time such as 2s or 100ms for %s", item);
			return -1;
		}
		snprintf(o->slo[o->nslo].column, sizeof o->slo[0].column, "%s", item);
		o->slo[o->nslo].limit = v;
		o->nslo++;
	}
	return 0;
}

/* A token count as people write it: 2T, 500B, 1.5M. */
static void tokens_text(double v, char *buf, size_t size)
{
	static const struct {
		double scale;
		const char *suffix;
	} u[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "K"}};
	size_t i;
	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		if (v >= u[i].scale) {
			snprintf(buf, size, "%.4g%s", v / u[i].scale, u[i].suffix);
			return;
		}
	snprintf(buf, size, "%.4g", v);
}

/* ---- reading ---- */

struct row {
	long long id, nodes, gpus, tp, pp, dp, cp, ep, zero, mb, vp;
	char node[64], recompute[16], schedule[16], price_date[16];
	double step_s, tps, mfu, peak, capacity, usd_h, arrival, rps, out_tps, ttft, tpot;
	double mem[PARTS], time[TIMES];
	bool priced;
	bool infer;                 /* a serving point: its strategy is tp and ep */
	double days, usd, usd_mtok;
};

static void text_col(sqlite3_stmt *q, int k, char *dst, size_t size)
{
	const unsigned char *v = sqlite3_column_text(q, k);
	snprintf(dst, size, "%s", v ? (const char *)v : "");
}

static const char *const row_columns =
	"id, node, nodes, gpus, tp, pp, dp, cp, ep, zero, micro_batch, vp, recompute, schedule, "
	"price_date, step_s, tokens_per_s, mfu, peak_per_gpu, capacity, usd_per_hour, "
	"arrival_rate, requests_per_s, output_tokens_per_s, ttft_p99, tpot_p99, m_weights, "
	"m_gradients, m_optimizer, m_activations, m_kv_cache, m_buffers, m_overhead, t_compute, "
	"t_tp_comm, t_cp_comm, t_pp_comm, t_dp_comm, t_ep_comm, t_optimizer, t_offload, t_bubble";

static void read_row(sqlite3_stmt *q, struct row *r)
{
	long long *ints[] = {&r->id, NULL, &r->nodes, &r->gpus, &r->tp, &r->pp, &r->dp, &r->cp,
			     &r->ep, &r->zero, &r->mb, &r->vp};
	double *reals[] = {&r->step_s, &r->tps, &r->mfu, &r->peak, &r->capacity, &r->usd_h,
			   &r->arrival, &r->rps, &r->out_tps, &r->ttft, &r->tpot};
	int k;
	memset(r, 0, sizeof *r);
	for (k = 0; k < 12; k++)
		if (ints[k])
			*ints[k] = sqlite3_column_int64(q, k);
	text_col(q, 1, r->node, sizeof r->node);
	text_col(q, 12, r->recompute, sizeof r->recompute);
	text_col(q, 13, r->schedule, sizeof r->schedule);
	text_col(q, 14, r->price_date, sizeof r->price_date);
	for (k = 0; k < 11; k++)
		*reals[k] = sqlite3_column_double(q, 15 + k);
	r->priced = sqlite3_column_type(q, 20) != SQLITE_NULL;
	for (k = 0; k < PARTS; k++)
		r->mem[k] = sqlite3_column_double(q, 26 + k);
	for (k = 0; k < TIMES; k++)
		r->time[k] = sqlite3_column_double(q, 26 + PARTS + k);
}

/* The price of a row's nodes: --price for its node type, else the database's. */
static void price(const struct report_options *o, struct row *r)
{
	int i;
	for (i = 0; i < o->nprices; i++)
		if (strcmp(o->prices[i].node, r->node) == 0) {
			r->usd_h = o->prices[i].usd_per_hour * (double)r->nodes;
			r->priced = true;
			snprintf(r->price_date, sizeof r->price_date, "--price");
		}
}

/* Rows of a query with up to two text and one integer parameter. */
static struct row *query_rows(sqlite3 *db, const char *sql, const char *a, const char *b,
			      long long c, size_t *n)
{
	sqlite3_stmt *q;
	struct row *rows = NULL;
	size_t cap = 0;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return NULL;
	if (a)
		sqlite3_bind_text(q, 1, a, -1, SQLITE_STATIC);
	if (b)
		sqlite3_bind_text(q, 2, b, -1, SQLITE_STATIC);
	if (c)
		sqlite3_bind_int64(q, 3, c);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			rows = xreallocarray(rows, cap, sizeof *rows);
		}
		read_row(q, &rows[(*n)++]);
	}
	sqlite3_finalize(q);
	return rows;
}

/* Distinct text values of the first column. */
static char **distinct(sqlite3 *db, const char *sql, const char *a, long long c, size_t *n)
{
	sqlite3_stmt *q;
	char **out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return NULL;
	if (a)
		sqlite3_bind_text(q, 1, a, -1, SQLITE_STATIC);
	if (c)
		sqlite3_bind_int64(q, 2, c);
	while (sqlite3_step(q) == SQLITE_ROW) {
		out = xreallocarray(out, *n + 1, sizeof *out);
		out[(*n)++] = xstrdup(sqlite3_column_text(q, 0) ? (const char *)
							       sqlite3_column_text(q, 0) : "");
	}
	sqlite3_finalize(q);
	return out;
}

static void free_list(char **l, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* ---- output helpers ---- */

static void title(FILE *out, enum format f, int level, const char *text)
{
	switch (f) {
	case FORMAT_MD:
		fprintf(out, "\n%s %s\n\n", level == 1 ? "##" : "###", text);
		break;
	case FORMAT_CSV:
		fprintf(out, "\n# %s\n", text);
		break;
	case FORMAT_HTML:
		fprintf(out, "<h%d>", level + 1);
		table_html_text(out, text);
		fprintf(out, "</h%d>\n", level + 1);
		break;
	default:
		fprintf(out, "\n%s\n", text);
		for (size_t i = strlen(text); i > 0; i--)
			fputc(level == 1 ? '=' : '-', out);
		fputc('\n', out);
	}
}

static void note(FILE *out, enum format f, const char *text)
{
	if (f == FORMAT_HTML) {
		fputs("<p>", out);
		table_html_text(out, text);
		fputs("</p>\n", out);
	} else {
		fprintf(out, f == FORMAT_CSV ? "# %s\n" : "%s\n", text);
	}
}

static void strategy_label(const struct row *r, char *buf, size_t size)
{
	char cp[24] = "", vp[24] = "";
	if (r->infer) {
		snprintf(buf, size, "tp%lld ep%lld pp%lld", r->tp, r->ep, r->pp);
		return;
	}
	if (r->cp > 1)
		snprintf(cp, sizeof cp, " cp%lld", r->cp);
	if (r->vp > 1)
		snprintf(vp, sizeof vp, " vp%lld", r->vp);
	snprintf(buf, size, "tp%lld pp%lld dp%lld%s zero%lld mb%lld %s %s%s", r->tp, r->pp, r->dp,
		 cp, r->zero, r->mb, r->recompute, r->schedule, vp);
}

/* ---- training ---- */

static const char *const train_heads[] = {
	"node", "nodes", "GPUs", "strategy", "step s", "tokens/s", "MFU", "peak GiB/GPU",
	"USD/h", "USD/M tokens", "days", "USD", "point",
};
enum { TRAIN_COLS = 13 };

static void train_row(struct table *t, const struct row *r)
{
	size_t i = t->rows;
	char label[128];
	table_add_row(t);
	strategy_label(r, label, sizeof label);
	table_text(t, i, 0, r->node);
	table_num(t, i, 1, 0, (double)r->nodes);
	table_num(t, i, 2, 0, (double)r->gpus);
	table_text(t, i, 3, label);
	table_num(t, i, 4, 3, r->step_s);
	table_num(t, i, 5, 0, r->tps);
	table_num(t, i, 6, 3, r->mfu);
	table_num(t, i, 7, 1, r->peak / gib);
	if (r->priced) {
		table_num(t, i, 8, 2, r->usd_h);
		table_num(t, i, 9, 3, r->usd_mtok);
		table_num(t, i, 11, 0, r->usd);
	}
	table_num(t, i, 10, 2, r->days);
	table_num(t, i, 12, 0, (double)r->id);
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
	table_init(&t, TRAIN_COLS);
	table_heads(&t, train_heads);
	for (i = 0; i < n; i++)
		train_row(&t, rows[i]);
	table_print(&t, f, out);
	table_free(&t);
}

/* ---- SVG charts ---- */

static void svg_begin(FILE *out, int w, int h, const char *label)
{
	fprintf(out, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
	table_html_text(out, label);
	fputs("\">\n", out);
}

static void svg_end(FILE *out, const char *caption)
{
	fputs("</svg><figcaption>", out);
	table_html_text(out, caption);
	fputs("</figcaption></figure>\n", out);
}

static void svg_text(FILE *out, double x, double y, const char *anchor, const char *text)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor);
	table_html_text(out, text);
	fputs("</text>\n", out);
}

/* Horizontal stacked bars: one per row, `parts` values each, with a legend. */
static void stacked_bars(FILE *out, struct row **rows, size_t n, bool memory, const char *caption)
{
	const int w = 760, left = 190, bar = 22, gap = 10, top = 30;
	int h = top + (int)n * (bar + gap) + 50, k;
	int parts = memory ? PARTS : TIMES;
	double max = 0;
	size_t i;
	for (i = 0; i < n; i++) {
		double sum = 0;
		for (k = 0; k < parts; k++)
			sum += memory ? rows[i]->mem[k] : rows[i]->time[k];
		if (memory && rows[i]->capacity > sum)
			sum = rows[i]->capacity;
		if (sum > max)
			max = sum;
	}
	if (!(max > 0))
		max = 1;
	svg_begin(out, w, h, caption);
	for (k = 0; k < parts; k++) {
		fprintf(out, "<rect x=\"%d\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/>", 10 + k * 82,
			colours[k]);
		svg_text(out, 24 + k * 82, 15, "start", memory ? part_names[k] : time_names[k]);
	}
	for (i = 0; i < n; i++) {
		double x = left, y = top + (double)i * (bar + gap);
		char label[96];
		snprintf(label, sizeof label, "%s x%lld", rows[i]->node, rows[i]->nodes);
		svg_text(out, left - 6, y + 15, "end", label);
		for (k = 0; k < parts; k++) {
			double v = memory ? rows[i]->mem[k] : rows[i]->time[k];
			double bw = v / max * (w - left - 20);
			if (!(bw > 0))
				continue;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
				     "<title>%s %.3g %s</title></rect>\n", x, y, bw, bar, colours[k],
				memory ? part_names[k] : time_names[k], memory ? v / gib : v,
				memory ? "GiB" : "s");
			x += bw;
		}
		if (memory && rows[i]->capacity > 0) {
			double cx = left + rows[i]->capacity / max * (w - left - 20);
			fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" "
				     "stroke-dasharray=\"3,2\"/>\n", cx, y - 3, cx, y + bar + 3);
		}
	}
	{
		char axis[64];
		snprintf(axis, sizeof axis, memory ? "0 to %.0f GiB per GPU (dashed: capacity)"
						   : "0 to %.3g s per step", memory ? max / gib : max);
		svg_text(out, left, h - 12, "start", axis);
	}
	svg_end(out, caption);
}

/* Cost against time: every priced configuration, the Pareto front joined. The axes span the
 * data (5 % margins), labelled at both ends. */
static void scatter(FILE *out, struct row *rows, size_t n, struct row **front, size_t nf)
{
	const int w = 760, h = 380, l = 90, r = 20, t = 30, b = 50;
	double x0 = INFINITY, x1 = 0, y0 = INFINITY, y1 = 0;
	size_t i;
	char buf[160];
	for (i = 0; i < n; i++)
		if (rows[i].priced && isfinite(rows[i].days)) {
			x0 = fmin(x0, rows[i].days);
			x1 = fmax(x1, rows[i].days);
			y0 = fmin(y0, rows[i].usd);
			y1 = fmax(y1, rows[i].usd);
		}
	if (!(x1 > 0) || !(y1 > 0))
		return;
	{
		double dx = fmax(x1 - x0, x1 * 0.01) * 0.05, dy = fmax(y1 - y0, y1 * 0.01) * 0.05;
		x0 = fmax(0, x0 - dx);
		x1 += dx;
		y0 = fmax(0, y0 - dy);
		y1 += dy;
	}
#define SX(v) (l + ((v) - x0) / (x1 - x0) * (w - l - r))
#define SY(v) (h - b - ((v) - y0) / (y1 - y0) * (h - t - b))
	svg_begin(out, w, h, "cost against time");
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", l, h - b,
		w - r, h - b);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", l, t, l,
		h - b);
	snprintf(buf, sizeof buf, "%.4g", x0);
	svg_text(out, l, h - b + 16, "start", buf);
	snprintf(buf, sizeof buf, "%.4g", x1);
	svg_text(out, w - r, h - b + 16, "end", buf);
	svg_text(out, (l + w - r) / 2.0, h - 12, "middle", "days to train the token budget");
	snprintf(buf, sizeof buf, "%.4g", y0);
	svg_text(out, l - 6, h - b, "end", buf);
	snprintf(buf, sizeof buf, "%.4g", y1);
	svg_text(out, l - 6, t + 4, "end", buf);
	svg_text(out, 4, 14, "start", "USD for the token budget");
	for (i = 0; i < n; i++) {
		if (!rows[i].priced || !isfinite(rows[i].days))
			continue;
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#999999\"/>\n",
			SX(rows[i].days), SY(rows[i].usd));
	}
	fputs("<polyline fill=\"none\" stroke=\"#D55E00\" stroke-width=\"2\" points=\"", out);
	for (i = 0; i < nf; i++)
		fprintf(out, "%.1f,%.1f ", SX(front[i]->days), SY(front[i]->usd));
	fputs("\"/>\n", out);
	for (i = 0; i < nf; i++) {
		fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#D55E00\"><title>",
			SX(front[i]->days), SY(front[i]->usd));
		snprintf(buf, sizeof buf, "%s x%lld: %.2f days, %.0f USD", front[i]->node,
			 front[i]->nodes, front[i]->days, front[i]->usd);
		table_html_text(out, buf);
		fputs("</title></circle>\n", out);
	}
#undef SX
#undef SY
	svg_end(out, "Cost against time of every priced configuration; the line joins the Pareto "
		     "front (no configuration is both cheaper and faster).");
}

/* Memory over the step of one point, from results.memory_timeline. */
static void timeline_chart(FILE *out, sqlite3 *db, long long id)
{
	sqlite3_stmt *q;
	const char *json;
	double t[256], v[256], tmax = 0, vmax = 0, cap = 0;
	int n = 0, i;
	const int w = 760, h = 300, l = 80, r = 20, top = 20, b = 50;
	char buf[160], node[64] = "";
	if (sqlite3_prepare_v2(db, "SELECT memory_timeline, capacity, node, nodes FROM v_points "
				   "WHERE id = ?", -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_type(q, 0) == SQLITE_NULL) {
		sqlite3_finalize(q);
		return;
	}
	json = (const char *)sqlite3_column_text(q, 0);
	cap = sqlite3_column_double(q, 1);
	snprintf(node, sizeof node, "%s x%lld", sqlite3_column_text(q, 2),
		 (long long)sqlite3_column_int64(q, 3));
	/* [[t,bytes],...]: the numbers in pairs. */
	while (json && *json && n < 256) {
		char *end;
		double a, c;
		while (*json && (*json == '[' || *json == ',' || *json == ']' || *json == ' '))
			json++;
		a = strtod(json, &end);
		if (end == json)
			break;
		json = end;
		while (*json == ',')
			json++;
		c = strtod(json, &end);
		if (end == json)
			break;
		json = end;
		t[n] = a;
		v[n] = c;
		tmax = fmax(tmax, a);
		vmax = fmax(vmax, c);
		n++;
	}
	sqlite3_finalize(q);
	vmax = fmax(vmax, cap);
	if (n < 2 || !(tmax > 0) || !(vmax > 0))
		return;
	snprintf(buf, sizeof buf, "memory over one step, point %lld (%s)", id, node);
	svg_begin(out, w, h, buf);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", l, h - b,
		w - r, h - b);
	fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#000\"/>\n", l, top, l,
		h - b);
	if (cap > 0) {
		double y = h - b - cap / vmax * (h - top - b);
		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#000\" "
			     "stroke-dasharray=\"4,3\"/>\n", l, y, w - r, y);
	}
	fputs("<polyline fill=\"none\" stroke=\"#0072B2\" stroke-width=\"2\" points=\"", out);
	for (i = 0; i < n; i++)
		fprintf(out, "%.1f,%.1f ", l + t[i] / tmax * (w - l - r),
			h - b - v[i] / vmax * (h - top - b));
	fputs("\"/>\n", out);
	snprintf(buf, sizeof buf, "seconds into the step (0 to %.3g)", tmax);
	svg_text(out, (l + w - r) / 2.0, h - 15, "middle", buf);
	snprintf(buf, sizeof buf, "%.0f GiB", vmax / gib);
	svg_text(out, l - 6, top + 10, "end", buf);
	svg_text(out, l - 6, h - b, "end", "0");
	svg_end(out, "Memory of the most loaded GPU over the simulated step (dashed: capacity), "
		     "the largest allocation in each of 64 intervals.");
}

/* ---- the sections ---- */

struct pick {
	struct row *rows;           /* owned */
	size_t n;
	struct row **best;          /* per node type, by cost */
	size_t nbest;
};

/* The misfit of a node type that never fits: its most common cause and the closest point. */
static void misfit_rows(sqlite3 *db, const char *model, long long seq, char **nodes, size_t nn,
			struct pick *pk, struct table *t)
{
	size_t i, k;
	for (i = 0; i < nn; i++) {
		sqlite3_stmt *q;
		bool fits = false;
		for (k = 0; k < pk->nbest; k++)
			fits = fits || strcmp(pk->best[k]->node, nodes[i]) == 0;
		if (fits)
			continue;
		if (sqlite3_prepare_v2(db,
				       "SELECT coalesce(substr(reason, 1, instr(reason, ':') - 1), "
				       "'error'), count(*), min(peak_per_gpu), max(capacity), "
				       "min(host_per_node), max(host_capacity), min(error) FROM v_points "
				       "WHERE mode = 'train' AND model = ?1 AND node = ?2 AND seq_len = ?3 "
				       "AND (fits = 0 OR error IS NOT NULL) GROUP BY 1 "
				       "ORDER BY count(*) DESC LIMIT 1",
				       -1, &q, NULL) != SQLITE_OK)
			continue;
		sqlite3_bind_text(q, 1, model, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, nodes[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, seq);
		if (sqlite3_step(q) == SQLITE_ROW) {
			const char *cause = (const char *)sqlite3_column_text(q, 0);
			char why[256];
			size_t r = t->rows;
			if (strcmp(cause, "host memory") == 0)
				snprintf(why, sizeof why, "host memory: the least any point needs is %.0f "
							  "GiB per node, a node has %.0f",
					 sqlite3_column_double(q, 4) / gib,
					 sqlite3_column_double(q, 5) / gib);
			else if (strcmp(cause, "error") == 0)
				snprintf(why, sizeof why, "no configuration: %s",
					 sqlite3_column_text(q, 6) ? (const char *)sqlite3_column_text(q, 6)
								   : "?");
			else
				snprintf(why, sizeof why, "%s: the least any point needs is %.1f GiB per "
							  "GPU, a GPU has %.1f",
					 cause, sqlite3_column_double(q, 2) / gib,
					 sqlite3_column_double(q, 3) / gib);
			table_add_row(t);
			table_text(t, r, 0, nodes[i]);
			table_num(t, r, 1, 0, (double)sqlite3_column_int64(q, 1));
			table_text(t, r, 2, why);
		}
		sqlite3_finalize(q);
	}
}

static void memory_table(FILE *out, enum format f, struct row **rows, size_t n)
{
	static const char *const heads[] = {"node", "nodes", "strategy", "weights", "gradients",
					    "optimizer", "activations", "kv_cache", "buffers",
					    "overhead", "total GiB", "capacity GiB"};
	struct table t;
	size_t i;
	int k;
	table_init(&t, 12);
	table_heads(&t, heads);
	for (i = 0; i < n; i++) {
		char label[128];
		double total = 0;
		strategy_label(rows[i], label, sizeof label);
		table_add_row(&t);
		table_text(&t, i, 0, rows[i]->node);
		table_num(&t, i, 1, 0, (double)rows[i]->nodes);
		table_text(&t, i, 2, label);
		for (k = 0; k < PARTS; k++) {
			table_num(&t, i, 3 + (size_t)k, 1, rows[i]->mem[k] / gib);
			total += rows[i]->mem[k];
		}
		table_num(&t, i, 10, 1, total / gib);
		table_num(&t, i, 11, 1, rows[i]->capacity / gib);
	}
	table_print(&t, f, out);
	table_free(&t);
}

static void training(sqlite3 *db, const struct report_options *o, FILE *out, long long *chart)
{
	size_t nm, m;
	char **models = distinct(db, "SELECT DISTINCT model || char(31) || seq_len FROM points "
				     "WHERE mode = 'train' ORDER BY model, seq_len", NULL, 0, &nm);
	for (m = 0; m < nm; m++) {
		char *sep = strchr(models[m], 31), heading[256], buf[256];
		long long seq = sep ? atoll(sep + 1) : 0;
		struct pick pk = {NULL, 0, NULL, 0};
		struct row **fast, **front;
		size_t nn, i, k, nfast = 0, nfront = 0;
		char **nodes;
		struct table t;
		double best_usd = INFINITY;
		if (sep)
			*sep = '\0';
		nodes = distinct(db, "SELECT DISTINCT node FROM points WHERE mode = 'train' AND "
				     "model = ?1 AND seq_len = ?2 ORDER BY node", models[m], seq, &nn);
		pk.rows = query_rows(db, "SELECT id, node, nodes, gpus, tp, pp, dp, cp, ep, zero, "
				     "micro_batch, vp, recompute, schedule, price_date, step_s, "
				     "tokens_per_s, mfu, peak_per_gpu, capacity, usd_per_hour, "
				     "arrival_rate, requests_per_s, output_tokens_per_s, ttft_p99, "
				     "tpot_p99, m_weights, m_gradients, m_optimizer, m_activations, "
				     "m_kv_cache, m_buffers, m_overhead, t_compute, t_tp_comm, "
				     "t_cp_comm, t_pp_comm, t_dp_comm, t_ep_comm, t_optimizer, "
				     "t_offload, t_bubble FROM v_fitting WHERE mode = 'train' AND "
				     "model = ?1 AND seq_len = ?3 ORDER BY id",
				     models[m], NULL, seq, &pk.n);
		for (i = 0; i < pk.n; i++) {
			struct row *r = &pk.rows[i];
			price(o, r);
			r->days = r->tps > 0 ? o->tokens / r->tps / 86400.0 : INFINITY;
			r->usd = r->days * 24.0 * r->usd_h;
			r->usd_mtok = r->tps > 0 ? r->usd_h / 3600.0 / r->tps * 1e6 : 0;
		}
		pk.best = xcalloc(nn + 1, sizeof *pk.best);
		fast = xcalloc(nn + 1, sizeof *fast);
		for (k = 0; k < nn; k++) {
			struct row *c = NULL, *f = NULL;
			for (i = 0; i < pk.n; i++) {
				struct row *r = &pk.rows[i];
				if (strcmp(r->node, nodes[k]) != 0)
					continue;
				if (c == NULL || by_usd(&r, &c) < 0)
					c = r;
				if (f == NULL || by_days(&r, &f) < 0)
					f = r;
			}
			if (c) {
				pk.best[pk.nbest++] = c;
				fast[nfast++] = f;
			}
		}
		qsort(pk.best, pk.nbest, sizeof *pk.best, by_usd);
		qsort(fast, nfast, sizeof *fast, by_days);
		/* Pareto front: sorted by time, each point cheaper than every faster one. */
		front = xcalloc(pk.n + 1, sizeof *front);
		{
			struct row **all = xcalloc(pk.n + 1, sizeof *all);
			size_t na = 0;
			for (i = 0; i < pk.n; i++)
				if (pk.rows[i].priced)
					all[na++] = &pk.rows[i];
			qsort(all, na, sizeof *all, by_days);
			for (i = 0; i < na; i++)
				if (all[i]->usd < best_usd) {
					best_usd = all[i]->usd;
					front[nfront++] = all[i];
				}
			free(all);
		}
		{
			char tok[32];
			tokens_text(o->tokens, tok, sizeof tok);
			snprintf(heading, sizeof heading, "Training %.160s, sequences of %lld tokens: "
				 "%s tokens", models[m], seq, tok);
		}
		title(out, o->format, 1, heading);
		if (pk.nbest == 0) {
			note(out, o->format, "No configuration fits on any instance type.");
		} else {
			title(out, o->format, 2, "Best configuration per instance type, by cost");
			print_rows(out, o->format, pk.best, pk.nbest);
			if (!pk.best[pk.nbest - 1]->priced)
				note(out, o->format, "Instance types without a price (see Prices) are "
						     "ranked by time, after the priced ones.");
			title(out, o->format, 2, "Fastest configuration per instance type");
			print_rows(out, o->format, fast, nfast);
			if (nfront > 0) {
				title(out, o->format, 2, "Pareto front of cost against time");
				print_rows(out, o->format, front, nfront);
				if (o->format == FORMAT_HTML)
					scatter(out, pk.rows, pk.n, front, nfront);
			}
			title(out, o->format, 2, "Memory per GPU of the configurations by cost (GiB)");
			memory_table(out, o->format, pk.best, pk.nbest);
			if (o->format == FORMAT_HTML) {
				stacked_bars(out, pk.best, pk.nbest, true,
					     "Memory per GPU of the configurations by cost");
				stacked_bars(out, pk.best, pk.nbest, false,
					     "Where the step time goes (exposed seconds)");
			}
			if (*chart == 0 && pk.best[0]->priced)
				*chart = pk.best[0]->id;
			else if (*chart == 0)
				*chart = fast[0]->id;
		}
		table_init(&t, 3);
		{
			static const char *const heads[] = {"node", "points", "why it never fits"};
			table_heads(&t, heads);
		}
		misfit_rows(db, models[m], seq, nodes, nn, &pk, &t);
		if (t.rows > 0) {
			title(out, o->format, 2, "Instance types that never fit");
			table_print(&t, o->format, out);
		}
		table_free(&t);
		snprintf(buf, sizeof buf, "%zu fitting configurations on %zu instance types.", pk.n, nn);
		note(out, o->format, buf);
		free(front);
		free(fast);
		free(pk.best);
		free(pk.rows);
		free_list(nodes, nn);
	}
	free_list(models, nm);
}

/* Why no serving point of a node type is in the table: it never fits (the loader's reason),
 * or it fits but no rate meets the targets. */
static void infer_misfit(sqlite3 *db, const char *model, const char *node, char *why,
			 size_t size)
{
	sqlite3_stmt *q;
	snprintf(why, size, "no rate meets the targets");
	if (sqlite3_prepare_v2(db, "SELECT count(*) FILTER (WHERE fits = 1), min(reason) FROM "
				   "v_points WHERE mode = 'infer' AND model = ?1 AND node = ?2", -1,
			       &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(q, 1, model, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, node, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) == 0 &&
	    sqlite3_column_text(q, 1) != NULL)
		snprintf(why, size, "does not fit: %s", (const char *)sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
}

static void inference(sqlite3 *db, const struct report_options *o, FILE *out)
{
	static const char *const heads[] = {"node", "GPUs", "tp", "ep", "rate /s", "output tok/s",
					    "TTFT p99 s", "TPOT p99 ms", "USD/h", "USD/M output",
					    "GPUs for target", "point"};
	size_t nm, m, i;
	char **models = distinct(db, "SELECT DISTINCT model FROM points WHERE mode = 'infer' "
				     "ORDER BY model", NULL, 0, &nm);
	char where[512] = "";
	for (i = 0; i < (size_t)o->nslo; i++)
		snprintf(where + strlen(where), sizeof where - strlen(where), " AND %s <= %.17g",
			 o->slo[i].column, o->slo[i].limit);
	for (m = 0; m < nm; m++) {
		char heading[256], sql[2048];
		size_t nn, k;
		char **nodes = distinct(db, "SELECT DISTINCT node FROM points WHERE mode = 'infer' AND "
					    "model = ?1 ORDER BY node", models[m], 0, &nn);
		struct table t;
		struct row **picked = xcalloc(nn + 1, sizeof *picked);
		struct row *keep = xcalloc(nn + 1, sizeof *keep);
		size_t np = 0;
		snprintf(heading, sizeof heading, "Serving %s", models[m]);
		title(out, o->format, 1, heading);
		table_init(&t, 12);
		table_heads(&t, heads);
		for (k = 0; k < nn; k++) {
			size_t n;
			struct row *r;
			snprintf(sql, sizeof sql, "SELECT %s FROM v_fitting WHERE mode = 'infer' AND "
				 "model = ?1 AND node = ?2%s ORDER BY arrival_rate DESC, "
				 "output_tokens_per_s DESC, id LIMIT 1", row_columns, where);
			r = query_rows(db, sql, models[m], nodes[k], 0, &n);
			if (n == 1) {
				size_t at = t.rows;
				price(o, r);
				r->infer = true;
				keep[np] = *r;
				picked[np] = &keep[np];
				np++;
				table_add_row(&t);
				table_text(&t, at, 0, r->node);
				table_num(&t, at, 1, 0, (double)r->gpus);
				table_num(&t, at, 2, 0, (double)r->tp);
				table_num(&t, at, 3, 0, (double)r->ep);
				table_num(&t, at, 4, 2, r->arrival);
				table_num(&t, at, 5, 0, r->out_tps);
				table_num(&t, at, 6, 3, r->ttft);
				table_num(&t, at, 7, 1, r->tpot * 1e3);
				if (r->priced && r->out_tps > 0) {
					table_num(&t, at, 8, 2, r->usd_h);
					table_num(&t, at, 9, 3, r->usd_h / 3600.0 / r->out_tps * 1e6);
				}
				if (o->target_rate > 0 && r->arrival > 0)
					table_num(&t, at, 10, 0,
						  ceil(o->target_rate / r->arrival) * (double)r->gpus);
				table_num(&t, at, 11, 0, (double)r->id);
			} else {
				size_t at = t.rows;
				char why[256];
				infer_misfit(db, models[m], nodes[k], why, sizeof why);
				table_add_row(&t);
				table_text(&t, at, 0, nodes[k]);
				table_text(&t, at, 4, why);
			}
			free(r);
		}
		note(out, o->format, "The highest offered request rate each instance type sustains within "
				     "the latency targets.");
		table_print(&t, o->format, out);
		table_free(&t);
		if (np > 0) {
			title(out, o->format, 2, "Memory per GPU (GiB)");
			memory_table(out, o->format, picked, np);
			if (o->format == FORMAT_HTML)
				stacked_bars(out, picked, np, true, "Memory per GPU while serving");
		}
		free(picked);
		free(keep);
		free_list(nodes, nn);
	}
	free_list(models, nm);
}

/* Prices used, with their dates: the report says which it relied on. */
static void prices_note(sqlite3 *db, const struct report_options *o, FILE *out)
{
	sqlite3_stmt *q;
	int i;
	title(out, o->format, 2, "Prices");
	if (sqlite3_prepare_v2(db, "SELECT node, max(usd_per_hour / nodes), max(price_date) "
				   "FROM v_points WHERE node IS NOT NULL GROUP BY node ORDER BY node", -1,
			       &q, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(q) == SQLITE_ROW) {
		char buf[256];
		const char *node = (const char *)sqlite3_column_text(q, 0);
		bool over = false;
		for (i = 0; i < o->nprices; i++)
			if (strcmp(o->prices[i].node, node) == 0) {
				snprintf(buf, sizeof buf, "%s: %.2f USD/h per node (--price)", node,
					 o->prices[i].usd_per_hour);
				over = true;
			}
		if (!over && sqlite3_column_type(q, 1) != SQLITE_NULL)
			snprintf(buf, sizeof buf, "%s: %.2f USD/h per node, read %s (the preset's price "
						  "and source)",
				 node, sqlite3_column_double(q, 1),
				 sqlite3_column_text(q, 2) ? (const char *)sqlite3_column_text(q, 2) : "?");
		else if (!over)
			snprintf(buf, sizeof buf, "%s: no price (give one with --price %s=USD/h)", node,
				 node);
		note(out, o->format, buf);
	}
	sqlite3_finalize(q);
}

/* Whether the database holds points of a mode (train, infer). */
static bool has_mode(sqlite3 *db, const char *mode)
{
	sqlite3_stmt *q;
	bool found = false;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM points WHERE mode = ? LIMIT 1", -1, &q, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(q, 1, mode, -1, SQLITE_STATIC);
		found = sqlite3_step(q) == SQLITE_ROW;
	}
	sqlite3_finalize(q);
	return found;
}

static const char *const css =
	"body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;"
	"padding:0 1em}table{border-collapse:collapse;margin:.5em 0 1.2em;font-size:13px}"
	"th,td{border:1px solid #ccc;padding:3px 7px}th{background:#f2f2f2;text-align:left}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}figure{margin:.5em 0 1.5em}"
	"figcaption{font-size:12px;color:#555}svg{max-width:100%;height:auto;font-size:11px}"
	"h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:1.6em}";

int report_write(const char *path, const struct report_options *o, FILE *out, char *err,
		 size_t errsize)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q;
	long long chart = o->point, points = 0;
	int version = -1;
	char buf[512];
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errsize, "cannot open: %s", db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version != SCHEMA_VERSION) {
		snprintf(err, errsize, "not a dssim sweep database of schema version %d", SCHEMA_VERSION);
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM points", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		points = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	if (points == 0) {
		snprintf(err, errsize, "the database holds no points");
		sqlite3_close(db);
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
	{
		char tok[32], train[96] = "";
		tokens_text(o->tokens, tok, sizeof tok);
		if (has_mode(db, "train"))
			snprintf(train, sizeof train, " Days and USD are for %s training tokens.", tok);
		snprintf(buf, sizeof buf, "%s: %lld points.%s%s", path, points, train,
			 o->nprices ? " --price overrides apply." : "");
	}
	note(out, o->format, buf);
	training(db, o, out, &chart);
	inference(db, o, out);
	if (o->format == FORMAT_HTML && chart > 0) {
		title(out, o->format, 1, "Memory over time");
		timeline_chart(out, db, chart);
	}
	prices_note(db, o, out);
	if (o->format == FORMAT_HTML)
		fputs("</body></html>\n", out);
	sqlite3_close(db);
	return 0;
}
