/*
 * rng.c - seed derivation for named GSL streams.
 *
 * The name is hashed with FNV-1a and mixed with the seed and replication
 * through SplitMix64's finaliser, which spreads nearby inputs (seed 1 vs 2,
 * "dev0" vs "dev1") over unrelated generator seeds.
 */
#include "rng.h"

static uint64_t rng_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rng_derive_seed(uint64_t seed, uint32_t rep, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return rng_mix(rng_mix(seed) ^ rng_mix(h + rep));
}

gsl_rng *rng_stream_new(uint64_t seed, uint32_t rep, const char *name)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return NULL;
    uint64_t s = rng_derive_seed(seed, rep, name);
    /* mt19937 keeps 32 bits of the seed; fold the high half in. */
    gsl_rng_set(r, (unsigned long)((s ^ (s >> 32)) & 0xffffffffUL));
    return r;
}
