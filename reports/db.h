/*
 * db.h - the SQLite results database: schema (reports/schema.sql) and the
 * transactional writer. One run = one transaction: an interrupted run leaves
 * no half-written rows.
 */
#ifndef LATSURF_DB_H
#define LATSURF_DB_H

#include "sim/result.h"

#include <sqlite3.h>
#include <stdint.h>

typedef struct {
    const char *scenario, *variant, *mode; /* mode: "sim" | "live" */
    uint32_t replication;
    uint64_t seed;
    const char *calibration, *host, *version, *scenario_json, *task_key;
    const char *what_if;                   /* NULL or "": no what-if (runs.what_if NULL) */
} db_run_info_t;

/* Add a column to a database written before it existed: when `table` lacks
 * `column` and the file is writable, run `sql` (the ALTER TABLE and any
 * backfill) in one write transaction, checking again under the lock. SQLite
 * result code; *err is set (sqlite3_free) on failure and must start NULL. */
int db_add_column(sqlite3 *db, const char *table, const char *column, const char *sql,
                  char **err);

/* Open (creating if needed) and apply the schema, adding the columns a file
 * from an older latsurf lacks. NULL with *err set (free with sqlite3_free)
 * on failure. */
sqlite3 *db_open(const char *path, char **err);
void db_close(sqlite3 *db);

/* Write one run and everything in res in one transaction; returns the new
 * run_id, or -1 with *err set. A result with res->error set (incomplete) is
 * refused. */
int64_t db_write_run(sqlite3 *db, const db_run_info_t *info, const result_t *res, char **err);

#endif
