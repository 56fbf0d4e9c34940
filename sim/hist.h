/*
 * hist.h - mergeable log-bucketed latency histogram with exact moments.
 *
 * Values are unsigned nanoseconds. Buckets are exact below 128 and then 64
 * per power of two, so a bucket is at most 1/64 of its lower edge wide.
 * Memory is constant (about 32 KiB) whatever the count. Mean and variance
 * are exact (Welford, merged with Chan et al.'s formula), min and max are
 * exact.
 *
 * Quantiles follow one definition whatever the count: GSL's
 * gsl_stats_quantile_from_sorted_data (Hyndman & Fan type 7), the order
 * statistics x(i), x(i+1) around position q*(n-1), linearly interpolated.
 * - Up to HIST_EXACT values the histogram also keeps the values themselves,
 *   and the quantile is that of the exact sample.
 * - Beyond, an order statistic is estimated inside its bucket: the bucket's
 *   c values are taken as evenly spread over the bucket (narrowed to
 *   [min, max]), the j-th of them at (j + 1/2)/c of its width; the
 *   smallest and largest are min and max. So a quantile moves with the
 *   rank inside a bucket instead of sticking at the bucket's midpoint, and
 *   replications that share a bucket still report their own quantiles. It
 *   stays inside the bucket of the true order statistic (error below 1/64
 *   of the value, much less where the bucket is well filled).
 * hist_merge keeps the exact values while the sum stays within HIST_EXACT.
 */
#ifndef LATSURF_HIST_H
#define LATSURF_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_NBUCKETS ((64 - HIST_SUB_BITS) * HIST_SUB + HIST_SUB) /* 3776 */
#define HIST_EXACT 256 /* values kept as they are while count <= HIST_EXACT */

typedef struct {
    uint64_t count;
    uint64_t min, max;
    double mean, m2;
    uint32_t nexact;            /* exact[] holds the sample iff nexact == count */
    uint64_t exact[HIST_EXACT]; /* the first values, in arrival order */
    uint64_t bucket[HIST_NBUCKETS];
} hist_t;

void hist_init(hist_t *h);
/* hist_add(h, v): below, inline. */
void hist_merge(hist_t *dst, const hist_t *src);

/* q in [0,1] (below or NaN: min; above: max); 0 for an empty histogram.
 * The type-7 quantile above, rounded to the nearest ns; exact at q=0 and
 * q=1, and for any q while count <= HIST_EXACT. */
uint64_t hist_quantile(const hist_t *h, double q);
double hist_mean(const hist_t *h);
double hist_variance(const hist_t *h); /* sample variance, n-1 */

/* Bucket i covers [lo, hi] (inclusive); hist_bucket_of(v), below, is v's. */
void hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi);

/* Inline: a replay adds a dozen values per request (models/collect.c), and
 * the call was a visible share of the run. Index of v: below 2*HIST_SUB the
 * value itself; above, with shift = msb(v) - HIST_SUB_BITS, the top
 * HIST_SUB_BITS+1 bits of v (in [HIST_SUB, 2*HIST_SUB)) offset by
 * shift * HIST_SUB. */
static inline unsigned hist_bucket_of(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - HIST_SUB_BITS;
    return shift * HIST_SUB + (unsigned)(v >> shift);
}

static inline void hist_add(hist_t *h, uint64_t v)
{
    /* count first: past HIST_EXACT values (nearly every add) one compare */
    if (h->count < HIST_EXACT && h->nexact == h->count)
        h->exact[h->nexact++] = v;
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

#endif
