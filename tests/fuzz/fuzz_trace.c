/*
 * fuzz_trace: libFuzzer target for request-trace CSV files (workload.arrival.trace). The input
 * is the CSV; it is written to a temporary file that a small inference scenario names, and the
 * requests are drawn from it as `dssim FILE` does. Whatever the bytes: requests or diagnostics
 * at a line and column, no crash, no sanitizer report, no leak.
 */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "fuzz.h"
#include "requests.h"
#include "scenario.h"
#include "xalloc.h"
#include "yamltree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/dssim-fuzz-trace-XXXXXX";
	struct arena *a = arena_new();
	struct scenario_options opt;
	struct request_stream rs;
	struct scenario *s;
	struct ynode *top;
	struct diag d;
	const char *yaml;
	int fd = mkstemp(path);
	gsl_set_error_handler_off();
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size)) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		arena_free(a);
		return 0;
	}
	close(fd);
	diag_init(&d);
	memset(&opt, 0, sizeof opt);
	opt.data_dir = fuzz_data_dir();
	yaml = arena_printf(a, "name: fuzz\nmodel: deepseek-r1-distill-qwen-14b\n"
			       "cluster: {node: p4de.24xlarge, gpus: 1}\n"
			       "workload: {mode: infer, seq_len: 4096,\n"
			       "  arrival: {process: trace, trace: \"%s\"}}\n", path);
	top = yamltree_parse(a, "fuzz-trace.yaml", yaml, strlen(yaml), &d);
	s = top ? scenario_load_tree(top, "fuzz-trace.yaml", &opt, &d) : NULL;
	if (s != NULL && requests_build(s, &rs, &d) == 0)
		requests_release(&rs);
	scenario_free(s);
	fuzz_format_all(&d);
	diag_release(&d);
	unlink(path);
	arena_free(a);
	return 0;
}
