/*
 * calqd.c - see calqd.h.
 */
#define _GNU_SOURCE
#include "calqd.h"

#include "calibrate/calprobe.h"
#include "calibrate/calstat.h"

#include <errno.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <liburing.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK 4096u
#define MAXDEPTH 256u

const unsigned calqd_depths[CALQD_NDEPTH] = {1, 2, 8, 64};
const unsigned calqd_check_depths[CALQD_NCHECK] = {4, 16, 32};

static uint64_t mix(uint64_t *s) /* splitmix64: offsets only, no statistics drawn */
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void prep(struct io_uring *ring, int fd, void *buf, uint64_t nblocks, uint64_t *rs,
                 unsigned slot)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring); /* never NULL: depth <= entries */
    io_uring_prep_read(sqe, fd, buf, BLK, (mix(rs) % nblocks) * BLK);
    sqe->user_data = slot;
}

int calqd_measure(int fd, uint64_t nblocks, int cpu, unsigned depth, double warm_ms,
                  double run_ms, uint64_t seed, const volatile sig_atomic_t *stop,
                  calqd_point_t *out)
{
    if (depth == 0 || depth > MAXDEPTH || nblocks == 0)
        return -EINVAL;
    calprobe_pin_t pin;
    int prc = calprobe_pin(cpu, &pin);
    if (prc)
        return prc;
    struct io_uring ring;
    uint8_t *buf = NULL;
    uint64_t t0[MAXDEPTH], rs = seed;
    calstat_vec_t lat = {0};
    int rc = io_uring_queue_init(depth, &ring, 0);
    if (rc < 0)
        goto out_pin;
    if (posix_memalign((void **)&buf, BLK, (size_t)depth * BLK)) {
        rc = -ENOMEM;
        goto out_ring;
    }
    memset(buf, 0, (size_t)depth * BLK);
    uint64_t start = calprobe_now_ns(), t_meas = start + (uint64_t)(warm_ms * 1e6);
    uint64_t t_end = t_meas + (uint64_t)(run_ms * 1e6), ios = 0, now = start;
    unsigned inflight = 0;
    for (unsigned i = 0; i < depth; i++) {
        prep(&ring, fd, buf + (size_t)i * BLK, nblocks, &rs, i);
        t0[i] = calprobe_now_ns();
        inflight++;
    }
    rc = io_uring_submit(&ring);
    while (rc >= 0 && inflight) {
        struct io_uring_cqe *cqe;
        rc = io_uring_wait_cqe(&ring, &cqe);
        if (rc == -EINTR && !*stop) {
            rc = 0; /* a signal that is not the stop (a job-control stop and continue) */
            continue;
        }
        if (rc < 0)
            break;
        unsigned head, seen = 0;
        int done = *stop || now >= t_end;
        now = calprobe_now_ns();
        io_uring_for_each_cqe(&ring, head, cqe) {
            unsigned slot = (unsigned)cqe->user_data;
            seen++;
            if (cqe->res != (int)BLK) {
                rc = cqe->res < 0 ? cqe->res : -EIO;
                break;
            }
            if (t0[slot] >= t_meas && now <= t_end) {
                ios++;
                if ((rc = calstat_push(&lat, (double)(now - t0[slot]))))
                    break;
            }
            if (done) {
                inflight--;
                continue;
            }
            prep(&ring, fd, buf + (size_t)slot * BLK, nblocks, &rs, slot);
            t0[slot] = now;
        }
        io_uring_cq_advance(&ring, seen);
        if (rc >= 0 && !done)
            rc = io_uring_submit(&ring);
    }
    if (rc >= 0 && *stop)
        rc = -EINTR;
    if (rc >= 0) {
        rc = 0;
        *out = (calqd_point_t){.depth = depth, .ios = ios, .seconds = run_ms / 1e3};
        out->iops = (double)ios / out->seconds;
        if (lat.n) {
            gsl_sort(lat.v, 1, lat.n);
            out->mean_ns = gsl_stats_mean(lat.v, 1, lat.n);
            out->p50_ns = gsl_stats_quantile_from_sorted_data(lat.v, 1, lat.n, 0.5);
            out->p99_ns = gsl_stats_quantile_from_sorted_data(lat.v, 1, lat.n, 0.99);
        }
    } else if (inflight) { /* leave no read behind on the ring we are about to close */
        struct io_uring_cqe *cqe;
        while (inflight && io_uring_wait_cqe(&ring, &cqe) == 0) {
            io_uring_cqe_seen(&ring, cqe);
            inflight--;
        }
    }
    calstat_vec_free(&lat);
    free(buf);
out_ring:
    io_uring_queue_exit(&ring);
out_pin:
    calprobe_unpin(&pin);
    return rc;
}

/* ---- the model and its fit -------------------------------------------- */

/* IOPS of a closed loop of d requests over a delay station z_ns and a
 * station whose rate with k inside is k / t[k] (t[1..d], ns). The product
 * form, solved directly: P(k at the station) is proportional to
 * z^(d-k) / (d-k)! x prod_{j<=k} t[j] / j, summed in logs. This is what
 * exact MVA computes, without its 1 - sum for P(0), which cancels
 * catastrophically once the station holds nearly everyone (a 1% error at
 * d = 64 with z / t = 1/4, 55% at d = 128). */
static double closed_loop_iops(unsigned d, double z_ns, const double *t)
{
    if (!(z_ns > 0))
        return d / t[d] * 1e9; /* all d at the station */
    double lw[MAXDEPTH + 1], top = -INFINITY, acc = 0, num = 0, den = 0;
    for (unsigned k = 0; k <= d; k++) {
        if (k)
            acc += log(t[k] / k);
        lw[k] = (d - k) * log(z_ns) - lgamma(d - k + 1.0) + acc;
        top = fmax(top, lw[k]);
    }
    for (unsigned k = 0; k <= d; k++) {
        double w = exp(lw[k] - top);
        den += w;
        if (k)
            num += w * k / t[k];
    }
    return num / den * 1e9;
}

double calqd_model_iops(unsigned d, double c, double s_ns, double z_ns)
{
    /* one load-dependent station, mu(k) = min(k, c) / S, and a delay Z */
    double t[MAXDEPTH + 1];
    if (d > MAXDEPTH)
        d = MAXDEPTH;
    for (unsigned k = 1; k <= d; k++)
        t[k] = k * s_ns / fmin(k, c);
    return closed_loop_iops(d, z_ns, t);
}

double calqd_curve_iops(unsigned d, const svcurve_t *c, double z_ns)
{
    double t[MAXDEPTH + 1];
    if (d > MAXDEPTH)
        d = MAXDEPTH;
    for (unsigned k = 1; k <= d; k++)
        t[k] = svcurve_ns(c, k);
    return closed_loop_iops(d, z_ns, t);
}

int calqd_fit_curve(const calqd_point_t *pt, size_t n, double s_ns, svcurve_t *out,
                    double *z_ns, double *rms)
{
    if (n < 2 || n > SVCURVE_MAX || !(s_ns > 0) || pt[0].depth != 1)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!(pt[i].iops > 0) || pt[i].depth > MAXDEPTH || (i && pt[i].depth <= pt[i - 1].depth))
            return -EINVAL;
    /* Z from IOPS rather than the mean latency: the loop's period includes
     * the user-space gap between reaping and resubmitting */
    double z = 1e9 / pt[0].iops - s_ns, ss = 0;
    if (z < 0)
        z = 0;
    svcurve_t c = {.n = 1, .k = {1}, .ns = {s_ns}};
    for (size_t i = 1; i < n; i++) {
        /* IOPS falls as T at this knot grows: bisect log T between a time
         * 100x shorter than T(1) and 10x the whole period d / IOPS */
        double lo = log(s_ns / 100), hi = log(10 * pt[i].depth * 1e9 / pt[i].iops);
        c.n = (uint32_t)i + 1;
        c.k[i] = pt[i].depth;
        for (int it = 0; it < 100; it++) {
            c.ns[i] = exp((lo + hi) / 2);
            if (calqd_curve_iops(pt[i].depth, &c, z) > pt[i].iops)
                lo = (lo + hi) / 2;
            else
                hi = (lo + hi) / 2;
        }
        c.ns[i] = exp((lo + hi) / 2);
    }
    for (size_t i = 0; i < n; i++) {
        double e = calqd_curve_iops(pt[i].depth, &c, z) / pt[i].iops - 1;
        ss += e * e;
    }
    *out = c;
    *z_ns = z;
    *rms = sqrt(ss / (double)n);
    return svcurve_check(&c);
}

typedef struct {
    const calqd_point_t *pt;
    size_t n;
    double s, z;
} fitctx_t;

static double units_of(double theta) { return 1 + theta * theta; } /* c >= 1 */

static int resid(const gsl_vector *th, void *arg, gsl_vector *f)
{
    const fitctx_t *k = arg;
    double c = units_of(gsl_vector_get(th, 0));
    for (size_t i = 0; i < k->n; i++) {
        double m = calqd_model_iops(k->pt[i].depth, c, k->s, k->z);
        gsl_vector_set(f, i, (m - k->pt[i].iops) / k->pt[i].iops);
    }
    return GSL_SUCCESS;
}

int calqd_fit(const calqd_point_t *pt, size_t n, double s_ns, double z_ns, calqd_fit_t *out)
{
    if (n < 2 || !(s_ns > 0) || z_ns < 0)
        return -EINVAL;
    double best = 0;
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(pt[i].iops > 0))
            return -EINVAL;
        if (pt[i].iops > best)
            best = pt[i].iops;
        if (pt[i].depth > pt[top].depth)
            top = i;
    }
    fitctx_t k = {pt, n, s_ns, z_ns};
    gsl_multifit_nlinear_fdf fdf = {.f = resid, .n = n, .p = 1, .params = &k};
    gsl_multifit_nlinear_parameters prm = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &prm, n, 1);
    if (!w)
        return -ENOMEM;
    /* start at the asymptote: IOPS_max = c / S */
    double c0 = best * s_ns / 1e9;
    gsl_vector_view th0 = gsl_vector_view_array(&(double){sqrt(c0 > 1.01 ? c0 - 1 : 0.1)}, 1);
    gsl_multifit_nlinear_init(&th0.vector, &fdf, w);
    int info;
    gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
    double c = units_of(gsl_vector_get(gsl_multifit_nlinear_position(w), 0)), ss;
    gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &ss);
    gsl_multifit_nlinear_free(w);
    int sat = 0;
    for (size_t i = 0; i < n; i++)
        if (i != top && pt[i].iops >= 0.95 * pt[top].iops)
            sat = 1;
    *out = (calqd_fit_t){.units = c, .service_ns = s_ns, .host_ns = z_ns,
                         .rms_rel_err = sqrt(ss / (double)n), .saturated = sat};
    return 0;
}

/* ---- the calibrate step ----------------------------------------------- */

/* The mean of a calibration parameter: from its fitted distribution, else
 * its value (the median). */
static double param_mean(json_t *p)
{
    json_t *fit = json_object_get(p, "fit");
    const char *dist = json_string_value(json_object_get(fit, "dist"));
    double a = json_number_value(json_object_get(fit, "mu"));
    double b = json_number_value(json_object_get(fit, "sigma"));
    if (dist && strcmp(dist, "lognormal") == 0)
        return exp(a + b * b / 2);
    if (dist && strcmp(dist, "gamma") == 0)
        return json_number_value(json_object_get(fit, "k")) *
               json_number_value(json_object_get(fit, "theta"));
    if (dist && strcmp(dist, "exponential") == 0)
        return json_number_value(json_object_get(fit, "mean"));
    return json_number_value(json_object_get(p, "value"));
}

/* One per-depth row: the measurement and both models' IOPS at its depth. */
static json_t *depth_row(const calqd_point_t *pt, const calqd_fit_t *f, const svcurve_t *cv,
                         double cz)
{
    json_t *row = json_pack(
        "{s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "depth", (int)pt->depth, "ios",
        (json_int_t)pt->ios, "seconds", pt->seconds, "iops", pt->iops, "mean_ns", pt->mean_ns,
        "p50_ns", pt->p50_ns, "p99_ns", pt->p99_ns, "model_iops",
        calqd_model_iops(pt->depth, f->units, f->service_ns, f->host_ns), "curve_iops",
        calqd_curve_iops(pt->depth, cv, cz), "idle_frac", pt->idle_frac, "cqe_per_irq",
        pt->cqe_per_irq);
    if (!row || !pt->ncpu)
        return row;
    json_t *cpus = json_array();
    for (unsigned c = 0; cpus && c < pt->ncpu; c++) {
        json_t *one = json_pack("{s:i, s:f, s:f, s:f}", "cpu", (int)c, "thread_ns",
                                pt->cpu_ns_per_io[c][CALQD_THREAD], "hardirq_ns",
                                pt->cpu_ns_per_io[c][CALQD_HARDIRQ], "softirq_ns",
                                pt->cpu_ns_per_io[c][CALQD_SOFTIRQ]);
        if (!one || json_array_append_new(cpus, one)) {
            json_decref(cpus);
            cpus = NULL;
        }
    }
    if (!cpus || json_object_set_new(row, "cpu_ns_per_io", cpus)) { /* out of memory */
        json_decref(row);
        return NULL;
    }
    return row;
}

unsigned calqd_cpu_times_ns(double (*ns)[CALQD_NLEVEL], double *idle, unsigned max)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return 0;
    char line[512];
    unsigned n = 0;
    double hz = (double)sysconf(_SC_CLK_TCK);
    while (n < max && fgets(line, sizeof(line), f)) {
        unsigned cpu;
        unsigned long long v[7];
        if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6]) != 8 || cpu != n)
            continue; /* the summary line "cpu ", or a CPU out of order */
        ns[n][CALQD_THREAD] = (double)(v[0] + v[1] + v[2]) * 1e9 / hz;
        ns[n][CALQD_HARDIRQ] = (double)v[5] * 1e9 / hz;
        ns[n][CALQD_SOFTIRQ] = (double)v[6] * 1e9 / hz;
        idle[n] = (double)(v[3] + v[4]) * 1e9 / hz;
        n++;
    }
    fclose(f);
    return n;
}

/* The device's interrupts so far, all CPUs (irq NULL or none found: 0). */
static uint64_t irq_total(const char *irq)
{
    enum { MAXC = 256 };
    uint64_t n[MAXC], sum = 0;
    int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
    ncpu = ncpu > MAXC ? MAXC : ncpu;
    if (!irq || calprobe_irq_counts(irq, n, ncpu) <= 0)
        return 0;
    for (int i = 0; i < ncpu; i++)
        sum += n[i];
    return sum;
}

/* calqd_measure, with the pinned CPU's idle share and the completions per
 * interrupt over the whole measurement (warm-up included). */
static int measure(int fd, uint64_t nblocks, int cpu, const char *irq, unsigned depth,
                   double warm, double run, uint64_t seed, const volatile sig_atomic_t *stop,
                   calqd_point_t *out)
{
    double lv0[CALQD_MAXCPU][CALQD_NLEVEL], lv1[CALQD_MAXCPU][CALQD_NLEVEL];
    double idle0[CALQD_MAXCPU], idle1[CALQD_MAXCPU];
    unsigned n0 = calqd_cpu_times_ns(lv0, idle0, CALQD_MAXCPU);
    uint64_t irq0 = irq_total(irq), t0 = calprobe_now_ns();
    int rc = calqd_measure(fd, nblocks, cpu, depth, warm, run, seed, stop, out);
    if (rc)
        return rc;
    double span = (double)(calprobe_now_ns() - t0);
    unsigned n1 = calqd_cpu_times_ns(lv1, idle1, CALQD_MAXCPU);
    uint64_t irqs = irq_total(irq) - irq0;
    double ios = out->iops * span / 1e9; /* completed over the span, warm-up included */
    if (cpu >= 0 && (unsigned)cpu < n0 && n0 == n1 && idle1[cpu] >= idle0[cpu] && span > 0)
        out->idle_frac = fmin(1, (idle1[cpu] - idle0[cpu]) / span);
    if (irqs)
        out->cqe_per_irq = ios / (double)irqs;
    if (n0 && n0 == n1 && ios > 0) {
        out->ncpu = n0;
        for (unsigned c = 0; c < n0; c++)
            for (int l = 0; l < CALQD_NLEVEL; l++)
                out->cpu_ns_per_io[c][l] = fmax(0, lv1[c][l] - lv0[c][l]) / ios;
    }
    return 0;
}

int calqd_remote_costs(const calqd_point_t *near, const calqd_point_t *far, unsigned irq_cpu,
                       unsigned far_cpu, calqd_remote_t *out)
{
    unsigned ncpu = near->ncpu < far->ncpu ? near->ncpu : far->ncpu;
    if (irq_cpu >= ncpu || far_cpu >= ncpu || far_cpu == irq_cpu)
        return -EINVAL;
    const double(*n)[CALQD_NLEVEL] = near->cpu_ns_per_io, (*f)[CALQD_NLEVEL] = far->cpu_ns_per_io;
    out->softirq_ns = f[irq_cpu][CALQD_SOFTIRQ] - n[irq_cpu][CALQD_SOFTIRQ];
    out->task_work_ns = f[far_cpu][CALQD_THREAD] - n[irq_cpu][CALQD_THREAD];
    out->hardirq_ns = f[irq_cpu][CALQD_HARDIRQ] + f[far_cpu][CALQD_HARDIRQ] -
                      n[irq_cpu][CALQD_HARDIRQ] - n[far_cpu][CALQD_HARDIRQ];
    return 0;
}

/* A CPU other than cpu that this process may run on, or -1. */
static int other_cpu(int cpu)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set))
        return -1;
    for (int c = 0; c < CALQD_MAXCPU && c < CPU_SETSIZE; c++)
        if (c != cpu && CPU_ISSET(c, &set))
            return c;
    return -1;
}

/* The far point at CALQD_REMOTE_DEPTH (near: the sweep's point there, on
 * the interrupt's CPU `cpu`): "far" in dev, the two remote costs in params.
 * Nothing added where no other CPU is allowed or a point lacks CPU times. */
static int remote_step(int fd, uint64_t nblocks, int cpu, const char *irq, double warm,
                       double run, uint64_t seed, const calqd_point_t *near, const calqd_fit_t *f,
                       const svcurve_t *cv, double cz, json_t *params, json_t *dev,
                       const volatile sig_atomic_t *stop)
{
    int far_cpu = other_cpu(cpu);
    if (cpu < 0 || far_cpu < 0)
        return 0;
    calqd_point_t fp;
    int rc = measure(fd, nblocks, far_cpu, irq, CALQD_REMOTE_DEPTH, warm, run, seed, stop, &fp);
    if (rc)
        return rc == -EINVAL || rc == -EPERM ? 0 : rc; /* not pinnable there: no far point */
    calqd_remote_t rm;
    if (calqd_remote_costs(near, &fp, (unsigned)cpu, (unsigned)far_cpu, &rm))
        return 0;
    json_t *row = depth_row(&fp, f, cv, cz);
    if (!row || json_object_set_new(row, "cpu", json_integer(far_cpu)) ||
        json_object_set_new(dev, "far", row))
        return -ENOMEM;
    static const char *const name[2] = {"remote_complete_softirq_ns", "remote_task_work_ns"};
    double v[2] = {rm.softirq_ns, rm.task_work_ns};
    for (int i = 0; i < 2; i++) {
        char src[700];
        snprintf(src, sizeof(src),
                 "queue-depth sweep at QD%u, %s: the thread on CPU %d (far) less the thread on "
                 "CPU %d, the interrupt's (near), per read (/proc/stat, USER_HZ ticks; "
                 "device_units.far and the per_depth row); %s; a difference, so it holds the "
                 "far side's per-batch costs spread over its reads too (cqe_per_irq near %.1f, "
                 "far %.1f); hard IRQ difference %.0f ns, not charged",
                 CALQD_REMOTE_DEPTH,
                 i == 0 ? "softirq time on the interrupt's CPU" : "thread time on the thread's CPU",
                 far_cpu, cpu,
                 i == 0 ? "charged to a remote request that joins a BLOCK_SOFTIRQ list "
                          "(models/blkmq.c)"
                        : "charged to a remote completion that joins a task_work run, on the "
                          "consumer's CPU (models/uring.c)",
                 near->cqe_per_irq, fp.cqe_per_irq, rm.hardirq_ns);
        /* the loader takes values >= 0: a negative difference (rounding) is none */
        json_t *p = json_pack("{s:f, s:s, s:I, s:{s:s}, s:f, s:i, s:s}", "value", fmax(0, v[i]),
                              "unit", "ns", "samples", (json_int_t)fp.ios, "fit", "dist",
                              "fixed", "measured_ns", v[i], "depth", CALQD_REMOTE_DEPTH,
                              "source", src);
        if (!p || json_object_set_new(params, name[i], p))
            return -ENOMEM;
    }
    return 0;
}

/* The time per cycle of pt's depth the pinned CPU sat idle, ns. */
static double idle_per_cycle(const calqd_point_t *pt)
{
    return pt->idle_frac * pt->depth / pt->iops * 1e9;
}

json_t *calqd_batch_knots(const calqd_point_t *pt, size_t n, double s)
{
    for (size_t i = 0; i < n; i++)
        if (!(pt[i].cqe_per_irq >= 0.8 * pt[i].depth) || !(pt[i].idle_frac > 0))
            return NULL;
    json_t *kk = json_array(), *tt = json_array(), *ci = json_array(), *ii = json_array();
    int ok = kk && tt && ci && ii;
    for (size_t i = 0; ok && i < n; i++) {
        double idle = idle_per_cycle(&pt[i]);
        double t = i == 0 ? s : fmax(s, s + idle - idle_per_cycle(&pt[0]));
        ok = !json_array_append_new(kk, json_real(pt[i].depth)) &&
             !json_array_append_new(tt, json_real(t)) &&
             !json_array_append_new(ci, json_real(pt[i].cqe_per_irq)) &&
             !json_array_append_new(ii, json_real(idle));
    }
    if (ok)
        return json_pack("{s:o, s:o, s:o, s:o, s:s}", "k", kk, "service_ns", tt, "cqe_per_irq",
                         ci, "idle_ns_per_cycle", ii, "source",
                         "the sweep completed the whole queue per interrupt (cqe_per_irq >= 0.8 "
                         "depth at every fit depth): T(d) = S + I(d) - I(1), I(d) the pinned "
                         "CPU's idle + iowait time per cycle of d reads (/proc/stat), S the "
                         "QD1 device time; all d reads of a batch complete together");
    json_decref(kk);
    json_decref(tt);
    json_decref(ci);
    json_decref(ii);
    return NULL;
}

/* ---- VM freezes ------------------------------------------------------- */

#define FREEZE_GAP_NS 1000000ull /* a spinner's gap worth keeping */
#define FREEZE_MAXGAPS 8192

typedef struct {
    int cpu, err;
    _Atomic int quit, running;
    size_t n;
    calqd_span_t gap[FREEZE_MAXGAPS];
} freeze_spin_t;

/* A SCHED_IDLE spinner: it runs only when nothing else of the guest wants
 * its CPU, so a long gap in its clock reads is the CPU busy or the vCPU not
 * running at all. */
static void *freeze_spin(void *arg)
{
    freeze_spin_t *f = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(f->cpu, &set);
    struct sched_param sp = {.sched_priority = 0};
    if (sched_setaffinity(0, sizeof(set), &set) || sched_setscheduler(0, SCHED_IDLE, &sp))
        f->err = -errno;
    atomic_store(&f->running, 1);
    if (f->err)
        return NULL;
    uint64_t last = calprobe_now_ns();
    while (!atomic_load_explicit(&f->quit, memory_order_relaxed)) {
        uint64_t t = calprobe_now_ns();
        if (t - last > FREEZE_GAP_NS && f->n < FREEZE_MAXGAPS)
            f->gap[f->n++] = (calqd_span_t){last, t};
        last = t;
    }
    return NULL;
}

long calqd_overlap(const calqd_span_t *const *lists, const size_t *n, unsigned nl,
                   uint64_t min_ns, calqd_span_t *out, size_t max)
{
    if (nl == 0)
        return 0;
    /* intersecting a list of m spans with one of n gives at most m + n - 1,
     * so the total bounds every step (one wide gap can be cut in many) */
    size_t cap = 0, m = n[0];
    for (unsigned l = 0; l < nl; l++)
        cap += n[l];
    calqd_span_t *cur = malloc((cap ? cap : 1) * sizeof(*cur));
    calqd_span_t *next = malloc((cap ? cap : 1) * sizeof(*next));
    if (!cur || !next) {
        free(cur);
        free(next);
        return -ENOMEM;
    }
    memcpy(cur, lists[0], m * sizeof(*cur));
    /* intersect two sorted, disjoint lists with two cursors: the result is
     * sorted and disjoint */
    for (unsigned l = 1; l < nl; l++) {
        size_t i = 0, j = 0, k = 0;
        while (i < m && j < n[l]) {
            uint64_t a = cur[i].a > lists[l][j].a ? cur[i].a : lists[l][j].a;
            uint64_t b = cur[i].b < lists[l][j].b ? cur[i].b : lists[l][j].b;
            if (a < b)
                next[k++] = (calqd_span_t){a, b};
            if (cur[i].b < lists[l][j].b)
                i++;
            else
                j++;
        }
        calqd_span_t *t = cur;
        cur = next;
        next = t;
        m = k;
    }
    size_t w = 0;
    for (size_t i = 0; i < m; i++)
        if (cur[i].b - cur[i].a >= min_ns && w < max)
            out[w++] = cur[i];
    free(cur);
    free(next);
    return (long)w;
}

int calqd_freeze(int fd, uint64_t nblocks, int cpu, const char *irq_prefix, unsigned depth,
                 double run_ms, const volatile sig_atomic_t *stop, calqd_freeze_t *out)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned ncpu = online > CALQD_FREEZE_MAXCPU ? CALQD_FREEZE_MAXCPU : online > 0 ? (unsigned)online : 1;
    if (ncpu < 2)
        return -ENOTSUP;
    freeze_spin_t *sp = calloc(ncpu, sizeof(*sp));
    pthread_t th[CALQD_FREEZE_MAXCPU];
    if (!sp)
        return -ENOMEM;
    unsigned started = 0;
    int rc = 0;
    for (; started < ncpu; started++) {
        sp[started].cpu = (int)started;
        if (pthread_create(&th[started], NULL, freeze_spin, &sp[started])) {
            rc = -EAGAIN;
            break;
        }
    }
    for (unsigned i = 0; i < started; i++)
        while (!atomic_load(&sp[i].running))
            sched_yield();
    /* a CPU the process may not run on (a cpuset) or the idle class refused:
     * the probe cannot tell a freeze there, so there is no measurement */
    for (unsigned i = 0; !rc && i < started; i++)
        rc = sp[i].err == -EINVAL || sp[i].err == -EPERM ? -ENOTSUP : sp[i].err;
    uint64_t t0 = calprobe_now_ns();
    calqd_point_t pt = {0};
    if (!rc)
        rc = measure(fd, nblocks, cpu, irq_prefix, depth, 0, run_ms, 0xf7ee2e + depth, stop, &pt);
    uint64_t t1 = calprobe_now_ns();
    for (unsigned i = 0; i < started; i++) {
        atomic_store(&sp[i].quit, 1);
        pthread_join(th[i], NULL);
    }
    calqd_span_t *fr = rc ? NULL : malloc(FREEZE_MAXGAPS * sizeof(*fr));
    double *len = rc ? NULL : malloc(FREEZE_MAXGAPS * sizeof(*len));
    if (!rc && (!fr || !len))
        rc = -ENOMEM;
    if (!rc) {
        const calqd_span_t *lists[CALQD_FREEZE_MAXCPU];
        size_t n[CALQD_FREEZE_MAXCPU];
        for (unsigned i = 0; i < ncpu; i++)
            lists[i] = sp[i].gap, n[i] = sp[i].n;
        long k = calqd_overlap(lists, n, ncpu, CALQD_FREEZE_MIN_NS, fr, FREEZE_MAXGAPS);
        if (k < 0)
            rc = (int)k;
        else {
            *out = (calqd_freeze_t){.cpus = ncpu, .depth = depth,
                                    .seconds = (double)(t1 - t0) / 1e9, .reads_per_s = pt.iops,
                                    .irqs_per_s = pt.cqe_per_irq > 0 ? pt.iops / pt.cqe_per_irq : 0,
                                    .freezes = (uint32_t)k};
            /* the host's period: successive freezes end one period apart
             * (or a few, where one period froze less than the minimum) */
            for (long i = 1; i < k; i++)
                len[i - 1] = (double)(fr[i].b - fr[i - 1].b);
            if (k >= 3) {
                gsl_sort(len, 1, (size_t)k - 1);
                out->period_ns = gsl_stats_median_from_sorted_data(len, 1, (size_t)k - 1);
            }
            double tot = 0;
            for (long i = 0; i < k; i++)
                tot += len[i] = (double)(fr[i].b - fr[i].a);
            gsl_sort(len, 1, (size_t)k);
            out->frozen_share = t1 > t0 ? tot / (double)(t1 - t0) : 0;
            out->len_p50_ns = k ? gsl_stats_median_from_sorted_data(len, 1, (size_t)k) : 0;
            out->len_max_ns = k ? len[k - 1] : 0;
        }
    }
    free(fr);
    free(len);
    free(sp);
    return rc;
}

/* (1 - e^-ku) / (1 - e^-u) - ratio: p = {k, ratio} */
static double freeze_ratio_gap(double u, void *p)
{
    const double *kr = p;
    return -expm1(-kr[0] * u) / -expm1(-u) - kr[1];
}

int calqd_freeze_fit(const calqd_freeze_t *run, size_t n, calqd_freeze_model_t *out)
{
    double per[8], x[8], rr[8];
    size_t np = 0, m = 0;
    for (size_t i = 0; i < n && m < 8; i++) {
        const calqd_freeze_t *r = &run[i];
        if (r->period_ns > 0 && np < 8)
            per[np++] = r->period_ns;
        if (!(r->reads_per_s > 0) || !(r->frozen_share < 0.9))
            continue;
        /* CPUs used beyond the vCPUs: Q / (1 - s) - Q with Q = cpus */
        x[m] = r->cpus * r->frozen_share / (1 - r->frozen_share);
        rr[m] = r->reads_per_s;
        m++;
    }
    double c = 0, cov, sumsq;
    if (!np || !m || gsl_fit_mul(rr, 1, x, 1, m, &c, &cov, &sumsq) || !(c > 0))
        return -ENODATA;
    gsl_sort(per, 1, np);
    *out = (calqd_freeze_model_t){.period_ns = gsl_stats_median_from_sorted_data(per, 1, np),
                                  .quota_cpus = run[0].cpus, .poll_ns = CALQD_FREEZE_POLL_NS,
                                  .per_read_ns = c * 1e9}; /* linear, through the origin */
    /* what the model charges: X(r) = M (1 - exp(-r c / M)) through the
     * first two runs; with u = r1 c / M and k = r2 / r1, X2 / X1 =
     * (1 - e^-ku) / (1 - e^-u), falling from k (u -> 0: linear) to 1 */
    if (m >= 2 && x[0] > 0 && x[1] > 0 && rr[1] != rr[0]) {
        int hi = rr[1] > rr[0];
        double r1 = hi ? rr[0] : rr[1], r2 = hi ? rr[1] : rr[0];
        double x1 = hi ? x[0] : x[1], x2 = hi ? x[1] : x[0];
        double kr[2] = {r2 / r1, x2 / x1};
        if (kr[1] <= 1) { /* no growth: saturated below the first rate */
            out->io_max_cpus = fmax(x1, x2);
            out->per_read_ns = 20 * out->io_max_cpus / r1 * 1e9;
        } else if (kr[1] < kr[0] * (1 - 1e-9)) {
            /* the gap is k - ratio > 0 as u -> 0 and 1 - ratio < 0 by u = 50 */
            gsl_function f = {.function = freeze_ratio_gap, .params = kr};
            gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
            if (!s || gsl_root_fsolver_set(s, &f, 1e-6, 50)) {
                if (s)
                    gsl_root_fsolver_free(s);
                return -ENOMEM;
            }
            double u = 0;
            for (int it = 0; it < 200; it++) {
                gsl_root_fsolver_iterate(s);
                u = gsl_root_fsolver_root(s);
                if (gsl_root_test_interval(gsl_root_fsolver_x_lower(s),
                                           gsl_root_fsolver_x_upper(s), 0, 1e-12) == GSL_SUCCESS)
                    break;
            }
            gsl_root_fsolver_free(s);
            out->io_max_cpus = x1 / -expm1(-u);
            out->per_read_ns = u * out->io_max_cpus / r1 * 1e9;
        }
    }
    return 0;
}

static json_t *freeze_run_json(const calqd_freeze_t *f)
{
    return json_pack("{s:i, s:f, s:f, s:f, s:i, s:f, s:f, s:f, s:f}", "depth", (int)f->depth,
                     "seconds", f->seconds, "reads_per_s", f->reads_per_s, "irqs_per_s",
                     f->irqs_per_s, "freezes", (int)f->freezes, "frozen_share", f->frozen_share,
                     "len_p50_ns", f->len_p50_ns, "len_max_ns", f->len_max_ns, "period_ns",
                     f->period_ns);
}

int calqd_calibrate(int fd, uint64_t nblocks, int cpu, const char *irq_prefix, int quick,
                    json_t *params, const volatile sig_atomic_t *stop)
{
    json_t *dev = json_object_get(params, "device_read_4k_ns");
    double s = dev ? param_mean(dev) : 0;
    if (!(s > 0))
        return -ENOENT;
    calqd_point_t pt[CALQD_NDEPTH];
    double warm = quick ? 200 : 500, run = quick ? 1000 : 3000;
    for (size_t i = 0; i < CALQD_NDEPTH; i++) {
        int rc = measure(fd, nblocks, cpu, irq_prefix, calqd_depths[i], warm, run, 0x5eed + i,
                         stop, &pt[i]);
        if (rc)
            return rc;
    }
    double z = pt[0].mean_ns - s;
    if (z < 0)
        z = 0;
    calqd_fit_t f;
    int rc = calqd_fit(pt, CALQD_NDEPTH, s, z, &f);
    if (rc)
        return rc;
    svcurve_t cv;
    double cz, crms;
    if ((rc = calqd_fit_curve(pt, CALQD_NDEPTH, s, &cv, &cz, &crms)))
        return rc;
    /* the check depths, measured after the fits were made */
    calqd_point_t ck[CALQD_NCHECK];
    for (size_t i = 0; i < CALQD_NCHECK; i++)
        if ((rc = measure(fd, nblocks, cpu, irq_prefix, calqd_check_depths[i], warm, run,
                          0xc4ec + i, stop, &ck[i])))
            return rc;
    json_t *per = json_array(), *check = json_array();
    for (size_t i = 0; i < CALQD_NDEPTH + CALQD_NCHECK && per && check; i++) {
        json_t *a = i < CALQD_NDEPTH ? per : check;
        json_t *row = depth_row(i < CALQD_NDEPTH ? &pt[i] : &ck[i - CALQD_NDEPTH], &f, &cv, cz);
        if (!row || json_array_append_new(a, row)) {
            json_decref(per);
            json_decref(check);
            per = check = NULL;
        }
    }
    if (!check) {
        json_decref(per);
        per = NULL;
    }
    char src[600];
    snprintf(src, sizeof(src),
             "queue-depth sweep, io_uring 4 KiB O_DIRECT random reads, one thread pinned to CPU "
             "%d, depths 1 2 8 64 (%.1f s each after %.1f s warm-up; then 4 16 32 for \"check\" "
             "only, never fitted); value = c, the parallel "
             "units of a closed-loop model (host delay Z, c units of mean service S: exact MVA) "
             "fitted to IOPS by gsl_multifit_nlinear%s",
             cpu, run / 1e3, warm / 1e3,
             f.saturated ? "; IOPS saturated before the largest depth: c describes whatever "
                           "saturated (device or the submitting CPU)"
                         : "");
    /* json_pack's "o" takes the reference, also when it fails (jansson >= 2.13) */
    json_t *kk = json_array(), *tt = json_array(), *curve = NULL;
    int ok = kk && tt;
    for (uint32_t i = 0; ok && i < cv.n; i++)
        ok = !json_array_append_new(kk, json_real(cv.k[i])) &&
             !json_array_append_new(tt, json_real(cv.ns[i]));
    if (ok) {
        curve = json_pack("{s:o, s:o, s:f, s:f, s:s}", "k", kk, "service_ns", tt, "host_ns", cz,
                          "rms_rel_err", crms, "source",
                          "knots at the sweep's depths: T(1) = S, T(d) solved so that exact MVA "
                          "(station rate k/T(k), host delay host_ns = 1/IOPS(1) - S) gives the "
                          "measured IOPS(d); power law between knots (sim/svcurve.h)");
    } else {
        json_decref(kk);
        json_decref(tt);
    }
    if (!curve || !per) {
        json_decref(curve);
        json_decref(per);
        json_decref(check);
        return -ENOMEM;
    }
    json_t *p = json_pack("{s:f, s:s, s:i, s:{s:s, s:f, s:f, s:f, s:b}, s:o, s:o, s:o, s:s}",
                          "value", f.units, "unit", "units", "samples", CALQD_NDEPTH, "fit",
                          "dist", "mva_closed_loop", "service_ns", s, "host_ns", z,
                          "rms_rel_err", f.rms_rel_err, "saturated", f.saturated, "curve", curve,
                          "per_depth", per, "check", check, "source", src);
    if (!p || json_object_set_new(params, "device_units", p))
        return -ENOMEM;
    json_t *b = calqd_batch_knots(pt, CALQD_NDEPTH, s);
    if (b && json_object_set_new(p, "batch", b))
        return -ENOMEM;
    /* the remote completion's per-read cost: the largest fit depth again,
     * from another CPU (same seed: the same offsets) */
    for (size_t i = 0; i < CALQD_NDEPTH; i++)
        if (calqd_depths[i] == CALQD_REMOTE_DEPTH &&
            (rc = remote_step(fd, nblocks, cpu, irq_prefix, warm, run, 0x5eed + i, &pt[i], &f,
                              &cv, cz, params, p, stop)))
            return rc;
    /* the VM's freezes, beside the sweep: at QD1 and at a depth with fewer
     * interrupts per read, every vCPU kept busy; then the host quota model */
    calqd_freeze_t fz[2];
    static const unsigned fzdepth[2] = {1, CALQD_FREEZE_DEPTH2};
    for (int i = 0; i < 2; i++) {
        int frc = calqd_freeze(fd, nblocks, cpu, irq_prefix, fzdepth[i], run, stop, &fz[i]);
        if (frc == -ENOTSUP)
            return 0;
        if (frc)
            return frc;
    }
    json_t *runs = json_array();
    for (int i = 0; i < 2 && runs; i++)
        if (json_array_append_new(runs, freeze_run_json(&fz[i]))) {
            json_decref(runs);
            runs = NULL;
        }
    if (!runs)
        return -ENOMEM;
    json_t *v = json_pack(
        "{s:i, s:f, s:f, s:i, s:f, s:f, s:f, s:o, s:s}", "cpus", (int)fz[0].cpus, "seconds",
        fz[0].seconds, "reads_per_s", fz[0].reads_per_s, "freezes", (int)fz[0].freezes,
        "frozen_share", fz[0].frozen_share, "len_p50_ns", fz[0].len_p50_ns, "len_max_ns",
        fz[0].len_max_ns, "runs", runs, "source",
        "reads (QD1, then QD4: the top-level figures are the QD1 run's) from the sweep's CPU with "
        "a SCHED_IDLE spinner on every CPU: a freeze is a span of at least 2 ms in which every "
        "spinner's clock stood still at once (the whole VM stopped; docs/models.md, The VM "
        "freezes)");
    if (!v || json_object_set_new(p, "vm_freeze", v))
        return -ENOMEM;
    calqd_freeze_model_t m;
    if (calqd_freeze_fit(fz, 2, &m) == 0) {
        json_t *mj = json_pack(
            "{s:f, s:f, s:f, s:f, s:f, s:s}", "period_ns", m.period_ns,
            "quota_cpus", m.quota_cpus, "per_read_ns", m.per_read_ns,
            "io_max_cpus", m.io_max_cpus, "poll_ns", m.poll_ns, "source",
            "the VM host's CPU quota (models/vmfreeze.h): period = the runs' median spacing of "
            "freeze ends; quota = one CPU per vCPU (assumed: spinners alone do not freeze); "
            "the runs' host CPU beyond the vCPUs, X = cpus x share / (1 - share), against their "
            "reads per second r: X(r) = io_max_cpus (1 - exp(-r per_read_ns / io_max_cpus)) "
            "through the two runs (io_max_cpus 0: linear, least squares through 0; no cost per "
            "interrupt: the simulator's interrupts per read at depth are not the device's); "
            "poll_ns: the halt-poll window, a constant measured once on the development VM "
            "(woken every 100 us: busy, every 200 us: not), not per calibration");
        if (!mj || json_object_set_new(v, "model", mj))
            return -ENOMEM;
    }
    return 0;
}
