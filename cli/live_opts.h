/*
 * live_opts.h - what `latsurf live` and `latsurf validate` share at the
 * command line: their options, the SIGINT/SIGTERM flag, and the messages
 * around run/liverun.h (which does the work and prints nothing).
 * Functions return the command's exit code (cmd.h) and print their errors.
 */
#ifndef LATSURF_LIVE_OPTS_H
#define LATSURF_LIVE_OPTS_H

#include "run/liverun.h"

#include <signal.h>
#include <stdbool.h>

typedef struct {
    const char *cmd;              /* "live" or "validate", for messages */
    liverun_opts_t run;           /* scenario, target, db, sets, variants, ... */
    bool quiet;
    /* validate only */
    uint32_t sim_reps;            /* 0 = the scenario's */
    uint32_t rounds;              /* paired rounds (1 = one); each recalibrates with --recalibrate */
    bool no_calibrate, recalibrate;
    const char *reference;        /* --reference DB: an analyzed recording (reports/reference.h) */
    const char **scenarios;       /* validate: every SCENARIO given (run.scenario = the first) */
    size_t nscenarios;
} livecmd_args_t;

/* Set by the commands' SIGINT/SIGTERM handler; a->run.stop points here. */
extern volatile sig_atomic_t livecmd_stop;

/* Parse argv (after the command name). CMD_OK or CMD_BADINPUT. */
int livecmd_parse(const char *cmd, int argc, char **argv, livecmd_args_t *a);
void livecmd_args_free(livecmd_args_t *a);

/* liverun_open, with the message printed: CMD_OK or the exit code.
 * liverun_close() in every case. */
int livecmd_open(const livecmd_args_t *a, liverun_t *c);

/* liverun_run, printing a line per finished run (unless --quiet), the
 * notes, and the error: CMD_OK or the exit code. */
int livecmd_run(const livecmd_args_t *a, liverun_t *c, liverun_done_fn fn, void *fnctx);

void livecmd_signals(bool on); /* install / restore the SIGINT+SIGTERM handler */

#endif
