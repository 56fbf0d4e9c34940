/*
 * result.h - the outcome of one run (simulated or live): named metrics,
 * per-stage rows, histograms and optionally sampled requests. Collectors
 * fill it; reports/ writes it to SQLite. It owns everything it points to.
 */
#ifndef LATSURF_RESULT_H
#define LATSURF_RESULT_H

#include "hist.h"
#include "metric.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char name[48];
    double value;
} result_metric_t;

typedef struct {
    char stage[24];
    uint64_t count;
    double mean_ns, p50_ns, p99_ns;
} result_stage_t;

typedef struct {
    char metric[48];
    hist_t *hist; /* owned */
} result_hist_t;

/* One sampled request row: ids, cpus and the boundary timestamps (T_*). */
typedef struct {
    uint64_t req_id, bytes;
    uint32_t flow;
    int16_t submit_cpu, completion_cpu, consumer_cpu;
    uint8_t cls, op, deferred;
    uint64_t t[REQ_NT];
} result_req_t;

typedef struct {
    result_metric_t *metric;
    size_t nmetric, capmetric;
    result_stage_t *stage;
    size_t nstage, capstage;
    result_hist_t *hist;
    size_t nhist, caphist;
    result_req_t *req;
    size_t nreq, capreq;
    uint64_t events, requests;
    double wall_s;
    /* Sticky: the first add that failed (-ENOMEM), else 0. A result with an
     * error is incomplete: it is reported, never written. */
    int error;
} result_t;

void result_init(result_t *r);
void result_fini(result_t *r);
/* The adders return 0 or -ENOMEM, which they also keep in r->error, so a
 * collector may call them on the event path without checking each.
 * Collectors set registered metrics by id (metric.h); the name forms carry
 * rows through unchanged (sweep wire format, tests). */
int result_set_id(result_t *r, metric_id_t id, double value); /* add or replace; 0 or -ENOMEM */
int result_get_id(const result_t *r, metric_id_t id, double *value); /* 0 or -ENOENT */
int result_set(result_t *r, const char *name, double value);
int result_get(const result_t *r, const char *name, double *value);
int result_add_stage(result_t *r, const char *stage, const hist_t *h);
int result_add_hist(result_t *r, const char *metric, const hist_t *h); /* copies h */
int result_add_req(result_t *r, const result_req_t *row);

#endif
