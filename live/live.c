/*
 * live.c - see live.h.
 */
#define _GNU_SOURCE
#include "live.h"

#include "calibrate/calqd.h"
#include "live/backend.h"
#include "live/hog.h"
#include "live/stamps.h"
#include "models/collect.h"
#include "sim/vec.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#define LIVE_POLL_STOP_NS 10000000ull   /* longest the driver sleeps between stop checks */
#define LIVE_DRAIN_NS 10000000000ull    /* in-flight I/O must finish within this at the end */
#define LIVE_TRACE_MAX (1u << 20)       /* requests kept for the tracefs join */
#define LIVE_TRACE_DRAIN_NS 100000000ull

typedef struct {
    const live_cfg_t *c;
    exec_env_t env;                     /* the harness's engine, pool, collector, ... */
    sim_t *sim;                         /* env.sim */
    live_be_t *be;
    live_hog_t *hog;                    /* host.background, run for real */
    live_stamps_t *st;                  /* tracefs mode */
    char stamp_note[256];
    pthread_mutex_t mu;                 /* the engine lock */
    pthread_cond_t cv;
    bool sync_ready;                    /* mu and cv initialised */
    uint64_t t0;
    uint64_t outstanding, held, continued;
    uint64_t npending;                  /* sim_npending when the driver went to sleep */
    uint64_t next_wake;                 /* when the sleeping driver wakes by itself */
    bool stopping, sleeping, marked, interrupted;
    bool timers_elsewhere;              /* a worker runs the timers (live_be_timer_due) */
    double cpu_mark, cpu_end;           /* the driver thread's CPU time */
    double irq_mark, irq_end;           /* every CPU's hard-IRQ + softirq time */
    int fail;
    char failmsg[512];
    live_be_stats_t bs;                 /* after finish */
    /* tracefs mode: finished requests wait here for their kernel stamps */
    req_t *kept;
    size_t nkept, capkept;
    uint64_t unkept;
} live_t;

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

/* exec_ops_t.view: inflight and now_ns are the harness's. */
/* Every CPU's hard-IRQ and softirq time so far, ns (0 without /proc/stat).
 * A run's CPU per I/O counts it beside the workers' own thread time: the
 * device's interrupts and the block softirq run charged to no thread (or to
 * whichever one they interrupt), and the simulator counts them at every
 * level. It is the whole host's: on a busy machine other work's interrupts
 * count too. */
static double live_irq_ns(void)
{
    double ns[CALQD_MAXCPU][CALQD_NLEVEL], idle[CALQD_MAXCPU], t = 0;
    unsigned n = calqd_cpu_times_ns(ns, idle, CALQD_MAXCPU);
    for (unsigned c = 0; c < n; c++)
        t += ns[c][CALQD_HARDIRQ] + ns[c][CALQD_SOFTIRQ];
    return t;
}

static void live_view(void *x, const req_t *r, pol_view_t *v)
{
    (void)r;
    live_t *L = x;
    live_topo_view(L->c->topo, v);
}

/* exec_ops_t.refuse, under the engine lock: nothing new once the run winds
 * down or failed; a request the target cannot serve fails the run. */
static bool live_refuse(void *x, const req_t *r)
{
    live_t *L = x;
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
    return L->stopping || L->fail;
}

/* exec_ops_t.submit, under the engine lock. */
static int live_submit(void *x, req_t *r, const pol_placement_t *pl)
{
    live_t *L = x;
    if (pl->hold_background)
        L->held++;
    if (r->gpu >= 0 || (r->rdma && !L->c->rdma))
        L->continued++;
    L->outstanding++;
    int rc = live_be_submit(L->be, r, pl);
    if (rc) {
        L->outstanding--;
        live_failf(L, rc, "%s", live_be_error(L->be)[0] ? live_be_error(L->be) : strerror(-rc));
    }
    return rc;
}

/* exec_ops_t.keep: in tracefs mode a finished request waits for its kernel
 * stamps (collected in finish); beyond LIVE_TRACE_MAX it is collected now. */
static bool live_keep(void *x, const req_t *r)
{
    live_t *L = x;
    if (!L->kept)
        return false;
    if (r->t[T_ISSUE] < L->env.col->warm)
        return true; /* not measured */
    if (L->nkept >= LIVE_TRACE_MAX || VEC_RESERVE(L->kept, L->capkept, L->nkept + 1) != 0) {
        L->unkept++;
        return false;
    }
    L->kept[L->nkept++] = *r;
    return true;
}

/* Under the engine lock, after the timers may have changed: the timer
 * worker hears of the next one; true if it runs them (else the driver does). */
static bool live_timers_due(live_t *L)
{
    bool off = L->stopping || L->fail || sim_error(L->sim);
    L->timers_elsewhere = live_be_timer_due(L->be, off ? UINT64_MAX : sim_next(L->sim));
    return L->timers_elsewhere;
}

/* Under the engine lock, on a worker thread, after a workload had its
 * turn: what it made due at once (the next request of a chain without a
 * think time) is issued from here, the consumer's own thread, as the
 * application would; the driver is woken only for a timer it runs, a
 * failure, or when it waits for the last I/O. */
static void live_after_workload(live_t *L)
{
    uint64_t now = live_be_mono_ns() - L->t0;
    if (!L->stopping && sim_next(L->sim) <= now)
        sim_run(L->sim, now);
    bool elsewhere = live_timers_due(L);
    if (L->sleeping &&
        ((L->stopping && L->outstanding == 0) || sim_error(L->sim) ||
         (!elsewhere && (sim_npending(L->sim) > L->npending || sim_next(L->sim) < L->next_wake))))
        pthread_cond_signal(&L->cv);
}

/* live_be_timers_fn: on the timer worker, the timers that are due. */
static void live_timers(void *ctx)
{
    live_t *L = ctx;
    pthread_mutex_lock(&L->mu);
    live_after_workload(L);
    pthread_mutex_unlock(&L->mu);
}

/* live_be_timers_off_fn: the timer worker computes (off) or is back; while
 * it computes the driver runs the timers. */
static void live_timers_off(void *ctx, bool off)
{
    live_t *L = ctx;
    pthread_mutex_lock(&L->mu);
    live_timers_due(L);
    if (off && L->sleeping)
        pthread_cond_signal(&L->cv);
    pthread_mutex_unlock(&L->mu);
}

/* live_be_done_fn: on the consumer's worker thread. */
static void live_done(void *ctx, req_t *r)
{
    live_t *L = ctx;
    pthread_mutex_lock(&L->mu);
    uint64_t now = live_be_mono_ns() - L->t0;
    if (!L->stopping && now > sim_now(L->sim))
        sim_run(L->sim, now);
    if (r->t[T_CONTINUED] < r->t[T_READY])
        r->t[T_CONTINUED] = r->t[T_READY];
    L->outstanding--;
    L->env.complete(L->env.harness, r);
    live_after_workload(L);
    pthread_mutex_unlock(&L->mu);
}

/* CPU work of a workload (exec_ops_t.cpu_work): what to call when the
 * consumer's worker has run it. */
typedef struct {
    sim_handler_fn fn;
    void *ctx;
    uint64_t arg;
} live_cpujob_t;

/* live_be_cpu_fn: on the consumer's worker thread, its busy loop done. */
static void live_cpu_done(void *ctx, uint64_t arg)
{
    live_t *L = ctx;
    live_cpujob_t *j = (live_cpujob_t *)(uintptr_t)arg;
    pthread_mutex_lock(&L->mu);
    uint64_t now = live_be_mono_ns() - L->t0;
    if (!L->stopping && now > sim_now(L->sim))
        sim_run(L->sim, now);
    L->outstanding--;
    j->fn(L->sim, j->ctx, j->arg);
    live_after_workload(L);
    pthread_mutex_unlock(&L->mu);
    free(j);
}

/* exec_ops_t.cpu_work, under the engine lock: a busy loop of ns CPU time on
 * the consumer's worker thread (pinned to its CPU), counted as outstanding
 * so the wind-down waits for it. */
static int live_cpu_work(void *x, uint32_t flow, uint32_t cpu, sim_time_t ns, sim_handler_fn fn,
                         void *ctx, uint64_t arg)
{
    live_t *L = x;
    live_cpujob_t *j = malloc(sizeof(*j));
    if (!j)
        return sim_fail(L->sim, -ENOMEM, "out of memory for CPU work");
    *j = (live_cpujob_t){fn, ctx, arg};
    L->outstanding++;
    int rc = live_be_cpu_work(L->be, flow, cpu, ns, (uint64_t)(uintptr_t)j);
    if (rc) {
        L->outstanding--;
        free(j);
        return sim_fail(L->sim, rc, "CPU work on consumer CPU %u: %s", cpu,
                        live_be_error(L->be)[0] ? live_be_error(L->be) : strerror(-rc));
    }
    return 0;
}

static void live_abs(struct timespec *ts, uint64_t rel_ns, uint64_t t0)
{
    uint64_t a = t0 + rel_ns;
    ts->tv_sec = (time_t)(a / 1000000000ull);
    ts->tv_nsec = (long)(a % 1000000000ull);
}

static void live_notes(live_t *L, const char *stamp_note, char *notes, size_t nlen)
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
    pol_setup_t setup;
    pol_setup(L->env.variant, &setup);
    if (setup.rq_affinity >= 0 && (uint32_t)setup.rq_affinity != t->rq_affinity)
        NOTE("the variant wants rq_affinity %d, the device has %u: set "
             "/sys/block/%s/queue/rq_affinity (root) for the live run to match",
             setup.rq_affinity, t->rq_affinity, t->disk);
    if (L->held)
        NOTE("%llu requests asked to hold device background work: not available live",
             (unsigned long long)L->held);
    if (L->continued)
        NOTE("%llu requests asked for a GPU or RDMA continuation: not executed live "
             "(t_continued = t_ready)",
             (unsigned long long)L->continued);
    if (L->c->pread)
        NOTE("submitted with pread/pwrite on each consumer's thread (--submit pread)");
    if (stamp_note && stamp_note[0])
        NOTE("%s", stamp_note);
#undef NOTE
}

/* --- the executor --- */

static int live_init(const exec_env_t *env, const void *cfg, void **x, exec_shape_t *shape,
                     char *err, size_t errlen)
{
    const live_cfg_t *c = cfg;
    if (c->notes && c->nlen)
        c->notes[0] = '\0';
    live_t *L = calloc(1, sizeof(*L));
    *x = L;
    if (!L)
        return -ENOMEM;
    L->c = c;
    L->env = *env;
    L->sim = env->sim;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&L->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&L->mu, NULL);
    L->sync_ready = true;
    if (c->trace && c->pread) {
        snprintf(err, errlen, "--trace joins the kernel's io_uring events; with --submit pread "
                              "there are none: use one or the other");
        return -EINVAL;
    }
    if (c->trace && live_stamps_start(&L->st, L->stamp_note, sizeof(L->stamp_note)) == 0)
        L->kept = malloc(4096 * sizeof(*L->kept)), L->capkept = L->kept ? 4096 : 0;
    L->t0 = live_be_mono_ns();
    live_be_cfg_t bc = {
        .fd = c->target->fd, .topo = c->topo, .host = c->host,
        .registration = env->variant->registration, .polcfg = env->polcfg, .rdma = c->rdma,
        .sync = c->pread, .thinks = c->thinks, .t0_ns = L->t0,
        .done = live_done, .cpu_done = live_cpu_done,
        /* a worker blocked in pread cannot run timers: the driver does */
        .timers = c->pread ? NULL : live_timers, .timers_off = c->pread ? NULL : live_timers_off,
        .ctx = L,
    };
    if (!(L->be = live_be_new(&bc, err, errlen)))
        return -ENOMEM;
    /* the scenario's background load, from the start (warm-up included) */
    int rc = live_hog_start(c->host, c->topo->ncpus, &L->hog, err, errlen);
    if (rc)
        return rc;
    shape->ncpus = c->topo->ncpus;
    shape->ndev = 1;
    return 0;
}

static void live_lock(void *x, bool on)
{
    live_t *L = x;
    if (on)
        pthread_mutex_lock(&L->mu);
    else
        pthread_mutex_unlock(&L->mu);
}

/* Under the engine lock: nothing new is issued, every CQE is reaped. */
static void live_wind_down(live_t *L)
{
    L->stopping = true;
    uint64_t drain_until = live_be_mono_ns() - L->t0 + LIVE_DRAIN_NS;
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
}

/* The driver: due timers, the warm-up mark, the end; then the wind-down. */
static int live_drive(void *x, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    live_t *L = x;
    const volatile sig_atomic_t *stop = L->env.stop;
    sim_time_t warm = L->env.warm, end = L->env.end;
    uint64_t last_drain = 0;
    /* timers due within microseconds (think times) wake the driver on time,
     * not up to the default 50 us timer slack late */
    int slack = prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    pthread_mutex_lock(&L->mu);
    while (!L->fail && !(stop && *stop)) {
        uint64_t now = live_be_mono_ns() - L->t0;
        if (now >= end)
            break;
        /* the mark before the events it makes due: with no warm-up, a
         * driver that first runs late must not let a worker's work (a
         * think-time busy loop the first event started) begin before the
         * CPU accounting does */
        if (!L->marked && now >= warm) {
            L->marked = true;
            live_be_mark(L->be);
            L->cpu_mark = live_be_thread_cpu_ns();
            L->irq_mark = live_irq_ns();
        }
        sim_run(L->sim, now);
        if (sim_error(L->sim)) { /* the workload or the engine failed: the run did */
            live_failf(L, sim_error(L->sim), "%s", sim_error_msg(L->sim));
            break;
        }
        if (L->st && now - last_drain >= LIVE_TRACE_DRAIN_NS) {
            pthread_mutex_unlock(&L->mu);
            live_stamps_drain(L->st);
            pthread_mutex_lock(&L->mu);
            last_drain = now;
        }
        L->npending = sim_npending(L->sim);
        uint64_t next = L->npending ? now + LIVE_TICK_NS : now + LIVE_POLL_STOP_NS;
        if (live_timers_due(L)) /* the timer worker has them; a late one is run here */
            next = now + LIVE_POLL_STOP_NS;
        else if (sim_next(L->sim) < next) /* a think time ends before the tick */
            next = sim_next(L->sim);
        if (!L->marked && next > warm)
            next = warm;
        if (next > end)
            next = end;
        if (L->st && next > last_drain + LIVE_TRACE_DRAIN_NS)
            next = last_drain + LIVE_TRACE_DRAIN_NS;
        struct timespec ts;
        live_abs(&ts, next, L->t0);
        L->next_wake = next;
        L->sleeping = true;
        pthread_cond_timedwait(&L->cv, &L->mu, &ts);
        L->sleeping = false;
    }
    if (slack > 0)
        prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0UL, 0UL, 0UL);
    L->cpu_end = live_be_thread_cpu_ns();
    L->irq_end = live_irq_ns();
    L->interrupted = stop && *stop;
    /* the measurement is over: stop the hog, joining its threads outside
     * the lock (one may sleep out its period first; the workers' completions
     * must not wait on the lock meanwhile) */
    live_hog_t *hog = L->hog;
    L->hog = NULL;
    pthread_mutex_unlock(&L->mu);
    live_hog_stop(hog);
    pthread_mutex_lock(&L->mu);
    live_wind_down(L);
    pthread_mutex_unlock(&L->mu);
    return 0;
}

static int live_finish(void *x, collect_totals_t *tot, char *err, size_t errlen)
{
    live_t *L = x;
    collect_t *col = L->env.col;
    live_be_stats(L->be, &L->bs); /* joins the workers: every CQE reaped */
    if (L->st) {
        int fr = live_stamps_fill(L->st, L->t0, L->kept, L->nkept, L->stamp_note,
                                  sizeof(L->stamp_note));
        if (fr < 0 && !L->stamp_note[0])
            snprintf(L->stamp_note, sizeof(L->stamp_note), "tracefs join failed: %s",
                     strerror(-fr));
    }
    for (size_t i = 0; i < L->nkept; i++)
        collect_req(col, &L->kept[i]);
    if (L->c->notes && L->c->nlen)
        live_notes(L, L->stamp_note, L->c->notes, L->c->nlen);

    double warm_ms = (double)L->env.warm / 1e6, end_ms = (double)L->env.end / 1e6;
    if (L->fail) {
        snprintf(err, errlen, "%s", L->failmsg);
        return L->fail;
    }
    if (L->bs.errors) {
        snprintf(err, errlen, "%s: %llu I/Os failed or were short (first: %s)",
                 L->c->target->path, (unsigned long long)L->bs.errors,
                 strerror(-L->bs.first_error));
        return -EIO;
    }
    if (L->interrupted) {
        snprintf(err, errlen, "interrupted");
        return -EINTR;
    }
    if (col->n == 0) {
        snprintf(err, errlen, "no request completed inside the measurement window (%.0f ms "
                 "after a %.0f ms warm-up)", end_ms - warm_ms, warm_ms);
        return -EIO;
    }
    col->reg = L->bs.reg;
    tot->cpu_ns = L->bs.cpu_ns +
                  (L->marked ? L->cpu_end - L->cpu_mark + L->irq_end - L->irq_mark : 0);
    return 0;
}

static void live_results(void *x, result_t *out)
{
    live_t *L = x;
    const collect_t *col = L->env.col;
    result_set_id(out, METRIC_LIVE_WORKERS, L->bs.workers);
    result_set_id(out, METRIC_LIVE_FIXED_IO_RATE,
               col->n ? (double)L->bs.fixed_reads / (double)col->n : 0);
    result_set_id(out, METRIC_LIVE_TASKRUN_MISMATCH, (double)L->bs.taskrun_mismatch);
    result_set_id(out, METRIC_LIVE_PRIO_REFUSED, (double)L->bs.prio_refused);
    if (L->bs.late.count) {
        result_set_id(out, METRIC_LIVE_ISSUE_LATE_P50, (double)hist_quantile(&L->bs.late, 0.5));
        result_set_id(out, METRIC_LIVE_ISSUE_LATE_P99, (double)hist_quantile(&L->bs.late, 0.99));
    }
    if (L->st)
        result_set_id(out, METRIC_LIVE_TRACED_REQUESTS, (double)L->nkept);
}

static void live_free(void *x)
{
    live_t *L = x;
    if (!L)
        return;
    if (L->be && !L->stopping) { /* the run never started: reap what the workloads issued */
        pthread_mutex_lock(&L->mu);
        live_wind_down(L);
        pthread_mutex_unlock(&L->mu);
    }
    live_hog_stop(L->hog);
    live_be_free(L->be);
    live_stamps_free(L->st);
    free(L->kept);
    if (L->sync_ready) {
        pthread_cond_destroy(&L->cv);
        pthread_mutex_destroy(&L->mu);
    }
    free(L);
}

const exec_ops_t live_exec_ops = {
    .name = "live",
    .init = live_init,
    .refuse = live_refuse,
    .view = live_view,
    .submit = live_submit,
    .cpu_work = live_cpu_work,
    .keep = live_keep,
    .lock = live_lock,
    .run = live_drive,
    .finish = live_finish,
    .results = live_results,
    .free = live_free,
};
