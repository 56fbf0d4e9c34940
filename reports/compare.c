/*
 * compare.c - see compare.h.
 */
#include "compare.h"

#include "reports/db.h"

#include <math.h>

const char *const compare_owner_names[] = {"report", "validate"};
_Static_assert(sizeof(compare_owner_names) / sizeof(compare_owner_names[0]) == COMPARE_NOWNER,
               "one name per owner");

static void bind_real(sqlite3_stmt *st, int i, double x)
{
    if (isfinite(x))
        sqlite3_bind_double(st, i, x);
    else
        sqlite3_bind_null(st, i);
}

int compare_replace(sqlite3 *db, const char *scenario, compare_owner_t owner,
                    const compare_row_t *rows, size_t n, char **err)
{
    sqlite3_stmt *del = NULL, *ins = NULL;
    const char *who = compare_owner_names[owner];
    *err = NULL;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "DELETE FROM comparisons WHERE scenario=?1 AND owner=?2", -1,
                                &del, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO comparisons(scenario, variant, baseline, metric,"
                                " value, baseline_value, delta_pct, ci_low, ci_high, significant,"
                                " owner) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                                -1, &ins, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(del, 1, scenario, -1, SQLITE_STATIC);
        sqlite3_bind_text(del, 2, who, -1, SQLITE_STATIC);
        rc = sqlite3_step(del) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    }
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        const compare_row_t *c = &rows[i];
        sqlite3_bind_text(ins, 1, scenario, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, c->variant, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, c->baseline, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, c->metric, -1, SQLITE_STATIC);
        bind_real(ins, 5, c->value);
        bind_real(ins, 6, c->baseline_value);
        bind_real(ins, 7, c->delta_pct);
        bind_real(ins, 8, c->ci_low);
        bind_real(ins, 9, c->ci_high);
        if (c->significant >= 0)
            sqlite3_bind_int(ins, 10, c->significant);
        else
            sqlite3_bind_null(ins, 10);
        sqlite3_bind_text(ins, 11, who, -1, SQLITE_STATIC);
        rc = sqlite3_step(ins) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(ins);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        *err = sqlite3_mprintf("writing comparisons: %s", sqlite3_errmsg(db));
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    if (rc != SQLITE_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : -1;
}

int compare_migrate(sqlite3 *db, char **err)
{
    *err = NULL;
    /* rows from before the column: validate's by the old ":sim" convention */
    return db_add_column(db, "comparisons", "owner",
                         "ALTER TABLE comparisons ADD COLUMN owner TEXT NOT NULL DEFAULT "
                         "'report';"
                         "UPDATE comparisons SET owner = 'validate' WHERE variant LIKE '%:sim';",
                         err);
}
