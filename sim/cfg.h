/*
 * cfg.h - typed, checked reads from a JSON configuration tree (jansson).
 *
 * Each module reads its own section of a scenario with these calls; the
 * reader tracks the JSON path ("devices.0.flash.read_us", the same syntax
 * as `--set`) so that an error names the file, the place and what was
 * expected. Reads consume keys: cfg_done() on an object reports any key no
 * module read, which is how unknown keys become errors instead of being
 * silently ignored. The first error wins; later calls do nothing and return
 * false, so a parser can read a whole section and check once at the end.
 * A read that fails (or follows a failure) still stores its default (NULL
 * for strings), so no caller ever sees an uninitialised value.
 */
#ifndef LATSURF_CFG_H
#define LATSURF_CFG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *file;
    char path[256];
    size_t plen;
    bool failed;
    char err[640];
} cfg_t;

void cfg_init(cfg_t *c, const char *file);
bool cfg_ok(const cfg_t *c);
bool cfg_fail(cfg_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Path bookkeeping: push returns the mark to pop back to. */
size_t cfg_push(cfg_t *c, const char *key);
size_t cfg_push_idx(cfg_t *c, size_t i);
void cfg_pop(cfg_t *c, size_t mark);

/* Take obj[key] out of obj. Missing keys give the default and succeed. */
bool cfg_f64(cfg_t *c, json_t *obj, const char *key, double *out, double def, double lo,
             double hi);
bool cfg_i64(cfg_t *c, json_t *obj, const char *key, int64_t *out, int64_t def, int64_t lo,
             int64_t hi);
bool cfg_u32(cfg_t *c, json_t *obj, const char *key, uint32_t *out, uint32_t def, uint32_t lo,
             uint32_t hi);
bool cfg_bool(cfg_t *c, json_t *obj, const char *key, bool *out, bool def);
/* *out is strdup'ed (free it); def may be NULL. */
bool cfg_str(cfg_t *c, json_t *obj, const char *key, char **out, const char *def);
/* names is NULL-terminated; *out gets the index. */
bool cfg_enum(cfg_t *c, json_t *obj, const char *key, int *out, int def,
              const char *const *names);

/* Take a sub-object / array (new reference, json_decref it; NULL if missing
 * or on error). The path is NOT pushed; push it yourself while reading it. */
json_t *cfg_take(cfg_t *c, json_t *obj, const char *key, json_type type);

/* Check an object has no keys left (everything known was taken). */
bool cfg_done(cfg_t *c, json_t *obj);

/* Expect v (at the current path) to be of the given type. */
bool cfg_expect(cfg_t *c, json_t *v, json_type type);

#endif
