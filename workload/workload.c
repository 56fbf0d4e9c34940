/*
 * workload.c - the workload table.
 */
#include "workload.h"

#include "sim/rng.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const wl_ops_t wl_poisson_ops;
extern const wl_ops_t wl_trace_ops;
extern const wl_ops_t wl_agentic_ops;
extern const wl_ops_t wl_retrieval_ops;
extern const wl_ops_t wl_kvcache_ops;
extern const wl_ops_t wl_checkpoint_ops;
extern const wl_ops_t wl_bulk_ops;

static const wl_ops_t *const wl_table[] = {
    &wl_poisson_ops,
    &wl_trace_ops,
    &wl_agentic_ops,
    &wl_retrieval_ops,
    &wl_kvcache_ops,
    &wl_checkpoint_ops,
    &wl_bulk_ops,
};

#define WL_N (sizeof(wl_table) / sizeof(wl_table[0]))

const wl_ops_t *wl_find(const char *name)
{
    for (size_t i = 0; i < WL_N; i++)
        if (strcmp(wl_table[i]->name, name) == 0)
            return wl_table[i];
    return NULL;
}

const char *const *wl_names(void)
{
    static const char *names[WL_N + 1];
    for (size_t i = 0; i < WL_N; i++)
        names[i] = wl_table[i]->name;
    return names;
}

int wl_fail(const wl_env_t *env, int code, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sim_fail(env->sim, code, "workload.%u: %s", env->index, msg);
}

req_t *wl_req_alloc(const wl_env_t *env)
{
    req_t *r = req_alloc(env->pool);
    if (!r) {
        if (req_pool_overflowed(env->pool))
            wl_fail(env, -EOVERFLOW, "the request pool refused a request: too many in flight");
        else
            wl_fail(env, -ENOMEM, "out of memory for a request");
    }
    return r;
}

gsl_rng *wl_rng(const wl_env_t *env, const char *type, const char *what)
{
    char name[96];
    snprintf(name, sizeof(name), "%s.%u.%s", type, env->index, what);
    return rng_stream_new(env->seed, env->rep, name);
}
