/*
 * host.c - parsing the `host` section (see host.h and docs/scenario.md).
 */
#include "host.h"

#include "models/cont.h"
#include "models/cpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const iosched_names[] = {"none", "mq-deadline", "default", NULL};
/* "policy" first: index - 1 is the pol_taskrun_t / pol_wait_t to force */
static const char *const taskrun_names[] = {"policy", "default", "coop", "defer", NULL};
static const char *const wait_names[] = {"policy", "interrupt", "poll", "hybrid", NULL};
/* "calibrated" first: index - 1 is the cpu_preempt_t */
static const char *const preempt_names[] = {"calibrated", "none", "voluntary", "full", NULL};
static const char *const vm_freeze_names[] = {"off", "calibrated", NULL};
#define HOST_NELEM(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(HOST_NELEM(iosched_names) == HOST_NSCHEDS + 1, "one name per scheduler, then NULL");
_Static_assert(HOST_NELEM(taskrun_names) == POL_NTASKRUNS + 2, "policy, one per mode, NULL");
_Static_assert(HOST_NELEM(wait_names) == POL_NWAITS + 2, "policy, one per wait, NULL");
_Static_assert(HOST_NELEM(preempt_names) == CPU_NPREEMPT + 2, "calibrated, one per model, NULL");

/* "6.18" -> 618; 0 when absent (the calibration's kernel). */
static void host_parse_kernel(cfg_t *c, json_t *host, uint32_t *out)
{
    char *v = NULL;
    *out = 0;
    if (!cfg_str(c, host, "kernel", &v, NULL) || !v)
        return;
    unsigned major = 0, minor = 0;
    char tail = 0;
    size_t m = cfg_push(c, "kernel");
    if (sscanf(v, "%u.%u%c", &major, &minor, &tail) != 2 || major < 2 || major > 99 || minor > 99)
        cfg_fail(c, "expected a kernel version \"MAJOR.MINOR\" (e.g. \"6.18\"), got \"%s\"", v);
    else
        *out = major * 100 + minor;
    cfg_pop(c, m);
    free(v);
}

static int host_parse_background(cfg_t *c, json_t *arr, host_cfg_t *h)
{
    size_t n = json_array_size(arr);
    if (n > h->cpus * 4u)
        return cfg_fail(c, "expected at most %u background tasks", h->cpus * 4u), -EINVAL;
    h->background = calloc(n ? n : 1, sizeof(*h->background));
    if (!h->background)
        return -ENOMEM;
    for (size_t i = 0; i < n && cfg_ok(c); i++) {
        size_t m = cfg_push_idx(c, i);
        json_t *e = json_array_get(arr, i);
        if (cfg_expect(c, e, JSON_OBJECT)) {
            host_background_t *b = &h->background[h->nbackground++];
            cfg_u32(c, e, "cpu", &b->cpu, 0, 0, h->cpus - 1);
            cfg_f64(c, e, "period_us", &b->period_us, 1000, 1, 1e7);
            cfg_f64(c, e, "busy_us", &b->busy_us, 100, 0, 1e7);
            int64_t nice;
            cfg_i64(c, e, "nice", &nice, 0, -20, 19);
            b->nice = (int)nice;
            cfg_bool(c, e, "reads_cpu_clock", &b->reads_cpu_clock, false);
            if (cfg_ok(c) && b->busy_us > b->period_us)
                cfg_fail(c, "busy_us (%g) exceeds period_us (%g)", b->busy_us, b->period_us);
            cfg_done(c, e);
        }
        cfg_pop(c, m);
    }
    return cfg_ok(c) ? 0 : -EINVAL;
}

int host_cfg_parse(cfg_t *c, json_t *host, host_cfg_t *h)
{
    memset(h, 0, sizeof(*h));
    int iosched = HOST_SCHED_DEFAULT;
    int64_t sqpoll_cpu;
    cfg_u32(c, host, "cpus", &h->cpus, 16, 1, HOST_MAX_CPUS);
    cfg_u32(c, host, "numa_nodes", &h->numa_nodes, 1, 1, 64);
    /* one last-level cache per node unless said otherwise (e.g. AMD CCXs) */
    cfg_u32(c, host, "llc_domains", &h->llc_domains, h->numa_nodes, 1, HOST_MAX_CPUS);
    cfg_str(c, host, "calibration", &h->calibration, NULL);
    cfg_u32(c, host, "rq_affinity", &h->rq_affinity, 1, 0, 2);
    cfg_enum(c, host, "io_scheduler", &iosched, HOST_SCHED_DEFAULT, iosched_names);
    cfg_bool(c, host, "sqpoll", &h->sqpoll, false);
    cfg_i64(c, host, "sqpoll_cpu", &sqpoll_cpu, -1, -1, HOST_MAX_CPUS - 1);
    cfg_f64(c, host, "sqpoll_idle_us", &h->sqpoll_idle_us, 1000, 0, 1e7);
    /* MAX_SOFTIRQ_RESTART in kernel/softirq.c */
    cfg_u32(c, host, "ksoftirqd_after", &h->ksoftirqd_after, 10, 1, 1u << 20);
    cfg_enum(c, host, "taskrun", &h->taskrun, 0, taskrun_names);
    cfg_enum(c, host, "wait", &h->wait, 0, wait_names);
    h->taskrun--;
    h->wait--;
    host_parse_kernel(c, host, &h->kernel);
    cfg_u32(c, host, "hz", &h->hz, 0, 0, 10000);
    cfg_enum(c, host, "preempt", &h->preempt, 0, preempt_names);
    h->preempt--;
    cfg_bool(c, host, "hrtick", &h->hrtick, false);
    /* assumption: a consumer's hot state is about an L2 (256 KiB) */
    cfg_f64(c, host, "consumer_working_set_kib", &h->working_set_kib, 256, 0, 1 << 30);
    if (cfg_ok(c) && h->hz && h->hz < 10) {
        size_t m = cfg_push(c, "hz");
        cfg_fail(c, "expected 0 (calibrated) or a CONFIG_HZ of at least 10, got %u", h->hz);
        cfg_pop(c, m);
    }
    h->iosched = (host_iosched_t)iosched;
    cfg_bool(c, host, "traced", &h->traced, false);
    if (cfg_ok(c) && h->traced && !h->calibration) {
        size_t m = cfg_push(c, "traced");
        cfg_fail(c, "true needs host.calibration (a calibration with trace_syscall_ns, "
                    "measured where tracefs was usable)");
        cfg_pop(c, m);
    }
    int vmf = 0;
    cfg_enum(c, host, "vm_freeze", &vmf, 0, vm_freeze_names);
    h->vm_freeze = vmf == 1;
    if (cfg_ok(c) && h->vm_freeze && !h->calibration) {
        size_t m = cfg_push(c, "vm_freeze");
        cfg_fail(c, "\"calibrated\" needs host.calibration (a calibration whose "
                    "device_units.vm_freeze has a model)");
        cfg_pop(c, m);
    }
    if (cfg_ok(c) && h->numa_nodes > h->cpus) {
        size_t m = cfg_push(c, "numa_nodes");
        cfg_fail(c, "expected at most one node per CPU (cpus is %u), got %u", h->cpus,
                 h->numa_nodes);
        cfg_pop(c, m);
    }
    if (cfg_ok(c) && (h->llc_domains > h->cpus || h->llc_domains % h->numa_nodes)) {
        size_t m = cfg_push(c, "llc_domains");
        cfg_fail(c, "expected a multiple of numa_nodes (%u) and at most cpus (%u), got %u",
                 h->numa_nodes, h->cpus, h->llc_domains);
        cfg_pop(c, m);
    }
    if (cfg_ok(c) && sqpoll_cpu >= (int64_t)h->cpus) {
        size_t m = cfg_push(c, "sqpoll_cpu");
        cfg_fail(c, "expected a CPU below %u, got %lld", h->cpus, (long long)sqpoll_cpu);
        cfg_pop(c, m);
    }
    h->sqpoll_cpu = sqpoll_cpu < 0 ? (int32_t)h->cpus - 1 : (int32_t)sqpoll_cpu;
    json_t *bg = cfg_take(c, host, "background", JSON_ARRAY);
    if (bg) {
        size_t m = cfg_push(c, "background");
        host_parse_background(c, bg, h);
        cfg_pop(c, m);
        json_decref(bg);
    }
    json_t *wi = cfg_take(c, host, "what_if", JSON_OBJECT);
    if (wi) {
        size_t m = cfg_push(c, "what_if");
        cfg_bool(c, wi, "warm_cache", &h->what_if_warm_cache, false);
        cfg_done(c, wi);
        cfg_pop(c, m);
        json_decref(wi);
    }
    json_t *gpu = cfg_take(c, host, "gpu", JSON_OBJECT);
    json_t *rdma = cfg_take(c, host, "rdma", JSON_OBJECT);
    if (cfg_ok(c))
        cont_cfg_parse(c, gpu, rdma, &h->cont);
    json_decref(gpu);
    json_decref(rdma);
    cfg_done(c, host);
    return cfg_ok(c) ? 0 : -EINVAL;
}

void host_cfg_what_if(const host_cfg_t *h, char *buf, size_t len)
{
    const char *key[3] = {h->what_if_warm_cache ? "host.what_if.warm_cache" : NULL,
                          h->cont && cont_cfg_direct(h->cont) ? "host.gpu.direct" : NULL,
                          h->traced ? "host.traced" : NULL};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(buf);
        if (key[i] && n + 1 < len)
            snprintf(buf + n, len - n, "%s%s", n ? ", " : "", key[i]);
    }
}

void host_cfg_fini(host_cfg_t *h)
{
    free(h->calibration);
    free(h->background);
    cont_cfg_free(h->cont);
    memset(h, 0, sizeof(*h));
}
