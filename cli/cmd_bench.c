/*
 * cmd_bench.c - `latsurf bench` (placeholder; the hold model lands next).
 */
#include "cmd.h"

int cmd_bench(int argc, char **argv)
{
    if (cmd_wants_help("bench", argc, argv))
        return CMD_OK;
    return cmd_not_built("bench", 2);
}
