/*
 * cmd_calibrate.c - `latsurf calibrate`: measure this host (calibrate/calib)
 * and write the calibration JSON.
 */
#include "calibrate/calib.h"
#include "cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t calibrate_stop;

static void on_signal(int sig)
{
    (void)sig;
    calibrate_stop = 1;
}

int cmd_calibrate(int argc, char **argv)
{
    if (cmd_wants_help("calibrate", argc, argv))
        return CMD_OK;
    const char *target = NULL, *out = "calibration.json";
    int quick = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            target = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else {
            fprintf(stderr, "latsurf calibrate: unexpected argument '%s' (see --help)\n", argv[i]);
            return CMD_BADINPUT;
        }
    }
    char command[1024];
    size_t len = (size_t)snprintf(command, sizeof(command), "latsurf");
    for (int i = 0; i < argc && len < sizeof(command); i++)
        len += (size_t)snprintf(command + len, sizeof(command) - len, " %s", argv[i]);

    /* Write to a temporary name and rename, so a failed run leaves no
     * half-written calibration behind. Checked first: no point measuring
     * for minutes into an unwritable place. */
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp%d", out, (int)getpid());
    FILE *probe = fopen(tmp, "w");
    if (!probe) {
        fprintf(stderr, "latsurf calibrate: cannot write %s: %s\n", out, strerror(errno));
        return CMD_BADINPUT;
    }
    fclose(probe);

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    calibrate_stop = 0;
    calib_opts_t o = {.target = target,
                      .quick = quick,
                      .command = command,
                      .progress = !quiet && isatty(STDERR_FILENO) ? cmd_progress_stderr : NULL,
                      .stop = &calibrate_stop};
    json_t *doc = NULL;
    char err[512];
    int rc = calib_run(&o, &doc, err, sizeof(err));
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc) {
        unlink(tmp);
        fprintf(stderr, "latsurf calibrate: %s%s\n", err,
                rc == -EINTR ? " (scratch file removed)" : "");
        return rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
    }
    rc = json_dump_file(doc, tmp, JSON_INDENT(2) | JSON_REAL_PRECISION(12));
    size_t nparams = json_object_size(json_object_get(doc, "params"));
    json_decref(doc);
    if (rc != 0 || rename(tmp, out) != 0) {
        fprintf(stderr, "latsurf calibrate: writing %s failed: %s\n", out, strerror(errno));
        unlink(tmp);
        return CMD_FAIL;
    }
    printf("%zu parameters written to %s\n", nparams, out);
    return CMD_OK;
}
