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
        hist_add(&c->s2g, t[T_CONTINUED] - (r->gpu_direct ? t[T_DEVICE_DONE] : t[T_READY]));
    }
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

static void put_quantiles(result_t *o, const char *prefix, const hist_t *h)
{
    char name[64];
    snprintf(name, sizeof(name), "%s_p50_ns", prefix);
    result_set(o, name, (double)hist_quantile(h, 0.50));
    snprintf(name, sizeof(name), "%s_p99_ns", prefix);
    result_set(o, name, (double)hist_quantile(h, 0.99));
}

int collect_result(const collect_t *c, const collect_totals_t *t, result_t *o)
{
    double n = (double)c->n;
    double secs = t->measured_ns / 1e9;
    result_set(o, "lat_mean_ns", hist_mean(&c->lat));
    result_set(o, "lat_p50_ns", (double)hist_quantile(&c->lat, 0.50));
    result_set(o, "lat_p90_ns", (double)hist_quantile(&c->lat, 0.90));
    result_set(o, "lat_p99_ns", (double)hist_quantile(&c->lat, 0.99));
    result_set(o, "lat_p999_ns", (double)hist_quantile(&c->lat, 0.999));
    result_set(o, "lat_max_ns", (double)c->lat.max * (c->lat.count > 0));
    put_quantiles(o, "device_done_to_ready", &c->d2r);
    if (c->useful.count)
        put_quantiles(o, "useful_completion", &c->useful);
    result_set(o, "locality_miss_rate", n ? (double)c->locality_miss / n : 0);
    result_set(o, "deferred_completion_rate", n ? (double)c->deferred / n : 0);
    if (c->reg.lookups) {
        result_set(o, "registration_hit_rate", (double)c->reg.hits / (double)c->reg.lookups);
        result_set(o, "registration_churn_per_flow",
                   c->reg.flows ? (double)(c->reg.registrations + c->reg.deregistrations) /
                                      (double)c->reg.flows
                                : 0);
    }
    if (c->s2g.count)
        put_quantiles(o, "storage_to_gpu_gap", &c->s2g);
    if (c->step_stall.count) {
        put_quantiles(o, "step_stall", &c->step_stall);
        if (t->measured_ns > 0 && c->gpu_busy_ns > 0)
            result_set(o, "gpu_idle_fraction", 1.0 - c->gpu_busy_ns / t->measured_ns);
    }
    if (c->query_lat.count)
        put_quantiles(o, "query_latency", &c->query_lat);
    result_set(o, "iops", secs > 0 ? n / secs : 0);
    result_set(o, "bytes_per_s", secs > 0 ? (double)c->bytes / secs : 0);
    result_set(o, "cpu_ns_per_io", n ? t->cpu_ns / n : 0);
    result_set(o, "requests_dropped", (double)c->dropped);
    result_set(o, "e2e_mean_ns", hist_mean(&c->e2e));
    int rc = 0;
    for (int s = 0; s < REQ_NSTAGES && !rc; s++)
        rc = result_add_stage(o, req_stage_names[s], &c->stage[s]);
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
