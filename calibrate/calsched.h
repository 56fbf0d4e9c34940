/*
 * calsched.h - the host kernel's scheduler settings, for the calibration:
 * the kernel version (uname), CONFIG_HZ and the preemption model, as the
 * simulator's CPU model (models/cpu.h) needs them. Read from the kernel's
 * own sources of truth: /sys/kernel/debug/sched/preempt (the running
 * PREEMPT_DYNAMIC model), the preempt= boot parameter, and the build
 * configuration (/boot/config-RELEASE or /proc/config.gz).
 */
#ifndef LATSURF_CALSCHED_H
#define LATSURF_CALSCHED_H

#include <stddef.h>

typedef struct {
    int version;        /* major * 100 + minor; -1 unknown */
    int hz;             /* CONFIG_HZ; -1 unknown */
    int preempt;        /* 0 none, 1 voluntary, 2 full; -1 unknown */
    char version_src[256], hz_src[256], preempt_src[256];
} calsched_t;

void calsched_read(calsched_t *s);

#endif
