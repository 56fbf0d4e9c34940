/*
 * trace_blkparse.c - blkparse's default text output:
 *
 *   8,0  3  1  0.000000000  697  Q  W 223490 + 8 [kjournald]
 *   dev cpu seq secs.nsecs  pid  action rwbs sector + sectors [process]
 *
 * Q (queued) starts a request, D (issued to the driver) and C (completed)
 * are paired with it by device and sector; the record is the request at its
 * Q time, and its service time is D-to-C (the issue-to-complete pair). A D
 * with no Q starts a request itself, so traces filtered to D and C work too.
 * M/F (merged into another request) complete a request without a pair.
 * Other blktrace actions (G, I, P, U, A, X, m, ...) and discards are skipped;
 * the per-CPU summary blkparse prints at the end is ignored.
 *
 * Records come out in Q order, so a request waits in a bounded FIFO until
 * its C arrives; one stuck longer than BLK_HORIZON_NS of trace time (or
 * pushed out by a full FIFO) is emitted without a service time.
 */
#include "trace.h"

#include "lineparse.h"
#include "trace_idmap.h"

#include "policies/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLK_PENDING (1u << 16)         /* a power of two: seqs wrap cleanly */
#define BLK_MAX_DEVS 1024
#define BLK_HORIZON_NS 10000000000ULL /* 10 s */

typedef struct {
    uint64_t t_q, t_d, t_c, sector, line;
    uint32_t nsect, flow, seq;
    uint8_t op, prefetch, has_d, has_c, done;
} blk_pend_t;

typedef struct {
    blk_pend_t *ring;
    uint32_t head, tail;    /* absolute sequence numbers; ring slot = seq % BLK_PENDING */
    trace_idmap_t *bykey;   /* (flow, sector) -> seq of the pending request */
    trace_idmap_t *devs;    /* maj:min -> flow */
    uint32_t ndevs;
    uint64_t now;
    bool trailer, eof;
} blk_t;

static int blk_open(trace_reader_t *r)
{
    blk_t *b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    r->priv = b;
    b->ring = malloc(BLK_PENDING * sizeof(*b->ring));
    b->bykey = trace_idmap_new(BLK_PENDING);
    b->devs = trace_idmap_new(BLK_MAX_DEVS);
    return b->ring && b->bykey && b->devs ? 0 : -ENOMEM;
}

static void blk_close(trace_reader_t *r)
{
    blk_t *b = r->priv;
    free(b->ring);
    trace_idmap_free(b->bykey);
    trace_idmap_free(b->devs);
    free(b);
}

static uint64_t blk_key(uint32_t flow, uint64_t sector) { return sector | (uint64_t)flow << 54; }

static blk_pend_t *blk_lookup(blk_t *b, uint64_t key)
{
    uint32_t seq;
    if (!trace_idmap_get(b->bykey, key, &seq))
        return NULL;
    return &b->ring[seq % BLK_PENDING];
}

static bool blk_parse_time(const char *s, uint64_t *ns)
{
    uint64_t sec = 0, frac = 0;
    int nd = 0;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (sec > UINT64_MAX / 10 / 1000000000ULL)
            return false;
        sec = sec * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            if (nd < 9) {
                frac = frac * 10 + (uint64_t)(*s - '0');
                nd++;
            }
    if (*s)
        return false;
    for (; nd < 9; nd++)
        frac *= 10;
    *ns = sec * 1000000000ULL + frac;
    return true;
}

/* Queue a new pending request; false if the FIFO is full (caller emits first). */
static blk_pend_t *blk_push(blk_t *b, uint32_t flow, uint64_t sector, uint32_t nsect, uint64_t t,
                            uint64_t line)
{
    uint64_t key = blk_key(flow, sector);
    blk_pend_t *old = blk_lookup(b, key);
    if (old)
        old->done = 1; /* re-queued before it completed: the old one gives up its pair */
    blk_pend_t *p = &b->ring[b->tail % BLK_PENDING];
    memset(p, 0, sizeof(*p));
    p->seq = b->tail++;
    p->t_q = p->t_d = t;
    p->sector = sector;
    p->nsect = nsect;
    p->flow = flow;
    p->line = line;
    trace_idmap_put(b->bykey, key, p->seq);
    return p;
}

static void blk_emit(trace_reader_t *r, trace_rec_t *rec)
{
    blk_t *b = r->priv;
    blk_pend_t *p = &b->ring[b->head++ % BLK_PENDING];
    uint64_t key = blk_key(p->flow, p->sector);
    uint32_t seq;
    if (trace_idmap_get(b->bykey, key, &seq) && seq == p->seq)
        trace_idmap_del(b->bykey, key);
    trace_rec_init(rec, p->line);
    rec->id = r->st.records;
    rec->t_ns = p->t_q;
    rec->op = p->op;
    rec->offset = p->sector << 9;
    rec->bytes = p->nsect << 9;
    rec->flow = p->flow;
    if (p->prefetch)
        rec->cls = POL_CLASS_PREFETCH;
    if (p->has_c)
        rec->service_ns = (int64_t)(p->t_c - p->t_d);
}

static bool blk_is_trailer(const char *line)
{
    line += strspn(line, " \t");
    unsigned cpu;
    char c;
    return strncmp(line, "Total (", 7) == 0 || sscanf(line, "CPU%u %c", &cpu, &c) == 2;
}

/* Parse one event line and update the pending FIFO. 0 or -EINVAL. */
static int blk_line(trace_reader_t *r, char *line)
{
    blk_t *b = r->priv;
    char *tok[11];
    int n = lp_words(line, tok, 11);
    if (n > 11)
        n = 11; /* what follows [PROC] does not matter */
    if (n == 0)
        return 0;
    char devs[24], *dev[2]; /* split a copy: the message quotes the token whole */
    size_t dl = strlen(tok[0]);
    uint64_t maj, min;
    if (dl >= sizeof(devs) || !memcpy(devs, tok[0], dl + 1) || lp_split(devs, ',', dev, 2) != 2 ||
        !lp_u64(dev[0], &maj) || !lp_u64(dev[1], &min) || maj > UINT32_MAX || min > UINT32_MAX)
        return trace_fail(r, "expected a blkparse event line (MAJ,MIN CPU SEQ TIME PID ACTION "
                             "RWBS ...), got '%s'", tok[0]);
    if (n < 7)
        return trace_fail(r, "expected at least 7 fields (MAJ,MIN CPU SEQ TIME PID ACTION "
                             "RWBS), got %d", n);
    uint64_t t, u;
    if (!lp_u64(tok[1], &u) || !lp_u64(tok[2], &u))
        return trace_fail(r, "cpu and sequence: expected integers");
    if (!blk_parse_time(tok[3], &t))
        return trace_fail(r, "time: expected SECONDS.NANOSECONDS, got '%s'", tok[3]);
    const char *act = tok[5], *rwbs = tok[6];
    b->now = t > b->now ? t : b->now;
    bool pairs = strchr("QDCMF", act[0]) && act[1] == '\0';
    if (!pairs) {
        static const char *const known[] = {"G", "I", "P", "U", "UT", "T", "A", "X", "B",
                                            "S", "R", "m", "BS", NULL};
        bool k = false;
        for (int i = 0; known[i] && !k; i++)
            k = strcmp(known[i], act) == 0;
        if (k)
            r->st.skipped++;
        else
            r->st.unknown++;
        return 0;
    }
    uint64_t sector, nsect;
    if (n < 10 || strcmp(tok[8], "+") != 0) {
        r->st.skipped++; /* no sector range: flush or SCSI passthrough */
        return 0;
    }
    if (!lp_u64(tok[7], &sector) || sector >= (1ULL << 54))
        return trace_fail(r, "sector: expected a sector number, got '%s'", tok[7]);
    if (!lp_u64(tok[9], &nsect) || nsect > (INT32_MAX >> 9))
        return trace_fail(r, "size: expected a sector count, got '%s'", tok[9]);
    int op = strchr(rwbs, 'D') ? -1 : strchr(rwbs, 'W') ? 1 : strchr(rwbs, 'R') ? 0 : -1;
    if (op < 0 || nsect == 0) {
        r->st.skipped++; /* discards and empty flushes are not data requests */
        return 0;
    }
    uint32_t devkey = (uint32_t)maj << 20 | ((uint32_t)min & 0xfffff), flow;
    if (!trace_idmap_get(b->devs, devkey, &flow)) {
        if (b->ndevs == BLK_MAX_DEVS)
            return trace_fail(r, "more than %d devices", BLK_MAX_DEVS);
        flow = b->ndevs++;
        trace_idmap_put(b->devs, devkey, flow);
    }
    blk_pend_t *p = blk_lookup(b, blk_key(flow, sector));
    switch (act[0]) {
    case 'Q':
        p = blk_push(b, flow, sector, (uint32_t)nsect, t, r->lineno);
        p->op = (uint8_t)op;
        p->prefetch = op == 0 && strchr(rwbs, 'A') != NULL;
        return 0;
    case 'D':
        if (!p) {
            p = blk_push(b, flow, sector, (uint32_t)nsect, t, r->lineno);
            p->op = (uint8_t)op;
        }
        if (!p->has_d) {
            p->has_d = 1;
            p->t_d = t;
        }
        return 0;
    case 'C':
        if (!p || p->done) {
            r->st.skipped++; /* completion of something we never saw start */
            return 0;
        }
        p->has_c = p->done = 1;
        p->t_c = t >= p->t_d ? t : p->t_d;
        trace_idmap_del(b->bykey, blk_key(flow, sector));
        return 0;
    default: /* M, F: the bio joined another request and completes with it */
        if (p) {
            p->done = 1;
            trace_idmap_del(b->bykey, blk_key(flow, sector));
        } else {
            r->st.skipped++;
        }
        return 0;
    }
}

static int blk_next(trace_reader_t *r, trace_rec_t *rec)
{
    blk_t *b = r->priv;
    for (;;) {
        if (b->head != b->tail) {
            blk_pend_t *h = &b->ring[b->head % BLK_PENDING];
            if (h->done || b->eof || b->tail - b->head == BLK_PENDING ||
                b->now - h->t_q > BLK_HORIZON_NS) {
                blk_emit(r, rec);
                return 1;
            }
        } else if (b->eof) {
            return 0;
        }
        char *line = trace_getline(r);
        if (!line) {
            if (r->err[0])
                return -EINVAL;
            b->eof = true;
            continue;
        }
        if (b->trailer)
            continue;
        if (blk_is_trailer(line)) {
            b->trailer = true;
            continue;
        }
        if (blk_line(r, line) < 0)
            return -EINVAL;
    }
}

const trace_fmt_t trace_blkparse_fmt = {
    .name = "blkparse",
    .tick_ns = 1,
    .open = blk_open,
    .next = blk_next,
    .close = blk_close,
};
