/*
 * ssd.c - see ssd.h. The device is a small network of servers:
 *
 *   SQs --arbitration--> controller cores --FTL lookup--> die (tR) -> channel
 *       -> PCIe link -> CQE                              (reads)
 *   SQs --> cores --> write buffer (may wait) -> PCIe link -> CQE     (writes)
 *   buffer --background--> channel -> die (tPROG); GC: die reads, programs,
 *   an erase, all at background priority.
 *
 * Dies are hand-made servers (not res_t) because a read may suspend the
 * program or erase in service. Queues are growable rings, commands live in a
 * slot pool: once warm, nothing is allocated per request. Arbitration keeps,
 * per class, a FIFO of the SQs that hold commands, so RR and WRR are O(1);
 * without what_if.wrr every SQ is in class 0 (round robin, NVMe's mandatory
 * arbitration and the one Linux enables). Die and channel queues serve host
 * commands before background work (flushes, GC), FIFO within each - the
 * usual firmware choice (MQSim's transaction scheduler does the same). Only
 * what_if.die_priority lets an urgent command overtake other host commands
 * there: NVMe arbitration acts at fetch, and once fetched every command
 * waits its turn at the die.
 */
#include "models/ssd.h"

#include "sim/res.h"
#include "sim/rng.h"
#include "sim/slab.h"
#include "sim/vec.h"

#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSD_MAX_MAP_LINES (1u << 22) /* cached map pages: 32 MiB of tags */

/* ---------------------------------------------------------------- config */

static const char *const ssd_type_names[] = {"nvme", NULL};
static const char *const ssd_arb_names[] = {"rr", NULL}; /* what Linux enables */
enum { SSD_DIST_FIXED, SSD_DIST_EXPONENTIAL, SSD_DIST_CALIBRATED, SSD_NDISTS };
static const char *const ssd_dist_names[] = {"fixed", "exponential", "calibrated", NULL};
/* devices.N.service: "flash" models the inside (controller, dies, channels,
 * link); "calibrated" serves reads on the device's measured service curve
 * (calibrate/calqd.h: every read at once, a QD1 device-time draw scaled by
 * T(k) / T(1) with k reads inside), or, with a calibration that has no
 * curve, on its c parallel units (each a QD1 device-time draw); "batch"
 * serves them as the batch server the sweep saw where the device completed
 * its whole queue per interrupt (device_units.batch: a virtio-blk backend
 * that pops every request in its ring on a kick, serves them and signals
 * once; ssd_set_batch). */
enum { SSD_SERVICE_FLASH, SSD_SERVICE_CALIBRATED, SSD_SERVICE_BATCH };
static const char *const ssd_service_names[] = {"flash", "calibrated", "batch", NULL};
_Static_assert(sizeof(ssd_dist_names) / sizeof(ssd_dist_names[0]) == SSD_NDISTS + 1,
               "one name per read distribution, then NULL");

/* Read a sub-object (an empty one when absent, so defaults apply the same
 * way) with its key pushed on the path. */
static json_t *ssd_sub(cfg_t *c, json_t *obj, const char *key, size_t *mark)
{
    json_t *o = cfg_take(c, obj, key, JSON_OBJECT);
    *mark = cfg_push(c, key);
    return o ? o : json_object();
}

static void ssd_sub_end(cfg_t *c, json_t *o, size_t mark)
{
    cfg_done(c, o);
    cfg_pop(c, mark);
    json_decref(o);
}

static void ssd_fail_at(cfg_t *c, const char *key, const char *msg, double v)
{
    size_t m = cfg_push(c, key);
    cfg_fail(c, msg, v);
    cfg_pop(c, m);
}

/* Entry i of arr: an integer in [0, lim) (lim 0: no upper bound), or -1
 * after failing at arr.i with "expected <what> in [0, lim - 1]". */
static json_int_t ssd_array_index(cfg_t *c, json_t *arr, size_t i, uint32_t lim, const char *what)
{
    json_t *e = json_array_get(arr, i);
    size_t mi = cfg_push_idx(c, i);
    json_int_t v = json_is_integer(e) ? json_integer_value(e) : -1;
    if (v < 0 || (lim && v >= (json_int_t)lim)) {
        cfg_fail(c, "expected %s in [0, %u]", what, lim ? lim - 1 : 0);
        v = -1;
    }
    cfg_pop(c, mi);
    return v;
}

static void ssd_parse_irq_cpus(cfg_t *c, json_t *arr, uint32_t host_cpus, ssd_cfg_t *o)
{
    size_t m = cfg_push(c, "irq_cpus");
    size_t n = json_array_size(arr);
    if (n != o->queues) {
        cfg_fail(c, "expected %u entries (one CPU per queue), got %zu", o->queues, n);
    } else if (!(o->irq_cpus = calloc(n, sizeof(*o->irq_cpus)))) {
        cfg_fail(c, "out of memory");
    } else {
        for (size_t i = 0; i < n && cfg_ok(c); i++) {
            json_int_t v = ssd_array_index(c, arr, i, host_cpus, "a CPU number");
            if (v >= 0)
                o->irq_cpus[i] = (int32_t)v;
        }
    }
    cfg_pop(c, m);
}

/* Feature 09h, Coalescing Disable: the I/O queues whose vectors never wait. */
static void ssd_parse_coalesce_off(cfg_t *c, json_t *arr, ssd_cfg_t *o)
{
    size_t m = cfg_push(c, "disabled_queues");
    size_t n = json_array_size(arr);
    if (!(o->coalesce_off = calloc(o->queues, 1))) {
        cfg_fail(c, "out of memory");
    } else {
        for (size_t i = 0; i < n && cfg_ok(c); i++) {
            json_int_t v = ssd_array_index(c, arr, i, o->queues, "an I/O queue number");
            if (v >= 0)
                o->coalesce_off[v] = 1;
        }
    }
    cfg_pop(c, m);
}

/* The queue counts drivers/nvme/host/pci.c ends up with. nvme_setup_io_queues
 * asks for CPUs + write_queues + poll_queues I/O queues, the controller grants
 * at most max_queues; nvme_setup_irqs gives poll queues (no vector) at most
 * all but one of them, the rest have vectors; nvme_calc_irq_sets splits
 * those into the default set (writes, and reads when there is no read set)
 * and the read set. */
static void ssd_parse_queues(cfg_t *c, json_t *dev, uint32_t host_cpus, ssd_cfg_t *o)
{
    uint32_t cpus = host_cpus ? host_cpus : 1;
    /* typical figure: data-centre NVMe controllers grant 128 I/O queue pairs */
    cfg_u32(c, dev, "max_queues", &o->max_queues, 128, 1, 65535);
    /* module parameters nvme.write_queues and nvme.poll_queues: 0 by default */
    cfg_u32(c, dev, "write_queues", &o->write_queues, 0, 0, 65535);
    cfg_u32(c, dev, "poll_queues", &o->poll_queues, 0, 0, 4096);
    uint64_t want = (uint64_t)cpus + o->write_queues + o->poll_queues;
    uint32_t nio = want < o->max_queues ? (uint32_t)want : o->max_queues;
    uint32_t npoll = o->poll_queues < nio ? o->poll_queues : nio - 1;
    cfg_u32(c, dev, "queues", &o->queues, nio - npoll, 1, 65535);
    if (cfg_ok(c) && (uint64_t)o->queues + o->poll_queues > o->max_queues)
        ssd_fail_at(c, "queues",
                    "expected queues + poll_queues at most max_queues (%g), got more",
                    (double)o->max_queues);
    if (!o->write_queues || o->queues == 1)
        o->read_queues = 0;
    else if (o->write_queues >= o->queues)
        o->read_queues = 1;
    else
        o->read_queues = o->queues - o->write_queues;
}

/* devices.N.what_if: hypothetical device behaviour, every key off. */
static void ssd_parse_what_if(cfg_t *c, json_t *dev, ssd_cfg_t *o)
{
    size_t m, mw;
    json_t *w = ssd_sub(c, dev, "what_if", &m);
    ssd_what_if_t *x = &o->what_if;
    cfg_bool(c, w, "wrr", &x->wrr, false);
    json_t *sub = ssd_sub(c, w, "wrr_weights", &mw);
    /* NVMe Base Spec 2.0, Arbitration (Feature 01h): weights are 8-bit,
     * 0's based (1..256); no default is mandated - 4:2:1 is an assumption. */
    x->wrr_weight[SSD_PRIO_URGENT] = 0;
    cfg_u32(c, sub, "high", &x->wrr_weight[SSD_PRIO_HIGH], 4, 1, 256);
    cfg_u32(c, sub, "medium", &x->wrr_weight[SSD_PRIO_MEDIUM], 2, 1, 256);
    cfg_u32(c, sub, "low", &x->wrr_weight[SSD_PRIO_LOW], 1, 1, 256);
    ssd_sub_end(c, sub, mw);
    cfg_bool(c, w, "die_priority", &x->die_priority, false);
    cfg_bool(c, w, "coalescing_bypass", &x->coalescing_bypass, false);
    cfg_bool(c, w, "deadline_classes", &x->deadline_classes, false);
    ssd_sub_end(c, w, m);
}

static void ssd_what_if_add(char *buf, size_t len, const char *prefix, const char *key)
{
    size_t n = strlen(buf);
    if (n + 1 < len)
        snprintf(buf + n, len - n, "%s%s.what_if.%s", n ? ", " : "", prefix, key);
}

void ssd_cfg_what_if(const ssd_cfg_t *cfg, const char *prefix, char *buf, size_t len)
{
    const ssd_what_if_t *x = &cfg->what_if;
    if (x->wrr)
        ssd_what_if_add(buf, len, prefix, "wrr");
    if (x->die_priority)
        ssd_what_if_add(buf, len, prefix, "die_priority");
    if (x->coalescing_bypass)
        ssd_what_if_add(buf, len, prefix, "coalescing_bypass");
    if (x->deadline_classes)
        ssd_what_if_add(buf, len, prefix, "deadline_classes");
}

int ssd_cfg_parse(cfg_t *c, json_t *dev, uint32_t host_cpus, ssd_cfg_t *o)
{
    memset(o, 0, sizeof(*o));
    int type = 0, dist = 0, arb_rr = 0, service = 0;
    size_t m;
    json_t *sub;

    cfg_enum(c, dev, "type", &type, 0, ssd_type_names);
    ssd_parse_queues(c, dev, host_cpus, o);
    /* Linux drivers/nvme/host/pci.c: io_queue_depth module parameter = 1024. */
    cfg_u32(c, dev, "queue_depth", &o->queue_depth, 1024, 2, 65536);
    /* Round robin is the arbitration every controller has and the one Linux
     * enables (nvme_enable_ctrl: CC.AMS = 0); WRR is devices.N.what_if.wrr. */
    json_t *arb = json_object_get(dev, "arbitration");
    if (cfg_ok(c) && json_is_string(arb) && strcmp(json_string_value(arb), "wrr") == 0) {
        size_t ma = cfg_push(c, "arbitration");
        cfg_fail(c, "Linux always enables round robin (CC.AMS = 0); weighted round robin "
                    "is a what-if: set what_if.wrr instead");
        cfg_pop(c, ma);
    }
    cfg_enum(c, dev, "arbitration", &arb_rr, 0, ssd_arb_names);
    cfg_enum(c, dev, "service", &service, 0, ssd_service_names);
    o->service_calibrated = service != SSD_SERVICE_FLASH;
    o->service_batch = service == SSD_SERVICE_BATCH;
    if (cfg_ok(c) && json_object_get(dev, "wrr_weights")) {
        size_t mw = cfg_push(c, "wrr_weights");
        cfg_fail(c, "WRR is a what-if: set what_if.wrr_weights instead");
        cfg_pop(c, mw);
    }
    ssd_parse_what_if(c, dev, o);
    cfg_u32(c, dev, "numa_node", &o->numa_node, 0, 0, 1023);
    /* typical figure: 1 TiB class enterprise drive */
    cfg_f64(c, dev, "capacity_gib", &o->capacity_gib, 1024, 0.001, 1 << 20);
    /* MQSim (Tavakkol et al., FAST 2018) default ssdconfig.xml: Overprovisioning_Ratio 0.07 */
    cfg_f64(c, dev, "over_provisioning", &o->op_fraction, 0.07, 0, 4);
    /* MQSim default ssdconfig.xml: Data_Cache_Capacity 256 MiB */
    cfg_f64(c, dev, "write_buffer_mib", &o->write_buffer_mib, 256, 0, 1 << 20);

    sub = ssd_sub(c, dev, "irq_coalescing", &m);
    /* NVMe Base Spec 2.0, Interrupt Coalescing (Feature 08h), device-wide:
     * both 0 = off, which is how Linux leaves it (it never sets 08h). The
     * time field counts 100 us units in 8 bits; the threshold is 8 bits. */
    cfg_f64(c, sub, "time_us", &o->coalesce_time_us, 0, 0, 25500);
    if (cfg_ok(c) && fmod(o->coalesce_time_us, 100) != 0)
        ssd_fail_at(c, "time_us",
                    "expected a multiple of 100 (Feature 08h counts 100 us units), got %g",
                    o->coalesce_time_us);
    cfg_u32(c, sub, "threshold", &o->coalesce_threshold, 0, 0, 256);
    /* Feature 09h, per vector: Coalescing Disable (set by nvme-cli, never by Linux) */
    json_t *off = cfg_ok(c) ? cfg_take(c, sub, "disabled_queues", JSON_ARRAY) : NULL;
    if (off) {
        ssd_parse_coalesce_off(c, off, o);
        json_decref(off);
    }
    ssd_sub_end(c, sub, m);

    sub = ssd_sub(c, dev, "controller", &m);
    /* typical figures (assumption, no published source): firmware cost per
     * command on one of a few embedded cores; calibrate against a device. */
    cfg_f64(c, sub, "cmd_ns", &o->ctrl_cmd_ns, 1500, 0, 1e6);
    cfg_u32(c, sub, "cores", &o->ctrl_cores, 4, 1, 256);
    ssd_sub_end(c, sub, m);

    sub = ssd_sub(c, dev, "flash", &m);
    /* DESIGN.md contract; MQSim's default config also has 8 channels x 4 chips */
    cfg_u32(c, sub, "channels", &o->channels, 8, 1, 256);
    cfg_u32(c, sub, "dies_per_channel", &o->dies_per_channel, 4, 1, 256);
    /* MQSim default ssdconfig.xml: Plane_No_Per_Die 2 */
    cfg_u32(c, sub, "planes_per_die", &o->planes_per_die, 2, 1, 16);
    /* DESIGN.md contract: 60 / 600 us, typical figures for 3D TLC NAND
     * (MQSim's default MLC part: 75 / 750 us) */
    cfg_f64(c, sub, "read_us", &o->read_us, 60, 0.001, 1e5);
    cfg_f64(c, sub, "program_us", &o->program_us, 600, 0.001, 1e5);
    /* MQSim default ssdconfig.xml: Block_Erase_Latency 3.8 ms */
    cfg_f64(c, sub, "erase_us", &o->erase_us, 3800, 0.001, 1e6);
    cfg_enum(c, sub, "read_dist", &dist, SSD_DIST_FIXED, ssd_dist_names);
    o->read_exponential = dist == SSD_DIST_EXPONENTIAL;
    /* the calibrated service draws the same QD1 device time */
    o->read_calibrated = dist == SSD_DIST_CALIBRATED || o->service_calibrated;
    /* ONFI 4.0: NV-DDR3 at 800 MT/s on an 8-bit bus = 800 MB/s */
    cfg_f64(c, sub, "channel_mbps", &o->channel_mbps, 800, 0, 1e5);
    /* typical figure: 16 KiB pages in 3D TLC NAND (MQSim's MLC default: 8 KiB) */
    cfg_u32(c, sub, "page_kib", &o->page_kib, 16, 1, 256);
    if (cfg_ok(c) && (o->page_kib & (o->page_kib - 1)))
        ssd_fail_at(c, "page_kib", "expected a power of two, got %g", (double)o->page_kib);
    /* MQSim default ssdconfig.xml: Page_No_Per_Block 256 */
    cfg_u32(c, sub, "pages_per_block", &o->pages_per_block, 256, 1, 65536);
    ssd_sub_end(c, sub, m);

    sub = ssd_sub(c, dev, "ftl", &m);
    /* A page-level map holds 4 bytes per 4 KiB (1 MiB per GiB); by default
     * it all fits in DRAM (typical of DRAM-equipped drives). */
    cfg_f64(c, sub, "map_cache_mib", &o->map_cache_mib, o->capacity_gib, 0, 1 << 20);
    /* typical figure: one DRAM access of the controller */
    cfg_f64(c, sub, "map_hit_ns", &o->map_hit_ns, 100, 0, 1e6);
    ssd_sub_end(c, sub, m);

    sub = ssd_sub(c, dev, "gc", &m);
    cfg_bool(c, sub, "enabled", &o->gc_enabled, true);
    /* MQSim default ssdconfig.xml: GC_Exec_Threshold 0.05 */
    cfg_f64(c, sub, "threshold", &o->gc_threshold, 0.05, 0, 0.5);
    /* assumption: depends on the workload's overwrite pattern; calibrate */
    cfg_f64(c, sub, "valid_fraction", &o->gc_valid_fraction, 0.5, 0, 0.99);
    ssd_sub_end(c, sub, m);

    sub = ssd_sub(c, dev, "suspend", &m);
    /* Program/erase suspension: Wu and He, FAST 2012. Off by default; the
     * overhead is an assumption (typical figure), calibrate it. */
    cfg_bool(c, sub, "enabled", &o->suspend, false);
    cfg_f64(c, sub, "overhead_us", &o->suspend_us, 20, 0, 1e4);
    ssd_sub_end(c, sub, m);

    sub = ssd_sub(c, dev, "pcie", &m);
    /* PCIe Base Spec 4.0: 16 GT/s per lane, 128b/130b; x4 = 7.877 GB/s */
    cfg_f64(c, sub, "gbps", &o->pcie_gbps, 7.877, 0, 1000);
    /* 0: IOMMU off or passthrough; set from calibration when translating */
    cfg_f64(c, sub, "iommu_ns", &o->iommu_ns, 0, 0, 1e6);
    ssd_sub_end(c, sub, m);

    json_t *irq = cfg_take(c, dev, "irq_cpus", JSON_ARRAY);
    if (irq) {
        ssd_parse_irq_cpus(c, irq, host_cpus, o);
        json_decref(irq);
    }
    (void)type;
    (void)arb_rr;

    /* Cross-field checks: a flush unit (one page per plane) must fit in the
     * buffer, and each die must hold enough blocks for GC to make progress. */
    if (cfg_ok(c) && o->write_buffer_mib * 1024 < (double)o->page_kib * o->planes_per_die)
        ssd_fail_at(c, "write_buffer_mib", "expected at least one page per plane, got %g",
                    o->write_buffer_mib);
    /* A map cache smaller than the whole map keeps one tag per cached map
     * page: bound it, since the tags are allocated and filled per run. */
    if (cfg_ok(c)) {
        double page_b = o->page_kib * 1024.0;
        double lines = floor(o->map_cache_mib * 1048576.0 / page_b);
        double map_pages = ceil(o->capacity_gib * 1073741824.0 / page_b / 1024);
        if (lines < map_pages && lines > SSD_MAX_MAP_LINES)
            ssd_fail_at(c, "ftl.map_cache_mib",
                        "expected the whole map or at most 2^22 map pages cached, got %g MiB",
                        o->map_cache_mib);
    }
    if (cfg_ok(c) && o->gc_enabled) {
        double page_b = o->page_kib * 1024.0;
        double die_pages = o->capacity_gib * (1 + o->op_fraction) * 1073741824.0 / page_b /
                           (o->channels * o->dies_per_channel);
        double reserve = o->pages_per_block * o->gc_valid_fraction + o->planes_per_die;
        if (die_pages * o->op_fraction / (1 + o->op_fraction) < 2 * reserve ||
            die_pages * o->gc_threshold < 2 * reserve)
            ssd_fail_at(c, "capacity_gib",
                        "too small for GC: each die needs spare and threshold space for two "
                        "victim blocks (capacity %g GiB)",
                        o->capacity_gib);
    }
    cfg_done(c, dev);
    if (!cfg_ok(c)) {
        ssd_cfg_fini(o);
        return -EINVAL;
    }
    return 0;
}

void ssd_cfg_fini(ssd_cfg_t *cfg)
{
    free(cfg->irq_cpus);
    free(cfg->coalesce_off);
    cfg->irq_cpus = NULL;
    cfg->coalesce_off = NULL;
}

/* ------------------------------------------------------------------ rings */

typedef struct {
    uint64_t a, b;
} ssd_item_t;

typedef struct {
    ssd_item_t *v;
    uint32_t head, n, cap; /* cap is a power of two */
} ssd_ring_t;

static int ring_push(ssd_ring_t *q, uint64_t a, uint64_t b)
{
    if (q->n == q->cap && VEC_RING_GROW(q->v, q->cap, q->head, q->n) != 0)
        return -ENOMEM;
    q->v[(q->head + q->n) & (q->cap - 1)] = (ssd_item_t){a, b};
    q->n++;
    return 0;
}

static ssd_item_t ring_pop(ssd_ring_t *q)
{
    ssd_item_t it = q->v[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->n--;
    return it;
}

/* ------------------------------------------------------------------ state */

enum { CLS_URGENT, CLS_HOST, CLS_BG, NCLS }; /* die and channel queue classes */

/* die operations; the kind rides in the top byte of a queued item */
enum { OP_READ, OP_MAPREAD, OP_PROGRAM, OP_GC_READ, OP_GC_PROG, OP_GC_ERASE };
/* channel transfers */
enum { X_READ, X_MAP, X_FLUSH };

#define KIND_SHIFT 56
#define ARG_MASK ((1ull << KIND_SHIFT) - 1)
#define CHUNK_BITS 24 /* arg of a read chunk: slot << CHUNK_BITS | chunk */

typedef struct {
    ssd_ring_t q[NCLS];
    sim_timer_t timer;
    sim_time_t start, end, susp_left;
    uint64_t cur_arg, susp_arg;
    uint8_t busy, cur_kind, susp_kind, suspended;
    uint8_t flushing, gc_active, gc_paused;
    uint32_t gc_step, gc_written;
    uint32_t chan;                 /* the channel the die is on */
    int64_t free_pages;
    double busy_ns;
} ssd_die_t;

typedef struct {
    req_t *r;
    uint32_t nchunks, pending; /* flash pages touched, still on flash */
    uint32_t next_free;
    uint8_t cls;
} ssd_cmd_t;

struct ssd {
    sim_t *sim;
    ssd_cfg_t cfg;
    ssd_done_fn done;
    void *ctx;
    gsl_rng *rng;
    int error;
    bool hold;
    sim_time_t t0;
    /* controller */
    ssd_ring_t *sq;                /* [nsq * SSD_NPRIO] of slots */
    uint32_t nsq;                  /* SQs: queues + poll_queues */
    ssd_ring_t active[SSD_NPRIO];  /* SQ rings holding commands, RR order */
    uint8_t *in_active;
    uint64_t sq_pending;
    uint32_t cores_idle;
    int wrr_cls;
    uint32_t wrr_left;
    /* commands */
    ssd_cmd_t *cmd;
    slab_t cmds;                   /* cmd[] is a slab of command slots */
    /* FTL: a direct-mapped cache of map pages */
    uint64_t *map_tag;
    uint64_t map_lines;
    bool map_all;                  /* the whole map fits: every lookup hits */
    /* flash */
    ssd_die_t *die;
    uint32_t ndies;
    bool ndies_pow2;               /* page % ndies is a mask */
    uint32_t *die_at;              /* [ndies]: the die of stripe position i */
    res_t **chan;
    double chan_ns_per_byte, pcie_ns_per_byte;
    double (*read_extra)(void *ctx, const req_t *r); /* ssd_set_read_extra, else NULL */
    void *extra_ctx;
    sim_time_t t_read, t_prog, t_erase, t_susp, t_iommu;
    double (*read_draw)(void *ctx, const req_t *r, uint32_t n); /* read_dist "calibrated" */
    void *read_ctx;
    double read_rest_ns;            /* fixed device costs of a QD1 4 KiB read */
    res_t *units;                   /* service "calibrated": the parallel units, else NULL */
    svcurve_t curve;                /* service "calibrated" with a curve (n > 0): used instead */
    uint32_t in_service;            /* reads inside under the curve */
    svcurve_t batch;                /* service "batch": the batch knots (n > 0): used instead */
    ssd_ring_t bnext, bin;          /* reads waiting for the next batch; the batch in service */
    bool bbusy;                     /* a batch is starting or in service */
    uint64_t page_bytes, unit_bytes;
    unsigned page_shift;
    int64_t gc_trigger, flush_reserve;
    uint32_t gc_k, gc_progs;
    /* write buffer */
    uint64_t buf_cap, buf_used, buf_dirty;
    ssd_ring_t wait;
    uint32_t flush_rr;
    /* PCIe, one server per direction */
    res_t *link[2];
    ssd_stats_t st;
};

static sim_time_t ns_of(double ns) { return (sim_time_t)(ns + 0.5); } /* ns >= 0 */

/* Out of memory inside the model: the command or flash operation at hand is
 * lost, so the run fails (the engine's sticky error) rather than go on short. */
static int ssd_oom(ssd_t *s)
{
    s->error = -ENOMEM;
    return sim_fail(s->sim, -ENOMEM, "ssd: out of memory queueing a command or flash operation");
}

/* --------------------------------------------------------------- helpers */

/* The stripe order is a table (ssd_new) and a power-of-two die count a
 * mask: the three divisions per flash chunk this took were a visible stall
 * on a read's path. */
static uint32_t die_of_page(const ssd_t *s, uint64_t page)
{
    uint64_t i = s->ndies_pow2 ? page & (s->ndies - 1) : page % s->ndies;
    return s->die_at[i];
}

static uint32_t chan_of_die(const ssd_t *s, uint32_t d) { return s->die[d].chan; }

static uint32_t nchunks(const ssd_t *s, const req_t *r)
{
    if (r->bytes == 0)
        return 0;
    return (uint32_t)(((r->offset + r->bytes - 1) >> s->page_shift) - (r->offset >> s->page_shift) +
                      1);
}

/* page number and bytes of chunk i of r */
static uint64_t chunk_page(const ssd_t *s, const req_t *r, uint32_t i, uint64_t *bytes)
{
    uint64_t p = (r->offset >> s->page_shift) + i;
    uint64_t lo = p * s->page_bytes, hi = lo + s->page_bytes, end = r->offset + r->bytes;
    *bytes = (hi < end ? hi : end) - (lo > r->offset ? lo : r->offset);
    return p;
}

/* A flash read's time: for a calibrated device, draw n of request r (NULL:
 * background work, from the device's own stream); n tells a command's
 * chunks, and each chunk's map read, apart (models/costs.h). */
static sim_time_t read_time(ssd_t *s, const req_t *r, uint32_t n)
{
    if (s->read_draw) {
        double t = s->read_draw(s->read_ctx, r, n) - s->read_rest_ns;
        return t > 0 ? ns_of(t) : 0;
    }
    if (!s->rng)
        return s->t_read;
    return ns_of(gsl_ran_exponential(s->rng, (double)s->t_read));
}

/* ------------------------------------------------------------------- dies */

static void die_done(sim_t *sim, void *ctx, uint64_t d);

static void die_start(ssd_t *s, uint32_t d, unsigned kind, uint64_t arg, sim_time_t service)
{
    ssd_die_t *die = &s->die[d];
    die->busy = 1;
    die->cur_kind = (uint8_t)kind;
    die->cur_arg = arg;
    die->start = sim_now(s->sim);
    die->end = die->start + service;
    die->timer = sim_at(s->sim, die->end, die_done, s, d);
}

static bool is_program_or_erase(unsigned kind)
{
    return kind == OP_PROGRAM || kind == OP_GC_PROG || kind == OP_GC_ERASE;
}

static void die_submit(ssd_t *s, uint32_t d, unsigned cls, unsigned kind, sim_time_t service,
                       uint64_t arg)
{
    ssd_die_t *die = &s->die[d];
    if (!die->busy) {
        die_start(s, d, kind, arg, service);
        return;
    }
    /* A host read pre-empts a program or erase (one level: a resumed one
     * can be suspended again, but never two at once). */
    if (s->cfg.suspend && cls != CLS_BG && !die->suspended &&
        is_program_or_erase(die->cur_kind)) {
        sim_time_t now = sim_now(s->sim);
        sim_cancel(s->sim, die->timer);
        die->busy_ns += (double)(now - die->start);
        die->suspended = 1;
        die->susp_kind = die->cur_kind;
        die->susp_arg = die->cur_arg;
        die->susp_left = die->end - now;
        s->st.suspends++;
        die_start(s, d, kind, arg, service + s->t_susp);
        return;
    }
    if (ring_push(&die->q[cls], (uint64_t)kind << KIND_SHIFT | arg, service))
        ssd_oom(s);
}

static void die_next(ssd_t *s, uint32_t d)
{
    ssd_die_t *die = &s->die[d];
    for (unsigned c = 0; c < NCLS; c++) {
        if (c == CLS_BG && die->suspended) {
            die->suspended = 0;
            die_start(s, d, die->susp_kind, die->susp_arg, die->susp_left);
            return;
        }
        if (die->q[c].n) {
            ssd_item_t it = ring_pop(&die->q[c]);
            die_start(s, d, (unsigned)(it.a >> KIND_SHIFT), it.a & ARG_MASK, it.b);
            return;
        }
    }
}

/* ---------------------------------------------------------- the pipeline */

static void flush_kick(ssd_t *s);
static void gc_check(ssd_t *s, uint32_t d);
static void gc_next(ssd_t *s, uint32_t d);

static void cmd_complete(ssd_t *s, uint32_t slot)
{
    ssd_cmd_t *c = &s->cmd[slot];
    req_t *r = c->r;
    c->r = NULL;
    SLAB_PUT(s->cmds, s->cmd, next_free, slot);
    r->t[T_DEVICE_DONE] = sim_now(s->sim);
    s->done(s->ctx, r);
}

static void dma_done(sim_t *sim, void *ctx, uint64_t slot)
{
    (void)sim;
    ssd_t *s = ctx;
    req_t *r = s->cmd[slot].r;
    if (r->op == REQ_WRITE) {
        s->buf_dirty += r->bytes;
        flush_kick(s);
    }
    cmd_complete(s, (uint32_t)slot);
}

static void dma_go(sim_t *sim, void *ctx, uint64_t slot)
{
    ssd_t *s = ctx;
    req_t *r = s->cmd[slot].r;
    sim_time_t t = ns_of(r->bytes * s->pcie_ns_per_byte);
    if (t == 0)
        dma_done(sim, s, slot);
    else if (res_submit(s->link[r->op == REQ_WRITE], 0, t, dma_done, s, slot))
        ssd_oom(s);
}

static void dma_start(ssd_t *s, uint32_t slot)
{
    if (s->t_iommu)
        sim_after(s->sim, s->t_iommu, dma_go, s, slot);
    else
        dma_go(s->sim, s, slot);
}

static void chunk_done(ssd_t *s, uint32_t slot)
{
    if (--s->cmd[slot].pending == 0)
        dma_start(s, slot);
}

static void chan_done(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)sim;
    ssd_t *s = ctx;
    uint64_t a = arg & ARG_MASK;
    switch (arg >> KIND_SHIFT) {
    case X_READ:
        chunk_done(s, (uint32_t)(a >> CHUNK_BITS));
        break;
    case X_MAP: {
        /* the map page is in DRAM: read the data itself */
        uint32_t slot = (uint32_t)(a >> CHUNK_BITS), chunk = (uint32_t)(a & ((1u << CHUNK_BITS) - 1));
        ssd_cmd_t *c = &s->cmd[slot];
        uint64_t bytes, p = chunk_page(s, c->r, chunk, &bytes);
        die_submit(s, die_of_page(s, p), c->cls, OP_READ, read_time(s, c->r, 2 * chunk), a);
        break;
    }
    case X_FLUSH:
        die_submit(s, (uint32_t)a, CLS_BG, OP_PROGRAM, s->t_prog, a);
        break;
    }
}

static void chan_xfer(ssd_t *s, uint32_t ch, unsigned cls, uint64_t bytes, unsigned kind,
                      uint64_t arg)
{
    uint64_t tagged = (uint64_t)kind << KIND_SHIFT | arg;
    sim_time_t t = ns_of((double)bytes * s->chan_ns_per_byte);
    if (t == 0)
        chan_done(s->sim, s, tagged);
    else if (res_submit(s->chan[ch], cls, t, chan_done, s, tagged))
        ssd_oom(s);
}

/* --------------------------------------------------- write buffer, flush */

static void buffer_admit(ssd_t *s)
{
    while (s->wait.n) {
        uint32_t slot = (uint32_t)s->wait.v[s->wait.head].a;
        uint64_t b = s->cmd[slot].r->bytes;
        /* a write larger than the whole buffer goes in when it is empty */
        if (s->buf_used && s->buf_used + b > s->buf_cap)
            return;
        ring_pop(&s->wait);
        s->buf_used += b;
        dma_start(s, slot);
    }
}

static void flush_kick(ssd_t *s)
{
    while (!s->hold && s->buf_dirty >= s->unit_bytes) {
        uint32_t d = s->ndies;
        for (uint32_t i = 0; i < s->ndies; i++) {
            uint32_t c = (s->flush_rr + i) % s->ndies;
            ssd_die_t *die = &s->die[c];
            if (!die->flushing && (!s->cfg.gc_enabled || die->free_pages >= s->flush_reserve)) {
                d = c;
                break;
            }
        }
        if (d == s->ndies)
            return; /* every die is programming or waiting for GC */
        s->flush_rr = (d + 1) % s->ndies;
        s->buf_dirty -= s->unit_bytes;
        s->die[d].flushing = 1;
        chan_xfer(s, chan_of_die(s, d), CLS_BG, s->unit_bytes, X_FLUSH, d);
    }
}

static void flush_done(ssd_t *s, uint32_t d)
{
    ssd_die_t *die = &s->die[d];
    die->flushing = 0;
    if (s->cfg.gc_enabled)
        die->free_pages -= s->cfg.planes_per_die;
    s->st.programs++;
    s->buf_used -= s->unit_bytes;
    buffer_admit(s);
    gc_check(s, d);
    flush_kick(s);
}

/* -------------------------------------------------------------------- GC */

/* GC of one victim block on a die: its valid pages are read and programmed
 * on the same die (copyback, no channel transfer), then the block is erased.
 * Each step is a separate background operation, so host reads slip in
 * between steps (and into them, with suspend). */
static void gc_check(ssd_t *s, uint32_t d)
{
    ssd_die_t *die = &s->die[d];
    if (!s->cfg.gc_enabled || s->hold || die->gc_active || die->free_pages >= s->gc_trigger)
        return;
    die->gc_active = 1;
    die->gc_step = 0;
    die->gc_written = 0;
    gc_next(s, d);
}

static void gc_next(ssd_t *s, uint32_t d)
{
    ssd_die_t *die = &s->die[d];
    if (s->hold) {
        die->gc_paused = 1;
        return;
    }
    uint32_t step = die->gc_step++;
    if (step < s->gc_k)
        die_submit(s, d, CLS_BG, OP_GC_READ, read_time(s, NULL, 0), d);
    else if (step < s->gc_k + s->gc_progs)
        die_submit(s, d, CLS_BG, OP_GC_PROG, s->t_prog, d);
    else
        die_submit(s, d, CLS_BG, OP_GC_ERASE, s->t_erase, d);
}

static void gc_step_done(ssd_t *s, uint32_t d, unsigned kind)
{
    ssd_die_t *die = &s->die[d];
    if (kind == OP_GC_PROG) {
        uint32_t n = s->gc_k - die->gc_written;
        if (n > s->cfg.planes_per_die)
            n = s->cfg.planes_per_die;
        die->gc_written += n;
        die->free_pages -= n;
        s->st.programs++;
    } else if (kind == OP_GC_ERASE) {
        die->free_pages += s->cfg.pages_per_block;
        die->gc_active = 0;
        s->st.gc_runs++;
        s->st.erases++;
        s->st.gc_pages_moved += s->gc_k;
        gc_check(s, d);
        flush_kick(s);
        return;
    }
    gc_next(s, d);
}

static void die_done(sim_t *sim, void *ctx, uint64_t d64)
{
    (void)sim;
    ssd_t *s = ctx;
    uint32_t d = (uint32_t)d64;
    ssd_die_t *die = &s->die[d];
    unsigned kind = die->cur_kind;
    uint64_t arg = die->cur_arg;
    die->busy_ns += (double)(die->end - die->start);
    die->busy = 0;
    die_next(s, d);
    switch (kind) {
    case OP_READ: {
        ssd_cmd_t *c = &s->cmd[arg >> CHUNK_BITS];
        uint64_t bytes;
        chunk_page(s, c->r, (uint32_t)(arg & ((1u << CHUNK_BITS) - 1)), &bytes);
        chan_xfer(s, chan_of_die(s, d), c->cls, bytes, X_READ, arg);
        break;
    }
    case OP_MAPREAD:
        chan_xfer(s, chan_of_die(s, d), s->cmd[arg >> CHUNK_BITS].cls, s->page_bytes, X_MAP,
                  arg);
        break;
    case OP_PROGRAM:
        flush_done(s, d);
        break;
    default:
        gc_step_done(s, d, kind);
        break;
    }
}

/* ------------------------------------------------- controller, arbitration */

static void cmd_complete(ssd_t *s, uint32_t slot);

static void unit_done(sim_t *sim, void *ctx, uint64_t slot)
{
    (void)sim;
    cmd_complete(ctx, (uint32_t)slot);
}

static void curve_done(sim_t *sim, void *ctx, uint64_t slot)
{
    (void)sim;
    ssd_t *s = ctx;
    s->in_service--;
    cmd_complete(s, (uint32_t)slot);
}

static void batch_done(sim_t *sim, void *ctx, uint64_t arg);

/* A calibrated read's time for its bytes beyond the 4 KiB its QD1 draw
 * covers: the calibration's draw (ssd_set_read_extra), else the link rate. */
static double beyond_4k(const ssd_t *s, const req_t *r)
{
    if (r->bytes <= 4096)
        return 0;
    return s->read_extra ? s->read_extra(s->extra_ctx, r)
                         : (double)(r->bytes - 4096) * s->pcie_ns_per_byte;
}

/* A batch: every read waiting is taken at once and served together, in a
 * QD1 device-time draw (of the batch's first read) scaled by T(n) / T(1) of
 * the batch curve; bytes beyond 4 KiB as for the curve. */
static void batch_start(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    ssd_t *s = ctx;
    ssd_ring_t t = s->bin; /* empty: swap the rings */
    s->bin = s->bnext;
    s->bnext = t;
    uint32_t n = s->bin.n;
    const req_t *first = s->cmd[s->bin.v[s->bin.head].a].r;
    double ns = s->read_draw ? s->read_draw(s->read_ctx, first, 0) : (double)s->t_read;
    if (n > 1)
        ns *= svcurve_ns(&s->batch, n) / s->batch.ns[0];
    for (uint32_t i = 0; i < n; i++)
        ns += beyond_4k(s, s->cmd[s->bin.v[(s->bin.head + i) & (s->bin.cap - 1)].a].r);
    sim_after(sim, ns_of(ns), batch_done, s, 0); /* failure: sticky error */
}

/* The batch's reads complete together (one signal to the host); reads
 * that came meanwhile make the next batch at once. */
static void batch_done(sim_t *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    ssd_t *s = ctx;
    while (s->bin.n)
        cmd_complete(s, (uint32_t)ring_pop(&s->bin).a);
    if (s->bnext.n)
        batch_start(sim, s, 0);
    else
        s->bbusy = false;
}

static void chunk_on_flash(ssd_t *s, uint32_t slot, uint32_t chunk)
{
    ssd_cmd_t *c = &s->cmd[slot];
    uint64_t bytes, p = chunk_page(s, c->r, chunk, &bytes);
    uint64_t arg = (uint64_t)slot << CHUNK_BITS | chunk;
    /* a map page holds page_bytes / 4 entries of 4 KiB: 1024 flash pages */
    uint64_t mp = p >> 10;
    if (s->map_all || (s->map_lines && s->map_tag[mp % s->map_lines] == mp)) {
        die_submit(s, die_of_page(s, p), c->cls, OP_READ, read_time(s, c->r, 2 * chunk), arg);
        return;
    }
    /* miss: read the map page from the die that holds it first */
    s->st.map_misses++;
    if (s->map_lines)
        s->map_tag[mp % s->map_lines] = mp;
    die_submit(s, die_of_page(s, mp), c->cls, OP_MAPREAD, read_time(s, c->r, 2 * chunk + 1), arg);
}

static void cmd_fetched(ssd_t *s, uint32_t slot)
{
    ssd_cmd_t *c = &s->cmd[slot];
    req_t *r = c->r;
    uint32_t n = c->nchunks;
    if (r->op == REQ_WRITE) {
        s->st.writes++;
        if (ring_push(&s->wait, slot, 0)) {
            ssd_oom(s);
            return;
        }
        if (s->wait.n > 1 || (s->buf_used && s->buf_used + r->bytes > s->buf_cap))
            s->st.write_waits++;
        buffer_admit(s);
        return;
    }
    s->st.reads++;
    if (s->batch.n) {
        /* the reads one call adds arrive at one instant: the batch starts
         * after them (a zero-delay event runs after those already due) */
        if (ring_push(&s->bnext, slot, 0)) {
            ssd_oom(s);
            return;
        }
        if (!s->bbusy) {
            s->bbusy = true;
            sim_after(s->sim, 0, batch_start, s, 0); /* failure: sticky error */
        }
        return;
    }
    if (s->units || s->curve.n) {
        /* a QD1 device-time draw (block_rq_issue -> interrupt: fetch, flash
         * and transfer of 4 KiB included); bytes beyond 4 KiB at the
         * calibrated per-KiB time, else at the link rate */
        double t = s->read_draw ? s->read_draw(s->read_ctx, r, 0) : (double)s->t_read;
        if (s->curve.n) {
            /* served at once, slowed by the k reads now inside (itself
             * included): the QD1 shape, scaled to the curve's mean at k */
            s->in_service++;
            if (s->in_service > 1)
                t *= svcurve_ns(&s->curve, s->in_service) / s->curve.ns[0];
        }
        t += beyond_4k(s, r);
        if (s->curve.n)
            sim_after(s->sim, ns_of(t), curve_done, s, slot); /* failure: sticky error */
        else if (res_submit(s->units, 0, ns_of(t), unit_done, s, slot))
            ssd_oom(s);
        return;
    }
    if (n == 0) {
        dma_start(s, slot);
        return;
    }
    c->pending = n;
    for (uint32_t i = 0; i < n; i++)
        chunk_on_flash(s, slot, i);
}

static void ctrl_kick(ssd_t *s);

static void core_done(sim_t *sim, void *ctx, uint64_t slot)
{
    (void)sim;
    ssd_t *s = ctx;
    s->cores_idle++;
    cmd_fetched(s, (uint32_t)slot);
    ctrl_kick(s);
}

/* Take one command from the SQ at the head of class p's active list. */
static uint32_t arb_take(ssd_t *s, unsigned p)
{
    ssd_ring_t *act = &s->active[p];
    uint32_t q = (uint32_t)ring_pop(act).a;
    ssd_ring_t *sq = &s->sq[q];
    uint32_t slot = (uint32_t)ring_pop(sq).a;
    if (sq->n)
        ring_push(act, q, 0); /* cannot fail: the SQ's entry was just popped */
    else
        s->in_active[q] = 0;
    s->sq_pending--;
    return slot;
}

static uint32_t arb_pick(ssd_t *s)
{
    if (!s->cfg.what_if.wrr || s->active[SSD_PRIO_URGENT].n)
        return arb_take(s, SSD_PRIO_URGENT); /* RR keeps every SQ in class 0 */
    /* NVMe WRR: up to weight commands from high, then medium, then low */
    for (;;) {
        if (s->wrr_left && s->active[s->wrr_cls].n) {
            s->wrr_left--;
            return arb_take(s, (unsigned)s->wrr_cls);
        }
        s->wrr_cls = s->wrr_cls == SSD_PRIO_LOW ? SSD_PRIO_HIGH : s->wrr_cls + 1;
        s->wrr_left = s->cfg.what_if.wrr_weight[s->wrr_cls];
    }
}

static sim_time_t cmd_cost(const ssd_t *s, uint32_t slot)
{
    if ((s->units || s->curve.n || s->batch.n) && s->cmd[slot].r->op != REQ_WRITE)
        return 0; /* inside the measured device time */
    uint32_t n = s->cmd[slot].nchunks;
    return ns_of(s->cfg.ctrl_cmd_ns + (n ? n : 1) * s->cfg.map_hit_ns);
}

static void ctrl_kick(ssd_t *s)
{
    while (s->cores_idle && s->sq_pending) {
        uint32_t slot = arb_pick(s);
        sim_time_t t = cmd_cost(s, slot);
        if (t == 0) {
            cmd_fetched(s, slot);
            continue;
        }
        s->cores_idle--;
        sim_after(s->sim, t, core_done, s, slot);
    }
}

int ssd_submit(ssd_t *s, req_t *r, ssd_prio_t prio)
{
    uint32_t slot = SLAB_GET(s->cmds, s->cmd, next_free);
    if (slot == SLAB_NIL)
        return ssd_oom(s);
    /* one SQ per hardware queue; per class only under the WRR what-if */
    unsigned p = s->cfg.what_if.wrr && prio < SSD_NPRIO ? (unsigned)prio : SSD_PRIO_URGENT;
    /* (the division only when it changes something: one per command was a
     * visible stall) */
    uint32_t q = (r->hwq < s->nsq ? r->hwq : r->hwq % s->nsq) * SSD_NPRIO + p;
    if (ring_push(&s->sq[q], slot, 0))
        goto nomem;
    if (!s->in_active[q]) {
        if (ring_push(&s->active[p], q, 0)) {
            s->sq[q].n--;
            goto nomem;
        }
        s->in_active[q] = 1;
    }
    bool overtake = s->cfg.what_if.die_priority && prio == SSD_PRIO_URGENT;
    s->cmd[slot] = (ssd_cmd_t){.r = r, .nchunks = nchunks(s, r),
                               .cls = overtake ? CLS_URGENT : CLS_HOST};
    s->sq_pending++;
    ctrl_kick(s);
    return 0;
nomem:
    SLAB_PUT(s->cmds, s->cmd, next_free, slot);
    return ssd_oom(s);
}

/* ------------------------------------------------------------- lifecycle */

ssd_t *ssd_new(sim_t *sim, const ssd_cfg_t *cfg, uint64_t seed, uint32_t rep, const char *name,
               ssd_done_fn done, void *ctx)
{
    ssd_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->sim = sim;
    s->cfg = *cfg;
    s->cfg.irq_cpus = NULL; /* not ours; irq.c reads the caller's copy */
    s->cfg.coalesce_off = NULL;
    s->nsq = cfg->queues + cfg->poll_queues;
    s->done = done;
    s->ctx = ctx;
    s->t0 = sim_now(sim);
    s->cores_idle = cfg->ctrl_cores;
    s->cmds = slab_make(SLAB_MAX);
    s->wrr_cls = SSD_PRIO_HIGH;
    s->wrr_left = cfg->what_if.wrr_weight[SSD_PRIO_HIGH];
    s->ndies = cfg->channels * cfg->dies_per_channel;
    s->page_bytes = (uint64_t)cfg->page_kib * 1024;
    while ((1ull << s->page_shift) < s->page_bytes)
        s->page_shift++;
    s->unit_bytes = s->page_bytes * cfg->planes_per_die;
    s->chan_ns_per_byte = cfg->channel_mbps > 0 ? 1000.0 / cfg->channel_mbps : 0;
    s->pcie_ns_per_byte = cfg->pcie_gbps > 0 ? 1.0 / cfg->pcie_gbps : 0;
    s->t_read = ns_of(cfg->read_us * 1000);
    s->t_prog = ns_of(cfg->program_us * 1000);
    s->t_erase = ns_of(cfg->erase_us * 1000);
    s->t_susp = ns_of(cfg->suspend_us * 1000);
    s->t_iommu = ns_of(cfg->iommu_ns);
    s->read_rest_ns = cfg->ctrl_cmd_ns + cfg->map_hit_ns + 4096 * s->chan_ns_per_byte +
                      4096 * s->pcie_ns_per_byte + cfg->iommu_ns;
    s->buf_cap = (uint64_t)(cfg->write_buffer_mib * 1048576.0);

    /* map entries are 4 bytes per 4 KiB logical page; a map page is a flash page */
    s->map_lines = (uint64_t)(cfg->map_cache_mib * 1048576.0) / s->page_bytes;
    double cap_pages = cfg->capacity_gib * 1073741824.0 / (double)s->page_bytes;
    uint64_t map_pages = (uint64_t)ceil(cap_pages / 1024);
    if (s->map_lines >= map_pages) {
        s->map_all = true;
        s->map_lines = 0;
    }

    /* space: the drive starts full of valid data (preconditioned), so the
     * free pages of each die are its over-provisioned share */
    int64_t die_pages = (int64_t)(cap_pages * (1 + cfg->op_fraction) / s->ndies);
    int64_t user_pages = (int64_t)(cap_pages / s->ndies);
    s->gc_k = (uint32_t)lround(cfg->gc_valid_fraction * cfg->pages_per_block);
    s->gc_progs = (s->gc_k + cfg->planes_per_die - 1) / cfg->planes_per_die;
    s->gc_trigger = (int64_t)(cfg->gc_threshold * (double)die_pages);
    s->flush_reserve = (int64_t)s->gc_k + cfg->planes_per_die;

    s->sq = calloc((size_t)s->nsq * SSD_NPRIO, sizeof(*s->sq));
    s->in_active = calloc((size_t)s->nsq * SSD_NPRIO, 1);
    s->die = calloc(s->ndies, sizeof(*s->die));
    s->die_at = calloc(s->ndies, sizeof(*s->die_at));
    s->chan = calloc(cfg->channels, sizeof(*s->chan));
    s->map_tag = malloc((s->map_lines ? s->map_lines : 1) * sizeof(*s->map_tag));
    s->link[0] = res_new(sim, 1, 1);
    s->link[1] = res_new(sim, 1, 1);
    if (cfg->read_exponential) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s.flash", name ? name : "ssd");
        s->rng = rng_stream_new(seed, rep, buf);
    }
    if (!s->sq || !s->in_active || !s->die || !s->die_at || !s->chan || !s->map_tag ||
        !s->link[0] || !s->link[1] || (cfg->read_exponential && !s->rng)) {
        ssd_free(s);
        return NULL;
    }
    for (uint32_t c = 0; c < cfg->channels; c++)
        if (!(s->chan[c] = res_new(sim, 1, NCLS))) {
            ssd_free(s);
            return NULL;
        }
    /* warm cache: line i holds map page i (all of them when the map fits) */
    for (uint64_t i = 0; i < s->map_lines; i++)
        s->map_tag[i] = i;
    for (uint32_t d = 0; d < s->ndies; d++) {
        s->die[d].free_pages = die_pages - user_pages;
        s->die[d].chan = d / cfg->dies_per_channel;
    }
    /* stripe channel first, then die within the channel (MQSim's CWDP
     * order): page p's die is die_at[p % CD], as (p / C) % D == (p % CD) / C */
    for (uint32_t i = 0; i < s->ndies; i++)
        s->die_at[i] = (i % cfg->channels) * cfg->dies_per_channel + i / cfg->channels;
    s->ndies_pow2 = (s->ndies & (s->ndies - 1)) == 0;
    return s;
}

void ssd_free(ssd_t *s)
{
    if (!s)
        return;
    if (s->sq)
        for (size_t i = 0; i < (size_t)s->nsq * SSD_NPRIO; i++)
            free(s->sq[i].v);
    for (unsigned p = 0; p < SSD_NPRIO; p++)
        free(s->active[p].v);
    if (s->die)
        for (uint32_t d = 0; d < s->ndies; d++)
            for (unsigned c = 0; c < NCLS; c++)
                free(s->die[d].q[c].v);
    if (s->chan)
        for (uint32_t c = 0; c < s->cfg.channels; c++)
            res_free(s->chan[c]);
    res_free(s->link[0]);
    res_free(s->link[1]);
    res_free(s->units);
    free(s->wait.v);
    free(s->bnext.v);
    free(s->bin.v);
    free(s->sq);
    free(s->in_active);
    free(s->die);
    free(s->die_at);
    free(s->chan);
    free(s->map_tag);
    free(s->cmd);
    if (s->rng)
        gsl_rng_free(s->rng);
    free(s);
}

void ssd_hold_background(ssd_t *s, bool hold)
{
    if (s->hold == hold)
        return;
    s->hold = hold;
    if (hold)
        return;
    for (uint32_t d = 0; d < s->ndies; d++) {
        if (s->die[d].gc_paused) {
            s->die[d].gc_paused = 0;
            gc_next(s, d);
        } else {
            gc_check(s, d);
        }
    }
    flush_kick(s);
}

void ssd_stats(const ssd_t *s, ssd_stats_t *out)
{
    *out = s->st;
    sim_time_t now = sim_now(s->sim);
    double busy = 0;
    for (uint32_t d = 0; d < s->ndies; d++) {
        const ssd_die_t *die = &s->die[d];
        busy += die->busy_ns + (die->busy ? (double)(now - die->start) : 0);
    }
    double span = (double)(now - s->t0) * s->ndies;
    out->die_utilisation = span > 0 ? busy / span : 0;
    out->error = s->error;
}

/* The calibrated service's one model, once: a no-op when not calibrated or
 * once the units, the curve or the batch knots are set. */
static bool service_set(const ssd_t *s)
{
    return !s->cfg.service_calibrated || s->units || s->curve.n || s->batch.n;
}

static int set_knots(ssd_t *s, const svcurve_t *c, svcurve_t *into)
{
    if (service_set(s))
        return 0;
    if (svcurve_check(c))
        return -EINVAL;
    *into = *c;
    return 0;
}

int ssd_set_curve(ssd_t *s, const svcurve_t *c) { return set_knots(s, c, &s->curve); }

int ssd_set_batch(ssd_t *s, const svcurve_t *c) { return set_knots(s, c, &s->batch); }

void ssd_set_read_extra(ssd_t *s, double (*extra)(void *ctx, const req_t *r), void *ctx)
{
    s->read_extra = extra;
    s->extra_ctx = ctx;
}

int ssd_kick_wanted(const ssd_t *s) { return s->batch.n ? !s->bbusy : -1; }

int ssd_set_units(ssd_t *s, uint32_t units)
{
    if (service_set(s))
        return 0;
    s->units = res_new(s->sim, units ? units : 1, 1);
    return s->units ? 0 : -ENOMEM;
}

void ssd_set_read_sampler(ssd_t *s, double (*draw)(void *ctx, const req_t *r, uint32_t n),
                          void *ctx)
{
    s->read_draw = draw;
    s->read_ctx = ctx;
}
