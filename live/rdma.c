/*
 * rdma.c - see rdma.h.
 */
#include "rdma.h"

#include <stdio.h>

#ifdef LATSURF_HAVE_IBVERBS
#include <errno.h>
#include <infiniband/verbs.h>
#include <string.h>

int live_rdma_probe(char *what, size_t n)
{
    int num = 0;
    struct ibv_device **list = ibv_get_device_list(&num);
    if (!list) {
        snprintf(what, n, "no RDMA device (ibv_get_device_list: %s)", strerror(errno));
        return 0;
    }
    if (num <= 0)
        snprintf(what, n, "this host has no RDMA device (ibv_get_device_list found none)");
    else
        snprintf(what, n, "%s", ibv_get_device_name(list[0]));
    ibv_free_device_list(list);
    return num > 0 ? num : 0;
}
#else
int live_rdma_probe(char *what, size_t n)
{
    snprintf(what, n, "latsurf was built without libibverbs (install libibverbs-dev and "
                      "rebuild)");
    return 0;
}
#endif
