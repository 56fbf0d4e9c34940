/*
 * cmd_live.c - `latsurf live`: a scenario's variants replayed on a real
 * file or block device through the same policy objects as the simulator
 * (live/live.h), each run written to SQLite with mode 'live'.
 */
#include "cmd.h"

#include "cli/live_opts.h"

#include <stdio.h>

int cmd_live(int argc, char **argv)
{
    if (cmd_wants_help("live", argc, argv)) {
        printf("\nOptions:\n"
               "  --target PATH      a file (O_DIRECT) or an unmounted block device; required\n"
               "  --db FILE          results database (default results.sqlite)\n"
               "  --duration-ms N    run length per variant (default: the scenario's run)\n"
               "  --create SIZE      create PATH first (e.g. 1G), filled with data and marked\n"
               "                     as latsurf's\n"
               "  --allow-write      let the workload write; only to a file latsurf created\n"
               "  --reps N           live replications per variant (default 1)\n"
               "  --variant NAME     run only this variant (repeatable)\n"
               "  --set KEY=VAL      override a scenario key, as in latsurf run\n"
               "  --trace            fill the kernel-side stamps from tracefs (root)\n"
               "  --submit MODE      io_uring (default) or pread: each request one blocking\n"
               "                     pread/pwrite on its consumer's thread, to replay a\n"
               "                     program that read that way (docs/whatif.md)\n"
               "  --quiet            no per-run lines\n"
               "Read-only by default. Refuses a mounted block device. Ctrl-C reaps every\n"
               "I/O in flight and keeps the runs already finished. Exit 2 on bad input or a\n"
               "refused target. docs/live.md has the details.\n");
        return CMD_OK;
    }
    livecmd_args_t a;
    int rc = livecmd_parse("live", argc, argv, &a);
    if (rc != CMD_OK) {
        livecmd_args_free(&a);
        return rc;
    }
    liverun_t c;
    livecmd_signals(true);
    rc = livecmd_open(&a, &c);
    if (rc == CMD_OK)
        rc = livecmd_run(&a, &c, NULL, NULL);
    if (rc == CMD_OK && !a.quiet)
        printf("results written to %s\n", a.run.db);
    livecmd_signals(false);
    liverun_close(&c);
    livecmd_args_free(&a);
    return rc;
}
