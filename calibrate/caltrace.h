/*
 * caltrace.h - what recording an application with `latsurf trace record`
 * costs it, measured with the recorder's own event set (calibrate/tracerec.h:
 * the default instance's block, irq, ipi, io_uring and sched events,
 * unfiltered, plus the followed task's syscall, fork and irq/softirq events):
 *
 * - trace_syscall_ns: the CPU time tracing adds to one blocking 4 KiB
 *   O_DIRECT pread of the traced thread, on its own CPU: blocks of preads
 *   from a thread pinned to the interrupt CPU, alternately untraced and
 *   traced (the thread followed as `trace record` follows a command's
 *   tasks), CLOCK_THREAD_CPUTIME_ID over each block divided by its reads;
 *   the value is the median over the pairs of (traced - untraced);
 * - trace_read_wall_ns: the same difference on the wall clock (CLOCK_MONOTONIC
 *   per call), the whole read's growth, CPU of the syscall path included;
 * - trace_drain_event_ns: the recorder's CPU time per event it drains (the
 *   same tracerec_drain that `trace record` calls every 50 ms), timed on the
 *   calling thread after each traced block, over the events drained;
 * - trace_events_per_read: the events drained per traced read (every event
 *   the host wrote into the instances during the block, over its reads).
 *
 * The model charges them with host.traced (docs/scenario.md). Nothing here
 * prints; functions return 0 or -errno.
 */
#ifndef LATSURF_CALTRACE_H
#define LATSURF_CALTRACE_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* The calibrate step on fd (O_DIRECT, nblocks 4 KiB blocks), the calling
 * thread pinned to `cpu` meanwhile: quick 2 pairs of 150-read blocks, else 4
 * pairs of 1000. Adds the four parameters to params. 0, -EINTR (*stop set),
 * or -errno with the reason in why (why[0] = 0 when none). */
int caltrace_calibrate(int fd, uint64_t nblocks, int cpu, int quick, json_t *params,
                       const volatile sig_atomic_t *stop, char *why, size_t whylen);

#endif
