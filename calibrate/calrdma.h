/*
 * calrdma.h - the RDMA memory registration probe of `latsurf calibrate`:
 * ibv_reg_mr / ibv_dereg_mr of pre-faulted buffers of several sizes on the
 * host's first RDMA device (libibverbs; soft-RoCE counts), so that the
 * simulator's registration costs (reg_fixed_ns, reg_page_ns, dereg_ns)
 * come from the verbs call a registration policy pays for an RDMA send.
 *
 * Built with libibverbs only (LATSURF_HAVE_IBVERBS, like live/rdma.c);
 * without it, or with no device, calrdma_register says why and returns
 * -ENODEV, and calibrate keeps the io_uring_register_buffers figures.
 */
#ifndef LATSURF_CALRDMA_H
#define LATSURF_CALRDMA_H

#include "calibrate/calprobe.h"
#include "calibrate/calstat.h"

#include <stddef.h>

/* reps registrations of each size (KiB), each deregistered at once: x gets
 * the size in KiB, reg and dereg the ns of each call. dev gets the device's
 * name, or why there is none. 0, -ENODEV (no device: not a failure),
 * -EINTR (*stop) or another -errno. */
int calrdma_register(const unsigned *sizes_kib, size_t nsizes, int reps, calstat_vec_t *x,
                     calstat_vec_t *reg, calstat_vec_t *dereg, calprobe_stop_t *stop,
                     char *dev, size_t devlen);

#endif
