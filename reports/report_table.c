/*
 * report_table.c - see report_table.h. Cells are formatted once into strings
 * and the columns sized from them, so text and Markdown show the same thing.
 */
#include "report_table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int report_format_parse(const char *s, report_format_t *f)
{
    static const char *const names[] = {"text", "md", "csv"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == REPORT_NFORMATS, "one name per format");
    for (int i = 0; i < REPORT_NFORMATS; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (report_format_t)i;
            return 0;
        }
    return -EINVAL;
}

/* Unit and divisor for a metric, chosen from a reference magnitude so that a
 * row reads in one unit; the metric's unit comes from the registry
 * (sim/metric.h), and a name it lacks prints as a plain number. */
static const char *unit_of(const char *metric, double ref, double *div)
{
    static const struct { double d; const char *u; } time[] = {
        {1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
    static const struct { double d; const char *u; } si[] = {{1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    int id = metric_find(metric);
    ref = fabs(ref);
    *div = 1.0;
    switch (id < 0 ? METRIC_UNIT_COUNT : metric_info[id].unit) {
    case METRIC_UNIT_NS:
        for (int i = 0; i < 3; i++)
            if (ref >= time[i].d) {
                *div = time[i].d;
                return time[i].u;
            }
        return "ns";
    case METRIC_UNIT_FRACTION:
        *div = 0.01;
        return "%";
    case METRIC_UNIT_PER_S:
    case METRIC_UNIT_BYTES_PER_S:
        for (int i = 0; i < 3; i++)
            if (ref >= si[i].d) {
                *div = si[i].d;
                return si[i].u;
            }
        return "";
    default:
        return "";
    }
}

void report_format_value(const char *metric, double x, double half, double scale_ref, char *buf,
                         size_t len)
{
    double div;
    const char *u = unit_of(metric, scale_ref, &div);
    double a = fabs(scale_ref / div);
    int pct = strcmp(u, "%") == 0;
    int dec = pct ? (a >= 10 ? 1 : 2) : a >= 100 ? 1 : a >= 10 ? 2 : 3;
    if (!*u && a >= 1000)
        dec = 0;
    int n = snprintf(buf, len, "%.*f%s%s", dec, x / div, *u && !pct ? " " : "", u);
    if (n > 0 && (size_t)n < len && isfinite(half) && half >= 0)
        snprintf(buf + n, len - (size_t)n, " ± %.*f", dec, half / div);
}

/* Display columns of a UTF-8 string ("±" is two bytes, one column). */
static int cols(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void pad(FILE *out, const char *s, int width)
{
    fputs(s, out);
    for (int k = cols(s); k < width; k++)
        fputc(' ', out);
}

static int shown(const report_metric_t *m, int all) { return all || report_is_key(m); }

#define CELL 96

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t n = strlen(buf);
    if (n + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, len - n, fmt, ap);
    va_end(ap);
}

void report_table_cell(const report_t *r, const report_metric_t *m, size_t v, char *buf,
                       size_t len)
{
    if (!m->have[v]) {
        snprintf(buf, len, "-");
        return;
    }
    double ref = fabs(m->ci[r->base].mean);
    if (!m->have[r->base] || ref == 0.0)
        ref = fabs(m->ci[v].mean);
    report_format_value(m->name, m->ci[v].mean, m->ci[v].half, ref, buf, len);
    if (v != r->base && m->have_cmp[v] && isfinite(m->cmp[v].delta_pct))
        append(buf, len, " (%+.1f%%)", m->cmp[v].delta_pct);
    if (v != r->base && m->have_cmp[v] && !m->cmp[v].significant)
        append(buf, len, " ~");
    if (m->winner == (int)v)
        append(buf, len, " *");
}

static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void csv_num(FILE *out, double x)
{
    if (isfinite(x))
        fprintf(out, ",%.17g", x);
    else
        fputs(",", out);
}

static void write_csv(const report_t *r, int all, int header, FILE *out)
{
    if (header)
        fputs("scenario,mode,variant,metric,n,mean,ci_low,ci_high,baseline,baseline_value,"
              "delta_pct,diff_ci_low,diff_ci_high,significant,paired,winner\n",
              out);
    for (size_t mi = 0; mi < r->nmetric; mi++) {
        const report_metric_t *m = &r->metric[mi];
        if (!shown(m, all))
            continue;
        for (size_t v = 0; v < r->nvariant; v++) {
            if (!m->have[v])
                continue;
            const stats_ci_t *c = &m->ci[v];
            const stats_cmp_t *d = m->have_cmp[v] ? &m->cmp[v] : NULL;
            csv_field(out, r->scenario);
            fputc(',', out);
            csv_field(out, r->mode);
            fputc(',', out);
            csv_field(out, r->variant[v]);
            fprintf(out, ",%s,%zu", m->name, c->n);
            csv_num(out, c->mean);
            csv_num(out, c->lo);
            csv_num(out, c->hi);
            fputc(',', out);
            csv_field(out, r->variant[r->base]);
            csv_num(out, d ? d->baseline_value : NAN);
            csv_num(out, d ? d->delta_pct : NAN);
            csv_num(out, d ? d->diff.lo : NAN);
            csv_num(out, d ? d->diff.hi : NAN);
            if (d)
                fprintf(out, ",%d,%d", d->significant, d->paired);
            else
                fputs(",,", out);
            fprintf(out, ",%d\n", m->winner == (int)v);
        }
    }
}

static void md_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputc('\\', out);
        fputc(*s, out);
    }
}

/* One line per variant that ran with a what-if: a hypothetical mechanism,
 * not something Linux or an NVMe device does. */
static void what_if_lines(const report_t *r, const char *pre, const char *post, FILE *out)
{
    for (size_t v = 0; v < r->nvariant; v++)
        if (report_what_if(r, v))
            fprintf(out, "%sWHAT-IF %s: not Linux/NVMe behaviour, a hypothetical: %s%s", pre,
                    r->variant[v], r->what_if[v], post);
}

static int any_paired(const report_t *r)
{
    for (size_t mi = 0; mi < r->nmetric; mi++)
        for (size_t v = 0; v < r->nvariant; v++)
            if (r->metric[mi].have_cmp[v] && r->metric[mi].cmp[v].paired)
                return 1;
    return 0;
}

void report_table_write(const report_t *r, report_format_t fmt, int all, int csv_header,
                        FILE *out)
{
    if (fmt == REPORT_CSV) {
        write_csv(r, all, csv_header, out);
        return;
    }
    size_t nv = r->nvariant, ncol = nv + 1, nrow = 0;
    for (size_t mi = 0; mi < r->nmetric; mi++)
        nrow += (size_t)shown(&r->metric[mi], all);
    char(*c)[CELL] = calloc((nrow + 1) * ncol, CELL);
    int *w = calloc(ncol, sizeof(*w));
    if (!c || !w) {
        free(c);
        free(w);
        fputs("(out of memory)\n", out);
        return;
    }
    snprintf(c[0], CELL, "metric");
    for (size_t v = 0; v < nv; v++)
        snprintf(c[1 + v], CELL, "%s%s%s", r->variant[v], v == r->base ? " (baseline)" : "",
                 report_what_if(r, v) ? " [what-if]" : "");
    size_t row = 1;
    for (size_t mi = 0; mi < r->nmetric; mi++) {
        const report_metric_t *m = &r->metric[mi];
        if (!shown(m, all))
            continue;
        snprintf(c[row * ncol], CELL, "%s", m->name);
        for (size_t v = 0; v < nv; v++)
            report_table_cell(r, m, v, c[row * ncol + 1 + v], CELL);
        row++;
    }
    for (size_t i = 0; i <= nrow; i++)
        for (size_t k = 0; k < ncol; k++)
            if (cols(c[i * ncol + k]) > w[k])
                w[k] = cols(c[i * ncol + k]);

    const char *how = any_paired(r) ? "paired by replication (common random numbers)"
                                    : "unpaired (Welch)";
    if (fmt == REPORT_MD) {
        fprintf(out, "### %s (%s, %zu replications)\n\n", r->scenario, r->mode, r->nrep);
        what_if_lines(r, "_", "_\n\n", out);
        for (size_t i = 0; i <= nrow; i++) {
            for (size_t k = 0; k < ncol; k++) {
                fputs("| ", out);
                md_text(out, c[i * ncol + k]);
                fputc(' ', out);
            }
            fputs("|\n", out);
            if (i == 0) {
                for (size_t k = 0; k < ncol; k++)
                    fputs(k ? "| ---: " : "| :--- ", out);
                fputs("|\n", out);
            }
        }
        fputc('\n', out);
    } else {
        fprintf(out, "scenario %s (%s, %zu variants, %zu replications)\n", r->scenario, r->mode,
                nv, r->nrep);
        what_if_lines(r, "", "\n", out);
        for (size_t i = 0; i <= nrow; i++) {
            for (size_t k = 0; k < ncol; k++) {
                if (k + 1 < ncol)
                    pad(out, c[i * ncol + k], w[k] + 3);
                else
                    fputs(c[i * ncol + k], out);
            }
            fputc('\n', out);
        }
    }
    fprintf(out,
            "%smean ± 95%% CI half-width over replications; (%%) change vs %s, %s;%s"
            "* best mean; ~ difference to %s not significant (its 95%% CI includes 0)%s\n",
            fmt == REPORT_MD ? "_" : "", r->variant[r->base], how,
            fmt == REPORT_MD ? " " : "\n", r->variant[r->base], fmt == REPORT_MD ? "_\n" : "");
    free(c);
    free(w);
}

int report_print(sqlite3 *db, const char *scenario, const char *baseline, report_format_t fmt,
                 int all, FILE *out, char **err)
{
    char **names = NULL;
    char *one[] = {(char *)scenario, NULL};
    if (!scenario && report_scenarios(db, &names, err))
        return -1;
    char **list = scenario ? one : names;
    int rc = 0;
    if (!list[0]) {
        *err = sqlite3_mprintf("the database has no runs");
        rc = REPORT_NOTFOUND;
    }
    for (size_t i = 0; rc == 0 && list[i]; i++) {
        report_t r;
        if ((rc = report_load(db, list[i], baseline, &r, err)) != 0)
            break;
        if (i && fmt != REPORT_CSV)
            fputc('\n', out);
        report_table_write(&r, fmt, all, i == 0, out);
        report_free(&r);
    }
    report_free_names(names);
    return rc;
}

int report_print_text(sqlite3 *db, const char *scenario, FILE *out, char **err)
{
    return report_print(db, scenario, NULL, REPORT_TEXT, 0, out, err);
}
