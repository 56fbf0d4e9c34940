/*
 * backend.c - see backend.h.
 */
#define _GNU_SOURCE
#include "backend.h"

#include "live/rdma.h"
#include "live/stamps.h"
#include "policies/registration.h"
#include "sim/slab.h"
#include "sim/vec.h"

#include <errno.h>
#include <liburing.h>
#include <stdarg.h>
#include <linux/ioprio.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BE_SQ_ENTRIES 512
#define BE_CQ_ENTRIES 4096
#define BE_FIXED_SLOTS 1024
#define BE_WAKE_TAG UINT64_MAX
#define BE_ALIGN 4096u
#define BE_POOL_MAX (64ull << 20)    /* free buffer memory kept per worker */
#define BE_HYBRID_SPIN_MAX_NS 50000  /* hybrid: longest spin after the sleep */
#define BE_HYBRID_SLEEP_FRACTION 0.5 /* hybrid: sleep through this much of the recent latency */
#define BE_MAX_WORKERS 256           /* consumer threads; beyond, one shared thread per CPU */

typedef struct be_buf {
    struct be_buf *next;
    void *mem;
    uint64_t bytes;
} be_buf_t;

/* A registration policy's region: memory, and its fixed-table index once a
 * kept registration made it a real registered buffer. */
typedef struct {
    void *mem;
    uint64_t bytes;
    int32_t fixed;
    void *mr;          /* RDMA memory registration, kept with the region */
} be_region_t;

typedef struct {
    req_t *r;
    pol_reg_use_t use;
    uint32_t next_free;
    uint16_t ioprio;
    uint8_t retries;
} be_slot_t;

typedef struct be_worker be_worker_t;

/* CPU work for a worker (live_be_cpu_work), queued in its inbox. */
typedef struct be_cpujob {
    struct be_cpujob *next;
    uint64_t ns, arg;
    double from_cpu;              /* its thread CPU time counts from here (0: from its start) */
} be_cpujob_t;

struct be_worker {
    live_be_t *be;
    uint32_t cpu;                 /* where it runs now (moves with its consumer's placement) */
    uint64_t key;                 /* its consumer: flow << 16 | declared CPU */
    pthread_t th;
    bool joined;
    /* start-up handshake */
    int setup_rc;
    bool setup_done;
    char setup_err[320];          /* what the failed setup step was, for the message */
    /* set by submitters under mu */
    pthread_mutex_t mu;
    req_t *in_head, *in_tail;
    be_cpujob_t *cpu_head, *cpu_tail;
    _Atomic(req_t *) in_peek;     /* non-NULL while the inbox has something */
    _Atomic int cpu_peek;         /* CPU work in the inbox */
    _Atomic int sleeping, stop, mark, wait, batch;
    _Atomic int computing;        /* running CPU work (live_be_cpu_work): no timers meanwhile */
    _Atomic uint64_t wake_at;     /* while sleeping: when it wakes by itself (run time) */
    bool timers;                  /* the timer worker (set before it starts) */
    _Atomic double window_ns;
    int efd;
    /* worker-local */
    struct io_uring ring;
    bool ring_ok, iopoll, fixed_ok, no_rt, woke;
    bool sync_noted;              /* pread mode: said what of the placement it cannot do */
    /* The think window (live_be_cpu_work): this thread's CPU time when it
     * last had a result in hand (t_ready), while its done callback runs
     * (in_done), and when its last busy loop ended; spun: a loop ended and
     * no read was submitted nor a wait begun since; after_spin_ns: the CPU
     * time from a loop's end to the next submission without a wait between
     * (the next request's bookkeeping), smoothed. */
    double ready_cpu_ns, spin_end_ns, after_spin_ns;
    bool in_done, spun;
    uint16_t sync_prio;           /* pread mode: the thread's ioprio now */
    pol_taskrun_t taskrun;
    req_t *loc_head, *loc_tail;
    pol_registry_t *reg;
    live_rdma_t *rdma;
    be_slot_t *slot;
    slab_t slots;                 /* slot[] is a slab, indices fit the user_data's slot bits */
    uint32_t *pend;               /* slots prepared, not yet submitted */
    uint32_t npend, pendcap;
    uint64_t pend_since;
    uint32_t inflight;
    bool fixed_used[BE_FIXED_SLOTS];
    be_buf_t *pool;
    uint64_t pool_bytes;
    double ewma_ns;
    uint64_t sink;
    double cpu_mark_ns, cpu_end_ns;
    live_be_stats_t st;
};

/* A slot of the consumer table: written once (key, then w), read without
 * a lock. */
typedef struct {
    uint64_t key;
    _Atomic(be_worker_t *) w;
} be_entry_t;

struct live_be {
    live_be_cfg_t cfg;
    pthread_mutex_t mu;           /* all[], tab inserts, notes, error */
    pthread_cond_t cv;
    be_entry_t *tab;              /* consumer -> worker, open addressing */
    uint32_t ntab;
    be_worker_t **all;            /* every worker started, in start order */
    uint32_t nall;
    int sq_wq_fd;                 /* first SQPOLL ring, shared by the others */
    _Atomic int marked;
    _Atomic(be_worker_t *) timer_w;  /* runs cfg.timers; NULL before the first worker */
    _Atomic uint64_t timer_due;      /* the next timer (run time), set by live_be_timer_due */
    bool stopped;
    char notes[1024];
    char error[512];
};

static __thread be_worker_t *be_self;

uint64_t live_be_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t be_now(const live_be_t *be) { return live_be_mono_ns() - be->cfg.t0_ns; }

double live_be_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Append a note once; the caller holds be->mu. */
static void be_note_vadd(live_be_t *be, const char *fmt, va_list ap)
{
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    if (!strstr(be->notes, line)) {
        size_t len = strlen(be->notes);
        snprintf(be->notes + len, sizeof(be->notes) - len, "%s%s", len ? "; " : "", line);
    }
}

/* Append a note once (takes be->mu). */
static void be_note(live_be_t *be, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void be_note(live_be_t *be, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&be->mu);
    be_note_vadd(be, fmt, ap);
    pthread_mutex_unlock(&be->mu);
    va_end(ap);
}

/* The same, with be->mu held. */
static void be_note_locked(live_be_t *be, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void be_note_locked(live_be_t *be, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    be_note_vadd(be, fmt, ap);
    va_end(ap);
}

uint16_t live_be_ioprio(pol_prio_t p)
{
    switch (p) {
    case POL_PRIO_URGENT: return (uint16_t)IOPRIO_PRIO_VALUE(IOPRIO_CLASS_RT, 0);
    case POL_PRIO_HIGH: return (uint16_t)IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 0);
    case POL_PRIO_MEDIUM: return 0; /* the task's own class: what an unhinted program gets */
    case POL_PRIO_LOW: return (uint16_t)IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0);
    }
    return 0;
}

/* --- buffers and registration -------------------------------------- */

static void *be_buf_get(be_worker_t *w, uint64_t bytes)
{
    for (be_buf_t **pp = &w->pool; *pp; pp = &(*pp)->next)
        if ((*pp)->bytes == bytes) {
            be_buf_t *b = *pp;
            *pp = b->next;
            w->pool_bytes -= bytes;
            void *mem = b->mem;
            free(b);
            return mem;
        }
    void *mem = NULL;
    if (posix_memalign(&mem, BE_ALIGN, bytes) != 0)
        return NULL;
    memset(mem, 0xa5, bytes); /* fault the pages in now, not during an I/O */
    return mem;
}

static void be_buf_put(be_worker_t *w, void *mem, uint64_t bytes)
{
    be_buf_t *b = w->pool_bytes + bytes <= BE_POOL_MAX ? malloc(sizeof(*b)) : NULL;
    if (!b) {
        free(mem);
        return;
    }
    *b = (be_buf_t){w->pool, mem, bytes};
    w->pool = b;
    w->pool_bytes += bytes;
}

static uint64_t be_round(uint64_t bytes) { return (bytes + BE_ALIGN - 1) / BE_ALIGN * BE_ALIGN; }

static int64_t be_reg(void *ctx, uint64_t buf, uint64_t bytes, void **handle)
{
    (void)buf;
    be_worker_t *w = ctx;
    be_region_t *g = malloc(sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->bytes = be_round(bytes);
    g->fixed = -1;
    g->mr = NULL;
    g->mem = be_buf_get(w, g->bytes);
    if (!g->mem) {
        free(g);
        return -ENOMEM;
    }
    *handle = g;
    return 0;
}

static int64_t be_dereg(void *ctx, uint64_t buf, uint64_t bytes, void *handle)
{
    (void)buf;
    (void)bytes;
    be_worker_t *w = ctx;
    be_region_t *g = handle;
    if (g->fixed >= 0) {
        struct iovec none = {0};
        io_uring_register_buffers_update_tag(&w->ring, (unsigned)g->fixed, &none, NULL, 1);
        w->fixed_used[g->fixed] = false;
    }
    live_rdma_dereg(g->mr);
    be_buf_put(w, g->mem, g->bytes);
    free(g);
    return 0;
}

/* A kept registration becomes a fixed buffer of the ring: the real
 * io_uring_register_buffers_update, once per region. */
static void be_fix(be_worker_t *w, be_region_t *g)
{
    for (int32_t i = 0; i < BE_FIXED_SLOTS; i++)
        if (!w->fixed_used[i]) {
            struct iovec iov = {g->mem, g->bytes};
            if (io_uring_register_buffers_update_tag(&w->ring, (unsigned)i, &iov, NULL, 1) == 1) {
                w->fixed_used[i] = true;
                g->fixed = i;
            }
            return;
        }
}

/* --- submission ------------------------------------------------------ */

static uint32_t be_slot_get(be_worker_t *w)
{
    return SLAB_GET(w->slots, w->slot, next_free); /* SLAB_NIL: UINT32_MAX */
}

static void be_slot_put(be_worker_t *w, uint32_t i)
{
    SLAB_PUT(w->slots, w->slot, next_free, i);
}

static void be_fail(be_worker_t *w, int rc, const char *what)
{
    live_be_t *be = w->be;
    pthread_mutex_lock(&be->mu);
    if (!be->error[0])
        snprintf(be->error, sizeof(be->error), "CPU %u: %s: %s", w->cpu, what, strerror(-rc));
    pthread_mutex_unlock(&be->mu);
}

static void be_think_end(be_worker_t *w);

static int be_flush(be_worker_t *w)
{
    if (!io_uring_sq_ready(&w->ring))
        return 0;
    be_think_end(w);
    uint64_t t = be_now(w->be);
    for (uint32_t i = 0; i < w->npend; i++) {
        const req_t *r = w->slot[w->pend[i]].r;
        hist_add(&w->st.late, t > r->t[T_ISSUE] ? t - r->t[T_ISSUE] : 0);
    }
    int rc = io_uring_submit(&w->ring);
    if (rc < 0)
        return rc;
    t = be_now(w->be);
    for (uint32_t i = 0; i < w->npend; i++)
        w->slot[w->pend[i]].r->t[T_SUBMIT] = t;
    w->npend = 0;
    return 0;
}

static struct io_uring_sqe *be_sqe(be_worker_t *w)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
    if (!sqe && be_flush(w) == 0)
        sqe = io_uring_get_sqe(&w->ring);
    return sqe;
}

static void be_complete(be_worker_t *w, uint64_t ud, int32_t res, uint32_t flags);

/* pread mode: the thread's I/O priority is the request's (ioprio_set on
 * this thread, only when it changes); RT refused runs as best effort, and
 * says so, as a refused RT SQE does. */
static void be_sync_prio(be_worker_t *w, be_slot_t *s)
{
    if (s->ioprio == w->sync_prio)
        return;
    if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)s->ioprio) != 0 && errno == EPERM &&
        s->ioprio >> IOPRIO_CLASS_SHIFT == IOPRIO_CLASS_RT) {
        w->no_rt = true;
        w->st.prio_refused++;
        s->ioprio = live_be_ioprio(POL_PRIO_HIGH);
        syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (int)s->ioprio);
    }
    w->sync_prio = s->ioprio;
}

/* A read is submitted: if a think's busy loop came before it, the CPU time
 * this thread spent between the loop's end and now (the bookkeeping that
 * issues the read) is part of the next think's window too. */
static void be_think_end(be_worker_t *w)
{
    if (!w->spun)
        return;
    w->spun = false;
    double d = live_be_thread_cpu_ns() - w->spin_end_ns;
    w->after_spin_ns = w->after_spin_ns > 0 ? 0.8 * w->after_spin_ns + 0.2 * d : d;
}

/* pread mode (live_be_cfg_t.sync): the consumer's thread does the I/O
 * itself in one blocking pread/pwrite, as a program that reads with pread
 * does, and completes it on return. t_submit is the syscall's entry (the
 * last stamp user space has before the I/O: pread returns only once it is
 * done). */
static int be_sync_io(be_worker_t *w, uint32_t i)
{
    be_slot_t *s = &w->slot[i];
    req_t *r = s->r;
    const be_region_t *g = s->use.handle;
    int fd = w->be->cfg.fd;
    be_sync_prio(w, s);
    be_think_end(w);
    uint64_t t = be_now(w->be);
    hist_add(&w->st.late, t > r->t[T_ISSUE] ? t - r->t[T_ISSUE] : 0);
    r->t[T_SUBMIT] = t;
    ssize_t n = r->op == REQ_WRITE ? pwrite(fd, g->mem, r->bytes, (off_t)r->offset)
                                   : pread(fd, g->mem, r->bytes, (off_t)r->offset);
    be_complete(w, LIVE_STAMPS_UD(r->id, i), n < 0 ? -errno : (int32_t)n, 0);
    return 0;
}

static int be_queue_io(be_worker_t *w, uint32_t i)
{
    if (w->be->cfg.sync)
        return be_sync_io(w, i);
    be_slot_t *s = &w->slot[i];
    req_t *r = s->r;
    be_region_t *g = s->use.handle;
    struct io_uring_sqe *sqe = be_sqe(w);
    if (!sqe)
        return -EBUSY;
    int fd = w->be->cfg.fd;
    bool wr = r->op == REQ_WRITE;
    if (g->fixed >= 0) {
        if (wr)
            io_uring_prep_write_fixed(sqe, fd, g->mem, r->bytes, r->offset, g->fixed);
        else
            io_uring_prep_read_fixed(sqe, fd, g->mem, r->bytes, r->offset, g->fixed);
        w->st.fixed_reads++;
    } else if (wr) {
        io_uring_prep_write(sqe, fd, g->mem, r->bytes, r->offset);
    } else {
        io_uring_prep_read(sqe, fd, g->mem, r->bytes, r->offset);
    }
    sqe->ioprio = s->ioprio;
    io_uring_sqe_set_data64(sqe, LIVE_STAMPS_UD(r->id, i));
    if (VEC_RESERVE(w->pend, w->pendcap, (size_t)w->npend + 1) != 0)
        return -ENOMEM;
    if (w->npend == 0)
        w->pend_since = be_now(w->be);
    w->pend[w->npend++] = i;
    return 0;
}

static int be_prep(be_worker_t *w, req_t *r)
{
    uint32_t i = be_slot_get(w);
    if (i == UINT32_MAX)
        return -ENOMEM;
    be_slot_t *s = &w->slot[i];
    *s = (be_slot_t){.r = r, .next_free = UINT32_MAX};
    pol_intent_t in = req_intent(r);
    int rc = pol_reg_acquire(w->reg, &in, &s->use);
    if (rc < 0) {
        be_slot_put(w, i);
        return rc;
    }
    be_region_t *g = s->use.handle;
    if (!s->use.temporary && g->fixed < 0 && w->fixed_ok)
        be_fix(w, g); /* never in pread mode: it has no fixed-buffer table */
    pol_prio_t prio = (pol_prio_t)r->prio;
    if (w->no_rt && prio == POL_PRIO_URGENT)
        prio = POL_PRIO_HIGH;
    uint32_t cpu = (uint32_t)r->consumer_cpu % w->be->cfg.topo->ncpus;
    if (cpu != w->cpu) {
        /* the placement moved the consumer: the thread migrates, as a
         * program that re-pins its thread does */
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof(set), &set) == 0) {
            w->cpu = cpu;
            w->st.migrations++;
        }
    }
    s->ioprio = live_be_ioprio(prio);
    if (r->submit_cpu != (int16_t)w->cpu)
        w->st.submit_elsewhere++;
    if (r->taskrun != w->taskrun)
        w->st.taskrun_mismatch++;
    if (w->be->cfg.sync && !w->sync_noted &&
        (r->wait != POL_WAIT_INTERRUPT || r->taskrun != POL_TASKRUN_DEFAULT ||
         atomic_load_explicit(&w->batch, memory_order_relaxed) > 1 ||
         (!s->use.temporary && w->be->cfg.registration != POL_REG_NONE))) {
        w->sync_noted = true;
        be_note(w->be, "--submit pread: the placement's wait mode, task_work mode, batching and "
                       "kept registrations have no pread counterpart and were not applied");
    }
    /* in flight before it is queued: in pread mode it completes in there */
    w->inflight++;
    rc = be_queue_io(w, i);
    if (rc) {
        w->inflight--;
        pol_reg_release(w->reg, &s->use);
        be_slot_put(w, i);
        return rc;
    }
    return 0;
}

/* --- completion ------------------------------------------------------ */

/* Read every cache line: the consumer really has the data. */
static uint64_t be_touch(const void *mem, uint32_t bytes)
{
    const volatile uint64_t *p = mem;
    uint64_t s = 0;
    for (uint32_t k = 0; k < bytes / 8; k += 8)
        s += p[k];
    return s;
}

static void be_stamp_cpus(be_worker_t *w, req_t *r)
{
    const live_topo_t *t = w->be->cfg.topo;
    uint32_t me = w->cpu;
    uint32_t irq = w->iopoll ? me : t->queue_irq_cpu[t->cpu_queue[me]];
    uint32_t comp = t->rq_affinity == 2   ? me
                    : t->rq_affinity == 1 ? (t->cpu_node[irq] == t->cpu_node[me] ? irq : me)
                                          : irq;
    r->irq_cpu = (int16_t)irq;
    r->completion_cpu = (int16_t)comp;
    r->polled = w->iopoll;
    /* measured, as in the model: where this thread runs as it consumes the
     * data (the pinned CPU unless pinning was refused) */
    int now = sched_getcpu();
    r->consumer_cpu = (int16_t)(now >= 0 ? (uint32_t)now : me);
}

static void be_rearm_wake(be_worker_t *w)
{
    struct io_uring_sqe *sqe = be_sqe(w);
    if (!sqe)
        return;
    io_uring_prep_poll_multishot(sqe, w->efd, POLLIN);
    io_uring_sqe_set_data64(sqe, BE_WAKE_TAG);
}

/* The RDMA continuation: the region's memory registered as the storage
 * registration was decided (kept: once for the region's life; per
 * transfer: around this send), then written to the peer. */
static int be_rdma(be_worker_t *w, const be_slot_t *s, be_region_t *g, const req_t *r)
{
    void *mr = g->mr;
    bool temporary = false;
    if (!mr) {
        mr = live_rdma_reg(w->rdma, g->mem, g->bytes);
        if (!mr)
            return -errno ? -errno : -ENOMEM;
        if (s->use.temporary)
            temporary = true;
        else
            g->mr = mr;
    }
    int rc = live_rdma_send(w->rdma, mr, g->mem, r->bytes,
                            (pol_wait_t)atomic_load_explicit(&w->wait, memory_order_relaxed));
    if (temporary)
        live_rdma_dereg(mr);
    return rc;
}

static void be_complete(be_worker_t *w, uint64_t ud, int32_t res, uint32_t flags)
{
    if (ud == BE_WAKE_TAG) {
        uint64_t v;
        if (read(w->efd, &v, sizeof(v)) < 0) { /* nothing to clear */ }
        if (!(flags & IORING_CQE_F_MORE))
            be_rearm_wake(w);
        return;
    }
    uint32_t i = (uint32_t)(ud & ((1u << LIVE_STAMPS_SLOT_BITS) - 1));
    be_slot_t *s = &w->slot[i];
    req_t *r = s->r;
    if ((res == -EPERM && s->ioprio >> IOPRIO_CLASS_SHIFT == IOPRIO_CLASS_RT) ||
        (res == -EAGAIN && s->retries < 8)) {
        /* RT class needs CAP_SYS_ADMIN: run it as best effort, and say so */
        if (res == -EPERM) {
            w->no_rt = true;
            w->st.prio_refused++;
            s->ioprio = live_be_ioprio(POL_PRIO_HIGH);
        }
        s->retries++;
        if (be_queue_io(w, i) == 0)
            return;
    }
    uint64_t t_cqe = be_now(w->be);
    be_region_t *g = s->use.handle;
    if (res != (int32_t)r->bytes) {
        w->st.errors++;
        if (!w->st.first_error)
            w->st.first_error = res < 0 ? res : -EIO;
    } else {
        w->sink += be_touch(g->mem, r->bytes);
    }
    uint64_t t_ready = be_now(w->be);
    if (w->rdma && r->rdma && res == (int32_t)r->bytes) {
        int rc = be_rdma(w, s, g, r);
        if (rc) {
            w->st.errors++;
            if (!w->st.first_error)
                w->st.first_error = rc;
        }
        r->t[T_CONTINUED] = be_now(w->be);
    }
    pol_reg_release(w->reg, &s->use);
    be_slot_put(w, i);
    w->inflight--;
    /* what user space cannot see is left at the nearest stamp it can */
    r->t[T_DISPATCH] = r->t[T_SUBMIT];
    r->t[T_DEVICE_DONE] = r->t[T_IRQ] = r->t[T_BLK_DONE] = r->t[T_CQE] = t_cqe;
    r->t[T_READY] = t_ready;
    be_stamp_cpus(w, r);
    /* a CQE found without sleeping was posted by task_work that waited for
     * this task's next kernel entry (COOP/DEFER), as in the model */
    r->deferred = w->taskrun != POL_TASKRUN_DEFAULT && !w->woke &&
                  atomic_load_explicit(&w->wait, memory_order_relaxed) == POL_WAIT_INTERRUPT;
    double lat = (double)(t_ready - r->t[T_ISSUE]);
    w->ewma_ns = w->ewma_ns > 0 ? 0.9 * w->ewma_ns + 0.1 * lat : lat;
    w->ready_cpu_ns = w->be->cfg.thinks ? live_be_thread_cpu_ns() : 0;
    w->spun = false;
    w->in_done = true;
    w->be->cfg.done(w->be->cfg.ctx, r);
    w->in_done = false;
}

static int be_reap(be_worker_t *w)
{
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&w->ring, head, cqe)
    {
        uint64_t ud = cqe->user_data;
        int32_t res = cqe->res;
        uint32_t flags = cqe->flags;
        io_uring_cq_advance(&w->ring, 1); /* before the callback: it may queue more */
        be_complete(w, ud, res, flags);
        n++;
    }
    if (n)
        w->woke = false;
    return (int)n;
}

/* --- the worker thread ----------------------------------------------- */

static int be_ring_setup(be_worker_t *w, pol_wait_t wait)
{
    live_be_t *be = w->be;
    const host_cfg_t *h = be->cfg.host;
    const live_topo_t *t = be->cfg.topo;
    pol_taskrun_t tr = w->taskrun;
    bool want_poll = wait != POL_WAIT_INTERRUPT && !be->cfg.sync; /* pread mode: only wake-ups */
    if (want_poll && !t->poll_queues)
        be_note(be, "IOPOLL unavailable on %s (queue/io_poll=0: no polled queues); polling the "
                "CQ ring instead", t->disk);
    bool iopoll = want_poll && t->poll_queues, sq = h && h->sqpoll;
    for (;;) {
        struct io_uring_params p = {.flags = IORING_SETUP_CQSIZE, .cq_entries = BE_CQ_ENTRIES};
        if (tr == POL_TASKRUN_COOP)
            p.flags |= IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
        else if (tr == POL_TASKRUN_DEFER)
            p.flags |= IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                       IORING_SETUP_TASKRUN_FLAG;
        if (sq) {
            p.flags |= IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
            p.sq_thread_cpu = h->sqpoll_cpu >= 0 && (uint32_t)h->sqpoll_cpu < t->ncpus
                                  ? (uint32_t)h->sqpoll_cpu
                                  : t->ncpus - 1;
            p.sq_thread_idle = h->sqpoll_idle_us >= 1000 ? (uint32_t)(h->sqpoll_idle_us / 1000) : 1;
            pthread_mutex_lock(&be->mu);
            if (be->sq_wq_fd >= 0) {
                p.flags |= IORING_SETUP_ATTACH_WQ;
                p.wq_fd = (uint32_t)be->sq_wq_fd;
            }
            pthread_mutex_unlock(&be->mu);
        }
        if (iopoll)
            p.flags |= IORING_SETUP_IOPOLL;
        int rc = io_uring_queue_init_params(BE_SQ_ENTRIES, &w->ring, &p);
        if (rc == 0) {
            w->iopoll = iopoll;
            w->taskrun = tr;
            if (sq) {
                pthread_mutex_lock(&be->mu);
                if (be->sq_wq_fd < 0)
                    be->sq_wq_fd = w->ring.ring_fd;
                pthread_mutex_unlock(&be->mu);
            }
            return 0;
        }
        if (rc != -EINVAL)
            return rc;
        /* the kernel refused the combination: step down, and say so */
        if (iopoll) {
            iopoll = false;
            be_note(be, "IOPOLL ring refused by the kernel: interrupt-driven ring");
        } else if (sq) {
            sq = false;
            be_note(be, "SQPOLL refused with this task_work mode: no SQPOLL");
        } else if (tr != POL_TASKRUN_DEFAULT) {
            be_note(be, "%s task_work refused: default set-up",
                    tr == POL_TASKRUN_DEFER ? "DEFER_TASKRUN" : "COOP_TASKRUN");
            tr = POL_TASKRUN_DEFAULT;
        } else {
            return rc;
        }
    }
}

static int be_worker_setup(be_worker_t *w, pol_wait_t wait)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        snprintf(w->setup_err, sizeof(w->setup_err), "pinning its worker: %s", strerror(errno));
        return -errno;
    }
    int rc = be_ring_setup(w, wait);
    if (rc) {
        snprintf(w->setup_err, sizeof(w->setup_err), "setting up the io_uring ring: %s",
                 strerror(-rc));
        return rc;
    }
    w->ring_ok = true;
    live_be_t *be = w->be;
    if (be->cfg.registration != POL_REG_NONE && !be->cfg.sync) {
        rc = io_uring_register_buffers_sparse(&w->ring, BE_FIXED_SLOTS);
        w->fixed_ok = rc == 0;
        if (rc)
            be_note(be, "no sparse fixed-buffer table (%s): kept registrations use plain reads",
                    strerror(-rc));
    }
    if (be->cfg.rdma) {
        char err[256];
        rc = live_rdma_open(&w->rdma, err, sizeof(err));
        if (rc) { /* the RDMA set-up, not the ring: say which */
            snprintf(w->setup_err, sizeof(w->setup_err), "%s", err);
            return rc;
        }
    }
    pol_reg_ops_t ops = {be_reg, be_dereg};
    w->reg = pol_reg_new(be->cfg.registration, be->cfg.polcfg, &ops, w);
    if (!w->reg)
        return -ENOMEM;
    if (!w->iopoll) { /* IOPOLL rings take only polled I/O; those workers spin anyway */
        be_rearm_wake(w);
        rc = io_uring_submit(&w->ring);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void be_take_inbox(be_worker_t *w)
{
    if (!atomic_load_explicit(&w->in_peek, memory_order_acquire))
        return;
    pthread_mutex_lock(&w->mu);
    req_t *h = w->in_head, *t = w->in_tail;
    w->in_head = w->in_tail = NULL;
    atomic_store_explicit(&w->in_peek, NULL, memory_order_release);
    pthread_mutex_unlock(&w->mu);
    if (!h)
        return;
    if (w->loc_tail)
        w->loc_tail->next = h;
    else
        w->loc_head = h;
    w->loc_tail = t;
}

/* Spin until this thread's CPU time reaches until; returns it then. */
static double be_spin_until(double until)
{
    double now;
    while ((now = live_be_thread_cpu_ns()) < until) {
    }
    return now;
}

/* Run the CPU work queued for this worker, in order. True if there was any. */
static bool be_run_cpu(be_worker_t *w)
{
    if (!atomic_load_explicit(&w->cpu_peek, memory_order_acquire))
        return false;
    pthread_mutex_lock(&w->mu);
    be_cpujob_t *j = w->cpu_head;
    w->cpu_head = w->cpu_tail = NULL;
    atomic_store_explicit(&w->cpu_peek, 0, memory_order_release);
    pthread_mutex_unlock(&w->mu);
    if (w->timers && j) { /* the caller runs the timers while this thread computes */
        atomic_store(&w->computing, 1);
        w->be->cfg.timers_off(w->be->cfg.ctx, true);
    }
    while (j) {
        be_cpujob_t *next = j->next;
        /* A think's CPU time is the thread's from the result in hand to the
         * next read, as the recording measured it (think_cpu_ns: on a CPU
         * between the syscall's exit and the next entry): what this thread
         * already spent on the result since (the completion's bookkeeping)
         * is part of it, not on top; never a time already counted for an
         * earlier busy loop. */
        double now = live_be_thread_cpu_ns();
        double from = j->from_cpu > w->spin_end_ns && j->from_cpu < now ? j->from_cpu : now;
        /* and the bookkeeping between the loop's end and the next read, as
         * this worker last measured it, comes off it too (only a think of
         * this consumer's own, counted from its result) */
        double after = j->from_cpu > 0 && from == j->from_cpu ? w->after_spin_ns : 0;
        w->spin_end_ns = be_spin_until(from + (double)j->ns - after);
        w->spun = true;
        w->be->cfg.cpu_done(w->be->cfg.ctx, j->arg);
        free(j);
        j = next;
    }
    if (w->timers && atomic_load(&w->computing)) {
        atomic_store(&w->computing, 0);
        w->be->cfg.timers_off(w->be->cfg.ctx, false);
    }
    return true;
}

static bool be_needs_enter(be_worker_t *w)
{
    return w->iopoll || (IO_URING_READ_ONCE(*w->ring.sq.kflags) &
                         (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW));
}

static void be_wait(be_worker_t *w)
{
    pol_wait_t wm = (pol_wait_t)atomic_load_explicit(&w->wait, memory_order_relaxed);
    if (w->iopoll)
        wm = POL_WAIT_POLL;
    live_be_t *be = w->be;
    if (be->cfg.sync) /* pread mode: nothing to poll for, it waits in pread */
        wm = POL_WAIT_INTERRUPT;
    /* a think that also sleeps: what the worker spends after its busy loop
     * (waiting, woken, issuing) is not the bookkeeping of one that does not,
     * and is not measured (it would shorten the next think's loop by more
     * than its own issuing costs) */
    w->spun = false;
    uint64_t now = be_now(be);
    uint64_t window = (uint64_t)atomic_load_explicit(&w->window_ns, memory_order_relaxed);
    uint64_t deadline = w->npend ? w->pend_since + window : UINT64_MAX;
    uint64_t due = w->timers ? atomic_load(&be->timer_due) : UINT64_MAX;
    if (due < deadline)
        deadline = due; /* the next timer wakes it as a CQE does */
    if (wm == POL_WAIT_POLL || deadline <= now) {
        if (be_needs_enter(w))
            io_uring_get_events(&w->ring);
        return;
    }
    if (wm == POL_WAIT_HYBRID && w->inflight && w->ewma_ns > 0) {
        /* sleep through part of the expected latency, then spin */
        uint64_t nap = (uint64_t)(w->ewma_ns * BE_HYBRID_SLEEP_FRACTION);
        if (nap > deadline - now)
            nap = deadline - now;
        struct io_uring_cqe *cqe;
        struct __kernel_timespec ts = {.tv_sec = (long long)(nap / 1000000000ull),
                                       .tv_nsec = (long long)(nap % 1000000000ull)};
        io_uring_wait_cqe_timeout(&w->ring, &cqe, &ts);
        uint64_t until = be_now(be) + BE_HYBRID_SPIN_MAX_NS;
        if (until > deadline)
            until = deadline;
        while (!io_uring_cq_ready(&w->ring) && be_now(be) < until &&
               !atomic_load_explicit(&w->in_peek, memory_order_relaxed) &&
               !atomic_load_explicit(&w->cpu_peek, memory_order_relaxed)) {
            if (be_needs_enter(w))
                io_uring_get_events(&w->ring);
        }
        if (io_uring_cq_ready(&w->ring))
            return;
        now = be_now(be);
        if (deadline <= now)
            return;
    }
    /* a timer set meanwhile for earlier than deadline is seen here, or its
     * setter sees sleeping and wake_at and writes the eventfd */
    atomic_store(&w->wake_at, deadline);
    atomic_store(&w->sleeping, 1);
    if (atomic_load(&w->in_peek) || atomic_load(&w->cpu_peek) || atomic_load(&w->stop) ||
        (w->timers && atomic_load(&be->timer_due) < deadline)) {
        atomic_store(&w->sleeping, 0);
        return;
    }
    struct io_uring_cqe *cqe;
    if (deadline != UINT64_MAX) {
        uint64_t d = deadline - now;
        struct __kernel_timespec ts = {.tv_sec = (long long)(d / 1000000000ull),
                                       .tv_nsec = (long long)(d % 1000000000ull)};
        io_uring_wait_cqe_timeout(&w->ring, &cqe, &ts);
    } else {
        io_uring_wait_cqe(&w->ring, &cqe);
    }
    atomic_store(&w->sleeping, 0);
    w->woke = true;
}

static void be_worker_loop(be_worker_t *w)
{
    for (;;) {
        bool did = false;
        /* due timers first: what they issue to this consumer is queued
         * locally and submitted in this pass */
        if (w->timers && !atomic_load(&w->stop) &&
            be_now(w->be) >= atomic_load(&w->be->timer_due))
            w->be->cfg.timers(w->be->cfg.ctx);
        be_take_inbox(w);
        while (w->loc_head) {
            req_t *r = w->loc_head;
            w->loc_head = r->next;
            if (!w->loc_head)
                w->loc_tail = NULL;
            r->next = NULL;
            int rc = be_prep(w, r);
            if (rc) {
                be_fail(w, rc, "queueing an I/O");
                /* give it back done-but-failed so the run can wind down */
                w->st.errors++;
                if (!w->st.first_error)
                    w->st.first_error = rc;
                r->t[T_SUBMIT] = r->t[T_DISPATCH] = r->t[T_DEVICE_DONE] = r->t[T_IRQ] =
                    r->t[T_BLK_DONE] = r->t[T_CQE] = r->t[T_READY] = be_now(w->be);
                w->be->cfg.done(w->be->cfg.ctx, r);
            }
            did = true;
        }
        if (w->npend) {
            uint32_t batch = (uint32_t)atomic_load_explicit(&w->batch, memory_order_relaxed);
            uint64_t window = (uint64_t)atomic_load_explicit(&w->window_ns, memory_order_relaxed);
            if (w->npend >= batch || be_now(w->be) >= w->pend_since + window ||
                atomic_load(&w->stop)) {
                int rc = be_flush(w);
                if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR)
                    be_fail(w, rc, "io_uring_submit");
            }
        } else if (io_uring_sq_ready(&w->ring)) {
            io_uring_submit(&w->ring); /* a re-armed wake-up poll */
        }
        if (be_reap(w) > 0)
            did = true;
        if (be_run_cpu(w))
            did = true;
        if (atomic_exchange(&w->mark, 0)) {
            pol_reg_stats_reset(w->reg);
            w->st.fixed_reads = 0;
            hist_init(&w->st.late);
            w->cpu_mark_ns = live_be_thread_cpu_ns();
        }
        if (atomic_load(&w->stop) && !w->inflight && !w->npend && !w->loc_head &&
            !atomic_load(&w->in_peek) && !atomic_load(&w->cpu_peek))
            break;
        if (!did)
            be_wait(w);
    }
}

static void *be_worker_main(void *arg)
{
    be_worker_t *w = arg;
    be_self = w;
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* the driver thread handles them */
    int rc = be_worker_setup(w, (pol_wait_t)atomic_load(&w->wait));
    live_be_t *be = w->be;
    pthread_mutex_lock(&be->mu);
    w->setup_rc = rc;
    w->setup_done = true;
    pthread_cond_broadcast(&be->cv);
    pthread_mutex_unlock(&be->mu);
    if (rc == 0) {
        /* its timers end on time, not up to the default 50 us slack late */
        if (w->timers)
            prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        if (atomic_load(&be->marked))
            w->cpu_mark_ns = live_be_thread_cpu_ns();
        be_worker_loop(w);
        w->cpu_end_ns = live_be_thread_cpu_ns();
        w->st.reg = *pol_reg_stats(w->reg);
    }
    /* buffers unregistered (each kept region, then the table) before the ring goes */
    pol_reg_free(w->reg);
    w->reg = NULL;
    live_rdma_close(w->rdma);
    w->rdma = NULL;
    if (w->fixed_ok)
        io_uring_unregister_buffers(&w->ring);
    if (w->ring_ok)
        io_uring_queue_exit(&w->ring);
    w->ring_ok = false;
    return NULL;
}

/* --- the public side ------------------------------------------------- */

live_be_t *live_be_new(const live_be_cfg_t *cfg, char *err, size_t errlen)
{
    live_be_t *be = calloc(1, sizeof(*be));
    if (be) {
        /* room for every worker (and the shared per-CPU ones) at half load */
        be->ntab = 2 * (BE_MAX_WORKERS + cfg->topo->ncpus);
        be->tab = calloc(be->ntab, sizeof(*be->tab));
        be->all = calloc(BE_MAX_WORKERS + cfg->topo->ncpus, sizeof(*be->all));
    }
    if (!be || !be->tab || !be->all) {
        if (be) {
            free(be->tab);
            free(be->all);
        }
        free(be);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    be->cfg = *cfg;
    be->sq_wq_fd = -1;
    pthread_mutex_init(&be->mu, NULL);
    pthread_cond_init(&be->cv, NULL);
    return be;
}

static void be_worker_destroy(be_worker_t *w)
{
    if (!w)
        return;
    for (be_buf_t *b = w->pool, *n; b; b = n) {
        n = b->next;
        free(b->mem);
        free(b);
    }
    for (be_cpujob_t *j = w->cpu_head, *n; j; j = n) {
        n = j->next;
        free(j);
    }
    if (w->efd >= 0)
        close(w->efd);
    pthread_mutex_destroy(&w->mu);
    free(w->slot);
    free(w->pend);
    free(w);
}

/* Start the worker of a consumer on cpu (under be->mu) and wait for its ring. */
static be_worker_t *be_start(live_be_t *be, uint64_t key, uint32_t cpu, const pol_placement_t *pl,
                             const req_t *r, int *rc)
{
    be_worker_t *w = calloc(1, sizeof(*w));
    if (!w) {
        *rc = -ENOMEM;
        return NULL;
    }
    w->be = be;
    w->cpu = cpu;
    w->key = key;
    w->slots = slab_make(1u << LIVE_STAMPS_SLOT_BITS);
    hist_init(&w->st.late);
    /* pread mode: the ring only carries wake-ups (eventfd), set up plainly */
    w->taskrun = be->cfg.sync ? POL_TASKRUN_DEFAULT : (pol_taskrun_t)r->taskrun;
    atomic_store(&w->wait, (int)r->wait);
    atomic_store(&w->batch, (int)(pl->batch ? pl->batch : 1));
    atomic_store(&w->window_ns, pl->batch_window_ns);
    atomic_store(&w->mark, 0);
    atomic_store(&w->wake_at, UINT64_MAX);
    /* the first worker runs the timers (it is the only one in an open-loop
     * scenario of one consumer) */
    w->timers = be->cfg.timers && !atomic_load(&be->timer_w);
    pthread_mutex_init(&w->mu, NULL);
    w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (w->efd < 0 || pthread_create(&w->th, NULL, be_worker_main, w) != 0) {
        *rc = w->efd < 0 ? -errno : -EAGAIN;
        be_worker_destroy(w);
        return NULL;
    }
    while (!w->setup_done)
        pthread_cond_wait(&be->cv, &be->mu);
    *rc = w->setup_rc;
    if (*rc) {
        pthread_join(w->th, NULL);
        if (!be->error[0] && w->setup_err[0])
            snprintf(be->error, sizeof(be->error), "CPU %u: %s", cpu, w->setup_err);
        else if (!be->error[0])
            snprintf(be->error, sizeof(be->error), "CPU %u: setting up its worker: %s", cpu,
                     strerror(-*rc));
        be_worker_destroy(w);
        return NULL;
    }
    if (w->timers)
        atomic_store(&be->timer_w, w);
    return w;
}

static uint32_t be_hash(uint64_t key, uint32_t n)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) % n;
}

/* The table slot holding key, or the empty one where it would go. */
static be_entry_t *be_find(live_be_t *be, uint64_t key)
{
    uint32_t h = be_hash(key, be->ntab);
    for (;;) {
        be_entry_t *e = &be->tab[h];
        be_worker_t *w = atomic_load_explicit(&e->w, memory_order_acquire);
        if (!w || e->key == key)
            return e;
        h = (h + 1) % be->ntab;
    }
}

/* The worker of r's consumer: one thread per (flow, declared consumer CPU),
 * as the simulator's consumer threads (models/uring.h); past
 * BE_MAX_WORKERS, one shared thread per CPU. Started on first use. */
static be_worker_t *be_worker_of(live_be_t *be, const req_t *r, const pol_placement_t *pl,
                                 int *rc)
{
    uint32_t cpu = (uint32_t)r->consumer_cpu % be->cfg.topo->ncpus;
    uint64_t key = (uint64_t)r->flow << 16 | (uint16_t)r->home_cpu;
    be_entry_t *e = be_find(be, key);
    be_worker_t *w = atomic_load_explicit(&e->w, memory_order_acquire);
    if (w)
        return w;
    pthread_mutex_lock(&be->mu);
    if (be->nall >= BE_MAX_WORKERS) {
        if (be->nall == BE_MAX_WORKERS)
            be_note_locked(be, "more than %d consumers: the rest share one thread per CPU",
                           BE_MAX_WORKERS);
        key = UINT64_MAX - cpu;
    }
    e = be_find(be, key);
    w = atomic_load_explicit(&e->w, memory_order_acquire);
    if (!w && !be->stopped) {
        w = be_start(be, key, cpu, pl, r, rc);
        if (w) {
            be->all[be->nall++] = w;
            e->key = key;
            atomic_store_explicit(&e->w, w, memory_order_release);
        }
    }
    pthread_mutex_unlock(&be->mu);
    return w;
}

int live_be_submit(live_be_t *be, req_t *r, const pol_placement_t *pl)
{
    int rc = 0;
    be_worker_t *w = be_worker_of(be, r, pl, &rc);
    if (!w)
        return rc ? rc : -ESHUTDOWN;
    atomic_store_explicit(&w->wait, (int)r->wait, memory_order_relaxed);
    atomic_store_explicit(&w->batch, (int)(pl->batch ? pl->batch : 1), memory_order_relaxed);
    atomic_store_explicit(&w->window_ns, pl->batch_window_ns, memory_order_relaxed);
    r->next = NULL;
    if (be_self == w) {
        if (w->loc_tail)
            w->loc_tail->next = r;
        else
            w->loc_head = r;
        w->loc_tail = r;
        return 0;
    }
    pthread_mutex_lock(&w->mu);
    if (w->in_tail)
        w->in_tail->next = r;
    else
        w->in_head = r;
    w->in_tail = r;
    atomic_store(&w->in_peek, w->in_head);
    pthread_mutex_unlock(&w->mu);
    if (atomic_load(&w->sleeping))
        eventfd_write(w->efd, 1);
    return 0;
}

int live_be_cpu_work(live_be_t *be, uint32_t flow, uint32_t cpu, uint64_t ns, uint64_t arg)
{
    /* a consumer that has not submitted yet starts as its first request would */
    req_t r = {.flow = flow, .home_cpu = (int16_t)cpu, .consumer_cpu = (int16_t)cpu,
               .wait = POL_WAIT_INTERRUPT, .taskrun = POL_TASKRUN_DEFAULT};
    pol_placement_t pl = {0};
    int rc = 0;
    be_worker_t *w = be_worker_of(be, &r, &pl, &rc);
    if (!w)
        return rc ? rc : -ESHUTDOWN;
    be_cpujob_t *j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->ns = ns;
    j->arg = arg;
    /* asked by the consumer's own completion: its think began with the result */
    if (be_self == w && w->in_done)
        j->from_cpu = w->ready_cpu_ns;
    pthread_mutex_lock(&w->mu);
    if (w->cpu_tail)
        w->cpu_tail->next = j;
    else
        w->cpu_head = j;
    w->cpu_tail = j;
    atomic_store(&w->cpu_peek, 1);
    pthread_mutex_unlock(&w->mu);
    if (be_self != w && atomic_load(&w->sleeping))
        eventfd_write(w->efd, 1);
    return 0;
}

bool live_be_timer_due(live_be_t *be, uint64_t t)
{
    atomic_store(&be->timer_due, t);
    be_worker_t *w = atomic_load(&be->timer_w);
    if (!w)
        return false;
    if (be_self != w && atomic_load(&w->sleeping) && t < atomic_load(&w->wake_at))
        eventfd_write(w->efd, 1);
    return !atomic_load(&w->computing) && !atomic_load(&w->stop);
}

void live_be_mark(live_be_t *be)
{
    pthread_mutex_lock(&be->mu);
    atomic_store(&be->marked, 1);
    for (uint32_t i = 0; i < be->nall; i++) {
        atomic_store(&be->all[i]->mark, 1);
        if (atomic_load(&be->all[i]->sleeping))
            eventfd_write(be->all[i]->efd, 1);
    }
    pthread_mutex_unlock(&be->mu);
}

static void be_stop(live_be_t *be)
{
    pthread_mutex_lock(&be->mu);
    bool already = be->stopped;
    be->stopped = true;
    pthread_mutex_unlock(&be->mu);
    if (already)
        return;
    for (uint32_t i = 0; i < be->nall; i++) {
        be_worker_t *w = be->all[i];
        atomic_store(&w->stop, 1);
        eventfd_write(w->efd, 1);
        pthread_join(w->th, NULL);
        w->joined = true;
    }
}

void live_be_stats(live_be_t *be, live_be_stats_t *st)
{
    be_stop(be);
    memset(st, 0, sizeof(*st));
    hist_init(&st->late);
    for (uint32_t i = 0; i < be->nall; i++) {
        be_worker_t *w = be->all[i];
        const live_be_stats_t *s = &w->st;
        hist_merge(&st->late, &s->late);
        pol_reg_stats_add(&st->reg, &s->reg);
        st->taskrun_mismatch += s->taskrun_mismatch;
        st->submit_elsewhere += s->submit_elsewhere;
        st->prio_refused += s->prio_refused;
        st->fixed_reads += s->fixed_reads;
        st->migrations += s->migrations;
        st->errors += s->errors;
        if (!st->first_error)
            st->first_error = s->first_error;
        st->cpu_ns += w->cpu_end_ns - w->cpu_mark_ns;
        st->workers++;
    }
}

void live_be_free(live_be_t *be)
{
    if (!be)
        return;
    be_stop(be);
    for (uint32_t i = 0; i < be->nall; i++)
        be_worker_destroy(be->all[i]);
    free(be->all);
    free(be->tab);
    pthread_mutex_destroy(&be->mu);
    pthread_cond_destroy(&be->cv);
    free(be);
}

const char *live_be_notes(live_be_t *be) { return be->notes; }
const char *live_be_error(live_be_t *be) { return be->error; }
