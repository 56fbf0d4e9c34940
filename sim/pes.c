/*
 * pes.c - implicit 4-ary min-heap of 16-byte keys.
 *
 * A 4-ary heap halves the depth of a binary heap and its four children share
 * one 64-byte cache line, so a pop touches about half as many lines; both
 * sifts move a hole instead of swapping pairs.
 */
#include "pes.h"

#include <errno.h>
#include <stdlib.h>

int pes_init(pes_t *q, size_t cap)
{
    if (cap < 16)
        cap = 16;
    /* Cache-line aligned so that the 4 children of a node share one line:
     * children of i are 4i+1..4i+4, so offset the array by 3 keys. */
    void *p = NULL;
    if (posix_memalign(&p, 64, (cap + 4) * sizeof(pes_key_t)) != 0)
        return -ENOMEM;
    q->k = (pes_key_t *)p + 3;
    q->n = 0;
    q->cap = cap;
    return 0;
}

void pes_fini(pes_t *q)
{
    if (q->k)
        free(q->k - 3);
    q->k = NULL;
    q->n = q->cap = 0;
}

static int pes_grow(pes_t *q)
{
    pes_t bigger;
    if (pes_init(&bigger, q->cap * 2) != 0)
        return -ENOMEM;
    for (size_t i = 0; i < q->n; i++)
        bigger.k[i] = q->k[i];
    bigger.n = q->n;
    pes_fini(q);
    *q = bigger;
    return 0;
}

int pes_push(pes_t *q, pes_key_t key)
{
    if (q->n == q->cap && pes_grow(q) != 0)
        return -ENOMEM;
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) >> 2;
        if (!pes_before(key, q->k[parent]))
            break;
        q->k[i] = q->k[parent];
        i = parent;
    }
    q->k[i] = key;
    return 0;
}

pes_key_t pes_pop(pes_t *q)
{
    pes_key_t top = q->k[0];
    pes_key_t last = q->k[--q->n];
    size_t n = q->n, i = 0;
    for (;;) {
        size_t c = 4 * i + 1;
        if (c >= n)
            break;
        size_t best = c, end = c + 4 < n ? c + 4 : n;
        for (size_t j = c + 1; j < end; j++)
            if (pes_before(q->k[j], q->k[best]))
                best = j;
        if (!pes_before(q->k[best], last))
            break;
        q->k[i] = q->k[best];
        i = best;
    }
    q->k[i] = last;
    return top;
}
