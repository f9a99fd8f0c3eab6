/*
 * store_read: read-only queries of a sweep database as typed rows, and the in-memory
 * evaluation of a sweep's `where` expression. Part of store (see store_int.h): the commands and
 * the report put their SQL text here and get plain values back, never a SQLite handle.
 */
#include "store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct store_value store_int(int64_t v)
{
	struct store_value x = {STORE_INT, v, (double)v, NULL};
	return x;
}

struct store_value store_text(const char *s)
{
	struct store_value x = {s ? STORE_TEXT : STORE_NULL, 0, 0, s};
	return x;
}

static int bind(sqlite3_stmt *q, int idx, const struct store_value *v)
{
	switch (v->type) {
	case STORE_INT:
		return sqlite3_bind_int64(q, idx, v->i);
	case STORE_REAL:
		return sqlite3_bind_double(q, idx, v->d);
	case STORE_TEXT:
		return sqlite3_bind_text(q, idx, v->text, -1, SQLITE_TRANSIENT);
	default:
		return sqlite3_bind_null(q, idx);
	}
}

/* Compile one statement: SQL text that holds more (a tail past the first statement that is
 * not only blanks and semicolons) is refused, since nothing would run the rest: a --where of
 * "1) ; ..." must not drop what follows it silently. */
static int prepare_one(struct store *st, const char *sql, sqlite3_stmt **out, struct diag *d)
{
	const char *tail = NULL;
	*out = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, out, &tail) != SQLITE_OK) {
		diag_add(d, store_mark(st), NULL, "%s", sqlite3_errmsg(st->db));
		return -1;
	}
	while (tail && (*tail == ';' || *tail == ' ' || (*tail >= '\t' && *tail <= '\r')))
		tail++;
	if (tail && *tail != '\0') {
		diag_add(d, store_mark(st), NULL, "more than one statement (at \"%.32s\")", tail);
		sqlite3_finalize(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Compile a read-only statement and bind its parameters. */
static int compile(struct store *st, const char *sql, const struct store_value *params,
		   size_t nparams, sqlite3_stmt **out, struct diag *d)
{
	sqlite3_stmt *q = NULL;
	size_t i;
	*out = NULL;
	if (prepare_one(st, sql, &q, d) != 0)
		return -1;
	if (q == NULL) {
		diag_add(d, store_mark(st), NULL, "no statement");
		return -1;
	}
	if (!sqlite3_stmt_readonly(q)) {
		diag_add(d, store_mark(st), NULL, "not a read-only query");
		sqlite3_finalize(q);
		return -1;
	}
	if ((size_t)sqlite3_bind_parameter_count(q) != nparams) {
		diag_add(d, store_mark(st), NULL, "the query takes %d parameters, given %zu",
			 sqlite3_bind_parameter_count(q), nparams);
		sqlite3_finalize(q);
		return -1;
	}
	for (i = 0; i < nparams; i++)
		if (bind(q, (int)i + 1, &params[i]) != SQLITE_OK) {
			store_fail(st, "cannot bind a parameter", d);
			sqlite3_finalize(q);
			return -1;
		}
	*out = q;
	return 0;
}

int store_query_check(struct store *st, const char *sql, struct diag *d)
{
	sqlite3_stmt *q = NULL;
	if (prepare_one(st, sql, &q, d) != 0)
		return -1;
	sqlite3_finalize(q);
	return 0;
}

/* Cell k of the current row: the type SQLite holds, and the conversions it would make. */
static void read_cell(sqlite3_stmt *q, int k, struct store_value *v)
{
	memset(v, 0, sizeof *v);
	switch (sqlite3_column_type(q, k)) {
	case SQLITE_NULL:
		v->type = STORE_NULL;
		return;
	case SQLITE_INTEGER:
		v->type = STORE_INT;
		break;
	case SQLITE_FLOAT:
		v->type = STORE_REAL;
		break;
	default: {
		const unsigned char *t = sqlite3_column_text(q, k);
		v->type = STORE_TEXT;
		v->text = xstrdup(t ? (const char *)t : "");
		break;
	}
	}
	v->i = sqlite3_column_int64(q, k);
	v->d = sqlite3_column_double(q, k);
}

int store_query(struct store *st, const char *sql, const struct store_value *params,
		size_t nparams, struct store_rows **out, struct diag *d)
{
	sqlite3_stmt *q;
	struct store_rows *r;
	size_t i, cap = 0;
	int rc;
	*out = NULL;
	if (compile(st, sql, params, nparams, &q, d) != 0)
		return -1;
	r = xcalloc(1, sizeof *r);
	r->cols = (size_t)sqlite3_column_count(q);
	r->names = xcalloc(r->cols + 1, sizeof *r->names);
	for (i = 0; i < r->cols; i++)
		r->names[i] = xstrdup(sqlite3_column_name(q, (int)i));
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (r->rows == cap) {
			cap = cap ? 2 * cap : 16;
			r->cells = xreallocarray(r->cells, cap, (r->cols ? r->cols : 1) *
							       sizeof *r->cells);
		}
		for (i = 0; i < r->cols; i++)
			read_cell(q, (int)i, &r->cells[r->rows * r->cols + i]);
		r->rows++;
	}
	if (rc != SQLITE_DONE) {
		diag_add(d, store_mark(st), NULL, "%s", sqlite3_errmsg(st->db));
		sqlite3_finalize(q);
		store_rows_free(r);
		return -1;
	}
	sqlite3_finalize(q);
	*out = r;
	return 0;
}

void store_rows_free(struct store_rows *r)
{
	size_t i;
	if (r == NULL)
		return;
	for (i = 0; i < r->cols; i++)
		free(r->names[i]);
	for (i = 0; i < r->rows * r->cols; i++)
		free((char *)r->cells[i].text);
	free(r->names);
	free(r->cells);
	free(r);
}

const struct store_value *store_cell(const struct store_rows *r, size_t row, size_t col)
{
	return &r->cells[row * r->cols + col];
}

int store_rows_column(const struct store_rows *r, const char *name)
{
	size_t i;
	for (i = 0; i < r->cols; i++)
		if (strcmp(r->names[i], name) == 0)
			return (int)i;
	return -1;
}

int store_fetch_point(struct store *st, int64_t id, struct store_rows **out, struct diag *d)
{
	struct store_value v = store_int(id);
	return store_query(st, "SELECT * FROM v_points WHERE id = ?", &v, 1, out, d);
}

int64_t store_point_id(struct store *st, const char *hash)
{
	int64_t id = 0;
	sqlite3_bind_text(st->has, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st->has) == SQLITE_ROW)
		id = sqlite3_column_int64(st->has, 0);
	sqlite3_reset(st->has);
	return id;
}

bool store_has_bands(struct store *st)
{
	sqlite3_stmt *q;
	bool found;
	if (st->version < 5 || sqlite3_prepare_v2(st->db, "SELECT 1 FROM results WHERE "
						  "uncertainty_draws IS NOT NULL LIMIT 1", -1,
						  &q, NULL) != SQLITE_OK)
		return false;
	found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return found;
}

bool store_has_price_kind(struct store *st)
{
	return st->version >= 6;
}

/* ---- where ---- */

struct store_where {
	sqlite3 *db;
	sqlite3_stmt *q;
	size_t n;
	int idx[];                /* per name: its parameter index, 0 when unused */
};

struct store_where *store_where_new(const char *expr, const char *const *names, size_t nnames,
				    struct mark at, const char *key, struct diag *d)
{
	struct store_where *w = xcalloc(1, sizeof *w + nnames * sizeof w->idx[0]);
	const char *tail = NULL;
	char *full;
	size_t i;
	w->n = nnames;
	if (sqlite3_open_v2(":memory:", &w->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		diag_add(d, at, key, "cannot open SQLite");
		store_where_free(w);
		return NULL;
	}
	full = sqlite3_mprintf("SELECT (%s)", expr);
	if (full == NULL || sqlite3_prepare_v2(w->db, full, -1, &w->q, &tail) != SQLITE_OK) {
		diag_add(d, at, key, "not an expression: %s",
			 full ? sqlite3_errmsg(w->db) : "out of memory");
		sqlite3_free(full);
		store_where_free(w);
		return NULL;
	}
	/* "1); ..." would end the SELECT early and leave the rest unread: refuse it. */
	while (*tail == ';' || *tail == ' ' || (*tail >= '\t' && *tail <= '\r'))
		tail++;
	if (*tail != '\0' || w->q == NULL) {
		diag_add(d, at, key, "not an expression: more than one statement");
		sqlite3_free(full);
		store_where_free(w);
		return NULL;
	}
	sqlite3_free(full);
	for (i = 0; i < nnames; i++) {
		char name[64];
		snprintf(name, sizeof name, ":%s", names[i]);
		w->idx[i] = sqlite3_bind_parameter_index(w->q, name);
	}
	return w;
}

void store_where_free(struct store_where *w)
{
	if (w == NULL)
		return;
	sqlite3_finalize(w->q);
	sqlite3_close(w->db);
	free(w);
}

bool store_where_uses(const struct store_where *w, size_t k)
{
	return k < w->n && w->idx[k] != 0;
}

bool store_where_passes(struct store_where *w, const struct store_value *values)
{
	size_t i;
	bool pass;
	for (i = 0; i < w->n; i++)
		if (w->idx[i] != 0)
			bind(w->q, w->idx[i], &values[i]);
	pass = sqlite3_step(w->q) == SQLITE_ROW && sqlite3_column_type(w->q, 0) != SQLITE_NULL &&
	       sqlite3_column_double(w->q, 0) != 0;
	sqlite3_reset(w->q);
	return pass;
}
