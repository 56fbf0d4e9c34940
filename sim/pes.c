/*
 * pes.c - the rare paths of the pending-event set (pes.h has the hot ones):
 * allocation, moving keys down the ladder, and renumbering.
 *
 * Ladder invariant: every key in the Bottom heap is before every key in a
 * rung, every key in rung r+1 before every key in rung r, and every rung key
 * before every key in Top; the heap is empty only when the set is. Bucket ends saturate at UINT64_MAX; a key at
 * UINT64_MAX always goes to Top (top_start <= UINT64_MAX), so it never needs
 * a rung bucket beyond the last.
 */
#include "pes.h"

#include "vec.h"

#include <stdlib.h>
#include <string.h>

/* ---- heap ---------------------------------------------------------------- */

/* Index 1, the first child block, starts a 64-byte line: children of i are
 * 4i+1..4i+4, so every block of four 16-byte siblings is one line. */
#define PES_OFFSET 3

static pes_key_t *pes_heap_alloc(size_t cap)
{
    void *p = NULL;
    if (cap > SIZE_MAX / sizeof(pes_key_t) - 8 ||
        posix_memalign(&p, 64, (cap + 4 + PES_OFFSET) * sizeof(pes_key_t)) != 0)
        return NULL;
    pes_key_t *k = (pes_key_t *)p + PES_OFFSET;
    for (size_t i = 0; i < cap + 4; i++)
        k[i] = PES_SENTINEL;
    return k;
}

int pes_heap_init(pes_heap_t *h, size_t cap)
{
    if (cap < 16)
        cap = 16;
    h->k = pes_heap_alloc(cap);
    h->n = 0;
    h->cap = h->k ? cap : 0;
    return h->k ? 0 : -ENOMEM;
}

void pes_heap_fini(pes_heap_t *h)
{
    if (h->k)
        free(h->k - PES_OFFSET);
    h->k = NULL;
    h->n = h->cap = 0;
}

int pes_heap_grow(pes_heap_t *h, size_t min_cap)
{
    size_t cap = h->cap * 2 > min_cap ? h->cap * 2 : min_cap;
    pes_key_t *k = pes_heap_alloc(cap);
    if (!k)
        return -ENOMEM;
    memcpy(k, h->k, h->n * sizeof(*k));
    free(h->k - PES_OFFSET);
    h->k = k;
    h->cap = cap;
    return 0;
}

/* ---- ladder -------------------------------------------------------------- */

static uint64_t pes_sat_add(uint64_t a, uint64_t b) { return a + b < a ? UINT64_MAX : a + b; }

/* Start of bucket i of rung g (i == nb: the rung's end), saturated: a child
 * rung's buckets may reach past UINT64_MAX. */
static uint64_t pes_rung_at(const pes_rung_t *g, uint32_t i)
{
    if (i == 0)
        return g->start;
    return pes_sat_add(pes_sat_add(g->start, (uint64_t)(i - 1) << g->shift),
                       (uint64_t)1 << g->shift);
}

static void pes_top_clear(pes_t *q)
{
    q->top.n = 0;
    q->top_min = UINT64_MAX;
    q->top_max = 0;
}

int pes_init(pes_t *q, size_t cap)
{
    memset(q, 0, sizeof(*q));
    /* the heap can take a full small array (pes_small_fits relies on it) */
    if (cap < PES_SMALL)
        cap = PES_SMALL;
    q->next = malloc(cap * sizeof(*q->next));
    q->lkey = malloc(cap * sizeof(*q->lkey));
    if (!q->next || !q->lkey || pes_heap_init(&q->bottom, cap) != 0) {
        free(q->next);
        free(q->lkey);
        return -ENOMEM;
    }
    q->slot_cap = cap;
    pes_top_clear(q);
    q->small = true;
    return 0;
}

void pes_fini(pes_t *q)
{
    for (int r = 0; r < PES_RUNGS; r++)
        free(q->rung[r].b);
    free(q->next);
    free(q->lkey);
    pes_heap_fini(&q->bottom);
    memset(q, 0, sizeof(*q));
}

int pes_reserve(pes_t *q, uint32_t slot)
{
    /* The heap can always take every key, so refilling never allocates. */
    if (q->n >= q->bottom.cap && pes_heap_grow(&q->bottom, q->n + 1) != 0)
        return -ENOMEM;
    if (slot >= q->slot_cap) {
        size_t cap = q->slot_cap; /* next and lkey grow in step */
        if (VEC_RESERVE(q->next, cap, (size_t)slot + 1) != 0 || VEC_RESIZE(q->lkey, cap) != 0)
            return -ENOMEM;
        q->slot_cap = cap;
    }
    return 0;
}

static void pes_list_to_heap(pes_t *q, pes_list_t l)
{
    uint32_t s = l.head;
    for (uint32_t i = 0; i < l.n; i++, s = q->next[s])
        (void)pes_heap_push(&q->bottom, q->lkey[s]); /* capacity >= n */
}

/* Spread list l, whose times lie in [start, start + span], over rung r with
 * power-of-two buckets, about one per key. -ENOMEM leaves the list whole. */
static int pes_rung_spread(pes_t *q, uint32_t r, uint64_t start, uint64_t span, pes_list_t l)
{
    pes_rung_t *g = &q->rung[r];
    uint32_t shift = 0;
    while (shift < 63 && (span >> shift) >= l.n)
        shift++;
    uint32_t nb = (uint32_t)(span >> shift) + 1;
    if (VEC_RESERVE(g->b, g->cap, nb) != 0)
        return -ENOMEM;
    memset(g->b, 0, (size_t)nb * sizeof(*g->b)); /* n == 0 marks a list empty */
    g->start = start;
    g->shift = shift;
    g->nb = nb;
    g->cur = 0;
    g->cur_start = start;
    uint32_t s = l.head;
    for (uint32_t i = 0; i < l.n; i++) {
        uint32_t next = q->next[s];
        pes_list_t *b = &g->b[(q->lkey[s].t - start) >> shift];
        q->next[s] = b->head;
        b->head = s;
        b->n++;
        s = next;
    }
    return 0;
}

void pes_refill(pes_t *q)
{
    if (q->n == 0) { /* every rung is empty: forget them */
        q->nrungs = 0;
        q->small = true;
        return;
    }
    while (q->bottom.n == 0) {
        if (q->nrungs == 0) {
            /* Top becomes rung 0; a small Top goes straight to the heap. */
            if (q->top.n > PES_THRES &&
                pes_rung_spread(q, 0, q->top_min, q->top_max - q->top_min, q->top) == 0) {
                q->nrungs = 1;
                q->top_start = pes_rung_at(&q->rung[0], q->rung[0].nb);
            } else {
                pes_list_to_heap(q, q->top);
                q->top_start = pes_sat_add(q->top_max, 1);
            }
            pes_top_clear(q);
            continue;
        }
        pes_rung_t *g = &q->rung[q->nrungs - 1];
        while (g->cur < g->nb && g->b[g->cur].n == 0)
            g->cur++;
        if (g->cur == g->nb) {
            q->nrungs--;
            continue;
        }
        pes_list_t l = g->b[g->cur];
        uint64_t bstart = pes_rung_at(g, g->cur);
        g->cur++;
        g->cur_start = pes_rung_at(g, g->cur);
        if (l.n > PES_THRES && g->shift > 0 && q->nrungs < PES_RUNGS &&
            pes_rung_spread(q, q->nrungs, bstart, ((uint64_t)1 << g->shift) - 1, l) == 0) {
            q->nrungs++;
            continue;
        }
        pes_list_to_heap(q, l);
    }
}

/* The heap grew while no rung was below it (the set started with keys
 * out of order, or Top's span was too wide to split): everything goes back to
 * Top, to be spread into rung 0 at once. */
int pes_spill(pes_t *q, pes_key_t key)
{
    pes_heap_t *h = &q->bottom;
    for (size_t i = 0; i < h->n; i++) {
        pes_list_add(q, &q->top, h->k[i]);
        q->top_min = h->k[i].t < q->top_min ? h->k[i].t : q->top_min;
        q->top_max = h->k[i].t > q->top_max ? h->k[i].t : q->top_max;
        h->k[i] = PES_SENTINEL;
    }
    h->n = 0;
    pes_list_add(q, &q->top, key);
    q->top_min = key.t < q->top_min ? key.t : q->top_min;
    q->top_max = key.t > q->top_max ? key.t : q->top_max;
    pes_refill(q);
    return 0;
}

/* ---- small mode --------------------------------------------------------- */

/* An ascending array is a valid heap; the positions past it are still
 * sentinels (pes_small_enter left them so, and the heap has room for n). */
void pes_small_leave(pes_t *q)
{
    for (size_t i = 0; i < q->n; i++)
        q->bottom.k[i] = q->sa[q->n - 1 - i];
    q->bottom.n = q->n;
    q->small = false;
}

/* Only with no rung and an empty Top: the heap holds every key. */
void pes_small_enter(pes_t *q)
{
    pes_heap_t *h = &q->bottom;
    for (size_t i = 0; i < h->n; i++) {
        pes_key_t key = h->k[i];
        size_t j = i;
        while (j > 0 && pes_before(q->sa[j - 1], key)) {
            q->sa[j] = q->sa[j - 1];
            j--;
        }
        q->sa[j] = key;
        h->k[i] = PES_SENTINEL;
    }
    h->n = 0;
    q->small = true;
}

static int pes_cmp(const void *a, const void *b)
{
    const pes_key_t *x = a, *y = b;
    return pes_before(*x, *y) ? -1 : pes_before(*y, *x) ? 1 : 0;
}

static void pes_list_append(pes_t *q, pes_list_t l)
{
    uint32_t s = l.head;
    for (uint32_t i = 0; i < l.n; i++, s = q->next[s])
        q->bottom.k[q->bottom.n++] = q->lkey[s];
}

uint32_t pes_renumber(pes_t *q)
{
    if (q->small)
        pes_small_leave(q);
    /* Everything into the heap array (it has room for n keys), sorted: a
     * sorted array is a valid heap, and the ladder starts over empty. */
    for (uint32_t r = 0; r < q->nrungs; r++)
        for (uint32_t i = q->rung[r].cur; i < q->rung[r].nb; i++)
            pes_list_append(q, q->rung[r].b[i]);
    pes_list_append(q, q->top);
    qsort(q->bottom.k, q->bottom.n, sizeof(*q->bottom.k), pes_cmp);
    for (size_t i = 0; i < q->bottom.n; i++)
        q->bottom.k[i] = pes_key(q->bottom.k[i].t, (uint32_t)i, pes_key_slot(q->bottom.k[i]));
    q->nrungs = 0;
    q->top_start = q->bottom.n ? pes_sat_add(q->bottom.k[q->bottom.n - 1].t, 1) : 0;
    pes_top_clear(q);
    return (uint32_t)q->n;
}
