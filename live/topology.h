/*
 * topology.h - the host's shape as the policies see it (pol_view_t), read
 * from the real machine for the device behind a live target: CPUs and NUMA
 * nodes (libnuma), the block device's hardware queues and the CPUs blk-mq
 * maps to each (/sys/block/DISK/mq/N/cpu_list), each queue's interrupt
 * vector and the CPU it fires on (/proc/interrupts rows of the device's
 * driver, /proc/irq/N/effective_affinity_list), whether the device has
 * polled queues (queue/io_poll) and rq_affinity. Owns the arrays.
 */
#ifndef LATSURF_LIVE_TOPOLOGY_H
#define LATSURF_LIVE_TOPOLOGY_H

#include "policies/policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t ncpus, nnodes;
    uint32_t *cpu_node;      /* [ncpus] */
    uint32_t nqueues;
    uint32_t *queue_irq_cpu; /* [nqueues] */
    int32_t *queue_irq;      /* [nqueues] IRQ number, -1 = none found (polled queue) */
    uint32_t *cpu_queue;     /* [ncpus] */
    bool poll_queues;        /* queue/io_poll is 1 */
    uint32_t npolled;        /* the last npolled queues are polled (no vector) */
    uint32_t rq_affinity;
    uint32_t logical_block;  /* bytes; O_DIRECT alignment */
    char disk[64];           /* "vda", "nvme0n1" */
    char irq_prefix[64];     /* "virtio1-req.", "nvme0q" */
    char note[256];          /* what had to be assumed, "" if nothing */
} live_topo_t;

/* Read the topology of the device holding `target` (a block device or a
 * file on one). 0, or -errno with a message in err. */
int live_topo_read(const char *target, live_topo_t *t, char *err, size_t errlen);
void live_topo_fini(live_topo_t *t);

/* One line for people: the disk, its queues (vector, CPU it fires on, CPUs
 * mapped to it, or polled) and queue settings. */
void live_topo_describe(const live_topo_t *t, char *buf, size_t n);

/* Parse a kernel CPU list ("0-3,8,10-11") into mask[0..n); returns the
 * number of CPUs set, or -EINVAL. */
int live_topo_parse_cpulist(const char *s, bool *mask, uint32_t n);

/* The read-only view a policy gets (inflight and now_ns left to the caller). */
void live_topo_view(const live_topo_t *t, pol_view_t *v);

#endif
