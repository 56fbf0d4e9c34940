/*
 * traceexport.c - see traceexport.h.
 *
 * Dependencies and on-CPU time are found with sorted arrays and binary
 * searches (as in tracejoin.c), so an export costs O(n log n).
 */
#include "traceexport.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void traceexport_init(traceexport_t *x) { memset(x, 0, sizeof(*x)); }

void traceexport_fini(traceexport_t *x)
{
    free(x->rec);
    memset(x, 0, sizeof(*x));
}

/* What an event says about a task: switched in or out, woken (so it was
 * not running), seen running (an event in its context), or interrupted
 * (a hard or soft interrupt entered or left while it was current). */
enum { K_IN, K_OUT, K_WAKE, K_CTX, K_IRQ, K_IRQX };

/* (pid, ts) with a payload; sorted by pid, then ts, then seq. */
typedef struct {
    uint64_t ts;
    int32_t pid;
    uint32_t seq;
    uint32_t idx;
    uint8_t kind; /* K_* */
} pkey_t;

static int cmp_pkey(const void *a, const void *b)
{
    const pkey_t *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* First position whose (pid, ts) >= (pid, ts). */
static size_t pkey_lower(const pkey_t *k, size_t n, int32_t pid, uint64_t ts)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k[mid].pid < pid || (k[mid].pid == pid && k[mid].ts < ts))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ns that pid ran on a CPU in [a, b]. running: whether it ran at a; -1 to
 * take it from the events around a.
 *
 * Some recordings miss a sched_switch now and then (seen on the
 * development VM around one paravirtual task, in recordings made with and
 * without draining while recording). A switch-out or an event in the
 * task's context while it is thought off CPU means a switch-in was missed
 * somewhere since the last moment it was known off CPU (switched out or
 * woken); a wakeup while it is thought running means a switch-out was missed
 * since it was last seen running. Either is taken half-way: the error is at
 * most half that window, where the first or the last moment could be off by
 * all of it. Interrupts served while it was current (recorded for the
 * followed tasks: irq_handler_entry/exit, softirq_entry/exit) are not its
 * CPU work and are left out, as its CPU clock leaves them out. */
static uint64_t on_cpu(const pkey_t *k, size_t nk, int32_t pid, uint64_t a, uint64_t b,
                       int running)
{
    size_t i = pkey_lower(k, nk, pid, a);
    if (running < 0) {
        size_t p = i;
        while (p > 0 && k[p - 1].pid == pid && k[p - 1].kind == K_CTX)
            p--;
        if (p > 0 && k[p - 1].pid == pid)
            running = k[p - 1].kind == K_IN;
        else
            running = i < nk && k[i].pid == pid && (k[i].kind == K_OUT || k[i].kind == K_CTX);
    }
    uint64_t sum = 0, from = a, seen = a, off = a, irq = 0, irq_from = 0;
    int depth = 0;
    for (; i < nk && k[i].pid == pid && k[i].ts <= b; i++) {
        uint64_t ts = k[i].ts;
        switch (k[i].kind) {
        case K_IRQ:
            if (depth++ == 0)
                irq_from = ts;
            break;
        case K_IRQX:
            if (depth > 0 && --depth == 0 && running)
                irq += ts - irq_from;
            break;
        case K_IN:
            if (!running)
                from = ts;
            running = 1;
            seen = ts;
            break;
        case K_OUT:
            sum += ts - (running ? from : off + (ts - off) / 2);
            running = 0;
            off = ts;
            break;
        case K_WAKE:
            if (running)
                sum += seen + (ts - seen) / 2 - from;
            running = 0;
            off = ts;
            break;
        case K_CTX:
            if (!running)
                from = off + (ts - off) / 2;
            running = 1;
            seen = ts;
            break;
        }
    }
    if (running)
        sum += b - from;
    return sum > irq ? sum - irq : 0;
}

int traceexport_build(const traceparse_t *t, const tracejoin_t *j, uint64_t span_bytes,
                      traceexport_t *x)
{
    if (span_bytes % 4096)
        return -EINVAL;
    size_t n = 0, nsw = 0;
    for (size_t i = 0; i < j->n; i++) {
        if (j->req[i].have & TJ_READY)
            n++;
        else
            x->left_out++;
    }
    nsw = 2 * t->n; /* at most two items an event (a switch) */
    x->rec = calloc(n + 1, sizeof(*x->rec));
    pkey_t *done = malloc((n + 1) * sizeof(*done)), *sw = malloc((nsw + 1) * sizeof(*sw));
    if (!x->rec || !done || !sw) {
        free(done);
        free(sw);
        return -ENOMEM;
    }
    nsw = 0;
    for (size_t i = 0; i < t->n; i++) {
        const traceparse_ev_t *e = &t->ev[i];
        if (e->type == TP_SWITCH) {
            if (e->u.sw.prev_pid)
                sw[nsw++] = (pkey_t){e->ts, e->u.sw.prev_pid, e->line, 0, K_OUT};
            if (e->u.sw.next_pid)
                sw[nsw++] = (pkey_t){e->ts, e->u.sw.next_pid, e->line, 0, K_IN};
        } else if (e->pid && (e->type == TP_IRQ_ENTRY || e->type == TP_SOFTIRQ_ENTRY)) {
            sw[nsw++] = (pkey_t){e->ts, e->pid, e->line, 0, K_IRQ};
        } else if (e->pid && (e->type == TP_IRQ_EXIT || e->type == TP_SOFTIRQ_EXIT)) {
            sw[nsw++] = (pkey_t){e->ts, e->pid, e->line, 0, K_IRQX};
        } else if (e->type == TP_WAKEUP) {
            if (e->u.wake.pid)
                sw[nsw++] = (pkey_t){e->ts, e->u.wake.pid, e->line, 0, K_WAKE};
            if (e->pid && !(e->ctx & (TP_CTX_HARDIRQ | TP_CTX_SOFTIRQ)))
                sw[nsw++] = (pkey_t){e->ts, e->pid, e->line, 0, K_CTX};
        } else if (e->pid && !(e->ctx & (TP_CTX_HARDIRQ | TP_CTX_SOFTIRQ))) {
            sw[nsw++] = (pkey_t){e->ts, e->pid, e->line, 0, K_CTX};
        }
    }
    if (nsw)
        qsort(sw, nsw, sizeof(*sw), cmp_pkey);

    /* the records, in issue order (j->req is), and their completions by
     * (thread, t_ready) */
    uint64_t base = UINT64_MAX;
    for (size_t i = 0; i < j->n; i++) {
        const tracejoin_req_t *r = &j->req[i];
        if (!(r->have & TJ_READY))
            continue;
        traceexport_rec_t *o = &x->rec[x->n];
        o->id = x->n;
        o->req = i;
        o->t_issue = r->t_submit;
        o->service_ns = r->t_ready - r->t_submit;
        o->offset = r->sector * 512;
        o->bytes = r->kind == TJ_KIND_URING ? r->bytes
                   : r->blk_bytes > UINT32_MAX ? UINT32_MAX
                                               : (uint32_t)r->blk_bytes;
        o->flow = (uint32_t)r->pid;
        o->consumer_cpu = r->consumer_cpu;
        o->write = r->write;
        base = o->offset < base ? o->offset : base;
        done[x->n] = (pkey_t){r->t_ready, r->pid, (uint32_t)x->n, (uint32_t)x->n, K_CTX};
        x->n++;
    }
    if (x->n)
        qsort(done, x->n, sizeof(*done), cmp_pkey);
    for (size_t i = 0; i < x->n; i++)
        x->threads += i == 0 || done[i].pid != done[i - 1].pid;
    x->offset_base = x->n ? base & ~((uint64_t)(1u << 20) - 1) : 0;
    uint64_t t0 = x->n ? x->rec[0].t_issue : 0;
    for (size_t i = 0; i < x->n; i++) {
        traceexport_rec_t *o = &x->rec[i];
        o->offset -= x->offset_base;
        if (span_bytes)
            o->offset %= span_bytes;
        if (o->offset + o->bytes > x->span)
            x->span = o->offset + o->bytes;
        /* the latest result this thread had in hand when it issued o */
        int32_t pid = (int32_t)o->flow;
        size_t k = pkey_lower(done, x->n, pid, o->t_issue + 1);
        if (k > 0 && done[k - 1].pid == pid && done[k - 1].idx < o->id) {
            const traceexport_rec_t *d = &x->rec[done[k - 1].idx];
            const tracejoin_req_t *dr = &j->req[d->req];
            o->after = (int64_t)d->id;
            o->think_ns = o->t_issue - dr->t_ready;
            o->think_cpu_ns = on_cpu(sw, nsw, pid, dr->t_ready, o->t_issue, 1);
        } else {
            o->after = -1;
            o->think_ns = o->t_issue - t0;
            o->think_cpu_ns = on_cpu(sw, nsw, pid, t0, o->t_issue, -1);
        }
        if (o->think_cpu_ns > o->think_ns)
            o->think_cpu_ns = o->think_ns;
    }
    free(done);
    free(sw);
    return 0;
}

int traceexport_write(const traceexport_t *x, FILE *f)
{
    for (size_t i = 0; i < x->n; i++) {
        const traceexport_rec_t *o = &x->rec[i];
        char after[32] = "";
        if (o->after >= 0)
            snprintf(after, sizeof(after), "%" PRId64, o->after);
        char cpu[32] = "";
        if (o->consumer_cpu >= 0)
            snprintf(cpu, sizeof(cpu), ",\"consumer_cpu\":%d", o->consumer_cpu);
        if (fprintf(f,
                    "{\"id\":%" PRIu64 ",\"after\":[%s],\"think_ns\":%" PRIu64
                    ",\"think_cpu_ns\":%" PRIu64 ",\"op\":\"%s\",\"offset\":%" PRIu64
                    ",\"bytes\":%u,\"flow\":%u%s,\"service_ns\":%" PRIu64 "}\n",
                    o->id, after, o->think_ns, o->think_cpu_ns, o->write ? "write" : "read",
                    o->offset, o->bytes, o->flow, cpu, o->service_ns) < 0)
            return -EIO;
    }
    return fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
}
