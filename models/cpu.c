/*
 * cpu.c - see cpu.h. Each CPU keeps one deque of jobs per level; the running
 * job's completion event is cancelled when it is pre-empted and its
 * remaining time goes back to the front of its level.
 */
#include "cpu.h"

#include "sim/vec.h"

#include <errno.h>
#include <stdlib.h>

typedef struct {
    sim_time_t left;
    sim_handler_fn fn;
    void *ctx;
    uint64_t arg;
} cpu_job_t;

typedef struct {
    cpu_job_t *j;
    uint32_t head, n, cap;
} cpu_deque_t;

typedef struct {
    cpu_deque_t q[CPU_NLEVELS];
    int running;              /* level of the running job, -1 when idle */
    sim_time_t started;       /* when the running job last got the CPU */
    sim_timer_t timer;
    sim_time_t idle_since;
    double busy[CPU_NLEVELS];
    uint32_t cpu;
} cpu_t;

struct cpus {
    sim_t *sim;
    cpu_t *cpu;
    uint32_t n;
    sim_time_t idle_exit, idle_deep;
};

static int dq_push_back(cpu_deque_t *d, const cpu_job_t *job)
{
    if (d->n == d->cap && VEC_RING_GROW(d->j, d->cap, d->head, d->n) != 0)
        return -ENOMEM;
    d->j[(d->head + d->n++) % d->cap] = *job;
    return 0;
}

cpus_t *cpus_new(sim_t *sim, uint32_t n, sim_time_t idle_exit_ns, sim_time_t idle_deep_ns)
{
    cpus_t *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cpu = calloc(n, sizeof(*c->cpu));
    if (!c->cpu) {
        free(c);
        return NULL;
    }
    c->sim = sim;
    c->n = n;
    c->idle_exit = idle_exit_ns;
    c->idle_deep = idle_deep_ns;
    for (uint32_t i = 0; i < n; i++) {
        c->cpu[i].running = -1;
        c->cpu[i].cpu = i;
    }
    return c;
}

void cpus_free(cpus_t *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->n; i++)
        for (int l = 0; l < CPU_NLEVELS; l++)
            free(c->cpu[i].q[l].j);
    free(c->cpu);
    free(c);
}

uint32_t cpus_count(const cpus_t *c) { return c->n; }

static void cpu_dispatch(cpus_t *c, cpu_t *p);

static void cpu_on_done(sim_t *sim, void *ctx, uint64_t idx)
{
    cpus_t *c = ctx;
    cpu_t *p = &c->cpu[idx];
    cpu_deque_t *d = &p->q[p->running];
    cpu_job_t job = d->j[d->head];
    d->head = (d->head + 1) % d->cap;
    d->n--;
    p->busy[p->running] += (double)(sim_now(sim) - p->started);
    p->running = -1;
    cpu_dispatch(c, p);
    job.fn(sim, job.ctx, job.arg);
}

/* Start the highest-level queued job, if the CPU is idle. */
static void cpu_dispatch(cpus_t *c, cpu_t *p)
{
    if (p->running >= 0)
        return;
    for (int l = 0; l < CPU_NLEVELS; l++) {
        if (!p->q[l].n)
            continue;
        p->running = l;
        p->started = sim_now(c->sim);
        p->timer = sim_after(c->sim, p->q[l].j[p->q[l].head].left, cpu_on_done, c, p->cpu);
        return;
    }
    p->idle_since = sim_now(c->sim);
}

int cpus_run(cpus_t *c, uint32_t cpu, cpu_level_t lvl, sim_time_t work, sim_handler_fn fn,
             void *ctx, uint64_t arg)
{
    cpu_t *p = &c->cpu[cpu];
    sim_time_t now = sim_now(c->sim);
    if (p->running < 0 && c->idle_exit && now - p->idle_since >= c->idle_deep)
        work += c->idle_exit;
    cpu_job_t job = {work, fn, ctx, arg};
    if (p->running > (int)lvl) {
        /* pre-empt: the running job keeps its place at the front of its level */
        cpu_deque_t *d = &p->q[p->running];
        cpu_job_t *cur = &d->j[d->head];
        sim_time_t ran = now - p->started;
        cur->left = cur->left > ran ? cur->left - ran : 0;
        p->busy[p->running] += (double)ran;
        sim_cancel(c->sim, p->timer);
        p->running = -1;
    }
    int rc = dq_push_back(&p->q[lvl], &job);
    if (rc)
        sim_fail(c->sim, rc, "cpu %u: out of memory queueing work", cpu);
    cpu_dispatch(c, p); /* a pre-empted job runs on */
    return rc;
}

bool cpus_idle(const cpus_t *c, uint32_t cpu) { return c->cpu[cpu].running < 0; }

uint32_t cpus_queued(const cpus_t *c, uint32_t cpu, cpu_level_t lvl)
{
    return c->cpu[cpu].q[lvl].n;
}

double cpus_busy_ns(const cpus_t *c, uint32_t cpu, cpu_level_t lvl)
{
    if (cpu != UINT32_MAX) {
        const cpu_t *p = &c->cpu[cpu];
        double b = p->busy[lvl];
        if (p->running == (int)lvl)
            b += (double)(sim_now(c->sim) - p->started);
        return b;
    }
    double sum = 0;
    for (uint32_t i = 0; i < c->n; i++)
        sum += cpus_busy_ns(c, i, lvl);
    return sum;
}

void cpus_reset_stats(cpus_t *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        cpu_t *p = &c->cpu[i];
        for (int l = 0; l < CPU_NLEVELS; l++)
            p->busy[l] = 0;
        if (p->running >= 0) {
            /* count only what runs from now on */
            cpu_deque_t *d = &p->q[p->running];
            sim_time_t ran = sim_now(c->sim) - p->started;
            d->j[d->head].left = d->j[d->head].left > ran ? d->j[d->head].left - ran : 0;
            p->started = sim_now(c->sim);
        }
    }
}
