/*
 * hist.c - see hist.h (hist_add and hist_bucket_of are inline there).
 */
#include "hist.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <string.h>

void hist_init(hist_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

void hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi)
{
    if (i < 2 * HIST_SUB) {
        *lo = *hi = i;
        return;
    }
    unsigned shift = i / HIST_SUB - 1;
    uint64_t top = i - (uint64_t)shift * HIST_SUB;
    *lo = top << shift;
    *hi = *lo + ((1ULL << shift) - 1);
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0) {
        *dst = *src;
        return;
    }
    if (dst->nexact == dst->count && src->nexact == src->count &&
        dst->count + src->count <= HIST_EXACT) {
        memcpy(dst->exact + dst->nexact, src->exact, src->nexact * sizeof(src->exact[0]));
        dst->nexact += src->nexact;
    } else {
        dst->nexact = 0; /* the sample is no longer all there */
    }
    for (unsigned i = 0; i < HIST_NBUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
    double na = (double)dst->count, nb = (double)src->count, n = na + nb;
    double d = src->mean - dst->mean;
    dst->mean += d * nb / n;
    dst->m2 += src->m2 + d * d * na * nb / n;
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

/* The k-th smallest value (0-based) as the buckets place it: see hist.h. */
static double order_stat(const hist_t *h, uint64_t k)
{
    if (k == 0)
        return (double)h->min;
    if (k + 1 >= h->count)
        return (double)h->max;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
        uint64_t c = h->bucket[i];
        if (k < seen + c) {
            uint64_t lo, hi;
            hist_bucket_range(i, &lo, &hi);
            /* the values lie within [min, max] as well */
            double a = (double)(lo > h->min ? lo : h->min), b = (double)(hi < h->max ? hi : h->max);
            return a + (b - a) * ((double)(k - seen) + 0.5) / (double)c;
        }
        seen += c;
    }
    return (double)h->max;
}

uint64_t hist_quantile(const hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0.0)) /* also NaN, which must not reach the integer cast */
        return h->min;
    if (q >= 1.0)
        return h->max;
    double x;
    if (h->nexact == h->count) {
        double v[HIST_EXACT];
        for (uint32_t i = 0; i < h->nexact; i++)
            v[i] = (double)h->exact[i];
        gsl_sort(v, 1, h->nexact);
        x = gsl_stats_quantile_from_sorted_data(v, 1, h->nexact, q);
    } else {
        /* type 7, as gsl_stats_quantile_from_sorted_data */
        double pos = q * (double)(h->count - 1);
        uint64_t i = (uint64_t)pos;
        double f = pos - (double)i, lo = order_stat(h, i);
        x = f > 0 ? lo + f * (order_stat(h, i + 1) - lo) : lo;
    }
    /* round to the nearest ns, within [min, max] (and so within range) */
    if (!(x > (double)h->min))
        return h->min;
    if (x >= (double)h->max)
        return h->max;
    return (uint64_t)(x + 0.5);
}

double hist_mean(const hist_t *h) { return h->count ? h->mean : 0.0; }

double hist_variance(const hist_t *h)
{
    return h->count > 1 ? h->m2 / (double)(h->count - 1) : 0.0;
}
