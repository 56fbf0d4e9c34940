/*
 * test_fuzz_replay.c - replays every committed fuzz corpus file
 * (fuzz/corpus/<harness>/) through the harness functions, without libFuzzer:
 * the harness sources are included here, so the seeds and every input a
 * fuzzing run found a bug with keep running in `make test` (and under
 * ASan/UBSan in its sanitizer half). A harness aborts when its input breaks
 * the contract it checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fuzz/fuzz_costs.c"
#include "fuzz/fuzz_scenario.c"
#include "fuzz/fuzz_trace.c"
#include "fuzz/fuzz_tracefs.c"
#include "sim/vec.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *dir;
    const char *fmt; /* trace format, NULL for the other harnesses */
    int (*one)(const uint8_t *data, size_t size);
} replay_t;

static int replay_file(const replay_t *h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap)
            assert_int_equal(VEC_RESERVE(buf, cap, len + 4096), 0);
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    /* a finding's input is named in the log before it can crash the test */
    print_message("  %s\n", path);
    fflush(stdout);
    if (h->fmt)
        fuzz_trace_one(h->fmt, buf, len);
    else
        h->one(buf, len);
    free(buf);
    return 0;
}

static size_t replay_dir(const replay_t *h)
{
    const char *src = getenv("LATSURF_SRC");
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", src ? src : LATSURF_SOURCE_DIR, h->dir);
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("no corpus at %s", dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (replay_file(h, path) == 0)
            n++;
    }
    closedir(d);
    fuzz_unlink();
    return n;
}

#define REPLAY(name, fmt, fn)                                                                     \
    static void test_replay_##name(void **state)                                                  \
    {                                                                                             \
        (void)state;                                                                              \
        static const replay_t h = {#name, fmt, fn};                                               \
        assert_true(replay_dir(&h) > 0);                                                          \
    }

REPLAY(scenario, NULL, fuzz_scenario_one)
REPLAY(costs, NULL, fuzz_costs_one)
REPLAY(tracefs, NULL, fuzz_tracefs_one)
REPLAY(trace_jsonl, "jsonl", NULL)
REPLAY(trace_fio, "fio-iolog", NULL)
REPLAY(trace_blkparse, "blkparse", NULL)
REPLAY(trace_msr, "msr-csv", NULL)
REPLAY(trace_disksim, "disksim", NULL)
REPLAY(trace_alibaba, "alibaba", NULL)
REPLAY(trace_tencent, "tencent-cbs", NULL)
REPLAY(trace_spc, "spc", NULL)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_scenario),
        cmocka_unit_test(test_replay_costs),
        cmocka_unit_test(test_replay_tracefs),
        cmocka_unit_test(test_replay_trace_jsonl),
        cmocka_unit_test(test_replay_trace_fio),
        cmocka_unit_test(test_replay_trace_blkparse),
        cmocka_unit_test(test_replay_trace_msr),
        cmocka_unit_test(test_replay_trace_disksim),
        cmocka_unit_test(test_replay_trace_alibaba),
        cmocka_unit_test(test_replay_trace_tencent),
        cmocka_unit_test(test_replay_trace_spc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
