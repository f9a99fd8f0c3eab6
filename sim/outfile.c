/*
 * outfile: atomic, non-destructive output files (outfile.h). POSIX only: stat, mkstemp, rename.
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xalloc.h"

/* "what: path: message" through the diagnostics (the key is the option that named the file). */

/* The temporary files open now, for outfile_remove_temporaries to unlink from a signal handler
 * (unlink is async-signal-safe; a slot is written whole, as a pointer). A run has one or two
 * outputs open at once; past TMP_SLOTS a file is still written, just not removed on a signal.
 * A file is created and remembered, renamed and forgotten, with SIGINT and SIGTERM held, so
 * a signal never falls between the two. */
enum { TMP_SLOTS = 8 };
static char *volatile open_tmp[TMP_SLOTS];

static void remember(char *tmp)
{
	size_t i;
	for (i = 0; i < TMP_SLOTS; i++)
		if (open_tmp[i] == NULL) {
			open_tmp[i] = tmp;
			return;
		}
}

static void forget(const char *tmp)
{
	size_t i;
	for (i = 0; tmp != NULL && i < TMP_SLOTS; i++)
		if (open_tmp[i] == tmp)
			open_tmp[i] = NULL;
}

static void hold_signals(sigset_t *was)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, was);
}

static void release_signals(const sigset_t *was)
{
	sigprocmask(SIG_SETMASK, was, NULL);
}

void outfile_remove_temporaries(void)
{
	size_t i;
	for (i = 0; i < TMP_SLOTS; i++) {
		char *tmp = open_tmp[i];
		if (tmp != NULL)
			unlink(tmp);
	}
}

static void say(struct diag *d, const char *what, const char *path, const char *msg,
		const char *why)
{
	struct mark at = {path, 0, 0};
	if (why != NULL)
		diag_add(d, at, what, "%s: %s", msg, why);
	else
		diag_add(d, at, what, "%s", msg);
}

bool outfile_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (a == NULL || b == NULL || stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Follow a chain of symlinks, dangling or not, to the path that is finally written (at most
 * 40 links, as Linux's own limit). NULL when the chain loops or a link cannot be read. */
static char *resolve(const char *path)
{
	char *p = xstrdup(path);
	int hops;
	for (hops = 0; hops < 40; hops++) {
		struct stat st;
		char link[PATH_MAX];
		ssize_t n;
		if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
			return p;
		n = readlink(p, link, sizeof link - 1);
		if (n < 0) {
			free(p);
			return NULL;
		}
		link[n] = '\0';
		if (link[0] == '/') {
			free(p);
			p = xstrdup(link);
		} else {
			/* Relative to the directory holding the link. */
			char *slash = strrchr(p, '/');
			size_t dirlen = slash ? (size_t)(slash - p) + 1 : 0;
			char *q = xmalloc(dirlen + (size_t)n + 1);
			memcpy(q, p, dirlen);
			memcpy(q + dirlen, link, (size_t)n + 1);
			free(p);
			p = q;
		}
	}
	free(p);
	return NULL;
}

static mode_t new_file_mode(void)
{
	/* umask can only be read by setting it; dssim is single-threaded here. */
	mode_t mask = umask(022);
	umask(mask);
	return 0666 & ~mask;
}

int outfile_open(struct outfile *o, const char *path, const char *what,
		 const char *const *inputs, size_t ninputs, struct diag *d)
{
	struct stat st;
	bool exists;
	size_t i;
	char *target, *slash;
	int fd;
	sigset_t held;
	memset(o, 0, sizeof *o);
	if (strcmp(path, "-") == 0) {
		o->f = stdout;
		o->is_stdout = true;
		return 0;
	}
	for (i = 0; i < ninputs; i++)
		if (outfile_same_file(path, inputs[i])) {
			say(d, what, path, "is an input of this run; choose another output file", NULL);
			return -1;
		}
	exists = stat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		say(d, what, path, "is a directory, not a file", NULL);
		return -1;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		/* A device, FIFO or socket: written in place, never replaced. */
		o->f = fopen(path, "wb");
		if (o->f == NULL) {
			say(d, what, path, "cannot write", strerror(errno));
			return -2;
		}
		return 0;
	}
	target = resolve(path);
	if (target == NULL) {
		say(d, what, path, "a symlink that loops or cannot be read", NULL);
		return -1;
	}
	o->tmp = xmalloc(strlen(target) + 16);
	slash = strrchr(target, '/');
	/* The temporary file sits beside the target so rename(2) stays on one file system. */
	if (slash != NULL)
		sprintf(o->tmp, "%.*s.dssim-XXXXXX", (int)(slash - target + 1), target);
	else
		strcpy(o->tmp, ".dssim-XXXXXX");
	hold_signals(&held);
	fd = mkstemp(o->tmp);
	if (fd >= 0)
		remember(o->tmp);
	release_signals(&held);
	if (fd < 0) {
		say(d, what, path, "cannot write", strerror(errno));
		free(o->tmp);
		free(target);
		o->tmp = NULL;
		return -2;
	}
	if (fchmod(fd, exists ? (st.st_mode & 07777) : new_file_mode()) != 0 ||
	    (o->f = fdopen(fd, "wb")) == NULL) {
		say(d, what, path, "cannot write", strerror(errno));
		close(fd);
		unlink(o->tmp);
		forget(o->tmp);
		free(o->tmp);
		free(target);
		o->tmp = NULL;
		return -2;
	}
	o->target = target;
	return 0;
}

void outfile_discard(struct outfile *o)
{
	if (o->f != NULL && !o->is_stdout)
		fclose(o->f);
	if (o->tmp != NULL)
		unlink(o->tmp);
	forget(o->tmp);
	free(o->tmp);
	free(o->target);
	memset(o, 0, sizeof *o);
}

int outfile_close(struct outfile *o, const char *what, struct diag *d)
{
	int failed;
	sigset_t held;
	if (o->is_stdout) {
		failed = fflush(stdout) != 0 || ferror(stdout);
		memset(o, 0, sizeof *o);
		if (failed) {
			say(d, what, "-", "cannot write", strerror(errno));
			return -1;
		}
		return 0;
	}
	failed = ferror(o->f) != 0;
	failed |= fclose(o->f) != 0;
	o->f = NULL;
	hold_signals(&held);
	if (!failed && o->tmp != NULL && rename(o->tmp, o->target) != 0)
		failed = 1;
	if (!failed)
		forget(o->tmp);
	release_signals(&held);
	if (failed) {
		say(d, what, o->target ? o->target : "output", "cannot write", strerror(errno));
		outfile_discard(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	outfile_discard(o);
	return 0;
}
