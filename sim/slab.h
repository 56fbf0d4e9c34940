/*
 * slab.h - pools of records addressed by 32-bit index, recycled through a
 * LIFO free list: the event pool, SSD command slots, transfer records, live
 * submission slots and replay edges all take and return records this way.
 *
 * The records stay the caller's own typed array (`T *arr`); a slab_t beside
 * it keeps the bookkeeping. The free list is intrusive: each record type has
 * a uint32_t link field, named to the macros, that is only meaningful while
 * the record is free (the owner may use it for anything while it is taken).
 *
 * A record is taken from the free list if there is one (the most recently
 * freed, still in cache), else the next never-used one; when all are in use
 * the array grows (vec.h: doubling, checked), and records that have never
 * been handed out read as all zero bytes. So the order in which indices are
 * handed out depends only on the order of takes and returns, never on the
 * capacity. Indices are stable; the array moves when it grows.
 *
 * The take and return paths are inline: they are on the event path.
 * Owns nothing: the caller frees the array (free()).
 */
#ifndef LATSURF_SLAB_H
#define LATSURF_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SLAB_NIL UINT32_MAX           /* no record: a failed take, the end of the free list */
#define SLAB_MAX (UINT32_MAX - 1)     /* the most records a slab can hold */

typedef struct {
    uint32_t n;    /* records handed out at least once: indices below n are valid */
    uint32_t cap;  /* records allocated */
    uint32_t free; /* first free record, or SLAB_NIL */
    uint32_t max;  /* the most records this slab may grow to */
} slab_t;

/* An empty slab that may grow to `max` records (at most SLAB_MAX). */
static inline slab_t slab_make(uint32_t max)
{
    return (slab_t){0, 0, SLAB_NIL, max < SLAB_MAX ? max : SLAB_MAX};
}

/* Out of line: grow the array at arrp (records of esz bytes), zero the new
 * ones. 0, or -ENOMEM (at `max`, or no memory) with nothing changed. */
int slab_grow_(slab_t *s, void *arrp, size_t esz);

static inline uint32_t slab_get_(slab_t *s, void *arrp, size_t esz, size_t link)
{
    uint32_t i = s->free;
    if (i != SLAB_NIL) {
        char *a;
        memcpy(&a, arrp, sizeof(a));
        memcpy(&s->free, a + (size_t)i * esz + link, sizeof(s->free));
        return i;
    }
    if (s->n == s->cap && slab_grow_(s, arrp, esz) != 0)
        return SLAB_NIL;
    return s->n++;
}

static inline void slab_put_(slab_t *s, void *arr, uint32_t i, size_t esz, size_t link)
{
    memcpy((char *)arr + (size_t)i * esz + link, &s->free, sizeof(s->free));
    s->free = i;
}

/* The offset of field `link` in arr's records, which must be a uint32_t. */
#define SLAB_LINK_(arr, link)                                                                      \
    (offsetof(__typeof__(*(arr)), link) +                                                          \
     0 * sizeof(struct {                                                                           \
         _Static_assert(sizeof((arr)->link) == sizeof(uint32_t), "slab link is not a uint32_t");   \
         int unused;                                                                               \
     }))

/* Take a record of `arr` (whose element type has the uint32_t field `link`):
 * its index, or SLAB_NIL when the slab cannot grow. */
#define SLAB_GET(s, arr, link) slab_get_(&(s), &(arr), sizeof(*(arr)), SLAB_LINK_(arr, link))

/* Return record i to the free list (its `link` field is overwritten). */
#define SLAB_PUT(s, arr, link, i) slab_put_(&(s), (arr), (i), sizeof(*(arr)), SLAB_LINK_(arr, link))

#endif
