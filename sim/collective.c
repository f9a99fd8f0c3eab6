/*
 * collective: NCCL's bandwidth/latency model. Domain stage.
 * Per-rank traffic (NCCL, nccl-tests doc/PERFORMANCE.md, "bus bandwidth"): ring all-reduce moves
 * 2(n-1)/n of the buffer through each rank, all-gather and reduce-scatter (n-1)/n, in n-1 (x2
 * for all-reduce) steps, each paying the link's latency. Across nodes NCCL splits the ring
 * hierarchically: each GPU carries 1/k of the buffer (k GPUs per node) over its share of the
 * node's NICs.
 */
#include "collective.h"

#include <math.h>
#include <string.h>

/* NCCL's bus bandwidth is below the link rate; for a link whose preset gives no measurement,
 * the lowest intra-node NVIDIA figure the presets cite: 8x A100 all-reduce, ~230 of 300 GB/s
 * (NVIDIA/nccl-tests issue #149). */
static const double fallback_efficiency = 0.77;

double collective_rank_bandwidth(const struct node_spec *node, enum link_class link)
{
	const struct link_spec *l = link == LINK_CLASS_GPU       ? &node->gpu_link
				    : link == LINK_CLASS_NETWORK ? &node->network
								 : &node->pcie;
	double eff = l->efficiency > 0 ? l->efficiency : fallback_efficiency;
	/* A node preset without a figure: PCIe Gen3 x16 for the host link (PCI-SIG: 8 GT/s x 16
	 * lanes x 128/130 = 15.75 GB/s), the same for anything else unknown. */
	double bw = l->bw > 0 ? l->bw : 15.75e9;
	/* The network rate is the node's: each GPU drives its share of the NICs. */
	if (link == LINK_CLASS_NETWORK && node->gpus_per_node > 0)
		bw /= (double)node->gpus_per_node;
	return bw * eff;
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

/* One ring collective over n ranks on one class of link. An all-reduce may instead take NCCL's
 * double binary tree (Sanders et al. 2009; NCCL 2.4): about 2S per rank, like the ring, but
 * 2*log2(n) latency steps instead of 2(n-1) — NCCL's tuner picks the faster, and so does this. */
static void ring(struct collective_plan *p, const struct node_spec *node, enum link_class link,
		 enum collective_kind kind, double bytes, double n)
{
	double frac = (n - 1) / n;
	switch (kind) {
	case COLLECTIVE_ALLREDUCE: {
		double bw = collective_rank_bandwidth(node, link), lat = latency_of(node, link);
		double ring_t = 2 * frac * bytes / bw + 2 * (n - 1) * lat;
		double tree_steps = 2 * ceil(log2(n));
		double tree_t = 2 * bytes / bw + tree_steps * lat;
		if (tree_t < ring_t)
			add(p, node, link, 2 * bytes, tree_steps);
		else
			add(p, node, link, 2 * frac * bytes, 2 * (n - 1));
		break;
	}
	case COLLECTIVE_BROADCAST:
		/* Pipelined ring broadcast: each rank forwards the whole buffer once. */
		add(p, node, link, bytes, n - 1);
		break;
	default:
		add(p, node, link, frac * bytes, n - 1);
		break;
	}
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
		ring(out, node, LINK_CLASS_GPU, kind, bytes, n);
		return;
	}
	/* Hierarchical: inside the node on the full buffer, across nodes on each GPU's 1/k. */
	switch (kind) {
	case COLLECTIVE_ALLREDUCE:
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, COLLECTIVE_REDUCESCATTER, bytes, k);
		ring(out, node, LINK_CLASS_NETWORK, COLLECTIVE_ALLREDUCE, bytes / k, nodes);
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, COLLECTIVE_ALLGATHER, bytes, k);
		break;
	case COLLECTIVE_ALLGATHER:
		ring(out, node, LINK_CLASS_NETWORK, kind, bytes / k, nodes);
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, kind, bytes, k);
		break;
	case COLLECTIVE_REDUCESCATTER:
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, kind, bytes, k);
		ring(out, node, LINK_CLASS_NETWORK, kind, bytes / k, nodes);
		break;
	default:
		ring(out, node, LINK_CLASS_NETWORK, kind, bytes, nodes);
		if (k > 1)
			ring(out, node, LINK_CLASS_GPU, kind, bytes, k);
		break;
	}
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
