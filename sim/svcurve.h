/*
 * svcurve.h - a load-dependent service curve: the mean service time of a
 * station that serves every request it holds at once, as a function of how
 * many it holds (k >= 1). calibrate fits one for the device from its
 * queue-depth sweep (calibrate/calqd.h); the SSD model draws a read's time
 * from it (models/ssd.h, devices.N.service "calibrated"). Both evaluate it
 * here, so the fit and the simulator read the same curve.
 *
 * Between knots the curve is a power law, T(k) = T_i (k / k_i)^a (linear on
 * log k and log T): the throughput k / T(k) then rises monotonically between
 * two knots whose throughputs do. Below the first knot it is T_0; beyond
 * the last one the throughput is held at its last value (T grows like k):
 * nothing was measured there, and a device does not get faster without end.
 */
#ifndef LATSURF_SVCURVE_H
#define LATSURF_SVCURVE_H

#include <stdint.h>

#define SVCURVE_MAX 16

typedef struct {
    uint32_t n;               /* knots; 0: no curve */
    double k[SVCURVE_MAX];    /* requests in service, increasing, k[0] >= 1 */
    double ns[SVCURVE_MAX];   /* mean service time there, > 0 */
} svcurve_t;

/* 0 when c has 1..SVCURVE_MAX knots with k[0] >= 1, increasing k and
 * positive finite times; else -EINVAL. */
int svcurve_check(const svcurve_t *c);

/* T(k), ns (c checked, k >= 1). */
double svcurve_ns(const svcurve_t *c, double k);

#endif
