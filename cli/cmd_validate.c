/*
 * cmd_validate.c - `latsurf validate` (placeholder until issue 7 lands).
 */
#include "cmd.h"

int cmd_validate(int argc, char **argv)
{
    if (cmd_wants_help("validate", argc, argv))
        return CMD_OK;
    return cmd_not_built("validate", 7);
}
