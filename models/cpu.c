/*
 * cpu.c - see cpu.h. Each CPU keeps one deque of jobs per kernel level and a
 * run queue of fair threads (a small array: a CPU rarely has more than a few
 * runnable threads, and a linear scan keeps the kernel's rules readable).
 * The running job's completion event is cancelled when it is pre-empted
 * and its remaining time stays at the front of its queue.
 *
 * Virtual time follows kernel/sched/fair.c: a thread's vruntime grows by
 * ran x 1024 / weight (calc_delta_fair); V, the run queue's weighted
 * average vruntime (avg_vruntime), is kept relative to min_vruntime so the
 * products stay small. IRQ time is not charged to the interrupted thread
 * (as with CONFIG_IRQ_TIME_ACCOUNTING).
 */
#include "cpu.h"

#include "sim/vec.h"

#include <errno.h>
#include <stdlib.h>

const char *const cpu_preempt_names[] = {"none", "voluntary", "full", NULL};

/* kernel/sched/core.c: sched_prio_to_weight, nice -20 .. 19 */
static const uint32_t cpu_weights[40] = {
    88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
    9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,  1586,  1277,
    1024,  820,   655,   526,   423,   335,   272,   215,   172,   137,
    110,   87,    70,    56,    45,    36,    29,    23,    18,    15,
};

uint32_t cpu_nice_weight(int nice)
{
    if (nice < -20)
        nice = -20;
    if (nice > 19)
        nice = 19;
    return cpu_weights[nice + 20];
}

void cpu_sched_defaults(cpu_sched_t *s, uint32_t version, uint32_t ncpus, uint32_t hz,
                        cpu_preempt_t preempt, bool hrtick)
{
    /* get_update_sysctl_factor(): 1 + ilog2(min(online CPUs, 8)) */
    uint32_t n = ncpus < 8 ? ncpus : 8, factor = 1;
    while (n > 1) {
        n >>= 1;
        factor++;
    }
    s->fair = version >= 606 ? CPU_FAIR_EEVDF : CPU_FAIR_CFS;
    /* normalized_sysctl_sched_base_slice: 750 us from 6.6, 700 us from 6.15 */
    s->base_slice = (sim_time_t)factor * (version >= 615 ? 700000 : 750000);
    /* CFS: sched_latency 6 ms, min_granularity 0.75 ms, wakeup_granularity 1 ms */
    s->latency = (sim_time_t)factor * 6000000;
    s->min_gran = (sim_time_t)factor * 750000;
    s->wakeup_gran = (sim_time_t)factor * 1000000;
    s->delay_dequeue = version >= 612;
    s->tick = hz ? 1000000000ull / hz : 4000000;
    s->preempt = preempt;
    s->hrtick = hrtick;
}

typedef struct {
    sim_time_t left;
    sim_handler_fn fn;
    void *ctx;
    uint64_t arg;
    bool user;         /* user-mode work of a kernel-mode thread (cpus_thread_run_user) */
} cpu_job_t;

typedef struct {
    cpu_job_t *j;
    uint32_t head, n, cap;
} cpu_deque_t;

struct cpu_thread {
    cpus_t *c;
    cpu_deque_t q;
    uint32_t cpu, weight, spin;
    bool user, on_rq, delayed, held, placed, rel_deadline;
    bool clock_reader; /* calls update_curr as it spins: its slice end is seen at once */
    sim_timer_t hold;
    int64_t v, deadline, vprot, vlag;  /* virtual ns */
    sim_time_t sum_exec, prev_sum;
    double ns;
};

typedef struct {
    cpu_deque_t q[CPU_USER];   /* hard IRQ, softirq */
    cpu_thread_t **rq;         /* queued fair threads: curr and delayed ones included */
    uint32_t nrq, caprq;
    cpu_thread_t *curr;        /* the fair thread set on the CPU (NULL: none) */
    cpu_thread_t *anon;        /* the CPU's own thread for cpus_run(CPU_USER) */
    cpu_thread_t *ksoftirqd;   /* created on first use */
    int running;               /* level running, -1 when idle */
    bool resched;              /* TIF_NEED_RESCHED for the fair curr */
    bool in_done;              /* a job's callback runs: dispatch afterwards */
    bool tick_armed, hrtick_armed;
    sim_time_t started;        /* when the running work last got the CPU */
    sim_timer_t timer, tick, hrtick;
    sim_time_t idle_since;
    int64_t minv;              /* min_vruntime */
    double busy[CPU_NLEVELS];
    uint32_t cpu;
    /* what the VM's host sees (models/vmfreeze.h): CPU time run, never
     * reset, plus the idle stretches shorter than the halt-poll window */
    double host_ns;
    bool idle_now;             /* went idle at idle_since, not yet left */
} cpu_t;

typedef struct {
    sim_handler_fn fn;
    void *ctx;
    uint64_t arg;
    uint32_t to, next_free;
    sim_time_t recv;
} cpu_ipi_t;

struct cpus {
    sim_t *sim;
    cpu_t *cpu;
    uint32_t n;
    sim_time_t idle_exit, idle_deep;
    cpu_sched_t s;
    cpu_thread_t **thr;
    uint32_t nthr, capthr;
    cpu_ipi_t *ipi;
    uint32_t nipi, capipi, ipi_free;
    sim_time_t poll_ns;        /* halt-poll window (cpus_set_halt_poll) */
    bool frozen;               /* cpus_freeze: nothing runs */
};

#define NICE_0 1024

static int dq_push_back(cpu_deque_t *d, const cpu_job_t *job)
{
    if (d->n == d->cap && VEC_RING_GROW(d->j, d->cap, d->head, d->n) != 0)
        return -ENOMEM;
    d->j[(d->head + d->n++) & (d->cap - 1)] = *job; /* VEC_RING_GROW: a power of two */
    return 0;
}

static int dq_push_front(cpu_deque_t *d, const cpu_job_t *job)
{
    if (d->n == d->cap && VEC_RING_GROW(d->j, d->cap, d->head, d->n) != 0)
        return -ENOMEM;
    d->head = (d->head + d->cap - 1) & (d->cap - 1);
    d->j[d->head] = *job;
    d->n++;
    return 0;
}

static cpu_job_t dq_pop(cpu_deque_t *d)
{
    cpu_job_t job = d->j[d->head];
    d->head = (d->head + 1) & (d->cap - 1);
    d->n--;
    return job;
}

cpus_t *cpus_new(sim_t *sim, uint32_t n, sim_time_t idle_exit_ns, sim_time_t idle_deep_ns,
                 const cpu_sched_t *sched)
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
    if (sched)
        c->s = *sched;
    else
        cpu_sched_defaults(&c->s, 618, n, 250, CPU_PREEMPT_NONE, false);
    c->ipi_free = UINT32_MAX;
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
    for (uint32_t i = 0; i < c->n; i++) {
        for (int l = 0; l < CPU_USER; l++)
            free(c->cpu[i].q[l].j);
        free(c->cpu[i].rq);
    }
    for (uint32_t i = 0; i < c->nthr; i++) {
        free(c->thr[i]->q.j);
        free(c->thr[i]);
    }
    free(c->thr);
    free(c->ipi);
    free(c->cpu);
    free(c);
}


/* --- virtual time --- */

static inline int64_t vdelta(sim_time_t ns, const cpu_thread_t *t)
{
    return t->weight == NICE_0 ? (int64_t)ns : (int64_t)((uint64_t)ns * NICE_0 / t->weight);
}

static inline int64_t vslice(const cpus_t *c, const cpu_thread_t *t)
{
    return vdelta(c->s.base_slice, t);
}

/* Charge the time since `started` to whatever runs: its level's busy time,
 * the running job's remaining work, and a fair thread's vruntime. */
static inline __attribute__((always_inline)) void cpu_charge(cpus_t *c, cpu_t *p)
{
    if (p->running < 0)
        return;
    sim_time_t now = sim_now(c->sim), ran = now - p->started;
    p->started = now;
    if (!ran)
        return;
    p->busy[p->running] += (double)ran;
    p->host_ns += (double)ran;
    cpu_deque_t *d;
    if (p->running < CPU_USER) {
        d = &p->q[p->running];
    } else {
        cpu_thread_t *t = p->curr;
        t->ns += (double)ran;
        t->sum_exec += ran;
        t->v += vdelta(ran, t);
        d = &t->q;
    }
    if (d->n) {
        cpu_job_t *j = &d->j[d->head];
        j->left = j->left > ran ? j->left - ran : 0;
    }
}

/* update_min_vruntime: min_vruntime follows the smallest queued vruntime
 * and never goes back. */
static void update_minv(cpu_t *p)
{
    if (!p->nrq)
        return;
    int64_t m = p->rq[0]->v;
    for (uint32_t i = 1; i < p->nrq; i++)
        if (p->rq[i]->v < m)
            m = p->rq[i]->v;
    if (m > p->minv)
        p->minv = m;
}

/* Sum of weight x (vruntime - min_vruntime) and of weights over the queue. */
static void rq_avg(const cpu_t *p, int64_t *avg, int64_t *load)
{
    int64_t a = 0, l = 0;
    for (uint32_t i = 0; i < p->nrq; i++) {
        a += (p->rq[i]->v - p->minv) * (int64_t)p->rq[i]->weight;
        l += p->rq[i]->weight;
    }
    *avg = a;
    *load = l;
}

/* avg_vruntime: V, rounded down, from rq_avg's sums. */
static int64_t vavg(const cpu_t *p, int64_t avg, int64_t load)
{
    if (!load)
        return p->minv;
    if (avg < 0)
        avg -= load - 1;
    return p->minv + avg / load;
}

static int64_t avg_vruntime(const cpu_t *p)
{
    int64_t avg, load;
    rq_avg(p, &avg, &load);
    return vavg(p, avg, load);
}

/* entity_eligible: lag >= 0, i.e. vruntime <= V, in exact arithmetic. */
static bool eligible(const cpu_t *p, const cpu_thread_t *t)
{
    int64_t avg, load;
    rq_avg(p, &avg, &load);
    return avg >= (t->v - p->minv) * load;
}

static int rq_add(cpus_t *c, cpu_t *p, cpu_thread_t *t)
{
    if (VEC_PUSH(p->rq, p->nrq, p->caprq, t) != 0)
        return sim_fail(c->sim, -ENOMEM, "cpu %u: out of memory queueing a thread", p->cpu);
    return 0;
}

/* Removal keeps insertion order: among equal keys the earlier one wins, as
 * in the kernel's rb-tree. */
static void rq_remove(cpu_t *p, cpu_thread_t *t)
{
    for (uint32_t i = 0; i < p->nrq; i++)
        if (p->rq[i] == t) {
            for (uint32_t k = i + 1; k < p->nrq; k++)
                p->rq[k - 1] = p->rq[k];
            p->nrq--;
            return;
        }
}

/* update_curr: charge the running thread, then (EEVDF) give it a new
 * deadline once it reached the old one; true when that asks for a
 * reschedule (another thread is queued). */
static inline __attribute__((always_inline)) bool fair_update_curr(cpus_t *c, cpu_t *p)
{
    cpu_charge(c, p);
    cpu_thread_t *t = p->curr;
    if (!t)
        return false;
    if (p->nrq == 1) {
        if (t->v > p->minv)
            p->minv = t->v;
    } else {
        update_minv(p);
    }
    if (c->s.fair != CPU_FAIR_EEVDF || t->v < t->deadline)
        return false;
    t->deadline = t->v + vslice(c, t);
    return p->nrq > 1;
}

/* update_entity_lag: V - vruntime, clamped to the slice-based limit. */
static void update_entity_lag(cpus_t *c, const cpu_t *p, cpu_thread_t *t)
{
    sim_time_t span = 2 * c->s.base_slice > c->s.tick ? 2 * c->s.base_slice : c->s.tick;
    int64_t limit = vdelta(span, t), lag = avg_vruntime(p) - t->v;
    t->vlag = lag > limit ? limit : lag < -limit ? -limit : lag;
}

/* place_entity (t not queued). EEVDF: V minus the lag it kept, scaled for
 * its own weight joining the average; deadline one slice on (half a slice
 * on the first placement, PLACE_DEADLINE_INITIAL). CFS: no earlier than
 * min_vruntime - latency/2 (GENTLE_FAIR_SLEEPERS). */
static void place_entity(cpus_t *c, cpu_t *p, cpu_thread_t *t)
{
    if (c->s.fair == CPU_FAIR_CFS) {
        int64_t floor = p->minv - (int64_t)(c->s.latency / 2);
        if (!t->placed)
            t->v = p->minv; /* a new thread starts at min_vruntime */
        else if (t->v < floor)
            t->v = floor;
        t->placed = true;
        return;
    }
    int64_t avg, load, lag = 0;
    rq_avg(p, &avg, &load);
    if (p->nrq && t->vlag)
        lag = t->vlag * (load + (int64_t)t->weight) / load;
    t->v = vavg(p, avg, load) - lag;
    if (t->rel_deadline) {
        t->deadline += t->v;
        t->rel_deadline = false;
        return;
    }
    int64_t vs = vslice(c, t);
    if (!t->placed)
        vs /= 2;
    t->placed = true;
    t->deadline = t->v + vs;
}

static bool fair_runnable(const cpu_thread_t *t) { return !t->held && (t->q.n || t->spin); }

/* May the fair curr be switched out now? User work and spinning always
 * (the interrupt returns to user space); kernel work with full preemption. */
static bool fair_preemptible(const cpus_t *c, const cpu_thread_t *t)
{
    return t->user || !t->q.n || c->s.preempt == CPU_PREEMPT_FULL || t->q.j[t->q.head].user;
}

/* pick_eevdf: the eligible thread with the earliest virtual deadline; the
 * curr keeps the CPU while eligible and protected (RUN_TO_PARITY: its
 * vruntime below vprot, its deadline when it was picked). */
static cpu_thread_t *pick_eevdf(const cpu_t *p, bool protect)
{
    if (!p->nrq)
        return NULL;
    if (p->nrq == 1)
        return p->rq[0];
    int64_t avg, load;
    rq_avg(p, &avg, &load);
    cpu_thread_t *curr = p->curr, *best = NULL;
    if (curr && avg < (curr->v - p->minv) * load)
        curr = NULL;
    if (curr && protect && curr->v < curr->vprot)
        return curr;
    for (uint32_t i = 0; i < p->nrq; i++) {
        cpu_thread_t *t = p->rq[i];
        if (t == p->curr || avg < (t->v - p->minv) * load)
            continue;
        if (!best || t->deadline < best->deadline)
            best = t;
    }
    if (!best || (curr && curr->deadline < best->deadline))
        best = curr;
    return best;
}

/* CFS pick_next_entity: the smallest vruntime (buddies not modelled). */
static cpu_thread_t *pick_cfs(const cpu_t *p)
{
    cpu_thread_t *best = NULL;
    for (uint32_t i = 0; i < p->nrq; i++)
        if (p->rq[i] != p->curr && (!best || p->rq[i]->v < best->v))
            best = p->rq[i];
    if (p->curr && (!best || p->curr->v < best->v))
        best = p->curr;
    return best;
}

/* A delayed thread picked: it leaves the queue now, its lag clipped to 0
 * (finish_delayed_dequeue_entity with DELAY_ZERO). */
static void finish_delayed(cpus_t *c, cpu_t *p, cpu_thread_t *t)
{
    update_entity_lag(c, p, t);
    rq_remove(p, t);
    t->on_rq = t->delayed = false;
    if (t->vlag > 0)
        t->vlag = 0;
}

/* __schedule for the fair class: pick the next curr. */
static void fair_schedule(cpus_t *c, cpu_t *p)
{
    fair_update_curr(c, p);
    cpu_thread_t *t;
    for (;;) {
        t = c->s.fair == CPU_FAIR_EEVDF ? pick_eevdf(p, true) : pick_cfs(p);
        if (t && t->delayed) {
            if (p->curr == t)
                p->curr = NULL;
            finish_delayed(c, p, t);
            continue;
        }
        break;
    }
    if (t && t != p->curr) {
        t->prev_sum = t->sum_exec;
        t->vprot = t->deadline; /* set_protect_slice: every slice is the base slice */
    }
    p->curr = t;
    p->resched = false;
}

static void cpu_dispatch(cpus_t *c, cpu_t *p);
static void cpu_on_done(sim_t *sim, void *ctx, uint64_t idx);

/* Stop whatever runs (it keeps its place); the caller dispatches. */
static void cpu_stop(cpus_t *c, cpu_t *p)
{
    if (p->running < 0)
        return;
    cpu_charge(c, p);
    sim_cancel(c->sim, p->timer);
    p->running = -1;
}

/* resched_curr: switch now when the curr runs and may be pre-empted, else
 * at its next pre-emption point (the end of its kernel job). */
static void fair_resched(cpus_t *c, cpu_t *p)
{
    p->resched = true;
    if (p->running == CPU_USER && !p->in_done && fair_preemptible(c, p->curr)) {
        cpu_stop(c, p);
        fair_schedule(c, p);
        cpu_dispatch(c, p);
    }
}

/* --- the tick --- */

static void cpu_tick(sim_t *sim, void *ctx, uint64_t idx);

static void arm_tick(cpus_t *c, cpu_t *p)
{
    if (p->tick_armed || p->nrq < 2)
        return;
    sim_time_t now = sim_now(c->sim), next = (now / c->s.tick + 1) * c->s.tick;
    p->tick_armed = true;
    p->tick = sim_at(c->sim, next, cpu_tick, c, p->cpu);
}

/* check_preempt_tick (CFS): the curr ran its sched_slice, or leads the
 * leftmost thread by more than that after the minimum granularity. */
static bool cfs_tick_preempt(const cpus_t *c, const cpu_t *p)
{
    const cpu_thread_t *t = p->curr;
    int64_t load = 0;
    for (uint32_t i = 0; i < p->nrq; i++)
        load += p->rq[i]->weight;
    uint32_t nr = p->nrq;
    sim_time_t period = nr > 8 ? nr * c->s.min_gran : c->s.latency;
    sim_time_t ideal = (sim_time_t)((double)period * t->weight / (double)load);
    if (ideal < c->s.min_gran)
        ideal = c->s.min_gran;
    sim_time_t ran = t->sum_exec - t->prev_sum;
    if (ran > ideal)
        return true;
    if (ran < c->s.min_gran)
        return false;
    const cpu_thread_t *left = NULL;
    for (uint32_t i = 0; i < p->nrq; i++)
        if (p->rq[i] != t && (!left || p->rq[i]->v < left->v))
            left = p->rq[i];
    return left && t->v - left->v > (int64_t)ideal;
}

static void cpu_tick(sim_t *sim, void *ctx, uint64_t idx)
{
    (void)sim;
    cpus_t *c = ctx;
    cpu_t *p = &c->cpu[idx];
    p->tick_armed = false;
    arm_tick(c, p);
    if (!p->curr)
        return;
    bool resched = fair_update_curr(c, p);
    if (c->s.fair == CPU_FAIR_CFS && p->nrq > 1)
        resched = cfs_tick_preempt(c, p);
    if (resched)
        fair_resched(c, p);
}

/* HRTICK: a timer at the exact end of the curr's slice. */
static void cpu_hrtick(sim_t *sim, void *ctx, uint64_t idx)
{
    (void)sim;
    cpus_t *c = ctx;
    cpu_t *p = &c->cpu[idx];
    p->hrtick_armed = false;
    if (!p->curr || p->nrq < 2)
        return;
    bool resched = fair_update_curr(c, p);
    if (c->s.fair == CPU_FAIR_CFS)
        resched = cfs_tick_preempt(c, p);
    if (resched)
        fair_resched(c, p);
}

/* HRTICK, or (EEVDF) a curr that reads its own CPU-time clock as it runs:
 * clock_gettime(CLOCK_THREAD_CPUTIME_ID) -> task_sched_runtime() calls
 * update_curr(), which asks for a reschedule once the slice is used up
 * (6.6+: deadline reached; 6.17+: protected slice over), so the slice's end
 * is seen when it happens, not at the next tick. CFS's update_curr does not
 * check the slice (only the tick does), so there it changes nothing. */
static void arm_hrtick(cpus_t *c, cpu_t *p)
{
    const cpu_thread_t *t = p->curr;
    bool exact = c->s.hrtick || (t && t->clock_reader && c->s.fair == CPU_FAIR_EEVDF);
    if (p->hrtick_armed)
        sim_cancel(c->sim, p->hrtick);
    p->hrtick_armed = false;
    if (!exact || !t || p->nrq < 2)
        return;
    sim_time_t left;
    if (c->s.fair == CPU_FAIR_EEVDF) {
        int64_t dv = t->deadline - t->v;
        left = dv <= 0 ? 1 : (sim_time_t)((uint64_t)dv * t->weight / NICE_0) + 1;
    } else {
        int64_t load = 0;
        for (uint32_t i = 0; i < p->nrq; i++)
            load += p->rq[i]->weight;
        sim_time_t ideal = (sim_time_t)((double)c->s.latency * t->weight / (double)load);
        sim_time_t ran = t->sum_exec - t->prev_sum;
        left = ideal > ran ? ideal - ran + 1 : 1;
    }
    p->hrtick = sim_after(c->sim, left, cpu_hrtick, c, p->cpu);
    p->hrtick_armed = true;
}

/* --- enqueue / dequeue --- */

/* t became runnable: enqueue it (or take it back from a delayed dequeue)
 * and apply the wake-up pre-emption rules against the curr. */
static void fair_enqueue(cpus_t *c, cpu_t *p, cpu_thread_t *t)
{
    bool resched = fair_update_curr(c, p);
    if (t->delayed) {
        /* requeue_delayed_entity with DELAY_ZERO: a positive lag is dropped */
        update_entity_lag(c, p, t);
        if (t->vlag > 0) {
            rq_remove(p, t);
            t->vlag = 0;
            place_entity(c, p, t);
            if (rq_add(c, p, t))
                return;
        }
        t->delayed = false;
    } else {
        place_entity(c, p, t);
        if (rq_add(c, p, t))
            return;
        t->on_rq = true;
    }
    arm_tick(c, p);
    cpu_thread_t *cur = p->curr;
    if (!cur) {
        cpu_dispatch(c, p);
        return;
    }
    if (cur == t)
        return;
    bool preempt = resched;
    if (!preempt && c->s.fair == CPU_FAIR_EEVDF)
        preempt = pick_eevdf(p, true) == t; /* check_preempt_wakeup_fair */
    else if (!preempt)
        preempt = cur->v - t->v > vdelta(c->s.wakeup_gran, t); /* wakeup_preempt_entity */
    if (preempt)
        fair_resched(c, p);
    else if (p->running == CPU_USER)
        arm_hrtick(c, p);
}

/* t stops being runnable on p. A sleeper that is not eligible stays queued,
 * delayed, until it is picked (DELAY_DEQUEUE); a migrating one keeps its
 * deadline relative to its vruntime (PLACE_REL_DEADLINE). */
static void fair_dequeue(cpus_t *c, cpu_t *p, cpu_thread_t *t, bool sleep)
{
    fair_update_curr(c, p);
    if (p->curr == t)
        p->curr = NULL;
    if (c->s.fair == CPU_FAIR_EEVDF) {
        if (t->delayed) {
            finish_delayed(c, p, t);
            return;
        }
        if (p->nrq == 1) {
            t->vlag = 0; /* alone: V is its own vruntime */
        } else {
            if (sleep && c->s.delay_dequeue && !eligible(p, t)) {
                t->delayed = true;
                return;
            }
            update_entity_lag(c, p, t);
        }
        if (!sleep) {
            t->deadline -= t->v;
            t->rel_deadline = true;
        }
    }
    rq_remove(p, t);
    t->on_rq = false;
    update_minv(p);
}

/* Bring t's queue state in line with whether it is runnable. */
static void fair_settle(cpus_t *c, cpu_thread_t *t)
{
    cpu_t *p = &c->cpu[t->cpu];
    bool run = fair_runnable(t);
    if (run && (!t->on_rq || t->delayed)) {
        fair_enqueue(c, p, t);
    } else if (!run && t->on_rq && !t->delayed) {
        if (p->curr == t)
            cpu_stop(c, p);
        fair_dequeue(c, p, t, true);
        cpu_dispatch(c, p);
    }
}

/* --- running work --- */

/* The CPU goes idle / starts work: a short idle stretch is host time
 * (halt polling; models/vmfreeze.h). */
static inline void cpu_went_idle(cpu_t *p, sim_time_t now)
{
    p->idle_since = now;
    p->idle_now = true;
}

static inline void cpu_left_idle(const cpus_t *c, cpu_t *p, sim_time_t now)
{
    if (p->idle_now && now - p->idle_since < c->poll_ns)
        p->host_ns += (double)(now - p->idle_since);
    p->idle_now = false;
}

/* Start the highest-level work, if the CPU is free: kernel levels first,
 * then the fair curr (picking one when there is none, when the curr may be
 * pre-empted and is asked to, or when it cannot run). */
static void cpu_dispatch(cpus_t *c, cpu_t *p)
{
    if (p->running >= 0 || p->in_done || c->frozen)
        return;
    sim_time_t now = sim_now(c->sim);
    for (int l = 0; l < CPU_USER; l++) {
        if (!p->q[l].n)
            continue;
        cpu_left_idle(c, p, now);
        p->running = l;
        p->started = now;
        p->timer = sim_after(c->sim, p->q[l].j[p->q[l].head].left, cpu_on_done, c, p->cpu);
        return;
    }
    cpu_thread_t *t = p->curr;
    if (!t && !p->nrq) {
        /* no fair thread queued (curr is always one of them): fair_schedule
         * would charge nothing (nothing runs), pick none and clear resched,
         * so the CPU goes idle without it - most of a CPU's job ends */
        p->resched = false;
        cpu_went_idle(p, now);
        return;
    }
    if (!t || !fair_runnable(t) || (p->resched && fair_preemptible(c, t))) {
        fair_schedule(c, p);
        t = p->curr;
    }
    if (!t) {
        cpu_went_idle(p, now);
        return;
    }
    cpu_left_idle(c, p, now);
    p->running = CPU_USER;
    p->started = now;
    if (t->q.n)
        p->timer = sim_after(c->sim, t->q.j[t->q.head].left, cpu_on_done, c, p->cpu);
    arm_hrtick(c, p);
}

static void cpu_on_done(sim_t *sim, void *ctx, uint64_t idx)
{
    cpus_t *c = ctx;
    cpu_t *p = &c->cpu[idx];
    int lvl = p->running;
    cpu_thread_t *t = NULL;
    cpu_job_t job;
    if (lvl < CPU_USER) {
        cpu_charge(c, p);
        job = dq_pop(&p->q[lvl]);
    } else {
        /* charge only: a thread's own job boundary is no update_curr in the
         * kernel (no tick, no enqueue), so an expired slice waits for one */
        t = p->curr;
        cpu_charge(c, p);
        job = dq_pop(&t->q);
    }
    p->running = -1;
    p->in_done = true;
    job.fn(sim, job.ctx, job.arg);
    p->in_done = false;
    /* the end of a job is a pre-emption point for its thread */
    if (t && t->cpu == p->cpu && t->on_rq && !t->delayed && !fair_runnable(t))
        fair_dequeue(c, p, t, true);
    if (t && p->resched && p->curr)
        fair_schedule(c, p);
    cpu_dispatch(c, p);
}

static int cpu_push(cpus_t *c, cpu_t *p, cpu_deque_t *d, sim_time_t work, sim_handler_fn fn,
                    void *ctx, uint64_t arg, bool user)
{
    cpu_job_t job = {work, fn, ctx, arg, user};
    int rc = dq_push_back(d, &job);
    if (rc)
        sim_fail(c->sim, rc, "cpu %u: out of memory queueing work", p->cpu);
    return rc;
}

/* A CPU idle long enough pays the C-state exit first. */
static sim_time_t idle_exit(const cpus_t *c, const cpu_t *p)
{
    if (p->running >= 0 || p->in_done || p->curr || !c->idle_exit)
        return 0;
    return sim_now(c->sim) - p->idle_since >= c->idle_deep ? c->idle_exit : 0;
}

static int cpu_run_kernel(cpus_t *c, cpu_t *p, cpu_level_t lvl, sim_time_t work,
                          sim_handler_fn fn, void *ctx, uint64_t arg)
{
    if (p->running > (int)lvl)
        cpu_stop(c, p); /* pre-empt: the running work keeps its place */
    int rc = cpu_push(c, p, &p->q[lvl], work, fn, ctx, arg, false);
    cpu_dispatch(c, p);
    return rc;
}

int cpus_run(cpus_t *c, uint32_t cpu, cpu_level_t lvl, sim_time_t work, sim_handler_fn fn,
             void *ctx, uint64_t arg)
{
    cpu_t *p = &c->cpu[cpu];
    if (lvl == CPU_USER) {
        if (!p->anon && !(p->anon = cpus_thread_new(c, cpu, 0)))
            return sim_fail(c->sim, -ENOMEM, "cpu %u: out of memory for a thread", cpu);
        return cpus_thread_run(p->anon, work, fn, ctx, arg);
    }
    return cpu_run_kernel(c, p, lvl, work + idle_exit(c, p), fn, ctx, arg);
}

int cpus_run_woken(cpus_t *c, uint32_t cpu, cpu_level_t lvl, sim_time_t work, sim_handler_fn fn,
                   void *ctx, uint64_t arg)
{
    return cpu_run_kernel(c, &c->cpu[cpu], lvl, work, fn, ctx, arg);
}

/* --- IPIs --- */

static void ipi_handled(sim_t *sim, void *ctx, uint64_t i)
{
    cpus_t *c = ctx;
    cpu_ipi_t x = c->ipi[i];
    c->ipi[i].next_free = c->ipi_free;
    c->ipi_free = (uint32_t)i;
    x.fn(sim, x.ctx, x.arg);
}

static void ipi_arrived(sim_t *sim, void *ctx, uint64_t i)
{
    (void)sim;
    cpus_t *c = ctx;
    cpus_run(c, c->ipi[i].to, CPU_HARDIRQ, c->ipi[i].recv, ipi_handled, c, i);
}

int cpus_ipi(cpus_t *c, uint32_t from, uint32_t to, sim_time_t send, sim_time_t flight,
             sim_time_t recv, sim_handler_fn fn, void *ctx, uint64_t arg)
{
    uint32_t i = c->ipi_free;
    if (i != UINT32_MAX) {
        c->ipi_free = c->ipi[i].next_free;
    } else {
        i = c->nipi;
        if (VEC_PUSH(c->ipi, c->nipi, c->capipi, (cpu_ipi_t){0}) != 0)
            return sim_fail(c->sim, -ENOMEM, "cpu %u: out of memory sending an IPI", from);
    }
    c->ipi[i] = (cpu_ipi_t){fn, ctx, arg, to, UINT32_MAX, recv};
    if (send)
        cpus_run(c, from, CPU_HARDIRQ, send, sim_nothing, NULL, 0);
    sim_after(c->sim, flight, ipi_arrived, c, i);
    return 0;
}

/* --- threads --- */

cpu_thread_t *cpus_thread_new(cpus_t *c, uint32_t cpu, int nice)
{
    cpu_thread_t *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    if (VEC_PUSH(c->thr, c->nthr, c->capthr, t) != 0) {
        free(t);
        return NULL;
    }
    t->c = c;
    t->cpu = cpu;
    t->weight = cpu_nice_weight(nice);
    return t;
}

void cpus_thread_set_user(cpu_thread_t *t, bool user) { t->user = user; }
void cpus_thread_set_clock_reader(cpu_thread_t *t, bool on) { t->clock_reader = on; }
uint32_t cpus_thread_cpu(const cpu_thread_t *t) { return t->cpu; }
bool cpus_thread_busy(const cpu_thread_t *t) { return t->q.n || t->spin; }
bool cpus_thread_spinning(const cpu_thread_t *t) { return t->spin && !t->held; }
bool cpus_thread_held(const cpu_thread_t *t) { return t->held; }

static int thread_run(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx,
                      uint64_t arg, bool user)
{
    cpus_t *c = t->c;
    cpu_t *p = &c->cpu[t->cpu];
    if (!t->on_rq && !t->held)
        work += idle_exit(c, p);
    int rc = cpu_push(c, p, &t->q, work, fn, ctx, arg, user);
    if (rc)
        return rc;
    if (t == p->curr && p->running == CPU_USER && t->q.n == 1) {
        /* it was spinning: the job starts now */
        cpu_charge(c, p);
        p->timer = sim_after(c->sim, work, cpu_on_done, c, p->cpu);
        return 0;
    }
    fair_settle(c, t);
    return 0;
}

int cpus_thread_run(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx, uint64_t arg)
{
    return thread_run(t, work, fn, ctx, arg, false);
}

int cpus_thread_run_user(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx,
                         uint64_t arg)
{
    return thread_run(t, work, fn, ctx, arg, true);
}

int cpus_thread_run_first(cpu_thread_t *t, sim_time_t work, sim_handler_fn fn, void *ctx,
                          uint64_t arg)
{
    cpus_t *c = t->c;
    cpu_t *p = &c->cpu[t->cpu];
    bool running = t == p->curr && p->running == CPU_USER;
    if (running) {
        cpu_charge(c, p); /* the interrupted job keeps what it has left */
        if (t->q.n)
            sim_cancel(c->sim, p->timer);
    } else if (!t->on_rq && !t->held) {
        work += idle_exit(c, p);
    }
    cpu_job_t job = {work, fn, ctx, arg, false};
    if (dq_push_front(&t->q, &job))
        return sim_fail(c->sim, -ENOMEM, "cpu %u: out of memory queueing work", p->cpu);
    if (running) {
        p->timer = sim_after(c->sim, work, cpu_on_done, c, p->cpu);
        return 0;
    }
    fair_settle(c, t);
    return 0;
}

cpu_thread_t *cpus_ksoftirqd(cpus_t *c, uint32_t cpu)
{
    cpu_t *p = &c->cpu[cpu];
    if (!p->ksoftirqd && !(p->ksoftirqd = cpus_thread_new(c, cpu, 0)))
        sim_fail(c->sim, -ENOMEM, "cpu %u: out of memory for ksoftirqd", cpu);
    return p->ksoftirqd;
}

void cpus_thread_spin(cpu_thread_t *t, bool on)
{
    if (on)
        t->spin++;
    else if (t->spin)
        t->spin--;
    fair_settle(t->c, t);
}

static void thread_unhold(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    cpu_thread_t *t = ctx;
    t->held = false;
    fair_settle(t->c, t);
}

void cpus_thread_sleep_until(cpu_thread_t *t, sim_time_t until)
{
    cpus_t *c = t->c;
    if (until <= sim_now(c->sim))
        return;
    if (t->held)
        sim_cancel(c->sim, t->hold);
    t->held = true;
    t->hold = sim_at(c->sim, until, thread_unhold, t, 0);
    fair_settle(c, t);
}

void cpus_thread_move(cpu_thread_t *t, uint32_t cpu)
{
    cpus_t *c = t->c;
    if (t->cpu == cpu)
        return;
    cpu_t *old = &c->cpu[t->cpu], *to = &c->cpu[cpu];
    if (t->on_rq) {
        if (old->curr == t)
            cpu_stop(c, old);
        if (t->delayed) {
            if (old->curr == t)
                old->curr = NULL;
            finish_delayed(c, old, t);
        } else {
            fair_dequeue(c, old, t, false);
        }
        cpu_dispatch(c, old);
    }
    if (c->s.fair == CPU_FAIR_CFS)
        t->v = t->v - old->minv + to->minv; /* vruntime is relative to the queue */
    t->cpu = cpu;
    fair_settle(c, t);
}

double cpus_thread_ns(const cpu_thread_t *t)
{
    const cpu_t *p = &t->c->cpu[t->cpu];
    double ns = t->ns;
    if (p->curr == t && p->running == CPU_USER)
        ns += (double)(sim_now(t->c->sim) - p->started);
    return ns;
}

/* --- queries --- */


uint32_t cpus_queued(const cpus_t *c, uint32_t cpu, cpu_level_t lvl)
{
    const cpu_t *p = &c->cpu[cpu];
    if (lvl < CPU_USER)
        return p->q[lvl].n;
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->nrq; i++)
        n += !p->rq[i]->delayed;
    return n;
}

bool cpus_idle(const cpus_t *c, uint32_t cpu)
{
    for (int l = 0; l < CPU_NLEVELS; l++)
        if (cpus_queued(c, cpu, (cpu_level_t)l))
            return false;
    return true;
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

void cpus_set_halt_poll(cpus_t *c, sim_time_t poll_ns) { c->poll_ns = poll_ns; }

double cpus_host_ns(const cpus_t *c, uint32_t cpu)
{
    const cpu_t *p = &c->cpu[cpu];
    return p->host_ns + (p->running >= 0 ? (double)(sim_now(c->sim) - p->started) : 0);
}

void cpus_freeze(cpus_t *c, bool on)
{
    if (on == c->frozen)
        return;
    c->frozen = on;
    for (uint32_t i = 0; i < c->n; i++) {
        cpu_t *p = &c->cpu[i];
        if (on)
            cpu_stop(c, p); /* the running work keeps its place and what is left */
        else if (p->q[CPU_HARDIRQ].n || p->q[CPU_SOFTIRQ].n || p->nrq)
            cpu_dispatch(c, p); /* an idle CPU stays idle since it went idle */
    }
}

bool cpus_frozen(const cpus_t *c) { return c->frozen; }

void cpus_reset_stats(cpus_t *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        cpu_t *p = &c->cpu[i];
        cpu_charge(c, p); /* count only what runs from now on */
        for (int l = 0; l < CPU_NLEVELS; l++)
            p->busy[l] = 0;
    }
    for (uint32_t i = 0; i < c->nthr; i++)
        c->thr[i]->ns = 0;
}
