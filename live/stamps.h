/*
 * stamps.h - the kernel's side of a live run's requests, from tracefs.
 *
 * User space sees t_issue, t_submit, t_cqe and t_ready. While a live run is
 * traced, the calibrate/ recorder (tracerec) keeps the storage-path
 * tracepoints in a private instance; at the end the trace is parsed and
 * joined per request (traceparse, tracejoin) and each live request is found
 * by its io_uring user_data (LIVE_STAMPS_ID: the request id in the high
 * bits). Its stamps then become the kernel's: t_submit (io_uring_submit_req),
 * t_dispatch (block_rq_issue), t_irq = t_device_done (the device vector's
 * handler), t_blk_done (block_rq_complete), t_cqe (io_uring_complete), and
 * its irq/completion CPUs and deferral. Stamps are clamped to be ordered
 * between t_issue and t_ready, so stage sums still hold.
 */
#ifndef LATSURF_LIVE_STAMPS_H
#define LATSURF_LIVE_STAMPS_H

#include "models/req.h"

#include <stddef.h>
#include <stdint.h>

/* The io_uring user_data of request id in slot: the id's low 39 bits above
 * the slot, so it is never all ones (the backend's wake-up tag). */
#define LIVE_STAMPS_SLOT_BITS 24
#define LIVE_STAMPS_ID(ud) ((ud) >> LIVE_STAMPS_SLOT_BITS)
#define LIVE_STAMPS_UD(id, slot)                                                                 \
    ((((uint64_t)(id) & ((1ull << 39) - 1)) << LIVE_STAMPS_SLOT_BITS) | (uint64_t)(slot))

typedef struct live_stamps live_stamps_t;

/* Start recording. 0, or -errno with why in note (no tracefs, not root). */
int live_stamps_start(live_stamps_t **out, char *note, size_t nlen);

/* Move what the kernel buffered into memory; call every ~100 ms. */
void live_stamps_drain(live_stamps_t *s);

/* Stop, join, and fill the stamps of req[0..n) (times relative to t0, a
 * CLOCK_MONOTONIC instant). Returns the number of requests filled or
 * -errno; note says how much was joined. */
int live_stamps_fill(live_stamps_t *s, uint64_t t0, req_t *req, size_t n, char *note,
                     size_t nlen);

void live_stamps_free(live_stamps_t *s); /* NULL is fine */

#endif
