/*
 * testutil.c - see testutil.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

const char *tu_bin(void)
{
    const char *b = getenv("LATSURF_BIN");
    return b ? b : "latsurf";
}

const char *tu_path(const char *dir, const char *name)
{
    static char p[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
    return p[k];
}

void tu_write(const char *dir, const char *name, const char *text)
{
    FILE *f = fopen(tu_path(dir, name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

int tu_sh(const char *dir, const char *cmdline, char *out, size_t n)
{
    char cmd[16384];
    snprintf(cmd, sizeof(cmd), "cd %s && %s 2>&1", dir, cmdline);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_cli(const char *dir, const char *args, char *out, size_t n)
{
    char cmd[16384];
    snprintf(cmd, sizeof(cmd), "%s %s", tu_bin(), args);
    return tu_sh(dir, cmd, out, n);
}

int tu_systemf(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
