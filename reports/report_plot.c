/*
 * report_plot.c - see report_plot.h. The script goes through a temporary
 * file (gnuplot reads it as its argument), stdout through a pipe we drain,
 * stderr into an unlinked temporary file read back only on failure, so no
 * pipe can fill up and block gnuplot.
 */
#include "report_plot.h"

#include "sim/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int temp_file(char *path, size_t len)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, len, "%s/latsurf-plot-XXXXXX", dir && *dir ? dir : "/tmp");
    return mkstemp(path);
}

static char *slurp_fd(int fd, size_t *n)
{
    size_t cap = 0, len = 0;
    char *b = NULL;
    ssize_t k;
    if (VEC_RESERVE(b, cap, 1 << 16) != 0) {
        *n = 0;
        return NULL;
    }
    while ((k = read(fd, b + len, cap - len - 1)) != 0) {
        if (k < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)k;
        if (VEC_RESERVE(b, cap, len + 4096) != 0) { /* room for a full read */
            free(b);
            return NULL;
        }
    }
    b[len] = '\0';
    *n = len;
    return b;
}

static int spawn(const char *script_path, int out_fd, int err_fd, pid_t *pid)
{
    const char *prog = getenv("LATSURF_GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    char *argv[] = {(char *)prog, (char *)script_path, NULL};
    int rc = posix_spawnp(pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

int report_plot_svg(const char *script, size_t len, char **svg, char **err)
{
    *svg = *err = NULL;
    char spath[256], epath[256];
    int sfd = temp_file(spath, sizeof(spath));
    if (sfd < 0)
        return -errno;
    int efd = temp_file(epath, sizeof(epath));
    if (efd < 0) {
        int e = errno;
        close(sfd);
        unlink(spath);
        return -e;
    }
    unlink(epath);
    int rc = write(sfd, script, len) == (ssize_t)len ? 0 : -EIO;
    close(sfd);
    int pfd[2] = {-1, -1};
    pid_t pid = -1;
    if (rc == 0 && pipe(pfd) != 0)
        rc = -errno;
    /* Only the dup2'd copy may reach gnuplot, or the pipe never sees EOF. */
    for (int i = 0; rc == 0 && i < 2; i++)
        fcntl(pfd[i], F_SETFD, FD_CLOEXEC);
    if (efd >= 0)
        fcntl(efd, F_SETFD, FD_CLOEXEC);
    if (rc == 0) {
        int e = spawn(spath, pfd[1], efd, &pid);
        if (e)
            rc = e == ENOENT ? -ENOENT : -e;
    }
    if (pfd[1] >= 0)
        close(pfd[1]);
    size_t n = 0;
    char *out = NULL;
    if (rc == 0) {
        out = slurp_fd(pfd[0], &n);
        int status = -1;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        /* posix_spawnp reports a missing program as 127 from the child on
         * some libcs rather than ENOENT from the call. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            rc = -ENOENT;
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out)
            rc = -EIO;
    }
    if (pfd[0] >= 0)
        close(pfd[0]);
    unlink(spath);
    char *start = out ? strstr(out, "<svg") : NULL;
    if (rc == 0 && !start)
        rc = -EIO;
    if (rc == -EIO) {
        size_t en;
        lseek(efd, 0, SEEK_SET);
        char *e = slurp_fd(efd, &en);
        if (e && en > 600)
            e[600] = '\0';
        *err = e && *e ? e : strdup("gnuplot produced no SVG");
        if (e && !*e)
            free(e);
    }
    close(efd);
    if (rc == 0) {
        memmove(out, start, strlen(start) + 1);
        *svg = out;
    } else {
        free(out);
    }
    return rc;
}

void report_plot_quote(const char *s, char *buf, size_t len)
{
    size_t k = 0;
    if (len < 3) {
        if (len)
            buf[0] = '\0';
        return;
    }
    buf[k++] = '\'';
    for (; *s && k + 3 < len; s++) {
        if (*s == '\'')
            buf[k++] = '\'';
        buf[k++] = *s == '\n' ? ' ' : *s;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
}
