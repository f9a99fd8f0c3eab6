/*
 * check_step.h: the pass costs the step graph uses (step_int.h's step_costs) for a scenario, for
 * the tests that check them by hand (test_step, test_step_moe). Include after check.h.
 */
#ifndef DSSIM_CHECK_STEP_H
#define DSSIM_CHECK_STEP_H

#include "compute.h"
#include "diag.h"
#include "layout.h"
#include "step_int.h"

/* One dense and one MoE layer, the embedding and the head, for one micro-batch on stage 0. */
static void check_step_costs(const struct scenario *s, struct pass_cost layer[2],
			     struct pass_cost *embed, struct pass_cost *head)
{
	struct layout l;
	struct diag d;
	struct mark at = {0};
	struct compute *c;
	diag_init(&d);
	c = compute_new(&s->cluster.node.gpu, at, &d);
	assert_non_null(c);
	layout_build(s, &l);
	step_costs(s, c, &l, layer, embed, head);
	compute_free(c);
	diag_release(&d);
}

#endif
