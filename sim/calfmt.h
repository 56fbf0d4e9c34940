/*
 * calfmt.h - the vocabulary of a calibration file that both its writer
 * (calibrate/) and its reader (models/costs.c) must agree on: the quantiles
 * a measured parameter carries (their probabilities and JSON names) and the
 * most completion chains kept per side. One copy here, below both layers
 * (docs/design.md: calibrate and models may each include sim/, not each
 * other), so the file cannot say one thing and be read as another.
 */
#ifndef LATSURF_CALFMT_H
#define LATSURF_CALFMT_H

/* p1 p5 p10 p25 p50 p75 p90 p95 p99 (always), then p99.9 and p99.99 where
 * the sample was large enough */
#define CALFMT_NQ 11
#define CALFMT_NQ_REQ 9
extern const double calfmt_qp[CALFMT_NQ];
extern const char *const calfmt_qname[CALFMT_NQ];

/* The measured completion chains kept per side (waiter on the completion
 * CPU or not): calibrate keeps at most this many, costs refuses more. */
#define CALFMT_CHAIN_MAX 2048

#endif
