/*
 * tracejoin.h - joins parsed tracepoints into per-request records and turns
 * them into a run result (the same metrics, stages and request rows as a
 * simulated run).
 *
 * Joins: io_uring submit -> complete by (ring, req pointer) in time order;
 * block issue -> complete by (dev, sector); io_uring submit -> block issue
 * by the submitting task (FIFO per pid, reset when the pid exits or changes
 * comm); the device interrupt is the last block-device vector before the
 * block completion; the waiter is the submitting pid, found in sched_wakeup
 * and sched_switch. The module owns the request array.
 *
 * Blocking syscalls (traceparse_syscalls[]): a block request belongs to the
 * syscall its owner (the task of its block_rq_insert, else of its issue) was
 * in when it was issued, if it also completed before the syscall returned;
 * all the block requests of one syscall make one request (t_submit = entry,
 * t_ready = exit, t_cqe = the task switched in after the last completion).
 * A pread64/pwrite64/preadv... that returned data with no block request was
 * served by the page cache (sys_cache); a read()/write() with none is not
 * storage I/O (a pipe, a socket, a tty, or cached) and is not counted.
 * A recording that names the tasks it followed (traceparse_t.followed)
 * keeps the io_uring I/O of those tasks only (other_tasks counts the rest).
 * libaio: each block request issued in an io_submit is an iocb (contiguous
 * ones merged while there are more than io_submit returned); it is ready at
 * the exit of the first io_getevents of its task, after its completion, that
 * has a slot left.
 */
#ifndef LATSURF_TRACEJOIN_H
#define LATSURF_TRACEJOIN_H

#include "calibrate/traceparse.h"
#include "sim/result.h"

#include <stdint.h>

/* Parts of a request that were found (tracejoin_req_t.have). */
enum {
    TJ_SUBMIT = 1 << 0,
    TJ_CQE = 1 << 1,
    TJ_BLOCK = 1 << 2,    /* block issue + complete paired */
    TJ_LINKED = 1 << 3,   /* block request tied to the io_uring request */
    TJ_IRQ = 1 << 4,      /* device interrupt attributed */
    TJ_WAKEUP = 1 << 5,   /* waiter woken after the block completion */
    TJ_RUN = 1 << 6,      /* waiter switched in after the block completion */
    TJ_READY = 1 << 7,    /* waiter known running with the CQE */
    TJ_IPI = 1 << 8,      /* IPI from the completion CPU to the waiter's CPU */
    TJ_IRQ_EXIT = 1 << 9,
};
#define TJ_JOINED (TJ_SUBMIT | TJ_CQE | TJ_BLOCK | TJ_LINKED | TJ_READY)

/* What made a request (tracejoin_req_t.kind). */
enum { TJ_KIND_URING, TJ_KIND_SYSCALL, TJ_KIND_AIO };

typedef struct {
    /* ns, trace clock; 0 when not found */
    uint64_t t_submit, t_dispatch, t_irq, t_irq_exit, t_blk_done, t_ipi, t_wakeup, t_run,
        t_cqe, t_ready;
    uint64_t ring, req, user_data, sector;
    uint32_t dev, bytes, have;
    int32_t pid, cqe_pid, res; /* submitter (the waiter); task that posted the CQE */
    int16_t submit_cpu, irq_cpu, completion_cpu, consumer_cpu, cqe_cpu;
    uint8_t write, deferred, cqe_ctx;
    int8_t consumer_idle; /* consumer CPU ran the idle task at t_blk_done: 1, 0, -1 unknown */
    uint8_t kind;         /* TJ_KIND_* */
    uint8_t call;         /* syscall and aio: index in traceparse_syscalls */
    uint32_t nblk;        /* syscall and aio: block requests it made */
    uint64_t blk_bytes;   /* syscall and aio: their bytes */
    uint32_t blk_max;     /* syscall and aio: the largest one's bytes (its dev, sector) */
    uint64_t pos;         /* positional syscalls: the file offset */
    char comm[TP_COMM];
} tracejoin_req_t;

typedef struct {
    tracejoin_req_t *req; /* one per io_uring read/write submit seen */
    size_t n;
    uint64_t uring_rw;          /* rw submits with their completion in the trace */
    uint64_t blk_requests;      /* paired block issue/complete */
    uint64_t blk_unlinked;      /* block requests not tied to io_uring (other I/O) */
    uint64_t orphan_completes;  /* completions whose submit/issue is not in the trace */
    uint64_t joined;            /* requests with every TJ_JOINED part */
    int has_syscalls;           /* the trace holds syscall events */
    uint64_t followed;          /* tasks `trace record` followed (0: not known, all count) */
    uint64_t other_tasks;       /* io_uring I/Os of tasks not followed: left out */
    uint64_t sys_calls;         /* syscalls with entry and exit */
    uint64_t sys_device;        /* of those, ones that reached the device: one request each */
    uint64_t sys_split;         /* of those, ones made of more than one block request */
    uint64_t sys_cache;         /* positional ones that returned data without block I/O */
    uint64_t aio_requests;      /* iocbs seen issued in io_submit */
    uint64_t blk_reads;         /* block reads queued by the tasks with syscall events */
    uint64_t blk_reads_joined;  /* of those, the ones tied to a syscall or iocb */
    uint64_t t_first, t_last;   /* trace span */
    uint64_t events, lost;
} tracejoin_t;

void tracejoin_init(tracejoin_t *j);
void tracejoin_fini(tracejoin_t *j);

/* Join the (sorted) events of t. Returns 0 or -ENOMEM. */
int tracejoin_run(const traceparse_t *t, tracejoin_t *j);

/* joined / (uring_rw + sys_device + aio_requests), 0 when there is none. */
double tracejoin_rate(const tracejoin_t *j);

/* Is this request's waiter on its completion CPU? 1 same, 0 cross, -1 unknown. */
int tracejoin_same_cpu(const tracejoin_req_t *r);

/* Fill res: lat_*, device_done_to_ready_*, locality_miss_rate,
 * deferred_completion_rate, iops, bytes_per_s, join_rate and chain_*
 * metrics; the stages submit..wakeup; histograms; one request row per joined
 * request (up to max_rows; 0 = all). Returns 0 or -ENOMEM. */
int tracejoin_result(const tracejoin_t *j, result_t *res, size_t max_rows);

#endif
