/*
 * trace_spc.c - SPC traces as the UMass Trace Repository publishes them
 * (the Financial and WebSearch traces; Storage Performance Council trace
 * format 1.0, CSV, one I/O per line):
 *
 *     ASU,LBA,Size,Opcode,Timestamp[,optional fields]
 *
 * LBA is in 512-byte blocks, Size in bytes, Opcode r or w (either case),
 * Timestamp decimal seconds from the trace's start ("0.551706"), read
 * exactly to the nanosecond. The ASU (application specific storage unit)
 * becomes the flow. The format allows further fields after the fifth: they
 * are ignored. A header line naming the columns is allowed; other opcodes
 * are unknown actions (skipped, counted); a zero size is skipped.
 */
#include "lineparse.h"
#include "trace.h"

#include <errno.h>
#include <strings.h>

static int spc_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *f[5];
    int n;
    while (trace_csv_next(r, "ASU", f, 5, &n)) {
        if (n < 5)
            return trace_fail(r, "expected at least 5 comma-separated fields (ASU, LBA, Size, "
                                 "Opcode, Timestamp), got %d", n);
        uint64_t asu, lba, size, ts;
        if (!lp_u64(f[0], &asu) || asu > UINT32_MAX)
            return trace_fail(r, "ASU: expected an integer below 2^32, got '%s'", f[0]);
        if (!lp_u64(f[1], &lba) || lba > (UINT64_MAX >> 9))
            return trace_fail(r, "LBA: expected a 512-byte block number, got '%s'", f[1]);
        if (!lp_u64(f[2], &size) || size > INT32_MAX)
            return trace_fail(r, "Size: expected bytes (below 2^31), got '%s'", f[2]);
        if (!lp_fixed(f[4], 9, &ts))
            return trace_fail(r, "Timestamp: expected seconds (like 0.551706), got '%s'", f[4]);
        int op = -1;
        if (f[3][0] && !f[3][1])
            op = (f[3][0] | 0x20) == 'r' ? 0 : (f[3][0] | 0x20) == 'w' ? 1 : -1;
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
        rec->t_ns = ts;
        rec->op = (uint8_t)op;
        rec->offset = lba << 9;
        rec->bytes = (uint32_t)size;
        rec->flow = (uint32_t)asu;
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_spc_fmt = {
    .name = "spc",
    .tick_ns = 1,
    .next = spc_next,
};
