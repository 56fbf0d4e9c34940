/*
 * blkmq.c - see blkmq.h.
 */
#include "blkmq.h"

#include "models/irq.h"

#include <stdlib.h>

typedef struct {
    uint32_t free_tags;
    uint32_t nr_ctx;            /* CPUs whose software queue maps here */
    req_fifo_t waiters;         /* requests waiting for a tag, oldest first */
} blkmq_hctx_t;

enum { MAP_DEFAULT, MAP_READ, MAP_POLL, NMAPS };

struct blkmq {
    sim_t *sim;
    cpus_t *cpus;
    const costs_t *costs;
    const host_cfg_t *host;
    blkmq_fn dispatch, complete;
    void *ctx;
    uint32_t nhw;               /* nr_hw_queues: every set */
    uint32_t nread, npoll;      /* queues of the read and poll sets (0: none) */
    uint32_t rq_affinity;
    uint32_t depth;             /* tags per hardware queue */
    host_iosched_t iosched;
    blkmq_hctx_t *hctx;
    uint32_t *map[NMAPS];       /* [cpus] -> hardware queue; read/poll may alias default */
    /* [cpus]: BLOCK_SOFTIRQ raised there and its run has not yet taken the
     * CPU's blk_cpu_done list (blk_mq_raise_softirq / blk_complete_reqs):
     * RAISED_SOFTIRQ for a run at softirq level, RAISED_KSOFTIRQD for one
     * handed to ksoftirqd */
    uint8_t *raised;
    /* [cpus]: raises in a row that found the softirq level still busy, i.e.
     * restarts of one __do_softirq pass (lists calibrated only) */
    uint32_t *restarts;
};

enum { RAISED_NONE, RAISED_SOFTIRQ, RAISED_KSOFTIRQD };

/* blk_mq_map_queues / blk_mq_pci_map_queues: CPUs of queue q of a set of n
 * queues starting at `first` are the managed spread's [q*cpus/n, ...). */
static void blkmq_map_set(blkmq_t *b, uint32_t *map, uint32_t first, uint32_t n)
{
    uint32_t cpus = b->host->cpus;
    for (uint32_t q = 0; q < n; q++)
        for (uint32_t c = irq_spread_cpu(q, n, cpus);
             c < (q + 1 == n ? cpus : irq_spread_cpu(q + 1, n, cpus)); c++) {
            map[c] = first + q;
            b->hctx[first + q].nr_ctx++;
        }
}

blkmq_t *blkmq_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const blkmq_cfg_t *cfg,
                   blkmq_fn dispatch, blkmq_fn complete, void *ctx)
{
    const ssd_cfg_t *dev = cfg->dev;
    const host_cfg_t *host = cfg->host;
    blkmq_t *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->nhw = dev->queues + dev->poll_queues;
    b->hctx = calloc(b->nhw, sizeof(*b->hctx));
    for (int m = 0; m < NMAPS; m++)
        b->map[m] = calloc(host->cpus, sizeof(*b->map[m]));
    b->raised = calloc(host->cpus ? host->cpus : 1, sizeof(*b->raised));
    b->restarts = calloc(host->cpus ? host->cpus : 1, sizeof(*b->restarts));
    if (!b->hctx || !b->map[MAP_DEFAULT] || !b->map[MAP_READ] || !b->map[MAP_POLL] ||
        !b->raised || !b->restarts) {
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
    b->rq_affinity = cfg->rq_affinity;
    /* elevator_get_default: mq-deadline for one hardware queue, else none */
    b->iosched = host->iosched != HOST_SCHED_DEFAULT ? host->iosched
                 : b->nhw == 1                        ? HOST_SCHED_MQ_DEADLINE
                                                      : HOST_SCHED_NONE;
    b->depth = dev->queue_depth;
    for (uint32_t q = 0; q < b->nhw; q++)
        b->hctx[q].free_tags = dev->queue_depth;
    b->nread = dev->read_queues;
    b->npoll = dev->poll_queues;
    uint32_t ndef = dev->queues - dev->read_queues;
    blkmq_map_set(b, b->map[MAP_DEFAULT], 0, ndef);
    if (dev->read_queues)
        blkmq_map_set(b, b->map[MAP_READ], ndef, dev->read_queues);
    if (dev->poll_queues)
        blkmq_map_set(b, b->map[MAP_POLL], dev->queues, dev->poll_queues);
    return b;
}

void blkmq_free(blkmq_t *b)
{
    if (!b)
        return;
    free(b->hctx);
    for (int m = 0; m < NMAPS; m++)
        free(b->map[m]);
    free(b->raised);
    free(b->restarts);
    free(b);
}

const uint32_t *blkmq_cpu_map(const blkmq_t *b, bool write, bool polled)
{
    if (polled && b->npoll)
        return b->map[MAP_POLL];
    return !write && b->nread ? b->map[MAP_READ] : b->map[MAP_DEFAULT];
}

/* mq-deadline's own insert and dispatch, unless the dispatch cost was
 * traced (io_uring_submit_req -> block_rq_issue: the scheduler's work is
 * inside it, on the host calibrate measured) and would be counted twice. */
static bool blkmq_add_deadline(const blkmq_t *b)
{
    return b->iosched == HOST_SCHED_MQ_DEADLINE && !b->costs->c[COST_BLK_DISPATCH].measured;
}

uint32_t blkmq_inflight(const blkmq_t *b, uint32_t cpu, bool write)
{
    uint32_t q = blkmq_cpu_map(b, write, false)[cpu];
    return b->depth - b->hctx[q].free_tags;
}

double blkmq_submit_cost(const blkmq_t *b, const req_t *r)
{
    double c = r ? costs_req(b->costs, COST_BLK_DISPATCH, r) : costs_value(b->costs, COST_BLK_DISPATCH);
    if (blkmq_add_deadline(b))
        c += r ? costs_req(b->costs, COST_SCHED_DEADLINE, r)
               : costs_value(b->costs, COST_SCHED_DEADLINE);
    return c;
}

double blkmq_submit_cost_plugged(const blkmq_t *b, const req_t *r)
{
    if (!b->costs->c[COST_BLK_DISPATCH_PER_RQ].measured)
        return blkmq_submit_cost(b, r);
    double c = costs_req(b->costs, COST_BLK_DISPATCH_PER_RQ, r);
    if (blkmq_add_deadline(b))
        c += costs_req(b->costs, COST_SCHED_DEADLINE, r);
    return c;
}

void blkmq_submit(blkmq_t *b, req_t *r, uint32_t cpu)
{
    r->blk_cpu = (int16_t)cpu;
    r->hwq = blkmq_cpu_map(b, r->op == REQ_WRITE, r->polled)[cpu];
    blkmq_hctx_t *h = &b->hctx[r->hwq];
    if (h->free_tags) {
        h->free_tags--;
        r->t[T_DISPATCH] = sim_now(b->sim);
        b->dispatch(b->ctx, r);
        return;
    }
    req_fifo_push(&h->waiters, r);
}

/* A tag came back: the oldest waiter gets it (blk_mq_run_hw_queue). */
static void blkmq_put_tag(blkmq_t *b, uint32_t hwq)
{
    blkmq_hctx_t *h = &b->hctx[hwq];
    req_t *w = req_fifo_pop(&h->waiters);
    if (!w) {
        h->free_tags++;
        return;
    }
    w->t[T_DISPATCH] = sim_now(b->sim);
    b->dispatch(b->ctx, w);
}

static void blkmq_done(sim_t *sim, void *ctx, uint64_t arg)
{
    blkmq_t *b = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    r->t[T_BLK_DONE] = sim_now(sim);
    blkmq_put_tag(b, r->hwq);
    b->complete(b->ctx, r);
}

/* The BLOCK_SOFTIRQ run raised on CPU arg took the CPU's list. */
static void blkmq_list_taken(sim_t *sim, void *ctx, uint64_t cpu)
{
    (void)sim;
    blkmq_t *b = ctx;
    b->raised[cpu] = RAISED_NONE;
}

/* Whether this softirq work goes to ksoftirqd. In kernel/softirq.c
 * (handle_softirqs) a pass runs every pending vector, BLOCK_SOFTIRQ taking
 * its whole list, and restarts while something was raised meanwhile, up to
 * MAX_SOFTIRQ_RESTART passes (and 2 ms, not modelled) before it wakes
 * ksoftirqd. With the list calibrated, the completions on one list are one
 * pass's work, whatever their number: only a raise that finds the softirq
 * level still busy counts, as a restart, and a request that joins a list
 * goes where its list's run goes. Uncalibrated, every request is its own
 * raise, so the backlog of softirq jobs counts the restarts. */
static bool blkmq_to_ksoftirqd(blkmq_t *b, uint32_t c, bool lists, bool join)
{
    if (!lists)
        return cpus_queued(b->cpus, c, CPU_SOFTIRQ) >= b->host->ksoftirqd_after;
    if (join)
        return b->raised[c] == RAISED_KSOFTIRQD;
    b->restarts[c] = cpus_queued(b->cpus, c, CPU_SOFTIRQ) ? b->restarts[c] + 1 : 0;
    return b->restarts[c] >= b->host->ksoftirqd_after;
}

/* What a request that joins a BLOCK_SOFTIRQ list costs its completing CPU
 * beyond blk_complete_per_rq_ns when that CPU did not allocate it
 * (blk_cpu): remote_complete_softirq_ns, per read, as the queue-depth sweep
 * measured it far less near (the request, bio and io_uring request are the
 * other CPU's cache lines, and each completion is handed to a task on
 * another CPU). Joins only: the per-request cost was measured on the
 * interrupt's CPU (calbatch, near), while the run's first request pays
 * what calibrate measured with the waiter on its side at QD1
 * (blk_complete_cross_ns, then the IPI or wake-up), a lone remote
 * completion's cost included. 0 (no draw) uncalibrated. */
static sim_time_t blkmq_remote_ns(const blkmq_t *b, const req_t *r)
{
    if (!b->costs->c[COST_REMOTE_SOFTIRQ].measured || r->completion_cpu == r->blk_cpu)
        return 0;
    return (sim_time_t)costs_req(b->costs, COST_REMOTE_SOFTIRQ, r);
}

/* BLOCK_SOFTIRQ on r->completion_cpu (blk_done_softirq). The request joins
 * the CPU's blk_cpu_done list; blk_mq_raise_softirq raises the softirq only
 * when the list was empty (llist_add), and the run (blk_complete_reqs)
 * takes the whole list and completes it in one go. So the request that
 * raises pays blk_complete_ns (one request per run, as calibrated at QD1:
 * the run's entry included), each request that joins a list already raised
 * blk_complete_per_rq_ns (calibrated only; else blk_complete_ns too). */
static void blkmq_run_softirq(blkmq_t *b, req_t *r)
{
    uint32_t c = (uint32_t)r->completion_cpu;
    /* uncalibrated, every request pays the same: the list changes nothing */
    bool lists = b->costs->c[COST_BLK_COMPLETE_PER_RQ].measured, join = lists && b->raised[c];
    sim_time_t work =
        join ? (sim_time_t)costs_req(b->costs, COST_BLK_COMPLETE_PER_RQ, r) + blkmq_remote_ns(b, r)
             : (sim_time_t)costs_req(b->costs, COST_BLK_COMPLETE, r);
    if (blkmq_to_ksoftirqd(b, c, lists, join)) {
        /* __do_softirq gave up: the rest runs in ksoftirqd, a fair thread
         * that competes with the CPU's other threads; the raise that hands
         * it over wakes it (a joining request rides along) */
        cpu_thread_t *k = cpus_ksoftirqd(b->cpus, c);
        if (!k)
            return;
        r->deferred = 1;
        if (!join)
            work += (sim_time_t)costs_req(b->costs, COST_WAKEUP_SAME, r);
        if (lists && !join) {
            b->raised[c] = RAISED_KSOFTIRQD;
            cpus_thread_run(k, 0, blkmq_list_taken, b, c);
        }
        cpus_thread_run(k, work, blkmq_done, b, (uint64_t)(uintptr_t)r);
        return;
    }
    if (lists && !b->raised[c]) {
        /* a new run: it takes the list when it starts (a mark of no work
         * ahead of this request's completion, FIFO at the softirq level) */
        b->raised[c] = RAISED_SOFTIRQ;
        cpus_run(b->cpus, c, CPU_SOFTIRQ, 0, blkmq_list_taken, b, c);
    }
    cpus_run(b->cpus, c, CPU_SOFTIRQ, work, blkmq_done, b, (uint64_t)(uintptr_t)r);
}

static void blkmq_ipi_arrived(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    blkmq_run_softirq(ctx, (req_t *)(uintptr_t)arg);
}

/* blk_mq_complete_need_ipi(): QUEUE_FLAG_SAME_COMP (rq_affinity >= 1) sends
 * the completion to the submitting CPU unless it is this CPU or, without
 * QUEUE_FLAG_SAME_FORCE (rq_affinity 2), shares this CPU's cache. */
static bool blkmq_need_ipi(const blkmq_t *b, uint32_t here, uint32_t submitter)
{
    if (b->rq_affinity == 0 || here == submitter)
        return false;
    return b->rq_affinity == 2 || !host_share_cache(b->host, here, submitter);
}

void blkmq_complete(blkmq_t *b, req_t *r)
{
    uint32_t v = (uint32_t)r->irq_cpu, s = (uint32_t)r->blk_cpu;
    uint64_t arg = (uint64_t)(uintptr_t)r;
    /* blk_mq_complete_request_remote(), in its order */
    if (b->hctx[r->hwq].nr_ctx == 1 && s == v) {
        r->completion_cpu = (int16_t)v;
    } else if (blkmq_need_ipi(b, v, s)) {
        r->completion_cpu = (int16_t)s;
        /* the IPI costs both CPUs; ipi_ns is its delivery, the receiver's handler included */
        sim_time_t ipi = (sim_time_t)costs_req(b->costs, COST_IPI, r),
                   recv = (sim_time_t)costs_req(b->costs, COST_IPI_RECV, r);
        cpus_ipi(b->cpus, v, s, (sim_time_t)costs_req(b->costs, COST_IPI_SEND, r),
                 ipi > recv ? ipi - recv : 0, recv, blkmq_ipi_arrived, b, arg);
        return;
    } else if (b->nhw == 1) {
        r->completion_cpu = (int16_t)v;
        blkmq_run_softirq(b, r);
        return;
    }
    /* ->complete() inline: in the hard-IRQ handler (nvme_irq -> nvme_pci_complete_rq) */
    r->completion_cpu = (int16_t)v;
    cpus_run(b->cpus, v, CPU_HARDIRQ, (sim_time_t)costs_req(b->costs, COST_BLK_COMPLETE, r),
             blkmq_done, b, arg);
}

void blkmq_complete_polled(blkmq_t *b, req_t *r, cpu_thread_t *poller)
{
    uint32_t cpu = cpus_thread_cpu(poller);
    r->irq_cpu = (int16_t)cpu;
    r->completion_cpu = (int16_t)cpu;
    r->t[T_IRQ] = sim_now(b->sim);
    cpus_thread_run(poller, (sim_time_t)costs_req(b->costs, COST_BLK_COMPLETE, r),
                    blkmq_done, b, (uint64_t)(uintptr_t)r);
}
