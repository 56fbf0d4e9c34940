/*
 * cmd_import.c - `latsurf import FORMAT FILE --out TRACE.jsonl`: convert a
 * block trace into latsurf JSONL (docs/traces.md) with the trace readers.
 *
 * The output is written to a temporary file beside it and renamed into
 * place only when the whole input converted, so a malformed line (exit 2,
 * "file:line: reason") leaves nothing behind. --flow keeps one volume of a
 * multi-volume trace, --from/--to a time window (seconds since the trace's
 * first request): trace_select() in workload/trace.h.
 */
#include "cmd.h"

#include "workload/lineparse.h"
#include "workload/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* FORMAT is any reader of workload/trace.c's table. */
static void import_formats(FILE *f)
{
    char names[256];
    trace_fmt_list(names, sizeof(names), " | ");
    fprintf(f, "FORMAT: %s\n", names);
}

static int import_usage(void)
{
    fprintf(stderr, "usage: latsurf %s\n", cmd_find("import")->usage);
    import_formats(stderr);
    return CMD_BADINPUT;
}

/* The value of --NAME VALUE or --NAME=VALUE at argv[*i], else NULL. */
static const char *import_opt(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n])
        return NULL;
    if (++*i == argc) {
        *missing = true;
        return NULL;
    }
    return argv[*i];
}

/* --flow, --from, --to into sel; false after printing why. */
static bool import_select(const char *opt, const char *val, trace_select_t *sel)
{
    uint64_t v;
    if (strcmp(opt, "--flow") == 0) {
        if (!lp_u64(val, &v) || v > UINT32_MAX) {
            fprintf(stderr, "latsurf import: --flow: expected a volume or device id (an integer "
                            "below 2^32), got '%s'\n", val);
            return false;
        }
        sel->one_flow = true;
        sel->flow = (uint32_t)v;
        return true;
    }
    if (!lp_fixed(val, 9, &v)) {
        fprintf(stderr, "latsurf import: %s: expected seconds since the first request (like "
                        "3600 or 0.25), got '%s'\n", opt, val);
        return false;
    }
    if (strcmp(opt, "--from") == 0)
        sel->from_ns = v;
    else
        sel->to_ns = v;
    return true;
}

/* Convert everything; 0, or a CMD_* code after printing why. */
static int import_copy(trace_reader_t *rd, FILE *out, const char *tmp)
{
    trace_rec_t rec;
    int rc;
    while ((rc = trace_next(rd, &rec)) == 1) {
        if (trace_jsonl_write(out, &rec) < 0) {
            fprintf(stderr, "latsurf import: %s: write failed: %s\n", tmp, strerror(errno));
            return CMD_FAIL;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "latsurf import: %s\n", trace_error(rd));
        return CMD_BADINPUT;
    }
    return CMD_OK;
}

int cmd_import(int argc, char **argv)
{
    if (cmd_wants_help("import", argc, argv)) {
        import_formats(stdout);
        return CMD_OK;
    }
    const char *fmt = NULL, *in = NULL, *outpath = NULL;
    trace_select_t sel = {.to_ns = UINT64_MAX};
    for (int i = 1; i < argc; i++) {
        static const char *const selopts[] = {"--flow", "--from", "--to"};
        const char *val = NULL;
        bool missing = false;
        size_t k = 0;
        for (; k < 3 && !val && !missing; k++)
            val = import_opt(argc, argv, &i, selopts[k], &missing);
        if (missing)
            return import_usage();
        if (val) {
            if (!import_select(selopts[k - 1], val, &sel))
                return CMD_BADINPUT;
            continue;
        }
        if (strcmp(argv[i], "--out") == 0 || strcmp(argv[i], "-o") == 0) {
            if (++i == argc)
                return import_usage();
            outpath = argv[i];
        } else if (strncmp(argv[i], "--out=", 6) == 0) {
            outpath = argv[i] + 6;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "latsurf import: unknown option '%s'\n", argv[i]);
            return import_usage();
        } else if (!fmt) {
            fmt = argv[i];
        } else if (!in) {
            in = argv[i];
        } else {
            return import_usage();
        }
    }
    if (!fmt || !in || !outpath)
        return import_usage();
    char err[600];
    if (!trace_fmt_find(fmt)) {
        trace_fmt_list(err, sizeof(err), ", ");
        fprintf(stderr, "latsurf import: unknown format '%s' (%s)\n", fmt, err);
        return CMD_BADINPUT;
    }
    if (sel.from_ns >= sel.to_ns) {
        fprintf(stderr, "latsurf import: --from must be before --to\n");
        return CMD_BADINPUT;
    }
    trace_reader_t *rd;
    if (trace_open(in, fmt, &rd, err, sizeof(err)) < 0) {
        fprintf(stderr, "latsurf import: %s\n", err);
        return CMD_BADINPUT;
    }
    trace_select(rd, &sel);
    size_t n = strlen(outpath) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        trace_close(rd);
        return CMD_FAIL;
    }
    snprintf(tmp, n, "%s.tmpXXXXXX", outpath);
    int fd = mkstemp(tmp);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out) {
        fprintf(stderr, "latsurf import: %s: cannot create: %s\n", outpath, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        trace_close(rd);
        return CMD_FAIL;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 20); /* millions of short lines: few, large writes */
    int rc = import_copy(rd, out, tmp);
    if (fclose(out) != 0 && rc == CMD_OK) {
        fprintf(stderr, "latsurf import: %s: write failed: %s\n", tmp, strerror(errno));
        rc = CMD_FAIL;
    }
    if (rc == CMD_OK && trace_stats(rd)->unselected && !trace_stats(rd)->records) {
        fprintf(stderr, "latsurf import: %s: --flow/--from/--to select none of its %llu "
                        "requests\n", in, (unsigned long long)trace_stats(rd)->unselected);
        rc = CMD_BADINPUT;
    }
    if (rc == CMD_OK && rename(tmp, outpath) != 0) {
        fprintf(stderr, "latsurf import: %s: %s\n", outpath, strerror(errno));
        rc = CMD_FAIL;
    }
    if (rc != CMD_OK) {
        unlink(tmp);
    } else {
        const trace_stats_t *st = trace_stats(rd);
        fprintf(stderr,
                "latsurf import: %s (%s): %llu requests, %llu skipped lines, %llu unknown "
                "actions, %llu with service times, %llu out of order, span %.6f s\n",
                in, fmt, (unsigned long long)st->records, (unsigned long long)st->skipped,
                (unsigned long long)st->unknown, (unsigned long long)st->paired,
                (unsigned long long)st->out_of_order, (double)st->span_ns / 1e9);
        if (st->unselected)
            fprintf(stderr, "latsurf import: %llu requests outside the selection left out\n",
                    (unsigned long long)st->unselected);
        fprintf(stderr, "wrote %s\n", outpath);
    }
    free(tmp);
    trace_close(rd);
    return rc;
}
