/*
 * bench_path.h - `latsurf bench path`: requests through the full simulated
 * storage path (4 KiB random reads, QD32 per CPU, 16 CPUs, 8-channel SSD),
 * reported as simulated requests per second of CPU time, with peak RSS.
 */
#ifndef LATSURF_BENCH_PATH_H
#define LATSURF_BENCH_PATH_H

/* argv[0] is "path"; options --requests N (default 1e6), --quiet. */
int bench_path_main(int argc, char **argv);

#endif
