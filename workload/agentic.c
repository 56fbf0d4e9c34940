/*
 * agentic.c - agents that alternate thinking (GPU/LLM time) with small
 * reads: each step is a think gap, then the step's reads - metadata lookups
 * and tool outputs / retrieved chunks, which gate the next step, and
 * prefetches, which do not. The next step starts when every gating read has
 * completed. The step stall (end of the think gap to the last gating
 * completion) is what storage costs the agent; it goes to env->step_stall.
 *
 * Scenario keys (workload entry, docs/workloads.md):
 *   agents           number of agents (N)                          (8)
 *   consumer_cpus    CPU per agent, agent i on consumer_cpus[i % len];
 *                    absent: agent i on CPU i % ncpus              (absent)
 *   think_dist       "fixed" | "exponential" | "lognormal"         ("lognormal")
 *   think_mean_us    mean think gap                                (2000)
 *   think_cv         coefficient of variation (lognormal)          (0.5)
 *   stagger          agent i starts after U[0, think_mean)         (true)
 *   metadata_reads, metadata_bytes   hot-metadata, gating          (2, 4096)
 *   chunk_reads, chunk_bytes         step-critical, gating         (4, 16384)
 *   prefetch_reads, prefetch_bytes   prefetch, not gating          (2, 65536)
 *   prefetch_confidence_min, _max    confidence ~ U[min, max]      (0.2, 0.9)
 *   gpu              chunks continue to this GPU, -1 = none        (-1)
 *   recurring        each agent reuses one buffer region per read
 *                    slot (registration reuse)                     (true)
 *   budget_us        latency budget of gating reads, 0 = none      (0)
 *   span_bytes       offsets uniform below, aligned to the size    (64 GiB)
 *   start_ms, stop_ms  agents start at start_ms, stop starting
 *                    steps at stop_ms                              (whole run)
 *
 * Measurements, for steps that start (think gap begins) at or after
 * warm-up: the stall, the step count, and the think time inside
 * [warm, end] divided by N added to gpu_busy_ns - each agent drives its
 * own share of the GPU, so gpu_idle_fraction is the mean fraction of time
 * an agent's GPU share waits instead of computing.
 *
 * Each agent has its own stream and draws the same amount per step (think,
 * then per read its offset, and a confidence per prefetch), so the k-th
 * step of agent i is the same in every variant (common random numbers).
 */
#include "gen.h"

#include "policies/policy.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { AG_FIXED, AG_EXPONENTIAL, AG_LOGNORMAL, AG_NDISTS };
static const char *const ag_dist_names[] = {"fixed", "exponential", "lognormal", NULL};
_Static_assert(sizeof(ag_dist_names) / sizeof(ag_dist_names[0]) == AG_NDISTS + 1,
               "one name per think distribution, then NULL");

#define AG_MAX_AGENTS 65535
#define AG_MAX_READS 4096

typedef struct {
    uint32_t agents, ncpus_given;
    int16_t *cpus;
    int dist;
    double think_mean_us, think_cv;
    bool stagger, recurring;
    uint32_t meta_n, meta_bytes, chunk_n, chunk_bytes, pf_n, pf_bytes;
    double pf_lo, pf_hi, budget_us, start_ms, stop_ms;
    int64_t gpu, span;
} ag_params_t;

typedef struct agentic agentic_t;

typedef struct {
    agentic_t *w;
    gsl_rng *rng;
    uint32_t id;
    int16_t cpu;
    sim_time_t step_start, think_end;
    uint32_t pending; /* gating reads of this step not yet completed */
} ag_agent_t;

struct agentic {
    ag_params_t p;
    wl_env_t env;
    sim_time_t stop;
    double zeta, sigma; /* lognormal parameters for the mean and cv */
    ag_agent_t *agent;
};

static void ag_cpus_parse(cfg_t *c, json_t *e, ag_params_t *p)
{
    json_t *a = cfg_take(c, e, "consumer_cpus", JSON_ARRAY);
    if (!a)
        return;
    size_t m = cfg_push(c, "consumer_cpus");
    size_t n = json_array_size(a);
    if (n == 0 || n > AG_MAX_AGENTS)
        cfg_fail(c, "expected 1 to %d CPU numbers, got %zu", AG_MAX_AGENTS, n);
    else if (!(p->cpus = calloc(n, sizeof(*p->cpus))))
        cfg_fail(c, "out of memory");
    for (size_t i = 0; i < n && cfg_ok(c); i++) {
        json_t *v = json_array_get(a, i);
        size_t mi = cfg_push_idx(c, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4095)
            cfg_fail(c, "expected a CPU number in [0, 4095]");
        else
            p->cpus[i] = (int16_t)json_integer_value(v);
        cfg_pop(c, mi);
    }
    p->ncpus_given = (uint32_t)n;
    cfg_pop(c, m);
    json_decref(a);
}

static void ag_params_free(void *params)
{
    ag_params_t *p = params;
    if (p)
        free(p->cpus);
    free(p);
}

static int ag_parse(cfg_t *c, json_t *e, void **out)
{
    ag_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_u32(c, e, "agents", &p->agents, 8, 1, AG_MAX_AGENTS);
    ag_cpus_parse(c, e, p);
    cfg_enum(c, e, "think_dist", &p->dist, AG_LOGNORMAL, ag_dist_names);
    cfg_f64(c, e, "think_mean_us", &p->think_mean_us, 2000, 1e-3, 1e9);
    cfg_f64(c, e, "think_cv", &p->think_cv, 0.5, 0, 100);
    cfg_bool(c, e, "stagger", &p->stagger, true);
    cfg_u32(c, e, "metadata_reads", &p->meta_n, 2, 0, AG_MAX_READS);
    cfg_u32(c, e, "metadata_bytes", &p->meta_bytes, 4096, 512, 1u << 30);
    cfg_u32(c, e, "chunk_reads", &p->chunk_n, 4, 0, AG_MAX_READS);
    cfg_u32(c, e, "chunk_bytes", &p->chunk_bytes, 16384, 512, 1u << 30);
    cfg_u32(c, e, "prefetch_reads", &p->pf_n, 2, 0, AG_MAX_READS);
    cfg_u32(c, e, "prefetch_bytes", &p->pf_bytes, 65536, 512, 1u << 30);
    cfg_f64(c, e, "prefetch_confidence_min", &p->pf_lo, 0.2, 0, 1);
    cfg_f64(c, e, "prefetch_confidence_max", &p->pf_hi, 0.9, 0, 1);
    cfg_i64(c, e, "gpu", &p->gpu, -1, -1, 255);
    cfg_bool(c, e, "recurring", &p->recurring, true);
    cfg_f64(c, e, "budget_us", &p->budget_us, 0, 0, 1e9);
    cfg_i64(c, e, "span_bytes", &p->span, 64LL << 30, 4096, 1LL << 50);
    gen_window_parse(c, e, &p->start_ms, &p->stop_ms);
    if (cfg_ok(c) && p->pf_hi < p->pf_lo) {
        size_t m = cfg_push(c, "prefetch_confidence_max");
        cfg_fail(c, "expected at least prefetch_confidence_min (%g), got %g", p->pf_lo,
                 p->pf_hi);
        cfg_pop(c, m);
    }
    if (cfg_ok(c) && p->meta_n + p->chunk_n + p->pf_n > AG_MAX_READS) {
        size_t m = cfg_push(c, "prefetch_reads");
        cfg_fail(c, "at most %d reads per step in all, got %u", AG_MAX_READS,
                 p->meta_n + p->chunk_n + p->pf_n);
        cfg_pop(c, m);
    }
    if (!cfg_ok(c)) {
        ag_params_free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static sim_time_t ag_think(agentic_t *w, gsl_rng *rng)
{
    double mean = w->p.think_mean_us * 1e3, x = mean;
    if (w->p.dist == AG_EXPONENTIAL)
        x = gsl_ran_exponential(rng, mean);
    else if (w->p.dist == AG_LOGNORMAL)
        x = gsl_ran_lognormal(rng, w->zeta, w->sigma);
    return (sim_time_t)(x + 0.5);
}

static void ag_reads(sim_t *sim, void *ctx, uint64_t arg);

/* Begin a step: think, then read. */
static void ag_step(agentic_t *w, ag_agent_t *a, sim_time_t now)
{
    if (now >= w->stop || now >= w->env.end)
        return;
    sim_time_t think = ag_think(w, a->rng);
    a->step_start = now;
    a->think_end = now + think;
    sim_time_t lo = now > w->env.warm ? now : w->env.warm;
    sim_time_t hi = a->think_end < w->env.end ? a->think_end : w->env.end;
    if (hi > lo && w->env.gpu_busy_ns)
        *w->env.gpu_busy_ns += (double)(hi - lo) / w->p.agents;
    if (a->think_end < w->env.end && a->think_end < w->stop)
        sim_at(w->env.sim, a->think_end, ag_reads, w, a->id);
}

static void ag_step_done(agentic_t *w, ag_agent_t *a)
{
    sim_time_t now = sim_now(w->env.sim);
    if (a->step_start >= w->env.warm) {
        if (w->env.step_stall)
            hist_add(w->env.step_stall, now - a->think_end);
        if (w->env.steps)
            (*w->env.steps)++;
    }
    ag_step(w, a, now);
}

static void ag_done(sim_t *sim, req_t *r)
{
    (void)sim;
    ag_agent_t *a = r->owner;
    bool gates = r->gates;
    req_release(a->w->env.pool, r);
    if (gates && --a->pending == 0)
        ag_step_done(a->w, a);
}

/* The think gap is over: issue the step's reads. pending holds one extra
 * count while submitting, so a read the path hands back at once cannot end
 * the step before the rest are issued. */
static void ag_reads(sim_t *sim, void *ctx, uint64_t arg)
{
    agentic_t *w = ctx;
    ag_agent_t *a = &w->agent[arg];
    const ag_params_t *p = &w->p;
    sim_time_t now = sim_now(sim);
    uint32_t n = p->meta_n + p->chunk_n + p->pf_n;
    a->pending = p->meta_n + p->chunk_n + 1;
    for (uint32_t j = 0; j < n; j++) {
        bool meta = j < p->meta_n, chunk = !meta && j < p->meta_n + p->chunk_n;
        uint32_t bytes = meta ? p->meta_bytes : chunk ? p->chunk_bytes : p->pf_bytes;
        uint64_t off = gen_offset(a->rng, (uint64_t)p->span, bytes);
        double conf = meta || chunk ? 0 : p->pf_lo + (p->pf_hi - p->pf_lo) * gsl_rng_uniform(a->rng);
        req_t *r = wl_req_alloc(&w->env);
        if (!r) {
            if (meta || chunk)
                a->pending--;
            continue;
        }
        r->offset = off;
        r->bytes = bytes;
        r->op = REQ_READ;
        r->cls = meta ? POL_CLASS_HOT_METADATA
                      : chunk ? POL_CLASS_STEP_CRITICAL : POL_CLASS_PREFETCH;
        r->gates = meta || chunk;
        r->prefetch_conf = (float)conf;
        r->budget_ns = r->gates ? p->budget_us * 1e3 : 0;
        r->gpu = (int16_t)(chunk ? p->gpu : -1);
        r->recurring = p->recurring;
        r->buf = p->recurring ? gen_buf(&w->env, a->id, j) : 0;
        r->flow = (w->env.index << 16) | a->id;
        r->consumer_cpu = a->cpu;
        r->t[T_ISSUE] = now;
        r->done = ag_done;
        r->owner = a;
        r->tag = j;
        w->env.submit(w->env.path, r);
    }
    if (--a->pending == 0)
        ag_step_done(w, a);
}

static void ag_begin(sim_t *sim, void *ctx, uint64_t arg)
{
    agentic_t *w = ctx;
    ag_step(w, &w->agent[arg], sim_now(sim));
}

static void ag_free(void *inst)
{
    agentic_t *w = inst;
    if (!w)
        return;
    for (uint32_t i = 0; w->agent && i < w->p.agents; i++)
        gsl_rng_free(w->agent[i].rng);
    free(w->agent);
    free(w);
}

static int ag_start(const void *params, const wl_env_t *env, void **inst)
{
    agentic_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const ag_params_t *)params;
    w->env = *env;
    w->stop = SIM_MS(w->p.stop_ms);
    double cv2 = w->p.think_cv * w->p.think_cv;
    w->sigma = sqrt(log1p(cv2));
    w->zeta = log(w->p.think_mean_us * 1e3) - log1p(cv2) / 2;
    w->agent = calloc(w->p.agents, sizeof(*w->agent));
    if (!w->agent) {
        ag_free(w);
        return -ENOMEM;
    }
    sim_time_t t0 = SIM_MS(w->p.start_ms);
    for (uint32_t i = 0; i < w->p.agents; i++) {
        ag_agent_t *a = &w->agent[i];
        char what[32];
        snprintf(what, sizeof(what), "agent.%u", i);
        a->w = w;
        a->id = i;
        a->cpu = w->p.ncpus_given ? gen_cpu(w->p.cpus[i % w->p.ncpus_given], 0, env->ncpus)
                                  : gen_cpu(-1, i, env->ncpus);
        if (!(a->rng = wl_rng(env, "agentic", what))) {
            ag_free(w);
            return -ENOMEM;
        }
        sim_time_t t = t0;
        if (w->p.stagger)
            t += (sim_time_t)(gsl_rng_uniform(a->rng) * w->p.think_mean_us * 1e3);
        if (t < env->end && t < w->stop)
            sim_at(env->sim, t, ag_begin, w, i);
    }
    *inst = w;
    return 0;
}

const wl_ops_t wl_agentic_ops = {
    .name = "agentic",
    .parse = ag_parse,
    .params_free = ag_params_free,
    .start = ag_start,
    .inst_free = ag_free,
};
