/*
 * tracerec.c - see tracerec.h.
 *
 * Events are read from the instance's raw per-CPU buffers
 * (tracefs_iterate_raw_events) and printed with libtraceevent rather than
 * read from the instance's "trace" file, because that file rounds
 * timestamps to microseconds and the stages we measure are a few µs long.
 */
#include "tracerec.h"

#include "calibrate/traceparse.h"
#include "sim/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tracefs.h>
#include <unistd.h>

typedef struct {
    uint64_t ts, seq;
    char *text;
} line_t;

struct tracerec {
    struct tracefs_instance *inst;
    struct tracefs_instance *sys_inst; /* the syscall events, filtered by pid */
    struct tep_handle *tep;
    struct tep_event *sched_switch, *sched_wakeup;
    struct trace_seq seq;
    line_t *line;
    size_t n, cap;
    int oom;
    char clock[16];
    char missing[256];
    char followed[8192]; /* "# latsurf followed pids:" list, "" when none */
    uint64_t lost[2][64];  /* per instance and CPU: events the ring buffer lost */
};

/* Each default event with its fallbacks, closest first. */
static const char *const default_events[][3] = {
    {"block/block_rq_issue", NULL, NULL},
    {"block/block_rq_complete", NULL, NULL},
    {"block/block_rq_insert", NULL, NULL},
    {"irq/irq_handler_entry", NULL, NULL},
    {"ipi/ipi_send_cpu", "ipi/ipi_send_cpumask", "ipi/ipi_raise"},
    {"io_uring/io_uring_submit_req", "io_uring/io_uring_submit_sqe", NULL},
    {"io_uring/io_uring_complete", NULL, NULL},
    {"sched/sched_wakeup", NULL, NULL},
    {"sched/sched_switch", NULL, NULL},
};
#define NDEFAULT (sizeof(default_events) / sizeof(default_events[0]))

int tracerec_available(char *why, size_t n)
{
    if (geteuid() != 0) {
        snprintf(why, n, "tracefs needs root");
        return 0;
    }
    const char *dir = tracefs_tracing_dir(); /* mounts tracefs if needed */
    if (!dir) {
        snprintf(why, n, "tracefs is not mounted and cannot be mounted");
        return 0;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/instances", dir);
    if (access(path, W_OK) != 0) {
        snprintf(why, n, "%s is not writable", path);
        return 0;
    }
    return 1;
}

/* Enable "system/event" exactly (libtracefs takes regular expressions) and
 * teach libtraceevent its format. */
static int enable(tracerec_t *r, struct tracefs_instance *inst, const char *spec)
{
    char sys[64], ev[96], re_sys[72], re_ev[104];
    const char *slash = strchr(spec, '/');
    if (!slash || (size_t)(slash - spec) >= sizeof(sys))
        return -1;
    snprintf(sys, sizeof(sys), "%.*s", (int)(slash - spec), spec);
    snprintf(ev, sizeof(ev), "%s", slash + 1);
    snprintf(re_sys, sizeof(re_sys), "^%s$", sys);
    snprintf(re_ev, sizeof(re_ev), "^%s$", ev);
    int size = 0;
    char *fmt = tracefs_event_file_read(NULL, sys, ev, "format", &size);
    int rc = fmt && tep_parse_event(r->tep, fmt, (unsigned long)size, sys) == TEP_ERRNO__SUCCESS
                 ? tracefs_event_enable(inst, re_sys, re_ev)
                 : -1;
    free(fmt);
    return rc;
}

static void note_missing(tracerec_t *r, const char *spec)
{
    size_t len = strlen(r->missing);
    snprintf(r->missing + len, sizeof(r->missing) - len, "%s%s", len ? "," : "", spec);
}

int tracerec_start(const char *const *extra, size_t buffer_kb, tracerec_t **out, char *err,
                   size_t n)
{
    static unsigned counter;
    *out = NULL;
    tracerec_t *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, n, "out of memory");
        return -ENOMEM;
    }
    trace_seq_init(&r->seq);
    char name[64];
    snprintf(name, sizeof(name), "latsurf-%d-%u", (int)getpid(), counter++);
    r->inst = tracefs_instance_create(name);
    if (!r->inst) {
        int e = errno ? errno : EIO;
        snprintf(err, n, "cannot create tracefs instance %s: %s", name, strerror(e));
        tracerec_free(r);
        return -e;
    }
    tracefs_trace_off(r->inst); /* a new instance starts on */
    /* Only the formats of the events we enable: libtracefs's
     * tracefs_local_events() would also parse /proc/kallsyms, which costs
     * more than the whole recording of a short command. */
    r->tep = tep_alloc();
    int hsize = 0;
    char *header = tracefs_instance_file_read(NULL, "events/header_page", &hsize);
    if (!r->tep || !header || tep_parse_header_page(r->tep, header, (unsigned long)hsize,
                                                    (int)sizeof(long)) != 0) {
        free(header);
        snprintf(err, n, "cannot read the ring-buffer header format from tracefs");
        tracerec_free(r);
        return -EIO;
    }
    free(header);
    tracefs_load_cmdlines(NULL, r->tep);
    tracefs_instance_set_buffer_size(r->inst, buffer_kb ? buffer_kb : 32768, -1);
    if (tracefs_instance_file_write(r->inst, "trace_clock", "mono") < 0)
        tracefs_instance_file_write(r->inst, "trace_clock", "global");
    char *clock = tracefs_get_clock(r->inst);
    snprintf(r->clock, sizeof(r->clock), "%s", clock ? clock : "local");
    free(clock);

    for (size_t i = 0; i < NDEFAULT; i++) {
        int ok = 0;
        for (int k = 0; k < 3 && default_events[i][k] && !ok; k++)
            ok = enable(r, r->inst, default_events[i][k]) == 0;
        if (!ok)
            note_missing(r, default_events[i][0]);
    }
    for (size_t i = 0; extra && extra[i]; i++)
        if (enable(r, r->inst, extra[i]) != 0)
            note_missing(r, extra[i]);
    r->sched_switch = tep_find_event_by_name(r->tep, "sched", "sched_switch");
    r->sched_wakeup = tep_find_event_by_name(r->tep, "sched", "sched_wakeup");
    tracefs_instance_file_clear(r->inst, "trace");
    if (tracefs_trace_on(r->inst) != 0) {
        snprintf(err, n, "cannot turn tracing on in instance %s", name);
        tracerec_free(r);
        return -EIO;
    }
    *out = r;
    return 0;
}

int tracerec_follow(tracerec_t *r, const int *pids, size_t npids, char *err, size_t n)
{
    char name[64];
    snprintf(name, sizeof(name), "%s-sys", tracefs_instance_get_name(r->inst));
    r->sys_inst = tracefs_instance_create(name);
    if (!r->sys_inst) {
        int e = errno ? errno : EIO;
        snprintf(err, n, "cannot create tracefs instance %s: %s", name, strerror(e));
        return -e;
    }
    tracefs_trace_off(r->sys_inst);
    tracefs_instance_set_buffer_size(r->sys_inst, 8192, -1);
    if (tracefs_instance_file_write(r->sys_inst, "trace_clock", r->clock) < 0) {
        snprintf(err, n, "cannot set trace clock %s in instance %s", r->clock, name);
        return -EIO;
    }
    /* set_event_pid with event-fork: the tasks named and every task they
     * fork or clone from now on (threads included) */
    char filter[64];
    for (size_t i = 0; i < npids; i++) {
        snprintf(filter, sizeof(filter), "%d", pids[i]);
        if ((i ? tracefs_instance_file_append(r->sys_inst, "set_event_pid", filter)
               : tracefs_instance_file_write(r->sys_inst, "set_event_pid", filter)) < 0) {
            snprintf(err, n, "cannot follow pid %d (set_event_pid of instance %s)", pids[i],
                     name);
            return -EIO;
        }
    }
    if (npids && tracefs_option_enable(r->sys_inst, TRACEFS_OPTION_EVENT_FORK) != 0) {
        snprintf(err, n, "cannot set option event-fork in instance %s", name);
        return -EIO;
    }
    /* the forks of the followed tasks name the tasks followed later */
    if (npids && enable(r, r->sys_inst, "sched/sched_process_fork") != 0)
        note_missing(r, "sched/sched_process_fork");
    /* interrupts served while a followed task was current (the filter
     * goes by the current task): not its CPU work (think_cpu_ns) */
    static const char *const irq_events[] = {"irq/irq_handler_exit", "irq/softirq_entry",
                                             "irq/softirq_exit"};
    for (size_t i = 0; npids && i < sizeof(irq_events) / sizeof(irq_events[0]); i++)
        if (enable(r, r->sys_inst, irq_events[i]) != 0)
            note_missing(r, irq_events[i]);
    for (size_t i = 0, len = 0; i < npids && len < sizeof(r->followed) - 12; i++)
        len += (size_t)snprintf(r->followed + len, sizeof(r->followed) - len, " %d", pids[i]);
    /* everybody but the recorder, whose drain reads would fill the buffer */
    snprintf(filter, sizeof(filter), "common_pid != %d", (int)getpid());
    for (size_t i = 0; i < traceparse_nsyscalls; i++)
        for (int exit = 0; exit < 2; exit++) {
            char ev[64], spec[80];
            snprintf(ev, sizeof(ev), "sys_%s_%s", exit ? "exit" : "enter",
                     traceparse_syscalls[i].name);
            snprintf(spec, sizeof(spec), "syscalls/%s", ev);
            if (enable(r, r->sys_inst, spec) != 0) {
                note_missing(r, spec);
                continue;
            }
            if (!npids)
                tracefs_event_file_write(r->sys_inst, "syscalls", ev, "filter", filter);
        }
    tracefs_instance_file_clear(r->sys_inst, "trace");
    if (tracefs_trace_on(r->sys_inst) != 0) {
        snprintf(err, n, "cannot turn tracing on in instance %s", name);
        return -EIO;
    }
    return 0;
}

/* Teach libtraceevent the comms that sched events carry, so that lines of
 * short-lived tasks get a name instead of "<...>". */
static void learn_comm(tracerec_t *r, struct tep_event *ev, struct tep_record *rec,
                       const char *comm_field, const char *pid_field)
{
    struct tep_format_field *cf = tep_find_field(ev, comm_field);
    struct tep_format_field *pf = tep_find_field(ev, pid_field);
    unsigned long long pid;
    if (!cf || !pf || tep_read_number_field(pf, rec->data, &pid) || pid == 0)
        return;
    char comm[17];
    snprintf(comm, sizeof(comm), "%.*s", cf->size < 16 ? cf->size : 16,
             (const char *)rec->data + cf->offset);
    const char *known = tep_data_comm_from_pid(r->tep, (int)pid);
    if (!known || strcmp(known, comm) != 0)
        tep_override_comm(r->tep, comm, (int)pid);
}

static int on_event(struct tep_event *ev, struct tep_record *rec, int cpu, void *ctx)
{
    tracerec_t *r = ctx;
    (void)cpu;
    if (r->oom)
        return 1;
    if (ev == r->sched_switch) {
        learn_comm(r, ev, rec, "prev_comm", "prev_pid");
        learn_comm(r, ev, rec, "next_comm", "next_pid");
    } else if (ev == r->sched_wakeup) {
        learn_comm(r, ev, rec, "comm", "pid");
    }
    trace_seq_reset(&r->seq);
    tep_print_event(r->tep, &r->seq, rec, "%16s-%-7d [%03d] %s ", TEP_PRINT_COMM, TEP_PRINT_PID,
                    TEP_PRINT_CPU, TEP_PRINT_LATENCY);
    trace_seq_printf(&r->seq, "%llu.%09llu: ", rec->ts / 1000000000ull,
                     rec->ts % 1000000000ull);
    tep_print_event(r->tep, &r->seq, rec, "%s: %s", TEP_PRINT_NAME, TEP_PRINT_INFO);
    trace_seq_terminate(&r->seq);
    if (VEC_RESERVE(r->line, r->cap, r->n + 1) != 0) {
        r->oom = 1;
        return 1;
    }
    char *text = strdup(r->seq.buffer);
    if (!text) {
        r->oom = 1;
        return 1;
    }
    r->line[r->n] = (line_t){rec->ts, r->n, text};
    r->n++;
    return 0;
}

int tracerec_drain(tracerec_t *r)
{
    if (tracefs_iterate_raw_events(r->tep, r->inst, NULL, 0, on_event, r) < 0 && !r->oom)
        return -EIO;
    if (r->sys_inst && !r->oom &&
        tracefs_iterate_raw_events(r->tep, r->sys_inst, NULL, 0, on_event, r) < 0 && !r->oom)
        return -EIO;
    return r->oom ? -ENOMEM : 0;
}

/* Events a CPU's ring buffer overwrote or dropped (its per_cpu stats). */
static uint64_t lost_on(struct tracefs_instance *inst, int cpu)
{
    char path[64];
    snprintf(path, sizeof(path), "per_cpu/cpu%d/stats", cpu);
    char *text = tracefs_instance_file_read(inst, path, NULL);
    uint64_t n = 0;
    const char *p;
    if (text && (p = strstr(text, "overrun: ")))
        n += strtoull(p + 9, NULL, 10);
    if (text && (p = strstr(text, "dropped events: ")))
        n += strtoull(p + 16, NULL, 10);
    free(text);
    return n;
}

int tracerec_stop(tracerec_t *r)
{
    tracefs_trace_off(r->inst);
    if (r->sys_inst)
        tracefs_trace_off(r->sys_inst);
    /* names of the tasks that ran while recording, for lines printed now */
    tracefs_load_cmdlines(NULL, r->tep);
    int rc = tracerec_drain(r);
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    struct tracefs_instance *inst[2] = {r->inst, r->sys_inst};
    for (int i = 0; i < 2; i++)
        for (int cpu = 0; inst[i] && cpu < ncpu && cpu < 64; cpu++)
            r->lost[i][cpu] = lost_on(inst[i], cpu);
    return rc;
}

uint64_t tracerec_lost(const tracerec_t *r)
{
    uint64_t n = 0;
    for (int i = 0; i < 2; i++)
        for (int cpu = 0; cpu < 64; cpu++)
            n += r->lost[i][cpu];
    return n;
}

const char *tracerec_missing(const tracerec_t *r) { return r->missing; }
const char *tracerec_clock(const tracerec_t *r) { return r->clock; }
size_t tracerec_count(const tracerec_t *r) { return r->n; }

static int cmp_line(const void *a, const void *b)
{
    const line_t *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

int tracerec_write(tracerec_t *r, FILE *f, const char *comment)
{
    if (r->n)
        qsort(r->line, r->n, sizeof(*r->line), cmp_line);
    fprintf(f, "# tracer: nop\n#\n# latsurf trace record: clock=%s, timestamps in ns\n",
            r->clock);
    if (comment && *comment)
        fprintf(f, "# %s\n", comment);
    if (r->missing[0])
        fprintf(f, "# events not available on this kernel: %s\n", r->missing);
    if (r->followed[0])
        fprintf(f, "# latsurf followed pids:%s\n", r->followed);
    fprintf(f, "# entries-in-buffer/entries-written: %zu/%zu\n#\n", r->n, r->n);
    fprintf(f, "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
    /* in the kernel's own words, which traceparse counts */
    for (int i = 0; i < 2; i++)
        for (int cpu = 0; cpu < 64; cpu++)
            if (r->lost[i][cpu])
                fprintf(f, "CPU:%d [LOST %llu EVENTS]\n", cpu,
                        (unsigned long long)r->lost[i][cpu]);
    for (size_t i = 0; i < r->n; i++)
        if (fprintf(f, "%s\n", r->line[i].text) < 0)
            return -EIO;
    return fflush(f) == 0 ? 0 : -EIO;
}

int tracerec_readback(tracerec_t *r, traceparse_t *tp, traceparse_err_t *perr, FILE **keep)
{
    FILE *tmp = NULL;
    int rc = tracerec_stop(r);
    if (!rc && !(tmp = tmpfile()))
        rc = -errno;
    if (!rc)
        rc = tracerec_write(r, tmp, NULL);
    if (!rc) {
        rewind(tmp);
        rc = traceparse_file(tmp, tp, perr);
    }
    if (keep)
        *keep = tmp;
    else if (tmp)
        fclose(tmp);
    return rc;
}

void tracerec_free(tracerec_t *r)
{
    if (!r)
        return;
    struct tracefs_instance *inst[] = {r->sys_inst, r->inst};
    for (size_t i = 0; i < 2; i++)
        if (inst[i]) {
            tracefs_trace_off(inst[i]);
            tracefs_instance_destroy(inst[i]);
            tracefs_instance_free(inst[i]);
        }
    if (r->tep)
        tep_free(r->tep);
    trace_seq_destroy(&r->seq);
    for (size_t i = 0; i < r->n; i++)
        free(r->line[i].text);
    free(r->line);
    free(r);
}
