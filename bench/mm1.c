/*
 * mm1.c - an M/M/1 queue (rho 0.5) through the engine and sim/res.h, the
 * latsurf half of the SimPy comparison in bench/run.sh (bench/simpy_mm1.py
 * is the other half).
 *
 * Arrivals every Exp(1000 ns), service Exp(500 ns), one server, N customers;
 * one gsl_ran_exponential per draw, two GSL streams. Theory: mean wait in
 * queue rho/(1-rho) * E[S] = 500 ns, mean time in system E[S]/(1-rho) =
 * 1000 ns.
 *
 * usage: bench_mm1 [CUSTOMERS]   (default 1000000)
 * Prints one line: mm1 latsurf customers N wall_s W cpu_s C mean_wait_ns Q
 * mean_sojourn_ns S utilisation U (times cover set-up, run and statistics).
 */
#include "sim/res.h"
#include "sim/rng.h"
#include "sim/sim.h"

#include <gsl/gsl_randist.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>


#define MEAN_ARRIVAL_NS 1000.0
#define MEAN_SERVICE_NS 500.0

typedef struct {
    res_t *res;
    gsl_rng *arr, *svc;
    uint64_t arrived, n;
} mm1_t;

static sim_time_t draw(gsl_rng *g, double mean)
{
    return (sim_time_t)(gsl_ran_exponential(g, mean) + 0.5);
}

static void arrive(sim_t *sim, void *ctx, uint64_t arg)
{
    mm1_t *m = ctx;
    if (res_submit(m->res, 0, draw(m->svc, MEAN_SERVICE_NS), NULL, NULL, arg) != 0) {
        sim_stop(sim);
        return;
    }
    if (++m->arrived < m->n)
        sim_after(sim, draw(m->arr, MEAN_ARRIVAL_NS), arrive, m, m->arrived);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    mm1_t m = {0};
    m.n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
    if (m.n == 0) {
        fprintf(stderr, "usage: %s [CUSTOMERS > 0]\n", argv[0]);
        return 2;
    }
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    sim_t *sim = sim_new();
    m.res = sim ? res_new(sim, 1, 1) : NULL;
    m.arr = rng_stream_new(1, 0, "mm1.arrivals");
    m.svc = rng_stream_new(1, 0, "mm1.service");
    if (!m.res || !m.arr || !m.svc) {
        fprintf(stderr, "bench_mm1: out of memory\n");
        return 1;
    }
    sim_at(sim, 0, arrive, &m, 0);
    sim_run(sim, SIM_TIME_MAX);
    res_stats_t st;
    res_stats(m.res, &st);
    double wall = clock_s(CLOCK_MONOTONIC) - w0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    int rc = st.departures == m.n ? 0 : 1;
    printf("mm1 latsurf customers %llu wall_s %.3f cpu_s %.3f mean_wait_ns %.1f "
           "mean_sojourn_ns %.1f utilisation %.4f\n",
           (unsigned long long)st.departures, wall, cpu, st.mean_wait_ns, st.mean_sojourn_ns,
           st.utilisation);
    res_free(m.res);
    gsl_rng_free(m.arr);
    gsl_rng_free(m.svc);
    sim_free(sim);
    return rc;
}
