/*
 * sim.c - event pool, clock and run loop (see sim.h).
 *
 * An event's payload lives in a pool slot; the pending-event set (pes.h)
 * moves only 16-byte (time, sequence, slot) keys. Freed slots go on a LIFO
 * free list: the slot an event just vacated is the one its handler's next
 * sim_at() takes, still in cache. A slot's generation counts its reuses,
 * which is what makes a stale handle harmless. docs/engine.md has the design
 * and its measurements.
 */
#include "sim.h"

#include "pes.h"
#include "slab.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    sim_handler_fn fn; /* NULL while free or cancelled */
    void *ctx;
    uint64_t arg;
    uint32_t gen;
    uint32_t next_free;
} sim_event_t;

struct sim {
    sim_time_t now; /* first: sim_now() in sim.h reads it there */
    pes_t pes;
    sim_event_t *ev;
    slab_t evs; /* the pool's bookkeeping: ev[] is a slab */
    uint32_t seq;
    bool stopped;
    uint64_t executed;
    int error;        /* sticky: the first failure's code, 0 while none */
    char errmsg[512];
};

_Static_assert(offsetof(struct sim, now) == 0, "sim_now() reads the clock at offset 0");

#define SIM_POOL0 1024

sim_t *sim_new(void)
{
    sim_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->evs = slab_make(SLAB_MAX);
    /* slot 0 is taken for good, so {0,0} is never a live handle */
    if (SLAB_GET(s->evs, s->ev, next_free) != 0 || pes_init(&s->pes, SIM_POOL0) != 0) {
        free(s->ev);
        free(s);
        return NULL;
    }
    return s;
}

void sim_free(sim_t *s)
{
    if (!s)
        return;
    pes_fini(&s->pes);
    free(s->ev);
    free(s);
}

uint64_t sim_events(const sim_t *s) { return s->executed; }
uint64_t sim_npending(const sim_t *s) { return s->pes.n; }
sim_time_t sim_next(const sim_t *s) { return pes_empty(&s->pes) ? SIM_TIME_MAX : pes_top(&s->pes)->t; }
void sim_stop(sim_t *s) { s->stopped = true; }

int sim_fail(sim_t *s, int code, const char *fmt, ...)
{
    if (code == 0)
        code = -EIO; /* a failure always reads as one */
    if (s->error)
        return code;
    s->error = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    s->stopped = true;
    return code;
}

int sim_error(const sim_t *s) { return s->error; }
const char *sim_error_msg(const sim_t *s) { return s->errmsg; }

/* Out of line, so the scheduling fast path stays small. */
static __attribute__((noinline, cold)) sim_timer_t sim_at_failed(sim_t *s)
{
    sim_fail(s, -ENOMEM, "engine: out of memory for a pending event (%llu pending at %.3f ms)",
             (unsigned long long)s->pes.n, (double)s->now / 1e6);
    return (sim_timer_t){0, 0};
}

/* A slot never used before reads as zero: generation 0. */
static inline uint32_t sim_slot_alloc(sim_t *s) { return SLAB_GET(s->evs, s->ev, next_free); }

static inline void sim_slot_release(sim_t *s, uint32_t i)
{
    sim_event_t *e = &s->ev[i];
    e->fn = NULL;
    e->gen++;
    SLAB_PUT(s->evs, s->ev, next_free, i);
}

/* sim_at's general case: the slab may grow, the sequence may wrap, and the
 * pending set may leave small mode or allocate. */
static __attribute__((noinline)) sim_timer_t sim_at_slow(sim_t *s, sim_time_t t,
                                                         sim_handler_fn fn, void *ctx,
                                                         uint64_t arg)
{
    uint32_t i = sim_slot_alloc(s);
    if (i == SLAB_NIL)
        return sim_at_failed(s);
    if (t < s->now) /* the past is not schedulable: run it next instead */
        t = s->now;
    if (s->seq == UINT32_MAX) /* once per 4e9 events: keep FIFO across the wrap */
        s->seq = pes_renumber(&s->pes);
    if (pes_push(&s->pes, pes_key(t, s->seq, i)) != 0) {
        sim_slot_release(s, i);
        return sim_at_failed(s);
    }
    s->seq++;
    sim_event_t *e = &s->ev[i];
    e->fn = fn;
    e->ctx = ctx;
    e->arg = arg;
    return (sim_timer_t){i, e->gen};
}

/* Nearly every event is scheduled with a free slot on the list and the
 * pending set in small mode with room: that case is handled here with few
 * registers, so the call needs no stack frame (the general one saved six
 * registers and took about 70 instructions an event). Same slot, same
 * sequence, same key as sim_at_slow would use, so the order of events,
 * and every result, is unchanged. */
sim_timer_t sim_at(sim_t *s, sim_time_t t, sim_handler_fn fn, void *ctx, uint64_t arg)
{
    uint32_t i = s->evs.free;
    if (t < s->now)
        t = s->now;
    if (i == SLAB_NIL || s->seq == UINT32_MAX || !pes_small_fits(&s->pes, i))
        return sim_at_slow(s, t, fn, ctx, arg);
    sim_event_t *e = &s->ev[i];
    s->evs.free = e->next_free; /* SLAB_GET's take from the free list */
    pes_small_push_newest(&s->pes, pes_key(t, s->seq++, i));
    e->fn = fn;
    e->ctx = ctx;
    e->arg = arg;
    return (sim_timer_t){i, e->gen};
}

bool sim_pending(const sim_t *s, sim_timer_t h)
{
    return h.slot != 0 && h.slot < s->evs.n && s->ev[h.slot].gen == h.gen &&
           s->ev[h.slot].fn != NULL;
}

bool sim_cancel(sim_t *s, sim_timer_t h)
{
    if (!sim_pending(s, h))
        return false;
    s->ev[h.slot].fn = NULL; /* the slot is released when its key reaches the head */
    return true;
}

uint64_t sim_run(sim_t *s, sim_time_t until)
{
    uint64_t n0 = s->executed;
    if (s->error) /* a failed run stays stopped */
        return 0;
    s->stopped = false;
    pes_t *q = &s->pes;
    while (!s->stopped && !pes_empty(q)) {
        pes_key_t k;
        if (q->small) {
            /* pes_pop's small mode, tested once: nearly every event */
            k = q->sa[q->n - 1];
            if (k.t > until)
                break;
            if (--q->n)
                __builtin_prefetch(&s->ev[pes_key_slot(q->sa[q->n - 1])]);
        } else {
            if (pes_top(q)->t > until)
                break;
            k = pes_pop(q);
            /* The next event's record, in flight while this handler runs. */
            if (!pes_empty(q))
                __builtin_prefetch(&s->ev[pes_key_slot(*pes_top(q))]);
        }
        uint32_t i = pes_key_slot(k);
        sim_event_t *e = &s->ev[i];
        sim_handler_fn fn = e->fn;
        void *ctx = e->ctx;
        uint64_t arg = e->arg;
        sim_slot_release(s, i);
        if (!fn)
            continue; /* cancelled */
        s->now = k.t;
        s->executed++;
        fn(s, ctx, arg);
    }
    if (!s->stopped && until != SIM_TIME_MAX && s->now < until)
        s->now = until;
    return s->executed - n0;
}

void sim_nothing(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
}
