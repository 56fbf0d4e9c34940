/*
 * vmfreeze.h - the VM's host stopping the whole VM: CPU bandwidth control of
 * the VM on its host (a CFS quota: in every period the vCPU threads and the
 * VMM's I/O work together may use quota_cpus x period_ns of host CPU; once
 * that is used, every vCPU stops until the period ends). Measured on the
 * development VM (docs/models.md, "The VM freezes"): the freezes end on a
 * 100.0 ms grid, one per period, and their length grows with the I/O rate,
 * only while every vCPU is busy as the host sees it.
 *
 * The host's use in a period: every CPU's host time (cpus_host_ns: the CPU
 * time it ran plus its idle stretches shorter than the halt-poll window,
 * which the host spends polling) plus the VMM's emulation of the device, on
 * the host's CPUs inside the same quota: for the requests the devices
 * complete at rate r over the period so far, io_max_cpus x (1 - exp(-r x per_read_ns / io_max_cpus))
 * CPUs: per_read_ns each at low rates, saturating at io_max_cpus (an I/O
 * thread that batches more per wake-up the busier it is; measured: the
 * share frozen grows ever less with the rate). io_max_cpus 0: per_read_ns
 * each at every rate. It is checked every
 * VMFREEZE_CHECK_NS; once it reaches the quota, every CPU freezes
 * (cpus_freeze: no task, IRQ, softirq or timer work runs; the device keeps
 * working and its interrupts wait) until the period ends. The grid's phase
 * against the run is drawn (uniform over one period) from the run's own
 * substream "host.vm_freeze", so no other draw moves and a seed gives one
 * timeline.
 *
 * The module owns its configuration copy, its timers and its counts; the
 * caller (models/path.c) tells it the requests the devices completed so far
 * (vmfreeze_io_fn). The VMM's cost is per request, not per interrupt: the
 * model's interrupts per read at depth are not the device's (docs/models.md),
 * and calibrate's runs cannot separate the two.
 */
#ifndef LATSURF_VMFREEZE_H
#define LATSURF_VMFREEZE_H

#include "models/cpu.h"
#include "sim/sim.h"

#include <stdbool.h>
#include <stdint.h>

#define VMFREEZE_CHECK_NS 100000ull /* how often the quota is checked: 0.1 ms */

typedef struct {
    double period_ns;   /* the bandwidth period (cpu.cfs_period_us) */
    double quota_cpus;  /* quota per period, in CPUs (cpu.cfs_quota_us / period) */
    double per_read_ns; /* host CPU per completed request, at low rates */
    double poll_ns;     /* the halt-poll window: shorter idle stretches are host time */
    double io_max_cpus; /* where the requests' host CPU saturates (0: never) */
} vmfreeze_cfg_t;

/* The process can freeze: a period, a quota and an I/O cost. */
bool vmfreeze_cfg_on(const vmfreeze_cfg_t *cfg);

typedef struct vmfreeze vmfreeze_t;

/* The requests the devices completed since the run began. */
typedef uint64_t (*vmfreeze_io_fn)(void *ctx);

/* Drive cpus' freezes from cfg (vmfreeze_cfg_on must hold), reading the
 * I/O counts from io(ctx); sets the halt-poll window on cpus. NULL on ENOMEM. */
vmfreeze_t *vmfreeze_new(sim_t *sim, cpus_t *cpus, uint32_t ncpus, const vmfreeze_cfg_t *cfg,
                         vmfreeze_io_fn io, void *ctx, uint64_t seed, uint32_t rep);
void vmfreeze_free(vmfreeze_t *v);

/* Freezes begun, and the time frozen (a freeze in progress counts to now). */
uint32_t vmfreeze_count(const vmfreeze_t *v);
double vmfreeze_frozen_ns(const vmfreeze_t *v);
/* The phase of the period grid: boundaries at phase + k x period_ns. */
sim_time_t vmfreeze_phase(const vmfreeze_t *v);

#endif
