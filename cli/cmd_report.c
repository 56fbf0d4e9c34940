/*
 * cmd_report.c - `latsurf report DB [--html FILE] [--format text|md|csv]
 * [--scenario NAME] [--baseline NAME] [--all]`: the cross-replication
 * summary table of a results database, and optionally the HTML page. It
 * also refreshes the `comparisons` table of the scenarios it reports.
 */
#include "cmd.h"

#include "reports/db.h"
#include "reports/report.h"
#include "reports/report_html.h"
#include "reports/report_table.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "latsurf report: %s%s%s\nusage: latsurf %s\n", msg, arg ? ": " : "",
            arg ? arg : "", cmd_find("report")->usage);
    return CMD_BADINPUT;
}

static int failed(const char *db_path, int rc, char *err)
{
    fprintf(stderr, "latsurf report: %s: %s\n", db_path, err ? err : "failed");
    sqlite3_free(err);
    return rc == REPORT_NOTFOUND ? CMD_BADINPUT : CMD_FAIL;
}

/* Keep `comparisons` in step with what the report shows; a read-only file
 * still gets its report. */
static void refresh_comparisons(sqlite3 *db, const char *path, const char *scenario,
                                const char *baseline)
{
    char **names = NULL, *one[] = {(char *)scenario, NULL}, *err = NULL;
    if (!scenario && report_scenarios(db, &names, &err)) {
        sqlite3_free(err);
        return;
    }
    for (char **s = scenario ? one : names; *s; s++) {
        if (report_compare(db, *s, baseline, &err)) {
            fprintf(stderr, "latsurf report: %s: comparisons not updated: %s\n", path, err);
            sqlite3_free(err);
            break;
        }
    }
    report_free_names(names);
}

int cmd_report(int argc, char **argv)
{
    if (cmd_wants_help("report", argc, argv))
        return CMD_OK;
    const char *path = NULL, *html = NULL, *scenario = NULL, *baseline = NULL, *fmt_s = NULL;
    int all = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--html") == 0       ? &html
                            : strcmp(a, "--format") == 0   ? &fmt_s
                            : strcmp(a, "--scenario") == 0 ? &scenario
                            : strcmp(a, "--baseline") == 0 ? &baseline
                                                           : NULL;
        if (slot) {
            if (i + 1 >= argc)
                return usage_error("missing value after", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--all") == 0) {
            all = 1;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option", a);
        } else if (!path) {
            path = a;
        } else {
            return usage_error("unexpected argument", a);
        }
    }
    if (!path)
        return usage_error("missing DB", NULL);
    report_format_t fmt = REPORT_TEXT;
    if (fmt_s && report_format_parse(fmt_s, &fmt))
        return usage_error("--format must be text, md or csv, not", fmt_s);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "latsurf report: %s: no such readable file\n", path);
        return CMD_BADINPUT;
    }
    char *err = NULL;
    sqlite3 *db = db_open(path, &err);
    if (!db) {
        fprintf(stderr, "latsurf report: %s\n", err);
        sqlite3_free(err);
        return CMD_BADINPUT;
    }
    int rc = 0;
    if (!html || fmt_s)
        rc = report_print(db, scenario, baseline, fmt, all, stdout, &err);
    if (rc == 0 && html) {
        rc = report_html_file(db, scenario, baseline, path, html, &err);
        if (rc == 0)
            fprintf(stderr, "latsurf report: wrote %s\n", html);
    }
    if (rc == 0)
        refresh_comparisons(db, path, scenario, baseline);
    int code = rc ? failed(path, rc, err) : CMD_OK;
    db_close(db);
    return code;
}
