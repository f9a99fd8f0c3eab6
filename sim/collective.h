/*
 * collective: collective operations on the node topology, NCCL's cost model — what each rank
 * sends over which class of link, and with what latency. Domain stage: reads struct node_spec;
 * the step builder turns the phases into transfers on the engine's links.
 */
#ifndef DSSIM_COLLECTIVE_H
#define DSSIM_COLLECTIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "hardware.h"

enum collective_kind {
	COLLECTIVE_ALLREDUCE,
	COLLECTIVE_ALLGATHER,
	COLLECTIVE_REDUCESCATTER,
	COLLECTIVE_ALLTOALL,
	COLLECTIVE_BROADCAST,
	COLLECTIVE_SENDRECV,
};

enum link_class { LINK_CLASS_GPU, LINK_CLASS_NETWORK, LINK_CLASS_PCIE };

/* One step of a collective: bytes each rank sends over one class of link, after a latency. */
struct collective_phase {
	enum link_class link;
	double bytes;
	double latency;        /* s */
};

enum { COLLECTIVE_MAX_PHASES = 3 };

struct collective_plan {
	struct collective_phase phase[COLLECTIVE_MAX_PHASES];
	int nphases;
	bool concurrent;       /* phases run at the same time (all-to-all), else one after another */
};

/*
 * Plan a collective of `bytes` (the full buffer: the all-reduced tensor, the gathered result)
 * over `ranks` ranks, `per_node` of them on each node (a group within one node has
 * per_node == ranks). Ring traffic inside a node; across nodes hierarchical (reduce-scatter in
 * the node, the inter-node step on each GPU's share of the NICs, all-gather in the node). Each
 * phase's latency is what the busbw curve at `bytes` adds to its bytes at the capped rate.
 */
void collective_plan(const struct node_spec *node, enum collective_kind kind, double bytes,
		     int64_t ranks, int64_t per_node, struct collective_plan *out);

/*
 * Plan a node-limited MoE dispatch (or combine) the way DeepSeek-V3 runs it (report sec.
 * 3.2.2): each token goes once over InfiniBand to each other node holding any of its experts
 * (`nodes_reached` nodes of the group's, the sender's own among them as often as chance has it),
 * to the GPU of the same in-node index there, which forwards it over NVLink to the GPUs of its
 * experts. `copy_bytes` is one copy of the rank's tokens, `copies` the GPUs of each token's
 * experts, each sent one copy over NVLink unless it holds the token already (1 of per_node).
 * Both phases run at once.
 */
void collective_plan_node_limited(const struct node_spec *node, double copy_bytes, double copies,
				  double nodes_reached, int64_t ranks, int64_t per_node,
				  struct collective_plan *out);

/* How one MoE layer's tokens travel to their experts (collective_plan_routed). */
struct moe_route {
	double copies;               /* expert copies of each token: top_k (times any capacity) */
	int64_t top_k, experts;      /* experts chosen per token; routed experts in all */
	int64_t n_group, topk_group; /* group-limited routing (HF names); n_group 0: none */
	bool dedup;                  /* one copy per GPU or node reached, not one per expert */
};

/*
 * Plan one MoE all-to-all (a dispatch or a combine) of `copy_bytes` per copy of each token over
 * an EP group of `ranks`, `per_node` on each node.
 * Without r->dedup each of a token's r->copies travels on its own (NCCL's all-to-all: Megatron's
 * alltoall dispatcher).
 * With it (DeepEP, HybridEP, DeepSeek's own kernels) a token goes once to each node it reaches,
 * over InfiniBand, then over NVLink (collective_plan_node_limited); inside one node, once to
 * each GPU it reaches. Routing limited to topk_group of n_group expert groups (DeepSeek-V2 sec.
 * 2.1.3, V3 sec. 3.2.2) lays the groups over the EP group's nodes (over its GPUs inside one
 * node): a token reaches at most topk_group * max(1, units / n_group) of them, that bound taken
 * as the count. Unlimited routing reaches as many as r->top_k experts drawn from r->experts land
 * on (collective_routed_units), and so do the GPUs over NVLink after InfiniBand, drawn from the
 * selected groups' share. Either way no more than r->copies or the units there are.
 */
void collective_plan_routed(const struct node_spec *node, double copy_bytes,
			    const struct moe_route *r, int64_t ranks, int64_t per_node,
			    struct collective_plan *out);

/* Whether the route's routing is limited to topk_group of n_group expert groups. */
bool collective_route_group_limited(const struct moe_route *r);

/* The expected number of the `units` equal shares of `experts` experts that `top_k` of them,
 * drawn at random without repeats, fall in: units (1 - C(E - E/U, k) / C(E, k)). */
double collective_routed_units(int64_t experts, int64_t top_k, double units);

/* Bytes/s one GPU reaches on a class of link for large messages: its share of the link times
 * the capped busbw fraction (the rate the engine gives the link). */
double collective_rank_bandwidth(const struct node_spec *node, enum link_class link);

/* The fraction of a class of link's rate that NCCL's all-reduce bus bandwidth reaches for a
 * collective of `bytes` (nccl-tests doc/PERFORMANCE.md): the node's busbw curve, or the fallback
 * curve, interpolated on log(size) and capped at the link's efficiency (collective.c says how).
 * The host link has no curve: its efficiency. */
double collective_busbw_fraction(const struct node_spec *node, enum link_class link,
				 double bytes);

/* Whether a class of link (GPU or network) of this node has no busbw curve of its own and takes
 * the fallback curve; collective_fallback_source names the measurement the fallback comes from. */
bool collective_uses_fallback(const struct node_spec *node, enum link_class link);
const char *collective_fallback_source(enum link_class link);

/* Custom all-reduce kernels of serving engines (one-shot for small messages, two-shot above),
 * in place of NCCL's inside an NVLink node. */
enum collective_custom { COLLECTIVE_CUSTOM_VLLM, COLLECTIVE_CUSTOM_TRTLLM };

/*
 * Plan an all-reduce of `bytes` over `ranks` GPUs of one node by a custom kernel: one phase on
 * the GPU link whose time is the kernel's measured latency at that size (collective.c cites
 * it), or the link's rate if that is slower. False, *out untouched, when the kernel does not
 * run there: not NVLink, an odd group or one of more than 8 GPUs, more ranks than the node has.
 */
bool collective_custom_allreduce(const struct node_spec *node, enum collective_custom kind,
				 double bytes, int64_t ranks, struct collective_plan *out);

/* The time of a plan with nothing else on the links. */
double collective_time(const struct node_spec *node, const struct collective_plan *p);

#endif
