/*
 * uring.c - see uring.h.
 */
#include "uring.h"

#include "models/mem.h"
#include "policies/policy.h"

#include <stdlib.h>

typedef struct {
    req_t *head, *tail;
    uint32_t n, batch;
    sim_timer_t timer;
    /* poll-wait accounting: the thread spins while it has polled I/O out */
    uint32_t spinning;
    sim_time_t spin_since;
} uring_ring_t;

struct uring {
    sim_t *sim;
    cpus_t *cpus;
    const costs_t *costs;
    const host_cfg_t *host;
    uring_fn submitted, ready;
    void *ctx;
    uring_ring_t *ring; /* per CPU */
    sim_time_t sq_busy_until;
    double poll_ns;
};

#define NS(k, id) ((sim_time_t)costs_value((k), (id)))

uring_t *uring_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const host_cfg_t *host,
                   uring_fn submitted, uring_fn ready, void *ctx)
{
    uring_t *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->ring = calloc(host->cpus, sizeof(*u->ring));
    if (!u->ring) {
        free(u);
        return NULL;
    }
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
    free(u->ring);
    free(u);
}

double uring_poll_ns(const uring_t *u)
{
    double t = u->poll_ns;
    for (uint32_t c = 0; c < u->host->cpus; c++)
        if (u->ring[c].spinning)
            t += (double)(sim_now(u->sim) - u->ring[c].spin_since);
    return t;
}

void uring_reset_stats(uring_t *u)
{
    u->poll_ns = 0;
    for (uint32_t c = 0; c < u->host->cpus; c++)
        u->ring[c].spin_since = sim_now(u->sim);
}

/* The job that carried the batch ended: each SQE was consumed, then the
 * request went through blk-mq submission (r->cpu_ns) within the same call. */
static void uring_consumed(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    sim_time_t now = sim_now(sim);
    while (r) {
        req_t *next = r->next;
        r->next = NULL;
        r->t[T_SUBMIT] = now - r->cpu_ns > r->t[T_ISSUE] ? now - r->cpu_ns : r->t[T_ISSUE];
        u->submitted(u->ctx, r);
        r = next;
    }
}

static void uring_flush(uring_t *u, uint32_t cpu)
{
    uring_ring_t *g = &u->ring[cpu];
    sim_cancel(u->sim, g->timer);
    req_t *batch = g->head;
    uint32_t n = g->n;
    g->head = g->tail = NULL;
    g->n = 0;
    if (!batch)
        return;
    sim_time_t per_sqe = 0;
    for (req_t *r = batch; r; r = r->next)
        per_sqe += NS(u->costs, COST_URING_SUBMIT_SQE) + r->cpu_ns;
    sim_time_t now = sim_now(u->sim);
    if (!u->host->sqpoll) {
        sim_time_t work = NS(u->costs, COST_URING_SUBMIT_CALL) + per_sqe;
        cpus_run(u->cpus, cpu, CPU_USER, work, uring_consumed, u, (uint64_t)(uintptr_t)batch);
        return;
    }
    /* SQPOLL: no syscall unless the SQ thread went to sleep (IORING_SQ_NEED_WAKEUP) */
    sim_time_t delay = NS(u->costs, COST_POLL);
    uint32_t sq = (uint32_t)u->host->sqpoll_cpu;
    if (now > u->sq_busy_until + (sim_time_t)(u->host->sqpoll_idle_us * 1000.0))
        delay = NS(u->costs, COST_URING_SUBMIT_CALL) +
                NS(u->costs, sq == cpu ? COST_WAKEUP_SAME : COST_WAKEUP_CROSS);
    u->sq_busy_until = now + delay + per_sqe;
    (void)n;
    cpus_run(u->cpus, sq, CPU_KTHREAD, delay + per_sqe, uring_consumed, u,
             (uint64_t)(uintptr_t)batch);
}

static void uring_window(sim_t *sim, void *ctx, uint64_t cpu)
{
    (void)sim;
    uring_flush(ctx, (uint32_t)cpu);
}

void uring_submit(uring_t *u, req_t *r, uint32_t batch, sim_time_t window, double per_sqe_ns)
{
    uint32_t cpu = (uint32_t)r->submit_cpu;
    uring_ring_t *g = &u->ring[cpu];
    r->cpu_ns = (sim_time_t)per_sqe_ns;
    if (r->wait != POL_WAIT_INTERRUPT) {
        uring_ring_t *w = &u->ring[r->consumer_cpu];
        if (w->spinning++ == 0)
            w->spin_since = sim_now(u->sim);
    }
    r->next = NULL;
    if (g->tail)
        g->tail->next = r;
    else
        g->head = r;
    g->tail = r;
    g->n++;
    if (g->n >= batch || window == 0)
        uring_flush(u, cpu);
    else if (g->n == 1)
        g->timer = sim_after(u->sim, window, uring_window, u, cpu);
}

static void uring_spin_end(uring_t *u, req_t *r)
{
    if (r->wait == POL_WAIT_INTERRUPT)
        return;
    uring_ring_t *w = &u->ring[r->consumer_cpu];
    if (--w->spinning == 0) {
        double spun = (double)(sim_now(u->sim) - w->spin_since);
        /* hybrid polling sleeps through about half the wait */
        u->poll_ns += r->wait == POL_WAIT_HYBRID ? spun / 2 : spun;
    }
}

/* The consumer ran with the data: the job carried CQE posting then the
 * first touch, so the CQE became visible `touch` before its end. */
static void uring_consumer_ran(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    sim_time_t now = sim_now(sim);
    sim_time_t touch = (sim_time_t)mem_touch_ns(u->costs, u->host, r->bytes,
                                                host_node_of(u->host, (uint32_t)r->submit_cpu),
                                                (uint32_t)r->consumer_cpu, r->completion_cpu);
    if (!r->t[T_CQE])
        r->t[T_CQE] = now - touch > r->t[T_BLK_DONE] ? now - touch : r->t[T_BLK_DONE];
    r->t[T_READY] = now;
    uring_spin_end(u, r);
    u->ready(u->ctx, r);
}

static void uring_cqe_posted(sim_t *sim, void *ctx, uint64_t arg)
{
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    r->t[T_CQE] = sim_now(sim);
    sim_time_t touch = (sim_time_t)mem_touch_ns(u->costs, u->host, r->bytes,
                                                host_node_of(u->host, (uint32_t)r->submit_cpu),
                                                (uint32_t)r->consumer_cpu, r->completion_cpu);
    cpus_run(u->cpus, (uint32_t)r->consumer_cpu, CPU_USER, touch, uring_consumer_ran, u, arg);
}

static void uring_wake(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    sim_time_t touch = (sim_time_t)mem_touch_ns(u->costs, u->host, r->bytes,
                                                host_node_of(u->host, (uint32_t)r->submit_cpu),
                                                (uint32_t)r->consumer_cpu, r->completion_cpu);
    sim_time_t work = NS(u->costs, COST_TASK_WORK) +
                      NS(u->costs, COST_CQE_POST) + touch;
    cpus_run(u->cpus, (uint32_t)r->consumer_cpu, CPU_USER, work, uring_consumer_ran, u, arg);
}

static void uring_post_kthread(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    uring_t *u = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    uint32_t cpu = u->host->sqpoll ? (uint32_t)u->host->sqpoll_cpu : (uint32_t)r->consumer_cpu;
    cpus_run(u->cpus, cpu, CPU_KTHREAD, NS(u->costs, COST_TASK_WORK) + NS(u->costs, COST_CQE_POST),
             uring_cqe_posted, u, arg);
}

void uring_complete(uring_t *u, req_t *r)
{
    uint32_t c = (uint32_t)r->completion_cpu, me = (uint32_t)r->consumer_cpu;
    uint64_t arg = (uint64_t)(uintptr_t)r;
    if (r->polled) {
        /* IOPOLL: the poller posts the CQE inline, no task_work */
        sim_time_t touch = (sim_time_t)mem_touch_ns(u->costs, u->host, r->bytes,
                                                    host_node_of(u->host, (uint32_t)r->submit_cpu),
                                                    me, r->completion_cpu);
        cpus_run(u->cpus, me, CPU_USER, NS(u->costs, COST_CQE_POST) + touch, uring_consumer_ran,
                 u, arg);
        return;
    }
    if (u->host->sqpoll) {
        /* task_work belongs to the SQ thread, which posts the CQE on its CPU */
        uint32_t sq = (uint32_t)u->host->sqpoll_cpu;
        sim_after(u->sim, c == sq ? 0 : NS(u->costs, COST_IPI), uring_post_kthread, u, arg);
        return;
    }
    if (r->wait != POL_WAIT_INTERRUPT) {
        /* the spinning task notices within a poll iteration and runs task_work itself */
        sim_after(u->sim, NS(u->costs, COST_POLL), uring_post_kthread, u, arg);
        return;
    }
    bool sleeping = cpus_queued(u->cpus, me, CPU_USER) == 0;
    if (sleeping) {
        /* Woken from the completion's interrupt context: on its own CPU the
         * task is switched in when the interrupt returns (a context switch);
         * on another CPU it takes a cross-CPU wakeup (IPI, remote schedule,
         * switch-in), which wakeup_cross_cpu_ns measures whole. The
         * thread-to-thread wakeup_same_cpu_ns does not apply: no thread
         * has to switch out for the task to run. */
        sim_after(u->sim, NS(u->costs, c == me ? COST_CONTEXT_SWITCH : COST_WAKEUP_CROSS),
                  uring_wake, u, arg);
        return;
    }
    if (r->taskrun == POL_TASKRUN_DEFAULT) {
        /* TWA_SIGNAL: an IPI interrupts the running task to run task_work */
        sim_after(u->sim, c == me ? 0 : NS(u->costs, COST_IPI), uring_post_kthread, u, arg);
        return;
    }
    /* COOP / DEFER: the task_work waits for the task's next transition */
    r->deferred = 1;
    cpus_run(u->cpus, me, CPU_USER,
             NS(u->costs, COST_TASK_WORK) + NS(u->costs, COST_CQE_POST), uring_cqe_posted, u, arg);
}
