/*
 * cmd_calibrate.c - `latsurf calibrate`: measure this host (calibrate/calib)
 * and write the calibration JSON. An existing target is created and opened
 * here with live/target.h, so calibrate refuses and writes exactly what
 * `latsurf live` refuses and writes.
 */
#include "calibrate/calib.h"
#include "cmd.h"
#include "live/target.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t calibrate_stop;

static void on_signal(int sig)
{
    (void)sig;
    calibrate_stop = 1;
}

/* An existing target (or one --create makes), created and opened with the
 * checks of `latsurf live`: 1 = opened into *t; 0 = none, calib makes a
 * scratch file; -1 = refused or failed, the message printed, *exit_code set. */
static int open_target(const char *target, uint64_t create, bool allow_write, bool quiet,
                       live_target_t *t, int *exit_code)
{
    struct stat st;
    bool exists = stat(target, &st) == 0;
    char err[2600];
    if (!create && (!exists || S_ISDIR(st.st_mode)))
        return 0; /* a scratch file at that path or in that directory */
    if (create && exists && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "latsurf calibrate: --create: %s is a directory; give a file path\n",
                target);
        *exit_code = CMD_BADINPUT;
        return -1;
    }
    if (create) {
        if (!quiet && (!exists || (S_ISREG(st.st_mode) && (uint64_t)st.st_size < create)))
            fprintf(stderr, "latsurf calibrate: writing %llu MiB to %s ...\n",
                    (unsigned long long)(create >> 20), target);
        int rc = live_target_create(target, create, err, sizeof(err));
        if (rc) {
            fprintf(stderr, "latsurf calibrate: --create: %s\n", err);
            *exit_code = rc == -EPERM || rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
            return -1;
        }
    }
    int rc = live_target_open(target, allow_write, t, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "latsurf calibrate: %s\n", err);
        *exit_code = rc == -EPERM || rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
        return -1;
    }
    return 1;
}

int cmd_calibrate(int argc, char **argv)
{
    if (cmd_wants_help("calibrate", argc, argv)) {
        printf("\nOptions:\n"
               "  --target PATH      what to measure (default: a scratch file in /var/tmp):\n"
               "                     a directory or a new path: a scratch file, written,\n"
               "                     read and overwritten, then removed;\n"
               "                     an existing file (O_DIRECT, no holes) or an unmounted\n"
               "                     block device: measured read-only\n"
               "  --create SIZE      create PATH first (e.g. 1G), filled with data and marked\n"
               "                     as latsurf's; kept afterwards (for live and validate)\n"
               "  --allow-write      measure writes too; only to a file latsurf created\n"
               "  --out FILE.json    where to write (default calibration.json)\n"
               "  --quick            under a minute (fewer samples)\n"
               "  --quiet            no progress lines\n"
               "Read-only on an existing target: write costs are then written as not\n"
               "measured (\"value\": null). Refuses a mounted block device and a file with\n"
               "holes. Exit 2 on bad input or a refused target. docs/calibration.md has the\n"
               "details.\n");
        return CMD_OK;
    }
    const char *target = NULL, *out = "calibration.json";
    int quick = 0, quiet = 0;
    uint64_t create = 0;
    bool allow_write = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--target") == 0 && i + 1 < argc)
            target = argv[++i];
        else if (strcmp(argv[i], "--create") == 0 && i + 1 < argc) {
            if (live_target_parse_size(argv[++i], &create)) {
                fprintf(stderr, "latsurf calibrate: --create: expected a size like 256M or 1G, "
                        "got '%s'\n", argv[i]);
                return CMD_BADINPUT;
            }
        } else if (strcmp(argv[i], "--allow-write") == 0)
            allow_write = true;
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
    if ((create || allow_write) && !target) {
        fprintf(stderr, "latsurf calibrate: %s needs --target PATH\n",
                create ? "--create" : "--allow-write");
        return CMD_BADINPUT;
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

    live_target_t tgt = {.fd = -1};
    calib_target_t ct = {0};
    int exit_code = CMD_OK, opened = target ? open_target(target, create, allow_write, quiet,
                                                          &tgt, &exit_code)
                                            : 0;
    if (opened < 0) {
        unlink(tmp);
        return exit_code;
    }
    if (opened)
        ct = (calib_target_t){.fd = tgt.fd, .path = tgt.path, .size = tgt.size,
                              .blockdev = tgt.blockdev, .writable = tgt.writable};

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    calibrate_stop = 0;
    calib_opts_t o = {.target = target,
                      .open = opened ? &ct : NULL,
                      .quick = quick,
                      .command = command,
                      .progress = !quiet && isatty(STDERR_FILENO) ? cmd_progress_stderr : NULL,
                      .stop = &calibrate_stop};
    json_t *doc = NULL;
    char err[512];
    int rc = calib_run(&o, &doc, err, sizeof(err));
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    live_target_close(&tgt);
    if (rc) {
        unlink(tmp);
        fprintf(stderr, "latsurf calibrate: %s\n", err);
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
