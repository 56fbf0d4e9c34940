/*
 * test_ssd.c - the SSD model against numbers derived from its configured
 * costs: exact QD1 latencies, M/D/1 and M/M/1 waits (Pollaczek-Khinchine)
 * on one die, die parallelism, the program-bound write rate, round-robin
 * fetch order and WRR shares (a what-if), the die's FIFO that no class
 * escapes without the die-priority what-if, GC and suspend effects on read
 * p99, the calibrated service curve's closed loop (IOPS = d / T(d)), the
 * calibrated batch device's hand-computed timeline, and
 * config errors that name their JSON path.
 */
#include "models/req.h"
#include "models/ssd.h"
#include "sim/hist.h"
#include "sim/rng.h"
#include "sim/sim.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

/* ------------------------------------------------------------- the rig */

typedef struct rig rig_t;

typedef struct {
    rig_t *rig;
    uint32_t hwq, qd, bytes;
    ssd_prio_t prio;
    double rate;        /* > 0: Poisson arrivals per second; else closed loop at qd */
    bool once;          /* closed loop off: qd commands at the start, no more */
    double write_frac;
    uint64_t skip;      /* completions not recorded (warm-up) */
    gsl_rng *rng;
    hist_t lat[2];      /* by op */
    uint64_t done, issued;
    uint64_t lat_min, lat_max; /* of the recorded completions */
} tenant_t;

struct rig {
    sim_t *sim;
    ssd_t *ssd;
    req_pool_t *pool;
    ssd_cfg_t cfg;
    tenant_t t[4];
    unsigned nt;
    uint64_t span;      /* offsets are drawn in [0, span) */
    bool stop;
    uint32_t order[64]; /* hardware queue of the first completions, in order */
    unsigned norder;
};

static int parse(const char *json, uint32_t cpus, ssd_cfg_t *out, cfg_t *c)
{
    json_error_t e;
    json_t *j = json_loads(json, 0, &e);
    assert_non_null(j);
    cfg_init(c, "test.json");
    cfg_push(c, "devices");
    cfg_push_idx(c, 0);
    int rc = ssd_cfg_parse(c, j, cpus, out);
    json_decref(j);
    return rc;
}

static void issue(tenant_t *t)
{
    rig_t *g = t->rig;
    req_t *r = req_alloc(g->pool);
    assert_non_null(r);
    r->op = gsl_rng_uniform(t->rng) < t->write_frac ? REQ_WRITE : REQ_READ;
    r->bytes = t->bytes;
    r->offset = gsl_rng_uniform_int(t->rng, g->span / t->bytes) * t->bytes;
    r->hwq = t->hwq;
    r->owner = t;
    r->t[T_DISPATCH] = sim_now(g->sim);
    t->issued++;
    assert_int_equal(ssd_submit(g->ssd, r, t->prio), 0);
}

static void on_done(void *ctx, req_t *r)
{
    rig_t *g = ctx;
    tenant_t *t = r->owner;
    uint64_t lat = r->t[T_DEVICE_DONE] - r->t[T_DISPATCH];
    if (t->done++ >= t->skip) {
        hist_add(&t->lat[r->op], lat);
        t->lat_min = t->lat_min && t->lat_min < lat ? t->lat_min : lat;
        t->lat_max = t->lat_max > lat ? t->lat_max : lat;
    }
    if (g->norder < sizeof(g->order) / sizeof(g->order[0]))
        g->order[g->norder++] = r->hwq;
    req_release(g->pool, r);
    if (t->rate <= 0 && !t->once && !g->stop)
        issue(t);
}

static void arrival(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    tenant_t *t = ctx;
    if (t->rig->stop)
        return;
    issue(t);
    sim_after(sim, (sim_time_t)llround(gsl_ran_exponential(t->rng, 1e9 / t->rate)), arrival, t, 0);
}

static void rig_init(rig_t *g, const char *json, uint32_t cpus, uint32_t rep)
{
    memset(g, 0, sizeof(*g));
    cfg_t c;
    if (parse(json, cpus, &g->cfg, &c) != 0)
        fail_msg("%s", c.err);
    g->sim = sim_new();
    g->pool = req_pool_new();
    g->ssd = ssd_new(g->sim, &g->cfg, 1, rep, "dev0", on_done, g);
    assert_non_null(g->ssd);
    g->span = (uint64_t)(g->cfg.capacity_gib * 1073741824.0);
}

static tenant_t *rig_tenant(rig_t *g, uint32_t hwq, ssd_prio_t prio, uint32_t qd, double rate,
                            uint32_t bytes, double write_frac, uint32_t rep)
{
    tenant_t *t = &g->t[g->nt];
    char name[32];
    snprintf(name, sizeof(name), "tenant%u", g->nt);
    *t = (tenant_t){.rig = g, .hwq = hwq, .qd = qd, .bytes = bytes, .prio = prio,
                    .rate = rate, .write_frac = write_frac,
                    .rng = rng_stream_new(7, rep, name)};
    hist_init(&t->lat[0]);
    hist_init(&t->lat[1]);
    g->nt++;
    return t;
}

static void rig_start(rig_t *g)
{
    for (unsigned i = 0; i < g->nt; i++) {
        tenant_t *t = &g->t[i];
        if (t->rate > 0)
            sim_after(g->sim, 0, arrival, t, 0);
        else
            for (uint32_t k = 0; k < t->qd; k++)
                issue(t);
    }
}

static void rig_fini(rig_t *g)
{
    ssd_stats_t st;
    ssd_stats(g->ssd, &st);
    assert_int_equal(st.error, 0);
    ssd_free(g->ssd);
    sim_free(g->sim);
    req_pool_free(g->pool);
    for (unsigned i = 0; i < g->nt; i++)
        gsl_rng_free(g->t[i].rng);
    ssd_cfg_fini(&g->cfg);
}

/* Run until tenant t has n completions (closed loops keep going). */
static void run_until_done(rig_t *g, tenant_t *t, uint64_t n)
{
    while (t->done < n && sim_npending(g->sim))
        sim_run(g->sim, sim_now(g->sim) + SIM_US(100));
}

/* ------------------------------------------------ the calibrated service curve */

static double draw_50us(void *ctx, const req_t *r, uint32_t n)
{
    (void)ctx;
    (void)r;
    (void)n;
    return 50000; /* a constant QD1 device time: T(1) of the curve below */
}

/* A closed loop of d reads with no host delay over a service curve with a
 * constant time at each k: every read after the ramp starts with d inside,
 * so each takes exactly T(d) and IOPS = d / T(d). Knots (1, 50 us),
 * (2, 60 us), (8, 120 us), (64, 640 us), by hand: T(4) = 60 us x (4/2)^a,
 * a = ln(120/60) / ln(8/2) = 1/2, so 84.853 us (84853 ns rounded); T(1) =
 * 50 us; beyond the last knot the throughput stays at 64 / 640 us, so
 * T(128) = 1280 us. */
static void test_curve_closed_loop_iops(void **state)
{
    (void)state;
    static const struct {
        uint32_t d;
        uint64_t t_ns;
    } cases[] = {{1, 50000}, {4, 84853}, {128, 1280000}};
    const svcurve_t curve = {.n = 4, .k = {1, 2, 8, 64}, .ns = {50000, 60000, 120000, 640000}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rig_t g;
        rig_init(&g, "{\"queues\":1,\"queue_depth\":1024,\"service\":\"calibrated\"}", 1, 0);
        ssd_set_read_sampler(g.ssd, draw_50us, NULL);
        assert_int_equal(ssd_set_curve(g.ssd, &curve), 0);
        assert_int_equal(ssd_set_units(g.ssd, 3), 0); /* ignored: the curve is set */
        tenant_t *t = rig_tenant(&g, 0, SSD_PRIO_URGENT, cases[i].d, 0, 4096, 0, 0);
        t->skip = 2 * cases[i].d; /* the ramp: the first reads saw fewer inside */
        rig_start(&g);
        sim_time_t span = 200 * cases[i].t_ns;
        sim_run(g.sim, span);
        /* every read after the ramp took T(d) exactly */
        assert_int_equal(t->lat_min, cases[i].t_ns);
        assert_int_equal(t->lat_max, cases[i].t_ns);
        /* IOPS = d / T(d): 200 periods of d reads, less the ramp's shortfall */
        double iops = (double)t->done / ((double)span / 1e9);
        double want = cases[i].d / ((double)cases[i].t_ns / 1e9);
        assert_true(fabs(iops / want - 1) < 0.01);
        g.stop = true;
        rig_fini(&g);
    }
}

/* ------------------------------------------------ the calibrated batch device */

static void issue_one(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    issue(ctx);
}

/* A batch device (a virtio backend that pops its whole ring per kick), by
 * hand with the knots above and a constant 50 us QD1 draw: three reads at
 * t = 0 make one batch of 3, T(3) = 60 us x (3/2)^(1/2) = 73.485 us, and
 * complete together; a read at t = 10 us waits for that batch, then is a
 * batch of 1: done at 73485 + 50000 ns. The device wants a kick only while
 * idle. A closed loop of 4 then runs batch after batch of 4: T(4) each. */
static void test_batch_timeline(void **state)
{
    (void)state;
    const svcurve_t curve = {.n = 4, .k = {1, 2, 8, 64}, .ns = {50000, 60000, 120000, 640000}};
    rig_t g;
    rig_init(&g, "{\"queues\":1,\"queue_depth\":1024,\"service\":\"calibrated\"}", 1, 0);
    ssd_set_read_sampler(g.ssd, draw_50us, NULL);
    assert_int_equal(ssd_kick_wanted(g.ssd), -1); /* not a batch device yet */
    assert_int_equal(ssd_set_batch(g.ssd, &curve), 0);
    assert_int_equal(ssd_set_curve(g.ssd, &curve), 0); /* ignored: the batch is set */
    assert_int_equal(ssd_kick_wanted(g.ssd), 1);
    tenant_t *t = rig_tenant(&g, 0, SSD_PRIO_URGENT, 3, 0, 4096, 0, 0);
    t->once = true;
    rig_start(&g);
    assert_int_equal(ssd_kick_wanted(g.ssd), 0);
    sim_after(g.sim, SIM_US(10), issue_one, t, 0);
    sim_run(g.sim, 73484);
    assert_int_equal(t->done, 0);
    sim_run(g.sim, 73485);
    assert_int_equal(t->done, 3);
    assert_int_equal(t->lat_min, 73485);
    assert_int_equal(t->lat_max, 73485);
    assert_int_equal(ssd_kick_wanted(g.ssd), 0); /* the late read is in service */
    sim_run(g.sim, SIM_MS(1));
    assert_int_equal(t->done, 4);
    assert_int_equal(t->lat_max, 73485 + 50000 - 10000);
    assert_int_equal(ssd_kick_wanted(g.ssd), 1);
    g.stop = true;
    rig_fini(&g);

    rig_init(&g, "{\"queues\":1,\"queue_depth\":1024,\"service\":\"calibrated\"}", 1, 0);
    ssd_set_read_sampler(g.ssd, draw_50us, NULL);
    assert_int_equal(ssd_set_batch(g.ssd, &curve), 0);
    t = rig_tenant(&g, 0, SSD_PRIO_URGENT, 4, 0, 4096, 0, 0);
    rig_start(&g);
    sim_run(g.sim, 100 * 84853);
    assert_int_equal(t->done, 400);
    assert_int_equal(t->lat_min, 84853);
    assert_int_equal(t->lat_max, 84853);
    g.stop = true;
    rig_fini(&g);
}

/* ---------------------------------------------------------------- config */

static void test_defaults(void **state)
{
    (void)state;
    ssd_cfg_t cfg;
    cfg_t c;
    assert_int_equal(parse("{\"type\":\"nvme\"}", 16, &cfg, &c), 0);
    /* one interrupt-driven queue per CPU, no read or poll set: Linux's nvme */
    assert_int_equal(cfg.queues, 16);
    assert_int_equal(cfg.read_queues, 0);
    assert_int_equal(cfg.poll_queues, 0);
    assert_int_equal(cfg.queue_depth, 1024);
    assert_false(cfg.what_if.wrr || cfg.what_if.die_priority || cfg.what_if.coalescing_bypass ||
                 cfg.what_if.deadline_classes);
    assert_int_equal(cfg.channels, 8);
    assert_int_equal(cfg.dies_per_channel, 4);
    assert_true(cfg.read_us == 60 && cfg.program_us == 600);
    assert_true(cfg.coalesce_time_us == 0 && cfg.coalesce_threshold == 0);
    assert_null(cfg.coalesce_off);
    assert_null(cfg.irq_cpus);
    assert_true(cfg.map_cache_mib == cfg.capacity_gib); /* the whole map fits */
    char label[256] = "";
    ssd_cfg_what_if(&cfg, "devices.0", label, sizeof(label));
    assert_string_equal(label, "");
    ssd_cfg_fini(&cfg);

    assert_int_equal(parse("{\"queues\":3,\"irq_cpus\":[2,0,1],\"arbitration\":\"rr\","
                           "\"what_if\":{\"wrr\":true,\"wrr_weights\":{\"high\":8},"
                           "\"die_priority\":true}}",
                           4, &cfg, &c),
                     0);
    assert_int_equal(cfg.irq_cpus[0], 2);
    assert_int_equal(cfg.irq_cpus[2], 1);
    assert_int_equal(cfg.what_if.wrr_weight[SSD_PRIO_HIGH], 8);
    assert_int_equal(cfg.what_if.wrr_weight[SSD_PRIO_LOW], 1);
    ssd_cfg_what_if(&cfg, "devices.0", label, sizeof(label));
    assert_string_equal(label, "devices.0.what_if.wrr, devices.0.what_if.die_priority");
    ssd_cfg_fini(&cfg);

    /* drivers/nvme/host/pci.c: CPUs + write + poll queues asked for, the
     * controller grants max_queues, poll queues first, the rest split into
     * the default (write) and read sets */
    assert_int_equal(parse("{\"write_queues\":2,\"poll_queues\":2}", 8, &cfg, &c), 0);
    assert_int_equal(cfg.queues, 10);
    assert_int_equal(cfg.read_queues, 8);
    ssd_cfg_fini(&cfg);
    assert_int_equal(parse("{\"max_queues\":4,\"write_queues\":1,\"poll_queues\":2}", 8, &cfg, &c),
                     0);
    assert_int_equal(cfg.queues, 2);
    assert_int_equal(cfg.read_queues, 1);
    ssd_cfg_fini(&cfg);
    assert_int_equal(parse("{\"irq_coalescing\":{\"time_us\":100,\"threshold\":8,"
                           "\"disabled_queues\":[1,3]}}",
                           4, &cfg, &c),
                     0);
    assert_int_equal(cfg.coalesce_off[0], 0);
    assert_int_equal(cfg.coalesce_off[1], 1);
    assert_int_equal(cfg.coalesce_off[3], 1);
    ssd_cfg_fini(&cfg);
}

typedef struct {
    const char *json, *path;
} config_error_t;

static const config_error_t config_errors[] = {
    {"{\"type\":\"sata\"}", "test.json: devices.0.type: expected one of \"nvme\""},
    {"{\"bogus\":1}", "devices.0.bogus: unknown key"},
    {"{\"flash\":{\"bogus\":1}}", "devices.0.flash.bogus: unknown key"},
    {"{\"flash\":{\"read_us\":-5}}", "devices.0.flash.read_us: expected a number"},
    {"{\"suspend\":{\"overhead_us\":-1}}", "devices.0.suspend.overhead_us:"},
    {"{\"pcie\":{\"iommu_ns\":-1}}", "devices.0.pcie.iommu_ns:"},
    {"{\"queues\":4,\"irq_cpus\":[0,1]}", "devices.0.irq_cpus: expected 4 entries"},
    {"{\"queues\":2,\"irq_cpus\":[0,99]}", "devices.0.irq_cpus.1: expected a CPU"},
    {"{\"gc\":{\"threshold\":0.9}}", "devices.0.gc.threshold:"},
    {"{\"flash\":\"fast\"}", "devices.0.flash: expected an object"},
    {"{\"flash\":{\"page_kib\":12}}", "devices.0.flash.page_kib: expected a power of two"},
    {"{\"capacity_gib\":0.001}", "devices.0.capacity_gib: too small for GC"},
    {"{\"arbitration\":\"wrr\"}", "devices.0.arbitration: Linux always enables round robin"},
    {"{\"wrr_weights\":{\"high\":2}}", "devices.0.wrr_weights: WRR is a what-if"},
    {"{\"what_if\":{\"bogus\":true}}", "devices.0.what_if.bogus: unknown key"},
    {"{\"irq_coalescing\":{\"time_us\":20}}",
     "devices.0.irq_coalescing.time_us: expected a multiple of 100"},
    {"{\"queues\":2,\"irq_coalescing\":{\"disabled_queues\":[2]}}",
     "devices.0.irq_coalescing.disabled_queues.0: expected an I/O queue number"},
    {"{\"max_queues\":4,\"queues\":4,\"poll_queues\":1}", "devices.0.queues: expected"},
};

/* One case of config_errors[] (the test's state): -EINVAL naming the path. */
static void test_config_error(void **state)
{
    const config_error_t *e = *state;
    ssd_cfg_t cfg;
    cfg_t c;
    assert_int_equal(parse(e->json, 16, &cfg, &c), -EINVAL);
    if (!strstr(c.err, e->path))
        fail_msg("%s: got \"%s\", want \"%s\"", e->json, c.err, e->path);
    assert_null(cfg.irq_cpus);
}

/* ------------------------------------------------------------ latencies */

/* controller 1500 + map hit 100 + tR 60000 + 4096 B at 800 MB/s (5120)
 * + 4096 B at 8 GB/s (512) + IOMMU 250 */
#define QD1_JSON(map)                                                                   \
    "{\"queues\":1,\"controller\":{\"cmd_ns\":1500,\"cores\":1},"                       \
    "\"ftl\":{\"map_hit_ns\":100" map "},\"flash\":{\"channel_mbps\":800},"             \
    "\"pcie\":{\"gbps\":8,\"iommu_ns\":250}}"

static void test_qd1_exact(void **state)
{
    (void)state;
    const uint64_t hit = 1500 + 100 + 60000 + 5120 + 512 + 250;
    /* a miss first reads the 16 KiB map page: tR + 16384 B at 800 MB/s */
    const uint64_t miss = hit + 60000 + 20480;
    const uint64_t write = 1500 + 100 + 250 + 512; /* into the write buffer */
    for (int m = 0; m < 2; m++) {
        rig_t g;
        rig_init(&g, m ? QD1_JSON(",\"map_cache_mib\":0") : QD1_JSON(""), 1, 0);
        tenant_t *t = rig_tenant(&g, 0, SSD_PRIO_MEDIUM, 1, 0, 4096, 0.25, 0);
        ssd_hold_background(g.ssd, true); /* no flush program in a read's way */
        rig_start(&g);
        run_until_done(&g, t, 200);
        uint64_t want = m ? miss : hit;
        printf("QD1 read (map %s): min %lu max %lu ns, want %lu; write %lu ns, want %lu\n",
               m ? "miss" : "hit", (unsigned long)t->lat[REQ_READ].min,
               (unsigned long)t->lat[REQ_READ].max, (unsigned long)want,
               (unsigned long)t->lat[REQ_WRITE].max, (unsigned long)write);
        assert_true(t->lat[REQ_READ].count > 100 && t->lat[REQ_WRITE].count > 20);
        assert_int_equal(t->lat[REQ_READ].min, want);
        assert_int_equal(t->lat[REQ_READ].max, want);
        assert_int_equal(t->lat[REQ_WRITE].min, write);
        assert_int_equal(t->lat[REQ_WRITE].max, write);
        ssd_stats_t st;
        ssd_stats(g.ssd, &st);
        assert_int_equal(st.map_misses, m ? st.reads : 0);
        g.stop = true;
        rig_fini(&g);
    }
}

/* One die, nothing but the die costs time: M/G/1. Mean wait by
 * Pollaczek-Khinchine: W = lambda E[S^2] / (2 (1 - rho)). */
static void check_mg1(bool exponential)
{
    const double S = 50e3, rho = 0.7, lambda = rho / S; /* per ns */
    const double ES2 = exponential ? 2 * S * S : S * S;
    const double W = lambda * ES2 / (2 * (1 - rho));
    enum { R = 10 };
    double w[R];
    char json[512];
    snprintf(json, sizeof(json),
             "{\"queues\":1,\"controller\":{\"cmd_ns\":0},\"ftl\":{\"map_hit_ns\":0},"
             "\"flash\":{\"channels\":1,\"dies_per_channel\":1,\"planes_per_die\":1,"
             "\"read_us\":50,\"read_dist\":\"%s\",\"channel_mbps\":0},\"pcie\":{\"gbps\":0},"
             "\"capacity_gib\":1}",
             exponential ? "exponential" : "fixed");
    for (uint32_t rep = 0; rep < R; rep++) {
        rig_t g;
        rig_init(&g, json, 1, rep);
        tenant_t *t = rig_tenant(&g, 0, SSD_PRIO_MEDIUM, 0, lambda * 1e9, 4096, 0, rep);
        t->skip = 2000;
        rig_start(&g);
        run_until_done(&g, t, 40000);
        /* sojourn = wait + service: subtract E[S] */
        w[rep] = hist_mean(&t->lat[REQ_READ]) - S;
        g.stop = true;
        rig_fini(&g);
    }
    double mean = gsl_stats_mean(w, 1, R), sd = gsl_stats_sd(w, 1, R);
    double half = gsl_cdf_tdist_Pinv(0.995, R - 1) * sd / sqrt(R);
    printf("M/%c/1 rho 0.7, S 50 us: mean wait %.0f ns +- %.0f (99%% CI, %d reps), P-K %.0f ns\n",
           exponential ? 'M' : 'D', mean, half, R, W);
    assert_true(fabs(mean - W) <= half);
    assert_true(half < 0.1 * W); /* the interval is tight enough to mean something */
}

static void test_md1_pollaczek_khinchine(void **state)
{
    (void)state;
    check_mg1(false);
}

static void test_mm1_pollaczek_khinchine(void **state)
{
    (void)state;
    check_mg1(true);
}

/* 32 reads to 32 distinct dies take about one tR; to one die, 32 tR. */
static void test_die_parallelism(void **state)
{
    (void)state;
    const char *json = "{\"queues\":32,\"controller\":{\"cmd_ns\":1500,\"cores\":4},"
                       "\"pcie\":{\"gbps\":8}}";
    uint64_t maxlat[2];
    for (int same = 0; same < 2; same++) {
        rig_t g;
        rig_init(&g, json, 32, 0);
        tenant_t *t = rig_tenant(&g, 0, SSD_PRIO_MEDIUM, 0, 0, 4096, 0, 0);
        g.stop = true; /* no resubmission */
        for (uint32_t p = 0; p < 32; p++) {
            req_t *r = req_alloc(g.pool);
            r->op = REQ_READ;
            r->bytes = 4096;
            /* page p stripes to channel p % 8, die (p / 8) % 4; page 32p to die 0 */
            r->offset = (uint64_t)p * (same ? 32 : 1) * 16384;
            r->hwq = p;
            r->owner = t;
            assert_int_equal(ssd_submit(g.ssd, r, SSD_PRIO_MEDIUM), 0);
        }
        sim_run(g.sim, SIM_MS(100));
        assert_int_equal(t->done, 32);
        maxlat[same] = t->lat[REQ_READ].max;
        rig_fini(&g);
    }
    /* 8 fetch rounds of 4 cores, one tR, 4 transfers sharing a channel, 32 DMAs */
    const uint64_t bound = 8 * (1500 + 100) + 60000 + 4 * 5120 + 32 * 512;
    printf("32 reads: distinct dies max %lu ns (bound %lu), one die max %lu ns (>= %u)\n",
           (unsigned long)maxlat[0], (unsigned long)bound, (unsigned long)maxlat[1],
           32 * 60000);
    assert_true(maxlat[0] >= 60000 && maxlat[0] <= bound);
    assert_true(maxlat[1] >= 32 * 60000);
}

/* Writes saturating a small buffer complete at the program rate:
 * each die takes a 16 KiB page every transfer + tPROG. */
static void test_write_rate_program_bound(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g,
             "{\"queues\":1,\"write_buffer_mib\":1,\"gc\":{\"enabled\":false},"
             "\"flash\":{\"channels\":1,\"dies_per_channel\":2,\"planes_per_die\":1}}",
             1, 0);
    tenant_t *t = rig_tenant(&g, 0, SSD_PRIO_MEDIUM, 32, 0, 16384, 1, 0);

    /* held background: exactly a buffer's worth completes, nothing is programmed */
    ssd_hold_background(g.ssd, true);
    rig_start(&g);
    sim_run(g.sim, SIM_MS(10));
    ssd_stats_t st;
    ssd_stats(g.ssd, &st);
    assert_int_equal(t->done, 64); /* 1 MiB / 16 KiB */
    assert_int_equal(st.programs, 0);
    ssd_hold_background(g.ssd, false);

    const double T = 1e9, cycle = 20480 + 600000;
    uint64_t before = t->done;
    sim_run(g.sim, SIM_MS(10) + (sim_time_t)T);
    double got = (double)(t->done - before), want = 2 * T / cycle;
    ssd_stats(g.ssd, &st);
    printf("program-bound writes: %.0f in 1 s, want %.0f; die utilisation %.3f; waits %lu\n", got,
           want, st.die_utilisation, (unsigned long)st.write_waits);
    assert_true(fabs(got - want) <= 0.01 * want);
    assert_true(st.write_waits > 0);
    g.stop = true;
    rig_fini(&g);
}

/* ------------------------------------------------------------ arbitration */

/* A controller-bound device: three saturating tenants share fetches equally
 * under round robin (what Linux enables), and by the weights (4:2:1) under
 * the WRR what-if. */
static void test_wrr_weights_share_fetches(void **state)
{
    (void)state;
    for (int wrr = 0; wrr < 2; wrr++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"queues\":3,\"what_if\":{\"wrr\":%s},\"controller\":{\"cmd_ns\":10000,"
                 "\"cores\":1},\"ftl\":{\"map_hit_ns\":0},\"flash\":{\"read_us\":1,"
                 "\"channel_mbps\":0},\"pcie\":{\"gbps\":0}}",
                 wrr ? "true" : "false");
        rig_t g;
        rig_init(&g, json, 3, 0);
        for (uint32_t i = 0; i < 3; i++)
            rig_tenant(&g, i, (ssd_prio_t)(SSD_PRIO_HIGH + i), 16, 0, 4096, 0, 0);
        rig_start(&g);
        sim_run(g.sim, SIM_MS(200));
        double tot = (double)(g.t[0].done + g.t[1].done + g.t[2].done);
        const double want[2][3] = {{1 / 3.0, 1 / 3.0, 1 / 3.0}, {4 / 7.0, 2 / 7.0, 1 / 7.0}};
        printf("%s shares: %.4f %.4f %.4f of %.0f commands (20000 fit in 200 ms)\n",
               wrr ? "WRR 4:2:1" : "RR", g.t[0].done / tot, g.t[1].done / tot,
               g.t[2].done / tot, tot);
        assert_true(fabs(tot - 20000) <= 2);
        for (int i = 0; i < 3; i++)
            assert_true(fabs(g.t[i].done / tot - want[wrr][i]) < 0.002);
        g.stop = true;
        rig_fini(&g);
    }
}

/* Round robin at fetch over two SQs: 8 commands on each, one core at 10 us
 * a command, flash 1 us, transfers free, so completions come in fetch
 * order. The first submission finds the core idle and is fetched before SQ 1
 * holds anything; from then on the SQs alternate until SQ 0 runs dry. */
static void test_rr_fetch_alternates(void **state)
{
    (void)state;
    rig_t g;
    rig_init(&g,
             "{\"queues\":2,\"controller\":{\"cmd_ns\":10000,\"cores\":1},"
             "\"ftl\":{\"map_hit_ns\":0},\"flash\":{\"read_us\":1,\"channel_mbps\":0},"
             "\"pcie\":{\"gbps\":0}}",
             2, 0);
    /* the classes differ, and without the WRR what-if they change nothing */
    rig_tenant(&g, 0, SSD_PRIO_LOW, 8, 0, 4096, 0, 0)->once = true;
    rig_tenant(&g, 1, SSD_PRIO_URGENT, 8, 0, 4096, 0, 0)->once = true;
    rig_start(&g);
    sim_run(g.sim, SIM_MS(1));
    const uint32_t want[16] = {0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1};
    assert_int_equal(g.norder, 16);
    for (unsigned i = 0; i < 16; i++)
        if (g.order[i] != want[i])
            fail_msg("completion %u came from SQ %u, want %u", i, g.order[i], want[i]);
    rig_fini(&g);
}

/* A QD1 reader on its own SQ beside a QD16 bulk stream, one die, 4 KiB
 * reads, tR 60 us. The die serves host commands FIFO, so the 17 commands
 * cycle through it in a fixed order: between two services of the reader
 * the die serves the 16 bulk commands, and the rest of each trip (fetch
 * 1600 ns, channel 5120 ns, PCIe 512 ns = 7232 ns) is shorter than one tR,
 * so the reader rejoins behind exactly those 16. Its latency is then exactly
 * 17 x tR = 1020000 ns, whatever its class, under round robin and under the
 * WRR what-if alike (WRR reorders fetch, not the die). Only the die-priority
 * what-if lets an urgent reader overtake at the die: it then waits at most
 * the read in service, <= 1600 + 2 x tR + 5632 ns. */
static void die_reader(const char *what_if, ssd_prio_t prio, uint64_t *lo, uint64_t *hi)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"queues\":2,\"what_if\":{%s},\"controller\":{\"cmd_ns\":1500},"
             "\"flash\":{\"channels\":1,\"dies_per_channel\":1},\"pcie\":{\"gbps\":8}}",
             what_if);
    rig_t g;
    rig_init(&g, json, 2, 0);
    tenant_t *reader = rig_tenant(&g, 0, prio, 1, 0, 4096, 0, 0);
    reader->skip = 50;
    rig_tenant(&g, 1, SSD_PRIO_LOW, 16, 0, 4096, 0, 0);
    rig_start(&g);
    run_until_done(&g, reader, 550);
    *lo = reader->lat_min;
    *hi = reader->lat_max;
    printf("reader %-14s what_if {%s}: latency %lu..%lu ns\n",
           prio == SSD_PRIO_URGENT ? "urgent" : "low", what_if, (unsigned long)*lo,
           (unsigned long)*hi);
    g.stop = true;
    rig_fini(&g);
}

static void test_die_fifo_whatever_class(void **state)
{
    (void)state;
    const uint64_t cycle = 17 * 60000;
    static const struct {
        const char *what_if;
        ssd_prio_t prio;
    } same[] = {
        {"", SSD_PRIO_URGENT},
        {"", SSD_PRIO_LOW},
        {"\"wrr\":true", SSD_PRIO_URGENT},
        {"\"coalescing_bypass\":true,\"deadline_classes\":true", SSD_PRIO_URGENT},
        {"\"die_priority\":true", SSD_PRIO_LOW},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        uint64_t lo, hi;
        die_reader(same[i].what_if, same[i].prio, &lo, &hi);
        assert_int_equal(lo, cycle);
        assert_int_equal(hi, cycle);
    }
    uint64_t lo, hi;
    die_reader("\"die_priority\":true", SSD_PRIO_URGENT, &lo, &hi);
    assert_true(hi <= 1600 + 2 * 60000 + 5120 + 512);
    assert_true(lo >= 1600 + 60000 + 5120 + 512);
}

/* ------------------------------------------------------------ GC, suspend */

static uint64_t gc_read_p99(bool gc, bool suspend, ssd_stats_t *st)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"queues\":1,\"capacity_gib\":0.0625,\"write_buffer_mib\":1,"
             "\"flash\":{\"channels\":1,\"dies_per_channel\":2,\"planes_per_die\":1,"
             "\"pages_per_block\":32},\"gc\":{\"enabled\":%s,\"valid_fraction\":0.5},"
             "\"suspend\":{\"enabled\":%s,\"overhead_us\":20},\"pcie\":{\"gbps\":8}}",
             gc ? "true" : "false", suspend ? "true" : "false");
    rig_t g;
    rig_init(&g, json, 1, 0);
    tenant_t *rd = rig_tenant(&g, 0, SSD_PRIO_MEDIUM, 0, 2000, 4096, 0, 0);
    rig_tenant(&g, 0, SSD_PRIO_MEDIUM, 0, 400, 16384, 1, 0);
    rig_start(&g);
    sim_run(g.sim, SIM_MS(3000));
    ssd_stats(g.ssd, st);
    uint64_t p = hist_quantile(&rd->lat[REQ_READ], 0.99);
    printf("reads under writes, gc %d suspend %d: p99 %lu ns over %lu reads; gc runs %lu, "
           "suspends %lu, die util %.2f\n",
           gc, suspend, (unsigned long)p, (unsigned long)rd->lat[REQ_READ].count,
           (unsigned long)st->gc_runs, (unsigned long)st->suspends, st->die_utilisation);
    g.stop = true;
    rig_fini(&g);
    return p;
}

static void test_gc_raises_p99_suspend_lowers_it(void **state)
{
    (void)state;
    ssd_stats_t st0, st1, st2;
    uint64_t nogc = gc_read_p99(false, false, &st0);
    uint64_t gc = gc_read_p99(true, false, &st1);
    uint64_t susp = gc_read_p99(true, true, &st2);
    assert_int_equal(st0.gc_runs, 0);
    /* ~600 pages written per die, GC from ~34 on, 16 pages net per victim */
    assert_true(st1.gc_runs > 50 && st2.suspends > 100);
    /* without suspend a read can wait out a 600 us program, with GC also a
     * 3.8 ms erase; with suspend only the overhead and another read or two */
    assert_true(nogc > 600000 / 2);
    assert_true(gc > 2 * nogc);
    const uint64_t bound = 1500 + 100 + 3 * 60000 + 20000 + 2 * 5120 + 512;
    assert_true(susp <= bound);
    assert_true(susp * 4 < gc);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_qd1_exact),
        cmocka_unit_test(test_md1_pollaczek_khinchine),
        cmocka_unit_test(test_mm1_pollaczek_khinchine),
        cmocka_unit_test(test_die_parallelism),
        cmocka_unit_test(test_write_rate_program_bound),
        cmocka_unit_test(test_wrr_weights_share_fetches),
        cmocka_unit_test(test_rr_fetch_alternates),
        cmocka_unit_test(test_die_fifo_whatever_class),
        cmocka_unit_test(test_gc_raises_p99_suspend_lowers_it),
        cmocka_unit_test(test_curve_closed_loop_iops),
        cmocka_unit_test(test_batch_timeline),
    };
    enum {
        NFIXED = sizeof(fixed) / sizeof(fixed[0]),
        NCASE = sizeof(config_errors) / sizeof(config_errors[0]),
    };
    struct CMUnitTest tests[NFIXED + NCASE];
    memcpy(tests, fixed, sizeof(fixed));
    TU_CASE_TESTS(tests + NFIXED, test_config_error, config_errors);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
