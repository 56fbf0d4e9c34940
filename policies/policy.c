/*
 * policy.c - name tables, tunable defaults, and a policy as the composition
 * of one choice per axis: affinity, then mode, then hints (hints come last so
 * that an explicit intent overrides the mode's generic choice).
 */
#include "policy.h"

#include "affinity.h"
#include "hints.h"
#include "mode.h"

#include <stddef.h>
#include <stdlib.h>

const char *const pol_class_names[] = {"step-critical", "hot-metadata", "prefetch", "bulk", NULL};
const char *const pol_affinity_names[] = {"kernel", "consumer", "submitter", "numa", NULL};
const char *const pol_mode_names[] = {"throughput", "latency", "adaptive", NULL};
const char *const pol_reg_names[] = {"none", "cache", "pool", "intent", NULL};
const char *const pol_hint_names[] = {"none", "deadline", "prefetch", "admission", NULL};

#define POL_NELEM(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(POL_NELEM(pol_class_names) == POL_NCLASSES + 1, "one name per class, then NULL");
_Static_assert(POL_NELEM(pol_affinity_names) == POL_NAFFINITIES + 1, "one name per affinity");
_Static_assert(POL_NELEM(pol_mode_names) == POL_NMODES + 1, "one name per mode, then NULL");
_Static_assert(POL_NELEM(pol_reg_names) == POL_NREGS + 1, "one name per registration policy");
_Static_assert(POL_NELEM(pol_hint_names) == POL_NHINTS + 1, "one name per hint, then NULL");

struct pol {
    pol_variant_t v;
    const pol_affinity_ops_t *aff;
    pol_mode_state_t mode;
    pol_hints_state_t hints;
};

void pol_config_defaults(pol_config_t *c)
{
    c->latency_max_inflight = 32;
    /* no batching: one io_uring_enter per request, as fio and liburing's
     * io_uring_submit() do unless told otherwise */
    c->throughput_batch = 1;
    c->throughput_batch_window_ns = 0;
    c->prefetch_threshold = 0.5;
    c->admission_rate_iops = 50000;
    c->admission_burst = 32;
    c->adaptive_budget_ns = 200000;
    c->adaptive_window_ns = 5e6;
    c->adaptive_hysteresis = 0.3;
    c->adaptive_calm_windows = 2;
    c->reg_cache_bytes = 64ull << 20;
    c->reg_pool_bytes = 256ull << 20;
}

pol_t *pol_new(const pol_variant_t *v, const pol_config_t *cfg)
{
    pol_t *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->v = *v;
    p->aff = pol_affinity_ops(v->affinity);
    pol_mode_init(&p->mode, v->mode, cfg);
    pol_hints_init(&p->hints, v->hints, cfg);
    return p;
}

void pol_free(pol_t *p) { free(p); }

void pol_place(pol_t *p, const pol_view_t *view, const pol_intent_t *in, pol_placement_t *out)
{
    out->admit = POL_ADMIT;
    out->retry_ns = 0;
    out->hold_background = false;
    p->aff->place(view, in, out);
    pol_mode_place(&p->mode, view, in, out);
    pol_hints_place(&p->hints, view, in, out);
}

void pol_complete(pol_t *p, const pol_view_t *view, const pol_intent_t *in, uint64_t latency_ns)
{
    pol_mode_feedback(&p->mode, view->now_ns, in, latency_ns);
}

pol_mode_t pol_current_mode(const pol_t *p) { return p->mode.current; }

void pol_setup(const pol_variant_t *v, pol_setup_t *out)
{
    out->rq_affinity = -1;
    pol_affinity_ops(v->affinity)->setup(out);
}

const pol_switch_t *pol_switches(const pol_t *p, uint32_t *n)
{
    *n = p->mode.nsw;
    return p->mode.sw;
}
