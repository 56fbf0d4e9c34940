/*
 * slab.c - the growth step of index-addressed record pools (see slab.h).
 */
#include "slab.h"

#include "vec.h"

int slab_grow_(slab_t *s, void *arrp, size_t esz)
{
    size_t cap = vec_grow_(arrp, s->cap, (size_t)s->n + 1, esz, s->max);
    if (cap == s->cap)
        return -ENOMEM;
    char *a;
    memcpy(&a, arrp, sizeof(a));
    memset(a + (size_t)s->cap * esz, 0, (cap - s->cap) * esz);
    s->cap = (uint32_t)cap;
    return 0;
}
