/*
 * cont.c - see cont.h. The host's side of a continuation, in order:
 *
 * GPU (copy):  consumer CPU [register (pinned) | staging memcpy (pageable)]
 *              + copy launch -> a copy engine of the GPU -> bytes usable.
 * GPU direct:  usable at device done + DMA completion; no host step.
 * RDMA:        consumer CPU [register] + post send -> link -> latency ->
 *              the peer learns of it (poll or completion event) -> usable;
 *              the local send completion (a latency later, on the CQ
 *              vector's CPU or by the polling consumer) frees the buffer.
 *
 * Deregistrations are CPU work after the fact: they load the host but do
 * not delay the bytes.
 */
#include "cont.h"

#include "models/gpu.h"
#include "models/rdma.h"
#include "policies/registration.h"
#include "sim/rng.h"
#include "sim/slab.h"

#include <errno.h>
#include <stdlib.h>

#define PTR(x) ((uint64_t)(uintptr_t)(x))
#define XNONE UINT32_MAX

struct cont_cfg {
    gpu_cfg_t gpu;
    rdma_cfg_t rdma;
};

/* One continuation in flight. */
typedef struct {
    req_t *r;               /* NULL once done() ran (RDMA still waits for its ack) */
    pol_reg_use_t use;
    uint32_t cpu;           /* the consumer's CPU */
    cpu_thread_t *t;        /* the consumer thread, NULL: the CPU's own */
    uint32_t next_free;
    uint8_t registered, polled, pending;
} cont_xfer_t;

struct cont {
    cont_env_t env;
    cont_cfg_t cfg;
    gpu_t *gpu;
    rdma_t *nic;
    pol_registry_t *reg;
    gsl_rng *rng;
    cont_xfer_t *x;
    slab_t xs;              /* x[] is a slab of transfer records */
    bool counting;          /* registration counters restarted at the warm-up cut */
};

static void cont_cfg_defaults(cont_cfg_t *cfg)
{
    gpu_cfg_defaults(&cfg->gpu);
    rdma_cfg_defaults(&cfg->rdma);
}

int cont_cfg_parse(cfg_t *c, json_t *gpu, json_t *rdma, cont_cfg_t **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return cfg_fail(c, "out of memory"), -ENOMEM;
    cont_cfg_defaults(*out);
    if (gpu) {
        size_t m = cfg_push(c, "gpu");
        gpu_cfg_parse(c, gpu, &(*out)->gpu);
        cfg_pop(c, m);
    }
    if (rdma) {
        size_t m = cfg_push(c, "rdma");
        rdma_cfg_parse(c, rdma, &(*out)->rdma);
        cfg_pop(c, m);
    }
    return cfg_ok(c) ? 0 : -EINVAL;
}

void cont_cfg_free(cont_cfg_t *cfg) { free(cfg); }
bool cont_cfg_direct(const cont_cfg_t *cfg) { return cfg->gpu.direct; }

/* --- registration, as the simulator executes it: calibrated costs --- */

static int64_t cont_reg(void *ctx, uint64_t buf, uint64_t bytes, void **handle)
{
    (void)buf;
    cont_t *c = ctx;
    *handle = NULL;
    double pages = (double)((bytes + 4095) / 4096);
    return (int64_t)(costs_draw(c->env.costs, COST_REG_FIXED, c->rng) +
                     pages * costs_value(c->env.costs, COST_REG_PAGE));
}

static int64_t cont_dereg(void *ctx, uint64_t buf, uint64_t bytes, void *handle)
{
    (void)buf;
    (void)bytes;
    (void)handle;
    cont_t *c = ctx;
    return (int64_t)costs_draw(c->env.costs, COST_DEREG, c->rng);
}

static const pol_reg_ops_t cont_reg_ops = {cont_reg, cont_dereg};

static void cont_sync_stats(cont_t *c)
{
    collect_t *col = c->env.col;
    if (!col)
        return;
    col->reg = *pol_reg_stats(c->reg);
}

/* CPU work that delays nobody's bytes (deregistration, completion handling). */
static void cont_charge(cont_t *c, uint32_t cpu, cpu_level_t lvl, double ns)
{
    if (ns > 0)
        cpus_run(c->env.cpus, cpu, lvl, (sim_time_t)ns, sim_nothing, NULL, 0);
}

/* A host step of the consumer: on its thread. */
static void cont_user(cont_t *c, const cont_xfer_t *x, double ns, sim_handler_fn fn, uint64_t arg)
{
    if (x->t)
        cpus_thread_run(x->t, (sim_time_t)ns, fn, c, arg);
    else
        cpus_run(c->env.cpus, x->cpu, CPU_USER, (sim_time_t)ns, fn, c, arg);
}

/* CPU work of the consumer that delays nobody's bytes. */
static void cont_charge_user(cont_t *c, const cont_xfer_t *x, double ns)
{
    if (ns > 0)
        cont_user(c, x, ns, sim_nothing, 0);
}

static int64_t cont_acquire(cont_t *c, cont_xfer_t *x)
{
    const req_t *r = x->r;
    pol_intent_t in = {
        .cls = (pol_class_t)r->cls, .consumer_cpu = r->consumer_cpu, .gpu = r->gpu,
        .flow = r->flow, .recurring = r->recurring, .buf = r->buf, .bytes = r->bytes,
    };
    int rc = pol_reg_acquire(c->reg, &in, &x->use);
    if (rc != 0) { /* the simulator's register returns costs, so this is a bug */
        sim_fail(c->env.sim, rc, "continuation: buffer registration failed (%d)", rc);
        return 0;
    }
    x->registered = 1;
    cont_sync_stats(c);
    return x->use.cost_ns;
}

static void cont_release(cont_t *c, cont_xfer_t *x)
{
    if (!x->registered)
        return;
    x->registered = 0;
    cont_charge_user(c, x, (double)pol_reg_release(c->reg, &x->use));
    cont_sync_stats(c);
}

/* --- transfer records --- */

static uint32_t cont_xfer_new(cont_t *c, req_t *r)
{
    uint32_t i = SLAB_GET(c->xs, c->x, next_free);
    if (i == SLAB_NIL) {
        sim_fail(c->env.sim, -ENOMEM, "continuation: out of memory tracking a transfer");
        return XNONE;
    }
    c->x[i] = (cont_xfer_t){.r = r, .cpu = (uint32_t)r->consumer_cpu, .next_free = XNONE,
                            .t = c->env.thread ? c->env.thread(c->env.ctx, r) : NULL};
    return i;
}

static void cont_xfer_put(cont_t *c, uint32_t i)
{
    SLAB_PUT(c->xs, c->x, next_free, i);
}

/* --- GPU --- */

static void cont_gpu_copied(sim_t *sim, void *ctx, uint64_t i)
{
    cont_t *c = ctx;
    cont_xfer_t *x = &c->x[i];
    req_t *r = x->r;
    r->t[T_CONTINUED] = sim_now(sim);
    cont_release(c, x);
    cont_xfer_put(c, (uint32_t)i);
    c->env.done(c->env.ctx, r);
}

static void cont_gpu_launched(sim_t *sim, void *ctx, uint64_t i)
{
    cont_t *c = ctx;
    req_t *r = c->x[i].r;
    if (gpu_copy(c->gpu, (uint32_t)r->gpu, r->bytes, cont_gpu_copied, c, i) != 0)
        cont_gpu_copied(sim, c, i); /* out of memory: the run has failed (sim_fail) */
}

static void cont_gpu(cont_t *c, cont_xfer_t *x, uint32_t i)
{
    const req_t *r = x->r;
    double work = costs_draw(c->env.costs, COST_GPU_COPY_LAUNCH, c->rng);
    if (gpu_cfg(c->gpu)->pinned)
        work += (double)cont_acquire(c, x);
    else /* the driver bounces pageable memory through its pinned staging buffer */
        work += costs_value(c->env.costs, COST_MEM_LOCAL_KIB) * (double)r->bytes / 1024.0;
    cont_user(c, x, work, cont_gpu_launched, i);
}

static void cont_direct_done(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    cont_t *c = ctx;
    c->env.done(c->env.ctx, (req_t *)(uintptr_t)arg);
}

/* --- RDMA --- */

static void cont_rdma_xfer_end(cont_t *c, uint32_t i)
{
    if (--c->x[i].pending == 0)
        cont_xfer_put(c, i);
}

static void cont_rdma_seen(sim_t *sim, void *ctx, uint64_t i)
{
    cont_t *c = ctx;
    req_t *r = c->x[i].r;
    c->x[i].r = NULL;
    r->t[T_CONTINUED] = sim_now(sim);
    cont_rdma_xfer_end(c, (uint32_t)i);
    c->env.done(c->env.ctx, r);
}

/* The ack is back: the local CQE is reaped by the polling consumer, or its
 * vector interrupts cq_cpu; then the buffer may be deregistered. */
static void cont_rdma_acked(sim_t *sim, void *ctx, uint64_t i)
{
    (void)sim;
    cont_t *c = ctx;
    cont_xfer_t *x = &c->x[i];
    const rdma_cfg_t *rc = rdma_cfg(c->nic);
    if (x->polled)
        cont_charge_user(c, x, costs_value(c->env.costs, COST_POLL));
    else
        cont_charge(c, rc->cq_cpu < 0 ? x->cpu : (uint32_t)rc->cq_cpu % c->env.ncpus,
                    CPU_HARDIRQ, costs_value(c->env.costs, COST_IRQ_HANDLER));
    cont_release(c, x);
    cont_rdma_xfer_end(c, (uint32_t)i);
}

static void cont_rdma_landed(sim_t *sim, void *ctx, uint64_t i)
{
    (void)sim;
    cont_t *c = ctx;
    cont_xfer_t *x = &c->x[i];
    x->pending = 2;
    sim_after(c->env.sim, (sim_time_t)rdma_notify_ns(c->nic, x->polled), cont_rdma_seen, c, i);
    sim_after(c->env.sim, (sim_time_t)rdma_latency_ns(c->nic), cont_rdma_acked, c, i);
}

static void cont_rdma_posted(sim_t *sim, void *ctx, uint64_t i)
{
    cont_t *c = ctx;
    if (rdma_send(c->nic, c->x[i].r->bytes, i) != 0)
        cont_rdma_landed(sim, c, i); /* out of memory: the run has failed (sim_fail) */
}

static void cont_rdma(cont_t *c, cont_xfer_t *x, uint32_t i)
{
    const rdma_cfg_t *rc = rdma_cfg(c->nic);
    x->polled = rc->completion == RDMA_CQ_POLL ||
                (rc->completion == RDMA_CQ_AUTO && x->r->wait != POL_WAIT_INTERRUPT);
    double work = rc->post_ns + (double)cont_acquire(c, x);
    cont_user(c, x, work, cont_rdma_posted, i);
}

/* --- life cycle and entry points --- */

cont_t *cont_new(const cont_env_t *env)
{
    cont_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->env = *env;
    if (env->cfg)
        c->cfg = *env->cfg;
    else
        cont_cfg_defaults(&c->cfg);
    c->xs = slab_make(SLAB_MAX);
    c->rng = rng_stream_new(env->seed, env->rep, "continuation");
    c->gpu = gpu_new(env->sim, env->costs, &c->cfg.gpu);
    c->nic = rdma_new(env->sim, env->costs, &c->cfg.rdma, cont_rdma_landed, c);
    pol_config_t defaults;
    pol_config_defaults(&defaults);
    c->reg = pol_reg_new(env->variant ? env->variant->registration : POL_REG_NONE,
                         env->pol ? env->pol : &defaults, &cont_reg_ops, c);
    if (!c->rng || !c->gpu || !c->nic || !c->reg || env->ncpus == 0) {
        cont_free(c);
        return NULL;
    }
    return c;
}

void cont_free(cont_t *c)
{
    if (!c)
        return;
    pol_reg_free(c->reg);
    gpu_free(c->gpu);
    rdma_free(c->nic);
    if (c->rng)
        gsl_rng_free(c->rng);
    free(c->x);
    free(c);
}

bool cont_direct(const cont_t *c, const req_t *r) { return r->gpu >= 0 && c->cfg.gpu.direct; }

void cont_start(cont_t *c, req_t *r)
{
    sim_time_t now = sim_now(c->env.sim);
    if (!c->counting && c->env.col && r->t[T_ISSUE] >= c->env.col->warm) {
        pol_reg_stats_reset(c->reg); /* count from the first measured request */
        c->counting = true;
        cont_sync_stats(c);
    }
    if (cont_direct(c, r)) {
        r->gpu_direct = 1;
        r->t[T_CONTINUED] = r->t[T_DEVICE_DONE] + (sim_time_t)c->cfg.gpu.dma_ns;
        if (r->t[T_CONTINUED] > now)
            sim_at(c->env.sim, r->t[T_CONTINUED], cont_direct_done, c, PTR(r));
        else
            c->env.done(c->env.ctx, r);
        return;
    }
    bool gpu = r->gpu >= 0, rdma = !gpu && r->rdma && c->cfg.rdma.enabled;
    uint32_t i = gpu || rdma ? cont_xfer_new(c, r) : XNONE;
    if (i == XNONE) {
        r->t[T_CONTINUED] = now; /* nothing to do (or out of memory: the run has failed) */
        c->env.done(c->env.ctx, r);
        return;
    }
    if (gpu)
        cont_gpu(c, &c->x[i], i);
    else
        cont_rdma(c, &c->x[i], i);
}

void cont_buffer_freed(cont_t *c, uint64_t buf, uint32_t cpu)
{
    cont_charge(c, cpu % c->env.ncpus, CPU_USER, (double)pol_reg_invalidate(c->reg, buf));
    cont_sync_stats(c);
}
