/*
 * calbatch.h - what the kernel does once per batch rather than once per
 * request, measured: a traced run of io_uring 4 KiB O_DIRECT random reads at
 * queue depth CALBATCH_DEPTH (a fit depth of the depth sweep, never a depth
 * validation checks) with the thread on the interrupt CPU, and three
 * straight-line fits (gsl_fit_linear) over the trace:
 *
 * - the device vector's hard IRQ handler (irq_handler_entry -> _exit)
 *   against the k requests it handed to the block softirq (the
 *   block_rq_complete events of the BLOCK_SOFTIRQ run that follows it on
 *   that CPU): a + b k, b = irq_per_cqe_ns (virtblk_done and nvme_irq loop
 *   over every completion the queue holds). A device that completes a
 *   whole batch at once (virtio-blk on this host: k is always the depth)
 *   gives one k only: then b is the two-point slope between the QD1
 *   handler (params.irq_handler_ns, k = 1) and the median handler at that k;
 * - one more request of a BLOCK_SOFTIRQ run (blk_complete_reqs completes
 *   the CPU's whole blk_cpu_done list in one run; blk_mq_raise_softirq
 *   raises it only for the first request of a list): the slope of the
 *   run's block_rq_complete times against their rank, over runs with no
 *   interrupt inside: blk_complete_per_rq_ns;
 * - one more request of a plugged submit call of the thread (more than 2
 *   SQEs: io_submit_state_start plugs; blk_finish_plug inserts the list
 *   into the elevator and dispatches it in one queue run, the driver
 *   notifying the device only for the last, bd->last): the slopes of the
 *   call's io_uring_submit_req, block_rq_insert and block_rq_issue times
 *   against their rank, summed: blk_dispatch_per_rq_ns; the call's once-
 *   per-call part (a) is its mean span minus b times its mean k;
 * - one more completion of the thread's io_uring task_work run
 *   (io_req_normal_work_add notifies the task only when its list was
 *   empty; tctx_task_work runs the whole list): the slope of the run's
 *   io_uring_complete times (back to back on the thread's CPU) against
 *   their rank: task_work_per_cqe_ns.
 *
 * Each goes into params with the fit (a, b), the samples and a source
 * saying what was measured. Nothing here prints; functions return 0 or
 * -errno.
 */
#ifndef LATSURF_CALBATCH_H
#define LATSURF_CALBATCH_H

#include "calibrate/traceparse.h"

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define CALBATCH_DEPTH 8 /* a fit depth of calqd.h (1, 2, 8, 64) */

typedef struct {
    double a, b;      /* y = a + b k, ns */
    size_t n;         /* samples fitted */
    unsigned kmin, kmax;
    int ok;           /* at least 2 distinct k (else a, b are 0) */
} calbatch_line_t;

typedef struct {
    int32_t irq;               /* the device vector found in the trace (-1: none) */
    calbatch_line_t handler;   /* irq_handler_entry -> exit against k completions */
    double handler_kmax_p50;   /* the handler's median at k = handler.kmax */
    size_t handler_kmax_n;
    calbatch_line_t softirq;   /* block_rq_complete time against its rank in a run */
    calbatch_line_t dispatch;  /* summed slopes of a plugged call (k > 2); a: its fixed part */
    calbatch_line_t taskwork;  /* io_uring_complete time against its rank in a task_work run */
} calbatch_fit_t;

/* The three fits from a parsed trace (events sorted by time) in which task
 * `pid` ran the reads on CPU `cpu`. 0, or -ENOMEM. A line that had too
 * few samples is left with ok = 0. */
int calbatch_fit(const traceparse_t *tp, int32_t pid, int cpu, calbatch_fit_t *out);

/* The calibrate step: trace CALBATCH_DEPTH reads in flight on fd's first
 * nblocks 4 KiB blocks from this thread pinned to `cpu` (the interrupt
 * CPU) for 0.1 s + 0.2 s (quick) or 0.2 s + 0.5 s, fit, and add
 * irq_per_cqe_ns, blk_complete_per_rq_ns, blk_dispatch_per_rq_ns and
 * task_work_per_cqe_ns to
 * params (a line with too few samples is left out, and said so in why).
 * 0, -EINTR (*stop set), or -errno with the reason in why. */
int calbatch_calibrate(int fd, uint64_t nblocks, int cpu, int quick, json_t *params,
                       const volatile sig_atomic_t *stop, char *why, size_t whylen);

#endif
