/*
 * live.h - one live run: a scenario variant's workloads replayed on a real
 * target through the same policy objects the simulator links.
 *
 * The workload generators are the simulator's own (workload/): they run on
 * a sim_t used as a timer wheel in wall-clock time, so open-loop arrivals,
 * think times and dependencies keep their meaning. Their requests go to
 * live_submit instead of the simulated path: pol_place decides, the io_uring
 * backend (live/backend.h) executes, and on completion the collector
 * (models/collect.h) and pol_complete see the request exactly as in a
 * simulated run. One lock (the engine lock) covers the sim_t, the policy
 * and the collector; the backend's workers take it only to finish a request.
 *
 * Time 0 is the run's start on CLOCK_MONOTONIC; all request stamps are ns
 * since then. Open-loop arrivals are due at their simulated time; the driver
 * wakes every LIVE_TICK_NS while timers are pending (sim.h has no "next
 * event" query), so an arrival may be issued up to a tick late, and its
 * latency counts from when it was due (no coordinated omission).
 */
#ifndef LATSURF_LIVE_H
#define LATSURF_LIVE_H

#include "live/target.h"
#include "live/topology.h"
#include "models/host.h"
#include "policies/policy.h"
#include "sim/result.h"
#include "workload/workload.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define LIVE_TICK_NS 50000

typedef struct {
    const wl_ops_t *ops;
    const void *params;
} live_wl_t;

typedef struct {
    const live_target_t *target;
    const live_topo_t *topo;
    const pol_variant_t *variant;
    const pol_config_t *polcfg;
    const host_cfg_t *host;
    const live_wl_t *wl;
    uint32_t nwl;
    uint64_t seed;
    uint32_t rep;
    double duration_ms, warmup_ms;
    uint32_t record_requests;            /* request rows kept in the result */
    bool trace;                          /* kernel stamps from tracefs (live/stamps.h) */
    bool rdma;                           /* RDMA continuations (the CLI checked a device) */
    const volatile sig_atomic_t *stop;   /* set by a signal handler: wind down */
} live_cfg_t;

/* Run one variant. 0; -EINTR (stopped: every CQE reaped, nothing kept);
 * -EINVAL (bad input: the workload writes without permission or beyond the
 * target; err says which); -EIO (I/Os failed); or -errno. notes gets what
 * the host could not do as the policy asked ("" if nothing). */
int live_run(const live_cfg_t *c, result_t *out, char *notes, size_t nlen, char *err,
             size_t errlen);

#endif
