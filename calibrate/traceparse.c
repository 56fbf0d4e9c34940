/*
 * traceparse.c - see traceparse.h.
 *
 * A trace line is "COMM-PID [(TGID)] [CPU] [FLAGS] SEC.FRAC: EVENT: INFO".
 * COMM may hold spaces and dashes, so the header is anchored on the
 * " [NNN]" CPU column and PID is what follows the last dash before it.
 * Payloads are read by key ("pid=", "user_data ") rather than by position
 * so that the field layouts of older kernels parse too.
 */
#include "traceparse.h"

#include "sim/vec.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void traceparse_init(traceparse_t *t) { memset(t, 0, sizeof(*t)); }

void traceparse_fini(traceparse_t *t)
{
    free(t->ev);
    free(t->followed);
    memset(t, 0, sizeof(*t));
}

const char *traceparse_type_name(traceparse_type_t type)
{
    static const char *const names[] = {
        "block_rq_issue",     "block_rq_complete", "irq_handler_entry",
        "irq_handler_exit",   "ipi",               "io_uring_submit_req",
        "io_uring_complete",  "io_uring_task_add", "sched_wakeup",
        "sched_switch",       "block_rq_insert",   "sys_enter",
        "sys_exit",           "sched_process_fork", "softirq_entry",
        "softirq_exit"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == TP_NTYPES, "one name per event type");
    return (unsigned)type < TP_NTYPES ? names[type] : "?";
}

static const struct {
    const char *name;
    traceparse_type_t type;
} event_names[] = {
    {"block_rq_issue", TP_BLK_ISSUE},
    {"block_rq_complete", TP_BLK_COMPLETE},
    {"irq_handler_entry", TP_IRQ_ENTRY},
    {"irq_handler_exit", TP_IRQ_EXIT},
    {"ipi_send_cpu", TP_IPI},
    {"ipi_send_cpumask", TP_IPI},
    {"ipi_raise", TP_IPI},
    {"io_uring_submit_req", TP_URING_SUBMIT},
    {"io_uring_submit_sqe", TP_URING_SUBMIT},
    {"io_uring_complete", TP_URING_COMPLETE},
    {"io_uring_task_add", TP_URING_TASK_ADD},
    {"sched_wakeup", TP_WAKEUP},
    {"sched_wakeup_new", TP_WAKEUP},
    {"sched_switch", TP_SWITCH},
    {"block_rq_insert", TP_BLK_INSERT},
    {"sched_process_fork", TP_FORK},
    {"softirq_entry", TP_SOFTIRQ_ENTRY},
    {"softirq_exit", TP_SOFTIRQ_EXIT},
};

const traceparse_sc_t traceparse_syscalls[] = {
    {"pread64", TP_SC_POSITIONAL, 0},   {"pwrite64", TP_SC_POSITIONAL, 1},
    {"preadv", TP_SC_POSITIONAL, 0},    {"preadv2", TP_SC_POSITIONAL, 0},
    {"pwritev", TP_SC_POSITIONAL, 1},   {"pwritev2", TP_SC_POSITIONAL, 1},
    {"read", TP_SC_STREAM, 0},          {"write", TP_SC_STREAM, 1},
    {"io_submit", TP_SC_AIO_SUBMIT, 0}, {"io_getevents", TP_SC_AIO_REAP, 0},
    {"io_pgetevents", TP_SC_AIO_REAP, 0},
};
const size_t traceparse_nsyscalls = sizeof(traceparse_syscalls) / sizeof(traceparse_syscalls[0]);

/* The row of syscall name[0..len), or -1. */
static int syscall_index(const char *name, size_t len)
{
    for (size_t i = 0; i < traceparse_nsyscalls; i++)
        if (strlen(traceparse_syscalls[i].name) == len &&
            memcmp(traceparse_syscalls[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static int fail(traceparse_err_t *err, uint32_t line, const char *what)
{
    if (err) {
        err->line = line;
        err->header_ok = 0;
        snprintf(err->what, sizeof(err->what), "%s", what);
    }
    return -EINVAL;
}

int traceparse_ts(const char *s, size_t len, uint64_t *ns, int *digits)
{
    const char *dot = memchr(s, '.', len);
    if (!dot || len < 3 || s[len - 1] != ':')
        return -1;
    uint64_t sec = 0, frac = 0;
    for (const char *p = s; p < dot; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        sec = sec * 10 + (uint64_t)(*p - '0');
    }
    int d = 0;
    for (const char *p = dot + 1; p < s + len - 1; p++, d++) {
        if (!isdigit((unsigned char)*p) || d >= 9)
            return -1;
        frac = frac * 10 + (uint64_t)(*p - '0');
    }
    if (d == 0 || dot == s)
        return -1;
    for (int i = d; i < 9; i++)
        frac *= 10;
    *ns = sec * 1000000000ull + frac;
    *digits = d;
    return 0;
}

/* Where the value after `key` starts, or NULL when info lacks key. */
static const char *key_at(const char *info, const char *key)
{
    const char *p = strstr(info, key);
    return p ? p + strlen(key) : NULL;
}

/* The value after `key` as an unsigned hex number ("0x" optional). */
static int key_hex(const char *info, const char *key, uint64_t *v)
{
    const char *p = key_at(info, key);
    if (!p)
        return -1;
    char *end;
    errno = 0;
    *v = strtoull(p, &end, 16);
    return (end == p || errno) ? -1 : 0;
}

/* The value after `key` as a signed decimal number. */
static int key_long(const char *info, const char *key, long *v)
{
    const char *p = key_at(info, key);
    if (!p)
        return -1;
    char *end;
    errno = 0;
    *v = strtol(p, &end, 10);
    return (end == p || errno) ? -1 : 0;
}

/* The word after `key`, up to a space or comma. */
static int key_word(const char *info, const char *key, char *dst, size_t cap)
{
    const char *p = key_at(info, key);
    if (!p)
        return -1;
    size_t n = strcspn(p, " ,\n");
    if (n == 0)
        return -1;
    copy_str(dst, cap, p, n);
    return 0;
}

/* A CPU list such as "0-3,8" into a bit mask. */
static uint64_t cpulist_mask(const char *s)
{
    uint64_t m = 0;
    while (isdigit((unsigned char)*s)) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        for (long c = a; c <= b && c < 64; c++)
            m |= 1ull << c;
        if (*end != ',')
            break;
        s = end + 1;
    }
    return m;
}

/* ipi_raise's "target_mask=00000000,00000003": 32-bit groups, low last. */
static uint64_t hexmask(const char *s)
{
    uint64_t m = 0;
    while (isxdigit((unsigned char)*s) || *s == ',') {
        if (*s != ',')
            m = (m << 4) | (uint64_t)(isdigit((unsigned char)*s) ? *s - '0'
                                                                 : (tolower(*s) - 'a' + 10));
        s++;
    }
    return m;
}

static int is_rw_op(const char *op)
{
    static const char *const rw[] = {"READV", "WRITEV", "READ_FIXED", "WRITE_FIXED",
                                     "READ",  "WRITE",  "1",          "2",
                                     "4",     "5",      "22",         "23"};
    for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++)
        if (strcmp(op, rw[i]) == 0)
            return 1;
    return 0;
}

/* "254,0 RS 4096 () 35766208 + 8 ..." (issue) or "254,0 RS () 35766208 + 8"
 * (complete): the "(cmd)" group separates the head from sector + count. */
static int parse_blk(traceparse_ev_t *e, const char *info, int issue)
{
    unsigned maj, min, bytes = 0;
    char rwbs[8];
    int n = issue ? sscanf(info, "%u,%u %7s %u", &maj, &min, rwbs, &bytes)
                  : sscanf(info, "%u,%u %7s", &maj, &min, rwbs);
    if (n != (issue ? 4 : 3))
        return -1;
    const char *p = strchr(info, '(');
    p = p ? strstr(p, ") ") : NULL;
    unsigned long long sector;
    unsigned nr;
    if (!p || sscanf(p + 2, "%llu + %u", &sector, &nr) != 2)
        return -1;
    e->u.blk.dev = (maj << 20) | min;
    e->u.blk.sector = sector;
    e->u.blk.nr_sector = nr;
    e->u.blk.bytes = issue ? bytes : nr * 512u;
    memcpy(e->u.blk.rwbs, rwbs, sizeof(rwbs));
    return 0;
}

static int parse_uring(traceparse_ev_t *e, const char *info)
{
    if (key_hex(info, "ring ", &e->u.uring.ring))
        return -1;
    e->u.uring.has_req = key_hex(info, "req ", &e->u.uring.req) == 0;
    if (key_hex(info, "user_data ", &e->u.uring.user_data) &&
        key_hex(info, "data ", &e->u.uring.user_data))
        return -1;
    if (e->type == TP_URING_COMPLETE) {
        long res;
        if (key_long(info, "result ", &res))
            return -1;
        e->u.uring.res = (int32_t)res;
    } else if (key_word(info, "opcode ", e->u.uring.op, sizeof(e->u.uring.op)) &&
               key_word(info, "op ", e->u.uring.op, sizeof(e->u.uring.op))) {
        return -1;
    }
    e->u.uring.rw = (uint8_t)is_rw_op(e->u.uring.op);
    return 0;
}

/* Syscall fields are hex, "0x" first in libtraceevent's print and without
 * it in the kernel's "trace" file: "fd: 0x00000003, count: 0x00001000". */
static int parse_sys(traceparse_ev_t *e, const char *info)
{
    uint64_t v;
    if (e->type == TP_SYS_EXIT) {
        if (key_hex(info, "", &v))
            return -1;
        e->u.sys.ret = (int64_t)v;
        return 0;
    }
    switch ((traceparse_sc_kind_t)traceparse_syscalls[e->u.sys.call].kind) {
    case TP_SC_POSITIONAL:
        if (key_hex(info, "fd: ", &e->u.sys.fd) ||
            (key_hex(info, "pos: ", &e->u.sys.pos) && key_hex(info, "pos_l: ", &e->u.sys.pos)))
            return -1;
        if (key_hex(info, "count: ", &e->u.sys.count) && key_hex(info, "vlen: ", &v))
            return -1; /* preadv & co give iovecs, not bytes: count stays 0 */
        return 0;
    case TP_SC_STREAM:
        return key_hex(info, "fd: ", &e->u.sys.fd) || key_hex(info, "count: ", &e->u.sys.count)
                   ? -1
                   : 0;
    case TP_SC_AIO_SUBMIT:
    case TP_SC_AIO_REAP:
        return key_hex(info, "ctx_id: ", &e->u.sys.fd) || key_hex(info, ", nr: ", &e->u.sys.count)
                   ? -1
                   : 0;
    }
    return -1;
}

static int parse_payload(traceparse_ev_t *e, const char *name, const char *info)
{
    long v;
    switch ((traceparse_type_t)e->type) {
    case TP_BLK_ISSUE:
    case TP_BLK_COMPLETE:
    case TP_BLK_INSERT:
        return parse_blk(e, info, e->type != TP_BLK_COMPLETE);
    case TP_SYS_ENTER:
    case TP_SYS_EXIT:
        return parse_sys(e, info);
    case TP_SOFTIRQ_ENTRY:
    case TP_SOFTIRQ_EXIT:
        return 0; /* when, and which task it interrupted, is all we use */
    case TP_FORK:
        if (key_long(info, "child_pid=", &v))
            return -1;
        e->u.fork.child_pid = (int32_t)v;
        return 0;
    case TP_IRQ_ENTRY:
        if (key_long(info, "irq=", &v) ||
            key_word(info, "name=", e->u.irq.name, sizeof(e->u.irq.name)))
            return -1;
        e->u.irq.irq = (int32_t)v;
        return 0;
    case TP_IRQ_EXIT:
        if (key_long(info, "irq=", &v))
            return -1;
        e->u.irq.irq = (int32_t)v;
        return 0;
    case TP_IPI: {
        const char *p;
        if (strcmp(name, "ipi_send_cpu") == 0) {
            if (key_long(info, "cpu=", &v) || v < 0)
                return -1;
            e->u.ipi.mask = v < 64 ? 1ull << v : 0;
        } else if ((p = strstr(info, "cpumask=")) != NULL) {
            e->u.ipi.mask = cpulist_mask(p + 8);
        } else if ((p = strstr(info, "target_mask=")) != NULL) {
            e->u.ipi.mask = hexmask(p + 12);
        } else {
            return -1;
        }
        return 0;
    }
    case TP_URING_SUBMIT:
    case TP_URING_COMPLETE:
    case TP_URING_TASK_ADD:
        return parse_uring(e, info);
    case TP_WAKEUP: {
        const char *c = strstr(info, "comm="), *p = strstr(info, " pid=");
        if (!c || !p || p < c || key_long(p, " pid=", &v))
            return -1;
        copy_str(e->u.wake.comm, TP_COMM, c + 5, (size_t)(p - c - 5));
        e->u.wake.pid = (int32_t)v;
        e->u.wake.target_cpu = key_long(info, "target_cpu=", &v) ? -1 : (int16_t)v;
        return 0;
    }
    case TP_SWITCH: {
        const char *pc = strstr(info, "prev_comm="), *pp = strstr(info, " prev_pid=");
        const char *nc = strstr(info, "next_comm="), *np = strstr(info, " next_pid=");
        char state[16];
        if (!pc || !pp || !nc || !np || pp < pc || np < nc || key_long(pp, " prev_pid=", &v))
            return -1;
        e->u.sw.prev_pid = (int32_t)v;
        if (key_long(np, " next_pid=", &v))
            return -1;
        e->u.sw.next_pid = (int32_t)v;
        copy_str(e->u.sw.prev_comm, TP_COMM, pc + 10, (size_t)(pp - pc - 10));
        copy_str(e->u.sw.next_comm, TP_COMM, nc + 10, (size_t)(np - nc - 10));
        if (key_word(info, "prev_state=", state, sizeof(state)) == 0) {
            e->u.sw.prev_dead = strpbrk(state, "XZ") != NULL;
            e->u.sw.prev_runnable = state[0] == 'R';
        }
        return 0;
    }
    case TP_NTYPES:
        break;
    }
    return -1;
}

static int push(traceparse_t *t, const traceparse_ev_t *e)
{
    if (VEC_PUSH(t->ev, t->n, t->cap, *e) != 0)
        return -ENOMEM;
    return 1;
}

int traceparse_line(traceparse_t *t, const char *line, uint32_t lineno, traceparse_err_t *err)
{
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    static const char followed[] = "# latsurf followed pids:";
    if (strncmp(s, followed, sizeof(followed) - 1) == 0) {
        char *end;
        for (const char *p = s + sizeof(followed) - 1;; p = end) {
            long pid = strtol(p, &end, 10);
            if (end == p)
                break;
            if (VEC_PUSH(t->followed, t->nfollowed, t->capfollowed, (int32_t)pid) != 0)
                return -ENOMEM;
        }
        return 0;
    }
    if (*s == '\0' || *s == '\n' || *s == '#')
        return 0;
    unsigned long long lost;
    int c;
    if (sscanf(s, "CPU:%d [LOST %llu EVENTS]", &c, &lost) == 2) {
        t->lost += lost;
        return 0;
    }

    /* The CPU column: the first " [digits]". */
    const char *cpu = NULL;
    for (const char *p = strstr(line, " ["); p; p = strstr(p + 1, " [")) {
        const char *q = p + 2;
        while (isdigit((unsigned char)*q))
            q++;
        if (q > p + 2 && *q == ']') {
            cpu = p + 1;
            break;
        }
    }
    if (!cpu)
        return fail(err, lineno, "no [CPU] column");
    traceparse_ev_t e;
    memset(&e, 0, sizeof(e));
    e.cpu = (int16_t)atoi(cpu + 1);
    e.line = lineno;

    /* COMM-PID, perhaps followed by "(TGID)". */
    const char *end = cpu;
    while (end > s && end[-1] == ' ')
        end--;
    if (end > s && end[-1] == ')') {
        const char *open = end - 1;
        while (open > s && *open != '(')
            open--;
        end = open;
        while (end > s && end[-1] == ' ')
            end--;
    }
    const char *dash = end;
    while (dash > s && dash[-1] != '-')
        dash--;
    if (dash <= s + 1 || dash == end)
        return fail(err, lineno, "no COMM-PID before the [CPU] column");
    for (const char *p = dash; p < end; p++)
        if (!isdigit((unsigned char)*p))
            return fail(err, lineno, "PID is not a number");
    e.pid = atoi(dash);
    copy_str(e.comm, TP_COMM, s, (size_t)(dash - 1 - s));

    /* [FLAGS] then TIMESTAMP: */
    const char *p = strchr(cpu, ']') + 1;
    int digits = 0, have_ts = 0;
    for (int tok = 0; tok < 2 && !have_ts; tok++) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " \n");
        if (traceparse_ts(p, n, &e.ts, &digits) == 0) {
            have_ts = 1;
        } else if (tok == 0 && n >= 3) {
            if (strchr("hHzZ", p[2]))
                e.ctx |= TP_CTX_HARDIRQ;
            if (p[2] == 's' || p[2] == 'H')
                e.ctx |= TP_CTX_SOFTIRQ;
        }
        p += n;
    }
    if (!have_ts)
        return fail(err, lineno, "no SEC.FRAC: timestamp (a cycle-counting trace clock?)");
    while (*p == ' ')
        p++;
    /* The kernel's "trace" file prints syscalls its own way:
     * "sys_pread64(fd: 3, ...)" and "sys_pread64 -> 0x1000". */
    size_t slen = strcspn(p, "( :\n");
    int kernel_sys = strncmp(p, "sys_", 4) == 0 &&
                     (p[slen] == '(' || strncmp(p + slen, " -> ", 4) == 0);
    size_t nlen = kernel_sys ? slen : strcspn(p, ":\n");
    if ((!kernel_sys && p[nlen] != ':') || nlen == 0 || nlen >= 40)
        return fail(err, lineno, "no EVENT: after the timestamp");
    char name[40];
    copy_str(name, sizeof(name), p, nlen);
    const char *info = p + nlen + (kernel_sys && p[nlen] != '(' ? 4 : 1);
    while (*info == ' ')
        info++;

    int known = 0, sc = -1;
    if (kernel_sys) {
        sc = syscall_index(name + 4, nlen - 4);
        e.type = p[nlen] == '(' ? TP_SYS_ENTER : TP_SYS_EXIT;
    } else if (strncmp(name, "sys_enter_", 10) == 0) {
        sc = syscall_index(name + 10, nlen - 10);
        e.type = TP_SYS_ENTER;
    } else if (strncmp(name, "sys_exit_", 9) == 0) {
        sc = syscall_index(name + 9, nlen - 9);
        e.type = TP_SYS_EXIT;
    }
    if (sc >= 0) {
        e.u.sys.call = (uint8_t)sc;
        known = 1;
    }
    for (size_t i = 0; !known && i < sizeof(event_names) / sizeof(event_names[0]); i++)
        if (strcmp(name, event_names[i].name) == 0) {
            e.type = (uint8_t)event_names[i].type;
            known = 1;
            break;
        }
    if (!known) {
        t->skipped++;
        return 0;
    }
    if (parse_payload(&e, name, info)) {
        char what[96];
        snprintf(what, sizeof(what), "cannot read the fields of %s", name);
        fail(err, lineno, what);
        if (err)
            err->header_ok = 1;
        return -EINVAL;
    }
    if (digits == 9)
        t->ns_timestamps = 1;
    return push(t, &e);
}

static int cmp_ev(const void *a, const void *b)
{
    const traceparse_ev_t *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

void traceparse_sort(traceparse_t *t)
{
    if (t->n)
        qsort(t->ev, t->n, sizeof(*t->ev), cmp_ev);
}

int traceparse_file(FILE *f, traceparse_t *t, traceparse_err_t *err)
{
    char *line = NULL;
    size_t cap = 0;
    uint64_t events_seen = 0;
    int rc = 0;
    traceparse_err_t local;
    if (!err)
        err = &local;
    while (getline(&line, &cap, f) >= 0) {
        t->lines++;
        int r = traceparse_line(t, line, t->lines, err);
        if (r == -EINVAL && !err->header_ok && events_seen == 0 && t->skipped == 0)
            continue; /* a preamble (trace-cmd's "cpus=2", "version = 6") */
        if (r < 0) {
            rc = r;
            break;
        }
        events_seen += (uint64_t)r;
    }
    free(line);
    if (rc == 0 && ferror(f))
        rc = -EIO;
    if (rc == 0)
        traceparse_sort(t);
    return rc;
}
