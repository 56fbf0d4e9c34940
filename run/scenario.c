/*
 * scenario.c - see scenario.h.
 */
#include "scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int scn_errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int scn_errf(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* A missing container on a --set path: an array when the next key is an index. */
static json_t *scn_container_for(const char *next_key)
{
    char *end;
    strtol(next_key, &end, 10);
    return *next_key && *end == '\0' ? json_array() : json_object();
}

/* Walk a dotted path, creating missing object members; arrays must already
 * hold the index (or be appended to at index == size). */
int scn_set(json_t *root, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return scn_errf(err, errlen, "--set %s: expected KEY=VALUE", assignment);
    char key[512];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof(key))
        return scn_errf(err, errlen, "--set: key too long");
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    const char *val = eq + 1;
    json_error_t jerr;
    json_t *v = json_loads(val, JSON_DECODE_ANY, &jerr);
    if (!v)
        v = json_string(val); /* not JSON: take it as a string */
    if (!v)
        return scn_errf(err, errlen, "--set %.*s: the value is not valid UTF-8 text", (int)klen,
                        assignment);

    json_t *node = root;
    char *save = NULL, *tok = strtok_r(key, ".", &save);
    while (tok) {
        char *next = strtok_r(NULL, ".", &save);
        char *endp;
        long idx = strtol(tok, &endp, 10);
        bool is_idx = *tok && *endp == '\0';
        json_t *child;
        if (json_is_array(node)) {
            if (!is_idx || idx < 0 || (size_t)idx > json_array_size(node)) {
                json_decref(v);
                return scn_errf(err, errlen, "--set %.*s: '%s' is not an index of an array of %zu",
                                (int)klen, assignment, tok, json_array_size(node));
            }
            if (!next) {
                int rc = (size_t)idx == json_array_size(node) ? json_array_append_new(node, v)
                                                              : json_array_set_new(node, (size_t)idx, v);
                return rc ? -ENOMEM : 0;
            }
            child = json_array_get(node, (size_t)idx);
            /* the *_new calls free the child when they fail */
            if (!child && json_array_append_new(node, child = scn_container_for(next))) {
                json_decref(v);
                return -ENOMEM;
            }
        } else if (json_is_object(node)) {
            if (!next)
                return json_object_set_new(node, tok, v)
                           ? scn_errf(err, errlen, "--set %.*s: '%s' is not a valid key (UTF-8 "
                                      "text)", (int)klen, assignment, tok)
                           : 0;
            child = json_object_get(node, tok);
            if (!child && json_object_set_new(node, tok, child = scn_container_for(next))) {
                json_decref(v);
                return scn_errf(err, errlen, "--set %.*s: '%s' is not a valid key (UTF-8 text)",
                                (int)klen, assignment, tok);
            }
        } else {
            json_decref(v);
            return scn_errf(err, errlen, "--set %.*s: '%s' is inside a value that is neither an "
                            "object nor an array", (int)klen, assignment, tok);
        }
        node = child;
        tok = next;
    }
    json_decref(v);
    return scn_errf(err, errlen, "--set %s: empty key", assignment);
}

static void scn_variant_fini(scn_variant_t *v)
{
    host_cfg_fini(&v->host);
    for (uint32_t i = 0; i < v->ndev; i++)
        ssd_cfg_fini(&v->dev[i]);
    free(v->dev);
    for (uint32_t i = 0; i < v->nwl; i++)
        if (v->wl[i].ops && v->wl[i].params)
            v->wl[i].ops->params_free(v->wl[i].params);
    free(v->wl);
}

void scn_free(scn_t *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->nvar; i++)
        scn_variant_fini(&s->var[i]);
    free(s->var);
    free(s->file);
    free(s->name);
    free(s->description);
    free(s->json);
    free(s->run.baseline);
    free(s);
}

static void scn_parse_devices(cfg_t *c, json_t *root, scn_variant_t *v)
{
    json_t *devs = cfg_take(c, root, "devices", JSON_ARRAY);
    size_t m = cfg_push(c, "devices");
    size_t n = devs ? json_array_size(devs) : 1;
    if (devs && (n == 0 || n > SCN_MAX_DEVICES))
        cfg_fail(c, "expected 1 to %d devices, got %zu", SCN_MAX_DEVICES, n);
    if (cfg_ok(c) && !(v->dev = calloc(n, sizeof(*v->dev))))
        cfg_fail(c, "out of memory");
    for (size_t i = 0; i < n && cfg_ok(c); i++) {
        json_t *d = devs ? json_incref(json_array_get(devs, i)) : json_object();
        size_t mi = cfg_push_idx(c, i);
        if (cfg_expect(c, d, JSON_OBJECT) &&
            ssd_cfg_parse(c, d, v->host.cpus, &v->dev[v->ndev]) == 0)
            v->ndev++;
        cfg_pop(c, mi);
        json_decref(d);
    }
    cfg_pop(c, m);
    json_decref(devs);
}

static char *scn_resolve_file(const char *scenario_file, const char *path);

static void scn_parse_workloads(cfg_t *c, json_t *root, scn_variant_t *v)
{
    json_t *wls = cfg_take(c, root, "workload", JSON_ARRAY);
    size_t m = cfg_push(c, "workload");
    size_t n = wls ? json_array_size(wls) : 1;
    if (wls && (n == 0 || n > SCN_MAX_WORKLOADS))
        cfg_fail(c, "expected 1 to %d workload entries, got %zu", SCN_MAX_WORKLOADS, n);
    if (cfg_ok(c) && !(v->wl = calloc(n, sizeof(*v->wl))))
        cfg_fail(c, "out of memory");
    for (size_t i = 0; i < n && cfg_ok(c); i++) {
        json_t *e = wls ? json_incref(json_array_get(wls, i)) : json_pack("{s:s}", "type", "poisson");
        size_t mi = cfg_push_idx(c, i);
        int type = -1;
        if (cfg_expect(c, e, JSON_OBJECT)) {
            if (!json_object_get(e, "type")) {
                cfg_fail(c, "missing \"type\"");
            } else {
                cfg_enum(c, e, "type", &type, -1, wl_names());
            }
        }
        /* a trace path is resolved like every path a scenario names */
        json_t *path = json_is_object(e) ? json_object_get(e, "path") : NULL;
        if (json_is_string(path)) {
            char *r = scn_resolve_file(c->file, json_string_value(path));
            if (r)
                json_object_set_new(e, "path", json_string(r));
            free(r);
        }
        /* a key every type has: the harness marks the entry's requests */
        bool rdma = false;
        if (cfg_ok(c))
            cfg_bool(c, e, "rdma", &rdma, false);
        scn_workload_t *w = &v->wl[v->nwl];
        w->npool = 0;
        json_t *pool = cfg_ok(c) ? cfg_take(c, e, "pool_cpus", JSON_ARRAY) : NULL;
        if (pool) {
            size_t mp = cfg_push(c, "pool_cpus");
            if (json_array_size(pool) > SCN_MAX_POOL)
                cfg_fail(c, "expected at most %d CPUs", SCN_MAX_POOL);
            for (size_t k = 0; k < json_array_size(pool) && cfg_ok(c); k++) {
                json_t *x = json_array_get(pool, k);
                json_int_t cpu = json_is_integer(x) ? json_integer_value(x) : -1;
                if (cpu < 0 || cpu >= (json_int_t)v->host.cpus)
                    cfg_fail(c, "expected CPUs in [0, %u]", v->host.cpus - 1);
                else
                    w->pool[w->npool++] = (int16_t)cpu;
            }
            cfg_pop(c, mp);
            json_decref(pool);
        }
        if (cfg_ok(c)) {
            w->rdma = rdma;
            w->ops = wl_find(wl_names()[type]);
            if (w->ops->parse(c, e, &w->params) == 0) {
                v->nwl++;
                cfg_done(c, e);
            } else {
                w->params = NULL;
                if (cfg_ok(c))
                    cfg_fail(c, "could not be set up");
            }
        }
        cfg_pop(c, mi);
        json_decref(e);
    }
    cfg_pop(c, m);
    json_decref(wls);
}

#define SCN_MAX_TOTAL_MS 1e8 /* 28 hours of simulated time per variant */

static void scn_parse_run(cfg_t *c, json_t *root, scn_run_t *run)
{
    json_t *r = cfg_take(c, root, "run", JSON_OBJECT);
    size_t m = cfg_push(c, "run");
    int64_t seed;
    cfg_f64(c, r, "duration_ms", &run->duration_ms, 1000, 1e-3, 1e7);
    json_t *wu = r ? json_object_get(r, "warmup_ms") : NULL;
    if (wu && json_is_string(wu)) {
        if (strcmp(json_string_value(wu), "auto") == 0) {
            run->warmup_auto = true;
            json_object_del(r, "warmup_ms");
        }
    }
    cfg_f64(c, r, "warmup_ms", &run->warmup_ms, run->warmup_auto ? 0 : 100, 0, 1e7);
    cfg_u32(c, r, "replications", &run->replications, 5, 1, 10000);
    cfg_i64(c, r, "seed", &seed, 1, 0, (1LL << 53));
    cfg_u32(c, r, "record_requests", &run->record_requests, 0, 0, 10000000);
    cfg_str(c, r, "baseline", &run->baseline, NULL);
    run->seed = (uint64_t)seed;
    if (cfg_ok(c) && run->warmup_ms >= run->duration_ms) {
        size_t mw = cfg_push(c, "warmup_ms");
        cfg_fail(c, "expected less than duration_ms (%g), got %g", run->duration_ms,
                 run->warmup_ms);
        cfg_pop(c, mw);
    }
    /* each bound alone still allows a run of years of wall time */
    if (cfg_ok(c) && run->replications * run->duration_ms > SCN_MAX_TOTAL_MS) {
        size_t mr = cfg_push(c, "replications");
        cfg_fail(c, "replications x duration_ms is at most %g ms of simulated time, got %u x %g",
                 SCN_MAX_TOTAL_MS, run->replications, run->duration_ms);
        cfg_pop(c, mr);
    }
    cfg_done(c, r);
    cfg_pop(c, m);
    json_decref(r);
}

static void scn_parse_policy(cfg_t *c, json_t *root, pol_config_t *p)
{
    pol_config_defaults(p);
    json_t *o = cfg_take(c, root, "policy", JSON_OBJECT);
    if (!o)
        return;
    size_t m = cfg_push(c, "policy");
    double w = p->adaptive_window_ns / 1e6, b = p->adaptive_budget_ns / 1e3,
           bw = p->throughput_batch_window_ns / 1e3;
    cfg_u32(c, o, "latency_max_inflight", &p->latency_max_inflight, p->latency_max_inflight, 0,
            1u << 20);
    cfg_u32(c, o, "throughput_batch", &p->throughput_batch, p->throughput_batch, 1, 4096);
    cfg_f64(c, o, "throughput_batch_window_us", &bw, bw, 0, 1e6);
    cfg_f64(c, o, "prefetch_threshold", &p->prefetch_threshold, p->prefetch_threshold, 0, 1);
    cfg_f64(c, o, "admission_rate_iops", &p->admission_rate_iops, p->admission_rate_iops, 0, 1e9);
    cfg_f64(c, o, "admission_burst", &p->admission_burst, p->admission_burst, 1, 1e9);
    cfg_f64(c, o, "adaptive_budget_us", &b, b, 0.001, 1e9);
    cfg_f64(c, o, "adaptive_window_ms", &w, w, 0.001, 1e6);
    cfg_f64(c, o, "adaptive_hysteresis", &p->adaptive_hysteresis, p->adaptive_hysteresis, 0, 0.99);
    cfg_u32(c, o, "adaptive_calm_windows", &p->adaptive_calm_windows, p->adaptive_calm_windows, 1,
            1000);
    double cache_mib = (double)p->reg_cache_bytes / 1048576.0;
    double pool_mib = (double)p->reg_pool_bytes / 1048576.0;
    cfg_f64(c, o, "reg_cache_mib", &cache_mib, cache_mib, 0, 1 << 20);
    cfg_f64(c, o, "reg_pool_mib", &pool_mib, pool_mib, 0, 1 << 20);
    p->reg_cache_bytes = (uint64_t)(cache_mib * 1048576.0);
    p->reg_pool_bytes = (uint64_t)(pool_mib * 1048576.0);
    p->adaptive_window_ns = w * 1e6;
    p->adaptive_budget_ns = b * 1e3;
    p->throughput_batch_window_ns = bw * 1e3;
    cfg_done(c, o);
    cfg_pop(c, m);
    json_decref(o);
}

/* Parse host, devices, workload from a copy of the root (consumed). */
static void scn_parse_model(cfg_t *c, json_t *root, scn_variant_t *v)
{
    scn_parse_policy(c, root, &v->polcfg);
    json_t *host = cfg_take(c, root, "host", JSON_OBJECT);
    size_t m = cfg_push(c, "host");
    json_t *h = host ? host : json_object();
    host_cfg_parse(c, h, &v->host);
    if (!host)
        json_decref(h);
    cfg_pop(c, m);
    json_decref(host);
    if (cfg_ok(c))
        scn_parse_devices(c, root, v);
    if (cfg_ok(c))
        scn_parse_workloads(c, root, v);
    if (cfg_ok(c)) {
        host_cfg_what_if(&v->host, v->what_if, sizeof(v->what_if));
        for (uint32_t i = 0; i < v->ndev; i++) {
            char prefix[32];
            snprintf(prefix, sizeof(prefix), "devices.%u", i);
            ssd_cfg_what_if(&v->dev[i], prefix, v->what_if, sizeof(v->what_if));
        }
    }
}

static void scn_parse_variant(cfg_t *c, json_t *base, json_t *ventry, size_t i, scn_variant_t *v)
{
    size_t m = cfg_push(c, "variants");
    cfg_push_idx(c, i);
    json_t *sets = NULL;
    char *name = NULL;
    if (cfg_expect(c, ventry, JSON_OBJECT)) {
        int a, mo, r, h;
        cfg_str(c, ventry, "name", &name, NULL);
        cfg_enum(c, ventry, "affinity", &a, POL_AFF_KERNEL, pol_affinity_names);
        cfg_enum(c, ventry, "mode", &mo, POL_MODE_THROUGHPUT, pol_mode_names);
        cfg_enum(c, ventry, "registration", &r, POL_REG_NONE, pol_reg_names);
        cfg_enum(c, ventry, "hints", &h, POL_HINT_NONE, pol_hint_names);
        sets = cfg_take(c, ventry, "set", JSON_OBJECT);
        cfg_done(c, ventry);
        if (cfg_ok(c) && (!name || !*name || strlen(name) >= sizeof(v->pol.name)))
            cfg_fail(c, "expected a \"name\" of 1 to %zu characters", sizeof(v->pol.name) - 1);
        if (cfg_ok(c)) {
            strcpy(v->pol.name, name);
            v->pol.affinity = (pol_affinity_t)a;
            v->pol.mode = (pol_mode_t)mo;
            v->pol.registration = (pol_reg_t)r;
            v->pol.hints = (pol_hint_t)h;
        }
    }
    json_t *copy = json_deep_copy(base);
    const char *key;
    json_t *val;
    if (sets && cfg_ok(c)) {
        json_object_foreach(sets, key, val) {
            char *text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
            size_t len = strlen(key) + strlen(text ? text : "") + 2;
            char *assign = malloc(len);
            if (text && assign) {
                snprintf(assign, len, "%s=%s", key, text);
                char e2[512] = "out of memory";
                if (scn_set(copy, assign, e2, sizeof(e2)) != 0) {
                    size_t ms = cfg_push(c, "set");
                    cfg_push(c, key);
                    cfg_fail(c, "%s", e2);
                    cfg_pop(c, ms);
                }
            }
            free(assign);
            free(text);
            if (!cfg_ok(c))
                break;
        }
    }
    cfg_pop(c, m);
    if (cfg_ok(c)) {
        scn_parse_model(c, copy, v);
        if (!cfg_ok(c) && sets)
            snprintf(c->err + strlen(c->err), sizeof(c->err) - strlen(c->err),
                     " (with variant \"%s\"'s set)", v->pol.name);
    }
    json_decref(copy);
    json_decref(sets);
    free(name);
}

int scn_find_variant(const scn_t *s, const char *name)
{
    for (uint32_t i = 0; i < s->nvar; i++)
        if (strcmp(s->var[i].pol.name, name) == 0)
            return (int)i;
    return -1;
}

int scn_load(const char *file, char *const *sets, size_t nsets, scn_t **out, char *err,
             size_t errlen)
{
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (jerr.line < 0) /* could not open or read */
            return scn_errf(err, errlen, "%s: %s", file, jerr.text), -ENOENT;
        return scn_errf(err, errlen, "%s:%d:%d: invalid JSON: %s", file, jerr.line, jerr.column,
                        jerr.text);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return scn_errf(err, errlen, "%s: (top level): expected an object", file);
    }
    for (size_t i = 0; i < nsets; i++) {
        char e2[512] = "out of memory";
        if (scn_set(root, sets[i], e2, sizeof(e2)) != 0) {
            json_decref(root);
            return scn_errf(err, errlen, "%s: %s", file, e2);
        }
    }
    scn_t *s = calloc(1, sizeof(*s));
    if (!s) {
        json_decref(root);
        return -ENOMEM;
    }
    s->file = strdup(file);
    s->json = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);

    cfg_t c;
    cfg_init(&c, file);
    json_t *work = json_deep_copy(root);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    char *defname = strndup(base, strcspn(base, "."));
    cfg_str(&c, work, "name", &s->name, defname);
    free(defname);
    /* bounded like the variant names: it goes into every row and report */
    if (cfg_ok(&c) && s->name && strlen(s->name) > SCN_NAME_MAX) {
        size_t m = cfg_push(&c, "name");
        cfg_fail(&c, "expected at most %d bytes, got %zu", SCN_NAME_MAX, strlen(s->name));
        cfg_pop(&c, m);
    }
    /* prose for the reader (docs/scenarios.md); it stays in runs.scenario_json */
    cfg_str(&c, work, "description", &s->description, NULL);
    scn_parse_run(&c, work, &s->run);
    json_t *vars = cfg_take(&c, work, "variants", JSON_ARRAY);
    size_t nv = vars ? json_array_size(vars) : 1;
    if (cfg_ok(&c) && (nv == 0 || nv > SCN_MAX_VARIANTS)) {
        size_t m = cfg_push(&c, "variants");
        cfg_fail(&c, "expected 1 to %d variants, got %zu", SCN_MAX_VARIANTS, nv);
        cfg_pop(&c, m);
    }
    if (cfg_ok(&c) && !(s->var = calloc(nv, sizeof(*s->var))))
        cfg_fail(&c, "out of memory");
    for (size_t i = 0; i < nv && cfg_ok(&c); i++) {
        json_t *ve = vars ? json_incref(json_array_get(vars, i)) : json_pack("{s:s}", "name", "baseline");
        /* Each variant parses its own copy; the parse consumes keys, so the
         * leftovers of the last copy tell unknown top-level keys. */
        json_t *base_copy = json_deep_copy(work);
        scn_parse_variant(&c, base_copy, ve, i, &s->var[i]);
        s->nvar++;
        if (cfg_ok(&c) && scn_find_variant(s, s->var[i].pol.name) != (int)i) {
            size_t m = cfg_push(&c, "variants");
            cfg_push_idx(&c, i);
            cfg_fail(&c, "variant name \"%s\" is used twice", s->var[i].pol.name);
            cfg_pop(&c, m);
        }
        json_decref(base_copy);
        json_decref(ve);
    }
    if (cfg_ok(&c)) {
        /* unknown top-level keys: what no section took */
        json_object_del(work, "host");
        json_object_del(work, "devices");
        json_object_del(work, "workload");
        json_object_del(work, "policy");
        cfg_done(&c, work);
    }
    if (cfg_ok(&c) && s->run.baseline && scn_find_variant(s, s->run.baseline) < 0) {
        size_t m = cfg_push(&c, "run");
        cfg_push(&c, "baseline");
        cfg_fail(&c, "no variant is named \"%s\"", s->run.baseline);
        cfg_pop(&c, m);
    }
    if (cfg_ok(&c) && !s->run.baseline)
        s->run.baseline = strdup(s->var[0].pol.name);
    json_decref(vars);
    json_decref(work);
    json_decref(root);
    if (!cfg_ok(&c)) {
        snprintf(err, errlen, "%s", c.err);
        scn_free(s);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

char *scn_resolve(const scn_t *s, const char *path)
{
    return scn_resolve_file(s->file, path);
}

static char *scn_resolve_file(const char *scenario_file, const char *path)
{
    if (!path)
        return NULL;
    if (path[0] == '/' || access(path, F_OK) == 0)
        return strdup(path);
    char buf[4096];
    const char *slash = strrchr(scenario_file, '/');
    if (slash) {
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - scenario_file), scenario_file, path);
        if (access(buf, F_OK) == 0)
            return strdup(buf);
    }
#ifdef LATSURF_SOURCE_DIR
    snprintf(buf, sizeof(buf), "%s/%s", LATSURF_SOURCE_DIR, path);
    if (access(buf, F_OK) == 0)
        return strdup(buf);
#endif
    return strdup(path);
}
