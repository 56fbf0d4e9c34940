/*
 * testutil.h - what the tests that drive the latsurf binary share: files in
 * a scratch directory and running a command there with its output captured.
 * Compiled into every test (tests/CMakeLists.txt).
 */
#ifndef LATSURF_TESTUTIL_H
#define LATSURF_TESTUTIL_H

#include <stddef.h>

/* The binary under test: $LATSURF_BIN (set by ctest), else "latsurf". */
const char *tu_bin(void);

/* dir/name in one of four rotating static buffers. */
const char *tu_path(const char *dir, const char *name);

/* Write text to dir/name (fails the test if it cannot). */
void tu_write(const char *dir, const char *name, const char *text);

/* Run a shell command line in dir; stdout and stderr into out (NUL-ended);
 * the exit status, or -1 if it did not exit. */
int tu_sh(const char *dir, const char *cmdline, char *out, size_t n);

/* system() of a printf-formatted command line; its exit status or -1. */
int tu_systemf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run `latsurf ARGS` in dir, as tu_sh. */
int tu_cli(const char *dir, const char *args, char *out, size_t n);

#endif
