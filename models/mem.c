/*
 * mem.c - see mem.h.
 */
#include "mem.h"

double mem_touch_ns(const costs_t *k, const host_cfg_t *h, uint64_t bytes, bool remote,
                    uint32_t consumer_cpu, int32_t completion_cpu)
{
    double per_kib = costs_value(k, remote ? COST_MEM_REMOTE_KIB : COST_MEM_LOCAL_KIB);
    double ns = per_kib * (double)bytes / 1024.0;
    /* an assumption until calibrated: host.what_if.warm_cache */
    if (h->what_if_warm_cache && completion_cpu == (int32_t)consumer_cpu)
        ns *= costs_value(k, COST_MEM_WARM_FACTOR);
    return ns;
}
