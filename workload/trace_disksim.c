/*
 * trace_disksim.c - DiskSim ASCII traces as MQSim writes them (the format of
 * the sample traces in scenarios/traces/): one request per line,
 *
 *     arrival_time_ns  device_number  start_sector  size_in_sectors  type
 *
 * sectors are 512 bytes, type 1 = read, 0 = write. The device number becomes
 * the flow. Other type values are unknown actions (skipped, counted).
 */
#include "trace.h"

#include "lineparse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The slow path: a line lp_u64_words did not take, split and parsed field
 * by field so that a bad one is named. 1 with v[] filled, 0 for a line to
 * skip (blank, comment), or the error. */
static int disksim_fields(trace_reader_t *r, char *line, uint64_t v[5])
{
    char *tok[5];
    int n = lp_words(line, tok, 5);
    if (n == 0 || tok[0][0] == '#')
        return 0;
    if (n != 5)
        return trace_fail(r, "expected 5 fields (time_ns device sector sectors type), got %d%s",
                          n, n == 6 ? "+" : "");
    if (!lp_u64(tok[0], &v[0])) {
        /* Some converters print the time as a decimal. */
        char *end;
        double d = strtod(tok[0], &end);
        if (*end || !(d >= 0) || d > 1.8e19)
            return trace_fail(r, "time: expected non-negative nanoseconds, got '%s'", tok[0]);
        v[0] = (uint64_t)d;
    }
    if (!lp_u64(tok[1], &v[1]) || v[1] > UINT32_MAX)
        return trace_fail(r, "device: expected a device number, got '%s'", tok[1]);
    if (!lp_u64(tok[2], &v[2]) || v[2] > (UINT64_MAX >> 9))
        return trace_fail(r, "sector: expected a sector number, got '%s'", tok[2]);
    if (!lp_u64(tok[3], &v[3]) || v[3] > (INT32_MAX >> 9))
        return trace_fail(r, "size: expected a sector count, got '%s'", tok[3]);
    if (!lp_u64(tok[4], &v[4]))
        return trace_fail(r, "type: expected 1 (read) or 0 (write), got '%s'", tok[4]);
    return 1;
}

static int disksim_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *line;
    while ((line = trace_getline(r))) {
        /* v: time_ns, device, sector, sectors, type */
        uint64_t v[5];
        if (!lp_u64_words(line, v, 5) || v[1] > UINT32_MAX || v[2] > (UINT64_MAX >> 9) ||
            v[3] > (INT32_MAX >> 9)) {
            int rc = disksim_fields(r, line, v);
            if (rc <= 0) {
                if (rc < 0)
                    return rc;
                continue;
            }
        }
        if (v[4] > 1) {
            r->st.unknown++;
            continue;
        }
        if (v[3] == 0) {
            r->st.skipped++;
            continue;
        }
        trace_rec_init(rec, r->lineno);
        rec->id = r->st.records;
        rec->t_ns = v[0];
        rec->op = v[4] == 1 ? 0 : 1;
        rec->offset = v[2] << 9;
        rec->bytes = (uint32_t)(v[3] << 9);
        rec->flow = (uint32_t)v[1];
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_disksim_fmt = {
    .name = "disksim",
    .tick_ns = 1,
    .next = disksim_next,
};
