/*
 * target.c - see target.h.
 */
#define _GNU_SOURCE
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define TARGET_MARK "latsurf live target v1"
#define TARGET_CHUNK (1u << 20)

int live_target_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        return -EINVAL;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end == 'i' && shift)
        end++;
    if ((*end == 'B' || *end == 'b') && end[1] == '\0')
        end++;
    if (*end || v == 0 || v > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

static int fd_is_ours(int fd)
{
    char buf[64];
    ssize_t n = fgetxattr(fd, LIVE_TARGET_XATTR, buf, sizeof(buf) - 1);
    if (n < 0)
        return 0;
    buf[n] = '\0';
    return strcmp(buf, TARGET_MARK) == 0;
}

int live_target_is_ours(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    struct stat st;
    int ours = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fd_is_ours(fd);
    close(fd);
    return ours;
}

/* A pattern no layer below can mistake for zeroes. */
static void fill_pattern(unsigned char *buf, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
}

int live_target_create(const char *path, uint64_t bytes, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    bool fresh = fd >= 0;
    if (fd < 0 && errno == EEXIST) {
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0 && !fd_is_ours(fd)) {
            close(fd);
            snprintf(err, errlen, "%s: exists and was not created by latsurf; refusing to write it",
                     path);
            return -EPERM;
        }
    }
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    int rc = 0;
    if (fresh && fsetxattr(fd, LIVE_TARGET_XATTR, TARGET_MARK, strlen(TARGET_MARK), 0) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: cannot set the %s marker (%s); latsurf only writes files it "
                 "can mark", path, LIVE_TARGET_XATTR, strerror(-rc));
    }
    struct stat st;
    if (!rc && fstat(fd, &st) != 0)
        rc = -errno;
    unsigned char *buf = NULL;
    if (!rc && posix_memalign((void **)&buf, 4096, TARGET_CHUNK) != 0)
        rc = -ENOMEM;
    /* whole chunks from the first incomplete one */
    uint64_t off = rc ? bytes : (uint64_t)st.st_size / TARGET_CHUNK * TARGET_CHUNK;
    for (; !rc && off < bytes; off += TARGET_CHUNK) {
        size_t len = bytes - off < TARGET_CHUNK ? (size_t)(bytes - off) : TARGET_CHUNK;
        fill_pattern(buf, TARGET_CHUNK, off / TARGET_CHUNK + 1);
        for (size_t done = 0; !rc && done < len;) {
            ssize_t w = pwrite(fd, buf + done, len - done, (off_t)(off + done));
            if (w < 0 && errno != EINTR)
                rc = -errno;
            else if (w > 0)
                done += (size_t)w;
        }
        if (rc)
            snprintf(err, errlen, "%s: writing at %llu: %s", path, (unsigned long long)off,
                     strerror(-rc));
    }
    if (!rc && fsync(fd) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: fsync: %s", path, strerror(-rc));
    }
    free(buf);
    close(fd);
    if (rc && fresh)
        unlink(path);
    return rc;
}

/* Is the disk dev (or one of its partitions) mounted or swapped on? */
static bool dev_matches(dev_t disk, unsigned maj, unsigned min)
{
    if (maj == major(disk) && min == minor(disk))
        return true;
    /* a partition of disk: /sys/dev/block/M:m/../dev is disk's */
    char p[96], buf[32];
    snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/../dev", maj, min);
    FILE *f = fopen(p, "re");
    if (!f)
        return false;
    unsigned a, b;
    bool hit = fgets(buf, sizeof(buf), f) && sscanf(buf, "%u:%u", &a, &b) == 2 &&
               a == major(disk) && b == minor(disk);
    fclose(f);
    return hit;
}

static const char *blk_in_use(dev_t rdev, char *what, size_t n)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char line[4096];
    while (f && fgets(line, sizeof(line), f)) {
        unsigned maj, min;
        char mnt[2048];
        if (sscanf(line, "%*d %*d %u:%u %*s %2047s", &maj, &min, mnt) == 3 &&
            dev_matches(rdev, maj, min)) {
            snprintf(what, n, "it is mounted (on %s)", mnt);
            fclose(f);
            return what;
        }
    }
    if (f)
        fclose(f);
    f = fopen("/proc/swaps", "re");
    while (f && fgets(line, sizeof(line), f)) {
        char dev[1024];
        struct stat st;
        if (sscanf(line, "%1023s", dev) == 1 && stat(dev, &st) == 0 && S_ISBLK(st.st_mode) &&
            dev_matches(rdev, major(st.st_rdev), minor(st.st_rdev))) {
            snprintf(what, n, "it is used as swap");
            fclose(f);
            return what;
        }
    }
    if (f)
        fclose(f);
    char p[96];
    snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/holders", major(rdev), minor(rdev));
    DIR *d = opendir(p);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(what, n, "it is held by %s", e->d_name);
            closedir(d);
            return what;
        }
    if (d)
        closedir(d);
    return NULL;
}

int live_target_open(const char *path, bool allow_write, live_target_t *t, char *err,
                     size_t errlen)
{
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    struct stat st;
    if (stat(path, &st) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return e == ENOENT ? -EINVAL : -e;
    }
    char what[2200];
    if (S_ISBLK(st.st_mode)) {
        if (blk_in_use(st.st_rdev, what, sizeof(what))) {
            snprintf(err, errlen, "%s: refusing a block device in use: %s", path, what);
            return -EPERM;
        }
        if (allow_write) {
            snprintf(err, errlen, "%s: --allow-write is only for a regular file latsurf created "
                     "(latsurf live --create SIZE); never a block device", path);
            return -EPERM;
        }
        /* O_EXCL: fails if mounted, and keeps it unmountable while we run */
        t->fd = open(path, O_RDONLY | O_DIRECT | O_EXCL | O_CLOEXEC);
        if (t->fd < 0) {
            int e = errno;
            snprintf(err, errlen, "%s: %s", path,
                     e == EBUSY ? "refusing a block device in use (open O_EXCL: busy)"
                                : strerror(e));
            return e == EBUSY ? -EPERM : -e;
        }
        uint64_t size = 0;
        if (ioctl(t->fd, BLKGETSIZE64, &size) != 0)
            size = 0;
        t->size = size;
        t->blockdev = true;
    } else if (S_ISREG(st.st_mode)) {
        t->fd = open(path, (allow_write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
        if (t->fd < 0) {
            int e = errno;
            snprintf(err, errlen, "%s: %s%s", path, strerror(e),
                     e == EINVAL ? " (the filesystem does not support O_DIRECT)" : "");
            return e == EINVAL ? -EINVAL : -e;
        }
        if (allow_write && !fd_is_ours(t->fd)) {
            close(t->fd);
            t->fd = -1;
            snprintf(err, errlen, "%s: --allow-write refused: latsurf did not create this file "
                     "(no %s attribute); make one with latsurf live --create SIZE", path,
                     LIVE_TARGET_XATTR);
            return -EPERM;
        }
        t->size = (uint64_t)st.st_size;
        t->writable = allow_write;
    } else {
        snprintf(err, errlen, "%s: not a regular file or a block device", path);
        return -EINVAL;
    }
    if (t->size == 0) {
        snprintf(err, errlen, "%s: empty target%s", path,
                 t->blockdev ? " (the device has no capacity)"
                             : " (create one with latsurf live --create SIZE)");
        live_target_close(t);
        return -EINVAL;
    }
    t->path = strdup(path);
    if (!t->path) {
        live_target_close(t);
        return -ENOMEM;
    }
    return 0;
}

void live_target_close(live_target_t *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    free(t->path);
    t->path = NULL;
}
