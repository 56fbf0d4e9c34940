/*
 * harness.h - one run of a scenario variant on either executor (the
 * contract is models/exec.h): the harness owns the engine, the request
 * pool, the collector, the policy object, the workloads with their
 * wl_env_t, and the placement of every request, so the simulated path and
 * the live backend differ only in what carries a placed request out.
 *
 * The simulated runner (run/runner.h) and the live runs (run/liverun.h)
 * call harness_run with path_exec_ops or live_exec_ops.
 */
#ifndef LATSURF_HARNESS_H
#define LATSURF_HARNESS_H

#include "models/exec.h"
#include "models/host.h"
#include "run/scenario.h"
#include "sim/result.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const exec_ops_t *ops;
    const void *exec_cfg;            /* the executor's configuration (path_cfg_t, live_cfg_t) */
    const pol_variant_t *variant;
    const pol_config_t *polcfg;
    const host_cfg_t *host;          /* host.wait / host.taskrun overrides; may be NULL */
    const scn_workload_t *wl;
    uint32_t nwl;
    uint64_t seed;
    uint32_t rep;
    sim_time_t warm, end;
    uint32_t record_requests;        /* request rows kept in the result */
    uint64_t max_inflight;           /* requests in flight beyond which the run fails; 0: none */
    /* With series != NULL, the mean latency per bin of issue time
     * (series_bins bins over [0, end)); empty bins repeat the last mean, and
     * no request rows are kept (the MSER-5 pilot). */
    double *series;
    uint32_t series_bins;
    const volatile sig_atomic_t *stop; /* the caller's flag: wind down early; may be NULL */
    const exec_progress_t *progress;   /* NULL: no progress reports */
} harness_cfg_t;

/* 0; -EINTR (*stop was set); -EINVAL (the offered load overflowed
 * max_inflight, or the executor found bad input; err says what); or another
 * -errno, with err when there is more to say than strerror. */
int harness_run(const harness_cfg_t *c, result_t *out, char *err, size_t errlen);

#endif
