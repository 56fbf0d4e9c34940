/*
 * test_calib.c - calibration: the fits and JSON of calstat, the probes of
 * calprobe on this host (skipped where io_uring or O_DIRECT is missing), and the
 * `latsurf calibrate` command: file format, scratch-file clean-up (also on
 * SIGINT), existing targets measured read-only (byte-identical afterwards),
 * and refused targets (a mounted block device, a file with holes).
 */
#define _GNU_SOURCE /* O_DIRECT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "calibrate/calprobe.h"
#include "calibrate/calqd.h"
#include "calibrate/calstat.h"
#include "models/costs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const volatile sig_atomic_t no_stop = 0;

/* ---- calstat ---------------------------------------------------------- */

static void test_fit_lognormal(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    enum { N = 5000 };
    double *x = malloc(N * sizeof(*x));
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = gsl_ran_lognormal(r, 10.0, 0.5);
    calstat_param_t p;
    calstat_from_samples(x, N, &p);
    assert_int_equal(p.fit.dist, CALSTAT_LOGNORMAL);
    assert_true(fabs(p.fit.mu - 10.0) < 0.03);
    assert_true(fabs(p.fit.sigma - 0.5) < 0.03);
    assert_true(fabs(p.value / exp(10.0) - 1.0) < 0.03); /* median */
    assert_int_equal(p.samples, N);
    for (int i = 1; i < CALSTAT_NQ; i++)
        assert_true(p.q[i] >= p.q[i - 1]);
    free(x);
    gsl_rng_free(r);
}

static void test_fit_gamma_and_fixed(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 12);
    enum { N = 5000 };
    double *x = malloc(N * sizeof(*x));
    assert_non_null(x);
    for (int i = 0; i < N; i++)
        x[i] = gsl_ran_gamma(r, 6.0, 2000.0);
    calstat_param_t p;
    calstat_from_samples(x, N, &p);
    assert_int_equal(p.fit.dist, CALSTAT_GAMMA);
    assert_true(fabs(p.fit.k / 6.0 - 1.0) < 0.1);
    assert_true(fabs(p.fit.k * p.fit.theta / 12000.0 - 1.0) < 0.03);
    for (int i = 0; i < 7; i++)
        x[i] = 42.0;
    calstat_from_samples(x, 7, &p);
    assert_int_equal(p.fit.dist, CALSTAT_FIXED);
    assert_true(p.value == 42.0);
    free(x);
    gsl_rng_free(r);
}

/* The tail above p95: a generalized Pareto sample gives back its xi, and
 * its sigma at the threshold (sigma + xi u); p99.9 only with the samples. */
static void test_fit_tail(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 13);
    enum { N = 40000 };
    double *x = malloc(N * sizeof(*x));
    assert_non_null(x);
    const double sigma = 1000, xi = 0.3;
    for (int i = 0; i < N; i++)
        x[i] = sigma / xi * (pow(1 - gsl_rng_uniform(r), -xi) - 1);
    calstat_param_t p;
    calstat_from_samples(x, N, &p);
    assert_true(p.tail.fitted);
    assert_int_equal(p.nq, 10); /* p99.9 (40 above it), no p99.99 (4) */
    double u = p.tail.threshold;
    assert_true(fabs(u - p.q[7]) < 1e-9);
    assert_true(fabs(p.tail.xi - xi) < 0.12);
    assert_true(fabs(p.tail.sigma / (sigma + xi * u) - 1) < 0.15);
    json_t *j = calstat_json(&p, "ns", NULL, "gpd");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "tail"), "dist")), "gpd");
    assert_non_null(json_object_get(json_object_get(j, "quantiles"), "p99.9"));
    assert_null(json_object_get(json_object_get(j, "quantiles"), "p99.99"));
    json_decref(j);
    /* exponential excesses: xi near 0 */
    for (int i = 0; i < N; i++)
        x[i] = gsl_ran_exponential(r, 5000);
    calstat_from_samples(x, N, &p);
    assert_true(p.tail.fitted);
    assert_true(fabs(p.tail.xi) < 0.1);
    assert_true(fabs(p.tail.sigma / 5000 - 1) < 0.15);
    /* too few excesses: no tail */
    calstat_from_samples(x, 200, &p);
    assert_false(p.tail.fitted);
    assert_int_equal(p.nq, CALSTAT_NQ);
    free(x);
    gsl_rng_free(r);
}

static void test_linear_and_json(void **state)
{
    (void)state;
    double x[40], y[40];
    for (int i = 0; i < 40; i++) {
        x[i] = (double)(4 << (i % 8));
        y[i] = 500.0 + 12.0 * x[i] + ((i % 3) - 1) * 5.0;
    }
    calstat_param_t p;
    assert_int_equal(calstat_linear(x, y, 40, &p), 0);
    assert_true(fabs(p.fit.a - 500.0) < 10.0);
    assert_true(fabs(p.fit.b - 12.0) < 0.05);
    assert_int_equal(calstat_linear(x, y, 1, &p), -EINVAL);
    assert_int_equal(calstat_linear(x, y, 40, &p), 0);
    p.value = p.fit.a;
    json_t *j = calstat_json(&p, "ns", "KiB", "test");
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "unit")), "ns");
    assert_int_equal(json_integer_value(json_object_get(j, "samples")), 40);
    assert_null(json_object_get(j, "quantiles"));
    json_t *fit = json_object_get(j, "fit");
    assert_string_equal(json_string_value(json_object_get(fit, "dist")), "linear");
    assert_string_equal(json_string_value(json_object_get(fit, "x_unit")), "KiB");
    assert_true(fabs(json_number_value(json_object_get(fit, "b")) - 12.0) < 0.05);
    json_decref(j);

    double s[5] = {5, 1, 4, 2, 3};
    calstat_from_samples(s, 5, &p);
    j = calstat_json(&p, "ns", NULL, "five");
    json_t *q = json_object_get(j, "quantiles");
    static const char *const names[] = {"p1", "p5", "p10", "p25", "p50",
                                        "p75", "p90", "p95", "p99"};
    for (size_t i = 0; i < 9; i++)
        assert_non_null(json_object_get(q, names[i]));
    assert_true(json_number_value(json_object_get(q, "p50")) == 3.0);
    assert_true(json_number_value(json_object_get(j, "value")) == 3.0);
    assert_string_equal(json_string_value(json_object_get(j, "source")), "five");
    json_decref(j);
}

/* ---- probes ----------------------------------------------------------- */

/* Skip unless the host has io_uring / O_DIRECT in dir. */
#define NEED_URING()                                                                             \
    do {                                                                                         \
        char why_[256];                                                                          \
        tu_skip_unless(tu_have_uring(why_, sizeof(why_)), "%s", why_);                           \
    } while (0)
#define NEED_ODIRECT(dir)                                                                        \
    do {                                                                                         \
        char why_[256];                                                                          \
        tu_skip_unless(tu_have_odirect(dir, why_, sizeof(why_)), "%s", why_);                    \
    } while (0)

static void test_probes(void **state)
{
    (void)state;
    NEED_URING();
    calstat_vec_t v = {0}, w = {0}, x = {0}, y = {0};
    assert_int_equal(calprobe_uring_wait(0, 50, &v, &no_stop), 0);
    assert_int_equal(v.n, 50);
    for (size_t i = 0; i < v.n; i++)
        assert_true(v.v[i] > 0 && v.v[i] < 1e8);
    calstat_vec_free(&v);
    assert_int_equal(calprobe_poll(0, 5, &v, &no_stop), 0);
    assert_int_equal(v.n, 5);
    calstat_vec_free(&v);

    assert_int_equal(calprobe_pingpong(0, 0, 300, &v, &v, NULL, &no_stop), 0);
    assert_true(v.n > 100); /* on one CPU every wakeup finds the peer asleep */
    calstat_vec_free(&v);
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
        assert_int_equal(calprobe_pingpong(0, 1, 300, &v, &w, NULL, &no_stop), 0);
        assert_true(v.n + w.n > 0);
        calstat_vec_free(&v);
        calstat_vec_free(&w);
    }
    assert_int_equal(calprobe_ctxswitch(0, 5, &v, &no_stop), 0);
    assert_int_equal(v.n, 5);
    calstat_vec_free(&v);

    static const unsigned kib[] = {64, 256};
    assert_int_equal(calprobe_memcopy(0, -1, kib, 2, 3, &x, &y, &no_stop), 0);
    assert_int_equal(x.n, 6);
    assert_true(x.v[5] == 256.0);
    calstat_vec_free(&x);
    calstat_vec_free(&y);
    calstat_vec_t rx = {0}, ry = {0}, mx = {0}, my = {0}, dr = {0};
    assert_int_equal(calprobe_register(kib, 2, 2, &rx, &ry, &mx, &my, &dr, &no_stop), 0);
    assert_int_equal(ry.n, 4);
    assert_int_equal(my.n, 4);
    assert_int_equal(dr.n, 4);
    calstat_vec_free(&dr);
    calstat_vec_free(&rx);
    calstat_vec_free(&ry);
    calstat_vec_free(&mx);
    calstat_vec_free(&my);

    uint64_t counts[4];
    assert_true(calprobe_irq_counts("no-such-irq-name", counts, 4) == 0);

    /* a stop request ends a probe with -EINTR */
    static const volatile sig_atomic_t stop = 1;
    assert_int_equal(calprobe_uring_wait(0, 50, &v, &stop), -EINTR);
    calstat_vec_free(&v);
}

/* The reschedule-IPI probe: the signals reach the spinning thread (its
 * handler ran: a delivery time), and a call that had to send the IPI takes
 * at least as long as one whose signal stayed pending (the base is inside
 * it), and the target lost time to each (its handler ran in its loop). Skips on one CPU: there is no other CPU to interrupt. */
static void test_kick_probe(void **state)
{
    (void)state;
    tu_skip_unless(sysconf(_SC_NPROCESSORS_ONLN) > 1, "one CPU online: no cross-CPU IPI");
    calstat_vec_t send = {0}, deliver = {0}, lost = {0}, base = {0};
    assert_int_equal(calprobe_kick(1, 0, 200, &send, &deliver, &lost, &base, &no_stop), 0);
    /* a signal whose handler did not run within 10 ms (the spinning thread
     * preempted on a loaded host) is no sample: most must be */
    assert_true(send.n >= 100);
    assert_int_equal(deliver.n, send.n);
    assert_int_equal(lost.n, send.n);
    assert_int_equal(base.n, 200);
    gsl_sort(send.v, 1, send.n);
    gsl_sort(base.v, 1, base.n);
    double s50 = gsl_stats_median_from_sorted_data(send.v, 1, send.n);
    double b50 = gsl_stats_median_from_sorted_data(base.v, 1, base.n);
    printf("kick: send p50 %.0f ns, blocked base p50 %.0f ns\n", s50, b50);
    assert_true(s50 >= b50);
    for (size_t i = 0; i < deliver.n; i++)
        assert_true(deliver.v[i] > 0 && lost.v[i] > 0);
    calstat_vec_free(&send);
    calstat_vec_free(&deliver);
    calstat_vec_free(&lost);
    calstat_vec_free(&base);
}

static void test_qd1_probe(void **state)
{
    (void)state;
    NEED_URING();
    NEED_ODIRECT(".");
    char path[64];
    snprintf(path, sizeof(path), "calib-qd1-%d.dat", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
    if (fd < 0)
        fail_msg("open %s with O_DIRECT: %s", path, strerror(errno));
    void *buf = NULL;
    assert_int_equal(posix_memalign(&buf, 4096, 1 << 20), 0);
    memset(buf, 7, 1 << 20);
    assert_int_equal(pwrite(fd, buf, 1 << 20, 0), 1 << 20);
    free(buf);
    calprobe_io_t io[64];
    memset(io, 0, sizeof(io));
    assert_int_equal(calprobe_qd1(fd, 256, 0, 0, 64, 1, io, &no_stop), 0);
    for (int i = 0; i < 64; i++) {
        assert_true(io[i].t_done > io[i].t_submit);
        if (i)
            assert_true(io[i].t_submit >= io[i - 1].t_done);
    }
    assert_int_equal(calprobe_qd1(fd, 256, 0, 1, 8, 1, io, &no_stop), 0);
    close(fd);
    unlink(path);
}

/* ---- the command ------------------------------------------------------ */

static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void check_param(json_t *params, const char *name)
{
    json_t *p = json_object_get(params, name);
    if (!p)
        fail_msg("parameter %s missing", name);
    assert_true(json_is_number(json_object_get(p, "value")));
    assert_true(json_is_string(json_object_get(p, "unit")));
    assert_true(json_is_integer(json_object_get(p, "samples")));
    assert_true(json_integer_value(json_object_get(p, "samples")) > 0);
    assert_true(json_is_string(json_object_get(p, "source")));
    const char *dist = json_string_value(json_object_get(json_object_get(p, "fit"), "dist"));
    assert_non_null(dist);
    assert_true(strcmp(dist, "lognormal") == 0 || strcmp(dist, "gamma") == 0 ||
                strcmp(dist, "exponential") == 0 || strcmp(dist, "fixed") == 0 ||
                strcmp(dist, "linear") == 0 || strcmp(dist, "mva_closed_loop") == 0 ||
                strcmp(dist, "resample") == 0);
    json_t *q = json_object_get(p, "quantiles");
    if (q)
        assert_true(json_number_value(json_object_get(q, "p1")) <=
                    json_number_value(json_object_get(q, "p99")));
}

/* The queue-depth sweep's CPU time per read (device_units.per_depth[].
 * cpu_ns_per_io, /proc/stat): one entry per CPU, none negative, and no more
 * CPU time in a second of reads than the CPUs have (a tick of rounding per
 * CPU level aside); some CPU did the reads' work. */
static void check_sweep_cpu(json_t *params)
{
    json_t *rows = json_object_get(json_object_get(params, "device_units"), "per_depth");
    if (!json_array_size(rows)) {
        printf("the sweep's CPU per read not checked: no device_units.per_depth\n");
        return;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        json_t *cpus = json_object_get(row, "cpu_ns_per_io");
        assert_true(json_is_array(cpus));
        assert_int_equal((long)json_array_size(cpus), ncpu < CALQD_MAXCPU ? ncpu : CALQD_MAXCPU);
        double iops = json_number_value(json_object_get(row, "iops")), busy = 0;
        size_t j;
        json_t *c;
        json_array_foreach(cpus, j, c)
        {
            static const char *const lv[] = {"thread_ns", "hardirq_ns", "softirq_ns"};
            for (size_t l = 0; l < 3; l++) {
                double v = json_number_value(json_object_get(c, lv[l]));
                assert_true(v >= 0);
                busy += v;
            }
        }
        double secs = json_number_value(json_object_get(row, "seconds"));
        double tick = 1e9 / (double)sysconf(_SC_CLK_TCK);
        assert_true(busy > 0);
        assert_true(busy * iops <= (double)json_array_size(cpus) * (1e9 + 3 * tick / secs));
    }
}

/* The remote completion's far point (device_units.far, two CPUs or more
 * this process may run on): at the remote depth, from another CPU than the
 * sweep's, and both costs from it (the loader's range: >= 0). */
static void check_remote(json_t *params)
{
    json_t *du = json_object_get(params, "device_units");
    cpu_set_t set;
    if (!du || sched_getaffinity(0, sizeof(set), &set) || CPU_COUNT(&set) < 2) {
        printf("remote completion costs not checked: no sweep, or one CPU\n");
        return;
    }
    json_t *far = json_object_get(du, "far");
    assert_non_null(far);
    assert_int_equal(json_integer_value(json_object_get(far, "depth")), CALQD_REMOTE_DEPTH);
    assert_true(json_number_value(json_object_get(far, "iops")) > 0);
    static const char *const name[] = {"remote_complete_softirq_ns", "remote_task_work_ns"};
    for (size_t i = 0; i < 2; i++) {
        json_t *p = json_object_get(params, name[i]);
        assert_non_null(p);
        assert_true(json_number_value(json_object_get(p, "value")) >= 0);
        printf("%s %.0f ns (measured %.0f)\n", name[i],
               json_number_value(json_object_get(p, "value")),
               json_number_value(json_object_get(p, "measured_ns")));
    }
}

/* The VM freezes beside the sweep (device_units.vm_freeze, two CPUs or more
 * that this process may all run on): a share of the span, and freezes no
 * shorter than the 2 ms that defines one. */
static void check_vm_freeze(json_t *params)
{
    json_t *du = json_object_get(params, "device_units");
    cpu_set_t set;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (!du || online < 2 || sched_getaffinity(0, sizeof(set), &set) ||
        CPU_COUNT(&set) < online) {
        printf("vm_freeze not checked: no sweep, one CPU, or a cpuset\n");
        return;
    }
    json_t *fz = json_object_get(du, "vm_freeze");
    assert_non_null(fz);
    double share = json_number_value(json_object_get(fz, "frozen_share"));
    json_int_t nf = json_integer_value(json_object_get(fz, "freezes"));
    double p50 = json_number_value(json_object_get(fz, "len_p50_ns"));
    double mx = json_number_value(json_object_get(fz, "len_max_ns"));
    printf("vm_freeze: %lld freezes, %.1f%% of %.2f s, p50 %.1f ms, max %.1f ms\n",
           (long long)nf, 100 * share, json_number_value(json_object_get(fz, "seconds")),
           p50 / 1e6, mx / 1e6);
    assert_true(share >= 0 && share <= 1);
    if (nf > 0)
        assert_true(p50 >= CALQD_FREEZE_MIN_NS && mx >= p50);
}

static void test_calibrate_quick(void **state)
{
    (void)state;
    NEED_URING();
    NEED_ODIRECT(".");
    char dir[64], out[96];
    snprintf(dir, sizeof(dir), "calib-target-%d", (int)getpid());
    snprintf(out, sizeof(out), "calib-out-%d.json", (int)getpid());
    assert_int_equal(mkdir(dir, 0700), 0);
    time_t t0 = time(NULL);
    assert_int_equal(tu_systemf("%s calibrate --quick --quiet --target %s --out %s >/dev/null",
                             tu_bin(), dir, out), 0);
    printf("calibrate --quick took %ld s\n", (long)(time(NULL) - t0));
    assert_int_equal(dir_entries(dir), 0); /* the scratch file is gone */
    rmdir(dir);

    json_error_t err;
    json_t *doc = json_load_file(out, 0, &err);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "latsurf_calibration")), 1);
    json_t *prov = json_object_get(doc, "provenance");
    static const char *const keys[] = {"kernel", "cpu_model", "device", "date",
                                       "command", "host",      "notes"};
    for (size_t i = 0; i < 7; i++)
        assert_true(json_is_string(json_object_get(prov, keys[i])));
    assert_int_equal(json_object_size(prov), 7);
    json_t *params = json_object_get(doc, "params");
    static const char *const always[] = {
        "uring_submit_call_ns", "uring_submit_sqe_ns", "uring_wait_ns",     "poll_ns",
        "device_read_4k_ns",    "context_switch_ns",   "mem_touch_local_ns_per_kib",
        "reg_buffer_ns",        "mlock_ns"};
    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        check_param(params, always[i]);
    if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
        check_param(params, "wakeup_same_cpu_ns");
        check_param(params, "wakeup_cross_cpu_ns");
        check_param(params, "ipi_send_ns");
        check_param(params, "ipi_ns");
        check_param(params, "ipi_recv_ns");
        check_param(params, "irq_busy_ns");
    }
    const char *key;
    json_t *val;
    int qd1 = 0;
    json_object_foreach(params, key, val)
    {
        check_param(params, key);
        qd1 += strncmp(key, "qd1_read_p50_cpu", 16) == 0;
    }
    assert_true(qd1 >= 1);
    check_sweep_cpu(params);
    check_remote(params);
    check_vm_freeze(params);
    /* the per-KiB quantile differences are drawn with the 4 KiB time */
    json_t *pk = json_object_get(params, "device_read_ns_per_kib");
    if (pk)
        assert_string_equal(json_string_value(json_object_get(pk, "drawn_with")),
                            "device_read_4k_ns");
    /* as root with tracefs, the traced part is there too */
    if (geteuid() == 0 && access("/sys/kernel/tracing/instances", W_OK) == 0) {
        static const char *const traced[] = {"device_write_4k_ns", "irq_cpu",
                                             "blk_complete_ns",    "complete_to_cqe_same_ns",
                                             "cqe_to_run_same_ns", "cqe_post_ns",
                                             "completion_chains",  "trace_syscall_ns",
                                             "trace_drain_event_ns", "trace_events_per_read"};
        for (size_t i = 0; i < sizeof(traced) / sizeof(traced[0]); i++)
            check_param(params, traced[i]);
        /* the measured chains load (models/costs.h), whole */
        costs_t k;
        char why[512];
        if (costs_load(&k, out, why, sizeof(why)) != 0)
            fail_msg("%s", why);
        assert_true(k.chain[0].n + k.chain[1].n > 0);
        assert_true(costs_value(&k, COST_TRACE_EVENTS_PER_READ) > 0); /* host.traced can use it */
    } else {
        printf("traced parameters not checked: needs root and tracefs\n");
    }
    json_decref(doc);
    unlink(out);
}

static void test_calibrate_sigint(void **state)
{
    (void)state;
    NEED_URING();
    NEED_ODIRECT(".");
    char dir[64], out[96];
    snprintf(dir, sizeof(dir), "calib-int-%d", (int)getpid());
    snprintf(out, sizeof(out), "calib-int-%d.json", (int)getpid());
    assert_int_equal(mkdir(dir, 0700), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        execl(tu_bin(), tu_bin(), "calibrate", "--quiet", "--target", dir, "--out", out,
              (char *)NULL);
        _exit(127);
    }
    /* its scratch file appears (the handler is set by then): interrupt */
    tu_watch_t w;
    tu_watch_start(&w, dir, child);
    while (dir_entries(dir) == 0)
        if (tu_watch_wait(&w, 60000) == 0)
            fail_msg("latsurf calibrate exited before creating its scratch file");
    tu_watch_stop(&w);
    kill(child, SIGINT);
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_int_equal(dir_entries(dir), 0);
    assert_int_equal(access(out, F_OK), -1);
    rmdir(dir);
}

/* An O_DIRECT file of `mib` MiB written with data in the test directory;
 * NULL (the reason printed) where this file system has no O_DIRECT. */
static const char *data_file(const char *name, size_t mib)
{
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
    if (fd < 0) {
        printf("skipped: no O_DIRECT here (%s)\n", strerror(errno));
        return NULL;
    }
    uint64_t *buf = NULL;
    assert_int_equal(posix_memalign((void **)&buf, 4096, 1 << 20), 0);
    for (size_t m = 0; m < mib; m++) {
        for (size_t i = 0; i < (1 << 20) / sizeof(*buf); i++)
            buf[i] = (m << 20 | i) * 0x9e3779b97f4a7c15ull;
        assert_int_equal(pwrite(fd, buf, 1 << 20, (off_t)(m << 20)), 1 << 20);
    }
    assert_int_equal(fsync(fd), 0);
    free(buf);
    close(fd);
    return name;
}

static void sha256(const char *file, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "sha256sum %s", file);
    assert_int_equal(tu_sh(".", cmd, out, n), 0);
    assert_true(strlen(out) > 64);
    out[64] = '\0';
}

static void test_calibrate_existing_file_readonly(void **state)
{
    (void)state;
    NEED_URING();
    NEED_ODIRECT(".");
    char why[256];
    tu_skip_unless(tu_have_cmd("sha256sum", why, sizeof(why)), "%s", why);
    char name[64], out[96], before[128], after[128];
    snprintf(name, sizeof(name), "calib-existing-%d.dat", (int)getpid());
    snprintf(out, sizeof(out), "calib-existing-%d.json", (int)getpid());
    assert_true(data_file(name, 512));
    struct stat st0, st1;
    assert_int_equal(stat(name, &st0), 0);
    sha256(name, before, sizeof(before));
    assert_int_equal(tu_systemf("%s calibrate --quick --quiet --target %s --out %s >/dev/null",
                                tu_bin(), name, out), 0);
    sha256(name, after, sizeof(after));
    assert_string_equal(before, after);
    assert_int_equal(stat(name, &st1), 0);
    assert_true(st1.st_size == st0.st_size);
    assert_true(st1.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
                st1.st_mtim.tv_nsec == st0.st_mtim.tv_nsec);
    unlink(name);

    json_error_t err;
    json_t *doc = json_load_file(out, 0, &err);
    assert_non_null(doc);
    json_t *params = json_object_get(doc, "params");
    check_param(params, "device_read_4k_ns");
    /* writes were not measured, and the file says so instead of a number */
    json_t *w = json_object_get(params, "device_write_4k_ns");
    assert_non_null(w);
    assert_true(json_is_null(json_object_get(w, "value")));
    assert_int_equal(json_integer_value(json_object_get(w, "samples")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(w, "source")), "not measured"));
    const char *notes =
        json_string_value(json_object_get(json_object_get(doc, "provenance"), "notes"));
    assert_non_null(strstr(notes, "read-only target"));
    json_decref(doc);
    /* and the simulator loads it */
    assert_int_equal(tu_systemf("%s run %s/scenarios/default.json --reps 1 --db calib-existing-%d"
                                ".sqlite --set host.calibration=%s --set run.duration_ms=60 "
                                "--set run.warmup_ms=10 --quiet >/dev/null",
                                tu_bin(), LATSURF_SOURCE_DIR, (int)getpid(), out), 0);
    char db[64];
    snprintf(db, sizeof(db), "calib-existing-%d.sqlite", (int)getpid());
    unlink(db);
    unlink(out);
}

/* The first mounted file system whose source is a block device, or NULL. */
static const char *mounted_blockdev(char *dev, size_t n)
{
    FILE *f = fopen("/proc/mounts", "r");
    char src[512], line[4096];
    while (f && fgets(line, sizeof(line), f)) {
        struct stat st;
        if (sscanf(line, "%511s", src) == 1 && stat(src, &st) == 0 && S_ISBLK(st.st_mode)) {
            snprintf(dev, n, "%s", src);
            fclose(f);
            return dev;
        }
    }
    if (f)
        fclose(f);
    return NULL;
}

static void test_calibrate_refuses_mounted_device(void **state)
{
    (void)state;
    char dev[512], out[96];
    tu_skip_unless(mounted_blockdev(dev, sizeof(dev)),
                   "no mounted file system on a block device in /proc/mounts");
    snprintf(out, sizeof(out), "calib-mounted-%d.json", (int)getpid());
    assert_int_equal(tu_systemf("%s calibrate --quick --quiet --target %s --out %s 2>/dev/null",
                                tu_bin(), dev, out), 2);
    assert_int_equal(access(out, F_OK), -1);
}

static void test_calibrate_refuses_holes(void **state)
{
    (void)state;
    char name[64];
    snprintf(name, sizeof(name), "calib-sparse-%d.dat", (int)getpid());
    NEED_ODIRECT(".");
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 16 << 20), 0);
    off_t hole = lseek(fd, 0, SEEK_HOLE);
    close(fd);
    if (hole != 0)
        unlink(name);
    tu_skip_unless(hole == 0, "this file system reports no holes (SEEK_HOLE)");
    char out[4096], args[256];
    snprintf(args, sizeof(args), "calibrate --quick --quiet --target %s --out %s.json", name, name);
    assert_int_equal(tu_cli(".", args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "hole"));
    unlink(name);
}

static void test_calibrate_bad_input(void **state)
{
    (void)state;
    assert_int_equal(tu_systemf("%s calibrate --quick --target /nonexistent/dir/file 2>/dev/null",
                             tu_bin()), 2);
    assert_int_equal(tu_systemf("%s calibrate --bogus 2>/dev/null", tu_bin()), 2);
    assert_int_equal(tu_systemf("%s calibrate --quick --out /nonexistent/dir/c.json 2>/dev/null",
                             tu_bin()), 2);
    /* writes only to a file latsurf created, whatever the options say */
    char name[64];
    snprintf(name, sizeof(name), "calib-notours-%d.dat", (int)getpid());
    tu_write(".", name, "not latsurf's\n");
    assert_int_equal(tu_systemf("%s calibrate --quick --target %s --allow-write 2>/dev/null",
                                tu_bin(), name), 2);
    assert_int_equal(tu_systemf("%s calibrate --quick --target %s --create 1M 2>/dev/null",
                                tu_bin(), name), 2);
    assert_int_equal(tu_systemf("%s calibrate --quick --create 1M 2>/dev/null", tu_bin()), 2);
    unlink(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_lognormal),    cmocka_unit_test(test_fit_gamma_and_fixed),
        cmocka_unit_test(test_fit_tail),
        cmocka_unit_test(test_linear_and_json),  cmocka_unit_test(test_probes), cmocka_unit_test(test_kick_probe),
        cmocka_unit_test(test_qd1_probe),        cmocka_unit_test(test_calibrate_quick),
        cmocka_unit_test(test_calibrate_sigint), cmocka_unit_test(test_calibrate_bad_input),
        cmocka_unit_test(test_calibrate_existing_file_readonly),
        cmocka_unit_test(test_calibrate_refuses_mounted_device),
        cmocka_unit_test(test_calibrate_refuses_holes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
