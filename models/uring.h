/*
 * uring.h - io_uring on the host: one ring per submitting CPU. Submission is
 * an io_uring_enter call (per-call + per-SQE cost, SQEs batched per the
 * placement) or, with SQPOLL, pickup by the SQ thread on its CPU (which
 * sleeps after sq_thread_idle). Completion posts the CQE through task_work in
 * the submitting task, as the set-up flags say: default (TWA_SIGNAL: an IPI
 * interrupts a running task), COOP_TASKRUN (waits for the task's next kernel
 * transition) or DEFER_TASKRUN (runs only when the task waits); the consumer
 * either sleeps (woken on its CPU, same- or cross-CPU cost) or polls
 * (IOPOLL reaps the device queue itself, no interrupt). Owns the rings.
 */
#ifndef LATSURF_URING_H
#define LATSURF_URING_H

#include "models/costs.h"
#include "models/cpu.h"
#include "models/host.h"
#include "models/req.h"

typedef struct uring uring_t;
typedef void (*uring_fn)(void *ctx, req_t *r);

/* submitted: SQE consumed (t_submit set); hand it to blk-mq. ready: the
 * consumer runs with the data (t_cqe, t_ready set). */
uring_t *uring_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const host_cfg_t *host,
                   uring_fn submitted, uring_fn ready, void *ctx);
void uring_free(uring_t *u);

/* Queue r's SQE on the ring of r->submit_cpu. batch/window from the placement. */
void uring_submit(uring_t *u, req_t *r, uint32_t batch, sim_time_t window, double per_sqe_ns);

/* r's block-layer completion ran on r->completion_cpu: post its CQE. */
void uring_complete(uring_t *u, req_t *r);

/* CPU time spent spinning in poll waits so far. */
double uring_poll_ns(const uring_t *u);
void uring_reset_stats(uring_t *u);

#endif
