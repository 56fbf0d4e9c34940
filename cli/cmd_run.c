/*
 * cmd_run.c - `latsurf run`: every variant x replication of a scenario, each
 * written to SQLite in its own transaction, then the comparisons and the
 * summary table. Ctrl-C keeps finished replications and drops the one in
 * progress.
 */
#include "cmd.h"

#include "run/runner.h"
#include "run/scenario.h"
#include "reports/db.h"
#include "reports/report.h"
#include "reports/report_html.h"
#include "reports/report_table.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUN_DEFAULT_SCENARIO "scenarios/default.json"

typedef struct {
    const char *scenario, *db, *html;
    char **sets;
    size_t nsets;
    int64_t reps, seed;
    int quiet;
} run_args_t;

/* Set by SIGINT/SIGTERM; the run in progress sees it through runner_run's stop. */
static volatile sig_atomic_t run_stop;

/* The progress line of a long run: which run, requests done, simulated
 * time, rate and an estimate of the wall time left (from the simulated
 * time still to go at the pace so far). */
typedef struct {
    uint32_t done, total, rep;
    const char *variant;
} run_progress_t;

#define RUN_PROGRESS_S 0.5 /* wall seconds between progress lines */

static void run_progress(const exec_progress_report_t *p, void *ctx)
{
    const run_progress_t *r = ctx;
    double left = p->now_ns ? p->wall_s * (double)(p->end_ns - p->now_ns) / (double)p->now_ns : 0;
    fprintf(stderr, "\r[%u/%u] %s rep %u: %llu requests, %.3f of %.3f s simulated, %.0f req/s, "
            "ETA %.0f s\033[K", r->done + 1, r->total, r->variant, r->rep,
            (unsigned long long)p->requests, (double)p->now_ns / 1e9, (double)p->end_ns / 1e9,
            (double)p->requests / p->wall_s, left);
}

static void on_sigint(int sig)
{
    (void)sig;
    run_stop = 1;
}

static int run_parse_args(int argc, char **argv, run_args_t *a)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},   {"report", required_argument, NULL, 'r'},
        {"reps", required_argument, NULL, 'n'}, {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},  {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0},
    };
    a->db = "results.sqlite";
    a->reps = a->seed = -1;
    a->sets = calloc((size_t)argc, sizeof(char *));
    if (!a->sets)
        return CMD_FAIL;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "q", opts, NULL)) != -1) {
        switch (c) {
        case 'd': a->db = optarg; break;
        case 'r': a->html = optarg; break;
        case 'n':
        case 's': {
            long long v = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < (c == 'n' ? 1 : 0) || v > (c == 'n' ? 10000 : (1LL << 53))) {
                fprintf(stderr, "latsurf run: --%s: expected %s, got '%s'\n",
                        c == 'n' ? "reps" : "seed",
                        c == 'n' ? "an integer in [1, 10000]" : "an integer >= 0", optarg);
                return CMD_BADINPUT;
            }
            *(c == 'n' ? &a->reps : &a->seed) = v;
            break;
        }
        case 'S': a->sets[a->nsets++] = optarg; break;
        case 'q': a->quiet = 1; break;
        default: return CMD_BADINPUT;
        }
    }
    if (optind < argc)
        a->scenario = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "latsurf run: unexpected argument '%s'\n", argv[optind]);
        return CMD_BADINPUT;
    }
    return CMD_OK;
}

static char *run_hostname(void)
{
    char h[256] = "";
    gethostname(h, sizeof(h) - 1);
    return strdup(h);
}

int cmd_run(int argc, char **argv)
{
    if (cmd_wants_help("run", argc, argv)) {
        printf("\nSCENARIO defaults to %s. Results go to --db (default results.sqlite in the\n"
               "current directory), one transaction per run. --set KEY=VAL overrides a scenario\n"
               "key by dotted path (devices.0.irq_coalescing.time_us=50). --reps and --seed\n"
               "override run.replications and run.seed. Progress goes to stderr on a terminal.\n",
               RUN_DEFAULT_SCENARIO);
        return CMD_OK;
    }
    run_args_t a = {0};
    int rc = run_parse_args(argc, argv, &a);
    if (rc != CMD_OK) {
        free(a.sets);
        return rc;
    }
    char extra[2][64];
    if (a.reps > 0) {
        snprintf(extra[0], sizeof(extra[0]), "run.replications=%lld", (long long)a.reps);
        a.sets[a.nsets++] = extra[0];
    }
    if (a.seed >= 0) {
        snprintf(extra[1], sizeof(extra[1]), "run.seed=%lld", (long long)a.seed);
        a.sets[a.nsets++] = extra[1];
    }
    char *deffile = NULL;
    if (!a.scenario) {
        scn_t probe = {.file = (char *)"."};
        deffile = scn_resolve(&probe, RUN_DEFAULT_SCENARIO);
        a.scenario = deffile;
    }
    char err[1024] = "";
    scn_t *s = NULL;
    rc = scn_load(a.scenario, a.sets, a.nsets, &s, err, sizeof(err));
    free(a.sets);
    if (rc) {
        fprintf(stderr, "latsurf run: %s\n", err);
        free(deffile);
        return rc == -EINVAL || rc == -ENOENT ? CMD_BADINPUT : CMD_FAIL;
    }
    char *dberr = NULL;
    sqlite3 *db = db_open(a.db, &dberr);
    if (!db) {
        fprintf(stderr, "latsurf run: %s\n", dberr);
        sqlite3_free(dberr);
        scn_free(s);
        free(deffile);
        return CMD_FAIL;
    }
    struct sigaction sa = {.sa_handler = on_sigint}, old_int, old_term;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int progress = !a.quiet && isatty(STDERR_FILENO);
    char note[1024], said[1024] = ""; /* once, not once per variant */
    for (uint32_t v = 0; v < s->nvar && !a.quiet; v++)
        if (runner_note(s, v, note, sizeof(note)) && strcmp(note, said) != 0) {
            fprintf(stderr, "latsurf run: note: %s\n", note);
            strcpy(said, note);
        }
    char *host = run_hostname();
    uint32_t total = s->nvar * s->run.replications, done = 0;
    rc = CMD_OK;
    /* replication-major, so an interrupted run still has every variant of the
     * first replications: the paired comparisons need them */
    for (uint32_t rep = 0; rep < s->run.replications && rc == CMD_OK; rep++) {
        for (uint32_t v = 0; v < s->nvar && rc == CMD_OK; v++) {
            run_progress_t pr = {done, total, rep, s->var[v].pol.name};
            exec_progress_t prog = {.fn = run_progress, .ctx = &pr, .every_s = RUN_PROGRESS_S};
            if (progress)
                fprintf(stderr, "\r[%u/%u] %s rep %u ...\033[K", done + 1, total,
                        s->var[v].pol.name, rep);
            result_t res;
            result_init(&res);
            int r = runner_run_progress(s, v, rep, &run_stop, progress ? &prog : NULL, &res, err,
                                        sizeof(err));
            if (r == 0) {
                char *cal = runner_calibration(s, v);
                db_run_info_t info = {
                    .scenario = s->name, .variant = s->var[v].pol.name, .mode = "sim",
                    .replication = rep, .seed = s->run.seed, .calibration = cal,
                    .host = host, .version = cmd_version(), .scenario_json = s->json,
                    .what_if = s->var[v].what_if,
                };
                if (db_write_run(db, &info, &res, &dberr) < 0) {
                    fprintf(stderr, "\nlatsurf run: %s: %s\n", a.db, dberr);
                    sqlite3_free(dberr);
                    rc = CMD_FAIL;
                }
                free(cal);
            } else if (r == -EINTR) {
                fprintf(stderr, "\nlatsurf run: interrupted; %u finished runs kept in %s\n", done,
                        a.db);
                rc = CMD_FAIL;
            } else {
                fprintf(stderr, "\nlatsurf run: %s\n", err[0] ? err : strerror(-r));
                rc = r == -EINVAL ? CMD_BADINPUT : CMD_FAIL;
            }
            result_fini(&res);
            done++;
        }
    }
    if (progress)
        fprintf(stderr, "\r\033[K");
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rc == CMD_OK && report_compare(db, s->name, s->run.baseline, &dberr) != 0) {
        fprintf(stderr, "latsurf run: comparisons: %s\n", dberr ? dberr : "failed");
        sqlite3_free(dberr);
        dberr = NULL;
    }
    if (rc == CMD_OK) {
        printf("scenario %s: %u variants x %u replications (%s)\n", s->name, s->nvar,
               s->run.replications, s->file);
        if (report_print_text(db, s->name, stdout, &dberr) != 0) {
            fprintf(stderr, "latsurf run: summary: %s\n", dberr ? dberr : "failed");
            sqlite3_free(dberr);
        }
        if (a.html) {
            if (report_html_file(db, s->name, s->run.baseline, a.db, a.html, &dberr) != 0) {
                fprintf(stderr, "latsurf run: --report %s: %s\n", a.html,
                        dberr ? dberr : "failed");
                sqlite3_free(dberr);
                dberr = NULL;
                rc = CMD_FAIL;
            } else {
                printf("report written to %s\n", a.html);
            }
        }
        printf("results written to %s\n", a.db);
    }
    free(host);
    db_close(db);
    scn_free(s);
    free(deffile);
    return rc;
}
