/*
 * policy.h - the contract between applications, policies and the two
 * executors (the simulator and the live io_uring/RDMA backend).
 *
 * An application declares intent per request or flow; a policy sees a
 * read-only view of the system and returns a placement; it then receives
 * completion feedback. Nothing here includes a simulator, model, kernel or
 * live header: the same objects link into both executors.
 *
 * A policy acts only through what a program or an administrator can set on
 * a Linux host: the threads' CPUs, io_uring set-up flags and batching, the
 * ioprio of a request, admission, buffer registration, and (once per run,
 * pol_setup) the queue's rq_affinity. Which hardware queue a request uses
 * follows from the submitting CPU and which completion CPU from the vector
 * and rq_affinity; the executor derives both as Linux does. Wishes that only
 * a hypothetical device honours (coalescing bypass, holding background
 * work, the class at the die) are marked as such below; the scenario's
 * `what_if` keys decide whether anything honours them.
 *
 * Buffer registration is decided where a transfer needs a registered buffer
 * (a GPU copy, an RDMA send), through policies/registration.h and the
 * executor's register/deregister calls; the variant names its policy here.
 */
#ifndef LATSURF_POLICY_H
#define LATSURF_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Request classes, most urgent first (they double as priority order). */
typedef enum {
    POL_CLASS_STEP_CRITICAL = 0,
    POL_CLASS_HOT_METADATA,
    POL_CLASS_PREFETCH,
    POL_CLASS_BULK,
    POL_NCLASSES
} pol_class_t;

extern const char *const pol_class_names[]; /* NULL-terminated, by pol_class_t */

/* The four policy axes a scenario variant picks one of each. */
typedef enum { POL_AFF_KERNEL, POL_AFF_CONSUMER, POL_AFF_SUBMITTER, POL_AFF_NUMA,
               POL_NAFFINITIES } pol_affinity_t;
typedef enum { POL_MODE_THROUGHPUT, POL_MODE_LATENCY, POL_MODE_ADAPTIVE, POL_NMODES } pol_mode_t;
typedef enum { POL_REG_NONE, POL_REG_CACHE, POL_REG_POOL, POL_REG_INTENT, POL_NREGS } pol_reg_t;
typedef enum { POL_HINT_NONE, POL_HINT_DEADLINE, POL_HINT_PREFETCH, POL_HINT_ADMISSION,
               POL_NHINTS } pol_hint_t;

/* NULL-terminated, by the enums above (policy.c asserts the lengths). */
extern const char *const pol_affinity_names[];
extern const char *const pol_mode_names[];
extern const char *const pol_reg_names[];
extern const char *const pol_hint_names[];

typedef struct {
    char name[64];
    pol_affinity_t affinity;
    pol_mode_t mode;
    pol_reg_t registration;
    pol_hint_t hints;
} pol_variant_t;

/* What a policy may look at: read-only, filled by the executor. */
typedef struct {
    uint32_t ncpus, nnodes;
    const uint32_t *cpu_node;      /* [ncpus] */
    uint32_t nqueues;              /* interrupt-driven hardware queues of the device */
    const uint32_t *queue_irq_cpu; /* [nqueues] CPU each queue's vector fires on */
    const uint32_t *cpu_queue;     /* [ncpus] the queue blk-mq maps a CPU to, for this
                                      request's queue set (read or default) */
    const uint32_t *inflight;      /* [POL_NCLASSES] requests in flight per class */
    bool poll_queues;              /* the device has polled queues (IOPOLL) */
    uint64_t now_ns;
} pol_view_t;

/* What the application declares for a request. */
typedef struct {
    pol_class_t cls;
    int32_t consumer_cpu;          /* -1: no preference */
    int32_t gpu;                   /* -1: no GPU continuation */
    double budget_ns;              /* latency budget, 0 = none */
    double prefetch_confidence;    /* [0,1], for prefetches */
    uint32_t flow;
    bool recurring;                /* the flow repeats: worth pre-registering */
    uint64_t buf;                  /* buffer region id, 0 = private */
    uint64_t bytes;
} pol_intent_t;

typedef enum { POL_WAIT_INTERRUPT, POL_WAIT_POLL, POL_WAIT_HYBRID, POL_NWAITS } pol_wait_t;
typedef enum { POL_TASKRUN_DEFAULT, POL_TASKRUN_COOP, POL_TASKRUN_DEFER, POL_NTASKRUNS } pol_taskrun_t;
typedef enum { POL_ADMIT, POL_ADMIT_LATER, POL_ADMIT_DROP } pol_admit_t;
/* ioprio classes (live/backend.c sets sqe->ioprio): URGENT is
 * IOPRIO_CLASS_RT, HIGH best effort level 0, MEDIUM the task's own class,
 * LOW IOPRIO_CLASS_IDLE. An NVMe device never sees them; only the what-ifs
 * (devices.N.what_if.wrr, die_priority) map them to device classes. */
typedef enum { POL_PRIO_URGENT, POL_PRIO_HIGH, POL_PRIO_MEDIUM, POL_PRIO_LOW } pol_prio_t;

/* What the policy decides per request. */
typedef struct {
    uint32_t submit_cpu;           /* ring / submitting thread's CPU */
    uint32_t consumer_cpu;         /* where the consumer thread runs */
    pol_wait_t wait;
    pol_taskrun_t taskrun;
    bool coalesce;                 /* wish: coalescing allowed. No NVMe device honours it
                                      per request; only what_if.coalescing_bypass does */
    pol_prio_t prio;               /* the request's ioprio class */
    uint32_t batch;                /* SQEs per io_uring_enter (1 = no batching) */
    double batch_window_ns;        /* longest an SQE waits for its batch */
    bool hold_background;          /* wish: hold GC / flushes while in flight; only
                                      what_if.deadline_classes honours it */
    pol_admit_t admit;
    double retry_ns;               /* for POL_ADMIT_LATER */
} pol_placement_t;

/* What a variant asks an administrator to set once before the run (sysfs),
 * not per request: the queue's rq_affinity, -1 to leave the host's. */
typedef struct {
    int32_t rq_affinity;
} pol_setup_t;

void pol_setup(const pol_variant_t *v, pol_setup_t *out);

typedef struct pol pol_t;

/* Tunables of the policies (scenario `policy` section; defaults in docs). */
typedef struct {
    uint32_t latency_max_inflight;  /* per class, latency mode */
    uint32_t throughput_batch;
    double throughput_batch_window_ns;
    double prefetch_threshold;      /* hints=prefetch: issue only above */
    double admission_rate_iops;     /* hints=admission: bulk tokens per second */
    double admission_burst;
    double adaptive_budget_ns;      /* mode=adaptive: target p99 */
    double adaptive_window_ns;
    double adaptive_hysteresis;     /* leave latency mode below budget * (1 - h) */
    uint32_t adaptive_calm_windows; /* ... for this many windows in a row */
    uint64_t reg_cache_bytes;       /* registration=cache: LRU byte budget */
    uint64_t reg_pool_bytes;        /* registration=pool/intent: pre-registered bytes */
} pol_config_t;

void pol_config_defaults(pol_config_t *c);

pol_t *pol_new(const pol_variant_t *v, const pol_config_t *cfg);
void pol_free(pol_t *p);
void pol_place(pol_t *p, const pol_view_t *view, const pol_intent_t *in, pol_placement_t *out);
/* Completion feedback: latency from issue to ready. */
void pol_complete(pol_t *p, const pol_view_t *view, const pol_intent_t *in, uint64_t latency_ns);
/* Current operating mode (adaptive switches between throughput and latency). */
pol_mode_t pol_current_mode(const pol_t *p);

/* Adaptive mode's switch log, oldest first (the first POL_MAX_SWITCHES). */
#define POL_MAX_SWITCHES 256
typedef struct {
    uint64_t t_ns;
    pol_mode_t to;
} pol_switch_t;
const pol_switch_t *pol_switches(const pol_t *p, uint32_t *n);

#endif
