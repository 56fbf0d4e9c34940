/*
 * test_slab.c - index-addressed record pools (sim/slab.h): never-used
 * records come in index order and read as zero, returned ones come back
 * last-in first-out, growth keeps records and indices, and a slab at its
 * limit fails the take without disturbing anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "sim/slab.h"

typedef struct {
    uint64_t payload;
    uint32_t gen;
    uint32_t next_free;
} rec_t;

static void test_fresh_records_in_order_and_zero(void **st)
{
    (void)st;
    rec_t *r = NULL;
    slab_t s = slab_make(SLAB_MAX);
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t k = SLAB_GET(s, r, next_free);
        assert_int_equal(k, i);
        assert_int_equal(r[k].payload, 0);
        assert_int_equal(r[k].gen, 0);
        r[k].payload = 100 + i;
    }
    assert_int_equal(s.n, 1000);
    for (uint32_t i = 0; i < 1000; i++) /* growth moved them, intact */
        assert_int_equal(r[i].payload, 100 + i);
    free(r);
}

static void test_returned_records_come_back_lifo(void **st)
{
    (void)st;
    rec_t *r = NULL;
    slab_t s = slab_make(SLAB_MAX);
    for (int i = 0; i < 10; i++)
        (void)SLAB_GET(s, r, next_free);
    SLAB_PUT(s, r, next_free, 5);
    SLAB_PUT(s, r, next_free, 3);
    assert_int_equal(SLAB_GET(s, r, next_free), 3);
    assert_int_equal(SLAB_GET(s, r, next_free), 5);
    assert_int_equal(SLAB_GET(s, r, next_free), 10); /* then never-used ones */
    free(r);
}

static void test_owner_fields_survive_the_free_list(void **st)
{
    (void)st;
    rec_t *r = NULL;
    slab_t s = slab_make(SLAB_MAX);
    uint32_t k = SLAB_GET(s, r, next_free);
    r[k].gen = 41;
    r[k].gen++;
    SLAB_PUT(s, r, next_free, k);
    assert_int_equal(SLAB_GET(s, r, next_free), k);
    assert_int_equal(r[k].gen, 42); /* only the link field is the slab's */
    free(r);
}

static void test_limit_fails_cleanly(void **st)
{
    (void)st;
    rec_t *r = NULL;
    slab_t s = slab_make(20);
    for (uint32_t i = 0; i < 20; i++)
        assert_int_equal(SLAB_GET(s, r, next_free), i);
    assert_int_equal(s.cap, 20); /* doubling stopped at the limit */
    rec_t *before = r;
    assert_int_equal(SLAB_GET(s, r, next_free), SLAB_NIL);
    assert_ptr_equal(r, before);
    assert_int_equal(s.n, 20);
    SLAB_PUT(s, r, next_free, 7);
    assert_int_equal(SLAB_GET(s, r, next_free), 7);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_records_in_order_and_zero),
        cmocka_unit_test(test_returned_records_come_back_lifo),
        cmocka_unit_test(test_owner_fields_survive_the_free_list),
        cmocka_unit_test(test_limit_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
