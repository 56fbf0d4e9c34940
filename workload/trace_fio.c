/*
 * trace_fio.c - fio iologs (read_iolog / write_iolog), versions 2 and 3.
 *
 *   fio version 2 iolog                  fio version 3 iolog
 *   FILE add|open|close                  TIME_US FILE add|open|close
 *   FILE read|write OFFSET LENGTH        TIME_US FILE read|write OFFSET LENGTH
 *   FILE wait USEC 0
 *
 * Version 2 has no timestamps: a request's time is the sum of the waits
 * before it (so a log without waits is one burst at 0; replay it with the
 * trace workload's `qd`). Version 3 stamps every line in microseconds since
 * the run started and has no wait. Each distinct file name is one flow.
 * sync, datasync, sync_file_range and trim are skipped (not modelled).
 */
#include "trace.h"

#include "lineparse.h"
#include "trace_idmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FIO_MAX_FILES 4096

typedef struct {
    int version;
    uint64_t clock_us; /* v2: the sum of waits so far */
    trace_idmap_t *names; /* hash of the file name -> flow */
    char *name[FIO_MAX_FILES];
    uint32_t nnames;
} fio_t;

static int fio_open(trace_reader_t *r)
{
    fio_t *f = calloc(1, sizeof(*f));
    if (!f || !(f->names = trace_idmap_new(FIO_MAX_FILES))) {
        free(f);
        return -ENOMEM;
    }
    r->priv = f;
    char *line = trace_getline(r);
    if (line && strcmp(line, "fio version 2 iolog") == 0)
        f->version = 2;
    else if (line && strcmp(line, "fio version 3 iolog") == 0)
        f->version = 3;
    else if (!r->err[0])
        trace_fail_at(r, 1, "expected 'fio version 2 iolog' or 'fio version 3 iolog'");
    return f->version ? 0 : -EINVAL;
}

static void fio_close(trace_reader_t *r)
{
    fio_t *f = r->priv;
    for (uint32_t i = 0; i < f->nnames; i++)
        free(f->name[i]);
    trace_idmap_free(f->names);
    free(f);
}

static uint64_t fio_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static int fio_flow(trace_reader_t *r, const char *name, uint32_t *flow)
{
    fio_t *f = r->priv;
    uint64_t h = fio_hash(name);
    if (trace_idmap_get(f->names, h, flow)) {
        if (strcmp(f->name[*flow], name) == 0)
            return 0;
        return trace_fail(r, "file names '%s' and '%s' collide in the flow table", name,
                          f->name[*flow]);
    }
    if (f->nnames == FIO_MAX_FILES)
        return trace_fail(r, "more than %d distinct files", FIO_MAX_FILES);
    if (!(f->name[f->nnames] = strdup(name)))
        return trace_fail(r, "out of memory");
    *flow = f->nnames++;
    trace_idmap_put(f->names, h, *flow);
    return 0;
}

static int fio_next(trace_reader_t *r, trace_rec_t *rec)
{
    fio_t *f = r->priv;
    char *line;
    while ((line = trace_getline(r))) {
        char *tok[6];
        int n = lp_words(line, tok, 6);
        if (n > 6)
            n = 6;
        if (n == 0)
            continue;
        uint64_t ts = 0;
        int k = 0; /* index of the file name */
        if (f->version == 3) {
            if (!lp_u64(tok[0], &ts))
                return trace_fail(r, "expected a timestamp in microseconds, got '%s'", tok[0]);
            k = 1;
        }
        int nargs = n - k - 2; /* fields after FILE ACTION */
        if (nargs != 0 && nargs != 2)
            return trace_fail(r, "expected %sFILE ACTION [OFFSET LENGTH], got %d fields",
                              f->version == 3 ? "TIME " : "", n);
        const char *act = tok[k + 1];
        if (nargs == 0) {
            if (strcmp(act, "add") && strcmp(act, "open") && strcmp(act, "close"))
                r->st.unknown++;
            else
                r->st.skipped++;
            continue;
        }
        uint64_t off, len;
        if (!lp_u64(tok[k + 2], &off))
            return trace_fail(r, "offset: expected bytes, got '%s'", tok[k + 2]);
        if (!lp_u64(tok[k + 3], &len) || len > INT32_MAX)
            return trace_fail(r, "length: expected bytes, got '%s'", tok[k + 3]);
        if (strcmp(act, "wait") == 0) {
            if (f->version == 3)
                return trace_fail(r, "wait is not allowed in a version 3 iolog");
            f->clock_us += off;
            r->st.skipped++;
            continue;
        }
        int op = strcmp(act, "read") == 0 ? 0 : strcmp(act, "write") == 0 ? 1 : -1;
        if (op < 0) {
            if (strcmp(act, "sync") && strcmp(act, "datasync") && strcmp(act, "trim") &&
                strcmp(act, "sync_file_range"))
                r->st.unknown++;
            else
                r->st.skipped++;
            continue;
        }
        if (len == 0) {
            r->st.skipped++;
            continue;
        }
        trace_rec_init(rec, r->lineno);
        if (fio_flow(r, tok[k], &rec->flow) < 0)
            return -EINVAL;
        rec->id = r->st.records;
        rec->t_ns = f->version == 3 ? ts : f->clock_us;
        rec->op = (uint8_t)op;
        rec->offset = off;
        rec->bytes = (uint32_t)len;
        return 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

const trace_fmt_t trace_fio_fmt = {
    .name = "fio-iolog",
    .tick_ns = 1000,
    .open = fio_open,
    .next = fio_next,
    .close = fio_close,
};
