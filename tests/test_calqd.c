/*
 * test_calqd.c - the device's load-dependent service curve: its
 * interpolation (sim/svcurve.h) at hand-computed points, the closed-loop
 * MVA over it (calibrate/calqd.h) against closed forms, the curve fit
 * recovering a known curve from the IOPS it produces, and the loader
 * keeping a calibration without a curve on the c units.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
    load("{\"latsurf_calibration\":1,\"params\":{\"device_units\":{\"value\":9.1}}}", &k, 0);
    assert_int_equal(k.dev_curve.n, 0);
    assert_true(costs_value(&k, COST_DEVICE_UNITS) == 9.1);
    load("{\"latsurf_calibration\":1,\"params\":{\"device_units\":{\"value\":9.1,"
         "\"curve\":{\"k\":[1,8,2],\"service_ns\":[1,2,3]}}}}",
         &k, -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_mva_closed_forms),
        cmocka_unit_test(test_fit_recovers_curve),
        cmocka_unit_test(test_loader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
