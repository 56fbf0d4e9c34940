/*
 * tracejoin.c - see tracejoin.h.
 *
 * Every join is a sort followed by one walk (or a binary search into a
 * sorted index), so a trace of n events joins in O(n log n) with no hash
 * tables, and a pointer or pid that the kernel reuses later in the trace can
 * only pair with its nearest neighbour in time.
 */
#include "tracejoin.h"

#include "sim/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tracejoin_init(tracejoin_t *j) { memset(j, 0, sizeof(*j)); }

void tracejoin_fini(tracejoin_t *j)
{
    free(j->req);
    memset(j, 0, sizeof(*j));
}

double tracejoin_rate(const tracejoin_t *j)
{
    uint64_t n = j->uring_rw + j->sys_device + j->aio_requests;
    return n ? (double)j->joined / (double)n : 0.0;
}

int tracejoin_same_cpu(const tracejoin_req_t *r)
{
    if (!(r->have & TJ_READY) || !(r->have & TJ_BLOCK))
        return -1;
    return r->consumer_cpu == r->completion_cpu;
}

/* ---- sortable keys ---------------------------------------------------- */

/* A generic (k1, k2, ts, line) key with a payload index. */
typedef struct {
    uint64_t k1, k2, ts;
    uint32_t line, idx;
    uint8_t kind;
} jkey_t;

static int cmp_key(const void *a, const void *b)
{
    const jkey_t *x = a, *y = b;
    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

/* First position in k[0..n) whose (k1, k2, ts) >= (k1, k2, ts). */
static size_t key_lower(const jkey_t *k, size_t n, uint64_t k1, uint64_t k2, uint64_t ts)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const jkey_t *m = &k[mid];
        int less = m->k1 != k1 ? m->k1 < k1 : m->k2 != k2 ? m->k2 < k2 : m->ts < ts;
        if (less)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the join --------------------------------------------------------- */

enum { S_WAKE, S_IN, S_OUT };

typedef struct {
    uint32_t issue, complete; /* event indices */
    int64_t req;              /* linked request, -1 */
    int64_t sys;              /* syscall it was issued in (sysc_t), -1 */
    int32_t owner;            /* pid of the task that queued it */
} blkpair_t;

/* A syscall of traceparse_syscalls[] with its entry and exit. */
typedef struct {
    uint32_t enter, exit; /* event indices */
    uint32_t nblk;        /* block requests issued in it */
} sysc_t;

typedef struct {
    const traceparse_t *t;
    tracejoin_t *j;
    blkpair_t *bp;
    size_t nbp;
    jkey_t *sched; /* (pid, 0, ts): S_* items */
    size_t nsched;
    jkey_t *irq;   /* (cpu, 0, ts) irq entries of block vectors; cpu UINT64_MAX = any */
    size_t nirq;
    jkey_t *irqx;  /* (cpu, irq, ts) irq exits */
    size_t nirqx;
    jkey_t *ipi;   /* (src cpu, 0, ts) */
    size_t nipi;
    jkey_t *sw;    /* (cpu, 0, ts) every context switch */
    size_t nsw;
    int32_t *blk_ctx_pid; /* per request: the task the block completion ran in */
    uint8_t *blk_ctx;     /* per request: its TP_CTX_* bits */
    sysc_t *sc;           /* syscalls, by (pid, entry time) */
    size_t nsc;
    int32_t *follow;      /* sorted pids of the followed tasks; NULL: every task */
    size_t nfollow;
} ctx_t;

static int cmp_pid(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int followed(const ctx_t *c, int32_t pid)
{
    return !c->follow || bsearch(&pid, c->follow, c->nfollow, sizeof(pid), cmp_pid) != NULL;
}

/* The tasks a `trace record` followed: those of its header and every child
 * their recorded forks made (the fork events were recorded for followed
 * tasks only). */
static int find_followed(ctx_t *c)
{
    const traceparse_t *t = c->t;
    if (!t->nfollowed)
        return 0;
    size_t n = t->nfollowed;
    for (size_t i = 0; i < t->n; i++)
        n += t->ev[i].type == TP_FORK;
    c->follow = malloc(n * sizeof(*c->follow));
    if (!c->follow)
        return -ENOMEM;
    memcpy(c->follow, t->followed, t->nfollowed * sizeof(*c->follow));
    c->nfollow = t->nfollowed;
    for (size_t i = 0; i < t->n; i++)
        if (t->ev[i].type == TP_FORK)
            c->follow[c->nfollow++] = t->ev[i].u.fork.child_pid;
    qsort(c->follow, c->nfollow, sizeof(*c->follow), cmp_pid);
    c->j->followed = c->nfollow;
    return 0;
}

static int is_block_irq(const char *name)
{
    static const char *const pat[] = {"nvme", "-req", "virtio-blk", "ahci", "blk",
                                      "scsi", "mmc",  "megasas",    "mpt",  "ata"};
    for (size_t i = 0; i < sizeof(pat) / sizeof(pat[0]); i++)
        if (strstr(name, pat[i]))
            return 1;
    return 0;
}

/* Pair io_uring submits with completions by (ring, req) and create one
 * request per read/write submit. */
static int join_uring(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t nk = 0, cap = 0, capr = 0;
    jkey_t *k = NULL;
    for (size_t i = 0; i < c->t->n; i++) {
        if (ev[i].type != TP_URING_SUBMIT && ev[i].type != TP_URING_COMPLETE)
            continue;
        if (VEC_RESERVE(k, cap, nk + 1))
            goto nomem;
        k[nk++] = (jkey_t){ev[i].u.uring.ring,
                          ev[i].u.uring.has_req ? ev[i].u.uring.req : ev[i].u.uring.user_data,
                          ev[i].ts, ev[i].line, (uint32_t)i, 0};
    }
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    for (size_t i = 0; i < nk; i++) {
        const traceparse_ev_t *e = &ev[k[i].idx];
        if (e->type == TP_URING_COMPLETE) {
            c->j->orphan_completes++; /* its submit is before the trace */
            continue;
        }
        const traceparse_ev_t *done = NULL;
        if (i + 1 < nk && k[i + 1].k1 == k[i].k1 && k[i + 1].k2 == k[i].k2 &&
            ev[k[i + 1].idx].type == TP_URING_COMPLETE)
            done = &ev[k[++i].idx];
        if (!e->u.uring.rw)
            continue;
        if (!followed(c, e->pid)) {
            c->j->other_tasks++; /* not the recorded command's */
            continue;
        }
        if (VEC_RESERVE(c->j->req, capr, c->j->n + 1))
            goto nomem;
        tracejoin_req_t *r = &c->j->req[c->j->n++];
        memset(r, 0, sizeof(*r));
        r->t_submit = e->ts;
        r->ring = e->u.uring.ring;
        r->req = e->u.uring.req;
        r->user_data = e->u.uring.user_data;
        r->pid = e->pid;
        r->submit_cpu = e->cpu;
        r->irq_cpu = r->completion_cpu = r->consumer_cpu = r->cqe_cpu = -1;
        r->write = strstr(e->u.uring.op, "WRITE") != NULL || strcmp(e->u.uring.op, "2") == 0 ||
                   strcmp(e->u.uring.op, "5") == 0 || strcmp(e->u.uring.op, "23") == 0;
        memcpy(r->comm, e->comm, TP_COMM);
        r->have = TJ_SUBMIT;
        if (done) {
            r->t_cqe = done->ts;
            r->cqe_cpu = done->cpu;
            r->cqe_pid = done->pid;
            r->cqe_ctx = done->ctx;
            r->res = done->u.uring.res;
            r->have |= TJ_CQE;
            c->j->uring_rw++;
        }
    }
    free(k);
    return 0;
nomem:
    free(k);
    return -ENOMEM;
}

static int cmp_req_submit(const void *a, const void *b)
{
    const tracejoin_req_t *x = a, *y = b;
    return (x->t_submit > y->t_submit) - (x->t_submit < y->t_submit);
}

/* Pair block issues with completions by (dev, sector). */
static int join_block(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t nk = 0, cap = 0, capb = 0;
    jkey_t *k = NULL;
    for (size_t i = 0; i < c->t->n; i++) {
        if (ev[i].type != TP_BLK_ISSUE && ev[i].type != TP_BLK_COMPLETE)
            continue;
        if (VEC_RESERVE(k, cap, nk + 1))
            goto nomem;
        k[nk++] = (jkey_t){ev[i].u.blk.dev, ev[i].u.blk.sector, ev[i].ts, ev[i].line,
                          (uint32_t)i, 0};
    }
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    for (size_t i = 0; i < nk; i++) {
        if (ev[k[i].idx].type == TP_BLK_COMPLETE) {
            c->j->orphan_completes++;
            continue;
        }
        /* An issue followed by another issue of the same sector was requeued
         * or lost its completion: only the last issue pairs. */
        if (i + 1 < nk && k[i + 1].k1 == k[i].k1 && k[i + 1].k2 == k[i].k2 &&
            ev[k[i + 1].idx].type == TP_BLK_COMPLETE) {
            if (VEC_RESERVE(c->bp, capb, c->nbp + 1))
                goto nomem;
            c->bp[c->nbp++] = (blkpair_t){k[i].idx, k[i + 1].idx, -1, -1, ev[k[i].idx].pid};
            i++;
        }
    }
    c->j->blk_requests = c->nbp;
    free(k);
    return 0;
nomem:
    free(k);
    return -ENOMEM;
}

static void link_pair(ctx_t *c, blkpair_t *b, size_t ri)
{
    const traceparse_ev_t *is = &c->t->ev[b->issue], *co = &c->t->ev[b->complete];
    tracejoin_req_t *r = &c->j->req[ri];
    b->req = (int64_t)ri;
    r->t_dispatch = is->ts;
    r->t_blk_done = co->ts;
    r->completion_cpu = co->cpu;
    r->dev = is->u.blk.dev;
    r->sector = is->u.blk.sector;
    r->bytes = is->u.blk.bytes;
    r->have |= TJ_BLOCK | TJ_LINKED;
    c->blk_ctx_pid[ri] = co->pid;
    c->blk_ctx[ri] = co->ctx;
}

/* Could request r own block request b? Its CQE cannot precede the block
 * completion. */
static int can_own(const tracejoin_req_t *r, const traceparse_ev_t *co)
{
    return !(r->have & TJ_LINKED) && (!(r->have & TJ_CQE) || r->t_cqe >= co->ts);
}

/* Tie block requests to io_uring requests: FIFO per submitting pid. */
static int link_submit_issue(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    enum { L_EXIT, L_SUBMIT, L_ISSUE };
    size_t nk = 0, cap = 0;
    jkey_t *k = NULL;
    for (size_t i = 0; i < c->j->n; i++) {
        if (VEC_RESERVE(k, cap, nk + 1))
            goto nomem;
        k[nk++] = (jkey_t){(uint64_t)(uint32_t)c->j->req[i].pid, 0, c->j->req[i].t_submit, 0,
                          (uint32_t)i, L_SUBMIT};
    }
    for (size_t i = 0; i < c->nbp; i++) {
        const traceparse_ev_t *e = &ev[c->bp[i].issue];
        if (VEC_RESERVE(k, cap, nk + 1))
            goto nomem;
        k[nk++] = (jkey_t){(uint64_t)(uint32_t)e->pid, 0, e->ts, e->line, (uint32_t)i, L_ISSUE};
    }
    for (size_t i = 0; i < c->t->n; i++)
        if (ev[i].type == TP_SWITCH && ev[i].u.sw.prev_dead) {
            if (VEC_RESERVE(k, cap, nk + 1))
                goto nomem;
            k[nk++] = (jkey_t){(uint64_t)(uint32_t)ev[i].u.sw.prev_pid, 0, ev[i].ts, ev[i].line,
                              (uint32_t)i, L_EXIT};
        }
    /* submit lines sort before the issue they cause at equal ts */
    for (size_t i = 0; i < nk; i++)
        if (k[i].kind == L_SUBMIT)
            k[i].line = 0;
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);

    size_t *fifo = malloc((c->j->n + 1) * sizeof(*fifo));
    if (!fifo)
        goto nomem;
    size_t head = 0, tail = 0;
    uint64_t pid = UINT64_MAX;
    const char *comm = "";
    for (size_t i = 0; i < nk; i++) {
        if (k[i].k1 != pid) {
            pid = k[i].k1;
            head = tail = 0;
            comm = "";
        }
        if (k[i].kind == L_EXIT) {
            head = tail = 0;
        } else if (k[i].kind == L_SUBMIT) {
            const tracejoin_req_t *r = &c->j->req[k[i].idx];
            if (strcmp(r->comm, comm) != 0)
                head = tail = 0; /* a new process behind a reused pid */
            comm = r->comm;
            fifo[tail++] = k[i].idx;
        } else {
            blkpair_t *b = &c->bp[k[i].idx];
            const traceparse_ev_t *is = &ev[b->issue], *co = &ev[b->complete];
            if (strcmp(is->comm, comm) != 0)
                continue;
            while (head < tail && !can_own(&c->j->req[fifo[head]], co))
                head++; /* completed without block I/O (cache hit, error) */
            if (head < tail)
                link_pair(c, b, fifo[head++]);
        }
    }
    free(fifo);
    free(k);
    return 0;
nomem:
    free(k);
    return -ENOMEM;
}

/* Block requests dispatched later by a kworker (queue busy, requeue) carry
 * no submitter: give each the oldest unlinked io_uring request that was
 * submitted before it and had not completed yet. */
static void link_kworker(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t start = 0;
    for (size_t i = 0; i < c->nbp; i++) {
        blkpair_t *b = &c->bp[i];
        const traceparse_ev_t *is = &ev[b->issue], *co = &ev[b->complete];
        if (b->req >= 0 || (strncmp(is->comm, "kworker", 7) != 0 &&
                            strncmp(is->comm, "kblockd", 7) != 0))
            continue;
        while (start < c->j->n && (c->j->req[start].have & TJ_LINKED))
            start++;
        for (size_t r = start; r < c->j->n && c->j->req[r].t_submit <= is->ts; r++)
            if (can_own(&c->j->req[r], co)) {
                link_pair(c, b, r);
                break;
            }
    }
}

/* Last element of k (sorted by k1, k2, ts) with key (k1, k2) and ts <= t. */
static const jkey_t *last_at_or_before(const jkey_t *k, size_t n, uint64_t k1, uint64_t k2,
                                      uint64_t t)
{
    size_t i = key_lower(k, n, k1, k2, t + 1);
    if (i == 0 || k[i - 1].k1 != k1 || k[i - 1].k2 != k2)
        return NULL;
    return &k[i - 1];
}

static void attribute_irq(ctx_t *c, tracejoin_req_t *r)
{
    const jkey_t *hit = last_at_or_before(c->irq, c->nirq, (uint64_t)r->completion_cpu, 0,
                                         r->t_blk_done);
    if (!hit || hit->ts < r->t_dispatch)
        hit = last_at_or_before(c->irq, c->nirq, UINT64_MAX, 0, r->t_blk_done);
    if (!hit || hit->ts < r->t_dispatch)
        return;
    const traceparse_ev_t *e = &c->t->ev[hit->idx];
    r->t_irq = e->ts;
    r->irq_cpu = e->cpu;
    r->have |= TJ_IRQ;
    size_t x = key_lower(c->irqx, c->nirqx, (uint64_t)e->cpu, (uint64_t)(uint32_t)e->u.irq.irq,
                         e->ts);
    if (x < c->nirqx && c->irqx[x].k1 == (uint64_t)e->cpu &&
        c->irqx[x].k2 == (uint64_t)(uint32_t)e->u.irq.irq) {
        r->t_irq_exit = c->irqx[x].ts;
        r->have |= TJ_IRQ_EXIT;
    }
}

static int same_task(const ctx_t *c, const jkey_t *s, const tracejoin_req_t *r);

/* Once the waiter is known running (TJ_READY): was its CPU idle when the
 * block request completed, when was it woken and switched in, and did an
 * IPI go from the completion CPU to it. */
static void waiter_detail(ctx_t *c, tracejoin_req_t *r)
{
    uint64_t pid = (uint64_t)(uint32_t)r->pid;
    const jkey_t *last = last_at_or_before(c->sw, c->nsw, (uint64_t)r->consumer_cpu, 0,
                                           r->t_blk_done);
    r->consumer_idle = last ? c->t->ev[last->idx].u.sw.next_pid == 0 : -1;
    for (size_t i = key_lower(c->sched, c->nsched, pid, 0, r->t_blk_done);
         i < c->nsched && c->sched[i].k1 == pid && c->sched[i].ts <= r->t_ready; i++) {
        const jkey_t *s = &c->sched[i];
        if (s->kind == S_WAKE && !(r->have & TJ_WAKEUP) && same_task(c, s, r)) {
            r->t_wakeup = s->ts;
            r->have |= TJ_WAKEUP;
        } else if (s->kind == S_IN && !(r->have & TJ_RUN) && same_task(c, s, r)) {
            r->t_run = s->ts;
            r->have |= TJ_RUN;
        }
    }
    if (r->consumer_cpu != r->completion_cpu && r->consumer_cpu >= 0 && r->consumer_cpu < 64) {
        uint64_t until = (r->have & TJ_WAKEUP) ? r->t_wakeup : r->t_ready;
        for (size_t i = key_lower(c->ipi, c->nipi, (uint64_t)r->completion_cpu, 0,
                                  r->t_blk_done);
             i < c->nipi && c->ipi[i].k1 == (uint64_t)r->completion_cpu && c->ipi[i].ts <= until;
             i++)
            if (c->t->ev[c->ipi[i].idx].u.ipi.mask & (1ull << r->consumer_cpu)) {
                r->t_ipi = c->ipi[i].ts;
                r->have |= TJ_IPI;
                break;
            }
    }
}

/* The sched item of the waiter: is it the same process (comm) as r? */
static int same_task(const ctx_t *c, const jkey_t *s, const tracejoin_req_t *r)
{
    const traceparse_ev_t *e = &c->t->ev[s->idx];
    const char *comm = s->kind == S_WAKE ? e->u.wake.comm
                       : s->kind == S_IN ? e->u.sw.next_comm
                                         : e->u.sw.prev_comm;
    return strcmp(comm, r->comm) == 0;
}

static void find_waiter(ctx_t *c, tracejoin_req_t *r, size_t ri)
{
    uint64_t pid = (uint64_t)(uint32_t)r->pid;
    /* A CQE posted in the waiter's own context (task_work, polling) means
     * the waiter was running with it; otherwise ask the scheduler events. */
    const jkey_t *st = last_at_or_before(c->sched, c->nsched, pid, 0, r->t_cqe);
    int own = r->cqe_pid == r->pid;
    int running = own || (st && st->kind == S_IN && same_task(c, st, r));
    if (running) {
        r->t_ready = r->t_cqe;
        r->consumer_cpu = own ? r->cqe_cpu : c->t->ev[st->idx].cpu;
        r->have |= TJ_READY;
    } else {
        for (size_t i = key_lower(c->sched, c->nsched, pid, 0, r->t_cqe);
             i < c->nsched && c->sched[i].k1 == pid; i++) {
            const jkey_t *s = &c->sched[i];
            if (!same_task(c, s, r) || (s->kind == S_OUT && c->t->ev[s->idx].u.sw.prev_dead))
                break;
            if (s->kind == S_IN) {
                r->t_ready = s->ts;
                r->consumer_cpu = c->t->ev[s->idx].cpu;
                r->have |= TJ_READY;
                break;
            }
        }
    }
    if (!(r->have & TJ_READY))
        return;
    waiter_detail(c, r);

    /* Inline: the CQE was posted in the same context (CPU, task, and
     * hardirq/softirq/process level) that completed the block request, with
     * no context switch between, e.g. an IOPOLL reap. Anything else went
     * through deferred work (task_work, ksoftirqd, a kworker) - including
     * task_work run on the way out of an interrupt that hit the waiter. */
    size_t a = key_lower(c->sw, c->nsw, (uint64_t)r->completion_cpu, 0, r->t_blk_done);
    size_t b = key_lower(c->sw, c->nsw, (uint64_t)r->completion_cpu, 0, r->t_cqe + 1);
    int inline_cqe = r->cqe_cpu == r->completion_cpu && r->cqe_pid == c->blk_ctx_pid[ri] &&
                     r->cqe_ctx == c->blk_ctx[ri] && a == b;
    r->deferred = !inline_cqe;
}

static int build_indexes(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t n = c->t->n, cs = 0, ci = 0, cx = 0, cp = 0, cw = 0;
    int any_block_irq = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].type == TP_IRQ_ENTRY && is_block_irq(ev[i].u.irq.name))
            any_block_irq = 1;
#define ADD(arr, num, capv, ...)                                                                   \
    do {                                                                                           \
        if (VEC_RESERVE(c->arr, capv, c->num + 1))                                                 \
            return -ENOMEM;                                                                        \
        c->arr[c->num++] = (jkey_t){__VA_ARGS__};                                                   \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        const traceparse_ev_t *e = &ev[i];
        uint32_t ix = (uint32_t)i;
        switch ((traceparse_type_t)e->type) {
        case TP_WAKEUP:
            if (e->u.wake.pid)
                ADD(sched, nsched, cs, (uint64_t)(uint32_t)e->u.wake.pid, 0, e->ts, e->line, ix,
                    S_WAKE);
            break;
        case TP_SWITCH:
            if (e->u.sw.next_pid)
                ADD(sched, nsched, cs, (uint64_t)(uint32_t)e->u.sw.next_pid, 0, e->ts, e->line,
                    ix, S_IN);
            if (e->u.sw.prev_pid)
                ADD(sched, nsched, cs, (uint64_t)(uint32_t)e->u.sw.prev_pid, 0, e->ts, e->line,
                    ix, S_OUT);
            ADD(sw, nsw, cw, (uint64_t)e->cpu, 0, e->ts, e->line, ix, 0);
            break;
        case TP_IRQ_ENTRY:
            /* With no recognisable block vector in the trace, any interrupt
             * on the completion CPU is the best guess. */
            if (is_block_irq(e->u.irq.name)) {
                ADD(irq, nirq, ci, (uint64_t)e->cpu, 0, e->ts, e->line, ix, 0);
                ADD(irq, nirq, ci, UINT64_MAX, 0, e->ts, e->line, ix, 0);
            } else if (!any_block_irq) {
                ADD(irq, nirq, ci, (uint64_t)e->cpu, 0, e->ts, e->line, ix, 0);
            }
            break;
        case TP_IRQ_EXIT:
            ADD(irqx, nirqx, cx, (uint64_t)e->cpu, (uint64_t)(uint32_t)e->u.irq.irq, e->ts,
                e->line, ix, 0);
            break;
        case TP_IPI:
            ADD(ipi, nipi, cp, (uint64_t)e->cpu, 0, e->ts, e->line, ix, 0);
            break;
        default:
            break;
        }
    }
#undef ADD
    jkey_t *arr[] = {c->sched, c->irq, c->irqx, c->ipi, c->sw};
    size_t num[] = {c->nsched, c->nirq, c->nirqx, c->nipi, c->nsw};
    for (size_t i = 0; i < 5; i++)
        if (num[i]) /* qsort(NULL, 0) is undefined */
            qsort(arr[i], num[i], sizeof(jkey_t), cmp_key);
    return 0;
}

/* ---- blocking syscalls (pread64 & co, read/write, libaio) ------------- */

static const traceparse_sc_t *sc_info(const ctx_t *c, const sysc_t *s)
{
    return &traceparse_syscalls[c->t->ev[s->enter].u.sys.call];
}

static int is_kernel_worker(const char *comm)
{
    return strncmp(comm, "kworker", 7) == 0 || strncmp(comm, "kblockd", 7) == 0;
}

/* Pair each syscall entry with the exit that follows it in the same task. */
static int pair_syscalls(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t nk = 0, cap = 0, capc = 0;
    jkey_t *k = NULL;
    for (size_t i = 0; i < c->t->n; i++) {
        if (ev[i].type != TP_SYS_ENTER && ev[i].type != TP_SYS_EXIT)
            continue;
        c->j->has_syscalls = 1;
        if (VEC_RESERVE(k, cap, nk + 1))
            goto nomem;
        k[nk++] = (jkey_t){(uint64_t)(uint32_t)ev[i].pid, 0, ev[i].ts, ev[i].line, (uint32_t)i, 0};
    }
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    for (size_t i = 0; i + 1 < nk; i++) {
        const traceparse_ev_t *a = &ev[k[i].idx], *b = &ev[k[i + 1].idx];
        if (a->type != TP_SYS_ENTER || b->type != TP_SYS_EXIT || k[i + 1].k1 != k[i].k1 ||
            a->u.sys.call != b->u.sys.call)
            continue;
        if (VEC_RESERVE(c->sc, capc, c->nsc + 1))
            goto nomem;
        c->sc[c->nsc++] = (sysc_t){k[i].idx, k[i + 1].idx, 0};
        i++;
    }
    c->j->sys_calls = c->nsc;
    free(k);
    return 0;
nomem:
    free(k);
    return -ENOMEM;
}

/* The task that queued each block request: block_rq_insert runs in the
 * queuing task, while block_rq_issue may run in whichever task or kworker
 * dispatched it (a scheduler queue, a busy device). */
static int find_owners(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t nk = 0, cap = 0;
    jkey_t *k = NULL;
    for (size_t i = 0; i < c->t->n; i++) {
        if (ev[i].type != TP_BLK_INSERT || is_kernel_worker(ev[i].comm))
            continue;
        if (VEC_RESERVE(k, cap, nk + 1)) {
            free(k);
            return -ENOMEM;
        }
        k[nk++] = (jkey_t){ev[i].u.blk.dev, ev[i].u.blk.sector, ev[i].ts, ev[i].line,
                          (uint32_t)i, 0};
    }
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    for (size_t i = 0; i < c->nbp; i++) {
        const traceparse_ev_t *is = &ev[c->bp[i].issue];
        const jkey_t *ins = last_at_or_before(k, nk, is->u.blk.dev, is->u.blk.sector, is->ts);
        /* c->bp is in (dev, sector, time) order: an insert before the
         * previous completion of the same sector was that request's */
        const traceparse_ev_t *prev = i > 0 ? &ev[c->bp[i - 1].complete] : NULL;
        if (ins && !(prev && prev->u.blk.dev == is->u.blk.dev &&
                     prev->u.blk.sector == is->u.blk.sector && prev->ts >= ins->ts))
            c->bp[i].owner = ev[ins->idx].pid;
    }
    free(k);
    return 0;
}

/* Can syscall s own block request b: issued during it, and (a blocking
 * call) completed before it returned? */
static int sys_can_own(const ctx_t *c, const sysc_t *s, const blkpair_t *b)
{
    const traceparse_ev_t *ev = c->t->ev;
    uint8_t kind = sc_info(c, s)->kind;
    if (kind == TP_SC_AIO_REAP)
        return 0;
    return ev[s->enter].ts <= ev[b->issue].ts && ev[b->issue].ts <= ev[s->exit].ts &&
           (kind == TP_SC_AIO_SUBMIT || ev[b->complete].ts <= ev[s->exit].ts);
}

/* Tie the block requests not tied to io_uring to the syscall their owner was
 * in; a request dispatched by a kworker with no known owner goes to the
 * earliest positional or aio syscall of its direction in flight that has
 * none yet. */
static int link_syscalls(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t n = c->nsc;
    jkey_t *by_pid = malloc((n + 1) * sizeof(*by_pid)), *by_time = malloc((n + 1) * sizeof(*by_time));
    if (!by_pid || !by_time) {
        free(by_pid);
        free(by_time);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const traceparse_ev_t *e = &ev[c->sc[i].enter];
        by_pid[i] = (jkey_t){(uint64_t)(uint32_t)e->pid, 0, e->ts, e->line, (uint32_t)i, 0};
        by_time[i] = (jkey_t){0, 0, e->ts, e->line, (uint32_t)i, 0};
    }
    if (n) {
        qsort(by_pid, n, sizeof(*by_pid), cmp_key);
        qsort(by_time, n, sizeof(*by_time), cmp_key);
    }
    for (size_t i = 0; i < c->nbp; i++) {
        blkpair_t *b = &c->bp[i];
        if (b->req >= 0)
            continue;
        const traceparse_ev_t *is = &ev[b->issue];
        const jkey_t *k = last_at_or_before(by_pid, n, (uint64_t)(uint32_t)b->owner, 0, is->ts);
        if (k && sys_can_own(c, &c->sc[k->idx], b)) {
            b->sys = k->idx;
            c->sc[k->idx].nblk++;
            continue;
        }
        if (b->owner != is->pid || !(is_kernel_worker(is->comm) || is->pid == 0) ||
            is->u.blk.nr_sector == 0)
            continue; /* a task's own I/O outside the syscalls (page faults,
                       * readahead), or a kworker's flush */
        size_t at = key_lower(by_time, n, 0, 0, is->ts + 1);
        for (size_t back = 0; back < 256 && at > 0; back++, at--) {
            sysc_t *s = &c->sc[by_time[at - 1].idx];
            /* not read()/write(): one blocked on a pipe or socket for
             * seconds would catch any kworker's request */
            const traceparse_sc_t *info = sc_info(c, s);
            if (s->nblk == 0 && info->kind != TP_SC_STREAM &&
                strchr(is->u.blk.rwbs, info->write ? 'W' : 'R') && sys_can_own(c, s, b)) {
                b->sys = by_time[at - 1].idx;
                s->nblk++;
                break;
            }
        }
    }
    free(by_pid);
    free(by_time);
    return 0;
}

/* The request a syscall (or one iocb of an io_submit) made. */
static void sys_request(ctx_t *c, tracejoin_req_t *r, const sysc_t *s, uint8_t kind)
{
    const traceparse_ev_t *en = &c->t->ev[s->enter], *ex = &c->t->ev[s->exit];
    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->call = en->u.sys.call;
    r->t_submit = en->ts;
    r->pid = en->pid;
    r->submit_cpu = en->cpu;
    r->irq_cpu = r->completion_cpu = r->consumer_cpu = r->cqe_cpu = -1;
    r->write = traceparse_syscalls[r->call].write;
    r->pos = en->u.sys.pos;
    memcpy(r->comm, en->comm, TP_COMM);
    r->have = TJ_SUBMIT;
    if (kind == TJ_KIND_SYSCALL) {
        r->t_ready = ex->ts;
        r->consumer_cpu = ex->cpu;
        r->res = ex->u.sys.ret > INT32_MAX ? INT32_MAX : (int32_t)ex->u.sys.ret;
    }
}

/* Add block request b to r (first dispatch, last completion). */
static void sys_add_block(ctx_t *c, tracejoin_req_t *r, const blkpair_t *b)
{
    const traceparse_ev_t *is = &c->t->ev[b->issue], *co = &c->t->ev[b->complete];
    if (!r->nblk || is->ts < r->t_dispatch)
        r->t_dispatch = is->ts;
    /* where: the largest block request (a read of a file not cached may
     * first read its metadata, elsewhere on the device) */
    if (!r->nblk || is->u.blk.bytes > r->blk_max) {
        r->blk_max = is->u.blk.bytes;
        r->dev = is->u.blk.dev;
        r->sector = is->u.blk.sector;
    }
    if (!r->nblk || co->ts >= r->t_blk_done) {
        r->t_blk_done = co->ts;
        r->completion_cpu = co->cpu;
    }
    r->blk_bytes += is->u.blk.bytes;
    r->nblk++;
    r->have |= TJ_BLOCK | TJ_LINKED;
}

/* libaio: io_getevents exits reap the iocbs of their task in completion
 * order, as many as each returned. req: the aio requests by (pid,
 * completion); each task's reaps in exit order take its oldest unreaped
 * ones, so what is left unreaped is always a suffix (one cursor a task). */
static int reap_aio(ctx_t *c, tracejoin_req_t *req, size_t n)
{
    const traceparse_ev_t *ev = c->t->ev;
    size_t nk = 0;
    jkey_t *k = malloc((c->nsc + 1) * sizeof(*k));
    if (!k)
        return -ENOMEM;
    for (size_t i = 0; i < c->nsc; i++) {
        const traceparse_ev_t *ex = &ev[c->sc[i].exit];
        if (sc_info(c, &c->sc[i])->kind == TP_SC_AIO_REAP && ex->u.sys.ret > 0)
            k[nk++] = (jkey_t){(uint64_t)(uint32_t)ex->pid, 0, ex->ts, ex->line,
                               (uint32_t)c->sc[i].exit, 0};
    }
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    size_t cur = 0;
    for (size_t i = 0; i < nk; i++) {
        const traceparse_ev_t *ex = &ev[k[i].idx];
        while (cur < n && (uint32_t)req[cur].pid < (uint32_t)ex->pid)
            cur++; /* tasks in pid order, as k */
        int64_t left = ex->u.sys.ret;
        for (; cur < n && left > 0 && req[cur].pid == ex->pid && req[cur].t_blk_done <= ex->ts;
             cur++, left--) {
            req[cur].t_ready = ex->ts;
            req[cur].consumer_cpu = ex->cpu;
            req[cur].have |= TJ_CQE;
        }
    }
    free(k);
    return 0;
}

static int cmp_req_done(const void *a, const void *b)
{
    const tracejoin_req_t *x = a, *y = b;
    if (x->pid != y->pid)
        return (uint32_t)x->pid < (uint32_t)y->pid ? -1 : 1;
    return (x->t_blk_done > y->t_blk_done) - (x->t_blk_done < y->t_blk_done);
}

/* One request per syscall that reached the device (all its block requests),
 * one per iocb of an io_submit (its block requests in issue order, merged
 * where contiguous until there are as many as iocbs submitted). */
static int join_syscalls(ctx_t *c)
{
    const traceparse_ev_t *ev = c->t->ev;
    tracejoin_t *j = c->j;
    int rc;
    if ((rc = pair_syscalls(c)) || (rc = find_owners(c)) || (rc = link_syscalls(c)))
        return rc;
    /* block requests by (syscall, issue time) */
    size_t nk = 0;
    jkey_t *k = malloc((c->nbp + 1) * sizeof(*k));
    if (!k)
        return -ENOMEM;
    for (size_t i = 0; i < c->nbp; i++)
        if (c->bp[i].sys >= 0)
            k[nk++] = (jkey_t){(uint64_t)c->bp[i].sys, 0, ev[c->bp[i].issue].ts,
                               ev[c->bp[i].issue].line, (uint32_t)i, 0};
    if (nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    size_t first = j->n, cap = j->n + nk, naio = 0;
    if (VEC_RESIZE(j->req, cap + 1)) {
        free(k);
        return -ENOMEM;
    }
    for (size_t i = 0; i < c->nsc; i++) {
        const sysc_t *s = &c->sc[i];
        const traceparse_sc_t *info = sc_info(c, s);
        int64_t ret = ev[s->exit].u.sys.ret;
        if (s->nblk == 0) {
            j->sys_cache += info->kind == TP_SC_POSITIONAL && ret > 0;
            continue;
        }
        size_t at = key_lower(k, nk, i, 0, 0);
        if (info->kind != TP_SC_AIO_SUBMIT) {
            tracejoin_req_t *r = &j->req[j->n++];
            sys_request(c, r, s, TJ_KIND_SYSCALL);
            for (size_t b = at; b < nk && k[b].k1 == i; b++)
                sys_add_block(c, r, &c->bp[k[b].idx]);
            r->bytes = ret > 0 ? (uint32_t)(ret < UINT32_MAX ? ret : UINT32_MAX) : r->blk_bytes;
            r->have |= TJ_CQE;
            j->sys_device++;
            j->sys_split += r->nblk > 1;
            continue;
        }
        /* io_submit: iocbs submitted = ret; merge contiguous block requests
         * while there are more of them than iocbs */
        int64_t groups = s->nblk, iocbs = ret > 0 ? ret : s->nblk;
        tracejoin_req_t *r = NULL;
        uint64_t next_sector = UINT64_MAX;
        for (size_t b = at; b < nk && k[b].k1 == i; b++) {
            const traceparse_ev_t *is = &ev[c->bp[k[b].idx].issue];
            if (!r || groups <= iocbs || is->u.blk.sector != next_sector) {
                r = &j->req[j->n++];
                sys_request(c, r, s, TJ_KIND_AIO);
                naio++;
            } else {
                groups--;
            }
            sys_add_block(c, r, &c->bp[k[b].idx]);
            r->bytes = r->blk_bytes;
            next_sector = is->u.blk.sector + is->u.blk.nr_sector;
        }
    }
    free(k);
    if (naio) {
        /* the aio requests, by task and completion, get their io_getevents */
        tracejoin_req_t *aio = &j->req[first];
        size_t na = 0;
        for (size_t i = first; i < j->n; i++)
            if (j->req[i].kind == TJ_KIND_AIO) {
                tracejoin_req_t tmp = j->req[i];
                j->req[i] = aio[na];
                aio[na++] = tmp;
            }
        qsort(aio, na, sizeof(*aio), cmp_req_done);
        if ((rc = reap_aio(c, aio, na)))
            return rc;
        j->aio_requests = na;
    }
    /* the rest of the chain: interrupt, wakeup, switch-in before the exit */
    for (size_t i = first; i < j->n; i++) {
        tracejoin_req_t *r = &j->req[i];
        if (!(r->have & TJ_CQE))
            continue;
        attribute_irq(c, r);
        r->have |= TJ_READY;
        waiter_detail(c, r);
        /* the result is in the task's hands once it runs after the
         * completion; a task that never slept (polling) had it at once */
        r->t_cqe = (r->have & TJ_RUN) ? r->t_run : r->t_blk_done;
        r->cqe_pid = r->pid;
        r->cqe_cpu = r->consumer_cpu;
        int ordered = r->t_submit <= r->t_dispatch && r->t_dispatch <= r->t_blk_done &&
                      r->t_blk_done <= r->t_cqe && r->t_cqe <= r->t_ready;
        if (ordered)
            j->joined++;
        else
            r->have &= ~(uint32_t)TJ_READY;
    }
    /* which of the block reads the followed tasks (those of the header,
     * else those with syscall events) queued ended up in a request */
    int32_t *pids = malloc((c->nsc + c->nfollow + 1) * sizeof(*pids));
    size_t np = 0;
    if (!pids)
        return -ENOMEM;
    if (c->follow) {
        memcpy(pids, c->follow, c->nfollow * sizeof(*pids));
        np = c->nfollow;
    } else {
        for (size_t i = 0; i < c->nsc; i++)
            pids[np++] = ev[c->sc[i].enter].pid;
    }
    if (np)
        qsort(pids, np, sizeof(*pids), cmp_pid);
    for (size_t i = 0; i < c->nbp; i++) {
        const blkpair_t *b = &c->bp[i];
        const traceparse_ev_t *is = &ev[b->issue];
        if (b->req >= 0 || !strchr(is->u.blk.rwbs, 'R') || is->u.blk.nr_sector == 0)
            continue;
        if (b->sys >= 0 || bsearch(&b->owner, pids, np, sizeof(*pids), cmp_pid)) {
            j->blk_reads++;
            j->blk_reads_joined += b->sys >= 0;
        }
    }
    free(pids);
    return 0;
}

int tracejoin_run(const traceparse_t *t, tracejoin_t *j)
{
    ctx_t c = {.t = t, .j = j};
    int rc;
    j->events = t->n;
    j->lost = t->lost;
    if (t->n) {
        j->t_first = t->ev[0].ts;
        j->t_last = t->ev[t->n - 1].ts;
    }
    if ((rc = find_followed(&c)) || (rc = join_uring(&c)) || (rc = join_block(&c)))
        goto out;
    if (j->n)
        qsort(j->req, j->n, sizeof(*j->req), cmp_req_submit);
    c.blk_ctx_pid = calloc(j->n + 1, sizeof(*c.blk_ctx_pid));
    c.blk_ctx = calloc(j->n + 1, sizeof(*c.blk_ctx));
    if (!c.blk_ctx_pid || !c.blk_ctx) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = link_submit_issue(&c)))
        goto out;
    link_kworker(&c);
    if ((rc = build_indexes(&c)))
        goto out;
    for (size_t i = 0; i < c.nbp; i++)
        j->blk_unlinked += c.bp[i].req < 0;
    for (size_t i = 0; i < j->n; i++) {
        tracejoin_req_t *r = &j->req[i];
        if ((r->have & (TJ_LINKED | TJ_CQE)) != (TJ_LINKED | TJ_CQE))
            continue;
        attribute_irq(&c, r);
        find_waiter(&c, r, i);
        int ordered = r->t_submit <= r->t_dispatch && r->t_dispatch <= r->t_blk_done &&
                      r->t_blk_done <= r->t_cqe && r->t_cqe <= r->t_ready;
        if ((r->have & TJ_JOINED) == TJ_JOINED && ordered)
            j->joined++;
        else
            r->have &= ~(uint32_t)TJ_READY;
    }
    size_t nuring = j->n;
    if ((rc = join_syscalls(&c)))
        goto out;
    if (j->n > nuring) /* syscall requests among the io_uring ones, by issue */
        qsort(j->req, j->n, sizeof(*j->req), cmp_req_submit);
    for (size_t i = 0; i < c.nbp; i++)
        j->blk_unlinked -= c.bp[i].req < 0 && c.bp[i].sys >= 0;
out:
    free(c.sc);
    free(c.follow);
    free(c.bp);
    free(c.sched);
    free(c.irq);
    free(c.irqx);
    free(c.ipi);
    free(c.sw);
    free(c.blk_ctx_pid);
    free(c.blk_ctx);
    return rc;
}

/* ---- result ----------------------------------------------------------- */

/* Histograms: latency, device-done-to-ready and the chain beyond the
 * contract stages (tracejoin.h), each with the metric its median goes to. */
enum {
    H_LAT, H_DDR, H_DEVICE, H_IRQ_HANDLER, H_BLK_TO_WAKEUP, H_WAKEUP_TO_RUN, H_RUN_TO_CQE,
    H_IPI_TO_WAKEUP, H_BLK_TO_CQE_SAME, H_BLK_TO_CQE_CROSS, H_BLK_TO_READY_SAME,
    H_BLK_TO_READY_CROSS, H_N
};
static const struct {
    const char *hist; /* histograms.metric */
    int p50;          /* metric_id_t of its median, -1: set with the contract metrics */
} tj_hist[] = {
    [H_LAT] = {"lat_ns", -1},
    [H_DDR] = {"device_done_to_ready_ns", -1},
    [H_DEVICE] = {"chain_device_service_ns", METRIC_CHAIN_DEVICE_SERVICE_P50},
    [H_IRQ_HANDLER] = {"chain_irq_handler_ns", METRIC_CHAIN_IRQ_HANDLER_P50},
    [H_BLK_TO_WAKEUP] = {"chain_blk_to_wakeup_ns", METRIC_CHAIN_BLK_TO_WAKEUP_P50},
    [H_WAKEUP_TO_RUN] = {"chain_wakeup_to_run_ns", METRIC_CHAIN_WAKEUP_TO_RUN_P50},
    [H_RUN_TO_CQE] = {"chain_run_to_cqe_ns", METRIC_CHAIN_RUN_TO_CQE_P50},
    [H_IPI_TO_WAKEUP] = {"chain_ipi_to_wakeup_ns", METRIC_CHAIN_IPI_TO_WAKEUP_P50},
    [H_BLK_TO_CQE_SAME] = {"chain_blk_to_cqe_same_ns", METRIC_CHAIN_BLK_TO_CQE_SAME_P50},
    [H_BLK_TO_CQE_CROSS] = {"chain_blk_to_cqe_cross_ns", METRIC_CHAIN_BLK_TO_CQE_CROSS_P50},
    [H_BLK_TO_READY_SAME] = {"chain_blk_to_ready_same_ns", METRIC_CHAIN_BLK_TO_READY_SAME_P50},
    [H_BLK_TO_READY_CROSS] = {"chain_blk_to_ready_cross_ns",
                              METRIC_CHAIN_BLK_TO_READY_CROSS_P50},
};
_Static_assert(sizeof(tj_hist) / sizeof(tj_hist[0]) == H_N, "one row per histogram");

/* A trace sees the stages submit..wakeup; the continuation is not traced. */
#define NSTAGE STAGE_CONTINUATION

static uint64_t sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

int tracejoin_result(const tracejoin_t *j, result_t *res, size_t max_rows)
{
    hist_t *h = malloc((H_N + NSTAGE) * sizeof(hist_t));
    if (!h)
        return -ENOMEM;
    hist_t *st = h + H_N;
    for (size_t i = 0; i < H_N + NSTAGE; i++)
        hist_init(&h[i]);
    uint64_t n = 0, miss = 0, deferred = 0, bytes = 0, first = UINT64_MAX, last = 0, rows = 0;
    int rc = 0;
    for (size_t i = 0; i < j->n; i++) {
        const tracejoin_req_t *r = &j->req[i];
        if (!(r->have & TJ_READY))
            continue;
        uint64_t t_irq = (r->have & TJ_IRQ) ? r->t_irq : r->t_blk_done;
        uint64_t t_dev = t_irq; /* the device-done instant is seen as its interrupt */
        uint64_t t[REQ_NT] = {
            [T_ISSUE] = r->t_submit, [T_SUBMIT] = r->t_submit, [T_DISPATCH] = r->t_dispatch,
            [T_DEVICE_DONE] = t_dev, [T_IRQ] = t_irq, [T_BLK_DONE] = r->t_blk_done,
            [T_CQE] = r->t_cqe, [T_READY] = r->t_ready, [T_CONTINUED] = 0};
        for (size_t s = 0; s < NSTAGE; s++)
            hist_add(&st[s], t[s + 1] - t[s]);
        n++;
        bytes += r->bytes;
        miss += r->consumer_cpu != r->completion_cpu;
        deferred += r->deferred;
        first = r->t_submit < first ? r->t_submit : first;
        last = r->t_ready > last ? r->t_ready : last;
        hist_add(&h[H_LAT], r->t_ready - r->t_submit);
        hist_add(&h[H_DDR], r->t_ready - t_dev);
        hist_add(&h[H_DEVICE], r->t_blk_done - r->t_dispatch);
        if (r->have & TJ_IRQ_EXIT)
            hist_add(&h[H_IRQ_HANDLER], sub(r->t_irq_exit, r->t_irq));
        if (r->have & TJ_WAKEUP)
            hist_add(&h[H_BLK_TO_WAKEUP], sub(r->t_wakeup, r->t_blk_done));
        if ((r->have & (TJ_WAKEUP | TJ_RUN)) == (TJ_WAKEUP | TJ_RUN))
            hist_add(&h[H_WAKEUP_TO_RUN], sub(r->t_run, r->t_wakeup));
        if ((r->have & TJ_RUN) && r->t_run <= r->t_cqe)
            hist_add(&h[H_RUN_TO_CQE], r->t_cqe - r->t_run);
        if ((r->have & (TJ_IPI | TJ_WAKEUP)) == (TJ_IPI | TJ_WAKEUP))
            hist_add(&h[H_IPI_TO_WAKEUP], sub(r->t_wakeup, r->t_ipi));
        int same = r->consumer_cpu == r->completion_cpu;
        hist_add(&h[same ? H_BLK_TO_CQE_SAME : H_BLK_TO_CQE_CROSS], r->t_cqe - r->t_blk_done);
        hist_add(&h[same ? H_BLK_TO_READY_SAME : H_BLK_TO_READY_CROSS],
                 r->t_ready - r->t_blk_done);
        if (max_rows == 0 || rows < max_rows) {
            result_req_t row = {.req_id = i,
                                .bytes = r->bytes,
                                .flow = (uint32_t)r->pid,
                                .submit_cpu = r->submit_cpu,
                                .completion_cpu = r->completion_cpu,
                                .consumer_cpu = r->consumer_cpu,
                                .cls = 255,
                                .op = r->write,
                                .deferred = r->deferred};
            for (int k = 0; k < T_CONTINUED; k++) /* t_continued stays 0: not traced */
                row.t[k] = t[k] - j->t_first;     /* relative to the first event */
            if ((rc = result_add_req(res, &row)))
                goto out;
            rows++;
        }
    }
    res->events = j->events;
    res->requests = n;
    double span_s = n && last > first ? (double)(last - first) / 1e9 : 0;
    struct {
        metric_id_t id;
        double v;
    } m[] = {
        {METRIC_JOIN_RATE, tracejoin_rate(j)},
        {METRIC_LOCALITY_MISS, n ? (double)miss / (double)n : 0},
        {METRIC_DEFERRED, n ? (double)deferred / (double)n : 0},
        {METRIC_IOPS, span_s > 0 ? (double)n / span_s : 0},
        {METRIC_BYTES_PER_S, span_s > 0 ? (double)bytes / span_s : 0},
        {METRIC_LAT_MEAN, hist_mean(&h[H_LAT])},
        {METRIC_LAT_P50, (double)hist_quantile(&h[H_LAT], 0.50)},
        {METRIC_LAT_P90, (double)hist_quantile(&h[H_LAT], 0.90)},
        {METRIC_LAT_P99, (double)hist_quantile(&h[H_LAT], 0.99)},
        {METRIC_LAT_P999, (double)hist_quantile(&h[H_LAT], 0.999)},
        {METRIC_LAT_MAX, (double)h[H_LAT].max},
        {METRIC_D2R_P50, (double)hist_quantile(&h[H_DDR], 0.50)},
        {METRIC_D2R_P99, (double)hist_quantile(&h[H_DDR], 0.99)},
    };
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if ((rc = result_set_id(res, m[i].id, m[i].v)))
            goto out;
    for (size_t i = 0; i < H_N; i++)
        if (tj_hist[i].p50 >= 0 && h[i].count &&
            (rc = result_set_id(res, (metric_id_t)tj_hist[i].p50,
                                (double)hist_quantile(&h[i], 0.5))))
            goto out;
    if (n)
        for (size_t s = 0; s < NSTAGE; s++)
            if ((rc = result_add_stage(res, metric_stage_names[s], &st[s])))
                goto out;
    for (size_t i = 0; i < H_N; i++)
        if (h[i].count && (rc = result_add_hist(res, tj_hist[i].hist, &h[i])))
            goto out;
out:
    free(h);
    return rc;
}
