/*
 * report_plot.h - run gnuplot (Debian gnuplot-nox) on a script and return
 * the SVG it prints, ready to embed in an HTML page. The program is
 * $LATSURF_GNUPLOT or "gnuplot" on PATH; it is spawned directly (no shell).
 */
#ifndef LATSURF_REPORT_PLOT_H
#define LATSURF_REPORT_PLOT_H

#include <stddef.h>

/* The terminal line every script should start with (1000x420 px SVG,
 * no enhanced-text parsing of '_' in metric names). */
#define REPORT_PLOT_TERMINAL                                                                    \
    "set terminal svg size 1000,%d font 'sans,12' background '#ffffff'\n"                       \
    "set termoption noenhanced\n"

/* Run script; on success *svg (malloc'd) starts at "<svg" (the XML prolog
 * is dropped). Returns 0, -ENOENT when gnuplot is not installed, or -EIO
 * with *err (malloc'd) holding gnuplot's first error lines. */
int report_plot_svg(const char *script, size_t len, char **svg, char **err);

/* Quote s as a gnuplot single-quoted string into buf ('' doubles a quote). */
void report_plot_quote(const char *s, char *buf, size_t len);

#endif
