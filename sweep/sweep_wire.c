/*
 * sweep_wire.c - see sweep_wire.h. Fields are written with memcpy in a
 * fixed order; the reader checks every length against what is left.
 */
#include "sweep_wire.h"

#include "sim/vec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_WIRE_MAGIC 0x3257534cu /* "LSW2" (2: histograms carry their exact values) */

void sweep_buf_free(sweep_buf_t *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static int put(sweep_buf_t *b, const void *src, size_t n)
{
    if (VEC_RESERVE(b->p, b->cap, b->len + n) != 0)
        return -ENOMEM;
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

#define PUT(b, v) put((b), &(v), sizeof(v))

static int put_str(sweep_buf_t *b, const char *s)
{
    uint32_t n = s ? (uint32_t)strlen(s) : 0;
    return PUT(b, n) || put(b, s ? s : "", n) ? -ENOMEM : 0;
}

static int put_hist(sweep_buf_t *b, const hist_t *h)
{
    uint32_t nz = 0;
    for (unsigned i = 0; i < HIST_NBUCKETS; i++)
        nz += h->bucket[i] != 0;
    int rc = PUT(b, h->count) | PUT(b, h->min) | PUT(b, h->max) | PUT(b, h->mean) |
             PUT(b, h->m2) | PUT(b, nz);
    for (uint32_t i = 0; i < HIST_NBUCKETS && rc == 0; i++)
        if (h->bucket[i])
            rc = PUT(b, i) | PUT(b, h->bucket[i]);
    /* the values a small histogram keeps: its quantiles are exact from them */
    rc |= PUT(b, h->nexact);
    if (rc == 0 && h->nexact)
        rc = put(b, h->exact, h->nexact * sizeof(h->exact[0]));
    return rc ? -ENOMEM : 0;
}

static int put_result(sweep_buf_t *b, const result_t *r)
{
    uint32_t nm = (uint32_t)r->nmetric, ns = (uint32_t)r->nstage, nh = (uint32_t)r->nhist,
             nq = (uint32_t)r->nreq;
    int rc = PUT(b, r->events) | PUT(b, r->requests) | PUT(b, r->wall_s) | PUT(b, nm);
    for (size_t i = 0; i < r->nmetric && rc == 0; i++)
        rc = put_str(b, r->metric[i].name) | PUT(b, r->metric[i].value);
    rc |= PUT(b, ns);
    for (size_t i = 0; i < r->nstage && rc == 0; i++) {
        const result_stage_t *s = &r->stage[i];
        rc = put_str(b, s->stage) | PUT(b, s->count) | PUT(b, s->mean_ns) | PUT(b, s->p50_ns) |
             PUT(b, s->p99_ns);
    }
    rc |= PUT(b, nh);
    for (size_t i = 0; i < r->nhist && rc == 0; i++)
        rc = put_str(b, r->hist[i].metric) | put_hist(b, r->hist[i].hist);
    rc |= PUT(b, nq);
    for (size_t i = 0; i < r->nreq && rc == 0; i++) {
        const result_req_t *q = &r->req[i];
        rc = PUT(b, q->req_id) | PUT(b, q->bytes) | PUT(b, q->flow) | PUT(b, q->submit_cpu) |
             PUT(b, q->completion_cpu) | PUT(b, q->consumer_cpu) | PUT(b, q->cls) | PUT(b, q->op) |
             PUT(b, q->deferred) | put(b, q->t, sizeof(q->t));
    }
    return rc ? -ENOMEM : 0;
}

int sweep_wire_pack(sweep_buf_t *b, uint32_t task, int32_t rc, const char *host, const char *msg,
                    const result_t *res)
{
    uint32_t magic = SWEEP_WIRE_MAGIC;
    sweep_wire_hdr_t h; /* cut to what the reader accepts */
    snprintf(h.host, sizeof(h.host), "%s", host ? host : "");
    snprintf(h.msg, sizeof(h.msg), "%s", msg ? msg : "");
    b->len = 0;
    if (PUT(b, magic) || PUT(b, task) || PUT(b, rc) || put_str(b, h.host))
        return -ENOMEM;
    return rc == 0 ? put_result(b, res) : put_str(b, h.msg);
}

typedef struct {
    const uint8_t *p;
    size_t left;
    int bad;
} rd_t;

static void get(rd_t *r, void *dst, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
    r->left -= n;
}

#define GET(r, v) get((r), &(v), sizeof(v))

/* A string into a fixed buffer (must fit) */
static void get_str(rd_t *r, char *dst, size_t cap)
{
    uint32_t n = 0;
    GET(r, n);
    if (r->bad || n >= cap || n > r->left) {
        r->bad = 1;
        dst[0] = '\0';
        return;
    }
    get(r, dst, n);
    dst[n] = '\0';
}

/* Room for n elements of size sz, after checking the frame can hold them
 * (each takes at least min_bytes), so a corrupt count cannot ask for GiBs. */
static void *get_array(rd_t *r, uint32_t n, size_t sz, size_t min_bytes)
{
    if (r->bad || (size_t)n * min_bytes > r->left) {
        r->bad = 1;
        return NULL;
    }
    return calloc(n ? n : 1, sz);
}

static int get_hist(rd_t *r, hist_t *h)
{
    uint32_t nz = 0;
    GET(r, h->count);
    GET(r, h->min);
    GET(r, h->max);
    GET(r, h->mean);
    GET(r, h->m2);
    GET(r, nz);
    if (nz > HIST_NBUCKETS)
        r->bad = 1;
    for (uint32_t i = 0; i < nz && !r->bad; i++) {
        uint32_t b = 0;
        GET(r, b);
        if (b >= HIST_NBUCKETS) {
            r->bad = 1;
            break;
        }
        GET(r, h->bucket[b]);
    }
    GET(r, h->nexact);
    if (h->nexact > HIST_EXACT)
        r->bad = 1;
    else
        get(r, h->exact, h->nexact * sizeof(h->exact[0]));
    return r->bad ? -EPROTO : 0;
}

static int get_result(rd_t *r, result_t *res)
{
    uint32_t n = 0;
    GET(r, res->events);
    GET(r, res->requests);
    GET(r, res->wall_s);
    GET(r, n);
    if (!(res->metric = get_array(r, n, sizeof(*res->metric), 12)))
        return r->bad ? -EPROTO : -ENOMEM;
    res->capmetric = n;
    for (; res->nmetric < n && !r->bad; res->nmetric++) {
        result_metric_t *m = &res->metric[res->nmetric];
        get_str(r, m->name, sizeof(m->name));
        GET(r, m->value);
    }
    GET(r, n);
    if (!(res->stage = get_array(r, n, sizeof(*res->stage), 36)))
        return r->bad ? -EPROTO : -ENOMEM;
    res->capstage = n;
    for (; res->nstage < n && !r->bad; res->nstage++) {
        result_stage_t *s = &res->stage[res->nstage];
        get_str(r, s->stage, sizeof(s->stage));
        GET(r, s->count);
        GET(r, s->mean_ns);
        GET(r, s->p50_ns);
        GET(r, s->p99_ns);
    }
    GET(r, n);
    if (!(res->hist = get_array(r, n, sizeof(*res->hist), 48)))
        return r->bad ? -EPROTO : -ENOMEM;
    res->caphist = n;
    for (; res->nhist < n && !r->bad; res->nhist++) {
        result_hist_t *e = &res->hist[res->nhist];
        get_str(r, e->metric, sizeof(e->metric));
        if (!(e->hist = calloc(1, sizeof(*e->hist))))
            return -ENOMEM;
        get_hist(r, e->hist);
    }
    GET(r, n);
    if (!(res->req = get_array(r, n, sizeof(*res->req), 101)))
        return r->bad ? -EPROTO : -ENOMEM;
    res->capreq = n;
    for (; res->nreq < n && !r->bad; res->nreq++) {
        result_req_t *q = &res->req[res->nreq];
        GET(r, q->req_id);
        GET(r, q->bytes);
        GET(r, q->flow);
        GET(r, q->submit_cpu);
        GET(r, q->completion_cpu);
        GET(r, q->consumer_cpu);
        GET(r, q->cls);
        GET(r, q->op);
        GET(r, q->deferred);
        get(r, q->t, sizeof(q->t));
    }
    return r->bad || r->left ? -EPROTO : 0;
}

int sweep_wire_unpack(const void *p, size_t len, sweep_wire_hdr_t *h, result_t *res)
{
    rd_t r = {.p = p, .left = len};
    uint32_t magic = 0;
    memset(h, 0, sizeof(*h));
    GET(&r, magic);
    GET(&r, h->task);
    GET(&r, h->rc);
    get_str(&r, h->host, sizeof(h->host));
    if (r.bad || magic != SWEEP_WIRE_MAGIC)
        return -EPROTO;
    if (h->rc != 0) {
        get_str(&r, h->msg, sizeof(h->msg));
        return r.bad ? -EPROTO : 0;
    }
    int rc = get_result(&r, res);
    if (rc)
        result_fini(res);
    return rc;
}

int sweep_wire_accept(const sweep_plan_t *p, const void *frame, size_t len, sweep_sink_t *sink,
                      int deliver, uint32_t *task, char *err, size_t errlen)
{
    sweep_wire_hdr_t h;
    result_t res;
    result_init(&res);
    *task = UINT32_MAX;
    int rc = sweep_wire_unpack(frame, len, &h, &res);
    if (rc == 0 && h.task >= p->ntask)
        rc = -EPROTO;
    if (rc) {
        snprintf(err, errlen, "a worker sent a malformed result (%s)", strerror(-rc));
    } else if (h.rc == 0) {
        *task = h.task;
        if (deliver)
            rc = sink->deliver(sink, h.task, &res, h.host, err, errlen);
    } else {
        /* -EINTR is expected while stopping; otherwise someone signalled a worker */
        *task = h.task;
        snprintf(err, errlen, "task %s%s%s", p->task[h.task].key,
                 h.rc == -EINTR ? " was interrupted" : ": ", h.rc == -EINTR ? "" : h.msg);
        rc = h.rc;
    }
    result_fini(&res);
    return rc;
}
