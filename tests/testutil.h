/*
 * testutil.h - what the tests share: files of the source tree and in a
 * scratch directory, and running a command there with its output captured;
 * parsing one workload entry and reading two traces in step; parsing and
 * joining a tracefs trace; one number
 * from a results database; the one way a
 * test skips (after a probe shows a feature missing); and waiting for a
 * file change or a process without sleeping.
 * Linked into every test (tests/CMakeLists.txt); include it after cmocka.h.
 */
#ifndef LATSURF_TESTUTIL_H
#define LATSURF_TESTUTIL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"
#include "workload/trace.h"

#include <stdio.h>

/* The binary under test: $LATSURF_BIN (set by ctest), else "latsurf". */
const char *tu_bin(void);

/* dir/name in one of four rotating static buffers. */
const char *tu_path(const char *dir, const char *name);

/* Write text to dir/name (fails the test if it cannot). */
void tu_write(const char *dir, const char *name, const char *text);

/* The printf-formatted relative path under the source tree ($LATSURF_SRC,
 * set by ctest, else the tree the build was configured from), in one of
 * eight rotating static buffers. */
const char *tu_src(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write text to a new file /tmp/latsurf-TAG-XXXXXX; its path, in one of
 * four rotating static buffers. The caller unlinks it. */
const char *tu_write_tmp(const char *tag, const char *text);

/* How many entries dir holds, hidden ones not counted (0 if it cannot be
 * opened). */
int tu_dir_entries(const char *dir);

/* Run a shell command line in dir; stdout and stderr into out (NUL-ended);
 * the exit status, or -1 if it did not exit. A command line too long for
 * the buffer fails the test instead of running cut short. */
int tu_sh(const char *dir, const char *cmdline, char *out, size_t n);

/* system() of a printf-formatted command line; its exit status or -1. */
int tu_systemf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run `latsurf ARGS` in dir, as tu_sh. */
int tu_cli(const char *dir, const char *args, char *out, size_t n);

/* ---- workloads and traces --------------------------------------------
 * Parse json as a `type` workload entry of scenario.json, every key used:
 * 0, or the parse error with its message in err (*params then freed). */
int tu_wl_parse(const char *type, const char *json, void **params, char *err, size_t n);

/* Read a and b in step to their ends, calling same(r, s) (which asserts
 * what must agree) on each pair of records; fails the test when b holds
 * fewer or more records than a. Returns how many records a held. */
uint64_t tu_trace_pairs(trace_reader_t *a, trace_reader_t *b,
                        void (*same)(const trace_rec_t *r, const trace_rec_t *s));

/* Asserts that r and s describe the same request: when, where, how much,
 * which way and of which flow. */
void tu_same_request(const trace_rec_t *r, const trace_rec_t *s);

/* Parse the tracefs text in f into t and join it into j (both initialised
 * here; the caller finis them and closes f); fails the test, naming `name`
 * and the line, when a line does not parse, or when the join fails. */
void tu_trace_join(FILE *f, const char *name, traceparse_t *t, tracejoin_t *j);

/* ---- results databases ----------------------------------------------
 * The value at (row, col) of what sql returns on h, as a double; NAN when
 * it returns fewer rows. Fails the test, naming sql and SQLite's message,
 * when sql does not prepare. */
double tu_db_cell(sqlite3 *h, const char *sql, int row, int col);
/* Its first column of its first row. */
double tu_db_num(sqlite3 *h, const char *sql);
/* The same from the database file dir/db, opened for this query only. */
double tu_db_file_num(const char *dir, const char *db, const char *sql);

/* ---- one test per case ------------------------------------------------
 * A table of cases runs as one cmocka test per case, so a failing case
 * hides none of the others: TU_CASE_TESTS(tests, fn, cases) fills
 * tests[0 .. number of cases) with fn, named "fn/i", its *state pointing
 * at cases[i]. */
#define TU_CASE_TESTS(tests, fn, cases)                                                          \
    tu_case_tests(tests, #fn, fn, cases, sizeof(cases) / sizeof((cases)[0]), sizeof((cases)[0]))
void tu_case_tests(struct CMUnitTest *tests, const char *name, CMUnitTestFunction fn,
                   const void *cases, size_t n, size_t size);

/* ---- skipping ---------------------------------------------------------
 * A test skips only where a probe shows a feature of the host missing (no
 * io_uring, no O_DIRECT on the filesystem, not root, no tracefs, a tool not
 * installed); a failure of latsurf itself is a test failure, never a skip.
 * tu_skip_unless(have, fmt, ...) prints "SKIP <test>: <reason>" and skips
 * (cmocka's skip()) the calling test when have is false. */
#define tu_skip_unless(have, ...)                                                                 \
    do {                                                                                          \
        if (!(have)) {                                                                            \
            tu_skip_note(__func__, __VA_ARGS__);                                                  \
            skip();                                                                               \
        }                                                                                         \
    } while (0)
void tu_skip_note(const char *test, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Probes: true when the host has the feature; else false with why filled. */
bool tu_have_uring(char *why, size_t n);
/* A file in dir opens with O_DIRECT. */
bool tu_have_odirect(const char *dir, char *why, size_t n);
/* The filesystem holding path sits on a block device sysfs knows. */
bool tu_have_blockdev(const char *path, char *why, size_t n);
/* A command of that name is on $PATH. */
bool tu_have_cmd(const char *name, char *why, size_t n);
/* Root and a writable tracefs (/sys/kernel/tracing/instances). */
bool tu_have_tracefs(char *why, size_t n);

/* ---- waiting without sleeps ------------------------------------------
 * A watch on a directory (inotify: files created, written, renamed or
 * removed there) and optionally on a child process (pidfd: its exit).
 * Set it up before checking the condition waited for, so no change between
 * the check and the wait is missed:
 *     tu_watch_t w;
 *     tu_watch_start(&w, dir, pid);
 *     while (!condition())
 *         if (tu_watch_wait(&w, 60000) == 0) ... the process exited ...
 *     tu_watch_stop(&w); */
typedef struct {
    int ino, pidfd;
    bool exited;
} tu_watch_t;

/* pid 0: no process. Fails the test if the watch cannot be set up. */
void tu_watch_start(tu_watch_t *w, const char *dir, pid_t pid);
/* Block until something changes in the directory (1) or the process has
 * exited (0; returned at once from then on, without reaping it); fails the
 * test after timeout_ms with no change. */
int tu_watch_wait(tu_watch_t *w, int timeout_ms);
void tu_watch_stop(tu_watch_t *w);

#endif
