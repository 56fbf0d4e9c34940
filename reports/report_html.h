/*
 * report_html.h - the self-contained HTML report: per scenario its
 * provenance (scenario JSON, calibration, versions, seeds), the summary
 * table, and gnuplot SVG plots embedded inline: latency CDF and tail per
 * variant, stacked per-stage breakdown (the latency equation term by term),
 * rate bars (locality miss, deferred completion, registration hit, GPU
 * idle), step-stall and storage-to-GPU-gap distributions when recorded.
 * Without gnuplot the page says so and keeps the tables.
 *
 * Histogram names it looks for (histograms.metric): "lat_ns" (else the first
 * starting with "lat"), "step_stall*", "storage_to_gpu_gap*".
 */
#ifndef LATSURF_REPORT_HTML_H
#define LATSURF_REPORT_HTML_H

#include <sqlite3.h>
#include <stdio.h>

/* scenario NULL: every scenario; baseline as in report_load; source: what to
 * name as the data's origin (the database path). -1 with *err. */
int report_html_write(sqlite3 *db, const char *scenario, const char *baseline,
                      const char *source, FILE *out, char **err);

/* The same into a file at path (written whole, then renamed into place). */
int report_html_file(sqlite3 *db, const char *scenario, const char *baseline,
                     const char *source, const char *path, char **err);

#endif
