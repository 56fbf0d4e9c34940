/*
 * runner.c - see runner.h.
 */
#include "runner.h"

#include "models/collect.h"
#include "models/costs.h"
#include "models/path.h"
#include "reports/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t runner_interrupted;

typedef struct {
    path_t *path;
    collect_t *col;
} runner_ctx_t;

static void runner_warm(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    runner_ctx_t *rc = ctx;
    path_reset_stats(rc->path);
}

/* Requests in flight at once beyond which a run is called overloaded: the
 * offered load exceeds what the modelled host serves, and the backlog would
 * otherwise grow memory without bound (~200 bytes a request). */
#define RUNNER_MAX_INFLIGHT (1u << 20)

static runner_progress_fn runner_progress;
static void *runner_progress_ctx;
static double runner_progress_every_s;

void runner_set_progress(runner_progress_fn fn, void *ctx, double every_s)
{
    runner_progress = fn;
    runner_progress_ctx = ctx;
    runner_progress_every_s = every_s;
}

typedef struct {
    req_pool_t *pool;
    struct timespec t0;
    double next_report_s;
    sim_time_t end;
} runner_watch_t;

static double runner_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Checked every simulated millisecond: cheap, and bounds the wait on Ctrl-C
 * and on an overloaded run. It reads the wall clock only when someone
 * wants progress, and schedules the same events either way. */
static void runner_watch(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    runner_watch_t *w = ctx;
    if (runner_progress) {
        double wall = runner_since(&w->t0);
        if (wall >= w->next_report_s) {
            w->next_report_s = wall + runner_progress_every_s;
            runner_progress_t p = {.requests = req_pool_done(w->pool), .now_ns = sim_now(sim),
                                   .end_ns = w->end, .wall_s = wall};
            runner_progress(&p, runner_progress_ctx);
        }
    }
    if (runner_interrupted || req_pool_overflowed(w->pool))
        sim_stop(sim);
    else
        sim_after(sim, SIM_MS(1), runner_watch, ctx, 0);
}

/* The adaptive mode's switches after warm-up: how many, and when it first
 * went to latency mode and then first came back. */
static void runner_mode_switches(const pol_t *pol, sim_time_t warm, result_t *out)
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
    result_set(out, "mode_switches", count);
    if (to_lat >= 0)
        result_set(out, "mode_to_latency_ms", to_lat);
    if (back >= 0)
        result_set(out, "mode_to_throughput_ms", back);
}

char *runner_calibration(const scn_t *s, uint32_t variant)
{
    return scn_resolve(s, s->var[variant].host.calibration);
}

#define RUNNER_MSER_BINS 200

/* One run with the warm-up cut at `warm`; with series != NULL the collector
 * also keeps mean latency per bin of issue time (the MSER-5 pilot). */
static int runner_once(const scn_t *s, uint32_t vi, uint32_t rep, sim_time_t warm,
                       double *series, result_t *out, char *err, size_t errlen)
{
    const scn_variant_t *v = &s->var[vi];
    costs_t costs;
    char *cal = runner_calibration(s, vi);
    char why[512];
    int rc = costs_load(&costs, cal, why, sizeof(why));
    free(cal);
    if (rc) {
        /* name the scenario key that led here, then what is wrong in the file */
        snprintf(err, errlen, "%s: host.calibration: %s", s->file, why);
        return rc == -ENOENT ? -EINVAL : rc;
    }
    rc = 0;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sim_time_t duration = (sim_time_t)(s->run.duration_ms * 1e6);
    sim_t *sim = sim_new();
    req_pool_t *pool = req_pool_new();
    if (pool)
        req_pool_set_limit(pool, RUNNER_MAX_INFLIGHT);
    collect_t *col = collect_new(warm, series ? 0 : s->run.record_requests, out);
    if (col && series && collect_series(col, RUNNER_MSER_BINS, duration / RUNNER_MSER_BINS))
        rc = -ENOMEM;
    path_cfg_t pc = {
        .host = &v->host, .dev = v->dev, .ndev = v->ndev, .variant = &v->pol,
        .pol = &v->polcfg, .costs = &costs, .seed = s->run.seed, .rep = rep, .col = col,
    };
    path_t *path = sim && pool && col && rc == 0 ? path_new(sim, &pc) : NULL;
    void **inst = calloc(v->nwl ? v->nwl : 1, sizeof(*inst));
    rc = path && inst ? 0 : -ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < v->nwl; i++) {
        wl_env_t env = {
            .sim = sim, .pool = pool, .seed = s->run.seed, .rep = rep, .index = i,
            .ncpus = v->host.cpus, .end = duration, .submit = path_submit, .path = path,
            .step_stall = &col->step_stall, .query_lat = &col->query_lat, .steps = &col->steps,
            .warm = warm, .gpu_busy_ns = &col->gpu_busy_ns,
        };
        rc = v->wl[i].ops->start(v->wl[i].params, &env, &inst[i]);
        if (rc)
            snprintf(err, errlen, "%s: workload.%u (%s): could not start: %s", s->file, i,
                     v->wl[i].ops->name, strerror(-rc));
    }
    runner_ctx_t ctx = {path, col};
    runner_watch_t watch = {.pool = pool, .t0 = t0, .next_report_s = runner_progress_every_s,
                            .end = duration};
    if (rc == 0) {
        sim_at(sim, warm, runner_warm, &ctx, 0);
        sim_after(sim, SIM_MS(1), runner_watch, &watch, 0);
        sim_run(sim, duration);
        if (runner_interrupted)
            rc = -EINTR;
        else if (req_pool_overflowed(pool)) {
            snprintf(err, errlen,
                     "%s: workload: more than %u requests in flight at %.3f ms: the offered load "
                     "exceeds what the modelled host and devices serve (lower the rates or "
                     "queue depths)",
                     s->file, RUNNER_MAX_INFLIGHT, (double)sim_now(sim) / 1e6);
            rc = -EINVAL;
        }
    }
    if (rc == 0) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        collect_totals_t tot = {
            .measured_ns = (double)(duration - warm),
            .cpu_ns = path_cpu_ns(path),
            .events = sim_events(sim),
            .wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
        };
        rc = collect_result(col, &tot, out);
        if (rc == 0)
            runner_mode_switches(path_policy(path), warm, out);
        /* the pilot's series: empty bins repeat the last mean */
        for (uint32_t b = 0; rc == 0 && series && b < RUNNER_MSER_BINS; b++)
            series[b] = col->series_n[b] ? col->series_sum[b] / (double)col->series_n[b]
                                         : (b ? series[b - 1] : 0);
    }
    for (uint32_t i = 0; inst && i < v->nwl; i++)
        if (inst[i])
            v->wl[i].ops->inst_free(inst[i]);
    free(inst);
    path_free(path);
    collect_free(col);
    req_pool_free(pool);
    sim_free(sim);
    return rc;
}

int runner_run(const scn_t *s, uint32_t vi, uint32_t rep, result_t *out, char *err,
               size_t errlen)
{
    if (!s->run.warmup_auto)
        return runner_once(s, vi, rep, (sim_time_t)(s->run.warmup_ms * 1e6), NULL, out, err,
                           errlen);
    /* "warmup_ms": "auto": a pilot of the same run (same streams) finds the
     * MSER-5 cut in its latency series; the measured run then starts there */
    double series[RUNNER_MSER_BINS];
    result_t pilot;
    result_init(&pilot);
    int rc = runner_once(s, vi, rep, 0, series, &pilot, err, errlen);
    result_fini(&pilot);
    if (rc)
        return rc;
    size_t cut = 0;
    if (stats_mser5(series, RUNNER_MSER_BINS, &cut) != 0)
        cut = 0;
    sim_time_t bin = (sim_time_t)(s->run.duration_ms * 1e6) / RUNNER_MSER_BINS;
    rc = runner_once(s, vi, rep, (sim_time_t)cut * bin, NULL, out, err, errlen);
    if (rc == 0)
        result_set(out, "warmup_cut_ms", (double)((sim_time_t)cut * bin) / 1e6);
    return rc;
}
