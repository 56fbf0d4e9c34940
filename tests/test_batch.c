/*
 * test_batch.c - what the kernel does once per batch, against hand-computed
 * timelines with fixed costs (models/uring.c, irq.c, blkmq.c driven
 * directly, no device), and the calbatch fit on a synthetic trace:
 *   - a call of 4 SQEs runs under a plug (io_submit_state_start: more than
 *     2): the first SQE costs blk_dispatch_ns, the other three
 *     blk_dispatch_per_rq_ns; a call of 2 is not plugged;
 *   - a consumer that still has work queued submits after it, in one call;
 *   - a completion for a task whose task_work list is not empty joins the
 *     run queued for it (task_work_per_cqe_ns), no second wakeup;
 *   - CQEs posted while the vector's handler runs are reaped by one more
 *     handler after it: irq_handler_ns + irq_per_cqe_ns, not twice a;
 *   - requests joining a raised BLOCK_SOFTIRQ list cost
 *     blk_complete_per_rq_ns; the one that raises costs blk_complete_ns;
 *     a list of any length is one softirq pass, and only raises that find
 *     the softirq still running count towards ksoftirqd (restarts);
 *   - a remote completion (completed on a CPU other than the request's)
 *     that joins a BLOCK_SOFTIRQ list costs remote_complete_softirq_ns more
 *     there (the completing CPU), and one that joins a task_work run
 *     remote_task_work_ns more on the consumer's CPU; the first of either,
 *     a local one and an uncalibrated one nothing more;
 *   - calbatch_fit recovers the slopes a synthetic trace was built with.
 * Costs: call 1000, SQE 100, dispatch 3000 (plugged 500), handler 1000
 * (+200 per further CQE), block completion 2000 (+300 per joining request),
 * no idle exit, no I/O scheduler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "calibrate/calbatch.h"
#include "models/blkmq.h"
#include "models/irq.h"
#include "models/uring.h"
#include "policies/policy.h"

#include <string.h>

#define CALL 1000
#define SQE 100
#define DISPATCH 3000
#define PLUGGED 500
#define HANDLER 1000
#define PER_CQE 200
#define COMPLETE 2000
#define PER_RQ 300

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    costs_t costs;
    host_cfg_t host;
    ssd_cfg_t dev;
    int32_t irq_cpu[1];
    blkmq_t *b; /* the models under test, those a test made (rig_blkmq & co) */
    uring_t *u;
    irq_t *irq;
    req_t r[8];
    sim_time_t at[8]; /* when each request reached the end of the stage tested */
    unsigned n;
} rig_t;

static void rig_init(rig_t *g)
{
    memset(g, 0, sizeof(*g));
    g->host = (host_cfg_t){.cpus = 2, .numa_nodes = 1, .llc_domains = 1, .rq_affinity = 1,
                           .ksoftirqd_after = 10, .taskrun = -1, .wait = -1,
                           .iosched = HOST_SCHED_NONE};
    g->irq_cpu[0] = 1;
    g->dev = (ssd_cfg_t){.queues = 1, .queue_depth = 64, .irq_cpus = g->irq_cpu};
    costs_defaults(&g->costs);
    struct { cost_id_t id; double v; } set[] = {
        {COST_URING_SUBMIT_CALL, CALL}, {COST_URING_SUBMIT_SQE, SQE},
        {COST_BLK_DISPATCH, DISPATCH},  {COST_BLK_DISPATCH_PER_RQ, PLUGGED},
        {COST_IRQ_HANDLER, HANDLER},    {COST_IRQ_PER_CQE, PER_CQE},
        {COST_BLK_COMPLETE, COMPLETE},  {COST_BLK_COMPLETE_PER_RQ, PER_RQ},
        {COST_IDLE_EXIT, 0},
    };
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        g->costs.c[set[i].id].value = set[i].v;
        g->costs.c[set[i].id].measured = 1;
    }
    g->sim = sim_new();
    g->cpus = cpus_new(g->sim, 2, 0, 1, NULL);
    assert_non_null(g->cpus);
}

static void rig_fini(rig_t *g)
{
    assert_int_equal(sim_error(g->sim), 0);
    uring_free(g->u);
    blkmq_free(g->b);
    irq_free(g->irq);
    cpus_free(g->cpus);
    sim_free(g->sim);
}

static req_t *io(rig_t *g, unsigned i)
{
    req_t *r = &g->r[i];
    memset(r, 0, sizeof(*r));
    r->op = REQ_READ;
    r->gpu = -1;
    r->tag = i;
    r->offset = (uint64_t)i << 12;
    r->wait = POL_WAIT_INTERRUPT;
    return r;
}

static void reached(void *ctx, req_t *r)
{
    rig_t *g = ctx;
    g->at[r - g->r] = sim_now(g->sim);
    g->n++;
}

/* Counts completions of requests outside g->r (their times are their own). */
static void reached_any(void *ctx, req_t *r)
{
    (void)r;
    rig_t *g = ctx;
    g->n++;
}

static void ignore(void *ctx, req_t *r)
{
    (void)ctx;
    (void)r;
}

/* blk-mq on the rig (rq_affinity 1), freed by rig_fini. */
static blkmq_t *rig_blkmq(rig_t *g, blkmq_fn dispatched, blkmq_fn done)
{
    blkmq_cfg_t bc = {.host = &g->host, .dev = &g->dev, .rq_affinity = 1};
    g->b = blkmq_new(g->sim, g->cpus, &g->costs, &bc, dispatched, done, g);
    assert_non_null(g->b);
    return g->b;
}

/* io_uring on the rig, freed by rig_fini. */
static uring_t *rig_uring(rig_t *g, uring_fn submitted, uring_fn ready)
{
    g->u = uring_new(g->sim, g->cpus, &g->costs, &g->host, submitted, ready, g);
    assert_non_null(g->u);
    return g->u;
}

/* Submit n SQEs in one call (batch n) at t = 0 on CPU 0: blk-mq sees them
 * when the call's job ends (the plug is flushed at the call's end). */
static sim_time_t one_call(unsigned n)
{
    rig_t g;
    rig_init(&g);
    blkmq_t *b = rig_blkmq(&g, ignore, ignore);
    uring_t *u = rig_uring(&g, reached, ignore);
    for (unsigned i = 0; i < n; i++) {
        req_t *r = io(&g, i);
        assert_int_equal(uring_submit(u, r, n, SIM_MS(1), blkmq_submit_cost(b, r),
                                      blkmq_submit_cost_plugged(b, r)),
                         0);
    }
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, n);
    for (unsigned i = 1; i < n; i++)
        assert_int_equal(g.at[i], g.at[0]); /* one call: all consumed at its end */
    sim_time_t end = g.at[0];
    rig_fini(&g);
    return end;
}

static void test_plugged_call(void **state)
{
    (void)state;
    /* 4 SQEs: plugged, the first pays the queue run, three join it */
    assert_int_equal(one_call(4), CALL + 4 * SQE + DISPATCH + 3 * PLUGGED);
}

static void test_unplugged_call(void **state)
{
    (void)state;
    /* 2 SQEs: no plug (need_plug = max_ios > 2), each its own dispatch */
    assert_int_equal(one_call(2), CALL + 2 * SQE + 2 * DISPATCH);
}

/* The consumer thread has 5000 ns of work queued (the CQEs it reaped)
 * when the program queues two SQEs with batch 1: they go in one call when
 * that work is done, as a loop that reaps every CQE and then calls
 * io_uring_submit() once: consumed at 5000 + 1000 + 2 x (100 + 3000). */
static void test_submit_after_pass(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    blkmq_t *b = rig_blkmq(&g, ignore, ignore);
    uring_t *u = rig_uring(&g, reached, ignore);
    cpu_thread_t *t = uring_consumer_thread(u, 0, 0);
    assert_non_null(t);
    assert_int_equal(cpus_thread_run(t, 5000, sim_nothing, NULL, 0), 0);
    for (unsigned i = 0; i < 2; i++) {
        req_t *r = io(&g, i);
        assert_int_equal(uring_submit(u, r, 1, 0, blkmq_submit_cost(b, r),
                                      blkmq_submit_cost_plugged(b, r)),
                         0);
    }
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 2);
    assert_int_equal(g.at[0], 5000 + CALL + 2 * (SQE + DISPATCH));
    assert_int_equal(g.at[1], g.at[0]);
    rig_fini(&g);
}

/* Two completions for a sleeping consumer on its own CPU at t = 100 us:
 * the first notifies the task (woken: context switch 1000 + task_work 300
 * + CQE 100), the second finds the task's list not empty and only joins
 * the run (150; io_req_normal_work_add), ahead of the rest of it. */
static void complete_at(sim_t *sim, void *ctx, uint64_t i)
{
    rig_t *g = ctx;
    req_t *r = &g->r[i];
    r->t[T_DEVICE_DONE] = r->t[T_IRQ] = r->t[T_BLK_DONE] = sim_now(sim);
    uring_complete(g->u, r);
}

static void test_task_work_join(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    g.costs.c[COST_CONTEXT_SWITCH].value = 1000;
    g.costs.c[COST_TASK_WORK].value = 300;
    g.costs.c[COST_CQE_POST].value = 100;
    g.costs.c[COST_TASK_WORK_PER_CQE].value = 150;
    g.costs.c[COST_TASK_WORK_PER_CQE].measured = 1;
    uring_t *u = rig_uring(&g, ignore, reached);
    for (unsigned i = 0; i < 2; i++) {
        req_t *r = io(&g, i);
        assert_int_equal(uring_submit(u, r, 2, SIM_MS(1), 0, 0), 0);
        sim_at(g.sim, 100000, complete_at, &g, i);
    }
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 2);
    assert_int_equal(g.at[1], 100000 + 150);
    assert_int_equal(g.at[0], 100000 + 150 + 1000 + 300 + 100);
    rig_fini(&g);
}

/* A remote completion's per-read costs (remote_complete_softirq_ns R_SIRQ,
 * remote_task_work_ns R_TW): charged where they fall, to the completions
 * that join a softirq list or a task_work run (the first of each pays
 * costs measured on its side at QD1), only where calibrated, only when the
 * completing CPU is not the request's. */
#define R_SIRQ 700
#define R_TW 400

static void rig_remote(rig_t *g, bool calibrated)
{
    g->costs.c[COST_REMOTE_SOFTIRQ].value = R_SIRQ;
    g->costs.c[COST_REMOTE_TASK_WORK].value = R_TW;
    g->costs.c[COST_REMOTE_SOFTIRQ].measured = calibrated;
    g->costs.c[COST_REMOTE_TASK_WORK].measured = calibrated;
}

/* Three block completions on CPU 1 (the vector's) at t = 0 of requests
 * allocated on blk_cpu, one BLOCK_SOFTIRQ run: their done times and every
 * CPU's busy time by level. */
static void softirq_three(bool calibrated, int16_t blk_cpu, sim_time_t at[3],
                          double busy[2][CPU_NLEVELS])
{
    rig_t g;
    rig_init(&g);
    rig_remote(&g, calibrated);
    blkmq_t *b = rig_blkmq(&g, ignore, reached);
    for (unsigned i = 0; i < 3; i++) {
        req_t *r = io(&g, i);
        r->blk_cpu = blk_cpu;
        r->irq_cpu = 1;
    }
    for (unsigned i = 0; i < 3; i++)
        blkmq_complete(b, &g.r[i]);
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(g.r[i].completion_cpu, 1);
        at[i] = g.at[i];
    }
    for (uint32_t c = 0; c < 2; c++)
        for (int l = 0; l < CPU_NLEVELS; l++)
            busy[c][l] = cpus_busy_ns(g.cpus, c, (cpu_level_t)l);
    rig_fini(&g);
}

/* Allocated on CPU 0, completed on CPU 1: the run's first request costs
 * blk_complete_ns, each of the two that join its list
 * blk_complete_per_rq_ns + R_SIRQ, all of it softirq time on CPU 1 and
 * nothing anywhere else; allocated on CPU 1, or uncalibrated: no R_SIRQ. */
static void test_remote_softirq(void **state)
{
    (void)state;
    sim_time_t at[3];
    double busy[2][CPU_NLEVELS];
    softirq_three(true, 0, at, busy);
    assert_int_equal(at[0], COMPLETE);
    assert_int_equal(at[1], COMPLETE + PER_RQ + R_SIRQ);
    assert_int_equal(at[2], COMPLETE + 2 * (PER_RQ + R_SIRQ));
    assert_true(busy[1][CPU_SOFTIRQ] == COMPLETE + 2 * (PER_RQ + R_SIRQ));
    assert_true(busy[1][CPU_HARDIRQ] == 0 && busy[1][CPU_USER] == 0);
    for (int l = 0; l < CPU_NLEVELS; l++)
        assert_true(busy[0][l] == 0);
    for (int cal = 0; cal < 2; cal++) { /* near (calibrated), far uncalibrated */
        softirq_three(cal, cal ? 1 : 0, at, busy);
        assert_int_equal(at[2], COMPLETE + 2 * PER_RQ);
        assert_true(busy[1][CPU_SOFTIRQ] == COMPLETE + 2 * PER_RQ);
    }
}

/* Two completions on CPU cc at t = 100 us for a consumer asleep on CPU
 * `me`, the per-CQE cost calibrated (the second joins the first's task_work
 * list): when each was consumed, and every CPU's busy time by level. */
static void task_work_two(bool calibrated, int16_t me, int16_t cc, sim_time_t at[2],
                          double busy[2][CPU_NLEVELS])
{
    rig_t g;
    rig_init(&g);
    rig_remote(&g, calibrated);
    g.costs.c[COST_CONTEXT_SWITCH].value = 1000;
    g.costs.c[COST_TASK_WORK].value = 300;
    g.costs.c[COST_CQE_POST].value = 100;
    g.costs.c[COST_TASK_WORK_PER_CQE].value = 150;
    g.costs.c[COST_TASK_WORK_PER_CQE].measured = 1;
    uring_t *u = rig_uring(&g, ignore, reached);
    for (unsigned i = 0; i < 2; i++) {
        req_t *r = io(&g, i);
        r->consumer_cpu = me;
        assert_int_equal(uring_submit(u, r, 2, SIM_MS(1), 0, 0), 0);
        r->completion_cpu = cc;
        sim_at(g.sim, 100000, complete_at, &g, i);
    }
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 2);
    at[0] = g.at[0];
    at[1] = g.at[1];
    for (uint32_t c = 0; c < 2; c++)
        for (int l = 0; l < CPU_NLEVELS; l++)
            busy[c][l] = cpus_busy_ns(g.cpus, c, (cpu_level_t)l);
    rig_fini(&g);
}

/* Completed on CPU 1 for a consumer on CPU 0: the cross-CPU wake-up and
 * the leader's task_work as before, then the joined item costs
 * task_work_per_cqe_ns + R_TW: consumed R_TW later, R_TW more thread time
 * on CPU 0; CPU 1 and the other levels untouched. Consumer on CPU 1 with
 * the completions: nothing changes. */
static void test_remote_task_work(void **state)
{
    (void)state;
    sim_time_t on[2], off[2];
    double bon[2][CPU_NLEVELS], boff[2][CPU_NLEVELS];
    task_work_two(true, 0, 1, on, bon);
    task_work_two(false, 0, 1, off, boff);
    assert_int_equal(on[0], off[0]);
    assert_int_equal(on[1], off[1] + R_TW);
    assert_true(on[1] > on[0]); /* the joined item runs behind the leader's */
    assert_true(bon[0][CPU_USER] == boff[0][CPU_USER] + R_TW);
    for (int l = 0; l < CPU_NLEVELS; l++) {
        assert_true(bon[1][l] == boff[1][l]);
        if (l != CPU_USER)
            assert_true(bon[0][l] == boff[0][l]);
    }
    task_work_two(true, 1, 1, on, bon); /* near */
    task_work_two(false, 1, 1, off, boff);
    assert_int_equal(on[0], off[0]);
    assert_int_equal(on[1], off[1]);
    for (uint32_t c = 0; c < 2; c++)
        for (int l = 0; l < CPU_NLEVELS; l++)
            assert_true(bon[c][l] == boff[c][l]);
}

/* CQEs at t = 0, 100 and 200 on the vector of CPU 1: the first handler
 * (one CQE) runs [0, 1000); the vector raised meanwhile is pending, and
 * one more handler reaps both others: [1000, 1000 + 1000 + 200). */
static void cqe_at(sim_t *sim, void *ctx, uint64_t i)
{
    rig_t *g = ctx;
    req_t *r = &g->r[i];
    r->t[T_DEVICE_DONE] = sim_now(sim);
    irq_cqe(g->irq, r, false);
}

static void test_irq_pending_bit(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    g.irq = irq_new(g.sim, g.cpus, &g.costs, &g.dev, 2, reached, &g);
    assert_non_null(g.irq);
    for (unsigned i = 0; i < 3; i++) {
        io(&g, i);
        sim_at(g.sim, 100 * i, cqe_at, &g, i);
    }
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 3);
    assert_int_equal(g.at[0], HANDLER);
    assert_int_equal(g.at[1], HANDLER + HANDLER + PER_CQE);
    assert_int_equal(g.at[2], HANDLER + HANDLER + PER_CQE);
    assert_int_equal(irq_count(g.irq), 2);
    assert_int_equal(g.r[1].deferred, 0); /* a busy handler is no coalescing */
    rig_fini(&g);
}

/* Three completions handed to BLOCK_SOFTIRQ on CPU 1 at t = 0 (a single
 * queue device, interrupt on the submitting CPU's cache domain): one run,
 * the first raises it (2000), the two others join the list (300 each). */
static void test_softirq_list(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    blkmq_t *b = rig_blkmq(&g, ignore, reached);
    for (unsigned i = 0; i < 3; i++) {
        req_t *r = io(&g, i);
        r->blk_cpu = 0;
        r->irq_cpu = 1;
        r->hwq = 0;
    }
    for (unsigned i = 0; i < 3; i++)
        blkmq_complete(b, &g.r[i]);
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 3);
    assert_int_equal(g.at[0], COMPLETE);
    assert_int_equal(g.at[1], COMPLETE + PER_RQ);
    assert_int_equal(g.at[2], COMPLETE + 2 * PER_RQ);
    assert_int_equal(g.r[0].completion_cpu, 1);
    rig_fini(&g);
}

/* 32 completions handed to BLOCK_SOFTIRQ on CPU 1 at once, more than
 * ksoftirqd_after (10, MAX_SOFTIRQ_RESTART): still one run of one
 * __do_softirq pass (blk_complete_reqs takes the whole list), none in
 * ksoftirqd: request i done at 2000 + 300 i. */
static void test_softirq_list_is_one_pass(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    enum { N = 32 };
    req_t rs[N];
    blkmq_t *b = rig_blkmq(&g, ignore, reached_any);
    g.n = 0;
    for (unsigned i = 0; i < N; i++) {
        memset(&rs[i], 0, sizeof(rs[i]));
        rs[i].op = REQ_READ;
        rs[i].gpu = -1;
        rs[i].tag = i;
        rs[i].wait = POL_WAIT_INTERRUPT;
        rs[i].blk_cpu = 0;
        rs[i].irq_cpu = 1;
        rs[i].hwq = 0;
    }
    for (unsigned i = 0; i < N; i++)
        blkmq_complete(b, &rs[i]);
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, N);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(rs[i].deferred, 0);
        assert_int_equal(rs[i].t[T_BLK_DONE], COMPLETE + (sim_time_t)i * PER_RQ);
    }
    rig_fini(&g);
}

static void blk_complete_at(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    rig_t *g = ctx;
    blkmq_complete(g->b, &g->r[arg]);
}

/* Raises that each find BLOCK_SOFTIRQ still running are restarts of one
 * pass: completion k (k = 0..7) arrives at 2000 k - 1000 (k > 0), while run
 * k - 1 (2000 ns, alone on its list, taken at its start) is still running.
 * With ksoftirqd_after 4 the fourth restart (k = 4, at 7000) hands its run
 * to ksoftirqd (deferred); the runs before it stay at softirq level, done
 * at 2000 (k + 1). */
static void test_softirq_restarts_go_to_ksoftirqd(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g);
    g.host.ksoftirqd_after = 4;
    rig_blkmq(&g, ignore, reached);
    for (unsigned k = 0; k < 8; k++) {
        req_t *r = io(&g, k);
        r->blk_cpu = 0;
        r->irq_cpu = 1;
        r->hwq = 0;
        sim_at(g.sim, k ? 2000 * (sim_time_t)k - 1000 : 0, blk_complete_at, &g, k);
    }
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.n, 8);
    for (unsigned k = 0; k < 4; k++) {
        assert_int_equal(g.r[k].deferred, 0);
        assert_int_equal(g.at[k], 2000 * (sim_time_t)(k + 1));
    }
    assert_int_equal(g.r[4].deferred, 1);
    rig_fini(&g);
}

/* A synthetic trace of 40 plugged calls of 4..8 SQEs (prep every 1100 ns,
 * inserts every 150, issues every 450 after a fixed 2000) and their
 * handlers (1000 + 100 k) and softirq runs (completions every 400 after
 * 1500) and task_work runs (a CQE every 120): the fit recovers b = 1100 +
 * 150 + 450, 100, 400 and 120. */
static void ev(traceparse_t *t, uint64_t ts, int32_t pid, int16_t cpu, traceparse_type_t type,
               uint8_t ctx)
{
    assert_true(t->n < t->cap);
    traceparse_ev_t *e = &t->ev[t->n++];
    memset(e, 0, sizeof(*e));
    e->ts = ts;
    e->pid = pid;
    e->cpu = cpu;
    e->type = (uint8_t)type;
    e->ctx = ctx;
    if (type == TP_IRQ_ENTRY)
        e->u.irq.irq = 36;
}

static void test_calbatch_fit(void **state)
{
    (void)state;
    traceparse_t t;
    traceparse_init(&t);
    t.cap = 40 * 80;
    t.ev = calloc(t.cap, sizeof(*t.ev));
    assert_non_null(t.ev);
    enum { PID = 77 };
    uint64_t ts = 1000000;
    for (unsigned c = 0; c < 40; c++) {
        unsigned k = 4 + c % 5;
        for (unsigned j = 0; j < k; j++)
            ev(&t, ts + 1100 * j, PID, 1, TP_URING_SUBMIT, 0);
        uint64_t ins = ts + 1100 * k;
        for (unsigned j = 0; j < k; j++)
            ev(&t, ins + 150 * j, PID, 1, TP_BLK_INSERT, 0);
        uint64_t iss = ins + 150 * k + 2000;
        for (unsigned j = 0; j < k; j++)
            ev(&t, iss + 450 * j, PID, 1, TP_BLK_ISSUE, 0);
        uint64_t irq = iss + 450 * k + 30000, exit = irq + 1000 + 100 * k;
        ev(&t, irq, 0, 1, TP_IRQ_ENTRY, TP_CTX_HARDIRQ);
        ev(&t, exit, 0, 1, TP_IRQ_EXIT, TP_CTX_HARDIRQ);
        ev(&t, exit + 100, 0, 1, TP_SOFTIRQ_ENTRY, TP_CTX_SOFTIRQ);
        for (unsigned j = 0; j < k; j++)
            ev(&t, exit + 1600 + 400 * j, 0, 1, TP_BLK_COMPLETE, TP_CTX_SOFTIRQ);
        ev(&t, exit + 1600 + 400 * k, 0, 1, TP_SOFTIRQ_EXIT, TP_CTX_SOFTIRQ);
        uint64_t tw = exit + 1600 + 400 * k + 3000;
        for (unsigned j = 0; j < k; j++)
            ev(&t, tw + 120 * j, PID, 1, TP_URING_COMPLETE, 0);
        ts = tw + 120 * k + 5000;
    }
    calbatch_fit_t f;
    assert_int_equal(calbatch_fit(&t, PID, 1, &f), 0);
    assert_int_equal(f.irq, 36);
    assert_true(f.handler.ok && f.softirq.ok && f.dispatch.ok);
    assert_float_equal(f.handler.b, 100, 1e-6);
    assert_float_equal(f.handler.a, 1000, 1e-6);
    assert_float_equal(f.softirq.b, 400, 1e-6);
    assert_float_equal(f.dispatch.b, 1100 + 150 + 450, 1e-6);
    assert_float_equal(f.taskwork.b, 120, 1e-6);
    assert_int_equal(f.dispatch.kmin, 4);
    assert_int_equal(f.dispatch.kmax, 8);
    traceparse_fini(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugged_call),
        cmocka_unit_test(test_unplugged_call),
        cmocka_unit_test(test_submit_after_pass),
        cmocka_unit_test(test_task_work_join),
        cmocka_unit_test(test_irq_pending_bit),
        cmocka_unit_test(test_softirq_list),
        cmocka_unit_test(test_remote_softirq),
        cmocka_unit_test(test_remote_task_work),
        cmocka_unit_test(test_softirq_list_is_one_pass),
        cmocka_unit_test(test_softirq_restarts_go_to_ksoftirqd),
        cmocka_unit_test(test_calbatch_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
