/*
 * calstat.c - see calstat.h.
 */
#include "calstat.h"

#include "sim/vec.h"

#include <errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

int calstat_push(calstat_vec_t *v, double x) { return VEC_PUSH(v->v, v->n, v->cap, x); }

void calstat_vec_free(calstat_vec_t *v) { VEC_FREE(v->v, v->n, v->cap); }

/* Zero-length samples (a stage that took < 1 ns on the trace clock) would
 * break the log; they are treated as 1 ns for the fits only. */
static double pos(double v) { return v > 1.0 ? v : 1.0; }

static double loglik(const double *x, size_t n, const calstat_fit_t *f)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double p = f->dist == CALSTAT_LOGNORMAL ? gsl_ran_lognormal_pdf(pos(x[i]), f->mu, f->sigma)
                   : f->dist == CALSTAT_GAMMA   ? gsl_ran_gamma_pdf(pos(x[i]), f->k, f->theta)
                                                : gsl_ran_exponential_pdf(x[i], f->mean);
        s += p > 0 ? log(p) : -700.0;
    }
    return s / (double)n;
}

/* --- the tail above p95: a generalized Pareto fit of the excesses --- */

typedef struct {
    const double *y; /* excesses, ascending */
    size_t m;
} gpd_data_t;

/* xi is kept where the fit means something for a cost: above -0.5 the
 * likelihood is regular, below 1 the tail has a mean. */
#define GPD_XI_MIN (-0.5)
#define GPD_XI_MAX 0.9

/* Negative log-likelihood per excess at v = (ln sigma, xi). */
static double gpd_nll(const gsl_vector *v, void *arg)
{
    const gpd_data_t *d = arg;
    double sigma = exp(gsl_vector_get(v, 0)), xi = gsl_vector_get(v, 1);
    if (!(sigma > 0) || !isfinite(sigma) || xi < GPD_XI_MIN || xi > GPD_XI_MAX)
        return 1e300;
    double s = 0;
    for (size_t i = 0; i < d->m; i++) {
        double z = d->y[i] / sigma;
        if (fabs(xi) < 1e-9) {
            s += z;
            continue;
        }
        double t = 1 + xi * z;
        if (t <= 0)
            return 1e300; /* beyond the end of a bounded (xi < 0) tail */
        s += (1 + 1 / xi) * log1p(xi * z);
    }
    return log(sigma) + s / (double)d->m;
}

void calstat_fit_tail(const double *x, size_t n, calstat_tail_t *t)
{
    *t = (calstat_tail_t){0};
    if (n == 0)
        return;
    t->threshold = gsl_stats_quantile_from_sorted_data(x, 1, n, CALSTAT_TAIL_P);
    t->max = x[n - 1];
    size_t first = n;
    while (first > 0 && x[first - 1] > t->threshold)
        first--;
    size_t m = n - first;
    t->excesses = m;
    if (m < CALSTAT_TAIL_MIN || x[n - 1] == x[first])
        return;
    double *y = malloc(m * sizeof(*y));
    if (!y)
        return;
    /* Start: probability-weighted moments (Hosking & Wallis 1987), which
     * exist for any xi < 1 and need no iteration. */
    double a0 = 0, a1 = 0;
    for (size_t i = 0; i < m; i++) {
        y[i] = x[first + i] - t->threshold;
        a0 += y[i];
        a1 += (1.0 - ((double)i + 0.65) / (double)m) * y[i];
    }
    a0 /= (double)m;
    a1 /= (double)m;
    double xi0 = a0 > 2 * a1 ? 2 - a0 / (a0 - 2 * a1) : 0.5;
    double sigma0 = a0 > 2 * a1 ? 2 * a0 * a1 / (a0 - 2 * a1) : a0;
    xi0 = xi0 < GPD_XI_MIN + 0.05 ? GPD_XI_MIN + 0.05 : xi0 > GPD_XI_MAX - 0.05 ? GPD_XI_MAX - 0.05 : xi0;
    if (!(sigma0 > 0))
        sigma0 = a0 > 0 ? a0 : 1;
    /* a start outside a bounded tail's support: widen sigma until it is in */
    while (xi0 < 0 && 1 + xi0 * y[m - 1] / sigma0 <= 0)
        sigma0 *= 2;
    gpd_data_t d = {y, m};
    gsl_multimin_function f = {.f = gpd_nll, .n = 2, .params = &d};
    gsl_vector *v = gsl_vector_alloc(2), *step = gsl_vector_alloc(2);
    gsl_multimin_fminimizer *s = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 2);
    if (v && step && s) {
        gsl_vector_set(v, 0, log(sigma0));
        gsl_vector_set(v, 1, xi0);
        gsl_vector_set(step, 0, 0.2);
        gsl_vector_set(step, 1, 0.1);
        gsl_multimin_fminimizer_set(s, &f, v, step);
        for (int it = 0; it < 500; it++) {
            if (gsl_multimin_fminimizer_iterate(s))
                break;
            if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(s), 1e-6) == GSL_SUCCESS)
                break;
        }
        const gsl_vector *best = gsl_multimin_fminimizer_x(s);
        double nll = gsl_multimin_fminimizer_minimum(s);
        if (nll < 1e299) {
            t->sigma = exp(gsl_vector_get(best, 0));
            t->xi = gsl_vector_get(best, 1);
            t->fitted = 1;
        }
    }
    gsl_multimin_fminimizer_free(s);
    gsl_vector_free(v);
    gsl_vector_free(step);
    free(y);
}

void calstat_from_samples(double *x, size_t n, calstat_param_t *p)
{
    gsl_sort(x, 1, n);
    p->samples = n;
    p->has_q = 1;
    p->nq = CALSTAT_NQ;
    for (size_t i = 0; i < CALSTAT_NQ_MAX; i++) {
        if (i >= CALSTAT_NQ && (double)n * (1 - calfmt_qp[i]) < CALSTAT_TAIL_BEYOND)
            break;
        p->q[i] = gsl_stats_quantile_from_sorted_data(x, 1, n, calfmt_qp[i]);
        p->nq = (int)i + 1;
    }
    p->value = p->q[4];
    p->fit = (calstat_fit_t){.dist = CALSTAT_FIXED};
    calstat_fit_tail(x, n, &p->tail);
    if (n < 2 || x[0] == x[n - 1])
        return;

    double *lx = malloc(n * sizeof(*lx));
    if (!lx)
        return; /* keep "fixed": the quantiles still describe the data */
    for (size_t i = 0; i < n; i++)
        lx[i] = log(pos(x[i]));
    calstat_fit_t ln = {.dist = CALSTAT_LOGNORMAL, .mu = gsl_stats_mean(lx, 1, n)};
    ln.sigma = gsl_stats_sd_m(lx, 1, n, ln.mu);
    free(lx);

    double mean = gsl_stats_mean(x, 1, n), var = gsl_stats_variance_m(x, 1, n, mean);
    calstat_fit_t ga = {.dist = CALSTAT_GAMMA, .k = mean * mean / var, .theta = var / mean};
    calstat_fit_t ex = {.dist = CALSTAT_EXPONENTIAL, .mean = mean};

    ln.loglik = ln.sigma > 0 ? loglik(x, n, &ln) : -INFINITY;
    ga.loglik = loglik(x, n, &ga);
    ex.loglik = loglik(x, n, &ex);
    p->fit = ln;
    if (ga.loglik > p->fit.loglik)
        p->fit = ga;
    if (ex.loglik > p->fit.loglik)
        p->fit = ex;
}

int calstat_linear(const double *x, const double *y, size_t n, calstat_param_t *p)
{
    double c0, c1, cov00, cov01, cov11, chisq;
    size_t distinct = 0;
    for (size_t i = 1; i < n && !distinct; i++)
        distinct = x[i] != x[0];
    if (n < 2 || !distinct)
        return -EINVAL;
    /* Weighted by 1/y^2, i.e. least squares on the relative error: costs
     * measured from 4 KiB to 16 MiB span four decades, and plain least
     * squares would let the largest sizes pull the intercept (the small-size
     * cost) below zero. */
    double *w = malloc(n * sizeof(*w));
    if (!w)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        w[i] = 1.0 / (pos(y[i]) * pos(y[i]));
    gsl_fit_wlinear(x, 1, w, 1, y, 1, n, &c0, &c1, &cov00, &cov01, &cov11, &chisq);
    free(w);
    p->fit = (calstat_fit_t){.dist = CALSTAT_LINEAR, .a = c0, .b = c1};
    p->samples = n;
    p->has_q = 0;
    p->nq = 0;
    p->tail = (calstat_tail_t){0};
    return 0;
}

static json_t *fit_json(const calstat_fit_t *f, const char *x_unit)
{
    switch (f->dist) {
    case CALSTAT_LOGNORMAL:
        return json_pack("{s:s, s:f, s:f}", "dist", "lognormal", "mu", f->mu, "sigma", f->sigma);
    case CALSTAT_GAMMA:
        return json_pack("{s:s, s:f, s:f}", "dist", "gamma", "k", f->k, "theta", f->theta);
    case CALSTAT_EXPONENTIAL:
        return json_pack("{s:s, s:f}", "dist", "exponential", "mean", f->mean);
    case CALSTAT_LINEAR:
        return json_pack("{s:s, s:f, s:f, s:s}", "dist", "linear", "a", f->a, "b", f->b,
                         "x_unit", x_unit ? x_unit : "KiB");
    case CALSTAT_FIXED:
        break;
    }
    return json_pack("{s:s}", "dist", "fixed");
}

/* ns values are written rounded to 0.1 ns: more digits would be noise. */
static json_t *num(double v) { return json_real(round(v * 10.0) / 10.0); }

json_t *calstat_json(const calstat_param_t *p, const char *unit, const char *x_unit,
                     const char *source)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "value", num(p->value));
    bad |= json_object_set_new(o, "unit", json_string(unit));
    bad |= json_object_set_new(o, "samples", json_integer((json_int_t)p->samples));
    if (p->has_q) {
        json_t *q = json_object();
        for (int i = 0; q && i < p->nq; i++)
            bad |= json_object_set_new(q, calfmt_qname[i], num(p->q[i]));
        bad |= json_object_set_new(o, "quantiles", q);
    }
    bad |= json_object_set_new(o, "fit", fit_json(&p->fit, x_unit));
    if (p->has_q && p->tail.fitted)
        bad |= json_object_set_new(
            o, "tail",
            json_pack("{s:s, s:s, s:o, s:f, s:f, s:o, s:I}", "dist", "gpd", "above", "p95",
                      "threshold", num(p->tail.threshold), "sigma", p->tail.sigma, "xi",
                      p->tail.xi, "max", num(p->tail.max), "excesses",
                      (json_int_t)p->tail.excesses));
    bad |= json_object_set_new(o, "source", json_string(source));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
