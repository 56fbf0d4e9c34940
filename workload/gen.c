/*
 * gen.c - see gen.h.
 */
#include "gen.h"

uint64_t gen_offset(gsl_rng *rng, uint64_t span, uint32_t align)
{
    uint64_t n = span / align;
    if (n <= 1)
        return 0;
    /* mt19937 yields 32 bits: larger ranges take a 53-bit uniform instead */
    uint64_t k = n <= 0xffffffffULL ? gsl_rng_uniform_int(rng, (unsigned long)n)
                                    : (uint64_t)(gsl_rng_uniform(rng) * (double)n);
    return (k < n ? k : n - 1) * align;
}

uint64_t gen_buf(const wl_env_t *env, uint32_t owner, uint32_t slot)
{
    return ((uint64_t)(env->index + 1) << 48) | ((uint64_t)(owner & 0xffffffu) << 24) |
           (uint64_t)((slot + 1) & 0xffffffu);
}

int16_t gen_cpu(int64_t cpu, uint64_t k, uint32_t ncpus)
{
    uint32_t n = ncpus ? ncpus : 1;
    return (int16_t)(cpu >= 0 ? (uint64_t)cpu % n : k % n);
}

void gen_window_parse(cfg_t *c, json_t *e, double *start_ms, double *stop_ms)
{
    cfg_f64(c, e, "start_ms", start_ms, 0, 0, 1e9);
    cfg_f64(c, e, "stop_ms", stop_ms, 1e9, 0, 1e9);
    if (cfg_ok(c) && *stop_ms <= *start_ms) {
        size_t m = cfg_push(c, "stop_ms");
        cfg_fail(c, "expected a time after start_ms (%g), got %g", *start_ms, *stop_ms);
        cfg_pop(c, m);
    }
}

static void gen_loop_issue(gen_loop_t *l);

static void gen_loop_retry(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    gen_loop_t *l = ctx;
    l->retry_set = false;
    gen_loop_issue(l);
}

static void gen_loop_done(sim_t *sim, req_t *r)
{
    gen_loop_t *l = r->owner;
    req_release(l->env.pool, r);
    l->inflight--;
    /* A request handed back inside submit (the path dropped it) is replaced
     * a microsecond later: replacing it at once could spin at one instant. */
    if (l->submitting) {
        if (!l->retry_set) {
            l->retry_set = true;
            sim_after(sim, SIM_US(1), gen_loop_retry, l, 0);
        }
    } else {
        gen_loop_issue(l);
    }
}

/* Top up to qd while the window is open. */
static void gen_loop_issue(gen_loop_t *l)
{
    sim_time_t now = sim_now(l->env.sim);
    while (!l->over && l->inflight < l->qd) {
        if (now >= l->stop || now >= l->env.end) {
            l->over = true;
            break;
        }
        req_t *r = wl_req_alloc(&l->env);
        if (!r)
            break;
        if (!l->fill(l->ctx, r)) {
            req_release(l->env.pool, r);
            l->over = true;
            break;
        }
        r->flow = l->env.index;
        r->t[T_ISSUE] = now;
        r->done = gen_loop_done;
        r->owner = l;
        r->tag = l->issued++;
        l->inflight++;
        l->submitting = true;
        l->env.submit(l->env.path, r);
        l->submitting = false;
        if (l->retry_set)
            break;
    }
}

static void gen_loop_begin(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    gen_loop_issue(ctx);
}

void gen_loop_start(gen_loop_t *l)
{
    if (l->start < l->env.end && l->start < l->stop)
        sim_at(l->env.sim, l->start, gen_loop_begin, l, 0);
}
