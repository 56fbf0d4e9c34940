/*
 * cmd_bench.c - `latsurf bench [NAME] [OPTIONS]`: named benchmarks, one row
 * each in bench_table. `hold` drives the real engine (sim_at/sim_run) with the
 * classic hold model; `path` (run/bench_path.c) the full simulated request
 * path. docs/engine.md explains the numbers.
 */
#include "cmd.h"

#include "run/bench_path.h"

#include "sim/rng.h"
#include "sim/sim.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the bench name */
    const char *usage;                /* options, after "latsurf bench NAME" */
    const char *summary;
} bench_t;

static int bench_hold(int argc, char **argv);
static int bench_path(int argc, char **argv);

static const bench_t bench_table[] = {
    {"hold", bench_hold, "[--events N] [--pending P] [--draws table|gsl] [--seed S]",
     "hold model through the engine: each event reschedules itself at now + Exp(1 ms);\n"
     "      P events pending (default 10000), N timed events (default 10000000),\n"
     "      increments from a table of precomputed GSL draws (default) or one\n"
     "      gsl_ran_exponential per event (--draws gsl); prints `R events/s`"},
    {"path", bench_path, "[--requests N]",
     "4 KiB random reads at QD32 per CPU on 16 CPUs and an 8-channel SSD through the\n"
     "      full simulated path; N simulated requests (default 1e6); prints\n"
     "      `R requests/s` (per CPU second) and peak RSS"},
};
#define BENCH_COUNT (sizeof(bench_table) / sizeof(bench_table[0]))

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: latsurf bench [NAME] [OPTIONS]   (NAME defaults to hold)\n\n"
               "benchmarks:\n");
    for (size_t i = 0; i < BENCH_COUNT; i++)
        fprintf(f, "  %s %s\n      %s\n", bench_table[i].name, bench_table[i].usage,
                bench_table[i].summary);
    fprintf(f, "\nN and P accept integers or exponent forms such as 1e7.\n");
}

static double bench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* An unsigned count from "10000" or "1e4"; false if it is not one. */
static bool bench_parse_count(const char *s, uint64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 1e15 || v != floor(v))
        return false;
    *out = (uint64_t)v;
    return true;
}

/* ---- hold ---------------------------------------------------------------- */

#define HOLD_MEAN_NS 1e6       /* Exp(1) in milliseconds: ties are rare */
#define HOLD_TABLE (1u << 16) /* draws cycled in table mode */

typedef struct {
    uint64_t left;      /* events still to run before sim_stop */
    uint32_t *table;    /* NULL: draw with GSL per event */
    uint32_t next;
    gsl_rng *rng;
} hold_t;

static void hold_fire_table(sim_t *sim, void *ctx, uint64_t arg)
{
    hold_t *h = ctx;
    sim_after(sim, h->table[h->next++ & (HOLD_TABLE - 1)], hold_fire_table, h, arg);
    if (--h->left == 0)
        sim_stop(sim);
}

static void hold_fire_gsl(sim_t *sim, void *ctx, uint64_t arg)
{
    hold_t *h = ctx;
    sim_after(sim, (sim_time_t)gsl_ran_exponential(h->rng, HOLD_MEAN_NS), hold_fire_gsl, h, arg);
    if (--h->left == 0)
        sim_stop(sim);
}

static int bench_hold(int argc, char **argv)
{
    uint64_t events = 10000000, pending = 10000, seed = 1;
    bool use_table = true;
    for (int i = 1; i < argc; i += 2) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t *dst = strcmp(opt, "--events") == 0    ? &events
                        : strcmp(opt, "--pending") == 0 ? &pending
                        : strcmp(opt, "--seed") == 0    ? &seed
                                                        : NULL;
        bool draws = strcmp(opt, "--draws") == 0;
        if (!dst && !draws) {
            fprintf(stderr, "latsurf bench hold: unknown option '%s' (see latsurf bench --help)\n",
                    opt);
            return CMD_BADINPUT;
        }
        if (!val || (dst ? !bench_parse_count(val, dst)
                         : strcmp(val, "table") != 0 && strcmp(val, "gsl") != 0)) {
            fprintf(stderr, "latsurf bench hold: %s needs %s, got '%s'\n", opt,
                    dst ? "a count such as 10000 or 1e4" : "table or gsl", val ? val : "nothing");
            return CMD_BADINPUT;
        }
        if (draws)
            use_table = strcmp(val, "table") == 0;
    }
    if (events == 0 || pending == 0 || pending > UINT32_MAX / 2) {
        fprintf(stderr, "latsurf bench hold: --events must be > 0 and --pending in 1..%u\n",
                UINT32_MAX / 2);
        return CMD_BADINPUT;
    }

    int rc = CMD_FAIL;
    hold_t h = {0};
    sim_t *sim = sim_new();
    h.rng = rng_stream_new(seed, 0, "bench.hold");
    if (use_table)
        h.table = malloc(HOLD_TABLE * sizeof(*h.table));
    if (!sim || !h.rng || (use_table && !h.table)) {
        fprintf(stderr, "latsurf bench hold: out of memory\n");
        goto out;
    }
    if (use_table)
        for (uint32_t i = 0; i < HOLD_TABLE; i++)
            h.table[i] = (uint32_t)gsl_ran_exponential(h.rng, HOLD_MEAN_NS);
    sim_handler_fn fire = use_table ? hold_fire_table : hold_fire_gsl;

    for (uint64_t i = 0; i < pending; i++)
        if (sim_at(sim, (sim_time_t)gsl_ran_exponential(h.rng, HOLD_MEAN_NS), fire, &h, i)
                .slot == 0) {
            fprintf(stderr, "latsurf bench hold: out of memory scheduling %llu events\n",
                    (unsigned long long)pending);
            goto out;
        }
    /* Warm-up: let the pending times reach the hold model's steady state and
     * the pool and heap reach their peak size before timing. */
    h.left = 2 * pending < 1000000 ? 2 * pending : 1000000;
    sim_run(sim, SIM_TIME_MAX);

    h.left = events;
    double w0 = bench_clock(CLOCK_MONOTONIC), c0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
    uint64_t ran = sim_run(sim, SIM_TIME_MAX);
    double cpu = bench_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    double wall = bench_clock(CLOCK_MONOTONIC) - w0;
    if (ran != events || sim_npending(sim) != pending) {
        fprintf(stderr, "latsurf bench hold: ran %llu events with %llu pending, expected %llu "
                        "and %llu\n",
                (unsigned long long)ran, (unsigned long long)sim_npending(sim),
                (unsigned long long)events, (unsigned long long)pending);
        goto out;
    }
    printf("hold: %llu pending, %llu events, increments Exp(mean %.0f ns) %s\n",
           (unsigned long long)pending, (unsigned long long)events, HOLD_MEAN_NS,
           use_table ? "cycled from a 65536-entry table of GSL draws"
                     : "from gsl_ran_exponential per event");
    /* Per second of this thread's CPU time: on a quiet machine the same as
     * per wall second, and not inflated by other processes sharing the core. */
    printf("hold: %.3f s CPU, %.3f s wall (%.0f events/s), %.1f ns/event, simulated %.3f s\n",
           cpu, wall, (double)events / wall, cpu * 1e9 / (double)events,
           (double)sim_now(sim) * 1e-9);
    printf("%.0f events/s\n", (double)events / cpu);
    rc = CMD_OK;
out:
    free(h.table);
    if (h.rng)
        gsl_rng_free(h.rng);
    sim_free(sim);
    return rc;
}

/* ---- path ---------------------------------------------------------------- */

/* argv[0] is "path"; options --requests N (default 1e6). */
static int bench_path(int argc, char **argv)
{
    double n = 1e6;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--requests") == 0 || strcmp(argv[i], "--events") == 0) &&
            i + 1 < argc) {
            char *end;
            n = strtod(argv[++i], &end);
            if (*end || !(n >= 1000) || n > 1e10) {
                fprintf(stderr, "latsurf bench path: --requests: expected 1000..1e10, got %s\n",
                        argv[i]);
                return CMD_BADINPUT;
            }
        } else {
            fprintf(stderr, "latsurf bench path: unknown option '%s'\n", argv[i]);
            return CMD_BADINPUT;
        }
    }
    bench_path_result_t r;
    char err[1024] = "";
    int rc = bench_path_run(n, &r, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "latsurf bench path: %s\n", err[0] ? err : strerror(-rc));
        return CMD_FAIL;
    }
    printf("%.0f requests/s\n", (double)r.requests / r.cpu_s);
    printf("  %llu simulated requests (%.0f simulated IOPS), %llu events, %.1f events/request\n"
           "  %.3f s CPU, %.3f s wall (%.0f requests/s of wall time), peak RSS %ld KiB\n",
           (unsigned long long)r.requests, r.iops, (unsigned long long)r.events,
           (double)r.events / (double)(r.requests ? r.requests : 1), r.cpu_s, r.wall_s,
           (double)r.requests / r.wall_s, r.maxrss_kib);
    return CMD_OK;
}

/* ---- dispatch ------------------------------------------------------------ */

int cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            bench_usage(stdout);
            return CMD_OK;
        }
    const bench_t *b = &bench_table[0];
    int first = 1;
    if (argc > 1 && argv[1][0] != '-') {
        b = NULL;
        for (size_t i = 0; i < BENCH_COUNT; i++)
            if (strcmp(argv[1], bench_table[i].name) == 0)
                b = &bench_table[i];
        if (!b) {
            fprintf(stderr, "latsurf bench: unknown benchmark '%s'\n", argv[1]);
            bench_usage(stderr);
            return CMD_BADINPUT;
        }
        first = 2;
    }
    /* Hand the bench its options with its name as argv[0]. */
    argv[first - 1] = (char *)b->name;
    return b->fn(argc - first + 1, argv + first - 1);
}
