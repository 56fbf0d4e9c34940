/*
 * gpu.h - the GPUs a continuation copies into: per GPU a set of host-to-
 * device copy engines (one FIFO in front of `copy_engines` servers, each
 * moving bytes at the link rate), and the completion cost of the direct
 * storage-to-GPU path. Host-side work (registration, staging, the copy
 * launch) is charged by the continuation (cont.c). Owns the `host.gpu`
 * scenario section and the copy-engine resources.
 */
#ifndef LATSURF_GPU_H
#define LATSURF_GPU_H

#include "models/costs.h"
#include "sim/cfg.h"
#include "sim/res.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t count;         /* GPUs; a request's gpu index is taken modulo count */
    uint32_t copy_engines;  /* per GPU */
    double gbps;            /* per engine, GB/s (= bytes/ns); <= 0: calibrated gpu_gbps */
    bool pinned;            /* host buffers registered (pinned) vs pageable */
    bool direct;            /* storage DMAs straight into GPU memory */
    double dma_ns;          /* direct: device done -> completion visible to the GPU */
} gpu_cfg_t;

void gpu_cfg_defaults(gpu_cfg_t *g);
/* o is the host.gpu object (the caller pushed "gpu"). */
int gpu_cfg_parse(cfg_t *c, json_t *o, gpu_cfg_t *g);

typedef struct gpu gpu_t;

gpu_t *gpu_new(sim_t *sim, const costs_t *costs, const gpu_cfg_t *cfg);
void gpu_free(gpu_t *g);

/* Time one engine needs for `bytes`. */
double gpu_copy_ns(const gpu_t *g, uint64_t bytes);
/* Queue a host-to-device copy on GPU `gpu` (modulo count); fn(sim, ctx, arg)
 * when the bytes are in device memory. 0 or -ENOMEM. */
int gpu_copy(gpu_t *g, uint32_t gpu, uint64_t bytes, sim_handler_fn fn, void *ctx, uint64_t arg);

const gpu_cfg_t *gpu_cfg(const gpu_t *g);

#endif
