/*
 * test_policy.c - each policy axis changes exactly the decisions it claims
 * (placements compared field by field against the kernel / throughput /
 * none baseline), adaptive mode's switch times on a synthetic latency feed,
 * and the build-level promise that policies/ is plain C the simulator and
 * the live backend link from one library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/policy.h"

/* 8 CPUs on 2 nodes, 4 queues whose vectors fire on CPUs 0, 2, 4, 6. */
static const uint32_t cpu_node[8] = {0, 0, 0, 0, 1, 1, 1, 1};
static const uint32_t irq_cpu[4] = {0, 2, 4, 6};
static const uint32_t cpu_queue[8] = {0, 0, 1, 1, 2, 2, 3, 3};
static uint32_t inflight[POL_NCLASSES];

static pol_view_t view(void)
{
    return (pol_view_t){
        .ncpus = 8, .nnodes = 2, .cpu_node = cpu_node, .nqueues = 4, .queue_irq_cpu = irq_cpu,
        .cpu_queue = cpu_queue, .inflight = inflight, .now_ns = 1000,
    };
}

static pol_intent_t intent(pol_class_t cls, int32_t cpu)
{
    return (pol_intent_t){.cls = cls, .consumer_cpu = cpu, .gpu = -1, .flow = 3,
                          .prefetch_confidence = 1.0, .bytes = 4096};
}

static pol_placement_t place_v(pol_affinity_t a, pol_mode_t m, pol_hint_t h, const pol_view_t *v,
                               const pol_intent_t *in)
{
    pol_variant_t var = {.name = "t", .affinity = a, .mode = m, .registration = POL_REG_NONE,
                         .hints = h};
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    pol_t *p = pol_new(&var, &cfg);
    assert_non_null(p);
    pol_placement_t o;
    memset(&o, 0x5a, sizeof(o)); /* a field the policy forgot to set shows */
    pol_place(p, v, in, &o);
    pol_free(p);
    return o;
}

/* Field-by-field difference, as a bit set. */
enum {
    F_SUBMIT = 1 << 0, F_CONSUMER = 1 << 2, F_WAIT = 1 << 4, F_TASKRUN = 1 << 5,
    F_COALESCE = 1 << 6, F_PRIO = 1 << 7, F_BATCH = 1 << 8, F_WINDOW = 1 << 9, F_HOLD = 1 << 10,
    F_ADMIT = 1 << 11, F_RETRY = 1 << 12,
};

static unsigned diff(const pol_placement_t *a, const pol_placement_t *b)
{
    unsigned d = 0;
    d |= a->submit_cpu != b->submit_cpu ? F_SUBMIT : 0;
    d |= a->consumer_cpu != b->consumer_cpu ? F_CONSUMER : 0;
    d |= a->wait != b->wait ? F_WAIT : 0;
    d |= a->taskrun != b->taskrun ? F_TASKRUN : 0;
    d |= a->coalesce != b->coalesce ? F_COALESCE : 0;
    d |= a->prio != b->prio ? F_PRIO : 0;
    d |= a->batch != b->batch ? F_BATCH : 0;
    d |= a->batch_window_ns != b->batch_window_ns ? F_WINDOW : 0;
    d |= a->hold_background != b->hold_background ? F_HOLD : 0;
    d |= a->admit != b->admit ? F_ADMIT : 0;
    d |= a->retry_ns != b->retry_ns ? F_RETRY : 0;
    return d;
}

static pol_placement_t base(const pol_view_t *v, const pol_intent_t *in)
{
    return place_v(POL_AFF_KERNEL, POL_MODE_THROUGHPUT, POL_HINT_NONE, v, in);
}

static int32_t setup_rq_affinity(pol_affinity_t a)
{
    pol_variant_t var = {.name = "t", .affinity = a};
    pol_setup_t s;
    memset(&s, 0x5a, sizeof(s));
    pol_setup(&var, &s);
    return s.rq_affinity;
}

static void test_kernel_baseline(void **st)
{
    (void)st;
    pol_view_t v = view();
    pol_intent_t in = intent(POL_CLASS_STEP_CRITICAL, 3);
    pol_placement_t o = base(&v, &in);
    assert_int_equal(o.submit_cpu, 3);
    assert_int_equal(o.consumer_cpu, 3);
    assert_int_equal(o.admit, POL_ADMIT);
    assert_int_equal(setup_rq_affinity(POL_AFF_KERNEL), -1); /* the host's rq_affinity */
    /* no consumer preference: the flow picks the home CPU */
    in.consumer_cpu = -1;
    in.flow = 13;
    assert_int_equal(base(&v, &in).consumer_cpu, 13 % 8);
}

/* consumer: the thread moves to where its own queue's vector fires; the
 * queue and the completion CPU then follow as blk-mq derives them. */
static void test_consumer_affinity(void **st)
{
    (void)st;
    pol_view_t v = view();
    assert_int_equal(setup_rq_affinity(POL_AFF_CONSUMER), -1);
    /* CPU 4 is its queue's (2) vector CPU: nothing to move */
    pol_intent_t in = intent(POL_CLASS_STEP_CRITICAL, 4);
    pol_placement_t o = place_v(POL_AFF_CONSUMER, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
    pol_placement_t b = base(&v, &in);
    assert_int_equal(diff(&o, &b), 0);
    /* CPU 3 maps to queue 1, whose vector fires on CPU 2: move there */
    in.consumer_cpu = 3;
    o = place_v(POL_AFF_CONSUMER, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
    b = base(&v, &in);
    assert_int_equal(o.consumer_cpu, 2);
    assert_int_equal(o.submit_cpu, 2);
    assert_int_equal(irq_cpu[cpu_queue[o.submit_cpu]], o.submit_cpu);
    assert_int_equal(diff(&o, &b), F_SUBMIT | F_CONSUMER);
    /* vectors not on their queue's CPUs (irq_cpus set by hand): queue 1
     * fires on CPU 0, whose own queue fires on 1; the nearest CPU on the
     * node that is its queue's vector CPU is 1 */
    static const uint32_t irq2[4] = {1, 0, 4, 6};
    v.queue_irq_cpu = irq2;
    o = place_v(POL_AFF_CONSUMER, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
    assert_int_equal(o.consumer_cpu, 1);
    assert_int_equal(o.submit_cpu, 1);
}

/* submitter: placement as kernel; the queue's rq_affinity is set to 2 once. */
static void test_submitter_affinity(void **st)
{
    (void)st;
    pol_view_t v = view();
    for (int32_t cpu = 0; cpu < 8; cpu++) {
        pol_intent_t in = intent(POL_CLASS_HOT_METADATA, cpu);
        pol_placement_t o =
            place_v(POL_AFF_SUBMITTER, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
        pol_placement_t b = base(&v, &in);
        assert_int_equal(o.submit_cpu, (uint32_t)cpu);
        assert_int_equal(diff(&o, &b), 0);
    }
    assert_int_equal(setup_rq_affinity(POL_AFF_SUBMITTER), 2);
}

static void test_numa_affinity(void **st)
{
    (void)st;
    pol_view_t v = view();
    assert_int_equal(setup_rq_affinity(POL_AFF_NUMA), -1);
    pol_intent_t in = intent(POL_CLASS_STEP_CRITICAL, 5);
    /* queue 2 fires on CPU 4, same node: nothing to change */
    pol_placement_t o = place_v(POL_AFF_NUMA, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
    pol_placement_t b = base(&v, &in);
    assert_int_equal(diff(&o, &b), 0);
    /* CPU 5 maps to queue 0 (vector on node 0): move to CPU 4, whose queue's
     * vector is on node 1 */
    static const uint32_t map5[8] = {0, 0, 1, 1, 2, 0, 3, 3};
    v.cpu_queue = map5;
    o = place_v(POL_AFF_NUMA, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
    b = base(&v, &in);
    assert_int_equal(o.consumer_cpu, 4);
    assert_int_equal(diff(&o, &b), F_SUBMIT | F_CONSUMER);
    /* every CPU maps to queue 0 (node 0): no local vector to move to, stay
     * (rq_affinity 1 completes on the submitter, no shared cache) */
    static const uint32_t all0[8] = {0};
    v.cpu_queue = all0;
    o = place_v(POL_AFF_NUMA, POL_MODE_THROUGHPUT, POL_HINT_NONE, &v, &in);
    b = base(&v, &in);
    assert_int_equal(diff(&o, &b), 0);
}

static void test_latency_vs_throughput_mode(void **st)
{
    (void)st;
    pol_view_t v = view();
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    pol_intent_t in = intent(POL_CLASS_STEP_CRITICAL, 2);
    pol_placement_t t = base(&v, &in);
    assert_int_equal(t.wait, POL_WAIT_INTERRUPT);
    assert_int_equal(t.taskrun, POL_TASKRUN_DEFAULT);
    assert_true(t.coalesce);
    assert_int_equal(t.batch, cfg.throughput_batch);
    assert_true(t.batch_window_ns == cfg.throughput_batch_window_ns);
    assert_int_equal(t.prio, POL_PRIO_MEDIUM);
    pol_placement_t l = place_v(POL_AFF_KERNEL, POL_MODE_LATENCY, POL_HINT_NONE, &v, &in);
    assert_int_equal(l.wait, POL_WAIT_POLL);
    assert_int_equal(l.taskrun, POL_TASKRUN_DEFER);
    assert_false(l.coalesce);
    assert_int_equal(l.batch, 1);
    assert_true(l.batch_window_ns == 0);
    assert_int_equal(l.prio, POL_PRIO_URGENT);
    /* no batching is the default of both modes */
    assert_int_equal(diff(&l, &t), F_WAIT | F_TASKRUN | F_COALESCE | F_PRIO);
    /* classes: bulk low in both, prefetch medium */
    in.cls = POL_CLASS_BULK;
    assert_int_equal(place_v(POL_AFF_KERNEL, POL_MODE_LATENCY, POL_HINT_NONE, &v, &in).prio,
                     POL_PRIO_LOW);
    in.cls = POL_CLASS_PREFETCH;
    assert_int_equal(place_v(POL_AFF_KERNEL, POL_MODE_LATENCY, POL_HINT_NONE, &v, &in).prio,
                     POL_PRIO_MEDIUM);
}

/* Latency mode bounds in-flight background work per class; the classes
 * someone waits for are never held back; throughput mode bounds nothing. */
static void test_latency_mode_bounded_inflight(void **st)
{
    (void)st;
    pol_view_t v = view();
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    memset(inflight, 0, sizeof(inflight));
    inflight[POL_CLASS_BULK] = cfg.latency_max_inflight - 1;
    pol_intent_t bulk = intent(POL_CLASS_BULK, 1);
    assert_int_equal(place_v(POL_AFF_KERNEL, POL_MODE_LATENCY, POL_HINT_NONE, &v, &bulk).admit,
                     POL_ADMIT);
    inflight[POL_CLASS_BULK] = cfg.latency_max_inflight;
    pol_placement_t o = place_v(POL_AFF_KERNEL, POL_MODE_LATENCY, POL_HINT_NONE, &v, &bulk);
    assert_int_equal(o.admit, POL_ADMIT_LATER);
    assert_true(o.retry_ns > 0);
    assert_int_equal(base(&v, &bulk).admit, POL_ADMIT);
    inflight[POL_CLASS_STEP_CRITICAL] = 100000;
    pol_intent_t crit = intent(POL_CLASS_STEP_CRITICAL, 1);
    assert_int_equal(place_v(POL_AFF_KERNEL, POL_MODE_LATENCY, POL_HINT_NONE, &v, &crit).admit,
                     POL_ADMIT);
    memset(inflight, 0, sizeof(inflight));
}

static void test_hint_deadline(void **st)
{
    (void)st;
    pol_view_t v = view();
    pol_intent_t in = intent(POL_CLASS_STEP_CRITICAL, 2);
    pol_placement_t o = place_v(POL_AFF_KERNEL, POL_MODE_THROUGHPUT, POL_HINT_DEADLINE, &v, &in);
    pol_placement_t b = base(&v, &in);
    assert_int_equal(o.prio, POL_PRIO_URGENT);
    assert_true(o.hold_background);
    assert_int_equal(o.batch, 1);
    assert_false(o.coalesce);
    assert_int_equal(diff(&o, &b), F_PRIO | F_HOLD | F_COALESCE);
    for (int c = POL_CLASS_HOT_METADATA; c < POL_NCLASSES; c++) {
        in.cls = (pol_class_t)c;
        o = place_v(POL_AFF_KERNEL, POL_MODE_THROUGHPUT, POL_HINT_DEADLINE, &v, &in);
        b = base(&v, &in);
        assert_int_equal(diff(&o, &b), 0);
    }
}

static void test_hint_prefetch(void **st)
{
    (void)st;
    pol_view_t v = view();
    pol_intent_t in = intent(POL_CLASS_PREFETCH, 2);
    in.prefetch_confidence = 0.3; /* below the 0.5 default threshold */
    pol_placement_t o = place_v(POL_AFF_KERNEL, POL_MODE_THROUGHPUT, POL_HINT_PREFETCH, &v, &in);
    pol_placement_t b = base(&v, &in);
    assert_int_equal(o.admit, POL_ADMIT_DROP);
    assert_int_equal(o.prio, POL_PRIO_LOW);
    assert_int_equal(diff(&o, &b), F_ADMIT | F_PRIO);
    in.prefetch_confidence = 0.7;
    o = place_v(POL_AFF_KERNEL, POL_MODE_THROUGHPUT, POL_HINT_PREFETCH, &v, &in);
    assert_int_equal(o.admit, POL_ADMIT);
    assert_int_equal(diff(&o, &b), F_PRIO);
    in = intent(POL_CLASS_STEP_CRITICAL, 2);
    in.prefetch_confidence = 0;
    o = place_v(POL_AFF_KERNEL, POL_MODE_THROUGHPUT, POL_HINT_PREFETCH, &v, &in);
    b = base(&v, &in);
    assert_int_equal(diff(&o, &b), 0);
}

/* Token bucket: the burst passes at once, then one bulk request per
 * 1 / rate; step-critical is never held. */
static void test_hint_admission(void **st)
{
    (void)st;
    pol_view_t v = view();
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    pol_variant_t var = {.affinity = POL_AFF_KERNEL, .mode = POL_MODE_THROUGHPUT,
                         .hints = POL_HINT_ADMISSION};
    pol_t *p = pol_new(&var, &cfg);
    pol_intent_t bulk = intent(POL_CLASS_BULK, 1), crit = intent(POL_CLASS_STEP_CRITICAL, 1);
    pol_placement_t o;
    v.now_ns = 0;
    for (int i = 0; i < (int)cfg.admission_burst; i++) {
        pol_place(p, &v, &bulk, &o);
        assert_int_equal(o.admit, POL_ADMIT);
    }
    pol_place(p, &v, &bulk, &o);
    assert_int_equal(o.admit, POL_ADMIT_LATER);
    double gap = 1e9 / cfg.admission_rate_iops; /* 20 us at the defaults */
    assert_true(o.retry_ns > gap * 0.999 && o.retry_ns < gap * 1.001);
    pol_placement_t b = base(&v, &bulk);
    assert_int_equal(diff(&o, &b), F_ADMIT | F_RETRY);
    for (int i = 0; i < 100; i++) {
        pol_place(p, &v, &crit, &o);
        assert_int_equal(o.admit, POL_ADMIT);
    }
    v.now_ns = (uint64_t)gap + 1;
    pol_place(p, &v, &bulk, &o);
    assert_int_equal(o.admit, POL_ADMIT);
    pol_place(p, &v, &bulk, &o);
    assert_int_equal(o.admit, POL_ADMIT_LATER);
    pol_free(p);
}

/*
 * Adaptive mode on a synthetic feed: a step-critical completion every 10 us
 * and, while a bulk tenant runs in [100, 300) ms, a bulk completion every
 * 2 us (every 4 us in latency mode, which bounds bulk in flight). Critical
 * latency: 50 us alone; with the tenant 400 us in throughput mode and 120 us
 * in latency mode - below budget x (1 - hysteresis) = 140 us, so a p99-only
 * rule would return to throughput mode while the tenant still runs.
 * Window 5 ms, budget 200 us, 2 calm windows: latency mode at 105 ms (the
 * first window wholly after the onset; stated bound: 2 windows), back at
 * 310 ms (2 calm windows; stated bound: 3 windows), nothing in between.
 */
typedef struct {
    bool report_bulk;
    double tenant_lat_ns, latency_mode_lat_ns;
} feed_t;

static pol_t *run_feed(const feed_t *f, uint64_t end_ns)
{
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    assert_true(cfg.adaptive_window_ns == 5e6 && cfg.adaptive_budget_ns == 200e3);
    assert_int_equal(cfg.adaptive_calm_windows, 2);
    pol_variant_t var = {.affinity = POL_AFF_KERNEL, .mode = POL_MODE_ADAPTIVE};
    pol_t *p = pol_new(&var, &cfg);
    pol_view_t v = view();
    pol_intent_t crit = intent(POL_CLASS_STEP_CRITICAL, 1), bulk = intent(POL_CLASS_BULK, 2);
    for (uint64_t t = 2000; t <= end_ns; t += 2000) {
        v.now_ns = t;
        bool tenant = t >= 100000000 && t < 300000000;
        bool lat = pol_current_mode(p) == POL_MODE_LATENCY;
        if (tenant && f->report_bulk && (!lat || t % 4000 == 0))
            pol_complete(p, &v, &bulk, 1000000);
        if (t % 10000 == 0)
            pol_complete(p, &v, &crit,
                         (uint64_t)(tenant ? (lat ? f->latency_mode_lat_ns : f->tenant_lat_ns)
                                           : 50000));
    }
    return p;
}

static void test_adaptive_switch_times(void **st)
{
    (void)st;
    feed_t f = {.report_bulk = true, .tenant_lat_ns = 400e3, .latency_mode_lat_ns = 120e3};
    pol_t *p = run_feed(&f, 600000000);
    uint32_t n;
    const pol_switch_t *sw = pol_switches(p, &n);
    assert_int_equal(n, 2);
    assert_int_equal(sw[0].to, POL_MODE_LATENCY);
    assert_int_equal(sw[0].t_ns, 105000000);
    assert_true(sw[0].t_ns - 100000000 <= 2 * 5000000);
    assert_int_equal(sw[1].to, POL_MODE_THROUGHPUT);
    assert_int_equal(sw[1].t_ns, 310000000);
    assert_true(sw[1].t_ns - 300000000 <= 3 * 5000000);
    assert_int_equal(pol_current_mode(p), POL_MODE_THROUGHPUT);
    pol_free(p);

    /* fixed modes never switch */
    pol_config_t cfg;
    pol_config_defaults(&cfg);
    pol_variant_t var = {.mode = POL_MODE_LATENCY};
    p = pol_new(&var, &cfg);
    pol_view_t v = view();
    pol_intent_t crit = intent(POL_CLASS_STEP_CRITICAL, 1);
    for (int i = 0; i < 100000; i++) {
        v.now_ns = (uint64_t)i * 10000;
        pol_complete(p, &v, &crit, 1000);
    }
    pol_switches(p, &n);
    assert_int_equal(n, 0);
    assert_int_equal(pol_current_mode(p), POL_MODE_LATENCY);
    pol_free(p);
}

/* Without the background signal (the tenant's completions are not seen by
 * this policy), the p99 rule alone is fooled by latency mode; the doubling
 * of the calm windows after each premature return bounds the oscillation. */
static void test_adaptive_backoff_bounds_oscillation(void **st)
{
    (void)st;
    feed_t f = {.report_bulk = false, .tenant_lat_ns = 400e3, .latency_mode_lat_ns = 120e3};
    pol_t *p = run_feed(&f, 600000000);
    uint32_t n, during = 0;
    const pol_switch_t *sw = pol_switches(p, &n);
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            assert_int_not_equal(sw[i].to, sw[i - 1].to);
        during += sw[i].t_ns >= 100000000 && sw[i].t_ns < 300000000;
    }
    /* a p99-only rule with 2 calm windows would switch 2 x 200 / 15 ~ 26 times */
    assert_true(during >= 2 && during <= 10);
    assert_int_equal(pol_current_mode(p), POL_MODE_THROUGHPUT);
    assert_true(sw[n - 1].t_ns > 300000000);
    pol_free(p);
}

/* --- policies/ is plain C linked from one library --- */

static const char *const libc_headers[] = {
    "assert.h", "ctype.h", "errno.h", "float.h", "inttypes.h", "limits.h", "math.h",
    "stdbool.h", "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "string.h", NULL,
};

static bool in_list(const char *const *l, const char *s)
{
    for (; *l; l++)
        if (strcmp(*l, s) == 0)
            return true;
    return false;
}

/* Every #include under policies/ is a C standard header or a policies/ file. */
static void test_policies_include_only_libc(void **st)
{
    (void)st;
    const char *src = getenv("LATSURF_SRC");
    if (!src)
        src = LATSURF_SOURCE_DIR;
    char dir[4096], path[4352], line[512];
    snprintf(dir, sizeof(dir), "%s/policies", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || (strcmp(e->d_name + len - 2, ".c") && strcmp(e->d_name + len - 2, ".h")))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        files++;
        while (fgets(line, sizeof(line), f)) {
            char name[256];
            if (sscanf(line, " # include <%255[^>]>", name) == 1) {
                if (!in_list(libc_headers, name))
                    fail_msg("%s includes <%s>, not a C standard header", e->d_name, name);
            } else if (sscanf(line, " # include \"%255[^\"]\"", name) == 1) {
                char local[4608];
                snprintf(local, sizeof(local), "%s/%s", dir, name);
                FILE *h = strchr(name, '/') ? NULL : fopen(local, "r");
                if (!h)
                    fail_msg("%s includes \"%s\", which is not in policies/", e->d_name, name);
                else
                    fclose(h);
            }
        }
        fclose(f);
    }
    closedir(d);
    assert_true(files >= 10);
}

#define MAXSYM 8192
typedef struct {
    char name[MAXSYM][128];
    char type[MAXSYM];
    int n;
} syms_t;

/* nm's view of an archive: defined (T/D/B/R...) and undefined (U) globals. */
static int nm_archive(const char *lib, syms_t *s)
{
    char cmd[4200], line[512];
    snprintf(cmd, sizeof(cmd), "nm -g '%s' 2>/dev/null", lib);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    s->n = 0;
    while (fgets(line, sizeof(line), p) && s->n < MAXSYM) {
        char a[128], b[128], c[128];
        int k = sscanf(line, "%127s %127s %127s", a, b, c);
        if (k == 2 && strcmp(a, "U") == 0) {
            s->type[s->n] = 'U';
            snprintf(s->name[s->n++], 128, "%s", b);
        } else if (k == 3 && strlen(b) == 1) {
            s->type[s->n] = b[0];
            snprintf(s->name[s->n++], 128, "%s", c);
        }
    }
    return pclose(p) == 0 && s->n > 0 ? 0 : -1;
}

static char sym_type(const syms_t *s, const char *name, bool defined)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0 && (s->type[i] == 'U') != defined)
            return s->type[i];
    return 0;
}

static bool libc_symbol(const char *n)
{
    static const char *const ok[] = {"calloc", "free", "malloc", "realloc", "memcpy", "memmove",
                                     "memset", "memcmp", "qsort", "strcmp", "strlen", NULL};
    return in_list(ok, n) || strncmp(n, "__asan", 6) == 0 || strncmp(n, "__ubsan", 7) == 0 ||
           strncmp(n, "__sanitizer", 11) == 0 || strncmp(n, "__stack_chk", 11) == 0 ||
           strncmp(n, "_GLOBAL_", 8) == 0;
}

/* The simulator (models) and the live backend reference the policy symbols
 * and define none of them: both resolve to liblatsurf_policies.a, whose only
 * outside references are to libc. Placement is asked in one place, the
 * harness both executors run under (liblatsurf_run.a); the executors only
 * execute registrations. */
static void test_one_policy_library(void **st)
{
    (void)st;
    const char *bin = getenv("LATSURF_BIN");
    char why[256];
    tu_skip_unless(bin, "LATSURF_BIN is not set (run the test under ctest)");
    tu_skip_unless(tu_have_cmd("nm", why, sizeof(why)), "%s", why);
    char dir[4096], lib[4200];
    snprintf(dir, sizeof(dir), "%s", bin);
    char *bdir = dirname(dir);
    static syms_t pol, mod, live, run;
    snprintf(lib, sizeof(lib), "%s/liblatsurf_policies.a", bdir);
    if (nm_archive(lib, &pol) != 0)
        fail_msg("nm found no symbols in %s", lib);
    static const char *const api[] = {"pol_new", "pol_place", "pol_complete", "pol_switches",
                                      "pol_reg_new", "pol_reg_acquire", "pol_reg_release",
                                      "pol_reg_invalidate", NULL};
    for (const char *const *a = api; *a; a++)
        if (sym_type(&pol, *a, true) != 'T')
            fail_msg("%s is not defined in %s", *a, lib);
    for (int i = 0; i < pol.n; i++)
        if (pol.type[i] == 'U' && !sym_type(&pol, pol.name[i], true) &&
            !libc_symbol(pol.name[i]))
            fail_msg("the policies library needs %s from outside libc", pol.name[i]);

    snprintf(lib, sizeof(lib), "%s/liblatsurf_models.a", bdir);
    assert_int_equal(nm_archive(lib, &mod), 0);
    assert_int_equal(sym_type(&mod, "pol_place", false), 0);
    assert_int_equal(sym_type(&mod, "pol_reg_acquire", false), 'U');
    snprintf(lib, sizeof(lib), "%s/liblatsurf_live.a", bdir);
    assert_int_equal(nm_archive(lib, &live), 0);
    assert_int_equal(sym_type(&live, "pol_place", false), 0);
    assert_int_equal(sym_type(&live, "pol_reg_acquire", false), 'U');
    snprintf(lib, sizeof(lib), "%s/liblatsurf_run.a", bdir);
    assert_int_equal(nm_archive(lib, &run), 0);
    assert_int_equal(sym_type(&run, "pol_place", false), 'U');
    assert_int_equal(sym_type(&run, "pol_complete", false), 'U');
    for (int i = 0; i < pol.n; i++) {
        if (pol.type[i] == 'U')
            continue;
        if (sym_type(&mod, pol.name[i], true))
            fail_msg("models defines its own %s", pol.name[i]);
        if (sym_type(&live, pol.name[i], true))
            fail_msg("live defines its own %s", pol.name[i]);
        if (sym_type(&run, pol.name[i], true))
            fail_msg("run defines its own %s", pol.name[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_baseline),
        cmocka_unit_test(test_consumer_affinity),
        cmocka_unit_test(test_submitter_affinity),
        cmocka_unit_test(test_numa_affinity),
        cmocka_unit_test(test_latency_vs_throughput_mode),
        cmocka_unit_test(test_latency_mode_bounded_inflight),
        cmocka_unit_test(test_hint_deadline),
        cmocka_unit_test(test_hint_prefetch),
        cmocka_unit_test(test_hint_admission),
        cmocka_unit_test(test_adaptive_switch_times),
        cmocka_unit_test(test_adaptive_backoff_bounds_oscillation),
        cmocka_unit_test(test_policies_include_only_libc),
        cmocka_unit_test(test_one_policy_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
