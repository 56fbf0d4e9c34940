/*
 * req.c - request pool. Requests are allocated in chunks that never move, so
 * pointers stay valid while the pool grows.
 */
#include "req.h"

#include "sim/vec.h"

#include <stdlib.h>
#include <string.h>

const char *const req_op_names[] = {"read", "write", NULL};
_Static_assert(sizeof(req_op_names) / sizeof(req_op_names[0]) == REQ_NOPS + 1,
               "one name per op, then NULL");

pol_intent_t req_intent(const req_t *r)
{
    return (pol_intent_t){
        .cls = (pol_class_t)r->cls, .consumer_cpu = r->consumer_cpu, .gpu = r->gpu,
        .budget_ns = r->budget_ns, .prefetch_confidence = r->prefetch_conf, .flow = r->flow,
        .recurring = r->recurring, .buf = r->buf, .bytes = r->bytes,
    };
}

pol_admit_t req_apply_placement(req_t *r, const pol_placement_t *pl, uint32_t ncpus, int wait,
                                int taskrun)
{
    if (pl->admit != POL_ADMIT)
        return pl->admit;
    r->submit_cpu = (int16_t)pl->submit_cpu;
    r->home_cpu = r->consumer_cpu; /* the thread the workload declared */
    /* the division only for a CPU out of range: one per request was a
     * visible stall on the replay's path */
    uint32_t cc = pl->consumer_cpu;
    r->consumer_cpu = (int16_t)(ncpus && cc >= ncpus ? cc % ncpus : cc);
    r->completion_cpu = -1; /* blk-mq decides (models/blkmq.c) */
    r->wait = (uint8_t)(wait >= 0 ? wait : (int)pl->wait);
    r->taskrun = (uint8_t)(taskrun >= 0 ? taskrun : (int)pl->taskrun);
    r->coalesce = pl->coalesce;
    r->prio = (uint8_t)pl->prio;
    return POL_ADMIT;
}

#define REQ_CHUNK 1024
#define REQ_NIL UINT32_MAX

struct req_pool {
    req_t **chunk;
    uint32_t nchunk, capchunk;
    uint32_t used;      /* slots handed out at least once */
    uint32_t free_head;
    uint64_t next_id, live;
    uint64_t limit;
    bool overflowed;
};

req_pool_t *req_pool_new(void)
{
    req_pool_t *p = calloc(1, sizeof(*p));
    if (p)
        p->free_head = REQ_NIL;
    return p;
}

void req_pool_free(req_pool_t *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; i < p->nchunk; i++)
        free(p->chunk[i]);
    free(p->chunk);
    free(p);
}

static req_t *req_slot(req_pool_t *p, uint32_t i)
{
    return &p->chunk[i / REQ_CHUNK][i % REQ_CHUNK];
}

req_t *req_alloc(req_pool_t *p)
{
    uint32_t i;
    if (p->limit && p->live >= p->limit) {
        p->overflowed = true;
        return NULL;
    }
    if (p->free_head != REQ_NIL) {
        i = p->free_head;
        p->free_head = req_slot(p, i)->next_free;
    } else {
        if (p->used == p->nchunk * REQ_CHUNK) {
            if (VEC_RESERVE(p->chunk, p->capchunk, (size_t)p->nchunk + 1) != 0)
                return NULL;
            p->chunk[p->nchunk] = malloc(REQ_CHUNK * sizeof(req_t));
            if (!p->chunk[p->nchunk])
                return NULL;
            p->nchunk++;
        }
        i = p->used++;
    }
    req_t *r = req_slot(p, i);
    /* Copied from a template rather than memset + stores: gcc makes a
     * memset of this size a `rep stos`, whose start-up was most of this
     * function's time in a trace replay. The empty asm hides the template's
     * contents, or gcc turns the copy back into that memset. */
    static const req_t fresh = {
        .submit_cpu = -1, .completion_cpu = -1, .consumer_cpu = -1, .gpu = -1, .blk_cpu = -1,
    };
    const req_t *tmpl = &fresh;
    __asm__("" : "+r"(tmpl));
    *r = *tmpl;
    r->next_free = i; /* remembers its own slot until released */
    r->id = p->next_id++;
    p->live++;
    return r;
}

void req_release(req_pool_t *p, req_t *r)
{
    uint32_t i = r->next_free;
    r->next_free = p->free_head;
    p->free_head = i;
    p->live--;
}

uint64_t req_pool_live(const req_pool_t *p) { return p->live; }
uint64_t req_pool_done(const req_pool_t *p) { return p->next_id - p->live; }

void req_pool_set_limit(req_pool_t *p, uint64_t max) { p->limit = max; }
bool req_pool_overflowed(const req_pool_t *p) { return p->overflowed; }
