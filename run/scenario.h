/*
 * scenario.h - loading a scenario file into per-variant model configurations.
 *
 * The file is parsed with jansson, `--set KEY=VAL` overrides are applied by
 * dotted path, and then every variant gets its own fully parsed copy of the
 * host, devices and workload sections (a variant may carry its own "set"
 * object of overrides). Each section is read by the module that owns it
 * (models/host.c, models/ssd.c, the workload plug-ins) through sim/cfg.h, so a bad
 * value anywhere is reported as "FILE: PATH: expected ..." and unknown keys
 * are errors.
 */
#ifndef LATSURF_SCENARIO_H
#define LATSURF_SCENARIO_H

#include "models/host.h"
#include "models/ssd.h"
#include "policies/policy.h"
#include "workload/workload.h"

#include <stdbool.h>
#include <stdint.h>

#define SCN_MAX_POOL 64

typedef struct {
    const wl_ops_t *ops;
    void *params;
    bool rdma; /* "rdma": its requests' bytes go on to the RDMA peer (host.rdma) */
    /* "pool_cpus": the thread that submits reaps each CQE and hands the
     * request to a pool worker on these CPUs (round robin), which consumes it */
    int16_t pool[SCN_MAX_POOL];
    uint32_t npool;
} scn_workload_t;

typedef struct {
    pol_variant_t pol;
    pol_config_t polcfg;         /* the scenario's `policy` tunables */
    host_cfg_t host;
    ssd_cfg_t *dev;
    uint32_t ndev;
    scn_workload_t *wl;
    uint32_t nwl;
    /* The what-if keys this variant enables (hypothetical mechanisms, not
     * Linux/NVMe behaviour), as scenario paths, comma separated; "" when
     * none. A run says so in its output, its report and runs.what_if. */
    char what_if[512];
} scn_variant_t;

typedef struct {
    double duration_ms, warmup_ms;
    bool warmup_auto;            /* pick the cut by MSER-5 */
    uint32_t replications;
    uint64_t seed;
    uint32_t record_requests;    /* rows per run in the requests table */
    char *baseline;              /* variant the others are compared against */
} scn_run_t;

typedef struct {
    char *file, *name;
    char *description;           /* what real machine and workload it stands for (text only) */
    char *json;                  /* the scenario as run (after --set), compact */
    scn_run_t run;
    scn_variant_t *var;
    uint32_t nvar;
} scn_t;

#define SCN_MAX_VARIANTS 64
#define SCN_MAX_DEVICES 64
#define SCN_MAX_WORKLOADS 64
#define SCN_NAME_MAX 256 /* bytes of the scenario name */

/* Load FILE and apply sets[0..nsets) ("a.b.0.c=VALUE"). On bad input returns
 * -EINVAL with err naming the file and place; -errno on other failures. */
int scn_load(const char *file, char *const *sets, size_t nsets, scn_t **out, char *err,
             size_t errlen);
void scn_free(scn_t *s);

/* Apply one "a.b.0.c=VALUE" to root. 0 or -EINVAL with err. */
int scn_set(json_t *root, const char *assignment, char *err, size_t errlen);

int scn_find_variant(const scn_t *s, const char *name); /* index or -1 */

/* Resolve a path named in the scenario: as given if it exists (relative to
 * the current directory), else relative to the scenario file's directory,
 * else to the source tree. Returns a malloc'ed path (the input if nothing
 * exists, so the error names what the user wrote). */
char *scn_resolve(const scn_t *s, const char *path);

#endif
