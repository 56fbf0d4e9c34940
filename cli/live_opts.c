/*
 * live_opts.c - see live_opts.h.
 */
#define _GNU_SOURCE
#include "live_opts.h"

#include "cli/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

volatile sig_atomic_t livecmd_stop;

static struct sigaction livecmd_old_int, livecmd_old_term;

static void livecmd_on_signal(int sig)
{
    (void)sig;
    livecmd_stop = 1;
}

void livecmd_signals(bool on)
{
    if (on) {
        struct sigaction sa = {.sa_handler = livecmd_on_signal};
        sigemptyset(&sa.sa_mask);
        livecmd_stop = 0;
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
           O_QUIET, O_SIMREPS, O_NOCAL, O_RECAL, O_REF, O_ROUNDS, O_SUBMIT };
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
        {"submit", required_argument, NULL, O_SUBMIT},
        {"quiet", no_argument, NULL, O_QUIET},
        {"sim-reps", required_argument, NULL, O_SIMREPS},
        {"no-calibrate", no_argument, NULL, O_NOCAL},
        {"recalibrate", no_argument, NULL, O_RECAL},
        {"reference", required_argument, NULL, O_REF},
        {"rounds", required_argument, NULL, O_ROUNDS},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->run.version = cmd_version();
    a->run.stop = &livecmd_stop;
    a->run.db = "results.sqlite";
    a->run.reps = 1;
    a->rounds = 1;
    a->run.sets = calloc((size_t)argc + 1, sizeof(char *));
    a->run.variants = calloc((size_t)argc + 1, sizeof(char *));
    if (!a->run.sets || !a->run.variants)
        return CMD_FAIL;
    bool validate = strcmp(cmd, "validate") == 0;
    optind = 1;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        char *end = NULL;
        switch (o) {
        case O_TARGET: a->run.target = optarg; break;
        case O_DB: a->run.db = optarg; break;
        case O_DUR:
            a->run.duration_ms = strtod(optarg, &end);
            if (end == optarg || *end || !(a->run.duration_ms > 0 && a->run.duration_ms <= 1e7))
                return bad(cmd, "--duration-ms: expected a number of ms in (0, 1e7], got '%s'",
                           optarg);
            break;
        case O_ALLOW: a->run.allow_write = true; break;
        case O_CREATE:
            if (live_target_parse_size(optarg, &a->run.create))
                return bad(cmd, "--create: expected a size like 256M or 1G, got '%s'", optarg);
            break;
        case O_REPS:
        case O_SIMREPS:
        case O_ROUNDS: {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > 10000)
                return bad(cmd, "expected a count in [1, 10000], got '%s'", optarg);
            if (o == O_REPS)
                a->run.reps = (uint32_t)v;
            else if (o == O_SIMREPS)
                a->sim_reps = (uint32_t)v;
            else
                a->rounds = (uint32_t)v;
            if (o != O_REPS && !validate)
                return bad(cmd, "--%s is an option of validate", o == O_SIMREPS ? "sim-reps" : "rounds");
            break;
        }
        case O_SET: a->run.sets[a->run.nsets++] = optarg; break;
        case O_VARIANT: a->run.variants[a->run.nvariants++] = optarg; break;
        case O_TRACE: a->run.trace = true; break;
        case O_SUBMIT:
            if (strcmp(optarg, "pread") && strcmp(optarg, "io_uring"))
                return bad(cmd, "--submit: expected io_uring or pread, got '%s'", optarg);
            a->run.pread = strcmp(optarg, "pread") == 0;
            break;
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
        case O_REF:
            if (!validate)
                return bad(cmd, "--reference is an option of validate%s", "");
            a->reference = optarg;
            break;
        default:
            return bad(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        a->run.scenario = argv[optind++];
    /* validate takes several scenarios (argv outlives a) */
    a->scenarios = (const char **)argv + optind - (a->run.scenario != NULL);
    a->nscenarios = a->run.scenario != NULL;
    while (validate && optind < argc) {
        optind++;
        a->nscenarios++;
    }
    if (optind < argc)
        return bad(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->run.scenario)
        return bad(cmd, "a SCENARIO file is required%s", "");
    if (!a->run.target)
        return bad(cmd, "--target PATH is required (a file, or an unmounted block device)%s", "");
    if (a->run.trace && a->run.pread)
        return bad(cmd, "--trace joins io_uring events: not with --submit pread%s", "");
    if (a->recalibrate && a->no_calibrate)
        return bad(cmd, "--recalibrate and --no-calibrate exclude each other%s", "");
    return CMD_OK;
}

void livecmd_args_free(livecmd_args_t *a)
{
    free(a->run.sets);
    free(a->run.variants);
    a->run.sets = a->run.variants = NULL;
}

/* liverun's notes go to stderr, unless --quiet. */
static void livecmd_note(void *ctx, const char *variant, const char *msg)
{
    const livecmd_args_t *a = ctx;
    if (a->quiet)
        return;
    if (variant)
        fprintf(stderr, "latsurf %s: %s: note: %s\n", a->cmd, variant, msg);
    else
        fprintf(stderr, "latsurf %s: %s\n", a->cmd, msg);
}

int livecmd_open(const livecmd_args_t *a, liverun_t *c)
{
    char err[1024] = "";
    liverun_opts_t o = a->run;
    o.note = livecmd_note;
    o.note_ctx = (void *)a;
    int rc = liverun_open(&o, c, err, sizeof(err));
    if (rc == 0)
        return CMD_OK;
    fprintf(stderr, "latsurf %s: %s\n", a->cmd, err[0] ? err : strerror(-rc));
    return rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
}

typedef struct {
    const livecmd_args_t *a;
    const liverun_t *c;
    liverun_done_fn fn;
    void *fnctx;
} livecmd_done_t;

static void livecmd_done(void *ctx, uint32_t variant, uint32_t rep, const result_t *res)
{
    livecmd_done_t *d = ctx;
    if (!d->a->quiet) {
        double p50 = 0, p99 = 0, iops = 0, miss = 0;
        result_get_id(res, METRIC_LAT_P50, &p50);
        result_get_id(res, METRIC_LAT_P99, &p99);
        result_get_id(res, METRIC_IOPS, &iops);
        result_get_id(res, METRIC_LOCALITY_MISS, &miss);
        printf("live %-16s rep %u: p50 %8.1f us  p99 %8.1f us  %9.0f IOPS  locality miss %.2f  "
               "(%llu requests)\n",
               d->c->s->var[variant].pol.name, rep, p50 / 1e3, p99 / 1e3, iops, miss,
               (unsigned long long)res->requests);
        fflush(stdout);
    }
    if (d->fn)
        d->fn(d->fnctx, variant, rep, res);
}

int livecmd_run(const livecmd_args_t *a, liverun_t *c, liverun_done_fn fn, void *fnctx)
{
    char err[1024] = "";
    liverun_opts_t o = a->run;
    o.note = livecmd_note;
    o.note_ctx = (void *)a;
    livecmd_done_t d = {a, c, fn, fnctx};
    int rc = liverun_run(&o, c, livecmd_done, &d, err, sizeof(err));
    if (rc == 0)
        return CMD_OK;
    fprintf(stderr, "latsurf %s: %s\n", a->cmd, err[0] ? err : strerror(-rc));
    return rc == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
}
