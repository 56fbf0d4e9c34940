/*
 * registration.c - see registration.h.
 */
#include "registration.h"

#include "regcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE POL_REGCACHE_NONE
#define REG_PAGE 4096u
#define REG_MIN_ENTRIES 16u
#define REG_MAX_ENTRIES (1u << 20)
#define INTENT_FLOW_KEY (1ULL << 63) /* region id of a recurring flow with buf 0 */

/* Distinct flows, counted per epoch so that a reset needs no clearing. */
typedef struct {
    uint64_t key;   /* flow + 1; 0 = empty */
    uint32_t epoch;
} reg_flow_t;

struct pol_registry {
    pol_reg_t kind;
    pol_reg_ops_t ops;
    void *ctx;
    pol_regcache_t table; /* cache: LRU; pool/intent: no eviction */
    pol_reg_stats_t st;
    reg_flow_t *flows;
    uint32_t nflows, flowcap, epoch;
};

pol_registry_t *pol_reg_new(pol_reg_t kind, const pol_config_t *cfg, const pol_reg_ops_t *ops,
                            void *ctx)
{
    pol_registry_t *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->kind = kind;
    g->ops = *ops;
    g->ctx = ctx;
    g->epoch = 1;
    g->flowcap = 1024;
    g->flows = calloc(g->flowcap, sizeof(*g->flows));
    uint64_t budget = kind == POL_REG_CACHE ? cfg->reg_cache_bytes
                      : kind == POL_REG_NONE ? 0
                                             : cfg->reg_pool_bytes;
    /* a region is at least a page, so budget / page bounds the entries */
    uint64_t n = budget / REG_PAGE;
    n = n < REG_MIN_ENTRIES ? REG_MIN_ENTRIES : n > REG_MAX_ENTRIES ? REG_MAX_ENTRIES : n;
    if (!g->flows || pol_regcache_init(&g->table, budget, (uint32_t)n) != 0) {
        pol_reg_free(g);
        return NULL;
    }
    return g;
}

void pol_reg_free(pol_registry_t *g)
{
    if (!g)
        return;
    pol_regcache_t *t = &g->table;
    for (uint32_t i = t->head; t->e && i != NONE; i = t->e[i].next)
        g->ops.dereg(g->ctx, t->e[i].key, t->e[i].bytes, t->e[i].handle);
    pol_regcache_fini(t);
    free(g->flows);
    free(g);
}

static uint32_t reg_flow_hash(uint64_t key, uint32_t cap)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

static void reg_flow_put(reg_flow_t *tab, uint32_t cap, uint64_t key, uint32_t epoch)
{
    uint32_t h = reg_flow_hash(key, cap);
    while (tab[h].key && tab[h].key != key)
        h = (h + 1) & (cap - 1);
    tab[h] = (reg_flow_t){key, epoch};
}

/* Count a flow the first time it asks in this epoch. The table only grows
 * (amortised), so a steady state with a fixed set of flows never allocates. */
static void reg_flow_seen(pol_registry_t *g, uint32_t flow)
{
    uint64_t key = (uint64_t)flow + 1;
    uint32_t h = reg_flow_hash(key, g->flowcap);
    while (g->flows[h].key && g->flows[h].key != key)
        h = (h + 1) & (g->flowcap - 1);
    if (g->flows[h].key == key) {
        if (g->flows[h].epoch != g->epoch) {
            g->flows[h].epoch = g->epoch;
            g->st.flows++;
        }
        return;
    }
    g->st.flows++;
    if ((g->nflows + 1) * 2 > g->flowcap) {
        reg_flow_t *bigger = calloc(g->flowcap * 2u, sizeof(*bigger));
        if (!bigger)
            return; /* counted, not remembered: at worst counted again */
        for (uint32_t i = 0; i < g->flowcap; i++)
            if (g->flows[i].key)
                reg_flow_put(bigger, g->flowcap * 2u, g->flows[i].key, g->flows[i].epoch);
        free(g->flows);
        g->flows = bigger;
        g->flowcap *= 2u;
    }
    reg_flow_put(g->flows, g->flowcap, key, g->epoch);
    g->nflows++;
}

static int64_t reg_call(pol_registry_t *g, uint64_t key, uint64_t bytes, void **handle)
{
    int64_t c = g->ops.reg(g->ctx, key, bytes, handle);
    if (c >= 0)
        g->st.registrations++;
    return c;
}

static int64_t dereg_call(pol_registry_t *g, uint64_t key, uint64_t bytes, void *handle)
{
    int64_t c = g->ops.dereg(g->ctx, key, bytes, handle);
    g->st.deregistrations++;
    return c > 0 ? c : 0;
}

/* Deregister entry i now if nobody uses it, else when the last user leaves. */
static int64_t reg_drop(pol_registry_t *g, uint32_t i)
{
    pol_regcache_entry_t *e = &g->table.e[i];
    pol_regcache_unlink(&g->table, i);
    if (e->refs)
        return 0;
    int64_t c = dereg_call(g, e->key, e->bytes, e->handle);
    pol_regcache_put(&g->table, i);
    return c;
}

/* The region this policy would keep registered for in, or 0 for none. */
static uint64_t reg_key(const pol_registry_t *g, const pol_intent_t *in)
{
    switch (g->kind) {
    case POL_REG_NONE:
    case POL_NREGS: /* not a policy */
        return 0;
    case POL_REG_CACHE:
    case POL_REG_POOL:
        return in->buf;
    case POL_REG_INTENT:
        if (!in->recurring)
            return 0;
        return in->buf ? in->buf : INTENT_FLOW_KEY | in->flow;
    }
    return 0;
}

int pol_reg_acquire(pol_registry_t *g, const pol_intent_t *in, pol_reg_use_t *use)
{
    uint64_t bytes = in->bytes ? in->bytes : 1;
    uint64_t key = reg_key(g, in);
    pol_regcache_t *t = &g->table;
    *use = (pol_reg_use_t){.key = key ? key : in->buf, .bytes = bytes, .slot = NONE};
    g->st.lookups++;
    reg_flow_seen(g, in->flow);
    if (key) {
        uint32_t i = pol_regcache_find(t, key);
        if (i != NONE && t->e[i].bytes >= bytes) {
            g->st.hits++;
            pol_regcache_ref(t, i);
            use->hit = true;
            use->slot = i;
            use->handle = t->e[i].handle;
            return 0;
        }
        if (i != NONE && t->e[i].refs == 0)
            use->cost_ns += reg_drop(g, i); /* too small: re-register the region larger */
        else if (i != NONE)
            key = 0; /* in use at its old size: this transfer registers its own */
    }
    if (key && pol_regcache_could_fit(t, bytes)) {
        while (g->kind == POL_REG_CACHE && !pol_regcache_fits(t, bytes)) {
            uint32_t v = pol_regcache_victim(t);
            if (v == NONE)
                break;
            use->cost_ns += reg_drop(g, v);
        }
        if (pol_regcache_fits(t, bytes)) {
            void *h = NULL;
            int64_t c = reg_call(g, key, bytes, &h);
            if (c < 0)
                return (int)c;
            uint32_t i = pol_regcache_insert(t, key, bytes, h);
            use->cost_ns += c;
            use->handle = h;
            if (i != NONE) {
                pol_regcache_ref(t, i);
                use->slot = i;
                return 0;
            }
            use->temporary = true; /* no free slot: keep it for this transfer only */
            return 0;
        }
    }
    void *h = NULL;
    int64_t c = reg_call(g, use->key, bytes, &h);
    if (c < 0)
        return (int)c;
    use->cost_ns += c;
    use->handle = h;
    use->temporary = true;
    return 0;
}

int64_t pol_reg_release(pol_registry_t *g, pol_reg_use_t *use)
{
    int64_t c = 0;
    if (use->temporary) {
        c = dereg_call(g, use->key, use->bytes, use->handle);
    } else if (use->slot != NONE) {
        pol_regcache_entry_t *e = &g->table.e[use->slot];
        if (pol_regcache_unref(&g->table, use->slot) == 0 && !e->linked) {
            c = dereg_call(g, e->key, e->bytes, e->handle);
            pol_regcache_put(&g->table, use->slot);
        }
    }
    use->temporary = false;
    use->slot = NONE;
    return c;
}

int64_t pol_reg_invalidate(pol_registry_t *g, uint64_t buf)
{
    if (!buf)
        return 0;
    uint32_t i = pol_regcache_find(&g->table, buf);
    return i == NONE ? 0 : reg_drop(g, i);
}

const pol_reg_stats_t *pol_reg_stats(const pol_registry_t *g) { return &g->st; }

void pol_reg_stats_reset(pol_registry_t *g)
{
    memset(&g->st, 0, sizeof(g->st));
    g->epoch++;
}

void pol_reg_stats_add(pol_reg_stats_t *sum, const pol_reg_stats_t *s)
{
    sum->lookups += s->lookups;
    sum->hits += s->hits;
    sum->registrations += s->registrations;
    sum->deregistrations += s->deregistrations;
    sum->flows += s->flows;
}

uint64_t pol_reg_bytes(const pol_registry_t *g) { return g->table.used; }
