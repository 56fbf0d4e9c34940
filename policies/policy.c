/*
 * policy.c - name tables shared by every policy module.
 */
#include "policy.h"

#include <stddef.h>

const char *const pol_class_names[] = {"step-critical", "hot-metadata", "prefetch", "bulk", NULL};
const char *const pol_affinity_names[] = {"kernel", "consumer", "submitter", "numa", NULL};
const char *const pol_mode_names[] = {"throughput", "latency", "adaptive", NULL};
const char *const pol_reg_names[] = {"none", "cache", "pool", "intent", NULL};
const char *const pol_hint_names[] = {"none", "deadline", "prefetch", "admission", NULL};
