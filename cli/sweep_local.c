/*
 * sweep_local.c - see sweep_local.h. Protocol: the parent writes a task
 * index (uint32) to a worker's task pipe; the worker answers on its result
 * pipe with a uint64 length and a sweep_wire frame. Closing the task pipe
 * tells a worker to exit. Each worker has at most one task, so a task is
 * never queued behind a slow one while another worker idles.
 */
#define _GNU_SOURCE
#include "sweep_local.h"

#include "cli/runner.h"
#include "cli/sweep_wire.h"

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
    pid_t pid;
    int task_fd, res_fd;   /* parent's ends; -1 once closed */
    int64_t busy;          /* task index, or -1 */
} sweep_worker_t;

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
static void sweep_worker_main(const sweep_plan_t *p, int task_fd, int res_fd, pid_t parent,
                              const char *host)
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
        int rc = sweep_run_task(p, t, &res, err, sizeof(err));
        if (sweep_wire_pack(&b, t, rc, host, err[0] ? err : strerror(-rc), &res) != 0)
            _exit(1);
        uint64_t len = b.len;
        if (write_full(res_fd, &len, sizeof(len)) != 0 || write_full(res_fd, b.p, b.len) != 0)
            _exit(1);
        result_fini(&res);
    }
    /* _exit: the parent's stdio buffers and SQLite handle are not ours */
    _exit(r == 0 ? 0 : 1);
}

static int sweep_spawn(const sweep_plan_t *p, sweep_worker_t *w, size_t i, const char *host)
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
        for (size_t j = 0; j < i; j++) {
            close(w[j].task_fd);
            close(w[j].res_fd);
        }
        close(tp[1]);
        close(rp[0]);
        sweep_worker_main(p, tp[0], rp[1], parent, host);
    }
    close(tp[0]);
    close(rp[1]);
    w[i] = (sweep_worker_t){.pid = pid, .task_fd = tp[1], .res_fd = rp[0], .busy = -1};
    return 0;
}

static int sweep_give(sweep_worker_t *w, uint32_t t)
{
    int rc = write_full(w->task_fd, &t, sizeof(t));
    if (rc == 0)
        w->busy = t;
    return rc;
}

/* Why a worker's pipe closed: reap it and say how it ended. */
static void sweep_reap_msg(const sweep_plan_t *p, sweep_worker_t *w, char *err, size_t errlen)
{
    int st = 0;
    pid_t pid = w->pid;
    w->pid = -1;
    if (waitpid(pid, &st, 0) != pid)
        st = 0;
    const char *key = w->busy >= 0 ? p->task[w->busy].key : "(none)";
    if (WIFSIGNALED(st))
        snprintf(err, errlen, "worker %d was killed by signal %d running task %s", (int)pid,
                 WTERMSIG(st), key);
    else
        snprintf(err, errlen, "worker %d exited (status %d) running task %s", (int)pid,
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1, key);
}

/* One frame from worker w: deliver it (or record why not). Returns 0, or a
 * negative errno that stops the sweep. */
static int sweep_collect(const sweep_plan_t *p, sweep_worker_t *w, sweep_buf_t *b,
                         sweep_sink_t *sink, int deliver, char *err, size_t errlen)
{
    uint64_t len = 0;
    int r = read_full(w->res_fd, &len, sizeof(len));
    if (r == 1 && len > ((uint64_t)1 << 34))
        r = -EPROTO;
    if (r == 1 && len > b->cap) {
        uint8_t *np = realloc(b->p, len);
        if (np) {
            b->p = np;
            b->cap = len;
        } else {
            r = -ENOMEM;
        }
    }
    if (r == 1)
        r = read_full(w->res_fd, b->p, len);
    if (r != 1) {
        /* EOF: the worker is gone; else the stream is out of step: end it */
        close_fd(&w->res_fd);
        close_fd(&w->task_fd);
        if (r < 0)
            kill(w->pid, SIGKILL);
        sweep_reap_msg(p, w, err, errlen);
        w->busy = -1;
        return r < 0 ? r : -ECHILD;
    }
    uint32_t task;
    int rc = sweep_wire_accept(p, b->p, len, sink, deliver, &task, err, errlen);
    w->busy = -1;
    return rc;
}

int sweep_local_run(const sweep_plan_t *p, const uint32_t *todo, size_t ntodo, unsigned workers,
                    sweep_sink_t *sink, char *err, size_t errlen)
{
    if (ntodo == 0)
        return 0;
    size_t nw = workers < 1 ? 1 : workers;
    if (nw > ntodo)
        nw = ntodo;
    sweep_worker_t *w = calloc(nw, sizeof(*w));
    struct pollfd *fds = calloc(nw, sizeof(*fds));
    size_t *who = calloc(nw, sizeof(*who));
    if (!w || !fds || !who) {
        free(w), free(fds), free(who);
        return -ENOMEM;
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    /* a dead worker's pipe must be an EPIPE here, not a fatal signal */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigaction(SIGPIPE, &ign, &old_pipe);

    int rc = 0;
    size_t started = 0, next = 0;
    for (; started < nw && rc == 0; started++)
        if ((rc = sweep_spawn(p, w, started, host)) != 0)
            snprintf(err, errlen, "starting worker %zu: %s", started + 1, strerror(-rc));
    for (size_t i = 0; i < started && rc == 0 && next < ntodo; i++)
        rc = sweep_give(&w[i], todo[next++]);
    sweep_buf_t buf = {0};
    int stopping = 0;
    for (;;) {
        if (!stopping && (rc || runner_interrupted)) {
            /* no more tasks; in-flight ones stop at their next check */
            stopping = 1;
            for (size_t i = 0; i < started; i++) {
                close_fd(&w[i].task_fd);
                if (w[i].busy >= 0 && w[i].pid > 0)
                    kill(w[i].pid, SIGINT);
            }
        }
        size_t n = 0;
        for (size_t i = 0; i < started; i++)
            if (w[i].busy >= 0 && w[i].res_fd >= 0) {
                fds[n] = (struct pollfd){.fd = w[i].res_fd, .events = POLLIN};
                who[n++] = i;
            }
        if (n == 0)
            break;
        /* the timeout bounds how late a Ctrl-C that lands just before poll is seen */
        int k = poll(fds, n, 200);
        if (k < 0 && errno != EINTR) {
            rc = rc ? rc : -errno;
            snprintf(err, errlen, "poll: %s", strerror(errno));
            break;
        }
        for (size_t j = 0; k > 0 && j < n; j++) {
            if (!(fds[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            sweep_worker_t *wk = &w[who[j]];
            char e2[1024] = "";
            int r = sweep_collect(p, wk, &buf, sink, rc == 0, e2, sizeof(e2));
            if (r && !rc) {
                rc = r;
                snprintf(err, errlen, "%s", e2);
            }
            if (!stopping && !rc && !runner_interrupted && next < ntodo && wk->task_fd >= 0) {
                int g = sweep_give(wk, todo[next++]);
                if (g) {
                    rc = g;
                    snprintf(err, errlen, "handing a task to worker %d: %s", (int)wk->pid,
                             strerror(-g));
                }
            }
        }
    }
    for (size_t i = 0; i < started; i++) {
        close_fd(&w[i].task_fd);
        close_fd(&w[i].res_fd);
        if (w[i].pid > 0)
            waitpid(w[i].pid, NULL, 0);
    }
    sigaction(SIGPIPE, &old_pipe, NULL);
    sweep_buf_free(&buf);
    free(w), free(fds), free(who);
    if (rc == 0 && next < ntodo)
        rc = -EINTR;
    return rc;
}
