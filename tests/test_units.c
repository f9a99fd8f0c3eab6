/*
 * test_units: quantities in input text and their printing. Expected values are worked by hand in
 * the comments from the prefix definitions (SI powers of 1000, IEC 80000-13 powers of 1024, 8 bits
 * per byte); every rejection is provoked on purpose and its message read for what it expected.
 */
#include "check.h"

#include <gsl/gsl_errno.h>

#include "units.h"

/* Parse text as kind and fail, printing the reason, unless it is accepted. */
static double parsed(const char *text, enum unit_kind kind)
{
	struct mark at = {"test.yaml", 3, 5};
	struct diag d;
	double v = -12345.0;
	diag_init(&d);
	if (units_parse(text, kind, at, "key", &v, &d) != 0) {
		print_error("'%s' as %s was rejected: %s\n", text, units_kind_name(kind),
			    d.items[0].message);
		fail();
	}
	assert_int_equal(d.count, 0);
	diag_release(&d);
	return v;
}

/* Parse text as kind and fail unless it is rejected with one diagnostic; its message goes to
 * err. */
static void rejected(const char *text, enum unit_kind kind, char *err, size_t errsize)
{
	struct mark at = {NULL, 0, 0};
	struct diag d;
	double v = -12345.0;
	diag_init(&d);
	if (units_parse(text, kind, at, NULL, &v, &d) == 0) {
		print_error("'%s' as %s was accepted as %.17g\n", text, units_kind_name(kind), v);
		fail();
	}
	assert_int_equal(d.count, 1);
	snprintf(err, errsize, "%s", d.items[0].message);
	diag_release(&d);
	assert_true(err[0] != '\0');
}

static void assert_contains(const char *text, const char *part)
{
	if (strstr(text, part) == NULL) {
		print_error("'%s' does not contain '%s'\n", text, part);
		fail();
	}
}

static void units_parse_takes_binary_and_decimal_prefixes(void **state)
{
	(void)state;
	/* 80 GiB = 80 * 2^30 = 85,899,345,920 B (an H100's memory as nvidia-smi reports it). */
	check_rel(parsed("80 GiB", UNIT_BYTES), 85899345920.0, 0);
	/* 80 GB = 80 * 10^9 B. */
	check_rel(parsed("80 GB", UNIT_BYTES), 80e9, 0);
	/* 512 KiB = 524,288 B; 40 MiB = 41,943,040 B; 2 TiB = 2,199,023,255,552 B. */
	check_rel(parsed("512 KiB", UNIT_BYTES), 524288.0, 0);
	check_rel(parsed("40 MiB", UNIT_BYTES), 41943040.0, 0);
	check_rel(parsed("2 TiB", UNIT_BYTES), 2199023255552.0, 0);
	/* kB and KB are both 1000 B; 1.5 TB = 1.5e12 B; 0.5 PB = 5e14 B. */
	check_rel(parsed("4 kB", UNIT_BYTES), 4000.0, 0);
	check_rel(parsed("4 KB", UNIT_BYTES), 4000.0, 0);
	check_rel(parsed("25 MB", UNIT_BYTES), 25e6, 0);
	check_rel(parsed("1.5 TB", UNIT_BYTES), 1.5e12, 1e-15);
	check_rel(parsed("0.5 PB", UNIT_BYTES), 5e14, 0);
	check_rel(parsed("4096 B", UNIT_BYTES), 4096.0, 0);
}

static void units_parse_divides_bits_per_second_by_eight(void **state)
{
	(void)state;
	/* An NDR InfiniBand port: 400 Gbit/s = 400e9 / 8 = 50e9 B/s. */
	check_rel(parsed("400 Gbit/s", UNIT_BYTES_PER_S), 50e9, 1e-15);
	check_rel(parsed("400 Gb/s", UNIT_BYTES_PER_S), 50e9, 1e-15);
	check_rel(parsed("400 Gbps", UNIT_BYTES_PER_S), 50e9, 1e-15);
	/* 3.2 Tbit/s (p5.48xlarge EFA) = 400e9 B/s; 100 Mbit/s = 12.5e6 B/s; 1 kbit/s = 125 B/s. */
	check_rel(parsed("3.2 Tbit/s", UNIT_BYTES_PER_S), 400e9, 1e-15);
	check_rel(parsed("3.2 Tb/s", UNIT_BYTES_PER_S), 400e9, 1e-15);
	check_rel(parsed("100 Mbit/s", UNIT_BYTES_PER_S), 12.5e6, 1e-15);
	check_rel(parsed("100 Mb/s", UNIT_BYTES_PER_S), 12.5e6, 1e-15);
	check_rel(parsed("1 kbit/s", UNIT_BYTES_PER_S), 125.0, 1e-15);
	check_rel(parsed("8 bit/s", UNIT_BYTES_PER_S), 1.0, 1e-15);
}

static void units_parse_takes_byte_rates(void **state)
{
	(void)state;
	/* H100 SXM NVLink 4: 900 GB/s; HBM3: 3.35 TB/s = 3.35e12 B/s. */
	check_rel(parsed("900 GB/s", UNIT_BYTES_PER_S), 900e9, 0);
	check_rel(parsed("3.35 TB/s", UNIT_BYTES_PER_S), 3.35e12, 1e-15);
	/* PCIe 5 x16: 64 GB/s; 500 MB/s; 250 kB/s = KB/s = 250,000 B/s; 1 B/s. */
	check_rel(parsed("64 GB/s", UNIT_BYTES_PER_S), 64e9, 0);
	check_rel(parsed("500 MB/s", UNIT_BYTES_PER_S), 500e6, 0);
	check_rel(parsed("250 kB/s", UNIT_BYTES_PER_S), 250e3, 0);
	check_rel(parsed("250 KB/s", UNIT_BYTES_PER_S), 250e3, 0);
	check_rel(parsed("1 B/s", UNIT_BYTES_PER_S), 1.0, 0);
	/* 16 GiB/s = 17,179,869,184 B/s; 512 MiB/s = 536,870,912 B/s; 64 KiB/s = 65,536 B/s. */
	check_rel(parsed("16 GiB/s", UNIT_BYTES_PER_S), 17179869184.0, 0);
	check_rel(parsed("512 MiB/s", UNIT_BYTES_PER_S), 536870912.0, 0);
	check_rel(parsed("64 KiB/s", UNIT_BYTES_PER_S), 65536.0, 0);
}

static void units_parse_takes_flops_and_integer_ops(void **state)
{
	(void)state;
	/* H100 SXM dense bf16: 989 TFLOPS = 9.89e14 FLOP/s; dense int8: 1979 TOPS = 1.979e15. */
	check_rel(parsed("989 TFLOPS", UNIT_FLOPS), 9.89e14, 1e-15);
	check_rel(parsed("1979 TOPS", UNIT_FLOPS), 1.979e15, 1e-15);
	/* 67 TFLOPS fp64 tensor = 6.7e13; 1.98 PFLOPS = 1.98e15; 3.9 POPS = 3.9e15. */
	check_rel(parsed("67 TFLOPS", UNIT_FLOPS), 6.7e13, 1e-15);
	check_rel(parsed("1.98 PFLOPS", UNIT_FLOPS), 1.98e15, 1e-15);
	check_rel(parsed("3.9 POPS", UNIT_FLOPS), 3.9e15, 1e-15);
	check_rel(parsed("500 GFLOPS", UNIT_FLOPS), 5e11, 0);
	check_rel(parsed("1e12 FLOPS", UNIT_FLOPS), 1e12, 0);
}

static void units_parse_takes_seconds_from_nanoseconds_to_hours(void **state)
{
	(void)state;
	/* NVLink latency 3 us = 3e-6 s; a 1.5 ms step; 700 ns = 7e-7 s. */
	check_rel(parsed("3 us", UNIT_SECONDS), 3e-6, 1e-15);
	check_rel(parsed("1.5 ms", UNIT_SECONDS), 1.5e-3, 1e-15);
	check_rel(parsed("700 ns", UNIT_SECONDS), 7e-7, 1e-15);
	check_rel(parsed("2.5 s", UNIT_SECONDS), 2.5, 0);
	/* 2 min = 120 s; 1.5 h = 1.5 * 3600 = 5400 s. */
	check_rel(parsed("2 min", UNIT_SECONDS), 120.0, 0);
	check_rel(parsed("1.5 h", UNIT_SECONDS), 5400.0, 0);
}

static void units_parse_takes_prices_power_rates_and_percentages(void **state)
{
	(void)state;
	/* p5.48xlarge on demand: 98.32 USD/h. */
	check_rel(parsed("98.32 USD/h", UNIT_USD_PER_H), 98.32, 0);
	/* H100 SXM TDP 700 W; a DGX H100 10.2 kW = 10,200 W. */
	check_rel(parsed("700 W", UNIT_WATTS), 700.0, 0);
	check_rel(parsed("10.2 kW", UNIT_WATTS), 10200.0, 1e-15);
	/* 4 requests/s; 30/min = 0.5/s; 7200/h = 2/s. */
	check_rel(parsed("4/s", UNIT_PER_S), 4.0, 0);
	check_rel(parsed("4 /s", UNIT_PER_S), 4.0, 0);
	check_rel(parsed("30/min", UNIT_PER_S), 0.5, 1e-15);
	check_rel(parsed("7200/h", UNIT_PER_S), 2.0, 1e-15);
	/* 90% = 0.9; 92.5 % = 0.925. */
	check_rel(parsed("90%", UNIT_FRACTION), 0.9, 1e-15);
	check_rel(parsed("92.5 %", UNIT_FRACTION), 0.925, 1e-15);
}

static void units_parse_takes_bare_numbers_in_base_units(void **state)
{
	(void)state;
	check_rel(parsed("85899345920", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed("9e11", UNIT_BYTES_PER_S), 9e11, 0);
	check_rel(parsed("9.89e14", UNIT_FLOPS), 9.89e14, 0);
	check_rel(parsed("0.000005", UNIT_SECONDS), 5e-6, 0);
	check_rel(parsed("98.32", UNIT_USD_PER_H), 98.32, 0);
	check_rel(parsed("700", UNIT_WATTS), 700.0, 0);
	check_rel(parsed("4", UNIT_PER_S), 4.0, 0);
	check_rel(parsed("0.9", UNIT_FRACTION), 0.9, 0);
	check_rel(parsed("8", UNIT_NONE), 8.0, 0);
	check_rel(parsed(".5", UNIT_NONE), 0.5, 0);
	check_rel(parsed("+3", UNIT_NONE), 3.0, 0);
	check_rel(parsed("-1.25", UNIT_NONE), -1.25, 0);
}

static void units_parse_ignores_spaces_around_number_and_unit(void **state)
{
	(void)state;
	/* 80 GiB = 85,899,345,920 B however it is spaced. */
	check_rel(parsed("80GiB", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed(" 80 GiB ", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed("80\tGiB", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed("  80   GiB\t", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed("400Gbit/s", UNIT_BYTES_PER_S), 50e9, 1e-15);
	check_rel(parsed(" 8 ", UNIT_NONE), 8.0, 0);
	check_rel(parsed("8\t", UNIT_NONE), 8.0, 0);
}

/*
 * A YAML block scalar ("tp: |" or "memory: >") ends in a newline: "80 GiB\n" is accepted, so a
 * bare "8\n" must be too.
 */
static void units_parse_ignores_a_trailing_newline_on_a_bare_number(void **state)
{
	(void)state;
	check_rel(parsed("80 GiB\n", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed("\n80 GiB", UNIT_BYTES), 85899345920.0, 0);
	check_rel(parsed("8\n", UNIT_NONE), 8.0, 0);
	check_rel(parsed("85899345920 \n", UNIT_BYTES), 85899345920.0, 0);
}

static void units_parse_rejects_a_unit_of_the_wrong_kind(void **state)
{
	char err[256];
	(void)state;
	/* A size given where a bandwidth belongs: the message names the kind and an example. */
	rejected("80 GB", UNIT_BYTES_PER_S, err, sizeof err);
	assert_string_equal(err, "expected a bandwidth such as '900 GB/s', got '80 GB'");
	rejected("900 GB/s", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "size in bytes");
	assert_contains(err, "'80 GiB'");
	assert_contains(err, "'900 GB/s'");
	/* h is hours, not a rate per hour. */
	rejected("5 h", UNIT_PER_S, err, sizeof err);
	assert_contains(err, "expected a rate such as '4/s'");
	rejected("5/h", UNIT_SECONDS, err, sizeof err);
	assert_contains(err, "expected a duration such as '5 us'");
	rejected("989 TFLOPS", UNIT_WATTS, err, sizeof err);
	assert_contains(err, "expected a power such as '700 W'");
	rejected("700 W", UNIT_FLOPS, err, sizeof err);
	assert_contains(err, "expected a compute rate such as '989 TFLOPS'");
	rejected("98.32 USD/h", UNIT_FRACTION, err, sizeof err);
	assert_contains(err, "expected a fraction such as '0.9'");
	rejected("3 us", UNIT_USD_PER_H, err, sizeof err);
	assert_contains(err, "expected a price such as '98.32 USD/h'");
	rejected("90%", UNIT_NONE, err, sizeof err);
	assert_contains(err, "expected a number such as '8'");
}

static void units_parse_rejects_an_unknown_unit(void **state)
{
	char err[256];
	(void)state;
	rejected("80 GiBs", UNIT_BYTES, err, sizeof err);
	assert_string_equal(err,
			    "unknown unit in '80 GiBs' "
			    "(expected a size in bytes such as '80 GiB')");
	/* Units are case-sensitive: "gb" is not "GB", and "Gib" is not "GiB". */
	rejected("80 gb", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "unknown unit in '80 gb'");
	rejected("80 Gib", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "unknown unit");
	rejected("3 sec", UNIT_SECONDS, err, sizeof err);
	assert_contains(err, "unknown unit in '3 sec' (expected a duration such as '5 us')");
	rejected("80 G iB", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "unknown unit");
	rejected("100 EUR/h", UNIT_USD_PER_H, err, sizeof err);
	assert_contains(err, "price");
}

static void units_parse_rejects_text_without_a_number(void **state)
{
	char err[256];
	(void)state;
	rejected("GiB", UNIT_BYTES, err, sizeof err);
	assert_string_equal(err, "expected a size in bytes such as '80 GiB', got 'GiB'");
	rejected("", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "got ''");
	rejected("   ", UNIT_SECONDS, err, sizeof err);
	assert_contains(err, "expected a duration");
	rejected("eighty GB", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "got 'eighty GB'");
	rejected(". GB", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "expected a size in bytes");
	rejected("- 5 us", UNIT_SECONDS, err, sizeof err);
	assert_contains(err, "expected a duration");
}

/* strtod would take these; a quantity in a scenario may only be a plain decimal number. */
static void units_parse_rejects_nan_inf_and_hex(void **state)
{
	char err[256];
	(void)state;
	rejected("nan", UNIT_NONE, err, sizeof err);
	assert_string_equal(err, "expected a number such as '8', got 'nan'");
	rejected("NaN GB", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "got 'NaN GB'");
	rejected("inf", UNIT_FLOPS, err, sizeof err);
	assert_contains(err, "expected a compute rate such as '989 TFLOPS', got 'inf'");
	rejected("-inf", UNIT_NONE, err, sizeof err);
	assert_contains(err, "got '-inf'");
	rejected("infinity TFLOPS", UNIT_FLOPS, err, sizeof err);
	assert_contains(err, "compute rate");
	/* 0x50 would be 80. */
	rejected("0x50", UNIT_NONE, err, sizeof err);
	assert_contains(err, "got '0x50'");
	rejected("0x50 GB", UNIT_BYTES, err, sizeof err);
	assert_contains(err, "got '0x50 GB'");
	rejected("-0X1p4", UNIT_NONE, err, sizeof err);
	assert_contains(err, "expected a number");
}

static void units_parse_rejects_values_that_overflow_a_double(void **state)
{
	char err[256];
	(void)state;
	/* 1e400 exceeds DBL_MAX (about 1.8e308) before any unit is applied. */
	rejected("1e400 GB", UNIT_BYTES, err, sizeof err);
	assert_string_equal(err, "'1e400 GB' is too large");
	rejected("1e400", UNIT_NONE, err, sizeof err);
	assert_string_equal(err, "'1e400' is too large");
	/* 1e300 is finite but 1e300 TB = 1e312 B is not. */
	rejected("1e300 TB", UNIT_BYTES, err, sizeof err);
	assert_string_equal(err, "'1e300 TB' is too large");
	rejected("1e297 PFLOPS", UNIT_FLOPS, err, sizeof err);
	assert_contains(err, "too large");
}

static void units_parse_records_the_place_and_key_it_is_given(void **state)
{
	struct mark at = {"scenarios/a.yaml", 14, 9};
	struct diag d;
	char line[256];
	double v = 0;
	(void)state;
	diag_init(&d);
	assert_int_equal(units_parse("80 GB", UNIT_BYTES_PER_S, at, "cluster.nic", &v, &d), -1);
	assert_int_equal(d.count, 1);
	assert_string_equal(diag_format(&d.items[0], line, sizeof line),
			    "scenarios/a.yaml:14:9: cluster.nic: expected a bandwidth such as "
			    "'900 GB/s', got '80 GB'");
	diag_release(&d);
}

static void units_kind_examples_parse_as_their_kind(void **state)
{
	static const struct {
		enum unit_kind kind;
		const char *name;
		double value;   /* the example in base units, by hand */
	} rows[] = {
		{UNIT_NONE, "number", 8},
		{UNIT_BYTES, "size in bytes", 85899345920.0},   /* 80 * 2^30 */
		{UNIT_BYTES_PER_S, "bandwidth", 900e9},
		{UNIT_FLOPS, "compute rate", 989e12},
		{UNIT_SECONDS, "duration", 5e-6},
		{UNIT_USD_PER_H, "price", 98.32},
		{UNIT_WATTS, "power", 700},
		{UNIT_PER_S, "rate", 4},
		{UNIT_FRACTION, "fraction", 0.9},
	};
	size_t i;
	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		assert_string_equal(units_kind_name(rows[i].kind), rows[i].name);
		check_rel(parsed(units_kind_example(rows[i].kind), rows[i].kind), rows[i].value,
			  1e-15);
	}
}

static void units_format_picks_a_fitting_prefix(void **state)
{
	char buf[64];
	(void)state;
	/* Sizes: binary prefixes. 80e9 B / 2^30 = 74.5058... GiB (the header's example). */
	assert_string_equal(units_format(80.0 * UNITS_GIB, UNIT_BYTES, buf, sizeof buf),
			    "80.00 GiB");
	assert_string_equal(units_format(80e9, UNIT_BYTES, buf, sizeof buf), "74.51 GiB");
	/* 2 TiB = 2 * 2^40 B; 100 MiB; 4096 B. */
	assert_string_equal(units_format(2199023255552.0, UNIT_BYTES, buf, sizeof buf), "2.00 TiB");
	assert_string_equal(units_format(104857600.0, UNIT_BYTES, buf, sizeof buf), "100.0 MiB");
	assert_string_equal(units_format(4096, UNIT_BYTES, buf, sizeof buf), "4096 B");
	/* Rates: decimal prefixes as vendors quote them. */
	assert_string_equal(units_format(450e9, UNIT_BYTES_PER_S, buf, sizeof buf), "450 GB/s");
	assert_string_equal(units_format(50e9, UNIT_BYTES_PER_S, buf, sizeof buf), "50 GB/s");
	assert_string_equal(units_format(3.35e12, UNIT_BYTES_PER_S, buf, sizeof buf), "3.35 TB/s");
	assert_string_equal(units_format(989.4e12, UNIT_FLOPS, buf, sizeof buf), "989.4 TFLOPS");
	/* Durations: s, ms or us by size; 0 is "0 s". */
	assert_string_equal(units_format(12.5, UNIT_SECONDS, buf, sizeof buf), "12.5 s");
	assert_string_equal(units_format(2.5e-3, UNIT_SECONDS, buf, sizeof buf), "2.5 ms");
	assert_string_equal(units_format(5e-6, UNIT_SECONDS, buf, sizeof buf), "5 us");
	assert_string_equal(units_format(0, UNIT_SECONDS, buf, sizeof buf), "0 s");
	assert_string_equal(units_format(98.32, UNIT_USD_PER_H, buf, sizeof buf), "98.32 USD/h");
	assert_string_equal(units_format(700, UNIT_WATTS, buf, sizeof buf), "700 W");
	assert_string_equal(units_format(4, UNIT_PER_S, buf, sizeof buf), "4/s");
	assert_string_equal(units_format(0.9, UNIT_FRACTION, buf, sizeof buf), "90.0%");
	assert_string_equal(units_format(8, UNIT_NONE, buf, sizeof buf), "8");
}

/* What units_format prints, units_parse reads back to within the printed precision. */
static void units_format_output_parses_back(void **state)
{
	static const struct {
		double value;
		enum unit_kind kind;
		double rel;     /* half a unit in the last printed digit, relative */
	} rows[] = {
		{80e9, UNIT_BYTES, 1e-4},          {2199023255552.0, UNIT_BYTES, 1e-4},
		{104857600.0, UNIT_BYTES, 1e-3},   {4096, UNIT_BYTES, 0},
		{450e9, UNIT_BYTES_PER_S, 1e-4},   {3.35e12, UNIT_BYTES_PER_S, 1e-3},
		{989.4e12, UNIT_FLOPS, 1e-5},      {2.5e-3, UNIT_SECONDS, 1e-4},
		{5e-6, UNIT_SECONDS, 1e-4},        {98.32, UNIT_USD_PER_H, 1e-4},
		{700, UNIT_WATTS, 1e-3},           {4, UNIT_PER_S, 1e-4},
		{0.9, UNIT_FRACTION, 1e-3},        {8, UNIT_NONE, 1e-6},
	};
	char buf[64];
	size_t i;
	(void)state;
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		units_format(rows[i].value, rows[i].kind, buf, sizeof buf);
		check_rel(parsed(buf, rows[i].kind), rows[i].value, rows[i].rel + 1e-15);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(units_parse_takes_binary_and_decimal_prefixes),
		cmocka_unit_test(units_parse_divides_bits_per_second_by_eight),
		cmocka_unit_test(units_parse_takes_byte_rates),
		cmocka_unit_test(units_parse_takes_flops_and_integer_ops),
		cmocka_unit_test(units_parse_takes_seconds_from_nanoseconds_to_hours),
		cmocka_unit_test(units_parse_takes_prices_power_rates_and_percentages),
		cmocka_unit_test(units_parse_takes_bare_numbers_in_base_units),
		cmocka_unit_test(units_parse_ignores_spaces_around_number_and_unit),
		cmocka_unit_test(units_parse_ignores_a_trailing_newline_on_a_bare_number),
		cmocka_unit_test(units_parse_rejects_a_unit_of_the_wrong_kind),
		cmocka_unit_test(units_parse_rejects_an_unknown_unit),
		cmocka_unit_test(units_parse_rejects_text_without_a_number),
		cmocka_unit_test(units_parse_rejects_nan_inf_and_hex),
		cmocka_unit_test(units_parse_rejects_values_that_overflow_a_double),
		cmocka_unit_test(units_parse_records_the_place_and_key_it_is_given),
		cmocka_unit_test(units_kind_examples_parse_as_their_kind),
		cmocka_unit_test(units_format_picks_a_fitting_prefix),
		cmocka_unit_test(units_format_output_parses_back),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
