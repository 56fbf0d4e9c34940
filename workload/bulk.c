/*
 * bulk.c - a throughput tenant: a closed loop that keeps queue_depth I/Os
 * in flight, for interference with the latency-sensitive workloads. Its
 * window (start_ms, stop_ms) makes it a tenant that arrives and leaves,
 * which is what the adaptive mode has to notice.
 *
 * Scenario keys (workload entry, docs/workloads.md):
 *   queue_depth    I/Os kept in flight                      (16)
 *   bytes          request size                             (131072)
 *   read_fraction  probability an I/O is a read             (0.5)
 *   span_bytes     offsets below this                       (16 GiB)
 *   sequential     walk the span in order instead of random (false)
 *   class          pol_class name                           ("bulk")
 *   consumer_cpu   CPU the tenant's thread runs on          (0)
 *   start_ms, stop_ms  active window                        (whole run)
 */
#include "gen.h"

#include "policies/policy.h"

#include <errno.h>
#include <stdlib.h>

typedef struct {
    uint32_t qd, bytes;
    double read_fraction, start_ms, stop_ms;
    int64_t span, consumer_cpu;
    bool sequential;
    int cls;
} bulk_params_t;

typedef struct {
    bulk_params_t p;
    gen_loop_t loop;
    gsl_rng *rng;
    uint64_t next_off;
} bulk_t;

static int bulk_parse(cfg_t *c, json_t *e, void **out)
{
    bulk_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_u32(c, e, "queue_depth", &p->qd, 16, 1, 65536);
    cfg_u32(c, e, "bytes", &p->bytes, 131072, 512, 1u << 30);
    cfg_f64(c, e, "read_fraction", &p->read_fraction, 0.5, 0.0, 1.0);
    cfg_i64(c, e, "span_bytes", &p->span, 16LL << 30, 4096, 1LL << 50);
    cfg_bool(c, e, "sequential", &p->sequential, false);
    cfg_enum(c, e, "class", &p->cls, POL_CLASS_BULK, pol_class_names);
    cfg_i64(c, e, "consumer_cpu", &p->consumer_cpu, 0, 0, 4095);
    gen_window_parse(c, e, &p->start_ms, &p->stop_ms);
    if (!cfg_ok(c)) {
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

/* Draws happen in issue order, so the k-th request is the
 * same in every variant. */
static bool bulk_fill(void *ctx, req_t *r)
{
    bulk_t *w = ctx;
    if (w->p.sequential) {
        if (w->next_off + w->p.bytes > (uint64_t)w->p.span)
            w->next_off = 0;
        r->offset = w->next_off;
        w->next_off += w->p.bytes;
    } else {
        r->offset = gen_offset(w->rng, (uint64_t)w->p.span, w->p.bytes);
    }
    r->op = gsl_rng_uniform(w->rng) < w->p.read_fraction ? REQ_READ : REQ_WRITE;
    r->bytes = w->p.bytes;
    r->cls = (uint8_t)w->p.cls;
    r->consumer_cpu = gen_cpu(w->p.consumer_cpu, 0, w->loop.env.ncpus);
    return true;
}

static void bulk_free(void *inst)
{
    bulk_t *w = inst;
    if (!w)
        return;
    gsl_rng_free(w->rng);
    free(w);
}

static int bulk_start(const void *params, const wl_env_t *env, void **inst)
{
    bulk_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const bulk_params_t *)params;
    w->rng = wl_rng(env, "bulk", "io");
    if (!w->rng) {
        bulk_free(w);
        return -ENOMEM;
    }
    w->loop = (gen_loop_t){
        .env = *env, .qd = w->p.qd, .fill = bulk_fill, .ctx = w,
        .start = SIM_MS(w->p.start_ms), .stop = SIM_MS(w->p.stop_ms),
    };
    gen_loop_start(&w->loop);
    *inst = w;
    return 0;
}

const wl_ops_t wl_bulk_ops = {
    .name = "bulk",
    .parse = bulk_parse,
    .params_free = free,
    .start = bulk_start,
    .inst_free = bulk_free,
};
