/* test_report.c - comparisons table (and its owners), SQL views, text/md/csv
 * tables, the HTML page and `latsurf report`, on a small database built here
 * with db_write_run from synthetic results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "reports/compare.h"
#include "reports/db.h"
#include "reports/report.h"
#include "reports/report_html.h"
#include "reports/report_plot.h"
#include "reports/report_table.h"
#include "reports/stats.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NREP 5
static const char *const variants[] = {"baseline", "fast", "same"};
static const char *const stages[] = {"submit", "dispatch", "device", "irq", "blk_complete",
                                     "cqe_post", "wakeup"};

typedef struct {
    char dir[64], path[96];
    sqlite3 *db;
} fixture_t;

static void add_hist(result_t *res, const char *name, gsl_rng *r, double median, double k,
                     int n)
{
    hist_t *h = malloc(sizeof(*h));
    hist_init(h);
    for (int i = 0; i < n; i++)
        hist_add(h, (uint64_t)(k * gsl_ran_lognormal(r, log(median), 0.5)));
    assert_int_equal(result_add_hist(res, name, h), 0);
    free(h);
}

static void write_run(sqlite3 *db, const char *scen, const char *variant, unsigned rep,
                      const result_t *res)
{
    db_run_info_t info = {.scenario = scen, .variant = variant, .mode = "sim",
                          .replication = rep, .seed = 100 + rep, .version = "test",
                          .host = "testhost", .calibration = "default.json",
                          .scenario_json = "{\"name\": \"syn\", \"run\": {\"replications\": 5}}"};
    char *err = NULL;
    int64_t id = db_write_run(db, &info, res, &err);
    if (id < 0)
        fprintf(stderr, "db_write_run: %s\n", err);
    assert_true(id > 0);
}

/* Scenario "syn": baseline; fast = 10% lower latency, better rates; same =
 * baseline plus differences that average to zero. Replication noise is
 * shared by the variants (common random numbers). */
static void build_syn(sqlite3 *db)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    static const double wiggle[NREP] = {100, -100, 50, -50, 0};
    for (unsigned rep = 0; rep < NREP; rep++) {
        double c = gsl_ran_gaussian(r, 0.05);
        for (int v = 0; v < 3; v++) {
            double k = v == 1 ? 0.9 : 1.0, w = v == 2 ? wiggle[rep] : 0.0;
            result_t res;
            result_init(&res);
            result_set(&res, "lat_p50_ns", 50000.0 * (1 + c) * k + w);
            result_set(&res, "lat_p99_ns", 200000.0 * (1 + c) * k + w);
            result_set(&res, "lat_mean_ns", 60000.0 * (1 + c) * k + w);
            result_set(&res, "locality_miss_rate", v == 1 ? 0.05 + c / 10 : 0.4 + c / 10);
            result_set(&res, "registration_hit_rate", v == 1 ? 0.9 : 0.0);
            result_set(&res, "iops", 1e5 * (1 - c) / k + w);
            result_set(&res, "step_stall_p99_ns", 3e5 * (1 + c) * k);
            for (size_t s = 0; s < sizeof(stages) / sizeof(stages[0]); s++) {
                hist_t *h = malloc(sizeof(*h));
                hist_init(h);
                for (int i = 0; i < 50; i++)
                    hist_add(h, (uint64_t)((1000 + 3000 * (s == 2) + i) * k));
                result_add_stage(&res, stages[s], h);
                free(h);
            }
            add_hist(&res, "lat_ns", r, 50000.0 * (1 + c), k, 2000);
            add_hist(&res, "step_stall_ns", r, 2e5, k, 300);
            res.requests = 2000;
            write_run(db, "syn", variants[v], rep, &res);
            result_fini(&res);
        }
    }
    gsl_rng_free(r);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/latsurf-test-report-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/r.sqlite", f->dir);
    char *err = NULL;
    f->db = db_open(f->path, &err);
    if (!f->db) {
        fprintf(stderr, "db_open: %s\n", err);
        return -1;
    }
    build_syn(f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    db_close(f->db);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

static void test_compare_table(void **state)
{
    fixture_t *f = *state;
    char *err = NULL;
    assert_int_equal(report_compare(f->db, "syn", NULL, &err), 0);
    assert_int_equal(report_compare(f->db, "syn", NULL, &err), 0); /* replaces, not adds */
    assert_int_equal((int)tu_db_num(f->db, "SELECT count(*) FROM comparisons WHERE scenario='syn'"),
                     2 * 7);
    assert_int_equal((int)tu_db_num(f->db, "SELECT count(DISTINCT baseline) FROM comparisons"), 1);
    double d = tu_db_num(f->db, "SELECT delta_pct FROM comparisons WHERE variant='fast' AND "
                                "metric='lat_p99_ns'");
    assert_true(fabs(d + 10.0) < 1e-6);
    assert_int_equal((int)tu_db_num(f->db,
                                    "SELECT significant FROM comparisons WHERE variant='fast' "
                                    "AND metric='lat_p99_ns' AND ci_high < 0"),
                     1);
    assert_int_equal((int)tu_db_num(f->db,
                                    "SELECT significant FROM comparisons WHERE variant='same' "
                                    "AND metric='lat_p99_ns' AND ci_low < 0 AND ci_high > 0"),
                     0);
    assert_int_equal(report_compare(f->db, "syn", "nope", &err), REPORT_NOTFOUND);
    sqlite3_free(err);
    assert_int_equal(report_compare(f->db, "nope", NULL, &err), REPORT_NOTFOUND);
    sqlite3_free(err);
}

static void test_summary_view_matches_c(void **state)
{
    fixture_t *f = *state;
    report_t r;
    char *err = NULL;
    assert_int_equal(report_load(f->db, "syn", NULL, &r, &err), 0);
    assert_int_equal(r.nvariant, 3);
    assert_string_equal(r.variant[r.base], "baseline");
    assert_string_equal(r.metric[0].name, "lat_p50_ns"); /* key metrics first */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db,
                                        "SELECT variant, metric, mean, ci_low, ci_high, n "
                                        "FROM v_summary WHERE scenario='syn'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    int rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int mi = report_find_metric(&r, (const char *)sqlite3_column_text(st, 1));
        size_t v = 0;
        while (strcmp(r.variant[v], (const char *)sqlite3_column_text(st, 0)) != 0)
            v++;
        assert_true(mi >= 0);
        const stats_ci_t *c = &r.metric[mi].ci[v];
        double tol = 1e-6 * (fabs(c->mean) + 1);
        assert_true(fabs(sqlite3_column_double(st, 2) - c->mean) < tol);
        assert_true(fabs(sqlite3_column_double(st, 3) - c->lo) < tol);
        assert_true(fabs(sqlite3_column_double(st, 4) - c->hi) < tol);
        assert_int_equal(sqlite3_column_int(st, 5), NREP);
        rows++;
    }
    sqlite3_finalize(st);
    assert_int_equal(rows, 3 * 7);
    /* fast wins latency, hit rate; nothing wins with one variant */
    int m = report_find_metric(&r, "lat_p99_ns");
    assert_string_equal(r.variant[r.metric[m].winner], "fast");
    assert_true(r.metric[m].cmp[1].paired);
    m = report_find_metric(&r, "registration_hit_rate");
    assert_string_equal(r.variant[r.metric[m].winner], "fast");
    report_free(&r);
    /* stage breakdown: shares sum to 1, device is the biggest term */
    assert_true(
        fabs(tu_db_num(f->db, "SELECT sum(share) FROM v_stage_breakdown WHERE scenario='syn' "
                              "AND variant='fast'") -
             1.0) < 1e-9);
    assert_int_equal((int)tu_db_num(f->db, "SELECT stage_order FROM v_stage_breakdown WHERE "
                                           "variant='baseline' ORDER BY mean_ns DESC LIMIT 1"),
                     3);
}

/* The t quantiles inside v_summary: the table for small df, the expansion
 * above 30 (checked through a 40-replication scenario). */
static void test_view_t_quantiles(void **state)
{
    fixture_t *f = *state;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT df, q FROM v_t95", -1, &st, NULL),
                     SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        double df = sqlite3_column_double(st, 0);
        assert_true(fabs(sqlite3_column_double(st, 1) - gsl_cdf_tdist_Pinv(0.975, df)) < 1e-5);
        n++;
    }
    sqlite3_finalize(st);
    assert_int_equal(n, 30);
    for (unsigned reps = 32; reps <= 122; reps += 90) {
        char scen[16];
        snprintf(scen, sizeof(scen), "big%u", reps);
        double x[122];
        for (unsigned i = 0; i < reps; i++) {
            result_t res;
            result_init(&res);
            x[i] = 1000.0 + (double)((i * 37) % 11);
            result_set(&res, "iops", x[i]);
            write_run(f->db, scen, "only", i, &res);
            result_fini(&res);
        }
        stats_ci_t c;
        stats_ci(x, reps, 0.95, &c);
        char sql[160];
        snprintf(sql, sizeof(sql), "SELECT ci_high - mean FROM v_summary WHERE scenario='%s'",
                 scen);
        double half = tu_db_num(f->db, sql);
        printf("# v_summary half-width n=%u: %.6f, GSL %.6f\n", reps, half, c.half);
        assert_true(fabs(half - c.half) < 2e-4 * c.half);
    }
}

static void test_latest_run_wins(void **state)
{
    fixture_t *f = *state;
    result_t res;
    result_init(&res);
    for (unsigned rep = 0; rep < 2; rep++) {
        result_set(&res, "lat_p50_ns", 100.0);
        write_run(f->db, "rerun", "baseline", rep, &res);
    }
    result_set(&res, "lat_p50_ns", 300.0); /* replication 1 again */
    write_run(f->db, "rerun", "baseline", 1, &res);
    result_fini(&res);
    report_t r;
    char *err = NULL;
    assert_int_equal(report_load(f->db, "rerun", NULL, &r, &err), 0);
    assert_int_equal(r.nrep, 2);
    assert_true(fabs(r.metric[0].ci[0].mean - 200.0) < 1e-9);
    assert_int_equal(r.metric[0].winner, -1);
    report_free(&r);
    assert_true(
        fabs(tu_db_num(f->db, "SELECT mean FROM v_summary WHERE scenario='rerun'") - 200.0) < 1e-9);
}

/* Scenario "direction" (written once): b has the higher join_rate and more
 * mode switches. */
static void build_direction(fixture_t *f)
{
    static int built;
    if (built++)
        return;
    for (unsigned rep = 0; rep < 2; rep++)
        for (int v = 0; v < 2; v++) {
            result_t res;
            result_init(&res);
            result_set_id(&res, METRIC_JOIN_RATE, v ? 0.9 : 0.5);
            result_set_id(&res, METRIC_MODE_SWITCHES, v ? 5 : 1);
            write_run(f->db, "direction", v ? "b" : "a", rep, &res);
            result_fini(&res);
        }
}

/* The direction a metric wins in comes from the registry (sim/metric.h),
 * not from its name: join_rate is higher-is-better. */
static void test_direction_from_registry(void **state)
{
    fixture_t *f = *state;
    build_direction(f);
    report_t r;
    char *err = NULL;
    assert_int_equal(report_load(f->db, "direction", NULL, &r, &err), 0);
    int m = report_find_metric(&r, "join_rate");
    assert_true(m >= 0);
    assert_string_equal(r.variant[r.metric[m].winner], "b");
    report_free(&r);
}

/* A descriptive metric (METRIC_NEITHER) names no winner. */
static void test_descriptive_metric_has_no_winner(void **state)
{
    fixture_t *f = *state;
    build_direction(f);
    report_t r;
    char *err = NULL;
    assert_int_equal(report_load(f->db, "direction", NULL, &r, &err), 0);
    int m = report_find_metric(&r, "mode_switches");
    assert_true(m >= 0 && r.metric[m].have[0] && r.metric[m].have[1]);
    assert_int_equal(r.metric[m].winner, -1);
    report_free(&r);
}

static int count_owned(sqlite3 *db, const char *owner)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM comparisons WHERE scenario='syn' AND owner='%s'", owner);
    return (int)tu_db_num(db, sql);
}

static const compare_row_t val_rows[] = {
    {"baseline:sim", "baseline", "lat_p50_ns", 1.0, 2.0, -50.0, NAN, NAN, -1},
    {"*:sim", "*", "ranking_p50_agrees", 1.0, 1.0, 0.0, NAN, NAN, -1},
};

/* The report replaces its own rows of a scenario and keeps validate's. */
static void test_report_keeps_validate_rows(void **state)
{
    fixture_t *f = *state;
    char *err = NULL;
    assert_int_equal(compare_replace(f->db, "syn", COMPARE_VALIDATE, val_rows, 2, &err), 0);
    assert_int_equal(report_compare(f->db, "syn", NULL, &err), 0);
    assert_int_equal(report_compare(f->db, "syn", NULL, &err), 0);
    assert_int_equal(count_owned(f->db, "validate"), 2);
    assert_int_equal(count_owned(f->db, "report"), 2 * 7);
    assert_true(
        tu_db_num(f->db, "SELECT delta_pct FROM comparisons WHERE variant='baseline:sim'") ==
        -50.0);
    assert_int_equal((int)tu_db_num(f->db,
                                    "SELECT count(*) FROM comparisons WHERE variant="
                                    "'baseline:sim' AND ci_low IS NULL AND significant IS NULL"),
                     1);
    assert_int_equal(compare_replace(f->db, "syn", COMPARE_VALIDATE, NULL, 0, &err), 0);
    assert_int_equal(count_owned(f->db, "validate"), 0);
}

/* A validate replaces its own rows and keeps the report's. */
static void test_validate_keeps_report_rows(void **state)
{
    fixture_t *f = *state;
    char *err = NULL;
    assert_int_equal(report_compare(f->db, "syn", NULL, &err), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(compare_replace(f->db, "syn", COMPARE_VALIDATE, val_rows, 2, &err), 0);
    assert_int_equal(count_owned(f->db, "validate"), 2);
    assert_int_equal(count_owned(f->db, "report"), 2 * 7);
    assert_int_equal(compare_replace(f->db, "syn", COMPARE_VALIDATE, NULL, 0, &err), 0);
}

/* A database from before the owner column gets it on open; its ":sim" rows
 * (validate's by the old convention) become validate's and survive a report. */
static void test_old_database_gets_owners(void **state)
{
    fixture_t *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/old.sqlite", f->dir);
    sqlite3 *old;
    assert_int_equal(sqlite3_open(path, &old), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(old,
                     "CREATE TABLE comparisons (scenario TEXT NOT NULL, variant TEXT NOT NULL,"
                     " baseline TEXT NOT NULL, metric TEXT NOT NULL, value REAL,"
                     " baseline_value REAL, delta_pct REAL, ci_low REAL, ci_high REAL,"
                     " significant INTEGER);"
                     "INSERT INTO comparisons(scenario, variant, baseline, metric, value)"
                     " VALUES('s', 'a:sim', 'a', 'lat_p50_ns', 1), ('s', 'b', 'a', 'iops', 2);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(old);
    char *err = NULL;
    sqlite3 *db = db_open(path, &err);
    assert_non_null(db);
    assert_int_equal((int)tu_db_num(db,
                                    "SELECT count(*) FROM comparisons WHERE owner='validate' AND "
                                    "variant='a:sim'"),
                     1);
    assert_int_equal((int)tu_db_num(db, "SELECT count(*) FROM comparisons WHERE owner='report' AND "
                                        "variant='b'"),
                     1);
    assert_int_equal(compare_replace(db, "s", COMPARE_REPORT, NULL, 0, &err), 0);
    assert_int_equal((int)tu_db_num(db, "SELECT count(*) FROM comparisons"), 1);
    db_close(db);
}

static char *read_back(FILE *m);

/* A run that used a what-if carries its keys in runs.what_if, and every
 * report marks the variant; a database from before the column gets it. */
static void test_what_if_marked(void **state)
{
    fixture_t *f = *state;
    static const char *const name[2] = {"base", "hyp"};
    for (unsigned rep = 0; rep < 2; rep++)
        for (int v = 0; v < 2; v++) {
            result_t res;
            result_init(&res);
            result_set(&res, "lat_p50_ns", 1000.0 + v + rep);
            db_run_info_t info = {.scenario = "wi", .variant = name[v], .mode = "sim",
                                  .replication = rep, .seed = 1, .version = "test",
                                  .what_if = v ? "devices.0.what_if.wrr" : ""};
            char *err = NULL;
            assert_true(db_write_run(f->db, &info, &res, &err) > 0);
            result_fini(&res);
        }
    assert_int_equal((int)tu_db_num(f->db, "SELECT count(*) FROM runs WHERE scenario='wi' AND "
                                           "what_if IS NULL AND variant='base'"),
                     2);
    assert_int_equal((int)tu_db_num(f->db, "SELECT count(*) FROM runs WHERE scenario='wi' AND "
                                           "what_if='devices.0.what_if.wrr'"),
                     2);
    char *err = NULL;
    FILE *m = tmpfile();
    assert_non_null(m);
    assert_int_equal(report_print(f->db, "wi", NULL, REPORT_TEXT, 0, m, &err), 0);
    char *buf = read_back(m);
    assert_non_null(strstr(buf, "WHAT-IF hyp: not Linux/NVMe behaviour, a hypothetical: "
                                "devices.0.what_if.wrr"));
    assert_non_null(strstr(buf, "hyp [what-if]"));
    assert_null(strstr(buf, "WHAT-IF base"));
    free(buf);
    m = tmpfile();
    assert_non_null(m);
    assert_int_equal(report_html_write(f->db, "wi", NULL, f->path, m, &err), 0);
    buf = read_back(m);
    assert_non_null(strstr(buf, "WHAT-IF: variant hyp"));
    assert_null(strstr(buf, "WHAT-IF: variant base"));
    free(buf);

    char path[128];
    snprintf(path, sizeof(path), "%s/old-runs.sqlite", f->dir);
    sqlite3 *old;
    assert_int_equal(sqlite3_open(path, &old), SQLITE_OK);
    assert_int_equal(sqlite3_exec(old,
                                  "CREATE TABLE runs (run_id INTEGER PRIMARY KEY, scenario TEXT "
                                  "NOT NULL, variant TEXT NOT NULL, mode TEXT NOT NULL, "
                                  "replication INTEGER NOT NULL, seed INTEGER NOT NULL, "
                                  "calibration TEXT, host TEXT, version TEXT NOT NULL, "
                                  "started_at TEXT NOT NULL, wall_s REAL, events INTEGER, "
                                  "requests INTEGER, scenario_json TEXT, task_key TEXT);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(old);
    sqlite3 *db = db_open(path, &err);
    assert_non_null(db);
    assert_int_equal((int)tu_db_num(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE "
                                        "name='what_if'"),
                     1);
    db_close(db);
}

/* What was written to m (a tmpfile()), as a string; closes m. Not
 * open_memstream: its stream holds the addresses of the writer's locals,
 * so once the writer is inlined gcc -O3 takes the returned text for a
 * pointer into them (-Wdangling-pointer). */
static char *read_back(FILE *m)
{
    long n = ftell(m);
    assert_true(n >= 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    rewind(m);
    assert_int_equal(fread(buf, 1, (size_t)n, m), (size_t)n);
    buf[n] = '\0';
    fclose(m);
    return buf;
}

static char *print(fixture_t *f, report_format_t fmt, int all)
{
    char *err = NULL;
    FILE *m = tmpfile();
    assert_non_null(m);
    assert_int_equal(report_print(f->db, "syn", NULL, fmt, all, m, &err), 0);
    return read_back(m);
}

static const char *line_of(const char *text, const char *key, char *line, size_t len)
{
    const char *p = strstr(text, key);
    assert_non_null(p);
    size_t n = strcspn(p, "\n");
    snprintf(line, len, "%.*s", (int)n, p);
    return line;
}

static void test_text_md_csv(void **state)
{
    fixture_t *f = *state;
    char line[512];
    char *t = print(f, REPORT_TEXT, 0);
    printf("%s", t);
    assert_non_null(strstr(t, "scenario syn (sim, 3 variants, 5 replications)"));
    assert_null(strstr(t, "lat_mean_ns")); /* not a key metric */
    line_of(t, "lat_p99_ns", line, sizeof(line));
    assert_non_null(strstr(line, "(-10.0%) *"));       /* fast: significant winner */
    assert_non_null(strstr(line, "us ± "));          /* units and CI */
    assert_true(strstr(line, " ~") > strstr(line, "*")); /* same: not significant */
    line_of(t, "registration_hit_rate", line, sizeof(line));
    assert_non_null(strstr(line, "90.0% ± 0.0 *"));
    free(t);
    t = print(f, REPORT_TEXT, 1);
    assert_non_null(strstr(t, "lat_mean_ns"));
    free(t);

    t = print(f, REPORT_MD, 0);
    assert_non_null(strstr(t, "| metric | baseline (baseline) | fast | same |"));
    assert_non_null(strstr(t, "| :--- | ---: "));
    line_of(t, "| lat_p99_ns", line, sizeof(line));
    assert_non_null(strstr(line, "(-10.0%) *"));
    free(t);

    t = print(f, REPORT_CSV, 0);
    assert_true(strncmp(t, "scenario,mode,variant,metric,n,mean,ci_low,ci_high,", 51) == 0);
    int lines = 0;
    for (const char *p = t; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 1 + 3 * 5); /* 5 key metrics present, 3 variants */
    line_of(t, "syn,sim,fast,lat_p99_ns", line, sizeof(line));
    double mean, lo, hi;
    assert_int_equal(sscanf(line, "syn,sim,fast,lat_p99_ns,5,%lf,%lf,%lf", &mean, &lo, &hi), 3);
    assert_true(lo < mean && mean < hi);
    assert_non_null(strstr(line, ",1,1,1")); /* significant, paired, winner */
    free(t);
}

static char *html(fixture_t *f)
{
    char *err = NULL;
    FILE *m = tmpfile();
    assert_non_null(m);
    int rc = report_html_write(f->db, "syn", NULL, f->path, m, &err);
    if (rc)
        fprintf(stderr, "report_html_write: %s\n", err);
    assert_int_equal(rc, 0);
    return read_back(m);
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (; (s = strstr(s, needle)); s++)
        n++;
    return n;
}

static void test_html_without_gnuplot(void **state)
{
    fixture_t *f = *state;
    setenv("LATSURF_GNUPLOT", "/nonexistent/gnuplot", 1);
    char *h = html(f);
    unsetenv("LATSURF_GNUPLOT");
    assert_non_null(strstr(h, "gnuplot was not found"));
    assert_null(strstr(h, "<svg"));
    assert_non_null(strstr(h, "<table class=\"summary\">")); /* tables still there */
    free(h);
}

static void test_html_plots(void **state)
{
    fixture_t *f = *state;
    char why[256];
    tu_skip_unless(tu_have_cmd("gnuplot", why, sizeof(why)), "%s (Debian gnuplot-nox)", why);
    char *svg = NULL, *err = NULL;
    const char probe[] = "set terminal svg\nplot x\n";
    int rc = report_plot_svg(probe, sizeof(probe) - 1, &svg, &err);
    if (rc != 0)
        fail_msg("gnuplot is installed, but report_plot_svg: %d (%s)", rc, err ? err : "");
    free(svg);
    free(err);
    char *h = html(f);
    int nsvg = count(h, "<svg");
    printf("# HTML: %zu bytes, %d plots\n", strlen(h), nsvg);
    /* CDF + tail, quantile bars, stages, rates, stall CDF + tail + bars */
    assert_int_equal(nsvg, 8);
    assert_null(strstr(h, "gnuplot failed"));
    assert_non_null(strstr(h, "testhost"));       /* provenance */
    assert_non_null(strstr(h, "default.json"));
    assert_non_null(strstr(h, "&quot;replications&quot;: 5")); /* scenario, pretty */
    assert_non_null(strstr(h, "Per-stage breakdown"));
    assert_non_null(strstr(h, "blk_complete"));
    assert_null(strstr(h, "<?xml"));
    /* bench/html_shot.sh screenshots this page in headless Chromium */
    const char *keep = getenv("LATSURF_TEST_HTML");
    FILE *k = keep ? fopen(keep, "w") : NULL;
    if (k) {
        fputs(h, k);
        fclose(k);
    }
    free(h);
}

static int run_cli(const char *args)
{
    const char *bin = getenv("LATSURF_BIN");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "%s report %s >/dev/null 2>&1", bin, args);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli(void **state)
{
    fixture_t *f = *state;
    tu_skip_unless(getenv("LATSURF_BIN"), "LATSURF_BIN is not set (run the test under ctest)");
    assert_int_equal(access(getenv("LATSURF_BIN"), X_OK), 0);
    char a[256];
    snprintf(a, sizeof(a), "%s --scenario syn --format csv", f->path);
    assert_int_equal(run_cli(a), 0);
    snprintf(a, sizeof(a), "%s --scenario syn --format md --all", f->path);
    assert_int_equal(run_cli(a), 0);
    snprintf(a, sizeof(a), "%s --scenario syn --html %s/r.html", f->path, f->dir);
    assert_int_equal(run_cli(a), 0);
    snprintf(a, sizeof(a), "%s/r.html", f->dir);
    assert_int_equal(access(a, R_OK), 0);
    snprintf(a, sizeof(a), "%s --format xml", f->path);
    assert_int_equal(run_cli(a), 2);
    snprintf(a, sizeof(a), "%s --scenario nope", f->path);
    assert_int_equal(run_cli(a), 2);
    snprintf(a, sizeof(a), "%s --scenario syn --baseline nope", f->path);
    assert_int_equal(run_cli(a), 2);
    snprintf(a, sizeof(a), "%s/missing.sqlite", f->dir);
    assert_int_equal(run_cli(a), 2);
    assert_int_equal(access(a, F_OK), -1); /* not created by the attempt */
    assert_int_equal(run_cli(""), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_table),
        cmocka_unit_test(test_summary_view_matches_c),
        cmocka_unit_test(test_view_t_quantiles),
        cmocka_unit_test(test_latest_run_wins),
        cmocka_unit_test(test_text_md_csv),
        cmocka_unit_test(test_html_without_gnuplot),
        cmocka_unit_test(test_html_plots),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_direction_from_registry),
        cmocka_unit_test(test_descriptive_metric_has_no_winner),
        cmocka_unit_test(test_report_keeps_validate_rows),
        cmocka_unit_test(test_validate_keeps_report_rows),
        cmocka_unit_test(test_old_database_gets_owners),
        cmocka_unit_test(test_what_if_marked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
