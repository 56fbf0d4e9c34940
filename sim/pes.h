/*
 * pes.h - the pending-event set: a priority queue of (time, sequence, slot)
 * keys ordered by time, then by sequence (FIFO among equal times).
 *
 * The structure was chosen by measurement on the hold model (see
 * docs/engine.md and bench/pes_compare.c): an implicit 4-ary heap of 16-byte
 * keys. Only sim.c uses it; it is separate so the benchmark can drive it.
 */
#ifndef LATSURF_PES_H
#define LATSURF_PES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t t;
    uint32_t seq;  /* wraps; compared with serial-number arithmetic */
    uint32_t slot;
} pes_key_t;

typedef struct {
    pes_key_t *k;
    size_t n, cap;
} pes_t;

int pes_init(pes_t *q, size_t cap);
void pes_fini(pes_t *q);
int pes_push(pes_t *q, pes_key_t key);
pes_key_t pes_pop(pes_t *q); /* q->n must be > 0 */

static inline bool pes_empty(const pes_t *q) { return q->n == 0; }
static inline const pes_key_t *pes_top(const pes_t *q) { return &q->k[0]; }

static inline bool pes_before(pes_key_t a, pes_key_t b)
{
    return a.t < b.t || (a.t == b.t && (int32_t)(a.seq - b.seq) < 0);
}

#endif
