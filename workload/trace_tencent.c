/*
 * trace_tencent.c - Tencent Cloud Block Storage traces (SNIA IOTTA,
 * "Tencent CBS", 2018; CSV, one I/O per line):
 *
 *     Timestamp,Offset,Size,IOType,VolumeID
 *
 * Timestamp is Unix seconds, Offset and Size are 512-byte sectors, IOType
 * is 0 (read) or 1 (write). VolumeID, the cloud disk, becomes the flow. The
 * source has one-second resolution, so the requests of one second are
 * issued together. A header line naming the columns is allowed; other
 * IOType values are unknown actions (skipped, counted); a zero size is
 * skipped.
 */
#include "lineparse.h"
#include "trace.h"

#include <errno.h>
#include <strings.h>

#define TENCENT_TICK_NS 1000000000ull

static int tencent_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *f[5];
    int n;
    while (trace_csv_next(r, "Timestamp", f, 5, &n)) {
        if (n != 5)
            return trace_fail(r, "expected 5 comma-separated fields (Timestamp, Offset, Size, "
                                 "IOType, VolumeID), got %d%s", n > 5 ? 5 : n, n > 5 ? "+" : "");
        uint64_t ts, off, size, type, vol;
        if (!lp_u64(f[0], &ts))
            return trace_fail(r, "Timestamp: expected seconds, got '%s'", f[0]);
        if (!lp_u64(f[1], &off) || off > (UINT64_MAX >> 9))
            return trace_fail(r, "Offset: expected a sector number, got '%s'", f[1]);
        if (!lp_u64(f[2], &size) || size > (INT32_MAX >> 9))
            return trace_fail(r, "Size: expected a sector count (below 2^22), got '%s'", f[2]);
        if (!lp_u64(f[3], &type))
            return trace_fail(r, "IOType: expected 0 (read) or 1 (write), got '%s'", f[3]);
        if (!lp_u64(f[4], &vol) || vol > UINT32_MAX)
            return trace_fail(r, "VolumeID: expected an integer below 2^32, got '%s'", f[4]);
        if (type > 1) {
            r->st.unknown++;
            continue;
        }
        if (size == 0) {
            r->st.skipped++;
            continue;
        }
        trace_rec_init(rec, r->lineno);
        rec->id = r->st.records;
        rec->t_ns = ts; /* seconds; trace_next subtracts the first before scaling */
        rec->op = (uint8_t)type;
        rec->offset = off << 9;
        rec->bytes = (uint32_t)(size << 9);
        rec->flow = (uint32_t)vol;
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_tencent_fmt = {
    .name = "tencent-cbs",
    .tick_ns = TENCENT_TICK_NS,
    .next = tencent_next,
};
