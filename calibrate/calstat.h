/*
 * calstat.h - turns measured samples into calibration parameters: the
 * quantiles, a fitted distribution (GSL) and the JSON object the
 * simulator's calibration loader reads (docs/calibration.md).
 *
 * A calstat_param_t owns nothing: the JSON it builds (jansson) belongs to
 * the caller.
 */
#ifndef LATSURF_CALSTAT_H
#define LATSURF_CALSTAT_H

#include "sim/calfmt.h"
#include <jansson.h>
#include <stddef.h>

typedef enum { CALSTAT_FIXED, CALSTAT_LOGNORMAL, CALSTAT_GAMMA, CALSTAT_EXPONENTIAL,
               CALSTAT_LINEAR } calstat_dist_t;

typedef struct {
    calstat_dist_t dist;
    double mu, sigma;  /* lognormal: log-moments */
    double k, theta;   /* gamma: shape, scale */
    double mean;       /* exponential */
    double a, b;       /* linear: y = a + b x */
    double loglik;     /* of the chosen distribution, per sample */
} calstat_fit_t;

/* The quantiles written (sim/calfmt.h, the file's vocabulary): p1 p5 p10
 * p25 p50 p75 p90 p95 p99 always, then p99.9 and p99.99 where the sample
 * has at least CALSTAT_TAIL_BEYOND values above them (an order statistic
 * with fewer is noise). */
#define CALSTAT_NQ CALFMT_NQ_REQ
#define CALSTAT_NQ_MAX CALFMT_NQ
#define CALSTAT_TAIL_BEYOND 10

/* A generalized Pareto tail fitted to the excesses over the p95 (peaks over
 * threshold): P(X > t + y | X > t) = (1 + xi y / sigma)^(-1/xi), by
 * maximum likelihood (GSL simplex from the probability-weighted-moment
 * estimate). Only with at least CALSTAT_TAIL_MIN excesses. */
#define CALSTAT_TAIL_P 0.95
#define CALSTAT_TAIL_MIN 50
typedef struct {
    int fitted;
    double threshold, sigma, xi, max; /* max: the largest sample */
    size_t excesses;
} calstat_tail_t;

typedef struct {
    double value;
    size_t samples;
    int has_q;
    int nq; /* quantiles in q: CALSTAT_NQ .. CALSTAT_NQ_MAX */
    double q[CALSTAT_NQ_MAX];
    calstat_fit_t fit;
    calstat_tail_t tail;
} calstat_param_t;

/* A growable array of samples. */
typedef struct {
    double *v;
    size_t n, cap;
} calstat_vec_t;

int calstat_push(calstat_vec_t *v, double x); /* 0 or -ENOMEM */
void calstat_vec_free(calstat_vec_t *v);

/* Sorts x in place. Quantiles; value = median; fit = whichever of
 * lognormal (by log-moments) and gamma (by moments) has the larger
 * likelihood, or fixed when all samples are equal; the tail above p95.
 * n > 0. */
void calstat_from_samples(double *x, size_t n, calstat_param_t *p);

/* The tail of sorted x above its p95 (tail.fitted 0 when too few excesses
 * or they are all equal). */
void calstat_fit_tail(const double *sorted, size_t n, calstat_tail_t *t);

/* y = a + b x by weighted least squares on the relative error
 * (gsl_fit_wlinear, w = 1/y^2); no quantiles. Returns 0, -EINVAL (fewer
 * than 2 distinct x) or -ENOMEM. value is left for the caller. */
int calstat_linear(const double *x, const double *y, size_t n, calstat_param_t *p);

/* {"value", "unit", "samples", "quantiles", "fit", "tail", "source"}; x_unit for
 * linear fits ("KiB", "sqe"). NULL on ENOMEM. */
json_t *calstat_json(const calstat_param_t *p, const char *unit, const char *x_unit,
                     const char *source);

#endif
