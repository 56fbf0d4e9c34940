/*
 * test_cpu.c - the CPU model (models/cpu.h) against timelines computed by
 * hand from kernel/sched/fair.c's rules, on 2 CPUs (tunables x 2: EEVDF
 * base slice 1.4 ms, CFS latency 12 ms, wakeup granularity 2 ms), HZ 250
 * (ticks every 4 ms):
 *   - two always-runnable threads of nice 0 and nice 5 share a CPU 1024:335
 *     (EEVDF and CFS);
 *   - EEVDF: a consumer waking with no lag beside a CPU hog waits until the
 *     first tick after the hog's protected slice ends (HRTICK: exactly
 *     then); woken again with the lag it earned, it pre-empts at once;
 *   - CFS: it waits until the hog has run its sched_slice, seen at a tick;
 *   - preemption model none lets a kernel job finish first, full does not;
 *   - hard-IRQ work pre-empts threads; an IPI costs both CPUs;
 *   - the hard-IRQ handler costs irq_handler_ns + irq_per_cqe_ns per further
 *     CQE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "models/costs.h"
#include "models/cpu.h"
#include "models/irq.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define US 1000ull
#define MS 1000000ull

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    sim_time_t done[8];
} fx_t;

static void fx_init(fx_t *f, uint32_t version, cpu_preempt_t pm, bool hrtick)
{
    memset(f, 0, sizeof(*f));
    cpu_sched_t s;
    cpu_sched_defaults(&s, version, 2, 250, pm, hrtick);
    f->sim = sim_new();
    f->cpus = cpus_new(f->sim, 2, 0, SIM_TIME_MAX, &s);
    assert_non_null(f->cpus);
}

static void fx_fini(fx_t *f)
{
    cpus_free(f->cpus);
    sim_free(f->sim);
}

static void record(sim_t *sim, void *ctx, uint64_t i)
{
    fx_t *f = ctx;
    f->done[i] = sim_now(sim);
}

typedef struct {
    cpu_thread_t *t;
    sim_time_t work;
    fx_t *f;
    uint64_t slot;
} wake_t;

static void wake(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    wake_t *w = ctx;
    cpus_thread_run(w->t, w->work, record, w->f, w->slot);
}

static void test_defaults(void **state)
{
    (void)state;
    cpu_sched_t s;
    cpu_sched_defaults(&s, 618, 2, 250, CPU_PREEMPT_NONE, false);
    assert_int_equal(s.fair, CPU_FAIR_EEVDF);
    assert_int_equal(s.base_slice, 1400 * US); /* 0.7 ms x (1 + ilog2(2)) */
    assert_int_equal(s.tick, 4 * MS);
    cpu_sched_defaults(&s, 601, 16, 1000, CPU_PREEMPT_FULL, false);
    assert_int_equal(s.fair, CPU_FAIR_CFS);
    assert_int_equal(s.latency, 24 * MS); /* 6 ms x (1 + ilog2(8)) */
    assert_int_equal(s.wakeup_gran, 4 * MS);
    assert_int_equal(s.tick, 1 * MS);
    assert_int_equal(cpu_nice_weight(0), 1024);
    assert_int_equal(cpu_nice_weight(5), 335);
}

/* Two threads that never sleep share the CPU by weight. */
static void share(uint32_t version)
{
    fx_t f;
    fx_init(&f, version, CPU_PREEMPT_NONE, false);
    cpu_thread_t *a = cpus_thread_new(f.cpus, 0, 0), *b = cpus_thread_new(f.cpus, 0, 5);
    cpus_thread_set_user(a, true);
    cpus_thread_set_user(b, true);
    cpus_thread_run(a, 100000 * MS, record, &f, 0);
    cpus_thread_run(b, 100000 * MS, record, &f, 1);
    sim_run(f.sim, 4000 * MS);
    double ra = cpus_thread_ns(a), rb = cpus_thread_ns(b);
    printf("%u: nice 0 %.1f ms, nice 5 %.1f ms, ratio %.4f (1024/335 = %.4f)\n", version, ra / 1e6,
           rb / 1e6, ra / rb, 1024.0 / 335.0);
    assert_true(fabs(ra + rb - 4000.0 * MS) < 1);
    assert_true(fabs(ra / rb - 1024.0 / 335.0) < 0.02 * 1024.0 / 335.0);
    fx_fini(&f);
}

static void test_weights_eevdf(void **state)
{
    (void)state;
    share(618);
}

static void test_weights_cfs(void **state)
{
    (void)state;
    share(601);
}

/* The timeline of the hog tests: consumer C runs 1 us at t = 0 and sleeps;
 * hog H (user work) wakes at 10 us; C wakes at 200 us with 1 us of work. */
typedef struct {
    fx_t f;
    cpu_thread_t *c, *h;
    wake_t wc, wc2;
} hog_t;

static void hog_init(hog_t *x, uint32_t version, cpu_preempt_t pm, bool hrtick, bool hog_user,
                     sim_time_t hog_work)
{
    fx_init(&x->f, version, pm, hrtick);
    x->c = cpus_thread_new(x->f.cpus, 0, 0);
    x->h = cpus_thread_new(x->f.cpus, 0, 0);
    cpus_thread_set_user(x->h, hog_user);
    cpus_thread_run(x->c, 1 * US, record, &x->f, 0);
    x->wc = (wake_t){x->h, hog_work, &x->f, 7};
    sim_at(x->f.sim, 10 * US, wake, &x->wc, 0);
    x->wc2 = (wake_t){x->c, 1 * US, &x->f, 1};
    sim_at(x->f.sim, 200 * US, wake, &x->wc2, 0);
}

/* EEVDF: H is placed at V = 1 us with the half slice of a first placement,
 * deadline 1 + 700 = 701 us (virtual = real at nice 0). C wakes at 200 us
 * with lag 0: vruntime V = 191 us, H still eligible and protected (191 <
 * vprot 701), so no pre-emption. H passes its deadline at 710 us; the tick
 * at 4 ms notices it, H (vruntime 3991 us > V) is no longer eligible, C
 * runs: done at 4001 us. With HRTICK the slice ends at exactly 710 us (+1
 * ns of rounding up): done at 711.001 us. */
static void test_eevdf_hog_waits_for_tick(void **state)
{
    (void)state;
    hog_t x;
    hog_init(&x, 618, CPU_PREEMPT_NONE, false, true, 100 * MS);
    sim_run(x.f.sim, 20 * MS);
    printf("EEVDF, HZ 250: woken at 200 us, done at %.3f us\n", (double)x.f.done[1] / 1e3);
    assert_int_equal(x.f.done[0], 1 * US);
    assert_int_equal(x.f.done[1], 4 * MS + 1 * US);
    fx_fini(&x.f);

    hog_init(&x, 618, CPU_PREEMPT_NONE, true, true, 100 * MS);
    sim_run(x.f.sim, 20 * MS);
    printf("EEVDF, HRTICK: done at %.3f us\n", (double)x.f.done[1] / 1e3);
    assert_int_equal(x.f.done[1], 710 * US + 1 + 1 * US);
    fx_fini(&x.f);
}

/* The same timeline with H a hog that reads its own CPU-time clock as it
 * spins (bench_hog): each read runs update_curr, so under EEVDF the end of
 * H's slice at 710 us is seen then, as HRTICK would: done at 711.001 us.
 * CFS's update_curr does not check the slice: still 8001 us. */
static void test_clock_reader_sees_slice_end(void **state)
{
    (void)state;
    hog_t x;
    hog_init(&x, 618, CPU_PREEMPT_NONE, false, true, 100 * MS);
    cpus_thread_set_clock_reader(x.h, true);
    sim_run(x.f.sim, 20 * MS);
    printf("EEVDF, hog reading its CPU clock: done at %.3f us\n", (double)x.f.done[1] / 1e3);
    assert_int_equal(x.f.done[1], 710 * US + 1 + 1 * US);
    fx_fini(&x.f);

    hog_init(&x, 601, CPU_PREEMPT_NONE, false, true, 100 * MS);
    cpus_thread_set_clock_reader(x.h, true);
    sim_run(x.f.sim, 20 * MS);
    assert_int_equal(x.f.done[1], 8 * MS + 1 * US);
    fx_fini(&x.f);
}

/* Continuing: C runs 4000..4050 us (a 50 us job this time) and sleeps with
 * positive lag: V = (3991 + 241) / 2 = 2116 us, lag 1875 us (under the
 * limit max(2 x 1.4 ms, 4 ms)). Woken at 5 ms, its lag is scaled by
 * (1024 + 1024) / 1024: vruntime 4941 - 3750 = 1191 us; H is no longer
 * eligible, so C pre-empts at once: done at 5001 us. */
static void test_eevdf_lag_preempts(void **state)
{
    (void)state;
    hog_t x;
    hog_init(&x, 618, CPU_PREEMPT_NONE, false, true, 100 * MS);
    x.wc2.work = 50 * US;
    wake_t w3 = {x.c, 1 * US, &x.f, 2};
    sim_at(x.f.sim, 5 * MS, wake, &w3, 0);
    sim_run(x.f.sim, 20 * MS);
    printf("EEVDF: second wake at 5 ms, done at %.3f us\n", (double)x.f.done[2] / 1e3);
    assert_int_equal(x.f.done[1], 4 * MS + 50 * US);
    assert_int_equal(x.f.done[2], 5 * MS + 1 * US);
    fx_fini(&x.f);
}

/* CFS (6.1): C keeps vruntime 1 us (above min_vruntime - latency/2), H's
 * lead of 190 us is under wakeup_granularity 2 ms: no pre-emption. At the
 * 4 ms tick H ran 3.99 ms < sched_slice 12 ms x 1024/2048 = 6 ms and leads
 * C by 3.99 ms < 6 ms; at 8 ms it ran 7.99 ms > 6 ms: C runs, done at
 * 8001 us. */
static void test_cfs_hog_waits_for_slice(void **state)
{
    (void)state;
    hog_t x;
    hog_init(&x, 601, CPU_PREEMPT_NONE, false, true, 100 * MS);
    sim_run(x.f.sim, 20 * MS);
    printf("CFS: done at %.3f us\n", (double)x.f.done[1] / 1e3);
    assert_int_equal(x.f.done[1], 8 * MS + 1 * US);
    fx_fini(&x.f);
}

typedef struct {
    fx_t *f;
    cpu_thread_t *t;
} kwork_t;

/* At 200 us: a 1 us hard IRQ, 2 us of softirq on its exit and 3 us queued
 * to ksoftirqd. */
static void kernel_work(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    kwork_t *k = ctx;
    cpus_run(k->f->cpus, 0, CPU_HARDIRQ, 1 * US, record, k->f, 1);
    cpus_run(k->f->cpus, 0, CPU_SOFTIRQ, 2 * US, record, k->f, 2);
    cpus_thread_run(cpus_ksoftirqd(k->f->cpus, 0), 3 * US, record, k->f, 3);
}

/* ksoftirqd is a fair thread (6.18, HZ 250): hog H wakes at 10 us alone
 * (vruntime 0, deadline 700 us: half of the 1.4 ms slice on a first
 * placement). At 200 us the hard IRQ pre-empts H (done 201 us), the softirq
 * on its exit follows (203 us); ksoftirqd, placed at V = 190 us with no
 * lag, cannot pre-empt H's protected slice. H passes its deadline at 713 us
 * (the 3 us of interrupt work are not its time), seen at the 4 ms tick,
 * where H (vruntime 3987 us) is no longer eligible: ksoftirqd runs, done
 * at 4003 us. */
static void test_ksoftirqd_is_fair(void **state)
{
    (void)state;
    fx_t f;
    fx_init(&f, 618, CPU_PREEMPT_NONE, false);
    cpu_thread_t *h = cpus_thread_new(f.cpus, 0, 0);
    cpus_thread_set_user(h, true);
    wake_t wh = {h, 100 * MS, &f, 7};
    sim_at(f.sim, 10 * US, wake, &wh, 0);
    kwork_t k = {&f, NULL};
    sim_at(f.sim, 200 * US, kernel_work, &k, 0);
    sim_run(f.sim, 20 * MS);
    printf("hard IRQ done %.3f us, softirq %.3f us, ksoftirqd %.3f us\n", f.done[1] / 1e3,
           f.done[2] / 1e3, f.done[3] / 1e3);
    assert_int_equal(f.done[1], 201 * US);
    assert_int_equal(f.done[2], 203 * US);
    assert_int_equal(f.done[3], 4 * MS + 3 * US);
    fx_fini(&f);
}

static void task_work_ipi(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    kwork_t *k = ctx;
    cpus_thread_run_first(k->t, 5 * US, record, k->f, 1);
}

/* TWA_SIGNAL task_work runs in the interrupted thread, ahead of its job:
 * T runs a 1 ms job from 0; task_work of 5 us queued at 100 us is done at
 * 105 us and the job, which keeps its remaining 900 us, at 1005 us. */
static void test_task_work_interrupts_its_thread(void **state)
{
    (void)state;
    fx_t f;
    fx_init(&f, 618, CPU_PREEMPT_NONE, false);
    cpu_thread_t *t = cpus_thread_new(f.cpus, 0, 0);
    cpus_thread_run(t, 1 * MS, record, &f, 0);
    kwork_t k = {&f, t};
    sim_at(f.sim, 100 * US, task_work_ipi, &k, 0);
    sim_run(f.sim, 20 * MS);
    assert_int_equal(f.done[1], 105 * US);
    assert_int_equal(f.done[0], 1 * MS + 5 * US);
    assert_true(cpus_thread_ns(t) == 1 * MS + 5 * US);
    fx_fini(&f);
}

/* H in a 10 ms kernel job: the 4 ms tick asks for a reschedule; with
 * preemption none the job runs to its end (10.01 ms), with full C runs at
 * once. */
static void test_preempt_model(void **state)
{
    (void)state;
    hog_t x;
    hog_init(&x, 618, CPU_PREEMPT_NONE, false, false, 10 * MS);
    sim_run(x.f.sim, 20 * MS);
    assert_int_equal(x.f.done[7], 10 * MS + 10 * US);
    assert_int_equal(x.f.done[1], 10 * MS + 11 * US);
    fx_fini(&x.f);
    hog_init(&x, 618, CPU_PREEMPT_FULL, false, false, 10 * MS);
    sim_run(x.f.sim, 20 * MS);
    assert_int_equal(x.f.done[1], 4 * MS + 1 * US);
    assert_int_equal(x.f.done[7], 10 * MS + 11 * US);
    fx_fini(&x.f);
}

static void irq5(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)arg;
    fx_t *f = ctx;
    cpus_run(f->cpus, 0, CPU_HARDIRQ, 5 * US, record, f, 1);
}

/* Hard-IRQ work pre-empts a thread (kernel job, preemption none). */
static void test_irq_preempts_thread(void **state)
{
    (void)state;
    fx_t f;
    fx_init(&f, 618, CPU_PREEMPT_NONE, false);
    cpu_thread_t *t = cpus_thread_new(f.cpus, 0, 0);
    cpus_thread_run(t, 1 * MS, record, &f, 0);
    sim_at(f.sim, 100 * US, irq5, &f, 0);
    sim_run(f.sim, 10 * MS);
    assert_int_equal(f.done[1], 105 * US);
    assert_int_equal(f.done[0], 1 * MS + 5 * US);
    assert_true(cpus_busy_ns(f.cpus, 0, CPU_HARDIRQ) == 5 * US);
    assert_true(cpus_busy_ns(f.cpus, 0, CPU_USER) == 1 * MS);
    fx_fini(&f);
}

/* An IPI: send on CPU 0, handler on CPU 1 after the flight, then fn. */
static void test_ipi_costs_both(void **state)
{
    (void)state;
    fx_t f;
    fx_init(&f, 618, CPU_PREEMPT_NONE, false);
    cpus_ipi(f.cpus, 0, 1, 300, 1000, 700, record, &f, 0);
    sim_run(f.sim, 1 * MS);
    assert_int_equal(f.done[0], 1700);
    assert_true(cpus_busy_ns(f.cpus, 0, CPU_HARDIRQ) == 300);
    assert_true(cpus_busy_ns(f.cpus, 1, CPU_HARDIRQ) == 700);
    fx_fini(&f);
}

static void count_cqe(void *ctx, req_t *r)
{
    (void)r;
    (*(int *)ctx)++;
}

/* k CQEs reaped by one interrupt (coalescing threshold k) cost a + b(k-1). */
static double irq_busy(uint32_t k)
{
    fx_t f;
    fx_init(&f, 618, CPU_PREEMPT_NONE, false);
    costs_t costs;
    costs_defaults(&costs);
    int32_t cpus1[1] = {1};
    ssd_cfg_t dev;
    memset(&dev, 0, sizeof(dev));
    dev.queues = 1;
    dev.irq_cpus = cpus1;
    dev.coalesce_time_us = 1000;
    dev.coalesce_threshold = k;
    int n = 0;
    irq_t *q = irq_new(f.sim, f.cpus, &costs, &dev, 2, count_cqe, &n);
    assert_non_null(q);
    req_t r[8];
    memset(r, 0, sizeof(r));
    for (uint32_t i = 0; i < k; i++) {
        r[i].coalesce = 1;
        irq_cqe(q, &r[i], false);
    }
    sim_run(f.sim, 10 * MS);
    assert_int_equal(n, (int)k);
    assert_int_equal(irq_count(q), 1);
    double busy = cpus_busy_ns(f.cpus, 1, CPU_HARDIRQ);
    irq_free(q);
    fx_fini(&f);
    return busy;
}

static void test_irq_cost_per_cqe(void **state)
{
    (void)state;
    double a = costs_info[COST_IRQ_HANDLER].value, b = costs_info[COST_IRQ_PER_CQE].value;
    assert_true(irq_busy(2) == a + b);
    assert_true(irq_busy(4) == a + 3 * b);
    assert_true(irq_busy(8) == a + 7 * b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_weights_eevdf),
        cmocka_unit_test(test_weights_cfs),
        cmocka_unit_test(test_eevdf_hog_waits_for_tick),
        cmocka_unit_test(test_eevdf_lag_preempts),
        cmocka_unit_test(test_clock_reader_sees_slice_end),
        cmocka_unit_test(test_cfs_hog_waits_for_slice),
        cmocka_unit_test(test_preempt_model),
        cmocka_unit_test(test_ksoftirqd_is_fair),
        cmocka_unit_test(test_task_work_interrupts_its_thread),
        cmocka_unit_test(test_irq_preempts_thread),
        cmocka_unit_test(test_ipi_costs_both),
        cmocka_unit_test(test_irq_cost_per_cqe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
