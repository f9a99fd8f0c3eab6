/*
 * main_sweep_int: what main_sweep.c (the sweep's processes and database) and
 * main_sweep_options.c (its command line) share. Private to those two files.
 */
#ifndef DSSIM_MAIN_SWEEP_INT_H
#define DSSIM_MAIN_SWEEP_INT_H

#include <stdbool.h>

#include "sweep.h"
#include "table.h"

/* What the command line of `dssim sweep` asks for. */
struct sweep_options {
	const char *db, *data_dir, *shard_text, *spec;
	struct sweep_slice slice;  /* shard, shards, analytic, uncertainty, seed; the rest is
				      filled in later */
	enum format fmt;
	long jobs;
	bool quiet, yes;
};

/* Parse argv into o. Returns the exit status when the command ends here (--help, a bad
 * option), or -1 to go on. */
int main_sweep_parse(int argc, char **argv, struct sweep_options *o);

#endif
