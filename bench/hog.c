/*
 * hog.c - a CPU hog as latsurf's host.background models one: pinned to a
 * CPU, it runs BUSY_US of its own CPU time every PERIOD_US (a period starts
 * every PERIOD_US from its start; when the work is done it sleeps to the next
 * start on an absolute hrtimer with no slack), for SECONDS. Used by
 * bench/hog_vs_fio.sh.
 *
 *   bench_hog CPU PERIOD_US BUSY_US SECONDS
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static long long ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (long long)t.tv_sec * 1000000000ll + t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s CPU PERIOD_US BUSY_US SECONDS\n", argv[0]);
        return 2;
    }
    int cpu = atoi(argv[1]);
    long long period = atoll(argv[2]) * 1000, busy = atoll(argv[3]) * 1000;
    long long end = ns(CLOCK_MONOTONIC) + (long long)(atof(argv[4]) * 1e9);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        perror("sched_setaffinity");
        return 1;
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    long long start = ns(CLOCK_MONOTONIC);
    for (long long k = 0; start + k * period < end; k++) {
        long long c0 = ns(CLOCK_THREAD_CPUTIME_ID);
        while (ns(CLOCK_THREAD_CPUTIME_ID) - c0 < busy)
            ;
        long long next = start + (k + 1) * period;
        struct timespec t = {next / 1000000000ll, next % 1000000000ll};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) != 0)
            ;
    }
    return 0;
}
