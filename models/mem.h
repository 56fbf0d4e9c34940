/*
 * mem.h - the consumer's first touch of completed data: a per-KiB cost,
 * higher when the buffer sits on another NUMA node than the consumer, and -
 * only under the what-if host.what_if.warm_cache, an uncalibrated assumption -
 * lower when the completion ran on the consumer's own CPU (the completion
 * path may have pulled the request and, for small reads, the data into that
 * CPU's cache).
 */
#ifndef LATSURF_MEM_H
#define LATSURF_MEM_H

#include "models/costs.h"
#include "models/host.h"

#include <stdbool.h>
#include <stdint.h>

/* remote: the buffer's node is not the consumer's (host_node_of; callers
 * keep it per CPU, as it is asked per request). */
double mem_touch_ns(const costs_t *k, const host_cfg_t *h, uint64_t bytes, bool remote,
                    uint32_t consumer_cpu, int32_t completion_cpu);

#endif
