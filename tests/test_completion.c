/*
 * test_completion.c - the interrupt and block-layer completion path against
 * hand-computed timelines, driving models/irq.c and models/blkmq.c directly
 * (CQEs are written at chosen times; the device is not involved):
 *   - device-wide interrupt coalescing (Feature 08h): a CQE waits until the
 *     threshold is reached or the aggregation time after the first pending
 *     one has passed; a vector with Coalescing Disable (Feature 09h) does
 *     not wait; a request's own wish not to be coalesced changes nothing
 *     unless the coalescing-bypass what-if is on;
 *   - Linux 6.x completion (blk_mq_complete_request_remote): a multi-queue
 *     device completes in the hard-IRQ handler on the interrupt CPU when
 *     that CPU shares a last-level cache with the submitter (rq_affinity 1),
 *     else by IPI and BLOCK_SOFTIRQ on the submitter; rq_affinity 2 always
 *     sends it to the submitter, 0 never does; NUMA nodes play no part;
 *   - a single-queue device completes in the block softirq, and gets
 *     mq-deadline by default.
 * Costs: IRQ handler 1000 ns, completion 800 ns, IPI 1500 ns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "models/blkmq.h"
#include "models/irq.h"

#include <stdio.h>
#include <string.h>

#define HANDLER 1000
#define COMPLETE 800
#define IPI 1500
#define IPI_SEND 300 /* CPU time on the sender */
#define IPI_RECV 700 /* ... on the receiver, the end of IPI */

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    costs_t costs;
    host_cfg_t host;
    ssd_cfg_t dev;
    irq_t *irq;
    blkmq_t *blk;
    req_t r[16];
    unsigned done;
} rig_t;

static void on_dispatch(void *ctx, req_t *r)
{
    (void)ctx;
    (void)r;
}

static void on_done(void *ctx, req_t *r)
{
    (void)r;
    ((rig_t *)ctx)->done++;
}

static void on_irq(void *ctx, req_t *r) { blkmq_complete(((rig_t *)ctx)->blk, r); }

/* host: cpus, numa nodes, LLC domains, rq_affinity; dev: a devices.N JSON. */
static void rig_init(rig_t *g, uint32_t cpus, uint32_t nodes, uint32_t llc, uint32_t rq_aff,
                     const char *dev_json)
{
    memset(g, 0, sizeof(*g));
    g->host = (host_cfg_t){.cpus = cpus, .numa_nodes = nodes, .llc_domains = llc,
                           .rq_affinity = rq_aff, .iosched = HOST_SCHED_DEFAULT,
                           .ksoftirqd_after = 10, .taskrun = -1, .wait = -1};
    costs_defaults(&g->costs);
    g->costs.c[COST_IRQ_HANDLER].value = HANDLER;
    g->costs.c[COST_BLK_COMPLETE].value = COMPLETE;
    g->costs.c[COST_IPI].value = IPI;
    g->costs.c[COST_IPI_SEND].value = IPI_SEND;
    g->costs.c[COST_IPI_RECV].value = IPI_RECV;
    g->costs.c[COST_IRQ_PER_CQE].value = 0; /* the a + b x CQEs cost: test_cpu.c */
    g->costs.c[COST_IDLE_EXIT].value = 0;
    cfg_t c;
    cfg_init(&c, "test.json");
    json_error_t je;
    json_t *j = json_loads(dev_json, 0, &je);
    assert_non_null(j);
    if (ssd_cfg_parse(&c, j, cpus, &g->dev) != 0)
        fail_msg("%s", c.err);
    json_decref(j);
    g->sim = sim_new();
    g->cpus = cpus_new(g->sim, cpus, 0, 1, NULL);
    g->irq = irq_new(g->sim, g->cpus, &g->costs, &g->dev, cpus, on_irq, g);
    blkmq_cfg_t bc = {.host = &g->host, .dev = &g->dev, .rq_affinity = rq_aff};
    g->blk = blkmq_new(g->sim, g->cpus, &g->costs, &bc, on_dispatch, on_done, g);
    assert_non_null(g->irq);
    assert_non_null(g->blk);
}

static void rig_fini(rig_t *g)
{
    assert_int_equal(sim_error(g->sim), 0);
    irq_free(g->irq);
    blkmq_free(g->blk);
    cpus_free(g->cpus);
    sim_free(g->sim);
    ssd_cfg_fini(&g->dev);
}

static void cqe_now(sim_t *sim, void *ctx, uint64_t i)
{
    rig_t *g = ctx;
    g->r[i].t[T_DEVICE_DONE] = sim_now(sim);
    irq_cqe(g->irq, &g->r[i], false);
}

/* Request i, submitted on `cpu` (its software queue) at once, its CQE
 * written at `at` ns. coalesce: the request's own wish. */
static req_t *io(rig_t *g, unsigned i, uint32_t cpu, sim_time_t at, bool coalesce)
{
    req_t *r = &g->r[i];
    memset(r, 0, sizeof(*r));
    r->op = REQ_READ;
    r->coalesce = coalesce;
    r->submit_cpu = (int16_t)cpu;
    blkmq_submit(g->blk, r, cpu);
    sim_at(g->sim, at, cqe_now, g, i);
    return r;
}

/* ------------------------------------------------------------ coalescing */

static const char *coalesced_dev =
    "{\"queues\":2,\"irq_cpus\":[0,1],\"irq_coalescing\":{\"time_us\":100,\"threshold\":3,"
    "\"disabled_queues\":[1]}%s}";

static void test_coalescing_time_and_threshold(void **state)
{
    (void)state;
    char json[256];
    snprintf(json, sizeof(json), coalesced_dev, "");
    rig_t g;
    rig_init(&g, 2, 1, 1, 1, json);
    /* queue 0 (CPU 0): three CQEs at 0, 10, 20 us reach the threshold at 20 us */
    req_t *a = io(&g, 0, 0, 0, true), *b = io(&g, 1, 0, 10000, true), *c = io(&g, 2, 0, 20000, true);
    /* one alone at 200 us waits the aggregation time: 300 us */
    req_t *d = io(&g, 3, 0, 200000, true);
    /* queue 1 (CPU 1) has Coalescing Disable: no wait */
    req_t *e = io(&g, 4, 1, 400000, true);
    /* a request that asks not to be coalesced, without the bypass what-if: waits */
    req_t *f = io(&g, 5, 0, 500000, false);
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(g.done, 6);
    assert_int_equal(a->t[T_IRQ], 20000 + HANDLER);
    assert_int_equal(b->t[T_IRQ], 20000 + HANDLER);
    assert_int_equal(c->t[T_IRQ], 20000 + HANDLER);
    assert_true(a->deferred && b->deferred && !c->deferred);
    assert_int_equal(d->t[T_IRQ], 300000 + HANDLER);
    assert_int_equal(e->t[T_IRQ], 400000 + HANDLER);
    assert_false(e->deferred);
    assert_int_equal(f->t[T_IRQ], 600000 + HANDLER);
    /* three interrupts on queue 0 and one on queue 1 */
    assert_int_equal(irq_count(g.irq), 4);
    /* each completion in the handler's wake, one after another */
    assert_int_equal(a->t[T_BLK_DONE], 20000 + HANDLER + COMPLETE);
    assert_int_equal(c->t[T_BLK_DONE], 20000 + HANDLER + 3 * COMPLETE);
    rig_fini(&g);
}

static void test_coalescing_bypass_what_if(void **state)
{
    (void)state;
    char json[256];
    snprintf(json, sizeof(json), coalesced_dev, ",\"what_if\":{\"coalescing_bypass\":true}");
    rig_t g;
    rig_init(&g, 2, 1, 1, 1, json);
    req_t *a = io(&g, 0, 0, 0, true);       /* coalesced: fires when f forces the vector */
    req_t *f = io(&g, 1, 0, 50000, false);  /* fires at once, with what is pending */
    req_t *h = io(&g, 2, 0, 60000, true);   /* waits its own 100 us */
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(a->t[T_IRQ], 50000 + HANDLER);
    assert_int_equal(f->t[T_IRQ], 50000 + HANDLER);
    assert_int_equal(h->t[T_IRQ], 160000 + HANDLER);
    rig_fini(&g);
}

/* ------------------------------------------------------------ completion */

/* 4 CPUs, 2 queues: queue 0 serves CPUs 0-1, its vector on CPU 0; queue 1
 * serves CPUs 2-3, its vector on CPU 2. A read submitted on CPU 1. */
static void remote_case(uint32_t llc, uint32_t rq_aff, uint32_t want_cpu, bool want_ipi)
{
    rig_t g;
    rig_init(&g, 4, 1, llc, rq_aff, "{\"queues\":2}");
    req_t *r = io(&g, 0, 1, 10000, true);
    assert_int_equal(r->hwq, 0);
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(r->irq_cpu, 0);
    assert_int_equal(r->t[T_IRQ], 10000 + HANDLER);
    assert_int_equal(r->completion_cpu, want_cpu);
    if (want_ipi) {
        /* IPI to the submitter, then BLOCK_SOFTIRQ there */
        assert_int_equal(r->t[T_BLK_DONE], 10000 + HANDLER + IPI + COMPLETE);
        assert_true(cpus_busy_ns(g.cpus, want_cpu, CPU_SOFTIRQ) == COMPLETE);
        /* the IPI costs both CPUs */
        assert_true(cpus_busy_ns(g.cpus, 0, CPU_HARDIRQ) == HANDLER + IPI_SEND);
        assert_true(cpus_busy_ns(g.cpus, want_cpu, CPU_HARDIRQ) == IPI_RECV);
    } else {
        /* inline in the hard-IRQ handler of the interrupt CPU */
        assert_int_equal(r->t[T_BLK_DONE], 10000 + HANDLER + COMPLETE);
        assert_true(cpus_busy_ns(g.cpus, 0, CPU_HARDIRQ) == HANDLER + COMPLETE);
        assert_true(cpus_busy_ns(g.cpus, UINT32_MAX, CPU_SOFTIRQ) == 0);
    }
    rig_fini(&g);
}

static void test_rq_affinity_shared_cache(void **state)
{
    (void)state;
    /* one LLC: rq_affinity 1 completes on the interrupt CPU, in hard IRQ */
    remote_case(1, 1, 0, false);
    /* rq_affinity 2 (QUEUE_FLAG_SAME_FORCE): the submitter, by IPI */
    remote_case(1, 2, 1, true);
    /* rq_affinity 0: the interrupt CPU */
    remote_case(1, 0, 0, false);
}

static void test_rq_affinity_no_shared_cache(void **state)
{
    (void)state;
    /* one node but an LLC per CPU: rq_affinity 1 goes to the submitter */
    remote_case(4, 1, 1, true);
    remote_case(4, 0, 0, false);
}

/* The submitter is the interrupt CPU: no IPI whatever rq_affinity says. */
static void test_local_completion(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g, 4, 1, 4, 2, "{\"queues\":2}");
    req_t *r = io(&g, 0, 2, 0, true);
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(r->hwq, 1);
    assert_int_equal(r->completion_cpu, 2);
    assert_int_equal(r->t[T_BLK_DONE], HANDLER + COMPLETE);
    rig_fini(&g);
}

/* A single hardware queue (this host's virtio disk): BLOCK_SOFTIRQ on the
 * interrupt CPU, and mq-deadline is Linux's default scheduler for it. */
static void test_single_queue_softirq(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g, 2, 1, 1, 1, "{\"queues\":1,\"irq_cpus\":[1]}");
    req_t *a = io(&g, 0, 1, 0, true);     /* submitted on the interrupt CPU */
    req_t *b = io(&g, 1, 0, 10000, true); /* on the other CPU, shared cache */
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(a->completion_cpu, 1);
    assert_int_equal(a->t[T_BLK_DONE], HANDLER + COMPLETE);
    assert_int_equal(b->completion_cpu, 1);
    assert_int_equal(b->t[T_BLK_DONE], 10000 + HANDLER + COMPLETE);
    assert_true(cpus_busy_ns(g.cpus, 1, CPU_SOFTIRQ) == 2 * COMPLETE);
    assert_true(cpus_busy_ns(g.cpus, 1, CPU_HARDIRQ) == 2 * HANDLER);
    assert_true(blkmq_submit_cost(g.blk, NULL) == costs_value(&g.costs, COST_BLK_DISPATCH) +
                                              costs_value(&g.costs, COST_SCHED_DEADLINE));
    rig_fini(&g);
    /* two queues: none */
    rig_init(&g, 2, 1, 1, 1, "{\"queues\":2}");
    assert_true(blkmq_submit_cost(g.blk, NULL) == costs_value(&g.costs, COST_BLK_DISPATCH));
    rig_fini(&g);
    /* one CPU, one queue: its only software queue is on the interrupt CPU,
     * so the completion runs inline (nr_ctx == 1), not as softirq */
    rig_init(&g, 1, 1, 1, 1, "{\"queues\":1}");
    a = io(&g, 0, 0, 0, true);
    sim_run(g.sim, SIM_MS(1));
    assert_true(cpus_busy_ns(g.cpus, 0, CPU_SOFTIRQ) == 0);
    assert_int_equal(a->t[T_BLK_DONE], HANDLER + COMPLETE);
    rig_fini(&g);
}

/* The queue sets: with write_queues the reads use the read set, whose
 * vectors are spread on their own; polled requests use the poll set. */
static void test_queue_sets(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g, 4, 1, 1, 1, "{\"write_queues\":1,\"poll_queues\":1}");
    assert_int_equal(g.dev.queues, 5);
    assert_int_equal(g.dev.read_queues, 4);
    const uint32_t *w = blkmq_cpu_map(g.blk, true, false), *rd = blkmq_cpu_map(g.blk, false, false),
                   *p = blkmq_cpu_map(g.blk, false, true);
    for (uint32_t c = 0; c < 4; c++) {
        assert_int_equal(w[c], 0);     /* one write queue for every CPU */
        assert_int_equal(rd[c], 1 + c); /* a read queue per CPU */
        assert_int_equal(p[c], 5);     /* the poll queue after the others */
    }
    const uint32_t *vec = irq_vector_map(g.irq);
    assert_int_equal(vec[0], 0);
    for (uint32_t q = 1; q < 5; q++)
        assert_int_equal(vec[q], q - 1);
    rig_fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coalescing_time_and_threshold),
        cmocka_unit_test(test_coalescing_bypass_what_if),
        cmocka_unit_test(test_rq_affinity_shared_cache),
        cmocka_unit_test(test_rq_affinity_no_shared_cache),
        cmocka_unit_test(test_local_completion),
        cmocka_unit_test(test_single_queue_softirq),
        cmocka_unit_test(test_queue_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
