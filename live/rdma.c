/*
 * rdma.c - see rdma.h.
 */
#include "rdma.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LATSURF_HAVE_IBVERBS
#include <infiniband/verbs.h>

#define RDMA_PORT 1
#define RDMA_HYBRID_SPINS 2000 /* CQ polls before sleeping on the channel */

struct live_rdma {
    struct ibv_context *ctx;
    struct ibv_pd *pd;
    struct ibv_comp_channel *ch;
    struct ibv_cq *cq;
    struct ibv_qp *qp;
    void *peer;           /* the remote side of the writes */
    struct ibv_mr *peer_mr;
    uint64_t peer_bytes;
};

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

/* INIT -> RTR -> RTS, connected to our own QP number. */
static int rdma_connect_self(live_rdma_t *r)
{
    /* the verbs below return the errno value itself */
    struct ibv_port_attr pa;
    int e = ibv_query_port(r->ctx, RDMA_PORT, &pa);
    if (e)
        return -e;
    struct ibv_qp_attr a = {
        .qp_state = IBV_QPS_INIT, .pkey_index = 0, .port_num = RDMA_PORT,
        .qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
    };
    e = ibv_modify_qp(r->qp, &a,
                      IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
    if (e)
        return -e;
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_RTR;
    a.path_mtu = pa.active_mtu;
    a.dest_qp_num = r->qp->qp_num;
    a.max_dest_rd_atomic = 1;
    a.min_rnr_timer = 12;
    a.ah_attr.dlid = pa.lid;
    a.ah_attr.port_num = RDMA_PORT;
    if (pa.link_layer == IBV_LINK_LAYER_ETHERNET) {
        union ibv_gid gid;
        e = ibv_query_gid(r->ctx, RDMA_PORT, 0, &gid);
        if (e)
            return -e;
        a.ah_attr.is_global = 1;
        a.ah_attr.grh.dgid = gid;
        a.ah_attr.grh.sgid_index = 0;
        a.ah_attr.grh.hop_limit = 1;
    }
    e = ibv_modify_qp(r->qp, &a,
                      IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
                          IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
    if (e)
        return -e;
    memset(&a, 0, sizeof(a));
    a.qp_state = IBV_QPS_RTS;
    a.timeout = 14;
    a.retry_cnt = 7;
    a.rnr_retry = 7;
    a.max_rd_atomic = 1;
    e = ibv_modify_qp(r->qp, &a,
                      IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
                          IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
    return -e;
}

int live_rdma_open(live_rdma_t **out, char *err, size_t errlen)
{
    *out = NULL;
    int num = 0;
    struct ibv_device **list = ibv_get_device_list(&num);
    if (!list || num <= 0) {
        if (list)
            ibv_free_device_list(list);
        snprintf(err, errlen, "no RDMA device");
        return -ENODEV;
    }
    live_rdma_t *r = calloc(1, sizeof(*r));
    int rc = r ? 0 : -ENOMEM;
    char dev[64];
    snprintf(dev, sizeof(dev), "%s", ibv_get_device_name(list[0]));
    const char *step = "opening the device";
    if (!rc && !(r->ctx = ibv_open_device(list[0])))
        rc = -errno;
    ibv_free_device_list(list);
    if (!rc && (step = "ibv_alloc_pd") && !(r->pd = ibv_alloc_pd(r->ctx)))
        rc = -errno;
    if (!rc && (step = "ibv_create_comp_channel") && !(r->ch = ibv_create_comp_channel(r->ctx)))
        rc = -errno;
    if (!rc && (step = "ibv_create_cq") && !(r->cq = ibv_create_cq(r->ctx, 16, NULL, r->ch, 0)))
        rc = -errno;
    if (!rc) {
        struct ibv_qp_init_attr qa = {
            .send_cq = r->cq, .recv_cq = r->cq, .qp_type = IBV_QPT_RC,
            .cap = {.max_send_wr = 16, .max_recv_wr = 1, .max_send_sge = 1, .max_recv_sge = 1},
        };
        step = "ibv_create_qp";
        if (!(r->qp = ibv_create_qp(r->pd, &qa)))
            rc = -errno;
    }
    if (!rc) {
        step = "connecting its RC queue pair to itself (port 1, GID 0: is the port ACTIVE "
               "with an address?)";
        rc = rdma_connect_self(r);
    }
    if (rc) {
        snprintf(err, errlen, "setting up the RDMA endpoint on %s: %s: %s", dev, step,
                 strerror(-rc));
        live_rdma_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void live_rdma_close(live_rdma_t *r)
{
    if (!r)
        return;
    if (r->qp)
        ibv_destroy_qp(r->qp);
    if (r->peer_mr)
        ibv_dereg_mr(r->peer_mr);
    free(r->peer);
    if (r->cq)
        ibv_destroy_cq(r->cq);
    if (r->ch)
        ibv_destroy_comp_channel(r->ch);
    if (r->pd)
        ibv_dealloc_pd(r->pd);
    if (r->ctx)
        ibv_close_device(r->ctx);
    free(r);
}

void *live_rdma_reg(live_rdma_t *r, void *mem, uint64_t bytes)
{
    return ibv_reg_mr(r->pd, mem, bytes, IBV_ACCESS_LOCAL_WRITE);
}

void live_rdma_dereg(void *mr)
{
    if (mr)
        ibv_dereg_mr(mr);
}

static int rdma_peer(live_rdma_t *r, uint64_t bytes)
{
    if (r->peer_bytes >= bytes)
        return 0;
    if (r->peer_mr)
        ibv_dereg_mr(r->peer_mr);
    free(r->peer);
    r->peer_mr = NULL;
    r->peer_bytes = 0;
    r->peer = calloc(1, bytes);
    if (!r->peer)
        return -ENOMEM;
    r->peer_mr = ibv_reg_mr(r->pd, r->peer, bytes, IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
    if (!r->peer_mr)
        return -errno;
    r->peer_bytes = bytes;
    return 0;
}

static int rdma_wait(live_rdma_t *r, pol_wait_t wait)
{
    struct ibv_wc wc;
    for (long spins = 0;; spins++) {
        int n = ibv_poll_cq(r->cq, 1, &wc);
        if (n < 0)
            return -EIO;
        if (n == 1)
            return wc.status == IBV_WC_SUCCESS ? 0 : -EIO;
        if (wait == POL_WAIT_POLL || (wait == POL_WAIT_HYBRID && spins < RDMA_HYBRID_SPINS))
            continue;
        /* sleep on the completion channel; re-poll after arming to close the race */
        if (ibv_req_notify_cq(r->cq, 0))
            return -EIO;
        n = ibv_poll_cq(r->cq, 1, &wc);
        if (n == 1)
            return wc.status == IBV_WC_SUCCESS ? 0 : -EIO;
        struct ibv_cq *cq;
        void *cctx;
        if (ibv_get_cq_event(r->ch, &cq, &cctx))
            return -EIO;
        ibv_ack_cq_events(cq, 1);
    }
}

int live_rdma_send(live_rdma_t *r, void *mr, const void *mem, uint32_t bytes, pol_wait_t wait)
{
    int rc = rdma_peer(r, bytes);
    if (rc)
        return rc;
    struct ibv_mr *m = mr;
    struct ibv_sge sge = {.addr = (uintptr_t)mem, .length = bytes, .lkey = m->lkey};
    struct ibv_send_wr wr = {
        .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_RDMA_WRITE,
        .send_flags = IBV_SEND_SIGNALED,
        .wr.rdma = {.remote_addr = (uintptr_t)r->peer, .rkey = r->peer_mr->rkey},
    }, *bad;
    if (ibv_post_send(r->qp, &wr, &bad))
        return -errno;
    return rdma_wait(r, wait);
}

#else /* no libibverbs */

int live_rdma_probe(char *what, size_t n)
{
    snprintf(what, n, "latsurf was built without libibverbs (install libibverbs-dev and "
                      "rebuild)");
    return 0;
}

int live_rdma_open(live_rdma_t **out, char *err, size_t errlen)
{
    *out = NULL;
    snprintf(err, errlen, "built without libibverbs");
    return -ENOTSUP;
}

void live_rdma_close(live_rdma_t *r) { (void)r; }

void *live_rdma_reg(live_rdma_t *r, void *mem, uint64_t bytes)
{
    (void)r;
    (void)mem;
    (void)bytes;
    return NULL;
}

void live_rdma_dereg(void *mr) { (void)mr; }

int live_rdma_send(live_rdma_t *r, void *mr, const void *mem, uint32_t bytes, pol_wait_t wait)
{
    (void)r;
    (void)mr;
    (void)mem;
    (void)bytes;
    (void)wait;
    return -ENOTSUP;
}
#endif
