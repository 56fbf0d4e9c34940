/*
 * test_validation.c - the simulator against this host, a reduced regime set
 * (scenarios/validation/ qd1-near, qd1-far, qd16): `latsurf validate
 * --rounds 3` calibrates and runs each regime live and simulated in three
 * paired rounds, and the median of the rounds' simulated p50 error must be
 * within 25% and of the p99 error within 40% of live for every variant
 * (issue 16's CI bound, looser than docs/validation.md's acceptance so that
 * only a regression fails). One round is not enough on a shared VM: the
 * live p50 itself moves 12-50% between rounds a minute apart, and a round
 * whose calibration caught a host stall in its tail is an outlier the
 * median of three sets aside. Needs root, io_uring and O_DIRECT: skips only when a
 * probe shows one missing. Runs serially (tests/CMakeLists.txt: it measures
 * the host) and not under ASan (Makefile ASAN_EXCLUDE: timing).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <sqlite3.h>

#include "testutil.h"

#define P50_BOUND 25.0
#define P99_BOUND 40.0
#define ROUNDS 3
#define NKEYS (3 * 2 * 2) /* 3 regimes x 2 variants x p50, p99 */

/* In the build tree, not /tmp: it must be on a filesystem with O_DIRECT. */
static char dir[] = "latsurf-validation-XXXXXX";

static void validation_within_bounds(void **state)
{
    (void)state;
    char why[256], out[65536];
    tu_skip_unless(geteuid() == 0, "not root (calibrate traces and pins)");
    tu_skip_unless(mkdtemp(dir) != NULL, "cannot make a directory in the build tree");
    tu_skip_unless(tu_have_uring(why, sizeof(why)), "%s", why);
    tu_skip_unless(tu_have_odirect(dir, why, sizeof(why)), "%s", why);
    const char *src = getenv("LATSURF_SRC") ? getenv("LATSURF_SRC") : "..";
    char args[2048];
    snprintf(args, sizeof(args),
             "validate %s/scenarios/validation/qd1-near.json %s/scenarios/validation/qd1-far.json "
             "%s/scenarios/validation/qd16.json --target t.dat --create 256M --duration-ms 2000 "
             "--recalibrate --rounds %d --db r.sqlite -q",
             src, src, src, ROUNDS);
    int rc = tu_cli(dir, args, out, sizeof(out));
    if (rc != 0)
        fail_msg("latsurf validate exited %d: %.2000s", rc, out);
    printf("%s\n", out);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(tu_path(dir, "r.sqlite"), &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT scenario, variant, metric, delta_pct FROM "
                                        "comparisons WHERE owner = 'validate' AND metric IN "
                                        "('lat_p50_ns', 'lat_p99_ns') AND variant != '*:sim' AND scenario NOT LIKE '%leave-one-out%'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    /* the rows of round N are named "<scenario> round N": one key per
     * scenario, variant and metric, its rounds' errors */
    struct {
        char key[192];
        double err[ROUNDS];
        size_t n;
    } k[NKEYS];
    size_t nk = 0;
    int rows = 0, bad = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char scn[128];
        snprintf(scn, sizeof(scn), "%s", (const char *)sqlite3_column_text(st, 0));
        char *r = strstr(scn, " round ");
        if (r)
            *r = '\0';
        char key[192];
        snprintf(key, sizeof(key), "%s %s %s", scn, (const char *)sqlite3_column_text(st, 1),
                 (const char *)sqlite3_column_text(st, 2));
        size_t i = 0;
        while (i < nk && strcmp(k[i].key, key) != 0)
            i++;
        if (i == nk) {
            assert_true(nk < NKEYS);
            snprintf(k[nk].key, sizeof(k[nk].key), "%s", key);
            k[nk++].n = 0;
        }
        assert_true(k[i].n < ROUNDS);
        k[i].err[k[i].n++] = sqlite3_column_double(st, 3);
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    assert_int_equal(rows, NKEYS * ROUNDS);
    assert_int_equal(nk, NKEYS);
    for (size_t i = 0; i < nk; i++) {
        gsl_sort(k[i].err, 1, k[i].n);
        double med = gsl_stats_median_from_sorted_data(k[i].err, 1, k[i].n);
        double bound = strstr(k[i].key, "lat_p50_ns") ? P50_BOUND : P99_BOUND;
        printf("%s %s: median %+.1f%% of rounds %+.1f%% %+.1f%% %+.1f%% (bound %.0f%%)\n",
               fabs(med) <= bound ? "within" : "OUT OF BOUNDS", k[i].key, med, k[i].err[0],
               k[i].err[1], k[i].err[2], bound);
        bad += !(fabs(med) <= bound);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validation_within_bounds),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    tu_systemf("rm -rf '%s'", dir);
    return rc;
}
