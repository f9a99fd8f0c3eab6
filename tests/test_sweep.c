/*
 * test_sweep: sweep specs expand to the points counted by hand, the where filter and the
 * strategy bounds cut what they say, shards are disjoint and cover the sweep, a resumed sweep
 * skips what is stored, bad specs are diagnosed at their line and column, and a swept point
 * gives the numbers `dssim FILE` gives for the same configuration.
 */
#include "check.h"

#include <gsl/gsl_errno.h>
#include <sqlite3.h>

#include "diag.h"
#include "memory.h"
#include "run.h"
#include "scenario.h"
#include "store.h"
#include "store_int.h"
#include "sweep.h"

static const char *data_dir(void)
{
	const char *d = getenv("DSSIM_DATA");
	return d && d[0] ? d : ".";
}

/* Points seen by a run: their hashes (for resume), statuses and one copy to inspect. */
struct seen {
	size_t total, skipped, n, no_fit, errors, simulated;
	char hashes[4096][17];
	char first_reason[256];
	struct store_point last;
};

static void on_total(void *ctx, size_t points, size_t skipped)
{
	struct seen *s = ctx;
	s->total += points;
	s->skipped += skipped;
}

static int on_point(void *ctx, const struct store_point *p)
{
	struct seen *s = ctx;
	if (s->n < 4096)
		memcpy(s->hashes[s->n], p->hash, 17);
	s->n++;
	if (p->status == STORE_NO_FIT)
		s->no_fit++;
	else if (p->status == STORE_ERROR)
		s->errors++;
	else
		s->simulated++;
	if (s->first_reason[0] == '\0' && p->reason[0] != '\0')
		snprintf(s->first_reason, sizeof s->first_reason, "%s", p->reason);
	s->last = *p;
	s->last.config = NULL;
	return 0;
}

static int cmp_hash(const void *a, const void *b)
{
	return strcmp(a, b);
}

static struct sweep_spec *parse_spec(const char *text, struct diag *d)
{
	char name[4096];
	snprintf(name, sizeof name, "%s/tests/sweep-test.yaml", data_dir());
	return sweep_spec_parse(name, text, strlen(text), data_dir(), d);
}

/* Run a spec (analytic unless told) and return what was seen. */
static void run(const char *text, struct sweep_slice *sl, struct seen *out)
{
	struct diag d;
	struct sweep_spec *sp;
	struct sweep_callbacks cb = {on_total, on_point, out};
	struct sweep_counts counts;
	diag_init(&d);
	sp = parse_spec(text, &d);
	if (sp == NULL)
		diag_print(&d, stderr);
	assert_non_null(sp);
	assert_int_equal(sweep_run(sp, sl, &cb, &counts, &d), 0);
	assert_int_equal(counts.done, out->n);
	sweep_spec_free(sp);
	diag_release(&d);
}

static void slice_init(struct sweep_slice *sl)
{
	memset(sl, 0, sizeof *sl);
	sl->shards = 1;
	sl->workers = 1;
	sl->analytic = true;
}

/*
 * DeepSeek-R1-Distill-Qwen-32B (64 layers, 40 heads, 8 KV heads) on one p4de.24xlarge (8 GPUs),
 * global batch 64. Bounds tp {1,2,4,8}, pp {1,2}, zero {1,3}, micro_batch {1,2}, recompute
 * full, 1F1B; offload is searched (none or cpu, optimizer and parameters), but the p4de
 * preset has no PCIe bandwidth, so only "none" is tried. By hand: (tp, pp) with tp*pp
 * dividing 8 and every tp dividing 40 heads and 8 KV heads: (1,1) (2,1) (4,1) (8,1) (1,2)
 * (2,2) (4,2) = 7. ZeRO-3 is left out with pp = 2: 4 x 2 + 3 x 1 = 11 (tp, pp, zero). Every
 * dp*mb (<= 16) divides 64, so x 2 micro-batches = 22 points.
 */
static const char *const spec_32b =
	"base: ../scenarios/32b_zero3.yaml\n"
	"axes:\n"
	"  cluster.nodes: [1]\n"
	"  strategy: {auto: true, tp: [1, 2, 4, 8], pp: [1, 2], zero: [1, 3],\n"
	"             micro_batch: [1, 2], recompute: [full], schedule: [1f1b]}\n";

static void test_strategy_auto_count(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	(void)state;
	slice_init(&sl);
	run(spec_32b, &sl, s);
	assert_int_equal(s->total, 22);
	assert_int_equal(s->n, 22);
	assert_int_equal(s->errors, 0);
	free(s);
}

/* The skips of a run, by reason (0 when the reason is absent). */
static size_t skip_count(const struct sweep_counts *n, const char *reason)
{
	size_t i;
	for (i = 0; i < n->nskips; i++)
		if (strcmp(n->skips[i].reason, reason) == 0)
			return n->skips[i].count;
	return 0;
}

/* Points by what their configuration holds. */
struct kinds {
	size_t n, fit, opt_cpu, params_cpu, acts_cpu, mb_other, zero_other;
	double best_usd;           /* cheapest fitting point, USD per million tokens */
	bool best_opt_cpu;
};

static int count_kinds(void *ctx, const struct store_point *p)
{
	struct kinds *k = ctx;
	bool opt = strstr(p->config, "\"strategy.offload.optimizer\":\"cpu\"") != NULL;
	k->n++;
	k->opt_cpu += opt;
	k->params_cpu += strstr(p->config, "\"strategy.offload.params\":\"cpu\"") != NULL;
	k->acts_cpu += strstr(p->config, "\"strategy.offload.activations\":\"cpu\"") != NULL;
	k->mb_other += p->micro_batch != 1;
	k->zero_other += p->zero != 0;
	if (p->fits && p->status == STORE_SIMULATED) {
		k->fit++;
		if (k->best_usd == 0 || p->usd_per_million_tokens < k->best_usd) {
			k->best_usd = p->usd_per_million_tokens;
			k->best_opt_cpu = opt;
		}
	}
	return 0;
}

/* Run text (analytic when told) counting point kinds into k and the skips into n. */
static void run_kinds(const char *text, bool analytic, struct kinds *k, struct sweep_counts *n)
{
	struct diag d;
	struct sweep_spec *sp;
	struct sweep_slice sl;
	struct sweep_callbacks cb = {NULL, count_kinds, k};
	diag_init(&d);
	sp = parse_spec(text, &d);
	if (sp == NULL)
		diag_print(&d, stderr);
	assert_non_null(sp);
	slice_init(&sl);
	sl.analytic = analytic;
	assert_int_equal(sweep_run(sp, &sl, &cb, n, &d), 0);
	sweep_spec_free(sp);
	diag_release(&d);
}

/*
 * The skips of spec_32b by hand: 8 (tp, pp) pairs x 2 zero x 2 micro_batch x 4 offload
 * (optimizer, parameters) = 128 configurations. (8, 2) needs 16 GPUs: 1 x 16 = 16. ZeRO-3 with
 * pp 2: 3 pairs x 2 mb x 4 = 24. Of ZeRO-1's 4 offloads, (none, cpu) and (cpu, cpu) break
 * "parameter offload needs ZeRO-3" and (cpu, none) the PCIe figure p4de lacks: 7 pairs x 2
 * mb = 14 each, 28 and 14; ZeRO-3 on pp 1 loses its three offloads to the figure: 4 x 2 x 3
 * = 24, 38 in all. 22 points + 16 + 24 + 28 + 38 = 128. Written to a database, the skips
 * table holds the same counts.
 */
static void test_skips_counted_by_reason(void **state)
{
	struct kinds k = {0};
	struct sweep_counts n;
	struct store *st;
	struct store_rows *r;
	struct diag d;
	size_t i, total = 0;
	(void)state;
	run_kinds(spec_32b, true, &k, &n);
	assert_int_equal(k.n, 22);
	assert_int_equal(k.opt_cpu + k.params_cpu, 0);
	assert_int_equal(skip_count(&n, "tp*pp*cp does not divide the GPUs"), 16);
	assert_int_equal(skip_count(&n, "ZeRO-2/3 with pp > 1 (DeepSpeed refuses it)"), 24);
	assert_int_equal(skip_count(&n, "parameter offload needs ZeRO-3"), 28);
	assert_int_equal(skip_count(&n, "no host memory or PCIe figure for offload"), 38);
	for (i = 0; i < n.nskips; i++)
		total += n.skips[i].count;
	assert_int_equal(total, 128 - 22);
	/* Most first. */
	assert_string_equal(n.skips[0].reason, "no host memory or PCIe figure for offload");

	diag_init(&d);
	st = store_open_private(&d);
	assert_non_null(st);
	assert_int_equal(store_sweep_begin(st, spec_32b, "spec", NULL, &d), 0);
	for (i = 0; i < n.nskips; i++)
		assert_int_equal(store_write_skip(st, n.skips[i].reason,
						  (int64_t)n.skips[i].count, &d), 0);
	assert_int_equal(store_query(st, "SELECT sum(count), count(*) FROM skips WHERE sweep_id = "
				     "(SELECT max(id) FROM sweeps)", NULL, 0, &r, &d), 0);
	assert_int_equal(store_cell(r, 0, 0)->i, 106);
	assert_int_equal(store_cell(r, 0, 1)->i, 4);
	store_rows_free(r);
	assert_int_equal(store_close(st, &d), 0);
	assert_int_equal(d.count, 0);
	diag_release(&d);
}

/*
 * Offload is a search axis where the node has host memory and a PCIe figure (p5.48xlarge:
 * 2048 GiB, 64 GB/s per direction). tp 8 on 8 GPUs, zero {0, 1, 3}, 4 offloads each = 12
 * configurations. ZeRO-0 keeps (none, none) only: (cpu, none) and (cpu, cpu) break
 * "optimizer offload needs ZeRO >= 1", (none, cpu) "parameter offload needs ZeRO-3"; ZeRO-1
 * keeps (none, none) and (cpu, none), and loses two to the parameter rule; ZeRO-3 keeps all
 * four. 1 + 2 + 4 = 7 points, 3 with the optimizer on the CPU, 2 with the parameters.
 */
static void test_auto_searches_offload(void **state)
{
	struct kinds k = {0};
	struct sweep_counts n;
	(void)state;
	run_kinds("base: ../scenarios/32b_zero3.yaml\n"
		  "axes:\n"
		  "  cluster.node: [p5.48xlarge]\n"
		  "  cluster.nodes: [1]\n"
		  "  strategy: {auto: true, tp: [8], pp: [1], zero: [0, 1, 3], micro_batch: [1],\n"
		  "             recompute: [full], schedule: [1f1b]}\n",
		  true, &k, &n);
	assert_int_equal(k.n, 7);
	assert_int_equal(k.opt_cpu, 3);
	assert_int_equal(k.params_cpu, 2);
	assert_int_equal(skip_count(&n, "optimizer offload needs ZeRO >= 1"), 2);
	assert_int_equal(skip_count(&n, "parameter offload needs ZeRO-3"), 3);
	assert_int_equal(n.nskips, 2);
}

/*
 * Activation offload is searched only when the bounds ask for it (not every framework has it).
 * The 32B on one p5.48xlarge (host memory and PCIe given), tp 4, pp 2, ZeRO-1, micro-batch 1,
 * full recompute, schedules 1F1B and ZB-H1, no optimizer or parameter offload, activations
 * [none, cpu]: 2 x 2 = 4 configurations, of which ZB-H1 with the activations on the host breaks
 * the one-pass-backward rule: 3 points, 1 offloading. With the default bound: 2 points, none.
 */
static void test_auto_searches_activation_offload_when_asked(void **state)
{
	static const char *const fmt =
		"base: ../scenarios/32b_zero3.yaml\n"
		"axes:\n"
		"  cluster.node: [p5.48xlarge]\n"
		"  cluster.nodes: [1]\n"
		"  strategy: {auto: true, tp: [4], pp: [2], zero: [1], micro_batch: [1],\n"
		"             recompute: [full], schedule: [1f1b, zb-h1], offload.optimizer: [none],\n"
		"             offload.params: [none]%s}\n";
	char text[1024];
	struct kinds k = {0}, plain = {0};
	struct sweep_counts n, m;
	(void)state;
	snprintf(text, sizeof text, fmt, ", offload.activations: [none, cpu]");
	run_kinds(text, true, &k, &n);
	assert_int_equal(k.n, 3);
	assert_int_equal(k.acts_cpu, 1);
	assert_int_equal(skip_count(&n, "activation offload needs a one-pass backward (not "
				       "zero-bubble or DualPipe)"), 1);
	snprintf(text, sizeof text, fmt, "");
	run_kinds(text, true, &plain, &m);
	assert_int_equal(plain.n, 2);
	assert_int_equal(plain.acts_cpu, 0);
}

/*
 * Offload chosen where it is cheaper: 32B (32.8e9 parameters) on 4 GPUs of a p5.48xlarge
 * (80 GiB = 85.9 GB each), tp 1, ZeRO-3 over dp 4. Without optimizer offload a GPU holds
 * (2 + 2 + 12) bytes x 32.8e9 / 4 = 131 GB of weights, gradients and Adam states (Rajbhandari
 * et al. 2020, section 3.1): it cannot fit, with or without parameter offload (which moves
 * only the 16 GB of weights). With the optimizer on the host, 32 GB stay: it fits. So of the
 * 4 points the 2 with the optimizer offloaded are the only ones that fit, and the cheapest
 * fitting point of the search is one of them; before offload was an axis this group had no
 * fitting strategy at all.
 */
static void test_auto_chooses_offload_where_it_fits(void **state)
{
	struct kinds k = {0};
	struct sweep_counts n;
	(void)state;
	run_kinds("base: ../scenarios/32b_zero3.yaml\n"
		  "axes:\n"
		  "  cluster.node: [p5.48xlarge]\n"
		  "  cluster.nodes: [1]\n"
		  "  cluster.gpus: [4]\n"
		  "  strategy: {auto: true, tp: [1], pp: [1], zero: [3], micro_batch: [1],\n"
		  "             recompute: [full], schedule: [1f1b]}\n",
		  false, &k, &n);
	assert_int_equal(k.n, 4);
	assert_int_equal(k.fit, 2);
	assert_true(k.best_usd > 0);
	assert_true(k.best_opt_cpu);
}

/*
 * The default schedules of strategy: auto on 16 GPUs, tp 8, pp {1, 2}, ZeRO-1, micro-batch 1,
 * offload none: pp 1 (dp 2) runs 1F1B only, the interleaved, ZB-H1, ZB-V and DualPipe schedules
 * needing pp > 1; pp 2 (dp 1, 64 micro-batches, 64 layers) runs all five (interleaving's
 * 64 % 2 = 0 micro-batches and 64 % 4 layers; ZB-V's 64 % 4; DualPipe's even pp and 64 >= 4
 * micro-batches). 6 points, 3 skipped for the zero-bubble and DualPipe rule.
 */
static void test_auto_tries_zero_bubble_and_dualpipe(void **state)
{
	struct kinds k;
	struct sweep_counts n;
	(void)state;
	memset(&k, 0, sizeof k);
	run_kinds("base: ../scenarios/32b_zero3.yaml\n"
		  "axes:\n"
		  "  cluster.nodes: [2]\n"
		  "  strategy: {auto: true, tp: [8], pp: [1, 2], zero: [1], micro_batch: [1],\n"
		  "             recompute: [full], offload.optimizer: [none],\n"
		  "             offload.params: [none]}\n",
		  true, &k, &n);
	assert_int_equal(k.n, 6);
	assert_int_equal(skip_count(&n, "zero-bubble and DualPipe schedules need pp > 1"), 3);
	assert_int_equal(skip_count(&n, "interleaved schedule needs pp > 1"), 1);
}

/*
 * Serving is searched over what changes a serving run only. Llama-3-70B (80 layers, 64 heads,
 * 8 KV heads) on one p5.48xlarge, the default candidates: tp {1, 2, 4, 8} x pp 1..64 = 256
 * configurations (cp 1, ep 1 for a dense model). tp*pp divides 8 GPUs for (1, 1) (1, 2) (1, 4)
 * (1, 8) (2, 1) (2, 2) (2, 4) (4, 1) (4, 2) (8, 1) = 10 points; 246 are left out. No point
 * varies ZeRO or micro_batch (the base's micro-batch of 1 and ZeRO-0 on every point): without
 * this the 4 micro-batches alone made 40 points of the same 10 serving runs.
 */
static void test_serving_auto_has_no_training_axes(void **state)
{
	struct kinds k = {0};
	struct sweep_counts n;
	(void)state;
	run_kinds("base: ../scenarios/llama3_70b_serving.yaml\n"
		  "axes:\n"
		  "  cluster.nodes: [1]\n"
		  "  strategy: auto\n",
		  true, &k, &n);
	assert_int_equal(k.n, 10);
	assert_int_equal(k.mb_other, 0);
	assert_int_equal(k.zero_other, 0);
	assert_int_equal(k.opt_cpu + k.params_cpu, 0);
	assert_int_equal(n.nskips, 1);
	assert_int_equal(skip_count(&n, "tp*pp*cp does not divide the GPUs"), 246);
}

/*
 * A serving point whose weights fit but whose KV cache cannot hold one sequence is a misfit
 * (memory.c infer_fit: the engine would not start), not an error. Llama-3-70B at tp 4 on
 * A100s cut to 36 GiB: the weights alone are 70.6e9 x 2 bytes / 4 = 32.9 GiB per GPU, the
 * screen's peak stays under the 36 GiB, and what is left after the engine's reserve holds no
 * sequence of 8192 tokens.
 */
static void test_kv_misfit_is_not_an_error(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	(void)state;
	slice_init(&sl);
	run("base: ../scenarios/llama3_70b_serving.yaml\n"
	    "axes:\n"
	    "  workload.seq_len: [8192]\n"
	    "  cluster.node: [p4d.24xlarge]\n"
	    "  cluster.gpus: [4]\n"
	    "  strategy.tp: [4]\n"
	    "  cluster.node.gpu.memory: [36 GiB]\n",
	    &sl, s);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->no_fit, 1);
	assert_int_equal(s->errors, 0);
	assert_false(s->last.fits);
	assert_true(s->last.analytic_peak <= s->last.capacity);
	assert_true(s->last.analytic_peak > 32.9 * 1073741824.0);
	assert_string_equal(s->first_reason, "KV cache cannot hold one sequence: 8192 tokens");
	free(s);
}

/* where tp <= 4 removes the tp 8 points: pp 1 only, 2 ZeRO stages x 2 micro-batches = 4. */
static void test_where_filters(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	char spec[1024];
	(void)state;
	snprintf(spec, sizeof spec, "%swhere: \"tp <= 4 && !(recompute != 'full')\"\n", spec_32b);
	slice_init(&sl);
	run(spec, &sl, s);
	assert_int_equal(s->n, 18);
	free(s);
}

/* Axes multiply: nodes {range: [2, 4], step: 2} (2 and 4) x node type [p4de, p5] with a fixed
 * strategy is 4 groups; log2 [1, 8] is 1, 2, 4, 8. tp 1 and dp derived (0): dp is the GPU
 * count, 8 to 64, and each divides the global batch of 64, so every group loads. */
static void test_axes_product(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	(void)state;
	slice_init(&sl);
	run("base: ../scenarios/32b_zero3.yaml\n"
	    "axes:\n"
	    "  cluster.node: [p4de.24xlarge, p5.48xlarge]\n"
	    "  cluster.nodes: {range: [2, 4], step: 2}\n"
	    "  strategy.dp: [0]\n",
	    &sl, s);
	assert_int_equal(s->n, 4);
	assert_int_equal(s->errors, 0);
	memset(s, 0, sizeof *s);
	run("base: ../scenarios/32b_zero3.yaml\n"
	    "axes:\n"
	    "  cluster.nodes: {log2: [1, 8]}\n"
	    "  strategy.dp: [0]\n",
	    &sl, s);
	assert_int_equal(s->n, 4);
	/* The last group is 8 nodes: 64 GPUs, dp 64 with tp = pp = 1. */
	assert_int_equal(s->last.gpus, 64);
	assert_int_equal(s->last.dp, 64);
	free(s);
}

/* A group that does not load is one error point with the loader's message; the sweep goes on. */
static void test_group_error(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	(void)state;
	slice_init(&sl);
	run("base: ../scenarios/32b_zero3.yaml\n"
	    "axes:\n"
	    "  cluster.nodes: [2, 3]\n",
	    &sl, s);
	/* 3 nodes = 24 GPUs, but the base fixes dp 16: the loader refuses it. */
	assert_int_equal(s->n, 2);
	assert_int_equal(s->errors, 1);
	assert_non_null(strstr(s->first_reason, "strategy.dp"));
	free(s);
}

/* 3 GPUs with tp in {1, 2, 4, 8} and pp in {1, 2}: only tp 1, pp 1 divides 3 GPUs, giving dp 3,
 * and the global batch of 64 does not split over dp 3: no valid strategy. One error point names
 * the model and node, and says which counts did not divide. */
static void test_no_strategy_point(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	(void)state;
	slice_init(&sl);
	run("base: ../scenarios/32b_zero3.yaml\n"
	    "axes:\n"
	    "  cluster.nodes: [1]\n"
	    "  cluster.gpus: [3]\n"
	    "  strategy: {auto: true, tp: [1, 2, 4, 8], pp: [1, 2], micro_batch: [1]}\n",
	    &sl, s);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->errors, 1);
	assert_non_null(strstr(s->first_reason, "no strategy passes the divisibility rules"));
	assert_non_null(strstr(s->first_reason, "3 GPUs"));
	assert_string_equal(s->last.node, "p4de.24xlarge");
	assert_string_equal(s->last.mode, "train");
	free(s);
}

/* Every point's configuration holds both uneven-split keys with the values the test expects. */
struct split_seen {
	size_t n, uneven;
	const char *first, *last;
};

static int check_split(void *ctx, const struct store_point *p)
{
	struct split_seen *s = ctx;
	s->n++;
	if (p->config != NULL && strstr(p->config, s->first) != NULL &&
	    strstr(p->config, s->last) != NULL)
		s->uneven++;
	return 0;
}

/*
 * 64 layers on pp 3 do not split evenly. The search keeps pp 3 with the remainder on the first
 * and last stages, the Megatron way: the middle stage takes ceil(64/3) = 22, the first and last
 * (64 - 22)/2 = 21 each. On 6 GPUs with tp {1, 2} (both divide 40 heads and 8 KV heads), pp 3,
 * ZeRO-1, micro-batch 1: dp 2 and dp 1, 2 points, each with first and last 21.
 */
static void test_auto_splits_layers_unevenly(void **state)
{
	struct diag d;
	struct sweep_spec *sp;
	struct sweep_slice sl;
	struct sweep_counts counts;
	struct split_seen seen = {0, 0, "\"strategy.first_stage_layers\":21",
				  "\"strategy.last_stage_layers\":21"};
	struct sweep_callbacks cb = {NULL, check_split, &seen};
	(void)state;
	diag_init(&d);
	sp = parse_spec("base: ../scenarios/32b_zero3.yaml\n"
			"axes:\n"
			"  cluster.nodes: [1]\n"
			"  cluster.gpus: [6]\n"
			"  strategy: {auto: true, tp: [1, 2], pp: [3], zero: [1], micro_batch: [1],\n"
			"             recompute: [full], schedule: [1f1b]}\n", &d);
	assert_non_null(sp);
	slice_init(&sl);
	assert_int_equal(sweep_run(sp, &sl, &cb, &counts, &d), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.uneven, 2);
	sweep_spec_free(sp);
	diag_release(&d);
}

/* Shards split the points disjointly and together cover them all. */
static void test_shards(void **state)
{
	struct sweep_slice sl;
	struct seen *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	size_t i;
	(void)state;
	slice_init(&sl);
	sl.shards = 2;
	sl.shard = 0;
	run(spec_32b, &sl, a);
	sl.shard = 1;
	run(spec_32b, &sl, b);
	assert_int_equal(a->n + b->n, 22);
	assert_int_equal(a->n, 11);
	for (i = 0; i < a->n; i++) {
		size_t k;
		for (k = 0; k < b->n; k++)
			assert_string_not_equal(a->hashes[i], b->hashes[k]);
	}
	free(a);
	free(b);
}

/* A second run told the first run's hashes evaluates nothing and reports them skipped: of the
 * 22 points, told the 17 smallest hashes, it runs exactly the other 5. */
static void test_resume_skips(void **state)
{
	struct sweep_slice sl;
	struct seen *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	size_t i;
	(void)state;
	slice_init(&sl);
	run(spec_32b, &sl, a);
	assert_int_equal(a->n, 22);
	qsort(a->hashes, a->n, sizeof a->hashes[0], cmp_hash);
	sl.skip = (const char(*)[17])a->hashes;
	sl.nskip = a->n - 5; /* all but the 5 largest hashes */
	run(spec_32b, &sl, b);
	assert_int_equal(b->n, 5);
	assert_int_equal(b->skipped, 17);
	qsort(b->hashes, b->n, sizeof b->hashes[0], cmp_hash);
	for (i = 0; i < 5; i++)
		assert_string_equal(b->hashes[i], a->hashes[a->n - 5 + i]);
	free(a);
	free(b);
}

/* One sweep's points all have distinct hashes: the configuration decides the key. */
static void test_hashes_distinct(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	size_t i;
	(void)state;
	slice_init(&sl);
	run(spec_32b, &sl, s);
	qsort(s->hashes, s->n, sizeof s->hashes[0], cmp_hash);
	for (i = 1; i < s->n; i++)
		assert_string_not_equal(s->hashes[i - 1], s->hashes[i]);
	free(s);
}

static int put_point(void *ctx, const struct store_point *p)
{
	struct diag d;
	int rc;
	diag_init(&d);
	rc = store_put(ctx, p, &d);
	diag_print(&d, stderr);
	diag_release(&d);
	return rc;
}

/* The database stores each group's shared keys once, yet v_points gives back every point's
 * whole canonical config, and the hash of that text is the point's hash (the resume key). */
static void test_stored_config_is_canonical(void **state)
{
	struct diag d;
	struct sweep_spec *sp;
	struct sweep_slice sl;
	struct sweep_counts counts;
	struct store *st;
	sqlite3_stmt *q;
	int rows = 0;
	(void)state;
	diag_init(&d);
	st = store_open_private(&d);
	assert_non_null(st);
	assert_int_equal(store_sweep_begin(st, "", "test", NULL, &d), 0);
	{
		struct sweep_callbacks cb = {NULL, put_point, st};
		sp = parse_spec(spec_32b, &d);
		assert_non_null(sp);
		slice_init(&sl);
		assert_int_equal(sweep_run(sp, &sl, &cb, &counts, &d), 0);
		sweep_spec_free(sp);
	}
	assert_int_equal(store_commit(st, &d), 0);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT config, hash FROM v_points", -1,
					    &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		char hash[17];
		store_hash((const char *)sqlite3_column_text(q, 0), hash);
		assert_string_equal(hash, (const char *)sqlite3_column_text(q, 1));
		assert_non_null(strstr((const char *)sqlite3_column_text(q, 0), "\"strategy.tp\":"));
		rows++;
	}
	sqlite3_finalize(q);
	assert_int_equal(rows, 22);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), "SELECT count(*) FROM configs", -1, &q,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1); /* one group */
	sqlite3_finalize(q);
	assert_int_equal(store_close(st, &d), 0);
	assert_int_equal(d.count, 0);
	diag_release(&d);
}

/*
 * The analytic screen: without offload, tp 1 ZeRO-1 32B on 8 A100-80GB holds weights, gradients
 * and its eighth of the optimizer: 2 + 2 + 12/8 = 5.5 bytes per parameter. Qwen2.5-32B (64
 * layers, h 5120, KV 1024, ffn 27648, vocab 152064) has per layer 2 x 5120^2 (Q, O) +
 * 2 x 5120 x 1024 (K, V) + 7168 QKV biases + 3 x 5120 x 27648 (SwiGLU) + 2 x 5120 (norms) =
 * 487,605,248; x 64 = 31,206,735,872, + 2 x 152064 x 5120 (untied embedding and head) + 5120
 * (final norm) = 32,763,876,352 parameters. 5.5 x 32,763,876,352 = 180.2e9 bytes = 167.8 GiB
 * per GPU, over the 80 GiB: it cannot fit, and the reason says device memory.
 */
static void test_screen_reason(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	(void)state;
	slice_init(&sl);
	run("base: ../scenarios/32b_zero3.yaml\n"
	    "axes:\n"
	    "  strategy.offload.optimizer: [none]\n"
	    "  cluster.nodes: [1]\n"
	    "  strategy: {auto: true, tp: [1], pp: [1], zero: [1], micro_batch: [1],\n"
	    "             recompute: [full], schedule: [1f1b]}\n",
	    &sl, s);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->no_fit, 1);
	assert_false(s->last.fits);
	assert_non_null(strstr(s->first_reason, "device memory"));
	check_rel(s->last.mem[MEMORY_WEIGHTS] + s->last.mem[MEMORY_GRADIENTS] +
		  s->last.mem[MEMORY_OPTIMIZER], 5.5 * 32763876352.0, 1e-12);
	assert_true(s->last.analytic_peak > s->last.capacity);
	free(s);
}

/* A swept point is simulated exactly as `dssim FILE` simulates it: same step time, bit for bit. */
static void test_point_matches_dssim(void **state)
{
	struct sweep_slice sl;
	struct seen *s = calloc(1, sizeof *s);
	struct scenario_options opt;
	struct diag d;
	struct scenario *sc;
	struct run_result rr;
	const struct result *r = &rr.step;
	char path[4096];
	(void)state;
	slice_init(&sl);
	sl.analytic = false;
	run("base: ../scenarios/32b_zero3.yaml\n"
	    "axes:\n"
	    "  workload.seq_len: [4096]\n",
	    &sl, s);
	assert_int_equal(s->simulated, 1);
	snprintf(path, sizeof path, "%s/scenarios/32b_zero3.yaml", data_dir());
	memset(&opt, 0, sizeof opt);
	diag_init(&d);
	sc = scenario_load(path, &opt, &d);
	assert_non_null(sc);
	/* dssim FILE's path: run_scenario without options. */
	assert_int_equal(run_scenario(sc, NULL, &rr, &d), 0);
	assert_int_equal(rr.outcome, RUN_SIMULATED);
	assert_true(s->last.step_s == r->step_s);
	assert_true(s->last.tokens_per_s == r->tokens_per_s);
	assert_true(s->last.mfu == r->mfu);
	/* 2 p4de.24xlarge nodes at the preset's price. */
	check_rel(s->last.usd_per_hour, 2 * sc->cluster.node.price, 1e-12);
	check_rel(s->last.usd_per_million_tokens,
		  2 * sc->cluster.node.price / 3600 / r->tokens_per_s * 1e6, 1e-12);
	run_result_release(&rr);
	scenario_free(sc);
	diag_release(&d);
	free(s);
}

/* Bad specs: the message names the key and points at its line and column. */
static void expect_error(const char *text, int line, int col, const char *key,
			 const char *message)
{
	struct diag d;
	struct sweep_spec *sp;
	size_t i;
	bool found = false;
	diag_init(&d);
	sp = parse_spec(text, &d);
	assert_null(sp);
	for (i = 0; i < d.count; i++) {
		const struct diag_item *it = &d.items[i];
		if (it->at.line == line && it->at.col == col &&
		    (key == NULL || (it->key && strcmp(it->key, key) == 0)) &&
		    strstr(it->message, message) != NULL)
			found = true;
	}
	if (!found)
		diag_print(&d, stderr);
	assert_true(found);
	diag_release(&d);
}

/*
 * An axis of n values takes memory linear in n (issue 12: the array grew by one copy per value,
 * so 20,000 values took 2.3 GB). Each value costs its pointer (8 bytes, doubled at most by the
 * growth: 16) and its text ("20000\0" padded to the 16-byte alignment: 16), so 20,000 values
 * need about 20,000 x 32 = 640 kB over what one value needs; 2 MB bounds it with room for the
 * arena's 64 kB chunks, and the old growth (sum of 8 i bytes, about 1.6 GB) is far above it.
 */
static void test_axis_memory_is_linear(void **state)
{
	struct diag d;
	struct sweep_spec *one, *many;
	size_t base;
	(void)state;
	diag_init(&d);
	one = parse_spec("base: ../scenarios/32b_zero3.yaml\n"
			 "axes: {workload.seq_len: {range: [1, 1]}}\n", &d);
	many = parse_spec("base: ../scenarios/32b_zero3.yaml\n"
			  "axes: {workload.seq_len: {range: [1, 20000]}}\n", &d);
	if (one == NULL || many == NULL)
		diag_print(&d, stderr);
	assert_non_null(one);
	assert_non_null(many);
	assert_int_equal(sweep_spec_groups(many), 20000);
	base = sweep_spec_bytes(one);
	assert_true(sweep_spec_bytes(many) - base < 2000000);
	sweep_spec_free(one);
	sweep_spec_free(many);
	diag_release(&d);
}

static void test_bad_specs(void **state)
{
	(void)state;
	expect_error("base: ../scenarios/32b_zero3.yaml\naxes:\n  strategy.tq: [1]\n", 3, 3,
		     "strategy.tq", "not a scenario key");
	expect_error("base: ../scenarios/32b_zero3.yaml\nwhere: \"tq <= 2\"\n", 2, 8, "where",
		     "unknown name 'tq'");
	expect_error("base: ../scenarios/32b_zero3.yaml\nwhere: \"tp <= \"\n", 2, 8, "where",
		     "not an expression");
	/* where: null was SQL's null, false for every point: nothing was swept. */
	expect_error("base: ../scenarios/32b_zero3.yaml\nwhere: null\n", 2, 8, "where",
		     "empty: remove the key");
	expect_error("base: ../scenarios/32b_zero3.yaml\naxes:\n  cluster.nodes: {range: [4, 1]}\n",
		     3, 26, "cluster.nodes", "lo <= hi");
	expect_error("axes:\n  cluster.nodes: [1]\n", 1, 1, "base", "missing required key");
	expect_error("base: ../scenarios/32b_zero3.yaml\naxes:\n  strategy: {auto: true, tq: [1]}\n",
		     3, 26, "tq", "unknown strategy bound");
	expect_error("base: ../scenarios/32b_zero3.yaml\naxes:\n  strategy: {auto: true, "
		     "recompute: [most]}\n", 3, 38, "recompute", "strategy.recompute");
	/* Found by fuzz_sweep: a bound outside its key's range reached a division by zero. */
	expect_error("base: ../scenarios/32b_zero3.yaml\naxes:\n  strategy: {auto: true, "
		     "micro_batch: [0]}\n", 3, 40, "micro_batch", "expected 1 to 1048576");
	expect_error("base: no-such-file.yaml\n", 1, 7, "base", "did not load");
	expect_error("base: ../scenarios/32b_zero3.yaml\nsteps: 3\n", 2, 1, "steps", "unknown key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strategy_auto_count),
		cmocka_unit_test(test_skips_counted_by_reason),
		cmocka_unit_test(test_auto_searches_offload),
		cmocka_unit_test(test_auto_searches_activation_offload_when_asked),
		cmocka_unit_test(test_auto_chooses_offload_where_it_fits),
		cmocka_unit_test(test_auto_tries_zero_bubble_and_dualpipe),
		cmocka_unit_test(test_serving_auto_has_no_training_axes),
		cmocka_unit_test(test_kv_misfit_is_not_an_error),
		cmocka_unit_test(test_auto_splits_layers_unevenly),
		cmocka_unit_test(test_where_filters),
		cmocka_unit_test(test_axes_product),
		cmocka_unit_test(test_group_error),
		cmocka_unit_test(test_no_strategy_point),
		cmocka_unit_test(test_shards),
		cmocka_unit_test(test_resume_skips),
		cmocka_unit_test(test_hashes_distinct),
		cmocka_unit_test(test_stored_config_is_canonical),
		cmocka_unit_test(test_screen_reason),
		cmocka_unit_test(test_point_matches_dssim),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_axis_memory_is_linear),
	};
	gsl_set_error_handler_off();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
