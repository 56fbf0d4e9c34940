/*
 * hog.c - see hog.h.
 */
#define _GNU_SOURCE
#include "hog.h"

#include "calibrate/calhog.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
    pthread_t th;
    bool started;
    uint32_t cpu;
    int nice;
    uint64_t period_ns, busy_ns;
    atomic_int *stop;
} hog_thread_t;

struct live_hog {
    atomic_int stop;
    hog_thread_t *t;
    uint32_t n;
};

static void *hog_main(void *arg)
{
    hog_thread_t *t = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(t->cpu, &set);
    /* failures here leave a hog that is not where the scenario says: the
     * start checked the CPU exists; nice may need CAP_SYS_NICE below 0 */
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), t->nice);
    calhog_duty(t->period_ns, t->busy_ns, t->stop);
    return NULL;
}

int live_hog_start(const host_cfg_t *h, uint32_t ncpus, live_hog_t **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    if (!h || h->nbackground == 0)
        return 0;
    for (uint32_t i = 0; i < h->nbackground; i++)
        if (h->background[i].cpu >= ncpus) {
            snprintf(err, errlen, "host.background.%u.cpu: CPU %u, but this host has %u online",
                     i, h->background[i].cpu, ncpus);
            return -EINVAL;
        }
    live_hog_t *g = calloc(1, sizeof(*g));
    if (!g || !(g->t = calloc(h->nbackground, sizeof(*g->t)))) {
        free(g);
        return -ENOMEM;
    }
    atomic_init(&g->stop, 0);
    g->n = h->nbackground;
    for (uint32_t i = 0; i < g->n; i++) {
        const host_background_t *b = &h->background[i];
        hog_thread_t *t = &g->t[i];
        *t = (hog_thread_t){.cpu = b->cpu, .nice = b->nice,
                            .period_ns = (uint64_t)(b->period_us * 1000),
                            .busy_ns = (uint64_t)(b->busy_us * 1000), .stop = &g->stop};
        int rc = pthread_create(&t->th, NULL, hog_main, t);
        if (rc) {
            snprintf(err, errlen, "host.background.%u: cannot start its thread: %s", i,
                     strerror(rc));
            live_hog_stop(g);
            return -rc;
        }
        t->started = true;
    }
    *out = g;
    return 0;
}

void live_hog_stop(live_hog_t *g)
{
    if (!g)
        return;
    atomic_store(&g->stop, 1);
    for (uint32_t i = 0; i < g->n; i++)
        if (g->t[i].started)
            pthread_join(g->t[i].th, NULL);
    free(g->t);
    free(g);
}
