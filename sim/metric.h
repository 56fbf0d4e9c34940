/*
 * metric.h - the names of what a run measures, in one place: the registry of
 * metrics (one line each: name, unit, which direction is better, whether it
 * is a key metric, its plot group, one line of doc), the layout of a
 * request's boundary timestamps (t[REQ_NT], named by T_*) and the stage
 * names (stage i is t[i+1] - t[i]).
 *
 * It lives in sim/ because every layer that measures or reads measurements
 * links sim/: the collectors (models/collect.c, calibrate/tracejoin.c,
 * live/, the runner) set metrics by id (result_set_id), reports/ reads the
 * flags, and nothing reaches upward. docs/metrics.md documents the same
 * names; tests/test_metric.c fails when one side lacks a name.
 *
 * Adding a metric: one METRIC_TABLE line here and the code that computes it
 * (plus its docs/metrics.md row). The enum, the info table and the name
 * lookups follow from the line.
 */
#ifndef LATSURF_METRIC_H
#define LATSURF_METRIC_H

#include <stdbool.h>

/* A request's boundary timestamps (DESIGN.md "Request path"), in path order. */
enum {
    T_ISSUE,       /* application decides */
    T_SUBMIT,      /* SQE consumed by the kernel */
    T_DISPATCH,    /* blk-mq hands the request to the driver */
    T_DEVICE_DONE, /* media + controller done, CQE written */
    T_IRQ,         /* MSI-X handler runs */
    T_BLK_DONE,    /* blk-mq completion ran (maybe after an IPI) */
    T_CQE,         /* CQE visible to userspace */
    T_READY,       /* consumer thread running with the data */
    T_CONTINUED,   /* bytes usable by the RDMA peer or GPU (= t_ready if none) */
    REQ_NT
};

/* Stage i is t[i+1] - t[i]; the `stages` table's names. */
enum {
    STAGE_SUBMIT,
    STAGE_DISPATCH,
    STAGE_DEVICE,
    STAGE_IRQ,
    STAGE_BLK_COMPLETE,
    STAGE_CQE_POST,
    STAGE_WAKEUP,
    STAGE_CONTINUATION,
    REQ_NSTAGES
};

extern const char *const metric_time_names[];  /* [REQ_NT]: "t_issue", ... (requests columns) */
extern const char *const metric_stage_names[]; /* [REQ_NSTAGES]: "submit", ... */

typedef enum { METRIC_UNIT_NS, METRIC_UNIT_MS, METRIC_UNIT_FRACTION, METRIC_UNIT_PER_S,
               METRIC_UNIT_BYTES_PER_S, METRIC_UNIT_COUNT, METRIC_NUNIT } metric_unit_t;
extern const char *const metric_unit_names[]; /* [METRIC_NUNIT]: "ns", "ms", "fraction", ... */

/* Which way a variant wins; NEITHER: the number describes, it does not rank. */
typedef enum { METRIC_LOWER, METRIC_HIGHER, METRIC_NEITHER } metric_better_t;

/* The HTML report's bar charts (reports/report_html.c titles them). */
typedef enum { METRIC_PLOT_NONE, METRIC_PLOT_LATENCY, METRIC_PLOT_RATES, METRIC_PLOT_STEP_STALL,
               METRIC_PLOT_GPU_GAP, METRIC_NPLOT } metric_plot_t;

/*
 * X(ID, name, unit, better, key, plot, doc). Key metrics are the table
 * `latsurf run` prints, in the order they appear here. Ids are METRIC_<ID>.
 */
#define METRIC_TABLE(X)                                                                            \
    X(LAT_MEAN, "lat_mean_ns", NS, LOWER, 0, NONE, "mean t_issue -> t_ready")                      \
    X(LAT_P50, "lat_p50_ns", NS, LOWER, 1, LATENCY, "median t_issue -> t_ready")                   \
    X(LAT_P90, "lat_p90_ns", NS, LOWER, 0, LATENCY, "90th percentile t_issue -> t_ready")          \
    X(LAT_P99, "lat_p99_ns", NS, LOWER, 1, LATENCY, "99th percentile t_issue -> t_ready")          \
    X(LAT_P999, "lat_p999_ns", NS, LOWER, 0, LATENCY, "99.9th percentile t_issue -> t_ready")      \
    X(LAT_MAX, "lat_max_ns", NS, LOWER, 0, NONE, "largest t_issue -> t_ready")                     \
    X(USEFUL_P50, "useful_completion_p50_ns", NS, LOWER, 0, NONE, "median latency of gating I/O")  \
    X(USEFUL_P99, "useful_completion_p99_ns", NS, LOWER, 1, NONE, "p99 latency of gating I/O")     \
    X(D2R_P50, "device_done_to_ready_p50_ns", NS, LOWER, 0, NONE, "median t_device_done -> t_ready") \
    X(D2R_P99, "device_done_to_ready_p99_ns", NS, LOWER, 1, NONE, "p99 t_device_done -> t_ready")  \
    X(LOCALITY_MISS, "locality_miss_rate", FRACTION, LOWER, 1, RATES,                              \
      "completions whose completion CPU is not the consumer's")                                   \
    X(DEFERRED, "deferred_completion_rate", FRACTION, LOWER, 1, RATES,                             \
      "completions whose CQE was posted through deferred work")                                    \
    X(REG_HIT, "registration_hit_rate", FRACTION, HIGHER, 1, RATES,                                \
      "registration lookups that found the buffer registered")                                     \
    X(REG_CHURN, "registration_churn_per_flow", COUNT, LOWER, 0, NONE,                             \
      "(registrations + deregistrations) per flow")                                                \
    X(S2G_P50, "storage_to_gpu_gap_p50_ns", NS, LOWER, 0, GPU_GAP, "median device done -> GPU")    \
    X(S2G_P99, "storage_to_gpu_gap_p99_ns", NS, LOWER, 1, GPU_GAP, "p99 device done -> GPU")       \
    X(STEP_STALL_P50, "step_stall_p50_ns", NS, LOWER, 0, STEP_STALL, "median agent step stall")   \
    X(STEP_STALL_P99, "step_stall_p99_ns", NS, LOWER, 0, STEP_STALL, "p99 agent step stall")      \
    X(GPU_IDLE, "gpu_idle_fraction", FRACTION, LOWER, 0, RATES, "GPU time not computing")         \
    X(IOPS, "iops", PER_S, HIGHER, 1, NONE, "measured requests per second")                        \
    X(BYTES_PER_S, "bytes_per_s", BYTES_PER_S, HIGHER, 0, NONE, "measured bytes per second")       \
    X(CPU_NS_PER_IO, "cpu_ns_per_io", NS, LOWER, 0, NONE, "host CPU time per request")             \
    X(VM_FROZEN, "vm_frozen_fraction", FRACTION, LOWER, 0, NONE,                                   \
      "measured time the VM's host held every vCPU (host.vm_freeze)")                              \
    X(QUERY_P50, "query_latency_p50_ns", NS, LOWER, 0, NONE, "median retrieval query latency")     \
    X(QUERY_P99, "query_latency_p99_ns", NS, LOWER, 0, NONE, "p99 retrieval query latency")        \
    X(E2E_MEAN, "e2e_mean_ns", NS, LOWER, 0, NONE, "mean t_issue -> t_continued")                  \
    X(REQUESTS_DROPPED, "requests_dropped", COUNT, NEITHER, 0, NONE,                               \
      "prefetches the prefetch hint declined")                                                     \
    X(MODE_SWITCHES, "mode_switches", COUNT, NEITHER, 0, NONE, "adaptive mode switches")          \
    X(MODE_TO_LATENCY_MS, "mode_to_latency_ms", MS, NEITHER, 0, NONE,                              \
      "first switch to latency mode")                                                              \
    X(MODE_TO_THROUGHPUT_MS, "mode_to_throughput_ms", MS, NEITHER, 0, NONE,                        \
      "first return to throughput mode")                                                           \
    X(WARMUP_CUT_MS, "warmup_cut_ms", MS, NEITHER, 0, NONE, "MSER-5 warm-up cut")                  \
    X(LIVE_WORKERS, "live_workers", COUNT, NEITHER, 0, NONE, "live backend worker threads")        \
    X(LIVE_FIXED_IO_RATE, "live_fixed_io_rate", FRACTION, NEITHER, 0, NONE,                        \
      "live I/Os on a registered (fixed) buffer")                                                  \
    X(LIVE_TASKRUN_MISMATCH, "live_taskrun_mismatch", COUNT, LOWER, 0, NONE,                       \
      "live I/Os whose ring could not honour the task_run placement")                              \
    X(LIVE_PRIO_REFUSED, "live_prio_refused", COUNT, LOWER, 0, NONE,                               \
      "live I/Os whose priority class the kernel refused")                                         \
    X(LIVE_ISSUE_LATE_P50, "live_issue_late_p50_ns", NS, LOWER, 0, NONE,                           \
      "live: median t_issue -> io_uring_submit entered (the issuer's delay)")                      \
    X(LIVE_ISSUE_LATE_P99, "live_issue_late_p99_ns", NS, LOWER, 0, NONE,                           \
      "live: p99 t_issue -> io_uring_submit entered")                                              \
    X(LIVE_TRACED_REQUESTS, "live_traced_requests", COUNT, NEITHER, 0, NONE,                       \
      "live I/Os joined with tracepoints (--trace)")                                               \
    X(JOIN_RATE, "join_rate", FRACTION, HIGHER, 0, NONE, "traced io_uring I/Os joined end to end") \
    X(CHAIN_DEVICE_SERVICE_P50, "chain_device_service_p50_ns", NS, LOWER, 0, NONE,                 \
      "median block issue -> block completion")                                                    \
    X(CHAIN_IRQ_HANDLER_P50, "chain_irq_handler_p50_ns", NS, LOWER, 0, NONE,                       \
      "median device interrupt handler")                                                           \
    X(CHAIN_BLK_TO_WAKEUP_P50, "chain_blk_to_wakeup_p50_ns", NS, LOWER, 0, NONE,                   \
      "median block completion -> waiter woken")                                                   \
    X(CHAIN_WAKEUP_TO_RUN_P50, "chain_wakeup_to_run_p50_ns", NS, LOWER, 0, NONE,                   \
      "median waiter woken -> running")                                                            \
    X(CHAIN_RUN_TO_CQE_P50, "chain_run_to_cqe_p50_ns", NS, LOWER, 0, NONE,                         \
      "median waiter running -> CQE posted")                                                       \
    X(CHAIN_IPI_TO_WAKEUP_P50, "chain_ipi_to_wakeup_p50_ns", NS, LOWER, 0, NONE,                   \
      "median IPI -> waiter woken")                                                                \
    X(CHAIN_BLK_TO_CQE_SAME_P50, "chain_blk_to_cqe_same_p50_ns", NS, LOWER, 0, NONE,               \
      "median block completion -> CQE, waiter on the completion CPU")                              \
    X(CHAIN_BLK_TO_CQE_CROSS_P50, "chain_blk_to_cqe_cross_p50_ns", NS, LOWER, 0, NONE,             \
      "median block completion -> CQE, waiter on another CPU")                                     \
    X(CHAIN_BLK_TO_READY_SAME_P50, "chain_blk_to_ready_same_p50_ns", NS, LOWER, 0, NONE,           \
      "median block completion -> waiter ready, same CPU")                                         \
    X(CHAIN_BLK_TO_READY_CROSS_P50, "chain_blk_to_ready_cross_p50_ns", NS, LOWER, 0, NONE,         \
      "median block completion -> waiter ready, another CPU")

#define METRIC_ENUM(id, ...) METRIC_##id,
typedef enum { METRIC_TABLE(METRIC_ENUM) METRIC_N } metric_id_t;
#undef METRIC_ENUM

typedef struct {
    const char *name;      /* the `metrics` table's name (DESIGN.md contract) */
    metric_unit_t unit;
    metric_better_t better;
    bool key;              /* in the table `latsurf run` prints */
    metric_plot_t plot;
    const char *doc;       /* one line; docs/metrics.md has the definition */
} metric_info_t;

extern const metric_info_t metric_info[METRIC_N];

/* Id of the metric called name, or -1 (a name from an older database). */
int metric_find(const char *name);

#endif
