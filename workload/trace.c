/*
 * trace.c - the trace format table and what the readers share: opening,
 * line reading, "file:line: reason" errors and timestamp normalisation.
 */
#include "trace.h"

#include "lineparse.h"
#include "sim/vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The formats, in the order users see them: one line per reader file
 * workload/trace_<file>.c, which defines `const trace_fmt_t trace_<file>_fmt`.
 * Everything else that lists formats (the scenario's "format" key, `latsurf
 * import`, its usage text, the fuzz harnesses in CMakeLists.txt) derives
 * from this table or from the reader files. */
#define TRACE_FORMATS(X)                                                                          \
    X(jsonl)                                                                                      \
    X(fio)                                                                                        \
    X(blkparse)                                                                                   \
    X(msr)                                                                                        \
    X(disksim)                                                                                    \
    X(alibaba)                                                                                    \
    X(tencent)                                                                                    \
    X(spc)

#define TRACE_DECLARE(file) extern const trace_fmt_t trace_##file##_fmt;
TRACE_FORMATS(TRACE_DECLARE)
#undef TRACE_DECLARE

#define TRACE_ROW(file) &trace_##file##_fmt,
static const trace_fmt_t *const trace_table[] = {TRACE_FORMATS(TRACE_ROW)};
#undef TRACE_ROW

#define TRACE_NFMT (sizeof(trace_table) / sizeof(trace_table[0]))

const trace_fmt_t *trace_fmt_find(const char *name)
{
    for (size_t i = 0; i < TRACE_NFMT; i++)
        if (strcmp(trace_table[i]->name, name) == 0)
            return trace_table[i];
    return NULL;
}

const char *const *trace_fmt_names(void)
{
    static const char *names[TRACE_NFMT + 1];
    for (size_t i = 0; i < TRACE_NFMT; i++)
        names[i] = trace_table[i]->name;
    return names;
}

int trace_fmt_list(char *buf, size_t len, const char *sep)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < TRACE_NFMT; i++) {
        int k = snprintf(buf + n, len - n, "%s%s", i ? sep : "", trace_table[i]->name);
        if (k < 0 || (size_t)k >= len - n)
            return -ENOSPC;
        n += (size_t)k;
    }
    return 0;
}

int trace_open(const char *path, const char *fmt, trace_reader_t **out, char *err, size_t errlen)
{
    *out = NULL;
    const trace_fmt_t *f = trace_fmt_find(fmt);
    if (!f) {
        char names[256];
        trace_fmt_list(names, sizeof(names), ", ");
        snprintf(err, errlen, "unknown trace format '%s' (%s)", fmt, names);
        return -EINVAL;
    }
    trace_reader_t *r = calloc(1, sizeof(*r));
    if (!r || !(r->path = strdup(path))) {
        free(r);
        snprintf(err, errlen, "%s: out of memory", path);
        return -ENOMEM;
    }
    r->fmt = f;
    r->t_max = (uint64_t)INT64_MAX / f->tick_ns;
    r->f = fopen(path, "r");
    if (!r->f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        trace_close(r);
        return -e;
    }
    int rc = f->open ? f->open(r) : 0;
    if (rc < 0) {
        snprintf(err, errlen, "%s", r->err[0] ? r->err : "out of memory");
        trace_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void trace_select(trace_reader_t *r, const trace_select_t *sel)
{
    r->sel = *sel;
    r->selecting = sel->one_flow || sel->from_ns > 0 || sel->to_ns < UINT64_MAX;
}

/* With a selection: false if rec (time *t since the file's first request)
 * is not kept; else re-time it from the first kept request. The readers
 * number from st.records, so the kept requests count from 0. */
static bool trace_keep(trace_reader_t *r, const trace_rec_t *rec, uint64_t *t)
{
    if ((r->sel.one_flow && rec->flow != r->sel.flow) || *t < r->sel.from_ns ||
        *t >= r->sel.to_ns) {
        r->st.unselected++;
        return false;
    }
    if (!r->have_sel_base) {
        r->have_sel_base = true;
        r->sel_base = *t;
    }
    *t = *t >= r->sel_base ? *t - r->sel_base : 0;
    return true;
}

#define TRACE_UNSELECTED 2

/* trace_next for one record of the file: TRACE_UNSELECTED if the selection
 * drops it. */
static int trace_next_one(trace_reader_t *r, trace_rec_t *rec)
{
    int rc = r->fmt->next(r, rec);
    if (rc <= 0)
        return rc;
    /* Every field must survive the JSONL writer (signed 64-bit integers) and
     * the models' offset arithmetic. */
    if (rec->offset > (uint64_t)INT64_MAX - rec->bytes)
        return trace_fail_at(r, rec->line, "offset %llu: beyond 2^63 bytes",
                             (unsigned long long)rec->offset);
    if (rec->closed && r->selecting)
        return trace_fail_at(r, rec->line, "a closed-loop record (after) cannot be read with a "
                             "flow or time selection: the requests it waits on may not be kept");
    if (!rec->closed) {
        uint64_t raw = rec->t_ns;
        if (!r->have_base) {
            r->have_base = true;
            r->base = raw;
        }
        /* A record before the first one's time is clamped, not negative. */
        uint64_t t = raw >= r->base ? raw - r->base : 0;
        if (t > r->t_max)
            return trace_fail_at(r, rec->line, "timestamp: more than 2^63 ns after the first "
                                 "record");
        t *= r->fmt->tick_ns;
        if (r->selecting && !trace_keep(r, rec, &t))
            return TRACE_UNSELECTED;
        if (r->st.records && t < r->last_t)
            r->st.out_of_order++;
        r->last_t = t;
        if (t > r->st.span_ns)
            r->st.span_ns = t;
        rec->t_ns = t;
    }
    if (rec->service_ns >= 0)
        r->st.paired++;
    r->st.records++;
    return 1;
}

int trace_next(trace_reader_t *r, trace_rec_t *rec)
{
    if (r->err[0])
        return -EINVAL;
    int rc;
    while ((rc = trace_next_one(r, rec)) == TRACE_UNSELECTED)
        ;
    return rc;
}

const char *trace_error(const trace_reader_t *r) { return r->err; }
const trace_stats_t *trace_stats(const trace_reader_t *r) { return &r->st; }
const char *trace_path(const trace_reader_t *r) { return r->path; }

void trace_close(trace_reader_t *r)
{
    if (!r)
        return;
    if (r->priv && r->fmt->close)
        r->fmt->close(r);
    if (r->f)
        fclose(r->f);
    free(r->buf);
    free(r->path);
    free(r);
}

/* The reader reads in blocks and cuts lines with memchr: fgets + strlen per
 * line was a visible share of a fast format's time. */
#define TRACE_READ_CHUNK (256 * 1024)

char *trace_getline(trace_reader_t *r)
{
    char *line, *end;
    for (;;) {
        char *p = r->buf ? r->buf + r->pos : NULL; /* no buffer before the first read */
        end = r->len > r->pos ? memchr(p, '\n', r->len - r->pos) : NULL;
        if (end) {
            line = p;
            r->pos = (size_t)(end - r->buf) + 1;
            break;
        }
        size_t part = r->len - r->pos; /* a line not yet complete */
        if (part > TRACE_MAX_LINE) {
            r->lineno++;
            trace_fail(r, "line longer than %d bytes", TRACE_MAX_LINE);
            return NULL;
        }
        if (r->at_eof) {
            if (part == 0)
                return NULL;
            line = p; /* last line without a newline: buf keeps a byte for its NUL */
            end = p + part;
            r->pos = r->len;
            break;
        }
        if (r->pos) {
            memmove(r->buf, p, part);
            r->pos = 0;
            r->len = part;
        }
        if (r->cap - r->len < TRACE_READ_CHUNK / 2 + 1 &&
            VEC_RESERVE(r->buf, r->cap, r->len + TRACE_READ_CHUNK + 1) != 0) {
            trace_fail(r, "out of memory");
            return NULL;
        }
        size_t n = fread(r->buf + r->len, 1, r->cap - r->len - 1, r->f);
        if (n == 0) {
            if (ferror(r->f)) {
                trace_fail(r, "read error: %s", strerror(errno));
                return NULL;
            }
            r->at_eof = true;
        }
        r->len += n;
    }
    *end = '\0';
    r->lineno++;
    r->st.lines++;
    while (end > line && end[-1] == '\r')
        *--end = '\0';
    return line;
}

char *trace_csv_next(trace_reader_t *r, const char *header, char **f, int max, int *n)
{
    char *line;
    while ((line = trace_getline(r))) {
        if (lp_blank(line))
            continue;
        if (r->lineno == 1 && strncasecmp(line, header, strlen(header)) == 0) {
            r->st.skipped++;
            continue;
        }
        *n = lp_split(line, ',', f, max);
        return line;
    }
    return NULL;
}

static int trace_vfail(trace_reader_t *r, uint64_t line, const char *fmt, va_list ap)
{
    if (r->err[0])
        return -EINVAL;
    int n = snprintf(r->err, sizeof(r->err), "%s:%llu: ", r->path, (unsigned long long)line);
    if (n > 0 && (size_t)n < sizeof(r->err))
        vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
    return -EINVAL;
}

int trace_fail(trace_reader_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = trace_vfail(r, r->lineno, fmt, ap);
    va_end(ap);
    return rc;
}

int trace_fail_at(trace_reader_t *r, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = trace_vfail(r, line, fmt, ap);
    va_end(ap);
    return rc;
}

void trace_rec_init(trace_rec_t *rec, uint64_t line)
{
    /* A template copy, not memset + stores: gcc makes a memset of this size
     * a `rep stos`, slow to start, once per record of a replay. The empty
     * asm hides the template's contents, or gcc turns the copy back into
     * that memset. */
    static const trace_rec_t fresh = {
        .bytes = 4096, .cls = -1, .consumer_cpu = -1, .gpu = -1, .gates = -1, .service_ns = -1,
    };
    const trace_rec_t *tmpl = &fresh;
    __asm__("" : "+r"(tmpl));
    *rec = *tmpl;
    rec->line = line;
}
