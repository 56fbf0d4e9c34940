/*
 * report.c - see report.h. Loads every (variant, replication, metric) value
 * of a scenario in one query and does the statistics in C with GSL, so the
 * numbers do not depend on the SQLite build (v_summary is the SQL mirror).
 */
#include "report.h"

#include "reports/compare.h"
#include "sim/vec.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t v, m;
    int64_t rep, seed;
    double x;
} row_t;

static int fail(char **err, sqlite3 *db, const char *what)
{
    *err = sqlite3_mprintf("%s: %s", what, sqlite3_errmsg(db));
    return -1;
}

static char *dup(const unsigned char *s)
{
    return strdup(s ? (const char *)s : "");
}

int report_scenarios(sqlite3 *db, char ***names, char **err)
{
    sqlite3_stmt *st;
    *names = NULL;
    if (sqlite3_prepare_v2(db, "SELECT scenario FROM runs GROUP BY scenario ORDER BY min(run_id)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(err, db, "reading runs");
    size_t n = 0, cap = 0;
    char **v = NULL;
    if (VEC_RESERVE(v, cap, 1) == 0)
        v[0] = NULL; /* the list ends with a NULL */
    int rc;
    while (v && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (VEC_RESERVE(v, cap, n + 2) != 0)
            break;
        v[n++] = dup(sqlite3_column_text(st, 0));
        v[n] = NULL;
    }
    sqlite3_finalize(st);
    if (!v || rc != SQLITE_DONE) {
        report_free_names(v);
        *err = sqlite3_mprintf("reading runs: %s", v ? sqlite3_errmsg(db) : "out of memory");
        return -1;
    }
    *names = v;
    return 0;
}

void report_free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

int report_find_metric(const report_t *r, const char *name)
{
    for (size_t i = 0; i < r->nmetric; i++)
        if (strcmp(r->metric[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *report_what_if(const report_t *r, size_t v)
{
    return r->what_if && v < r->nvariant && r->what_if[v] && r->what_if[v][0] ? r->what_if[v]
                                                                              : NULL;
}

int report_is_key(const report_metric_t *m) { return m->id >= 0 && metric_info[m->id].key; }

/* Key metrics first, in registry order, then the rest by name. */
static int metric_order(const void *a, const void *b)
{
    const report_metric_t *x = a, *y = b;
    int kx = report_is_key(x), ky = report_is_key(y);
    if (kx != ky)
        return ky - kx;
    if (kx)
        return x->id - y->id;
    return strcmp(x->name, y->name);
}

/* Which what-ifs each variant's runs used. A file from before the column
 * (opened read-only, so not migrated) has none. */
static int load_what_if(sqlite3 *db, report_t *r)
{
    if (!(r->what_if = calloc(r->nvariant ? r->nvariant : 1, sizeof(*r->what_if))))
        return -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT variant, max(what_if) FROM v_latest_runs WHERE scenario=?1 AND "
                           "mode=?2 GROUP BY variant",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, r->scenario, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, r->mode, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW)
            for (size_t v = 0; v < r->nvariant; v++)
                if (!r->what_if[v] &&
                    strcmp(r->variant[v], (const char *)sqlite3_column_text(st, 0)) == 0)
                    r->what_if[v] = dup(sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
    }
    for (size_t v = 0; v < r->nvariant; v++)
        if (!r->what_if[v] && !(r->what_if[v] = dup(NULL)))
            return -1;
    return 0;
}

/* Variants and metric names; everything else is filled by summarise(). */
static int load_axes(sqlite3 *db, report_t *r, char **err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT variant, count(*) FROM v_latest_runs WHERE scenario=?1 AND "
                           "mode=?2 GROUP BY variant ORDER BY min(run_id)",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(err, db, "reading runs");
    sqlite3_bind_text(st, 1, r->scenario, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->mode, -1, SQLITE_STATIC);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (VEC_PUSH(r->variant, r->nvariant, cap, dup(sqlite3_column_text(st, 0))) != 0)
            goto oom;
        size_t n = (size_t)sqlite3_column_int64(st, 1);
        if (n > r->nrep)
            r->nrep = n;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(err, db, "reading runs");
    if (sqlite3_prepare_v2(db,
                           "SELECT DISTINCT m.name FROM v_latest_runs r JOIN metrics m ON "
                           "m.run_id = r.run_id WHERE r.scenario=?1 AND r.mode=?2",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(err, db, "reading metrics");
    sqlite3_bind_text(st, 1, r->scenario, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->mode, -1, SQLITE_STATIC);
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (VEC_RESERVE(r->metric, cap, r->nmetric + 1) != 0)
            goto oom;
        report_metric_t *m = &r->metric[r->nmetric++];
        memset(m, 0, sizeof(*m));
        snprintf(m->name, sizeof(m->name), "%s", (const char *)sqlite3_column_text(st, 0));
        m->id = metric_find(m->name);
        m->better = m->id >= 0 ? metric_info[m->id].better : METRIC_LOWER;
        m->winner = -1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(err, db, "reading metrics");
    if (r->nmetric)
        qsort(r->metric, r->nmetric, sizeof(*r->metric), metric_order);
    return 0;
oom:
    sqlite3_finalize(st);
    *err = sqlite3_mprintf("out of memory");
    return -1;
}

static size_t index_of(char **v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return i;
    return SIZE_MAX;
}

static int load_rows(sqlite3 *db, const report_t *r, row_t **rows, size_t *nrows, char **err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT r.variant, r.replication, r.seed, m.name, m.value FROM "
                           "v_latest_runs r JOIN metrics m ON m.run_id = r.run_id WHERE "
                           "r.scenario=?1 AND r.mode=?2 AND m.value IS NOT NULL "
                           "ORDER BY r.replication",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(err, db, "reading metrics");
    sqlite3_bind_text(st, 1, r->scenario, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->mode, -1, SQLITE_STATIC);
    size_t n = 0, cap = 0;
    row_t *v = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (VEC_RESERVE(v, cap, n + 1) != 0) {
            free(v);
            sqlite3_finalize(st);
            *err = sqlite3_mprintf("out of memory");
            return -1;
        }
        int mi = report_find_metric(r, (const char *)sqlite3_column_text(st, 3));
        size_t vi = index_of(r->variant, r->nvariant, (const char *)sqlite3_column_text(st, 0));
        if (mi < 0 || vi == SIZE_MAX)
            continue;
        v[n++] = (row_t){vi, (size_t)mi, sqlite3_column_int64(st, 1),
                         sqlite3_column_int64(st, 2), sqlite3_column_double(st, 4)};
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(v);
        return fail(err, db, "reading metrics");
    }
    *rows = v;
    *nrows = n;
    return 0;
}

/* Values of (variant, metric), in replication order; returns the count. */
static size_t pick(const row_t *rows, size_t n, size_t v, size_t m, double *x, int64_t *rep,
                   int64_t *seed)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].v == v && rows[i].m == m) {
            x[k] = rows[i].x;
            rep[k] = rows[i].rep;
            seed[k] = rows[i].seed;
            k++;
        }
    return k;
}

static int summarise(report_t *r, const row_t *rows, size_t nrows)
{
    size_t nv = r->nvariant, cap = r->nrep ? r->nrep : 1;
    double *x = malloc(2 * cap * sizeof(*x));
    int64_t *meta = malloc(4 * cap * sizeof(*meta));
    if (!x || !meta) {
        free(x);
        free(meta);
        return -ENOMEM;
    }
    double *bx = x + cap;
    int64_t *rep = meta, *seed = meta + cap, *brep = meta + 2 * cap, *bseed = meta + 3 * cap;
    int live = strcmp(r->mode, "sim") != 0;
    for (size_t mi = 0; mi < r->nmetric; mi++) {
        report_metric_t *m = &r->metric[mi];
        m->have = calloc(nv, sizeof(*m->have));
        m->have_cmp = calloc(nv, sizeof(*m->have_cmp));
        m->ci = calloc(nv, sizeof(*m->ci));
        m->cmp = calloc(nv, sizeof(*m->cmp));
        if (!m->have || !m->have_cmp || !m->ci || !m->cmp)
            goto oom;
        size_t nb = pick(rows, nrows, r->base, mi, bx, brep, bseed);
        for (size_t v = 0; v < nv; v++) {
            size_t n = pick(rows, nrows, v, mi, x, rep, seed);
            if (!n || stats_ci(x, n, STATS_LEVEL, &m->ci[v]))
                continue;
            m->have[v] = 1;
            if (v == r->base || !nb)
                continue;
            /* Common random numbers pair replication i of every variant
             * only when the replication sets and their seeds coincide. */
            int paired = !live && n == nb;
            for (size_t i = 0; paired && i < n; i++)
                paired = rep[i] == brep[i] && seed[i] == bseed[i];
            int rc = paired ? stats_paired(x, bx, n, STATS_LEVEL, &m->cmp[v])
                            : stats_unpaired(x, n, bx, nb, STATS_LEVEL, &m->cmp[v]);
            m->have_cmp[v] = rc == 0;
        }
        int nhave = 0;
        for (size_t v = 0; v < nv; v++) {
            if (!m->have[v])
                continue;
            nhave++;
            double a = m->ci[v].mean;
            if (m->winner < 0)
                m->winner = (int)v;
            double w = m->ci[m->winner].mean;
            if (m->better == METRIC_HIGHER ? a > w : a < w)
                m->winner = (int)v;
        }
        if (nhave < 2 || m->better == METRIC_NEITHER)
            m->winner = -1;
    }
    free(x);
    free(meta);
    return 0;
oom:
    free(x);
    free(meta);
    return -ENOMEM;
}

static int pick_mode(sqlite3 *db, report_t *r, char **err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT mode FROM runs WHERE scenario=?1 GROUP BY mode "
                           "ORDER BY mode='sim' DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(err, db, "reading runs");
    sqlite3_bind_text(st, 1, r->scenario, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        r->mode = dup(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (!r->mode) {
        *err = sqlite3_mprintf("no runs of scenario '%s' in the database", r->scenario);
        return REPORT_NOTFOUND;
    }
    return 0;
}

int report_load(sqlite3 *db, const char *scenario, const char *baseline, report_t *out,
                char **err)
{
    memset(out, 0, sizeof(*out));
    *err = NULL;
    int rc = REPORT_ERR;
    out->scenario = strdup(scenario);
    if (!out->scenario)
        goto oom;
    if ((rc = pick_mode(db, out, err)) != 0 || (rc = load_axes(db, out, err)) != 0)
        goto fail;
    if (load_what_if(db, out) != 0)
        goto oom;
    size_t b = index_of(out->variant, out->nvariant, baseline ? baseline : "baseline");
    if (b == SIZE_MAX && baseline) {
        *err = sqlite3_mprintf("scenario '%s' has no variant '%s'", scenario, baseline);
        rc = REPORT_NOTFOUND;
        goto fail;
    }
    out->base = b == SIZE_MAX ? 0 : b;
    row_t *rows;
    size_t nrows;
    if ((rc = load_rows(db, out, &rows, &nrows, err)) != 0)
        goto fail;
    rc = summarise(out, rows, nrows);
    free(rows);
    if (rc)
        goto oom;
    return 0;
oom:
    rc = REPORT_ERR;
    *err = sqlite3_mprintf("out of memory");
fail:
    report_free(out);
    return rc;
}

void report_free(report_t *r)
{
    for (size_t i = 0; i < r->nvariant; i++) {
        free(r->variant[i]);
        if (r->what_if)
            free(r->what_if[i]);
    }
    free(r->what_if);
    for (size_t i = 0; i < r->nmetric; i++) {
        free(r->metric[i].have);
        free(r->metric[i].have_cmp);
        free(r->metric[i].ci);
        free(r->metric[i].cmp);
    }
    free(r->variant);
    free(r->metric);
    free(r->scenario);
    free(r->mode);
    memset(r, 0, sizeof(*r));
}

int report_store(sqlite3 *db, const report_t *r, char **err)
{
    size_t n = 0;
    compare_row_t *rows = malloc((r->nmetric * r->nvariant + 1) * sizeof(*rows));
    if (!rows) {
        *err = sqlite3_mprintf("out of memory");
        return -1;
    }
    for (size_t mi = 0; mi < r->nmetric; mi++) {
        const report_metric_t *m = &r->metric[mi];
        for (size_t v = 0; v < r->nvariant; v++) {
            if (!m->have_cmp[v])
                continue;
            const stats_cmp_t *c = &m->cmp[v];
            rows[n++] = (compare_row_t){
                .variant = r->variant[v], .baseline = r->variant[r->base], .metric = m->name,
                .value = c->value, .baseline_value = c->baseline_value,
                .delta_pct = c->delta_pct, .ci_low = c->diff.lo, .ci_high = c->diff.hi,
                .significant = c->significant,
            };
        }
    }
    int rc = compare_replace(db, r->scenario, COMPARE_REPORT, rows, n, err);
    free(rows);
    return rc;
}

int report_compare(sqlite3 *db, const char *scenario, const char *baseline, char **err)
{
    report_t r;
    int rc = report_load(db, scenario, baseline, &r, err);
    if (rc)
        return rc;
    rc = report_store(db, &r, err);
    report_free(&r);
    return rc;
}
