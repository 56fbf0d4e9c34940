/*
 * checkpoint.c - model load, checkpoint restore (mode read) or checkpoint
 * save (mode write): large sequential I/Os over one file at a deep queue,
 * in a closed loop. No random draws: the stream is the file, in order.
 *
 * Scenario keys (workload entry, docs/workloads.md):
 *   mode           "read" (load / restore) or "write" (save)   ("read")
 *   bytes          I/O size                                    (1048576)
 *   queue_depth    I/Os kept in flight                         (32)
 *   file_bytes     size of the checkpoint file                 (4 GiB)
 *   offset_bytes   where the file starts on the device         (0)
 *   passes         passes over the file, 0 = until the run ends (0)
 *   class          pol_class name                              ("bulk")
 *   consumer_cpu   CPU the loader thread runs on               (0)
 *   gpu            copy each chunk to this GPU, -1 = none      (-1)
 *   start_ms, stop_ms  active window                           (whole run)
 *
 * The last I/O of a pass is shorter when file_bytes is not a multiple of
 * bytes. req->tag is the I/O's position in the stream (0-based).
 */
#include "gen.h"

#include "policies/policy.h"

#include <errno.h>
#include <stdlib.h>

typedef struct {
    int mode, cls;
    uint32_t bytes, qd, passes;
    int64_t file, base, consumer_cpu, gpu;
    double start_ms, stop_ms;
} ckpt_params_t;

typedef struct {
    ckpt_params_t p;
    gen_loop_t loop;
    uint64_t pos;   /* next offset within the file */
    uint32_t pass;
} ckpt_t;

static int ckpt_parse(cfg_t *c, json_t *e, void **out)
{
    ckpt_params_t *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    cfg_enum(c, e, "mode", &p->mode, REQ_READ, req_op_names); /* req_op_t */
    cfg_u32(c, e, "bytes", &p->bytes, 1u << 20, 4096, 1u << 30);
    cfg_u32(c, e, "queue_depth", &p->qd, 32, 1, 65536);
    cfg_i64(c, e, "file_bytes", &p->file, 4LL << 30, 4096, 1LL << 50);
    cfg_i64(c, e, "offset_bytes", &p->base, 0, 0, 1LL << 50);
    cfg_u32(c, e, "passes", &p->passes, 0, 0, 1u << 30);
    cfg_enum(c, e, "class", &p->cls, POL_CLASS_BULK, pol_class_names);
    cfg_i64(c, e, "consumer_cpu", &p->consumer_cpu, 0, 0, 4095);
    cfg_i64(c, e, "gpu", &p->gpu, -1, -1, 255);
    gen_window_parse(c, e, &p->start_ms, &p->stop_ms);
    if (!cfg_ok(c)) {
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

static bool ckpt_fill(void *ctx, req_t *r)
{
    ckpt_t *w = ctx;
    uint64_t file = (uint64_t)w->p.file;
    if (w->pos >= file) {
        w->pos = 0;
        if (w->p.passes && ++w->pass >= w->p.passes)
            return false;
    }
    uint64_t left = file - w->pos;
    r->offset = (uint64_t)w->p.base + w->pos;
    r->bytes = left < w->p.bytes ? (uint32_t)left : w->p.bytes;
    w->pos += r->bytes;
    r->op = (uint8_t)w->p.mode;
    r->cls = (uint8_t)w->p.cls;
    r->consumer_cpu = gen_cpu(w->p.consumer_cpu, 0, w->loop.env.ncpus);
    r->gpu = (int16_t)w->p.gpu;
    return true;
}

static int ckpt_start(const void *params, const wl_env_t *env, void **inst)
{
    ckpt_t *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->p = *(const ckpt_params_t *)params;
    w->loop = (gen_loop_t){
        .env = *env, .qd = w->p.qd, .fill = ckpt_fill, .ctx = w,
        .start = SIM_MS(w->p.start_ms), .stop = SIM_MS(w->p.stop_ms),
    };
    gen_loop_start(&w->loop);
    *inst = w;
    return 0;
}

const wl_ops_t wl_checkpoint_ops = {
    .name = "checkpoint",
    .parse = ckpt_parse,
    .params_free = free,
    .start = ckpt_start,
    .inst_free = free,
};
