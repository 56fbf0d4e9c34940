/*
 * calib.c - see calib.h.
 *
 * Order of work: scratch file (or the caller's target, checked for holes);
 * which CPU the device's vector fires on
 * (/proc/interrupts deltas, confirmed by the trace); untraced QD1 reads
 * pinned to that CPU and to one other (the fio-comparable numbers); the
 * same runs traced, joined per request, for the device service time and
 * the completion chain split by waiter locality; then the CPU-only probes.
 * The QD1 stages are guarded against a passing host disturbance (calguard.h,
 * guard_* here): a stage whose blocks disagree or that is slower than its
 * CPU's untraced reads is taken again, and the whole set where the end's
 * reference probe shows it was all taken in a slowed state.
 */
#define _GNU_SOURCE
#include "calib.h"

#include "calibrate/calbatch.h"
#include "calibrate/calguard.h"
#include "calibrate/caltrace.h"
#include "calibrate/calhog.h"
#include "calibrate/calprobe.h"
#include "calibrate/calqd.h"
#include "calibrate/calrdma.h"
#include "calibrate/calsched.h"
#include "calibrate/calstat.h"
#include "sim/calfmt.h"
#include "calibrate/nvmetime.h"
#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"
#include "calibrate/tracerec.h"

#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <limits.h>
#include <math.h>
#include <numa.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* The guarded stages (the guard: calguard.h, guard_* below). */
enum { GS_QD1_0, GS_QD1_1, GS_PER_KIB, GS_IRQ_BUSY, GS_TRACED_0, GS_TRACED_1, GS_N };

typedef struct {
    const calib_opts_t *o;
    json_t *params;
    char notes[4096];
    int step, nsteps;
    /* The guard of the QD1 stages (calguard.h): each stage is re-taken
     * while its blocks disagree, at most CALGUARD_RETAKES times; all of
     * them together where the end's reference probe says the whole set
     * was taken in a slowed host state (guard_end). */
    struct {
        int disturbed;        /* the take of the stage now being taken failed */
        char why[256];        /* why */
        double worst_block;   /* that take's furthest block (calguard_blocks) */
        double level;         /* that take's median over the anchor - 1 (NAN: none) */
        int whole;            /* re-takes of the whole set */
        int takes[GS_N];      /* takes of each stage, the whole set's included */
        int set_takes[GS_N];  /* takes of each stage in the current set */
        char hist[GS_N][512]; /* why each earlier take of a stage was set aside */
        char blocks[640];     /* each take's furthest block, for the notes */
        double anchor[2];     /* the untraced QD1 median per cpu[i], latest take */
        double ref_min[2];    /* the fastest reference median seen per cpu[i] */
        json_t *keys;         /* the parameters the guarded stages write */
    } g;
    int fd, created, writable; /* created: our scratch file (closed and removed at the end) */
    char path[PATH_MAX];
    uint64_t nblocks;
    int irq_cpu, cpu[2], ncpu_used;
    char ctrl[64], device[512];
    char disk[64]; /* "nvme0n1": the disk under the target */
} cal_t;

/* Sample counts: quick / full. */
typedef struct {
    size_t file_mib, qd1, qd1_traced, writes_traced, pingpong, ctxsw, poll;
    int submit_reps, wait_reps, mem_reps, reg_reps;
    double hog_secs; /* per duty cycle of the wakeup-under-hog step */
} sizes_t;

static const sizes_t quick_sizes = {64, 2000, 1500, 300, 3000, 50, 50, 30, 2000, 10, 5, 1.0};
static const sizes_t full_sizes = {256, 20000, 10000, 3000, 30000, 500, 500, 200, 20000, 20, 20, 3.0};

static void note(cal_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(cal_t *c, const char *fmt, ...)
{
    size_t len = strlen(c->notes);
    if (len + 3 >= sizeof(c->notes))
        return;
    if (len)
        len += (size_t)snprintf(c->notes + len, sizeof(c->notes) - len, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->notes + len, sizeof(c->notes) - len, fmt, ap);
    va_end(ap);
}

/* A guarded stage's samples, in measurement order (before anything sorts
 * them): its consecutive blocks must agree (calguard_blocks). */
static int guard_blocks(cal_t *c, const char *stage, const double *x, size_t n)
{
    calguard_blocks_t b;
    int rc = calguard_blocks(x, n, CALGUARD_BLOCKS, CALGUARD_MIN_BLOCK, CALGUARD_BLOCK_TOL, &b);
    if (rc || !b.checked)
        return rc;
    if (fabs(b.worst_dev) >= fabs(c->g.worst_block))
        c->g.worst_block = b.worst_dev;
    if (b.disturbed && !c->g.disturbed) {
        c->g.disturbed = 1;
        snprintf(c->g.why, sizeof(c->g.why),
                 "%s: block %zu of %zu had median %+.1f%% off the median of the block medians "
                 "(%.1f us), threshold %.0f%%",
                 stage, b.worst + 1, b.nblocks, 100 * b.worst_dev, b.center / 1e3,
                 100 * CALGUARD_BLOCK_TOL);
    }
    return 0;
}

/* A guarded stage of QD1 4 KiB reads on cpu against the anchor, the
 * untraced QD1 reads on that CPU: a stage slower by more than
 * CALGUARD_STATE_TOL was taken in a slowed host state (a traced run pays the
 * probe effect too, 2-11% here: docs/calibration.md, "Disturbed stages").
 * Only slower: an anchor slower than what follows it is guard_end's. */
static void guard_level(cal_t *c, const char *stage, const double *x, size_t n, int cpu)
{
    int i = cpu == c->cpu[0] ? 0 : c->ncpu_used > 1 && cpu == c->cpu[1] ? 1 : -1;
    if (i < 0 || !(c->g.anchor[i] > 0) || n == 0)
        return;
    double m = calguard_median(x, n), d = calguard_dev(m, c->g.anchor[i]);
    c->g.level = d;
    if (d > CALGUARD_STATE_TOL && !c->g.disturbed) {
        c->g.disturbed = 1;
        snprintf(c->g.why, sizeof(c->g.why),
                 "%s: median %.1f us, %+.1f%% above the untraced QD1 reads on CPU %d (%.1f us), "
                 "threshold %.0f%%",
                 stage, m / 1e3, 100 * d, cpu, c->g.anchor[i] / 1e3, 100 * CALGUARD_STATE_TOL);
    }
}

static void append(char *buf, size_t size, const char *sep, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, const char *sep, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len && len < size)
        len += (size_t)snprintf(buf + len, size - len, "%s", sep);
    if (len >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

/* What a re-take adds to a stage's seed: its reads go to other offsets
 * than the set-aside take's (0 on the first take: its offsets unchanged). */
static uint64_t take_seed(const cal_t *c, int id)
{
    return 1000 * (uint64_t)c->g.takes[id];
}

static void stage_begin(cal_t *c)
{
    c->g.disturbed = 0;
    c->g.why[0] = '\0';
    c->g.worst_block = 0;
    c->g.level = NAN;
}

/* After a take of stage id: 1 when it is to be taken again (its blocks
 * disagreed and re-takes are left). */
static int stage_again(cal_t *c, int id, const char *label)
{
    int t = ++c->g.takes[id];
    int in_set = ++c->g.set_takes[id];
    append(c->g.blocks, sizeof(c->g.blocks), ", ", "%s %+.1f%%", label, 100 * c->g.worst_block);
    if (!isnan(c->g.level))
        append(c->g.blocks, sizeof(c->g.blocks), "", " (median %+.1f%% on the anchor)",
               100 * c->g.level);
    if (!c->g.disturbed)
        return 0;
    if (in_set > CALGUARD_RETAKES) {
        append(c->g.hist[id], sizeof(c->g.hist[id]), ", then ", "take %d kept although %s", t,
               c->g.why);
        note(c, "guard: %s disturbed in its last take too, kept: %s", label, c->g.why);
        return 0;
    }
    append(c->g.hist[id], sizeof(c->g.hist[id]), ", then ", "take %d set aside: %s", t, c->g.why);
    note(c, "guard: %s re-taken, take %d disturbed: %s", label, t, c->g.why);
    c->nsteps += id != GS_PER_KIB; /* (the per-KiB reads print no step) */
    return 1;
}

static void progress(cal_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(cal_t *c, const char *fmt, ...)
{
    c->step++;
    if (!c->o->progress)
        return;
    char line[256];
    int n = snprintf(line, sizeof(line), "calibrate [%d/%d] ", c->step, c->nsteps);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    c->o->progress(c->o->progress_arg, line);
}

/* ---- parameters ------------------------------------------------------- */

static int put(cal_t *c, const char *name, json_t *p)
{
    if (!p || json_object_set_new(c->params, name, p))
        return -ENOMEM;
    return 0;
}

/* A distribution parameter from samples; skipped (0) when there are none. */
static int put_samples(cal_t *c, const char *name, calstat_vec_t *v, const char *unit,
                       const char *source)
{
    if (v->n == 0)
        return 0;
    calstat_param_t p;
    calstat_from_samples(v->v, v->n, &p);
    return put(c, name, calstat_json(&p, unit, NULL, source));
}

/* A front-of-path stage measured on both sides (chain_t): NAME from the
 * reads whose waiter ran on the interrupt's CPU, NAME with "_cross" before
 * "_ns" from the others (models/costs.h, side-conditioned costs); NAME from
 * the others where there were none on the interrupt's CPU. */
static int put_sided(cal_t *c, const char *name, calstat_vec_t v[2], const char *source)
{
    static const char *const side[2] = {"waiter on the interrupt's CPU",
                                        "waiter on another CPU"};
    int only_cross = v[0].n == 0, rc = 0;
    for (int x = 0; x < 2 && !rc; x++) {
        char nm[64], src[400];
        size_t stem = strlen(name) - strlen("_ns");
        if (x && !only_cross)
            snprintf(nm, sizeof(nm), "%.*s_cross_ns", (int)stem, name);
        else
            snprintf(nm, sizeof(nm), "%s", name);
        snprintf(src, sizeof(src), "%s; %s", source, side[x]);
        rc = put_samples(c, nm, &v[x], "ns", src);
    }
    return rc;
}

/* A linear parameter: value is the slope (use_slope) or the intercept. */
static int put_linear(cal_t *c, const char *name, const calstat_vec_t *x, const calstat_vec_t *y,
                      int use_slope, const char *unit, const char *x_unit, const char *source)
{
    calstat_param_t p;
    if (calstat_linear(x->v, y->v, x->n, &p))
        return 0;
    p.value = use_slope ? p.fit.b : p.fit.a;
    if (p.value < 0) { /* the loader takes values >= 0; the fit stays as measured */
        note(c, "%s: fitted %s %.1f < 0, value set to 0", name, use_slope ? "slope" : "intercept",
             p.value);
        p.value = 0;
    }
    return put(c, name, calstat_json(&p, unit, x_unit, source));
}

static int put_fixed(cal_t *c, const char *name, double value, const char *unit, size_t samples,
                     const char *source)
{
    calstat_param_t p = {.value = value, .samples = samples, .fit = {.dist = CALSTAT_FIXED}};
    return put(c, name, calstat_json(&p, unit, NULL, source));
}

/* A parameter this run could not measure: "value": null says so, so that
 * nobody mistakes a default for a measurement (the loader skips it). */
static int put_unmeasured(cal_t *c, const char *name, const char *unit, const char *why)
{
    return put(c, name, json_pack("{s:n, s:s, s:i, s:s}", "value", "unit", unit, "samples", 0,
                                  "source", why));
}

/* ---- scratch file and device ------------------------------------------ */

/* The first hole (or unwritten extent) below `end`, or -1. A file system
 * without SEEK_HOLE reports the whole file as data (the generic lseek). */
static off_t first_hole(int fd, uint64_t end)
{
    off_t h = lseek(fd, 0, SEEK_HOLE);
    return h >= 0 && (uint64_t)h < end ? h : -1;
}

/* The caller's target: reads within its first nblocks 4 KiB blocks. */
static int use_target(cal_t *c, const calib_target_t *t, char *err, size_t errlen)
{
    snprintf(c->path, sizeof(c->path), "%s", t->path);
    c->fd = t->fd;
    c->writable = t->writable;
    c->nblocks = t->size / 4096;
    if (c->nblocks < 256) {
        snprintf(err, errlen, "%s: too small to measure (%llu bytes; at least 1 MiB)", c->path,
                 (unsigned long long)t->size);
        return -EINVAL;
    }
    off_t hole = t->blockdev ? -1 : first_hole(c->fd, c->nblocks * 4096);
    if (hole >= 0) {
        snprintf(err, errlen, "%s: has a hole or unwritten extent at byte %lld (SEEK_HOLE); reads "
                 "there are answered without device I/O. Write it with data first, or let "
                 "calibrate make its own file (--create SIZE, or a directory)", c->path,
                 (long long)hole);
        return -EINVAL;
    }
    return 0;
}

static int make_target(cal_t *c, char *err, size_t errlen)
{
    if (c->o->open)
        return use_target(c, c->o->open, err, errlen);
    const char *t = c->o->target;
    struct stat st, root;
    int is_dir = !t || (stat(t, &st) == 0 && S_ISDIR(st.st_mode));
    if (is_dir) {
        const char *dir = t;
        if (!dir) /* a temp file on the root disk: /var/tmp when it is on / */
            dir = (stat("/var/tmp", &st) == 0 && stat("/", &root) == 0 && st.st_dev == root.st_dev)
                      ? "/var/tmp"
                      : "/";
        snprintf(c->path, sizeof(c->path), "%s/latsurf-calib-XXXXXX", dir);
        c->fd = mkostemp(c->path, O_DIRECT);
    } else {
        snprintf(c->path, sizeof(c->path), "%s", t);
        c->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_DIRECT, 0600);
    }
    if (c->fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s%s", c->path, strerror(e),
                 e == EEXIST ? " (give a new file name or a directory)"
                 : e == EINVAL ? " (the file system has no O_DIRECT)"
                               : "");
        return -EINVAL;
    }
    c->created = c->writable = 1;
    return 0;
}

static int fill_target(cal_t *c, size_t mib)
{
    void *buf;
    if (posix_memalign(&buf, 4096, 1 << 20))
        return -ENOMEM;
    for (size_t i = 0; i < (1 << 20) / sizeof(uint64_t); i++)
        ((uint64_t *)buf)[i] = i * 0x9e3779b97f4a7c15ull;
    int rc = 0;
    for (size_t i = 0; i < mib && !rc; i++) {
        if (*c->o->stop)
            rc = -EINTR;
        else if (pwrite(c->fd, buf, 1 << 20, (off_t)(i << 20)) != 1 << 20)
            rc = errno ? -errno : -EIO;
    }
    free(buf);
    if (!rc && fsync(c->fd))
        rc = -errno;
    c->nblocks = (uint64_t)mib * 256;
    return rc;
}

static void read_line(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(out, (int)n, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* The disk under the target, its controller ("virtio1", "nvme0": the
 * prefix of its interrupt names) and a description for provenance. */
static void describe_device(cal_t *c)
{
    struct stat st;
    char link[PATH_MAX], real[PATH_MAX], disk[64] = "?", sched[128], rq[16];
    snprintf(c->device, sizeof(c->device), "unknown");
    if (fstat(c->fd, &st))
        return;
    dev_t dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
    snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
    if (!realpath(link, real))
        return;
    char part[PATH_MAX + 16];
    snprintf(part, sizeof(part), "%s/partition", real);
    if (access(part, F_OK) == 0)
        *strrchr(real, '/') = '\0';
    snprintf(disk, sizeof(disk), "%s", strrchr(real, '/') + 1);
    snprintf(c->disk, sizeof(c->disk), "%s", disk);
    snprintf(link, sizeof(link), "/sys/block/%s/device", disk);
    if (realpath(link, real))
        snprintf(c->ctrl, sizeof(c->ctrl), "%s", strrchr(real, '/') + 1);
    int hwq = 0;
    for (int i = 0; i < 1024; i++) {
        snprintf(link, sizeof(link), "/sys/block/%s/mq/%d", disk, i);
        if (access(link, F_OK) != 0)
            break;
        hwq++;
    }
    snprintf(link, sizeof(link), "/sys/block/%s/queue/scheduler", disk);
    read_line(link, sched, sizeof(sched));
    char *open = strchr(sched, '['), *close = open ? strchr(open, ']') : NULL;
    if (open && close) {
        *close = '\0';
        memmove(sched, open + 1, strlen(open + 1) + 1);
    }
    snprintf(link, sizeof(link), "/sys/block/%s/queue/rq_affinity", disk);
    read_line(link, rq, sizeof(rq));
    snprintf(c->device, sizeof(c->device),
             "%s (controller %s, blk-mq %d hw queue%s, scheduler %s, rq_affinity %s)", disk,
             c->ctrl[0] ? c->ctrl : "?", hwq, hwq == 1 ? "" : "s", sched[0] ? sched : "?",
             rq[0] ? rq : "?");
}

/* ---- the measurement steps -------------------------------------------- */

static int first_allowed(int except)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set))
        return except == 0 ? -1 : 0;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &set) && i != except)
            return i;
    return -1;
}

static int irq_cpu_from_counts(cal_t *c)
{
    enum { MAXC = 256 };
    uint64_t before[MAXC], after[MAXC];
    int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
    ncpu = ncpu > MAXC ? MAXC : ncpu;
    c->irq_cpu = -1;
    if (!c->ctrl[0] || calprobe_irq_counts(c->ctrl, before, ncpu) <= 0)
        return 0;
    calprobe_io_t *io = calloc(300, sizeof(*io));
    if (!io)
        return -ENOMEM;
    int rc = calprobe_qd1(c->fd, c->nblocks, first_allowed(-1), 0, 300, 1, io, c->o->stop);
    free(io);
    if (rc)
        return rc;
    if (calprobe_irq_counts(c->ctrl, after, ncpu) <= 0)
        return 0;
    uint64_t best = 0;
    for (int i = 0; i < ncpu; i++)
        if (after[i] - before[i] > best) {
            best = after[i] - before[i];
            c->irq_cpu = i;
        }
    return 0;
}

/* A probe less its base: each of v's samples less the median of base
 * (sorted here), at least 0; returns that median. */
static double less_median(calstat_vec_t *v, calstat_vec_t *base)
{
    if (!base->n)
        return 0;
    gsl_sort(base->v, 1, base->n);
    double b = gsl_stats_median_from_sorted_data(base->v, 1, base->n);
    for (size_t i = 0; i < v->n; i++)
        v->v[i] = v->v[i] > b ? v->v[i] - b : 0;
    return b;
}

/* device_read_ns_per_kib: what each KiB beyond 4 adds to a QD1 read, from
 * n 64 KiB reads against n 4 KiB reads just before them (same CPU, same
 * file, untraced): the quantile differences, the i-th shortest 64 KiB read
 * less the i-th shortest 4 KiB one (at least 0), per extra KiB. The
 * device's transfer and the host's DMA mapping of the larger buffer; the
 * simulator charges it to calibrated reads beyond 4 KiB instead of the
 * unmeasured PCIe rate, drawn at the quantile of the read's own 4 KiB
 * device time ("drawn_with"), so that the two add up to the 64 KiB reads'
 * distribution. (Until 2026-12-08 each 64 KiB read less the 4 KiB median,
 * drawn apart: the sum carried both spreads, and a 64 KiB QD1 read's
 * simulated p99 was about twice the measured one, docs/validation.md.) */
static int read_per_kib(cal_t *c, int cpu, size_t n)
{
    enum { BIG = 65536 };
    if (c->nblocks < 2 * BIG / 4096 || n < 20)
        return 0;
    calprobe_io_t *small = calloc(n, sizeof(*small)), *big = calloc(n, sizeof(*big));
    calstat_vec_t v = {0}, s = {0};
    int rc = small && big ? 0 : -ENOMEM;
    if (!rc)
        rc = calprobe_qd1_bytes(c->fd, c->nblocks, cpu, 0, 4096, n,
                                300 + take_seed(c, GS_PER_KIB), small, c->o->stop);
    if (!rc)
        rc = calprobe_qd1_bytes(c->fd, c->nblocks, cpu, 0, BIG, n,
                                301 + take_seed(c, GS_PER_KIB), big, c->o->stop);
    for (size_t i = 0; i < n && !rc; i++)
        rc = calstat_push(&s, (double)(small[i].t_done - small[i].t_submit));
    for (size_t i = 0; i < n && !rc; i++)
        rc = calstat_push(&v, (double)(big[i].t_done - big[i].t_submit));
    if (!rc)
        rc = guard_blocks(c, "QD1 4 KiB reads of device_read_ns_per_kib", s.v, s.n);
    if (!rc)
        rc = guard_blocks(c, "QD1 64 KiB reads of device_read_ns_per_kib", v.v, v.n);
    if (!rc)
        guard_level(c, "QD1 4 KiB reads of device_read_ns_per_kib", s.v, s.n, cpu);
    if (!rc) {
        gsl_sort(s.v, 1, s.n);
        gsl_sort(v.v, 1, v.n);
        double base = gsl_stats_median_from_sorted_data(s.v, 1, s.n);
        if (s.n < v.n)
            v.n = s.n;
        for (size_t i = 0; i < v.n; i++)
            v.v[i] = (v.v[i] > s.v[i] ? v.v[i] - s.v[i] : 0) / ((BIG - 4096) / 1024.0);
        char src[320];
        snprintf(src, sizeof(src),
                 "io_uring QD1 64 KiB O_DIRECT random reads on CPU %d against as many 4 KiB "
                 "reads just before (median %.0f ns): the i-th shortest of each, differenced, "
                 "per KiB beyond 4, untraced; drawn at the 4 KiB device time's quantile",
                 cpu, base);
        calstat_param_t p;
        calstat_from_samples(v.v, v.n, &p);
        json_t *j = calstat_json(&p, "ns/KiB", NULL, src);
        if (!j || json_object_set_new(j, "drawn_with", json_string("device_read_4k_ns")))
            rc = -ENOMEM;
        else
            rc = put(c, "device_read_ns_per_kib", j);
    }
    calstat_vec_free(&v);
    calstat_vec_free(&s);
    free(small);
    free(big);
    return rc;
}

/* irq_busy_ns: what a running interrupt CPU adds to a read. QD1 reads from
 * the other CPU, first with the interrupt's CPU idle, then with a thread
 * spinning in user space there: each read of the second run less the
 * median of the first. On a VM the interrupt must be injected into a
 * running vCPU (an exit, as for a reschedule IPI: ipi_kick) and the
 * spinning vCPU competes with the device's emulation; a trace here showed
 * block_rq_issue -> irq_handler_entry 35 -> 50 us at the median and the
 * whole read 62 -> 95 us. Not read by the simulator yet (docs/models.md). */
static int irq_busy(cal_t *c, size_t n)
{
    int irq = c->cpu[0], me = c->cpu[1];
    progress(c, "QD1 reads from CPU %d beside a thread spinning on the interrupt's CPU %d", me,
             irq);
    calprobe_io_t *io = calloc(n, sizeof(*io));
    calstat_vec_t base = {0}, v = {0};
    if (!io)
        return -ENOMEM;
    int rc = calprobe_qd1(c->fd, c->nblocks, me, 0, n, 400 + take_seed(c, GS_IRQ_BUSY), io,
                          c->o->stop);
    for (size_t i = 0; i < n && !rc; i++)
        rc = calstat_push(&base, (double)(io[i].t_done - io[i].t_submit));
    if (!rc)
        rc = calprobe_qd1_beside_spinner(c->fd, c->nblocks, me, irq, n,
                                         401 + take_seed(c, GS_IRQ_BUSY), io, c->o->stop);
    for (size_t i = 0; i < n && !rc; i++)
        rc = calstat_push(&v, (double)(io[i].t_done - io[i].t_submit));
    if (!rc)
        rc = guard_blocks(c, "irq_busy_ns's reads, interrupt CPU idle", base.v, base.n);
    if (!rc)
        rc = guard_blocks(c, "irq_busy_ns's reads beside the spinner", v.v, v.n);
    if (!rc)
        guard_level(c, "irq_busy_ns's reads, interrupt CPU idle", base.v, base.n, me);
    if (!rc) {
        double b = less_median(&v, &base);
        char src[320];
        snprintf(src, sizeof(src),
                 "QD1 4 KiB reads from CPU %d with a thread spinning in user space on the "
                 "interrupt's CPU %d, each less the median read with that CPU idle (%.0f ns) "
                 "just before; untraced",
                 me, irq, b);
        rc = put_samples(c, "irq_busy_ns", &v, "ns", src);
    }
    calstat_vec_free(&base);
    calstat_vec_free(&v);
    free(io);
    return rc;
}

static int qd1_untraced(cal_t *c, int cpu, size_t n)
{
    calprobe_io_t *io = calloc(n, sizeof(*io));
    calstat_vec_t v = {0};
    if (!io)
        return -ENOMEM;
    int id = c->ncpu_used > 1 && cpu == c->cpu[1] ? GS_QD1_1 : GS_QD1_0;
    int rc = calprobe_qd1(c->fd, c->nblocks, cpu, 0, n, 100 + (uint64_t)cpu + take_seed(c, id),
                          io, c->o->stop);
    for (size_t i = 0; i < n && !rc; i++)
        rc = calstat_push(&v, (double)(io[i].t_done - io[i].t_submit));
    if (!rc) {
        char stage[64];
        snprintf(stage, sizeof(stage), "untraced QD1 reads on CPU %d", cpu);
        rc = guard_blocks(c, stage, v.v, v.n);
        for (int i = 0; i < 2; i++)
            if (c->cpu[i] == cpu)
                c->g.anchor[i] = calguard_median(v.v, v.n);
    }
    if (!rc) {
        char name[48], src[160];
        snprintf(name, sizeof(name), "qd1_read_p50_cpu%d_ns", cpu);
        snprintf(src, sizeof(src),
                 "io_uring QD1 4 KiB O_DIRECT random reads, thread pinned to CPU %d, submit to "
                 "CQE reaped (user space), untraced; value = p50", cpu);
        rc = put_samples(c, name, &v, "ns", src);
    }
    calstat_vec_free(&v);
    free(io);
    return rc;
}

/* Samples from the traced runs, [0] = waiter on the completion CPU, [1] = not.
 * The front of the path is split the same way (put_sided): with the waiter
 * elsewhere the interrupt's CPU sits idle between requests and the submit
 * comes from another CPU, and both show in the stages (docs/calibration.md). */
typedef struct {
    calstat_vec_t dispatch[2], dev_read[2], irq_handler[2], blk_complete[2];
    calstat_vec_t dev_write, ipi, ipi_idle;
    calstat_vec_t task_work, cqe_post, nvme_read;
    calstat_vec_t c2cqe[2], cqe2run[2], c2wake[2], wake2run[2];
    /* whole chains of one request, [same/cross]: (idle, complete_to_cqe,
     * cqe_to_run, complete_to_wakeup or -1), four values each */
    calstat_vec_t whole[2];
    uint64_t irq_on[64], traced, joined, deferred, dev_no_irq;
} chain_t;

enum { CHAIN_NVEC = 24 };

static void chain_vecs(chain_t *ch, calstat_vec_t *out[CHAIN_NVEC])
{
    calstat_vec_t *all[CHAIN_NVEC] = {&ch->dispatch[0], &ch->dispatch[1], &ch->dev_read[0], &ch->dev_read[1],
                            &ch->irq_handler[0], &ch->irq_handler[1], &ch->blk_complete[0],
                            &ch->blk_complete[1], &ch->dev_write, &ch->ipi, &ch->ipi_idle, &ch->task_work,
                            &ch->cqe_post,   &ch->c2cqe[0],   &ch->c2cqe[1],   &ch->cqe2run[0],
                            &ch->cqe2run[1], &ch->c2wake[0],  &ch->c2wake[1],  &ch->wake2run[0],
                            &ch->wake2run[1], &ch->nvme_read, &ch->whole[0], &ch->whole[1]};
    memcpy(out, all, sizeof(all));
}

static void chain_free(chain_t *ch)
{
    calstat_vec_t *all[CHAIN_NVEC];
    chain_vecs(ch, all);
    for (size_t i = 0; i < CHAIN_NVEC; i++)
        calstat_vec_free(all[i]);
}

/* Where a traced run's samples begin, so that a disturbed run can be taken
 * again without them (guard). */
typedef struct {
    size_t n[CHAIN_NVEC];
    uint64_t irq_on[64], traced, joined, deferred, dev_no_irq;
} chain_mark_t;

static void chain_mark(chain_t *ch, chain_mark_t *m)
{
    calstat_vec_t *all[CHAIN_NVEC];
    chain_vecs(ch, all);
    for (size_t i = 0; i < CHAIN_NVEC; i++)
        m->n[i] = all[i]->n;
    memcpy(m->irq_on, ch->irq_on, sizeof(m->irq_on));
    m->traced = ch->traced;
    m->joined = ch->joined;
    m->deferred = ch->deferred;
    m->dev_no_irq = ch->dev_no_irq;
}

static void chain_rewind(chain_t *ch, const chain_mark_t *m)
{
    calstat_vec_t *all[CHAIN_NVEC];
    chain_vecs(ch, all);
    for (size_t i = 0; i < CHAIN_NVEC; i++)
        all[i]->n = m->n[i];
    memcpy(ch->irq_on, m->irq_on, sizeof(ch->irq_on));
    ch->traced = m->traced;
    ch->joined = m->joined;
    ch->deferred = m->deferred;
    ch->dev_no_irq = m->dev_no_irq;
}

static int gather(chain_t *ch, const tracejoin_t *j, int32_t tid, const calprobe_io_t *rd,
                  size_t nrd, int mono)
{
    int rc = 0;
    for (size_t i = 0; i < j->n && !rc; i++) {
        const tracejoin_req_t *r = &j->req[i];
        if (r->pid != tid || !(r->have & TJ_SUBMIT))
            continue;
        ch->traced++;
        if (!(r->have & TJ_READY))
            continue;
        ch->joined++;
        /* The device's time ends at its interrupt: the handler (and the
         * block completion inside or after it) is charged on its own as
         * irq_handler_ns / blk_complete_ns, so it must not be in here too. */
        double dev = (double)(((r->have & TJ_IRQ) ? r->t_irq : r->t_blk_done) - r->t_dispatch);
        ch->dev_no_irq += !(r->have & TJ_IRQ);
        if (r->write) {
            rc = calstat_push(&ch->dev_write, dev);
            continue;
        }
        int x = !tracejoin_same_cpu(r); /* 0 same, 1 cross */
        rc |= calstat_push(&ch->dev_read[x], dev);
        rc |= calstat_push(&ch->dispatch[x], (double)(r->t_dispatch - r->t_submit));
        ch->deferred += r->deferred;
        if (r->have & TJ_IRQ) {
            if (r->irq_cpu >= 0 && r->irq_cpu < 64)
                ch->irq_on[r->irq_cpu]++;
        }
        /* The model charges the handler, then the block completion, then
         * the chain from block_rq_complete: so the two samples split the
         * traced irq_handler_entry -> block_rq_complete in two at the
         * handler's exit (a softirq completion: the handler whole, then
         * what ran after it) or at block_rq_complete itself (completed
         * inside the handler, as nvme_irq does: the rest of the handler
         * is in the chain). Each counts once; and only where the block
         * completion ran on the interrupt's CPU (an IPI to the submitter
         * is ipi_ns, charged on its own). */
        if ((r->have & (TJ_IRQ | TJ_IRQ_EXIT)) == (TJ_IRQ | TJ_IRQ_EXIT) &&
            r->completion_cpu == r->irq_cpu && r->t_blk_done >= r->t_irq) {
            uint64_t split = r->t_irq_exit < r->t_blk_done ? r->t_irq_exit : r->t_blk_done;
            rc |= calstat_push(&ch->irq_handler[x], (double)(split - r->t_irq));
            rc |= calstat_push(&ch->blk_complete[x], (double)(r->t_blk_done - split));
        }
        rc |= calstat_push(&ch->c2cqe[x], (double)(r->t_cqe - r->t_blk_done));
        if (r->have & TJ_WAKEUP)
            rc |= calstat_push(&ch->c2wake[x], (double)(r->t_wakeup - r->t_blk_done));
        if ((r->have & (TJ_WAKEUP | TJ_RUN)) == (TJ_WAKEUP | TJ_RUN) && r->t_run >= r->t_wakeup)
            rc |= calstat_push(&ch->wake2run[x], (double)(r->t_run - r->t_wakeup));
        if ((r->have & TJ_RUN) && r->t_run <= r->t_cqe && r->cqe_pid == r->pid)
            rc |= calstat_push(&ch->task_work, (double)(r->t_cqe - r->t_run));
        if ((r->have & (TJ_IPI | TJ_WAKEUP)) == (TJ_IPI | TJ_WAKEUP) && r->t_wakeup >= r->t_ipi)
            rc |= calstat_push(r->consumer_idle == 1 ? &ch->ipi_idle : &ch->ipi,
                               (double)(r->t_wakeup - r->t_ipi));
        if (mono && r->user_data >= 1 && r->user_data <= nrd) {
            uint64_t seen = rd[r->user_data - 1].t_done;
            if (seen >= r->t_cqe) {
                rc |= calstat_push(&ch->cqe2run[x], (double)(seen - r->t_cqe));
                rc |= calstat_push(&ch->cqe_post, (double)(seen - r->t_cqe));
                /* the request's whole chain, kept together: its stages are
                 * correlated (a busy CPU delays the wakeup and the run) */
                double wake = (r->have & TJ_WAKEUP) && r->t_wakeup >= r->t_blk_done
                                  ? (double)(r->t_wakeup - r->t_blk_done)
                                  : -1;
                rc |= calstat_push(&ch->whole[x], r->consumer_idle == 1 ? 1 : 0);
                rc |= calstat_push(&ch->whole[x], (double)(r->t_cqe - r->t_blk_done));
                rc |= calstat_push(&ch->whole[x], (double)(seen - r->t_cqe));
                rc |= calstat_push(&ch->whole[x], wake);
            }
        }
    }
    return rc ? -ENOMEM : 0;
}

/* One recording: QD1 reads (and writes) pinned to cpu, joined per request. */
static int traced_run(cal_t *c, int cpu, size_t nreads, size_t nwrites, chain_t *ch)
{
    /* the nvme driver's own events on an NVMe disk (nvmetime.h) */
    int nvme = strncmp(c->disk, "nvme", 4) == 0;
    const char *const extra[] = {"irq/irq_handler_exit", nvme ? nvmetime_events[0] : NULL,
                                 nvmetime_events[1], NULL};
    tracerec_t *rec = NULL;
    char err[256];
    calprobe_io_t *rd = calloc(nreads, sizeof(*rd)), *wr = calloc(nwrites + 1, sizeof(*wr));
    FILE *tmp = NULL;
    traceparse_t tp;
    tracejoin_t tj;
    traceparse_init(&tp);
    tracejoin_init(&tj);
    int rc = rd && wr ? 0 : -ENOMEM;
    if (!rc && (rc = tracerec_start(extra, 16384, &rec, err, sizeof(err))))
        note(c, "tracing failed: %s", err);
    int id = c->ncpu_used > 1 && cpu == c->cpu[1] ? GS_TRACED_1 : GS_TRACED_0;
    if (!rc)
        rc = calprobe_qd1(c->fd, c->nblocks, cpu, 0, nreads,
                          200 + (uint64_t)cpu + take_seed(c, id), rd, c->o->stop);
    if (!rc && nwrites)
        rc = calprobe_qd1(c->fd, c->nblocks, cpu, 1, nwrites,
                          300 + (uint64_t)cpu + take_seed(c, id), wr, c->o->stop);
    if (!rc) {
        traceparse_err_t perr;
        rc = tracerec_readback(rec, &tp, &perr, &tmp);
        if (rc == -EINVAL)
            note(c, "own trace unreadable at line %u: %s", perr.line, perr.what);
    }
    if (!rc && nvme) {
        int pairs = nvmetime_reads(tmp, c->disk, &ch->nvme_read);
        rc = pairs < 0 ? pairs : 0;
    }
    if (!rc)
        rc = tracejoin_run(&tp, &tj);
    if (!rc)
        rc = gather(ch, &tj, (int32_t)syscall(SYS_gettid), rd, nreads,
                    strcmp(tracerec_clock(rec), "mono") == 0);
    if (!rc) {
        /* the same reads' user-space latency while traced: against
         * qd1_read_p50_cpuN_ns it shows what tracing adds to the stages */
        calstat_vec_t v = {0};
        for (size_t i = 0; i < nreads && !rc; i++)
            rc = calstat_push(&v, (double)(rd[i].t_done - rd[i].t_submit));
        char name[48], src[200];
        snprintf(name, sizeof(name), "traced QD1 reads on CPU %d", cpu);
        if (!rc)
            rc = guard_blocks(c, name, v.v, v.n);
        if (!rc)
            guard_level(c, name, v.v, v.n, cpu);
        snprintf(name, sizeof(name), "qd1_read_traced_cpu%d_ns", cpu);
        snprintf(src, sizeof(src), "the traced QD1 reads of CPU %d (tracefs on), submit to CQE "
                 "reaped in user space: qd1_read_p50_cpu%d_ns with tracing on", cpu, cpu);
        if (!rc)
            rc = put_samples(c, name, &v, "ns", src);
        calstat_vec_free(&v);
    }
    if (rec && tracerec_missing(rec)[0])
        note(c, "tracepoints missing: %s", tracerec_missing(rec));
    if (tmp)
        fclose(tmp);
    tracerec_free(rec);
    tracejoin_fini(&tj);
    traceparse_fini(&tp);
    free(rd);
    free(wr);
    return rc;
}

/* The hrtimer sleep: its overshoot (latency), and the CPU it costs, which
 * the overshoot's latency holds: the sleeping thread's own CPU time per
 * sleep (arming the timer, going to sleep, the switch back in; on a VM the
 * timer's programming traps), and the rest of the CPU's time not idle per
 * sleep (the expiry's interrupt and the idle exit and entry around it, run
 * in no thread): the pinned CPU's time less its idle time (/proc/stat:
 * tickless idle accounting, exact to its 10 ms units; n sleeps are long
 * enough to make that a fraction of a microsecond each) less the thread's.
 * Measured on the development VM: 13.5 us of thread CPU and 24.6 us of CPU
 * not idle a 50 us sleep, against 0 charged before 2026-12-08. */
static int timer_wake(cal_t *c, int cpu, size_t n)
{
    progress(c, "hrtimer sleep overshoot and its CPU (CPU %d)", cpu);
    calstat_vec_t v = {0}, tc = {0};
    static double ns[2][CALQD_MAXCPU][CALQD_NLEVEL], idle[2][CALQD_MAXCPU];
    unsigned want = (unsigned)cpu + 1;
    unsigned got0 = calqd_cpu_times_ns(ns[0], idle[0], want);
    uint64_t w0 = calprobe_now_ns();
    int rc = calprobe_timer(cpu, 50000, n, &v, &tc, c->o->stop);
    uint64_t w1 = calprobe_now_ns();
    unsigned got1 = calqd_cpu_times_ns(ns[1], idle[1], want);
    if (!rc)
        rc = put_samples(c, "timer_overshoot_ns", &v, "ns",
                         "clock_nanosleep(50 us) with timer slack 1 ns, thread pinned: actual - "
                         "asked (hrtimer expiry, interrupt and switch-in), as a hybrid poller's "
                         "sleep pays it");
    if (!rc)
        rc = put_samples(c, "timer_wake_cpu_ns", &tc, "ns",
                         "the same sleeps: the sleeping thread's own CPU time per sleep "
                         "(CLOCK_THREAD_CPUTIME_ID around clock_nanosleep: arming the timer, "
                         "going to sleep, the switch back in, the return)");
    if (!rc && tc.n && got0 == want && got1 == want) {
        double busy = ((double)(w1 - w0) - (idle[1][cpu] - idle[0][cpu])) / (double)tc.n;
        double rest = busy - gsl_stats_mean(tc.v, 1, tc.n);
        char src[360];
        snprintf(src, sizeof(src),
                 "the same %zu sleeps: CPU %d's time not idle per sleep (wall less /proc/stat "
                 "idle + iowait: %.0f ns) less the thread's own (timer_wake_cpu_ns): the "
                 "expiry's interrupt and the idle exit and entry, in no thread", tc.n, cpu, busy);
        rc = put_fixed(c, "timer_wake_irq_ns", rest > 0 ? rest : 0, "ns", tc.n, src);
    }
    calstat_vec_free(&v);
    calstat_vec_free(&tc);
    return rc;
}

/* The measured completion chains, whole: at most CALFMT_CHAIN_MAX per side
 * (evenly spaced in measurement order), for the simulator to resample
 * (models/costs.h, "completion_chains"). */
static int put_whole_chains(cal_t *c, const chain_t *ch)
{
    static const char *const side[2] = {"same", "cross"};
    json_t *o = json_object(), *sides = json_object();
    int bad = !o || !sides;
    size_t total = 0;
    for (int x = 0; x < 2 && !bad; x++) {
        size_t n = ch->whole[x].n / 4, keep = n < CALFMT_CHAIN_MAX ? n : CALFMT_CHAIN_MAX;
        json_t *a = json_array();
        bad |= !a;
        for (size_t k = 0; k < keep && !bad; k++) {
            const double *w = &ch->whole[x].v[4 * (k * n / keep)];
            bad |= json_array_append_new(a, json_pack("[i, I, I, I]", (int)w[0], (json_int_t)w[1],
                                                      (json_int_t)w[2], (json_int_t)w[3]));
        }
        total += keep;
        bad |= json_object_set_new(sides, side[x], a);
    }
    bad |= json_object_set_new(o, "value", json_integer((json_int_t)total));
    bad |= json_object_set_new(o, "unit", json_string("chains"));
    bad |= json_object_set_new(o, "samples", json_integer((json_int_t)total));
    bad |= json_object_set_new(o, "fields", json_pack("[s, s, s, s]", "waiter_cpu_idle",
                                                      "complete_to_cqe_ns", "cqe_to_run_ns",
                                                      "complete_to_wakeup_ns"));
    bad |= json_object_set_new(o, "fit", json_pack("{s:s}", "dist", "resample"));
    bad |= json_object_set_new(o, "chains", sides);
    sides = NULL;
    bad |= json_object_set_new(
        o, "source",
        json_string("tracefs, per joined QD1 read: block_rq_complete -> io_uring_complete -> "
                    "waiter running in user space, and -> sched_wakeup (-1: no wakeup), with "
                    "whether the waiter's CPU was idle at block_rq_complete; same: waiter on "
                    "the completion CPU"));
    if (bad) {
        json_decref(sides);
        json_decref(o);
        return -ENOMEM;
    }
    return total ? put(c, "completion_chains", o) : (json_decref(o), 0);
}

/* The median of a parameter already written (NAN when there is none). */
static double param_value(const cal_t *c, const char *fmt, int cpu)
{
    char name[64];
    snprintf(name, sizeof(name), fmt, cpu);
    json_t *v = json_object_get(json_object_get(c->params, name), "value");
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void scale(calstat_vec_t *v, double f, size_t from, size_t step)
{
    for (size_t i = from; i < v->n; i += step)
        if (v->v[i] > 0) /* (-1: no wakeup traced) */
            v->v[i] *= f;
}

/* The probe effect: every stage but the device's was traced, and each
 * tracepoint costs the CPU that fires it. The same reads untraced
 * (qd1_read_p50_cpuN_ns) are faster than traced (qd1_read_traced_cpuN_ns);
 * the device's time holds no tracepoint (the CPU that issued waits or runs
 * elsewhere), so the host stages of a side are scaled by
 * (untraced - device) / (traced - device) at the medians: their sum then
 * matches the untraced reads, and the tracing they paid is not charged to
 * the simulated requests. Never scaled up (noise), never below one half. */
static int probe_correct(cal_t *c, chain_t *ch)
{
    int rc = 0;
    for (int x = 0; x < 2 && x < c->ncpu_used; x++) {
        int cpu = c->cpu[x];
        double u = param_value(c, "qd1_read_p50_cpu%d_ns", cpu);
        double t = param_value(c, "qd1_read_traced_cpu%d_ns", cpu);
        if (!ch->dev_read[x].n || !isfinite(u) || !isfinite(t))
            continue;
        calstat_param_t d;
        calstat_from_samples(ch->dev_read[x].v, ch->dev_read[x].n, &d);
        double f = t > d.value && u > d.value ? (u - d.value) / (t - d.value) : 1;
        f = f > 1 ? 1 : f < 0.5 ? 0.5 : f;
        calstat_vec_t *host[] = {&ch->dispatch[x], &ch->irq_handler[x], &ch->blk_complete[x],
                                 &ch->c2cqe[x], &ch->cqe2run[x], &ch->c2wake[x],
                                 &ch->wake2run[x]};
        for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
            scale(host[i], f, 0, 1);
        for (size_t k = 1; k < 4; k++) /* whole chains: (idle, c2cqe, cqe2run, c2wake) */
            scale(&ch->whole[x], f, k, 4);
        char name[48];
        snprintf(name, sizeof(name), "probe_scale_%s", x ? "cross" : "same");
        rc |= put_fixed(c, name, f, "ratio", ch->dev_read[x].n,
                        "host stages of this side scaled by (untraced - device) / (traced - "
                        "device), QD1 read medians on the side's CPU: the tracepoints' own "
                        "cost taken out (calibrate/calib.c probe_correct)");
        note(c, "probe effect, waiter %s the interrupt's CPU: traced %.1f us, untraced %.1f us, "
                "device %.1f us: host stages x %.3f", x ? "off" : "on", t / 1e3, u / 1e3,
             d.value / 1e3, f);
    }
    return rc;
}

static int put_chain(cal_t *c, chain_t *ch)
{
    const char *same[2] = {"same", "cross"};
    int rc = probe_correct(c, ch);
    if (ch->dev_no_irq)
        note(c, "%llu I/Os had no device interrupt in the trace: their device time ends at "
                "block_rq_complete", (unsigned long long)ch->dev_no_irq);
    /* Each side's device time ends at irq_handler_entry, so it holds the
     * interrupt CPU's wake-up from idle as that side sees it (a CPU idle
     * for the whole device time, or since long); the model does not charge
     * idle_exit_ns on such an interrupt again (irq_set_woken). */
    rc |= put_sided(c, "device_read_4k_ns", ch->dev_read,
                    "tracefs block_rq_issue -> irq_handler_entry of the device vector, QD1 "
                    "4 KiB O_DIRECT reads (the handler is irq_handler_ns)");
    rc |= put_samples(c, "nvme_device_read_4k_ns", &ch->nvme_read, "ns",
                      "tracefs nvme_setup_cmd -> nvme_complete_rq (same qid and command id), "
                      "QD1 4 KiB reads: the NVMe command's time, without blk-mq");
    rc |= put_samples(c, "device_write_4k_ns", &ch->dev_write, "ns",
                      "tracefs block_rq_issue -> irq_handler_entry of the device vector, QD1 "
                      "4 KiB O_DIRECT writes to a file latsurf created (the scratch file, or "
                      "--allow-write)");
    rc |= put_sided(c, "irq_handler_ns", ch->irq_handler,
                    "tracefs irq_handler_entry -> irq_handler_exit of the device vector, "
                    "or -> block_rq_complete where the request completed inside the "
                    "handler; completions on the interrupt's CPU");
    rc |= put_sided(c, "blk_complete_ns", ch->blk_complete,
                    "tracefs irq_handler_exit -> block_rq_complete (the softirq completion "
                    "after the handler; 0 where it completed inside it), completions on the "
                    "interrupt's CPU: with irq_handler_ns a split of irq_handler_entry -> "
                    "block_rq_complete, each part counted once");
    rc |= put_sided(c, "blk_dispatch_ns", ch->dispatch,
                    "tracefs io_uring_submit_req -> block_rq_issue (io_uring prep, bio, "
                    "blk-mq and scheduler insert/dispatch), QD1 reads");
    /* An IPI to an idle CPU also pays for the CPU's exit from idle (on a VM,
     * a halt exit): split the samples by what the waiter's CPU was doing.
     * The wake-up of a sleeping waiter, kept as ipi_wake_ns (not a cost the
     * simulator reads: its wake-ups are the measured chains and
     * wakeup_cross_cpu_ns); ipi_ns is the kick of a running task
     * (ipi_kick), the IPI the model sends to a busy CPU. */
    enum { ENOUGH = 20 };
    if (ch->ipi.n >= ENOUGH && ch->ipi_idle.n >= ENOUGH) {
        calstat_param_t busy, idle;
        calstat_from_samples(ch->ipi.v, ch->ipi.n, &busy);
        calstat_from_samples(ch->ipi_idle.v, ch->ipi_idle.n, &idle);
        if (idle.value > busy.value)
            rc |= put_fixed(c, "idle_exit_ns", idle.value - busy.value, "ns", ch->ipi_idle.n,
                            "median(ipi_send_cpu -> sched_wakeup) when the waiter's CPU was "
                            "idle minus the same when it was busy");
        rc |= put_samples(c, "ipi_wake_ns", &ch->ipi, "ns",
                          "tracefs ipi_send_cpu (completion CPU -> waiter CPU) -> sched_wakeup "
                          "of the waiter, waiter's CPU busy (not idle)");
    } else {
        for (size_t i = 0; i < ch->ipi_idle.n && !rc; i++)
            rc = calstat_push(&ch->ipi, ch->ipi_idle.v[i]);
        rc |= put_samples(c, "ipi_wake_ns", &ch->ipi, "ns",
                          "tracefs ipi_send_cpu (completion CPU -> waiter CPU) -> sched_wakeup "
                          "of the waiter (includes idle exit where the CPU was idle)");
    }
    rc |= put_samples(c, "task_work_ns", &ch->task_work, "ns",
                      "tracefs sched_switch to the waiter -> io_uring_complete posted by its "
                      "task_work");
    rc |= put_samples(c, "cqe_post_ns", &ch->cqe_post, "ns",
                      "io_uring_complete (trace, mono clock) -> CQE reaped in user space "
                      "(CLOCK_MONOTONIC)");
    for (int x = 0; x < 2; x++) {
        char name[48], src[200];
        snprintf(name, sizeof(name), "complete_to_cqe_%s_ns", same[x]);
        snprintf(src, sizeof(src), "tracefs block_rq_complete -> io_uring_complete, waiter %s "
                 "the completion CPU", x ? "not on" : "on");
        rc |= put_samples(c, name, &ch->c2cqe[x], "ns", src);
        snprintf(name, sizeof(name), "cqe_to_run_%s_ns", same[x]);
        snprintf(src, sizeof(src), "io_uring_complete -> waiter running in user space with the "
                 "CQE, waiter %s the completion CPU", x ? "not on" : "on");
        rc |= put_samples(c, name, &ch->cqe2run[x], "ns", src);
        snprintf(name, sizeof(name), "complete_to_wakeup_%s_ns", same[x]);
        snprintf(src, sizeof(src), "tracefs block_rq_complete -> sched_wakeup of the waiter, "
                 "waiter %s the completion CPU", x ? "not on" : "on");
        rc |= put_samples(c, name, &ch->c2wake[x], "ns", src);
        snprintf(name, sizeof(name), "wakeup_to_run_%s_ns", same[x]);
        snprintf(src, sizeof(src), "tracefs sched_wakeup -> sched_switch to the waiter, "
                 "waiter %s the completion CPU", x ? "not on" : "on");
        rc |= put_samples(c, name, &ch->wake2run[x], "ns", src);
    }
    rc |= put_whole_chains(c, ch);
    return rc ? -ENOMEM : 0;
}

static int chain_step(cal_t *c, const sizes_t *sz)
{
    char why[256];
    if (!tracerec_available(why, sizeof(why))) {
        note(c, "no tracefs (%s): device service and completion-chain parameters not "
                "measured; device_read_4k_ns is the user-space QD1 latency on the IRQ CPU",
             why);
        return 0;
    }
    chain_t ch;
    memset(&ch, 0, sizeof(ch));
    int rc = 0;
    for (int i = 0; i < c->ncpu_used && !rc; i++) {
        chain_mark_t m;
        chain_mark(&ch, &m);
        char label[48];
        snprintf(label, sizeof(label), "traced QD1 reads on CPU %d", c->cpu[i]);
        do {
            chain_rewind(&ch, &m);
            stage_begin(c);
            progress(c, "traced QD1 reads%s pinned to CPU %d (tracefs)",
                     i == 0 && c->writable ? " and writes" : "", c->cpu[i]);
            rc = traced_run(c, c->cpu[i], sz->qd1_traced,
                            i == 0 && c->writable ? sz->writes_traced : 0, &ch);
        } while (!rc && stage_again(c, GS_TRACED_0 + i, label));
    }
    if (!rc) {
        uint64_t best = 0, total = 0;
        int cpu = -1;
        for (int i = 0; i < 64; i++) {
            total += ch.irq_on[i];
            if (ch.irq_on[i] > best) {
                best = ch.irq_on[i];
                cpu = i;
            }
        }
        if (cpu >= 0) {
            if (c->irq_cpu >= 0 && c->irq_cpu != cpu)
                note(c, "/proc/interrupts said the vector fires on CPU %d, the trace says %d",
                     c->irq_cpu, cpu);
            c->irq_cpu = cpu;
            rc = put_fixed(c, "irq_cpu", cpu, "cpu", total,
                           "CPU of irq_handler_entry for the device vector in the trace "
                           "(mode), agrees with /proc/interrupts deltas unless noted");
        }
        note(c, "traced %llu own I/Os, %llu joined per request, %.0f%% of reads completed "
                "through deferred work",
             (unsigned long long)ch.traced, (unsigned long long)ch.joined,
             ch.dev_read[0].n + ch.dev_read[1].n
                 ? 100.0 * (double)ch.deferred / (double)(ch.dev_read[0].n + ch.dev_read[1].n)
                 : 0.0);
    }
    if (!rc)
        rc = put_chain(c, &ch);
    chain_free(&ch);
    return rc;
}

/* The scheduler the simulator's CPU model follows (models/cpu.h). */
static int sched_params(cal_t *c)
{
    calsched_t s;
    calsched_read(&s);
    int rc = 0;
    if (s.version > 0)
        rc |= put_fixed(c, "kernel_version", s.version, "version", 1, s.version_src);
    else
        note(c, "kernel version unknown: the simulator's default (6.18) applies");
    if (s.hz > 0)
        rc |= put_fixed(c, "sched_hz", s.hz, "Hz", 1, s.hz_src);
    else
        note(c, "CONFIG_HZ not found (no /boot/config-* or /proc/config.gz): default 250 applies");
    if (s.preempt >= 0)
        rc |= put_fixed(c, "preempt_model", s.preempt, "model", 1, s.preempt_src);
    else
        note(c, "preemption model unknown: default none applies");
    return rc;
}

/* Wakeup-to-run of a thread beside a CPU hog on the IRQ CPU (calhog.h),
 * at 10% and 90% of a 4 ms period: duty cycles that no check uses
 * (bench/hog_vs_fio.sh runs 25, 50 and 75%), so the simulator's fair-class
 * rules can be checked against them without having been fitted to them. */
static int hog_probes(cal_t *c, int cpu, double secs)
{
    static const double duty[] = {10, 90};
    int rc = 0;
    for (size_t i = 0; i < sizeof(duty) / sizeof(duty[0]) && !rc; i++) {
        calhog_cfg_t h = {.period_us = 4000, .busy_us = 40 * duty[i], .sleep_us = 60,
                          .run_us = 10, .secs = secs};
        progress(c, "wakeup beside a CPU hog at %.0f%% of 4 ms (CPU %d)", duty[i], cpu);
        calstat_vec_t v = {0};
        double cps;
        rc = calhog_wakeup(cpu, &h, &v, &cps, c->o->stop);
        if (!rc && v.n) {
            char name[64];
            snprintf(name, sizeof(name), "wakeup_hog%.0f_ns", duty[i]);
            rc = put_samples(c, name, &v, "ns",
                             "a thread pinned beside a CPU hog (its own CPU time "
                             "busy_us per period_us, counted with "
                             "CLOCK_THREAD_CPUTIME_ID, as bench/hog.c): sleeps "
                             "sleep_us on an hrtimer (slack 1 ns), spins run_us; time "
                             "from the asked wake time to running in user space");
            /* how it was measured, beside the distribution */
            json_t *probe = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "period_us",
                                      h.period_us, "busy_us", h.busy_us, "sleep_us", h.sleep_us,
                                      "run_us", h.run_us, "secs", h.secs, "cycles_per_s", cps,
                                      "mean_ns", gsl_stats_mean(v.v, 1, v.n));
            json_t *param = json_object_get(c->params, name);
            if (rc || !param) {
                json_decref(probe);
                rc = rc ? rc : -ENOMEM;
            } else if (!probe || json_object_set_new(param, "probe", probe)) {
                rc = -ENOMEM;
            }
        }
        calstat_vec_free(&v);
    }
    return rc;
}

/* ipi_send_idle_ns: what waking a thread on another, idle CPU costs the
 * waker - the IPI, which on a VM kicks the halted vCPU (the sender waits
 * in the hypervisor meanwhile) - and the remote enqueue. Each cross
 * FUTEX_WAKE call that woke a sleeper, less the median call that woke
 * nobody (the syscall itself). A same-CPU wake is no base: the woken thread
 * preempts the waker inside its call. */
static int ipi_send_idle(cal_t *c, calstat_vec_t *cross)
{
    calstat_vec_t base = {0};
    int rc = calprobe_wake_nobody(c->cpu[0], 1000, &base);
    if (rc || base.n == 0 || cross->n < 10) {
        calstat_vec_free(&base);
        if (!rc)
            note(c, "too few futex wake calls that woke a sleeper: no ipi_send_idle_ns");
        return rc;
    }
    double b = less_median(cross, &base);
    calstat_vec_free(&base);
    char src[320];
    snprintf(src, sizeof(src),
             "futex ping-pong between two CPUs: the waker's FUTEX_WAKE call that woke the thread "
             "on the other, idle CPU, minus the median call that woke nobody (%.0f ns): the "
             "IPI's cost to its sender when its target is idle (a VM kicks the halted vCPU)",
             b);
    return put_samples(c, "ipi_send_idle_ns", cross, "ns", src);
}

/* ipi_send_ns, ipi_ns and ipi_recv_ns: the reschedule IPI that notifies a task running
 * on another CPU (kick_process, as TWA_SIGNAL task_work does to a consumer
 * that is awake), sent from the interrupt's CPU as a completion sends it.
 * The sender's share is its tgkill call less the median call whose signal
 * was blocked (no IPI); the delivery runs to the handler on the target, so
 * it includes the return to user space there; the receiver's share is the
 * time its spinning loop lost. On a VM the sender waits
 * while the hypervisor kicks the running vCPU out of guest mode (a trace
 * of the probe here: ipi_send_cpu -> tgkill returns 13 us, ->
 * reschedule_entry on the target 24 us, -> signal_deliver 1 us more). */
static int ipi_kick(cal_t *c, size_t n)
{
    calstat_vec_t send = {0}, deliver = {0}, lost = {0}, base = {0};
    int from = c->cpu[0], to = c->cpu[1];
    progress(c, "reschedule IPI to a running thread, CPU %d -> CPU %d", from, to);
    int rc = calprobe_kick(from, to, n, &send, &deliver, &lost, &base, c->o->stop);
    if (!rc && (send.n < 10 || base.n == 0)) {
        note(c, "too few signals reached the spinning thread: no ipi_send_ns, ipi_ns, "
                "ipi_recv_ns");
    } else if (!rc) {
        double b = less_median(&send, &base);
        char src[320];
        snprintf(src, sizeof(src),
                 "tgkill from CPU %d to a thread spinning in user space on CPU %d "
                 "(signal_wake_up -> kick_process: the reschedule IPI), minus the median call "
                 "with the signal blocked in the target (%.0f ns, no IPI)",
                 from, to, b);
        rc = put_samples(c, "ipi_send_ns", &send, "ns", src);
        snprintf(src, sizeof(src),
                 "the same signals: from before the tgkill call on CPU %d to the handler "
                 "running on CPU %d (delivery, the target's interrupt and its return to user "
                 "space)",
                 from, to);
        if (!rc)
            rc = put_samples(c, "ipi_ns", &deliver, "ns", src);
        snprintf(src, sizeof(src),
                 "the same signals: the longest gap between two clock reads of the thread "
                 "spinning on CPU %d around each (the IPI's receive - on a VM the exit that "
                 "injects it - and the signal's handler)",
                 to);
        if (!rc)
            rc = put_samples(c, "ipi_recv_ns", &lost, "ns", src);
    }
    calstat_vec_free(&send);
    calstat_vec_free(&deliver);
    calstat_vec_free(&lost);
    calstat_vec_free(&base);
    return rc;
}

static int cpu_probes(cal_t *c, const sizes_t *sz)
{
    calstat_vec_t x = {0}, y = {0}, v = {0}, w = {0}, wc = {0};
    int cpu = c->cpu[0], rc;
    progress(c, "io_uring submit cost, batches 1..32 (CPU %d)", cpu);
    rc = calprobe_submit_batches(c->fd, c->nblocks, cpu, sz->submit_reps, &x, &y, c->o->stop);
    if (!rc)
        rc = put_linear(c, "uring_submit_call_ns", &x, &y, 0, "ns", "sqe",
                        "io_uring_submit() of 1,2,4..32 NOP SQEs, gsl_fit_wlinear; "
                        "value = intercept a (per call)");
    if (!rc)
        rc = put_linear(c, "uring_submit_sqe_ns", &x, &y, 1, "ns/sqe", "sqe",
                        "io_uring_submit() of 1,2,4..32 NOP SQEs, gsl_fit_wlinear; "
                        "value = slope b (per SQE)");
    calstat_vec_free(&x);
    calstat_vec_free(&y);

    if (!rc) {
        progress(c, "io_uring wait and CQ poll cost (CPU %d)", cpu);
        rc = calprobe_uring_wait(cpu, sz->wait_reps, &v, c->o->stop);
    }
    if (!rc)
        rc = put_samples(c, "uring_wait_ns", &v, "ns",
                         "io_uring_enter(GETEVENTS, min_complete=1) with the CQE already "
                         "posted (a NOP)");
    calstat_vec_free(&v);
    if (!rc)
        rc = calprobe_poll(cpu, (int)sz->poll, &v, c->o->stop);
    if (!rc)
        rc = put_samples(c, "poll_ns", &v, "ns",
                         "one io_uring_peek_cqe() on an empty CQ (mean of 10000 per sample)");
    calstat_vec_free(&v);

    if (!rc && c->ncpu_used > 1) {
        progress(c, "futex wakeups same CPU and CPU %d <-> CPU %d", c->cpu[0], c->cpu[1]);
        rc = calprobe_pingpong(cpu, cpu, sz->pingpong, &v, &v, NULL, c->o->stop);
        if (!rc)
            rc = put_samples(c, "wakeup_same_cpu_ns", &v, "ns",
                             "futex ping-pong, both threads pinned to one CPU: FUTEX_WAKE -> "
                             "the woken thread running (only rounds where it slept)");
        calstat_vec_free(&v);
        if (!rc)
            rc = calprobe_pingpong(c->cpu[0], c->cpu[1], sz->pingpong, &v, &w, &wc, c->o->stop);
        if (!rc) {
            char name[48], src[200];
            snprintf(name, sizeof(name), "wakeup_cross_to_cpu%d_ns", c->cpu[1]);
            snprintf(src, sizeof(src), "futex ping-pong, waker on CPU %d, sleeper on CPU %d",
                     c->cpu[0], c->cpu[1]);
            rc = put_samples(c, name, &v, "ns", src);
            snprintf(name, sizeof(name), "wakeup_cross_to_cpu%d_ns", c->cpu[0]);
            snprintf(src, sizeof(src), "futex ping-pong, waker on CPU %d, sleeper on CPU %d",
                     c->cpu[1], c->cpu[0]);
            rc |= put_samples(c, name, &w, "ns", src);
            for (size_t i = 0; i < w.n && !rc; i++)
                rc = calstat_push(&v, w.v[i]);
        }
        if (!rc)
            rc = put_samples(c, "wakeup_cross_cpu_ns", &v, "ns",
                             "futex ping-pong between threads pinned to two CPUs, both "
                             "directions pooled: FUTEX_WAKE -> the woken thread running");
        if (!rc)
            rc = ipi_send_idle(c, &wc);
        if (!rc)
            rc = ipi_kick(c, sz->pingpong / 3);
        calstat_vec_free(&v);
        calstat_vec_free(&w);
        calstat_vec_free(&wc);
    } else if (!rc) {
        note(c, "one usable CPU: no cross-CPU wakeup");
    }
    if (!rc) {
        progress(c, "context switch (CPU %d)", cpu);
        rc = calprobe_ctxswitch(cpu, sz->ctxsw, &v, c->o->stop);
    }
    if (!rc)
        rc = put_samples(c, "context_switch_ns", &v, "ns",
                         "futex ping-pong on one CPU: round-trip time / 2, batches of 100 "
                         "round trips (includes the futex syscalls)");
    calstat_vec_free(&v);
    if (!rc)
        rc = timer_wake(c, cpu, sz->ctxsw * 100 < 20000 ? sz->ctxsw * 100 : 20000);
    if (!rc)
        rc = sched_params(c);
    if (!rc)
        rc = hog_probes(c, cpu, sz->hog_secs);
    return rc;
}

/* With an RDMA device, the registration costs are ibv_reg_mr's (what a
 * registration policy pays for an RDMA send): they replace the io_uring
 * figures, which stay in the file as reg_buffer_ns. rdma_reg_mr_ns keeps
 * the fit with every sample as [KiB, reg ns, dereg ns] points. */
static int rdma_probe(cal_t *c, const unsigned *kib, size_t n, int reps)
{
    calstat_vec_t x = {0}, y = {0}, dr = {0};
    char dev[128];
    progress(c, "RDMA memory registration cost vs size (ibv_reg_mr)");
    int rc = calrdma_register(kib, n, reps, &x, &y, &dr, c->o->stop, dev, sizeof(dev));
    calstat_param_t p;
    if (rc == -ENODEV) {
        note(c, "RDMA registration not measured: %s", dev);
        rc = 0;
    } else if (rc && rc != -EINTR) {
        note(c, "RDMA registration not measured: ibv_reg_mr on %s: %s", dev, strerror(-rc));
        rc = 0;
    } else if (!rc && calstat_linear(x.v, y.v, x.n, &p) == 0) {
        char src[256];
        p.value = p.fit.a > 0 ? p.fit.a : 0;
        snprintf(src, sizeof(src),
                 "ibv_reg_mr() on %s of one pre-faulted buffer, %u KiB..%u KiB, "
                 "gsl_fit_wlinear; cost = a + b*KiB, value = a", dev, kib[0], kib[n - 1]);
        json_t *j = calstat_json(&p, "ns", "KiB", src);
        json_t *pts = json_array();
        for (size_t i = 0; j && pts && i < x.n; i++)
            json_array_append_new(pts, json_pack("[f,f,f]", x.v[i], y.v[i], dr.v[i]));
        if (j && pts)
            json_object_set_new(j, "points", pts);
        else
            json_decref(pts);
        rc = put(c, "rdma_reg_mr_ns", j);
        snprintf(src, sizeof(src), "ibv_reg_mr() on %s: intercept a of the rdma_reg_mr_ns fit",
                 dev);
        if (!rc)
            rc = put(c, "reg_fixed_ns", calstat_json(&p, "ns", "KiB", src));
        p.value = p.fit.b > 0 ? 4.0 * p.fit.b : 0;
        snprintf(src, sizeof(src),
                 "ibv_reg_mr() on %s: 4 x slope b of the rdma_reg_mr_ns fit (per 4 KiB page)",
                 dev);
        if (!rc)
            rc = put(c, "reg_page_ns", calstat_json(&p, "ns/page", "KiB", src));
        snprintf(src, sizeof(src), "ibv_reg_mr() on %s, then ibv_dereg_mr(), %u KiB..%u KiB",
                 dev, kib[0], kib[n - 1]);
        if (!rc)
            rc = put_samples(c, "dereg_ns", &dr, "ns", src);
    }
    calstat_vec_free(&x);
    calstat_vec_free(&y);
    calstat_vec_free(&dr);
    return rc;
}

static int mem_probes(cal_t *c, const sizes_t *sz, int quick)
{
    /* from 4 MiB up, so that the slope is memory rather than cache (the
     * last-level cache of a server CPU holds tens of MiB) */
    static const unsigned mem_kib[] = {4096, 16384, 65536, 262144};
    static const unsigned reg_kib[] = {4, 64, 256, 1024, 4096, 16384};
    size_t nmem = quick ? 3 : 4, nreg = quick ? 5 : 6;
    calstat_vec_t x = {0}, y = {0}, mx = {0}, my = {0}, dr = {0};
    int node = numa_available() >= 0 ? numa_node_of_cpu(c->cpu[0]) : -1;
    progress(c, "memory copy cost (CPU %d, NUMA node %d)", c->cpu[0], node);
    int rc = calprobe_memcopy(c->cpu[0], node, mem_kib, nmem, sz->mem_reps, &x, &y, c->o->stop);
    if (!rc)
        rc = put_linear(c, "mem_touch_local_ns_per_kib", &x, &y, 1, "ns/KiB", "KiB",
                        "memcpy between two pre-faulted buffers on the local NUMA node "
                        "(libnuma), 4..64 MiB (..256 MiB full), gsl_fit_wlinear; value = slope b");
    calstat_vec_free(&x);
    calstat_vec_free(&y);
    int nodes = numa_available() >= 0 ? numa_max_node() + 1 : 1;
    if (!rc && nodes > 1) {
        int remote = node == 0 ? 1 : 0;
        rc = calprobe_memcopy(c->cpu[0], remote, mem_kib, nmem, sz->mem_reps, &x, &y,
                              c->o->stop);
        if (!rc)
            rc = put_linear(c, "mem_touch_remote_ns_per_kib", &x, &y, 1, "ns/KiB", "KiB",
                            "memcpy between two buffers on a remote NUMA node (libnuma), "
                            "gsl_fit_wlinear; value = slope b");
        calstat_vec_free(&x);
        calstat_vec_free(&y);
    } else if (!rc) {
        note(c, "one NUMA node: mem_touch_remote_ns_per_kib not measured (simulator default "
                "applies)");
    }
    if (!rc) {
        progress(c, "buffer registration and mlock cost vs size");
        rc = calprobe_register(reg_kib, nreg, sz->reg_reps, &x, &y, &mx, &my, &dr, c->o->stop);
    }
    if (!rc)
        rc = put_linear(c, "reg_buffer_ns", &x, &y, 0, "ns", "KiB",
                        "io_uring_register_buffers() of one pre-faulted iovec, 4 KiB..16 MiB, "
                        "gsl_fit_wlinear; cost = a + b*KiB, value = a");
    if (!rc) { /* the same fit in the simulator's terms: fixed + per 4 KiB page */
        calstat_param_t p;
        if (calstat_linear(x.v, y.v, x.n, &p) == 0) {
            p.value = p.fit.a > 0 ? p.fit.a : 0;
            rc = put(c, "reg_fixed_ns", calstat_json(&p, "ns", "KiB",
                     "io_uring_register_buffers(): intercept a of the reg_buffer_ns fit"));
            p.value = p.fit.b > 0 ? 4.0 * p.fit.b : 0;
            if (!rc)
                rc = put(c, "reg_page_ns", calstat_json(&p, "ns/page", "KiB",
                         "io_uring_register_buffers(): 4 x slope b of the reg_buffer_ns fit "
                         "(per 4 KiB page)"));
        }
    }
    if (!rc)
        rc = put_samples(c, "dereg_ns", &dr, "ns",
                         "io_uring_unregister_buffers() of one registered buffer, 4 KiB..16 MiB");
    if (!rc)
        rc = rdma_probe(c, reg_kib, nreg, sz->reg_reps);
    if (!rc)
        rc = put_linear(c, "mlock_ns", &mx, &my, 0, "ns", "KiB",
                        "mlock() of pre-faulted memory, 4 KiB..16 MiB, gsl_fit_wlinear; cost = "
                        "a + b*KiB, value = a");
    calstat_vec_free(&x);
    calstat_vec_free(&y);
    calstat_vec_free(&mx);
    calstat_vec_free(&my);
    calstat_vec_free(&dr);
    return rc;
}

static json_t *provenance(cal_t *c)
{
    struct utsname u;
    char kernel[512] = "unknown", cpu[256] = "unknown", date[32], host[256] = "";
    if (uname(&u) == 0)
        snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release, u.version);
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
            char *v = strchr(line, ':') + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(cpu, sizeof(cpu), "%s", v);
            break;
        }
    if (f)
        fclose(f);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t len = strlen(cpu);
    snprintf(cpu + len, sizeof(cpu) - len, " (%ld CPUs online)", ncpu);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    gethostname(host, sizeof(host) - 1);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kernel", kernel, "cpu_model", cpu,
                     "device", c->device, "date", date, "command",
                     c->o->command ? c->o->command : "latsurf calibrate", "host", host, "notes",
                     c->notes);
}

/* Reads back what provenance() wrote. */
const char *calib_stale(const char *path, double max_age_days, char *why, size_t n)
{
    if (!path) {
        snprintf(why, n, "the scenario uses the built-in defaults");
        return why;
    }
    json_error_t je;
    json_t *doc = json_load_file(path, 0, &je);
    if (!doc) {
        snprintf(why, n, "%s is missing or unreadable", path);
        return why;
    }
    json_t *prov = json_object_get(doc, "provenance");
    const char *kernel = json_string_value(json_object_get(prov, "kernel"));
    const char *host = json_string_value(json_object_get(prov, "host"));
    const char *date = json_string_value(json_object_get(prov, "date"));
    struct utsname u;
    uname(&u);
    char me[256] = "";
    gethostname(me, sizeof(me) - 1);
    const char *r = NULL;
    struct tm tm = {0};
    if (!host || strcmp(host, me) != 0) {
        snprintf(why, n, "%s was measured on %s, not this host (%s)", path,
                 host ? host : "no recorded host", me);
        r = why;
    } else if (!kernel || !strstr(kernel, u.release)) {
        snprintf(why, n, "%s was measured under another kernel (%s)", path,
                 kernel ? kernel : "none recorded");
        r = why;
    } else if (!date || !strptime(date, "%Y-%m-%dT%H:%M:%SZ", &tm) ||
               difftime(time(NULL), timegm(&tm)) > max_age_days * 86400.0) {
        snprintf(why, n, "%s is older than %g days", path, max_age_days);
        r = why;
    }
    json_decref(doc);
    return r;
}

/* The driver's doorbell (models/costs.h): what io_uring_submit() of one
 * read holds its caller beyond the call itself (uring_submit_call_ns, NOPs)
 * and the block layer up to block_rq_issue (blk_dispatch_ns), with nothing
 * outstanding: the doorbell write after block_rq_issue (on a VM a trapped
 * write: the virtqueue kick) and the return. With reads outstanding a
 * device may not ask for it (virtio's EVENT_IDX): the fraction of calls
 * that paid it, a hold above half of it, at 0, 1, 7 and 63 outstanding
 * (the queue-depth sweep's depths 1, 2, 8, 64 less the read itself). */
static int doorbell_params(cal_t *c, const sizes_t *sz)
{
    static const int outs[] = {0, 1, 7, 63};
    enum { NOUT = sizeof(outs) / sizeof(outs[0]) };
    double call = param_value(c, "uring_submit_call_ns", 0);
    double disp = param_value(c, "blk_dispatch_ns", 0);
    if (!isfinite(call) || !isfinite(disp))
        return 0;
    calstat_vec_t hold[NOUT] = {{0}}, bell = {0};
    size_t n = sz->qd1 / 4;
    int rc = 0;
    progress(c, "doorbell: submit of one read with 0, 1, 7, 63 outstanding (CPU %d)", c->cpu[0]);
    for (int k = 0; k < NOUT && !rc; k++)
        rc = calprobe_submit_hold(c->fd, c->nblocks, c->cpu[0], outs[k], n, &hold[k], c->o->stop);
    for (size_t i = 0; i < hold[0].n && !rc; i++) {
        double x = hold[0].v[i] - call - disp;
        rc = calstat_push(&bell, x > 0 ? x : 0);
    }
    if (!rc && bell.n) {
        calstat_param_t b;
        calstat_from_samples(bell.v, bell.n, &b);
        double cut = call + disp + b.value / 2;
        json_t *o = json_array(), *f = json_array();
        for (int k = 0; k < NOUT && o && f; k++) {
            size_t kicked = 0;
            for (size_t i = 0; i < hold[k].n; i++)
                kicked += hold[k].v[i] > cut;
            json_array_append_new(o, json_integer(outs[k]));
            json_array_append_new(f, json_real(hold[k].n ? (double)kicked / (double)hold[k].n : 1));
        }
        json_t *p = calstat_json(&b, "ns", NULL,
                                 "io_uring_submit() of one 4 KiB read with nothing outstanding "
                                 "(interrupt's CPU, untraced) minus uring_submit_call_ns and "
                                 "blk_dispatch_ns: the submitting CPU's time after "
                                 "block_rq_issue (the doorbell; on a VM a trapped write, the "
                                 "virtqueue kick) until the call returns");
        if (!p || !o || !f) {
            json_decref(p);
            json_decref(o);
            json_decref(f);
            rc = -ENOMEM;
        } else if (json_object_set_new(p, "kick_outstanding", o) |
                   json_object_set_new(p, "kick_fraction", f)) { /* (both steal) */
            json_decref(p);
            rc = -ENOMEM;
        } else {
            rc = put(c, "doorbell_ns", p);
        }
    }
    for (int k = 0; k < NOUT; k++)
        calstat_vec_free(&hold[k]);
    calstat_vec_free(&bell);
    return rc;
}

/* ---- the guarded stages (calguard.h) ---------------------------------- */

/* Reads in a reference probe: untraced QD1 4 KiB reads, as the anchor
 * (qd1_untraced) but fewer: about 10 ms on this host. */
#define GUARD_REF_READS 200

/* The median of a short untraced QD1 reference probe on cpu. */
static int guard_ref(cal_t *c, int cpu, uint64_t seed, double *med)
{
    calprobe_io_t *io = calloc(GUARD_REF_READS, sizeof(*io));
    double *x = calloc(GUARD_REF_READS, sizeof(*x));
    int rc = io && x ? 0 : -ENOMEM;
    if (!rc)
        rc = calprobe_qd1(c->fd, c->nblocks, cpu, 0, GUARD_REF_READS, seed, io, c->o->stop);
    for (size_t i = 0; i < GUARD_REF_READS && !rc; i++)
        x[i] = (double)(io[i].t_done - io[i].t_submit);
    if (!rc) {
        *med = calguard_median(x, GUARD_REF_READS);
        rc = isnan(*med) ? -ENOMEM : 0;
    }
    free(io);
    free(x);
    return rc;
}

/* One take of the guarded stages, each re-taken while its blocks disagree
 * (stage_again): the untraced QD1 reads per CPU (the anchor of guard_end),
 * the per-KiB reads, irq_busy and the traced runs; then a reference probe
 * per CPU (guard_end's fastest reference). Their parameters replace an
 * earlier take's (put: same names). */
static int guarded_take(cal_t *c, const sizes_t *sz)
{
    int rc = 0;
    memset(c->g.set_takes, 0, sizeof(c->g.set_takes));
    for (int i = 0; i < c->ncpu_used && !rc; i++) {
        char label[48];
        snprintf(label, sizeof(label), "untraced QD1 reads on CPU %d", c->cpu[i]);
        do {
            stage_begin(c);
            progress(c, "QD1 4 KiB reads pinned to CPU %d (untraced)", c->cpu[i]);
            rc = qd1_untraced(c, c->cpu[i], sz->qd1);
        } while (!rc && stage_again(c, GS_QD1_0 + i, label));
    }
    do {
        stage_begin(c);
        rc = rc ? rc : read_per_kib(c, c->cpu[0], sz->qd1 / 4);
    } while (!rc && stage_again(c, GS_PER_KIB, "per-KiB reads"));
    if (c->ncpu_used > 1) {
        do {
            stage_begin(c);
            rc = rc ? rc : irq_busy(c, sz->qd1 / 4);
        } while (!rc && stage_again(c, GS_IRQ_BUSY, "irq_busy reads"));
    }
    if (!rc)
        rc = chain_step(c, sz);
    for (int i = 0; i < c->ncpu_used && !rc; i++) {
        double ref;
        rc = guard_ref(c, c->cpu[i], 600 + 10 * (uint64_t)c->g.whole + (uint64_t)i, &ref);
        if (!rc && (!(c->g.ref_min[i] > 0) || ref < c->g.ref_min[i]))
            c->g.ref_min[i] = ref;
    }
    if (!rc)
        note(c, "guard, set %d, each take's furthest block: %s", c->g.whole + 1, c->g.blocks);
    c->g.blocks[0] = '\0';
    return rc;
}

/* At the end of the calibration, seconds after the guarded stages: a
 * reference probe per CPU. A passing disturbance only adds time, so a set
 * whose anchor (its untraced QD1 median) is slower than the fastest
 * reference seen on that CPU by more than CALGUARD_STATE_TOL was taken in a
 * slowed host state as a whole (its blocks agree with each other): the
 * whole set is taken again now, at most CALGUARD_RETAKES times. */
static int guard_end(cal_t *c, const sizes_t *sz)
{
    int rc = 0;
    for (;;) {
        for (int i = 0; i < c->ncpu_used && !rc; i++) {
            double ref;
            rc = guard_ref(c, c->cpu[i], 700 + 10 * (uint64_t)c->g.whole + (uint64_t)i, &ref);
            if (!rc && (!(c->g.ref_min[i] > 0) || ref < c->g.ref_min[i]))
                c->g.ref_min[i] = ref;
        }
        if (rc)
            return rc;
        double worst = 0;
        int wi = 0;
        char devs[96] = "";
        for (int i = 0; i < c->ncpu_used; i++) {
            double d = calguard_dev(c->g.anchor[i], c->g.ref_min[i]);
            append(devs, sizeof(devs), ",", " CPU %d %+.1f%%", c->cpu[i], 100 * d);
            if (d > worst || i == 0) {
                worst = d;
                wi = i;
            }
        }
        note(c, "guard, end of set %d: anchor / fastest reference%s", c->g.whole + 1, devs);
        if (!(worst > CALGUARD_STATE_TOL))
            return 0;
        char why[256];
        snprintf(why, sizeof(why),
                 "the set's untraced QD1 reads on CPU %d had median %.1f us, %+.1f%% above the "
                 "fastest reference probe there (%.1f us), threshold %.0f%%",
                 c->cpu[wi], c->g.anchor[wi] / 1e3, 100 * worst, c->g.ref_min[wi] / 1e3,
                 100 * CALGUARD_STATE_TOL);
        int last = c->g.whole >= CALGUARD_RETAKES;
        for (int id = 0; id < GS_N; id++)
            if (c->g.takes[id])
                append(c->g.hist[id], sizeof(c->g.hist[id]), ", then ", "take %d %s: %s",
                       c->g.takes[id], last ? "kept although" : "set aside, whole set", why);
        if (last) {
            note(c, "guard: no re-take of the whole set left, kept although %s", why);
            return 0;
        }
        note(c, "guard: set %d re-taken at the end: %s", c->g.whole + 1, why);
        c->g.whole++;
        char w[256];
        c->nsteps += c->ncpu_used * (tracerec_available(w, sizeof(w)) ? 2 : 1) +
                     (c->ncpu_used > 1); /* the set's steps again */
        rc = guarded_take(c, sz);
        if (rc)
            return rc;
    }
}

/* Which guarded stage wrote a parameter: the untraced reads, the per-KiB
 * reads, irq_busy, or (everything else) the traced runs. */
static void guard_source_of(const cal_t *c, const char *key, char *out, size_t n)
{
    int ids[2] = {GS_TRACED_0, GS_TRACED_1}, nid = c->ncpu_used > 1 ? 2 : 1;
    for (int i = 0; i < c->ncpu_used; i++) {
        char nm[48];
        snprintf(nm, sizeof(nm), "qd1_read_p50_cpu%d_ns", c->cpu[i]);
        if (strcmp(key, nm) == 0) {
            ids[0] = GS_QD1_0 + i;
            nid = 1;
        }
    }
    if (strcmp(key, "device_read_ns_per_kib") == 0) {
        ids[0] = GS_PER_KIB;
        nid = 1;
    } else if (strcmp(key, "irq_busy_ns") == 0) {
        ids[0] = GS_IRQ_BUSY;
        nid = 1;
    }
    out[0] = '\0';
    for (int k = 0; k < nid; k++) {
        int id = ids[k], t = c->g.takes[id];
        char who[40] = "";
        if (id >= GS_TRACED_0)
            snprintf(who, sizeof(who), "traced run on CPU %d ", c->cpu[id - GS_TRACED_0]);
        if (t <= 1)
            append(out, n, "; ", "calguard: %sone take, its blocks agreed", who);
        else
            append(out, n, "; ", "calguard: %staken %d times (%s)", who, t, c->g.hist[id]);
    }
}

/* Takes beyond the first, all stages together. */
static int guard_retakes(const cal_t *c)
{
    int n = 0;
    for (int id = 0; id < GS_N; id++)
        n += c->g.takes[id] > 1 ? c->g.takes[id] - 1 : 0;
    return n;
}

/* Each guarded parameter's source says how many takes there were and why. */
static int guard_sources(cal_t *c)
{
    size_t i;
    json_t *k;
    json_array_foreach(c->g.keys, i, k)
    {
        json_t *p = json_object_get(c->params, json_string_value(k));
        const char *src = json_string_value(json_object_get(p, "source"));
        if (!src)
            continue;
        char g[1400], *s = NULL;
        guard_source_of(c, json_string_value(k), g, sizeof(g));
        if (asprintf(&s, "%s; %s", src, g) < 0)
            return -ENOMEM;
        int bad = json_object_set_new(p, "source", json_string(s));
        free(s);
        if (bad)
            return -ENOMEM;
    }
    return 0;
}

int calib_run(const calib_opts_t *o, json_t **out, char *err, size_t errlen)
{
    static const volatile sig_atomic_t never = 0;
    calib_opts_t opts = *o;
    if (!opts.stop)
        opts.stop = &never;
    const sizes_t *sz = opts.quick ? &quick_sizes : &full_sizes;
    cal_t c = {.o = &opts, .fd = -1, .irq_cpu = -1, .nsteps = 12};
    *out = NULL;
    snprintf(err, errlen, "calibration failed");
    c.params = json_object();
    if (!c.params)
        return -ENOMEM;
    char load[64];
    read_line("/proc/loadavg", load, sizeof(load));
    note(&c, "%s run, load average at start %.14s", opts.quick ? "quick" : "full", load);
    int rc = make_target(&c, err, errlen);
    if (rc)
        goto out;
    if (c.created) {
        progress(&c, "writing %zu MiB scratch file %s", sz->file_mib, c.path);
        if ((rc = fill_target(&c, sz->file_mib))) {
            snprintf(err, errlen, "writing %s: %s", c.path, strerror(-rc));
            goto out;
        }
    } else {
        progress(&c, "measuring %s %s (%llu MiB), %s",
                 opts.open->blockdev ? "block device" : "file", c.path,
                 (unsigned long long)(opts.open->size >> 20),
                 c.writable ? "reads and writes (a file latsurf created)" : "read-only");
    }
    if (!c.writable) {
        note(&c, "read-only target %s: no writes, so write costs are not measured", c.path);
        rc = put_unmeasured(&c, "device_write_4k_ns", "ns",
                            "not measured: the target was read-only (calibrate writes only to "
                            "a file latsurf created: a scratch file, or --create SIZE "
                            "--allow-write)");
        if (rc)
            goto out;
    }
    describe_device(&c);
    progress(&c, "finding the CPU of %s's interrupt vector (/proc/interrupts)",
             c.ctrl[0] ? c.ctrl : "the device");
    if ((rc = irq_cpu_from_counts(&c)))
        goto io_failed;
    c.cpu[0] = c.irq_cpu >= 0 ? c.irq_cpu : first_allowed(-1);
    c.cpu[1] = first_allowed(c.cpu[0]);
    c.ncpu_used = c.cpu[1] >= 0 ? 2 : 1;
    char why[256];
    int traced = tracerec_available(why, sizeof(why));
    c.nsteps = 2 + c.ncpu_used * (traced ? 2 : 1) + (c.ncpu_used > 1 ? 6 : 3) + 4 + 2 + 2 * traced + 1;
    {
        /* the parameters the guarded stages write: those new after them */
        json_t *before = json_deep_copy(c.params);
        c.g.keys = json_array();
        rc = before && c.g.keys ? guarded_take(&c, sz) : -ENOMEM;
        const char *key;
        json_t *val;
        json_object_foreach(c.params, key, val)
        {
            if (!rc && !json_object_get(before, key))
                rc = json_array_append_new(c.g.keys, json_string(key)) ? -ENOMEM : 0;
        }
        json_decref(before);
    }
    if (rc)
        goto io_failed;
    if (!json_object_get(c.params, "device_read_4k_ns")) {
        char name[48];
        snprintf(name, sizeof(name), "qd1_read_p50_cpu%d_ns", c.cpu[0]);
        json_t *p = json_deep_copy(json_object_get(c.params, name));
        if (p) {
            json_object_set_new(p, "source",
                                json_string("user-space QD1 read latency on the IRQ CPU "
                                            "(upper bound: no tracefs)"));
            rc = put(&c, "device_read_4k_ns", p);
        }
        if (!rc && c.irq_cpu >= 0)
            rc = put_fixed(&c, "irq_cpu", c.irq_cpu, "cpu", 1,
                           "/proc/interrupts deltas during 300 reads");
    }
    if (!rc) { /* the device's parallelism (calqd.h): reads only */
        progress(&c, "queue-depth sweep 1, 2, 8, 64 on CPU %d", c.cpu[0]);
        rc = calqd_calibrate(c.fd, c.nblocks, c.cpu[0], c.ctrl[0] ? c.ctrl : NULL,
                             opts.quick, c.params, c.o->stop);
        if (rc == -ENOENT) {
            note(&c, "no device_read_4k_ns: device_units not fitted");
            rc = 0;
        }
    }
    if (!rc && traced) { /* the per-batch costs (calbatch.h), on the IRQ CPU */
        progress(&c, "traced QD%d reads on CPU %d: per-batch costs", CALBATCH_DEPTH, c.cpu[0]);
        char why2[512];
        rc = calbatch_calibrate(c.fd, c.nblocks, c.cpu[0], opts.quick, c.params, c.o->stop, why2,
                                sizeof(why2));
        if (why2[0])
            note(&c, "calbatch: %s", why2);
    }
    if (!rc && traced) { /* what `trace record` costs a traced read (caltrace.h) */
        progress(&c, "preads on CPU %d untraced and under trace record's events", c.cpu[0]);
        char why2[512];
        rc = caltrace_calibrate(c.fd, c.nblocks, c.cpu[0], opts.quick, c.params, c.o->stop, why2,
                                sizeof(why2));
        if (rc && rc != -EINTR) { /* optional: host.traced refuses a file without it */
            note(&c, "caltrace: not measured: %s%s%s", strerror(-rc), why2[0] ? ": " : "", why2);
            rc = 0;
        } else if (why2[0]) {
            note(&c, "caltrace: %s", why2);
        }
    }
    if (!rc)
        rc = cpu_probes(&c, sz);
    if (!rc)
        rc = mem_probes(&c, sz, opts.quick);
    if (!rc)
        rc = doorbell_params(&c, sz);
    if (!rc)
        rc = guard_end(&c, sz);
    if (!rc)
        rc = guard_sources(&c);
    if (!rc)
        note(&c, "guard: the QD1 stages taken as a set %d time%s, %d stage re-take%s in all",
             c.g.whole + 1, c.g.whole ? "s" : "", guard_retakes(&c),
             guard_retakes(&c) == 1 ? "" : "s");
io_failed:
    if (rc == -EINTR) {
        snprintf(err, errlen, "interrupted%s", c.created ? " (scratch file removed)" : "");
    } else if (rc) {
        snprintf(err, errlen, "measuring on %s: %s", c.path, strerror(-rc));
    } else {
        note(&c, "trace clock mono; chain stages split by whether the waiter ran on the CPU "
                 "that completed the block request");
        json_t *prov = provenance(&c);
        *out = json_pack("{s:i, s:o, s:o}", "latsurf_calibration", CALIB_FORMAT_VERSION,
                         "provenance", prov, "params", c.params);
        if (!*out)
            rc = -ENOMEM;
        c.params = NULL; /* stolen by "o" (or freed with the failed pack) */
    }
out:
    if (c.created) { /* the caller's target stays open and in place */
        if (c.fd >= 0)
            close(c.fd);
        unlink(c.path);
    }
    json_decref(c.params);
    json_decref(c.g.keys);
    return rc;
}
