/*
 * target.h - what a live run may touch, and the checks that keep it safe.
 *
 * A target is opened for O_DIRECT reads. Writes are allowed only to a
 * regular file that latsurf created itself (it carries the extended
 * attribute LIVE_TARGET_XATTR, set by live_target_create) and only when the
 * caller asks. A block device is refused when it, or a partition of it, is
 * mounted, used as swap or held by another driver (device mapper, md); an
 * accepted one is opened with O_EXCL so nothing can mount it during the run.
 * Refusals return -EPERM and bad paths -EINVAL, with a message naming the
 * path; the CLI turns both into exit code 2.
 */
#ifndef LATSURF_LIVE_TARGET_H
#define LATSURF_LIVE_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIVE_TARGET_XATTR "user.latsurf.target"

typedef struct {
    int fd;
    char *path;
    bool blockdev, writable;
    uint64_t size;  /* bytes */
} live_target_t;

/* Create (or extend, if it is already a latsurf target) the file at path to
 * `bytes`, written with data so that reads reach the device (holes and
 * unwritten extents would be answered without I/O), and mark it. 0, -EPERM
 * (exists and is not ours), -EINVAL or -errno, with err set. */
int live_target_create(const char *path, uint64_t bytes, char *err, size_t errlen);

/* Is path a file latsurf created? 1 yes, 0 no. */
int live_target_is_ours(const char *path);

/* Open the target. 0, -EPERM (refused: see above), -EINVAL (neither a
 * regular file nor a block device, or empty) or -errno, with err set. */
int live_target_open(const char *path, bool allow_write, live_target_t *t, char *err,
                     size_t errlen);
void live_target_close(live_target_t *t);

/* Parse a size like 4096, 64K, 256M, 2G (binary units). 0 or -EINVAL. */
int live_target_parse_size(const char *s, uint64_t *out);

#endif
