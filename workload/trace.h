/*
 * trace.h - streaming readers for block I/O traces, one ops struct per format.
 *
 * A reader turns a trace file into request records one at a time:
 * trace_open -> trace_next ... -> trace_close. It holds one line buffer and
 * whatever bounded state its format needs (blkparse's pending-request
 * window), so memory does not grow with the trace length. Open-loop
 * timestamps are normalised so the first record is at 0. Lines that are
 * valid but not requests (file management, sync, plug events) are skipped
 * and counted; unknown actions are skipped and counted separately; anything
 * else malformed is an error whose message reads "file:line: reason".
 *
 * A selection (trace_select) keeps one flow and/or a time window of a long
 * multi-volume trace; the records it drops are counted, and the kept ones
 * are renumbered and re-timed as if they were the whole trace.
 *
 * This module owns the record type, the format table and the line-reading
 * and error plumbing the formats share (trace.c); each format lives in its
 * own trace_<file>.c and is one line of the table in trace.c: format names
 * come only from there. trace_jsonl_write() is the inverse of the jsonl reader,
 * used by `latsurf import`.
 */
#ifndef LATSURF_TRACE_H
#define LATSURF_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#define TRACE_MAX_AFTER 1024   /* ids one closed-loop record may wait on */
#define TRACE_MAX_LINE (1 << 20)

typedef struct {
    uint64_t id;
    bool closed;          /* true: wait for `after`, then think_ns; false: issue at t_ns */
    uint64_t t_ns;        /* open loop: issue time, normalised (first record at 0) */
    uint32_t nafter;
    const uint64_t *after; /* valid until the next trace_next() */
    uint64_t think_ns;
    uint64_t think_cpu_ns; /* the part of think_ns that is CPU work of the consumer (<= think_ns) */
    uint8_t op;           /* req_op_t: 0 read, 1 write */
    uint64_t offset;      /* bytes */
    uint32_t bytes;
    uint32_t flow;
    int cls;              /* pol_class_t, -1: not given (the replay's default) */
    int consumer_cpu;     /* -1: not given */
    int gpu;              /* -1: no GPU continuation */
    int gates;            /* 0/1, -1: not given */
    int64_t service_ns;   /* issue-to-complete time in the source trace, -1: unknown */
    uint64_t line;        /* source line that produced the record */
} trace_rec_t;

typedef struct {
    uint64_t records;      /* returned by trace_next */
    uint64_t skipped;      /* valid lines that are not requests */
    uint64_t unknown;      /* unknown actions, skipped */
    uint64_t out_of_order; /* open-loop timestamps earlier than the previous one */
    uint64_t paired;       /* records with a service time (issue-to-complete pair) */
    uint64_t span_ns;      /* largest normalised open-loop timestamp */
    uint64_t lines;
    uint64_t unselected;   /* requests outside the selection (trace_select) */
} trace_stats_t;

/* Which requests a reader returns. The time window is in ns since the
 * file's first request (whatever its flow), [from_ns, to_ns); the kept
 * requests are re-timed so the first kept one is at 0 and (in every format
 * but jsonl, whose ids are its own) numbered from 0.
 * A selection applies to open-loop records only: a closed-loop one (JSONL
 * `after`) is an error while a selection is set, since the requests it
 * waits on may not be kept. */
typedef struct {
    bool one_flow;
    uint32_t flow;         /* the flow to keep: the volume/device id as written */
    uint64_t from_ns;      /* 0: from the start */
    uint64_t to_ns;        /* UINT64_MAX: to the end */
} trace_select_t;

typedef struct trace_reader trace_reader_t;

/* A format. `next` returns 1 with a record whose t_ns is still raw (in
 * tick_ns units, not normalised), 0 at end of file, -EINVAL after
 * trace_fail(). */
typedef struct trace_fmt {
    const char *name;
    uint64_t tick_ns;      /* raw timestamp unit */
    int (*open)(trace_reader_t *r);   /* allocate r->priv; 0 or -errno */
    int (*next)(trace_reader_t *r, trace_rec_t *rec);
    void (*close)(trace_reader_t *r); /* free r->priv */
} trace_fmt_t;

const trace_fmt_t *trace_fmt_find(const char *name);
/* Format names in table order, NULL-terminated (for cfg_enum and messages). */
const char *const *trace_fmt_names(void);
/* The names joined by sep into buf: 0, or -ENOSPC when they do not fit. */
int trace_fmt_list(char *buf, size_t len, const char *sep);

/* Open path in the named format. On failure returns -errno or -EINVAL and
 * writes the reason into err. */
int trace_open(const char *path, const char *fmt, trace_reader_t **out, char *err, size_t errlen);
/* 1: *rec filled; 0: end of file; <0: error, see trace_error(). */
int trace_next(trace_reader_t *r, trace_rec_t *rec);
/* Set a selection before the first trace_next(). */
void trace_select(trace_reader_t *r, const trace_select_t *sel);
const char *trace_error(const trace_reader_t *r);
const trace_stats_t *trace_stats(const trace_reader_t *r);
const char *trace_path(const trace_reader_t *r);
void trace_close(trace_reader_t *r);

/* Write rec as one latsurf JSONL line. 0 or -errno. */
int trace_jsonl_write(FILE *f, const trace_rec_t *rec);

/* ---- for the format implementations ---- */

struct trace_reader {
    const trace_fmt_t *fmt;
    FILE *f;
    char *path;
    char *buf;             /* read buffer: whole lines are handed out in place */
    size_t cap, pos, len;  /* buf[pos, len) is read but not yet handed out */
    bool at_eof;
    uint64_t lineno;
    void *priv;
    trace_stats_t st;
    bool have_base;
    uint64_t base, last_t;
    uint64_t t_max;        /* INT64_MAX / fmt->tick_ns: no division per record */
    bool selecting, have_sel_base;
    trace_select_t sel;
    uint64_t sel_base;
    char err[512];
};

/* Next line without its newline, NUL-terminated in place in the read buffer
 * and valid until the next call (NULL at EOF or on error: check r->err[0]).
 * Counts lines; refuses lines longer than TRACE_MAX_LINE. */
char *trace_getline(trace_reader_t *r);
/* The next data line of a comma-separated trace, split in place into
 * f[0..max-1] as lp_split does (*n is the field count, max + 1 when there
 * are more). Blank lines, and on line 1 a header beginning with `header`
 * (case-insensitive, counted as skipped), are passed over. NULL at EOF or on
 * error, as trace_getline. */
char *trace_csv_next(trace_reader_t *r, const char *header, char **f, int max, int *n);
/* Record "path:line: reason" and return -EINVAL. */
int trace_fail(trace_reader_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int trace_fail_at(trace_reader_t *r, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reset rec to the defaults (read, 4 KiB, flow 0, nothing optional given). */
void trace_rec_init(trace_rec_t *rec, uint64_t line);

#endif
