/*
 * cmd_report.c - `latsurf report` (placeholder until issue 8 lands).
 */
#include "cmd.h"

int cmd_report(int argc, char **argv)
{
    if (cmd_wants_help("report", argc, argv))
        return CMD_OK;
    return cmd_not_built("report", 8);
}
