/*
 * test_live.c - the live backend and `latsurf live` / `latsurf validate`:
 * a live run on a small file writes runs with mode 'live' and the contract
 * metrics, with ordered stamps and the policy's placement in the request
 * rows; the safety refusals (mounted block device, --allow-write on a file
 * latsurf did not create, writes without --allow-write, a target too
 * small) exit 2; SIGINT keeps the finished variants and nothing half
 * written; validate writes its comparisons, and a later run keeps them.
 * Plus the small parsers.
 *
 * Live runs skip (with the reason) only where a probe finds io_uring,
 * O_DIRECT or a block device under the filesystem missing; a live run
 * that fails is a test failure.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "live/hog.h"
#include "live/target.h"
#include "live/topology.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* In the build tree, not /tmp: it must be on a filesystem with O_DIRECT. */
static char dir[] = "latsurf-live-XXXXXX";
static char why_skip[256];   /* a probe found a feature missing: the live tests skip */
static char first_run[1024]; /* the live run that creates t.dat failed: they fail */

static const char *bin(void)
{
    return tu_bin();
}

static const char *path_in(const char *name)
{
    return tu_path(dir, name);
}

static void write_file(const char *name, const char *text)
{
    tu_write(dir, name, text);
}

/* Run latsurf with args in dir; stdout+stderr into out; the exit code. */
/* A failed command shows what it said, so a rare failure explains itself. */
static int run_cli(const char *args, char *out, size_t n)
{
    int rc = tu_cli(dir, args, out, n);
    if (rc)
        printf("latsurf %s: exit %d\n%s\n", args, rc, out);
    return rc;
}

static double db_num(const char *db, const char *sql) { return tu_db_file_num(dir, db, sql); }

/* QD1 4 KiB random reads over 4 MiB; two affinity variants. */
static const char *scn =
    "{\"name\":\"live-t\",\"host\":{\"cpus\":2},"
    "\"devices\":[{\"type\":\"nvme\",\"queues\":1}],"
    "\"workload\":[{\"type\":\"bulk\",\"queue_depth\":1,\"bytes\":4096,\"read_fraction\":1,"
    "\"span_bytes\":4194304,\"class\":\"hot-metadata\",\"consumer_cpu\":0}],"
    "\"policy\":{\"throughput_batch\":1},"
    "\"variants\":[{\"name\":\"kernel\",\"affinity\":\"kernel\"},"
    "{\"name\":\"consumer\",\"affinity\":\"consumer\"}],"
    "\"run\":{\"duration_ms\":250,\"warmup_ms\":50,\"replications\":1,\"record_requests\":50}}";

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    write_file("s.json", scn);
    /* what a live run needs of the host; then the run that creates the
     * target the live tests share, whose failure is theirs */
    if (!tu_have_uring(why_skip, sizeof(why_skip)) ||
        !tu_have_odirect(dir, why_skip, sizeof(why_skip)) ||
        !tu_have_blockdev(dir, why_skip, sizeof(why_skip)))
        return 0;
    char out[4096];
    /* 200 ms measured after the 50 ms warm-up: a shorter window can see no
     * completion at all when the host is loaded (a CI machine, a parallel ctest) */
    int rc = run_cli("live s.json --target t.dat --create 4M --duration-ms 250 --db warm.sqlite -q",
                     out, sizeof(out));
    if (rc != 0)
        snprintf(first_run, sizeof(first_run), "exit %d: %.900s", rc, out);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return tu_systemf("rm -rf %s", dir);
}

#define NEED_LIVE()                                                                              \
    do {                                                                                         \
        tu_skip_unless(!why_skip[0], "%s", why_skip);                                            \
        if (first_run[0])                                                                        \
            fail_msg("the live run creating t.dat failed: %s", first_run);                       \
    } while (0)

/* ---- parsers ---------------------------------------------------------- */

static void test_cpulist(void **state)
{
    (void)state;
    bool m[16] = {0};
    assert_int_equal(live_topo_parse_cpulist("0-3,8,10-11\n", m, 16), 7);
    assert_true(m[0] && m[3] && m[8] && m[11] && !m[4] && !m[9]);
    bool z[4] = {0};
    assert_int_equal(live_topo_parse_cpulist("2-9", z, 4), 2); /* clipped to the CPUs we have */
    assert_int_equal(live_topo_parse_cpulist("3-1", z, 4), -EINVAL);
    assert_int_equal(live_topo_parse_cpulist("x", z, 4), -EINVAL);
}

static void test_sizes(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(live_target_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(live_target_parse_size("256M", &v), 0);
    assert_int_equal(v, 256ull << 20);
    assert_int_equal(live_target_parse_size("2GiB", &v), 0);
    assert_int_equal(v, 2ull << 30);
    assert_int_equal(live_target_parse_size("0", &v), -EINVAL);
    assert_int_equal(live_target_parse_size("-1G", &v), -EINVAL);
    assert_int_equal(live_target_parse_size("12Q", &v), -EINVAL);
    assert_int_equal(live_target_parse_size("99999999999T", &v), -EINVAL);
}

/* The host's map for the filesystem under test: queues fire on real CPUs
 * and every CPU maps to a queue. */
static void test_topology(void **state)
{
    (void)state;
    char why[256], err[256];
    tu_skip_unless(tu_have_blockdev(".", why, sizeof(why)), "%s", why);
    live_topo_t t;
    if (live_topo_read(".", &t, err, sizeof(err)) != 0)
        fail_msg("live_topo_read: %s", err);
    assert_true(t.ncpus >= 1 && t.nqueues >= 1 && t.nnodes >= 1);
    for (uint32_t q = 0; q < t.nqueues; q++)
        assert_true(t.queue_irq_cpu[q] < t.ncpus);
    for (uint32_t c = 0; c < t.ncpus; c++)
        assert_true(t.cpu_queue[c] < t.nqueues);
    assert_true(t.logical_block >= 512);
    live_topo_fini(&t);
}

/* ---- live runs -------------------------------------------------------- */

/* host.background runs for real live: a hog busy 2 ms every 4 ms uses CPU
 * time while it runs (some: the VM may be shared) and stops on request; a
 * CPU that is not online here is bad input naming the entry. */
static void test_live_hog(void **state)
{
    (void)state;
    host_background_t bg = {.cpu = 0, .period_us = 4000, .busy_us = 2000};
    host_cfg_t h = {.background = &bg, .nbackground = 1};
    char err[256] = "";
    live_hog_t *g = NULL;
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    assert_int_equal(live_hog_start(&h, 1, &g, err, sizeof(err)), 0);
    assert_non_null(g);
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    live_hog_stop(g);
    getrusage(RUSAGE_SELF, &r1);
    /* user + system: its clock reads (CLOCK_THREAD_CPUTIME_ID) are syscalls */
    double used = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                           r0.ru_stime.tv_sec) +
                  (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                           r0.ru_stime.tv_usec) / 1e6;
    assert_true(used > 0.01);  /* 50% of 0.2 s on an idle CPU; at least 10 ms */
    assert_true(used < 0.16);  /* and it sleeps: not a spinner */
    bg.cpu = 7;
    assert_int_equal(live_hog_start(&h, 2, &g, err, sizeof(err)), -EINVAL);
    assert_null(g);
    assert_non_null(strstr(err, "host.background.0.cpu"));
    h.nbackground = 0;
    assert_int_equal(live_hog_start(&h, 2, &g, err, sizeof(err)), 0);
    assert_null(g);
}

static void test_live_run(void **state)
{
    (void)state;
    NEED_LIVE();
    char out[8192];
    unlink(path_in("r.sqlite"));
    int rc = run_cli("live s.json --target t.dat --db r.sqlite --duration-ms 250", out,
                     sizeof(out));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "live kernel"));
    assert_non_null(strstr(out, "live consumer"));
    assert_int_equal(db_num("r.sqlite", "SELECT count(*) FROM runs WHERE mode='live'"), 2);
    assert_int_equal(db_num("r.sqlite", "SELECT count(*) FROM runs WHERE mode!='live'"), 0);
    static const char *const metrics[] = {
        "lat_mean_ns", "lat_p50_ns", "lat_p90_ns", "lat_p99_ns", "lat_p999_ns", "lat_max_ns",
        "device_done_to_ready_p50_ns", "device_done_to_ready_p99_ns", "locality_miss_rate",
        "deferred_completion_rate", "iops", "bytes_per_s", "cpu_ns_per_io",
    };
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM metrics JOIN runs USING(run_id) WHERE mode='live' AND "
                 "name='%s' AND value IS NOT NULL",
                 metrics[i]);
        if (db_num("r.sqlite", sql) != 2)
            fail_msg("metric %s missing from a live run", metrics[i]);
    }
    /* something ran, at plausible device speeds */
    assert_true(db_num("r.sqlite", "SELECT min(value) FROM metrics WHERE name='iops'") > 10);
    assert_true(db_num("r.sqlite", "SELECT min(value) FROM metrics WHERE name='lat_p50_ns'") >
                1000);
    /* CPU per I/O (the workers' threads + every CPU's interrupt time,
     * docs/metrics.md) is some, and a second of I/O takes no more CPU time
     * than the CPUs have (/proc/stat's 10 ms ticks over 250 ms: 10% slack) */
    assert_true(db_num("r.sqlite", "SELECT min(value) FROM metrics WHERE name='cpu_ns_per_io'") >
                0);
    assert_true(db_num("r.sqlite", "SELECT max(c.value * i.value) FROM metrics c JOIN metrics i "
                                   "USING(run_id) WHERE c.name='cpu_ns_per_io' AND i.name='iops'") <=
                1.1e9 * (double)sysconf(_SC_NPROCESSORS_ONLN));
    /* stamps are ordered, so the stages add up to the latency */
    assert_true(db_num("r.sqlite", "SELECT count(*) FROM requests") > 20);
    assert_int_equal(db_num("r.sqlite",
                            "SELECT count(*) FROM requests WHERE NOT (t_issue <= t_submit AND "
                            "t_submit <= t_dispatch AND t_dispatch <= t_device_done AND "
                            "t_device_done <= t_irq AND t_irq <= t_blk_done AND t_blk_done <= "
                            "t_cqe AND t_cqe <= t_ready AND t_ready <= t_continued)"),
                     0);
    double ssum = db_num("r.sqlite", "SELECT sum(mean_ns) FROM stages WHERE run_id = 1");
    double mean = db_num("r.sqlite",
                         "SELECT value FROM metrics WHERE run_id = 1 AND name = 'lat_mean_ns'");
    assert_true(fabs(ssum - mean) <= 0.01 * mean);
    assert_int_equal(db_num("r.sqlite", "SELECT count(*) FROM histograms WHERE metric='lat'") > 0,
                     1);
    /* the policy placed every request: kernel keeps the consumer where the
     * workload put it (CPU 0); consumer moves it to its queue's vector CPU */
    live_topo_t t;
    char err[256];
    assert_int_equal(live_topo_read(path_in("t.dat"), &t, err, sizeof(err)), 0);
    char sql[256];
    assert_int_equal(db_num("r.sqlite", "SELECT count(*) FROM requests r JOIN runs USING(run_id) "
                                        "WHERE variant='kernel' AND consumer_cpu != 0"),
                     0);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM requests JOIN runs USING(run_id) WHERE variant='consumer' "
             "AND consumer_cpu != %u",
             t.queue_irq_cpu[t.cpu_queue[0]]);
    assert_int_equal(db_num("r.sqlite", sql), 0);
    live_topo_fini(&t);
}

/* Each consumer is its own thread with its own ring, also when two share a
 * CPU (they contend there as two threads do): two QD1 readers on CPU 0 run
 * on two workers, one reader on one. */
static void test_live_consumer_threads(void **state)
{
    (void)state;
    NEED_LIVE();
    write_file("two.json",
               "{\"name\":\"live-two\",\"host\":{\"cpus\":2},"
               "\"devices\":[{\"type\":\"nvme\",\"queues\":1}],"
               "\"workload\":[{\"type\":\"bulk\",\"queue_depth\":1,\"read_fraction\":1,"
               "\"span_bytes\":4194304,\"consumer_cpu\":0},"
               "{\"type\":\"bulk\",\"queue_depth\":1,\"read_fraction\":1,"
               "\"span_bytes\":4194304,\"consumer_cpu\":0}],"
               "\"policy\":{\"throughput_batch\":1},"
               "\"variants\":[{\"name\":\"kernel\",\"affinity\":\"kernel\"}],"
               /* 400 ms: it counts workers, not time, and beside another
                * test's writeback (ctest -j2) 80 ms once held no completion */
               "\"run\":{\"duration_ms\":400,\"warmup_ms\":20,\"replications\":1}}");
    char out[8192];
    unlink(path_in("two.sqlite"));
    assert_int_equal(run_cli("live two.json --target t.dat --db two.sqlite -q", out, sizeof(out)),
                     0);
    assert_int_equal(db_num("two.sqlite", "SELECT value FROM metrics WHERE name='live_workers'"),
                     2);
    unlink(path_in("one.sqlite"));
    assert_int_equal(run_cli("live s.json --target t.dat --variant kernel --duration-ms 100 "
                             "--db one.sqlite -q",
                             out, sizeof(out)),
                     0);
    assert_int_equal(db_num("one.sqlite", "SELECT value FROM metrics WHERE name='live_workers'"),
                     1);
}

/* --submit pread (a pread program replayed as it ran): the run completes
 * its reads and says how they were submitted; --trace, which joins
 * io_uring events, is refused with it, as is an unknown mode (exit 2). */
static void test_live_submit_pread(void **state)
{
    (void)state;
    NEED_LIVE();
    char out[8192];
    unlink(path_in("pr.sqlite"));
    assert_int_equal(run_cli("live s.json --target t.dat --variant kernel --submit pread "
                             "--duration-ms 150 --db pr.sqlite",
                             out, sizeof(out)),
                     0);
    assert_non_null(strstr(out, "--submit pread"));
    assert_true(db_num("pr.sqlite", "SELECT value FROM metrics WHERE name='iops'") > 10);
    assert_int_equal(tu_cli(dir, "live s.json --target t.dat --submit pread --trace --db x.sqlite",
                            out, sizeof(out)),
                     2);
    assert_non_null(strstr(out, "--trace"));
    assert_int_equal(tu_cli(dir, "live s.json --target t.dat --submit aio --db x.sqlite", out,
                            sizeof(out)),
                     2);
    assert_non_null(strstr(out, "--submit"));
}

/* An open-loop Poisson stream keeps its rate and is issued near its due
 * times: the consumer's worker runs the arrival timers itself (backend.h),
 * so its median delay from the due time to io_uring_submit is far below
 * the mean gap between arrivals (500 us at 2,000/s) - a backlog would put it
 * above - and it is part of the latency counted from the due time. */
static void test_live_open_loop(void **state)
{
    (void)state;
    NEED_LIVE();
    write_file("poisson.json",
               "{\"name\":\"live-poisson\",\"host\":{\"cpus\":2},"
               "\"devices\":[{\"type\":\"nvme\",\"queues\":1}],"
               "\"workload\":[{\"type\":\"poisson\",\"rate_iops\":2000,\"bytes\":4096,"
               "\"read_fraction\":1,\"span_bytes\":4194304,\"consumer_cpu\":0}],"
               "\"policy\":{\"throughput_batch\":1},"
               "\"variants\":[{\"name\":\"kernel\",\"affinity\":\"kernel\"}],"
               "\"run\":{\"duration_ms\":450,\"warmup_ms\":50,\"replications\":1}}");
    char out[8192];
    unlink(path_in("poisson.sqlite"));
    int rc = run_cli("live poisson.json --target t.dat --db poisson.sqlite -q", out, sizeof(out));
    if (rc != 0)
        fail_msg("exit %d: %s", rc, out);
    double iops = db_num("poisson.sqlite", "SELECT value FROM metrics WHERE name='iops'");
    double late = db_num("poisson.sqlite",
                         "SELECT value FROM metrics WHERE name='live_issue_late_p50_ns'");
    double p50 = db_num("poisson.sqlite", "SELECT value FROM metrics WHERE name='lat_p50_ns'");
    printf("  iops %.0f, issuer delay p50 %.1f us, latency p50 %.1f us\n", iops, late / 1e3,
           p50 / 1e3);
    assert_int_equal(db_num("poisson.sqlite", "SELECT value FROM metrics WHERE name='live_workers'"),
                     1);
    /* 800 arrivals expected in the 400 ms measured: +-25% is > 7 sigma */
    assert_true(iops > 1500 && iops < 2500);
    assert_false(isnan(late));
    assert_true(late < 500e3);
    assert_true(late < p50);
}

/* The registration counters of a live run, without RDMA hardware: the
 * storage buffers go through the same policy (kept regions become fixed
 * buffers). kvcache's blocks reuse four buffer regions: none registers and
 * deregisters around every read (hit rate 0), cache registers each region
 * once and then hits, so it churns far less. */
static void test_live_registration_counts(void **state)
{
    (void)state;
    NEED_LIVE();
    write_file("reg.json",
               "{\"name\":\"live-reg\",\"host\":{\"cpus\":2},"
               "\"devices\":[{\"type\":\"nvme\",\"queues\":1}],"
               "\"workload\":[{\"type\":\"kvcache\",\"rate_rps\":500,\"blocks\":4,"
               "\"block_bytes\":4096,\"hit_ratio\":0,\"prefixes\":16,\"gpu\":-1,"
               "\"consumer_cpu\":0}],"
               "\"variants\":[{\"name\":\"none\",\"registration\":\"none\"},"
               "{\"name\":\"cache\",\"registration\":\"cache\"}],"
               "\"run\":{\"duration_ms\":150,\"warmup_ms\":20,\"replications\":1}}");
    char out[8192];
    unlink(path_in("reg.sqlite"));
    int rc = run_cli("live reg.json --target t.dat --db reg.sqlite -q", out, sizeof(out));
    if (rc != 0)
        fail_msg("exit %d: %s", rc, out);
    const char *q = "SELECT value FROM metrics JOIN runs USING(run_id) WHERE variant='%s' AND "
                    "name='%s'";
    char sql[256];
#define REG_METRIC(v, m) (snprintf(sql, sizeof(sql), q, v, m), db_num("reg.sqlite", sql))
    double hit_none = REG_METRIC("none", "registration_hit_rate");
    double hit_cache = REG_METRIC("cache", "registration_hit_rate");
    double churn_none = REG_METRIC("none", "registration_churn_per_flow");
    double churn_cache = REG_METRIC("cache", "registration_churn_per_flow");
#undef REG_METRIC
    printf("  none: hit %.3f churn %.1f; cache: hit %.3f churn %.1f\n", hit_none, churn_none,
           hit_cache, churn_cache);
    assert_true(hit_none == 0);
    assert_true(churn_none >= 20); /* two calls per read, > 10 reads in 130 ms */
    assert_true(hit_cache > 0.5);
    assert_true(churn_cache <= 8); /* each of the 4 regions registered once, at most */
}

static void test_refuse_mounted_blockdev(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat("/", &st), 0);
    char uevent[128], line[128], dev[160] = "";
    snprintf(uevent, sizeof(uevent), "/sys/dev/block/%u:%u/uevent", major(st.st_dev),
             minor(st.st_dev));
    FILE *f = fopen(uevent, "r");
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "DEVNAME=", 8) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(dev, sizeof(dev), "/dev/%s", line + 8);
        }
    if (f)
        fclose(f);
    tu_skip_unless(dev[0] && stat(dev, &st) == 0 && S_ISBLK(st.st_mode),
                   "/ is not on a block device node we can name");
    char args[512], out[4096];
    snprintf(args, sizeof(args), "live s.json --target %s --db b.sqlite --duration-ms 50", dev);
    assert_int_equal(run_cli(args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "refusing a block device in use"));
    assert_non_null(strstr(out, dev));
}

static void test_refuse_writes(void **state)
{
    (void)state;
    NEED_LIVE();
    char out[4096];
    /* a file latsurf did not create: --allow-write refused */
    FILE *f = fopen(path_in("foreign.dat"), "w");
    assert_non_null(f);
    for (int i = 0; i < 4096; i++)
        fputs("0123456789abcdef", f);
    fclose(f);
    assert_int_equal(run_cli("live s.json --target foreign.dat --allow-write --db w.sqlite "
                             "--duration-ms 50", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "did not create"));
    /* reading it is fine; it is not ours, so --create refuses to touch it */
    assert_int_equal(run_cli("live s.json --target foreign.dat --create 8M --db w.sqlite "
                             "--duration-ms 50", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "not created by latsurf"));
    /* a writing workload without --allow-write */
    assert_int_equal(run_cli("live s.json --target t.dat --db w.sqlite --duration-ms 100 "
                             "--set workload.0.read_fraction=0.5", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "--allow-write"));
    /* ... and with it, on a file latsurf created */
    assert_int_equal(run_cli("live s.json --target t.dat --db w.sqlite --duration-ms 100 "
                             "--variant kernel --set workload.0.read_fraction=0.5 --allow-write",
                             out, sizeof(out)), 0);
    /* a target smaller than the workload's span */
    assert_int_equal(run_cli("live s.json --target small.dat --create 64K --db w.sqlite "
                             "--duration-ms 100", out, sizeof(out)), 2);
    assert_non_null(strstr(out, "has 65536 bytes"));
    /* nothing half-written: only the run that succeeded is in the database */
    assert_int_equal(db_num("w.sqlite", "SELECT count(*) FROM runs"), 1);
    /* no RDMA device here, or none built: a scenario that needs it exits 2 */
    char vs[4096];
    snprintf(vs, sizeof(vs), "%.*s,\"rdma\":{}}%s", (int)(strchr(scn, '}') - scn), scn,
             strchr(scn, '}') + 1);
    write_file("rdma.json", vs);
    int rc = run_cli("live rdma.json --target t.dat --db w.sqlite --duration-ms 50", out,
                     sizeof(out));
    if (!strstr(out, "RDMA device") && !strstr(out, "without libibverbs") && rc == 0) {
        fprintf(stderr, "note: this host has an RDMA device; the no-device refusal is untested\n");
        return;
    }
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "host.rdma"));
}

/* SIGINT after the first variant finished: it is kept, the second is
 * dropped (after its I/O is reaped), and the exit is prompt. */
static void test_sigint(void **state)
{
    (void)state;
    NEED_LIVE();
    unlink(path_in("i.sqlite"));
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        if (chdir(dir) != 0)
            _exit(127);
        execl(bin(), bin(), "live", "s.json", "--target", "t.dat", "--db", "i.sqlite",
              "--duration-ms", "400", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    FILE *f = fdopen(pfd[0], "r");
    char line[512];
    bool first = false;
    while (!first && fgets(line, sizeof(line), f))
        first = strstr(line, "live kernel") != NULL;
    assert_true(first);
    /* The kernel variant is in the database when its line is printed. The
     * signal lands as the consumer variant starts or while its I/O is in
     * flight: either way it is dropped, and the exit is prompt. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(pid, SIGINT);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fclose(f);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
    assert_true((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < 2.0);
    assert_int_equal(db_num("i.sqlite", "SELECT count(*) FROM runs"), 1);
    assert_int_equal(db_num("i.sqlite", "SELECT count(*) FROM runs WHERE variant='kernel' AND "
                                        "mode='live'"),
                     1);
    assert_true(db_num("i.sqlite", "SELECT count(*) FROM metrics") > 10);
}

/* `validate` into a fresh db with the built-in calibration, short runs and one sim
 * replication, plus extra options; fails the test unless it exits 0. */
static void validate_ok(const char *db, const char *extra, char *out, size_t n)
{
    char args[512];
    snprintf(args, sizeof(args),
             "validate s.json --target t.dat --db %s --duration-ms 200 --sim-reps 1 "
             "--no-calibrate%s",
             db, extra);
    unlink(path_in(db));
    int rc = run_cli(args, out, n);
    if (rc != 0)
        fail_msg("validate exited %d: %s", rc, out);
}

/* validate with the built-in calibration: live and sim runs, and its rows
 * in comparisons. */
static void test_validate(void **state)
{
    (void)state;
    NEED_LIVE();
    char out[8192];
    validate_ok("v.sqlite", "", out, sizeof(out));
    assert_non_null(strstr(out, "ranking of variants by p50"));
    assert_int_equal(db_num("v.sqlite", "SELECT count(*) FROM runs WHERE mode='live'"), 2);
    assert_int_equal(db_num("v.sqlite", "SELECT count(*) FROM runs WHERE mode='sim'"), 2);
    static const char *const m[] = {"lat_p50_ns", "lat_p99_ns", "lat_mean_ns", "lat_w1_ns"};
    for (size_t i = 0; i < 4; i++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM comparisons WHERE scenario='live-t' AND metric='%s' AND "
                 "((variant='kernel:sim' AND baseline='kernel') OR (variant='consumer:sim' AND "
                 "baseline='consumer')) AND value > 0 AND baseline_value > 0",
                 m[i]);
        assert_int_equal(db_num("v.sqlite", sql), 2);
    }
    /* value is the simulator's, baseline_value the live run's */
    assert_true(fabs(db_num("v.sqlite",
                            "SELECT c.baseline_value - m.value FROM comparisons c, metrics m "
                            "JOIN runs r USING(run_id) WHERE c.variant='kernel:sim' AND "
                            "c.metric='lat_mean_ns' AND r.variant='kernel' AND r.mode='live' "
                            "AND m.name='lat_mean_ns'")) <
                0.02 * db_num("v.sqlite", "SELECT value FROM metrics m JOIN runs r USING(run_id) "
                                          "WHERE r.variant='kernel' AND r.mode='live' AND "
                                          "m.name='lat_mean_ns'"));
    double agree = db_num("v.sqlite", "SELECT value FROM comparisons WHERE variant='*:sim' AND "
                                      "metric='ranking_p50_agrees'");
    assert_true(agree == 0 || agree == 1);
}

/* validate's comparisons are its own: a later `latsurf run` of the scenario
 * into the same database writes its rows beside them and keeps them.
 * (tests/test_report.c checks the same ownership without live I/O.) */
static void test_validate_rows_survive_run(void **state)
{
    (void)state;
    NEED_LIVE();
    char out[8192];
    validate_ok("vr.sqlite", " --quiet", out, sizeof(out));
    static const char *const sim_rows = "SELECT count(*) FROM comparisons WHERE "
                                        "scenario='live-t' AND variant LIKE '%:sim'";
    double before = db_num("vr.sqlite", sim_rows);
    assert_true(before >= 4 + 2); /* 4 per variant with both sides, 2 ranking rows */
    int rc = run_cli("run s.json --db vr.sqlite --reps 2 --quiet", out, sizeof(out));
    if (rc != 0)
        fail_msg("run exited %d: %s", rc, out);
    assert_true(db_num("vr.sqlite", sim_rows) == before);
    assert_true(db_num("vr.sqlite", "SELECT count(*) FROM comparisons WHERE scenario='live-t' "
                                    "AND variant='consumer' AND baseline='kernel'") > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpulist),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_topology),
        cmocka_unit_test(test_live_hog),
        cmocka_unit_test(test_live_run),
        cmocka_unit_test(test_live_consumer_threads),
        cmocka_unit_test(test_live_submit_pread),
        cmocka_unit_test(test_live_open_loop),
        cmocka_unit_test(test_live_registration_counts),
        cmocka_unit_test(test_refuse_mounted_blockdev),
        cmocka_unit_test(test_refuse_writes),
        cmocka_unit_test(test_sigint),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_validate_rows_survive_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
