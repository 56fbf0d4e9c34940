/*
 * test_vmfreeze.c - the VM host's quota (models/vmfreeze.h) and the CPU
 * model's freeze (cpus_freeze), against timelines computed by hand:
 *   - work in flight across a freeze finishes at the thaw plus what it had
 *     left; an interrupt raised during it runs at the thaw;
 *   - two busy vCPUs and I/O costing the host 0.2 CPU: the quota (2 CPUs per
 *     100 ms) lasts 200 / 2.2 = 90.9 ms of every period, so 9.09% of the time
 *     is frozen, every freeze ending on the period grid;
 *   - the requests' cost saturating at 0.1 CPU (20 us a read at low rates):
 *     at 10,000 reads/s it is 0.1 (1 - e^-2) = 0.0865 CPU, 200 / 2.0865 =
 *     95.86 ms run, 4.14 ms frozen per period;
 *   - one vCPU idle: the same I/O never exhausts the quota;
 *   - an idle vCPU woken every 50 us counts as busy (halt polling, window
 *     150 us), one woken every 300 us does not;
 *   - one seed, one timeline; the grid's phase comes from its own substream;
 *   - `latsurf run`: host.vm_freeze "calibrated" with a calibration that
 *     has no model changes no result; with a model, the open loop's
 *     `kernel` p99 (both vCPUs busy) grows by the freezes, and a bad model
 *     is bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "models/cpu.h"
#include "models/vmfreeze.h"
#include "testutil.h"

#include <jansson.h>
#include <stdlib.h>

#include <stdio.h>
#include <string.h>

#define US 1000ull
#define MS 1000000ull

typedef struct {
    sim_t *sim;
    cpus_t *cpus;
    sim_time_t done[4];
    uint64_t reqs;          /* the I/O the host emulates: one request per tick */
    sim_time_t io_every;    /* 0: none */
    cpu_thread_t *waker;    /* woken every wake_every with 1 us of work */
    sim_time_t wake_every;
} fx_t;

static void fx_init(fx_t *f)
{
    memset(f, 0, sizeof(*f));
    f->sim = sim_new();
    f->cpus = cpus_new(f->sim, 2, 0, SIM_TIME_MAX, NULL);
    assert_non_null(f->cpus);
}

static void fx_fini(fx_t *f)
{
    cpus_free(f->cpus);
    sim_free(f->sim);
}

static void record(sim_t *sim, void *ctx, uint64_t i)
{
    ((fx_t *)ctx)->done[i] = sim_now(sim);
}

static void freeze_on(sim_t *sim, void *ctx, uint64_t on)
{
    (void)sim;
    cpus_freeze(((fx_t *)ctx)->cpus, on != 0);
}

static void raise_irq(sim_t *sim, void *ctx, uint64_t i)
{
    (void)sim;
    fx_t *f = ctx;
    assert_int_equal(cpus_run(f->cpus, 1, CPU_HARDIRQ, 10 * US, record, f, i), 0);
}

/* A 1 ms job started at 0 on CPU 0; the VM freezes from 0.4 to 10.4 ms; an
 * interrupt (10 us of handler) raised on CPU 1 at 5 ms. The job has 0.6 ms
 * left at the freeze: done at 11.0 ms; the handler runs at the thaw: 10.41 ms. */
static void test_work_across_freeze(void **state)
{
    (void)state;
    fx_t f;
    fx_init(&f);
    cpu_thread_t *t = cpus_thread_new(f.cpus, 0, 0);
    assert_non_null(t);
    assert_int_equal(cpus_thread_run(t, 1 * MS, record, &f, 0), 0);
    sim_at(f.sim, 400 * US, freeze_on, &f, 1);
    sim_at(f.sim, 5 * MS, raise_irq, &f, 1);
    sim_at(f.sim, 10400 * US, freeze_on, &f, 0);
    sim_run(f.sim, 20 * MS);
    assert_int_equal(f.done[0], 11 * MS);
    assert_int_equal(f.done[1], 10410 * US);
    /* frozen time is nobody's CPU time */
    assert_true(cpus_busy_ns(f.cpus, 0, CPU_USER) == 1e6);
    fx_fini(&f);
}

static void io_tick(sim_t *sim, void *ctx, uint64_t arg)
{
    fx_t *f = ctx;
    if (!cpus_frozen(f->cpus)) /* a frozen guest issues nothing */
        f->reqs++;
    sim_after(sim, f->io_every, io_tick, f, arg);
}

static void nop(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    (void)ctx;
    (void)arg;
}

static void wake_tick(sim_t *sim, void *ctx, uint64_t arg)
{
    fx_t *f = ctx;
    assert_int_equal(cpus_thread_run(f->waker, 1 * US, nop, NULL, 0), 0);
    sim_after(sim, f->wake_every, wake_tick, f, arg);
}

static uint64_t fx_io(void *ctx)
{
    const fx_t *f = ctx;
    return f->reqs;
}

/* Run 10 s: `spin` CPUs spinning, a request every 100 us costing the host
 * 20 us (0.2 CPU, linear), CPU 1 woken every wake_every when set. */
static vmfreeze_t *run_cfg(fx_t *f, uint32_t spin, sim_time_t wake_every, uint64_t seed,
                           const vmfreeze_cfg_t *cfg)
{
    fx_init(f);
    for (uint32_t c = 0; c < spin; c++) {
        cpu_thread_t *t = cpus_thread_new(f->cpus, c, 0);
        assert_non_null(t);
        cpus_thread_spin(t, true);
    }
    if (wake_every) {
        f->waker = cpus_thread_new(f->cpus, 1, 0);
        f->wake_every = wake_every;
        sim_at(f->sim, 0, wake_tick, f, 0);
    }
    f->io_every = 100 * US;
    sim_at(f->sim, 0, io_tick, f, 0);
    assert_true(vmfreeze_cfg_on(cfg));
    vmfreeze_t *v = vmfreeze_new(f->sim, f->cpus, 2, cfg, fx_io, f, seed, 0);
    assert_non_null(v);
    return v;
}

static vmfreeze_t *run_quota(fx_t *f, uint32_t spin, sim_time_t wake_every, uint64_t seed)
{
    vmfreeze_cfg_t cfg = {.period_ns = 100e6, .quota_cpus = 2, .per_read_ns = 20000,
                          .poll_ns = 150e3};
    return run_cfg(f, spin, wake_every, seed, &cfg);
}

/* Saturating: 4.14 ms a period, a freeze starting up to 0.1 ms late. */
static void test_saturating_cost(void **state)
{
    (void)state;
    fx_t f;
    vmfreeze_cfg_t cfg = {.period_ns = 100e6, .quota_cpus = 2, .per_read_ns = 20000,
                          .poll_ns = 150e3, .io_max_cpus = 0.1};
    memset(&f, 0, sizeof(f));
    vmfreeze_t *v = run_cfg(&f, 2, 0, 7, &cfg);
    sim_run(f.sim, 10000 * MS);
    double each = vmfreeze_frozen_ns(v) / vmfreeze_count(v);
    printf("%u freezes of %.3f ms\n", vmfreeze_count(v), each / 1e6);
    assert_true(vmfreeze_count(v) >= 99 && vmfreeze_count(v) <= 101);
    assert_true(each > 4.03e6 && each < 4.15e6);
    vmfreeze_free(v);
    fx_fini(&f);
}

static void check_frozen_at(sim_t *sim, void *ctx, uint64_t want)
{
    (void)sim;
    assert_int_equal(cpus_frozen(ctx), want != 0);
}

/* 2.2 CPUs of demand on a 2-CPU quota: 200 / 2.2 = 90.909 ms run, 9.091 ms
 * frozen per period; the check every 0.1 ms starts a freeze up to 0.1 ms
 * late, so a freeze lasts 8.99-9.09 ms and the share is 8.99-9.09% (100
 * periods, the partial ones at the ends at most one freeze more or less). */
static void test_quota_share(void **state)
{
    (void)state;
    fx_t f;
    vmfreeze_t *v = run_quota(&f, 2, 0, 7);
    sim_time_t ph = vmfreeze_phase(v);
    assert_true(ph < 100 * MS);
    /* frozen just before each period's end, running just after */
    for (sim_time_t k = 1; k < 99; k++) {
        sim_at(f.sim, ph + k * 100 * MS - 1 * MS, check_frozen_at, f.cpus, 1);
        sim_at(f.sim, ph + k * 100 * MS + 1 * MS, check_frozen_at, f.cpus, 0);
    }
    sim_run(f.sim, 10000 * MS);
    double share = vmfreeze_frozen_ns(v) / 10e9;
    printf("frozen %.3f%% in %u freezes (phase %.1f ms)\n", share * 100, vmfreeze_count(v),
           (double)ph / 1e6);
    assert_true(vmfreeze_count(v) >= 99 && vmfreeze_count(v) <= 101);
    /* one freeze is 0.091% of the run */
    assert_true(share > 0.0899 - 0.00091 && share < 0.0909 + 0.00091);
    vmfreeze_free(v);
    fx_fini(&f);
}

/* One vCPU idle: 1 + 0.2 CPUs never reach a 2-CPU quota. */
static void test_idle_vcpu_no_freeze(void **state)
{
    (void)state;
    fx_t f;
    vmfreeze_t *v = run_quota(&f, 1, 0, 7);
    sim_run(f.sim, 2000 * MS);
    assert_int_equal(vmfreeze_count(v), 0);
    vmfreeze_free(v);
    fx_fini(&f);
}

/* CPU 1 has 1 us of work every 50 us: its 49 us idle stretches are shorter
 * than the 150 us window, so the host sees it busy and the VM freezes;
 * every 300 us, they are longer: it is idle to the host, no freeze. */
static void test_halt_poll_counts_short_idle(void **state)
{
    (void)state;
    fx_t f;
    vmfreeze_t *v = run_quota(&f, 1, 50 * US, 7);
    sim_run(f.sim, 2000 * MS);
    assert_true(vmfreeze_count(v) >= 19);
    vmfreeze_free(v);
    fx_fini(&f);
    v = run_quota(&f, 1, 300 * US, 7);
    sim_run(f.sim, 2000 * MS);
    assert_int_equal(vmfreeze_count(v), 0);
    vmfreeze_free(v);
    fx_fini(&f);
}

/* One seed, one timeline; another seed moves the grid. */
static void test_deterministic(void **state)
{
    (void)state;
    double ns[3];
    sim_time_t ph[3];
    uint64_t seeds[3] = {7, 7, 8};
    for (int i = 0; i < 3; i++) {
        fx_t f;
        vmfreeze_t *v = run_quota(&f, 2, 0, seeds[i]);
        sim_run(f.sim, 1000 * MS);
        ns[i] = vmfreeze_frozen_ns(v);
        ph[i] = vmfreeze_phase(v);
        vmfreeze_free(v);
        fx_fini(&f);
    }
    assert_true(ns[0] == ns[1]);
    assert_int_equal(ph[0], ph[1]);
    assert_int_not_equal(ph[0], ph[2]);
}

/* `latsurf run` of the 30% open loop (0.3 s, one replication) in dir; its
 * output into out. */
static void run_poisson_out(const char *dir, const char *cal, const char *extra, const char *db,
                            int want, char *out, size_t n)
{
    char args[16384];
    snprintf(args, sizeof(args),
             "run %s --set host.calibration=%s --set run.duration_ms=300 --reps 1 --seed 7 "
             "--db %s %s",
             tu_src("scenarios/validation/poisson-30.json"), cal, db, extra);
    int rc = tu_cli(dir, args, out, n);
    if (rc != want)
        printf("%s\n", out);
    assert_int_equal(rc, want);
}

static void run_poisson(const char *dir, const char *cal, const char *extra, const char *db,
                        int want)
{
    char out[16384], ex[1024];
    snprintf(ex, sizeof(ex), "-q %s", extra);
    run_poisson_out(dir, cal, ex, db, want, out, sizeof(out));
}

/* this-host.json with device_units {value 32, vm_freeze.model {...}};
 * per_irq_ns written only where it is not 0 (calibrations wrote 0 once) */
static const char *cal_with_model(const char *dir, const char *name, double period_ns,
                                  double per_irq_ns)
{
    json_error_t e;
    json_t *root = json_load_file(tu_src("scenarios/calibration/this-host.json"), 0, &e);
    assert_non_null(root);
    json_t *model = json_pack("{s:f, s:f, s:f, s:f}", "period_ns", period_ns,
                              "quota_cpus", 2.0, "per_read_ns", 9000.0,
                              "poll_ns", 150000.0);
    if (per_irq_ns != 0)
        assert_int_equal(json_object_set_new(model, "per_irq_ns", json_real(per_irq_ns)), 0);
    json_t *du = json_pack("{s:f, s:s, s:{s:o}}", "value", 32.0, "unit", "units", "vm_freeze",
                           "model", model);
    assert_non_null(du);
    assert_int_equal(json_object_set_new(json_object_get(root, "params"), "device_units", du), 0);
    const char *path = tu_path(dir, name);
    assert_int_equal(json_dump_file(root, path, 0), 0);
    json_decref(root);
    return path;
}

static void test_cli_off_and_on(void **state)
{
    (void)state;
    char dir[] = "/tmp/latsurf-vmfreeze-XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *bare = tu_src("scenarios/calibration/this-host.json");
    run_poisson(dir, bare, "--set host.vm_freeze=off", "a.sqlite", 0);
    char out[16384];
    /* asked for, but the calibration has no model: said, and nothing frozen */
    run_poisson_out(dir, bare, "--set host.vm_freeze=calibrated", "b.sqlite", 0, out,
                    sizeof(out));
    assert_non_null(strstr(out, "note:") && strstr(out, "simulated without freezes"));
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cd %s && bash %s a.sqlite b.sqlite >/dev/null", dir,
             tu_src("scripts/db_diff.sh"));
    assert_int_equal(tu_systemf("%s", cmd), 0);
    /* 30,000 reads/s x 9 us: 2.27 CPUs of demand on 2, 11.9 ms of every
     * 100 ms frozen: the kernel variant's p99 (both vCPUs busy) is ms */
    char model[4096];
    snprintf(model, sizeof(model), "%s", cal_with_model(dir, "model.json", 100e6, 0));
    run_poisson_out(dir, model, "--set host.vm_freeze=calibrated", "c.sqlite", 0, out,
                    sizeof(out));
    assert_null(strstr(out, "without freezes"));
    const char *q = "SELECT m.value FROM metrics m JOIN runs r USING (run_id) "
                    "WHERE r.variant = 'kernel' AND m.name = 'lat_p99_ns'";
    double off = tu_db_file_num(dir, "a.sqlite", q), on = tu_db_file_num(dir, "c.sqlite", q);
    printf("kernel p99: off %.1f us, on %.1f us\n", off / 1e3, on / 1e3);
    assert_true(on > 1e6 && on > 5 * off);
    /* vm_frozen_fraction: only where freezes are modelled; the kernel
     * variant (both vCPUs busy) froze, the consumer one (CPU 0 idle: 1 CPU
     * + 30,000 x 9 us = 1.27 of the 2-CPU quota) never does */
    const char *fq = "SELECT count(*) FROM metrics WHERE name = 'vm_frozen_fraction'";
    assert_true(tu_db_file_num(dir, "a.sqlite", fq) == 0);
    assert_true(tu_db_file_num(dir, "b.sqlite", fq) == 0);
    const char *fk = "SELECT m.value FROM metrics m JOIN runs r USING (run_id) "
                     "WHERE r.variant = 'kernel' AND m.name = 'vm_frozen_fraction'";
    const char *fc = "SELECT m.value FROM metrics m JOIN runs r USING (run_id) "
                     "WHERE r.variant = 'consumer' AND m.name = 'vm_frozen_fraction'";
    double fkv = tu_db_file_num(dir, "c.sqlite", fk);
    printf("vm_frozen_fraction: kernel %.4f\n", fkv);
    assert_true(fkv > 0 && fkv < 1);
    assert_true(tu_db_file_num(dir, "c.sqlite", fc) == 0);
    /* a period of 0 is no model: bad input, naming the file */
    snprintf(model, sizeof(model), "%s", cal_with_model(dir, "bad.json", 0, 0));
    run_poisson(dir, model, "--set host.vm_freeze=calibrated", "d.sqlite", 2);
    /* a cost per interrupt is not modelled: refused, not ignored */
    snprintf(model, sizeof(model), "%s", cal_with_model(dir, "irq.json", 100e6, 20000));
    run_poisson_out(dir, model, "-q --set host.vm_freeze=calibrated", "e.sqlite", 2, out,
                    sizeof(out));
    assert_non_null(strstr(out, "per_irq_ns"));
    tu_systemf("rm -rf %s", dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_work_across_freeze),
        cmocka_unit_test(test_quota_share),
        cmocka_unit_test(test_saturating_cost),
        cmocka_unit_test(test_idle_vcpu_no_freeze),
        cmocka_unit_test(test_halt_poll_counts_short_idle),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_cli_off_and_on),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
