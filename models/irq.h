/*
 * irq.h - MSI-X interrupt delivery for one device: one vector per
 * interrupt-driven completion queue (poll queues have none), a vector -> CPU
 * map (the managed spread of each queue set by default, or the scenario's
 * irq_cpus for vectors that are not managed), and NVMe interrupt coalescing:
 * aggregation time and threshold set device-wide (Feature 08h), applied per
 * vector, except on vectors whose Coalescing Disable bit is set (Feature
 * 09h). The hard IRQ handler runs on the vector's CPU at hard-IRQ level,
 * pre-empting whatever runs there, and reaps every CQE pending on its queue;
 * it costs irq_handler_ns with one CQE and irq_per_cqe_ns for each further
 * one (a + b x CQEs). A vector raised while its handler is queued or running
 * is only marked pending (the local APIC's IRR bit): one more handler run
 * after it reaps every CQE posted meanwhile.
 */
#ifndef LATSURF_IRQ_H
#define LATSURF_IRQ_H

#include "models/costs.h"
#include "models/cpu.h"
#include "models/req.h"
#include "models/ssd.h"

typedef struct irq irq_t;
/* Called once per reaped CQE after the handler ran: r->t[T_IRQ], r->irq_cpu set. */
typedef void (*irq_deliver_fn)(void *ctx, req_t *r);

irq_t *irq_new(sim_t *sim, cpus_t *cpus, const costs_t *costs, const ssd_cfg_t *dev,
               uint32_t ncpus, irq_deliver_fn deliver, void *ctx);
void irq_free(irq_t *q);

/* The device wrote r's CQE on completion queue r->hwq (an interrupt-driven
 * one). r->coalesce matters only under what_if.coalescing_bypass. alone: r
 * was the only request on its hardware queue (the QD1 condition under which
 * calibrate measured the device time and irq_busy_ns). */
void irq_cqe(irq_t *q, req_t *r, bool alone);

const uint32_t *irq_vector_map(const irq_t *q); /* [queues] -> CPU */
/* The device's calibrated time ends at irq_handler_entry (calibrate/calib.c):
 * the vector's CPU woke from idle inside it, so the handler does not pay
 * idle_exit_ns again (cpus_run_woken). */
void irq_set_woken(irq_t *q);
/* On such a device an interrupt for a request that was alone on its queue,
 * raised while the vector's CPU is not idle, reaches the handler irq_busy_ns
 * later (calibrated; 0 uncalibrated): the device time was measured with that
 * CPU idle, and this host (a VM) delivers to a running vCPU that much later,
 * while the work after irq_handler_entry is the same (traced: block_rq_issue
 * -> irq_handler_entry 34 us idle, 51-53 us beside a hog; irq_handler_entry
 * -> the waiter running 11 us in both). At depth the calibrated service
 * curve was fitted with the sweep's thread on the vector's CPU, so the delay
 * is inside it and not added again. No CPU time is charged for it. */
uint64_t irq_count(const irq_t *q);             /* interrupts raised */

/* The managed spread of a queue set: its queue q serves CPUs
 * [q*n/nq, (q+1)*n/nq) and its vector fires on the first of them. */
uint32_t irq_spread_cpu(uint32_t q, uint32_t nqueues, uint32_t ncpus);

#endif
