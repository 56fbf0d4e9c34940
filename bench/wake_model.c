/*
 * wake_model.c - the simulator's CPU model against a calibration's
 * wakeup-under-hog measurements (`wakeup_hogD_ns`, calibrate/calhog.h).
 *
 * For each such parameter, the same two threads run in models/cpu.c with
 * the calibrated scheduler (kernel version, HZ, preemption model): a hog
 * busy `busy_us` of every `period_us` (reads its CPU clock, as the measured
 * one does; random phase), and a waiter that sleeps `sleep_us` (woken after
 * a `timer_overshoot_ns` draw), then runs `run_us`. Printed: p50, p90, p99,
 * mean of wake-up to running, and cycles per second, measured vs model.
 * The model is not fitted to these numbers: they are a validation input
 * (docs/calibration.md). Used by bench/hog_vs_fio.sh.
 *
 *   bench_wake_model CALIBRATION.json [SECONDS]
 */
#include "models/costs.h"
#include "models/cpu.h"
#include "sim/sim.h"

#include <gsl/gsl_rng.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cpu_thread_t *w, *h;
    sim_time_t period, busy, sleep, run, want;
    const costs_t *k;
    gsl_rng *r;
    double *lat;
    size_t n, cap;
} probe_t;

static void hog_period(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    probe_t *p = ctx;
    cpus_thread_run(p->h, p->busy, sim_nothing, NULL, 0);
    sim_after(sim, p->period, hog_period, p, 0);
}

static void ran(sim_t *sim, void *ctx, uint64_t arg);

static void woken(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    probe_t *p = ctx;
    cpus_thread_run(p->w, p->run, ran, p, 0);
}

static void ran(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    probe_t *p = ctx;
    sim_time_t now = sim_now(sim);
    if (p->n < p->cap)
        p->lat[p->n++] = (double)(now - p->run - p->want);
    p->want = now + p->sleep;
    double os = costs_draw(p->k, COST_TIMER_OVERSHOOT, p->r);
    sim_at(sim, p->want + (sim_time_t)(os > 0 ? os : 0), woken, p, 0);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CALIBRATION.json [SECONDS]\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 20;
    costs_t k;
    char err[512];
    costs_defaults(&k);
    if (costs_load(&k, argv[1], err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    json_error_t je;
    json_t *root = json_load_file(argv[1], 0, &je), *params = json_object_get(root, "params");
    if (!params) {
        fprintf(stderr, "%s: no params\n", argv[1]);
        return 2;
    }
    cpu_sched_t s;
    cpu_sched_defaults(&s, (uint32_t)costs_value(&k, COST_KERNEL_VERSION), 2,
                       (uint32_t)costs_value(&k, COST_SCHED_HZ),
                       (cpu_preempt_t)costs_value(&k, COST_PREEMPT_MODEL), false);
    printf("%-16s | %-34s | %-34s\n", "", "measured (us, cycles/s)", "model");
    printf("%-16s | %6s %6s %7s %6s %7s | %6s %6s %7s %6s %7s\n", "parameter", "p50", "p90", "p99",
           "mean", "cyc/s", "p50", "p90", "p99", "mean", "cyc/s");
    const char *name;
    json_t *v;
    int rows = 0;
    json_object_foreach(params, name, v) {
        json_t *pr = json_object_get(v, "probe"), *q = json_object_get(v, "quantiles");
        if (strncmp(name, "wakeup_hog", 10) || !pr || !q)
            continue;
        probe_t p = {0};
        p.period = (sim_time_t)(num(pr, "period_us") * 1e3);
        p.busy = (sim_time_t)(num(pr, "busy_us") * 1e3);
        p.sleep = (sim_time_t)(num(pr, "sleep_us") * 1e3);
        p.run = (sim_time_t)(num(pr, "run_us") * 1e3);
        p.cap = (size_t)(secs * 1e9 / (double)(p.sleep + p.run)) + 16;
        p.lat = malloc(p.cap * sizeof(*p.lat));
        p.k = &k;
        p.r = gsl_rng_alloc(gsl_rng_mt19937);
        sim_t *sim = sim_new();
        cpus_t *c = cpus_new(sim, 2, 0, SIM_TIME_MAX, &s);
        if (!p.lat || !p.r || !sim || !c) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        p.w = cpus_thread_new(c, 0, 0);
        p.h = cpus_thread_new(c, 0, 0);
        cpus_thread_set_user(p.w, true);
        cpus_thread_set_user(p.h, true);
        cpus_thread_set_clock_reader(p.h, true);
        sim_at(sim, (sim_time_t)(gsl_rng_uniform(p.r) * (double)p.period), hog_period, &p, 0);
        p.want = 1000;
        sim_at(sim, p.want, woken, &p, 0);
        sim_run(sim, (sim_time_t)(secs * 1e9));
        double sum = 0;
        for (size_t i = 0; i < p.n; i++)
            sum += p.lat[i];
        qsort(p.lat, p.n, sizeof(*p.lat), cmp);
        double mean = p.n ? sum / (double)p.n : 0;
        printf("%-16s | %6.1f %6.1f %7.1f %6.1f %7.0f | %6.1f %6.1f %7.1f %6.1f %7.0f\n", name,
               num(q, "p50") / 1e3, num(q, "p90") / 1e3, num(q, "p99") / 1e3,
               num(pr, "mean_ns") / 1e3,
               num(pr, "cycles_per_s"), p.lat[p.n / 2] / 1e3, p.lat[p.n * 9 / 10] / 1e3,
               p.lat[p.n * 99 / 100] / 1e3, mean / 1e3, (double)p.n / secs);
        cpus_free(c);
        sim_free(sim);
        gsl_rng_free(p.r);
        free(p.lat);
        rows++;
    }
    json_decref(root);
    if (!rows)
        printf("(no wakeup_hog*_ns parameters in %s: calibrate with this version)\n", argv[1]);
    return 0;
}
