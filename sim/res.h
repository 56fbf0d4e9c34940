/*
 * res.h - a service resource: c identical servers in front of a queue that is
 * FIFO within each of `nprio` strict-priority classes (class 0 first).
 *
 * A job arrives with its service time already drawn (so that variants share
 * draws under common random numbers); when it finishes, its done callback
 * runs. The resource accounts utilisation (busy server-time), the time
 * average of the number in system, and sojourn times, so that Little's law
 * can be checked on any run.
 */
#ifndef LATSURF_RES_H
#define LATSURF_RES_H

#include "sim.h"

typedef struct res res_t;

res_t *res_new(sim_t *sim, unsigned servers, unsigned nprio);
void res_free(res_t *r);

/* 0, or -ENOMEM (the job is refused and the run's sticky error set, see
 * sim_fail). prio >= nprio is clamped to the lowest class. */
int res_submit(res_t *r, unsigned prio, sim_time_t service, sim_handler_fn done, void *ctx,
               uint64_t arg);

unsigned res_busy(const res_t *r);
uint64_t res_queued(const res_t *r);

typedef struct {
    sim_time_t elapsed;       /* since the last res_reset_stats */
    uint64_t arrivals, departures;
    double utilisation;       /* busy server-time / (servers * elapsed) */
    double mean_in_system;    /* time average of queued + in service */
    double mean_sojourn_ns;   /* over departed jobs */
    double mean_wait_ns;      /* queueing delay only */
} res_stats_t;

void res_stats(const res_t *r, res_stats_t *out);
void res_reset_stats(res_t *r); /* end of warm-up: forget the past */

#endif
