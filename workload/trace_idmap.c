/*
 * trace_idmap.c - see trace_idmap.h.
 */
#include "trace_idmap.h"

#include <stdlib.h>

typedef struct {
    uint64_t key;
    uint32_t val;
    bool used;
} idmap_slot_t;

struct trace_idmap {
    idmap_slot_t *s;
    uint32_t mask, n, max;
};

/* splitmix64's finaliser: ids are often sequential, so mix them well. */
static uint32_t idmap_hash(const trace_idmap_t *m, uint64_t k)
{
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return (uint32_t)k & m->mask;
}

trace_idmap_t *trace_idmap_new(uint32_t max_entries)
{
    trace_idmap_t *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    uint32_t cap = 16;
    while (cap < 2ull * max_entries && cap < (1u << 31))
        cap <<= 1;
    m->s = calloc(cap, sizeof(*m->s));
    if (!m->s) {
        free(m);
        return NULL;
    }
    m->mask = cap - 1;
    m->max = max_entries;
    return m;
}

void trace_idmap_free(trace_idmap_t *m)
{
    if (!m)
        return;
    free(m->s);
    free(m);
}

void trace_idmap_clear(trace_idmap_t *m)
{
    for (uint32_t i = 0; i <= m->mask; i++)
        m->s[i].used = false;
    m->n = 0;
}

static uint32_t idmap_find(const trace_idmap_t *m, uint64_t key)
{
    uint32_t i = idmap_hash(m, key);
    while (m->s[i].used && m->s[i].key != key)
        i = (i + 1) & m->mask;
    return i;
}

bool trace_idmap_put(trace_idmap_t *m, uint64_t key, uint32_t val)
{
    uint32_t i = idmap_find(m, key);
    if (!m->s[i].used) {
        if (m->n >= m->max)
            return false;
        m->n++;
        m->s[i].used = true;
        m->s[i].key = key;
    }
    m->s[i].val = val;
    return true;
}

int trace_idmap_insert(trace_idmap_t *m, uint64_t key, uint32_t *val)
{
    uint32_t i = idmap_find(m, key);
    if (m->s[i].used) {
        *val = m->s[i].val;
        return 0;
    }
    if (m->n >= m->max)
        return -1;
    m->n++;
    m->s[i] = (idmap_slot_t){.key = key, .val = *val, .used = true};
    return 1;
}

bool trace_idmap_get(const trace_idmap_t *m, uint64_t key, uint32_t *val)
{
    uint32_t i = idmap_find(m, key);
    if (!m->s[i].used)
        return false;
    *val = m->s[i].val;
    return true;
}

bool trace_idmap_del(trace_idmap_t *m, uint64_t key)
{
    uint32_t i = idmap_find(m, key);
    if (!m->s[i].used)
        return false;
    /* Backward shift: pull later members of the probe run into the hole so
     * lookups never need tombstones. */
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->s[j].used)
            break;
        uint32_t home = idmap_hash(m, m->s[j].key);
        /* s[j] may move to i only if its home is not in (i, j]. */
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->s[i] = m->s[j];
            i = j;
        }
    }
    m->s[i].used = false;
    m->n--;
    return true;
}

uint32_t trace_idmap_size(const trace_idmap_t *m) { return m->n; }
