/*
 * test_reference.c - `latsurf validate SCENARIO --reference DB`: an analyzed
 * recording (the database `latsurf trace analyze FILE --db DB` wrote) as the
 * reference that the live replay and the simulation are compared with, in
 * one table and in `comparisons` rows ("<variant>:live" / "<variant>:sim"
 * against baseline "recording"). The reference is a canned io_uring
 * recording (tests/fixtures/tracefs), analyzed here, so no root is needed.
 * A missing or unreadable database, one that is not a database, or one
 * with no recorded requests exits 2 naming the file, before anything runs.
 * The comparison itself runs live: it skips only where a probe finds
 * io_uring or O_DIRECT missing.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In the build tree, not /tmp: the live replay needs a filesystem with O_DIRECT. */
static char dir[] = "latsurf-reference-XXXXXX";
static char ref_out[4096]; /* what trace analyze said */
static int ref_rc;

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "trace analyze %s --db ref.sqlite",
             tu_src("tests/fixtures/tracefs/qd1_fio_cpu0.txt"));
    ref_rc = tu_cli(dir, cmd, ref_out, sizeof(ref_out));
    /* a chain of reads like the recording's: one thread, QD1 */
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof(text), "{\"id\":0,\"t_ns\":0,\"offset\":0}\n");
    for (int i = 1; i < 30; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "{\"id\":%d,\"after\":[%d],\"think_ns\":200000,"
                              "\"think_cpu_ns\":50000,\"offset\":%d}\n",
                              i, i - 1, (i * 37 % 250) * 4096);
    tu_write(dir, "chain.jsonl", text);
    tu_write(dir, "chain.json",
             "{\"name\":\"chain\",\"host\":{\"cpus\":2},"
             "\"workload\":[{\"type\":\"trace\",\"path\":\"chain.jsonl\",\"consumer_cpu\":0}],"
             "\"run\":{\"duration_ms\":100,\"warmup_ms\":0,\"replications\":1}}");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", dir);
}

static double db_num(const char *db, const char *sql) { return tu_db_file_num(dir, db, sql); }

/* validate --reference DB must exit 2 with a message naming DB; nothing
 * runs, so no live run is needed and no results database is written. */
static void expect_bad_reference(const char *db, const char *says)
{
    char args[600], out[4096];
    snprintf(args, sizeof(args),
             "validate chain.json --target never.dat --reference %s --db bad.sqlite "
             "--no-calibrate -q",
             db);
    int rc = tu_cli(dir, args, out, sizeof(out));
    if (rc != 2 || !strstr(out, db) || !strstr(out, says))
        fail_msg("--reference %s: exit %d, wanted 2 naming it (%s): %s", db, rc, says, out);
    char probe[700];
    assert_int_not_equal(tu_sh(dir, "test -e bad.sqlite || test -e never.dat", probe,
                               sizeof(probe)),
                         0);
}

static void test_missing_reference(void **state)
{
    (void)state;
    expect_bad_reference("nowhere.sqlite", "No such file");
}

static void test_not_a_database(void **state)
{
    (void)state;
    tu_write(dir, "text.sqlite", "this is not an SQLite database\n");
    expect_bad_reference("text.sqlite", "not a latsurf results database");
}

/* A results database of simulated runs only has no recorded requests. */
static void test_no_recorded_requests(void **state)
{
    (void)state;
    char out[4096];
    tu_write(dir, "tiny.json",
             "{\"name\":\"tiny\",\"host\":{\"cpus\":2},"
             "\"workload\":[{\"type\":\"trace\",\"path\":\"chain.jsonl\"}],"
             "\"run\":{\"duration_ms\":5,\"warmup_ms\":0,\"replications\":1}}");
    int rc = tu_cli(dir, "run tiny.json --db simonly.sqlite -q", out, sizeof(out));
    if (rc != 0)
        fail_msg("latsurf run: exit %d: %s", rc, out);
    expect_bad_reference("simonly.sqlite", "no recorded requests");
}

/* The recording, the live replay and the simulation in one table; the rows
 * carry the recording's own numbers as their baseline. */
static void test_compare(void **state)
{
    (void)state;
    if (ref_rc != 0)
        fail_msg("latsurf trace analyze: exit %d: %s", ref_rc, ref_out);
    char why[256];
    tu_skip_unless(tu_have_uring(why, sizeof(why)) && tu_have_odirect(dir, why, sizeof(why)),
                   "%s", why);
    char out[16384];
    int rc = tu_cli(dir,
                    "validate chain.json --target t.dat --create 4M --reference ref.sqlite "
                    "--db v.sqlite --no-calibrate -q",
                    out, sizeof(out));
    if (rc != 0)
        fail_msg("latsurf validate --reference: exit %d: %s", rc, out);
    assert_non_null(strstr(out, "| scenario | variant | metric | recording | live | err | sim |"));
    assert_non_null(strstr(out, "| chain | baseline | duration_ns |"));
    static const char *const metrics[] = {"lat_p50_ns", "lat_p99_ns", "lat_p999_ns", "iops",
                                          "duration_ns"};
    for (size_t i = 0; i < 5; i++)
        for (int side = 0; side < 2; side++) {
            char sql[400];
            snprintf(sql, sizeof(sql),
                     "SELECT COUNT(*) FROM comparisons WHERE scenario = 'chain' AND "
                     "variant = 'baseline:%s' AND baseline = 'recording' AND metric = '%s' "
                     "AND value > 0 AND baseline_value > 0 AND owner = 'validate'",
                     side ? "sim" : "live", metrics[i]);
            if (db_num("v.sqlite", sql) != 1)
                fail_msg("no %s row for %s against the recording", metrics[i],
                         side ? "sim" : "live");
        }
    /* the baseline is the recording's own p50, and its duration the span of its requests */
    assert_true(db_num("v.sqlite", "SELECT baseline_value FROM comparisons WHERE "
                                   "baseline = 'recording' AND metric = 'lat_p50_ns' "
                                   "AND variant = 'baseline:sim'") ==
                db_num("ref.sqlite", "SELECT value FROM metrics WHERE name = 'lat_p50_ns'"));
    assert_true(db_num("v.sqlite", "SELECT baseline_value FROM comparisons WHERE "
                                   "baseline = 'recording' AND metric = 'duration_ns' "
                                   "AND variant = 'baseline:live'") ==
                db_num("ref.sqlite", "SELECT MAX(t_ready) - MIN(t_issue) FROM requests"));
    /* and the live and simulated replays each issued the 30 requests */
    assert_int_equal((int)db_num("v.sqlite", "SELECT SUM(requests) FROM runs WHERE mode = 'live'"),
                     30);
    assert_int_equal((int)db_num("v.sqlite", "SELECT SUM(requests) FROM runs WHERE mode = 'sim'"),
                     30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_reference),
        cmocka_unit_test(test_not_a_database),
        cmocka_unit_test(test_no_recorded_requests),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
