/*
 * test_costs.c - calibration loading: the shipped default calibration is the
 * built-in table, empirical quantiles are sampled by inverse CDF, bad files
 * are rejected with the file and parameter named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "models/costs.h"
#include "sim/rng.h"

#include <errno.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_default_file_is_builtin(void **state)
{
    (void)state;
    char err[512];
    costs_t file, builtin;
    costs_defaults(&builtin);
    if (costs_load(&file, tu_src("scenarios/calibration/default.json"), err, sizeof(err)) != 0)
        fail_msg("%s", err);
    for (int i = 0; i < COST_N; i++)
        if (file.c[i].value != builtin.c[i].value || !file.c[i].measured)
            fail_msg("%s: file %g, built-in %g", costs_info[i].name, file.c[i].value,
                     builtin.c[i].value);
}

static const char *write_tmp(const char *text)
{
    return tu_write_tmp("costs", text);
}

static void test_empirical_quantiles(void **state)
{
    (void)state;
    const char *p = write_tmp(
        "{\"latsurf_calibration\":1,\"params\":{\"ipi_ns\":{\"value\":1000,\"quantiles\":"
        "{\"p1\":500,\"p5\":600,\"p10\":700,\"p25\":800,\"p50\":1000,\"p75\":1200,\"p90\":1500,"
        "\"p95\":2000,\"p99\":4000}}}}");
    costs_t k;
    char err[256];
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), 0);
    unlink(p);
    gsl_rng *r = rng_stream_new(1, 0, "test");
    int below_p50 = 0, below_p90 = 0, n = 100000;
    for (int i = 0; i < n; i++) {
        double x = costs_draw(&k, COST_IPI, r);
        assert_true(x >= 500 && x <= 4000);
        below_p50 += x <= 1000;
        below_p90 += x <= 1500;
    }
    gsl_rng_free(r);
    /* binomial sd at n=1e5 is ~0.0016: 4 sd */
    assert_true(abs(below_p50 - n / 2) < 0.0064 * n);
    assert_true(abs(below_p90 - 9 * n / 10) < 0.0064 * n);
}

/* "value": null is calibrate's "not measured": the default stays, not an error. */
static void test_unmeasured_keeps_default(void **state)
{
    (void)state;
    const char *p = write_tmp("{\"latsurf_calibration\":1,\"params\":{"
                              "\"ipi_ns\":{\"value\":null,\"samples\":0,"
                              "\"source\":\"not measured\"},"
                              "\"device_write_4k_ns\":{\"value\":null},"
                              "\"poll_ns\":{\"value\":123}}}");
    costs_t k;
    char err[256];
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), 0);
    unlink(p);
    assert_true(k.c[COST_IPI].value == costs_info[COST_IPI].value);
    assert_int_equal(k.c[COST_IPI].measured, 0);
    assert_true(k.c[COST_POLL].value == 123);
    assert_int_equal(k.c[COST_POLL].measured, 1);
}

static void test_bad_files(void **state)
{
    (void)state;
    costs_t k;
    char err[256];
    const char *p = write_tmp("{\"latsurf_calibration\":1,\"params\":{\"ipi_ns\":{\"value\":-3}}}");
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "params.ipi_ns"));
    unlink(p);
    p = write_tmp("{\"params\":{}}");
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), -EINVAL);
    unlink(p);
    p = write_tmp("{\"latsurf_calibration\":1,\n\"params\":{,}}");
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, ":2:"));
    unlink(p);
    assert_int_equal(costs_load(&k, "/nonexistent/calib.json", err, sizeof(err)), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_file_is_builtin),
        cmocka_unit_test(test_empirical_quantiles),
        cmocka_unit_test(test_unmeasured_keeps_default),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
