/*
 * cmd.c - the command table and helpers shared by the commands.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

#ifndef LATSURF_VERSION
#define LATSURF_VERSION "unknown"
#endif

static const cmd_t cmd_table[] = {
    {"run", cmd_run,
     "run [SCENARIO] [--db FILE] [--report FILE.html] [--reps N] [--seed N] [--set KEY=VAL]... "
     "[--quiet]",
     "simulate a scenario's variants and write results to SQLite"},
    {"sweep", cmd_sweep,
     "sweep SCENARIO --grid KEY=V1,V2,... [--grid ...] [--db FILE] [--workers N] "
     "[--set KEY=VAL]... [--reps N] [--seed N] [--quiet]",
     "run a grid of scenario points (local workers, or MPI ranks under mpirun)"},
    {"calibrate", cmd_calibrate,
     "calibrate [--target PATH [--create SIZE] [--allow-write]] [--out FILE.json] [--quick] "
     "[--quiet]",
     "measure this host's costs into a calibration file"},
    {"live", cmd_live, "live SCENARIO --target PATH [--db FILE] [--duration-ms N]",
     "run a scenario's workload on a real file or device through the same policies"},
    {"validate", cmd_validate, "validate SCENARIO... --target PATH [--create SIZE --allow-write] [--db FILE]",
     "run live and simulated side by side and compare"},
    {"trace", cmd_trace,
     "trace record --out FILE [--duration-ms N] [--pid PID] [--event SYS/EV]... "
     "[-- COMMAND ARGS...] | "
     "trace analyze FILE [--db FILE] [--export-jsonl OUT [--export-span BYTES]]",
     "record tracepoints with tracefs, or join a recorded trace per request (io_uring, "
     "pread & co, libaio) and export it as a workload"},
    {"import", cmd_import, "import FORMAT FILE --out TRACE.jsonl [--flow ID] [--from S] [--to S]",
     "convert a block trace into latsurf JSONL"},
    {"report", cmd_report,
     "report DB [--html FILE] [--format text|md|csv] [--scenario NAME] [--baseline NAME] [--all]",
     "summarise a results database"},
    {"bench", cmd_bench,
     "bench [hold|path] [--events N] [--pending P] [--draws table|gsl] [--requests N]",
     "measure the engine (hold model) or the full simulated path"},
};

const cmd_t *cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
        if (strcmp(cmd_table[i].name, name) == 0)
            return &cmd_table[i];
    return NULL;
}

void cmd_print_all(FILE *f);
void cmd_print_all(FILE *f)
{
    for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
        fprintf(f, "  %-10s %s\n", cmd_table[i].name, cmd_table[i].summary);
}

const char *cmd_version(void) { return LATSURF_VERSION; }

int cmd_wants_help(const char *name, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            const cmd_t *c = cmd_find(name);
            printf("usage: latsurf %s\n\n%s\n", c ? c->usage : name, c ? c->summary : "");
            return 1;
        }
    }
    return 0;
}

void cmd_progress_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
}

int cmd_not_built(const char *name, int issue)
{
    fprintf(stderr, "latsurf %s: not built yet (issue %d)\n", name, issue);
    return CMD_FAIL;
}
