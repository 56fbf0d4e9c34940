/*
 * regcache.h - a bounded table of registered buffer regions, keyed by region
 * id, with a byte budget and least-recently-used order. The registration
 * policies (registration.h) build on it: `cache` evicts the LRU region to
 * make room, `pool` and `intent` refuse once the budget is full.
 *
 * Entries carry a reference count: a region in use by a transfer is never
 * evicted, and one invalidated while in use is only unlinked from the table
 * (its owner deregisters it when the last user releases it). Storage is
 * allocated once at creation; lookups and inserts never allocate.
 */
#ifndef LATSURF_POL_REGCACHE_H
#define LATSURF_POL_REGCACHE_H

#include <stdbool.h>
#include <stdint.h>

#define POL_REGCACHE_NONE UINT32_MAX

typedef struct {
    uint64_t key, bytes;
    void *handle;          /* what the executor's register call returned */
    uint32_t refs;
    bool linked;           /* in the table (false: invalidated, waiting for refs == 0) */
    uint32_t prev, next;   /* LRU list (most recent at head), or free list */
    uint32_t hnext;        /* hash chain */
} pol_regcache_entry_t;

typedef struct {
    uint64_t budget, used, busy_bytes; /* busy: linked entries with refs > 0 */
    uint32_t cap, n, busy_n;
    uint32_t nbuckets;     /* power of two */
    uint32_t *bucket;
    pol_regcache_entry_t *e;
    uint32_t head, tail, free;
} pol_regcache_t;

/* max_entries bounds the number of regions whatever their size. */
int pol_regcache_init(pol_regcache_t *rc, uint64_t budget_bytes, uint32_t max_entries);
void pol_regcache_fini(pol_regcache_t *rc);

/* The entry for key (made most recent), or POL_REGCACHE_NONE. */
uint32_t pol_regcache_find(pol_regcache_t *rc, uint64_t key);

/* Would an entry of `bytes` fit after evicting every unreferenced entry? */
bool pol_regcache_could_fit(const pol_regcache_t *rc, uint64_t bytes);
bool pol_regcache_fits(const pol_regcache_t *rc, uint64_t bytes); /* without evicting */

/* The least recently used unreferenced entry, or POL_REGCACHE_NONE. */
uint32_t pol_regcache_victim(const pol_regcache_t *rc);

/* Insert (the caller made room first); returns the entry or POL_REGCACHE_NONE. */
uint32_t pol_regcache_insert(pol_regcache_t *rc, uint64_t key, uint64_t bytes, void *handle);

/* A transfer starts / stops using entry i; unref returns the refs left. */
void pol_regcache_ref(pol_regcache_t *rc, uint32_t i);
uint32_t pol_regcache_unref(pol_regcache_t *rc, uint32_t i);

/* Take entry i out of the table and the budget. The slot stays valid while
 * referenced; pol_regcache_put() recycles it once refs is 0. */
void pol_regcache_unlink(pol_regcache_t *rc, uint32_t i);
void pol_regcache_put(pol_regcache_t *rc, uint32_t i);

#endif
