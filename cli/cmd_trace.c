/*
 * cmd_trace.c - `latsurf trace record` (tracepoints into a text trace, via
 * calibrate/tracerec) and `latsurf trace analyze` (per-request join via
 * calibrate/traceparse + tracejoin, written as a live run with reports/db,
 * and with --export-jsonl as a workload via calibrate/traceexport).
 */
#include "calibrate/traceexport.h"
#include "calibrate/traceparse.h"
#include "calibrate/tracejoin.h"
#include "calibrate/tracerec.h"
#include "cmd.h"
#include "reports/db.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t trace_stop;

static void on_signal(int sig)
{
    (void)sig;
    trace_stop = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_ms(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return errno || *end || end == s || *v < 0 ? -1 : 0;
}

/* The threads of process pid (/proc/PID/task) into pids[*n..cap). */
static int add_threads(long pid, int *pids, size_t *n, size_t cap)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) && *n < cap)
        if (e->d_name[0] != '.')
            pids[(*n)++] = atoi(e->d_name);
    closedir(d);
    return 0;
}

static int trace_record(int argc, char **argv)
{
    const char *out = NULL;
    long duration_ms = -1, pid = -1;
    char **cmdv = NULL;
    /* --event SYS/EVENT, on top of the defaults (e.g. nvme/nvme_setup_cmd) */
    const char *extra[33] = {NULL};
    size_t nextra = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            cmdv = argv + i + 1;
            break;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--event") == 0 && i + 1 < argc) {
            if (nextra == sizeof(extra) / sizeof(extra[0]) - 1 || !strchr(argv[i + 1], '/')) {
                fprintf(stderr, "latsurf trace record: --event: expected SYSTEM/EVENT (at most "
                                "%zu), got '%s'\n", sizeof(extra) / sizeof(extra[0]) - 1,
                        argv[i + 1]);
                return CMD_BADINPUT;
            }
            extra[nextra++] = argv[++i];
        } else if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc) {
            if (parse_ms(argv[++i], &pid) || pid == 0 || kill((pid_t)pid, 0) != 0) {
                fprintf(stderr, "latsurf trace record: --pid: expected the id of a running "
                                "process, got '%s'\n", argv[i]);
                return CMD_BADINPUT;
            }
        } else if (strcmp(argv[i], "--duration-ms") == 0 && i + 1 < argc) {
            if (parse_ms(argv[++i], &duration_ms)) {
                fprintf(stderr, "latsurf trace record: --duration-ms: expected a number of "
                                "milliseconds, got '%s'\n", argv[i]);
                return CMD_BADINPUT;
            }
        } else {
            fprintf(stderr, "latsurf trace record: unexpected argument '%s'\n", argv[i]);
            return CMD_BADINPUT;
        }
    }
    if (cmdv && !*cmdv)
        cmdv = NULL;
    if (!out || (!cmdv && duration_ms < 0 && pid < 0)) {
        fprintf(stderr, "usage: latsurf trace record --out FILE [--duration-ms N] [--pid PID] "
                        "[--event SYS/EVENT]... [-- COMMAND ARGS...] (a command, a pid, a "
                        "duration, or some of them)\n");
        return CMD_BADINPUT;
    }
    char why[256];
    if (!tracerec_available(why, sizeof(why))) {
        fprintf(stderr, "latsurf trace record: %s\n", why);
        return CMD_FAIL;
    }
    FILE *f = fopen(out, "w");
    if (!f) {
        fprintf(stderr, "latsurf trace record: cannot write %s: %s\n", out, strerror(errno));
        return CMD_BADINPUT;
    }

    struct sigaction sa = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    trace_stop = 0;

    tracerec_t *rec = NULL;
    char err[256];
    int rc = CMD_OK;
    if (tracerec_start(extra, 0, &rec, err, sizeof(err)) != 0) {
        fprintf(stderr, "latsurf trace record: %s\n", err);
        rc = CMD_FAIL;
        goto done;
    }
    /* The syscall events follow the command (and what it forks) and/or the
     * threads of --pid; with neither, every task. The command waits on a
     * pipe until it is followed, so its first read is in the trace. */
    int follow[1024], go[2] = {-1, -1};
    size_t nfollow = 0;
    if (pid > 0 && add_threads(pid, follow, &nfollow, 1023) != 0) {
        fprintf(stderr, "latsurf trace record: --pid %ld: cannot list its threads\n", pid);
        rc = CMD_BADINPUT;
        goto done;
    }
    pid_t child = -1;
    if (cmdv) {
        fflush(NULL);
        if (pipe(go) != 0) {
            fprintf(stderr, "latsurf trace record: pipe: %s\n", strerror(errno));
            rc = CMD_FAIL;
            goto done;
        }
        child = fork();
        if (child == 0) {
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            char byte;
            close(go[1]);
            if (read(go[0], &byte, 1) != 1)
                _exit(127); /* the recorder gave up */
            close(go[0]);
            execvp(cmdv[0], cmdv);
            fprintf(stderr, "latsurf trace record: cannot run %s: %s\n", cmdv[0],
                    strerror(errno));
            _exit(127);
        }
        close(go[0]);
        if (child < 0) {
            fprintf(stderr, "latsurf trace record: fork: %s\n", strerror(errno));
            close(go[1]);
            rc = CMD_FAIL;
            goto done;
        }
        follow[nfollow++] = (int)child;
    }
    if (tracerec_follow(rec, follow, nfollow, err, sizeof(err)) != 0) {
        fprintf(stderr, "latsurf trace record: %s\n", err);
        rc = CMD_FAIL;
    }
    if (child > 0) {
        /* the command runs only once it is followed; else it exits 127 */
        if (rc == CMD_OK && write(go[1], "g", 1) != 1)
            rc = CMD_FAIL;
        close(go[1]);
        if (rc != CMD_OK) {
            while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
                ;
            goto done;
        }
    }
    uint64_t start = now_ms();
    int status = 0, reaped = 0, timed_out = 0;
    while (!trace_stop) {
        struct timespec nap = {0, 50 * 1000000L};
        nanosleep(&nap, NULL);
        if (tracerec_drain(rec) != 0) {
            fprintf(stderr, "latsurf trace record: reading the trace buffers failed\n");
            rc = CMD_FAIL;
            break;
        }
        if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
            reaped = 1;
            break;
        }
        if (!cmdv && pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            break; /* the process followed has exited */
        if (duration_ms >= 0 && now_ms() - start >= (uint64_t)duration_ms) {
            timed_out = 1;
            break;
        }
    }
    if (child > 0 && !reaped) {
        kill(child, trace_stop ? SIGINT : SIGTERM);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (tracerec_stop(rec) != 0 && rc == CMD_OK) {
        fprintf(stderr, "latsurf trace record: reading the trace buffers failed\n");
        rc = CMD_FAIL;
    }
    char comment[512];
    int len = snprintf(comment, sizeof(comment), "command:");
    for (char **a = cmdv; a && *a && len < (int)sizeof(comment) - 2; a++)
        len += snprintf(comment + len, sizeof(comment) - (size_t)len, " %s", *a);
    if (!cmdv && pid > 0)
        snprintf(comment, sizeof(comment), "pid %ld", pid);
    else if (!cmdv)
        snprintf(comment, sizeof(comment), "waited %ld ms", duration_ms);
    if (tracerec_write(rec, f, comment) != 0) {
        fprintf(stderr, "latsurf trace record: writing %s failed\n", out);
        rc = CMD_FAIL;
    }
    if (tracerec_missing(rec)[0])
        fprintf(stderr, "latsurf trace record: not available on this kernel: %s\n",
                tracerec_missing(rec));
    fprintf(stderr, "latsurf trace record: %zu events (clock %s) written to %s\n",
            tracerec_count(rec), tracerec_clock(rec), out);
    if (tracerec_lost(rec))
        fprintf(stderr, "latsurf trace record: the kernel lost %llu events (ring buffers "
                        "full): some requests will not join\n",
                (unsigned long long)tracerec_lost(rec));
    if (trace_stop) {
        fprintf(stderr, "latsurf trace record: interrupted\n");
        rc = CMD_FAIL;
    } else if (child > 0 && !timed_out &&
               (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        fprintf(stderr, "latsurf trace record: command %s failed (status %d)\n", cmdv[0],
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        rc = CMD_FAIL;
    }
done:
    tracerec_free(rec); /* removes the instance, also after a signal */
    if (fclose(f) != 0 && rc == CMD_OK)
        rc = CMD_FAIL;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

static void print_metric(const result_t *res, metric_id_t id)
{
    double v;
    if (result_get_id(res, id, &v) == 0)
        printf("  %-34s %12.0f\n", metric_info[id].name, v);
}

/* Why nothing in the trace could be joined, for the exit-2 message. */
static void say_nothing_joined(const char *file, const tracejoin_t *tj)
{
    if (tj->uring_rw == 0 && !tj->has_syscalls)
        fprintf(stderr, "latsurf trace analyze: %s: no io_uring read/write and no syscall "
                        "events (sys_enter_pread64 ...): nothing to join (record with `latsurf "
                        "trace record -- COMMAND` or `--pid PID`)\n", file);
    else if (tj->uring_rw == 0)
        fprintf(stderr, "latsurf trace analyze: %s: the traced tasks did no block I/O (%llu "
                        "blocking syscalls, %llu served by the page cache, %llu block requests "
                        "of other tasks)\n", file, (unsigned long long)tj->sys_calls,
                (unsigned long long)tj->sys_cache, (unsigned long long)tj->blk_unlinked);
    else
        fprintf(stderr, "latsurf trace analyze: %s: none of its %llu io_uring read/write I/Os "
                        "could be joined to a block request and its waiter\n", file,
                (unsigned long long)tj->uring_rw);
}

/* Write the export to a temporary file beside out; its path in tmp (the
 * caller renames it into place or unlinks it). */
static int export_tmp(const char *out, const traceexport_t *x, char *tmp, size_t n)
{
    snprintf(tmp, n, "%s.tmpXXXXXX", out);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "latsurf trace analyze: cannot write %s: %s\n", out, strerror(errno));
        tmp[0] = '\0';
        return CMD_BADINPUT;
    }
    FILE *f = fdopen(fd, "w");
    int ok = f && traceexport_write(x, f) == 0;
    if (f ? fclose(f) != 0 : close(fd) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "latsurf trace analyze: %s: write failed: %s\n", tmp, strerror(errno));
        unlink(tmp);
        tmp[0] = '\0';
        return CMD_FAIL;
    }
    return CMD_OK;
}

static int trace_analyze(int argc, char **argv)
{
    const char *file = NULL, *dbpath = "results.sqlite", *export = NULL;
    uint64_t span = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            dbpath = argv[++i];
        else if (strcmp(argv[i], "--export-jsonl") == 0 && i + 1 < argc)
            export = argv[++i];
        else if (strcmp(argv[i], "--export-span") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (errno || *end || end == argv[i] || argv[i][0] == '-' || v == 0 || v % 4096) {
                fprintf(stderr, "latsurf trace analyze: --export-span: expected a number of "
                                "bytes, a multiple of 4096, got '%s'\n", argv[i]);
                return CMD_BADINPUT;
            }
            span = v;
        } else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "latsurf trace analyze: unexpected argument '%s'\n", argv[i]);
            return CMD_BADINPUT;
        }
    }
    if (!file) {
        fprintf(stderr, "usage: latsurf trace analyze FILE [--db FILE] [--export-jsonl OUT "
                        "[--export-span BYTES]]\n");
        return CMD_BADINPUT;
    }
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "latsurf trace analyze: cannot open %s: %s\n", file, strerror(errno));
        return CMD_BADINPUT;
    }
    traceparse_t tp;
    traceparse_err_t perr = {0, 0, ""};
    traceparse_init(&tp);
    int r = traceparse_file(f, &tp, &perr);
    fclose(f);
    if (r == -EINVAL) {
        fprintf(stderr, "latsurf trace analyze: %s:%u: %s\n", file, perr.line, perr.what);
        traceparse_fini(&tp);
        return CMD_BADINPUT;
    }
    if (r < 0) {
        fprintf(stderr, "latsurf trace analyze: reading %s: %s\n", file, strerror(-r));
        traceparse_fini(&tp);
        return CMD_FAIL;
    }
    if (tp.n == 0) {
        fprintf(stderr, "latsurf trace analyze: %s: no block, irq, io_uring or sched events "
                        "(expected the text format of /sys/kernel/tracing/trace)\n", file);
        traceparse_fini(&tp);
        return CMD_BADINPUT;
    }
    tracejoin_t tj;
    result_t res;
    traceexport_t x;
    char tmp[4096] = "";
    tracejoin_init(&tj);
    result_init(&res);
    traceexport_init(&x);
    int rc = CMD_OK;
    if (tracejoin_run(&tp, &tj) || tracejoin_result(&tj, &res, 0)) {
        fprintf(stderr, "latsurf trace analyze: out of memory\n");
        rc = CMD_FAIL;
        goto out;
    }
    if (tj.joined == 0) { /* nothing written: neither a run nor an export */
        say_nothing_joined(file, &tj);
        rc = CMD_BADINPUT;
        goto out;
    }
    if (export) {
        if (strlen(export) + 16 > sizeof(tmp)) {
            fprintf(stderr, "latsurf trace analyze: --export-jsonl: path too long\n");
            rc = CMD_BADINPUT;
            goto out;
        }
        if (traceexport_build(&tp, &tj, span, &x) != 0) {
            fprintf(stderr, "latsurf trace analyze: out of memory\n");
            rc = CMD_FAIL;
            goto out;
        }
        if ((rc = export_tmp(export, &x, tmp, sizeof(tmp))) != CMD_OK)
            goto out;
    }
    res.wall_s = (double)(tj.t_last - tj.t_first) / 1e9;

    printf("%s: %zu events (%llu lost), %.3f s\n", file, tp.n, (unsigned long long)tp.lost,
           res.wall_s);
    printf("  io_uring read/write I/Os           %12llu\n", (unsigned long long)tj.uring_rw);
    if (tj.followed)
        printf("  ... of tasks not followed (out)    %12llu  (%llu tasks followed)\n",
               (unsigned long long)tj.other_tasks, (unsigned long long)tj.followed);
    printf("  joined per request                 %12llu  (%.1f%%)\n",
           (unsigned long long)tj.joined, 100.0 * tracejoin_rate(&tj));
    if (tj.has_syscalls) {
        printf("  blocking syscalls (traced)         %12llu\n", (unsigned long long)tj.sys_calls);
        printf("  ... reached the device (requests)  %12llu  (%llu of several block requests)\n",
               (unsigned long long)tj.sys_device, (unsigned long long)tj.sys_split);
        printf("  ... served by the page cache       %12llu\n", (unsigned long long)tj.sys_cache);
        printf("  libaio iocbs                       %12llu\n",
               (unsigned long long)tj.aio_requests);
        printf("  block reads of the traced tasks    %12llu  (%llu joined to a syscall, %.1f%%)\n",
               (unsigned long long)tj.blk_reads, (unsigned long long)tj.blk_reads_joined,
               tj.blk_reads ? 100.0 * (double)tj.blk_reads_joined / (double)tj.blk_reads : 0.0);
    }
    printf("  block requests (not io_uring)      %12llu  (%llu)\n",
           (unsigned long long)tj.blk_requests, (unsigned long long)tj.blk_unlinked);
    printf("  completions without a start        %12llu\n",
           (unsigned long long)tj.orphan_completes);
    double v;
    if (result_get_id(&res, METRIC_LOCALITY_MISS, &v) == 0)
        printf("  %-34s %12.3f\n", metric_info[METRIC_LOCALITY_MISS].name, v);
    if (result_get_id(&res, METRIC_DEFERRED, &v) == 0)
        printf("  %-34s %12.3f\n", metric_info[METRIC_DEFERRED].name, v);
    static const metric_id_t shown[] = {
        METRIC_LAT_P50, METRIC_LAT_P99, METRIC_D2R_P50, METRIC_D2R_P99,
        METRIC_CHAIN_DEVICE_SERVICE_P50, METRIC_CHAIN_IRQ_HANDLER_P50,
        METRIC_CHAIN_BLK_TO_WAKEUP_P50, METRIC_CHAIN_IPI_TO_WAKEUP_P50,
        METRIC_CHAIN_WAKEUP_TO_RUN_P50, METRIC_CHAIN_RUN_TO_CQE_P50,
        METRIC_CHAIN_BLK_TO_READY_SAME_P50, METRIC_CHAIN_BLK_TO_READY_CROSS_P50};
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        print_metric(&res, shown[i]);

    char *err = NULL;
    sqlite3 *db = db_open(dbpath, &err);
    if (!db) {
        fprintf(stderr, "latsurf trace analyze: %s: %s\n", dbpath, err ? err : "cannot open");
        sqlite3_free(err);
        rc = CMD_FAIL;
        goto out;
    }
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    db_run_info_t info = {.scenario = file,
                          .variant = "trace",
                          .mode = "live",
                          .host = host,
                          .version = cmd_version()};
    int64_t run = db_write_run(db, &info, &res, &err);
    if (run < 0) {
        fprintf(stderr, "latsurf trace analyze: %s: %s\n", dbpath, err ? err : "write failed");
        sqlite3_free(err);
        rc = CMD_FAIL;
    } else {
        printf("wrote run %lld (mode live) to %s\n", (long long)run, dbpath);
    }
    db_close(db);
    if (rc == CMD_OK && tmp[0]) {
        if (rename(tmp, export) != 0) {
            fprintf(stderr, "latsurf trace analyze: cannot write %s: %s\n", export,
                    strerror(errno));
            rc = CMD_FAIL;
        } else {
            tmp[0] = '\0';
            fprintf(stderr, "latsurf trace analyze: %zu requests of %llu threads exported to %s "
                            "(%llu not joined, left out; offsets from device byte %llu, span "
                            "%llu bytes)\n", x.n, (unsigned long long)x.threads, export,
                    (unsigned long long)x.left_out, (unsigned long long)x.offset_base,
                    (unsigned long long)x.span);
        }
    }
out:
    if (tmp[0])
        unlink(tmp);
    traceexport_fini(&x);
    result_fini(&res);
    tracejoin_fini(&tj);
    traceparse_fini(&tp);
    return rc;
}

int cmd_trace(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "record") == 0) {
        if (cmd_wants_help("trace", argc - 1, argv + 1))
            return CMD_OK;
        return trace_record(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "analyze") == 0) {
        if (cmd_wants_help("trace", argc - 1, argv + 1))
            return CMD_OK;
        return trace_analyze(argc - 1, argv + 1);
    }
    if (cmd_wants_help("trace", argc, argv))
        return CMD_OK;
    fprintf(stderr, "usage: latsurf trace record --out FILE [--duration-ms N] "
                    "[--event SYS/EVENT]... [-- COMMAND ...]\n"
                    "       latsurf trace analyze FILE [--db FILE] [--export-jsonl OUT "
                    "[--export-span BYTES]]\n");
    return CMD_BADINPUT;
}
