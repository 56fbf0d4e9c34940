/*
 * metric.c - see metric.h: the tables its X-macro and enums describe.
 */
#include "metric.h"

#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *const metric_time_names[] = {
    "t_issue", "t_submit", "t_dispatch", "t_device_done", "t_irq",
    "t_blk_done", "t_cqe", "t_ready", "t_continued",
};
_Static_assert(NELEM(metric_time_names) == REQ_NT, "one name per timestamp");

const char *const metric_stage_names[] = {
    "submit", "dispatch", "device", "irq", "blk_complete", "cqe_post", "wakeup", "continuation",
};
_Static_assert(NELEM(metric_stage_names) == REQ_NSTAGES, "one name per stage");
_Static_assert(REQ_NSTAGES == REQ_NT - 1, "stage i is t[i+1] - t[i]");

const char *const metric_unit_names[] = {"ns", "ms", "fraction", "1/s", "B/s", "count"};
_Static_assert(NELEM(metric_unit_names) == METRIC_NUNIT, "one name per unit");

#define METRIC_ROW(id, name, unit, better, key, plot, doc)                                         \
    [METRIC_##id] = {name, METRIC_UNIT_##unit, METRIC_##better, key, METRIC_PLOT_##plot, doc},
const metric_info_t metric_info[METRIC_N] = {METRIC_TABLE(METRIC_ROW)};
#undef METRIC_ROW

int metric_find(const char *name)
{
    for (int i = 0; i < METRIC_N; i++)
        if (strcmp(metric_info[i].name, name) == 0)
            return i;
    return -1;
}
