/*
 * sweep_wire.h - one finished sweep task as bytes, so a worker process or
 * MPI rank can hand its result_t to the one process that writes SQLite.
 *
 * A frame carries the task index, the runner's return code, the host that
 * ran it, and either the error text or the whole result: metrics, stages,
 * histograms (moments and the non-zero buckets only) and request rows.
 * Doubles travel as their bytes, so a value written from a frame is the
 * value the worker computed, bit for bit. Byte order is the sender's: all
 * ranks of one sweep must share it (every x86-64 and arm64 host does).
 */
#ifndef LATSURF_SWEEP_WIRE_H
#define LATSURF_SWEEP_WIRE_H

#include "sweep/sweep.h"
#include "sim/result.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t len, cap;
} sweep_buf_t;

void sweep_buf_free(sweep_buf_t *b);

typedef struct {
    uint32_t task;
    int32_t rc;      /* runner_run's: 0, or a negative errno */
    char host[256];
    char msg[1024];  /* the error when rc != 0 */
} sweep_wire_hdr_t;

/* Replace b's contents with one frame: res when rc == 0, else msg. 0 or -ENOMEM. */
int sweep_wire_pack(sweep_buf_t *b, uint32_t task, int32_t rc, const char *host, const char *msg,
                    const result_t *res);

/* Decode a frame; res (result_init'ed, empty) is filled when h->rc == 0.
 * 0, -EPROTO for a malformed frame (res left empty) or -ENOMEM. */
int sweep_wire_unpack(const void *p, size_t len, sweep_wire_hdr_t *h, result_t *res);

/* The receiving side in one call: decode a frame of plan p and, when it
 * holds a result and `deliver` is set, give it to sink. *task is the frame's
 * task (UINT32_MAX if malformed). Returns 0, or a negative errno with err
 * set: -EPROTO (malformed), -EINTR (the task was interrupted), the task's
 * own error, or the sink's. */
int sweep_wire_accept(const sweep_plan_t *p, const void *frame, size_t len, sweep_sink_t *sink,
                      int deliver, uint32_t *task, char *err, size_t errlen);

#endif
