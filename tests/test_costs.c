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
#include <math.h>
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

/* The quantiles to p99.99 and a fitted tail above p95: draws keyed by
 * (request, stage) follow the tail, repeat for the same request and run,
 * and differ for another request, stage or run. */
static void test_keyed_tail_draws(void **state)
{
    (void)state;
    /* tail: GPD sigma 1000, xi 0.2 above p95 = 2000 */
    const char *p = write_tmp(
        "{\"latsurf_calibration\":1,\"params\":{\"ipi_ns\":{\"value\":1000,\"quantiles\":"
        "{\"p1\":500,\"p5\":600,\"p10\":700,\"p25\":800,\"p50\":1000,\"p75\":1200,\"p90\":1500,"
        "\"p95\":2000,\"p99\":4000,\"p99.9\":8000},"
        "\"tail\":{\"dist\":\"gpd\",\"threshold\":2000,\"sigma\":1000,\"xi\":0.2,\"max\":30000}}}}");
    costs_t k;
    char err[256];
    if (costs_load(&k, p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    unlink(p);
    assert_int_equal(k.c[COST_IPI].nq, 10);
    costs_set_run(&k, 1, 0);
    /* the quantiles hold; beyond p99.9 = 8000 the tail spliced on has sigma
     * 1000 + 0.2 (8000 - 2000) = 2200: P(X > 8000 + 4400) = 0.001 / 1.4^5 */
    double want = 0.001 * pow(1.4, -5.0);
    int n = 1000000, above_p95 = 0, above_p99 = 0, above = 0, capped = 0;
    for (int i = 0; i < n; i++) {
        double x = costs_at(&k, COST_IPI, (uint64_t)i, 0);
        assert_true(x >= 500 && x <= 60000);
        above_p95 += x > 2000;
        above_p99 += x > 4000;
        above += x > 12400;
        capped += x == 60000;
    }
    assert_true(abs(above_p95 - n / 20) < 0.001 * n);
    assert_true(abs(above_p99 - n / 100) < 0.0005 * n);
    assert_true(fabs((double)above - want * n) < 5 * sqrt(want * n));
    assert_true(capped < 20);
    req_t r = {.flow = 3, .tag = 17, .offset = 4096};
    double a = costs_req(&k, COST_IPI, &r);
    assert_true(costs_req(&k, COST_IPI, &r) == a);
    r.consumer_cpu = 1; /* the placement is no part of the key */
    r.id = 99;
    assert_true(costs_req(&k, COST_IPI, &r) == a);
    costs_set_run(&k, 2, 0);
    int differ = 0;
    for (int i = 0; i < 20; i++)
        differ += costs_at(&k, COST_IPI, (uint64_t)i, 0) != costs_at(&k, COST_IPI, (uint64_t)i, 1);
    assert_true(differ >= 18);
    /* a cost with no distribution: its value exactly, whoever asks */
    assert_true(costs_req(&k, COST_POLL, &r) == costs_info[COST_POLL].value);
}

/* Measured chains resample whole, conditioned on same/cross and idle/busy;
 * a condition with too few chains draws from its whole side. */
static void test_chains(void **state)
{
    (void)state;
    char *text = malloc(1 << 16);
    assert_non_null(text);
    size_t o = (size_t)snprintf(text, 1 << 16, "{\"latsurf_calibration\":1,\"params\":{"
                                "\"completion_chains\":{\"value\":0,\"chains\":{\"same\":[");
    for (int i = 0; i < 40; i++) /* 30 idle (c2cqe 1000+i), 10 busy (9000+i) */
        o += (size_t)snprintf(text + o, (1 << 16) - o, "%s[%d,%d,%d,%d]", i ? "," : "",
                              i < 30, i < 30 ? 1000 + i : 9000 + i, 500, i < 30 ? 300 : -1);
    o += (size_t)snprintf(text + o, (1 << 16) - o, "],\"cross\":[[0,5000,700,4000]]}}}}");
    const char *p = write_tmp(text);
    free(text);
    costs_t k;
    char err[256];
    if (costs_load(&k, p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    unlink(p);
    assert_int_equal(k.chain[0].n, 40);
    assert_int_equal(k.chain[0].nidle, 30);
    costs_set_run(&k, 1, 0);
    int busy_seen = 0;
    for (uint64_t t = 0; t < 200; t++) {
        req_t r = {.flow = 1, .tag = t};
        const costs_chain_t *c = costs_chain(&k, 0, 1, &r);
        assert_true(c->c2cqe >= 1000 && c->c2cqe < 1030 && c->c2wake == 300); /* idle: whole */
        assert_true(costs_chain(&k, 0, 1, &r) == c);                         /* keyed */
        busy_seen |= costs_chain(&k, 0, 0, &r)->c2cqe >= 9000; /* 10 busy < 20: whole side */
        assert_true(costs_chain(&k, 1, 0, &r)->c2wake == 4000);
    }
    assert_true(busy_seen);
    costs_defaults(&k);
    req_t r = {0};
    assert_null(costs_chain(&k, 0, 1, &r));
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

/* A "_cross" side loads beside its cost, with fields of its own; a request
 * on that side draws from it with the same uniform (twice the quantiles:
 * exactly twice the draw), the other side from the plain cost; a "_cross"
 * name whose stem is no cost (a chain stage) stays in the file only. */
static void test_cross_side(void **state)
{
    (void)state;
    const char *p = write_tmp(
        "{\"latsurf_calibration\":1,\"params\":{"
        "\"irq_handler_ns\":{\"value\":1000,\"quantiles\":{\"p1\":500,\"p5\":600,"
        "\"p10\":700,\"p25\":800,\"p50\":1000,\"p75\":1200,\"p90\":1500,\"p95\":2000,"
        "\"p99\":4000}},"
        "\"irq_handler_cross_ns\":{\"value\":2000,\"quantiles\":{\"p1\":1000,\"p5\":1200,"
        "\"p10\":1400,\"p25\":1600,\"p50\":2000,\"p75\":2400,\"p90\":3000,\"p95\":4000,"
        "\"p99\":8000}},"
        "\"blk_complete_cross_ns\":{\"value\":700},"
        "\"complete_to_cqe_cross_ns\":{\"value\":9}}}");
    costs_t k;
    char err[256];
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), 0);
    unlink(p);
    costs_set_run(&k, 1, 0);
    assert_int_equal(k.cross[COST_IRQ_HANDLER].measured, 1);
    assert_int_equal(k.cross[COST_BLK_COMPLETE].kind, COST_FIXED);
    assert_int_equal(k.c[COST_BLK_COMPLETE].measured, 0);
    for (uint64_t tag = 0; tag < 200; tag++) {
        req_t near = {.flow = 1, .tag = tag, .offset = tag * 4096}, far = near;
        far.irq_far = 1;
        double a = costs_req(&k, COST_IRQ_HANDLER, &near), b = costs_req(&k, COST_IRQ_HANDLER, &far);
        assert_true(a >= 500 && a <= 4000 * 2); /* (the tail is flat without a fit) */
        assert_true(fabs(b - 2 * a) < 1e-9 * b);
        assert_true(costs_req(&k, COST_BLK_COMPLETE, &far) == 700);
        assert_true(costs_req(&k, COST_BLK_COMPLETE, &near) == costs_info[COST_BLK_COMPLETE].value);
    }
}

/* doorbell_ns's kick fraction against the requests outstanding: linear
 * between the measured points, flat beyond; 1 without them; a bad curve is
 * refused with the parameter named. */
static void test_doorbell_kick_fraction(void **state)
{
    (void)state;
    const char *p = write_tmp("{\"latsurf_calibration\":1,\"params\":{\"doorbell_ns\":{"
                              "\"value\":18000,\"kick_outstanding\":[0,1,7,63],"
                              "\"kick_fraction\":[1.0,0.5,0.25,0.25]}}}");
    costs_t k;
    char err[256];
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), 0);
    unlink(p);
    assert_true(costs_doorbell_p(&k, 0) == 1.0);
    assert_true(costs_doorbell_p(&k, 1) == 0.5);
    assert_true(fabs(costs_doorbell_p(&k, 4) - 0.375) < 1e-12);
    assert_true(costs_doorbell_p(&k, 1000) == 0.25);
    costs_defaults(&k);
    assert_true(costs_doorbell_p(&k, 5) == 1.0);
    p = write_tmp("{\"latsurf_calibration\":1,\"params\":{\"doorbell_ns\":{"
                  "\"value\":1,\"kick_outstanding\":[0,7,1],\"kick_fraction\":[1,0.5,0.2]}}}");
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), -EINVAL);
    unlink(p);
    assert_non_null(strstr(err, "params.doorbell_ns"));
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
        cmocka_unit_test(test_keyed_tail_draws),
        cmocka_unit_test(test_chains),
        cmocka_unit_test(test_unmeasured_keeps_default),
        cmocka_unit_test(test_cross_side),
        cmocka_unit_test(test_doorbell_kick_fraction),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
