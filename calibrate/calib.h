/*
 * calib.h - host calibration: measuring this machine's costs (issue 6).
 * Placeholder until that issue lands.
 */
#ifndef LATSURF_CALIB_H
#define LATSURF_CALIB_H
#endif
