/*
 * uring.h - io_uring on the host, and the consumer threads that use it.
 *
 * A consumer is a fair thread (models/cpu.h) with its own ring: one per
 * (flow, declared consumer CPU) of the workloads, so a workload is one
 * thread unless it spreads its work over CPUs or flows. The thread runs
 * where the placement puts the consumer; moving it costs migration_ns and
 * a cold cache for its working set (host.consumer_working_set_kib), as
 * thread work on the new CPU.
 *
 * Submission is an io_uring_enter call on the thread (per-call + per-SQE
 * cost, SQEs batched per the placement) or, with SQPOLL, pickup by the SQ
 * thread on its CPU (which sleeps after sq_thread_idle). Completion posts the
 * CQE through task_work in the submitting task, as the set-up flags say:
 * default (TWA_SIGNAL: an IPI interrupts a running task), COOP_TASKRUN
 * (waits for the task's next kernel transition) or DEFER_TASKRUN (runs only
 * when the task waits). The consumer either sleeps (woken on its CPU, same-
 * or cross-CPU cost) or polls: a polling thread spins on its CPU, runnable
 * like any thread, and notices a completion only when it runs; hybrid
 * polling (IORING_SETUP_HYBRID_IOPOLL) first sleeps half the shortest wait
 * seen so far on an hrtimer, which wakes it timer_overshoot_ns late. Owns
 * the consumers and their rings.
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
/* kick_p(ctx, r): the probability that the call r starts rings the
 * doorbell: the device's own answer where it has one (a batch device asks
 * for a kick only while idle), else the calibrated fraction for the requests
 * already outstanding (models/costs.h); unset: every call rings. */
void uring_set_kick_p(uring_t *u, double (*kick_p)(void *ctx, const req_t *r));
void uring_free(uring_t *u);

/* Queue r's SQE on its consumer's ring, moving the consumer to
 * r->consumer_cpu first. batch/window from the placement. per_sqe_ns: the
 * block layer's cost of r alone; plugged_ns: of r when it is not the first
 * of a call of more than 2 SQEs (blk_start_plug: blkmq_submit_cost_plugged).
 * A consumer that waits by interrupt submits what it queued while it still
 * had work (completions to run) in one call at the end of that work, as a
 * program does that reaps every CQE it finds and then calls
 * io_uring_submit() once (latsurf live, fio, calibrate's depth sweep).
 * 0, or -ENOMEM (the run's sticky error is set). */
int uring_submit(uring_t *u, req_t *r, uint32_t batch, sim_time_t window, double per_sqe_ns,
                 double plugged_ns);

/* r's block-layer completion ran on r->completion_cpu: post its CQE. */
void uring_complete(uring_t *u, req_t *r);

/* r's completion reached its consumer (before the consumer's own work for
 * it): a hybrid poller still in its sleep leaves it waiting - deferred
 * (docs/metrics.md), as task_work waiting for a busy COOP/DEFER task is.
 * Called by uring_complete, and by the device's poll path (IOPOLL). */
void uring_arrived(uring_t *u, req_t *r);

/* The consumer thread of r (after uring_submit). */
cpu_thread_t *uring_thread(const uring_t *u, const req_t *r);

/* The thread of consumer (flow, declared CPU home), created on home if it
 * has not submitted yet (its first request then finds it); NULL on ENOMEM. */
cpu_thread_t *uring_consumer_thread(uring_t *u, uint32_t flow, int16_t home);

#endif
