/*
 * gpu.c - see gpu.h.
 */
#include "gpu.h"

#include <errno.h>
#include <stdlib.h>

struct gpu {
    gpu_cfg_t cfg;
    double gbps;
    res_t **engines; /* [count] */
};

void gpu_cfg_defaults(gpu_cfg_t *g)
{
    *g = (gpu_cfg_t){
        .count = 1, .copy_engines = 2, .gbps = -1, .pinned = true, .direct = false,
        .dma_ns = 1000,
    };
}

int gpu_cfg_parse(cfg_t *c, json_t *o, gpu_cfg_t *g)
{
    gpu_cfg_defaults(g);
    double dma_us = g->dma_ns / 1e3;
    cfg_u32(c, o, "count", &g->count, g->count, 1, 64);
    cfg_u32(c, o, "copy_engines", &g->copy_engines, g->copy_engines, 1, 16);
    cfg_f64(c, o, "gbps", &g->gbps, g->gbps, 0.001, 1e4);
    cfg_bool(c, o, "pinned", &g->pinned, g->pinned);
    cfg_bool(c, o, "direct", &g->direct, g->direct);
    cfg_f64(c, o, "dma_us", &dma_us, dma_us, 0, 1e4);
    g->dma_ns = dma_us * 1e3;
    cfg_done(c, o);
    return cfg_ok(c) ? 0 : -EINVAL;
}

gpu_t *gpu_new(sim_t *sim, const costs_t *costs, const gpu_cfg_t *cfg)
{
    gpu_t *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    if (cfg)
        g->cfg = *cfg;
    else
        gpu_cfg_defaults(&g->cfg);
    g->gbps = g->cfg.gbps > 0 ? g->cfg.gbps : costs_value(costs, COST_GPU_GBPS);
    g->engines = calloc(g->cfg.count, sizeof(*g->engines));
    if (!g->engines) {
        gpu_free(g);
        return NULL;
    }
    for (uint32_t i = 0; i < g->cfg.count; i++)
        if (!(g->engines[i] = res_new(sim, g->cfg.copy_engines, 1))) {
            gpu_free(g);
            return NULL;
        }
    return g;
}

void gpu_free(gpu_t *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; g->engines && i < g->cfg.count; i++)
        res_free(g->engines[i]);
    free(g->engines);
    free(g);
}

double gpu_copy_ns(const gpu_t *g, uint64_t bytes) { return (double)bytes / g->gbps; }

int gpu_copy(gpu_t *g, uint32_t gpu, uint64_t bytes, sim_handler_fn fn, void *ctx, uint64_t arg)
{
    return res_submit(g->engines[gpu % g->cfg.count], 0, (sim_time_t)gpu_copy_ns(g, bytes), fn,
                      ctx, arg);
}

const gpu_cfg_t *gpu_cfg(const gpu_t *g) { return &g->cfg; }
