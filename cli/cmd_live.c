/*
 * cmd_live.c - `latsurf live` (placeholder until issue 7 lands).
 */
#include "cmd.h"

int cmd_live(int argc, char **argv)
{
    if (cmd_wants_help("live", argc, argv))
        return CMD_OK;
    return cmd_not_built("live", 7);
}
