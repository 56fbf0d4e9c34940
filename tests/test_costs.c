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

/* A 64 KiB QD1 read's time as calibrate writes it: the 4 KiB device time
 * plus the quantile differences per KiB beyond 4, "drawn_with" the 4 KiB
 * draw. With the same uniform the two are comonotone, and the sum's
 * quantiles are the sums of the parts' quantiles (additivity of quantiles
 * under comonotonicity): the 64 KiB distribution calibrate measured. */
static const char *per_kib_cal(const char *with)
{
    static char text[1024];
    snprintf(text, sizeof(text),
             "{\"latsurf_calibration\":1,\"params\":{"
             "\"device_read_4k_ns\":{\"value\":70000,\"quantiles\":{\"p1\":60000,"
             "\"p5\":62000,\"p10\":64000,\"p25\":67000,\"p50\":70000,\"p75\":74000,"
             "\"p90\":85000,\"p95\":100000,\"p99\":150000}},"
             "\"device_read_ns_per_kib\":{\"value\":300,%s\"quantiles\":{\"p1\":100,"
             "\"p5\":150,\"p10\":200,\"p25\":250,\"p50\":300,\"p75\":400,\"p90\":600,"
             "\"p95\":800,\"p99\":1500}}}}",
             with);
    return write_tmp(text);
}

static void test_drawn_with(void **state)
{
    (void)state;
    costs_t k, ind;
    char err[256];
    const char *p = per_kib_cal("\"drawn_with\":\"device_read_4k_ns\",");
    if (costs_load(&k, p, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    unlink(p);
    p = per_kib_cal("");
    assert_int_equal(costs_load(&ind, p, err, sizeof(err)), 0);
    unlink(p);
    costs_set_run(&k, 1, 0);
    costs_set_run(&ind, 1, 0);
    enum { N = 200000, M = 2000 };
    static double d[N], e[N];
    int below = 0, below_ind = 0, discordant = 0, discordant_ind = 0;
    const double q90 = 85000 + 60 * 600; /* p90 of 4 KiB + 60 KiB at p90 */
    for (int i = 0; i < N; i++) {
        req_t r = {.flow = 1, .tag = (uint64_t)i, .offset = (uint64_t)i * 65536, .bytes = 65536};
        d[i] = costs_req(&k, COST_DEVICE_READ_4K, &r);
        e[i] = costs_req(&k, COST_DEVICE_READ_PER_KIB, &r);
        double ei = costs_req(&ind, COST_DEVICE_READ_PER_KIB, &r);
        /* the part's draw is its own either way */
        assert_true(costs_req(&ind, COST_DEVICE_READ_4K, &r) == d[i]);
        below += d[i] + 60 * e[i] <= q90;
        below_ind += d[i] + 60 * ei <= q90;
        if (i > 0 && i < M)
            discordant += (d[i] - d[i - 1]) * (e[i] - e[i - 1]) < 0;
    }
    for (int i = 1; i < M; i++) { /* independent: about half the pairs disagree */
        req_t a = {.flow = 1, .tag = (uint64_t)i, .offset = (uint64_t)i * 65536};
        req_t b = {.flow = 1, .tag = (uint64_t)i - 1, .offset = (uint64_t)(i - 1) * 65536};
        discordant_ind += (d[i] - d[i - 1]) * (costs_req(&ind, COST_DEVICE_READ_PER_KIB, &a) -
                                               costs_req(&ind, COST_DEVICE_READ_PER_KIB, &b)) < 0;
    }
    printf("comonotone: %d of %d pairs discordant, %.4f at or below the p90 sum; independent: "
           "%d, %.4f\n", discordant, M - 1, (double)below / N, discordant_ind,
           (double)below_ind / N);
    assert_int_equal(discordant, 0);
    /* binomial sd at p = 0.9, n = 2e5: 0.00067; 5 sd */
    assert_true(fabs((double)below / N - 0.9) < 0.0034);
    assert_true(discordant_ind > M / 4); /* apart, the ranks are independent */
    /* drawn with an unknown cost, or itself: refused, naming the place */
    p = write_tmp("{\"latsurf_calibration\":1,\"params\":{\"device_read_ns_per_kib\":"
                  "{\"value\":300,\"drawn_with\":\"no_such_ns\"}}}");
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "device_read_ns_per_kib") && strstr(err, "drawn_with"));
    unlink(p);
    p = write_tmp("{\"latsurf_calibration\":1,\"params\":{\"device_read_ns_per_kib\":"
                  "{\"value\":300,\"drawn_with\":\"device_read_ns_per_kib\"}}}");
    assert_int_equal(costs_load(&k, p, err, sizeof(err)), -EINVAL);
    unlink(p);
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
        cmocka_unit_test(test_drawn_with),
        cmocka_unit_test(test_bad_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
