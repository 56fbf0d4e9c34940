/*
 * gen.h - pieces the workload generators share: aligned offset draws,
 * buffer-region ids, consumer-CPU placement, the start_ms/stop_ms window,
 * and a closed loop that keeps a queue depth in flight (bulk, checkpoint).
 *
 * Common random numbers: a generator draws from its streams in an order
 * that depends only on what it issues (the k-th request, the k-th step of
 * agent i), never on when completions arrive, so policy variants see the
 * same request stream and differ only in timing.
 */
#ifndef LATSURF_WORKLOAD_GEN_H
#define LATSURF_WORKLOAD_GEN_H

#include "workload.h"

/* Uniform offset below span, a multiple of align (align > 0). */
uint64_t gen_offset(gsl_rng *rng, uint64_t span, uint32_t align);

/* Buffer-region id for registration reuse: unique per (workload entry,
 * owner, slot), never 0 (0 means a private buffer). */
uint64_t gen_buf(const wl_env_t *env, uint32_t owner, uint32_t slot);

/* cpu >= 0: that CPU (mod ncpus); cpu < 0: spread, k % ncpus. */
int16_t gen_cpu(int64_t cpu, uint64_t k, uint32_t ncpus);

/* Reads start_ms (default 0) and stop_ms (default: whole run); stop_ms
 * must be after start_ms. */
void gen_window_parse(cfg_t *c, json_t *e, double *start_ms, double *stop_ms);

/* A closed loop: from start_ms, keep qd requests in flight; each completion
 * issues the next request until stop_ms, env->end, or fill() says the
 * stream is over. fill() sets what the request is (offset, bytes, op, cls,
 * ...); the loop sets owner, done, flow and t_issue. */
typedef bool (*gen_fill_fn)(void *ctx, req_t *r);

typedef struct {
    wl_env_t env;
    uint32_t qd;
    sim_time_t start, stop;
    gen_fill_fn fill;
    void *ctx;
    uint32_t inflight;
    uint64_t issued;
    bool over, submitting, retry_set;
} gen_loop_t;

void gen_loop_start(gen_loop_t *l);

#endif
