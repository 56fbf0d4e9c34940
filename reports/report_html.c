/*
 * report_html.c - see report_html.h. Each plot is one gnuplot script built
 * in memory with the data inline as datablocks; the page body is built in a
 * memory stream first so that a missing gnuplot can be announced at the top.
 */
#include "report_html.h"

#include "report.h"
#include "report_plot.h"
#include "report_table.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    sqlite3 *db;
    const report_t *r;
    FILE *out;
    int no_gnuplot; /* set by the first plot that finds gnuplot missing */
    int nplots;
} page_t;

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

static sqlite3_stmt *prep(page_t *p, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, p->r->scenario, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->r->mode, -1, SQLITE_STATIC);
    return st;
}

/* Run a finished script and put the SVG (or why there is none) in the page. */
static void emit_plot(page_t *p, const char *title, char *script, size_t len)
{
    fprintf(p->out, "<figure><figcaption>");
    esc(p->out, title);
    fprintf(p->out, "</figcaption>\n");
    char *svg = NULL, *err = NULL;
    int rc = p->no_gnuplot ? -ENOENT : report_plot_svg(script, len, &svg, &err);
    if (rc == 0) {
        fputs(svg, p->out);
        p->nplots++;
    } else if (rc == -ENOENT) {
        p->no_gnuplot = 1;
        fputs("<p class=\"warn\">plot omitted: gnuplot not found</p>", p->out);
    } else {
        fputs("<p class=\"warn\">gnuplot failed: ", p->out);
        esc(p->out, err ? err : strerror(-rc));
        fputs("</p>", p->out);
    }
    fputs("</figure>\n", p->out);
    free(svg);
    free(err);
    free(script);
}

static FILE *script_open(char **buf, size_t *len, const char *title, int height)
{
    FILE *s = open_memstream(buf, len);
    if (!s)
        return NULL;
    /* The figure caption carries the title; the script names it for
     * whoever reads a failing script. */
    fprintf(s, "# %s\n" REPORT_PLOT_TERMINAL, title, height);
    fputs("set grid\nset border 3\nset tics nomirror\n", s);
    return s;
}

/* CDF and tail (1 - CDF) of a histogram metric, all replications merged. */
static void plot_cdf(page_t *p, const char *hist, const char *what)
{
    sqlite3_stmt *st = prep(p, "SELECT h.hi_ns, sum(h.count) FROM v_latest_runs r JOIN "
                               "histograms h ON h.run_id = r.run_id WHERE r.scenario=?1 AND "
                               "r.mode=?2 AND r.variant=?3 AND h.metric=?4 "
                               "GROUP BY h.lo_ns, h.hi_ns ORDER BY h.lo_ns");
    if (!st)
        return;
    sqlite3_bind_text(st, 4, hist, -1, SQLITE_STATIC);
    char *b[2];
    size_t n[2];
    FILE *s[2];
    char title[2][160];
    snprintf(title[0], sizeof(title[0]), "%s CDF (%s, replications merged)", what, hist);
    snprintf(title[1], sizeof(title[1]), "%s tail: fraction of requests slower than x (%s)", what,
             hist);
    for (int k = 0; k < 2; k++) {
        s[k] = script_open(&b[k], &n[k], title[k], 380);
        if (!s[k]) {
            if (k)
                fclose(s[0]), free(b[0]);
            sqlite3_finalize(st);
            return;
        }
        fprintf(s[k], "set logscale x\nset xlabel 'time (us), log scale'\nset key %s\n",
                k ? "top right" : "bottom right");
    }
    fputs("set yrange [0:1]\nset ylabel 'fraction of requests <= x'\n", s[0]);
    fputs("set logscale y\nset format y '%g'\nset ylabel 'fraction > x, log scale'\n", s[1]);
    for (size_t v = 0; v < p->r->nvariant; v++) {
        sqlite3_bind_text(st, 3, p->r->variant[v], -1, SQLITE_STATIC);
        double total = 0;
        while (sqlite3_step(st) == SQLITE_ROW)
            total += sqlite3_column_double(st, 1);
        sqlite3_reset(st);
        for (int k = 0; k < 2; k++)
            fprintf(s[k], "$d%zu << EOD\n", v);
        double cum = 0;
        while (total > 0 && sqlite3_step(st) == SQLITE_ROW) {
            double x = sqlite3_column_double(st, 0) / 1e3;
            cum += sqlite3_column_double(st, 1);
            x = x > 1e-3 ? x : 1e-3;
            fprintf(s[0], "%.6g %.6g\n", x, cum / total);
            if (total - cum > 0)
                fprintf(s[1], "%.6g %.6g\n", x, (total - cum) / total);
        }
        sqlite3_reset(st);
        for (int k = 0; k < 2; k++)
            fputs("EOD\n", s[k]);
    }
    sqlite3_finalize(st);
    for (int k = 0; k < 2; k++) {
        fputs("plot ", s[k]);
        for (size_t v = 0; v < p->r->nvariant; v++) {
            char q[160];
            report_plot_quote(p->r->variant[v], q, sizeof(q));
            fprintf(s[k], "%s$d%zu using 1:2 with steps lw 2 title %s", v ? ", " : "", v, q);
        }
        fputc('\n', s[k]);
        fclose(s[k]);
        emit_plot(p, title[k], b[k], n[k]);
    }
}

/* Stacked per-stage mean per variant, and the same numbers as a table. */
static void plot_stages(page_t *p)
{
    enum { MAXST = 16 };
    const report_t *r = p->r;
    sqlite3_stmt *st = prep(p, "SELECT variant, stage, mean_ns, share FROM v_stage_breakdown "
                               "WHERE scenario=?1 AND mode=?2 ORDER BY stage_order, stage");
    if (!st)
        return;
    char stage[MAXST][24];
    size_t ns = 0;
    double *mean = calloc(r->nvariant * MAXST, sizeof(*mean));
    double *share = calloc(r->nvariant * MAXST, sizeof(*share));
    while (mean && share && sqlite3_step(st) == SQLITE_ROW) {
        size_t v = 0, k = 0;
        while (v < r->nvariant && strcmp(r->variant[v], col(st, 0)) != 0)
            v++;
        while (k < ns && strcmp(stage[k], col(st, 1)) != 0)
            k++;
        if (v == r->nvariant || (k == ns && ns == MAXST))
            continue;
        if (k == ns)
            snprintf(stage[ns++], sizeof(stage[0]), "%s", col(st, 1));
        mean[v * MAXST + k] = sqlite3_column_double(st, 2);
        share[v * MAXST + k] = sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    if (ns && mean && share) {
        fputs("<h3>Per-stage breakdown</h3>\n", p->out);
        char *b;
        size_t n;
        const char *t = "Mean time per request by stage (us): the latency equation term by term";
        FILE *s = script_open(&b, &n, t, 460);
        if (s) {
            fputs("set style data histograms\nset style histogram rowstacked\n"
                  "set style fill solid 0.85 border -1\nset boxwidth 0.6\nset yrange [0:*]\n"
                  "set ylabel 'us per request'\nset key outside right top\n$s << EOD\nvariant",
                  s);
            for (size_t k = 0; k < ns; k++)
                fprintf(s, " %s", stage[k]);
            for (size_t v = 0; v < r->nvariant; v++) {
                fputs("\n\"", s);
                for (const char *c = r->variant[v]; *c; c++)
                    fputc(*c == '"' ? '\'' : *c, s);
                fputc('"', s);
                for (size_t k = 0; k < ns; k++)
                    fprintf(s, " %.6g", mean[v * MAXST + k] / 1e3);
            }
            fprintf(s, "\nEOD\nplot for [i=2:%zu] $s using i:xtic(1) title columnheader(i)\n",
                    ns + 1);
            fclose(s);
            emit_plot(p, t, b, n);
        }
        fputs("<table><tr><th>stage</th>", p->out);
        for (size_t v = 0; v < r->nvariant; v++) {
            fputs("<th>", p->out);
            esc(p->out, r->variant[v]);
            fputs("</th>", p->out);
        }
        fputs("</tr>\n", p->out);
        for (size_t k = 0; k < ns; k++) {
            fprintf(p->out, "<tr><td>%s</td>", stage[k]);
            for (size_t v = 0; v < r->nvariant; v++)
                fprintf(p->out, "<td>%.3f us (%.1f%%)</td>", mean[v * MAXST + k] / 1e3,
                        100.0 * share[v * MAXST + k]);
            fputs("</tr>\n", p->out);
        }
        fputs("</table>\n", p->out);
    }
    free(mean);
    free(share);
}

/* The bar charts: one per plot group of the metric registry (sim/metric.h). */
static const struct {
    const char *title, *ylabel;
    double div;
} bar_chart[METRIC_NPLOT] = {
    [METRIC_PLOT_LATENCY] = {"Latency quantiles (mean of replications, 95% CI)", "us", 1e3},
    [METRIC_PLOT_RATES] = {"Rates (percent, 95% CI)", "percent", 0.01},
    [METRIC_PLOT_STEP_STALL] = {"Step stall quantiles (95% CI)", "us", 1e3},
    [METRIC_PLOT_GPU_GAP] = {"Storage-to-GPU gap quantiles (95% CI)", "us", 1e3},
};

/* Indices in p->r of the group's metrics, in registry order (at most 8). */
static int bar_metrics(const page_t *p, metric_plot_t group, int idx[8])
{
    int k = 0;
    for (int id = 0; id < METRIC_N && k < 8; id++)
        if (metric_info[id].plot == group &&
            (idx[k] = report_find_metric(p->r, metric_info[id].name)) >= 0)
            k++;
    return k;
}

/* Clustered bars with 95% CI error bars, one cluster per variant. */
static void plot_bars(page_t *p, metric_plot_t group)
{
    const report_t *r = p->r;
    const char *title = bar_chart[group].title, *ylabel = bar_chart[group].ylabel;
    double div = bar_chart[group].div;
    int idx[8], k = bar_metrics(p, group, idx);
    if (!k)
        return;
    char *b;
    size_t n;
    FILE *s = script_open(&b, &n, title, 380);
    if (!s)
        return;
    fprintf(s, "set style data histograms\nset style histogram errorbars gap 2 lw 1\n"
               "set style fill solid 0.8 border -1\nset yrange [0:*]\nset ylabel '%s'\n"
               "set key outside right top\n$b << EOD\n",
            ylabel);
    for (size_t v = 0; v < r->nvariant; v++) {
        fputc('"', s);
        for (const char *c = r->variant[v]; *c; c++)
            fputc(*c == '"' ? '\'' : *c, s);
        fputc('"', s);
        for (int i = 0; i < k; i++) {
            const report_metric_t *m = &r->metric[idx[i]];
            double y = m->have[v] ? m->ci[v].mean / div : 0.0;
            double e = m->have[v] && isfinite(m->ci[v].half) ? m->ci[v].half / div : 0.0;
            fprintf(s, " %.6g %.6g", y, e);
        }
        fputc('\n', s);
    }
    fputs("EOD\nplot ", s);
    for (int i = 0; i < k; i++)
        fprintf(s, "%s$b using %d:%d%s title '%s'", i ? ", " : "", 2 + 2 * i, 3 + 2 * i,
                i ? "" : ":xtic(1)", r->metric[idx[i]].name);
    fputc('\n', s);
    fclose(s);
    emit_plot(p, title, b, n);
}

static void summary_table(page_t *p)
{
    const report_t *r = p->r;
    fputs("<table class=\"summary\"><tr><th>metric</th>", p->out);
    for (size_t v = 0; v < r->nvariant; v++) {
        fputs("<th>", p->out);
        esc(p->out, r->variant[v]);
        fputs(v == r->base ? " (baseline)" : "", p->out);
        fputs(report_what_if(r, v) ? " <span class=\"warn\">[what-if]</span></th>" : "</th>",
              p->out);
    }
    fputs("</tr>\n", p->out);
    for (size_t mi = 0; mi < r->nmetric; mi++) {
        const report_metric_t *m = &r->metric[mi];
        fprintf(p->out, "<tr><td>%s</td>", m->name);
        for (size_t v = 0; v < r->nvariant; v++) {
            char c[128];
            report_table_cell(r, m, v, c, sizeof(c));
            int ns = v != r->base && m->have_cmp[v] && !m->cmp[v].significant;
            fprintf(p->out, "<td class=\"%s%s\">", m->winner == (int)v ? "win " : "",
                    ns ? "ns" : "");
            esc(p->out, c);
            fputs("</td>", p->out);
        }
        fputs("</tr>\n", p->out);
    }
    fprintf(p->out,
            "</table>\n<p class=\"note\">mean ± 95%% CI half-width over replications; (%%) "
            "change vs the baseline; <b>*</b> best; ~ (grey) not significant: the 95%% CI of "
            "the difference to the baseline includes 0.</p>\n");
}

static void provenance(page_t *p)
{
    sqlite3_stmt *st = prep(
        p, "SELECT count(*), count(DISTINCT replication), min(seed), max(seed),"
           " group_concat(DISTINCT version), group_concat(DISTINCT host),"
           " group_concat(DISTINCT calibration), min(started_at), max(started_at),"
           " (SELECT scenario_json FROM runs WHERE scenario=?1 AND mode=?2 ORDER BY run_id DESC"
           "  LIMIT 1), max(run_id)"
           " FROM v_latest_runs WHERE scenario=?1 AND mode=?2");
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return;
    }
    const report_t *r = p->r;
    fputs("<table class=\"prov\">\n<tr><th>scenario</th><td>", p->out);
    esc(p->out, r->scenario);
    fprintf(p->out, " (%s)</td></tr>\n<tr><th>variants</th><td>", r->mode);
    for (size_t v = 0; v < r->nvariant; v++) {
        fputs(v ? ", " : "", p->out);
        esc(p->out, r->variant[v]);
        fputs(v == r->base ? " (baseline)" : "", p->out);
    }
    fprintf(p->out,
            "</td></tr>\n<tr><th>runs</th><td>%d runs, %d replications, seeds %lld..%lld"
            "</td></tr>\n",
            sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
            (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3));
    static const char *const label[] = {"latsurf version", "host", "calibration"};
    for (int i = 0; i < 3; i++) {
        fprintf(p->out, "<tr><th>%s</th><td>", label[i]);
        esc(p->out, *col(st, 4 + i) ? col(st, 4 + i) : "(none)");
        fputs("</td></tr>\n", p->out);
    }
    fputs("<tr><th>started</th><td>", p->out);
    esc(p->out, col(st, 7));
    fputs(" .. ", p->out);
    esc(p->out, col(st, 8));
    fputs("</td></tr>\n</table>\n", p->out);
    if (*col(st, 9)) {
        json_error_t je;
        json_t *j = json_loads(col(st, 9), 0, &je);
        char *pretty = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        fputs("<details><summary>scenario as run</summary><pre>", p->out);
        esc(p->out, pretty ? pretty : col(st, 9));
        fputs("</pre></details>\n", p->out);
        free(pretty);
        json_decref(j);
    }
    sqlite3_int64 last = sqlite3_column_int64(st, 10);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(p->db,
                           "SELECT name, value, unit, samples, source FROM calibration WHERE "
                           "run_id=?1 ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, last);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (!rows++)
            fputs("<details><summary>calibration used</summary><table><tr><th>name</th>"
                  "<th>value</th><th>unit</th><th>samples</th><th>source</th></tr>\n",
                  p->out);
        fputs("<tr>", p->out);
        for (int i = 0; i < 5; i++) {
            fputs("<td>", p->out);
            esc(p->out, col(st, i));
            fputs("</td>", p->out);
        }
        fputs("</tr>\n", p->out);
    }
    if (rows)
        fputs("</table></details>\n", p->out);
    sqlite3_finalize(st);
}

/* Histogram names of the scenario: the latency one, step stall, GPU gap. */
static void find_hists(page_t *p, char lat[48], char stall[48], char gap[48])
{
    lat[0] = stall[0] = gap[0] = '\0';
    sqlite3_stmt *st = prep(p, "SELECT DISTINCT h.metric FROM v_latest_runs r JOIN histograms h"
                               " ON h.run_id = r.run_id WHERE r.scenario=?1 AND r.mode=?2"
                               " ORDER BY h.metric");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *m = col(st, 0);
        if (strcmp(m, "lat_ns") == 0 || (!lat[0] && strncmp(m, "lat", 3) == 0))
            snprintf(lat, 48, "%s", m);
        if (!stall[0] && strncmp(m, "step_stall", 10) == 0)
            snprintf(stall, 48, "%s", m);
        if (!gap[0] && strncmp(m, "storage_to_gpu_gap", 18) == 0)
            snprintf(gap, 48, "%s", m);
    }
    sqlite3_finalize(st);
}

/* A variant that ran with a what-if is a hypothetical, not a measurement of
 * what Linux or an NVMe device does: say so before any number. */
static void what_if_banner(page_t *p)
{
    const report_t *r = p->r;
    for (size_t v = 0; v < r->nvariant; v++) {
        if (!report_what_if(r, v))
            continue;
        fputs("<p class=\"warn\">WHAT-IF: variant ", p->out);
        esc(p->out, r->variant[v]);
        fputs(" ran with mechanisms no Linux host or NVMe device offers (a hypothetical, not a "
              "measurement): ",
              p->out);
        esc(p->out, r->what_if[v]);
        fputs("</p>\n", p->out);
    }
}

static void scenario_section(page_t *p)
{
    fputs("<section>\n<h2>Scenario ", p->out);
    esc(p->out, p->r->scenario);
    fputs("</h2>\n", p->out);
    what_if_banner(p);
    provenance(p);
    fputs("<h3>Summary</h3>\n", p->out);
    summary_table(p);
    char lat[48], stall[48], gap[48];
    find_hists(p, lat, stall, gap);
    fputs("<h3>Latency</h3>\n", p->out);
    if (lat[0])
        plot_cdf(p, lat, "Latency");
    int idx[8];
    plot_bars(p, METRIC_PLOT_LATENCY);
    plot_stages(p);
    fputs("<h3>Locality, deferral, registration</h3>\n", p->out);
    plot_bars(p, METRIC_PLOT_RATES);
    if (stall[0] || bar_metrics(p, METRIC_PLOT_STEP_STALL, idx))
        fputs("<h3>Step stall</h3>\n", p->out);
    if (stall[0])
        plot_cdf(p, stall, "Step stall");
    plot_bars(p, METRIC_PLOT_STEP_STALL);
    if (gap[0] || bar_metrics(p, METRIC_PLOT_GPU_GAP, idx))
        fputs("<h3>Storage to GPU gap</h3>\n", p->out);
    if (gap[0])
        plot_cdf(p, gap, "Storage-to-GPU gap");
    plot_bars(p, METRIC_PLOT_GPU_GAP);
    fputs("</section>\n", p->out);
}

static const char css[] =
    "body{font-family:sans-serif;max-width:1060px;margin:1em auto;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    ".prov td{text-align:left}td.win{font-weight:bold}td.ns{color:#888}"
    ".warn{color:#a00;font-weight:bold}.note{color:#555;font-size:90%}"
    "figure{margin:1em 0}figcaption{font-weight:bold;margin-bottom:.3em}"
    "svg{max-width:100%;height:auto}pre{background:#f7f7f7;padding:.5em;overflow:auto}";

int report_html_write(sqlite3 *db, const char *scenario, const char *baseline,
                      const char *source, FILE *out, char **err)
{
    char **names = NULL, *one[] = {(char *)scenario, NULL};
    *err = NULL;
    if (!scenario && report_scenarios(db, &names, err))
        return -1;
    char **list = scenario ? one : names;
    if (!list[0]) {
        report_free_names(names);
        *err = sqlite3_mprintf("the database has no runs");
        return REPORT_NOTFOUND;
    }
    char *body = NULL;
    size_t blen = 0;
    FILE *bf = open_memstream(&body, &blen);
    if (!bf) {
        report_free_names(names);
        *err = sqlite3_mprintf("out of memory");
        return -1;
    }
    page_t p = {.db = db, .out = bf};
    int rc = 0;
    for (size_t i = 0; list[i] && rc == 0; i++) {
        report_t r;
        if ((rc = report_load(db, list[i], baseline, &r, err)) != 0)
            break;
        p.r = &r;
        scenario_section(&p);
        report_free(&r);
    }
    fclose(bf);
    report_free_names(names);
    if (rc == 0) {
        char when[32];
        time_t now = time(NULL);
        struct tm tm;
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", gmtime_r(&now, &tm));
        fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>latsurf report</title><style>%s</style></head><body>\n"
                     "<h1>latsurf report</h1>\n<p class=\"note\">from ",
                css);
        esc(out, source ? source : "(database)");
        fprintf(out, ", generated %s</p>\n", when);
        if (p.no_gnuplot)
            fputs("<p class=\"warn\">gnuplot was not found, so this page has no plots: "
                  "install Debian package gnuplot-nox (scripts/deps.sh) and run "
                  "<code>latsurf report DB --html FILE</code> again.</p>\n",
                  out);
        fwrite(body, 1, blen, out);
        fputs("</body></html>\n", out);
        if (ferror(out)) {
            *err = sqlite3_mprintf("writing the HTML report: %s", strerror(errno));
            rc = -1;
        }
    }
    free(body);
    return rc;
}

int report_html_file(sqlite3 *db, const char *scenario, const char *baseline,
                     const char *source, const char *path, char **err)
{
    size_t n = strlen(path) + 8;
    char *tmp = malloc(n);
    if (!tmp) {
        *err = sqlite3_mprintf("out of memory");
        return -1;
    }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        *err = sqlite3_mprintf("%s: %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }
    int rc = report_html_write(db, scenario, baseline, source, f, err);
    if (fclose(f) != 0 && rc == 0) {
        *err = sqlite3_mprintf("%s: %s", tmp, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        *err = sqlite3_mprintf("%s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc)
        remove(tmp);
    free(tmp);
    return rc;
}
