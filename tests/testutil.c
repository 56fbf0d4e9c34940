/*
 * testutil.c - see testutil.h.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "workload/workload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_bin(void)
{
    const char *b = getenv("LATSURF_BIN");
    return b ? b : "latsurf";
}

const char *tu_path(const char *dir, const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    int len = snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    assert_true(len >= 0 && (size_t)len < sizeof(p[k]));
    return p[k];
}

void tu_write(const char *dir, const char *name, const char *text)
{
    FILE *f = fopen(tu_path(dir, name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

const char *tu_src(const char *fmt, ...)
{
    static char p[8][1024];
    static int k;
    k = (k + 1) % 8;
    const char *src = getenv("LATSURF_SRC");
    int len = snprintf(p[k], sizeof(p[k]), "%s/", src ? src : LATSURF_SOURCE_DIR);
    assert_true(len >= 0 && (size_t)len < sizeof(p[k]));
    va_list ap;
    va_start(ap, fmt);
    int more = vsnprintf(p[k] + len, sizeof(p[k]) - (size_t)len, fmt, ap);
    va_end(ap);
    assert_true(more >= 0 && (size_t)more < sizeof(p[k]) - (size_t)len);
    return p[k];
}

const char *tu_write_tmp(const char *tag, const char *text)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    int len = snprintf(p[k], sizeof(p[k]), "/tmp/latsurf-%s-XXXXXX", tag);
    assert_true(len >= 0 && (size_t)len < sizeof(p[k]));
    int fd = mkstemp(p[k]);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p[k];
}

int tu_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

int tu_sh(const char *dir, const char *cmdline, char *out, size_t n)
{
    char cmd[16384];
    int len = snprintf(cmd, sizeof(cmd), "cd %s && %s 2>&1", dir, cmdline);
    if (len < 0 || (size_t)len >= sizeof(cmd))
        fail_msg("command line of %d bytes: too long for tu_sh", len);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_cli(const char *dir, const char *args, char *out, size_t n)
{
    char cmd[16384];
    int len = snprintf(cmd, sizeof(cmd), "%s %s", tu_bin(), args);
    if (len < 0 || (size_t)len >= sizeof(cmd))
        fail_msg("latsurf arguments of %d bytes: too long for tu_cli", len);
    return tu_sh(dir, cmd, out, n);
}

int tu_systemf(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof(cmd))
        fail_msg("command line of %d bytes: too long for tu_systemf", len);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- workloads and traces ------------------------------------------- */

int tu_wl_parse(const char *type, const char *json, void **params, char *err, size_t n)
{
    const wl_ops_t *ops = wl_find(type);
    assert_non_null(ops);
    json_error_t je;
    json_t *e = json_loads(json, 0, &je);
    assert_non_null(e);
    cfg_t c;
    cfg_init(&c, "scenario.json");
    int rc = ops->parse(&c, e, params);
    if (rc == 0 && !cfg_done(&c, e)) {
        ops->params_free(*params);
        rc = -EINVAL;
    }
    if (rc < 0)
        snprintf(err, n, "%s", c.err);
    json_decref(e);
    return rc;
}

uint64_t tu_trace_pairs(trace_reader_t *a, trace_reader_t *b,
                        void (*same)(const trace_rec_t *r, const trace_rec_t *s))
{
    trace_rec_t r, s;
    uint64_t n = 0;
    while (trace_next(a, &r) == 1) {
        if (trace_next(b, &s) != 1)
            fail_msg("%s ends after %llu records, before %s", trace_path(b),
                     (unsigned long long)n, trace_path(a));
        same(&r, &s);
        n++;
    }
    if (trace_next(b, &s) != 0)
        fail_msg("%s has more records than %s", trace_path(b), trace_path(a));
    return n;
}

void tu_same_request(const trace_rec_t *r, const trace_rec_t *s)
{
    assert_int_equal(r->t_ns, s->t_ns);
    assert_int_equal(r->offset, s->offset);
    assert_int_equal(r->bytes, s->bytes);
    assert_int_equal(r->op, s->op);
    assert_int_equal(r->flow, s->flow);
}

void tu_trace_join(FILE *f, const char *name, traceparse_t *t, tracejoin_t *j)
{
    traceparse_init(t);
    tracejoin_init(j);
    traceparse_err_t err = {0, 0, ""};
    if (traceparse_file(f, t, &err))
        fail_msg("%s:%u: %s", name, err.line, err.what);
    assert_int_equal(tracejoin_run(t, j), 0);
}

/* ---- results databases ---------------------------------------------- */

double tu_db_cell(sqlite3 *h, const char *sql, int row, int col)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(h));
    double v = NAN;
    for (int i = 0; i <= row && sqlite3_step(st) == SQLITE_ROW; i++)
        if (i == row)
            v = sqlite3_column_double(st, col);
    sqlite3_finalize(st);
    return v;
}

double tu_db_num(sqlite3 *h, const char *sql) { return tu_db_cell(h, sql, 0, 0); }

double tu_db_file_num(const char *dir, const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(tu_path(dir, db), &h), SQLITE_OK);
    double v = tu_db_num(h, sql);
    sqlite3_close(h);
    return v;
}

/* ---- one test per case ----------------------------------------------- */

void tu_case_tests(struct CMUnitTest *tests, const char *name, CMUnitTestFunction fn,
                   const void *cases, size_t n, size_t size)
{
    static char names[512][72]; /* the names live as long as the run */
    static size_t used;
    for (size_t i = 0; i < n; i++) {
        char *label = used < 512 ? names[used++] : NULL;
        if (label)
            snprintf(label, sizeof(names[0]), "%.48s/%zu", name, i); /* fits: 48 + 1 + 20 */
        tests[i] = (struct CMUnitTest){
            .name = label ? label : name,
            .test_func = fn,
            .initial_state = (void *)((const char *)cases + i * size),
        };
    }
}

/* ---- skipping --------------------------------------------------------- */

void tu_skip_note(const char *test, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    print_message("SKIP %s: %s\n", test, why);
}

bool tu_have_uring(char *why, size_t n)
{
    struct io_uring ring;
    int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) {
        snprintf(why, n, "no io_uring (%s)", strerror(-rc));
        return false;
    }
    io_uring_queue_exit(&ring);
    return true;
}

bool tu_have_odirect(const char *dir, char *why, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/.tu-odirect-XXXXXX", dir);
    int fd = mkostemp(path, O_DIRECT);
    if (fd < 0) {
        snprintf(why, n, "no O_DIRECT in %s (%s)", dir, strerror(errno));
        return false;
    }
    close(fd);
    unlink(path);
    return true;
}

bool tu_have_blockdev(const char *path, char *why, size_t n)
{
    struct stat st;
    char sys[64];
    if (stat(path, &st) != 0) {
        snprintf(why, n, "%s: %s", path, strerror(errno));
        return false;
    }
    snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
    if (access(sys, F_OK) != 0) {
        snprintf(why, n, "the filesystem of %s is on no block device (%s: %s)", path, sys,
                 strerror(errno));
        return false;
    }
    return true;
}

bool tu_have_cmd(const char *name, char *why, size_t n)
{
    if (tu_systemf("command -v %s >/dev/null 2>&1", name) != 0) {
        snprintf(why, n, "%s is not installed", name);
        return false;
    }
    return true;
}

bool tu_have_tracefs(char *why, size_t n)
{
    if (geteuid() != 0) {
        snprintf(why, n, "not root (tracefs needs root)");
        return false;
    }
    if (access("/sys/kernel/tracing/instances", W_OK) != 0) {
        snprintf(why, n, "no tracefs (/sys/kernel/tracing/instances: %s)", strerror(errno));
        return false;
    }
    return true;
}

/* ---- waiting ---------------------------------------------------------- */

void tu_watch_start(tu_watch_t *w, const char *dir, pid_t pid)
{
    w->exited = false;
    w->pidfd = -1;
    w->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (w->ino < 0)
        fail_msg("inotify_init1: %s", strerror(errno));
    /* not IN_CLOSE_WRITE / IN_OPEN: the test's own reads would wake it */
    if (inotify_add_watch(w->ino, dir, IN_CREATE | IN_MODIFY | IN_MOVED_TO | IN_DELETE) < 0)
        fail_msg("inotify_add_watch %s: %s", dir, strerror(errno));
    if (pid > 0) {
        w->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (w->pidfd < 0)
            fail_msg("pidfd_open %d: %s", (int)pid, strerror(errno));
    }
}

int tu_watch_wait(tu_watch_t *w, int timeout_ms)
{
    if (w->exited)
        return 0;
    struct pollfd p[2] = {{.fd = w->ino, .events = POLLIN}, {.fd = w->pidfd, .events = POLLIN}};
    int rc;
    do
        rc = poll(p, w->pidfd >= 0 ? 2 : 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc < 0)
        fail_msg("poll: %s", strerror(errno));
    if (rc == 0)
        fail_msg("nothing changed and no process exited in %d ms", timeout_ms);
    if (p[1].revents) {
        w->exited = true;
        return 0;
    }
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (read(w->ino, buf, sizeof(buf)) > 0) /* drain: one wake-up per batch */
        ;
    return 1;
}

void tu_watch_stop(tu_watch_t *w)
{
    if (w->ino >= 0)
        close(w->ino);
    if (w->pidfd >= 0)
        close(w->pidfd);
    w->ino = w->pidfd = -1;
}
