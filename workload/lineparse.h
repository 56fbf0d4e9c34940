/*
 * lineparse.h - the fast field splitter and number parsers the line-based
 * trace readers share.
 *
 * Trace imports run at millions of lines a second, so these avoid what
 * made the first readers slow: no locale, no errno, no strtok state, one
 * pass over each byte. Every parser is strict and whole-token: a token is
 * accepted only if all of it is the number (no sign, no blanks, no
 * trailing text), and a value that does not fit is refused rather than
 * clamped, so a reader can name the field in its "file:line: reason".
 */
#ifndef LATSURF_LINEPARSE_H
#define LATSURF_LINEPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Split line in place at every `sep` into f[0..max-1], NUL-terminating each
 * field; empty fields are kept. Returns the number of fields, or max + 1
 * when more than max fields are present (f[] then holds the first max, the
 * last of them cut at the next separator). */
int lp_split(char *line, char sep, char **f, int max);

/* Split line in place into its blank-separated words (runs of spaces and
 * tabs separate; leading and trailing blanks are ignored), NUL-terminating
 * each, into f[0..max-1]. Returns the number of words (0 for a blank line),
 * or max + 1 when there are more than max (f[] then holds the first max). */
int lp_words(char *line, char **f, int max);

/* The common case of a blank-separated numeric line in one pass: true,
 * with v[0..n-1], iff line is exactly n words, each 1 to 19 digits (so none
 * overflows), with blanks around and between. Reads line, never writes it;
 * anything else (a comment, a sign, a decimal, a long number, a wrong word
 * count) returns false, for the caller's lp_words path to parse or name. */
bool lp_u64_words(const char *line, uint64_t *v, int n);

/* True if s holds nothing but blanks (spaces, tabs). */
bool lp_blank(const char *s);

/* Unsigned decimal: one or more digits, nothing else, at most UINT64_MAX. */
bool lp_u64(const char *s, uint64_t *out);

/* A non-negative decimal number of units ("12", "12.5", "0.000125") scaled
 * exactly by 10^digits: with digits = 9 a count of seconds becomes
 * nanoseconds, without going through binary floating point. Fraction
 * digits beyond `digits` must still be digits and are truncated (below the
 * unit, e.g. sub-nanosecond). The integer part is required ("0.5", not
 * ".5"); the result must fit in 64 bits. digits <= 18. */
bool lp_fixed(const char *s, unsigned digits, uint64_t *out);

#endif
