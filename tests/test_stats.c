/* test_stats.c - confidence intervals, paired vs unpaired comparisons, MSER-5,
 * a histogram quantile's sampling interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "reports/stats.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>

static gsl_rng *rng_new(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

static void test_ci_hand_computed(void **state)
{
    (void)state;
    const double x[] = {1, 2, 3, 4, 5};
    stats_ci_t c;
    assert_int_equal(stats_ci(x, 5, 0.95, &c), 0);
    assert_true(fabs(c.mean - 3.0) < 1e-12);
    assert_true(fabs(c.sd - sqrt(2.5)) < 1e-12);
    /* t_{0.975,4} = 2.776445 */
    assert_true(fabs(c.half - 2.776445 * sqrt(2.5) / sqrt(5.0)) < 1e-5);
    assert_true(fabs(c.lo - (c.mean - c.half)) < 1e-12);
    assert_int_equal(stats_ci(x, 1, 0.95, &c), 0);
    assert_true(isnan(c.half) && c.mean == 1.0);
    assert_int_equal(stats_ci(x, 0, 0.95, &c), -EINVAL);
    assert_int_equal(stats_ci(x, 5, 1.0, &c), -EINVAL);
}

/* 200 experiments of 8 replications each from a normal with known mean:
 * the nominal 95% interval must cover the mean in >= 93% of them. Also for
 * a skewed (exponential) per-replication statistic of 30 replications. */
static void test_ci_coverage(void **state)
{
    (void)state;
    gsl_rng *r = rng_new(42);
    int cover_n = 0, cover_e = 0;
    const int trials = 200;
    for (int t = 0; t < trials; t++) {
        double x[8], y[30];
        for (int i = 0; i < 8; i++)
            x[i] = 50.0 + gsl_ran_gaussian(r, 7.0);
        for (int i = 0; i < 30; i++)
            y[i] = gsl_ran_exponential(r, 20.0);
        stats_ci_t c, e;
        assert_int_equal(stats_ci(x, 8, 0.95, &c), 0);
        assert_int_equal(stats_ci(y, 30, 0.95, &e), 0);
        cover_n += c.lo <= 50.0 && 50.0 <= c.hi;
        cover_e += e.lo <= 20.0 && 20.0 <= e.hi;
    }
    gsl_rng_free(r);
    printf("# CI coverage over %d experiments: normal n=8 %.1f%%, exponential n=30 %.1f%%\n",
           trials, 100.0 * cover_n / trials, 100.0 * cover_e / trials);
    assert_true(cover_n >= 0.93 * trials);
    assert_true(cover_e >= 0.90 * trials); /* skewed: t is a little optimistic */
    assert_true(cover_n <= 0.99 * trials); /* and not trivially wide */
}

/* A 5% improvement (100 -> 95) under replication noise of sd 10 that is 99%
 * correlated between variants run with the same seeds (common random
 * numbers). With 5 replications the paired interval sees it; an unpaired
 * analysis of independently seeded runs, or of the same runs ignoring the
 * pairing, does not. */
static void test_paired_beats_unpaired(void **state)
{
    (void)state;
    enum { N = 5, TRIALS = 200 };
    gsl_rng *r = rng_new(7);
    int paired = 0, welch_crn = 0, welch_indep = 0;
    double sum_delta = 0;
    for (int t = 0; t < TRIALS; t++) {
        double b[N], v[N], vi[N];
        for (int i = 0; i < N; i++) {
            double eb, ev;
            gsl_ran_bivariate_gaussian(r, 10.0, 10.0, 0.99, &eb, &ev);
            b[i] = 100.0 + eb;
            v[i] = 95.0 + ev;
            vi[i] = 95.0 + gsl_ran_gaussian(r, 10.0); /* its own seed */
        }
        stats_cmp_t p, w, u;
        assert_int_equal(stats_paired(v, b, N, 0.95, &p), 0);
        assert_int_equal(stats_unpaired(v, N, b, N, 0.95, &w), 0);
        assert_int_equal(stats_unpaired(vi, N, b, N, 0.95, &u), 0);
        assert_true(p.paired && !w.paired);
        paired += p.significant && p.diff.hi < 0;
        welch_crn += w.significant;
        welch_indep += u.significant;
        sum_delta += p.delta_pct;
    }
    gsl_rng_free(r);
    printf("# 5%% difference, %d replications, %d trials: detected paired %d%%, "
           "unpaired same runs %d%%, unpaired independent runs %d%%; mean delta %.2f%%\n",
           N, TRIALS, 100 * paired / TRIALS, 100 * welch_crn / TRIALS,
           100 * welch_indep / TRIALS, sum_delta / TRIALS);
    assert_true(paired >= 0.9 * TRIALS);
    assert_true(welch_crn <= 0.3 * TRIALS);
    assert_true(welch_indep <= 0.3 * TRIALS);
    assert_true(fabs(sum_delta / TRIALS + 5.0) < 0.5);
}

static void test_cmp_edges(void **state)
{
    (void)state;
    const double b[] = {10, 10, 10}, same[] = {10, 10, 10}, up[] = {11, 11, 11},
                 zero[] = {0, 0, 0};
    stats_cmp_t c;
    assert_int_equal(stats_paired(same, b, 3, 0.95, &c), 0);
    assert_false(c.significant); /* identical runs: no difference */
    assert_int_equal(stats_paired(up, b, 3, 0.95, &c), 0);
    assert_true(c.significant); /* a constant shift is one */
    assert_true(fabs(c.delta_pct - 10.0) < 1e-9);
    assert_int_equal(stats_paired(up, zero, 3, 0.95, &c), 0);
    assert_true(isnan(c.delta_pct));
    assert_int_equal(stats_paired(up, b, 1, 0.95, &c), 0);
    assert_false(c.significant); /* one replication: unknown */
    assert_int_equal(stats_unpaired(up, 0, b, 3, 0.95, &c), -EINVAL);
}

/* An exponentially decaying start-up transient over the first ~300 of 2000
 * observations: MSER-5 must cut inside the transient's tail, not at 0 and
 * not deep into the steady state. A stationary series is barely cut. */
static void test_mser5_transient(void **state)
{
    (void)state;
    enum { N = 2000 };
    static double y[N];
    gsl_rng *r = rng_new(3);
    size_t cut_t = 0, cut_s = 0;
    for (int i = 0; i < N; i++)
        y[i] = 100.0 + 40.0 * exp(-i / 60.0) + gsl_ran_gaussian(r, 2.0);
    assert_int_equal(stats_mser5(y, N, &cut_t), 0);
    for (int i = 0; i < N; i++)
        y[i] = 100.0 + gsl_ran_gaussian(r, 2.0);
    assert_int_equal(stats_mser5(y, N, &cut_s), 0);
    gsl_rng_free(r);
    printf("# MSER-5 cut: transient %zu, stationary %zu (of %d)\n", cut_t, cut_s, N);
    /* 40 e^{-i/60} falls below the batch-mean noise (2/sqrt(5) ~ 0.9) near
     * i = 230. */
    assert_true(cut_t >= 120 && cut_t <= 450);
    assert_int_equal(cut_t % 5, 0);
    assert_true(cut_s <= 200);
    assert_int_equal(stats_mser5(y, 19, &cut_s), -EINVAL);
}

/* 400 samples of 4,000 exponential values (mean 1 ms, in ns) in a
 * histogram: the 95% interval of the median and of p99 must cover the true
 * quantile (ln 2 and ln 100 ms) in 92-98% of them (3 binomial sds of 95%
 * over 400), so it is neither optimistic nor trivially wide. Bad
 * arguments and an empty histogram give NaN. */
static void test_quantile_ci_coverage(void **state)
{
    (void)state;
    gsl_rng *r = rng_new(7);
    static hist_t h;
    const double q[2] = {0.5, 0.99}, truth[2] = {log(2.0) * 1e6, log(100.0) * 1e6};
    int cover[2] = {0, 0};
    const int trials = 400;
    for (int t = 0; t < trials; t++) {
        hist_init(&h);
        for (int i = 0; i < 4000; i++)
            hist_add(&h, (uint64_t)llround(gsl_ran_exponential(r, 1e6)));
        for (int k = 0; k < 2; k++) {
            double lo, hi;
            stats_quantile_ci(&h, q[k], 0.95, &lo, &hi);
            assert_true(lo <= hi);
            cover[k] += lo <= truth[k] && truth[k] <= hi;
        }
    }
    gsl_rng_free(r);
    printf("# quantile CI coverage over %d samples: p50 %.1f%%, p99 %.1f%%\n", trials,
           100.0 * cover[0] / trials, 100.0 * cover[1] / trials);
    for (int k = 0; k < 2; k++) {
        assert_true(cover[k] >= 0.92 * trials);
        assert_true(cover[k] <= 0.98 * trials);
    }
    double lo, hi;
    stats_quantile_ci(&h, 1.0, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    stats_quantile_ci(&h, 0.5, 1.5, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    hist_init(&h);
    stats_quantile_ci(&h, 0.5, 0.95, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ci_hand_computed),   cmocka_unit_test(test_ci_coverage),
        cmocka_unit_test(test_paired_beats_unpaired), cmocka_unit_test(test_cmp_edges),
        cmocka_unit_test(test_mser5_transient),    cmocka_unit_test(test_quantile_ci_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
