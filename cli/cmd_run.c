/* cmd_run.c - `latsurf run` (being written). */
#include "cmd.h"
int cmd_run(int argc, char **argv)
{
    if (cmd_wants_help("run", argc, argv))
        return CMD_OK;
    return cmd_not_built("run", 2);
}
