/*
 * path.h - a request's whole path through the host, wired in one place:
 * policy placement -> io_uring submission -> blk-mq -> SSD -> MSI-X ->
 * blk-mq completion -> CQE posting and consumer wakeup -> continuation ->
 * collector. Every layer is its own module (uring, blkmq, ssd, irq, cpu, mem);
 * this file only connects their callbacks and asks the policy what to do.
 */
#ifndef LATSURF_PATH_H
#define LATSURF_PATH_H

#include "models/collect.h"
#include "models/costs.h"
#include "models/host.h"
#include "models/req.h"
#include "models/ssd.h"
#include "policies/policy.h"

typedef struct {
    const host_cfg_t *host;
    const ssd_cfg_t *dev;
    uint32_t ndev;
    const pol_variant_t *variant;
    const pol_config_t *pol;
    const costs_t *costs;
    uint64_t seed;
    uint32_t rep;
    collect_t *col;
} path_cfg_t;

typedef struct path path_t;

path_t *path_new(sim_t *sim, const path_cfg_t *cfg);
void path_free(path_t *p);

/* The workload's entry point (wl_env_t.submit): takes r until r->done. */
void path_submit(void *path, req_t *r);

/* End of warm-up: forget CPU accounting so far. */
void path_reset_stats(path_t *p);
/* Host CPU time spent on I/O since the reset (excludes background tasks). */
double path_cpu_ns(const path_t *p);
const pol_t *path_policy(const path_t *p);

#endif
