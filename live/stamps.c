/*
 * stamps.c - see stamps.h.
 */
#define _GNU_SOURCE
#include "stamps.h"

#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"
#include "calibrate/tracerec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct live_stamps {
    tracerec_t *rec;
};

int live_stamps_start(live_stamps_t **out, char *note, size_t nlen)
{
    *out = NULL;
    char why[256];
    if (!tracerec_available(why, sizeof(why))) {
        snprintf(note, nlen, "no tracefs stamps: %s", why);
        return -ENOTSUP;
    }
    live_stamps_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    char err[256];
    int rc = tracerec_start(NULL, 16384, &s->rec, err, sizeof(err));
    if (rc) {
        snprintf(note, nlen, "no tracefs stamps: %s", err);
        free(s);
        return rc;
    }
    if (strcmp(tracerec_clock(s->rec), "mono") != 0) {
        snprintf(note, nlen, "no tracefs stamps: trace clock %s is not CLOCK_MONOTONIC",
                 tracerec_clock(s->rec));
        live_stamps_free(s);
        return -ENOTSUP;
    }
    *out = s;
    return 0;
}

void live_stamps_drain(live_stamps_t *s)
{
    if (s)
        tracerec_drain(s->rec);
}

typedef struct {
    uint64_t id;
    size_t idx;
} stamp_key_t;

static int cmp_key(const void *a, const void *b)
{
    const stamp_key_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Kernel stamp k (absolute mono ns) as run time, or keep when absent. */
static uint64_t rel(uint64_t k, uint64_t t0, uint64_t keep)
{
    return k && k >= t0 ? k - t0 : keep;
}

static void fill_one(req_t *r, const tracejoin_req_t *j, uint64_t t0)
{
    uint64_t t[REQ_NT];
    memcpy(t, r->t, sizeof(t));
    t[T_SUBMIT] = rel(j->t_submit, t0, t[T_SUBMIT]);
    if (j->have & TJ_LINKED) {
        t[T_DISPATCH] = rel(j->t_dispatch, t0, t[T_SUBMIT]);
        t[T_BLK_DONE] = rel(j->t_blk_done, t0, t[T_CQE]);
        /* the device-done instant is seen as its interrupt */
        t[T_IRQ] = (j->have & TJ_IRQ) ? rel(j->t_irq, t0, t[T_BLK_DONE]) : t[T_BLK_DONE];
        t[T_DEVICE_DONE] = t[T_IRQ];
        if (j->irq_cpu >= 0)
            r->irq_cpu = j->irq_cpu;
        if (j->completion_cpu >= 0)
            r->completion_cpu = j->completion_cpu;
    }
    if (j->have & TJ_CQE) {
        t[T_CQE] = rel(j->t_cqe, t0, t[T_CQE]);
        /* r->deferred keeps the live rule, the model's (docs/metrics.md): the
         * trace's "not posted inline" counts every task_work CQE */
    }
    /* ordered between issue and ready: each stamp at least its predecessor */
    for (int i = T_SUBMIT; i < T_READY; i++) {
        if (t[i] < t[i - 1])
            t[i] = t[i - 1];
        if (t[i] > r->t[T_READY])
            t[i] = r->t[T_READY];
    }
    memcpy(r->t, t, sizeof(uint64_t) * T_READY);
}

int live_stamps_fill(live_stamps_t *s, uint64_t t0, req_t *req, size_t n, char *note,
                     size_t nlen)
{
    traceparse_t tp;
    tracejoin_t tj;
    traceparse_init(&tp);
    tracejoin_init(&tj);
    traceparse_err_t perr;
    int rc = tracerec_readback(s->rec, &tp, &perr, NULL);
    if (!rc)
        rc = tracejoin_run(&tp, &tj);
    stamp_key_t *k = rc ? NULL : malloc((tj.n ? tj.n : 1) * sizeof(*k));
    if (!rc && !k)
        rc = -ENOMEM;
    size_t nk = 0, filled = 0;
    for (size_t i = 0; !rc && i < tj.n; i++)
        if (tj.req[i].have & TJ_CQE)
            k[nk++] = (stamp_key_t){LIVE_STAMPS_ID(tj.req[i].user_data), i};
    if (!rc && nk)
        qsort(k, nk, sizeof(*k), cmp_key);
    for (size_t i = 0; !rc && i < n; i++) {
        stamp_key_t key = {LIVE_STAMPS_ID(LIVE_STAMPS_UD(req[i].id, 0)), 0};
        stamp_key_t *hit = nk ? bsearch(&key, k, nk, sizeof(*k), cmp_key) : NULL;
        if (hit) {
            fill_one(&req[i], &tj.req[hit->idx], t0);
            filled++;
        }
    }
    if (!rc)
        snprintf(note, nlen, "tracefs stamps for %zu of %zu requests (%llu events, %llu lost%s%s)",
                 filled, n, (unsigned long long)tp.n, (unsigned long long)tp.lost,
                 tracerec_missing(s->rec)[0] ? "; missing: " : "", tracerec_missing(s->rec));
    free(k);
    tracejoin_fini(&tj);
    traceparse_fini(&tp);
    return rc ? rc : (int)(filled > INT32_MAX ? INT32_MAX : filled);
}

void live_stamps_free(live_stamps_t *s)
{
    if (!s)
        return;
    tracerec_free(s->rec);
    free(s);
}
