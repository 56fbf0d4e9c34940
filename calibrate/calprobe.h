/*
 * calprobe.h - the host micro-measurements behind `latsurf calibrate`:
 * io_uring submit/wait/poll costs, QD1 O_DIRECT I/O with per-request user
 * timestamps, futex wakeups between pinned threads, memory copy, buffer
 * registration and mlock, and the device's interrupt counts.
 *
 * Every probe appends samples (ns, CLOCK_MONOTONIC) to caller-owned
 * calstat vectors, pins itself where it says so and restores the caller's
 * affinity, and returns 0, -EINTR when *stop became set, or a negative
 * errno. Nothing here knows about JSON or tracefs.
 */
#ifndef LATSURF_CALPROBE_H
#define LATSURF_CALPROBE_H

#include "calibrate/calstat.h"

#include <sched.h> /* cpu_set_t: its includers define _GNU_SOURCE */
#include <signal.h>
#include <stdint.h>

typedef const volatile sig_atomic_t calprobe_stop_t;

uint64_t calprobe_now_ns(void); /* CLOCK_MONOTONIC */

/* One QD1 I/O as user space saw it. user_data = index + 1. */
typedef struct {
    uint64_t t_submit, t_done;
} calprobe_io_t;

/* n QD1 4 KiB random O_DIRECT reads (or writes) of fd's first nblocks
 * 4 KiB blocks, from a thread pinned to cpu. io[n] is filled. */
int calprobe_qd1(int fd, uint64_t nblocks, int cpu, int write, size_t n, uint64_t seed,
                 calprobe_io_t *io, calprobe_stop_t *stop);
/* The same with requests of `bytes` (a multiple of 4 KiB) at offsets
 * aligned to their size; -EINVAL for another size. */
int calprobe_qd1_bytes(int fd, uint64_t nblocks, int cpu, int write, unsigned bytes, size_t n,
                       uint64_t seed, calprobe_io_t *io, calprobe_stop_t *stop);

/* io_uring_submit() time for batches of 1..32 reads: x = batch size,
 * y = ns per call. reps calls per size. */
int calprobe_submit_batches(int fd, uint64_t nblocks, int cpu, int reps, calstat_vec_t *x,
                            calstat_vec_t *y, calprobe_stop_t *stop);

/* io_uring_submit() of one 4 KiB read with `outstanding` other reads in
 * flight (kept there: each completion is replaced), n samples of the time
 * the call holds its caller, ns. A doorbell the device asked for shows as
 * a long hold (models/costs.h, doorbell_ns). */
int calprobe_submit_hold(int fd, uint64_t nblocks, int cpu, int outstanding, size_t n,
                         calstat_vec_t *out, calprobe_stop_t *stop);

/* io_uring_enter(GETEVENTS, min_complete 1) when the CQE is already there. */
int calprobe_uring_wait(int cpu, int reps, calstat_vec_t *out, calprobe_stop_t *stop);

/* One io_uring_peek_cqe() on an empty ring: batches of 10000, ns per call. */
int calprobe_poll(int cpu, int batches, calstat_vec_t *out, calprobe_stop_t *stop);

/* Futex ping-pong between a thread on cpu_a and one on cpu_b (cpu_a ==
 * cpu_b for the same-CPU case): to_b / to_a get the latency from the waker's
 * futex_wake to the woken thread running, only for rounds where the woken
 * thread had really slept; wake_call (NULL: not kept) the duration of the
 * waker's FUTEX_WAKE call itself where it woke a sleeper (both directions):
 * with the sleeper's CPU idle, the cross-CPU call pays the IPI that wakes
 * it (on a VM, kicking a halted vCPU). */
int calprobe_pingpong(int cpu_a, int cpu_b, size_t rounds, calstat_vec_t *to_b,
                      calstat_vec_t *to_a, calstat_vec_t *wake_call, calprobe_stop_t *stop);

/* n FUTEX_WAKE calls on a word nobody waits on, from a thread pinned to
 * cpu: the call's own cost, the base under calprobe_pingpong's wake_call. */
int calprobe_wake_nobody(int cpu, size_t n, calstat_vec_t *out);

/* calprobe_qd1's reads (from a thread pinned to cpu) while another thread
 * spins in user space on spin_cpu: with spin_cpu the interrupt's CPU, what
 * a running interrupt CPU adds to a read. */
int calprobe_qd1_beside_spinner(int fd, uint64_t nblocks, int cpu, int spin_cpu, size_t n,
                                uint64_t seed, calprobe_io_t *io, calprobe_stop_t *stop);

/* The reschedule IPI that notifies a task running on another CPU
 * (kick_process: what io_uring's TWA_SIGNAL task_work does to a consumer
 * that is not asleep). A thread spins in user space on cpu_to; a thread on
 * cpu_from sends it n signals with tgkill (signal_wake_up -> kick_process)
 * and waits for its handler each time: send gets the tgkill call's
 * duration, deliver the time from before the call to the handler running
 * on cpu_to, lost the longest gap in the target's loop meanwhile (the
 * receive and the handler: CPU time the target lost). base gets n calls
 * with the signal blocked in the target (it stays pending: no wake-up, no
 * IPI): the syscall without the IPI. */
int calprobe_kick(int cpu_from, int cpu_to, size_t n, calstat_vec_t *send,
                  calstat_vec_t *deliver, calstat_vec_t *lost, calstat_vec_t *base,
                  calprobe_stop_t *stop);

/* The calling thread pinned to one CPU, and its affinity before. */
typedef struct {
    cpu_set_t old;
    int pinned;
} calprobe_pin_t;
/* Pin the calling thread to cpu (cpu < 0: leave it); 0 or -errno. */
int calprobe_pin(int cpu, calprobe_pin_t *p);
/* Restore the affinity calprobe_pin found. */
void calprobe_unpin(calprobe_pin_t *p);

/* hrtimer sleeps of sleep_ns (clock_nanosleep, timer slack 1 ns as for an
 * in-kernel hrtimer sleeper) from a thread pinned to cpu: actual - asked
 * into out; with cpu_out, also the thread's own CPU time of each sleep
 * (CLOCK_THREAD_CPUTIME_ID around the call: arming the timer, going to
 * sleep, the switch back in and the return). */
int calprobe_timer(int cpu, uint64_t sleep_ns, size_t n, calstat_vec_t *out,
                   calstat_vec_t *cpu_out, calprobe_stop_t *stop);

/* Context switch on one CPU: futex round trips / 2, in batches of 100. */
int calprobe_ctxswitch(int cpu, size_t batches, calstat_vec_t *out, calprobe_stop_t *stop);

/* memcpy of sizes_kib[i] KiB between buffers on NUMA node `node` (-1 = no
 * libnuma placement) from a thread on cpu: x = KiB, y = ns. */
int calprobe_memcopy(int cpu, int node, const unsigned *sizes_kib, size_t nsizes, int reps,
                     calstat_vec_t *x, calstat_vec_t *y, calprobe_stop_t *stop);

/* The largest of sizes_kib[], in bytes: the buffer a size-sweep probe needs. */
size_t calprobe_largest_bytes(const unsigned *sizes_kib, size_t nsizes);

/* io_uring_register_buffers (one iovec) and mlock of pre-touched memory:
 * x = KiB, y = ns; dereg = io_uring_unregister_buffers ns. */
int calprobe_register(const unsigned *sizes_kib, size_t nsizes, int reps, calstat_vec_t *rx,
                      calstat_vec_t *ry, calstat_vec_t *mx, calstat_vec_t *my,
                      calstat_vec_t *dereg, calprobe_stop_t *stop);

/* Interrupt counts per CPU, summed over the /proc/interrupts rows whose
 * name starts with prefix (e.g. "virtio1", "nvme0"). counts[ncpu]; returns
 * the number of rows matched, or -errno. */
int calprobe_irq_counts(const char *prefix, uint64_t *counts, int ncpu);

#endif
