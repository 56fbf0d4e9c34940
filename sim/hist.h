/*
 * hist.h - mergeable log-bucketed latency histogram with exact moments.
 *
 * Values are unsigned nanoseconds. Buckets are exact below 128 and then 64
 * per power of two, so a bucket is at most 1/64 of its lower edge wide and
 * a quantile reported at the bucket midpoint is within 0.8% of the true
 * sample quantile. Memory is constant (about 30 KiB) whatever the count.
 * Mean and variance are exact (Welford, merged with Chan et al.'s formula),
 * min and max are exact.
 */
#ifndef LATSURF_HIST_H
#define LATSURF_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_NBUCKETS ((64 - HIST_SUB_BITS) * HIST_SUB + HIST_SUB) /* 3776 */

typedef struct {
    uint64_t count;
    uint64_t min, max;
    double mean, m2;
    uint64_t bucket[HIST_NBUCKETS];
} hist_t;

void hist_init(hist_t *h);
void hist_add(hist_t *h, uint64_t v);
void hist_merge(hist_t *dst, const hist_t *src);

/* q in [0,1] (below or NaN: min; above: max); 0 for an empty histogram.
 * Nearest rank: the bucket holding the ceil(q*count)-th smallest value,
 * reported at its midpoint clamped to [min, max]; exact at q=0 and q=1. */
uint64_t hist_quantile(const hist_t *h, double q);
double hist_mean(const hist_t *h);
double hist_variance(const hist_t *h); /* sample variance, n-1 */

/* Bucket i covers [lo, hi] (inclusive). */
unsigned hist_bucket_of(uint64_t v);
void hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi);

#endif
