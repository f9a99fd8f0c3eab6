/*
 * collective: NCCL's bandwidth/latency model. Domain stage.
 * Per-rank traffic (NCCL, nccl-tests doc/PERFORMANCE.md, "bus bandwidth"): ring all-reduce moves
 * 2(n-1)/n of the buffer through each rank, all-gather and reduce-scatter (n-1)/n, broadcast
 * all of it. Across nodes NCCL splits the ring hierarchically: each GPU carries 1/k of the
 * buffer (k GPUs per node) over its share of the node's NICs.
 *
 * Time by message size. nccl-tests defines busbw = algbw * 2(n-1)/n for all-reduce, algbw = S/t
 * (S the buffer, t the measured time), so t = 2(n-1)/n * S / busbw: the per-rank bytes above
 * over the bus bandwidth. A node preset gives, per class of link, the all_reduce_perf busbw over
 * the link's rate at measured sizes (links.<class>.busbw_bytes / busbw_fraction); a phase of a
 * collective of S bytes then takes its per-rank bytes / (rate * fraction(S)). The measured time
 * already holds the launch and per-step latency and NCCL's choice of algorithm and protocol
 * (tree or ring; LL, LL128, Simple), so no latency is added on top, and none of the per-hop
 * `latency` keys is used for these collectives. The curve is interpolated linearly in
 * log(fraction) over log(size) (a power law between measured sizes; the time is flat below the
 * smallest, where busbw grows as S) and capped: at `efficiency` when that is set (the fraction
 * large messages of every collective reach: an NVLS all-reduce curve passes the ring's), else at
 * the curve's highest fraction up to 1, or on a fallback curve at the 0.77 dssim used before it
 * had curves. For the engine's links the phase is bytes at the capped rate plus the rest of its
 * time as latency, so a small message holds the link no longer than its bytes need. A link
 * without a curve takes the fallback below, and the run's output says so. All-to-all and
 * send/recv keep per-step latency at the capped rate: all_reduce_perf does not measure them.
 * Limits: a GPU link's curve is read for smaller groups by the ring's chunk size, keeping the
 * fixed part of the measured latency (ring() below);
 * a network's curve is measured on a few nodes (links.network.busbw_nodes) and, over more, pays
 * the extra ring or tree steps at NCCL's modelled per-step latency (scale_out_latency below), not
 * a measurement; the hierarchical phases run one after another where NCCL pipelines them.
 */
#include "collective.h"

#include <gsl/gsl_interp.h>
#include <math.h>
#include <string.h>

/* NCCL's bus bandwidth is below the link rate; for the host link, which has no curve, and for a
 * link on a fallback curve, without a measurement of their own: the lowest intra-node NVIDIA
 * figure the presets cite, 8x A100 all-reduce, ~230 of 300 GB/s (NVIDIA/nccl-tests issue
 * #149). */
static const double fallback_efficiency = 0.77;

/* Fallback curves, for a link whose preset has none, as the bus bandwidth measured (GB/s): on
 * another link its small messages take the measured time (latency does not scale with the link
 * rate) and large ones are held to the link's own rate times the fallback efficiency.
 * GPU links: Azure/AI-benchmarking-guide Azure_Results/ND_A100_v4_results.md
 * @8fd0c6e1bd0f853ef8f0500a3640a7d80a2a92ef, "NCCL Bandwidth": all_reduce busbw on 8x A100
 * SXM (NVLink3, 300 GB/s; NCCL 2.18.5), 1 KiB to 8 GiB. */
static const double fallback_gpu_bytes[] = {
	1024, 4096, 16384, 65536, 262144, 1048576, 2097152, 4194304, 8388608, 16777216,
	33554432, 67108864, 134217728, 268435456, 1073741824, 8589934592,
};
static const double fallback_gpu_busbw[] = {
	0.04, 0.17, 0.67, 2.70, 10.11, 36.22, 53.54, 71.43, 89.99, 109.22, 132.77, 166.63, 174.18,
	213.87, 228.10, 231.58,
};
/* Networks: lessizzmore/create-a3mega-ztan-fork ztan-NCCL-test-result
 * @02dd8f455c43ced1cf442ef29334bda97149264b: all_reduce_perf on 2 nodes of 8x H100 (Google Cloud
 * A3 Mega, GPUDirect-TCPXO; 8 x 200 Gbit/s GPU NICs = 200 GB/s per node, Google Cloud docs "GPU
 * network bandwidth"), busbw from the in-place time, 1.875 * S / t. On 2 nodes NCCL's tree
 * moves less than the ring that busbw assumes, so the large sizes pass the NICs' 200 GB/s. */
static const double fallback_network_bytes[] = {
	8, 1024, 8192, 32768, 131072, 524288, 1048576, 2097152, 4194304, 8388608, 16777216,
	67108864, 268435456, 1073741824, 4294967296, 8589934592,
};
static const double fallback_network_busbw[] = {
	1.875 * 8 / 123.5e3, 1.875 * 1024 / 123.1e3, 1.875 * 8192 / 130.6e3,
	1.875 * 32768 / 153.1e3, 1.875 * 131072 / 169.0e3, 1.875 * 524288 / 171.0e3,
	1.875 * 1048576 / 207.2e3, 1.875 * 2097152 / 252.9e3, 1.875 * 4194304 / 356.6e3,
	1.875 * 8388608 / 563.5e3, 1.875 * 16777216 / 951.6e3, 1.875 * 67108864 / 1270.2e3,
	1.875 * 268435456 / 2359.9e3, 1.875 * 1073741824 / 6737.4e3,
	1.875 * 4294967296 / 24365e3, 1.875 * 8589934592 / 47743e3,
};

_Static_assert(sizeof fallback_gpu_bytes / sizeof fallback_gpu_bytes[0] <= NUMLIST_MAX &&
		       sizeof fallback_network_bytes / sizeof fallback_network_bytes[0] <= NUMLIST_MAX,
	       "a fallback curve fits a struct curve");

/* A busbw curve as fractions of the link's rate. */
struct curve {
	const double *x;
	double y[NUMLIST_MAX];
	int n;
};

static const struct link_spec *link_of(const struct node_spec *node, enum link_class link)
{
	return link == LINK_CLASS_GPU       ? &node->gpu_link
	       : link == LINK_CLASS_NETWORK ? &node->network
					    : &node->pcie;
}

bool collective_uses_fallback(const struct node_spec *node, enum link_class link)
{
	const struct link_spec *l = link_of(node, link);
	return link != LINK_CLASS_PCIE && l->busbw_bytes.n == 0;
}

const char *collective_fallback_source(enum link_class link)
{
	if (link == LINK_CLASS_GPU)
		return "8x A100 NVLink all_reduce_perf on Azure ND A100 v4";
	if (link == LINK_CLASS_NETWORK)
		return "2 nodes of 8x H100 all_reduce_perf over GPUDirect-TCPXO, Google Cloud A3 "
		       "Mega";
	return "";
}

static struct curve curve_of(const struct node_spec *node, enum link_class link)
{
	const struct link_spec *l = link_of(node, link);
	const double *busbw = fallback_network_busbw;
	struct curve c;
	double bw = l->bw > 0 ? l->bw : 15.75e9; /* as collective_rank_bandwidth */
	int i;
	memset(&c, 0, sizeof c);
	if (link == LINK_CLASS_PCIE)
		return c;
	if (l->busbw_bytes.n > 0 && l->busbw_bytes.n == l->busbw_fraction.n) {
		c.x = l->busbw_bytes.v;
		c.n = l->busbw_bytes.n;
		memcpy(c.y, l->busbw_fraction.v, sizeof c.y);
		return c;
	}
	c.x = fallback_network_bytes;
	c.n = (int)(sizeof fallback_network_bytes / sizeof fallback_network_bytes[0]);
	if (link == LINK_CLASS_GPU) {
		c.x = fallback_gpu_bytes;
		busbw = fallback_gpu_busbw;
		c.n = (int)(sizeof fallback_gpu_bytes / sizeof fallback_gpu_bytes[0]);
	}
	for (i = 0; i < c.n; i++)
		c.y[i] = busbw[i] * 1e9 / bw;
	return c;
}

/* The fraction large messages reach: `efficiency` when set; else the highest of the link's own
 * curve, at most 1 (an engine link never runs above its rate; NVLS and 2-node trees report
 * more); else, on a fallback curve, the fallback efficiency. */
static double plateau(const struct node_spec *node, enum link_class link)
{
	const struct link_spec *l = link_of(node, link);
	struct curve c = curve_of(node, link);
	double most = 0;
	int i;
	if (l->efficiency > 0)
		return l->efficiency;
	if (collective_uses_fallback(node, link) || c.n == 0)
		return fallback_efficiency;
	for (i = 0; i < c.n; i++)
		if (c.y[i] > most)
			most = c.y[i];
	return most < 1 ? most : 1;
}

double collective_busbw_fraction(const struct node_spec *node, enum link_class link,
				 double bytes)
{
	struct curve c = curve_of(node, link);
	double cap = plateau(node, link), f, t;
	size_t i;
	if (c.n == 0)
		return cap;
	if (bytes <= c.x[0]) {
		/* Below the smallest measured size the time is flat: busbw grows as S. */
		f = c.y[0] * (bytes > 0 ? bytes : 0) / c.x[0];
	} else if (bytes >= c.x[c.n - 1]) {
		f = c.y[c.n - 1];
	} else {
		i = gsl_interp_bsearch(c.x, bytes, 0, (size_t)c.n - 1);
		t = log(bytes / c.x[i]) / log(c.x[i + 1] / c.x[i]);
		f = exp(log(c.y[i]) + t * log(c.y[i + 1] / c.y[i]));
	}
	return f < cap ? f : cap;
}

double collective_rank_bandwidth(const struct node_spec *node, enum link_class link)
{
	const struct link_spec *l = link_of(node, link);
	/* A node preset without a figure: PCIe Gen3 x16 for the host link (PCI-SIG: 8 GT/s x 16
	 * lanes x 128/130 = 15.75 GB/s), the same for anything else unknown. */
	double bw = l->bw > 0 ? l->bw : 15.75e9;
	/* The network rate is the node's: each GPU drives its share of the NICs. */
	if (link == LINK_CLASS_NETWORK && node->gpus_per_node > 0)
		bw /= (double)node->gpus_per_node;
	return bw * plateau(node, link);
}

static double latency_of(const struct node_spec *node, enum link_class link)
{
	return link == LINK_CLASS_GPU ? node->gpu_link.latency
	       : link == LINK_CLASS_NETWORK ? node->network.latency : node->pcie.latency;
}

static void add(struct collective_plan *p, const struct node_spec *node, enum link_class link,
		double bytes, double steps)
{
	struct collective_phase *ph = &p->phase[p->nphases++];
	ph->link = link;
	ph->bytes = bytes;
	ph->latency = steps * latency_of(node, link);
}

/* A phase of a collective of `size` bytes that the busbw curve times: its bytes at the capped
 * rate, and the rest of bytes / (rate * fraction(size)) as latency. */
static void add_measured(struct collective_plan *p, const struct node_spec *node,
			 enum link_class link, double bytes, double size)
{
	struct collective_phase *ph = &p->phase[p->nphases++];
	double f = collective_busbw_fraction(node, link, size), cap = plateau(node, link);
	ph->link = link;
	ph->bytes = bytes;
	ph->latency = f > 0 && f < cap ? bytes / collective_rank_bandwidth(node, link) *
						 (cap / f - 1)
				       : 0;
}

/* The GPUs a GPU link's curve was measured on: the node's, or the fallback's 8. */
static double measured_ranks(const struct node_spec *node)
{
	return collective_uses_fallback(node, LINK_CLASS_GPU) || node->gpus_per_node < 2
		       ? 8
		       : (double)node->gpus_per_node;
}

/*
 * One ring collective over n ranks on one class of link, part of a collective of `size`. A ring
 * of n ranks moves S/n per step in 2(n-1) steps (all-reduce); what a step costs depends on its
 * chunk, so a group of n GPUs of a node whose curve was measured on m reaches the busbw measured
 * at S*m/n: t_n(S) = 2(n-1)/n * S / busbw_m(S*m/n), exact for n = m and (n-1)/(m-1) of the
 * measured latency for small S. The network's curve is read at S (its node count unknown).
 */
/*
 * The latency a ring of n GPUs keeps below the curve's m. Read at S*m/n, a small message's
 * measured time L_m shrinks to (n-1)/(m-1) L_m, as if it were all per-step latency; NCCL's own
 * model (src/graph/tuning.cc: baseLat + nsteps x hwLat) keeps a fixed base and drops only the
 * 2(m-n) steps' hwLat (the link's `latency`): L_n = L_m - 2(m-n) hwLat. The difference, for an
 * all-reduce; L_m is the measured all-reduce at the curve's smallest size.
 */
static double fewer_ranks_latency(const struct node_spec *node, double n)
{
	struct curve c = curve_of(node, LINK_CLASS_GPU);
	double m = measured_ranks(node), bw = node->gpu_link.bw > 0 ? node->gpu_link.bw : 15.75e9;
	double lm, extra;
	if (c.n == 0 || n >= m || !(c.y[0] > 0))
		return 0;
	lm = 2 * (m - 1) / m * c.x[0] / (bw * c.y[0]);
	extra = (m - n) / (m - 1) * lm - 2 * (m - n) * node->gpu_link.latency;
	return extra > 0 ? extra : 0;
}

static void ring(struct collective_plan *p, const struct node_spec *node, enum link_class link,
		 enum collective_kind kind, double bytes, double n, double size)
{
	double frac = (n - 1) / n, extra = 0;
	if (link == LINK_CLASS_GPU) {
		extra = fewer_ranks_latency(node, n);
		size *= measured_ranks(node) / n;
	}
	switch (kind) {
	case COLLECTIVE_ALLREDUCE:
		add_measured(p, node, link, 2 * frac * bytes, size);
		break;
	case COLLECTIVE_BROADCAST:
		/* Pipelined ring broadcast: each rank forwards the whole buffer once. */
		add_measured(p, node, link, bytes, size);
		extra /= 2;
		break;
	default:
		/* All-gather and reduce-scatter: half an all-reduce's steps. */
		add_measured(p, node, link, frac * bytes, size);
		extra /= 2;
		break;
	}
	p->phase[p->nphases - 1].latency += extra;
}

void collective_plan_node_limited(const struct node_spec *node, double copy_bytes, double copies,
				  double nodes_reached, int64_t ranks, int64_t per_node,
				  struct collective_plan *out)
{
	double n = (double)ranks, k = (double)(per_node < ranks ? per_node : ranks);
	double nodes = n / k;
	memset(out, 0, sizeof *out);
	if (ranks <= 1 || copy_bytes <= 0)
		return;
	out->concurrent = true;
	/* Every copy ends on its experts' GPU over NVLink, from the sender or from the GPU that
	 * received the token over InfiniBand, unless it is that GPU (1/k). */
	if (k > 1)
		add(out, node, LINK_CLASS_GPU, copy_bytes * copies * (k - 1) / k, k - 1);
	/* Of the nodes a token reaches, uniformly placed, (N - 1)/N are another node's. */
	if (nodes > 1)
		add(out, node, LINK_CLASS_NETWORK, copy_bytes * nodes_reached * (nodes - 1) / nodes,
		    nodes - 1);
}

double collective_routed_units(int64_t experts, int64_t top_k, double units)
{
	double e = (double)experts, per, miss = 1;
	int64_t i;
	if (units <= 1 || experts <= 0 || top_k <= 0)
		return fmin(units, (double)(top_k > 0 ? top_k : 0));
	per = e / units;
	for (i = 0; i < top_k && miss > 0; i++)
		miss *= fmax(0.0, (e - per - (double)i) / (e - (double)i));
	/* More units than experts (replicas, as serving.redundant_experts lays them out): no
	 * more units than experts chosen. */
	return fmin(units * (1.0 - miss), fmin((double)top_k, fmin(units, e)));
}

bool collective_route_group_limited(const struct moe_route *r)
{
	return r->n_group > 0 && r->topk_group < r->n_group;
}

/* The nodes (across nodes) or GPUs (inside one) a token reaches: see collective.h. */
static double units_reached(const struct moe_route *r, double units)
{
	double reach;
	if (collective_route_group_limited(r))
		reach = (double)r->topk_group * fmax(1.0, units / (double)r->n_group);
	else
		reach = collective_routed_units(r->experts, r->top_k, units);
	return fmin(reach, fmin(r->copies, units));
}

/* The GPUs of the EP group a token's experts lie on; each gets it once. Group-limited routing
 * draws them from the topk_group / n_group share of the experts, on that share of the GPUs. */
static double gpus_reached(const struct moe_route *r, double ranks)
{
	double share = 1;
	if (collective_route_group_limited(r))
		share = fmax((double)r->topk_group / (double)r->n_group, 1.0 / ranks);
	return fmin(r->copies,
		    collective_routed_units((int64_t)llround((double)r->experts * share), r->top_k,
					    ranks * share));
}

void collective_plan_routed(const struct node_spec *node, double copy_bytes,
			    const struct moe_route *r, int64_t ranks, int64_t per_node,
			    struct collective_plan *out)
{
	double nodes;
	if (per_node < 1)
		per_node = 1;
	if (per_node > ranks)
		per_node = ranks;
	nodes = (double)ranks / (double)per_node;
	if (!r->dedup)
		collective_plan(node, COLLECTIVE_ALLTOALL, copy_bytes * r->copies, ranks, per_node,
				out);
	else if (nodes > 1)
		collective_plan_node_limited(node, copy_bytes, gpus_reached(r, (double)ranks),
					     units_reached(r, nodes), ranks, per_node, out);
	else
		collective_plan(node, COLLECTIVE_ALLTOALL,
				copy_bytes * units_reached(r, (double)ranks), ranks, per_node, out);
}

/*
 * NCCL's latency model (NVIDIA/nccl src/graph/tuning.cc @5067397c2676d5aed50042fc39e5c8ee96eb0027,
 * ncclTopoTuneModel): baseLat + steps x hwLat. A ring of k GPUs on each of N nodes takes N(k-1)
 * steps inside the nodes at the intra-node hwLat, but no less than the network's per-step
 * overhead (getNetOverhead: 1 us, 2 on AMD hosts, x3 for Simple; 1 us here), and N-1 steps over
 * the network at NET's hwLat (its Tree figure when k = 1); an all-reduce twice as many, or
 * 2 log2(N) network steps on a tree. Per-step hwLat, us, [NVLink, PCI, NET][tree, ring][LL,
 * LL128, Simple], and the share of the bus bandwidth each protocol reaches (ring: LL 1/2,
 * LL128 0.92; tree all-reduce: 0.92, then LL 1/3.8, LL128 120/128), from the same file.
 */
static const double nccl_hwlat[3][2][3] = {
	{{0.6, 1.25, 4.0}, {0.6, 1.9, 3.4}},
	{{1.0, 1.9, 4.0}, {1.0, 2.5, 5.7}},
	{{5.0, 8.5, 14.0}, {2.7, 4.0, 14.0}},
};
static const double nccl_ring_share[3] = {0.5, 0.92, 1.0};
static const double nccl_tree_share[3] = {0.92 / 3.8, 0.92 * 120.0 / 128.0, 0.92};
enum { HW_NVLINK, HW_PCI, HW_NET };
enum { ALGO_TREE, ALGO_RING };
enum { PROTO_SIMPLE = 2 };

/*
 * The latency a collective over `nodes` nodes adds to a network curve measured on fewer
 * (links.network.busbw_nodes, 2 for every shipped curve and the fallback): each protocol pays
 * its extra steps' hwLat and moves the phase's `bytes` at its share of the rate, and NCCL takes
 * the fastest, Simple for large messages. Less the bytes' time at the full rate: what the phase
 * adds as latency. Ring latency grows with the node count (NCCL 2.23 added the PAT algorithm
 * for that reason); an all-reduce can fall back to a tree, whose latency grows as log2(N).
 */
static double scale_out_latency(const struct node_spec *node, enum collective_kind kind,
				double bytes, double nodes, double k)
{
	double m = node->network.busbw_nodes > 0 ? (double)node->network.busbw_nodes : 2;
	double rate = collective_rank_bandwidth(node, LINK_CLASS_NETWORK), best = INFINITY;
	double rounds = kind == COLLECTIVE_ALLREDUCE ? 2 : 1;
	int intra = node->gpu_link.kind == LINK_PCIE ? HW_PCI : HW_NVLINK, p;
	if (nodes <= m || rate <= 0)
		return 0;
	for (p = 0; p < 3; p++) {
		double overhead = 1e-6 * (p == PROTO_SIMPLE ? 3 : 1);
		double lat_in = fmax(1e-6 * nccl_hwlat[intra][ALGO_RING][p], overhead);
		double lat_net = 1e-6 * nccl_hwlat[HW_NET][k > 1 ? ALGO_RING : ALGO_TREE][p];
		double t = rounds * (nodes - m) * ((k - 1) * lat_in + lat_net) +
			   bytes / (rate * nccl_ring_share[p]);
		best = fmin(best, t);
		if (kind == COLLECTIVE_ALLREDUCE) {
			t = 2 * (floor(log2(nodes)) - floor(log2(m))) * 1e-6 *
				    nccl_hwlat[HW_NET][ALGO_TREE][p] +
			    bytes / (rate * nccl_tree_share[p]);
			best = fmin(best, t);
		}
	}
	return best > bytes / rate ? best - bytes / rate : 0;
}

void collective_plan(const struct node_spec *node, enum collective_kind kind, double bytes,
		     int64_t ranks, int64_t per_node, struct collective_plan *out)
{
	double n = (double)ranks, k = (double)(per_node < ranks ? per_node : ranks);
	double nodes = n / k;
	memset(out, 0, sizeof *out);
	if (ranks <= 1 || bytes <= 0)
		return;
	if (kind == COLLECTIVE_SENDRECV) {
		add(out, node, per_node >= ranks ? LINK_CLASS_GPU : LINK_CLASS_NETWORK, bytes, 1);
		return;
	}
	if (kind == COLLECTIVE_ALLTOALL) {
		/* Each rank keeps 1/n and sends the rest: (k-1)/n inside its node, (n-k)/n out of
		 * it, both at once. */
		out->concurrent = true;
		if (k > 1)
			add(out, node, LINK_CLASS_GPU, bytes * (k - 1) / n, k - 1);
		if (nodes > 1)
			add(out, node, LINK_CLASS_NETWORK, bytes * (n - k) / n, nodes - 1);
		return;
	}
	if (nodes <= 1) {
		ring(out, node, LINK_CLASS_GPU, kind, bytes, n, bytes);
		return;
	}
	/* Hierarchical: inside the node on the full buffer, across nodes on each GPU's 1/k. */
	switch (kind) {
	case COLLECTIVE_ALLREDUCE:
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, COLLECTIVE_REDUCESCATTER, bytes, k, bytes);
		ring(out, node, LINK_CLASS_NETWORK, COLLECTIVE_ALLREDUCE, bytes / k, nodes, bytes);
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, COLLECTIVE_ALLGATHER, bytes, k, bytes);
		break;
	case COLLECTIVE_ALLGATHER:
		ring(out, node, LINK_CLASS_NETWORK, kind, bytes / k, nodes, bytes);
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, kind, bytes, k, bytes);
		break;
	case COLLECTIVE_REDUCESCATTER:
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, kind, bytes, k, bytes);
		ring(out, node, LINK_CLASS_NETWORK, kind, bytes / k, nodes, bytes);
		break;
	default:
		ring(out, node, LINK_CLASS_NETWORK, kind, bytes, nodes, bytes);
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, kind, bytes, k, bytes);
		break;
	}
	if (kind != COLLECTIVE_BROADCAST) {
		int i;
		for (i = 0; i < out->nphases; i++)
			if (out->phase[i].link == LINK_CLASS_NETWORK)
				out->phase[i].latency += scale_out_latency(
					node, kind, out->phase[i].bytes, nodes, k);
	}
}

/*
 * Custom all-reduce latency, microseconds, on 8x H100 SXM (NVLink4) for 2, 4 and 8 GPUs:
 * sgl-project/sglang PR #2904, sgl-kernel/tests/test_trt_reduce.py (float32 tensors of 512 to
 * 1048576 elements, 5000 calls each, no CUDA graph): vLLM's custom_all_reduce and SGLang's
 * kernels taken from TensorRT-LLM. Between sizes log-log interpolation, between group sizes
 * linear; above the largest size the time grows with the bytes (bandwidth-bound two-shot).
 */
static const double custom_bytes[] = {2048, 16384, 131072, 1048576, 2097152, 4194304};
enum { CUSTOM_SIZES = sizeof custom_bytes / sizeof custom_bytes[0] };
static const double custom_ranks[] = {2, 4, 8};
static const double custom_us[2][3][CUSTOM_SIZES] = {
	{{9.5, 8.8, 8.7, 12.9, 17.7, 26.6},
	 {9.1, 8.5, 9.2, 20.6, 26.9, 40.2},
	 {10.1, 9.3, 11.8, 24.1, 30.4, 45.0}},
	{{3.7, 3.9, 4.5, 7.9, 12.5, 19.9},
	 {4.8, 3.7, 4.8, 13.9, 20.2, 31.1},
	 {5.9, 5.7, 7.8, 16.7, 22.1, 33.8}},
};

static double custom_at(const double *us, double bytes)
{
	size_t i;
	double t;
	if (bytes <= custom_bytes[0])
		return us[0];
	if (bytes >= custom_bytes[CUSTOM_SIZES - 1])
		return us[CUSTOM_SIZES - 1] * bytes / custom_bytes[CUSTOM_SIZES - 1];
	i = gsl_interp_bsearch(custom_bytes, bytes, 0, CUSTOM_SIZES - 1);
	t = log(bytes / custom_bytes[i]) / log(custom_bytes[i + 1] / custom_bytes[i]);
	return exp(log(us[i]) + t * log(us[i + 1] / us[i]));
}

bool collective_custom_allreduce(const struct node_spec *node, enum collective_custom kind,
				 double bytes, int64_t ranks, struct collective_plan *out)
{
	double n = (double)ranks, lo, hi, t, moved, rate;
	int j;
	if (node->gpu_link.kind != LINK_NVLINK || ranks < 2 || ranks > 8 || ranks % 2 != 0 ||
	    ranks > node->gpus_per_node || bytes <= 0)
		return false;
	j = n <= 4 ? 0 : 1;
	lo = custom_at(custom_us[kind][j], bytes);
	hi = custom_at(custom_us[kind][j + 1], bytes);
	t = 1e-6 * (lo + (hi - lo) * (n - custom_ranks[j]) / (custom_ranks[j + 1] -
								 custom_ranks[j]));
	/* What a two-shot all-reduce moves per rank (reduce-scatter, then all-gather), at the
	 * link's capped rate: the floor on a slower link than the measured one. */
	moved = 2 * (n - 1) / n * bytes;
	rate = collective_rank_bandwidth(node, LINK_CLASS_GPU);
	memset(out, 0, sizeof *out);
	out->nphases = 1;
	out->phase[0].link = LINK_CLASS_GPU;
	out->phase[0].bytes = moved;
	out->phase[0].latency = t > moved / rate ? t - moved / rate : 0;
	return true;
}

double collective_time(const struct node_spec *node, const struct collective_plan *p)
{
	double total = 0, longest = 0;
	int i;
	for (i = 0; i < p->nphases; i++) {
		double t = p->phase[i].latency +
			   p->phase[i].bytes / collective_rank_bandwidth(node, p->phase[i].link);
		total += t;
		if (t > longest)
			longest = t;
	}
	return p->concurrent ? longest : total;
}
