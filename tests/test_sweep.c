/*
 * test_sweep.c - `latsurf sweep`: grid parsing and expansion order, the
 * result wire format, bad grids exiting 2, identical doubles whatever the
 * number of workers (and equal to `latsurf run` of the same point), resuming
 * (a rerun adds nothing; a sweep killed with SIGKILL completes with no
 * duplicates) and MPI ranks giving the same numbers as local workers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "sweep/sweep.h"
#include "sweep/sweep_wire.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/latsurf-sweep-XXXXXX";
static char scn_path[600];

/* Two variants, two replications, ~5 ms of wall time per task. */
static const char *scn_text =
    "{\"name\":\"sw\",\"host\":{\"cpus\":4},"
    "\"workload\":[{\"type\":\"poisson\",\"rate_iops\":20000}],"
    "\"variants\":[{\"name\":\"baseline\"},{\"name\":\"lat\",\"mode\":\"latency\"}],"
    "\"run\":{\"duration_ms\":20,\"warmup_ms\":2,\"replications\":2}}";
static const char *grid_args = "--grid host.cpus=2,4,8 --grid workload.0.rate_iops=10000,40000";
#define GRID_TASKS (3 * 2 * 2 * 2)

static const char *bin(void)
{
    return tu_bin();
}

static const char *path_in(const char *name)
{
    return tu_path(tmpdir, name);
}

/* Run a shell command line in tmpdir; capture stdout+stderr; exit code. */
static int run_sh(const char *cmdline, char *out, size_t n)
{
    return tu_sh(tmpdir, cmdline, out, n);
}

static int run_cli(const char *args, char *out, size_t n)
{
    return tu_cli(tmpdir, args, out, n);
}

/* The first column of the first row, or -1 when there is none or the query
 * fails (a database still being created). */
static int64_t db_int_try(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout(h, 5000);
        if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

static int64_t db_int(const char *db, const char *sql)
{
    int64_t v = db_int_try(db, sql);
    if (v < 0)
        fail_msg("%s: %s: no value", db, sql);
    return v;
}

static void db_exec(const char *db, const char *sql)
{
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    char *e = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &e) != SQLITE_OK)
        fail_msg("%s: %s: %s", db, sql, e);
    sqlite3_close(h);
}

static char *db_text(const char *db, const char *sql)
{
    sqlite3 *h;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    char *v = sqlite3_step(st) == SQLITE_ROW ? strdup((const char *)sqlite3_column_text(st, 0))
                                              : strdup("");
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

/* Every (label, value) row of `sql` equal in both databases, values compared
 * as the bytes of their doubles. Returns the number of rows compared. */
static size_t same_rows(const char *db_a, const char *db_b, const char *sql)
{
    sqlite3 *h[2];
    sqlite3_stmt *st[2];
    const char *dbs[2] = {db_a, db_b};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(sqlite3_open_v2(dbs[i], &h[i], SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(h[i], sql, -1, &st[i], NULL), SQLITE_OK);
    }
    size_t n = 0;
    for (;; n++) {
        int ra = sqlite3_step(st[0]), rb = sqlite3_step(st[1]);
        assert_int_equal(ra, rb);
        if (ra != SQLITE_ROW)
            break;
        const char *ka = (const char *)sqlite3_column_text(st[0], 0);
        const char *kb = (const char *)sqlite3_column_text(st[1], 0);
        assert_string_equal(ka, kb);
        assert_int_equal(sqlite3_column_type(st[0], 1), sqlite3_column_type(st[1], 1));
        double va = sqlite3_column_double(st[0], 1), vb = sqlite3_column_double(st[1], 1);
        if (memcmp(&va, &vb, sizeof(va)) != 0)
            fail_msg("%s: %.17g in %s, %.17g in %s", ka, va, db_a, vb, db_b);
    }
    for (int i = 0; i < 2; i++) {
        sqlite3_finalize(st[i]);
        sqlite3_close(h[i]);
    }
    return n;
}

static const char *q_metrics = "SELECT r.task_key || '/' || m.name, m.value FROM runs r "
                               "JOIN metrics m USING (run_id) ORDER BY 1";
static const char *q_stages = "SELECT r.task_key || '/' || s.stage, s.mean_ns + s.p99_ns * 1e-3 "
                              "+ s.count FROM runs r JOIN stages s USING (run_id) ORDER BY 1";
static const char *q_hist = "SELECT r.task_key || '/' || h.metric || '/' || h.lo_ns, h.count "
                            "FROM runs r JOIN histograms h USING (run_id) ORDER BY 1";

/* Both databases hold the same tasks with the same numbers. */
static void assert_same_results(const char *a, const char *b)
{
    assert_true(same_rows(a, b, q_metrics) >= GRID_TASKS * 10);
    assert_true(same_rows(a, b, q_stages) >= GRID_TASKS);
    assert_true(same_rows(a, b, q_hist) >= GRID_TASKS);
}

/* The one-worker sweep the other tests compare against, made once. */
static const char *reference_db(void)
{
    static int made;
    const char *db = path_in("ref.sqlite");
    if (!made) {
        char out[8192], args[1024];
        snprintf(args, sizeof(args), "sweep sw.json %s --db ref.sqlite --workers 1", grid_args);
        assert_int_equal(run_cli(args, out, sizeof(out)), 0);
        assert_int_equal(db_int(db, "SELECT count(*) FROM runs"), GRID_TASKS);
        made = 1;
    }
    return db;
}

static void test_grid_parse(void **state)
{
    (void)state;
    sweep_grid_t g;
    char err[512];
    assert_int_equal(sweep_grid_parse("a.b=1,2.5,x", &g, err, sizeof(err)), 0);
    assert_string_equal(g.key, "a.b");
    assert_int_equal(g.nval, 3);
    assert_string_equal(g.val[1], "2.5");
    assert_string_equal(g.val[2], "x");
    sweep_grid_free(&g);
    /* commas inside JSON values do not split */
    assert_int_equal(sweep_grid_parse("k=[1,2],{\"a\":[3,4]},\"p,q\",7", &g, err, sizeof(err)), 0);
    assert_int_equal(g.nval, 4);
    assert_string_equal(g.val[0], "[1,2]");
    assert_string_equal(g.val[1], "{\"a\":[3,4]}");
    assert_string_equal(g.val[2], "\"p,q\"");
    assert_string_equal(g.val[3], "7");
    sweep_grid_free(&g);
    const char *bad[] = {"k", "=1,2", "k=", "k=1,,2", "k=1,"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(sweep_grid_parse(bad[i], &g, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "--grid"));
    }
}

static void test_plan_expansion(void **state)
{
    (void)state;
    sweep_plan_t p;
    char err[1024] = "";
    char *grids[] = {"host.cpus=2,4,8", "workload.0.rate_iops=1000,2000"};
    int rc = sweep_plan_load(&p, scn_path, NULL, 0, grids, 2, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(p.npoint, 6);
    assert_int_equal(p.ntask, 6 * 2 * 2);
    /* the last grid varies fastest */
    const char *labels[] = {"host.cpus=2,workload.0.rate_iops=1000",
                            "host.cpus=2,workload.0.rate_iops=2000",
                            "host.cpus=4,workload.0.rate_iops=1000"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(p.point[i].label, labels[i]);
    assert_string_equal(p.point[5].name, "sw[host.cpus=8,workload.0.rate_iops=2000]");
    assert_int_equal(p.point[0].scn->var[1].host.cpus, 2);
    assert_int_equal(p.point[5].scn->var[0].host.cpus, 8);
    /* point-major, then replication, then variant */
    assert_true(p.task[0].point == 0 && p.task[0].rep == 0 && p.task[0].variant == 0);
    assert_true(p.task[1].point == 0 && p.task[1].rep == 0 && p.task[1].variant == 1);
    assert_true(p.task[2].point == 0 && p.task[2].rep == 1 && p.task[2].variant == 0);
    assert_true(p.task[4].point == 1 && p.task[4].rep == 0 && p.task[4].variant == 0);
    for (size_t i = 0; i < p.ntask; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(p.task[i].key, p.task[j].key);
    assert_non_null(strstr(p.task[1].key, "|host.cpus=2,workload.0.rate_iops=1000|lat|0"));

    /* more replications keep the keys of the ones already run */
    sweep_plan_t q;
    char *sets[] = {"run.replications=3"};
    assert_int_equal(sweep_plan_load(&q, scn_path, sets, 1, grids, 2, err, sizeof(err)), 0);
    assert_int_equal(q.ntask, 6 * 2 * 3);
    assert_string_equal(q.task[0].key, p.task[0].key);
    assert_string_equal(q.task[3].key, p.task[3].key);
    sweep_plan_free(&q);
    sweep_plan_free(&p);

    /* no grid: one point named like the scenario */
    assert_int_equal(sweep_plan_load(&p, scn_path, NULL, 0, NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(p.npoint, 1);
    assert_int_equal(p.ntask, 4);
    assert_string_equal(p.point[0].name, "sw");
    sweep_plan_free(&p);
}

static void test_wire_roundtrip(void **state)
{
    (void)state;
    result_t r, back;
    result_init(&r);
    result_init(&back);
    result_set(&r, "lat_p99_ns", 12345.678901234567);
    result_set(&r, "locality_miss_rate", 1.0 / 3.0);
    hist_t h;
    hist_init(&h);
    for (uint64_t v = 1; v < 5000000; v = v * 3 + 7)
        hist_add(&h, v);
    result_add_stage(&r, "device", &h);
    result_add_hist(&r, "latency", &h);
    result_req_t q = {.req_id = 42, .bytes = 4096, .flow = 7, .submit_cpu = 1,
                      .completion_cpu = -1, .consumer_cpu = 3, .cls = 2, .op = 1, .deferred = 1};
    for (int i = 0; i < 9; i++)
        q.t[i] = 1000u * (uint64_t)(i + 1);
    result_add_req(&r, &q);
    r.events = 99;
    r.requests = 98;
    r.wall_s = 0.125;

    sweep_buf_t b = {0};
    assert_int_equal(sweep_wire_pack(&b, 17, 0, "hostA", NULL, &r), 0);
    sweep_wire_hdr_t hd;
    assert_int_equal(sweep_wire_unpack(b.p, b.len, &hd, &back), 0);
    assert_int_equal(hd.task, 17);
    assert_int_equal(hd.rc, 0);
    assert_string_equal(hd.host, "hostA");
    assert_int_equal(back.nmetric, 2);
    assert_string_equal(back.metric[1].name, "locality_miss_rate");
    assert_memory_equal(&back.metric[0].value, &r.metric[0].value, sizeof(double));
    assert_memory_equal(&back.metric[1].value, &r.metric[1].value, sizeof(double));
    assert_int_equal(back.nstage, 1);
    assert_memory_equal(&back.stage[0], &r.stage[0], sizeof(r.stage[0]));
    assert_int_equal(back.nhist, 1);
    assert_string_equal(back.hist[0].metric, "latency");
    assert_memory_equal(back.hist[0].hist, &h, sizeof(h));
    assert_int_equal(back.nreq, 1);
    assert_memory_equal(&back.req[0], &q, sizeof(q));
    assert_int_equal(back.events, 99);
    assert_int_equal(back.requests, 98);
    assert_true(back.wall_s == 0.125);
    result_fini(&back);

    /* every truncation is refused, and leaves nothing to free */
    for (size_t len = 0; len < b.len; len++) {
        result_init(&back);
        assert_int_equal(sweep_wire_unpack(b.p, len, &hd, &back), -EPROTO);
        assert_int_equal(back.nmetric + back.nstage + back.nhist + back.nreq, 0);
    }
    /* an error frame */
    assert_int_equal(sweep_wire_pack(&b, 3, -EINVAL, "hostB", "bad calibration", NULL), 0);
    result_init(&back);
    assert_int_equal(sweep_wire_unpack(b.p, b.len, &hd, &back), 0);
    assert_int_equal(hd.rc, -EINVAL);
    assert_string_equal(hd.msg, "bad calibration");
    assert_int_equal(back.nmetric, 0);
    sweep_buf_free(&b);
    result_fini(&r);
}

typedef struct {
    const char *args, *want1, *want2;
} bad_grid_t;

static const bad_grid_t bad_grids[] = {
    {"--grid host.cpus=2,-4", "--grid host.cpus=2,-4", "host.cpus: expected"},
    {"--grid host.cpu=2", "--grid host.cpu=2", "host.cpu: unknown key"},
    {"--grid run.duration_ms=5,20 --grid run.warmup_ms=1,10", "--grid point "
     "run.duration_ms=5,run.warmup_ms=10", "run.warmup_ms"},
    {"--grid host.cpus=2 --grid host.cpus=4", "--grid host.cpus=4", "already swept"},
    {"--grid host.cpus", "--grid host.cpus", "KEY=V1"},
    {"--grid host.cpus=2 --workers 0", "--workers", "[1, 4096]"},
};

/* One case of bad_grids[] (the test's state): exit 2 with both strings in
 * the message; nothing ran, nothing made. */
static void test_bad_grid_exit_2(void **state)
{
    const bad_grid_t *c = *state;
    char out[8192], args[1024];
    snprintf(args, sizeof(args), "sweep sw.json %s --db bad.sqlite", c->args);
    int rc = run_cli(args, out, sizeof(out));
    if (rc != 2 || !strstr(out, c->want1) || !strstr(out, c->want2))
        fail_msg("latsurf %s: exit %d, output: %s", args, rc, out);
    assert_int_equal(access(path_in("bad.sqlite"), F_OK), -1);
}

static void test_missing_scenario_exit_2(void **state)
{
    (void)state;
    char out[8192];
    assert_int_equal(run_cli("sweep missing.json --grid host.cpus=2", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "missing.json"));
}

static void test_workers_identical(void **state)
{
    (void)state;
    const char *ref = reference_db();
    char out[8192], args[1024];
    snprintf(args, sizeof(args), "sweep sw.json %s --db w2.sqlite --workers 2", grid_args);
    assert_int_equal(run_cli(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "24 of 24 tasks run"));
    const char *w2 = path_in("w2.sqlite");
    assert_int_equal(db_int(w2, "SELECT count(DISTINCT task_key) FROM runs"), GRID_TASKS);
    assert_same_results(ref, w2);
    /* a point is the scenario with its sets: the same numbers as `latsurf run` */
    assert_int_equal(run_cli("run sw.json --set host.cpus=4 --set workload.0.rate_iops=40000 "
                             "--db run.sqlite -q", out, sizeof(out)), 0);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM runs r JOIN metrics m USING (run_id) JOIN w.runs x ON "
             "x.scenario = 'sw[host.cpus=4,workload.0.rate_iops=40000]' AND x.variant = r.variant "
             "AND x.replication = r.replication JOIN w.metrics y ON y.run_id = x.run_id AND "
             "y.name = m.name WHERE m.value IS NOT y.value");
    sqlite3 *h;
    assert_int_equal(sqlite3_open(path_in("run.sqlite"), &h), SQLITE_OK);
    char attach[700];
    snprintf(attach, sizeof(attach), "ATTACH '%s' AS w", w2);
    assert_int_equal(sqlite3_exec(h, attach, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    assert_int_equal(db_int(path_in("run.sqlite"), "SELECT count(*) FROM metrics"),
                     db_int(w2, "SELECT count(*) FROM metrics m JOIN runs r USING (run_id) "
                                "WHERE r.scenario = 'sw[host.cpus=4,workload.0.rate_iops=40000]'"));
    /* each point has its comparisons, as a `latsurf run` scenario would */
    assert_int_equal(db_int(w2, "SELECT count(DISTINCT scenario) FROM comparisons"), 6);
}

static void test_rerun_adds_nothing(void **state)
{
    (void)state;
    const char *ref = reference_db();
    char out[8192], args[1024];
    int64_t before = db_int(ref, "SELECT max(run_id) FROM runs");
    snprintf(args, sizeof(args), "sweep sw.json %s --db ref.sqlite --workers 2", grid_args);
    assert_int_equal(run_cli(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "0 of 0 tasks run"));
    assert_non_null(strstr(out, "24 skipped"));
    assert_int_equal(db_int(ref, "SELECT count(*) FROM runs"), GRID_TASKS);
    assert_int_equal(db_int(ref, "SELECT max(run_id) FROM runs"), before);
    /* a third replication runs only the new tasks */
    char cp[1400];
    snprintf(cp, sizeof(cp), "VACUUM INTO '%s'", path_in("ref3.sqlite"));
    db_exec(ref, cp);
    snprintf(args, sizeof(args), "sweep sw.json %s --reps 3 --db ref3.sqlite -q", grid_args);
    assert_int_equal(run_cli(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "12 of 12 tasks run"));
    assert_int_equal(db_int(path_in("ref3.sqlite"), "SELECT count(*) FROM runs"),
                     GRID_TASKS * 3 / 2);
}

static void test_killed_sweep_resumes(void **state)
{
    (void)state;
    /* heavier tasks (~25 ms each, several times that under ASan) so the kill lands mid-way */
    const char *db = path_in("kill.sqlite");
    const int ntask = 4 * 2 * 2;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(tmpdir) != 0)
            _exit(127);
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execl(bin(), bin(), "sweep", "sw.json", "--set", "run.duration_ms=100", "--set",
              "workload.0.rate_iops=100000", "--grid", "host.cpus=2,4,6,8", "--db", "kill.sqlite",
              "--workers", "2", (char *)NULL);
        _exit(127);
    }
    /* kill once the first run is in: woken by each write in tmpdir */
    int st = 0;
    tu_watch_t w;
    tu_watch_start(&w, tmpdir, pid);
    while ((access(db, F_OK) == 0 ? db_int_try(db, "SELECT count(*) FROM runs") : 0) < 1)
        if (tu_watch_wait(&w, 60000) == 0)
            fail_msg("the sweep exited before it was killed");
    tu_watch_stop(&w);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    int64_t kept = db_int(db, "SELECT count(*) FROM runs");
    assert_true(kept >= 1 && kept < ntask);

    char out[8192];
    assert_int_equal(run_cli("sweep sw.json --set run.duration_ms=100 --set "
                             "workload.0.rate_iops=100000 --grid host.cpus=2,4,6,8 "
                             "--db kill.sqlite --workers 2", out, sizeof(out)), 0);
    assert_int_equal(db_int(db, "SELECT count(*) FROM runs"), ntask);
    assert_int_equal(db_int(db, "SELECT count(DISTINCT task_key) FROM runs"), ntask);
    /* no orphan rows from the transaction the kill cut short */
    assert_int_equal(db_int(db, "SELECT count(*) FROM metrics WHERE run_id NOT IN "
                                "(SELECT run_id FROM runs)"), 0);
    char *ok = db_text(db, "PRAGMA integrity_check");
    assert_string_equal(ok, "ok");
    free(ok);
}

static void test_mpi_matches_local(void **state)
{
    (void)state;
    char out[16384], args[2048];
    char why[256];
    tu_skip_unless(tu_have_cmd("mpirun", why, sizeof(why)), "%s (Debian openmpi-bin)", why);
    assert_int_equal(run_cli("sweep --help", out, sizeof(out)), 0);
    tu_skip_unless(strstr(out, "MPI support: built in"),
                   "latsurf was built without MPI (install libopenmpi-dev, reconfigure)");
    const char *ref = reference_db();
    /* OpenMPI's runtime keeps allocations until exit: LeakSanitizer would
     * fail the ranks of a sanitizer build for that alone. */
    snprintf(args, sizeof(args),
             "ASAN_OPTIONS=detect_leaks=0 mpirun %s --oversubscribe -np 2 %s sweep sw.json %s "
             "--db mpi.sqlite -q",
             geteuid() == 0 ? "--allow-run-as-root" : "", bin(), grid_args);
    int rc = run_sh(args, out, sizeof(out));
    if (rc != 0)
        fail_msg("mpirun exit %d: %s", rc, out);
    assert_non_null(strstr(out, "2 MPI ranks"));
    const char *mpi = path_in("mpi.sqlite");
    assert_int_equal(db_int(mpi, "SELECT count(DISTINCT task_key) FROM runs"), GRID_TASKS);
    assert_int_equal(db_int(mpi, "SELECT count(*) FROM runs"), GRID_TASKS);
    assert_same_results(ref, mpi);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(scn_path, sizeof(scn_path), "%s/sw.json", tmpdir);
    FILE *f = fopen(scn_path, "w");
    if (!f)
        return -1;
    fputs(scn_text, f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_grid_parse),
        cmocka_unit_test(test_plan_expansion),
        cmocka_unit_test(test_wire_roundtrip),
        cmocka_unit_test(test_missing_scenario_exit_2),
        cmocka_unit_test(test_workers_identical),
        cmocka_unit_test(test_rerun_adds_nothing),
        cmocka_unit_test(test_killed_sweep_resumes),
        cmocka_unit_test(test_mpi_matches_local),
    };
    enum {
        NFIXED = sizeof(fixed) / sizeof(fixed[0]),
        NCASE = sizeof(bad_grids) / sizeof(bad_grids[0]),
    };
    struct CMUnitTest tests[NFIXED + NCASE];
    memcpy(tests, fixed, sizeof(fixed));
    TU_CASE_TESTS(tests + NFIXED, test_bad_grid_exit_2, bad_grids);
    return cmocka_run_group_tests(tests, setup, teardown);
}
