/*
 * calrdma.c - see calrdma.h.
 */
#include "calrdma.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LATSURF_HAVE_IBVERBS
#include <infiniband/verbs.h>

int calrdma_register(const unsigned *sizes_kib, size_t nsizes, int reps, calstat_vec_t *x,
                     calstat_vec_t *reg, calstat_vec_t *dereg, calprobe_stop_t *stop,
                     char *dev, size_t devlen)
{
    int num = 0;
    struct ibv_device **list = ibv_get_device_list(&num);
    if (!list || num <= 0) {
        snprintf(dev, devlen, "no RDMA device (ibv_get_device_list found none)");
        if (list)
            ibv_free_device_list(list);
        return -ENODEV;
    }
    snprintf(dev, devlen, "%s", ibv_get_device_name(list[0]));
    struct ibv_context *ctx = ibv_open_device(list[0]);
    ibv_free_device_list(list);
    if (!ctx)
        return errno ? -errno : -ENODEV;
    struct ibv_pd *pd = ibv_alloc_pd(ctx);
    size_t max = calprobe_largest_bytes(sizes_kib, nsizes);
    void *buf = NULL;
    int rc = !pd ? (errno ? -errno : -ENOMEM) : posix_memalign(&buf, 4096, max) ? -ENOMEM : 0;
    if (!rc)
        memset(buf, 5, max); /* pre-faulted: the pinning, not the page faults */
    for (size_t s = 0; s < nsizes && !rc; s++) {
        size_t len = sizes_kib[s] * 1024ul;
        for (int r = 0; r < reps && !rc; r++) {
            if (*stop) {
                rc = -EINTR;
                break;
            }
            uint64_t t0 = calprobe_now_ns();
            struct ibv_mr *mr = ibv_reg_mr(pd, buf, len, IBV_ACCESS_LOCAL_WRITE);
            uint64_t t1 = calprobe_now_ns();
            if (!mr) {
                rc = errno ? -errno : -ENOMEM;
                break;
            }
            int e = ibv_dereg_mr(mr);
            uint64_t t2 = calprobe_now_ns();
            if (e) {
                rc = -e;
                break;
            }
            if (calstat_push(x, sizes_kib[s]) || calstat_push(reg, (double)(t1 - t0)) ||
                calstat_push(dereg, (double)(t2 - t1)))
                rc = -ENOMEM;
        }
    }
    free(buf);
    if (pd)
        ibv_dealloc_pd(pd);
    ibv_close_device(ctx);
    return rc;
}

#else /* no libibverbs */

int calrdma_register(const unsigned *sizes_kib, size_t nsizes, int reps, calstat_vec_t *x,
                     calstat_vec_t *reg, calstat_vec_t *dereg, calprobe_stop_t *stop,
                     char *dev, size_t devlen)
{
    (void)sizes_kib;
    (void)nsizes;
    (void)reps;
    (void)x;
    (void)reg;
    (void)dereg;
    (void)stop;
    snprintf(dev, devlen, "latsurf was built without libibverbs");
    return -ENODEV;
}
#endif
