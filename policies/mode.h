/*
 * mode.h - latency modes: throughput (deep queues, coalescing, batching,
 * sleep-wait), latency (bounded in-flight per class, no coalescing, polling
 * or DEFER_TASKRUN wait, urgent class) and adaptive (switches between them
 * from a latency budget and the observed window p99, with hysteresis; every
 * switch is recorded with its time). Owns the adaptive state.
 *
 * Adaptive judges fixed windows of adaptive_window_ns (closed by the first
 * completion after the window ends, once it holds POL_MODE_MIN_SAMPLES
 * latencies of the classes someone waits for: step-critical, hot-metadata).
 * It enters latency mode at the end of the first window whose p99 exceeds
 * the budget, so within two windows of the onset of interference. Latency
 * mode hides the interference it fights, so the way back is judged on two
 * signals: the window p99 below budget * (1 - hysteresis) AND background
 * (bulk + prefetch) completions down to POL_MODE_QUIET of their rate in the
 * window that triggered the switch (when there was any), for
 * adaptive_calm_windows windows in a
 * row. A return that proves premature (back in latency mode within that many
 * windows) doubles the calm windows required next time, so a misjudged load
 * cannot make the mode oscillate faster than exponentially less often.
 */
#ifndef LATSURF_POL_MODE_H
#define LATSURF_POL_MODE_H

#include "policy.h"

#define POL_MODE_WINDOW 512     /* latencies sampled per window (reservoir) */
#define POL_MODE_MIN_SAMPLES 20 /* a window closes only with this many */
#define POL_MODE_QUIET 0.1      /* background rate that counts as "the tenant left" */
#define POL_MODE_MAX_CALM 64    /* cap of the doubled calm-window requirement */

typedef struct {
    pol_mode_t configured, current;
    pol_config_t cfg;
    uint64_t window_start;
    uint64_t lat[POL_MODE_WINDOW];
    uint32_t nlat;              /* kept in lat[] */
    uint64_t nseen;             /* judged latencies in this window */
    uint64_t nbackground;       /* background completions in this window */
    double trigger_rate;        /* background per ns in the window that chose latency */
    uint32_t calm, need;        /* calm windows so far / required to leave latency */
    uint64_t returned_at;       /* last switch back to throughput */
    uint64_t rng;               /* reservoir sampling */
    pol_switch_t sw[POL_MAX_SWITCHES];
    uint32_t nsw;
} pol_mode_state_t;

void pol_mode_init(pol_mode_state_t *m, pol_mode_t mode, const pol_config_t *cfg);
void pol_mode_place(const pol_mode_state_t *m, const pol_view_t *v, const pol_intent_t *in,
                    pol_placement_t *o);
void pol_mode_feedback(pol_mode_state_t *m, uint64_t now_ns, const pol_intent_t *in,
                       uint64_t latency_ns);

#endif
