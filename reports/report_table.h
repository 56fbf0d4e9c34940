/*
 * report_table.h - a scenario's summary (report.h) as a table: metrics x
 * variants, each cell the mean +- its 95% CI half-width and, for variants
 * other than the baseline, the change in percent; the best variant per
 * metric marked '*' and a difference to the baseline that is not
 * significant marked '~'. Plain text for a terminal, Markdown, or CSV with
 * the raw numbers (one row per variant and metric, ci_low/ci_high columns).
 */
#ifndef LATSURF_REPORT_TABLE_H
#define LATSURF_REPORT_TABLE_H

#include "reports/report.h"

#include <sqlite3.h>
#include <stdio.h>

typedef enum { REPORT_TEXT, REPORT_MD, REPORT_CSV, REPORT_NFORMATS } report_format_t;

/* "text" | "md" | "csv"; 0 or -EINVAL. */
int report_format_parse(const char *s, report_format_t *f);

/* One loaded summary. all: every metric, not only the key metrics.
 * csv_header: print the CSV header line first (CSV only). */
void report_table_write(const report_t *r, report_format_t fmt, int all, int csv_header,
                        FILE *out);

/* Load and print `scenario` (NULL: every scenario in the database, in order
 * of first run). baseline as in report_load. -1 with *err on failure. */
int report_print(sqlite3 *db, const char *scenario, const char *baseline, report_format_t fmt,
                 int all, FILE *out, char **err);

/* The table `latsurf run` prints at its end: text, key metrics, default
 * baseline. */
int report_print_text(sqlite3 *db, const char *scenario, FILE *out, char **err);

/* "12.3 us", "4.56 %", "1.23 M" - the value in the unit the table uses for
 * metric; with half >= 0 also " ± half". Shared with the HTML page. */
void report_format_value(const char *metric, double x, double half, double scale_ref, char *buf,
                         size_t len);

/* The text of one table cell (variant v of metric m), as the text table
 * shows it: value +- half-width, change vs baseline, '~' and '*' marks. */
void report_table_cell(const report_t *r, const report_metric_t *m, size_t v, char *buf,
                       size_t len);

#endif
