/*
 * json: the two JSON primitives every printer needs (RFC 8259): a string with its escapes and a
 * number that stays valid JSON. Foundation stage; the printers build their documents on these.
 */
#ifndef DSSIM_JSON_H
#define DSSIM_JSON_H

#include <stdio.h>

/* s as a JSON string, quoted and escaped (NULL prints ""). */
void json_string(FILE *out, const char *s);
/* v with 17 significant digits (round-trips a double); null when not finite, since JSON has no
 * NaN or infinity. */
void json_num(FILE *out, double v);

#endif
