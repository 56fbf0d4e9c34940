/* test_workloads.c - the generators (agentic, retrieval, kvcache, checkpoint, bulk) on a fake
 * I/O path that completes each request a fixed (or drawn) delay after submission: dependency
 * structure (query latency = H x D, step stall = D or 0), request attributes, hit-ratio
 * counts against a binomial interval, closed-loop depth, sequential streams, common random
 * numbers across variants, seeds, parse errors with JSON paths, and one run of each through
 * the real simulated path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "run/runner.h"
#include "run/scenario.h"
#include "workload/workload.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NCPUS 4
#define LOGCAP (1u << 17)

typedef struct {
    uint64_t tag, offset, buf;
    sim_time_t issue, done;
    uint32_t bytes, flow;
    uint8_t op, cls, gates, recurring;
    int16_t gpu, cpu;
    float conf;
} rec_t;

typedef struct {
    sim_t *sim;
    sim_time_t delay, delay_max; /* delay_max > delay: uniform draw per request */
    gsl_rng *rng;
    bool sync;                   /* complete inside submit (a path that drops at once) */
    uint64_t n, inflight, max_inflight, hash;
    rec_t *log;
    /* the run's collector */
    hist_t stall, qlat;
    uint64_t steps;
    double busy;
} fake_t;

static void fake_complete(sim_t *sim, void *ctx, uint64_t arg)
{
    fake_t *f = ctx;
    req_t *r = (req_t *)(uintptr_t)arg;
    f->inflight--;
    r->t[T_READY] = sim_now(sim);
    if (r->cpu_ns && r->cpu_ns <= LOGCAP)
        f->log[r->cpu_ns - 1].done = sim_now(sim);
    r->done(sim, r);
}

static void mix(uint64_t *h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        *h ^= (v >> (8 * i)) & 0xff;
        *h *= 1099511628211ULL;
    }
}

static void fake_submit(void *path, req_t *r)
{
    fake_t *f = path;
    sim_time_t now = sim_now(f->sim);
    assert_int_equal(r->t[T_ISSUE], now);
    if (f->n < LOGCAP) {
        f->log[f->n] = (rec_t){r->tag, r->offset, r->buf, now, 0, r->bytes, r->flow, r->op,
                               r->cls, r->gates, r->recurring, r->gpu, r->consumer_cpu,
                               r->prefetch_conf};
        r->cpu_ns = f->n + 1; /* the fake path is the model: its scratch field */
    }
    uint64_t v[] = {r->offset, r->bytes, r->op, r->cls, r->gates, r->flow, r->tag, now};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        mix(&f->hash, v[i]);
    f->n++;
    f->inflight++;
    if (f->inflight > f->max_inflight)
        f->max_inflight = f->inflight;
    if (f->sync) {
        fake_complete(f->sim, f, (uint64_t)(uintptr_t)r);
        return;
    }
    sim_time_t d = f->delay;
    if (f->delay_max > f->delay)
        d += gsl_rng_uniform_int(f->rng, f->delay_max - f->delay + 1);
    sim_after(f->sim, d, fake_complete, f, (uint64_t)(uintptr_t)r);
}

/* Parse a workload entry as workload.0 of scenario.json; 0 or the error in err. */
static int parse(const char *json, const wl_ops_t **ops, void **params, char *err, size_t n)
{
    json_error_t je;
    json_t *e = json_loads(json, 0, &je);
    if (!e)
        fail_msg("bad test JSON %s: %s", json, je.text);
    cfg_t c;
    cfg_init(&c, "scenario.json");
    size_t m = cfg_push(&c, "workload");
    cfg_push_idx(&c, 0);
    int type = -1;
    int rc = cfg_enum(&c, e, "type", &type, -1, wl_names()) && type >= 0 ? 0 : -22;
    if (rc == 0) {
        *ops = wl_find(wl_names()[type]);
        rc = (*ops)->parse(&c, e, params);
        if (rc == 0 && !cfg_done(&c, e)) {
            (*ops)->params_free(*params);
            rc = -22;
        }
    }
    if (rc < 0)
        snprintf(err, n, "%s", c.err);
    cfg_pop(&c, m);
    json_decref(e);
    return rc;
}

typedef struct {
    sim_time_t end, warm;
    uint64_t seed;
} runopt_t;

/* Run one entry to o->end on f's fake path, then drain; f gets the log. */
static void run(const char *json, const runopt_t *o, fake_t *f)
{
    char err[700];
    const wl_ops_t *ops = NULL;
    void *params = NULL, *inst = NULL;
    if (parse(json, &ops, &params, err, sizeof(err)) != 0)
        fail_msg("parse failed: %s", err);
    f->sim = sim_new();
    if (!f->log)
        f->log = calloc(LOGCAP, sizeof(*f->log));
    f->rng = gsl_rng_alloc(gsl_rng_mt19937);
    hist_init(&f->stall);
    hist_init(&f->qlat);
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = f->sim, .pool = pool, .seed = o->seed ? o->seed : 1, .ncpus = NCPUS,
                    .end = o->end, .submit = fake_submit, .path = f, .warm = o->warm,
                    .step_stall = &f->stall, .query_lat = &f->qlat, .steps = &f->steps,
                    .gpu_busy_ns = &f->busy};
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(f->sim, o->end + SIM_MS(10));
    assert_int_equal(req_pool_live(pool), 0);
    assert_int_equal(f->inflight, 0);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    gsl_rng_free(f->rng);
    sim_free(f->sim);
}

static void fake_fini(fake_t *f) { free(f->log); }

static size_t nlogged(const fake_t *f) { return f->n < LOGCAP ? f->n : LOGCAP; }

/* --- retrieval --- */

static void test_retrieval_exact(void **state)
{
    (void)state;
    fake_t f = {.delay = 1000};
    runopt_t o = {.end = SIM_MS(20)};
    run("{\"type\":\"retrieval\",\"hops\":5,\"beam_width\":3,\"rate_qps\":20000}", &o, &f);
    /* every query: 5 rounds of exactly D each */
    assert_true(f.qlat.count > 300);
    assert_int_equal(f.qlat.min, 5 * 1000);
    assert_int_equal(f.qlat.max, 5 * 1000);
    assert_int_equal(f.n, f.qlat.count * 5 * 3);
    for (size_t i = 0; i < nlogged(&f); i++) {
        assert_int_equal(f.log[i].bytes, 4096);
        assert_int_equal(f.log[i].offset % 4096, 0);
        assert_int_equal(f.log[i].gates, 1);
        assert_int_equal(f.log[i].cls, 1); /* hot-metadata */
        assert_int_equal(f.log[i].cpu, (int)(f.log[i].tag % NCPUS));
    }
    fake_fini(&f);
}

static int by_tag_issue(const void *a, const void *b)
{
    const rec_t *x = a, *y = b;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->issue < y->issue ? -1 : x->issue > y->issue;
}

/* Random per-read delays: round k+1 is issued exactly when the slowest
 * read of round k completes, and the query latency is the sum of the
 * rounds' maxima (>= H x the fastest read). */
static void test_retrieval_dependent_rounds(void **state)
{
    (void)state;
    const uint32_t H = 4, W = 5;
    fake_t f = {.delay = 500, .delay_max = 5000};
    runopt_t o = {.end = SIM_MS(10), .warm = 0};
    run("{\"type\":\"retrieval\",\"hops\":4,\"beam_width\":5,\"rate_qps\":50000,"
        "\"gates\":\"last\",\"consumer_cpu\":3}", &o, &f);
    size_t n = nlogged(&f);
    assert_true(n < LOGCAP);
    rec_t *v = malloc(n * sizeof(*v));
    memcpy(v, f.log, n * sizeof(*v));
    qsort(v, n, sizeof(*v), by_tag_issue);
    assert_int_equal(n % (H * W), 0);
    double sum = 0;
    size_t queries = n / (H * W);
    for (size_t q = 0; q < queries; q++) {
        rec_t *x = v + q * H * W;
        sim_time_t ready = x[0].issue;
        for (uint32_t h = 0; h < H; h++) {
            sim_time_t last = 0;
            for (uint32_t i = 0; i < W; i++) {
                rec_t *r = &x[h * W + i];
                assert_int_equal(r->tag, x[0].tag);
                assert_int_equal(r->issue, ready);
                assert_int_equal(r->gates, h + 1 == H);
                assert_int_equal(r->cpu, 3);
                if (r->done > last)
                    last = r->done;
            }
            ready = last;
        }
        assert_true(ready - x[0].issue >= H * 500);
        sum += (double)(ready - x[0].issue);
    }
    assert_int_equal(f.qlat.count, queries);
    assert_true(f.qlat.min >= H * 500);
    assert_true(fabs(hist_mean(&f.qlat) - sum / (double)queries) < 1e-6 * sum / (double)queries);
    free(v);
    fake_fini(&f);
}

/* --- agentic --- */

#define AG_FIXED "{\"type\":\"agentic\",\"agents\":4,\"think_dist\":\"fixed\",\"think_mean_us\":10"

static void test_agentic_instant_storage(void **state)
{
    (void)state;
    fake_t f = {.delay = 0};
    runopt_t o = {.end = SIM_MS(5)};
    run(AG_FIXED "}", &o, &f);
    assert_true(f.steps > 1500); /* 4 agents x ~500 steps of 10 us */
    assert_int_equal(f.stall.count, f.steps);
    assert_int_equal(f.stall.max, 0);
    /* the GPU share of every agent is always busy */
    assert_true(fabs(f.busy / (double)o.end - 1.0) < 0.01);
    fake_fini(&f);

    /* a path that completes inside submit: the step still waits for all its reads */
    fake_t g = {.sync = true};
    run(AG_FIXED "}", &o, &g);
    assert_int_equal(g.stall.max, 0);
    assert_true(g.steps >= 1996 && g.steps <= 2000);
    fake_fini(&g);
}

static void test_agentic_stall_is_delay(void **state)
{
    (void)state;
    fake_t f = {.delay = 1000};
    runopt_t o = {.end = SIM_MS(5)};
    run(AG_FIXED "}", &o, &f);
    assert_true(f.stall.count > 1500);
    assert_int_equal(f.stall.min, 1000);
    assert_int_equal(f.stall.max, 1000);
    /* steps of 10 us think + 1 us stall: each GPU share is busy 10/11 */
    assert_true(fabs(f.busy / (double)o.end - 10.0 / 11.0) < 0.01);
    /* every step: 2 metadata + 4 chunk reads gate, 2 prefetches do not */
    uint64_t gating = 0;
    for (size_t i = 0; i < nlogged(&f); i++)
        gating += f.log[i].gates;
    assert_int_equal(gating * 8, nlogged(&f) * 6);
    fake_fini(&f);

    /* no gating reads: nothing to wait for */
    fake_t g = {.delay = 1000};
    run(AG_FIXED ",\"metadata_reads\":0,\"chunk_reads\":0}", &o, &g);
    assert_true(g.stall.count > 1500);
    assert_int_equal(g.stall.max, 0);
    fake_fini(&g);

    /* warm-up: only steps starting after it count */
    fake_t h = {.delay = 1000};
    runopt_t ow = {.end = SIM_MS(5), .warm = SIM_MS(2.5)};
    run(AG_FIXED "}", &ow, &h);
    assert_true(fabs((double)h.steps - (double)f.steps / 2) <= 8);
    assert_true(fabs(h.busy / (double)(ow.end - ow.warm) - 10.0 / 11.0) < 0.01);
    fake_fini(&h);
}

static void test_agentic_attributes(void **state)
{
    (void)state;
    fake_t f = {.delay = 3000};
    runopt_t o = {.end = SIM_MS(2)};
    run("{\"type\":\"agentic\",\"agents\":3,\"consumer_cpus\":[2],\"gpu\":1,\"think_mean_us\":100,"
        "\"prefetch_confidence_min\":0.3,\"prefetch_confidence_max\":0.4,"
        "\"metadata_reads\":1,\"chunk_reads\":2,\"prefetch_reads\":3,\"budget_us\":50}",
        &o, &f);
    uint64_t bufs[64];
    size_t nbuf = 0;
    for (size_t i = 0; i < nlogged(&f); i++) {
        const rec_t *r = &f.log[i];
        assert_int_equal(r->cpu, 2);
        assert_true((r->flow & 0xffff) < 3);
        assert_int_equal(r->recurring, 1);
        assert_int_equal(r->tag < 1 ? 1 : r->tag < 3 ? 0 : 2, r->cls); /* meta, chunk, prefetch */
        assert_int_equal(r->gates, r->tag < 3);
        assert_int_equal(r->gpu, r->cls == 0 ? 1 : -1);
        assert_int_equal(r->bytes, r->tag < 1 ? 4096 : r->tag < 3 ? 16384 : 65536);
        assert_int_equal(r->offset % r->bytes, 0);
        if (r->cls == 2)
            assert_true(r->conf >= 0.3f && r->conf <= 0.4f);
        size_t k = 0;
        while (k < nbuf && bufs[k] != r->buf)
            k++;
        if (k == nbuf && nbuf < 64)
            bufs[nbuf++] = r->buf;
        assert_true(r->buf != 0);
    }
    assert_int_equal(nbuf, 3 * 6); /* one region per agent and read slot */
    fake_fini(&f);

    /* default placement: agent i on CPU i % ncpus; recurring off: private buffers */
    fake_t g = {.delay = 3000};
    run("{\"type\":\"agentic\",\"agents\":6,\"recurring\":false}", &o, &g);
    for (size_t i = 0; i < nlogged(&g); i++) {
        assert_int_equal(g.log[i].cpu, (int)((g.log[i].flow & 0xffff) % NCPUS));
        assert_int_equal(g.log[i].buf, 0);
        assert_int_equal(g.log[i].recurring, 0);
    }
    fake_fini(&g);
}

/* --- kvcache --- */

static void test_kvcache_hits(void **state)
{
    (void)state;
    fake_t f = {.delay = 2000};
    runopt_t o = {.end = SIM_MS(50)};
    run("{\"type\":\"kvcache\",\"rate_rps\":20000,\"blocks\":16,\"hit_ratio\":0.3,"
        "\"block_bytes\":65536,\"gpu\":2}", &o, &f);
    uint64_t requests = 0;
    for (size_t i = 0; i < nlogged(&f); i++) {
        const rec_t *r = &f.log[i];
        if (r->tag + 1 > requests)
            requests = r->tag + 1;
        assert_int_equal(r->gpu, 2);
        assert_int_equal(r->gates, 1);
        assert_int_equal(r->cls, 0);
        assert_int_equal(r->recurring, 1);
        assert_int_equal(r->bytes, 65536);
        assert_int_equal(r->offset % 65536, 0);
        /* block j of any prefix uses buffer region j */
        uint64_t j = r->offset / 65536 % 16;
        assert_int_equal(r->buf & 0xffffff, j + 1);
        assert_int_equal(r->cpu, (int)(r->tag % NCPUS));
    }
    assert_true(f.n < LOGCAP);
    assert_true(requests > 900 && requests < 1100);
    /* misses ~ Binomial(16 requests, 0.7): within 4 standard deviations */
    double trials = 16.0 * (double)requests, mean = 0.7 * trials, sd = sqrt(trials * 0.7 * 0.3);
    assert_true(fabs((double)f.n - mean) < 4 * sd);
    fake_fini(&f);

    fake_t all = {.delay = 2000}, none = {.delay = 2000};
    run("{\"type\":\"kvcache\",\"rate_rps\":20000,\"hit_ratio\":0}", &o, &all);
    run("{\"type\":\"kvcache\",\"rate_rps\":20000,\"hit_ratio\":1}", &o, &none);
    assert_int_equal(all.n, 16 * (all.log[nlogged(&all) - 1].tag + 1));
    assert_int_equal(none.n, 0);
    fake_fini(&all);
    fake_fini(&none);
}

/* --- closed loops --- */

static fake_t *g_probe;
static uint64_t g_probe_bad;

static void probe(sim_t *sim, void *ctx, uint64_t expect)
{
    (void)sim;
    (void)ctx;
    if (g_probe->inflight != expect)
        g_probe_bad++;
}

static void test_bulk_depth(void **state)
{
    (void)state;
    fake_t f = {.delay = 1000};
    runopt_t o = {.end = SIM_MS(1)};
    run("{\"type\":\"bulk\",\"queue_depth\":8,\"read_fraction\":0.25}", &o, &f);
    assert_int_equal(f.max_inflight, 8);
    assert_int_equal(f.n, 8 * 1000); /* a round every D in [0, 1 ms) */
    uint64_t reads = 0;
    for (size_t i = 0; i < nlogged(&f); i++) {
        reads += f.log[i].op == 0;
        assert_int_equal(f.log[i].cls, 3);
        assert_int_equal(f.log[i].bytes, 131072);
        assert_int_equal(f.log[i].offset % 131072, 0);
        assert_true(f.log[i].offset < (16ULL << 30));
    }
    double sd = sqrt(8000 * 0.25 * 0.75);
    assert_true(fabs((double)reads - 2000) < 4 * sd);
    fake_fini(&f);

    /* a tenant that arrives at 0.2 ms and leaves at 0.5 ms: exactly qd in
     * flight in between, none before or after */
    fake_t g = {.delay = 1000};
    g_probe = &g;
    g_probe_bad = 0;
    const char *json = "{\"type\":\"bulk\",\"queue_depth\":5,\"start_ms\":0.2,\"stop_ms\":0.5}";
    char err[700];
    const wl_ops_t *ops;
    void *params, *inst;
    assert_int_equal(parse(json, &ops, &params, err, sizeof(err)), 0);
    g.sim = sim_new();
    g.log = calloc(LOGCAP, sizeof(*g.log));
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = g.sim, .pool = pool, .seed = 1, .ncpus = NCPUS, .end = SIM_MS(1),
                    .submit = fake_submit, .path = &g};
    for (sim_time_t t = 500; t < SIM_MS(1); t += 1000)
        sim_at(g.sim, t, probe, NULL, t > SIM_MS(0.2) && t < SIM_MS(0.5) ? 5 : 0);
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(g.sim, SIM_MS(2));
    assert_int_equal(g_probe_bad, 0);
    assert_int_equal(g.n, 5 * 300);
    assert_int_equal(g.log[0].issue, SIM_MS(0.2));
    assert_int_equal(req_pool_live(pool), 0);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(g.sim);
    fake_fini(&g);

    /* a path that hands every request straight back: replaced after 1 us, no spin */
    fake_t h = {.sync = true};
    runopt_t o2 = {.end = SIM_US(100)};
    run("{\"type\":\"bulk\",\"queue_depth\":4}", &o2, &h);
    assert_int_equal(h.n, 100);
    fake_fini(&h);
}

static void test_checkpoint_sequential(void **state)
{
    (void)state;
    fake_t f = {.delay = 5000};
    runopt_t o = {.end = SIM_MS(10)};
    /* 10.5 MiB file, 2 passes: 11 I/Os per pass, the last one half size */
    run("{\"type\":\"checkpoint\",\"queue_depth\":4,\"file_bytes\":11010048,"
        "\"offset_bytes\":1073741824,\"passes\":2,\"mode\":\"write\"}", &o, &f);
    assert_int_equal(f.n, 22);
    assert_int_equal(f.max_inflight, 4);
    for (size_t k = 0; k < 22; k++) {
        assert_int_equal(f.log[k].tag, k);
        assert_int_equal(f.log[k].offset, (1ULL << 30) + (k % 11) * (1ULL << 20));
        assert_int_equal(f.log[k].bytes, k % 11 == 10 ? 1u << 19 : 1u << 20);
        assert_int_equal(f.log[k].op, 1);
        assert_int_equal(f.log[k].cls, 3);
        assert_int_equal(f.log[k].gpu, -1);
        /* closed loop at depth 4: I/O k waits for I/O k-4 */
        assert_int_equal(f.log[k].issue, (k / 4) * 5000);
    }
    fake_fini(&f);

    /* until the run ends, wrapping: model load to GPU 0 */
    fake_t g = {.delay = 10000};
    run("{\"type\":\"checkpoint\",\"file_bytes\":67108864,\"gpu\":0}", &o, &g);
    assert_int_equal(g.n, 32 * 1000);
    assert_int_equal(g.max_inflight, 32);
    for (size_t k = 0; k < nlogged(&g); k++) {
        assert_int_equal(g.log[k].offset, (k % 64) << 20);
        assert_int_equal(g.log[k].op, 0);
        assert_int_equal(g.log[k].gpu, 0);
    }
    fake_fini(&g);
}

/* --- seeds and common random numbers --- */

static const char *const seeded[] = {
    "{\"type\":\"agentic\"}",
    "{\"type\":\"retrieval\"}",
    "{\"type\":\"kvcache\",\"rate_rps\":5000}",
    "{\"type\":\"bulk\"}",
};

static void test_seeds(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(seeded) / sizeof(seeded[0]); i++) {
        uint64_t h[3];
        uint64_t seeds[3] = {1, 1, 2};
        for (int k = 0; k < 3; k++) {
            fake_t f = {.delay = 2000, .hash = 1469598103934665603ULL};
            runopt_t o = {.end = SIM_MS(10), .seed = seeds[k]};
            run(seeded[i], &o, &f);
            assert_true(f.n > 100);
            h[k] = f.hash;
            fake_fini(&f);
        }
        if (h[0] != h[1])
            fail_msg("%s: same seed, different stream", seeded[i]);
        if (h[0] == h[2])
            fail_msg("%s: different seed, same stream", seeded[i]);
    }
}

/* The request stream (what is read) does not depend on the storage timing:
 * per agent / query / issue position, a slow path sees a prefix of what a
 * fast path sees. */
static void crn_check(const char *json, bool by_flow)
{
    fake_t fast = {.delay = 1000}, slow = {.delay = 7000};
    runopt_t o = {.end = SIM_MS(3)};
    run(json, &o, &fast);
    run(json, &o, &slow);
    size_t nf = nlogged(&fast), ns = nlogged(&slow);
    assert_true(ns > 50 && ns <= nf);
    size_t matched = 0;
    for (size_t i = 0; i < ns; i++) {
        /* the i-th request of this flow (or query tag) in the slow run ... */
        const rec_t *s = &slow.log[i];
        size_t rank = 0;
        for (size_t k = 0; k < i; k++)
            rank += by_flow ? slow.log[k].flow == s->flow : slow.log[k].tag == s->tag;
        /* ... is the i-th of the same flow in the fast run */
        for (size_t k = 0; k < nf; k++) {
            const rec_t *x = &fast.log[k];
            if (by_flow ? x->flow != s->flow : x->tag != s->tag)
                continue;
            if (rank-- == 0) {
                assert_int_equal(x->offset, s->offset);
                assert_int_equal(x->bytes, s->bytes);
                assert_int_equal(x->op, s->op);
                matched++;
                break;
            }
        }
    }
    assert_int_equal(matched, ns);
    fake_fini(&fast);
    fake_fini(&slow);
}

static void test_common_random_numbers(void **state)
{
    (void)state;
    crn_check("{\"type\":\"agentic\",\"agents\":3,\"think_mean_us\":20}", true);
    crn_check("{\"type\":\"retrieval\",\"rate_qps\":20000,\"hops\":3}", false);
    crn_check("{\"type\":\"bulk\",\"queue_depth\":2}", true);
}

/* --- parse errors --- */

typedef struct {
    const char *json, *want;
} parse_case_t;

static const parse_case_t parse_errors[] = {
    {"{\"type\":\"agentic\",\"agents\":0}", "scenario.json: workload.0.agents: expected"},
    {"{\"type\":\"agentic\",\"think_dist\":\"weibull\"}", "workload.0.think_dist: expected one of"},
    {"{\"type\":\"agentic\",\"consumer_cpus\":[0,\"x\"]}", "workload.0.consumer_cpus.1: expected"},
    {"{\"type\":\"agentic\",\"consumer_cpus\":3}", "workload.0.consumer_cpus: expected an array"},
    {"{\"type\":\"agentic\",\"prefetch_confidence_min\":0.8,\"prefetch_confidence_max\":0.5}",
     "workload.0.prefetch_confidence_max: expected at least"},
    {"{\"type\":\"agentic\",\"thinking\":1}", "workload.0.thinking: unknown key"},
    {"{\"type\":\"retrieval\",\"gates\":\"some\"}", "workload.0.gates: expected one of"},
    {"{\"type\":\"retrieval\",\"beam_width\":0}", "workload.0.beam_width: expected"},
    {"{\"type\":\"retrieval\",\"hops\":1000,\"beam_width\":1000}", "workload.0.beam_width: hops x"},
    {"{\"type\":\"kvcache\",\"hit_ratio\":1.5}", "workload.0.hit_ratio: expected a number in [0, 1]"},
    {"{\"type\":\"kvcache\",\"gpu\":-2}", "workload.0.gpu: expected an integer"},
    {"{\"type\":\"kvcache\",\"prefixes\":1073741824}", "workload.0.prefixes: prefixes x blocks"},
    {"{\"type\":\"checkpoint\",\"mode\":\"append\"}", "workload.0.mode: expected one of \"read\", \"write\""},
    {"{\"type\":\"checkpoint\",\"bytes\":\"1M\"}", "workload.0.bytes: expected an integer"},
    {"{\"type\":\"bulk\",\"start_ms\":5,\"stop_ms\":5}", "workload.0.stop_ms: expected a time after"},
    {"{\"type\":\"bulk\",\"queue_depth\":0}", "workload.0.queue_depth: expected"},
};

/* One case of parse_errors[] (the test's state): refused, naming the path. */
static void test_parse_error(void **state)
{
    const parse_case_t *c = *state;
    char err[700] = "";
    const wl_ops_t *ops;
    void *params = NULL;
    if (parse(c->json, &ops, &params, err, sizeof(err)) == 0)
        fail_msg("%s: parsed", c->json);
    if (!strstr(err, c->want))
        fail_msg("%s: got \"%s\", want \"%s\"", c->json, err, c->want);
}

/* Every documented key parses. */
static void test_parse_all_keys(void **state)
{
    (void)state;
    const char *full[] = {
        "{\"type\":\"agentic\",\"agents\":2,\"consumer_cpus\":[1,0],\"think_dist\":\"exponential\","
        "\"think_mean_us\":100,\"think_cv\":1,\"stagger\":false,\"metadata_reads\":1,"
        "\"metadata_bytes\":512,\"chunk_reads\":1,\"chunk_bytes\":8192,\"prefetch_reads\":0,"
        "\"prefetch_bytes\":4096,\"prefetch_confidence_min\":0,\"prefetch_confidence_max\":1,"
        "\"gpu\":0,\"recurring\":true,\"budget_us\":10,\"span_bytes\":1048576,\"start_ms\":1,"
        "\"stop_ms\":2}",
        "{\"type\":\"retrieval\",\"rate_qps\":10,\"hops\":2,\"beam_width\":2,\"bytes\":8192,"
        "\"span_bytes\":1048576,\"class\":\"step-critical\",\"gates\":\"none\",\"budget_us\":5,"
        "\"consumer_cpu\":1,\"start_ms\":0,\"stop_ms\":3}",
        "{\"type\":\"kvcache\",\"rate_rps\":10,\"blocks\":2,\"block_bytes\":4096,\"hit_ratio\":0.1,"
        "\"prefixes\":3,\"gpu\":-1,\"class\":\"prefetch\",\"recurring\":false,\"budget_us\":0,"
        "\"consumer_cpu\":0,\"start_ms\":0,\"stop_ms\":3}",
        "{\"type\":\"checkpoint\",\"mode\":\"read\",\"bytes\":4096,\"queue_depth\":2,"
        "\"file_bytes\":8192,\"offset_bytes\":0,\"passes\":1,\"class\":\"bulk\","
        "\"consumer_cpu\":1,\"gpu\":0,\"start_ms\":0,\"stop_ms\":3}",
        "{\"type\":\"bulk\",\"queue_depth\":2,\"bytes\":4096,\"read_fraction\":1,"
        "\"span_bytes\":8192,\"sequential\":true,\"class\":\"bulk\",\"consumer_cpu\":1,"
        "\"start_ms\":0,\"stop_ms\":3}",
    };
    for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
        char err[700] = "";
        const wl_ops_t *ops;
        void *params = NULL;
        if (parse(full[i], &ops, &params, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        ops->params_free(params);
    }
}

/* --- poisson --- */

/* A span past the generator's 32 bits of blocks (16 TiB at 4 KiB): the
 * offsets stay aligned and below it and reach its upper part, and
 * `latsurf run` on it exits 0 (GSL used to abort). */
static void test_poisson_huge_span(void **state)
{
    (void)state;
    const uint64_t span = 64ull << 40;
    fake_t f = {.delay = SIM_US(10)};
    runopt_t o = {.end = SIM_MS(10)};
    run("{\"type\":\"poisson\",\"rate_iops\":200000,\"span_bytes\":70368744177664}", &o, &f);
    assert_true(nlogged(&f) > 1000);
    uint64_t high = 0;
    for (size_t i = 0; i < nlogged(&f); i++) {
        assert_true(f.log[i].offset < span);
        assert_int_equal(f.log[i].offset % 4096, 0);
        high += f.log[i].offset >= span / 2;
    }
    assert_true(high > nlogged(&f) / 4);
    fake_fini(&f);

    char dir[] = "/tmp/latsurf-wl-XXXXXX", out[4096];
    assert_non_null(mkdtemp(dir));
    tu_write(dir, "huge.json",
             "{\"name\":\"huge\",\"host\":{\"cpus\":2},\"workload\":[{\"type\":\"poisson\","
             "\"rate_iops\":10000,\"span_bytes\":70368744177664}],"
             "\"run\":{\"duration_ms\":5,\"warmup_ms\":1,\"replications\":1}}");
    int rc = tu_cli(dir, "run huge.json --db huge.sqlite -q", out, sizeof(out));
    if (rc != 0)
        fail_msg("latsurf run, span_bytes 64 TiB: exit %d: %s", rc, out);
    assert_int_equal(tu_systemf("rm -rf %s", dir), 0);
}

/* --- through the real simulated path --- */

static double metric(const result_t *r, const char *name)
{
    double v;
    if (result_get(r, name, &v) != 0)
        fail_msg("no metric %s", name);
    return v;
}

static const hist_t *hist(const result_t *r, const char *name)
{
    for (size_t i = 0; i < r->nhist; i++)
        if (strcmp(r->hist[i].metric, name) == 0)
            return r->hist[i].hist;
    fail_msg("no histogram %s", name);
    return NULL;
}

static void real_run(const char *workloads, result_t *out)
{
    char path[] = "/tmp/latsurf-wl-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "{\"name\":\"wl\",\"host\":{\"cpus\":4,\"numa_nodes\":1},"
               "\"workload\":[%s],\"run\":{\"duration_ms\":20,\"warmup_ms\":2,"
               "\"replications\":1,\"seed\":3}}", workloads);
    fclose(f);
    scn_t *s = NULL;
    char err[1024];
    if (scn_load(path, NULL, 0, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    result_init(out);
    int rc = runner_run(s, 0, 0, NULL, out, err, sizeof(err));
    if (rc)
        fail_msg("runner_run: %d %s", rc, err);
    scn_free(s);
    unlink(path);
}

static void test_real_path(void **state)
{
    (void)state;
    result_t r;
    /* retrieval alone: a query is at least H of the fastest reads */
    real_run("{\"type\":\"retrieval\",\"rate_qps\":2000,\"hops\":6}", &r);
    const hist_t *q = hist(&r, "query_latency"), *lat = hist(&r, "lat");
    assert_true(q->count > 20);
    assert_true(q->min >= 6 * lat->min);
    result_fini(&r);

    /* agentic: storage is not instant, so steps stall and the GPU idles a little */
    real_run("{\"type\":\"agentic\",\"agents\":4,\"think_mean_us\":200}", &r);
    assert_true(metric(&r, "step_stall_p50_ns") > 0);
    double idle = metric(&r, "gpu_idle_fraction");
    assert_true(idle > 0 && idle < 1);
    result_fini(&r);

    /* all five together */
    real_run("{\"type\":\"agentic\",\"agents\":2,\"gpu\":0},"
             "{\"type\":\"retrieval\",\"rate_qps\":1000},"
             "{\"type\":\"kvcache\",\"rate_rps\":500},"
             "{\"type\":\"checkpoint\",\"queue_depth\":4},"
             "{\"type\":\"bulk\",\"queue_depth\":4,\"start_ms\":5,\"stop_ms\":15}", &r);
    assert_true(metric(&r, "step_stall_p99_ns") > 0);
    assert_true(metric(&r, "query_latency_p99_ns") > 0);
    assert_true(metric(&r, "iops") > 0);
    result_fini(&r);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_retrieval_exact),
        cmocka_unit_test(test_retrieval_dependent_rounds),
        cmocka_unit_test(test_agentic_instant_storage),
        cmocka_unit_test(test_agentic_stall_is_delay),
        cmocka_unit_test(test_agentic_attributes),
        cmocka_unit_test(test_kvcache_hits),
        cmocka_unit_test(test_bulk_depth),
        cmocka_unit_test(test_checkpoint_sequential),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_common_random_numbers),
        cmocka_unit_test(test_parse_all_keys),
        cmocka_unit_test(test_poisson_huge_span),
        cmocka_unit_test(test_real_path),
    };
    enum {
        NFIXED = sizeof(fixed) / sizeof(fixed[0]),
        NCASE = sizeof(parse_errors) / sizeof(parse_errors[0]),
    };
    struct CMUnitTest tests[NFIXED + NCASE];
    memcpy(tests, fixed, sizeof(fixed));
    TU_CASE_TESTS(tests + NFIXED, test_parse_error, parse_errors);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
