/*
 * sweep_mpi.c - see sweep_mpi.h. Messages: TAG_TASK carries one uint32
 * from rank 0 (a task index, SWEEP_MPI_ABORT: interrupt what you hold, or
 * SWEEP_MPI_STOP: leave); TAG_RESULT carries a sweep_wire frame to rank 0.
 * Ranks poll (MPI_Iprobe, then poll() on their pool's pipes for a
 * millisecond) rather than block in MPI: OpenMPI spins in blocking calls,
 * which would take a core from the workers beside it, and polling also lets
 * a rank see Ctrl-C.
 */
#include "sweep_mpi.h"

#include "run/runner.h"
#include "sweep/sweep_wire.h"
#include "sim/vec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int sweep_env_int(const char *const *vars, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return -1;
}

/* OpenMPI, then the PMIx/PMI variables MPICH's hydra and Slurm set */
int sweep_mpi_env_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    int v = sweep_env_int(vars, sizeof(vars) / sizeof(vars[0]));
    return v < 0 ? 0 : v;
}

int sweep_mpi_env_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    int v = sweep_env_int(vars, sizeof(vars) / sizeof(vars[0]));
    return v < 0 ? 0 : v;
}

#ifndef LATSURF_HAVE_MPI

int sweep_mpi_built(void) { return 0; }
int sweep_mpi_init(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    return -ENOTSUP;
}
int sweep_mpi_all_ok(int ok) { return ok; }
int sweep_mpi_run(const sweep_plan_t *p, sweep_pool_t *pool, const uint32_t *todo, size_t ntodo,
                  sweep_sink_t *sink, const volatile sig_atomic_t *stop, char *err,
                  size_t errlen)
{
    (void)p, (void)pool, (void)todo, (void)ntodo, (void)sink, (void)stop;
    snprintf(err, errlen, "built without MPI");
    return -ENOTSUP;
}
void sweep_mpi_finalize(void) {}

#else

#include <mpi.h>

#define TAG_TASK 1
#define TAG_RESULT 2
#define SWEEP_MPI_STOP UINT32_MAX
#define SWEEP_MPI_ABORT (UINT32_MAX - 1)
#define SWEEP_MPI_POLL_MS 1

int sweep_mpi_built(void) { return 1; }

int sweep_mpi_init(int *rank, int *size)
{
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
        return -EIO;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

int sweep_mpi_all_ok(int ok)
{
    int mine = ok != 0, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return all;
}

void sweep_mpi_finalize(void) { MPI_Finalize(); }

/* --- ranks other than 0 --- */

typedef struct {
    sweep_buf_t buf;
    char host[256];
} sweep_serve_t;

static void sweep_send_frame(const void *frame, size_t len)
{
    MPI_Send(frame, (int)len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
}

/* Answer task t without running it (interrupted, or a result too big to send). */
static void sweep_refuse(sweep_serve_t *s, uint32_t t, int rc, const char *msg)
{
    if (sweep_wire_pack(&s->buf, t, rc, s->host, msg, NULL) != 0)
        MPI_Abort(MPI_COMM_WORLD, 1); /* rank 0 would wait for this answer forever */
    sweep_send_frame(s->buf.p, s->buf.len);
}

static int sweep_forward(void *ctx, const void *frame, size_t len, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    if (len <= INT_MAX) {
        sweep_send_frame(frame, len);
        return 0;
    }
    sweep_wire_hdr_t h;
    result_t res;
    result_init(&res);
    int rc = sweep_wire_unpack(frame, len, &h, &res);
    result_fini(&res);
    if (rc)
        MPI_Abort(MPI_COMM_WORLD, 1);
    sweep_refuse(ctx, h.task, -EFBIG, "result over 2 GiB: record fewer requests");
    return 0;
}

static int sweep_mpi_serve(sweep_pool_t *pool, const volatile sig_atomic_t *stop)
{
    sweep_serve_t s = {0};
    gethostname(s.host, sizeof(s.host) - 1);
    /* rank 0 sends at most as many tasks as this rank has workers */
    int cap = (int)sweep_pool_size(pool);
    MPI_Gather(&cap, 1, MPI_INT, NULL, 0, MPI_INT, 0, MPI_COMM_WORLD);
    uint32_t *q = calloc((size_t)cap + 1, sizeof(*q));
    if (!q)
        MPI_Abort(MPI_COMM_WORLD, 1);
    size_t nq = 0;
    int aborted = 0, told_abort = 0, done = 0;
    while (!done) {
        int flag = 0;
        while (!done && MPI_Iprobe(0, TAG_TASK, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE) ==
                            MPI_SUCCESS && flag) {
            uint32_t t;
            MPI_Recv(&t, 1, MPI_UINT32_T, 0, TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (t == SWEEP_MPI_STOP)
                done = 1;
            else if (t == SWEEP_MPI_ABORT)
                told_abort = 1;
            else if (nq < (size_t)cap + 1)
                q[nq++] = t;
            else
                sweep_refuse(&s, t, -EPROTO, "more tasks than workers were sent");
        }
        if ((told_abort || (stop && *stop)) && !aborted) {
            aborted = 1;
            sweep_pool_stop(pool, 1);
        }
        /* in order: earlier tasks first; with no live worker left, answer at once */
        int dead = sweep_pool_idle(pool) + sweep_pool_busy(pool) == 0;
        size_t head = 0;
        for (; head < nq && (aborted || dead || sweep_pool_idle(pool)); head++) {
            int g = aborted ? -EINTR : dead ? -ECHILD : sweep_pool_give(pool, q[head]);
            if (g)
                sweep_refuse(&s, q[head], g,
                             g == -EINTR ? "interrupted" : dead ? "no live worker on this rank"
                                                                 : strerror(-g));
        }
        memmove(q, q + head, (nq - head) * sizeof(*q));
        nq -= head;
        char err[256];
        if (!done)
            sweep_pool_poll(pool, SWEEP_MPI_POLL_MS, sweep_forward, &s, err, sizeof(err));
    }
    free(q);
    sweep_buf_free(&s.buf);
    return 0;
}

/* --- rank 0 --- */

typedef struct {
    const sweep_plan_t *p;
    sweep_sink_t *sink;
    int rc;
    char *err;
    size_t errlen;
} sweep_coord_t;

static void sweep_fail(sweep_coord_t *c, int rc, const char *msg)
{
    if (c->rc == 0 && rc) {
        c->rc = rc;
        snprintf(c->err, c->errlen, "%s", msg);
    }
}

static int sweep_accept(void *ctx, const void *frame, size_t len, char *err, size_t errlen)
{
    sweep_coord_t *c = ctx;
    uint32_t task;
    return sweep_wire_accept(c->p, frame, len, c->sink, 1, &task, err, errlen);
}

/* Take every frame that has arrived from the other ranks. */
static void sweep_drain(sweep_coord_t *c, sweep_buf_t *b, int *out, size_t *inflight)
{
    int flag = 0;
    MPI_Status st;
    while (MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS &&
           flag) {
        int n = 0;
        MPI_Get_count(&st, MPI_BYTE, &n);
        if (VEC_RESERVE(b->p, b->cap, (size_t)n) != 0)
            MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Recv(b->p, n, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        out[st.MPI_SOURCE]--;
        (*inflight)--;
        char e2[1024] = "";
        sweep_fail(c, sweep_accept(c, b->p, (size_t)n, e2, sizeof(e2)), e2);
    }
}

static void sweep_tell_all(int size, const int *out, uint32_t what)
{
    for (int r = 1; r < size; r++)
        if (!out || out[r])
            MPI_Send(&what, 1, MPI_UINT32_T, r, TAG_TASK, MPI_COMM_WORLD);
}

static int sweep_mpi_coordinate(const sweep_plan_t *p, sweep_pool_t *pool, const uint32_t *todo,
                                size_t ntodo, int size, sweep_sink_t *sink,
                                const volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    int *cap = calloc((size_t)size, sizeof(int)), *out = calloc((size_t)size, sizeof(int));
    if (!cap || !out)
        MPI_Abort(MPI_COMM_WORLD, 1);
    int mine = (int)sweep_pool_size(pool);
    MPI_Gather(&mine, 1, MPI_INT, cap, 1, MPI_INT, 0, MPI_COMM_WORLD);
    sweep_coord_t c = {.p = p, .sink = sink, .err = err, .errlen = errlen};
    sweep_buf_t b = {0};
    size_t next = 0, inflight = 0;
    int stopping = 0, workers = 0;
    for (int r = 0; r < size; r++)
        workers += cap[r];
    if (workers == 0)
        sweep_fail(&c, -ECHILD, "no rank has a worker");
    for (;;) {
        if (!stopping && (c.rc || (stop && *stop))) {
            stopping = 1;
            sweep_pool_stop(pool, 1);
            sweep_tell_all(size, out, SWEEP_MPI_ABORT);
        }
        sweep_drain(&c, &b, out, &inflight);
        for (int r = 1; r < size && !stopping; r++)
            for (; out[r] < cap[r] && next < ntodo; out[r]++, inflight++)
                MPI_Send(&todo[next++], 1, MPI_UINT32_T, r, TAG_TASK, MPI_COMM_WORLD);
        while (!stopping && next < ntodo && sweep_pool_idle(pool)) {
            int g = sweep_pool_give(pool, todo[next++]);
            if (g)
                sweep_fail(&c, g, "handing a task to a local worker failed");
        }
        if (inflight == 0 && sweep_pool_busy(pool) == 0 && (stopping || next >= ntodo))
            break;
        char e2[1024] = "";
        sweep_fail(&c, sweep_pool_poll(pool, SWEEP_MPI_POLL_MS, sweep_accept, &c, e2, sizeof(e2)),
                   e2);
    }
    sweep_tell_all(size, NULL, SWEEP_MPI_STOP);
    sweep_buf_free(&b);
    free(cap);
    free(out);
    if (c.rc == 0 && next < ntodo)
        c.rc = -EINTR;
    return c.rc;
}

int sweep_mpi_run(const sweep_plan_t *p, sweep_pool_t *pool, const uint32_t *todo, size_t ntodo,
                  sweep_sink_t *sink, const volatile sig_atomic_t *stop, char *err,
                  size_t errlen)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank != 0)
        return sweep_mpi_serve(pool, stop);
    return sweep_mpi_coordinate(p, pool, todo, ntodo, size, sink, stop, err, errlen);
}

#endif
