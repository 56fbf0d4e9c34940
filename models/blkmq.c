/*
 * blkmq.c - see blkmq.h.
 */
#include "blkmq.h"

#include "models/irq.h"

#include <stdlib.h>

typedef struct {
    uint32_t free_tags;
    req_t *wait_head, *wait_tail;
} blkmq_hctx_t;

struct blkmq {
    sim_t *sim;
    cpus_t *cpus;
    const costs_t *costs;
    const host_cfg_t *host;
    blkmq_fn dispatch, complete;
    void *ctx;
    uint32_t nq;
    blkmq_hctx_t *hctx;
    uint32_t *cpu_queue;
};

blkmq_t *blkmq_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const host_cfg_t *host,
                   uint32_t nqueues, uint32_t depth, blkmq_fn dispatch, blkmq_fn complete,
                   void *ctx)
{
    blkmq_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->hctx = calloc(nqueues, sizeof(*b->hctx));
    b->cpu_queue = calloc(host->cpus, sizeof(*b->cpu_queue));
    if (!b->hctx || !b->cpu_queue) {
        blkmq_free(b);
        return NULL;
    }
    b->sim = sim;
    b->cpus = cpus;
    b->costs = costs;
    b->host = host;
    b->dispatch = dispatch;
    b->complete = complete;
    b->ctx = ctx;
    b->nq = nqueues;
    for (uint32_t q = 0; q < nqueues; q++)
        b->hctx[q].free_tags = depth;
    /* blk_mq_map_queues: the inverse of the managed vector spread */
    for (uint32_t q = 0; q < nqueues; q++)
        for (uint32_t c = irq_spread_cpu(q, nqueues, host->cpus);
             c < (q + 1 == nqueues ? host->cpus : irq_spread_cpu(q + 1, nqueues, host->cpus)); c++)
            b->cpu_queue[c] = q;
    return b;
}

void blkmq_free(blkmq_t *b)
{
    if (!b)
        return;
    free(b->hctx);
    free(b->cpu_queue);
    free(b);
}

const uint32_t *blkmq_cpu_map(const blkmq_t *b) { return b->cpu_queue; }

double blkmq_submit_cost(const blkmq_t *b)
{
    double c = costs_value(b->costs, COST_BLK_DISPATCH);
    if (b->host->iosched == HOST_SCHED_MQ_DEADLINE)
        c += costs_value(b->costs, COST_SCHED_DEADLINE);
    return c;
}

void blkmq_submit(blkmq_t *b, req_t *r)
{
    blkmq_hctx_t *h = &b->hctx[r->hwq];
    if (h->free_tags) {
        h->free_tags--;
        r->t[T_DISPATCH] = sim_now(b->sim);
        b->dispatch(b->ctx, r);
        return;
    }
    r->next = NULL;
    if (h->wait_tail)
        h->wait_tail->next = r;
    else
        h->wait_head = r;
    h->wait_tail = r;
}

/* A tag came back: the oldest waiter gets it (blk_mq_run_hw_queue). */
static void blkmq_put_tag(blkmq_t *b, uint32_t hwq)
{
    blkmq_hctx_t *h = &b->hctx[hwq];
    req_t *w = h->wait_head;
    if (!w) {
        h->free_tags++;
        return;
    }
    h->wait_head = w->next;
    if (!h->wait_head)
        h->wait_tail = NULL;
    w->next = NULL;
    w->t[T_DISPATCH] = sim_now(b->sim);
    b->dispatch(b->ctx, w);
}

static void blkmq_softirq_done(sim_t *sim, void *ctx, uint64_t arg)
{
    blkmq_t *b = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    r->t[T_BLK_DONE] = sim_now(sim);
    blkmq_put_tag(b, r->hwq);
    b->complete(b->ctx, r);
}

static void blkmq_run_softirq(blkmq_t *b, req_t *r)
{
    uint32_t c = (uint32_t)r->completion_cpu;
    sim_time_t work = (sim_time_t)costs_value(b->costs, COST_BLK_COMPLETE);
    if (cpus_queued(b->cpus, c, CPU_SOFTIRQ) >= b->host->ksoftirqd_after) {
        /* __do_softirq gave up: the rest runs in ksoftirqd, a thread */
        r->deferred = 1;
        work += (sim_time_t)costs_value(b->costs, COST_WAKEUP_SAME);
        cpus_run(b->cpus, c, CPU_KTHREAD, work, blkmq_softirq_done, b, (uint64_t)(uintptr_t)r);
        return;
    }
    cpus_run(b->cpus, c, CPU_SOFTIRQ, work, blkmq_softirq_done, b, (uint64_t)(uintptr_t)r);
}

static void blkmq_ipi_arrived(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    blkmq_run_softirq(ctx, (req_t *)(uintptr_t)arg);
}

void blkmq_complete(blkmq_t *b, req_t *r, int32_t forced_cpu)
{
    uint32_t v = (uint32_t)r->irq_cpu, s = (uint32_t)r->submit_cpu, c;
    if (forced_cpu >= 0)
        c = (uint32_t)forced_cpu;
    else if (b->host->rq_affinity == 0)
        c = v;
    else if (b->host->rq_affinity == 1) /* QUEUE_FLAG_SAME_COMP: a CPU sharing the cache */
        c = host_node_of(b->host, v) == host_node_of(b->host, s) ? v : s;
    else /* 2, QUEUE_FLAG_SAME_FORCE */
        c = s;
    r->completion_cpu = (int16_t)c;
    if (c == v) {
        blkmq_run_softirq(b, r);
        return;
    }
    /* the IPI costs both CPUs; ipi_ns is its delivery, the receiver's handler included */
    sim_time_t ipi = (sim_time_t)costs_value(b->costs, COST_IPI),
               recv = (sim_time_t)costs_value(b->costs, COST_IPI_RECV);
    cpus_ipi(b->cpus, v, c, (sim_time_t)costs_value(b->costs, COST_IPI_SEND),
             ipi > recv ? ipi - recv : 0, recv, blkmq_ipi_arrived, b, (uint64_t)(uintptr_t)r);
}

void blkmq_complete_polled(blkmq_t *b, req_t *r, cpu_thread_t *poller)
{
    uint32_t cpu = cpus_thread_cpu(poller);
    r->irq_cpu = (int16_t)cpu;
    r->completion_cpu = (int16_t)cpu;
    r->t[T_IRQ] = sim_now(b->sim);
    cpus_thread_run(poller, (sim_time_t)costs_value(b->costs, COST_BLK_COMPLETE),
                    blkmq_softirq_done, b, (uint64_t)(uintptr_t)r);
}
