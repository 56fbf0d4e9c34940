/*
 * vec.h - growable arrays: the one place that grows an array, so the
 * modules' push code does not each hand-write a realloc-doubling step with
 * its own overflow and failure handling.
 *
 * An array stays the caller's own fields, a typed pointer and a capacity of
 * any unsigned type (plus the count the caller keeps), so a struct's layout
 * and every reader of it stay as they are:
 *
 *     if (VEC_PUSH(r->metric, r->nmetric, r->capmetric, m) != 0)
 *         return -ENOMEM;
 *
 * Growth doubles the capacity (the first allocation holds VEC_MIN elements,
 * or what was asked for if more): amortised O(1) per push, and none once an
 * array has reached its peak. It is checked: a capacity the cap's type cannot
 * hold, a byte size that overflows size_t, or a failed realloc all leave the
 * array and its capacity untouched and give -ENOMEM, so callers report it
 * as they would any allocation failure. Elements move when the array grows:
 * hold indices, not pointers, across a push.
 *
 * The macros evaluate their arguments more than once: pass plain lvalues.
 * The test that decides whether to grow is inline (event-path arrays push
 * without a call); the growth itself is out of line.
 *
 * Owns nothing: the caller frees the array (VEC_FREE, or free()).
 */
#ifndef LATSURF_VEC_H
#define LATSURF_VEC_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#define VEC_MIN 16 /* elements in a first allocation */

/* Out-of-line parts; use the macros. `arrp` is the address of the caller's
 * typed pointer (all object pointers share void *'s representation on the
 * platforms latsurf builds for; the pointer is read and written with memcpy,
 * so no aliasing rule is broken). Each returns the new capacity, or `cap`
 * when the array could not grow. */
size_t vec_grow_(void *arrp, size_t cap, size_t need, size_t esz, size_t max);
size_t vec_ring_grow_(void *arrp, size_t cap, size_t head, size_t n, size_t esz, size_t max);
int vec_resize_(void *arrp, size_t cap, size_t esz); /* exactly cap elements: 0 or -ENOMEM */

/* The largest value the capacity lvalue `cap` can hold. */
#define VEC_CAPMAX_(cap) ((size_t)(__typeof__(cap))-1)

/* Room for at least `need` elements: 0, or -ENOMEM with nothing changed. */
#define VEC_RESERVE(arr, cap, need)                                                                \
    ((size_t)(need) <= (cap)                                                                       \
         ? 0                                                                                       \
         : ((cap) = (__typeof__(cap))vec_grow_(&(arr), (cap), (need), sizeof(*(arr)),              \
                                               VEC_CAPMAX_(cap)),                                  \
            (size_t)(need) <= (cap) ? 0 : -ENOMEM))

/* Append one element (the variadic tail, so a compound literal needs no
 * extra parentheses) and count it in n: 0, or -ENOMEM with nothing changed. */
#define VEC_PUSH(arr, n, cap, ...)                                                                 \
    (VEC_RESERVE(arr, cap, (size_t)(n) + 1) != 0 ? -ENOMEM                                        \
                                                 : ((arr)[(n)] = (__VA_ARGS__), (n)++, 0))

/* Exactly `cap` elements (for arrays grown in step with another): 0, or
 * -ENOMEM with the array untouched. The caller records the capacity. */
#define VEC_RESIZE(arr, cap) vec_resize_(&(arr), (cap), sizeof(*(arr)))

/* A ring of n elements from index head (wrapping at cap) doubles, unwrapped
 * so that head becomes 0: 0, or -ENOMEM with nothing changed. Capacities stay
 * powers of two (VEC_MIN first), so a ring may index with a mask. */
#define VEC_RING_GROW(arr, cap, head, n)                                                           \
    ((cap) = (__typeof__(cap))vec_ring_grow_(&(arr), (cap), (head), (n), sizeof(*(arr)),           \
                                             VEC_CAPMAX_(cap)),                                    \
     (size_t)(n) < (cap) ? ((head) = 0, 0) : -ENOMEM)

/* Release the array and zero its count and capacity (reset alone is n = 0,
 * which keeps the capacity for reuse). */
#define VEC_FREE(arr, n, cap)                                                                      \
    do {                                                                                           \
        free(arr);                                                                                 \
        (arr) = NULL;                                                                              \
        (n) = 0;                                                                                   \
        (cap) = 0;                                                                                 \
    } while (0)

#endif
