/*
 * test_regcache.c - the registration policies (policies/registration.h) and
 * their LRU table (policies/regcache.h) against what analysis says: a
 * working set within the budget hits every time after warm-up, a cyclic
 * scan one region larger than the budget never hits under LRU, churn per
 * flow is counted exactly, invalidation and in-use regions behave, and the
 * costs returned are the executor's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "policies/policy.h"
#include "policies/regcache.h"
#include "policies/registration.h"

#define KIB 1024ull
#define REG_FIXED 1000
#define REG_PAGE 10
#define DEREG 500

/* A fake executor: fixed costs, and a live count of what is registered. */
typedef struct {
    int64_t live, calls_reg, calls_dereg;
    int fail;
} fake_t;

static int64_t fake_reg(void *ctx, uint64_t buf, uint64_t bytes, void **handle)
{
    fake_t *f = ctx;
    if (f->fail)
        return -ENOMEM;
    f->live++;
    f->calls_reg++;
    *handle = (void *)(uintptr_t)(buf + 1);
    return REG_FIXED + (int64_t)((bytes + 4095) / 4096) * REG_PAGE;
}

static int64_t fake_dereg(void *ctx, uint64_t buf, uint64_t bytes, void *handle)
{
    (void)bytes;
    fake_t *f = ctx;
    assert_ptr_equal(handle, (void *)(uintptr_t)(buf + 1));
    f->live--;
    f->calls_dereg++;
    return DEREG;
}

static const pol_reg_ops_t fake_ops = {fake_reg, fake_dereg};

static pol_registry_t *mk(pol_reg_t kind, uint64_t cache_bytes, uint64_t pool_bytes, fake_t *f)
{
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    cfg.reg_cache_bytes = cache_bytes;
    cfg.reg_pool_bytes = pool_bytes;
    memset(f, 0, sizeof(*f));
    pol_registry_t *g = pol_reg_new(kind, &cfg, &fake_ops, f);
    assert_non_null(g);
    return g;
}

/* One transfer: acquire, release; returns the acquire's use. */
static pol_reg_use_t xfer(pol_registry_t *g, uint32_t flow, uint64_t buf, uint64_t bytes,
                          bool recurring)
{
    pol_intent_t in = {.flow = flow, .buf = buf, .bytes = bytes, .recurring = recurring};
    pol_reg_use_t u;
    assert_int_equal(pol_reg_acquire(g, &in, &u), 0);
    pol_reg_use_t copy = u;
    pol_reg_release(g, &u);
    return copy;
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* 16 regions of 64 KiB in a 1 MiB cache: after the first touch of each,
 * random accesses hit every time; nothing is ever evicted. */
static void test_working_set_fits_hits_all(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_CACHE, 1024 * KIB, 0, &f);
    for (uint64_t b = 1; b <= 16; b++)
        xfer(g, (uint32_t)b, b, 64 * KIB, false);
    assert_int_equal(pol_reg_stats(g)->registrations, 16);
    pol_reg_stats_reset(g);
    uint32_t s = 1;
    for (int i = 0; i < 10000; i++) {
        uint64_t b = 1 + lcg(&s) % 16;
        xfer(g, (uint32_t)b, b, 64 * KIB, false);
    }
    const pol_reg_stats_t *rs = pol_reg_stats(g);
    assert_int_equal(rs->lookups, 10000);
    assert_int_equal(rs->hits, 10000);
    assert_int_equal(rs->registrations, 0);
    assert_int_equal(rs->deregistrations, 0);
    assert_int_equal(rs->flows, 16);
    assert_int_equal(pol_reg_bytes(g), 1024 * KIB);
    pol_reg_free(g);
    assert_int_equal(f.live, 0); /* free deregistered the 16 kept regions */
}

/* 17 regions cycled through a cache of 16: LRU always evicts the one needed
 * next, so the hit rate is exactly 0 and every access registers once and
 * evicts once. */
static void test_cyclic_scan_one_over_budget_never_hits(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_CACHE, 1024 * KIB, 0, &f);
    for (uint64_t b = 1; b <= 17; b++)
        xfer(g, 0, b, 64 * KIB, false);
    pol_reg_stats_reset(g);
    for (int i = 0; i < 17 * 50; i++)
        xfer(g, 0, 1 + (uint64_t)i % 17, 64 * KIB, false);
    const pol_reg_stats_t *rs = pol_reg_stats(g);
    assert_int_equal(rs->lookups, 850);
    assert_int_equal(rs->hits, 0);
    assert_int_equal(rs->registrations, 850);
    assert_int_equal(rs->deregistrations, 850);
    assert_int_equal(f.live, 16);
    /* the same scan over exactly the budget hits every time */
    pol_reg_free(g);
    g = mk(POL_REG_CACHE, 17 * 64 * KIB, 0, &f);
    for (int i = 0; i < 17 * 50; i++)
        xfer(g, 0, 1 + (uint64_t)i % 17, 64 * KIB, false);
    assert_int_equal(pol_reg_stats(g)->hits, 850 - 17);
    pol_reg_free(g);
}

/* 10 flows x 20 transfers, each flow on its own region: churn per flow is
 * 2 x 20 for none, 1 for cache / pool / intent (recurring), 40 for intent
 * when the flows are not declared recurring. */
static void churn(pol_reg_t kind, bool recurring, uint64_t want_reg, uint64_t want_dereg)
{
    fake_t f;
    pol_registry_t *g = mk(kind, 1 << 30, 1 << 30, &f);
    for (int t = 0; t < 20; t++)
        for (uint32_t fl = 0; fl < 10; fl++)
            xfer(g, fl, 100 + fl, 16 * KIB, recurring);
    const pol_reg_stats_t *rs = pol_reg_stats(g);
    assert_int_equal(rs->flows, 10);
    assert_int_equal(rs->lookups, 200);
    assert_int_equal(rs->registrations, want_reg);
    assert_int_equal(rs->deregistrations, want_dereg);
    assert_int_equal(rs->hits, 200 - want_reg);
    pol_reg_free(g);
}

static void test_churn_per_flow_exact(void **st)
{
    (void)st;
    churn(POL_REG_NONE, true, 200, 200);      /* (200 + 200) / 10 = 40 per flow */
    churn(POL_REG_CACHE, false, 10, 0);       /* 1 per flow */
    churn(POL_REG_POOL, false, 10, 0);        /* 1 per flow */
    churn(POL_REG_INTENT, true, 10, 0);       /* 1 per flow */
    churn(POL_REG_INTENT, false, 200, 200);   /* not declared: like none */
}

/* Flows counted afresh after a reset (the warm-up cut). */
static void test_flows_counted_per_reset(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_NONE, 0, 0, &f);
    for (uint32_t fl = 0; fl < 3000; fl++) /* enough to grow the flow table twice */
        xfer(g, fl, 0, 4096, false);
    assert_int_equal(pol_reg_stats(g)->flows, 3000);
    pol_reg_stats_reset(g);
    for (uint32_t fl = 0; fl < 5; fl++)
        xfer(g, fl * 7, 0, 4096, false);
    xfer(g, 0, 0, 4096, false);
    assert_int_equal(pol_reg_stats(g)->flows, 5);
    pol_reg_free(g);
}

/* Invalidation deregisters now, or at the last release when in use; the
 * next transfer from the region registers again. */
static void test_invalidate(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_CACHE, 1 << 20, 0, &f);
    xfer(g, 1, 7, 8 * KIB, false);
    assert_int_equal(pol_reg_invalidate(g, 7), DEREG);
    assert_int_equal(f.live, 0);
    assert_int_equal(pol_reg_invalidate(g, 7), 0); /* already gone */
    assert_false(xfer(g, 1, 7, 8 * KIB, false).hit);
    assert_int_equal(pol_reg_stats(g)->registrations, 2);
    assert_int_equal(pol_reg_stats(g)->deregistrations, 1);

    /* freed while a transfer uses it */
    pol_intent_t in = {.flow = 1, .buf = 7, .bytes = 8 * KIB};
    pol_reg_use_t u;
    assert_int_equal(pol_reg_acquire(g, &in, &u), 0);
    assert_true(u.hit);
    assert_int_equal(pol_reg_invalidate(g, 7), 0);
    assert_int_equal(f.live, 1);
    assert_int_equal(pol_reg_bytes(g), 0); /* out of the budget at once */
    assert_int_equal(pol_reg_release(g, &u), DEREG);
    assert_int_equal(f.live, 0);
    assert_int_equal(pol_reg_stats(g)->deregistrations, 2);
    pol_reg_free(g);
}

/* The acquire cost is the executor's: registration plus evictions. */
static void test_costs(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_CACHE, 64 * KIB, 0, &f);
    pol_reg_use_t u = xfer(g, 1, 1, 64 * KIB, false);
    assert_int_equal(u.cost_ns, REG_FIXED + 16 * REG_PAGE);
    u = xfer(g, 1, 1, 64 * KIB, false);
    assert_int_equal(u.cost_ns, 0);
    assert_true(u.hit);
    u = xfer(g, 1, 2, 32 * KIB, false); /* evicts region 1 */
    assert_int_equal(u.cost_ns, REG_FIXED + 8 * REG_PAGE + DEREG);
    /* a larger transfer from region 2 re-registers it at the new size */
    u = xfer(g, 1, 2, 48 * KIB, false);
    assert_false(u.hit);
    assert_int_equal(u.cost_ns, DEREG + REG_FIXED + 12 * REG_PAGE);
    assert_int_equal(pol_reg_bytes(g), 48 * KIB);
    /* bigger than the whole budget: registered for the transfer only */
    pol_intent_t in = {.flow = 1, .buf = 3, .bytes = 128 * KIB};
    assert_int_equal(pol_reg_acquire(g, &in, &u), 0);
    assert_true(u.temporary);
    assert_int_equal(pol_reg_bytes(g), 48 * KIB); /* region 2 was not evicted for nothing */
    assert_int_equal(pol_reg_release(g, &u), DEREG);
    pol_reg_free(g);
}

/* A region in use is never evicted: the newcomer gets a temporary one. */
static void test_in_use_not_evicted(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_CACHE, 64 * KIB, 0, &f);
    pol_intent_t a = {.flow = 1, .buf = 1, .bytes = 64 * KIB};
    pol_intent_t b = {.flow = 2, .buf = 2, .bytes = 64 * KIB};
    pol_reg_use_t ua, ub;
    assert_int_equal(pol_reg_acquire(g, &a, &ua), 0);
    assert_int_equal(pol_reg_acquire(g, &b, &ub), 0);
    assert_true(ub.temporary);
    assert_int_equal(f.live, 2);
    assert_int_equal(pol_reg_release(g, &ub), DEREG);
    assert_int_equal(pol_reg_release(g, &ua), 0);
    assert_true(xfer(g, 1, 1, 64 * KIB, false).hit);
    pol_reg_free(g);
}

/* pool: regions registered at first use until the budget is spent, then
 * like none for the rest; intent: only recurring flows, keyed by the flow
 * when they have no region id. */
static void test_pool_budget_and_intent(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_POOL, 0, 128 * KIB, &f);
    for (int t = 0; t < 10; t++)
        for (uint64_t b = 1; b <= 4; b++)
            xfer(g, (uint32_t)b, b, 64 * KIB, false);
    const pol_reg_stats_t *rs = pol_reg_stats(g);
    /* regions 1 and 2 kept (2 registrations, 18 hits); 3 and 4 per transfer (20 + 20) */
    assert_int_equal(rs->hits, 18);
    assert_int_equal(rs->registrations, 2 + 20);
    assert_int_equal(rs->deregistrations, 20);
    assert_int_equal(f.live, 2);
    pol_reg_free(g);

    g = mk(POL_REG_INTENT, 0, 1 << 20, &f);
    for (int t = 0; t < 10; t++) {
        xfer(g, 5, 0, 4096, true);  /* recurring, no region id: keyed by flow 5 */
        xfer(g, 6, 0, 4096, false); /* one-off */
        xfer(g, 7, 9, 4096, true);  /* recurring on region 9 */
    }
    rs = pol_reg_stats(g);
    assert_int_equal(rs->hits, 18);
    assert_int_equal(rs->registrations, 2 + 10);
    assert_int_equal(rs->deregistrations, 10);
    assert_int_equal(rs->flows, 3);
    pol_reg_free(g);
}

/* A failing register call is reported and counts nothing. */
static void test_register_failure(void **st)
{
    (void)st;
    fake_t f;
    pol_registry_t *g = mk(POL_REG_CACHE, 1 << 20, 0, &f);
    f.fail = 1;
    pol_intent_t in = {.flow = 1, .buf = 1, .bytes = 4096};
    pol_reg_use_t u;
    assert_int_equal(pol_reg_acquire(g, &in, &u), -ENOMEM);
    assert_int_equal(pol_reg_stats(g)->registrations, 0);
    assert_int_equal(pol_reg_bytes(g), 0);
    f.fail = 0;
    assert_false(xfer(g, 1, 1, 4096, false).hit);
    assert_true(xfer(g, 1, 1, 4096, false).hit);
    pol_reg_free(g);
}

/* The table itself: LRU order, the entry bound, unlink/put. */
static void test_table_lru_order(void **st)
{
    (void)st;
    pol_regcache_t rc;
    assert_int_equal(pol_regcache_init(&rc, 1000, 3), 0);
    uint32_t a = pol_regcache_insert(&rc, 10, 100, NULL);
    uint32_t b = pol_regcache_insert(&rc, 20, 100, NULL);
    uint32_t c = pol_regcache_insert(&rc, 30, 100, NULL);
    assert_int_equal(pol_regcache_insert(&rc, 40, 100, NULL), POL_REGCACHE_NONE); /* 3 entries */
    assert_int_equal(pol_regcache_victim(&rc), a);
    assert_int_equal(pol_regcache_find(&rc, 10), a);
    assert_int_equal(pol_regcache_victim(&rc), b);
    pol_regcache_ref(&rc, b);
    assert_int_equal(pol_regcache_victim(&rc), c);
    assert_false(pol_regcache_could_fit(&rc, 901));
    assert_true(pol_regcache_could_fit(&rc, 900));
    pol_regcache_unlink(&rc, c);
    pol_regcache_put(&rc, c);
    assert_int_equal(pol_regcache_find(&rc, 30), POL_REGCACHE_NONE);
    assert_int_equal(rc.used, 200);
    assert_int_not_equal(pol_regcache_insert(&rc, 40, 800, NULL), POL_REGCACHE_NONE);
    assert_int_equal(pol_regcache_unref(&rc, b), 0);
    assert_int_equal(pol_regcache_init(&(pol_regcache_t){0}, 1, 0), -EINVAL);
    pol_regcache_fini(&rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_working_set_fits_hits_all),
        cmocka_unit_test(test_cyclic_scan_one_over_budget_never_hits),
        cmocka_unit_test(test_churn_per_flow_exact),
        cmocka_unit_test(test_flows_counted_per_reset),
        cmocka_unit_test(test_invalidate),
        cmocka_unit_test(test_costs),
        cmocka_unit_test(test_in_use_not_evicted),
        cmocka_unit_test(test_pool_budget_and_intent),
        cmocka_unit_test(test_register_failure),
        cmocka_unit_test(test_table_lru_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
