/*
 * cpu.h - the host CPUs as pre-emptive servers with four levels: hard IRQ,
 * softirq, kernel threads (task_work, ksoftirqd, SQPOLL) and user threads.
 *
 * Work at a higher level pre-empts lower-level work on the same CPU (a hard
 * IRQ interrupts whatever runs); within a level work is FIFO and not
 * pre-empted. A CPU that sat idle longer than the deep-idle threshold first
 * pays the C-state exit cost. The module owns per-CPU busy time by level,
 * from which the path reports cpu_ns_per_io.
 */
#ifndef LATSURF_CPU_H
#define LATSURF_CPU_H

#include "sim/sim.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { CPU_HARDIRQ, CPU_SOFTIRQ, CPU_KTHREAD, CPU_USER, CPU_NLEVELS } cpu_level_t;

typedef struct cpus cpus_t;

/* idle_exit_ns is paid by work arriving at a CPU idle >= idle_deep_ns. */
cpus_t *cpus_new(sim_t *sim, uint32_t n, sim_time_t idle_exit_ns, sim_time_t idle_deep_ns);
void cpus_free(cpus_t *c);

/* Run `work` ns of CPU time at `lvl` on `cpu`; fn(sim, ctx, arg) when done.
 * 0, or -ENOMEM with the run's sticky error set (sim_fail). */
int cpus_run(cpus_t *c, uint32_t cpu, cpu_level_t lvl, sim_time_t work, sim_handler_fn fn,
             void *ctx, uint64_t arg);

bool cpus_idle(const cpus_t *c, uint32_t cpu);
uint32_t cpus_queued(const cpus_t *c, uint32_t cpu, cpu_level_t lvl); /* incl. running */
/* CPU time spent at a level since creation or the last reset, summed over CPUs
 * when cpu == UINT32_MAX. */
double cpus_busy_ns(const cpus_t *c, uint32_t cpu, cpu_level_t lvl);
void cpus_reset_stats(cpus_t *c);
uint32_t cpus_count(const cpus_t *c);

#endif
