/*
 * fuzz_hfconfig: libFuzzer target for the HuggingFace config.json import. The input is a
 * config.json; a HuggingFace config is converted to a model mapping, which then becomes the
 * model of a training and of a serving scenario, each loaded and given its memory breakdown, so
 * imported values reach the schema checks and the model's parameter count as a user's would.
 * Whatever the bytes: a scenario or diagnostics, no crash, no sanitizer report, no leak.
 */
#include <gsl/gsl_errno.h>
#include <string.h>

#include "diag.h"
#include "fuzz.h"
#include "hfconfig.h"
#include "memory.h"
#include "scenario.h"
#include "xalloc.h"
#include "yamltree.h"

/*
 * What the imported model runs. Training with ZeRO-3 and no model parallelism on 16 GPUs, so any
 * head or layer count divides; serving on one GPU, where most models misfit and the advice search
 * runs. seq_len 1024 is within GPT-2's learned positions, the smallest of the supported families.
 */
static const char *const bases[] = {
	"cluster: {node: p4de.24xlarge, nodes: 2}\n"
	"workload: {mode: train, seq_len: 1024, global_batch: 32, micro_batch: 1}\n"
	"strategy: {zero: 3, recompute: selective}\n",
	"cluster: {node: p5.48xlarge, gpus: 1}\n"
	"workload: {mode: infer, seq_len: 1024, micro_batch: 8}\n",
};

/* Load bases[i] with the imported model, with diagnostics of its own as main() has: the loader
 * tells failure by the count growing, and a repeat of an earlier diagnostic is not added. The
 * scenario copies the tree; its strings stay in a. */
static void run_base(struct arena *a, struct ynode *model, size_t i)
{
	const char *file = arena_printf(a, "%s/fuzz-base-%zu.yaml", fuzz_data_dir(), i);
	struct scenario_options opt;
	struct diag d;
	struct ynode *top;
	diag_init(&d);
	top = yamltree_parse(a, file, bases[i], strlen(bases[i]), &d);
	if (top != NULL) {
		yamltree_map_set(a, top, "model", top->at, model);
		memset(&opt, 0, sizeof opt);
		opt.data_dir = fuzz_data_dir();
		fuzz_load(top, file, &opt, &d);
	}
	fuzz_format_all(&d);
	diag_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer may pass NULL for the empty input; the library wants a pointer. */
	const char *text = size > 0 ? (const char *)data : "";
	struct arena *a = arena_new();
	struct diag d;
	struct ynode *hf, *model;
	size_t i;

	/* As main() does: a GSL failure in the memory search is a status, not an abort. */
	gsl_set_error_handler_off();
	diag_init(&d);
	hf = yamltree_parse(a, "fuzz/config.json", text, size, &d);
	/* The loader sends only a config with model_type to the import; so does the target. */
	model = hf != NULL && hfconfig_is_hf(hf) ? hfconfig_convert(a, hf, "fuzz", &d) : NULL;
	for (i = 0; model != NULL && i < sizeof bases / sizeof bases[0]; i++)
		run_base(a, model, i);
	fuzz_format_all(&d);
	diag_release(&d);
	arena_free(a);
	return 0;
}
