/*
 * main.c - latsurf entry point: dispatch to a subcommand from the table in
 * cmd.c.
 */
#include "cmd.h"

#include <stdio.h>
#include <string.h>

void cmd_print_all(FILE *f);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: latsurf COMMAND [ARGS...]\n\n"
            "latsurf simulates the AI storage path (SSD, MSI-X, blk-mq, io_uring, wakeup,\n"
            "RDMA/GPU continuation) as calibrated queues and compares policy variants.\n\n"
            "commands:\n");
    cmd_print_all(f);
    fprintf(f, "\n`latsurf COMMAND --help` describes one command. Exit codes: 0 ok, 1 runtime\n"
               "failure, 2 bad input.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CMD_BADINPUT;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CMD_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("latsurf %s\n", cmd_version());
        return CMD_OK;
    }
    const cmd_t *c = cmd_find(argv[1]);
    if (!c) {
        fprintf(stderr, "latsurf: unknown command '%s' (see latsurf --help)\n", argv[1]);
        return CMD_BADINPUT;
    }
    return c->fn(argc - 1, argv + 1);
}
