/*
 * bench_path.c - see bench_path.h. The scenario is built here so the bench
 * needs no file; it goes through scn_load like any other, then runner_run.
 */
#include "bench_path.h"

#include "run/runner.h"
#include "run/scenario.h"

#include <errno.h>
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

int bench_path_run(double n, bench_path_result_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char tmpl[] = "/tmp/latsurf-bench-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        int e = -errno;
        snprintf(err, errlen, "mkstemp: %s", strerror(errno));
        return e;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = -errno;
        close(fd);
        unlink(tmpl);
        snprintf(err, errlen, "%s: %s", tmpl, strerror(-e));
        return e;
    }
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
    int rc = scn_load(tmpl, NULL, 0, &s, err, errlen);
    unlink(tmpl);
    if (rc)
        return rc;
    result_t res;
    result_init(&res);
    double c0 = cpu_seconds(), w0 = wall_seconds();
    rc = runner_run(s, 0, 0, NULL, &res, err, errlen);
    out->cpu_s = cpu_seconds() - c0;
    out->wall_s = wall_seconds() - w0;
    if (rc == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        out->maxrss_kib = ru.ru_maxrss;
        out->requests = res.requests;
        out->events = res.events;
        result_get_id(&res, METRIC_IOPS, &out->iops);
    }
    result_fini(&res);
    scn_free(s);
    return rc;
}
