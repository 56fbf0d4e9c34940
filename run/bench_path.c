/*
 * bench_path.c - see bench_path.h. The scenario is built here so the bench
 * needs no file; it goes through scn_load like any other, then runner_run.
 */
#include "bench_path.h"

#include "cli/cmd.h"
#include "run/runner.h"
#include "run/scenario.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define BENCH_CPUS 16
#define BENCH_QD 32
/* 8 channels x 4 dies at tR 60 us: about 530k IOPS, so the device, not the
 * host, is the bottleneck of the simulated system (as on real hosts). */
#define BENCH_IOPS_EST 520000.0

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_path_main(int argc, char **argv)
{
    double n = 1e6;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--requests") == 0 || strcmp(argv[i], "--events") == 0) &&
            i + 1 < argc) {
            char *end;
            n = strtod(argv[++i], &end);
            if (*end || !(n >= 1000) || n > 1e10) {
                fprintf(stderr, "latsurf bench path: --requests: expected 1000..1e10, got %s\n",
                        argv[i]);
                return CMD_BADINPUT;
            }
        } else {
            fprintf(stderr, "latsurf bench path: unknown option '%s'\n", argv[i]);
            return CMD_BADINPUT;
        }
    }
    char tmpl[] = "/tmp/latsurf-bench-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        perror("latsurf bench path: mkstemp");
        return CMD_FAIL;
    }
    FILE *f = fdopen(fd, "w");
    fprintf(f, "{\"name\": \"bench-path\", \"host\": {\"cpus\": %d},"
               " \"devices\": [{\"queues\": %d, \"flash\": {\"channels\": 8,"
               " \"dies_per_channel\": 4, \"read_us\": 60}}], \"workload\": [",
            BENCH_CPUS, BENCH_CPUS);
    for (int c = 0; c < BENCH_CPUS; c++)
        fprintf(f, "%s{\"type\": \"bulk\", \"queue_depth\": %d, \"bytes\": 4096,"
                   " \"read_fraction\": 1, \"class\": \"hot-metadata\", \"consumer_cpu\": %d}",
                c ? "," : "", BENCH_QD, c);
    fprintf(f, "], \"run\": {\"duration_ms\": %.3f, \"warmup_ms\": 0, \"replications\": 1}}\n",
            n / BENCH_IOPS_EST * 1e3);
    fclose(f);
    scn_t *s = NULL;
    char err[1024];
    int rc = scn_load(tmpl, NULL, 0, &s, err, sizeof(err));
    unlink(tmpl);
    if (rc) {
        fprintf(stderr, "latsurf bench path: %s\n", err);
        return CMD_FAIL;
    }
    result_t res;
    result_init(&res);
    double c0 = cpu_seconds(), w0 = wall_seconds();
    rc = runner_run(s, 0, 0, &res, err, sizeof(err));
    double cpu = cpu_seconds() - c0, wall = wall_seconds() - w0;
    if (rc) {
        fprintf(stderr, "latsurf bench path: %s\n", err);
        result_fini(&res);
        scn_free(s);
        return CMD_FAIL;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double iops = 0;
    result_get_id(&res, METRIC_IOPS, &iops);
    printf("%.0f requests/s\n", (double)res.requests / cpu);
    printf("  %llu simulated requests (%.0f simulated IOPS), %llu events, %.1f events/request\n"
           "  %.3f s CPU, %.3f s wall (%.0f requests/s of wall time), peak RSS %ld KiB\n",
           (unsigned long long)res.requests, iops, (unsigned long long)res.events,
           (double)res.events / (double)(res.requests ? res.requests : 1), cpu, wall,
           (double)res.requests / wall, ru.ru_maxrss);
    result_fini(&res);
    scn_free(s);
    return CMD_OK;
}
