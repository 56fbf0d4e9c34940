/*
 * cmd_calibrate.c - `latsurf calibrate` (placeholder until issue 6 lands).
 */
#include "cmd.h"

int cmd_calibrate(int argc, char **argv)
{
    if (cmd_wants_help("calibrate", argc, argv))
        return CMD_OK;
    return cmd_not_built("calibrate", 6);
}
