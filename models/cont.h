/*
 * cont.h - continuations: what happens to the bytes after the consumer is
 * ready - a host-to-GPU copy (pinned or pageable through a staging buffer,
 * or a direct storage-to-GPU path that skips the host wakeup) or an RDMA
 * transfer to a remote consumer (queue pair, completion queue -> vector ->
 * CPU, polled or event-channel completion). Buffer registration decisions go
 * through the registration policy (policies/registration.h) with calibrated
 * costs. Owns the `host.gpu` and `host.rdma` scenario sections (parsed by
 * models/gpu.c and models/rdma.c, which model the devices; this file
 * charges the host's side and keeps one transfer record per continuation
 * in flight, recycled, so a request costs no allocation).
 *
 * A request continues on the GPU when r->gpu >= 0, else over RDMA when
 * r->rdma and host.rdma.enabled; one continuation per request.
 */
#ifndef LATSURF_CONT_H
#define LATSURF_CONT_H

#include "models/collect.h"
#include "models/costs.h"
#include "models/cpu.h"
#include "models/req.h"
#include "policies/policy.h"
#include "sim/cfg.h"

typedef struct cont_cfg cont_cfg_t;

/* gpu and rdma are the host.gpu / host.rdma objects, either may be NULL
 * (the caller pushed "host"; push the key yourself). */
int cont_cfg_parse(cfg_t *c, json_t *gpu, json_t *rdma, cont_cfg_t **out);
void cont_cfg_free(cont_cfg_t *cfg);
/* host.gpu.direct: GPU-initiated I/O (a research prototype, BaM), a what-if. */
bool cont_cfg_direct(const cont_cfg_t *cfg);

typedef struct cont cont_t;
typedef void (*cont_done_fn)(void *ctx, req_t *r); /* r->t[T_CONTINUED] set */

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    const costs_t *costs;
    const cont_cfg_t *cfg;      /* may be NULL: defaults */
    const pol_variant_t *variant;
    const pol_config_t *pol;
    collect_t *col;             /* registration counters, GPU busy time */
    uint64_t seed;
    uint32_t rep;
    uint32_t ncpus;
    cont_done_fn done;
    void *ctx;
    /* The consumer thread of r, whose host steps these are (the one that
     * has the data); NULL: the consumer CPU's own thread. */
    cpu_thread_t *(*thread)(void *ctx, const req_t *r);
} cont_env_t;

cont_t *cont_new(const cont_env_t *env);
void cont_free(cont_t *c);

/* Does r continue after t_ready (GPU copy or RDMA send)? */
static inline bool cont_wanted(const req_t *r) { return r->gpu >= 0 || r->rdma; }

/* Direct storage-to-GPU path: the device DMA'd into GPU memory, so the
 * bytes are usable at device done + host.gpu.dma_us, whatever the host does
 * meanwhile (collector measures from device done). */
bool cont_direct(const cont_t *c, const req_t *r);

/* Start r's continuation at t_ready; done(ctx, r) when the bytes are usable.
 * A direct request gets r->gpu_direct = 1 and t_continued = t_device_done +
 * dma, which is normally before t_ready (done is then called at once). */
void cont_start(cont_t *c, req_t *r);

/* Buffer region buf was freed (on CPU cpu): its registration goes. */
void cont_buffer_freed(cont_t *c, uint64_t buf, uint32_t cpu);

#endif
