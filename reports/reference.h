/*
 * reference.h - an analyzed recording as validate's reference: the run that
 * `latsurf trace analyze FILE --db DB` wrote (an application's I/O, joined
 * per request from tracefs), read back as the numbers `latsurf validate
 * --reference DB` sets the live replay and the simulation against.
 *
 * It owns only the reading: which run of the database is the recording,
 * its latency quantiles, request count and the span of its I/O.
 */
#ifndef LATSURF_REFERENCE_H
#define LATSURF_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t run_id;
    char scenario[512];      /* the trace file the run was analyzed from */
    uint64_t requests;       /* requests joined end to end */
    double p50_ns, p99_ns, p999_ns;
    /* first t_issue to last t_ready over its request rows; the events'
     * span (runs.wall_s) when it has no rows */
    double span_ns;
    double iops;             /* requests / span */
    int span_from_rows;      /* 1: span_ns came from the request rows */
} reference_t;

/* Read the recording from the database at path: the latest run written by
 * `trace analyze` (variant "trace") that joined at least one request, else
 * the latest live run that did. Opened read-only; never created. 0, or
 * -ENOENT / -EACCES (missing, unreadable), -EINVAL (not a latsurf database,
 * or no run with recorded requests) with the reason in err. */
int reference_load(const char *path, reference_t *ref, char *err, size_t errlen);

#endif
