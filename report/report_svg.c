/*
 * report_svg: the report's charts as inline SVG for the HTML page: stacked bars of memory per
 * GPU and of step time, cost against time with the Pareto front, memory over one step. Reads
 * rows the report has read (report_int.h), never the database.
 */
#include "report_int.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "table.h"

/* Chart colours, one per part or category (colour-blind-safe Okabe-Ito palette). */
static const char *const colours[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
				      "#56B4E9", "#D55E00", "#F0E442", "#999999", "#000000"};

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
void report_stacked_bars(FILE *out, struct row **rows, size_t n, bool memory, const char *caption)
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
		svg_text(out, 24 + k * 82, 15, "start", memory ? store_part_name((size_t)k) : store_time_name((size_t)k));
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
				memory ? store_part_name((size_t)k) : store_time_name((size_t)k),
				memory ? v / gib : v,
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
void report_scatter(FILE *out, struct row *rows, size_t n, struct row **front, size_t nf)
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
		/* Two decimals of days and whole USD, unless a huge --tokens makes them huge. */
		if (front[i]->days < 1e9 && front[i]->usd < 1e9)
			snprintf(buf, sizeof buf, "%s x%lld: %.2f days, %.0f USD", front[i]->node,
				 front[i]->nodes, front[i]->days, front[i]->usd);
		else
			snprintf(buf, sizeof buf, "%s x%lld: %.4g days, %.4g USD", front[i]->node,
				 front[i]->nodes, front[i]->days, front[i]->usd);
		table_html_text(out, buf);
		fputs("</title></circle>\n", out);
	}
#undef SX
#undef SY
	svg_end(out, "Cost against time of every priced configuration; the line joins the Pareto "
		     "front (no configuration is both cheaper and faster).");
}

void report_timeline_chart(FILE *out, long long id, const char *json, double cap,
			   const char *node)
{
	double t[256], v[256], tmax = 0, vmax = 0;
	int n = 0, i;
	const int w = 760, h = 300, l = 80, r = 20, top = 20, b = 50;
	char buf[160];
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
