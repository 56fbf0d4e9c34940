/*
 * bench_path.h - the `latsurf bench path` workload: requests through the
 * full simulated storage path (4 KiB random reads, QD32 per CPU, 16 CPUs,
 * 8-channel SSD), timed in CPU and wall seconds, with peak RSS. The command
 * (cli/cmd_bench.c) parses the options and prints the numbers.
 */
#ifndef LATSURF_BENCH_PATH_H
#define LATSURF_BENCH_PATH_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    uint64_t requests, events;  /* simulated */
    double iops;                /* simulated IOPS */
    double cpu_s, wall_s;       /* this process's time for the run */
    long maxrss_kib;            /* peak RSS of this process */
} bench_path_result_t;

/* Simulate about `requests` requests (>= 1000). 0 or -errno with err. */
int bench_path_run(double requests, bench_path_result_t *out, char *err, size_t errlen);

#endif
