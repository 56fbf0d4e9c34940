/*
 * test_cont.c - the continuation models (models/cont.h, gpu.h, rdma.h) with
 * the default calibrated costs and no distributions, so every gap is a sum
 * of configured numbers: pinned vs pageable GPU copies differ by the staging
 * memcpy, the direct path's gap is its DMA completion cost, copy engines and
 * the RDMA link queue, polled and event RDMA completions differ by the event
 * cost less a poll, the registration policy's costs and counters reach the
 * host CPUs and the collector, and the scenario sections are checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "models/collect.h"
#include "models/cont.h"
#include "models/costs.h"
#include "models/cpu.h"

#define BYTES 131072u /* 128 KiB: 32 pages */

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    costs_t costs;
    collect_t *col;
    cont_cfg_t *cfg;
    cont_t *c;
    pol_variant_t var;
    pol_config_t pol;
    req_t r[8];
    sim_time_t done_at[8];
    int ndone;
} fx_t;

static double K(const fx_t *f, cost_id_t id) { return costs_value(&f->costs, id); }

static void on_done(void *ctx, req_t *r)
{
    fx_t *f = ctx;
    f->done_at[r - f->r] = sim_now(f->sim);
    assert_true(r->t[T_CONTINUED] <= sim_now(f->sim));
    f->ndone++;
}

/* host = the "host" object's gpu / rdma members as JSON text (or NULL). */
static void fx_init(fx_t *f, pol_reg_t reg, const char *gpu, const char *rdma, sim_time_t warm)
{
    memset(f, 0, sizeof(*f));
    f->sim = sim_new();
    f->cpus = cpus_new(f->sim, 4, 0, SIM_TIME_MAX, NULL); /* no C-state exits */
    costs_defaults(&f->costs);
    f->col = collect_new(warm, 0, NULL);
    f->var = (pol_variant_t){.name = "t", .registration = reg};
    pol_config_defaults(&f->pol);
    cfg_t c;
    cfg_init(&c, "test.json");
    json_t *g = gpu ? json_loads(gpu, 0, NULL) : NULL, *n = rdma ? json_loads(rdma, 0, NULL) : NULL;
    size_t m = cfg_push(&c, "host");
    assert_int_equal(cont_cfg_parse(&c, g, n, &f->cfg), 0);
    cfg_pop(&c, m);
    json_decref(g);
    json_decref(n);
    cont_env_t env = {
        .sim = f->sim, .cpus = f->cpus, .costs = &f->costs, .cfg = f->cfg, .variant = &f->var,
        .pol = &f->pol, .col = f->col, .seed = 1, .rep = 0, .ncpus = 4, .done = on_done, .ctx = f,
    };
    f->c = cont_new(&env);
    assert_non_null(f->c);
    for (int i = 0; i < 8; i++)
        f->r[i] = (req_t){.id = (uint64_t)i, .bytes = BYTES, .gpu = -1, .consumer_cpu = 1,
                          .completion_cpu = 1, .buf = 100, .flow = 7};
}

static void fx_fini(fx_t *f)
{
    cont_free(f->c);
    cont_cfg_free(f->cfg);
    collect_free(f->col);
    cpus_free(f->cpus);
    sim_free(f->sim);
}

/* The consumer of request i becomes ready now: every boundary so far is now,
 * except device done, which is `ago` earlier. */
static void ready(sim_t *sim, void *ctx, uint64_t i)
{
    fx_t *f = ctx;
    req_t *r = &f->r[i];
    sim_time_t now = sim_now(sim);
    sim_time_t ago = r->t[T_DEVICE_DONE]; /* stashed by start_at */
    for (int k = T_ISSUE; k <= T_READY; k++)
        r->t[k] = now;
    r->t[T_DEVICE_DONE] = now - ago;
    r->t[T_ISSUE] = r->t[T_SUBMIT] = r->t[T_DISPATCH] = now - ago;
    cont_start(f->c, r);
}

static void start_at(fx_t *f, int i, sim_time_t t, sim_time_t device_done_ago)
{
    f->r[i].t[T_DEVICE_DONE] = device_done_ago;
    sim_at(f->sim, t, ready, f, (uint64_t)i);
}

/* Run what is pending (the clock stops at 100 ms, so more can be started). */
static void run(fx_t *f) { sim_run(f->sim, SIM_MS(100)); }

static sim_time_t gap(const fx_t *f, int i) { return f->r[i].t[T_CONTINUED] - f->r[i].t[T_READY]; }

/* Pinned (registered) vs pageable: once the region is registered, the two
 * differ by exactly the staging memcpy, 128 KiB x mem_touch_local. */
static void test_gpu_pinned_vs_pageable(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_POOL, "{\"pinned\": true}", NULL, 0);
    f.r[0].gpu = f.r[1].gpu = 0;
    start_at(&f, 0, 1000, 0);
    start_at(&f, 1, 100000, 0);
    run(&f);
    assert_int_equal(f.ndone, 2);
    sim_time_t copy = (sim_time_t)(BYTES / K(&f, COST_GPU_GBPS));           /* 5242 */
    sim_time_t launch = (sim_time_t)K(&f, COST_GPU_COPY_LAUNCH);            /* 5000 */
    sim_time_t reg = (sim_time_t)(K(&f, COST_REG_FIXED) + 32 * K(&f, COST_REG_PAGE)); /* 13000 */
    assert_int_equal(gap(&f, 0), reg + launch + copy); /* first use registers: 23242 */
    sim_time_t pinned = gap(&f, 1);
    assert_int_equal(pinned, launch + copy);            /* 10242 */
    assert_int_equal(f.col->reg.lookups, 2);
    assert_int_equal(f.col->reg.hits, 1);
    assert_int_equal(f.col->reg.registrations, 1);
    assert_int_equal(f.col->reg.deregistrations, 0);
    assert_int_equal(f.col->reg.flows, 1);
    fx_fini(&f);

    fx_init(&f, POL_REG_POOL, "{\"pinned\": false}", NULL, 0);
    f.r[0].gpu = 0;
    start_at(&f, 0, 1000, 0);
    run(&f);
    sim_time_t staging = (sim_time_t)(K(&f, COST_MEM_LOCAL_KIB) * BYTES / 1024); /* 5120 */
    assert_int_equal(gap(&f, 0) - pinned, staging);
    assert_int_equal(f.col->reg.lookups, 0); /* pageable memory is never registered */
    fx_fini(&f);
}

/* registration none: every copy registers (on the critical path) and
 * deregisters afterwards (CPU time, off the critical path). */
static void test_gpu_registration_none_costs(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_NONE, NULL, NULL, 0);
    f.r[0].gpu = f.r[1].gpu = 0;
    start_at(&f, 0, 1000, 0);
    start_at(&f, 1, 200000, 0);
    run(&f);
    double reg = K(&f, COST_REG_FIXED) + 32 * K(&f, COST_REG_PAGE);
    double launch = K(&f, COST_GPU_COPY_LAUNCH), dereg = K(&f, COST_DEREG);
    sim_time_t want = (sim_time_t)(reg + launch) + (sim_time_t)(BYTES / K(&f, COST_GPU_GBPS));
    assert_int_equal(gap(&f, 0), want);
    assert_int_equal(gap(&f, 1), want);
    assert_true(cpus_busy_ns(f.cpus, 1, CPU_USER) == 2 * (reg + launch + dereg));
    assert_int_equal(f.col->reg.registrations, 2);
    assert_int_equal(f.col->reg.deregistrations, 2);
    assert_int_equal(f.col->reg.hits, 0);
    fx_fini(&f);
}

/* Direct storage-to-GPU: usable at device done + dma_us whatever the host
 * path took; the collector's storage_to_gpu_gap measures exactly that. */
static void test_gpu_direct_gap_is_dma(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_CACHE, "{\"direct\": true, \"dma_us\": 1.5}", NULL, 0);
    f.r[0].gpu = f.r[1].gpu = 0;
    start_at(&f, 0, 50000, 20000);  /* host path took 20 us: bytes were usable long before */
    start_at(&f, 1, 100000, 1000);  /* host path faster than the DMA completion */
    run(&f);
    assert_int_equal(f.ndone, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f.r[i].gpu_direct, 1);
        assert_int_equal(f.r[i].t[T_CONTINUED] - f.r[i].t[T_DEVICE_DONE], 1500);
        collect_req(f.col, &f.r[i]);
    }
    assert_int_equal(f.done_at[0], 50000);   /* done at once */
    assert_int_equal(f.done_at[1], 100500);  /* waited for the DMA completion */
    assert_int_equal(f.col->s2g.min, 1500);
    assert_int_equal(f.col->s2g.max, 1500);
    assert_true(cpus_busy_ns(f.cpus, UINT32_MAX, CPU_USER) == 0); /* no host step */
    assert_true(cont_direct(f.c, &f.r[0]));
    fx_fini(&f);
}

/* Three copies ready together on 2 engines: the third waits one copy time. */
static void test_gpu_copy_engines_queue(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_NONE, "{\"pinned\": false, \"copy_engines\": 2, \"count\": 2}", NULL, 0);
    for (int i = 0; i < 4; i++) {
        f.r[i].gpu = i < 3 ? 0 : 1; /* request 3 on the other GPU */
        f.r[i].consumer_cpu = (int16_t)i;
        start_at(&f, i, 1000, 0);
    }
    run(&f);
    sim_time_t host = (sim_time_t)(K(&f, COST_GPU_COPY_LAUNCH) +
                                   K(&f, COST_MEM_LOCAL_KIB) * BYTES / 1024);
    sim_time_t copy = (sim_time_t)(BYTES / K(&f, COST_GPU_GBPS));
    assert_int_equal(gap(&f, 0), host + copy);
    assert_int_equal(gap(&f, 1), host + copy);
    assert_int_equal(gap(&f, 2), host + 2 * copy);
    assert_int_equal(gap(&f, 3), host + copy);
    fx_fini(&f);

    /* gbps overrides the calibrated rate */
    fx_init(&f, POL_REG_NONE, "{\"pinned\": false, \"gbps\": 50}", NULL, 0);
    f.r[0].gpu = 0;
    start_at(&f, 0, 1000, 0);
    run(&f);
    assert_int_equal(gap(&f, 0), host + (sim_time_t)(BYTES / 50.0));
    fx_fini(&f);
}

/* RDMA: post + registration on the consumer CPU, the link, the latency,
 * then the peer learns by polling (one poll) or a completion event. */
static void test_rdma_polled_vs_event(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_NONE, NULL, "{\"cq_cpu\": 3}", 0);
    f.r[0].rdma = f.r[1].rdma = 1;
    f.r[0].wait = POL_WAIT_POLL;      /* auto: the policy polls -> poll the CQ */
    f.r[1].wait = POL_WAIT_INTERRUPT; /* auto: interrupt wait -> completion channel */
    start_at(&f, 0, 1000, 0);
    start_at(&f, 1, 500000, 0);
    run(&f);
    assert_int_equal(f.ndone, 2);
    double reg = K(&f, COST_REG_FIXED) + 32 * K(&f, COST_REG_PAGE);
    sim_time_t host = (sim_time_t)(300 + reg);   /* post_us default 0.3 */
    sim_time_t wire = (sim_time_t)(BYTES / K(&f, COST_RDMA_GBPS)); /* 10485 */
    sim_time_t lat = (sim_time_t)K(&f, COST_RDMA_LATENCY);
    sim_time_t polled = host + wire + lat + (sim_time_t)K(&f, COST_POLL);
    sim_time_t event = host + wire + lat + (sim_time_t)K(&f, COST_RDMA_CQ_EVENT);
    assert_int_equal(gap(&f, 0), polled); /* 25885 */
    assert_int_equal(gap(&f, 1), event);  /* 30785 */
    assert_int_equal(gap(&f, 1) - gap(&f, 0), K(&f, COST_RDMA_CQ_EVENT) - K(&f, COST_POLL));
    /* the local send completion: polled by the consumer, or an interrupt on cq_cpu */
    assert_true(cpus_busy_ns(f.cpus, 3, CPU_HARDIRQ) == K(&f, COST_IRQ_HANDLER));
    assert_true(cpus_busy_ns(f.cpus, 1, CPU_USER) ==
                2 * (300 + reg + K(&f, COST_DEREG)) + K(&f, COST_POLL));
    assert_int_equal(f.col->reg.deregistrations, 2);
    fx_fini(&f);

    /* a fixed mode overrides the policy's wait */
    fx_init(&f, POL_REG_NONE, NULL, "{\"completion\": \"event\", \"latency_us\": 10}", 0);
    f.r[0].rdma = 1;
    f.r[0].wait = POL_WAIT_POLL;
    start_at(&f, 0, 1000, 0);
    run(&f);
    assert_int_equal(gap(&f, 0), host + wire + 10000 + (sim_time_t)K(&f, COST_RDMA_CQ_EVENT));
    assert_true(cpus_busy_ns(f.cpus, 0, CPU_HARDIRQ) == K(&f, COST_IRQ_HANDLER)); /* cq_cpu 0 */
    fx_fini(&f);
}

/* Two sends at once share the link: the second lands one wire time later. */
static void test_rdma_link_serialises(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_POOL, NULL, "{\"completion\": \"poll\", \"cq_cpu\": -1}", 0);
    f.r[0].rdma = f.r[1].rdma = 1;
    f.r[1].consumer_cpu = 2;
    f.r[1].buf = 200;
    start_at(&f, 0, 1000, 0);
    start_at(&f, 1, 1000, 0);
    run(&f);
    sim_time_t wire = (sim_time_t)(BYTES / K(&f, COST_RDMA_GBPS));
    assert_int_equal(gap(&f, 1) - gap(&f, 0), wire);
    fx_fini(&f);
}

/* Nothing to continue: bytes usable at ready (rdma disabled, no GPU). */
static void test_no_continuation(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_CACHE, NULL, "{\"enabled\": false}", 0);
    f.r[0].rdma = 1;
    start_at(&f, 0, 1000, 0);
    run(&f);
    assert_int_equal(f.ndone, 1);
    assert_int_equal(gap(&f, 0), 0);
    assert_int_equal(f.col->reg.lookups, 0);
    fx_fini(&f);
}

/* Counters start at the warm-up cut; a freed buffer loses its registration. */
static void test_warmup_and_buffer_freed(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f, POL_REG_CACHE, NULL, NULL, 50000);
    sim_time_t t0 = 0;
    for (int i = 0; i < 3; i++)
        f.r[i].gpu = 0;
    start_at(&f, 0, 1000, 0);    /* issued before the cut: registers, not counted */
    start_at(&f, 1, 100000, 0);  /* hit */
    sim_run(f.sim, 200000);
    assert_int_equal(f.col->reg.lookups, 1);
    assert_int_equal(f.col->reg.hits, 1);
    assert_int_equal(f.col->reg.registrations, 0);
    cont_buffer_freed(f.c, 100, 2);
    assert_int_equal(f.col->reg.deregistrations, 1);
    t0 = sim_now(f.sim);
    start_at(&f, 2, t0 + 1000, 0);  /* registers again */
    sim_run(f.sim, t0 + 1000000);
    assert_int_equal(f.col->reg.registrations, 1);
    assert_true(cpus_busy_ns(f.cpus, 2, CPU_USER) == K(&f, COST_DEREG));
    fx_fini(&f);
}

static void parse_err(const char *gpu, const char *rdma, const char *want)
{
    cfg_t c;
    cfg_init(&c, "s.json");
    json_t *g = gpu ? json_loads(gpu, 0, NULL) : NULL, *n = rdma ? json_loads(rdma, 0, NULL) : NULL;
    size_t m = cfg_push(&c, "host");
    cont_cfg_t *cfg = NULL;
    assert_int_not_equal(cont_cfg_parse(&c, g, n, &cfg), 0);
    cfg_pop(&c, m);
    if (!strstr(c.err, want))
        fail_msg("error \"%s\" does not name \"%s\"", c.err, want);
    cont_cfg_free(cfg);
    json_decref(g);
    json_decref(n);
}

static void test_config_errors(void **st)
{
    (void)st;
    parse_err("{\"copy_engines\": 0}", NULL, "s.json: host.gpu.copy_engines: expected");
    parse_err("{\"count\": 65}", NULL, "host.gpu.count");
    parse_err("{\"direct\": 1}", NULL, "host.gpu.direct");
    parse_err("{\"engines\": 2}", NULL, "host.gpu.engines: unknown key");
    parse_err(NULL, "{\"cq_cpu\": -2}", "host.rdma.cq_cpu");
    parse_err(NULL, "{\"completion\": \"spin\"}", "host.rdma.completion: expected one of");
    parse_err(NULL, "{\"gbps\": 0}", "host.rdma.gbps");
    parse_err(NULL, "{\"qps\": 4}", "host.rdma.qps: unknown key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gpu_pinned_vs_pageable),
        cmocka_unit_test(test_gpu_registration_none_costs),
        cmocka_unit_test(test_gpu_direct_gap_is_dma),
        cmocka_unit_test(test_gpu_copy_engines_queue),
        cmocka_unit_test(test_rdma_polled_vs_event),
        cmocka_unit_test(test_rdma_link_serialises),
        cmocka_unit_test(test_no_continuation),
        cmocka_unit_test(test_warmup_and_buffer_freed),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
