/*
 * registration.h - buffer registration policies: whether the memory a
 * transfer reads from (an RDMA send, a host-to-GPU copy) is registered per
 * transfer or reused. The executor supplies the register / deregister calls
 * (pol_reg_ops_t): the simulator returns calibrated costs to charge, the
 * live backend makes the real calls (io_uring_register_buffers, ibv_reg_mr,
 * cudaHostRegister) and returns 0. Policies, by pol_reg_t:
 *
 *   none    register before and deregister after every transfer;
 *   cache   keep registrations in an LRU cache keyed by buffer region, with
 *           a byte budget (reg_cache_bytes); evict the least recently used
 *           unused region to make room; pol_reg_invalidate() when freed;
 *   pool    register each region once at first use and keep it (a
 *           long-lived pre-registered pool) until reg_pool_bytes is used up;
 *           beyond it, like none;
 *   intent  like pool, but only for flows declared recurring (region = buf,
 *           or the flow itself when buf is 0); everything else like none.
 *
 * Owns the registered-region table and the counters the collector reports
 * (registration_hit_rate, registration_churn_per_flow).
 */
#ifndef LATSURF_POL_REGISTRATION_H
#define LATSURF_POL_REGISTRATION_H

#include "policy.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    /* Register `bytes` of region `buf`; *handle gets what dereg needs. Returns
     * ns to charge (simulator), 0 (time really spent), or negative errno. */
    int64_t (*reg)(void *ctx, uint64_t buf, uint64_t bytes, void **handle);
    int64_t (*dereg)(void *ctx, uint64_t buf, uint64_t bytes, void *handle);
} pol_reg_ops_t;

typedef struct {
    uint64_t lookups, hits, registrations, deregistrations;
    uint64_t flows; /* distinct flows that asked since the last reset */
} pol_reg_stats_t;

/* One transfer's use of a registration, from acquire to release. */
typedef struct {
    void *handle;
    int64_t cost_ns;   /* set by acquire: registering plus any evictions */
    uint64_t key, bytes;
    uint32_t slot;
    bool hit, temporary;
} pol_reg_use_t;

typedef struct pol_registry pol_registry_t;

pol_registry_t *pol_reg_new(pol_reg_t kind, const pol_config_t *cfg, const pol_reg_ops_t *ops,
                            void *ctx);
/* Deregisters what is still registered; those calls are not counted. */
void pol_reg_free(pol_registry_t *g);

/* The transfer described by in (buf, bytes, flow, recurring) needs a
 * registered buffer. 0, or the register call's negative errno. */
int pol_reg_acquire(pol_registry_t *g, const pol_intent_t *in, pol_reg_use_t *use);
/* The transfer is done. Returns ns spent deregistering (0 if kept). */
int64_t pol_reg_release(pol_registry_t *g, pol_reg_use_t *use);
/* Region buf was freed: drop its registration (deferred while in use).
 * Returns ns spent deregistering. */
int64_t pol_reg_invalidate(pol_registry_t *g, uint64_t buf);

const pol_reg_stats_t *pol_reg_stats(const pol_registry_t *g);
/* Start counting afresh (end of warm-up); registrations are kept. */
void pol_reg_stats_reset(pol_registry_t *g);
/* sum += s: one executor's registries (a registry per worker) as one. */
void pol_reg_stats_add(pol_reg_stats_t *sum, const pol_reg_stats_t *s);
/* Bytes currently registered and kept (0 for none). */
uint64_t pol_reg_bytes(const pol_registry_t *g);

#endif
