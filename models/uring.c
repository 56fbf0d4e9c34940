/*
 * uring.c - see uring.h. Consumers are found by (flow, declared CPU) in an
 * open-addressing table; a request carries its consumer's index.
 */
#include "uring.h"

#include "models/mem.h"
#include "policies/policy.h"
#include "sim/vec.h"

#include <errno.h>
#include <stdlib.h>

typedef struct {
    cpu_thread_t *t;
    uint64_t key;
    /* the ring's SQEs waiting for their batch */
    req_fifo_t batch;
    sim_timer_t timer;
    /* hybrid polling: the shortest wait seen (io_uring's hybrid_poll_time) */
    sim_time_t hybrid_min;
    /* a call is due at the end of the thread's queued work (uring_pass_end) */
    bool pass;
    /* the request whose task_work run is queued or running on the thread:
     * later completions join that run's list (uring_complete) */
    req_t *tw_leader;
    /* the leader's wake-up is on its way to the sleeping thread: what joins
     * meanwhile waits here for the run it wakes the thread for */
    bool waking;
    req_t **joined;
    uint32_t njoined, capjoined;
} uring_cons_t;

struct uring {
    sim_t *sim;
    cpus_t *cpus;
    const costs_t *costs;
    const host_cfg_t *host;
    uring_fn submitted, ready;
    void *ctx;
    uring_cons_t *cons;
    uint32_t ncons, capcons;
    uint32_t *slot; /* key hash -> consumer index + 1, 0 = empty */
    uint32_t nslot;
    sim_time_t sq_busy_until;
    cpu_thread_t *sqt; /* the SQPOLL thread (io_sq_thread): a fair kernel thread */
    cpu_thread_t **pool; /* per CPU: a pool worker (r->pooled), created on first use */
    /* per CPU: host_node_of(host, cpu), looked up per request (uring_touch)
     * rather than divided anew */
    uint16_t *node;
    double (*kick_p)(void *ctx, const req_t *r); /* uring_set_kick_p */
};

/* stage `id`'s cost for request r: keyed by the request (models/costs.h) */
#define RQ(u, id, r) ((sim_time_t)costs_req((u)->costs, (id), (r)))
#define PTR(x) ((uint64_t)(uintptr_t)(x))

uring_t *uring_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const host_cfg_t *host,
                   uring_fn submitted, uring_fn ready, void *ctx)
{
    uring_t *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->nslot = 64;
    u->slot = calloc(u->nslot, sizeof(*u->slot));
    u->node = calloc(host->cpus ? host->cpus : 1, sizeof(*u->node));
    if (!u->slot || !u->node) {
        free(u->slot);
        free(u->node);
        free(u);
        return NULL;
    }
    for (uint32_t c = 0; c < host->cpus; c++) /* numa_nodes <= 64: fits */
        u->node[c] = (uint16_t)host_node_of(host, c);
    u->sim = sim;
    u->cpus = cpus;
    u->costs = costs;
    u->host = host;
    u->submitted = submitted;
    u->ready = ready;
    u->ctx = ctx;
    return u;
}

void uring_free(uring_t *u)
{
    if (!u)
        return;
    for (uint32_t i = 0; i < u->ncons; i++)
        free(u->cons[i].joined);
    free(u->cons);
    free(u->slot);
    free(u->pool);
    free(u->node);
    free(u);
}

/* --- consumers --- */

static uint32_t uring_hash(uint64_t key, uint32_t mask)
{
    key *= 0x9e3779b97f4a7c15ull;
    return (uint32_t)(key >> 32) & mask;
}

static int uring_rehash(uring_t *u)
{
    uint32_t n = u->nslot * 2;
    uint32_t *s = calloc(n, sizeof(*s));
    if (!s)
        return -ENOMEM;
    for (uint32_t i = 0; i < u->ncons; i++) {
        uint32_t h = uring_hash(u->cons[i].key, n - 1);
        while (s[h])
            h = (h + 1) & (n - 1);
        s[h] = i + 1;
    }
    free(u->slot);
    u->slot = s;
    u->nslot = n;
    return 0;
}

/* The consumer (flow, declared CPU home): found or created on `cpu`.
 * UINT32_MAX on ENOMEM. */
static uint32_t uring_consumer_of(uring_t *u, uint32_t flow, int16_t home, uint32_t cpu)
{
    uint64_t key = (uint64_t)flow << 16 | (uint16_t)home;
    uint32_t h = uring_hash(key, u->nslot - 1);
    while (u->slot[h]) {
        if (u->cons[u->slot[h] - 1].key == key)
            return u->slot[h] - 1;
        h = (h + 1) & (u->nslot - 1);
    }
    cpu_thread_t *t = cpus_thread_new(u->cpus, cpu, 0);
    uring_cons_t c = {.t = t, .key = key, .hybrid_min = SIM_TIME_MAX};
    if (!t || VEC_PUSH(u->cons, u->ncons, u->capcons, c) != 0)
        return UINT32_MAX;
    u->slot[h] = u->ncons;
    if (u->ncons * 2 > u->nslot && uring_rehash(u) != 0)
        return UINT32_MAX;
    return u->ncons - 1;
}

/* r's consumer: found or created on r->consumer_cpu. */
static uint32_t uring_consumer(uring_t *u, const req_t *r)
{
    return uring_consumer_of(u, r->flow, r->home_cpu, (uint32_t)r->consumer_cpu);
}

cpu_thread_t *uring_consumer_thread(uring_t *u, uint32_t flow, int16_t home)
{
    uint32_t k = uring_consumer_of(u, flow, home, (uint32_t)home);
    return k == UINT32_MAX ? NULL : u->cons[k].t;
}

cpu_thread_t *uring_thread(const uring_t *u, const req_t *r) { return u->cons[r->thread].t; }

/* The thread moves to `cpu`: the move itself, then its working set is
 * fetched again by the new CPU (from the other node's memory when the node
 * changes). */
static void uring_migrate(uring_t *u, uring_cons_t *c, uint32_t cpu, const req_t *r)
{
    uint32_t from = cpus_thread_cpu(c->t);
    cpus_thread_move(c->t, cpu);
    bool remote = u->node[from] != u->node[cpu];
    double cold = u->host->working_set_kib *
                  costs_value(u->costs, remote ? COST_MEM_REMOTE_KIB : COST_MEM_LOCAL_KIB);
    cpus_thread_run(c->t, RQ(u, COST_MIGRATION, r) + (sim_time_t)cold, sim_nothing, NULL, 0);
}

/* --- submission --- */

/* arg: the CPU (low 16 bits) and the work (the rest), ns */
static void uring_timer_irq(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    cpus_run(u->cpus, (uint32_t)(arg & 0xffff), CPU_HARDIRQ, (sim_time_t)(arg >> 16), sim_nothing,
             NULL, 0); /* failure: sticky error */
}

/* A thread that sleeps on an hrtimer for `asked` wakes timer_overshoot_ns
 * late, and the sleep costs CPU within that latency (calibrated; 0 and no
 * charge before): timer_wake_irq_ns at hard-IRQ level on its CPU where the
 * expiry's interrupt and the idle exit run, then timer_wake_cpu_ns of the
 * thread's own time (the switch in, the return) ahead of the work it woke
 * for. The latency stays the measured overshoot on an idle CPU; on a busy
 * one the CPU's work waits like any other. */
static void uring_timer_sleep(uring_t *u, cpu_thread_t *t, const req_t *r, sim_time_t asked)
{
    sim_time_t at = sim_now(u->sim) + asked, over = RQ(u, COST_TIMER_OVERSHOOT, r);
    sim_time_t cw = RQ(u, COST_TIMER_WAKE_CPU, r), ci = RQ(u, COST_TIMER_WAKE_IRQ, r);
    cw = cw < over ? cw : over;
    ci = ci < over - cw ? ci : over - cw;
    cpus_thread_sleep_until(t, at + over - cw);
    if (ci)
        sim_at(u->sim, at + over - cw - ci, uring_timer_irq, u,
               (uint64_t)ci << 16 | (cpus_thread_cpu(t) & 0xffff)); /* failure: sticky error */
    if (cw)
        cpus_thread_run(t, cw, sim_nothing, NULL, 0);
}

/* Polling starts once the SQE is in: a poller spins at once; a hybrid one
 * first sleeps half the shortest wait seen, if it has seen one (r->cpu_ns
 * keeps the sleep for the next estimate). */
static void uring_poll_start(uring_t *u, req_t *r)
{
    r->cpu_ns = 0;
    if (r->wait == POL_WAIT_INTERRUPT)
        return;
    uring_cons_t *c = &u->cons[r->thread];
    if (r->wait == POL_WAIT_HYBRID && c->hybrid_min != SIM_TIME_MAX &&
        !cpus_thread_spinning(c->t) && !cpus_thread_held(c->t)) {
        r->cpu_ns = c->hybrid_min / 2;
        uring_timer_sleep(u, c->t, r, r->cpu_ns);
    }
    cpus_thread_spin(c->t, true);
}

/* The job that carried the batch ended: each SQE was consumed, then the
 * request went through blk-mq submission (r->cpu_ns) within the same call. */
void uring_set_kick_p(uring_t *u, double (*kick_p)(void *ctx, const req_t *r))
{
    u->kick_p = kick_p;
}

/* After a call's last block_rq_issue the driver rings the doorbell once
 * (blk_mq_commit_rqs / bd->last: nvme_commit_rqs, virtio_commit_rqs ->
 * virtqueue_notify): on a VM a trapped write that holds the calling CPU
 * until the hypervisor returns; the device's time (from block_rq_issue)
 * runs meanwhile. A virtio device that has not drained its ring does not
 * ask for it (EVENT_IDX: virtqueue_kick_prepare), so a call rings it with
 * the probability kick_p gives (the device's state for a batch device, else
 * the fraction calibrate measured for the requests already outstanding),
 * decided by the call's first request's keyed uniform. 0 uncalibrated. */
static sim_time_t uring_doorbell(uring_t *u, const req_t *r)
{
    const cost_t *c = &u->costs->c[COST_DOORBELL];
    if (!c->measured || (c->kind == COST_FIXED && c->value == 0))
        return 0; /* (no draw on the hot path of a run without one) */
    double p = u->kick_p ? u->kick_p(u->ctx, r) : 1;
    return costs_uniform(u->costs, COST_DOORBELL, r, 1) < p ? RQ(u, COST_DOORBELL, r) : 0;
}

static void uring_consumed(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    sim_time_t now = sim_now(sim);
    sim_time_t bell = uring_doorbell(u, r);
    cpu_thread_t *caller = u->host->sqpoll ? u->sqt : u->cons[r->thread].t;
    while (r) {
        req_t *next = r->next;
        r->next = NULL;
        r->t[T_SUBMIT] = now - r->cpu_ns > r->t[T_ISSUE] ? now - r->cpu_ns : r->t[T_ISSUE];
        uring_poll_start(u, r);
        u->submitted(u->ctx, r);
        r = next;
    }
    if (bell && caller)
        cpus_thread_run(caller, bell, sim_nothing, NULL, 0);
}

/* The SQ thread on sqpoll_cpu, created on first use (SQPOLL only). */
static cpu_thread_t *uring_sq_thread(uring_t *u)
{
    if (!u->sqt && !(u->sqt = cpus_thread_new(u->cpus, (uint32_t)u->host->sqpoll_cpu, 0)))
        sim_fail(u->sim, -ENOMEM, "io_uring: out of memory for the SQ thread");
    return u->sqt;
}

static void uring_flush(uring_t *u, uint32_t k)
{
    uring_cons_t *c = &u->cons[k];
    sim_cancel(u->sim, c->timer);
    uint32_t n = c->batch.n;
    req_t *batch = req_fifo_take(&c->batch);
    if (!batch)
        return;
    /* io_submit_state_start: a call of more than 2 SQEs runs under a plug,
     * flushed once at its end (io_submit_state_end -> blk_finish_plug):
     * the SQEs after the first cost their plugged share (uring_submit) */
    sim_time_t per_sqe = 0;
    for (req_t *r = batch; r; r = r->next) {
        if (n > 2 && r != batch)
            r->cpu_ns = r->chain_ns;
        per_sqe += RQ(u, COST_URING_SUBMIT_SQE, r) + r->cpu_ns;
    }
    sim_time_t now = sim_now(u->sim);
    /* the call's own costs are keyed by the batch's first request */
    if (!u->host->sqpoll) {
        sim_time_t work = RQ(u, COST_URING_SUBMIT_CALL, batch) + per_sqe;
        cpus_thread_run(c->t, work, uring_consumed, u, PTR(batch));
        return;
    }
    /* SQPOLL: no syscall unless the SQ thread went to sleep (IORING_SQ_NEED_WAKEUP) */
    sim_time_t delay = RQ(u, COST_POLL, batch);
    uint32_t sq = (uint32_t)u->host->sqpoll_cpu, cpu = cpus_thread_cpu(c->t);
    if (now > u->sq_busy_until + (sim_time_t)(u->host->sqpoll_idle_us * 1000.0))
        delay = RQ(u, COST_URING_SUBMIT_CALL, batch) +
                RQ(u, sq == cpu ? COST_WAKEUP_SAME : COST_WAKEUP_CROSS, batch);
    u->sq_busy_until = now + delay + per_sqe;
    cpu_thread_t *t = uring_sq_thread(u);
    if (t)
        cpus_thread_run(t, delay + per_sqe, uring_consumed, u, PTR(batch));
}

static void uring_window(sim_t *sim, void *ctx, uint64_t k)
{
    (void)sim;
    uring_flush(ctx, (uint32_t)k);
}

/* The consumer's work queued before the call has run: submit. */
static void uring_pass_end(sim_t *sim, void *ctx, uint64_t k)
{
    (void)sim;
    uring_t *u = ctx;
    u->cons[k].pass = false;
    uring_flush(u, (uint32_t)k);
}

int uring_submit(uring_t *u, req_t *r, uint32_t batch, sim_time_t window, double per_sqe_ns,
                 double plugged_ns)
{
    uint32_t k = uring_consumer(u, r);
    if (k == UINT32_MAX)
        return sim_fail(u->sim, -ENOMEM, "io_uring: out of memory for a consumer thread");
    r->thread = k;
    uring_cons_t *c = &u->cons[k];
    if (cpus_thread_cpu(c->t) != (uint32_t)r->consumer_cpu)
        uring_migrate(u, c, (uint32_t)r->consumer_cpu, r);
    r->cpu_ns = (sim_time_t)per_sqe_ns;
    r->chain_ns = (sim_time_t)plugged_ns;
    /* an application that sleeps until its next arrival on an hrtimer (as
     * latsurf live's open-loop generator does) submits it only once the
     * timer woke it: expiry, interrupt and switch-in, timer_overshoot_ns.
     * Busy, it finds the arrival when its work is done (queued behind it). */
    if (r->timer_wake && !cpus_thread_busy(c->t) && !cpus_thread_held(c->t))
        uring_timer_sleep(u, c->t, r, 0);
    req_fifo_push(&c->batch, r);
    if (c->pass)
        return 0; /* the call at the end of the thread's work takes it */
    if (c->batch.n >= batch || window == 0) {
        /* A thread that sleeps in io_uring_enter between calls and still has
         * work queued (the other CQEs it reaped, their task_work) submits
         * when that work is done: a mark of no work behind it. A poller
         * spins (always busy) and SQPOLL needs no call: they submit now. */
        if (r->wait == POL_WAIT_INTERRUPT && !u->host->sqpoll && cpus_thread_busy(c->t)) {
            c->pass = true;
            sim_cancel(u->sim, c->timer);
            return cpus_thread_run(c->t, 0, uring_pass_end, u, k);
        }
        uring_flush(u, k);
    } else if (c->batch.n == 1)
        c->timer = sim_after(u->sim, window, uring_window, u, k);
    return 0;
}

/* --- completion --- */

/* The first touch of the data by whoever consumes it: the consumer thread,
 * or the pool worker it hands the request to (nothing before the hand-off). */
static sim_time_t uring_touch(const uring_t *u, const req_t *r)
{
    if (r->pooled == 1)
        return 0;
    uint32_t cpu = r->pooled ? (uint32_t)r->pool_cpu : cpus_thread_cpu(u->cons[r->thread].t);
    bool remote = u->node[cpu] != u->node[r->submit_cpu];
    return (sim_time_t)mem_touch_ns(u->costs, u->host, r->bytes, remote, cpu, r->completion_cpu);
}

/* A sleeping task woken on its own CPU by the completion, from the end of
 * the block completion to its CQE posted: the switch-in when the interrupt
 * returns, then task_work. A calibration traces this chain whole
 * (complete_to_cqe_same_ns); that is the measurement of this span, where
 * context_switch_ns is a futex round trip (two syscalls and two switches,
 * halved), so it is used when measured. */
static sim_time_t uring_wake_here(const uring_t *u, const req_t *r)
{
    if (u->costs->c[COST_COMPLETE_TO_CQE_SAME].measured)
        return RQ(u, COST_COMPLETE_TO_CQE_SAME, r);
    return RQ(u, COST_CONTEXT_SWITCH, r) + RQ(u, COST_TASK_WORK, r);
}

/* The pool worker has consumed the data: t_ready, on its CPU. */
static void uring_pool_ran(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    r->t[T_READY] = sim_now(sim);
    r->consumer_cpu = r->pool_cpu;
    u->ready(u->ctx, r);
}

static cpu_thread_t *uring_pool_worker(uring_t *u, uint32_t cpu)
{
    if (!u->pool && !(u->pool = calloc(u->host->cpus, sizeof(*u->pool))))
        return NULL;
    if (!u->pool[cpu])
        u->pool[cpu] = cpus_thread_new(u->cpus, cpu, 0);
    return u->pool[cpu];
}

static void uring_pool_woken(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    cpus_thread_run(u->pool[r->pool_cpu], uring_touch(u, r), uring_pool_ran, u, arg);
}

static void uring_ipi(uring_t *u, uint32_t from, uint32_t to, sim_time_t total, sim_handler_fn fn,
                      req_t *r);

/* The thread that reaped the CQE wakes a pool worker (a futex wake): on its
 * own CPU a thread-to-thread wakeup, as the worker's time; on another CPU a
 * cross-CPU wakeup (IPI both ends). The worker queues requests FIFO. */
static void uring_hand_off(uring_t *u, req_t *r, uint32_t from)
{
    uint32_t to = (uint32_t)r->pool_cpu;
    cpu_thread_t *w = uring_pool_worker(u, to);
    if (!w) {
        sim_fail(u->sim, -ENOMEM, "io_uring: out of memory for a pool worker");
        return;
    }
    r->pooled = 2;
    uint64_t arg = PTR(r);
    if (from == to)
        cpus_thread_run(w, RQ(u, COST_WAKEUP_SAME, r) + uring_touch(u, r), uring_pool_ran, u,
                        arg);
    else
        uring_ipi(u, from, to, RQ(u, COST_WAKEUP_CROSS, r), uring_pool_woken, r);
}

/* The consumer ran with the data: the job carried CQE posting then the
 * first touch, so the CQE became visible `touch` before its end. A poller
 * stops spinning for r only after the workload had its turn (it may submit
 * the next request without the thread going to sleep in between). */
static void uring_consumer_ran(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    sim_time_t now = sim_now(sim), touch = uring_touch(u, r);
    /* a resampled chain left its return to user space (after the CQE) in
     * cpu_ns; an interrupt wait has 0 there otherwise */
    if (r->wait == POL_WAIT_INTERRUPT)
        touch += r->cpu_ns;
    if (!r->t[T_CQE])
        r->t[T_CQE] = now - touch > r->t[T_BLK_DONE] ? now - touch : r->t[T_BLK_DONE];
    uring_cons_t *c = &u->cons[r->thread];
    bool pooled = r->pooled == 1;
    if (!pooled) {
        r->t[T_READY] = now;
        /* measured: where the consumer ran when it consumed the data */
        r->consumer_cpu = (int16_t)cpus_thread_cpu(c->t);
    }
    bool polling = r->wait != POL_WAIT_INTERRUPT;
    if (r->wait == POL_WAIT_HYBRID) {
        /* io_uring_hybrid_poll: runtime = completion - issue - sleep */
        sim_time_t ran = now - r->t[T_SUBMIT], slept = r->cpu_ns;
        ran = ran > slept ? ran - slept : 0;
        if (ran < c->hybrid_min)
            c->hybrid_min = ran;
    }
    if (c->tw_leader == r)
        c->tw_leader = NULL; /* its run is over: the next completion notifies */
    cpu_thread_t *t = c->t;
    if (pooled)
        uring_hand_off(u, r, cpus_thread_cpu(t));
    else
        u->ready(u->ctx, r); /* r may be reused from here on */
    if (polling)
        cpus_thread_spin(t, false);
}

/* What r costs the thread on `cpu` as an item of a task_work run beyond
 * task_work_per_cqe_ns when r completed on another CPU (remote_task_work_ns,
 * per read, as the queue-depth sweep measured the thread's CPU time far
 * less near: the io_uring request and its CQE come from the completing
 * CPU's cache). Items that join a run only: the per-item cost was measured
 * with the thread on the interrupt's CPU (calbatch, near), while the run's
 * first completion pays what calibrate measured with the waiter on its side
 * at QD1 (the completion chains, or the IPI or wake-up and task_work_ns),
 * a lone remote completion's cost included. 0 (no draw) uncalibrated. */
static sim_time_t uring_remote_ns(const uring_t *u, const req_t *r, uint32_t cpu)
{
    if (!u->costs->c[COST_REMOTE_TASK_WORK].measured || (uint32_t)r->completion_cpu == cpu)
        return 0;
    return RQ(u, COST_REMOTE_TASK_WORK, r);
}

/* r's task_work run is now queued on its consumer thread. */
static void uring_lead(uring_t *u, req_t *r)
{
    uring_cons_t *c = &u->cons[r->thread];
    if (!c->tw_leader && !u->host->sqpoll && r->wait == POL_WAIT_INTERRUPT && !r->polled)
        c->tw_leader = r;
}

/* A completion that joins the leader's list: one more item of its run. */
static void uring_join(uring_t *u, req_t *r)
{
    uring_cons_t *c = &u->cons[r->thread];
    r->deferred = c->tw_leader->deferred;
    cpus_thread_run_first(c->t,
                          RQ(u, COST_TASK_WORK_PER_CQE, r) + uring_touch(u, r) +
                              uring_remote_ns(u, r, cpus_thread_cpu(c->t)),
                          uring_consumer_ran, u, PTR(r));
}

/* The leader's wake-up reached the thread and its run is queued: the
 * completions that joined the list meanwhile follow it, in their order. */
static void uring_woke(uring_t *u, uring_cons_t *c)
{
    c->waking = false;
    for (uint32_t i = 0; i < c->njoined; i++) {
        req_t *r = c->joined[i];
        r->deferred = c->tw_leader ? c->tw_leader->deferred : r->deferred;
        cpus_thread_run(c->t,
                        RQ(u, COST_TASK_WORK_PER_CQE, r) + uring_touch(u, r) +
                            uring_remote_ns(u, r, cpus_thread_cpu(c->t)),
                        uring_consumer_ran, u, PTR(r));
    }
    c->njoined = 0;
}

/* A sleeping thread's wake-up leaves for it: in the kernel the task's
 * task_work list is no longer empty from here on (io_req_normal_work_add
 * notifies only on the first item), so what completes before the thread
 * runs joins that list instead of sending another wake-up. Only where the
 * per-item cost is calibrated, as for every join. */
static void uring_waking(uring_t *u, req_t *r)
{
    uring_cons_t *c = &u->cons[r->thread];
    if (!u->costs->c[COST_TASK_WORK_PER_CQE].measured || c->tw_leader)
        return;
    uring_lead(u, r);
    c->waking = c->tw_leader == r;
}

static void uring_cqe_posted(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    r->t[T_CQE] = sim_now(sim);
    cpus_thread_run(u->cons[r->thread].t, uring_touch(u, r), uring_consumer_ran, u, arg);
}

/* TWA_SIGNAL task_work: the IPI (or the interrupt, on the task's own CPU)
 * makes the task - the consumer, or the SQ thread with SQPOLL - run it on
 * its way back to user space, ahead of what it was doing: CPU time of that
 * thread, which runs only when the fair class gives it the CPU. */
static void uring_post_task_work(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    cpu_thread_t *t = u->host->sqpoll ? uring_sq_thread(u) : u->cons[r->thread].t;
    uring_lead(u, r);
    if (t)
        cpus_thread_run_first(t, RQ(u, COST_TASK_WORK, r) + RQ(u, COST_CQE_POST, r),
                              uring_cqe_posted, u, arg);
}

/* A sleeping consumer woken from another CPU: the wake-up IPI costs both
 * CPUs; wakeup_cross_cpu_ns is measured whole, so the receiver's share is
 * inside it. Then the thread runs task_work. */
static void uring_woken(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    sim_time_t work = RQ(u, COST_TASK_WORK, r) + RQ(u, COST_CQE_POST, r) + uring_touch(u, r);
    uring_lead(u, r);
    cpus_thread_run(u->cons[r->thread].t, work, uring_consumer_ran, u, arg);
    uring_woke(u, &u->cons[r->thread]);
}

/* A measured chain's rest after the wakeup: the switch-in and task_work up
 * to the CQE (r->t[T_CQE] is then cpu_ns before the end), then the return
 * to user space (cpu_ns) and the first touch. */
static void uring_chain_woken(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    uring_lead(u, r);
    cpus_thread_run(u->cons[r->thread].t, r->chain_ns + r->cpu_ns + uring_touch(u, r),
                    uring_consumer_ran, u, arg);
    uring_woke(u, &u->cons[r->thread]);
}

/* An IPI from `from` to `to` whose delivery takes `total` ns, the
 * receiver's handler included. Where calibrated, what it costs depends on
 * the target (a VM's numbers in docs/calibration.md): a running CPU loses
 * the IPI's receive (ipi_recv_ns: on a VM the exit that injects it) and its
 * sender the kick (ipi_send_ns); a halted one loses nothing to the exit but
 * runs the handler (ipi_recv_idle_ns), and its sender waits while the
 * hypervisor wakes it (ipi_send_idle_ns). */
static void uring_ipi(uring_t *u, uint32_t from, uint32_t to, sim_time_t total, sim_handler_fn fn,
                      req_t *r)
{
    const cost_t *c = u->costs->c;
    /* (the idle test walks the CPU's levels: only when it changes a cost) */
    bool idle = (c[COST_IPI_SEND_IDLE].measured || c[COST_IPI_RECV].measured) &&
                cpus_idle(u->cpus, to);
    cost_id_t send = idle && c[COST_IPI_SEND_IDLE].measured ? COST_IPI_SEND_IDLE : COST_IPI_SEND;
    sim_time_t recv = RQ(u, idle ? COST_IPI_RECV_IDLE : COST_IPI_RECV, r);
    cpus_ipi(u->cpus, from, to, RQ(u, send, r), total > recv ? total - recv : 0, recv, fn, u,
             PTR(r));
}

/* The sleeping waiter's completion chain, resampled whole from calibrate's
 * measurements (block completion -> CQE -> running in user space): on its
 * own CPU the thread runs the whole chain; on another, the wakeup IPI
 * takes the measured complete -> wakeup and the thread the rest. */
static void uring_chain(uring_t *u, req_t *r, const costs_chain_t *ch, uint32_t cc, uint32_t me)
{
    sim_time_t c2cqe = (sim_time_t)ch->c2cqe, run = (sim_time_t)ch->cqe2run;
    r->cpu_ns = run;
    if (cc == me) {
        uring_lead(u, r);
        cpus_thread_run(u->cons[r->thread].t, c2cqe + run + uring_touch(u, r), uring_consumer_ran,
                        u, PTR(r));
        return;
    }
    sim_time_t wake = ch->c2wake >= 0 && (sim_time_t)ch->c2wake <= c2cqe ? (sim_time_t)ch->c2wake
                                                                            : c2cqe;
    r->chain_ns = c2cqe - wake;
    uring_waking(u, r);
    uring_ipi(u, cc, me, wake, uring_chain_woken, r);
}

void uring_arrived(uring_t *u, req_t *r)
{
    if (r->wait == POL_WAIT_HYBRID && cpus_thread_held(u->cons[r->thread].t))
        r->deferred = 1;
}

void uring_complete(uring_t *u, req_t *r)
{
    uring_cons_t *c = &u->cons[r->thread];
    uint32_t cc = (uint32_t)r->completion_cpu, me = cpus_thread_cpu(c->t);
    uint64_t arg = PTR(r);
    if (r->polled) {
        /* IOPOLL: the poller posts the CQE inline, no task_work */
        cpus_thread_run(c->t, RQ(u, COST_CQE_POST, r) + uring_touch(u, r), uring_consumer_ran, u,
                        arg);
        return;
    }
    if (u->host->sqpoll) {
        /* task_work belongs to the SQ thread, which posts the CQE on its CPU */
        uint32_t sq = (uint32_t)u->host->sqpoll_cpu;
        if (cc == sq)
            uring_post_task_work(u->sim, u, arg);
        else
            uring_ipi(u, cc, sq, RQ(u, COST_IPI, r), uring_post_task_work, r);
        return;
    }
    if (r->wait != POL_WAIT_INTERRUPT) {
        uring_arrived(u, r);
        /* the spinning task notices within a poll iteration and runs
         * task_work itself, once it is on its CPU (and awake) */
        sim_time_t work = RQ(u, COST_POLL, r) + RQ(u, COST_TASK_WORK, r) +
                          RQ(u, COST_CQE_POST, r) + uring_touch(u, r);
        cpus_thread_run(c->t, work, uring_consumer_ran, u, arg);
        return;
    }
    if (c->tw_leader && u->costs->c[COST_TASK_WORK_PER_CQE].measured) {
        /* io_req_normal_work_add: the task's list is not empty, so the
         * request only joins it (llist_add), with no notification, wakeup
         * or IPI; the run already queued (tctx_task_work) posts its CQE too,
         * as one more item of the list - or, while the wake-up that run
         * waits for is on its way, the run it will be */
        if (c->waking) {
            if (VEC_PUSH(c->joined, c->njoined, c->capjoined, r) != 0)
                sim_fail(u->sim, -ENOMEM, "io_uring: out of memory for a task_work list");
            return;
        }
        uring_join(u, r);
        return;
    }
    if (!cpus_thread_busy(c->t)) {
        /* (the idle test walks the CPU's levels: only when chains were loaded) */
        const costs_chain_t *ch =
            u->costs->chain[cc != me].n
                ? costs_chain(u->costs, cc != me, cpus_idle(u->cpus, me), r)
                : NULL;
        if (ch) {
            uring_chain(u, r, ch, cc, me);
            return;
        }
        /* Woken from the completion's interrupt context: on its own CPU the
         * task is switched in when the interrupt returns (a context switch,
         * CPU time of the thread); on another CPU it takes a cross-CPU
         * wakeup (IPI, remote schedule, switch-in), which
         * wakeup_cross_cpu_ns measures whole. The thread-to-thread
         * wakeup_same_cpu_ns does not apply: no thread has to switch out
         * for the task to run. */
        if (cc == me) {
            sim_time_t work = uring_wake_here(u, r) + RQ(u, COST_CQE_POST, r) + uring_touch(u, r);
            uring_lead(u, r);
            cpus_thread_run(c->t, work, uring_consumer_ran, u, arg);
        } else {
            uring_waking(u, r);
            uring_ipi(u, cc, me, RQ(u, COST_WAKEUP_CROSS, r), uring_woken, r);
        }
        return;
    }
    if (r->taskrun == POL_TASKRUN_DEFAULT) {
        /* TWA_SIGNAL: an IPI interrupts the running task to run task_work */
        if (cc == me)
            uring_post_task_work(u->sim, u, arg);
        else
            uring_ipi(u, cc, me, RQ(u, COST_IPI, r), uring_post_task_work, r);
        return;
    }
    /* COOP / DEFER: the task_work waits for the task's next transition */
    r->deferred = 1;
    uring_lead(u, r);
    cpus_thread_run(c->t, RQ(u, COST_TASK_WORK, r) + RQ(u, COST_CQE_POST, r), uring_cqe_posted, u,
                    arg);
}
