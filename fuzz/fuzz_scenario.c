/*
 * fuzz_scenario.c - the scenario loader with --set (cli/scenario.h), and a
 * short run of what it accepts.
 *
 * Input: scenario JSON text, optionally followed by a line "--" and then one
 * `--set KEY=VALUE` assignment per line; or, when it does not start with
 * '{', only assignment lines, applied to a small valid scenario with every
 * workload type and two variants (so mutations of values reach the models
 * instead of failing in the JSON parser). A scenario that loads is then run
 * for 50 us of simulated time (variant 0 and the last, replication 0, at
 * most 50 recorded requests): building the models and starting the
 * workloads is where a value the loader let through would allocate or loop
 * in proportion to itself, so the run belongs to the loader's contract.
 * Inputs naming files under /dev, /proc or /sys are skipped (a trace path
 * of /dev/stdin would block, not fail).
 */
#include "fuzz/fuzz_util.h"

#include "run/runner.h"
#include "run/scenario.h"
#include "sim/result.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_SCN_MAX_SETS 16

static const char fuzz_scn_base[] =
    "{\"name\":\"fz\",\"host\":{\"cpus\":4,\"numa_nodes\":2},"
    "\"devices\":[{\"queues\":2,\"irq_coalescing\":{\"time_us\":10,\"threshold\":4}}],"
    "\"workload\":[{\"type\":\"poisson\",\"rate_iops\":200000},{\"type\":\"agentic\",\"agents\":2},"
    "{\"type\":\"retrieval\"},{\"type\":\"kvcache\"},{\"type\":\"checkpoint\"},"
    "{\"type\":\"bulk\"},{\"type\":\"trace\",\"path\":\"tests/fixtures/traces/fio_v3.log\","
    "\"format\":\"fio-iolog\"}],"
    "\"variants\":[{\"name\":\"base\"},{\"name\":\"co\",\"affinity\":\"consumer\","
    "\"mode\":\"adaptive\",\"registration\":\"cache\",\"hints\":\"deadline\"}],"
    "\"run\":{\"duration_ms\":1,\"warmup_ms\":0,\"replications\":1}}";
#define FUZZ_SCN_RUN_MS 0.05

/* On the base scenario, only lines shaped like KEY=VALUE are applied, so a
 * mutation of one line does not throw away the others. */
static bool fuzz_scn_key_ok(const char *l)
{
    size_t k = strspn(l, "abcdefghijklmnopqrstuvwxyz0123456789_.");
    return k > 0 && l[k] == '=';
}

static void fuzz_scn_run(scn_t *s)
{
    s->run.duration_ms = FUZZ_SCN_RUN_MS;
    s->run.warmup_ms = 0;
    if (s->run.record_requests > 50)
        s->run.record_requests = 50;
    uint32_t vars[2] = {0, s->nvar - 1};
    for (int i = 0; i < (s->nvar > 1 ? 2 : 1); i++) {
        result_t res;
        result_init(&res);
        char err[1024];
        runner_run(s, vars[i], 0, NULL, &res, err, sizeof(err));
        result_fini(&res);
    }
}

int fuzz_scenario_one(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    if (strstr(text, "/dev") || strstr(text, "/proc") || strstr(text, "/sys")) {
        free(text);
        return 0;
    }
    char *sets[FUZZ_SCN_MAX_SETS], *save = NULL;
    size_t nsets = 0, json_len = size;
    bool sets_only = text[strspn(text, " \t\r\n")] != '{';
    char *sep = sets_only ? NULL : strstr(text, "\n--\n");
    char *lines = sets_only ? text : sep ? sep + 4 : NULL;
    if (sep)
        json_len = (size_t)(sep - text);
    for (char *l = lines ? strtok_r(lines, "\n", &save) : NULL; l && nsets < FUZZ_SCN_MAX_SETS;
         l = strtok_r(NULL, "\n", &save))
        if (!sets_only || fuzz_scn_key_ok(l))
            sets[nsets++] = l;
    const char *path = sets_only ? fuzz_write((const uint8_t *)fuzz_scn_base,
                                              sizeof(fuzz_scn_base) - 1)
                                 : fuzz_write(data, json_len);
    if (path) {
        scn_t *s = NULL;
        char err[1024] = "";
        if (scn_load(path, sets, nsets, &s, err, sizeof(err)) == 0) {
            fuzz_scn_run(s);
            scn_free(s);
        } else if (!err[0]) {
            abort(); /* every failure must say why */
        }
    }
    free(text);
    return 0;
}

#ifdef LATSURF_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_scenario_one(data, size);
}
#endif
