/*
 * cmd_sweep.c - `latsurf sweep`: the cartesian product of --grid values x
 * variants x replications, run by forked workers or MPI ranks and written
 * by one process, one transaction per task, so a killed sweep loses only
 * its in-flight tasks and a rerun skips what is already in the database.
 */
#include "cmd.h"

#include "run/runner.h"
#include "sweep/sweep.h"
#include "sweep/sweep_local.h"
#include "sweep/sweep_mpi.h"
#include "reports/db.h"
#include "reports/report.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *scenario, *db;
    char **sets, **grids;
    size_t nsets, ngrid;
    long workers;
    int64_t reps, seed;
    int quiet;
    char extra[2][64];
} sweep_args_t;

/* The writer: the sink the backends deliver to. */
typedef struct {
    sweep_sink_t sink;
    const sweep_plan_t *plan;
    sqlite3 *db;
    const char *dbpath;
    size_t done, total;
    int progress;
    double t0, last_draw;
} sweep_writer_t;

/* Set by SIGINT/SIGTERM, here and in the forked workers (their own copy):
 * passed to the pool and the back ends as their stop flag. */
static volatile sig_atomic_t sweep_stop;

static void on_signal(int sig)
{
    (void)sig;
    sweep_stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int sweep_bad(const char *what, const char *expected, const char *got)
{
    fprintf(stderr, "latsurf sweep: --%s: expected %s, got '%s'\n", what, expected, got);
    return CMD_BADINPUT;
}

static int sweep_parse_args(int argc, char **argv, sweep_args_t *a)
{
    static const struct option opts[] = {
        {"grid", required_argument, NULL, 'g'}, {"db", required_argument, NULL, 'd'},
        {"workers", required_argument, NULL, 'w'}, {"set", required_argument, NULL, 'S'},
        {"reps", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'}, {NULL, 0, NULL, 0},
    };
    a->db = "results.sqlite";
    a->reps = a->seed = -1;
    a->sets = calloc((size_t)argc + 2, sizeof(char *));
    a->grids = calloc((size_t)argc, sizeof(char *));
    if (!a->sets || !a->grids)
        return CMD_FAIL;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        long long v;
        switch (c) {
        case 'g': a->grids[a->ngrid++] = optarg; break;
        case 'd': a->db = optarg; break;
        case 'S': a->sets[a->nsets++] = optarg; break;
        case 'q': a->quiet = 1; break;
        case 'w':
            v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 4096)
                return sweep_bad("workers", "an integer in [1, 4096]", optarg);
            a->workers = (long)v;
            break;
        case 'n':
        case 's':
            v = strtoll(optarg, &end, 10);
            if (!*optarg || *end || v < (c == 'n' ? 1 : 0) || v > (c == 'n' ? 10000 : (1LL << 53)))
                return sweep_bad(c == 'n' ? "reps" : "seed",
                                 c == 'n' ? "an integer in [1, 10000]" : "an integer >= 0", optarg);
            *(c == 'n' ? &a->reps : &a->seed) = v;
            break;
        default: return CMD_BADINPUT;
        }
    }
    if (optind < argc)
        a->scenario = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "latsurf sweep: unexpected argument '%s'\n", argv[optind]);
        return CMD_BADINPUT;
    }
    if (!a->scenario) {
        fprintf(stderr, "latsurf sweep: expected a SCENARIO file\n");
        return CMD_BADINPUT;
    }
    /* --reps and --seed are sets applied before the grids, like `run`'s */
    if (a->reps > 0) {
        snprintf(a->extra[0], sizeof(a->extra[0]), "run.replications=%lld", (long long)a->reps);
        a->sets[a->nsets++] = a->extra[0];
    }
    if (a->seed >= 0) {
        snprintf(a->extra[1], sizeof(a->extra[1]), "run.seed=%lld", (long long)a->seed);
        a->sets[a->nsets++] = a->extra[1];
    }
    return CMD_OK;
}

static void sweep_draw(sweep_writer_t *w, int final)
{
    double t = now_s(), el = t - w->t0;
    if (!final && t - w->last_draw < 0.2 && w->done < w->total)
        return;
    w->last_draw = t;
    double rate = el > 0 ? (double)w->done / el : 0;
    if (final) {
        fprintf(stderr, "\r%70s\r", "");
        return;
    }
    char eta[32] = "--";
    if (rate > 0) {
        double s = (double)(w->total - w->done) / rate;
        snprintf(eta, sizeof(eta), "%dm%02ds", (int)(s / 60), (int)s % 60);
    }
    fprintf(stderr, "\r[%zu/%zu] %.2f tasks/s, ETA %s      ", w->done, w->total, rate, eta);
}

static int sweep_deliver(sweep_sink_t *k, uint32_t task, const result_t *res, const char *host,
                         char *err, size_t errlen)
{
    sweep_writer_t *w = (sweep_writer_t *)k;
    const sweep_task_t *t = &w->plan->task[task];
    const scn_t *s = w->plan->point[t->point].scn;
    char *cal = runner_calibration(s, t->variant), *dberr = NULL;
    db_run_info_t info = {
        .scenario = w->plan->point[t->point].name, .variant = s->var[t->variant].pol.name,
        .mode = "sim", .replication = t->rep, .seed = s->run.seed, .calibration = cal,
        .host = host, .version = cmd_version(), .scenario_json = s->json, .task_key = t->key,
        .what_if = s->var[t->variant].what_if,
    };
    int rc = 0;
    if (db_write_run(w->db, &info, res, &dberr) < 0) {
        snprintf(err, errlen, "%s: %s", w->dbpath, dberr ? dberr : "write failed");
        sqlite3_free(dberr);
        rc = -EIO;
    }
    free(cal);
    if (rc == 0) {
        w->done++;
        if (w->progress)
            sweep_draw(w, 0);
    }
    return rc;
}

/* A comparisons row set per point, as `latsurf run` leaves for a scenario. */
static void sweep_compare(sqlite3 *db, const sweep_plan_t *p)
{
    for (size_t i = 0; i < p->npoint; i++) {
        char *dberr = NULL;
        if (report_compare(db, p->point[i].name, p->point[i].scn->run.baseline, &dberr) != 0) {
            fprintf(stderr, "latsurf sweep: comparisons for %s: %s\n", p->point[i].name,
                    dberr ? dberr : "failed");
        }
        sqlite3_free(dberr);
    }
}

static void sweep_help(void)
{
    printf("\nEvery combination of the --grid values (KEY is a --set path; values are\n"
           "parsed like --set, split at commas outside JSON brackets) is one point; each\n"
           "point runs every variant x replication. --set, --reps and --seed apply to all\n"
           "points. Runs go to --db (default results.sqlite) as scenario \"NAME[k=v,...]\",\n"
           "one transaction per task; rerunning the same sweep skips tasks already there.\n"
           "--workers N forked processes (default: online CPUs). Under mpirun, the ranks\n"
           "share the tasks and rank 0 writes. See docs/sweep.md.\n"
           "MPI support: %s\n",
           sweep_mpi_built() ? "built in" : "not built (needs libopenmpi-dev at build time)");
}

static int sweep_exit_code(int rc)
{
    return rc == 0 ? CMD_OK : rc == -EINVAL || rc == -ENOENT ? CMD_BADINPUT : CMD_FAIL;
}

int cmd_sweep(int argc, char **argv)
{
    if (cmd_wants_help("sweep", argc, argv)) {
        sweep_help();
        return CMD_OK;
    }
    sweep_args_t a = {0};
    int rc = sweep_parse_args(argc, argv, &a);
    int mpi_size = sweep_mpi_env_size(), use_mpi = 0, rank = 0, size = 1;
    if (rc == CMD_OK && mpi_size > 1 && !sweep_mpi_built()) {
        fprintf(stderr, "latsurf sweep: started by mpirun with %d ranks, but this latsurf was "
                "built without MPI (install libopenmpi-dev and rebuild)\n", mpi_size);
        rc = CMD_FAIL;
    }
    if (rc != CMD_OK) {
        free(a.sets), free(a.grids);
        return rc;
    }
    use_mpi = mpi_size >= 1 && sweep_mpi_built();
    rank = use_mpi ? sweep_mpi_env_rank() : 0;

    /* The worker pool forks before MPI_Init, so what the workers run (the
     * plan) and what sizes the pool (rank 0's pending tasks) come first. */
    char err[2048] = "";
    sweep_plan_t plan;
    int r = sweep_plan_load(&plan, a.scenario, a.sets, a.nsets, a.grids, a.ngrid, err,
                            sizeof(err));
    free(a.sets), free(a.grids);
    if (r) {
        if (rank)
            fprintf(stderr, "latsurf sweep: rank %d: %s\n", rank, err);
        else
            fprintf(stderr, "latsurf sweep: %s\n", err);
        memset(&plan, 0, sizeof(plan));
        rc = sweep_exit_code(r);
    }
    sweep_writer_t w = {.sink.deliver = sweep_deliver, .plan = &plan, .dbpath = a.db};
    uint32_t *todo = NULL;
    size_t ntodo = 0;
    if (rc == CMD_OK && rank == 0) {
        char *dberr = NULL;
        if (!(w.db = db_open(a.db, &dberr)) || sweep_pending(w.db, &plan, &todo, &ntodo, &dberr)) {
            fprintf(stderr, "latsurf sweep: %s\n", dberr ? dberr : "cannot open the database");
            sqlite3_free(dberr);
            rc = CMD_FAIL;
        }
    }
    /* one worker per rank by default under mpirun, which starts a rank per core */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned workers = a.workers > 0 ? (unsigned)a.workers
                       : use_mpi     ? 1u
                       : ncpu > 0    ? (unsigned)ncpu
                                     : 1u;
    if (!use_mpi && workers > ntodo)
        workers = (unsigned)ntodo;
    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int); /* before the fork: workers stop on Ctrl-C too */
    sigaction(SIGTERM, &sa, &old_term);
    sweep_pool_t *pool = NULL;
    if (rc == CMD_OK && (r = sweep_pool_start(&pool, &plan, workers, &sweep_stop, err, sizeof(err))) != 0) {
        fprintf(stderr, "latsurf sweep: %s\n", err);
        rc = CMD_FAIL;
    }
    if (use_mpi) {
        int mr = sweep_mpi_init(&rank, &size);
        if (mr != 0) {
            fprintf(stderr, "latsurf sweep: MPI_Init failed\n");
            rc = CMD_FAIL;
            use_mpi = 0;
        } else if (!sweep_mpi_all_ok(rc == CMD_OK) && rc == CMD_OK) {
            rc = CMD_FAIL; /* another rank said why */
        }
    }
    if (rc == CMD_OK) {
        size_t nvar = plan.npoint ? plan.point[0].scn->nvar : 0;
        unsigned nrep = plan.npoint ? plan.point[0].scn->run.replications : 0;
        w.total = ntodo;
        w.progress = rank == 0 && !a.quiet && isatty(STDERR_FILENO);
        char how[64];
        if (use_mpi)
            snprintf(how, sizeof(how), "%d MPI ranks x %u workers", size, workers);
        else
            snprintf(how, sizeof(how), "%u workers", workers);
        if (rank == 0 && !a.quiet)
            fprintf(stderr, "sweep %s: %zu points x %zu variants x %u replications = %zu tasks, "
                    "%zu already in %s, %zu to run on %s\n",
                    plan.point[0].scn->name, plan.npoint, nvar, nrep, plan.ntask,
                    plan.ntask - ntodo, a.db, ntodo, how);
        w.t0 = now_s();
        r = use_mpi ? sweep_mpi_run(&plan, pool, todo, ntodo, &w.sink, &sweep_stop, err,
                                    sizeof(err))
                    : sweep_local_run(&plan, pool, todo, ntodo, &w.sink, &sweep_stop, err,
                                      sizeof(err));
        double el = now_s() - w.t0;
        if (w.progress)
            sweep_draw(&w, 1);
        rc = sweep_exit_code(r);
        if (rank == 0) {
            if (r == -EINTR)
                fprintf(stderr, "latsurf sweep: interrupted; rerun the same command to resume\n");
            else if (r)
                fprintf(stderr, "latsurf sweep: %s\n", err[0] ? err : strerror(-r));
            if (r == 0)
                sweep_compare(w.db, &plan);
            printf("sweep %s: %zu of %zu tasks run in %.2f s (%.2f tasks/s, %s), %zu skipped "
                   "as done, %zu left; results in %s\n",
                   plan.point[0].scn->name, w.done, ntodo, el,
                   el > 0 ? (double)w.done / el : 0.0, how, plan.ntask - ntodo, ntodo - w.done,
                   a.db);
        }
    }
    sweep_pool_free(pool);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (use_mpi)
        sweep_mpi_finalize();
    free(todo);
    db_close(w.db);
    sweep_plan_free(&plan);
    return rc;
}
