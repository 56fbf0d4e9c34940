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

static int disksim_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *line;
    while ((line = trace_getline(r))) {
        char *tok[5];
        int n = lp_words(line, tok, 5);
        if (n == 0 || tok[0][0] == '#')
            continue;
        if (n != 5)
            return trace_fail(r, "expected 5 fields (time_ns device sector sectors type), got %d%s",
                              n, n == 6 ? "+" : "");
        uint64_t t, dev, sector, nsect, type;
        if (!lp_u64(tok[0], &t)) {
            /* Some converters print the time as a decimal. */
            char *end;
            double d = strtod(tok[0], &end);
            if (*end || !(d >= 0) || d > 1.8e19)
                return trace_fail(r, "time: expected non-negative nanoseconds, got '%s'", tok[0]);
            t = (uint64_t)d;
        }
        if (!lp_u64(tok[1], &dev) || dev > UINT32_MAX)
            return trace_fail(r, "device: expected a device number, got '%s'", tok[1]);
        if (!lp_u64(tok[2], &sector) || sector > (UINT64_MAX >> 9))
            return trace_fail(r, "sector: expected a sector number, got '%s'", tok[2]);
        if (!lp_u64(tok[3], &nsect) || nsect > (INT32_MAX >> 9))
            return trace_fail(r, "size: expected a sector count, got '%s'", tok[3]);
        if (!lp_u64(tok[4], &type))
            return trace_fail(r, "type: expected 1 (read) or 0 (write), got '%s'", tok[4]);
        if (type > 1) {
            r->st.unknown++;
            continue;
        }
        if (nsect == 0) {
            r->st.skipped++;
            continue;
        }
        trace_rec_init(rec, r->lineno);
        rec->id = r->st.records;
        rec->t_ns = t;
        rec->op = type == 1 ? 0 : 1;
        rec->offset = sector << 9;
        rec->bytes = (uint32_t)(nsect << 9);
        rec->flow = (uint32_t)dev;
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_disksim_fmt = {
    .name = "disksim",
    .tick_ns = 1,
    .next = disksim_next,
};
