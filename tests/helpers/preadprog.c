/*
 * preadprog.c - a test helper for tests/test_traceexport.c: a program of
 * known behaviour for `latsurf trace record` to watch. It creates a file,
 * then each of THREADS threads opens it with O_DIRECT and does READS
 * 4 KiB preads at distinct offsets, with a known sleep (nanosleep) and a
 * known busy loop (spinning on CLOCK_THREAD_CPUTIME_ID) between reads.
 *
 *   preadprog FILE THREADS READS SLEEP_US SPIN_US
 *
 * For every read it prints one line
 *   read TID SEQ OFFSET T_BEFORE T_AFTER CPU_BEFORE CPU_AFTER
 * (CLOCK_MONOTONIC ns just before the call and just after it returns, and
 * the thread's CPU time at those two instants), so a test can compare what
 * the trace says with what the program did. Exit 0, 1 on a failure, 77
 * when the filesystem refuses O_DIRECT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BS 4096

static const char *path;
static long nreads, sleep_us, spin_us;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t now(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *worker(void *arg)
{
    long idx = (long)arg;
    int fd = open(path, O_RDONLY | O_DIRECT);
    if (fd < 0)
        return (void *)1;
    void *buf;
    if (posix_memalign(&buf, BS, BS))
        return (void *)1;
    char line[64][160];
    long n = nreads < 64 ? nreads : 64;
    for (long i = 0; i < n; i++) {
        if (i > 0) {
            struct timespec nap = {sleep_us / 1000000, (sleep_us % 1000000) * 1000};
            nanosleep(&nap, NULL);
            uint64_t c0 = now(CLOCK_THREAD_CPUTIME_ID);
            while (now(CLOCK_THREAD_CPUTIME_ID) - c0 < (uint64_t)spin_us * 1000)
                ;
        }
        /* distinct blocks per thread and read: every read goes to the device */
        off_t off = (off_t)(idx * 64 + i) * BS;
        uint64_t c_before = now(CLOCK_THREAD_CPUTIME_ID);
        uint64_t t_before = now(CLOCK_MONOTONIC);
        ssize_t got = pread(fd, buf, BS, off);
        uint64_t t_after = now(CLOCK_MONOTONIC);
        uint64_t c_after = now(CLOCK_THREAD_CPUTIME_ID);
        if (got != BS)
            return (void *)1;
        snprintf(line[i], sizeof(line[i]), "read %ld %ld %lld %llu %llu %llu %llu\n",
                 (long)syscall(SYS_gettid), i, (long long)off, (unsigned long long)t_before,
                 (unsigned long long)t_after, (unsigned long long)c_before,
                 (unsigned long long)c_after);
    }
    pthread_mutex_lock(&out_lock);
    for (long i = 0; i < n; i++)
        fputs(line[i], stdout);
    pthread_mutex_unlock(&out_lock);
    free(buf);
    close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: preadprog FILE THREADS READS SLEEP_US SPIN_US\n");
        return 1;
    }
    path = argv[1];
    long threads = atol(argv[2]);
    nreads = atol(argv[3]);
    sleep_us = atol(argv[4]);
    spin_us = atol(argv[5]);
    if (threads < 1 || threads > 16 || nreads < 1 || nreads > 64)
        return 1;
    /* the file, written and flushed so the reads find it on the device */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 1;
    char block[BS];
    memset(block, 'x', sizeof(block));
    for (long i = 0; i < threads * 64; i++)
        if (write(fd, block, BS) != BS)
            return 1;
    if (fsync(fd) != 0)
        return 1;
    close(fd);
    fd = open(path, O_RDONLY | O_DIRECT);
    if (fd < 0)
        return errno == EINVAL ? 77 : 1;
    close(fd);
    pthread_t th[16];
    for (long i = 0; i < threads; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)i))
            return 1;
    int rc = 0;
    for (long i = 0; i < threads; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        rc |= ret != NULL;
    }
    fflush(stdout);
    return rc;
}
