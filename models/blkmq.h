/*
 * blkmq.h - the Linux multi-queue block layer for one device: per-CPU
 * software queues mapped to hardware queues, a tag set of queue_depth tags
 * per hardware queue (a request without a tag waits), the I/O scheduler
 * (none or mq-deadline), and the completion path: rq_affinity 0/1/2 decides
 * whether the completion runs on the interrupt CPU or goes by IPI to the
 * submitter (Documentation/block/queue-sysfs.rst), as block softirq work,
 * deferred to ksoftirqd when the softirq backlog is long (kernel/softirq.c).
 */
#ifndef LATSURF_BLKMQ_H
#define LATSURF_BLKMQ_H

#include "models/costs.h"
#include "models/cpu.h"
#include "models/host.h"
#include "models/req.h"

typedef struct blkmq blkmq_t;
typedef void (*blkmq_fn)(void *ctx, req_t *r);

/* dispatch: hand r to the driver (t_dispatch set). complete: r's completion
 * ran (t_blk_done, completion_cpu, maybe deferred set). */
blkmq_t *blkmq_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const host_cfg_t *host,
                   uint32_t nqueues, uint32_t depth, blkmq_fn dispatch, blkmq_fn complete,
                   void *ctx);
void blkmq_free(blkmq_t *b);

const uint32_t *blkmq_cpu_map(const blkmq_t *b); /* [cpus] -> hardware queue */

/* CPU cost of submitting one request through blk-mq (charged by the caller,
 * inside its syscall). */
double blkmq_submit_cost(const blkmq_t *b);

/* r->hwq chosen: take a tag and dispatch, or wait for one. */
void blkmq_submit(blkmq_t *b, req_t *r);

/* The interrupt for r ran on r->irq_cpu. forced_cpu >= 0 overrides
 * rq_affinity (a policy steering the completion). */
void blkmq_complete(blkmq_t *b, req_t *r, int32_t forced_cpu);

/* Polled completion (IOPOLL): reaped by the polling thread on its CPU, no
 * IRQ; the completion is the poller's CPU time. */
void blkmq_complete_polled(blkmq_t *b, req_t *r, cpu_thread_t *poller);

#endif
