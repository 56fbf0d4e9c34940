/*
 * liverun.h - live runs of a scenario, as `latsurf live` and `latsurf
 * validate` make them: open the scenario, the target (with its safety
 * checks) and the host topology, run the selected variants live, and write
 * every finished run to SQLite in its own transaction (mode 'live').
 *
 * It lives in run/, beside the simulated runner, rather than in live/:
 * live/ is the executor (io_uring backend, stamps, topology) and knows
 * nothing of scenario files or databases; this file is the harness's user
 * that turns a scenario and a target into database rows, so it sits in the
 * layer that links scenario loading, live/ and reports/. The commands keep
 * the option parsing and the messages (cli/live_opts.h).
 *
 * Nothing here prints: errors come back as -errno with a message (-EINVAL:
 * bad input, naming the file and the place), notes through a callback.
 */
#ifndef LATSURF_LIVERUN_H
#define LATSURF_LIVERUN_H

#include "live/target.h"
#include "live/topology.h"
#include "run/scenario.h"
#include "sim/result.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>

/* What the user asked for (the commands' options). */
typedef struct {
    const char *scenario, *target, *db;
    char **sets;
    size_t nsets;
    char **variants;              /* --variant filters; none = all */
    size_t nvariants;
    double duration_ms;           /* 0 = the scenario's */
    uint64_t create;              /* --create SIZE, 0 = no */
    uint32_t reps;                /* live replications (default 1) */
    bool allow_write, trace;
    bool pread;                   /* --submit pread (live/live.h) */
    const char *version;          /* runs.version */
    const volatile sig_atomic_t *stop; /* the caller's Ctrl-C flag, NULL for none */
    /* A message for the user that is not an error: a note on what the host
     * could not do as the policy asked (variant set), or progress (variant
     * NULL). May be NULL. */
    void (*note)(void *ctx, const char *variant, const char *msg);
    void *note_ctx;
} liverun_opts_t;

typedef struct {
    scn_t *s;
    live_target_t tgt;
    live_topo_t topo;
    sqlite3 *db;
    bool *selected;               /* [s->nvar] */
    char *host;
    bool rdma;                    /* the scenario has RDMA continuations (a device was found) */
} liverun_t;

/* Load the scenario, create/open the target, read the topology, open the
 * database. 0, -EINVAL (bad input or a refused target: err says why) or
 * another -errno (err says why). liverun_close() in every case. */
int liverun_open(const liverun_opts_t *o, liverun_t *c, char *err, size_t errlen);
void liverun_close(liverun_t *c);

/* Called after each finished live run (already in the database). */
typedef void (*liverun_done_fn)(void *ctx, uint32_t variant, uint32_t rep, const result_t *res);

/* Every selected variant x o->reps, replication-major. 0; -EINTR (*o->stop
 * was set: the run in progress is dropped, its I/O reaped, the finished
 * ones stay; err says how many); -EINVAL (bad input: err names the variant);
 * or another -errno with err. */
int liverun_run(const liverun_opts_t *o, liverun_t *c, liverun_done_fn fn, void *fnctx, char *err,
                size_t errlen);

#endif
