/*
 * liverun.c - see liverun.h.
 */
#define _GNU_SOURCE
#include "liverun.h"

#include "live/live.h"
#include "live/rdma.h"
#include "reports/db.h"
#include "run/harness.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Does the scenario (or a variant's set) ask for an RDMA continuation? */
static bool scn_wants_rdma(const scn_t *s)
{
    json_error_t je;
    json_t *root = json_loads(s->json, 0, &je);
    if (!root)
        return false;
    bool want = false;
    json_t *rdma = json_object_get(json_object_get(root, "host"), "rdma");
    if (rdma && !json_is_false(json_object_get(rdma, "enabled")))
        want = true;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "variants"), i, v)
    {
        const char *k;
        json_t *x;
        json_object_foreach(json_object_get(v, "set"), k, x)
            if (strncmp(k, "host.rdma", 9) == 0 && !json_is_false(x))
                want = true;
    }
    json_decref(root);
    return want;
}

static int liverun_errf(char *err, size_t n, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int liverun_errf(char *err, size_t n, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    return rc;
}

int liverun_open(const liverun_opts_t *o, liverun_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    c->tgt.fd = -1;
    err[0] = '\0';
    int rc = scn_load(o->scenario, o->sets, o->nsets, &c->s, err, errlen);
    if (rc)
        return rc == -ENOENT ? -EINVAL : rc;
    scn_t *s = c->s;
    if (o->duration_ms > 0)
        s->run.duration_ms = o->duration_ms;
    if (s->run.warmup_auto || s->run.warmup_ms >= s->run.duration_ms) {
        /* MSER-5 needs a pilot run: live uses a tenth of the run instead */
        s->run.warmup_auto = false;
        s->run.warmup_ms = s->run.duration_ms / 10;
    }
    c->selected = calloc(s->nvar, sizeof(*c->selected));
    if (!c->selected)
        return liverun_errf(err, errlen, -ENOMEM, "out of memory");
    for (uint32_t v = 0; v < s->nvar; v++)
        c->selected[v] = o->nvariants == 0;
    for (size_t i = 0; i < o->nvariants; i++) {
        int v = scn_find_variant(s, o->variants[i]);
        if (v < 0)
            return liverun_errf(err, errlen, -EINVAL, "%s: --variant %s: no such variant",
                                s->file, o->variants[i]);
        c->selected[v] = true;
    }
    if (scn_wants_rdma(s)) {
        char what[256];
        if (live_rdma_probe(what, sizeof(what)) <= 0)
            return liverun_errf(err, errlen, -EINVAL,
                                "%s: host.rdma asks for RDMA continuations, but %s", s->file,
                                what);
        c->rdma = true;
    }
    char why[1024] = "";
    if (o->create) {
        struct stat st;
        bool exists = stat(o->target, &st) == 0;
        if (!exists || (uint64_t)st.st_size < o->create) {
            if (o->note) {
                snprintf(why, sizeof(why), "writing %llu MiB to %s ...",
                         (unsigned long long)(o->create >> 20), o->target);
                o->note(o->note_ctx, NULL, why);
            }
            rc = live_target_create(o->target, o->create, why, sizeof(why));
            if (rc)
                return liverun_errf(err, errlen, rc == -EPERM || rc == -EINVAL ? -EINVAL : rc,
                                    "--create: %s", why);
        } else if (!live_target_is_ours(o->target)) {
            return liverun_errf(err, errlen, -EINVAL,
                                "--create: %s: exists and was not created by latsurf", o->target);
        }
    }
    rc = live_target_open(o->target, o->allow_write, &c->tgt, err, errlen);
    if (rc)
        return rc == -EPERM || rc == -EINVAL ? -EINVAL : rc;
    rc = live_topo_read(o->target, &c->topo, err, errlen);
    if (rc) /* the host, not the input, is at fault */
        return rc == -EINVAL || rc == -ENOENT || rc == -EPERM ? -EIO : rc;
    if (o->note) {
        char host[512];
        live_topo_describe(&c->topo, host, sizeof(host));
        snprintf(why, sizeof(why), "host: %s%s%s", host, c->topo.note[0] ? "; " : "",
                 c->topo.note);
        o->note(o->note_ctx, NULL, why);
    }
    char *dberr = NULL;
    c->db = db_open(o->db, &dberr);
    if (!c->db) {
        liverun_errf(err, errlen, -EIO, "%s", dberr ? dberr : o->db);
        sqlite3_free(dberr);
        return -EIO;
    }
    char h[256] = "";
    gethostname(h, sizeof(h) - 1);
    if (!(c->host = strdup(h)))
        return liverun_errf(err, errlen, -ENOMEM, "out of memory");
    return 0;
}

void liverun_close(liverun_t *c)
{
    if (c->db)
        db_close(c->db);
    live_topo_fini(&c->topo);
    live_target_close(&c->tgt);
    if (c->s)
        scn_free(c->s);
    free(c->selected);
    free(c->host);
    memset(c, 0, sizeof(*c));
    c->tgt.fd = -1;
}

int liverun_run(const liverun_opts_t *o, liverun_t *c, liverun_done_fn fn, void *fnctx, char *err,
                size_t errlen)
{
    scn_t *s = c->s;
    uint32_t done = 0;
    int rc = 0;
    err[0] = '\0';
    for (uint32_t rep = 0; rep < o->reps && rc == 0; rep++) {
        for (uint32_t vi = 0; vi < s->nvar && rc == 0; vi++) {
            if (!c->selected[vi])
                continue;
            scn_variant_t *v = &s->var[vi];
            char notes[2048], why[1024];
            live_cfg_t lc = {
                .target = &c->tgt, .topo = &c->topo, .host = &v->host, .trace = o->trace, .pread = o->pread,
                .rdma = c->rdma, .notes = notes, .nlen = sizeof(notes),
            };
            for (uint32_t k = 0; k < v->nwl; k++)
                lc.thinks |= v->wl[k].ops->thinks;
            harness_cfg_t hc = {
                .ops = &live_exec_ops, .exec_cfg = &lc, .variant = &v->pol,
                .polcfg = &v->polcfg, .host = &v->host, .wl = v->wl, .nwl = v->nwl,
                .seed = s->run.seed, .rep = rep,
                .warm = (sim_time_t)(s->run.warmup_ms * 1e6),
                .end = (sim_time_t)(s->run.duration_ms * 1e6),
                .record_requests = s->run.record_requests, .stop = o->stop,
            };
            result_t res;
            result_init(&res);
            notes[0] = '\0';
            int r = harness_run(&hc, &res, why, sizeof(why));
            /* a what-if has no knob on a real host: the live run measures without it */
            if (v->what_if[0]) {
                size_t n = strlen(notes);
                snprintf(notes + n, sizeof(notes) - n,
                         "%swhat-if not realisable on this host, measured without: %s",
                         n ? "; " : "", v->what_if);
            }
            if (notes[0] && o->note)
                o->note(o->note_ctx, v->pol.name, notes);
            if (r == 0) {
                db_run_info_t info = {
                    .scenario = s->name, .variant = v->pol.name, .mode = "live",
                    .replication = rep, .seed = s->run.seed, .calibration = NULL,
                    .host = c->host, .version = o->version, .scenario_json = s->json,
                };
                char *dberr = NULL;
                if (db_write_run(c->db, &info, &res, &dberr) < 0) {
                    rc = liverun_errf(err, errlen, -EIO, "%s: %s", o->db,
                                      dberr ? dberr : "write");
                    sqlite3_free(dberr);
                } else {
                    done++;
                    if (fn)
                        fn(fnctx, vi, rep, &res);
                }
            } else if (r == -EINTR) {
                rc = liverun_errf(err, errlen, -EINTR, "interrupted; %u finished runs kept in %s",
                                  done, o->db);
            } else {
                rc = liverun_errf(err, errlen, r == -EINVAL ? -EINVAL : r < 0 ? r : -EIO, "%s: %s",
                                  v->pol.name, why[0] ? why : strerror(r < 0 ? -r : EIO));
            }
            result_fini(&res);
        }
    }
    return rc;
}
