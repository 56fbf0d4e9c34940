/*
 * test_calqd.c - the device's load-dependent service curve: its
 * interpolation (sim/svcurve.h) at hand-computed points, the closed-loop
 * MVA over it (calibrate/calqd.h) against closed forms, the curve fit
 * recovering a known curve from the IOPS it produces, and the loader
 * keeping a calibration without a curve on the c units; the batch knots
 * from a sweep's idle shares, by hand, and their loading; the spans every
 * CPU's spinner was out at once (the VM freeze probe), by hand; the remote
 * completion's costs from a near and a far sweep point, by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "calibrate/calqd.h"
#include "models/costs.h"
#include "sim/svcurve.h"
#include "testutil.h"

static const svcurve_t knots = {.n = 4, .k = {1, 2, 8, 64}, .ns = {50000, 60000, 120000, 640000}};

/* Power law between knots, flat below the first, constant throughput
 * beyond the last: T(4) = 60 us x 2^(1/2), T(32) = 120 us x 4^a with
 * a = ln(640/120) / ln 8, T(128) = 640 us x 2. */
static void test_interpolation(void **state)
{
    (void)state;
    assert_int_equal(svcurve_check(&knots), 0);
    assert_true(svcurve_ns(&knots, 1) == 50000);
    assert_true(svcurve_ns(&knots, 0.5) == 50000);
    assert_true(svcurve_ns(&knots, 8) == 120000);
    assert_true(fabs(svcurve_ns(&knots, 4) - 60000 * sqrt(2)) < 1e-6);
    double a = log(640.0 / 120) / log(8);
    assert_true(fabs(svcurve_ns(&knots, 32) - 120000 * pow(4, a)) < 1e-6);
    assert_true(fabs(svcurve_ns(&knots, 128) - 1280000) < 1e-6);
    svcurve_t bad = knots;
    bad.k[2] = 2; /* not increasing */
    assert_int_equal(svcurve_check(&bad), -EINVAL);
    bad = knots;
    bad.ns[1] = 0;
    assert_int_equal(svcurve_check(&bad), -EINVAL);
}

/* No host delay: all d requests are in the station, IOPS = d / T(d). A
 * constant T = S up to k = 256 with host delay Z: the station never holds
 * anyone back (it serves all at once), IOPS = d / (Z + S). One knot alone
 * is a single server: beyond the last knot the throughput stays at its
 * value there, IOPS = 1 / S once d is large. */
static void test_mva_closed_forms(void **state)
{
    (void)state;
    assert_true(fabs(calqd_curve_iops(4, &knots, 0) / (4 / (60000 * sqrt(2)) * 1e9) - 1) < 1e-12);
    assert_true(fabs(calqd_curve_iops(64, &knots, 0) / (64 / 640000.0 * 1e9) - 1) < 1e-12);
    svcurve_t flat = {.n = 2, .k = {1, 256}, .ns = {40000, 40000}};
    for (unsigned d = 1; d <= 32; d *= 2)
        assert_true(fabs(calqd_curve_iops(d, &flat, 10000) / (d / 50000.0 * 1e9) - 1) < 1e-12);
    svcurve_t one = {.n = 1, .k = {1}, .ns = {40000}};
    assert_true(fabs(calqd_curve_iops(256, &one, 10000) / (1 / 40000.0 * 1e9) - 1) < 1e-9);
}

/* IOPS made by a known curve and host delay at depths 1, 2, 8, 64 give
 * back its knots and the delay. */
static void test_fit_recovers_curve(void **state)
{
    (void)state;
    const double z = 9500;
    calqd_point_t pt[4];
    for (int i = 0; i < 4; i++)
        pt[i] = (calqd_point_t){.depth = calqd_depths[i],
                                .iops = calqd_curve_iops(calqd_depths[i], &knots, z)};
    svcurve_t c;
    double zf, rms;
    assert_int_equal(calqd_fit_curve(pt, 4, knots.ns[0], &c, &zf, &rms), 0);
    assert_int_equal(c.n, 4);
    assert_true(fabs(zf - z) < 1e-6);
    for (int i = 0; i < 4; i++) {
        assert_true(c.k[i] == knots.k[i]);
        assert_true(fabs(c.ns[i] / knots.ns[i] - 1) < 1e-9);
    }
    assert_true(rms < 1e-9);
    /* depth 1 must come first */
    assert_int_equal(calqd_fit_curve(pt + 1, 3, knots.ns[0], &c, &zf, &rms), -EINVAL);
}

/* A sweep that completed whole queues per interrupt gives batch knots
 * T(d) = S + I(d) - I(1), I(d) = idle share x d / IOPS(d), by hand: S =
 * 30 us; I(1) = 0.25 / 25000 s = 10 us, I(2) = 0.3 x 2 / 40000 = 15 us,
 * I(8) = 0.4 x 8 / 100000 = 32 us, I(64) = 0.5 x 64 / 200000 = 160 us. A
 * sweep with one interrupt per completion at depth 8 gives none. */
static void test_batch_knots(void **state)
{
    (void)state;
    calqd_point_t pt[4] = {{.depth = 1, .iops = 25000, .idle_frac = 0.25, .cqe_per_irq = 1},
                           {.depth = 2, .iops = 40000, .idle_frac = 0.3, .cqe_per_irq = 2},
                           {.depth = 8, .iops = 100000, .idle_frac = 0.4, .cqe_per_irq = 7.9},
                           {.depth = 64, .iops = 200000, .idle_frac = 0.5, .cqe_per_irq = 64}};
    const double want[4] = {30000, 35000, 52000, 180000};
    json_t *b = calqd_batch_knots(pt, 4, 30000);
    assert_non_null(b);
    json_t *k = json_object_get(b, "k"), *t = json_object_get(b, "service_ns");
    assert_int_equal(json_array_size(k), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_true(json_number_value(json_array_get(k, i)) == pt[i].depth);
        assert_true(fabs(json_number_value(json_array_get(t, i)) - want[i]) < 1e-6);
    }
    json_decref(b);
    pt[2].cqe_per_irq = 1.1;
    assert_null(calqd_batch_knots(pt, 4, 30000));
}

/* The remote completion's costs by hand, from the bare loop's QD64 figures
 * (docs/models.md): near, CPU 1 (the interrupt's) 1.7 us thread + 0.4 us
 * softirq per read; far, the thread on CPU 0 3.25 us, CPU 1 1.95 us
 * softirq: softirq 1950 - 400 = 1550 ns, task_work 3250 - 1700 = 1550 ns;
 * the hard IRQ difference over both CPUs 60 + 10 - 20 - 0 = 50 ns. A CPU
 * out of the points' range, or the same CPU twice, is -EINVAL. */
static void test_remote_costs(void **state)
{
    (void)state;
    static calqd_point_t near, far;
    near.ncpu = far.ncpu = 2;
    near.cpu_ns_per_io[1][CALQD_THREAD] = 1700;
    near.cpu_ns_per_io[1][CALQD_SOFTIRQ] = 400;
    near.cpu_ns_per_io[1][CALQD_HARDIRQ] = 20;
    near.cpu_ns_per_io[0][CALQD_THREAD] = 30; /* background on the other CPU: not the read's */
    far.cpu_ns_per_io[0][CALQD_THREAD] = 3250;
    far.cpu_ns_per_io[0][CALQD_HARDIRQ] = 10;
    far.cpu_ns_per_io[1][CALQD_SOFTIRQ] = 1950;
    far.cpu_ns_per_io[1][CALQD_HARDIRQ] = 60;
    far.cpu_ns_per_io[1][CALQD_THREAD] = 40;
    calqd_remote_t rm;
    assert_int_equal(calqd_remote_costs(&near, &far, 1, 0, &rm), 0);
    assert_true(fabs(rm.softirq_ns - 1550) < 1e-9);
    assert_true(fabs(rm.task_work_ns - 1550) < 1e-9);
    assert_true(fabs(rm.hardirq_ns - 50) < 1e-9);
    assert_int_equal(calqd_remote_costs(&near, &far, 1, 1, &rm), -EINVAL);
    assert_int_equal(calqd_remote_costs(&near, &far, 1, 2, &rm), -EINVAL);
    far.ncpu = 0;
    assert_int_equal(calqd_remote_costs(&near, &far, 1, 0, &rm), -EINVAL);
}

static void load(const char *json, costs_t *k, int want)
{
    char err[512] = "";
    const char *path = tu_write_tmp("calqd", json);
    int rc = costs_load(k, path, err, sizeof(err));
    unlink(path);
    if (rc != want)
        fail_msg("costs_load: %d (%s), expected %d", rc, err, want);
}

/* A calibration with a curve loads it; one from before the curve keeps
 * device_units alone (the c-units fallback); a bad curve names its path. */
/* calqd_overlap, by hand: every CPU's spinner out at once. A = [0,10)
 * [20,30) [40,50), B = [5,25) [45,60), C = [0,100): the spans covered by all
 * three are [5,10) [20,25) [45,50); with a minimum of 5 all three, of 6
 * none; a CPU whose spinner never stopped leaves none; C first and A second
 * give A's three spans. */
static void test_freeze_overlap(void **state)
{
    (void)state;
    const calqd_span_t a[] = {{0, 10}, {20, 30}, {40, 50}}, b[] = {{5, 25}, {45, 60}},
                       c[] = {{0, 100}};
    const calqd_span_t *lists[] = {a, b, c};
    size_t n[] = {3, 2, 1};
    calqd_span_t out[8];
    assert_int_equal(calqd_overlap(lists, n, 3, 5, out, 8), 3);
    const uint64_t want[3][2] = {{5, 10}, {20, 25}, {45, 50}};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(out[i].a, want[i][0]);
        assert_int_equal(out[i].b, want[i][1]);
    }
    assert_int_equal(calqd_overlap(lists, n, 3, 6, out, 8), 0);
    assert_int_equal(calqd_overlap(lists, n, 2, 1, out, 2), 2); /* at most max */
    size_t none[] = {3, 0, 1};
    assert_int_equal(calqd_overlap(lists, none, 3, 0, out, 8), 0);
    /* one CPU's single wide gap cut by the other's three: three spans, more
     * than the first list holds */
    const calqd_span_t *wide_first[] = {c, a};
    size_t nw[] = {1, 3};
    assert_int_equal(calqd_overlap(wide_first, nw, 2, 1, out, 8), 3);
    assert_int_equal(out[2].a, 40);
    assert_int_equal(out[2].b, 50);
}

static void test_loader(void **state)
{
    (void)state;
    costs_t k;
    load("{\"latsurf_calibration\":1,\"params\":{\"device_units\":{\"value\":9.1,"
         "\"curve\":{\"k\":[1,2,8,64],\"service_ns\":[50000,60000,120000,640000]}}}}",
         &k, 0);
    assert_int_equal(k.dev_curve.n, 4);
    assert_true(k.dev_curve.ns[3] == 640000 && k.dev_curve.k[2] == 8);
    assert_true(costs_value(&k, COST_DEVICE_UNITS) == 9.1);
    assert_int_equal(k.dev_batch.n, 0);
    load("{\"latsurf_calibration\":1,\"params\":{\"device_units\":{\"value\":9.1,"
         "\"batch\":{\"k\":[1,2,64],\"service_ns\":[30000,35000,180000]}}}}",
         &k, 0);
    assert_int_equal(k.dev_batch.n, 3);
    assert_true(k.dev_batch.ns[2] == 180000 && k.dev_batch.k[1] == 2);
    load("{\"latsurf_calibration\":1,\"params\":{\"device_units\":{\"value\":9.1}}}", &k, 0);
    assert_int_equal(k.dev_curve.n, 0);
    assert_true(costs_value(&k, COST_DEVICE_UNITS) == 9.1);
    load("{\"latsurf_calibration\":1,\"params\":{\"device_units\":{\"value\":9.1,"
         "\"curve\":{\"k\":[1,8,2],\"service_ns\":[1,2,3]}}}}",
         &k, -EINVAL);
}

/* calqd_freeze_fit by hand, two vCPUs: a QD1 run at 10,000 reads (and
 * interrupts) a second frozen 0.2 / 2.2 of the time used 2 x s / (1 - s)
 * = 0.2 CPUs for its I/O; a QD4 run at 32,000 reads and 8,000 interrupts
 * frozen 0.256 / 2.256: 0.256 CPUs, less than 3.2 x 0.2, so the cost
 * saturates: the fitted M (1 - exp(-r c / M)) passes through both. A second run at 0.64 CPUs
 * (3.2 x 0.2) is linear: 20 us a read, no saturation. */
static double fit_x(const calqd_freeze_model_t *m, double r)
{
    return m->io_max_cpus * -expm1(-r * m->per_read_ns / 1e9 / m->io_max_cpus);
}

static void test_freeze_fit(void **state)
{
    (void)state;
    calqd_freeze_t run[2] = {
        {.cpus = 2, .depth = 1, .reads_per_s = 10e3, .irqs_per_s = 10e3,
         .frozen_share = 0.2 / 2.2, .period_ns = 100e6},
        {.cpus = 2, .depth = 4, .reads_per_s = 32e3, .irqs_per_s = 8e3,
         .frozen_share = 0.256 / 2.256, .period_ns = 0},
    };
    calqd_freeze_model_t m;
    assert_int_equal(calqd_freeze_fit(run, 2, &m), 0);
    printf("saturating: c %.0f ns, M %.4f CPUs\n", m.per_read_ns, m.io_max_cpus);
    assert_true(m.io_max_cpus > 0.256);
    assert_true(fabs(fit_x(&m, 10e3) - 0.2) < 1e-6 && fabs(fit_x(&m, 32e3) - 0.256) < 1e-6);
    assert_true(m.period_ns == 100e6 && m.quota_cpus == 2);
    /* proportional: linear */
    run[1].frozen_share = 0.64 / 2.64;
    assert_int_equal(calqd_freeze_fit(run, 2, &m), 0);
    assert_true(m.io_max_cpus == 0 && fabs(m.per_read_ns - 20000) < 1);
    /* no growth: saturated at the first run's X */
    run[1].frozen_share = 0.2 / 2.2;
    assert_int_equal(calqd_freeze_fit(run, 2, &m), 0);
    assert_true(fabs(m.io_max_cpus - 0.2) < 1e-9);
    /* nothing froze: no model */
    run[0].frozen_share = run[1].frozen_share = 0;
    assert_int_equal(calqd_freeze_fit(run, 2, &m), -ENODATA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_mva_closed_forms),
        cmocka_unit_test(test_fit_recovers_curve),
        cmocka_unit_test(test_batch_knots),
        cmocka_unit_test(test_remote_costs),
        cmocka_unit_test(test_loader),
        cmocka_unit_test(test_freeze_overlap),
        cmocka_unit_test(test_freeze_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
