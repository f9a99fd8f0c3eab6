/*
 * report_row: one point of the database as the report reads it (struct row, report_int.h):
 * the columns it selects, how a row is read, and how its node and strategy are labelled, with
 * the price kind and the settings that decide it beside them. Part of report; reads only
 * through the store.
 */
#include <stdio.h>
#include <string.h>

#include "report_int.h"
#include "store.h"

/*
 * The settings that decide a row besides its strategy, read from its canonical configuration
 * (v_points.config): each a value and its label, as SQL on the row. A row names a setting
 * only when it differs among the points of its mode and model (?1 in every report query), so
 * two rows that read alike differ in nothing that decides them (issue 16): weight and KV
 * precision, optimizer, parameter and activation offload, LoRA rank and targets, the framework.
 */
#define CFG(key) "json_extract(config, '$.\"" key "\"')"
static const struct {
	const char *value, *label;
} settings[] = {
    {"dtype", "dtype || ' weights'"},
    {CFG("workload.kv_dtype"), "'KV ' || " CFG("workload.kv_dtype")},
    {CFG("strategy.offload.optimizer"),
     "CASE " CFG("strategy.offload.optimizer") " WHEN 'cpu' THEN 'optimizer on CPU' ELSE "
                                               "'optimizer on GPU' END"},
    {CFG("strategy.offload.params"),
     "CASE " CFG(
         "strategy.offload.params") " WHEN 'cpu' THEN 'params on CPU' ELSE 'params on GPU' END"},
    {CFG("strategy.offload.activations"),
     "CASE " CFG("strategy.offload.activations") " WHEN 'cpu' THEN 'activations on CPU' ELSE "
                                                 "'activations on GPU' END"},
    {CFG("workload.lora.rank"), "CASE WHEN " CFG("workload.lora.rank") " > 0 THEN 'LoRA r' || " CFG(
                                    "workload.lora.rank") " ELSE 'no LoRA' END"},
    {CFG("workload.lora.targets"), "'LoRA on ' || " CFG("workload.lora.targets")},
    {CFG("runtime.framework"), CFG("runtime.framework")},
};
#undef CFG

/* ", ('' || CASE WHEN <it varies> THEN ' ' || <label> ELSE '' END || ...) AS settings". The
 * subqueries do not depend on the row: SQLite computes each once per query. */
static void settings_column(const char *mode, char *buf, size_t size)
{
	size_t k, n = strlen(buf);
	if (n < size)
		n += (size_t)snprintf(buf + n, size - n, ", (''");
	for (k = 0; k < sizeof settings / sizeof settings[0] && n < size; k++)
		n +=
		    (size_t)snprintf(buf + n, size - n,
		                     " || CASE WHEN (SELECT COUNT(DISTINCT %s) FROM v_points WHERE "
		                     "mode = '%s' AND model = ?1) > 1 THEN ' ' || (%s) ELSE '' END",
		                     settings[k].value, mode, settings[k].label);
	if (n < size)
		snprintf(buf + n, size - n, ") AS settings");
}

/* The columns report_read_row reads: the key and result columns, then m_NAME for each memory
 * part and t_NAME for each time category, as the store names them, then the P10 and P90 of
 * step_s of a database with bands (NULL in one without, such as a schema 4 file), the price
 * kind and the deciding settings of the mode's rows. */
void report_row_columns(struct store *st, const char *mode, char *buf, size_t size)
{
	size_t k;
	snprintf(buf, size,
	         "id, node, nodes, gpus, tp, pp, dp, cp, ep, zero, micro_batch, vp, "
	         "recompute, schedule, price_date, step_s, tokens_per_s, mfu, "
	         "peak_per_gpu, capacity, usd_per_hour, arrival_rate, requests_per_s, "
	         "output_tokens_per_s, ttft_p99, tpot_p99");
	for (k = 0; k < PARTS; k++)
		snprintf(buf + strlen(buf), size - strlen(buf), ", m_%s", store_part_name(k));
	for (k = 0; k < TIMES; k++)
		snprintf(buf + strlen(buf), size - strlen(buf), ", t_%s", store_time_name(k));
	snprintf(buf + strlen(buf), size - strlen(buf), "%s",
	         store_has_bands(st) ? ", step_s_p10, step_s_p90" : ", NULL, NULL");
	snprintf(buf + strlen(buf), size - strlen(buf), "%s",
	         store_has_price_kind(st) ? ", price_kind" : ", NULL");
	settings_column(mode, buf, size);
	/* The share of memory a serving engine reserves, for the charts' KV reserve: a key of
	 * the canonical configuration, which the database keeps whole (no column of its own). */
	snprintf(buf + strlen(buf), size - strlen(buf), "%s",
		 ", CASE WHEN mode = 'infer' AND json_valid(config) THEN "
		 "json_extract(config, '$.\"serving.gpu_memory_utilization\"') END");
}

static void text_col(const struct store_value *v, char *dst, size_t size)
{
	snprintf(dst, size, "%s", v->text ? v->text : "");
}

void report_read_row(const struct store_rows *q, size_t at, struct row *r)
{
	long long *ints[] = {&r->id, NULL,   &r->nodes, &r->gpus, &r->tp, &r->pp,
	                     &r->dp, &r->cp, &r->ep,    &r->zero, &r->mb, &r->vp};
	double *reals[] = {&r->step_s,  &r->tps, &r->mfu,     &r->peak, &r->capacity, &r->usd_h,
	                   &r->arrival, &r->rps, &r->out_tps, &r->ttft, &r->tpot};
	size_t k;
	memset(r, 0, sizeof *r);
	for (k = 0; k < 12; k++)
		if (ints[k])
			*ints[k] = store_cell(q, at, k)->i;
	text_col(store_cell(q, at, 1), r->node, sizeof r->node);
	text_col(store_cell(q, at, 12), r->recompute, sizeof r->recompute);
	text_col(store_cell(q, at, 13), r->schedule, sizeof r->schedule);
	text_col(store_cell(q, at, 14), r->price_date, sizeof r->price_date);
	for (k = 0; k < 11; k++)
		*reals[k] = store_cell(q, at, 15 + k)->d;
	r->priced = store_cell(q, at, 20)->type != STORE_NULL;
	for (k = 0; k < PARTS; k++)
		r->mem[k] = store_cell(q, at, 26 + k)->d;
	for (k = 0; k < TIMES; k++)
		r->time[k] = store_cell(q, at, 26 + PARTS + k)->d;
	r->banded = store_cell(q, at, 26 + PARTS + TIMES)->type != STORE_NULL;
	r->step_p10 = store_cell(q, at, 26 + PARTS + TIMES)->d;
	r->step_p90 = store_cell(q, at, 27 + PARTS + TIMES)->d;
	text_col(store_cell(q, at, 28 + PARTS + TIMES), r->price_kind, sizeof r->price_kind);
	text_col(store_cell(q, at, 29 + PARTS + TIMES), r->settings, sizeof r->settings);
	r->gpu_util = store_cell(q, at, 30 + PARTS + TIMES)->d;
}

/* A price kind for people: "capacity block" for capacity_block. */
void report_kind_text(const char *kind, char *buf, size_t size)
{
	size_t i;
	snprintf(buf, size, "%s", kind);
	for (i = 0; buf[i]; i++)
		if (buf[i] == '_')
			buf[i] = ' ';
}

/* A row's node type, with its price kind when that is not on demand: a Capacity Block or spot
 * price is not what the same instance costs on demand. */
const char *report_node_label(const struct row *r, char *buf, size_t size)
{
	char kind[32];
	if (r->price_kind[0] == '\0' || strcmp(r->price_kind, "on_demand") == 0)
		return r->node;
	report_kind_text(r->price_kind, kind, sizeof kind);
	snprintf(buf, size, "%s (%s)", r->node, kind);
	return buf;
}

void report_strategy_label(const struct row *r, char *buf, size_t size)
{
	char cp[24] = "", vp[24] = "";
	if (r->infer) {
		snprintf(buf, size, "tp%lld ep%lld pp%lld%s", r->tp, r->ep, r->pp, r->settings);
		return;
	}
	if (r->cp > 1)
		snprintf(cp, sizeof cp, " cp%lld", r->cp);
	if (r->vp > 1)
		snprintf(vp, sizeof vp, " vp%lld", r->vp);
	/* The settings start with their own space (settings_column). */
	snprintf(buf, size, "tp%lld pp%lld dp%lld%s zero%lld mb%lld %s %s%s%s", r->tp, r->pp, r->dp,
	         cp, r->zero, r->mb, r->recompute, r->schedule, vp, r->settings);
}
