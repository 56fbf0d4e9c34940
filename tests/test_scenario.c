/*
 * test_scenario.c - scenario loading: defaults, --set by dotted path,
 * per-variant sets, and bad input. Every bad-input case runs the real
 * binary and checks exit code 2 and a message naming the file and place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "run/runner.h"
#include "run/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/latsurf-scn-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    tu_write(tmpdir, name, text);
    return tu_path(tmpdir, name);
}

static int run_cli(const char *args, char *out, size_t n)
{
    return tu_cli(tmpdir, args, out, n);
}

static const char *base =
    "{\"name\":\"t\",\"host\":{\"cpus\":4},\"workload\":[{\"type\":\"poisson\",\"rate_iops\":1000}],"
    "\"run\":{\"duration_ms\":5,\"warmup_ms\":1,\"replications\":1}}";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

static void test_defaults(void **state)
{
    (void)state;
    const char *f = write_file("min.json", "{}");
    scn_t *s;
    char err[512];
    assert_int_equal(scn_load(f, NULL, 0, &s, err, sizeof(err)), 0);
    assert_string_equal(s->name, "min");
    assert_int_equal(s->nvar, 1);
    assert_string_equal(s->var[0].pol.name, "baseline");
    assert_int_equal(s->var[0].host.cpus, 16);
    assert_int_equal(s->var[0].ndev, 1);
    assert_int_equal(s->var[0].dev[0].queues, 16);
    assert_int_equal(s->run.replications, 5);
    assert_true(s->run.duration_ms == 1000 && s->run.warmup_ms == 100);
    scn_free(s);
}

static void test_set_paths(void **state)
{
    (void)state;
    const char *f = write_file("set.json", base);
    char *sets[] = {"host.cpus=8", "run.duration_ms=200", "devices.0.queues=2",
                    "devices.0.irq_coalescing.time_us=200", "name=renamed"};
    scn_t *s;
    char err[512];
    if (scn_load(f, sets, 5, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(s->var[0].host.cpus, 8);
    assert_true(s->run.duration_ms == 200);
    assert_int_equal(s->var[0].dev[0].queues, 2);
    assert_true(s->var[0].dev[0].coalesce_time_us == 200);
    assert_string_equal(s->name, "renamed"); /* not JSON: taken as a string */
    scn_free(s);
}

static void test_variant_set(void **state)
{
    (void)state;
    const char *f = write_file("vset.json",
        "{\"host\":{\"cpus\":4},\"variants\":[{\"name\":\"a\"},"
        "{\"name\":\"b\",\"affinity\":\"consumer\",\"set\":{\"host.rq_affinity\":2}}]}");
    scn_t *s;
    char err[512];
    assert_int_equal(scn_load(f, NULL, 0, &s, err, sizeof(err)), 0);
    assert_int_equal(s->nvar, 2);
    assert_int_equal(s->var[0].host.rq_affinity, 1);
    assert_int_equal(s->var[1].host.rq_affinity, 2);
    assert_int_equal(s->var[1].pol.affinity, POL_AFF_CONSUMER);
    assert_string_equal(s->run.baseline, "a");
    scn_free(s);
}

typedef struct {
    const char *file_text; /* NULL: use base */
    const char *args;      /* extra CLI args */
    const char *expect;    /* substring the message must hold */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"{\"name\": \"x\",\n \"host\": {\"cpus\": 4,}\n}", "", ":2:"},            /* malformed JSON */
    {"{\"name\":\"x\",\"hots\":{}}", "", "hots: unknown key"},
    {"{\"host\":{\"cpus\":4,\"cpu\":2}}", "", "host.cpu: unknown key"},
    {"{\"host\":{\"cpus\":\"four\"}}", "", "host.cpus: expected an integer"},
    {"{\"run\":{\"duration_ms\":-5}}", "", "run.duration_ms: expected a number"},
    {"{\"host\":{\"cpus\":0}}", "", "host.cpus"},
    {"{\"host\":{\"cpus\":100000}}", "", "host.cpus"},
    {"{\"devices\":[{\"type\":\"sata\"}]}", "", "devices.0.type"},
    {"{\"devices\":[{\"flash\":{\"read_us\":-1}}]}", "", "devices.0.flash.read_us"},
    {"{\"devices\":{}}", "", "devices: expected an array"},
    {"{\"workload\":[{\"type\":\"nope\"}]}", "", "workload.0.type"},
    {"{\"workload\":[{\"rate_iops\":5}]}", "", "workload.0: missing \"type\""},
    {"{\"workload\":[{\"type\":\"poisson\",\"rate\":5}]}", "", "workload.0.rate: unknown key"},
    {"{\"variants\":[{\"name\":\"a\",\"affinity\":\"everywhere\"}]}", "", "variants.0.affinity"},
    {"{\"variants\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "", "variants.1"},
    {"{\"variants\":[{\"mode\":\"latency\"}]}", "", "variants.0"},
    {"{\"run\":{\"duration_ms\":10,\"warmup_ms\":20}}", "", "run.warmup_ms"},
    {"{\"run\":{\"replications\":0}}", "", "run.replications"},
    {"{\"run\":{\"baseline\":\"zzz\"}}", "", "run.baseline"},
    {"[1,2]", "", "expected an object"},
    /* overload: the backlog is refused instead of growing memory */
    {"{\"workload\":[{\"type\":\"poisson\",\"rate_iops\":1e9}],"
     "\"run\":{\"duration_ms\":20,\"warmup_ms\":1,\"replications\":1}}",
     "", "requests in flight"},
    {NULL, "--set devices.7.queues=2", "devices"},
    {NULL, "--set host.cpus=-3", "host.cpus"},
    {NULL, "--set run.duration_ms=fast", "run.duration_ms"},
    {NULL, "--set nosuch=1", "nosuch: unknown key"},
    {NULL, "--set =1", "--set"},
    {NULL, "--reps 0", "--reps"},
};

/* One case of bad_cases[] (the test's state): exit 2 and the message. */
/* One run of rdma.json's only variant, with the workload's "rdma" key set
 * to mark: what comes back is the result (caller frees). */
static void run_rdma(bool mark, result_t *res)
{
    const char *f = write_file(
        "rdma.json",
        "{\"name\":\"rdma\",\"host\":{\"cpus\":2,\"rdma\":{\"latency_us\":20}},"
        "\"workload\":[{\"type\":\"kvcache\",\"rate_rps\":2000,\"blocks\":4,\"block_bytes\":4096,"
        "\"hit_ratio\":0,\"prefixes\":16,\"gpu\":-1,\"consumer_cpu\":0}],"
        "\"variants\":[{\"name\":\"cache\",\"registration\":\"cache\"}],"
        "\"run\":{\"duration_ms\":20,\"warmup_ms\":2,\"replications\":1}}");
    char *sets[] = {mark ? "workload.0.rdma=true" : "workload.0.rdma=false"};
    scn_t *s;
    char err[512];
    if (scn_load(f, sets, 1, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_true(s->var[0].wl[0].rdma == mark);
    result_init(res);
    if (runner_run(s, 0, 0, NULL, res, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_true(res->requests > 100);
    scn_free(s);
}

static double metric(const result_t *r, const char *name)
{
    double x;
    return result_get(r, name, &x) == 0 ? x : NAN;
}

/* A workload entry's "rdma": true sends its requests through the RDMA
 * continuation (models/cont.c, models/rdma.c): their bytes reach the peer
 * at least the one-way latency (20 us) after t_ready, and the registration
 * policy is asked for each (cache: the kvcache's recurring block buffers
 * hit). Unmarked, the same requests end at t_ready and never register. */
static void test_workload_rdma_marks(void **state)
{
    (void)state;
    result_t on, off;
    run_rdma(true, &on);
    run_rdma(false, &off);
    double cont_on = metric(&on, "e2e_mean_ns") - metric(&on, "lat_mean_ns");
    double cont_off = metric(&off, "e2e_mean_ns") - metric(&off, "lat_mean_ns");
    assert_true(cont_on >= 20000);
    assert_true(cont_off == 0);
    assert_true(metric(&on, "registration_hit_rate") > 0.5);
    assert_true(isnan(metric(&off, "registration_hit_rate"))); /* no lookups: not reported */
    result_fini(&on);
    result_fini(&off);
}

static void test_bad_input_exit_2(void **state)
{
    const bad_case_t *c = *state;
    size_t i = (size_t)(c - bad_cases);
    char out[4096], name[32], args[1024];
    snprintf(name, sizeof(name), "bad%zu.json", i);
    write_file(name, c->file_text ? c->file_text : base);
    snprintf(args, sizeof(args), "run %s --db out.sqlite -q %s", name, c->args);
    int rc = run_cli(args, out, sizeof(out));
    if (rc != 2 || !strstr(out, c->expect))
        fail_msg("case %zu (%s %s): rc=%d, want 2 and \"%s\" in: %s", i,
                 c->file_text ? c->file_text : "base", c->args, rc, c->expect, out);
    /* messages about the file name it */
    if (c->args[0] == '\0' && !strstr(out, name))
        fail_msg("case %zu: message does not name %s: %s", i, name, out);
}

/* The scenario name is bounded (256 bytes) like the variant names: a
 * longer one exits 2 naming the file and `name`. */
static void test_long_name_exit_2(void **state)
{
    (void)state;
    enum { LONG = 100000 };
    char *text = malloc(LONG + 64), out[4096];
    assert_non_null(text);
    int len = snprintf(text, 64, "{\"name\":\"");
    memset(text + len, 'n', LONG);
    snprintf(text + len + LONG, 64, "\"}");
    write_file("longname.json", text);
    free(text);
    assert_int_equal(run_cli("run longname.json --db out.sqlite -q", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "longname.json: name:"));
    /* 256 bytes is still a name */
    char ok[300];
    len = snprintf(ok, sizeof(ok), "{\"name\":\"");
    memset(ok + len, 'n', 256);
    snprintf(ok + len + 256, sizeof(ok) - (size_t)len - 256, "\"}");
    const char *f = write_file("name256.json", ok);
    scn_t *s;
    char err[512];
    if (scn_load(f, NULL, 0, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(strlen(s->name), 256);
    scn_free(s);
}

static void test_missing_file(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(run_cli("run does-not-exist.json -q", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "does-not-exist.json"));
}

static void test_bad_run_keeps_db_clean(void **state)
{
    (void)state;
    char out[4096];
    write_file("good.json", base);
    assert_int_equal(run_cli("run good.json --db keep.sqlite -q", out, sizeof(out)), 0);
    write_file("bad.json", "{\"host\":{\"cpus\":-1}}");
    assert_int_equal(run_cli("run bad.json --db keep.sqlite -q", out, sizeof(out)), 2);
    assert_int_equal(run_cli("report keep.sqlite --format csv", out, sizeof(out)), 0);
    assert_non_null(strstr(out, "lat_p99_ns"));
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_paths),
        cmocka_unit_test(test_variant_set),
        cmocka_unit_test(test_workload_rdma_marks),
        cmocka_unit_test(test_long_name_exit_2),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_run_keeps_db_clean),
    };
    enum {
        NFIXED = sizeof(fixed) / sizeof(fixed[0]),
        NCASE = sizeof(bad_cases) / sizeof(bad_cases[0]),
    };
    struct CMUnitTest tests[NFIXED + NCASE];
    memcpy(tests, fixed, sizeof(fixed));
    TU_CASE_TESTS(tests + NFIXED, test_bad_input_exit_2, bad_cases);
    return cmocka_run_group_tests(tests, setup, teardown);
}
