/*
 * trace_jsonl.c - latsurf JSONL traces (docs/traces.md): one JSON object per
 * line, plus the writer `latsurf import` uses.
 *
 * Reading: a strict scanner for the record shape (flat object, integer,
 * string and boolean values, an array of ids) reads the lines it is sure
 * of, and declines anything else to jansson, which reads the general case
 * and words the syntax errors. Both fill the same values, checked once
 * (jsonl_fields), so a line gives the same record or the same error either
 * way. Why a scanner beside a packaged parser: building jansson's DOM per
 * line was most of a replay's time; simdjson was measured too (the table
 * in docs/traces.md).
 */
#include "trace.h"

#include "lineparse.h"
#include "models/req.h"
#include "policies/policy.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t after[TRACE_MAX_AFTER];
} jsonl_t;

static int jsonl_open(trace_reader_t *r)
{
    r->priv = calloc(1, sizeof(jsonl_t));
    return r->priv ? 0 : -ENOMEM;
}

static void jsonl_close(trace_reader_t *r) { free(r->priv); }

/* The keys of a record, in the order their values are checked. */
enum { K_ID, K_T, K_THINK, K_OFFSET, K_BYTES, K_FLOW, K_CPU, K_GPU, K_SVC, K_THINKCPU, K_OP,
       K_CLASS, K_GATES, K_AFTER, K_N };
static const char *const jsonl_keys[K_N] = {
    "id", "t_ns", "think_ns", "offset", "bytes", "flow", "consumer_cpu", "gpu", "service_ns",
    "think_cpu_ns", "op", "class", "gates", "after"};
static const int64_t jsonl_lo[K_THINKCPU + 1] = {0, 0, 0, 0, 1, 0, 0, -1, 0, 0};
static const int64_t jsonl_hi[K_THINKCPU + 1] = {INT64_MAX, INT64_MAX,  INT64_MAX, INT64_MAX,
                                                 INT32_MAX, UINT32_MAX, 4095,      255,
                                                 INT64_MAX, INT64_MAX};

enum { JV_ABSENT, JV_INT, JV_STR, JV_BOOL, JV_ARRAY, JV_OTHER };

/* One record's values, from either reader below; jsonl_fields checks them,
 * so both give the same records and the same errors. */
typedef struct {
    uint8_t kind[K_N];
    int64_t ival[K_N];        /* JV_INT; JV_BOOL: 0/1 */
    const char *sval[K_N];    /* JV_STR: not NUL-terminated */
    size_t slen[K_N];
    uint32_t nafter;          /* after ids in jsonl_t.after (all valid) */
    char after_err[96];       /* jansson path: what is wrong after them */
    const char *unknown;      /* jansson path: an unknown key */
} jsonl_vals_t;

/* The keys differ in length or, at equal length, in their first byte: one
 * candidate, then one fixed-size compare (a scan of the table with memcmp
 * calls was a visible share of a JSONL replay). */
#define JSONL_IS(k, lit) (memcmp(s, lit, sizeof(lit) - 1) == 0 ? (k) : -1)
static inline int jsonl_key(const char *s, size_t n)
{
    switch (n) {
    case 2:
        return s[0] == 'i' ? JSONL_IS(K_ID, "id") : JSONL_IS(K_OP, "op");
    case 3:
        return JSONL_IS(K_GPU, "gpu");
    case 4:
        return s[0] == 't' ? JSONL_IS(K_T, "t_ns") : JSONL_IS(K_FLOW, "flow");
    case 5:
        switch (s[0]) {
        case 'b':
            return JSONL_IS(K_BYTES, "bytes");
        case 'c':
            return JSONL_IS(K_CLASS, "class");
        case 'g':
            return JSONL_IS(K_GATES, "gates");
        default:
            return JSONL_IS(K_AFTER, "after");
        }
    case 6:
        return JSONL_IS(K_OFFSET, "offset");
    case 8:
        return JSONL_IS(K_THINK, "think_ns");
    case 10:
        return JSONL_IS(K_SVC, "service_ns");
    case 12:
        return s[0] == 'c' ? JSONL_IS(K_CPU, "consumer_cpu")
                           : JSONL_IS(K_THINKCPU, "think_cpu_ns");
    default:
        return -1;
    }
}
#undef JSONL_IS

/* ---- the fast path: a strict scanner for the record shape the importer
 * writes (any key order, blanks between tokens). It accepts only what is
 * certainly valid JSON with a plain meaning; anything else (escapes,
 * non-ASCII, numbers that are not plain integers, null, nesting, unknown or
 * repeated keys, trailing text) it declines, and jansson reads the line. */

static inline const char *js_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* Plain digits (no leading zero) worth at most `hi`: p after them, or NULL.
 * With no leading zero, 19 digits cannot overflow 64 bits and 20 are beyond
 * int64: the loop needs no overflow check. */
static inline const char *js_uint(const char *p, uint64_t hi, uint64_t *out)
{
    if ((unsigned)(*p - '0') >= 10 || (*p == '0' && (unsigned)(p[1] - '0') < 10))
        return NULL;
    const char *s = p;
    uint64_t v = 0;
    for (; (unsigned)(*p - '0') < 10; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    if (p - s > 19 || v > hi)
        return NULL;
    *out = v;
    return p;
}

/* A plain integer fitting int64 (no leading zeros, no fraction/exponent). */
static inline const char *js_int(const char *p, int64_t *out)
{
    bool neg = *p == '-';
    uint64_t v;
    p = js_uint(p + neg, (uint64_t)INT64_MAX + neg, &v);
    if (!p || *p == '.' || *p == 'e' || *p == 'E')
        return NULL;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return p;
}

/* The bytes a plain string may hold: printable ASCII but '"' and '\\'. */
static const bool js_plain[256] = {
    [0x20 ... 0x21] = true, /* '"' is 0x22 */
    [0x23 ... 0x5b] = true, /* '\\' is 0x5c */
    [0x5d ... 0x7e] = true,
};

/* A string without escapes or non-ASCII: its body, p after the closing quote. */
static inline const char *js_str(const char *p, const char **s, size_t *n)
{
    const char *q = ++p;
    while (js_plain[(unsigned char)*q])
        q++;
    if (*q != '"')
        return NULL;
    *s = p;
    *n = (size_t)(q - p);
    return q + 1;
}

static bool jsonl_scan(jsonl_t *j, const char *p, jsonl_vals_t *v)
{
    p = js_ws(p);
    if (*p++ != '{')
        return false;
    p = js_ws(p);
    if (*p == '}')
        return *js_ws(p + 1) == '\0';
    for (;;) {
        const char *ks;
        size_t kn;
        if (*p != '"' || !(p = js_str(p, &ks, &kn)))
            return false;
        int k = jsonl_key(ks, kn);
        if (k < 0 || v->kind[k] != JV_ABSENT)
            return false;
        p = js_ws(p);
        if (*p++ != ':')
            return false;
        p = js_ws(p);
        if (*p == '"') {
            if (!(p = js_str(p, &v->sval[k], &v->slen[k])))
                return false;
            v->kind[k] = JV_STR;
        } else if (*p == '-' || (unsigned)(*p - '0') < 10) {
            if (!(p = js_int(p, &v->ival[k])))
                return false;
            v->kind[k] = JV_INT;
        } else if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
            v->ival[k] = *p == 't';
            p += *p == 't' ? 4 : 5;
            v->kind[k] = JV_BOOL;
        } else if (*p == '[' && k == K_AFTER) {
            p = js_ws(p + 1);
            if (*p != ']')
                for (;;) {
                    int64_t id;
                    if (v->nafter == TRACE_MAX_AFTER || *p == '-' || !(p = js_int(p, &id)))
                        return false;
                    j->after[v->nafter++] = (uint64_t)id;
                    p = js_ws(p);
                    if (*p == ']')
                        break;
                    if (*p++ != ',')
                        return false;
                    p = js_ws(p);
                }
            p++;
            v->kind[k] = JV_ARRAY;
        } else {
            return false;
        }
        p = js_ws(p);
        if (*p == '}')
            return *js_ws(p + 1) == '\0';
        if (*p++ != ',')
            return false;
        p = js_ws(p);
    }
}

/* ---- the importer's shape: one exact line layout, read straight into the
 * record. `latsurf import` writes an open-loop record with no optional key
 * as {"id":N,"t_ns":N,"op":"read|write","offset":N,"bytes":N,"flow":N}: no
 * blanks, keys in this order. Matching that as fixed literals between the
 * integers skips the key lookup, the value bookkeeping and jsonl_fields'
 * checks, which were most of a JSONL replay's reading time (issue 17). It
 * accepts only lines whose record and validity are certain (every integer
 * within its key's range, jsonl_lo/jsonl_hi), and gives the record the
 * scanner and jsonl_fields would give; any other line (another order, a
 * blank, an optional key, a value out of range) it declines, and the
 * general scanner reads it from the start, errors included. */

/* p past the literal lit (a string constant), or NULL; the length check
 * first keeps memcmp inside the line (end: its NUL). */
#define JF_LIT(p, lit)                                                                             \
    ((size_t)(end - (p)) >= sizeof(lit) - 1 && memcmp((p), lit, sizeof(lit) - 1) == 0              \
         ? (p) + sizeof(lit) - 1                                                                   \
         : NULL)

static bool jsonl_fast(const char *p, trace_rec_t *rec)
{
    const char *end = p + strlen(p);
    uint64_t id, t, offset, bytes, flow;
    if (!(p = JF_LIT(p, "{\"id\":")) || !(p = js_uint(p, INT64_MAX, &id)) ||
        !(p = JF_LIT(p, ",\"t_ns\":")) || !(p = js_uint(p, INT64_MAX, &t)) ||
        !(p = JF_LIT(p, ",\"op\":\"")))
        return false;
    uint8_t op;
    const char *q;
    if ((q = JF_LIT(p, "read\""))) {
        op = REQ_READ;
    } else if ((q = JF_LIT(p, "write\""))) {
        op = REQ_WRITE;
    } else {
        return false;
    }
    p = q;
    if (!(p = JF_LIT(p, ",\"offset\":")) || !(p = js_uint(p, INT64_MAX, &offset)) ||
        !(p = JF_LIT(p, ",\"bytes\":")) || !(p = js_uint(p, INT32_MAX, &bytes)) || bytes < 1 ||
        !(p = JF_LIT(p, ",\"flow\":")) || !(p = js_uint(p, UINT32_MAX, &flow)) || p[0] != '}' ||
        p[1] != '\0')
        return false;
    /* what jsonl_fields sets for these keys; the rest keeps trace_rec_init's
     * defaults, which are the values jsonl_fields gives an absent key */
    rec->id = id;
    rec->t_ns = t;
    rec->op = op;
    rec->offset = offset;
    rec->bytes = (uint32_t)bytes;
    rec->flow = (uint32_t)flow;
    return true;
}
#undef JF_LIT

/* ---- the general path: jansson, for whatever the scanner declined. */

static void jsonl_from_jansson(jsonl_t *j, json_t *o, jsonl_vals_t *v)
{
    const char *key;
    json_t *x;
    json_object_foreach(o, key, x) {
        int k = jsonl_key(key, strlen(key));
        if (k < 0) {
            if (!v->unknown)
                v->unknown = key;
            continue;
        }
        if (json_is_integer(x)) {
            v->kind[k] = JV_INT;
            v->ival[k] = json_integer_value(x);
        } else if (json_is_string(x)) {
            v->kind[k] = JV_STR;
            v->sval[k] = json_string_value(x);
            v->slen[k] = json_string_length(x);
        } else if (json_is_boolean(x)) {
            v->kind[k] = JV_BOOL;
            v->ival[k] = json_is_true(x);
        } else if (json_is_array(x)) {
            v->kind[k] = JV_ARRAY;
        } else {
            v->kind[k] = JV_OTHER;
        }
        if (k != K_AFTER || !json_is_array(x))
            continue;
        if (json_array_size(x) > TRACE_MAX_AFTER) {
            snprintf(v->after_err, sizeof(v->after_err), "after: more than %d ids",
                     TRACE_MAX_AFTER);
            continue;
        }
        size_t i;
        json_t *e;
        json_array_foreach(x, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 0) {
                snprintf(v->after_err, sizeof(v->after_err),
                         "after.%zu: expected a non-negative integer id", i);
                break;
            }
            j->after[v->nafter++] = (uint64_t)json_integer_value(e);
        }
    }
}

/* A name from names[] (a JSON string); absent keeps *out. */
static int jsonl_name(trace_reader_t *r, const jsonl_vals_t *v, int k, const char *const *names,
                      int *out)
{
    if (v->kind[k] == JV_ABSENT)
        return 0;
    if (v->kind[k] == JV_STR)
        for (int i = 0; names[i]; i++)
            if (strncmp(names[i], v->sval[k], v->slen[k]) == 0 && names[i][v->slen[k]] == '\0') {
                *out = i;
                return 0;
            }
    char list[128] = "";
    size_t n = 0;
    for (int i = 0; names[i] && n < sizeof(list); i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "", names[i]);
    return trace_fail(r, "%s: expected one of %s", jsonl_keys[k], list);
}

static int jsonl_fields(trace_reader_t *r, const jsonl_vals_t *v, trace_rec_t *rec)
{
    jsonl_t *j = r->priv;
    /* defaults: id, t_ns, think_ns, offset, bytes, flow, consumer_cpu, gpu,
     * service_ns, think_cpu_ns */
    int64_t x[K_THINKCPU + 1] = {-1, -1, -1, 0, 4096, 0, -1, -1, -1, -1};
    for (int k = 0; k <= K_THINKCPU; k++) {
        if (v->kind[k] == JV_ABSENT)
            continue;
        if (v->kind[k] != JV_INT || v->ival[k] < jsonl_lo[k] || v->ival[k] > jsonl_hi[k])
            return trace_fail(r, "%s: expected an integer in [%lld, %lld]", jsonl_keys[k],
                              (long long)jsonl_lo[k], (long long)jsonl_hi[k]);
        x[k] = v->ival[k];
    }
    int op = 0;
    if (jsonl_name(r, v, K_OP, req_op_names, &op) < 0 ||
        jsonl_name(r, v, K_CLASS, pol_class_names, &rec->cls) < 0)
        return -EINVAL;
    if (x[K_ID] < 0)
        return trace_fail(r, "id: missing (every request needs a unique integer id)");
    rec->id = (uint64_t)x[K_ID];
    if (v->kind[K_GATES] != JV_ABSENT) {
        if (v->kind[K_GATES] != JV_BOOL)
            return trace_fail(r, "gates: expected true or false");
        rec->gates = (int)v->ival[K_GATES];
    }
    bool after = v->kind[K_AFTER] != JV_ABSENT;
    if (after) {
        if (v->kind[K_AFTER] != JV_ARRAY)
            return trace_fail(r, "after: expected an array of ids");
        for (uint32_t i = 0; i < v->nafter; i++)
            if (j->after[i] == rec->id)
                return trace_fail(r, "after.%u: request %llu waits on itself", i,
                                  (unsigned long long)rec->id);
        if (v->after_err[0])
            return trace_fail(r, "%s", v->after_err);
        rec->closed = true;
        rec->nafter = v->nafter;
        rec->after = j->after;
    }
    if (v->unknown)
        return trace_fail(r, "unknown key \"%s\"", v->unknown);
    int64_t t = x[K_T], think = x[K_THINK];
    if (after && t >= 0)
        return trace_fail(r, "give either t_ns (open loop) or after (closed loop), not both");
    if (!after && t < 0)
        return trace_fail(r, "missing t_ns (open loop) or after (closed loop)");
    if (!after && think >= 0)
        return trace_fail(r, "think_ns: only with after (closed loop)");
    int64_t think_cpu = x[K_THINKCPU];
    if (!after && think_cpu >= 0)
        return trace_fail(r, "think_cpu_ns: only with after (closed loop)");
    int64_t gap = think > 0 ? think : 0;
    if (think_cpu > gap)
        return trace_fail(r,
                          "think_cpu_ns (%lld) exceeds think_ns (%lld): the CPU part is "
                          "part of the gap",
                          (long long)think_cpu, (long long)gap);
    rec->t_ns = after ? 0 : (uint64_t)t;
    rec->think_ns = think > 0 ? (uint64_t)think : 0;
    rec->think_cpu_ns = think_cpu > 0 ? (uint64_t)think_cpu : 0;
    rec->op = (uint8_t)op;
    rec->offset = (uint64_t)x[K_OFFSET];
    rec->bytes = (uint32_t)x[K_BYTES];
    rec->flow = (uint32_t)x[K_FLOW];
    rec->consumer_cpu = (int)x[K_CPU];
    rec->gpu = (int)x[K_GPU];
    rec->service_ns = x[K_SVC];
    return 0;
}

static int jsonl_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *line;
    while ((line = trace_getline(r))) {
        trace_rec_init(rec, r->lineno);
        if (jsonl_fast(line, rec))
            return 1;
        if (lp_blank(line))
            continue; /* blank lines carry nothing */
        jsonl_vals_t v;
        memset(v.kind, 0, sizeof(v.kind));
        v.nafter = 0;
        v.after_err[0] = '\0';
        v.unknown = NULL;
        if (jsonl_scan(r->priv, line, &v)) /* it skips leading blanks */
            return jsonl_fields(r, &v, rec) < 0 ? -EINVAL : 1;
        json_error_t je;
        json_t *o = json_loadb(line, strlen(line), JSON_REJECT_DUPLICATES, &je);
        if (!o)
            return trace_fail(r, "invalid JSON at column %d: %s", je.column, je.text);
        int rc;
        if (json_is_object(o)) {
            memset(v.kind, 0, sizeof(v.kind));
            v.nafter = 0;
            jsonl_from_jansson(r->priv, o, &v);
            rc = jsonl_fields(r, &v, rec);
        } else {
            rc = trace_fail(r, "expected one JSON object per line");
        }
        json_decref(o);
        return rc < 0 ? rc : 1;
    }
    return r->err[0] ? -EINVAL : 0;
}

/* The writer formats by hand rather than through jansson: `latsurf import`
 * writes millions of lines a second, and building and dumping a JSON object
 * per line (one fwrite per token) was most of its time. The output is the
 * same bytes jansson's compact dump gave: keys in this order, integers as
 * signed 64-bit decimals, names that need no escaping. */
typedef struct {
    FILE *f;
    size_t n;
    bool failed;
    char buf[4096];
} jsonl_out_t;

static void jo_flush(jsonl_out_t *o)
{
    if (o->n && fwrite(o->buf, 1, o->n, o->f) != o->n)
        o->failed = true;
    o->n = 0;
}

/* Room for a key and a number at least. */
static char *jo_room(jsonl_out_t *o)
{
    if (o->n > sizeof(o->buf) - 64)
        jo_flush(o);
    return o->buf + o->n;
}

static void jo_str(jsonl_out_t *o, const char *s)
{
    size_t len = strlen(s);
    char *p = jo_room(o);
    memcpy(p, s, len);
    o->n += len;
}

static void jo_i64(jsonl_out_t *o, int64_t v)
{
    char tmp[24], *e = tmp + sizeof(tmp), *d = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--d = '-';
    char *p = jo_room(o);
    memcpy(p, d, (size_t)(e - d));
    o->n += (size_t)(e - d);
}

/* ,"key":value */
static void jo_key_i64(jsonl_out_t *o, const char *key, int64_t v)
{
    jo_str(o, key);
    jo_i64(o, v);
}

int trace_jsonl_write(FILE *f, const trace_rec_t *rec)
{
    jsonl_out_t o = {.f = f};
    jo_key_i64(&o, "{\"id\":", (int64_t)rec->id);
    if (rec->closed) {
        jo_str(&o, ",\"after\":[");
        for (uint32_t i = 0; i < rec->nafter; i++) {
            if (i)
                jo_str(&o, ",");
            jo_i64(&o, (int64_t)rec->after[i]);
        }
        jo_str(&o, "]");
        if (rec->think_ns)
            jo_key_i64(&o, ",\"think_ns\":", (int64_t)rec->think_ns);
        if (rec->think_cpu_ns)
            jo_key_i64(&o, ",\"think_cpu_ns\":", (int64_t)rec->think_cpu_ns);
    } else {
        jo_key_i64(&o, ",\"t_ns\":", (int64_t)rec->t_ns);
    }
    jo_str(&o, ",\"op\":\"");
    jo_str(&o, req_op_names[rec->op ? REQ_WRITE : REQ_READ]);
    jo_str(&o, "\"");
    jo_key_i64(&o, ",\"offset\":", (int64_t)rec->offset);
    jo_key_i64(&o, ",\"bytes\":", rec->bytes);
    jo_key_i64(&o, ",\"flow\":", rec->flow);
    if (rec->cls >= 0 && rec->cls < POL_NCLASSES) {
        jo_str(&o, ",\"class\":\"");
        jo_str(&o, pol_class_names[rec->cls]);
        jo_str(&o, "\"");
    }
    if (rec->consumer_cpu >= 0)
        jo_key_i64(&o, ",\"consumer_cpu\":", rec->consumer_cpu);
    if (rec->gpu >= 0)
        jo_key_i64(&o, ",\"gpu\":", rec->gpu);
    if (rec->gates >= 0)
        jo_str(&o, rec->gates ? ",\"gates\":true" : ",\"gates\":false");
    if (rec->service_ns >= 0)
        jo_key_i64(&o, ",\"service_ns\":", rec->service_ns);
    jo_str(&o, "}\n");
    jo_flush(&o);
    return o.failed ? -EIO : 0;
}

const trace_fmt_t trace_jsonl_fmt = {
    .name = "jsonl",
    .tick_ns = 1,
    .open = jsonl_open,
    .next = jsonl_next,
    .close = jsonl_close,
};
