/*
 * test_hardening.c - what latsurf promises when input is hostile or a run
 * is cut short (issue 10, docs/hardening.md):
 *  - absurd sizes and counts exit 2 naming the file and the JSON path,
 *    before anything allocates in proportion to them;
 *  - the same scenario and seed give byte-identical metrics across
 *    processes, and `sweep` gives the same numbers with 1 or 2 workers
 *    and 2 MPI ranks (where mpirun and an MPI build are present);
 *  - SIGINT stops `latsurf run` with the finished replications kept;
 *  - after SIGKILL the database passes integrity_check, holds no run
 *    without its rows, and a rerun completes (`sweep` resumes).
 * Every case runs the real binary (LATSURF_BIN) on short scenarios.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "sim/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/latsurf-hard-XXXXXX";

static const char *path_of(const char *name)
{
    return tu_path(tmpdir, name);
}

static void write_file(const char *name, const char *text)
{
    tu_write(tmpdir, name, text);
}

/* The binary, absolute: the commands run in tmpdir. */
static const char *bin(void)
{
    return tu_bin();
}

/* Run latsurf with args in tmpdir; output (both streams) into out. */
static int run_cli(const char *args, char *out, size_t n)
{
    return tu_cli(tmpdir, args, out, n);
}

/* Start latsurf with argv (NULL-terminated, argv[0] ignored) in tmpdir,
 * stderr to the file named errname. */
static pid_t spawn(char *const argv[], const char *errname)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(tmpdir) != 0)
            _exit(126);
        int fd = open(errname, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_WRONLY);
        if (fd < 0 || nul < 0)
            _exit(126);
        dup2(fd, 2);
        dup2(nul, 1);
        char *args[32];
        int i = 0;
        args[i++] = (char *)bin();
        for (int k = 1; argv[k] && i < 31; k++)
            args[i++] = argv[k];
        args[i] = NULL;
        execv(bin(), args);
        _exit(127);
    }
    return pid;
}

static sqlite3 *db_open_ro(const char *name)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path_of(name), &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* One integer from sql, or -1 when there is none (no table yet). */
static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *db_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int64_t count_runs(const char *dbname)
{
    sqlite3 *db = db_open_ro(dbname);
    int64_t got = db ? db_int(db, "SELECT count(*) FROM runs") : -1;
    sqlite3_close(db);
    return got;
}

/* Wait until the database named holds at least n runs: woken by each write
 * in tmpdir (no sleeps); fails if latsurf exits first or nothing is written
 * for 60 s. */
static int64_t wait_for_runs(const char *dbname, int64_t n, pid_t pid)
{
    tu_watch_t w;
    tu_watch_start(&w, tmpdir, pid);
    int64_t got;
    while ((got = count_runs(dbname)) < n)
        if (tu_watch_wait(&w, 60000) == 0 && (got = count_runs(dbname)) < n)
            fail_msg("latsurf exited before writing %lld runs", (long long)n);
    tu_watch_stop(&w);
    return got;
}

/* The crash-safety invariants of a results database. */
static void check_db_whole(const char *dbname, int64_t nmetrics, int64_t nrequests)
{
    sqlite3 *db = db_open_ro(dbname);
    assert_non_null(db);
    char *ic = db_text(db, "PRAGMA integrity_check");
    assert_non_null(ic);
    assert_string_equal(ic, "ok");
    free(ic);
    /* no run lacks its rows: same metric count, stages and requests for each */
    assert_int_equal(db_int(db, "SELECT count(*) FROM runs WHERE run_id NOT IN "
                                "(SELECT run_id FROM metrics)"), 0);
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM metrics m WHERE "
             "m.run_id = r.run_id) != %lld OR (SELECT count(*) FROM stages s WHERE "
             "s.run_id = r.run_id) = 0 OR (SELECT count(*) FROM requests q WHERE "
             "q.run_id = r.run_id) != %lld",
             (long long)nmetrics, (long long)nrequests);
    assert_int_equal(db_int(db, sql), 0);
    sqlite3_close(db);
}

static int setup(void **state)
{
    (void)state;
    bin();
    if (!mkdtemp(tmpdir))
        return -1;
    /* what the absurd-value cases name */
    write_file("cal_absurd.json",
               "{\"latsurf_calibration\":1,\"params\":{\"rdma_gbps\":{\"value\":1e300}}}");
    write_file("cal_gamma.json", "{\"latsurf_calibration\":1,\"params\":{\"ipi_ns\":{\"value\":"
                                 "10,\"fit\":{\"dist\":\"gamma\",\"k\":-1e9,\"theta\":1}}}}");
    write_file("x.jsonl", "{\"id\":0,\"t_ns\":0}\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

/* ------------------------------------------------------------ absurd values */

typedef struct {
    const char *text;   /* scenario file, NULL: the small base scenario */
    const char *args;   /* extra CLI arguments */
    const char *expect; /* the place the message must name */
} absurd_t;

static const char *small =
    "{\"name\":\"s\",\"host\":{\"cpus\":2},\"devices\":[{\"queues\":2}],"
    "\"workload\":[{\"type\":\"poisson\",\"rate_iops\":1000}],"
    "\"run\":{\"duration_ms\":2,\"warmup_ms\":0,\"replications\":1}}";

static const absurd_t absurd[] = {
    {"{\"host\":{\"cpus\":1000000000}}", "", "host.cpus"},
    {"{\"host\":{\"cpus\":4,\"numa_nodes\":1000000}}", "", "host.numa_nodes"},
    {"{\"devices\":[{\"queues\":1000000}]}", "", "devices.0.queues"},
    {"{\"devices\":[{\"queue_depth\":4000000000}]}", "", "devices.0.queue_depth"},
    {"{\"devices\":[{\"capacity_gib\":1e12}]}", "", "devices.0.capacity_gib"},
    {"{\"devices\":[{\"flash\":{\"channels\":1000000}}]}", "", "devices.0.flash.channels"},
    {"{\"devices\":[{\"capacity_gib\":1048576,\"flash\":{\"page_kib\":1},"
     "\"ftl\":{\"map_cache_mib\":1000000}}]}", "", "devices.0.ftl.map_cache_mib"},
    {"{\"run\":{\"duration_ms\":1e12}}", "", "run.duration_ms"},
    {"{\"run\":{\"replications\":1000000000}}", "", "run.replications"},
    {"{\"run\":{\"replications\":10000,\"duration_ms\":1000000}}", "",
     "run.replications: replications x duration_ms"},
    {"{\"run\":{\"record_requests\":1e12}}", "", "run.record_requests"},
    {"{\"run\":{\"duration_ms\":1e400}}", "", ":1:"},
    {"{\"workload\":[{\"type\":\"agentic\",\"agents\":100000000}]}", "", "workload.0.agents"},
    {"{\"workload\":[{\"type\":\"poisson\",\"bytes\":1e12}]}", "", "workload.0.bytes"},
    {"{\"workload\":[{\"type\":\"poisson\",\"rate_iops\":1e15}]}", "", "workload.0.rate_iops"},
    {"{\"workload\":[{\"type\":\"retrieval\",\"hops\":1024,\"beam_width\":1024}]}", "",
     "workload.0.beam_width"},
    {"{\"workload\":[{\"type\":\"kvcache\",\"prefixes\":1073741824,\"blocks\":65536}]}", "",
     "workload.0.prefixes"},
    {"{\"workload\":[{\"type\":\"bulk\",\"queue_depth\":1000000000}]}", "",
     "workload.0.queue_depth"},
    {"{\"workload\":[{\"type\":\"trace\",\"path\":\"x.jsonl\",\"window\":1e12}]}", "",
     "workload.0.window"},
    {NULL, "--set host.cpus=1e300", "host.cpus"},
    {NULL, "--set devices.0.queues=-1", "devices.0.queues"},
    {NULL, "--set devices.-1.queues=4", "devices"},
    {NULL, "--set host.background.0.cpu=99", "host.background"},
    {NULL, "--reps 100000", "--reps"},
    {NULL, "--set host.calibration=cal_absurd.json", "params.rdma_gbps"},
    {NULL, "--set host.calibration=cal_gamma.json", "params.ipi_ns"},
};

/* One case of absurd[] (the test's state): exit 2, naming the place and
 * the file at fault, promptly. */
static void test_absurd_value_exit_2(void **state)
{
    const absurd_t *c = *state;
    size_t i = (size_t)(c - absurd);
    char out[8192], name[32], args[1024];
    snprintf(name, sizeof(name), "absurd%zu.json", i);
    write_file(name, c->text ? c->text : small);
    snprintf(args, sizeof(args), "run %s --db absurd.sqlite -q %s", name, c->args);
    time_t t0 = time(NULL);
    int rc = run_cli(args, out, sizeof(out));
    if (rc != 2 || !strstr(out, c->expect))
        fail_msg("case %zu (%s %s): rc=%d, want 2 and \"%s\" in: %s", i,
                 c->text ? c->text : "small", c->args, rc, c->expect, out);
    /* the file at fault is named: the scenario, or the calibration it names */
    const char *file = strstr(c->args, "cal_") ? strstr(c->args, "cal_")
                       : strstr(c->args, "--reps") ? "--reps" : name;
    if (!strstr(out, file))
        fail_msg("case %zu: message does not name %s: %s", i, file, out);
    /* refused up front, not after allocating or running */
    if (time(NULL) - t0 > 5)
        fail_msg("case %zu took %lld s to refuse", i, (long long)(time(NULL) - t0));
}

/* ---------------------------------------------------------------- determinism */

static const char *det =
    "{\"name\":\"det\",\"host\":{\"cpus\":4,\"numa_nodes\":2},\"devices\":[{\"queues\":2}],"
    "\"workload\":[{\"type\":\"poisson\",\"rate_iops\":50000,\"consumer_cpu\":-1},"
    "{\"type\":\"agentic\",\"agents\":2}],"
    "\"variants\":[{\"name\":\"base\"},{\"name\":\"coord\",\"affinity\":\"consumer\","
    "\"mode\":\"latency\",\"registration\":\"cache\"}],"
    "\"run\":{\"duration_ms\":20,\"warmup_ms\":2,\"replications\":2,\"seed\":11}}";

/* Every metric and stage value of a database, as text with the exact bits
 * of each double, ordered by (scenario-free) variant, replication, name. */
static char *db_values(const char *dbname, const char *where)
{
    sqlite3 *db = db_open_ro(dbname);
    assert_non_null(db);
    char sql[1024];
    snprintf(sql, sizeof(sql),
             "SELECT r.variant, r.replication, m.name, m.value FROM runs r JOIN metrics m "
             "USING (run_id) WHERE %s UNION ALL SELECT r.variant, r.replication, "
             "'stage.' || s.stage, s.mean_ns + s.p99_ns * 1e-3 + s.count FROM runs r JOIN stages "
             "s USING (run_id) WHERE %s ORDER BY 1, 2, 3",
             where, where);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    buf[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        double v = sqlite3_column_double(st, 3);
        uint64_t bits;
        memcpy(&bits, &v, sizeof(bits));
        char line[256];
        int n = snprintf(line, sizeof(line), "%s/%lld/%s=%016llx\n", sqlite3_column_text(st, 0),
                         (long long)sqlite3_column_int64(st, 1), sqlite3_column_text(st, 2),
                         (unsigned long long)bits);
        assert_int_equal(VEC_RESERVE(buf, cap, len + (size_t)n + 1), 0);
        memcpy(buf + len, line, (size_t)n + 1);
        len += (size_t)n;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return buf;
}

static void test_same_seed_determinism(void **state)
{
    (void)state;
    write_file("det.json", det);
    char out[8192];
    assert_int_equal(run_cli("run det.json --db det1.sqlite -q", out, sizeof(out)), 0);
    assert_int_equal(run_cli("run det.json --db det2.sqlite -q", out, sizeof(out)), 0);
    assert_int_equal(run_cli("run det.json --db det3.sqlite -q --seed 12", out, sizeof(out)), 0);
    char *a = db_values("det1.sqlite", "1"), *b = db_values("det2.sqlite", "1"),
         *c = db_values("det3.sqlite", "1");
    assert_true(strlen(a) > 1000); /* 2 variants x 2 replications x every metric */
    assert_string_equal(a, b);
    assert_string_not_equal(a, c); /* the seed does reach the numbers */
    free(a);
    free(b);
    free(c);
}

/* The same tasks in a sweep, whatever the worker count, give the numbers a
 * plain run gives. */
static void test_sweep_workers_determinism(void **state)
{
    (void)state;
    write_file("det.json", det);
    char out[8192];
    int rc = run_cli("sweep det.json --grid run.seed=11,12 --workers 1 --db sw1.sqlite -q", out,
                     sizeof(out));
    if (rc != 0)
        fail_msg("sweep --workers 1: rc=%d: %s", rc, out);
    rc = run_cli("sweep det.json --grid run.seed=11,12 --workers 2 --db sw2.sqlite -q", out,
                 sizeof(out));
    if (rc != 0)
        fail_msg("sweep --workers 2: rc=%d: %s", rc, out);
    assert_int_equal(run_cli("run det.json --db swrun.sqlite -q", out, sizeof(out)), 0);
    char *w1 = db_values("sw1.sqlite", "r.scenario LIKE '%seed=11%'");
    char *w2 = db_values("sw2.sqlite", "r.scenario LIKE '%seed=11%'");
    char *run = db_values("swrun.sqlite", "1");
    char *w1b = db_values("sw1.sqlite", "r.scenario LIKE '%seed=12%'");
    char *w2b = db_values("sw2.sqlite", "r.scenario LIKE '%seed=12%'");
    assert_true(strlen(w1) > 1000);
    assert_string_equal(w1, w2);
    assert_string_equal(w1b, w2b);
    assert_string_equal(w1, run);
    assert_string_not_equal(w1, w1b);
    /* MPI ranks, where the build has MPI and mpirun is here */
    if (system("command -v mpirun >/dev/null 2>&1") == 0) {
        char cmd[8192];
        snprintf(cmd, sizeof(cmd),
                 "cd %s && mpirun --allow-run-as-root --oversubscribe -np 2 %s sweep det.json "
                 "--grid run.seed=11,12 --db swmpi.sqlite 2>&1",
                 tmpdir, bin());
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        out[fread(out, 1, sizeof(out) - 1, p)] = '\0';
        int st = pclose(p);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(out, "2 MPI ranks")) {
            char *m = db_values("swmpi.sqlite", "r.scenario LIKE '%seed=11%'");
            assert_string_equal(w1, m);
            free(m);
        } else {
            print_message("MPI ranks not compared (no MPI in this build or mpirun failed): %.200s\n",
                          out);
        }
    } else {
        print_message("MPI ranks not compared: no mpirun\n");
    }
    free(w1);
    free(w2);
    free(run);
    free(w1b);
    free(w2b);
}

/* -------------------------------------------------------------- crash safety */

/* Replications long enough to interrupt (each some 10 ms of CPU), with
 * recorded requests so a kill can land inside a run's write. */
static const char *longrun =
    "{\"name\":\"long\",\"host\":{\"cpus\":4},\"devices\":[{\"queues\":4}],"
    "\"workload\":[{\"type\":\"poisson\",\"rate_iops\":200000,\"consumer_cpu\":-1}],"
    "\"run\":{\"duration_ms\":40,\"warmup_ms\":5,\"replications\":%d,\"record_requests\":%d}}";

#define LONG_RECORD 3000

static void write_longrun(const char *name, int reps)
{
    char text[1024];
    snprintf(text, sizeof(text), longrun, reps, LONG_RECORD);
    write_file(name, text);
}

static int64_t metric_count(const char *dbname)
{
    sqlite3 *db = db_open_ro(dbname);
    assert_non_null(db);
    int64_t n = db_int(db, "SELECT count(*) FROM metrics WHERE run_id = (SELECT min(run_id) "
                           "FROM runs)");
    sqlite3_close(db);
    assert_true(n > 10);
    return n;
}

static void test_sigint_keeps_finished_runs(void **state)
{
    (void)state;
    write_longrun("int.json", 40);
    char *argv[] = {"latsurf", "run", "int.json", "--db", "int.sqlite", NULL};
    pid_t pid = spawn(argv, "int.err");
    int64_t got = wait_for_runs("int.sqlite", 1, pid);
    assert_true(got >= 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kill(pid, SIGINT), 0);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* stopped by itself, promptly, reporting the interruption */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true(t1.tv_sec - t0.tv_sec < 10);
    char out[4096];
    FILE *f = fopen(path_of("int.err"), "r");
    assert_non_null(f);
    out[fread(out, 1, sizeof(out) - 1, f)] = '\0';
    fclose(f);
    assert_non_null(strstr(out, "interrupted"));
    /* the finished runs are there, whole; the one in progress is not */
    check_db_whole("int.sqlite", metric_count("int.sqlite"), LONG_RECORD);
    sqlite3 *db = db_open_ro("int.sqlite");
    int64_t n = db_int(db, "SELECT count(*) FROM runs");
    sqlite3_close(db);
    assert_true(n >= 1 && n < 40);
}

static void test_kill9_then_rerun(void **state)
{
    (void)state;
    write_longrun("kill.json", 6);
    char *argv[] = {"latsurf", "run", "kill.json", "--db", "kill.sqlite", "-q", NULL};
    /* kill at a few points after the first commit: right after it, then at
     * the first and second write seen after it, inside the next run's write */
    int64_t nmetrics = -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        int64_t before = count_runs("kill.sqlite");
        pid_t pid = spawn(argv, "kill.err");
        wait_for_runs("kill.sqlite", (before > 0 ? before : 0) + 1, pid);
        tu_watch_t w;
        tu_watch_start(&w, tmpdir, pid);
        for (int k = 0; k < attempt; k++)
            if (tu_watch_wait(&w, 60000) == 0)
                fail_msg("latsurf exited before it was killed");
        tu_watch_stop(&w);
        kill(pid, SIGKILL);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (nmetrics < 0)
            nmetrics = metric_count("kill.sqlite");
        check_db_whole("kill.sqlite", nmetrics, LONG_RECORD);
    }
    /* a rerun into the same file completes: every replication is there */
    char out[8192];
    int rc = run_cli("run kill.json --db kill.sqlite -q", out, sizeof(out));
    if (rc != 0)
        fail_msg("rerun after kill -9: rc=%d: %s", rc, out);
    check_db_whole("kill.sqlite", nmetrics, LONG_RECORD);
    sqlite3 *db = db_open_ro("kill.sqlite");
    assert_int_equal(db_int(db, "SELECT count(*) FROM v_latest_runs WHERE scenario = 'long'"), 6);
    sqlite3_close(db);
}

/* A killed sweep, rerun, finishes what is missing and repeats nothing. */
static void test_sweep_kill9_resumes(void **state)
{
    (void)state;
    write_longrun("swk.json", 3);
    char *argv[] = {"latsurf", "sweep", "swk.json", "--grid", "host.rq_affinity=1,2",
                    "--workers", "1", "--db", "swk.sqlite", "-q", NULL};
    pid_t pid = spawn(argv, "swk.err");
    wait_for_runs("swk.sqlite", 1, pid);
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    /* forked workers of the killed writer see their pipe close and exit */
    int64_t nmetrics = metric_count("swk.sqlite");
    check_db_whole("swk.sqlite", nmetrics, LONG_RECORD);
    char out[8192];
    int rc = run_cli("sweep swk.json --grid host.rq_affinity=1,2 --workers 1 --db swk.sqlite -q",
                     out, sizeof(out));
    if (rc != 0)
        fail_msg("sweep rerun: rc=%d: %s", rc, out);
    check_db_whole("swk.sqlite", nmetrics, LONG_RECORD);
    sqlite3 *db = db_open_ro("swk.sqlite");
    assert_int_equal(db_int(db, "SELECT count(*) FROM runs"), 6);
    assert_int_equal(db_int(db, "SELECT count(DISTINCT task_key) FROM runs"), 6);
    sqlite3_close(db);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_same_seed_determinism),
        cmocka_unit_test(test_sweep_workers_determinism),
        cmocka_unit_test(test_sigint_keeps_finished_runs),
        cmocka_unit_test(test_kill9_then_rerun),
        cmocka_unit_test(test_sweep_kill9_resumes),
    };
    enum {
        NFIXED = sizeof(fixed) / sizeof(fixed[0]),
        NCASE = sizeof(absurd) / sizeof(absurd[0]),
    };
    struct CMUnitTest tests[NFIXED + NCASE];
    memcpy(tests, fixed, sizeof(fixed));
    TU_CASE_TESTS(tests + NFIXED, test_absurd_value_exit_2, absurd);
    return cmocka_run_group_tests(tests, setup, teardown);
}
