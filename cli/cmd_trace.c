/*
 * cmd_trace.c - `latsurf trace` (placeholder until issue 6 lands).
 */
#include "cmd.h"

int cmd_trace(int argc, char **argv)
{
    if (cmd_wants_help("trace", argc, argv))
        return CMD_OK;
    return cmd_not_built("trace", 6);
}
