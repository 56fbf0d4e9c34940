/*
 * calqd.h - the device's parallelism, measured: a queue-depth sweep of
 * io_uring O_DIRECT 4 KiB random reads (IOPS and latency per depth) and the
 * fit of the effective number of parallel units that reproduces IOPS
 * against queue depth (docs/calibration.md, "Queue-depth sweep").
 *
 * The model (calqd_model_iops): a closed loop of d requests that each spend
 * a host delay Z (submit, completion and reaping: the QD1 latency minus the
 * device time, taken as not queueing) and then a service at the device, a
 * station of c parallel units each with mean service time S (the traced QD1
 * device time): the station completes min(k, c) / S requests per second
 * with k requests in it. Exact mean value analysis for a load-dependent
 * station gives IOPS(d); c is fitted (gsl_multifit_nlinear) to the measured
 * IOPS at the fit depths. c is continuous: 5.3 units mean the device's
 * throughput grows like 5.3 exponential servers'.
 *
 * The c-units model cannot follow a device whose service time grows with
 * load (virtio-blk over a host file: each request slows as more are in
 * flight, so IOPS(d) bends early and keeps rising). So calibrate also fits
 * a load-dependent service curve (sim/svcurve.h): every request in the
 * device is served at once, in a mean time T(k) that depends on the number
 * k in service; T(1) = S, and T at the other fit depths is solved, depth
 * after depth, so that the exact solution of the closed loop (station rate
 * k / T(k), delay Z = 1 / IOPS(1) - S) gives the measured IOPS there. The
 * simulator uses the curve when the file has one ("curve" in
 * device_units), else the c units.
 *
 * The sweep reads only (the target may be a user's file or block device).
 * Nothing here prints; functions return 0 or -errno.
 */
#ifndef LATSURF_CALQD_H
#define LATSURF_CALQD_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/svcurve.h"

/* The depths calibrate fits on; validation checks other ones (4, 16, 32). */
#define CALQD_NDEPTH 4
extern const unsigned calqd_depths[CALQD_NDEPTH]; /* 1, 2, 8, 64 */
/* Measured after them for a check only (device_units.check): never fitted. */
#define CALQD_NCHECK 3
extern const unsigned calqd_check_depths[CALQD_NCHECK]; /* 4, 16, 32 */

#define CALQD_MAXCPU 256 /* CPUs whose time per read a sweep point keeps */
enum { CALQD_THREAD, CALQD_HARDIRQ, CALQD_SOFTIRQ, CALQD_NLEVEL };

/* Every CPU's time since boot, ns (/proc/stat in USER_HZ units; on a
 * tickless kernel exact up to that rounding): at the CPU model's levels
 * (user + nice + system, irq, softirq) into ns, idle + iowait into idle.
 * The CPUs read (at most max, in order, stopping at the first missing), or
 * 0. */
unsigned calqd_cpu_times_ns(double (*ns)[CALQD_NLEVEL], double *idle, unsigned max);

typedef struct {
    unsigned depth;
    uint64_t ios;            /* completed in the measured window */
    double seconds;          /* the window */
    double iops;
    double mean_ns, p50_ns, p99_ns; /* submit (prep) -> CQE reaped, user space */
    /* set by calqd_calibrate around the measurement (warm-up included), 0
     * where unknown: the pinned CPU's idle + iowait share (/proc/stat), and
     * completions per interrupt of the device's vectors (/proc/interrupts) */
    double idle_frac, cqe_per_irq;
    /* each CPU's time per completed read over the same span (/proc/stat,
     * USER_HZ: coarse over a quick sweep's second), at the levels the CPU
     * model keeps: thread (user + nice + system), hard IRQ, softirq; ncpu 0
     * where /proc/stat could not be read. Measured to check the model's
     * CPU per read at depth against, not fitted. */
    unsigned ncpu;
    double cpu_ns_per_io[CALQD_MAXCPU][CALQD_NLEVEL];
} calqd_point_t;

/* Keep `depth` reads in flight on fd's first nblocks 4 KiB blocks from a
 * thread pinned to cpu (-1: not pinned) for warm_ms, then measure for
 * run_ms. 0, -EINTR (*stop set) or -errno. */
int calqd_measure(int fd, uint64_t nblocks, int cpu, unsigned depth, double warm_ms,
                  double run_ms, uint64_t seed, const volatile sig_atomic_t *stop,
                  calqd_point_t *out);

/* Whole-VM stops while reads run (docs/models.md, "The VM freezes"): one
 * SCHED_IDLE spinner per CPU (the first CALQD_FREEZE_MAXCPU) keeps every vCPU busy and
 * records the gaps in its clock reads; meanwhile reads at queue depth
 * `depth` run from a thread pinned to cpu. A freeze is a span in which every
 * spinner was out at once for at least CALQD_FREEZE_MIN_NS: no guest work
 * keeps two CPUs from their spinners that long while a loop of a few reads
 * sleeps on them. */
#define CALQD_FREEZE_MIN_NS 2000000ull
#define CALQD_FREEZE_MAXCPU 16
#define CALQD_FREEZE_DEPTH2 4 /* the second run's depth: fewer interrupts per read */
/* The halt-poll window the model takes (not measured per calibration): on
 * the development VM a vCPU woken every 100 us counted as busy to its host,
 * one woken every 200 us did not (docs/models.md, "The VM freezes"). */
#define CALQD_FREEZE_POLL_NS 150000.0
typedef struct {
    uint64_t a, b; /* [a, b), CLOCK_MONOTONIC ns */
} calqd_span_t;
typedef struct {
    unsigned cpus;              /* spinners (CPUs online, at most CALQD_FREEZE_MAXCPU) */
    unsigned depth;
    double seconds, reads_per_s;
    double irqs_per_s;          /* the device's interrupts (0: not counted) */
    uint32_t freezes;
    double frozen_share;        /* of the measured span */
    double len_p50_ns, len_max_ns;
    double period_ns;           /* median spacing of successive freeze ends (0: < 3 freezes) */
} calqd_freeze_t;
/* 0, -EINTR, -ENOTSUP (one CPU, or a CPU the process may not pin a
 * spinner to: nothing to tell a freeze from a busy CPU by), or -errno.
 * irq_prefix: the device's /proc/interrupts name (NULL: not counted). */
int calqd_freeze(int fd, uint64_t nblocks, int cpu, const char *irq_prefix, unsigned depth,
                 double run_ms, const volatile sig_atomic_t *stop, calqd_freeze_t *out);

/* The host quota behind the freezes (models/vmfreeze.h), from runs with every
 * vCPU busy: the quota is taken as one CPU per vCPU (spinners alone do not
 * freeze the VM), so a run frozen a share s of the time used
 * X = cpus x s / (1 - s) CPUs beyond its vCPUs for its I/O. The model
 * charges X(r) = io_max_cpus x (1 - exp(-r x per_read_ns / io_max_cpus))
 * at r reads per second, solved through the first two runs (GSL's Brent);
 * where the second run's X grew in proportion to its reads or more, the
 * cost is linear (io_max_cpus 0, per_read_ns by least squares through the
 * origin); where it did not grow, saturated at once (io_max_cpus the larger
 * X). No cost per interrupt: the simulator's interrupts per read at depth
 * are not the device's. period_ns: the runs' median freeze spacing. -ENODATA when no run froze
 * or no period was seen (no model: nothing to charge). */
typedef struct {
    double period_ns, quota_cpus, per_read_ns, poll_ns, io_max_cpus;
} calqd_freeze_model_t;
int calqd_freeze_fit(const calqd_freeze_t *run, size_t n, calqd_freeze_model_t *out);

/* The spans covered by a span of every one of the nl lists at once (each
 * list sorted and disjoint), at least min_ns long: at most max of them into
 * out; their number, or -ENOMEM. */
long calqd_overlap(const calqd_span_t *const *lists, const size_t *n, unsigned nl,
                   uint64_t min_ns, calqd_span_t *out, size_t max);

/* IOPS of the closed loop above with d requests, c units of mean service
 * s_ns and host delay z_ns (exact MVA, load-dependent station). */
double calqd_model_iops(unsigned d, double c, double s_ns, double z_ns);

/* IOPS of the closed loop with d requests, a station that serves all it
 * holds at once in a mean time svcurve_ns(c, k) with k inside (rate
 * k / T(k)) and host delay z_ns; exact (product form, as both models). */
double calqd_curve_iops(unsigned d, const svcurve_t *c, double z_ns);

/* Fit the curve with knots at the points' depths (increasing, the first
 * depth 1): T(1) = s_ns, host delay z = 1 / IOPS(1) - s_ns (>= 0), then T at
 * each further depth so that calqd_curve_iops matches the measured IOPS
 * there (bisection on log T; the curve up to a depth depends only on the
 * knots up to it). *rms: relative IOPS error left at the points (0 unless
 * a depth's IOPS was out of the model's reach). 0, or -EINVAL. */
int calqd_fit_curve(const calqd_point_t *pt, size_t n, double s_ns, svcurve_t *out,
                    double *z_ns, double *rms);

typedef struct {
    double units;            /* c */
    double service_ns;       /* S, given */
    double host_ns;          /* Z, given */
    double rms_rel_err;      /* of the fitted IOPS over the points */
    int saturated;           /* a smaller depth already reached 95% of the largest depth's
                                IOPS: c then describes whatever saturated (the device, or the
                                one submitting CPU), and is a lower bound on the device's units
                                when the host is what saturates */
} calqd_fit_t;

/* Fit c to the points (at least 2, distinct depths). 0, -EINVAL (too few
 * points, or S <= 0) or -ENOMEM. */
int calqd_fit(const calqd_point_t *pt, size_t n, double s_ns, double z_ns, calqd_fit_t *out);

/* device_units.batch from the fit depths' points (the first at depth 1)
 * and the QD1 device time s_ns (see calqd_calibrate), or NULL where some
 * point saw fewer than 0.8 depth completions per interrupt or no idle
 * share (or out of memory). */
json_t *calqd_batch_knots(const calqd_point_t *pt, size_t n, double s_ns);

/* The per-read cost of a remote completion (docs/calibration.md, "Remote
 * completions"): the same depth measured with the thread on the interrupt's
 * CPU (near) and on another CPU (far). A far read completes on the
 * interrupt's CPU, which did not allocate it, and its io_uring task_work
 * runs on the thread's CPU: softirq_ns is the far point's softirq time per
 * read on the interrupt's CPU less the near point's there; task_work_ns the
 * far point's thread time per read on the thread's CPU less the near
 * point's thread time on the interrupt's CPU (where the near thread ran);
 * hardirq_ns the same difference of hard-IRQ time over both CPUs (recorded,
 * not charged: without CONFIG_IRQ_TIME_ACCOUNTING it is 0). Differences as
 * measured (may be < 0 by a tick's rounding). -EINVAL when a point has no
 * CPU times or a CPU is out of its range. */
typedef struct {
    double softirq_ns, task_work_ns, hardirq_ns;
} calqd_remote_t;
int calqd_remote_costs(const calqd_point_t *near, const calqd_point_t *far, unsigned irq_cpu,
                       unsigned far_cpu, calqd_remote_t *out);
/* The depth the far point is measured at: a fit depth (the largest: the
 * per-batch share of the difference is spread over the most reads). */
#define CALQD_REMOTE_DEPTH 64

/* The calibrate step: sweep calqd_depths on the IRQ CPU `cpu` (quick: 0.2 s
 * warm-up + 1 s per depth; else 0.5 + 3 s), take S as the mean of
 * params.device_read_4k_ns (its fit) and Z as the QD1 mean latency minus S,
 * fit c and the service curve, and add "device_units" (value c, with the
 * fit, the curve, the per-depth measurements and the source) to params.
 * With irq_prefix (the device's /proc/interrupts name, NULL: none) it also
 * counts completions per interrupt: where every fit depth d >= 2 saw at
 * least 0.8 d (the device served its whole queue per signal, as a virtio
 * backend that pops its ring on a kick does), it adds "batch" knots, the
 * batch service time T(d) = S + I(d) - I(1), I(d) the time per cycle the
 * pinned CPU sat idle waiting (idle share x d / IOPS(d)): what the device
 * took beyond QD1, measured, not solved through a host model.
 * Then measure calqd_check_depths the same way and record them with both
 * models' IOPS there as "check" (the fits never see them). Where another
 * CPU is allowed, measure CALQD_REMOTE_DEPTH again from it ("far") and add
 * "remote_complete_softirq_ns" and "remote_task_work_ns" to params
 * (calqd_remote_costs against the sweep's point at that depth). -ENOENT when
 * params has no device_read_4k_ns; else 0, -EINTR or -errno. */
int calqd_calibrate(int fd, uint64_t nblocks, int cpu, const char *irq_prefix, int quick,
                    json_t *params, const volatile sig_atomic_t *stop);

#endif
