/*
 * hfconfig: HuggingFace config.json -> a model mapping in dssim's keys, every value keeping the
 * line and column of the HF key it came from. Input stage; sees YAML trees only (JSON is YAML).
 * Supported model_type: llama, qwen2, qwen3, qwen3_moe, mistral, mixtral, deepseek_v2,
 * deepseek_v3, gemma2, gemma3, gemma3_text, llama4, llama4_text, phi3, gpt2, opt.
 */
#ifndef DSSIM_HFCONFIG_H
#define DSSIM_HFCONFIG_H

#include <stdbool.h>

#include "diag.h"
#include "xalloc.h"
#include "yamltree.h"

/* Whether a parsed document looks like a HuggingFace config (a mapping with model_type). */
bool hfconfig_is_hf(const struct ynode *root);

/*
 * Build the model mapping. name is used when the config carries no name. Returns NULL with a
 * diagnostic for an unsupported model_type or a missing required field.
 */
struct ynode *hfconfig_convert(struct arena *a, const struct ynode *hf, const char *name,
			       struct diag *d);

#endif
