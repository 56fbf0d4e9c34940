/*
 * rng.h - named random-number streams (GSL).
 *
 * Every random entity (an arrival process, a device's service draws, a
 * think-time generator) owns its own GSL generator whose seed is derived from
 * (scenario seed, replication, entity name) alone. Two policy variants of one
 * scenario therefore see identical arrivals and service draws (common random
 * numbers), and adding an entity never shifts another entity's stream.
 *
 * GSL seeds mt19937 from 32 bits, so the derived seed is folded to 32 bits:
 * two given triples share a stream with probability 2^-32, which matters
 * only for sets of ~1e5 streams compared with each other.
 */
#ifndef LATSURF_RNG_H
#define LATSURF_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* Seed for entity `name` in replication `rep` of a run seeded with `seed`. */
uint64_t rng_derive_seed(uint64_t seed, uint32_t rep, const char *name);

/* A new generator for the entity; free with gsl_rng_free(). NULL on ENOMEM. */
gsl_rng *rng_stream_new(uint64_t seed, uint32_t rep, const char *name);

#endif
