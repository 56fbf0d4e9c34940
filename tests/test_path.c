/*
 * test_path.c - the host I/O path's mechanisms, each asserting a number
 * derived from the configured costs (a calibration file the test writes with
 * round, fixed values) rather than a snapshot:
 *   - at QD1, a consumer away from the interrupt CPU pays exactly the
 *     cross-CPU wakeup instead of a switch-in (and, under the warm-cache
 *     what-if only, the cold-cache touch);
 *   - rq_affinity=2 moves completions to the submitting CPU;
 *   - coalescing raises device-done-to-ready at low load and lowers
 *     cpu_ns_per_io at high load;
 *   - a step-critical QD1 reader behind a QD16 bulk stream on one die waits
 *     the die's FIFO whatever its class and the variant's mode, unless the
 *     die-priority what-if is on;
 *   - DEFER_TASKRUN defers CQE visibility until the task stops running;
 *   - the device stage alone matches M/D/1 (Pollaczek-Khinchine);
 *   - per-stage means sum to lat_mean_ns on every run;
 *   - host.traced charges the calibrated tracing costs where they fall.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "models/costs.h"
#include "run/runner.h"
#include "run/scenario.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/latsurf-path-XXXXXX";
static char calib[600];

/* Round numbers so that expectations are easy to derive by hand. */
static const struct {
    const char *name;
    double v;
} test_costs[] = {
    {"uring_submit_call_ns", 1000}, {"uring_submit_sqe_ns", 200}, {"blk_dispatch_ns", 300},
    {"irq_handler_ns", 1000},       {"blk_complete_ns", 800},     {"ipi_ns", 1500},
    {"task_work_ns", 300},          {"cqe_post_ns", 100},         {"wakeup_same_cpu_ns", 2000},
    {"wakeup_cross_cpu_ns", 5000},  {"context_switch_ns", 1000},  {"idle_exit_ns", 0},
    {"mem_touch_local_ns_per_kib", 50}, {"mem_touch_remote_ns_per_kib", 100},
    {"mem_warm_factor", 0.5},       {"poll_ns", 100},            {"timer_overshoot_ns", 100000},
};

static double cost(const char *name)
{
    for (size_t i = 0; i < sizeof(test_costs) / sizeof(test_costs[0]); i++)
        if (strcmp(test_costs[i].name, name) == 0)
            return test_costs[i].v;
    fail_msg("no cost %s", name);
    return 0;
}

/* A cost the test calibration leaves at its built-in default. */
static double cost_default(const char *name)
{
    for (int i = 0; i < COST_N; i++)
        if (strcmp(costs_info[i].name, name) == 0)
            return costs_info[i].value;
    fail_msg("no cost %s", name);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(calib, sizeof(calib), "%s/calib.json", dir);
    FILE *f = fopen(calib, "w");
    if (!f)
        return -1;
    fprintf(f, "{\"latsurf_calibration\": 1, \"params\": {");
    for (size_t i = 0; i < sizeof(test_costs) / sizeof(test_costs[0]); i++)
        fprintf(f, "%s\"%s\": {\"value\": %g}", i ? "," : "", test_costs[i].name, test_costs[i].v);
    fprintf(f, "}}\n");
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", dir);
}

/* Load a scenario text (with %s for the calibration path) plus sets. */
static scn_t *load(const char *fmt, char **sets, size_t nsets)
{
    char text[4096], path[600], err[1024];
    snprintf(text, sizeof(text), fmt, calib);
    snprintf(path, sizeof(path), "%s/s.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    scn_t *s = NULL;
    if (scn_load(path, sets, nsets, &s, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return s;
}

static double metric(const result_t *r, const char *name)
{
    double v;
    if (result_get(r, name, &v) != 0)
        fail_msg("no metric %s", name);
    return v;
}

static double stage_mean(const result_t *r, const char *stage)
{
    for (size_t i = 0; i < r->nstage; i++)
        if (strcmp(r->stage[i].stage, stage) == 0)
            return r->stage[i].mean_ns;
    fail_msg("no stage %s", stage);
    return 0;
}

static void run_one(const scn_t *s, uint32_t v, uint32_t rep, result_t *out)
{
    char err[1024];
    result_init(out);
    int rc = runner_run(s, v, rep, NULL, out, err, sizeof(err));
    if (rc)
        fail_msg("runner_run: %d %s", rc, err);
    /* every run: the stages up to the consumer sum to the end-to-end mean */
    double sum = 0;
    for (size_t i = 0; i < out->nstage; i++)
        if (strcmp(out->stage[i].stage, "continuation") != 0)
            sum += out->stage[i].mean_ns;
    double lat = metric(out, "lat_mean_ns");
    if (fabs(sum - lat) > 0.01 * lat)
        fail_msg("stage means sum to %.1f, lat_mean_ns is %.1f", sum, lat);
}

/* Variant 0, replication 0 of a scenario text plus sets, as run_one. */
static void run_text(const char *fmt, char **sets, size_t nsets, result_t *out)
{
    scn_t *s = load(fmt, sets, nsets);
    run_one(s, 0, 0, out);
    scn_free(s);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Exact median latency of the recorded requests. At this load most requests
 * meet no queueing, so the median one's latency is the sum of the costs. */
static uint64_t median_latency(const result_t *r)
{
    uint64_t *v = malloc(r->nreq * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < r->nreq; i++)
        v[i] = r->req[i].t[7] - r->req[i].t[0];
    qsort(v, r->nreq, sizeof(*v), cmp_u64);
    uint64_t m = v[r->nreq / 2];
    free(v);
    return m;
}

/* Exact median of t[to] - t[from] over the recorded requests. */
static uint64_t median_stage(const result_t *r, int to, int from)
{
    uint64_t *v = malloc(r->nreq * sizeof(*v));
    assert_non_null(v);
    for (size_t i = 0; i < r->nreq; i++)
        v[i] = r->req[i].t[to] - r->req[i].t[from];
    qsort(v, r->nreq, sizeof(*v), cmp_u64);
    uint64_t m = v[r->nreq / 2];
    free(v);
    return m;
}

/* 2 CPUs, one hardware queue whose vector fires on CPU 1, sparse 4 KiB reads. */
static const char *qd1 =
    "{\"host\": {\"cpus\": 2, \"calibration\": \"%s\"},"
    " \"devices\": [{\"queues\": 1, \"irq_cpus\": [1],"
    "   \"flash\": {\"channels\": 1, \"dies_per_channel\": 1, \"read_us\": 50}}],"
    " \"workload\": [{\"type\": \"poisson\", \"rate_iops\": 2000, \"consumer_cpu\": 0}],"
    " \"variants\": [{\"name\": \"kernel\", \"affinity\": \"kernel\"},"
    "              {\"name\": \"consumer\", \"affinity\": \"consumer\"}],"
    " \"policy\": {\"throughput_batch\": 1},"
    " \"run\": {\"duration_ms\": 300, \"warmup_ms\": 10, \"replications\": 1,"
    "          \"record_requests\": 100000}}";

static void test_locality_costs_wakeup(void **state)
{
    (void)state;
    for (int warm = 0; warm < 2; warm++) {
        char *sets[] = {"host.what_if.warm_cache=true"};
        scn_t *s = load(qd1, sets, (size_t)warm);
        assert_string_equal(s->var[0].what_if, warm ? "host.what_if.warm_cache" : "");
        result_t far, near;
        run_one(s, 0, 0, &far);  /* consumer on CPU 0, IRQ on CPU 1 */
        run_one(s, 1, 0, &near); /* consumer moved to CPU 1 */
        assert_true(metric(&far, "locality_miss_rate") > 0.99);
        assert_true(metric(&near, "locality_miss_rate") < 0.01);
        /* far: a cross-CPU wakeup; near: the switch-in when the interrupt
         * returns. Under the warm-cache what-if only, the 4 KiB touch at
         * 50 ns/KiB costs mem_warm_factor of it after a local completion */
        double extra = cost("wakeup_cross_cpu_ns") - cost("context_switch_ns");
        if (warm)
            extra += 4 * cost("mem_touch_local_ns_per_kib") * (1 - cost("mem_warm_factor"));
        double got = (double)median_latency(&far) - (double)median_latency(&near);
        printf("QD1 far - near = %.0f ns (expected %.0f), warm-cache what-if %d\n", got, extra,
               warm);
        assert_true(fabs(got - extra) <= 1.0);
        /* the histograms' p50s agree within their 1% error each */
        double pf = metric(&far, "lat_p50_ns"), pn = metric(&near, "lat_p50_ns");
        assert_true(fabs(pf - pn - extra) < 0.01 * (pf + pn));
        result_fini(&far);
        result_fini(&near);
        scn_free(s);
    }
}

/* A thread pool (pool_cpus): the consumer on CPU 0 reaps the CQE and hands
 * the read to a worker on CPU 1, the IRQ CPU, which touches it. The path is
 * the same up to the hand-off; the touch moves to the worker, and the
 * futex wake across CPUs adds wakeup_cross_cpu_ns (the IPI's receive inside
 * it): exactly 5000 ns more. The data is consumed where blk-mq completed it
 * (CPU 1), so no locality miss. */
static void test_pool_hand_off(void **state)
{
    (void)state;
    char *own[] = {"variants=[{\"name\":\"kernel\"}]"};
    char *pool[] = {"variants=[{\"name\":\"kernel\"}]", "workload.0.pool_cpus=[1]"};
    result_t a, b;
    run_text(qd1, own, 1, &a);
    run_text(qd1, pool, 2, &b);
    double got = (double)median_latency(&b) - (double)median_latency(&a);
    printf("pool worker on CPU 1 - consumer on CPU 0 = %.0f ns (expected %.0f)\n", got,
           cost("wakeup_cross_cpu_ns"));
    assert_true(fabs(got - cost("wakeup_cross_cpu_ns")) <= 1.0);
    assert_true(metric(&a, "locality_miss_rate") > 0.99);
    assert_true(metric(&b, "locality_miss_rate") < 0.01);
    for (size_t i = 0; i < b.nreq; i++)
        assert_int_equal(b.req[i].consumer_cpu, 1);
    result_fini(&a);
    result_fini(&b);
}

static void test_rq_affinity_moves_completion(void **state)
{
    (void)state;
    char *sets[] = {"host.rq_affinity=2", "variants=[{\"name\":\"kernel\"}]"};
    result_t r;
    run_text(qd1, sets, 2, &r);
    assert_true(r.nreq > 100);
    for (size_t i = 0; i < r.nreq; i++) {
        assert_int_equal(r.req[i].completion_cpu, r.req[i].submit_cpu);
        assert_int_equal(r.req[i].completion_cpu, 0);
    }
    assert_true(metric(&r, "locality_miss_rate") < 0.01);
    /* the IPI to the submitter is part of the blk_complete stage */
    assert_true(stage_mean(&r, "blk_complete") >= cost("ipi_ns") + cost("blk_complete_ns") - 1);
    result_fini(&r);

    char *sets0[] = {"host.rq_affinity=0", "variants=[{\"name\":\"kernel\"}]"};
    run_text(qd1, sets0, 2, &r);
    for (size_t i = 0; i < r.nreq; i++)
        assert_int_equal(r.req[i].completion_cpu, 1); /* the IRQ CPU */
    result_fini(&r);
}

static const char *coalesce =
    "{\"host\": {\"cpus\": 4, \"calibration\": \"%s\"},"
    " \"devices\": [{\"queues\": 1, \"irq_cpus\": [1],"
    "   \"irq_coalescing\": {\"time_us\": 0, \"threshold\": 8},"
    "   \"flash\": {\"channels\": 8, \"dies_per_channel\": 4, \"read_us\": 50}}],"
    " \"workload\": [{\"type\": \"poisson\", \"rate_iops\": 1000, \"consumer_cpu\": 1}],"
    " \"policy\": {\"throughput_batch\": 1},"
    " \"run\": {\"duration_ms\": 200, \"warmup_ms\": 10, \"replications\": 1}}";

static void coalesce_pair(double rate, result_t *off, result_t *on)
{
    char r1[64];
    snprintf(r1, sizeof(r1), "workload.0.rate_iops=%g", rate);
    char *s_off[] = {r1};
    char *s_on[] = {r1, "devices.0.irq_coalescing.time_us=100"};
    run_text(coalesce, s_off, 1, off);
    run_text(coalesce, s_on, 2, on);
}

static void test_coalescing(void **state)
{
    (void)state;
    result_t off, on;
    coalesce_pair(1000, &off, &on); /* low load: CQEs wait for the 100 us timer */
    double d_off = metric(&off, "device_done_to_ready_p50_ns");
    double d_on = metric(&on, "device_done_to_ready_p50_ns");
    printf("low load d2r p50: off %.0f on %.0f\n", d_off, d_on);
    assert_true(d_on - d_off > 0.9 * 100000);
    assert_true(metric(&on, "deferred_completion_rate") > 0.9);
    result_fini(&off);
    result_fini(&on);
    coalesce_pair(400000, &off, &on); /* high load: fewer interrupts per I/O */
    double c_off = metric(&off, "cpu_ns_per_io"), c_on = metric(&on, "cpu_ns_per_io");
    printf("high load cpu_ns_per_io: off %.0f on %.0f\n", c_off, c_on);
    assert_true(c_on < c_off - 0.5 * cost("irq_handler_ns"));
    result_fini(&off);
    result_fini(&on);
}

/* A consumer thread kept busy by its own work (submissions and earlier
 * completions at 200k IOPS): default task_work interrupts it with an IPI,
 * DEFER_TASKRUN waits until the thread gets to it. A CPU hog beside it
 * would not do: the consumer is then asleep, and a sleeper is woken. */
static const char *deferq =
    "{\"host\": {\"cpus\": 2, \"calibration\": \"%s\"},"
    " \"devices\": [{\"queues\": 1, \"irq_cpus\": [1],"
    "   \"flash\": {\"channels\": 8, \"dies_per_channel\": 4, \"read_us\": 50}}],"
    " \"workload\": [{\"type\": \"poisson\", \"rate_iops\": 200000, \"consumer_cpu\": 0}],"
    " \"policy\": {\"throughput_batch\": 1},"
    " \"run\": {\"duration_ms\": 50, \"warmup_ms\": 5, \"replications\": 1}}";

static void test_defer_taskrun(void **state)
{
    (void)state;
    char *def[] = {"host.taskrun=default"};
    char *defer[] = {"host.taskrun=defer"};
    result_t ra, rb;
    run_text(deferq, def, 1, &ra);
    run_text(deferq, defer, 1, &rb);
    double ca = stage_mean(&ra, "cqe_post"), cb = stage_mean(&rb, "cqe_post");
    printf("cqe_post mean: default %.0f, defer %.0f; deferred rate %.2f\n", ca, cb,
           metric(&rb, "deferred_completion_rate"));
    /* a busy thread: default task_work comes by IPI (both CPUs pay for it),
     * DEFER_TASKRUN waits for the thread, which saves that CPU time */
    double rate = metric(&rb, "deferred_completion_rate");
    double saved = metric(&ra, "cpu_ns_per_io") - metric(&rb, "cpu_ns_per_io");
    double ipi = cost_default("ipi_send_ns") + cost_default("ipi_recv_ns");
    printf("cpu_ns_per_io saved by defer %.0f ns, deferred rate x IPI cost %.0f ns\n", saved,
           rate * ipi);
    assert_true(rate > 0.2);
    assert_true(fabs(saved - rate * ipi) < 0.25 * rate * ipi);
    assert_true(metric(&ra, "deferred_completion_rate") < 0.01);
    result_fini(&ra);
    result_fini(&rb);
}

/* IOPOLL: with polled queues a polling consumer reaps its own CQ - no
 * interrupt, the completion runs on the consumer CPU, the CPU spins. */
static void test_iopoll(void **state)
{
    (void)state;
    char *irq[] = {"host.wait=interrupt", "variants=[{\"name\":\"kernel\"}]"};
    char *polled[] = {"host.wait=poll", "variants=[{\"name\":\"kernel\"}]",
                      "devices.0.poll_queues=1"};
    result_t ra, rb;
    run_text(qd1, irq, 2, &ra);
    run_text(qd1, polled, 3, &rb);
    assert_true(metric(&ra, "locality_miss_rate") > 0.99); /* IRQ on CPU 1 */
    assert_true(metric(&rb, "locality_miss_rate") < 0.01);
    for (size_t i = 0; i < rb.nreq; i++)
        assert_int_equal(rb.req[i].completion_cpu, 0);
    /* the poller finds the CQE within one iteration: the irq stage is
     * poll_ns unless the thread was busy with its own work then */
    double irq_stage = (double)median_stage(&rb, 4, 3);
    printf("IOPOLL irq stage %.0f ns, cpu_ns_per_io %.0f vs %.0f with interrupts\n", irq_stage,
           metric(&rb, "cpu_ns_per_io"), metric(&ra, "cpu_ns_per_io"));
    assert_true(fabs(irq_stage - cost("poll_ns")) < 1);
    /* spinning for the ~55 us device time costs far more CPU than an IRQ */
    assert_true(metric(&rb, "cpu_ns_per_io") > metric(&ra, "cpu_ns_per_io") + 20000);
    result_fini(&ra);
    result_fini(&rb);
}

/* QD1 readers on CPU 0, completions by interrupt on CPU 1: `n` of them. */
static const char *pollers =
    "{\"host\": {\"cpus\": 2, \"calibration\": \"%s\", \"wait\": \"poll\"},"
    " \"devices\": [{\"queues\": 1, \"irq_cpus\": [1],"
    "   \"flash\": {\"channels\": 8, \"dies_per_channel\": 4, \"read_us\": 50}}],"
    " \"workload\": [{\"type\": \"bulk\", \"queue_depth\": 1, \"read_fraction\": 1,"
    "                \"consumer_cpu\": 0},"
    "               {\"type\": \"bulk\", \"queue_depth\": 1, \"read_fraction\": 1,"
    "                \"consumer_cpu\": 0}],"
    " \"variants\": [{\"name\": \"kernel\", \"affinity\": \"kernel\"}],"
    " \"policy\": {\"throughput_batch\": 1},"
    " \"run\": {\"duration_ms\": 300, \"warmup_ms\": 20, \"replications\": 1,"
    "          \"record_requests\": 100000}}";

/* Two QD1 threads spinning on their CQs on one CPU share it by slices: a
 * completion of the one that is not on the CPU waits for the tick that ends
 * the other's slice (HZ 250: 4 ms; base slice 1.4 ms < a tick, so each
 * tick switches). One poller alone sees its CQE within a poll iteration. */
static void test_two_pollers_share_cpu(void **state)
{
    (void)state;
    char *one[] = {"workload.1.consumer_cpu=1"}; /* the second reader elsewhere */
    scn_t *a = load(pollers, one, 1), *b = load(pollers, NULL, 0);
    result_t ra, rb;
    run_one(a, 0, 0, &ra);
    run_one(b, 0, 0, &rb);
    double p1 = metric(&ra, "lat_p99_ns"), p2 = metric(&rb, "lat_p99_ns");
    printf("QD1 pollers p99: one per CPU %.0f us, two on one CPU %.0f us (x%.1f)\n", p1 / 1e3,
           p2 / 1e3, p2 / p1);
    assert_true(p2 >= 5 * p1);
    assert_true(p2 > 3e6 && p2 < 4e6 + 500e3); /* a tick, not more */
    /* the CPU is shared, so the pair gets about what one poller gets */
    assert_true(metric(&rb, "iops") < 0.6 * metric(&ra, "iops"));
    result_fini(&ra);
    result_fini(&rb);
    scn_free(a);
    scn_free(b);
}

/* Hybrid IOPOLL: the first I/O polls (no wait seen yet); each later one
 * sleeps half the shortest wait seen, T (submit to ready of the first), on
 * an hrtimer that fires timer_overshoot_ns late (100 us, longer than the
 * device), then finds its CQE in one poll iteration: t_irq - t_submit =
 * blk_dispatch_ns (inside t_submit's syscall) + T/2 + overshoot + poll_ns. */
static void test_hybrid_sleep_overshoot(void **state)
{
    (void)state;
    char *sets[] = {"host.wait=hybrid", "devices.0.poll_queues=1",
                    ("workload=[{\"type\": \"bulk\", \"queue_depth\": 1, \"read_fraction\": 1,"
                     " \"consumer_cpu\": 0}]"),
                    "run.warmup_ms=0", "run.duration_ms=50"};
    scn_t *s = load(pollers, sets, 5);
    result_t r;
    run_one(s, 0, 0, &r);
    assert_true(r.nreq > 10);
    const result_req_t *first = &r.req[0];
    for (size_t i = 1; i < r.nreq; i++)
        if (r.req[i].req_id < first->req_id)
            first = &r.req[i];
    uint64_t t = first->t[7] - first->t[1];
    uint64_t want = (uint64_t)cost("blk_dispatch_ns") + t / 2 +
                    (uint64_t)cost("timer_overshoot_ns") + (uint64_t)cost("poll_ns");
    printf("hybrid: T %.1f us, later t_irq - t_submit %.1f us (expected %.1f)\n", t / 1e3,
           (double)median_stage(&r, 4, 1) / 1e3, want / 1e3);
    for (size_t i = 0; i < r.nreq; i++)
        if (&r.req[i] != first)
            assert_int_equal(r.req[i].t[4] - r.req[i].t[1], want);
    result_fini(&r);
    scn_free(s);
}

/* A hog on the IRQ CPU (2 ms of every 4 ms) beside a QD1 reader there: a
 * woken reader waits at most for the rest of the hog's busy span (EEVDF:
 * with no lag it cannot pre-empt the hog's protected slice, 1.4 ms, and the
 * span ends before any later tick could help more), so no wake-up waits
 * more than busy_us; most reads meet no hog and keep the idle p50. */
static void test_hog_delays_wakeup_at_most_its_span(void **state)
{
    (void)state;
    char *alone[] = {"host.wait=interrupt",
                     ("workload=[{\"type\": \"bulk\", \"queue_depth\": 1, \"read_fraction\": 1,"
                      " \"consumer_cpu\": 1}]")};
    char *hog[] = {"host.wait=interrupt",
                   ("workload=[{\"type\": \"bulk\", \"queue_depth\": 1, \"read_fraction\": 1,"
                    " \"consumer_cpu\": 1}]"),
                   "host.background=[{\"cpu\": 1, \"period_us\": 4000, \"busy_us\": 2000}]"};
    scn_t *a = load(pollers, alone, 2), *b = load(pollers, hog, 3);
    result_t ra, rb;
    run_one(a, 0, 0, &ra);
    run_one(b, 0, 0, &rb);
    uint64_t worst = 0, waited = 0;
    for (size_t i = 0; i < rb.nreq; i++) {
        uint64_t w = rb.req[i].t[7] - rb.req[i].t[5]; /* block completion -> consumer ran */
        worst = w > worst ? w : worst;
        waited += w > 100000;
    }
    printf("hog 2/4 ms: p50 %.1f us (alone %.1f), worst wake-up %.0f us, %.1f%% waited > 100 us\n",
           metric(&rb, "lat_p50_ns") / 1e3, metric(&ra, "lat_p50_ns") / 1e3, worst / 1e3,
           100.0 * (double)waited / (double)rb.nreq);
    assert_true(worst <= 2000000 + 10000);
    assert_true(waited > 0);
    assert_true(fabs(metric(&rb, "lat_p50_ns") - metric(&ra, "lat_p50_ns")) <
                0.02 * metric(&ra, "lat_p50_ns"));
    result_fini(&ra);
    result_fini(&rb);
    scn_free(a);
    scn_free(b);
}

/* flash.read_dist "calibrated": the QD1 device stage follows the host's
 * measured device_read_4k_ns distribution (its quantiles), tR being what is
 * left after the device's own fixed costs. */
static void test_calibrated_device_reads(void **state)
{
    (void)state;
    char cal[700];
    snprintf(cal, sizeof(cal), "%s/devcal.json", dir);
    FILE *f = fopen(cal, "w");
    assert_non_null(f);
    fprintf(f, "{\"latsurf_calibration\": 1, \"params\": {\"device_read_4k_ns\": {\"value\": 90000,"
               " \"quantiles\": {\"p1\": 60000, \"p5\": 62000, \"p10\": 64000, \"p25\": 76000,"
               " \"p50\": 90000, \"p75\": 104000, \"p90\": 124000, \"p95\": 139000,"
               " \"p99\": 260000}}}}\n");
    fclose(f);
    char calset[800];
    snprintf(calset, sizeof(calset), "host.calibration=%s", cal);
    char *sets[] = {calset, "devices.0.flash.read_dist=calibrated",
                    "variants=[{\"name\":\"kernel\"}]", "workload.0.rate_iops=500",
                    "run.duration_ms=4000"};
    scn_t *s = load(qd1, sets, 5);
    result_t r;
    run_one(s, 0, 0, &r);
    uint64_t *dev = malloc(r.nreq * sizeof(*dev));
    assert_non_null(dev);
    for (size_t i = 0; i < r.nreq; i++)
        dev[i] = r.req[i].t[3] - r.req[i].t[2];
    qsort(dev, r.nreq, sizeof(*dev), cmp_u64);
    double p50 = (double)dev[r.nreq / 2], p90 = (double)dev[r.nreq * 9 / 10];
    printf("calibrated device stage over %zu reads: p50 %.0f (90000), p90 %.0f (124000)\n",
           r.nreq, p50, p90);
    /* ~2000 samples: the sample median is within ~3% of the target */
    assert_true(fabs(p50 - 90000) < 0.04 * 90000);
    assert_true(fabs(p90 - 124000) < 0.06 * 124000);
    free(dev);
    result_fini(&r);
    scn_free(s);
}

/* Write the test costs plus `extra` (",\"name\": {...}" entries) as a
 * calibration file of its own; its path in out. */
static void write_calibration(const char *name, const char *extra, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", dir, name);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fprintf(f, "{\"latsurf_calibration\": 1, \"params\": {");
    for (size_t i = 0; i < sizeof(test_costs) / sizeof(test_costs[0]); i++)
        fprintf(f, "%s\"%s\": {\"value\": %g}", i ? "," : "", test_costs[i].name, test_costs[i].v);
    fprintf(f, "%s}}\n", extra);
    fclose(f);
}

/* The same, as the --set that selects it ("host.calibration=<path>"). */
static void calibration_set(const char *name, const char *extra, char *set, size_t n)
{
    char cal[700];
    write_calibration(name, extra, cal, sizeof(cal));
    snprintf(set, n, "host.calibration=%s", cal);
}

/* Side-conditioned costs (models/costs.h): with "_cross" sides for the
 * dispatch, the handler and the device, a consumer away from the vector's
 * CPU pays each cross side, a consumer on it the plain one. On top of the
 * wakeup difference of test_locality_costs_wakeup, far - near is exactly
 * (700 - 300) + (3000 - 1000) + (52000 - 50000) ns, stage by stage. */
static void test_side_conditioned_costs(void **state)
{
    (void)state;
    char calset[800];
    calibration_set("sided.json",
                    ",\"blk_dispatch_cross_ns\": {\"value\": 700},"
                    "\"irq_handler_cross_ns\": {\"value\": 3000},"
                    "\"device_read_4k_ns\": {\"value\": 50000},"
                    "\"device_read_4k_cross_ns\": {\"value\": 52000}",
                    calset, sizeof(calset));
    char *sets[] = {calset, "devices.0.flash.read_dist=calibrated"};
    scn_t *s = load(qd1, sets, 2);
    result_t far, near;
    run_one(s, 0, 0, &far);  /* consumer on CPU 0, IRQ on CPU 1 */
    run_one(s, 1, 0, &near); /* consumer moved to CPU 1 */
    assert_int_equal(median_stage(&far, T_DEVICE_DONE, T_DISPATCH), 52000);
    assert_int_equal(median_stage(&near, T_DEVICE_DONE, T_DISPATCH), 50000);
    assert_int_equal(median_stage(&far, T_IRQ, T_DEVICE_DONE), 3000);
    assert_int_equal(median_stage(&near, T_IRQ, T_DEVICE_DONE), 1000);
    double extra = cost("wakeup_cross_cpu_ns") - cost("context_switch_ns") + (700 - 300) +
                   (3000 - 1000) + (52000 - 50000);
    double got = (double)median_latency(&far) - (double)median_latency(&near);
    printf("QD1 far - near = %.0f ns (expected %.0f) with cross sides\n", got, extra);
    assert_true(fabs(got - extra) <= 1.0);
    result_fini(&far);
    result_fini(&near);
    scn_free(s);
}

/* A calibrated device's time ends at irq_handler_entry, after the vector's
 * CPU woke: its interrupt does not pay idle_exit_ns again; the flash model's
 * does. CPU 1 sleeps through each 50 us read here (idle_deep_after 1 us). */
static void test_calibrated_device_holds_the_wakeup(void **state)
{
    (void)state;
    char calset[800];
    /* (idle_exit_ns 4000 follows the test costs' 0: the later key wins) */
    calibration_set("woken.json",
                    ",\"idle_exit_ns\": {\"value\": 4000},"
                    "\"idle_deep_after_ns\": {\"value\": 1000},"
                    "\"device_read_4k_ns\": {\"value\": 50000}",
                    calset, sizeof(calset));
    for (int calibrated = 0; calibrated < 2; calibrated++) {
        char *sets[] = {calset, "variants=[{\"name\":\"consumer\",\"affinity\":\"consumer\"}]",
                        "devices.0.flash.read_dist=calibrated"};
        result_t r;
        run_text(qd1, sets, calibrated ? 3 : 2, &r);
        uint64_t irq = median_stage(&r, T_IRQ, T_DEVICE_DONE);
        printf("device %s: interrupt stage %llu ns\n", calibrated ? "calibrated" : "flash model",
               (unsigned long long)irq);
        assert_int_equal(irq, cost("irq_handler_ns") + (calibrated ? 0 : 4000));
        result_fini(&r);
    }
}

/* Far QD1 reads (variant kernel) with one cost calibrated (`extra`, written
 * to `file` beside default.json) and without it: the difference in CPU per
 * I/O, and in median latency (p50, may be NULL). */
static double kernel_cpu_delta(const char *file, const char *extra, long long *p50)
{
    char calset[800];
    calibration_set(file, extra, calset, sizeof(calset));
    char *sets[] = {calset, "variants=[{\"name\":\"kernel\"}]"};
    result_t with, without;
    run_text(qd1, sets, 2, &with);
    run_text(qd1, sets + 1, 1, &without);
    double d = metric(&with, "cpu_ns_per_io") - metric(&without, "cpu_ns_per_io");
    if (p50)
        *p50 = (long long)median_latency(&with) - (long long)median_latency(&without);
    result_fini(&with);
    result_fini(&without);
    return d;
}

/* The doorbell (models/costs.h): with nothing outstanding every call rings
 * it, on the calling thread's CPU after its last dispatch: each QD1 read
 * costs exactly 20000 ns more CPU, and its latency nothing (the device's
 * 50 us run meanwhile and the consumer then waits on another CPU). */
static void test_doorbell_charged_to_the_caller(void **state)
{
    (void)state;
    long long p50;
    double d = kernel_cpu_delta("bell.json", ",\"doorbell_ns\": {\"value\": 20000}", &p50);
    printf("doorbell: cpu_ns_per_io +%.1f ns (20000), p50 %+lld ns\n", d, p50);
    assert_true(fabs(d - 20000) < 1.0);
    assert_int_equal(p50, 0);
}

/* ipi_send_idle_ns (calibrated): the completion CPU wakes the consumer
 * sleeping on the other, idle CPU, and pays that instead of ipi_send_ns
 * (300 ns): each QD1 read with the consumer away from the interrupt costs
 * 19700 ns more CPU where the consumer's CPU was idle - all but the few
 * whose completion came while the next Poisson arrival was being submitted
 * there (under 1%); with the consumer on the interrupt's CPU, nothing. */
static void test_ipi_send_idle_charged_to_the_sender(void **state)
{
    (void)state;
    char calset[800];
    calibration_set("ipi.json", ",\"ipi_send_idle_ns\": {\"value\": 20000}", calset,
                    sizeof(calset));
    char *sets[] = {calset};
    scn_t *with = load(qd1, sets, 1), *without = load(qd1, NULL, 0);
    for (uint32_t v = 0; v < 2; v++) { /* kernel: far; consumer: near */
        result_t a, b;
        run_one(with, v, 0, &a);
        run_one(without, v, 0, &b);
        double d = metric(&a, "cpu_ns_per_io") - metric(&b, "cpu_ns_per_io");
        printf("ipi_send_idle, variant %u: cpu_ns_per_io %+.1f ns (%s)\n", v, d,
               v ? "0" : "19700");
        if (v)
            assert_true(fabs(d) < 1.0);
        else
            assert_true(d <= 19700 + 1.0 && d >= 0.99 * 19700);
        result_fini(&a);
        result_fini(&b);
    }
    scn_free(with);
    scn_free(without);
}

/* ipi_recv_ns (calibrated) is what a running CPU loses to an IPI: the
 * completion CPU's wake-up of the consumer asleep on the other, idle CPU
 * charges ipi_recv_idle_ns (700 ns) whatever ipi_recv_ns says, so sparse
 * QD1 reads cost the same CPU with it at 20000 ns as without, but for the
 * few (under 1%) whose completion found the consumer submitting the next
 * Poisson arrival: 19300 ns more each, under 193 ns per read in all. */
static void test_ipi_recv_not_on_an_idle_cpu(void **state)
{
    (void)state;
    double d = kernel_cpu_delta("recv.json", ",\"ipi_recv_ns\": {\"value\": 20000}", NULL);
    printf("ipi_recv, QD1 far: cpu_ns_per_io %+.1f ns (0 .. 193)\n", d);
    assert_true(d > -1.0 && d < 0.01 * 19300);
}

/* irq_busy_ns (calibrated device): the interrupt for a read that was alone
 * on its queue reaches its handler that much later when the vector's CPU is
 * not idle; the work after irq_handler_entry is unchanged and no CPU time is
 * charged for it. Sparse QD1 reads on the calibrated device (50 us), the
 * consumer on CPU 0, the vector on CPU 1: with CPU 1 idle between reads the
 * median read is the same with irq_busy_ns at 20000 ns as without; beside a
 * hog that keeps CPU 1 busy (3,990 us of every 4 ms) the median device ->
 * interrupt stage and the median read are exactly 20000 ns longer, and the
 * I/O path's CPU time per read does not move by it. */
static void test_irq_busy_delays_delivery_to_a_running_cpu(void **state)
{
    (void)state;
    char calset[800], plain[800];
    calibration_set("irqbusy.json",
                    ",\"device_read_4k_ns\": {\"value\": 50000},"
                    "\"irq_busy_ns\": {\"value\": 20000}",
                    calset, sizeof(calset));
    calibration_set("irqbusy0.json", ",\"device_read_4k_ns\": {\"value\": 50000}", plain,
                    sizeof(plain));
    char *hog = "host.background=[{\"cpu\": 1, \"period_us\": 4000, \"busy_us\": 3990}]";
    for (int h = 0; h < 2; h++) {
        char *with[] = {"devices.0.flash.read_dist=calibrated", calset, hog};
        char *without[] = {"devices.0.flash.read_dist=calibrated", plain, hog};
        result_t a, b;
        run_text(qd1, with, h ? 3 : 2, &a);
        run_text(qd1, without, h ? 3 : 2, &b);
        long long d = (long long)median_latency(&a) - (long long)median_latency(&b);
        long long dirq = (long long)median_stage(&a, T_IRQ, T_DEVICE_DONE) -
                         (long long)median_stage(&b, T_IRQ, T_DEVICE_DONE);
        double dcpu = metric(&a, "cpu_ns_per_io") - metric(&b, "cpu_ns_per_io");
        printf("irq_busy, %s: p50 %+lld ns, device->irq %+lld ns (%d), cpu/io %+.1f ns\n",
               h ? "beside a hog" : "idle", d, dirq, h ? 20000 : 0, dcpu);
        assert_int_equal(d, h ? 20000 : 0);
        assert_int_equal(dirq, h ? 20000 : 0);
        assert_true(fabs(dcpu) < 200.0);
        result_fini(&a);
        result_fini(&b);
    }
}

/* The task_work list is not empty from the first completion's wake-up on
 * (io_req_normal_work_add notifies once): eight reads that complete
 * together (a calibrated device of 32 units, 40 us each), the consumer
 * asleep on the other CPU for a 30 us wake-up, send one wake-up between
 * them, however many complete while it is on its way. With
 * task_work_per_cqe calibrated, an ipi_send_idle_ns of 2000 ns instead of
 * ipi_send_ns's 300 then costs (2000 - 300) / 8 = 212.5 ns per read (a
 * wake-up per completion, as before the fix, cost about 2000). */
static void test_one_wakeup_per_task_work_list(void **state)
{
    (void)state;
    char with[800], without[800];
    calibration_set("tw1.json",
                    ",\"task_work_per_cqe_ns\": {\"value\": 100},"
                    " \"device_read_4k_ns\": {\"value\": 40000},"
                    " \"wakeup_cross_cpu_ns\": {\"value\": 30000},"
                    " \"ipi_send_idle_ns\": {\"value\": 2000}",
                    with, sizeof(with));
    calibration_set("tw0.json",
                    ",\"task_work_per_cqe_ns\": {\"value\": 100},"
                    " \"device_read_4k_ns\": {\"value\": 40000},"
                    " \"wakeup_cross_cpu_ns\": {\"value\": 30000}",
                    without, sizeof(without));
    char *sets[] = {with, "variants=[{\"name\":\"kernel\"}]",
                    "workload=[{\"type\": \"bulk\", \"queue_depth\": 8, \"read_fraction\": 1,"
                    " \"consumer_cpu\": 0}]",
                    "devices.0.service=\"calibrated\""};
    result_t a, b;
    run_text(qd1, sets, 4, &a);
    sets[0] = without;
    run_text(qd1, sets, 4, &b);
    double d = metric(&a, "cpu_ns_per_io") - metric(&b, "cpu_ns_per_io");
    printf("one wake-up per list: cpu_ns_per_io %+.1f ns (212.5)\n", d);
    assert_true(fabs(d - 212.5) < 1.0);
    result_fini(&a);
    result_fini(&b);
}

/* device_read_ns_per_kib (calibrated): with service "calibrated" a 64 KiB
 * read's device time is its QD1 draw plus 60 KiB at the calibrated time
 * per KiB, instead of at the PCIe link rate: each read's device stage
 * (dispatch -> device done) is exactly 60 x (250 - 100) = 9000 ns longer
 * with 250 ns/KiB than with 100 (the same keyed draws underneath). */
static void test_device_read_per_kib(void **state)
{
    (void)state;
    sim_time_t dev[2][64];
    for (int k = 0; k < 2; k++) {
        char calset[800], extra[160];
        snprintf(extra, sizeof(extra),
                 ",\"device_read_4k_ns\": {\"value\": 40000}, "
                 "\"device_read_ns_per_kib\": {\"value\": %d}", k ? 250 : 100);
        calibration_set(k ? "kib250.json" : "kib100.json", extra, calset, sizeof(calset));
        char *sets[] = {calset, "devices.0.service=\"calibrated\"", "workload.0.bytes=65536",
                        "variants=[{\"name\":\"kernel\"}]"};
        result_t r;
        run_text(qd1, sets, 4, &r);
        assert_true(r.nreq >= 64);
        for (size_t i = 0; i < 64; i++)
            dev[k][i] = r.req[i].t[T_DEVICE_DONE] - r.req[i].t[T_DISPATCH];
        result_fini(&r);
    }
    for (size_t i = 0; i < 64; i++)
        assert_int_equal(dev[1][i] - dev[0][i], 9000);
}

/* An open-loop arrival that wakes its consumer on an hrtimer (workload
 * "wake": "timer"): the consumer, asleep between the sparse arrivals, first
 * pays timer_overshoot_ns (20 us here) and then submits, so the median read
 * is exactly 20000 ns slower and costs no CPU more (the overshoot is sleep,
 * not work). */
static void test_timer_wake_arrival(void **state)
{
    (void)state;
    char calset[800];
    calibration_set("timer.json", ",\"timer_overshoot_ns\": {\"value\": 20000}", calset,
                    sizeof(calset));
    char *sets[] = {calset, "variants=[{\"name\":\"kernel\"}]", "workload.0.wake=\"timer\""};
    result_t with, without;
    run_text(qd1, sets, 3, &with);
    run_text(qd1, sets, 2, &without);
    long long d = (long long)median_latency(&with) - (long long)median_latency(&without);
    double c = metric(&with, "cpu_ns_per_io") - metric(&without, "cpu_ns_per_io");
    printf("timer wake: p50 %+lld ns (20000), cpu_ns_per_io %+.1f ns (0)\n", d, c);
    assert_int_equal(d, 20000);
    assert_true(fabs(c) < 1.0);
    result_fini(&with);
    result_fini(&without);
}

/* The same wake with its CPU calibrated: of the 20 us overshoot, 5 us run
 * at hard-IRQ level on the consumer's CPU (the expiry's interrupt, the idle
 * exit) and 8 us are the consumer's own (switch in, return). The CPU is
 * idle between the sparse arrivals, so the read is exactly as slow as with
 * the overshoot alone, and costs 13,000 ns of CPU more for each arrival
 * that found its consumer asleep: most (at 2,000 a second a few arrive
 * while the last read is still on the thread, and pay no wake). */
static void test_timer_wake_cpu(void **state)
{
    (void)state;
    char plain[800], costed[800];
    calibration_set("timer.json", ",\"timer_overshoot_ns\": {\"value\": 20000}", plain,
                    sizeof(plain));
    calibration_set("timercpu.json",
                    ",\"timer_overshoot_ns\": {\"value\": 20000}, "
                    "\"timer_wake_cpu_ns\": {\"value\": 8000}, "
                    "\"timer_wake_irq_ns\": {\"value\": 5000}",
                    costed, sizeof(costed));
    char *sets[] = {plain, "variants=[{\"name\":\"kernel\"}]", "workload.0.wake=\"timer\""};
    result_t with, without;
    run_text(qd1, sets, 3, &without);
    sets[0] = costed;
    run_text(qd1, sets, 3, &with);
    long long d = (long long)median_latency(&with) - (long long)median_latency(&without);
    double c = metric(&with, "cpu_ns_per_io") - metric(&without, "cpu_ns_per_io");
    printf("timer wake CPU: p50 %+lld ns (0), cpu_ns_per_io %+.1f ns (13000 a wake)\n", d, c);
    assert_int_equal(d, 0);
    assert_true(c > 0.9 * 13000 && c <= 13000 + 1.0);
    /* a read alone (no arrival within 300 us either side): submitted and
     * ready at exactly the same times; one close to another may move by
     * the wake's CPU it now meets on its CPU */
    assert_int_equal(with.nreq, without.nreq);
    size_t alone = 0;
    for (size_t i = 1; i + 1 < with.nreq; i++) {
        const result_req_t *a = &with.req[i], *b = &without.req[i];
        if (a->t[T_ISSUE] - with.req[i - 1].t[T_ISSUE] < 300000 ||
            with.req[i + 1].t[T_ISSUE] - a->t[T_ISSUE] < 300000)
            continue;
        alone++;
        assert_int_equal(a->t[T_SUBMIT], b->t[T_SUBMIT]);
        assert_int_equal(a->t[T_READY], b->t[T_READY]);
    }
    assert_true(alone >= 100);
    result_fini(&with);
    result_fini(&without);
}

/* One die (tR 60 us), 4 KiB reads: a step-critical QD1 reader on CPU 0
 * beside a QD16 bulk stream on CPU 2, each trip through the host far
 * shorter than tR. The die serves host commands FIFO, so the 17 commands
 * cycle through it in a fixed order and the reader completes exactly once
 * every 17 x tR, having waited behind the 16 bulk reads: device stage
 * >= 16 x tR. That holds for the baseline and for the coordinated variant
 * (latency mode: polling, urgent ioprio, no coalescing wish; deadline
 * hints) with throttling off - a request's class is not seen at the die.
 * With the die-priority what-if the urgent reader overtakes at the die and
 * waits at most the read in service. */
static const char *die_fifo =
    "{\"host\": {\"cpus\": 4, \"calibration\": \"%s\"},"
    " \"devices\": [{\"queues\": 2,"
    "   \"flash\": {\"channels\": 1, \"dies_per_channel\": 1, \"read_us\": 60}}],"
    " \"workload\": [{\"type\": \"bulk\", \"queue_depth\": 1, \"bytes\": 4096,"
    "   \"read_fraction\": 1, \"class\": \"step-critical\", \"consumer_cpu\": 0},"
    "  {\"type\": \"bulk\", \"queue_depth\": 16, \"bytes\": 4096, \"read_fraction\": 1,"
    "   \"consumer_cpu\": 2}],"
    " \"variants\": [{\"name\": \"baseline\"},"
    "   {\"name\": \"coordinated\", \"affinity\": \"consumer\", \"mode\": \"latency\","
    "    \"registration\": \"cache\", \"hints\": \"deadline\"},"
    "   {\"name\": \"coordinated-die-priority\", \"affinity\": \"consumer\","
    "    \"mode\": \"latency\", \"hints\": \"deadline\","
    "    \"set\": {\"devices.0.what_if.die_priority\": true}}],"
    " \"policy\": {\"latency_max_inflight\": 1000000},"
    " \"run\": {\"duration_ms\": 60, \"warmup_ms\": 10, \"replications\": 1,"
    "          \"record_requests\": 100000}}";

static void test_die_fifo_whatever_mode(void **state)
{
    (void)state;
    scn_t *s = load(die_fifo, NULL, 0);
    const uint64_t tr = 60000;
    for (uint32_t v = 0; v < s->nvar; v++) {
        result_t r;
        run_one(s, v, 0, &r);
        uint64_t prev = 0, n = 0, gap_lo = UINT64_MAX, gap_hi = 0, dev_lo = UINT64_MAX, dev_hi = 0;
        for (size_t i = 0; i < r.nreq; i++) {
            const result_req_t *q = &r.req[i];
            if (q->cls != POL_CLASS_STEP_CRITICAL)
                continue;
            uint64_t dev = q->t[T_DEVICE_DONE] - q->t[T_DISPATCH];
            dev_lo = dev < dev_lo ? dev : dev_lo;
            dev_hi = dev > dev_hi ? dev : dev_hi;
            if (prev) {
                uint64_t gap = q->t[T_DEVICE_DONE] - prev;
                gap_lo = gap < gap_lo ? gap : gap_lo;
                gap_hi = gap > gap_hi ? gap : gap_hi;
            }
            prev = q->t[T_DEVICE_DONE];
            n++;
        }
        printf("%-26s %s: %lu reads, device stage %lu..%lu ns, completions every %lu..%lu ns\n",
               s->var[v].pol.name, s->var[v].what_if[0] ? s->var[v].what_if : "(no what-if)",
               (unsigned long)n, (unsigned long)dev_lo, (unsigned long)dev_hi,
               (unsigned long)gap_lo, (unsigned long)gap_hi);
        assert_true(n > 20);
        if (!s->var[v].what_if[0]) {
            assert_int_equal(gap_lo, 17 * tr);
            assert_int_equal(gap_hi, 17 * tr);
            assert_true(dev_lo >= 16 * tr);
        } else {
            assert_true(dev_hi <= 1600 + 2 * tr + 5120 + 512);
        }
        result_fini(&r);
    }
    scn_free(s);
}

/* Device stage alone: one die, fixed read time, every other device cost 0. */
static void test_device_md1(void **state)
{
    (void)state;
    const char *md1 =
        "{\"host\": {\"cpus\": 1, \"calibration\": \"%s\"},"
        " \"devices\": [{\"queues\": 1, \"controller\": {\"cmd_ns\": 0},"
        "   \"ftl\": {\"map_hit_ns\": 0}, \"pcie\": {\"gbps\": 1000, \"iommu_ns\": 0},"
        "   \"flash\": {\"channels\": 1, \"dies_per_channel\": 1, \"read_us\": 100,"
        "               \"channel_mbps\": 100000}}],"
        " \"workload\": [{\"type\": \"poisson\", \"rate_iops\": 7000}],"
        " \"run\": {\"duration_ms\": 400, \"warmup_ms\": 40, \"replications\": 12}}";
    scn_t *s = load(md1, NULL, 0);
    /* service: tR + 4 KiB over the channel (100 B/ns) and PCIe (1000 B/ns) */
    double S = 100000 + 4096 / 100.0 + 4096 / 1000.0, lambda = 7000 / 1e9, rho = lambda * S;
    double theory = rho * S / (2 * (1 - rho)) + S; /* Pollaczek-Khinchine W + S */
    double x[12];
    for (uint32_t rep = 0; rep < 12; rep++) {
        result_t r;
        run_one(s, 0, rep, &r);
        x[rep] = stage_mean(&r, "device");
        result_fini(&r);
    }
    double m = gsl_stats_mean(x, 1, 12), sd = gsl_stats_sd(x, 1, 12);
    double half = gsl_cdf_tdist_Pinv(0.995, 11) * sd / sqrt(12);
    printf("M/D/1 device stage: %.0f +- %.0f, theory %.0f\n", m, half, theory);
    assert_true(fabs(m - theory) <= half);
    assert_true(half < 0.1 * theory);
    scn_free(s);
}

/* host.traced: each request pays trace_syscall_ns (7000 ns here) as CPU of
 * its consumer's submit call, and a recorder thread drains
 * trace_events_per_read x trace_drain_event_ns (10 x 100 ns) per request
 * every 50 ms. Sparse QD1 reads, the consumer on CPU 0 with nothing else
 * to run: the median read is exactly 7000 ns longer, and the CPU per read
 * grows by 7000 + 1000 ns (the recorder's part less the reads of the last
 * 50 ms, which it drains after the run: within 5% over 1 s). A calibration
 * without the trace costs is refused. */
static void test_traced_charges_the_recorder(void **state)
{
    (void)state;
    char calset[800];
    calibration_set("traced.json",
                    ",\"trace_syscall_ns\": {\"value\": 7000},"
                    "\"trace_drain_event_ns\": {\"value\": 100},"
                    "\"trace_events_per_read\": {\"value\": 10}",
                    calset, sizeof(calset));
    char *on[] = {calset, "host.traced=true", "run.duration_ms=1000"};
    char *off[] = {calset, "run.duration_ms=1000"};
    scn_t *a = load(qd1, on, 3), *b = load(qd1, off, 2);
    assert_string_equal(a->var[0].what_if, "host.traced");
    assert_string_equal(b->var[0].what_if, "");
    result_t ra, rb;
    run_one(a, 0, 0, &ra);
    run_one(b, 0, 0, &rb);
    double dlat = (double)median_latency(&ra) - (double)median_latency(&rb);
    double dcpu = metric(&ra, "cpu_ns_per_io") - metric(&rb, "cpu_ns_per_io");
    printf("host.traced: median read %+.0f ns (7000), cpu_ns_per_io %+.1f ns (7000 + 1000)\n",
           dlat, dcpu);
    assert_true(fabs(dlat - 7000) <= 1.0);
    assert_true(dcpu >= 7000 + 0.95 * 1000 && dcpu <= 7000 + 1000 + 1.0);
    result_fini(&ra);
    result_fini(&rb);
    scn_free(a);
    scn_free(b);
    /* the plain test calibration has no trace costs: refused, not run untraced */
    char *bare[] = {"host.traced=true"};
    scn_t *c = load(qd1, bare, 1);
    result_t rc;
    result_init(&rc);
    char err[1024];
    assert_int_not_equal(runner_run(c, 0, 0, NULL, &rc, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "host.traced"));
    result_fini(&rc);
    scn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locality_costs_wakeup),
        cmocka_unit_test(test_pool_hand_off),
        cmocka_unit_test(test_rq_affinity_moves_completion),
        cmocka_unit_test(test_coalescing),
        cmocka_unit_test(test_defer_taskrun),
        cmocka_unit_test(test_iopoll),
        cmocka_unit_test(test_two_pollers_share_cpu),
        cmocka_unit_test(test_hybrid_sleep_overshoot),
        cmocka_unit_test(test_hog_delays_wakeup_at_most_its_span),
        cmocka_unit_test(test_calibrated_device_reads),
        cmocka_unit_test(test_side_conditioned_costs),
        cmocka_unit_test(test_calibrated_device_holds_the_wakeup),
        cmocka_unit_test(test_doorbell_charged_to_the_caller),
        cmocka_unit_test(test_ipi_send_idle_charged_to_the_sender),
        cmocka_unit_test(test_ipi_recv_not_on_an_idle_cpu),
        cmocka_unit_test(test_one_wakeup_per_task_work_list),
        cmocka_unit_test(test_irq_busy_delays_delivery_to_a_running_cpu),
        cmocka_unit_test(test_timer_wake_arrival),
        cmocka_unit_test(test_timer_wake_cpu),
        cmocka_unit_test(test_device_read_per_kib),
        cmocka_unit_test(test_die_fifo_whatever_mode),
        cmocka_unit_test(test_device_md1),
        cmocka_unit_test(test_traced_charges_the_recorder),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
