/*
 * nvmetime.h - the NVMe device time of reads from the nvme driver's own
 * tracepoints in a recorded trace (the text `latsurf trace record` writes):
 * nvme:nvme_setup_cmd (the command built, just before the doorbell) ->
 * nvme:nvme_complete_rq (its completion entry handled), paired by
 * (qid, command id) on one namespace. Closer to the device than
 * block_rq_issue -> block_rq_complete, which also holds blk-mq's dispatch
 * and completion. Either event format is read: the kernel's
 * ("qid=3, cmdid=20928, ... cmd=(nvme_cmd_read ...") and libtraceevent's raw
 * fields ("qid=3 opcode=2 ... cid=20928", printed when it cannot run the
 * kernel's print helpers).
 */
#ifndef LATSURF_NVMETIME_H
#define LATSURF_NVMETIME_H

#include "calibrate/calstat.h"

#include <stdio.h>

/* The events calibrate enables for it. */
extern const char *const nvmetime_events[];

/* Read f from its start and push each read command's setup -> completion
 * time in ns onto out, for namespace `disk` ("nvme0n1"). Returns the number
 * of pairs, or -ENOMEM. */
int nvmetime_reads(FILE *f, const char *disk, calstat_vec_t *out);

#endif
