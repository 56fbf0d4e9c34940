/*
 * test_traceexport.c - blocking syscalls in a trace (pread64 & co, read,
 * libaio): the join rules on small canned traces (no root needed), the
 * JSONL export (calibrate/traceexport) and its errors, and a live
 * recording of tests/helpers/preadprog.c (a pread program of known sleep
 * and busy time; skipped without root, tracefs or O_DIRECT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "calibrate/traceexport.h"
#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parse and join text (lines of a trace). */
static void join_text(const char *text, traceparse_t *t, tracejoin_t *j)
{
    FILE *f = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f);
    tu_trace_join(f, "trace", t, j);
    fclose(f);
}

/* The joined request whose first block request is at sector, or NULL. */
static const tracejoin_req_t *req_at(const tracejoin_t *j, uint64_t sector)
{
    for (size_t i = 0; i < j->n; i++)
        if ((j->req[i].have & TJ_READY) && j->req[i].sector == sector)
            return &j->req[i];
    return NULL;
}

#define SW_OUT(comm, pid, cpu, ts, state)                                                        \
    "  " comm "-" #pid " [00" #cpu "] d..2. " ts ": sched_switch: prev_comm=" comm                \
    " prev_pid=" #pid " prev_prio=120 prev_state=" state                                          \
    " ==> next_comm=swapper/" #cpu " next_pid=0 next_prio=120\n"
#define SW_IN(comm, pid, cpu, ts)                                                                \
    "  <idle>-0 [00" #cpu "] d..2. " ts ": sched_switch: prev_comm=swapper/" #cpu                 \
    " prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=" comm " next_pid=" #pid                \
    " next_prio=120\n"

/* app (pid 100): a pread of 8 KiB split into two block requests; 500 us on
 * CPU, 1 ms asleep and 100 us on CPU; a page-cache pread; a read() of a
 * pipe; a pread whose block request another task (other, pid 200, itself in
 * a pread) dispatched. */
static const char trace_a[] =
    "# tracer: nop\n"
    "  app-100 [000] ..... 1.000000000: sys_enter_pread64: fd: 0x00000003, buf: 0x1000, "
    "count: 0x00002000, pos: 0x00000000\n"
    "  app-100 [000] ...1. 1.000001000: block_rq_insert: 254,0 RS 4096 () 1000 + 8 0x2,0,4 [app]\n"
    "  app-100 [000] ..... 1.000002000: block_rq_issue: 254,0 RS 4096 () 1000 + 8 0x2,0,4 [app]\n"
    "  app-100 [000] ...1. 1.000003000: block_rq_insert: 254,0 RS 4096 () 5000 + 8 0x2,0,4 [app]\n"
    "  app-100 [000] ..... 1.000004000: block_rq_issue: 254,0 RS 4096 () 5000 + 8 0x2,0,4 [app]\n"
    SW_OUT("app", 100, 0, "1.000005000", "D")
    "  <idle>-0 [000] d.h1. 1.000090000: irq_handler_entry: irq=36 name=virtio1-req.0\n"
    "  <idle>-0 [000] ..s1. 1.000100000: block_rq_complete: 254,0 RS () 1000 + 8 0x2,0,4 [0]\n"
    "  <idle>-0 [000] ..s1. 1.000110000: block_rq_complete: 254,0 RS () 5000 + 8 0x2,0,4 [0]\n"
    "  <idle>-0 [000] d.s2. 1.000111000: sched_wakeup: comm=app pid=100 prio=120 "
    "target_cpu=000\n"
    SW_IN("app", 100, 0, "1.000115000")
    "  app-100 [000] ..... 1.000120000: sys_exit_pread64: 0x2000\n"
    SW_OUT("app", 100, 0, "1.000620000", "S")
    SW_IN("app", 100, 0, "1.001620000")
    "  app-100 [000] ..... 1.001650000: sys_enter_pread64: fd: 0x00000003, buf: 0x1000, "
    "count: 0x00001000, pos: 0x00004000\n"
    "  app-100 [000] ..... 1.001660000: sys_exit_pread64: 0x1000\n"
    "  app-100 [000] ..... 1.001670000: sys_enter_read: fd: 0x00000000, buf: 0x1000, "
    "count: 0x00000040\n"
    "  app-100 [000] ..... 1.001680000: sys_exit_read: 0x40\n"
    "  other-200 [001] ..... 1.001700000: sys_enter_pread64: fd: 0x00000004, buf: 0x2000, "
    "count: 0x00001000, pos: 0x00000000\n"
    "  other-200 [001] ...1. 1.001701000: block_rq_insert: 254,0 RS 4096 () 20000 + 8 0x2,0,4 "
    "[other]\n"
    "  other-200 [001] ..... 1.001702000: block_rq_issue: 254,0 RS 4096 () 20000 + 8 0x2,0,4 "
    "[other]\n"
    "  app-100 [000] ..... 1.001720000: sys_enter_pread64: fd: 0x00000003, buf: 0x1000, "
    "count: 0x00001000, pos: 0x00008000\n"
    "  app-100 [000] ...1. 1.001721000: block_rq_insert: 254,0 RS 4096 () 9000 + 8 0x2,0,4 [app]\n"
    "  other-200 [001] ..... 1.001722000: block_rq_issue: 254,0 RS 4096 () 9000 + 8 0x2,0,4 "
    "[other]\n"
    "  other-200 [001] ..s1. 1.001790000: block_rq_complete: 254,0 RS () 20000 + 8 0x2,0,4 [0]\n"
    "  other-200 [001] ..... 1.001795000: sys_exit_pread64: 0x1000\n"
    "  other-200 [001] ..s1. 1.001800000: block_rq_complete: 254,0 RS () 9000 + 8 0x2,0,4 [0]\n"
    "  app-100 [000] ..... 1.001810000: sys_exit_pread64: 0x1000\n";

/* A pread split into two block requests is one request, from the syscall's
 * entry to its exit, with the block, interrupt and wakeup stages. */
static void test_split_pread(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    join_text(trace_a, &t, &j);
    assert_int_equal(j.sys_device, 3);
    assert_int_equal(j.sys_split, 1);
    assert_int_equal(j.joined, 3);
    const tracejoin_req_t *r = req_at(&j, 1000);
    assert_non_null(r);
    assert_int_equal(r->kind, TJ_KIND_SYSCALL);
    assert_int_equal(r->nblk, 2);
    assert_int_equal(r->bytes, 8192);
    assert_int_equal(r->t_submit, 1000000000);
    assert_int_equal(r->t_dispatch, 1000002000);
    assert_int_equal(r->t_blk_done, 1000110000); /* the last block completion */
    assert_int_equal(r->t_irq, 1000090000);
    assert_int_equal(r->t_wakeup, 1000111000);
    assert_int_equal(r->t_cqe, 1000115000); /* switched in */
    assert_int_equal(r->t_ready, 1000120000);
    assert_int_equal(r->pid, 100);
    assert_null(req_at(&j, 5000)); /* not a request of its own */
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* A pread that returned data with no block request is a page-cache hit,
 * not a request; a read() with none is not counted at all. */
static void test_page_cache_pread(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    join_text(trace_a, &t, &j);
    assert_int_equal(j.sys_calls, 5);
    assert_int_equal(j.sys_cache, 1);
    for (size_t i = 0; i < j.n; i++)
        assert_int_not_equal(j.req[i].t_submit, 1001650000);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* A block request dispatched by another task belongs to the task that
 * queued it (block_rq_insert), not to the dispatcher's own pread. */
static void test_owner_is_inserter(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    join_text(trace_a, &t, &j);
    const tracejoin_req_t *app = req_at(&j, 9000), *other = req_at(&j, 20000);
    assert_non_null(app);
    assert_non_null(other);
    assert_int_equal(app->pid, 100);
    assert_int_equal(app->nblk, 1);
    assert_int_equal(app->t_cqe, app->t_blk_done); /* never slept */
    assert_int_equal(other->pid, 200);
    assert_int_equal(other->nblk, 1);
    assert_int_equal(j.blk_reads, 4);
    assert_int_equal(j.blk_reads_joined, 4);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* The kernel's own "trace" file prints syscalls differently. */
static void test_kernel_syscall_format(void **state)
{
    (void)state;
    traceparse_t t;
    traceparse_init(&t);
    traceparse_err_t err;
    assert_int_equal(traceparse_line(&t,
                                     "  app-7 [001] ..... 5.000001: sys_pread64(fd: 3, buf: "
                                     "7f00, count: 1000, pos: 2000)\n",
                                     1, &err),
                     1);
    assert_int_equal(traceparse_line(&t, "  app-7 [001] ..... 5.000002: sys_pread64 -> 0x1000\n",
                                     2, &err),
                     1);
    assert_int_equal(traceparse_line(&t, "  app-7 [001] ..... 5.000003: sys_openat -> 0x3\n", 3,
                                     &err),
                     0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.ev[0].type, TP_SYS_ENTER);
    assert_string_equal(traceparse_syscalls[t.ev[0].u.sys.call].name, "pread64");
    assert_int_equal(t.ev[0].u.sys.fd, 3);
    assert_int_equal(t.ev[0].u.sys.count, 0x1000);
    assert_int_equal(t.ev[0].u.sys.pos, 0x2000);
    assert_int_equal(t.ev[1].type, TP_SYS_EXIT);
    assert_int_equal(t.ev[1].u.sys.ret, 0x1000);
    traceparse_fini(&t);
}

/* libaio: one io_submit of 2 iocbs made 3 block requests (two contiguous:
 * one iocb split); one io_getevents reaps both. */
static const char trace_aio[] =
    "  aio-300 [001] ..... 2.000000000: sys_enter_io_submit: ctx_id: 0x7f00, nr: 0x2, "
    "iocbpp: 0x7ffc\n"
    "  aio-300 [001] ...1. 2.000001000: block_rq_insert: 254,0 RS 4096 () 100 + 8 0x2,0,4 [aio]\n"
    "  aio-300 [001] ..... 2.000002000: block_rq_issue: 254,0 RS 4096 () 100 + 8 0x2,0,4 [aio]\n"
    "  aio-300 [001] ...1. 2.000003000: block_rq_insert: 254,0 RS 4096 () 200 + 8 0x2,0,4 [aio]\n"
    "  aio-300 [001] ..... 2.000004000: block_rq_issue: 254,0 RS 4096 () 200 + 8 0x2,0,4 [aio]\n"
    "  aio-300 [001] ...1. 2.000005000: block_rq_insert: 254,0 RS 4096 () 208 + 8 0x2,0,4 [aio]\n"
    "  aio-300 [001] ..... 2.000006000: block_rq_issue: 254,0 RS 4096 () 208 + 8 0x2,0,4 [aio]\n"
    "  aio-300 [001] ..... 2.000010000: sys_exit_io_submit: 0x2\n"
    "  aio-300 [001] ..... 2.000050000: sys_enter_io_getevents: ctx_id: 0x7f00, min_nr: 0x2, "
    "nr: 0x2, events: 0x7ffd, timeout: 0x0\n"
    "  <idle>-0 [001] ..s1. 2.000100000: block_rq_complete: 254,0 RS () 100 + 8 0x2,0,4 [0]\n"
    "  <idle>-0 [001] ..s1. 2.000120000: block_rq_complete: 254,0 RS () 200 + 8 0x2,0,4 [0]\n"
    "  <idle>-0 [001] ..s1. 2.000130000: block_rq_complete: 254,0 RS () 208 + 8 0x2,0,4 [0]\n"
    "  aio-300 [001] ..... 2.000140000: sys_exit_io_getevents: 0x2\n";

static void test_libaio(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    join_text(trace_aio, &t, &j);
    assert_int_equal(j.aio_requests, 2);
    assert_int_equal(j.joined, 2);
    const tracejoin_req_t *a = req_at(&j, 100), *b = req_at(&j, 200);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->kind, TJ_KIND_AIO);
    assert_int_equal(a->bytes, 4096);
    assert_int_equal(b->bytes, 8192);
    assert_int_equal(b->nblk, 2);
    assert_int_equal(a->t_submit, 2000000000);
    assert_int_equal(a->t_ready, 2000140000);
    assert_int_equal(b->t_blk_done, 2000130000);
    assert_int_equal(b->t_ready, 2000140000);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* The export of trace_a: ids in issue order, each thread a chain, think
 * time and its on-CPU part from the sched_switch events. */
static void test_export_chain(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    traceexport_t x;
    join_text(trace_a, &t, &j);
    traceexport_init(&x);
    assert_int_equal(traceexport_build(&t, &j, 0, &x), 0);
    assert_int_equal(x.n, 3);
    assert_int_equal(x.threads, 2);
    /* id 0: app's split pread; id 1: other's pread; id 2: app's last pread */
    assert_int_equal(x.rec[0].flow, 100);
    assert_int_equal(x.rec[0].after, -1);
    assert_int_equal(x.rec[0].think_ns, 0);
    assert_int_equal(x.rec[0].bytes, 8192);
    assert_int_equal(x.rec[0].offset, 1000 * 512);
    assert_int_equal(x.rec[0].service_ns, 120000);
    assert_int_equal(x.rec[1].flow, 200);
    assert_int_equal(x.rec[1].after, -1);
    assert_int_equal(x.rec[1].think_ns, 1700000); /* from the first request */
    assert_int_equal(x.rec[2].flow, 100);
    assert_int_equal(x.rec[2].after, 0);
    assert_int_equal(x.rec[2].think_ns, 1600000);   /* exit 1.000120 -> entry 1.001720 */
    assert_int_equal(x.rec[2].think_cpu_ns, 600000); /* 500 us + 100 us on CPU 0 */
    assert_int_equal(x.rec[2].consumer_cpu, 0);
    assert_int_equal(x.rec[2].offset, 9000 * 512);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(traceexport_write(&x, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "{\"id\":2,\"after\":[0],\"think_ns\":1600000,\"think_cpu_ns\":"
                                "600000,\"op\":\"read\",\"offset\":4608000,\"bytes\":4096,"
                                "\"flow\":100,\"consumer_cpu\":0,\"service_ns\":90000}\n"));
    free(buf);
    /* folding into a smaller span */
    traceexport_fini(&x);
    traceexport_init(&x);
    assert_int_equal(traceexport_build(&t, &j, 1 << 20, &x), 0);
    assert_int_equal(x.rec[1].offset, (20000 * 512) % (1 << 20));
    assert_true(x.span <= 1 << 20);
    traceexport_fini(&x);
    traceexport_init(&x);
    assert_int_equal(traceexport_build(&t, &j, 1000, &x), -EINVAL);
    traceexport_fini(&x);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* io_uring at queue depth 2 (uring-400): A and B in flight; C is submitted
 * after A's completion was reaped, D after B's: each record is after the
 * latest completion the thread had in hand, so two chains keep going. */
#define URING_SUB(ts, req, sector)                                                               \
    "  uring-400 [000] ..... " ts ": io_uring_submit_req: ring 0xff01, req " req                  \
    ", user_data 0x1, opcode READ, flags 0x0, sq_thread 0\n"                                      \
    "  uring-400 [000] ..... " ts ": block_rq_issue: 254,0 RS 4096 () " sector                    \
    " + 8 0x2,0,4 [uring]\n"
#define URING_DONE(ts, cqe, req, sector)                                                         \
    "  <idle>-0 [000] ..s1. " ts ": block_rq_complete: 254,0 RS () " sector " + 8 0x2,0,4 [0]\n" \
    "  uring-400 [000] ..... " cqe ": io_uring_complete: ring 0xff01, req " req                   \
    ", user_data 0x1, result 4096, cflags 0x0 extra1 0 extra2 0\n"
static const char trace_uring[] =
    URING_SUB("3.000000000", "0xa1", "100")
    URING_SUB("3.000001000", "0xa2", "200")
    SW_OUT("uring", 400, 0, "3.000002000", "S")
    URING_DONE("3.000090000", "3.000100000", "0xa1", "100")
    SW_IN("uring", 400, 0, "3.000095000")
    URING_SUB("3.000110000", "0xa3", "300")
    SW_OUT("uring", 400, 0, "3.000111000", "S")
    URING_DONE("3.000140000", "3.000150000", "0xa2", "200")
    SW_IN("uring", 400, 0, "3.000145000")
    URING_SUB("3.000160000", "0xa4", "400")
    SW_OUT("uring", 400, 0, "3.000161000", "S")
    URING_DONE("3.000200000", "3.000210000", "0xa3", "300")
    URING_DONE("3.000220000", "3.000230000", "0xa4", "400")
    SW_IN("uring", 400, 0, "3.000235000");

static void test_export_uring_depth(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    traceexport_t x;
    join_text(trace_uring, &t, &j);
    assert_int_equal(j.joined, 4);
    traceexport_init(&x);
    assert_int_equal(traceexport_build(&t, &j, 0, &x), 0);
    assert_int_equal(x.n, 4);
    assert_int_equal(x.threads, 1);
    assert_int_equal(x.rec[0].after, -1);
    assert_int_equal(x.rec[1].after, -1); /* nothing reaped yet: queue depth 2 */
    assert_int_equal(x.rec[1].think_ns, 1000);
    assert_int_equal(x.rec[2].after, 0);  /* A's CQE was in hand */
    assert_int_equal(x.rec[2].think_ns, 3000110000 - j.req[x.rec[0].req].t_ready);
    assert_int_equal(x.rec[3].after, 1);  /* then B's */
    assert_true(x.rec[2].think_cpu_ns <= x.rec[2].think_ns);
    traceexport_fini(&x);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* ---- the command's errors -------------------------------------------- */

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Exit 2 naming the file, and neither the export nor the database. */
static void expect_bad(const char *trace, const char *says)
{
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof(cmd), "%s trace analyze %s --db te.sqlite --export-jsonl te.jsonl",
             tu_bin(), trace);
    const char *dir = tu_path("/tmp", "");
    unlink("/tmp/te.sqlite");
    unlink("/tmp/te.jsonl");
    assert_int_equal(tu_sh(dir, cmd, out, sizeof(out)), 2);
    if (!strstr(out, trace) || !strstr(out, says))
        fail_msg("expected '%s' naming %s, got: %s", says, trace, out);
    assert_false(exists("/tmp/te.jsonl"));
    assert_false(exists("/tmp/te.sqlite"));
    assert_int_equal(system("ls /tmp/te.jsonl.tmp* >/dev/null 2>&1"), 512 /* none */);
}

static void test_errors(void **state)
{
    (void)state;
    /* syscalls, but none reached the device */
    const char *p = tu_write_tmp("te-cache",
                                 "  app-100 [000] ..... 1.000000000: sys_enter_pread64: fd: 0x3, "
                                 "buf: 0x1000, count: 0x1000, pos: 0x0\n"
                                 "  app-100 [000] ..... 1.000001000: sys_exit_pread64: 0x1000\n"
                                 "  kworker/0:1-9 [000] ..... 1.000002000: block_rq_issue: 254,0 "
                                 "WS 4096 () 8 + 8 0x2,0,4 [kworker/0:1]\n"
                                 "  <idle>-0 [000] ..s1. 1.000100000: block_rq_complete: 254,0 WS "
                                 "() 8 + 8 0x2,0,4 [0]\n");
    expect_bad(p, "did no block I/O");
    unlink(p);
    /* block I/O but no syscall (nor io_uring) events */
    p = tu_write_tmp("te-nosys",
                     "  app-100 [000] ..... 1.000002000: block_rq_issue: 254,0 RS 4096 () 8 + 8 "
                     "0x2,0,4 [app]\n"
                     "  <idle>-0 [000] ..s1. 1.000100000: block_rq_complete: 254,0 RS () 8 + 8 "
                     "0x2,0,4 [0]\n");
    expect_bad(p, "no syscall events");
    unlink(p);
    /* unreadable */
    expect_bad("/nonexistent/trace.txt", "cannot open");
}

/* ---- a live recording of preadprog ----------------------------------- */

typedef struct {
    long tid, seq;
    unsigned long long t_before, t_after, c_before, c_after;
    uint64_t t_enter, t_exit; /* the syscall's, from the trace; 0 if not seen */
    int nblk;                 /* block requests its thread queued during it */
} pread_t;

/* Did tid switch out in [a, b] (it was preempted or slept there)? */
static int switched_out(const traceparse_t *t, long tid, uint64_t a, uint64_t b)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].type == TP_SWITCH && t->ev[i].u.sw.prev_pid == tid && t->ev[i].ts >= a &&
            t->ev[i].ts <= b)
            return 1;
    return 0;
}

/* How often tid was preempted (switched out runnable) in [a, b]. */
static int preemptions(const traceparse_t *t, long tid, uint64_t a, uint64_t b)
{
    int n = 0;
    for (size_t i = 0; i < t->n; i++)
        n += t->ev[i].type == TP_SWITCH && t->ev[i].u.sw.prev_pid == tid && t->ev[i].ts >= a &&
             t->ev[i].ts <= b && t->ev[i].u.sw.prev_runnable;
    return n;
}

/* ns of interrupts (hard and soft) served in [a, b] while tid was current. */
static long long irq_served(const traceparse_t *t, long tid, uint64_t a, uint64_t b)
{
    long long sum = 0;
    uint64_t from = 0;
    int depth = 0;
    for (size_t i = 0; i < t->n; i++) {
        const traceparse_ev_t *e = &t->ev[i];
        if (e->pid != tid || e->ts < a || e->ts > b)
            continue;
        if (e->type == TP_IRQ_ENTRY || e->type == TP_SOFTIRQ_ENTRY) {
            if (depth++ == 0)
                from = e->ts;
        } else if ((e->type == TP_IRQ_EXIT || e->type == TP_SOFTIRQ_EXIT) && depth > 0 &&
                   --depth == 0) {
            sum += (long long)(e->ts - from);
        }
    }
    return sum;
}

/* Do tid's events in [a, b] contradict each other (a switch out, or an
 * event in its context, while off CPU; a switch in while on): the
 * recording missed a sched_switch there. */
static int missed_switch(const traceparse_t *t, long tid, uint64_t a, uint64_t b)
{
    int on = -1;
    for (size_t i = 0; i < t->n; i++) {
        const traceparse_ev_t *e = &t->ev[i];
        if (e->ts < a || e->ts > b)
            continue;
        if (e->type != TP_SWITCH) {
            if (e->pid == tid && !(e->ctx & (TP_CTX_HARDIRQ | TP_CTX_SOFTIRQ))) {
                if (on == 0)
                    return 1;
                on = 1;
            }
            continue;
        }
        if (e->u.sw.prev_pid == tid) {
            if (on == 0)
                return 1;
            on = 0;
        }
        if (e->u.sw.next_pid == tid) {
            if (on == 1)
                return 1;
            on = 1;
        }
    }
    return 0;
}

/* The recording's scratch directory: removed by the teardown, so a failed
 * assertion (which leaves record_preadprog at once) leaves nothing behind. */
static char rec_dir[64];

static int rec_dir_remove(void **state)
{
    (void)state;
    if (rec_dir[0])
        tu_systemf("rm -rf '%s'", rec_dir);
    rec_dir[0] = 0;
    return 0;
}

/* Record preadprog with `trace record`, analyze and export it, and check
 * the join and the export against what the program says it did. */
static void record_preadprog(int threads)
{
    char why[256];
    tu_skip_unless(tu_have_tracefs(why, sizeof(why)), "%s", why);
    const char *prog = getenv("LATSURF_PREADPROG");
    if (!prog)
        fail_msg("LATSURF_PREADPROG is not set (tests/CMakeLists.txt)");
    enum { READS = 6, SLEEP_US = 2000, SPIN_US = 3000 };
    snprintf(rec_dir, sizeof(rec_dir), "/var/tmp/latsurf-te-XXXXXX");
    assert_non_null(mkdtemp(rec_dir));
    const char *dir = rec_dir;
    char cmd[1024], out[65536];
    /* the probe: does this filesystem take O_DIRECT? (exit 77 if not) */
    snprintf(cmd, sizeof(cmd), "%s probe 1 1 0 0 >/dev/null; echo $?", prog);
    assert_int_equal(tu_sh(dir, cmd, out, sizeof(out)), 0);
    tu_skip_unless(atoi(out) != 77, "no O_DIRECT on %s", dir);
    assert_int_equal(atoi(out), 0);
    snprintf(cmd, sizeof(cmd), "%s trace record --out trace.txt -- %s data %d %d %d %d "
                               ">prog.out", tu_bin(), prog, threads, (int)READS, (int)SLEEP_US,
             (int)SPIN_US);
    assert_int_equal(tu_sh(dir, cmd, out, sizeof(out)), 0);

    /* what the program did */
    pread_t p[2 * READS];
    memset(p, 0, sizeof(p));
    int np = 0;
    char path[512];
    snprintf(path, sizeof(path), "%s/prog.out", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    long long off;
    while (np < 2 * READS &&
           fscanf(f, "read %ld %ld %lld %llu %llu %llu %llu\n", &p[np].tid, &p[np].seq, &off,
                  &p[np].t_before, &p[np].t_after, &p[np].c_before, &p[np].c_after) == 7)
        np++;
    fclose(f);
    assert_int_equal(np, threads * READS);

    /* the trace's view of each pread: entry, exit, and the block requests
     * its thread queued (block_rq_insert) in between */
    snprintf(path, sizeof(path), "%s/trace.txt", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    traceparse_t t;
    tracejoin_t j;
    traceparse_init(&t);
    tracejoin_init(&j);
    assert_int_equal(traceparse_file(f, &t, NULL), 0);
    fclose(f);
    assert_int_equal(tracejoin_run(&t, &j), 0);
    for (int i = 0; i < np; i++) {
        for (size_t k = 0; k < t.n; k++) {
            const traceparse_ev_t *e = &t.ev[k];
            if (e->pid != p[i].tid || e->ts < p[i].t_before || e->ts > p[i].t_after)
                continue;
            if (e->type == TP_SYS_ENTER)
                p[i].t_enter = e->ts;
            else if (e->type == TP_SYS_EXIT)
                p[i].t_exit = e->ts;
            else if (e->type == TP_BLK_INSERT) {
                /* reached the device in the trace: its completion is there */
                for (size_t c = k + 1; c < t.n && t.ev[c].ts <= p[i].t_after; c++)
                    if (t.ev[c].type == TP_BLK_COMPLETE &&
                        t.ev[c].u.blk.sector == e->u.blk.sector) {
                        p[i].nblk++;
                        break;
                    }
            }
        }
        assert_true(p[i].t_enter && p[i].t_exit);
    }
    /* the join: each pread that reached the device (in the trace) is one
     * request, with all its block requests, and no other request is */
    int reached = 0;
    for (int i = 0; i < np; i++) {
        int found = 0;
        for (size_t k = 0; k < j.n; k++) {
            const tracejoin_req_t *r = &j.req[k];
            if (r->pid != p[i].tid || r->t_submit != p[i].t_enter)
                continue;
            found++;
            assert_true(r->have & TJ_READY);
            assert_int_equal(r->kind, TJ_KIND_SYSCALL);
            assert_int_equal(r->t_ready, p[i].t_exit);
            if ((int)r->nblk != p[i].nblk) /* say what the trace held (a rare mismatch) */
                for (size_t k2 = 0; k2 < t.n; k2++)
                    if (t.ev[k2].ts >= p[i].t_before && t.ev[k2].ts <= p[i].t_after &&
                        t.ev[k2].type != TP_SYS_ENTER && t.ev[k2].type != TP_SYS_EXIT)
                        printf("  trace line %u: pid %d type %d sector %llu\n", t.ev[k2].line,
                               (int)t.ev[k2].pid, (int)t.ev[k2].type,
                               (unsigned long long)t.ev[k2].u.blk.sector);
            assert_int_equal(r->nblk, p[i].nblk);
            assert_int_equal(r->bytes, 4096);
        }
        if (found != (p[i].nblk > 0))
            fail_msg("read %ld/%ld (syscall at %llu, %d block requests): %d requests", p[i].tid,
                     p[i].seq, (unsigned long long)p[i].t_enter, p[i].nblk, found);
        if (!p[i].nblk) /* O_DIRECT: the recording lost block events */
            printf("read %ld/%ld: no block request in the trace (events lost)\n", p[i].tid,
                   p[i].seq);
        reached += p[i].nblk > 0;
    }
    assert_int_equal(j.sys_device, reached);
    /* a loaded VM loses a few events (docs/calibration.md, Limits); many
     * only when the ring buffers overflowed, which the trace then says */
    if (t.lost)
        printf("the recording lost %llu events\n", (unsigned long long)t.lost);
    else
        assert_true(reached >= np / 2);

    /* the export */
    assert_int_equal(tu_cli(dir, "trace analyze trace.txt --db te.sqlite --export-jsonl te.jsonl",
                            out, sizeof(out)),
                     0);
    snprintf(path, sizeof(path), "%s/te.jsonl", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    long last_id[2] = {-1, -1};
    int rec = 0, checked = 0, skipped = 0, outliers = 0, count[2] = {0, 0};
    while (fgets(line, sizeof(line), f)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        assert_non_null(o);
        long id = (long)json_integer_value(json_object_get(o, "id"));
        long flow = (long)json_integer_value(json_object_get(o, "flow"));
        json_t *after = json_object_get(o, "after");
        assert_int_equal(id, rec);
        assert_string_equal(json_string_value(json_object_get(o, "op")), "read");
        assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 4096);
        int thread = flow == p[0].tid ? 0 : 1, k = -1;
        int n = count[thread]++; /* this thread's n-th exported record */
        for (int i = 0, m = 0; i < np; i++)
            if (p[i].tid == flow && p[i].nblk && m++ == n)
                k = i;
        assert_true(k >= 0);
        if (last_id[thread] >= 0) {
            assert_int_equal(json_array_size(after), 1);
            assert_int_equal((long)json_integer_value(json_array_get(after, 0)),
                             last_id[thread]);
        } else {
            assert_int_equal(json_array_size(after), 0);
        }
        /* the previous read of the thread, in the program's order */
        int prev = -1;
        for (int i = 0; i < np; i++)
            if (p[i].tid == flow && p[i].seq == p[k].seq - 1)
                prev = i;
        if (last_id[thread] >= 0 && prev >= 0 && p[prev].nblk) {
            long long want = (long long)(p[k].t_before - p[prev].t_after);
            long long want_cpu = (long long)(p[k].c_before - p[prev].c_after);
            long long got = (long long)json_integer_value(json_object_get(o, "think_ns"));
            long long got_cpu = (long long)json_integer_value(json_object_get(o, "think_cpu_ns"));
            fflush(stdout);
            fprintf(stderr, "thread %d read %ld: think %lld ns (program %lld), on CPU %lld ns (program "
                   "%lld)\n", thread, p[k].seq, got, want, got_cpu, want_cpu);
            assert_true(want >= (SLEEP_US + SPIN_US) * 1000LL);
            assert_true(want_cpu >= SPIN_US * 1000LL);
            assert_true(got_cpu <= got);
            /* The program's clocks bracket the syscalls: it cannot see a
             * preemption between its clock reading and the syscall's entry
             * (or exit); nor can a recording that missed a sched_switch of
             * the thread in the gap be exact. Such samples are reported,
             * not compared. */
            /* Nor are the trace's on-CPU time (switch-in to switch-out)
             * and the thread's CPU clock (which leaves out interrupt and
             * steal time and part of each switch) the same when the
             * thread was preempted over and over (another tenant's
             * guest): then only think_ns is compared. */
            int blind = switched_out(&t, p[k].tid, p[prev].t_exit, p[prev].t_after) ||
                        switched_out(&t, p[k].tid, p[k].t_before, p[k].t_enter) ||
                        missed_switch(&t, p[k].tid, p[prev].t_exit, p[k].t_enter);
            /* The same excess in both, with no switch: time the guest
             * shows the thread on CPU between the syscall and the
             * program's clock read, that its CPU clock did not charge:
             * the vCPU was stolen by the host in the program's blind spot. */
            blind |= got - want > 100000 && llabs((got - want) - (got_cpu - want_cpu)) < 50000;
            int churn = preemptions(&t, p[k].tid, p[prev].t_exit, p[k].t_enter);
            /* Interrupts served in the thread's time: the export leaves
             * them out, the CPU clock leaves out most of them but not all
             * (the entry and exit around the handlers): past 100 us of
             * them the two differ by more than the bound. */
            long long irq = irq_served(&t, p[k].tid, p[prev].t_exit, p[k].t_enter);
            if (irq > 100000)
                churn = churn > 10 ? churn : 11;
            if (blind && (llabs(got - want) > 100000 || llabs(got_cpu - want_cpu) > 100000)) {
                printf("  (preempted or stolen outside the program's view, or a sched_switch "
                       "lost: not compared)\n");
                skipped++;
            } else if (churn > 10 && llabs(got_cpu - want_cpu) > 100000) {
                printf("  (preempted %d times, %lld ns of interrupts in the gap: think_cpu_ns not "
                       "compared)\n", preemptions(&t, p[k].tid, p[prev].t_exit, p[k].t_enter), irq);
                assert_true(llabs(got - want) <= 100000);
                skipped++;
            } else if ((llabs(got - want) > 100000 || llabs(got_cpu - want_cpu) > 100000) &&
                       outliers == 0 && llabs(got - want) <= want / 10 &&
                       llabs(got_cpu - want_cpu) <= want_cpu / 10) {
                /* On the shared development VM the program's clocks and a
                 * clean-looking trace (no loss, few switches) disagree by
                 * 100-200 us in about 1 gap of 100 (a vCPU stolen by the
                 * host between the program's clock and the syscall; the
                 * CPU clock also counting a wait after a wakeup that the
                 * trace shows); one such gap a run is allowed, within
                 * 10 %, and shown. */
                printf("  (off by %lld / %lld ns: the one outlier allowed)\n", got - want,
                       got_cpu - want_cpu);
                outliers++;
            } else {
                assert_true(llabs(got - want) <= 100000);
                assert_true(llabs(got_cpu - want_cpu) <= 100000);
                checked++;
            }
        }
        last_id[thread] = id;
        json_decref(o);
        rec++;
    }
    fclose(f);
    assert_int_equal(rec, reached);
    printf("%d samples compared, %d not, %d outlier\n", checked, skipped, outliers);
    assert_true(checked >= 1);
    traceparse_fini(&t);
    tracejoin_fini(&j);
}

static void test_record_one_thread(void **state)
{
    (void)state;
    record_preadprog(1);
}

static void test_record_two_threads(void **state)
{
    (void)state;
    record_preadprog(2);
}

/* A recorded command that does no block I/O: exit 2, nothing written. */
static void test_record_no_block_io(void **state)
{
    (void)state;
    char why[256];
    tu_skip_unless(tu_have_tracefs(why, sizeof(why)), "%s", why);
    char out[4096];
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s trace record --out /tmp/te-noio.txt -- sh -c 'echo hi' "
                               ">/dev/null 2>&1", tu_bin());
    assert_int_equal(tu_sh("/tmp", cmd, out, sizeof(out)), 0);
    expect_bad("/tmp/te-noio.txt", "did no block I/O");
    unlink("/tmp/te-noio.txt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_pread),        cmocka_unit_test(test_page_cache_pread),
        cmocka_unit_test(test_owner_is_inserter),  cmocka_unit_test(test_kernel_syscall_format),
        cmocka_unit_test(test_libaio),             cmocka_unit_test(test_export_chain),
        cmocka_unit_test(test_export_uring_depth),
        cmocka_unit_test(test_errors),             cmocka_unit_test_teardown(test_record_one_thread, rec_dir_remove),
        cmocka_unit_test_teardown(test_record_two_threads, rec_dir_remove), cmocka_unit_test(test_record_no_block_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
