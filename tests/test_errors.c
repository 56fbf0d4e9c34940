/*
 * test_errors.c - the error policy (docs/design.md, "Error policy"): a failure on the event
 * path sets the engine's sticky error and stops the run; the runner returns it; `latsurf run`
 * exits 1 with the message and writes no row for that run; workloads and trace replay report
 * through that path and print nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "run/runner.h"
#include "run/scenario.h"
#include "reports/db.h"
#include "workload/workload.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/latsurf-err-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", tmpdir);
}

/* --- the engine --- */

typedef struct {
    int ran[4];
} tick_t;

static void tick(sim_t *sim, void *ctx, uint64_t arg)
{
    tick_t *t = ctx;
    t->ran[arg]++;
    if (arg == 1)
        sim_fail(sim, -ENOMEM, "boom %d", 7);
}

/* Events at 10, 20, 30 ns; the one at 20 fails: the one at 30 never runs and the clock stays
 * at the failure. */
static void test_fail_stops_run(void **state)
{
    (void)state;
    sim_t *sim = sim_new();
    tick_t t = {{0}};
    for (uint64_t i = 0; i < 3; i++)
        sim_at(sim, 10 * (i + 1), tick, &t, i);
    assert_int_equal(sim_error(sim), 0);
    assert_string_equal(sim_error_msg(sim), "");
    assert_int_equal(sim_run(sim, 1000), 2);
    assert_int_equal(t.ran[0], 1);
    assert_int_equal(t.ran[1], 1);
    assert_int_equal(t.ran[2], 0);
    assert_int_equal(sim_now(sim), 20);
    assert_int_equal(sim_error(sim), -ENOMEM);
    assert_string_equal(sim_error_msg(sim), "boom 7");
    sim_free(sim);
}

static void test_first_failure_wins(void **state)
{
    (void)state;
    sim_t *sim = sim_new();
    assert_int_equal(sim_fail(sim, -EINVAL, "first"), -EINVAL);
    assert_int_equal(sim_fail(sim, -ENOMEM, "second"), -ENOMEM);
    assert_int_equal(sim_error(sim), -EINVAL);
    assert_string_equal(sim_error_msg(sim), "first");
    sim_free(sim);
}

/* A failure before sim_run (a workload's start) or a second sim_run after one: nothing runs
 * and the clock does not move. */
static void test_failed_run_stays_stopped(void **state)
{
    (void)state;
    sim_t *sim = sim_new();
    tick_t t = {{0}};
    sim_at(sim, 5, tick, &t, 0);
    sim_fail(sim, -EIO, "before the run");
    assert_int_equal(sim_run(sim, 1000), 0);
    assert_int_equal(sim_run(sim, 2000), 0);
    assert_int_equal(t.ran[0], 0);
    assert_int_equal(sim_now(sim), 0);
    sim_free(sim);
}

/* --- workloads on a path that never completes --- */

typedef struct {
    sim_t *sim;
    uint64_t n;
} hold_t;

static void hold_submit(void *path, req_t *r)
{
    (void)r;
    ((hold_t *)path)->n++; /* kept in flight until the pool is freed */
}

static int parse_entry(const char *json, const wl_ops_t **ops, void **params)
{
    json_error_t je;
    json_t *e = json_loads(json, 0, &je);
    assert_non_null(e);
    cfg_t c;
    cfg_init(&c, "scenario.json");
    json_t *type = json_object_get(e, "type");
    *ops = wl_find(json_string_value(type));
    assert_non_null(*ops);
    json_object_del(e, "type");
    int rc = (*ops)->parse(&c, e, params);
    if (rc)
        print_error("%s\n", c.err);
    json_decref(e);
    return rc;
}

/* The request pool's in-flight limit (the runner's guard against overload) refuses the 9th
 * request: the run stops right there with the sticky error, and every request the pool handed
 * out reached the path. */
static void test_pool_limit_fails_run(void **state)
{
    (void)state;
    const wl_ops_t *ops;
    void *params, *inst = NULL;
    assert_int_equal(parse_entry("{\"type\":\"poisson\",\"rate_iops\":1e6}", &ops, &params), 0);
    hold_t h = {.sim = sim_new()};
    req_pool_t *pool = req_pool_new();
    req_pool_set_limit(pool, 8);
    wl_env_t env = {.sim = h.sim, .pool = pool, .seed = 1, .ncpus = 2, .end = SIM_MS(10),
                    .submit = hold_submit, .path = &h};
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(h.sim, SIM_MS(10));
    assert_int_equal(sim_error(h.sim), -EOVERFLOW);
    assert_non_null(strstr(sim_error_msg(h.sim), "workload.0"));
    assert_non_null(strstr(sim_error_msg(h.sim), "in flight"));
    assert_true(sim_now(h.sim) < SIM_MS(1)); /* stopped at the refusal, not at the end */
    assert_int_equal(h.n, 8);
    assert_int_equal(req_pool_live(pool), 8);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(h.sim);
}

/* --- trace replay: reported through the error path, never printed --- */

typedef struct {
    int saved;
    FILE *tmp;
} capture_t;

static void capture_begin(capture_t *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    assert_non_null(c->tmp);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(fileno(c->tmp), STDERR_FILENO) >= 0);
}

/* Restores stderr; returns how many bytes were written to it meanwhile. */
static long capture_end(capture_t *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    fseek(c->tmp, 0, SEEK_END);
    long n = ftell(c->tmp);
    fclose(c->tmp);
    return n;
}

static const char *good_trace = "{\"id\":0,\"t_ns\":0}\n"
                                "{\"id\":1,\"t_ns\":1000000}\n"
                                "{\"id\":2,\"t_ns\":2000000}\n";

/* Write good_trace to tmpdir/name and parse a trace entry replaying it; the file's path. */
static const char *parse_good_trace(const char *name, const wl_ops_t **ops, void **params)
{
    tu_write(tmpdir, name, good_trace);
    const char *path = tu_path(tmpdir, name);
    char json[1200];
    snprintf(json, sizeof(json), "{\"type\":\"trace\",\"path\":\"%s\"}", path);
    assert_int_equal(parse_entry(json, ops, params), 0);
    return path;
}

/* The trace is checked when parsed; changed afterwards, the bad line is met during the run.
 * The run fails with file:line and stderr stays empty. */
static void test_replay_error_reported_not_printed(void **state)
{
    (void)state;
    const wl_ops_t *ops;
    void *params, *inst = NULL;
    const char *path = parse_good_trace("changed.jsonl", &ops, &params);
    tu_write(tmpdir, "changed.jsonl", "{\"id\":0,\"t_ns\":0}\n{\"id\":1,\"t_ns\":1000000}\nnot json\n");
    hold_t h = {.sim = sim_new()};
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = h.sim, .pool = pool, .seed = 1, .ncpus = 2, .end = SIM_MS(10),
                    .submit = hold_submit, .path = &h};
    capture_t cap;
    capture_begin(&cap);
    int rc = ops->start(params, &env, &inst);
    sim_run(h.sim, SIM_MS(10));
    long printed = capture_end(&cap);
    assert_int_equal(rc, 0);
    assert_int_equal(printed, 0);
    assert_int_equal(sim_error(h.sim), -EINVAL);
    char where[1100];
    snprintf(where, sizeof(where), "%s:3", path);
    if (!strstr(sim_error_msg(h.sim), where) || !strstr(sim_error_msg(h.sim), "workload.0"))
        fail_msg("message does not name workload.0 and %s: %s", where, sim_error_msg(h.sim));
    assert_int_equal(h.n, 2); /* the records before the bad line were issued */
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(h.sim);
}

/* The trace is gone by the time the run starts: start fails, the message (naming the file)
 * is left on the error path, nothing is printed. */
static void test_replay_start_error_reported_not_printed(void **state)
{
    (void)state;
    const wl_ops_t *ops;
    void *params, *inst = NULL;
    const char *path = parse_good_trace("gone.jsonl", &ops, &params);
    assert_int_equal(unlink(path), 0);
    sim_t *sim = sim_new();
    req_pool_t *pool = req_pool_new();
    hold_t h = {.sim = sim};
    wl_env_t env = {.sim = sim, .pool = pool, .seed = 1, .ncpus = 2, .end = SIM_MS(10),
                    .submit = hold_submit, .path = &h};
    capture_t cap;
    capture_begin(&cap);
    int rc = ops->start(params, &env, &inst);
    long printed = capture_end(&cap);
    assert_true(rc < 0);
    assert_null(inst);
    assert_int_equal(printed, 0);
    assert_int_equal(sim_error(sim), rc);
    if (!strstr(sim_error_msg(sim), "gone.jsonl"))
        fail_msg("message does not name the trace: %s", sim_error_msg(sim));
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(sim);
}

/* --- the runner --- */

/* A replay that fails half way: runner_run returns the error with the scenario file and the
 * failure, and the result holds no metrics. */
static void test_runner_returns_sticky_error(void **state)
{
    (void)state;
    tu_write(tmpdir, "run.jsonl", good_trace);
    char json[1400];
    snprintf(json, sizeof(json),
             "{\"name\":\"e\",\"host\":{\"cpus\":2},\"workload\":[{\"type\":\"trace\","
             "\"path\":\"%s\"}],\"run\":{\"duration_ms\":10,\"warmup_ms\":0}}",
             tu_path(tmpdir, "run.jsonl"));
    tu_write(tmpdir, "replay.json", json);
    scn_t *s = NULL;
    char err[1024] = "";
    if (scn_load(tu_path(tmpdir, "replay.json"), NULL, 0, &s, err, sizeof(err)) != 0)
        fail_msg("scn_load: %s", err);
    tu_write(tmpdir, "run.jsonl", "{\"id\":0,\"t_ns\":0}\n{\"id\":1,\"t_ns\":1000000}\nnot json\n");
    result_t res;
    result_init(&res);
    int rc = runner_run(s, 0, 0, NULL, &res, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    if (!strstr(err, "replay.json") || !strstr(err, "run.jsonl:3"))
        fail_msg("message does not name the scenario and the trace line: %s", err);
    assert_int_equal(res.nmetric, 0);
    result_fini(&res);
    scn_free(s);
}

/* A result that lost an add (out of memory) is never written. */
static void test_incomplete_result_not_written(void **state)
{
    (void)state;
    char *dberr = NULL;
    sqlite3 *db = db_open(tu_path(tmpdir, "incomplete.sqlite"), &dberr);
    assert_non_null(db);
    result_t res;
    result_init(&res);
    result_set(&res, "lat_p50_ns", 1);
    res.error = -ENOMEM;
    db_run_info_t info = {.scenario = "x", .variant = "v", .mode = "sim", .host = "h",
                          .version = "t"};
    assert_true(db_write_run(db, &info, &res, &dberr) < 0);
    assert_non_null(dberr);
    sqlite3_free(dberr);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &st, NULL), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    result_fini(&res);
    db_close(db);
}

/* --- the CLI --- */

static int count_runs(const char *name)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(tu_path(tmpdir, name), &db, SQLITE_OPEN_READONLY, NULL), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &st, NULL), 0);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/* An overloaded run under a 48 MiB data limit runs out of memory on the event path (long
 * before the pool's in-flight guard): exit 1 naming the scenario, and the database keeps the
 * earlier run and gains none. */
static void test_cli_failed_run_exit_1_no_row(void **state)
{
    (void)state;
#ifdef TEST_ASAN
    skip(); /* ASan reserves terabytes of shadow memory: no data limit fits it */
#endif
    char out[4096];
    tu_write(tmpdir, "ok.json",
             "{\"name\":\"oom\",\"host\":{\"cpus\":4},\"run\":{\"duration_ms\":5,"
             "\"warmup_ms\":1,\"replications\":1}}");
    tu_write(tmpdir, "over.json",
             "{\"name\":\"oom\",\"host\":{\"cpus\":4},\"workload\":[{\"type\":\"poisson\","
             "\"rate_iops\":1e9}],\"run\":{\"duration_ms\":20,\"warmup_ms\":1,"
             "\"replications\":1}}");
    if (tu_cli(tmpdir, "run ok.json --db oom.sqlite -q", out, sizeof(out)) != 0)
        fail_msg("first run failed: %s", out);
    assert_int_equal(count_runs("oom.sqlite"), 1);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "ulimit -d 49152 && '%s' run over.json --db oom.sqlite -q",
             tu_bin());
    int rc = tu_sh(tmpdir, cmd, out, sizeof(out));
    if (rc != 1 || !strstr(out, "over.json") || !strstr(out, "out of memory"))
        fail_msg("rc=%d, want 1 and \"over.json\" ... \"out of memory\" in: %s", rc, out);
    assert_int_equal(count_runs("oom.sqlite"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_stops_run),
        cmocka_unit_test(test_first_failure_wins),
        cmocka_unit_test(test_failed_run_stays_stopped),
        cmocka_unit_test(test_pool_limit_fails_run),
        cmocka_unit_test(test_replay_error_reported_not_printed),
        cmocka_unit_test(test_replay_start_error_reported_not_printed),
        cmocka_unit_test(test_runner_returns_sticky_error),
        cmocka_unit_test(test_incomplete_result_not_written),
        cmocka_unit_test(test_cli_failed_run_exit_1_no_row),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
