/*
 * calhog.h - wakeup-to-run latency of a thread woken on a CPU where a CPU
 * hog runs: the calibration step behind `wakeup_hogD_ns` (docs/calibration.md).
 *
 * Two threads pinned to one CPU: a hog that spins `busy_us` of its own CPU
 * time (counted with CLOCK_THREAD_CPUTIME_ID, as bench/hog.c) every
 * `period_us` and sleeps to the next period on an absolute hrtimer, and a
 * waiter that sleeps `sleep_us` on an hrtimer (timer slack 1 ns), spins
 * `run_us` of wall time, and again - a QD1 reader whose I/O is a timer.
 * A sample is the time from the timer's expiry (the asked wake time) to
 * the waiter running in user space: the hrtimer overshoot plus whatever the
 * fair class makes it wait behind the hog. Measures the kernel's wakeup
 * pre-emption, which the simulator's CPU model (models/cpu.c) predicts
 * from its EEVDF/CFS rules; bench/wake_model.c compares the two.
 */
#ifndef LATSURF_CALHOG_H
#define LATSURF_CALHOG_H

#include "calibrate/calprobe.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct {
    double period_us, busy_us; /* the hog */
    double sleep_us, run_us;   /* the waiter's cycle */
    double secs;               /* how long */
} calhog_cfg_t;

/* Samples (ns) into out; *cycles_per_s = the waiter's completed cycles per
 * second. 0, -EINTR when *stop became set, or a negative errno. */
int calhog_wakeup(int cpu, const calhog_cfg_t *cfg, calstat_vec_t *out, double *cycles_per_s,
                  calprobe_stop_t *stop);

/* The hog's loop, run by the calling thread until *stop is set: with 1 ns
 * timer slack, busy_ns of its own CPU time (CLOCK_THREAD_CPUTIME_ID) every
 * period_ns, a period starting every period_ns from the call; when its work
 * is done it sleeps to the next start on an absolute CLOCK_MONOTONIC
 * hrtimer. bench/hog.c's loop; live's host.background threads
 * (live/hog.c) run it too, so the calibration's hog and a live run's
 * background load spin and sleep alike. The caller pins the thread (and
 * sets its nice) first. */
void calhog_duty(uint64_t period_ns, uint64_t busy_ns, const atomic_int *stop);

#endif
