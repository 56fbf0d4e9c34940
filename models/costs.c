/*
 * costs.c - default costs with their sources, the calibration-file loader and
 * cost draws. docs/models.md carries the same table for readers; change both.
 */
#include "costs.h"

#include <errno.h>
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
    [COST_IPI_RECV] = {"ipi_recv_ns", "ns", "typical; IPI entry + call_single_queue flush on the receiver", 700},
    [COST_TIMER_OVERSHOOT] = {"timer_overshoot_ns", "ns", "typical; hrtimer wake-up latency with no slack (cyclictest, idle CPU)", 5000},
    [COST_MIGRATION] = {"migration_ns", "ns", "typical; set_task_cpu + dequeue/enqueue on two run queues", 2000},
    [COST_SCHED_HZ] = {"sched_hz", "Hz", "CONFIG_HZ of the calibrated host (/proc/config.gz): 250", 250},
    [COST_KERNEL_VERSION] = {"kernel_version", "version", "uname -r of the calibrated host: 6.18", 618},
    [COST_PREEMPT_MODEL] = {"preempt_model", "model", "PREEMPT_DYNAMIC default of the calibrated host: none (CONFIG_PREEMPT_NONE)", 0},
    [COST_DEVICE_UNITS] = {"device_units", "units", "DESIGN.md flash geometry: 8 channels x 4 dies", 32},
    [COST_COMPLETE_TO_CQE_SAME] = {"complete_to_cqe_same_ns", "ns", "calibrated only (trace chain); uncalibrated: context_switch_ns + task_work_ns", 1800},
};

static const double costs_qp[COST_NQ] = {0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99};
static const char *const costs_qname[COST_NQ] = {"p1", "p5", "p10", "p25", "p50",
                                                  "p75", "p90", "p95", "p99"};

void costs_defaults(costs_t *k)
{
    memset(k, 0, sizeof(*k));
    for (int i = 0; i < COST_N; i++) {
        k->c[i].value = costs_info[i].value;
        k->c[i].kind = COST_FIXED;
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
        int have = 0;
        for (int i = 0; i < COST_NQ; i++) {
            json_t *x = json_object_get(q, costs_qname[i]);
            if (x && !costs_in_range(id, x)) {
                snprintf(what, sizeof(what), "quantiles.%s: expected a number in [%g, %g]",
                         costs_qname[i], costs_min(id), costs_max(id));
                return costs_bad(err, n, path, name, what);
            }
            if (x) {
                c->q[i] = json_number_value(x);
                have++;
            }
        }
        for (int i = 1; have == COST_NQ && i < COST_NQ; i++)
            if (c->q[i] < c->q[i - 1])
                return costs_bad(err, n, path, name, "quantiles must not decrease");
        if (have == COST_NQ)
            c->kind = COST_EMPIRICAL;
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
    if (rc == 0) {
        json_object_foreach(params, name, p) {
            int id = -1;
            for (int i = 0; i < COST_N; i++)
                if (strcmp(costs_info[i].name, name) == 0)
                    id = i;
            if (id < 0)
                continue; /* measurements the models do not use (yet) are kept in the file only */
            if (!json_is_object(p)) {
                rc = costs_bad(err, n, path, name, "expected an object");
                break;
            }
            if (json_is_null(json_object_get(p, "value")))
                continue; /* calibrate could not measure it (e.g. writes on a read-only target) */
            if ((rc = costs_parse_param(&k->c[id], (cost_id_t)id, p, path, name, err, n)) != 0)
                break;
        }
    }
    json_decref(root);
    if (rc == 0)
        snprintf(k->source, sizeof(k->source), "%s", path);
    return rc;
}

static double costs_draw_raw(const cost_t *c, gsl_rng *r)
{
    switch (c->kind) {
    case COST_FIXED:
        return c->value;
    case COST_EMPIRICAL: {
        /* inverse CDF, linear between the stored quantiles, flat tails */
        double u = gsl_rng_uniform(r);
        if (u <= costs_qp[0])
            return c->q[0];
        for (int i = 1; i < COST_NQ; i++)
            if (u <= costs_qp[i])
                return c->q[i - 1] + (c->q[i] - c->q[i - 1]) * (u - costs_qp[i - 1]) /
                                         (costs_qp[i] - costs_qp[i - 1]);
        return c->q[COST_NQ - 1];
    }
    case COST_LOGNORMAL:
        return gsl_ran_lognormal(r, c->a, c->b);
    case COST_GAMMA:
        return gsl_ran_gamma(r, c->a, c->b);
    case COST_EXPONENTIAL:
        return gsl_ran_exponential(r, c->a);
    }
    return c->value;
}

double costs_draw(const costs_t *k, cost_id_t id, gsl_rng *r)
{
    const cost_t *c = &k->c[id];
    if (c->kind == COST_FIXED)
        return c->value;
    /* a fit's far tail is cut at the largest value a cost may take */
    double x = costs_draw_raw(c, r), max = costs_max(id);
    return x >= 0 && x <= max ? x : x > max ? max : c->value;
}
