/*
 * trace_alibaba.c - Alibaba cloud block traces (alibaba/block-traces, 2020;
 * CSV, one I/O per line):
 *
 *     device_id,opcode,offset,length,timestamp
 *
 * opcode is R or W, offset and length are bytes, timestamp is microseconds
 * (Unix time). device_id, the virtual disk, becomes the flow. A header line
 * naming the columns is allowed; other opcodes are unknown actions (skipped,
 * counted); a zero length is skipped.
 */
#include "lineparse.h"
#include "trace.h"

#include <errno.h>
#include <strings.h>

#define ALIBABA_TICK_NS 1000

static int alibaba_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *f[5];
    int n;
    while (trace_csv_next(r, "device_id", f, 5, &n)) {
        if (n != 5)
            return trace_fail(r, "expected 5 comma-separated fields (device_id, opcode, offset, "
                                 "length, timestamp), got %d%s", n > 5 ? 5 : n, n > 5 ? "+" : "");
        uint64_t dev, off, len, ts;
        if (!lp_u64(f[0], &dev) || dev > UINT32_MAX)
            return trace_fail(r, "device_id: expected an integer below 2^32, got '%s'", f[0]);
        if (!lp_u64(f[2], &off))
            return trace_fail(r, "offset: expected bytes, got '%s'", f[2]);
        if (!lp_u64(f[3], &len) || len > INT32_MAX)
            return trace_fail(r, "length: expected bytes (below 2^31), got '%s'", f[3]);
        if (!lp_u64(f[4], &ts))
            return trace_fail(r, "timestamp: expected microseconds, got '%s'", f[4]);
        int op = -1;
        if (f[1][0] && !f[1][1])
            op = (f[1][0] | 0x20) == 'r' ? 0 : (f[1][0] | 0x20) == 'w' ? 1 : -1;
        if (op < 0) {
            r->st.unknown++;
            continue;
        }
        if (len == 0) {
            r->st.skipped++;
            continue;
        }
        trace_rec_init(rec, r->lineno);
        rec->id = r->st.records;
        rec->t_ns = ts; /* microseconds; trace_next subtracts the first before scaling */
        rec->op = (uint8_t)op;
        rec->offset = off;
        rec->bytes = (uint32_t)len;
        rec->flow = (uint32_t)dev;
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_alibaba_fmt = {
    .name = "alibaba",
    .tick_ns = ALIBABA_TICK_NS,
    .next = alibaba_next,
};
