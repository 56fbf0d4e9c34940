/*
 * hog.h - the scenario's host.background load, run for real during a live
 * run: one thread per entry, pinned to its CPU at its nice level, that runs
 * busy_us of its own CPU time every period_us (a period starts every
 * period_us from the start; when its work is done it sleeps to the next
 * start on an absolute CLOCK_MONOTONIC hrtimer with 1 ns timer slack), as
 * the simulator's background task (models/path.c) and bench/hog.c do. The
 * loop is calibrate's (calhog_duty, calibrate/calhog.h): live may use
 * calibrate, not the other way round (tests/test_layers.c), and so the
 * calibration's hog and a live run's background load spin and sleep alike.
 * It owns the threads; nothing else touches them.
 */
#ifndef LATSURF_LIVE_HOG_H
#define LATSURF_LIVE_HOG_H

#include "models/host.h"

#include <stddef.h>
#include <stdint.h>

typedef struct live_hog live_hog_t;

/* Start h's background threads (none: *out = NULL, 0). -EINVAL with err
 * naming host.background.N when an entry's CPU is not one of the ncpus
 * online here, or -errno when a thread cannot be started (the ones started
 * are stopped again). */
int live_hog_start(const host_cfg_t *h, uint32_t ncpus, live_hog_t **out, char *err,
                   size_t errlen);
/* Stop and join them; NULL is fine; idempotent for the caller via NULL. */
void live_hog_stop(live_hog_t *g);

#endif
