/* test_trace_formats.c - the cloud and SPC trace formats (alibaba, tencent-cbs, spc) on their
 * real-shaped fixtures, the flow and time-window selection (trace_select, `latsurf import
 * --flow/--from/--to`, the trace workload's flow/from_s/to_s), and that a malformed line
 * exits 2 with file:line and writes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "workload/trace.h"
#include "workload/workload.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXR 16

typedef struct {
    trace_rec_t r[MAXR];
    int n, rc;
    trace_stats_t st;
    char err[600];
} got_t;

static char g_dir[64];

static const char *fixture(const char *name)
{
    return tu_src("tests/fixtures/traces/%s", name);
}

/* Read a whole file (with an optional selection); rc is the last result. */
static void read_sel(const char *path, const char *fmt, const trace_select_t *sel, got_t *g)
{
    memset(g, 0, sizeof(*g));
    trace_reader_t *rd;
    g->rc = trace_open(path, fmt, &rd, g->err, sizeof(g->err));
    if (g->rc < 0)
        return;
    if (sel)
        trace_select(rd, sel);
    while (g->n < MAXR && (g->rc = trace_next(rd, &g->r[g->n])) == 1)
        g->n++;
    if (g->rc < 0)
        snprintf(g->err, sizeof(g->err), "%s", trace_error(rd));
    g->st = *trace_stats(rd);
    trace_close(rd);
}

static void read_all(const char *path, const char *fmt, got_t *g) { read_sel(path, fmt, NULL, g); }

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/latsurf-formats-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", g_dir) == 0 ? 0 : -1;
}

static void test_alibaba_fields(void **state)
{
    (void)state;
    got_t g;
    read_all(fixture("alibaba.csv"), "alibaba", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 5);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].op, 0);
    assert_int_equal(g.r[0].offset, 126703644672ULL); /* bytes, as written */
    assert_int_equal(g.r[0].bytes, 4096);
    assert_int_equal(g.r[0].flow, 2);
    assert_int_equal(g.r[1].t_ns, 218000); /* microseconds */
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[2].flow, 15);
    assert_int_equal(g.r[4].t_ns, 2678000);
    assert_int_equal(g.r[4].line, 6);
    assert_int_equal(g.r[4].id, 4);
}

static void test_tencent_fields(void **state)
{
    (void)state;
    got_t g;
    read_all(fixture("tencent_cbs.csv"), "tencent-cbs", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 5);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].offset, 12910952ULL * 512); /* sectors */
    assert_int_equal(g.r[0].bytes, 128 * 512);
    assert_int_equal(g.r[0].op, 0);
    assert_int_equal(g.r[0].flow, 1063);
    assert_int_equal(g.r[1].op, 1);
    assert_int_equal(g.r[1].flow, 1283);
    assert_int_equal(g.r[2].t_ns, 0); /* one-second resolution: a burst */
    assert_int_equal(g.r[3].t_ns, 1000000000);
    assert_int_equal(g.r[4].t_ns, 3000000000ULL);
    assert_int_equal(g.r[4].flow, 4050);
}

static void test_spc_fields(void **state)
{
    (void)state;
    got_t g;
    read_all(fixture("spc.spc"), "spc", &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 6);
    assert_int_equal(g.r[0].op, 1);
    assert_int_equal(g.r[0].offset, 303567ULL * 512); /* 512-byte blocks */
    assert_int_equal(g.r[0].bytes, 3584);              /* bytes */
    assert_int_equal(g.r[0].flow, 0);
    assert_int_equal(g.r[1].flow, 1);
    assert_int_equal(g.r[2].t_ns, 26214000); /* decimal seconds, exact to the ns */
    assert_int_equal(g.r[3].op, 0);
    assert_int_equal(g.r[4].op, 1); /* upper case W */
    assert_int_equal(g.r[5].op, 0); /* upper case R, an optional sixth field ignored */
    assert_int_equal(g.r[5].t_ns, 35123000);
    assert_int_equal(g.r[5].bytes, 8192);
}

static void test_unknown_ops_and_empty_sizes_are_counted(void **state)
{
    (void)state;
    got_t g;
    read_all(fixture("alibaba.csv"), "alibaba", &g);
    assert_int_equal(g.st.unknown, 1); /* opcode X */
    read_all(fixture("tencent_cbs.csv"), "tencent-cbs", &g);
    assert_int_equal(g.st.unknown, 1); /* IOType 2 */
    read_all(fixture("spc.spc"), "spc", &g);
    assert_int_equal(g.st.skipped, 1); /* size 0 */
    assert_int_equal(g.st.unknown, 0);
}

static void test_header_lines_are_skipped(void **state)
{
    (void)state;
    static const struct {
        const char *fmt, *text;
    } cases[] = {
        {"alibaba", "device_id,opcode,offset,length,timestamp\n3,R,0,4096,1000\n"},
        {"tencent-cbs", "Timestamp,Offset,Size,IOType,VolumeID\n1538323200,0,8,0,7\n"},
        {"spc", "ASU,LBA,Size,Opcode,Timestamp\n0,0,512,r,0.5\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tu_write(g_dir, "h.csv", cases[i].text);
        got_t g;
        read_all(tu_path(g_dir, "h.csv"), cases[i].fmt, &g);
        assert_int_equal(g.rc, 0);
        assert_int_equal(g.n, 1);
        assert_int_equal(g.st.skipped, 1);
        unlink(tu_path(g_dir, "h.csv"));
    }
}

static void assert_fails_at(const char *path, const char *fmt, const char *where,
                            const char *why)
{
    got_t g;
    read_all(path, fmt, &g);
    assert_true(g.rc < 0);
    if (!strstr(g.err, where) || !strstr(g.err, why))
        fail_msg("error '%s' lacks '%s' / '%s'", g.err, where, why);
}

static void test_malformed_lines_name_file_and_line(void **state)
{
    (void)state;
    assert_fails_at(fixture("alibaba_bad.csv"), "alibaba", "alibaba_bad.csv:3: ", "offset");
    assert_fails_at(fixture("tencent_cbs_bad.csv"), "tencent-cbs", "tencent_cbs_bad.csv:2: ",
                    "IOType");
    assert_fails_at(fixture("spc_bad.spc"), "spc", "spc_bad.spc:2: ", "Timestamp");
    /* field counts, range limits and the other formats' files */
    assert_fails_at(fixture("spc.spc"), "alibaba", "spc.spc:1: ", "length");
    assert_fails_at(fixture("alibaba.csv"), "tencent-cbs", "alibaba.csv:1: ", "Offset");
    assert_fails_at(fixture("msr.csv"), "spc", "msr.csv:1: ", "ASU");
    tu_write(g_dir, "b.csv", "1,R,0,4096,1000,7\n");
    assert_fails_at(tu_path(g_dir, "b.csv"), "alibaba", "b.csv:1: ", "got 5+");
    tu_write(g_dir, "b.csv", "4294967296,R,0,4096,1000\n");
    assert_fails_at(tu_path(g_dir, "b.csv"), "alibaba", "b.csv:1: ", "device_id");
    tu_write(g_dir, "b.csv", "1538323200,0,4194304,0,1\n");
    assert_fails_at(tu_path(g_dir, "b.csv"), "tencent-cbs", "b.csv:1: ", "Size");
    tu_write(g_dir, "b.csv", "0,0,512,r\n");
    assert_fails_at(tu_path(g_dir, "b.csv"), "spc", "b.csv:1: ", "at least 5");
    tu_write(g_dir, "b.csv", "0,0,512,r,.5\n");
    assert_fails_at(tu_path(g_dir, "b.csv"), "spc", "b.csv:1: ", "Timestamp");
    unlink(tu_path(g_dir, "b.csv"));
}

/* `latsurf import FMT FIXTURE --out OUT EXTRA`: exit code, stderr in out */
static int import(const char *fmt, const char *in, const char *extra, char *out, size_t n)
{
    char args[2048];
    snprintf(args, sizeof(args), "import %s %s --out %s %s", fmt, in, tu_path(g_dir, "o.jsonl"),
             extra);
    return tu_cli(g_dir, args, out, n);
}

static void test_import_matches_reader(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"alibaba", "alibaba.csv"}, {"tencent-cbs", "tencent_cbs.csv"}, {"spc", "spc.spc"}};
    char out[4096];
    for (size_t i = 0; i < 3; i++) {
        if (import(cases[i][0], fixture(cases[i][1]), "", out, sizeof(out)) != 0)
            fail_msg("import %s: %s", cases[i][1], out);
        got_t a, b;
        read_all(fixture(cases[i][1]), cases[i][0], &a);
        read_all(tu_path(g_dir, "o.jsonl"), "jsonl", &b);
        assert_int_equal(b.rc, 0);
        assert_int_equal(a.n, b.n);
        for (int k = 0; k < a.n; k++)
            tu_same_request(&a.r[k], &b.r[k]);
        unlink(tu_path(g_dir, "o.jsonl"));
    }
}

static void test_import_malformed_exits_2_and_writes_nothing(void **state)
{
    (void)state;
    static const char *const cases[][3] = {{"alibaba", "alibaba_bad.csv", "alibaba_bad.csv:3: "},
                                           {"tencent-cbs", "tencent_cbs_bad.csv",
                                            "tencent_cbs_bad.csv:2: "},
                                           {"spc", "spc_bad.spc", "spc_bad.spc:2: "}};
    char out[4096];
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(import(cases[i][0], fixture(cases[i][1]), "", out, sizeof(out)), 2);
        if (!strstr(out, cases[i][2]))
            fail_msg("stderr lacks '%s': %s", cases[i][2], out);
        assert_int_equal(tu_dir_entries(g_dir), 0); /* no output, no temporary file */
    }
}

static void test_select_one_flow(void **state)
{
    (void)state;
    trace_select_t sel = {.one_flow = true, .flow = 1283, .to_ns = UINT64_MAX};
    got_t g;
    read_sel(fixture("tencent_cbs.csv"), "tencent-cbs", &sel, &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].flow, 1283);
    assert_int_equal(g.r[0].id, 0);        /* renumbered */
    assert_int_equal(g.r[0].t_ns, 0);      /* re-timed from the first kept request */
    assert_int_equal(g.r[1].id, 1);
    assert_int_equal(g.r[1].t_ns, 1000000000);
    assert_int_equal(g.st.records, 2);
    assert_int_equal(g.st.unselected, 3);
}

static void test_select_time_window(void **state)
{
    (void)state;
    /* spc.spc requests at 0, 0, 26.214, 26.682, 30, 35.123 ms: keep [26.5 ms, 35 ms) */
    trace_select_t sel = {.from_ns = 26500000, .to_ns = 35000000};
    got_t g;
    read_sel(fixture("spc.spc"), "spc", &sel, &g);
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].t_ns, 0);
    assert_int_equal(g.r[0].line, 4);
    assert_int_equal(g.r[1].t_ns, 30000000 - 26682000);
    assert_int_equal(g.st.span_ns, 30000000 - 26682000);
    assert_int_equal(g.st.unselected, 4);
}

static void test_select_refuses_closed_loop_records(void **state)
{
    (void)state;
    tu_write(g_dir, "c.jsonl", "{\"id\":0,\"t_ns\":0}\n{\"id\":1,\"after\":[0]}\n");
    trace_select_t sel = {.one_flow = true, .flow = 0, .to_ns = UINT64_MAX};
    got_t g;
    read_sel(tu_path(g_dir, "c.jsonl"), "jsonl", &sel, &g);
    assert_true(g.rc < 0);
    if (!strstr(g.err, "c.jsonl:2: ") || !strstr(g.err, "closed-loop"))
        fail_msg("unexpected error: %s", g.err);
    /* without a selection the same file reads */
    read_all(tu_path(g_dir, "c.jsonl"), "jsonl", &g);
    assert_int_equal(g.rc, 0);
    unlink(tu_path(g_dir, "c.jsonl"));
}

static void test_import_flow_and_window(void **state)
{
    (void)state;
    char out[4096];
    int rc = import("alibaba", fixture("alibaba.csv"), "--flow 2 --from 0.0001 --to=0.002", out,
                    sizeof(out));
    if (rc != 0)
        fail_msg("import: %s", out);
    assert_non_null(strstr(out, ": 2 requests"));
    assert_non_null(strstr(out, "3 requests outside the selection"));
    got_t g;
    read_all(tu_path(g_dir, "o.jsonl"), "jsonl", &g);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.r[0].op, 1);          /* the write at 0.218 ms */
    assert_int_equal(g.r[1].t_ns, 1549000); /* 1.767 ms - 0.218 ms */
    unlink(tu_path(g_dir, "o.jsonl"));
}

static void test_import_selection_errors(void **state)
{
    (void)state;
    char out[4096];
    const char *in = fixture("alibaba.csv");
    assert_int_equal(import("alibaba", in, "--flow 99", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "select none of its 5 requests"));
    assert_int_equal(import("alibaba", in, "--flow disk2", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--flow"));
    assert_int_equal(import("alibaba", in, "--from 2 --to 1", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--from must be before --to"));
    assert_int_equal(import("alibaba", in, "--from -1", out, sizeof(out)), 2);
    assert_int_equal(import("alibaba", in, "--to", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "usage"));
    assert_int_equal(tu_dir_entries(g_dir), 0);
}

/* The trace workload with a selection, on a path that completes every
 * request 1 us after submission. */
typedef struct {
    sim_t *sim;
    uint64_t n;
    uint32_t flows[8];
    sim_time_t issue[8];
} fake_t;

static void fake_done(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    req_t *r = ctx;
    r->t[T_READY] = sim_now(sim);
    r->done(sim, r);
}

static void fake_submit(void *path, req_t *r)
{
    fake_t *f = path;
    if (f->n < 8) {
        f->flows[f->n] = r->flow;
        f->issue[f->n] = r->t[T_ISSUE];
    }
    f->n++;
    sim_after(f->sim, 1000, fake_done, r, 0);
}

/* Parse a trace entry; 0, or the error with the message in err. */
static int parse_entry(const char *json, void **params, char *err, size_t n)
{
    return tu_wl_parse("trace", json, params, err, n);
}

static void test_workload_replays_the_selection(void **state)
{
    (void)state;
    char json[1400], err[800];
    snprintf(json, sizeof(json),
             "{\"path\":\"%s\",\"format\":\"tencent-cbs\",\"flow\":1063,\"from_s\":0,"
             "\"to_s\":2.5}", fixture("tencent_cbs.csv"));
    void *params = NULL, *inst = NULL;
    if (parse_entry(json, &params, err, sizeof(err)) != 0)
        fail_msg("parse: %s", err);
    const wl_ops_t *ops = wl_find("trace");
    fake_t f = {.sim = sim_new()};
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = f.sim, .pool = pool, .seed = 1, .ncpus = 2, .end = SIM_MS(10000),
                    .submit = fake_submit, .path = &f};
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(f.sim, SIM_MS(10000));
    assert_int_equal(f.n, 2); /* volume 1063's two requests; 4050 is another volume */
    assert_int_equal(f.flows[0], 1063);
    assert_int_equal(f.flows[1], 1063);
    assert_int_equal(f.issue[1], f.issue[0]);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(f.sim);
}

static void test_workload_selection_errors(void **state)
{
    (void)state;
    char json[1400], err[800];
    void *params = NULL;
    snprintf(json, sizeof(json), "{\"path\":\"%s\",\"format\":\"spc\",\"flow\":9}",
             fixture("spc.spc"));
    /* found as the run reads the trace: the run fails as bad input */
    if (parse_entry(json, &params, err, sizeof(err)) != 0)
        fail_msg("parse: %s", err);
    const wl_ops_t *ops = wl_find("trace");
    fake_t f = {.sim = sim_new()};
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = f.sim, .pool = pool, .seed = 1, .ncpus = 2, .end = SIM_MS(10000),
                    .submit = fake_submit, .path = &f};
    void *inst = NULL;
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(f.sim, SIM_MS(10000));
    assert_int_equal(sim_error(f.sim), -EINVAL);
    assert_non_null(strstr(sim_error_msg(f.sim), "select none of its 6 requests"));
    assert_int_equal(f.n, 0);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(f.sim);
    snprintf(json, sizeof(json), "{\"path\":\"%s\",\"format\":\"spc\",\"from_s\":2,\"to_s\":1}",
             fixture("spc.spc"));
    assert_int_not_equal(parse_entry(json, &params, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "to_s"));
    snprintf(json, sizeof(json), "{\"path\":\"%s\",\"format\":\"spc\",\"flow\":-1}",
             fixture("spc.spc"));
    assert_int_not_equal(parse_entry(json, &params, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "flow"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alibaba_fields),
        cmocka_unit_test(test_tencent_fields),
        cmocka_unit_test(test_spc_fields),
        cmocka_unit_test(test_unknown_ops_and_empty_sizes_are_counted),
        cmocka_unit_test(test_header_lines_are_skipped),
        cmocka_unit_test(test_malformed_lines_name_file_and_line),
        cmocka_unit_test(test_import_matches_reader),
        cmocka_unit_test(test_import_malformed_exits_2_and_writes_nothing),
        cmocka_unit_test(test_select_one_flow),
        cmocka_unit_test(test_select_time_window),
        cmocka_unit_test(test_select_refuses_closed_loop_records),
        cmocka_unit_test(test_import_flow_and_window),
        cmocka_unit_test(test_import_selection_errors),
        cmocka_unit_test(test_workload_replays_the_selection),
        cmocka_unit_test(test_workload_selection_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
