/*
 * costs.c - default costs with their sources, the calibration-file loader and
 * cost draws. docs/models.md carries the same table for readers; change both.
 */
#include "costs.h"

#include "sim/rng.h"

#include <Random123/philox.h>
#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Sources: full references in docs/models.md ("Host costs"). "typical" marks a
 * round figure of the order the source reports, not a number copied from it. */
const cost_info_t costs_info[COST_N] = {
    [COST_URING_SUBMIT_CALL] = {"uring_submit_call_ns", "ns", "typical; Didona et al. SYSTOR'22 s.4", 700},
    [COST_URING_SUBMIT_SQE] = {"uring_submit_sqe_ns", "ns", "typical; Didona et al. SYSTOR'22 s.4", 250},
    [COST_URING_WAIT] = {"uring_wait_ns", "ns", "typical syscall entry/exit with mitigations", 300},
    [COST_BLK_DISPATCH] = {"blk_dispatch_ns", "ns", "typical; Hwang et al. OSDI'21 (blk-switch) s.2", 300},
    [COST_SCHED_DEADLINE] = {"sched_deadline_ns", "ns", "typical; mq-deadline lock + sort", 400},
    [COST_IRQ_HANDLER] = {"irq_handler_ns", "ns", "typical; Yang et al. FAST'12 s.3 (interrupt path)", 1000},
    [COST_BLK_COMPLETE] = {"blk_complete_ns", "ns", "typical; Yang et al. FAST'12 s.3", 800},
    [COST_IPI] = {"ipi_ns", "ns", "typical; Hwang et al. OSDI'21 s.2 (IPI for remote completion)", 1500},
    [COST_TASK_WORK] = {"task_work_ns", "ns", "typical; io_uring task_work run", 300},
    [COST_CQE_POST] = {"cqe_post_ns", "ns", "typical; io_uring CQE fill", 150},
    [COST_WAKEUP_SAME] = {"wakeup_same_cpu_ns", "ns", "typical; schbench/perf bench sched pipe", 1500},
    [COST_WAKEUP_CROSS] = {"wakeup_cross_cpu_ns", "ns", "typical; perf bench sched pipe, 2 CPUs", 4000},
    [COST_CONTEXT_SWITCH] = {"context_switch_ns", "ns", "typical; Li et al. ExpCS'07 (direct cost)", 1500},
    [COST_IDLE_EXIT] = {"idle_exit_ns", "ns", "intel_idle.c skx_cstates C1E exit_latency 10us; C1 2us", 2000},
    [COST_IDLE_DEEP_AFTER] = {"idle_deep_after_ns", "ns", "typical menu governor residency", 50000},
    [COST_MEM_LOCAL_KIB] = {"mem_touch_local_ns_per_kib", "ns/KiB", "typical; ~25 GB/s local stream", 40},
    [COST_MEM_REMOTE_KIB] = {"mem_touch_remote_ns_per_kib", "ns/KiB", "typical; ~1.7x local (2-socket)", 70},
    [COST_MEM_WARM_FACTOR] = {"mem_warm_factor", "ratio", "typical; completion CPU's cache holds the data", 0.3},
    [COST_POLL] = {"poll_ns", "ns", "typical; Yang et al. FAST'12 s.3 (polling loop)", 100},
    [COST_REG_FIXED] = {"reg_fixed_ns", "ns", "typical; Frey & Alonso ICDCS'09 s.4", 5000},
    [COST_REG_PAGE] = {"reg_page_ns", "ns/page", "typical; Mietke et al. Euro-Par'06 s.4", 250},
    [COST_DEREG] = {"dereg_ns", "ns", "typical; Frey & Alonso ICDCS'09 s.4", 4000},
    [COST_RDMA_LATENCY] = {"rdma_latency_ns", "ns", "typical; ConnectX-class one-way", 2000},
    [COST_RDMA_GBPS] = {"rdma_gbps", "GB/s", "100 Gb/s link", 12.5},
    [COST_RDMA_CQ_EVENT] = {"rdma_cq_event_ns", "ns", "typical; completion channel + wakeup", 5000},
    [COST_GPU_COPY_LAUNCH] = {"gpu_copy_launch_ns", "ns", "typical; cudaMemcpyAsync launch", 5000},
    [COST_GPU_GBPS] = {"gpu_gbps", "GB/s", "PCIe Gen4 x16 effective", 25},
    [COST_DEVICE_READ_4K] = {"device_read_4k_ns", "ns", "typical TLC NVMe QD1 4 KiB random read", 80000},
    [COST_IRQ_PER_CQE] = {"irq_per_cqe_ns", "ns", "typical; per-CQE share of nvme_irq (nvme_process_cq, blk_mq_end_request_batch)", 300},
    [COST_IPI_SEND] = {"ipi_send_ns", "ns", "typical; x2APIC ICR write from smp_call_function_single_async", 300},
    [COST_IPI_RECV] = {"ipi_recv_ns", "ns", "typical; IPI entry + call_single_queue flush on the receiver (calibrated: what a running thread loses to a reschedule IPI)", 700},
    [COST_TIMER_OVERSHOOT] = {"timer_overshoot_ns", "ns", "typical; hrtimer wake-up latency with no slack (cyclictest, idle CPU)", 5000},
    [COST_MIGRATION] = {"migration_ns", "ns", "typical; set_task_cpu + dequeue/enqueue on two run queues", 2000},
    [COST_SCHED_HZ] = {"sched_hz", "Hz", "CONFIG_HZ of the calibrated host (/proc/config.gz): 250", 250},
    [COST_KERNEL_VERSION] = {"kernel_version", "version", "uname -r of the calibrated host: 6.18", 618},
    [COST_PREEMPT_MODEL] = {"preempt_model", "model", "PREEMPT_DYNAMIC default of the calibrated host: none (CONFIG_PREEMPT_NONE)", 0},
    [COST_DEVICE_UNITS] = {"device_units", "units", "DESIGN.md flash geometry: 8 channels x 4 dies", 32},
    [COST_COMPLETE_TO_CQE_SAME] = {"complete_to_cqe_same_ns", "ns", "calibrated only (trace chain); uncalibrated: context_switch_ns + task_work_ns", 1800},
    [COST_BLK_COMPLETE_PER_RQ] = {"blk_complete_per_rq_ns", "ns", "calibrated only (calbatch: spacing of block_rq_complete in one BLOCK_SOFTIRQ run); uncalibrated: blk_complete_ns each", 800},
    [COST_BLK_DISPATCH_PER_RQ] = {"blk_dispatch_per_rq_ns", "ns", "calibrated only (calbatch: slope of a plugged submit call's span against its SQEs); uncalibrated: blk_dispatch_ns each", 300},
    [COST_DOORBELL] = {"doorbell_ns", "ns", "calibrated only (io_uring_submit() of one read minus the call and blk_dispatch_ns; on a VM the trapped virtqueue kick); uncalibrated 0: a bare-metal doorbell is one posted MMIO write", 0},
    [COST_IPI_SEND_IDLE] = {"ipi_send_idle_ns", "ns", "calibrated only (the waker's futex wake of a thread on an idle CPU, less a wake of nobody: on a VM the halted vCPU is kicked); uncalibrated: ipi_send_ns", 300},
    [COST_DEVICE_READ_PER_KIB] = {"device_read_ns_per_kib", "ns/KiB", "calibrated only (QD1 64 KiB reads less 4 KiB ones, per KiB beyond 4); 0 (uncalibrated): bytes beyond 4 KiB at pcie.gbps, the link rate", 0},
    [COST_IPI_RECV_IDLE] = {"ipi_recv_idle_ns", "ns", "typical, as ipi_recv_ns's default: the handler alone (a halted vCPU loses no running time to the exit that wakes it, unlike the running one ipi_recv_ns is calibrated on)", 700},
    [COST_IRQ_BUSY] = {"irq_busy_ns", "ns", "calibrated only (QD1 reads from another CPU with a thread spinning on the interrupt's CPU, less the median with it idle: on a VM a running vCPU gets the interrupt later than a halted one); uncalibrated 0: bare metal delivers to a running CPU at once", 0},
    [COST_TIMER_WAKE_CPU] = {"timer_wake_cpu_ns", "ns", "calibrated only (the thread's CPU time of each calibrated hrtimer sleep: arming, sleeping, switch-in, return; 13.5 us on the development VM); uncalibrated 0: the sleep's CPU is not charged", 0},
    [COST_TIMER_WAKE_IRQ] = {"timer_wake_irq_ns", "ns", "calibrated only (the same sleeps: the CPU's time not idle less the thread's, per sleep: the expiry's interrupt, idle exit and entry); uncalibrated 0", 0},
    [COST_REMOTE_SOFTIRQ] = {"remote_complete_softirq_ns", "ns", "calibrated only (queue-depth sweep at QD64: softirq time per read on the interrupt's CPU with the thread on another CPU, less with it on the interrupt's CPU), charged to a remote request that joins a BLOCK_SOFTIRQ list; uncalibrated 0: nothing charged", 0},
    [COST_REMOTE_TASK_WORK] = {"remote_task_work_ns", "ns", "calibrated only (queue-depth sweep at QD64: the thread's CPU time per read on another CPU than the interrupt's, less on the interrupt's CPU), charged to a remote completion that joins a task_work run; uncalibrated 0: nothing charged", 0},
    [COST_TRACE_SYSCALL] = {"trace_syscall_ns", "ns", "calibrated only (caltrace: blocking preads under trace record's set-up less untraced, thread CPU); 0: host.traced refused without a calibration that has them", 0},
    [COST_TRACE_DRAIN_EVENT] = {"trace_drain_event_ns", "ns", "calibrated only (caltrace: the recorder's CPU per event drained)", 0},
    [COST_TRACE_EVENTS_PER_READ] = {"trace_events_per_read", "event", "calibrated only (caltrace: events drained per traced read); 0: no trace costs measured", 0},
    [COST_TASK_WORK_PER_CQE] = {"task_work_per_cqe_ns", "ns", "calibrated only (calbatch: spacing of io_uring_complete in one task_work run); uncalibrated: every completion notifies its task", 450},
};

/* p1 .. p99 must all be there; p99.9, p99.99 may follow (sim/calfmt.h) */
#define COST_NQ_REQ CALFMT_NQ_REQ
#define COST_TAIL_Q 7 /* q[7] = p95, the threshold the tail was fitted above */
/* costs_seg[k]: the first quantile index i with calfmt_qp[i] > k / 100, for
 * u in [k/100, (k+1)/100), k < 99 */
static const unsigned char costs_seg[99] = {
    0, 1, 1, 1, 1,                                                   /* 0-4 */
    2, 2, 2, 2, 2,                                                   /* 5-9 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,                     /* 10-24 */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 25-49 */
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, /* 50-74 */
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,                     /* 75-89 */
    7, 7, 7, 7, 7,                                                   /* 90-94 */
    8, 8, 8, 8,                                                      /* 95-98 */
};

static double costs_max(cost_id_t id);

void costs_defaults(costs_t *k)
{
    memset(k, 0, sizeof(*k));
    for (int i = 0; i < COST_N; i++) {
        k->c[i].value = costs_info[i].value;
        k->c[i].kind = COST_FIXED;
        k->c[i].max = costs_max((cost_id_t)i);
    }
    snprintf(k->source, sizeof(k->source), "built-in defaults");
}

static int costs_bad(char *err, size_t n, const char *path, const char *name, const char *what)
{
    snprintf(err, n, "%s: params.%s: %s", path, name, what);
    return -EINVAL;
}

/* The largest value a cost may take. The models cast costs to sim_time_t
 * and divide by bandwidths, so a value must be finite and bounded (and a
 * bandwidth positive): 10 s for any time, 10 TB/s, a ratio of 1. */
static double costs_max(cost_id_t id)
{
    const char *u = costs_info[id].unit;
    if (strcmp(u, "Hz") == 0)
        return 10000; /* CONFIG_HZ is at most 1000; a tick of 100 us at most */
    if (strcmp(u, "model") == 0)
        return 2;
    if (strcmp(u, "version") == 0)
        return 9999;
    return strcmp(u, "GB/s") == 0 ? 1e4 : strcmp(u, "ratio") == 0 ? 1 : 1e10;
}

static double costs_min(cost_id_t id)
{
    const char *u = costs_info[id].unit;
    return strcmp(u, "GB/s") == 0 ? 1e-6 : strcmp(u, "Hz") == 0 ? 10 : 0;
}

static bool costs_in_range(cost_id_t id, json_t *v)
{
    double x = json_number_value(v);
    return json_is_number(v) && x >= costs_min(id) && x <= costs_max(id);
}

/* A fit's parameters: bounded so that its draws stay finite and its
 * sampler terminates (GSL's gamma recurses once per unit of k below 1). */
static bool costs_fit_ok(cost_kind_t kind, double a, double b, double max)
{
    switch (kind) {
    case COST_LOGNORMAL: return a >= -50 && a <= log(max) && b > 0 && b <= 5;
    case COST_GAMMA: return a > 0 && a <= 1e6 && b > 0 && a * b <= max;
    case COST_EXPONENTIAL: return a > 0 && a <= max;
    default: return true;
    }
}

/* "tail": {"dist": "gpd", "threshold", "sigma", "xi", "max"} above p95
 * (calibrate/calstat.h). Only with the quantiles (it replaces their top). */
static int costs_parse_tail(cost_t *c, cost_id_t id, json_t *t, const char *path,
                            const char *name, char *err, size_t n)
{
    if (!t || c->kind != COST_EMPIRICAL)
        return 0;
    const char *d = json_string_value(json_object_get(t, "dist"));
    json_t *th = json_object_get(t, "threshold"), *s = json_object_get(t, "sigma"),
           *xi = json_object_get(t, "xi"), *mx = json_object_get(t, "max");
    if (!json_is_object(t) || !d || strcmp(d, "gpd") != 0)
        return costs_bad(err, n, path, name, "tail: expected {\"dist\": \"gpd\", ...}");
    if (!costs_in_range(id, th) || !costs_in_range(id, mx) || !json_is_number(s) ||
        !json_is_number(xi) || !(json_number_value(s) > 0) ||
        json_number_value(s) > costs_max(id) || json_number_value(xi) < -1 ||
        json_number_value(xi) >= 1 || json_number_value(mx) < json_number_value(th))
        return costs_bad(err, n, path, name,
                         "tail: expected threshold <= max in range, sigma > 0, -1 <= xi < 1");
    /* the threshold is the p95 the quantiles carry (to 0.1 ns as written) */
    if (fabs(json_number_value(th) - c->q[COST_TAIL_Q]) > 1.0)
        return costs_bad(err, n, path, name, "tail.threshold: expected the p95 of quantiles");
    c->tail_sigma = json_number_value(s);
    c->tail_xi = json_number_value(xi);
    /* a fit extrapolates: trusted for one factor of 2 beyond the data */
    c->tail_cap = 2 * json_number_value(mx);
    if (c->tail_cap > costs_max(id))
        c->tail_cap = costs_max(id);
    return 0;
}

static int costs_id_of(const char *name, int *cross);

static int costs_parse_param(cost_t *c, cost_id_t id, json_t *p, const char *path,
                             const char *name, char *err, size_t n)
{
    char what[128];
    json_t *v = json_object_get(p, "value");
    if (!costs_in_range(id, v)) {
        snprintf(what, sizeof(what), "expected \"value\": a number in [%g, %g] (%s)",
                 costs_min(id), costs_max(id), costs_info[id].unit);
        return costs_bad(err, n, path, name, what);
    }
    c->value = json_number_value(v);
    c->kind = COST_FIXED;
    c->measured = 1;
    json_t *q = json_object_get(p, "quantiles");
    if (q) {
        if (!json_is_object(q))
            return costs_bad(err, n, path, name, "expected \"quantiles\" to be an object");
        int have = 0, top = 0; /* how many; 1 + the highest present */
        for (int i = 0; i < COST_NQ; i++) {
            json_t *x = json_object_get(q, calfmt_qname[i]);
            if (x && !costs_in_range(id, x)) {
                snprintf(what, sizeof(what), "quantiles.%s: expected a number in [%g, %g]",
                         calfmt_qname[i], costs_min(id), costs_max(id));
                return costs_bad(err, n, path, name, what);
            }
            if (x) {
                c->q[i] = json_number_value(x);
                have++;
                top = i + 1;
            }
        }
        if (have == top && have >= COST_NQ_REQ) {
            for (int i = 1; i < have; i++)
                if (c->q[i] < c->q[i - 1])
                    return costs_bad(err, n, path, name, "quantiles must not decrease");
            c->kind = COST_EMPIRICAL;
            c->nq = have;
            for (int i = 1; i < have; i++)
                c->slope[i] = (c->q[i] - c->q[i - 1]) / (calfmt_qp[i] - calfmt_qp[i - 1]);
        } else if (have > 0 && top > COST_NQ_REQ && have != top) {
            return costs_bad(err, n, path, name,
                             "quantiles: p99.99 without p99.9, or a p99.x without p1 .. p99");
        }
        int rc = costs_parse_tail(c, id, json_object_get(p, "tail"), path, name, err, n);
        if (rc)
            return rc;
    }
    json_t *with = json_object_get(p, "drawn_with");
    if (with) {
        int cross = 0, wid = json_is_string(with) ? costs_id_of(json_string_value(with), &cross)
                                                   : -1;
        if (wid < 0 || cross || wid == (int)id)
            return costs_bad(err, n, path, name,
                             "drawn_with: expected the name of another cost (e.g. "
                             "\"device_read_4k_ns\")");
        c->drawn_with = wid + 1;
    }
    json_t *fit = json_object_get(p, "fit");
    if (fit && c->kind == COST_FIXED) {
        const char *d = json_string_value(json_object_get(fit, "dist"));
        json_t *a = NULL, *b = NULL;
        if (!d)
            return costs_bad(err, n, path, name, "expected fit.dist to be a string");
        if (strcmp(d, "lognormal") == 0) {
            a = json_object_get(fit, "mu");
            b = json_object_get(fit, "sigma");
            c->kind = COST_LOGNORMAL;
        } else if (strcmp(d, "gamma") == 0) {
            a = json_object_get(fit, "k");
            b = json_object_get(fit, "theta");
            c->kind = COST_GAMMA;
        } else if (strcmp(d, "exponential") == 0) {
            a = b = json_object_get(fit, "mean");
            c->kind = COST_EXPONENTIAL;
        }
        if (c->kind != COST_FIXED) {
            if (!json_is_number(a) || !json_is_number(b) ||
                !costs_fit_ok(c->kind, json_number_value(a), json_number_value(b), costs_max(id)))
                return costs_bad(err, n, path, name, "fit parameters missing or out of range");
            c->a = json_number_value(a);
            c->b = json_number_value(b);
        }
    }
    return 0;
}

/* "completion_chains": {"chains": {"same": [[idle, c2cqe, cqe2run, c2wake], ...],
 * "cross": [...]}} (calibrate/calib.c): idle chains first, then busy ones. */
static int costs_parse_chains(costs_t *k, json_t *p, const char *path, char *err, size_t n)
{
    static const char *const side[2] = {"same", "cross"};
    const char *name = "completion_chains";
    if (!p)
        return 0;
    json_t *chains = json_object_get(p, "chains");
    if (!json_is_object(chains))
        return costs_bad(err, n, path, name, "expected \"chains\": {\"same\": [...], \"cross\": [...]}");
    for (int x = 0; x < 2; x++) {
        json_t *a = json_object_get(chains, side[x]);
        if (!a)
            continue;
        if (!json_is_array(a) || json_array_size(a) > COSTS_CHAIN_MAX) {
            char what[128];
            snprintf(what, sizeof(what), "chains.%s: expected an array of at most %d chains",
                     side[x], COSTS_CHAIN_MAX);
            return costs_bad(err, n, path, name, what);
        }
        costs_chains_t *ch = &k->chain[x];
        for (int pass = 0; pass < 2; pass++) { /* idle ones first, then busy */
            size_t i;
            json_t *e;
            json_array_foreach(a, i, e) {
                json_t *idle = json_array_get(e, 0);
                double v[3];
                bool ok = json_is_array(e) && json_array_size(e) == 4 && json_is_integer(idle);
                for (int f = 0; ok && f < 3; f++) {
                    json_t *x = json_array_get(e, (size_t)f + 1);
                    v[f] = json_number_value(x);
                    ok = json_is_number(x) && v[f] <= 1e10 && (v[f] >= 0 || (f == 2 && v[f] == -1));
                }
                if (!ok) {
                    char what[160];
                    snprintf(what, sizeof(what), "chains.%s[%zu]: expected [0|1, c2cqe ns >= 0, "
                             "cqe2run ns >= 0, c2wake ns >= 0 or -1]", side[x], i);
                    return costs_bad(err, n, path, name, what);
                }
                if ((json_integer_value(idle) == 1) != (pass == 0))
                    continue;
                ch->v[ch->n++] = (costs_chain_t){(float)v[0], (float)v[1], (float)v[2]};
            }
            if (pass == 0)
                ch->nidle = ch->n;
        }
    }
    return 0;
}

/* doorbell_ns: "kick_outstanding": [0, 1, ...] (increasing), "kick_fraction":
 * [...] in [0, 1], the same length (calibrate/calib.c doorbell_params). */
static int costs_parse_bell(costs_t *k, json_t *p, const char *path, char *err, size_t n)
{
    json_t *o = json_object_get(p, "kick_outstanding"), *f = json_object_get(p, "kick_fraction");
    if (!o && !f)
        return 0;
    size_t m = json_array_size(o);
    bool ok = json_is_array(o) && json_is_array(f) && json_array_size(f) == m && m >= 1 &&
              m <= sizeof(k->bell_out) / sizeof(k->bell_out[0]);
    for (size_t i = 0; ok && i < m; i++) {
        json_t *x = json_array_get(o, i), *y = json_array_get(f, i);
        ok = json_is_number(x) && json_is_number(y);
        k->bell_out[i] = json_number_value(x);
        k->bell_frac[i] = json_number_value(y);
        ok = ok && k->bell_frac[i] >= 0 && k->bell_frac[i] <= 1 && k->bell_out[i] >= 0 &&
             (i == 0 || k->bell_out[i] > k->bell_out[i - 1]);
    }
    if (!ok)
        return costs_bad(err, n, path, "doorbell_ns",
                         "expected \"kick_outstanding\" (increasing, >= 0) and "
                         "\"kick_fraction\" (each in [0, 1]): arrays of the same length, 1 to 8");
    k->bell_n = (uint32_t)m;
    return 0;
}

double costs_doorbell_p(const costs_t *k, uint32_t outstanding)
{
    double x = outstanding;
    if (!k->bell_n || x <= k->bell_out[0])
        return k->bell_n ? k->bell_frac[0] : 1;
    for (uint32_t i = 1; i < k->bell_n; i++)
        if (x <= k->bell_out[i])
            return k->bell_frac[i - 1] + (k->bell_frac[i] - k->bell_frac[i - 1]) *
                                             (x - k->bell_out[i - 1]) /
                                             (k->bell_out[i] - k->bell_out[i - 1]);
    return k->bell_frac[k->bell_n - 1];
}

/* device_units.curve or .batch (key): {"k": [1, 2, ...], "service_ns":
 * [...]} (calibrate/calqd.c) into *out. */
static int costs_parse_curve(json_t *du, const char *key, svcurve_t *out, const char *path,
                             char *err, size_t n)
{
    json_t *c = json_object_get(du, key);
    if (!c)
        return 0; /* a calibration made before the curve (or the batch): c units only */
    json_t *kk = json_object_get(c, "k"), *tt = json_object_get(c, "service_ns");
    size_t m = json_array_size(kk);
    svcurve_t v = {.n = (uint32_t)m};
    bool ok = json_is_array(kk) && json_is_array(tt) && json_array_size(tt) == m &&
              m <= SVCURVE_MAX;
    for (size_t i = 0; ok && i < m; i++) {
        ok = json_is_number(json_array_get(kk, i)) && json_is_number(json_array_get(tt, i));
        v.k[i] = json_number_value(json_array_get(kk, i));
        v.ns[i] = json_number_value(json_array_get(tt, i));
        ok = ok && v.ns[i] <= 1e10;
    }
    if (!ok || svcurve_check(&v)) {
        char what[160];
        snprintf(what, sizeof(what), "%s: expected \"k\" (increasing, from >= 1) and "
                 "\"service_ns\" (> 0, <= 1e10): arrays of the same length, 1 to %d", key,
                 SVCURVE_MAX);
        return costs_bad(err, n, path, "device_units", what);
    }
    *out = v;
    return 0;
}

/* device_units.vm_freeze.model (calibrate/calqd.h): the VM host's quota;
 * absent (no freezes measured, or a calibration made before the model):
 * vm_freeze stays zero, off. */
static int costs_parse_vmfreeze(json_t *du, vmfreeze_cfg_t *out, const char *path, char *err,
                                size_t n)
{
    json_t *m = json_object_get(json_object_get(du, "vm_freeze"), "model");
    if (!m)
        return 0;
    static const char *const keys[] = {"period_ns", "quota_cpus", "per_read_ns", "poll_ns"};
    double v[4];
    for (int i = 0; i < 4; i++) {
        json_t *x = json_object_get(m, keys[i]);
        v[i] = json_number_value(x);
        if (!json_is_number(x) || !(v[i] >= 0 && v[i] <= 1e12) || (i < 2 && !(v[i] > 0)))
            return costs_bad(err, n, path, "device_units",
                             "vm_freeze.model: expected numbers period_ns (> 0), quota_cpus (> 0), "
                             "per_read_ns, poll_ns (>= 0)");
    }
    /* calibrations of 2026-12-07/08 wrote per_irq_ns, always 0; a cost per
     * interrupt is not modelled (vmfreeze.h), so any other value is refused */
    json_t *pi = json_object_get(m, "per_irq_ns");
    if (pi && !(json_is_number(pi) && json_number_value(pi) == 0))
        return costs_bad(err, n, path, "device_units",
                         "vm_freeze.model.per_irq_ns: a host cost per interrupt is not modelled "
                         "(only 0 is accepted; the VMM's cost is per_read_ns)");
    json_t *mx = json_object_get(m, "io_max_cpus"); /* optional: 0, linear */
    double io_max = mx ? json_number_value(mx) : 0;
    if (mx && (!json_is_number(mx) || !(io_max >= 0 && io_max <= 1e6)))
        return costs_bad(err, n, path, "device_units",
                         "vm_freeze.model.io_max_cpus: expected a number >= 0");
    *out = (vmfreeze_cfg_t){v[0], v[1], v[2], v[3], io_max};
    return 0;
}

/* The cost a parameter name sets: a cost's own name, or its side-conditioned
 * "_cross" side (the name with "_cross" before "_ns"; *cross = 1); -1 for
 * a measurement the models do not use. */
static int costs_id_of(const char *name, int *cross)
{
    static const char side[] = "_cross_ns";
    size_t len = strlen(name), sl = sizeof(side) - 1;
    *cross = len > sl && strcmp(name + len - sl, side) == 0;
    for (int i = 0; i < COST_N; i++) {
        const char *c = costs_info[i].name;
        if (!*cross ? strcmp(c, name) == 0
                    : strlen(c) == len - strlen("_cross") &&
                          strncmp(c, name, len - sl) == 0 && strcmp(c + len - sl, "_ns") == 0)
            return i;
    }
    return -1;
}

int costs_load(costs_t *k, const char *path, char *err, size_t n)
{
    costs_defaults(k);
    if (!path)
        return 0;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (jerr.line < 0)
            snprintf(err, n, "%s: %s", path, jerr.text);
        else
            snprintf(err, n, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column, jerr.text);
        return jerr.line < 0 ? -ENOENT : -EINVAL;
    }
    int rc = 0;
    json_t *params = json_object_get(root, "params");
    if (!json_is_integer(json_object_get(root, "latsurf_calibration")) || !json_is_object(params)) {
        snprintf(err, n, "%s: (top level): expected {\"latsurf_calibration\": 1, \"params\": {...}}",
                 path);
        rc = -EINVAL;
    }
    const char *name;
    json_t *p;
    if (rc == 0)
        rc = costs_parse_chains(k, json_object_get(params, "completion_chains"), path, err, n);
    if (rc == 0) {
        json_object_foreach(params, name, p) {
            int cross = 0, id = costs_id_of(name, &cross);
            if (id < 0)
                continue; /* measurements the models do not use (yet) are kept in the file only */
            if (!json_is_object(p)) {
                rc = costs_bad(err, n, path, name, "expected an object");
                break;
            }
            if (json_is_null(json_object_get(p, "value")))
                continue; /* calibrate could not measure it (e.g. writes on a read-only target) */
            cost_t *c = cross ? &k->cross[id] : &k->c[id];
            if (cross) /* a side of its own: none of the other side's fields */
                *c = (cost_t){.max = costs_max((cost_id_t)id)};
            if ((rc = costs_parse_param(c, (cost_id_t)id, p, path, name, err, n)) != 0)
                break;
            if (id == COST_DEVICE_UNITS &&
                ((rc = costs_parse_curve(p, "curve", &k->dev_curve, path, err, n)) != 0 ||
                 (rc = costs_parse_curve(p, "batch", &k->dev_batch, path, err, n)) != 0 ||
                 (rc = costs_parse_vmfreeze(p, &k->vm_freeze, path, err, n)) != 0))
                break;
            if (id == COST_DOORBELL && !cross && (rc = costs_parse_bell(k, p, path, err, n)) != 0)
                break;
        }
    }
    json_decref(root);
    if (rc == 0)
        snprintf(k->source, sizeof(k->source), "%s", path);
    return rc;
}

/* Inverse CDF of an empirical cost at u: linear between the quantiles;
 * beyond the last one, the fitted tail (flat without one). The tail was
 * fitted to the excesses over p95; above the last quantile q_top it is
 * spliced on by threshold stability (a GPD's excesses over a higher
 * threshold are a GPD with the same xi and sigma + xi (q_top - p95)), so
 * the measured quantiles stay exact and the fit only extrapolates. */
static double costs_empirical(const cost_t *c, double u)
{
    int top = c->nq - 1;
    if (u > calfmt_qp[top]) {
        double qt = c->q[top], xi = c->tail_xi;
        double s = c->tail_sigma + xi * (qt - c->q[COST_TAIL_Q]);
        if (!(c->tail_sigma > 0) || !(s > 0))
            return qt;
        double v = (u - calfmt_qp[top]) / (1 - calfmt_qp[top]);
        double x = qt + (fabs(xi) < 1e-9 ? -s * log1p(-v) : s / xi * (pow(1 - v, -xi) - 1));
        return x < c->tail_cap ? x : c->tail_cap > qt ? c->tail_cap : qt;
    }
    if (u <= calfmt_qp[0])
        return c->q[0];
    /* the segment: below p99 by table (the quantiles are whole percents
     * there), which spares the hot path a chain of unpredictable branches */
    int i = u < 0.99 ? costs_seg[(int)(u * 100)] : u <= calfmt_qp[8] ? 8 : u <= calfmt_qp[9] ? 9 : 10;
    if (u > calfmt_qp[i]) /* (int)(u * 100) at a knot's own percent */
        i++;
    return c->q[i - 1] + c->slope[i] * (u - calfmt_qp[i - 1]);
}

static double costs_draw_raw(const cost_t *c, gsl_rng *r)
{
    switch (c->kind) {
    case COST_FIXED:
        return c->value;
    case COST_EMPIRICAL:
        return costs_empirical(c, gsl_rng_uniform(r));
    case COST_LOGNORMAL:
        return gsl_ran_lognormal(r, c->a, c->b);
    case COST_GAMMA:
        return gsl_ran_gamma(r, c->a, c->b);
    case COST_EXPONENTIAL:
        return gsl_ran_exponential(r, c->a);
    }
    return c->value;
}

/* a fit's far tail is cut at the largest value a cost may take */
static double costs_clip(const cost_t *c, double x)
{
    return x >= 0 && x <= c->max ? x : x > c->max ? c->max : c->value;
}

double costs_draw(const costs_t *k, cost_id_t id, gsl_rng *r)
{
    const cost_t *c = &k->c[id];
    if (c->kind == COST_FIXED)
        return c->value;
    return costs_clip(c, costs_draw_raw(c, r));
}

void costs_set_run(costs_t *k, uint64_t seed, uint32_t rep)
{
    uint64_t s = rng_derive_seed(seed, rep, "host.costs");
    k->key[0] = (uint32_t)s;
    k->key[1] = (uint32_t)(s >> 32);
}

/* Philox2x32 with 7 rounds: Salmon et al. (SC'11, "Parallel random numbers:
 * as easy as 1, 2, 3") find 7 rounds pass TestU01's BigCrush; the library's
 * default of 10 is a further margin, and 4x32 twice the work, that the hot
 * path does not need (one or two words per draw). */
#define COSTS_PHILOX_ROUNDS 7

/* Two uniform 32-bit words for (who, stage, n) under the run's key: the
 * counter is (who's low word, stage and n), the key the run's key with
 * who's high word folded in (Philox is a bijection of the counter for each
 * key, so distinct (who, stage, n) never share words by construction). */
/* The stage number of the chain draw: COST_N when chains came, kept fixed
 * so that a new cost id does not reshuffle every resampled chain (the same
 * seed then draws the same chains); the ids from it on are drawn one
 * stage further up. */
#define COSTS_STAGE_CHAIN ((uint32_t)COST_BLK_COMPLETE_PER_RQ)
static uint32_t costs_stage(cost_id_t id)
{
    return (uint32_t)id < COSTS_STAGE_CHAIN ? (uint32_t)id : (uint32_t)id + 1;
}

static philox2x32_ctr_t costs_words(const costs_t *k, uint64_t who, uint32_t stage, uint32_t n)
{
    philox2x32_ctr_t ctr = {{(uint32_t)who, stage | n << 16}};
    philox2x32_key_t key = {{k->key[0] ^ (uint32_t)(who >> 32) * 0x9e3779b9u ^ k->key[1]}};
    return philox2x32_R(COSTS_PHILOX_ROUNDS, ctr, key);
}

/* (w + 0.5) / 2^32: in (0, 1), never 0 or 1 (the tail's inverse needs u < 1) */
static double costs_u01(uint32_t w) { return ((double)w + 0.5) * (1.0 / 4294967296.0); }

static double costs_at_cost(const costs_t *k, const cost_t *c, cost_id_t id, uint64_t who,
                            uint32_t n)
{
    if (c->kind == COST_FIXED)
        return c->value;
    if (c->drawn_with)
        id = (cost_id_t)(c->drawn_with - 1);
    philox2x32_ctr_t w = costs_words(k, who, costs_stage(id), n);
    double u = costs_u01(w.v[0]), x;
    switch (c->kind) {
    case COST_EMPIRICAL:
        x = costs_empirical(c, u);
        break;
    case COST_LOGNORMAL:
        x = exp(c->a + c->b * gsl_cdf_ugaussian_Pinv(u));
        break;
    case COST_GAMMA:
        x = gsl_cdf_gamma_Pinv(u, c->a, c->b);
        break;
    case COST_EXPONENTIAL:
        x = -c->a * log1p(-u);
        break;
    default:
        x = c->value;
    }
    return costs_clip(c, x);
}

double costs_uniform(const costs_t *k, cost_id_t id, const req_t *r, uint32_t n)
{
    return costs_u01(costs_words(k, costs_req_key(r), costs_stage(id), n).v[0]);
}

double costs_at(const costs_t *k, cost_id_t id, uint64_t who, uint32_t n)
{
    return costs_at_cost(k, &k->c[id], id, who, n);
}

double costs_at_cross(const costs_t *k, cost_id_t id, uint64_t who, uint32_t n)
{
    return costs_at_cost(k, k->cross[id].measured ? &k->cross[id] : &k->c[id], id, who, n);
}

const costs_chain_t *costs_chain(const costs_t *k, int cross, int idle, const req_t *r)
{
    const costs_chains_t *ch = &k->chain[cross ? 1 : 0];
    if (ch->n == 0)
        return NULL;
    uint32_t lo = 0, n = ch->n;
    if (idle && ch->nidle >= COSTS_CHAIN_MIN)
        n = ch->nidle;
    else if (!idle && ch->n - ch->nidle >= COSTS_CHAIN_MIN)
        lo = ch->nidle, n = ch->n - ch->nidle;
    philox2x32_ctr_t w = costs_words(k, costs_req_key(r), COSTS_STAGE_CHAIN, 0);
    return &ch->v[lo + (uint32_t)(((uint64_t)w.v[0] * n) >> 32)];
}
