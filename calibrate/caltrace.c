/*
 * caltrace.c - see caltrace.h.
 *
 * Pairs of blocks, the order alternating (untraced first in even pairs,
 * traced first in odd ones), so that a drift of the host over the step
 * (the hypervisor's cache warming, another tenant) falls on both sides. A
 * traced block starts and ends its own recorder (tracerec_start ...
 * tracerec_free) as `trace record` does around a command: an untraced block
 * must run with the tracepoints disabled, not merely with the buffers off
 * (a probe whose instance is off still runs up to its buffer reservation).
 */
#define _GNU_SOURCE
#include "caltrace.h"

#include "calibrate/calprobe.h"
#include "calibrate/tracerec.h"

#include <errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096
#define MAXPAIRS 8

static double now_ns(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef struct {
    double cpu_ns, wall_ns; /* per read, means over the block */
} block_t;

/* n blocking 4 KiB preads at uniform random blocks of fd. */
static int read_block(int fd, uint64_t nblocks, unsigned n, gsl_rng *rng, void *buf,
                      const volatile sig_atomic_t *stop, block_t *out)
{
    double cpu = 0, wall = 0;
    for (unsigned i = 0; i < n; i++) {
        if (*stop)
            return -EINTR;
        off_t off = (off_t)(gsl_rng_uniform_int(rng, (unsigned long)nblocks)) * BLK;
        double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID), w0 = now_ns(CLOCK_MONOTONIC);
        ssize_t got = pread(fd, buf, BLK, off);
        double w1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        if (got != BLK)
            return got < 0 ? -errno : -EIO;
        cpu += c1 - c0;
        wall += w1 - w0;
    }
    out->cpu_ns = cpu / n;
    out->wall_ns = wall / n;
    return 0;
}

/* A traced block: the recorder's instances with the calling thread followed
 * (as `trace record` follows a command), the block, then one drain timed on
 * the thread's CPU clock. */
static int traced_block(int fd, uint64_t nblocks, unsigned n, gsl_rng *rng, void *buf,
                        const volatile sig_atomic_t *stop, block_t *out, double *drain_ns,
                        double *events, char *why, size_t whylen)
{
    tracerec_t *rec = NULL;
    /* the buffer of `trace record` less: a block writes a few MB at most */
    int rc = tracerec_start(NULL, 4096, &rec, why, whylen);
    int tid = (int)syscall(SYS_gettid);
    if (!rc)
        rc = tracerec_follow(rec, &tid, 1, why, whylen);
    if (!rc && tracerec_missing(rec)[0])
        snprintf(why, whylen, "tracepoints missing: %s", tracerec_missing(rec));
    if (!rc)
        rc = read_block(fd, nblocks, n, rng, buf, stop, out);
    if (!rc) {
        /* tracing off first (tracerec_stop, then its drain): this thread is
         * followed, and the drain's own read() calls on the buffers would
         * otherwise write syscall events as fast as it reads them */
        double c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        rc = tracerec_stop(rec);
        *drain_ns = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        *events = (double)tracerec_count(rec);
        if (!rc && tracerec_lost(rec) == 0 && *events == 0)
            rc = -EIO;
    }
    tracerec_free(rec);
    return rc;
}

static int put(json_t *params, const char *name, double value, const char *unit, size_t samples,
               const double *per_pair, size_t npairs, const char *source)
{
    json_t *pairs = json_array();
    for (size_t i = 0; pairs && i < npairs; i++)
        if (json_array_append_new(pairs, json_real(per_pair[i])))
            break;
    /* the file's shape (docs/calibration.md): a fixed value, no quantiles */
    json_t *o = pairs ? json_pack("{s:f, s:s, s:I, s:{s:s}, s:o, s:s}", "value", value, "unit",
                                  unit, "samples", (json_int_t)samples, "fit", "dist", "fixed",
                                  "pairs", pairs, "source", source)
                      : NULL;
    if (!o || json_object_set_new(params, name, o))
        return -ENOMEM;
    return 0;
}

static double median(double *x, size_t n)
{
    double s[MAXPAIRS];
    memcpy(s, x, n * sizeof(*x));
    gsl_sort(s, 1, n);
    return gsl_stats_median_from_sorted_data(s, 1, n);
}

int caltrace_calibrate(int fd, uint64_t nblocks, int cpu, int quick, json_t *params,
                       const volatile sig_atomic_t *stop, char *why, size_t whylen)
{
    why[0] = 0;
    if (nblocks == 0)
        return -EINVAL;
    unsigned npairs = quick ? 2 : 4, n = quick ? 150 : 1000;
    calprobe_pin_t pin;
    int prc = calprobe_pin(cpu, &pin);
    if (prc)
        return prc;
    void *buf = NULL;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = rng && posix_memalign(&buf, BLK, BLK) == 0 ? 0 : -ENOMEM;
    if (rng)
        gsl_rng_set(rng, 0x7ace0000u + (unsigned long)(cpu < 0 ? 0 : cpu));
    double dcpu[MAXPAIRS], dwall[MAXPAIRS], perev[MAXPAIRS], evrd[MAXPAIRS];
    block_t u = {0}, t = {0};
    /* one untraced warm-up block: the first reads of a step pay for the
     * device's and the page tables' cold state */
    if (!rc)
        rc = read_block(fd, nblocks, n / 4 + 1, rng, buf, stop, &u);
    for (unsigned i = 0; i < npairs && !rc; i++) {
        double drain = 0, events = 0;
        for (int k = 0; k < 2 && !rc; k++) {
            if ((k == 0) == (i % 2 == 0))
                rc = read_block(fd, nblocks, n, rng, buf, stop, &u);
            else
                rc = traced_block(fd, nblocks, n, rng, buf, stop, &t, &drain, &events, why,
                                  whylen);
        }
        if (rc)
            break;
        dcpu[i] = t.cpu_ns - u.cpu_ns;
        dwall[i] = t.wall_ns - u.wall_ns;
        perev[i] = events > 0 ? drain / events : 0;
        evrd[i] = events / n;
    }
    if (!rc) {
        char src[640];
        double v = median(dcpu, npairs);
        snprintf(src, sizeof(src),
                 "CPU time tracing adds to one blocking 4 KiB O_DIRECT pread of a thread pinned "
                 "to CPU %d: %u pairs of %u-read blocks, untraced and under the recorder of "
                 "`trace record` (its default events, the thread followed for its syscall and "
                 "irq events), order alternating; CLOCK_THREAD_CPUTIME_ID around each call, "
                 "the block's mean; median over pairs of traced - untraced (pairs: each "
                 "pair's difference)%s",
                 cpu, npairs, n, v < 0 ? "; the median was < 0: set to 0" : "");
        rc = put(params, "trace_syscall_ns", v > 0 ? v : 0, "ns", (size_t)npairs * n * 2, dcpu,
                 npairs, src);
        if (!rc) {
            v = median(dwall, npairs);
            snprintf(src, sizeof(src),
                     "the same blocks on the wall clock (CLOCK_MONOTONIC around each pread): "
                     "median over pairs of the traced - untraced mean read time; the syscall "
                     "path's CPU (trace_syscall_ns) included");
            rc = put(params, "trace_read_wall_ns", v, "ns", (size_t)npairs * n * 2, dwall,
                     npairs, src);
        }
        if (!rc) {
            snprintf(src, sizeof(src),
                     "the recorder's CPU time (CLOCK_THREAD_CPUTIME_ID of the thread calling "
                     "tracerec_drain, as `trace record` does every 50 ms, on CPU %d) over the "
                     "events it drained after each traced block; median over the %u blocks",
                     cpu, npairs);
            rc = put(params, "trace_drain_event_ns", median(perev, npairs), "ns", npairs, perev,
                     npairs, src);
        }
        if (!rc) {
            snprintf(src, sizeof(src),
                     "events the recorder drained per traced read (every event the host wrote "
                     "into its instances during a %u-read block, over its reads); median over "
                     "the %u blocks",
                     n, npairs);
            rc = put(params, "trace_events_per_read", median(evrd, npairs), "event", npairs,
                     evrd, npairs, src);
        }
    }
    free(buf);
    if (rng)
        gsl_rng_free(rng);
    calprobe_unpin(&pin);
    return rc;
}
