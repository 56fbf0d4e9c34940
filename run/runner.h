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

#include "run/scenario.h"
#include "sim/result.h"

#include <signal.h>

/* Set by a signal handler: the run in progress stops early and fails with
 * -EINTR, so the caller can keep what is finished and drop the rest. */
extern volatile sig_atomic_t runner_interrupted;

/* 0, -EINTR (interrupted), -EINVAL (bad calibration; err says where) or -errno. */
int runner_run(const scn_t *s, uint32_t variant, uint32_t rep, result_t *out, char *err,
               size_t errlen);

/* The calibration file a variant uses, resolved (NULL = built-in defaults). */
char *runner_calibration(const scn_t *s, uint32_t variant);

#endif
