/*
 * vmfreeze.c - see vmfreeze.h: a period timer on the host's grid, and a
 * check every VMFREEZE_CHECK_NS of the host CPU used since the period began.
 */
#include "vmfreeze.h"

#include "sim/rng.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>

struct vmfreeze {
    sim_t *sim;
    cpus_t *cpus;
    uint32_t ncpus;
    vmfreeze_cfg_t cfg;
    sim_time_t period, phase;
    double budget;       /* quota_cpus x period, ns of host CPU */
    /* at the period's start: the CPUs' host time, the counts, the time */
    double base_cpu;
    uint64_t base_reqs;
    sim_time_t start;
    vmfreeze_io_fn io;
    void *ctx;
    uint32_t count;
    bool frozen;
    sim_time_t since;    /* the freeze in progress began */
    double frozen_ns;
};

bool vmfreeze_cfg_on(const vmfreeze_cfg_t *cfg)
{
    return cfg && cfg->period_ns >= 1e6 && cfg->quota_cpus > 0 &&
           cfg->per_read_ns > 0;
}

static double vmfreeze_cpu(const vmfreeze_t *v)
{
    double u = 0;
    for (uint32_t i = 0; i < v->ncpus; i++)
        u += cpus_host_ns(v->cpus, i);
    return u;
}

/* Host CPU used since the period began (nothing is frozen in it yet): the
 * vCPUs as the host sees them plus the VMM's work for the I/O. */
static double vmfreeze_used(const vmfreeze_t *v)
{
    uint64_t reqs = v->io(v->ctx);
    double el = (double)(sim_now(v->sim) - v->start);
    double n = (double)(reqs - v->base_reqs), io = n * v->cfg.per_read_ns;
    if (v->cfg.io_max_cpus > 0 && el > 0) /* M (1 - exp(-r c / M)) CPUs over el */
        io = v->cfg.io_max_cpus * el * -expm1(-io / (v->cfg.io_max_cpus * el));
    return vmfreeze_cpu(v) - v->base_cpu + io;
}

static void vmfreeze_check(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    vmfreeze_t *v = ctx;
    if (!v->frozen && vmfreeze_used(v) >= v->budget) {
        /* throttled: nothing of the VM runs until the period timer */
        v->frozen = true;
        v->since = sim_now(sim);
        v->count++;
        cpus_freeze(v->cpus, true);
    }
    sim_after(sim, VMFREEZE_CHECK_NS, vmfreeze_check, v, 0);
}

static void vmfreeze_period(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    vmfreeze_t *v = ctx;
    if (v->frozen) {
        v->frozen = false;
        v->frozen_ns += (double)(sim_now(sim) - v->since);
        cpus_freeze(v->cpus, false);
    }
    /* the quota refills (the CPUs' time while frozen is nothing) */
    v->base_cpu = vmfreeze_cpu(v);
    v->base_reqs = v->io(v->ctx);
    v->start = sim_now(sim);
    sim_after(sim, v->period, vmfreeze_period, v, 0);
}

vmfreeze_t *vmfreeze_new(sim_t *sim, cpus_t *cpus, uint32_t ncpus, const vmfreeze_cfg_t *cfg,
                         vmfreeze_io_fn io, void *ctx, uint64_t seed, uint32_t rep)
{
    vmfreeze_t *v = calloc(1, sizeof(*v));
    gsl_rng *r = v ? rng_stream_new(seed, rep, "host.vm_freeze") : NULL;
    if (!r) {
        free(v);
        return NULL;
    }
    v->sim = sim;
    v->cpus = cpus;
    v->ncpus = ncpus;
    v->cfg = *cfg;
    v->io = io;
    v->ctx = ctx;
    v->period = (sim_time_t)cfg->period_ns;
    v->budget = cfg->quota_cpus * (double)v->period;
    /* the host's period timer started long before the run: its phase is
     * anything; the period in progress at 0 is taken to have used nothing */
    v->phase = (sim_time_t)(gsl_rng_uniform(r) * (double)v->period);
    gsl_rng_free(r);
    cpus_set_halt_poll(cpus, (sim_time_t)cfg->poll_ns);
    sim_at(sim, v->phase, vmfreeze_period, v, 0);
    sim_after(sim, VMFREEZE_CHECK_NS, vmfreeze_check, v, 0);
    return v;
}

void vmfreeze_free(vmfreeze_t *v) { free(v); }

uint32_t vmfreeze_count(const vmfreeze_t *v) { return v->count; }

double vmfreeze_frozen_ns(const vmfreeze_t *v)
{
    return v->frozen_ns + (v->frozen ? (double)(sim_now(v->sim) - v->since) : 0);
}

sim_time_t vmfreeze_phase(const vmfreeze_t *v) { return v->phase; }
