/*
 * units: parse and print quantities with units. Foundation stage.
 * Decimal prefixes (kB, MB, GB, TB) are powers of 1000 and binary ones (KiB, MiB, GiB, TiB) powers
 * of 1024 (IEC 80000-13); network rates in bit/s are divided by 8 into bytes/s.
 */
#include "units.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct suffix {
	const char *text;
	enum unit_kind kind;
	double factor;
};

static const struct suffix suffixes[] = {
	{"B", UNIT_BYTES, 1.0},
	{"kB", UNIT_BYTES, 1e3},
	{"KB", UNIT_BYTES, 1e3},
	{"MB", UNIT_BYTES, 1e6},
	{"GB", UNIT_BYTES, 1e9},
	{"TB", UNIT_BYTES, 1e12},
	{"PB", UNIT_BYTES, 1e15},
	{"KiB", UNIT_BYTES, 1024.0},
	{"MiB", UNIT_BYTES, 1048576.0},
	{"GiB", UNIT_BYTES, 1073741824.0},
	{"TiB", UNIT_BYTES, 1099511627776.0},
	{"PiB", UNIT_BYTES, 1125899906842624.0},
	{"B/s", UNIT_BYTES_PER_S, 1.0},
	{"kB/s", UNIT_BYTES_PER_S, 1e3},
	{"KB/s", UNIT_BYTES_PER_S, 1e3},
	{"MB/s", UNIT_BYTES_PER_S, 1e6},
	{"GB/s", UNIT_BYTES_PER_S, 1e9},
	{"TB/s", UNIT_BYTES_PER_S, 1e12},
	{"KiB/s", UNIT_BYTES_PER_S, 1024.0},
	{"MiB/s", UNIT_BYTES_PER_S, 1048576.0},
	{"GiB/s", UNIT_BYTES_PER_S, 1073741824.0},
	{"bit/s", UNIT_BYTES_PER_S, 1.0 / 8},
	{"kbit/s", UNIT_BYTES_PER_S, 1e3 / 8},
	{"Mbit/s", UNIT_BYTES_PER_S, 1e6 / 8},
	{"Gbit/s", UNIT_BYTES_PER_S, 1e9 / 8},
	{"Tbit/s", UNIT_BYTES_PER_S, 1e12 / 8},
	{"Mb/s", UNIT_BYTES_PER_S, 1e6 / 8},
	{"Gb/s", UNIT_BYTES_PER_S, 1e9 / 8},
	{"Tb/s", UNIT_BYTES_PER_S, 1e12 / 8},
	{"Gbps", UNIT_BYTES_PER_S, 1e9 / 8},
	{"FLOPS", UNIT_FLOPS, 1.0},
	{"GFLOPS", UNIT_FLOPS, 1e9},
	{"TFLOPS", UNIT_FLOPS, 1e12},
	{"PFLOPS", UNIT_FLOPS, 1e15},
	{"TOPS", UNIT_FLOPS, 1e12},
	{"POPS", UNIT_FLOPS, 1e15},
	{"s", UNIT_SECONDS, 1.0},
	{"ms", UNIT_SECONDS, 1e-3},
	{"us", UNIT_SECONDS, 1e-6},
	{"ns", UNIT_SECONDS, 1e-9},
	{"min", UNIT_SECONDS, 60.0},
	{"h", UNIT_SECONDS, 3600.0},
	{"d", UNIT_SECONDS, 86400.0},
	{"days", UNIT_SECONDS, 86400.0},
	{"USD/h", UNIT_USD_PER_H, 1.0},
	{"W", UNIT_WATTS, 1.0},
	{"kW", UNIT_WATTS, 1e3},
	{"/s", UNIT_PER_S, 1.0},
	{"/min", UNIT_PER_S, 1.0 / 60},
	{"/h", UNIT_PER_S, 1.0 / 3600},
	{"%", UNIT_FRACTION, 0.01},
};

static const struct {
	const char *name;
	const char *example;
} kind_info[] = {
	[UNIT_NONE] = {"number", "8"},
	[UNIT_BYTES] = {"size in bytes", "80 GiB"},
	[UNIT_BYTES_PER_S] = {"bandwidth", "900 GB/s"},
	[UNIT_FLOPS] = {"compute rate", "989 TFLOPS"},
	[UNIT_SECONDS] = {"duration", "5 us"},
	[UNIT_USD_PER_H] = {"price", "98.32 USD/h"},
	[UNIT_WATTS] = {"power", "700 W"},
	[UNIT_PER_S] = {"rate", "4/s"},
	[UNIT_FRACTION] = {"fraction", "0.9"},
};

const char *units_kind_name(enum unit_kind kind)
{
	return kind_info[kind].name;
}

const char *units_kind_example(enum unit_kind kind)
{
	return kind_info[kind].example;
}

/* strtod also takes "nan", "inf" and hex floats; input may only hold a plain decimal number. */
static int parse_number(const char *s, double *out, const char **end)
{
	const char *p = s;
	char *e;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return -1;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return -1;
	*out = strtod(s, &e);
	*end = e;
	return e == s ? -1 : 0;
}

int units_parse(const char *text, enum unit_kind kind, struct mark at, const char *key,
		double *out, struct diag *d)
{
	const char *p = text, *end;
	double v;
	size_t i;

	while (isspace((unsigned char)*p))
		p++;
	if (parse_number(p, &v, &end) != 0) {
		diag_add(d, at, key, "expected a %s such as '%s', got '%s'", kind_info[kind].name,
			 kind_info[kind].example, text);
		return -1;
	}
	if (!isfinite(v)) {
		diag_add(d, at, key, "'%s' is too large", text);
		return -1;
	}
	p = end;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0') {
		*out = v;
		return 0;
	}
	{
		size_t n = strlen(p);
		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
			if (strlen(suffixes[i].text) == n && strncmp(suffixes[i].text, p, n) == 0) {
				if (suffixes[i].kind != kind) {
					diag_add(d, at, key, "expected a %s such as '%s', got '%s'",
						 kind_info[kind].name, kind_info[kind].example, text);
					return -1;
				}
				*out = v * suffixes[i].factor;
				if (!isfinite(*out)) {
					diag_add(d, at, key, "'%s' is too large", text);
					return -1;
				}
				return 0;
			}
		}
	}
	diag_add(d, at, key, "unknown unit in '%s' (expected a %s such as '%s')", text,
		 kind_info[kind].name, kind_info[kind].example);
	return -1;
}

char *units_format(double value, enum unit_kind kind, char *buf, size_t size)
{
	double a = fabs(value);
	switch (kind) {
	case UNIT_BYTES:
		if (a >= 1024.0 * 1024 * 1024 * 1024)
			snprintf(buf, size, "%.2f TiB", value / (1024.0 * UNITS_GIB));
		else if (a >= UNITS_GIB / 8)
			snprintf(buf, size, "%.2f GiB", value / UNITS_GIB);
		else if (a >= 1024.0 * 1024)
			snprintf(buf, size, "%.1f MiB", value / (1024.0 * 1024));
		else
			snprintf(buf, size, "%.0f B", value);
		break;
	case UNIT_BYTES_PER_S:
		if (a >= 1e12)
			snprintf(buf, size, "%.3g TB/s", value / 1e12);
		else
			snprintf(buf, size, "%.4g GB/s", value / 1e9);
		break;
	case UNIT_FLOPS:
		snprintf(buf, size, "%.5g TFLOPS", value / 1e12);
		break;
	case UNIT_SECONDS:
		if (a >= 1.0 || a == 0.0)
			snprintf(buf, size, "%.4g s", value);
		else if (a >= 1e-3)
			snprintf(buf, size, "%.4g ms", value * 1e3);
		else
			snprintf(buf, size, "%.4g us", value * 1e6);
		break;
	case UNIT_USD_PER_H:
		snprintf(buf, size, "%.2f USD/h", value);
		break;
	case UNIT_WATTS:
		snprintf(buf, size, "%.0f W", value);
		break;
	case UNIT_PER_S:
		snprintf(buf, size, "%.4g/s", value);
		break;
	case UNIT_FRACTION:
		snprintf(buf, size, "%.1f%%", value * 100);
		break;
	case UNIT_NONE:
	default:
		snprintf(buf, size, "%.6g", value);
		break;
	}
	return buf;
}

/*
 * The extremes of topologies/ in each kind, read from the preset files (each value there cites
 * its source): FLOP/s from 19.5 TFLOPS (A100 40GB PCIe, FP32) to 4,500 TOPS (B200, INT8);
 * bytes/s from 32 GB/s (DGX A100's PCIe) to 7.7 TB/s (B200's HBM); bytes from 24 GB (RTX 4090)
 * to 2 TiB (p5en.48xlarge host memory); seconds from 0.6 us to 2.7 us (NCCL link latencies);
 * USD/h from 21.96 (p4d.24xlarge) to 98.32 (ND H100 v5); watts from 250 (A100 PCIe) to 1,000
 * (B200).
 */
bool units_preset_range(enum unit_kind kind, double *lo, double *hi)
{
	static const struct {
		enum unit_kind kind;
		double lo, hi;
	} ranges[] = {
		{UNIT_FLOPS, 19.5e12, 4500e12}, {UNIT_BYTES_PER_S, 32e9, 7.7e12},
		{UNIT_BYTES, 24e9, 2199023255552.0}, {UNIT_SECONDS, 0.6e-6, 2.7e-6},
		{UNIT_USD_PER_H, 21.957642, 98.32}, {UNIT_WATTS, 250, 1000},
	};
	size_t i;
	for (i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
		if (ranges[i].kind == kind) {
			*lo = ranges[i].lo;
			*hi = ranges[i].hi;
			return true;
		}
	return false;
}

const char *units_base_symbol(enum unit_kind kind)
{
	switch (kind) {
	case UNIT_BYTES:
		return "B";
	case UNIT_BYTES_PER_S:
		return "B/s";
	case UNIT_FLOPS:
		return "FLOP/s";
	case UNIT_SECONDS:
		return "s";
	case UNIT_USD_PER_H:
		return "USD/h";
	case UNIT_WATTS:
		return "W";
	case UNIT_PER_S:
		return "/s";
	default:
		return "";
	}
}
