/*
 * costs.h - the host's calibrated costs: every CPU, kernel and transfer cost
 * the models charge, by name, with a default from published measurements
 * (docs/models.md lists each with its source) that a calibration file
 * (docs/calibration.md) may replace by a measured value, empirical quantiles
 * or a fitted distribution.
 *
 * Drawing a cost with no distribution returns its value exactly, so the
 * mechanism tests can assert latencies derived from the configured numbers.
 */
#ifndef LATSURF_COSTS_H
#define LATSURF_COSTS_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

typedef enum {
    COST_URING_SUBMIT_CALL, /* io_uring_enter, per call */
    COST_URING_SUBMIT_SQE,  /* per SQE: io_uring prep + blk-mq submit */
    COST_URING_WAIT,        /* io_uring_enter(GETEVENTS) entry/exit */
    COST_BLK_DISPATCH,      /* blk-mq dispatch + driver queue_rq + doorbell */
    COST_SCHED_DEADLINE,    /* mq-deadline insert + dispatch */
    COST_IRQ_HANDLER,       /* hard IRQ entry + nvme_irq CQ processing */
    COST_BLK_COMPLETE,      /* block softirq: request + bio completion */
    COST_IPI,               /* IPI delivery to another CPU */
    COST_TASK_WORK,         /* io_uring task_work run */
    COST_CQE_POST,          /* filling a CQE */
    COST_WAKEUP_SAME,       /* wake a thread on the waker's CPU until it runs */
    COST_WAKEUP_CROSS,      /* ... on another CPU (includes the IPI) */
    COST_CONTEXT_SWITCH,
    COST_IDLE_EXIT,         /* C-state exit when a CPU was idle long */
    COST_IDLE_DEEP_AFTER,   /* idle time after which the exit cost applies */
    COST_MEM_LOCAL_KIB,     /* first touch of completed data, ns per KiB */
    COST_MEM_REMOTE_KIB,    /* ... when the buffer is on another NUMA node */
    COST_MEM_WARM_FACTOR,   /* fraction left when completion ran on the consumer CPU */
    COST_POLL,              /* one poll iteration */
    COST_REG_FIXED,         /* memory registration, fixed part */
    COST_REG_PAGE,          /* ... per 4 KiB page */
    COST_DEREG,             /* deregistration */
    COST_RDMA_LATENCY,      /* one-way network latency */
    COST_RDMA_GBPS,         /* link bandwidth, GB/s */
    COST_RDMA_CQ_EVENT,     /* completion channel event -> consumer runs */
    COST_GPU_COPY_LAUNCH,   /* host-to-device copy launch */
    COST_GPU_GBPS,          /* copy engine bandwidth, GB/s */
    COST_DEVICE_READ_4K,    /* QD1 4 KiB read, block_rq_issue -> the device's interrupt */
    /* Fidelity I: costs charged where they fall, and the scheduler of the host */
    COST_IRQ_PER_CQE,       /* hard IRQ: each CQE reaped beyond the first */
    COST_IPI_SEND,          /* CPU time an IPI costs its sender */
    COST_IPI_RECV,          /* ... and its receiver (inside ipi_ns) */
    COST_TIMER_OVERSHOOT,   /* hrtimer sleep: actual - requested, incl. the switch-in */
    COST_MIGRATION,         /* moving a thread to another CPU (both run queues) */
    COST_SCHED_HZ,          /* CONFIG_HZ of the host */
    COST_KERNEL_VERSION,    /* major * 100 + minor of the host kernel */
    COST_PREEMPT_MODEL,     /* 0 none, 1 voluntary, 2 full */
    /* Fidelity II: the device's parallelism (calibrate/calqd.h) */
    COST_DEVICE_UNITS,      /* parallel units of devices.N.service "calibrated" */
    COST_COMPLETE_TO_CQE_SAME, /* traced block_rq_complete -> io_uring_complete, waiter on that CPU */
    COST_N
} cost_id_t;

typedef enum { COST_FIXED, COST_EMPIRICAL, COST_LOGNORMAL, COST_GAMMA, COST_EXPONENTIAL } cost_kind_t;

#define COST_NQ 9 /* p1 p5 p10 p25 p50 p75 p90 p95 p99 */

typedef struct {
    double value;
    cost_kind_t kind;
    double q[COST_NQ];
    double a, b;      /* lognormal mu/sigma, gamma k/theta, exponential mean */
    int measured;     /* 1 when a calibration file set it */
} cost_t;

typedef struct {
    cost_t c[COST_N];
    char source[256]; /* calibration file, or "built-in defaults" */
} costs_t;

typedef struct {
    const char *name, *unit, *source;
    double value;
} cost_info_t;

extern const cost_info_t costs_info[COST_N];

void costs_defaults(costs_t *k);
/* Load a calibration file over the defaults. -EINVAL with err ("FILE: params.X: ...")
 * on bad input, -ENOENT if it cannot be read. */
int costs_load(costs_t *k, const char *path, char *err, size_t errlen);

static inline double costs_value(const costs_t *k, cost_id_t id) { return k->c[id].value; }
double costs_draw(const costs_t *k, cost_id_t id, gsl_rng *r);

#endif
