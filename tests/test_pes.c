/*
 * test_pes.c - the pending-event set and the engine's event semantics.
 *
 * The heap and the ladder are checked against a sorted reference over random
 * pushes and pops (equal times, growth past the initial capacity, far and
 * saturated times); the engine for time/FIFO order, cancellation, stale
 * handles, sim_run(until) and sim_stop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/pes.h"
#include "sim/sim.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>
#include <string.h>

/* ---- reference: an array sorted largest first, popped from the end ----- */

typedef struct {
    pes_key_t *k;
    size_t n;
} ref_t;

static void ref_push(ref_t *r, pes_key_t key)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pes_before(r->k[mid], key))
            hi = mid;
        else
            lo = mid + 1;
    }
    memmove(&r->k[lo + 1], &r->k[lo], (r->n - lo) * sizeof(*r->k));
    r->k[lo] = key;
    r->n++;
}

static pes_key_t ref_pop(ref_t *r) { return r->k[--r->n]; }

/* Increments drawn by `mode`: 0 a wide spread, 1 few distinct values (many
 * ties), 2 a mix with far outliers up to UINT64_MAX. */
static uint64_t draw_dt(gsl_rng *g, int mode)
{
    switch (mode) {
    case 0:
        return gsl_rng_uniform_int(g, 1000000) * gsl_rng_uniform_int(g, 4);
    case 1:
        return gsl_rng_uniform_int(g, 3);
    default: {
        unsigned long u = gsl_rng_uniform_int(g, 100);
        if (u == 0)
            return UINT64_MAX;
        if (u < 5)
            return (uint64_t)1 << (40 + gsl_rng_uniform_int(g, 23));
        return gsl_rng_uniform_int(g, 5000);
    }
    }
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* Drive a structure and the reference with the same operations: pushes at
 * now + dt (now = the last popped time, as in a simulation), slots reused
 * like the engine's pool, pops compared key for key. */
#define DRIVE(push, pop, size, q, mode, ops, maxn)                                              \
    do {                                                                                        \
        gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);                                            \
        gsl_rng_set(g, 7 + (mode));                                                             \
        ref_t r = {calloc((maxn) + 1, sizeof(pes_key_t)), 0};                                   \
        uint32_t *free_slots = malloc(((maxn) + 1) * sizeof(uint32_t)), nfree = 0;              \
        for (uint32_t s = (maxn); s >= 1; s--)                                                  \
            free_slots[nfree++] = s;                                                            \
        uint64_t now = 0;                                                                       \
        uint32_t seq = 0;                                                                       \
        for (int op = 0; op < (ops); op++) {                                                    \
            /* Phases: grow to maxn, drain, then hover around half. */                        \
            int grow = op < (ops) / 3       ? 1                                                 \
                       : op < (ops) / 2     ? 0                                                 \
                       : r.n < (maxn) / 2   ? 1                                                 \
                                            : (int)gsl_rng_uniform_int(g, 2);                   \
            if ((grow && nfree > 0) || r.n == 0) {                                              \
                pes_key_t k = pes_key(sat_add(now, draw_dt(g, (mode))), seq++,                  \
                                      free_slots[--nfree]);                                     \
                assert_int_equal(push(&(q), k), 0);                                             \
                ref_push(&r, k);                                                                \
            } else {                                                                            \
                pes_key_t want = ref_pop(&r), got = pop(&(q));                                  \
                assert_int_equal(got.t, want.t);                                                \
                assert_int_equal(got.tie, want.tie);                                            \
                now = got.t < (1ull << 62) ? got.t : now;                                       \
                free_slots[nfree++] = pes_key_slot(got);                                        \
            }                                                                                   \
            assert_int_equal(size(&(q)), r.n);                                                  \
        }                                                                                       \
        while (r.n) {                                                                           \
            pes_key_t want = ref_pop(&r), got = pop(&(q));                                      \
            assert_int_equal(got.t, want.t);                                                    \
            assert_int_equal(got.tie, want.tie);                                                \
        }                                                                                       \
        free(free_slots);                                                                       \
        free(r.k);                                                                              \
        gsl_rng_free(g);                                                                        \
    } while (0)

static size_t heap_size(const pes_heap_t *h) { return h->n; }

static void test_heap_matches_reference(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        pes_heap_t h;
        assert_int_equal(pes_heap_init(&h, 16), 0); /* grows past 16 */
        DRIVE(pes_heap_push, pes_heap_pop, heap_size, h, mode, 30000, 3000);
        assert_true(h.cap >= 3000);
        pes_heap_fini(&h);
    }
}

static void test_ladder_matches_reference(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        pes_t q;
        assert_int_equal(pes_init(&q, 16), 0);
        DRIVE(pes_push, pes_pop, pes_size, q, mode, 60000, 5000);
        assert_true(pes_empty(&q));
        pes_fini(&q);
    }
}

/* A set that hovers around the small mode's size crosses into the heap and
 * back many times; the order never changes. */
static void test_small_mode_matches_reference(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        pes_t q;
        assert_int_equal(pes_init(&q, 16), 0);
        assert_true(q.small);
        DRIVE(pes_push, pes_pop, pes_size, q, mode, 60000, PES_SMALL + 12);
        assert_true(pes_empty(&q));
        assert_true(q.small); /* drained: small again */
        pes_fini(&q);
    }
}

/* The engine's push (sim_at): pes_small_push_newest where pes_small_fits,
 * else pes_push. DRIVE's sequences only grow, as the engine's do. */
static int push_as_engine(pes_t *q, pes_key_t k)
{
    if (!pes_small_fits(q, pes_key_slot(k)))
        return pes_push(q, k);
    pes_small_push_newest(q, k);
    return 0;
}

/* Comparing times only in small mode keeps the full (time, sequence) order,
 * ties included (mode 1), in and out of small mode. */
static void test_small_push_newest_matches_reference(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++) {
        pes_t q;
        assert_int_equal(pes_init(&q, 16), 0);
        DRIVE(push_as_engine, pes_pop, pes_size, q, mode, 60000, PES_SMALL + 12);
        assert_true(pes_empty(&q));
        pes_fini(&q);
    }
}

/* Renumbering a small set keeps its order too. */
static void test_small_mode_renumber(void **state)
{
    (void)state;
    pes_t q;
    assert_int_equal(pes_init(&q, 16), 0);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(pes_push(&q, pes_key((i % 3) * 100, UINT32_MAX - 20 + i, i + 1)), 0);
    assert_true(q.small);
    assert_int_equal(pes_renumber(&q), 10);
    assert_int_equal(pes_push(&q, pes_key(100, 10, 99)), 0);
    uint32_t want[] = {1, 4, 7, 10, 2, 5, 8, 99, 3, 6, 9};
    for (int i = 0; i < 11; i++)
        assert_int_equal(pes_key_slot(pes_pop(&q)), want[i]);
    assert_true(pes_empty(&q));
    pes_fini(&q);
}

/* The ladder really builds rungs (else the test above only tested its heap)
 * and keeps the heap small while it does. */
static void test_ladder_uses_rungs(void **state)
{
    (void)state;
    pes_t q;
    assert_int_equal(pes_init(&q, 16), 0);
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(pes_push(&q, pes_key((uint64_t)(i * 7919u % 10000u) * 1000, i, i + 1)),
                         0);
    uint64_t last = 0;
    uint32_t max_rungs = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        pes_key_t k = pes_pop(&q);
        assert_true(k.t >= last);
        last = k.t;
        max_rungs = q.nrungs > max_rungs ? q.nrungs : max_rungs;
        assert_true(q.bottom.n <= 2 * PES_THRES);
    }
    assert_true(max_rungs >= 1);
    pes_fini(&q);
}

/* A flood of equal times (unsplittable) leaves in FIFO order. */
static void test_ladder_equal_time_flood(void **state)
{
    (void)state;
    pes_t q;
    assert_int_equal(pes_init(&q, 16), 0);
    for (uint32_t i = 0; i < 20000; i++)
        assert_int_equal(pes_push(&q, pes_key(1000, i + 1, i + 1)), 0);
    for (uint32_t i = 0; i < 20000; i++) {
        pes_key_t k = pes_pop(&q);
        assert_int_equal(k.t, 1000);
        assert_int_equal(pes_key_seq(k), i + 1);
        if (i % 2 == 0) /* more at the same time join the back of the line */
            assert_int_equal(pes_push(&q, pes_key(1000, 30000 + i, 50000 + i)), 0);
    }
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(pes_key_seq(pes_pop(&q)), 30000 + 2 * i);
    assert_true(pes_empty(&q));
    pes_fini(&q);
}

static void test_renumber_keeps_order(void **state)
{
    (void)state;
    pes_t q;
    assert_int_equal(pes_init(&q, 16), 0);
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    /* Sequences near the top of the range, as just before a wrap; 50
     * distinct times, so many ties that only the sequence orders. */
    uint32_t seq = UINT32_MAX - 3000;
    for (uint32_t i = 0; i < 2000; i++)
        assert_int_equal(pes_push(&q, pes_key(gsl_rng_uniform_int(g, 50) * 100, seq++, i + 1)),
                         0);
    pes_key_t prev = {0, 0};
    for (int i = 0; i < 500; i++) /* let rungs form */
        prev = pes_pop(&q);
    uint32_t next = pes_renumber(&q);
    assert_int_equal(next, 1500);
    /* A key at an existing time with the new counter goes after the others. */
    assert_int_equal(pes_push(&q, pes_key(4900, next, 9999)), 0);
    for (int i = 0; i < 1501; i++) {
        pes_key_t k = pes_pop(&q);
        assert_true(k.t >= prev.t);
        if (i > 0 && k.t == prev.t)
            assert_true(pes_key_seq(k) > pes_key_seq(prev));
        if (i < 1500)
            assert_int_equal(pes_key_seq(k), (uint32_t)i);
        prev = k;
    }
    assert_int_equal(pes_key_slot(prev), 9999);
    assert_true(pes_empty(&q));
    pes_fini(&q);
    gsl_rng_free(g);
}

/* ---- the engine ---------------------------------------------------------- */

typedef struct {
    uint64_t log[64];
    sim_time_t when[64];
    int n;
} trace_t;

static void record(sim_t *sim, void *ctx, uint64_t arg)
{
    trace_t *t = ctx;
    t->when[t->n] = sim_now(sim);
    t->log[t->n++] = arg;
}

static void test_engine_time_then_fifo(void **state)
{
    (void)state;
    sim_t *s = sim_new();
    trace_t tr = {0};
    sim_at(s, 300, record, &tr, 5);
    sim_at(s, 100, record, &tr, 1);
    sim_at(s, 200, record, &tr, 2);
    sim_at(s, 200, record, &tr, 3);
    sim_at(s, 200, record, &tr, 4);
    assert_int_equal(sim_npending(s), 5);
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(tr.log[i], (uint64_t)i + 1);
    assert_int_equal(tr.when[1], 200);
    assert_int_equal(sim_now(s), 300);
    assert_int_equal(sim_events(s), 5);
    sim_free(s);
}

static void test_engine_cancel(void **state)
{
    (void)state;
    sim_t *s = sim_new();
    trace_t tr = {0};
    sim_timer_t a = sim_at(s, 10, record, &tr, 1);
    sim_timer_t b = sim_at(s, 20, record, &tr, 2);
    sim_timer_t c = sim_at(s, 30, record, &tr, 3);
    assert_true(sim_pending(s, a) && sim_pending(s, b) && sim_pending(s, c));
    assert_true(sim_cancel(s, b));
    assert_false(sim_pending(s, b));
    assert_false(sim_cancel(s, b));       /* twice */
    assert_int_equal(sim_npending(s), 3); /* removed lazily */
    sim_timer_t none = {0, 0};
    assert_false(sim_pending(s, none));
    assert_false(sim_cancel(s, none));
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 2);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.log[0], 1);
    assert_int_equal(tr.log[1], 3);
    assert_false(sim_pending(s, a)); /* ran */
    assert_false(sim_cancel(s, c));
    assert_int_equal(sim_npending(s), 0);
    sim_free(s);
}

/* A stale handle whose slot was reused refers to nothing. */
static void test_engine_stale_handle(void **state)
{
    (void)state;
    sim_t *s = sim_new();
    trace_t tr = {0};
    sim_timer_t a = sim_at(s, 10, record, &tr, 1);
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 1);
    sim_timer_t b = sim_at(s, 20, record, &tr, 2);
    assert_int_equal(b.slot, a.slot); /* the free list hands the slot back */
    assert_int_not_equal(b.gen, a.gen);
    assert_false(sim_pending(s, a));
    assert_false(sim_cancel(s, a));
    assert_true(sim_pending(s, b));
    /* Cancelled, then reused after its key left the set. */
    assert_true(sim_cancel(s, b));
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 0);
    sim_timer_t c = sim_at(s, 30, record, &tr, 3);
    assert_int_equal(c.slot, b.slot);
    assert_false(sim_cancel(s, b));
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 1);
    assert_int_equal(tr.n, 2);
    assert_int_equal(tr.log[1], 3);
    sim_free(s);
}

typedef struct {
    sim_timer_t victim;
    trace_t tr;
    bool cancelled;
} killer_t;

static void kill_victim(sim_t *sim, void *ctx, uint64_t arg)
{
    killer_t *k = ctx;
    k->cancelled = sim_cancel(sim, k->victim);
    record(sim, &k->tr, arg);
}

static void victim(sim_t *sim, void *ctx, uint64_t arg)
{
    killer_t *k = ctx;
    record(sim, &k->tr, arg);
}

static void test_engine_cancel_from_handler(void **state)
{
    (void)state;
    sim_t *s = sim_new();
    killer_t k = {0};
    sim_at(s, 50, kill_victim, &k, 1);
    k.victim = sim_at(s, 50, victim, &k, 2); /* same time, after the killer */
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 1);
    assert_true(k.cancelled);
    assert_int_equal(k.tr.n, 1);
    sim_free(s);
}

static void test_engine_until_and_past(void **state)
{
    (void)state;
    sim_t *s = sim_new();
    trace_t tr = {0};
    sim_at(s, 100, record, &tr, 1);
    sim_at(s, 500, record, &tr, 2);
    assert_int_equal(sim_run(s, 300), 1);
    assert_int_equal(sim_now(s), 300); /* the clock ends at until */
    assert_int_equal(sim_npending(s), 1);
    sim_after(s, 0, record, &tr, 3);
    sim_at(s, 10, record, &tr, 4); /* in the past: runs now, after 3 */
    assert_int_equal(sim_run(s, 300), 2);
    assert_int_equal(tr.log[1], 3);
    assert_int_equal(tr.when[1], 300);
    assert_int_equal(tr.log[2], 4);
    assert_int_equal(tr.when[2], 300);
    assert_int_equal(sim_run(s, SIM_TIME_MAX), 1);
    assert_int_equal(sim_now(s), 500);
    sim_free(s);
}

static void stopper(sim_t *sim, void *ctx, uint64_t arg)
{
    record(sim, ctx, arg);
    if (arg == 2)
        sim_stop(sim);
}

static void test_engine_stop(void **state)
{
    (void)state;
    sim_t *s = sim_new();
    trace_t tr = {0};
    for (uint64_t i = 1; i <= 4; i++)
        sim_at(s, i * 10, stopper, &tr, i);
    assert_int_equal(sim_run(s, 1000), 2);
    assert_int_equal(sim_now(s), 20); /* stopped: the clock stays at the last event */
    assert_int_equal(sim_run(s, 1000), 2);
    assert_int_equal(sim_now(s), 1000);
    sim_free(s);
}

/* Many timers, a third cancelled at random: exactly the survivors run, in
 * time order, and no handle is pending afterwards. */
typedef struct {
    sim_time_t last;
    uint64_t ran, bad;
    uint8_t *alive;
} stress_t;

static void stress_fire(sim_t *sim, void *ctx, uint64_t arg)
{
    stress_t *st = ctx;
    if (sim_now(sim) < st->last || st->alive[arg] != 1)
        st->bad++;
    st->alive[arg] = 2; /* ran */
    st->last = sim_now(sim);
    st->ran++;
}

static void test_engine_cancel_stress(void **state)
{
    (void)state;
    enum { N = 20000 };
    sim_t *s = sim_new();
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    stress_t st = {0, 0, 0, calloc(N, 1)};
    sim_timer_t *h = malloc(N * sizeof(*h));
    uint64_t expect = 0;
    for (uint64_t i = 0; i < N; i++) {
        h[i] = sim_at(s, gsl_rng_uniform_int(g, 1000000), stress_fire, &st, i);
        st.alive[i] = 1;
    }
    for (uint64_t i = 0; i < N; i++)
        if (gsl_rng_uniform_int(g, 3) == 0) {
            assert_true(sim_cancel(s, h[i]));
            st.alive[i] = 0;
        }
    for (uint64_t i = 0; i < N; i++)
        expect += st.alive[i];
    assert_int_equal(sim_run(s, SIM_TIME_MAX), expect);
    assert_int_equal(st.ran, expect);
    assert_int_equal(st.bad, 0);
    for (uint64_t i = 0; i < N; i++)
        assert_false(sim_pending(s, h[i]));
    free(h);
    free(st.alive);
    gsl_rng_free(g);
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_matches_reference),
        cmocka_unit_test(test_ladder_matches_reference),
        cmocka_unit_test(test_small_mode_matches_reference),
        cmocka_unit_test(test_small_push_newest_matches_reference),
        cmocka_unit_test(test_small_mode_renumber),
        cmocka_unit_test(test_ladder_uses_rungs),
        cmocka_unit_test(test_ladder_equal_time_flood),
        cmocka_unit_test(test_renumber_keeps_order),
        cmocka_unit_test(test_engine_time_then_fifo),
        cmocka_unit_test(test_engine_cancel),
        cmocka_unit_test(test_engine_stale_handle),
        cmocka_unit_test(test_engine_cancel_from_handler),
        cmocka_unit_test(test_engine_until_and_past),
        cmocka_unit_test(test_engine_stop),
        cmocka_unit_test(test_engine_cancel_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
