/*
 * test_bench.c - `latsurf bench`: the hold model runs through the engine and
 * reports a rate, `path` runs the full simulated path, bad options exit 2.
 * Rates are not asserted (they depend on the machine): docs/engine.md has them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <string.h>

/* Run `latsurf ARGS 2>&1`; return its exit code and its output in out. */
static int latsurf(const char *args, char *out, size_t cap)
{
    return tu_cli(".", args, out, cap);
}

static void test_hold_reports_rate(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(latsurf("bench hold --events 20000 --pending 100", out, sizeof out), 0);
    assert_non_null(strstr(out, "100 pending, 20000 events"));
    /* The last line is `R events/s` with R > 0. */
    char *last = strstr(out, "\n");
    char *line = out;
    while (last && last[1]) {
        line = last + 1;
        last = strstr(line, "\n");
    }
    double rate = 0;
    char unit[32] = "";
    assert_int_equal(sscanf(line, "%lf %31s", &rate, unit), 2);
    assert_string_equal(unit, "events/s");
    assert_true(rate > 0);
    /* The default bench is hold; --draws gsl draws per event. */
    assert_int_equal(latsurf("bench --events 1e4 --pending 1e3 --draws gsl", out, sizeof out), 0);
    assert_non_null(strstr(out, "1000 pending, 10000 events"));
    assert_non_null(strstr(out, "gsl_ran_exponential per event"));
}

static void test_path_runs(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(latsurf("bench path --requests 2e4", out, sizeof out), 0);
    assert_non_null(strstr(out, "requests/s"));
    assert_non_null(strstr(out, "peak RSS"));
    assert_int_equal(latsurf("bench path --requests 5", out, sizeof out), 2);
}

static void test_bad_input(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(latsurf("bench hold --events x", out, sizeof out), 2);
    assert_non_null(strstr(out, "--events"));
    assert_int_equal(latsurf("bench hold --pending 0", out, sizeof out), 2);
    assert_int_equal(latsurf("bench hold --draws sometimes", out, sizeof out), 2);
    assert_int_equal(latsurf("bench hold --frobnicate 3", out, sizeof out), 2);
    assert_int_equal(latsurf("bench nosuch", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown benchmark 'nosuch'"));
}

static void test_help_lists_benches(void **state)
{
    (void)state;
    char out[4096];
    assert_int_equal(latsurf("bench --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "hold [--events N] [--pending P]"));
    assert_non_null(strstr(out, "path"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hold_reports_rate),
        cmocka_unit_test(test_path_runs),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_help_lists_benches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
