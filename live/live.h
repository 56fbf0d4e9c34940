/*
 * live.h - the live executor (models/exec.h): a scenario variant's
 * workloads replayed on a real target through the same harness
 * (run/harness.h) and policy objects as the simulator.
 *
 * The workload generators are the simulator's own (workload/): they run on
 * the harness's sim_t used as a timer wheel in wall-clock time, so
 * open-loop arrivals, think times and dependencies keep their meaning. The
 * harness places each request with the policy and hands it to
 * live_exec_ops.submit instead of the simulated path: the io_uring backend
 * (live/backend.h) executes, and on completion the harness's collector and
 * pol_complete see the request exactly as in a simulated run. One lock (the
 * engine lock, live_exec_ops.lock) covers the sim_t, the policy and the
 * collector; the backend's workers take it only to finish a request.
 *
 * Time 0 is the run's start on CLOCK_MONOTONIC; all request stamps are ns
 * since then. Open-loop arrivals and think times end at their simulated
 * time, and a request's latency counts from when it was due (no
 * coordinated omission). The first worker started runs the timers
 * (live_be_timer_due): it sleeps until the earlier of its next CQE and the
 * next timer (1 ns timer slack) and issues what is due on its own ring, as
 * an open-loop client's thread does; the driver then wakes only every
 * 10 ms (stop, warm-up mark, end) and runs a timer it finds late.
 * Before the first worker, and while that worker runs CPU work, the driver
 * runs them: it wakes at the earliest pending timer (sim_next, 1 ns slack)
 * and at least every LIVE_TICK_NS. What a completion makes due at once (a chain's
 * next request without a think time) is issued on the completing worker,
 * the consumer's own thread. A workload's CPU work (exec_ops_t.cpu_work, a
 * trace's think_cpu_ns) is a busy loop on the consumer's worker thread
 * (live_be_cpu_work). With cfg.pread the workers do each request in one
 * blocking pread/pwrite and the driver runs every timer.
 *
 * finish fails the run with -EINTR (stopped: every CQE reaped, nothing
 * kept), -EINVAL (bad input: the workload writes without permission or
 * beyond the target; err says which), -EIO (I/Os failed) or -errno.
 */
#ifndef LATSURF_LIVE_H
#define LATSURF_LIVE_H

#include "live/target.h"
#include "live/topology.h"
#include "models/exec.h"
#include "models/host.h"

#include <stdbool.h>
#include <stddef.h>

#define LIVE_TICK_NS 50000

/* live_exec_ops.init's configuration. */
typedef struct {
    const live_target_t *target;
    const live_topo_t *topo;
    const host_cfg_t *host;              /* sqpoll settings; may be NULL */
    bool trace;                          /* kernel stamps from tracefs (live/stamps.h) */
    bool rdma;                           /* RDMA continuations (the caller checked a device) */
    /* --submit pread: each request a blocking pread/pwrite on its consumer's
     * thread (live/backend.h, cfg.sync), for replaying a program that read
     * that way; every timer then runs on the driver. Not with trace. */
    bool pread;
    bool thinks; /* a workload's completions may ask CPU work (wl_ops_t.thinks) */
    /* Out: what the host could not do as the policy asked ("" if nothing),
     * written by finish. */
    char *notes;
    size_t nlen;
} live_cfg_t;

extern const exec_ops_t live_exec_ops;

#endif
