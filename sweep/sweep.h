/*
 * sweep.h - the plan of a parameter sweep: `--grid KEY=V1,V2,...` lists of
 * --set values, their cartesian product (points), every point's scenario
 * loaded and checked before anything runs, and the task list (point x
 * replication x variant) with the keys that make a sweep resumable.
 *
 * The plan owns the grids, points and tasks. The backends (sweep_local.h:
 * forked workers; sweep_mpi.h: MPI ranks) run tasks by index and hand
 * finished results to a sweep_sink_t in the one process that writes SQLite.
 * A task is the same (scenario json, run.seed, replication) whatever runs
 * it, so its numbers do not depend on how tasks are spread.
 */
#ifndef LATSURF_SWEEP_H
#define LATSURF_SWEEP_H

#include "run/scenario.h"
#include "sim/result.h"

#include <signal.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define SWEEP_MAX_POINTS 100000u
#define SWEEP_MAX_TASKS 10000000u

typedef struct {
    char *arg;   /* the --grid argument as given, for messages */
    char *key;   /* the --set path */
    char **val;  /* value texts, parsed like --set when applied */
    size_t nval;
} sweep_grid_t;

typedef struct {
    char *name;  /* runs.scenario: "NAME[k=v,...]", or NAME without grids */
    char *label; /* "k=v,..." ("" without grids) */
    char hash[17]; /* of the point's scenario json without run.replications */
    scn_t *scn;
} sweep_point_t;

typedef struct {
    uint32_t point, variant, rep;
    char *key;   /* runs.task_key: "HASH|LABEL|VARIANT|REP" */
} sweep_task_t;

typedef struct {
    sweep_grid_t *grid;
    size_t ngrid;
    sweep_point_t *point;
    size_t npoint;
    sweep_task_t *task; /* point-major, then replication, then variant */
    size_t ntask;
} sweep_plan_t;

/* Parse "KEY=V1,V2,..." into g. Values split at commas outside JSON
 * brackets and quotes, so `--grid k=[1,2],[3]` has two values. 0 or
 * -EINVAL with err. */
int sweep_grid_parse(const char *arg, sweep_grid_t *g, char *err, size_t errlen);
void sweep_grid_free(sweep_grid_t *g);

/* Load FILE once per point of the grids' product (the last grid varies
 * fastest) with sets[] applied first, and list the tasks. On bad input
 * returns -EINVAL (err names the --grid and the scenario path), -ENOENT for
 * a missing file, else -errno. Frees what it made on failure. */
int sweep_plan_load(sweep_plan_t *p, const char *file, char *const *sets, size_t nsets,
                    char *const *grids, size_t ngrid, char *err, size_t errlen);
void sweep_plan_free(sweep_plan_t *p);

/* Indices of the tasks whose task_key is not in db yet, in plan order.
 * 0 or -1 with *err set (free with sqlite3_free). */
int sweep_pending(sqlite3 *db, const sweep_plan_t *p, uint32_t **todo, size_t *ntodo, char **err);

/* Run task t in this process (runner_run of its point, variant and rep);
 * stop as runner_run's. */
int sweep_run_task(const sweep_plan_t *p, uint32_t t, const volatile sig_atomic_t *stop,
                   result_t *out, char *err, size_t errlen);

/* Where finished tasks go, in the process that writes the database.
 * deliver returns 0 to go on, or a negative errno (err filled) to stop. */
typedef struct sweep_sink {
    int (*deliver)(struct sweep_sink *k, uint32_t task, const result_t *res, const char *host,
                   char *err, size_t errlen);
} sweep_sink_t;

#endif
