/*
 * sim.c - event pool, clock and run loop (see sim.h).
 */
#include "sim.h"

#include "pes.h"

#include <stdlib.h>

typedef struct {
    sim_handler_fn fn; /* NULL while free or cancelled */
    void *ctx;
    uint64_t arg;
    uint32_t gen;
    uint32_t next_free;
} sim_event_t;

struct sim {
    sim_time_t now;
    pes_t pes;
    sim_event_t *ev;
    uint32_t nev, cap_ev, free_head;
    uint32_t seq;
    bool stopped;
    uint64_t executed;
};

#define SIM_NIL UINT32_MAX

sim_t *sim_new(void)
{
    sim_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (pes_init(&s->pes, 1024) != 0) {
        free(s);
        return NULL;
    }
    s->free_head = SIM_NIL;
    s->nev = 1; /* slot 0 is never used, so {0,0} is an invalid handle */
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

sim_time_t sim_now(const sim_t *s) { return s->now; }
uint64_t sim_events(const sim_t *s) { return s->executed; }
uint64_t sim_npending(const sim_t *s) { return s->pes.n; }
void sim_stop(sim_t *s) { s->stopped = true; }

static uint32_t sim_slot_alloc(sim_t *s)
{
    if (s->free_head != SIM_NIL) {
        uint32_t i = s->free_head;
        s->free_head = s->ev[i].next_free;
        return i;
    }
    if (s->nev == s->cap_ev) {
        uint32_t cap = s->cap_ev ? s->cap_ev * 2 : 1024;
        sim_event_t *ev = realloc(s->ev, cap * sizeof(*ev));
        if (!ev)
            return SIM_NIL;
        s->ev = ev;
        s->cap_ev = cap;
    }
    s->ev[s->nev].gen = 0;
    return s->nev++;
}

static inline void sim_slot_release(sim_t *s, uint32_t i)
{
    s->ev[i].fn = NULL;
    s->ev[i].gen++;
    s->ev[i].next_free = s->free_head;
    s->free_head = i;
}

sim_timer_t sim_at(sim_t *s, sim_time_t t, sim_handler_fn fn, void *ctx, uint64_t arg)
{
    sim_timer_t h = {0, 0};
    uint32_t i = sim_slot_alloc(s);
    if (i == SIM_NIL)
        return h;
    if (t < s->now) /* the past is not schedulable: run it next instead */
        t = s->now;
    sim_event_t *e = &s->ev[i];
    e->fn = fn;
    e->ctx = ctx;
    e->arg = arg;
    if (pes_push(&s->pes, (pes_key_t){t, s->seq++, i}) != 0) {
        sim_slot_release(s, i);
        return h;
    }
    h.slot = i;
    h.gen = e->gen;
    return h;
}

bool sim_pending(const sim_t *s, sim_timer_t h)
{
    return h.slot != 0 && h.slot < s->nev && s->ev[h.slot].gen == h.gen &&
           s->ev[h.slot].fn != NULL;
}

bool sim_cancel(sim_t *s, sim_timer_t h)
{
    if (!sim_pending(s, h))
        return false;
    s->ev[h.slot].fn = NULL; /* released when it reaches the head */
    return true;
}

uint64_t sim_run(sim_t *s, sim_time_t until)
{
    uint64_t n0 = s->executed;
    s->stopped = false;
    while (!s->stopped && !pes_empty(&s->pes) && pes_top(&s->pes)->t <= until) {
        pes_key_t k = pes_pop(&s->pes);
        sim_event_t *e = &s->ev[k.slot];
        sim_handler_fn fn = e->fn;
        void *ctx = e->ctx;
        uint64_t arg = e->arg;
        sim_slot_release(s, k.slot);
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
