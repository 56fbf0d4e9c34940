/*
 * runner.h - one simulated run: a scenario's variant and replication on a
 * fresh engine, from workload start to the result's metrics. Everything
 * random draws from streams named by entity and seeded by (run.seed,
 * replication) alone, so all variants of a replication see the same
 * arrivals and service draws (common random numbers), whatever process or
 * order runs them.
 */
#ifndef LATSURF_RUNNER_H
#define LATSURF_RUNNER_H

#include "cli/scenario.h"
#include "sim/result.h"

#include <signal.h>

/* Set by a signal handler: the run in progress stops early and fails with
 * -EINTR, so the caller can keep what is finished and drop the rest. */
extern volatile sig_atomic_t runner_interrupted;

/* Where a run stands, for a progress line on long runs (a trace replay of
 * millions of requests). */
typedef struct {
    uint64_t requests;     /* completed so far */
    uint64_t now_ns, end_ns; /* simulated time reached, and where the run ends */
    double wall_s;         /* wall-clock time since the run started */
} runner_progress_t;

/* Called from the running thread at most once per simulated millisecond
 * and at least every_s of wall time apart while a run goes on; NULL (the
 * default) for none. It does not change what the run computes. The runner
 * prints nothing itself: the command decides whether and how to show it. */
typedef void (*runner_progress_fn)(const runner_progress_t *p, void *ctx);
void runner_set_progress(runner_progress_fn fn, void *ctx, double every_s);

/* 0, -EINTR (interrupted), -EINVAL (bad calibration; err says where) or -errno. */
int runner_run(const scn_t *s, uint32_t variant, uint32_t rep, result_t *out, char *err,
               size_t errlen);

/* The calibration file a variant uses, resolved (NULL = built-in defaults). */
char *runner_calibration(const scn_t *s, uint32_t variant);

#endif
