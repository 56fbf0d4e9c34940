/*
 * cmd_sweep.c - `latsurf sweep` (placeholder until issue 9 lands).
 */
#include "cmd.h"

int cmd_sweep(int argc, char **argv)
{
    if (cmd_wants_help("sweep", argc, argv))
        return CMD_OK;
    return cmd_not_built("sweep", 9);
}
