/*
 * kvcache.c - prefix KV-cache loads: requests arrive as a Poisson process;
 * each needs the KV blocks of one prompt prefix on a GPU. A block is
 * already in GPU memory with probability hit_ratio (no I/O); a missing one
 * is read from the SSD and copied to the GPU (the continuation), as
 * step-critical, gating work into recurring (pre-registrable) staging
 * buffers - buffer region j is reused by block j of every request.
 *
 * Scenario keys (workload entry, docs/workloads.md):
 *   rate_rps      request arrivals per second                  (200)
 *   blocks        KV blocks per prefix (B)                     (16)
 *   block_bytes   one block                                    (131072)
 *   hit_ratio     probability a block is already on the GPU    (0.5)
 *   prefixes      distinct prefixes stored on the SSD          (4096)
 *   gpu           GPU the blocks go to                         (0)
 *   class         pol_class name                               ("step-critical")
 *   recurring     blocks use recurring buffer regions          (true)
 *   budget_us     latency budget per read, 0 = none            (0)
 *   consumer_cpu  CPU of the loader, -1 = request k on k % ncpus (-1)
 *   start_ms, stop_ms  arrival window                          (whole run)
 *
 * Prefix p's block j is at offset (p * B + j) * block_bytes. Each arrival
 * draws its prefix and then one hit/miss per block, B + 1 draws whatever
 * the outcome, so variants see the same misses (common random numbers).
 * req->tag is the request's number (0-based).
 */
#include "gen.h"

#include "policies/policy.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <stdlib.h>

typedef struct {
    double rate, hit_ratio, budget_us, start_ms, stop_ms;
    uint32_t blocks, block_bytes, prefixes;
    int64_t gpu, consumer_cpu;
    bool recurring;
    int cls;
} kv_params_t;

typedef struct {
    kv_params_t p;
    wl_env_t env;
    gsl_rng *arrivals, *blocks;
    sim_time_t stop;
    uint64_t seq;
} kvcache_t;

static int kv_parse(cfg_t *c, json_t *e, void **out)
{
    kv_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_f64(c, e, "rate_rps", &p->rate, 200, 1e-3, 1e9);
    cfg_u32(c, e, "blocks", &p->blocks, 16, 1, 65536);
    cfg_u32(c, e, "block_bytes", &p->block_bytes, 131072, 512, 1u << 30);
    cfg_f64(c, e, "hit_ratio", &p->hit_ratio, 0.5, 0.0, 1.0);
    cfg_u32(c, e, "prefixes", &p->prefixes, 4096, 1, 1u << 30);
    cfg_i64(c, e, "gpu", &p->gpu, 0, -1, 255);
    cfg_enum(c, e, "class", &p->cls, POL_CLASS_STEP_CRITICAL, pol_class_names);
    cfg_bool(c, e, "recurring", &p->recurring, true);
    cfg_f64(c, e, "budget_us", &p->budget_us, 0, 0, 1e9);
    cfg_i64(c, e, "consumer_cpu", &p->consumer_cpu, -1, -1, 4095);
    gen_window_parse(c, e, &p->start_ms, &p->stop_ms);
    if (cfg_ok(c) && (double)p->prefixes * p->blocks * p->block_bytes > 0x1p50) {
        size_t m = cfg_push(c, "prefixes");
        cfg_fail(c, "prefixes x blocks x block_bytes is at most 2^50 bytes, got %u x %u x %u",
                 p->prefixes, p->blocks, p->block_bytes);
        cfg_pop(c, m);
    }
    if (!cfg_ok(c)) {
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static void kv_done(sim_t *sim, req_t *r)
{
    (void)sim;
    kvcache_t *w = r->owner;
    req_release(w->env.pool, r);
}

static void kv_arrive(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    kvcache_t *w = ctx;
    sim_time_t now = sim_now(sim);
    sim_time_t next = now + (sim_time_t)(gsl_ran_exponential(w->arrivals, 1e9 / w->p.rate) + 0.5);
    if (next < w->env.end && next < w->stop)
        sim_at(sim, next, kv_arrive, w, 0);
    uint64_t k = w->seq++;
    uint64_t prefix = gsl_rng_uniform_int(w->blocks, w->p.prefixes);
    int16_t cpu = gen_cpu(w->p.consumer_cpu, k, w->env.ncpus);
    for (uint32_t j = 0; j < w->p.blocks; j++) {
        if (gsl_rng_uniform(w->blocks) < w->p.hit_ratio)
            continue;
        req_t *r = wl_req_alloc(&w->env);
        if (!r)
            continue;
        r->offset = (prefix * w->p.blocks + j) * w->p.block_bytes;
        r->bytes = w->p.block_bytes;
        r->op = REQ_READ;
        r->cls = (uint8_t)w->p.cls;
        r->gates = 1;
        r->gpu = (int16_t)w->p.gpu;
        r->recurring = w->p.recurring;
        r->buf = w->p.recurring ? gen_buf(&w->env, 0, j) : 0;
        r->budget_ns = w->p.budget_us * 1e3;
        r->flow = w->env.index;
        r->consumer_cpu = cpu;
        r->t[T_ISSUE] = now;
        r->done = kv_done;
        r->owner = w;
        r->tag = k;
        w->env.submit(w->env.path, r);
    }
}

static void kv_free(void *inst)
{
    kvcache_t *w = inst;
    if (!w)
        return;
    gsl_rng_free(w->arrivals);
    gsl_rng_free(w->blocks);
    free(w);
}

static int kv_start(const void *params, const wl_env_t *env, void **inst)
{
    kvcache_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const kv_params_t *)params;
    w->env = *env;
    w->stop = SIM_MS(w->p.stop_ms);
    w->arrivals = wl_rng(env, "kvcache", "arrivals");
    w->blocks = wl_rng(env, "kvcache", "blocks");
    if (!w->arrivals || !w->blocks) {
        kv_free(w);
        return -ENOMEM;
    }
    sim_time_t t0 = SIM_MS(w->p.start_ms) +
                    (sim_time_t)(gsl_ran_exponential(w->arrivals, 1e9 / w->p.rate) + 0.5);
    if (t0 < env->end && t0 < w->stop)
        sim_at(env->sim, t0, kv_arrive, w, 0);
    *inst = w;
    return 0;
}

const wl_ops_t wl_kvcache_ops = {
    .name = "kvcache",
    .parse = kv_parse,
    .params_free = free,
    .start = kv_start,
    .inst_free = kv_free,
};
