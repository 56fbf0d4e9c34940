/*
 * poisson.c - open-loop Poisson arrivals of single I/Os of one size. The
 * queueing-theory checks and the simplest scenarios use it.
 *
 * Scenario keys (workload entry):
 *   rate_iops      arrivals per second                  (default 10000)
 *   bytes          request size                         (default 4096)
 *   read_fraction  probability an I/O is a read         (default 1)
 *   span_bytes     offsets are uniform, aligned, below  (default 1 GiB)
 *   class          pol_class name                       (default "hot-metadata")
 *   consumer_cpu   CPU the consumer thread runs on, -1 = spread
 *                  round-robin over all CPUs             (default 0)
 *   gates          completions gate a next step         (default false)
 *   start_ms, stop_ms  active window                    (default whole run)
 *   wake           how the application learns of an arrival: "none" (it is
 *                  already running: free, the default) or "timer" (it
 *                  sleeps on an hrtimer until the arrival, as latsurf
 *                  live's generator: a consumer asleep pays
 *                  timer_overshoot_ns before it submits; models/uring.c)
 */
#include "gen.h"
#include "workload.h"

#include "policies/policy.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <stdlib.h>

typedef struct {
    double rate, read_fraction, start_ms, stop_ms;
    uint32_t bytes;
    int64_t span;
    int cls;
    int64_t consumer_cpu;
    bool gates;
    int wake; /* index into poisson_wake_names */
} poisson_params_t;

static const char *const poisson_wake_names[] = {"none", "timer", NULL};

typedef struct {
    poisson_params_t p;
    wl_env_t env;
    gsl_rng *arrivals, *addr;
    uint64_t issued;
} poisson_t;

static int poisson_parse(cfg_t *c, json_t *e, void **out)
{
    poisson_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_f64(c, e, "rate_iops", &p->rate, 10000, 1e-3, 1e9);
    cfg_u32(c, e, "bytes", &p->bytes, 4096, 512, 1u << 30);
    cfg_f64(c, e, "read_fraction", &p->read_fraction, 1.0, 0.0, 1.0);
    cfg_i64(c, e, "span_bytes", &p->span, 1LL << 30, 4096, 1LL << 50);
    cfg_enum(c, e, "class", &p->cls, POL_CLASS_HOT_METADATA, pol_class_names);
    cfg_i64(c, e, "consumer_cpu", &p->consumer_cpu, 0, -1, 4095);
    cfg_bool(c, e, "gates", &p->gates, false);
    cfg_f64(c, e, "start_ms", &p->start_ms, 0, 0, 1e9);
    cfg_f64(c, e, "stop_ms", &p->stop_ms, 1e9, 0, 1e9);
    cfg_enum(c, e, "wake", &p->wake, 0, poisson_wake_names);
    if (!cfg_ok(c)) {
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static void poisson_done(sim_t *sim, req_t *r)
{
    (void)sim;
    poisson_t *w = r->owner;
    req_release(w->env.pool, r);
}

static void poisson_arrive(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    poisson_t *w = ctx;
    sim_time_t now = sim_now(sim);
    sim_time_t next = now + (sim_time_t)(gsl_ran_exponential(w->arrivals, 1e9 / w->p.rate) + 0.5);
    if (next < w->env.end && (double)next < w->p.stop_ms * 1e6)
        sim_at(sim, next, poisson_arrive, w, 0);
    req_t *r = wl_req_alloc(&w->env);
    if (!r)
        return;
    /* gen_offset takes spans past the generator's 32 bits; it draws nothing
     * for a span of one block, where poisson always drew one: it still
     * does, so its request streams stay as they were */
    if ((uint64_t)w->p.span / w->p.bytes > 1)
        r->offset = gen_offset(w->addr, (uint64_t)w->p.span, w->p.bytes);
    else {
        (void)gsl_rng_uniform_int(w->addr, 1);
        r->offset = 0;
    }
    r->bytes = w->p.bytes;
    r->op = gsl_rng_uniform(w->addr) < w->p.read_fraction ? REQ_READ : REQ_WRITE;
    r->cls = (uint8_t)w->p.cls;
    r->gates = w->p.gates;
    r->flow = w->env.index;
    uint32_t ncpus = w->env.ncpus ? w->env.ncpus : 1;
    r->consumer_cpu = (int16_t)(w->p.consumer_cpu < 0 ? w->issued % ncpus
                                                      : (uint64_t)w->p.consumer_cpu % ncpus);
    w->issued++;
    r->t[T_ISSUE] = now;
    r->timer_wake = w->p.wake == 1;
    r->done = poisson_done;
    r->owner = w;
    w->env.submit(w->env.path, r);
}

static void poisson_free(void *inst)
{
    poisson_t *w = inst;
    if (!w)
        return;
    gsl_rng_free(w->arrivals);
    gsl_rng_free(w->addr);
    free(w);
}

static int poisson_start(const void *params, const wl_env_t *env, void **inst)
{
    poisson_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const poisson_params_t *)params;
    w->env = *env;
    w->arrivals = wl_rng(env, "poisson", "arrivals");
    w->addr = wl_rng(env, "poisson", "addr");
    if (!w->arrivals || !w->addr) {
        poisson_free(w);
        return -ENOMEM;
    }
    sim_time_t t0 = (sim_time_t)(w->p.start_ms * 1e6) +
                    (sim_time_t)(gsl_ran_exponential(w->arrivals, 1e9 / w->p.rate) + 0.5);
    if (t0 < env->end)
        sim_at(env->sim, t0, poisson_arrive, w, 0);
    *inst = w;
    return 0;
}

const wl_ops_t wl_poisson_ops = {
    .name = "poisson",
    .parse = poisson_parse,
    .params_free = free,
    .start = poisson_start,
    .inst_free = poisson_free,
};
