/*
 * report.h - cross-replication summary of one scenario, read from a results
 * database: per variant and metric the mean with its 95% CI, the comparison
 * with the baseline (paired by replication when the runs share seeds, Welch
 * otherwise) and the winner; and the `comparisons` table filled from it.
 *
 * Only the latest run of each (scenario, mode, variant, replication) counts,
 * like the v_summary view, so re-running a scenario replaces its numbers.
 * The text/md/csv tables are in report_table.h, the HTML page in
 * report_html.h. Errors: REPORT_ERR (runtime) or REPORT_NOTFOUND (no such
 * scenario or baseline: bad input), with *err set (free with sqlite3_free).
 */
#ifndef LATSURF_REPORT_H
#define LATSURF_REPORT_H

#include "reports/stats.h"
#include "sim/metric.h"

#include <sqlite3.h>
#include <stddef.h>

enum { REPORT_ERR = -1, REPORT_NOTFOUND = -2 };

/* A metric's flags (direction, key, unit, plot group) come from the registry
 * in sim/metric.h; a name it does not hold (an older database) reads as
 * lower-is-better, not key, unitless. The key metrics, in registry order,
 * are the table `latsurf run` prints. */
typedef struct {
    char name[48];
    int id;             /* metric_id_t, -1 when the registry lacks the name */
    metric_better_t better;
    int *have;          /* [nvariant]: the variant has the metric */
    stats_ci_t *ci;     /* [nvariant] */
    stats_cmp_t *cmp;   /* [nvariant] against the baseline; have_cmp says valid */
    int *have_cmp;
    int winner;         /* variant index, -1 with fewer than two variants or
                           when the metric ranks nothing (METRIC_NEITHER) */
} report_metric_t;

typedef struct {
    char *scenario, *mode; /* mode: "sim" when any sim runs exist, else "live" */
    char **variant;        /* in order of first run */
    char **what_if;        /* [nvariant] runs.what_if of the variant's runs ("" = none:
                              a measurement of Linux/NVMe behaviour, not a hypothetical) */
    size_t nvariant;
    size_t base;           /* index of the baseline in variant[] */
    size_t nrep;           /* most replications of any variant */
    report_metric_t *metric;
    size_t nmetric;        /* key metrics first, then the rest by name */
} report_t;

/* Scenario names in the database, in order of first run; NULL-terminated
 * array, free with report_free_names. */
int report_scenarios(sqlite3 *db, char ***names, char **err);
void report_free_names(char **names);

/* Summarise `scenario`. baseline NULL: the variant named "baseline" if any,
 * else the first variant run. REPORT_NOTFOUND when the scenario has no runs
 * or the baseline is not one of its variants. */
int report_load(sqlite3 *db, const char *scenario, const char *baseline, report_t *out,
                char **err);
void report_free(report_t *r);

/* Replace the scenario's report-owned rows of `comparisons` (one
 * transaction, reports/compare.h; validate's rows stay): for every variant !=
 * baseline and every metric, the means, delta_pct, the CI of the difference
 * and whether it is significant. `latsurf run` calls this after all
 * replications; `latsurf report` refreshes it. */
int report_compare(sqlite3 *db, const char *scenario, const char *baseline, char **err);

/* Store a loaded summary in `comparisons` (what report_compare does). */
int report_store(sqlite3 *db, const report_t *r, char **err);

/* Index of metric `name` in r, or -1. */
int report_find_metric(const report_t *r, const char *name);

/* The what-if keys variant v ran with, or NULL when none. */
const char *report_what_if(const report_t *r, size_t v);

/* Is m a key metric (sim/metric.h)? */
int report_is_key(const report_metric_t *m);

#endif
