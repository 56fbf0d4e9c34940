/*
 * workload.h - workload generators and trace replays as plug-ins.
 *
 * A workload is an ops struct registered in the table in workload.c. Its
 * `parse` reads the scenario entry (`workload.N`, "type" already taken) into
 * a params object; `start` creates an instance for one run, which schedules
 * its own arrivals on the engine and hands requests to the I/O path through
 * the environment. Requests come back through req->done; the instance gives
 * them back to the pool. Adding a workload touches its own file and one line
 * of the table.
 *
 * Errors: a workload never prints or exits. `parse` reports through the
 * cfg_t (file and JSON path); `start` and everything a workload does during
 * the run report through wl_fail(), which sets the engine's sticky error
 * (sim_fail): the run stops and the runner reports the message.
 */
#ifndef LATSURF_WORKLOAD_H
#define LATSURF_WORKLOAD_H

#include "models/req.h"
#include "sim/cfg.h"
#include "sim/hist.h"
#include "sim/sim.h"

#include <gsl/gsl_rng.h>

/* What a workload instance may use during a run. */
typedef struct wl_env {
    sim_t *sim;
    req_pool_t *pool;
    uint64_t seed;        /* scenario seed; streams via wl_rng() */
    uint32_t rep;
    uint32_t index;       /* position in the scenario's workload list */
    uint32_t ncpus;       /* host CPUs, for consumer placement */
    sim_time_t end;       /* stop issuing new work at this time */
    /* The I/O path: takes ownership of r until r->done runs. */
    void (*submit)(void *path, req_t *r);
    void *path;
    /* NULL, or: run ns of CPU work on the consumer thread of (flow,
     * consumer cpu) - the thread a request of that flow and CPU completes
     * on - then fn(sim, ctx, arg); it competes for the CPU with the other
     * threads there. 0 or -errno (the run has failed). */
    int (*cpu_work)(void *path, uint32_t flow, uint32_t cpu, sim_time_t ns, sim_handler_fn fn,
                    void *ctx, uint64_t arg);
    /* Workload-level measurements, owned by the run's collector. */
    sim_time_t warm;      /* measurements start here (end of warm-up) */
    hist_t *step_stall;   /* per agent step: time waiting on storage */
    hist_t *query_lat;    /* per query (retrieval) */
    uint64_t *steps;      /* completed steps */
    double *gpu_busy_ns;  /* GPU compute time after warm-up (gpu_idle_fraction) */
} wl_env_t;

typedef struct wl_ops {
    const char *name;
    int (*parse)(cfg_t *c, json_t *entry, void **params); /* 0 or -EINVAL (c has why) */
    void (*params_free)(void *params);
    /* 0 or -errno; a failure with more to say than strerror leaves its
     * message with wl_fail() */
    int (*start)(const void *params, const wl_env_t *env, void **inst);
    void (*inst_free)(void *inst);
    /* its completions may ask their consumer for CPU work (wl_env_t's
     * cpu_work: a replayed think): a live run then marks each result's
     * thread CPU time, a clock read per completion the others do without */
    bool thinks;
} wl_ops_t;

const wl_ops_t *wl_find(const char *name);
const char *const *wl_names(void); /* NULL-terminated, for error messages */

/* The workload cannot go on: the run fails with "workload.<index>: <message>"
 * as its sticky error (the first failure of a run wins). Returns code. */
int wl_fail(const wl_env_t *env, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A fresh request from the pool, or NULL when there is none (out of memory,
 * or the pool's in-flight limit): the run has then failed through wl_fail,
 * so the caller only stops issuing. */
req_t *wl_req_alloc(const wl_env_t *env);

/* A stream private to this workload entry: named "<type>.<index>.<what>". */
gsl_rng *wl_rng(const wl_env_t *env, const char *type, const char *what);

#endif
