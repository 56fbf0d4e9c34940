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
    m->need = cfg->adaptive_calm_windows ? cfg->adaptive_calm_windows : 1;
    m->rng = 0x9e3779b97f4a7c15ULL;
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
    if (m->nsw < POL_MAX_SWITCHES)
        m->sw[m->nsw++] = (pol_switch_t){now, to};
}

/* Keep a uniform sample of the window's latencies in lat[] (reservoir). */
static void pol_mode_sample(pol_mode_state_t *m, uint64_t latency_ns)
{
    m->nseen++;
    if (m->nlat < POL_MODE_WINDOW) {
        m->lat[m->nlat++] = latency_ns;
        return;
    }
    m->rng ^= m->rng << 13; /* xorshift64: deterministic, libc-free */
    m->rng ^= m->rng >> 7;
    m->rng ^= m->rng << 17;
    uint64_t j = m->rng % m->nseen;
    if (j < POL_MODE_WINDOW)
        m->lat[j] = latency_ns;
}

static void pol_mode_judge(pol_mode_state_t *m, uint64_t now)
{
    uint64_t sorted[POL_MODE_WINDOW];
    memcpy(sorted, m->lat, m->nlat * sizeof(sorted[0]));
    qsort(sorted, m->nlat, sizeof(sorted[0]), cmp_u64);
    double p99 = (double)sorted[(m->nlat * 99) / 100];
    double budget = m->cfg.adaptive_budget_ns;
    double rate = (double)m->nbackground / (double)(now - m->window_start);
    uint32_t k = m->cfg.adaptive_calm_windows ? m->cfg.adaptive_calm_windows : 1;
    if (m->current == POL_MODE_THROUGHPUT) {
        if (p99 > budget) {
            bool premature = m->returned_at &&
                             (double)(now - m->returned_at) <=
                                 (double)(m->need + 1) * m->cfg.adaptive_window_ns;
            m->need = premature ? (m->need * 2 > POL_MODE_MAX_CALM ? POL_MODE_MAX_CALM
                                                                   : m->need * 2)
                                : k;
            m->trigger_rate = rate;
            m->calm = 0;
            pol_mode_switch(m, now, POL_MODE_LATENCY);
        }
        return;
    }
    bool calm = p99 < budget * (1.0 - m->cfg.adaptive_hysteresis) &&
                (m->trigger_rate == 0 || rate <= POL_MODE_QUIET * m->trigger_rate);
    m->calm = calm ? m->calm + 1 : 0;
    if (m->calm >= m->need) {
        m->returned_at = now;
        pol_mode_switch(m, now, POL_MODE_THROUGHPUT);
    }
}

void pol_mode_feedback(pol_mode_state_t *m, uint64_t now, const pol_intent_t *in,
                       uint64_t latency_ns)
{
    if (m->configured != POL_MODE_ADAPTIVE)
        return;
    if (in->cls >= POL_CLASS_PREFETCH)
        m->nbackground++; /* the budget is about the requests someone waits for */
    else
        pol_mode_sample(m, latency_ns);
    if (now - m->window_start < m->cfg.adaptive_window_ns || m->nlat < POL_MODE_MIN_SAMPLES)
        return;
    pol_mode_judge(m, now);
    m->nlat = 0;
    m->nseen = 0;
    m->nbackground = 0;
    m->window_start = now;
}
