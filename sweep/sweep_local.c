/*
 * sweep_local.c - see sweep_local.h. Protocol: the parent writes a task
 * index (uint32) to a worker's task pipe; the worker answers on its result
 * pipe with a uint64 length and a sweep_wire frame. Closing the task pipe
 * tells a worker to exit. Each worker has at most one task, so a task is
 * never queued behind a slow one while another worker idles.
 */
#define _GNU_SOURCE
#include "sweep_local.h"

#include "run/runner.h"
#include "sweep/sweep_wire.h"
#include "sim/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    pid_t pid;           /* -1 once reaped */
    int task_fd, res_fd; /* parent's ends; -1 once closed */
    int64_t busy;        /* task index, or -1 */
} sweep_worker_t;

struct sweep_pool {
    const sweep_plan_t *p;
    const volatile sig_atomic_t *stop;
    sweep_worker_t *w;
    unsigned n;
    struct pollfd *fds;
    unsigned *who;
    sweep_buf_t buf;
    char host[256];
    struct sigaction old_pipe;
};

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? (got ? -EPROTO : 0) : -errno;
        got += (size_t)r;
    }
    return 1;
}

static int write_full(int fd, const void *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = write(fd, (const char *)buf + put, n - put);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        put += (size_t)r;
    }
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The worker's whole life: tasks in, frames out, until the task pipe closes. */
static void sweep_worker_main(const sweep_plan_t *p, const volatile sig_atomic_t *stop,
                              int task_fd, int res_fd, pid_t parent, const char *host)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before prctl took effect */
        _exit(1);
    sweep_buf_t b = {0};
    uint32_t t;
    int r;
    while ((r = read_full(task_fd, &t, sizeof(t))) == 1) {
        result_t res;
        result_init(&res);
        char err[1024] = "";
        int rc = sweep_run_task(p, t, stop, &res, err, sizeof(err));
        if (sweep_wire_pack(&b, t, rc, host, err[0] ? err : strerror(-rc), &res) != 0)
            _exit(1);
        uint64_t len = b.len;
        if (write_full(res_fd, &len, sizeof(len)) != 0 || write_full(res_fd, b.p, b.len) != 0)
            _exit(1);
        result_fini(&res);
    }
    /* _exit: the parent's stdio buffers, SQLite handle and MPI are not ours */
    _exit(r == 0 ? 0 : 1);
}

static int sweep_spawn(sweep_pool_t *pool, unsigned i)
{
    int tp[2], rp[2];
    if (pipe2(tp, O_CLOEXEC) != 0)
        return -errno;
    if (pipe2(rp, O_CLOEXEC) != 0) {
        int e = -errno;
        close(tp[0]);
        close(tp[1]);
        return e;
    }
    fflush(NULL);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        int e = -errno;
        close(tp[0]), close(tp[1]), close(rp[0]), close(rp[1]);
        return e;
    }
    if (pid == 0) {
        /* drop the other workers' pipes, or their EOFs would never come */
        for (unsigned j = 0; j < i; j++) {
            close(pool->w[j].task_fd);
            close(pool->w[j].res_fd);
        }
        close(tp[1]);
        close(rp[0]);
        sweep_worker_main(pool->p, pool->stop, tp[0], rp[1], parent, pool->host);
    }
    close(tp[0]);
    close(rp[1]);
    pool->w[i] = (sweep_worker_t){.pid = pid, .task_fd = tp[1], .res_fd = rp[0], .busy = -1};
    return 0;
}

int sweep_pool_start(sweep_pool_t **out, const sweep_plan_t *p, unsigned n,
                     const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    *out = NULL;
    sweep_pool_t *pool = calloc(1, sizeof(*pool));
    if (!pool || !(pool->w = calloc(n ? n : 1, sizeof(*pool->w))) ||
        !(pool->fds = calloc(n ? n : 1, sizeof(*pool->fds))) ||
        !(pool->who = calloc(n ? n : 1, sizeof(*pool->who)))) {
        sweep_pool_free(pool);
        return -ENOMEM;
    }
    pool->p = p;
    pool->stop = stop;
    gethostname(pool->host, sizeof(pool->host) - 1);
    /* a dead worker's pipe must be an EPIPE here, not a fatal signal */
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, &pool->old_pipe);
    for (; pool->n < n; pool->n++) {
        int rc = sweep_spawn(pool, pool->n);
        if (rc) {
            snprintf(err, errlen, "starting worker %u: %s", pool->n + 1, strerror(-rc));
            sweep_pool_free(pool);
            return rc;
        }
    }
    *out = pool;
    return 0;
}

unsigned sweep_pool_size(const sweep_pool_t *pool) { return pool->n; }

unsigned sweep_pool_idle(const sweep_pool_t *pool)
{
    unsigned k = 0;
    for (unsigned i = 0; i < pool->n; i++)
        k += pool->w[i].busy < 0 && pool->w[i].task_fd >= 0;
    return k;
}

unsigned sweep_pool_busy(const sweep_pool_t *pool)
{
    unsigned k = 0;
    for (unsigned i = 0; i < pool->n; i++)
        k += pool->w[i].busy >= 0;
    return k;
}

int sweep_pool_give(sweep_pool_t *pool, uint32_t t)
{
    for (unsigned i = 0; i < pool->n; i++) {
        sweep_worker_t *w = &pool->w[i];
        if (w->busy >= 0 || w->task_fd < 0)
            continue;
        int rc = write_full(w->task_fd, &t, sizeof(t));
        if (rc == 0)
            w->busy = t;
        else
            close_fd(&w->task_fd); /* it died while idle: never use it again */
        return rc;
    }
    return -EBUSY;
}

/* A worker's pipe failed: reap it and make the error frame for its task. */
static void sweep_dead_frame(sweep_pool_t *pool, sweep_worker_t *w, int killed)
{
    int st = 0;
    close_fd(&w->res_fd);
    close_fd(&w->task_fd);
    if (killed)
        kill(w->pid, SIGKILL);
    if (waitpid(w->pid, &st, 0) != w->pid)
        st = 0;
    char msg[256];
    if (WIFSIGNALED(st))
        snprintf(msg, sizeof(msg), "worker %d was killed by signal %d", (int)w->pid,
                 WTERMSIG(st));
    else
        snprintf(msg, sizeof(msg), "worker %d exited (status %d) without a result", (int)w->pid,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    w->pid = -1;
    if (sweep_wire_pack(&pool->buf, (uint32_t)w->busy, -ECHILD, pool->host, msg, NULL) != 0)
        pool->buf.len = 0;
}

/* Read worker w's frame into pool->buf; on failure pool->buf holds an error frame. */
static void sweep_read_frame(sweep_pool_t *pool, sweep_worker_t *w)
{
    uint64_t len = 0;
    int r = read_full(w->res_fd, &len, sizeof(len));
    if (r == 1 && len > ((uint64_t)1 << 34))
        r = -EPROTO;
    if (r == 1 && VEC_RESERVE(pool->buf.p, pool->buf.cap, len) != 0)
        r = -ENOMEM;
    if (r == 1)
        r = read_full(w->res_fd, pool->buf.p, len);
    if (r == 1)
        pool->buf.len = len;
    else /* EOF: the worker is gone; else the stream is out of step: end it */
        sweep_dead_frame(pool, w, r < 0);
}

int sweep_pool_poll(sweep_pool_t *pool, int timeout_ms, sweep_frame_fn fn, void *ctx, char *err,
                    size_t errlen)
{
    nfds_t n = 0;
    for (unsigned i = 0; i < pool->n; i++)
        if (pool->w[i].busy >= 0) {
            pool->fds[n] = (struct pollfd){.fd = pool->w[i].res_fd, .events = POLLIN};
            pool->who[n++] = i;
        }
    int k = poll(pool->fds, n, timeout_ms);
    if (k < 0 && errno != EINTR) {
        snprintf(err, errlen, "poll: %s", strerror(errno));
        return -errno;
    }
    int rc = 0;
    for (nfds_t j = 0; k > 0 && j < n; j++) {
        if (!(pool->fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        sweep_worker_t *w = &pool->w[pool->who[j]];
        sweep_read_frame(pool, w);
        w->busy = -1;
        char e2[1024] = "";
        int r = pool->buf.len ? fn(ctx, pool->buf.p, pool->buf.len, e2, sizeof(e2)) : -ENOMEM;
        if (r && !rc) {
            rc = r;
            snprintf(err, errlen, "%s", e2[0] ? e2 : strerror(-r));
        }
    }
    return rc;
}

void sweep_pool_stop(sweep_pool_t *pool, int interrupt)
{
    for (unsigned i = 0; i < pool->n; i++) {
        close_fd(&pool->w[i].task_fd);
        if (interrupt && pool->w[i].busy >= 0 && pool->w[i].pid > 0)
            kill(pool->w[i].pid, SIGINT);
    }
}

void sweep_pool_free(sweep_pool_t *pool)
{
    if (!pool)
        return;
    for (unsigned i = 0; i < pool->n; i++) {
        /* closing both pipes ends an idle worker, and a busy one at its next write */
        close_fd(&pool->w[i].task_fd);
        close_fd(&pool->w[i].res_fd);
        if (pool->w[i].pid > 0)
            waitpid(pool->w[i].pid, NULL, 0);
    }
    if (pool->w)
        sigaction(SIGPIPE, &pool->old_pipe, NULL);
    sweep_buf_free(&pool->buf);
    free(pool->w);
    free(pool->fds);
    free(pool->who);
    free(pool);
}

typedef struct {
    const sweep_plan_t *p;
    sweep_sink_t *sink;
} sweep_local_ctx_t;

static int sweep_local_frame(void *ctx, const void *frame, size_t len, char *err, size_t errlen)
{
    sweep_local_ctx_t *c = ctx;
    uint32_t task;
    return sweep_wire_accept(c->p, frame, len, c->sink, 1, &task, err, errlen);
}

int sweep_local_run(const sweep_plan_t *p, sweep_pool_t *pool, const uint32_t *todo,
                    size_t ntodo, sweep_sink_t *sink, const volatile sig_atomic_t *stop,
                    char *err, size_t errlen)
{
    sweep_local_ctx_t ctx = {.p = p, .sink = sink};
    size_t next = 0;
    int rc = 0, stopping = 0;
    for (;;) {
        if (!stopping && (rc || (stop && *stop))) {
            stopping = 1;
            sweep_pool_stop(pool, 1);
        }
        while (!stopping && next < ntodo && sweep_pool_idle(pool)) {
            int g = sweep_pool_give(pool, todo[next++]);
            if (g) {
                rc = g;
                snprintf(err, errlen, "handing out a task: %s", strerror(-g));
                break;
            }
        }
        if (sweep_pool_busy(pool) == 0 &&
            (stopping || rc || next >= ntodo || sweep_pool_idle(pool) == 0))
            break;
        /* the timeout bounds how late a Ctrl-C that lands just before poll is seen */
        char e2[1024] = "";
        int r = sweep_pool_poll(pool, 200, sweep_local_frame, &ctx, e2, sizeof(e2));
        if (r && !rc) {
            rc = r;
            snprintf(err, errlen, "%s", e2);
        }
    }
    if (rc == 0 && next < ntodo)
        rc = -EINTR;
    return rc;
}
