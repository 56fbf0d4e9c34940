/*
 * cmd_import.c - `latsurf import` (placeholder until issue 5 lands).
 */
#include "cmd.h"

int cmd_import(int argc, char **argv)
{
    if (cmd_wants_help("import", argc, argv))
        return CMD_OK;
    return cmd_not_built("import", 5);
}
