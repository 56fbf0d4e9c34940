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

/* The vector of the queue that CPU c submits to fires on c itself. */
static int irq_here(const pol_view_t *v, uint32_t c)
{
    return v->queue_irq_cpu[v->cpu_queue[c]] == c;
}

static void run_on(pol_placement_t *o, uint32_t cpu) { o->submit_cpu = o->consumer_cpu = cpu; }

/* kernel: the thread stays where it is; blk-mq and rq_affinity decide. */
static void aff_kernel(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    run_on(o, home_cpu(v, in));
}

/* consumer: the completion lands on the consumer's CPU because the thread
 * runs where its own queue's vector fires (sched_setaffinity): stay if it
 * does already, else move to its queue's interrupt CPU, else to the nearest
 * CPU (same node first) that is the interrupt CPU of the queue it maps to. */
static void aff_consumer(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    uint32_t cpu = home_cpu(v, in);
    run_on(o, cpu);
    if (irq_here(v, cpu))
        return;
    uint32_t irq = v->queue_irq_cpu[v->cpu_queue[cpu]];
    if (irq_here(v, irq)) {
        run_on(o, irq);
        return;
    }
    for (int same = 1; same >= 0; same--)
        for (uint32_t d = 1; d < v->ncpus; d++)
            for (int sign = -1; sign <= 1; sign += 2) {
                int64_t c = (int64_t)cpu + sign * (int64_t)d;
                if (c < 0 || c >= (int64_t)v->ncpus)
                    continue;
                if ((v->cpu_node[c] == v->cpu_node[cpu]) == same && irq_here(v, (uint32_t)c)) {
                    run_on(o, (uint32_t)c);
                    return;
                }
            }
}

/* submitter: as kernel; the queue's rq_affinity is 2 (QUEUE_FLAG_SAME_FORCE). */
static void aff_submitter(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    aff_kernel(v, in, o);
}

static void setup_none(pol_setup_t *s) { (void)s; }
static void setup_force(pol_setup_t *s) { s->rq_affinity = 2; }

/* numa: keep the interrupt on the consumer's node. If the vector of the
 * thread's queue is on another node, move the thread to the first CPU of
 * its node whose queue's vector is on that node; if there is none, stay:
 * rq_affinity 1 then completes on the submitter (no shared cache). */
static void aff_numa(const pol_view_t *v, const pol_intent_t *in, pol_placement_t *o)
{
    uint32_t cpu = home_cpu(v, in), node = v->cpu_node[cpu];
    run_on(o, cpu);
    if (v->cpu_node[v->queue_irq_cpu[v->cpu_queue[cpu]]] == node)
        return;
    for (uint32_t c = 0; c < v->ncpus; c++)
        if (v->cpu_node[c] == node && v->cpu_node[v->queue_irq_cpu[v->cpu_queue[c]]] == node) {
            run_on(o, c);
            return;
        }
}

static const pol_affinity_ops_t pol_affinity_table[] = {
    {POL_AFF_KERNEL, aff_kernel, setup_none},
    {POL_AFF_CONSUMER, aff_consumer, setup_none},
    {POL_AFF_SUBMITTER, aff_submitter, setup_force},
    {POL_AFF_NUMA, aff_numa, setup_none},
};

const pol_affinity_ops_t *pol_affinity_ops(pol_affinity_t id)
{
    for (size_t i = 0; i < sizeof(pol_affinity_table) / sizeof(pol_affinity_table[0]); i++)
        if (pol_affinity_table[i].id == id)
            return &pol_affinity_table[i];
    return &pol_affinity_table[0];
}
