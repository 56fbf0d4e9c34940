/*
 * test_queueing.c - the engine (sim.h) and resource (res.h) against
 * closed-form queueing theory.
 *
 * Each check runs independent replications (replication r uses rep number r
 * of every named GSL stream), discards a warm-up, and asks that the theory
 * value lies inside the 99% Student-t confidence interval of the replication
 * means. The interval must also be narrow (a few percent of the theory
 * value), so a check cannot pass by being vague. Every run also checks
 * Little's law on res_stats with an exact bound on the boundary terms.
 *
 * Time unit: 1 ns, mean service 10 us, so rounding draws to whole
 * nanoseconds perturbs moments by ~1e-5 relative, far below the intervals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/res.h"
#include "sim/rng.h"
#include "sim/sim.h"
#include "sim/vec.h"

#define ES 10000.0 /* mean service time, ns */

typedef enum { SV_EXP, SV_DET, SV_UNIFORM, SV_LOGNORMAL } svc_kind_t;

typedef struct {
    unsigned servers;
    double lambda;       /* arrivals per ns */
    svc_kind_t svc;
    double p_class0;     /* 0: one class; else two classes, class 0 w.p. p_class0 */
    uint64_t seed;
    double warm_ns, run_ns;
} qcfg_t;

typedef struct {
    sim_time_t t_arr, service;
    unsigned cls;
    int done;
} job_t;

typedef struct {
    const qcfg_t *cfg;
    sim_t *sim;
    res_t *res;
    gsl_rng *arr, *svc, *cls;
    job_t *job;
    size_t njob, cap, oldest;
    sim_time_t t_measure;       /* per-class waits count jobs departing after this */
    double wsum[2];
    uint64_t wn[2];
} qrun_t;

typedef struct {
    res_stats_t st;
    double wait_cls[2];         /* per-class mean queueing delay, from the callbacks */
} qout_t;

static sim_time_t draw_service(qrun_t *q)
{
    double x;
    switch (q->cfg->svc) {
    case SV_DET: x = ES; break;
    case SV_UNIFORM: x = gsl_ran_flat(q->svc, 0.0, 2.0 * ES); break;
    /* sigma 1: E[S] = exp(mu + 1/2) = ES */
    case SV_LOGNORMAL: x = gsl_ran_lognormal(q->svc, log(ES) - 0.5, 1.0); break;
    default: x = gsl_ran_exponential(q->svc, ES); break;
    }
    return (sim_time_t)llround(x);
}

static void on_done(sim_t *sim, void *ctx, uint64_t id)
{
    qrun_t *q = ctx;
    job_t *j = &q->job[id];
    j->done = 1;
    if (sim_now(sim) > q->t_measure) {
        q->wsum[j->cls] += (double)(sim_now(sim) - j->t_arr - j->service);
        q->wn[j->cls]++;
    }
    while (q->oldest < q->njob && q->job[q->oldest].done)
        q->oldest++;
}

static void on_arrival(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    qrun_t *q = ctx;
    assert_int_equal(VEC_RESERVE(q->job, q->cap, q->njob + 1), 0);
    job_t *j = &q->job[q->njob];
    j->t_arr = sim_now(sim);
    j->service = draw_service(q);
    j->cls = q->cfg->p_class0 > 0 && gsl_rng_uniform(q->cls) >= q->cfg->p_class0;
    j->done = 0;
    assert_int_equal(res_submit(q->res, j->cls, j->service, on_done, q, q->njob), 0);
    q->njob++;
    sim_after(sim, (sim_time_t)llround(gsl_ran_exponential(q->arr, 1.0 / q->cfg->lambda)),
              on_arrival, q, 0);
}

/* Age of the oldest job in the system, and how many there are. */
static void boundary(const qrun_t *q, double *age, double *n)
{
    *n = (double)(res_busy(q->res) + res_queued(q->res));
    *age = q->oldest < q->njob ? (double)(sim_now(q->sim) - q->job[q->oldest].t_arr) : 0.0;
}

/*
 * Little's law on [t0, t1]: area = integral of N(t), and
 * area - departures * W = -(pre-t0 parts of jobs that were there at t0)
 *                         + (parts of jobs still there at t1),
 * each at most n * oldest age; arrivals - departures = n1 - n0.
 */
static void check_little(const res_stats_t *st, double n0, double a0, double n1, double a1)
{
    double T = (double)st->elapsed;
    double area = st->mean_in_system * T;
    double lw = (double)st->arrivals * st->mean_sojourn_ns;
    double tol = n0 * a0 + n1 * a1 + fabs(n1 - n0) * st->mean_sojourn_ns + 1e-9 * area;
    if (!(fabs(area - lw) <= tol))
        fail_msg("Little: L=%.6g lambda*W=%.6g (area %.6g vs %.6g, bound %.3g)",
                 st->mean_in_system, lw / T, area, lw, tol);
    /* and the bound is tight enough to mean something */
    assert_true(tol < 0.02 * area);
}

static void qrun(const qcfg_t *cfg, uint32_t rep, qout_t *out)
{
    qrun_t q = {.cfg = cfg};
    q.sim = sim_new();
    q.res = res_new(q.sim, cfg->servers, cfg->p_class0 > 0 ? 2 : 1);
    q.arr = rng_stream_new(cfg->seed, rep, "arrivals");
    q.svc = rng_stream_new(cfg->seed, rep, "service");
    q.cls = rng_stream_new(cfg->seed, rep, "class");
    assert_true(q.sim && q.res && q.arr && q.svc && q.cls);

    sim_after(q.sim, 0, on_arrival, &q, 0);
    sim_time_t tw = (sim_time_t)cfg->warm_ns, te = tw + (sim_time_t)cfg->run_ns;
    q.t_measure = tw;
    sim_run(q.sim, tw);
    assert_int_equal(sim_now(q.sim), tw);
    res_reset_stats(q.res);
    double n0, a0, n1, a1;
    boundary(&q, &a0, &n0);
    sim_run(q.sim, te);
    boundary(&q, &a1, &n1);
    res_stats(q.res, &out->st);
    assert_int_equal(out->st.elapsed, te - tw);
    check_little(&out->st, n0, a0, n1, a1);
    for (int k = 0; k < 2; k++)
        out->wait_cls[k] = q.wn[k] ? q.wsum[k] / (double)q.wn[k] : NAN;

    free(q.job);
    gsl_rng_free(q.arr);
    gsl_rng_free(q.svc);
    gsl_rng_free(q.cls);
    res_free(q.res);
    sim_free(q.sim);
}

typedef double (*pick_fn)(const qout_t *o);
static double pick_wait(const qout_t *o) { return o->st.mean_wait_ns; }
static double pick_util(const qout_t *o) { return o->st.utilisation; }
static double pick_w0(const qout_t *o) { return o->wait_cls[0]; }
static double pick_w1(const qout_t *o) { return o->wait_cls[1]; }

typedef struct {
    double mean, half;
} ci_t;

static ci_t ci99(const double *x, size_t n)
{
    ci_t c;
    c.mean = gsl_stats_mean(x, 1, n);
    c.half = gsl_cdf_tdist_Pinv(0.995, (double)(n - 1)) * gsl_stats_sd_m(x, 1, n, c.mean) /
             sqrt((double)n);
    return c;
}

/* Theory inside the CI, and the CI at most max_rel of the theory wide. */
static ci_t check_ci(const char *what, const double *x, size_t n, double theory, double max_rel)
{
    ci_t c = ci99(x, n);
    printf("  %-34s sim %12.2f +- %9.2f (%5.2f%%)  theory %12.2f\n", what, c.mean, c.half,
           100.0 * c.half / theory, theory);
    if (!(fabs(c.mean - theory) <= c.half))
        fail_msg("%s: theory %.2f outside 99%% CI %.2f +- %.2f", what, theory, c.mean, c.half);
    if (!(c.half <= max_rel * theory))
        fail_msg("%s: CI half-width %.2f wider than %.0f%% of %.2f", what, c.half,
                 100 * max_rel, theory);
    return c;
}

#define MAXREP 32

static void replicate(const qcfg_t *cfg, unsigned reps, qout_t *out)
{
    assert_true(reps <= MAXREP);
    for (unsigned r = 0; r < reps; r++)
        qrun(cfg, r, &out[r]);
}

static ci_t check_metric(const char *what, const qout_t *out, unsigned reps, pick_fn pick,
                         double theory, double max_rel)
{
    double x[MAXREP];
    for (unsigned r = 0; r < reps; r++)
        x[r] = pick(&out[r]);
    return check_ci(what, x, reps, theory, max_rel);
}

/* Pollaczek-Khinchine: Wq = lambda E[S^2] / (2 (1 - rho)). */
static double pk_wait(double lambda, double es2) { return lambda * es2 / (2.0 * (1.0 - lambda * ES)); }

static void mg1(const char *what, svc_kind_t svc, double rho, double es2, unsigned reps,
                double run_ns, double max_rel)
{
    qcfg_t cfg = {.servers = 1, .lambda = rho / ES, .svc = svc, .seed = 11,
                  .warm_ns = 2000 * ES, .run_ns = run_ns};
    qout_t out[MAXREP];
    replicate(&cfg, reps, out);
    check_metric(what, out, reps, pick_wait, pk_wait(cfg.lambda, es2), max_rel);
    check_metric("  utilisation", out, reps, pick_util, rho, 0.02);
}

static void test_mm1_rho05(void **state)
{
    (void)state;
    mg1("M/M/1 rho=0.5 Wq", SV_EXP, 0.5, 2 * ES * ES, 20, 50000 * ES, 0.03);
}

static void test_mm1_rho09(void **state)
{
    (void)state;
    mg1("M/M/1 rho=0.9 Wq", SV_EXP, 0.9, 2 * ES * ES, 20, 150000 * ES, 0.07);
}

static void test_md1(void **state)
{
    (void)state;
    mg1("M/D/1 rho=0.7 Wq", SV_DET, 0.7, ES * ES, 20, 80000 * ES, 0.03);
}

static void test_mg1_uniform(void **state)
{
    (void)state;
    /* U(0, 2 ES): E[S^2] = 4 ES^2 / 3 */
    mg1("M/G/1 uniform rho=0.7 Wq", SV_UNIFORM, 0.7, 4.0 / 3.0 * ES * ES, 20, 80000 * ES, 0.035);
}

static void test_mg1_lognormal(void **state)
{
    (void)state;
    /* lognormal sigma 1: E[S^2] = ES^2 e^{sigma^2} */
    mg1("M/G/1 lognormal rho=0.7 Wq", SV_LOGNORMAL, 0.7, exp(1.0) * ES * ES, 20, 120000 * ES,
        0.06);
}

/* Erlang C: probability of waiting in M/M/c with offered load a = lambda/mu. */
static double erlang_c(unsigned c, double a)
{
    double term = 1.0, sum = 1.0; /* a^k / k! for k = 0 */
    for (unsigned k = 1; k < c; k++) {
        term *= a / k;
        sum += term;
    }
    double top = term * a / c / (1.0 - a / c);
    return top / (sum + top);
}

static void test_mmc(void **state)
{
    (void)state;
    const unsigned c = 4;
    const double rho = 0.8;
    qcfg_t cfg = {.servers = c, .lambda = rho * c / ES, .svc = SV_EXP, .seed = 12,
                  .warm_ns = 1000 * ES, .run_ns = 40000 * ES};
    double mu = 1.0 / ES;
    double wq = erlang_c(c, cfg.lambda / mu) / (c * mu - cfg.lambda);
    qout_t out[MAXREP];
    replicate(&cfg, 20, out);
    check_metric("M/M/4 rho=0.8 Wq (Erlang C)", out, 20, pick_wait, wq, 0.035);
    check_metric("  utilisation", out, 20, pick_util, rho, 0.02);
}

/*
 * Two classes, non-preemptive priority M/M/1 (Cobham):
 *   Wq_k = W0 / ((1 - s_{k-1}) (1 - s_k)),  W0 = sum_i lambda_i E[S^2] / 2 = rho ES,
 * s_k the load of classes 0..k.
 */
static void test_priority_mm1(void **state)
{
    (void)state;
    const double rho = 0.8;
    qcfg_t cfg = {.servers = 1, .lambda = rho / ES, .svc = SV_EXP, .p_class0 = 0.5,
                  .seed = 13, .warm_ns = 2000 * ES, .run_ns = 80000 * ES};
    double w0 = rho * ES, s0 = rho / 2;
    double th0 = w0 / (1 - s0), th1 = w0 / ((1 - s0) * (1 - rho));
    qout_t out[MAXREP];
    replicate(&cfg, 20, out);
    ci_t c0 = check_metric("prio M/M/1 rho=0.8 Wq class 0", out, 20, pick_w0, th0, 0.03);
    ci_t c1 = check_metric("prio M/M/1 rho=0.8 Wq class 1", out, 20, pick_w1, th1, 0.06);
    assert_true(c0.mean + c0.half < c1.mean - c1.half);
    /* work conservation: the overall mean is the FIFO M/M/1 value */
    check_metric("  all classes (= M/M/1)", out, 20, pick_wait, rho * ES / (1 - rho), 0.06);
}

static void test_seed_reproducible(void **state)
{
    (void)state;
    qcfg_t cfg = {.servers = 2, .lambda = 1.5 / ES, .svc = SV_LOGNORMAL, .p_class0 = 0.3,
                  .seed = 42, .warm_ns = 100 * ES, .run_ns = 2000 * ES};
    qout_t a, b, c, d;
    qrun(&cfg, 3, &a);
    qrun(&cfg, 3, &b);
    assert_memory_equal(&a.st, &b.st, sizeof(a.st));
    assert_memory_equal(a.wait_cls, b.wait_cls, sizeof(a.wait_cls));
    qrun(&cfg, 4, &c);
    cfg.seed = 43;
    qrun(&cfg, 3, &d);
    assert_true(c.st.arrivals != a.st.arrivals || c.st.mean_wait_ns != a.st.mean_wait_ns);
    assert_true(a.st.mean_wait_ns != c.st.mean_wait_ns);
    assert_true(a.st.mean_wait_ns != d.st.mean_wait_ns);
    assert_true(a.st.mean_in_system != d.st.mean_in_system);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mm1_rho05),     cmocka_unit_test(test_mm1_rho09),
        cmocka_unit_test(test_mmc),           cmocka_unit_test(test_md1),
        cmocka_unit_test(test_mg1_uniform),   cmocka_unit_test(test_mg1_lognormal),
        cmocka_unit_test(test_priority_mm1),  cmocka_unit_test(test_seed_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
