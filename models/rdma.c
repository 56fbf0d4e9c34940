/*
 * rdma.c - see rdma.h. A send is two events: the link serves it (FIFO, one
 * transfer on the wire at a time), then the bytes fly for the latency; the
 * caller's argument rides along, so the NIC keeps no per-send state.
 */
#include "rdma.h"

#include "models/host.h"

#include <errno.h>
#include <stdlib.h>

const char *const rdma_cq_mode_names[] = {"auto", "poll", "event", NULL};
_Static_assert(sizeof(rdma_cq_mode_names) / sizeof(rdma_cq_mode_names[0]) == RDMA_NCQ_MODES + 1,
               "one name per completion mode, then NULL");

struct rdma {
    sim_t *sim;
    const costs_t *costs;
    rdma_cfg_t cfg;
    double latency_ns, gbps;
    res_t *link;
    sim_handler_fn landed;
    void *ctx;
};

void rdma_cfg_defaults(rdma_cfg_t *r)
{
    *r = (rdma_cfg_t){
        .enabled = true, .latency_ns = -1, .gbps = -1, .cq_cpu = 0,
        .completion = RDMA_CQ_AUTO, .post_ns = 300,
    };
}

int rdma_cfg_parse(cfg_t *c, json_t *o, rdma_cfg_t *r)
{
    rdma_cfg_defaults(r);
    double lat_us = r->latency_ns, post_us = r->post_ns / 1e3;
    int64_t cq_cpu;
    int mode;
    cfg_bool(c, o, "enabled", &r->enabled, r->enabled);
    cfg_f64(c, o, "latency_us", &lat_us, lat_us, 0, 1e6);
    cfg_f64(c, o, "gbps", &r->gbps, r->gbps, 0.001, 1e4);
    cfg_i64(c, o, "cq_cpu", &cq_cpu, r->cq_cpu, -1, HOST_MAX_CPUS - 1);
    cfg_enum(c, o, "completion", &mode, RDMA_CQ_AUTO, rdma_cq_mode_names);
    cfg_f64(c, o, "post_us", &post_us, post_us, 0, 1e4);
    r->latency_ns = lat_us < 0 ? -1 : lat_us * 1e3;
    r->post_ns = post_us * 1e3;
    r->cq_cpu = (int32_t)cq_cpu;
    r->completion = (rdma_cq_mode_t)mode;
    cfg_done(c, o);
    return cfg_ok(c) ? 0 : -EINVAL;
}

rdma_t *rdma_new(sim_t *sim, const costs_t *costs, const rdma_cfg_t *cfg, sim_handler_fn landed,
                 void *ctx)
{
    rdma_t *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->sim = sim;
    n->costs = costs;
    if (cfg)
        n->cfg = *cfg;
    else
        rdma_cfg_defaults(&n->cfg);
    n->latency_ns = n->cfg.latency_ns >= 0 ? n->cfg.latency_ns : costs_value(costs, COST_RDMA_LATENCY);
    n->gbps = n->cfg.gbps > 0 ? n->cfg.gbps : costs_value(costs, COST_RDMA_GBPS);
    n->landed = landed;
    n->ctx = ctx;
    n->link = res_new(sim, 1, 1);
    if (!n->link) {
        rdma_free(n);
        return NULL;
    }
    return n;
}

void rdma_free(rdma_t *n)
{
    if (!n)
        return;
    res_free(n->link);
    free(n);
}

const rdma_cfg_t *rdma_cfg(const rdma_t *n) { return &n->cfg; }
double rdma_latency_ns(const rdma_t *n) { return n->latency_ns; }
double rdma_wire_ns(const rdma_t *n, uint64_t bytes) { return (double)bytes / n->gbps; }

double rdma_notify_ns(const rdma_t *n, bool polled)
{
    return costs_value(n->costs, polled ? COST_POLL : COST_RDMA_CQ_EVENT);
}

static void rdma_on_wire(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    rdma_t *n = ctx;
    sim_after(n->sim, (sim_time_t)n->latency_ns, n->landed, n->ctx, arg);
}

int rdma_send(rdma_t *n, uint64_t bytes, uint64_t arg)
{
    return res_submit(n->link, 0, (sim_time_t)rdma_wire_ns(n, bytes), rdma_on_wire, n, arg);
}

