/*
 * calib.h - host calibration: runs the probes (calprobe), the traced QD1
 * runs (tracerec -> traceparse -> tracejoin) and writes the calibration
 * JSON that the simulator loads (format and parameters: docs/calibration.md).
 *
 * calib_run owns the scratch file it creates at the target and removes it
 * before returning, also when *stop is set by a signal handler.
 */
#ifndef LATSURF_CALIB_H
#define LATSURF_CALIB_H

#include <jansson.h>
#include <signal.h>

#define CALIB_FORMAT_VERSION 1

typedef struct {
    const char *target;   /* directory or new file path; NULL = a temp file on / */
    int quick;            /* < 60 s instead of a few minutes */
    const char *command;  /* the command line, for provenance */
    /* Called with each step line ("calibrate [3/12] ..."), no newline; NULL
     * = silent. The CLI decides where it goes: this module prints nothing. */
    void (*progress)(void *arg, const char *line);
    void *progress_arg;
    const volatile sig_atomic_t *stop; /* set asynchronously to abandon the run */
} calib_opts_t;

/* Measure this host. On success *out is the calibration document (caller
 * json_decref's it) and 0 is returned; otherwise -EINTR (stopped), -EINVAL
 * (bad target: the message in err names it) or another negative errno. */
int calib_run(const calib_opts_t *o, json_t **out, char *err, size_t errlen);

/* Is the calibration at path (NULL: the built-in defaults) stale for this
 * host? NULL when its provenance names this host and running kernel and is
 * at most max_age_days old; else why not, written into why. */
const char *calib_stale(const char *path, double max_age_days, char *why, size_t n);

#endif
