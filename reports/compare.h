/*
 * compare.h - the one writer of the `comparisons` table. Every row has an
 * owner: the cross-replication report (`latsurf run`, `sweep`, `report`:
 * a variant against the baseline) or `latsurf validate` (the calibrated
 * simulator against the live run). An owner replaces only its own rows of a
 * scenario, so a later run or report keeps validate's rows and a later
 * validate keeps the report's.
 *
 * Ownership is the `owner` column (reports/schema.sql). A database made
 * before the column existed gets it on db_open, and its validate rows
 * (variant "<name>:sim", the convention that stood in for ownership) are
 * given to validate then.
 */
#ifndef LATSURF_COMPARE_H
#define LATSURF_COMPARE_H

#include <sqlite3.h>
#include <stddef.h>

typedef enum { COMPARE_REPORT, COMPARE_VALIDATE, COMPARE_NOWNER } compare_owner_t;
extern const char *const compare_owner_names[]; /* [COMPARE_NOWNER]: "report", "validate" */

/* One row; a non-finite real or significant < 0 is stored as NULL. */
typedef struct {
    const char *variant, *baseline, *metric;
    double value, baseline_value, delta_pct, ci_low, ci_high;
    int significant;
} compare_row_t;

/* Replace owner's rows of scenario by rows[0..n) in one transaction (the
 * other owner's rows are untouched). 0, or -1 with *err set (free with
 * sqlite3_free) and nothing changed. */
int compare_replace(sqlite3 *db, const char *scenario, compare_owner_t owner,
                    const compare_row_t *rows, size_t n, char **err);

/* Give `comparisons` its owner column if the database predates it; called by
 * db_open. 0 or an SQLite error code with *err set. */
int compare_migrate(sqlite3 *db, char **err);

#endif
