/*
 * calfmt.c - see calfmt.h.
 */
#include "calfmt.h"

const double calfmt_qp[CALFMT_NQ] = {0.01, 0.05, 0.10, 0.25, 0.50, 0.75,
                                     0.90, 0.95, 0.99, 0.999, 0.9999};
const char *const calfmt_qname[CALFMT_NQ] = {"p1",  "p5",  "p10", "p25",  "p50",   "p75",
                                             "p90", "p95", "p99", "p99.9", "p99.99"};
