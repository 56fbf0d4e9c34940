/*
 * ssd.h - the NVMe SSD: submission/completion queue pairs, command fetch and
 * arbitration (round robin or weighted round robin with urgent/high/medium/
 * low classes), FTL mapping with a DRAM map cache, channels x dies with read,
 * program and erase times and channel transfer, a write buffer, garbage
 * collection and optional program/erase suspend, and the PCIe/DMA transfer
 * of the data. It owns one `devices.N` section of a scenario; every default
 * and its source is in docs/models.md, section "SSD".
 *
 * The host path hands it a request with r->hwq set (the submission queue);
 * it sets r->t[T_DEVICE_DONE] when the CQE is written and calls the
 * completion hook given at creation. Interrupt delivery is not its business
 * (see irq.h): the device only writes CQEs; the coalescing and vector fields
 * of the configuration are parsed here because they are per-device keys.
 */
#ifndef LATSURF_SSD_H
#define LATSURF_SSD_H

#include "models/req.h"
#include "sim/cfg.h"
#include "sim/sim.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum { SSD_ARB_RR, SSD_ARB_WRR, SSD_NARBS } ssd_arb_t;
/* NVMe WRR classes (NVMe Base Spec 2.0, "Weighted Round Robin with Urgent
 * Priority Class" arbitration): urgent is strict priority. */
typedef enum { SSD_PRIO_URGENT, SSD_PRIO_HIGH, SSD_PRIO_MEDIUM, SSD_PRIO_LOW, SSD_NPRIO } ssd_prio_t;

typedef struct {
    /* queues */
    uint32_t queues;            /* I/O SQ/CQ pairs = MSI-X vectors */
    uint32_t queue_depth;       /* entries per SQ (and blk-mq tags per hw queue) */
    uint32_t poll_queues;       /* > 0: polled queues exist, so IOPOLL is possible */
    ssd_arb_t arbitration;
    uint32_t wrr_weight[SSD_NPRIO]; /* high, medium, low used */
    double ctrl_cmd_ns;         /* controller cost per command (fetch, decode) */
    uint32_t ctrl_cores;
    /* interrupt coalescing, NVMe Feature 08h (read by irq.c) */
    double coalesce_time_us;
    uint32_t coalesce_threshold;
    int32_t *irq_cpus;          /* [queues] vector -> CPU, or NULL for managed spread */
    uint32_t numa_node;
    /* flash */
    uint32_t channels, dies_per_channel, planes_per_die;
    double read_us, program_us, erase_us;
    bool read_exponential;      /* theory checks: exponential instead of fixed tR */
    bool read_calibrated;       /* tR so that QD1 4 KiB reads follow the host's
                                   calibrated device_read_4k_ns distribution */
    double channel_mbps;        /* per channel transfer rate, MB/s; 0 = free */
    uint32_t page_kib, pages_per_block;
    /* FTL */
    double map_cache_mib, map_hit_ns;
    /* write buffer */
    double write_buffer_mib;
    /* GC */
    bool gc_enabled;            /* false: free space is never exhausted */
    double gc_threshold;        /* start GC below this free fraction (per die) */
    double gc_valid_fraction;   /* valid pages moved per victim block */
    double op_fraction;         /* over-provisioning */
    double capacity_gib;
    bool suspend;               /* program/erase suspend for reads */
    double suspend_us;          /* cost of one suspend/resume, paid by the read */
    /* PCIe / DMA */
    double pcie_gbps;           /* GB/s (gigabytes); 0 = free */
    double iommu_ns;            /* per request mapping */
} ssd_cfg_t;

/* Parse one devices.N entry (the caller has pushed the path). 0, or
 * -EINVAL with the message in c (nothing to free then). */
int ssd_cfg_parse(cfg_t *c, json_t *dev, uint32_t host_cpus, ssd_cfg_t *out);
void ssd_cfg_fini(ssd_cfg_t *cfg);

typedef struct ssd ssd_t;
typedef void (*ssd_done_fn)(void *ctx, req_t *r);

/* name seeds the device's random streams (e.g. "dev0"). NULL on ENOMEM. */
ssd_t *ssd_new(sim_t *sim, const ssd_cfg_t *cfg, uint64_t seed, uint32_t rep, const char *name,
               ssd_done_fn done, void *ctx);
void ssd_free(ssd_t *s);

/* Submit r on SQ r->hwq (taken modulo queues) with the given arbitration
 * class; the class only matters under WRR. 0, or -ENOMEM (r not taken; the
 * run's sticky error is set, see sim_fail). */
int ssd_submit(ssd_t *s, req_t *r, ssd_prio_t prio);

/* With flash.read_dist "calibrated": draw(ctx) gives a QD1 4 KiB device
 * time; tR is that minus the device's own fixed costs of such a read. */
void ssd_set_read_sampler(ssd_t *s, double (*draw)(void *ctx), void *ctx);

/* Pause or resume background work (write-buffer flushes and GC) - the
 * deadline hint uses it. Operations already on a die finish. */
void ssd_hold_background(ssd_t *s, bool hold);

typedef struct {
    uint64_t reads, writes, map_misses, programs, gc_runs, gc_pages_moved, suspends, erases;
    uint64_t write_waits;       /* writes that found the write buffer full */
    double die_utilisation;     /* busy die-time / (dies x elapsed) since ssd_new */
    int error;                  /* sticky -ENOMEM from inside the model (also sim_fail), else 0 */
} ssd_stats_t;
void ssd_stats(const ssd_t *s, ssd_stats_t *out);

#endif
