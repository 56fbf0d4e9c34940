/*
 * test_think.c - a trace's think_cpu_ns (docs/traces.md): the part of a
 * closed-loop record's think_ns that the application spends computing on
 * its consumer's CPU. Read and checked with file:line errors; simulated as
 * user work of the consumer thread, so on an idle CPU the gap from the
 * dependency's t_ready to the next t_issue is exactly think_ns, and beside a
 * CPU hog on that CPU the computing part stretches as the fair scheduler
 * shares the CPU; replayed live as a busy loop on the consumer's worker, the
 * measured gap is at least think_ns. The live test skips only where a probe
 * finds io_uring or O_DIRECT missing.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "run/runner.h"
#include "run/scenario.h"
#include "workload/trace.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In the build tree, not /tmp: the live test needs a filesystem with O_DIRECT. */
static char dir[] = "latsurf-think-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", dir);
}

/* ---- reading ------------------------------------------------------------ */

static void test_read_and_write_back(void **state)
{
    (void)state;
    tu_write(dir, "ok.jsonl",
             "{\"id\":0,\"t_ns\":0}\n"
             "{\"id\":1,\"after\":[0],\"think_ns\":1000,\"think_cpu_ns\":400}\n"
             "{\"id\":2,\"after\":[1],\"think_ns\":1000}\n");
    trace_reader_t *rd;
    char err[600];
    assert_int_equal(trace_open(tu_path(dir, "ok.jsonl"), "jsonl", &rd, err, sizeof(err)), 0);
    trace_rec_t rec;
    uint64_t want[3] = {0, 400, 0};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trace_next(rd, &rec), 1);
        assert_int_equal(rec.think_cpu_ns, want[i]);
        assert_int_equal(trace_jsonl_write(out, &rec), 0);
    }
    assert_int_equal(trace_next(rd, &rec), 0);
    trace_close(rd);
    fclose(out);
    /* written only where given: an old file reads and writes as before */
    assert_non_null(strstr(text, "\"think_ns\":1000,\"think_cpu_ns\":400,"));
    assert_null(strstr(text + (strstr(text, "\"id\":2") - text), "think_cpu_ns"));
    free(text);
}

/* think_cpu_ns above think_ns, negative, or on an open-loop record: exit 2
 * from `latsurf run`, naming the file and line. */
static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *line, *says;
    } bad[] = {
        {"{\"id\":1,\"after\":[0],\"think_ns\":1000,\"think_cpu_ns\":1001}", "exceeds think_ns"},
        {"{\"id\":1,\"after\":[0],\"think_cpu_ns\":5}", "exceeds think_ns"},
        {"{\"id\":1,\"after\":[0],\"think_ns\":1000,\"think_cpu_ns\":-1}", "think_cpu_ns"},
        {"{\"id\":1,\"t_ns\":5,\"think_cpu_ns\":0}", "only with after"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[300], scn[600], out[4096];
        snprintf(text, sizeof(text), "{\"id\":0,\"t_ns\":0}\n%s\n", bad[i].line);
        tu_write(dir, "bad.jsonl", text);
        snprintf(scn, sizeof(scn),
                 "{\"name\":\"bad\",\"host\":{\"cpus\":2},"
                 "\"workload\":[{\"type\":\"trace\",\"path\":\"bad.jsonl\"}],"
                 "\"run\":{\"duration_ms\":5,\"warmup_ms\":0,\"replications\":1}}");
        tu_write(dir, "bad.json", scn);
        int rc = tu_cli(dir, "run bad.json --db bad.sqlite -q", out, sizeof(out));
        if (rc != 2 || !strstr(out, "bad.jsonl:2:") || !strstr(out, bad[i].says))
            fail_msg("case %zu: exit %d, wanted 2 with bad.jsonl:2: ... %s: %s", i, rc,
                     bad[i].says, out);
    }
}

/* ---- simulated ---------------------------------------------------------- */

/* Request 0 at time 0; request 1 after it, think_ns THINK of which CPU_NS
 * computing, both consumed on CPU 0. BG: a CPU hog on CPU 0 ("" for none). */
static void sim_gap(uint64_t think, uint64_t cpu_ns, const char *bg, uint64_t *gap)
{
    char text[300], scn[1200], err[1024];
    snprintf(text, sizeof(text),
             "{\"id\":0,\"t_ns\":0,\"offset\":0}\n"
             "{\"id\":1,\"after\":[0],\"think_ns\":%llu,\"think_cpu_ns\":%llu,\"offset\":8192}\n",
             (unsigned long long)think, (unsigned long long)cpu_ns);
    tu_write(dir, "chain.jsonl", text);
    snprintf(scn, sizeof(scn),
             "{\"name\":\"think\",\"host\":{\"cpus\":2%s},"
             "\"workload\":[{\"type\":\"trace\",\"path\":\"%s\",\"consumer_cpu\":0}],"
             "\"run\":{\"duration_ms\":100,\"warmup_ms\":0,\"replications\":1,"
             "\"record_requests\":10}}",
             bg, tu_path(dir, "chain.jsonl"));
    tu_write(dir, "think.json", scn);
    scn_t *s = NULL;
    if (scn_load(tu_path(dir, "think.json"), NULL, 0, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    result_t res;
    result_init(&res);
    if (runner_run(s, 0, 0, NULL, &res, err, sizeof(err)) != 0)
        fail_msg("runner_run: %s", err);
    assert_int_equal(res.nreq, 2);
    const result_req_t *a = &res.req[0], *b = &res.req[1];
    if (a->t[T_ISSUE] > b->t[T_ISSUE]) {
        const result_req_t *t = a;
        a = b;
        b = t;
    }
    *gap = b->t[T_ISSUE] - a->t[T_READY];
    result_fini(&res);
    scn_free(s);
}

/* On an otherwise idle CPU the computing takes what it says: the next
 * request is issued exactly think_ns after the dependency's t_ready. */
static void test_sim_idle_cpu(void **state)
{
    (void)state;
    uint64_t gap;
    sim_gap(1000000, 400000, "", &gap);
    assert_int_equal(gap, 1000000);
    sim_gap(1000000, 0, "", &gap); /* all wait: the same gap */
    assert_int_equal(gap, 1000000);
}

/* Beside a thread that is always runnable on the same CPU, the two share it
 * by weight (equal: nice 0), so the 5 ms of computing take about twice as
 * long; the 1 ms sleep is unchanged. Bounds: at least 1.5 x (the consumer
 * cannot have more than about half of the CPU over 5 ms when the hog is
 * always runnable), at most 2 x plus two scheduler slices. */
static void test_sim_shared_cpu(void **state)
{
    (void)state;
    uint64_t think = 6000000, cpu_ns = 5000000, gap;
    sim_gap(think, cpu_ns, ",\"background\":[{\"cpu\":0,\"period_us\":1000,\"busy_us\":1000}]",
            &gap);
    double computing = (double)(gap - (think - cpu_ns));
    /* EEVDF base slice 0.7 ms x (1 + ilog2(2 CPUs)) */
    double slice = 0.7e6 * 2;
    if (computing < 1.5 * (double)cpu_ns || computing > 2.0 * (double)cpu_ns + 2 * slice)
        fail_msg("5 ms of computing beside a hog took %.0f us (gap %.0f us)", computing / 1e3,
                 (double)gap / 1e3);
    /* the same hog on the other CPU leaves the consumer alone */
    sim_gap(think, cpu_ns, ",\"background\":[{\"cpu\":1,\"period_us\":1000,\"busy_us\":1000}]",
            &gap);
    assert_int_equal(gap, think);
}

/* ---- live --------------------------------------------------------------- */

/* A chain of four reads with think times, two of them mostly computing:
 * each request reaches the kernel (t_submit) no earlier than think_ns after
 * the previous one was ready, and the busy loops ran on the backend's
 * workers (their CPU time, cpu_ns_per_io x requests, covers them). */
static void test_live_gaps(void **state)
{
    (void)state;
    char why[256];
    tu_skip_unless(tu_have_uring(why, sizeof(why)) && tu_have_odirect(dir, why, sizeof(why)),
                   "%s", why);
    static const uint64_t think[4] = {0, 3000000, 2000000, 1000000};
    static const uint64_t cpu_ns[4] = {0, 2500000, 0, 800000};
    char text[800];
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"id\":0,\"t_ns\":1000000,\"offset\":0}\n");
    for (int i = 1; i < 4; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "{\"id\":%d,\"after\":[%d],\"think_ns\":%llu,\"think_cpu_ns\":%llu,"
                              "\"offset\":%d}\n",
                              i, i - 1, (unsigned long long)think[i],
                              (unsigned long long)cpu_ns[i], i * 8192);
    tu_write(dir, "live.jsonl", text);
    tu_write(dir, "live.json",
             "{\"name\":\"think-live\",\"host\":{\"cpus\":2},"
             "\"workload\":[{\"type\":\"trace\",\"path\":\"live.jsonl\",\"consumer_cpu\":0}],"
             "\"run\":{\"duration_ms\":200,\"warmup_ms\":0,\"replications\":1,"
             "\"record_requests\":10}}");
    char out[4096];
    int rc = tu_cli(dir, "live live.json --target lt.dat --create 1M --db live.sqlite -q", out,
                    sizeof(out));
    if (rc != 0)
        fail_msg("latsurf live: exit %d: %s", rc, out);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(tu_path(dir, "live.sqlite"), &h), SQLITE_OK);
    const char *q = "SELECT t_submit, t_ready FROM requests ORDER BY t_issue";
    assert_int_equal((int)tu_db_cell(h, "SELECT COUNT(*) FROM requests", 0, 0), 4);
    for (int i = 1; i < 4; i++) {
        double ready = tu_db_cell(h, q, i - 1, 1), submit = tu_db_cell(h, q, i, 0);
        if (submit - ready < (double)think[i])
            fail_msg("request %d reached the kernel %.0f us after request %d was ready; "
                     "think_ns is %.0f us",
                     i, (submit - ready) / 1e3, i - 1, (double)think[i] / 1e3);
    }
    double cpu = tu_db_cell(h, "SELECT value FROM metrics WHERE name = 'cpu_ns_per_io'", 0, 0) * 4;
    if (!(cpu >= (double)(cpu_ns[1] + cpu_ns[3])))
        fail_msg("the workers ran %.0f us of CPU; the trace computes %.0f us", cpu / 1e3,
                 (double)(cpu_ns[1] + cpu_ns[3]) / 1e3);
    sqlite3_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_and_write_back),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_sim_idle_cpu),
        cmocka_unit_test(test_sim_shared_cpu),
        cmocka_unit_test(test_live_gaps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
