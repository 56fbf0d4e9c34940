/*
 * fuzz_util.h - what the libFuzzer harnesses share: the loaders under test
 * read files, so each input is written to one scratch file per process
 * (rewritten in place each time).
 *
 * Each harness defines `int fuzz_<name>_one(const uint8_t *, size_t)` and,
 * under LATSURF_LIBFUZZER (the fuzz build, CMake -DLATSURF_FUZZ=ON), the
 * LLVMFuzzerTestOneInput that calls it. tests/test_fuzz_replay.c includes
 * the harness sources without that macro and replays the corpora through
 * the same functions, so the corpora run in `make test` with gcc.
 */
#ifndef LATSURF_FUZZ_UTIL_H
#define LATSURF_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The scratch file of this process (in $TMPDIR or /tmp). */
static inline const char *fuzz_scratch(void)
{
    static char path[256];
    if (!path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof(path), "%s/latsurf-fuzz-%ld.in", dir && *dir ? dir : "/tmp",
                 (long)getpid());
    }
    return path;
}

/* Write data to the scratch file; its path, or NULL. */
static inline const char *fuzz_write(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch();
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    int bad = fclose(f) != 0 || n != size;
    return bad ? NULL : path;
}

static inline void fuzz_unlink(void) { unlink(fuzz_scratch()); }

/* A NUL-terminated copy of data (caller frees). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

#endif
