/*
 * test_vec.c - growable arrays (sim/vec.h): pushes keep every element,
 * capacity doubles from VEC_MIN, a reset keeps the capacity, a ring grows
 * without reordering, and every failure (a count the cap's type cannot hold,
 * a byte size that overflows, a realloc that fails) is -ENOMEM with the
 * array untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "sim/vec.h"

/* A request too large for any address space must come back as NULL from
 * the allocator, not abort an AddressSanitizer build. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

typedef struct {
    uint64_t a;
    uint32_t b;
} elem_t;

static void test_push_keeps_every_element(void **st)
{
    (void)st;
    elem_t *v = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(VEC_PUSH(v, n, cap, (elem_t){i * 3ull, i}), 0);
    assert_int_equal(n, 10000);
    assert_true(cap >= n);
    for (uint32_t i = 0; i < 10000; i++) {
        assert_int_equal(v[i].a, i * 3ull);
        assert_int_equal(v[i].b, i);
    }
    VEC_FREE(v, n, cap);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_int_equal(cap, 0);
}

static void test_capacity_doubles_from_min(void **st)
{
    (void)st;
    int *v = NULL;
    uint32_t n = 0, cap = 0;
    assert_int_equal(VEC_PUSH(v, n, cap, 1), 0);
    assert_int_equal(cap, VEC_MIN);
    while (n < VEC_MIN)
        assert_int_equal(VEC_PUSH(v, n, cap, 2), 0);
    assert_int_equal(cap, VEC_MIN);
    assert_int_equal(VEC_PUSH(v, n, cap, 3), 0);
    assert_int_equal(cap, 2 * VEC_MIN);
    free(v);
}

static void test_reserve_jumps_to_need(void **st)
{
    (void)st;
    double *v = NULL;
    size_t cap = 0;
    assert_int_equal(VEC_RESERVE(v, cap, 1000), 0);
    assert_int_equal(cap, 1000);
    assert_int_equal(VEC_RESERVE(v, cap, 10), 0); /* never shrinks */
    assert_int_equal(cap, 1000);
    assert_int_equal(VEC_RESERVE(v, cap, 1001), 0);
    assert_int_equal(cap, 2000);
    v[1999] = 1.0;
    free(v);
}

static void test_reset_keeps_capacity(void **st)
{
    (void)st;
    int *v = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 100; i++)
        assert_int_equal(VEC_PUSH(v, n, cap, i), 0);
    int *before = v;
    size_t cap_before = cap;
    n = 0;
    for (int i = 0; i < 100; i++)
        assert_int_equal(VEC_PUSH(v, n, cap, -i), 0);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, cap_before);
    assert_int_equal(v[99], -99);
    free(v);
}

static void test_count_type_overflow_is_enomem(void **st)
{
    (void)st;
    char *v = NULL;
    uint8_t n = 0, cap = 0;
    while (n < UINT8_MAX)
        assert_int_equal(VEC_PUSH(v, n, cap, (char)n), 0);
    assert_int_equal(cap, UINT8_MAX); /* doubling stopped at what uint8_t holds */
    char *before = v;
    assert_int_equal(VEC_PUSH(v, n, cap, 'x'), -ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(n, UINT8_MAX);
    assert_int_equal(cap, UINT8_MAX);
    assert_int_equal(v[254], (char)254);
    free(v);
}

/* Reserving `need` elements is -ENOMEM and leaves a one-element array as it was. */
static void assert_reserve_refused(size_t need)
{
    elem_t *v = NULL;
    size_t n = 0, cap = 0;
    assert_int_equal(VEC_PUSH(v, n, cap, (elem_t){5, 6}), 0);
    elem_t *before = v;
    assert_int_equal(VEC_RESERVE(v, cap, need), -ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, VEC_MIN);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].b, 6);
    assert_int_equal(VEC_RESIZE(v, need), -ENOMEM);
    assert_ptr_equal(v, before);
    free(v);
}

static void test_byte_size_overflow_is_enomem(void **st)
{
    (void)st;
    assert_reserve_refused(SIZE_MAX / sizeof(elem_t) + 1);
}

static void test_huge_request_is_enomem(void **st)
{
    (void)st;
    /* 2^60 bytes: no allocator can map it, whatever the overcommit policy */
    assert_reserve_refused(((size_t)1 << 60) / sizeof(elem_t));
}

static void test_ring_grows_in_order(void **st)
{
    (void)st;
    int *q = NULL;
    uint32_t head = 0, n = 0, cap = 0;
    int next_in = 0, next_out = 0;
    /* push 3, pop 1, repeatedly: the ring wraps before every growth */
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < 3; k++) {
            if (n == cap)
                assert_int_equal(VEC_RING_GROW(q, cap, head, n), 0);
            q[(head + n++) & (cap - 1)] = next_in++;
        }
        assert_int_equal(q[head], next_out++);
        head = (head + 1) & (cap - 1);
        n--;
        assert_int_equal(cap & (cap - 1), 0); /* a power of two: masks work */
    }
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(q[(head + i) & (cap - 1)], next_out + (int)i);
    free(q);
}

static void test_ring_past_count_type_is_enomem(void **st)
{
    (void)st;
    int *q = NULL;
    uint8_t head = 0, n = 0, cap = 0;
    while (n < 128) {
        if (n == cap)
            assert_int_equal(VEC_RING_GROW(q, cap, head, n), 0);
        q[(head + n) % cap] = n;
        n++;
    }
    int *before = q;
    head = 5;
    assert_int_equal(VEC_RING_GROW(q, cap, head, n), -ENOMEM); /* 256 > UINT8_MAX */
    assert_ptr_equal(q, before);
    assert_int_equal(cap, 128);
    assert_int_equal(head, 5);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_keeps_every_element),
        cmocka_unit_test(test_capacity_doubles_from_min),
        cmocka_unit_test(test_reserve_jumps_to_need),
        cmocka_unit_test(test_reset_keeps_capacity),
        cmocka_unit_test(test_count_type_overflow_is_enomem),
        cmocka_unit_test(test_byte_size_overflow_is_enomem),
        cmocka_unit_test(test_huge_request_is_enomem),
        cmocka_unit_test(test_ring_grows_in_order),
        cmocka_unit_test(test_ring_past_count_type_is_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
