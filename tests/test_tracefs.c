/*
 * test_tracefs.c - the trace parser and per-request join on fixtures
 * recorded on the development VM (tests/fixtures/tracefs/README.md), the
 * `trace analyze` command, and live `trace record` (skipped without root
 * and tracefs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"
#include "calibrate/tracerec.h"
#include "sim/vec.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *fixture(const char *name)
{
    return tu_src("tests/fixtures/tracefs/%s", name);
}

/* All lines of a fixture. */
typedef struct {
    char **line;
    size_t n;
} lines_t;

static lines_t read_lines(const char *name)
{
    FILE *f = fopen(fixture(name), "r");
    assert_non_null(f);
    lines_t l = {NULL, 0};
    char *buf = NULL;
    size_t cap = 0, lcap = 0;
    while (getline(&buf, &cap, f) >= 0)
        assert_int_equal(VEC_PUSH(l.line, l.n, lcap, strdup(buf)), 0);
    free(buf);
    fclose(f);
    return l;
}

static void free_lines(lines_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->line[i]);
    free(l->line);
}

/* Parse the lines not marked in drop[] (may be NULL) and join them. */
static void join_lines(const lines_t *l, const char *drop, traceparse_t *t, tracejoin_t *j)
{
    traceparse_init(t);
    tracejoin_init(j);
    for (size_t i = 0; i < l->n; i++) {
        if (drop && drop[i])
            continue;
        traceparse_err_t err;
        int rc = traceparse_line(t, l->line[i], (uint32_t)i + 1, &err);
        if (rc < 0)
            fail_msg("line %zu: %s", i + 1, err.what);
    }
    traceparse_sort(t);
    assert_int_equal(tracejoin_run(t, j), 0);
}

static void join_fixture(const char *name, traceparse_t *t, tracejoin_t *j)
{
    FILE *f = fopen(fixture(name), "r");
    assert_non_null(f);
    tu_trace_join(f, name, t, j);
    fclose(f);
}

static int joined(const tracejoin_req_t *r) { return (r->have & TJ_READY) != 0; }

/* ---- parser ----------------------------------------------------------- */

static void test_parse_lines(void **state)
{
    (void)state;
    traceparse_t t;
    traceparse_err_t err;
    traceparse_init(&t);
    /* ns timestamps (trace record), flags, comm with a slash and a dash */
    assert_int_equal(traceparse_line(&t,
        "  kworker/u8:0-ev-12      [001] d.h.. 1488.222365054: irq_handler_entry: irq=36 "
        "name=virtio1-req.0\n", 1, &err), 1);
    /* the kernel's own µs format, with a tgid column */
    assert_int_equal(traceparse_line(&t,
        "             fio-7698    (   7698) [000] ..s1.   623.437883: block_rq_issue: 254,0 RS "
        "4096 () 35766208 + 8 be,0,4 [fio]\n", 2, &err), 1);
    /* no flags column (irq-info off), comm with a space */
    assert_int_equal(traceparse_line(&t,
        "     Web Content-4242  [001]  623.500000: sched_switch: prev_comm=Web Content "
        "prev_pid=4242 prev_prio=120 prev_state=X ==> next_comm=swapper/1 next_pid=0 "
        "next_prio=120\n", 3, &err), 1);
    assert_int_equal(traceparse_line(&t,
        "          <idle>-0       [000] dNh2.   623.437874: sched_wakeup: comm=fio pid=7698 "
        "prio=120 target_cpu=000\n", 4, &err), 1);
    assert_int_equal(traceparse_line(&t,
        "             fio-7698    [000] .....   623.437876: io_uring_complete: ring "
        "00000000e450feca, req 000000009b0f80cd, user_data 0x5615a4f7d800, result 4096, cflags "
        "0x0 extra1 0 extra2 0 \n", 5, &err), 1);
    assert_int_equal(traceparse_line(&t,
        "          <idle>-0       [001] d.s3.   623.438016: ipi_send_cpumask: cpumask=0,2-3 "
        "callsite=x callback=y\n", 6, &err), 1);
    /* kept: none of these */
    assert_int_equal(traceparse_line(&t, "# tracer: nop\n", 7, &err), 0);
    assert_int_equal(traceparse_line(&t, "CPU:1 [LOST 12 EVENTS]\n", 8, &err), 0);
    assert_int_equal(traceparse_line(&t,
        "          <idle>-0       [001] ..s1.   623.438047: softirq_raise: vec=4 "
        "[action=BLOCK]\n", 9, &err), 0);
    assert_int_equal(t.lost, 12);
    assert_int_equal(t.skipped, 1);
    /* malformed */
    assert_int_equal(traceparse_line(&t, "this is not a trace line\n", 10, &err), -EINVAL);
    assert_int_equal(err.line, 10);
    assert_int_equal(traceparse_line(&t,
        "             fio-7698    [000] .....   623.437876: block_rq_issue: garbage\n", 11,
        &err), -EINVAL);

    assert_int_equal(t.n, 6);
    const traceparse_ev_t *e = t.ev;
    assert_int_equal(e[0].type, TP_IRQ_ENTRY);
    assert_string_equal(e[0].comm, "kworker/u8:0-ev");
    assert_int_equal(e[0].pid, 12);
    assert_int_equal(e[0].cpu, 1);
    assert_int_equal(e[0].ctx, TP_CTX_HARDIRQ);
    assert_true(e[0].ts == 1488222365054ull);
    assert_string_equal(e[0].u.irq.name, "virtio1-req.0");
    assert_int_equal(e[1].type, TP_BLK_ISSUE);
    assert_int_equal(e[1].pid, 7698);
    assert_int_equal(e[1].ctx, TP_CTX_SOFTIRQ);
    assert_true(e[1].ts == 623437883000ull);
    assert_int_equal(e[1].u.blk.dev, (254u << 20) | 0);
    assert_true(e[1].u.blk.sector == 35766208ull);
    assert_int_equal(e[1].u.blk.bytes, 4096);
    assert_string_equal(e[1].u.blk.rwbs, "RS");
    assert_int_equal(e[2].type, TP_SWITCH);
    assert_string_equal(e[2].comm, "Web Content");
    assert_string_equal(e[2].u.sw.prev_comm, "Web Content");
    assert_int_equal(e[2].u.sw.prev_dead, 1);
    assert_string_equal(e[2].u.sw.next_comm, "swapper/1");
    assert_int_equal(e[3].u.wake.pid, 7698);
    assert_int_equal(e[3].u.wake.target_cpu, 0);
    assert_true(e[4].u.uring.req == 0x9b0f80cdull);
    assert_true(e[4].u.uring.user_data == 0x5615a4f7d800ull);
    assert_int_equal(e[4].u.uring.res, 4096);
    assert_true(e[5].u.ipi.mask == 0xdull);
    traceparse_fini(&t);
}

/* ---- joins on recorded fixtures --------------------------------------- */

static void check_cpu_fixture(const char *name, int fio_cpu, int irq_cpu)
{
    traceparse_t t;
    tracejoin_t j;
    join_fixture(name, &t, &j);
    assert_int_equal(j.uring_rw, 30);
    assert_int_equal(j.joined, 30);
    size_t ipi = 0;
    for (size_t i = 0; i < j.n; i++) {
        const tracejoin_req_t *r = &j.req[i];
        assert_true(joined(r));
        assert_int_equal(r->consumer_cpu, fio_cpu);
        assert_int_equal(r->submit_cpu, fio_cpu);
        assert_int_equal(r->irq_cpu, irq_cpu);
        assert_int_equal(r->completion_cpu, irq_cpu);
        assert_int_equal(r->bytes, 4096);
        assert_true(r->t_submit < r->t_dispatch && r->t_dispatch < r->t_irq &&
                    r->t_irq <= r->t_blk_done && r->t_blk_done < r->t_cqe &&
                    r->t_cqe <= r->t_ready);
        ipi += (r->have & TJ_IPI) != 0;
    }
    /* The waiter on the other CPU is woken by an IPI from the IRQ CPU. */
    if (fio_cpu != irq_cpu)
        assert_true(ipi >= 27);
    else
        assert_int_equal(ipi, 0);

    result_t res;
    result_init(&res);
    assert_int_equal(tracejoin_result(&j, &res, 0), 0);
    double v;
    assert_int_equal(result_get(&res, "locality_miss_rate", &v), 0);
    assert_true(v == (fio_cpu != irq_cpu ? 1.0 : 0.0));
    assert_int_equal(result_get(&res, "deferred_completion_rate", &v), 0);
    assert_true(v > 0.9); /* io_uring posts these CQEs from task_work */
    assert_int_equal(result_get(&res, "device_done_to_ready_p50_ns", &v), 0);
    assert_true(v > 1000 && v < 1e7);
    assert_int_equal(result_get(&res, "join_rate", &v), 0);
    assert_true(v == 1.0);
    /* every request row: the stages add up to its end-to-end latency */
    assert_int_equal(res.nreq, 30);
    for (size_t i = 0; i < res.nreq; i++) {
        const uint64_t *tt = res.req[i].t;
        uint64_t sum = 0;
        for (int s = 0; s < 7; s++) {
            assert_true(tt[s + 1] >= tt[s]);
            sum += tt[s + 1] - tt[s];
        }
        assert_true(sum == tt[7] - tt[0]);
    }
    assert_int_equal(res.nstage, 7);
    assert_string_equal(res.stage[2].stage, "device");
    assert_int_equal(res.stage[2].count, 30);
    result_fini(&res);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

static void test_join_fio_cpu0(void **state)
{
    (void)state;
    check_cpu_fixture("qd1_fio_cpu0.txt", 0, 1);
}

static void test_join_fio_cpu1(void **state)
{
    (void)state;
    check_cpu_fixture("qd1_fio_cpu1.txt", 1, 1);
}

static void test_kernel_format(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    join_fixture("kernel_format_fio.txt", &t, &j);
    assert_int_equal(t.ns_timestamps, 0);
    assert_int_equal(j.uring_rw, 10);
    assert_int_equal(j.joined, 10);
    int on0 = 0, on1 = 0;
    for (size_t i = 0; i < j.n; i++) {
        on0 += j.req[i].consumer_cpu == 0;
        on1 += j.req[i].consumer_cpu == 1;
        assert_int_equal(j.req[i].completion_cpu, 1);
    }
    assert_int_equal(on0, 5);
    assert_int_equal(on1, 5);
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* Two fio jobs at once, pinned to CPU 0 and CPU 1, events interleaved in
 * time and across CPUs: each request must stay with its own job. */
static void test_interleaved(void **state)
{
    (void)state;
    traceparse_t t;
    tracejoin_t j;
    join_fixture("interleaved_fio.txt", &t, &j);
    assert_int_equal(j.uring_rw, 80);
    assert_true(j.joined >= 76);
    int32_t pid[2] = {-1, -1};
    size_t count[2] = {0, 0}, overlaps = 0;
    for (size_t i = 0; i < j.n; i++) {
        const tracejoin_req_t *r = &j.req[i];
        if (!joined(r))
            continue;
        int k = r->submit_cpu;
        assert_true(k == 0 || k == 1);
        if (pid[k] < 0)
            pid[k] = r->pid;
        assert_int_equal(r->pid, pid[k]);
        assert_int_equal(r->consumer_cpu, k);
        assert_int_equal(r->completion_cpu, 1);
        count[k]++;
        for (size_t m = 0; m < j.n; m++)
            overlaps += joined(&j.req[m]) && j.req[m].pid != r->pid &&
                        j.req[m].t_submit < r->t_ready && r->t_submit < j.req[m].t_ready;
    }
    assert_true(pid[0] != pid[1]);
    assert_true(count[0] >= 38 && count[1] >= 38);
    assert_true(overlaps > 20); /* the fixture really interleaves */
    tracejoin_fini(&j);
    traceparse_fini(&t);
}

/* Find the request in `full` with the same submit time. */
static const tracejoin_req_t *same_submit(const tracejoin_t *full, const tracejoin_req_t *r)
{
    for (size_t i = 0; i < full->n; i++)
        if (full->req[i].t_submit == r->t_submit)
            return &full->req[i];
    return NULL;
}

/* Every request the damaged trace still joins must be joined exactly as in
 * the complete trace: missing events cost requests, never mis-joins. */
static void check_subset(const tracejoin_t *full, const tracejoin_t *part)
{
    for (size_t i = 0; i < part->n; i++) {
        const tracejoin_req_t *r = &part->req[i];
        if (!joined(r))
            continue;
        const tracejoin_req_t *f = same_submit(full, r);
        assert_non_null(f);
        assert_true(joined(f));
        assert_true(r->t_dispatch == f->t_dispatch && r->t_blk_done == f->t_blk_done &&
                    r->t_cqe == f->t_cqe && r->sector == f->sector);
        assert_int_equal(r->consumer_cpu, f->consumer_cpu);
    }
}

/* The nth line (0-based count) containing needle, after line `from`. */
static size_t nth_line(const lines_t *l, const char *needle, size_t from, int nth)
{
    for (size_t i = from; i < l->n; i++)
        if (strstr(l->line[i], needle) && nth-- == 0)
            return i;
    fail_msg("no line with %s", needle);
    return 0;
}

static void test_missing_events(void **state)
{
    (void)state;
    lines_t l = read_lines("qd1_fio_cpu0.txt");
    traceparse_t tf, tp;
    tracejoin_t full, part;
    join_lines(&l, NULL, &tf, &full);
    assert_int_equal(full.joined, 30);

    char *drop = calloc(l.n, 1);
    assert_non_null(drop);
    /* start mid-flight: cut everything before the 3rd block completion */
    size_t cut = nth_line(&l, "block_rq_complete", 0, 2);
    for (size_t i = 0; i < cut; i++)
        drop[i] = l.line[i][0] != '#';
    drop[nth_line(&l, "block_rq_issue", 0, 9)] = 1;     /* request 10 */
    drop[nth_line(&l, "io_uring_complete", 0, 14)] = 1; /* request 15 */
    drop[nth_line(&l, "irq_handler_entry", 0, 19)] = 1; /* request 20's interrupt */
    drop[nth_line(&l, "next_comm=fio", 0, 24)] = 1;     /* a switch-in of the waiter */
    /* end mid-flight: drop the tail after the last block issue */
    size_t last = nth_line(&l, "block_rq_issue", 0, 29);
    for (size_t i = last + 1; i < l.n; i++)
        drop[i] = 1;
    join_lines(&l, drop, &tp, &part);

    assert_true(part.orphan_completes >= 1);
    /* 30 - 3 cut at the start (at most) - 1 without block issue - 1 without
     * CQE - 1 cut at the end; a lost interrupt or switch costs no join */
    assert_true(part.joined >= 24 && part.joined <= 26);
    size_t no_irq = 0;
    for (size_t i = 0; i < part.n; i++)
        no_irq += joined(&part.req[i]) && !(part.req[i].have & TJ_IRQ);
    assert_true(no_irq <= 1);
    check_subset(&full, &part);
    free(drop);
    tracejoin_fini(&part);
    traceparse_fini(&tp);
    tracejoin_fini(&full);
    traceparse_fini(&tf);
    free_lines(&l);
}

/* qd1io (CPU 0) and then qd1io_b (CPU 1) ran under the same pid. */
static void test_pid_reuse(void **state)
{
    (void)state;
    lines_t l = read_lines("pidreuse_qd1io.txt");
    traceparse_t tf, tp;
    tracejoin_t full, part;
    join_lines(&l, NULL, &tf, &full);
    assert_int_equal(full.joined, 16);
    int32_t pid = -1;
    for (size_t i = 0; i < full.n; i++) {
        const tracejoin_req_t *r = &full.req[i];
        assert_true(joined(r));
        int b = strcmp(r->comm, "qd1io_b") == 0;
        assert_true(b || strcmp(r->comm, "qd1io") == 0);
        assert_int_equal(r->consumer_cpu, b ? 1 : 0);
        if (pid < 0)
            pid = r->pid;
        assert_int_equal(r->pid, pid); /* the fixture really reuses the pid */
    }

    /* The first process's last request loses its block issue and its CQE:
     * its submit must not swallow the next process's first block request. */
    char *drop = calloc(l.n, 1);
    assert_non_null(drop);
    size_t first_b = nth_line(&l, "qd1io_b", 0, 0);
    size_t issue = 0, cqe = 0;
    for (size_t i = 0; i < first_b; i++) {
        if (strstr(l.line[i], "block_rq_issue") && strstr(l.line[i], "qd1io-"))
            issue = i;
        if (strstr(l.line[i], "io_uring_complete") && strstr(l.line[i], "qd1io-"))
            cqe = i;
    }
    assert_true(issue > 0 && cqe > 0);
    drop[issue] = drop[cqe] = 1;
    join_lines(&l, drop, &tp, &part);
    assert_int_equal(part.joined, 15);
    size_t b_joined = 0;
    for (size_t i = 0; i < part.n; i++)
        b_joined += joined(&part.req[i]) && strcmp(part.req[i].comm, "qd1io_b") == 0;
    assert_int_equal(b_joined, 8);
    check_subset(&full, &part);
    free(drop);
    tracejoin_fini(&part);
    traceparse_fini(&tp);
    tracejoin_fini(&full);
    traceparse_fini(&tf);
    free_lines(&l);
}

/* ---- the commands ----------------------------------------------------- */

static void test_analyze_command(void **state)
{
    (void)state;
    char db[64], out[64];
    const char *fx = fixture("qd1_fio_cpu0.txt");
    snprintf(db, sizeof(db), "tracefs-test-%d.sqlite", (int)getpid());
    snprintf(out, sizeof(out), "tracefs-test-%d.out", (int)getpid());
    unlink(db);
    assert_int_equal(tu_systemf("%s trace analyze %s --db %s > %s", tu_bin(), fx, db, out), 0);
    sqlite3 *s;
    assert_int_equal(sqlite3_open(db, &s), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(s,
        "SELECT r.mode, r.requests, (SELECT value FROM metrics m WHERE m.run_id = r.run_id AND "
        "m.name = 'locality_miss_rate'), (SELECT count(*) FROM requests q WHERE q.run_id = "
        "r.run_id), (SELECT count(*) FROM stages s WHERE s.run_id = r.run_id) FROM runs r",
        -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "live");
    assert_int_equal(sqlite3_column_int(q, 1), 30);
    assert_true(sqlite3_column_double(q, 2) == 1.0);
    assert_int_equal(sqlite3_column_int(q, 3), 30);
    assert_int_equal(sqlite3_column_int(q, 4), 7);
    sqlite3_finalize(q);
    sqlite3_close(s);
    unlink(db);

    /* bad input: a missing file, and a file that is not a trace */
    assert_int_equal(tu_systemf("%s trace analyze /nonexistent/trace.txt --db %s 2>%s", tu_bin(),
                             db, out), 2);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs("          <idle>-0       [000] d..2.   1.000001: sched_switch: prev_comm=a\n"
          "not a trace line at all\n", f);
    fclose(f);
    assert_int_equal(tu_systemf("%s trace analyze %s --db %s 2>%s.err", tu_bin(), out, db, out), 2);
    char errpath[80], msg[512] = "";
    snprintf(errpath, sizeof(errpath), "%s.err", out);
    f = fopen(errpath, "r");
    assert_non_null(f);
    assert_non_null(fgets(msg, sizeof(msg), f));
    fclose(f);
    assert_non_null(strstr(msg, ":1:")); /* names the file and line */
    unlink(errpath);
    unlink(out);
    unlink(db);
}

/* ---- live recording --------------------------------------------------- */

/* Skip unless root with a writable tracefs; then latsurf must agree. */
#define NEED_TRACEFS()                                                                           \
    do {                                                                                         \
        char why_[256];                                                                          \
        tu_skip_unless(tu_have_tracefs(why_, sizeof(why_)), "%s", why_);                         \
        if (!tracerec_available(why_, sizeof(why_)))                                             \
            fail_msg("tracefs is usable here, but tracerec_available says: %s", why_);           \
    } while (0)

/* Instances named latsurf-PID-N: of process pid (pid > 0), or of processes
 * that no longer exist (pid == 0): those are leaks. */
static int instances_of(pid_t pid)
{
    DIR *d = opendir("/sys/kernel/tracing/instances");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int owner;
        if (sscanf(e->d_name, "latsurf-%d-", &owner) != 1)
            continue;
        if (pid > 0 ? owner == pid : (kill(owner, 0) != 0 && errno == ESRCH))
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* Acceptance: a QD1 fio run recorded with `trace record` joins >= 95%. */
static void test_record_fio(void **state)
{
    (void)state;
    NEED_TRACEFS();
    char why[256];
    tu_skip_unless(tu_have_cmd("fio", why, sizeof(why)), "%s", why);
    char trace[64], data[64], db[64];
    snprintf(trace, sizeof(trace), "tracefs-rec-%d.txt", (int)getpid());
    snprintf(data, sizeof(data), "tracefs-rec-%d.dat", (int)getpid());
    snprintf(db, sizeof(db), "tracefs-rec-%d.sqlite", (int)getpid());
    assert_int_equal(tu_systemf("%s trace record --out %s -- fio --name=qd1 --filename=%s "
                             "--size=16M --rw=randread --bs=4k --direct=1 --ioengine=io_uring "
                             "--iodepth=1 --number_ios=1000 --output-format=terse >/dev/null "
                             "2>&1", tu_bin(), trace, data), 0);
    assert_int_equal(instances_of(0), 0);
    traceparse_t t;
    tracejoin_t j;
    FILE *f = fopen(trace, "r");
    assert_non_null(f);
    traceparse_init(&t);
    tracejoin_init(&j);
    assert_int_equal(traceparse_file(f, &t, NULL), 0);
    fclose(f);
    assert_int_equal(t.ns_timestamps, 1);
    assert_int_equal(tracejoin_run(&t, &j), 0);
    printf("fio QD1: %llu io_uring reads, %llu joined (%.1f%%)\n",
           (unsigned long long)j.uring_rw, (unsigned long long)j.joined,
           100.0 * tracejoin_rate(&j));
    assert_true(j.uring_rw >= 1000);
    assert_true(tracejoin_rate(&j) >= 0.95);
    tracejoin_fini(&j);
    traceparse_fini(&t);
    unlink(trace);
    unlink(data);
    unlink(db);
}

/* SIGINT while recording: exit 1, the trace so far written, no instance
 * left behind. */
static void test_record_sigint(void **state)
{
    (void)state;
    NEED_TRACEFS();
    char trace[64];
    snprintf(trace, sizeof(trace), "tracefs-int-%d.txt", (int)getpid());
    /* The recorded command says "ready" on our pipe once it runs, that is
     * once recording is on, then blocks reading a pipe we never write. */
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        dup2(hold[0], 0);
        dup2(ready[1], 1);
        close(ready[0]);
        close(hold[1]);
        execl(tu_bin(), tu_bin(), "trace", "record", "--out", trace, "--duration-ms", "20000",
              "--", "sh", "-c", "echo ready; exec cat >/dev/null", (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    close(hold[0]);
    char line[128];
    FILE *r = fdopen(ready[0], "r");
    assert_non_null(r);
    if (!fgets(line, sizeof(line), r) || strcmp(line, "ready\n") != 0)
        fail_msg("trace record did not start its command");
    /* two: the main one and the syscall one filtered to the command */
    assert_int_equal(instances_of(child), 2);
    kill(child, SIGINT);
    int st;
    assert_int_equal(waitpid(child, &st, 0), child);
    fclose(r);
    close(hold[1]);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_int_equal(instances_of(child), 0);
    FILE *f = fopen(trace, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f));
    assert_string_equal(line, "# tracer: nop\n");
    fclose(f);
    unlink(trace);

    /* without a command: --duration-ms alone */
    assert_int_equal(tu_systemf("%s trace record --out %s --duration-ms 50 2>/dev/null", tu_bin(),
                             trace), 0);
    assert_int_equal(instances_of(0), 0);
    unlink(trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_lines),     cmocka_unit_test(test_join_fio_cpu0),
        cmocka_unit_test(test_join_fio_cpu1),   cmocka_unit_test(test_kernel_format),
        cmocka_unit_test(test_interleaved),     cmocka_unit_test(test_missing_events),
        cmocka_unit_test(test_pid_reuse),       cmocka_unit_test(test_analyze_command),
        cmocka_unit_test(test_record_fio),      cmocka_unit_test(test_record_sigint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
