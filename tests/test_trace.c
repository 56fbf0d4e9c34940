/* test_trace.c - the trace readers: one fixture per format (tests/fixtures/traces/), the
 * malformed-line errors (file:line), timestamp normalisation, skip/unknown counts, and the
 * JSONL writer round trip on the real DiskSim traces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "workload/trace.h"
#include "workload/trace_idmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXR 64

typedef struct {
    trace_rec_t r[MAXR];
    uint64_t after[MAXR][4];
    int n;
    trace_stats_t st;
    int rc;
    char err[600];
} got_t;

static const char *fixture(const char *name)
{
    return tu_src("tests/fixtures/traces/%s", name);
}

/* Read a whole fixture; rc is the last trace_next/trace_open result. */
static void read_all(const char *name, const char *fmt, got_t *g)
{
    memset(g, 0, sizeof(*g));
    trace_reader_t *rd;
    g->rc = trace_open(fixture(name), fmt, &rd, g->err, sizeof(g->err));
    if (g->rc < 0)
        return;
    while (g->n < MAXR && (g->rc = trace_next(rd, &g->r[g->n])) == 1) {
        for (uint32_t i = 0; i < g->r[g->n].nafter && i < 4; i++)
            g->after[g->n][i] = g->r[g->n].after[i];
        g->n++;
    }
    if (g->rc < 0)
        snprintf(g->err, sizeof(g->err), "%s", trace_error(rd));
    g->st = *trace_stats(rd);
    trace_close(rd);
}

static void assert_fails_at(const char *name, const char *fmt, const char *where,
                            const char *why)
{
    got_t g;
    read_all(name, fmt, &g);
    assert_true(g.rc < 0);
    char want[300];
    snprintf(want, sizeof(want), "%s:%s: ", name, where);
    if (!strstr(g.err, want) || !strstr(g.err, why))
        fail_msg("error '%s' lacks '%s' / '%s'", g.err, want, why);
}

static void test_jsonl(void **state)
{
    (void)state;
    got_t g;
    read_all("ok.jsonl", "jsonl", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 4);
    /* first open-loop record becomes time 0 */
    assert_int_equal(g.r[0].id, 10);
    assert_false(g.r[0].closed);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].cls, 0);
    assert_int_equal(g.r[0].consumer_cpu, 1);
    assert_int_equal(g.r[0].gpu, 0);
    assert_int_equal(g.r[0].flow, 1);
    assert_true(g.r[1].closed);
    assert_int_equal(g.r[1].nafter, 1);
    assert_int_equal(g.after[1][0], 10);
    assert_int_equal(g.r[1].think_ns, 500);
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[1].bytes, 8192);
    assert_int_equal(g.r[2].nafter, 2);
    assert_int_equal(g.after[2][1], 11);
    /* defaults */
    assert_int_equal(g.r[2].op, 0);
    assert_int_equal(g.r[2].bytes, 4096);
    assert_int_equal(g.r[2].cls, -1);
    assert_int_equal(g.r[2].gpu, -1);
    assert_int_equal(g.r[2].gates, -1);
    /* the blank line is skipped; line numbers are the file's */
    assert_int_equal(g.r[3].line, 5);
    assert_int_equal(g.r[3].t_ns, 500);
    assert_int_equal(g.r[3].gates, 1);
    assert_int_equal(g.r[3].service_ns, 7);
    assert_int_equal(g.st.span_ns, 500);
}

static void test_jsonl_errors(void **state)
{
    (void)state;
    assert_fails_at("bad_key.jsonl", "jsonl", "2", "unknown key \"size\"");
    assert_fails_at("bad_json.jsonl", "jsonl", "2", "invalid JSON");
}

/* One JSONL line on its own: trace_next's result, the record, the error. */
static int read_line(const char *line, trace_rec_t *rec, char *err, size_t n)
{
    char text[700];
    snprintf(text, sizeof(text), "%s\n", line);
    const char *tmp = tu_write_tmp("jsonl", text);
    trace_reader_t *rd;
    assert_int_equal(trace_open(tmp, "jsonl", &rd, err, n), 0);
    memset(rec, 0, sizeof(*rec));
    int rc = trace_next(rd, rec);
    snprintf(err, n, "%s", rc < 0 ? trace_error(rd) : "");
    trace_close(rd);
    unlink(tmp);
    /* the file name differs from run to run: keep what follows it */
    const char *why = strstr(err, ":1: ");
    if (why)
        memmove(err, why, strlen(why) + 1);
    return rc;
}

/* The importer's exact layout is read by a fast path of its own; a blank
 * at the end sends the same line through the general scanner. Both give the
 * same record, or the same error, for lines at and beyond every range. */
static void test_jsonl_fast_path(void **state)
{
    (void)state;
    static const char *const rest[] = {
        "\"id\":7,\"t_ns\":5,\"op\":\"write\",\"offset\":4096,\"bytes\":8192,\"flow\":3}",
        "\"id\":0,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":1,\"flow\":0}",
        ("\"id\":9223372036854775807,\"t_ns\":9223372036854775807,\"op\":\"read\","
         "\"offset\":9223372036854775807,\"bytes\":2147483647,\"flow\":4294967295}"),
        "\"id\":9223372036854775808,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":1,\"flow\":0}",
        "\"id\":1,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":0,\"flow\":0}",
        "\"id\":1,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":2147483648,\"flow\":0}",
        "\"id\":1,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":1,\"flow\":4294967296}",
        "\"id\":-1,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":1,\"flow\":0}",
        "\"id\":01,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":1,\"flow\":0}",
        "\"id\":1,\"t_ns\":0,\"op\":\"trim\",\"offset\":0,\"bytes\":1,\"flow\":0}",
        "\"id\":1,\"t_ns\":0,\"op\":\"read\",\"offset\":0,\"bytes\":1,\"flow\":0}x",
    };
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
        char fast[600], slow[600], ef[600], es[600];
        snprintf(fast, sizeof(fast), "{%s", rest[i]);
        snprintf(slow, sizeof(slow), "{%s ", rest[i]);
        trace_rec_t a, b;
        int ra = read_line(fast, &a, ef, sizeof(ef)), rb = read_line(slow, &b, es, sizeof(es));
        assert_int_equal(ra, rb);
        assert_string_equal(ef, es);
        if (ra == 1) {
            assert_int_equal(a.id, b.id);
            assert_int_equal(a.t_ns, b.t_ns);
            assert_int_equal(a.op, b.op);
            assert_int_equal(a.offset, b.offset);
            assert_int_equal(a.bytes, b.bytes);
            assert_int_equal(a.flow, b.flow);
            assert_int_equal(a.closed, b.closed);
            assert_int_equal(a.cls, b.cls);
            assert_int_equal(a.consumer_cpu, b.consumer_cpu);
            assert_int_equal(a.gpu, b.gpu);
            assert_int_equal(a.gates, b.gates);
            assert_int_equal(a.service_ns, b.service_ns);
            assert_int_equal(a.think_ns, b.think_ns);
            assert_int_equal(a.think_cpu_ns, b.think_cpu_ns);
            assert_int_equal(a.nafter, b.nafter);
        }
    }
}

static void test_fio_v2(void **state)
{
    (void)state;
    got_t g;
    read_all("fio_v2.log", "fio-iolog", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 4);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[1].t_ns, 100000); /* after "wait 100": microseconds */
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[1].offset, 8192);
    assert_int_equal(g.r[1].bytes, 8192);
    assert_int_equal(g.r[2].flow, 1); /* a second file is a second flow */
    assert_int_equal(g.r[2].t_ns, 100000);
    assert_int_equal(g.r[3].t_ns, 150000);
    assert_int_equal(g.r[3].flow, 0);
    assert_int_equal(g.r[3].line, 13);
    assert_int_equal(g.st.skipped, 9);
    assert_int_equal(g.st.unknown, 1);
}

static void test_fio_v3(void **state)
{
    (void)state;
    got_t g;
    read_all("fio_v3.log", "fio-iolog", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[1].t_ns, 15000);
    assert_int_equal(g.r[2].t_ns, 190000);
    assert_int_equal(g.r[2].bytes, 131072);
    assert_int_equal(g.st.skipped, 4);
    assert_int_equal(g.st.span_ns, 190000);
    assert_fails_at("fio_bad.log", "fio-iolog", "5", "wait is not allowed");
    assert_fails_at("fio_badoffset.log", "fio-iolog", "3", "offset");
    assert_fails_at("disksim.trace", "fio-iolog", "1", "fio version");
}

static void test_blkparse(void **state)
{
    (void)state;
    got_t g;
    read_all("blkparse.txt", "blkparse", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 4);
    /* Q order; service time is D -> C */
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].offset, 1000 * 512);
    assert_int_equal(g.r[0].bytes, 4096);
    assert_int_equal(g.r[0].service_ns, 50000);
    assert_int_equal(g.r[1].t_ns, 10000);
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[1].service_ns, 58000);
    /* merged into the request above: no pair of its own */
    assert_int_equal(g.r[2].t_ns, 11000);
    assert_int_equal(g.r[2].service_ns, -1);
    /* readahead */
    assert_int_equal(g.r[3].bytes, 32 * 512);
    assert_int_equal(g.r[3].service_ns, 39000);
    assert_int_equal(g.r[3].cls, 2);
    assert_int_equal(g.st.paired, 3);
    assert_int_equal(g.st.unknown, 1);
    assert_int_equal(g.st.skipped, 5);
    assert_fails_at("blkparse_bad.txt", "blkparse", "3", "time");
}

static void test_msr(void **state)
{
    (void)state;
    got_t g;
    read_all("msr.csv", "msr-csv", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].flow, 1);
    assert_int_equal(g.r[0].bytes, 32768);
    assert_int_equal(g.r[0].offset, 3154152960ULL);
    assert_int_equal(g.r[0].service_ns, 110100);
    assert_int_equal(g.r[1].t_ns, 1000000); /* filetime ticks are 100 ns */
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[2].t_ns, 1000000000);
    assert_int_equal(g.r[2].service_ns, 6000000);
    assert_int_equal(g.st.skipped, 1); /* header */
    assert_int_equal(g.st.unknown, 1); /* Flush */
    assert_fails_at("msr_bad.csv", "msr-csv", "3", "7 comma-separated fields");
}

static void test_disksim(void **state)
{
    (void)state;
    got_t g;
    read_all("disksim.trace", "disksim", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].op, 0);
    assert_int_equal(g.r[0].offset, 8 * 512);
    assert_int_equal(g.r[0].bytes, 16 * 512);
    assert_int_equal(g.r[1].t_ns, 500000);
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[1].flow, 1);
    assert_int_equal(g.r[2].t_ns, 1750000);
    assert_int_equal(g.r[2].line, 4);
    assert_int_equal(g.st.unknown, 1);
    assert_fails_at("disksim_bad.trace", "disksim", "2", "sector");
}

static void test_open_errors(void **state)
{
    (void)state;
    char err[600];
    trace_reader_t *rd;
    assert_true(trace_open(fixture("nope.trace"), "disksim", &rd, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "nope.trace: cannot open"));
    assert_true(trace_open(fixture("disksim.trace"), "tarball", &rd, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "unknown trace format"));
}

/* The JSONL round trip keeps the request and its id. */
static void same_with_id(const trace_rec_t *r, const trace_rec_t *s)
{
    tu_same_request(r, s);
    assert_int_equal(r->id, s->id);
}

/* Both real traces: every line is a request, times start at 0 and keep their spacing, and
 * the JSONL writer + reader reproduce the same stream. */
static void check_real(const char *rel, uint64_t want_n, uint64_t want_span_ms)
{
    char err[600], tmp[] = "/tmp/latsurf-trace-XXXXXX";
    trace_reader_t *a, *b;
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_int_equal(trace_open(tu_src("%s", rel), "disksim", &a, err, sizeof(err)), 0);
    trace_rec_t r;
    int rc;
    while ((rc = trace_next(a, &r)) == 1)
        assert_int_equal(trace_jsonl_write(f, &r), 0);
    assert_int_equal(rc, 0);
    fclose(f);
    const trace_stats_t *st = trace_stats(a);
    assert_int_equal(st->records, want_n);
    assert_int_equal(st->unknown + st->skipped, 0);
    assert_int_equal(st->span_ns / 1000000, want_span_ms);
    trace_close(a);

    assert_int_equal(trace_open(tu_src("%s", rel), "disksim", &a, err, sizeof(err)), 0);
    assert_int_equal(trace_open(tmp, "jsonl", &b, err, sizeof(err)), 0);
    assert_int_equal(tu_trace_pairs(a, b, same_with_id), want_n);
    trace_close(a);
    trace_close(b);
    unlink(tmp);
}

static void test_real_traces(void **state)
{
    (void)state;
    check_real("scenarios/traces/tpcc-small.trace", 6999, 136);
    /* 24,783: the README counts newlines, the last line has none */
    check_real("scenarios/traces/wsrch-small.trace", 24783, 60055);
}

static void test_idmap(void **state)
{
    (void)state;
    trace_idmap_t *m = trace_idmap_new(1000);
    uint32_t v;
    /* churn through far more keys than the cap, deleting as we go */
    for (uint64_t k = 0; k < 100000; k++) {
        assert_true(trace_idmap_put(m, k * 7919, (uint32_t)k));
        if (k >= 999)
            assert_true(trace_idmap_del(m, (k - 999) * 7919));
    }
    assert_int_equal(trace_idmap_size(m), 999);
    for (uint64_t k = 0; k < 100000; k++) {
        bool in = k >= 100000 - 999;
        assert_int_equal(trace_idmap_get(m, k * 7919, &v), in);
        if (in)
            assert_int_equal(v, k);
    }
    assert_true(trace_idmap_put(m, 1, 1)); /* the 1000th */
    assert_false(trace_idmap_put(m, 2, 2)); /* over the cap */
    trace_idmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl),        cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_jsonl_fast_path),
        cmocka_unit_test(test_fio_v2),       cmocka_unit_test(test_fio_v3),
        cmocka_unit_test(test_blkparse),     cmocka_unit_test(test_msr),
        cmocka_unit_test(test_disksim),      cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_real_traces),  cmocka_unit_test(test_idmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
