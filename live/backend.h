/*
 * backend.h - the live io_uring engine: executes policy placements on a
 * real host with liburing and O_DIRECT.
 *
 * One worker thread per consumer - a (flow, declared consumer CPU) of the
 * workloads, as the simulator's consumer threads (models/uring.h) - pinned
 * to the CPU its placement names (sched_setaffinity; re-pinned when a
 * placement moves it), owns one ring and is both the submitter and the
 * consumer of its requests, so a request's SQE, CQE, buffer and
 * registration never leave that thread, and two consumers on one CPU
 * contend for it as two threads do. The
 * ring is set up from the first placement it serves: task_work mode
 * (default, COOP_TASKRUN, DEFER_TASKRUN + SINGLE_ISSUER), SQPOLL from the
 * host section (sq_thread_cpu), IOPOLL when the placement polls and the
 * device has polled queues. Waits follow the latest placement: sleep in
 * io_uring_wait_cqe, busy peek, or hybrid (sleep about half the recent
 * latency, then peek). SQEs are batched per the placement (batch, window).
 * Buffers go through the registration policy (policies/registration.h):
 * a registration kept across transfers is a real fixed buffer
 * (io_uring_register_buffers_update into a sparse table), a per-transfer one
 * is a plain read whose pages the kernel pins for that I/O. Priority classes
 * become ioprio (URGENT -> RT, HIGH/MEDIUM -> BE, LOW -> IDLE).
 *
 * With cfg.rdma, a request marked r->rdma then has its bytes written to the
 * RDMA peer by the same worker (live/rdma.h), which stamps t_continued.
 *
 * Timers (open-loop arrivals, think times) run on the first worker started
 * when the caller gives cfg.timers: it sleeps in io_uring_wait_cqe until
 * the earlier of its next CQE and the next timer, runs the timers itself,
 * and what they issue to its own consumer goes to its ring with no other
 * thread in between - as an open-loop client's own thread issues - instead
 * of a timer thread waking it through its inbox for every arrival. While
 * it computes (live_be_cpu_work) it cannot, and cfg.timers_off says so, so
 * that the caller runs them meanwhile.
 *
 * With cfg.sync (`latsurf live --submit pread`) a worker does each of its
 * requests as one blocking pread/pwrite instead (t_submit: the call's entry).
 *
 * Stamped here: t_submit (io_uring_submit returned), t_cqe (the worker has
 * the CQE) and t_ready (it has read every cache line of the data); the
 * kernel stamps in between are left to the caller (tracefs or nearest
 * known). Requests (and CPU work, live_be_cpu_work) cross threads only
 * through a worker's inbox; the completion callback runs on the worker thread.
 */
#ifndef LATSURF_LIVE_BACKEND_H
#define LATSURF_LIVE_BACKEND_H

#include "live/topology.h"
#include "models/host.h"
#include "models/req.h"
#include "policies/policy.h"
#include "policies/registration.h"
#include "sim/hist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct live_be live_be_t;

/* A request is done on its consumer: t_submit, t_cqe and t_ready are set. */
typedef void (*live_be_done_fn)(void *ctx, req_t *r);
/* CPU work asked by live_be_cpu_work has run, on the consumer's thread. */
typedef void (*live_be_cpu_fn)(void *ctx, uint64_t arg);
/* On the timer worker: run the timers that are due (and say when the next
 * one is, live_be_timer_due). */
typedef void (*live_be_timers_fn)(void *ctx);
/* On the timer worker: it stops (off) or resumes running timers. */
typedef void (*live_be_timers_off_fn)(void *ctx, bool off);

typedef struct {
    int fd;
    const live_topo_t *topo;
    const host_cfg_t *host;        /* sqpoll, sqpoll_cpu, sqpoll_idle_us */
    pol_reg_t registration;
    const pol_config_t *polcfg;
    bool rdma;                     /* requests with r->rdma continue over RDMA (live/rdma.h) */
    /* pread mode: each request is one blocking pread/pwrite on its consumer's
     * thread instead of an SQE (a program that reads with pread, replayed as
     * it ran); the ring then carries only wake-ups, and the placement's wait
     * mode, batching, task_work mode and fixed buffers do not apply (a note
     * says so). Timers are the caller's (give no cfg.timers): a thread
     * blocked in pread could not run them. */
    bool sync;
    uint64_t t0_ns;                /* CLOCK_MONOTONIC of run time 0 */
    live_be_done_fn done;
    live_be_cpu_fn cpu_done;       /* may be NULL when live_be_cpu_work is not used */
    /* completions may ask their consumer's think (live_be_cpu_work from the
     * done callback): mark each result's thread CPU time, whose read is a
     * syscall (1.4 us on this VM); false: a think counts from its start */
    bool thinks;
    live_be_timers_fn timers;      /* NULL: the caller runs every timer */
    live_be_timers_off_fn timers_off;
    void *ctx;
} live_be_cfg_t;

typedef struct {
    pol_reg_stats_t reg;           /* summed over the workers' registries */
    double cpu_ns;                 /* worker CPU time since live_be_mark */
    uint64_t taskrun_mismatch;     /* placements whose task_work mode the ring lacks */
    uint64_t submit_elsewhere;     /* submit_cpu != consumer_cpu: submitted by the consumer */
    uint64_t prio_refused;         /* RT ioprio refused: retried as best effort */
    uint64_t fixed_reads;          /* I/Os on a registered buffer */
    uint64_t migrations;           /* consumer threads re-pinned by a placement */
    uint64_t errors;               /* failed or short I/Os */
    int first_error;               /* -errno of the first, 0 if none */
    uint32_t workers;
    hist_t late;                   /* t_issue -> io_uring_submit entered, since live_be_mark */
} live_be_stats_t;

/* CLOCK_MONOTONIC in ns (the run's clock); the calling thread's CPU time
 * in ns (CLOCK_THREAD_CPUTIME_ID: a syscall, 1.4 us on this VM). */
uint64_t live_be_mono_ns(void);
double live_be_thread_cpu_ns(void);

/* Returns NULL with err set on failure. */
live_be_t *live_be_new(const live_be_cfg_t *cfg, char *err, size_t errlen);

/* Hand r to the worker of its consumer (started on first use, on
 * r->consumer_cpu). Any thread. 0, or -errno (the worker could not start:
 * err in live_be_error). */
int live_be_submit(live_be_t *be, req_t *r, const pol_placement_t *pl);

/* Have the worker of consumer (flow, declared CPU `cpu`) - started there if
 * it has none yet - run ns of CPU time (a busy loop measured on its own
 * CLOCK_THREAD_CPUTIME_ID, so another thread on its CPU stretches it), then
 * call cfg.cpu_done(ctx, arg) on that thread. Asked from that worker's own
 * done callback (a think after a read), the ns count from the result in hand
 * (t_ready): the CPU time the worker spent since on the completion's
 * bookkeeping is part of them, and so is what it spent between its last
 * busy loop and the read after it (smoothed over its recent thinks), as the
 * application's CPU time from a read's return to its next read was all its
 * think. Meanwhile it reaps nothing:
 * the application computes. A worker started here sets its ring up as for
 * a request with the default task_work and interrupt waits (a trace thread's
 * first record computes before its first read); a later placement asking
 * for another task_work mode is counted in taskrun_mismatch, as for any
 * worker. Any thread. 0, or -errno as live_be_submit. */
int live_be_cpu_work(live_be_t *be, uint32_t flow, uint32_t cpu, uint64_t ns, uint64_t arg);

/* The next timer is due at t (run time, UINT64_MAX if none): the timer
 * worker, asleep past t, is woken. Call when a timer was set from another
 * thread than the timer worker's callback. True while a timer worker runs
 * the timers (it exists and is not computing). Any thread. */
bool live_be_timer_due(live_be_t *be, uint64_t t);

/* The measurement window starts: registration counters and CPU time restart. */
void live_be_mark(live_be_t *be);

/* Stop the workers once they have reaped every CQE, then tear down rings
 * and registrations. Call when nothing is in flight. */
void live_be_free(live_be_t *be);

/* Stops the workers first (each once it has reaped every CQE). */
void live_be_stats(live_be_t *be, live_be_stats_t *st);

/* Ring set-ups and anything the host could not do as asked ("" if none). */
const char *live_be_notes(live_be_t *be);
/* The first fatal worker error ("" if none). */
const char *live_be_error(live_be_t *be);

/* The ioprio value for a priority class. */
uint16_t live_be_ioprio(pol_prio_t p);

#endif
