/*
 * rdma.h - the live RDMA continuation (libibverbs): after a request's data
 * is ready, its bytes are written to an RDMA peer, behind the same
 * registration and completion-mode policies as the simulator's model.
 *
 * The peer is this host: an RC queue pair connected to itself on the first
 * device's port 1 (RoCE through GID 0), so the NIC really moves the bytes
 * and the completion really comes back through the CQ. Each backend worker
 * owns one endpoint (verbs objects are not shared across threads). Memory
 * registration follows the storage buffer's registration decision: a
 * region the policy keeps gets one ibv_reg_mr for its life, a per-transfer
 * one is registered and deregistered around the send. Completion: polling
 * the CQ (wait poll), or the completion channel (interrupt; hybrid spins
 * briefly first).
 *
 * Built only with libibverbs (LATSURF_HAVE_IBVERBS); without it, or with no
 * device, live_rdma_probe says why and the CLI exits 2.
 */
#ifndef LATSURF_LIVE_RDMA_H
#define LATSURF_LIVE_RDMA_H

#include "policies/policy.h"

#include <stddef.h>
#include <stdint.h>

typedef struct live_rdma live_rdma_t;

/* Number of RDMA devices (what: the first one's name), or 0 with why in
 * what (not built with libibverbs, or no device). */
int live_rdma_probe(char *what, size_t n);

/* Open an endpoint on the first device. 0 or -errno with err set. */
int live_rdma_open(live_rdma_t **out, char *err, size_t errlen);
void live_rdma_close(live_rdma_t *r); /* NULL is fine */

/* A memory registration for mem[0..bytes): NULL on failure. */
void *live_rdma_reg(live_rdma_t *r, void *mem, uint64_t bytes);
void live_rdma_dereg(void *mr);

/* Write bytes from mem (registered as mr) to the peer and wait for the
 * completion as wait says. 0 or -errno. */
int live_rdma_send(live_rdma_t *r, void *mr, const void *mem, uint32_t bytes, pol_wait_t wait);

#endif
