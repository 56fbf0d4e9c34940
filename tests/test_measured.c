/*
 * test_measured.c - the measured metrics (docs/metrics.md) against
 * hand-computed cases, driving models/uring.c and models/collect.c directly
 * (completions are handed to io_uring at chosen times; no device):
 *   - locality_miss_rate compares the completion CPU with the CPU the
 *     consumer thread ran on at t_ready: a consumer that another request of
 *     its own moved after this one was placed counts a miss by where it ran;
 *   - storage_to_gpu_gap is t_continued - t_device_done on the host path
 *     and on the direct path alike;
 *   - deferred_completion_rate: a completion that reaches a hybrid poller
 *     still in its sleep is deferred, one that reaches it spinning is not,
 *     as task_work for a busy COOP task is and for an idle waiter is not.
 * Costs: cross-CPU wakeup 5000 ns (IPI receive 700 of it), task_work 300,
 * CQE post 100, poll 100, timer overshoot 10000; data touch 0 (0 bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "models/collect.h"
#include "models/uring.h"
#include "policies/policy.h"

#include <string.h>

#define WAKE_CROSS 5000
#define TASK_WORK 300
#define CQE_POST 100
#define OVERSHOOT 10000

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    costs_t costs;
    host_cfg_t host;
    uring_t *u;
    req_t r[4];
    collect_t *col;
    unsigned ready;
} rig_t;

static void on_submitted(void *ctx, req_t *r)
{
    (void)ctx;
    (void)r; /* the device is not modelled: the test completes r itself */
}

static void on_ready(void *ctx, req_t *r)
{
    rig_t *g = ctx;
    g->ready++;
    r->t[T_CONTINUED] = r->t[T_READY];
    collect_req(g->col, r);
}

static void rig_init(rig_t *g)
{
    memset(g, 0, sizeof(*g));
    g->host = (host_cfg_t){.cpus = 4, .numa_nodes = 1, .llc_domains = 1, .rq_affinity = 1,
                           .ksoftirqd_after = 10, .taskrun = -1, .wait = -1};
    costs_defaults(&g->costs);
    g->costs.c[COST_WAKEUP_CROSS].value = WAKE_CROSS;
    g->costs.c[COST_IPI_RECV].value = 700;
    g->costs.c[COST_IPI_SEND].value = 300;
    g->costs.c[COST_TASK_WORK].value = TASK_WORK;
    g->costs.c[COST_CQE_POST].value = CQE_POST;
    g->costs.c[COST_POLL].value = 100;
    g->costs.c[COST_TIMER_OVERSHOOT].value = OVERSHOOT;
    g->costs.c[COST_IDLE_EXIT].value = 0;
    g->sim = sim_new();
    g->cpus = cpus_new(g->sim, 4, 0, 1, NULL);
    g->u = uring_new(g->sim, g->cpus, &g->costs, &g->host, on_submitted, on_ready, g);
    g->col = collect_new(0, 0, NULL);
    assert_non_null(g->u);
    assert_non_null(g->col);
}

static void rig_fini(rig_t *g)
{
    assert_int_equal(sim_error(g->sim), 0);
    collect_free(g->col);
    uring_free(g->u);
    cpus_free(g->cpus);
    sim_free(g->sim);
}

/* Request i of flow 0 (declared on CPU 0), placed on `cpu`, waiting `wait`. */
static req_t *io(rig_t *g, unsigned i, int cpu, int wait, int taskrun)
{
    req_t *r = &g->r[i];
    memset(r, 0, sizeof(*r));
    r->op = REQ_READ;
    r->gpu = -1;
    r->submit_cpu = r->consumer_cpu = (int16_t)cpu;
    r->home_cpu = 0;
    r->wait = (uint8_t)wait;
    r->taskrun = (uint8_t)taskrun;
    return r;
}

static void submit_now(sim_t *sim, void *ctx, uint64_t i)
{
    rig_t *g = ctx;
    g->r[i].t[T_ISSUE] = sim_now(sim);
    assert_int_equal(uring_submit(g->u, &g->r[i], 1, 0, 0, 0), 0);
}

/* The block layer completed request i on its CPU (completion_cpu) now. */
static void complete_now(sim_t *sim, void *ctx, uint64_t i)
{
    rig_t *g = ctx;
    req_t *r = &g->r[i];
    r->t[T_DEVICE_DONE] = r->t[T_IRQ] = r->t[T_BLK_DONE] = sim_now(sim);
    uring_complete(g->u, r);
}

/* ------------------------------------------------------------- locality */

/* A is placed on CPU 1 and completes there; before it does, B (same
 * consumer) is placed on CPU 2, so the thread consumes A on CPU 2: a miss,
 * by where it ran, and A's wakeup is the cross-CPU one. */
static void test_migrated_consumer_misses_where_it_ran(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    io(&g, 0, 1, POL_WAIT_INTERRUPT, POL_TASKRUN_DEFAULT);
    io(&g, 1, 2, POL_WAIT_INTERRUPT, POL_TASKRUN_DEFAULT);
    g.r[0].completion_cpu = 1;
    sim_at(g.sim, 0, submit_now, &g, 0);
    sim_at(g.sim, 10000, submit_now, &g, 1);
    sim_at(g.sim, 50000, complete_now, &g, 0);
    sim_run(g.sim, 1000000);
    assert_int_equal(g.ready, 1);
    assert_int_equal(g.r[0].consumer_cpu, 2);
    assert_int_equal(g.col->locality_miss, 1);
    /* IPI wakeup (whole), then task_work and the CQE on CPU 2 */
    assert_int_equal(g.r[0].t[T_READY], 50000 + WAKE_CROSS + TASK_WORK + CQE_POST);
    rig_fini(&g);
}

/* The same consumer, left where it was placed (CPU 1), completing on CPU 1:
 * no miss. */
static void test_consumer_on_completion_cpu_hits(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    io(&g, 0, 1, POL_WAIT_INTERRUPT, POL_TASKRUN_DEFAULT);
    g.r[0].completion_cpu = 1;
    sim_at(g.sim, 0, submit_now, &g, 0);
    sim_at(g.sim, 50000, complete_now, &g, 0);
    sim_run(g.sim, 1000000);
    assert_int_equal(g.ready, 1);
    assert_int_equal(g.r[0].consumer_cpu, 1);
    assert_int_equal(g.col->locality_miss, 0);
    rig_fini(&g);
}

/* ------------------------------------------------------ storage-to-GPU */

static void gap_case(bool direct, sim_time_t done, sim_time_t ready, sim_time_t cont,
                     sim_time_t want)
{
    collect_t *c = collect_new(0, 0, NULL);
    assert_non_null(c);
    req_t r = {.op = REQ_READ, .gpu = 0, .gpu_direct = direct, .completion_cpu = 0};
    r.t[T_DEVICE_DONE] = r.t[T_IRQ] = r.t[T_BLK_DONE] = r.t[T_CQE] = done;
    r.t[T_READY] = ready;
    r.t[T_CONTINUED] = cont;
    collect_req(c, &r);
    assert_int_equal(c->s2g.count, 1);
    assert_int_equal(hist_quantile(&c->s2g, 0.5), want);
    collect_free(c);
}

static void test_gpu_gap_from_device_done(void **state)
{
    (void)state;
    /* host path: device done 100, ready 300, copy done 500 */
    gap_case(false, 100, 300, 500, 400);
    /* direct path: DMA'd to the GPU 1000 after device done, host ready later */
    gap_case(true, 100, 5000, 1100, 1000);
}

/* --------------------------------------------------------------- deferral */

/* A hybrid poller: request 0 teaches it a 20000 ns wait (no sleep yet);
 * request 1's completion comes 1000 ns after its submission, inside the
 * sleep (>= the 10000 ns overshoot): deferred; request 2's comes 60000 ns
 * after, past any sleep (half of <= 20000, plus 10000): not deferred. */
static void test_hybrid_sleep_defers(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    for (unsigned i = 0; i < 3; i++)
        io(&g, i, 0, POL_WAIT_HYBRID, POL_TASKRUN_DEFAULT)->completion_cpu = 0;
    sim_at(g.sim, 0, submit_now, &g, 0);
    sim_at(g.sim, 20000, complete_now, &g, 0);
    sim_at(g.sim, 100000, submit_now, &g, 1);
    sim_at(g.sim, 101000, complete_now, &g, 1);
    sim_at(g.sim, 200000, submit_now, &g, 2);
    sim_at(g.sim, 260000, complete_now, &g, 2);
    sim_run(g.sim, 1000000);
    assert_int_equal(g.ready, 3);
    assert_int_equal(g.r[0].deferred, 0);
    assert_int_equal(g.r[1].deferred, 1);
    assert_true(g.r[1].t[T_READY] >= 100000 + OVERSHOOT);
    assert_int_equal(g.r[2].deferred, 0);
    assert_int_equal(g.col->deferred, 1);
    rig_fini(&g);
}

/* Interrupt waits by the same rule: an idle waiter woken is not deferred; a
 * COOP task busy spinning (request 0 polls while request 1 completes)
 * finds request 1's task_work at its next transition: deferred. */
static void test_interrupt_wait_deferral(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    io(&g, 0, 1, POL_WAIT_INTERRUPT, POL_TASKRUN_COOP)->completion_cpu = 1;
    sim_at(g.sim, 0, submit_now, &g, 0);
    sim_at(g.sim, 50000, complete_now, &g, 0);
    sim_run(g.sim, 100000);
    assert_int_equal(g.r[0].deferred, 0);
    io(&g, 1, 1, POL_WAIT_POLL, POL_TASKRUN_COOP)->completion_cpu = 1;
    io(&g, 2, 1, POL_WAIT_INTERRUPT, POL_TASKRUN_COOP)->completion_cpu = 1;
    sim_at(g.sim, 110000, submit_now, &g, 1);
    sim_at(g.sim, 120000, submit_now, &g, 2);
    sim_at(g.sim, 130000, complete_now, &g, 2);
    sim_at(g.sim, 150000, complete_now, &g, 1);
    sim_run(g.sim, 1000000);
    assert_int_equal(g.ready, 3);
    assert_int_equal(g.r[2].deferred, 1);
    assert_int_equal(g.r[1].deferred, 0);
    rig_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrated_consumer_misses_where_it_ran),
        cmocka_unit_test(test_consumer_on_completion_cpu_hits),
        cmocka_unit_test(test_gpu_gap_from_device_done),
        cmocka_unit_test(test_hybrid_sleep_defers),
        cmocka_unit_test(test_interrupt_wait_deferral),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
