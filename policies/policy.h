/*
 * policy.h - the contract between applications, policies and the two
 * executors (the simulator and the live io_uring/RDMA backend).
 *
 * An application declares intent per request or flow; a policy sees a
 * read-only view of the system and returns a placement; it then receives
 * completion feedback. Nothing here includes a simulator, model, kernel or
 * live header: the same objects link into both executors.
 */
#ifndef LATSURF_POLICY_H
#define LATSURF_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Request classes, most urgent first (they double as priority order). */
typedef enum {
    POL_CLASS_STEP_CRITICAL = 0,
    POL_CLASS_HOT_METADATA,
    POL_CLASS_PREFETCH,
    POL_CLASS_BULK,
    POL_NCLASSES
} pol_class_t;

extern const char *const pol_class_names[]; /* NULL-terminated, by pol_class_t */

#endif
