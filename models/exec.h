/*
 * exec.h - the executor interface: what carries out a request once the
 * policy has placed it. fio's ioengine_ops is the model: one table of
 * operations per engine, and one harness (run/harness.h) that drives any
 * of them. Two implementations:
 *
 *   path_exec_ops (models/path.c)  the simulated host path, in virtual time;
 *   live_exec_ops (live/live.c)    the io_uring backend on a real target, in
 *                                  wall-clock time.
 *
 * The header lives in models/, the lowest layer both executors link; the
 * harness sits above them in run/.
 *
 * Who owns what. The harness owns, for one run: the engine (sim_t: the
 * clock and timers; live uses it as a timer wheel in wall-clock time), the
 * request pool, the collector, the policy object (pol_t), the workload
 * instances and their wl_env_t, the in-flight counts per class, and the
 * placement: it asks the policy and applies the answer to the request
 * (req_apply_placement, handling POL_ADMIT_LATER and POL_ADMIT_DROP) before
 * an executor sees it. The executor owns its devices or rings, the system
 * view the policy reads (topology, queues, vectors) and its CPU accounting.
 *
 * A request's life. A workload submits r; the harness wraps r->dev and
 * r->consumer_cpu into the executor's shape, stamps t_issue, calls refuse
 * (optional), view, pol_place, req_apply_placement, then submit. The
 * executor calls env->complete(env->harness, r) exactly once for every
 * request it accepted (submit returned 0), with t_ready and t_continued
 * set; the harness then collects r (unless keep took it), gives the policy
 * its feedback and hands r back to its workload through r->done.
 *
 * A run. init, then the workloads start (between lock(x, true) and
 * lock(x, false) when the executor has a lock), run, finish, the contract
 * metrics (collect_result), results; free, and only then the workloads
 * are freed. run drives time from 0 to env->end; at env->warm the executor
 * restarts its CPU accounting; it stops early when *env->stop is set. When
 * run returns every accepted request has completed; free winds down a run
 * that never got to run (completing what is in flight), so afterwards no
 * executor thread runs and no request is held.
 *
 * Threads. Every harness entry (the workloads' submit, env->complete) runs
 * on one thread at a time: the simulator has one thread; the live backend
 * completes on worker threads, which take the executor's lock (the engine
 * lock) before calling env->complete.
 *
 * Errors are return codes with a message in err; an executor never prints.
 */
#ifndef LATSURF_EXEC_H
#define LATSURF_EXEC_H

#include "models/collect.h"
#include "models/req.h"
#include "policies/policy.h"
#include "sim/result.h"
#include "sim/sim.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a run stands, for a progress line on long runs (a trace replay of
 * millions of requests). The executor calls exec_progress_t.fn from the
 * running thread at most once per simulated millisecond and at least
 * every_s of wall time apart; it does not change what the run computes.
 * Nothing below cli/ prints it: the command decides whether and how. */
typedef struct {
    uint64_t requests;       /* completed so far */
    uint64_t now_ns, end_ns; /* simulated time reached, and where the run ends */
    double wall_s;           /* wall-clock time since the run started */
} exec_progress_report_t;

typedef struct {
    void (*fn)(const exec_progress_report_t *p, void *ctx);
    void *ctx;
    double every_s;
} exec_progress_t;

/* What the harness lends an executor for one run. */
typedef struct {
    sim_t *sim;
    req_pool_t *pool;
    collect_t *col;
    const pol_variant_t *variant;
    const pol_config_t *polcfg;
    uint64_t seed;
    uint32_t rep;
    sim_time_t warm, end;                /* measurement starts at warm; the run ends at end */
    const volatile sig_atomic_t *stop;   /* the caller's flag: wind down early; may be NULL */
    const exec_progress_t *progress;     /* NULL: no progress reports */
    /* The executor is done with r: t_ready and t_continued are set. */
    void (*complete)(void *harness, req_t *r);
    void *harness;
} exec_env_t;

/* What the executor offers: requests are wrapped into these ranges. */
typedef struct {
    uint32_t ncpus;   /* CPUs the policy places on */
    uint32_t ndev;    /* devices a request may target */
} exec_shape_t;

typedef struct exec_ops {
    const char *name;
    /* Set up for one run; cfg is the executor's own configuration (path_cfg_t,
     * live_cfg_t). 0 or -errno with err; *x, when set, goes to free() in
     * either case. */
    int (*init)(const exec_env_t *env, const void *cfg, void **x, exec_shape_t *shape,
                char *err, size_t errlen);
    /* Optional: true to hand r back to its workload unplaced (live: the run
     * is winding down or failed, or r does not fit the target). */
    bool (*refuse)(void *x, const req_t *r);
    /* The system the policy sees for r's device. The harness has zeroed v
     * and fills inflight and now_ns itself. */
    void (*view)(void *x, const req_t *r, pol_view_t *v);
    /* Carry out r, placed by pl (already applied to r). 0, or -errno: r was
     * not taken (the executor recorded why; the harness hands r back). */
    int (*submit)(void *x, req_t *r, const pol_placement_t *pl);
    /* Optional: true when the executor keeps r to collect later itself
     * (live: the kernel's stamps arrive from tracefs after the run). */
    bool (*keep)(void *x, const req_t *r);
    /* Optional: run `ns` of CPU time as user work of the consumer thread
     * (flow, declared CPU `cpu`, as a request would name it), then fn(sim,
     * ctx, arg) - the application computing between its requests (a trace's
     * think_cpu_ns), competing for that CPU like any thread. Called where the
     * harness is entered (under the lock); fn runs there too. 0 or -errno
     * (the run has failed: sim_fail). Without it the workload waits instead. */
    int (*cpu_work)(void *x, uint32_t flow, uint32_t cpu, sim_time_t ns, sim_handler_fn fn,
                    void *ctx, uint64_t arg);
    /* Optional: take (on) or release the lock that serializes the harness
     * with the executor's own threads. */
    void (*lock)(void *x, bool on);
    /* Drive time to env->end. 0, -EINTR (*env->stop was set) or -errno with
     * err. */
    int (*run)(void *x, char *err, size_t errlen);
    /* After run: collect what keep held, and fill tot->cpu_ns (host CPU time
     * spent on I/O after warm-up). 0, or -errno with err: the run failed. */
    int (*finish)(void *x, collect_totals_t *tot, char *err, size_t errlen);
    /* Optional: the executor's own metrics, after the contract ones. */
    void (*results)(void *x, result_t *out);
    void (*free)(void *x);
} exec_ops_t;

#endif
