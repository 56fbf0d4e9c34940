/*
 * nvmetime.c - see nvmetime.h.
 */
#define _GNU_SOURCE
#include "nvmetime.h"

#include "calibrate/traceparse.h"
#include "sim/vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *const nvmetime_events[] = {"nvme/nvme_setup_cmd", "nvme/nvme_complete_rq", NULL};

/* The timestamp "SEC.FRAC" that ends at `at` (the ": event:" separator),
 * read as traceparse reads it, in ns; 0 if there is none. */
static uint64_t ts_before(const char *line, const char *at)
{
    const char *s = at;
    while (s > line && s[-1] != ' ')
        s--;
    uint64_t ns;
    int digits;
    return traceparse_ts(s, (size_t)(at - s) + 1, &ns, &digits) == 0 ? ns : 0;
}

/* The unsigned number after `key` in s (key includes '='), or -1. */
static long long field(const char *s, const char *key)
{
    for (const char *p = strstr(s, key); p; p = strstr(p + 1, key))
        if (p == s || p[-1] == ' ' || p[-1] == ',') {
            char *end;
            long long v = strtoll(p + strlen(key), &end, 0);
            return end == p + strlen(key) ? -1 : v;
        }
    return -1;
}

/* Does the rest of the line name the namespace? "disk=nvme0n1," or " " */
static int on_disk(const char *s, const char *disk)
{
    const char *p = strstr(s, "disk=");
    size_t n = strlen(disk);
    return p && strncmp(p + 5, disk, n) == 0 && (p[5 + n] == ',' || p[5 + n] == ' ');
}

typedef struct {
    long long qid, cid;
    uint64_t ts;
} pending_t;

int nvmetime_reads(FILE *f, const char *disk, calstat_vec_t *out)
{
    pending_t *pend = NULL;
    size_t npend = 0, cap = 0;
    char *line = NULL;
    size_t len = 0;
    int pairs = 0, rc = 0;
    rewind(f);
    while (rc == 0 && getline(&line, &len, f) > 0) {
        const char *ev, *setup = strstr(line, ": nvme_setup_cmd: ");
        const char *done = setup ? NULL : strstr(line, ": nvme_complete_rq: ");
        if (!(ev = setup ? setup : done) || !on_disk(ev, disk))
            continue;
        uint64_t ts = ts_before(line, ev);
        long long qid = field(ev, "qid="), cid = field(ev, "cmdid=");
        if (cid < 0)
            cid = field(ev, "cid=");
        if (!ts || qid <= 0 || cid < 0)
            continue; /* qid 0: the admin queue */
        if (setup) {
            /* reads only: opcode 2 (raw fields) or the kernel's decoded name */
            if (field(ev, "opcode=") != 2 && !strstr(ev, "nvme_cmd_read"))
                continue;
            rc = VEC_PUSH(pend, npend, cap, ((pending_t){qid, cid, ts}));
            continue;
        }
        for (size_t i = npend; i-- > 0;)
            if (pend[i].qid == qid && pend[i].cid == cid) {
                if (ts >= pend[i].ts) {
                    rc = calstat_push(out, (double)(ts - pend[i].ts));
                    pairs++;
                }
                pend[i] = pend[--npend];
                break;
            }
    }
    free(line);
    free(pend);
    return rc ? rc : pairs;
}
