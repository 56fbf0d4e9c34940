/*
 * collect.c - see collect.h.
 */
#include "collect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

collect_t *collect_new(sim_time_t warm, uint32_t record_max, result_t *rows)
{
    collect_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->warm = warm;
    c->record_max = record_max;
    c->rows = rows;
    hist_t *h[] = {&c->lat, &c->e2e, &c->d2r, &c->useful, &c->s2g, &c->step_stall, &c->query_lat};
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
        hist_init(h[i]);
    for (int i = 0; i < REQ_NSTAGES; i++)
        hist_init(&c->stage[i]);
    return c;
}

void collect_free(collect_t *c)
{
    if (!c)
        return;
    free(c->series_sum);
    free(c->series_n);
    free(c);
}

int collect_series(collect_t *c, uint32_t nbins, sim_time_t bin_ns)
{
    c->series_sum = calloc(nbins, sizeof(*c->series_sum));
    c->series_n = calloc(nbins, sizeof(*c->series_n));
    if (!c->series_sum || !c->series_n)
        return -ENOMEM;
    c->nbins = nbins;
    c->bin_ns = bin_ns ? bin_ns : 1;
    return 0;
}

void collect_req(collect_t *c, const req_t *r)
{
    if (r->t[T_ISSUE] < c->warm)
        return;
    const sim_time_t *t = r->t;
    if (c->nbins) {
        uint64_t b = t[T_ISSUE] / c->bin_ns;
        if (b < c->nbins) {
            c->series_sum[b] += (double)(t[T_READY] - t[T_ISSUE]);
            c->series_n[b]++;
        }
    }
    c->n++;
    c->bytes += r->bytes;
    if (r->op == REQ_READ)
        c->reads++;
    else
        c->writes++;
    /* On the direct GPU path the bytes can be usable before the host's
     * consumer is: the continuation stage is then 0, not negative. */
    sim_time_t end = t[T_CONTINUED] > t[T_READY] ? t[T_CONTINUED] : t[T_READY];
    for (int s = 0; s < STAGE_CONTINUATION; s++)
        hist_add(&c->stage[s], t[s + 1] - t[s]);
    hist_add(&c->stage[STAGE_CONTINUATION], end - t[T_READY]);
    hist_add(&c->lat, t[T_READY] - t[T_ISSUE]);
    hist_add(&c->e2e, end - t[T_ISSUE]);
    hist_add(&c->d2r, t[T_READY] - t[T_DEVICE_DONE]);
    if (r->gates)
        hist_add(&c->useful, t[T_READY] - t[T_ISSUE]);
    if (r->gpu >= 0) {
        c->gpu++;
        /* one reference for every path: the device finished the read
         * (docs/metrics.md); the direct path may beat t_ready */
        hist_add(&c->s2g, t[T_CONTINUED] - t[T_DEVICE_DONE]);
    }
    /* consumer_cpu is, by now, where the consumer thread ran at t_ready */
    if (r->completion_cpu != r->consumer_cpu)
        c->locality_miss++;
    if (r->deferred)
        c->deferred++;
    if (c->rows && c->rows->nreq < c->record_max) {
        result_req_t row = {
            .req_id = r->id, .bytes = r->bytes, .flow = r->flow,
            .submit_cpu = r->submit_cpu, .completion_cpu = r->completion_cpu,
            .consumer_cpu = r->consumer_cpu, .cls = r->cls, .op = r->op, .deferred = r->deferred,
        };
        for (int i = 0; i < REQ_NT; i++)
            row.t[i] = t[i];
        result_add_req(c->rows, &row);
    }
}

/* p50 and p99 of h into the metrics p50 and p99. */
static int put_quantiles(result_t *o, metric_id_t p50, metric_id_t p99, const hist_t *h)
{
    return result_set_id(o, p50, (double)hist_quantile(h, 0.50)) |
           result_set_id(o, p99, (double)hist_quantile(h, 0.99));
}

int collect_result(const collect_t *c, const collect_totals_t *t, result_t *o)
{
    double n = (double)c->n;
    double secs = t->measured_ns / 1e9;
    int rc = 0;
    rc |= result_set_id(o, METRIC_LAT_MEAN, hist_mean(&c->lat));
    rc |= result_set_id(o, METRIC_LAT_P50, (double)hist_quantile(&c->lat, 0.50));
    rc |= result_set_id(o, METRIC_LAT_P90, (double)hist_quantile(&c->lat, 0.90));
    rc |= result_set_id(o, METRIC_LAT_P99, (double)hist_quantile(&c->lat, 0.99));
    rc |= result_set_id(o, METRIC_LAT_P999, (double)hist_quantile(&c->lat, 0.999));
    rc |= result_set_id(o, METRIC_LAT_MAX, (double)c->lat.max * (c->lat.count > 0));
    rc |= put_quantiles(o, METRIC_D2R_P50, METRIC_D2R_P99, &c->d2r);
    if (c->useful.count)
        rc |= put_quantiles(o, METRIC_USEFUL_P50, METRIC_USEFUL_P99, &c->useful);
    rc |= result_set_id(o, METRIC_LOCALITY_MISS, n ? (double)c->locality_miss / n : 0);
    rc |= result_set_id(o, METRIC_DEFERRED, n ? (double)c->deferred / n : 0);
    if (c->reg.lookups) {
        rc |= result_set_id(o, METRIC_REG_HIT, (double)c->reg.hits / (double)c->reg.lookups);
        rc |= result_set_id(o, METRIC_REG_CHURN,
                            c->reg.flows ? (double)(c->reg.registrations +
                                                    c->reg.deregistrations) /
                                               (double)c->reg.flows
                                         : 0);
    }
    if (c->s2g.count)
        rc |= put_quantiles(o, METRIC_S2G_P50, METRIC_S2G_P99, &c->s2g);
    if (c->step_stall.count) {
        rc |= put_quantiles(o, METRIC_STEP_STALL_P50, METRIC_STEP_STALL_P99, &c->step_stall);
        if (t->measured_ns > 0 && c->gpu_busy_ns > 0)
            rc |= result_set_id(o, METRIC_GPU_IDLE, 1.0 - c->gpu_busy_ns / t->measured_ns);
    }
    if (c->query_lat.count)
        rc |= put_quantiles(o, METRIC_QUERY_P50, METRIC_QUERY_P99, &c->query_lat);
    rc |= result_set_id(o, METRIC_IOPS, secs > 0 ? n / secs : 0);
    rc |= result_set_id(o, METRIC_BYTES_PER_S, secs > 0 ? (double)c->bytes / secs : 0);
    rc |= result_set_id(o, METRIC_CPU_NS_PER_IO, n ? t->cpu_ns / n : 0);
    if (t->has_frozen && t->measured_ns > 0)
        rc |= result_set_id(o, METRIC_VM_FROZEN, t->frozen_ns / t->measured_ns);
    rc |= result_set_id(o, METRIC_REQUESTS_DROPPED, (double)c->dropped);
    rc |= result_set_id(o, METRIC_E2E_MEAN, hist_mean(&c->e2e));
    for (int s = 0; s < REQ_NSTAGES && !rc; s++)
        rc = result_add_stage(o, metric_stage_names[s], &c->stage[s]);
    if (!rc)
        rc = result_add_hist(o, "lat", &c->lat);
    if (!rc)
        rc = result_add_hist(o, "device_done_to_ready", &c->d2r);
    if (!rc && c->useful.count)
        rc = result_add_hist(o, "useful_completion", &c->useful);
    if (!rc && c->s2g.count)
        rc = result_add_hist(o, "storage_to_gpu_gap", &c->s2g);
    if (!rc && c->step_stall.count)
        rc = result_add_hist(o, "step_stall", &c->step_stall);
    if (!rc && c->query_lat.count)
        rc = result_add_hist(o, "query_latency", &c->query_lat);
    o->events = t->events;
    o->requests = c->n;
    o->wall_s = t->wall_s;
    return rc ? -ENOMEM : 0;
}
