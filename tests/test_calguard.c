/*
 * test_calguard.c - the disturbed-stage detection of calibrate
 * (calibrate/calguard.h) over hand-built sample blocks: five quiet blocks
 * drawn from one distribution are accepted, a block slowed by a passing
 * disturbance (every sample +30%, or a stall over its second half) is
 * found and named, too few samples are not judged, and the block medians
 * are the hand-computed ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>

#include "calibrate/calguard.h"

enum { PER = 400, K = 5, N = PER * K };

/* A QD1 read latency, ns: 40 us plus a spread of up to 8 us, in a fixed
 * pseudo-random order (a multiplicative congruential sequence, so every
 * block holds the same mix). */
static void quiet(double *x, size_t n)
{
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = 40000 + (double)(s >> 40) / (double)(1ULL << 24) * 8000;
    }
}

static void quiet_blocks_accepted(void **state)
{
    (void)state;
    static double x[N];
    quiet(x, N);
    calguard_blocks_t b;
    assert_int_equal(calguard_blocks(x, N, K, CALGUARD_MIN_BLOCK, CALGUARD_BLOCK_TOL, &b), 0);
    assert_true(b.checked);
    assert_false(b.disturbed);
    assert_int_equal(b.nblocks, K);
    /* uniform on [40, 48] us: every block's median near 44 us */
    assert_true(fabs(b.center - 44000) < 500);
    assert_true(fabs(b.worst_dev) < 0.02);
}

static void slowed_block_found(void **state)
{
    (void)state;
    static double x[N];
    quiet(x, N);
    for (size_t i = 3 * PER; i < 4 * PER; i++)
        x[i] *= 1.3; /* the host slowed every read of block 4 */
    calguard_blocks_t b;
    assert_int_equal(calguard_blocks(x, N, K, CALGUARD_MIN_BLOCK, CALGUARD_BLOCK_TOL, &b), 0);
    assert_true(b.checked);
    assert_true(b.disturbed);
    assert_int_equal(b.worst, 3);
    assert_true(fabs(b.worst_dev - 0.3) < 0.03);
    /* the other four blocks still set the center */
    assert_true(fabs(b.center - 44000) < 500);
}

/* A stall over the last 60% of block 2 (a disturbance that began inside
 * the stage): that block's median moves by the stall, the rest agree. */
static void partial_stall_found(void **state)
{
    (void)state;
    static double x[N];
    quiet(x, N);
    for (size_t i = PER + PER * 2 / 5; i < 2 * PER; i++)
        x[i] += 30000;
    calguard_blocks_t b;
    assert_int_equal(calguard_blocks(x, N, K, CALGUARD_MIN_BLOCK, CALGUARD_BLOCK_TOL, &b), 0);
    assert_true(b.disturbed);
    assert_int_equal(b.worst, 1);
    assert_true(b.worst_dev > CALGUARD_BLOCK_TOL);
}

/* A small shift (5%, under the threshold) is accepted. */
static void small_shift_accepted(void **state)
{
    (void)state;
    static double x[N];
    quiet(x, N);
    for (size_t i = 0; i < PER; i++)
        x[i] *= 1.05;
    calguard_blocks_t b;
    assert_int_equal(calguard_blocks(x, N, K, CALGUARD_MIN_BLOCK, CALGUARD_BLOCK_TOL, &b), 0);
    assert_false(b.disturbed);
    assert_int_equal(b.worst, 0);
}

/* Hand-computed: blocks {1,2,3} {4,5,6} {7,8,9,10} (the last takes the
 * remainder): medians 2, 5, 8.5; center 5; worst block 3 at +70%. */
static void hand_computed(void **state)
{
    (void)state;
    const double x[] = {3, 1, 2, 6, 4, 5, 10, 7, 9, 8};
    calguard_blocks_t b;
    assert_int_equal(calguard_blocks(x, 10, 3, 3, 0.5, &b), 0);
    assert_true(b.checked);
    assert_true(b.center == 5);
    assert_int_equal(b.worst, 2);
    assert_true(fabs(b.worst_dev - 0.7) < 1e-12);
    assert_true(b.disturbed);
    assert_true(x[0] == 3 && x[1] == 1); /* not sorted in place */
    assert_true(calguard_median(x, 10) == 5.5);
    assert_true(fabs(calguard_dev(60, 50) - 0.2) < 1e-12);
}

static void too_few_not_judged(void **state)
{
    (void)state;
    static double x[N];
    quiet(x, N);
    calguard_blocks_t b;
    assert_int_equal(calguard_blocks(x, K * CALGUARD_MIN_BLOCK - 1, K, CALGUARD_MIN_BLOCK,
                                     CALGUARD_BLOCK_TOL, &b),
                     0);
    assert_false(b.checked);
    assert_false(b.disturbed);
    assert_int_equal(calguard_blocks(x, N, 1, CALGUARD_MIN_BLOCK, CALGUARD_BLOCK_TOL, &b),
                     -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quiet_blocks_accepted), cmocka_unit_test(slowed_block_found),
        cmocka_unit_test(partial_stall_found),   cmocka_unit_test(small_shift_accepted),
        cmocka_unit_test(hand_computed),         cmocka_unit_test(too_few_not_judged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
