/*
 * mode.c - see mode.h.
 */
#include "mode.h"

#include <stdlib.h>
#include <string.h>

void pol_mode_init(pol_mode_state_t *m, pol_mode_t mode, const pol_config_t *cfg)
{
    memset(m, 0, sizeof(*m));
    m->configured = mode;
    m->current = mode == POL_MODE_ADAPTIVE ? POL_MODE_THROUGHPUT : mode;
    m->cfg = *cfg;
}

void pol_mode_place(const pol_mode_state_t *m, const pol_view_t *v, const pol_intent_t *in,
                    pol_placement_t *o)
{
    if (m->current == POL_MODE_LATENCY) {
        o->wait = POL_WAIT_POLL;
        o->taskrun = POL_TASKRUN_DEFER;
        o->coalesce = false;
        o->batch = 1;
        o->batch_window_ns = 0;
        o->prio = in->cls == POL_CLASS_BULK       ? POL_PRIO_LOW
                  : in->cls == POL_CLASS_PREFETCH ? POL_PRIO_MEDIUM
                                                  : POL_PRIO_URGENT;
        uint32_t bound = m->cfg.latency_max_inflight;
        if (bound && v->inflight && in->cls >= POL_CLASS_PREFETCH &&
            v->inflight[in->cls] >= bound) {
            o->admit = POL_ADMIT_LATER;
            o->retry_ns = 5000;
        }
        return;
    }
    o->wait = POL_WAIT_INTERRUPT;
    o->taskrun = POL_TASKRUN_DEFAULT;
    o->coalesce = true;
    o->batch = m->cfg.throughput_batch;
    o->batch_window_ns = m->cfg.throughput_batch_window_ns;
    o->prio = in->cls == POL_CLASS_BULK ? POL_PRIO_LOW : POL_PRIO_MEDIUM;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void pol_mode_switch(pol_mode_state_t *m, uint64_t now, pol_mode_t to)
{
    m->current = to;
    if (m->nsw < POL_MODE_MAX_SWITCHES)
        m->sw[m->nsw++] = (pol_switch_t){now, to};
}

void pol_mode_feedback(pol_mode_state_t *m, uint64_t now, const pol_intent_t *in,
                       uint64_t latency_ns)
{
    if (m->configured != POL_MODE_ADAPTIVE || in->cls >= POL_CLASS_PREFETCH)
        return; /* the budget is about the requests someone waits for */
    if (m->nlat < POL_MODE_WINDOW)
        m->lat[m->nlat++] = latency_ns;
    if (now - m->window_start < m->cfg.adaptive_window_ns || m->nlat < 20)
        return;
    uint64_t sorted[POL_MODE_WINDOW];
    memcpy(sorted, m->lat, m->nlat * sizeof(sorted[0]));
    qsort(sorted, m->nlat, sizeof(sorted[0]), cmp_u64);
    double p99 = (double)sorted[(m->nlat * 99) / 100];
    double budget = m->cfg.adaptive_budget_ns;
    if (m->current == POL_MODE_THROUGHPUT && p99 > budget)
        pol_mode_switch(m, now, POL_MODE_LATENCY);
    else if (m->current == POL_MODE_LATENCY && p99 < budget * (1.0 - m->cfg.adaptive_hysteresis))
        pol_mode_switch(m, now, POL_MODE_THROUGHPUT);
    m->nlat = 0;
    m->window_start = now;
}
