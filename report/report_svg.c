/*
 * report_svg: the report's charts as inline SVG for the HTML page: stacked bars of memory per
 * GPU and of step time, cost against time by instance type with the Pareto front, memory over
 * one step. Each chart is titled with the question it answers; axes carry round ticks, on a log
 * scale where the data span more than a decade. Reads rows the report has read (report_int.h),
 * never the database.
 */
#include "report_int.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "table.h"
#include "xalloc.h"

/* Chart colours, one per part, category or instance type (colour-blind-safe Okabe-Ito
 * palette, Okabe and Ito 2008, "Color Universal Design"). */
static const char *const colours[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
				      "#56B4E9", "#D55E00", "#F0E442", "#999999", "#000000"};
enum { COLOURS = sizeof colours / sizeof colours[0] };

/* Width of a character of the charts' 11 px sans-serif, for laying labels out: a generous
 * average, so labels that do not fit are left out rather than overlapped. */
static const double char_px = 6.2;

/* ---- numbers and axes ---- */

/*
 * A number as people write it on an axis: at most three significant digits, never an
 * exponent, thousands as k, M, B and T after prefix ("$"): 0.05, 2.5, 10, 1k, 10k, $1M.
 */
static void human(double v, const char *prefix, char *buf, size_t size)
{
	static const struct {
		double scale;
		const char *suffix;
	} u[] = {{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}};
	const char *suffix = "";
	char num[64];
	size_t i, len;
	int dec;
	double a = fabs(v);
	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		if (a >= u[i].scale) {
			a /= u[i].scale;
			suffix = u[i].suffix;
			break;
		}
	if (a >= 1e15)
		a = 1e15; /* past a thousand T: no axis of a sane budget gets here */
	dec = a > 0 ? 2 - (int)floor(log10(a)) : 0;
	dec = dec < 0 ? 0 : dec > 20 ? 20 : dec;
	snprintf(num, sizeof num, "%.*f", dec, a);
	/* A decimal fraction's trailing zeros say nothing: 0.500 is 0.5, 2.00 is 2. */
	len = strlen(num);
	if (strchr(num, '.') != NULL) {
		while (len > 0 && num[len - 1] == '0')
			num[--len] = '\0';
		if (len > 0 && num[len - 1] == '.')
			num[--len] = '\0';
	}
	snprintf(buf, size, "%s%s%s%s", v < 0 && a > 0 ? "-" : "", prefix, num, suffix);
}

enum { TICKS_MAX = 40 };

/* An axis: the range it shows, its scale, where it lies in pixels and its ticks. */
struct axis {
	double lo, hi;              /* shown range; both positive on a log axis */
	double p0, p1;              /* pixels of lo and hi */
	bool log;
	double tick[TICKS_MAX];
	int nticks;
};

/* A round step for about want intervals over span: 1, 2 or 5 x 10^k (Heckbert, "Nice numbers
 * for graph labels", Graphics Gems, 1990). */
static double nice_step(double span, int want)
{
	double raw = span / want, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/*
 * An axis over [min, max] drawn from pixel p0 to p1: log with a tick per decade (and at 2 and
 * 5 of each when it spans at most two) when the data are positive and span more than a
 * decade, else linear with ticks at a round step; from_zero starts a linear axis at 0 (bars).
 * The range widens to the outer ticks, so both ends are labelled with round values.
 */
static void axis_build(struct axis *a, double min, double max, bool from_zero, double p0,
		       double p1)
{
	double step, first;
	int i, n;
	memset(a, 0, sizeof *a);
	a->p0 = p0;
	a->p1 = p1;
	if (from_zero)
		min = fmin(min, 0);
	a->log = !from_zero && min > 0 && max / min > 10;
	if (a->log) {
		/* The epsilon keeps a power of ten an end of the range, not a decade past it. */
		int d0 = (int)floor(log10(min) + 1e-9), d1 = (int)ceil(log10(max) - 1e-9);
		int every = (d1 - d0 + 7) / 8, d;
		a->lo = pow(10.0, d0);
		a->hi = pow(10.0, d1);
		for (d = d0; d <= d1 && a->nticks < TICKS_MAX - 2; d += every) {
			a->tick[a->nticks++] = pow(10.0, d);
			if (d1 - d0 <= 2 && d < d1) {
				a->tick[a->nticks++] = 2 * pow(10.0, d);
				a->tick[a->nticks++] = 5 * pow(10.0, d);
			}
		}
		return;
	}
	if (!(max > min)) {
		double pad = fabs(max) > 0 ? fabs(max) * 0.1 : 1;
		min = min >= 0 && min - pad < 0 ? 0 : min - pad;
		max += pad;
	}
	step = nice_step(max - min, 5);
	first = floor(min / step + 1e-9);
	n = (int)ceil(max / step - 1e-9) - (int)first;
	a->lo = first * step;
	a->hi = (first + n) * step;
	for (i = 0; i <= n && a->nticks < TICKS_MAX; i++)
		a->tick[a->nticks++] = (first + i) * step;
}

static double axis_px(const struct axis *a, double v)
{
	double f = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo))
			  : (v - a->lo) / (a->hi - a->lo);
	return a->p0 + f * (a->p1 - a->p0);
}

/* ---- SVG pieces ---- */

static void svg_begin(FILE *out, int w, int h, const char *question)
{
	fprintf(out, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
	table_html_text(out, question);
	fputs("\">\n<text class=\"title\" x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">",
	      out);
	table_html_text(out, question);
	fputs("</text>\n", out);
}

static void svg_end(FILE *out, const char *caption)
{
	fputs("</svg><figcaption>", out);
	table_html_text(out, caption);
	fputs("</figcaption></figure>\n", out);
}

/* A line of class cls; dash is a stroke-dasharray or NULL. */
static void svg_line(FILE *out, const char *cls, double x1, double y1, double x2, double y2,
		     const char *stroke, const char *dash)
{
	fprintf(out, "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		     "stroke=\"%s\"", cls, x1, y1, x2, y2, stroke);
	if (dash != NULL)
		fprintf(out, " stroke-dasharray=\"%s\"", dash);
	fputs("/>\n", out);
}

static void svg_text(FILE *out, const char *cls, double x, double y, const char *anchor,
		     const char *text)
{
	fprintf(out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, x, y,
		anchor);
	table_html_text(out, text);
	fputs("</text>\n", out);
}

/* A legend of n entries in a row from x, wrapping before right; returns the y below it. With
 * out NULL it only measures. */
static double legend(FILE *out, const char *const *names, const char *const *fills, size_t n,
		     double x0, double y, double right)
{
	double x = x0;
	size_t i;
	if (out != NULL)
		fputs("<g class=\"legend\">\n", out);
	for (i = 0; i < n; i++) {
		double wd = 16 + (double)strlen(names[i]) * char_px + 14;
		if (x > x0 && x + wd > right) {
			x = x0;
			y += 16;
		}
		if (out != NULL) {
			fprintf(out, "<g class=\"legend-entry\"><rect x=\"%.1f\" y=\"%.1f\" "
				     "width=\"10\" height=\"10\" fill=\"%s\" stroke=\"#333\" "
				     "stroke-width=\"0.5\"/>", x, y - 9, fills[i]);
			svg_text(out, "legend-label", x + 14, y, "start", names[i]);
			fputs("</g>\n", out);
		}
		x += wd;
	}
	if (out != NULL)
		fputs("</g>\n", out);
	return y + 16;
}

/* An axis's ticks, grid lines across the plot (from `across` to `to` on the other axis),
 * labels and title; x says whether it is the horizontal one. */
static void axis_draw(FILE *out, const struct axis *a, bool x, double across, double to,
		      const char *prefix, const char *title)
{
	char buf[64];
	int i;
	fprintf(out, "<g class=\"axis %s %s\">\n", x ? "x" : "y", a->log ? "log" : "linear");
	for (i = 0; i < a->nticks; i++) {
		double p = axis_px(a, a->tick[i]);
		human(a->tick[i], prefix, buf, sizeof buf);
		if (x) {
			svg_line(out, "grid", p, across, p, to, "#ddd", NULL);
			svg_text(out, "tick", p, across + 14, "middle", buf);
		} else {
			svg_line(out, "grid", across, p, to, p, "#ddd", NULL);
			svg_text(out, "tick", across - 5, p + 4, "end", buf);
		}
	}
	if (x) {
		svg_line(out, "axis-line", a->p0, across, a->p1, across, "#000", NULL);
		svg_text(out, "axis-title", (a->p0 + a->p1) / 2, across + 32, "middle", title);
	} else {
		double mid = (a->p0 + a->p1) / 2;
		svg_line(out, "axis-line", across, a->p0, across, a->p1, "#000", NULL);
		fprintf(out, "<text class=\"axis-title\" x=\"14\" y=\"%.1f\" "
			     "text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">", mid, mid);
		table_html_text(out, title);
		fputs("</text>\n", out);
	}
	fputs("</g>\n", out);
}

/* ---- stacked bars ---- */

/* The KV cache a serving engine reserves on a row's GPU: gpu_memory_utilization of its memory
 * less every other part (vLLM's determine_num_available_blocks; memory.c's infer_fit), or -1
 * when the row is no serving row or its share is unknown. The database keeps the activations
 * of the static batch, not the peak of vLLM's profiling pass, so this is the reserve up to that
 * difference. */
static double kv_reserve(const struct row *r, double *reserved)
{
	double rest = 0;
	int k;
	if (!r->infer || !(r->gpu_util > 0) || !(r->capacity > 0))
		return -1;
	for (k = 0; k < PARTS; k++)
		if (strcmp(store_part_name((size_t)k), "kv_cache") != 0)
			rest += r->mem[k];
	*reserved = r->gpu_util * r->capacity;
	return fmax(*reserved - rest, 0);
}

/* Horizontal stacked bars: one per row, `parts` values each, with a legend and an axis. */
void report_stacked_bars(FILE *out, struct row **rows, size_t n, bool memory, const char *caption)
{
	const int w = 760, left = 190, right = 20, bar = 22, gap = 10;
	int parts = memory ? PARTS : TIMES, k;
	const char *names[PARTS > TIMES ? PARTS : TIMES], *fills[PARTS > TIMES ? PARTS : TIMES];
	char kvname[32] = "";
	bool any_reserve = false;
	double max = 0, top, h, reserved;
	struct axis ax;
	size_t i;
	const char *question = "What fills each GPU's memory, and how close to full is it?";
	if (!memory)
		question = "Where does each instance type's step time go?";
	else if (n > 0 && rows[0]->infer)
		question = "What fills each GPU's memory while serving?";
	for (i = 0; i < n; i++) {
		double sum = 0;
		for (k = 0; k < parts; k++)
			sum += memory ? rows[i]->mem[k] : rows[i]->time[k];
		if (memory && kv_reserve(rows[i], &reserved) >= 0) {
			any_reserve = true;
			sum = fmax(sum, reserved);
		}
		if (memory && rows[i]->capacity > sum)
			sum = rows[i]->capacity;
		if (sum > max)
			max = sum;
	}
	if (!(max > 0))
		max = 1;
	for (k = 0; k < parts; k++) {
		names[k] = memory ? store_part_name((size_t)k) : store_time_name((size_t)k);
		fills[k] = colours[k % COLOURS];
		if (any_reserve && strcmp(names[k], "kv_cache") == 0) {
			snprintf(kvname, sizeof kvname, "kv_cache (reserved)");
			names[k] = kvname;
		}
	}
	top = legend(NULL, names, fills, (size_t)parts, 10, 38, w - right) + 4;
	h = top + (double)n * (bar + gap) + 50;
	axis_build(&ax, 0, memory ? max / gib : max, true, left, w - right);
	svg_begin(out, w, (int)h, question);
	legend(out, names, fills, (size_t)parts, 10, 38, w - right);
	axis_draw(out, &ax, true, h - 44, top - 4,
		  "", memory ? "GiB per GPU (dashed: the GPU's memory)"
			     : "seconds per step, exposed (not overlapped)");
	for (i = 0; i < n; i++) {
		double x = left, y = top + (double)i * (bar + gap);
		double kv = memory ? kv_reserve(rows[i], &reserved) : -1;
		char label[96];
		snprintf(label, sizeof label, "%s x%lld", rows[i]->node, rows[i]->nodes);
		svg_text(out, "bar-label", left - 6, y + 15, "end", label);
		for (k = 0; k < parts; k++) {
			double v = memory ? rows[i]->mem[k] : rows[i]->time[k];
			bool is_kv = kv >= 0 && strcmp(store_part_name((size_t)k), "kv_cache") == 0;
			double bw;
			if (is_kv)
				v = kv;
			bw = axis_px(&ax, memory ? v / gib : v) - left;
			if (!(bw > 0))
				continue;
			fprintf(out, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				     "height=\"%d\" fill=\"%s\"><title>",
				is_kv ? "kv-reserve" : "part", x, y, bw, bar, colours[k % COLOURS]);
			if (is_kv)
				fprintf(out, "kv_cache: %.1f GiB reserved (%.0f %% of %.1f GiB "
					     "less the other parts); the table's static batch "
					     "needs %.1f",
					v / gib, rows[i]->gpu_util * 100, rows[i]->capacity / gib,
					rows[i]->mem[k] / gib);
			else
				fprintf(out, "%s %.3g %s", names[k], memory ? v / gib : v,
					memory ? "GiB" : "s");
			fputs("</title></rect>\n", out);
			x += bw;
		}
		if (kv >= 0) {
			double rx = axis_px(&ax, reserved / gib);
			svg_line(out, "reserve", rx, y - 3, rx, y + bar + 3, "#000", "1,2");
		}
		if (memory && rows[i]->capacity > 0) {
			double cx = axis_px(&ax, rows[i]->capacity / gib);
			svg_line(out, "capacity", cx, y - 3, cx, y + bar + 3, "#000", "4,2");
		}
	}
	if (any_reserve) {
		char full[512];
		snprintf(full, sizeof full,
			 "%s. The KV cache is drawn as the engine reserves it: "
			 "gpu_memory_utilization of the memory (dotted) less the other parts; the "
			 "database keeps the static batch's activations, not the peak of the "
			 "engine's profiling pass, so the reserve is approximate.", caption);
		svg_end(out, full);
	} else {
		svg_end(out, caption);
	}
}

/* ---- cost against time ---- */

/* The instance types among rows, sorted by name: a row's colour is its type's index. */
struct types {
	const char **name;
	size_t n;
};

/* Whether a row has a place on the cost chart: priced, with days and USD above 0. */
static bool plotted(const struct row *r)
{
	return r->priced && isfinite(r->days) && r->days > 0 && r->usd > 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void types_build(struct types *t, const struct row *rows, size_t n)
{
	size_t i, k;
	t->name = xcalloc(n + 1, sizeof *t->name);
	t->n = 0;
	for (i = 0; i < n; i++) {
		if (!plotted(&rows[i]))
			continue;
		for (k = 0; k < t->n && strcmp(t->name[k], rows[i].node) != 0; k++)
			;
		if (k == t->n)
			t->name[t->n++] = rows[i].node;
	}
	qsort(t->name, t->n, sizeof *t->name, by_name);
}

static const char *type_colour(const struct types *t, const char *node)
{
	size_t k;
	for (k = 0; k < t->n; k++)
		if (strcmp(t->name[k], node) == 0)
			return colours[k % COLOURS];
	return colours[COLOURS - 2];
}

/* A label's box, to keep labels of the front from overlapping each other. */
struct box {
	double x0, y0, x1, y1;
};

static bool overlaps(const struct box *a, const struct box *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

/* The short label of a front point: its nodes and the strategy's sizes. */
static void front_label(const struct row *r, char *buf, size_t size)
{
	char cp[24] = "";
	if (r->cp > 1)
		snprintf(cp, sizeof cp, " cp%lld", r->cp);
	snprintf(buf, size, "x%lld tp%lld pp%lld dp%lld%s zero%lld", r->nodes, r->tp, r->pp, r->dp,
		 cp, r->zero);
}

/* Label the front's points where a label fits inside the plot without covering another; the
 * rest keep their tooltip. */
static void label_front(FILE *out, struct row **front, size_t nf, const struct axis *ax,
			const struct axis *ay)
{
	/* Below left of the point first: nothing is both cheaper and faster than a point of the
	 * front, so that side holds no point, and the line leaves it up-left and down-right.
	 * Then below right, left, right, above right. */
	static const double dx[] = {-6, 6, -8, 8, 8}, dy[] = {15, 15, 4, 4, -8};
	struct box *placed = xcalloc(nf + 1, sizeof *placed);
	size_t i, np = 0;
	for (i = 0; i < nf; i++) {
		double px = axis_px(ax, front[i]->days), py = axis_px(ay, front[i]->usd);
		char label[96];
		size_t c, j;
		front_label(front[i], label, sizeof label);
		for (c = 0; c < sizeof dx / sizeof dx[0]; c++) {
			double wd = (double)strlen(label) * char_px;
			double bx = dx[c] < 0 ? px + dx[c] - wd : px + dx[c];
			struct box b = {bx, py + dy[c] - 10, bx + wd, py + dy[c] + 2};
			bool clear = true;
			if (b.x0 < ax->p0 || b.x1 > ax->p1 || b.y0 < ay->p1 || b.y1 > ay->p0)
				continue;
			for (j = 0; j < np && clear; j++)
				clear = !overlaps(&b, &placed[j]);
			if (!clear)
				continue;
			placed[np++] = b;
			svg_text(out, "front-label", px + dx[c], py + dy[c],
				 dx[c] < 0 ? "end" : "start", label);
			break;
		}
	}
	free(placed);
}

/* One configuration on the cost chart, with its configuration, days and USD as a tooltip;
 * on_front draws it larger, outlined. */
static void point(FILE *out, const struct row *r, bool on_front, const struct axis *ax,
		  const struct axis *ay, const char *fill)
{
	char buf[320], strat[128], days[32], usd[32];
	report_strategy_label(r, strat, sizeof strat);
	human(r->days, "", days, sizeof days);
	human(r->usd, "$", usd, sizeof usd);
	fprintf(out, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" "
		     "stroke=\"#000\" stroke-width=\"%s\"><title>",
		on_front ? "front-point" : "point", axis_px(ax, r->days), axis_px(ay, r->usd),
		on_front ? "5" : "3.5", fill, on_front ? "1.5" : "0.4");
	snprintf(buf, sizeof buf, "%s%s x%lld, %s: %s days, %s", on_front ? "Pareto front: " : "",
		 r->node, r->nodes, strat, days, usd);
	table_html_text(out, buf);
	fputs("</title></circle>\n", out);
}

/* Cost against time: every priced configuration coloured by instance type, the Pareto front
 * joined and labelled, on axes of round ticks (log where the data span more than a decade). */
void report_scatter(FILE *out, const char *question, struct row *rows, size_t n,
		    struct row **front, size_t nf)
{
	const int w = 760, h = 440, l = 78, r = 20, b = 50;
	double x0 = INFINITY, x1 = 0, y0 = INFINITY, y1 = 0, t;
	struct axis ax, ay;
	struct types ty;
	const char **fills;
	size_t i;
	for (i = 0; i < n; i++)
		if (plotted(&rows[i])) {
			x0 = fmin(x0, rows[i].days);
			x1 = fmax(x1, rows[i].days);
			y0 = fmin(y0, rows[i].usd);
			y1 = fmax(y1, rows[i].usd);
		}
	if (!(x1 > 0) || !(y1 > 0))
		return;
	types_build(&ty, rows, n);
	fills = xcalloc(ty.n + 1, sizeof *fills);
	for (i = 0; i < ty.n; i++)
		fills[i] = colours[i % COLOURS];
	t = legend(NULL, ty.name, fills, ty.n, l, 38, w - r) + 6;
	axis_build(&ax, x0, x1, false, l, w - r);
	axis_build(&ay, y0, y1, false, h - b, t);
	svg_begin(out, w, h, question);
	/* A white halo keeps a front label readable where it crosses the line or a point. */
	fputs("<style>.front-label{paint-order:stroke;stroke:#fff;stroke-width:3px;"
	      "stroke-linejoin:round}</style>\n", out);
	legend(out, ty.name, fills, ty.n, l, 38, w - r);
	axis_draw(out, &ax, true, h - b, t, "", "days to train the token budget");
	axis_draw(out, &ay, false, l, w - r, "$", "USD for the token budget");
	for (i = 0; i < n; i++)
		if (plotted(&rows[i]))
			point(out, &rows[i], false, &ax, &ay, type_colour(&ty, rows[i].node));
	fputs("<polyline class=\"front\" fill=\"none\" stroke=\"#000\" stroke-width=\"1.5\" "
	      "points=\"", out);
	for (i = 0; i < nf; i++)
		if (plotted(front[i]))
			fprintf(out, "%.1f,%.1f ", axis_px(&ax, front[i]->days),
				axis_px(&ay, front[i]->usd));
	fputs("\"/>\n", out);
	for (i = 0; i < nf; i++)
		if (plotted(front[i]))
			point(out, front[i], true, &ax, &ay, type_colour(&ty, front[i]->node));
	label_front(out, front, nf, &ax, &ay);
	svg_end(out, "Every priced configuration, coloured by instance type; the black line "
		     "joins the Pareto front (no configuration is both cheaper and faster), "
		     "labelled with nodes and strategy where room allows. Hover a point for its "
		     "configuration.");
	free(fills);
	free(ty.name);
}

/* ---- memory over time ---- */

void report_timeline_chart(FILE *out, long long id, const char *json, double cap,
			   const char *node)
{
	double t[256], v[256], tmax = 0, vmax = 0;
	int n = 0, i;
	const int w = 760, h = 320, l = 78, r = 20, top = 34, b = 50;
	struct axis ax, ay;
	char buf[192];
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
	vmax = fmax(vmax, cap);
	if (n < 2 || !(tmax > 0) || !(vmax > 0))
		return;
	axis_build(&ax, 0, tmax, true, l, w - r);
	axis_build(&ay, 0, vmax / gib, true, h - b, top);
	snprintf(buf, sizeof buf,
		 "How close does memory come to full over one step? Point %lld (%s)", id, node);
	svg_begin(out, w, h, buf);
	axis_draw(out, &ax, true, h - b, top, "", "seconds into the step");
	axis_draw(out, &ay, false, l, w - r, "", "GiB on the most loaded GPU");
	if (cap > 0) {
		double y = axis_px(&ay, cap / gib);
		svg_line(out, "capacity", l, y, w - r, y, "#000", "4,3");
	}
	fputs("<polyline class=\"memory\" fill=\"none\" stroke=\"#0072B2\" stroke-width=\"2\" "
	      "points=\"", out);
	for (i = 0; i < n; i++)
		fprintf(out, "%.1f,%.1f ", axis_px(&ax, t[i]), axis_px(&ay, v[i] / gib));
	fputs("\"/>\n", out);
	svg_end(out, "Memory of the most loaded GPU over the simulated step (dashed: capacity), "
		     "the largest allocation in each of 64 intervals.");
}
