/*
 * traceexport.h - turns a joined recording (calibrate/tracejoin) into a
 * latsurf JSONL workload (docs/traces.md) that keeps the application's
 * structure, for `latsurf trace analyze FILE --export-jsonl OUT`.
 *
 * Every joined request becomes one closed-loop record, ids 0, 1, ... in
 * issue order. Each thread (tid) is a flow and a chain: a request is `after`
 * the request of the same thread whose result was in hand last before it
 * was issued (the latest t_ready <= its t_issue; for a pread loop the
 * previous pread, for io_uring/libaio the latest completion reaped before
 * the submission, so the queue depth survives; the JSONL `after` names that
 * one id, the other completions reaped before are older). `think_ns` is the
 * gap from that t_ready to this t_issue; `think_cpu_ns` the part of it the
 * thread was running on a CPU (from switch-in to switch-out, sched_switch,
 * less the hard and soft interrupts served while it was current; time
 * stolen by a hypervisor counts, as does each switch's own cost), the rest
 * is off-CPU wait. A
 * thread's first request has `"after": []` and think_ns from the first
 * exported request (so threads start as they did). Requests that did not
 * reach the device (page-cache reads) are not exported: their time is in
 * the next request's think time. Dependencies between threads are not seen
 * by a trace and are not written.
 *
 * offset is the device byte address of the request's first block request,
 * less the lowest one exported (rounded down to 1 MiB), so locality and
 * alignment survive and the span starts at 0; span_bytes > 0 folds offsets
 * modulo span_bytes to replay on a smaller target. bytes is the sum of the
 * block requests (what the device moved); service_ns the recorded t_issue
 * to t_ready; consumer_cpu the CPU the thread ran on at t_ready.
 *
 * The module only formats: the caller owns the file (and writes it to a
 * temporary file and renames it, so nothing half-written is left).
 */
#ifndef LATSURF_TRACEEXPORT_H
#define LATSURF_TRACEEXPORT_H

#include "calibrate/tracejoin.h"
#include "calibrate/traceparse.h"

#include <stdint.h>
#include <stdio.h>

typedef struct {
    uint64_t id;
    int64_t after;       /* id, -1: none ("after": []) */
    uint64_t think_ns, think_cpu_ns;
    uint64_t offset;
    uint64_t service_ns;
    uint64_t t_issue;    /* trace clock, ns */
    uint32_t bytes, flow;
    int16_t consumer_cpu; /* -1: unknown (not written) */
    uint8_t write;
    size_t req;          /* index in tracejoin_t.req */
} traceexport_rec_t;

typedef struct {
    traceexport_rec_t *rec;
    size_t n;
    uint64_t threads;     /* flows */
    uint64_t left_out;    /* requests seen but not joined (not exported) */
    uint64_t offset_base; /* subtracted from the device addresses */
    uint64_t span;        /* highest offset + bytes written */
} traceexport_t;

void traceexport_init(traceexport_t *x);
void traceexport_fini(traceexport_t *x);

/* Build the records of the joined requests of j (t: the events j was
 * joined from, for sched_switch). span_bytes: see above (0: no folding; else
 * a multiple of 4096). Returns 0, -EINVAL when span_bytes is not a multiple
 * of 4096, or -ENOMEM. */
int traceexport_build(const traceparse_t *t, const tracejoin_t *j, uint64_t span_bytes,
                      traceexport_t *x);

/* Write x as JSONL. Returns 0 or -EIO. */
int traceexport_write(const traceexport_t *x, FILE *f);

#endif
