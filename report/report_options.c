/*
 * report_options: the values of `dssim report`'s options (report.h) parsed into struct
 * report_options (token counts, --price NODE=USD/h, --slo targets), then checked against the
 * database when the report is written: a --price node and a --point id must be in it.
 */
#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "store.h"

int report_parse_price(struct report_options *o, const char *text, struct diag *d)
{
	struct mark cli = {NULL, 0, 0};
	const char *eq = strchr(text, '=');
	char *end;
	double v;
	if (eq == NULL || eq == text || (size_t)(eq - text) >= sizeof o->prices[0].node) {
		diag_add(d, cli, "--price", "expected NODE=USD/h, got '%s'", text);
		return -1;
	}
	v = strtod(eq + 1, &end);
	if (end == eq + 1 || !(v >= 0) || !isfinite(v) ||
	    (*end != '\0' && strcmp(end, "USD/h") != 0 && strcmp(end, "/h") != 0)) {
		diag_add(d, cli, "--price", "expected NODE=USD/h such as p5.48xlarge=40, got '%s'",
			 text);
		return -1;
	}
	if (o->nprices == REPORT_PRICES_MAX) {
		diag_add(d, cli, "--price", "more than %d prices", REPORT_PRICES_MAX);
		return -1;
	}
	snprintf(o->prices[o->nprices].node, sizeof o->prices[0].node, "%.*s", (int)(eq - text),
		 text);
	o->prices[o->nprices].usd_per_hour = v;
	o->nprices++;
	return 0;
}

int report_parse_slo(struct report_options *o, const char *text, struct diag *d)
{
	struct mark cli = {NULL, 0, 0};
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
			diag_add(d, cli, "--slo", "expected METRIC=TIME, got '%s'", item);
			return -1;
		}
		*eq = '\0';
		for (k = 0; cols[k]; k++)
			known = known || strcmp(cols[k], item) == 0;
		if (!known) {
			diag_add(d, cli, "--slo", "unknown metric '%s' (ttft_p50, ttft_p99, "
				 "tpot_p50, tpot_p99, latency_p99)", item);
			return -1;
		}
		v = strtod(eq + 1, &end);
		if (strcmp(end, "ms") == 0)
			v /= 1000;
		else if (strcmp(end, "s") != 0 && *end != '\0')
			end = NULL;
		if (end == NULL || end == eq + 1 || !(v > 0) || o->nslo == REPORT_SLO_MAX) {
			diag_add(d, cli, "--slo", "expected a time such as 2s or 100ms for %s",
				 item);
			return -1;
		}
		snprintf(o->slo[o->nslo].column, sizeof o->slo[0].column, "%s", item);
		o->slo[o->nslo].limit = v;
		o->nslo++;
	}
	return 0;
}

/* The first cell of a query's first row, or NULL when it cannot be read (or has no row); the
 * caller frees the rows in *q. */
static const struct store_value *first_cell(struct store *st, const char *sql,
					    const struct store_value *p, struct store_rows **q)
{
	struct diag qd;
	int rc;
	diag_init(&qd);
	rc = store_query(st, sql, p, p ? 1 : 0, q, &qd);
	diag_release(&qd);
	if (rc != 0) {
		*q = NULL;
		return NULL;
	}
	return (*q)->rows > 0 ? store_cell(*q, 0, 0) : NULL;
}

int report_check_options(struct store *st, const char *path, const struct report_options *o,
			 struct diag *d)
{
	struct mark at = {path, 0, 0};
	struct store_rows *q;
	int i, status = 0;
	for (i = 0; i < o->nprices; i++) {
		struct store_value p = store_text(o->prices[i].node);
		const struct store_value *v;
		bool held = first_cell(st, "SELECT 1 FROM points WHERE node = ? LIMIT 1", &p, &q);
		store_rows_free(q);
		if (held)
			continue;
		v = first_cell(st, "SELECT group_concat(node, ', ') FROM (SELECT DISTINCT node "
				   "FROM points WHERE node IS NOT NULL ORDER BY node)", NULL, &q);
		diag_add(d, at, "--price", "no node '%s' in the database (it holds %s)",
			 o->prices[i].node, v && v->text ? v->text : "none");
		store_rows_free(q);
		status = -1;
	}
	if (o->point > 0) {
		struct store_value p = store_int(o->point);
		if (first_cell(st, "SELECT 1 FROM points WHERE id = ?", &p, &q) == NULL) {
			diag_add(d, at, "--point", "no point with id %lld in the database", o->point);
			status = -1;
		}
		store_rows_free(q);
	}
	return status;
}
