/*
 * cmd_validate.c - `latsurf validate`: the same workload live and simulated,
 * side by side. Calibrates first when a variant's calibration is missing or
 * was measured on another host or kernel (calibrate/calib.h, --quick, on
 * the target's filesystem), runs every variant live, then simulates each
 * with that calibration (runner_run), and reports per variant the p50/p99
 * relative error of the simulator, the Wasserstein-1 distance between the
 * two latency distributions, and whether the variants rank the same way.
 *
 * Runs go to the database as usual (mode 'live' and 'sim'); the verdict
 * goes to `comparisons` as validate's rows (reports/compare.h: a later run
 * or report keeps them) with variant "<variant>:sim" against baseline
 * "<variant>" (the live run is the reference), so value = simulated,
 * baseline_value = live and delta_pct = the simulator's error in percent.
 * Metric "lat_w1_ns" has the distance as value and the live mean as
 * baseline_value (delta_pct = distance / live mean); variant "*:sim"
 * against "*" carries "ranking_p50_agrees" and "ranking_p99_agrees" (0 when
 * a pair of variants the live runs separate, their 95% CIs apart, is ranked
 * the other way by the simulation, else 1) and "ranking_p50_separated" /
 * "ranking_p99_separated" (1 when the live runs separate some pair).
 *
 * With --reference DB (an analyzed recording, reports/reference.h) the
 * recording is a third column: one more table (p50, p99, p99.9, IOPS and
 * duration of the recording, the live replay and the simulation) and rows
 * "<variant>:live" / "<variant>:sim" against baseline "recording".
 *
 * Several scenarios (scenarios/validation/, docs/validation.md): one
 * calibration for all of them, one markdown table at the end (a row per
 * regime and variant), and a leave-one-out line for every scenario named
 * "*qd1-far": simulated again with a calibration from which every parameter
 * that needs a thread on another CPU than the device's interrupt CPU is
 * removed (val_loo_drop), so the far CPU is predicted from near-CPU
 * measurements and the model's defaults.
 */
#define _GNU_SOURCE
#include "cmd.h"

#include "calibrate/calib.h"
#include "cli/live_opts.h"
#include "run/runner.h"
#include "reports/compare.h"
#include "reports/db.h"
#include "reports/reference.h"
#include "reports/stats.h"
#include "sim/vec.h"

#include <errno.h>
#include <gsl/gsl_statistics_double.h>
#include <jansson.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAL_STALE_DAYS 30

typedef struct {
    hist_t live, sim;
    bool have_live, have_sim;
    double iops_live, iops_sim; /* sums over replications */
    uint32_t n_live, n_sim;
    double cpu_live, cpu_sim;   /* cpu_ns_per_io, summed over replications */
    uint32_t ncpu_live, ncpu_sim;
    /* with --reference: the replay's span (first t_issue to last t_ready of
     * its request rows) and requests / span, summed over replications */
    double span_live, span_sim, rate_live, rate_sim;
    uint32_t nspan_live, nspan_sim;
} val_var_t;

/* One line of the --reference table: a metric of the recording, the live
 * replay and the simulation. */
typedef struct {
    char regime[300], variant[72];
    const char *metric;
    double rec, live, sim;
} val_refline_t;

typedef struct {
    val_refline_t *v;
    size_t n, cap;
} val_reftab_t;

static int val_reftab_add(val_reftab_t *t, const val_refline_t *l)
{
    return VEC_PUSH(t->v, t->n, t->cap, *l);
}

/* One line of the final table. */
typedef struct {
    char regime[300], variant[72];
    double l[5], s[5]; /* p50, p99, p99.9, IOPS, host CPU ns per I/O */
    double w1_rel;
    /* The ranking against the first variant at p50 and p99 (val_rank_verdict):
     * this variant's quantile less the first's, live and simulated (NaN on
     * the first variant's own line), and the sign of the live difference
     * where the two runs' sampling 95% CIs do not overlap (else 0). */
    double dl[2], ds[2];
    int8_t lsign[2];
    uint32_t round; /* --rounds: which one (0-based) */
} val_line_t;

typedef struct {
    val_line_t *v;
    size_t n, cap;
} val_table_t;

static int val_table_add(val_table_t *t, const val_line_t *l)
{
    return VEC_PUSH(t->v, t->n, t->cap, *l);
}

/* --- calibration ----------------------------------------------------- */

/* Measure this host (quick) into out: a file target's filesystem (a
 * scratch file there), or a block device itself, read-only (a scratch file
 * elsewhere would measure another device). */
static int val_calibrate(const livecmd_args_t *a, const liverun_t *c, const char *out)
{
    char *dup = strdup(a->run.target), err[512];
    if (!dup)
        return CMD_FAIL;
    calib_target_t dev = {.fd = c->tgt.fd, .path = c->tgt.path, .size = c->tgt.size,
                          .blockdev = 1, .writable = 0};
    calib_opts_t o = {
        .target = c->tgt.blockdev ? c->tgt.path : dirname(dup),
        .open = c->tgt.blockdev ? &dev : NULL, .quick = 1,
        .command = "latsurf validate (calibrate --quick)", .progress = a->quiet ? NULL : cmd_progress_stderr,
        .stop = &livecmd_stop,
    };
    json_t *doc = NULL;
    int rc = calib_run(&o, &doc, err, sizeof(err));
    free(dup);
    if (rc) {
        fprintf(stderr, "latsurf validate: calibration: %s\n", err);
        return rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
    }
    rc = json_dump_file(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    if (rc) {
        fprintf(stderr, "latsurf validate: cannot write %s\n", out);
        return CMD_FAIL;
    }
    if (!a->quiet)
        fprintf(stderr, "latsurf validate: calibration written to %s\n", out);
    return CMD_OK;
}

/* Make every selected variant's calibration current, calibrating at most
 * once: a missing named file is created where named; a stale or absent one
 * is replaced, for this run, by calibration-HOST.json next to the database. */
static int val_calibration(const livecmd_args_t *a, liverun_t *c, char **madep, uint32_t round)
{
    scn_t *s = c->s;
    char *made = *madep ? strdup(*madep) : NULL; /* measured for an earlier scenario */
    int rc = CMD_OK;
    for (uint32_t v = 0; v < s->nvar && rc == CMD_OK; v++) {
        if (!c->selected[v])
            continue;
        char *cal = runner_calibration(s, v), why[1024];
        const char *stale = a->recalibrate ? "--recalibrate: measuring the host now"
                                           : calib_stale(cal, VAL_STALE_DAYS, why, sizeof(why));
        if (stale && !a->no_calibrate) {
            if (!made) {
                struct stat st;
                if (cal && stat(cal, &st) != 0 && !a->recalibrate) {
                    made = strdup(cal);
                } else {
                    char *d = strdup(a->run.db), host[200] = "";
                    gethostname(host, sizeof(host) - 1);
                    char nth[32] = ""; /* each round's calibration kept */
                    if (a->rounds > 1)
                        snprintf(nth, sizeof(nth), "-round%u", round + 1);
                    if (d && asprintf(&made, "%s/calibration-%s%s.json", dirname(d), host, nth) < 0)
                        made = NULL;
                    free(d);
                }
                if (!made) {
                    free(cal);
                    return CMD_FAIL;
                }
                if (!a->quiet)
                    fprintf(stderr, "latsurf validate: calibrating (%s)\n", stale);
                rc = val_calibrate(a, c, made);
            }
            if (rc == CMD_OK) {
                free(s->var[v].host.calibration);
                s->var[v].host.calibration = strdup(made);
            }
        } else if (stale && !a->quiet) {
            fprintf(stderr, "latsurf validate: note: %s (--no-calibrate)\n", stale);
        }
        free(cal);
    }
    if (rc == CMD_OK && made && !*madep)
        *madep = made; /* the next scenarios reuse it */
    else
        free(made);
    return rc;
}

/* --- comparison ------------------------------------------------------ */

static const hist_t *val_hist(const result_t *r, const char *metric)
{
    for (size_t i = 0; i < r->nhist; i++)
        if (strcmp(r->hist[i].metric, metric) == 0)
            return r->hist[i].hist;
    return NULL;
}

/* The span of a run's request rows (first t_issue to last t_ready) and
 * rows / span, added to a side's sums (--reference). */
static void val_keep_span(double *span, double *rate, uint32_t *n, const result_t *res)
{
    uint64_t first = UINT64_MAX, last = 0;
    for (size_t i = 0; i < res->nreq; i++) {
        if (res->req[i].t[T_ISSUE] < first)
            first = res->req[i].t[T_ISSUE];
        if (res->req[i].t[T_READY] > last)
            last = res->req[i].t[T_READY];
    }
    if (!res->nreq || last <= first)
        return;
    *span += (double)(last - first);
    *rate += (double)res->nreq / ((double)(last - first) / 1e9);
    (*n)++;
}

/* Add one run to a side's sums: its latency histogram, IOPS and host CPU
 * time per I/O. */
static void val_keep(hist_t *dst, bool *have, double *iops, uint32_t *n, double *cpu,
                     uint32_t *ncpu, const result_t *res)
{
    double x;
    if (result_get_id(res, METRIC_IOPS, &x) == 0) {
        *iops += x;
        (*n)++;
    }
    if (result_get_id(res, METRIC_CPU_NS_PER_IO, &x) == 0 && x > 0) {
        *cpu += x;
        (*ncpu)++;
    }
    const hist_t *h = val_hist(res, "lat");
    if (!h)
        return;
    if (!*have)
        hist_init(dst);
    hist_merge(dst, h);
    *have = true;
}

static void val_on_live(void *ctx, uint32_t v, uint32_t rep, const result_t *res)
{
    (void)rep;
    val_var_t *vv = ctx;
    val_keep(&vv[v].live, &vv[v].have_live, &vv[v].iops_live, &vv[v].n_live, &vv[v].cpu_live,
             &vv[v].ncpu_live, res);
    val_keep_span(&vv[v].span_live, &vv[v].rate_live, &vv[v].nspan_live, res);
}

/* The simulator's error against live, in percent; NaN without a live value. */
static double val_err(double sim, double live)
{
    return live != 0 && isfinite(live) && isfinite(sim) ? (sim - live) / live * 100 : NAN;
}

/* A validate row: value = simulated, baseline_value = live, delta_pct = the
 * simulator's error in percent. */
static compare_row_t val_row(const char *variant, const char *baseline, const char *metric,
                             double value, double base)
{
    return (compare_row_t){
        .variant = variant, .baseline = baseline, .metric = metric, .value = value,
        .baseline_value = base,
        .delta_pct = val_err(value, base),
        .ci_low = NAN, .ci_high = NAN, .significant = -1,
    };
}

/* +1 / -1 when a's q-quantile lies above / below b's with their 95%
 * sampling CIs apart (stats_quantile_ci), else 0. */
static int8_t val_live_sign(const hist_t *a, const hist_t *b, double q)
{
    double alo, ahi, blo, bhi;
    stats_quantile_ci(a, q, STATS_LEVEL, &alo, &ahi);
    stats_quantile_ci(b, q, STATS_LEVEL, &blo, &bhi);
    return alo > bhi ? 1 : ahi < blo ? -1 : 0;
}

static int8_t val_sign(double x)
{
    return (int8_t)((x > 0) - (x < 0));
}

static bool val_rank_in(const val_line_t *l, const char *regime, uint32_t round)
{
    return strcmp(l->regime, regime) == 0 && (round == UINT32_MAX || l->round == round);
}

/* The ranking verdict over the table's lines of one regime in round
 * (UINT32_MAX: every round), by p50 (k = 0) and p99 (k = 1): sep[k], some
 * variant is separated from the first by the live runs; bad[k], the
 * simulation ranks some separated variant the other way. Pairs the live
 * runs do not separate are not ranked (issue 16: rankings agree wherever
 * the variants' CIs do not overlap).
 * - Several rounds: the rounds pair the variants, so the live difference
 *   (variant - first) of each round is a sample, and the pair is separated
 *   when the 95% t-interval of its mean excludes 0. This is the CI that
 *   counts on a shared host: between two back-to-back live runs the disk
 *   drifts by more than either run's sampling CI, which would otherwise
 *   rank two identical configurations. The simulation's direction: the
 *   sign of the mean of its differences.
 * - One round: the sampling CIs of the two live quantiles (lsign), which
 *   do not see that drift. */
static int val_rank_verdict(const val_table_t *t, const char *regime, uint32_t round,
                            bool sep[2], bool bad[2])
{
    double *dl = malloc(2 * (t->n + 1) * sizeof(*dl)), *ds = dl ? dl + t->n + 1 : NULL;
    sep[0] = sep[1] = bad[0] = bad[1] = false;
    if (!dl)
        return -ENOMEM;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < t->n; i++) {
            const val_line_t *a = &t->v[i];
            bool done = !val_rank_in(a, regime, round) || !isfinite(a->dl[k]);
            for (size_t j = 0; j < i && !done; j++)
                done = val_rank_in(&t->v[j], regime, round) &&
                       strcmp(t->v[j].variant, a->variant) == 0;
            if (done) /* not this regime, the first variant, or seen already */
                continue;
            size_t n = 0;
            for (size_t j = i; j < t->n; j++) {
                const val_line_t *b = &t->v[j];
                if (val_rank_in(b, regime, round) && strcmp(b->variant, a->variant) == 0 &&
                    isfinite(b->dl[k])) {
                    dl[n] = b->dl[k];
                    ds[n++] = b->ds[k];
                }
            }
            int8_t live = a->lsign[k];
            stats_ci_t ci;
            if (n > 1 && stats_ci(dl, n, STATS_LEVEL, &ci) == 0)
                live = ci.lo > 0 || ci.hi < 0 ? val_sign(ci.mean) : 0;
            if (live == 0)
                continue;
            sep[k] = true;
            if (val_sign(gsl_stats_mean(ds, 1, n)) != live)
                bad[k] = true;
        }
    free(dl);
    return 0;
}

static const char *val_rank_word(bool sep, bool bad)
{
    return bad ? "DIFFERS" : sep ? "agrees" : "CIs overlap";
}

/* The table's word for a regime: by p50 and p99 together. */
static const char *val_rank_of(const val_table_t *t, const char *regime, uint32_t round)
{
    bool sep[2], bad[2];
    if (val_rank_verdict(t, regime, round, sep, bad))
        return "(out of memory)";
    return val_rank_word(sep[0] || sep[1], bad[0] || bad[1]);
}

/* --reference: the recording against the live replay and the simulation of
 * variant v, as table lines and comparisons rows (variant "<name>:live" and
 * "<name>:sim" against baseline "recording"; value = replay, baseline_value =
 * recording, delta_pct = the replay's error). */
static int val_ref_rows(const reference_t *ref, const scn_t *s, uint32_t v, const val_var_t *x,
                        const double live[3], const double sim[3], char names[2][96],
                        compare_row_t *rows, size_t *n, val_reftab_t *rt)
{
    double sl = x->nspan_live ? x->span_live / x->nspan_live : NAN;
    double ss = x->nspan_sim ? x->span_sim / x->nspan_sim : NAN;
    double rl = x->nspan_live ? x->rate_live / x->nspan_live : NAN;
    double rs = x->nspan_sim ? x->rate_sim / x->nspan_sim : NAN;
    const struct {
        const char *metric;
        double rec, live, sim;
    } m[5] = {
        {metric_info[METRIC_LAT_P50].name, ref->p50_ns, live[0], sim[0]},
        {metric_info[METRIC_LAT_P99].name, ref->p99_ns, live[1], sim[1]},
        {metric_info[METRIC_LAT_P999].name, ref->p999_ns, live[2], sim[2]},
        {metric_info[METRIC_IOPS].name, ref->iops, rl, rs},
        {"duration_ns", ref->span_ns, sl, ss},
    };
    snprintf(names[0], sizeof(names[0]), "%s:live", s->var[v].pol.name);
    snprintf(names[1], sizeof(names[1]), "%s:sim", s->var[v].pol.name);
    for (int k = 0; k < 5; k++) {
        rows[(*n)++] = val_row(names[0], "recording", m[k].metric, m[k].live, m[k].rec);
        rows[(*n)++] = val_row(names[1], "recording", m[k].metric, m[k].sim, m[k].rec);
        val_refline_t l = {.metric = m[k].metric, .rec = m[k].rec, .live = m[k].live,
                           .sim = m[k].sim};
        snprintf(l.regime, sizeof(l.regime), "%s", s->name);
        snprintf(l.variant, sizeof(l.variant), "%s", s->var[v].pol.name);
        if (val_reftab_add(rt, &l))
            return -1;
    }
    return 0;
}

static int val_report(const livecmd_args_t *a, liverun_t *c, val_var_t *vv, val_table_t *tab,
                      const reference_t *ref, val_reftab_t *rt, uint32_t round)
{
    scn_t *s = c->s;
    compare_row_t *rows = malloc((18 * (size_t)s->nvar + 4) * sizeof(*rows));
    char (*variant)[96] = malloc((size_t)s->nvar * sizeof(*variant));
    char (*refname)[2][96] = malloc((size_t)s->nvar * sizeof(*refname));
    size_t n = 0;
    if (!rows || !variant || !refname) {
        free(rows);
        free(variant);
        free(refname);
        fprintf(stderr, "latsurf validate: out of memory\n");
        return CMD_FAIL;
    }
    const val_var_t *v0 = &vv[0];
    for (uint32_t v = 0; v < s->nvar; v++) {
        if (!vv[v].have_live || !vv[v].have_sim)
            continue;
        const hist_t *L = &vv[v].live, *S = &vv[v].sim;
        val_line_t ln = {.round = round, .dl = {NAN, NAN}, .ds = {NAN, NAN}};
        static const double q[3] = {0.5, 0.99, 0.999};
        for (int k = 0; k < 3; k++) {
            ln.l[k] = (double)hist_quantile(L, q[k]);
            ln.s[k] = (double)hist_quantile(S, q[k]);
        }
        for (int k = 0; k < 2 && v > 0 && v0->have_live && v0->have_sim; k++) {
            ln.lsign[k] = val_live_sign(L, &v0->live, q[k]);
            ln.dl[k] = ln.l[k] - (double)hist_quantile(&v0->live, q[k]);
            ln.ds[k] = ln.s[k] - (double)hist_quantile(&v0->sim, q[k]);
        }
        ln.l[3] = vv[v].n_live ? vv[v].iops_live / vv[v].n_live : NAN;
        ln.s[3] = vv[v].n_sim ? vv[v].iops_sim / vv[v].n_sim : NAN;
        ln.l[4] = vv[v].ncpu_live ? vv[v].cpu_live / vv[v].ncpu_live : NAN;
        ln.s[4] = vv[v].ncpu_sim ? vv[v].cpu_sim / vv[v].ncpu_sim : NAN;
        double w1 = stats_w1_hist(L, S), lmean = hist_mean(L);
        ln.w1_rel = w1 / lmean;
        snprintf(ln.regime, sizeof(ln.regime), "%s", s->name);
        snprintf(ln.variant, sizeof(ln.variant), "%s", s->var[v].pol.name);
        if (val_table_add(tab, &ln) ||
            (ref && val_ref_rows(ref, s, v, &vv[v], ln.l, ln.s, refname[v], rows, &n, rt))) {
            free(rows);
            free(variant);
            free(refname);
            return CMD_FAIL;
        }
        snprintf(variant[v], sizeof(variant[v]), "%s:sim", s->var[v].pol.name);
        const char *base = s->var[v].pol.name;
        rows[n++] = val_row(variant[v], base, metric_info[METRIC_LAT_P50].name, ln.s[0], ln.l[0]);
        rows[n++] = val_row(variant[v], base, metric_info[METRIC_LAT_P99].name, ln.s[1], ln.l[1]);
        rows[n++] = val_row(variant[v], base, metric_info[METRIC_LAT_P999].name, ln.s[2], ln.l[2]);
        rows[n++] = val_row(variant[v], base, metric_info[METRIC_IOPS].name, ln.s[3], ln.l[3]);
        rows[n++] = val_row(variant[v], base, metric_info[METRIC_CPU_NS_PER_IO].name, ln.s[4],
                            ln.l[4]);
        rows[n++] = val_row(variant[v], base, metric_info[METRIC_LAT_MEAN].name, hist_mean(S),
                            lmean);
        rows[n++] = val_row(variant[v], base, "lat_w1_ns", w1, lmean);
    }
    bool sep[2], bad[2];
    if (val_rank_verdict(tab, s->name, round, sep, bad)) {
        free(rows);
        free(variant);
        free(refname);
        fprintf(stderr, "latsurf validate: out of memory\n");
        return CMD_FAIL;
    }
    static const char *const rank_metric[2][2] = {
        {"ranking_p50_agrees", "ranking_p50_separated"},
        {"ranking_p99_agrees", "ranking_p99_separated"},
    };
    printf("%s: ranking of variants by p50: %s; by p99: %s\n", s->name,
           val_rank_word(sep[0], bad[0]), val_rank_word(sep[1], bad[1]));
    for (int k = 0; k < 2; k++) {
        rows[n++] = val_row("*:sim", "*", rank_metric[k][0], !bad[k], 1);
        rows[n++] = val_row("*:sim", "*", rank_metric[k][1], sep[k], 1);
    }
    char *err = NULL, *name = NULL; /* each round's rows kept: "NAME round R" */
    int rc = a->rounds > 1 ? asprintf(&name, "%s round %u", s->name, round + 1) < 0 : 0;
    if (rc == 0)
        rc = compare_replace(c->db, name ? name : s->name, COMPARE_VALIDATE, rows, n, &err);
    free(name);
    free(rows);
    free(variant);
    free(refname);
    if (rc == 0)
        return CMD_OK;
    fprintf(stderr, "latsurf validate: %s: %s\n", a->run.db, err ? err : "out of memory");
    sqlite3_free(err);
    return CMD_FAIL;
}

/* One round's table (every line: `round` UINT32_MAX), markdown, on stdout. */
static void val_print(const val_table_t *t, uint32_t round)
{
    if (round != UINT32_MAX)
        printf("\nround %u:\n", round + 1);
    printf("\n| regime | variant | p50 live | p50 sim | err | p99 live | p99 sim | err | "
           "p99.9 live | p99.9 sim | err | IOPS live | IOPS sim | err | CPU/IO live | CPU/IO sim | "
           "err | W1/mean | ranking |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
           "---:|---|\n");
    for (size_t i = 0; i < t->n; i++) {
        const val_line_t *l = &t->v[i];
        if (round != UINT32_MAX && l->round != round)
            continue;
        printf("| %s | %s |", l->regime, l->variant);
        for (int k = 0; k < 3; k++)
            printf(" %.1f us | %.1f us | %+.1f%% |", l->l[k] / 1e3, l->s[k] / 1e3,
                   val_err(l->s[k], l->l[k]));
        printf(" %.0f | %.0f | %+.1f%% | %.1f us | %.1f us | %+.1f%% | %.1f%% | %s |\n", l->l[3],
               l->s[3], val_err(l->s[3], l->l[3]), l->l[4] / 1e3, l->s[4] / 1e3,
               val_err(l->s[4], l->l[4]), l->w1_rel * 100, val_rank_of(t, l->regime, l->round));
    }
}

/* --rounds: per regime and variant, the median over the rounds of the live
 * and simulated figures and of each round's error (the simulation of a
 * round uses that round's calibration, so the pairs are the rounds), and
 * the spread of the live p50 between rounds: what the host itself moved. */
static void val_print_median(const val_table_t *t, uint32_t rounds)
{
    printf("\nmedian of %u paired rounds (err: the median of the rounds' errors; live p50 "
           "spread: max/min - 1 over the rounds):\n", rounds);
    printf("\n| regime | variant | rounds | p50 live | p50 sim | err | p99 live | p99 sim | err | "
           "p99.9 live | p99.9 sim | err | IOPS live | IOPS sim | err | CPU/IO live | CPU/IO sim | "
           "err | W1/mean | ranking | live p50 spread |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
           "---:|---:|---|---:|\n");
    double *x = malloc(3 * (size_t)rounds * sizeof(*x));
    const val_line_t **line = malloc((size_t)rounds * sizeof(*line));
    if (!x || !line) {
        free(x);
        free(line);
        return;
    }
    for (size_t i = 0; i < t->n; i++) {
        const val_line_t *a = &t->v[i];
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(t->v[j].regime, a->regime) || strcmp(t->v[j].variant, a->variant);
        if (!first)
            continue;
        /* this regime and variant's lines, one a round, found once */
        size_t n = 0;
        for (size_t j = i; j < t->n && n < rounds; j++) {
            const val_line_t *b = &t->v[j];
            if (strcmp(b->regime, a->regime) == 0 && strcmp(b->variant, a->variant) == 0) {
                line[n++] = b;
            }
        }
        /* p50, p99, p99.9, IOPS, CPU/IO, then W1 (med[0][5]) and the spread (med[2][5]) */
        double *lv = x, *sv = x + rounds, *ev = x + 2 * (size_t)rounds, med[3][6];
        for (int k = 0; k < 6; k++) {
            for (size_t m = 0; m < n; m++) {
                const val_line_t *b = line[m];
                lv[m] = k < 5 ? b->l[k] : b->w1_rel;
                sv[m] = k < 5 ? b->s[k] : b->w1_rel;
                ev[m] = k < 5 ? val_err(b->s[k], b->l[k]) : b->w1_rel;
            }
            if (k == 0) { /* the spread, before the median sorts them */
                double lo = gsl_stats_min(lv, 1, n), hi = gsl_stats_max(lv, 1, n);
                med[2][5] = lo > 0 ? (hi / lo - 1) * 100 : NAN;
            }
            med[0][k] = gsl_stats_median(lv, 1, n);
            med[1][k] = gsl_stats_median(sv, 1, n);
            if (k < 5)
                med[2][k] = gsl_stats_median(ev, 1, n);
        }
        printf("| %s | %s | %zu |", a->regime, a->variant, n);
        for (int k = 0; k < 3; k++)
            printf(" %.1f us | %.1f us | %+.1f%% |", med[0][k] / 1e3, med[1][k] / 1e3, med[2][k]);
        printf(" %.0f | %.0f | %+.1f%% | %.1f us | %.1f us | %+.1f%% | %.1f%% | %s | %.1f%% |\n",
               med[0][3], med[1][3], med[2][3], med[0][4] / 1e3, med[1][4] / 1e3, med[2][4],
               med[0][5] * 100, val_rank_of(t, a->regime, UINT32_MAX), med[2][5]);
    }
    free(x);
    free(line);
}

/* The --reference table, markdown, on stdout: a row per variant and metric. */
static void val_print_ref(const val_reftab_t *t, const reference_t *ref, const char *path)
{
    printf("\nreference: %s, run %lld (%s): %llu requests, duration %s\n", path,
           (long long)ref->run_id, ref->scenario, (unsigned long long)ref->requests,
           ref->span_from_rows ? "first issue to last ready of its requests"
                               : "the recording's events (no request rows)");
    printf("\n| scenario | variant | metric | recording | live | err | sim | err |\n");
    printf("|---|---|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < t->n; i++) {
        const val_refline_t *l = &t->v[i];
        bool lat = strncmp(l->metric, "lat_", 4) == 0, dur = strcmp(l->metric, "duration_ns") == 0;
        double k = lat ? 1e3 : dur ? 1e6 : 1;
        const char *u = lat ? " us" : dur ? " ms" : "";
        printf("| %s | %s | %s | %.1f%s | %.1f%s | %+.1f%% | %.1f%s | %+.1f%% |\n", l->regime,
               l->variant, l->metric, l->rec / k, u, l->live / k, u, val_err(l->live, l->rec),
               l->sim / k, u, val_err(l->sim, l->rec));
    }
}

/* Leave-one-out: the parameters a near-only calibration would not have
 * (a thread on another CPU than the interrupt's was needed to measure them:
 * every IPI takes two CPUs). */
static bool val_loo_drop(const char *name)
{
    return strstr(name, "cross") || strncmp(name, "ipi_", 4) == 0 ||
           strcmp(name, "irq_busy_ns") == 0 || strncmp(name, "qd1_read_p50_cpu", 16) == 0 ||
           strncmp(name, "remote_", 7) == 0; /* the sweep's far point (calqd.h) */
}

static int val_loo_file(const char *cal, const char *out)
{
    json_t *doc = json_load_file(cal, 0, NULL), *params = json_object_get(doc, "params");
    if (!doc || !json_is_object(params)) {
        json_decref(doc);
        return -1;
    }
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(params, tmp, k, v) {
        if (val_loo_drop(k))
            json_object_del(params, k);
    }
    /* the measured chains with the waiter off the interrupt CPU, likewise */
    json_object_del(json_object_get(json_object_get(params, "completion_chains"), "chains"),
                    "cross");
    int rc = json_dump_file(doc, out, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(doc);
    return rc;
}

/* --- the command ----------------------------------------------------- */

static int val_simulate(const livecmd_args_t *a, liverun_t *c, val_var_t *vv, bool store)
{
    scn_t *s = c->s;
    uint32_t reps = a->sim_reps ? a->sim_reps : s->run.replications;
    char note[1024], said[1024] = ""; /* once, not once per variant */
    for (uint32_t v = 0; v < s->nvar && !a->quiet && store; v++)
        if (c->selected[v] && runner_note(s, v, note, sizeof(note)) && strcmp(note, said) != 0) {
            fprintf(stderr, "latsurf validate: note: %s\n", note);
            strcpy(said, note);
        }
    for (uint32_t rep = 0; rep < reps; rep++)
        for (uint32_t v = 0; v < s->nvar; v++) {
            if (!c->selected[v])
                continue;
            if (livecmd_stop) {
                fprintf(stderr, "latsurf validate: interrupted; finished runs kept in %s\n",
                        a->run.db);
                return CMD_FAIL;
            }
            result_t res;
            result_init(&res);
            char err[1024] = "";
            int r = runner_run(s, v, rep, &livecmd_stop, &res, err, sizeof(err));
            if (r == 0 && store) {
                char *cal = runner_calibration(s, v), *dberr = NULL;
                db_run_info_t info = {
                    .scenario = s->name, .variant = s->var[v].pol.name, .mode = "sim",
                    .replication = rep, .seed = s->run.seed, .calibration = cal,
                    .host = c->host, .version = cmd_version(), .scenario_json = s->json,
                    .what_if = s->var[v].what_if,
                };
                if (db_write_run(c->db, &info, &res, &dberr) < 0) {
                    fprintf(stderr, "latsurf validate: %s: %s\n", a->run.db, dberr);
                    sqlite3_free(dberr);
                    r = -EIO;
                }
                free(cal);
            } else if (r) {
                fprintf(stderr, "latsurf validate: simulating %s: %s\n", s->var[v].pol.name,
                        err[0] ? err : strerror(-r));
            }
            if (r == 0) {
                val_keep(&vv[v].sim, &vv[v].have_sim, &vv[v].iops_sim, &vv[v].n_sim,
                         &vv[v].cpu_sim, &vv[v].ncpu_sim, &res);
                val_keep_span(&vv[v].span_sim, &vv[v].rate_sim, &vv[v].nspan_sim, &res);
            }
            result_fini(&res);
            if (r)
                return r == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
        }
    return CMD_OK;
}

int cmd_validate(int argc, char **argv)
{
    if (cmd_wants_help("validate", argc, argv)) {
        printf("\nOptions: those of latsurf live (--target, --db, --duration-ms, --reps,\n"
               "--variant, --set, --trace, --submit, --quiet), and\n"
               "  --sim-reps N       simulated replications (default: the scenario's)\n"
               "  --rounds N         N paired rounds (each recalibrating with --recalibrate):\n"
               "                     a table per round, then the median of the rounds\n"
               "  --no-calibrate     simulate with the calibration as it is\n"
               "  --recalibrate      measure the host now (into calibration-HOST.json next to\n"
               "                     the database), so both sides see the same host load\n"
               "  --reference DB     an analyzed recording (latsurf trace analyze FILE --db DB)\n"
               "                     of the application whose exported trace the scenario\n"
               "                     replays: one more table, recording vs live vs sim\n"
               "                     (p50, p99, p99.9, IOPS, duration), rows \"<name>:live\"\n"
               "                     and \"<name>:sim\" against baseline \"recording\"\n"
               "Calibrates (quick: on the target's filesystem, or on a block device itself,\n"
               "read-only) when a variant's calibration is missing, from another host or\n"
               "kernel, or older than %d days. Writes the runs and comparisons rows\n"
               "(variant \"<name>:sim\", baseline \"<name>\").\n",
               VAL_STALE_DAYS);
        return CMD_OK;
    }
    livecmd_args_t a;
    int rc = livecmd_parse("validate", argc, argv, &a);
    if (rc != CMD_OK) {
        livecmd_args_free(&a);
        return rc;
    }
    val_table_t tab = {0};
    val_reftab_t reftab = {0};
    reference_t ref;
    char *made = NULL;
    if (a.reference) {
        char err[1024];
        if (reference_load(a.reference, &ref, err, sizeof(err)) != 0) {
            fprintf(stderr, "latsurf validate: --reference %s\n", err);
            livecmd_args_free(&a);
            return CMD_BADINPUT;
        }
    }
    livecmd_signals(true);
    /* --rounds: every scenario once per round, in the same order; with
     * --recalibrate each round measures the host again, so each round's
     * simulation pairs with that round's live runs */
    for (size_t it = 0; it < a.rounds * a.nscenarios && rc == CMD_OK; it++) {
        uint32_t round = (uint32_t)(it / a.nscenarios);
        size_t k = it % a.nscenarios;
        if (k == 0 && round > 0 && a.recalibrate) {
            free(made);
            made = NULL;
        }
        if (k == 0 && a.rounds > 1 && !a.quiet)
            fprintf(stderr, "latsurf validate: round %u of %u\n", round + 1, a.rounds);
        liverun_t c;
        val_var_t *vv = NULL;
        a.run.scenario = a.scenarios[k];
        rc = livecmd_open(&a, &c);
        if (rc == CMD_OK && !(vv = calloc(c.s->nvar, sizeof(*vv))))
            rc = CMD_FAIL;
        if (rc == CMD_OK && a.reference) {
            /* every request's row, for the replay's span (a replay of the
             * recording has about as many requests) */
            uint64_t want = 2 * ref.requests + 1000;
            if (c.s->run.record_requests < want)
                c.s->run.record_requests = want > 10000000 ? 10000000 : (uint32_t)want;
        }
        if (rc == CMD_OK)
            rc = val_calibration(&a, &c, &made, round);
        if (rc == CMD_OK)
            rc = livecmd_run(&a, &c, val_on_live, vv);
        if (rc == CMD_OK)
            rc = val_simulate(&a, &c, vv, true);
        if (rc == CMD_OK)
            rc = val_report(&a, &c, vv, &tab, a.reference ? &ref : NULL, &reftab, round);
        size_t len = strlen(c.s ? c.s->name : "");
        char *cal = rc == CMD_OK ? runner_calibration(c.s, 0) : NULL, loo[4096];
        if (cal && len >= 7 && strcmp(c.s->name + len - 7, "qd1-far") == 0) {
            /* leave-one-out: the same live runs against a near-only calibration */
            snprintf(loo, sizeof(loo), "%s.near-only.json", cal);
            if (val_loo_file(cal, loo) == 0) {
                for (uint32_t v = 0; v < c.s->nvar; v++) {
                    free(c.s->var[v].host.calibration);
                    c.s->var[v].host.calibration = strdup(loo);
                    vv[v].have_sim = false;
                    vv[v].iops_sim = vv[v].cpu_sim = 0;
                    vv[v].n_sim = vv[v].ncpu_sim = 0;
                }
                val_table_t one = {0};
                rc = val_simulate(&a, &c, vv, false);
                char name[80];
                snprintf(name, sizeof(name), "%s", c.s->name);
                free(c.s->name);
                c.s->name = NULL;
                if (asprintf(&c.s->name, "%s leave-one-out", name) < 0)
                    c.s->name = NULL;
                if (rc == CMD_OK && c.s->name)
                    rc = val_report(&a, &c, vv, &one, NULL, NULL, round);
                for (size_t i = 0; i < one.n && rc == CMD_OK; i++)
                    if (val_table_add(&tab, &one.v[i]))
                        rc = CMD_FAIL;
                free(one.v);
                printf("leave-one-out: %s simulated with %s (the calibration without the "
                       "parameters that need a thread off the interrupt CPU: *cross*, ipi_*, "
                       "irq_busy_ns, remote_*, qd1_read_p50_cpu*, the cross completion chains; "
                       "the model's defaults stand in)\n", name, loo);
            }
        }
        free(cal);
        free(vv);
        liverun_close(&c);
    }
    livecmd_signals(false);
    for (uint32_t r = 0; tab.n && r < a.rounds; r++)
        val_print(&tab, a.rounds > 1 ? r : UINT32_MAX);
    if (tab.n && a.rounds > 1)
        val_print_median(&tab, a.rounds);
    if (reftab.n)
        val_print_ref(&reftab, &ref, a.reference);
    if (rc == CMD_OK)
        printf("\ncomparisons (variant \"<name>:sim\" against \"<name>\") written to %s\n",
               a.run.db);
    free(tab.v);
    free(reftab.v);
    free(made);
    livecmd_args_free(&a);
    return rc;
}
