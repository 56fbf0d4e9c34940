/*
 * host.h - the host's shape: CPUs, NUMA nodes, last-level cache domains, and
 * the kernel settings of the I/O path that are not per device (rq_affinity,
 * I/O scheduler, io_uring set-up, background load), plus `host.what_if`:
 * host behaviour that is an assumption, not a measurement (off by default).
 * It owns the scenario's `host` section.
 */
#ifndef LATSURF_HOST_H
#define LATSURF_HOST_H

#include "sim/cfg.h"

struct cont_cfg;

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_MAX_CPUS 1024

/* DEFAULT: what Linux picks per device (elevator_get_default): none for a
 * multi-queue device, mq-deadline for a single hardware queue. */
typedef enum { HOST_SCHED_NONE, HOST_SCHED_MQ_DEADLINE, HOST_SCHED_DEFAULT, HOST_NSCHEDS } host_iosched_t;

typedef struct {
    uint32_t cpu;
    double period_us, busy_us; /* busy_us of CPU time every period_us: a fair thread */
    int nice;
    bool reads_cpu_clock;      /* counts its busy time with CLOCK_THREAD_CPUTIME_ID (bench_hog) */
} host_background_t;

typedef struct {
    uint32_t cpus, numa_nodes;
    uint32_t llc_domains;       /* CPUs sharing a last-level cache (cpus_share_cache) */
    char *calibration;          /* path, NULL = built-in defaults */
    uint32_t rq_affinity;       /* 0, 1, 2: Documentation/block/queue-sysfs.rst */
    host_iosched_t iosched;
    bool sqpoll;                /* io_uring rings use IORING_SETUP_SQPOLL */
    int32_t sqpoll_cpu;         /* sq_thread_cpu */
    double sqpoll_idle_us;      /* sq_thread_idle */
    uint32_t ksoftirqd_after;   /* restarts of a softirq pass that defer to ksoftirqd */
    int taskrun;                /* -1: as the policy says, else pol_taskrun_t forced */
    int wait;                   /* -1: as the policy says, else pol_wait_t forced */
    host_background_t *background;
    uint32_t nbackground;
    /* The scheduler (models/cpu.h); 0 / -1: the calibration's value */
    uint32_t kernel;            /* major * 100 + minor, from "6.18" */
    uint32_t hz;
    int preempt;                /* cpu_preempt_t, -1: calibrated */
    bool hrtick;
    double working_set_kib;     /* a consumer thread's cache footprint (migration) */
    struct cont_cfg *cont;      /* host.gpu / host.rdma, owned (models/cont.h) */
    /* host.what_if: a completion on the consumer's CPU leaves the data warm
     * in its cache, so the first touch costs mem_warm_factor of a cold one
     * (an assumption until calibrated) */
    bool what_if_warm_cache;
    /* host.vm_freeze "calibrated": the VM host's CPU quota stops every CPU
     * as the calibration measured it (models/vmfreeze.h); false: never */
    bool vm_freeze;
    /* host.traced: the workload runs under `latsurf trace record`, so each
     * request pays the tracepoints' CPU on its consumer's submit call and
     * a recorder thread drains the events (calibrated: calibrate/caltrace.h;
     * models/path.c); false: untraced */
    bool traced;
} host_cfg_t;

int host_cfg_parse(cfg_t *c, json_t *host, host_cfg_t *out); /* host may be NULL */
void host_cfg_fini(host_cfg_t *h);

/* Append the what-if keys h enables ("host.what_if.warm_cache",
 * "host.gpu.direct" and "host.traced"), comma separated, to buf (which holds a string). */
void host_cfg_what_if(const host_cfg_t *h, char *buf, size_t len);

static inline uint32_t host_node_of(const host_cfg_t *h, uint32_t cpu)
{
    return (uint32_t)((uint64_t)cpu * h->numa_nodes / h->cpus);
}

/* The kernel's cpus_share_cache(): same last-level cache domain. */
static inline bool host_share_cache(const host_cfg_t *h, uint32_t a, uint32_t b)
{
    return (uint64_t)a * h->llc_domains / h->cpus == (uint64_t)b * h->llc_domains / h->cpus;
}

#endif
