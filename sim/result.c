/*
 * result.c - see result.h.
 */
#include "result.h"

#include "vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void result_init(result_t *r) { memset(r, 0, sizeof(*r)); }

void result_fini(result_t *r)
{
    for (size_t i = 0; i < r->nhist; i++)
        free(r->hist[i].hist);
    free(r->metric);
    free(r->stage);
    free(r->hist);
    free(r->req);
    memset(r, 0, sizeof(*r));
}

static int result_oom(result_t *r)
{
    if (!r->error)
        r->error = -ENOMEM;
    return -ENOMEM;
}

int result_set(result_t *r, const char *name, double value)
{
    for (size_t i = 0; i < r->nmetric; i++)
        if (strcmp(r->metric[i].name, name) == 0) {
            r->metric[i].value = value;
            return 0;
        }
    if (VEC_RESERVE(r->metric, r->capmetric, r->nmetric + 1))
        return result_oom(r);
    result_metric_t *m = &r->metric[r->nmetric++];
    strncpy(m->name, name, sizeof(m->name) - 1);
    m->name[sizeof(m->name) - 1] = '\0';
    m->value = value;
    return 0;
}

int result_set_id(result_t *r, metric_id_t id, double value)
{
    return result_set(r, metric_info[id].name, value);
}

int result_get_id(const result_t *r, metric_id_t id, double *value)
{
    return result_get(r, metric_info[id].name, value);
}

int result_get(const result_t *r, const char *name, double *value)
{
    for (size_t i = 0; i < r->nmetric; i++)
        if (strcmp(r->metric[i].name, name) == 0) {
            *value = r->metric[i].value;
            return 0;
        }
    return -ENOENT;
}

int result_add_stage(result_t *r, const char *stage, const hist_t *h)
{
    if (VEC_RESERVE(r->stage, r->capstage, r->nstage + 1))
        return result_oom(r);
    result_stage_t *s = &r->stage[r->nstage++];
    strncpy(s->stage, stage, sizeof(s->stage) - 1);
    s->stage[sizeof(s->stage) - 1] = '\0';
    s->count = h->count;
    s->mean_ns = hist_mean(h);
    s->p50_ns = (double)hist_quantile(h, 0.50);
    s->p99_ns = (double)hist_quantile(h, 0.99);
    return 0;
}

int result_add_hist(result_t *r, const char *metric, const hist_t *h)
{
    if (VEC_RESERVE(r->hist, r->caphist, r->nhist + 1))
        return result_oom(r);
    hist_t *copy = malloc(sizeof(*copy));
    if (!copy)
        return result_oom(r);
    *copy = *h;
    result_hist_t *e = &r->hist[r->nhist++];
    strncpy(e->metric, metric, sizeof(e->metric) - 1);
    e->metric[sizeof(e->metric) - 1] = '\0';
    e->hist = copy;
    return 0;
}

int result_add_req(result_t *r, const result_req_t *row)
{
    if (VEC_PUSH(r->req, r->nreq, r->capreq, *row))
        return result_oom(r);
    return 0;
}
