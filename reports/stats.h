/*
 * stats.h - cross-replication statistics: Student-t confidence intervals of a
 * replication mean, the paired (common random numbers) and unpaired (Welch)
 * confidence intervals of a variant's difference to its baseline, and MSER-5
 * warm-up truncation of one run's output series; the Wasserstein-1 distance
 * between two latency histograms (how far a simulated distribution is from
 * a live one).
 *
 * Each replication contributes one number per metric (its mean, p99, rate...),
 * so the replication means are i.i.d. and the t interval is exact for normal
 * data and good for the moderately skewed per-run statistics we have. The
 * quantiles and moments come from GSL; this module only arranges them.
 */
#ifndef LATSURF_STATS_H
#define LATSURF_STATS_H

#include "sim/hist.h"

#include <stddef.h>

#define STATS_LEVEL 0.95

/* A mean with its two-sided confidence interval. With n < 2 the interval is
 * unknown: half, lo and hi are NaN. */
typedef struct {
    double mean, sd, half, lo, hi;
    size_t n;
} stats_ci_t;

/* A variant against its baseline: means, the difference (variant - baseline)
 * with its interval, the relative change in percent of the baseline mean,
 * and whether the interval excludes zero. */
typedef struct {
    double value, baseline_value;
    stats_ci_t diff;
    double delta_pct;       /* NaN when the baseline mean is 0 */
    int significant;        /* 0 also when the interval is unknown */
    int paired;             /* 1 paired by replication, 0 Welch */
} stats_cmp_t;

/* Interval of the mean of x[0..n) at level (e.g. 0.95). 0, or -EINVAL for
 * n == 0 or a level outside (0,1). */
int stats_ci(const double *x, size_t n, double level, stats_ci_t *out);

/* Two-sided Student-t quantile t_{(1+level)/2, df}. */
double stats_t_quantile(double level, double df);

/* Paired comparison: v[i] and b[i] come from the same replication (same
 * seeds), so the per-replication differences cancel the shared noise. */
int stats_paired(const double *v, const double *b, size_t n, double level, stats_cmp_t *out);

/* Unpaired comparison (Welch-Satterthwaite degrees of freedom), for samples
 * that share no seeds, e.g. live runs or unequal replication sets. */
int stats_unpaired(const double *v, size_t nv, const double *b, size_t nb, double level,
                   stats_cmp_t *out);

/* The distribution-free confidence interval at level of h's q-quantile
 * (q in (0,1)), from the sample itself: the order statistics of ranks
 * n*q -/+ z*sqrt(n*q*(1-q)), z the normal quantile (the normal
 * approximation to the binomial count of values below the quantile;
 * Conover, Practical Nonparametric Statistics, 3.2), read off the
 * histogram with hist_quantile. An empty histogram: both NaN. */
void stats_quantile_ci(const hist_t *h, double q, double level, double *lo, double *hi);

/* MSER-5 (White 1997): average y in batches of 5, and return in *cut the
 * index (a multiple of 5) of the first observation to keep: the truncation
 * point d in [0, m/2] batches minimising the batch means' sum of squared
 * deviations divided by (m - d)^2. Needs at least 4 batches (20 points);
 * -EINVAL otherwise. A trailing partial batch is ignored. */
int stats_mser5(const double *y, size_t n, size_t *cut);

/* Wasserstein-1 distance (ns) between two histograms of the same layout:
 * mass at bucket midpoints, the integral of |F_a - F_b| between consecutive
 * midpoints. NaN when either is empty. */
double stats_w1_hist(const hist_t *a, const hist_t *b);

#endif
