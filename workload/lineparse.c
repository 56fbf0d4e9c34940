/*
 * lineparse.c - see lineparse.h.
 */
#include "lineparse.h"

#include <string.h>

int lp_split(char *line, char sep, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return max + 1;
        f[n++] = p;
        char *e = strchr(p, sep);
        if (!e)
            return n;
        *e = '\0';
        p = e + 1;
    }
}

static inline bool lp_is_blank(char c) { return c == ' ' || c == '\t'; }

int lp_words(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (lp_is_blank(*p))
            p++;
        if (!*p)
            return n;
        if (n == max)
            return max + 1;
        f[n++] = p;
        while (*p && !lp_is_blank(*p))
            p++;
        if (!*p)
            return n;
        *p++ = '\0';
    }
}

bool lp_u64_words(const char *line, uint64_t *v, int n)
{
    const char *p = line;
    for (int i = 0; i < n; i++) {
        while (lp_is_blank(*p))
            p++;
        const char *s = p;
        uint64_t x = 0;
        for (; (unsigned)(*p - '0') < 10; p++)
            x = x * 10 + (unsigned)(*p - '0');
        if (p == s || p - s > 19 || (*p && !lp_is_blank(*p)))
            return false;
        v[i] = x;
    }
    while (lp_is_blank(*p))
        p++;
    return *p == '\0';
}

bool lp_blank(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '\0';
}

bool lp_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    /* 19 digits cannot overflow (10^19 - 1 < 2^64): check from the 20th on */
    for (; p - s < 19 && (unsigned)(*p - '0') < 10; p++)
        v = v * 10 + (unsigned)(*p - '0');
    for (; (unsigned)(*p - '0') < 10; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (p == s || *p)
        return false;
    *out = v;
    return true;
}

bool lp_fixed(const char *s, unsigned digits, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    for (; (unsigned)(*p - '0') < 10; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (p == s)
        return false;
    uint64_t frac = 0;
    unsigned nf = 0;
    if (*p == '.') {
        const char *q = ++p;
        for (; (unsigned)(*p - '0') < 10; p++)
            if (nf < digits) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                nf++;
            }
        if (p == q)
            return false; /* "12." */
    }
    if (*p)
        return false;
    uint64_t scale = 1;
    for (unsigned i = 0; i < digits; i++)
        scale *= 10;
    for (; nf < digits; nf++)
        frac *= 10;
    if (v > (UINT64_MAX - frac) / scale)
        return false;
    *out = v * scale + frac;
    return true;
}
