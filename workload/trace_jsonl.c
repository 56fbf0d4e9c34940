/*
 * trace_jsonl.c - latsurf JSONL traces (docs/traces.md): one JSON object per
 * line, parsed with jansson, plus the writer `latsurf import` uses.
 */
#include "trace.h"

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

/* An integer in [lo, hi]; absent keeps *out. */
static int jsonl_int(trace_reader_t *r, json_t *o, const char *key, int64_t lo, int64_t hi,
                     int64_t *out, int *seen)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    (*seen)++;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return trace_fail(r, "%s: expected an integer in [%lld, %lld]", key, (long long)lo,
                          (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int jsonl_name(trace_reader_t *r, json_t *o, const char *key, const char *const *names,
                      int *out, int *seen)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    (*seen)++;
    if (json_is_string(v))
        for (int i = 0; names[i]; i++)
            if (strcmp(names[i], json_string_value(v)) == 0) {
                *out = i;
                return 0;
            }
    char list[128] = "";
    size_t n = 0;
    for (int i = 0; names[i] && n < sizeof(list); i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "", names[i]);
    return trace_fail(r, "%s: expected one of %s", key, list);
}

static int jsonl_after(trace_reader_t *r, json_t *v, trace_rec_t *rec)
{
    jsonl_t *j = r->priv;
    if (!json_is_array(v))
        return trace_fail(r, "after: expected an array of ids");
    if (json_array_size(v) > TRACE_MAX_AFTER)
        return trace_fail(r, "after: more than %d ids", TRACE_MAX_AFTER);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 0)
            return trace_fail(r, "after.%zu: expected a non-negative integer id", i);
        j->after[i] = (uint64_t)json_integer_value(e);
        if (j->after[i] == rec->id)
            return trace_fail(r, "after.%zu: request %llu waits on itself", i,
                              (unsigned long long)rec->id);
    }
    rec->closed = true;
    rec->nafter = (uint32_t)json_array_size(v);
    rec->after = j->after;
    return 0;
}

static int jsonl_fields(trace_reader_t *r, json_t *o, trace_rec_t *rec)
{
    int seen = 0, op = 0;
    int64_t id = -1, t = -1, think = -1, off = 0, bytes = 4096, flow = 0, cpu = -1, gpu = -1,
            svc = -1;
    if (jsonl_int(r, o, "id", 0, INT64_MAX, &id, &seen) < 0 ||
        jsonl_int(r, o, "t_ns", 0, INT64_MAX, &t, &seen) < 0 ||
        jsonl_int(r, o, "think_ns", 0, INT64_MAX, &think, &seen) < 0 ||
        jsonl_int(r, o, "offset", 0, INT64_MAX, &off, &seen) < 0 ||
        jsonl_int(r, o, "bytes", 1, INT32_MAX, &bytes, &seen) < 0 ||
        jsonl_int(r, o, "flow", 0, UINT32_MAX, &flow, &seen) < 0 ||
        jsonl_int(r, o, "consumer_cpu", 0, 4095, &cpu, &seen) < 0 ||
        jsonl_int(r, o, "gpu", -1, 255, &gpu, &seen) < 0 ||
        jsonl_int(r, o, "service_ns", 0, INT64_MAX, &svc, &seen) < 0 ||
        jsonl_name(r, o, "op", req_op_names, &op, &seen) < 0 ||
        jsonl_name(r, o, "class", pol_class_names, &rec->cls, &seen) < 0)
        return -EINVAL;
    if (id < 0)
        return trace_fail(r, "id: missing (every request needs a unique integer id)");
    rec->id = (uint64_t)id;
    json_t *g = json_object_get(o, "gates");
    if (g) {
        seen++;
        if (!json_is_boolean(g))
            return trace_fail(r, "gates: expected true or false");
        rec->gates = json_is_true(g);
    }
    json_t *after = json_object_get(o, "after");
    if (after) {
        seen++;
        if (jsonl_after(r, after, rec) < 0)
            return -EINVAL;
    }
    if ((size_t)seen != json_object_size(o)) {
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v) {
            (void)v;
            static const char *const known[] = {
                "id", "t_ns", "after", "think_ns", "op", "offset", "bytes", "flow",
                "class", "consumer_cpu", "gpu", "gates", "service_ns", NULL};
            bool ok = false;
            for (int i = 0; known[i] && !ok; i++)
                ok = strcmp(known[i], key) == 0;
            if (!ok)
                return trace_fail(r, "unknown key \"%s\"", key);
        }
    }
    if (after && t >= 0)
        return trace_fail(r, "give either t_ns (open loop) or after (closed loop), not both");
    if (!after && t < 0)
        return trace_fail(r, "missing t_ns (open loop) or after (closed loop)");
    if (!after && think >= 0)
        return trace_fail(r, "think_ns: only with after (closed loop)");
    rec->t_ns = after ? 0 : (uint64_t)t;
    rec->think_ns = think > 0 ? (uint64_t)think : 0;
    rec->op = (uint8_t)op;
    rec->offset = (uint64_t)off;
    rec->bytes = (uint32_t)bytes;
    rec->flow = (uint32_t)flow;
    rec->consumer_cpu = (int)cpu;
    rec->gpu = (int)gpu;
    rec->service_ns = svc;
    return 0;
}

static int jsonl_next(trace_reader_t *r, trace_rec_t *rec)
{
    char *line;
    while ((line = trace_getline(r))) {
        size_t len = strlen(line), i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len)
            continue; /* blank lines carry nothing */
        json_error_t je;
        json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
        if (!o)
            return trace_fail(r, "invalid JSON at column %d: %s", je.column, je.text);
        trace_rec_init(rec, r->lineno);
        int rc = json_is_object(o) ? jsonl_fields(r, o, rec)
                                   : trace_fail(r, "expected one JSON object per line");
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
