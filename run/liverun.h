/*
 * live_common.h - what `latsurf live` and `latsurf validate` share: their
 * options, opening the scenario, the target (with its safety checks) and
 * the host topology, and running the scenario's variants live with every
 * finished run written to SQLite in its own transaction (mode 'live').
 * Functions return the command's exit code (cmd.h) and print their errors.
 */
#ifndef LATSURF_LIVE_COMMON_H
#define LATSURF_LIVE_COMMON_H

#include "run/scenario.h"
#include "live/target.h"
#include "live/topology.h"
#include "sim/result.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>

typedef struct {
    const char *cmd;              /* "live" or "validate", for messages */
    const char *scenario, *target, *db;
    char **sets;
    size_t nsets;
    char **variants;              /* --variant filters; none = all */
    size_t nvariants;
    double duration_ms;           /* 0 = the scenario's */
    uint64_t create;              /* --create SIZE, 0 = no */
    uint32_t reps;                /* live replications (default 1) */
    bool allow_write, trace, quiet;
    /* validate only */
    uint32_t sim_reps;            /* 0 = the scenario's */
    bool no_calibrate, recalibrate;
} livecmd_args_t;

typedef struct {
    scn_t *s;
    live_target_t tgt;
    live_topo_t topo;
    sqlite3 *db;
    bool *selected;               /* [s->nvar] */
    char *host;
    bool rdma;                    /* the scenario has RDMA continuations (a device was found) */
} livecmd_ctx_t;

/* Set by the commands' SIGINT/SIGTERM handler. */
extern volatile sig_atomic_t livecmd_stop;

/* Parse argv (after the command name). CMD_OK or CMD_BADINPUT. */
int livecmd_parse(const char *cmd, int argc, char **argv, livecmd_args_t *a);
void livecmd_args_free(livecmd_args_t *a);

/* Load the scenario, create/open the target, read the topology, open the
 * database. CMD_OK, or the exit code with the message printed. */
int livecmd_open(const livecmd_args_t *a, livecmd_ctx_t *c);
void livecmd_close(livecmd_ctx_t *c);

/* Called after each finished live run (already in the database). */
typedef void (*livecmd_run_fn)(void *ctx, uint32_t variant, uint32_t rep, const result_t *res);

/* Every selected variant x a->reps, replication-major. On SIGINT the run in
 * progress is dropped (its I/O reaped) and the finished ones stay. */
int livecmd_run(const livecmd_args_t *a, livecmd_ctx_t *c, livecmd_run_fn fn, void *fnctx);

void livecmd_signals(bool on); /* install / restore the SIGINT+SIGTERM handler */

#endif
