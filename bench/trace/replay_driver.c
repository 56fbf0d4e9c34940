/*
 * replay_driver.c - drives the trace readers and the `trace` workload on a
 * fake I/O path (every request completes a fixed delay after submission) and
 * reports records/s and peak RSS. bench/trace_rss.sh builds and runs it; it
 * lives below bench/ so the benchmark glob (engine-only) does not pick it up.
 *
 *   replay_driver FILE [--format F] [--read-only] [--delay-ns N] [--window N]
 */
#include "workload/trace.h"
#include "workload/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static sim_t *g_sim;
static uint64_t g_delay = 10000, g_done;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static void fake_complete(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    req_t *r = ctx;
    g_done++;
    r->done(sim, r);
}

static void fake_submit(void *path, req_t *r)
{
    (void)path;
    sim_after(g_sim, g_delay, fake_complete, r, 0);
}

int main(int argc, char **argv)
{
    const char *file = NULL, *fmt = "jsonl";
    bool read_only = false;
    unsigned window = 65536;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc)
            fmt = argv[++i];
        else if (!strcmp(argv[i], "--read-only"))
            read_only = true;
        else if (!strcmp(argv[i], "--delay-ns") && i + 1 < argc)
            g_delay = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--window") && i + 1 < argc)
            window = (unsigned)strtoul(argv[++i], NULL, 10);
        else
            file = argv[i];
    }
    if (!file) {
        fprintf(stderr, "usage: replay_driver FILE [--format F] [--read-only] [--delay-ns N] "
                        "[--window N]\n");
        return 2;
    }
    if (read_only) {
        char err[600];
        trace_reader_t *rd;
        if (trace_open(file, fmt, &rd, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        trace_rec_t rec;
        int rc;
        double t0 = wall(), c0 = cpu();
        while ((rc = trace_next(rd, &rec)) == 1)
            ;
        double dt = wall() - t0, dc = cpu() - c0;
        if (rc < 0) {
            fprintf(stderr, "%s\n", trace_error(rd));
            return 2;
        }
        uint64_t n = trace_stats(rd)->records;
        printf("read    records=%llu wall_s=%.2f cpu_s=%.2f records_per_cpu_s=%.0f "
               "peak_rss_mib=%.1f\n",
               (unsigned long long)n, dt, dc, n / dc, peak_rss_kib() / 1024.0);
        trace_close(rd);
        return 0;
    }
    char json[2048];
    snprintf(json, sizeof(json), "{\"path\": \"%s\", \"format\": \"%s\", \"window\": %u}", file,
             fmt, window);
    json_t *e = json_loads(json, 0, NULL);
    cfg_t c;
    cfg_init(&c, "bench");
    const wl_ops_t *ops = wl_find("trace");
    void *params, *inst;
    double t0 = wall(), c0 = cpu();
    if (!e || ops->parse(&c, e, &params) < 0) {
        fprintf(stderr, "%s\n", c.err);
        return 2;
    }
    double t1 = wall(), c1 = cpu();
    g_sim = sim_new();
    req_pool_t *pool = req_pool_new();
    wl_env_t env = {.sim = g_sim, .pool = pool, .seed = 1, .ncpus = 16,
                    .end = SIM_TIME_MAX / 2, .submit = fake_submit};
    if (ops->start(params, &env, &inst) < 0)
        return 1;
    sim_run(g_sim, SIM_TIME_MAX / 2);
    double t2 = wall(), c2 = cpu();
    printf("check   wall_s=%.2f cpu_s=%.2f (whole-file check when the scenario is parsed)\n",
           t1 - t0, c1 - c0);
    printf("replay  requests=%llu wall_s=%.2f cpu_s=%.2f requests_per_cpu_s=%.0f "
           "sim_events=%llu peak_rss_mib=%.1f\n",
           (unsigned long long)g_done, t2 - t1, c2 - c1, g_done / (c2 - c1),
           (unsigned long long)sim_events(g_sim), peak_rss_kib() / 1024.0);
    ops->inst_free(inst);
    ops->params_free(params);
    req_pool_free(pool);
    sim_free(g_sim);
    json_decref(e);
    return 0;
}
