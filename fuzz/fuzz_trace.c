/*
 * fuzz_trace.c - the trace readers (workload/trace.h), one harness per
 * format: the fuzz build compiles this file once per format with
 * FUZZ_TRACE_FMT set ("jsonl", "fio-iolog", "blkparse", "msr-csv",
 * "disksim", "alibaba", "tencent-cbs", "spc").
 *
 * Input: the trace file. Every record is read to the end or the first
 * error, checked against the reader's contract (an error has a message
 * naming the file; records carry sane fields; normalised open-loop times do
 * not run backwards past the first) and written back as JSONL, which must
 * read back as the same record.
 */
#include "fuzz/fuzz_util.h"

#include "workload/trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_TRACE_MAX_RECORDS 100000

static void fuzz_trace_check(const trace_rec_t *rec)
{
    if (rec->bytes == 0 || rec->bytes > INT32_MAX || rec->op > 1 || rec->nafter > TRACE_MAX_AFTER ||
        (rec->nafter && !rec->after) || rec->line == 0)
        abort();
}

/* The JSONL writer and reader are inverses: round-trip one record. */
static void fuzz_trace_roundtrip(const trace_rec_t *rec)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return;
    int rc = trace_jsonl_write(f, rec);
    fclose(f);
    if (rc != 0)
        abort();
    char path[300];
    snprintf(path, sizeof(path), "%s.jsonl", fuzz_scratch());
    FILE *o = fopen(path, "wb");
    if (o) {
        fwrite(buf, 1, len, o);
        fclose(o);
        trace_reader_t *r;
        char err[512];
        trace_rec_t back;
        if (trace_open(path, "jsonl", &r, err, sizeof(err)) == 0) {
            if (trace_next(r, &back) != 1 || back.id != rec->id || back.closed != rec->closed ||
                back.op != rec->op || back.offset != rec->offset || back.bytes != rec->bytes ||
                back.flow != rec->flow || back.nafter != rec->nafter ||
                back.service_ns != rec->service_ns || (!rec->closed && back.t_ns != 0))
                abort();
            for (uint32_t i = 0; i < rec->nafter; i++)
                if (back.after[i] != rec->after[i])
                    abort();
            trace_close(r);
        }
        unlink(path);
    }
    free(buf);
}

int fuzz_trace_one(const char *fmt, const uint8_t *data, size_t size)
{
    const char *path = fuzz_write(data, size);
    if (!path)
        return 0;
    trace_reader_t *r;
    char err[512] = "";
    int rc = trace_open(path, fmt, &r, err, sizeof(err));
    if (rc < 0) {
        if (!strstr(err, path))
            abort(); /* a bad file is named in its message */
        return 0;
    }
    trace_rec_t rec;
    uint64_t n = 0;
    while (n < FUZZ_TRACE_MAX_RECORDS && (rc = trace_next(r, &rec)) == 1) {
        fuzz_trace_check(&rec);
        /* one round trip per input keeps the harness fast */
        if (n++ == 0)
            fuzz_trace_roundtrip(&rec);
    }
    if (rc < 0 && !strstr(trace_error(r), path))
        abort();
    if (rc == 0 && trace_stats(r)->records != n)
        abort();
    trace_close(r);
    return 0;
}

#ifdef LATSURF_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_trace_one(FUZZ_TRACE_FMT, data, size);
}
#endif
