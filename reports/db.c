/*
 * db.c - see db.h. Every statement is prepared once per write; a failure
 * anywhere rolls the whole run back.
 */
#include "db.h"

#include "policies/policy.h"
#include "reports/compare.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

extern const char db_schema_sql[];

static int db_has_column(sqlite3 *db, const char *table, const char *column, int *yes)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

int db_add_column(sqlite3 *db, const char *table, const char *column, const char *sql,
                  char **err)
{
    int yes = 0, rc = db_has_column(db, table, column, &yes);
    /* a read-only file is reported as it is; nothing writes to it */
    if (rc != SQLITE_OK || yes || sqlite3_db_readonly(db, "main") == 1)
        goto out;
    /* again under the write lock: another process may have migrated */
    rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, err);
    if (rc == SQLITE_OK && (rc = db_has_column(db, table, column, &yes)) == SQLITE_OK && !yes)
        rc = sqlite3_exec(db, sql, NULL, NULL, err);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, err);
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    if (rc != SQLITE_OK && !*err)
        *err = sqlite3_mprintf("adding %s.%s: %s", table, column, sqlite3_errmsg(db));
    return rc;
}

sqlite3 *db_open(const char *path, char **err)
{
    sqlite3 *db = NULL;
    *err = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        *err = sqlite3_mprintf("%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    /* WAL keeps readers (a report) and the one writer apart, and a killed
     * writer leaves a database that recovers on the next open. */
    if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                     err) != SQLITE_OK ||
        sqlite3_exec(db, db_schema_sql, NULL, NULL, err) != SQLITE_OK ||
        db_add_column(db, "runs", "what_if", "ALTER TABLE runs ADD COLUMN what_if TEXT", err) !=
            SQLITE_OK || compare_migrate(db, err) != SQLITE_OK) {
        char *e = sqlite3_mprintf("%s: %s", path, *err ? *err : sqlite3_errmsg(db));
        sqlite3_free(*err);
        *err = e;
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

void db_close(sqlite3 *db) { sqlite3_close(db); }

static int db_step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int db_insert_run(sqlite3 *db, const db_run_info_t *in, const result_t *res,
                         int64_t *run_id)
{
    sqlite3_stmt *st;
    const char *sql =
        "INSERT INTO runs(scenario, variant, mode, replication, seed, calibration, host, version,"
        " started_at, wall_s, events, requests, scenario_json, task_key, what_if)"
        " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    bind_text(st, 1, in->scenario);
    bind_text(st, 2, in->variant);
    bind_text(st, 3, in->mode ? in->mode : "sim");
    sqlite3_bind_int64(st, 4, in->replication);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)in->seed);
    bind_text(st, 6, in->calibration);
    bind_text(st, 7, in->host);
    bind_text(st, 8, in->version ? in->version : "unknown");
    bind_text(st, 9, when);
    sqlite3_bind_double(st, 10, res->wall_s);
    sqlite3_bind_int64(st, 11, (sqlite3_int64)res->events);
    sqlite3_bind_int64(st, 12, (sqlite3_int64)res->requests);
    bind_text(st, 13, in->scenario_json);
    bind_text(st, 14, in->task_key);
    bind_text(st, 15, in->what_if && in->what_if[0] ? in->what_if : NULL);
    rc = db_step(st);
    sqlite3_finalize(st);
    *run_id = sqlite3_last_insert_rowid(db);
    return rc;
}

/* The stage names' path order, for v_stage_breakdown (schema.sql). */
static int db_stage_order(sqlite3 *db)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO stage_order(stage, position) "
                                "VALUES(?,?)", -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < REQ_NSTAGES; i++) {
        sqlite3_bind_text(st, 1, metric_stage_names[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, i + 1);
        rc = db_step(st);
    }
    sqlite3_finalize(st);
    return rc;
}

static int db_insert_rows(sqlite3 *db, int64_t id, const result_t *res)
{
    sqlite3_stmt *m = NULL, *s = NULL, *h = NULL, *q = NULL;
    int rc = sqlite3_prepare_v2(db, "INSERT INTO metrics(run_id,name,value) VALUES(?,?,?)", -1,
                                &m, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO stages(run_id,stage,count,mean_ns,p50_ns,p99_ns)"
                                " VALUES(?,?,?,?,?,?)",
                                -1, &s, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO histograms(run_id,metric,lo_ns,hi_ns,count)"
                                " VALUES(?,?,?,?,?)",
                                -1, &h, NULL);
    if (rc == SQLITE_OK) {
        /* one column per boundary timestamp, named as in sim/metric.h */
        char sql[512] = "INSERT INTO requests(run_id,req_id,flow,class,op,bytes,submit_cpu,"
                        "completion_cpu,consumer_cpu,deferred";
        size_t n = strlen(sql);
        for (int t = 0; t < REQ_NT; t++)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, ",%s", metric_time_names[t]);
        n += (size_t)snprintf(sql + n, sizeof(sql) - n, ") VALUES(?,?,?,?,?,?,?,?,?,?");
        for (int t = 0; t < REQ_NT; t++)
            n += (size_t)snprintf(sql + n, sizeof(sql) - n, ",?");
        snprintf(sql + n, sizeof(sql) - n, ")");
        rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    }
    for (size_t i = 0; rc == SQLITE_OK && i < res->nmetric; i++) {
        sqlite3_bind_int64(m, 1, id);
        bind_text(m, 2, res->metric[i].name);
        sqlite3_bind_double(m, 3, res->metric[i].value);
        rc = db_step(m);
    }
    if (rc == SQLITE_OK && res->nstage)
        rc = db_stage_order(db);
    for (size_t i = 0; rc == SQLITE_OK && i < res->nstage; i++) {
        const result_stage_t *e = &res->stage[i];
        sqlite3_bind_int64(s, 1, id);
        bind_text(s, 2, e->stage);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)e->count);
        sqlite3_bind_double(s, 4, e->mean_ns);
        sqlite3_bind_double(s, 5, e->p50_ns);
        sqlite3_bind_double(s, 6, e->p99_ns);
        rc = db_step(s);
    }
    for (size_t i = 0; rc == SQLITE_OK && i < res->nhist; i++) {
        const hist_t *hh = res->hist[i].hist;
        for (unsigned b = 0; rc == SQLITE_OK && b < HIST_NBUCKETS; b++) {
            if (!hh->bucket[b])
                continue;
            uint64_t lo, hi;
            hist_bucket_range(b, &lo, &hi);
            sqlite3_bind_int64(h, 1, id);
            bind_text(h, 2, res->hist[i].metric);
            sqlite3_bind_int64(h, 3, (sqlite3_int64)lo);
            sqlite3_bind_int64(h, 4, (sqlite3_int64)hi);
            sqlite3_bind_int64(h, 5, (sqlite3_int64)hh->bucket[b]);
            rc = db_step(h);
        }
    }
    for (size_t i = 0; rc == SQLITE_OK && i < res->nreq; i++) {
        const result_req_t *r = &res->req[i];
        int k = 1;
        sqlite3_bind_int64(q, k++, id);
        sqlite3_bind_int64(q, k++, (sqlite3_int64)r->req_id);
        sqlite3_bind_int64(q, k++, r->flow);
        bind_text(q, k++, r->cls < POL_NCLASSES ? pol_class_names[r->cls] : NULL);
        bind_text(q, k++, r->op ? "write" : "read");
        sqlite3_bind_int64(q, k++, (sqlite3_int64)r->bytes);
        sqlite3_bind_int(q, k++, r->submit_cpu);
        sqlite3_bind_int(q, k++, r->completion_cpu);
        sqlite3_bind_int(q, k++, r->consumer_cpu);
        sqlite3_bind_int(q, k++, r->deferred);
        for (int t = 0; t < REQ_NT; t++)
            sqlite3_bind_int64(q, k++, (sqlite3_int64)r->t[t]);
        rc = db_step(q);
    }
    sqlite3_finalize(m);
    sqlite3_finalize(s);
    sqlite3_finalize(h);
    sqlite3_finalize(q);
    return rc;
}

int64_t db_write_run(sqlite3 *db, const db_run_info_t *info, const result_t *res, char **err)
{
    *err = NULL;
    if (res->error) { /* an incomplete result is never a row (docs/design.md, error policy) */
        *err = sqlite3_mprintf("the run's results are incomplete (out of memory)");
        return -1;
    }
    int64_t id = -1;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, err);
    if (rc == SQLITE_OK)
        rc = db_insert_run(db, info, res, &id);
    if (rc == SQLITE_OK)
        rc = db_insert_rows(db, id, res);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, err);
    if (rc != SQLITE_OK) {
        if (!*err)
            *err = sqlite3_mprintf("%s", sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return id;
}
