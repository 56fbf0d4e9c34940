/*
 * calhog.c - see calhog.h.
 */
#define _GNU_SOURCE
#include "calhog.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

typedef struct {
    int cpu;
    uint64_t period, busy;
    atomic_int quit;
} hog_t;

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void sleep_until(uint64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

void calhog_duty(uint64_t period_ns, uint64_t busy_ns, const atomic_int *stop)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    for (uint64_t k = 0; !atomic_load(stop); k++) {
        uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0 < busy_ns && !atomic_load(stop))
            ;
        sleep_until(start + (k + 1) * period_ns);
    }
}

static void *hog_main(void *arg)
{
    hog_t *h = arg;
    if (pin_self(h->cpu))
        return NULL;
    calhog_duty(h->period, h->busy, &h->quit);
    return NULL;
}

int calhog_wakeup(int cpu, const calhog_cfg_t *cfg, calstat_vec_t *out, double *cycles_per_s,
                  calprobe_stop_t *stop)
{
    *cycles_per_s = 0;
    cpu_set_t old;
    if (pthread_getaffinity_np(pthread_self(), sizeof(old), &old))
        return -EINVAL;
    int rc = pin_self(cpu);
    if (rc)
        return rc;
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    hog_t h = {cpu, (uint64_t)(cfg->period_us * 1e3), (uint64_t)(cfg->busy_us * 1e3), 0};
    pthread_t th;
    int hog = h.busy > 0;
    if (hog && (rc = -pthread_create(&th, NULL, hog_main, &h)) != 0)
        hog = 0;
    uint64_t sleep = (uint64_t)(cfg->sleep_us * 1e3), run = (uint64_t)(cfg->run_us * 1e3);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(cfg->secs * 1e9), n = 0;
    while (!rc) {
        if (*stop) {
            rc = -EINTR;
            break;
        }
        uint64_t want = clock_ns(CLOCK_MONOTONIC) + sleep;
        sleep_until(want);
        uint64_t woke = clock_ns(CLOCK_MONOTONIC);
        rc = calstat_push(out, woke > want ? (double)(woke - want) : 0.0);
        while (clock_ns(CLOCK_MONOTONIC) - woke < run)
            ;
        n++;
        if (woke >= end)
            break;
    }
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    if (hog) {
        atomic_store(&h.quit, 1);
        pthread_join(th, NULL);
    }
    if (t1 > t0)
        *cycles_per_s = (double)n * 1e9 / (double)(t1 - t0);
    prctl(PR_SET_TIMERSLACK, slack > 0 ? (unsigned long)slack : 0UL, 0, 0, 0);
    pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
    return rc;
}
