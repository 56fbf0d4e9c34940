/* test_import.c - `latsurf import` end to end: every format's fixture converts, the output
 * reads back as JSONL with the same requests, the real DiskSim traces import, and a malformed
 * line exits 2 with file:line while leaving no output (not even a temporary file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "workload/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[64];
static char g_err[8192];

/* Run `latsurf import ARGS`; returns the exit code, stderr in g_err. */
static int run_import(const char *args)
{
    const char *bin = getenv("LATSURF_BIN");
    if (!bin)
        bin = "./latsurf";
    char cmd[4096], errf[128];
    snprintf(errf, sizeof(errf), "%s/stderr.txt", g_dir);
    snprintf(cmd, sizeof(cmd), "%s import %s 2>%s", bin, args, errf);
    int st = system(cmd);
    FILE *f = fopen(errf, "r");
    size_t n = f ? fread(g_err, 1, sizeof(g_err) - 1, f) : 0;
    g_err[n] = '\0';
    if (f)
        fclose(f);
    unlink(errf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/latsurf-import-XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", g_dir) == 0 ? 0 : -1;
}

/* What an import must keep of each request: the request and its service time and class. */
static void same_imported(const trace_rec_t *r, const trace_rec_t *s)
{
    tu_same_request(r, s);
    assert_int_equal(r->service_ns, s->service_ns);
    assert_int_equal(r->cls, s->cls);
}

/* Import FIXTURE as FMT, then check the output has `want` requests equal to the reader's. */
static void import_ok(const char *in, const char *fmt, uint64_t want)
{
    char args[2048], out[128], err[600];
    snprintf(out, sizeof(out), "%s/out.jsonl", g_dir);
    snprintf(args, sizeof(args), "%s %s --out %s", fmt, in, out);
    int rc = run_import(args);
    if (rc != 0)
        fail_msg("import %s: exit %d: %s", in, rc, g_err);
    char want_s[64];
    snprintf(want_s, sizeof(want_s), ": %llu requests", (unsigned long long)want);
    if (!strstr(g_err, want_s))
        fail_msg("summary lacks '%s': %s", want_s, g_err);
    trace_reader_t *a, *b;
    assert_int_equal(trace_open(in, fmt, &a, err, sizeof(err)), 0);
    assert_int_equal(trace_open(out, "jsonl", &b, err, sizeof(err)), 0);
    assert_int_equal(tu_trace_pairs(a, b, same_imported), want);
    trace_close(a);
    trace_close(b);
    unlink(out);
}

static void test_formats(void **state)
{
    (void)state;
    import_ok(tu_src("tests/fixtures/traces/fio_v2.log"), "fio-iolog", 4);
    import_ok(tu_src("tests/fixtures/traces/fio_v3.log"), "fio-iolog", 3);
    import_ok(tu_src("tests/fixtures/traces/blkparse.txt"), "blkparse", 4);
    import_ok(tu_src("tests/fixtures/traces/msr.csv"), "msr-csv", 3);
    import_ok(tu_src("tests/fixtures/traces/disksim.trace"), "disksim", 3);
    assert_non_null(strstr(g_err, "1 unknown actions"));
}

static void test_real_traces(void **state)
{
    (void)state;
    import_ok(tu_src("scenarios/traces/tpcc-small.trace"), "disksim", 6999);
    import_ok(tu_src("scenarios/traces/wsrch-small.trace"), "disksim", 24783);
    assert_non_null(strstr(g_err, "span 60.055"));
}

static void import_bad(const char *fixture, const char *fmt, const char *where)
{
    char args[2048], out[128];
    snprintf(out, sizeof(out), "%s/bad.jsonl", g_dir);
    snprintf(args, sizeof(args), "%s %s --out %s", fmt, tu_src("%s", fixture), out);
    int rc = run_import(args);
    if (rc != 2)
        fail_msg("%s: exit %d, want 2: %s", fixture, rc, g_err);
    const char *base = strrchr(fixture, '/') + 1;
    char want[256];
    snprintf(want, sizeof(want), "%s:%s: ", base, where);
    if (!strstr(g_err, want))
        fail_msg("stderr lacks '%s': %s", want, g_err);
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(tu_dir_entries(g_dir), 0); /* no temporary file left either */
}

static void test_malformed(void **state)
{
    (void)state;
    import_bad("tests/fixtures/traces/fio_bad.log", "fio-iolog", "5");
    import_bad("tests/fixtures/traces/fio_badoffset.log", "fio-iolog", "3");
    import_bad("tests/fixtures/traces/blkparse_bad.txt", "blkparse", "3");
    import_bad("tests/fixtures/traces/msr_bad.csv", "msr-csv", "3");
    import_bad("tests/fixtures/traces/disksim_bad.trace", "disksim", "2");
    /* the wrong format for a file fails on its first line */
    import_bad("tests/fixtures/traces/msr.csv", "disksim", "1");
    /* an existing output is left alone on failure */
    char out[128], args[2048];
    snprintf(out, sizeof(out), "%s/keep.jsonl", g_dir);
    FILE *f = fopen(out, "w");
    fputs("old\n", f);
    fclose(f);
    snprintf(args, sizeof(args), "disksim %s --out %s",
             tu_src("tests/fixtures/traces/disksim_bad.trace"), out);
    assert_int_equal(run_import(args), 2);
    char buf[16] = "";
    f = fopen(out, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "old\n");
    unlink(out);
}

static void test_usage_errors(void **state)
{
    (void)state;
    char args[2048];
    snprintf(args, sizeof(args), "tarball x --out %s/o.jsonl", g_dir);
    assert_int_equal(run_import(args), 2);
    assert_non_null(strstr(g_err, "unknown format"));
    snprintf(args, sizeof(args), "disksim %s/missing.trace --out %s/o.jsonl", g_dir, g_dir);
    assert_int_equal(run_import(args), 2);
    assert_non_null(strstr(g_err, "missing.trace: cannot open"));
    assert_int_equal(run_import("disksim x"), 2);
    assert_non_null(strstr(g_err, "usage"));
    assert_int_equal(tu_dir_entries(g_dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_real_traces),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_usage_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
