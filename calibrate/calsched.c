/*
 * calsched.c - see calsched.h.
 */
#include "calsched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>

/* The value of `KEY=` in a kernel config file (plain or gzip), or NULL. */
static int config_lookup(const char *path, const char *key, char *val, size_t n)
{
    gzFile f = gzopen(path, "rb"); /* reads plain files too */
    if (!f)
        return 0;
    char line[256];
    size_t klen = strlen(key);
    int found = 0;
    while (!found && gzgets(f, line, sizeof(line))) {
        if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
            snprintf(val, n, "%s", line + klen + 1);
            val[strcspn(val, "\n")] = '\0';
            found = 1;
        }
    }
    gzclose(f);
    return found;
}

/* The first config file that exists: /boot/config-RELEASE, /proc/config.gz. */
static const char *config_path(const char *release, char *buf, size_t n)
{
    snprintf(buf, n, "/boot/config-%s", release);
    FILE *f = fopen(buf, "r");
    if (f) {
        fclose(f);
        return buf;
    }
    f = fopen("/proc/config.gz", "r");
    if (f) {
        fclose(f);
        return "/proc/config.gz";
    }
    return NULL;
}

static const char *const models[] = {"none", "voluntary", "full"};

/* "none voluntary (full) lazy": the parenthesised one. */
static int preempt_debugfs(void)
{
    FILE *f = fopen("/sys/kernel/debug/sched/preempt", "r");
    char line[128] = "";
    if (!f)
        return -1;
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    for (int i = 0; i < 3; i++) {
        char want[32];
        snprintf(want, sizeof(want), "(%s)", models[i]);
        if (strstr(line, want))
            return i;
    }
    return -1;
}

static int preempt_cmdline(void)
{
    FILE *f = fopen("/proc/cmdline", "r");
    char line[4096] = "";
    if (!f)
        return -1;
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    const char *p = strstr(line, "preempt=");
    if (!p || (p > line && p[-1] != ' '))
        return -1;
    for (int i = 0; i < 3; i++)
        if (strncmp(p + 8, models[i], strlen(models[i])) == 0)
            return i;
    return -1;
}

void calsched_read(calsched_t *s)
{
    memset(s, 0, sizeof(*s));
    s->version = s->hz = s->preempt = -1;
    struct utsname u;
    unsigned major, minor;
    if (uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2) {
        s->version = (int)(major * 100 + minor);
        snprintf(s->version_src, sizeof(s->version_src), "uname -r: %.100s", u.release);
    }
    char buf[160], val[64];
    const char *cfg = config_path(uname(&u) == 0 ? u.release : "", buf, sizeof(buf));
    if (cfg && config_lookup(cfg, "CONFIG_HZ", val, sizeof(val))) {
        s->hz = atoi(val);
        snprintf(s->hz_src, sizeof(s->hz_src), "%.160s: CONFIG_HZ=%.16s", cfg, val);
    }
    if ((s->preempt = preempt_debugfs()) >= 0) {
        snprintf(s->preempt_src, sizeof(s->preempt_src),
                 "/sys/kernel/debug/sched/preempt: %s", models[s->preempt]);
    } else if ((s->preempt = preempt_cmdline()) >= 0) {
        snprintf(s->preempt_src, sizeof(s->preempt_src), "/proc/cmdline: preempt=%s",
                 models[s->preempt]);
    } else if (cfg) {
        /* PREEMPT_DYNAMIC boots into the model the configuration chose */
        static const char *const keys[] = {"CONFIG_PREEMPT_NONE", "CONFIG_PREEMPT_VOLUNTARY",
                                           "CONFIG_PREEMPT"};
        for (int i = 2; i >= 0 && s->preempt < 0; i--)
            if (config_lookup(cfg, keys[i], val, sizeof(val)) && strcmp(val, "y") == 0) {
                s->preempt = i;
                snprintf(s->preempt_src, sizeof(s->preempt_src), "%.160s: %s=y (boot default)", cfg,
                         keys[i]);
            }
    }
}
