/*
 * path.h - a request's whole path through the host, wired in one place:
 * policy placement -> io_uring submission -> blk-mq -> SSD -> MSI-X ->
 * blk-mq completion -> CQE posting and consumer wakeup -> continuation ->
 * back to the harness. Every layer is its own module (uring, blkmq, ssd, irq,
 * cpu, mem); this file only connects their callbacks.
 *
 * It is the simulated executor (models/exec.h): the harness (run/harness.h)
 * places each request with the policy and hands it to path_exec_ops.submit;
 * the path calls the harness back when the consumer (or the continuation)
 * is done. Time is the engine's virtual time.
 */
#ifndef LATSURF_PATH_H
#define LATSURF_PATH_H

#include "models/costs.h"
#include "models/exec.h"
#include "models/host.h"
#include "models/ssd.h"

/* path_exec_ops.init's configuration: the variant's host and devices. */
typedef struct {
    const host_cfg_t *host;
    const ssd_cfg_t *dev;
    uint32_t ndev;
    const costs_t *costs;
} path_cfg_t;

/* The simulated executor. run checks *env->stop and the pool's overflow
 * every simulated millisecond; finish reports host CPU time on I/O after
 * warm-up (background tasks excluded). */
extern const exec_ops_t path_exec_ops;

#endif
