/*
 * harness.c - see harness.h. A request's way through here: submit (from a
 * workload) -> place (policy, req_apply_placement, LATER/DROP) -> the
 * executor -> complete (collector, policy feedback) -> r->done.
 */
#include "harness.h"

#include "workload/workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const harness_cfg_t *c;
    const exec_ops_t *ops;
    void *x;                          /* the executor's state */
    exec_shape_t shape;
    sim_t *sim;
    req_pool_t *pool;
    collect_t *col;
    pol_t *pol;
    int wait, taskrun;                /* host.wait / host.taskrun, -1: the policy's */
    uint32_t inflight[POL_NCLASSES];
    struct harness_wl *wl;            /* per workload entry: what submit marks */
} harness_t;

/* A workload's wl_env_t.path: the harness and the marks of its entry. */
typedef struct harness_wl {
    harness_t *h;
    bool rdma;
    const int16_t *pool; /* pool_cpus: a worker there consumes, round robin */
    uint32_t npool, next;
} harness_wl_t;

#define PTR(x) ((uint64_t)(uintptr_t)(x))

static void harness_view(harness_t *h, const req_t *r, pol_view_t *v)
{
    memset(v, 0, sizeof(*v));
    h->ops->view(h->x, r, v);
    v->inflight = h->inflight;
    v->now_ns = sim_now(h->sim);
}

static void harness_place(harness_t *h, req_t *r);

static void harness_retry(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    harness_place(ctx, (req_t *)(uintptr_t)arg);
}

static void harness_place(harness_t *h, req_t *r)
{
    if (h->ops->refuse && h->ops->refuse(h->x, r)) {
        r->done(h->sim, r);
        return;
    }
    pol_view_t v;
    pol_placement_t pl;
    harness_view(h, r, &v);
    pol_intent_t in = req_intent(r);
    memset(&pl, 0, sizeof(pl));
    pol_place(h->pol, &v, &in, &pl);
    switch (req_apply_placement(r, &pl, h->shape.ncpus, h->wait, h->taskrun)) {
    case POL_ADMIT_LATER:
        sim_after(h->sim, (sim_time_t)(pl.retry_ns > 1 ? pl.retry_ns : 1), harness_retry, h,
                  PTR(r));
        return;
    case POL_ADMIT_DROP:
        h->col->dropped++;
        r->done(h->sim, r);
        return;
    case POL_ADMIT:
        break;
    }
    h->inflight[r->cls]++;
    if (h->ops->submit(h->x, r, &pl) != 0) {
        h->inflight[r->cls]--;
        r->done(h->sim, r);
    }
}

/* wl_env_t.submit: takes r until r->done. */
static void harness_submit(void *ctx, req_t *r)
{
    harness_wl_t *w = ctx;
    harness_t *h = w->h;
    r->rdma = w->rdma;
    if (w->npool) {
        r->pooled = 1;
        r->pool_cpu = w->pool[w->next++ % w->npool];
    }
    if (r->dev >= h->shape.ndev)
        r->dev = (uint16_t)(r->dev % h->shape.ndev);
    if (r->consumer_cpu >= (int16_t)h->shape.ncpus)
        r->consumer_cpu = (int16_t)(r->consumer_cpu % h->shape.ncpus);
    r->t[T_ISSUE] = sim_now(h->sim);
    harness_place(h, r);
}

/* wl_env_t.cpu_work: the CPU wrapped as a request's consumer_cpu is. */
static int harness_cpu_work(void *ctx, uint32_t flow, uint32_t cpu, sim_time_t ns,
                            sim_handler_fn fn, void *fctx, uint64_t arg)
{
    const harness_wl_t *w = ctx;
    harness_t *h = w->h;
    return h->ops->cpu_work(h->x, flow, cpu % h->shape.ncpus, ns, fn, fctx, arg);
}

/* exec_env_t.complete */
static void harness_complete(void *ctx, req_t *r)
{
    harness_t *h = ctx;
    if (!h->ops->keep || !h->ops->keep(h->x, r))
        collect_req(h->col, r);
    pol_view_t v;
    harness_view(h, r, &v);
    pol_intent_t in = req_intent(r);
    pol_complete(h->pol, &v, &in, r->t[T_READY] - r->t[T_ISSUE]);
    h->inflight[r->cls]--;
    r->done(h->sim, r);
}

/* The adaptive mode's switches after warm-up: how many, and when it first
 * went to latency mode and then first came back. */
static void harness_mode_switches(const pol_t *pol, sim_time_t warm, result_t *out)
{
    uint32_t n = 0, count = 0;
    const pol_switch_t *sw = pol_switches(pol, &n);
    double to_lat = -1, back = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (sw[i].t_ns < warm)
            continue;
        count++;
        if (sw[i].to == POL_MODE_LATENCY && to_lat < 0)
            to_lat = (double)sw[i].t_ns / 1e6;
        else if (sw[i].to == POL_MODE_THROUGHPUT && to_lat >= 0 && back < 0)
            back = (double)sw[i].t_ns / 1e6;
    }
    if (!n)
        return;
    result_set_id(out, METRIC_MODE_SWITCHES, count);
    if (to_lat >= 0)
        result_set_id(out, METRIC_MODE_TO_LATENCY_MS, to_lat);
    if (back >= 0)
        result_set_id(out, METRIC_MODE_TO_THROUGHPUT_MS, back);
}

static void harness_lock(harness_t *h, bool on)
{
    if (h->ops->lock && h->x)
        h->ops->lock(h->x, on);
}

static double harness_wall_s(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Start every workload; 0 or -errno with err naming the entry. */
static int harness_start(harness_t *h, void **inst, char *err, size_t errlen)
{
    const harness_cfg_t *c = h->c;
    int rc = 0;
    harness_lock(h, true);
    for (uint32_t i = 0; rc == 0 && i < c->nwl; i++) {
        h->wl[i] = (harness_wl_t){.h = h, .rdma = c->wl[i].rdma, .pool = c->wl[i].pool,
                                  .npool = c->wl[i].npool};
        wl_env_t env = {
            .sim = h->sim, .pool = h->pool, .seed = c->seed, .rep = c->rep, .index = i,
            .ncpus = h->shape.ncpus, .end = c->end, .submit = harness_submit, .path = &h->wl[i],
            .cpu_work = h->ops->cpu_work ? harness_cpu_work : NULL,
            .step_stall = &h->col->step_stall, .query_lat = &h->col->query_lat,
            .steps = &h->col->steps, .warm = c->warm, .gpu_busy_ns = &h->col->gpu_busy_ns,
        };
        rc = c->wl[i].ops->start(c->wl[i].params, &env, &inst[i]);
        if (rc)
            snprintf(err, errlen, "workload.%u (%s): could not start: %s", i, c->wl[i].ops->name,
                     sim_error(h->sim) ? sim_error_msg(h->sim) : strerror(-rc));
    }
    harness_lock(h, false);
    return rc;
}

/* After a run: the contract metrics, the policy's mode switches, the
 * executor's own metrics, and the pilot's series. */
static int harness_results(harness_t *h, const struct timespec *t0, result_t *out, char *err,
                           size_t errlen)
{
    const harness_cfg_t *c = h->c;
    collect_totals_t tot = {.measured_ns = (double)(c->end - c->warm)};
    int rc = h->ops->finish(h->x, &tot, err, errlen);
    if (rc)
        return rc;
    tot.events = sim_events(h->sim);
    tot.wall_s = harness_wall_s(t0);
    rc = collect_result(h->col, &tot, out);
    if (rc)
        return rc;
    harness_mode_switches(h->pol, c->warm, out);
    if (h->ops->results)
        h->ops->results(h->x, out);
    if (out->error) {
        snprintf(err, errlen, "out of memory for the run's results");
        return out->error;
    }
    const collect_t *col = h->col;
    for (uint32_t b = 0; c->series && b < c->series_bins; b++)
        c->series[b] = col->series_n[b] ? col->series_sum[b] / (double)col->series_n[b]
                                        : (b ? c->series[b - 1] : 0);
    return 0;
}

int harness_run(const harness_cfg_t *c, result_t *out, char *err, size_t errlen)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    err[0] = '\0';
    harness_t h = {
        .c = c, .ops = c->ops,
        .wait = c->host ? c->host->wait : -1, .taskrun = c->host ? c->host->taskrun : -1,
    };
    h.sim = sim_new();
    h.pool = req_pool_new();
    if (h.pool && c->max_inflight)
        req_pool_set_limit(h.pool, c->max_inflight);
    h.col = collect_new(c->warm, c->series ? 0 : c->record_requests, out);
    h.pol = pol_new(c->variant, c->polcfg);
    int rc = h.sim && h.pool && h.col && h.pol ? 0 : -ENOMEM;
    if (rc == 0 && c->series &&
        collect_series(h.col, c->series_bins, c->end / (c->series_bins ? c->series_bins : 1)))
        rc = -ENOMEM;
    exec_env_t env = {
        .sim = h.sim, .pool = h.pool, .col = h.col, .variant = c->variant, .polcfg = c->polcfg,
        .seed = c->seed, .rep = c->rep, .warm = c->warm, .end = c->end, .stop = c->stop,
        .progress = c->progress,
        .complete = harness_complete, .harness = &h,
    };
    if (rc == 0)
        rc = c->ops->init(&env, c->exec_cfg, &h.x, &h.shape, err, errlen);
    if (rc == 0 && (h.shape.ncpus == 0 || h.shape.ndev == 0)) {
        snprintf(err, errlen, "the %s executor offers no CPU or no device", c->ops->name);
        rc = -EINVAL;
    }
    void **inst = calloc(c->nwl ? c->nwl : 1, sizeof(*inst));
    h.wl = calloc(c->nwl ? c->nwl : 1, sizeof(*h.wl));
    if (rc == 0 && (!inst || !h.wl))
        rc = -ENOMEM;
    if (rc == 0)
        rc = harness_start(&h, inst, err, errlen);
    if (rc == 0)
        rc = c->ops->run(h.x, err, errlen);
    if (rc == 0 && req_pool_overflowed(h.pool)) {
        snprintf(err, errlen,
                 "workload: more than %llu requests in flight at %.3f ms: the offered load "
                 "exceeds what the modelled host and devices serve (lower the rates or "
                 "queue depths)",
                 (unsigned long long)c->max_inflight, (double)sim_now(h.sim) / 1e6);
        rc = -EINVAL;
    } else if (rc == 0 && sim_error(h.sim)) { /* the event path failed: the run is not a result */
        snprintf(err, errlen, "the run failed at %.3f ms: %s", (double)sim_now(h.sim) / 1e6,
                 sim_error_msg(h.sim));
        rc = sim_error(h.sim);
    }
    if (rc == 0)
        rc = harness_results(&h, &t0, out, err, errlen);

    /* the executor first: it completes what is still in flight (a run that
     * never ran), through the workloads, and stops its threads */
    if (h.x)
        c->ops->free(h.x);
    for (uint32_t i = 0; inst && i < c->nwl; i++)
        if (inst[i])
            c->wl[i].ops->inst_free(inst[i]);
    free(inst);
    free(h.wl);
    pol_free(h.pol);
    collect_free(h.col);
    req_pool_free(h.pool);
    sim_free(h.sim);
    return rc;
}
