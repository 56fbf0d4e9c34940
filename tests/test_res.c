/*
 * test_res.c - the c-server resource (sim/res.h) on schedules small enough
 * to work out by hand: who is served when, the exact statistics, the
 * warm-up reset and the priority classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "sim/res.h"
#include "sim/sim.h"

#define MAXLOG 512

typedef struct {
    res_t *res;
    size_t n;
    uint64_t id[MAXLOG];
    sim_time_t t[MAXLOG];
    /* optional: the first completion submits this job */
    int resubmit;
    unsigned resub_prio;
} log_t;

static void on_done(sim_t *sim, void *ctx, uint64_t id)
{
    log_t *l = ctx;
    assert_true(l->n < MAXLOG);
    l->id[l->n] = id;
    l->t[l->n++] = sim_now(sim);
    if (l->resubmit) {
        l->resubmit = 0;
        assert_int_equal(res_submit(l->res, l->resub_prio, 1, on_done, l, 99), 0);
    }
}

static void near(double got, double want)
{
    if (!(fabs(got - want) <= 1e-12 * fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_new_rejects_zero(void **st)
{
    (void)st;
    sim_t *sim = sim_new();
    assert_null(res_new(sim, 0, 1));
    assert_null(res_new(sim, 1, 0));
    sim_free(sim);
}

/*
 * Two servers; at t=0 jobs A(10) B(5) C(3) D(4):
 *   s0: A [0,10]           s1: B [0,5] C [5,8] D [8,12]
 * departures B@5 C@8 A@10 D@12; waits 0 0 5 8; sojourns 10 5 8 12;
 * N(t) = 4,3,2,1 on [0,5),[5,8),[8,10),[10,12): area 35; busy 22.
 */
static void schedule(res_t *r, log_t *l)
{
    const sim_time_t svc[] = {10, 5, 3, 4};
    for (uint64_t i = 0; i < 4; i++)
        assert_int_equal(res_submit(r, 0, svc[i], on_done, l, i), 0);
}

static void test_two_servers_fifo_exact(void **st)
{
    (void)st;
    sim_t *sim = sim_new();
    res_t *r = res_new(sim, 2, 1);
    log_t l = {.res = r};
    schedule(r, &l);
    assert_int_equal(res_busy(r), 2);
    assert_int_equal(res_queued(r), 2);
    sim_run(sim, 12);

    const uint64_t order[] = {1, 2, 0, 3};
    const sim_time_t when[] = {5, 8, 10, 12};
    assert_int_equal(l.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(l.id[i], order[i]);
        assert_int_equal(l.t[i], when[i]);
    }
    res_stats_t s;
    res_stats(r, &s);
    assert_int_equal(s.elapsed, 12);
    assert_int_equal(s.arrivals, 4);
    assert_int_equal(s.departures, 4);
    near(s.utilisation, 22.0 / 24.0);
    near(s.mean_in_system, 35.0 / 12.0);
    near(s.mean_sojourn_ns, 35.0 / 4.0);
    near(s.mean_wait_ns, 13.0 / 4.0);
    /* Little's law holds exactly when the system starts and ends empty */
    near(s.mean_in_system, (double)s.arrivals / (double)s.elapsed * s.mean_sojourn_ns);

    /* idle time keeps counting */
    sim_run(sim, 20);
    res_stats(r, &s);
    assert_int_equal(s.elapsed, 20);
    near(s.utilisation, 22.0 / 40.0);
    near(s.mean_in_system, 35.0 / 20.0);
    assert_int_equal(res_busy(r), 0);
    assert_int_equal(res_queued(r), 0);
    res_free(r);
    sim_free(sim);
}

/* The same schedule with the statistics reset at t=6 (A, C, D present):
 * busy on [6,12]: s0 4 + s1 6; N = 3,2,1 on [6,8),[8,10),[10,12): area 12;
 * departures C A D with sojourns 8 10 12 (whole sojourns, arrivals before
 * the reset included); only D starts after the reset, having waited 8. */
static void test_reset_stats(void **st)
{
    (void)st;
    sim_t *sim = sim_new();
    res_t *r = res_new(sim, 2, 1);
    log_t l = {.res = r};
    schedule(r, &l);
    sim_run(sim, 6);
    res_reset_stats(r);
    res_stats_t s;
    res_stats(r, &s);
    assert_int_equal(s.elapsed, 0);
    assert_int_equal(s.arrivals, 0);
    assert_int_equal(s.departures, 0);
    assert_true(s.mean_sojourn_ns == 0.0 && s.mean_wait_ns == 0.0);
    sim_run(sim, 12);
    res_stats(r, &s);
    assert_int_equal(s.elapsed, 6);
    assert_int_equal(s.arrivals, 0);
    assert_int_equal(s.departures, 3);
    near(s.utilisation, 10.0 / 12.0);
    near(s.mean_in_system, 12.0 / 6.0);
    near(s.mean_sojourn_ns, 30.0 / 3.0);
    near(s.mean_wait_ns, 8.0);
    res_free(r);
    sim_free(sim);
}

/* Non-preemptive strict priority on one server: a class-0 arrival waits for
 * the class-1 job in service, then overtakes queued class-1 jobs; within a
 * class, FIFO. An out-of-range class is clamped to the lowest. */
static void test_priority_classes(void **st)
{
    (void)st;
    sim_t *sim = sim_new();
    res_t *r = res_new(sim, 1, 2);
    log_t l = {.res = r};
    assert_int_equal(res_submit(r, 1, 10, on_done, &l, 0), 0); /* in service */
    assert_int_equal(res_submit(r, 1, 1, on_done, &l, 1), 0);
    assert_int_equal(res_submit(r, 0, 1, on_done, &l, 2), 0);
    assert_int_equal(res_submit(r, 7, 1, on_done, &l, 3), 0); /* clamped to class 1 */
    assert_int_equal(res_submit(r, 0, 1, on_done, &l, 4), 0);
    assert_int_equal(res_queued(r), 4);
    sim_run(sim, 100);
    const uint64_t order[] = {0, 2, 4, 1, 3};
    assert_int_equal(l.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(l.id[i], order[i]);
        assert_int_equal(l.t[i], 10 + i);
    }
    res_stats_t s;
    res_stats(r, &s);
    near(s.mean_wait_ns, (0 + 10 + 11 + 12 + 13) / 5.0);
    res_free(r);
    sim_free(sim);
}

/* A job submitted from a completion callback queues behind those already
 * waiting (the next waiting job takes the freed server first). */
static void test_callback_submit_queues_behind(void **st)
{
    (void)st;
    sim_t *sim = sim_new();
    res_t *r = res_new(sim, 1, 2);
    log_t l = {.res = r, .resubmit = 1, .resub_prio = 0};
    assert_int_equal(res_submit(r, 1, 5, on_done, &l, 0), 0);
    assert_int_equal(res_submit(r, 1, 5, on_done, &l, 1), 0);
    sim_run(sim, 100);
    /* even a class-0 job cannot take the server job 1 was handed at t=5 */
    const uint64_t order[] = {0, 1, 99};
    const sim_time_t when[] = {5, 10, 11};
    assert_int_equal(l.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(l.id[i], order[i]);
        assert_int_equal(l.t[i], when[i]);
    }
    res_free(r);
    sim_free(sim);
}

/* FIFO survives the queue's ring growing while its head is mid-ring. */
static void test_fifo_ring_growth(void **st)
{
    (void)st;
    sim_t *sim = sim_new();
    res_t *r = res_new(sim, 1, 1);
    log_t l = {.res = r};
    uint64_t id = 0;
    for (; id < 12; id++)
        assert_int_equal(res_submit(r, 0, 1, on_done, &l, id), 0);
    sim_run(sim, 9); /* head advanced by 9 */
    for (; id < 300; id++)
        assert_int_equal(res_submit(r, 0, 1, on_done, &l, id), 0);
    sim_run(sim, 1000);
    assert_int_equal(l.n, 300);
    for (size_t i = 0; i < 300; i++) {
        assert_int_equal(l.id[i], i);
        assert_int_equal(l.t[i], i + 1);
    }
    res_free(r);
    sim_free(sim);
}

/* c servers all start at once and each job waits for the earliest free one. */
static void test_many_servers_work_conserving(void **st)
{
    (void)st;
    enum { C = 8, JOBS = 40 };
    sim_t *sim = sim_new();
    res_t *r = res_new(sim, C, 1);
    log_t l = {.res = r};
    for (uint64_t i = 0; i < JOBS; i++)
        assert_int_equal(res_submit(r, 0, 10 + i % 3, on_done, &l, i), 0);
    assert_int_equal(res_busy(r), C);
    sim_run(sim, 10000);
    assert_int_equal(l.n, JOBS);
    res_stats_t s;
    res_stats(r, &s);
    double work = 0;
    for (uint64_t i = 0; i < JOBS; i++)
        work += 10 + (double)(i % 3);
    near(s.utilisation * C * (double)s.elapsed, work);
    /* the makespan of list scheduling with equal-ish jobs: all done by
     * ceil(JOBS / C) rounds of at most 12 */
    assert_true(l.t[JOBS - 1] <= (JOBS + C - 1) / C * 12);
    res_free(r);
    sim_free(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rejects_zero),
        cmocka_unit_test(test_two_servers_fifo_exact),
        cmocka_unit_test(test_reset_stats),
        cmocka_unit_test(test_priority_classes),
        cmocka_unit_test(test_callback_submit_queues_behind),
        cmocka_unit_test(test_fifo_ring_growth),
        cmocka_unit_test(test_many_servers_work_conserving),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
