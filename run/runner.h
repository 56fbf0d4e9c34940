/*
 * runner.h - one simulated run: a scenario's variant and replication on a
 * fresh engine, from workload start to the result's metrics, through the
 * harness (run/harness.h) on the simulated executor (models/path.h), after
 * an MSER-5 pilot run when run.warmup_ms is "auto". Everything
 * random draws from streams named by entity and seeded by (run.seed,
 * replication) alone, so all variants of a replication see the same
 * arrivals and service draws (common random numbers), whatever process or
 * order runs them.
 */
#ifndef LATSURF_RUNNER_H
#define LATSURF_RUNNER_H

#include "models/exec.h"
#include "run/scenario.h"
#include "sim/result.h"

#include <signal.h>

/* 0, -EINTR (*stop was set: the run in progress stopped early, so the
 * caller keeps what is finished and drops the rest), -EINVAL (bad
 * calibration or an overloaded host; err says where) or -errno. stop is
 * the caller's flag (set by its signal handler), NULL for none. */
int runner_run(const scn_t *s, uint32_t variant, uint32_t rep, const volatile sig_atomic_t *stop,
               result_t *out, char *err, size_t errlen);

/* runner_run with progress reports (models/exec.h) on a long run; NULL for
 * none. The reports change nothing the run computes. */
int runner_run_progress(const scn_t *s, uint32_t variant, uint32_t rep,
                        const volatile sig_atomic_t *stop, const exec_progress_t *progress,
                        result_t *out, char *err, size_t errlen);

/* The calibration file a variant uses, resolved (NULL = built-in defaults). */
char *runner_calibration(const scn_t *s, uint32_t variant);

/* What the variant's runs leave out although its scenario asks for it, for
 * the caller to tell the user: host.vm_freeze "calibrated" with a
 * calibration that has no freeze model (a host that never froze in
 * calibrate's runs, or a calibration made before calibrate looked) runs
 * without freezes. 1 with msg filled, 0 nothing to say (a calibration that
 * does not load is runner_run's error, not a note). */
int runner_note(const scn_t *s, uint32_t variant, char *msg, size_t n);

#endif
