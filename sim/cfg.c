/*
 * cfg.c - see cfg.h.
 */
#include "cfg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_init(cfg_t *c, const char *file)
{
    memset(c, 0, sizeof(*c));
    c->file = file ? file : "<scenario>";
}

bool cfg_ok(const cfg_t *c) { return !c->failed; }

bool cfg_fail(cfg_t *c, const char *fmt, ...)
{
    if (c->failed)
        return false;
    c->failed = true;
    int n = snprintf(c->err, sizeof(c->err), "%s: %s: ", c->file,
                     c->plen ? c->path : "(top level)");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(c->err))
        vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return false;
}

size_t cfg_push(cfg_t *c, const char *key)
{
    size_t mark = c->plen;
    size_t room = sizeof(c->path) - c->plen;
    int n = snprintf(c->path + c->plen, room, "%s%s", c->plen ? "." : "", key);
    /* a path too long for the buffer is shown cut off, and later pushes
     * append nothing, so every pop still lands on its own mark */
    if (n > 0)
        c->plen += (size_t)n < room ? (size_t)n : room - 1;
    return mark;
}

size_t cfg_push_idx(cfg_t *c, size_t i)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%zu", i);
    return cfg_push(c, buf);
}

void cfg_pop(cfg_t *c, size_t mark)
{
    c->plen = mark;
    c->path[mark] = '\0';
}

static const char *cfg_json_type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static const char *cfg_type_name(json_t *v) { return cfg_json_type_name(json_typeof(v)); }

/* A number as written: integers exactly, reals in %g. */
static const char *cfg_num_text(json_t *v, char buf[32])
{
    if (json_is_integer(v))
        snprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else
        snprintf(buf, 32, "%g", json_number_value(v));
    return buf;
}

/* Take obj[key]; returns a new reference or NULL when missing. */
static json_t *cfg_pull(json_t *obj, const char *key)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v)
        return NULL;
    json_incref(v);
    json_object_del(obj, key);
    return v;
}

/* The frame every typed read shares: obj[key] taken out, with key on the
 * error path while the caller checks it. NULL (nothing pushed) once an
 * earlier read failed or when the key is missing: the caller then returns
 * !c->failed, true for "missing, the default stands". */
static json_t *cfg_enter(cfg_t *c, json_t *obj, const char *key, size_t *mark)
{
    json_t *v = c->failed ? NULL : cfg_pull(obj, key);
    if (v)
        *mark = cfg_push(c, key);
    return v;
}

/* Ends what cfg_enter began; returns ok. */
static bool cfg_leave(cfg_t *c, json_t *v, size_t mark, bool ok)
{
    cfg_pop(c, mark);
    json_decref(v);
    return ok;
}

bool cfg_f64(cfg_t *c, json_t *obj, const char *key, double *out, double def, double lo,
             double hi)
{
    *out = def; /* also what a failed read leaves, so no caller reads garbage */
    size_t m;
    json_t *v = cfg_enter(c, obj, key, &m);
    if (!v)
        return !c->failed;
    bool ok = false;
    if (!json_is_number(v))
        cfg_fail(c, "expected a number in [%g, %g], got %s", lo, hi, cfg_type_name(v));
    else if (!(json_number_value(v) >= lo && json_number_value(v) <= hi))
        cfg_fail(c, "expected a number in [%g, %g], got %g", lo, hi, json_number_value(v));
    else {
        *out = json_number_value(v);
        ok = true;
    }
    return cfg_leave(c, v, m, ok);
}

bool cfg_i64(cfg_t *c, json_t *obj, const char *key, int64_t *out, int64_t def, int64_t lo,
             int64_t hi)
{
    *out = def;
    size_t m;
    json_t *v = cfg_enter(c, obj, key, &m);
    if (!v)
        return !c->failed;
    bool ok = false;
    char num[32];
    double d = json_is_number(v) ? json_number_value(v) : NAN;
    if (!json_is_number(v) || d != floor(d))
        cfg_fail(c, "expected an integer in [%lld, %lld], got %s", (long long)lo, (long long)hi,
                 json_is_number(v) ? "a fraction" : cfg_type_name(v));
    else if (json_is_integer(v) ? (json_integer_value(v) < lo || json_integer_value(v) > hi)
                                /* 2^63 rounds to (double)INT64_MAX but does not fit */
                                : (d < (double)lo || d > (double)hi || d >= 0x1p63))
        cfg_fail(c, "expected an integer in [%lld, %lld], got %s", (long long)lo,
                 (long long)hi, cfg_num_text(v, num));
    else {
        *out = json_is_integer(v) ? (int64_t)json_integer_value(v) : (int64_t)d;
        ok = true;
    }
    return cfg_leave(c, v, m, ok);
}

bool cfg_u32(cfg_t *c, json_t *obj, const char *key, uint32_t *out, uint32_t def, uint32_t lo,
             uint32_t hi)
{
    int64_t v;
    bool ok = cfg_i64(c, obj, key, &v, def, lo, hi);
    *out = (uint32_t)v; /* def on failure, in range on success */
    return ok;
}

bool cfg_bool(cfg_t *c, json_t *obj, const char *key, bool *out, bool def)
{
    *out = def;
    size_t m;
    json_t *v = cfg_enter(c, obj, key, &m);
    if (!v)
        return !c->failed;
    bool ok = json_is_boolean(v);
    if (ok)
        *out = json_is_true(v);
    else
        cfg_fail(c, "expected true or false, got %s", cfg_type_name(v));
    return cfg_leave(c, v, m, ok);
}

bool cfg_str(cfg_t *c, json_t *obj, const char *key, char **out, const char *def)
{
    *out = NULL;
    size_t m;
    json_t *v = cfg_enter(c, obj, key, &m);
    if (!v) {
        if (!c->failed && def)
            *out = strdup(def);
        return !c->failed;
    }
    bool ok = json_is_string(v);
    if (!ok)
        cfg_fail(c, "expected a string, got %s", cfg_type_name(v));
    else if (!(*out = strdup(json_string_value(v))))
        ok = cfg_fail(c, "out of memory");
    return cfg_leave(c, v, m, ok);
}

bool cfg_enum(cfg_t *c, json_t *obj, const char *key, int *out, int def,
              const char *const *names)
{
    *out = def;
    size_t m;
    json_t *v = cfg_enter(c, obj, key, &m);
    if (!v)
        return !c->failed;
    bool ok = false;
    if (json_is_string(v)) {
        for (int i = 0; names[i]; i++)
            if (strcmp(names[i], json_string_value(v)) == 0) {
                *out = i;
                ok = true;
            }
    }
    if (!ok) {
        char list[256] = "";
        size_t n = 0;
        for (int i = 0; names[i] && n < sizeof(list); i++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "",
                                  names[i]);
        if (json_is_string(v))
            cfg_fail(c, "expected one of %s, got \"%s\"", list, json_string_value(v));
        else
            cfg_fail(c, "expected one of %s, got %s", list, cfg_type_name(v));
    }
    return cfg_leave(c, v, m, ok);
}

bool cfg_expect(cfg_t *c, json_t *v, json_type type)
{
    if (c->failed)
        return false;
    if (json_typeof(v) == type)
        return true;
    return cfg_fail(c, "expected %s, got %s", cfg_json_type_name(type), cfg_type_name(v));
}

json_t *cfg_take(cfg_t *c, json_t *obj, const char *key, json_type type)
{
    size_t m;
    json_t *v = cfg_enter(c, obj, key, &m);
    if (!v)
        return NULL;
    bool ok = cfg_expect(c, v, type);
    cfg_pop(c, m);
    if (!ok) {
        json_decref(v);
        return NULL;
    }
    return v;
}

bool cfg_done(cfg_t *c, json_t *obj)
{
    if (c->failed || !obj)
        return !c->failed;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        (void)v;
        size_t m = cfg_push(c, key);
        cfg_fail(c, "unknown key");
        cfg_pop(c, m);
        return false;
    }
    return true;
}
