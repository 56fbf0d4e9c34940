/*
 * retrieval.c - SSD-resident vector-index search in the style of DiskANN:
 * queries arrive as a Poisson process; each walks the graph in `hops`
 * dependent rounds, a round reading `beam_width` nodes in parallel; round
 * k+1 starts when every read of round k has completed. The query latency
 * (arrival to the last read of the last round) goes to env->query_lat for
 * queries arriving after warm-up.
 *
 * Scenario keys (workload entry, docs/workloads.md):
 *   rate_qps      query arrivals per second                      (1000)
 *   hops          dependent rounds per query (H)                 (6)
 *   beam_width    parallel reads per round (W)                   (4)
 *   bytes         node size (one read)                           (4096)
 *   span_bytes    index size; nodes uniform below                (32 GiB)
 *   class         pol_class name                                 ("hot-metadata")
 *   gates         which rounds gate a next step: "all" (each round
 *                 gates the next), "last" (the result gates the
 *                 caller), "none"                                ("all")
 *   budget_us     latency budget per read, 0 = none              (0)
 *   consumer_cpu  CPU serving the queries, -1 = query k on k % ncpus (-1)
 *   start_ms, stop_ms  arrival window                            (whole run)
 *
 * A query's node offsets are drawn when it arrives, so the draws follow the
 * arrival order whatever the timing (common random numbers). req->tag is
 * the query's number (0-based, in arrival order). Query state
 * comes from a free list grown in chunks, never per query.
 */
#include "gen.h"

#include "policies/policy.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <stdlib.h>

enum { RT_GATES_ALL, RT_GATES_LAST, RT_GATES_NONE, RT_NGATES };
static const char *const rt_gates_names[] = {"all", "last", "none", NULL};
_Static_assert(sizeof(rt_gates_names) / sizeof(rt_gates_names[0]) == RT_NGATES + 1,
               "one name per gates mode, then NULL");

#define RT_CHUNK 64

typedef struct {
    double rate, budget_us, start_ms, stop_ms;
    uint32_t hops, width, bytes;
    int64_t span, consumer_cpu;
    int cls, gates;
} rt_params_t;

typedef struct rt_query rt_query_t;
typedef struct retrieval retrieval_t;

struct rt_query {
    retrieval_t *w;
    rt_query_t *next_free;
    sim_time_t arrive;
    uint64_t seq;
    uint32_t hop, pending;
    int16_t cpu;
    uint64_t off[]; /* hops * width */
};

typedef struct rt_chunk {
    struct rt_chunk *next;
    unsigned char mem[];
} rt_chunk_t;

struct retrieval {
    rt_params_t p;
    wl_env_t env;
    gsl_rng *arrivals, *nodes;
    sim_time_t stop;
    uint64_t seq;
    size_t stride;
    rt_query_t *free_q;
    rt_chunk_t *chunks;
};

static int rt_parse(cfg_t *c, json_t *e, void **out)
{
    rt_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_f64(c, e, "rate_qps", &p->rate, 1000, 1e-3, 1e9);
    cfg_u32(c, e, "hops", &p->hops, 6, 1, 1024);
    cfg_u32(c, e, "beam_width", &p->width, 4, 1, 1024);
    cfg_u32(c, e, "bytes", &p->bytes, 4096, 512, 1u << 24);
    cfg_i64(c, e, "span_bytes", &p->span, 32LL << 30, 4096, 1LL << 50);
    cfg_enum(c, e, "class", &p->cls, POL_CLASS_HOT_METADATA, pol_class_names);
    cfg_enum(c, e, "gates", &p->gates, RT_GATES_ALL, rt_gates_names);
    cfg_f64(c, e, "budget_us", &p->budget_us, 0, 0, 1e9);
    cfg_i64(c, e, "consumer_cpu", &p->consumer_cpu, -1, -1, 4095);
    gen_window_parse(c, e, &p->start_ms, &p->stop_ms);
    if (cfg_ok(c) && (uint64_t)p->hops * p->width > 65536) {
        size_t m = cfg_push(c, "beam_width");
        cfg_fail(c, "hops x beam_width is at most 65536, got %u x %u", p->hops, p->width);
        cfg_pop(c, m);
    }
    if (!cfg_ok(c)) {
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static rt_query_t *rt_get(retrieval_t *w)
{
    if (!w->free_q) {
        rt_chunk_t *ch = malloc(sizeof(*ch) + RT_CHUNK * w->stride);
        if (!ch) {
            wl_fail(&w->env, -ENOMEM, "out of memory for a query");
            return NULL;
        }
        ch->next = w->chunks;
        w->chunks = ch;
        for (size_t i = 0; i < RT_CHUNK; i++) {
            rt_query_t *q = (rt_query_t *)(void *)(ch->mem + i * w->stride);
            q->next_free = w->free_q;
            w->free_q = q;
        }
    }
    rt_query_t *q = w->free_q;
    w->free_q = q->next_free;
    return q;
}

static void rt_put(retrieval_t *w, rt_query_t *q)
{
    q->next_free = w->free_q;
    w->free_q = q;
}

static void rt_hop(retrieval_t *w, rt_query_t *q);

static void rt_round_done(retrieval_t *w, rt_query_t *q)
{
    if (++q->hop < w->p.hops) {
        rt_hop(w, q);
        return;
    }
    if (q->arrive >= w->env.warm && w->env.query_lat)
        hist_add(w->env.query_lat, sim_now(w->env.sim) - q->arrive);
    rt_put(w, q);
}

static void rt_done(sim_t *sim, req_t *r)
{
    (void)sim;
    rt_query_t *q = r->owner;
    retrieval_t *w = q->w;
    req_release(w->env.pool, r);
    if (--q->pending == 0)
        rt_round_done(w, q);
}

/* Issue round q->hop. pending holds one extra count while submitting, so a
 * read the path hands back at once cannot end the round early. */
static void rt_hop(retrieval_t *w, rt_query_t *q)
{
    bool gates = w->p.gates == RT_GATES_ALL ||
                 (w->p.gates == RT_GATES_LAST && q->hop + 1 == w->p.hops);
    const uint64_t *off = q->off + (size_t)q->hop * w->p.width;
    sim_time_t now = sim_now(w->env.sim);
    q->pending = w->p.width + 1;
    for (uint32_t i = 0; i < w->p.width; i++) {
        req_t *r = wl_req_alloc(&w->env);
        if (!r) {
            q->pending--;
            continue;
        }
        r->offset = off[i];
        r->bytes = w->p.bytes;
        r->op = REQ_READ;
        r->cls = (uint8_t)w->p.cls;
        r->gates = gates;
        r->budget_ns = w->p.budget_us * 1e3;
        r->flow = w->env.index;
        r->consumer_cpu = q->cpu;
        r->t[T_ISSUE] = now;
        r->done = rt_done;
        r->owner = q;
        r->tag = q->seq;
        w->env.submit(w->env.path, r);
    }
    if (--q->pending == 0)
        rt_round_done(w, q);
}

static void rt_arrive(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    retrieval_t *w = ctx;
    sim_time_t now = sim_now(sim);
    sim_time_t next = now + (sim_time_t)(gsl_ran_exponential(w->arrivals, 1e9 / w->p.rate) + 0.5);
    if (next < w->env.end && next < w->stop)
        sim_at(sim, next, rt_arrive, w, 0);
    rt_query_t *q = rt_get(w);
    if (!q)
        return;
    q->w = w;
    q->arrive = now;
    q->hop = 0;
    q->seq = w->seq++;
    q->cpu = gen_cpu(w->p.consumer_cpu, q->seq, w->env.ncpus);
    for (size_t i = 0; i < (size_t)w->p.hops * w->p.width; i++)
        q->off[i] = gen_offset(w->nodes, (uint64_t)w->p.span, w->p.bytes);
    rt_hop(w, q);
}

static void rt_free(void *inst)
{
    retrieval_t *w = inst;
    if (!w)
        return;
    while (w->chunks) {
        rt_chunk_t *ch = w->chunks;
        w->chunks = ch->next;
        free(ch);
    }
    gsl_rng_free(w->arrivals);
    gsl_rng_free(w->nodes);
    free(w);
}

static int rt_start(const void *params, const wl_env_t *env, void **inst)
{
    retrieval_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const rt_params_t *)params;
    w->env = *env;
    w->stop = SIM_MS(w->p.stop_ms);
    size_t sz = sizeof(rt_query_t) + (size_t)w->p.hops * w->p.width * sizeof(uint64_t);
    w->stride = (sz + 15) & ~(size_t)15;
    w->arrivals = wl_rng(env, "retrieval", "arrivals");
    w->nodes = wl_rng(env, "retrieval", "nodes");
    if (!w->arrivals || !w->nodes) {
        rt_free(w);
        return -ENOMEM;
    }
    sim_time_t t0 = SIM_MS(w->p.start_ms) +
                    (sim_time_t)(gsl_ran_exponential(w->arrivals, 1e9 / w->p.rate) + 0.5);
    if (t0 < env->end && t0 < w->stop)
        sim_at(env->sim, t0, rt_arrive, w, 0);
    *inst = w;
    return 0;
}

const wl_ops_t wl_retrieval_ops = {
    .name = "retrieval",
    .parse = rt_parse,
    .params_free = free,
    .start = rt_start,
    .inst_free = rt_free,
};
