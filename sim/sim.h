/*
 * sim.h - the discrete-event engine: an integer-nanosecond clock, a pool of
 * pending events and the run loop.
 *
 * An event is a handler, an opaque context pointer and one 64-bit argument.
 * Events live in a pool owned by the engine and recycled through a free list,
 * so scheduling never calls malloc once the pool has grown to the peak number
 * of pending events. Events with equal times run in the order they were
 * scheduled (FIFO), which keeps runs deterministic.
 *
 * Timers can be cancelled through the handle returned when they were set; a
 * cancelled event stays in the pending set and is dropped when it reaches the
 * head (lazy deletion), which keeps cancellation O(1).
 *
 * A run has one sticky error (see sim_fail): the first failure on the event
 * path is recorded with its message and stops the run, so a request is never
 * lost silently; the caller checks sim_error() after sim_run().
 */
#ifndef LATSURF_SIM_H
#define LATSURF_SIM_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t sim_time_t;            /* nanoseconds since the run started */
#define SIM_TIME_MAX UINT64_MAX
#define SIM_US(x) ((sim_time_t)((x) * 1000.0))
#define SIM_MS(x) ((sim_time_t)((x) * 1000000.0))

typedef struct sim sim_t;
typedef void (*sim_handler_fn)(sim_t *sim, void *ctx, uint64_t arg);
/* A handler with nothing to do: work whose end nobody waits for. */
void sim_nothing(sim_t *sim, void *ctx, uint64_t arg);

/* Handle of a scheduled event; {0,0} is never a live event. */
typedef struct {
    uint32_t slot;
    uint32_t gen;
} sim_timer_t;

sim_t *sim_new(void);
void sim_free(sim_t *sim);

/* The clock is read on every event of every model, so it is inline: the
 * engine's struct begins with it (sim.c asserts this), and a pointer to a
 * struct is a pointer to its first member (C11 6.7.2.1); nothing else of
 * the struct is public. */
static inline sim_time_t sim_now(const sim_t *sim) { return *(const sim_time_t *)(const void *)sim; }

/* Schedule fn(ctx, arg) at absolute time t (>= now) or after dt. If the
 * event cannot be stored (out of memory) it returns {0,0} and sets the
 * sticky error, so callers need not check. */
sim_timer_t sim_at(sim_t *sim, sim_time_t t, sim_handler_fn fn, void *ctx, uint64_t arg);
static inline sim_timer_t sim_after(sim_t *sim, sim_time_t dt, sim_handler_fn fn, void *ctx,
                                    uint64_t arg)
{
    return sim_at(sim, sim_now(sim) + dt, fn, ctx, arg);
}

/* Cancel a pending event. Returns false if it already ran or was cancelled. */
bool sim_cancel(sim_t *sim, sim_timer_t timer);
bool sim_pending(const sim_t *sim, sim_timer_t timer);

/* Run events with time <= until. Returns the number of events executed by
 * this call. The clock ends at `until` unless sim_stop() was called. */
uint64_t sim_run(sim_t *sim, sim_time_t until);
void sim_stop(sim_t *sim);

/* The sticky error. sim_fail() records the first failure of the run (code a
 * negative errno, message printf-style) and stops it: sim_run() returns after
 * the handler that failed and, from then on, runs nothing. Later failures
 * keep the first. Any module on the event path that cannot go on (an
 * allocation, a refused sim_at, a workload that cannot generate) calls it
 * where it fails; the caller of sim_run() checks sim_error() and treats the
 * run as failed. Returns code, so `return sim_fail(...)` reads naturally. */
int sim_fail(sim_t *sim, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int sim_error(const sim_t *sim);             /* 0, or the first failure's code */
const char *sim_error_msg(const sim_t *sim); /* "" while sim_error() is 0 */

uint64_t sim_events(const sim_t *sim);   /* executed since sim_new */
uint64_t sim_npending(const sim_t *sim); /* scheduled, not yet run (incl. cancelled) */
/* The time of the earliest pending event (a cancelled one may stand in for
 * a later one), SIM_TIME_MAX when none: how long a wall-clock driver may sleep. */
sim_time_t sim_next(const sim_t *sim);

#endif
