/*
 * blkmq.h - the Linux multi-queue block layer for one device, as 6.x has it:
 * per-CPU software queues mapped to hardware queues (one map per queue set
 * of the nvme driver: default, read when nvme.write_queues > 0, poll when
 * nvme.poll_queues > 0, each the inverse of its set's spread), a tag set of
 * queue_depth tags per hardware queue (a request without a tag waits), the
 * I/O scheduler (none or mq-deadline; by default what Linux picks), and the
 * completion path of blk_mq_complete_request_remote(): a multi-queue device
 * completes in the hard-IRQ handler on the interrupt CPU; with rq_affinity 1
 * a completion whose interrupt CPU does not share a last-level cache with
 * the submitting CPU (2: any other CPU) goes by IPI to the submitter and
 * runs there as BLOCK_SOFTIRQ; a single-queue device completes in the block
 * softirq of the interrupt CPU; softirq work goes to ksoftirqd when the
 * backlog is long (kernel/softirq.c); a polled request completes where it
 * was polled.
 */
#ifndef LATSURF_BLKMQ_H
#define LATSURF_BLKMQ_H

#include "models/costs.h"
#include "models/cpu.h"
#include "models/host.h"
#include "models/req.h"
#include "models/ssd.h"

typedef struct blkmq blkmq_t;
typedef void (*blkmq_fn)(void *ctx, req_t *r);

typedef struct {
    const host_cfg_t *host;
    const ssd_cfg_t *dev;       /* queue sets and depth */
    uint32_t rq_affinity;       /* the queue's sysfs rq_affinity, 0..2 */
} blkmq_cfg_t;

/* dispatch: hand r to the driver (t_dispatch set). complete: r's completion
 * ran (t_blk_done, completion_cpu, maybe deferred set). */
blkmq_t *blkmq_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const blkmq_cfg_t *cfg,
                   blkmq_fn dispatch, blkmq_fn complete, void *ctx);
void blkmq_free(blkmq_t *b);

/* [cpus] -> hardware queue for a request submitted from each CPU: the poll
 * set for polled requests, the read set for reads when there is one, else
 * the default set (blk_mq_map_queue). */
const uint32_t *blkmq_cpu_map(const blkmq_t *b, bool write, bool polled);

/* CPU cost of submitting r through blk-mq (charged by the caller, inside
 * its syscall), drawn for r (models/costs.h); r NULL: the costs' values. */
double blkmq_submit_cost(const blkmq_t *b, const req_t *r);
/* Requests holding a tag of the hardware queue that `cpu` submits to. */
uint32_t blkmq_inflight(const blkmq_t *b, uint32_t cpu, bool write);
/* The same for a request that is not the first of a plugged submit call:
 * io_uring plugs a call of more than 2 SQEs (io_submit_state_start), and
 * blk_finish_plug dispatches the list in one queue run whose driver
 * notifies the device once, for the last request (bd->last: virtio_queue_rq
 * kicks only then, nvme_queue_rq rings the SQ doorbell only then), so the
 * queue run's own cost is the first request's (blk_dispatch_ns, as traced
 * at QD1) and each further one costs blk_dispatch_per_rq_ns (calibrated
 * only; else blk_dispatch_ns again). Drawn for r. */
double blkmq_submit_cost_plugged(const blkmq_t *b, const req_t *r);

/* r was submitted to the block layer on `cpu` (its software queue): r->hwq
 * follows from the CPU map; take a tag and dispatch, or wait for one. */
void blkmq_submit(blkmq_t *b, req_t *r, uint32_t cpu);

/* The interrupt for r ran on r->irq_cpu: complete it where Linux does. */
void blkmq_complete(blkmq_t *b, req_t *r);

/* Polled completion (IOPOLL): reaped by the polling thread on its CPU, no
 * IRQ; the completion is the poller's CPU time. */
void blkmq_complete_polled(blkmq_t *b, req_t *r, cpu_thread_t *poller);

#endif
