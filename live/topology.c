/*
 * topology.c - see topology.h.
 */
#define _GNU_SOURCE
#include "topology.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <numa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int live_topo_parse_cpulist(const char *s, bool *mask, uint32_t n)
{
    int count = 0;
    while (*s && *s != '\n') {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0)
            return -EINVAL;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                return -EINVAL;
            s = end;
        }
        for (long c = a; c <= b; c++)
            if ((uint64_t)c < n && !mask[c]) {
                mask[c] = true;
                count++;
            }
        while (*s == ',' || *s == ' ')
            s++;
    }
    return count;
}

static int read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char *ok = fgets(buf, (int)n, f);
    fclose(f);
    if (!ok)
        return -EIO;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

static long read_long(const char *path, long dflt)
{
    char buf[64];
    if (read_line(path, buf, sizeof(buf)))
        return dflt;
    char *end;
    long v = strtol(buf, &end, 10);
    return end == buf ? dflt : v;
}

/* The first CPU of a CPU-list file, or -1. */
static int first_cpu(const char *path, uint32_t ncpus)
{
    char buf[4096];
    if (read_line(path, buf, sizeof(buf)))
        return -1;
    bool *m = calloc(ncpus, sizeof(*m));
    int c = -1;
    if (m && live_topo_parse_cpulist(buf, m, ncpus) > 0)
        for (uint32_t i = 0; i < ncpus && c < 0; i++)
            if (m[i])
                c = (int)i;
    free(m);
    return c;
}

/* The whole disk (not a partition) holding dev: its sysfs name. */
static int disk_of(dev_t dev, char *name, size_t n, char *err, size_t errlen)
{
    char link[64], path[PATH_MAX];
    snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
    if (!realpath(link, path)) {
        snprintf(err, errlen, "%s: not a block device known to sysfs (%s)", link,
                 strerror(errno));
        return -ENODEV;
    }
    char part[PATH_MAX + 16];
    snprintf(part, sizeof(part), "%s/partition", path);
    if (access(part, F_OK) == 0)
        *strrchr(path, '/') = '\0';
    snprintf(name, n, "%s", strrchr(path, '/') + 1);
    return 0;
}

/* The /proc/interrupts name prefix of the disk's queue vectors, from the
 * driver behind /sys/block/DISK/device: virtio-blk "virtioN-req.Q" (queue
 * Q), NVMe "nvmeCqQ" (queue Q-1: q0 is the admin queue). */
static void irq_prefix_of(const char *disk, char *prefix, size_t n, int *first)
{
    char link[128], path[PATH_MAX];
    snprintf(link, sizeof(link), "/sys/block/%s/device", disk);
    prefix[0] = '\0';
    *first = 0;
    if (!realpath(link, path))
        return;
    const char *base = strrchr(path, '/') + 1;
    if (strncmp(base, "virtio", 6) == 0) {
        snprintf(prefix, n, "%s-req.", base);
    } else if (strncmp(disk, "nvme", 4) == 0) {
        /* nvme0n1 -> controller nvme0 (device links to the namespace's controller) */
        size_t len = strcspn(disk + 4, "n") + 4;
        snprintf(prefix, n, "%.*sq", (int)len, disk);
        *first = 1;
    }
}

/* IRQ number of the /proc/interrupts row named `name`, or -1. */
static int irq_named(const char *name)
{
    FILE *f = fopen("/proc/interrupts", "re");
    if (!f)
        return -1;
    char line[8192];
    int irq = -1;
    while (irq < 0 && fgets(line, sizeof(line), f)) {
        char *end;
        long n = strtol(line, &end, 10);
        if (end == line || *end != ':')
            continue;
        /* the name is the last field */
        line[strcspn(line, "\n")] = '\0';
        size_t len = strlen(line);
        while (len && isspace((unsigned char)line[len - 1]))
            line[--len] = '\0';
        char *last = strrchr(line, ' ');
        if (last && strcmp(last + 1, name) == 0)
            irq = (int)n;
    }
    fclose(f);
    return irq;
}

static int topo_alloc(live_topo_t *t)
{
    t->cpu_node = calloc(t->ncpus, sizeof(*t->cpu_node));
    t->cpu_queue = calloc(t->ncpus, sizeof(*t->cpu_queue));
    t->queue_irq_cpu = calloc(t->nqueues, sizeof(*t->queue_irq_cpu));
    t->queue_irq = calloc(t->nqueues, sizeof(*t->queue_irq));
    return t->cpu_node && t->cpu_queue && t->queue_irq_cpu && t->queue_irq ? 0 : -ENOMEM;
}

static uint32_t count_queues(const char *disk)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/block/%s/mq", disk);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    uint32_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (isdigit((unsigned char)e->d_name[0]))
            n++;
    closedir(d);
    return n;
}

static void note(live_topo_t *t, const char *what)
{
    size_t len = strlen(t->note);
    snprintf(t->note + len, sizeof(t->note) - len, "%s%s", len ? "; " : "", what);
}

int live_topo_read(const char *target, live_topo_t *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    struct stat st;
    if (stat(target, &st) != 0) {
        snprintf(err, errlen, "%s: %s", target, strerror(errno));
        return -errno;
    }
    int rc = disk_of(S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev, t->disk, sizeof(t->disk), err,
                     errlen);
    if (rc)
        return rc;
    long n = sysconf(_SC_NPROCESSORS_CONF);
    t->ncpus = n > 0 ? (uint32_t)n : 1;
    t->nqueues = count_queues(t->disk);
    bool no_mq = t->nqueues == 0;
    if (no_mq)
        t->nqueues = 1;
    if (topo_alloc(t)) {
        live_topo_fini(t);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    t->nnodes = 1;
    if (numa_available() >= 0) {
        t->nnodes = (uint32_t)numa_max_node() + 1;
        for (uint32_t c = 0; c < t->ncpus; c++) {
            int node = numa_node_of_cpu((int)c);
            t->cpu_node[c] = node > 0 ? (uint32_t)node : 0;
        }
    }
    char path[256];
    if (no_mq)
        note(t, "no blk-mq queues in sysfs: one queue assumed");
    /* blk-mq numbers the default map's queues first, then the read and the
     * poll maps' (nvme: "2/0/1 default/read/poll queues" = hctx 0-1
     * default, hctx 2 polled, every CPU in each map): a CPU's queue is the
     * first one listing it, the queue its interrupt-driven I/O goes to. */
    bool *mapped = no_mq ? NULL : calloc(t->ncpus, sizeof(*mapped));
    for (uint32_t q = 0; q < t->nqueues && mapped; q++) {
        char buf[4096];
        snprintf(path, sizeof(path), "/sys/block/%s/mq/%u/cpu_list", t->disk, q);
        bool *m = calloc(t->ncpus, sizeof(*m));
        if (m && read_line(path, buf, sizeof(buf)) == 0 &&
            live_topo_parse_cpulist(buf, m, t->ncpus) > 0)
            for (uint32_t c = 0; c < t->ncpus; c++)
                if (m[c] && !mapped[c]) {
                    t->cpu_queue[c] = q;
                    mapped[c] = true;
                }
        free(m);
    }
    free(mapped);
    int first;
    irq_prefix_of(t->disk, t->irq_prefix, sizeof(t->irq_prefix), &first);
    uint32_t found = 0;
    for (uint32_t q = 0; q < t->nqueues; q++) {
        t->queue_irq[q] = -1;
        char name[96];
        snprintf(name, sizeof(name), "%s%u", t->irq_prefix, q + (uint32_t)first);
        int irq = t->irq_prefix[0] ? irq_named(name) : -1;
        int cpu = -1;
        if (irq >= 0) {
            snprintf(path, sizeof(path), "/proc/irq/%d/effective_affinity_list", irq);
            cpu = first_cpu(path, t->ncpus);
            if (cpu < 0) {
                snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
                cpu = first_cpu(path, t->ncpus);
            }
            t->queue_irq[q] = irq;
            found++;
        }
        if (cpu < 0) {
            /* managed vectors fire on the queue's first mapped CPU */
            snprintf(path, sizeof(path), "/sys/block/%s/mq/%u/cpu_list", t->disk, q);
            cpu = no_mq ? -1 : first_cpu(path, t->ncpus);
        }
        t->queue_irq_cpu[q] = cpu >= 0 ? (uint32_t)cpu : 0;
    }
    snprintf(path, sizeof(path), "/sys/block/%s/queue/io_poll", t->disk);
    t->poll_queues = read_long(path, 0) == 1;
    /* with poll queues, the queues without a vector are the polled ones */
    t->npolled = t->poll_queues && found ? t->nqueues - found : 0;
    if (found < t->nqueues && !t->npolled)
        note(t, found ? "some queues have no vector"
                      : "queue vectors not found in /proc/interrupts: each assumed to fire on "
                        "its queue's first CPU");
    snprintf(path, sizeof(path), "/sys/block/%s/queue/rq_affinity", t->disk);
    t->rq_affinity = (uint32_t)read_long(path, 1);
    snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", t->disk);
    t->logical_block = (uint32_t)read_long(path, 512);
    return 0;
}

void live_topo_describe(const live_topo_t *t, char *buf, size_t n)
{
    size_t len = 0;
#define PUT(...)                                                                                 \
    do {                                                                                         \
        int w_ = snprintf(buf + len, len < n ? n - len : 0, __VA_ARGS__);                        \
        len += w_ > 0 ? (size_t)w_ : 0;                                                          \
    } while (0)
    PUT("%s: %u CPUs, %u NUMA nodes, %u queues (%u interrupt, %u polled)", t->disk, t->ncpus,
        t->nnodes, t->nqueues, t->nqueues - t->npolled, t->npolled);
    for (uint32_t q = 0; q < t->nqueues; q++) {
        PUT("; q%u", q);
        if (t->queue_irq[q] >= 0)
            PUT(" %s%u irq %d on cpu %u", t->irq_prefix,
                q + (strncmp(t->disk, "nvme", 4) == 0 ? 1u : 0u), t->queue_irq[q],
                t->queue_irq_cpu[q]);
        else
            PUT(" %s", q >= t->nqueues - t->npolled ? "polled" : "no vector");
        if (t->queue_irq[q] < 0 && q >= t->nqueues - t->npolled)
            continue;
        PUT(" <- cpus");
        uint32_t k = 0;
        for (uint32_t c = 0; c < t->ncpus; c++)
            if (t->cpu_queue[c] == q)
                PUT("%s%u", k++ ? "," : " ", c);
        if (!k)
            PUT(" none");
    }
    PUT("; io_poll %d, rq_affinity %u, %u-byte blocks", t->poll_queues, t->rq_affinity,
        t->logical_block);
#undef PUT
    if (len >= n && n > 4)
        memcpy(buf + n - 4, "...", 4);
}

void live_topo_fini(live_topo_t *t)
{
    free(t->cpu_node);
    free(t->cpu_queue);
    free(t->queue_irq_cpu);
    free(t->queue_irq);
    t->cpu_node = t->cpu_queue = t->queue_irq_cpu = NULL;
    t->queue_irq = NULL;
}

void live_topo_view(const live_topo_t *t, pol_view_t *v)
{
    v->ncpus = t->ncpus;
    v->nnodes = t->nnodes;
    v->cpu_node = t->cpu_node;
    v->nqueues = t->nqueues;
    v->queue_irq_cpu = t->queue_irq_cpu;
    v->cpu_queue = t->cpu_queue;
    v->poll_queues = t->poll_queues;
}
