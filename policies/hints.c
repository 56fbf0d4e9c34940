/*
 * hints.c - see hints.h.
 */
#include "hints.h"

#include <string.h>

void pol_hints_init(pol_hints_state_t *h, pol_hint_t kind, const pol_config_t *cfg)
{
    memset(h, 0, sizeof(*h));
    h->kind = kind;
    h->cfg = *cfg;
    for (int c = 0; c < POL_NCLASSES; c++)
        h->bucket[c].tokens = cfg->admission_burst;
}

/* Take a token for a bulk request; otherwise say when the next one comes. */
static void pol_admission(pol_hints_state_t *h, const pol_view_t *v, const pol_intent_t *in,
                          pol_placement_t *o)
{
    if (in->cls != POL_CLASS_BULK || h->cfg.admission_rate_iops <= 0)
        return;
    pol_bucket_t *b = &h->bucket[in->cls];
    double now = (double)v->now_ns;
    b->tokens += (now - b->last_ns) * h->cfg.admission_rate_iops / 1e9;
    if (b->tokens > h->cfg.admission_burst)
        b->tokens = h->cfg.admission_burst;
    b->last_ns = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return;
    }
    o->admit = POL_ADMIT_LATER;
    o->retry_ns = (1.0 - b->tokens) * 1e9 / h->cfg.admission_rate_iops;
}

void pol_hints_place(pol_hints_state_t *h, const pol_view_t *v, const pol_intent_t *in,
                     pol_placement_t *o)
{
    switch (h->kind) {
    case POL_HINT_NONE:
    case POL_NHINTS: /* not a hint */
        break;
    case POL_HINT_DEADLINE:
        if (in->cls == POL_CLASS_STEP_CRITICAL) {
            o->prio = POL_PRIO_URGENT;
            o->hold_background = true;
            o->batch = 1;
            o->batch_window_ns = 0;
            o->coalesce = false;
        }
        break;
    case POL_HINT_PREFETCH:
        if (in->cls == POL_CLASS_PREFETCH) {
            if (in->prefetch_confidence < h->cfg.prefetch_threshold)
                o->admit = POL_ADMIT_DROP;
            o->prio = POL_PRIO_LOW;
        }
        break;
    case POL_HINT_ADMISSION:
        if (o->admit == POL_ADMIT)
            pol_admission(h, v, in, o);
        break;
    }
}
