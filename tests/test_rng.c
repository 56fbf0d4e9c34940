/*
 * test_rng.c - named GSL streams (sim/rng.h): a (seed, replication, name)
 * triple always gives the same stream, whatever else was created before it;
 * changing any part of the triple gives a different, uncorrelated stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_statistics_double.h>

#include "sim/rng.h"

#define K 1000

static void draw(gsl_rng *r, unsigned long *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = gsl_rng_get(r);
}

static void stream(uint64_t seed, uint32_t rep, const char *name, unsigned long *out, size_t n)
{
    gsl_rng *r = rng_stream_new(seed, rep, name);
    assert_non_null(r);
    draw(r, out, n);
    gsl_rng_free(r);
}

static void test_same_triple_reproduces(void **st)
{
    (void)st;
    unsigned long a[K], b[K];
    stream(1, 0, "arrivals", a, K);
    stream(1, 0, "arrivals", b, K);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(rng_derive_seed(99, 7, "dev3.flash"), rng_derive_seed(99, 7, "dev3.flash"));
}

/* Two streams share no output in their first K draws, in any alignment a
 * shifted copy of one generator would show. */
static void assert_unrelated(const unsigned long *a, const unsigned long *b)
{
    int same = 0;
    for (size_t i = 0; i < K; i++)
        same += a[i] == b[i];
    assert_true(same <= 1); /* 32-bit outputs: a chance match is ~1e-6 */
    for (size_t i = 0; i < 8; i++) /* a shifted copy would contain a's head */
        for (size_t j = 0; j + 1 < K; j++)
            assert_false(a[i] == b[j] && a[i + 1] == b[j + 1]);
}

static void test_any_change_differs(void **st)
{
    (void)st;
    unsigned long base[K], o[K];
    stream(1, 0, "dev0", base, K);
    stream(1, 0, "dev1", o, K);
    assert_unrelated(base, o);
    stream(1, 1, "dev0", o, K);
    assert_unrelated(base, o);
    stream(2, 0, "dev0", o, K);
    assert_unrelated(base, o);
    stream(0, 0, "dev0", o, K);
    assert_unrelated(base, o);
    stream(1, 0, "", o, K);
    assert_unrelated(base, o);
    /* seed and replication are not interchangeable */
    stream(0, 1, "dev0", o, K);
    unsigned long p[K];
    stream(1, 0, "dev0", p, K);
    assert_unrelated(p, o);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Across many names, replications and seeds no two streams coincide (the
 * first two outputs as a 64-bit key). */
static void test_no_collisions(void **st)
{
    (void)st;
    enum { M = 300 };
    uint64_t key[3 * M];
    size_t n = 0;
    char name[32];
    for (unsigned i = 0; i < M; i++) {
        unsigned long o[2];
        snprintf(name, sizeof(name), "dev%u", i);
        stream(1, 0, name, o, 2);
        key[n++] = ((uint64_t)o[0] << 32) | o[1];
        stream(1, i + 1, "dev0", o, 2);
        key[n++] = ((uint64_t)o[0] << 32) | o[1];
        stream(i + 2, 0, "dev0", o, 2);
        key[n++] = ((uint64_t)o[0] << 32) | o[1];
    }
    qsort(key, n, sizeof(key[0]), cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_true(key[i] != key[i - 1]);
}

static void test_creation_order_independent(void **st)
{
    (void)st;
    unsigned long a1[K], a2[K], b1[K], b2[K];
    /* A alone, then B alone */
    stream(5, 2, "A", a1, K);
    stream(5, 2, "B", b1, K);
    /* B first, then A, both alive and drawn interleaved */
    gsl_rng *b = rng_stream_new(5, 2, "B");
    gsl_rng *junk = rng_stream_new(5, 2, "C");
    draw(junk, a2, 17); /* draws from other streams do not disturb A or B */
    gsl_rng *a = rng_stream_new(5, 2, "A");
    for (size_t i = 0; i < K; i++) {
        b2[i] = gsl_rng_get(b);
        a2[i] = gsl_rng_get(a);
        (void)gsl_rng_get(junk);
    }
    gsl_rng_free(a);
    gsl_rng_free(b);
    gsl_rng_free(junk);
    assert_memory_equal(a1, a2, sizeof(a1));
    assert_memory_equal(b1, b2, sizeof(b1));
}

/* Neighbouring streams are uncorrelated: |r| below 5 standard errors. */
static void test_uncorrelated(void **st)
{
    (void)st;
    enum { NS = 100000 };
    static double x[NS], y[NS];
    const struct {
        uint64_t s1; uint32_t r1; const char *n1;
        uint64_t s2; uint32_t r2; const char *n2;
    } pairs[] = {
        {1, 0, "dev0", 1, 1, "dev0"},
        {1, 0, "dev0", 1, 0, "dev1"},
        {1, 0, "dev0", 2, 0, "dev0"},
    };
    for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
        gsl_rng *a = rng_stream_new(pairs[p].s1, pairs[p].r1, pairs[p].n1);
        gsl_rng *b = rng_stream_new(pairs[p].s2, pairs[p].r2, pairs[p].n2);
        for (size_t i = 0; i < NS; i++) {
            x[i] = gsl_rng_uniform(a);
            y[i] = gsl_rng_uniform(b);
        }
        gsl_rng_free(a);
        gsl_rng_free(b);
        double r = gsl_stats_correlation(x, 1, y, 1, NS);
        assert_true(fabs(r) < 5.0 / sqrt((double)NS));
        /* and each is a sane uniform stream */
        assert_true(fabs(gsl_stats_mean(x, 1, NS) - 0.5) < 5.0 * sqrt(1.0 / 12 / NS));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_triple_reproduces),
        cmocka_unit_test(test_any_change_differs),
        cmocka_unit_test(test_no_collisions),
        cmocka_unit_test(test_creation_order_independent),
        cmocka_unit_test(test_uncorrelated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
