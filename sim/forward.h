/*
 * forward: the time of one inference forward pass over a mixed batch — prompt chunks being
 * prefilled and sequences decoding one token — on one model replica (tp x pp GPUs, or with
 * ep > tp the ep / tp data-parallel attention ranks of an EP group, forward_attention_dp). Domain
 * stage: roofline kernel times from compute, collectives from collective, tensors from model;
 * knows nothing of requests, queues or time beyond one pass.
 */
#ifndef DSSIM_FORWARD_H
#define DSSIM_FORWARD_H

#include <stddef.h>

#include "scenario.h"

/* What one iteration computes, summed over its sequences. */
struct forward_batch {
	double tokens;          /* new tokens: prompt chunk tokens plus one per decoding sequence */
	double sequences;       /* sequences that sample a token (rows of logits) */
	double prefill_pairs;   /* query-key pairs of prompt tokens (causal, prefix included) */
	double decode_pairs;    /* query-key pairs of decode tokens: their context lengths */
	double kv_tokens;       /* cached tokens attention reads (every sequence's context) */
	double prefill_len;     /* prefill_pairs times their chunk's context (cached + new): over
				   prefill_pairs, the sequence prompt attention runs over; 0: the
				   GPU preset's rate */
};

/* Where the pass's time goes, seconds summed over pipeline stages. */
enum forward_part { FORWARD_COMPUTE, FORWARD_TP, FORWARD_PP, FORWARD_EP, FORWARD_PARTS };

/* What the pass's collectives (TP, EP, PP) send per GPU over each class of link (enum
 * link_class of collective), and the latency they wait, summed over the pass: with nothing else
 * on the links, latency + bytes / forward_link_bandwidth of every class sums to the pass's TP,
 * PP and EP time. */
enum { FORWARD_LINKS = 3 };
struct forward_comm {
	double bytes[FORWARD_LINKS];
	double latency[FORWARD_LINKS];   /* s */
};

struct forward_cost;

/* Attention data-parallel ranks in one replica: ep / tp when ep > tp (data-parallel attention,
 * a replica is the EP group of ep GPUs and shares its batch among the ranks), else 1 (experts
 * split within the TP group). forward_replica_gpus: the GPUs of one replica, tp * that * pp. */
int64_t forward_attention_dp(const struct scenario *s);
int64_t forward_replica_gpus(const struct scenario *s);

/* Prepare the costs of a scenario's model on its GPUs. NULL with a message in d (at the
 * scenario's file) when the layout cannot serve (ep must divide tp, or tp divide ep) or the GPU's curve cannot
 * be used. */
struct forward_cost *forward_new(const struct scenario *s, struct diag *d);
void forward_free(struct forward_cost *f);   /* NULL is a no-op */

/* The pass's time in seconds; part (may be NULL) gets its split. Pipeline stages run one after
 * another (one batch in flight). */
double forward_time(const struct forward_cost *f, const struct forward_batch *b,
		    double part[FORWARD_PARTS]);
/* forward_time that also fills comm (cleared first) for moving the pass's collectives as link
 * transfers. */
double forward_time_comm(const struct forward_cost *f, const struct forward_batch *b,
			 double part[FORWARD_PARTS], struct forward_comm *comm);
/* Bytes/s one GPU reaches on a class of link in a collective (0: no such link). */
double forward_link_bandwidth(const struct forward_cost *f, int link);

/* Bytes of weights one GPU of the most loaded stage reads per pass when every expert is
 * touched, and KV-cache bytes per token per GPU of that stage (the decode roofline's terms). */
double forward_weight_bytes(const struct forward_cost *f);
double forward_kv_bytes_per_token(const struct forward_cost *f);

#endif
