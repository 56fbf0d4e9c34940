/*
 * path.c - see path.h.
 */
#include "path.h"

#include "models/blkmq.h"
#include "models/cont.h"
#include "models/cpu.h"
#include "models/irq.h"
#include "models/uring.h"
#include "models/vmfreeze.h"
#include "sim/rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct path path_t;
typedef struct path_dev path_dev_t;

struct path_dev {
    path_t *p;
    uint32_t idx;
    gsl_rng *read_rng;     /* flash.read_dist "calibrated" */
    ssd_t *ssd;
    irq_t *irq;
    blkmq_t *blk;
    uint32_t holds;        /* in-flight requests asking to hold background work */
    bool poll_queues;
};

struct path {
    sim_t *sim;
    exec_env_t env;
    path_cfg_t cfg;     /* cfg.costs points at `costs` */
    costs_t costs;      /* the calibration, keyed for this run (costs_set_run) */
    cpus_t *cpus;
    uring_t *uring;
    path_dev_t *dev;
    cont_t *cont;
    uint32_t *cpu_node;
    cpu_thread_t **bg;     /* host.background threads */
    vmfreeze_t *vmf;       /* host.vm_freeze, NULL: off */
    cpu_thread_t *rec;     /* host.traced: the recorder's thread, NULL: off */
    uint64_t traced_reqs;  /* host.traced: requests submitted since its last drain */
    double frozen_at_warm; /* vmfreeze_frozen_ns at the end of warm-up */
    uint64_t dev_done;     /* requests the devices completed (for vmf) */
    struct timespec t0;   /* wall clock at run start, for progress reports */
    double next_report_s; /* wall seconds of the next progress report */
};

#define PTR(x) ((uint64_t)(uintptr_t)(x))

/* exec_ops_t.view: inflight and now_ns are the harness's. */
static void path_view(void *x, const req_t *r, pol_view_t *v)
{
    const path_t *p = x;
    const path_dev_t *d = &p->dev[r->dev];
    v->ncpus = p->cfg.host->cpus;
    v->nnodes = p->cfg.host->numa_nodes;
    v->cpu_node = p->cpu_node;
    v->nqueues = p->cfg.dev[d->idx].queues;
    v->queue_irq_cpu = irq_vector_map(d->irq);
    v->cpu_queue = blkmq_cpu_map(d->blk, r->op == REQ_WRITE, false);
    v->poll_queues = d->poll_queues;
}

/* --- completion side, in path order --- */

static void path_finish(path_t *p, req_t *r)
{
    path_dev_t *d = &p->dev[r->dev];
    if (r->holds_bg) {
        r->holds_bg = 0;
        if (--d->holds == 0)
            ssd_hold_background(d->ssd, false);
    }
    p->env.complete(p->env.harness, r);
}

static void on_continued(void *ctx, req_t *r)
{
    path_finish(ctx, r);
}

static void on_ready(void *ctx, req_t *r)
{
    path_t *p = ctx;
    if (cont_wanted(r)) {
        cont_start(p->cont, r);
        return;
    }
    r->t[T_CONTINUED] = r->t[T_READY];
    path_finish(p, r);
}

static void on_blk_done(void *ctx, req_t *r)
{
    path_dev_t *d = ctx;
    uring_complete(d->p->uring, r);
}

static void on_irq(void *ctx, req_t *r)
{
    path_dev_t *d = ctx;
    blkmq_complete(d->blk, r);
}

static void on_polled(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    path_dev_t *d = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    blkmq_complete_polled(d->blk, r, uring_thread(d->p->uring, r));
}

static void on_device_done(void *ctx, req_t *r)
{
    path_dev_t *d = ctx;
    d->p->dev_done++;
    if (r->polled) {
        /* the poller finds the CQE within one iteration of its loop, once it
         * is on its CPU (and awake, when hybrid) */
        uring_arrived(d->p->uring, r);
        cpus_thread_run(uring_thread(d->p->uring, r),
                        (sim_time_t)costs_req(d->p->cfg.costs, COST_POLL, r), on_polled, d, PTR(r));
        return;
    }
    /* r still holds its tag: alone when it is the only one in flight */
    irq_cqe(d->irq, r, blkmq_inflight(d->blk, (uint32_t)r->blk_cpu, r->op == REQ_WRITE) == 1);
}

/* --- submission side --- */

static void on_dispatch(void *ctx, req_t *r)
{
    path_dev_t *d = ctx;
    ssd_submit(d->ssd, r, (ssd_prio_t)r->prio); /* a refusal fails the run (sim_fail) */
}

/* uring_set_kick_p: a batch device asks for a kick only while it is idle
 * (it re-reads its ring when a batch ends); else the calibrated fraction
 * for the requests on the hardware queue r's call submits to (the CPU that
 * consumes the SQE, as on_submitted). */
static double path_kick_p(void *ctx, const req_t *r)
{
    const path_t *p = ctx;
    int idle = ssd_kick_wanted(p->dev[r->dev].ssd);
    if (idle >= 0)
        return idle;
    const host_cfg_t *h = p->cfg.host;
    uint32_t cpu = h->sqpoll ? (uint32_t)h->sqpoll_cpu : (uint32_t)r->submit_cpu;
    uint32_t out = blkmq_inflight(p->dev[r->dev].blk, cpu, r->op == REQ_WRITE);
    return costs_doorbell_p(p->cfg.costs, out);
}

/* The bio is submitted on the CPU that consumed the SQE: the SQ thread's
 * with SQPOLL, else the submitting thread's; its queue follows from that. */
static void on_submitted(void *ctx, req_t *r)
{
    path_t *p = ctx;
    const host_cfg_t *h = p->cfg.host;
    uint32_t cpu = h->sqpoll ? (uint32_t)h->sqpoll_cpu : (uint32_t)r->submit_cpu;
    blkmq_submit(p->dev[r->dev].blk, r, cpu);
}

/* exec_ops_t.submit: r carries its placement (req_apply_placement). */
static int path_submit(void *x, req_t *r, const pol_placement_t *pl)
{
    path_t *p = x;
    path_dev_t *d = &p->dev[r->dev];
    r->polled = r->wait != POL_WAIT_INTERRUPT && d->poll_queues;
    /* which side of the interrupt the side-conditioned costs come from
     * (models/costs.h): the consumer away from its queue's vector CPU (a
     * polled request has no interrupt) */
    if (!r->polled) {
        const host_cfg_t *h = p->cfg.host;
        uint32_t cpu = h->sqpoll ? (uint32_t)h->sqpoll_cpu : (uint32_t)r->submit_cpu;
        uint32_t hwq = blkmq_cpu_map(d->blk, r->op == REQ_WRITE, false)[cpu];
        r->irq_far = irq_vector_map(d->irq)[hwq] != (uint32_t)r->consumer_cpu;
    }
    /* no NVMe command asks the device to hold its background work: only a
     * device with deadline classes (a what-if) does */
    if (pl->hold_background && p->cfg.dev[d->idx].what_if.deadline_classes) {
        r->holds_bg = 1;
        if (d->holds++ == 0)
            ssd_hold_background(d->ssd, true);
    }
    /* a refusal (out of memory) has failed the run; r is in the harness's
     * hands again */
    double sub = blkmq_submit_cost(d->blk, r), plugged = blkmq_submit_cost_plugged(d->blk, r);
    if (p->rec) {
        /* host.traced: the tracepoints the recorder enabled run in the
         * consumer's call (sys_enter/exit, block_rq_insert/issue, its
         * sched_switch), CPU of that call as calibrate measured it per
         * traced pread (trace_syscall_ns); one request = one syscall */
        double t = costs_value(p->cfg.costs, COST_TRACE_SYSCALL);
        sub += t;
        plugged += t;
        p->traced_reqs++;
    }
    return uring_submit(p->uring, r, pl->batch ? pl->batch : 1, (sim_time_t)pl->batch_window_ns,
                        sub, plugged);
}

/* exec_ops_t.cpu_work: the application's own computing, user work of its
 * consumer thread (wherever the placements have moved it). */
static int path_cpu_work(void *x, uint32_t flow, uint32_t cpu, sim_time_t ns, sim_handler_fn fn,
                         void *ctx, uint64_t arg)
{
    path_t *p = x;
    cpu_thread_t *t = uring_consumer_thread(p->uring, flow, (int16_t)cpu);
    if (!t)
        return sim_fail(p->sim, -ENOMEM, "out of memory for a consumer thread");
    return cpus_thread_run_user(t, ns, fn, ctx, arg);
}

/* --- background load --- */

/* A background task is a fair thread in user mode that gets busy_us of CPU
 * work every period_us (a hog that sleeps to the next period start). */
static void path_background(sim_t *sim, void *ctx, uint64_t i)
{
    path_t *p = ctx;
    const host_background_t *b = &p->cfg.host->background[i];
    cpus_thread_run(p->bg[i], (sim_time_t)(b->busy_us * 1000), sim_nothing, NULL, 0);
    sim_after(sim, (sim_time_t)(b->period_us * 1000), path_background, p, i);
}

/* host.traced: `latsurf trace record` drains the trace buffers every 50 ms
 * (cli/cmd_trace.c), trace_drain_event_ns of CPU per event, and the
 * requests since its last drain wrote trace_events_per_read events each
 * (calibrate/caltrace.h). It is an ordinary task the scheduler wakes on its
 * previous CPU if that is idle, else on an idle one (select_idle_sibling),
 * else where it was. */
#define PATH_DRAIN_PERIOD_NS 50000000
static void path_drain(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    path_t *p = ctx;
    const costs_t *k = p->cfg.costs;
    double work = (double)p->traced_reqs * costs_value(k, COST_TRACE_EVENTS_PER_READ) *
                  costs_value(k, COST_TRACE_DRAIN_EVENT);
    p->traced_reqs = 0;
    if (!cpus_thread_busy(p->rec) && !cpus_idle(p->cpus, cpus_thread_cpu(p->rec)))
        for (uint32_t c = 0; c < p->cfg.host->cpus; c++)
            if (cpus_idle(p->cpus, c)) {
                cpus_thread_move(p->rec, c);
                break;
            }
    if (work >= 1)
        cpus_thread_run(p->rec, (sim_time_t)work, sim_nothing, NULL, 0);
    sim_after(sim, PATH_DRAIN_PERIOD_NS, path_drain, p, 0);
}

/* QD1 device time drawn from the calibration (flash.read_dist "calibrated"):
 * draw n of the host request where there is one (models/costs.h). */
static double path_draw_device_read(void *ctx, const req_t *r, uint32_t n)
{
    path_dev_t *d = ctx;
    if (r) /* (the 16-bit draw number wraps past 32k chunks: 128 MiB) */
        return costs_req_n(d->p->cfg.costs, COST_DEVICE_READ_4K, r, n & 0xffff);
    return costs_draw(d->p->cfg.costs, COST_DEVICE_READ_4K, d->read_rng);
}

/* ssd_set_read_extra: r's bytes beyond 4 KiB at a per-KiB draw keyed by
 * the request (variants stay paired). */
static double path_draw_read_extra(void *ctx, const req_t *r)
{
    const path_dev_t *d = ctx;
    double per_kib = costs_req(d->p->cfg.costs, COST_DEVICE_READ_PER_KIB, r);
    return (double)(r->bytes - 4096) / 1024 * per_kib;
}

/* The continuation's host steps run on the consumer thread. */
static cpu_thread_t *path_consumer_thread(void *ctx, const req_t *r)
{
    const path_t *p = ctx;
    return uring_thread(p->uring, r);
}

/* --- life cycle --- */

static void path_free(path_t *p);

/* vmfreeze_io_fn: the VMM's I/O work so far */
static uint64_t path_vmf_io(void *ctx)
{
    const path_t *p = ctx;
    return p->dev_done;
}

static path_t *path_new(const exec_env_t *env, const path_cfg_t *cfg)
{
    path_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    sim_t *sim = env->sim;
    p->sim = sim;
    p->env = *env;
    p->cfg = *cfg;
    /* every model draws from this run's copy: keyed by (seed, replication) */
    p->costs = *cfg->costs;
    costs_set_run(&p->costs, env->seed, env->rep);
    p->cfg.costs = &p->costs;
    cfg = &p->cfg;
    const host_cfg_t *h = cfg->host;
    /* the scheduler of the scenario's kernel, the calibrated host's where
     * the scenario leaves it open */
    cpu_sched_t sched;
    int preempt = h->preempt >= 0 ? h->preempt : (int)costs_value(cfg->costs, COST_PREEMPT_MODEL);
    cpu_sched_defaults(&sched,
                       h->kernel ? h->kernel : (uint32_t)costs_value(cfg->costs, COST_KERNEL_VERSION),
                       h->cpus, h->hz ? h->hz : (uint32_t)costs_value(cfg->costs, COST_SCHED_HZ),
                       (cpu_preempt_t)preempt, h->hrtick);
    p->cpus = cpus_new(sim, h->cpus, (sim_time_t)costs_value(cfg->costs, COST_IDLE_EXIT),
                       (sim_time_t)costs_value(cfg->costs, COST_IDLE_DEEP_AFTER), &sched);
    p->uring = uring_new(sim, p->cpus, cfg->costs, h, on_submitted, on_ready, p);
    if (p->uring)
        uring_set_kick_p(p->uring, path_kick_p);
    p->dev = calloc(cfg->ndev, sizeof(*p->dev));
    p->cpu_node = calloc(h->cpus, sizeof(*p->cpu_node));
    p->bg = calloc(h->nbackground ? h->nbackground : 1, sizeof(*p->bg));
    cont_env_t ce = {
        .sim = sim, .cpus = p->cpus, .costs = cfg->costs, .cfg = h->cont,
        .variant = env->variant, .pol = env->polcfg, .col = env->col, .seed = env->seed,
        .rep = env->rep, .ncpus = h->cpus, .done = on_continued, .ctx = p,
        .thread = path_consumer_thread,
    };
    p->cont = p->cpus ? cont_new(&ce) : NULL;
    if (!p->cpus || !p->uring || !p->dev || !p->cpu_node || !p->cont || !p->bg) {
        path_free(p);
        return NULL;
    }
    for (uint32_t i = 0; i < h->nbackground; i++) {
        if (!(p->bg[i] = cpus_thread_new(p->cpus, h->background[i].cpu, h->background[i].nice))) {
            path_free(p);
            return NULL;
        }
        cpus_thread_set_user(p->bg[i], true);
        cpus_thread_set_clock_reader(p->bg[i], h->background[i].reads_cpu_clock);
    }
    for (uint32_t c = 0; c < h->cpus; c++)
        p->cpu_node[c] = host_node_of(h, c);
    /* what the variant asks an administrator to set (sysfs rq_affinity) */
    pol_setup_t setup;
    pol_setup(env->variant, &setup);
    for (uint32_t i = 0; i < cfg->ndev; i++) {
        path_dev_t *d = &p->dev[i];
        char name[16];
        snprintf(name, sizeof(name), "dev%u", i);
        d->p = p;
        d->idx = i;
        d->poll_queues = cfg->dev[i].poll_queues > 0;
        d->ssd = ssd_new(sim, &cfg->dev[i], env->seed, env->rep, name, on_device_done, d);
        d->irq = irq_new(sim, p->cpus, cfg->costs, &cfg->dev[i], h->cpus, on_irq, d);
        blkmq_cfg_t bc = {.host = h, .dev = &cfg->dev[i],
                          .rq_affinity = setup.rq_affinity >= 0 ? (uint32_t)setup.rq_affinity
                                                                : h->rq_affinity};
        d->blk = blkmq_new(sim, p->cpus, cfg->costs, &bc, on_dispatch, on_blk_done, d);
        if (!d->ssd || !d->irq || !d->blk) {
            path_free(p);
            return NULL;
        }
        if (cfg->dev[i].read_calibrated) {
            char sname[32];
            snprintf(sname, sizeof(sname), "dev%u.read", i);
            if (!(d->read_rng = rng_stream_new(env->seed, env->rep, sname))) {
                path_free(p);
                return NULL;
            }
            ssd_set_read_sampler(d->ssd, path_draw_device_read, d);
            irq_set_woken(d->irq);
            /* 0 (default.json): not measured, bytes beyond 4 KiB at pcie.gbps */
            if (cfg->costs->c[COST_DEVICE_READ_PER_KIB].measured &&
                costs_value(cfg->costs, COST_DEVICE_READ_PER_KIB) > 0)
                ssd_set_read_extra(d->ssd, path_draw_read_extra, d);
        }
        /* the calibrated parallelism: service "batch" on the batch knots
         * (path_init checked the calibration has them), else the service
         * curve where it has one, else device_units (rounded: res has whole
         * servers) */
        double units = costs_value(cfg->costs, COST_DEVICE_UNITS);
        if ((cfg->dev[i].service_batch && ssd_set_batch(d->ssd, &cfg->costs->dev_batch)) ||
            (cfg->costs->dev_curve.n && ssd_set_curve(d->ssd, &cfg->costs->dev_curve)) ||
            ssd_set_units(d->ssd, (uint32_t)lround(units < 1 ? 1 : units > 4096 ? 4096 : units))) {
            path_free(p);
            return NULL;
        }
    }
    /* A background task started at some moment: its period's phase against
     * the tick is uniform (a hog aligned with the tick would never see one
     * inside its busy span). */
    gsl_rng *phase = h->nbackground ? rng_stream_new(env->seed, env->rep, "host.background") : NULL;
    if (h->nbackground && !phase) {
        path_free(p);
        return NULL;
    }
    for (uint32_t i = 0; i < h->nbackground; i++)
        sim_at(sim, (sim_time_t)(gsl_rng_uniform(phase) * h->background[i].period_us * 1000),
               path_background, p, i);
    if (phase)
        gsl_rng_free(phase);
    /* host.traced (runner checked the calibration has the trace costs): the
     * recorder starts before the command, so its drain's phase against the
     * workload is uniform */
    if (h->traced) {
        gsl_rng *ph = rng_stream_new(env->seed, env->rep, "host.traced");
        if (!ph || !(p->rec = cpus_thread_new(p->cpus, 0, 0))) {
            if (ph)
                gsl_rng_free(ph);
            path_free(p);
            return NULL;
        }
        cpus_thread_set_user(p->rec, true);
        sim_at(sim, (sim_time_t)(gsl_rng_uniform(ph) * PATH_DRAIN_PERIOD_NS), path_drain, p, 0);
        gsl_rng_free(ph);
    }
    /* host.vm_freeze "calibrated": the VM host's quota as calibrate measured
     * it (off where the calibration has no model: no freezes there) */
    if (h->vm_freeze && vmfreeze_cfg_on(&cfg->costs->vm_freeze) &&
        !(p->vmf = vmfreeze_new(sim, p->cpus, h->cpus, &cfg->costs->vm_freeze, path_vmf_io, p,
                                env->seed, env->rep))) {
        path_free(p);
        return NULL;
    }
    return p;
}

static void path_free(path_t *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; p->dev && i < p->cfg.ndev; i++) {
        ssd_free(p->dev[i].ssd);
        if (p->dev[i].read_rng)
            gsl_rng_free(p->dev[i].read_rng);
        irq_free(p->dev[i].irq);
        blkmq_free(p->dev[i].blk);
    }
    vmfreeze_free(p->vmf);
    free(p->dev);
    uring_free(p->uring);
    cpus_free(p->cpus);
    cont_free(p->cont);
    free(p->cpu_node);
    free(p->bg);
    free(p);
}

/* --- the executor --- */

static int path_init(const exec_env_t *env, const void *cfg, void **x, exec_shape_t *shape,
                     char *err, size_t errlen)
{
    const path_cfg_t *pc = cfg;
    for (uint32_t i = 0; i < pc->ndev; i++)
        if (pc->dev[i].service_batch && !pc->costs->dev_batch.n) {
            snprintf(err, errlen,
                     "devices.%u.service \"batch\" needs a calibration with "
                     "device_units.batch (calibrate writes it where the device completed its "
                     "whole queue per interrupt); use \"calibrated\"", i);
            return -EINVAL;
        }
    path_t *p = path_new(env, pc);
    *x = p;
    if (!p)
        return -ENOMEM;
    shape->ncpus = pc->host->cpus;
    shape->ndev = pc->ndev;
    return 0;
}

/* End of warm-up: forget CPU accounting so far, and note the time frozen. */
static void path_warm(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    path_t *p = ctx;
    cpus_reset_stats(p->cpus);
    if (p->vmf)
        p->frozen_at_warm = vmfreeze_frozen_ns(p->vmf);
}

static double path_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Checked every simulated millisecond: cheap, and bounds the wait on Ctrl-C
 * and on an overloaded run (the pool refuses requests beyond its limit). It
 * reads the wall clock only when someone wants progress, and schedules the
 * same events either way. */
static void path_watch(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    path_t *p = ctx;
    const exec_progress_t *pr = p->env.progress;
    if (pr && pr->fn) {
        double wall = path_since(&p->t0);
        if (wall >= p->next_report_s) {
            p->next_report_s = wall + pr->every_s;
            exec_progress_report_t r = {.requests = req_pool_done(p->env.pool),
                                        .now_ns = sim_now(sim), .end_ns = p->env.end,
                                        .wall_s = wall};
            pr->fn(&r, pr->ctx);
        }
    }
    if ((p->env.stop && *p->env.stop) || req_pool_overflowed(p->env.pool))
        sim_stop(sim);
    else
        sim_after(sim, SIM_MS(1), path_watch, ctx, 0);
}

static int path_run(void *x, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    path_t *p = x;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->next_report_s = p->env.progress ? p->env.progress->every_s : 0;
    sim_at(p->sim, p->env.warm, path_warm, p, 0);
    sim_after(p->sim, SIM_MS(1), path_watch, p, 0);
    sim_run(p->sim, p->env.end);
    return p->env.stop && *p->env.stop ? -EINTR : 0;
}

/* Host CPU time spent on I/O since warm-up, polling included (excludes the
 * background threads' own CPU time). */
static int path_finish_run(void *x, collect_totals_t *tot, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const path_t *p = x;
    double t = 0;
    for (uint32_t i = 0; i < p->cfg.host->nbackground; i++)
        t -= cpus_thread_ns(p->bg[i]);
    for (int l = 0; l < CPU_NLEVELS; l++)
        t += cpus_busy_ns(p->cpus, UINT32_MAX, (cpu_level_t)l);
    tot->cpu_ns = t;
    if (p->vmf) {
        tot->has_frozen = true;
        tot->frozen_ns = vmfreeze_frozen_ns(p->vmf) - p->frozen_at_warm;
    }
    return 0;
}

static void path_exec_free(void *x) { path_free(x); }

const exec_ops_t path_exec_ops = {
    .name = "sim",
    .init = path_init,
    .view = path_view,
    .submit = path_submit,
    .cpu_work = path_cpu_work,
    .run = path_run,
    .finish = path_finish_run,
    .free = path_exec_free,
};
