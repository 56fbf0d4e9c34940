/*
 * calprobe.c - see calprobe.h.
 */
#define _GNU_SOURCE
#include "calprobe.h"

#include <errno.h>
#include <gsl/gsl_rng.h>
#include <linux/futex.h>
#include <liburing.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096u

uint64_t calprobe_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int calprobe_pin(int cpu, calprobe_pin_t *p)
{
    p->pinned = 0;
    if (cpu < 0)
        return 0;
    if (pthread_getaffinity_np(pthread_self(), sizeof(p->old), &p->old))
        return -EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (rc)
        return -rc;
    p->pinned = 1;
    return 0;
}

void calprobe_unpin(calprobe_pin_t *p)
{
    if (p->pinned)
        pthread_setaffinity_np(pthread_self(), sizeof(p->old), &p->old);
}

/* Wait for one CQE; returns its res or a negative errno. */
static int reap(struct io_uring *ring, uint64_t *user_data)
{
    struct io_uring_cqe *cqe;
    int rc;
    while ((rc = io_uring_wait_cqe(ring, &cqe)) == -EINTR)
        ;
    if (rc < 0)
        return rc;
    rc = cqe->res;
    if (user_data)
        *user_data = cqe->user_data;
    io_uring_cqe_seen(ring, cqe);
    return rc;
}

/* What a read probe holds: the thread pinned to its CPU, a ring, one 4 KiB
 * buffer and the offsets' generator. */
typedef struct {
    struct io_uring ring;
    void *buf;
    gsl_rng *rng;
    calprobe_pin_t pin;
    int have_ring;
} rig_t;

static void rig_close(rig_t *g)
{
    free(g->buf);
    if (g->have_ring)
        io_uring_queue_exit(&g->ring);
    calprobe_unpin(&g->pin);
    gsl_rng_free(g->rng);
}

/* 0, or a negative errno with nothing left held. */
static int rig_open_bytes(rig_t *g, int cpu, uint64_t seed, unsigned entries, unsigned bytes)
{
    memset(g, 0, sizeof(*g));
    int rc = calprobe_pin(cpu, &g->pin);
    if (rc)
        return rc;
    if (!(g->rng = gsl_rng_alloc(gsl_rng_mt19937)))
        rc = -ENOMEM;
    else if ((rc = io_uring_queue_init(entries, &g->ring, 0)) == 0)
        g->have_ring = 1;
    if (!rc && posix_memalign(&g->buf, BLK, bytes)) {
        g->buf = NULL;
        rc = -ENOMEM;
    }
    if (rc) {
        rig_close(g);
        return rc;
    }
    gsl_rng_set(g->rng, seed);
    memset(g->buf, 0x5a, bytes);
    return 0;
}

static int rig_open(rig_t *g, int cpu, uint64_t seed, unsigned entries)
{
    return rig_open_bytes(g, cpu, seed, entries, BLK);
}

int calprobe_qd1(int fd, uint64_t nblocks, int cpu, int write, size_t n, uint64_t seed,
                 calprobe_io_t *io, calprobe_stop_t *stop)
{
    return calprobe_qd1_bytes(fd, nblocks, cpu, write, BLK, n, seed, io, stop);
}

int calprobe_qd1_bytes(int fd, uint64_t nblocks, int cpu, int write, unsigned bytes, size_t n,
                       uint64_t seed, calprobe_io_t *io, calprobe_stop_t *stop)
{
    uint64_t slots = nblocks / (bytes / BLK);
    if (bytes < BLK || bytes % BLK || slots == 0)
        return -EINVAL;
    rig_t g;
    int rc = rig_open_bytes(&g, cpu, seed, 8, bytes);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (*stop) {
            rc = -EINTR;
            break;
        }
        uint64_t off = gsl_rng_uniform_int(g.rng, slots) * bytes;
        struct io_uring_sqe *sqe = io_uring_get_sqe(&g.ring);
        if (write)
            io_uring_prep_write(sqe, fd, g.buf, bytes, off);
        else
            io_uring_prep_read(sqe, fd, g.buf, bytes, off);
        sqe->user_data = i + 1;
        uint64_t t0 = calprobe_now_ns();
        rc = io_uring_submit(&g.ring);
        if (rc < 0)
            break;
        rc = reap(&g.ring, NULL);
        uint64_t t1 = calprobe_now_ns();
        if (rc != (int)bytes) {
            rc = rc < 0 ? rc : -EIO;
            break;
        }
        io[i] = (calprobe_io_t){t0, t1};
        rc = 0;
    }
    rig_close(&g);
    return rc;
}

int calprobe_submit_hold(int fd, uint64_t nblocks, int cpu, int outstanding, size_t n,
                         calstat_vec_t *out, calprobe_stop_t *stop)
{
    /* every read into the one buffer: only the timing counts */
    rig_t g;
    int rc = rig_open(&g, cpu, 500 + (uint64_t)outstanding, (unsigned)outstanding * 2 + 8);
    if (rc)
        return rc;
    int inflight = 0;
    for (size_t i = 0; i < n && rc >= 0;) {
        if (*stop) {
            rc = -EINTR;
            break;
        }
        while (inflight <= outstanding && i < n) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&g.ring);
            io_uring_prep_read(sqe, fd, g.buf, BLK, gsl_rng_uniform_int(g.rng, nblocks) * BLK);
            uint64_t t0 = calprobe_now_ns();
            rc = io_uring_submit(&g.ring);
            uint64_t t1 = calprobe_now_ns();
            if (rc < 0)
                break;
            inflight++;
            if (inflight == outstanding + 1) { /* the timed one: `outstanding` before it */
                if ((rc = calstat_push(out, (double)(t1 - t0))) < 0)
                    break;
                i++;
            }
        }
        if (rc < 0)
            break;
        rc = reap(&g.ring, NULL);
        inflight--;
        if (rc >= 0 && rc != (int)BLK)
            rc = -EIO;
    }
    while (inflight-- > 0) /* drain (a broken ring returns at once) */
        reap(&g.ring, NULL);
    rig_close(&g);
    return rc < 0 ? rc : 0;
}

int calprobe_submit_batches(int fd, uint64_t nblocks, int cpu, int reps, calstat_vec_t *x,
                            calstat_vec_t *y, calprobe_stop_t *stop)
{
    enum { MAXB = 32 };
    struct io_uring ring;
    void *buf = NULL;
    calprobe_pin_t p;
    int rc = calprobe_pin(cpu, &p);
    if (rc)
        return rc;
    if ((rc = io_uring_queue_init(2 * MAXB, &ring, 0)) < 0)
        goto out_pin;
    if (posix_memalign(&buf, BLK, (size_t)MAXB * BLK)) {
        rc = -ENOMEM;
        goto out_ring;
    }
    (void)fd;
    (void)nblocks;
    for (int b = 1; b <= MAXB && !rc; b *= 2)
        for (int r = 0; r < reps && !rc; r++) {
            if (*stop) {
                rc = -EINTR;
                break;
            }
            /* NOPs: the io_uring side of a submit alone. With reads the call
             * also holds the driver's doorbell (a VM exit under virtio),
             * which happens after block_rq_issue and so already counts in
             * the device time; the block layer's part is blk_dispatch_ns. */
            for (int i = 0; i < b; i++)
                io_uring_prep_nop(io_uring_get_sqe(&ring));
            uint64_t t0 = calprobe_now_ns();
            int sub = io_uring_submit(&ring);
            uint64_t t1 = calprobe_now_ns();
            if (sub != b) {
                rc = sub < 0 ? sub : -EIO;
                break;
            }
            for (int i = 0; i < b; i++) {
                int res = reap(&ring, NULL);
                if (res < 0 && !rc)
                    rc = res;
            }
            if (!rc && (calstat_push(x, b) || calstat_push(y, (double)(t1 - t0))))
                rc = -ENOMEM;
        }
    free(buf);
out_ring:
    io_uring_queue_exit(&ring);
out_pin:
    calprobe_unpin(&p);
    return rc;
}

/* One sample of a probe on an idle ring: 0, or what ends the run (a
 * negative errno). */
typedef int (*ring_sample_fn)(struct io_uring *ring, calstat_vec_t *out);

/* The frame the NOP-ring probes share: pinned to cpu, an 8-entry ring,
 * n samples until one fails or *stop is raised. */
static int ring_probe(int cpu, int n, ring_sample_fn sample, calstat_vec_t *out,
                      calprobe_stop_t *stop)
{
    struct io_uring ring;
    calprobe_pin_t p;
    int rc = calprobe_pin(cpu, &p);
    if (rc)
        return rc;
    if ((rc = io_uring_queue_init(8, &ring, 0)) < 0)
        goto out;
    for (int i = 0; i < n && !rc; i++) {
        if (*stop) {
            rc = -EINTR;
            break;
        }
        rc = sample(&ring, out);
    }
    io_uring_queue_exit(&ring);
out:
    calprobe_unpin(&p);
    return rc;
}

/* The io_uring_enter(GETEVENTS) that reaps a NOP already complete. */
static int uring_wait_sample(struct io_uring *ring, calstat_vec_t *out)
{
    io_uring_prep_nop(io_uring_get_sqe(ring));
    int rc = io_uring_submit(ring);
    if (rc != 1) /* a NOP completes inline */
        return rc < 0 ? rc : -EIO;
    uint64_t t0 = calprobe_now_ns();
    rc = io_uring_enter((unsigned)ring->ring_fd, 0, 1, IORING_ENTER_GETEVENTS, NULL);
    uint64_t t1 = calprobe_now_ns();
    if (rc < 0)
        return rc;
    rc = reap(ring, NULL);
    return rc >= 0 ? calstat_push(out, (double)(t1 - t0)) : rc;
}

int calprobe_uring_wait(int cpu, int reps, calstat_vec_t *out, calprobe_stop_t *stop)
{
    return ring_probe(cpu, reps, uring_wait_sample, out, stop);
}

/* One peek of an empty CQ, averaged over a batch of them. */
static int poll_sample(struct io_uring *ring, calstat_vec_t *out)
{
    enum { K = 10000 };
    struct io_uring_cqe *cqe;
    unsigned hits = 0;
    uint64_t t0 = calprobe_now_ns();
    for (int i = 0; i < K; i++)
        hits += io_uring_peek_cqe(ring, &cqe) == 0;
    uint64_t t1 = calprobe_now_ns();
    return hits ? -EIO : calstat_push(out, (double)(t1 - t0) / K);
}

int calprobe_poll(int cpu, int batches, calstat_vec_t *out, calprobe_stop_t *stop)
{
    return ring_probe(cpu, batches, poll_sample, out, stop);
}

/* ---- hrtimer overshoot -------------------------------------------------- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int calprobe_timer(int cpu, uint64_t sleep_ns, size_t n, calstat_vec_t *out,
                   calstat_vec_t *cpu_out, calprobe_stop_t *stop)
{
    calprobe_pin_t p;
    int rc = calprobe_pin(cpu, &p);
    if (rc)
        return rc;
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    for (size_t i = 0; i < n && !rc; i++) {
        if (*stop) {
            rc = -EINTR;
            break;
        }
        struct timespec ts = {(time_t)(sleep_ns / 1000000000u), (long)(sleep_ns % 1000000000u)};
        uint64_t c0 = cpu_out ? thread_cpu_ns() : 0;
        uint64_t t0 = calprobe_now_ns();
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
            ;
        uint64_t t1 = calprobe_now_ns();
        uint64_t c1 = cpu_out ? thread_cpu_ns() : 0;
        rc = calstat_push(out, t1 - t0 > sleep_ns ? (double)(t1 - t0 - sleep_ns) : 0.0);
        if (!rc && cpu_out)
            rc = calstat_push(cpu_out, (double)(c1 - c0));
    }
    prctl(PR_SET_TIMERSLACK, slack > 0 ? (unsigned long)slack : 0UL, 0, 0, 0);
    calprobe_unpin(&p);
    return rc;
}

/* ---- futex ping-pong -------------------------------------------------- */

typedef struct {
    _Atomic uint32_t turn; /* whose turn it is: 0 or 1 */
    _Atomic uint64_t t_wake;
    _Atomic int quit;
    size_t rounds, batch; /* batch > 0: context-switch mode */
    int cpu[2];
    calstat_vec_t *lat[2];
    calstat_vec_t *call[2]; /* the waker's FUTEX_WAKE, where it woke a sleeper */
    calprobe_stop_t *stop;
    int err[2];
} pp_t;

typedef struct {
    pp_t *pp;
    int me;
} pp_arg_t;

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *to)
{
    return syscall(SYS_futex, (uint32_t *)addr, op | FUTEX_PRIVATE_FLAG, val, to, NULL, 0);
}

static void *pp_thread(void *arg)
{
    pp_t *pp = ((pp_arg_t *)arg)->pp;
    int me = ((pp_arg_t *)arg)->me, other = !me;
    calprobe_pin_t p;
    if ((pp->err[me] = calprobe_pin(pp->cpu[me], &p)))
        return NULL;
    const struct timespec to = {0, 200 * 1000000L};
    uint64_t batch_start = calprobe_now_ns();
    for (size_t r = 0; r < pp->rounds && !atomic_load(&pp->quit); r++) {
        int slept = 0;
        while (atomic_load(&pp->turn) != (uint32_t)me && !atomic_load(&pp->quit))
            if (futex(&pp->turn, FUTEX_WAIT, (uint32_t)other, &to) == 0)
                slept = 1;
        uint64_t t1 = calprobe_now_ns();
        if (pp->batch == 0 && slept && r > 0 && pp->lat[me] &&
            calstat_push(pp->lat[me], (double)(t1 - atomic_load(&pp->t_wake))))
            pp->err[me] = -ENOMEM;
        if (pp->batch && me == 0 && r > 0 && r % pp->batch == 0) {
            /* a round trip is two switches */
            if (calstat_push(pp->lat[0], (double)(t1 - batch_start) / (2.0 * (double)pp->batch)))
                pp->err[me] = -ENOMEM;
            batch_start = calprobe_now_ns();
        }
        if (*pp->stop || pp->err[me])
            atomic_store(&pp->quit, 1);
        uint64_t t0 = calprobe_now_ns();
        atomic_store(&pp->t_wake, t0);
        atomic_store(&pp->turn, (uint32_t)other);
        /* 1: the other thread slept in the futex and this call woke it */
        if (futex(&pp->turn, FUTEX_WAKE, 1, NULL) == 1 && pp->call[me] && r > 0 &&
            calstat_push(pp->call[me], (double)(calprobe_now_ns() - t0)))
            pp->err[me] = -ENOMEM;
    }
    atomic_store(&pp->quit, 1);
    futex(&pp->turn, FUTEX_WAKE, 1, NULL);
    calprobe_unpin(&p);
    return NULL;
}

static int pingpong(pp_t *pp)
{
    pthread_t th[2];
    pp_arg_t args[2] = {{pp, 0}, {pp, 1}};
    atomic_store(&pp->turn, 0);
    atomic_store(&pp->quit, 0);
    if (pthread_create(&th[1], NULL, pp_thread, &args[1]))
        return -EAGAIN;
    if (pthread_create(&th[0], NULL, pp_thread, &args[0])) {
        atomic_store(&pp->quit, 1);
        pthread_join(th[1], NULL);
        return -EAGAIN;
    }
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    if (*pp->stop)
        return -EINTR;
    return pp->err[0] ? pp->err[0] : pp->err[1];
}

int calprobe_pingpong(int cpu_a, int cpu_b, size_t rounds, calstat_vec_t *to_b,
                      calstat_vec_t *to_a, calstat_vec_t *wake_call, calprobe_stop_t *stop)
{
    /* the wake calls of both threads go to one vector: only thread 0's when
     * both share it would race, so thread 1 keeps its own and they join */
    calstat_vec_t other = {0};
    pp_t pp = {.rounds = rounds, .cpu = {cpu_a, cpu_b}, .lat = {to_a, to_b},
               .call = {wake_call, wake_call ? &other : NULL}, .stop = stop};
    int rc = pingpong(&pp);
    for (size_t i = 0; i < other.n && !rc; i++)
        rc = calstat_push(wake_call, other.v[i]);
    calstat_vec_free(&other);
    return rc;
}

int calprobe_wake_nobody(int cpu, size_t n, calstat_vec_t *out)
{
    calprobe_pin_t p;
    int rc = calprobe_pin(cpu, &p);
    if (rc)
        return rc;
    _Atomic uint32_t word = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        uint64_t t0 = calprobe_now_ns();
        futex(&word, FUTEX_WAKE, 1, NULL);
        rc = calstat_push(out, (double)(calprobe_now_ns() - t0));
    }
    calprobe_unpin(&p);
    return rc;
}

/* ---- a running CPU beside a probe ---------------------------------- */

typedef struct {
    int cpu, err;
    _Atomic int quit, running;
} spin_t;

static void *spin_thread(void *arg)
{
    spin_t *sp = arg;
    calprobe_pin_t p;
    if ((sp->err = calprobe_pin(sp->cpu, &p)) == 0) {
        atomic_store(&sp->running, 1);
        while (!atomic_load_explicit(&sp->quit, memory_order_relaxed))
            ;
        calprobe_unpin(&p);
    }
    atomic_store(&sp->running, -1);
    return NULL;
}

int calprobe_qd1_beside_spinner(int fd, uint64_t nblocks, int cpu, int spin_cpu, size_t n,
                                uint64_t seed, calprobe_io_t *io, calprobe_stop_t *stop)
{
    spin_t sp = {.cpu = spin_cpu};
    pthread_t th;
    if (pthread_create(&th, NULL, spin_thread, &sp))
        return -EAGAIN;
    while (atomic_load(&sp.running) == 0)
        sched_yield();
    int rc = sp.err ? sp.err : calprobe_qd1(fd, nblocks, cpu, 0, n, seed, io, stop);
    atomic_store(&sp.quit, 1);
    pthread_join(th, NULL);
    return rc;
}

/* ---- the reschedule IPI (calprobe_kick) --------------------------- */

/* SIGURG: ignored by default, so no other part of latsurf expects it; the
 * handler is installed for the probe only */
#define KICK_SIG SIGURG

static _Atomic uint64_t kick_seen_ns;
static _Atomic uint32_t kick_hits;

static void kick_handler(int sig)
{
    (void)sig;
    atomic_store(&kick_seen_ns, calprobe_now_ns());
    atomic_fetch_add(&kick_hits, 1);
}

typedef struct {
    int cpu;
    int block; /* keep KICK_SIG blocked: the base run */
    _Atomic pid_t tid;
    _Atomic int quit;
    _Atomic uint64_t gap; /* the longest the target's loop lost since reset */
    int err;
} kick_t;

static void *kick_target(void *arg)
{
    kick_t *k = arg;
    calprobe_pin_t p;
    if ((k->err = calprobe_pin(k->cpu, &p))) {
        atomic_store(&k->tid, -1);
        return NULL;
    }
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, KICK_SIG);
    pthread_sigmask(k->block ? SIG_BLOCK : SIG_UNBLOCK, &m, NULL);
    atomic_store(&k->tid, (pid_t)syscall(SYS_gettid));
    /* running in user space: a signal must interrupt it by IPI. A gap
     * between two clock reads is time the CPU spent elsewhere: the IPI's
     * receive (on a VM, the exit that injects it) and the signal's handler */
    uint64_t last = calprobe_now_ns();
    while (!atomic_load_explicit(&k->quit, memory_order_relaxed)) {
        uint64_t t = calprobe_now_ns();
        if (t - last > atomic_load_explicit(&k->gap, memory_order_relaxed))
            atomic_store_explicit(&k->gap, t - last, memory_order_relaxed);
        last = t;
    }
    calprobe_unpin(&p);
    return NULL;
}

/* n tgkill calls from the calling thread (pinned to cpu_from) to a target
 * spinning on cpu_to; unblocked, each waits for the handler (10 ms at most:
 * a lost sample, not a hang). */
static int kick_run(int cpu_from, int cpu_to, size_t n, int block, calstat_vec_t *send,
                    calstat_vec_t *deliver, calstat_vec_t *lost, calprobe_stop_t *stop)
{
    kick_t k = {.cpu = cpu_to, .block = block};
    pthread_t th;
    if (pthread_create(&th, NULL, kick_target, &k))
        return -EAGAIN;
    calprobe_pin_t p;
    int rc = calprobe_pin(cpu_from, &p);
    while (!rc && atomic_load(&k.tid) == 0)
        sched_yield();
    if (!rc && atomic_load(&k.tid) < 0)
        rc = k.err ? k.err : -EINVAL;
    pid_t pid = getpid(), tid = atomic_load(&k.tid);
    for (size_t i = 0; i < n && !rc && !*stop; i++) {
        uint32_t h0 = atomic_load(&kick_hits);
        atomic_store(&k.gap, 0);
        uint64_t t0 = calprobe_now_ns();
        if (syscall(SYS_tgkill, pid, tid, KICK_SIG) != 0) {
            rc = -errno;
            break;
        }
        uint64_t t1 = calprobe_now_ns();
        if (block) {
            rc = calstat_push(send, (double)(t1 - t0));
            continue;
        }
        while (atomic_load(&kick_hits) == h0 && calprobe_now_ns() - t0 < 10000000ull)
            ;
        if (atomic_load(&kick_hits) == h0)
            continue;
        /* the target's loop resumes right after the handler: give it 5 us
         * to record the gap */
        uint64_t seen = calprobe_now_ns();
        while (calprobe_now_ns() - seen < 5000)
            ;
        rc = calstat_push(send, (double)(t1 - t0));
        if (!rc)
            rc = calstat_push(deliver, (double)(atomic_load(&kick_seen_ns) - t0));
        if (!rc)
            rc = calstat_push(lost, (double)atomic_load(&k.gap));
    }
    atomic_store(&k.quit, 1);
    pthread_join(th, NULL);
    calprobe_unpin(&p);
    if (!rc && *stop)
        rc = -EINTR;
    return rc;
}

int calprobe_kick(int cpu_from, int cpu_to, size_t n, calstat_vec_t *send,
                  calstat_vec_t *deliver, calstat_vec_t *lost, calstat_vec_t *base,
                  calprobe_stop_t *stop)
{
    /* only the target thread may take the signal: the caller blocks it
     * (so do threads created from here on, which inherit the mask) */
    sigset_t m, old;
    sigemptyset(&m);
    sigaddset(&m, KICK_SIG);
    pthread_sigmask(SIG_BLOCK, &m, &old);
    struct sigaction sa = {.sa_handler = kick_handler}, was;
    sigemptyset(&sa.sa_mask);
    int rc = sigaction(KICK_SIG, &sa, &was) ? -errno : 0;
    if (!rc) {
        rc = kick_run(cpu_from, cpu_to, n, 0, send, deliver, lost, stop);
        if (!rc)
            rc = kick_run(cpu_from, cpu_to, n, 1, base, NULL, NULL, stop);
        /* a blocked signal left pending dies with its thread */
        sigaction(KICK_SIG, &was, NULL);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

int calprobe_ctxswitch(int cpu, size_t batches, calstat_vec_t *out, calprobe_stop_t *stop)
{
    pp_t pp = {.rounds = (batches + 1) * 100,
               .batch = 100,
               .cpu = {cpu, cpu},
               .lat = {out, NULL},
               .stop = stop};
    return pingpong(&pp);
}

/* ---- memory ----------------------------------------------------------- */

static void *alloc_on(size_t size, int node)
{
    if (node >= 0 && numa_available() >= 0)
        return numa_alloc_onnode(size, node);
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void free_on(void *p, size_t size, int node)
{
    if (!p)
        return;
    if (node >= 0 && numa_available() >= 0)
        numa_free(p, size);
    else
        munmap(p, size);
}

size_t calprobe_largest_bytes(const unsigned *sizes_kib, size_t nsizes)
{
    size_t max = 0;
    for (size_t i = 0; i < nsizes; i++)
        max = sizes_kib[i] * 1024ul > max ? sizes_kib[i] * 1024ul : max;
    return max;
}

int calprobe_memcopy(int cpu, int node, const unsigned *sizes_kib, size_t nsizes, int reps,
                     calstat_vec_t *x, calstat_vec_t *y, calprobe_stop_t *stop)
{
    size_t max = calprobe_largest_bytes(sizes_kib, nsizes);
    calprobe_pin_t p;
    int rc = calprobe_pin(cpu, &p);
    if (rc)
        return rc;
    char *src = alloc_on(max, node), *dst = alloc_on(max, node);
    if (!src || !dst) {
        rc = -ENOMEM;
        goto out;
    }
    memset(src, 1, max); /* fault the pages in: we time copying, not faults */
    memset(dst, 2, max);
    for (size_t s = 0; s < nsizes && !rc; s++) {
        size_t len = sizes_kib[s] * 1024ul;
        for (int r = 0; r < reps && !rc; r++) {
            if (*stop) {
                rc = -EINTR;
                break;
            }
            uint64_t t0 = calprobe_now_ns();
            memcpy(dst, src, len);
            __asm__ __volatile__("" : : "r"(dst) : "memory");
            uint64_t t1 = calprobe_now_ns();
            if (calstat_push(x, sizes_kib[s]) || calstat_push(y, (double)(t1 - t0)))
                rc = -ENOMEM;
        }
    }
out:
    free_on(src, max, node);
    free_on(dst, max, node);
    calprobe_unpin(&p);
    return rc;
}

int calprobe_register(const unsigned *sizes_kib, size_t nsizes, int reps, calstat_vec_t *rx,
                      calstat_vec_t *ry, calstat_vec_t *mx, calstat_vec_t *my,
                      calstat_vec_t *dereg, calprobe_stop_t *stop)
{
    size_t max = calprobe_largest_bytes(sizes_kib, nsizes);
    struct io_uring ring;
    int rc = io_uring_queue_init(4, &ring, 0);
    if (rc < 0)
        return rc;
    char *buf = alloc_on(max, -1);
    if (!buf) {
        io_uring_queue_exit(&ring);
        return -ENOMEM;
    }
    memset(buf, 3, max);
    for (size_t s = 0; s < nsizes && !rc; s++) {
        size_t len = sizes_kib[s] * 1024ul;
        for (int r = 0; r < reps && !rc; r++) {
            if (*stop) {
                rc = -EINTR;
                break;
            }
            struct iovec iov = {buf, len};
            uint64_t t0 = calprobe_now_ns();
            rc = io_uring_register_buffers(&ring, &iov, 1);
            uint64_t t1 = calprobe_now_ns();
            if (rc < 0)
                break;
            uint64_t t1b = calprobe_now_ns();
            io_uring_unregister_buffers(&ring);
            uint64_t t2 = calprobe_now_ns();
            rc = mlock(buf, len) ? -errno : 0;
            uint64_t t3 = calprobe_now_ns();
            if (rc)
                break;
            munlock(buf, len);
            if (calstat_push(rx, sizes_kib[s]) || calstat_push(ry, (double)(t1 - t0)) ||
                calstat_push(mx, sizes_kib[s]) || calstat_push(my, (double)(t3 - t2)) ||
                calstat_push(dereg, (double)(t2 - t1b)))
                rc = -ENOMEM;
        }
    }
    free_on(buf, max, -1);
    io_uring_queue_exit(&ring);
    return rc;
}

int calprobe_irq_counts(const char *prefix, uint64_t *counts, int ncpu)
{
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    int rows = 0, cols = 0;
    memset(counts, 0, (size_t)ncpu * sizeof(*counts));
    if (getline(&line, &cap, f) > 0)
        for (char *tok = strtok(line, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            cols += strncmp(tok, "CPU", 3) == 0;
    while (getline(&line, &cap, f) > 0) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        /* the name is the last field */
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
            line[--len] = '\0';
        char *name = strrchr(line, ' ');
        if (!name || strncmp(name + 1, prefix, strlen(prefix)) != 0)
            continue;
        char *p = colon + 1;
        for (int c = 0; c < cols; c++) {
            char *end;
            unsigned long long v = strtoull(p, &end, 10);
            if (end == p)
                break;
            if (c < ncpu)
                counts[c] += v;
            p = end;
        }
        rows++;
    }
    free(line);
    fclose(f);
    return rows;
}
