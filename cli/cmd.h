/*
 * cmd.h - the latsurf subcommands. Each command is one function in its own
 * cli/cmd_*.c file, listed once in the table in main.c.
 *
 * A command returns the process exit code: CMD_OK, CMD_FAIL (runtime
 * failure) or CMD_BADINPUT (bad input; the message names the file and place).
 * Commands print their own errors to stderr; nothing below cli/ exits.
 */
#ifndef LATSURF_CMD_H
#define LATSURF_CMD_H

enum { CMD_OK = 0, CMD_FAIL = 1, CMD_BADINPUT = 2 };

typedef int (*cmd_fn)(int argc, char **argv);

typedef struct {
    const char *name;
    cmd_fn fn;
    const char *usage;   /* one line, after "latsurf " */
    const char *summary; /* what it does, for `latsurf --help` */
} cmd_t;

int cmd_run(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_bench(int argc, char **argv);

const cmd_t *cmd_find(const char *name);
const char *cmd_version(void);

/* Shared by commands: is argv[i] "-h" or "--help"? Prints usage if so. */
int cmd_wants_help(const char *name, int argc, char **argv);
/* A progress callback for library code (calib_opts_t.progress): the line
 * and a newline to stderr, flushed. */
void cmd_progress_stderr(void *arg, const char *line);
/* Print "latsurf NAME: not built yet (issue N)" and return CMD_FAIL. */
int cmd_not_built(const char *name, int issue);

#endif
