/*
 * traceparse.h - reads the text format of /sys/kernel/tracing/trace (and of
 * `latsurf trace record`, which writes the same lines with ns timestamps)
 * into an array of typed events, sorted by time.
 *
 * Only the events the storage-path join needs are kept (block, irq, ipi,
 * io_uring, sched, and the entry/exit of the blocking I/O syscalls in
 * traceparse_syscalls[]); other events and comment lines are skipped and
 * "[LOST n EVENTS]" markers are counted. The module owns the event array.
 */
#ifndef LATSURF_TRACEPARSE_H
#define LATSURF_TRACEPARSE_H

#include <stdint.h>
#include <stdio.h>

typedef enum {
    TP_BLK_ISSUE,
    TP_BLK_COMPLETE,
    TP_IRQ_ENTRY,
    TP_IRQ_EXIT,
    TP_IPI,          /* ipi_send_cpu, ipi_send_cpumask or ipi_raise */
    TP_URING_SUBMIT, /* io_uring_submit_req (io_uring_submit_sqe before 5.19) */
    TP_URING_COMPLETE,
    TP_URING_TASK_ADD,
    TP_WAKEUP,       /* sched_wakeup and sched_wakeup_new */
    TP_SWITCH,
    TP_BLK_INSERT,   /* block_rq_insert: in the context of the task that queued it */
    TP_SYS_ENTER,    /* sys_enter_<call> of a call in traceparse_syscalls[] */
    TP_SYS_EXIT,
    TP_FORK,         /* sched_process_fork */
    TP_SOFTIRQ_ENTRY,
    TP_SOFTIRQ_EXIT,
    TP_NTYPES
} traceparse_type_t;

/* The blocking I/O syscalls a recording traces and a join understands; one
 * row each, so recorder, parser and join agree on the list. */
typedef enum {
    TP_SC_POSITIONAL, /* pread64 & co: a file at an offset, never a pipe or socket */
    TP_SC_STREAM,     /* read/write: any fd; storage I/O only if it reached the block layer */
    TP_SC_AIO_SUBMIT, /* io_submit */
    TP_SC_AIO_REAP,   /* io_getevents, io_pgetevents */
} traceparse_sc_kind_t;

typedef struct {
    const char *name; /* as in syscalls/sys_enter_<name> */
    uint8_t kind;     /* traceparse_sc_kind_t */
    uint8_t write;    /* data goes to the file */
} traceparse_sc_t;

extern const traceparse_sc_t traceparse_syscalls[];
extern const size_t traceparse_nsyscalls;

/* Context bits from the flags column ("d.h1.": position 2). */
enum { TP_CTX_HARDIRQ = 1, TP_CTX_SOFTIRQ = 2 };

#define TP_COMM 16

typedef struct {
    uint64_t ts;   /* ns, trace clock */
    int32_t pid;   /* the task the event ran in (0 = idle) */
    int16_t cpu;
    uint8_t type;  /* traceparse_type_t */
    uint8_t ctx;   /* TP_CTX_* bits, 0 when the trace has no flags column */
    uint32_t line; /* 1-based line in the file */
    char comm[TP_COMM];
    union {
        struct {
            uint32_t dev; /* major << 20 | minor, as the kernel encodes it */
            uint32_t nr_sector, bytes;
            uint64_t sector;
            char rwbs[8];
        } blk;
        struct {
            int32_t irq;
            char name[32];
        } irq;
        struct {
            uint64_t mask; /* target CPUs (bit per CPU, CPUs >= 64 dropped) */
        } ipi;
        struct {
            uint64_t ring, req, user_data;
            int32_t res;
            uint8_t has_req, rw; /* rw: a read/write opcode */
            char op[16];
        } uring;
        struct {
            int32_t pid;
            int16_t target_cpu;
            char comm[TP_COMM];
        } wake;
        struct {
            int32_t child_pid;
        } fork;
        struct {
            uint8_t call;   /* index in traceparse_syscalls */
            uint64_t fd;    /* fd, or the aio context (ctx_id) */
            uint64_t count; /* bytes asked (pread64, read...), iocbs (io_submit), max events */
            uint64_t pos;   /* file offset of the positional calls, else 0 */
            int64_t ret;    /* TP_SYS_EXIT: the return value */
        } sys;
        struct {
            int32_t prev_pid, next_pid;
            uint8_t prev_dead; /* prev_state X or Z: the task exited */
            uint8_t prev_runnable; /* prev_state R: preempted, not waiting */
            char prev_comm[TP_COMM], next_comm[TP_COMM];
        } sw;
    } u;
} traceparse_ev_t;

typedef struct {
    traceparse_ev_t *ev;
    size_t n, cap;
    uint64_t lost;     /* events the kernel reported as lost */
    uint64_t skipped;  /* well-formed lines of events we do not use */
    uint32_t lines;
    int ns_timestamps; /* 1 when the file had 9-digit fractions */
    /* `trace record`'s "# latsurf followed pids: P..." header: the tasks
     * whose syscalls (and forks) were recorded; 0 when absent */
    int32_t *followed;
    size_t nfollowed, capfollowed;
} traceparse_t;

/* Where a bad line is. */
typedef struct {
    uint32_t line;
    int header_ok; /* the line was a trace line; its event's fields were not */
    char what[96];
} traceparse_err_t;

void traceparse_init(traceparse_t *t);
void traceparse_fini(traceparse_t *t);

/* Parse a whole trace; events end up sorted by (ts, line). Returns 0,
 * -EINVAL with *err (may be NULL) filled for a line that is not a trace line
 * or an event whose fields do not parse, or -ENOMEM. Lines before the first
 * trace line that are not trace lines are a preamble and skipped. */
int traceparse_file(FILE *f, traceparse_t *t, traceparse_err_t *err);

/* Parse one line and append the event if it is one we keep. Returns 1 when
 * appended, 0 when skipped, -EINVAL for a malformed line, -ENOMEM. */
int traceparse_line(traceparse_t *t, const char *line, uint32_t lineno, traceparse_err_t *err);

/* A line's timestamp, s[0..len) = "SEC.FRAC:", in ns; *digits: those of
 * FRAC. 0, or -1 when it is not one: only fractions of 1..9 digits, since a
 * trace clock that counts cycles (x86-tsc, counter) prints no fraction and
 * cannot be used. For readers of events this module does not keep
 * (nvmetime.c), so every timestamp is read one way. */
int traceparse_ts(const char *s, size_t len, uint64_t *ns, int *digits);

/* Sort the events by (ts, line); traceparse_file does this. */
void traceparse_sort(traceparse_t *t);

const char *traceparse_type_name(traceparse_type_t type);

#endif
