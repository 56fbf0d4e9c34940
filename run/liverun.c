/*
 * live_common.c - see live_common.h.
 */
#define _GNU_SOURCE
#include "liverun.h"

#include "cli/cmd.h"
#include "run/runner.h"
#include "live/live.h"
#include "live/rdma.h"
#include "reports/db.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

volatile sig_atomic_t livecmd_stop;

static struct sigaction livecmd_old_int, livecmd_old_term;

static void livecmd_on_signal(int sig)
{
    (void)sig;
    livecmd_stop = 1;
    runner_interrupted = 1; /* validate's simulations stop too */
}

void livecmd_signals(bool on)
{
    if (on) {
        struct sigaction sa = {.sa_handler = livecmd_on_signal};
        sigemptyset(&sa.sa_mask);
        livecmd_stop = 0;
        runner_interrupted = 0;
        sigaction(SIGINT, &sa, &livecmd_old_int);
        sigaction(SIGTERM, &sa, &livecmd_old_term);
    } else {
        sigaction(SIGINT, &livecmd_old_int, NULL);
        sigaction(SIGTERM, &livecmd_old_term, NULL);
    }
}

static int bad(const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "latsurf %s: ", cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return CMD_BADINPUT;
}

int livecmd_parse(const char *cmd, int argc, char **argv, livecmd_args_t *a)
{
    enum { O_TARGET = 256, O_DB, O_DUR, O_ALLOW, O_CREATE, O_REPS, O_SET, O_VARIANT, O_TRACE,
           O_QUIET, O_SIMREPS, O_NOCAL, O_RECAL };
    static const struct option opts[] = {
        {"target", required_argument, NULL, O_TARGET},
        {"db", required_argument, NULL, O_DB},
        {"duration-ms", required_argument, NULL, O_DUR},
        {"allow-write", no_argument, NULL, O_ALLOW},
        {"create", required_argument, NULL, O_CREATE},
        {"reps", required_argument, NULL, O_REPS},
        {"set", required_argument, NULL, O_SET},
        {"variant", required_argument, NULL, O_VARIANT},
        {"trace", no_argument, NULL, O_TRACE},
        {"quiet", no_argument, NULL, O_QUIET},
        {"sim-reps", required_argument, NULL, O_SIMREPS},
        {"no-calibrate", no_argument, NULL, O_NOCAL},
        {"recalibrate", no_argument, NULL, O_RECAL},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->db = "results.sqlite";
    a->reps = 1;
    a->sets = calloc((size_t)argc + 1, sizeof(char *));
    a->variants = calloc((size_t)argc + 1, sizeof(char *));
    if (!a->sets || !a->variants)
        return CMD_FAIL;
    bool validate = strcmp(cmd, "validate") == 0;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        char *end = NULL;
        switch (o) {
        case O_TARGET: a->target = optarg; break;
        case O_DB: a->db = optarg; break;
        case O_DUR:
            a->duration_ms = strtod(optarg, &end);
            if (end == optarg || *end || !(a->duration_ms > 0 && a->duration_ms <= 1e7))
                return bad(cmd, "--duration-ms: expected a number of ms in (0, 1e7], got '%s'",
                           optarg);
            break;
        case O_ALLOW: a->allow_write = true; break;
        case O_CREATE:
            if (live_target_parse_size(optarg, &a->create))
                return bad(cmd, "--create: expected a size like 256M or 1G, got '%s'", optarg);
            break;
        case O_REPS:
        case O_SIMREPS: {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 10000)
                return bad(cmd, "expected a count in [1, 10000], got '%s'", optarg);
            if (o == O_REPS)
                a->reps = (uint32_t)v;
            else
                a->sim_reps = (uint32_t)v;
            if (o == O_SIMREPS && !validate)
                return bad(cmd, "--sim-reps is an option of validate%s", "");
            break;
        }
        case O_SET: a->sets[a->nsets++] = optarg; break;
        case O_VARIANT: a->variants[a->nvariants++] = optarg; break;
        case O_TRACE: a->trace = true; break;
        case 'q':
        case O_QUIET: a->quiet = true; break;
        case O_NOCAL:
            if (!validate)
                return bad(cmd, "--no-calibrate is an option of validate%s", "");
            a->no_calibrate = true;
            break;
        case O_RECAL:
            if (!validate)
                return bad(cmd, "--recalibrate is an option of validate%s", "");
            a->recalibrate = true;
            break;
        default:
            return bad(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        a->scenario = argv[optind++];
    if (optind < argc)
        return bad(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->scenario)
        return bad(cmd, "a SCENARIO file is required%s", "");
    if (!a->target)
        return bad(cmd, "--target PATH is required (a file, or an unmounted block device)%s", "");
    if (a->recalibrate && a->no_calibrate)
        return bad(cmd, "--recalibrate and --no-calibrate exclude each other%s", "");
    return CMD_OK;
}

void livecmd_args_free(livecmd_args_t *a)
{
    free(a->sets);
    free(a->variants);
    a->sets = a->variants = NULL;
}

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

int livecmd_open(const livecmd_args_t *a, livecmd_ctx_t *c)
{
    memset(c, 0, sizeof(*c));
    c->tgt.fd = -1;
    const char *cmd = a->cmd;
    char err[1024] = "";
    int rc = scn_load(a->scenario, a->sets, a->nsets, &c->s, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "latsurf %s: %s\n", cmd, err);
        return rc == -EINVAL || rc == -ENOENT ? CMD_BADINPUT : CMD_FAIL;
    }
    scn_t *s = c->s;
    if (a->duration_ms > 0)
        s->run.duration_ms = a->duration_ms;
    if (s->run.warmup_auto || s->run.warmup_ms >= s->run.duration_ms) {
        /* MSER-5 needs a pilot run: live uses a tenth of the run instead */
        s->run.warmup_auto = false;
        s->run.warmup_ms = s->run.duration_ms / 10;
    }
    c->selected = calloc(s->nvar, sizeof(*c->selected));
    if (!c->selected)
        return CMD_FAIL;
    for (uint32_t v = 0; v < s->nvar; v++)
        c->selected[v] = a->nvariants == 0;
    for (size_t i = 0; i < a->nvariants; i++) {
        int v = scn_find_variant(s, a->variants[i]);
        if (v < 0) {
            fprintf(stderr, "latsurf %s: %s: --variant %s: no such variant\n", cmd, s->file,
                    a->variants[i]);
            return CMD_BADINPUT;
        }
        c->selected[v] = true;
    }
    if (scn_wants_rdma(s)) {
        char what[256];
        if (live_rdma_probe(what, sizeof(what)) <= 0) {
            fprintf(stderr, "latsurf %s: %s: host.rdma asks for RDMA continuations, but %s\n", cmd,
                    s->file, what);
            return CMD_BADINPUT;
        }
        c->rdma = true;
    }
    if (a->create) {
        struct stat st;
        bool exists = stat(a->target, &st) == 0;
        if (!exists || (uint64_t)st.st_size < a->create) {
            if (!a->quiet)
                fprintf(stderr, "latsurf %s: writing %llu MiB to %s ...\n", cmd,
                        (unsigned long long)(a->create >> 20), a->target);
            rc = live_target_create(a->target, a->create, err, sizeof(err));
            if (rc) {
                fprintf(stderr, "latsurf %s: --create: %s\n", cmd, err);
                return rc == -EPERM || rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
            }
        } else if (!live_target_is_ours(a->target)) {
            fprintf(stderr, "latsurf %s: --create: %s: exists and was not created by latsurf\n",
                    cmd, a->target);
            return CMD_BADINPUT;
        }
    }
    rc = live_target_open(a->target, a->allow_write, &c->tgt, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "latsurf %s: %s\n", cmd, err);
        return rc == -EPERM || rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
    }
    rc = live_topo_read(a->target, &c->topo, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "latsurf %s: %s\n", cmd, err);
        return CMD_FAIL;
    }
    char *dberr = NULL;
    c->db = db_open(a->db, &dberr);
    if (!c->db) {
        fprintf(stderr, "latsurf %s: %s\n", cmd, dberr ? dberr : a->db);
        sqlite3_free(dberr);
        return CMD_FAIL;
    }
    char h[256] = "";
    gethostname(h, sizeof(h) - 1);
    c->host = strdup(h);
    return CMD_OK;
}

void livecmd_close(livecmd_ctx_t *c)
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

static void print_run(const livecmd_args_t *a, const scn_variant_t *v, uint32_t rep,
                      const result_t *res)
{
    if (a->quiet)
        return;
    double p50 = 0, p99 = 0, iops = 0, miss = 0;
    result_get_id(res, METRIC_LAT_P50, &p50);
    result_get_id(res, METRIC_LAT_P99, &p99);
    result_get_id(res, METRIC_IOPS, &iops);
    result_get_id(res, METRIC_LOCALITY_MISS, &miss);
    printf("live %-16s rep %u: p50 %8.1f us  p99 %8.1f us  %9.0f IOPS  locality miss %.2f  "
           "(%llu requests)\n",
           v->pol.name, rep, p50 / 1e3, p99 / 1e3, iops, miss, (unsigned long long)res->requests);
    fflush(stdout);
}

int livecmd_run(const livecmd_args_t *a, livecmd_ctx_t *c, livecmd_run_fn fn, void *fnctx)
{
    scn_t *s = c->s;
    const char *cmd = a->cmd;
    uint32_t done = 0;
    int rc = CMD_OK;
    for (uint32_t rep = 0; rep < a->reps && rc == CMD_OK; rep++) {
        for (uint32_t vi = 0; vi < s->nvar && rc == CMD_OK; vi++) {
            if (!c->selected[vi])
                continue;
            scn_variant_t *v = &s->var[vi];
            live_wl_t *wl = calloc(v->nwl ? v->nwl : 1, sizeof(*wl));
            if (!wl)
                return CMD_FAIL;
            for (uint32_t i = 0; i < v->nwl; i++)
                wl[i] = (live_wl_t){v->wl[i].ops, v->wl[i].params};
            live_cfg_t lc = {
                .target = &c->tgt, .topo = &c->topo, .variant = &v->pol, .polcfg = &v->polcfg,
                .host = &v->host, .wl = wl, .nwl = v->nwl, .seed = s->run.seed, .rep = rep,
                .duration_ms = s->run.duration_ms, .warmup_ms = s->run.warmup_ms,
                .record_requests = s->run.record_requests, .trace = a->trace, .rdma = c->rdma,
                .stop = &livecmd_stop,
            };
            result_t res;
            result_init(&res);
            char notes[2048], err[1024];
            int r = live_run(&lc, &res, notes, sizeof(notes), err, sizeof(err));
            free(wl);
            if (notes[0] && !a->quiet)
                fprintf(stderr, "latsurf %s: %s: note: %s\n", cmd, v->pol.name, notes);
            if (r == 0) {
                db_run_info_t info = {
                    .scenario = s->name, .variant = v->pol.name, .mode = "live",
                    .replication = rep, .seed = s->run.seed, .calibration = NULL,
                    .host = c->host, .version = cmd_version(), .scenario_json = s->json,
                };
                char *dberr = NULL;
                if (db_write_run(c->db, &info, &res, &dberr) < 0) {
                    fprintf(stderr, "latsurf %s: %s: %s\n", cmd, a->db, dberr ? dberr : "write");
                    sqlite3_free(dberr);
                    rc = CMD_FAIL;
                } else {
                    done++;
                    print_run(a, v, rep, &res);
                    if (fn)
                        fn(fnctx, vi, rep, &res);
                }
            } else if (r == -EINTR) {
                fprintf(stderr, "latsurf %s: interrupted; %u finished runs kept in %s\n", cmd,
                        done, a->db);
                rc = CMD_FAIL;
            } else {
                fprintf(stderr, "latsurf %s: %s: %s\n", cmd, v->pol.name, err);
                rc = r == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
            }
            result_fini(&res);
        }
    }
    return rc;
}
