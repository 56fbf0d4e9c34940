/*
 * cont.c - placeholder continuation: bytes are usable when the consumer is
 * ready. The GPU and RDMA models replace it (issue 4).
 */
#include "cont.h"

#include <errno.h>
#include <stdlib.h>

struct cont_cfg {
    int unused;
};

struct cont {
    cont_env_t env;
};

int cont_cfg_parse(cfg_t *c, json_t *gpu, json_t *rdma, cont_cfg_t **out)
{
    *out = NULL;
    if (gpu)
        cfg_done(c, gpu);
    if (rdma)
        cfg_done(c, rdma);
    return cfg_ok(c) ? 0 : -EINVAL;
}

void cont_cfg_free(cont_cfg_t *cfg) { free(cfg); }

cont_t *cont_new(const cont_env_t *env)
{
    cont_t *c = calloc(1, sizeof(*c));
    if (c)
        c->env = *env;
    return c;
}

void cont_free(cont_t *c) { free(c); }

bool cont_direct(const cont_t *c, const req_t *r)
{
    (void)c;
    (void)r;
    return false;
}

void cont_start(cont_t *c, req_t *r)
{
    r->t[T_CONTINUED] = r->t[T_READY];
    c->env.done(c->env.ctx, r);
}
