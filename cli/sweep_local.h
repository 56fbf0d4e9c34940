/*
 * sweep_local.h - a sweep's tasks on this machine: a pool of forked worker
 * processes, each running one task at a time and streaming its result back
 * over a pipe (sweep_wire.h frames). The calling process hands out tasks as
 * workers free up and is the only one that delivers results, so it can be
 * the only SQLite writer. Workers die with it (PR_SET_PDEATHSIG).
 */
#ifndef LATSURF_SWEEP_LOCAL_H
#define LATSURF_SWEEP_LOCAL_H

#include "cli/sweep.h"

/* Run tasks todo[0..ntodo) on `workers` processes, delivering each result to
 * sink as it arrives. Stops handing out tasks when runner_interrupted is set
 * (Ctrl-C), when a task fails or when sink refuses a result; in-flight tasks
 * are interrupted and whatever finished is still delivered. Returns 0,
 * -EINTR (interrupted), -EINVAL (a task's input was bad; err says which) or
 * another negative errno with err set. */
int sweep_local_run(const sweep_plan_t *p, const uint32_t *todo, size_t ntodo, unsigned workers,
                    sweep_sink_t *sink, char *err, size_t errlen);

#endif
