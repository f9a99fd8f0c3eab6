/*
 * units: quantities with units in input text ("80 GiB", "900 GB/s", "400 Gbit/s", "989 TFLOPS",
 * "3 us", "98.32 USD/h") and their human-readable printing. Foundation stage.
 * Every quantity is held as a double in SI base units: bytes, bytes/s, FLOP/s, seconds, USD/h, W.
 */
#ifndef DSSIM_UNITS_H
#define DSSIM_UNITS_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum unit_kind {
	UNIT_NONE,          /* a plain number: counts, ratios */
	UNIT_BYTES,
	UNIT_BYTES_PER_S,
	UNIT_FLOPS,         /* FLOP/s (and integer OP/s) */
	UNIT_SECONDS,
	UNIT_USD_PER_H,
	UNIT_WATTS,
	UNIT_PER_S,         /* a rate of events: "4/s" */
	UNIT_FRACTION,      /* 0.9 or "90%" */
};

/*
 * Parse text as a quantity of the given kind into *out (SI base units). A bare number is taken in
 * base units. Returns 0, or -1 with a lower-case reason in d at the place and key given (where
 * the text came from).
 */
int units_parse(const char *text, enum unit_kind kind, struct mark at, const char *key,
		double *out, struct diag *d);

/*
 * The range the shipped hardware presets (topologies/) span in this kind, for the check that a
 * value is not a million times outside it (a bare "989" for a FLOP/s key is 989 FLOP/s). false
 * for kinds the presets do not use.
 */
bool units_preset_range(enum unit_kind kind, double *lo, double *hi);
/* The base unit's symbol a bare number is read in ("FLOP/s", "B", "B/s", "s"). */
const char *units_base_symbol(enum unit_kind kind);

/* The kind's name and an example, for messages and --help-keys ("bytes", "80 GiB"). */
const char *units_kind_name(enum unit_kind kind);
const char *units_kind_example(enum unit_kind kind);

/* Print a quantity for humans with a fitting prefix: "74.51 GiB", "450 GB/s", "989.4 TFLOPS". */
char *units_format(double value, enum unit_kind kind, char *buf, size_t size);

#define UNITS_GIB (1024.0 * 1024.0 * 1024.0)

#endif
