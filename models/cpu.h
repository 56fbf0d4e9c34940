/*
 * cpu.h - the host CPUs: two pre-emptive levels of kernel work (hard IRQ,
 * softirq on interrupt exit) above the fair class, whose threads share each
 * CPU as the kernel a scenario names schedules SCHED_NORMAL tasks. What
 * runs as a thread in Linux (ksoftirqd, the SQPOLL thread, kworkers) is a
 * fair thread here, in kernel mode.
 *
 * Kernel levels: work at a higher level pre-empts lower-level work on the
 * same CPU (a hard IRQ interrupts whatever runs); within a level work is
 * FIFO and not pre-empted. Fair threads run only when no kernel-level work
 * is queued.
 *
 * Fair class (kernel/sched/fair.c): each thread has a weight (nice 0 =
 * 1024, sched_prio_to_weight), a queue of work (jobs: CPU time, then a
 * callback) and may spin (runnable with no work: a polling loop). A thread
 * with work or spin is runnable; runnable threads on one CPU share it by
 * weight.
 *   - EEVDF (6.6 and later): vruntime, virtual deadline vruntime +
 *     base_slice x 1024 / weight, eligibility (vruntime <= the weighted
 *     average V), lag kept over sleep and restored on wake-up (PLACE_LAG),
 *     RUN_TO_PARITY slice protection, delayed dequeue of an ineligible
 *     sleeper (DELAY_DEQUEUE, DELAY_ZERO; 6.12 and later). A waking thread
 *     pre-empts the running one when pick_eevdf then picks it.
 *   - CFS (before 6.6): vruntime, sleeper placement at min_vruntime -
 *     latency/2 (GENTLE_FAIR_SLEEPERS), wake-up pre-emption when the running
 *     thread's vruntime leads by more than wakeup_granularity, slices
 *     (sched_slice) checked at the tick (check_preempt_tick).
 * Slice expiry is noticed at the tick (every 1/HZ, on a CPU with more than
 * one queued thread) or exactly with HRTICK. A thread's work is kernel
 * mode unless it is marked user (a CPU hog): under preemption model none
 * or voluntary a reschedule waits for the running kernel job to end; user
 * work and spinning are pre-empted at once, in every model (a return to
 * user space from the interrupt).
 *
 * Not modelled: load balancing (threads move only when told), buddies,
 * group scheduling, PELT. A CPU that sat idle longer than the deep-idle
 * threshold first pays the C-state exit cost. The module owns per-CPU busy
 * time by level (fair threads count as CPU_USER, spinning included) and
 * per-thread CPU time, and the host's view of a vCPU (run time plus idle
 * stretches shorter than a halt-poll window) with a switch that freezes
 * every CPU at once (models/vmfreeze.h drives it).
 */
#ifndef LATSURF_CPU_H
#define LATSURF_CPU_H

#include "sim/sim.h"

#include <stdbool.h>
#include <stdint.h>

/* Kernel threads (ksoftirqd, the SQPOLL thread, kworkers) are fair
 * threads, as in Linux: no level of their own. */
typedef enum { CPU_HARDIRQ, CPU_SOFTIRQ, CPU_USER, CPU_NLEVELS } cpu_level_t;

typedef enum { CPU_FAIR_EEVDF, CPU_FAIR_CFS } cpu_fair_t;
typedef enum { CPU_PREEMPT_NONE, CPU_PREEMPT_VOLUNTARY, CPU_PREEMPT_FULL, CPU_NPREEMPT } cpu_preempt_t;
extern const char *const cpu_preempt_names[]; /* "none", "voluntary", "full", NULL */

/* The fair class's rules and tunables, as the kernel derives them. */
typedef struct {
    cpu_fair_t fair;
    sim_time_t base_slice;   /* EEVDF sysctl_sched_base_slice, scaled */
    sim_time_t latency;      /* CFS sysctl_sched_latency, scaled */
    sim_time_t min_gran;     /* CFS sysctl_sched_min_granularity, scaled */
    sim_time_t wakeup_gran;  /* CFS sysctl_sched_wakeup_granularity, scaled */
    bool delay_dequeue;      /* EEVDF DELAY_DEQUEUE + DELAY_ZERO (6.12+) */
    sim_time_t tick;         /* 1 s / HZ */
    cpu_preempt_t preempt;
    bool hrtick;             /* sched feature HRTICK: slice ends exactly */
} cpu_sched_t;

/* The defaults of kernel `version` (major * 100 + minor: 618 = 6.18) on
 * ncpus online CPUs: the tunables times 1 + ilog2(min(ncpus, 8))
 * (SCHED_TUNABLESCALING_LOG). */
void cpu_sched_defaults(cpu_sched_t *s, uint32_t version, uint32_t ncpus, uint32_t hz,
                        cpu_preempt_t preempt, bool hrtick);

/* sched_prio_to_weight[nice + 20] (kernel/sched/core.c); nice in [-20, 19]. */
uint32_t cpu_nice_weight(int nice);

typedef struct cpus cpus_t;
typedef struct cpu_thread cpu_thread_t;

/* idle_exit_ns is paid by work arriving at a CPU idle >= idle_deep_ns.
 * sched NULL: 6.18, HZ 250, preemption none. */
cpus_t *cpus_new(sim_t *sim, uint32_t n, sim_time_t idle_exit_ns, sim_time_t idle_deep_ns,
                 const cpu_sched_t *sched);
void cpus_free(cpus_t *c);

/* Run `work` ns of CPU time at `lvl` on `cpu`; fn(sim, ctx, arg) when done.
 * CPU_USER work runs as the CPU's own fair thread (one per CPU, created on
 * first use). 0, or -ENOMEM with the run's sticky error set (sim_fail). */
int cpus_run(cpus_t *c, uint32_t cpu, cpu_level_t lvl, sim_time_t work, sim_handler_fn fn,
             void *ctx, uint64_t arg);
/* cpus_run for kernel work whose arrival has already paid the CPU's exit
 * from idle: a device interrupt whose calibrated device time ends at
 * irq_handler_entry, after the interrupted CPU woke (models/irq.h). */
int cpus_run_woken(cpus_t *c, uint32_t cpu, cpu_level_t lvl, sim_time_t work, sim_handler_fn fn,
                   void *ctx, uint64_t arg);

/* An IPI from `from` to `to`: `send` ns of hard-IRQ time on the sender,
 * `flight` ns later `recv` ns of hard-IRQ time on the receiver, then fn. */
int cpus_ipi(cpus_t *c, uint32_t from, uint32_t to, sim_time_t send, sim_time_t flight,
             sim_time_t recv, sim_handler_fn fn, void *ctx, uint64_t arg);

/* --- fair threads --- */

/* A sleeping thread on `cpu`. NULL on ENOMEM. Owned by c. */
cpu_thread_t *cpus_thread_new(cpus_t *c, uint32_t cpu, int nice);
/* Its work runs in user mode (pre-emptible at once in every model). */
void cpus_thread_set_user(cpu_thread_t *t, bool user);
/* It reads its own CPU-time clock while it runs (a benchmark's hog that
 * counts its busy time with CLOCK_THREAD_CPUTIME_ID): each read runs the
 * fair class's update_curr, so under EEVDF the end of its slice is seen at
 * once instead of at the next tick. */
void cpus_thread_set_clock_reader(cpu_thread_t *t, bool on);
/* Queue `work` ns on the thread, fn when it has run; wakes the thread. */
int cpus_thread_run(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx, uint64_t arg);
/* The same, for work in user mode (an application's own computing between
 * its system calls): pre-emptible at once while it runs, in every model. */
int cpus_thread_run_user(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx,
                         uint64_t arg);
/* The same, ahead of the thread's queued work, interrupting the job it runs
 * (which keeps its remaining time): task_work that a signalling IPI
 * (TWA_SIGNAL) makes the thread run on its way back to user space. */
int cpus_thread_run_first(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx,
                          uint64_t arg);
/* The CPU's ksoftirqd: a fair kernel thread (nice 0), created on first use.
 * NULL on ENOMEM, with the run's sticky error set. */
cpu_thread_t *cpus_ksoftirqd(cpus_t *c, uint32_t cpu);
/* Spin (poll) while on > 0 calls outnumber off ones: runnable without work. */
void cpus_thread_spin(cpu_thread_t *t, bool on);
/* Hold the thread asleep (an hrtimer sleep) until `until`; work queued in
 * the meantime waits. Then it wakes like any sleeper. */
void cpus_thread_sleep_until(cpu_thread_t *t, sim_time_t until);
/* Move the thread to `cpu` (it keeps its queued work and its lag). */
void cpus_thread_move(cpu_thread_t *t, uint32_t cpu);
uint32_t cpus_thread_cpu(const cpu_thread_t *t);
/* Has work queued, spins, or is held asleep with work waiting. */
bool cpus_thread_busy(const cpu_thread_t *t);
bool cpus_thread_spinning(const cpu_thread_t *t);
bool cpus_thread_held(const cpu_thread_t *t);
/* CPU time the thread ran since creation or the last reset. */
double cpus_thread_ns(const cpu_thread_t *t);

/* Jobs queued at a kernel level incl. the running one; for CPU_USER, the
 * runnable fair threads. */
uint32_t cpus_queued(const cpus_t *c, uint32_t cpu, cpu_level_t lvl);
/* Nothing wants the CPU: no kernel work queued, no runnable thread (a
 * thread asleep is not on the run queue). */
bool cpus_idle(const cpus_t *c, uint32_t cpu);
/* CPU time spent at a level since creation or the last reset, summed over CPUs
 * when cpu == UINT32_MAX. */
double cpus_busy_ns(const cpus_t *c, uint32_t cpu, cpu_level_t lvl);
void cpus_reset_stats(cpus_t *c);

/* --- what the VM's host sees (models/vmfreeze.h) --- */

/* Idle stretches shorter than poll_ns count as host time (a hypervisor's
 * halt polling keeps a vCPU that wakes that soon running); 0 (default):
 * none. */
void cpus_set_halt_poll(cpus_t *c, sim_time_t poll_ns);
/* The CPU's time as its host sees it since creation, never reset: CPU time
 * run at every level plus the idle stretches shorter than poll_ns (counted
 * when they end). */
double cpus_host_ns(const cpus_t *c, uint32_t cpu);
/* Freeze (on) or thaw every CPU at once: while frozen nothing runs (no
 * task, IRQ or softirq; what ran keeps its place and its remaining time),
 * work keeps arriving in the queues, and it all starts at the thaw. Ticks
 * and timers still fire: what they make runnable waits. */
void cpus_freeze(cpus_t *c, bool on);
bool cpus_frozen(const cpus_t *c);

#endif
