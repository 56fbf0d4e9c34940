/*
 * tracerec.h - records the storage-path tracepoints into a private tracefs
 * instance (libtracefs) and writes them in the text format of
 * /sys/kernel/tracing/trace, with ns timestamps on the "mono" clock (the
 * clock of CLOCK_MONOTONIC, so user-space timestamps line up with it).
 *
 * The syscall events of blocking I/O (traceparse_syscalls[]) go to a second
 * instance whose events are filtered to the tasks being followed
 * (set_event_pid with event-fork), since a read() anywhere on the host
 * would otherwise fill the buffers; the block, irq and sched events stay
 * unfiltered because completions run in whatever task was interrupted.
 *
 * The recorder owns its instances: tracerec_free() always removes them, so a
 * caller that stops on a signal calls tracerec_free() and nothing is left
 * behind in /sys/kernel/tracing/instances.
 */
#ifndef LATSURF_TRACEREC_H
#define LATSURF_TRACEREC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "calibrate/traceparse.h"

typedef struct tracerec tracerec_t;

/* Is tracing usable here (root, tracefs mounted or mountable)? 1 yes; 0 no,
 * with the reason in why. */
int tracerec_available(char *why, size_t n);

/* Create the instance, enable the default events (block_rq_issue,
 * block_rq_complete, block_rq_insert, irq_handler_entry, ipi_send_cpu or the closest ipi
 * event, io_uring_submit_req, io_uring_complete, sched_wakeup,
 * sched_switch) plus `extra` ("system/event", NULL-terminated, may be NULL),
 * and turn tracing on. buffer_kb per CPU, 0 = 32768 (a busy host's
 * completions and switches fill 8 MiB between two drains of a loaded
 * recorder). Returns 0 or a negative
 * errno with a message in err. */
int tracerec_start(const char *const *extra, size_t buffer_kb, tracerec_t **out, char *err,
                   size_t n);

/* Also record the entry and exit of the blocking I/O syscalls
 * (traceparse_syscalls[]) of pids[0..npids) and of every task they fork
 * or clone from now on; npids 0: of every task but this process. Call it
 * after tracerec_start and before the followed command runs. Returns 0 or a
 * negative errno with a message in err; a syscall event the kernel lacks is
 * added to tracerec_missing(). */
int tracerec_follow(tracerec_t *r, const int *pids, size_t npids, char *err, size_t n);

/* Move what the kernel has buffered into memory. Call it every ~100 ms on
 * long recordings so the ring buffer does not wrap. Returns 0 or -errno. */
int tracerec_drain(tracerec_t *r);

/* Tracing off, final drain. */
int tracerec_stop(tracerec_t *r);

/* Events that could not be enabled on this kernel, comma-separated ("" if
 * none). */
const char *tracerec_missing(const tracerec_t *r);
const char *tracerec_clock(const tracerec_t *r);

/* Events the kernel's ring buffers lost (overrun or dropped), known after
 * tracerec_stop; tracerec_write states them as "CPU:N [LOST n EVENTS]". */
uint64_t tracerec_lost(const tracerec_t *r);
size_t tracerec_count(const tracerec_t *r);

/* Write the recorded events, sorted by time, after a "#" header. */
int tracerec_write(tracerec_t *r, FILE *f, const char *comment);

/* Stop and read the recording back as any trace file is read: tracing off
 * (tracerec_stop), the events written (tracerec_write, no comment) to a
 * tmpfile() and parsed from it into tp, which the caller has
 * traceparse_init()ed. Returns 0, a negative errno, or -EINVAL (only) when
 * traceparse cannot read a line, with the line in *perr. keep NULL: the
 * file is closed; else *keep is it (NULL if none was made), for the caller
 * to read again and fclose(). One sequence for calibrate's traced probes
 * and live's tracefs stamps, so they read their own traces alike. */
int tracerec_readback(tracerec_t *r, traceparse_t *tp, traceparse_err_t *perr, FILE **keep);

/* Remove the instance (if still there) and free everything. NULL is fine. */
void tracerec_free(tracerec_t *r);

#endif
