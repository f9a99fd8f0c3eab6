/*
 * store_sweeps: who writes a sweep, and sweeps whose writer is gone. A sweep records its
 * writer's host, process id and the process's start time; a sweep killed by a signal it cannot
 * catch (SIGKILL, a crash, a power cut) stays `running`, so a later writable open marks it
 * `interrupted` when its process is gone from this host. Part of store (see store_int.h).
 */
#include "store_int.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

int64_t store_process_start(long pid)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;
	int field;
	long long start;
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* proc(5): field 2 is the command in parentheses (it may hold spaces and parentheses: the
	 * last ')' ends it); field 22 is starttime, clock ticks after boot. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%lld", &start) != 1)
		return -1;
	return start;
}

/* Whether the writer of a sweep is gone: the same host, and no process of that id, or one
 * started at another time (the id was reused). Another host's writer cannot be seen: alive. */
static bool writer_gone(const char *host, int64_t pid, int64_t start, const char *here)
{
	int64_t now;
	if (host == NULL || strcmp(host, here) != 0 || pid <= 0)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return true;
	now = store_process_start((long)pid);
	return start >= 0 && now >= 0 && now != start;
}

/* The ids of running sweeps whose writer is gone, into a malloc'd array (*n of them). */
static int64_t *gone_sweeps(struct store *st, size_t *n, struct diag *d)
{
	sqlite3_stmt *q;
	char here[256] = "";
	int64_t *ids = NULL;
	size_t cap = 0;
	int rc;
	*n = 0;
	if (gethostname(here, sizeof here - 1) != 0)
		snprintf(here, sizeof here, "unknown");
	if (sqlite3_prepare_v2(st->db, "SELECT id, host, pid, coalesce(pid_start, -1) FROM sweeps "
			       "WHERE status = 'running' ORDER BY id", -1, &q, NULL) != SQLITE_OK) {
		store_fail(st, "cannot read the sweeps", d);
		return NULL;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (!writer_gone((const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2),
				 sqlite3_column_int64(q, 3), here))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			ids = xreallocarray(ids, cap, sizeof *ids);
		}
		ids[(*n)++] = sqlite3_column_int64(q, 0);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot read the sweeps", d);
		free(ids);
		*n = 0;
		return NULL;
	}
	return ids;
}

int store_sweeps_settle(struct store *st, struct diag *d)
{
	sqlite3_stmt *q;
	size_t n, i;
	int64_t *ids;
	int rc = SQLITE_DONE;
	struct diag e;
	diag_init(&e);
	ids = gone_sweeps(st, &n, &e);
	if (e.count > 0) {
		diag_add(d, store_mark(st), NULL, "%s", e.items[0].message);
		diag_release(&e);
		return -1;
	}
	diag_release(&e);
	if (n == 0)
		return 0;
	if (sqlite3_prepare_v2(st->db, "UPDATE sweeps SET status = 'interrupted' WHERE id = ? AND "
			       "status = 'running'", -1, &q, NULL) != SQLITE_OK) {
		free(ids);
		store_fail(st, "cannot mark an interrupted sweep", d);
		return -1;
	}
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(q, 1, ids[i]);
		rc = sqlite3_step(q);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	free(ids);
	if (rc != SQLITE_DONE) {
		store_fail(st, "cannot mark an interrupted sweep", d);
		return -1;
	}
	return 0;
}

int store_interrupted(struct store *st, struct store_rows **out, struct diag *d)
{
	size_t n, i, len = 0, cap, before = d->count;
	int64_t *ids = gone_sweeps(st, &n, d);
	char *sql;
	int rc;
	*out = NULL;
	if (d->count > before)
		return -1;
	cap = 200 + 24 * n;
	sql = xmalloc(cap);
	len += (size_t)snprintf(sql + len, cap - len,
				"SELECT id, started, host, pid, spec_file FROM sweeps WHERE "
				"status = 'interrupted' OR id IN (");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(sql + len, cap - len, "%s%lld", i ? "," : "",
					(long long)ids[i]);
	snprintf(sql + len, cap - len, ") ORDER BY id");
	free(ids);
	rc = store_query(st, sql, NULL, 0, out, d);
	free(sql);
	return rc;
}
