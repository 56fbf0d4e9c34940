/* test_trace_replay.c - the `trace` workload on a fake I/O path that completes every request
 * a fixed delay after submission: open-loop timing, closed-loop dependency order and think
 * time, barriers, qd, loop, max_requests, the window rule (errors with file:line) and the
 * real DiskSim traces replayed end to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "workload/workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DELAY 1000 /* ns from submit to done */
#define MAXLOG 32

typedef struct fake {
    sim_t *sim;
    uint64_t n, inflight, max_inflight;
    sim_time_t issue[MAXLOG];
    uint64_t tag[MAXLOG];
    uint64_t off[MAXLOG];
    /* for long runs: check each request against what the test knows */
    sim_time_t (*expect)(uint64_t tag);
    uint64_t mismatches;
    bool instant; /* complete at once instead of after DELAY */
} fake_t;

static fake_t *g_fake; /* the run in progress */

static void fake_complete(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    req_t *r = ctx;
    g_fake->inflight--;
    r->t[T_READY] = sim_now(sim);
    r->done(sim, r);
}

static void fake_submit(void *path, req_t *r)
{
    fake_t *f = path;
    if (f->n < MAXLOG) {
        f->issue[f->n] = r->t[T_ISSUE];
        f->tag[f->n] = r->tag;
        f->off[f->n] = r->offset;
    }
    if (f->expect && f->expect(r->tag) != r->t[T_ISSUE])
        f->mismatches++;
    f->n++;
    f->inflight++;
    if (f->inflight > f->max_inflight)
        f->max_inflight = f->inflight;
    sim_after(f->sim, f->instant ? 0 : DELAY, fake_complete, r, 0);
}

static const char *write_tmp(const char *text)
{
    return tu_write_tmp("replay", text);
}

/* Parse an entry; returns 0 or the parse error (message in err). */
static int parse(const char *json, void **params, char *err, size_t n)
{
    return tu_wl_parse("trace", json, params, err, n);
}

/* Run one trace entry to `end` (then drain) on the fake path. */
static void replay(const char *json, sim_time_t end, fake_t *f)
{
    char err[700];
    void *params = NULL, *inst = NULL;
    if (parse(json, &params, err, sizeof(err)) != 0)
        fail_msg("parse failed: %s", err);
    const wl_ops_t *ops = wl_find("trace");
    f->sim = sim_new();
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = f->sim, .pool = pool, .seed = 1, .ncpus = 2, .end = end,
                    .submit = fake_submit, .path = f};
    g_fake = f;
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(f->sim, end + 100 * DELAY);
    assert_int_equal(req_pool_live(pool), 0);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(f->sim);
}

static void test_open_and_closed(void **state)
{
    (void)state;
    fake_t f = {0};
    char json[512];
    snprintf(json, sizeof(json), "{\"path\": \"%s\"}",
             tu_src("tests/fixtures/traces/ok.jsonl"));
    replay(json, SIM_MS(1), &f);
    assert_int_equal(f.n, 4);
    /* id 10 at 0 (normalised); id 13 (open, t=500) is a barrier reached before
     * id 11 (after 10 + 500 think) and id 12 (after 10 and 11) */
    assert_int_equal(f.tag[0], 0);
    assert_int_equal(f.issue[0], 0);
    assert_int_equal(f.tag[1], 3);
    assert_int_equal(f.issue[1], 500);
    assert_int_equal(f.tag[2], 1);
    assert_int_equal(f.issue[2], DELAY + 500);
    assert_int_equal(f.tag[3], 2);
    assert_int_equal(f.issue[3], DELAY + 500 + DELAY);
}

static void test_barrier_and_scale(void **state)
{
    (void)state;
    const char *p = write_tmp("{\"id\":1,\"t_ns\":0}\n{\"id\":2,\"t_ns\":2000}\n"
                        "{\"id\":3,\"after\":[],\"think_ns\":100}\n"
                        "{\"id\":4,\"after\":[1,3],\"think_ns\":10}\n");
    fake_t f = {0};
    char json[512];
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"start_ms\": 0.01}", p);
    replay(json, SIM_MS(1), &f);
    assert_int_equal(f.n, 4);
    assert_int_equal(f.issue[0], 10000);
    assert_int_equal(f.issue[1], 12000);
    assert_int_equal(f.issue[2], 12100);               /* empty after: barrier + think */
    assert_int_equal(f.issue[3], 12100 + DELAY + 10); /* its later dependency + think */
    fake_t g = {0};
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"time_scale\": 0.5}", p);
    replay(json, SIM_MS(1), &g);
    assert_int_equal(g.issue[1], 1000);
    assert_int_equal(g.issue[2], 1050);
    assert_int_equal(g.issue[3], 1050 + DELAY + 5);
    unlink(p);
}

static void test_qd_loop_max(void **state)
{
    (void)state;
    const char *p = write_tmp("{\"id\":1,\"t_ns\":0}\n{\"id\":2,\"t_ns\":0}\n{\"id\":3,\"t_ns\":0}\n"
                        "{\"id\":4,\"t_ns\":0}\n{\"id\":5,\"t_ns\":100}\n");
    char json[512];
    fake_t f = {0};
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"qd\": 2}", p);
    replay(json, SIM_MS(1), &f);
    assert_int_equal(f.n, 5);
    assert_int_equal(f.max_inflight, 2);
    assert_int_equal(f.issue[1], 0);
    assert_int_equal(f.issue[2], DELAY);
    assert_int_equal(f.issue[3], DELAY);
    assert_int_equal(f.issue[4], 2 * DELAY);
    /* loop: the next pass starts once the last one is done, until the run ends */
    fake_t g = {0};
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"loop\": true}", p);
    replay(json, 3350, &g);
    /* passes start at 0, 1100, 2200, 3300; the run ends at 3350, before the last t=100 */
    assert_int_equal(g.n, 19);
    assert_int_equal(g.issue[5], DELAY + 100);
    assert_int_equal(g.tag[5], 5);
    assert_int_equal(g.issue[10], 2 * (DELAY + 100));
    /* with instant storage a pass takes no time: looping would never end */
    const char *p0 = write_tmp("{\"id\":1,\"t_ns\":7}\n{\"id\":2,\"after\":[1]}\n");
    fake_t z = {.instant = true};
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"loop\": true}", p0);
    replay(json, SIM_MS(1), &z);
    assert_int_equal(z.n, 2);
    unlink(p0);
    /* ... while a pass that does take time loops: 100 ns per pass of 5 */
    fake_t y = {.instant = true};
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"loop\": true}", p);
    replay(json, 1000, &y);
    assert_int_equal(y.n, 9 * 5 + 4);
    fake_t h = {0};
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"max_requests\": 3}", p);
    replay(json, SIM_MS(1), &h);
    assert_int_equal(h.n, 3);
    unlink(p);
}

/* Run one trace entry that parses but holds a bad line: the run's sticky
 * error (-EINVAL) and its message in err. */
static int replay_err(const char *json, sim_time_t end, char *err, size_t n)
{
    void *params = NULL, *inst = NULL;
    if (parse(json, &params, err, n) != 0)
        fail_msg("parse failed: %s", err);
    const wl_ops_t *ops = wl_find("trace");
    fake_t f = {.sim = sim_new()};
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = f.sim, .pool = pool, .seed = 1, .ncpus = 2, .end = end,
                    .submit = fake_submit, .path = &f};
    g_fake = &f;
    assert_int_equal(ops->start(params, &env, &inst), 0);
    sim_run(f.sim, end + 100 * DELAY);
    int rc = sim_error(f.sim);
    snprintf(err, n, "%s", sim_error_msg(f.sim));
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(f.sim);
    return rc;
}

/* The window rule is checked as the trace is read: the run fails with file:line as bad
 * input, wherever the line is (also beyond the run's end: the rest is read then). */
static void test_window_errors(void **state)
{
    (void)state;
    char json[512], err[700];
    void *params;
    snprintf(json, sizeof(json), "{\"path\": \"%s\"}",
             tu_src("tests/fixtures/traces/bad_future.jsonl"));
    assert_int_equal(replay_err(json, SIM_MS(100), err, sizeof(err)), -EINVAL);
    if (!strstr(err, "bad_future.jsonl:2: after: id 3"))
        fail_msg("%s", err);
    /* 40 records, the last waits on the first: fine with a window of 64, not of 16 */
    char text[4096] = "";
    for (int i = 0; i < 39; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "{\"id\":%d,\"t_ns\":%d}\n",
                 i, i);
    strcat(text, "{\"id\":39,\"after\":[0]}\n");
    const char *p = write_tmp(text);
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"window\": 64}", p);
    assert_int_equal(replay_err(json, SIM_MS(100), err, sizeof(err)), 0);
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"window\": 16}", p);
    assert_int_equal(replay_err(json, SIM_MS(100), err, sizeof(err)), -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s:40: after: id 0", p);
    if (!strstr(err, want))
        fail_msg("%s", err);
    /* the run ends at 1 us, before the bad record is reached: it is still found */
    assert_int_equal(replay_err(json, 1000, err, sizeof(err)), -EINVAL);
    if (!strstr(err, want))
        fail_msg("%s", err);
    /* the window includes the record `window` back, and a repeated id is an error */
    text[0] = '\0';
    for (int i = 0; i < 16; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "{\"id\":%d,\"t_ns\":%d}\n",
                 i, i);
    strcat(text, "{\"id\":16,\"after\":[0]}\n{\"id\":5,\"t_ns\":20}\n");
    unlink(p);
    p = write_tmp(text);
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"window\": 16}", p);
    assert_int_equal(replay_err(json, SIM_MS(100), err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:18: id 5 repeats", p);
    if (!strstr(err, want))
        fail_msg("%s", err);
    unlink(p);
    /* scenario errors name the key */
    assert_int_not_equal(parse("{\"format\": \"disksim\"}", &params, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "path"));
    assert_int_not_equal(parse("{\"path\": \"x\", \"format\": \"tar\"}", &params, err,
                               sizeof(err)), 0);
    assert_non_null(strstr(err, "format"));
    assert_int_not_equal(parse("{\"path\": \"/nonexistent/t.jsonl\"}", &params, err,
                               sizeof(err)), 0);
    assert_non_null(strstr(err, "cannot open"));
}

/* A long closed-loop trace through a small window: 8 interleaved chains, each record
 * waiting on the previous record of its chain. Every issue must be exactly its
 * dependency's completion + think, and the window must keep wrapping. */
#define CHAINS 8
#define CHAIN_N 20000
static sim_time_t chain_expect(uint64_t tag)
{
    uint64_t step = tag / CHAINS;
    return step * (DELAY + 50);
}

static void test_long_chains(void **state)
{
    (void)state;
    char path[] = "/tmp/latsurf-chains-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < CHAINS * CHAIN_N; i++) {
        if (i < CHAINS)
            fprintf(f, "{\"id\":%d,\"t_ns\":0}\n", i);
        else
            fprintf(f, "{\"id\":%d,\"after\":[%d],\"think_ns\":50}\n", i, i - CHAINS);
    }
    fclose(f);
    fake_t fk = {.expect = chain_expect};
    char json[256];
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"window\": 32}", path);
    replay(json, SIM_MS(1000), &fk);
    assert_int_equal(fk.n, CHAINS * CHAIN_N);
    assert_int_equal(fk.mismatches, 0);
    assert_true(fk.max_inflight <= CHAINS);
    unlink(path);
}

/* Overload: 5000 requests all due at once. The window bounds what is outstanding (and so
 * memory); the rest are issued late, as slots free up, and none is lost. */
static void test_window_bounds_overload(void **state)
{
    (void)state;
    char path[] = "/tmp/latsurf-burst-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 5000; i++)
        fprintf(f, "{\"id\":%d,\"t_ns\":0}\n", i);
    fclose(f);
    fake_t fk = {0};
    char json[256];
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"window\": 64}", path);
    replay(json, SIM_MS(1000), &fk);
    assert_int_equal(fk.n, 5000);
    assert_int_equal(fk.max_inflight, 64);
    unlink(path);
}

/* The real traces replay open loop: each request issued at its trace time. */
static sim_time_t *g_times;
static sim_time_t times_expect(uint64_t tag) { return g_times[tag]; }

static void replay_real(const char *rel, uint64_t n)
{
    FILE *t = fopen(tu_src("%s", rel), "r");
    assert_non_null(t);
    g_times = calloc(n + 1, sizeof(*g_times));
    unsigned long long ts, first = 0;
    uint64_t i = 0;
    while (i <= n && fscanf(t, "%llu %*u %*u %*u %*u", &ts) == 1) {
        if (i == 0)
            first = ts;
        g_times[i++] = ts - first;
    }
    fclose(t);
    assert_int_equal(i, n);
    fake_t f = {.expect = times_expect};
    char json[512];
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"format\": \"disksim\"}", tu_src("%s", rel));
    replay(json, SIM_MS(61000), &f);
    assert_int_equal(f.n, n);
    assert_int_equal(f.mismatches, 0);
    free(g_times);
}

/* wrap_bytes: offsets modulo the target, pulled back (aligned) to fit; not
 * a multiple of 4096 is a parse error. */
static void test_wrap_bytes(void **state)
{
    (void)state;
    const char *path = write_tmp("{\"id\":0,\"t_ns\":0,\"offset\":12288}\n"
                                 "{\"id\":1,\"t_ns\":10,\"offset\":1056768}\n"
                                 "{\"id\":2,\"t_ns\":20,\"offset\":2093056,\"bytes\":16384}\n");
    char json[600], err[700];
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"wrap_bytes\": 1048576}", path);
    fake_t f = {0};
    replay(json, 1000000, &f);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.off[0], 12288);           /* inside: as written */
    assert_int_equal(f.off[1], 1056768 - 1048576); /* folded */
    /* 2093056 mod 1 MiB = 1044480, whose 16 KiB would pass the end: pulled back */
    assert_int_equal(f.off[2], 1048576 - 16384);
    void *params = NULL;
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"wrap_bytes\": 1000}", path);
    assert_int_not_equal(parse(json, &params, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "wrap_bytes"));
    unlink(path);
}

static void test_real_traces(void **state)
{
    (void)state;
    replay_real("scenarios/traces/tpcc-small.trace", 6999);
    replay_real("scenarios/traces/wsrch-small.trace", 24783);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_and_closed), cmocka_unit_test(test_barrier_and_scale),
        cmocka_unit_test(test_qd_loop_max),     cmocka_unit_test(test_window_errors),
        cmocka_unit_test(test_long_chains),     cmocka_unit_test(test_window_bounds_overload),
        cmocka_unit_test(test_real_traces),     cmocka_unit_test(test_wrap_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
