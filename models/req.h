/*
 * req.h - one simulated I/O request and its boundary timestamps.
 *
 * A request carries one timestamp per boundary of the host I/O path
 * (DESIGN.md "Request path", indexed by sim/metric.h's T_*); stage i is
 * t[i+1] - t[i], so the stages sum to the end-to-end latency by
 * construction. Requests come from a pool with a free list: the workload
 * allocates one, the path fills in the timestamps and calls `done` when the
 * consumer is ready (or the continuation is done), and the workload gives it
 * back.
 */
#ifndef LATSURF_REQ_H
#define LATSURF_REQ_H

#include "policies/policy.h"
#include "sim/metric.h"
#include "sim/sim.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { REQ_READ = 0, REQ_WRITE = 1, REQ_NOPS } req_op_t;
extern const char *const req_op_names[]; /* "read", "write", NULL */

typedef struct req req_t;
typedef void (*req_done_fn)(sim_t *sim, req_t *r);

struct req {
    uint64_t id;
    uint64_t offset;     /* bytes */
    uint32_t bytes;
    uint32_t flow;
    uint8_t op;          /* req_op_t */
    uint8_t cls;         /* pol_class_t */
    uint8_t gates;       /* a next step waits on it ("useful completion") */
    uint8_t deferred;    /* CQE posted through deferred work (docs/metrics.md) */
    /* consumer_cpu: where the placement puts the consumer until t_ready; from
     * t_ready on, the CPU its thread ran on when it consumed the data */
    int16_t submit_cpu, completion_cpu, consumer_cpu;
    int16_t gpu;         /* -1: no GPU continuation */
    uint8_t rdma;        /* forward the bytes to the RDMA peer when ready */
    uint8_t gpu_direct;  /* device DMA went straight to the GPU (no host hop) */
    uint8_t pooled;      /* 1: a pool worker on pool_cpu consumes it; 2: handed over */
    int16_t pool_cpu;
    sim_time_t t[REQ_NT];
    /* owner's completion hook and cookie */
    req_done_fn done;
    void *owner;
    uint64_t tag;
    uint64_t buf;        /* buffer region (registration cache key), 0 = private */
    double budget_ns;    /* latency budget, 0 = none */
    float prefetch_conf; /* prefetch confidence in [0,1] */
    uint8_t recurring;   /* flow declared recurring */
    /* placement decided by the policy, executed by the models */
    uint8_t wait;        /* pol_wait_t */
    uint8_t taskrun;     /* pol_taskrun_t */
    uint8_t coalesce;    /* interrupt coalescing allowed (what_if.coalescing_bypass) */
    uint8_t prio;        /* pol_prio_t: the ioprio class asked for */
    uint8_t pinned;      /* buffer registered for the continuation */
    uint8_t polled;      /* reaped by IOPOLL, no interrupt */
    uint8_t holds_bg;    /* holds the device's background work while in flight */
    uint8_t irq_far;     /* the consumer is not on its queue's vector CPU (models/costs.h) */
    uint8_t timer_wake;  /* an open-loop arrival the consumer sleeps for on an hrtimer
                            (workload "wake": "timer"): if asleep, it pays the overshoot */
    uint16_t dev;        /* target device */
    uint32_t hwq;        /* hardware queue = SQ/CQ pair = vector, from blk_cpu */
    int16_t blk_cpu;     /* blk-mq software queue: the CPU that submitted the bio */
    int16_t irq_cpu;     /* where the vector fired */
    /* scratch for the models while the request is in flight */
    req_t *next;         /* intrusive list link (batches, pending CQEs, waiters) */
    uint32_t next_free;
    uint32_t thread;     /* the consumer thread (models/uring.c) */
    int16_t home_cpu;    /* the consumer CPU the workload declared, before placement */
    sim_time_t cpu_ns;   /* host CPU time charged to this request */
    sim_time_t chain_ns; /* models/uring.c: while the SQE waits, its submit cost in a plugged
                            call; later, a resampled completion chain after its wakeup */
};

/* A FIFO of requests on their `next` links: a batch of SQEs, the CQEs a
 * vector holds back, the waiters for a tag. */
typedef struct {
    req_t *head, *tail;
    uint32_t n;
} req_fifo_t;

static inline void req_fifo_push(req_fifo_t *f, req_t *r)
{
    r->next = NULL;
    if (f->tail)
        f->tail->next = r;
    else
        f->head = r;
    f->tail = r;
    f->n++;
}

/* The oldest request, unlinked; NULL when f is empty. */
static inline req_t *req_fifo_pop(req_fifo_t *f)
{
    req_t *r = f->head;
    if (!r)
        return NULL;
    f->head = r->next;
    if (!f->head)
        f->tail = NULL;
    f->n--;
    r->next = NULL;
    return r;
}

/* The whole list (still linked through `next`), leaving f empty. */
static inline req_t *req_fifo_take(req_fifo_t *f)
{
    req_t *r = f->head;
    *f = (req_fifo_t){0};
    return r;
}

/* The intent the application declared with r, as the policies see it: the
 * one conversion both executors (models/path.c and live/) use. */
pol_intent_t req_intent(const req_t *r);

/* The policy's answer applied to r, the one way for both executors (the
 * harness calls it, run/harness.c): on POL_ADMIT, r gets its submit and
 * consumer (wrapped into ncpus) CPUs, wait and task_work modes, coalescing
 * wish and priority (the hardware queue and the completion CPU are not the
 * policy's: the executor derives them as Linux does); wait and taskrun >= 0
 * force those modes whatever the policy says (the scenario's host.wait and
 * host.taskrun), -1 leaves them to it. Returns pl->admit; r is untouched
 * unless it is POL_ADMIT (LATER: the caller retries after pl->retry_ns;
 * DROP: the caller counts the drop and hands r back). */
pol_admit_t req_apply_placement(req_t *r, const pol_placement_t *pl, uint32_t ncpus, int wait,
                                int taskrun);

typedef struct req_pool req_pool_t;

req_pool_t *req_pool_new(void);
void req_pool_free(req_pool_t *p);
req_t *req_alloc(req_pool_t *p); /* zeroed, ids increasing; NULL on ENOMEM */
void req_release(req_pool_t *p, req_t *r);
uint64_t req_pool_live(const req_pool_t *p);
uint64_t req_pool_done(const req_pool_t *p); /* allocated and released again */
/* Refuse allocations beyond `max` live requests (0 = no limit); an
 * overloaded open-loop workload then stops growing memory, and the pool
 * remembers that it refused. */
void req_pool_set_limit(req_pool_t *p, uint64_t max);
bool req_pool_overflowed(const req_pool_t *p);

#endif
