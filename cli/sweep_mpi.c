/*
 * sweep_mpi.c - see sweep_mpi.h. Messages: TAG_TASK carries one uint32
 * task index from rank 0 (SWEEP_MPI_STOP ends a rank); TAG_RESULT carries a
 * sweep_wire frame to rank 0. Rank 0 polls with MPI_Iprobe and a short
 * sleep rather than a blocking probe: OpenMPI spins in blocking calls, which
 * would steal a core from the ranks computing beside it, and the poll also
 * lets it see Ctrl-C.
 */
#include "sweep_mpi.h"

#include "cli/runner.h"
#include "cli/sweep_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sweep_mpi_env_size(void)
{
    /* OpenMPI, then the PMI variables MPICH's hydra and Slurm set */
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return atoi(v);
    }
    return 0;
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
int sweep_mpi_run(const sweep_plan_t *p, const uint32_t *todo, size_t ntodo, sweep_sink_t *sink,
                  char *err, size_t errlen)
{
    (void)p, (void)todo, (void)ntodo, (void)sink;
    snprintf(err, errlen, "built without MPI");
    return -ENOTSUP;
}
void sweep_mpi_finalize(void) {}

#else

#include <mpi.h>

#define TAG_TASK 1
#define TAG_RESULT 2
#define SWEEP_MPI_STOP UINT32_MAX
#define SWEEP_MPI_DEPTH 2 /* tasks in hand per rank: the next is there when one ends */
#define SWEEP_MPI_NBUF 3  /* frames a rank may have in flight to rank 0 */

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

static char sweep_mpi_host[MPI_MAX_PROCESSOR_NAME + 1];

static const char *sweep_host(void)
{
    if (!sweep_mpi_host[0]) {
        int n = 0;
        MPI_Get_processor_name(sweep_mpi_host, &n);
    }
    return sweep_mpi_host;
}

/* A rank other than 0: run tasks until told to stop. Results go out with
 * MPI_Isend so the next task starts while rank 0 is busy with its own. */
static int sweep_mpi_serve(const sweep_plan_t *p)
{
    sweep_buf_t buf[SWEEP_MPI_NBUF] = {{0}};
    MPI_Request req[SWEEP_MPI_NBUF];
    for (int i = 0; i < SWEEP_MPI_NBUF; i++)
        req[i] = MPI_REQUEST_NULL;
    int rc = 0, slot = 0;
    for (;;) {
        uint32_t t;
        MPI_Recv(&t, 1, MPI_UINT32_T, 0, TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (t == SWEEP_MPI_STOP)
            break;
        result_t res;
        result_init(&res);
        char err[1024] = "";
        int r = sweep_run_task(p, t, &res, err, sizeof(err));
        MPI_Wait(&req[slot], MPI_STATUS_IGNORE); /* the frame sent NBUF tasks ago */
        int pr = sweep_wire_pack(&buf[slot], t, r, sweep_host(), err[0] ? err : strerror(-r), &res);
        if (pr == 0 && buf[slot].len > (size_t)INT32_MAX)
            pr = sweep_wire_pack(&buf[slot], t, -EFBIG, sweep_host(),
                                 "result over 2 GiB: record fewer requests", NULL);
        result_fini(&res);
        if (pr) {
            rc = pr;
            break;
        }
        MPI_Isend(buf[slot].p, (int)buf[slot].len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD,
                  &req[slot]);
        slot = (slot + 1) % SWEEP_MPI_NBUF;
    }
    MPI_Waitall(SWEEP_MPI_NBUF, req, MPI_STATUSES_IGNORE);
    for (int i = 0; i < SWEEP_MPI_NBUF; i++)
        sweep_buf_free(&buf[i]);
    if (rc) /* rank 0 would wait for this rank's answer forever */
        MPI_Abort(MPI_COMM_WORLD, 1);
    return rc;
}

typedef struct {
    const sweep_plan_t *p;
    const uint32_t *todo;
    size_t ntodo, next;
    int *out;        /* [size]: tasks each rank holds */
    size_t inflight; /* at other ranks */
    int rc;
    char *err;
    size_t errlen;
    sweep_buf_t buf;
} sweep_coord_t;

static void sweep_fail(sweep_coord_t *c, int rc, const char *msg)
{
    if (c->rc == 0) {
        c->rc = rc;
        snprintf(c->err, c->errlen, "%s", msg);
    }
}

static int sweep_handing_out(const sweep_coord_t *c)
{
    return c->rc == 0 && !runner_interrupted && c->next < c->ntodo;
}

static void sweep_send(sweep_coord_t *c, int r)
{
    uint32_t t = c->todo[c->next++];
    MPI_Send(&t, 1, MPI_UINT32_T, r, TAG_TASK, MPI_COMM_WORLD);
    c->out[r]++;
    c->inflight++;
}

/* Take every frame that has arrived; refill the ranks that sent them. */
static void sweep_drain(sweep_coord_t *c, sweep_sink_t *sink)
{
    int flag;
    MPI_Status st;
    while (MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st) == MPI_SUCCESS &&
           flag) {
        int n = 0;
        MPI_Get_count(&st, MPI_BYTE, &n);
        if ((size_t)n > c->buf.cap) {
            uint8_t *np = realloc(c->buf.p, (size_t)n);
            if (!np) {
                sweep_fail(c, -ENOMEM, "out of memory receiving a result");
                MPI_Abort(MPI_COMM_WORLD, 1);
            }
            c->buf.p = np;
            c->buf.cap = (size_t)n;
        }
        MPI_Recv(c->buf.p, n, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        c->out[st.MPI_SOURCE]--;
        c->inflight--;
        char e2[1024] = "";
        uint32_t task;
        int r = sweep_wire_accept(c->p, c->buf.p, (size_t)n, sink, c->rc == 0, &task, e2,
                                  sizeof(e2));
        if (r)
            sweep_fail(c, r, e2);
        if (sweep_handing_out(c))
            sweep_send(c, st.MPI_SOURCE);
    }
}

static void sweep_run_here(sweep_coord_t *c, sweep_sink_t *sink)
{
    uint32_t t = c->todo[c->next++];
    result_t res;
    result_init(&res);
    char e2[1024] = "", msg[1200];
    int r = sweep_run_task(c->p, t, &res, e2, sizeof(e2));
    if (r == 0) {
        r = sink->deliver(sink, t, &res, sweep_host(), e2, sizeof(e2));
        snprintf(msg, sizeof(msg), "%s", e2);
    } else {
        snprintf(msg, sizeof(msg), "task %s%s%s", c->p->task[t].key,
                 r == -EINTR ? " was interrupted" : ": ",
                 r == -EINTR ? "" : (e2[0] ? e2 : strerror(-r)));
    }
    if (r)
        sweep_fail(c, r, msg);
    result_fini(&res);
}

static int sweep_mpi_coordinate(const sweep_plan_t *p, const uint32_t *todo, size_t ntodo,
                                int size, sweep_sink_t *sink, char *err, size_t errlen)
{
    sweep_coord_t c = {.p = p, .todo = todo, .ntodo = ntodo, .err = err, .errlen = errlen};
    if (!(c.out = calloc((size_t)size, sizeof(int)))) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return -ENOMEM;
    }
    for (int d = 0; d < SWEEP_MPI_DEPTH; d++)
        for (int r = 1; r < size && sweep_handing_out(&c); r++)
            sweep_send(&c, r);
    for (;;) {
        sweep_drain(&c, sink);
        if (sweep_handing_out(&c)) {
            sweep_run_here(&c, sink);
            continue;
        }
        if (c.inflight == 0)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    uint32_t stop = SWEEP_MPI_STOP;
    for (int r = 1; r < size; r++)
        MPI_Send(&stop, 1, MPI_UINT32_T, r, TAG_TASK, MPI_COMM_WORLD);
    sweep_buf_free(&c.buf);
    free(c.out);
    if (c.rc == 0 && c.next < ntodo)
        c.rc = -EINTR;
    return c.rc;
}

int sweep_mpi_run(const sweep_plan_t *p, const uint32_t *todo, size_t ntodo, sweep_sink_t *sink,
                  char *err, size_t errlen)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank != 0)
        return sweep_mpi_serve(p);
    return sweep_mpi_coordinate(p, todo, ntodo, size, sink, err, errlen);
}

#endif
