/*
 * live.h - the live io_uring backend (issue 7). Placeholder until it lands.
 */
#ifndef LATSURF_LIVE_H
#define LATSURF_LIVE_H
#endif
