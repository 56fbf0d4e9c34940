/*
 * pes.h - the pending-event set: a priority queue of 16-byte keys
 * (time, sequence, slot) ordered by time, then by sequence, so events with
 * equal times leave in the order they were scheduled (FIFO).
 *
 * Two structures, chosen by measurement on the hold model (docs/engine.md,
 * bench/pes_compare.c):
 *   pes_heap_t - an implicit 4-ary min-heap, four children per cache line,
 *                with branch-free bottom-up deletion;
 *   pes_t      - the engine's set: a ladder queue (Tang, Goh and Thng, ACM
 *                TOMACS 2005) whose Bottom is a pes_heap_t. Far keys wait
 *                unsorted in Top; rungs of power-of-two-wide buckets split
 *                them by time; only the next bucket's keys are in the heap.
 *                Each key costs O(1) amortised, and anything the ladder cannot
 *                split (equal times, a rung limit) degrades to the heap.
 *   small mode - while no ladder is built and at most PES_SMALL keys are
 *                pending (a model's steady state: a few events per device,
 *                CPU and request in flight), pes_t keeps them in an array
 *                sorted latest first instead: a pop takes the last key, a
 *                push slides the earlier keys up one place (most events are
 *                scheduled a little ahead, so they are few). The heap takes
 *                over when the set outgrows it, and gives back once it has
 *                drained below half of that with no ladder.
 * Only sim.c uses pes_t; the module stands alone so the benchmark and the
 * tests can drive it. The fast paths are inline: they are the engine's loop.
 * Every mode pops the same (unique) keys in the same order.
 */
#ifndef LATSURF_PES_H
#define LATSURF_PES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `tie` is seq << 32 | slot, so (t, tie) compares as one 128-bit number:
 * time first, then sequence; the slot (unique among pending keys) never
 * decides. Sequences must not wrap while keys are pending: the owner calls
 * pes_renumber() before its counter reaches UINT32_MAX. */
typedef struct {
    uint64_t t;
    uint64_t tie;
} pes_key_t;

/* Fills every unused heap position; above any real key (a real key's slot
 * is never UINT32_MAX). */
#define PES_SENTINEL ((pes_key_t){UINT64_MAX, UINT64_MAX})

static inline pes_key_t pes_key(uint64_t t, uint32_t seq, uint32_t slot)
{
    return (pes_key_t){t, (uint64_t)seq << 32 | slot};
}
static inline uint32_t pes_key_slot(pes_key_t k) { return (uint32_t)k.tie; }
static inline uint32_t pes_key_seq(pes_key_t k) { return (uint32_t)(k.tie >> 32); }

static inline bool pes_before(pes_key_t a, pes_key_t b)
{
    unsigned __int128 x = (unsigned __int128)a.t << 64 | a.tie;
    unsigned __int128 y = (unsigned __int128)b.t << 64 | b.tie;
    return x < y; /* cmp/sbb on x86-64: no branch */
}

/* c ? b : a as a conditional move. Sift comparisons are coin flips, so a
 * branch mispredicts half the time, and plain C here compiles to branches
 * or to SSE with slow register transfers. */
static inline uint64_t pes_sel(uint64_t a, uint64_t b, bool c)
{
#if defined(__x86_64__)
    __asm__("test %2, %2\n\tcmovnz %1, %0" : "+r"(a) : "r"(b), "r"(c) : "cc");
    return a;
#else
    return c ? b : a;
#endif
}
static inline pes_key_t pes_pick(pes_key_t a, pes_key_t b, bool c)
{
    return (pes_key_t){pes_sel(a.t, b.t, c), pes_sel(a.tie, b.tie, c)};
}

/* ---- the 4-ary heap ------------------------------------------------------ */

typedef struct {
    pes_key_t *k; /* k[0..n-1]: the heap; k[n..cap+3]: PES_SENTINEL */
    size_t n, cap;
} pes_heap_t;

int pes_heap_init(pes_heap_t *h, size_t cap); /* 0 or -ENOMEM */
void pes_heap_fini(pes_heap_t *h);
int pes_heap_grow(pes_heap_t *h, size_t min_cap); /* 0 or -ENOMEM */

#define PES_INLINE static inline __attribute__((always_inline))

PES_INLINE int pes_heap_push(pes_heap_t *h, pes_key_t key)
{
    if (h->n == h->cap && pes_heap_grow(h, h->n + 1) != 0)
        return -ENOMEM;
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) >> 2;
        if (!pes_before(key, h->k[parent]))
            break;
        h->k[i] = h->k[parent];
        i = parent;
    }
    h->k[i] = key;
    return 0;
}

/* Bottom-up deletion: the hole left by the minimum sinks to a leaf along the
 * smaller children, with no comparison against the displaced last key; that
 * key then rises from the leaf, usually zero or one step. The sentinels make
 * every child block four keys wide, so picking the smallest child is a
 * branch-free tournament; the winners' values are carried rather than
 * reloaded by index, so no load in a level waits on a comparison. */
PES_INLINE pes_key_t pes_heap_pop(pes_heap_t *h) /* h->n > 0 */
{
    pes_key_t *k = h->k;
    pes_key_t top = k[0];
    size_t n = --h->n;
    pes_key_t last = k[n];
    k[n] = PES_SENTINEL;
    if (n == 0)
        return top;
    size_t i = 0, c;
    while ((c = 4 * i + 1) < n) {
        size_t g = 4 * c + 1; /* the grandchildren: four lines, contiguous */
        if (g < n) {
            __builtin_prefetch(&k[g]);
            __builtin_prefetch(&k[g + 4]);
            __builtin_prefetch(&k[g + 8]);
            __builtin_prefetch(&k[g + 12]);
        }
        pes_key_t x0 = k[c], x1 = k[c + 1], x2 = k[c + 2], x3 = k[c + 3];
        bool l1 = pes_before(x1, x0), l3 = pes_before(x3, x2);
        pes_key_t xa = pes_pick(x0, x1, l1), xb = pes_pick(x2, x3, l3);
        bool lb = pes_before(xb, xa);
        size_t m = pes_sel(c + l1, c + 2 + l3, lb);
        k[i] = pes_pick(xa, xb, lb);
        i = m;
    }
    while (i > 0) {
        size_t parent = (i - 1) >> 2;
        if (!pes_before(last, k[parent]))
            break;
        k[i] = k[parent];
        i = parent;
    }
    k[i] = last;
    return top;
}

/* ---- the ladder queue ---------------------------------------------------- */

#define PES_RUNGS 8    /* more rungs than this: the bucket goes to the heap */
#define PES_THRES 64   /* a bucket larger than this is split into a new rung */
#define PES_SPILL 512  /* a heap this large with no rungs is spread into a ladder */
#define PES_SMALL 32   /* small mode holds at most this many keys */

typedef struct {
    uint32_t head, n; /* counted, not terminated */
} pes_list_t;

typedef struct {
    uint64_t start, cur_start; /* cur_start = start + (cur << shift) */
    uint32_t shift, nb, cur, cap;
    pes_list_t *b;
} pes_rung_t;

typedef struct {
    pes_heap_t bottom; /* keys before every rung's current bucket; cap >= n */
    /* List members by slot, links apart from keys: a walk's dependent loads
     * touch only the compact link array, and the key loads overlap them. */
    uint32_t *next;
    pes_key_t *lkey;
    size_t slot_cap;
    pes_list_t top; /* unsorted; keys with t >= top_start */
    uint64_t top_start, top_min, top_max;
    uint32_t nrungs;
    pes_rung_t rung[PES_RUNGS]; /* rung[0] coarsest */
    size_t n;                   /* keys in the whole set */
    /* Small mode (`small`): every key is in sa[0 .. n-1], descending; the
     * heap, Top and the rungs are empty. */
    bool small;
    pes_key_t sa[PES_SMALL];
} pes_t;

int pes_init(pes_t *q, size_t cap); /* 0 or -ENOMEM */
void pes_fini(pes_t *q);

/* Renumber the pending keys' sequences 0..n-1 keeping their order; returns
 * n, the next sequence to use. Never fails. */
uint32_t pes_renumber(pes_t *q);

/* Out-of-line parts of push and pop. */
int pes_reserve(pes_t *q, uint32_t slot); /* room for one more key, and for `slot` */
void pes_refill(pes_t *q);
int pes_spill(pes_t *q, pes_key_t key);
void pes_small_leave(pes_t *q);  /* small mode -> the heap */
void pes_small_enter(pes_t *q);  /* the heap (no ladder) -> small mode */

static inline size_t pes_size(const pes_t *q) { return q->n; }
static inline bool pes_empty(const pes_t *q) { return q->n == 0; }
/* The minimum: the Bottom heap is never empty while the set is not. */
static inline const pes_key_t *pes_top(const pes_t *q)
{
    return q->small ? &q->sa[q->n - 1] : &q->bottom.k[0];
}

static inline void pes_list_add(pes_t *q, pes_list_t *l, pes_key_t key)
{
    uint32_t s = pes_key_slot(key);
    q->lkey[s] = key;
    q->next[s] = l->head;
    l->head = s;
    l->n++;
}

/* pes_push's small-mode path (the caller checked pes_small_fits) for a key
 * whose sequence is above every pending key's, as the engine's always is
 * (its sequence only grows, and pes_renumber keeps it above): a pending key
 * of the same time is then before it, so the times alone decide, and the
 * insertion compares one word, not two. */
PES_INLINE void pes_small_push_newest(pes_t *q, pes_key_t key)
{
    uint64_t t = key.t;
    /* top_start as the heap path keeps it, for when the heap takes over */
    if (t >= q->top_start)
        q->top_start = t + (t != UINT64_MAX);
    pes_key_t *a = q->sa;
    size_t i = q->n++;
    while (i > 0 && a[i - 1].t <= t) {
        a[i] = a[i - 1];
        i--;
    }
    a[i] = key;
}

/* True when pes_push would take its small-mode path for a key of this slot
 * with nothing to allocate: the engine's common case, which it runs through
 * pes_small_push_newest without the rest of pes_push (sim.c). The heap's
 * capacity needs no test: pes_init makes it at least PES_SMALL, and it only
 * grows. */
static inline bool pes_small_fits(const pes_t *q, uint32_t slot)
{
    return q->small && q->n < PES_SMALL && slot < q->slot_cap;
}

PES_INLINE int pes_push(pes_t *q, pes_key_t key)
{
    if ((q->n >= q->bottom.cap || pes_key_slot(key) >= q->slot_cap) &&
        pes_reserve(q, pes_key_slot(key)) != 0)
        return -ENOMEM;
    uint64_t t = key.t;
    if (q->small) {
        if (q->n < PES_SMALL) {
            /* top_start as the heap path keeps it, for when the heap takes over */
            if (t >= q->top_start)
                q->top_start = t + (t != UINT64_MAX);
            pes_key_t *a = q->sa;
            size_t i = q->n++;
            while (i > 0 && pes_before(a[i - 1], key)) {
                a[i] = a[i - 1];
                i--;
            }
            a[i] = key;
            return 0;
        }
        pes_small_leave(q);
    }
    q->n++;
    if (t >= q->top_start) {
        if (q->top.n == 0 && q->nrungs == 0 && q->bottom.n < PES_THRES) {
            /* A small set is just the heap; the ladder starts when it grows. */
            q->top_start = t + (t != UINT64_MAX);
            return pes_heap_push(&q->bottom, key);
        }
        pes_list_add(q, &q->top, key);
        q->top_min = t < q->top_min ? t : q->top_min;
        q->top_max = t > q->top_max ? t : q->top_max;
        return 0;
    }
    uint32_t r = 0;
    while (r < q->nrungs && t < q->rung[r].cur_start)
        r++;
    if (r == q->nrungs) {
        if (q->nrungs == 0 && q->bottom.n >= PES_SPILL)
            return pes_spill(q, key);
        return pes_heap_push(&q->bottom, key); /* cannot fail: capacity > n */
    }
    pes_rung_t *g = &q->rung[r];
    pes_list_add(q, &g->b[(t - g->start) >> g->shift], key);
    return 0;
}

PES_INLINE pes_key_t pes_pop(pes_t *q) /* q->n > 0 */
{
    if (q->small) {
        return q->sa[--q->n];
    }
    pes_key_t k = pes_heap_pop(&q->bottom);
    q->n--;
    if (q->bottom.n == 0)
        pes_refill(q);
    else if (q->bottom.n <= PES_SMALL / 2 && q->nrungs == 0 && q->top.n == 0)
        pes_small_enter(q);
    return k;
}

#endif
