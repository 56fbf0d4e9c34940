/*
 * calguard.h - whether a calibration stage was taken during a passing host
 * disturbance (a shared VM's host slowing it for seconds at a time), by the
 * calibration's own internal consistency: the medians of consecutive blocks
 * of a stage's samples (a disturbance that began or ended inside the
 * stage), and medians of QD1 reads against the same CPU's untraced QD1
 * reads or a later reference probe (a disturbance that covered a whole
 * stage or the whole set). calib.c re-takes what it finds disturbed (at
 * most CALGUARD_RETAKES times) and says so in the calibration's provenance
 * and the parameters' sources.
 *
 * Owns nothing: pure functions over samples in measurement order. The
 * thresholds and where they come from: docs/calibration.md, "Disturbed
 * stages".
 */
#ifndef LATSURF_CALGUARD_H
#define LATSURF_CALGUARD_H

#include <stddef.h>

/* Blocks per stage; fewer than CALGUARD_MIN_BLOCK samples a block: no check. */
#define CALGUARD_BLOCKS 5
#define CALGUARD_MIN_BLOCK 50
/* A block's median off the median of the stage's block medians by more than
 * this (relative): the stage is disturbed. */
#define CALGUARD_BLOCK_TOL 0.10
/* A set of stages whose untraced QD1 median is above the fastest reference
 * probe on that CPU by more than this (relative): taken in a slowed state. */
#define CALGUARD_STATE_TOL 0.20
/* At most this many re-takes of a stage in one set, and of the whole set. */
#define CALGUARD_RETAKES 2

typedef struct {
    int checked;     /* 0: too few samples for CALGUARD_BLOCKS blocks */
    int disturbed;   /* some block off by more than tol */
    size_t nblocks;
    size_t worst;    /* the block furthest from the others */
    double worst_dev; /* its median / median of block medians - 1 */
    double center;   /* the median of the block medians */
} calguard_blocks_t;

/* Splits x[0..n) (measurement order; not modified) into k consecutive
 * blocks (the last one takes the remainder), takes each block's median and
 * compares it with the median of the block medians. Returns 0, -EINVAL
 * (k < 2) or -ENOMEM; out->checked is 0 when a block would hold fewer than
 * min_block samples. */
int calguard_blocks(const double *x, size_t n, size_t k, size_t min_block, double tol,
                    calguard_blocks_t *out);

/* The median of x[0..n) (not modified; NAN for n == 0 or no memory). */
double calguard_median(const double *x, size_t n);

/* ref / stage - 1: how far a reference median is from the stage's. */
double calguard_dev(double ref, double stage);

#endif
