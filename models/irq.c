/*
 * irq.c - see irq.h. NVMe has no per-command way to skip coalescing: a host
 * gets uncoalesced completions by steering them to queues whose vectors have
 * Coalescing Disable set. Only under what_if.coalescing_bypass does a CQE
 * that does not allow coalescing (r->coalesce == 0) fire its vector at once.
 */
#include "irq.h"

#include <stdlib.h>

typedef struct {
    req_fifo_t held;
    sim_timer_t timer;
    /* The vector's handler is queued or running (busy), and the vector was
     * raised again meanwhile (pending: the local APIC's IRR bit, one per
     * vector, so any number of messages while in service collapse into one
     * more handler run). */
    bool busy, pending;
    bool pending_coalesced; /* ... by coalescing (its CQEs were held back) */
} irq_cq_t;

struct irq {
    sim_t *sim;
    cpus_t *cpus;
    const costs_t *costs;
    irq_deliver_fn deliver;
    void *ctx;
    uint32_t nq;
    uint32_t *cpu;     /* vector -> CPU */
    irq_cq_t *cq;
    sim_time_t agg_time;
    uint32_t threshold;
    uint8_t *cd;       /* [nq] Coalescing Disable, or NULL */
    bool bypass;       /* what_if.coalescing_bypass */
    bool woken;        /* the device's time holds the vector CPU's wake-up (irq_set_woken) */
    uint64_t count;
};

uint32_t irq_spread_cpu(uint32_t q, uint32_t nqueues, uint32_t ncpus)
{
    return (uint32_t)((uint64_t)q * ncpus / nqueues);
}

irq_t *irq_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const ssd_cfg_t *dev,
               uint32_t ncpus, irq_deliver_fn deliver, void *ctx)
{
    irq_t *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->nq = dev->queues;
    q->cpu = calloc(q->nq, sizeof(*q->cpu));
    q->cq = calloc(q->nq, sizeof(*q->cq));
    if (!q->cpu || !q->cq) {
        irq_free(q);
        return NULL;
    }
    /* each queue set is spread over all CPUs (irq_create_affinity_masks) */
    uint32_t ndef = dev->queues - dev->read_queues;
    for (uint32_t i = 0; i < q->nq; i++)
        q->cpu[i] = dev->irq_cpus ? (uint32_t)dev->irq_cpus[i]
                    : i < ndef    ? irq_spread_cpu(i, ndef, ncpus)
                                  : irq_spread_cpu(i - ndef, dev->read_queues, ncpus);
    q->sim = sim;
    q->cpus = cpus;
    q->costs = costs;
    q->deliver = deliver;
    q->ctx = ctx;
    q->agg_time = (sim_time_t)(dev->coalesce_time_us * 1000.0);
    q->threshold = dev->coalesce_threshold;
    q->cd = dev->coalesce_off;
    q->bypass = dev->what_if.coalescing_bypass;
    return q;
}

void irq_free(irq_t *q)
{
    if (!q)
        return;
    free(q->cpu);
    free(q->cq);
    free(q);
}

const uint32_t *irq_vector_map(const irq_t *q) { return q->cpu; }
void irq_set_woken(irq_t *q) { q->woken = true; }
uint64_t irq_count(const irq_t *q) { return q->count; }

static void irq_fire(irq_t *q, uint32_t i, bool coalesced);

static void irq_handler_done(sim_t *sim, void *ctx, uint64_t arg)
{
    irq_t *q = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    irq_cq_t *cq = &q->cq[r->hwq]; /* read before delivery: r may be reused after */
    uint32_t i = r->hwq;
    while (r) {
        req_t *next = r->next;
        r->next = NULL;
        r->t[T_IRQ] = sim_now(sim);
        q->deliver(q->ctx, r);
        r = next;
    }
    cq->busy = false;
    /* the vector was raised while in service: one more handler reaps every
     * CQE posted meanwhile (a + b x CQEs once, not a per CQE) */
    if (cq->pending) {
        bool coalesced = cq->pending_coalesced;
        cq->pending = cq->pending_coalesced = false;
        if (cq->held.n)
            irq_fire(q, i, coalesced);
    }
}

/* Raise vector i. While its handler is queued or running the message only
 * sets the vector's pending bit: the handler loops over the queue until it
 * is empty (virtblk_done: virtqueue_get_buf until virtqueue_enable_cb holds;
 * nvme_irq -> nvme_poll_cq), and an MSI for a vector in service is held in
 * the local APIC's IRR (one bit per vector) until the handler's EOI, so CQEs
 * posted during a handler are reaped by one later run, together. */
static void irq_raise(irq_t *q, uint32_t i, bool coalesced)
{
    irq_cq_t *cq = &q->cq[i];
    if (cq->busy) {
        sim_cancel(q->sim, cq->timer);
        cq->pending = true;
        cq->pending_coalesced |= coalesced;
        return;
    }
    irq_fire(q, i, coalesced);
}

/* coalesced: coalescing applied, so a CQE posted before now was held back
 * by it (deferred); a CQE that waited only for a busy handler was not. */
static void irq_fire(irq_t *q, uint32_t i, bool coalesced)
{
    irq_cq_t *cq = &q->cq[i];
    sim_cancel(q->sim, cq->timer);
    cq->busy = true;
    req_t *batch = req_fifo_take(&cq->held);
    q->count++;
    sim_time_t now = sim_now(q->sim);
    /* a + b x CQEs reaped: irq_handler_ns is the handler with one CQE (as
     * calibrated), drawn for the batch's first request; irq_per_cqe_ns each
     * further CQE, drawn for its own request (models/costs.h) */
    sim_time_t work = (sim_time_t)costs_req(q->costs, COST_IRQ_HANDLER, batch);
    for (req_t *r = batch; r; r = r->next) {
        r->irq_cpu = (int16_t)q->cpu[i];
        if (coalesced && now > r->t[T_DEVICE_DONE])
            r->deferred = 1; /* held back by coalescing */
        if (r != batch)
            work += (sim_time_t)costs_req(q->costs, COST_IRQ_PER_CQE, r);
    }
    (q->woken ? cpus_run_woken : cpus_run)(q->cpus, q->cpu[i], CPU_HARDIRQ, work, irq_handler_done,
                                           q, (uint64_t)(uintptr_t)batch);
}

static void irq_timer(sim_t *sim, void *ctx, uint64_t i)
{
    (void)sim;
    irq_t *q = ctx;
    if (q->cq[i].held.n)
        irq_raise(q, (uint32_t)i, true);
}

static void irq_cqe_now(irq_t *q, req_t *r);

static void irq_cqe_late(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    irq_cqe_now(ctx, (req_t *)(uintptr_t)arg);
}

void irq_cqe(irq_t *q, req_t *r, bool alone)
{
    /* irq_set_woken: the message reaches a running CPU irq_busy_ns later
     * (no coalescing: its timer would hold the message anyway) */
    if (alone && q->woken && q->agg_time == 0 && q->costs->c[COST_IRQ_BUSY].measured &&
        !cpus_idle(q->cpus, q->cpu[r->hwq])) {
        sim_time_t late = (sim_time_t)costs_req(q->costs, COST_IRQ_BUSY, r);
        if (late > 0) {
            sim_after(q->sim, late, irq_cqe_late, q, (uint64_t)(uintptr_t)r);
            return;
        }
    }
    irq_cqe_now(q, r);
}

static void irq_cqe_now(irq_t *q, req_t *r)
{
    irq_cq_t *cq = &q->cq[r->hwq];
    req_fifo_push(&cq->held, r);
    /* Feature 08h: TIME 0 means no delay, THR <= 1 means one entry per
     * interrupt; Feature 09h: CD exempts the vector */
    bool coalescing = q->agg_time > 0 && q->threshold > 1 && !(q->cd && q->cd[r->hwq]) &&
                      (r->coalesce || !q->bypass);
    if (!coalescing || cq->held.n >= q->threshold) {
        irq_raise(q, r->hwq, coalescing);
        return;
    }
    if (cq->held.n == 1)
        cq->timer = sim_after(q->sim, q->agg_time, irq_timer, q, r->hwq);
}
