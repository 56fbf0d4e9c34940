/*
 * calib.h - host calibration: runs the probes (calprobe), the traced QD1
 * runs (tracerec -> traceparse -> tracejoin) and writes the calibration
 * JSON that the simulator loads (format and parameters: docs/calibration.md).
 *
 * Two kinds of target. A scratch file (no `open` target): calib_run creates
 * it, fills it with data, reads and overwrites it, and removes it before
 * returning, also when *stop is set by a signal handler. An existing file
 * or block device opened by the caller (`open`, with the safety checks of
 * live/target.h): measured read-only unless the caller opened it writable,
 * which it may only for a file latsurf created; write costs are then written
 * as not measured ("value": null). A regular file with holes or unwritten
 * extents (SEEK_HOLE) is refused: reads there never reach the device.
 */
#ifndef LATSURF_CALIB_H
#define LATSURF_CALIB_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#define CALIB_FORMAT_VERSION 1

/* An existing target, opened (O_DIRECT) and owned by the caller. */
typedef struct {
    int fd;
    const char *path;
    uint64_t size;  /* bytes */
    int blockdev;   /* a block device (else a regular file) */
    int writable;   /* opened for writing: a file latsurf created */
} calib_target_t;

typedef struct {
    const char *target;   /* scratch: directory or new file path; NULL = a temp file on / */
    const calib_target_t *open; /* measure this existing target instead of a scratch file */
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
 * (bad target, e.g. a file with holes: the message in err names it) or
 * another negative errno. */
int calib_run(const calib_opts_t *o, json_t **out, char *err, size_t errlen);

/* Is the calibration at path (NULL: the built-in defaults) stale for this
 * host? NULL when its provenance names this host and running kernel and is
 * at most max_age_days old; else why not, written into why. */
const char *calib_stale(const char *path, double max_age_days, char *why, size_t n);

#endif
