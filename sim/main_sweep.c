/*
 * main_sweep: the commands around the sweep database — `dssim sweep`, `dssim top`,
 * `dssim compare` and `dssim db` — and the process plumbing of a sweep: forked workers that
 * send finished points through pipes (or MPI ranks that send them to rank 0), one writer that
 * stores them, progress on stderr, Ctrl-C that stops cleanly. Command stage, like main.c.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "json.h"
#include "main_sweep.h"
#include "main_sweep_int.h"
#include "scenario.h"
#include "store.h"
#include "sweep.h"
#include "walltime.h"
#include "xalloc.h"

#ifdef HAVE_MPI
#include <mpi.h>
#endif

int main_parse_format(const char *s, enum format *f)
{
	if (strcmp(s, "text") == 0)
		*f = FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = FORMAT_JSON;
	else if (strcmp(s, "csv") == 0)
		*f = FORMAT_CSV;
	else
		return -1;
	return 0;
}

/* Commit at least this often: a kill loses at most this many points or this much time. */
enum { COMMIT_POINTS = 256 };
static const double commit_seconds = 1.0;
/* How long a writer waits for another's lock before giving up. */
enum { BUSY_MS = 10000 };

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}


/* ---- the writer ---- */

struct writer {
	struct store *st;
	size_t total, skipped, done, simulated, screened, no_fit, errors, pending;
	double started, last_commit, last_progress, store_s;
	int reporters, reported;   /* workers, and how many have sent their point counts */
	bool tty, quiet, failed;
	struct diag d;             /* why it failed (zeroed is empty, as diag_init leaves it) */
	struct sweep_counts left;  /* its skips: what strategy: auto left out, by reason */
	bool have_left;
	struct sweep_skip misfits[SWEEP_SKIP_REASONS]; /* points that do not fit, by cause */
	size_t nmisfits;
};

/* Count a point that does not fit under its cause: the reason's text before the colon
 * (device memory, host memory, KV cache, out of memory in the simulation), as v_misfits. */
static void count_misfit(struct writer *w, const char *reason)
{
	size_t n = strcspn(reason, ":"), i;
	char cause[SWEEP_SKIP_TEXT];
	snprintf(cause, sizeof cause, "%.*s", (int)(n < sizeof cause ? n : sizeof cause - 1),
		 reason);
	for (i = 0; i < w->nmisfits; i++)
		if (strcmp(w->misfits[i].reason, cause) == 0) {
			w->misfits[i].count++;
			return;
		}
	if (w->nmisfits == SWEEP_SKIP_REASONS)
		return;
	snprintf(w->misfits[i].reason, sizeof w->misfits[i].reason, "%s", cause);
	w->misfits[w->nmisfits++].count = 1;
}

static void progress(struct writer *w, bool final)
{
	double t = walltime_now(), el = t - w->started, rate = el > 0 ? (double)w->done / el : 0;
	double eta = rate > 0 && w->total > w->done ? (double)(w->total - w->done) / rate : 0;
	if (w->quiet || (!final && w->reported < w->reporters))
		return;
	/* A terminal's line is redrawn; a log gets a line every 10 s. */
	if (!walltime_due(&w->last_progress, w->tty ? WALLTIME_REDRAW : 10.0, final))
		return;
	if (w->tty) {
		int bar = w->total ? (int)(30.0 * (double)w->done / (double)w->total) : 30, i;
		fputs("\r[", stderr);
		for (i = 0; i < 30; i++)
			fputc(i < bar ? '#' : ' ', stderr);
		fprintf(stderr, "] %zu/%zu points, %.0f/s, ETA %d:%02d   ", w->done, w->total, rate,
			(int)(eta / 60), (int)eta % 60);
		if (final)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "sweep: %zu/%zu points, %.0f points/s, ETA %.0f s\n", w->done,
			w->total, rate, eta);
	}
}

static int writer_put(struct writer *w, const struct store_point *p)
{
	double t0 = walltime_now();
	if (w->failed)
		return -1;
	if (store_put(w->st, p, &w->d) != 0) {
		w->failed = true;
		return -1;
	}
	w->done++;
	w->pending++;
	if (p->status == STORE_SIMULATED)
		w->simulated++;
	else if (p->status == STORE_SCREENED)
		w->screened++;
	else if (p->status == STORE_NO_FIT)
		w->no_fit++, count_misfit(w, p->reason);
	else
		w->errors++;
	if (w->pending >= COMMIT_POINTS || t0 - w->last_commit >= commit_seconds) {
		if (store_commit(w->st, &w->d) != 0) {
			w->failed = true;
			return -1;
		}
		w->pending = 0;
		w->last_commit = walltime_now();
	}
	w->store_s += walltime_now() - t0;
	progress(w, false);
	return 0;
}

static void cb_total(void *ctx, size_t points, size_t skipped)
{
	struct writer *w = ctx;
	w->total += points;
	w->skipped += skipped;
	w->reported++;
}

static int cb_point(void *ctx, const struct store_point *p)
{
	return writer_put(ctx, p);
}

/* ---- workers over pipes ---- */

enum frame_kind { FRAME_TOTAL = 1, FRAME_POINT = 2 };

struct frame_head {
	uint32_t kind;
	uint32_t size;
};

struct pipe_ctx {
	int fd;
};

static int send_frame(int fd, uint32_t kind, const void *buf, size_t size)
{
	struct frame_head h = {kind, (uint32_t)size};
	return main_write_all(fd, &h, sizeof h) != 0 || main_write_all(fd, buf, size) != 0 ? -1 : 0;
}

static void pipe_total(void *ctx, size_t points, size_t skipped)
{
	struct pipe_ctx *c = ctx;
	uint64_t n[2] = {points, skipped};
	send_frame(c->fd, FRAME_TOTAL, n, sizeof n);
}

static int pipe_point(void *ctx, const struct store_point *p)
{
	struct pipe_ctx *c = ctx;
	size_t size;
	void *buf = store_pack(p, &size);
	int rc = send_frame(c->fd, FRAME_POINT, buf, size);
	free(buf);
	return rc;
}

/* A worker's pipe as the writer reads it: frames arrive in pieces. */
struct inbox {
	int fd;
	pid_t pid;
	char *buf;
	size_t len, cap;
	bool open;
};

/* Take the complete frames out of an inbox. */
static void drain(struct inbox *in, struct writer *w)
{
	size_t off = 0;
	while (in->len - off >= sizeof(struct frame_head)) {
		struct frame_head h;
		memcpy(&h, in->buf + off, sizeof h);
		if (in->len - off - sizeof h < h.size)
			break;
		if (h.kind == FRAME_TOTAL && h.size == 2 * sizeof(uint64_t)) {
			uint64_t n[2];
			memcpy(n, in->buf + off + sizeof h, sizeof n);
			w->total += (size_t)n[0];
			w->skipped += (size_t)n[1];
			w->reported++;
		} else if (h.kind == FRAME_POINT) {
			struct store_point p;
			if (store_unpack(in->buf + off + sizeof h, h.size, &p) == 0) {
				writer_put(w, &p);
				store_point_release(&p);
			}
		}
		off += sizeof h + h.size;
	}
	memmove(in->buf, in->buf + off, in->len - off);
	in->len -= off;
}

/* Read what a worker sent and store its complete frames; false when its pipe has closed. */
static bool fill_inbox(struct inbox *in, struct writer *w)
{
	ssize_t got;
	if (in->cap - in->len < 65536) {
		in->cap = in->cap * 2 + 65536;
		in->buf = xreallocarray(in->buf, in->cap, 1);
	}
	got = read(in->fd, in->buf + in->len, in->cap - in->len);
	if (got < 0 && errno == EINTR)
		return true;
	if (got <= 0) {
		close(in->fd);
		in->open = false;
		return false;
	}
	in->len += (size_t)got;
	drain(in, w);
	return true;
}

/* Forked worker k of jobs: close the pipes of the workers before it, run its share of the slice
 * and send the points down p[1]; never returns. */
static _Noreturn void run_worker(const struct sweep_spec *sp, struct sweep_slice base, int k,
				 int jobs, const int p[2], const struct inbox *in)
{
	struct pipe_ctx c = {p[1]};
	struct sweep_callbacks cb = {pipe_total, pipe_point, &c};
	struct sweep_counts counts;
	struct diag d;
	char prefix[64];
	int j;
	for (j = 0; j < k; j++)
		close(in[j].fd);
	close(p[0]);
	base.worker = k;
	base.workers = jobs;
	diag_init(&d);
	snprintf(prefix, sizeof prefix, "dssim: sweep worker %d: ", k);
	if (sweep_run(sp, &base, &cb, &counts, &d) != 0 && !interrupted)
		diag_print_prefixed(&d, prefix, stderr);
	diag_release(&d);
	close(p[1]);
	_exit(0);
}

static int run_forked(const struct sweep_spec *sp, struct sweep_slice base, int jobs,
		      struct writer *w)
{
	struct inbox *in = xcalloc((size_t)jobs, sizeof *in);
	struct pollfd *fds = xcalloc((size_t)jobs, sizeof *fds);
	struct mark nowhere = {NULL, 0, 0};
	int k, open = 0, failed = 0;
	bool stopping = false;
	fflush(NULL);
	for (k = 0; k < jobs; k++) {
		int p[2];
		pid_t pid;
		if (pipe(p) != 0) {
			diag_add(&w->d, nowhere, NULL, "cannot create a pipe: %s", strerror(errno));
			failed = 1;
			break;
		}
		pid = fork();
		if (pid < 0) {
			diag_add(&w->d, nowhere, NULL, "cannot fork: %s", strerror(errno));
			close(p[0]);
			close(p[1]);
			failed = 1;
			break;
		}
		if (pid == 0)
			run_worker(sp, base, k, jobs, p, in);
		close(p[1]);
		in[k].fd = p[0];
		in[k].pid = pid;
		in[k].open = true;
		open++;
	}
	while (open > 0) {
		int n = 0;
		for (k = 0; k < jobs; k++)
			if (in[k].open) {
				fds[n].fd = in[k].fd;
				fds[n].events = POLLIN;
				n++;
			}
		if (poll(fds, (nfds_t)n, 1000) < 0 && errno != EINTR)
			break;
		n = 0;
		for (k = 0; k < jobs; k++) {
			if (!in[k].open)
				continue;
			if (!(fds[n++].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!fill_inbox(&in[k], w))
				open--;
		}
		if ((w->failed || interrupted) && !stopping) {
			/* The database refused a write, or the writer was told to stop (a Ctrl-C
			 * reaches the workers too; a kill -INT of the writer alone does not): the
			 * workers finish the point in hand and exit. */
			for (k = 0; k < jobs; k++)
				if (in[k].open)
					kill(in[k].pid, SIGTERM);
			stopping = true;
		}
	}
	for (k = 0; k < jobs; k++) {
		if (in[k].pid > 0)
			waitpid(in[k].pid, NULL, 0);
		free(in[k].buf);
	}
	free(in);
	free(fds);
	return failed ? -1 : 0;
}

#ifdef HAVE_MPI
/* MPI: rank 0 writes, the other ranks are the workers. */
enum { TAG_TOTAL = 1, TAG_POINT = 2, TAG_DONE = 3 };

static void mpi_total(void *ctx, size_t points, size_t skipped)
{
	uint64_t n[2] = {points, skipped};
	(void)ctx;
	MPI_Send(n, 2, MPI_UINT64_T, 0, TAG_TOTAL, MPI_COMM_WORLD);
}

static int mpi_point(void *ctx, const struct store_point *p)
{
	size_t size;
	void *buf = store_pack(p, &size);
	(void)ctx;
	MPI_Send(buf, (int)size, MPI_BYTE, 0, TAG_POINT, MPI_COMM_WORLD);
	free(buf);
	return 0;
}

static void mpi_worker(const struct sweep_spec *sp, struct sweep_slice base, int rank, int size)
{
	struct sweep_callbacks cb = {mpi_total, mpi_point, NULL};
	struct sweep_counts counts;
	struct diag d;
	char prefix[64];
	base.worker = rank - 1;
	base.workers = size - 1;
	diag_init(&d);
	snprintf(prefix, sizeof prefix, "dssim: sweep rank %d: ", rank);
	if (sweep_run(sp, &base, &cb, &counts, &d) != 0)
		diag_print_prefixed(&d, prefix, stderr);
	diag_release(&d);
	MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_DONE, MPI_COMM_WORLD);
}

static void mpi_writer(struct writer *w, int size)
{
	int running = size - 1;
	while (running > 0) {
		MPI_Status stat;
		int count;
		char *buf;
		MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &stat);
		MPI_Get_count(&stat, MPI_BYTE, &count);
		buf = xmalloc((size_t)count + 1);
		MPI_Recv(buf, count, MPI_BYTE, stat.MPI_SOURCE, stat.MPI_TAG, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
		if (stat.MPI_TAG == TAG_DONE) {
			running--;
		} else if (stat.MPI_TAG == TAG_TOTAL && count == 2 * sizeof(uint64_t)) {
			uint64_t n[2];
			memcpy(n, buf, sizeof n);
			w->total += (size_t)n[0];
			w->skipped += (size_t)n[1];
			w->reported++;
		} else if (stat.MPI_TAG == TAG_POINT) {
			struct store_point p;
			if (store_unpack(buf, (size_t)count, &p) == 0) {
				writer_put(w, &p);
				store_point_release(&p);
			}
		}
		free(buf);
	}
}
#endif

/* , "name": {"reason": count, ...} in the order the reasons were first met. */
static void print_reasons_json(const char *name, const struct sweep_skip *r, size_t n)
{
	size_t i;
	printf(", ");
	json_string(stdout, name);
	printf(": {");
	for (i = 0; i < n; i++) {
		if (i)
			printf(", ");
		json_string(stdout, r[i].reason);
		printf(": %zu", r[i].count);
	}
	printf("}");
}

static void print_summary(const struct writer *w, const char *db, enum format f, bool stopped)
{
	double el = walltime_now() - w->started;
	if (f == FORMAT_JSON) {
		printf("{\"db\": ");
		json_string(stdout, db);
		printf(", \"status\": \"%s\", \"points\": %zu, \"stored\": %zu, \"simulated\": %zu, "
		       "\"screened\": %zu, \"no_fit\": %zu, \"errors\": %zu, \"stored_before\": "
		       "%zu, \"seconds\": ",
		       stopped ? "interrupted" : "done", w->total, w->done, w->simulated, w->screened,
		       w->no_fit, w->errors, w->skipped);
		json_num(stdout, el);
		printf(", \"points_per_s\": ");
		json_num(stdout, el > 0 ? (double)w->done / el : 0);
		printf(", \"store_fraction\": ");
		json_num(stdout, el > 0 ? w->store_s / el : 0);
		print_reasons_json("left_out", w->have_left ? w->left.skips : NULL,
				   w->have_left ? w->left.nskips : 0);
		print_reasons_json("misfits", w->misfits, w->nmisfits);
		printf("}\n");
		return;
	}
	printf("%s: %zu points stored (%zu simulated, %zu fit unsimulated, %zu do not fit, %zu "
	       "errors)%s in %.2f s, %.0f points/s; SQLite writes %.1f%% of the time\n",
	       db, w->done, w->simulated, w->screened, w->no_fit, w->errors,
	       stopped ? ", interrupted" : "", el,
	       el > 0 ? (double)w->done / el : 0, el > 0 ? 100 * w->store_s / el : 0);
	if (w->skipped > 0)
		printf("%zu points were stored already and were skipped\n", w->skipped);
	if (w->have_left && w->left.nskips > 0) {
		size_t i, n = 0;
		for (i = 0; i < w->left.nskips; i++)
			n += w->left.skips[i].count;
		printf("left out by strategy: auto, %zu configurations:\n", n);
		for (i = 0; i < w->left.nskips; i++)
			printf("  %s: %zu\n", w->left.skips[i].reason, w->left.skips[i].count);
	}
	if (w->nmisfits > 0) {
		size_t i;
		printf("stored as misfits (not errors), %zu points:\n", w->no_fit);
		for (i = 0; i < w->nmisfits; i++)
			printf("  %s: %zu\n", w->misfits[i].reason, w->misfits[i].count);
	}
}

/* Rank 0: open the database and record the sweep's start in it. 0, or -1 with the message
 * printed. */
static int open_writer(struct writer *w, const struct sweep_options *o,
		       const struct sweep_spec *sp)
{
	w->st = store_open(o->db, false, BUSY_MS, &w->d);
	if (w->st == NULL || store_sweep_begin(w->st, sweep_spec_text(sp), o->spec, o->shard_text,
					       &w->d) != 0) {
		diag_print_prefixed(&w->d, "dssim sweep: ", stderr);
		store_close(w->st, &w->d);
		diag_release(&w->d);
		return -1;
	}
	w->tty = isatty(STDERR_FILENO);
	w->started = w->last_commit = walltime_now();
	return 0;
}

/* Resume: the hashes of the points the database holds, which the workers skip; rank 0 reads
 * them and, under MPI, sends them to every rank. */
static char (*stored_hashes(const struct writer *w, const struct sweep_slice *slice, int rank,
			    size_t *nhashes))[17]
{
	char (*hashes)[17] = rank == 0 ? store_hashes(w->st, (int64_t)slice->uncertainty,
						      (int64_t)slice->seed, nhashes) : NULL;
#ifdef HAVE_MPI
	uint64_t n = *nhashes;
	MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
	*nhashes = (size_t)n;
	if (rank != 0)
		hashes = xcalloc(*nhashes + 1, sizeof *hashes);
	if (*nhashes > 0)
		MPI_Bcast(hashes, (int)(*nhashes * sizeof *hashes), MPI_BYTE, 0, MPI_COMM_WORLD);
#else
	(void)rank;
#endif
	return hashes;
}

/* Run the slice: in this process, in forked workers, or on the MPI ranks. Returns the exit
 * status so far. */
static int run_points(const struct sweep_spec *sp, struct sweep_slice slice, long jobs,
		      int rank, int size, struct writer *w)
{
	int status = EXIT_OK;
	w->reporters = size > 1 ? size - 1 : jobs > 1 ? (int)jobs : 1;
	if (size > 1) {
#ifdef HAVE_MPI
		if (rank == 0)
			mpi_writer(w, size);
		else
			mpi_worker(sp, slice, rank, size);
#endif
	} else if (jobs == 1) {
		struct sweep_callbacks cb = {cb_total, cb_point, w};
		struct sweep_counts counts;
		struct diag sd;
		diag_init(&sd);
		if (sweep_run(sp, &slice, &cb, &counts, &sd) != 0 && !interrupted && !w->failed) {
			diag_print_prefixed(&sd, "dssim sweep: ", stderr);
			status = EXIT_BAD_INPUT;
		}
		diag_release(&sd);
		w->left = counts;
		w->have_left = counts.groups > 0;
	} else if (run_forked(sp, slice, (int)jobs, w) != 0) {
		/* A pipe or a fork failed: the message has no file. */
		fprintf(stderr, "dssim sweep: %s\n", w->d.count > 0 ? w->d.items[0].message : "");
		status = EXIT_INTERNAL;
	}
#ifndef HAVE_MPI
	(void)rank;
#endif
	return status;
}

/* Rank 0: record how the sweep ended, close the database, print the summary. Returns the exit
 * status, given the one so far. */
/* What strategy: auto left out, into skips: counted by the run itself with one process, else
 * by expanding the spec once more here (workers each count the whole spec; expansion costs
 * little beside evaluation). 0, or -1 with the reason in d. */
static int write_left(struct writer *w, const struct sweep_spec *sp,
		      const struct sweep_options *o, struct diag *d)
{
	size_t i;
	if (!sweep_spec_searches_strategy(sp))
		return 0;
	if (!w->have_left) {
		struct sweep_slice count = o->slice;
		struct sweep_callbacks none = {NULL, NULL, NULL};
		struct diag cd;
		count.count_only = true;
		count.skip = NULL;
		count.nskip = 0;
		diag_init(&cd);
		w->have_left = sweep_run(sp, &count, &none, &w->left, &cd) == 0;
		diag_release(&cd);
	}
	for (i = 0; w->have_left && i < w->left.nskips; i++)
		if (store_write_skip(w->st, w->left.skips[i].reason,
				     (int64_t)w->left.skips[i].count, d) != 0)
			return -1;
	return 0;
}

static int close_writer(struct writer *w, const struct sweep_spec *sp,
			const struct sweep_options *o, int status)
{
	const char *end = w->failed ? "failed" : interrupted ? "interrupted" : "done";
	struct diag ed;
	char why[1024];
	if (w->failed) {
		fprintf(stderr, "\ndssim sweep: %s (what was committed before is kept)\n",
			w->d.count > 0 ? diag_format(&w->d.items[0], why, sizeof why) : o->db);
		status = EXIT_INTERNAL;
	}
	diag_init(&ed);
	if (!w->failed && write_left(w, sp, o, &ed) != 0) {
		diag_print_prefixed(&ed, "dssim sweep: ", stderr);
		status = EXIT_INTERNAL;
	}
	diag_release(&ed);
	if (store_sweep_end(w->st, end, &ed) != 0 && !w->failed) {
		diag_print_prefixed(&ed, "dssim sweep: ", stderr);
		status = EXIT_INTERNAL;
	}
	diag_release(&ed);
	if (store_close(w->st, &ed) != 0 && status == EXIT_OK) {
		diag_print_prefixed(&ed, "dssim sweep: ", stderr);
		status = EXIT_INTERNAL;
	}
	diag_release(&ed);
	diag_release(&w->d);
	progress(w, true);
	print_summary(w, o->db, o->fmt, interrupted);
	if (interrupted && status == EXIT_OK)
		status = EXIT_INTERRUPTED;
	return status;
}

/*
 * A sweep of more than 1,000,000 points is refused without --yes, with its size and a rough
 * time: bench/sweep_16gpu.yaml simulates 500 to 1,300 points/s per worker on this project's
 * 2-core machine (README), so the estimate takes 500 per worker; screening alone is about a
 * hundred times faster, and --uncertainty N simulates a point N + 1 times. Every group is at
 * least one point, so more than a million groups is refused at once; a strategy search
 * multiplies them, so a spec of more than 10,000 groups with one is expanded once to count
 * (small specs never pay for it). 0, or -1 with the message printed.
 */
static int too_big(const struct sweep_spec *sp, const struct sweep_options *o)
{
	struct sweep_slice count = o->slice;
	struct sweep_counts n;
	struct sweep_callbacks none = {NULL, NULL, NULL};
	struct diag d;
	double rate = 500.0 * (double)o->jobs * (o->slice.analytic ? 100 : 1) /
		      (double)(1 + o->slice.uncertainty);
	size_t groups = sweep_spec_groups(sp);
	memset(&n, 0, sizeof n);
	if (groups > 1000000) {
		n.points = groups;
	} else if (groups > 10000 && sweep_spec_searches_strategy(sp)) {
		count.count_only = true;
		diag_init(&d);
		(void)sweep_run(sp, &count, &none, &n, &d);
		diag_release(&d);
	}
	if (n.points <= 1000000)
		return 0;
	fprintf(stderr, "dssim sweep: %s: %s%zu points (%zu groups), roughly %.0f minutes with -j "
			"%ld: pass --yes to run them\n", o->spec, groups > 1000000 ? "at least " : "",
		n.points, groups, (double)n.points / rate / 60 + 1, o->jobs);
	return -1;
}

int main_sweep(int argc, char **argv)
{
	struct sweep_options o;
	struct sweep_slice slice;
	struct sweep_spec *sp;
	struct writer w;
	struct diag d;
	char (*hashes)[17];
	size_t nhashes = 0;
	int status, rank = 0, size = 1;
	struct sigaction was[2];   /* kept to the end: the sweep stops cleanly until it exits */

	status = main_sweep_parse(argc, argv, &o);
	if (status >= 0)
		return status;
	slice = o.slice;
	memset(&w, 0, sizeof w);
	w.quiet = o.quiet;
#ifdef HAVE_MPI
	MPI_Init(NULL, NULL);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
#endif
	diag_init(&d);
	sp = sweep_spec_load(o.spec, o.data_dir, &d);
	if (sp == NULL) {
		if (rank == 0)
			diag_print(&d, stderr);
		diag_release(&d);
#ifdef HAVE_MPI
		MPI_Finalize();
#endif
		return EXIT_BAD_INPUT;
	}
	if (o.slice.uncertainty > 0 && sweep_spec_check_uncertainty(sp, &d) != 0) {
		if (rank == 0)
			diag_print(&d, stderr);
		diag_release(&d);
		sweep_spec_free(sp);
#ifdef HAVE_MPI
		MPI_Finalize();
#endif
		return EXIT_BAD_INPUT;
	}
	diag_release(&d);
	if (rank == 0) {
		struct diag warn;
		diag_init(&warn);
		if (sweep_spec_warnings(sp, &warn) > 0)
			diag_print_prefixed(&warn, "dssim sweep: warning: ", stderr);
		diag_release(&warn);
	}
	if (!o.yes && rank == 0 && too_big(sp, &o) != 0) {
		sweep_spec_free(sp);
#ifdef HAVE_MPI
		MPI_Abort(MPI_COMM_WORLD, EXIT_BAD_INPUT);
#endif
		return EXIT_BAD_INPUT;
	}
	main_signals_catch(on_interrupt, was);
	slice.stop = &interrupted;
	if (rank == 0 && open_writer(&w, &o, sp) != 0) {
		sweep_spec_free(sp);
#ifdef HAVE_MPI
		MPI_Abort(MPI_COMM_WORLD, EXIT_INTERNAL);
#endif
		return EXIT_INTERNAL;
	}
	hashes = stored_hashes(&w, &slice, rank, &nhashes);
	slice.skip = (const char(*)[17])hashes;
	slice.nskip = nhashes;
	status = run_points(sp, slice, o.jobs, rank, size, &w);
	if (rank == 0)
		status = close_writer(&w, sp, &o, status);
	free(hashes);
	sweep_spec_free(sp);
#ifdef HAVE_MPI
	MPI_Finalize();
#endif
	return status;
}
