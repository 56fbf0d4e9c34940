/*
 * runner.c - see runner.h.
 */
#include "runner.h"

#include "models/costs.h"
#include "models/path.h"
#include "reports/stats.h"
#include "run/harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Requests in flight at once beyond which a run is called overloaded: the
 * offered load exceeds what the modelled host serves, and the backlog would
 * otherwise grow memory without bound (~200 bytes a request). */
#define RUNNER_MAX_INFLIGHT (1u << 20)

char *runner_calibration(const scn_t *s, uint32_t variant)
{
    return scn_resolve(s, s->var[variant].host.calibration);
}

int runner_note(const scn_t *s, uint32_t variant, char *msg, size_t n)
{
    if (!s->var[variant].host.vm_freeze)
        return 0;
    costs_t costs;
    char *cal = runner_calibration(s, variant), why[512];
    int off = costs_load(&costs, cal, why, sizeof(why)) == 0 &&
              !vmfreeze_cfg_on(&costs.vm_freeze);
    if (off)
        snprintf(msg, n, "%s: host.vm_freeze \"calibrated\": %s has no device_units.vm_freeze."
                 "model (the host did not freeze in calibrate's runs, or the calibration is "
                 "older than that measurement): simulated without freezes", s->file,
                 cal ? cal : "the built-in calibration");
    free(cal);
    return off;
}

#define RUNNER_MSER_BINS 200

/* One run with the warm-up cut at `warm`; with series != NULL also the
 * mean latency per bin of issue time (the MSER-5 pilot). */
static int runner_once(const scn_t *s, uint32_t vi, uint32_t rep, sim_time_t warm,
                       const volatile sig_atomic_t *stop, const exec_progress_t *progress,
                       double *series, result_t *out,
                       char *err, size_t errlen)
{
    const scn_variant_t *v = &s->var[vi];
    costs_t costs;
    char *cal = runner_calibration(s, vi);
    char why[512];
    int rc = costs_load(&costs, cal, why, sizeof(why));
    free(cal);
    if (rc) {
        /* name the scenario key that led here, then what is wrong in the file */
        snprintf(err, errlen, "%s: host.calibration: %s", s->file, why);
        return rc == -ENOENT ? -EINVAL : rc;
    }
    if (v->host.traced && !(costs_value(&costs, COST_TRACE_EVENTS_PER_READ) > 0)) {
        char *c2 = runner_calibration(s, vi);
        snprintf(err, errlen, "%s: host.traced: %s has no trace_syscall_ns (calibrate measures "
                 "it only where tracefs is usable, root)", s->file, c2 ? c2 : "the calibration");
        free(c2);
        return -EINVAL;
    }
    path_cfg_t pc = {.host = &v->host, .dev = v->dev, .ndev = v->ndev, .costs = &costs};
    harness_cfg_t hc = {
        .ops = &path_exec_ops, .exec_cfg = &pc, .variant = &v->pol, .polcfg = &v->polcfg,
        .host = &v->host, .wl = v->wl, .nwl = v->nwl, .seed = s->run.seed, .rep = rep,
        .warm = warm, .end = (sim_time_t)(s->run.duration_ms * 1e6),
        .record_requests = s->run.record_requests, .max_inflight = RUNNER_MAX_INFLIGHT,
        .series = series, .series_bins = series ? RUNNER_MSER_BINS : 0, .stop = stop,
        .progress = progress,
    };
    char herr[1024];
    rc = harness_run(&hc, out, herr, sizeof(herr));
    if (rc && herr[0])
        snprintf(err, errlen, "%s: %s", s->file, herr);
    return rc;
}

int runner_run(const scn_t *s, uint32_t vi, uint32_t rep, const volatile sig_atomic_t *stop,
               result_t *out, char *err, size_t errlen)
{
    return runner_run_progress(s, vi, rep, stop, NULL, out, err, errlen);
}

int runner_run_progress(const scn_t *s, uint32_t vi, uint32_t rep,
                        const volatile sig_atomic_t *stop, const exec_progress_t *progress,
                        result_t *out, char *err, size_t errlen)
{
    if (!s->run.warmup_auto)
        return runner_once(s, vi, rep, (sim_time_t)(s->run.warmup_ms * 1e6), stop, progress,
                           NULL, out, err, errlen);
    /* "warmup_ms": "auto": a pilot of the same run (same streams) finds the
     * MSER-5 cut in its latency series; the measured run then starts there */
    double series[RUNNER_MSER_BINS];
    result_t pilot;
    result_init(&pilot);
    int rc = runner_once(s, vi, rep, 0, stop, progress, series, &pilot, err, errlen);
    result_fini(&pilot);
    if (rc)
        return rc;
    size_t cut = 0;
    if (stats_mser5(series, RUNNER_MSER_BINS, &cut) != 0)
        cut = 0;
    sim_time_t bin = (sim_time_t)(s->run.duration_ms * 1e6) / RUNNER_MSER_BINS;
    rc = runner_once(s, vi, rep, (sim_time_t)cut * bin, stop, progress, NULL, out, err, errlen);
    if (rc == 0)
        result_set_id(out, METRIC_WARMUP_CUT_MS, (double)((sim_time_t)cut * bin) / 1e6);
    return rc;
}
