/*
 * mode.h - latency modes: throughput (deep queues, coalescing, batching,
 * sleep-wait), latency (bounded in-flight per class, no coalescing, polling
 * or DEFER_TASKRUN wait, urgent class) and adaptive (switches between them
 * from a latency budget and the observed window p99, with hysteresis; every
 * switch is recorded with its time). Owns the adaptive state.
 */
#ifndef LATSURF_POL_MODE_H
#define LATSURF_POL_MODE_H

#include "policy.h"

#define POL_MODE_WINDOW 512 /* latencies kept for the adaptive window p99 */
#define POL_MODE_MAX_SWITCHES 256

typedef struct {
    uint64_t t_ns;
    pol_mode_t to;
} pol_switch_t;

typedef struct {
    pol_mode_t configured, current;
    pol_config_t cfg;
    uint64_t window_start;
    uint64_t lat[POL_MODE_WINDOW];
    uint32_t nlat;
    pol_switch_t sw[POL_MODE_MAX_SWITCHES];
    uint32_t nsw;
} pol_mode_state_t;

void pol_mode_init(pol_mode_state_t *m, pol_mode_t mode, const pol_config_t *cfg);
void pol_mode_place(const pol_mode_state_t *m, const pol_view_t *v, const pol_intent_t *in,
                    pol_placement_t *o);
void pol_mode_feedback(pol_mode_state_t *m, uint64_t now_ns, const pol_intent_t *in,
                       uint64_t latency_ns);

#endif
