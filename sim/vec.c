/*
 * vec.c - the growth step of growable arrays and rings (see vec.h).
 */
#include "vec.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int vec_resize_(void *arrp, size_t cap, size_t esz)
{
    /* No object exceeds PTRDIFF_MAX bytes (realloc refuses it): bounding
     * there, not at SIZE_MAX, also tells gcc's LTO, which otherwise sees a
     * SIZE_MAX request on an inlined path and warns. */
    if (esz && cap > PTRDIFF_MAX / esz)
        return -ENOMEM;
    void *old;
    memcpy(&old, arrp, sizeof(old));
    void *p = realloc(old, cap * esz);
    if (!p && cap * esz != 0)
        return -ENOMEM;
    memcpy(arrp, &p, sizeof(p));
    return 0;
}

/* Double, at least VEC_MIN and `need`, at most `max`; 0 when `need` cannot be met. */
static size_t vec_next_cap(size_t cap, size_t need, size_t max)
{
    size_t c = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
    if (c < VEC_MIN)
        c = VEC_MIN;
    if (c < need)
        c = need;
    if (c > max)
        c = max;
    return c >= need ? c : 0;
}

size_t vec_grow_(void *arrp, size_t cap, size_t need, size_t esz, size_t max)
{
    size_t c = vec_next_cap(cap, need, max);
    if (c == 0 || vec_resize_(arrp, c, esz) != 0)
        return cap;
    return c;
}

size_t vec_ring_grow_(void *arrp, size_t cap, size_t head, size_t n, size_t esz, size_t max)
{
    /* Exactly double, so a power-of-two capacity stays one. */
    size_t c = cap ? cap * 2 : VEC_MIN;
    if (c <= cap || c > max || c <= n || c > SIZE_MAX / esz)
        return cap;
    char *old;
    memcpy(&old, arrp, sizeof(old));
    char *p = malloc(c * esz);
    if (!p)
        return cap;
    /* The elements from head to the end of the old array, then the ones
     * that had wrapped to its start. */
    size_t first = n < cap - head ? n : cap - head;
    if (first)
        memcpy(p, old + head * esz, first * esz);
    if (n > first)
        memcpy(p + first * esz, old, (n - first) * esz);
    free(old);
    memcpy(arrp, &p, sizeof(p));
    return c;
}
