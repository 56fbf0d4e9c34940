/*
 * sweep_local.h - a pool of forked worker processes that run sweep tasks
 * on this machine, and the local sweep built on it.
 *
 * Each worker runs one task at a time and streams its result back over a
 * pipe as a sweep_wire frame; the process that owns the pool hands out
 * tasks as workers free up and is the only one that sees results, so it can
 * be the only SQLite writer (or forward frames to MPI rank 0). Workers are
 * forked once, before MPI_Init when under mpirun, and die with their parent
 * (PR_SET_PDEATHSIG).
 */
#ifndef LATSURF_SWEEP_LOCAL_H
#define LATSURF_SWEEP_LOCAL_H

#include "sweep/sweep.h"

typedef struct sweep_pool sweep_pool_t;

/* Fork n workers for plan p (which must outlive the pool). stop is the
 * caller's flag, set by its SIGINT handler (installed before this call, so
 * the workers inherit it): a worker's task in progress ends as -EINTR when
 * its copy is set. 0 or -errno with err. */
int sweep_pool_start(sweep_pool_t **pool, const sweep_plan_t *p, unsigned n,
                     const volatile sig_atomic_t *stop, char *err, size_t errlen);
unsigned sweep_pool_size(const sweep_pool_t *pool);
unsigned sweep_pool_idle(const sweep_pool_t *pool); /* can take a task now */
unsigned sweep_pool_busy(const sweep_pool_t *pool);

/* Hand task t to an idle worker. 0, -EBUSY (none idle) or -errno. */
int sweep_pool_give(sweep_pool_t *pool, uint32_t t);

/* A finished task's frame; a nonzero return is passed on by sweep_pool_poll. */
typedef int (*sweep_frame_fn)(void *ctx, const void *frame, size_t len, char *err, size_t errlen);

/* Wait up to timeout_ms for busy workers, calling fn on each frame that
 * arrives. A worker that dies yields an error frame for its task. Sleeps the
 * timeout when nothing is busy. 0, or the first nonzero return of fn (err set). */
int sweep_pool_poll(sweep_pool_t *pool, int timeout_ms, sweep_frame_fn fn, void *ctx, char *err,
                    size_t errlen);

/* Hand out nothing more: workers exit once idle. interrupt: also SIGINT the
 * busy ones, whose tasks then end early as -EINTR frames. Keep polling
 * until sweep_pool_busy is 0 to collect what is in flight. */
void sweep_pool_stop(sweep_pool_t *pool, int interrupt);

/* Close the pipes and reap the workers. */
void sweep_pool_free(sweep_pool_t *pool);

/* Run todo[0..ntodo) on the pool, delivering each result to sink as it
 * arrives. Stops handing out tasks when *stop is set (Ctrl-C),
 * when a task fails or when sink refuses a result; in-flight tasks are
 * interrupted and whatever finished is still delivered. Returns 0, -EINTR
 * (interrupted), -EINVAL (a task's input was bad; err says which) or
 * another negative errno with err set. */
int sweep_local_run(const sweep_plan_t *p, sweep_pool_t *pool, const uint32_t *todo,
                    size_t ntodo, sweep_sink_t *sink, const volatile sig_atomic_t *stop,
                    char *err, size_t errlen);

#endif
