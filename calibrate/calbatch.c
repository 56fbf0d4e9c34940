/*
 * calbatch.c - see calbatch.h.
 */
#define _GNU_SOURCE
#include "calbatch.h"

#include "calibrate/calqd.h"
#include "calibrate/calstat.h"
#include "calibrate/tracerec.h"

#include <errno.h>
#include <gsl/gsl_fit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NCPU 64
#define MIN_SAMPLES 10

/* (k, y) samples of one line, with the interrupt number for the handler. */
typedef struct {
    calstat_vec_t k, y, irq;
} samples_t;

static void samples_free(samples_t *s)
{
    calstat_vec_free(&s->k);
    calstat_vec_free(&s->y);
    calstat_vec_free(&s->irq);
}

static int samples_push(samples_t *s, double k, double y, double irq)
{
    int rc = calstat_push(&s->k, k);
    rc |= calstat_push(&s->y, y);
    rc |= calstat_push(&s->irq, irq);
    return rc ? -ENOMEM : 0;
}

/* y = a + b k by ordinary least squares over the samples whose irq is
 * `irq` (any when irq < 0). */
static int fit_line(const samples_t *s, double irq, calbatch_line_t *out)
{
    *out = (calbatch_line_t){0};
    double *x = malloc((s->k.n + 1) * sizeof(*x)), *y = malloc((s->k.n + 1) * sizeof(*y));
    if (!x || !y) {
        free(x);
        free(y);
        return -ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->k.n; i++) {
        if (irq >= 0 && s->irq.v[i] != irq)
            continue;
        x[n] = s->k.v[i];
        y[n] = s->y.v[i];
        unsigned k = (unsigned)x[n];
        if (n == 0 || k < out->kmin)
            out->kmin = k;
        if (k > out->kmax)
            out->kmax = k;
        n++;
    }
    out->n = n;
    if (n >= MIN_SAMPLES && out->kmax > out->kmin) {
        double cov00, cov01, cov11, sumsq;
        gsl_fit_linear(x, 1, y, 1, n, &out->a, &out->b, &cov00, &cov01, &cov11, &sumsq);
        out->ok = 1;
    }
    free(x);
    free(y);
    return 0;
}

/* Per CPU: the handler that ended and waits for its softirq run, and the
 * softirq run in progress with its block_rq_complete times. */
#define RUN_MAX 256
typedef struct {
    int in_irq, in_softirq, dirty;
    int32_t irq;
    uint64_t irq_entry, soft_entry;
    unsigned k;
    uint64_t t[RUN_MAX];     /* the run's block_rq_complete times */
    int waiting;             /* a handler ended: its BLOCK_SOFTIRQ run is next */
    int32_t wait_irq;
    double wait_dur;
} cpu_state_t;

/* The thread's submit call: its io_uring_submit_req, block_rq_insert and
 * block_rq_issue times. */
typedef struct {
    unsigned nsub, nins, niss;
    uint64_t sub[RUN_MAX], ins[RUN_MAX], iss[RUN_MAX];
    int dirty;
} call_t;

/* (j, t[j] - t[0]) for j >= 1: the slope is the cost of one more. */
static int push_spacing(samples_t *s, const uint64_t *t, unsigned n)
{
    int rc = 0;
    for (unsigned j = 1; j < n && !rc; j++)
        rc = samples_push(s, j, (double)(t[j] - t[0]), -1);
    return rc;
}

/* A plugged call (more than 2 SQEs, all issued by the thread itself, no
 * interrupt inside): its per-request spacings and its span. */
static int call_end(const call_t *c, samples_t *sub, samples_t *ins, samples_t *iss,
                    samples_t *span)
{
    if (c->nsub <= 2 || c->niss != c->nsub || c->nins != c->nsub || c->dirty ||
        c->nsub > RUN_MAX)
        return 0;
    int rc = push_spacing(sub, c->sub, c->nsub);
    rc |= push_spacing(ins, c->ins, c->nins);
    rc |= push_spacing(iss, c->iss, c->niss);
    rc |= samples_push(span, c->nsub, (double)(c->iss[c->niss - 1] - c->sub[0]), -1);
    return rc;
}

static double mean(const calstat_vec_t *v)
{
    double m = 0;
    for (size_t i = 0; i < v->n; i++)
        m += v->v[i] / (double)v->n;
    return m;
}

int calbatch_fit(const traceparse_t *tp, int32_t pid, int cpu, calbatch_fit_t *out)
{
    *out = (calbatch_fit_t){.irq = -1};
    samples_t hs = {0}, ss = {0}, sub = {0}, ins = {0}, iss = {0}, span = {0}, tw = {0};
    cpu_state_t *st = calloc(NCPU, sizeof(*st));
    call_t *c = calloc(1, sizeof(*c));
    /* the thread's task_work run: io_uring_complete events back to back on
     * its CPU (any other event there ends the run) */
    uint64_t *twt = calloc(RUN_MAX, sizeof(*twt));
    unsigned twn = 0;
    int16_t twcpu = -1;
    int rc = st && c && twt ? 0 : -ENOMEM;
    for (size_t i = 0; i < tp->n && !rc; i++) {
        const traceparse_ev_t *e = &tp->ev[i];
        if (e->cpu < 0 || e->cpu >= NCPU)
            continue;
        if (e->type == TP_URING_COMPLETE && e->pid == pid && (!twn || e->cpu == twcpu)) {
            if (twn < RUN_MAX)
                twt[twn++] = e->ts;
            twcpu = e->cpu;
            continue;
        }
        if (twn && e->cpu == twcpu) {
            rc = push_spacing(&tw, twt, twn);
            twn = 0;
        }
        cpu_state_t *p = &st[e->cpu];
        int incall = e->pid == pid && !(e->ctx & (TP_CTX_HARDIRQ | TP_CTX_SOFTIRQ));
        switch ((traceparse_type_t)e->type) {
        case TP_IRQ_ENTRY:
            /* an interrupt inside a softirq run or a submit call stretches
             * it: not a sample; a handler still waiting for its softirq
             * run now shares the next run with this one: dropped */
            p->dirty |= p->in_softirq;
            p->waiting = 0;
            p->in_irq = 1;
            p->irq = e->u.irq.irq;
            p->irq_entry = e->ts;
            if (e->cpu == cpu && c->nsub && c->niss < c->nsub)
                c->dirty = 1;
            break;
        case TP_IRQ_EXIT:
            if (p->in_irq && e->ts >= p->irq_entry) {
                p->waiting = 1;
                p->wait_irq = p->irq;
                p->wait_dur = (double)(e->ts - p->irq_entry);
            }
            p->in_irq = 0;
            break;
        case TP_SOFTIRQ_ENTRY:
            p->in_softirq = 1;
            p->dirty = 0;
            p->k = 0;
            p->soft_entry = e->ts;
            if (e->cpu == cpu && c->nsub && c->niss < c->nsub)
                c->dirty = 1;
            break;
        case TP_BLK_COMPLETE:
            if (p->in_softirq && p->k < RUN_MAX)
                p->t[p->k++] = e->ts;
            break;
        case TP_SOFTIRQ_EXIT:
            /* another vector's run (timers, RCU) may come first: the
             * waiting handler keeps waiting for the run with completions */
            if (p->in_softirq && p->k) {
                if (!p->dirty)
                    rc |= push_spacing(&ss, p->t, p->k);
                if (p->waiting)
                    rc |= samples_push(&hs, p->k, p->wait_dur, p->wait_irq);
                p->waiting = 0;
            }
            p->in_softirq = 0;
            break;
        case TP_URING_SUBMIT:
            if (e->pid != pid)
                break;
            if (c->niss) { /* the previous call reached its issues: it ended */
                rc |= call_end(c, &sub, &ins, &iss, &span);
                memset(c, 0, sizeof(*c));
            }
            if (c->nsub < RUN_MAX)
                c->sub[c->nsub] = e->ts;
            c->nsub++;
            break;
        case TP_BLK_INSERT:
            if (incall && c->nsub && c->nins < RUN_MAX)
                c->ins[c->nins++] = e->ts;
            break;
        case TP_BLK_ISSUE:
            if (incall && c->nsub && c->niss < RUN_MAX)
                c->iss[c->niss++] = e->ts;
            break;
        default:
            break;
        }
    }
    if (!rc)
        rc = call_end(c, &sub, &ins, &iss, &span);
    if (!rc)
        rc = push_spacing(&tw, twt, twn);
    if (!rc)
        rc = fit_line(&tw, -1, &out->taskwork);
    /* the device vector: the interrupt most often followed by completions */
    size_t best = 0;
    for (size_t i = 0; i < hs.irq.n && !rc && best * 2 <= hs.irq.n; i++) {
        size_t cnt = 0;
        for (size_t j = 0; j < hs.irq.n; j++)
            cnt += hs.irq.v[j] == hs.irq.v[i];
        if (cnt > best) {
            best = cnt;
            out->irq = (int32_t)hs.irq.v[i];
        }
    }
    if (!rc)
        rc = fit_line(&hs, out->irq >= 0 ? out->irq : -1, &out->handler);
    if (!rc) {
        /* the handler's k-th completion costs what one more costs at
         * depth: its median duration and that k, for a two-point fit */
        calstat_vec_t d = {0};
        unsigned kmode = out->handler.kmax;
        for (size_t i = 0; i < hs.k.n && !rc; i++)
            if (hs.irq.v[i] == out->irq && (unsigned)hs.k.v[i] == kmode)
                rc = calstat_push(&d, hs.y.v[i]);
        if (!rc && d.n) {
            calstat_param_t q;
            calstat_from_samples(d.v, d.n, &q);
            out->handler_kmax_p50 = q.value;
            out->handler_kmax_n = d.n;
        }
        calstat_vec_free(&d);
    }
    if (!rc)
        rc = fit_line(&ss, -1, &out->softirq);
    calbatch_line_t l[3];
    if (!rc)
        rc = fit_line(&sub, -1, &l[0]);
    if (!rc)
        rc = fit_line(&ins, -1, &l[1]);
    if (!rc)
        rc = fit_line(&iss, -1, &l[2]);
    if (!rc && l[0].ok && l[1].ok && l[2].ok) {
        /* one more request of a plugged call: its SQE's prep and bio (the
         * spacing of io_uring_submit_req), its elevator insert at
         * blk_finish_plug, its dispatch (queue_rq without the kick) */
        calbatch_line_t *d = &out->dispatch;
        d->b = l[0].b + l[1].b + l[2].b;
        d->a = mean(&span.y) - d->b * mean(&span.k); /* the call's once-per-call part */
        d->n = span.k.n;
        for (size_t i = 0; i < span.k.n; i++) {
            unsigned k = (unsigned)span.k.v[i];
            d->kmin = i == 0 || k < d->kmin ? k : d->kmin;
            d->kmax = k > d->kmax ? k : d->kmax;
        }
        d->ok = 1;
    }
    samples_t *all[] = {&hs, &ss, &sub, &ins, &iss, &span, &tw};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        samples_free(all[i]);
    free(twt);
    free(c);
    free(st);
    return rc;
}

static int put_line(json_t *params, const char *name, const calbatch_line_t *l, const char *x_unit,
                    const char *what, char *why, size_t whylen)
{
    if (!l->ok) {
        size_t len = strlen(why);
        snprintf(why + len, whylen - len, "%s%s: %zu samples, k %u..%u: not fitted", len ? "; " : "",
                 name, l->n, l->kmin, l->kmax);
        return 0;
    }
    char src[512];
    snprintf(src, sizeof(src),
             "%s; %u 4 KiB O_DIRECT random reads in flight (io_uring, one thread on the IRQ "
             "CPU, reaping every CQE then one io_uring_submit), tracefs; gsl_fit_linear "
             "(else as said) over %zu samples, k = %u..%u; value = b%s",
             what, CALBATCH_DEPTH, l->n, l->kmin, l->kmax, l->b < 0 ? " (fitted < 0: set to 0)" : "");
    calstat_param_t p = {.value = l->b > 0 ? l->b : 0, .samples = l->n,
                         .fit = {.dist = CALSTAT_LINEAR, .a = l->a, .b = l->b}};
    json_t *o = calstat_json(&p, "ns", x_unit, src);
    if (!o || json_object_set_new(params, name, o))
        return -ENOMEM;
    return 0;
}

int calbatch_calibrate(int fd, uint64_t nblocks, int cpu, int quick, json_t *params,
                       const volatile sig_atomic_t *stop, char *why, size_t whylen)
{
    static const char *const extra[] = {"irq/irq_handler_exit", "irq/softirq_entry",
                                        "irq/softirq_exit", NULL};
    why[0] = 0;
    tracerec_t *rec = NULL;
    traceparse_t tp;
    traceparse_init(&tp);
    calqd_point_t pt;
    int rc = tracerec_start(extra, 0, &rec, why, whylen);
    if (!rc)
        rc = calqd_measure(fd, nblocks, cpu, CALBATCH_DEPTH, quick ? 100 : 200, quick ? 200 : 500,
                           700 + (uint64_t)cpu, stop, &pt);
    if (!rc && tracerec_missing(rec)[0])
        snprintf(why, whylen, "tracepoints missing: %s", tracerec_missing(rec));
    if (!rc) {
        traceparse_err_t perr;
        rc = tracerec_readback(rec, &tp, &perr, NULL);
        if (rc == -EINVAL)
            snprintf(why, whylen, "own trace unreadable at line %u: %s", perr.line, perr.what);
    }
    calbatch_fit_t f;
    if (!rc)
        rc = calbatch_fit(&tp, (int32_t)syscall(SYS_gettid), cpu, &f);
    if (!rc && tp.lost) {
        size_t len = strlen(why);
        snprintf(why + len, whylen - len, "%strace lost %llu events", len ? "; " : "",
                 (unsigned long long)tp.lost);
    }
    if (!rc) {
        char what[400];
        json_t *qd1 = json_object_get(json_object_get(params, "irq_handler_ns"), "value");
        if (!f.handler.ok && json_is_number(qd1) && f.handler_kmax_n >= MIN_SAMPLES &&
            f.handler.kmax > 1) {
            /* one k only: the line through k = 1 (the QD1 trace) and k = kmax */
            double a1 = json_number_value(qd1);
            f.handler.b = (f.handler_kmax_p50 - a1) / (f.handler.kmax - 1);
            f.handler.a = a1 - f.handler.b;
            f.handler.n = f.handler_kmax_n;
            f.handler.kmin = 1;
            f.handler.ok = 1;
            snprintf(what, sizeof(what),
                     "irq_handler_entry -> irq_handler_exit of the device vector (irq %d): the "
                     "line through its p50 at k = 1 (irq_handler_ns, QD1 trace) and its p50 %.0f "
                     "ns at k = %u (every handler here handed k = %u requests to the "
                     "BLOCK_SOFTIRQ run after it: the device completes the batch at once)",
                     (int)f.irq, f.handler_kmax_p50, f.handler.kmax, f.handler.kmax);
        } else {
            snprintf(what, sizeof(what),
                     "irq_handler_entry -> irq_handler_exit of the device vector (irq %d) "
                     "against the k block_rq_complete of the BLOCK_SOFTIRQ run after it on "
                     "that CPU", (int)f.irq);
        }
        rc = put_line(params, "irq_per_cqe_ns", &f.handler, "cqe", what, why, whylen);
    }
    if (!rc)
        rc = put_line(params, "blk_complete_per_rq_ns", &f.softirq, "request",
                      "block_rq_complete time against its rank j in a BLOCK_SOFTIRQ run "
                      "(softirq_entry..exit, no interrupt inside: blk_complete_reqs over the "
                      "CPU's blk_cpu_done list), y = t_j - t_0, k = j; a: -",
                      why, whylen);
    if (!rc)
        rc = put_line(params, "blk_dispatch_per_rq_ns", &f.dispatch, "request",
                      "the thread's plugged submit calls (k > 2 SQEs, all inserted and issued "
                      "in the thread, no interrupt inside): b = the summed slopes of their "
                      "io_uring_submit_req, block_rq_insert and block_rq_issue times against "
                      "rank; a = mean span (first io_uring_submit_req -> last block_rq_issue) "
                      "- b x mean k, the call's once-per-call part (the kick after the last "
                      "block_rq_issue is not in it)",
                      why, whylen);
    if (!rc)
        rc = put_line(params, "task_work_per_cqe_ns", &f.taskwork, "cqe",
                      "io_uring_complete time against its rank j in a task_work run of the "
                      "thread (io_uring_complete events back to back on its CPU: "
                      "tctx_task_work over the task's list), y = t_j - t_0, k = j",
                      why, whylen);
    tracerec_free(rec);
    traceparse_fini(&tp);
    return rc;
}
