/*
 * affinity.h - completion-affinity policies: where a request is submitted,
 * which hardware queue (and so which interrupt CPU) it uses, where its
 * completion runs and where the consumer thread waits. One ops struct per
 * policy, in the table in affinity.c.
 */
#ifndef LATSURF_POL_AFFINITY_H
#define LATSURF_POL_AFFINITY_H

#include "policy.h"

typedef struct {
    pol_affinity_t id;
    void (*place)(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *out);
} pol_affinity_ops_t;

const pol_affinity_ops_t *pol_affinity_ops(pol_affinity_t id);

#endif
