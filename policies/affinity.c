/*
 * affinity.c - kernel, consumer, submitter and numa completion affinity.
 */
#include "affinity.h"

#include <stddef.h>

/* The CPU the application thread of this request runs on. */
static uint32_t home_cpu(const pol_view_t *v, const pol_intent_t *in)
{
    if (in->consumer_cpu >= 0 && (uint32_t)in->consumer_cpu < v->ncpus)
        return (uint32_t)in->consumer_cpu;
    return in->flow % v->ncpus;
}

/* kernel: whatever the vector map gives; rq_affinity decides completion. */
static void aff_kernel(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    uint32_t cpu = home_cpu(v, in);
    o->submit_cpu = o->consumer_cpu = cpu;
    o->hwq = v->cpu_queue[cpu];
    o->completion_cpu = -1;
}

/* consumer: the completion lands on the consumer's CPU. Prefer a queue
 * whose vector fires there; if none does, move the consumer to where the
 * completion of its own queue lands. */
static void aff_consumer(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    uint32_t cpu = home_cpu(v, in);
    for (uint32_t q = 0; q < v->nqueues; q++)
        if (v->queue_irq_cpu[q] == cpu) {
            o->submit_cpu = o->consumer_cpu = cpu;
            o->hwq = q;
            o->completion_cpu = (int32_t)cpu;
            return;
        }
    uint32_t q = v->cpu_queue[cpu];
    uint32_t irq = v->queue_irq_cpu[q];
    o->submit_cpu = o->consumer_cpu = irq;
    o->hwq = q; /* the queue known to fire on irq (the irq CPU's own may not) */
    o->completion_cpu = (int32_t)irq;
}

/* submitter: force completion onto the submitting CPU (rq_affinity=2). */
static void aff_submitter(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    aff_kernel(v, in, o);
    o->completion_cpu = (int32_t)o->submit_cpu;
}

/* numa: keep submission, interrupt and completion on the consumer's node. */
static void aff_numa(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    aff_kernel(v, in, o);
    uint32_t node = v->cpu_node[o->consumer_cpu];
    if (v->cpu_node[v->queue_irq_cpu[o->hwq]] == node)
        return;
    for (uint32_t q = 0; q < v->nqueues; q++)
        if (v->cpu_node[v->queue_irq_cpu[q]] == node) {
            o->hwq = q;
            return;
        }
    o->completion_cpu = (int32_t)o->submit_cpu; /* no local vector: complete locally */
}

static const pol_affinity_ops_t pol_affinity_table[] = {
    {POL_AFF_KERNEL, aff_kernel},
    {POL_AFF_CONSUMER, aff_consumer},
    {POL_AFF_SUBMITTER, aff_submitter},
    {POL_AFF_NUMA, aff_numa},
};

const pol_affinity_ops_t *pol_affinity_ops(pol_affinity_t id)
{
    for (size_t i = 0; i < sizeof(pol_affinity_table) / sizeof(pol_affinity_table[0]); i++)
        if (pol_affinity_table[i].id == id)
            return &pol_affinity_table[i];
    return &pol_affinity_table[0];
}
