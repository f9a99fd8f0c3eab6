/*
 * fuzz_db: libFuzzer target for the database reader. The input is the bytes of a results
 * database: written to a private temporary file, opened as `top` and `report` open it (the
 * schema version and quick_check), then read as they read it: the top query over v_points, the
 * resume hashes, the interrupted sweeps, and the whole report (report_write, every format's
 * queries). Whatever the bytes: a refusal with a message or an answer, no crash, no sanitizer
 * report, no leak, nothing left in the temporary directory.
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fuzz.h"
#include "report.h"
#include "store.h"
#include "xalloc.h"

/* main_top.c's query with its default order, every column read as a table would. */
static const char top_sql[] =
	"SELECT id, model, node, nodes, gpus, tp, pp, dp, cp, ep, zero, micro_batch AS mb, "
	"recompute, schedule, vp, seq_len, round(step_s, 4) AS step_s, round(tokens_per_s) AS "
	"tokens_per_s, round(mfu, 3) AS mfu, round(peak_per_gpu / 1073741824.0, 1) AS peak_gib, "
	"round(usd_per_hour, 2) AS usd_per_hour, round(usd_per_million_tokens, 3) AS usd_per_mtok "
	"FROM v_points WHERE error IS NULL AND (1) ORDER BY \"step_s\" IS NULL, \"step_s\" ASC, id "
	"LIMIT 20";

/* Touch every cell: a text cell is read to its end. */
static void read_rows(const struct store_rows *r)
{
	size_t i, k;
	volatile size_t sum = 0;
	for (i = 0; i < r->rows; i++)
		for (k = 0; k < r->cols; k++)
			if (store_cell(r, i, k)->text)
				sum += strlen(store_cell(r, i, k)->text);
	(void)sum;   /* read once more: the lengths are needed, so every text is walked */
}

static void remove_db(const char *path)
{
	static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
	char f[4200];
	size_t i;
	for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		snprintf(f, sizeof f, "%s%s", path, tails[i]);
		unlink(f);
	}
}

static void read_db(const char *path)
{
	struct diag d;
	struct store *st;
	struct store_rows *r;
	diag_init(&d);
	st = store_open(path, true, 0, &d);
	if (st != NULL) {
		size_t n;
		char(*h)[17] = store_hashes(st, 0, 0, &n);
		free(h);
		if (store_query(st, top_sql, NULL, 0, &r, &d) == 0)
			read_rows(r);
		store_rows_free(r);
		if (store_interrupted(st, &r, &d) == 0)
			read_rows(r);
		store_rows_free(r);
		store_close(st, &d);
	}
	fuzz_format_all(&d);
	diag_release(&d);
}

static void report_db(const char *path, enum format format)
{
	struct report_options o;
	struct diag d;
	FILE *out = fopen("/dev/null", "w");
	if (out == NULL)
		abort();
	memset(&o, 0, sizeof o);
	o.tokens = 1e12;
	o.format = format;
	diag_init(&d);
	(void)report_write(path, &o, out, &d);
	fuzz_format_all(&d);
	diag_release(&d);
	fclose(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd;
	gsl_set_error_handler_off();
	snprintf(path, sizeof path, "%s/fuzz_db.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	fd = mkstemp(path);
	if (fd < 0 || (f = fdopen(fd, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	read_db(path);
	report_db(path, FORMAT_TEXT);
	report_db(path, FORMAT_HTML);
	remove_db(path);
	return 0;
}
