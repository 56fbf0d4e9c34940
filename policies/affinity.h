/*
 * affinity.h - completion-affinity policies: which CPU a request's thread
 * submits from and consumes on, and the queue's rq_affinity. The hardware
 * queue (and so the interrupt CPU) follows the submitting CPU and the
 * completion CPU follows the vector and rq_affinity, as on Linux, so moving
 * the thread and setting rq_affinity are a policy's only levers. One ops
 * struct per policy, in the table in affinity.c.
 */
#ifndef LATSURF_POL_AFFINITY_H
#define LATSURF_POL_AFFINITY_H

#include "policy.h"

typedef struct {
    pol_affinity_t id;
    void (*place)(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *out);
    void (*setup)(pol_setup_t *out); /* once per run: sysfs settings */
} pol_affinity_ops_t;

const pol_affinity_ops_t *pol_affinity_ops(pol_affinity_t id);

#endif
