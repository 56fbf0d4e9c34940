/*
 * stats.c - see stats.h.
 */
#include "stats.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

double stats_t_quantile(double level, double df)
{
    return gsl_cdf_tdist_Pinv(0.5 + level / 2.0, df);
}

static int bad_level(double level) { return !(level > 0.0 && level < 1.0); }

int stats_ci(const double *x, size_t n, double level, stats_ci_t *out)
{
    if (n == 0 || bad_level(level))
        return -EINVAL;
    out->n = n;
    out->mean = gsl_stats_mean(x, 1, n);
    out->sd = out->half = out->lo = out->hi = NAN;
    if (n < 2)
        return 0;
    out->sd = gsl_stats_sd_m(x, 1, n, out->mean);
    out->half = stats_t_quantile(level, (double)(n - 1)) * out->sd / sqrt((double)n);
    out->lo = out->mean - out->half;
    out->hi = out->mean + out->half;
    return 0;
}

void stats_quantile_ci(const hist_t *h, double q, double level, double *lo, double *hi)
{
    if (h->count == 0 || bad_level(level) || !(q > 0 && q < 1)) {
        *lo = *hi = NAN;
        return;
    }
    double z = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
    double half = z * sqrt(q * (1 - q) / (double)h->count);
    *lo = (double)hist_quantile(h, q - half);
    *hi = (double)hist_quantile(h, q + half);
}

static void finish(stats_cmp_t *c)
{
    c->delta_pct = c->baseline_value != 0.0
                       ? 100.0 * (c->value - c->baseline_value) / fabs(c->baseline_value)
                       : NAN;
    /* An all-equal pair of samples has a zero-width interval at 0: not a
     * difference. A nonzero difference with zero spread is one. */
    c->significant = !isnan(c->diff.lo) && (c->diff.lo > 0.0 || c->diff.hi < 0.0);
}

int stats_paired(const double *v, const double *b, size_t n, double level, stats_cmp_t *out)
{
    if (n == 0 || bad_level(level))
        return -EINVAL;
    double *d = malloc(n * sizeof(*d));
    if (!d)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = v[i] - b[i];
    int rc = stats_ci(d, n, level, &out->diff);
    free(d);
    if (rc)
        return rc;
    out->value = gsl_stats_mean(v, 1, n);
    out->baseline_value = gsl_stats_mean(b, 1, n);
    out->paired = 1;
    finish(out);
    return 0;
}

int stats_unpaired(const double *v, size_t nv, const double *b, size_t nb, double level,
                   stats_cmp_t *out)
{
    if (nv == 0 || nb == 0 || bad_level(level))
        return -EINVAL;
    out->value = gsl_stats_mean(v, 1, nv);
    out->baseline_value = gsl_stats_mean(b, 1, nb);
    out->paired = 0;
    stats_ci_t *d = &out->diff;
    d->n = nv < nb ? nv : nb;
    d->mean = out->value - out->baseline_value;
    d->sd = d->half = d->lo = d->hi = NAN;
    if (nv >= 2 && nb >= 2) {
        double sv = gsl_stats_variance_m(v, 1, nv, out->value) / (double)nv;
        double sb = gsl_stats_variance_m(b, 1, nb, out->baseline_value) / (double)nb;
        double se2 = sv + sb;
        double df = se2 > 0.0 ? se2 * se2 /
                                    (sv * sv / (double)(nv - 1) + sb * sb / (double)(nb - 1))
                              : (double)(nv + nb - 2);
        d->sd = sqrt(se2);
        d->half = stats_t_quantile(level, df) * d->sd;
        d->lo = d->mean - d->half;
        d->hi = d->mean + d->half;
    }
    finish(out);
    return 0;
}

int stats_mser5(const double *y, size_t n, size_t *cut)
{
    const size_t b = 5, m = n / b;
    if (m < 4)
        return -EINVAL;
    double *z = malloc(m * sizeof(*z));
    if (!z)
        return -ENOMEM;
    for (size_t j = 0; j < m; j++)
        z[j] = gsl_stats_mean(y + j * b, 1, b);
    /* Suffix sums over batch means centred on the grand mean, so that the
     * sum-of-squares identity does not cancel catastrophically. */
    double c = gsl_stats_mean(z, 1, m), s = 0.0, s2 = 0.0, best = INFINITY;
    size_t best_d = 0;
    for (size_t k = m; k-- > 0;) {
        double x = z[k] - c;
        s += x;
        s2 += x * x;
        if (k > m / 2)
            continue;
        double len = (double)(m - k);
        double mser = (s2 - s * s / len) / (len * len);
        if (mser <= best) { /* ties go to the shorter cut */
            best = mser;
            best_d = k;
        }
    }
    free(z);
    *cut = best_d * b;
    return 0;
}

double stats_w1_hist(const hist_t *a, const hist_t *b)
{
    if (!a->count || !b->count)
        return NAN;
    double fa = 0, fb = 0, w = 0, prev = 0;
    bool started = false;
    for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
        if (!a->bucket[i] && !b->bucket[i])
            continue;
        uint64_t lo, hi;
        hist_bucket_range(i, &lo, &hi);
        double mid = ((double)lo + (double)hi) / 2;
        if (started)
            w += fabs(fa - fb) * (mid - prev);
        fa += (double)a->bucket[i] / (double)a->count;
        fb += (double)b->bucket[i] / (double)b->count;
        prev = mid;
        started = true;
    }
    return w;
}
