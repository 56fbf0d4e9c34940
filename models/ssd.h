/*
 * ssd.h - the NVMe SSD: submission/completion queue pairs (one SQ per
 * hardware queue, as Linux creates them, in the queue sets of the nvme
 * driver: default, read, poll), command fetch with round-robin arbitration
 * (NVMe's mandatory scheme, the one Linux enables), FTL mapping with a DRAM
 * map cache, channels x dies with read, program and erase times and channel
 * transfer, a write buffer, garbage collection and optional program/erase
 * suspend, and the PCIe/DMA transfer of the data. It owns one `devices.N`
 * section of a scenario; every default and its source is in docs/models.md,
 * section "SSD".
 *
 * Mechanisms no Linux host can ask a device for live under `devices.N.what_if`
 * (ssd_what_if_t), off by default: WRR arbitration with per-class SQs, the
 * command class ordering die and channel queues, a per-request interrupt
 * coalescing bypass, deadline classes that hold background work.
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
#include "sim/svcurve.h"

#include <stdbool.h>
#include <stdint.h>

/* NVMe WRR classes (NVMe Base Spec 2.0, "Weighted Round Robin with Urgent
 * Priority Class" arbitration): urgent is strict priority. The host's
 * request class maps to them only under what_if.wrr / die_priority. */
typedef enum { SSD_PRIO_URGENT, SSD_PRIO_HIGH, SSD_PRIO_MEDIUM, SSD_PRIO_LOW, SSD_NPRIO } ssd_prio_t;

/* Hypothetical device behaviour (`devices.N.what_if`), all off by default:
 * no Linux host can ask an NVMe device for any of it (docs/models.md). */
typedef struct {
    bool wrr;                   /* per-class SQs per hardware queue, WRR at fetch */
    uint32_t wrr_weight[SSD_NPRIO]; /* high, medium, low used */
    bool die_priority;          /* urgent commands overtake host commands at a die/channel */
    bool coalescing_bypass;     /* a request may fire its vector at once (irq.c) */
    bool deadline_classes;      /* the device holds background work for deadline commands */
} ssd_what_if_t;

typedef struct {
    /* queues, as drivers/nvme/host/pci.c sets them up */
    uint32_t max_queues;        /* I/O queue pairs the controller grants (Feature 07h) */
    uint32_t queues;            /* interrupt-driven I/O SQ/CQ pairs = MSI-X vectors */
    uint32_t write_queues;      /* nvme.write_queues: queues of the default (write) set */
    uint32_t read_queues;       /* derived: the read set (HCTX_TYPE_READ), 0 = none */
    uint32_t poll_queues;       /* nvme.poll_queues: queues without a vector (IOPOLL) */
    uint32_t queue_depth;       /* entries per SQ (and blk-mq tags per hw queue) */
    double ctrl_cmd_ns;         /* controller cost per command (fetch, decode) */
    uint32_t ctrl_cores;
    /* interrupt coalescing, NVMe Feature 08h, and per-vector Coalescing
     * Disable, Feature 09h (read by irq.c) */
    double coalesce_time_us;
    uint32_t coalesce_threshold;
    uint8_t *coalesce_off;      /* [queues] 1: the vector's CD bit is set; NULL: none */
    int32_t *irq_cpus;          /* [queues] vector -> CPU, or NULL for managed spread */
    ssd_what_if_t what_if;
    uint32_t numa_node;
    /* flash */
    uint32_t channels, dies_per_channel, planes_per_die;
    double read_us, program_us, erase_us;
    bool read_exponential;      /* theory checks: exponential instead of fixed tR */
    bool read_calibrated;       /* tR so that QD1 4 KiB reads follow the host's
                                   calibrated device_read_4k_ns distribution */
    bool service_calibrated;    /* devices.N.service "calibrated": reads on the
                                   ssd_set_curve service curve, else on
                                   ssd_set_units parallel units (implies
                                   read_calibrated); writes keep the flash path */
    bool service_batch;         /* devices.N.service "batch": service_calibrated,
                                   reads on ssd_set_batch batches */
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

/* Append the what-if keys cfg enables, as scenario paths under `prefix`
 * ("devices.0"), comma separated, to buf (which holds a string). */
void ssd_cfg_what_if(const ssd_cfg_t *cfg, const char *prefix, char *buf, size_t len);

typedef struct ssd ssd_t;
typedef void (*ssd_done_fn)(void *ctx, req_t *r);

/* name seeds the device's random streams (e.g. "dev0"). NULL on ENOMEM. */
ssd_t *ssd_new(sim_t *sim, const ssd_cfg_t *cfg, uint64_t seed, uint32_t rep, const char *name,
               ssd_done_fn done, void *ctx);
void ssd_free(ssd_t *s);

/* Submit r on SQ r->hwq (taken modulo queues + poll_queues) with the given
 * class; the class only matters under what_if.wrr (the SQ of that class)
 * and what_if.die_priority (urgent overtakes at the die). 0, or -ENOMEM (r
 * not taken; the run's sticky error is set, see sim_fail). */
int ssd_submit(ssd_t *s, req_t *r, ssd_prio_t prio);

/* With flash.read_dist "calibrated": draw(ctx, r, n) gives a QD1 4 KiB device
 * time for host read r (NULL: a read of the device's own, e.g. GC), n
 * telling its flash reads apart (chunks, map reads); tR is that minus the
 * device's own fixed costs of such a read. */
void ssd_set_read_sampler(ssd_t *s, double (*draw)(void *ctx, const req_t *r, uint32_t n),
                          void *ctx);

/* With devices.N.service "calibrated": reads bypass controller, flash and
 * link and are all served at once, each for a draw of the read sampler
 * scaled by svcurve_ns(c, k) / c->ns[0], k the reads inside when it starts
 * (itself included), plus bytes beyond 4 KiB at the PCIe rate. A no-op
 * otherwise, or once the curve or units are set. 0 or -EINVAL (c fails
 * svcurve_check). */
int ssd_set_curve(ssd_t *s, const svcurve_t *c);

/* The same as a batch server (a calibration's device_units.batch): reads
 * wait for the device to be free, then every read waiting is served at
 * once and all complete together, in a QD1 device-time draw scaled by
 * T(n) / T(1) of c for a batch of n (plus bytes beyond 4 KiB at the PCIe
 * rate). Used instead of the curve and the units. 0, or -EINVAL for a bad
 * curve; a no-op when not calibrated or once one of them is set. */
int ssd_set_batch(ssd_t *s, const svcurve_t *c);

/* Calibrated reads ("calibrated", "batch"): extra(ctx, r) is r's time for
 * its bytes beyond 4 KiB (a calibration's device_read_ns_per_kib draw),
 * instead of the PCIe link's time, which nobody measured. */
void ssd_set_read_extra(ssd_t *s, double (*extra)(void *ctx, const req_t *r), void *ctx);

/* A batch device (ssd_set_batch): 1 while it is idle (it wants a kick for
 * a new read: virtio notifications on), 0 while a batch is starting or in
 * service (it re-reads its queue when the batch ends). -1 otherwise. */
int ssd_kick_wanted(const ssd_t *s);

/* The same without a curve: reads hold one of `units` identical units
 * (FIFO) for a draw of the read sampler (plus bytes beyond 4 KiB at the
 * PCIe rate). A no-op otherwise, or once the curve or units are set.
 * 0 or -ENOMEM. */
int ssd_set_units(ssd_t *s, uint32_t units);

/* Pause or resume background work (write-buffer flushes and GC) - the
 * deadline hint uses it under what_if.deadline_classes. Operations already
 * on a die finish. */
void ssd_hold_background(ssd_t *s, bool hold);

typedef struct {
    uint64_t reads, writes, map_misses, programs, gc_runs, gc_pages_moved, suspends, erases;
    uint64_t write_waits;       /* writes that found the write buffer full */
    double die_utilisation;     /* busy die-time / (dies x elapsed) since ssd_new */
    int error;                  /* sticky -ENOMEM from inside the model (also sim_fail), else 0 */
} ssd_stats_t;
void ssd_stats(const ssd_t *s, ssd_stats_t *out);

#endif
