/*
 * outfile: every file dssim writes (a trace, a report) goes through here, so that no output is
 * left half-written and none destroys what it should not. A regular file is written to a fresh
 * temporary file (mkstemp, in the target's own directory, so a planted NAME.tmp symlink is never
 * followed) and renamed over the target, keeping its mode (a new file gets 0666 & ~umask); a
 * symlink is written through to its target; devices, FIFOs and "-" (standard output) are
 * written in place; a directory is refused, and so is a target that is one of the run's inputs.
 * Foundation stage: knows files, not what is in them.
 */
#ifndef DSSIM_OUTFILE_H
#define DSSIM_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

#include "diag.h"

struct outfile {
	FILE *f;          /* write here */
	char *target;     /* the file renamed over (a symlink's resolved target), or NULL */
	char *tmp;        /* the temporary file while open, or NULL when written in place */
	bool is_stdout;
};

/*
 * Open path for writing ("-" is standard output). inputs[0..ninputs) are files the run reads:
 * an output that is the same file (device and inode) as one of them is refused. 0, or -1 with
 * a diagnostic naming `what` (e.g. "--trace") and the path: a directory, an input, a directory
 * that cannot be written. The caller writes to o->f, then calls outfile_close or
 * outfile_discard.
 */
int outfile_open(struct outfile *o, const char *path, const char *what,
		 const char *const *inputs, size_t ninputs, struct diag *d);
/* Flush, close and put the file in place. 0, or -1 with a diagnostic (the temporary file is
 * removed and the target left as it was). */
int outfile_close(struct outfile *o, const char *what, struct diag *d);
/* Give up: remove the temporary file, leave the target as it was. */
void outfile_discard(struct outfile *o);

/* Unlink the temporary files of the outputs open now, leaving their targets as they were: for a
 * SIGINT or SIGTERM handler (async-signal-safe), before it ends the process. */
void outfile_remove_temporaries(void);

/* Whether two paths name the same file (device and inode); false when either does not exist. */
bool outfile_same_file(const char *a, const char *b);

#endif
