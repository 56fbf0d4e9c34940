/*
 * live.c - see live.h.
 */
#define _GNU_SOURCE
#include "live.h"

#include "live/backend.h"
#include "live/stamps.h"
#include "models/collect.h"
#include "sim/vec.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIVE_POLL_STOP_NS 10000000ull   /* longest the driver sleeps between stop checks */
#define LIVE_DRAIN_NS 10000000000ull    /* in-flight I/O must finish within this at the end */
#define LIVE_TRACE_MAX (1u << 20)       /* requests kept for the tracefs join */
#define LIVE_TRACE_DRAIN_NS 100000000ull

typedef struct {
    const live_cfg_t *c;
    sim_t *sim;
    req_pool_t *pool;
    collect_t *col;
    pol_t *pol;
    live_be_t *be;
    pthread_mutex_t mu;                 /* the engine lock */
    pthread_cond_t cv;
    uint64_t t0;
    uint32_t inflight[POL_NCLASSES];
    uint64_t outstanding, hwq_moved, held, continued;
    uint64_t npending;                  /* sim_npending when the driver went to sleep */
    bool stopping, sleeping;
    int fail;
    char failmsg[512];
    /* tracefs mode: finished requests wait here for their kernel stamps */
    req_t *kept;
    size_t nkept, capkept;
    uint64_t unkept;
} live_t;

static uint64_t live_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double live_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void live_failf(live_t *L, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void live_failf(live_t *L, int rc, const char *fmt, ...)
{
    if (L->fail)
        return;
    L->fail = rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->failmsg, sizeof(L->failmsg), fmt, ap);
    va_end(ap);
    pthread_cond_signal(&L->cv);
}

static void live_view(live_t *L, pol_view_t *v)
{
    memset(v, 0, sizeof(*v));
    live_topo_view(L->c->topo, v);
    v->inflight = L->inflight;
    v->now_ns = sim_now(L->sim);
}

static void live_place(live_t *L, req_t *r);

static void live_retry(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    live_place(ctx, (req_t *)(uintptr_t)arg);
}

/* Under the engine lock. */
static void live_place(live_t *L, req_t *r)
{
    if (L->stopping || L->fail) {
        r->done(L->sim, r);
        return;
    }
    const host_cfg_t *h = L->c->host;
    pol_view_t v;
    pol_intent_t in;
    pol_placement_t pl;
    live_view(L, &v);
    in = req_intent(r);
    memset(&pl, 0, sizeof(pl));
    pol_place(L->pol, &v, &in, &pl);
    if (pl.admit == POL_ADMIT_LATER) {
        sim_after(L->sim, (sim_time_t)(pl.retry_ns > 1 ? pl.retry_ns : 1), live_retry, L,
                  (uint64_t)(uintptr_t)r);
        return;
    }
    if (pl.admit == POL_ADMIT_DROP) {
        L->col->dropped++;
        r->done(L->sim, r);
        return;
    }
    r->submit_cpu = (int16_t)pl.submit_cpu;
    r->consumer_cpu = (int16_t)(pl.consumer_cpu % L->c->topo->ncpus);
    r->completion_cpu = (int16_t)pl.completion_cpu;
    r->hwq = pl.hwq;
    r->wait = (uint8_t)(h && h->wait >= 0 ? h->wait : (int)pl.wait);
    r->taskrun = (uint8_t)(h && h->taskrun >= 0 ? h->taskrun : (int)pl.taskrun);
    r->coalesce = pl.coalesce;
    r->prio = (uint8_t)pl.prio;
    /* on a real host the hardware queue follows the submitting CPU */
    if (pl.hwq != L->c->topo->cpu_queue[r->consumer_cpu])
        L->hwq_moved++;
    if (pl.hold_background)
        L->held++;
    if (r->gpu >= 0 || (r->rdma && !L->c->rdma))
        L->continued++;
    L->inflight[r->cls]++;
    L->outstanding++;
    int rc = live_be_submit(L->be, r, &pl);
    if (rc) {
        L->inflight[r->cls]--;
        L->outstanding--;
        live_failf(L, rc, "%s", live_be_error(L->be)[0] ? live_be_error(L->be) : strerror(-rc));
        r->done(L->sim, r);
    }
}

/* wl_env_t.submit: under the engine lock (called from sim handlers and
 * from completions). */
static void live_submit(void *ctx, req_t *r)
{
    live_t *L = ctx;
    const live_target_t *t = L->c->target;
    uint32_t lb = L->c->topo->logical_block ? L->c->topo->logical_block : 512;
    if (!L->stopping && !L->fail) {
        if (r->op == REQ_WRITE && !t->writable)
            live_failf(L, -EINVAL,
                       "%s: the workload issues writes; live runs are read-only unless "
                       "--allow-write is given for a file latsurf created (--create SIZE)",
                       t->path);
        else if (r->offset + r->bytes > t->size)
            live_failf(L, -EINVAL,
                       "%s: the workload reads up to byte %llu but the target has %llu bytes; "
                       "use a larger target (latsurf live --create SIZE) or a smaller "
                       "span_bytes in the scenario's workload",
                       t->path, (unsigned long long)(r->offset + r->bytes),
                       (unsigned long long)t->size);
        else if (r->offset % lb || r->bytes % lb)
            live_failf(L, -EINVAL,
                       "%s: an I/O of %u bytes at offset %llu is not aligned to the device's "
                       "%u-byte logical blocks (O_DIRECT)",
                       t->path, r->bytes, (unsigned long long)r->offset, lb);
    }
    r->dev = 0;
    if (r->consumer_cpu >= (int16_t)L->c->topo->ncpus)
        r->consumer_cpu = (int16_t)(r->consumer_cpu % (int16_t)L->c->topo->ncpus);
    r->t[T_ISSUE] = sim_now(L->sim);
    live_place(L, r);
}

static void live_keep(live_t *L, const req_t *r)
{
    if (r->t[T_ISSUE] < L->col->warm)
        return;
    if (L->nkept >= LIVE_TRACE_MAX || VEC_RESERVE(L->kept, L->capkept, L->nkept + 1) != 0) {
        L->unkept++;
        collect_req(L->col, r);
        return;
    }
    L->kept[L->nkept++] = *r;
}

/* live_be_done_fn: on the consumer's worker thread. */
static void live_done(void *ctx, req_t *r)
{
    live_t *L = ctx;
    pthread_mutex_lock(&L->mu);
    uint64_t now = live_mono() - L->t0;
    if (!L->stopping && now > sim_now(L->sim))
        sim_run(L->sim, now);
    if (r->t[T_CONTINUED] < r->t[T_READY])
        r->t[T_CONTINUED] = r->t[T_READY];
    if (L->kept)
        live_keep(L, r);
    else
        collect_req(L->col, r);
    pol_view_t v;
    pol_intent_t in;
    live_view(L, &v);
    in = req_intent(r);
    pol_complete(L->pol, &v, &in, r->t[T_READY] - r->t[T_ISSUE]);
    L->inflight[r->cls]--;
    L->outstanding--;
    r->done(L->sim, r);
    /* the driver sleeps without a tick when no timer is pending: wake it if
     * this completion scheduled one, or if it waits for the last I/O */
    if (L->sleeping && (sim_npending(L->sim) > L->npending || L->outstanding == 0))
        pthread_cond_signal(&L->cv);
    pthread_mutex_unlock(&L->mu);
}

static void live_abs(struct timespec *ts, uint64_t rel_ns, uint64_t t0)
{
    uint64_t a = t0 + rel_ns;
    ts->tv_sec = (time_t)(a / 1000000000ull);
    ts->tv_nsec = (long)(a % 1000000000ull);
}

static void live_notes(live_t *L, live_stamps_t *st, const char *stamp_note, char *notes,
                       size_t nlen)
{
    size_t len = 0;
    notes[0] = '\0';
#define NOTE(...)                                                                                \
    do {                                                                                         \
        if (len < nlen) {                                                                        \
            len += (size_t)snprintf(notes + len, nlen - len, "%s", len ? "; " : "");             \
            if (len < nlen)                                                                      \
                len += (size_t)snprintf(notes + len, nlen - len, __VA_ARGS__);                   \
        }                                                                                        \
    } while (0)
    const live_topo_t *t = L->c->topo;
    if (t->note[0])
        NOTE("%s", t->note);
    if (L->c->host && L->c->host->cpus != t->ncpus)
        NOTE("scenario host.cpus = %u, this host has %u", L->c->host->cpus, t->ncpus);
    if (live_be_notes(L->be)[0])
        NOTE("%s", live_be_notes(L->be));
    if (L->hwq_moved)
        NOTE("%llu placements named a hardware queue other than the consumer CPU's: the "
             "kernel uses the submitting CPU's queue",
             (unsigned long long)L->hwq_moved);
    if (L->held)
        NOTE("%llu requests asked to hold device background work: not available live",
             (unsigned long long)L->held);
    if (L->continued)
        NOTE("%llu requests asked for a GPU or RDMA continuation: not executed live "
             "(t_continued = t_ready)",
             (unsigned long long)L->continued);
    if (stamp_note && stamp_note[0])
        NOTE("%s", stamp_note);
    (void)st;
#undef NOTE
}

int live_run(const live_cfg_t *c, result_t *out, char *notes, size_t nlen, char *err,
             size_t errlen)
{
    live_t *L = calloc(1, sizeof(*L));
    if (!L)
        return -ENOMEM;
    L->c = c;
    notes[0] = '\0';
    err[0] = '\0';
    sim_time_t warm = (sim_time_t)(c->warmup_ms * 1e6);
    sim_time_t end = (sim_time_t)(c->duration_ms * 1e6);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&L->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&L->mu, NULL);
    L->sim = sim_new();
    L->pool = req_pool_new();
    L->col = collect_new(warm, c->record_requests, out);
    L->pol = pol_new(c->variant, c->polcfg);
    int rc = L->sim && L->pool && L->col && L->pol ? 0 : -ENOMEM;

    char stamp_note[256] = "";
    live_stamps_t *st = NULL;
    if (!rc && c->trace) {
        int tr = live_stamps_start(&st, stamp_note, sizeof(stamp_note));
        if (tr == 0)
            L->kept = malloc(4096 * sizeof(*L->kept)), L->capkept = L->kept ? 4096 : 0;
    }

    L->t0 = live_mono();
    live_be_cfg_t bc = {
        .fd = c->target->fd, .topo = c->topo, .host = c->host,
        .registration = c->variant->registration, .polcfg = c->polcfg, .rdma = c->rdma,
        .t0_ns = L->t0,
        .done = live_done, .ctx = L,
    };
    if (!rc && !(L->be = live_be_new(&bc, err, errlen)))
        rc = -ENOMEM;
    void **inst = calloc(c->nwl ? c->nwl : 1, sizeof(*inst));
    if (!inst)
        rc = -ENOMEM;

    pthread_mutex_lock(&L->mu);
    for (uint32_t i = 0; rc == 0 && i < c->nwl; i++) {
        wl_env_t env = {
            .sim = L->sim, .pool = L->pool, .seed = c->seed, .rep = c->rep, .index = i,
            .ncpus = c->topo->ncpus, .end = end, .submit = live_submit, .path = L,
            .step_stall = &L->col->step_stall, .query_lat = &L->col->query_lat,
            .steps = &L->col->steps, .warm = warm, .gpu_busy_ns = &L->col->gpu_busy_ns,
        };
        rc = c->wl[i].ops->start(c->wl[i].params, &env, &inst[i]);
        if (rc)
            snprintf(err, errlen, "workload.%u (%s): could not start: %s", i, c->wl[i].ops->name,
                     strerror(-rc));
    }
    /* the driver: due timers, the warm-up mark, the end */
    bool marked = false;
    double cpu_mark = 0, cpu_end = 0;
    uint64_t last_drain = 0;
    while (rc == 0 && !L->fail && !(c->stop && *c->stop)) {
        uint64_t now = live_mono() - L->t0;
        if (now >= end)
            break;
        sim_run(L->sim, now);
        if (!marked && now >= warm) {
            marked = true;
            live_be_mark(L->be);
            cpu_mark = live_thread_cpu_ns();
        }
        if (st && now - last_drain >= LIVE_TRACE_DRAIN_NS) {
            pthread_mutex_unlock(&L->mu);
            live_stamps_drain(st);
            pthread_mutex_lock(&L->mu);
            last_drain = now;
        }
        L->npending = sim_npending(L->sim);
        uint64_t next = L->npending ? now + LIVE_TICK_NS : now + LIVE_POLL_STOP_NS;
        if (!marked && next > warm)
            next = warm;
        if (next > end)
            next = end;
        if (st && next > last_drain + LIVE_TRACE_DRAIN_NS)
            next = last_drain + LIVE_TRACE_DRAIN_NS;
        struct timespec ts;
        live_abs(&ts, next, L->t0);
        L->sleeping = true;
        pthread_cond_timedwait(&L->cv, &L->mu, &ts);
        L->sleeping = false;
    }
    cpu_end = live_thread_cpu_ns();
    bool interrupted = c->stop && *c->stop;
    /* wind down: nothing new is issued, every CQE is reaped */
    L->stopping = true;
    uint64_t drain_until = live_mono() - L->t0 + LIVE_DRAIN_NS;
    while (L->outstanding) {
        struct timespec ts;
        live_abs(&ts, drain_until, L->t0);
        L->sleeping = true;
        int w = pthread_cond_timedwait(&L->cv, &L->mu, &ts);
        L->sleeping = false;
        if (w == ETIMEDOUT) {
            live_failf(L, -ETIMEDOUT, "%llu I/Os still in flight %.0f s after the end",
                       (unsigned long long)L->outstanding, LIVE_DRAIN_NS / 1e9);
            break;
        }
    }
    pthread_mutex_unlock(&L->mu);

    live_be_stats_t bs = {0};
    if (L->be)
        live_be_stats(L->be, &bs); /* joins the workers: every CQE reaped */
    if (st) {
        int fr = live_stamps_fill(st, L->t0, L->kept, L->nkept, stamp_note, sizeof(stamp_note));
        if (fr < 0 && !stamp_note[0])
            snprintf(stamp_note, sizeof(stamp_note), "tracefs join failed: %s", strerror(-fr));
    }
    for (size_t i = 0; i < L->nkept; i++)
        collect_req(L->col, &L->kept[i]);

    if (rc == 0 && L->fail) {
        rc = L->fail;
        snprintf(err, errlen, "%s", L->failmsg);
    } else if (rc == 0 && bs.errors) {
        rc = -EIO;
        snprintf(err, errlen, "%s: %llu I/Os failed or were short (first: %s)", c->target->path,
                 (unsigned long long)bs.errors, strerror(-bs.first_error));
    } else if (rc == 0 && interrupted) {
        rc = -EINTR;
        snprintf(err, errlen, "interrupted");
    } else if (rc == 0 && L->col->n == 0) {
        rc = -EIO;
        snprintf(err, errlen, "no request completed inside the measurement window (%.0f ms "
                 "after a %.0f ms warm-up)", c->duration_ms - c->warmup_ms, c->warmup_ms);
    }
    if (rc == 0) {
        L->col->reg_lookups = bs.reg_lookups;
        L->col->reg_hits = bs.reg_hits;
        L->col->reg_registrations = bs.reg_registrations;
        L->col->reg_deregistrations = bs.reg_deregistrations;
        L->col->reg_flows = bs.reg_flows;
        collect_totals_t tot = {
            .measured_ns = (double)(end - warm),
            .cpu_ns = bs.cpu_ns + (marked ? cpu_end - cpu_mark : 0),
            .events = sim_events(L->sim),
            .wall_s = (double)(live_mono() - L->t0) / 1e9,
        };
        rc = collect_result(L->col, &tot, out);
        result_set(out, "live_workers", bs.workers);
        result_set(out, "live_fixed_io_rate",
                   L->col->n ? (double)bs.fixed_reads / (double)L->col->n : 0);
        result_set(out, "live_taskrun_mismatch", (double)bs.taskrun_mismatch);
        result_set(out, "live_prio_refused", (double)bs.prio_refused);
        if (st)
            result_set(out, "live_traced_requests", (double)L->nkept);
    }
    if (L->be)
        live_notes(L, st, stamp_note, notes, nlen);

    pthread_mutex_lock(&L->mu);
    for (uint32_t i = 0; inst && i < c->nwl; i++)
        if (inst[i])
            c->wl[i].ops->inst_free(inst[i]);
    pthread_mutex_unlock(&L->mu);
    free(inst);
    live_be_free(L->be);
    live_stamps_free(st);
    free(L->kept);
    pol_free(L->pol);
    collect_free(L->col);
    req_pool_free(L->pool);
    sim_free(L->sim);
    pthread_cond_destroy(&L->cv);
    pthread_mutex_destroy(&L->mu);
    free(L);
    return rc;
}
