/*
 * costs.h - the host's calibrated costs: every CPU, kernel and transfer cost
 * the models charge, by name, with a default from published measurements
 * (docs/models.md lists each with its source) that a calibration file
 * (docs/calibration.md) may replace by a measured value, empirical quantiles
 * or a fitted distribution.
 *
 * Drawing a cost with no distribution returns its value exactly, so the
 * mechanism tests can assert latencies derived from the configured numbers.
 *
 * Draws on the host path are keyed, not sequential: costs_req() draws the
 * cost of stage `id` for request r from a counter-based generator (Random123
 * Philox2x32, 7 rounds: models/costs.c says why) at counter (the request's
 * identity, the stage) under the run's key (seed, replication). The
 * request's identity is what the workload made it (flow, tag, offset, op),
 * not the order or CPU it ran on, so a variant that moves a consumer or
 * reorders completions draws the same numbers for the same request (common
 * random numbers across variants).
 *
 * An empirical cost is the inverse CDF through its quantiles (p1 .. p99,
 * and p99.9 / p99.99 where calibrate had the samples), linear between them;
 * beyond the last quantile, the generalized Pareto tail calibrate fitted
 * above p95 ("tail"), spliced on there, cut at twice the largest sample
 * seen (flat at the last quantile without a tail).
 *
 * The device's load-dependent service curve (device_units.curve, knots
 * "k" and "service_ns") is loaded into dev_curve; a file without one
 * leaves it empty, and devices.N.service "calibrated" then falls back on
 * the c parallel units (device_units' value).
 *
 * Side-conditioned costs: a cost calibrate measured on both sides of the
 * interrupt (NAME from requests whose consumer ran on the vector's CPU,
 * NAME with "_cross" before "_ns" from the others: the dispatch, the
 * handler, the block completion) is drawn from the side the request is on
 * (req_t.irq_far), with the same uniform, so that the variants stay paired.
 *
 * The completion chain (block completion -> CQE -> waiter running) is not
 * drawn stage by stage where calibrate measured it whole
 * ("completion_chains"): costs_chain() resamples one measured chain,
 * conditioned on the waiter being on the completion CPU or not and on its
 * CPU being idle or busy, so the stages keep their measured correlation.
 */
#ifndef LATSURF_COSTS_H
#define LATSURF_COSTS_H

#include "models/req.h"
#include "models/vmfreeze.h"
#include "sim/calfmt.h"
#include "sim/svcurve.h"

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

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
    /* Fidelity II: what the kernel does once per batch (calibrate/calbatch.h) */
    COST_BLK_COMPLETE_PER_RQ, /* each further request of one BLOCK_SOFTIRQ run (blk_complete_reqs) */
    COST_BLK_DISPATCH_PER_RQ, /* each further request of a plugged submit call (> 2 SQEs) */
    COST_TASK_WORK_PER_CQE,   /* each further completion of one io_uring task_work run */
    COST_DOORBELL,            /* a submit call's doorbell after its last block_rq_issue */
    COST_IPI_SEND_IDLE,       /* an IPI's cost to its sender when its target CPU is idle */
    COST_DEVICE_READ_PER_KIB, /* a calibrated read's device time per KiB beyond 4 */
    COST_IPI_RECV_IDLE,       /* an IPI's cost to its receiver when it woke it from idle */
    COST_IRQ_BUSY,            /* a device interrupt's later delivery to a CPU that is running */
    COST_TIMER_WAKE_CPU,      /* an hrtimer sleep's CPU in the sleeping thread */
    COST_TIMER_WAKE_IRQ,      /* an hrtimer sleep's CPU in no thread: expiry interrupt, idle exit */
    /* a completion on a CPU other than the one that submitted it, per read at depth
     * (calibrate/calqd.h, calqd_remote_costs), charged to the completions that join a
     * batch (the first of one pays QD1 costs measured on its side); calibrated only */
    COST_REMOTE_SOFTIRQ,      /* ... joining a BLOCK_SOFTIRQ list: extra on the completing CPU */
    COST_REMOTE_TASK_WORK,    /* ... joining a task_work run: extra on the consumer's CPU */
    /* what `latsurf trace record` costs a traced read (calibrate/caltrace.h),
     * charged by host.traced only; fixed values, as calibrate measures them */
    COST_TRACE_SYSCALL,        /* CPU tracing adds to the reader's call */
    COST_TRACE_DRAIN_EVENT,    /* the recorder's CPU per event it drains */
    COST_TRACE_EVENTS_PER_READ, /* events drained per traced read */
    COST_N
} cost_id_t;

typedef enum { COST_FIXED, COST_EMPIRICAL, COST_LOGNORMAL, COST_GAMMA, COST_EXPONENTIAL } cost_kind_t;

#define COST_NQ CALFMT_NQ /* p1 p5 p10 p25 p50 p75 p90 p95 p99, then p99.9 p99.99 if measured */

typedef struct {
    double value;
    cost_kind_t kind;
    int nq;           /* quantiles in q (9 to 11) of an empirical cost */
    double q[COST_NQ];
    double slope[COST_NQ]; /* (q[i] - q[i-1]) / (p_i - p_{i-1}), for the draws */
    double a, b;      /* lognormal mu/sigma, gamma k/theta, exponential mean */
    /* the generalized Pareto tail above p95 (tail_sigma > 0 when present) */
    double tail_sigma, tail_xi, tail_cap;
    double max;       /* the largest value a draw may take (by unit) */
    int measured;     /* 1 when a calibration file set it */
    /* > 0: drawn at the uniform of cost drawn_with - 1's draw for the same
     * identity and n (the calibration's "drawn_with"): calibrate measured
     * this cost as the quantile differences of a whole against that part,
     * so the part's draw plus this one at the same quantile is the whole's
     * quantile; independent draws would add the two spreads */
    int drawn_with;
} cost_t;

/* One measured completion chain, ns. c2wake < 0: no wakeup was traced. */
typedef struct {
    float c2cqe;   /* block_rq_complete -> io_uring_complete */
    float cqe2run; /* io_uring_complete -> the waiter running with the CQE */
    float c2wake;  /* block_rq_complete -> sched_wakeup of the waiter */
} costs_chain_t;

#define COSTS_CHAIN_MAX CALFMT_CHAIN_MAX
#define COSTS_CHAIN_MIN 20 /* fewer in a condition: draw from the whole side */
typedef struct {
    uint32_t n, nidle; /* v[0, nidle): the waiter's CPU was idle; [nidle, n): busy */
    costs_chain_t v[COSTS_CHAIN_MAX];
} costs_chains_t;

typedef struct {
    cost_t c[COST_N];
    /* the "_cross" side of a side-conditioned cost (measured == 0: none) */
    cost_t cross[COST_N];
    costs_chains_t chain[2]; /* [0] waiter on the completion CPU, [1] on another */
    /* device_units.curve: the device's read service time against the number
     * of reads in it (calibrate/calqd.h); n == 0 when the file has none */
    svcurve_t dev_curve;
    /* device_units.batch: the same knots for a device that serves its queue
     * in batches (a batch of k in T(k), all completing together); n = 0
     * where the sweep did not see one interrupt per queue (models/ssd.h) */
    svcurve_t dev_batch;
    /* doorbell_ns's kick_outstanding / kick_fraction: the fraction of submit
     * calls that ring it against the requests already outstanding (virtio's
     * EVENT_IDX); bell_n == 0: every call rings it */
    double bell_out[8], bell_frac[8];
    uint32_t bell_n;
    /* device_units.vm_freeze.model: the VM host's CPU quota that freezes the
     * VM (models/vmfreeze.h); all zero where the file has none */
    vmfreeze_cfg_t vm_freeze;
    uint32_t key[2];         /* the run's key for keyed draws (costs_set_run) */
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

/* Key the draws of one run: (seed, replication) alone. */
void costs_set_run(costs_t *k, uint64_t seed, uint32_t rep);

static inline double costs_value(const costs_t *k, cost_id_t id) { return k->c[id].value; }
/* A draw from a sequential stream (costs that belong to no request). */
double costs_draw(const costs_t *k, cost_id_t id, gsl_rng *r);
/* The draw of stage `id` for identity `who`; n tells repeated draws of one
 * stage apart. A cost with no distribution: its value, exactly. */
double costs_at(const costs_t *k, cost_id_t id, uint64_t who, uint32_t n);
/* The same draw from the cost's "_cross" side (costs_at where it has none). */
double costs_at_cross(const costs_t *k, cost_id_t id, uint64_t who, uint32_t n);

/* A request's identity for keyed draws: what the workload gave it, never
 * its allocation order or placement (splitmix64 finaliser over the mix). */
static inline uint64_t costs_req_key(const req_t *r)
{
    uint64_t x = ((uint64_t)r->flow << 32 | r->op) ^ (r->tag * 0x9e3779b97f4a7c15ull) ^
                 (r->offset * 0xc2b2ae3d27d4eb4full);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The n-th draw of stage `id` for request r (costs_at under costs_req_key),
 * from the side of the interrupt r is on where the cost has two. */
static inline double costs_req_n(const costs_t *k, cost_id_t id, const req_t *r, uint32_t n)
{
    if (r->irq_far && k->cross[id].measured)
        return costs_at_cross(k, id, costs_req_key(r), n);
    if (k->c[id].kind == COST_FIXED)
        return k->c[id].value; /* no draw: the hot path of an uncalibrated run */
    return costs_at(k, id, costs_req_key(r), n);
}

/* The cost of stage `id` for request r: its first draw. */
static inline double costs_req(const costs_t *k, cost_id_t id, const req_t *r)
{
    return costs_req_n(k, id, r, 0);
}

/* The probability that a submit call with `outstanding` requests already
 * on its device rings the doorbell: linear between the measured points,
 * flat beyond them; 1 without them. */
double costs_doorbell_p(const costs_t *k, uint32_t outstanding);
/* A uniform in (0, 1) keyed like costs_req_n's draw n of stage id for r
 * (for a yes/no decision that must pair across variants). */
double costs_uniform(const costs_t *k, cost_id_t id, const req_t *r, uint32_t n);

/* A measured chain for request r: on the completion CPU (cross 0) or not,
 * the waiter's CPU idle or busy; NULL when calibrate recorded none. */
const costs_chain_t *costs_chain(const costs_t *k, int cross, int idle, const req_t *r);

#endif
