/*
 * rdma.h - the RDMA NIC a continuation forwards bytes through: a send link
 * (one FIFO server moving bytes at the link rate, shared by all queue
 * pairs), the one-way network latency to the peer, and how the two ends
 * learn of completions - by polling the completion queue or through the
 * completion channel (an event that wakes the waiting thread). The local
 * completion queue's vector fires on `cq_cpu`. Host-side work (post send,
 * registration) is charged by the continuation (cont.c). Owns the
 * `host.rdma` scenario section and the link resource.
 */
#ifndef LATSURF_RDMA_H
#define LATSURF_RDMA_H

#include "models/costs.h"
#include "sim/cfg.h"
#include "sim/res.h"

#include <stdbool.h>
#include <stdint.h>

/* auto: poll when the policy chose a polling wait for the request, else event. */
typedef enum { RDMA_CQ_AUTO, RDMA_CQ_POLL, RDMA_CQ_EVENT, RDMA_NCQ_MODES } rdma_cq_mode_t;
extern const char *const rdma_cq_mode_names[]; /* NULL-terminated */

typedef struct {
    bool enabled;           /* forward requests marked r->rdma */
    double latency_ns;      /* one way; < 0: calibrated rdma_latency_ns */
    double gbps;            /* link, GB/s (= bytes/ns); <= 0: calibrated rdma_gbps */
    int32_t cq_cpu;         /* CPU of the local CQ's vector; -1: the consumer's CPU */
    rdma_cq_mode_t completion;
    double post_ns;         /* ibv_post_send on the consumer CPU */
} rdma_cfg_t;

void rdma_cfg_defaults(rdma_cfg_t *r);
/* o is the host.rdma object (the caller pushed "rdma"). */
int rdma_cfg_parse(cfg_t *c, json_t *o, rdma_cfg_t *r);

typedef struct rdma rdma_t;

/* landed(sim, ctx, arg) runs when a send's bytes are in the peer's memory. */
rdma_t *rdma_new(sim_t *sim, const costs_t *costs, const rdma_cfg_t *cfg, sim_handler_fn landed,
                 void *ctx);
void rdma_free(rdma_t *n);

const rdma_cfg_t *rdma_cfg(const rdma_t *n);
double rdma_latency_ns(const rdma_t *n);
double rdma_wire_ns(const rdma_t *n, uint64_t bytes);
/* Time from the bytes landing to the waiting side running with them. */
double rdma_notify_ns(const rdma_t *n, bool polled);

/* Send bytes: landed(.., arg) after the link and the one-way latency.
 * 0 or -ENOMEM. */
int rdma_send(rdma_t *n, uint64_t bytes, uint64_t arg);

#endif
