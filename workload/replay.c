/*
 * replay.c - the `trace` workload: replays a trace file (any format in
 * trace.h) through the simulated I/O path, streaming it.
 *
 * Open-loop records are issued at their t_ns. Closed-loop records wait for
 * the requests named in `after` to complete, then think_ns: its first
 * think_cpu_ns as CPU work of the consumer thread (wl_env_t.cpu_work, where
 * the executor has one; it competes for that CPU), the rest as a sleep.
 * Records are read in file order as far ahead as the dependency window allows: the last
 * `window` records (by file position) are kept in a ring, indexed by id, so
 * an `after` can only name one of them. A ring slot is reused only once its
 * request is done, so the reader stalls (and open-loop records may issue
 * late) rather than memory growing. An open-loop record in the future is a
 * barrier: nothing after it in the file is read before its time, and a
 * closed-loop record with an empty `after` starts think_ns after the latest
 * barrier.
 *
 * One pass: the file is validated as it is replayed, not in a pass of its
 * own at load. A bad line (the reader's error, or the window rule: an
 * `after` naming none of the previous `window` records, an id repeating one
 * of them) fails the run with "file:line: reason" as -EINVAL; the runner
 * writes a run's results only once it has finished, so nothing of it is
 * written and `latsurf run` exits 2. When reading stops before the end of
 * the file (the run's end, max_requests) the rest is read and checked then,
 * so a run succeeds only on a trace that is valid to its last line, and the
 * first run of a scenario meets any bad line before a result is written; a
 * file that passed is remembered (per thread, while it stays unchanged) and
 * later runs skip that tail. docs/traces.md states the design.
 *
 * The window's id index costs nothing while ids are dense (each record's id
 * is the previous one's plus one, as every reader but jsonl numbers them and
 * as `latsurf import` writes them): an id is then its position. The first
 * record that breaks this moves the window into a hash map (trace_idmap).
 *
 * Scenario keys (workload entry, docs/traces.md):
 *   path          trace file, relative to the current directory  (required)
 *   format        jsonl | fio-iolog | blkparse | msr-csv | disksim |
 *                 alibaba | tencent-cbs | spc                       (jsonl)
 *   time_scale    multiplies t_ns and think_ns (0.5 = twice as fast)  (1)
 *   loop          start again when a pass is done, until the run ends (false)
 *   max_requests  stop reading after this many records, 0 = all      (0)
 *   window        records kept for dependency lookups                (65536)
 *   qd            at most this many requests in flight, 0 = no cap   (0)
 *   class, consumer_cpu, gates   defaults for records that do not say
 *                                (hot-metadata, 0, false)
 *   start_ms      the trace's time 0 in the run                      (0)
 *   wrap_bytes    replay on a target this small: offsets modulo it (a
 *                 multiple of 4096), pulled back to fit    (0 = as written)
 *   flow          replay only this flow (volume/device id)   (all)
 *   from_s, to_s  replay only this window of the trace, in seconds
 *                 since its first request (trace_select)     (all)
 *
 * req->tag is the record's position in the replay (0-based, across passes).
 */
#include "workload.h"

#include "policies/policy.h"
#include "sim/slab.h"
#include "trace.h"
#include "trace_idmap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *path;
    int fmt;
    double time_scale, start_ms;
    bool loop, gates;
    int cls;
    int64_t consumer_cpu, max_requests;
    uint64_t wrap_bytes;
    uint32_t window, qd;
    trace_select_t sel;
} replay_params_t;

enum { RP_FREE, RP_BLOCKED, RP_SCHEDULED, RP_QUEUED, RP_ISSUED, RP_DONE };

#define RP_NIL UINT32_MAX
#define RP_AHEAD 8 /* slots prefetched ahead of the reader (rp_pump) */

typedef struct {
    uint64_t id, seq, offset, think, think_cpu;
    sim_time_t ready, t_done; /* ready: when its last dependency completed */
    uint32_t bytes, flow, waiting, waiters, next_q;
    uint8_t state, op, cls, gates;
    int16_t cpu, gpu;
} rp_slot_t;

typedef struct {
    uint32_t waiter, next;
} rp_edge_t;

typedef struct {
    replay_params_t p;
    wl_env_t env;
    trace_reader_t *rd;
    rp_slot_t *slot;
    trace_idmap_t *ids;   /* record id -> slot, for the window */
    rp_edge_t *edge;
    slab_t edges;           /* edge[] is a slab; a free edge's next links the free list */
    uint32_t qhead, qtail;  /* records held back by qd */
    uint64_t seq;           /* records read, across passes */
    uint32_t seq_slot;      /* seq % window, kept in step: no division per record */
    uint64_t live;          /* read but not done */
    uint64_t inflight;
    sim_time_t pass_start, barrier;
    bool held, stalled, pass_end, eof, stopped, drain_set;
    /* the window's id index (rp_find, rp_index) */
    uint64_t pass_n;        /* records read in this pass */
    uint64_t pass_seq0;     /* seq at the start of this pass */
    bool dense;             /* every id so far is id0 + its position in the pass */
    uint64_t id0;
    bool checked;           /* the whole file is known to be valid */
    bool stopped_reading;   /* rp_check_rest ran */
    uint32_t *dep;          /* TRACE_MAX_AFTER slots: one record's dependencies */
    struct stat st;         /* the file as the run opened it */
    bool have_st;
} replay_t;

static sim_time_t rp_scale(const replay_t *w, uint64_t ns)
{
    return (sim_time_t)((double)ns * w->p.time_scale + 0.5);
}

static int rp_open(const replay_params_t *p, trace_reader_t **rd, char *err, size_t n)
{
    int rc = trace_open(p->path, trace_fmt_names()[p->fmt], rd, err, n);
    if (rc == 0)
        trace_select(*rd, &p->sel);
    return rc;
}

/* The last file whose every line passed (per thread), while it stays
 * unchanged: a later run of the same scenario skips reading its tail. */
static _Thread_local struct {
    struct stat st;
    int fmt;
    uint32_t window;
    trace_select_t sel;
    bool valid;
} rp_checked;

static bool rp_same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool rp_known_valid(const replay_params_t *p, const struct stat *st)
{
    return rp_checked.valid && rp_checked.fmt == p->fmt && rp_checked.window == p->window &&
           rp_same_file(st, &rp_checked.st) && rp_checked.sel.one_flow == p->sel.one_flow &&
           rp_checked.sel.flow == p->sel.flow && rp_checked.sel.from_ns == p->sel.from_ns &&
           rp_checked.sel.to_ns == p->sel.to_ns;
}

static void rp_remember_valid(const replay_params_t *p, const struct stat *st)
{
    rp_checked.st = *st;
    rp_checked.fmt = p->fmt;
    rp_checked.window = p->window;
    rp_checked.sel = p->sel;
    rp_checked.valid = true;
}

/* At load the trace is only opened (the file exists, the format's header
 * reads); its lines are checked as the run reads them. */
static int rp_probe(const replay_params_t *p, char *err, size_t n)
{
    trace_reader_t *rd;
    int rc = rp_open(p, &rd, err, n);
    trace_close(rd);
    return rc;
}

static int replay_parse(cfg_t *c, json_t *e, void **out)
{
    replay_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_str(c, e, "path", &p->path, NULL);
    cfg_enum(c, e, "format", &p->fmt, 0, trace_fmt_names());
    cfg_f64(c, e, "time_scale", &p->time_scale, 1.0, 1e-6, 1e6);
    cfg_bool(c, e, "loop", &p->loop, false);
    cfg_i64(c, e, "max_requests", &p->max_requests, 0, 0, INT64_MAX);
    cfg_u32(c, e, "window", &p->window, 65536, 16, 1u << 24);
    cfg_u32(c, e, "qd", &p->qd, 0, 0, 1u << 20);
    cfg_enum(c, e, "class", &p->cls, POL_CLASS_HOT_METADATA, pol_class_names);
    cfg_i64(c, e, "consumer_cpu", &p->consumer_cpu, 0, 0, 4095);
    cfg_bool(c, e, "gates", &p->gates, false);
    cfg_f64(c, e, "start_ms", &p->start_ms, 0, 0, 1e9);
    int64_t wrap;
    cfg_i64(c, e, "wrap_bytes", &wrap, 0, 0, INT64_MAX);
    p->wrap_bytes = (uint64_t)wrap;
    if (cfg_ok(c) && p->wrap_bytes % 4096) {
        size_t m = cfg_push(c, "wrap_bytes");
        cfg_fail(c, "expected a multiple of 4096 (offsets keep their alignment), got %llu",
                 (unsigned long long)p->wrap_bytes);
        cfg_pop(c, m);
    }
    int64_t flow;
    double from_s, to_s;
    cfg_i64(c, e, "flow", &flow, -1, 0, UINT32_MAX);
    cfg_f64(c, e, "from_s", &from_s, 0, 0, 9e9);
    cfg_f64(c, e, "to_s", &to_s, 0, 0, 9e9);
    p->sel = (trace_select_t){.one_flow = flow >= 0, .flow = flow >= 0 ? (uint32_t)flow : 0,
                              .from_ns = (uint64_t)(from_s * 1e9 + 0.5),
                              .to_ns = to_s > 0 ? (uint64_t)(to_s * 1e9 + 0.5) : UINT64_MAX};
    if (cfg_ok(c) && p->sel.from_ns >= p->sel.to_ns) {
        size_t m = cfg_push(c, "to_s");
        cfg_fail(c, "expected a time after from_s (%g s), got %g s", from_s, to_s);
        cfg_pop(c, m);
    }
    if (cfg_ok(c) && !p->path)
        cfg_fail(c, "missing \"path\" (the trace file)");
    char err[600];
    if (cfg_ok(c) && rp_probe(p, err, sizeof(err)) < 0) {
        size_t m = cfg_push(c, "path");
        cfg_fail(c, "%s", err);
        cfg_pop(c, m);
    }
    if (!cfg_ok(c)) {
        free(p->path);
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static void replay_params_free(void *params)
{
    replay_params_t *p = params;
    if (p)
        free(p->path);
    free(p);
}

/* The replay cannot go on: it stops, and the run fails with msg. */
static void rp_fail(replay_t *w, int code, const char *msg)
{
    wl_fail(&w->env, code, "trace replay stopped: %s", msg);
    w->stopped = true;
}

static void rp_fire(sim_t *sim, void *ctx, uint64_t slot);
static void rp_pump(replay_t *w);
static void rp_check_rest(replay_t *w);

static void rp_schedule(replay_t *w, uint32_t s, sim_time_t t)
{
    sim_time_t now = sim_now(w->env.sim);
    w->slot[s].state = RP_SCHEDULED;
    sim_at(w->env.sim, t > now ? t : now, rp_fire, w, s);
}

static void rp_done(sim_t *sim, req_t *r);

static void rp_issue(replay_t *w, uint32_t s)
{
    rp_slot_t *x = &w->slot[s];
    req_t *r = wl_req_alloc(&w->env);
    if (!r) { /* the run has failed (wl_req_alloc said why) */
        w->stopped = true;
        return;
    }
    r->offset = x->offset;
    r->bytes = x->bytes;
    r->op = x->op;
    r->cls = x->cls;
    r->gates = x->gates;
    r->flow = x->flow;
    int ncpu = w->env.ncpus ? (int)w->env.ncpus : 1;
    /* the division only for a CPU out of range (one per request showed) */
    r->consumer_cpu = (int16_t)(x->cpu >= 0 && x->cpu < ncpu ? x->cpu : x->cpu % ncpu);
    r->gpu = x->gpu;
    r->t[T_ISSUE] = sim_now(w->env.sim);
    r->done = rp_done;
    r->owner = w;
    r->tag = x->seq;
    x->state = RP_ISSUED;
    w->inflight++;
    w->env.submit(w->env.path, r);
}

static void rp_fire(sim_t *sim, void *ctx, uint64_t slot)
{
    replay_t *w = ctx;
    uint32_t s = (uint32_t)slot;
    bool was_held = w->held && w->slot[s].seq + 1 == w->seq;
    if (was_held)
        w->held = false;
    if (w->stopped || sim_now(sim) >= w->env.end) {
        if (!w->stopped) {
            w->stopped = true;
            rp_check_rest(w);
        }
        return;
    }
    if (w->p.qd && (w->inflight >= w->p.qd || w->qhead != RP_NIL)) {
        w->slot[s].state = RP_QUEUED;
        w->slot[s].next_q = RP_NIL;
        if (w->qtail != RP_NIL)
            w->slot[w->qtail].next_q = s;
        else
            w->qhead = s;
        w->qtail = s;
    } else {
        rp_issue(w, s);
    }
    if (was_held)
        rp_pump(w);
}

static void rp_thought(sim_t *sim, void *ctx, uint64_t slot);

/* Slot s's think time starts now with its CPU part. */
static void rp_compute(sim_t *sim, void *ctx, uint64_t slot)
{
    (void)sim;
    replay_t *w = ctx;
    uint32_t s = (uint32_t)slot;
    rp_slot_t *x = &w->slot[s];
    if (w->stopped)
        return;
    uint32_t ncpu = w->env.ncpus ? w->env.ncpus : 1;
    if (w->env.cpu_work(w->env.path, x->flow, (uint32_t)(x->cpu % (int)ncpu),
                        rp_scale(w, x->think_cpu), rp_thought, w, s) != 0)
        w->stopped = true; /* the run has failed (the executor said why) */
}

/* The CPU part of slot s's think time has run: the rest is a sleep. */
static void rp_thought(sim_t *sim, void *ctx, uint64_t slot)
{
    replay_t *w = ctx;
    uint32_t s = (uint32_t)slot;
    rp_slot_t *x = &w->slot[s];
    sim_time_t cpu = rp_scale(w, x->think_cpu), think = rp_scale(w, x->think);
    rp_schedule(w, s, sim_now(sim) + (think > cpu ? think - cpu : 0));
}

/* Slot s's dependencies are all done: issue after its think time. Its CPU
 * part (think_cpu_ns) runs first, as work of the consumer thread, where the
 * executor has CPUs to run it on (it then competes with the other threads
 * there and may take longer than written); else the whole gap is a wait. */
static void rp_ready(replay_t *w, uint32_t s)
{
    rp_slot_t *x = &w->slot[s];
    if (!x->think_cpu || !w->env.cpu_work) {
        rp_schedule(w, s, x->ready + rp_scale(w, x->think));
        return;
    }
    sim_time_t now = sim_now(w->env.sim);
    x->state = RP_SCHEDULED;
    if (x->ready > now) { /* the barrier is later: wait for it, then compute */
        sim_at(w->env.sim, x->ready, rp_compute, w, s);
        return;
    }
    rp_compute(w->env.sim, w, s);
}

static int rp_add_edge(replay_t *w, uint32_t dep, uint32_t waiter)
{
    uint32_t e = SLAB_GET(w->edges, w->edge, next);
    if (e == SLAB_NIL)
        return -ENOMEM;
    w->edge[e] = (rp_edge_t){waiter, w->slot[dep].waiters};
    w->slot[dep].waiters = e;
    return 0;
}

/* A bad line: the run fails with "file:line: reason" as bad input. */
static int rp_bad(replay_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rp_bad(replay_t *w, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    wl_fail(&w->env, -EINVAL, "%s", msg);
    w->stopped = true;
    return -EINVAL;
}

/* The slot of id among the window: the previous `window` records of this
 * pass, the one about to leave it included. */
static bool rp_find(const replay_t *w, uint64_t id, uint32_t *slot)
{
    if (w->dense) {
        uint64_t lo = w->pass_n > w->p.window ? w->pass_n - w->p.window : 0;
        if (id < w->id0 + lo || id >= w->id0 + w->pass_n)
            return false;
        *slot = (uint32_t)((w->pass_seq0 + (id - w->id0)) % w->p.window);
        return true;
    }
    return trace_idmap_get(w->ids, id, slot);
}

/* The window rule for rec, about to take slot s (whose record, the one
 * `window` back, leaves the window): every `after` names one of the
 * previous `window` records (their slots into w->dep), rec's id none of
 * them. Then rec is indexed. 0, or -EINVAL with the run failed. */
static int rp_index(replay_t *w, const trace_rec_t *rec, uint32_t s)
{
    for (uint32_t i = 0; i < rec->nafter; i++)
        if (!rp_find(w, rec->after[i], &w->dep[i]))
            return rp_bad(w, "%s:%llu: after: id %llu is not one of the previous %u records "
                          "(later in the file, missing, or outside the window)",
                          trace_path(w->rd), (unsigned long long)rec->line,
                          (unsigned long long)rec->after[i], w->p.window);
    bool full = w->pass_n >= w->p.window; /* slot s holds a record of this pass */
    if (w->pass_n == 0) {
        w->dense = true;
        w->id0 = rec->id;
    } else if (w->dense && rec->id != w->id0 + w->pass_n) {
        /* Ids not dense: index the window by hash from here on. */
        w->dense = false;
        uint64_t lo = full ? w->pass_n - w->p.window : 0;
        for (uint64_t k = lo; k < w->pass_n; k++)
            trace_idmap_put(w->ids, w->id0 + k, (uint32_t)((w->pass_seq0 + k) % w->p.window));
    }
    if (!w->dense) {
        uint64_t old = w->slot[s].id;
        if (full && old == rec->id)
            goto repeat;
        if (full)
            trace_idmap_del(w->ids, old);
        uint32_t v = s;
        int rc = trace_idmap_insert(w->ids, rec->id, &v);
        if (rc == 0)
            goto repeat;
        if (rc < 0) /* cannot happen: the map holds at most the window */
            return rp_bad(w, "%s:%llu: dependency window full", trace_path(w->rd),
                          (unsigned long long)rec->line);
    }
    w->slot[s].id = rec->id;
    w->pass_n++;
    return 0;
repeat:
    return rp_bad(w, "%s:%llu: id %llu repeats an id among the previous %u records",
                  trace_path(w->rd), (unsigned long long)rec->line,
                  (unsigned long long)rec->id, w->p.window);
}

/* rec's offset on a target of wrap_bytes: modulo its size, and pulled back
 * (4 KiB-aligned) when the request would run past its end. */
static uint64_t rp_offset(const replay_t *w, const trace_rec_t *rec)
{
    uint64_t wrap = w->p.wrap_bytes, o = rec->offset;
    if (!wrap)
        return o;
    o %= wrap;
    if (o + rec->bytes > wrap)
        o = rec->bytes >= wrap ? 0 : (wrap - rec->bytes) / 4096 * 4096;
    return o;
}

/* Take record rec into slot s; w->dep holds the slots of its `after` ids
 * (rp_index), s itself standing for the record that left it. */
static void rp_admit(replay_t *w, uint32_t s, const trace_rec_t *rec)
{
    rp_slot_t *x = &w->slot[s];
    sim_time_t left_done = x->t_done; /* the record that left slot s: done */
    x->seq = w->seq - 1;
    x->id = rec->id;
    x->offset = rp_offset(w, rec);
    x->bytes = rec->bytes;
    x->flow = rec->flow;
    x->op = rec->op;
    x->cls = (uint8_t)(rec->cls >= 0 ? rec->cls : w->p.cls);
    x->gates = (uint8_t)(rec->gates >= 0 ? rec->gates : w->p.gates);
    x->cpu = (int16_t)(rec->consumer_cpu >= 0 ? rec->consumer_cpu : w->p.consumer_cpu);
    x->gpu = (int16_t)rec->gpu;
    x->think = rec->think_ns;
    x->think_cpu = rec->think_cpu_ns;
    x->waiters = RP_NIL;
    x->waiting = 0;
    w->live++;
    if (!rec->closed) {
        sim_time_t t = w->pass_start + rp_scale(w, rec->t_ns);
        sim_time_t now = sim_now(w->env.sim);
        if (t >= w->env.end) {
            /* Past the run: this pass reads no further. */
            x->state = RP_DONE;
            x->t_done = t;
            w->live--;
            w->eof = true;
            return;
        }
        if (t > w->barrier)
            w->barrier = t;
        if (t > now)
            w->held = true;
        rp_schedule(w, s, t);
        return;
    }
    x->ready = w->barrier;
    for (uint32_t i = 0; i < rec->nafter; i++) {
        uint32_t d = w->dep[i];
        sim_time_t done = d == s ? left_done : w->slot[d].t_done;
        if (d == s || w->slot[d].state == RP_DONE) {
            if (done > x->ready)
                x->ready = done;
        } else if (rp_add_edge(w, d, s) == 0) {
            x->waiting++;
        } else {
            rp_fail(w, -ENOMEM, "out of memory for dependencies");
            return;
        }
    }
    if (x->waiting)
        x->state = RP_BLOCKED;
    else
        rp_ready(w, s);
}

/* The first pass read the whole file: no line was bad, but a selection may
 * have kept nothing. */
static void rp_pass_checked(replay_t *w)
{
    if (w->checked)
        return;
    w->checked = true;
    const trace_stats_t *st = trace_stats(w->rd);
    if (!st->records && st->unselected) {
        rp_bad(w, "%s: flow/from_s/to_s select none of its %llu requests", trace_path(w->rd),
               (unsigned long long)st->unselected);
        return;
    }
    if (w->have_st)
        rp_remember_valid(&w->p, &w->st);
}

/* Reading stops before the end of the first pass (the run is over, or
 * max_requests): read and check the rest, so the run fails on a bad line
 * wherever it is. */
static void rp_check_rest(replay_t *w)
{
    if (w->checked || w->stopped_reading)
        return;
    w->stopped_reading = true;
    trace_rec_t rec;
    int rc;
    while ((rc = trace_next(w->rd, &rec)) == 1)
        if (rp_index(w, &rec, (uint32_t)((w->pass_seq0 + w->pass_n) % w->p.window)) < 0)
            return;
    if (rc < 0)
        rp_bad(w, "%s", trace_error(w->rd));
    else
        rp_pass_checked(w);
}

/* Start the next pass of a looped trace once the previous one is done. */
static bool rp_next_pass(replay_t *w)
{
    char err[600];
    if (sim_now(w->env.sim) == w->pass_start) {
        /* A pass that took no time (instant storage, one timestamp) would
         * loop forever at this instant. */
        w->eof = true;
        return false;
    }
    trace_close(w->rd);
    w->rd = NULL;
    int rc = rp_open(&w->p, &w->rd, err, sizeof(err));
    if (rc < 0) {
        rp_fail(w, rc, err);
        return false;
    }
    trace_idmap_clear(w->ids);
    w->pass_n = 0;
    w->pass_seq0 = w->seq;
    w->pass_start = w->barrier = sim_now(w->env.sim);
    w->pass_end = false;
    return true;
}

/* Read ahead as far as time, the window and max_requests allow. */
static void rp_pump(replay_t *w)
{
    while (!w->stopped && !w->eof && !w->held) {
        if (w->pass_end) {
            if (w->live || !rp_next_pass(w))
                return;
        }
        if (w->p.max_requests && w->seq >= (uint64_t)w->p.max_requests) {
            w->eof = true;
            rp_check_rest(w);
            return;
        }
        uint32_t s = w->seq_slot;
        rp_slot_t *x = &w->slot[s];
        /* The ring is megabytes and a slot comes round again only after
         * `window` records: fetch the lines of the records to come while
         * this one is replayed (RP_AHEAD of them ahead, wrapping). */
        uint32_t ahead = s + RP_AHEAD;
        __builtin_prefetch(&w->slot[ahead < w->p.window ? ahead : ahead % w->p.window], 1);
        if (x->state != RP_FREE && x->state != RP_DONE) {
            w->stalled = true;
            return;
        }
        trace_rec_t rec;
        int rc = trace_next(w->rd, &rec);
        if (rc < 0) {
            rp_bad(w, "%s", trace_error(w->rd));
            return;
        }
        if (rc == 0) {
            rp_pass_checked(w);
            if (w->p.loop && trace_stats(w->rd)->records)
                w->pass_end = true;
            else
                w->eof = true;
            continue;
        }
        if (rp_index(w, &rec, s) < 0)
            return;
        w->seq++;
        w->seq_slot = s + 1 == w->p.window ? 0 : s + 1;
        rp_admit(w, s, &rec);
        if (w->eof)
            rp_check_rest(w);
    }
}

/* Issue what qd held back. An event, not a call from rp_done, so the path
 * is never re-entered from its own completion. */
static void rp_drain(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    replay_t *w = ctx;
    w->drain_set = false;
    while (w->qhead != RP_NIL && !w->stopped && w->inflight < w->p.qd) {
        uint32_t q = w->qhead;
        w->qhead = w->slot[q].next_q;
        if (w->qhead == RP_NIL)
            w->qtail = RP_NIL;
        rp_issue(w, q);
    }
}

static void rp_done(sim_t *sim, req_t *r)
{
    replay_t *w = r->owner;
    uint32_t s = (uint32_t)(r->tag % w->p.window);
    rp_slot_t *x = &w->slot[s];
    req_release(w->env.pool, r);
    x->state = RP_DONE;
    x->t_done = sim_now(sim);
    w->inflight--;
    w->live--;
    for (uint32_t e = x->waiters; e != RP_NIL;) {
        rp_edge_t ed = w->edge[e];
        rp_slot_t *y = &w->slot[ed.waiter];
        if (x->t_done > y->ready)
            y->ready = x->t_done;
        if (--y->waiting == 0)
            rp_ready(w, ed.waiter);
        SLAB_PUT(w->edges, w->edge, next, e);
        e = ed.next;
    }
    x->waiters = RP_NIL;
    if (w->qhead != RP_NIL && !w->drain_set) {
        w->drain_set = true;
        sim_at(sim, sim_now(sim), rp_drain, w, 0);
    }
    if (w->stalled || w->pass_end) {
        w->stalled = false;
        rp_pump(w);
    }
}

static void replay_free(void *inst)
{
    replay_t *w = inst;
    if (!w)
        return;
    trace_close(w->rd);
    trace_idmap_free(w->ids);
    free(w->slot);
    free(w->dep);
    free(w->edge);
    free(w->p.path);
    free(w);
}

static void rp_kick(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    rp_pump(ctx);
}

static int replay_start(const void *params, const wl_env_t *env, void **inst)
{
    replay_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const replay_params_t *)params;
    w->p.path = strdup(w->p.path);
    w->env = *env;
    w->slot = calloc(w->p.window, sizeof(*w->slot));
    w->ids = trace_idmap_new(w->p.window);
    w->dep = malloc(TRACE_MAX_AFTER * sizeof(*w->dep));
    w->qhead = w->qtail = RP_NIL;
    w->edges = slab_make(SLAB_MAX);
    char err[600];
    if (!w->p.path || !w->slot || !w->ids || !w->dep) {
        replay_free(w);
        return -ENOMEM;
    }
    int rc = rp_open(&w->p, &w->rd, err, sizeof(err));
    if (rc < 0) {
        wl_fail(env, rc, "%s", err);
        replay_free(w);
        return rc;
    }
    w->have_st = fstat(fileno(w->rd->f), &w->st) == 0;
    w->checked = w->have_st && rp_known_valid(&w->p, &w->st);
    w->pass_start = w->barrier = SIM_MS(w->p.start_ms);
    /* Reading starts at the first record's time, not before. */
    sim_at(env->sim, sim_now(env->sim), rp_kick, w, 0);
    *inst = w;
    return 0;
}

const wl_ops_t wl_trace_ops = {
    .name = "trace",
    .parse = replay_parse,
    .params_free = replay_params_free,
    .start = replay_start,
    .inst_free = replay_free,
    .thinks = true,
};
