/*
 * collect.h - turns finished requests into the run's measurements: latency
 * histograms (end to end, per stage, device-done-to-ready, useful
 * completions, storage-to-GPU gap), locality and deferral counts, and a
 * sample of request rows. Requests issued before the warm-up cut are not
 * counted. Owns its histograms; collect_result() writes the metrics, by
 * their ids in sim/metric.h, and the stages into a result_t (-ENOMEM when
 * one does not fit).
 */
#ifndef LATSURF_COLLECT_H
#define LATSURF_COLLECT_H

#include "models/req.h"
#include "policies/registration.h"
#include "sim/hist.h"
#include "sim/result.h"

#include <stdbool.h>

typedef struct {
    sim_time_t warm;        /* requests issued before this are not counted */
    uint32_t record_max;    /* request rows to keep */
    hist_t lat, e2e, d2r, useful, s2g, step_stall, query_lat, stage[REQ_NSTAGES];
    uint64_t n, reads, writes, bytes, locality_miss, deferred, gpu, dropped;
    uint64_t steps;
    pol_reg_stats_t reg;    /* registration: the executor's registry's counters */
    double gpu_busy_ns;     /* GPU busy (computing) time, for gpu_idle_fraction */
    result_t *rows;         /* sampled request rows go here (may be NULL) */
    /* optional time series of latency by issue time, for MSER-5 warm-up */
    double *series_sum;
    uint64_t *series_n;
    uint32_t nbins;
    sim_time_t bin_ns;
} collect_t;

collect_t *collect_new(sim_time_t warm, uint32_t record_max, result_t *rows);
void collect_free(collect_t *c);

void collect_req(collect_t *c, const req_t *r);

/* Keep mean latency per bin of issue time (nbins bins of bin_ns). */
int collect_series(collect_t *c, uint32_t nbins, sim_time_t bin_ns);

typedef struct {
    double measured_ns;     /* measurement window: duration - warm-up */
    double cpu_ns;          /* host CPU time spent on I/O in the window */
    bool has_frozen;        /* the run modelled the VM's freezes (host.vm_freeze): */
    double frozen_ns;       /* the time every CPU was frozen in the window */
    uint64_t events;
    double wall_s;
} collect_totals_t;

int collect_result(const collect_t *c, const collect_totals_t *t, result_t *out);

#endif
