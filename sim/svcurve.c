/*
 * svcurve.c - see svcurve.h.
 */
#include "svcurve.h"

#include <errno.h>
#include <math.h>

int svcurve_check(const svcurve_t *c)
{
    if (c->n == 0 || c->n > SVCURVE_MAX || !(c->k[0] >= 1))
        return -EINVAL;
    for (uint32_t i = 0; i < c->n; i++) {
        if (!(c->ns[i] > 0) || !isfinite(c->ns[i]) || !isfinite(c->k[i]))
            return -EINVAL;
        if (i && !(c->k[i] > c->k[i - 1]))
            return -EINVAL;
    }
    return 0;
}

double svcurve_ns(const svcurve_t *c, double k)
{
    uint32_t last = c->n - 1;
    if (k <= c->k[0])
        return c->ns[0];
    if (k >= c->k[last])
        return c->ns[last] * k / c->k[last];
    uint32_t i = 1;
    while (k > c->k[i])
        i++;
    double a = log(c->ns[i] / c->ns[i - 1]) / log(c->k[i] / c->k[i - 1]);
    return c->ns[i - 1] * pow(k / c->k[i - 1], a);
}
