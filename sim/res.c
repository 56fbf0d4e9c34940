/*
 * res.c - see res.h. Each class queue is a growable ring of jobs; servers
 * hold the job they are serving so the completion event needs only the
 * server index.
 */
#include "res.h"

#include "vec.h"

#include <errno.h>
#include <stdlib.h>

typedef struct {
    sim_time_t service, t_arrive, t_start;
    sim_handler_fn done;
    void *ctx;
    uint64_t arg;
} res_job_t;

typedef struct {
    res_job_t *job;
    size_t head, n, cap;
} res_ring_t;

struct res {
    sim_t *sim;
    unsigned servers, nprio, busy;
    uint64_t queued;
    res_job_t *serving;   /* [servers] */
    unsigned *idle;       /* stack of idle server indices */
    unsigned nidle;
    res_ring_t *q;        /* [nprio] */
    /* statistics since t0 */
    sim_time_t t0, t_last;
    double busy_area, sys_area, sojourn_sum, wait_sum;
    uint64_t arrivals, departures, started;
};

res_t *res_new(sim_t *sim, unsigned servers, unsigned nprio)
{
    if (servers == 0 || nprio == 0)
        return NULL;
    res_t *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->sim = sim;
    r->servers = servers;
    r->nprio = nprio;
    r->serving = calloc(servers, sizeof(*r->serving));
    r->idle = calloc(servers, sizeof(*r->idle));
    r->q = calloc(nprio, sizeof(*r->q));
    if (!r->serving || !r->idle || !r->q) {
        res_free(r);
        return NULL;
    }
    for (unsigned i = 0; i < servers; i++)
        r->idle[r->nidle++] = servers - 1 - i; /* server 0 is taken first */
    r->t0 = r->t_last = sim_now(sim);
    return r;
}

void res_free(res_t *r)
{
    if (!r)
        return;
    if (r->q)
        for (unsigned i = 0; i < r->nprio; i++)
            free(r->q[i].job);
    free(r->q);
    free(r->serving);
    free(r->idle);
    free(r);
}

unsigned res_busy(const res_t *r) { return r->busy; }
uint64_t res_queued(const res_t *r) { return r->queued; }

static void res_account(res_t *r)
{
    sim_time_t now = sim_now(r->sim);
    double dt = (double)(now - r->t_last);
    r->busy_area += dt * r->busy;
    r->sys_area += dt * (double)(r->busy + r->queued);
    r->t_last = now;
}

static int ring_push(res_ring_t *q, const res_job_t *j)
{
    if (q->n == q->cap && VEC_RING_GROW(q->job, q->cap, q->head, q->n) != 0)
        return -ENOMEM;
    q->job[(q->head + q->n) & (q->cap - 1)] = *j; /* VEC_RING_GROW: a power of two */
    q->n++;
    return 0;
}

static void res_on_done(sim_t *sim, void *ctx, uint64_t server);

static void res_start(res_t *r, unsigned server, const res_job_t *j)
{
    res_job_t *s = &r->serving[server];
    *s = *j;
    s->t_start = sim_now(r->sim);
    r->wait_sum += (double)(s->t_start - s->t_arrive);
    r->started++;
    r->busy++;
    sim_after(r->sim, s->service, res_on_done, r, server);
}

static void res_on_done(sim_t *sim, void *ctx, uint64_t server)
{
    res_t *r = ctx;
    res_account(r);
    res_job_t done = r->serving[server];
    r->busy--;
    r->departures++;
    r->sojourn_sum += (double)(sim_now(sim) - done.t_arrive);
    /* Start the next job before the callback, so a job the callback submits
     * queues behind those already waiting. */
    for (unsigned p = 0; p < r->nprio; p++) {
        res_ring_t *q = &r->q[p];
        if (q->n) {
            res_job_t next = q->job[q->head];
            q->head = (q->head + 1) & (q->cap - 1);
            q->n--;
            r->queued--;
            res_start(r, (unsigned)server, &next);
            goto started;
        }
    }
    r->idle[r->nidle++] = (unsigned)server;
started:
    if (done.done)
        done.done(sim, done.ctx, done.arg);
}

int res_submit(res_t *r, unsigned prio, sim_time_t service, sim_handler_fn done, void *ctx,
               uint64_t arg)
{
    res_account(r);
    res_job_t j = {service, sim_now(r->sim), 0, done, ctx, arg};
    if (r->nidle) {
        r->arrivals++;
        res_start(r, r->idle[--r->nidle], &j);
        return 0;
    }
    if (prio >= r->nprio)
        prio = r->nprio - 1;
    int rc = ring_push(&r->q[prio], &j);
    if (rc == 0) { /* a refused job never arrived: Little's law stays exact */
        r->arrivals++;
        r->queued++;
    } else {
        sim_fail(r->sim, rc, "resource: out of memory queueing a job (%llu queued)",
                 (unsigned long long)r->queued);
    }
    return rc;
}

void res_stats(const res_t *r, res_stats_t *o)
{
    sim_time_t now = sim_now(r->sim);
    double dt = (double)(now - r->t_last);
    double busy = r->busy_area + dt * r->busy;
    double sys = r->sys_area + dt * (double)(r->busy + r->queued);
    o->elapsed = now - r->t0;
    o->arrivals = r->arrivals;
    o->departures = r->departures;
    double el = o->elapsed ? (double)o->elapsed : 1.0;
    o->utilisation = busy / (el * r->servers);
    o->mean_in_system = sys / el;
    o->mean_sojourn_ns = r->departures ? r->sojourn_sum / (double)r->departures : 0.0;
    o->mean_wait_ns = r->started ? r->wait_sum / (double)r->started : 0.0;
}

void res_reset_stats(res_t *r)
{
    r->t0 = r->t_last = sim_now(r->sim);
    r->busy_area = r->sys_area = r->sojourn_sum = r->wait_sum = 0;
    r->arrivals = r->departures = r->started = 0;
}
