/* test_progress.c - the runner's progress hook (runner_run_progress, models/exec.h): it reports requests
 * done and simulated time as a run goes on, and a run with it computes exactly what a run
 * without it does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run/runner.h"
#include "run/scenario.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t calls, last_requests, last_now, end;
    int backwards;
} seen_t;

static void on_progress(const exec_progress_report_t *p, void *ctx)
{
    seen_t *s = ctx;
    if (s->calls && (p->requests < s->last_requests || p->now_ns <= s->last_now))
        s->backwards++;
    s->calls++;
    s->last_requests = p->requests;
    s->last_now = p->now_ns;
    s->end = p->end_ns;
}

/* The shipped trace replay, 40 ms, one run. */
static void run_once(const exec_progress_t *progress, result_t *out)
{
    const char *src = getenv("LATSURF_SRC");
    char file[1024];
    snprintf(file, sizeof(file), "%s/scenarios/wsrch-replay.json", src ? src : LATSURF_SOURCE_DIR);
    char path_set[1100];
    snprintf(path_set, sizeof(path_set), "workload.0.path=%s/scenarios/traces/wsrch-small.trace",
             src ? src : LATSURF_SOURCE_DIR);
    char *sets[] = {(char *)"run.duration_ms=40", (char *)"run.warmup_ms=5", path_set};
    scn_t *s = NULL;
    char err[1024];
    if (scn_load(file, sets, 3, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    result_init(out);
    if (runner_run_progress(s, 0, 0, NULL, progress, out, err, sizeof(err)) != 0)
        fail_msg("runner_run: %s", err);
    scn_free(s);
}

static void test_progress_reports_as_the_run_goes(void **state)
{
    (void)state;
    seen_t seen = {0};
    exec_progress_t pr = {on_progress, &seen, 0}; /* every simulated millisecond */
    result_t r;
    run_once(&pr, &r);
    assert_true(seen.calls >= 38); /* the watch runs each simulated ms */
    assert_int_equal(seen.backwards, 0);
    assert_true(seen.last_requests > 0);
    assert_int_equal(seen.end, 40000000);
    assert_true(seen.last_now <= seen.end);
    result_fini(&r);
}

static void test_progress_does_not_change_results(void **state)
{
    (void)state;
    result_t a, b;
    run_once(NULL, &a);
    seen_t seen = {0};
    exec_progress_t pr = {on_progress, &seen, 0};
    run_once(&pr, &b);
    assert_true(seen.calls > 0);
    assert_int_equal(a.nmetric, b.nmetric);
    for (size_t i = 0; i < a.nmetric; i++) {
        assert_string_equal(a.metric[i].name, b.metric[i].name);
        if (a.metric[i].value != b.metric[i].value)
            fail_msg("%s: %.17g without progress, %.17g with", a.metric[i].name,
                     a.metric[i].value, b.metric[i].value);
    }
    result_fini(&a);
    result_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_reports_as_the_run_goes),
        cmocka_unit_test(test_progress_does_not_change_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
