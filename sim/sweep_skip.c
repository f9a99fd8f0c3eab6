/*
 * sweep_skip: what strategy: auto leaves out and why. The rules of the search itself (GPU
 * counts, ZeRO with pipelines, offload's ZeRO stage and hardware figures), the loader's
 * refusals as shared reasons, and the count per reason that sweep_run returns. Part of sweep
 * (see sweep_int.h).
 */
#include "sweep_int.h"

#include <stdio.h>
#include <string.h>

/* Count count configurations left out for reason (a short phrase, the same for every
 * configuration that breaks the same rule); its slot. */
static size_t skip_add(struct sweep_counts *n, const char *reason, size_t count)
{
	size_t i;
	for (i = 0; i < n->nskips; i++)
		if (strcmp(n->skips[i].reason, reason) == 0) {
			n->skips[i].count += count;
			return i;
		}
	if (n->nskips == SWEEP_SKIP_REASONS) {
		i = SWEEP_SKIP_REASONS - 1;
		snprintf(n->skips[i].reason, sizeof n->skips[i].reason, "other");
		n->skips[i].rule = NULL;
		n->skips[i].count += count;
		return i;
	}
	snprintf(n->skips[n->nskips].reason, sizeof n->skips[n->nskips].reason, "%s", reason);
	n->skips[n->nskips].rule = NULL;
	n->skips[n->nskips].count = count;
	return n->nskips++;
}

void sweep_skip_add(struct sweep_counts *n, const char *reason)
{
	skip_add(n, reason, 1);
}

/* The same for a string literal (sweep_skip_rule's, a caller's constant), count times at
 * once: the slot it was last counted in is found by its address, without comparing text, for
 * every configuration after the first. A slot that became "other" forgets its literal. */
void sweep_skip_add_rule(struct sweep_counts *n, const char *rule, size_t count)
{
	size_t i;
	if (count == 0)
		return;
	for (i = 0; i < n->nskips; i++)
		if (n->skips[i].rule == rule) {
			n->skips[i].count += count;
			return;
		}
	i = skip_add(n, rule, count);
	if (strcmp(n->skips[i].reason, rule) == 0)
		n->skips[i].rule = rule;
}

/* The loader's refusal as a reason shared by every configuration it refuses alike: the rule,
 * by the key it names, without the numbers of one configuration. */
void sweep_skip_reason(const struct diag_item *it, char *buf, size_t size)
{
	static const struct {
		const char *key, *reason;
	} rules[] = {
		{"strategy.tp", "tp does not divide the heads or KV heads"},
		{"strategy.pp", "pp*vp does not divide the layers"},
		{"strategy.vp", "vp does not divide a stage's layers"},
		{"strategy.ep", "ep does not divide the experts (or tp, or dp*cp)"},
		{"strategy.cp", "cp does not divide seq_len"},
		{"workload.global_batch", "micro_batch*dp does not divide global_batch"},
	};
	size_t i, j = 0;
	const char *m;
	for (i = 0; it->key && i < sizeof rules / sizeof rules[0]; i++)
		if (strcmp(it->key, rules[i].key) == 0) {
			snprintf(buf, size, "%s", rules[i].reason);
			return;
		}
	/* Another rule: its message with each number as N. */
	j = (size_t)snprintf(buf, size, "%s: ", it->key ? it->key : "strategy");
	for (m = it->message; *m && j + 2 < size; m++) {
		if (*m >= '0' && *m <= '9') {
			if (j == 0 || buf[j - 1] != 'N')
				buf[j++] = 'N';
			continue;
		}
		buf[j++] = *m;
	}
	buf[j < size ? j : size - 1] = '\0';
}

/* The rules of sweep_skip_rule that read only tp, pp and cp. */
const char *sweep_skip_gpus(const struct scenario *s, int64_t tp, int64_t pp, int64_t cp)
{
	int64_t mp = tp * pp * cp;
	if (tp > s->cluster.node.gpus_per_node)
		return "tp exceeds the GPUs of a node";
	if (mp > s->cluster.gpus || s->cluster.gpus % mp != 0)
		return "tp*pp*cp does not divide the GPUs";
	return NULL;
}

/* The first rule of the search a configuration breaks before the loader sees it, or NULL.
 * ZeRO-2 and -3 are left out with pipeline parallelism, as DeepSpeed refuses them
 * (runtime/pipe/engine.py: "ZeRO-2 and ZeRO-3 are incompatible with pipeline parallelism");
 * interleaving needs pp > 1; DeepSpeed offloads optimizer states from ZeRO stage 1 up
 * (ZeRO-Offload, Ren et al. 2021) and parameters only at stage 3 (ZeRO-Infinity, Rajbhandari
 * et al. 2021; deepspeed.ai/docs/config-json, offload_param), as the loader checks too; and
 * offload is modelled only on a node whose preset gives host memory and a PCIe bandwidth
 * (without one the transfers would cost nothing); activation offload needs a backward of one
 * pass (scenario_check.c). */
const char *sweep_skip_rule(const struct scenario *s, const struct strategy *g, bool train)
{
	bool offload = g->offload.optimizer == OFFLOAD_CPU || g->offload.params == OFFLOAD_CPU ||
		       g->offload.activations == OFFLOAD_CPU;
	const char *why = sweep_skip_gpus(s, g->tp, g->pp, g->cp);
	if (why != NULL)
		return why;
	if (train && g->pp > 1 && g->zero >= 2)
		return "ZeRO-2/3 with pp > 1 (DeepSpeed refuses it)";
	if (g->schedule == SCHEDULE_INTERLEAVED && g->pp == 1)
		return "interleaved schedule needs pp > 1";
	if (strategy_splits_backward(g) && g->pp == 1)
		return "zero-bubble and DualPipe schedules need pp > 1";
	if (train && g->offload.optimizer == OFFLOAD_CPU && g->zero == 0)
		return "optimizer offload needs ZeRO >= 1";
	if (train && g->offload.params == OFFLOAD_CPU && g->zero != 3)
		return "parameter offload needs ZeRO-3";
	if (train && g->offload.activations == OFFLOAD_CPU && strategy_splits_backward(g))
		return "activation offload needs a one-pass backward (not zero-bubble or DualPipe)";
	if (train && offload && !(s->cluster.node.host_memory > 0 && s->cluster.node.pcie.bw > 0))
		return "no host memory or PCIe figure for offload";
	return NULL;
}

/* The reasons, most configurations first; ties keep the order they were first met in (an
 * insertion sort: stable, and there are at most SWEEP_SKIP_REASONS). */
void sweep_skip_sort(struct sweep_counts *n)
{
	size_t i, j;
	for (i = 1; i < n->nskips; i++) {
		struct sweep_skip t = n->skips[i];
		for (j = i; j > 0 && n->skips[j - 1].count < t.count; j--)
			n->skips[j] = n->skips[j - 1];
		n->skips[j] = t;
	}
}
