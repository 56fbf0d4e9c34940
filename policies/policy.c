/*
 * policy.c - name tables shared by every policy module.
 */
#include "policy.h"

#include <stddef.h>

const char *const pol_class_names[] = {"step-critical", "hot-metadata", "prefetch", "bulk", NULL};
