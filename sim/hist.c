/*
 * hist.c - see hist.h. Index of v: below 2*HIST_SUB the value itself; above,
 * with shift = msb(v) - HIST_SUB_BITS, the top HIST_SUB_BITS+1 bits of v
 * (in [HIST_SUB, 2*HIST_SUB)) offset by shift * HIST_SUB.
 */
#include "hist.h"

#include <math.h>
#include <string.h>

void hist_init(hist_t *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned hist_bucket_of(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - HIST_SUB_BITS;
    return shift * HIST_SUB + (unsigned)(v >> shift);
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

void hist_add(hist_t *h, uint64_t v)
{
    h->bucket[hist_bucket_of(v)]++;
    h->count++;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    double d = (double)v - h->mean;
    h->mean += d / (double)h->count;
    h->m2 += d * ((double)v - h->mean);
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    if (src->count == 0)
        return;
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

uint64_t hist_quantile(const hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (!(q > 0.0)) /* also NaN, which must not reach the integer cast */
        return h->min;
    if (q >= 1.0)
        return h->max;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            hist_bucket_range(i, &lo, &hi);
            uint64_t mid = lo + (hi - lo) / 2;
            /* the true sample lies within [min, max] as well */
            if (mid < h->min)
                mid = h->min;
            if (mid > h->max)
                mid = h->max;
            return mid;
        }
    }
    return h->max;
}

double hist_mean(const hist_t *h) { return h->count ? h->mean : 0.0; }

double hist_variance(const hist_t *h)
{
    return h->count > 1 ? h->m2 / (double)(h->count - 1) : 0.0;
}
