/*
 * calguard.c - see calguard.h.
 */
#include "calguard.h"

#include <errno.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double calguard_median(const double *x, size_t n)
{
    if (n == 0)
        return NAN;
    double *s = malloc(n * sizeof(*s));
    if (!s)
        return NAN;
    memcpy(s, x, n * sizeof(*s));
    gsl_sort(s, 1, n);
    double m = gsl_stats_median_from_sorted_data(s, 1, n);
    free(s);
    return m;
}

double calguard_dev(double ref, double stage)
{
    return stage > 0 ? ref / stage - 1 : NAN;
}

int calguard_blocks(const double *x, size_t n, size_t k, size_t min_block, double tol,
                    calguard_blocks_t *out)
{
    memset(out, 0, sizeof(*out));
    if (k < 2)
        return -EINVAL;
    out->nblocks = k;
    size_t per = n / k;
    if (per == 0 || per < min_block)
        return 0;
    double *med = malloc(k * sizeof(*med));
    if (!med)
        return -ENOMEM;
    for (size_t b = 0; b < k; b++) {
        size_t from = b * per, to = b + 1 == k ? n : from + per;
        med[b] = calguard_median(x + from, to - from);
        if (isnan(med[b])) {
            free(med);
            return -ENOMEM;
        }
    }
    out->center = calguard_median(med, k);
    if (isnan(out->center)) {
        free(med);
        return -ENOMEM;
    }
    out->checked = 1;
    for (size_t b = 0; b < k; b++) {
        double d = calguard_dev(med[b], out->center);
        if (fabs(d) > fabs(out->worst_dev) || b == 0) {
            out->worst_dev = d;
            out->worst = b;
        }
    }
    out->disturbed = fabs(out->worst_dev) > tol;
    free(med);
    return 0;
}
