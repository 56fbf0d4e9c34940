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

/* The four policy axes a scenario variant picks one of each. */
typedef enum { POL_AFF_KERNEL, POL_AFF_CONSUMER, POL_AFF_SUBMITTER, POL_AFF_NUMA } pol_affinity_t;
typedef enum { POL_MODE_THROUGHPUT, POL_MODE_LATENCY, POL_MODE_ADAPTIVE } pol_mode_t;
typedef enum { POL_REG_NONE, POL_REG_CACHE, POL_REG_POOL, POL_REG_INTENT } pol_reg_t;
typedef enum { POL_HINT_NONE, POL_HINT_DEADLINE, POL_HINT_PREFETCH, POL_HINT_ADMISSION } pol_hint_t;

extern const char *const pol_affinity_names[];
extern const char *const pol_mode_names[];
extern const char *const pol_reg_names[];
extern const char *const pol_hint_names[];

typedef struct {
    char name[64];
    pol_affinity_t affinity;
    pol_mode_t mode;
    pol_reg_t registration;
    pol_hint_t hints;
} pol_variant_t;

#endif
