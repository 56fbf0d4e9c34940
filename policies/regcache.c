/*
 * regcache.c - see regcache.h. Chained hashing over index links, an
 * intrusive doubly linked LRU list and a free list, all in arrays sized at
 * init.
 */
#include "regcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE POL_REGCACHE_NONE

static uint32_t rc_hash(const pol_regcache_t *rc, uint64_t key)
{
    /* splitmix64 finaliser: region ids are often small consecutive integers */
    key ^= key >> 30;
    key *= 0xbf58476d1ce4e5b9ULL;
    key ^= key >> 27;
    key *= 0x94d049bb133111ebULL;
    key ^= key >> 31;
    return (uint32_t)key & (rc->nbuckets - 1);
}

int pol_regcache_init(pol_regcache_t *rc, uint64_t budget_bytes, uint32_t max_entries)
{
    memset(rc, 0, sizeof(*rc));
    if (max_entries == 0 || max_entries > (1u << 26))
        return -EINVAL;
    rc->budget = budget_bytes;
    rc->cap = max_entries;
    rc->nbuckets = 1;
    while (rc->nbuckets < max_entries)
        rc->nbuckets <<= 1;
    rc->bucket = malloc(rc->nbuckets * sizeof(*rc->bucket));
    rc->e = calloc(max_entries, sizeof(*rc->e));
    if (!rc->bucket || !rc->e) {
        pol_regcache_fini(rc);
        return -ENOMEM;
    }
    for (uint32_t b = 0; b < rc->nbuckets; b++)
        rc->bucket[b] = NONE;
    for (uint32_t i = 0; i < max_entries; i++)
        rc->e[i].next = i + 1 < max_entries ? i + 1 : NONE;
    rc->free = 0;
    rc->head = rc->tail = NONE;
    return 0;
}

void pol_regcache_fini(pol_regcache_t *rc)
{
    free(rc->bucket);
    free(rc->e);
    memset(rc, 0, sizeof(*rc));
}

static void lru_remove(pol_regcache_t *rc, uint32_t i)
{
    pol_regcache_entry_t *e = &rc->e[i];
    if (e->prev != NONE)
        rc->e[e->prev].next = e->next;
    else
        rc->head = e->next;
    if (e->next != NONE)
        rc->e[e->next].prev = e->prev;
    else
        rc->tail = e->prev;
}

static void lru_push_head(pol_regcache_t *rc, uint32_t i)
{
    pol_regcache_entry_t *e = &rc->e[i];
    e->prev = NONE;
    e->next = rc->head;
    if (rc->head != NONE)
        rc->e[rc->head].prev = i;
    rc->head = i;
    if (rc->tail == NONE)
        rc->tail = i;
}

uint32_t pol_regcache_find(pol_regcache_t *rc, uint64_t key)
{
    if (!rc->e)
        return NONE;
    for (uint32_t i = rc->bucket[rc_hash(rc, key)]; i != NONE; i = rc->e[i].hnext)
        if (rc->e[i].key == key) {
            if (rc->head != i) {
                lru_remove(rc, i);
                lru_push_head(rc, i);
            }
            return i;
        }
    return NONE;
}

bool pol_regcache_fits(const pol_regcache_t *rc, uint64_t bytes)
{
    return rc->n < rc->cap && bytes <= rc->budget - rc->used;
}

bool pol_regcache_could_fit(const pol_regcache_t *rc, uint64_t bytes)
{
    return rc->busy_n < rc->cap && bytes <= rc->budget - rc->busy_bytes;
}

uint32_t pol_regcache_victim(const pol_regcache_t *rc)
{
    for (uint32_t i = rc->tail; i != NONE; i = rc->e[i].prev)
        if (rc->e[i].refs == 0)
            return i;
    return NONE;
}

uint32_t pol_regcache_insert(pol_regcache_t *rc, uint64_t key, uint64_t bytes, void *handle)
{
    if (!rc->e || !pol_regcache_fits(rc, bytes) || rc->free == NONE)
        return NONE;
    uint32_t i = rc->free;
    pol_regcache_entry_t *e = &rc->e[i];
    rc->free = e->next;
    *e = (pol_regcache_entry_t){.key = key, .bytes = bytes, .handle = handle, .linked = true};
    uint32_t b = rc_hash(rc, key);
    e->hnext = rc->bucket[b];
    rc->bucket[b] = i;
    lru_push_head(rc, i);
    rc->n++;
    rc->used += bytes;
    return i;
}

void pol_regcache_ref(pol_regcache_t *rc, uint32_t i)
{
    pol_regcache_entry_t *e = &rc->e[i];
    if (e->refs++ == 0 && e->linked) {
        rc->busy_n++;
        rc->busy_bytes += e->bytes;
    }
}

uint32_t pol_regcache_unref(pol_regcache_t *rc, uint32_t i)
{
    pol_regcache_entry_t *e = &rc->e[i];
    if (e->refs == 0)
        return 0;
    if (--e->refs == 0 && e->linked) {
        rc->busy_n--;
        rc->busy_bytes -= e->bytes;
    }
    return e->refs;
}

void pol_regcache_unlink(pol_regcache_t *rc, uint32_t i)
{
    pol_regcache_entry_t *e = &rc->e[i];
    if (!e->linked)
        return;
    uint32_t *p = &rc->bucket[rc_hash(rc, e->key)];
    while (*p != i)
        p = &rc->e[*p].hnext;
    *p = e->hnext;
    lru_remove(rc, i);
    if (e->refs) {
        rc->busy_n--;
        rc->busy_bytes -= e->bytes;
    }
    e->linked = false;
    rc->n--;
    rc->used -= e->bytes;
}

void pol_regcache_put(pol_regcache_t *rc, uint32_t i)
{
    pol_regcache_entry_t *e = &rc->e[i];
    if (e->linked || e->refs)
        return;
    e->next = rc->free;
    rc->free = i;
}
