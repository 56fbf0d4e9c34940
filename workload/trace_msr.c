/*
 * trace_msr.c - SNIA MSR Cambridge block traces (CSV, one I/O per line):
 *
 *     Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime
 *
 * Timestamp is a Windows filetime (100 ns ticks since 1601) and ResponseTime
 * is in the same ticks; Type is Read or Write; Offset and Size are bytes.
 * DiskNumber becomes the flow, ResponseTime the record's service time. A
 * header line naming the columns is allowed; other Type values are unknown
 * actions (skipped, counted).
 */
#include "trace.h"

#include "lineparse.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#define MSR_TICK_NS 100

static int msr_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *f[8];
    int n;
    while (trace_csv_next(r, "Timestamp", f, 8, &n)) {
        /* lp_split keeps empty fields (an empty Hostname is still a column). */
        bool more = n > 8;
        if (more)
            n = 8;
        if (n != 7)
            return trace_fail(r, "expected 7 comma-separated fields (Timestamp, Hostname, "
                                 "DiskNumber, Type, Offset, Size, ResponseTime), got %d%s",
                              n, more ? "+" : "");
        uint64_t ts, disk, off, size, resp;
        if (!lp_u64(f[0], &ts))
            return trace_fail(r, "Timestamp: expected a Windows filetime, got '%s'", f[0]);
        if (!lp_u64(f[2], &disk) || disk > UINT32_MAX)
            return trace_fail(r, "DiskNumber: expected an integer, got '%s'", f[2]);
        if (!lp_u64(f[4], &off))
            return trace_fail(r, "Offset: expected bytes, got '%s'", f[4]);
        if (!lp_u64(f[5], &size) || size > INT32_MAX)
            return trace_fail(r, "Size: expected bytes, got '%s'", f[5]);
        if (!lp_u64(f[6], &resp) || resp > INT64_MAX / MSR_TICK_NS)
            return trace_fail(r, "ResponseTime: expected 100 ns ticks, got '%s'", f[6]);
        int op = strcasecmp(f[3], "Read") == 0 ? 0 : strcasecmp(f[3], "Write") == 0 ? 1 : -1;
        if (op < 0) {
            r->st.unknown++;
            continue;
        }
        if (size == 0) {
            r->st.skipped++;
            continue;
        }
        trace_rec_init(rec, r->lineno);
        rec->id = r->st.records;
        rec->t_ns = ts; /* ticks; trace_next subtracts the first before scaling */
        rec->op = (uint8_t)op;
        rec->offset = off;
        rec->bytes = (uint32_t)size;
        rec->flow = (uint32_t)disk;
        rec->service_ns = (int64_t)(resp * MSR_TICK_NS);
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_msr_fmt = {
    .name = "msr-csv",
    .tick_ns = MSR_TICK_NS,
    .next = msr_next,
};
