/*
 * rdma.h - the live RDMA side (libibverbs): whether this host can run RDMA
 * continuations at all. Built with libibverbs when CMake finds it
 * (LATSURF_HAVE_IBVERBS); without it every probe says so.
 */
#ifndef LATSURF_LIVE_RDMA_H
#define LATSURF_LIVE_RDMA_H

#include <stddef.h>

/* Number of RDMA devices (what: the first one's name), or 0 with why in
 * what (not built with libibverbs, or no device). */
int live_rdma_probe(char *what, size_t n);

#endif
