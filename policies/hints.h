/*
 * hints.h - intent hints: deadline (step-critical work gets the urgent class,
 * holds device background work and bypasses batching), prefetch (issue a
 * prefetch only above a confidence threshold, at low class) and admission (a
 * token bucket per class so bulk work cannot inflate step-critical tails).
 * Owns the token buckets.
 */
#ifndef LATSURF_POL_HINTS_H
#define LATSURF_POL_HINTS_H

#include "policy.h"

typedef struct {
    double tokens, last_ns;
} pol_bucket_t;

typedef struct {
    pol_hint_t kind;
    pol_config_t cfg;
    pol_bucket_t bucket[POL_NCLASSES];
} pol_hints_state_t;

void pol_hints_init(pol_hints_state_t *h, pol_hint_t kind, const pol_config_t *cfg);
void pol_hints_place(pol_hints_state_t *h, const pol_view_t *v, const pol_intent_t *in,
                     pol_placement_t *o);

#endif
