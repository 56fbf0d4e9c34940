/*
 * reference.c - see reference.h.
 */
#include "reference.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One number from a query with run_id as its parameter; NAN if no row. */
static double ref_num(sqlite3 *db, const char *sql, int64_t run)
{
    sqlite3_stmt *st;
    double v = NAN;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return v;
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

int reference_load(const char *path, reference_t *ref, char *err, size_t errlen)
{
    memset(ref, 0, sizeof(*ref));
    /* SQLite would create a missing file: refuse first, with errno's reason */
    if (access(path, R_OK) != 0) {
        int e = errno;
        snprintf(err, errlen, "%s: %s (expected the database `latsurf trace analyze FILE --db "
                 "DB` wrote)", path, strerror(e));
        return e == ENOENT ? -ENOENT : -EACCES;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return -EACCES;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT run_id, scenario, requests, wall_s FROM runs "
                                "WHERE mode = 'live' AND requests > 0 "
                                "ORDER BY variant = 'trace' DESC, run_id DESC LIMIT 1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: not a latsurf results database (%s)", path,
                 sqlite3_errmsg(db));
        sqlite3_close(db);
        return -EINVAL;
    }
    double wall_s = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ref->run_id = sqlite3_column_int64(st, 0);
        const unsigned char *sc = sqlite3_column_text(st, 1);
        snprintf(ref->scenario, sizeof(ref->scenario), "%s", sc ? (const char *)sc : "");
        ref->requests = (uint64_t)sqlite3_column_int64(st, 2);
        wall_s = sqlite3_column_double(st, 3);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        snprintf(err, errlen, "%s: no recorded requests (no live run that joined any; expected "
                 "the database of `latsurf trace analyze FILE --db DB` on a recording with "
                 "block I/O)", path);
        sqlite3_close(db);
        return -EINVAL;
    }
    const char *q = "SELECT value FROM metrics WHERE run_id = ?1 AND name = '%s'";
    char sql[160];
    snprintf(sql, sizeof(sql), q, "lat_p50_ns");
    ref->p50_ns = ref_num(db, sql, ref->run_id);
    snprintf(sql, sizeof(sql), q, "lat_p99_ns");
    ref->p99_ns = ref_num(db, sql, ref->run_id);
    snprintf(sql, sizeof(sql), q, "lat_p999_ns");
    ref->p999_ns = ref_num(db, sql, ref->run_id);
    double span = ref_num(db,
                          "SELECT MAX(t_ready) - MIN(t_issue) FROM requests "
                          "WHERE run_id = ?1 AND t_ready > 0",
                          ref->run_id);
    sqlite3_close(db);
    ref->span_from_rows = isfinite(span) && span > 0;
    ref->span_ns = ref->span_from_rows ? span : wall_s * 1e9;
    ref->iops = ref->span_ns > 0 ? (double)ref->requests / (ref->span_ns / 1e9) : NAN;
    if (!isfinite(ref->p50_ns) || !isfinite(ref->p99_ns)) {
        snprintf(err, errlen, "%s: run %lld has no lat_p50_ns / lat_p99_ns metrics", path,
                 (long long)ref->run_id);
        return -EINVAL;
    }
    return 0;
}
